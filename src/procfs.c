/*
 * /proc/PID/maps, byte for byte as Linux's fs/proc/task_mmu.c prints it:
 * "start-end perms offset dev inode", then, for a named mapping, spaces up to
 * column 72, one more space, and the name. An anonymous line ends with the inode and a space.
 * Names: the file's path; a special mapping's own ([vdso], [vvar],
 * [vvar_vclock]); [heap] for anonymous memory overlapping [start_brk, brk);
 * [stack] for anonymous memory holding start_stack; after every VMA of a
 * program started by execve, the [vsyscall] page (x86's gate area, in no mm).
 */
#include "internal.h"

#include <inttypes.h>

#define MAPS_PAD_WIDTH 72 /* seq_setwidth(25 + 6 * sizeof(void *) - 1) */
/* hugetlbfs's internal mount has an unnamed device; 00:11 is the one the
 * host measured had (its number depends on the order of boot-time mounts). */
#define HUGETLBFS_DEV_MINOR 0x11

/* Linux's vma_is_initial_heap and vma_is_initial_stack. */
static const char *anon_name(const struct vm_area_struct *vma)
{
    const struct mm_exec_layout *x = &vma->vm_mm->exec;
    if (!x->done)
        return NULL;
    if (vma->vm_start < x->brk && vma->vm_end > x->start_brk)
        return "[heap]";
    if (vma->vm_start <= x->start_stack && vma->vm_end >= x->start_stack)
        return "[stack]";
    return NULL;
}

static void show_line(FILE *out, uint64_t start, uint64_t end, uint64_t f, uint64_t pgoff,
                      unsigned dev_major, unsigned dev_minor, uint64_t ino, const char *name)
{
    int n = fprintf(out, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                    start, end, f & VM_READ ? 'r' : '-', f & VM_WRITE ? 'w' : '-',
                    f & VM_EXEC ? 'x' : '-', f & VM_MAYSHARE ? 's' : 'p', pgoff, dev_major, dev_minor, ino);
    if (name)
        fprintf(out, "%*s %s", n < MAPS_PAD_WIDTH ? MAPS_PAD_WIDTH - n : 0, "", name);
    fputc('\n', out);
}

static void show_map_vma(FILE *out, const struct vm_area_struct *vma)
{
    uint64_t f = vma->vm_flags;
    if (vma->vm_name) {
        show_line(out, vma->vm_start, vma->vm_end, f, 0, 0, 0, 0, vma->vm_name);
        return;
    }
    if (f & VM_HUGETLB) { /* a file of hugetlbfs's internal mount */
        show_line(out, vma->vm_start, vma->vm_end, f, vma->vm_pgoff << PAGE_SHIFT, 0,
                  HUGETLBFS_DEV_MINOR, vma->hugetlb_ino, "/anon_hugepage (deleted)");
        return;
    }
    if (!vma->mapping) {
        show_line(out, vma->vm_start, vma->vm_end, f, 0, 0, 0, 0, anon_name(vma));
        return;
    }
    const struct address_space *as = vma->mapping;
    show_line(out, vma->vm_start, vma->vm_end, f, vma->vm_pgoff << PAGE_SHIFT, as->dev_major,
              as->dev_minor, as->ino, as->kind == MAPPING_SHMEM ? "/dev/zero (deleted)" : as->path);
}

#define VSYSCALL_ADDR 0xffffffffff600000ULL

int vms_maps(vms_task *t, FILE *out)
{
    SYSCALL_ENTER(t);
    for (const struct vm_area_struct *vma = t->mm->mmap; vma; vma = vma->vm_next)
        show_map_vma(out, vma);
    if (t->mm->exec.done) /* execute-only, as vsyscall=xonly (the default) maps it */
        show_line(out, VSYSCALL_ADDR, VSYSCALL_ADDR + PAGE_SIZE, VM_EXEC, 0, 0, 0, 0, "[vsyscall]");
    return ferror(out) ? -5 : 0;
}
