/*
 * What the static pictures (dot.c, svg.c) are drawn from: a machine's state
 * read through the introspection API of include/vmsim.h, copied out of the
 * visitors' callbacks, and the choices every picture shares: the palette
 * (Okabe and Ito's eight colours, told apart by readers with any common
 * colour-vision deficiency, and never the only carrier of a meaning: each
 * colour's meaning is also written), the names and the decoded entries.
 */
#ifndef VMSIM_VIEWS_H
#define VMSIM_VIEWS_H

#include "vmsim.h"

#include <stddef.h>
#include <stdint.h>

/* The palette. */
#define VIEW_BLACK "#000000"
#define VIEW_ORANGE "#E69F00"
#define VIEW_SKY "#56B4E9"
#define VIEW_GREEN "#009E73"
#define VIEW_YELLOW "#F0E442"
#define VIEW_BLUE "#0072B2"
#define VIEW_VERMILLION "#D55E00"
#define VIEW_PURPLE "#CC79A7"
#define VIEW_GREY "#BBBBBB"
#define VIEW_LIGHT "#F2F2F2"
#define VIEW_HIGHLIGHT VIEW_VERMILLION /* the walk of an address */

/* Fill colours, and the text colour that reads on them. */
const char *view_vma_colour(enum vms_vma_kind k);
const char *view_frame_colour(enum vms_frame_owner o);
const char *view_level_colour(int level);
const char *view_text_on(const char *fill);

/* A page table, its entries copied. */
struct view_table {
    int level;
    char name[4];
    uint64_t pa;
    vms_addr va;
    uint64_t span;
    unsigned present, used;
    uint64_t entries[512];
};

/* At most this many tables are drawn (the rest are counted). */
#define VIEW_MAX_TABLES 256

struct view_tables {
    struct view_table *t; /* depth first, as vms_pgtable_visit gives them */
    size_t n;
    size_t more;          /* tables past VIEW_MAX_TABLES, not copied */
    int levels;
};

/* 0, or -errno (-ENOMEM, -ESRCH). */
int view_tables_read(vms_task *t, struct view_tables *out);
void view_tables_free(struct view_tables *v);
/* The table of the tree at pa, or NULL (not drawn). */
const struct view_table *view_table_at(const struct view_tables *v, uint64_t pa);
/* Whether the walk of va reads entry `index` of table tb. */
int view_on_walk(const struct view_table *tb, unsigned index, vms_addr va);

/* An entry's bits in words: "P RW US A D NX" (only the set ones; "-" for
 * none), or "swap 0x..."/"not present" for a used entry without P. */
void view_entry_flags(uint64_t e, char *buf, size_t size);

/* A VMA, its name copied. */
struct view_vma {
    struct vms_vma_info vi;
    char name[128];
};

struct view_vmas {
    struct view_vma *v;
    size_t n;
};

int view_vmas_read(vms_task *t, struct view_vmas *out); /* 0, or -errno */
void view_vmas_free(struct view_vmas *v);

/* The machine's address spaces: the first task of each (threads share one). */
#define VIEW_MAX_SPACES 64
struct view_spaces {
    vms_task *task[VIEW_MAX_SPACES];
    int pids[VIEW_MAX_SPACES][8]; /* the tasks sharing it, 0-ended (cut at 7) */
    size_t n;
};
void view_spaces_read(vms_machine *m, struct view_spaces *out);

/* A size in words: exact when short ("8 KiB", "2 MiB", "12288 bytes"),
 * else rounded ("~128 TiB"). */
void view_size(uint64_t bytes, char *buf, size_t size);

/* Writes text escaped for XML (and so for Graphviz's HTML labels). */
void view_xml_text(FILE *out, const char *text);

#endif
