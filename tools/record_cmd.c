/*
 * record_cmd.c - `vmsim record -o FILE -- CMD ARGS`: the program run once
 * natively (its minor and major faults from getrusage, for the replay's
 * ratio) and once under Valgrind's lackey (`--trace-mem=yes
 * --trace-syscalls=yes -d`), whose log and standard error are read as they
 * come through two pipes (tools/trace/vglog.c) into a .vmt trace: the exec
 * image (path, argv), the starting layout as Valgrind made it, then the mm
 * calls with their results and the accesses, in order. Both runs have
 * transparent huge pages off (as vmsim has none) and address
 * randomisation off.
 */
#include "cli.h"
#include "vglog.h"
#include "vmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LOG_FD 3 /* Valgrind's --log-fd in the child */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsim record -o FILE [--quiet] -- CMD [ARGS...]\n\n"
            "Runs CMD natively (its faults measured with getrusage), then under Valgrind's\n"
            "lackey with system-call tracing, and writes a .vmt trace (docs/traces.md): the\n"
            "exec image, the starting layout, the mm calls with their results and every\n"
            "load, store and instruction fetch, in order. Replay it with vmsim replay.\n\n"
            "  -o FILE     the trace to write\n"
            "  -q, --quiet no summary\n"
            "  -h, --help  show this help\n\n"
            "Needs valgrind. Only the first process is recorded; threads are recorded as\n"
            "one stream; an exec in the program ends the recording.\n");
}

/* CMD as execvp would find it, absolute (out: PATH_MAX bytes); 0, or -1. */
static int resolve(const char *cmd, char *out)
{
    if (strchr(cmd, '/'))
        return realpath(cmd, out) && access(out, X_OK) == 0 ? 0 : -1;
    const char *path = getenv("PATH");
    char dir[PATH_MAX];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        if (snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, cmd) < (int)sizeof(dir) &&
            access(dir, X_OK) == 0 && realpath(dir, out))
            return 0;
        p += n + (p[n] == ':');
    }
    return -1;
}

static void child_setup(void)
{
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    personality(ADDR_NO_RANDOMIZE);
}

/* The native run: its faults, or -1. posix_spawn (a vfork) so that the
 * child takes no copy-on-write faults of its own between fork and exec:
 * its counters then hold the exec and the program alone. The settings of
 * child_setup are the parent's for that moment (both are inherited). */
static int run_native(char **argv, uint64_t *minflt, uint64_t *majflt)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int thp = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
    int pers = personality(0xffffffff);
    child_setup();
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    prctl(PR_SET_THP_DISABLE, thp > 0, 0, 0, 0);
    if (pers != -1)
        personality((unsigned long)pers);
    if (rc != 0)
        return -1;
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    *minflt = (uint64_t)ru.ru_minflt;
    *majflt = (uint64_t)ru.ru_majflt;
    return 0;
}

struct lines { /* a pipe read into lines */
    int fd;
    char buf[65536];
    size_t len;
    int eof;
};

/* Reads what the pipe has and hands each whole line to fn (a line longer
 * than the buffer is cut; the last one may lack its newline). */
static int pump(struct lines *l, struct vglog *g, int (*fn)(struct vglog *, const char *),
                int echo)
{
    ssize_t n = read(l->fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0)
        l->eof = 1;
    else
        l->len += (size_t)n;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(l->buf + start, '\n', l->len - start);
        size_t end;
        if (nl)
            end = (size_t)(nl - l->buf);
        else if ((l->eof && start < l->len) || (start == 0 && l->len == sizeof(l->buf) - 1))
            end = l->len;
        else
            break;
        l->buf[end] = 0;
        const char *line = l->buf + start;
        if (echo && strncmp(line, "--", 2) != 0 && strncmp(line, "==", 2) != 0)
            fprintf(stderr, "%s\n", line);
        if (fn(g, line) < 0)
            return -1;
        start = end < l->len ? end + 1 : l->len;
    }
    memmove(l->buf, l->buf + start, l->len - start);
    l->len -= start;
    return 0;
}

static pid_t start_valgrind(char **argv, int logfd[2], int errfd[2])
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char **vg = calloc((size_t)argc + 10, sizeof(*vg));
    if (!vg)
        return -1;
    int k = 0;
    vg[k++] = "valgrind";
    vg[k++] = "-d";
    vg[k++] = "--tool=lackey";
    vg[k++] = "--trace-mem=yes";
    vg[k++] = "--trace-syscalls=yes";
    vg[k++] = "--vgdb=no";
    vg[k++] = "--log-fd=3";
    for (int i = 0; i < argc; i++)
        vg[k++] = argv[i];
    pid_t pid = fork();
    if (pid == 0) {
        child_setup();
        close(logfd[0]);
        close(errfd[0]);
        dup2(logfd[1], LOG_FD);
        dup2(errfd[1], 2);
        execvp("valgrind", vg);
        fprintf(stderr, "vmsim record: valgrind: %s\n", strerror(errno));
        _exit(127);
    }
    free(vg);
    close(logfd[1]);
    close(errfd[1]);
    return pid;
}

/* Both pipes until both end; the log waits for the starting layout. */
static int read_valgrind(struct vglog *g, int logfd, int errfd)
{
    struct lines *log = calloc(1, sizeof(*log)), *err = calloc(1, sizeof(*err));
    int rc = log && err ? 0 : -1;
    if (rc == 0) {
        log->fd = logfd;
        err->fd = errfd;
    }
    while (rc == 0 && (!log->eof || !err->eof)) {
        struct pollfd p[2] = {{err->eof ? -1 : errfd, POLLIN, 0},
                              {log->eof || (!vglog_layout_done(g) && !err->eof) ? -1 : logfd,
                               POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        if (p[0].revents && pump(err, g, vglog_stderr_line, 1) < 0)
            rc = -1;
        if (rc == 0 && p[1].revents && pump(log, g, vglog_log_line, 0) < 0)
            rc = -1;
    }
    free(log);
    free(err);
    return rc;
}

static int record(const char *out_path, char **argv, int quiet)
{
    char exe[PATH_MAX];
    if (resolve(argv[0], exe) < 0) {
        fprintf(stderr, "vmsim record: %s: command not found\n", argv[0]);
        return CLI_USAGE;
    }
    uint64_t minflt = 0, majflt = 0;
    int native = run_native(argv, &minflt, &majflt) == 0;
    struct vmt_meta meta;
    vmt_meta_init(&meta);
    char num[32];
    vmt_meta_add(&meta, "source", "vmsim record (valgrind lackey)");
    vmt_meta_add(&meta, "exec", exe);
    for (int i = 0; argv[i]; i++)
        vmt_meta_add(&meta, "argv", argv[i]);
    snprintf(num, sizeof(num), "%" PRIu64, minflt);
    vmt_meta_add(&meta, "native_minflt", num);
    snprintf(num, sizeof(num), "%" PRIu64, majflt);
    vmt_meta_add(&meta, "native_majflt", num);
    FILE *out = fopen(out_path, "wb");
    if (!out) {
        fprintf(stderr, "vmsim record: %s: %s\n", out_path, strerror(errno));
        vmt_meta_free(&meta);
        return CLI_FAILED;
    }
    char err[256];
    struct vmt_writer *w = vmt_writer_open(
        out, VMT_F_EXEC | VMT_F_MM | VMT_F_IMAGE | (native ? VMT_F_NATIVE : 0), &meta, err,
        sizeof(err));
    vmt_meta_free(&meta);
    if (!w) {
        fprintf(stderr, "vmsim record: %s: %s\n", out_path, err);
        fclose(out);
        return CLI_FAILED;
    }
    int logfd[2], errfd[2];
    if (pipe(logfd) < 0 || pipe(errfd) < 0) {
        fprintf(stderr, "vmsim record: pipe: %s\n", strerror(errno));
        vmt_writer_close(w);
        fclose(out);
        return CLI_FAILED;
    }
    struct vglog g;
    vglog_init(&g, w);
    pid_t pid = start_valgrind(argv, logfd, errfd);
    int rc = pid < 0 ? -1 : read_valgrind(&g, logfd[0], errfd[0]);
    close(logfd[0]);
    close(errfd[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    int status_ok = WIFEXITED(status) && WEXITSTATUS(status) != 127;
    if (rc < 0)
        fprintf(stderr, "vmsim record: %s: %s\n", out_path, vmt_writer_error(w));
    else if (!g.layout_done || !status_ok)
        fprintf(stderr, "vmsim record: valgrind did not run %s (is valgrind installed?)\n", exe);
    uint64_t records = vmt_writer_count(w);
    if (vmt_writer_close(w) < 0 && rc == 0) {
        fprintf(stderr, "vmsim record: %s: cannot finish the trace\n", out_path);
        rc = -1;
    }
    if (fclose(out) != 0)
        rc = -1;
    if (!quiet && rc == 0)
        fprintf(stderr,
                "vmsim record: %s: %" PRIu64 " records (%" PRIu64 " accesses, %" PRIu64
                " mm calls); %" PRIu64 " of Valgrind's own filtered out%s; natively %" PRIu64
                " minor and %" PRIu64 " major faults\n",
                out_path, records, g.accesses, g.mm_calls, g.filtered,
                g.stopped ? "; stopped at the program's exec" : "", minflt, majflt);
    vglog_free(&g);
    return rc < 0 || !g.layout_done || !status_ok ? CLI_FAILED : CLI_OK;
}

int record_main(int argc, char **argv)
{
    const char *out = NULL;
    int quiet = 0, i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "vmsim record: unknown option '%s'\nTry 'vmsim record --help'.\n", argv[i]);
            return CLI_USAGE;
        } else {
            break;
        }
    }
    if (!out || i >= argc) {
        fprintf(stderr, "vmsim record: %s\nTry 'vmsim record --help'.\n",
                !out ? "missing -o FILE" : "missing the command to record");
        return CLI_USAGE;
    }
    return record(out, argv + i, quiet);
}
