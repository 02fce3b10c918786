/*
 * The binding's text parsers: sizes and flag names (see names.h). Every
 * value is the host's own constant (vmsim.h supplies the Linux x86-64 values
 * a strict build hides), so a name means what it means to the C API.
 */
#include "names.h"

#include "vmsim.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

#define KIND(var, what_, prefix_, table, combine_, letters_)                                  \
    const struct vl_flag_kind var = {.what = what_, .prefix = prefix_, .names = table,       \
                                     .count = sizeof(table) / sizeof(table[0]),              \
                                     .combine = combine_, .letters = letters_}

static const struct vl_name prot_names[] = {
    {"none", PROT_NONE}, {"read", PROT_READ}, {"write", PROT_WRITE}, {"exec", PROT_EXEC},
    {"growsdown", PROT_GROWSDOWN}, {"growsup", PROT_GROWSUP},
};
KIND(vl_prot, "protection", "PROT_", prot_names, 1, 1);

static const struct vl_name map_names[] = {
    /* shared_validate first: formatting takes the first name whose bits are all set */
    {"shared_validate", MAP_SHARED_VALIDATE}, {"shared", MAP_SHARED}, {"private", MAP_PRIVATE},
    {"droppable", MAP_DROPPABLE}, {"fixed", MAP_FIXED}, {"anonymous", MAP_ANONYMOUS},
    {"anon", MAP_ANONYMOUS}, {"32bit", MAP_32BIT}, {"growsdown", MAP_GROWSDOWN},
    {"denywrite", MAP_DENYWRITE}, {"executable", MAP_EXECUTABLE}, {"locked", MAP_LOCKED},
    {"noreserve", MAP_NORESERVE}, {"populate", MAP_POPULATE}, {"nonblock", MAP_NONBLOCK},
    {"stack", MAP_STACK}, {"hugetlb", MAP_HUGETLB}, {"sync", MAP_SYNC},
    {"fixed_noreplace", MAP_FIXED_NOREPLACE}, {"uninitialized", MAP_UNINITIALIZED},
    {"huge_2mb", (int64_t)21 << MAP_HUGE_SHIFT}, {"huge_1gb", (int64_t)30 << MAP_HUGE_SHIFT},
};
KIND(vl_map_flags, "mmap flag", "MAP_", map_names, 1, 0);

static const struct vl_name msync_names[] = {
    {"async", MS_ASYNC}, {"invalidate", MS_INVALIDATE}, {"sync", MS_SYNC},
};
KIND(vl_msync_flags, "msync flag", "MS_", msync_names, 1, 0);

static const struct vl_name mremap_names[] = {
    {"maymove", MREMAP_MAYMOVE}, {"fixed", MREMAP_FIXED}, {"dontunmap", MREMAP_DONTUNMAP},
};
KIND(vl_mremap_flags, "mremap flag", "MREMAP_", mremap_names, 1, 0);

static const struct vl_name advice_names[] = {
    {"normal", MADV_NORMAL}, {"random", MADV_RANDOM}, {"sequential", MADV_SEQUENTIAL},
    {"willneed", MADV_WILLNEED}, {"dontneed", MADV_DONTNEED}, {"free", MADV_FREE},
    {"remove", MADV_REMOVE}, {"dontfork", MADV_DONTFORK}, {"dofork", MADV_DOFORK},
    {"mergeable", MADV_MERGEABLE}, {"unmergeable", MADV_UNMERGEABLE},
    {"hugepage", MADV_HUGEPAGE}, {"nohugepage", MADV_NOHUGEPAGE}, {"dontdump", MADV_DONTDUMP},
    {"dodump", MADV_DODUMP}, {"wipeonfork", MADV_WIPEONFORK}, {"keeponfork", MADV_KEEPONFORK},
    {"cold", MADV_COLD}, {"pageout", MADV_PAGEOUT}, {"populate_read", MADV_POPULATE_READ},
    {"populate_write", MADV_POPULATE_WRITE}, {"dontneed_locked", MADV_DONTNEED_LOCKED},
    {"collapse", MADV_COLLAPSE}, {"hwpoison", MADV_HWPOISON},
    {"soft_offline", MADV_SOFT_OFFLINE}, {"guard_install", MADV_GUARD_INSTALL},
    {"guard_remove", MADV_GUARD_REMOVE},
};
KIND(vl_advice, "madvise advice", "MADV_", advice_names, 0, 0);

static const struct vl_name open_names[] = {
    {"rdonly", O_RDONLY}, {"wronly", O_WRONLY}, {"rdwr", O_RDWR}, {"creat", O_CREAT},
    {"excl", O_EXCL}, {"noctty", O_NOCTTY}, {"trunc", O_TRUNC}, {"append", O_APPEND},
    {"nonblock", O_NONBLOCK}, {"sync", O_SYNC}, {"dsync", O_DSYNC}, {"async", O_ASYNC},
    {"direct", O_DIRECT}, {"largefile", O_LARGEFILE}, {"tmpfile", O_TMPFILE},
    {"directory", O_DIRECTORY}, {"nofollow", O_NOFOLLOW}, {"noatime", O_NOATIME},
    {"cloexec", O_CLOEXEC}, {"path", O_PATH},
};
KIND(vl_open_flags, "open flag", "O_", open_names, 1, 0);

static const struct vl_name whence_names[] = {
    {"set", SEEK_SET}, {"cur", SEEK_CUR}, {"end", SEEK_END}, {"data", SEEK_DATA},
    {"hole", SEEK_HOLE},
};
KIND(vl_whence, "whence", "SEEK_", whence_names, 0, 0);

const struct vl_flag_kind *const vl_all_kinds[] = {
    &vl_prot, &vl_map_flags, &vl_msync_flags, &vl_mremap_flags, &vl_advice, &vl_open_flags,
    &vl_whence,
};
const size_t vl_nr_kinds = sizeof(vl_all_kinds) / sizeof(vl_all_kinds[0]);

/* ---- numbers and sizes ---- */

/* Parses an unsigned decimal or 0x-hexadecimal number at s[*pos]: 0, or -1
 * when there is no digit, or -2 when it does not fit 64 bits. */
static int parse_u64(const char *s, size_t len, size_t *pos, uint64_t *out)
{
    size_t i = *pos;
    unsigned base = 10;
    if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    uint64_t v = 0;
    size_t start = i;
    for (; i < len && isxdigit((unsigned char)s[i]); i++) {
        unsigned d = isdigit((unsigned char)s[i]) ? (unsigned)(s[i] - '0')
                                                  : (unsigned)(tolower((unsigned char)s[i]) - 'a' + 10);
        if (d >= base)
            break;
        if (v > (UINT64_MAX - d) / base)
            return -2;
        v = v * base + d;
    }
    if (i == start)
        return -1;
    *pos = i;
    *out = v;
    return 0;
}

static int suffix_shift(char c)
{
    switch (toupper((unsigned char)c)) {
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    case 'P': return 50;
    case 'E': return 60;
    default: return -1;
    }
}

/* After the suffix letter: nothing, "B" or "iB". */
static int suffix_tail_ok(const char *s, size_t len, size_t i)
{
    if (i == len)
        return 1;
    if (len - i == 1)
        return s[i] == 'B' || s[i] == 'b';
    return len - i == 2 && (s[i] == 'i' || s[i] == 'I') && (s[i + 1] == 'B' || s[i + 1] == 'b');
}

int vl_parse_size(const char *s, size_t len, uint64_t *out, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    while (len > i && isspace((unsigned char)s[len - 1]))
        len--;
    if (i < len && s[i] == '-') {
        snprintf(err, errlen, "negative size");
        return -1;
    }
    uint64_t v;
    int r = parse_u64(s, len, &i, &v);
    if (r == -2) {
        snprintf(err, errlen, "size too large (more than 64 bits)");
        return -1;
    }
    if (r < 0) {
        snprintf(err, errlen, "not a size (a number with an optional K, M, G, T, P or E)");
        return -1;
    }
    if (i < len) {
        int shift = suffix_shift(s[i]);
        if (shift < 0 || !suffix_tail_ok(s, len, i + 1)) {
            snprintf(err, errlen, "not a size (unknown suffix; use K, M, G, T, P or E)");
            return -1;
        }
        if (v > (UINT64_MAX >> shift)) {
            snprintf(err, errlen, "size too large (more than 64 bits)");
            return -1;
        }
        v <<= shift;
    }
    *out = v;
    return 0;
}

/* ---- flag names ---- */

static int name_equal(const char *a, size_t alen, const char *lower)
{
    size_t n = strlen(lower);
    if (alen != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != lower[i])
            return 0;
    return 1;
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len <= n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (toupper((unsigned char)s[i]) != prefix[i])
            return 0;
    return 1;
}

/* One '|'-separated part: a name (with or without the prefix) or a number. */
static int parse_part(const struct vl_flag_kind *k, const char *s, size_t len, int64_t *out,
                      char *err, size_t errlen)
{
    size_t pos = 0;
    uint64_t num;
    if (parse_u64(s, len, &pos, &num) == 0 && pos == len) {
        *out = (int64_t)num;
        return 0;
    }
    const char *name = s;
    size_t n = len;
    if (has_prefix(s, len, k->prefix)) {
        name += strlen(k->prefix);
        n -= strlen(k->prefix);
    }
    for (size_t i = 0; i < k->count; i++)
        if (name_equal(name, n, k->names[i].name)) {
            *out = k->names[i].value;
            return 0;
        }
    snprintf(err, errlen, "unknown %s '%.*s'", k->what, (int)(len > 40 ? 40 : len), s);
    return -1;
}

/* "rw-", "r-x", "---": every character one of r, w, x, '-'. */
static int is_letters(const char *s, size_t len)
{
    if (len == 0 || len > 3)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("rwx-", s[i]))
            return 0;
    return 1;
}

static int64_t letters_value(const char *s, size_t len)
{
    int64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v |= s[i] == 'r' ? PROT_READ : s[i] == 'w' ? PROT_WRITE : s[i] == 'x' ? PROT_EXEC : 0;
    return v;
}

/* A short word of prot letters with one stray letter ("rwz"): named as such. */
static int bad_letters(const char *s, size_t len, char *err, size_t errlen)
{
    if (len == 0 || len > 3)
        return 0;
    size_t good = 0, bad = len;
    for (size_t i = 0; i < len; i++) {
        if (strchr("rwx-", s[i]))
            good++;
        else
            bad = i;
    }
    if (good == 0 || good + 1 != len)
        return 0;
    snprintf(err, errlen, "unknown protection letter '%c' in '%.*s' (use r, w, x and -)",
             isprint((unsigned char)s[bad]) ? s[bad] : '?', (int)len, s);
    return 1;
}

static size_t trim(const char **s, size_t len)
{
    while (len && isspace((unsigned char)**s)) {
        (*s)++;
        len--;
    }
    while (len && isspace((unsigned char)(*s)[len - 1]))
        len--;
    return len;
}

int vl_parse_flags(const struct vl_flag_kind *k, const char *s, size_t len, int64_t *out,
                   char *err, size_t errlen)
{
    len = trim(&s, len);
    if (len == 0 && k->combine) {
        *out = 0;
        return 0;
    }
    if (k->letters && is_letters(s, len)) {
        *out = letters_value(s, len);
        return 0;
    }
    if (k->letters && bad_letters(s, len, err, errlen))
        return -1;
    int64_t v = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '|')
            continue;
        const char *part = s + start;
        size_t n = trim(&part, i - start);
        if (n == 0 || (!k->combine && i < len)) {
            snprintf(err, errlen, k->combine ? "empty %s name in '%.*s'"
                                              : "one %s expected, not '%.*s'",
                     k->what, (int)(len > 40 ? 40 : len), s);
            return -1;
        }
        int64_t one;
        if (parse_part(k, part, n, &one, err, errlen))
            return -1;
        v |= one;
        start = i + 1;
    }
    *out = v;
    return 0;
}

const char *vl_format_flags(const struct vl_flag_kind *k, int64_t value, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (!k->combine || value == 0) {
        for (size_t i = 0; i < k->count; i++)
            if (k->names[i].value == value) {
                snprintf(buf, len, "%s", k->names[i].name);
                return buf;
            }
        snprintf(buf, len, "0x%" PRIx64, (uint64_t)value);
        return buf;
    }
    uint64_t left = (uint64_t)value;
    for (size_t i = 0; i < k->count && left; i++) {
        uint64_t bits = (uint64_t)k->names[i].value;
        if (bits && (left & bits) == bits) {
            used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                     used ? "|" : "", k->names[i].name);
            left &= ~bits;
        }
        if (used >= len)
            return buf;
    }
    if (left)
        snprintf(buf + used, used < len ? len - used : 0, "%s0x%" PRIx64, used ? "|" : "", left);
    return buf;
}
