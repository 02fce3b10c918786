/* Which blocks of a file hold data (see extents.c). */
#ifndef VMSIM_EXTENTS_H
#define VMSIM_EXTENTS_H

#include <stddef.h>
#include <stdint.h>

/* What a block holds: nothing (a hole), data reserved by delayed
 * allocation and not yet on the disk, or data on the disk. */
enum ext_status { EXT_HOLE, EXT_DELAYED, EXT_WRITTEN };

/* Blocks [lblk, lblk + len) are all in one status (never EXT_HOLE). */
struct extent {
    uint64_t lblk, len;
    enum ext_status status;
};

/* A file's extents, sorted and disjoint; touching extents differ in status
 * (equal ones are merged). Every block outside them is a hole. */
struct extent_tree {
    struct extent *v;
    size_t n, cap;
};

#define EXT_NONE UINT64_MAX /* no such block */

/* Room for the extents a later ext_set may add (2 at most): 0 or -ENOMEM. */
int ext_reserve_room(struct extent_tree *t);
/* Blocks [first, end) take status (EXT_HOLE: they become a hole). Cannot
 * fail after ext_reserve_room, nor when it only removes up to EXT_NONE (a
 * truncate); otherwise 0 or -ENOMEM with nothing changed. */
int ext_set(struct extent_tree *t, uint64_t first, uint64_t end, enum ext_status status);
/* A hole at blk becomes a delayed block; data stays as it is. 0 or -ENOMEM. */
int ext_reserve_block(struct extent_tree *t, uint64_t blk);
enum ext_status ext_status_of(const struct extent_tree *t, uint64_t blk);
uint64_t ext_next_data(const struct extent_tree *t, uint64_t blk); /* EXT_NONE: none */
uint64_t ext_next_hole(const struct extent_tree *t, uint64_t blk);
uint64_t ext_count_blocks(const struct extent_tree *t);
int ext_has_delayed(const struct extent_tree *t); /* any block reserved, not on the disk */
void ext_destroy(struct extent_tree *t);
/* NULL when the tree keeps its rules, else what is broken. */
const char *ext_check(const struct extent_tree *t);

#endif
