/*
 * ops.c - the text form of difftest operations (one per scenario line), the
 * files both sides start with, and the safety rule that keeps the host
 * child from unmapping or overwriting its own memory.
 *
 * A line is the operation's name and its arguments, separated by spaces:
 *     mmap +0x2000000 0x3000 READ|WRITE PRIVATE|ANONYMOUS|FIXED -1 0
 * "+0x..." is an address relative to the window ("+-0x..." below it),
 * "0x..." an absolute one;
 * flags are symbolic names joined by '|' (numbers are accepted too). A line
 * may start with "@N", the process that runs it (default 0):
 *     fork
 *     @1 store +0x2000000 4 0x41
 *     @1 exit
 */
#include "difftest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *const dt_file_names[DT_NNAMES] = {"f0", "f1", "f2", "f3", "new", "d", "missing"};

/* Sizes chosen for edges: a partial last page, a full 16 pages, empty, and a
 * partial second page. Files stay within 16 pages so that a page-cache miss
 * reads the whole file on both sides (the host's read-around window is
 * larger than vmsim's, but both cover 16 pages). */
uint64_t dt_initial_size(int name)
{
    static const uint64_t sizes[DT_NFILES] = {3 * DT_PAGE + 100, 16 * DT_PAGE, 0, 5000};
    return name >= 0 && name < DT_NFILES ? sizes[name] : 0;
}

uint8_t dt_initial_byte(int name, uint64_t off)
{
    uint64_t page = off / DT_PAGE;
    return (uint8_t)(0x41 + (uint64_t)name * 53 + page * 29 + (off % DT_PAGE) * 7);
}

/* ---- names ---- */

static const char *const kind_names[DT_NKINDS] = {
    "mmap", "munmap", "mprotect", "msync", "mincore", "load",  "store",     "open",  "close",
    "read", "write",  "pread",    "pwrite", "lseek", "ftruncate", "fsync", "fstat", "sync",
    "mremap", "madvise", "fork", "exit", "set", "arg", "arg+", "env", "execve", "brk", "thread",
    "maps",
};

/* The arguments of each kind, in order: a address, l length, p prot,
 * m mmap flags, f fd, o offset, s msync flags, v optional "vecnull",
 * t pattern, N file name, O open flags, w whence, L new length, r mremap
 * flags, A new address, d madvise advice; recorded lines: S a setting
 * FIELD=VALUE, Q a string, E an environment name, e its optional value
 * length, P a path, M a maps line (the rest of the line). */
static const char *const kind_args[DT_NKINDS] = {
    "alpmfo", "al", "alp", "als", "alv", "al", "alt", "NO", "f",
    "fal",    "fal", "falo", "falo", "fow", "fo", "f", "f", "",
    "alLrA", "ald", "", "", "S", "Q", "Q", "Ee", "P", "a", "", "M",
};

int dt_kind_recorded_only(int kind) { return kind >= DT_SET && kind < DT_NKINDS; }

const char *dt_kind_name(int kind)
{
    return kind >= 0 && kind < DT_NKINDS ? kind_names[kind] : "?";
}

struct flag_name {
    const char *name;
    int64_t value;
};

static const struct flag_name prot_flags[] = {
    {"READ", PROT_READ},           {"WRITE", PROT_WRITE},       {"EXEC", PROT_EXEC},
    {"SEM", 0x8},                  {"GROWSDOWN", 0x01000000},  {"GROWSUP", 0x02000000},
    {NULL, 0},
};

static const struct flag_name map_types[] = {
    {"SHARED", 0x01}, {"PRIVATE", 0x02}, {"SHARED_VALIDATE", 0x03}, {"DROPPABLE", 0x08}, {NULL, 0},
};

static const struct flag_name map_flags[] = {
    {"FIXED", 0x10},          {"ANONYMOUS", 0x20},  {"32BIT", 0x40},       {"GROWSDOWN", 0x100},
    {"DENYWRITE", 0x800},     {"EXECUTABLE", 0x1000}, {"LOCKED", 0x2000},  {"NORESERVE", 0x4000},
    {"POPULATE", 0x8000},     {"NONBLOCK", 0x10000}, {"STACK", 0x20000},   {"HUGETLB", 0x40000},
    {"SYNC", 0x80000},        {"FIXED_NOREPLACE", 0x100000}, {NULL, 0},
};

static const struct flag_name msync_flags[] = {
    {"ASYNC", MS_ASYNC}, {"INVALIDATE", MS_INVALIDATE}, {"SYNC", MS_SYNC}, {NULL, 0},
};

/* ACC3: both access-mode bits, which open accepts (a descriptor for ioctl
 * only; a random flag bit makes it). */
static const struct flag_name open_modes[] = {
    {"RDONLY", O_RDONLY}, {"WRONLY", O_WRONLY}, {"RDWR", O_RDWR}, {"ACC3", 3}, {NULL, 0},
};

static const struct flag_name open_flags[] = {
    {"CREAT", O_CREAT},       {"EXCL", O_EXCL},        {"TRUNC", O_TRUNC},
    {"APPEND", O_APPEND},     {"DIRECTORY", O_DIRECTORY}, {"NOFOLLOW", O_NOFOLLOW},
    {NULL, 0},
};

static const struct flag_name mremap_flags[] = {
    {"MAYMOVE", 1}, {"FIXED", 2}, {"DONTUNMAP", 4}, {NULL, 0},
};

static const struct flag_name advices[] = {
    {"NORMAL", 0},        {"RANDOM", 1},        {"SEQUENTIAL", 2},     {"WILLNEED", 3},
    {"DONTNEED", 4},      {"FREE", 8},          {"REMOVE", 9},         {"DONTFORK", 10},
    {"DOFORK", 11},       {"MERGEABLE", 12},    {"UNMERGEABLE", 13},   {"HUGEPAGE", 14},
    {"NOHUGEPAGE", 15},   {"DONTDUMP", 16},     {"DODUMP", 17},        {"WIPEONFORK", 18},
    {"KEEPONFORK", 19},   {"COLD", 20},         {"PAGEOUT", 21},       {"POPULATE_READ", 22},
    {"POPULATE_WRITE", 23}, {"DONTNEED_LOCKED", 24}, {"COLLAPSE", 25},  {"GUARD_INSTALL", 102},
    {"GUARD_REMOVE", 103}, {NULL, 0},
};

static const struct flag_name whences[] = {
    {"SET", SEEK_SET}, {"CUR", SEEK_CUR}, {"END", SEEK_END},
    {"DATA", SEEK_DATA}, {"HOLE", SEEK_HOLE}, {NULL, 0},
};

/* ---- formatting ---- */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int n = vsnprintf(o->buf + o->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static const char *name_of(const struct flag_name *t, int64_t v)
{
    for (; t->name; t++)
        if (t->value == v)
            return t->name;
    return NULL;
}

/* Bits named by table t, joined by '|'; unnamed bits as one hex number. */
static void put_bits(struct out *o, const struct flag_name *t, int64_t v, int first)
{
    for (; t->name; t++) {
        if (t->value && (v & t->value) == t->value) {
            put(o, "%s%s", first ? "" : "|", t->name);
            v &= ~t->value;
            first = 0;
        }
    }
    if (v || first)
        put(o, "%s%s0x%" PRIx64, first ? "" : "|", v < 0 ? "-" : "", v < 0 ? -(uint64_t)v : (uint64_t)v);
}

static void put_prot(struct out *o, int prot)
{
    if (prot == 0)
        put(o, " NONE");
    else {
        put(o, " ");
        put_bits(o, prot_flags, prot, 1);
    }
}

static void put_mmap_flags(struct out *o, int flags)
{
    const char *type = name_of(map_types, flags & 0x0f);
    put(o, " ");
    if (type)
        put(o, "%s", type);
    int rest = type ? flags & ~0x0f : flags;
    if (rest || !type)
        put_bits(o, map_flags, rest, type == NULL);
}

/* A window-relative address below the window (it wraps) prints as "+-0x...". */
static void put_rel_or_abs(struct out *o, int abs, uint64_t addr)
{
    if (abs)
        put(o, " 0x%" PRIx64, addr);
    else if (addr >= UINT64_C(1) << 63)
        put(o, " +-0x%" PRIx64, -addr);
    else
        put(o, " +0x%" PRIx64, addr);
}

static void put_addr(struct out *o, const struct dt_op *op) { put_rel_or_abs(o, op->abs, op->addr); }

/* A string as a recorded line spells it: bare when it is a plain word
 * (printable, no blank, not starting with a quote, not "=>"), else in double quotes
 * with \" \\ and \xNN. Never longer than the text it was read from. */
static void put_string(struct out *o, const char *s)
{
    int plain = *s != '\0' && *s != '"' && strcmp(s, "=>") != 0;
    for (const char *p = s; *p && plain; p++)
        plain = *p > ' ' && *p < 0x7f;
    if (plain) {
        put(o, " %s", s);
        return;
    }
    put(o, " \"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(o, "\\%c", *p);
        else if (*p < ' ' || *p >= 0x7f)
            put(o, "\\x%02x", *p);
        else
            put(o, "%c", *p);
    }
    put(o, "\"");
}

/* A maps line's columns: START-END PERMS OFFSET [NAME]. */
static void put_maps_line(struct out *o, const struct dt_op *op)
{
    put(o, " %" PRIx64 "-%" PRIx64 " %c%c%c%c %08" PRIx64, op->addr, op->addr2,
        op->flags & 1 ? 'r' : '-', op->flags & 2 ? 'w' : '-', op->flags & 4 ? 'x' : '-',
        op->flags & 8 ? 's' : 'p', (uint64_t)op->off);
    /* The name is the rest of the line: bare unless it would not read back
     * so (a byte that does not print, a blank at either end, a leading quote). */
    const char *name = op->str;
    size_t len = strlen(name);
    int plain = len && name[0] != '"' && name[0] != ' ' && name[len - 1] != ' ';
    for (size_t i = 0; i < len && plain; i++)
        plain = name[i] >= ' ' && name[i] < 0x7f;
    if (plain)
        put(o, " %s", name);
    else if (len)
        put_string(o, name);
}

static void put_signed(struct out *o, int64_t v)
{
    if (v < 0)
        put(o, " -0x%" PRIx64, -(uint64_t)v);
    else
        put(o, " 0x%" PRIx64, (uint64_t)v);
}

static void put_arg(struct out *o, const struct dt_op *op, char a)
{
    switch (a) {
    case 'a': put_addr(o, op); break;
    case 'l': put(o, " 0x%" PRIx64, op->len); break;
    case 'p': put_prot(o, op->prot); break;
    case 'm': put_mmap_flags(o, op->flags); break;
    case 'f': put(o, " %d", op->fd); break;
    case 'o': put_signed(o, op->off); break;
    case 's':
        put(o, " ");
        put_bits(o, msync_flags, op->flags, 1);
        break;
    case 'v':
        if (op->flags & DT_VEC_NULL)
            put(o, " vecnull");
        break;
    case 't': put(o, " 0x%02x", op->pattern & 0xff); break;
    case 'N':
        if (op->name == DT_NAME_PATH)
            put_string(o, op->str);
        else
            put(o, " %s", op->name >= 0 && op->name < DT_NNAMES ? dt_file_names[op->name] : "?");
        break;
    case 'S': put(o, " %s", op->str); break;
    case 'Q':
    case 'E':
    case 'P': put_string(o, op->str); break;
    case 'e':
        if (op->flags & 1)
            put(o, " %" PRIu64, op->len);
        break;
    case 'M': put_maps_line(o, op); break;
    case 'O': {
        const char *mode = name_of(open_modes, op->flags & O_ACCMODE);
        put(o, " %s", mode ? mode : "ACC3");
        if (op->flags & ~O_ACCMODE)
            put_bits(o, open_flags, op->flags & ~O_ACCMODE, 0);
        break;
    }
    case 'L': put(o, " 0x%" PRIx64, op->len2); break;
    case 'r':
        put(o, " ");
        if (op->flags)
            put_bits(o, mremap_flags, op->flags, 1);
        else
            put(o, "0");
        break;
    case 'A': put_rel_or_abs(o, op->abs2, op->addr2); break;
    case 'd': {
        const char *d = name_of(advices, op->flags);
        if (d)
            put(o, " %s", d);
        else
            put(o, " %d", op->flags);
        break;
    }
    case 'w': {
        const char *w = name_of(whences, op->flags);
        if (w)
            put(o, " %s", w);
        else
            put(o, " %d", op->flags);
        break;
    }
    default: break;
    }
}

static int errno_of(const char *name)
{
    for (int e = 1; e < 4096; e++)
        if (strerrorname_np(e) && strcmp(strerrorname_np(e), name) == 0)
            return e;
    return 0;
}

void dt_format_answer(const struct dt_op *op, int expect, int64_t value, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    const char *ename = value < 0 && value > -4096 ? strerrorname_np((int)-value) : NULL;
    switch (expect) {
    case DT_EXPECT_OK: put(&o, "ok"); break;
    case DT_EXPECT_SIGNAL: put(&o, "SIG%s", sigabbrev_np((int)value) ? sigabbrev_np((int)value) : "?"); break;
    case DT_EXPECT_TASK: put(&o, "@%" PRId64, value); break;
    case DT_EXPECT_VALUE:
        if (ename)
            put(&o, "-%s", ename);
        else if (value < 0)
            put(&o, "-0x%" PRIx64, -(uint64_t)value);
        else if (op->kind == DT_MMAP || op->kind == DT_MREMAP || op->kind == DT_BRK)
            put(&o, "0x%" PRIx64, (uint64_t)value);
        else
            put(&o, "%" PRId64, value);
        break;
    default: break;
    }
}

void dt_format_call(const struct dt_op *op, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    if (op->proc)
        put(&o, "@%d ", op->proc);
    put(&o, "%s", dt_kind_name(op->kind));
    if (op->kind >= 0 && op->kind < DT_NKINDS)
        for (const char *a = kind_args[op->kind]; *a; a++)
            put_arg(&o, op, *a);
}

void dt_format_op(const struct dt_op *op, char *buf, size_t size)
{
    dt_format_call(op, buf, size);
    if (op->expect == DT_EXPECT_NONE)
        return;
    size_t len = strlen(buf);
    char answer[64];
    dt_format_answer(op, op->expect, op->expect_value, answer, sizeof(answer));
    snprintf(buf + len, size - len, " => %s", answer);
}

void dt_format_result(const struct dt_op *op, const struct dt_result *r, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    if (r->ret < 0)
        put(&o, "ret=-%s", strerrorname_np((int)-r->ret) ? strerrorname_np((int)-r->ret) : "?");
    else if (op->kind == DT_FORK)
        put(&o, "ret=@%" PRId64, r->ret);
    else if (op->kind == DT_MMAP || op->kind == DT_MREMAP)
        put(&o, r->ret_outside ? "ret=outside" : "ret=+0x%" PRIx64, (uint64_t)r->ret);
    else
        put(&o, "ret=%" PRId64, r->ret);
    if (r->signo)
        put(&o, " sig=%s/%d@%s0x%" PRIx64, sigabbrev_np(r->signo) ? sigabbrev_np(r->signo) : "?",
            r->code, r->sig_outside ? "" : "+", r->sig_addr);
    put(&o, " flt=%" PRIu64 "/%" PRIu64, r->minflt, r->majflt);
    if (r->ndata) {
        put(&o, " data=");
        uint32_t shown = r->ndata < 64 ? r->ndata : 64;
        for (uint32_t i = 0; i < shown; i++)
            put(&o, "%02x", r->data[i]);
        if (shown < r->ndata)
            put(&o, "...(%" PRIu32 " bytes)", r->ndata);
    }
}

/* ---- parsing ----
 *
 * Every number is checked against the field it goes into: a value that does
 * not fit is an error, never silently cut (a file descriptor 0x100000003 is
 * not 3). Numbers are decimal, or hexadecimal after "0x"; a leading zero
 * does not make a number octal. */

/* A number of up to 64 bits, optionally negative ("-0x10"); the magnitude
 * of a negative one is at most 2^63. */
static int parse_number(const char *s, int64_t *v)
{
    int neg = *s == '-';
    if (neg)
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex && !isxdigit((unsigned char)s[2]))
        return -1;
    char *end;
    errno = 0;
    uint64_t u = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
    if (*end || errno || (neg && u > (UINT64_C(1) << 63)))
        return -1;
    /* Two's complement by hand: negating INT64_MIN as int64_t would overflow. */
    uint64_t bits = neg ? 0 - u : u;
    memcpy(v, &bits, sizeof(*v));
    return 0;
}

/* A value for an int field: INT_MIN..UINT32_MAX (a 32-bit pattern such as
 * 0x80000000 is taken as the int it is in memory). */
static int fits_int(int64_t v) { return v >= INT32_MIN && v <= (int64_t)UINT32_MAX; }

static int to_int(int64_t v)
{
    uint32_t bits = (uint32_t)(uint64_t)v;
    int32_t i;
    memcpy(&i, &bits, sizeof(i));
    return i;
}

#define MAX_TOKEN 255

static const struct flag_name *find_name(const struct flag_name *t, const char *name)
{
    for (; t && t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* Names of table t1 or t2 (or numbers) joined by '|', each part non-empty. */
static int parse_bits(const char *tok, const struct flag_name *t1, const struct flag_name *t2,
                      int64_t *v)
{
    char copy[MAX_TOKEN + 1];
    if (strlen(tok) > MAX_TOKEN)
        return -1;
    memcpy(copy, tok, strlen(tok) + 1);
    *v = 0;
    if (strcmp(tok, "NONE") == 0)
        return 0;
    for (char *p = copy, *bar; p; p = bar ? bar + 1 : NULL) {
        bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        int64_t bit;
        const struct flag_name *hit = find_name(t1, p);
        if (!hit)
            hit = find_name(t2, p);
        if (hit)
            bit = hit->value;
        else if (parse_number(p, &bit))
            return -1;
        *v |= bit;
    }
    return 0;
}

/* An int field from flag names or numbers. */
static int parse_int_bits(const char *tok, const struct flag_name *t1, const struct flag_name *t2,
                          int *out)
{
    int64_t v;
    if (parse_bits(tok, t1, t2, &v) || !fits_int(v))
        return -1;
    *out = to_int(v);
    return 0;
}

/* "+0x...": relative to the window ("+-0x..." below it); "0x...": absolute. */
static int parse_address(const char *tok, int *abs, uint64_t *addr)
{
    int64_t v;
    *abs = tok[0] != '+';
    if (parse_number(tok + !*abs, &v))
        return -1;
    *addr = (uint64_t)v;
    return 0;
}

static int parse_u64(const char *tok, uint64_t *out)
{
    int64_t v;
    if (parse_number(tok, &v))
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_int(const char *tok, int *out)
{
    int64_t v;
    if (parse_number(tok, &v) || !fits_int(v))
        return -1;
    *out = to_int(v);
    return 0;
}

/* A token as read: bare, or in double quotes with \" \\ and \xNN (no other
 * escape, no raw tab inside). The string it stands for into out (size
 * DT_MAX_LINE + 1); 0, or -1. */
static int parse_string(const char *tok, char *out)
{
    size_t n = 0;
    if (tok[0] != '"') {
        if (!*tok || strlen(tok) > DT_MAX_LINE)
            return -1;
        memcpy(out, tok, strlen(tok) + 1);
        return 0;
    }
    const char *p = tok + 1;
    for (; *p && *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            if (p[1] == '"' || p[1] == '\\') {
                c = (unsigned char)*++p;
            } else if (p[1] == 'x' && isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3])) {
                char hex[3] = {p[2], p[3], 0};
                c = (unsigned char)strtoul(hex, NULL, 16);
                p += 3;
            } else {
                return -1;
            }
            if (c == 0)
                return -1; /* a string cannot hold a NUL */
        } else if (c < ' ' || c >= 0x7f) {
            return -1;
        }
        out[n++] = (char)c;
    }
    if (*p != '"' || p[1] != '\0')
        return -1;
    out[n] = '\0';
    return 0;
}

static int parse_name(const char *tok, struct dt_op *op)
{
    for (int i = 0; i < DT_NNAMES; i++)
        if (strcmp(tok, dt_file_names[i]) == 0) {
            op->name = i;
            return 0;
        }
    op->name = DT_NAME_PATH; /* any other path: a recorded scenario's */
    return parse_string(tok, op->str);
}

/* A maps line's columns, as the kernel prints them (less device and inode):
 * START-END PERMS OFFSET [NAME], NAME the rest of the line. */
static int parse_maps_line(const char *rest, struct dt_op *op)
{
    unsigned long long start, end, off;
    char perms[5];
    int used = 0;
    if (sscanf(rest, "%llx-%llx %4s %llx%n", &start, &end, perms, &off, &used) != 4 ||
        strlen(perms) != 4 || !isxdigit((unsigned char)rest[0]))
        return -1;
    static const char want[4][2] = {{'r', '-'}, {'w', '-'}, {'x', '-'}, {'p', 's'}};
    op->flags = 0;
    for (int i = 0; i < 4; i++) {
        if (perms[i] != want[i][0] && perms[i] != want[i][1])
            return -1;
        op->flags |= (perms[i] == (i == 3 ? 's' : want[i][0])) << i;
    }
    op->addr = start;
    op->addr2 = end;
    op->off = (int64_t)off;
    const char *name = rest + used;
    if (*name && *name != ' ' && *name != '\t')
        return -1;
    while (*name == ' ' || *name == '\t')
        name++;
    size_t len = strlen(name);
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t' || name[len - 1] == '\r'))
        len--;
    if (!len) {
        op->str[0] = '\0';
        return 0;
    }
    char copy[DT_MAX_LINE + 1];
    memcpy(copy, name, len);
    copy[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (copy[i] < ' ')
            return -1; /* a tab or a carriage return inside: write it \x09 in quotes */
    return name[0] == '"' ? parse_string(copy, op->str) : (memcpy(op->str, copy, len + 1), 0);
}

static int parse_arg(struct dt_op *op, char a, const char *tok)
{
    int64_t v = 0;
    switch (a) {
    case 'a': return parse_address(tok, &op->abs, &op->addr);
    case 'A': return parse_address(tok, &op->abs2, &op->addr2);
    case 'l': return parse_u64(tok, &op->len);
    case 'L': return parse_u64(tok, &op->len2);
    case 'o':
        if (parse_number(tok, &v))
            return -1;
        op->off = v;
        return 0;
    case 'f': return parse_int(tok, &op->fd);
    case 'p': return parse_int_bits(tok, prot_flags, NULL, &op->prot);
    case 'm': return parse_int_bits(tok, map_types, map_flags, &op->flags);
    case 's': return parse_int_bits(tok, msync_flags, NULL, &op->flags);
    case 'O': return parse_int_bits(tok, open_modes, open_flags, &op->flags);
    case 'w': return parse_int_bits(tok, whences, NULL, &op->flags);
    case 'r': return parse_int_bits(tok, mremap_flags, NULL, &op->flags);
    case 'd': return parse_int_bits(tok, advices, NULL, &op->flags);
    case 't':
        if (parse_number(tok, &v) || v < 0 || v > 0xff)
            return -1;
        op->pattern = (int)v;
        return 0;
    case 'v':
        if (strcmp(tok, "vecnull") != 0)
            return -1;
        op->flags |= DT_VEC_NULL;
        return 0;
    case 'N': return parse_name(tok, op);
    case 'S': {
        struct dt_setting setting;
        char why[8];
        if (strlen(tok) > DT_MAX_LINE || dt_setting_parse(tok, &setting, why, sizeof(why)))
            return -1;
        memcpy(op->str, tok, strlen(tok) + 1);
        return 0;
    }
    case 'Q':
    case 'P': return parse_string(tok, op->str);
    case 'E': return strchr(tok, '=') ? -1 : parse_string(tok, op->str);
    case 'e':
        if (parse_number(tok, &v) || v < 0 || v > DT_MAX_ENV_VALUE)
            return -1;
        op->len = (uint64_t)v;
        op->flags = 1;
        return 0;
    default: return -1;
    }
}

/* What argument letter a stands for, for messages. */
static const char *arg_meaning(char a)
{
    switch (a) {
    case 'a': return "an address: +0x... in the window, +-0x... below it, 0x... absolute";
    case 'A': return "a new address: +0x... in the window, +-0x... below it, 0x... absolute";
    case 'l': case 'L': return "a length: a number";
    case 'o': return "an offset: a number, may be negative";
    case 'f': return "a file descriptor: a number";
    case 'p': return "protection: READ|WRITE|EXEC|SEM|GROWSDOWN|GROWSUP, NONE or a number";
    case 'm': return "mmap flags: SHARED, PRIVATE, ... joined by '|', or a number";
    case 's': return "msync flags: ASYNC|INVALIDATE|SYNC or a number";
    case 'O': return "open flags: RDONLY, WRONLY, RDWR or ACC3, then |CREAT|EXCL|TRUNC|APPEND|DIRECTORY|NOFOLLOW";
    case 'w': return "whence: SET, CUR, END, DATA, HOLE or a number";
    case 'r': return "mremap flags: MAYMOVE|FIXED|DONTUNMAP, 0 or a number";
    case 'd': return "advice: DONTNEED, FREE, ... or a number";
    case 't': return "the first byte stored: 0..0xff";
    case 'v': return "\"vecnull\" or nothing";
    case 'N': return "a file name (f0, f1, f2, f3, new, d, missing) or a path: bare, or in double quotes with \\\", \\\\ and \\xNN";
    case 'S': return "FIELD=VALUE, FIELD a vms_config field";
    case 'Q': return "a string: bare, or in double quotes with \\\", \\\\ and \\xNN";
    case 'P': return "a path: bare, or in double quotes with \\\", \\\\ and \\xNN";
    case 'E': return "an environment name (no '='): bare or in double quotes";
    case 'e': return "the value's length: 0..131072, or nothing for a string without '='";
    case 'M': return "START-END PERMS OFFSET [NAME], as /proc/PID/maps without device and inode";
    default: return "?";
    }
}

/* The next token of the line at *at (a quoted one whole, quotes kept), or
 * NULL at the end; -1 in *bad for an unterminated quote. The line is cut
 * in place. */
static char *next_token(char **at, int *bad)
{
    char *p = *at;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (!*p)
        return *at = p, NULL;
    char *start = p;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1])
                p++;
        if (*p != '"') {
            *bad = 1;
            return *at = p, NULL;
        }
        p++;
    }
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
        p++;
    if (*p)
        *p++ = '\0';
    *at = p;
    return start;
}

/* "=> ANSWER": the kernel's recorded answer. */
static int parse_answer(const char *tok, struct dt_op *op)
{
    int64_t v;
    if (strcmp(tok, "ok") == 0) {
        op->expect = DT_EXPECT_OK;
    } else if (strcmp(tok, "SIGSEGV") == 0 || strcmp(tok, "SIGBUS") == 0) {
        op->expect = DT_EXPECT_SIGNAL;
        op->expect_value = tok[3] == 'S' ? 11 : 7;
    } else if (tok[0] == '@' && parse_number(tok + 1, &v) == 0 && v >= 0 && v < DT_MAX_TASKS) {
        op->expect = DT_EXPECT_TASK;
        op->expect_value = v;
    } else if (tok[0] == '-' && isupper((unsigned char)tok[1]) && errno_of(tok + 1)) {
        op->expect = DT_EXPECT_VALUE;
        op->expect_value = -errno_of(tok + 1);
    } else if (parse_number(tok, &v) == 0) {
        op->expect = DT_EXPECT_VALUE;
        op->expect_value = v;
    } else {
        return -1;
    }
    return 0;
}

/* The answers each kind can have: value, ok or signal, task. */
static int answer_fits(const struct dt_op *op)
{
    switch (op->kind) {
    case DT_LOAD:
    case DT_STORE: return op->expect == DT_EXPECT_OK || op->expect == DT_EXPECT_SIGNAL;
    case DT_FORK:
    case DT_THREAD: return op->expect == DT_EXPECT_TASK;
    case DT_SET:
    case DT_ARG:
    case DT_ARG_MORE:
    case DT_ENV:
    case DT_MAPS: return 0;
    default: return op->expect == DT_EXPECT_VALUE;
    }
}

static int parse_args(struct dt_op *op, char *rest, char *err, size_t errsize)
{
    const char *args = kind_args[op->kind];
    const char *kind = kind_names[op->kind];
    int bad = 0;
    if (*args == 'M') { /* the rest of the line, blanks and all */
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (parse_maps_line(rest, op))
            return snprintf(err, errsize, "maps: bad line (expected %s)", arg_meaning('M')), -1;
        return 0;
    }
    char *tok = next_token(&rest, &bad);
    for (const char *a = args; *a; a++) {
        int optional = *a == 'v' || *a == 'e';
        if (optional && (!tok || strcmp(tok, "=>") == 0))
            break;
        if (!tok && bad)
            return snprintf(err, errsize, "%s: a quote is not closed", kind), -1;
        if (!tok || strcmp(tok, "=>") == 0) {
            snprintf(err, errsize, "%s: missing argument %d (%s); %s takes %d", kind, (int)(a - args) + 1,
                     arg_meaning(*a), kind,
                     (int)strlen(args) - (strchr(args, 'v') != NULL || strchr(args, 'e') != NULL));
            return -1;
        }
        if (parse_arg(op, *a, tok)) {
            snprintf(err, errsize, "%s: bad or missing argument %d ('%.40s%s': expected %s)", kind,
                     (int)(a - args) + 1, tok, strlen(tok) > 40 ? "..." : "", arg_meaning(*a));
            return -1;
        }
        tok = next_token(&rest, &bad);
    }
    if (tok && strcmp(tok, "=>") == 0) {
        char *answer = next_token(&rest, &bad);
        if (!answer || parse_answer(answer, op) || !answer_fits(op)) {
            snprintf(err, errsize, "%s: bad answer after '=>' ('%.40s': expected %s)", kind, answer ? answer : "",
                     op->kind == DT_LOAD || op->kind == DT_STORE ? "ok, SIGSEGV or SIGBUS"
                     : op->kind == DT_FORK || op->kind == DT_THREAD ? "@N, the new task"
                     : dt_kind_recorded_only(op->kind) && op->kind != DT_EXECVE && op->kind != DT_BRK
                         ? "nothing: this line has no answer"
                         : "a number or -ENAME");
            return -1;
        }
        tok = next_token(&rest, &bad);
    }
    if (tok || bad) {
        if (bad)
            snprintf(err, errsize, "%s: a quote is not closed", kind);
        else
            snprintf(err, errsize, "%s: unexpected '%.40s%s' after the last argument", kind, tok,
                     strlen(tok) > 40 ? "..." : "");
        return -1;
    }
    return 0;
}

int dt_parse_op(const char *line, struct dt_op *op, char *err, size_t errsize)
{
    char copy[DT_MAX_LINE + 1];
    memset(op, 0, sizeof(*op));
    op->fd = -1;
    size_t len = strlen(line);
    if (len > DT_MAX_LINE) {
        snprintf(err, errsize, "line longer than %d bytes", DT_MAX_LINE);
        return -1;
    }
    memcpy(copy, line, len + 1);
    char *rest = copy;
    int bad = 0;
    char *tok = next_token(&rest, &bad);
    if (!tok) {
        snprintf(err, errsize, bad ? "a quote is not closed" : "empty line");
        return -1;
    }
    if (tok[0] == '@') {
        int64_t proc = -1;
        if (parse_number(tok + 1, &proc) || proc < 0 || proc >= DT_MAX_TASKS) {
            snprintf(err, errsize, "bad process '%.40s' (@0..@%d; @%d in a recorded scenario)", tok,
                     DT_MAX_PROCS - 1, DT_MAX_TASKS - 1);
            return -1;
        }
        op->proc = (int)proc;
        tok = next_token(&rest, &bad);
        if (!tok) {
            snprintf(err, errsize, "no operation after '@%d'", op->proc);
            return -1;
        }
    }
    op->kind = -1;
    for (int k = 0; k < DT_NKINDS; k++)
        if (strcmp(tok, kind_names[k]) == 0)
            op->kind = k;
    if (op->kind < 0) {
        snprintf(err, errsize, "unknown operation '%.40s%s'", tok, strlen(tok) > 40 ? "..." : "");
        return -1;
    }
    return parse_args(op, rest, err, errsize);
}

/* ---- safety ----
 *
 * The host child runs every operation for real, so an operation may act
 * only on memory the test owns. The ground the rules stand on:
 *   - the test area is the window with a guard of DT_GUARD on either side
 *     ([W - G, W + S + G)); the host picks a window whose area and a second
 *     guard beyond it on each side ([W - 2G, W + S + 2G)) hold nothing of its
 *     own, and the harness never maps anything there afterwards (its own
 *     mappings are placed top-down below mmap_base, far away);
 *   - nothing of the harness lies at or above 2^47 (the kernel places
 *     nothing there without a hint above it, on a 5-level host too);
 *   - a kernel walk or copy that stops at the first hole (mprotect, mincore,
 *     the copies of read and write) cannot leave the area from inside it:
 *     the second guard is such a hole;
 *   - an argument the kernel refuses before it acts (a range that wraps or
 *     reaches past the largest TASK_SIZE, 2^56 - 4 KiB; an unknown madvise
 *     advice; a buffer access_ok refuses) is safe anywhere.
 * A rule must hold on a 5-level host too, where user space reaches 2^56:
 * MAP_FIXED over the window with a length of 2^47 fails with 4-level tables
 * but would map over the harness with 5 levels, so it is refused here. */

#define HIGH_USER (UINT64_C(1) << 47)          /* nothing of the harness at or above */
#define TASK_SIZE_MAX UINT64_C(0xfffffffffff000) /* 5-level TASK_SIZE: the largest */

static uint64_t page_align(uint64_t len) { return (len + DT_PAGE - 1) & ~(DT_PAGE - 1); }

/* Does [addr, addr+len) lie in the test area (the window and the guard on
 * either side)? A relative address below the window wraps around, so the
 * area starts at the relative address -DT_GUARD. */
static int in_window(const struct dt_op *op, uint64_t len)
{
    const uint64_t area = DT_WINDOW_SIZE + 2 * DT_GUARD;
    uint64_t lo = op->addr + DT_GUARD; /* relative to the area's start */
    return !op->abs && lo <= area && len <= area - lo;
}

/* Does the range start at or above 2^47, where only the test maps anything
 * (and only for a step: the runner unmaps it at once)? A range from there
 * that wraps is refused by every call before it acts. */
static int far_above(const struct dt_op *op) { return op->abs && op->addr >= HIGH_USER; }

/* An address the host child never maps: below mmap_min_addr, or beyond the
 * user half. */
static int never_mapped(uint64_t addr) { return addr < 0x10000 || addr >= DT_TASK_SIZE; }

/* A length that no mapping call accepts from any address: it rounds to 0
 * or reaches past the largest TASK_SIZE (ENOMEM, EINVAL). */
static int len_refused(uint64_t len) { return page_align(len) == 0 || len > TASK_SIZE_MAX; }

/* Whole huge pages: an anonymous MAP_HUGETLB mapping is rounded up to
 * them, and an mremap of a hugetlb VMA rounds its lengths so. */
static uint64_t hpage_align(uint64_t len)
{
    const uint64_t hpage = UINT64_C(2) << 20;
    return len > UINT64_MAX - (hpage - 1) ? 0 : (len + hpage - 1) & ~(hpage - 1);
}

static const char *mmap_unsafe(const struct dt_op *op)
{
    int fixed = op->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    int hugetlb = (op->flags & (MAP_HUGETLB | MAP_ANONYMOUS)) == (MAP_HUGETLB | MAP_ANONYMOUS);
    /* A hugetlb hint is rounded up to a huge page as well. */
    uint64_t reach = hugetlb ? hpage_align(op->len) + (fixed ? 0 : hpage_align(1)) : page_align(op->len);
    int must_fail = op->len == 0 || len_refused(op->len) || (op->off & (int64_t)(DT_PAGE - 1));
    if (must_fail)
        return NULL;
    /* Populating (or locking) more than the window could exhaust the host. */
    if ((op->flags & (MAP_POPULATE | MAP_LOCKED)) && op->len > DT_WINDOW_SIZE)
        return "MAP_POPULATE/MAP_LOCKED longer than the window";
    if (hugetlb && !reach)
        return NULL; /* rounds to 0: EINVAL */
    if (fixed && !in_window(op, reach) && !far_above(op) &&
        !(op->abs && op->addr & (DT_PAGE - 1)))
        return "MAP_FIXED outside the window";
    /* A hint the kernel may honour: the mapping must not reach past the
     * test area into the second guard, which must stay a hole. Without a
     * hint (or one below 64 KiB, or at or above 2^47) the mapping starts
     * outside the window, never over anything, and the runner unmaps it
     * before the next step. */
    int no_hint = op->abs && (op->addr < 0x10000 || op->addr >= HIGH_USER);
    if (!fixed && !no_hint && !in_window(op, reach))
        return "a hint whose mapping could reach past the window";
    return NULL;
}

/* mremap: the old range, and a fixed new one, in the window (a move the
 * kernel places lands outside it and is undone by the runner). */
static const char *mremap_unsafe(const struct dt_op *op)
{
    const int fixed = 2, dontunmap = 4;
    if ((op->addr & (DT_PAGE - 1)) || op->len2 == 0 || len_refused(op->len2) ||
        len_refused(op->len) || (op->flags & ~7))
        return NULL; /* EINVAL before anything */
    uint64_t old_end = page_align(op->len), new_len = page_align(op->len2);
    uint64_t reach = old_end > new_len ? old_end : new_len;
    /* At a huge page boundary the VMA may be hugetlb: lengths round up. */
    if (!(op->addr & ((UINT64_C(2) << 20) - 1)))
        reach = hpage_align(reach) ? hpage_align(reach) : reach;
    if (!in_window(op, reach) && !far_above(op))
        return "mremap outside the window";
    struct dt_op to = {.abs = op->abs2, .addr = op->addr2};
    if ((op->flags & (fixed | dontunmap)) && !in_window(&to, new_len) && !far_above(&to))
        return "mremap to outside the window";
    return NULL;
}

/* Advice Linux 6.x may know (0-4, 8-25, 100-103 and a few to come); any
 * other is EINVAL before the range is looked at. */
static int advice_may_be_valid(int advice)
{
    return (advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 31) ||
           (advice >= 100 && advice <= 103);
}

static const char *madvise_unsafe(const struct dt_op *op)
{
    if (op->flags == 100 || op->flags == 101)
        return "memory-failure advice";
    if (!advice_may_be_valid(op->flags))
        return NULL;
    uint64_t len = page_align(op->len);
    if ((op->addr & (DT_PAGE - 1)) || op->len == 0 || len == 0)
        return NULL; /* EINVAL, or 0 at once */
    /* A range that wraps is EINVAL; wrapping is certain from any window at
     * or below 2^48 when the length is this large. */
    if (len > UINT64_MAX - (UINT64_C(1) << 48))
        return NULL;
    /* madvise goes on past holes: the whole range must be the test's. */
    return in_window(op, len) || far_above(op) ? NULL : "madvise outside the window";
}

/* fds the host child never has open: it holds its socket at 1000 (and 1001
 * for a moment during a fork), and 0-2 are /dev/null there but closed in
 * vmsim. */
static int fd_ok(int fd) { return fd < 0 || (fd >= 3 && fd <= DT_MAX_FD) || fd > 1001; }

/* read/write/pread/pwrite: the kernel copies from the buffer on, in order,
 * and stops at the first page it cannot touch; from the test area it meets
 * the second guard before anything of the harness. */
static const char *io_unsafe(const struct dt_op *op)
{
    if (!fd_ok(op->fd))
        return "fd out of range";
    if (op->abs)
        return op->addr < 0x10000 || op->addr >= HIGH_USER ? NULL : "absolute buffer";
    return in_window(op, 0) ? NULL : "buffer outside the window";
}

#define RECORDED_ONLY "belongs to a recorded scenario (one that starts with set, arg, env or execve lines)"

const char *dt_op_unsafe(const struct dt_op *op)
{
    if (op->proc < 0 || op->proc >= DT_MAX_PROCS)
        return "bad process (@0..@7; up to @255 in a recorded scenario)";
    if (dt_kind_recorded_only(op->kind))
        return "this line " RECORDED_ONLY;
    if (op->expect != DT_EXPECT_NONE)
        return "an answer ('=> ...') " RECORDED_ONLY "; here the kernel answers";
    switch (op->kind) {
    case DT_MMAP:
        if (!fd_ok(op->fd))
            return "fd out of range";
        return mmap_unsafe(op);
    case DT_MUNMAP:
        if ((op->addr & (DT_PAGE - 1)) || op->len == 0 || len_refused(op->len))
            return NULL; /* EINVAL before anything */
        return in_window(op, page_align(op->len)) || far_above(op) ? NULL : "munmap outside the window";
    case DT_MPROTECT:
        /* PROT_GROWSDOWN goes to the first VMA below the end, wherever
         * that is: the whole range must be the window's. */
        if ((op->prot & 0x03000000) && !(op->addr & (DT_PAGE - 1)) && op->len &&
            !in_window(op, page_align(op->len)) && !far_above(op))
            return "mprotect with PROT_GROWSDOWN/GROWSUP reaching outside the window";
        /* fallthrough */
    case DT_MSYNC:
    case DT_MINCORE:
        /* These stop at the first hole (msync goes on, but changes nothing
         * a program sees), and the second guard is one. */
        if ((op->addr & (DT_PAGE - 1)) || op->len == 0)
            return NULL;
        return in_window(op, 0) || far_above(op) ? NULL : "range outside the window";
    case DT_LOAD:
    case DT_STORE:
        if (op->len < 1 || op->len > DT_MAX_LOAD)
            return "load/store of 1..16 bytes only";
        if (op->abs)
            return never_mapped(op->addr) && never_mapped(op->addr + op->len - 1) ? NULL
                                                                                  : "absolute address the host may map";
        return in_window(op, op->len) ? NULL : "access outside the window";
    case DT_READ:
    case DT_WRITE:
    case DT_PREAD:
    case DT_PWRITE:
        return io_unsafe(op);
    case DT_OPEN:
        if (op->name == DT_NAME_PATH)
            return "a path " RECORDED_ONLY "; here the names are f0, f1, f2, f3, new, d and missing";
        return op->name >= 0 && op->name < DT_NNAMES ? NULL : "bad name";
    case DT_FTRUNCATE:
        if (!fd_ok(op->fd))
            return "fd out of range";
        return op->off <= (int64_t)(16 << 20) || op->off > 0xffffffff000 ? NULL : "huge file";
    case DT_CLOSE:
    case DT_LSEEK:
    case DT_FSYNC:
    case DT_FSTAT:
        return fd_ok(op->fd) ? NULL : "fd out of range";
    case DT_SYNC:
    case DT_FORK:
        return NULL;
    case DT_EXIT:
        return op->proc == 0 ? "process 0 cannot exit (it lives to the end)" : NULL;
    case DT_MREMAP:
        return mremap_unsafe(op);
    case DT_MADVISE:
        return madvise_unsafe(op);
    default:
        return "unknown kind";
    }
}

/* A recorded scenario runs over the host's own files (its root is "/"):
 * it opens them read-only and writes none, so that nothing it replays can
 * change a file (a shared writable mapping needs a writable descriptor). */
const char *dt_op_unsafe_recorded(const struct dt_op *op)
{
    switch (op->kind) {
    case DT_OPEN:
        if ((op->flags & O_ACCMODE) != O_RDONLY || (op->flags & (O_CREAT | O_TRUNC | O_APPEND | O_EXCL)) ||
            (op->flags & __O_TMPFILE) == __O_TMPFILE)
            return "a recorded scenario opens files read-only (it runs over this machine's files)";
        return NULL;
    case DT_WRITE:
    case DT_PWRITE:
    case DT_FTRUNCATE:
        return "a recorded scenario writes no file (it runs over this machine's files)";
    default:
        return NULL;
    }
}
