/*
 * mprotect, as Linux's mm/mprotect.c: the same checks and errno, VMAs split
 * at the range ends and merged again where the new flags allow, every PTE of
 * the range rewritten with the new protection, and one TLB flush (with
 * shootdown) for the PTEs that changed.
 * Simplification: no protection keys (pkey_mprotect) and no PROT_SEM effect.
 */
#include "internal.h"

#include <errno.h>

#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif

/* A PTE may become writable at once, without a later write fault, when that
 * fault would change nothing (Linux's can_change_pte_writable): an exclusive
 * anonymous page, clean or dirty (host-measured: a MADV_FREE'd page made
 * writable again takes no fault), or a shared page that is already dirty. */
static int can_change_pte_writable(const struct vm_area_struct *vma, const struct phys_mem *pm,
                                   pte_t e)
{
    if (!(vma->vm_flags & VM_WRITE) || pte_special(e))
        return 0;
    if (vma->vm_flags & VM_SHARED)
        return pte_dirty(e);
    const struct page *page = pfn_to_page(pm, pte_pfn(e));
    return (page->flags & PG_anon_exclusive) != 0;
}

#define PTE_KEEP (PTE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SPECIAL)

static void change_protection(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t *fs,
                              uint64_t *fe)
{
    uint64_t prot = vm_page_prot(vma);
    const struct phys_mem *pm = &mm->m->pm;
    for (uint64_t va = vma->vm_start; va < vma->vm_end; va += PAGE_SIZE) {
        pte_t *pte = pte_offset(mm, va);
        if (!pte) {
            va |= (1ULL << TABLE_SHIFT(2)) - 1; /* skip the rest of a missing PTE table */
            va -= PAGE_SIZE - 1;
            continue;
        }
        if (!pte_present(*pte))
            continue; /* empty, or a guard marker: kept as it is */
        pte_t e = (*pte & PTE_KEEP) | prot;
        if (pte_special(e))
            e &= ~_PAGE_RW;
        else if (!(e & _PAGE_RW) && can_change_pte_writable(vma, pm, e))
            e |= _PAGE_RW;
        *pte = e;
        widen(fs, fe, va, va + PAGE_SIZE);
    }
}

/* Apply newflags to [start, end) of vma: split, set, merge, rewrite PTEs. */
static int mprotect_fixup(struct vms_task *t, struct vm_area_struct **pvma, uint64_t start,
                          uint64_t end, uint64_t newflags, uint64_t *fs, uint64_t *fe)
{
    struct mm_struct *mm = t->mm;
    vms_machine *m = t->m;
    struct vm_area_struct *vma = *pvma;
    uint64_t oldflags = vma->vm_flags;
    if (newflags == oldflags)
        return 0;
    if (newflags & VM_WRITE) {
        /* Memory turning into data counts against RLIMIT_DATA. */
        uint64_t nrpages = (end - start) >> PAGE_SHIFT;
        if (!may_expand_vm(mm, newflags, nrpages, 0) && may_expand_vm(mm, oldflags, nrpages, 0))
            return -ENOMEM;
        if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) {
            if (!vm_enough_memory(mm, (end - start) >> PAGE_SHIFT))
                return -ENOMEM;
            newflags |= VM_ACCOUNT;
        }
    } else if ((oldflags & VM_ACCOUNT) && !vma->mapping && !vma->anon_vma) {
        newflags &= ~VM_ACCOUNT; /* untouched anonymous memory gives its charge back */
    }
    int max = (int)m->cfg.max_map_count;
    if (start > vma->vm_start) {
        if (mm->map_count >= max)
            return -ENOMEM;
        int err = split_vma(mm, vma, start, 1);
        if (err)
            return err;
    }
    if (end < vma->vm_end) {
        if (mm->map_count >= max)
            return -ENOMEM;
        int err = split_vma(mm, vma, end, 0);
        if (err)
            return err;
    }
    vma->vm_flags = newflags;
    change_protection(mm, vma, fs, fe);
    *pvma = vma_merge_neighbours(mm, vma);
    /* Locked private memory turning writable is copied now, not at first
     * write; Linux does it without dropping the lock, so a read from the
     * disk counts as a major fault (unlike mmap's populate_range). */
    if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (newflags & VM_WRITE))
        populate_waiting(t, start, end);
    return 0;
}

int vms_mprotect(vms_task *t, vms_addr start, uint64_t len, int prot)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    struct mm_struct *mm = t->mm;
    int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
        return -EINVAL;
    if (start & ~PAGE_MASK)
        return -EINVAL;
    if (!len)
        return 0;
    len = PAGE_ALIGN(len);
    uint64_t end = start + len;
    if (end <= start)
        return -ENOMEM;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
        return -EINVAL;
    struct vm_area_struct *vma = find_vma(mm, start);
    if (!vma)
        return -ENOMEM;
    if (grows & PROT_GROWSDOWN) {
        if (vma->vm_start >= end)
            return -ENOMEM;
        start = vma->vm_start;
        if (!(vma->vm_flags & VM_GROWSDOWN))
            return -EINVAL;
    } else if (vma->vm_start > start) {
        return -ENOMEM;
    } else if (grows & PROT_GROWSUP) {
        return -EINVAL; /* x86 has no upward-growing VMAs */
    }
    uint64_t fs = UINT64_MAX, fe = 0, pos = start;
    int err = 0;
    uint64_t newbits = (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
                       (prot & PROT_EXEC ? VM_EXEC : 0);
    while (vma && vma->vm_start < end) {
        if (vma->vm_start > pos) {
            err = -ENOMEM; /* a hole in the range */
            break;
        }
        uint64_t newflags = (vma->vm_flags & ~(VM_ACCESS_FLAGS | VM_PKEY_BIT0)) | newbits |
                            vma_pkey_flags(t->m, prot);
        if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
            err = -EACCES; /* asks for more than VM_MAY* allows */
            break;
        }
        uint64_t stop = vma->vm_end < end ? vma->vm_end : end;
        err = mprotect_fixup(t, &vma, pos, stop, newflags, &fs, &fe);
        if (err)
            break;
        /* vma now carries newflags up to its end, which may lie past stop
         * when it merged with an already matching neighbour. */
        pos = vma->vm_end < end ? vma->vm_end : end;
        vma = vma->vm_next;
    }
    if (!err && pos < end)
        err = -ENOMEM;
    if (fe > fs)
        flush_tlb_mm_range(t->m, mm, t->cpu, fs, fe);
    return err;
}
