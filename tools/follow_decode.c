/*
 * follow_decode.c - the system calls of x86-64 Linux as `vmsim follow` sees
 * them: which ones it repeats on vmsim, how a call prints in the table
 * (strace-like, with the flag names of <sys/mman.h> less their prefixes) and
 * how it reads as a scenario line (the names and argument order of the
 * tester's line format, addresses absolute).
 *
 * Pure functions of the registers and of what the tracer read from memory:
 * the unit tests (tests/test_follow.c) drive them without a program.
 */
#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#ifndef SYS_map_shadow_stack
#define SYS_map_shadow_stack 453
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef CLONE_VM
#define CLONE_VM 0x100
#endif
#ifndef CLONE_THREAD
#define CLONE_THREAD 0x10000
#endif
#define PR_SET_VMA_CMD 0x53564d41 /* prctl(PR_SET_VMA): names anonymous memory */
#define SYS_PRCTL_NR 157

struct named { long value; const char *name; };

static const struct named syscall_names[] = {
    {SYS_mmap, "mmap"}, {SYS_munmap, "munmap"}, {SYS_mprotect, "mprotect"}, {SYS_brk, "brk"},
    {SYS_mremap, "mremap"}, {SYS_madvise, "madvise"}, {SYS_msync, "msync"},
    {SYS_mincore, "mincore"}, {SYS_open, "open"}, {SYS_openat, "openat"},
    {SYS_openat2, "openat2"}, {SYS_creat, "creat"}, {SYS_close, "close"},
    {SYS_close_range, "close_range"}, {SYS_dup, "dup"}, {SYS_dup2, "dup2"}, {SYS_dup3, "dup3"},
    {SYS_fcntl, "fcntl"}, {SYS_pipe, "pipe"}, {SYS_pipe2, "pipe2"}, {SYS_socket, "socket"},
    {SYS_socketpair, "socketpair"}, {SYS_accept, "accept"}, {SYS_accept4, "accept4"},
    {SYS_eventfd, "eventfd"}, {SYS_eventfd2, "eventfd2"}, {SYS_epoll_create, "epoll_create"},
    {SYS_epoll_create1, "epoll_create1"}, {SYS_inotify_init, "inotify_init"},
    {SYS_inotify_init1, "inotify_init1"}, {SYS_memfd_create, "memfd_create"},
    {SYS_signalfd, "signalfd"}, {SYS_signalfd4, "signalfd4"},
    {SYS_timerfd_create, "timerfd_create"}, {SYS_pidfd_open, "pidfd_open"},
    {SYS_userfaultfd, "userfaultfd"}, {SYS_perf_event_open, "perf_event_open"},
    {SYS_io_uring_setup, "io_uring_setup"}, {SYS_fanotify_init, "fanotify_init"},
    {SYS_open_by_handle_at, "open_by_handle_at"}, {SYS_execve, "execve"},
    {SYS_execveat, "execveat"}, {SYS_clone, "clone"}, {SYS_clone3, "clone3"},
    {SYS_fork, "fork"}, {SYS_vfork, "vfork"}, {SYS_exit, "exit"},
    {SYS_exit_group, "exit_group"}, {SYS_mlock, "mlock"}, {SYS_munlock, "munlock"},
    {SYS_mlock2, "mlock2"}, {SYS_mlockall, "mlockall"}, {SYS_munlockall, "munlockall"},
    {SYS_remap_file_pages, "remap_file_pages"}, {SYS_shmat, "shmat"}, {SYS_shmdt, "shmdt"},
    {SYS_pkey_mprotect, "pkey_mprotect"}, {SYS_mseal, "mseal"},
    {SYS_map_shadow_stack, "map_shadow_stack"}, {SYS_process_madvise, "process_madvise"},
    {SYS_PRCTL_NR, "prctl"}, {0, NULL},
};

const char *fl_syscall_name(long nr)
{
    for (const struct named *n = syscall_names; n->name; n++)
        if (n->value == nr)
            return n->name;
    return NULL;
}

static int one_of(long nr, const long *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == nr)
            return 1;
    return 0;
}

#define ONE_OF(nr, ...) one_of((nr), (const long[]){__VA_ARGS__}, \
                               sizeof((const long[]){__VA_ARGS__}) / sizeof(long))

enum fl_kind fl_classify(const struct fl_call *c)
{
    long nr = c->nr;
    if (ONE_OF(nr, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk, SYS_mremap, SYS_madvise,
               SYS_msync, SYS_mincore))
        return FL_MM;
    if (ONE_OF(nr, SYS_mlock, SYS_munlock, SYS_mlock2, SYS_mlockall, SYS_munlockall,
               SYS_remap_file_pages, SYS_shmat, SYS_shmdt, SYS_pkey_mprotect, SYS_mseal,
               SYS_map_shadow_stack, SYS_process_madvise))
        return FL_MM_UNMODELLED;
    if (nr == SYS_PRCTL_NR && c->arg[0] == PR_SET_VMA_CMD)
        return FL_MM_UNMODELLED;
    if (ONE_OF(nr, SYS_open, SYS_openat, SYS_openat2, SYS_creat))
        return FL_OPEN;
    if (nr == SYS_close)
        return FL_CLOSE;
    if (nr == SYS_close_range)
        return FL_CLOSE_RANGE;
    if (ONE_OF(nr, SYS_dup, SYS_dup2, SYS_dup3))
        return FL_DUP;
    if (nr == SYS_fcntl && (c->arg[1] == F_DUPFD || c->arg[1] == F_DUPFD_CLOEXEC))
        return FL_DUP;
    if (ONE_OF(nr, SYS_pipe, SYS_pipe2, SYS_socket, SYS_socketpair, SYS_accept, SYS_accept4,
               SYS_eventfd, SYS_eventfd2, SYS_epoll_create, SYS_epoll_create1,
               SYS_inotify_init, SYS_inotify_init1, SYS_memfd_create, SYS_signalfd,
               SYS_signalfd4, SYS_timerfd_create, SYS_pidfd_open, SYS_userfaultfd,
               SYS_perf_event_open, SYS_io_uring_setup, SYS_fanotify_init,
               SYS_open_by_handle_at))
        return FL_NEW_FD;
    if (ONE_OF(nr, SYS_execve, SYS_execveat))
        return FL_EXEC;
    if (ONE_OF(nr, SYS_clone, SYS_clone3, SYS_fork, SYS_vfork))
        return FL_CLONE;
    if (ONE_OF(nr, SYS_exit, SYS_exit_group))
        return FL_EXIT;
    return FL_OTHER;
}

int fl_path_arg(long nr) { return nr == SYS_openat || nr == SYS_openat2 ? 1 : 0; }

int fl_open_flags(const struct fl_call *c)
{
    switch (c->nr) {
    case SYS_open: return (int)c->arg[1];
    case SYS_openat: return (int)c->arg[2];
    case SYS_openat2: return (int)c->mem_flags;
    case SYS_creat: return O_CREAT | O_WRONLY | O_TRUNC;
    default: return 0;
    }
}

int fl_dup_source(const struct fl_call *c) { return (int)c->arg[0]; }

int fl_new_fds_in_memory(long nr)
{
    return nr == SYS_pipe || nr == SYS_pipe2 || nr == SYS_socketpair ? 2 : 0;
}

static uint64_t clone_flags(const struct fl_call *c)
{
    switch (c->nr) {
    case SYS_clone: return c->arg[0];
    case SYS_clone3: return c->mem_flags;
    case SYS_vfork: return CLONE_VM;
    default: return 0;
    }
}

int fl_clone_shares_vm(const struct fl_call *c) { return (clone_flags(c) & CLONE_VM) != 0; }
int fl_clone_is_thread(const struct fl_call *c) { return (clone_flags(c) & CLONE_THREAD) != 0; }

/* ---- text ---- */

struct out {
    char *buf;
    size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    if (o->len >= o->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

static const struct named prot_names[] = {
    {PROT_READ, "READ"}, {PROT_WRITE, "WRITE"}, {PROT_EXEC, "EXEC"}, {0x8, "SEM"},
    {PROT_GROWSDOWN, "GROWSDOWN"}, {PROT_GROWSUP, "GROWSUP"}, {0, NULL},
};
static const struct named map_types[] = {
    {0x01, "SHARED"}, {0x02, "PRIVATE"}, {0x03, "SHARED_VALIDATE"}, {0x08, "DROPPABLE"}, {0, NULL},
};
static const struct named map_flags[] = {
    {0x10, "FIXED"}, {0x20, "ANONYMOUS"}, {0x40, "32BIT"}, {0x100, "GROWSDOWN"},
    {0x800, "DENYWRITE"}, {0x1000, "EXECUTABLE"}, {0x2000, "LOCKED"}, {0x4000, "NORESERVE"},
    {0x8000, "POPULATE"}, {0x10000, "NONBLOCK"}, {0x20000, "STACK"}, {0x40000, "HUGETLB"},
    {0x80000, "SYNC"}, {0x100000, "FIXED_NOREPLACE"}, {0, NULL},
};
static const struct named msync_flags[] = {
    {MS_ASYNC, "ASYNC"}, {MS_INVALIDATE, "INVALIDATE"}, {MS_SYNC, "SYNC"}, {0, NULL},
};
static const struct named mremap_flags[] = {
    {1, "MAYMOVE"}, {2, "FIXED"}, {4, "DONTUNMAP"}, {0, NULL},
};
static const struct named open_modes[] = {
    {O_RDONLY, "RDONLY"}, {O_WRONLY, "WRONLY"}, {O_RDWR, "RDWR"}, {3, "ACC3"}, {0, NULL},
};
/* The tester's open flags first (a scenario line may use only these names);
 * the rest print as one number there. */
static const struct named open_flags_scenario[] = {
    {O_CREAT, "CREAT"}, {O_EXCL, "EXCL"}, {O_TRUNC, "TRUNC"}, {O_APPEND, "APPEND"},
    {O_DIRECTORY, "DIRECTORY"}, {O_NOFOLLOW, "NOFOLLOW"}, {0, NULL},
};
static const struct named open_flags_more[] = {
    {O_CLOEXEC, "CLOEXEC"}, {O_NONBLOCK, "NONBLOCK"}, {O_NOCTTY, "NOCTTY"}, {O_PATH, "PATH"},
    {O_DIRECT, "DIRECT"}, {O_NOATIME, "NOATIME"}, {O_LARGEFILE, "LARGEFILE"}, {O_DSYNC, "DSYNC"},
    {0, NULL},
};
static const struct named advices[] = {
    {0, "NORMAL"}, {1, "RANDOM"}, {2, "SEQUENTIAL"}, {3, "WILLNEED"}, {4, "DONTNEED"},
    {8, "FREE"}, {9, "REMOVE"}, {10, "DONTFORK"}, {11, "DOFORK"}, {12, "MERGEABLE"},
    {13, "UNMERGEABLE"}, {14, "HUGEPAGE"}, {15, "NOHUGEPAGE"}, {16, "DONTDUMP"},
    {17, "DODUMP"}, {18, "WIPEONFORK"}, {19, "KEEPONFORK"}, {20, "COLD"}, {21, "PAGEOUT"},
    {22, "POPULATE_READ"}, {23, "POPULATE_WRITE"}, {24, "DONTNEED_LOCKED"}, {25, "COLLAPSE"},
    {102, "GUARD_INSTALL"}, {103, "GUARD_REMOVE"}, {0, NULL},
};

static const char *name_of(const struct named *t, long v)
{
    for (; t->name; t++)
        if (t->value == v)
            return t->name;
    return NULL;
}

/* Bits named by the tables, joined by '|'; what is left as one hex number. */
static void put_bits(struct out *o, const struct named *t1, const struct named *t2, uint64_t v,
                     int first)
{
    const struct named *tables[] = {t1, t2};
    for (size_t i = 0; i < 2; i++)
        for (const struct named *t = tables[i]; t && t->name; t++)
            if (t->value && (v & (uint64_t)t->value) == (uint64_t)t->value) {
                put(o, "%s%s", first ? "" : "|", t->name);
                v &= ~(uint64_t)t->value;
                first = 0;
            }
    if (v || first)
        put(o, "%s0x%" PRIx64, first ? "" : "|", v);
}

static void put_prot(struct out *o, uint64_t prot)
{
    if (prot == 0)
        put(o, "NONE");
    else
        put_bits(o, prot_names, NULL, prot, 1);
}

static void put_map_flags(struct out *o, uint64_t flags)
{
    const char *type = name_of(map_types, (long)(flags & 0x0f));
    if (type)
        put(o, "%s", type);
    uint64_t rest = type ? flags & ~UINT64_C(0x0f) : flags;
    if (rest || !type)
        put_bits(o, map_flags, NULL, rest, type == NULL);
}

static void put_open_flags(struct out *o, int flags, int scenario)
{
    const char *mode = name_of(open_modes, flags & O_ACCMODE);
    put(o, "%s", mode ? mode : "ACC3");
    if (flags & ~O_ACCMODE)
        put_bits(o, open_flags_scenario, scenario ? NULL : open_flags_more,
                 (uint64_t)(unsigned)(flags & ~O_ACCMODE), 0);
}

static void put_advice(struct out *o, uint64_t advice)
{
    const char *name = name_of(advices, (long)advice);
    if (name)
        put(o, "%s", name);
    else
        put(o, "%" PRId64, (int64_t)advice);
}

static void put_addr(struct out *o, uint64_t a)
{
    if (a)
        put(o, "0x%" PRIx64, a);
    else
        put(o, "NULL");
}

/* A path in double quotes, with C escapes for what would not print. */
static void put_string(struct out *o, const char *s)
{
    put(o, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            put(o, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            put(o, "\\x%02x", ch);
        else
            put(o, "%c", ch);
    }
    put(o, "\"");
}

static void put_dirfd(struct out *o, uint64_t dirfd)
{
    if ((int)dirfd == AT_FDCWD)
        put(o, "AT_FDCWD");
    else
        put(o, "%d", (int)dirfd);
}

void fl_format_call(const struct fl_call *c, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    const char *name = fl_syscall_name(c->nr);
    if (name)
        put(&o, "%s(", name);
    else
        put(&o, "syscall_%ld(", c->nr);
    const uint64_t *a = c->arg;
    switch (c->nr) {
    case SYS_mmap:
        put_addr(&o, a[0]);
        put(&o, ", 0x%" PRIx64 ", ", a[1]);
        put_prot(&o, a[2]);
        put(&o, ", ");
        put_map_flags(&o, a[3]);
        put(&o, ", %d, 0x%" PRIx64, (int)a[4], a[5]);
        break;
    case SYS_munmap: put(&o, "0x%" PRIx64 ", 0x%" PRIx64, a[0], a[1]); break;
    case SYS_mprotect:
    case SYS_pkey_mprotect:
        put(&o, "0x%" PRIx64 ", 0x%" PRIx64 ", ", a[0], a[1]);
        put_prot(&o, a[2]);
        break;
    case SYS_brk: put_addr(&o, a[0]); break;
    case SYS_mremap:
        put(&o, "0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", ", a[0], a[1], a[2]);
        put_bits(&o, mremap_flags, NULL, a[3], 1);
        if (a[3] & 2)
            put(&o, ", 0x%" PRIx64, a[4]);
        break;
    case SYS_madvise:
        put(&o, "0x%" PRIx64 ", 0x%" PRIx64 ", ", a[0], a[1]);
        put_advice(&o, a[2]);
        break;
    case SYS_msync:
        put(&o, "0x%" PRIx64 ", 0x%" PRIx64 ", ", a[0], a[1]);
        put_bits(&o, msync_flags, NULL, a[2], 1);
        break;
    case SYS_mincore: put(&o, "0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64, a[0], a[1], a[2]); break;
    case SYS_open:
    case SYS_creat:
        put_string(&o, c->path);
        if (c->nr == SYS_open) {
            put(&o, ", ");
            put_open_flags(&o, (int)a[1], 0);
        }
        break;
    case SYS_openat:
    case SYS_openat2:
        put_dirfd(&o, a[0]);
        put(&o, ", ");
        put_string(&o, c->path);
        put(&o, ", ");
        put_open_flags(&o, fl_open_flags(c), 0);
        break;
    case SYS_close:
    case SYS_dup: put(&o, "%d", (int)a[0]); break;
    case SYS_dup2: put(&o, "%d, %d", (int)a[0], (int)a[1]); break;
    case SYS_dup3: put(&o, "%d, %d, %s", (int)a[0], (int)a[1], a[2] ? "CLOEXEC" : "0"); break;
    case SYS_close_range: put(&o, "%u, %u, 0x%" PRIx64, (unsigned)a[0], (unsigned)a[1], a[2]); break;
    case SYS_fcntl:
        put(&o, "%d, %s, %d", (int)a[0], a[1] == F_DUPFD_CLOEXEC ? "F_DUPFD_CLOEXEC" : "F_DUPFD",
            (int)a[2]);
        break;
    case SYS_exit:
    case SYS_exit_group: put(&o, "%d", (int)a[0]); break;
    default: put(&o, "..."); break;
    }
    put(&o, ")");
}

void fl_format_ret(const struct fl_call *c, int64_t ret, char *buf, size_t size)
{
    if (ret < 0 && ret > -4096) {
        const char *name = strerrorname_np((int)-ret);
        if (name)
            snprintf(buf, size, "-%s", name);
        else
            snprintf(buf, size, "-%" PRId64, -ret);
    } else if (c->nr == SYS_mmap || c->nr == SYS_mremap || c->nr == SYS_brk) {
        snprintf(buf, size, "0x%" PRIx64, (uint64_t)ret);
    } else {
        snprintf(buf, size, "%" PRId64, ret);
    }
}

void fl_format_scenario(const struct fl_call *c, int vmfd, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    const uint64_t *a = c->arg;
    switch (c->nr) {
    case SYS_mmap:
        put(&o, "mmap 0x%" PRIx64 " 0x%" PRIx64 " ", a[0], a[1]);
        put_prot(&o, a[2]);
        put(&o, " ");
        put_map_flags(&o, a[3]);
        put(&o, " %d 0x%" PRIx64, (a[3] & MAP_ANONYMOUS) ? (int)a[4] : vmfd, a[5]);
        break;
    case SYS_munmap: put(&o, "munmap 0x%" PRIx64 " 0x%" PRIx64, a[0], a[1]); break;
    case SYS_mprotect:
        put(&o, "mprotect 0x%" PRIx64 " 0x%" PRIx64 " ", a[0], a[1]);
        put_prot(&o, a[2]);
        break;
    case SYS_brk: put(&o, "brk 0x%" PRIx64, a[0]); break;
    case SYS_mremap:
        put(&o, "mremap 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " ", a[0], a[1], a[2]);
        put_bits(&o, mremap_flags, NULL, a[3], 1);
        put(&o, " 0x%" PRIx64, a[4]);
        break;
    case SYS_madvise:
        put(&o, "madvise 0x%" PRIx64 " 0x%" PRIx64 " ", a[0], a[1]);
        put_advice(&o, a[2]);
        break;
    case SYS_msync:
        put(&o, "msync 0x%" PRIx64 " 0x%" PRIx64 " ", a[0], a[1]);
        put_bits(&o, msync_flags, NULL, a[2], 1);
        break;
    case SYS_mincore: put(&o, "mincore 0x%" PRIx64 " 0x%" PRIx64, a[0], a[1]); break;
    case SYS_close: put(&o, "close %d", vmfd); break;
    default: break;
    }
}

/* An open as vmsim made it, as a scenario line: "open PATH FLAGS". Paths
 * print bare unless they hold a space, a quote or a byte that would not print. */
void fl_format_open_line(const char *path, int flags, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    put(&o, "open ");
    int plain = *path != '\0';
    for (const char *p = path; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '#' || (unsigned char)*p >= 0x7f)
            plain = 0;
    if (plain)
        put(&o, "%s", path);
    else
        put_string(&o, path);
    put(&o, " ");
    put_open_flags(&o, flags, 1);
}

/* A string as a scenario line spells it (bare when it is a plain word, else
 * quoted), written to f. */
static void write_word(FILE *f, const char *str)
{
    char buf[4 * 400 + 8];
    struct out o = {buf, sizeof(buf), 0};
    buf[0] = '\0';
    int plain = *str != '\0' && *str != '"' && strcmp(str, "=>") != 0;
    for (const char *p = str; *p && plain; p++)
        plain = *p > ' ' && *p < 0x7f && *p != '\\' && *p != '"';
    if (plain)
        put(&o, "%s", str);
    else
        put_string(&o, str);
    fputs(buf, f);
}

/* How many bytes a string's piece may hold so that its quoted form stays
 * within FL_STRING_PIECE bytes. */
#define FL_STRING_PIECE 360
static size_t piece_length(const char *s)
{
    size_t n = 0, width = 2;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        size_t w = c == '"' || c == '\\' ? 2 : c < 0x20 || c >= 0x7f ? 4 : 1;
        if (width + w > FL_STRING_PIECE)
            break;
        width += w;
    }
    return n;
}

/* "arg STRING", continued by "arg+ STRING" lines while the string is longer
 * than a line holds. */
static void write_arg(FILE *f, const char *arg)
{
    const char *kind = "arg";
    char piece[FL_STRING_PIECE + 1];
    do {
        size_t n = piece_length(arg);
        memcpy(piece, arg, n);
        piece[n] = '\0';
        fprintf(f, "%s ", kind);
        write_word(f, piece); /* the empty string too: "" */
        fputc('\n', f);
        arg += n;
        kind = "arg+";
    } while (*arg);
}

/* "env NAME LEN": an environment string with its value masked (a scenario
 * file must not carry the user's secrets, which live in environments; the
 * stack's layout depends only on the lengths); "env STRING" for one
 * without '='. */
static void write_env(FILE *f, const char *env)
{
    const char *eq = strchr(env, '=');
    char name[FL_STRING_PIECE + 1];
    size_t n = eq ? (size_t)(eq - env) : strlen(env);
    n = n < FL_STRING_PIECE / 4 ? n : FL_STRING_PIECE / 4;
    memcpy(name, env, n);
    name[n] = '\0';
    fputs("env ", f);
    write_word(f, name);
    if (eq)
        fprintf(f, " %zu", strlen(eq + 1));
    fputc('\n', f);
}

char *fl_format_exec_lines(const char *path, char *const argv[], char *const envp[])
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; argv && argv[i]; i++)
        write_arg(f, argv[i]);
    for (size_t i = 0; envp && envp[i]; i++)
        write_env(f, envp[i]);
    fputs("execve ", f);
    write_word(f, path);
    fclose(f);
    return text;
}
