/*
 * madvise(2), as Linux's mm/madvise.c. Advice that changes how a range
 * behaves sets or clears a VMA flag, splitting and merging VMAs as mprotect
 * does (RANDOM, SEQUENTIAL, NORMAL, DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK,
 * DONTDUMP, DODUMP, HUGEPAGE, NOHUGEPAGE, MERGEABLE, UNMERGEABLE). Advice
 * about pages acts at once: DONTNEED drops the PTEs (private pages are gone,
 * shared ones stay in their object), FREE marks exclusive anonymous pages
 * clean and lazily freeable, WILLNEED reads a file range into the page
 * cache (at most one disk request), REMOVE punches a hole in a shared
 * object, POPULATE_READ/WRITE fault pages in. A range with unmapped holes is still advised, then gives ENOMEM.
 * GUARD_INSTALL puts guard markers in the PTEs (a touch raises SIGSEGV; they
 * survive DONTNEED, mprotect and fork, move with mremap, go with munmap);
 * GUARD_REMOVE takes them away. VMAs are not split by either.
 * PAGEOUT does what reclaim could without swap to pages only this mapping
 * maps: file and shmem pages are unmapped (clean file pages leave the
 * cache: the next touch reads the file again), clean MADV_FREE pages are
 * dropped (zeros next time), other anonymous pages stay.
 * Simplifications: COLD succeeds but moves nothing (no LRU lists yet);
 * HWPOISON and SOFT_OFFLINE are refused as by a kernel built without
 * memory-failure support; COLLAPSE fails on every VMA (EINVAL), as
 * with THP off.
 */
#include "internal.h"

#include <errno.h>


struct advice {
    struct vms_task *t;
    int behavior;
    uint64_t fs, fe; /* range to flush from the TLBs */
};

/* ---- advice kept in vm_flags ---- */

/* The flags vma gets from the advice, or -EINVAL. */
static int64_t advised_flags(const struct vm_area_struct *vma, int behavior)
{
    uint64_t f = vma->vm_flags;
    switch (behavior) {
    case MADV_NORMAL: return (int64_t)(f & ~(VM_RAND_READ | VM_SEQ_READ));
    case MADV_RANDOM: return (int64_t)((f & ~VM_SEQ_READ) | VM_RAND_READ);
    case MADV_SEQUENTIAL: return (int64_t)((f & ~VM_RAND_READ) | VM_SEQ_READ);
    case MADV_DONTFORK: return (int64_t)(f | VM_DONTCOPY);
    case MADV_DOFORK:
        if (f & VM_IO)
            return -EINVAL;
        return (int64_t)(f & ~VM_DONTCOPY);
    case MADV_DONTDUMP: return (int64_t)(f | VM_DONTDUMP);
    case MADV_DODUMP:
        if ((f & VM_DROPPABLE) || (!(f & VM_HUGETLB) && (f & VM_SPECIAL)))
            return -EINVAL; /* droppable memory is never dumped; hugetlb's may be */
        return (int64_t)(f & ~VM_DONTDUMP);
    case MADV_HUGEPAGE: return (int64_t)((f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE);
    case MADV_NOHUGEPAGE: return (int64_t)((f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE);
    case MADV_WIPEONFORK:
        if (vma->vm_file || vma->mapping || (f & (VM_SHARED | VM_HUGETLB)))
            return -EINVAL; /* private anonymous memory only */
        return (int64_t)(f | VM_WIPEONFORK);
    case MADV_KEEPONFORK:
        if (f & VM_DROPPABLE)
            return -EINVAL;
        return (int64_t)(f & ~VM_WIPEONFORK);
    case MADV_MERGEABLE:
        /* KSM ignores what it cannot merge: shared or droppable memory. */
        if (f & (VM_SHARED | VM_MAYSHARE | VM_DROPPABLE | VM_HUGETLB | VM_DONTEXPAND))
            return (int64_t)f;
        return (int64_t)(f | VM_MERGEABLE);
    case MADV_UNMERGEABLE: return (int64_t)(f & ~VM_MERGEABLE);
    }
    return -EINVAL;
}

/* Linux's madvise_update_vma: split at the range ends, set, merge. */
static int update_vma(struct advice *a, struct vm_area_struct **pvma, uint64_t start,
                      uint64_t end)
{
    struct mm_struct *mm = a->t->mm;
    struct vm_area_struct *vma = *pvma;
    int64_t newflags = advised_flags(vma, a->behavior);
    if (newflags < 0)
        return (int)newflags;
    if ((uint64_t)newflags == vma->vm_flags)
        return 0;
    /* A split the VMA limit refuses is EAGAIN for madvise ("try again"). */
    int max = (int)a->t->m->cfg.max_map_count;
    if (start > vma->vm_start) {
        int err = mm->map_count >= max ? -ENOMEM : split_vma(mm, vma, start, 1);
        if (err)
            return err == -ENOMEM ? -EAGAIN : err;
    }
    if (end < vma->vm_end) {
        int err = mm->map_count >= max ? -ENOMEM : split_vma(mm, vma, end, 0);
        if (err)
            return err == -ENOMEM ? -EAGAIN : err;
    }
    vma->vm_flags = (uint64_t)newflags;
    *pvma = vma_merge_neighbours(mm, vma);
    return 0;
}

/* ---- advice about pages ---- */

static int dontneed(struct advice *a, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    if (((vma->vm_flags & VM_LOCKED) && a->behavior != MADV_DONTNEED_LOCKED) ||
        (vma->vm_flags & VM_PFNMAP))
        return -EINVAL;
    zap_page_range(vma->vm_mm, vma, start, end, &a->fs, &a->fe);
    return 0;
}

/* MADV_FREE: pages only this mm maps become clean; reclaim may then drop
 * them instead of swapping, unless they are written again. */
static int lazyfree(struct advice *a, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP))
        return -EINVAL;
    if (vma->mapping || (vma->vm_flags & VM_SHARED))
        return -EINVAL; /* anonymous private memory only */
    struct mm_struct *mm = vma->vm_mm;
    struct phys_mem *pm = &mm->m->pm;
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        pte_t *pte = pte_offset(mm, va);
        if (pte && pte_is_swap(*pte)) { /* swapped out: the copy is dropped now */
            uint64_t off = pte_swp_offset(*pte);
            *pte = 0;
            free_swap_and_cache(mm->m, off);
            continue;
        }
        if (!pte || !pte_present(*pte) || pte_special(*pte))
            continue;
        struct page *page = pfn_to_page(pm, pte_pfn(*pte));
        if (page->mapcount != 1)
            continue; /* shared with a forked relative */
        page->flags |= PG_lazyfree;
        if (*pte & (_PAGE_DIRTY | _PAGE_ACCESSED)) {
            *pte &= ~(_PAGE_DIRTY | _PAGE_ACCESSED);
            widen(&a->fs, &a->fe, va, va + PAGE_SIZE);
        }
    }
    return 0;
}

static int willneed(struct advice *a, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    if (!vma->vm_file)
        return 0; /* anonymous and shmem memory: only swapped pages would be read */
    uint64_t index = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
    /* Linux's force_page_cache_ra: at most one full request of the disk. */
    uint64_t n = (end - start) >> PAGE_SHIFT, m = ra_pages(a->t->m), io = io_pages(a->t->m);
    uint64_t max = io > m ? io : m;
    struct file_ra_state ra = {.start = index, .size = n < max ? n : max};
    page_cache_ra(a->t->m, vma->mapping, &ra);
    return 0;
}

static int remove_range(struct advice *a, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    if (vma->vm_flags & VM_LOCKED)
        return -EINVAL;
    if (!vma->mapping)
        return -EINVAL;
    if ((vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE))
        return -EACCES;
    uint64_t first = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
    return punch_hole(a->t, vma->mapping, first, first + ((end - start) >> PAGE_SHIFT));
}

/* POPULATE_READ/WRITE are not a walk over VMAs: they fault page after page
 * and stop at the first that fails (Linux's madvise_populate): no VMA is
 * ENOMEM, an access the VMA refuses EINVAL, a failed fault EFAULT. */
static int populate(struct vms_task *t, uint64_t start, uint64_t end, int write)
{
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        struct vm_area_struct *vma = find_vma(t->mm, va);
        if (!vma || vma->vm_start > va)
            return -ENOMEM;
        if (!(vma->vm_flags & (write ? VM_WRITE : VM_READ)) ||
            ((vma->vm_flags & VM_PKEY_BIT0) && PKRU_DENIES(1)))
            return -EINVAL; /* what a kernel access to this memory may not do */
        if (populate_pages(t, va, va + PAGE_SIZE, write))
            return -EFAULT;
    }
    return 0;
}

/* One page of MADV_PAGEOUT, as reclaim without swap treats it: anonymous
 * memory stays mapped (nowhere to put it) unless it is a clean MADV_FREE
 * page, which is dropped; an object's page (file or shmem) is unmapped, and
 * a clean one then leaves the page cache (a shmem page never written holds
 * only zeros, which a fault makes again). Pages mapped elsewhere too are
 * left alone. 1 if the PTE went. */
static int pageout_pte(struct vm_area_struct *vma, pte_t *pte)
{
    struct mm_struct *mm = vma->vm_mm;
    vms_machine *m = mm->m;
    pte_t e = *pte;
    if (!pte_present(e) || pte_special(e))
        return 0;
    uint32_t pfn = (uint32_t)pte_pfn(e);
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (page->mapcount != 1)
        return 0;
    /* MAP_DROPPABLE memory may always be dropped, written or not. */
    int droppable = (vma->vm_flags & VM_DROPPABLE) != 0;
    if ((page->flags & PG_anon) && !droppable && (!(page->flags & PG_lazyfree) || pte_dirty(e)))
        return reclaim_folio(m, pfn); /* to swap, if there is any */
    *pte = 0;
    if (pte_dirty(e))
        set_page_dirty(m, pfn);
    page->mapcount--;
    put_page(&m->pm, pfn); /* a clean MADV_FREE page is gone now */
    if (!(page->flags & PG_dirty))
        remove_clean_cache_page(m, pfn);
    else if (page->flags & PG_file)
        /* Reclaim cannot write a dirty file folio from here: it marks it
         * PG_reclaim, which is PG_readahead's bit, so the next fault on it
         * reads ahead (host-measured: a fault on file page 1 then reads
         * pages 2-15 of a 16-page file). */
        m->pm.pages[folio_head_pfn(&m->pm, pfn)].flags |= PG_readahead;
    else if ((page->flags & PG_shmem) && page->refcount == 1 && swap_pages_free(m))
        shmem_writeout(m, pfn); /* a written shmem page goes to swap, if any */
    return 1;
}

/* Do the PTEs from va on (up to end) map the whole large folio of pfn,
 * from its first page, in order? (Linux's batch of a folio's PTEs.) */
static int folio_mapped_whole_from(struct vm_area_struct *vma, uint64_t va, uint64_t end,
                                   uint32_t pfn)
{
    const struct phys_mem *pm = &vma->vm_mm->m->pm;
    uint32_t head = folio_head_pfn(pm, pfn), nr = folio_nr_pages(pm, pfn);
    if (pfn != head || va + (uint64_t)nr * PAGE_SIZE > end)
        return 0;
    for (uint32_t i = 1; i < nr; i++) {
        pte_t *pte = pte_offset(vma->vm_mm, va + (uint64_t)i * PAGE_SIZE);
        if (!pte || !pte_present(*pte) || pte_special(*pte) || pte_pfn(*pte) != head + i)
            return 0;
    }
    return 1;
}

static int mapped_in_other_mm(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg)
{
    (void)va;
    (void)pte;
    return vma->vm_mm != arg;
}

/* Linux's folio_maybe_mapped_shared for a large folio seen from mm: more
 * mappings than pages, or pages mapped in another mm too (which Linux
 * tracks per folio). Mapped twice in mm alone, it is not shared. */
static int folio_maybe_mapped_shared(vms_machine *m, uint32_t pfn, struct mm_struct *mm)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    uint64_t mapcount = 0;
    for (uint32_t i = 0; i < nr; i++)
        mapcount += m->pm.pages[head + i].mapcount;
    if (mapcount <= 1)
        return 0;
    if (mapcount > nr)
        return 1;
    for (uint32_t i = 0; i < nr; i++)
        if (rmap_walk(m, head + i, mapped_in_other_mm, mm))
            return 1;
    return 0;
}

/* A large folio the range maps in part is split into pages (which unmaps
 * it) when only this mm uses it, and none of it is paged out: its PTEs are
 * gone when the walk looks again (host-measured: an order-1 folio whose
 * page 0 one process maps twice, or whose pages 0 and 1 it maps apart, is
 * split; one whose page 1 another process maps stays). */
static int pageout_partial_folio(struct advice *a, struct vm_area_struct *vma, uint64_t va,
                                 uint64_t end, pte_t *pte)
{
    vms_machine *m = vma->vm_mm->m;
    if (!pte_present(*pte) || pte_special(*pte))
        return 0;
    uint32_t pfn = (uint32_t)pte_pfn(*pte);
    if (!(m->pm.pages[pfn].flags & PG_file) || folio_nr_pages(&m->pm, pfn) == 1 ||
        folio_mapped_whole_from(vma, va, end, pfn))
        return 0;
    if (!folio_maybe_mapped_shared(m, pfn, vma->vm_mm))
        split_folio(m, pfn, a->t->cpu);
    return 1;
}

/* MADV_COLD: each page only this mapping maps loses its references (the
 * PTE's Accessed bit, flushed from the TLBs, and PG_referenced) and, if
 * active, moves to the head of its inactive list. */
static int cold(struct advice *a, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    if (vma->vm_flags & VM_LOCKED)
        return -EINVAL;
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        pte_t *pte = pte_offset(vma->vm_mm, va);
        if (pte && madvise_cold_pte(vma->vm_mm->m, pte))
            widen(&a->fs, &a->fe, va, va + PAGE_SIZE);
    }
    return 0;
}

static int pageout(struct advice *a, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    if (vma->vm_flags & VM_LOCKED)
        return -EINVAL;
    const struct phys_mem *pm = &vma->vm_mm->m->pm;
    for (uint64_t va = start; va < end;) {
        pte_t *pte = pte_offset(vma->vm_mm, va);
        if (!pte || pageout_partial_folio(a, vma, va, end, pte)) {
            va += PAGE_SIZE;
            continue;
        }
        /* A folio mapped whole goes page by page; the last one frees it. */
        uint64_t nr = pte_present(*pte) && !pte_special(*pte)
                          ? folio_nr_pages(pm, (uint32_t)pte_pfn(*pte)) : 1;
        for (uint64_t i = 0; i < nr; i++, va += PAGE_SIZE) {
            pte = pte_offset(vma->vm_mm, va);
            if (pte && pageout_pte(vma, pte))
                widen(&a->fs, &a->fe, va, va + PAGE_SIZE);
        }
    }
    return 0;
}


static int guard_install(struct advice *a, struct vm_area_struct *vma, uint64_t start,
                         uint64_t end)
{
    if (vma->vm_flags & VM_LOCKED)
        return -EINVAL;
    struct mm_struct *mm = vma->vm_mm;
    /* Markers make the page tables non-empty, so private anonymous memory
     * takes an anon_vma as Linux's does (this decides later merges); a
     * file or shmem VMA, private or shared, acts as if it took none
     * (host-measured: a guarded private file VMA split in three by
     * mprotect merges again in a forked child, as an anonymous one does
     * not). Fork copies the markers either way. */
    if (!vma->vm_file && !(vma->vm_flags & VM_SHARED) && anon_vma_prepare(mm->m, vma))
        return -ENOMEM;
    zap_page_range(mm, vma, start, end, &a->fs, &a->fe);
    vma->may_have_guards = 1;
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        pte_t *pte = pte_alloc(mm, va);
        if (!pte)
            return -ENOMEM;
        *pte = PTE_MARKER_GUARD;
    }
    return 0;
}

static int guard_remove(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        pte_t *pte = pte_offset(vma->vm_mm, va);
        if (pte && pte_is_guard(*pte))
            *pte = 0;
    }
    return 0;
}

/* One VMA's part [start, end) of the range. */
static int advise_vma(struct advice *a, struct vm_area_struct **pvma, uint64_t start,
                      uint64_t end)
{
    struct vm_area_struct *vma = *pvma;
    if (vma->vm_flags & VM_HUGETLB) {
        int r = hugetlb_madvise(vma, a->behavior, start);
        if (r <= 0)
            return r;
        return update_vma(a, pvma, start, end);
    }
    switch (a->behavior) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED: return dontneed(a, vma, start, end);
    case MADV_FREE: return lazyfree(a, vma, start, end);
    case MADV_WILLNEED: return willneed(a, vma, start, end);
    case MADV_REMOVE: return remove_range(a, vma, start, end);
    case MADV_COLD: return cold(a, vma, start, end);
    case MADV_COLLAPSE: return -EINVAL; /* no huge page may back it: THP is off */
    case MADV_PAGEOUT: return pageout(a, vma, start, end);
    case MADV_GUARD_INSTALL: return guard_install(a, vma, start, end);
    case MADV_GUARD_REMOVE: return guard_remove(vma, start, end);
    }
    return update_vma(a, pvma, start, end);
}

static int behavior_valid(int behavior)
{
    switch (behavior) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK:
    case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
    case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE: case MADV_DONTNEED_LOCKED: case MADV_GUARD_INSTALL:
    case MADV_GUARD_REMOVE: case MADV_COLLAPSE:
        return 1;
    }
    return 0;
}

int vms_madvise(vms_task *t, vms_addr start, uint64_t len_in, int behavior)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    if (!behavior_valid(behavior) || (start & ~PAGE_MASK))
        return -EINVAL;
    uint64_t len = PAGE_ALIGN(len_in);
    if (len_in && !len)
        return -EINVAL; /* rounded up from a "negative" length */
    uint64_t end = start + len;
    if (end < start)
        return -EINVAL;
    if (end == start)
        return 0;
    if (behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE)
        return populate(t, start, end, behavior == MADV_POPULATE_WRITE);
    struct advice a = {.t = t, .behavior = behavior, .fs = UINT64_MAX, .fe = 0};
    struct vm_area_struct *vma = find_vma(t->mm, start);
    int unmapped = 0, err = 0;
    uint64_t pos = start;
    while (pos < end) {
        if (!vma) {
            unmapped = -ENOMEM;
            break;
        }
        if (pos < vma->vm_start) {
            unmapped = -ENOMEM; /* a hole: advise the rest, then report it */
            pos = vma->vm_start;
            if (pos >= end)
                break;
        }
        uint64_t stop = vma->vm_end < end ? vma->vm_end : end;
        err = advise_vma(&a, &vma, pos, stop);
        if (err)
            break;
        pos = vma->vm_end < end ? vma->vm_end : end;
        vma = find_vma(t->mm, pos);
    }
    if (a.fe > a.fs)
        flush_tlb_mm_range(t->m, t->mm, t->cpu, a.fs, a.fe);
    return err ? err : unmapped;
}
