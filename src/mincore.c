/*
 * mincore, as Linux's mm/mincore.c: one byte per page, 1 when the page is
 * resident: mapped by a PTE of this process (the zero page and PROT_NONE
 * pages included), or, for a file or shmem mapping, present and up to date in
 * its page cache; a swapped-out page while the swap cache still holds it.
 */
#include "internal.h"

#include <errno.h>

static unsigned char page_resident(struct mm_struct *mm, const struct vm_area_struct *vma,
                                   uint64_t va)
{
    pte_t *pte = pte_offset(mm, va);
    if (pte && pte_present(*pte))
        return 1;
    if (pte && pte_is_swap(*pte)) /* resident while the swap cache holds it */
        return swap_cache_pfn(mm->m, pte_swp_offset(*pte)) != PFN_NONE;
    if (vma->mapping) {
        /* An unread page (not up to date) does not count, as in Linux. */
        uint64_t index = vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
        uint32_t pfn = find_get_page(vma->mapping, index);
        uint64_t slot = vma->mapping->kind == MAPPING_SHMEM ? shmem_swapped_slot(vma->mapping, index) : 0;
        if (slot) /* swapped shmem: resident while the swap cache holds it */
            return swap_cache_pfn(mm->m, slot) != PFN_NONE;
        return pfn != PFN_NONE && !(mm->m->pm.pages[pfn].flags & PG_unread);
    }
    return 0;
}

int vms_mincore(vms_task *t, vms_addr start, uint64_t len, unsigned char *vec)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    struct mm_struct *mm = t->mm;
    if (start & ~PAGE_MASK)
        return -EINVAL;
    if (start > mm->task_size || len > mm->task_size - start)
        return -ENOMEM;
    uint64_t pages = (len >> PAGE_SHIFT) + ((len & ~PAGE_MASK) != 0);
    uint64_t va = start;
    for (uint64_t i = 0; i < pages; i++, va += PAGE_SIZE) {
        struct vm_area_struct *vma = find_vma(mm, va);
        if (!vma || vma->vm_start > va)
            return -ENOMEM; /* before a bad vector is noticed, as Linux */
        if (!vec)
            return -EFAULT;
        vec[i] = page_resident(mm, vma, va);
    }
    return 0;
}
