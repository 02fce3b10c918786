/*
 * vglog.c - Valgrind's output into a .vmt trace, for `vmsim record`.
 *
 * Standard error carries `-d`'s debug lines: Valgrind's library folder and
 * "Memory layout at client startup", the segments Valgrind's own loader
 * made for the client (lower-case kinds `file` and `anon` are the
 * client's, upper-case ones Valgrind's). They become VMT_SEGMENT records:
 * each file segment; the anonymous segment under the reservation marked
 * SmUpper is the stack (its growth room included), the one over SmLower
 * the brk area.
 *
 * The log carries lackey's access lines and --trace-syscalls lines
 * ("SYSCALL[pid,tid](nr) sys_mmap ( args ) --> [pre-success] Success(0x..)",
 * or a call line ending "--> [async] ..." whose result comes on a later
 * "... [async] --> Success(..)" line). Valgrind's own mappings never go
 * through the client's system calls, so they are not there; what is there
 * but Valgrind's is its preload library (vgpreload_*.so, which the client's
 * loader maps because Valgrind sets LD_PRELOAD): its opens, mappings and
 * the accesses inside them are filtered out and counted.
 */
#include "vglog.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { NR_OPEN = 2, NR_CLOSE = 3, NR_MMAP = 9, NR_MPROTECT = 10, NR_MUNMAP = 11, NR_BRK = 12,
       NR_MREMAP = 25, NR_MADVISE = 28, NR_EXECVE = 59, NR_OPENAT = 257 };

void vglog_init(struct vglog *g, struct vmt_writer *w)
{
    memset(g, 0, sizeof(*g));
    g->w = w;
}

void vglog_free(struct vglog *g)
{
    for (size_t i = 0; i < VGLOG_FDS; i++)
        free(g->fd_path[i]);
    for (size_t i = 0; i < sizeof(g->names) / sizeof(g->names[0]); i++)
        free(g->names[i]);
    free(g->own);
}

/* ---- standard error: the starting layout ---- */

static int is_own(const struct vglog *g, uint64_t a)
{
    for (size_t i = 0; i < g->nown; i++)
        if (a >= g->own[i].start && a < g->own[i].end)
            return 1;
    return 0;
}

static void add_own(struct vglog *g, uint64_t start, uint64_t len)
{
    struct vglog_range *n = realloc(g->own, (g->nown + 1) * sizeof(*n));
    if (!n)
        return;
    g->own = n;
    g->own[g->nown++] = (struct vglog_range){start, start + ((len + 4095) & ~4095ull)};
}

static int valgrind_file(const struct vglog *g, const char *path)
{
    size_t n = strlen(g->libdir);
    return n && path && strncmp(path, g->libdir, n) == 0 && path[n] == '/';
}


static int emit_segment(struct vglog *g, uint64_t start, uint64_t len, int prot, uint64_t off,
                        enum vmt_seg kind, const char *path)
{
    struct vmt_record r = {.type = VMT_SEGMENT, .arg = {start, len, (uint64_t)prot, off, kind}};
    snprintf(r.path, sizeof(r.path), "%s", path ? path : "");
    return vmt_write(g->w, &r);
}

static int flush_anon(struct vglog *g, int brk, uint64_t extra)
{
    if (!g->have_last_anon)
        return 0;
    g->have_last_anon = 0;
    struct vmt_record *a = &g->last_anon;
    return emit_segment(g, a->arg[0], a->arg[1] + extra, (int)a->arg[2], 0,
                        brk ? VMT_SEG_BRK : VMT_SEG_ANON, NULL);
}

static int prot_of(const char *perms)
{
    return (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
}

static int layout_line(struct vglog *g, const char *p)
{
    while (*p == ' ')
        p++;
    if (strncmp(p, ">>>", 3) == 0) {
        g->in_layout = 0;
        g->layout_done = 1;
        return flush_anon(g, 0, 0);
    }
    unsigned idx;
    int at = 0;
    if (p[0] == '(' && sscanf(p, "(%u,%*u,%*u) %n", &idx, &at) == 1 && at &&
        idx < sizeof(g->names) / sizeof(g->names[0])) {
        free(g->names[idx]);
        g->names[idx] = strdup(p + at);
        return 0;
    }
    char kind[16], perms[16], tail[32] = "";
    uint64_t start, end;
    if (sscanf(p, "%*u: %15s %" SCNx64 "-%" SCNx64 " %*s %15s %31s", kind, &start, &end, perms,
               tail) < 4)
        return 0;
    uint64_t len = end + 1 - start;
    if (strcmp(kind, "RSVN") == 0) {
        int rc = flush_anon(g, strcmp(tail, "SmLower") == 0, len);
        g->prev_upper = strcmp(tail, "SmUpper") == 0;
        g->upper_start = start;
        return rc;
    }
    int rc = flush_anon(g, 0, 0);
    int upper = g->prev_upper;
    g->prev_upper = 0;
    if (rc < 0 || (strcmp(kind, "file") != 0 && strcmp(kind, "anon") != 0))
        return rc;
    if (strcmp(kind, "anon") == 0) {
        if (upper)
            return emit_segment(g, g->upper_start, end + 1 - g->upper_start, prot_of(perms), 0,
                                VMT_SEG_STACK, NULL);
        g->last_anon = (struct vmt_record){.arg = {start, len, (uint64_t)prot_of(perms)}};
        g->have_last_anon = 1;
        return 0;
    }
    const char *o = strstr(p, " o="), *n = strrchr(p, '(');
    uint64_t off = o ? strtoull(o + 3, NULL, 10) : 0;
    unsigned name = n ? (unsigned)strtoul(n + 1, NULL, 10) : ~0u;
    const char *path = name < sizeof(g->names) / sizeof(g->names[0]) ? g->names[name] : NULL;
    if (valgrind_file(g, path)) { /* a page of Valgrind's handed to the client (its trampoline) */
        add_own(g, start, len);
        return 0;
    }
    return emit_segment(g, start, len, prot_of(perms), off, VMT_SEG_FILE, path);
}

int vglog_stderr_line(struct vglog *g, const char *line)
{
    if (strncmp(line, "--", 2) != 0)
        return 0;
    const char *dir = strstr(line, "main VG_(libdir) = ");
    if (dir) {
        snprintf(g->libdir, sizeof(g->libdir), "%s", dir + strlen("main VG_(libdir) = "));
        return 0;
    }
    const char *a = strstr(line, " aspacem ");
    if (!a || g->layout_done)
        return 0;
    a += strlen(" aspacem ");
    if (strstr(a, "Memory layout at client startup")) {
        g->in_layout = 1;
        return 0;
    }
    return g->in_layout ? layout_line(g, a) : 0;
}

/* ---- the log: accesses and system calls ---- */

/* The numbers of "( a, b, c )": up to max of them; how many. */
static int call_args(const char *call, uint64_t *args, int max)
{
    const char *p = strchr(call, '(');
    int n = 0;
    while (p && n < max) {
        p++;
        while (*p == ' ')
            p++;
        char *end;
        args[n++] = strtoull(p, &end, 0);
        p = strchr(end, ',');
    }
    return n;
}

/* openat's or open's path: the text in parentheses after the address. */
static char *call_path(const char *call, int nth)
{
    const char *p = strchr(call, '(');
    for (int i = 0; p && i < nth; i++)
        p = strchr(p + 1, ',');
    if (!p)
        return NULL;
    const char *open = strchr(p + 1, '('), *close = open ? strstr(open, "), ") : NULL;
    if (!close && open)
        close = strstr(open, ") )");
    if (!open || !close)
        return NULL;
    return strndup(open + 1, (size_t)(close - open - 1));
}

static int write_mm(struct vglog *g, enum vmt_type type, const uint64_t *a, int64_t result,
                    const char *path)
{
    struct vmt_record r = {.type = type, .result = result};
    memcpy(r.arg, a, sizeof(r.arg));
    snprintf(r.path, sizeof(r.path), "%s", path ? path : "");
    g->mm_calls++;
    return vmt_write(g->w, &r);
}

static int do_call(struct vglog *g, unsigned nr, const char *call, int ok, uint64_t value)
{
    uint64_t a[6] = {0};
    int64_t result = ok ? (int64_t)value : -(int64_t)value;
    int n = call_args(call, a, 6);
    switch (nr) {
    case NR_OPEN:
    case NR_OPENAT:
        if (ok && value < VGLOG_FDS) {
            free(g->fd_path[value]);
            g->fd_path[value] = call_path(call, nr == NR_OPENAT);
        }
        return 0;
    case NR_CLOSE:
        if (ok && a[0] < VGLOG_FDS) {
            free(g->fd_path[a[0]]);
            g->fd_path[a[0]] = NULL;
        }
        return 0;
    case NR_EXECVE:
        g->stopped = ok;
        return 0;
    case NR_MMAP: {
        if (n < 6)
            return 0;
        int fd = (int)(int32_t)(uint32_t)a[4];
        a[4] = (uint64_t)(int64_t)fd;
        const char *path = fd >= 0 && fd < VGLOG_FDS ? g->fd_path[fd] : NULL;
        if (valgrind_file(g, path) || (ok && is_own(g, value))) {
            if (ok)
                add_own(g, value, a[1]);
            g->filtered++;
            return 0;
        }
        return write_mm(g, VMT_MMAP, a, result, (a[3] & 0x20) ? NULL : path);
    }
    case NR_MUNMAP: case NR_MPROTECT: case NR_MADVISE: case NR_BRK: case NR_MREMAP:
        if (nr != NR_BRK && is_own(g, a[0])) {
            g->filtered++;
            return 0;
        }
        return write_mm(g, nr == NR_MUNMAP ? VMT_MUNMAP : nr == NR_MPROTECT ? VMT_MPROTECT
                           : nr == NR_MADVISE ? VMT_MADVISE : nr == NR_BRK ? VMT_BRK : VMT_MREMAP,
                        a, result, NULL);
    }
    return 0;
}

/* "Success(0x..)" or "Failure(0x..)" in s: 1 found. */
static int call_result(const char *s, int *ok, uint64_t *value)
{
    const char *p = strstr(s, "Success(");
    *ok = p != NULL;
    if (!p && !(p = strstr(s, "Failure(")))
        return 0;
    *value = strtoull(p + 8, NULL, 16);
    return 1;
}

static int syscall_line(struct vglog *g, const char *line)
{
    unsigned pid, tid, nr;
    int at = 0;
    if (sscanf(line, "SYSCALL[%u,%u](%u) %n", &pid, &tid, &nr, &at) < 3 || !at)
        return 0;
    const char *rest = line + at;
    int ok;
    uint64_t value;
    if (strncmp(rest, "... [async] --> ", 16) == 0) {
        if (!g->pending[0] || !call_result(rest, &ok, &value))
            return 0;
        int rc = do_call(g, nr, g->pending, ok, value);
        g->pending[0] = 0;
        return rc;
    }
    if (nr == NR_EXECVE && !strstr(rest, "-->")) {
        g->stopped = 1; /* a call without a result: the exec went ahead, Valgrind is gone */
        return 0;
    }
    if (strstr(rest, "--> [async] ...")) {
        snprintf(g->pending, sizeof(g->pending), "%s", rest);
        return 0;
    }
    return call_result(rest, &ok, &value) ? do_call(g, nr, rest, ok, value) : 0;
}

int vglog_log_line(struct vglog *g, const char *line)
{
    g->lines++;
    if (g->stopped)
        return 0;
    if (strncmp(line, "SYSCALL[", 8) == 0)
        return syscall_line(g, line);
    struct vmt_record r;
    if (vmt_lackey_line(line, &r) <= 0)
        return 0;
    if (is_own(g, r.addr)) {
        g->filtered++;
        return 0;
    }
    g->accesses++;
    return vmt_write_access(g->w, r.type, r.addr, r.size);
}
