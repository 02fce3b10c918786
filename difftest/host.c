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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define CMD_FD 1000 /* the child's end of the command pipe */
#define RES_FD 1001 /* the child's end of the result pipe */
#define STACK_TOUCH (256 * 1024)

struct dt_host {
    pid_t pid;
    int cmd, res; /* parent ends */
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

static int64_t run_syscall(struct child_bufs *b, uint64_t va, uint64_t window)
{
    const struct dt_op *op = &b->op;
    switch (op->kind) {
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
    case DT_SYNC: syscall(SYS_sync); return 0;
    case DT_MREMAP:
        return sys_ret(syscall(SYS_mremap, va, op->len, op->len2, op->flags,
                               op->abs2 ? op->addr2 : window + op->addr2));
    case DT_MADVISE: return sys_ret(syscall(SYS_madvise, va, op->len, op->flags));
    default: return -EINVAL;
    }
}

/* The operation alone, between two getrusage calls. */
static void run_op(struct child_bufs *b, uint64_t window)
{
    const struct dt_op *op = &b->op;
    struct dt_result *r = &b->res;
    uint64_t va = op->abs ? op->addr : window + op->addr;
    prepare(b);
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

/* Map the code and read-only data of every file the child runs from, so
 * that executing a function for the first time costs no fault in a step. */
static void populate_code(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    for (ssize_t n; text && (n = read(fd, text + len, cap - len - 1)) > 0;) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *grown = realloc(text, cap *= 2);
            if (!grown)
                break;
            text = grown;
        }
    }
    close(fd);
    if (!text)
        return;
    text[len] = '\0';
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long start, end;
        char perms[5];
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %*u %n", &start, &end, perms, &name_at) < 3)
            continue;
        if (perms[0] == 'r' && perms[1] != 'w' && name_at && line[name_at] == '/')
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

static void child_fds(int cmd, int res)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            _exit(3);
    if (dup2(cmd, CMD_FD) < 0 || dup2(res, RES_FD) < 0)
        _exit(3);
    /* Descriptors 3.. are free, so the first open returns 3, as in vmsim. */
    syscall(SYS_close_range, 3, CMD_FD - 1, 0);
    syscall(SYS_close_range, RES_FD + 1, ~0U, 0);
}

static void install_handlers(void)
{
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* One pass over the paths a step takes, so that none of them faults later. */
static void warm_up(struct child_bufs *b, uint64_t window)
{
    static const struct dt_op warm[] = {
        {.kind = DT_LOAD, .abs = 1, .addr = 0x10, .len = 8},
        {.kind = DT_STORE, .abs = 1, .addr = 0x10, .len = 8},
        {.kind = DT_CLOSE, .fd = 99},
        {.kind = DT_FSTAT, .fd = CMD_FD},
        {.kind = DT_MINCORE, .abs = 1, .addr = 0x10000, .len = DT_PAGE},
    };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof(warm) / sizeof(warm[0]); i++) {
            b->op = warm[i];
            run_op(b, window);
        }
}

__attribute__((noreturn)) static void child_main(const char *dir, uint64_t window, int cmd,
                                                 int res)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    if (chdir(dir))
        _exit(3);
    child_fds(cmd, res);
    install_handlers();
    populate_code();
    struct child_bufs *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (b == MAP_FAILED)
        _exit(3);
    memset(b, 0, sizeof(*b));
    touch_stack();
    errno = 0;
    warm_up(b, window);
    char ready = 'R';
    if (io_full(SYS_write, RES_FD, &ready, 1))
        _exit(3);
    for (;;) {
        if (io_full(SYS_read, CMD_FD, &b->op, sizeof(b->op)))
            _exit(0);
        run_op(b, window);
        if (io_full(SYS_write, RES_FD, &b->res, DT_RESULT_HEADER + b->res.ndata))
            _exit(3);
    }
}

/* ---- the parent's side ---- */

static void describe_exit(struct dt_host *h, char *err, size_t errsize)
{
    int status = 0;
    if (h->pid > 0 && waitpid(h->pid, &status, 0) == h->pid) {
        if (WIFSIGNALED(status))
            snprintf(err, errsize, "host child killed by signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else
            snprintf(err, errsize, "host child exited with status %d", WEXITSTATUS(status));
    } else {
        snprintf(err, errsize, "host child lost");
    }
    h->pid = -1;
}

struct dt_host *host_start(const char *dir, uint64_t window, char *err, size_t errsize)
{
    int cmd[2], res[2];
    if (pipe2(cmd, O_CLOEXEC))
        return snprintf(err, errsize, "pipe: %s", strerror(errno)), NULL;
    if (pipe2(res, O_CLOEXEC)) {
        close(cmd[0]);
        close(cmd[1]);
        return snprintf(err, errsize, "pipe: %s", strerror(errno)), NULL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_main(dir, window, cmd[0], res[1]);
    close(cmd[0]);
    close(res[1]);
    struct dt_host *h = calloc(1, sizeof(*h));
    if (pid < 0 || !h) {
        snprintf(err, errsize, "fork: %s", strerror(errno));
        close(cmd[1]);
        close(res[0]);
        free(h);
        return NULL;
    }
    *h = (struct dt_host){.pid = pid, .cmd = cmd[1], .res = res[0]};
    char ready = 0;
    if (io_full(SYS_read, h->res, &ready, 1) || ready != 'R') {
        describe_exit(h, err, errsize);
        host_stop(h);
        return NULL;
    }
    return h;
}

int host_run(struct dt_host *h, const struct dt_op *op, struct dt_result *r, char *err, size_t errsize)
{
    if (h->pid < 0)
        return snprintf(err, errsize, "host child gone"), -1;
    if (io_full(SYS_write, h->cmd, (void *)(uintptr_t)op, sizeof(*op)) ||
        io_full(SYS_read, h->res, r, DT_RESULT_HEADER) || r->ndata > DT_MAX_VEC ||
        io_full(SYS_read, h->res, r->data, r->ndata)) {
        describe_exit(h, err, errsize);
        return -1;
    }
    return 0;
}

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

char *host_maps(struct dt_host *h)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)h->pid);
    return h->pid > 0 ? read_text(path) : NULL;
}

void host_stop(struct dt_host *h)
{
    if (!h)
        return;
    close(h->cmd);
    close(h->res);
    if (h->pid > 0)
        waitpid(h->pid, NULL, 0);
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
        if (range_free(text, w - DT_GUARD, w + DT_WINDOW_SIZE + DT_GUARD))
            found = w;
    }
    free(text);
    return found;
}
