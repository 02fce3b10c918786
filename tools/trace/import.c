/*
 * import.c - other tools' traces into .vmt records: Valgrind lackey's text
 * (`I`, ` L`, ` S`, ` M` lines, as `--trace-mem=yes` prints them and the
 * cache-lab traces use) and ChampSim's binary instruction records (64 bytes
 * each, little-endian: the instruction pointer, two branch bytes, 2
 * destination and 4 source register bytes, 2 destination and 4 source
 * memory addresses, 0 for none). Neither carries mm calls: the replay makes
 * the memory they touch (docs/traces.md, "Traces without mm calls").
 */
#include "vmt.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define LACKEY_LINE_MAX 256

static int parse_hex(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    unsigned digits = 0;
    for (; isxdigit((unsigned char)*s); s++, digits++) {
        if (digits == 16)
            return -1;
        int d = isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10;
        x = x << 4 | (uint64_t)d;
    }
    if (digits == 0)
        return -1;
    *p = s;
    *v = x;
    return 0;
}

static int parse_dec(const char **p, uint64_t *v, uint64_t max)
{
    const char *s = *p;
    uint64_t x = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    for (; isdigit((unsigned char)*s); s++) {
        x = x * 10 + (uint64_t)(*s - '0');
        if (x > max)
            return -1;
    }
    *p = s;
    *v = x;
    return 0;
}

int vmt_lackey_line(const char *line, struct vmt_record *rec)
{
    const char *p = line;
    if ((p[0] == '=' && p[1] == '=') || (p[0] == '-' && p[1] == '-'))
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == 0 || *p == '\r')
        return 0;
    int indented = p != line;
    switch (*p) {
    case 'I': rec->type = VMT_FETCH; break;
    case 'L': rec->type = VMT_LOAD; break;
    case 'S': rec->type = VMT_STORE; break;
    case 'M': rec->type = VMT_MODIFY; break;
    default: return -1;
    }
    /* lackey writes data accesses indented and instruction fetches not */
    if (indented == (rec->type == VMT_FETCH))
        return -1;
    p++;
    if (*p != ' ' && *p != '\t')
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t addr, size;
    if (parse_hex(&p, &addr) < 0 || *p++ != ',' || parse_dec(&p, &size, VMT_ACCESS_MAX) < 0 ||
        size == 0)
        return -1;
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    if (*p)
        return -1;
    rec->addr = addr;
    rec->size = (uint32_t)size;
    return 1;
}

int vmt_import_lackey(FILE *in, struct vmt_writer *w, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct vmt_record rec;
    int rc = 0;
    for (uint64_t n = 1; rc == 0 && (len = getline(&line, &cap, in)) >= 0; n++) {
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        if (len > LACKEY_LINE_MAX) {
            snprintf(err, errlen, "line %" PRIu64 ": longer than %d bytes", n, LACKEY_LINE_MAX);
            rc = -1;
        } else if (strlen(line) != (size_t)len) {
            snprintf(err, errlen, "line %" PRIu64 ": a NUL byte", n);
            rc = -1;
        } else if ((rc = vmt_lackey_line(line, &rec)) < 0) {
            snprintf(err, errlen, "line %" PRIu64 ": not a lackey line (I, L, S or M ADDR,SIZE): '%.60s'",
                     n, line);
        } else if (rc > 0 && vmt_write_access(w, rec.type, rec.addr, rec.size) < 0) {
            snprintf(err, errlen, "line %" PRIu64 ": %s", n, vmt_writer_error(w));
            rc = -1;
        } else {
            rc = 0;
        }
    }
    free(line);
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "read error");
        rc = -1;
    }
    return rc;
}

#define CHAMPSIM_RECORD 64
#define CHAMPSIM_DST 2
#define CHAMPSIM_SRC 4

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ChampSim records give no sizes: each access is taken as 1 byte, so that
 * none straddles into a page the program may never have touched. */
static int champsim_record(const unsigned char *r, struct vmt_writer *w)
{
    if (vmt_write_access(w, VMT_FETCH, le64(r), 1) < 0)
        return -1;
    const unsigned char *dst = r + 16, *src = dst + 8 * CHAMPSIM_DST;
    for (int i = 0; i < CHAMPSIM_SRC; i++)
        if (le64(src + 8 * i) && vmt_write_access(w, VMT_LOAD, le64(src + 8 * i), 1) < 0)
            return -1;
    for (int i = 0; i < CHAMPSIM_DST; i++)
        if (le64(dst + 8 * i) && vmt_write_access(w, VMT_STORE, le64(dst + 8 * i), 1) < 0)
            return -1;
    return 0;
}

int vmt_import_champsim(FILE *in, struct vmt_writer *w, char *err, size_t errlen)
{
    unsigned char r[CHAMPSIM_RECORD];
    uint64_t n = 0;
    for (;; n++) {
        size_t got = fread(r, 1, sizeof(r), in);
        if (n == 0 && got >= 6 && (memcmp(r, "\xfd" "7zXZ", 6) == 0 || memcmp(r, "\x1f\x8b", 2) == 0)) {
            snprintf(err, errlen, "the trace is compressed (xz or gzip): decompress it first, "
                                  "e.g. xz -dc FILE | vmsim convert --from champsim - -o OUT");
            return -1;
        }
        if (got == 0)
            break;
        if (got < sizeof(r)) {
            snprintf(err, errlen, "truncated: %zu bytes after record %" PRIu64 " (records are %d bytes)",
                     got, n, CHAMPSIM_RECORD);
            return -1;
        }
        if (champsim_record(r, w) < 0) {
            snprintf(err, errlen, "record %" PRIu64 ": %s", n, vmt_writer_error(w));
            return -1;
        }
    }
    if (ferror(in)) {
        snprintf(err, errlen, "read error");
        return -1;
    }
    return 0;
}
