/*
 * follow_trace.c - the host side of `vmsim follow`: a real program under
 * ptrace, stopped at the entry and at the exit of each of its system calls.
 *
 * The program starts as Linux starts a program run with `setarch -R`: the
 * child asks to be traced, turns address randomisation off
 * (personality(ADDR_NO_RANDOMIZE), kept across exec) and transparent huge
 * pages off (PR_SET_THP_DISABLE, kept across exec), stops, and execs. The
 * tracer takes it from its first exec (PTRACE_O_TRACEEXEC), when the new
 * image is in place. Its threads are traced too (PTRACE_O_TRACECLONE: a
 * clone that shares the address space and is not a fork); its children
 * (fork, vfork, posix_spawn's clone with SIGCHLD) run untraced, and the
 * follower says so.
 *
 * Threads: every stop of every thread comes through fl_trace_wait, one
 * event at a time, and an event leaves its thread stopped until the
 * follower resumes it (fl_trace_resume), so that the follower can hold a
 * thread at a call's entry while another thread's call is made. A new
 * thread runs once both its clone event (the parent's) and its first stop
 * (a SIGSTOP, suppressed) are seen, in either order.
 *
 * A wait can have a time limit (the follower looks at a thread that sleeps
 * in a call while others wait for their turn): SIGCHLD is blocked in the
 * follower while the program runs, and taken with sigtimedwait when no
 * thread has a stop to report.
 */
#include "follow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif
#define SYSCALL_STOP (SIGTRAP | 0x80) /* PTRACE_O_TRACESYSGOOD */

static struct fl_thread *add_thread(struct fl_tracee *t, pid_t tid);

/* What the child tells the tracer when it cannot get as far as its exec. */
struct child_failure {
    int step; /* 0 ptrace, 1 exec */
    int err;
};

static void child_fail(int fd, int step)
{
    struct child_failure f = {step, errno};
    if (write(fd, &f, sizeof(f)) < 0)
        _exit(126);
    _exit(127);
}

static void child(int report, const char *path, char *const argv[], char *const envp[])
{
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
        child_fail(report, 0);
    /* 0, 1 and 2 open, as vmsim's descriptor table starts (it never hands
     * them out): a closed one would take the program's first open. */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            child_fail(report, 0);
    personality(ADDR_NO_RANDOMIZE);
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    /* The program gets the follower's 0, 1 and 2 and nothing else, so that
     * its first open returns 3, as vmsim's first open does. */
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    raise(SIGSTOP);
    execve(path, argv, envp);
    child_fail(report, 1);
}

static int wait_stop(struct fl_tracee *t)
{
    int status;
    if (waitpid(t->pid, &status, 0) < 0)
        return -1;
    t->status = status;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        t->exited = 1;
        return 1;
    }
    return 0;
}

/* Resumes to the next stop; a signal the program was to receive is passed on. */
static int resume(struct fl_tracee *t, int sig) { return ptrace(PTRACE_SYSCALL, t->pid, NULL, (void *)(long)sig) ? -1 : 0; }

static int is_exec_event(int status) { return WIFSTOPPED(status) && status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)); }
static int is_syscall_stop(int status) { return WIFSTOPPED(status) && WSTOPSIG(status) == SYSCALL_STOP; }

/* The signal to deliver when the program resumes from this stop: a
 * signal-delivery stop passes its signal on; ptrace's own stops none. */
static int pending_signal(int status)
{
    if (!WIFSTOPPED(status) || is_syscall_stop(status) || status >> 16)
        return 0;
    return WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
}

static void open_mem(struct fl_tracee *t)
{
    char path[64];
    if (t->mem_fd >= 0)
        close(t->mem_fd);
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)t->pid);
    t->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
}

int fl_trace_start(struct fl_tracee *t, const char *path, char *const argv[],
                   char *const envp[], char *err, size_t errsize)
{
    memset(t, 0, sizeof(*t));
    t->mem_fd = -1;
    int report[2];
    if (pipe2(report, O_CLOEXEC)) {
        snprintf(err, errsize, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    t->pid = fork();
    if (t->pid < 0) {
        snprintf(err, errsize, "fork: %s", strerror(errno));
        close(report[0]);
        close(report[1]);
        return -1;
    }
    if (t->pid == 0) {
        close(report[0]);
        child(report[1], path, argv, envp);
    }
    close(report[1]);
    int stopped = wait_stop(t) == 0;
    if (stopped && ptrace(PTRACE_SETOPTIONS, t->pid, NULL,
                          (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL |
                                         PTRACE_O_TRACECLONE))) {
        snprintf(err, errsize, "ptrace(PTRACE_SETOPTIONS): %s", strerror(errno));
        fl_trace_kill(t);
        close(report[0]);
        return -1;
    }
    /* Up to the exec event, from the child's own SIGSTOP (not delivered:
     * ptrace took it) through execve's entry. */
    for (int sig = 0; stopped && !is_exec_event(t->status); sig = pending_signal(t->status)) {
        if (resume(t, sig) || wait_stop(t))
            stopped = 0;
    }
    if (!stopped) {
        struct child_failure f;
        ssize_t n = read(report[0], &f, sizeof(f));
        close(report[0]);
        if (n == (ssize_t)sizeof(f) && f.step == 0)
            snprintf(err, errsize,
                     "ptrace is refused here (%s): a container or a security policy forbids "
                     "tracing (it needs ptrace, e.g. CAP_SYS_PTRACE or kernel.yama.ptrace_scope "
                     "0/1)", strerrordesc_np(f.err) ? strerrordesc_np(f.err) : "?");
        else if (n == (ssize_t)sizeof(f))
            snprintf(err, errsize, "cannot execute %s: %s", path,
                     strerrordesc_np(f.err) ? strerrordesc_np(f.err) : "?");
        else
            snprintf(err, errsize, "the program ended before its exec");
        if (!t->exited)
            fl_trace_kill(t);
        return -1;
    }
    close(report[0]);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    t->mask_saved = sigprocmask(SIG_BLOCK, &chld, &t->saved_mask) == 0;
    /* execve's exit stop: the program is about to run its first instruction. */
    if (resume(t, 0) || wait_stop(t)) {
        snprintf(err, errsize, "the program ended at its exec");
        return -1;
    }
    open_mem(t);
    struct fl_thread *leader = add_thread(t, t->pid);
    if (!leader) {
        snprintf(err, errsize, "out of memory");
        fl_trace_kill(t);
        return -1;
    }
    leader->announced = leader->started = 1;
    leader->task = 0;
    return 0;
}

int fl_trace_read(const struct fl_tracee *t, uint64_t addr, void *buf, size_t len)
{
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    if (process_vm_readv(t->pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
        return 0;
    /* process_vm_readv may be refused where /proc/PID/mem is not. */
    if (t->mem_fd >= 0 && pread(t->mem_fd, buf, len, (off_t)addr) == (ssize_t)len)
        return 0;
    return -1;
}

/* A NUL-terminated string of the program's, read a byte range at a time so
 * that no read crosses into a page that is not mapped. */
static void read_string(const struct fl_tracee *t, uint64_t addr, char *buf, size_t size)
{
    size_t got = 0;
    buf[0] = '\0';
    while (got + 1 < size) {
        size_t chunk = 4096 - ((addr + got) & 4095);
        if (chunk > size - 1 - got)
            chunk = size - 1 - got;
        if (fl_trace_read(t, addr + got, buf + got, chunk))
            break;
        void *nul = memchr(buf + got, '\0', chunk);
        if (nul)
            return;
        got += chunk;
    }
    buf[got] = '\0';
}

static void read_args(struct fl_tracee *t, pid_t tid, struct fl_call *c)
{
    struct user_regs_struct r;
    memset(c, 0, sizeof(*c));
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r))
        return;
    c->nr = (long)r.orig_rax;
    uint64_t a[6] = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
    memcpy(c->arg, a, sizeof(a));
    enum fl_kind kind = fl_classify(c);
    if (kind == FL_OPEN || kind == FL_EXEC) {
        int at = c->nr == SYS_execveat ? 1 : kind == FL_OPEN ? fl_path_arg(c->nr) : 0;
        read_string(t, c->arg[at], c->path, sizeof(c->path));
    }
    uint64_t word;
    if (c->nr == SYS_openat2 && !fl_trace_read(t, c->arg[2], &word, sizeof(word)))
        c->mem_flags = word; /* struct open_how: flags first */
    if (c->nr == SYS_clone3 && !fl_trace_read(t, c->arg[0], &word, sizeof(word)))
        c->mem_flags = word; /* struct clone_args: flags first */
}

static void fd_target(const struct fl_tracee *t, int fd, char *buf, size_t size)
{
    fl_trace_fd_path(t, fd, buf, size);
}

/* The call's result, at its exit stop. */
static int read_result(struct fl_tracee *t, pid_t tid, struct fl_call *c)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r))
        return -1;
    c->ret = (int64_t)r.rax;
    enum fl_kind kind = fl_classify(c);
    int in_memory = fl_new_fds_in_memory(c->nr);
    if (c->ret >= 0 && !in_memory && (kind == FL_OPEN || kind == FL_DUP || kind == FL_NEW_FD))
        fd_target(t, (int)c->ret, c->target, sizeof(c->target));
    if (in_memory && c->ret == 0) {
        uint64_t where = c->nr == SYS_socketpair ? c->arg[3] : c->arg[0];
        if (fl_trace_read(t, where, c->new_fds, sizeof(c->new_fds)))
            c->new_fds[0] = c->new_fds[1] = -1;
    }
    return 0;
}

/* ---- threads ---- */

static struct fl_thread *find_thread(struct fl_tracee *t, pid_t tid)
{
    for (int i = 0; i < t->nthreads; i++)
        if (t->threads[i].tid == tid)
            return &t->threads[i];
    return NULL;
}

struct fl_thread *fl_trace_thread(struct fl_tracee *t, pid_t tid) { return find_thread(t, tid); }

static struct fl_thread *add_thread(struct fl_tracee *t, pid_t tid)
{
    struct fl_thread *th = find_thread(t, tid);
    if (th)
        return th;
    struct fl_thread *grown = realloc(t->threads, (size_t)(t->nthreads + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    t->threads = grown;
    th = &t->threads[t->nthreads++];
    memset(th, 0, sizeof(*th));
    th->tid = tid;
    th->task = -1;
    th->reserved_fd = -1;
    return th;
}

static void remove_thread(struct fl_tracee *t, pid_t tid)
{
    struct fl_thread *th = find_thread(t, tid);
    if (th)
        *th = t->threads[--t->nthreads];
}

int fl_trace_resume(struct fl_tracee *t, pid_t tid)
{
    struct fl_thread *th = find_thread(t, tid);
    int sig = th ? th->signal : 0;
    if (th)
        th->signal = 0;
    return ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig) && errno != ESRCH ? -1 : 0;
}

/* Whether a syscall stop is an entry: PTRACE_GET_SYSCALL_INFO (Linux 5.3),
 * else the guess (entries and exits alternate). */
static int syscall_stop_is_entry(pid_t tid, int guess)
{
    struct __ptrace_syscall_info info;
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), &info);
    if (n <= 0)
        return guess;
    return info.op == PTRACE_SYSCALL_INFO_ENTRY ? 1 : info.op == PTRACE_SYSCALL_INFO_EXIT ? 0 : guess;
}

static int is_clone_event(int status)
{
    return WIFSTOPPED(status) && status >> 8 == (SIGTRAP | (PTRACE_EVENT_CLONE << 8));
}

/* A new thread runs once its parent's clone event and its own first stop are both seen. */
static int start_if_ready(struct fl_tracee *t, struct fl_thread *th)
{
    return th->announced && th->started ? fl_trace_resume(t, th->tid) : 0;
}

/* An exec made by a thread that is not the leader: it takes the leader's
 * number, and every other thread is gone. */
static void exec_took_over(struct fl_tracee *t, pid_t leader)
{
    unsigned long former = 0;
    if (ptrace(PTRACE_GETEVENTMSG, leader, NULL, &former) || (pid_t)former == leader)
        return;
    struct fl_thread *from = find_thread(t, (pid_t)former), *to = find_thread(t, leader);
    if (from && to) {
        struct fl_thread moved = *from;
        moved.tid = leader;
        *to = moved;
        remove_thread(t, (pid_t)former);
    }
}

/* A stop that is no event for the follower: a new thread's first stop, a
 * signal to pass on, another ptrace stop. 1 when it resumed the thread. */
static int quiet_stop(struct fl_tracee *t, struct fl_thread *th, int status)
{
    if (!th->started) { /* a new thread's first stop: its SIGSTOP is not delivered */
        th->started = 1;
        return start_if_ready(t, th) ? -1 : 1;
    }
    th->signal = pending_signal(status);
    return fl_trace_resume(t, th->tid) ? -1 : 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until a SIGCHLD comes (a thread has something to report) or the
 * deadline passes: 1 at the deadline, else 0. */
static int await_child(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 1;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
    return sigtimedwait(&chld, NULL, &ts) < 0 && errno == EAGAIN;
}

int fl_trace_wait(struct fl_tracee *t, struct fl_event *ev) { return fl_trace_wait_for(t, ev, -1); }

int fl_trace_wait_for(struct fl_tracee *t, struct fl_event *ev, int timeout_ms)
{
    memset(ev, 0, sizeof(*ev));
    /* Without SIGCHLD blocked, sigtimedwait could miss it: no time limit then. */
    int timed = timeout_ms >= 0 && t->mask_saved;
    int64_t deadline = timed ? now_ms() + timeout_ms : 0;
    for (;;) {
        int status;
        pid_t tid = waitpid(-1, &status, __WALL | (timed ? WNOHANG : 0));
        if (tid == 0) {
            if (await_child(deadline))
                return 1;
            continue;
        }
        if (tid < 0)
            return -1;
        struct fl_thread *th = find_thread(t, tid);
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            ev->tid = tid;
            ev->task = th ? th->task : -1;
            ev->reserved_fd = th ? th->reserved_fd : -1;
            remove_thread(t, tid);
            if (tid == t->pid) {
                t->status = status;
                t->exited = 1;
                ev->kind = FL_EV_END;
                return 0;
            }
            if (th) {
                ev->kind = FL_EV_THREAD_GONE;
                return 0;
            }
            continue;
        }
        if (!th && !(th = add_thread(t, tid))) /* a new thread's stop before its clone event */
            return -1;
        ev->tid = tid;
        ev->thread = th;
        if (is_clone_event(status)) {
            unsigned long child = 0;
            struct fl_thread *c = ptrace(PTRACE_GETEVENTMSG, tid, NULL, &child) ? NULL
                                                                                 : add_thread(t, (pid_t)child);
            th = find_thread(t, tid); /* add_thread may have moved it */
            if (!c || !th)
                return -1;
            c->announced = 1;
            c->task = -1;
            ev->kind = FL_EV_NEW_THREAD;
            ev->new_tid = c->tid;
            ev->thread = th;
            return start_if_ready(t, c) ? -1 : 0;
        }
        if (is_exec_event(status)) {
            exec_took_over(t, t->pid);
            th = find_thread(t, t->pid);
            if (!th)
                return -1;
            th->exec_happened = 1;
            open_mem(t);
            if (fl_trace_resume(t, t->pid)) /* on to execve's exit stop */
                return -1;
            continue;
        }
        if (!is_syscall_stop(status)) {
            if (quiet_stop(t, th, status) < 0)
                return -1;
            continue;
        }
        /* Entry or exit, as the kernel says (a new thread's first stop can
         * be its clone's exit, which toggling would take for an entry). */
        int entry = syscall_stop_is_entry(tid, !th->in_syscall);
        if (!entry && !th->in_syscall) { /* an exit without its entry: the new thread's clone */
            if (fl_trace_resume(t, tid))
                return -1;
            continue;
        }
        th->in_syscall = entry;
        if (entry) {
            read_args(t, tid, &th->call);
            ev->kind = FL_EV_ENTRY;
            return 0;
        }
        ev->kind = FL_EV_EXIT;
        ev->exec = th->exec_happened;
        th->exec_happened = 0;
        if (read_result(t, tid, &th->call))
            return -1;
        return 0;
    }
}

int fl_trace_pagemap(const struct fl_tracee *t, uint64_t start, size_t npages, uint64_t *entries)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)t->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t bytes = npages * sizeof(*entries);
    ssize_t n = pread(fd, entries, bytes, (off_t)((start / 4096) * sizeof(*entries)));
    close(fd);
    return n == (ssize_t)bytes ? 0 : -1;
}

static char *slurp(const char *path, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    for (ssize_t n = 1; buf && n > 0;) {
        if (len + 4096 + 1 > cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n > 0)
            len += (size_t)n;
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

char *fl_trace_maps(const struct fl_tracee *t)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
    return slurp(path, NULL);
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int fl_trace_fds(const struct fl_tracee *t, int *fds, int max)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)t->pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < max;)
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
            fds[n++] = atoi(e->d_name);
    closedir(d);
    qsort(fds, (size_t)n, sizeof(*fds), compare_ints);
    return n;
}

void fl_trace_fd_path(const struct fl_tracee *t, int fd, char *buf, size_t size)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)t->pid, fd);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n < 0 ? 0 : n] = '\0';
    static const char deleted[] = " (deleted)";
    size_t len = strlen(buf), dl = sizeof(deleted) - 1;
    /* Only a path vmsim can open again: not pipe:[..], socket:[..],
     * anon_inode:[..], nor a file removed since (memfd_create's among them). */
    if (buf[0] != '/' || (len >= dl && strcmp(buf + len - dl, deleted) == 0))
        buf[0] = '\0';
}

void fl_trace_exe(const struct fl_tracee *t, char *buf, size_t size)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)t->pid);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n < 0 ? 0 : n] = '\0';
}

/* A NUL-separated list (/proc/PID/cmdline, environ) as a NULL-terminated array. */
static char **split_nul(const char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\0';
    if (len && buf[len - 1] != '\0')
        n++;
    char **v = calloc(n + 1, sizeof(*v));
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len && k < n; k++) {
        size_t l = strnlen(buf + i, len - i);
        v[k] = strndup(buf + i, l);
        if (!v[k]) {
            fl_free_strings(v);
            return NULL;
        }
        i += l + 1;
    }
    return v;
}

int fl_trace_exec_args(const struct fl_tracee *t, char ***argv, char ***envp)
{
    char path[64];
    size_t alen = 0, elen = 0;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)t->pid);
    char *a = slurp(path, &alen);
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)t->pid);
    char *e = slurp(path, &elen);
    *argv = a ? split_nul(a, alen) : NULL;
    *envp = e ? split_nul(e, elen) : NULL;
    free(a);
    free(e);
    if (*argv && *envp)
        return 0;
    fl_free_strings(*argv);
    fl_free_strings(*envp);
    *argv = *envp = NULL;
    return -1;
}

void fl_free_strings(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int fl_trace_sleeping(const struct fl_tracee *t, pid_t tid, unsigned long long *switches)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)t->pid, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the name, in parentheses, may hold anything */
    char state = paren && paren[1] == ' ' ? paren[2] : '?';
    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)t->pid, (int)tid);
    char *status = slurp(path, NULL);
    *switches = 0;
    for (const char *p = status; p && (p = strstr(p, "ctxt_switches:")) != NULL; p++)
        *switches += strtoull(p + strlen("ctxt_switches:"), NULL, 10);
    free(status);
    return state == 'S' || state == 'D';
}

void fl_trace_kill(struct fl_tracee *t)
{
    if (t->mem_fd >= 0)
        close(t->mem_fd);
    t->mem_fd = -1;
    free(t->threads);
    t->threads = NULL;
    t->nthreads = 0;
    if (t->pid > 0 && !t->exited) {
        kill(t->pid, SIGKILL);
        /* Every traced thread is reaped (__WALL) before the leader's end is reported. */
        for (int status;;) {
            pid_t who = waitpid(-1, &status, __WALL);
            if (who < 0 || (who == t->pid && (WIFEXITED(status) || WIFSIGNALED(status))))
                break;
        }
        t->exited = 1;
    }
    if (t->mask_saved)
        sigprocmask(SIG_SETMASK, &t->saved_mask, NULL);
    t->mask_saved = 0;
}
