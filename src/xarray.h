/* A radix tree from page index to frame number (Linux's xarray, reduced). */
#ifndef VMSIM_XARRAY_H
#define VMSIM_XARRAY_H

#include <stdint.h>

struct xarray {
    void *root;
    unsigned height; /* levels of 64-way nodes; 0 when empty */
    uint64_t count;  /* entries stored */
};

uint32_t xa_load(const struct xarray *xa, uint64_t index);      /* PFN_NONE if absent */
/* The XA_LEAF_SLOTS entries of the leaf holding index (slot 0 is index with
 * its low bits clear), or NULL when no leaf covers it: a batch lookup. */
#define XA_LEAF_SLOTS 64u
const uint32_t *xa_leaf(const struct xarray *xa, uint64_t index);
int xa_store(struct xarray *xa, uint64_t index, uint32_t pfn);  /* 0 or -ENOMEM */
uint32_t xa_erase(struct xarray *xa, uint64_t index);           /* the old entry */
/* Calls fn for each entry in index order; stops early when fn returns nonzero. */
int xa_for_each(const struct xarray *xa, int (*fn)(void *arg, uint64_t index, uint32_t pfn),
                void *arg);
void xa_destroy(struct xarray *xa); /* frees the nodes, not what they point to */

#endif
