/*
 * follow.c - `vmsim follow [-o FILE] [--quiet] -- CMD ARGS`: runs a real
 * program of this machine under ptrace and makes each of its memory calls
 * again on vmsim, from its exec to its exit, printing the kernel's answer
 * and vmsim's side by side and comparing /proc/PID/maps after each.
 *
 * Exit status: 0 when every call agreed, 1 at the first difference (shown
 * with both results and the maps' difference; the follower stops there, as
 * every later call would differ for that one reason), 2 when it cannot run
 * or cannot follow further (program not found, ptrace refused, a call vmsim
 * does not model).
 *
 * Only the first process is followed: its children run untraced, and at
 * its first thread the follower stops comparing (the threads share the
 * address space and are not traced) and says so.
 */
#include "cli.h"
#include "follow.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct follow {
    FILE *out;           /* the report: stderr, so the program's stdout stays its own */
    int quiet;
    FILE *scenario;
    struct fl_tracee tracee;
    struct fl_sim *sim;
    unsigned calls;      /* calls compared */
    unsigned mm_calls;   /* of which memory calls */
    unsigned file_calls; /* of which opens and closes */
    unsigned number;     /* the program's system calls seen */
    unsigned long mirrored; /* pages the program wrote, stored on vmsim too */
    unsigned children;   /* processes the program started (not followed) */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsim follow [-o FILE] [--quiet] -- CMD [ARGS...]\n\n"
            "Runs CMD under ptrace (address randomisation off) and makes each of its memory\n"
            "calls (mmap, munmap, mprotect, brk, mremap, madvise, msync, mincore) and each\n"
            "open and close again on vmsim, from the exec to the exit: prints the kernel's\n"
            "answer beside vmsim's and compares /proc/PID/maps after each call.\n\n"
            "  -o FILE     write vmsim's calls as a scenario (line format, absolute addresses)\n"
            "  -q, --quiet print only differences and the summary\n"
            "  -h, --help  show this help\n\n"
            "The report goes to standard error; the program keeps its own output.\n"
            "Exit status: 0 every call agreed; 1 a call differed (shown); 2 cannot run or\n"
            "cannot follow further (not found, ptrace refused, a call vmsim does not model).\n"
            "Only the first process is followed; at its first thread the comparison stops.\n"
            "vmsim opens the program's files read-only: it writes no file.\n");
}

/* CMD as execvp would find it, made absolute (vmsim resolves paths from its
 * root, "/"); 0, or -1 when it is not there. */
static int resolve_command(const char *cmd, char *out, size_t size)
{
    if (strchr(cmd, '/')) {
        char cwd[PATH_MAX] = "";
        if (cmd[0] != '/' && !getcwd(cwd, sizeof(cwd)))
            return -1;
        int n = cmd[0] == '/' ? snprintf(out, size, "%s", cmd) : snprintf(out, size, "%s/%s", cwd, cmd);
        return n < 0 || (size_t)n >= size ? -1 : access(out, X_OK);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len && p[0] == '/') {
            int n = snprintf(out, size, "%.*s/%s", (int)len, p, cmd);
            if (n > 0 && (size_t)n < size && access(out, X_OK) == 0)
                return 0;
        }
        p += len + (colon != NULL);
    }
    return -1;
}

static void row(struct follow *f, const char *kernel, const char *vmsim, const char *call,
                const char *mark)
{
    if (f->quiet)
        return;
    fprintf(f->out, "%6u  %-16s %-16s %s%s\n", f->number, kernel, vmsim, call, mark);
    fflush(f->out);
}


/* The maps of both sides, compared; 0 when they agree, else the difference is printed. */
static int compare_maps(struct follow *f, const char *what)
{
    char *host_raw = fl_trace_maps(&f->tracee);
    if (!host_raw)
        return 0; /* the program is gone */
    fl_sim_grow_stack(f->sim, fl_maps_stack_start(host_raw));
    if (f->scenario) {
        char *recorded = fl_maps_recorded(host_raw);
        if (recorded)
            fl_sim_scenario_maps(f->sim, recorded);
        free(recorded);
    }
    char *sim_raw = fl_sim_maps(f->sim);
    char *host = fl_maps_normalise(host_raw), *sim = sim_raw ? fl_maps_normalise(sim_raw) : NULL;
    int differ = host && sim ? fl_maps_diff(host, sim, NULL) : 1;
    if (differ) {
        fprintf(f->out, "\nvmsim follow: the maps differ after call %u, %s (kernel -, vmsim +):\n", f->number,
               what);
        if (host && sim)
            fl_maps_diff(host, sim, f->out);
        fprintf(f->out, "kernel's maps:\n%svmsim's maps:\n%s", host ? host : "?\n", sim ? sim : "?\n");
    }
    free(host_raw);
    free(sim_raw);
    free(host);
    free(sim);
    return differ;
}

/* Whether path starts with "#!", which the host's binfmt_script runs. */
static int is_script(const char *path)
{
    char magic[2] = {0, 0};
    FILE *file = fopen(path, "rb");
    if (file) {
        if (fread(magic, 1, 2, file) != 2)
            magic[0] = 0;
        fclose(file);
    }
    return magic[0] == '#' && magic[1] == '!';
}

static int exec_on_sim(struct follow *f, const char *path, char *const argv[], char *const envp[])
{
    int r = fl_sim_execve(f->sim, path, argv, envp);
    fl_sim_answer(f->sim, "0"); /* the kernel's exec succeeded: the follower is at its stop */
    char call[PATH_MAX + 32];
    snprintf(call, sizeof(call), "execve(\"%s\", ...)", path);
    char vm[32];
    snprintf(vm, sizeof(vm), "%d", r);
    f->calls++;
    if (r != 0) {
        row(f, "0", vm, call, "  <- differs");
        fprintf(f->out, "\nvmsim follow: vms_execve of %s failed (%s) where the kernel's exec succeeded%s\n",
                path, strerrorname_np(-r) ? strerrorname_np(-r) : "?",
                r == -ENOEXEC && is_script(path) ? " (a #! script: vmsim's execve runs ELF programs only)" : "");
        return 1;
    }
    row(f, "0", "0", call, "");
    return compare_maps(f, call);
}

/* The program's exec of another program (env, a shell): the host's new
 * image is in place; vmsim execs the same file with the same strings. */
static int follow_exec(struct follow *f, const struct fl_call *c)
{
    char path[PATH_MAX];
    if (c->path[0] == '/')
        snprintf(path, sizeof(path), "%s", c->path);
    else
        fl_trace_exe(&f->tracee, path, sizeof(path));
    char **argv = NULL, **envp = NULL;
    if (fl_trace_exec_args(&f->tracee, &argv, &envp)) {
        fprintf(f->out, "vmsim follow: cannot read the arguments of the exec of %s\n", path);
        return 2;
    }
    int fds[1024];
    int n = fl_trace_fds(&f->tracee, fds, 1024);
    fl_sim_sync_fds(f->sim, fds, n < 0 ? 0 : n);
    int r = exec_on_sim(f, path, argv, envp);
    fl_free_strings(argv);
    fl_free_strings(envp);
    return r;
}

/* One compared call: 0 agreed, 1 differed, 2 cannot follow further. */
static int follow_call(struct follow *f, const struct fl_call *c, enum fl_kind kind)
{
    const char *note = NULL;
    /* A new descriptor's number is compared while the tables match: once
     * the program has picked a number itself (dup2) or holds one below 3,
     * vmsim's lowest free number can differ without vmsim being wrong. */
    int numbered = kind == FL_OPEN || kind == FL_NEW_FD;
    int numbers_comparable = numbered && fl_sim_fds_match(f->sim) && c->ret >= 3;
    int64_t vm = fl_sim_call(f->sim, c, &note);
    char call[4400], kernel[32], vmsim[32];
    fl_format_call(c, call, sizeof(call));
    fl_format_ret(c, c->ret, kernel, sizeof(kernel));
    if (vm == INT64_MIN) {
        if (!note)
            return 0;
        row(f, kernel, "-", call, "  <- not followed");
        fprintf(f->out, "\nvmsim follow: cannot follow call %u, %s: %s\n", f->number, call, note);
        return 2;
    }
    fl_format_ret(c, vm, vmsim, sizeof(vmsim));
    f->calls++;
    f->mm_calls += kind == FL_MM;
    f->file_calls += kind != FL_MM;
    if (vm != c->ret && numbered && !numbers_comparable && vm >= 0 && c->ret >= 0) {
        row(f, kernel, vmsim, call, "  (descriptor numbers not compared: an earlier dup2 or a number below 3)");
        return 0;
    }
    fl_sim_answer(f->sim, kernel); /* what the numbers make comparable */
    if (vm != c->ret) {
        row(f, kernel, vmsim, call, "  <- differs");
        fprintf(f->out, "\nvmsim follow: call %u differs: %s\n  kernel: %s\n  vmsim:  %s\n", f->number, call,
               kernel, vmsim);
        if (kind == FL_MM)
            compare_maps(f, call);
        return 1;
    }
    row(f, kernel, vmsim, call, "");
    return kind == FL_MM && compare_maps(f, call) ? 1 : 0;
}

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_FILE_OR_SHARED (UINT64_C(1) << 61)
#define PM_CHUNK 512

/* The pages of one private writable range that hold an anonymous page on
 * the host and none on vmsim get a store of the host's byte. */
static void mirror_range(struct follow *f, uint64_t start, uint64_t end)
{
    uint64_t entries[PM_CHUNK];
    for (uint64_t at = start; at < end; at += PM_CHUNK * 4096) {
        size_t n = (end - at) / 4096 < PM_CHUNK ? (size_t)((end - at) / 4096) : PM_CHUNK;
        if (fl_trace_pagemap(&f->tracee, at, n, entries))
            return;
        for (size_t i = 0; i < n; i++) {
            if (!(entries[i] & PM_PRESENT) || (entries[i] & PM_FILE_OR_SHARED))
                continue;
            uint64_t va = at + i * 4096;
            unsigned char byte = 0;
            if (fl_trace_read(&f->tracee, va, &byte, 1) == 0 &&
                fl_sim_mirror_store(f->sim, va, byte) == 1)
                f->mirrored++;
        }
    }
}

/* Before a memory call: what the program wrote since the last one, as far
 * as the address space shows it. A write gives a private VMA its anon_vma,
 * which decides whether VMAs merge (and mprotect's VM_ACCOUNT): every
 * private writable page that holds an anonymous page on the host (pagemap:
 * present, not a file page) is written on vmsim too, with the host's byte,
 * so that both address spaces have the same anon_vmas when the call runs. */
static void mirror_writes(struct follow *f)
{
    char *maps = fl_trace_maps(&f->tracee);
    for (const char *p = maps; p && *p;) {
        const char *nl = strchr(p, '\n');
        unsigned long long start, end;
        char perms[8];
        if (sscanf(p, "%llx-%llx %7s", &start, &end, perms) == 3 && perms[1] == 'w' &&
            perms[3] == 'p' && end <= UINT64_C(1) << 47)
            mirror_range(f, start, end);
        p = nl ? nl + 1 : p + strlen(p);
    }
    free(maps);
}

/* After the program's first thread: the rest runs untraced. */
static void stop_at_thread(struct follow *f)
{
    fprintf(f->out, "vmsim follow: the program started a thread at call %u: threads share the address "
           "space and are not followed; the comparison stops here\n", f->number);
    f->tracee.threads = 1;
    fflush(f->out);
    if (ptrace(PTRACE_DETACH, f->tracee.pid, NULL, NULL) == 0 &&
        waitpid(f->tracee.pid, &f->tracee.status, 0) == f->tracee.pid) /* it runs to its end */
        f->tracee.exited = 1;
}

/* How the program ended, when it did. */
static void print_end(struct follow *f)
{
    int st = f->tracee.status;
    if (!f->tracee.exited)
        return;
    if (WIFEXITED(st))
        fprintf(f->out, "vmsim follow: the program exited with status %d\n", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        fprintf(f->out, "vmsim follow: the program was killed by %s\n",
                sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "a signal");
}

/* Follows the program from its exec to its exit; the exit status of follow. */
static int follow_program(struct follow *f)
{
    struct fl_call *c = malloc(sizeof(*c));
    if (!c)
        return CLI_USAGE;
    int status = CLI_OK;
    while (status == CLI_OK) {
        int r = fl_trace_next_entry(&f->tracee, c);
        if (r)
            break;
        f->number++;
        enum fl_kind kind = fl_classify(c);
        if (kind == FL_MM)
            mirror_writes(f);
        int exec_happened = 0;
        if (fl_trace_finish(&f->tracee, c, &exec_happened))
            break; /* exit_group, or the program was killed */
        if (exec_happened) {
            status = follow_exec(f, c);
            continue;
        }
        switch (kind) {
        case FL_CLONE:
            if (c->ret > 0 && fl_clone_is_thread(c)) {
                stop_at_thread(f);
                free(c);
                return CLI_OK;
            }
            if (c->ret > 0 && !f->children++ && !f->quiet)
                fprintf(f->out, "vmsim follow: the program started a child (pid %" PRId64 ") at call "
                        "%u: children run untraced, only this process is followed\n", c->ret, f->number);
            break;
        case FL_MM_UNMODELLED:
            if (c->ret >= 0)
                status = follow_call(f, c, kind);
            break;
        case FL_MM:
        case FL_OPEN:
        case FL_CLOSE:
        case FL_CLOSE_RANGE:
        case FL_DUP:
        case FL_NEW_FD: status = follow_call(f, c, kind); break;
        default: break;
        }
    }
    free(c);
    return status;
}

static void scenario_header(FILE *out, char *const argv[])
{
    struct utsname u;
    fprintf(out, "# vmsim follow --");
    for (size_t i = 0; argv[i]; i++)
        fprintf(out, " %s", argv[i]);
    fprintf(out, "\n# Linux %s. A recorded scenario (docs/scenarios.md): the calls vmsim made for\n"
                 "# the program, addresses absolute, each with the kernel's answer after \"=>\" and\n"
                 "# the kernel's maps after it; \"set\" lines configure the machine as this host,\n"
                 "# \"store\" lines repeat what the program wrote before a call, environment\n"
                 "# values are masked (lengths kept). Replay: vmsim compare FILE.\n",
            uname(&u) ? "?" : u.release);
}

/* A scratch folder for the host profile's measurements (it writes and
 * removes one file there); "" when none can be made. */
static void make_scratch(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/vmsim-follow.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        dir[0] = '\0';
}

static int parse_args(int argc, char **argv, struct follow *f, const char **out_path, int *cmd_at)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            f->quiet = 1;
        } else if (!strcmp(a, "-o") && i + 1 < argc) {
            *out_path = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "vmsim follow: unknown option '%s'\nTry 'vmsim follow --help'.\n", a);
            return -2;
        } else {
            break; /* the command, without "--" */
        }
    }
    if (i >= argc) {
        fprintf(stderr, "vmsim follow: no command given\nTry 'vmsim follow --help'.\n");
        return -2;
    }
    *cmd_at = i;
    return 0;
}

int follow_main(int argc, char **argv)
{
    struct follow f;
    memset(&f, 0, sizeof(f));
    f.out = stderr;
    f.tracee.mem_fd = -1;
    const char *out_path = NULL;
    int cmd_at = 0;
    int p = parse_args(argc, argv, &f, &out_path, &cmd_at);
    if (p)
        return p == -1 ? CLI_OK : CLI_USAGE;
    char **cmd = argv + cmd_at;
    char path[PATH_MAX];
    if (resolve_command(cmd[0], path, sizeof(path))) {
        fprintf(stderr, "vmsim follow: %s: command not found\n", cmd[0]);
        return CLI_USAGE;
    }
    if (out_path && !(f.scenario = fopen(out_path, "w"))) {
        fprintf(stderr, "vmsim follow: %s: %s\n", out_path, strerror(errno));
        return CLI_USAGE;
    }
    char scratch[PATH_MAX], err[512];
    make_scratch(scratch, sizeof(scratch));
    f.sim = fl_sim_create(scratch[0] ? scratch : ".", err, sizeof(err));
    if (scratch[0])
        rmdir(scratch);
    int status = CLI_USAGE;
    if (!f.sim) {
        fprintf(stderr, "vmsim follow: %s\n", err);
        goto out;
    }
    if (f.scenario) {
        scenario_header(f.scenario, cmd);
        fl_sim_set_scenario(f.sim, f.scenario);
    }
    if (fl_trace_start(&f.tracee, path, cmd, environ, err, sizeof(err))) {
        fprintf(stderr, "vmsim follow: %s\n", err);
        goto out;
    }
    if (!f.quiet)
        fprintf(f.out, "%6s  %-16s %-16s %s\n", "#", "kernel", "vmsim", "call");
    status = exec_on_sim(&f, path, cmd, environ);
    if (status == CLI_OK)
        status = follow_program(&f);
    if (status == CLI_OK && vms_check(fl_sim_machine(f.sim), f.out)) {
        fprintf(f.out, "vmsim follow: vmsim's invariants do not hold (above)\n");
        status = CLI_FAILED;
    }
    print_end(&f);
    fprintf(f.out, "vmsim follow: %s: %u calls compared (%u memory, %u open/close; %lu pages written "
           "mirrored), %s\n", cmd[0], f.calls, f.mm_calls, f.file_calls, f.mirrored,
           status == CLI_OK ? (f.tracee.threads ? "all agreed up to the first thread"
                                                : "all agreed")
           : status == CLI_FAILED ? "one differed"
                                  : "not followed to the end");
out:
    if (f.sim)
        fl_sim_scenario_flush(f.sim);
    fl_trace_kill(&f.tracee);
    fl_sim_destroy(f.sim);
    if (f.scenario)
        fclose(f.scenario);
    return status;
}
