/*
 * Shared anonymous memory, as Linux's mm/shmem.c backs MAP_SHARED|MAP_ANONYMOUS:
 * an unnamed in-memory object ("/dev/zero (deleted)" in the maps) whose pages
 * live in its own page index, so every mapping of it, in any process, maps the
 * same frames. A page is allocated zeroed on first touch and stays until the
 * last mapping of the object goes.
 * Simplification: no swap of shmem pages yet; no size limit beyond RAM.
 */
#include "internal.h"
#include "xarray.h"

#include <stdlib.h>

struct shmem_object *shmem_create(vms_machine *m, uint64_t size)
{
    struct shmem_object *obj = calloc(1, sizeof(*obj));
    struct xarray *xa = calloc(1, sizeof(*xa));
    if (!obj || !xa) {
        free(obj);
        free(xa);
        return NULL;
    }
    obj->ino = ++m->next_ino;
    obj->size_pages = size >> PAGE_SHIFT;
    obj->refcount = 1;
    obj->pages = xa;
    return obj;
}

void shmem_get(struct shmem_object *obj) { obj->refcount++; }

static int drop_page(void *arg, uint64_t index, uint32_t pfn)
{
    (void)index;
    put_page(arg, pfn);
    return 0;
}

void shmem_put(vms_machine *m, struct shmem_object *obj)
{
    if (--obj->refcount > 0)
        return;
    xa_for_each(obj->pages, drop_page, &m->pm);
    xa_destroy(obj->pages);
    free(obj->pages);
    free(obj);
}

uint32_t shmem_find_page(struct shmem_object *obj, uint64_t index)
{
    return xa_load(obj->pages, index);
}

uint32_t shmem_get_page(vms_machine *m, struct shmem_object *obj, uint64_t index)
{
    uint32_t pfn = xa_load(obj->pages, index);
    if (pfn != PFN_NONE)
        return pfn;
    pfn = alloc_zeroed_page(&m->pm);
    if (pfn == PFN_NONE)
        return PFN_NONE;
    struct page *page = pfn_to_page(&m->pm, pfn);
    page->flags = PG_shmem;
    page->mapping = obj;
    page->index = index;
    if (xa_store(obj->pages, index, pfn)) {
        put_page(&m->pm, pfn);
        return PFN_NONE;
    }
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .pa = (uint64_t)pfn << PAGE_SHIFT,
                                       .detail = "shmem"});
    return pfn;
}
