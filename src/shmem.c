/*
 * Shared anonymous memory, as Linux's mm/shmem.c backs MAP_SHARED|MAP_ANONYMOUS:
 * an unnamed in-memory object ("/dev/zero (deleted)" in the maps, device 00:01)
 * whose pages live in its own page index, so every mapping of it maps the same
 * frames. A page is allocated zeroed on first touch and stays until the last
 * mapping of the object goes.
 * Simplification: no swap of shmem pages yet; no size limit beyond RAM.
 */
#include "internal.h"
#include "xarray.h"

#include <stdlib.h>

struct address_space *shmem_create(vms_machine *m, uint64_t size)
{
    struct address_space *as = calloc(1, sizeof(*as));
    struct xarray *xa = calloc(1, sizeof(*xa));
    if (!as || !xa) {
        free(as);
        free(xa);
        return NULL;
    }
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

uint32_t shmem_get_page(vms_machine *m, struct address_space *as, uint64_t index)
{
    uint32_t pfn = xa_load(as->pages, index);
    if (pfn != PFN_NONE)
        return pfn;
    pfn = alloc_zeroed_page(&m->pm);
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
    return pfn;
}
