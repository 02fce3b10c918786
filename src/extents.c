/*
 * A file's block map: which of its 4 KiB blocks hold data and which are
 * holes, as ext4 keeps it in its extent tree (blocks on the disk) and its
 * extent status tree (blocks reserved by delayed allocation, whose data is
 * still only in the page cache). lseek's SEEK_DATA/SEEK_HOLE and st_blocks
 * count both kinds as data.
 *
 * A block is reserved once a write() began on it (ext4 reserves it before
 * the copy, so even a write that copies nothing leaves it), once a shared
 * mapping wrote to its page (page_mkwrite; with large folios, every block
 * of the folio in either case, those of page_mkwrite before the end of the
 * file), and is on the disk once write-back wrote its page, or when the
 * host file had it when the machine first opened the file. Truncation
 * frees the blocks past the new end; a hole punch (MADV_REMOVE) frees the
 * blocks it covers. Reading a hole allocates nothing.
 *
 * Simplifications: a block is one page (ext4 with 4 KiB blocks, as on the
 * host); an unwritten (preallocated) extent of the host file reads as a
 * hole, as SEEK_DATA shows it; a sorted array stands for ext4's trees.
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

/* The first extent that starts after blk. */
static size_t first_starting_after(const struct extent_tree *t, uint64_t blk)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].lblk > blk)
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

int ext_reserve_room(struct extent_tree *t) { return ensure_room(t, t->n + 2); }

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

/* Appends e to out[*k], merged into the last one when they touch and agree. */
static void push_merged(struct extent *out, size_t *k, struct extent e)
{
    if (e.len == 0 || e.status == EXT_HOLE)
        return;
    if (*k && out[*k - 1].status == e.status && ext_end(&out[*k - 1]) == e.lblk)
        out[*k - 1].len += e.len;
    else
        out[(*k)++] = e;
}

int ext_set(struct extent_tree *t, uint64_t first, uint64_t end, enum ext_status status)
{
    if (first >= end)
        return 0;
    /* Extents [i, j) touch or overlap [first, end): what is left of them
     * outside it, with the new extent between, replaces them. */
    size_t i = first_reaching(t, first), j = first_starting_after(t, end);
    struct extent out[3];
    size_t k = 0;
    if (i < j && t->v[i].lblk < first) {
        uint64_t stop = ext_end(&t->v[i]) < first ? ext_end(&t->v[i]) : first;
        push_merged(out, &k, (struct extent){t->v[i].lblk, stop - t->v[i].lblk, t->v[i].status});
    }
    push_merged(out, &k, (struct extent){first, end - first, status});
    if (i < j && ext_end(&t->v[j - 1]) > end) {
        uint64_t from = t->v[j - 1].lblk > end ? t->v[j - 1].lblk : end;
        push_merged(out, &k, (struct extent){from, ext_end(&t->v[j - 1]) - from, t->v[j - 1].status});
    }
    return splice(t, i, j, out, k);
}

enum ext_status ext_status_of(const struct extent_tree *t, uint64_t blk)
{
    size_t i = first_ending_after(t, blk);
    return i < t->n && t->v[i].lblk <= blk ? t->v[i].status : EXT_HOLE;
}

int ext_reserve_block(struct extent_tree *t, uint64_t blk)
{
    if (ext_status_of(t, blk) != EXT_HOLE)
        return 0;
    return ext_set(t, blk, blk + 1, EXT_DELAYED);
}

int ext_has_delayed(const struct extent_tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].status == EXT_DELAYED)
            return 1;
    return 0;
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
    while (i + 1 < t->n && t->v[i + 1].lblk == ext_end(&t->v[i]))
        i++; /* delayed next to written: data all the same */
    return ext_end(&t->v[i]);
}

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
        const struct extent *e = &t->v[i];
        if (e->len == 0 || ext_end(e) < e->lblk)
            return "an empty or wrapping extent";
        if (e->status != EXT_DELAYED && e->status != EXT_WRITTEN)
            return "an extent with no status";
        if (i && e->lblk < ext_end(e - 1))
            return "extents out of order or overlapping";
        if (i && e->lblk == ext_end(e - 1) && e->status == e[-1].status)
            return "touching extents of one status not merged";
    }
    return NULL;
}
