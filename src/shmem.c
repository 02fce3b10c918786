/*
 * Shared anonymous memory, as Linux's mm/shmem.c backs MAP_SHARED|MAP_ANONYMOUS:
 * an unnamed in-memory object ("/dev/zero (deleted)" in the maps, device 00:01)
 * whose pages live in its own page index, so every mapping of it maps the same
 * frames. A page is allocated zeroed on first touch and stays until the last
 * mapping of the object goes.
 * Reclaim writes a dirty page to swap and the object keeps the slot in
 * its swapped index (Linux keeps a swap entry in the page cache's place);
 * the next fault reads it back, a major fault, and frees the slot.
 * Simplifications: no size limit beyond RAM and swap; a page written to
 * swap leaves memory at once (Linux leaves it in the swap cache until
 * reclaim comes by again).
 */
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct address_space *shmem_create(vms_machine *m, uint64_t size)
{
    struct address_space *as = calloc(1, sizeof(*as));
    struct xarray *xa = calloc(1, sizeof(*xa)), *swapped = calloc(1, sizeof(*swapped));
    if (!as || !xa || !swapped) {
        free(as);
        free(xa);
        free(swapped);
        return NULL;
    }
    as->swapped = swapped;
    as->kind = MAPPING_SHMEM;
    as->ino = ++m->next_ino;
    as->dev_minor = 1;
    as->size = size;
    as->refcount = 1;
    as->pages = xa;
    as->host_fd = -1;
    as->host_wfd = -1;
    return as;
}

/* The page at index comes back from swap slot off (Linux's
 * shmem_swapin_folio): from the swap cache, or read with the window
 * around it (*major); it leaves the swap cache and the slot is freed. */
static uint32_t shmem_swapin(vms_machine *m, struct address_space *as, uint64_t index,
                             uint64_t off, int *major)
{
    uint32_t pfn = lookup_swap_cache(m, off);
    if (pfn == PFN_NONE) {
        pfn = swapin_readahead(m, off);
        if (pfn == PFN_NONE)
            return PFN_NONE;
        *major = 1;
    }
    if (xa_store(as->pages, index, pfn))
        return PFN_NONE;
    delete_from_swap_cache(m, pfn); /* its reference becomes the object's */
    xa_erase(as->swapped, index);
    swap_put(m, off);
    struct page *page = pfn_to_page(&m->pm, pfn);
    page->flags |= PG_shmem | PG_dirty; /* its only copy now */
    page->mapping = as;
    page->index = index;
    return pfn;
}

int shmem_writeout(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    struct address_space *as = page->mapping;
    uint64_t off = get_swap_page(m);
    if (!off)
        return -ENOSPC;
    page->swap_off = (uint32_t)off;
    int err = xa_store(as->swapped, page->index, (uint32_t)off);
    if (!err)
        err = swap_writepage(m, pfn);
    if (err) {
        xa_erase(as->swapped, page->index);
        swap_put_cache(m, off);
        page->flags |= PG_dirty;
        return err;
    }
    m->swap.map[off] = 1; /* named by the object, not cached */
    page->swap_off = 0;
    xa_erase(as->pages, page->index);
    put_page(&m->pm, pfn); /* the object's reference: the page is free */
    return 0;
}

struct swapped_range {
    uint64_t first, last; /* [first, last) */
    uint64_t *index;
    size_t n, cap;
    int err;
};

static int collect_swapped(void *arg, uint64_t index, uint32_t off)
{
    (void)off;
    struct swapped_range *r = arg;
    if (index < r->first || index >= r->last)
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        uint64_t *grown = realloc(r->index, cap * sizeof(*grown));
        if (!grown)
            return r->err = -ENOMEM;
        r->index = grown;
        r->cap = cap;
    }
    r->index[r->n++] = index;
    return 0;
}

int shmem_free_swap(vms_machine *m, struct address_space *as, uint64_t first, uint64_t last)
{
    struct swapped_range r = {.first = first, .last = last};
    xa_for_each(as->swapped, collect_swapped, &r);
    for (size_t i = 0; i < r.n; i++) {
        uint32_t off = xa_erase(as->swapped, r.index[i]);
        free_swap_and_cache(m, off);
    }
    free(r.index);
    return r.err;
}

uint64_t shmem_swapped_slot(const struct address_space *as, uint64_t index)
{
    uint32_t off = as->swapped ? xa_load(as->swapped, index) : PFN_NONE;
    return off == PFN_NONE ? 0 : off;
}

uint32_t shmem_get_page(vms_machine *m, struct address_space *as, uint64_t index, int *major)
{
    uint32_t pfn = xa_load(as->pages, index);
    if (pfn != PFN_NONE)
        return pfn;
    uint64_t off = shmem_swapped_slot(as, index);
    if (off)
        return shmem_swapin(m, as, index, off, major);
    pfn = alloc_zeroed_page_gfp(m, GFP_USER);
    if (pfn == PFN_NONE)
        return PFN_NONE;
    struct page *page = pfn_to_page(&m->pm, pfn);
    page->flags = PG_shmem;
    page->mapping = as;
    page->index = index;
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = index << PAGE_SHIFT,
                                       .pa = (uint64_t)pfn << PAGE_SHIFT, .detail = "shmem"});
    if (xa_store(as->pages, index, pfn)) {
        put_page(&m->pm, pfn);
        return PFN_NONE;
    }
    lru_add(&m->pm, pfn); /* swap-backed: the anon lists */
    return pfn;
}
