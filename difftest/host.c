/*
 * host.c - the host side of the differential test: a child process of the
 * real kernel that runs one operation at a time, sent over a pipe, and sends
 * back what happened (return value or errno, the signal an access raised,
 * bytes loaded, the mincore vector, and its own fault counts for the step).
 *
 * The fault counts must be the operation's alone, so the child does nothing
 * between its two getrusage calls but the operation: every call is a raw
 * system call (no library wrapper, no sanitizer interceptor), loads and
 * stores are one `rep movsb` in a routine of its own, and everything the
 * child touches around the operation (its stack, its buffers, its code) is
 * made present before the first step. This file is built without sanitizer
 * instrumentation, since a sanitizer's shadow checks of window addresses
 * would fault too.
 *
 * A fault in the copy routine does not kill the child: the SIGSEGV/SIGBUS
 * handler moves the instruction pointer to the routine's exit and hands the
 * signal number, si_code and si_addr back as its return value (no global
 * state, no longjmp). Bytes before the faulting page are copied, as a CPU's
 * string copy does, which is also what vmsim's accesses do.
 *
 * Each host process talks to the tester over a socket of its own (fd 1000).
 * `fork` sends the process a new socket with the command; after the fork
 * the new process keeps that one and serves the operations sent to it.
 * Fork leaves every private page shared copy-on-write, the harness's own
 * too, so both processes write each harness page once (stack, buffers,
 * errno, the thread block the kernel writes rseq data into) before they
 * answer: a later step then counts only its own faults. The fork step's
 * own count in the parent cannot be measured cleanly (the harness writes
 * its stack as the call returns), so the runner does not compare it.
 */
#include "difftest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define CHAN_FD 1000     /* a host process's end of its socket */
#define NEW_CHAN_FD 1001 /* the socket a forking process hands its child */
#define STACK_TOUCH (256 * 1024)

struct host_proc {
    int sock; /* the tester's end; -1 once the process has exited */
    pid_t pid;
};

struct dt_host {
    pid_t pid0; /* process 0, the tester's own child */
    int nprocs; /* processes made so far */
    struct host_proc p[DT_MAX_PROCS];
};

/* ---- the copy routine and its fault exit ---- */

struct copy_outcome {
    uint64_t fault; /* 0, or signo | si_code << 8 */
    uint64_t addr;  /* si_addr */
};

struct copy_outcome dt_user_copy(void *dst, const void *src, size_t n);
extern const char dt_user_copy_fault[], dt_user_copy_end[];

__asm__(".text\n"
        ".p2align 4\n"
        ".globl dt_user_copy\n"
        ".hidden dt_user_copy\n"
        ".type dt_user_copy, @function\n"
        "dt_user_copy:\n"
        "  mov %rdx, %rcx\n"
        "  rep movsb\n"
        "  xor %eax, %eax\n"
        "  xor %edx, %edx\n"
        "  ret\n"
        ".globl dt_user_copy_fault\n"
        ".hidden dt_user_copy_fault\n"
        "dt_user_copy_fault:\n"
        "  ret\n"
        ".globl dt_user_copy_end\n"
        ".hidden dt_user_copy_end\n"
        "dt_user_copy_end:\n"
        ".size dt_user_copy, .-dt_user_copy\n");

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t rip = uc->uc_mcontext.gregs[REG_RIP];
    if (rip < (greg_t)(uintptr_t)dt_user_copy || rip >= (greg_t)(uintptr_t)dt_user_copy_end) {
        /* A fault of the harness itself: die of it, so the parent sees. */
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(sig, &dfl, NULL);
        return;
    }
    uc->uc_mcontext.gregs[REG_RAX] = (greg_t)((unsigned)sig | ((unsigned)si->si_code << 8));
    uc->uc_mcontext.gregs[REG_RDX] = (greg_t)(uintptr_t)si->si_addr;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)dt_user_copy_fault;
}

/* ---- the child ---- */

/* Everything the child reads or writes while it measures, in memory of its
 * own (not shared copy-on-write with the parent), written once beforehand. */
struct child_bufs {
    struct dt_op op;
    struct dt_result res;
    uint8_t pattern[DT_MAX_LOAD];
    struct rusage ru0, ru1;
    struct stat st;
};

static int64_t sys_ret(long rc) { return rc < 0 ? -(int64_t)errno : (int64_t)rc; }

static int io_full(long nr, int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        long n = syscall(nr, fd, (char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static uint64_t vec_len(uint64_t len)
{
    uint64_t pages = len / DT_PAGE + (len % DT_PAGE != 0);
    return pages < DT_MAX_VEC ? pages : DT_MAX_VEC;
}

/* Sentinels, so that partial results compare too. */
static void prepare(struct child_bufs *b)
{
    const struct dt_op *op = &b->op;
    struct dt_result *r = &b->res;
    r->ret = 0;
    r->ret_outside = r->signo = r->code = r->sig_outside = 0;
    r->sig_addr = 0;
    r->ndata = 0;
    if (op->kind == DT_LOAD || op->kind == DT_STORE) {
        for (int i = 0; i < DT_MAX_LOAD; i++) {
            r->data[i] = 0xcc;
            b->pattern[i] = (uint8_t)(op->pattern + i);
        }
        if (op->kind == DT_LOAD)
            r->ndata = (uint32_t)op->len;
    } else if (op->kind == DT_MINCORE && !(op->flags & DT_VEC_NULL)) {
        r->ndata = (uint32_t)vec_len(op->len);
        for (uint32_t i = 0; i < r->ndata; i++)
            r->data[i] = 0xee;
    }
}

static void access_result(struct dt_result *r, struct copy_outcome c)
{
    r->signo = (int)(c.fault & 0xff);
    r->code = (int)(c.fault >> 8);
    r->sig_addr = c.fault ? c.addr : 0;
}

__attribute__((noreturn)) static void become_forked_child(struct child_bufs *b, uint64_t window);


/* sync(2) would write back every file of the machine, so one tester's sync
 * would clean the dirty pages of every other run beside it (and cost those
 * hosts a write-notify fault vmsim cannot know of). The machine's sync
 * writes back the files it knows, which are all in the scratch folder:
 * fsync each of them instead. */
static void sync_test_files(void)
{
    for (int i = 0; i < DT_NNAMES; i++) {
        if (i == DT_NAME_DIR)
            continue;
        long fd = syscall(SYS_openat, AT_FDCWD, dt_file_names[i], O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
            continue;
        syscall(SYS_fsync, fd);
        syscall(SYS_close, fd);
    }
}

static int64_t run_syscall(struct child_bufs *b, uint64_t va, uint64_t window)
{
    const struct dt_op *op = &b->op;
    switch (op->kind) {
    case DT_FORK: {
        long pid = syscall(SYS_fork); /* raw: none of the library's fork handlers run */
        if (pid == 0)
            become_forked_child(b, window);
        return pid < 0 ? -(int64_t)errno : 0;
    }
    case DT_EXIT: syscall(SYS_exit_group, 0); return -EINVAL;
    case DT_MMAP:
        return sys_ret(syscall(SYS_mmap, va, op->len, op->prot, op->flags, op->fd, op->off));
    case DT_MUNMAP: return sys_ret(syscall(SYS_munmap, va, op->len));
    case DT_MPROTECT: return sys_ret(syscall(SYS_mprotect, va, op->len, op->prot));
    case DT_MSYNC: return sys_ret(syscall(SYS_msync, va, op->len, op->flags));
    case DT_MINCORE:
        return sys_ret(syscall(SYS_mincore, va, op->len,
                               (op->flags & DT_VEC_NULL) ? NULL : b->res.data));
    case DT_OPEN:
        return sys_ret(syscall(SYS_openat, AT_FDCWD, dt_file_names[op->name], op->flags, 0644));
    case DT_CLOSE: return sys_ret(syscall(SYS_close, op->fd));
    case DT_READ: return sys_ret(syscall(SYS_read, op->fd, va, op->len));
    case DT_WRITE: return sys_ret(syscall(SYS_write, op->fd, va, op->len));
    case DT_PREAD: return sys_ret(syscall(SYS_pread64, op->fd, va, op->len, op->off));
    case DT_PWRITE: return sys_ret(syscall(SYS_pwrite64, op->fd, va, op->len, op->off));
    case DT_LSEEK: return sys_ret(syscall(SYS_lseek, op->fd, op->off, op->flags));
    case DT_FTRUNCATE: return sys_ret(syscall(SYS_ftruncate, op->fd, op->off));
    case DT_FSYNC: return sys_ret(syscall(SYS_fsync, op->fd));
    case DT_FSTAT: return sys_ret(syscall(SYS_fstat, op->fd, &b->st));
    case DT_SYNC: sync_test_files(); return 0;
    case DT_MREMAP:
        return sys_ret(syscall(SYS_mremap, va, op->len, op->len2, op->flags,
                               op->abs2 ? op->addr2 : window + op->addr2));
    case DT_MADVISE: return sys_ret(syscall(SYS_madvise, va, op->len, op->flags));
    default: return -EINVAL;
    }
}

/* The operation alone, between two getrusage calls. */
static int moves_hugetlb(const struct dt_op *op, uint64_t va);

static void run_op(struct child_bufs *b, uint64_t window)
{
    const struct dt_op *op = &b->op;
    struct dt_result *r = &b->res;
    uint64_t va = op->abs ? op->addr : window + op->addr;
    prepare(b);
    if (moves_hugetlb(op, va)) {
        r->ret = -EDEADLK; /* refused, never run: see moves_hugetlb */
        return;
    }
    syscall(SYS_getrusage, RUSAGE_SELF, &b->ru0);
    if (op->kind == DT_LOAD)
        access_result(r, dt_user_copy(r->data, (const void *)(uintptr_t)va, op->len));
    else if (op->kind == DT_STORE)
        access_result(r, dt_user_copy((void *)(uintptr_t)va, b->pattern, op->len));
    else
        r->ret = run_syscall(b, va, window);
    syscall(SYS_getrusage, RUSAGE_SELF, &b->ru1);
    r->minflt = (uint64_t)(b->ru1.ru_minflt - b->ru0.ru_minflt);
    r->majflt = (uint64_t)(b->ru1.ru_majflt - b->ru0.ru_majflt);
    if (op->kind == DT_FSTAT && r->ret == 0) {
        uint64_t size = (uint64_t)b->st.st_size;
        uint32_t type = b->st.st_mode & S_IFMT;
        memcpy(r->data, &size, 8);
        memcpy(r->data + 8, &type, 4);
        r->ndata = 12;
    }
}

/* The whole text of a file (malloc'ed), or NULL. */
static char *read_text(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    for (ssize_t n; text && (n = read(fd, text + len, cap - len - 1)) > 0;) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *grown = realloc(text, cap *= 2);
            if (!grown) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
        }
    }
    close(fd);
    if (text)
        text[len] = '\0';
    return text;
}

/* Would this mremap move a hugetlb VMA (MREMAP_FIXED or MREMAP_DONTUNMAP
 * with an old range that meets one)? Linux 6.18 looped in the kernel on
 * such a move (the process hung until killed). The generator never asks for
 * one; a scenario that does is refused here, before the step's counts. */
static int moves_hugetlb(const struct dt_op *op, uint64_t va)
{
    if (op->kind != DT_MREMAP || !(op->flags & (2 | 4)))
        return 0;
    uint64_t end = va + (op->len ? op->len : 1);
    if (end < va)
        end = UINT64_MAX;
    char *text = read_text("/proc/self/maps");
    int found = !text; /* unreadable: refuse rather than risk it */
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned long start, stop;
        found = sscanf(line, "%lx-%lx", &start, &stop) == 2 && stop > va && start < end &&
                strstr(line, "/anon_hugepage") != NULL;
    }
    free(text);
    return found;
}

/* Map the code and read-only data of every file the child runs from, so
 * that executing a function for the first time costs no fault in a step.
 * Mappings in the window are the test's (a forked process inherits them),
 * and stay as they are. */
static void populate_code(uint64_t window)
{
    char *text = read_text("/proc/self/maps");
    if (!text)
        return;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long start, end;
        char perms[5];
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %*u %n", &start, &end, perms, &name_at) < 3)
            continue;
        int in_window = end > window - DT_GUARD && start < window + DT_WINDOW_SIZE + DT_GUARD;
        if (!in_window && perms[0] == 'r' && perms[1] != 'w' && name_at && line[name_at] == '/')
            madvise((void *)start, end - start, MADV_POPULATE_READ);
    }
    free(text);
}

static void touch_stack(void)
{
    volatile char area[STACK_TOUCH];
    for (size_t i = 0; i < sizeof(area); i += 512)
        area[i] = 0;
}

static void child_fds(int chan)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            _exit(3);
    if (dup2(chan, CHAN_FD) < 0)
        _exit(3);
    /* Descriptors 3.. are free, so the first open returns 3, as in vmsim. */
    syscall(SYS_close_range, 3, CHAN_FD - 1, 0);
    syscall(SYS_close_range, CHAN_FD + 1, ~0U, 0);
}

static void install_handlers(void)
{
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    /* Exited host processes are reaped by the kernel, not left as zombies. */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGCHLD, &ign, NULL);
}

/* One pass over the paths a step takes, so that none of them faults later. */
static void warm_up(struct child_bufs *b, uint64_t window)
{
    static const struct dt_op warm[] = {
        {.kind = DT_LOAD, .abs = 1, .addr = 0x10, .len = 8},
        {.kind = DT_STORE, .abs = 1, .addr = 0x10, .len = 8},
        {.kind = DT_CLOSE, .fd = 99},
        {.kind = DT_FSTAT, .fd = CHAN_FD},
        {.kind = DT_MINCORE, .abs = 1, .addr = 0x10000, .len = DT_PAGE},
    };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof(warm) / sizeof(warm[0]); i++) {
            b->op = warm[i];
            run_op(b, window);
        }
}

static void own_page(volatile char *p) { *p = *p; }

/* After a fork, writes each page the harness writes during a step, so that
 * the copy-on-write fault it takes happens now and not inside a step. */
static void own_pages_after_fork(struct child_bufs *b)
{
    for (size_t off = 0; off < sizeof(*b); off += DT_PAGE)
        own_page((char *)b + off);
    own_page((char *)b + sizeof(*b) - 1);
    own_page((char *)&errno);
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    own_page(tp);
    if (__rseq_size)
        own_page(tp + __rseq_offset);
    touch_stack();
}

/* Takes the socket sent with a fork command, as NEW_CHAN_FD. */
static int take_channel(void)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    if (recvmsg(CHAN_FD, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    int rc = dup2(fd, NEW_CHAN_FD) == NEW_CHAN_FD ? 0 : -1;
    close(fd);
    return rc;
}

/* Runs the operations sent on CHAN_FD until the tester closes it. */
__attribute__((noreturn)) static void serve(struct child_bufs *b, uint64_t window)
{
    for (;;) {
        if (io_full(SYS_read, CHAN_FD, &b->op, sizeof(b->op)))
            _exit(0);
        int forking = b->op.kind == DT_FORK;
        if (forking && take_channel())
            _exit(3);
        run_op(b, window);
        if (forking) {
            close(NEW_CHAN_FD);
            own_pages_after_fork(b);
        }
        if (io_full(SYS_write, CHAN_FD, &b->res, DT_RESULT_HEADER + b->res.ndata))
            _exit(3);
    }
}

/* Makes everything a step touches present and owned, says it is ready (with
 * its pid, for the maps), and serves. */
__attribute__((noreturn)) static void start_serving(struct child_bufs *b, uint64_t window)
{
    populate_code(window);
    own_pages_after_fork(b);
    errno = 0;
    warm_up(b, window);
    int32_t pid = (int32_t)getpid();
    if (io_full(SYS_write, CHAN_FD, &pid, sizeof(pid)))
        _exit(3);
    serve(b, window);
}

/* The new process of a fork step: its socket came with the command. */
static void become_forked_child(struct child_bufs *b, uint64_t window)
{
    if (dup2(NEW_CHAN_FD, CHAN_FD) != CHAN_FD)
        _exit(3);
    close(NEW_CHAN_FD);
    start_serving(b, window);
}

__attribute__((noreturn)) static void child_main(const char *dir, uint64_t window, int chan)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    if (chdir(dir))
        _exit(3);
    child_fds(chan);
    install_handlers();
    struct child_bufs *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (b == MAP_FAILED)
        _exit(3);
    memset(b, 0, sizeof(*b));
    start_serving(b, window);
}

/* ---- the parent's side ---- */

/* Why process `proc` stopped answering. */
static void describe_exit(struct dt_host *h, int proc, char *err, size_t errsize)
{
    int status = 0;
    if (proc != 0) {
        snprintf(err, errsize, "host process @%d (pid %d) stopped answering", proc, (int)h->p[proc].pid);
    } else if (h->pid0 > 0 && waitpid(h->pid0, &status, 0) == h->pid0) {
        if (WIFSIGNALED(status))
            snprintf(err, errsize, "host child killed by signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else
            snprintf(err, errsize, "host child exited with status %d", WEXITSTATUS(status));
        h->pid0 = -1;
    } else {
        snprintf(err, errsize, "host child lost");
        h->pid0 = -1;
    }
    if (h->p[proc].sock >= 0)
        close(h->p[proc].sock);
    h->p[proc].sock = -1;
}

/* A process's ready message: its pid. */
static int read_ready(int sock, pid_t *pid)
{
    int32_t v = 0;
    if (io_full(SYS_read, sock, &v, sizeof(v)) || v <= 0)
        return -1;
    *pid = (pid_t)v;
    return 0;
}

struct dt_host *host_start(const char *dir, uint64_t window, char *err, size_t errsize)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return snprintf(err, errsize, "socketpair: %s", strerror(errno)), NULL;
    struct dt_host *h = calloc(1, sizeof(*h));
    if (!h) {
        close(sv[0]);
        close(sv[1]);
        return snprintf(err, errsize, "out of memory"), NULL;
    }
    for (int i = 0; i < DT_MAX_PROCS; i++)
        h->p[i].sock = -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_main(dir, window, sv[1]);
    close(sv[1]);
    if (pid < 0) {
        snprintf(err, errsize, "fork: %s", strerror(errno));
        close(sv[0]);
        free(h);
        return NULL;
    }
    h->pid0 = pid;
    h->nprocs = 1;
    h->p[0] = (struct host_proc){.sock = sv[0], .pid = pid};
    if (read_ready(sv[0], &h->p[0].pid)) {
        describe_exit(h, 0, err, errsize);
        host_stop(h);
        return NULL;
    }
    return h;
}

/* A result made by the tester, not by a process (no such process). */
static void result_only(struct dt_result *r, int64_t ret)
{
    memset(r, 0, DT_RESULT_HEADER);
    r->ret = ret;
}

static int send_op(int sock, const struct dt_op *op)
{
    return io_full(SYS_write, sock, (void *)(uintptr_t)op, sizeof(*op));
}

static int read_result(int sock, struct dt_result *r)
{
    return io_full(SYS_read, sock, r, DT_RESULT_HEADER) || r->ndata > DT_MAX_VEC ||
                   io_full(SYS_read, sock, r->data, r->ndata)
               ? -1
               : 0;
}

static int send_fd(int sock, int fd)
{
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(fd));
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* fork: the process gets the new process's socket with the command; the
 * result's ret becomes the new process's number. */
static int host_fork(struct dt_host *h, const struct dt_op *op, struct dt_result *r, char *err,
                     size_t errsize)
{
    if (h->nprocs == DT_MAX_PROCS) {
        result_only(r, -EAGAIN);
        return 0;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return snprintf(err, errsize, "socketpair: %s", strerror(errno)), -1;
    int sock = h->p[op->proc].sock;
    int sent = send_op(sock, op) == 0 && send_fd(sock, sv[1]) == 0;
    close(sv[1]);
    if (!sent || read_result(sock, r)) {
        close(sv[0]);
        describe_exit(h, op->proc, err, errsize);
        return -1;
    }
    if (r->ret < 0) {
        close(sv[0]);
        return 0;
    }
    int k = h->nprocs;
    h->p[k] = (struct host_proc){.sock = sv[0]};
    if (read_ready(sv[0], &h->p[k].pid)) {
        describe_exit(h, k, err, errsize);
        return -1;
    }
    h->nprocs++;
    r->ret = k;
    return 0;
}

/* exit: the process's socket reads end-of-file once it is gone, and by
 * then the kernel has released its memory (files close after the mm). */
static int host_exit(struct dt_host *h, const struct dt_op *op, struct dt_result *r, char *err,
                     size_t errsize)
{
    struct host_proc *p = &h->p[op->proc];
    char byte;
    if (send_op(p->sock, op) || read(p->sock, &byte, 1) != 0) {
        describe_exit(h, op->proc, err, errsize);
        snprintf(err + strlen(err), errsize - strlen(err), " (at exit)");
        return -1;
    }
    close(p->sock);
    p->sock = -1;
    result_only(r, 0);
    return 0;
}

int host_run(struct dt_host *h, const struct dt_op *op, struct dt_result *r, char *err, size_t errsize)
{
    if (op->proc < 0 || op->proc >= DT_MAX_PROCS || h->p[op->proc].sock < 0) {
        if (op->proc == 0)
            return snprintf(err, errsize, "host child gone"), -1;
        result_only(r, -ESRCH);
        return 0;
    }
    if (op->kind == DT_FORK)
        return host_fork(h, op, r, err, errsize);
    if (op->kind == DT_EXIT)
        return host_exit(h, op, r, err, errsize);
    int sock = h->p[op->proc].sock;
    if (send_op(sock, op) || read_result(sock, r)) {
        describe_exit(h, op->proc, err, errsize);
        return -1;
    }
    return 0;
}

char *host_maps(struct dt_host *h, int proc)
{
    if (proc < 0 || proc >= DT_MAX_PROCS || h->p[proc].sock < 0)
        return NULL;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)h->p[proc].pid);
    return read_text(path);
}

/* Every process reads end-of-file and exits; waits until each is gone. */
void host_stop(struct dt_host *h)
{
    if (!h)
        return;
    for (int i = 0; i < DT_MAX_PROCS; i++) {
        if (h->p[i].sock < 0)
            continue;
        shutdown(h->p[i].sock, SHUT_WR);
        char drain[256];
        while (read(h->p[i].sock, drain, sizeof(drain)) > 0)
            ;
        close(h->p[i].sock);
    }
    if (h->pid0 > 0)
        waitpid(h->pid0, NULL, 0);
    free(h);
}

/* Is [lo, hi) clear of every mapping listed in maps text? */
static int range_free(const char *text, uint64_t lo, uint64_t hi)
{
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start < hi && end > lo)
            return 0;
    }
    return 1;
}

uint64_t host_pick_window(void)
{
    static const uint64_t candidates[] = {
        UINT64_C(0x300000000000), UINT64_C(0x320000000000), UINT64_C(0x2c0000000000),
        UINT64_C(0x480000000000), UINT64_C(0x1c0000000000),
    };
    char *text = read_text("/proc/self/maps");
    uint64_t found = 0;
    for (size_t i = 0; text && !found && i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        uint64_t w = candidates[i];
        /* The test area (the window and a guard on each side) and a second
         * guard beyond it, which stays a hole (see the safety rules in ops.c). */
        if (range_free(text, w - 2 * DT_GUARD, w + DT_WINDOW_SIZE + 2 * DT_GUARD))
            found = w;
    }
    free(text);
    return found;
}
