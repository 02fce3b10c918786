/* Functions shared between vmsim's modules (Linux keeps these in mm/internal.h). */
#ifndef VMSIM_INTERNAL_H
#define VMSIM_INTERNAL_H

#include "mm_types.h"


#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* x86 page-fault error code bits */
#define PF_PROT 0x1  /* the page was present: a protection fault */
#define PF_WRITE 0x2
#define PF_USER 0x4
#define PF_INSTR 0x10
#define PF_PK 0x20    /* refused by a protection key */

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

/* ---- tlb.c ---- */
int cpu_init(struct cpu *c, unsigned id, const struct vms_config *cfg);
void cpu_destroy(struct cpu *c);
void cpu_fault_invalidate(struct cpu *c, uint64_t va);
void switch_mm(vms_machine *m, struct cpu *c, struct mm_struct *next);
void cpu_run(vms_machine *m, struct cpu *c, struct vms_task *t); /* t runs on c from now */
void cpu_idle(struct cpu *c);  /* its task left: lazy TLB mode, if an mm is loaded */
/* As flush_tlb_mm_range; freed_tables: page tables were freed, so that even
 * CPUs in lazy TLB mode must drop the mm. */
void flush_tlb_range_tables(vms_machine *m, struct mm_struct *mm, unsigned self, uint64_t start,
                            uint64_t end, int freed_tables);
void flush_tlb_mm_range(vms_machine *m, struct mm_struct *mm, unsigned self,
                        uint64_t start, uint64_t end);

/* ---- pgtable.c ---- */
int pgd_alloc(struct mm_struct *mm);            /* 0 or -ENOMEM */
void pgd_free(struct mm_struct *mm);
pte_t *pte_alloc(struct mm_struct *mm, uint64_t va);    /* NULL when out of frames */
/* pte_alloc that says whether the PTE table itself was made now. */
pte_t *pte_alloc_fresh(struct mm_struct *mm, uint64_t va, int *fresh);
/* Frees the PTE table covering va if it holds nothing (no entry, no marker). */
void pte_table_drop_empty(struct mm_struct *mm, uint64_t va);
/* After [start, end) was unmapped: frees every table below the top that the
 * range touches and whose whole span lies in [floor, ceiling), where no VMA
 * remains (ceiling UINT64_MAX: the top). Returns the number of tables freed. */
unsigned free_pgtables(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t floor,
                       uint64_t ceiling, uint64_t *fs, uint64_t *fe);
static inline int pgtable_levels(const struct mm_struct *mm) { return mm->m->cfg.pgtable_levels; }
/* "PGD", "P4D", "PUD", "PMD" or "PTE": the table at level (1..levels). */
const char *pgtable_level_name(int level, int levels);
static inline pte_t *table_of(const struct phys_mem *pm, uint64_t pfn)
{
    return (pte_t *)pfn_to_virt(pm, pfn);
}
/* The table a present entry of a level-`level` table points to, or NULL. */
static inline pte_t *next_table(const struct phys_mem *pm, const pte_t *table, uint64_t va,
                                int level)
{
    pte_t e = table[table_index(va, level)];
    return (e & _PAGE_PRESENT) ? table_of(pm, pte_pfn(e)) : NULL;
}
/* The PTE that maps va, or NULL if a table is missing; no side effect.
 * Inline and unrolled: a TLB miss reads ahead with it (src/mmu.c). */
static inline pte_t *pte_offset(struct mm_struct *mm, uint64_t va)
{
    const struct phys_mem *pm = &mm->m->pm;
    pte_t *table = table_of(pm, mm->pgd);
    if (pgtable_levels(mm) == 5 && !(table = next_table(pm, table, va, 5)))
        return NULL;
    if (!(table = next_table(pm, table, va, 4)) || !(table = next_table(pm, table, va, 3)) ||
        !(table = next_table(pm, table, va, 2)))
        return NULL;
    return &table[table_index(va, 1)];
}

/* ---- vma.c ---- */
struct vm_area_struct *vma_alloc(struct mm_struct *mm);
void vma_free(struct vm_area_struct *vma);
/* A copy of src for mm, not yet in its tree: the same object and file
 * (references taken, linked into i_mmap), no anon_vma links yet. */
struct vm_area_struct *vm_area_dup(struct mm_struct *mm, const struct vm_area_struct *src);
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr); /* first with end > addr */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, uint64_t start, uint64_t end);
void vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);
void vma_gap_update(struct vm_area_struct *vma);     /* after vm_start/prev end moved */
void vma_set_range(struct vm_area_struct *vma, uint64_t start, uint64_t end, uint64_t pgoff);
/* Top-down search for a free range of len bytes in [low, high); 0 if none. */
uint64_t unmapped_area_topdown(struct mm_struct *mm, uint64_t len, uint64_t low, uint64_t high);
uint64_t unmapped_area(struct mm_struct *mm, uint64_t len, uint64_t low, uint64_t high);
int split_vma(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr, int new_below);
/* Merge vma with its neighbours where Linux would; returns the surviving VMA. */
struct vm_area_struct *vma_merge_neighbours(struct mm_struct *mm, struct vm_area_struct *vma);
/* vma, just grown at its end, absorbs its upper neighbour if it can (its
 * lower one stays apart: Linux's vma_merge_extend). */
struct vm_area_struct *vma_merge_next(struct mm_struct *mm, struct vm_area_struct *vma);
uint64_t vma_page_prot(uint64_t vm_flags);    /* PTE bits for vm_flags */
uint64_t vm_page_prot(const struct vm_area_struct *vma); /* ... with write-notify */
uint64_t stack_guard_gap_bytes(void);
/* Where vma's start lies for a new neighbour below: its guard gap below a stack. */
uint64_t vm_start_gap(const struct vm_area_struct *vma);
/* The pkey bits a VMA gets for prot: x86 gives PROT_EXEC-only memory the
 * execute-only key; any other prot drops that key. */
uint64_t vma_pkey_flags(const vms_machine *m, int prot);

/* ---- procfs.c ---- */
/* A VMA's maps columns (offset, device, inode, name) and kind. */
void maps_describe(const struct vm_area_struct *vma, struct vms_vma_info *vi);
void maps_describe_gate(struct vms_vma_info *vi); /* [vsyscall] */

/* ---- rmap.c ---- */
/* The user address at which vma maps page index of its object, or 0. */
static inline uint64_t vma_address(const struct vm_area_struct *vma, uint64_t index)
{
    uint64_t pages = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
    if (index < vma->vm_pgoff || index - vma->vm_pgoff >= pages)
        return 0;
    return vma->vm_start + ((index - vma->vm_pgoff) << PAGE_SHIFT);
}
int anon_vma_prepare(vms_machine *m, struct vm_area_struct *vma); /* 0 or -ENOMEM */
/* dst shares src's anon_vmas (a split or a copy); 0 or -ENOMEM. */
int anon_vma_clone(struct vm_area_struct *dst, const struct vm_area_struct *src);
/* The child's VMA links to the parent's anon_vmas and gets one of its own. */
int anon_vma_fork(vms_machine *m, struct vm_area_struct *vma, const struct vm_area_struct *pvma);
void unlink_anon_vmas(struct vm_area_struct *vma);
/* A VMA copied by fork, whose pages its relatives may share. */
int vma_is_fork_child(const struct vm_area_struct *vma);
/* Calls fn for each PTE that maps frame pfn until fn returns nonzero. */
typedef int (*rmap_fn)(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg);
int rmap_walk(vms_machine *m, uint32_t pfn, rmap_fn fn, void *arg);

/* ---- memory.c ---- */
/* Handles a user page fault; 0 when the access may retry, else the signal
 * (t->fault filled in). */
int do_user_addr_fault(struct vms_task *t, uint64_t va, unsigned err);
/* Clears the PTEs of [start, end) in vma, dropping their pages; widens the
 * flush range *fs..*fe to cover what was cleared. */
void zap_page_range(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
                    uint64_t end, uint64_t *fs, uint64_t *fe);
/* As zap_page_range; drop_markers: guard markers go too (munmap, exit),
 * where MADV_DONTNEED and truncation keep them. */
void zap_ptes(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start, uint64_t end,
              uint64_t *fs, uint64_t *fe, int drop_markers);
/* mmap's, mlock's and mremap's populate: Linux drops the lock to read a page
 * and faults again, so a read from the disk counts as a minor fault. */
int populate_range(struct vms_task *t, uint64_t start, uint64_t end);
/* Faults [start, end) in, with writes (1), reads (0) or, at -1, as
 * populate_range chooses, counting a read from the disk as major (madvise's
 * populate, which retries); -1 at the first page that cannot be faulted. */
int populate_pages(struct vms_task *t, uint64_t start, uint64_t end, int write);
/* mprotect's copy of locked memory: faults without dropping the lock, so a
 * cache miss counts major and a cached but unread page minor. */
int populate_waiting(struct vms_task *t, uint64_t start, uint64_t end);
/* Copies the PTEs of src_vma into dst_vma (same range, another mm) for fork;
 * sets *wrprotected when a parent PTE lost its write bit. -1: out of frames. */
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
                    int *wrprotected);

/* Moves the PTEs of [old_addr, old_addr + len) to new_addr (the pages stay
 * where they are); returns the bytes moved, less than len when out of frames.
 * The caller flushes the old range from the TLBs. */
uint64_t move_page_tables(struct mm_struct *mm, uint64_t old_addr, uint64_t new_addr,
                          uint64_t len);

/* ---- hugetlb.c ---- */
int hugetlb_size_valid(int flags);           /* the MAP_HUGE_* size bits name a page size */
uint64_t hugetlb_align(uint64_t len);        /* up to whole huge pages; 0 if it wraps */
int hugetlb_aligned(uint64_t addr);
int hugetlb_may_split(const struct vm_area_struct *vma, uint64_t addr); /* 0 or -EINVAL */
void hugetlb_init_vma(vms_machine *m, struct vm_area_struct *vma, uint64_t pgoff);
/* madvise's answer for a hugetlb VMA: 0 or -errno, 1: go on as for any VMA. */
int hugetlb_madvise(const struct vm_area_struct *vma, int behavior, uint64_t start);
int hugetlb_mremap_check(uint64_t addr, uint64_t *old_len, uint64_t *new_len, uint64_t new_addr);

/* ---- shmem.c ---- */
struct address_space *shmem_create(vms_machine *m, uint64_t size);
/* The frame at page index, allocated zeroed if absent or read back from
 * swap (*major set); PFN_NONE when out of memory. */
uint32_t shmem_get_page(vms_machine *m, struct address_space *as, uint64_t index, int *major);
/* Reclaim of a dirty, unmapped shmem page: to a swap slot, and freed. 0 or -errno. */
int shmem_writeout(vms_machine *m, uint32_t pfn);
/* Frees the swap slots of pages [first, last) of the object. 0 or -ENOMEM. */
int shmem_free_swap(vms_machine *m, struct address_space *as, uint64_t first, uint64_t last);
/* The swap slot holding page index of a shmem object, or 0. */
uint64_t shmem_swapped_slot(const struct address_space *as, uint64_t index);

/* ---- filemap.c ---- */
void mapping_get(struct address_space *as);
void mapping_put(vms_machine *m, struct address_space *as);
void mapping_destroy(vms_machine *m, struct address_space *as);
uint32_t find_get_page(const struct address_space *as, uint64_t index); /* PFN_NONE if absent */
void vma_link_file(struct vm_area_struct *vma);   /* into mapping->i_mmap */
void vma_unlink_file(struct vm_area_struct *vma);

/* ---- mmap.c ---- */
int do_munmap(struct vms_task *t, uint64_t start, uint64_t end);
/* munmap(addr, len) with munmap's EINVAL checks (used by mremap's shrink). */
int do_munmap_checked(struct vms_task *t, uint64_t addr, uint64_t len);
void exit_mmap(struct mm_struct *mm, unsigned cpu);
/* mmap of an open file (NULL: anonymous memory, flags say which), as the
 * kernel's vm_mmap: every check of mmap(2) after the descriptor's. */
int64_t do_mmap_file(struct vms_task *t, uint64_t addr, uint64_t len, int prot, int flags,
                     struct vms_file *file, int64_t off);
/* Linux's vm_brk_flags: anonymous memory at [addr, addr + len) for a bss,
 * extending the VMA below when it can; exec_flag adds VM_EXEC. 0 or -errno. */
int vm_brk_flags(struct vms_task *t, uint64_t addr, uint64_t len, int exec_flag);
void mm_set_layout(struct mm_struct *mm);
/* Where a mapping of len bytes goes (Linux's get_unmapped_area), in *out;
 * flags as mmap's. 0, or -errno. */
int get_unmapped_area(struct mm_struct *mm, const struct vms_file *file, uint64_t addr,
                      uint64_t len, uint64_t off, int flags, uint64_t *out);
int vm_enough_memory(struct mm_struct *mm, uint64_t pages);
/* RLIMIT_DATA (Linux's may_expand_vm): may mm map npages more with vm_flags,
 * `replaced` data pages going at the same time? */
int may_expand_vm(struct mm_struct *mm, uint64_t vm_flags, uint64_t npages, uint64_t replaced);
/* Committed_AS and CommitLimit of /proc/meminfo, in pages. */
uint64_t committed_pages(vms_machine *m);
uint64_t commit_limit(const vms_machine *m);
int mlock_future_ok(const struct mm_struct *mm, uint64_t vm_flags, uint64_t bytes);
static inline void widen(uint64_t *fs, uint64_t *fe, uint64_t start, uint64_t end)
{
    if (*fs > start)
        *fs = start;
    if (*fe < end)
        *fe = end;
}

/* ---- file.c ---- */
int fs_init(vms_machine *m);
void fs_exit(vms_machine *m);
struct files_struct *files_alloc(void);
struct files_struct *files_dup(const struct files_struct *files); /* fork's copy */
void files_put(vms_machine *m, struct files_struct *files);
struct vms_file *fget(const struct vms_task *t, int fd);
void fput(vms_machine *m, struct vms_file *f);
/* Opens path for execve (read-only): ENOENT, EACCES for a file that is not
 * regular or has no execute bit, and open's errors. 0 or -errno.
 * in_machine: a path a program names (PT_INTERP), "/" being the root folder;
 * else a path as vms_open takes it. */
int open_exec(struct vms_task *t, const char *path, int in_machine, struct vms_file **out);
/* Reads len bytes at pos through the page cache into a kernel buffer, with
 * the file's readahead (Linux's kernel_read): the bytes read (fewer at the
 * end of the file), or -ENOMEM. */
int64_t kernel_read(vms_machine *m, struct vms_file *f, void *buf, uint64_t len, uint64_t pos);

/* ---- namei.c ---- */
/* The flags open(2) and openat2 know (Linux's VALID_OPEN_FLAGS, the
 * kernel's values, measured bit by bit on the host): access mode, then
 * O_CREAT up to __O_TMPFILE. */
#define VALID_OPEN_FLAGS 037777703
/* openat2(root_fd, path, flags, mode) with RESOLVE_BENEATH (RESOLVE_IN_ROOT
 * when in_root: the root is the host's "/") | RESOLVE_NO_MAGICLINKS,
 * resolved by hand: the host fd or -errno. flags carry neither O_PATH nor
 * O_TMPFILE. */
int namei_open_beneath(int root_fd, const char *path, int flags, unsigned mode, int in_root);

/* ---- filemap.c: the page cache of host files ---- */
/* The page at index, read from the host file on a miss (*major set); the
 * caller has checked index against the file size. PFN_NONE: out of memory. */
uint32_t filemap_get_page(vms_machine *m, struct address_space *as, uint64_t index, int *major);
int64_t filemap_read(struct vms_task *t, struct address_space *as, struct file_ra_state *ra,
                     uint64_t buf, uint64_t len,
                     uint64_t *pos);
int64_t filemap_write(struct vms_task *t, struct address_space *as, uint64_t buf, uint64_t len,
                      uint64_t *pos);
/* The same into a kernel buffer: the bytes read, or -ENOMEM. */
int64_t filemap_read_kernel(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                            void *buf, uint64_t len, uint64_t pos);
void truncate_mapping(struct vms_task *t, struct address_space *as, uint64_t size);
/* Drops pages [first, last) of the object from its cache and from every
 * shared mapping (private copies stay), and punches the same hole in the
 * host file: fallocate(PUNCH_HOLE). 0 or -errno. */
int punch_hole(struct vms_task *t, struct address_space *as, uint64_t first, uint64_t last);
/* Splits the large folio holding pfn into order-0 pages (Linux's
 * split_folio), unmapping it everywhere first; -EBUSY for a dirty one,
 * which stays whole and mapped. */
int split_folio(vms_machine *m, uint32_t pfn, unsigned cpu);
/* Reclaims a clean, unmapped page-cache page: 1 if it was dropped. */
int remove_clean_cache_page(vms_machine *m, uint32_t pfn);
/* A PG_unread page becomes an ordinary cached one: 1 if it was unread. */
int page_read_now(vms_machine *m, uint32_t pfn);
/* Writes back the dirty pages with index in [first, last]; 0 or -errno. */
int writeback_range(vms_machine *m, struct address_space *as, uint64_t first, uint64_t last,
                    unsigned cpu);
void set_page_dirty(vms_machine *m, uint32_t pfn);
/* A shared mapping is about to write to the page (Linux's page_mkwrite): a
 * file page's block holds data from now on. 0 or -ENOMEM. */
int filemap_page_mkwrite(vms_machine *m, uint32_t pfn);
/* Reads the missing pages of the window ra describes (clipped to the file)
 * in folios of up to ra->order (large folios; the order used is stored back)
 * and marks the folio ra->async_size before its end. */
void page_cache_ra(vms_machine *m, struct address_space *as, struct file_ra_state *ra);
/* The next window of a stream (Linux's page_cache_async_ra once it has set
 * start and size): the order grows by 2 and the window ends on a boundary
 * of it, or of the lowest set bit of max (the window's limit in pages) if
 * that is smaller; large folios or not. */
void page_cache_async_window(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                             uint64_t max);
/* Does the page cache of as hold large folios? */
static inline int mapping_large_folio_support(const vms_machine *m, const struct address_space *as)
{
    return m->cfg.large_folios && as->kind == MAPPING_FILE;
}
/* The readahead marker of the folio holding the page. */
static inline int folio_test_readahead(const vms_machine *m, uint32_t pfn)
{
    return (m->pm.pages[folio_head_pfn(&m->pm, pfn)].flags & PG_readahead) != 0;
}
static inline void folio_clear_readahead(vms_machine *m, uint32_t pfn)
{
    m->pm.pages[folio_head_pfn(&m->pm, pfn)].flags &= ~PG_readahead;
}
/* The marked page pfn at index was reached by a request of req pages: the
 * next window if the state expects it there, else one sized by the cached
 * run after it (interleaved streams). Clears the mark. */
void page_cache_async_ra(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                         uint32_t pfn, uint64_t index, uint64_t req);
/* The disk's readahead window and largest request, in pages (Linux's
 * bdi->ra_pages and bdi->io_pages). */
static inline uint64_t ra_pages(const vms_machine *m) { return m->cfg.readahead_kb / 4; }
static inline uint64_t io_pages(const vms_machine *m) { return m->cfg.max_sectors_kb / 4; }
uint64_t next_ra_size(uint64_t cur, uint64_t max);
static inline uint64_t size_pages(const struct address_space *as)
{
    return (as->size + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

/* ---- mmu.c ---- */
/* Kernel copies to and from user memory (copy_to_user): faults are handled
 * and counted, but raise no signal. Returns the bytes copied. */
uint64_t copy_to_user(struct vms_task *t, uint64_t va, const void *src, uint64_t len);
uint64_t copy_from_user(struct vms_task *t, void *dst, uint64_t va, uint64_t len);
/* Linux's copy_folio_from_iter_atomic: copies until the first access that
 * would fault (pagefault_disable), handling none. */
uint64_t copy_from_user_nofault(struct vms_task *t, void *dst, uint64_t va, uint64_t len);
/* Linux's fault_in_readable: touches each page of the range as a kernel
 * read would, stopping at the first that cannot be read. Returns the bytes
 * made readable from va. */
uint64_t fault_in_readable(struct vms_task *t, uint64_t va, uint64_t len);

/* ---- task.c ---- */
struct mm_struct *mm_alloc(vms_machine *m);
vms_task *task_alloc(vms_machine *m, struct mm_struct *mm, struct files_struct *files,
                     const char *comm, unsigned cpu);
void mm_free(struct mm_struct *mm);
/* The last user of mm is gone: its memory and tables are freed, CPUs leave it. */
void mm_release(vms_machine *m, struct mm_struct *mm, unsigned cpu);
/* t stops running where it ran: that CPU idles, in lazy TLB mode. */
void task_leave_cpu(struct vms_task *t);
/* A task ends (exit, or de_thread in execve); vms_exit without the reaper. */
void do_exit(struct vms_task *t);
/* Every system call of a task begins here (Linux's syscall entry): the OOM
 * reaper first finishes what a kill left, a killed task gets -ESRCH, and t
 * becomes the machine's current task. */
int syscall_enter(struct vms_task *t);
#define SYSCALL_ENTER(t)                                                     \
    do {                                                                     \
        int enter_err_ = syscall_enter(t);                                   \
        if (enter_err_)                                                      \
            return enter_err_;                                               \
    } while (0)
/* The CPU a task runs on, with its mm loaded (switching if needed). */
struct cpu *task_cpu_enter(struct vms_task *t);
/* The same, without a call when t already runs there (the access path). */
static inline struct cpu *task_cpu(struct vms_task *t)
{
    struct cpu *c = t->cpu_ptr;
    if (__builtin_expect(!t->oom_killed && c->running_mm == t->mm && c->curr == t, 1))
        return c;
    return task_cpu_enter(t);
}

/* ---- oom_kill.c ---- */
/* The allocator found no frame and reclaim freed none (Linux's
 * out_of_memory): kills the process of highest badness. Returns 1 when
 * memory was freed at once (another process than the current one was
 * killed and reaped), 0 when nothing was (the current process was killed,
 * its memory reaped when its call returns, or nothing may be killed). */
int out_of_memory(vms_machine *m);
/* The OOM reaper: frees the memory of killed processes whose call has
 * returned. Every entry point that may find one calls it first. */
void oom_reap_pending(vms_machine *m);
/* Was the current task's process killed (its allocations fail at once)? */
static inline int current_is_oom_victim(const vms_machine *m)
{
    return m->current && m->current->oom_killed;
}

/* ---- vmscan.c: the allocator's slow path ---- */
/* How hard an allocation tries (the part of Linux's gfp flags vmsim models). */
enum gfp {
    GFP_USER,     /* reclaims, then calls the OOM killer */
    GFP_NORETRY,  /* never calls the OOM killer: readahead, large folios */
};
/* A block of 2^order frames (metadata reset, contents not cleared), or
 * PFN_NONE once reclaim and the OOM killer found nothing. */
uint32_t alloc_pages_gfp(vms_machine *m, unsigned order, enum gfp gfp);
uint32_t alloc_zeroed_page_gfp(vms_machine *m, enum gfp gfp);
/* Linux's boot-time min_free_kbytes for a RAM of ram_kbytes. */
uint64_t min_free_kbytes_for(uint64_t ram_kbytes);
void setup_watermarks(vms_machine *m);
/* A VM_LOCKED VMA maps the folio: onto the unevictable list; and off it. */
void mlock_folio(vms_machine *m, uint32_t pfn);
void munlock_folio(vms_machine *m, uint32_t pfn);
/* read() used the folio: referenced, or active the second time. */
void folio_mark_accessed(vms_machine *m, uint32_t pfn);
void folio_deactivate(vms_machine *m, uint32_t pfn);
/* MADV_COLD of one PTE: the page (if only this mapping maps it) loses its
 * references and leaves the active list. 1 if the PTE was young (the
 * caller flushes it). */
int madvise_cold_pte(vms_machine *m, pte_t *pte);
/* MADV_PAGEOUT of an anonymous page mapped once (Linux's reclaim_pages,
 * references ignored): to swap and freed; 1 if it is no longer mapped. */
int reclaim_folio(vms_machine *m, uint32_t pfn);

/* Swap writes in flight exist only while reclaim runs: their record freed. */
void writeback_exit(vms_machine *m);

/* The size of list l and the refault activations (file: 1) as reclaim
 * reads them: as they are, or as last flushed (cgroup_flushed_stats). */
uint64_t reclaim_lru_size(const vms_machine *m, enum lru_list l);
uint64_t reclaim_activations(const vms_machine *m, int file);
/* A refaulting page was active once: reclaiming it costs as much again. */
void lru_note_cost_refault(vms_machine *m, int file, uint64_t nr_pages);

/* ---- workingset.c: refault detection ---- */
/* The clock of evictions and activations moves on by nr_pages. */
void workingset_age_nonresident(vms_machine *m, uint64_t nr_pages);
/* Reclaim frees the folio: the shadow to leave in its place (never 0). */
uint64_t workingset_eviction(vms_machine *m, uint32_t head);
/* A new folio (not yet on a list) replaces a shadow (0: none): it is made
 * active if it left recently. */
void workingset_refault(vms_machine *m, uint32_t head, uint64_t shadow);
/* A file's folio of nr pages at index, reclaimed (workingset flag: it was
 * active once): its shadow left in the page cache's place. */
void workingset_file_evicted(vms_machine *m, struct address_space *as, uint64_t index,
                             uint32_t nr, int workingset);
/* A new file folio (not yet on a list) at index: the shadow it replaces,
 * if any, decides whether it comes back active. */
void workingset_file_refault(vms_machine *m, struct address_space *as, uint64_t index,
                             uint32_t head);
/* The shadows of [first, last] go (truncation, a hole punched). */
void workingset_file_forget(struct address_space *as, uint64_t first, uint64_t last);
void workingset_file_destroy(struct address_space *as);

/* ---- swapfile.c: the swap area ---- */
int swap_init(vms_machine *m);  /* 0 or -errno */
void swap_exit(vms_machine *m);
uint64_t swap_pages_total(const vms_machine *m);
uint64_t swap_pages_free(const vms_machine *m);
int vm_swap_full(const vms_machine *m); /* more than half in use */
uint64_t get_swap_page(vms_machine *m); /* a slot held by the swap cache; 0: none free */
void swap_duplicate(vms_machine *m, uint64_t off); /* one more swap entry names it */
void swap_put(vms_machine *m, uint64_t off);       /* one swap entry fewer */
void swap_put_cache(vms_machine *m, uint64_t off); /* the swap cache lets it go */
unsigned swap_count(const vms_machine *m, uint64_t off); /* swap entries naming it */
void free_swap_and_cache(vms_machine *m, uint64_t off);
int swap_writepage(vms_machine *m, uint32_t pfn); /* 0 or -errno; the page is clean after */
int swap_readpage(vms_machine *m, uint32_t pfn, uint64_t off);
/* Takes a mapped page out of the swap cache when no swap entry names its
 * slot any more: 1 if it did (the slot is freed). */
int folio_free_swap(vms_machine *m, uint32_t pfn);

/* ---- swap_state.c: the swap cache ---- */
void add_to_swap_cache(vms_machine *m, uint32_t pfn, uint64_t off);
void delete_from_swap_cache(vms_machine *m, uint32_t pfn); /* the caller drops its reference */
/* An anonymous page gets a slot and enters the swap cache, dirty: 0 when
 * no slot is free. */
int add_to_swap(vms_machine *m, uint32_t pfn);
/* The swap cache's page for slot off, or PFN_NONE (a hit on a page read
 * ahead counts for the next readahead window). */
uint32_t lookup_swap_cache(vms_machine *m, uint64_t off);
/* Reads slot off (and the readahead window around it) into the swap cache;
 * its page, or PFN_NONE when out of memory. */
uint32_t swapin_readahead(vms_machine *m, uint64_t off);

/* ---- exec.c, binfmt_elf.c, vdso.c: starting a program ---- */
#define BINPRM_BUF_SIZE 256 /* the file's first bytes, read once for every format */

/* One execve in progress (Linux's struct linux_binprm). The strings are
 * built in a host buffer that stands for the top of the new stack, pushed
 * downwards as Linux's copy_strings pushes them, and copied to the stack
 * by setup_arg_pages. */
struct linux_binprm {
    struct vms_task *t;
    struct vms_file *file;          /* the file being loaded, open for reading */
    struct vms_file *interpreter;   /* a script's interpreter, to load next */
    const char *filename;           /* the path as given: AT_EXECFN */
    const char *interp;             /* the name a script's interpreter gets as argv[1+] */
    char *interp_owned;             /* interp, when a script named it */
    int argc, envc;
    char *area;                     /* area[cap - used, cap) is [top - used, top) */
    uint64_t cap, used, max_used;   /* max_used: the lowest byte ever written */
    uint64_t room;                  /* used may not pass this (E2BIG): argmin */
    uint64_t exec;                  /* bytes from the top to the filename */
    uint64_t p;                     /* after create_elf_tables: the stack pointer */
    int point_of_no_return;         /* the old mm is gone: errors kill the process */
    unsigned char buf[BINPRM_BUF_SIZE];
};
/* Pushes a kernel string below the strings (Linux's copy_string_kernel):
 * 0, -E2BIG or -ENOMEM. */
int copy_string_kernel(struct linux_binprm *bprm, const char *s);
/* Drops argv[0] (a script's loader replaces it). */
void remove_arg_zero(struct linux_binprm *bprm);
/* binfmt_script.c: a "#!" file; 0 (bprm->interpreter set) or -errno. */
int load_script(struct linux_binprm *bprm);
/* binfmt_elf.c: loads an ELF64 x86-64 program; 0 or -errno. */
int load_elf_binary(struct linux_binprm *bprm);
/* exec.c: what binfmt_elf calls. begin_new_exec replaces the mm (the point of
 * no return); setup_arg_pages makes the stack VMA at stack_top with the
 * strings and grows it by 128 KiB (as far as RLIMIT_STACK allows). */
int begin_new_exec(struct linux_binprm *bprm);
int setup_arg_pages(struct linux_binprm *bprm, uint64_t stack_top, int executable_stack);
/* vdso.c: maps [vvar], [vvar_vclock] and [vdso] below mmap_base; 0 or -errno. */
int arch_setup_additional_pages(struct vms_task *t);

/* ---- machine.c ---- */
uint64_t machine_random(vms_machine *m);

#endif
