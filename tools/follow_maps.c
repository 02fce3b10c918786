/*
 * follow_maps.c - /proc/PID/maps texts of the host and of vmsim made
 * comparable. A file line names its device and inode, which vmsim numbers
 * its own way (08:01, inodes from 1001): both become "dev ino", so a file
 * line compares by range, permissions, offset and path; an anonymous line
 * (inode 0) keeps "00:00 0". The padding before the path is Linux's and is
 * rebuilt the same way for both.
 */
#include "follow.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct maps_line {
    uint64_t start, end;
    const char *text; /* the normalised line, without its newline */
    size_t len;
};

/* One maps line, normalised into out (which has room for len + 32 bytes). */
static size_t normalise_line(const char *line, size_t len, char *out)
{
    char copy[4352];
    if (len >= sizeof(copy))
        len = sizeof(copy) - 1;
    memcpy(copy, line, len);
    copy[len] = '\0';
    char range[64], perms[8], offset[24], dev[16];
    unsigned long long inode;
    int path_at = 0;
    if (sscanf(copy, "%63s %7s %23s %15s %llu %n", range, perms, offset, dev, &inode, &path_at) < 5) {
        memcpy(out, copy, len + 1); /* not a maps line: compared as it is */
        return len;
    }
    const char *path = path_at ? copy + path_at : ""; /* Linux ends a line without one in a blank */
    int n = inode ? sprintf(out, "%s %s %s dev ino", range, perms, offset)
                  : sprintf(out, "%s %s %s 00:00 0", range, perms, offset);
    if (*path)
        n += sprintf(out + n, "%*s%s", n < 72 ? 73 - n : 1, "", path);
    return (size_t)n;
}

char *fl_maps_normalise(const char *maps)
{
    size_t cap = strlen(maps) * 2 + 64, used = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (const char *p = maps; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (used + len + 128 > cap) {
            cap = (used + len + 128) * 2;
            char *bigger = realloc(out, cap);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        used += normalise_line(p, len, out + used);
        out[used++] = '\n';
        out[used] = '\0';
        p += len + (nl != NULL);
    }
    return out;
}

static size_t split_lines(const char *text, struct maps_line **lines)
{
    size_t n = 0, cap = 16;
    *lines = malloc(cap * sizeof(**lines));
    for (const char *p = text; *lines && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (n == cap) {
            cap *= 2;
            struct maps_line *bigger = realloc(*lines, cap * sizeof(**lines));
            if (!bigger)
                break;
            *lines = bigger;
        }
        char *dash;
        uint64_t start = strtoull(p, &dash, 16);
        uint64_t end = *dash == '-' ? strtoull(dash + 1, NULL, 16) : start;
        (*lines)[n++] = (struct maps_line){start, end, p, len};
        p += len + (nl != NULL);
    }
    return n;
}

static int same_line(const struct maps_line *a, const struct maps_line *b)
{
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

int fl_maps_diff(const char *kernel, const char *vmsim, FILE *out)
{
    struct maps_line *k = NULL, *v = NULL;
    size_t nk = split_lines(kernel, &k), nv = split_lines(vmsim, &v);
    size_t i = 0, j = 0;
    int differ = 0;
    /* Both lists run in address order: walk them together. */
    while (i < nk || j < nv) {
        if (i < nk && j < nv && same_line(&k[i], &v[j])) {
            i++, j++;
            continue;
        }
        differ++;
        /* Lines whose ranges overlap are one difference; else the lower goes first. */
        int overlap = i < nk && j < nv && k[i].start < v[j].end && v[j].start < k[i].end;
        int take_k = i < nk && (overlap || j >= nv || k[i].start <= v[j].start);
        int take_v = j < nv && (overlap || i >= nk || v[j].start <= k[i].start);
        if (take_k && out)
            fprintf(out, "  - kernel  %.*s\n", (int)k[i].len, k[i].text);
        if (take_v && out)
            fprintf(out, "  + vmsim   %.*s\n", (int)v[j].len, v[j].text);
        i += take_k;
        j += take_v;
    }
    free(k);
    free(v);
    return differ;
}

uint64_t fl_maps_stack_start(const char *maps)
{
    for (const char *p = maps; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len >= 7 && memcmp(p + len - 7, "[stack]", 7) == 0)
            return strtoull(p, NULL, 16);
        p += len + (nl != NULL);
    }
    return 0;
}

/* A maps name as a recorded line holds it: as it is, or in double quotes
 * with \" \\ and \xNN when it holds a byte that would not print. */
static void put_name(FILE *f, const char *name, size_t len)
{
    int plain = len && name[0] != '"';
    for (size_t i = 0; i < len && plain; i++)
        plain = name[i] >= ' ' && name[i] < 0x7f && name[i] != '\\';
    if (plain) {
        fprintf(f, " %.*s", (int)len, name);
        return;
    }
    fputs(" \"", f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < ' ' || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

char *fl_maps_recorded(const char *maps)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    for (const char *p = maps; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char head[160];
        snprintf(head, sizeof(head), "%.*s", (int)(len < sizeof(head) - 1 ? len : sizeof(head) - 1), p);
        char range[64], perms[8], offset[24];
        int name_at = 0;
        if (sscanf(head, "%63s %7s %23s %*s %*s%n", range, perms, offset, &name_at) == 3 && name_at) {
            fprintf(f, "%s %s %s", range, perms, offset);
            const char *name = p + name_at;
            size_t n = len - (size_t)name_at;
            while (n && (*name == ' ' || *name == '\t'))
                name++, n--;
            while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
                n--;
            if (n)
                put_name(f, name, n);
            fputc('\n', f);
        }
        p += len + (nl != NULL);
    }
    fclose(f);
    return text;
}
