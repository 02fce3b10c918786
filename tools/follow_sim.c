/*
 * follow_sim.c - the vmsim side of `vmsim follow`: one machine configured
 * from the host profile (the one place that reads the host), one task, and
 * the program's calls made again on it.
 *
 * Files. The machine's root is the host's "/", so that the program's
 * absolute paths (/lib/x86_64-linux-gnu/libc.so.6) name the same files on
 * both sides and the maps show the same paths. vmsim must then never write
 * a host file the program did not write, so vmsim holds no descriptor that
 * can write: every open the program makes is repeated after the host's, on
 * the file the host's descriptor names (/proc/PID/fd), as O_RDONLY without
 * O_CREAT, O_TRUNC or O_APPEND (the program's own open already did what
 * they do). With no writable descriptor, Linux's rules (which vmsim keeps
 * and the tester checks) let nothing reach a file: write(), ftruncate and
 * shared writable mappings all need one. The follower repeats no write()
 * and no store, and a shared mapping of a file the program opened for
 * writing is not repeated: the follower stops there and says so.
 *
 * Descriptors. vmsim gives the lowest free number, as Linux does, so the
 * numbers match while the program only opens and closes files. Descriptors
 * of things that are not files (pipes, sockets, eventfds, ...) are stood
 * for by a descriptor of "/" so that the numbering still matches; dup2 and
 * its kin can pick a number vmsim cannot (vmsim has no dup2), so the
 * follower keeps a map from the host's numbers to vmsim's.
 */
#include "follow.h"
#include "oracle.h"
#include "vmsim_host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#define ROOT_STAND_IN "/" /* what a descriptor that names no file stands for */
#define MINCORE_MAX_PAGES (UINT64_C(1) << 24)

struct fd_entry {
    int vmfd;          /* -1: not open */
    int host_writable; /* the program's descriptor may write */
    int flags;         /* the flags vmsim's open took */
    char *path;        /* the file, or NULL for a stand-in */
};

#define MAX_TASKS 256 /* a recorded scenario's @0..@255 */

struct fl_sim {
    vms_machine *m;
    vms_task *t;                 /* the task of the call being made */
    vms_task *tasks[MAX_TASKS];  /* by number: @0 the program, then its threads; NULL once gone */
    int ntasks, cur;
    struct vms_config config; /* the machine's, root aside: the scenario's set lines */
    struct fd_entry *fds; /* indexed by the host's descriptor */
    size_t nfds;
    FILE *scenario;
    char *pending; /* the last scenario line, waiting for the kernel's answer */
    int reserved[MAX_TASKS]; /* descriptors taken for sleeping opens and accepts (one a thread) */
    int nreserved;
};

struct fl_sim *fl_sim_create(const char *scratch, char *err, size_t errsize)
{
    struct fl_sim *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    struct host_profile profile;
    host_profile_read(&profile, scratch);
    struct vms_config c;
    vms_config_init(&c);
    host_profile_apply(&profile, &c);
    c.root = "/";
    s->config = c;
    s->m = vms_machine_create(&c);
    s->t = s->m ? vms_spawn(s->m, "follow") : NULL;
    s->tasks[0] = s->t;
    s->ntasks = 1;
    if (!s->t) {
        snprintf(err, errsize, "cannot make the machine: %s", strerror(errno));
        fl_sim_destroy(s);
        return NULL;
    }
    return s;
}

void fl_sim_destroy(struct fl_sim *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfds; i++)
        free(s->fds[i].path);
    free(s->fds);
    free(s->pending);
    if (s->m)
        vms_machine_destroy(s->m);
    free(s);
}

vms_machine *fl_sim_machine(struct fl_sim *s) { return s->m; }
void fl_sim_set_scenario(struct fl_sim *s, FILE *out)
{
    s->scenario = out;
    oracle_print_config_lines(&s->config, out);
}

/* The line waiting for its answer goes out without one. */
static void flush_pending(struct fl_sim *s)
{
    if (s->pending)
        fprintf(s->scenario, "%s\n", s->pending);
    free(s->pending);
    s->pending = NULL;
}

/* Writes the lines of text ('\n' between them), each with the task's
 * "@N " when it is not the first; the last waits for the kernel's answer
 * (fl_sim_answer). */
static void scenario_line(struct fl_sim *s, const char *text)
{
    if (!s->scenario || !*text)
        return;
    flush_pending(s);
    char prefix[16] = "";
    if (s->cur)
        snprintf(prefix, sizeof(prefix), "@%d ", s->cur);
    for (const char *p = text, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        fprintf(s->scenario, "%s%.*s\n", prefix, (int)(nl - p), p);
    const char *last = strrchr(text, '\n');
    last = last ? last + 1 : text;
    size_t n = strlen(prefix) + strlen(last) + 1;
    s->pending = malloc(n);
    if (s->pending)
        snprintf(s->pending, n, "%s%s", prefix, last);
}

int fl_sim_use_task(struct fl_sim *s, int task)
{
    if (task < 0 || task >= s->ntasks || !s->tasks[task])
        return -1;
    s->cur = task;
    s->t = s->tasks[task];
    return 0;
}

int fl_sim_thread(struct fl_sim *s, int parent)
{
    if (fl_sim_use_task(s, parent) || s->ntasks == MAX_TASKS)
        return -1;
    scenario_line(s, "thread");
    vms_task *t = vms_clone_thread(s->t);
    if (!t)
        return -1;
    s->tasks[s->ntasks] = t;
    char answer[16];
    snprintf(answer, sizeof(answer), "@%d", s->ntasks);
    fl_sim_answer(s, answer);
    return s->ntasks++;
}

void fl_sim_thread_exit(struct fl_sim *s, int task)
{
    if (task <= 0 || fl_sim_use_task(s, task))
        return;
    scenario_line(s, "exit");
    flush_pending(s);
    vms_exit(s->t);
    s->tasks[task] = NULL;
    fl_sim_use_task(s, 0);
}

void fl_sim_answer(struct fl_sim *s, const char *answer)
{
    if (!s->scenario || !s->pending)
        return;
    fprintf(s->scenario, "%s => %s\n", s->pending, answer);
    free(s->pending);
    s->pending = NULL;
}

void fl_sim_scenario_maps(struct fl_sim *s, const char *maps)
{
    if (!s->scenario)
        return;
    flush_pending(s);
    char prefix[16] = ""; /* the task whose maps they are: the call's */
    if (s->cur)
        snprintf(prefix, sizeof(prefix), "@%d ", s->cur);
    for (const char *p = maps; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(s->scenario, "%smaps %.*s\n", prefix, (int)n, p);
        p += n + (nl != NULL);
    }
}

void fl_sim_scenario_flush(struct fl_sim *s)
{
    if (s->scenario) {
        flush_pending(s);
        fflush(s->scenario);
    }
}

static struct fd_entry *entry(struct fl_sim *s, int host_fd)
{
    if (host_fd < 0 || host_fd > (1 << 20))
        return NULL;
    if ((size_t)host_fd >= s->nfds) {
        size_t n = (size_t)host_fd * 2 + 16;
        struct fd_entry *bigger = realloc(s->fds, n * sizeof(*bigger));
        if (!bigger)
            return NULL;
        for (size_t i = s->nfds; i < n; i++)
            bigger[i] = (struct fd_entry){-1, 0, 0, NULL};
        s->fds = bigger;
        s->nfds = n;
    }
    return &s->fds[host_fd];
}

int fl_sim_fds_match(const struct fl_sim *s)
{
    for (size_t fd = 0; fd < s->nfds; fd++)
        if (s->fds[fd].vmfd >= 0 && s->fds[fd].vmfd != (int)fd)
            return 0;
    return 1;
}

int fl_sim_fd(const struct fl_sim *s, int host_fd)
{
    return host_fd >= 0 && (size_t)host_fd < s->nfds ? s->fds[host_fd].vmfd : -1;
}

static void forget(struct fl_sim *s, int host_fd)
{
    struct fd_entry *e = entry(s, host_fd);
    if (!e)
        return;
    free(e->path);
    *e = (struct fd_entry){-1, 0, 0, NULL};
}

/* Closes vmsim's descriptor for host_fd, if it has one; the result of vms_close. */
static int close_mapped(struct fl_sim *s, int host_fd)
{
    int vmfd = fl_sim_fd(s, host_fd);
    if (vmfd < 0)
        return -EBADF;
    int r = vms_close(s->t, vmfd);
    char line[64];
    snprintf(line, sizeof(line), "close %d", vmfd);
    scenario_line(s, line);
    forget(s, host_fd);
    return r;
}

/* The open flags vmsim takes for a descriptor the program opened with
 * flags: read-only, creating and truncating nothing. */
static int read_only_flags(int flags)
{
    return (flags & ~(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | __O_TMPFILE)) | O_RDONLY;
}

/* Opens path (or the stand-in, path NULL) for the host's descriptor; the
 * number vmsim gave, or -errno. */
static int open_for(struct fl_sim *s, int host_fd, const char *path, int flags, int host_writable)
{
    if (fl_sim_fd(s, host_fd) >= 0) /* dup2 onto an open descriptor closes it first */
        close_mapped(s, host_fd);
    int vmflags = path ? read_only_flags(flags) : O_RDONLY | O_DIRECTORY;
    const char *what = path ? path : ROOT_STAND_IN;
    int vmfd = vms_open(s->t, what, vmflags, 0);
    if (vmfd < 0 && path) { /* the program may open what vmsim cannot (a socket file) */
        vmflags = O_RDONLY | O_DIRECTORY;
        what = ROOT_STAND_IN;
        path = NULL;
        vmfd = vms_open(s->t, what, vmflags, 0);
    }
    char line[4200];
    fl_format_open_line(what, vmflags, line, sizeof(line));
    scenario_line(s, line);
    struct fd_entry *e = entry(s, host_fd);
    if (vmfd >= 0 && e) {
        *e = (struct fd_entry){vmfd, host_writable, vmflags, path ? strdup(path) : NULL};
    }
    return vmfd;
}

static int writable_mode(int flags)
{
    return (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
}

static int64_t call_open(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    if (c->ret < 0) {
        *note = NULL; /* failed on the host: no descriptor to follow */
        return INT64_MIN;
    }
    int flags = fl_open_flags(c);
    return open_for(s, (int)c->ret, c->target[0] ? c->target : NULL, flags, writable_mode(flags));
}

int fl_sim_reserve_fd(struct fl_sim *s)
{
    if (s->nreserved == MAX_TASKS)
        return -EMFILE;
    int vmflags = O_RDONLY | O_DIRECTORY;
    int vmfd = vms_open(s->t, ROOT_STAND_IN, vmflags, 0);
    char line[64];
    fl_format_open_line(ROOT_STAND_IN, vmflags, line, sizeof(line));
    scenario_line(s, line);
    flush_pending(s);
    if (vmfd >= 0)
        s->reserved[s->nreserved++] = vmfd;
    return vmfd;
}

/* Takes vmfd off the reservations; 0, or -1 when it is not one (given back already). */
static int unreserve(struct fl_sim *s, int vmfd)
{
    for (int i = 0; i < s->nreserved; i++)
        if (s->reserved[i] == vmfd) {
            s->reserved[i] = s->reserved[--s->nreserved];
            return 0;
        }
    return -1;
}

void fl_sim_release_fd(struct fl_sim *s, int vmfd)
{
    if (unreserve(s, vmfd) || vms_close(s->t, vmfd))
        return;
    char line[64];
    snprintf(line, sizeof(line), "close %d", vmfd);
    scenario_line(s, line);
    flush_pending(s);
}

int64_t fl_sim_claim_fd(struct fl_sim *s, int vmfd, const struct fl_call *c)
{
    flush_pending(s); /* the kernel's answer is for no line written before */
    if (c->ret < 0 || unreserve(s, vmfd)) { /* the kernel gave the number back */
        fl_sim_release_fd(s, vmfd);
        return INT64_MIN;
    }
    int host_fd = (int)c->ret;
    int flags = fl_classify(c) == FL_OPEN ? fl_open_flags(c) : O_RDONLY;
    if (c->target[0]) { /* a file vmsim may open: in the stand-in's place */
        vms_close(s->t, vmfd);
        char line[64];
        snprintf(line, sizeof(line), "close %d", vmfd);
        scenario_line(s, line);
        open_for(s, host_fd, c->target, flags, writable_mode(flags));
        return vmfd;
    }
    if (fl_sim_fd(s, host_fd) >= 0)
        close_mapped(s, host_fd);
    struct fd_entry *e = entry(s, host_fd);
    if (e)
        *e = (struct fd_entry){vmfd, writable_mode(flags), O_RDONLY | O_DIRECTORY, NULL};
    return vmfd;
}

void fl_sim_unanswered(struct fl_sim *s)
{
    if (s->scenario)
        flush_pending(s);
}

static int64_t call_dup(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    *note = NULL;
    if (c->ret < 0)
        return INT64_MIN;
    int src = fl_dup_source(c);
    struct fd_entry copy = {-1, 0, 0, NULL};
    if (src >= 0 && (size_t)src < s->nfds)
        copy = s->fds[src];
    int cloexec = (c->nr == SYS_dup3 && (c->arg[2] & O_CLOEXEC)) ||
                  (c->nr == SYS_fcntl && c->arg[1] == F_DUPFD_CLOEXEC);
    int flags = (copy.flags & ~O_CLOEXEC) | (cloexec ? O_CLOEXEC : 0);
    char *path = copy.path ? strdup(copy.path) : NULL;
    open_for(s, (int)c->ret, path, flags, copy.host_writable);
    free(path);
    return INT64_MIN; /* dup's number is the host's choice (dup2): not compared */
}

static int64_t call_new_fd(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    *note = NULL;
    if (c->ret < 0)
        return INT64_MIN;
    if (fl_new_fds_in_memory(c->nr)) {
        for (int i = 0; i < 2; i++)
            if (c->new_fds[i] >= 0)
                open_for(s, c->new_fds[i], NULL, 0, 0);
        return INT64_MIN;
    }
    return open_for(s, (int)c->ret, c->target[0] ? c->target : NULL, O_RDONLY, 0);
}

static int64_t call_close(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    *note = NULL;
    if (fl_sim_fd(s, (int)c->arg[0]) < 0)
        return INT64_MIN; /* 0-2, or a descriptor never opened: nothing on vmsim's side */
    return close_mapped(s, (int)c->arg[0]);
}

static int64_t call_close_range(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    *note = NULL;
    if (c->ret < 0 || (c->arg[2] & CLOSE_RANGE_CLOEXEC))
        return INT64_MIN; /* close-on-exec: closed when the exec comes (fl_sim_sync_fds) */
    for (size_t fd = (size_t)(unsigned)c->arg[0]; fd < s->nfds && fd <= (unsigned)c->arg[1]; fd++)
        close_mapped(s, (int)fd);
    return INT64_MIN;
}

/* The descriptor an mmap names on vmsim's side, or why it cannot be followed. */
static int mmap_fd(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    int flags = (int)c->arg[3];
    if (flags & MAP_ANONYMOUS)
        return (int)c->arg[4]; /* ignored by mmap */
    int host_fd = (int)c->arg[4];
    int vmfd = fl_sim_fd(s, host_fd);
    int type = flags & MAP_TYPE;
    if (vmfd >= 0 && s->fds[host_fd].host_writable && (type == MAP_SHARED || type == MAP_SHARED_VALIDATE)) {
        *note = "a shared mapping of a file the program opened for writing: vmsim holds files "
                "read-only and does not repeat it";
        return INT32_MIN;
    }
    if (vmfd >= 0 && !s->fds[host_fd].path) {
        *note = "a mapping of a descriptor that is not a file (pipe, socket, memfd, ...): "
                "vmsim cannot open it";
        return INT32_MIN;
    }
    return vmfd;
}

static int64_t call_mincore(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    uint64_t pages = (c->arg[1] + 4095) / 4096;
    if (pages > MINCORE_MAX_PAGES) {
        *note = "mincore of more than 64 GiB: not repeated";
        return INT64_MIN;
    }
    unsigned char *vec = malloc(pages ? pages : 1);
    if (!vec) {
        *note = "out of memory";
        return INT64_MIN;
    }
    int r = vms_mincore(s->t, c->arg[0], c->arg[1], vec);
    free(vec);
    return r;
}

static int64_t call_mm(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    const uint64_t *a = c->arg;
    char line[256];
    int vmfd = -1;
    if (c->nr == SYS_mmap && (vmfd = mmap_fd(s, c, note)) == INT32_MIN)
        return INT64_MIN;
    fl_format_scenario(c, vmfd, line, sizeof(line));
    scenario_line(s, line);
    switch (c->nr) {
    case SYS_mmap: return vms_mmap(s->t, a[0], a[1], (int)a[2], (int)a[3], vmfd, (int64_t)a[5]);
    case SYS_munmap: return vms_munmap(s->t, a[0], a[1]);
    case SYS_mprotect: return vms_mprotect(s->t, a[0], a[1], (int)a[2]);
    case SYS_brk: return (int64_t)vms_brk(s->t, a[0]);
    case SYS_mremap: return vms_mremap(s->t, a[0], a[1], a[2], (int)a[3], a[4]);
    case SYS_madvise: return vms_madvise(s->t, a[0], a[1], (int)a[2]);
    case SYS_msync: return vms_msync(s->t, a[0], a[1], (int)a[2]);
    case SYS_mincore: return call_mincore(s, c, note);
    default: *note = "not a memory call"; return INT64_MIN;
    }
}

int64_t fl_sim_call(struct fl_sim *s, const struct fl_call *c, const char **note)
{
    *note = NULL;
    switch (fl_classify(c)) {
    case FL_MM: return call_mm(s, c, note);
    case FL_OPEN: return call_open(s, c, note);
    case FL_CLOSE: return call_close(s, c, note);
    case FL_CLOSE_RANGE: return call_close_range(s, c, note);
    case FL_DUP: return call_dup(s, c, note);
    case FL_NEW_FD: return call_new_fd(s, c, note);
    case FL_MM_UNMODELLED:
        *note = "vmsim does not model this call";
        return INT64_MIN;
    default: return INT64_MIN;
    }
}

int fl_sim_execve(struct fl_sim *s, const char *path, char *const argv[], char *const envp[])
{
    char *lines = s->scenario ? fl_format_exec_lines(path, argv, envp) : NULL;
    if (lines)
        scenario_line(s, lines);
    free(lines);
    int r = vms_execve(s->t, path, argv, envp);
    /* The other threads of the process end (their handles are freed). */
    if (r == 0 || vms_task_killed(s->t))
        for (int i = 0; i < s->ntasks; i++)
            if (i != s->cur)
                s->tasks[i] = NULL;
    return r;
}

void fl_sim_sync_fds(struct fl_sim *s, const int *host_fds, int n)
{
    /* The threads that slept in an open or accept are gone: their numbers
     * are free again. */
    while (s->nreserved)
        fl_sim_release_fd(s, s->reserved[0]);
    for (size_t fd = 0; fd < s->nfds; fd++) {
        if (s->fds[fd].vmfd < 0)
            continue;
        int open_on_host = 0;
        for (int i = 0; i < n && !open_on_host; i++)
            open_on_host = host_fds[i] == (int)fd;
        if (open_on_host)
            continue;
        /* Closed by the host's exec: close-on-exec, set at open (then
         * vms_execve has closed it already) or later by fcntl, which vmsim
         * does not have. */
        if (vms_close(s->t, s->fds[fd].vmfd) == 0) {
            char line[64];
            snprintf(line, sizeof(line), "close %d", s->fds[fd].vmfd);
            scenario_line(s, line);
        }
        forget(s, (int)fd);
    }
}

char *fl_sim_maps(struct fl_sim *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    vms_maps(s->t, f);
    fclose(f);
    return text;
}

void fl_sim_grow_stack(struct fl_sim *s, uint64_t host_stack_start)
{
    char *maps = fl_sim_maps(s);
    uint64_t start = maps ? fl_maps_stack_start(maps) : 0;
    free(maps);
    if (!host_stack_start || !start || host_stack_start >= start)
        return;
    unsigned char byte;
    char line[64];
    snprintf(line, sizeof(line), "load 0x%llx 0x1", (unsigned long long)host_stack_start);
    scenario_line(s, line);
    vms_load(s->t, host_stack_start, &byte, 1);
}

int fl_sim_present(struct fl_sim *s, uint64_t va)
{
    struct vms_walk w;
    return vms_walk(s->t, va, &w) == 0 && w.present;
}

int fl_sim_mirror_store(struct fl_sim *s, uint64_t va, unsigned char byte)
{
    if (fl_sim_present(s, va))
        return 0;
    char line[80];
    snprintf(line, sizeof(line), "store 0x%llx 0x1 0x%02x", (unsigned long long)va, byte);
    scenario_line(s, line);
    return vms_store(s->t, va, &byte, 1) ? -1 : 1;
}
