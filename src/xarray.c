/*
 * The page index of a memory object: a radix tree of 64-way nodes keyed by page
 * offset, as Linux's xarray keys the page cache. Iteration is in index order,
 * so write-back and teardown are deterministic.
 * Simplification: no marks (dirty/writeback tags), no multi-order entries.
 */
#include "xarray.h"
#include "page_alloc.h"

#include <errno.h>
#include <stdlib.h>

#define XA_SHIFT 6
#define XA_SLOTS (1u << XA_SHIFT)

struct xa_node {
    unsigned count;
    void *slot[XA_SLOTS];
};

struct xa_leaf {
    unsigned count;
    uint32_t pfn[XA_SLOTS];
};

static uint64_t xa_capacity(unsigned height)
{
    return height * XA_SHIFT >= 64 ? UINT64_MAX : (1ULL << (height * XA_SHIFT)) - 1;
}

static unsigned slot_at(uint64_t index, unsigned level) /* level 1 = leaf */
{
    return (unsigned)(index >> ((level - 1) * XA_SHIFT)) & (XA_SLOTS - 1);
}

uint32_t xa_load(const struct xarray *xa, uint64_t index)
{
    const uint32_t *leaf = xa_leaf(xa, index);
    return leaf ? leaf[slot_at(index, 1)] : PFN_NONE;
}

const uint32_t *xa_leaf(const struct xarray *xa, uint64_t index)
{
    if (!xa->root || index > xa_capacity(xa->height))
        return NULL;
    void *n = xa->root;
    for (unsigned level = xa->height; level > 1 && n; level--)
        n = ((struct xa_node *)n)->slot[slot_at(index, level)];
    return n ? ((struct xa_leaf *)n)->pfn : NULL;
}

static struct xa_leaf *new_leaf(void)
{
    struct xa_leaf *l = malloc(sizeof(*l));
    if (l) {
        l->count = 0;
        for (unsigned i = 0; i < XA_SLOTS; i++)
            l->pfn[i] = PFN_NONE;
    }
    return l;
}

static int grow(struct xarray *xa, uint64_t index)
{
    if (!xa->root) {
        xa->height = 1;
        while (index > xa_capacity(xa->height))
            xa->height++;
        return 0;
    }
    while (index > xa_capacity(xa->height)) {
        struct xa_node *top = calloc(1, sizeof(*top));
        if (!top)
            return -ENOMEM;
        top->slot[0] = xa->root;
        top->count = 1;
        xa->root = top;
        xa->height++;
    }
    return 0;
}

int xa_store(struct xarray *xa, uint64_t index, uint32_t pfn)
{
    if (grow(xa, index))
        return -ENOMEM;
    void **link = &xa->root;
    for (unsigned level = xa->height; level > 1; level--) {
        if (!*link) {
            *link = calloc(1, sizeof(struct xa_node));
            if (!*link)
                return -ENOMEM;
        }
        struct xa_node *n = *link;
        link = &n->slot[slot_at(index, level)];
        if (!*link)
            n->count++;
    }
    if (!*link && !(*link = new_leaf()))
        return -ENOMEM;
    struct xa_leaf *leaf = *link;
    unsigned s = slot_at(index, 1);
    if (leaf->pfn[s] == PFN_NONE) {
        leaf->count++;
        xa->count++;
    }
    leaf->pfn[s] = pfn;
    return 0;
}

/* Returns the old entry; frees nodes left empty on the way back up. */
static uint32_t erase_in(void **link, unsigned level, uint64_t index)
{
    if (!*link)
        return PFN_NONE;
    uint32_t old;
    if (level == 1) {
        struct xa_leaf *leaf = *link;
        unsigned s = slot_at(index, 1);
        old = leaf->pfn[s];
        if (old == PFN_NONE)
            return old;
        leaf->pfn[s] = PFN_NONE;
        if (--leaf->count == 0) {
            free(leaf);
            *link = NULL;
        }
        return old;
    }
    struct xa_node *n = *link;
    void **child = &n->slot[slot_at(index, level)];
    int had = *child != NULL;
    old = erase_in(child, level - 1, index);
    if (had && !*child && --n->count == 0) {
        free(n);
        *link = NULL;
    }
    return old;
}

uint32_t xa_erase(struct xarray *xa, uint64_t index)
{
    if (!xa->root || index > xa_capacity(xa->height))
        return PFN_NONE;
    uint32_t old = erase_in(&xa->root, xa->height, index);
    if (old != PFN_NONE)
        xa->count--;
    if (!xa->root)
        xa->height = 0;
    return old;
}

static int each_in(void *n, unsigned level, uint64_t base,
                   int (*fn)(void *, uint64_t, uint32_t), void *arg)
{
    if (!n)
        return 0;
    if (level == 1) {
        struct xa_leaf *leaf = n;
        for (unsigned i = 0; i < XA_SLOTS; i++)
            if (leaf->pfn[i] != PFN_NONE) {
                int r = fn(arg, base + i, leaf->pfn[i]);
                if (r)
                    return r;
            }
        return 0;
    }
    struct xa_node *node = n;
    uint64_t step = 1ULL << ((level - 1) * XA_SHIFT);
    for (unsigned i = 0; i < XA_SLOTS; i++) {
        int r = each_in(node->slot[i], level - 1, base + i * step, fn, arg);
        if (r)
            return r;
    }
    return 0;
}

int xa_for_each(const struct xarray *xa, int (*fn)(void *, uint64_t, uint32_t), void *arg)
{
    return each_in(xa->root, xa->height, 0, fn, arg);
}

static void destroy_in(void *n, unsigned level)
{
    if (!n)
        return;
    if (level > 1)
        for (unsigned i = 0; i < XA_SLOTS; i++)
            destroy_in(((struct xa_node *)n)->slot[i], level - 1);
    free(n);
}

void xa_destroy(struct xarray *xa)
{
    destroy_in(xa->root, xa->height);
    *xa = (struct xarray){0};
}
