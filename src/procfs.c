/*
 * /proc/PID/maps, byte for byte as Linux's fs/proc/task_mmu.c prints it:
 * "start-end perms offset dev inode", then, for a named mapping, spaces up to
 * column 72, one more space, and the name. An anonymous line ends with the inode and a space.
 * Names: the file's path; a special mapping's own ([vdso], [vvar],
 * [vvar_vclock]); [heap] for anonymous memory overlapping [start_brk, brk);
 * [stack] for anonymous memory holding start_stack; after every VMA of a
 * program started by execve, the [vsyscall] page (x86's gate area, in no mm).
 *
 * /proc/PID/smaps: each maps line, then the page counts of its VMA as
 * show_smap and smaps_account compute them: a page mapped by two or more PTEs
 * is shared and adds 1/mapcount of its size to Pss (the kernel's PSS_SHIFT
 * fixed point, so the rounding is the same), a swap entry named by n PTEs adds
 * 1/n to SwapPss, a shmem object's swapped pages in the VMA's range count as
 * Swap (SwapPss 0). The zero page and VM_PFNMAP pages are no one's (Rss 0).
 * vmsim models a kernel without soft-dirty tracking (no "sd" flag, pagemap
 * bit 55 never set) and with transparent huge pages off (THPeligible 0, every
 * Pmd and Hugetlb line 0: hugetlb VMAs never hold a page here).
 *
 * /proc/PID/pagemap: one 64-bit entry per page in pagemap_read's layout.
 */
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
    return ferror(out) ? -EIO : 0;
}

/* ---- /proc/PID/smaps ---- */

#define PSS_SHIFT 12 /* Pss is summed in bytes << 12, as Linux does */

struct mem_size_stats {
    uint64_t resident, shared_clean, shared_dirty, private_clean, private_dirty;
    uint64_t referenced, anonymous, lazyfree, swap;
    uint64_t pss, pss_dirty, pss_locked, swap_pss; /* << PSS_SHIFT */
};

/* The share of one page (or swap slot) named by n users, as smaps sums it. */
static uint64_t pss_share(unsigned n)
{
    uint64_t pss = PAGE_SIZE << PSS_SHIFT;
    return n >= 2 ? pss / n : pss;
}

/* Linux's smaps_page_accumulate. */
static void smaps_page_accumulate(struct mem_size_stats *mss, uint64_t pss, int dirty, int locked,
                                  int private)
{
    mss->pss += pss;
    if (locked)
        mss->pss_locked += pss;
    if (dirty) {
        mss->pss_dirty += pss;
        *(private ? &mss->private_dirty : &mss->shared_dirty) += PAGE_SIZE;
    } else {
        *(private ? &mss->private_clean : &mss->shared_clean) += PAGE_SIZE;
    }
}

/* One present PTE's page (Linux's smaps_account). */
static void smaps_account(const vms_machine *m, struct mem_size_stats *mss,
                          const struct vm_area_struct *vma, pte_t pte)
{
    uint32_t pfn = (uint32_t)pte_pfn(pte);
    const struct page *page = pfn_to_page(&m->pm, pfn);
    const struct page *head = pfn_to_page(&m->pm, folio_head_pfn(&m->pm, pfn));
    int dirty = pte_dirty(pte) || (page->flags & PG_dirty);
    int locked = (vma->vm_flags & VM_LOCKED) != 0;
    if (page->flags & PG_anon) {
        mss->anonymous += PAGE_SIZE;
        if ((head->flags & PG_lazyfree) && !dirty)
            mss->lazyfree += PAGE_SIZE;
    }
    mss->resident += PAGE_SIZE;
    if ((pte & _PAGE_ACCESSED) || (head->flags & PG_referenced))
        mss->referenced += PAGE_SIZE;
    if (vma->vm_name) {
        /* The vDSO image: one copy every process of the host maps, clean
         * and shared; its 4 KiB over hundreds of mappings is a Pss of 0. */
        mss->shared_clean += PAGE_SIZE;
        return;
    }
    unsigned mapcount = page->mapcount > 0 ? (unsigned)page->mapcount : 1;
    smaps_page_accumulate(mss, pss_share(mapcount), dirty, locked, mapcount < 2);
}

static void smaps_pte_entry(const vms_machine *m, struct mem_size_stats *mss,
                            const struct vm_area_struct *vma, pte_t pte)
{
    if (pte_present(pte)) {
        if (!pte_special(pte) && !(vma->vm_flags & VM_PFNMAP)) /* vm_normal_page */
            smaps_account(m, mss, vma, pte);
    } else if (pte_is_swap(pte)) {
        mss->swap += PAGE_SIZE;
        mss->swap_pss += pss_share(swap_count(m, pte_swp_offset(pte)));
    }
}

struct shmem_swap_range {
    uint64_t first, last, pages;
};

static int count_swapped(void *arg, uint64_t index, uint32_t off)
{
    (void)off;
    struct shmem_swap_range *r = arg;
    if (index >= r->last)
        return 1;
    if (index >= r->first)
        r->pages++;
    return 0;
}

/* Linux's shmem_swap_usage: the object's pages in swap within the VMA. */
static uint64_t shmem_swap_usage(const struct vm_area_struct *vma)
{
    struct shmem_swap_range r = {vma->vm_pgoff,
                                 vma->vm_pgoff + ((vma->vm_end - vma->vm_start) >> PAGE_SHIFT), 0};
    xa_for_each(vma->mapping->swapped, count_swapped, &r);
    return r.pages << PAGE_SHIFT;
}

static void smap_gather_stats(struct mm_struct *mm, const struct vm_area_struct *vma,
                              struct mem_size_stats *mss)
{
    /* Every shmem VMA is shared here: its swapped pages are the object's. */
    if (vma->mapping && vma->mapping->kind == MAPPING_SHMEM && !vma->vm_name)
        mss->swap += shmem_swap_usage(vma);
    for (uint64_t va = vma->vm_start; va < vma->vm_end; va += PAGE_SIZE) {
        const pte_t *pte = pte_offset(mm, va);
        if (pte)
            smaps_pte_entry(mm->m, mss, vma, *pte);
    }
}

static void put_kb(FILE *out, const char *label, uint64_t bytes)
{
    fprintf(out, "%-16s%8" PRIu64 " kB\n", label, bytes >> 10);
}

/* show_smap_vma_flags: two letters per flag, in bit order. Bits vmsim never
 * sets are left out; the protection key bits print as ProtectionKey. */
static void show_smap_vma_flags(FILE *out, uint64_t f)
{
    static const char *const mnemonics[64] = {
        [0] = "rd", [1] = "wr", [2] = "ex", [3] = "sh", [4] = "mr", [5] = "mw", [6] = "me",
        [7] = "ms", [8] = "gd", [10] = "pf", [13] = "lo", [14] = "io", [15] = "sr", [16] = "rr",
        [17] = "dc", [18] = "de", [20] = "ac", [21] = "nr", [22] = "ht", [23] = "sf",
        [25] = "wf", [26] = "dd", [29] = "hg", [30] = "nh", [31] = "mg", [40] = "dp",
    };
    fputs("VmFlags: ", out);
    for (unsigned i = 0; i < 64; i++)
        if ((f & (1ULL << i)) && mnemonics[i])
            fprintf(out, "%s ", mnemonics[i]);
    fputc('\n', out);
}

#define HPAGE_KB 2048

static void show_smap_counts(FILE *out, const vms_machine *m, uint64_t start, uint64_t end,
                             uint64_t f, const struct mem_size_stats *mss)
{
    uint64_t page_bytes = (f & VM_HUGETLB) ? (uint64_t)HPAGE_KB << 10 : PAGE_SIZE;
    put_kb(out, "Size:", end - start);
    put_kb(out, "KernelPageSize:", page_bytes);
    put_kb(out, "MMUPageSize:", page_bytes);
    put_kb(out, "Rss:", mss->resident);
    put_kb(out, "Pss:", mss->pss >> PSS_SHIFT);
    put_kb(out, "Pss_Dirty:", mss->pss_dirty >> PSS_SHIFT);
    put_kb(out, "Shared_Clean:", mss->shared_clean);
    put_kb(out, "Shared_Dirty:", mss->shared_dirty);
    put_kb(out, "Private_Clean:", mss->private_clean);
    put_kb(out, "Private_Dirty:", mss->private_dirty);
    put_kb(out, "Referenced:", mss->referenced);
    put_kb(out, "Anonymous:", mss->anonymous);
    put_kb(out, "KSM:", 0); /* no KSM: nothing is merged */
    put_kb(out, "LazyFree:", mss->lazyfree);
    put_kb(out, "AnonHugePages:", 0);
    put_kb(out, "ShmemPmdMapped:", 0);
    put_kb(out, "FilePmdMapped:", 0);
    put_kb(out, "Shared_Hugetlb:", 0);
    put_kb(out, "Private_Hugetlb:", 0);
    put_kb(out, "Swap:", mss->swap);
    put_kb(out, "SwapPss:", mss->swap_pss >> PSS_SHIFT);
    put_kb(out, "Locked:", mss->pss_locked >> PSS_SHIFT);
    fprintf(out, "THPeligible:    %8u\n", 0u);
    if (m->cfg.pku) /* arch_pkeys_enabled */
        fprintf(out, "ProtectionKey:  %8u\n", (unsigned)((f / VM_PKEY_BIT0) & 0xf));
    show_smap_vma_flags(out, f);
}

int vms_smaps(vms_task *t, FILE *out)
{
    SYSCALL_ENTER(t);
    struct mm_struct *mm = t->mm;
    for (const struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next) {
        struct mem_size_stats mss = {0};
        smap_gather_stats(mm, vma, &mss);
        show_map_vma(out, vma);
        show_smap_counts(out, mm->m, vma->vm_start, vma->vm_end, vma->vm_flags, &mss);
    }
    if (mm->exec.done) {
        const struct mem_size_stats none = {0};
        show_line(out, VSYSCALL_ADDR, VSYSCALL_ADDR + PAGE_SIZE, VM_EXEC, 0, 0, 0, 0, "[vsyscall]");
        show_smap_counts(out, mm->m, VSYSCALL_ADDR, VSYSCALL_ADDR + PAGE_SIZE, VM_EXEC, &none);
    }
    return ferror(out) ? -EIO : 0;
}

/* ---- /proc/PID/pagemap ---- */

#define PM_PFRAME_MASK ((1ULL << 55) - 1)
#define PM_MMAP_EXCLUSIVE (1ULL << 56)
#define PM_GUARD_REGION (1ULL << 58)
#define PM_FILE (1ULL << 61)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)
#define MAX_SWAPFILES_SHIFT 5
/* A guard marker's swap type and offset as this kernel's configuration
 * numbers them (SWP_PTE_MARKER 31, PTE_MARKER_GUARD 4; host-measured). */
#define SWP_PTE_MARKER 31
#define PTE_MARKER_GUARD_BIT 4

static uint64_t make_pme(uint64_t frame, uint64_t flags)
{
    return (frame & PM_PFRAME_MASK) | flags;
}

/* Linux's pte_to_pagemap_entry; show_pfn: the reader holds CAP_SYS_ADMIN. */
static uint64_t pte_to_pagemap_entry(const vms_machine *m, const struct vm_area_struct *vma,
                                     pte_t pte, int show_pfn)
{
    if (pte_present(pte)) {
        uint64_t flags = PM_PRESENT;
        if (!pte_special(pte) && !(vma->vm_flags & VM_PFNMAP)) {
            const struct page *page = pfn_to_page(&m->pm, pte_pfn(pte));
            if (!(page->flags & PG_anon))
                flags |= PM_FILE;
            if (page->mapcount == 1 && !vma->vm_name) /* the vDSO is every process's */
                flags |= PM_MMAP_EXCLUSIVE;
        }
        return make_pme(show_pfn ? pte_pfn(pte) : 0, flags);
    }
    if (pte_is_guard(pte))
        return make_pme(show_pfn ? SWP_PTE_MARKER | (PTE_MARKER_GUARD_BIT << MAX_SWAPFILES_SHIFT) : 0,
                        PM_SWAP | PM_GUARD_REGION);
    if (pte_is_swap(pte))
        return make_pme(show_pfn ? pte_swp_type(pte) | (pte_swp_offset(pte) << MAX_SWAPFILES_SHIFT) : 0,
                        PM_SWAP);
    return 0;
}

int vms_pagemap(vms_task *t, vms_addr va, uint64_t *out, size_t npages)
{
    SYSCALL_ENTER(t);
    if (npages > INT_MAX)
        return -EINVAL;
    struct mm_struct *mm = t->mm;
    const vms_machine *m = t->m;
    uint64_t addr = va & PAGE_MASK;
    size_t n = 0;
    for (; n < npages && addr < mm->task_size; n++, addr += PAGE_SIZE) {
        const struct vm_area_struct *vma = find_vma(mm, addr);
        const pte_t *pte = vma && vma->vm_start <= addr ? pte_offset(mm, addr) : NULL;
        out[n] = pte ? pte_to_pagemap_entry(m, vma, *pte, m->cfg.privileged) : 0;
    }
    return (int)n;
}
