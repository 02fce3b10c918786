/*
 * The page-fault handler, as Linux's arch/x86/mm/fault.c and mm/memory.c:
 * find the VMA, check the access against it (SIGSEGV with SEGV_MAPERR or
 * SEGV_ACCERR), then build the missing page tables and fill the PTE: the zero
 * page for a read of private anonymous memory, a fresh zeroed frame for a
 * write, copy-on-write (or reuse of an exclusive page) on a write-protect
 * fault, a shmem page for shared anonymous memory, with fault-around
 * (which maps a large folio whole where Linux 6.18 does: inside the VMA and
 * the PTE table, and not holding the file's last page).
 * Faults are counted per task as getrusage() counts them.
 * Out of memory, a fault gets SIGKILL (the OOM killer's, src/oom_kill.c,
 * when it chose this process).
 * A swap entry faults its page back (src/swap_state.c).
 * Simplification: no huge pages, no userfaultfd.
 */
#include "internal.h"
#include "xarray.h"

#include <string.h>

/* VM_FAULT_RETRY: the fault found its page but had to read something (the
 * page itself, if cached but unread: VM_FAULT_UNREAD; or the next readahead
 * window, at a marker), and Linux drops the lock and faults again. A user
 * fault retries under the VMA lock and counts minor; a kernel fault (a copy
 * in read or write) retries under mmap_lock as FAULT_FLAG_TRIED: major. */
enum { VM_FAULT_OOM = 1, VM_FAULT_SIGBUS = 2, VM_FAULT_MAJOR = 4, VM_FAULT_SIGSEGV = 8,
       VM_FAULT_RETRY = 16, VM_FAULT_UNREAD = 32 };



static int raise_signal(struct vms_task *t, int signo, int code, uint64_t va)
{
    if (t->in_uaccess) /* a kernel copy fails with EFAULT instead */
        return signo;
    t->fault = (struct vms_fault){.signo = signo, .code = code, .addr = va};
    trace_event(t->m, &(struct vms_event){.kind = VMS_EV_SIGNAL, .cpu = t->cpu, .a = va,
                                          .index = (unsigned)signo, .level = code});
    return signo;
}

static void fault_event(struct vms_task *t, uint64_t va, const char *what, uint64_t pa)
{
    trace_event(t->m, &(struct vms_event){.kind = VMS_EV_FAULT, .cpu = t->cpu, .a = va,
                                          .detail = what, .pa = pa});
}

static uint64_t linear_page_index(const struct vm_area_struct *vma, uint64_t va)
{
    return vma->vm_pgoff + ((va - vma->vm_start) >> PAGE_SHIFT);
}

static pte_t mk_pte(uint64_t pfn, uint64_t prot) { return (pfn << PAGE_SHIFT) | prot; }

/* A write to a mapping that may be written: the PTE gets RW and D at once. */
static pte_t maybe_mkwrite(pte_t e, const struct vm_area_struct *vma)
{
    return (vma->vm_flags & VM_WRITE) ? (e | _PAGE_RW | _PAGE_DIRTY) : e;
}

/* Does the task's PKRU let a data access through this VMA's key? */
static int pkey_allows(unsigned err, const struct vm_area_struct *vma)
{
    return (err & PF_INSTR) || !PKRU_DENIES((vma->vm_flags & VM_PKEY_BIT0) ? 1 : 0);
}

/* Linux's access_error() for x86. */
static int access_error(unsigned err, const struct vm_area_struct *vma)
{
    if ((err & PF_PK) || !pkey_allows(err, vma))
        return 1;
    if (err & PF_WRITE)
        return !(vma->vm_flags & VM_WRITE);
    if (err & PF_PROT) /* a read or fetch of a present page was refused */
        return 1;
    return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

/* Grow a VM_GROWSDOWN VMA down to cover va, as expand_downwards() does on a
 * fault below it (from the program or from a kernel copy): the page must lie
 * above mmap_min_addr and keep the stack guard gap above an accessible VMA
 * below; the stack may reach RLIMIT_STACK (acct_stack_growth), within
 * RLIMIT_MEMLOCK when locked and the overcommit policy. */
static int expand_stack(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t va)
{
    vms_machine *m = mm->m;
    uint64_t start = va & PAGE_MASK;
    struct vm_area_struct *prev = vma->vm_prev;
    if (start < m->cfg.mmap_min_addr)
        return -1;
    if (prev && !(prev->vm_flags & VM_GROWSDOWN) && (prev->vm_flags & VM_ACCESS_FLAGS) &&
        (start < prev->vm_end || start - prev->vm_end < stack_guard_gap_bytes()))
        return -1;
    if (anon_vma_prepare(m, vma))
        return -1;
    uint64_t grow = (vma->vm_start - start) >> PAGE_SHIFT;
    if (grow > vma->vm_pgoff || vma->vm_end - start > m->cfg.stack_rlimit ||
        !mlock_future_ok(mm, vma->vm_flags, grow << PAGE_SHIFT) ||
        !vm_enough_memory(mm, grow))
        return -1;
    vma_set_range(vma, start, vma->vm_end, vma->vm_pgoff - grow);
    mm->total_vm += grow;
    if (vma->vm_flags & VM_LOCKED)
        mm->locked_vm += grow;
    return 0;
}

static void map_new_page(vms_machine *m, uint32_t pfn)
{
    m->pm.pages[pfn].mapcount++;
}

/* A new anonymous page for va, owned by this mm alone and counted as mapped
 * once: zeroed, or a copy of frame src. PFN_NONE when out of memory. */
static uint32_t alloc_anon_page(vms_machine *m, struct vm_area_struct *vma, uint64_t va,
                                uint32_t src, const char *why)
{
    if (anon_vma_prepare(m, vma))
        return PFN_NONE;
    uint32_t pfn = src == PFN_NONE ? alloc_zeroed_page_gfp(m, GFP_USER)
                                   : alloc_pages_gfp(m, 0, GFP_USER);
    if (pfn == PFN_NONE)
        return PFN_NONE;
    if (src != PFN_NONE)
        memcpy(pfn_to_virt(&m->pm, pfn), pfn_to_virt(&m->pm, src), PAGE_SIZE);
    struct page *page = pfn_to_page(&m->pm, pfn);
    page->flags = PG_anon | PG_anon_exclusive;
    page->mapping = vma->anon_vma;
    page->index = linear_page_index(vma, va);
    map_new_page(m, pfn);
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = va & PAGE_MASK,
                                       .pa = (uint64_t)pfn << PAGE_SHIFT, .detail = why});
    lru_add(&m->pm, pfn); /* new anonymous folios start inactive (Linux 5.9+) */
    return pfn;
}

static unsigned do_anonymous_page(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                                  pte_t *pte, int write)
{
    vms_machine *m = t->m;
    uint64_t prot = vm_page_prot(vma);
    /* Without the zero page a read fault takes a page of its own, mapped as
     * a write fault maps it (writable and dirty where the VMA allows). */
    if (!write && m->cfg.zero_page) {
        *pte = mk_pte(m->pm.zero_pfn, prot | _PAGE_SPECIAL);
        fault_event(t, va, "zero-page", (uint64_t)m->pm.zero_pfn << PAGE_SHIFT);
        return 0;
    }
    uint32_t pfn = alloc_anon_page(m, vma, va, PFN_NONE, write ? "anon" : "anon-read");
    if (pfn == PFN_NONE)
        return VM_FAULT_OOM;
    *pte = maybe_mkwrite(mk_pte(pfn, prot), vma);
    fault_event(t, va, "anon", (uint64_t)pfn << PAGE_SHIFT);
    return 0;
}

/* Linux 6.18 installs a new PTE table for fault-around only when the first
 * folio it finds to map ends before the file's last page (it may map large
 * across the PMD then); with no table, it maps nothing. So a fault whose
 * window starts at a folio holding the last page (a fault past EOF, say)
 * maps nothing there until a table exists (host-measured: a load past the
 * end of a 2-page file cached in one order-1 folio maps neither page). */
static int first_folio_holds_last_page(vms_machine *m, const struct address_space *as,
                                       uint64_t index0, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        uint32_t pfn = xa_load(as->pages, index0 + i);
        if (pfn != PFN_NONE && !(m->pm.pages[pfn].flags & PG_unread) &&
            !folio_test_readahead(m, pfn)) {
            uint32_t head = folio_head_pfn(&m->pm, pfn);
            uint64_t last = index0 + i - (pfn - head) + folio_nr_pages(&m->pm, pfn) - 1;
            return last >= size_pages(as) - 1;
        }
    }
    return 0;
}

/* What fault-around maps into one PTE table. Slots [slot_lo, slot_hi) lie
 * inside the VMA. */
struct around {
    pte_t *table;
    uint64_t prot, slot_lo, slot_hi;
    unsigned hits;
};

static void map_around_slot(vms_machine *m, struct around *a, uint64_t slot, uint32_t pfn)
{
    a->hits++; /* mapped or not: Linux counts it before it looks at the PTE */
    if (!pte_none(a->table[slot]))
        return;
    get_page(&m->pm, pfn);
    map_new_page(m, pfn);
    a->table[slot] = mk_pte(pfn, a->prot);
}

/* Linux 6.18's filemap_map_folio_range: the pages of the folio holding pfn
 * (found at slot) inside the window [slot, to), or the whole folio when it
 * lies inside the VMA and this PTE table and the file goes on past it (a
 * folio holding the file's last page is never mapped beyond the window).
 * Returns the slot after the folio's last page in the window. */
static uint64_t map_folio_around(vms_machine *m, const struct address_space *as, struct around *a,
                                 uint64_t slot, uint64_t to, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    uint64_t first = slot - (pfn - head); /* the head's slot; may wrap below 0 */
    uint64_t end = first + nr;
    int whole = nr > 1 && slot >= pfn - head && first >= a->slot_lo && end <= a->slot_hi &&
                m->pm.pages[head].index + nr <= size_pages(as) - 1;
    uint64_t from = whole ? first : slot, stop = whole ? end : (end < to ? end : to);
    for (uint64_t i = from; i < stop; i++)
        map_around_slot(m, a, i, head + (uint32_t)(i - first));
    return end < to ? end : to;
}

/* Map, around a read fault, the pages the object already holds (Linux's
 * do_fault_around with filemap_map_pages): the window is fault_around_bytes,
 * aligned, clipped to the VMA, to one PTE table and to the end of the file.
 * fresh_table: this fault has just made the PTE table. */
static void do_fault_around(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                            pte_t *pte, int fresh_table)
{
    vms_machine *m = t->m;
    uint64_t nr = m->cfg.fault_around_bytes >> PAGE_SHIFT;
    if (nr <= 1)
        return;
    uint64_t pte_off = table_index(va, 1);
    uint64_t vma_off = (va - vma->vm_start) >> PAGE_SHIFT;
    uint64_t from = pte_off & ~(nr - 1);
    uint64_t lowest = pte_off - (pte_off < vma_off ? pte_off : vma_off);
    if (from < lowest)
        from = lowest;
    uint64_t to = from + nr;
    if (to > PTRS_PER_TABLE)
        to = PTRS_PER_TABLE;
    uint64_t vma_end_off = pte_off + ((vma->vm_end - vma->vm_start) >> PAGE_SHIFT) - vma_off;
    if (to > vma_end_off)
        to = vma_end_off;
    const struct address_space *as = vma->mapping;
    /* Object index of table slot 0: may wrap below 0 when the object's page
     * sits in a higher slot than its index; slot arithmetic stays right. */
    uint64_t index = linear_page_index(vma, va), index0 = index - pte_off;
    if (as->kind == MAPPING_FILE) { /* slots past the end of the file stay empty */
        int64_t eof_slot = (int64_t)pte_off + (int64_t)size_pages(as) - (int64_t)index;
        if (eof_slot < (int64_t)to)
            to = eof_slot > 0 ? (uint64_t)eof_slot : 0;
        if (fresh_table && first_folio_holds_last_page(m, as, index0, from, to))
            return;
    }
    pte_t *table = pte - pte_off;
    struct around a = {.table = table, .prot = vm_page_prot(vma),
                       .slot_lo = pte_off - (pte_off < vma_off ? pte_off : vma_off),
                       .slot_hi = vma_end_off < PTRS_PER_TABLE ? vma_end_off : PTRS_PER_TABLE};
    const uint32_t *leaf = NULL;
    for (uint64_t i = from; i < to; i++) {
        uint64_t index = index0 + i;
        if (!leaf || index % XA_LEAF_SLOTS == 0)
            leaf = xa_leaf(as->pages, index);
        if (!leaf)
            continue;
        uint32_t pfn = leaf[index % XA_LEAF_SLOTS];
        if (pfn == PFN_NONE || (m->pm.pages[pfn].flags & PG_unread) || folio_test_readahead(m, pfn))
            continue;
        i = map_folio_around(m, as, &a, i, to, pfn) - 1;
    }
    if (vma->vm_file && as->kind == MAPPING_FILE) {
        struct file_ra_state *ra = &vma->vm_file->ra;
        ra->mmap_miss = a.hits >= ra->mmap_miss ? 0 : ra->mmap_miss - a.hits;
    }
}

#define MMAP_LOTSAMISS 100

#define PMD_PAGES 512ULL /* pages in a 2 MiB block */

/* MADV_HUGEPAGE memory reads, on a miss, the 2 MiB block around the fault
 * in folios of up to 2 MiB, even with readahead off and before any other
 * rule: two blocks with the marker on the second, or with MADV_RANDOM one
 * block marked at its start (host: a store into page 1 of a 12-page file
 * with MADV_HUGEPAGE and MADV_RANDOM caches all 12 pages, and a write(2)
 * from page 1 or 5 through another mapping then takes a major fault; with
 * MADV_RANDOM alone one page is cached and that fault is minor). */
static void hugepage_readaround(vms_machine *m, struct vm_area_struct *vma, uint64_t index)
{
    struct file_ra_state *ra = &vma->vm_file->ra;
    ra->start = index & ~(PMD_PAGES - 1);
    ra->size = vma->vm_flags & VM_RAND_READ ? PMD_PAGES : 2 * PMD_PAGES;
    ra->async_size = PMD_PAGES;
    ra->order = 9;
    page_cache_ra(m, vma->mapping, ra);
}

/* Linux's mmap read-around: a page-cache miss in a fault reads the disk's
 * readahead window around it (ahead only with MADV_SEQUENTIAL, nothing more
 * with MADV_RANDOM) and marks the page where the next window should start.
 * Executable memory (6.16+) is read from the fault to the end of the VMA,
 * one window at most, without a marker: code is read at random. */
static void filemap_readaround(vms_machine *m, struct vm_area_struct *vma, uint64_t index)
{
    struct address_space *as = vma->mapping;
    struct file_ra_state *ra = &vma->vm_file->ra;
    uint64_t window = ra_pages(m);
    uint64_t flags = vma->vm_flags;
    if (flags & VM_HUGEPAGE) {
        hugepage_readaround(m, vma, index);
        return;
    }
    if ((flags & (VM_RAND_READ | VM_EXEC)) == VM_RAND_READ || !window) {
        filemap_get_page(m, as, index, NULL);
        return;
    }
    /* A file whose faults miss much more than they hit reads no more
     * around them: read-around would only waste the disk's time. */
    if (!(flags & VM_SEQ_READ)) {
        if (ra->mmap_miss < MMAP_LOTSAMISS * 10)
            ra->mmap_miss++;
        if (ra->mmap_miss > MMAP_LOTSAMISS) {
            filemap_get_page(m, as, index, NULL);
            return;
        }
    }
    if ((flags & VM_EXEC) && !(flags & VM_SEQ_READ)) {
        uint64_t vma_end = vma->vm_pgoff + ((vma->vm_end - vma->vm_start) >> PAGE_SHIFT);
        ra->start = index;
        ra->size = vma_end - index < window ? vma_end - index : window;
        ra->async_size = 0;
    } else {
        ra->start = index;
        if (!(flags & VM_SEQ_READ))
            ra->start = index > window / 2 ? index - window / 2 : 0;
        ra->size = window;
        ra->async_size = window / 4;
    }
    ra->order = 0;
    page_cache_ra(m, as, ra);
}

/* A fault that touches the readahead marker reads the next window, without
 * waiting for it (Linux's do_async_mmap_readahead); 1 if it did. */
static int async_readahead(vms_machine *m, struct vm_area_struct *vma, uint32_t pfn)
{
    struct file_ra_state *ra = &vma->vm_file->ra;
    if ((vma->vm_flags & VM_RAND_READ) || !ra_pages(m))
        return 0;
    if (ra->mmap_miss) /* a fault that found its page: one miss less */
        ra->mmap_miss--;
    if (!folio_test_readahead(m, pfn))
        return 0;
    /* A fault asks for a whole window; the file's state may be another
     * stream's (or none: a descriptor that never read). */
    page_cache_async_ra(m, vma->mapping, ra, pfn, m->pm.pages[pfn].index, ra_pages(m));
    return 1;
}

/* The object's page for a fault at va: VM_FAULT_SIGBUS beyond the end of a
 * file, VM_FAULT_MAJOR when it had to be read from the disk. */
static unsigned fault_get_page(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                               uint32_t *pfn)
{
    vms_machine *m = t->m;
    struct address_space *as = vma->mapping;
    uint64_t index = linear_page_index(vma, va);
    if (as->kind == MAPPING_SHMEM) {
        if (index >= size_pages(as))
            return VM_FAULT_SIGBUS; /* past the object, as after an mremap that grew it */
        int major = 0;
        *pfn = shmem_get_page(m, as, index, &major);
        return *pfn == PFN_NONE ? VM_FAULT_OOM : major ? VM_FAULT_MAJOR : 0;
    }
    if (index >= size_pages(as))
        return VM_FAULT_SIGBUS;
    unsigned ret = 0;
    *pfn = find_get_page(as, index);
    if (*pfn != PFN_NONE) {
        get_page(&m->pm, *pfn); /* the readahead's allocations may reclaim */
        int marker = async_readahead(m, vma, *pfn);
        put_page(&m->pm, *pfn);
        /* Cached but never read: read it now; Linux then faults again. */
        if (page_read_now(m, *pfn))
            return VM_FAULT_UNREAD | VM_FAULT_RETRY;
        return marker ? VM_FAULT_RETRY : 0;
    }
    ret = VM_FAULT_MAJOR;
    filemap_readaround(m, vma, index);
    *pfn = filemap_get_page(m, as, index, NULL);
    return *pfn == PFN_NONE ? VM_FAULT_OOM : ret;
}

/* How many pages of pfn's folio a fault at va maps, and the first of them
 * (Linux 6.18's finish_fault): the whole folio when it lies inside the VMA,
 * this PTE table and the file, and none of its PTEs is set, else the faulting page
 * alone (host-measured: a shared write fault on an ext4 folio of 4 pages
 * maps all 4; on 4 order-0 folios, 1). */
static uint32_t fault_folio_span(vms_machine *m, const struct vm_area_struct *vma, uint64_t va,
                                 const pte_t *pte, uint32_t *pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, *pfn), nr = folio_nr_pages(&m->pm, *pfn);
    uint64_t idx = *pfn - head;
    uint64_t vma_off = (va - vma->vm_start) >> PAGE_SHIFT;
    uint64_t vma_pages = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
    uint64_t pte_off = table_index(va, 1);
    if (nr == 1 || vma_off < idx || vma_off + (nr - idx) > vma_pages || pte_off < idx ||
        pte_off + (nr - idx) > PTRS_PER_TABLE)
        return 1;
    /* Nor past the end of a file (6.18 maps no PTE beyond i_size): a folio
     * a failed write left there is mapped a page at a time. */
    const struct address_space *as = vma->mapping;
    if (as->kind != MAPPING_SHMEM &&
        m->pm.pages[head].index + nr > (as->size + PAGE_SIZE - 1) >> PAGE_SHIFT)
        return 1;
    const pte_t *first = pte - idx;
    for (uint32_t i = 0; i < nr; i++)
        if (!pte_none(first[i]))
            return 1;
    *pfn = head;
    return nr;
}

static unsigned map_object_page(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                                pte_t *pte, uint32_t pfn, int write)
{
    vms_machine *m = t->m;
    if (write && filemap_page_mkwrite(m, pfn))
        return VM_FAULT_OOM;
    fault_event(t, va, vma->mapping->kind == MAPPING_SHMEM ? "shmem" : "file",
                (uint64_t)pfn << PAGE_SHIFT);
    uint32_t first = pfn, nr = fault_folio_span(m, vma, va, pte, &first);
    pte_t *slot = pte - (pfn - first);
    for (uint32_t i = 0; i < nr; i++) {
        get_page(&m->pm, first + i);
        map_new_page(m, first + i);
        pte_t e = mk_pte(first + i, vm_page_prot(vma));
        if (write) {
            set_page_dirty(m, first + i);
            e = maybe_mkwrite(e, vma);
        }
        slot[i] = e;
    }
    return 0;
}

/* A private write to a file page not yet mapped: copy it into a new anonymous page. */
static unsigned do_cow_fault(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                             pte_t *pte)
{
    vms_machine *m = t->m;
    /* Linux prepares the anon_vma first: even a fault that then finds no
     * page (SIGBUS past EOF) leaves the VMA one, which decides merges. */
    if (anon_vma_prepare(m, vma))
        return VM_FAULT_OOM;
    uint32_t src;
    unsigned ret = fault_get_page(t, vma, va, &src);
    if (ret & (VM_FAULT_OOM | VM_FAULT_SIGBUS))
        return ret;
    get_page(&m->pm, src); /* held while the allocation may reclaim */
    uint32_t pfn = alloc_anon_page(m, vma, va, src, "cow");
    put_page(&m->pm, src);
    if (pfn == PFN_NONE)
        return VM_FAULT_OOM;
    *pte = maybe_mkwrite(mk_pte(pfn, vm_page_prot(vma)), vma);
    m->cow_faults++;
    fault_event(t, va, "cow", (uint64_t)pfn << PAGE_SHIFT);
    return ret;
}

/* A fault on a VMA backed by an object (Linux's do_fault): read, private
 * write (COW) or shared write. */
static unsigned do_fault(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                         pte_t *pte, int write, int fresh_table)
{
    if (write && !(vma->vm_flags & VM_SHARED))
        return do_cow_fault(t, vma, va, pte);
    if (!write) {
        do_fault_around(t, vma, va, pte, fresh_table);
        if (!pte_none(*pte)) {
            fault_event(t, va, "fault-around", pte_pfn(*pte) << PAGE_SHIFT);
            return 0;
        }
    }
    uint32_t pfn;
    unsigned ret = fault_get_page(t, vma, va, &pfn);
    if (ret & (VM_FAULT_OOM | VM_FAULT_SIGBUS))
        return ret;
    /* After reading from the disk (or starting the next window at the
     * marker) Linux retries the fault, and the retry maps the window
     * around it, pages just read included: still one fault. */
    if ((ret & (VM_FAULT_MAJOR | VM_FAULT_RETRY)) && !write) {
        do_fault_around(t, vma, va, pte, fresh_table);
        if (!pte_none(*pte)) {
            fault_event(t, va, "file, read from disk", pte_pfn(*pte) << PAGE_SHIFT);
            return ret;
        }
    }
    return ret | map_object_page(t, vma, va, pte, pfn, write);
}

/* Write to a present, write-protected PTE: copy-on-write, or reuse the page
 * when this mapping is its only user (Linux's do_wp_page). */
static unsigned do_wp_page(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                           pte_t *pte)
{
    vms_machine *m = t->m;
    uint32_t old = (uint32_t)pte_pfn(*pte);
    struct page *op = pfn_to_page(&m->pm, old);
    if (vma->vm_flags & VM_SHARED) {
        /* Write-notify: the first write to a clean shared file page dirties it. */
        if (filemap_page_mkwrite(m, old))
            return VM_FAULT_OOM;
        *pte |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
        set_page_dirty(m, old);
        fault_event(t, va, "write-notify", (uint64_t)old << PAGE_SHIFT);
        return 0;
    }
    /* A copy in the swap cache that no swap entry names is let go first. */
    if (!pte_special(*pte) && (op->flags & PG_swapcache) && !(op->flags & PG_anon_exclusive))
        folio_free_swap(m, old);
    /* Reuse: an anonymous page this mm owns, or one whose other users (a
     * forked relative) have all gone (Linux's wp_can_reuse_anon_folio). */
    if (!pte_special(*pte) && (op->flags & PG_anon) &&
        ((op->flags & PG_anon_exclusive) || op->refcount == 1)) {
        op->flags |= PG_anon_exclusive;
        *pte |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
        fault_event(t, va, "reuse", (uint64_t)old << PAGE_SHIFT);
        return 0;
    }
    int held = !pte_special(*pte);
    if (held)
        get_page(&m->pm, old); /* reclaim must not unmap it under the copy */
    uint32_t pfn = alloc_anon_page(m, vma, va, old, "cow");
    if (held)
        put_page(&m->pm, old);
    if (pfn == PFN_NONE)
        return VM_FAULT_OOM;
    if (!pte_special(*pte)) {
        op->mapcount--;
        put_page(&m->pm, old);
    }
    *pte = maybe_mkwrite(mk_pte(pfn, vm_page_prot(vma)), vma);
    /* The old translation may be cached on any CPU running this mm. */
    flush_tlb_mm_range(m, t->mm, t->cpu, va & PAGE_MASK, (va & PAGE_MASK) + PAGE_SIZE);
    m->cow_faults++;
    fault_event(t, va, "cow", (uint64_t)pfn << PAGE_SHIFT);
    return 0;
}

/* Linux's should_try_to_free_swap: a page back from swap keeps its slot
 * (a clean copy, free to drop again) unless swap is over half full, the
 * memory is locked, or a write will make the copy stale anyway. */
static int should_free_swap(const vms_machine *m, const struct vm_area_struct *vma,
                            const struct page *p, int write)
{
    if (vm_swap_full(m) || (vma->vm_flags & VM_LOCKED) || (p->flags & PG_mlocked))
        return 1;
    return write && p->refcount == 2; /* the swap cache and this fault */
}

/* A fault on a swap entry (Linux's do_swap_page): the page from the swap
 * cache (minor), or read from the swap area with the window around it
 * (major). An exclusive page is mapped writable (dirty on a write); a
 * shared one read-only, and a write then copies it. */
static unsigned do_swap_page(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                             pte_t *pte, int write)
{
    vms_machine *m = t->m;
    pte_t entry = *pte;
    uint64_t off = pte_swp_offset(entry);
    if (anon_vma_prepare(m, vma))
        return VM_FAULT_OOM;
    unsigned ret = 0;
    uint32_t pfn = lookup_swap_cache(m, off);
    if (pfn == PFN_NONE) {
        pfn = swapin_readahead(m, off);
        if (pfn == PFN_NONE)
            return VM_FAULT_OOM;
        ret = VM_FAULT_MAJOR;
    }
    struct page *p = pfn_to_page(&m->pm, pfn);
    get_page(&m->pm, pfn); /* this PTE's reference, from now on */
    swap_put(m, off);      /* this PTE names the slot no more */
    if (should_free_swap(m, vma, p, write))
        folio_free_swap(m, pfn);
    /* Exclusive: the entry said so, or nothing else holds the page now. */
    int exclusive = pte_swp_exclusive(entry) || (!(p->flags & PG_swapcache) && p->refcount == 1);
    if (!(p->flags & PG_anon)) {
        /* Read from swap: it becomes anonymous memory here. A page others
         * may share belongs to the root anon_vma, which every relative's
         * VMA links to (Linux's __folio_set_anon). */
        const struct anon_vma *av = vma->anon_vma;
        while (!exclusive && av->parent)
            av = av->parent;
        p->flags |= PG_anon;
        p->mapping = (void *)av;
        p->index = linear_page_index(vma, va);
    }
    map_new_page(m, pfn);
    pte_t e = mk_pte(pfn, vm_page_prot(vma));
    if (exclusive) {
        p->flags |= PG_anon_exclusive;
        if (vma->vm_flags & VM_WRITE) {
            e |= _PAGE_RW;
            if (write)
                e |= _PAGE_DIRTY;
        }
    }
    *pte = e;
    fault_event(t, va, ret ? "swap-in, read from swap" : "swap-in, from the swap cache",
                (uint64_t)pfn << PAGE_SHIFT);
    if (write && !pte_write(*pte))
        ret |= do_wp_page(t, vma, va, pte);
    return ret;
}

static unsigned handle_mm_fault(struct vms_task *t, struct vm_area_struct *vma, uint64_t va,
                                int write)
{
    /* Linux's hugetlb_fault: the empty pool has no page (hugetlb.c). */
    if (vma->vm_flags & VM_HUGETLB)
        return VM_FAULT_SIGBUS;
    int fresh_table;
    pte_t *pte = pte_alloc_fresh(t->mm, va, &fresh_table);
    if (!pte)
        return VM_FAULT_OOM;
    if (pte_is_guard(*pte))
        return VM_FAULT_SIGSEGV;
    if (pte_is_swap(*pte))
        return do_swap_page(t, vma, va, pte, write);
    if (pte_none(*pte)) {
        unsigned ret = vma->mapping ? do_fault(t, vma, va, pte, write, fresh_table)
                                    : do_anonymous_page(t, vma, va, pte, write);
        /* Linux installs the table only once it maps something. */
        if (fresh_table && (ret & (VM_FAULT_OOM | VM_FAULT_SIGBUS)))
            pte_table_drop_empty(t->mm, va);
        return ret;
    }
    if (write && !pte_write(*pte))
        return do_wp_page(t, vma, va, pte);
    /* Spurious: another path fixed the PTE first; just mark it used. */
    *pte |= _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
    return 0;
}

/* A page a fault mapped into a VM_LOCKED VMA is mlocked (unevictable). */
static void mlock_faulted(vms_machine *m, const struct vm_area_struct *vma, uint64_t va)
{
    if (!(vma->vm_flags & VM_LOCKED))
        return;
    pte_t *pte = pte_offset(vma->vm_mm, va);
    if (pte && pte_present(*pte) && !pte_special(*pte))
        mlock_folio(m, (uint32_t)pte_pfn(*pte));
}

static int account_fault(struct vms_task *t, unsigned ret, uint64_t va)
{
    if (ret & VM_FAULT_OOM)
        return raise_signal(t, SIGKILL, 0, va);
    if (ret & VM_FAULT_SIGBUS)
        return raise_signal(t, SIGBUS, BUS_ADRERR, va);
    if (ret & VM_FAULT_SIGSEGV) /* a guard region */
        return raise_signal(t, SIGSEGV, SEGV_MAPERR, va);
    if ((ret & VM_FAULT_MAJOR) || ((ret & VM_FAULT_RETRY) && t->in_uaccess)) {
        t->maj_flt++;
        t->m->major_faults++;
    } else {
        t->min_flt++;
        t->m->minor_faults++;
    }
    return 0;
}

int do_user_addr_fault(struct vms_task *t, uint64_t va, unsigned err)
{
    struct mm_struct *mm = t->mm;
    t->m->current = t;
    struct vm_area_struct *vma = va < mm->task_size ? find_vma(mm, va) : NULL;
    if (!vma)
        return raise_signal(t, SIGSEGV, SEGV_MAPERR, va);
    if (vma->vm_start > va &&
        (!(vma->vm_flags & VM_GROWSDOWN) || expand_stack(mm, vma, va)))
        return raise_signal(t, SIGSEGV, SEGV_MAPERR, va);
    if (access_error(err, vma)) {
        if ((err & PF_PK) || !pkey_allows(err, vma)) {
            raise_signal(t, SIGSEGV, SEGV_PKUERR, va);
            if (!t->in_uaccess)
                t->fault.pkey = 1;
            return SIGSEGV;
        }
        return raise_signal(t, SIGSEGV, SEGV_ACCERR, va);
    }
    unsigned ret = handle_mm_fault(t, vma, va, (err & PF_WRITE) != 0);
    if (!(ret & (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)))
        mlock_faulted(t->m, vma, va);
    return account_fault(t, ret, va);
}

/* ---- populate and zap ---- */

/* How a populate counts a page it had to read, after Linux's GUP callers. */
enum populate_mode {
    POPULATE_REFAULT, /* mmap, mlock, mremap: drop the lock, fault afresh: minor */
    POPULATE_TRIED,   /* madvise: retry with FAULT_FLAG_TRIED: major */
    POPULATE_WAIT,    /* mprotect: no retry; a miss is major, an unread page minor */
};

/* GUP's FOLL_TOUCH, on a page populate finds mapped already: a write marks
 * it dirty unless its PTE is (host-measured: a shared anonymous page read
 * in by MAP_POPULATE, then MADV_POPULATE_WRITE, stays resident through
 * MADV_PAGEOUT without swap), and the page is marked accessed. */
static void populate_touch(vms_machine *m, pte_t e, int write)
{
    if (pte_special(e))
        return;
    uint32_t pfn = (uint32_t)pte_pfn(e);
    if (write && !pte_dirty(e))
        set_page_dirty(m, pfn);
    folio_mark_accessed(m, pfn);
}

static int populate(struct vms_task *t, uint64_t start, uint64_t end, int write,
                    enum populate_mode mode)
{
    struct mm_struct *mm = t->mm;
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        struct vm_area_struct *vma = find_vma(mm, va);
        if (!vma || vma->vm_start > va || !(vma->vm_flags & VM_ACCESS_FLAGS))
            return -1;
        /* Kernel access is data access: execute-only memory refuses it. */
        if (!pkey_allows(0, vma))
            return -1;
        /* GUP's hugetlb fault fails as a user's does, but sends no signal
         * and counts no fault. */
        if (vma->vm_flags & VM_HUGETLB)
            return -1;
        /* Writable private memory is touched with a write, to break COW now. */
        int w = write >= 0 ? write : (vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
        pte_t *pte = pte_offset(mm, va);
        if (pte && pte_present(*pte) && (!w || pte_write(*pte))) {
            populate_touch(t->m, *pte, w);
            continue;
        }
        unsigned ret = handle_mm_fault(t, vma, va, w);
        if (!(ret & (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)))
            mlock_faulted(t->m, vma, va);
        if (mode == POPULATE_REFAULT)
            ret &= ~(VM_FAULT_MAJOR | VM_FAULT_RETRY);
        else if (mode == POPULATE_TRIED && (ret & VM_FAULT_RETRY))
            ret |= VM_FAULT_MAJOR;
        else
            ret &= ~VM_FAULT_RETRY;
        if (account_fault(t, ret, va))
            return -1;
    }
    return 0;
}

int populate_pages(struct vms_task *t, uint64_t start, uint64_t end, int write)
{
    return populate(t, start, end, write, POPULATE_TRIED);
}

int populate_range(struct vms_task *t, uint64_t start, uint64_t end)
{
    return populate(t, start, end, -1, POPULATE_REFAULT);
}

int populate_waiting(struct vms_task *t, uint64_t start, uint64_t end)
{
    return populate(t, start, end, -1, POPULATE_WAIT);
}

/* The first va at or after `va` that may have a PTE, skipping missing tables. */
static pte_t *next_pte(struct mm_struct *mm, uint64_t *va, uint64_t end)
{
    const struct phys_mem *pm = &mm->m->pm;
    while (*va < end) {
        pte_t *table = table_of(pm, mm->pgd);
        int level = pgtable_levels(mm);
        for (; level > 1; level--) {
            pte_t e = table[table_index(*va, level)];
            if (!(e & _PAGE_PRESENT))
                break;
            table = table_of(pm, pte_pfn(e));
        }
        if (level == 1)
            return &table[table_index(*va, 1)];
        uint64_t span = 1ULL << TABLE_SHIFT(level);
        *va = (*va | (span - 1)) + 1;
        if (*va == 0)
            break;
    }
    return NULL;
}

void zap_page_range(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
                    uint64_t end, uint64_t *fs, uint64_t *fe)
{
    zap_ptes(mm, vma, start, end, fs, fe, 0);
}

void zap_ptes(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start, uint64_t end,
              uint64_t *fs, uint64_t *fe, int drop_markers)
{
    struct phys_mem *pm = &mm->m->pm;
    int locked = vma && (vma->vm_flags & VM_LOCKED);
    uint64_t va = start;
    pte_t *pte;
    while ((pte = next_pte(mm, &va, end)) != NULL) {
        /* Walk the rest of this PTE table directly. */
        do {
            pte_t e = *pte;
            if (pte_is_guard(e)) {
                if (drop_markers)
                    *pte = 0; /* never in a TLB: nothing to flush */
            } else if (pte_is_swap(e)) {
                *pte = 0; /* never in a TLB either */
                free_swap_and_cache(mm->m, pte_swp_offset(e));
            } else if (!pte_none(e)) {
                if (!pte_special(e)) {
                    uint32_t pfn = (uint32_t)pte_pfn(e);
                    struct page *page = pfn_to_page(pm, pfn);
                    if (pte_dirty(e))
                        set_page_dirty(mm->m, pfn);
                    if (locked)
                        munlock_folio(mm->m, pfn);
                    page->mapcount--;
                    put_page(pm, pfn);
                    /* No PTE maps it and no swap entry names its slot: the
                     * swap cache lets it go (Linux's free_swap_cache). */
                    if ((page->flags & PG_swapcache) && !page->mapcount)
                        folio_free_swap(mm->m, pfn);
                }
                *pte = 0;
                widen(fs, fe, va, va + PAGE_SIZE);
            }
            va += PAGE_SIZE;
            pte++;
        } while (va < end && table_index(va, 1) != 0);
    }
}

/* ---- fork ---- */

/* Private memory that may be written: its pages are shared copy-on-write. */
static int is_cow_mapping(uint64_t vm_flags)
{
    return (vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

/* One PTE of the parent into the child (Linux's copy_present_pte): the page
 * gains a mapping, an anonymous page stops being exclusive, and a writable
 * private PTE is write-protected on both sides. Returns 1 if the parent's
 * PTE lost its write bit. */
static int copy_present_pte(vms_machine *m, const struct vm_area_struct *src_vma,
                            pte_t *src, pte_t *dst)
{
    pte_t e = *src;
    int wrprotected = 0;
    if (!pte_special(e)) {
        uint32_t pfn = (uint32_t)pte_pfn(e);
        struct page *page = pfn_to_page(&m->pm, pfn);
        page->flags &= ~PG_anon_exclusive;
        get_page(&m->pm, pfn);
        map_new_page(m, pfn);
    }
    if (is_cow_mapping(src_vma->vm_flags) && pte_write(e)) {
        e &= ~_PAGE_RW;
        *src = e;
        wrprotected = 1;
    }
    if (src_vma->vm_flags & VM_SHARED)
        e &= ~_PAGE_DIRTY;
    *dst = e & ~_PAGE_ACCESSED;
    return wrprotected;
}

/* A swap entry into the child (Linux's copy_nonpresent_pte): the slot
 * gains a reference, and neither side holds the page exclusively now. */
static void copy_swap_pte(vms_machine *m, pte_t *src, pte_t *dst)
{
    swap_duplicate(m, pte_swp_offset(*src));
    *src &= ~_PAGE_SWP_EXCLUSIVE;
    *dst = *src;
}

int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
                    int *wrprotected)
{
    struct mm_struct *src_mm = src_vma->vm_mm;
    vms_machine *m = src_mm->m;
    uint64_t va = src_vma->vm_start, end = src_vma->vm_end;
    pte_t *pte;
    while ((pte = next_pte(src_mm, &va, end)) != NULL) {
        /* Linux gives the child a PTE table wherever the parent has one in
         * the VMA, even an empty one (copy_pte_range allocates before it
         * looks): a later fault-around past EOF there then maps the last
         * page, as it does into any existing table (host-measured). */
        pte_t *dst = pte_alloc(dst_vma->vm_mm, va);
        if (!dst)
            return -1;
        do {
            if (!pte_none(*pte) && !dst && !(dst = pte_alloc(dst_vma->vm_mm, va)))
                return -1;
            /* The allocation may have reclaimed this very page: look again. */
            if (!pte_none(*pte)) {
                if (pte_is_guard(*pte))
                    *dst = *pte;
                else if (pte_is_swap(*pte))
                    copy_swap_pte(m, pte, dst);
                else
                    *wrprotected |= copy_present_pte(m, src_vma, pte, dst);
            }
            va += PAGE_SIZE;
            pte++;
            dst++;
        } while (va < end && table_index(va, 1) != 0);
    }
    return 0;
}

/* ---- mremap ---- */

uint64_t move_page_tables(struct mm_struct *mm, uint64_t old_addr, uint64_t new_addr,
                          uint64_t len)
{
    const uint64_t table_span = 1ULL << 21; /* what one PTE table maps */
    uint64_t va = old_addr, end = old_addr + len;
    pte_t *pte;
    while ((pte = next_pte(mm, &va, end)) != NULL) {
        /* Linux gives each extent whose source has a PTE table a table at
         * the destination before it looks at the entries: even an empty
         * source range makes one (host-measured with VmPTE). */
        uint64_t seg_end = (va | (table_span - 1)) + 1;
        if (seg_end > end)
            seg_end = end;
        for (uint64_t d = new_addr + (va - old_addr); d < new_addr + (seg_end - old_addr);
             d = (d | (table_span - 1)) + 1)
            if (!pte_alloc(mm, d))
                return va - old_addr;
        do {
            if (!pte_none(*pte)) {
                pte_t *dst = pte_alloc(mm, new_addr + (va - old_addr));
                if (!dst)
                    return va - old_addr;
                /* pte_alloc may not have moved the table holding *pte. */
                *dst = *pte;
                *pte = 0;
            }
            va += PAGE_SIZE;
            pte++;
        } while (va < end && table_index(va, 1) != 0);
    }
    return len;
}
