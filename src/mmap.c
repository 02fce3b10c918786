/*
 * mmap and munmap, as Linux's mm/mmap.c and mm/vma.c implement them: the
 * same argument checks in the same order (so the same errno), the address
 * layout of x86-64 (top-down below mmap_base, hints, MAP_FIXED,
 * MAP_FIXED_NOREPLACE, MAP_32BIT), overcommit accounting in the default
 * heuristic mode, merging with neighbours, and on unmap: zap the PTEs, free
 * page tables no VMA needs any more, shoot down TLB entries.
 * File mappings share the file's page-cache pages (MAP_SHARED) or copy them
 * on the first write (MAP_PRIVATE).
 * MAP_HUGETLB maps hugetlbfs as a machine with an empty pool (hugetlb.c).
 */
#include "internal.h"

#include <errno.h>

#define SIZE_128M (128ULL << 20)
#define MMAP_RND_BITS 28
#define STACK_RND_BYTES (0x3fffffULL << PAGE_SHIFT) /* stack_maxrandom_size() */
#define MAP_32BIT_BASE 0x40000000ULL
#define MAP_32BIT_END 0x80000000ULL
#define MAP_32BIT_RND_BYTES 0x02000000ULL /* x86's random start of the MAP_32BIT search */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#define PMD_SIZE (2ULL << 20)
#define MAP_ABOVE4G 0x80 /* x86: search above 4 GiB (Linux 6.5+) */
/* Flags MAP_SHARED_VALIDATE accepts for a file (Linux's LEGACY_MAP_MASK). */
#define LEGACY_MAP_MASK                                                                          \
    ((uint64_t)(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE |         \
                MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | \
                MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | MAP_ABOVE4G) | \
     (0x3fu << 26))
/* The floor for hints: Linux's mmap_min_addr is at least CONFIG_LSM_MMAP_MIN_ADDR,
 * whatever vm.mmap_min_addr says; the sysctl alone decides MAP_FIXED's EPERM. */
#define LSM_MMAP_MIN_ADDR 65536ULL

/* x86's mmap_base(): below the stack rlimit, its random pad and guard gap,
 * at least 128 MiB and at most 5/6 of the address space below the top. */
void mm_set_layout(struct mm_struct *mm)
{
    vms_machine *m = mm->m;
    int la57 = m->cfg.pgtable_levels == 5;
    mm->map_window = (1ULL << 47) - PAGE_SIZE;
    mm->task_size = la57 ? (1ULL << 56) - PAGE_SIZE : mm->map_window;
    uint64_t rnd = 0, pad = stack_guard_gap_bytes();
    if (m->cfg.aslr_seed) {
        rnd = (machine_random(m) & ((1ULL << MMAP_RND_BITS) - 1)) << PAGE_SHIFT;
        pad += STACK_RND_BYTES;
    }
    uint64_t gap = m->cfg.stack_rlimit, gap_max = mm->map_window / 6 * 5;
    if (gap + pad > gap)
        gap += pad;
    if (gap < SIZE_128M)
        gap = SIZE_128M;
    if (gap > gap_max)
        gap = gap_max;
    mm->mmap_base = PAGE_ALIGN(mm->map_window - gap - rnd);
}

/* The kernel's own mmap_min_addr: the lowest address a search or hint gives. */
static uint64_t mmap_min_addr(const vms_machine *m)
{
    return m->cfg.mmap_min_addr > LSM_MMAP_MIN_ADDR ? m->cfg.mmap_min_addr : LSM_MMAP_MIN_ADDR;
}

/* A hint is rounded down to a page; a nonzero hint below the floor is raised to it. */
static uint64_t round_hint_to_min(vms_machine *m, uint64_t hint)
{
    hint &= PAGE_MASK;
    return (hint && hint < mmap_min_addr(m)) ? PAGE_ALIGN(mmap_min_addr(m)) : hint;
}

static uint64_t calc_vm_prot_bits(int prot)
{
    return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
           (prot & PROT_EXEC ? VM_EXEC : 0);
}

static int64_t security_mmap_addr(vms_machine *m, uint64_t addr)
{
    return (addr < m->cfg.mmap_min_addr && !m->cfg.privileged) ? -EPERM : 0;
}

/* Is a hint usable as it is? (x86's mmap_address_hint_valid + the gap check) */
static int hint_fits(struct mm_struct *mm, uint64_t addr, uint64_t len, uint64_t end)
{
    if (addr > end - len)
        return 0;
    if ((addr > mm->map_window) != (addr + len > mm->map_window))
        return 0;
    struct vm_area_struct *vma = find_vma(mm, addr);
    return !vma || addr + len <= vma->vm_start -
                                      ((vma->vm_flags & VM_GROWSDOWN) ? stack_guard_gap_bytes() : 0);
}

static int get_unmapped_area_bottomup(struct mm_struct *mm, uint64_t addr, uint64_t len,
                                      int flags, uint64_t *out)
{
    uint64_t begin = PAGE_ALIGN(mm->map_window / 3), end = mm->map_window;
    if (flags & MAP_32BIT) {
        /* With a randomised layout the search starts at a random page in
         * the first 32 MiB: a 1 GiB request then never fits (host). */
        begin = MAP_32BIT_BASE;
        if (mm->m->cfg.aslr_seed)
            begin += machine_random(mm->m) % (MAP_32BIT_RND_BYTES >> PAGE_SHIFT) << PAGE_SHIFT;
        end = MAP_32BIT_END;
    } else if (addr > mm->map_window) {
        end = mm->task_size;
    }
    if (len > end)
        return -ENOMEM;
    if (addr) {
        addr = PAGE_ALIGN(addr);
        if (end - len >= addr && hint_fits(mm, addr, len, end)) {
            *out = addr;
            return 0;
        }
    }
    if (begin < mmap_min_addr(mm->m))
        begin = mmap_min_addr(mm->m);
    *out = unmapped_area(mm, len, begin, end);
    return *out ? 0 : -ENOMEM;
}

static int arch_get_unmapped_area(struct mm_struct *mm, uint64_t addr, uint64_t len, int flags,
                                  uint64_t *out);

/* Linux places some mappings so that huge pages could back them, even with
 * THP disabled: private anonymous ones whose length is a multiple of 2 MiB,
 * and file ones whose range holds a whole aligned 2 MiB of the file (shared
 * anonymous ones are placed by shmem, which does not). The search asks for
 * len + 2 MiB, then moves the start up until start = off (mod 2 MiB);
 * top-down, an already congruent start moves up by 2 MiB. 0 on failure. */
static int thp_wanted(const struct vms_file *file, uint64_t addr, uint64_t len, uint64_t off,
                      int flags)
{
    if (addr || (flags & MAP_FIXED))
        return 0;
    if (file)
        return ((off + PMD_SIZE - 1) & ~(PMD_SIZE - 1)) + PMD_SIZE <= off + len;
    return !(flags & MAP_SHARED) && (len & (PMD_SIZE - 1)) == 0;
}

static uint64_t thp_get_unmapped_area(struct mm_struct *mm, uint64_t len, uint64_t off, int flags)
{
    if (len + PMD_SIZE < len)
        return 0;
    uint64_t ret;
    if (arch_get_unmapped_area(mm, 0, len + PMD_SIZE, flags, &ret))
        return 0;
    uint64_t off_sub = (off - ret) & (PMD_SIZE - 1);
    return off_sub ? ret + off_sub : ret + PMD_SIZE;
}

/* hugetlbfs places whole huge pages (Linux's hugetlb_get_unmapped_area): a
 * fixed address must be aligned, a hint is rounded up to a huge page, and
 * the search finds room for len plus the alignment slack, then aligns the
 * top-down result down (the bottom-up one of MAP_32BIT up). */
static int hugetlb_get_unmapped_area(struct mm_struct *mm, uint64_t addr, uint64_t len, int flags,
                                     uint64_t *out)
{
    if (flags & MAP_FIXED)
        return (addr & (PMD_SIZE - 1)) ? -EINVAL : arch_get_unmapped_area(mm, addr, len, flags, out);
    uint64_t hint = hugetlb_align(addr);
    if (hint && !(flags & MAP_32BIT) && hint_fits(mm, hint, len, mm->task_size)) {
        *out = hint;
        return 0;
    }
    uint64_t slack = PMD_SIZE - PAGE_SIZE, found;
    if (len + slack < len)
        return -ENOMEM;
    int err = arch_get_unmapped_area(mm, hint, len + slack, flags, &found);
    if (err)
        return err;
    *out = (flags & MAP_32BIT) ? hugetlb_align(found) : (found + slack) & ~(PMD_SIZE - 1);
    return 0;
}

/* Addresses are unsigned and every one of them can be a result (a fixed
 * address of the kernel half included, before it is refused), so the
 * result comes in *out and the return value is 0 or -errno. */
int get_unmapped_area(struct mm_struct *mm, const struct vms_file *file, uint64_t addr,
                      uint64_t len, uint64_t off, int flags, uint64_t *out)
{
    if (len > mm->task_size)
        return -ENOMEM;
    if (flags & MAP_HUGETLB)
        return hugetlb_get_unmapped_area(mm, addr, len, flags, out);
    if (thp_wanted(file, addr, len, off, flags)) {
        uint64_t aligned = thp_get_unmapped_area(mm, len, file ? off : 0, flags);
        if (aligned) {
            *out = aligned;
            return 0;
        }
    }
    return arch_get_unmapped_area(mm, addr, len, flags, out);
}

/* Linux's search functions return an address or an error in one unsigned
 * long and take -4095..-1 for an error; a fixed address there (an unaligned
 * one in the top page) comes back as that errno, as on the host. */
static int fixed_address_result(uint64_t addr)
{
    return addr >= (uint64_t)-4095 ? (int)(int64_t)addr : 0;
}

static int arch_get_unmapped_area(struct mm_struct *mm, uint64_t addr, uint64_t len, int flags,
                                  uint64_t *out)
{
    vms_machine *m = mm->m;
    if (len > mm->task_size)
        return -ENOMEM;
    int err = 0;
    if (flags & MAP_32BIT) {
        if (!(flags & MAP_FIXED))
            err = get_unmapped_area_bottomup(mm, addr, len, flags, &addr);
    } else if (!(flags & MAP_FIXED) && !(addr && hint_fits(mm, addr & PAGE_MASK, len, mm->task_size))) {
        uint64_t high = mm->mmap_base;
        if (addr > mm->map_window)
            high += mm->task_size - mm->map_window;
        uint64_t found = unmapped_area_topdown(mm, len, PAGE_ALIGN(mmap_min_addr(m)), high);
        if (found)
            addr = found;
        else
            err = get_unmapped_area_bottomup(mm, addr, len, flags, &addr);
    } else if (!(flags & MAP_FIXED)) {
        addr &= PAGE_MASK; /* the hint, as it is */
    }
    if (!err)
        err = fixed_address_result(addr);
    if (err)
        return err;
    /* What __get_unmapped_area checks of any result, MAP_FIXED's included. */
    if (addr > mm->task_size - len)
        return -ENOMEM;
    if (addr & ~PAGE_MASK)
        return -EINVAL;
    err = (int)security_mmap_addr(m, addr);
    if (err)
        return err;
    *out = addr;
    return 0;
}

/* ---- overcommit (Linux's __vm_enough_memory) ---- */

/* The RAM the policy counts: the host's MemTotal when the machine stands in
 * for it, else the simulated RAM. */
static uint64_t totalram_pages(const vms_machine *m)
{
    return m->cfg.mem_total ? m->cfg.mem_total >> PAGE_SHIFT : m->pm.nframes;
}

/* A reserve in pages: the sysctl, or Linux's boot value (1/32 of the RAM,
 * at most cap_kb). */
static uint64_t reserve_pages(const vms_machine *m, uint64_t kbytes, uint64_t cap_kb)
{
    if (kbytes == UINT64_MAX) {
        kbytes = (totalram_pages(m) << (PAGE_SHIFT - 10)) / 32;
        kbytes = kbytes < cap_kb ? kbytes : cap_kb;
    }
    return kbytes >> (PAGE_SHIFT - 10);
}

/* Pages committed machine-wide (Linux's vm_committed_as): every VM_ACCOUNT
 * VMA, and once each shmem object made without MAP_NORESERVE. Linux keeps
 * the sum in a counter; vmsim adds it up when strict mode asks. */
uint64_t committed_pages(vms_machine *m)
{
    uint64_t n = 0, walk = ++m->commit_walks;
    for (struct mm_struct *mm = m->mms; mm; mm = mm->mm_next) {
        for (struct vm_area_struct *v = mm->mmap; v; v = v->vm_next) {
            struct address_space *as = v->mapping;
            if (v->vm_flags & VM_ACCOUNT)
                n += (v->vm_end - v->vm_start) >> PAGE_SHIFT;
            if (as && as->kind == MAPPING_SHMEM && as->commit_charged && as->commit_walk != walk) {
                as->commit_walk = walk;
                n += PAGE_ALIGN(as->size) >> PAGE_SHIFT;
            }
        }
    }
    return n;
}

/* The strict limit: overcommit_kbytes, or overcommit_ratio percent of RAM,
 * plus swap (Linux's vm_commit_limit). */
uint64_t commit_limit(const vms_machine *m)
{
    uint64_t ram = totalram_pages(m), ratio = m->cfg.overcommit_ratio;
    uint64_t limit = m->cfg.overcommit_kbytes ? m->cfg.overcommit_kbytes >> (PAGE_SHIFT - 10)
                     : ratio && ram > UINT64_MAX / ratio ? UINT64_MAX
                                                         : ram * ratio / 100;
    uint64_t swap = m->cfg.swap_bytes >> PAGE_SHIFT;
    return limit > UINT64_MAX - swap ? UINT64_MAX : limit + swap;
}

/* May mm commit pages more? Heuristic mode refuses only a single request
 * larger than RAM plus swap; strict mode keeps everything committed below
 * the limit, less the admin reserve (for unprivileged tasks) and a user
 * reserve of 1/32 of the caller's size at most. */
int vm_enough_memory(struct mm_struct *mm, uint64_t pages)
{
    vms_machine *m = mm->m;
    uint64_t swap = m->cfg.swap_bytes >> PAGE_SHIFT;
    if (m->cfg.overcommit_memory == 1)
        return 1;
    if (m->cfg.overcommit_memory == 0)
        return pages <= totalram_pages(m) + swap;
    uint64_t allowed = commit_limit(m);
    uint64_t reserve = m->cfg.privileged ? 0 : reserve_pages(m, m->cfg.admin_reserve_kbytes, 8192);
    uint64_t user = reserve_pages(m, m->cfg.user_reserve_kbytes, 131072);
    reserve += mm->total_vm / 32 < user ? mm->total_vm / 32 : user;
    if (reserve >= allowed)
        return 0;
    uint64_t committed = committed_pages(m);
    return pages < allowed - reserve && committed < allowed - reserve - pages;
}

/* ---- RLIMIT_DATA (Linux's may_expand_vm and mm->data_vm) ---- */

/* Private writable memory that is not a stack: what RLIMIT_DATA limits. */
static int is_data_mapping(uint64_t vm_flags)
{
    return (vm_flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE;
}

/* Pages of data mappings in [start, end). Linux keeps the sum in
 * mm->data_vm; vmsim adds it up when a limit is set. */
static uint64_t data_pages(struct mm_struct *mm, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (struct vm_area_struct *v = find_vma(mm, start); v && v->vm_start < end; v = v->vm_next)
        if (is_data_mapping(v->vm_flags)) {
            uint64_t s = v->vm_start > start ? v->vm_start : start;
            uint64_t e = v->vm_end < end ? v->vm_end : end;
            n += (e - s) >> PAGE_SHIFT;
        }
    return n;
}

/* May mm map npages more with vm_flags, replacing `replaced` data pages? */
int may_expand_vm(struct mm_struct *mm, uint64_t vm_flags, uint64_t npages, uint64_t replaced)
{
    uint64_t lim = mm->m->cfg.data_rlimit;
    if (lim == UINT64_MAX || !is_data_mapping(vm_flags))
        return 1;
    return data_pages(mm, 0, UINT64_MAX) - replaced + npages <= lim >> PAGE_SHIFT;
}

static int accountable(uint64_t vm_flags)
{
    return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE | VM_HUGETLB)) == VM_WRITE;
}

/* The unmap half of munmap and of MAP_FIXED over existing mappings. */
int do_munmap(struct vms_task *t, uint64_t start, uint64_t end)
{
    struct mm_struct *mm = t->mm;
    vms_machine *m = t->m;
    if (start >= end) /* nothing to unmap: above all, nothing to split */
        return 0;
    struct vm_area_struct *vma = find_vma(mm, start);
    if (!vma || vma->vm_start >= end)
        return 0;
    if (start > vma->vm_start) {
        /* Splitting in the middle leaves one more VMA than before. */
        if (end < vma->vm_end && mm->map_count >= (int)m->cfg.max_map_count)
            return -ENOMEM;
        int err = split_vma(mm, vma, start, 1);
        if (err)
            return err;
    }
    /* A refused end split leaves the start split done (hugetlb). */
    struct vm_area_struct *last = find_vma(mm, end - 1);
    if (last && last->vm_start < end && last->vm_end > end) {
        int err = split_vma(mm, last, end, 0);
        if (err)
            return err;
    }
    struct vm_area_struct *prev = vma->vm_prev;
    uint64_t fs = UINT64_MAX, fe = 0;
    while (vma && vma->vm_start < end) {
        struct vm_area_struct *next = vma->vm_next;
        zap_ptes(mm, vma, vma->vm_start, vma->vm_end, &fs, &fe, 1);
        uint64_t pages = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
        mm->total_vm -= pages;
        if (vma->vm_flags & VM_LOCKED)
            mm->locked_vm -= pages;
        vma_unlink(mm, vma);
        vma_free(vma);
        vma = next;
    }
    uint64_t floor = prev ? prev->vm_end : 0;
    uint64_t ceiling = vma ? vma->vm_start : UINT64_MAX;
    unsigned freed = free_pgtables(mm, start, end, floor, ceiling, &fs, &fe);
    if (fe > fs)
        flush_tlb_range_tables(m, mm, t->cpu, fs, fe, freed != 0);
    return 0;
}

/* Pages already charged (VM_ACCOUNT) in [start, end): a MAP_FIXED that
 * replaces them needs no new charge for them. */
static uint64_t accounted_pages(struct mm_struct *mm, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (struct vm_area_struct *v = find_vma(mm, start); v && v->vm_start < end; v = v->vm_next)
        if (v->vm_flags & VM_ACCOUNT) {
            uint64_t s = v->vm_start > start ? v->vm_start : start;
            uint64_t e = v->vm_end < end ? v->vm_end : end;
            n += (e - s) >> PAGE_SHIFT;
        }
    return n;
}

/* The file's own ->mmap, run only after a MAP_FIXED range was unmapped (so
 * a refusal leaves a hole): ext4 refuses MAP_SYNC without DAX, whatever the
 * map type (VM_SYNC comes from the flags as given). */
static int file_mmap_hook(int flags)
{
    return (flags & MAP_SYNC) ? -EOPNOTSUPP : 0;
}

/* hugetlbfs's ->mmap, run after a MAP_FIXED range was unmapped (host-
 * measured: a refused one leaves that range a hole): whole huge pages of
 * its file only, and the reservation the empty pool cannot make. */
static int hugetlbfs_mmap_hook(uint64_t vm_flags, uint64_t pgoff)
{
    if (!hugetlb_aligned(pgoff << PAGE_SHIFT))
        return -EINVAL;
    return (vm_flags & VM_NORESERVE) ? 0 : -ENOMEM;
}

static int64_t mmap_region(struct vms_task *t, uint64_t addr, uint64_t len, uint64_t vm_flags,
                           struct vms_file *file, uint64_t pgoff, int flags)
{
    struct mm_struct *mm = t->mm;
    vms_machine *m = t->m;
    uint64_t end = addr + len;
    if (!may_expand_vm(mm, vm_flags, len >> PAGE_SHIFT, data_pages(mm, addr, end)))
        return -ENOMEM;
    /* Charge first, so that a refused mapping leaves the old ones in place.
     * Shared anonymous memory is charged whole, for its shmem object. */
    if (!file && (vm_flags & (VM_SHARED | VM_HUGETLB)) == VM_SHARED && !(vm_flags & VM_NORESERVE) &&
        !vm_enough_memory(mm, len >> PAGE_SHIFT))
        return -ENOMEM;
    if (accountable(vm_flags)) {
        uint64_t charged = (len >> PAGE_SHIFT) - accounted_pages(mm, addr, end);
        if (charged && !vm_enough_memory(mm, charged))
            return -ENOMEM;
        vm_flags |= VM_ACCOUNT;
    }
    int err = do_munmap(t, addr, end);
    if (!err && file)
        err = file_mmap_hook(flags);
    if (!err && (vm_flags & VM_HUGETLB))
        err = hugetlbfs_mmap_hook(vm_flags, pgoff);
    if (err)
        return err;
    /* mlock leaves hugetlb memory alone: it is never VM_LOCKED (the
     * populate that MAP_LOCKED asks for is still tried). */
    if (vm_flags & VM_HUGETLB)
        vm_flags &= ~VM_LOCKED;
    struct vm_area_struct *vma = vma_alloc(mm);
    if (!vma)
        return -ENOMEM;
    vma->vm_start = addr;
    vma->vm_end = end;
    vma->vm_flags = vm_flags;
    if (file) {
        vma->vm_file = file;
        file->refcount++;
        vma->mapping = file->mapping;
        mapping_get(vma->mapping);
        vma->vm_pgoff = pgoff;
    } else if (vm_flags & VM_HUGETLB) {
        hugetlb_init_vma(m, vma, pgoff);
    } else if (vm_flags & VM_SHARED) {
        vma->mapping = shmem_create(m, len);
        if (!vma->mapping) {
            vma_free(vma);
            return -ENOMEM;
        }
        vma->mapping->commit_charged = !(vm_flags & VM_NORESERVE);
    } else {
        vma->vm_pgoff = addr >> PAGE_SHIFT;
    }
    vma_link(mm, vma);
    if (vma->mapping)
        vma_link_file(vma);
    vma_merge_neighbours(mm, vma);
    mm->total_vm += len >> PAGE_SHIFT;
    if (vm_flags & VM_LOCKED)
        mm->locked_vm += len >> PAGE_SHIFT;
    return (int64_t)addr;
}

/* The vm_flags every mapping gets from prot and flags (Linux's
 * calc_vm_prot_bits + calc_vm_flag_bits). */
static uint64_t base_vm_flags(const vms_machine *m, int prot, int flags)
{
    uint64_t vm_flags = calc_vm_prot_bits(prot) | vma_pkey_flags(m, prot) | VM_MAYREAD |
                        VM_MAYWRITE | VM_MAYEXEC;
    if (flags & MAP_GROWSDOWN)
        vm_flags |= VM_GROWSDOWN;
    if (flags & MAP_LOCKED)
        vm_flags |= VM_LOCKED;
    if (flags & MAP_STACK) /* Linux 6.7+: stacks are never backed by huge pages */
        vm_flags |= VM_NOHUGEPAGE;
    /* Anonymous memory keeps VM_SYNC too (it only stops merges there). */
    if (flags & MAP_SYNC)
        vm_flags |= VM_SYNC;
    return vm_flags;
}

/* The checks of do_mmap() for a file; returns vm_flags or -errno. */
static int64_t file_vm_flags(const struct vms_file *file, int prot, int flags, uint64_t pgoff,
                             uint64_t len, uint64_t vm_flags)
{
    /* file_mmap_ok: a regular file ends at MAX_LFS_FILESIZE; a directory's
     * limit is ULONG_MAX, so its missing ->mmap refuses it (ENODEV) up to
     * the last page of the 64-bit range (host-measured: ENODEV at offset
     * 2^63 - 4096, EOVERFLOW at 2^64 - 4096). */
    uint64_t maxsize = file->is_dir ? UINT64_MAX : (uint64_t)INT64_MAX;
    if (pgoff + (len >> PAGE_SHIFT) < pgoff || len > maxsize || pgoff > (maxsize - len) >> PAGE_SHIFT)
        return -EOVERFLOW;
    /* The kernel takes flags as an unsigned long and the C library widens
     * the int with its sign: bit 31 sets the 32 bits above it too. */
    uint64_t checked = (uint64_t)(int64_t)flags;
    switch (flags & MAP_TYPE) {
    case MAP_SHARED:
        checked &= LEGACY_MAP_MASK;
        /* fall through */
    case MAP_SHARED_VALIDATE:
        /* ext4 declares MAP_SYNC supported, so validation lets it through. */
        if (checked & ~(LEGACY_MAP_MASK | MAP_SYNC))
            return -EOPNOTSUPP;
        if ((prot & PROT_WRITE) && !file->writable)
            return -EACCES;
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        if (!file->writable)
            vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
        /* fall through */
    case MAP_PRIVATE:
        if (!file->readable)
            return -EACCES;
        if (file->is_dir)
            return -ENODEV; /* no ->mmap at all; asked before the stack flag */
        if (vm_flags & VM_GROWSDOWN)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    return (int64_t)vm_flags;
}

/* The checks of do_mmap() for anonymous memory; returns vm_flags or -errno. */
static int64_t anon_vm_flags(int flags, uint64_t vm_flags)
{
    switch (flags & MAP_TYPE) {
    case MAP_SHARED:
        if (vm_flags & VM_GROWSDOWN)
            return -EINVAL;
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        break;
    case MAP_DROPPABLE:
        /* Memory the kernel may drop under pressure: never locked, never a stack. */
        if ((flags & MAP_LOCKED) || (vm_flags & VM_GROWSDOWN))
            return -EINVAL;
        vm_flags |= VM_DROPPABLE | VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;
        break;
    case MAP_PRIVATE:
        break;
    default: /* MAP_SHARED_VALIDATE too: it exists for files only */
        return -EINVAL;
    }
    return (int64_t)vm_flags;
}

/* MAP_HUGETLB: Linux maps a file of its own hugetlbfs, open read-write, so
 * do_mmap's rules for files apply (hugetlbfs has no MAP_SYNC); returns
 * vm_flags or -errno. */
static int64_t hugetlb_vm_flags(int flags, uint64_t pgoff, uint64_t len, uint64_t vm_flags)
{
    if (pgoff + (len >> PAGE_SHIFT) < pgoff || pgoff + (len >> PAGE_SHIFT) > (INT64_MAX >> PAGE_SHIFT))
        return -EOVERFLOW; /* beyond the largest file offset */
    /* The kernel takes flags as an unsigned long and the C library widens
     * the int with its sign: bit 31 sets the 32 bits above it too. */
    uint64_t checked = (uint64_t)(int64_t)flags;
    switch (flags & MAP_TYPE) {
    case MAP_SHARED:
        checked &= LEGACY_MAP_MASK;
        /* fall through */
    case MAP_SHARED_VALIDATE:
        if (checked & ~LEGACY_MAP_MASK)
            return -EOPNOTSUPP;
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        /* fall through */
    case MAP_PRIVATE:
        if (vm_flags & VM_GROWSDOWN)
            return -EINVAL;
        return (int64_t)vm_flags;
    default:
        return -EINVAL;
    }
}

static int64_t do_mmap(struct vms_task *t, uint64_t addr, uint64_t len, int prot, int flags,
                       int fd, int64_t off)
{
    if (off & (int64_t)~PAGE_MASK)
        return -EINVAL;
    struct vms_file *file = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        file = fget(t, fd);
        if (!file)
            return -EBADF;
        if (flags & MAP_HUGETLB)
            return -EINVAL; /* not a hugetlbfs file */
    } else if (flags & MAP_HUGETLB) {
        if (!hugetlb_size_valid(flags))
            return -EINVAL; /* no pool of that page size */
        len = hugetlb_align(len);
    }
    return do_mmap_file(t, addr, len, prot, flags, file, off);
}

int64_t do_mmap_file(struct vms_task *t, uint64_t addr, uint64_t len, int prot, int flags,
                     struct vms_file *file, int64_t off)
{
    struct mm_struct *mm = t->mm;
    vms_machine *m = t->m;
    if (off & (int64_t)~PAGE_MASK)
        return -EINVAL;
    uint64_t pgoff = (uint64_t)off >> PAGE_SHIFT;
    if (!len)
        return -EINVAL;
    if (flags & MAP_FIXED_NOREPLACE)
        flags |= MAP_FIXED;
    if (!(flags & MAP_FIXED))
        addr = round_hint_to_min(m, addr);
    len = PAGE_ALIGN(len);
    if (!len)
        return -ENOMEM;
    if (mm->map_count > (int)m->cfg.max_map_count)
        return -ENOMEM;
    int err = get_unmapped_area(mm, file, addr, len, (uint64_t)off, flags, &addr);
    if (err)
        return err;
    if ((flags & MAP_FIXED_NOREPLACE) && find_vma_intersection(mm, addr, addr + len))
        return -EEXIST;
    uint64_t base = base_vm_flags(m, prot, flags);
    if ((flags & MAP_LOCKED) && !mlock_future_ok(mm, VM_LOCKED, len))
        return -EAGAIN;
    int64_t vm_flags = file                     ? file_vm_flags(file, prot, flags, pgoff, len, base)
                       : (flags & MAP_HUGETLB) ? hugetlb_vm_flags(flags, pgoff, len, base)
                                               : anon_vm_flags(flags, base);
    if (vm_flags < 0)
        return vm_flags;
    /* Strict overcommit honours no MAP_NORESERVE (MAP_DROPPABLE reserves
     * nothing all the same). */
    if ((flags & MAP_NORESERVE) && m->cfg.overcommit_memory != 2)
        vm_flags |= VM_NORESERVE;
    if (flags & MAP_HUGETLB) {
        /* hugetlbfs honours MAP_NORESERVE whatever the overcommit mode. */
        vm_flags |= VM_HUGETLB | VM_DONTEXPAND | ((flags & MAP_NORESERVE) ? VM_NORESERVE : 0);
    }
    int64_t r = mmap_region(t, addr, len, (uint64_t)vm_flags, file, pgoff, flags);
    if (r >= 0 && ((vm_flags & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE))
        populate_range(t, addr, addr + len);
    return r;
}

/* RLIMIT_MEMLOCK, unless the task holds CAP_IPC_LOCK. */
int mlock_future_ok(const struct mm_struct *mm, uint64_t vm_flags, uint64_t bytes)
{
    if (!(vm_flags & VM_LOCKED) || mm->m->cfg.privileged)
        return 1;
    uint64_t limit = mm->m->cfg.memlock_rlimit >> PAGE_SHIFT;
    return mm->locked_vm + (bytes >> PAGE_SHIFT) <= limit;
}

int64_t vms_mmap(vms_task *t, vms_addr addr, uint64_t len, int prot, int flags, int fd,
                 int64_t off)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    return do_mmap(t, addr, len, prot, flags, fd, off);
}

/* munmap's checks, then the unmap (Linux's do_vmi_munmap): an unaligned
 * start, or a range reaching past TASK_SIZE however little of it is mapped,
 * is EINVAL. */
int do_munmap_checked(struct vms_task *t, uint64_t addr, uint64_t len)
{
    uint64_t task_size = t->mm->task_size;
    if ((addr & ~PAGE_MASK) || addr > task_size || len > task_size - addr)
        return -EINVAL;
    len = PAGE_ALIGN(len);
    if (!len)
        return -EINVAL;
    return do_munmap(t, addr, addr + len);
}

int vms_munmap(vms_task *t, vms_addr addr, uint64_t len)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    return do_munmap_checked(t, addr, len);
}

/* Tear down a whole address space: the last task of the mm exits. */
void exit_mmap(struct mm_struct *mm, unsigned cpu)
{
    uint64_t fs = UINT64_MAX, fe = 0;
    struct vm_area_struct *vma = mm->mmap;
    while (vma) {
        struct vm_area_struct *next = vma->vm_next;
        zap_ptes(mm, vma, vma->vm_start, vma->vm_end, &fs, &fe, 1);
        vma_unlink(mm, vma);
        vma_free(vma);
        vma = next;
    }
    if (fe > fs)
        flush_tlb_mm_range(mm->m, mm, cpu, 0, UINT64_MAX & PAGE_MASK);
    mm->total_vm = mm->locked_vm = 0;
}

/* ---- brk (Linux's sys_brk, do_brk_flags and vm_brk_flags) ---- */

static struct vm_area_struct *last_vma(struct mm_struct *mm)
{
    return mm->mmap ? find_vma(mm, mm->highest_vm_end - 1) : NULL;
}

/* The flags of heap and bss memory: VM_DATA_DEFAULT_FLAGS, charged. */
static uint64_t brk_vm_flags(const vms_machine *m)
{
    return VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT |
           vma_pkey_flags(m, PROT_READ | PROT_WRITE);
}

/* Anonymous memory at [addr, addr + len), already unmapped: prev (the VMA
 * ending at addr, if the caller found one) grows over it when it can merge,
 * else a new VMA. Never merges with the VMA above. */
static int do_brk_flags(struct vms_task *t, struct vm_area_struct *prev, uint64_t addr,
                        uint64_t len, uint64_t vm_flags)
{
    struct mm_struct *mm = t->mm;
    vms_machine *m = t->m;
    uint64_t pages = len >> PAGE_SHIFT;
    vm_flags |= brk_vm_flags(m);
    if (!may_expand_vm(mm, vm_flags, pages, 0) || mm->map_count > (int)m->cfg.max_map_count ||
        !vm_enough_memory(mm, pages))
        return -ENOMEM;
    if (prev && prev->vm_end == addr && prev->vm_flags == vm_flags && !prev->mapping &&
        !prev->vm_name && !vma_is_fork_child(prev) &&
        prev->vm_pgoff + ((addr - prev->vm_start) >> PAGE_SHIFT) == addr >> PAGE_SHIFT) {
        vma_set_range(prev, prev->vm_start, addr + len, prev->vm_pgoff);
    } else {
        struct vm_area_struct *vma = vma_alloc(mm);
        if (!vma)
            return -ENOMEM;
        vma->vm_start = addr;
        vma->vm_end = addr + len;
        vma->vm_flags = vm_flags;
        vma->vm_pgoff = addr >> PAGE_SHIFT;
        vma_link(mm, vma);
    }
    mm->total_vm += pages;
    return 0;
}

int vm_brk_flags(struct vms_task *t, uint64_t addr, uint64_t len, int exec_flag)
{
    uint64_t request = len;
    len = PAGE_ALIGN(len);
    if (len < request)
        return -ENOMEM;
    if (!len)
        return 0;
    /* check_brk_limits: the range must be one mmap could place. */
    uint64_t at;
    int err = get_unmapped_area(t->mm, NULL, addr, len, 0, MAP_FIXED, &at);
    if (!err)
        err = do_munmap(t, addr, addr + len);
    if (err)
        return err;
    struct vm_area_struct *next = find_vma(t->mm, addr);
    struct vm_area_struct *prev = next ? next->vm_prev : t->mm->mmap ? last_vma(t->mm) : NULL;
    return do_brk_flags(t, prev, addr, len, exec_flag ? VM_EXEC : 0);
}

/* RLIMIT_DATA as brk checks it: the heap and the data segment together. */
static int data_rlimit_exceeded(const vms_machine *m, const struct mm_exec_layout *x, uint64_t brk)
{
    uint64_t lim = m->cfg.data_rlimit;
    return lim != UINT64_MAX && (brk - x->start_brk) + (x->end_data - x->start_data) > lim;
}

/* The shrink half of brk: unmaps [newbrk, oldbrk) if a heap VMA is there. */
static int brk_shrink(struct vms_task *t, uint64_t newbrk, uint64_t oldbrk)
{
    struct vm_area_struct *vma = find_vma(t->mm, newbrk);
    if (!vma || vma->vm_start >= oldbrk)
        return -ENOMEM; /* something other than the heap lies there */
    return do_munmap(t, newbrk, oldbrk);
}

/* The grow half: the new end must leave a page before the next mapping (its
 * guard gap, for a stack). */
static int brk_grow(struct vms_task *t, uint64_t oldbrk, uint64_t newbrk)
{
    struct mm_struct *mm = t->mm;
    struct vm_area_struct *next = find_vma(mm, oldbrk);
    if (next && newbrk + PAGE_SIZE > vm_start_gap(next))
        return -ENOMEM;
    /* The VMA below oldbrk extends only if it reaches into the heap. */
    struct vm_area_struct *prev = next ? next->vm_prev : last_vma(mm);
    if (prev && prev->vm_end <= mm->exec.start_brk)
        prev = NULL;
    return do_brk_flags(t, prev, oldbrk, newbrk - oldbrk, 0);
}

vms_addr vms_brk(vms_task *t, vms_addr brk)
{
    if (syscall_enter(t))
        return 0; /* a killed task has no break */
    task_cpu_enter(t);
    struct mm_exec_layout *x = &t->mm->exec;
    if (brk < x->start_brk || data_rlimit_exceeded(t->m, x, brk))
        return x->brk;
    uint64_t newbrk = PAGE_ALIGN(brk), oldbrk = PAGE_ALIGN(x->brk);
    if (newbrk < brk) /* the page-aligned end wraps: no room */
        return x->brk;
    if (oldbrk == newbrk) {
        x->brk = brk;
        return brk;
    }
    int err = brk <= x->brk ? brk_shrink(t, newbrk, oldbrk) : brk_grow(t, oldbrk, newbrk);
    if (err)
        return x->brk;
    x->brk = brk;
    return brk;
}
