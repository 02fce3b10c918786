/*
 * Graphviz pictures of an address space (dot.h): the page-table tree, each
 * table a node listing its used entries decoded, with edges to the tables
 * and frames they point at (the walk of one address drawn thick, in the
 * highlight colour, its entries marked "walk"); and the VMA tree, the
 * red-black tree of VMAs with each node's colour, range and gaps.
 */
#include "dot.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* A table node lists at most this many used entries (the rest counted). */
#define DOT_MAX_ENTRIES 24

static void graph_head(FILE *out, const char *name, const char *title)
{
    fprintf(out, "digraph %s {\n", name);
    fputs("  graph [fontname=\"Helvetica\", labelloc=t, fontsize=14, label=<", out);
    view_xml_text(out, title);
    fputs(">];\n", out);
    fputs("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", "
          "fontsize=9];\n",
          out);
}

/* ---- the page-table tree ---- */

static void table_id(FILE *out, uint64_t pa) { fprintf(out, "t_%" PRIx64, pa); }

/* Whether the entry points at a lower table (rather than a frame of data). */
static int points_at_table(const struct view_table *tb, uint64_t e)
{
    return tb->level > 1 && (e & VMS_PTE_P) && !(e & VMS_PTE_PS);
}

static void entry_row(FILE *out, const struct view_table *tb, unsigned i, int on_walk)
{
    uint64_t e = tb->entries[i];
    char flags[64];
    view_entry_flags(e, flags, sizeof(flags));
    const char *bg = on_walk ? VIEW_HIGHLIGHT : "#FFFFFF", *fg = view_text_on(bg);
    /* the edge leaves from the last cell, on its right */
    fprintf(out, "<TR><TD BGCOLOR=\"%s\" ALIGN=\"RIGHT\"><FONT COLOR=\"%s\">%s%u</FONT></TD>"
                 "<TD BGCOLOR=\"%s\" ALIGN=\"LEFT\"><FONT COLOR=\"%s\">%s</FONT></TD>",
            bg, fg, on_walk ? "walk " : "", i, bg, fg, flags);
    if (e & VMS_PTE_P)
        fprintf(out, "<TD PORT=\"e%u\" BGCOLOR=\"%s\" ALIGN=\"LEFT\"><FONT COLOR=\"%s\">%s 0x%" PRIx64
                     "</FONT></TD>",
                i, bg, fg, points_at_table(tb, e) ? "table" : "PFN", (uint64_t)VMS_PTE_PFN(e));
    else
        fprintf(out, "<TD PORT=\"e%u\" BGCOLOR=\"%s\"></TD>", i, bg);
    fputs("</TR>\n", out);
}

static void table_node(FILE *out, const struct view_table *tb, int has_walk, vms_addr walk)
{
    fputs("  ", out);
    table_id(out, tb->pa);
    fprintf(out, " [shape=plaintext, label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" "
                 "CELLPADDING=\"3\">\n<TR><TD COLSPAN=\"3\" BGCOLOR=\"%s\"><B>%s</B> at 0x%" PRIx64
                 "<BR/>from 0x%" PRIx64 ", %u present, %u used</TD></TR>\n",
            view_level_colour(tb->level), tb->name, tb->pa, tb->va, tb->present, tb->used);
    unsigned shown = 0, left = 0;
    for (unsigned i = 0; i < 512; i++) {
        if (!tb->entries[i])
            continue;
        int on_walk = has_walk && view_on_walk(tb, i, walk);
        if (shown < DOT_MAX_ENTRIES || on_walk) {
            entry_row(out, tb, i, on_walk);
            shown++;
        } else {
            left++;
        }
    }
    if (left)
        fprintf(out, "<TR><TD COLSPAN=\"3\">... %u more entries</TD></TR>\n", left);
    if (!tb->used)
        fputs("<TR><TD COLSPAN=\"3\">no entry used</TD></TR>\n", out);
    fputs("</TABLE>>];\n", out);
}

/* The frame a leaf entry maps, as a node of its own (once per frame). */
static void frame_node(FILE *out, vms_machine *m, uint64_t pfn)
{
    struct vms_frame_info fi;
    int known = vms_frame_info(m, pfn, &fi) == 0;
    const char *fill = known ? view_frame_colour(fi.owner) : VIEW_LIGHT;
    fprintf(out, "  f_%" PRIx64 " [shape=box, style=filled, fillcolor=\"%s\", fontcolor=\"%s\", "
                 "label=\"frame 0x%" PRIx64 "\\n%s",
            pfn, fill, view_text_on(fill), pfn, known ? vms_frame_owner_name(fi.owner) : "?");
    if (known)
        fprintf(out, ", mapped %d", fi.mapcount);
    fputs("\"];\n", out);
}

static int frame_seen(const uint64_t *seen, size_t n, uint64_t pfn)
{
    for (size_t i = 0; i < n; i++)
        if (seen[i] == pfn)
            return 1;
    return 0;
}

static void table_edges(FILE *out, vms_machine *m, const struct view_tables *v,
                        const struct view_table *tb, int has_walk, vms_addr walk, uint64_t *seen,
                        size_t *nseen, size_t cap)
{
    unsigned shown = 0;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = tb->entries[i];
        if (!e)
            continue;
        int on_walk = has_walk && view_on_walk(tb, i, walk);
        if (shown++ >= DOT_MAX_ENTRIES && !on_walk)
            continue;
        if (!(e & VMS_PTE_P))
            continue;
        uint64_t pfn = (uint64_t)VMS_PTE_PFN(e);
        const char *style = on_walk ? " [color=\"" VIEW_HIGHLIGHT "\", penwidth=3]" : "";
        if (points_at_table(tb, e)) {
            if (!view_table_at(v, pfn << 12))
                continue; /* past VIEW_MAX_TABLES */
            fputs("  ", out);
            table_id(out, tb->pa);
            fprintf(out, ":e%u:e -> ", i);
            table_id(out, pfn << 12);
            fprintf(out, "%s;\n", style);
            continue;
        }
        if (!frame_seen(seen, *nseen, pfn)) {
            frame_node(out, m, pfn);
            if (*nseen < cap)
                seen[(*nseen)++] = pfn;
        }
        fputs("  ", out);
        table_id(out, tb->pa);
        fprintf(out, ":e%u:e -> f_%" PRIx64 "%s;\n", i, pfn, style);
    }
}

int dot_write_pgtable(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                      vms_addr walk)
{
    struct view_tables v;
    int rc = view_tables_read(t, &v);
    if (rc)
        return rc;
    graph_head(out, "page_tables", title);
    fputs("  graph [rankdir=LR, nodesep=0.15, ranksep=0.6];\n", out);
    if (has_walk) {
        fprintf(out, "  walk [shape=note, color=\"%s\", label=\"the walk of 0x%" PRIx64 ":", VIEW_HIGHLIGHT,
                walk);
        static const char *const names[] = {"", "PTE", "PMD", "PUD", "P4D", "PGD"};
        for (int level = v.levels; level >= 1; level--)
            fprintf(out, " %s %u", level == v.levels ? "PGD" : names[level],
                    (unsigned)(walk >> (12 + 9 * (level - 1))) & 511);
        fprintf(out, ", offset 0x%" PRIx64 "\"];\n", walk & 0xfff);
    }
    for (size_t i = 0; i < v.n; i++)
        table_node(out, &v.t[i], has_walk, walk);
    uint64_t seen[4096];
    size_t nseen = 0;
    for (size_t i = 0; i < v.n; i++)
        table_edges(out, m, &v, &v.t[i], has_walk, walk, seen, &nseen,
                    sizeof(seen) / sizeof(seen[0]));
    if (v.more)
        fprintf(out, "  more [shape=note, label=\"%zu more tables not drawn\"];\n", v.more);
    fputs("}\n", out);
    view_tables_free(&v);
    return ferror(out) ? -EIO : 0;
}

/* ---- the VMA tree ---- */

static void vma_node(FILE *out, const struct view_vma *vv)
{
    const struct vms_vma_info *vi = &vv->vi;
    const char *fill = vi->red ? VIEW_VERMILLION : VIEW_BLACK;
    char gap[32], sub[32];
    view_size(vi->gap, gap, sizeof(gap));
    view_size(vi->subtree_gap, sub, sizeof(sub));
    fprintf(out, "  v_%" PRIx64 " [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", "
                 "fontcolor=\"%s\", label=<<B>%s</B> 0x%" PRIx64 "-0x%" PRIx64 "<BR/>%c%c%c%c ",
            vi->start, fill, view_text_on(fill), vi->red ? "red" : "black", vi->start, vi->end,
            vi->prot & PROT_READ ? 'r' : '-', vi->prot & PROT_WRITE ? 'w' : '-',
            vi->prot & PROT_EXEC ? 'x' : '-', vi->shared ? 's' : 'p');
    view_xml_text(out, vv->name[0] ? vv->name : vms_vma_kind_name(vi->kind));
    fprintf(out, "<BR/>gap below %s<BR/>largest gap in subtree %s>];\n", gap, sub);
}

int dot_write_vma_tree(FILE *out, vms_task *t, const char *title)
{
    struct view_vmas v;
    int rc = view_vmas_read(t, &v);
    if (rc)
        return rc;
    graph_head(out, "vma_tree", title);
    fputs("  graph [ordering=out];\n", out);
    for (size_t i = 0; i < v.n; i++)
        if (!v.v[i].vi.gate)
            vma_node(out, &v.v[i]);
    /* A missing child is a NIL leaf, drawn as a small black point, so that
     * a lone child still hangs on its own side. */
    for (size_t i = 0; i < v.n; i++) {
        const struct vms_vma_info *vi = &v.v[i].vi;
        if (vi->gate || (!vi->left && !vi->right))
            continue;
        vms_addr child[2] = {vi->left, vi->right};
        for (int s = 0; s < 2; s++) {
            if (child[s])
                fprintf(out, "  v_%" PRIx64 " -> v_%" PRIx64 " [label=\"%s\"];\n", vi->start,
                        child[s], s ? "right" : "left");
            else
                fprintf(out, "  nil_%" PRIx64 "_%d [shape=point, width=0.08, color=\"%s\"];\n"
                             "  v_%" PRIx64 " -> nil_%" PRIx64 "_%d;\n",
                        vi->start, s, VIEW_BLACK, vi->start, vi->start, s);
        }
    }
    if (!v.n)
        fputs("  empty [shape=plaintext, label=\"no VMA\"];\n", out);
    fputs("}\n", out);
    view_vmas_free(&v);
    return ferror(out) ? -EIO : 0;
}
