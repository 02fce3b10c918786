/*
 * Hand-made SVG pictures of a machine (svg.h). Each picture is drawn into
 * a memory stream first, since its height is known only at the end, then
 * written after the document's head. Coordinates are whole or half pixels
 * printed with fixed formats, so the bytes depend on the run alone.
 */
#include "svg.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

/* ---- the document ---- */

struct svg {
    FILE *body;
    char *text;
    size_t len;
    int width, height; /* height: the lowest point drawn so far */
};

static int svg_begin(struct svg *s, int width)
{
    *s = (struct svg){.width = width, .height = 40};
    s->body = open_memstream(&s->text, &s->len);
    return s->body ? 0 : -ENOMEM;
}

static void grow(struct svg *s, double bottom)
{
    if (bottom + 10 > s->height)
        s->height = (int)ceil(bottom + 10);
}

static void put(struct svg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct svg *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->body, fmt, ap);
    va_end(ap);
}

static void text_escaped(struct svg *s, const char *t) { view_xml_text(s->body, t); }

/* A line of text; anchor "start", "middle" or "end". */
static void label(struct svg *s, double x, double y, int size, const char *anchor, const char *fill,
                  const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void label(struct svg *s, double x, double y, int size, const char *anchor, const char *fill,
                  const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    put(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" fill=\"%s\">", x, y,
        size, anchor, fill);
    text_escaped(s, text);
    put(s, "</text>\n");
    grow(s, y);
}

/* A rectangle with a tooltip (its <title>). */
static void box(struct svg *s, double x, double y, double w, double h, const char *fill,
                const char *stroke, const char *tip)
{
    put(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y, w, h,
        fill);
    if (stroke)
        put(s, " stroke=\"%s\"", stroke);
    if (tip) {
        put(s, "><title>");
        text_escaped(s, tip);
        put(s, "</title></rect>\n");
    } else {
        put(s, "/>\n");
    }
    grow(s, y + h);
}

/* The head (with the final height), the body, the end; frees s. */
static int svg_end(struct svg *s, FILE *out, const char *title, const char *desc)
{
    if (fclose(s->body) != 0) {
        free(s->text);
        return -ENOMEM;
    }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"title desc\" "
                 "font-family=\"" FONT "\">\n<title id=\"title\">",
            s->width, s->height, s->width, s->height);
    view_xml_text(out, title);
    fputs("</title>\n<desc id=\"desc\">", out);
    view_xml_text(out, desc);
    fprintf(out, "</desc>\n<rect width=\"%d\" height=\"%d\" fill=\"#FFFFFF\"/>\n", s->width,
            s->height);
    fputs("<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\" fill=\"#000000\">", out);
    view_xml_text(out, title);
    fputs("</text>\n", out);
    fwrite(s->text, 1, s->len, out);
    fputs("</svg>\n", out);
    free(s->text);
    return ferror(out) ? -EIO : 0;
}

/* A legend entry: a swatch and its meaning in words. */
static double legend(struct svg *s, double x, double y, const char *fill, const char *words)
{
    box(s, x, y - 10, 12, 12, fill, "#000000", NULL);
    label(s, x + 16, y, 11, "start", VIEW_BLACK, "%s", words);
    return x + 30 + 7.5 * (double)strlen(words);
}

/* ---- the address space ---- */

static double vma_height(uint64_t bytes)
{
    double h = 14 + 5 * log2((double)(bytes >> 12 ? bytes >> 12 : 1));
    return h < 20 ? 20 : h > 80 ? 80 : h;
}

/* top_label: the end address is written at the top (no VMA right above). */
static void vma_row(struct svg *s, const struct view_vma *vv, double y, double h, int top_label)
{
    const struct vms_vma_info *vi = &vv->vi;
    char line[512], size[32];
    vms_vma_maps_line(vi, line, sizeof(line));
    view_size(vi->end - vi->start, size, sizeof(size));
    const char *fill = view_vma_colour(vi->kind);
    box(s, 170, y, 320, h, fill, "#000000", line);
    if (top_label)
        label(s, 164, y + 9, 10, "end", VIEW_BLACK, "0x%" PRIx64, vi->end);
    label(s, 164, y + h + 4, 10, "end", VIEW_BLACK, "0x%" PRIx64, vi->start);
    label(s, 178, y + h / 2 + 4, 11, "start", view_text_on(fill), "%c%c%c%c %s  (%s)",
          vi->prot & PROT_READ ? 'r' : '-', vi->prot & PROT_WRITE ? 'w' : '-',
          vi->prot & PROT_EXEC ? 'x' : '-', vi->shared ? 's' : 'p',
          vv->name[0] ? vv->name : "", size);
    label(s, 498, y + h / 2 + 4, 11, "start", VIEW_BLACK, "%s", vms_vma_kind_name(vi->kind));
}

static void gap_row(struct svg *s, uint64_t bytes, double y)
{
    char size[32];
    view_size(bytes, size, sizeof(size));
    put(s, "<line x1=\"170\" y1=\"%.1f\" x2=\"490\" y2=\"%.1f\" stroke=\"#777777\" "
           "stroke-dasharray=\"4 3\"/>\n",
        y + 10, y + 10);
    label(s, 498, y + 14, 10, "start", "#444444", "gap of %s", size);
}

int svg_write_address_space(FILE *out, vms_task *t, const char *title)
{
    struct view_vmas v;
    int rc = view_vmas_read(t, &v);
    if (rc)
        return rc;
    struct svg s;
    if ((rc = svg_begin(&s, 720))) {
        view_vmas_free(&v);
        return rc;
    }
    double y = 44;
    uint64_t mapped = 0;
    unsigned used_kinds = 0;
    for (size_t k = v.n; k-- > 0;) { /* the highest address first */
        const struct vms_vma_info *vi = &v.v[k].vi;
        int after_gap = k + 1 < v.n && v.v[k + 1].vi.start > vi->end;
        if (after_gap) {
            gap_row(&s, v.v[k + 1].vi.start - vi->end, y);
            y += 22;
        }
        double h = vma_height(vi->end - vi->start);
        vma_row(&s, &v.v[k], y, h, after_gap || k + 1 == v.n);
        y += h;
        mapped += vi->end - vi->start;
        used_kinds |= 1u << vi->kind;
    }
    if (!v.n)
        label(&s, 170, y + 14, 12, "start", VIEW_BLACK, "no VMA: nothing is mapped");
    y += 34;
    label(&s, 10, y, 11, "start", VIEW_BLACK, "kinds:");
    double x = 60;
    for (int k = 0; k < VMS_VMA_NKINDS; k++) {
        if (!(used_kinds >> k & 1))
            continue;
        if (x > 600) {
            x = 60;
            y += 18;
        }
        x = legend(&s, x, y, view_vma_colour((enum vms_vma_kind)k),
                   vms_vma_kind_name((enum vms_vma_kind)k));
    }
    char desc[512], size[32];
    view_size(mapped, size, sizeof(size));
    snprintf(desc, sizeof(desc),
             "%zu VMAs mapping %s in all, drawn from the highest address at the top to the lowest; "
             "each box is a VMA with its range, rights (r w x, s shared or p private), name and "
             "size, its height growing with the logarithm of its size so that small and huge "
             "regions both show; dashed lines mark the gaps between VMAs with their sizes; the "
             "fill colour stands for the kind of mapping, also written beside each box.",
             v.n, size);
    view_vmas_free(&v);
    return svg_end(&s, out, title, desc);
}

/* ---- the page-table tree ---- */

#define PT_COL 250
#define PT_W 232
#define PT_ROW 15
#define PT_HEAD 30
#define PT_MAX_ENTRIES 16

struct pt_link {
    uint64_t pa;   /* the table an entry points at */
    double x, y;   /* where its line starts */
    int on_walk;
};

struct pt_layout {
    double next_y[7]; /* per column: the first free y */
    struct pt_link *links;
    size_t nlinks, cap;
    unsigned tables, frames;
};

static int add_link(struct pt_layout *l, uint64_t pa, double x, double y, int on_walk)
{
    if (l->nlinks == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct pt_link *grown = realloc(l->links, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        l->links = grown;
        l->cap = cap;
    }
    l->links[l->nlinks++] = (struct pt_link){pa, x, y, on_walk};
    return 0;
}

static const struct pt_link *find_link(const struct pt_layout *l, uint64_t pa)
{
    for (size_t i = 0; i < l->nlinks; i++)
        if (l->links[i].pa == pa)
            return &l->links[i];
    return NULL;
}

static void connect(struct svg *s, double x1, double y1, double x2, double y2, int on_walk)
{
    double mid = (x1 + x2) / 2;
    put(s, "<path d=\"M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f\" fill=\"none\" stroke=\"%s\" "
           "stroke-width=\"%s\"/>\n",
        x1, y1, mid, y1, mid, y2, x2, y2, on_walk ? VIEW_HIGHLIGHT : "#555555",
        on_walk ? "3" : "1");
}

static void frame_box(struct svg *s, vms_machine *m, uint64_t pfn, double x, double y)
{
    struct vms_frame_info fi;
    int known = vms_frame_info(m, pfn, &fi) == 0;
    const char *fill = known ? view_frame_colour(fi.owner) : VIEW_LIGHT;
    const char *owner = known ? vms_frame_owner_name(fi.owner) : "?";
    char tip[96];
    snprintf(tip, sizeof(tip), "frame 0x%" PRIx64 ": %s, mapped by %d PTEs", pfn, owner,
             known ? fi.mapcount : 0);
    box(s, x, y, 210, 26, fill, "#000000", tip);
    label(s, x + 6, y + 17, 11, "start", view_text_on(fill), "frame 0x%" PRIx64 " %s, mapped %d",
          pfn, owner, known ? fi.mapcount : 0);
}

static int pt_entry(struct svg *s, struct pt_layout *l, vms_machine *m, const struct view_table *tb,
                    unsigned i, double x, double y, int on_walk, int levels)
{
    uint64_t e = tb->entries[i];
    char flags[64];
    view_entry_flags(e, flags, sizeof(flags));
    const char *fill = on_walk ? VIEW_HIGHLIGHT : "#FFFFFF", *ink = view_text_on(fill);
    int to_table = tb->level > 1 && (e & VMS_PTE_P) && !(e & VMS_PTE_PS);
    char tip[160];
    snprintf(tip, sizeof(tip), "%s[%u] = 0x%016" PRIx64 ": %s%s", tb->name, i, e, flags,
             on_walk ? " (on the walk)" : "");
    box(s, x, y, PT_W, PT_ROW, fill, "#999999", tip);
    label(s, x + 4, y + 11, 10, "start", ink, "%s%u", on_walk ? "walk " : "", i);
    label(s, x + 62, y + 11, 10, "start", ink, "%s", flags);
    if (!(e & VMS_PTE_P))
        return 0;
    uint64_t pfn = (uint64_t)VMS_PTE_PFN(e);
    label(s, x + PT_W - 4, y + 11, 10, "end", ink, "%s 0x%" PRIx64, to_table ? "table" : "PFN",
          pfn);
    if (to_table)
        return add_link(l, pfn << 12, x + PT_W, y + PT_ROW / 2.0, on_walk);
    /* a frame of data: in the last column, as near its entry as it can */
    double fx = levels * PT_COL + 10, fy = l->next_y[levels] > y - 6 ? l->next_y[levels] : y - 6;
    frame_box(s, m, pfn, fx, fy);
    l->next_y[levels] = fy + 30;
    l->frames++;
    connect(s, x + PT_W, y + PT_ROW / 2.0, fx, fy + 13, on_walk);
    return 0;
}

static int pt_table(struct svg *s, struct pt_layout *l, vms_machine *m,
                    const struct view_table *tb, int levels, int has_walk, vms_addr walk)
{
    int col = levels - tb->level;
    double x = col * PT_COL + 10;
    const struct pt_link *from = find_link(l, tb->pa);
    double y = l->next_y[col];
    if (from && from->y - PT_HEAD / 2.0 > y)
        y = from->y - PT_HEAD / 2.0;
    char tip[160];
    snprintf(tip, sizeof(tip), "%s at 0x%" PRIx64 ": translates from 0x%" PRIx64
             ", %u entries present, %u used", tb->name, tb->pa, tb->va, tb->present, tb->used);
    box(s, x, y, PT_W, PT_HEAD, view_level_colour(tb->level), "#000000", tip);
    label(s, x + 6, y + 13, 11, "start", VIEW_BLACK, "%s at 0x%" PRIx64, tb->name, tb->pa);
    label(s, x + 6, y + 26, 10, "start", VIEW_BLACK, "from 0x%" PRIx64 ", %u present", tb->va,
          tb->present);
    if (from)
        connect(s, from->x, from->y, x, y + PT_HEAD / 2.0, from->on_walk);
    double row = y + PT_HEAD;
    unsigned shown = 0, left = 0;
    for (unsigned i = 0; i < 512; i++) {
        if (!tb->entries[i])
            continue;
        int on_walk = has_walk && view_on_walk(tb, i, walk);
        if (shown >= PT_MAX_ENTRIES && !on_walk) {
            left++;
            continue;
        }
        int rc = pt_entry(s, l, m, tb, i, x, row, on_walk, levels);
        if (rc)
            return rc;
        row += PT_ROW;
        shown++;
    }
    if (left) {
        label(s, x + 6, row + 11, 10, "start", VIEW_BLACK, "... %u more entries", left);
        row += PT_ROW;
    }
    l->next_y[col] = row + 12;
    l->tables++;
    return 0;
}

int svg_write_pgtable(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                      vms_addr walk)
{
    struct view_tables v;
    int rc = view_tables_read(t, &v);
    if (rc)
        return rc;
    struct svg s;
    if ((rc = svg_begin(&s, v.levels * PT_COL + 230))) {
        view_tables_free(&v);
        return rc;
    }
    struct pt_layout l = {0};
    double top = 40;
    if (has_walk) {
        char split[96] = "";
        size_t len = 0;
        for (int level = v.levels; level >= 1 && len < sizeof(split); level--) {
            int n = snprintf(split + len, sizeof(split) - len, "%s%u", level == v.levels ? "" : ", ",
                             (unsigned)(walk >> (12 + 9 * (level - 1))) & 511);
            len += n > 0 ? (size_t)n : 0;
        }
        label(&s, 10, 48, 12, "start", VIEW_HIGHLIGHT,
              "the walk of 0x%" PRIx64 " (highlighted): indices %s, offset 0x%" PRIx64, walk, split,
              walk & 0xfff);
        top = 60;
    }
    for (int c = 0; c < 7; c++)
        l.next_y[c] = top;
    for (size_t i = 0; i < v.n && !rc; i++)
        rc = pt_table(&s, &l, m, &v.t[i], v.levels, has_walk, walk);
    if (v.more)
        label(&s, 10, s.height + 6, 11, "start", VIEW_BLACK, "%zu more tables not drawn", v.more);
    double y = s.height + 14;
    double x = legend(&s, 10, y, view_frame_colour(VMS_FRAME_ANON), "anon frame");
    x = legend(&s, x, y, view_frame_colour(VMS_FRAME_PAGE_CACHE), "page cache");
    x = legend(&s, x, y, view_frame_colour(VMS_FRAME_SHMEM), "shmem");
    x = legend(&s, x, y, view_frame_colour(VMS_FRAME_ZERO), "zero page");
    legend(&s, x, y, VIEW_HIGHLIGHT, "on the walk");
    char desc[640];
    snprintf(desc, sizeof(desc),
             "The page-table tree: %u tables drawn in columns from the top level (PGD) on the "
             "left to the PTE tables, and the %u frames their entries map on the right. Each "
             "table lists its used entries (at most %d): the index, the bits set (P present, RW "
             "writable, US user, A accessed, D dirty, NX no-execute) and the physical frame "
             "number of the table or page it points at; lines join entries to what they point "
             "at.%s",
             l.tables, l.frames, PT_MAX_ENTRIES,
             has_walk ? " The entries the MMU reads to translate the chosen address are filled "
                        "in vermillion, marked walk, joined by thick lines."
                      : "");
    free(l.links);
    view_tables_free(&v);
    if (rc) {
        fclose(s.body);
        free(s.text);
        return rc;
    }
    return svg_end(&s, out, title, desc);
}

/* ---- the TLBs ---- */

struct tlb_grid {
    struct svg *s;
    enum vms_tlb_level level;
    double x, y, cw, ch;
    int text;
    unsigned count;
};

static int tlb_cell(void *arg, const struct vms_tlb_entry *e)
{
    struct tlb_grid *g = arg;
    if (e->level != g->level)
        return 0;
    const char *fill = e->writable ? VIEW_SKY : VIEW_YELLOW;
    char tip[192];
    snprintf(tip, sizeof(tip), "%s set %u way %u: page 0x%" PRIx64 " -> frame 0x%" PRIx64
             ", PCID %u, %s%s%s",
             vms_tlb_level_name(e->level), e->set, e->way, e->vpn, e->pfn, e->pcid,
             e->writable ? "writable" : "read-only", e->dirty ? ", dirty" : "",
             e->exec ? ", executable" : "");
    double x = g->x + e->way * g->cw, y = g->y + e->set * g->ch;
    box(g->s, x, y, g->cw, g->ch, fill, "#666666", tip);
    if (g->text)
        label(g->s, x + 3, y + g->ch - 4, 9, "start", VIEW_BLACK, "%" PRIx64 "->%" PRIx64 " %s",
              e->vpn, e->pfn, e->writable ? "W" : "R");
    g->count++;
    return 0;
}

static double tlb_level(struct svg *s, vms_machine *m, unsigned cpu, enum vms_tlb_level level,
                        double y, unsigned *count)
{
    struct vms_tlb_geometry geo;
    if (vms_tlb_geometry(m, level, &geo) || !geo.ways)
        return y;
    unsigned sets = geo.entries / geo.ways;
    int small = sets > 32;
    struct tlb_grid g = {.s = s, .level = level, .x = 60, .y = y + 20,
                         .cw = small ? 60 : 680.0 / geo.ways, .ch = small ? 5 : 15,
                         .text = !small};
    if (g.cw > 170)
        g.cw = 170;
    label(s, 10, y + 12, 12, "start", VIEW_BLACK, "%s: %u sets x %u ways (%u entries)",
          vms_tlb_level_name(level), sets, geo.ways, geo.entries);
    box(s, g.x, g.y, g.cw * geo.ways, g.ch * sets, VIEW_LIGHT, "#999999", NULL);
    for (unsigned set = 0; set < sets; set += small ? 16 : 4)
        label(s, g.x - 4, g.y + set * g.ch + (small ? 5 : 11), 9, "end", VIEW_BLACK, "set %u", set);
    vms_tlb_visit(m, cpu, tlb_cell, &g);
    *count += g.count;
    return g.y + g.ch * sets + 14;
}

int svg_write_tlbs(FILE *out, vms_machine *m, unsigned cpu, const char *title)
{
    struct vms_cpu_info ci;
    if (vms_cpu_info(m, cpu, &ci))
        return -EINVAL;
    struct svg s;
    int rc = svg_begin(&s, 780);
    if (rc)
        return rc;
    label(&s, 10, 44, 11, "start", VIEW_BLACK, "runs task %d; CR3 0x%" PRIx64 ", PCID %u%s",
          ci.pid, ci.cr3_pa, ci.pcid, ci.lazy ? ", lazy TLB mode" : "");
    double y = 54;
    unsigned count = 0;
    for (int l = 0; l < VMS_TLB_NLEVELS; l++)
        y = tlb_level(&s, m, cpu, (enum vms_tlb_level)l, y, &count);
    double x = legend(&s, 10, y + 8, VIEW_SKY, "writable");
    x = legend(&s, x, y + 8, VIEW_YELLOW, "read-only");
    legend(&s, x, y + 8, VIEW_LIGHT, "empty");
    char desc[512];
    snprintf(desc, sizeof(desc),
             "The TLBs of CPU %u as grids, one row per set and one column per way: the L1 data "
             "TLB, the L1 instruction TLB and the L2 TLB. %u entries are valid; each filled cell "
             "is one, labelled (in the L1 grids) with its virtual page number, the frame it "
             "translates to and W or R for writable or read-only, which the colour also shows; "
             "each cell's tooltip gives the PCID and the other bits.",
             cpu, count);
    return svg_end(&s, out, title, desc);
}

/* ---- physical memory ---- */

#define FR_COLS 128
#define FR_CELL 6
#define FR_MAX_CELLS (FR_COLS * 128)

struct frame_cell {
    enum vms_frame_owner owner;
    int shared; /* a frame in it is mapped more than once */
};

/* The cell of frames [first, first + per): the most common owner that is
 * not free (free when all are). */
static struct frame_cell read_cell(vms_machine *m, uint64_t first, uint64_t per, uint64_t total,
                                   uint64_t *by_owner)
{
    uint64_t count[VMS_FRAME_NOWNERS] = {0};
    struct frame_cell c = {VMS_FRAME_FREE, 0};
    for (uint64_t pfn = first; pfn < first + per && pfn < total; pfn++) {
        struct vms_frame_info fi;
        if (vms_frame_info(m, pfn, &fi) || fi.owner >= VMS_FRAME_NOWNERS)
            continue;
        count[fi.owner]++;
        by_owner[fi.owner]++;
        if (fi.mapcount > 1)
            c.shared = 1;
    }
    uint64_t best = 0;
    for (int o = 0; o < VMS_FRAME_NOWNERS; o++)
        if (o != VMS_FRAME_FREE && count[o] > best) {
            best = count[o];
            c.owner = (enum vms_frame_owner)o;
        }
    return c;
}

int svg_write_frames(FILE *out, vms_machine *m, const char *title)
{
    uint64_t total = vms_frame_count(m);
    uint64_t per = (total + FR_MAX_CELLS - 1) / FR_MAX_CELLS;
    uint64_t cells = (total + per - 1) / per;
    uint64_t by_owner[VMS_FRAME_NOWNERS] = {0};
    struct svg s;
    int rc = svg_begin(&s, FR_COLS * FR_CELL + 20);
    if (rc)
        return rc;
    label(&s, 10, 44, 11, "start", VIEW_BLACK,
          "%" PRIu64 " frames of 4 KiB, %" PRIu64 " a cell, frame 0 at the top left", total, per);
    double top = 54;
    unsigned shared_cells = 0;
    /* runs of equal cells in a row are one rectangle */
    for (uint64_t row = 0; row * FR_COLS < cells; row++) {
        uint64_t col = 0;
        while (col < FR_COLS && row * FR_COLS + col < cells) {
            uint64_t idx = row * FR_COLS + col;
            struct frame_cell c = read_cell(m, idx * per, per, total, by_owner);
            uint64_t run = 1;
            while (col + run < FR_COLS && idx + run < cells) {
                uint64_t ignored[VMS_FRAME_NOWNERS] = {0};
                struct frame_cell d = read_cell(m, (idx + run) * per, per, total, ignored);
                if (d.owner != c.owner || d.shared || c.shared)
                    break;
                for (int o = 0; o < VMS_FRAME_NOWNERS; o++)
                    by_owner[o] += ignored[o];
                run++;
            }
            char tip[128];
            snprintf(tip, sizeof(tip), "frames 0x%" PRIx64 "-0x%" PRIx64 ": %s%s", idx * per,
                     (idx + run) * per - 1, vms_frame_owner_name(c.owner),
                     c.shared ? ", mapped more than once" : "");
            box(&s, 10 + col * FR_CELL, top + row * FR_CELL, run * FR_CELL, FR_CELL,
                view_frame_colour(c.owner), NULL, tip);
            if (c.shared) {
                put(&s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.5\" fill=\"#000000\"/>\n",
                    10 + col * FR_CELL + FR_CELL / 2.0, top + row * FR_CELL + FR_CELL / 2.0);
                shared_cells++;
            }
            col += run;
        }
    }
    double y = s.height + 14, x = 10;
    char words[64], desc[768];
    int n = snprintf(desc, sizeof(desc),
                     "Physical memory: every frame of RAM as a small square, frame 0 at the top "
                     "left, %" PRIu64 " frame%s a square, coloured by what owns it (the most common "
                     "owner when a square holds several); a black dot marks frames mapped by more "
                     "than one page-table entry (%u squares). Frames by owner:",
                     per, per == 1 ? "" : "s", shared_cells);
    for (int o = 0; o < VMS_FRAME_NOWNERS; o++) {
        if (!by_owner[o])
            continue;
        snprintf(words, sizeof(words), "%s %" PRIu64, vms_frame_owner_name((enum vms_frame_owner)o),
                 by_owner[o]);
        if (x > 560) {
            x = 10;
            y += 18;
        }
        x = legend(&s, x, y, view_frame_colour((enum vms_frame_owner)o), words);
        if (n > 0 && (size_t)n < sizeof(desc))
            n += snprintf(desc + n, sizeof(desc) - (size_t)n, " %s;", words);
    }
    return svg_end(&s, out, title, desc);
}

/* ---- the timeline ---- */

#define TL_MAX_ROWS 200

/* Groups of event kinds, each a colour (the counts are also written). */
static const char *kind_colour(unsigned kind)
{
    switch (kind) {
    case VMS_EV_TLB_MISS:
    case VMS_EV_TLB_FILL:
    case VMS_EV_FLUSH: return VIEW_SKY;
    case VMS_EV_WALK_STEP: return VIEW_BLUE;
    case VMS_EV_FAULT:
    case VMS_EV_SIGNAL: return VIEW_VERMILLION;
    case VMS_EV_PGTABLE_ALLOC:
    case VMS_EV_PGTABLE_FREE:
    case VMS_EV_FRAME_ALLOC:
    case VMS_EV_FRAME_FREE: return VIEW_ORANGE;
    case VMS_EV_IPI:
    case VMS_EV_CR3: return VIEW_PURPLE;
    case VMS_EV_RECLAIM_BEGIN:
    case VMS_EV_RECLAIM_END:
    case VMS_EV_SWAP_OUT:
    case VMS_EV_SWAP_IN:
    case VMS_EV_PAGEOUT:
    case VMS_EV_REFAULT: return VIEW_YELLOW;
    default: return VIEW_GREEN;
    }
}

struct series {
    const char *name, *colour, *dash;
    size_t offset; /* of its uint64_t in struct record_call */
};

static const struct series counters[] = {
    {"frames used", VIEW_BLUE, "", offsetof(struct record_call, frames_used)},
    {"minor faults", VIEW_ORANGE, "6 3", offsetof(struct record_call, minor_faults)},
    {"major faults", VIEW_VERMILLION, "2 2", offsetof(struct record_call, major_faults)},
    {"TLB misses", VIEW_GREEN, "8 3 2 3", offsetof(struct record_call, tlb_misses)},
};

/* Swap, in pages on one scale: what is in swap against what went through. */
static const struct series swap_series[] = {
    {"swap used", VIEW_PURPLE, "", offsetof(struct record_call, swap_used)},
    {"pswpout (pages swapped out)", VIEW_VERMILLION, "6 3", offsetof(struct record_call, pswpout)},
    {"pswpin (pages swapped in)", VIEW_SKY, "2 2", offsetof(struct record_call, pswpin)},
};

#define NSERIES(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t value_of(const struct record_call *c, const struct series *se)
{
    uint64_t v;
    memcpy(&v, (const char *)c + se->offset, sizeof(v));
    return v;
}

static uint64_t series_max(const struct record_call *const *row, size_t n, const struct series *se)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (value_of(row[i], se) > max)
            max = value_of(row[i], se);
    return max;
}

static void dash_attr(struct svg *s, const struct series *se)
{
    if (se->dash[0])
        put(s, " stroke-dasharray=\"%s\"", se->dash);
}

/* One series after each call, scaled so that top (0: its own largest
 * value) reaches the frame's top, and its legend entry at (*lx, legend_y). */
static void plot_line(struct svg *s, const struct record_call *const *row, size_t n,
                      const struct series *se, double x0, double y, double w, double h,
                      uint64_t top, double *lx, double legend_y)
{
    uint64_t max = series_max(row, n, se);
    uint64_t last = n ? value_of(row[n - 1], se) : 0;
    int own_scale = top == 0;
    if (own_scale)
        top = max;
    put(s, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"", se->colour);
    dash_attr(s, se);
    put(s, " points=\"");
    for (size_t i = 0; i < n; i++) {
        double px = x0 + (n > 1 ? w * (double)i / (double)(n - 1) : w / 2);
        double py = y + h - (top ? h * (double)value_of(row[i], se) / (double)top : 0);
        put(s, "%s%.1f,%.1f", i ? " " : "", px, py);
    }
    if (own_scale)
        put(s, "\"><title>%s, up to %" PRIu64 "</title></polyline>\n", se->name, max);
    else
        put(s, "\"><title>%s, up to %" PRIu64 ", %" PRIu64 " after the last call</title></polyline>\n",
            se->name, max, last);
    put(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"",
        *lx, legend_y - 4, *lx + 24, legend_y - 4, se->colour);
    dash_attr(s, se);
    put(s, "/>\n");
    char words[64];
    snprintf(words, sizeof(words), "%s (max %" PRIu64 ")", se->name, max);
    label(s, *lx + 28, legend_y, 11, "start", VIEW_BLACK, "%s", words);
    *lx += 40 + 6.2 * (double)strlen(words);
}

/* The counters over the calls, each scaled to its own largest value. */
static double plot_counters(struct svg *s, const struct record_call *const *row, size_t n, double y)
{
    double x0 = 60, w = 700, h = 140;
    box(s, x0, y, w, h, "#FFFFFF", "#999999", NULL);
    label(s, x0 - 6, y + 10, 10, "end", VIEW_BLACK, "max");
    label(s, x0 - 6, y + h, 10, "end", VIEW_BLACK, "0");
    double lx = x0;
    for (size_t k = 0; k < NSERIES(counters); k++)
        plot_line(s, row, n, &counters[k], x0, y, w, h, 0, &lx, y + h + 20);
    label(s, x0 + w / 2, y + h + 36, 10, "middle", VIEW_BLACK, "calls, in order, left to right");
    return y + h + 50;
}

/* The largest of the swap series: the swap plot's top; 0 when nothing
 * ever went to swap (then there is no plot). */
static uint64_t swap_top(const struct record_call *const *row, size_t n)
{
    uint64_t top = 0;
    for (size_t k = 0; k < NSERIES(swap_series); k++) {
        uint64_t max = series_max(row, n, &swap_series[k]);
        top = max > top ? max : top;
    }
    return top;
}

/* Swap used, pswpout and pswpin over the calls, on one scale in pages (as
 * the HTML timeline's memory and swap I/O counters); the frame's tooltip
 * gives the scale. */
static double plot_swap(struct svg *s, const struct record_call *const *row, size_t n, double y,
                        uint64_t top)
{
    double x0 = 60, w = 700, h = 80;
    char tip[96];
    snprintf(tip, sizeof(tip), "swap plot: 0 to %" PRIu64 " pages", top);
    box(s, x0, y, w, h, "#FFFFFF", "#999999", tip);
    label(s, x0 - 6, y + 10, 10, "end", VIEW_BLACK, "%" PRIu64, top);
    label(s, x0 - 6, y + h, 10, "end", VIEW_BLACK, "0");
    double lx = x0;
    for (size_t k = 0; k < NSERIES(swap_series); k++)
        plot_line(s, row, n, &swap_series[k], x0, y, w, h, top, &lx, y + h + 20);
    label(s, x0 + w / 2, y + h + 36, 10, "middle", VIEW_BLACK,
          "swap, in pages on one scale, after each call");
    return y + h + 50;
}

static void call_row(struct svg *s, const struct record_call *c, size_t number, double y,
                     unsigned max_events)
{
    char who[24], counts[256] = "";
    size_t len = 0;
    for (unsigned k = 0; k < RECORD_KINDS; k++) {
        if (!c->kinds[k])
            continue;
        const char *name = k < RECORD_KINDS - 1 ? vms_event_name((enum vms_event_kind)k) : "other";
        int n = snprintf(counts + len, sizeof(counts) - len, "%s%u %s", len ? ", " : "",
                         c->kinds[k], name);
        if (n > 0 && len + (size_t)n < sizeof(counts))
            len += (size_t)n;
    }
    put(s, "<g><desc>");
    text_escaped(s, len ? counts : "no event");
    put(s, "</desc>\n");
    snprintf(who, sizeof(who), c->task ? "task %d" : "machine", c->task);
    label(s, 10, y + 11, 10, "start", VIEW_BLACK, "%zu", number);
    label(s, 40, y + 11, 10, "start", VIEW_BLACK, "%s: %.60s = %.24s", who, c->text, c->result);
    double x = 520, total = 0;
    for (unsigned k = 0; k < RECORD_KINDS; k++) {
        if (!c->kinds[k])
            continue;
        double w = 230.0 * c->kinds[k] / (max_events ? max_events : 1);
        const char *name = k < RECORD_KINDS - 1 ? vms_event_name((enum vms_event_kind)k) : "other";
        char tip[64];
        snprintf(tip, sizeof(tip), "%u %s", c->kinds[k], name);
        box(s, x + total, y + 2, w, 10, kind_colour(k), NULL, tip);
        total += w;
    }
    put(s, "</g>\n");
}

int svg_write_timeline(FILE *out, const struct record_call *calls, size_t ncalls,
                       unsigned machine, const char *title)
{
    size_t n = 0;
    for (size_t i = 0; i < ncalls; i++)
        n += calls[i].machine == machine;
    const struct record_call **row = malloc((n ? n : 1) * sizeof(*row));
    if (!row)
        return -ENOMEM;
    n = 0;
    unsigned max_events = 0;
    uint64_t events = 0;
    for (size_t i = 0; i < ncalls; i++) {
        if (calls[i].machine != machine)
            continue;
        row[n++] = &calls[i];
        unsigned sum = 0;
        for (unsigned k = 0; k < RECORD_KINDS; k++)
            sum += calls[i].kinds[k];
        max_events = sum > max_events ? sum : max_events;
        events += sum;
    }
    struct svg s;
    int rc = svg_begin(&s, 780);
    if (rc) {
        free(row);
        return rc;
    }
    double y = plot_counters(&s, row, n, 44);
    uint64_t top = swap_top(row, n);
    if (top)
        y = plot_swap(&s, row, n, y, top);
    label(&s, 10, y, 11, "start", VIEW_BLACK, "#");
    label(&s, 40, y, 11, "start", VIEW_BLACK, "call = result");
    label(&s, 520, y, 11, "start", VIEW_BLACK, "events under it (tooltip: counts)");
    y += 6;
    for (size_t i = 0; i < n && i < TL_MAX_ROWS; i++, y += 15)
        call_row(&s, row[i], i + 1, y, max_events);
    if (n > TL_MAX_ROWS)
        label(&s, 40, y + 11, 10, "start", VIEW_BLACK, "... %zu more calls", n - TL_MAX_ROWS);
    y = s.height + 14;
    double x = legend(&s, 10, y, VIEW_SKY, "TLB miss, fill, flush");
    x = legend(&s, x, y, VIEW_BLUE, "walk");
    x = legend(&s, x, y, VIEW_VERMILLION, "fault, signal");
    legend(&s, x, y, VIEW_ORANGE, "allocation, free");
    y += 18;
    x = legend(&s, 10, y, VIEW_PURPLE, "IPI, CR3 switch");
    x = legend(&s, x, y, VIEW_YELLOW, "reclaim, swap, write-back, refault");
    legend(&s, x, y, VIEW_GREEN, "fork, OOM kill, other");
    char swap_words[256] = "Nothing went to swap. ";
    if (top)
        snprintf(swap_words, sizeof(swap_words),
                 "Under them, swap on one scale of 0 to %" PRIu64 " pages, each line with its "
                 "own dash pattern: swap used (%" PRIu64 " after the last call), pages swapped "
                 "out (pswpout, %" PRIu64 ") and in (pswpin, %" PRIu64 "). ",
                 top, row[n - 1]->swap_used, row[n - 1]->pswpout, row[n - 1]->pswpin);
    char desc[1024];
    snprintf(desc, sizeof(desc),
             "The timeline of machine %u: %zu calls with %" PRIu64 " events under them. At the "
             "top, four counters after each call, each scaled to its own largest value and drawn "
             "with its own dash pattern: frames used, minor faults, major faults, TLB misses. "
             "%s"
             "Below, one line per call (at most %d) with its result and a bar of the events it "
             "raised, coloured by kind; each bar's description counts them by name.",
             machine, n, events, swap_words, TL_MAX_ROWS);
    free(row);
    return svg_end(&s, out, title, desc);
}
