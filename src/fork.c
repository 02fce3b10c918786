/*
 * fork(), as Linux's kernel/fork.c and dup_mmap(): the child gets a new mm
 * with a copy of every VMA (except MADV_DONTFORK ones), its own page tables,
 * and a copy of the descriptor table sharing the open files.
 *
 * Page tables are copied only where a fault could not rebuild them: VMAs
 * with anonymous pages (an anon_vma) or guard markers. Private writable pages become
 * copy-on-write in both processes: both PTEs lose their write bit, the page
 * is no longer exclusive to one mm, its map and reference counts rise. Shared
 * mappings, and private ones with no anonymous page yet, are left to fault
 * in the child (with fault-around). mlock is not inherited; MADV_WIPEONFORK
 * memory starts empty in the child, without its parent's guard markers.
 * Simplification: no overcommit charge for the child's accountable VMAs (in
 * the default heuristic mode it cannot fail).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A copy of the parent's VMA for the child's mm, linked to its object and
 * anon_vmas. NULL when out of memory. */
static struct vm_area_struct *dup_vma(struct mm_struct *mm, const struct vm_area_struct *pvma)
{
    struct vm_area_struct *vma = vm_area_dup(mm, pvma);
    if (!vma)
        return NULL;
    vma->vm_flags &= ~VM_LOCKED;
    if (!(pvma->vm_flags & VM_WIPEONFORK) && anon_vma_fork(mm->m, vma, pvma)) {
        vma_free(vma);
        return NULL;
    }
    return vma;
}

/* Copies the parent's address space into mm; -ENOMEM leaves mm partly
 * filled, for the caller to tear down. */
static int dup_mmap(struct mm_struct *mm, struct vms_task *parent)
{
    struct mm_struct *oldmm = parent->mm;
    mm->mmap_base = oldmm->mmap_base;
    mm->task_size = oldmm->task_size;
    mm->map_window = oldmm->map_window;
    mm->oom_score_adj = oldmm->oom_score_adj; /* the process's settings */
    mm->oom_score_adj_min = oldmm->oom_score_adj_min;
    mm->exec = oldmm->exec;
    int wrprotected = 0, err = 0;
    for (struct vm_area_struct *pvma = oldmm->mmap; pvma && !err; pvma = pvma->vm_next) {
        if (pvma->vm_flags & VM_DONTCOPY)
            continue;
        /* The child commits what the parent's accounted VMAs hold, each
         * checked as one request (a merged VMA may exceed RAM + swap). */
        if ((pvma->vm_flags & VM_ACCOUNT) &&
            !vm_enough_memory(oldmm, (pvma->vm_end - pvma->vm_start) >> PAGE_SHIFT))
            return -ENOMEM;
        struct vm_area_struct *vma = dup_vma(mm, pvma);
        if (!vma)
            return -ENOMEM;
        vma_link(mm, vma);
        mm->total_vm += (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
        /* Only where the child could not fault the same pages back in; a
         * WIPEONFORK child starts with nothing, guard markers included. */
        if (vma->vm_flags & VM_WIPEONFORK)
            vma->may_have_guards = 0;
        else if ((vma->anon_vma || vma->may_have_guards) && copy_page_range(vma, pvma, &wrprotected))
            err = -ENOMEM;
    }
    /* The parent's CPUs may cache the writable translations just removed. */
    if (wrprotected)
        flush_tlb_mm_range(oldmm->m, oldmm, parent->cpu, 0, oldmm->task_size);
    return err;
}

vms_task *vms_fork(vms_task *parent)
{
    if (!parent) {
        errno = EINVAL;
        return NULL;
    }
    vms_machine *m = parent->m;
    if (syscall_enter(parent)) {
        errno = ESRCH;
        return NULL;
    }
    task_cpu_enter(parent); /* fork runs on the parent's CPU, in its mm */
    struct mm_struct *mm = mm_alloc(m);
    if (!mm) {
        errno = ENOMEM;
        return NULL;
    }
    struct files_struct *files = files_dup(parent->files);
    vms_task *child = NULL;
    if (files && dup_mmap(mm, parent) == 0)
        child = task_alloc(m, mm, files, parent->comm, parent->cpu);
    if (!child) {
        if (files)
            files_put(m, files);
        exit_mmap(mm, parent->cpu);
        pgd_free(mm);
        mm_free(mm);
        errno = ENOMEM;
        return NULL;
    }
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FORK, .cpu = parent->cpu,
                                       .a = (uint64_t)parent->pid, .b = (uint64_t)child->pid});
    return child;
}
