/*
 * The state the static pictures draw (views.h), read through the
 * introspection API, and what they share.
 */
#include "views.h"
#include "text_escape.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- colours ---- */

const char *view_vma_colour(enum vms_vma_kind k)
{
    switch (k) {
    case VMS_VMA_ANON: return VIEW_SKY;
    case VMS_VMA_SHARED_ANON: return VIEW_PURPLE;
    case VMS_VMA_FILE_PRIVATE: return VIEW_YELLOW;
    case VMS_VMA_FILE_SHARED: return VIEW_ORANGE;
    case VMS_VMA_HEAP: return VIEW_GREEN;
    case VMS_VMA_STACK: return VIEW_BLUE;
    case VMS_VMA_SPECIAL: return VIEW_GREY;
    case VMS_VMA_HUGETLB: return VIEW_VERMILLION;
    default: return VIEW_LIGHT;
    }
}

const char *view_frame_colour(enum vms_frame_owner o)
{
    switch (o) {
    case VMS_FRAME_FREE: return VIEW_LIGHT;
    case VMS_FRAME_RESERVED: return VIEW_BLACK;
    case VMS_FRAME_ZERO: return VIEW_GREY;
    case VMS_FRAME_PGTABLE: return VIEW_BLUE;
    case VMS_FRAME_ANON: return VIEW_SKY;
    case VMS_FRAME_PAGE_CACHE: return VIEW_ORANGE;
    case VMS_FRAME_SHMEM: return VIEW_PURPLE;
    case VMS_FRAME_SWAP_CACHE: return VIEW_GREEN;
    case VMS_FRAME_KERNEL: return VIEW_YELLOW;
    default: return VIEW_LIGHT;
    }
}

const char *view_level_colour(int level)
{
    static const char *const by_level[] = {VIEW_LIGHT, "#D9ECF7", "#CFE8DF", "#FBF3C4", "#F6E1BF",
                                           "#F1DCE8"};
    return level >= 1 && level <= 5 ? by_level[level] : VIEW_LIGHT;
}

const char *view_text_on(const char *fill)
{
    /* the dark fills of the palette take white text */
    if (!strcmp(fill, VIEW_BLACK) || !strcmp(fill, VIEW_BLUE) || !strcmp(fill, VIEW_VERMILLION) ||
        !strcmp(fill, VIEW_GREEN))
        return "#FFFFFF";
    return VIEW_BLACK;
}

/* ---- page tables ---- */

struct table_reader {
    struct view_tables *out;
    size_t cap;
    int failed;
};

static int read_table(void *arg, const struct vms_pgtable_info *pi)
{
    struct table_reader *r = arg;
    struct view_tables *v = r->out;
    if (v->n == VIEW_MAX_TABLES) {
        v->more++;
        return 0;
    }
    if (v->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        struct view_table *grown = realloc(v->t, cap * sizeof(*grown));
        if (!grown) {
            r->failed = 1;
            return 1;
        }
        v->t = grown;
        r->cap = cap;
    }
    struct view_table *tb = &v->t[v->n++];
    tb->level = pi->level;
    snprintf(tb->name, sizeof(tb->name), "%s", pi->name);
    tb->pa = pi->pa;
    tb->va = pi->va;
    tb->span = pi->span;
    tb->present = pi->present;
    tb->used = pi->used;
    memcpy(tb->entries, pi->entries, sizeof(tb->entries));
    return 0;
}

int view_tables_read(vms_task *t, struct view_tables *out)
{
    *out = (struct view_tables){.levels = vms_task_pgtable_levels(t)};
    struct table_reader r = {.out = out};
    int rc = vms_pgtable_visit(t, read_table, &r);
    if (r.failed)
        rc = -ENOMEM;
    if (rc < 0) {
        view_tables_free(out);
        return rc;
    }
    return 0;
}

void view_tables_free(struct view_tables *v)
{
    free(v->t);
    *v = (struct view_tables){0};
}

const struct view_table *view_table_at(const struct view_tables *v, uint64_t pa)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->t[i].pa == pa)
            return &v->t[i];
    return NULL;
}

int view_on_walk(const struct view_table *tb, unsigned index, vms_addr va)
{
    uint64_t covers = tb->span * 512;
    /* the top table covers the whole address space */
    int inside = covers == 0 || (va >= tb->va && va - tb->va < covers);
    return inside && index == ((va - tb->va) / tb->span & 511);
}

void view_entry_flags(uint64_t e, char *buf, size_t size)
{
    if (!(e & VMS_PTE_P)) {
        snprintf(buf, size, e ? "not present: 0x%" PRIx64 : "-", e);
        return;
    }
    static const struct {
        uint64_t bit;
        const char *name;
    } bits[] = {{VMS_PTE_P, "P"},  {VMS_PTE_RW, "RW"}, {VMS_PTE_US, "US"}, {VMS_PTE_A, "A"},
                {VMS_PTE_D, "D"},  {VMS_PTE_PS, "PS"}, {VMS_PTE_G, "G"},   {VMS_PTE_NX, "NX"}};
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (!(e & bits[i].bit) || len + 4 >= size)
            continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? " " : "", bits[i].name);
        if (n > 0)
            len += (size_t)n;
    }
}

/* ---- VMAs ---- */

struct vma_reader {
    struct view_vmas *out;
    size_t cap;
    int failed;
};

static int read_vma(void *arg, const struct vms_vma_info *vi)
{
    struct vma_reader *r = arg;
    struct view_vmas *v = r->out;
    if (v->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct view_vma *grown = realloc(v->v, cap * sizeof(*grown));
        if (!grown) {
            r->failed = 1;
            return 1;
        }
        v->v = grown;
        r->cap = cap;
    }
    struct view_vma *vv = &v->v[v->n++];
    vv->vi = *vi;
    snprintf(vv->name, sizeof(vv->name), "%s", vi->name);
    vv->vi.name = NULL; /* the copy's name is vv->name: the pointer would move with realloc */
    return 0;
}

int view_vmas_read(vms_task *t, struct view_vmas *out)
{
    *out = (struct view_vmas){0};
    struct vma_reader r = {.out = out};
    int rc = vms_vma_visit(t, read_vma, &r);
    if (r.failed)
        rc = -ENOMEM;
    if (rc < 0) {
        view_vmas_free(out);
        return rc;
    }
    for (size_t i = 0; i < out->n; i++)
        out->v[i].vi.name = out->v[i].name;
    return 0;
}

void view_vmas_free(struct view_vmas *v)
{
    free(v->v);
    *v = (struct view_vmas){0};
}

/* ---- address spaces ---- */

static int read_task(void *arg, vms_task *t)
{
    struct view_spaces *s = arg;
    if (vms_task_killed(t))
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!vms_task_same_mm(s->task[i], t))
            continue;
        for (int k = 0; k < 7; k++) {
            if (!s->pids[i][k]) {
                s->pids[i][k] = vms_task_pid(t);
                break;
            }
        }
        return 0;
    }
    if (s->n == VIEW_MAX_SPACES)
        return 0;
    s->task[s->n] = t;
    memset(s->pids[s->n], 0, sizeof(s->pids[s->n]));
    s->pids[s->n][0] = vms_task_pid(t);
    s->n++;
    return 0;
}

void view_spaces_read(vms_machine *m, struct view_spaces *out)
{
    out->n = 0;
    vms_task_visit(m, read_task, out);
}

/* ---- text ---- */

void view_size(uint64_t bytes, char *buf, size_t size)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    uint64_t whole = bytes;
    while (whole >= 1024 && whole % 1024 == 0 && u < 6) {
        whole /= 1024;
        u++;
    }
    if (whole < 1024 * 1024) { /* exact and short: "8 KiB", "1 GiB" */
        snprintf(buf, size, "%" PRIu64 " %s", whole, units[u]);
        return;
    }
    double v = (double)bytes;
    for (u = 0; v >= 1024 && u < 6; u++)
        v /= 1024;
    snprintf(buf, size, "~%.4g %s", v, units[u]);
}

/* Text for XML: markup escaped, other characters as references; a control
 * character, U+FFFE/U+FFFF or a byte of no UTF-8 sequence (a file name in
 * another encoding) becomes U+FFFD, as XML allows none of them. */
void view_xml_text(FILE *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned char c = *s;
        uint32_t cp = 0xfffd;
        size_t len = 1;
        switch (c) {
        case '&': fputs("&amp;", out); s++; continue;
        case '<': fputs("&lt;", out); s++; continue;
        case '>': fputs("&gt;", out); s++; continue;
        case '"': fputs("&quot;", out); s++; continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f) {
            fputc(c, out);
            s++;
            continue;
        }
        if (c < 0x80)
            cp = c;
        else if ((len = utf8_decode(s, &cp)) == 0)
            len = 1, cp = 0xfffd;
        if (cp == 0xfffe || cp == 0xffff || (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f)
            cp = 0xfffd;
        fprintf(out, "&#x%" PRIX32 ";", cp);
        s += len;
    }
}
