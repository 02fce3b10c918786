/*
 * mremap(2), as Linux's mm/mremap.c: shrink in place (the tail is unmapped),
 * grow in place when the space after the VMA is free, or move (with
 * MREMAP_MAYMOVE, to a place of the kernel's choosing or MREMAP_FIXED's
 * address), carrying the page-table entries over: the pages themselves are
 * never copied. MREMAP_DONTUNMAP leaves the old range mapped but empty.
 * Arguments are checked in Linux's order, with its errno.
 * MREMAP_FIXED with an unchanged length moves every VMA of the range (6.17+).
 * A hugetlb VMA (hugetlb.c) is remapped in whole huge pages and never grows.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>


enum remap_type { REMAP_NO_RESIZE, REMAP_SHRINK, REMAP_EXPAND };

struct remap {
    struct vms_task *t;
    struct vm_area_struct *vma; /* holds addr */
    uint64_t addr, old_len, new_len, new_addr;
    int flags;
};

static int implies_new_addr(const struct remap *r)
{
    return (r->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0;
}

static enum remap_type remap_type(const struct remap *r)
{
    if (r->old_len == r->new_len)
        return REMAP_NO_RESIZE;
    return r->old_len > r->new_len ? REMAP_SHRINK : REMAP_EXPAND;
}

/* The checks that need no VMA (Linux's check_mremap_params). */
static int check_params(const struct remap *r)
{
    const struct mm_struct *mm = r->t->mm;
    if (r->flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
        return -EINVAL;
    if (r->addr & ~PAGE_MASK)
        return -EINVAL;
    if (!r->new_len || r->new_len > mm->task_size)
        return -EINVAL;
    if (!implies_new_addr(r))
        return 0;
    if (r->new_addr > mm->task_size - r->new_len || (r->new_addr & ~PAGE_MASK))
        return -EINVAL;
    if (!(r->flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if ((r->flags & MREMAP_DONTUNMAP) && r->old_len != r->new_len)
        return -EINVAL;
    if (r->addr + r->old_len > r->new_addr && r->new_addr + r->new_len > r->addr)
        return -EINVAL; /* the two ranges overlap */
    /* Both ends may split: keep clear of the limit, as Linux does. */
    if (mm->map_count + 2 >= (int)r->t->m->cfg.max_map_count - 3)
        return -ENOMEM;
    return 0;
}

/* The checks on the VMA for a remap that maps anything new (Linux's
 * check_prep_vma). */
static int check_vma(struct remap *r)
{
    struct vm_area_struct *vma = r->vma;
    if (!vma)
        return -EFAULT;
    if ((vma->vm_flags & VM_HUGETLB) && hugetlb_mremap_check(r->addr, &r->old_len, &r->new_len, r->new_addr))
        return -EINVAL;
    if (!implies_new_addr(r))
        r->new_addr = r->addr;
    if (remap_type(r) != REMAP_EXPAND && !implies_new_addr(r))
        return 0;
    /* Duplicating a private mapping (old_len 0) makes no sense. */
    if (!r->old_len && !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
        return -EINVAL;
    uint64_t old_len = remap_type(r) == REMAP_SHRINK ? r->new_len : r->old_len;
    if (old_len > vma->vm_end - r->addr)
        return -EFAULT; /* the old range leaves its VMA */
    if (r->new_len == r->old_len)
        return 0;
    uint64_t pgoff = vma->vm_pgoff + ((r->addr - vma->vm_start) >> PAGE_SHIFT);
    if (pgoff + (r->new_len >> PAGE_SHIFT) < pgoff)
        return -EINVAL;
    if (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
        return -EFAULT; /* a special mapping keeps its size */
    if (r->new_len > r->old_len &&
        !mlock_future_ok(r->t->mm, vma->vm_flags, r->new_len - r->old_len))
        return -EAGAIN;
    if (r->new_len > r->old_len &&
        !may_expand_vm(r->t->mm, vma->vm_flags, (r->new_len - r->old_len) >> PAGE_SHIFT, 0))
        return -ENOMEM;
    return 0;
}

static void account_new(struct mm_struct *mm, uint64_t vm_flags, uint64_t bytes)
{
    mm->total_vm += bytes >> PAGE_SHIFT;
    if (vm_flags & VM_LOCKED)
        mm->locked_vm += bytes >> PAGE_SHIFT;
}

/* ---- growing in place ---- */

static int vma_expandable(struct mm_struct *mm, const struct vm_area_struct *vma, uint64_t delta)
{
    uint64_t end = vma->vm_end + delta;
    return end > vma->vm_end && end <= mm->task_size &&
           !find_vma_intersection(mm, vma->vm_end, end);
}

static int64_t expand_in_place(struct remap *r)
{
    struct mm_struct *mm = r->t->mm;
    struct vm_area_struct *vma = r->vma;
    uint64_t delta = r->new_len - r->old_len, old_end = vma->vm_end;
    if ((vma->vm_flags & VM_ACCOUNT) && !vm_enough_memory(mm, delta >> PAGE_SHIFT))
        return -ENOMEM;
    vma_set_range(vma, vma->vm_start, old_end + delta, vma->vm_pgoff);
    /* Linux extends vma by the new range (vma_merge_extend): the range may
     * join the VMA above, but vma never merges with the one below it here
     * (host-measured: a VMA split by a munmap that then failed stays split
     * when its upper piece grows; seed 1407351). */
    vma = vma_merge_next(mm, vma);
    account_new(mm, vma->vm_flags, delta);
    if (vma->vm_flags & VM_LOCKED)
        populate_range(r->t, old_end, old_end + delta);
    return (int64_t)r->addr;
}

/* ---- moving ---- */

/* Where the moved range goes: MREMAP_FIXED's address, or a free range (the
 * new address, for MREMAP_DONTUNMAP alone, is a hint). */
static int new_location(const struct remap *r, uint64_t *out)
{
    const struct vm_area_struct *vma = r->vma;
    uint64_t pgoff = vma->vm_pgoff + ((r->addr - vma->vm_start) >> PAGE_SHIFT);
    int flags = (r->flags & MREMAP_FIXED) ? MAP_FIXED : 0;
    if (vma->vm_flags & VM_MAYSHARE)
        flags |= MAP_SHARED;
    if (vma->vm_flags & VM_HUGETLB)
        flags |= MAP_HUGETLB; /* placed as hugetlbfs places: at a huge page */
    uint64_t hint = implies_new_addr(r) ? r->new_addr : 0;
    return get_unmapped_area(r->t->mm, vma->vm_file, hint, r->new_len, pgoff << PAGE_SHIFT,
                             flags, out);
}

/* The new VMA for the moved range, merged with its new neighbours where Linux
 * would (Linux's copy_vma). */
static struct vm_area_struct *copy_vma(struct remap *r)
{
    struct mm_struct *mm = r->t->mm;
    const struct vm_area_struct *src = r->vma;
    struct vm_area_struct *vma = vm_area_dup(mm, src);
    if (!vma)
        return NULL;
    vma->vm_start = r->new_addr;
    vma->vm_end = r->new_addr + r->new_len;
    vma->vm_pgoff = src->vm_pgoff + ((r->addr - src->vm_start) >> PAGE_SHIFT);
    /* Anonymous memory never faulted takes the pgoff of its new place, the
     * better to merge there. */
    if (!src->mapping && !src->anon_vma)
        vma->vm_pgoff = r->new_addr >> PAGE_SHIFT;
    if (src->anon_vma && anon_vma_clone(vma, src)) {
        vma_free(vma);
        return NULL;
    }
    vma_link(mm, vma);
    return vma_merge_neighbours(mm, vma);
}

/* The old VMA of a MREMAP_DONTUNMAP move stays, empty and unlocked. */
static void dontunmap_complete(struct remap *r, struct vm_area_struct *new_vma)
{
    struct vm_area_struct *vma = r->vma;
    vma->vm_flags &= ~VM_LOCKED;
    if (new_vma != vma && vma->vm_start == r->addr && vma->vm_end == r->addr + r->old_len)
        unlink_anon_vmas(vma);
}

static int64_t move_vma(struct remap *r)
{
    struct vms_task *t = r->t;
    struct mm_struct *mm = t->mm;
    struct vm_area_struct *vma = r->vma;
    if (mm->map_count >= (int)t->m->cfg.max_map_count - 3)
        return -ENOMEM;
    uint64_t charge = (r->flags & MREMAP_DONTUNMAP) ? r->old_len
                      : r->new_len > r->old_len ? r->new_len - r->old_len : 0;
    if ((vma->vm_flags & VM_ACCOUNT) && charge && !vm_enough_memory(mm, charge >> PAGE_SHIFT))
        return -ENOMEM;
    /* Page tables of the old range, before copy_vma can merge it away. */
    uint64_t vm_flags = vma->vm_flags;
    struct vm_area_struct *new_vma = copy_vma(r);
    if (!new_vma)
        return -ENOMEM;
    /* The source may have merged into the new VMA (an untouched anonymous
     * VMA moved right next to itself): it is the new VMA now. */
    if (new_vma->vm_start <= r->addr && r->addr < new_vma->vm_end)
        r->vma = new_vma;
    uint64_t moved = move_page_tables(mm, r->addr, r->new_addr, r->old_len);
    flush_tlb_mm_range(t->m, mm, t->cpu, r->addr, r->addr + r->old_len);
    if (moved < r->old_len) { /* out of frames: put everything back */
        move_page_tables(mm, r->new_addr, r->addr, moved);
        flush_tlb_mm_range(t->m, mm, t->cpu, r->new_addr, r->new_addr + moved);
        do_munmap(t, r->new_addr, r->new_addr + r->new_len);
        return -ENOMEM;
    }
    account_new(mm, vm_flags, r->new_len);
    if (r->flags & MREMAP_DONTUNMAP)
        dontunmap_complete(r, new_vma);
    else
        do_munmap(t, r->addr, r->addr + r->old_len);
    if ((vm_flags & VM_LOCKED) && r->new_len > r->old_len)
        populate_range(t, r->new_addr + r->old_len, r->new_addr + r->new_len);
    return (int64_t)r->new_addr;
}

static int64_t set_new_addr_and_move(struct remap *r)
{
    int err = new_location(r, &r->new_addr);
    return err ? err : move_vma(r);
}

/* ---- the two paths ---- */

/* A shrink unmaps the old range's tail as munmap does, checks included: a
 * tail that reaches past TASK_SIZE (an old length of 2^63, say) is EINVAL. */
static int unmap_tail(struct remap *r)
{
    return do_munmap_checked(r->t, r->addr + r->new_len, r->old_len - r->new_len);
}

static int64_t remap_to(struct remap *r)
{
    struct mm_struct *mm = r->t->mm;
    if (r->flags & MREMAP_FIXED) {
        int err = do_munmap(r->t, r->new_addr, r->new_addr + r->new_len);
        if (err)
            return err;
        r->vma = find_vma(mm, r->addr);
        if (!r->vma || r->vma->vm_start > r->addr)
            return -EFAULT;
    }
    if (remap_type(r) == REMAP_SHRINK) {
        int err = unmap_tail(r);
        if (err)
            return err;
        r->old_len = r->new_len;
        r->vma = find_vma(mm, r->addr);
    }
    return set_new_addr_and_move(r);
}

static int64_t remap_at(struct remap *r)
{
    switch (remap_type(r)) {
    case REMAP_NO_RESIZE:
        return (int64_t)r->addr;
    case REMAP_SHRINK: {
        int err = unmap_tail(r);
        return err ? err : (int64_t)r->addr;
    }
    case REMAP_EXPAND:
        break;
    }
    if (r->vma->vm_end - r->addr == r->old_len &&
        vma_expandable(r->t->mm, r->vma, r->new_len - r->old_len))
        return expand_in_place(r);
    if (!(r->flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    return set_new_addr_and_move(r);
}

/* Linux 6.17+: MREMAP_FIXED with an unchanged length moves every VMA of the
 * old range, keeping the gaps between them (Linux's remap_move). The range
 * must start inside a VMA. */
static int64_t remap_move(struct remap *whole)
{
    struct mm_struct *mm = whole->t->mm;
    uint64_t start = whole->addr, end = start + whole->old_len, target = whole->new_addr;
    uint64_t pos = start, last_end = 0;
    int64_t res = -EFAULT;
    int seen = 0;
    for (;;) {
        struct vm_area_struct *vma = find_vma(mm, pos);
        if (!vma || vma->vm_start >= end)
            break;
        if (!seen && start < vma->vm_start)
            return -EFAULT; /* no gap at the start */
        uint64_t addr = vma->vm_start > start ? vma->vm_start : start;
        uint64_t len = (vma->vm_end < end ? vma->vm_end : end) - addr;
        uint64_t offset = seen ? vma->vm_start - last_end : 0;
        last_end = vma->vm_end;
        struct remap r = {.t = whole->t, .vma = vma, .addr = addr, .old_len = len,
                          .new_len = len, .flags = whole->flags, .new_addr = target + offset};
        int err = check_vma(&r);
        int64_t got = err ? err : remap_to(&r);
        if (got < 0)
            return got;
        if (!seen)
            res = got;
        seen = 1;
        target = (uint64_t)got + len;
        pos = last_end; /* on from where the VMA ended (DONTUNMAP leaves it there) */
    }
    return res;
}

int64_t vms_mremap(vms_task *t, vms_addr addr, uint64_t old_len, uint64_t new_len, int flags,
                   vms_addr new_addr)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    struct remap r = {.t = t, .addr = addr, .old_len = PAGE_ALIGN(old_len),
                      .new_len = PAGE_ALIGN(new_len), .flags = flags, .new_addr = new_addr};
    int err = check_params(&r);
    if (err)
        return err;
    struct vm_area_struct *vma = find_vma(t->mm, addr);
    r.vma = vma && vma->vm_start <= addr ? vma : NULL;
    if ((flags & MREMAP_FIXED) && r.old_len == r.new_len)
        return remap_move(&r);
    err = check_vma(&r);
    if (err)
        return err;
    return implies_new_addr(&r) ? remap_to(&r) : remap_at(&r);
}
