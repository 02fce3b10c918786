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
 * The program's threads are followed (PTRACE_O_TRACECLONE): each is a
 * vmsim task made by vms_clone_thread, in the shared address space, and
 * its calls are made in it ("@N" in the scenario). The calls the follower
 * repeats are made one at a time: a thread that enters one while another
 * thread's is being made and compared is held at its entry until that one
 * is done, so that the kernel's maps and descriptor numbers are those of
 * the calls seen so far. A call that sleeps in the kernel (an open of a
 * FIFO, accept, a fault on userfaultfd memory) may wait for a held thread:
 * once it has slept without running for SLEEP_GRACE_MS, it is made on
 * vmsim as the kernel has done it so far (its descriptor number taken,
 * its mapping changed) and the held threads go on; it is compared when it
 * returns. The program's children (fork, vfork, posix_spawn)
 * are processes of their own: they run untraced, and the follower says so.
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
#include <time.h>
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
    unsigned shown;      /* the number of the call being compared */
    pid_t shown_tid;     /* the thread that made it */
    pid_t busy;          /* the thread inside a followed call, 0 none: one at a time */
    pid_t watched;       /* the busy thread found asleep at the last look, 0 none */
    unsigned long long switches; /* its context switches then */
    int64_t asleep_since; /* when it was first seen asleep with that count (ms) */
    int64_t dozing_since; /* when it was first seen asleep, at every look since (ms) */
    int64_t next_look;   /* when to look at the busy thread again (ms) */
    unsigned overlaps;   /* calls found asleep while others waited */
    unsigned threads;    /* threads the program started (followed) */
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
            "The program's own exit status, or the signal that killed it, is reported, not\n"
            "returned: a program killed by SIGSEGV whose calls all agreed gives 0.\n"
            "Its threads are followed (one call at a time); its children run untraced.\n"
            "vmsim opens the program's files read-only: it writes no file.\n");
}

/* CMD as execvp would find it, made absolute (vmsim resolves paths from its
 * root, "/"); 0, or -1 when it is not there (errno: why, for a path). */
static int resolve_command(const char *cmd, char *out, size_t size)
{
    if (strchr(cmd, '/')) {
        char cwd[PATH_MAX] = "";
        if (cmd[0] != '/' && !getcwd(cwd, sizeof(cwd)))
            return -1;
        int n = cmd[0] == '/' ? snprintf(out, size, "%s", cmd) : snprintf(out, size, "%s/%s", cwd, cmd);
        if (n < 0 || (size_t)n >= size)
            return errno = ENAMETOOLONG, -1;
        return access(out, X_OK);
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
    fprintf(f->out, "%6u  %-16s %-16s %s%s\n", f->shown, kernel, vmsim, call, mark);
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
        fprintf(f->out, "\nvmsim follow: the maps differ after call %u, %s (kernel -, vmsim +):\n", f->shown,
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
    /* The exec ended the other threads inside their calls: the numbers
     * sleeping ones had taken are given back (fl_sim_sync_fds). */
    for (int i = 0; i < f->tracee.nthreads; i++)
        f->tracee.threads[i].reserved_fd = -1;
    int fds[1024];
    int n = fl_trace_fds(&f->tracee, fds, 1024);
    fl_sim_sync_fds(f->sim, fds, n < 0 ? 0 : n);
    int r = exec_on_sim(f, path, argv, envp);
    fl_free_strings(argv);
    fl_free_strings(envp);
    return r;
}

/* A new descriptor's number is compared while the tables match: once the
 * program has picked a number itself (dup2) or holds one below 3, vmsim's
 * lowest free number can differ without vmsim being wrong. */
static int numbers_comparable(struct follow *f, const struct fl_call *c, enum fl_kind kind)
{
    return (kind == FL_OPEN || kind == FL_NEW_FD) && fl_sim_fds_match(f->sim) && c->ret >= 3;
}

/* Whether the kernel's maps now are those of the calls compared so far:
 * not while another thread is inside a memory call or an exec (a memory
 * call that sleeps may have changed the maps, or not yet). */
static int maps_settled(const struct follow *f, pid_t tid)
{
    for (int i = 0; i < f->tracee.nthreads; i++) {
        const struct fl_thread *o = &f->tracee.threads[i];
        enum fl_kind kind = fl_classify(&o->call);
        if (o->tid != tid && (o->tid == f->busy || o->overlapped) &&
            (kind == FL_MM || kind == FL_MM_UNMODELLED || kind == FL_EXEC))
            return 0;
    }
    return 1;
}

/* The call's result on vmsim (vm, or INT64_MIN with a note when it could
 * not be made) against the kernel's: 0 agreed, 1 differed, 2 cannot
 * follow further. */
static int judge_call(struct follow *f, const struct fl_call *c, enum fl_kind kind, int64_t vm,
                      const char *note, int numbers_comparable)
{
    int numbered = kind == FL_OPEN || kind == FL_NEW_FD;
    char call[4400], kernel[32], vmsim[32];
    fl_format_call(c, call, sizeof(call));
    fl_format_ret(c, c->ret, kernel, sizeof(kernel));
    if (vm == INT64_MIN) {
        if (!note)
            return 0;
        row(f, kernel, "-", call, "  <- not followed");
        fprintf(f->out, "\nvmsim follow: cannot follow call %u, %s: %s\n", f->shown, call, note);
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
        fprintf(f->out, "\nvmsim follow: call %u differs: %s\n  kernel: %s\n  vmsim:  %s\n", f->shown, call,
               kernel, vmsim);
        if (kind == FL_MM && maps_settled(f, f->shown_tid))
            compare_maps(f, call);
        return 1;
    }
    row(f, kernel, vmsim, call, "");
    return kind == FL_MM && maps_settled(f, f->shown_tid) && compare_maps(f, call) ? 1 : 0;
}

/* One compared call: 0 agreed, 1 differed, 2 cannot follow further. */
static int follow_call(struct follow *f, const struct fl_call *c, enum fl_kind kind)
{
    const char *note = NULL;
    int comparable = numbers_comparable(f, c, kind);
    int64_t vm = fl_sim_call(f->sim, c, &note);
    return judge_call(f, c, kind, vm, note, comparable);
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

/* How the program ended, when it did. */
static void print_end(struct follow *f)
{
    int st = f->tracee.status;
    if (!f->tracee.exited)
        return;
    if (WIFEXITED(st))
        fprintf(f->out, "vmsim follow: the program exited with status %d\n", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        fprintf(f->out, "vmsim follow: the program was killed by SIG%s\n",
                sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
}

/* Calls that must be made one at a time: those the follower repeats (a
 * thread's call must not run while another's is compared: the maps and
 * the descriptor numbers would mix), and execs. */
static int takes_turn(enum fl_kind kind)
{
    return kind != FL_OTHER && kind != FL_CLONE && kind != FL_EXIT;
}

/* A thread at the entry of a call, whose turn it is: what the program
 * wrote is mirrored before a memory call; the thread runs into the call. */
static int enter_call(struct follow *f, struct fl_thread *th)
{
    enum fl_kind kind = fl_classify(&th->call);
    th->held = 0;
    if (takes_turn(kind))
        f->busy = th->tid;
    if (kind == FL_MM) {
        fl_sim_use_task(f->sim, th->task);
        mirror_writes(f);
    }
    return fl_trace_resume(&f->tracee, th->tid) ? CLI_USAGE : CLI_OK;
}

/* A call returned in its turn (or slept and was not made early): compared. */
static int finish_call_kind(struct follow *f, const struct fl_call *c, enum fl_kind kind)
{
    switch (kind) {
    case FL_CLONE:
        if (c->ret > 0 && !fl_clone_is_thread(c) && !f->children++ && !f->quiet)
            fprintf(f->out, "vmsim follow: the program started a child (pid %" PRId64 ") at call %u: "
                    "children are processes of their own and run untraced; this process is followed\n",
                    c->ret, f->shown);
        return CLI_OK;
    case FL_MM_UNMODELLED: return c->ret >= 0 ? follow_call(f, c, kind) : CLI_OK;
    case FL_MM:
    case FL_OPEN:
    case FL_CLOSE:
    case FL_CLOSE_RANGE:
    case FL_DUP:
    case FL_NEW_FD: return follow_call(f, c, kind);
    default: return CLI_OK;
    }
}

/* A call that slept while other threads' calls were made has returned:
 * what was made on vmsim when it was found asleep is compared now. */
static int finish_overlapped(struct follow *f, struct fl_thread *th, enum fl_kind kind)
{
    const struct fl_call *c = &th->call;
    int made_early = th->made_early, reserved = th->reserved_fd;
    th->overlapped = th->made_early = 0;
    th->reserved_fd = -1;
    if (reserved >= 0) {
        int comparable = numbers_comparable(f, c, kind);
        return judge_call(f, c, kind, fl_sim_claim_fd(f->sim, reserved, c), NULL, comparable);
    }
    if (made_early) {
        fl_sim_unanswered(f->sim); /* its line went out when it was made */
        return judge_call(f, c, kind, th->early, NULL, 0);
    }
    return finish_call_kind(f, c, kind);
}

/* The call of th returned: compared; 0 agreed, 1 differed, 2 cannot follow further. */
static int finish_call(struct follow *f, struct fl_thread *th, int exec)
{
    const struct fl_call *c = &th->call;
    enum fl_kind kind = fl_classify(c);
    f->shown = th->seq;
    f->shown_tid = th->tid;
    if (fl_sim_use_task(f->sim, th->task)) {
        fprintf(f->out, "\nvmsim follow: call %u of a thread vmsim has no task for\n", f->shown);
        return CLI_USAGE;
    }
    if (exec)
        return follow_exec(f, c);
    if (th->overlapped)
        return finish_overlapped(f, th, kind);
    return finish_call_kind(f, c, kind);
}

/* When no thread is in a followed call: the next thread held at an entry gets its turn. */
static int next_turn(struct follow *f)
{
    for (int i = 0; i < f->tracee.nthreads; i++)
        if (f->tracee.threads[i].held)
            return enter_call(f, &f->tracee.threads[i]);
    return CLI_OK;
}

static int new_thread(struct follow *f, const struct fl_event *ev)
{
    int parent = ev->thread->task;
    pid_t parent_tid = ev->tid;
    int task = fl_sim_thread(f->sim, parent);
    struct fl_thread *th = fl_trace_thread(&f->tracee, ev->new_tid);
    if (task < 0 || !th) {
        fprintf(f->out, "\nvmsim follow: cannot follow the thread %d the program made: %s\n", (int)ev->new_tid,
                task < 0 ? "vmsim cannot make its task (more than 255 threads?)" : "it is gone");
        return CLI_USAGE;
    }
    th->task = task;
    if (!f->threads++ && !f->quiet)
        fprintf(f->out, "vmsim follow: the program started a thread (%d): its calls are followed as task @%d "
                "(one call at a time)\n", (int)ev->new_tid, task);
    return fl_trace_resume(&f->tracee, parent_tid) ? CLI_USAGE : CLI_OK;
}

/* A call found asleep that long, its thread not run since, is taken to
 * wait for something (another thread's call); a sleep on the disk or a
 * lock is shorter. One found asleep at every look for SLEEP_LONG_MS is
 * let by too, though woken in between (a wait woken for nothing, a long
 * read from the disk). LOOK_MS: how often the follower looks. */
enum { SLEEP_GRACE_MS = 100, SLEEP_LONG_MS = 1000, LOOK_MS = 10 };

/* What the kernel has done of a sleeping call is done on vmsim: an open
 * or an accept has taken its descriptor number, a close has given it
 * back, a memory call has done its work on the VMAs (it sleeps after, in
 * a fault); the rest (a dup, a pipe) is made when the call returns. */
static int make_early(struct follow *f, struct fl_thread *th)
{
    const struct fl_call *c = &th->call;
    enum fl_kind kind = fl_classify(c);
    if (kind == FL_OPEN || (kind == FL_NEW_FD && !fl_new_fds_in_memory(c->nr))) {
        th->reserved_fd = fl_sim_reserve_fd(f->sim);
        return CLI_OK;
    }
    if (kind != FL_MM && kind != FL_CLOSE && kind != FL_CLOSE_RANGE)
        return CLI_OK;
    const char *note = NULL;
    th->early = fl_sim_call(f->sim, c, &note);
    th->made_early = 1;
    fl_sim_unanswered(f->sim);
    if (th->early == INT64_MIN && note) {
        char call[4400];
        fl_format_call(c, call, sizeof(call));
        fprintf(f->out, "\nvmsim follow: cannot follow call %u, %s: %s\n", th->seq, call, note);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The busy thread's call sleeps and held threads wait: it is made on vmsim
 * as far as the kernel has gone (make_early) and compared when it
 * returns; the next held thread gets its turn. */
static int let_by(struct follow *f, struct fl_thread *th)
{
    if (fl_sim_use_task(f->sim, th->task)) {
        fprintf(f->out, "\nvmsim follow: call %u of a thread vmsim has no task for\n", th->seq);
        return CLI_USAGE;
    }
    const char *name = fl_syscall_name(th->call.nr);
    if (!f->overlaps++ && !f->quiet)
        fprintf(f->out, "vmsim follow: call %u (%s) sleeps in the kernel while other threads wait for their turn: "
                "they go on, and it is compared when it returns\n", th->seq, name ? name : "?");
    th->overlapped = 1;
    f->busy = 0;
    f->watched = 0;
    int status = make_early(f, th);
    return status == CLI_OK ? next_turn(f) : status;
}

static int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int any_held(const struct follow *f)
{
    for (int i = 0; i < f->tracee.nthreads; i++)
        if (f->tracee.threads[i].held)
            return 1;
    return 0;
}

/* Whether the busy thread has a call to watch: threads wait for it (an exec is
 * never let by: it ends the waiting threads itself). */
static struct fl_thread *watch_target(struct follow *f)
{
    struct fl_thread *th = f->busy ? fl_trace_thread(&f->tracee, f->busy) : NULL;
    return th && any_held(f) && fl_classify(&th->call) != FL_EXEC ? th : NULL;
}

/* Looks at the busy thread while others wait: asleep in the kernel and not
 * run since it was first seen so for SLEEP_GRACE_MS (or asleep at every
 * look for SLEEP_LONG_MS), it is let by. */
static int watch_busy(struct follow *f)
{
    struct fl_thread *th = watch_target(f);
    int64_t now = clock_ms();
    if (!th) {
        f->watched = 0;
        return CLI_OK;
    }
    if (now < f->next_look)
        return CLI_OK;
    f->next_look = now + LOOK_MS;
    unsigned long long switches = 0;
    if (fl_trace_sleeping(&f->tracee, th->tid, &switches) != 1) {
        f->watched = 0;
        return CLI_OK;
    }
    if (f->watched != th->tid)
        f->dozing_since = now;
    if (f->watched != th->tid || f->switches != switches) {
        f->watched = th->tid;
        f->switches = switches;
        f->asleep_since = now;
        return CLI_OK;
    }
    int waits = now - f->asleep_since >= SLEEP_GRACE_MS || now - f->dozing_since >= SLEEP_LONG_MS;
    return waits ? let_by(f, th) : CLI_OK;
}

/* How long the next wait may be: no limit unless threads wait for a busy one. */
static int ms_to_next_look(struct follow *f)
{
    if (!watch_target(f))
        return -1;
    int64_t left = f->next_look - clock_ms();
    return left < 0 ? 0 : left > LOOK_MS ? LOOK_MS : (int)left;
}

/* One event of the tracee; CLI_OK to go on. */
static int follow_event(struct follow *f, const struct fl_event *ev, int *done)
{
    struct fl_thread *th = ev->thread;


    switch (ev->kind) {
    case FL_EV_END: *done = 1; return CLI_OK;
    case FL_EV_THREAD_GONE:
        if (ev->reserved_fd >= 0 && fl_sim_use_task(f->sim, ev->task) == 0)
            fl_sim_release_fd(f->sim, ev->reserved_fd); /* it never returned */
        if (ev->task > 0)
            fl_sim_thread_exit(f->sim, ev->task);
        if (f->busy == ev->tid) { /* killed inside its call (another thread's exec) */
            f->busy = 0;
            return next_turn(f);
        }
        return CLI_OK;
    case FL_EV_NEW_THREAD: return new_thread(f, ev);
    case FL_EV_ENTRY:
        th->seq = ++f->number;
        if (takes_turn(fl_classify(&th->call)) && f->busy && f->busy != th->tid) {
            th->held = 1; /* stays stopped: another thread's call is being compared */
            return CLI_OK;
        }
        return enter_call(f, th);
    case FL_EV_EXIT: {
        int status = finish_call(f, th, ev->exec);
        if (f->busy == th->tid || ev->exec) /* a thread's exec took the first thread's number */
            f->busy = 0;
        if (status == CLI_OK && fl_trace_resume(&f->tracee, th->tid))
            status = CLI_USAGE;
        return status == CLI_OK && !f->busy ? next_turn(f) : status;
    }
    }
    return CLI_OK;
}

/* Follows the program from its exec to its exit; the exit status of follow. */
static int follow_program(struct follow *f)
{
    int status = CLI_OK, done = 0;
    while (status == CLI_OK && !done) {
        struct fl_event ev;
        int r = fl_trace_wait_for(&f->tracee, &ev, ms_to_next_look(f));
        if (r < 0) {
            fprintf(f->out, "vmsim follow: lost the program: %s\n", strerror(errno));
            return CLI_USAGE;
        }
        if (r == 0)
            status = follow_event(f, &ev, &done);
        if (status == CLI_OK && !done)
            status = watch_busy(f);
    }
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
    errno = 0;
    if (resolve_command(cmd[0], path, sizeof(path))) {
        if (strchr(cmd[0], '/') && errno)
            fprintf(stderr, "vmsim follow: %s: %s\n", cmd[0], strerror(errno));
        else
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
    if (status == CLI_OK && fl_trace_resume(&f.tracee, f.tracee.pid)) /* from its exec stop */
        status = CLI_USAGE;
    if (status == CLI_OK)
        status = follow_program(&f);
    if (status == CLI_OK && vms_check(fl_sim_machine(f.sim), f.out)) {
        fprintf(f.out, "vmsim follow: vmsim's invariants do not hold (above)\n");
        status = CLI_FAILED;
    }
    print_end(&f);
    if (f.overlaps)
        fprintf(f.out, "vmsim follow: %u call%s slept in the kernel while other threads' calls were made "
                "(each compared when it returned)\n", f.overlaps, f.overlaps == 1 ? "" : "s");
    fprintf(f.out, "vmsim follow: %s: %u calls compared (%u memory, %u open/close; %u thread%s; %lu pages "
           "written mirrored), %s\n", cmd[0], f.calls, f.mm_calls, f.file_calls, f.threads + 1,
           f.threads ? "s" : "", f.mirrored,
           status == CLI_OK ? "all agreed"
           : status == CLI_FAILED ? "one differed"
                                  : "not followed to the end");
out:
    if (f.sim)
        fl_sim_scenario_flush(f.sim);
    if (f.scenario) /* where the recording ends, and why */
        fprintf(f.scenario, "# vmsim follow: %s\n",
                status == CLI_OK ? "followed to the program's end, every call agreed"
                : status == CLI_FAILED ? "stopped at the first difference (the line above)"
                                       : "not followed to the end (the follower could not go on)");
    fl_trace_kill(&f.tracee);
    fl_sim_destroy(f.sim);
    if (f.scenario)
        fclose(f.scenario);
    return status;
}
