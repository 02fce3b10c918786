/*
 * /proc/PID/maps, byte for byte as Linux's fs/proc/task_mmu.c prints it:
 * "start-end perms offset dev inode", then, for a named mapping, spaces up to
 * column 72, one more space, and the name. An anonymous line ends with the inode and a space.
 */
#include "internal.h"

#include <inttypes.h>

#define MAPS_PAD_WIDTH 72 /* seq_setwidth(25 + 6 * sizeof(void *) - 1) */
/* hugetlbfs's internal mount has an unnamed device; 00:11 is the one the
 * host measured had (its number depends on the order of boot-time mounts). */
#define HUGETLBFS_DEV_MINOR 0x11

static void show_map_vma(FILE *out, const struct vm_area_struct *vma)
{
    uint64_t f = vma->vm_flags;
    const struct address_space *as = vma->mapping;
    int huge = (f & VM_HUGETLB) != 0;
    uint64_t pgoff = as || huge ? vma->vm_pgoff << PAGE_SHIFT : 0;
    unsigned dev_major = as ? as->dev_major : 0;
    unsigned dev_minor = as ? as->dev_minor : huge ? HUGETLBFS_DEV_MINOR : 0;
    uint64_t ino = as ? as->ino : vma->hugetlb_ino;
    int n = fprintf(out, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                    vma->vm_start, vma->vm_end, f & VM_READ ? 'r' : '-', f & VM_WRITE ? 'w' : '-',
                    f & VM_EXEC ? 'x' : '-', f & VM_MAYSHARE ? 's' : 'p', pgoff, dev_major, dev_minor, ino);
    if (as || huge)
        fprintf(out, "%*s %s", n < MAPS_PAD_WIDTH ? MAPS_PAD_WIDTH - n : 0, "",
                huge                       ? "/anon_hugepage (deleted)"
                : as->kind == MAPPING_SHMEM ? "/dev/zero (deleted)"
                                            : as->path);
    fputc('\n', out);
}

int vms_maps(vms_task *t, FILE *out)
{
    for (const struct vm_area_struct *vma = t->mm->mmap; vma; vma = vma->vm_next)
        show_map_vma(out, vma);
    return ferror(out) ? -5 : 0;
}
