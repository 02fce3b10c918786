/*
 * A file's block map: which of its 4 KiB blocks hold data and which are
 * holes, as ext4 keeps it in its extent tree (blocks on the disk) and its
 * extent status tree (blocks reserved by delayed allocation, whose data is
 * still only in the page cache). lseek's SEEK_DATA/SEEK_HOLE and st_blocks
 * read it.
 *
 * A block holds data once a write() began on it (ext4 reserves it before
 * the copy, so even a write that copies nothing leaves it), once a shared
 * mapping wrote to its page (page_mkwrite reserves it), or when the host
 * file had it allocated when the machine first opened the file. Truncation
 * frees the blocks past the new end; a hole punch (MADV_REMOVE) frees the
 * blocks it covers. Reading a hole allocates nothing.
 *
 * Simplifications: a block is one page (ext4 with 4 KiB blocks, as on the
 * host); delayed and written blocks are one state (lseek and st_blocks
 * count both alike; write-back copies the dirty pages' bytes to the host
 * file, which allocates them there); an unwritten (preallocated) extent of
 * the host file reads as a hole, as SEEK_DATA shows it; a sorted array
 * stands for ext4's trees.
 */
#include "extents.h"

#include <errno.h>
#include <stdlib.h>

static uint64_t ext_end(const struct extent *e) { return e->lblk + e->len; }

/* The first extent that ends at or after blk (touches or covers it). */
static size_t first_reaching(const struct extent_tree *t, uint64_t blk)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ext_end(&t->v[mid]) >= blk)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The first extent that ends after blk (covers blk or lies beyond it). */
static size_t first_ending_after(const struct extent_tree *t, uint64_t blk)
{
    size_t i = first_reaching(t, blk);
    return i < t->n && ext_end(&t->v[i]) == blk ? i + 1 : i;
}

/* The first extent that starts after blk (when inclusive: at or after). */
static size_t first_starting_after(const struct extent_tree *t, uint64_t blk, int inclusive)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].lblk > blk || (inclusive && t->v[mid].lblk == blk))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int ensure_room(struct extent_tree *t, size_t n)
{
    if (n <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 8;
    while (cap < n)
        cap *= 2;
    struct extent *v = realloc(t->v, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    t->v = v;
    t->cap = cap;
    return 0;
}

/* Replaces extents [i, j) with the k extents in with[]. */
static int splice(struct extent_tree *t, size_t i, size_t j, const struct extent *with, size_t k)
{
    if (ensure_room(t, t->n - (j - i) + k))
        return -ENOMEM;
    size_t tail = t->n - j;
    for (size_t s = 0; s < tail; s++) { /* move the tail, in the safe direction */
        size_t from = k > j - i ? j + tail - 1 - s : j + s;
        t->v[from - j + i + k] = t->v[from];
    }
    for (size_t s = 0; s < k; s++)
        t->v[i + s] = with[s];
    t->n = t->n - (j - i) + k;
    return 0;
}

int ext_insert(struct extent_tree *t, uint64_t first, uint64_t end)
{
    if (first >= end)
        return 0;
    size_t i = first_reaching(t, first), j = first_starting_after(t, end, 0);
    struct extent merged = {first, end - first};
    if (i < j) {
        uint64_t lo = t->v[i].lblk < first ? t->v[i].lblk : first;
        uint64_t hi = ext_end(&t->v[j - 1]) > end ? ext_end(&t->v[j - 1]) : end;
        merged = (struct extent){lo, hi - lo};
    }
    return splice(t, i, j, &merged, 1);
}

int ext_reserve(struct extent_tree *t) { return ensure_room(t, t->n + 1); }

int ext_remove(struct extent_tree *t, uint64_t first, uint64_t end)
{
    if (first >= end)
        return 0;
    size_t i = first_ending_after(t, first), j = first_starting_after(t, end, 1);
    if (i >= j)
        return 0;
    struct extent keep[2];
    size_t k = 0;
    if (t->v[i].lblk < first)
        keep[k++] = (struct extent){t->v[i].lblk, first - t->v[i].lblk};
    if (ext_end(&t->v[j - 1]) > end)
        keep[k++] = (struct extent){end, ext_end(&t->v[j - 1]) - end};
    return splice(t, i, j, keep, k);
}

uint64_t ext_next_data(const struct extent_tree *t, uint64_t blk)
{
    size_t i = first_ending_after(t, blk);
    if (i == t->n)
        return EXT_NONE;
    return t->v[i].lblk > blk ? t->v[i].lblk : blk;
}

uint64_t ext_next_hole(const struct extent_tree *t, uint64_t blk)
{
    size_t i = first_ending_after(t, blk);
    if (i == t->n || t->v[i].lblk > blk)
        return blk;
    return ext_end(&t->v[i]); /* extents never touch: a hole follows */
}

int ext_mapped(const struct extent_tree *t, uint64_t blk) { return ext_next_data(t, blk) == blk; }

uint64_t ext_count_blocks(const struct extent_tree *t)
{
    uint64_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->v[i].len;
    return n;
}

void ext_destroy(struct extent_tree *t)
{
    free(t->v);
    *t = (struct extent_tree){0};
}

const char *ext_check(const struct extent_tree *t)
{
    if (t->n > t->cap)
        return "more extents than room";
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].len == 0 || ext_end(&t->v[i]) < t->v[i].lblk)
            return "an empty or wrapping extent";
        if (i && t->v[i].lblk <= ext_end(&t->v[i - 1]))
            return "extents out of order, overlapping or touching";
    }
    return NULL;
}
