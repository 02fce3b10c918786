/*
 * msync, as Linux's mm/msync.c: with MS_SYNC, the dirty pages of the shared
 * file mappings in the range are written back (their mappings write-protected
 * again, so the next write is noticed); MS_ASYNC does nothing, as Linux does,
 * since dirty pages are already known to the page cache. Holes in the range
 * give ENOMEM after the rest is done.
 */
#include "internal.h"

#include <errno.h>

#ifndef MS_ASYNC
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4
#endif

int vms_msync(vms_task *t, vms_addr start, uint64_t len, int flags)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) || (start & ~PAGE_MASK) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    /* A length within a page of 2^64 rounds to 0: nothing to do, as Linux. */
    uint64_t end = start + PAGE_ALIGN(len);
    if (end < start)
        return -ENOMEM;
    if (end == start)
        return 0;
    int unmapped_error = 0;
    struct vm_area_struct *vma = find_vma(t->mm, start);
    for (;;) {
        if (!vma)
            return -ENOMEM;
        if (start < vma->vm_start) {
            if (flags == MS_ASYNC)
                return -ENOMEM;
            start = vma->vm_start;
            if (start >= end)
                return -ENOMEM;
            unmapped_error = -ENOMEM;
        }
        if ((flags & MS_INVALIDATE) && (vma->vm_flags & VM_LOCKED))
            return -EBUSY;
        uint64_t first = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
        uint64_t stop = end < vma->vm_end ? end : vma->vm_end;
        uint64_t last = first + ((stop - start) >> PAGE_SHIFT) - 1;
        start = vma->vm_end;
        if ((flags & MS_SYNC) && vma->vm_file && (vma->vm_flags & VM_SHARED)) {
            int err = writeback_range(t->m, vma->mapping, first, last, t->cpu);
            if (err)
                return err;
        }
        if (start >= end)
            return unmapped_error;
        vma = find_vma(t->mm, start);
    }
}
