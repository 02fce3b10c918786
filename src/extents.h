/* Which blocks of a file hold data (see extents.c). */
#ifndef VMSIM_EXTENTS_H
#define VMSIM_EXTENTS_H

#include <stddef.h>
#include <stdint.h>

/* Blocks [lblk, lblk + len) hold data. */
struct extent {
    uint64_t lblk, len;
};

/* A file's extents, sorted, disjoint and never adjacent (touching runs are
 * one extent). Every block outside them is a hole. */
struct extent_tree {
    struct extent *v;
    size_t n, cap;
};

#define EXT_NONE UINT64_MAX /* no such block */

/* Blocks [first, end) hold data from now on: 0 or -ENOMEM (nothing changed). */
int ext_insert(struct extent_tree *t, uint64_t first, uint64_t end);
/* Room for the one extent a later ext_remove may need: 0 or -ENOMEM. */
int ext_reserve(struct extent_tree *t);
/* Blocks [first, end) become a hole. Cannot fail when end is EXT_NONE (a
 * truncate) or after ext_reserve; otherwise 0 or -ENOMEM (nothing changed). */
int ext_remove(struct extent_tree *t, uint64_t first, uint64_t end);
uint64_t ext_next_data(const struct extent_tree *t, uint64_t blk); /* EXT_NONE: none */
uint64_t ext_next_hole(const struct extent_tree *t, uint64_t blk);
int ext_mapped(const struct extent_tree *t, uint64_t blk);
uint64_t ext_count_blocks(const struct extent_tree *t);
void ext_destroy(struct extent_tree *t);
/* NULL when the tree keeps its rules, else what is broken. */
const char *ext_check(const struct extent_tree *t);

#endif
