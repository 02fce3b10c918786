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
#include <string.h>

#define MAPS_PAD_WIDTH 72 /* seq_setwidth(25 + 6 * sizeof(void *) - 1) */
/* hugetlbfs's internal mount has an unnamed device; 00:11 is the one the
 * host measured had (its number depends on the order of boot-time mounts). */
#define HUGETLBFS_DEV_MINOR 0x11
#define VSYSCALL_ADDR 0xffffffffff600000ULL

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

/* One maps line without its newline, snprintf-like: the length it needs. */
static int format_line(char *buf, size_t len, uint64_t start, uint64_t end, uint64_t f,
                       uint64_t off, unsigned dev_major, unsigned dev_minor, uint64_t ino,
                       const char *name)
{
    char head[128];
    int n = snprintf(head, sizeof(head),
                     "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                     start, end, f & VM_READ ? 'r' : '-', f & VM_WRITE ? 'w' : '-',
                     f & VM_EXEC ? 'x' : '-', f & VM_MAYSHARE ? 's' : 'p', off, dev_major,
                     dev_minor, ino);
    if (!name || !*name)
        return snprintf(buf, len, "%s", head);
    return snprintf(buf, len, "%s%*s %s", head, n < MAPS_PAD_WIDTH ? MAPS_PAD_WIDTH - n : 0, "",
                    name);
}

static void show_line(FILE *out, uint64_t start, uint64_t end, uint64_t f, uint64_t off,
                      unsigned dev_major, unsigned dev_minor, uint64_t ino, const char *name)
{
    char small[256];
    int n = format_line(small, sizeof(small), start, end, f, off, dev_major, dev_minor, ino, name);
    if (n >= 0 && (size_t)n < sizeof(small)) {
        fprintf(out, "%s\n", small);
        return;
    }
    /* A long path: the name column goes out on its own. */
    format_line(small, sizeof(small), start, end, f, off, dev_major, dev_minor, ino, "");
    int head = (int)strlen(small);
    fprintf(out, "%s%*s %s\n", small, head < MAPS_PAD_WIDTH ? MAPS_PAD_WIDTH - head : 0, "", name);
}

/* The columns of a VMA's maps line and its kind, for vms_vma_visit. */
void maps_describe(const struct vm_area_struct *vma, struct vms_vma_info *vi)
{
    uint64_t f = vma->vm_flags;
    vi->offset = 0;
    vi->dev_major = vi->dev_minor = 0;
    vi->ino = 0;
    vi->name = "";
    if (vma->vm_name) {
        vi->name = vma->vm_name;
        vi->kind = VMS_VMA_SPECIAL;
    } else if (f & VM_HUGETLB) {
        vi->offset = vma->vm_pgoff << PAGE_SHIFT;
        vi->dev_minor = HUGETLBFS_DEV_MINOR;
        vi->ino = vma->hugetlb_ino;
        vi->name = "/anon_hugepage (deleted)";
        vi->kind = VMS_VMA_HUGETLB;
    } else if (!vma->mapping) {
        const char *name = anon_name(vma);
        vi->name = name ? name : "";
        vi->kind = !name ? VMS_VMA_ANON : name[1] == 'h' ? VMS_VMA_HEAP : VMS_VMA_STACK;
    } else {
        const struct address_space *as = vma->mapping;
        vi->offset = vma->vm_pgoff << PAGE_SHIFT;
        vi->dev_major = as->dev_major;
        vi->dev_minor = as->dev_minor;
        vi->ino = as->ino;
        if (as->kind == MAPPING_SHMEM) {
            vi->name = "/dev/zero (deleted)";
            vi->kind = VMS_VMA_SHARED_ANON;
        } else {
            vi->name = as->path;
            vi->kind = (f & VM_MAYSHARE) ? VMS_VMA_FILE_SHARED : VMS_VMA_FILE_PRIVATE;
        }
    }
}

/* [vsyscall], the gate area the maps of an execve'd program end with. */
void maps_describe_gate(struct vms_vma_info *vi)
{
    *vi = (struct vms_vma_info){.start = VSYSCALL_ADDR, .end = VSYSCALL_ADDR + PAGE_SIZE,
                                .pgoff = VSYSCALL_ADDR >> PAGE_SHIFT, .prot = PROT_EXEC,
                                .kind = VMS_VMA_SPECIAL, .vm_flags = VM_EXEC,
                                .name = "[vsyscall]", .gate = 1};
}

int vms_vma_maps_line(const struct vms_vma_info *vi, char *buf, size_t len)
{
    return format_line(buf, len, vi->start, vi->end, vi->vm_flags, vi->offset, vi->dev_major,
                       vi->dev_minor, vi->ino, vi->name);
}

static void show_map_vma(FILE *out, const struct vm_area_struct *vma)
{
    struct vms_vma_info vi;
    maps_describe(vma, &vi);
    show_line(out, vma->vm_start, vma->vm_end, vma->vm_flags, vi.offset, vi.dev_major,
              vi.dev_minor, vi.ino, vi.name);
}

int vms_maps(vms_task *t, FILE *out)
{
    SYSCALL_ENTER(t);
    for (const struct vm_area_struct *vma = t->mm->mmap; vma; vma = vma->vm_next)
        show_map_vma(out, vma);
    if (t->mm->exec.done) /* execute-only, as vsyscall=xonly (the default) maps it */
        show_line(out, VSYSCALL_ADDR, VSYSCALL_ADDR + PAGE_SIZE, VM_EXEC, 0, 0, 0, 0, "[vsyscall]");
    return ferror(out) ? -5 : 0;
}
