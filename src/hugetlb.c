/*
 * Huge pages of hugetlbfs (Linux's mm/hugetlb.c and fs/hugetlbfs/inode.c),
 * as a machine with an empty huge page pool sees them (the pool a default
 * Linux machine has: vm.nr_hugepages and nr_overcommit_hugepages are 0).
 * MAP_HUGETLB maps an unnamed file of hugetlbfs ("/anon_hugepage (deleted)",
 * one file and inode per mapping) in whole 2 MiB pages: the length is
 * rounded up, a fixed address and the offset must be aligned. Without
 * MAP_NORESERVE the pages cannot be reserved and mmap fails with ENOMEM;
 * with it the mapping is made, and every touch faults with SIGBUS
 * (BUS_ADRERR) since no page can be allocated: no frame is ever allocated
 * for it and no fault is counted. The VMA splits only at 2 MiB boundaries
 * (a split elsewhere is EINVAL for munmap, mprotect and madvise), never
 * merges with a neighbour, never grows by mremap, is never VM_LOCKED
 * (mlock and MAP_LOCKED leave it alone), and a populate (MAP_POPULATE,
 * MADV_POPULATE_*) fails on it.
 * Simplifications: only x86's 2 MiB page size exists (a 1 GiB pool needs
 * boot-time setup: MAP_HUGE_1GB is EINVAL, as on a host without one); there
 * is no pool, so no reservation, surplus or per-node page; no hugetlbfs
 * mount or SysV SHM_HUGETLB; a fault allocates no page table either.
 */
#include "internal.h"

#include <errno.h>

#define HPAGE_SHIFT 21
#define HPAGE_SIZE (1ULL << HPAGE_SHIFT)
#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK 0x3f

int hugetlb_size_valid(int flags)
{
    unsigned log = ((unsigned)flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    return log == 0 || log == HPAGE_SHIFT; /* 0: the default huge page size */
}

uint64_t hugetlb_align(uint64_t len)
{
    return (len + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1); /* 0 if it wraps */
}

int hugetlb_aligned(uint64_t addr) { return (addr & (HPAGE_SIZE - 1)) == 0; }

/* Linux's hugetlb_vm_op_split: a huge page is never cut in two. */
int hugetlb_may_split(const struct vm_area_struct *vma, uint64_t addr)
{
    return (vma->vm_flags & VM_HUGETLB) && !hugetlb_aligned(addr) ? -EINVAL : 0;
}

/* hugetlbfs_file_mmap: the VMA of a new mapping; vm_pgoff is the file's
 * offset (shown in the maps), the file is the mapping's own. */
void hugetlb_init_vma(vms_machine *m, struct vm_area_struct *vma, uint64_t pgoff)
{
    vma->vm_pgoff = pgoff;
    vma->hugetlb_ino = ++m->next_ino;
}

/* madvise on one hugetlb VMA's part [start, end): the advice about pages,
 * as Linux answers it for hugetlbfs (host-measured on 6.18); 1 when the
 * advice only changes flags and the common path goes on. */
int hugetlb_madvise(const struct vm_area_struct *vma, int behavior, uint64_t start)
{
    switch (behavior) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
        /* The end is rounded down to a huge page; no page to drop. */
        return hugetlb_aligned(start) ? 0 : -EINVAL;
    case MADV_WILLNEED:
        return 0; /* hugetlbfs has no readahead: fadvise does nothing */
    case MADV_REMOVE:
        /* Punching a hole in the (empty) file: shared writable only. */
        return (vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE) ? 0 : -EACCES;
    case MADV_FREE:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_COLLAPSE:
    case MADV_GUARD_INSTALL:
    case MADV_GUARD_REMOVE:
    case MADV_WIPEONFORK:
        return -EINVAL; /* not for hugetlbfs (no LRU, no PTEs, a file) */
    }
    return 1;
}

/* mremap of a hugetlb VMA (Linux's align_hugetlb): lengths are rounded up
 * to huge pages, both addresses must be aligned (new_addr as passed, even
 * when no flag asks for a new address: host-measured), and it may not
 * grow. */
int hugetlb_mremap_check(uint64_t addr, uint64_t *old_len, uint64_t *new_len, uint64_t new_addr)
{
    *old_len = hugetlb_align(*old_len);
    *new_len = hugetlb_align(*new_len);
    if (!hugetlb_aligned(addr) || !hugetlb_aligned(new_addr) || *new_len > *old_len)
        return -EINVAL;
    return 0;
}
