/*
 * The page cache, as Linux's mm/filemap.c keeps it: every memory object
 * (a host file's inode, or a shmem object) holds its pages in an index by
 * page offset, and the list of VMAs that map it (i_mmap), through which its
 * pages can be found in every address space.
 */
#include "internal.h"
#include "xarray.h"

#include <stdlib.h>
#include <unistd.h>

void mapping_get(struct address_space *as) { as->refcount++; }

static int drop_page(void *arg, uint64_t index, uint32_t pfn)
{
    (void)index;
    put_page(arg, pfn);
    return 0;
}

/* Frees the object and its pages; the caller has written back what was dirty. */
void mapping_destroy(vms_machine *m, struct address_space *as)
{
    xa_for_each(as->pages, drop_page, &m->pm);
    xa_destroy(as->pages);
    free(as->pages);
    if (as->host_fd >= 0)
        close(as->host_fd);
    free(as->path);
    free(as);
}

/* A shmem object dies with its last mapping; a file's pages stay cached
 * (no reclaim yet) until the machine is destroyed. */
void mapping_put(vms_machine *m, struct address_space *as)
{
    if (--as->refcount == 0 && as->kind == MAPPING_SHMEM)
        mapping_destroy(m, as);
}

uint32_t find_get_page(const struct address_space *as, uint64_t index)
{
    return xa_load(as->pages, index);
}

void vma_link_file(struct vm_area_struct *vma)
{
    struct address_space *as = vma->mapping;
    vma->shared_prev = NULL;
    vma->shared_next = as->i_mmap;
    if (as->i_mmap)
        as->i_mmap->shared_prev = vma;
    as->i_mmap = vma;
}

void vma_unlink_file(struct vm_area_struct *vma)
{
    struct address_space *as = vma->mapping;
    if (vma->shared_prev)
        vma->shared_prev->shared_next = vma->shared_next;
    else if (as->i_mmap == vma)
        as->i_mmap = vma->shared_next;
    if (vma->shared_next)
        vma->shared_next->shared_prev = vma->shared_prev;
    vma->shared_next = vma->shared_prev = NULL;
}
