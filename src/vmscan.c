/*
 * Page reclaim and the allocator's slow path, as Linux 6.18's mm/vmscan.c
 * without MGLRU and __alloc_pages_slowpath:
 *
 * - Watermarks from RAM as Linux computes them at boot: min_free_kbytes =
 *   sqrt(16 * RAM in KiB), clamped to 128 KiB .. 256 MiB; low and high lie
 *   above min by the larger of min/4 and watermark_scale_factor / 10000 of
 *   RAM, once and twice (host: min 9706, low 12132, high 14558 pages in its
 *   Normal zone: 12132 - 9706 = 9706 / 4).
 * - An allocation that would leave no more than the low watermark free wakes
 *   kswapd, run here as one deterministic step that reclaims until more than
 *   the high watermark is free (balance_pgdat, priorities 12 down to 0); one
 *   that would leave no more than min reclaims itself (direct reclaim, 32
 *   pages a pass), then calls the OOM killer (src/oom_kill.c) and retries.
 * - Five LRU lists (src/page_alloc.c): new anonymous, shmem and file folios
 *   start on the inactive lists; read() marks a folio referenced, a second
 *   time active. Reclaim takes folios from the tails: the scan of a list is
 *   its size >> priority, split between anon and file by swappiness and the
 *   recent cost of each (get_scan_count); active lists are aged into the
 *   inactive ones when these fall below their share (inactive_is_low);
 *   direct reclaim that frees nothing at any priority, having left an
 *   active list unaged, goes down the priorities again aging both
 *   (force_deactivate).
 * - A folio's references are the Accessed bits of the PTEs that map it,
 *   found through the reverse map and cleared (no TLB flush, as x86's
 *   ptep_clear_flush_young: an entry still in a TLB sets no new bit), and
 *   its PG_referenced flag (folio_check_references).
 * - A folio a readahead window added is locked until the readahead call
 *   returns (src/filemap.c, ra_unlock): reclaim passes over it, as Linux's
 *   shrink_folio_list does when folio_trylock fails.
 * - A clean file folio is unmapped and freed; a dirty one is unmapped,
 *   written back and freed, so nothing written is ever lost. A folio mapped
 *   by a VM_LOCKED VMA goes to the unevictable list.
 * - An anonymous folio written to swap stays, clean in the swap cache,
 *   until its write ends, then moves to the inactive tail for the next scan
 *   to free (see start_writeback); the TLBs of the mms a batch unmapped
 *   from are flushed whole once the batch is done.
 * - config.cgroup_reclaim: the lists are balanced as a memory cgroup's
 *   reclaim balances them (no tiny-file rule, no proportional scan,
 *   swappiness 0 never swaps), for a machine that stands for a cgroup; with
 *   config.cgroup_flushed_stats on the cgroup's statistics as last flushed
 *   (see reclaim_lru_size); and
 *   as a cgroup's limit has no kswapd, an allocation that finds no frame
 *   reclaims at least 32 pages itself (see alloc_pages_gfp).
 * Simplifications: no per-CPU LRU batches (a folio is on its list at
 * once); kswapd runs inside the allocation that woke it; a swap write ends
 * a pass after the one that started it, or when reclaim returns (the
 * disk's speed, in passes); a dirty file folio is written synchronously
 * and freed in the same pass (Linux starts the write, rotates the folio to
 * the tail and frees it on a later pass);
 * a folio someone holds a reference to (a copy in progress) is passed over
 * before it is unmapped; a page locked by
 * two VMAs is unlocked by the first unmap (no mlock_count; reclaim culls it
 * again through the reverse map).
 */
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SWAP_CLUSTER_MAX 32
#define DEF_PRIORITY 12
#define MAX_RECLAIM_RETRIES 16
#define MAX_SWAPPINESS 200

/* ---- watermarks ---- */

static uint64_t int_sqrt(uint64_t x)
{
    uint64_t r = 0;
    for (uint64_t bit = 1ULL << 62; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

uint64_t min_free_kbytes_for(uint64_t ram_kbytes)
{
    uint64_t kb = int_sqrt(ram_kbytes * 16);
    return kb < 128 ? 128 : kb > 262144 ? 262144 : kb;
}

void setup_watermarks(vms_machine *m)
{
    uint64_t managed = m->pm.nframes;
    uint64_t kb = m->cfg.min_free_kbytes;
    if (kb == UINT64_MAX)
        kb = min_free_kbytes_for(managed * (PAGE_SIZE / 1024));
    uint64_t min = kb / (PAGE_SIZE / 1024);
    uint64_t scaled = managed * m->cfg.watermark_scale_factor / 10000;
    uint64_t gap = min / 4 > scaled ? min / 4 : scaled;
    m->wmark[WMARK_MIN] = min;
    m->wmark[WMARK_LOW] = min + gap;
    m->wmark[WMARK_HIGH] = min + 2 * gap;
}

/* Would 2^order frames leave more than mark free? (zone_watermark_ok) */
static int watermark_ok(const vms_machine *m, unsigned order, uint64_t mark)
{
    int64_t free = (int64_t)m->pm.nr_free - (1 << order) + 1;
    return free > (int64_t)mark;
}

/* ---- references ---- */

#define REFERENCED_VMAS 16 /* distinct mappings told apart; more count each */

struct referenced {
    int ptes;          /* mappings (VMAs) with a young PTE of the folio (the bits
                          now cleared): Linux's referenced count, one per VMA
                          however many of a large folio's PTEs it has young */
    uint64_t vm_flags; /* the flags of every VMA that maps it, or-ed */
    int mapped;        /* PTEs found */
    const struct vm_area_struct *young[REFERENCED_VMAS];
};

static int referenced_one(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg)
{
    (void)va;
    struct referenced *r = arg;
    r->mapped++;
    r->vm_flags |= vma->vm_flags;
    if (!(*pte & _PAGE_ACCESSED))
        return 0;
    *pte &= ~_PAGE_ACCESSED;
    for (int i = 0; i < r->ptes && i < REFERENCED_VMAS; i++)
        if (r->young[i] == vma)
            return 0; /* this mapping already counted */
    if (r->ptes < REFERENCED_VMAS)
        r->young[r->ptes] = vma;
    r->ptes++;
    return 0;
}

/* Linux's folio_referenced: the young PTEs of every page of the folio. */
static struct referenced folio_referenced(vms_machine *m, uint32_t head)
{
    struct referenced r = {0};
    uint32_t nr = folio_nr_pages(&m->pm, head);
    for (uint32_t i = 0; i < nr; i++)
        if (m->pm.pages[head + i].mapcount)
            rmap_walk(m, head + i, referenced_one, &r);
    return r;
}

/* ---- unmapping ---- */

/* The mms whose PTEs reclaim cleared in one batch of folios: each loses
 * its whole TLB once the batch is done (Linux's TTU_BATCH_FLUSH and
 * arch_tlbbatch_flush, a full flush), so every page of it that is used
 * again is walked again and sets its Accessed bit: a page still in use
 * looks young to the next scan. */
#define TLB_BATCH_MMS 8

struct tlb_batch {
    struct mm_struct *mm[TLB_BATCH_MMS];
    unsigned n;
    int overflow; /* more mms than fit: flush every mm */
};

static void tlb_batch_add(struct tlb_batch *b, struct mm_struct *mm)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->mm[i] == mm)
            return;
    if (b->n < TLB_BATCH_MMS)
        b->mm[b->n++] = mm;
    else
        b->overflow = 1;
}

static void tlb_batch_flush(vms_machine *m, struct tlb_batch *b)
{
    unsigned cpu = m->current ? m->current->cpu : 0;
    if (b->overflow)
        for (struct mm_struct *mm = m->mms; mm; mm = mm->mm_next)
            flush_tlb_mm_range(m, mm, cpu, 0, UINT64_MAX);
    else
        for (unsigned i = 0; i < b->n; i++)
            flush_tlb_mm_range(m, b->mm[i], cpu, 0, UINT64_MAX);
    b->n = 0;
    b->overflow = 0;
}

static int unmap_one(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg)
{
    struct tlb_batch *batch = arg;
    struct mm_struct *mm = vma->vm_mm;
    vms_machine *m = mm->m;
    pte_t e = *pte;
    uint32_t pfn = (uint32_t)pte_pfn(e);
    struct page *p = &m->pm.pages[pfn];
    *pte = 0;
    if (p->flags & PG_swapcache) { /* the PTE names the slot instead */
        *pte = swp_entry_pte(0, p->swap_off, (p->flags & PG_anon_exclusive) != 0);
        swap_duplicate(m, p->swap_off);
        p->flags &= ~PG_anon_exclusive;
        if (pte_dirty(e))
            p->flags |= PG_dirty;
    } else if (pte_dirty(e)) {
        set_page_dirty(m, pfn);
    }
    m->pm.pages[pfn].mapcount--;
    put_page(&m->pm, pfn);
    if (batch) {
        tlb_batch_add(batch, mm);
    } else {
        unsigned cpu = m->current ? m->current->cpu : 0;
        flush_tlb_mm_range(m, mm, cpu, va, va + PAGE_SIZE);
    }
    return 0;
}

/* Linux's try_to_unmap: 1 when no PTE maps the folio any more. With a
 * batch, the TLBs are flushed when the batch is (tlb_batch_flush); the
 * folio is not freed before. */
static int try_to_unmap(vms_machine *m, uint32_t head, struct tlb_batch *batch)
{
    uint32_t nr = folio_nr_pages(&m->pm, head);
    int mapped = 0;
    for (uint32_t i = 0; i < nr; i++) {
        if (m->pm.pages[head + i].mapcount)
            rmap_walk(m, head + i, unmap_one, batch);
        mapped |= m->pm.pages[head + i].mapcount != 0;
    }
    return !mapped;
}

/* Does anyone but the page cache and the PTEs hold the folio? */
static int folio_held(const vms_machine *m, uint32_t head)
{
    const struct page *p = &m->pm.pages[head];
    int cache = (p->flags & (PG_file | PG_shmem | PG_swapcache)) != 0;
    uint32_t nr = folio_nr_pages(&m->pm, head);
    for (uint32_t i = 0; i < nr; i++) {
        const struct page *q = &m->pm.pages[head + i];
        if (q->refcount != q->mapcount + cache)
            return 1;
    }
    return 0;
}

static int folio_dirty(const vms_machine *m, uint32_t head)
{
    uint32_t nr = folio_nr_pages(&m->pm, head);
    for (uint32_t i = 0; i < nr; i++)
        if (m->pm.pages[head + i].flags & PG_dirty)
            return 1;
    return 0;
}

/* ---- swap writes in flight ---- */

/* A swap write reclaim starts is not over when pageout returns: the folio
 * stays, clean and in the swap cache, until the device ends the write;
 * then, as it was written for reclaim, it moves to the inactive tail
 * (folio_end_writeback, folio_rotate_reclaimable) for the next scan to free.
 * Reclaim submits its writes when a pass over the lists ends (the block
 * plug of shrink_lruvec) and goes on scanning faster than the disk writes:
 * here a write ends when the pass after the one that started it ends, and
 * every write has ended by the time reclaim returns (the program runs
 * slower than the disk). So a reclaim that finds nothing to free at once
 * writes all it may and frees nothing of it until later, as the host's
 * does (host-measured, a hot set beside a cold scan in a 16 MiB memory
 * cgroup: a reclaim wrote 3,260 pages while freeing 32, and the next 11
 * MiB of the scan freed them and wrote none). */
static void start_writeback(vms_machine *m, uint32_t head)
{
    struct page *p = &m->pm.pages[head];
    if (m->writeback.n == m->writeback.cap) {
        size_t cap = m->writeback.cap ? 2 * m->writeback.cap : 64;
        uint32_t *pfn = realloc(m->writeback.pfn, cap * sizeof(*pfn));
        if (pfn)
            m->writeback.pfn = pfn;
        uint64_t *pass = pfn ? realloc(m->writeback.pass, cap * sizeof(*pass)) : NULL;
        if (pass)
            m->writeback.pass = pass;
        if (!pfn || !pass)
            return; /* no room to track it: the write ends at once */
        m->writeback.cap = cap;
    }
    p->flags |= PG_writeback | PG_reclaim;
    m->writeback.pfn[m->writeback.n] = head;
    m->writeback.pass[m->writeback.n++] = m->reclaim_pass;
}

/* Linux's folio_end_writeback: a folio written for reclaim that is on its
 * list, clean and evictable goes to the inactive tail. */
static void end_writeback(vms_machine *m, uint32_t head)
{
    struct page *p = &m->pm.pages[head];
    int rotate = (p->flags & PG_reclaim) != 0;
    p->flags &= ~(PG_writeback | PG_reclaim);
    if (!rotate || !(p->flags & PG_lru) || (p->flags & (PG_dirty | PG_unevictable)))
        return;
    lru_del(&m->pm, head);
    p->flags &= ~PG_active;
    lru_add_tail(&m->pm, head);
    m->vmstat.pgrotated += folio_nr_pages(&m->pm, head);
}

/* Ends, in the order they started, the writes started before pass
 * `before` (UINT64_MAX: all of them). */
static void end_writes_before(vms_machine *m, uint64_t before)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->writeback.n; i++) {
        uint32_t head = m->writeback.pfn[i];
        if (m->writeback.pass[i] < before) {
            if (m->pm.pages[head].flags & PG_writeback)
                end_writeback(m, head);
            continue;
        }
        m->writeback.pfn[kept] = head;
        m->writeback.pass[kept++] = m->writeback.pass[i];
    }
    m->writeback.n = kept;
}

void writeback_exit(vms_machine *m)
{
    free(m->writeback.pfn);
    free(m->writeback.pass);
    memset(&m->writeback, 0, sizeof(m->writeback));
}

/* ---- mlock ---- */

void mlock_folio(vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    struct page *p = &m->pm.pages[head];
    if (!(p->flags & PG_lru) || (p->flags & PG_mlocked))
        return;
    lru_del(&m->pm, head);
    p->flags = (p->flags & ~(PG_active | PG_referenced)) | PG_mlocked | PG_unevictable;
    lru_add(&m->pm, head);
    m->vmstat.unevictable_pgs_mlocked += folio_nr_pages(&m->pm, head);
}

void munlock_folio(vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    struct page *p = &m->pm.pages[head];
    if (!(p->flags & PG_mlocked))
        return;
    int on_lru = (p->flags & PG_lru) != 0;
    if (on_lru)
        lru_del(&m->pm, head);
    p->flags &= ~(PG_mlocked | PG_unevictable);
    if (on_lru)
        lru_add(&m->pm, head);
    m->vmstat.unevictable_pgs_munlocked += folio_nr_pages(&m->pm, head);
}

/* ---- the page cache's and read()'s references ---- */

void folio_mark_accessed(vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    struct page *p = &m->pm.pages[head];
    if (!(p->flags & PG_referenced)) {
        p->flags |= PG_referenced;
        return;
    }
    if ((p->flags & (PG_active | PG_unevictable)) || !(p->flags & PG_lru))
        return;
    lru_del(&m->pm, head);
    p->flags = (p->flags | PG_active) & ~PG_referenced;
    lru_add(&m->pm, head);
    m->vmstat.pgactivate += folio_nr_pages(&m->pm, head);
    workingset_age_nonresident(m, folio_nr_pages(&m->pm, head)); /* workingset_activation */
}

/* Linux's folio_deactivate: an active folio moves to its inactive list
 * (the head); an inactive one stays where it is. */
void folio_deactivate(vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    struct page *p = &m->pm.pages[head];
    if (!(p->flags & PG_lru) || (p->flags & PG_unevictable) || !(p->flags & PG_active))
        return;
    lru_del(&m->pm, head);
    p->flags &= ~(PG_active | PG_referenced);
    lru_add(&m->pm, head);
    m->vmstat.pgdeactivate += folio_nr_pages(&m->pm, head);
}

/* ---- scanning ---- */

struct scan_control {
    uint64_t nr_to_reclaim, nr_reclaimed, nr_scanned;
    int priority;
    int kswapd;
    int may_deactivate_anon, may_deactivate_file;
    int skipped_deactivate; /* an active list was due a scan it did not get */
    int force_deactivate;   /* age both active lists whatever the statistics say */
    int cache_trim_mode, file_is_tiny;
    uint64_t anon_cost, file_cost;
    unsigned lists; /* the LRU lists scanned, by bit (the reclaim-end event) */
};

static uint64_t lru_pages(const vms_machine *m, enum lru_list l) { return m->pm.lru[l].nr_pages; }

static int is_file_lru(enum lru_list l) { return l == LRU_INACTIVE_FILE || l == LRU_ACTIVE_FILE; }

/* ---- the cgroup's statistics as reclaim reads them ---- */

/* A memory cgroup's statistics are per-CPU counts that Linux folds into
 * the totals its reclaim reads (lruvec_page_state) only at a flush: when
 * the cgroup's memory.stat is read, or by a worker every 2 s. Its reclaim
 * reads those totals for the inactive lists' share (inactive_is_low), the
 * cache it may trim alone, the costs' decay (lru_note_cost), new refault
 * activations (prepare_scan_control, snapshot_refaults) and the workingset
 * a refault is measured against; the lists' exact sizes only for how much
 * to scan (get_scan_count). With config.cgroup_flushed_stats vmsim does the
 * same, flushed by vms_cgroup_flush_stats. Simplifications: every call
 * flushes (Linux's read flushes only when more than 64 x CPUs updates are
 * pending, as after any reclaim); no periodic flush (vmsim has no clock). */
static int stats_flushed(const vms_machine *m)
{
    return m->cfg.cgroup_reclaim && m->cfg.cgroup_flushed_stats;
}

uint64_t reclaim_lru_size(const vms_machine *m, enum lru_list l)
{
    return stats_flushed(m) ? m->flushed.lru[l] : lru_pages(m, l);
}

uint64_t reclaim_activations(const vms_machine *m, int file)
{
    if (stats_flushed(m))
        return m->flushed.activate[file != 0];
    return file ? m->vmstat.workingset_activate_file : m->vmstat.workingset_activate_anon;
}

void vms_cgroup_flush_stats(vms_machine *m)
{
    for (int l = 0; l < LRU_UNEVICTABLE; l++)
        m->flushed.lru[l] = lru_pages(m, (enum lru_list)l);
    m->flushed.activate[0] = m->vmstat.workingset_activate_anon;
    m->flushed.activate[1] = m->vmstat.workingset_activate_file;
}

/* Is there swap to put anonymous pages in? Without it only the file lists
 * are scanned. Pages already in the swap cache need no new slot: while
 * some are there the anonymous lists are scanned too (Linux asks only for
 * free slots, but its writes end while it scans, so it never fills the
 * swap area with written pages it has not freed yet, as a burst of vmsim's
 * can). */
static int can_reclaim_anon_pages(const vms_machine *m)
{
    return swap_pages_free(m) > 0 || m->swap.nr_cache > 0;
}

/* Linux's inactive_is_low: the inactive list is under its share, which is
 * 1 : sqrt(10 * GiB) of the type's pages. */
static int inactive_is_low(const vms_machine *m, enum lru_list inactive)
{
    uint64_t in = reclaim_lru_size(m, inactive),
             act = reclaim_lru_size(m, (enum lru_list)(inactive + 1));
    uint64_t gb = (in + act) >> (30 - PAGE_SHIFT);
    uint64_t ratio = gb ? int_sqrt(10 * gb) : 1;
    return in * ratio < act;
}

/* Linux's lru_note_cost: what reclaiming a type cost (I/O weighs a
 * cluster, a rotation one page), halved once it outweighs a quarter of
 * the lists. */
static void lru_note_cost(vms_machine *m, int file, uint64_t nr_io, uint64_t nr_rotated)
{
    uint64_t cost = nr_io * SWAP_CLUSTER_MAX + nr_rotated;
    if (!cost)
        return; /* nothing happened: the old costs do not decay either */
    if (file)
        m->file_cost += cost;
    else
        m->anon_cost += cost;
    uint64_t lrusize = 0;
    for (int l = 0; l < LRU_UNEVICTABLE; l++)
        lrusize += reclaim_lru_size(m, (enum lru_list)l);
    if (m->file_cost + m->anon_cost > lrusize / 4) {
        m->file_cost /= 2;
        m->anon_cost /= 2;
    }
}

void lru_note_cost_refault(vms_machine *m, int file, uint64_t nr_pages)
{
    lru_note_cost(m, file, nr_pages, 0);
}

static void prepare_scan_control(const vms_machine *m, struct scan_control *sc)
{
    sc->anon_cost = m->anon_cost;
    sc->file_cost = m->file_cost;
    /* Pages refaulting active since reclaim last returned: a new workingset
     * is coming in, the active lists age at once (and the file cache is
     * not trimmed alone). */
    sc->may_deactivate_anon = sc->force_deactivate || inactive_is_low(m, LRU_INACTIVE_ANON) ||
                              reclaim_activations(m, 0) != m->refaults_seen[0];
    sc->may_deactivate_file = sc->force_deactivate || inactive_is_low(m, LRU_INACTIVE_FILE) ||
                              reclaim_activations(m, 1) != m->refaults_seen[1];
    uint64_t file = reclaim_lru_size(m, LRU_INACTIVE_FILE);
    sc->cache_trim_mode = (file >> sc->priority) && !sc->may_deactivate_file;
    /* Too little file cache to matter (it and free memory below high):
     * anonymous memory goes, if there is plenty of it inactive. A cgroup's
     * reclaim has no such rule. */
    uint64_t all_file = file + lru_pages(m, LRU_ACTIVE_FILE);
    uint64_t anon = lru_pages(m, LRU_INACTIVE_ANON);
    sc->file_is_tiny = !m->cfg.cgroup_reclaim && all_file + m->pm.nr_free <= m->wmark[WMARK_HIGH] &&
                       !sc->may_deactivate_anon && (anon >> sc->priority);
}

enum scan_balance { SCAN_EQUAL, SCAN_FRACT, SCAN_ANON, SCAN_FILE };

/* Linux's get_scan_count: how many pages of each evictable list to scan. */
static void get_scan_count(const vms_machine *m, const struct scan_control *sc, uint64_t nr[4])
{
    unsigned swappiness = m->cfg.swappiness;
    enum scan_balance balance;
    uint64_t fraction[2] = {0, 0}, denominator = 1;
    if (!can_reclaim_anon_pages(m))
        balance = SCAN_FILE;
    else if (m->cfg.cgroup_reclaim && !swappiness) /* a cgroup's swappiness 0 never swaps */
        balance = SCAN_FILE;
    else if (!sc->priority && swappiness)
        balance = SCAN_EQUAL;
    else if (sc->file_is_tiny)
        balance = SCAN_ANON;
    else if (sc->cache_trim_mode)
        balance = SCAN_FILE;
    else {
        balance = SCAN_FRACT;
        uint64_t total = sc->anon_cost + sc->file_cost;
        uint64_t anon_cost = total + sc->anon_cost, file_cost = total + sc->file_cost;
        total = anon_cost + file_cost;
        fraction[0] = swappiness * (total + 1) / (anon_cost + 1);
        fraction[1] = (MAX_SWAPPINESS - swappiness) * (total + 1) / (file_cost + 1);
        denominator = fraction[0] + fraction[1];
        if (!denominator)
            denominator = 1;
    }
    for (int l = 0; l < LRU_UNEVICTABLE; l++) {
        int file = is_file_lru((enum lru_list)l);
        uint64_t scan = lru_pages(m, (enum lru_list)l) >> sc->priority;
        if (balance == SCAN_FRACT)
            scan = scan * fraction[file] / denominator;
        else if ((balance == SCAN_FILE && !file) || (balance == SCAN_ANON && file))
            scan = 0;
        nr[l] = scan;
    }
}

/* Takes up to nr_to_scan pages' worth of folios from the tail of list l;
 * returns how many it took into out[], counting pages in *scanned. */
static unsigned isolate_lru_folios(vms_machine *m, enum lru_list l, uint64_t nr_to_scan,
                                   uint32_t *out, unsigned cap, uint64_t *scanned)
{
    unsigned n = 0;
    *scanned = 0;
    while (n < cap && *scanned < nr_to_scan && m->pm.lru[l].tail != PFN_NONE) {
        uint32_t pfn = m->pm.lru[l].tail;
        *scanned += folio_nr_pages(&m->pm, pfn);
        lru_del(&m->pm, pfn);
        out[n++] = pfn;
    }
    return n;
}

/* A folio taken off a list goes back on the one its flags name, at the head. */
static void putback(vms_machine *m, uint32_t head) { lru_add(&m->pm, head); }

static void shrink_active_list(vms_machine *m, struct scan_control *sc, enum lru_list l,
                               uint64_t nr_to_scan)
{
    uint32_t folios[SWAP_CLUSTER_MAX];
    uint64_t scanned;
    unsigned n = isolate_lru_folios(m, l, nr_to_scan, folios, SWAP_CLUSTER_MAX, &scanned);
    m->vmstat.pgrefill += scanned;
    uint64_t deactivated = 0, rotated = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t head = folios[i];
        struct page *p = &m->pm.pages[head];
        struct referenced r = folio_referenced(m, head);
        if (r.vm_flags & VM_LOCKED) {
            p->flags = (p->flags & ~(PG_active | PG_referenced)) | PG_mlocked | PG_unevictable;
            putback(m, head);
            continue;
        }
        /* Executable file memory in use stays active: code is precious. */
        if (r.ptes && (r.vm_flags & VM_EXEC) && is_file_lru(l)) {
            rotated += folio_nr_pages(&m->pm, head);
            workingset_age_nonresident(m, folio_nr_pages(&m->pm, head));
            putback(m, head);
            continue;
        }
        p->flags = (p->flags & ~PG_active) | PG_workingset;
        deactivated += folio_nr_pages(&m->pm, head);
        putback(m, head);
    }
    m->vmstat.pgdeactivate += deactivated;
    (void)sc;
    (void)rotated;
}

enum folio_references { FOLIOREF_RECLAIM, FOLIOREF_RECLAIM_CLEAN, FOLIOREF_KEEP, FOLIOREF_ACTIVATE,
                        FOLIOREF_MLOCK };

/* Linux's folio_check_references. */
static enum folio_references folio_check_references(vms_machine *m, uint32_t head)
{
    struct page *p = &m->pm.pages[head];
    struct referenced r = folio_referenced(m, head);
    if (r.vm_flags & VM_LOCKED)
        return FOLIOREF_MLOCK;
    int referenced_folio = (p->flags & PG_referenced) != 0;
    p->flags &= ~PG_referenced;
    int file = (p->flags & PG_file) != 0;
    if (r.ptes) {
        /* Every mapped folio has the reference of the fault that mapped
         * it: look twice before activating. */
        p->flags |= PG_referenced;
        if (referenced_folio || r.ptes > 1)
            return FOLIOREF_ACTIVATE;
        if ((r.vm_flags & VM_EXEC) && file)
            return FOLIOREF_ACTIVATE;
        return FOLIOREF_KEEP;
    }
    if (referenced_folio && file)
        return FOLIOREF_RECLAIM_CLEAN;
    return FOLIOREF_RECLAIM;
}

/* Writes a dirty folio back (Linux's pageout, completed at once): a file
 * folio to its file, a swap-cache page to its slot. 0, or -errno with the
 * folio still dirty. */
static int pageout(vms_machine *m, uint32_t head)
{
    struct page *p = &m->pm.pages[head];
    if (p->flags & PG_swapcache)
        return swap_writepage(m, head);
    struct address_space *as = p->mapping;
    uint64_t first = p->index, last = first + folio_nr_pages(&m->pm, head) - 1;
    trace_event(m, &(struct vms_event){.kind = VMS_EV_PAGEOUT, .a = first << PAGE_SHIFT,
                                       .pa = (uint64_t)head << PAGE_SHIFT,
                                       .level = folio_order(&m->pm, head)});
    int err = writeback_range(m, as, first, last, m->current ? m->current->cpu : 0);
    if (!err)
        m->vmstat.pgpgout += (last - first + 1) * (PAGE_SIZE / 1024);
    return err ? err : folio_dirty(m, head) ? -EIO : 0;
}

/* Frees a clean, unmapped folio only its cache holds (Linux's
 * __remove_mapping): 1 if it went. */
static int remove_mapping(vms_machine *m, uint32_t head)
{
    struct page *p = &m->pm.pages[head];
    if (!(p->flags & PG_swapcache)) {
        struct address_space *as = p->mapping;
        uint64_t index = p->index;
        uint32_t nr = folio_nr_pages(&m->pm, head);
        int workingset = (p->flags & PG_workingset) != 0, file = (p->flags & PG_file) != 0;
        if (!remove_clean_cache_page(m, head))
            return 0;
        if (file)
            workingset_file_evicted(m, as, index, nr, workingset);
        return 1;
    }
    if (p->refcount != 1 || p->mapcount || (p->flags & PG_dirty))
        return 0;
    uint64_t off = p->swap_off, shadow = workingset_eviction(m, head);
    delete_from_swap_cache(m, head);
    m->swap.shadow[off] = shadow;
    put_page(&m->pm, head);
    return 1;
}

/* What became of one folio in shrink_folio_list. */
enum folio_fate { FATE_FREED, FATE_KEEP, FATE_ACTIVATE, FATE_MLOCK };

static enum folio_fate shrink_folio(vms_machine *m, uint32_t head, uint64_t *pageouts,
                                    struct tlb_batch *batch)
{
    struct page *p = &m->pm.pages[head];
    if (p->flags & PG_locked) /* a readahead batch's, its read not yet submitted */
        return FATE_KEEP;
    if (p->flags & PG_mlocked)
        return FATE_MLOCK;
    if (folio_held(m, head))
        return FATE_KEEP;
    /* Met again while its write is in flight (a scan round the whole
     * list): reclaim waits for the write, as a cgroup v1 memory limit's
     * reclaim does, and looks at the folio as it then is. Simplification:
     * a whole machine's reclaim waits too (Linux's marks it and keeps it
     * active). */
    if (p->flags & PG_writeback)
        end_writeback(m, head);
    enum folio_references ref = folio_check_references(m, head);
    if (ref == FOLIOREF_MLOCK)
        return FATE_MLOCK;
    if (ref == FOLIOREF_ACTIVATE)
        return FATE_ACTIVATE;
    if (ref == FOLIOREF_KEEP)
        return FATE_KEEP;
    /* Anonymous pages need a swap slot first; shmem pages get theirs when
     * written out. */
    if (!(p->flags & (PG_file | PG_shmem | PG_swapcache)) && !add_to_swap(m, head))
        return FATE_ACTIVATE;
    if (!try_to_unmap(m, head, batch))
        return FATE_ACTIVATE;
    if (p->flags & PG_shmem) {
        if (!folio_dirty(m, head)) /* never written: zeros a fault makes again */
            return remove_clean_cache_page(m, head) ? FATE_FREED : FATE_KEEP;
        if (ref == FOLIOREF_RECLAIM_CLEAN || shmem_writeout(m, head))
            return FATE_ACTIVATE;
        (*pageouts)++;
        return FATE_FREED;
    }
    if (folio_dirty(m, head)) {
        if (ref == FOLIOREF_RECLAIM_CLEAN)
            return FATE_KEEP;
        if (pageout(m, head))
            return FATE_ACTIVATE;
        (*pageouts)++;
        if (p->flags & PG_swapcache) { /* freed once the write has ended */
            start_writeback(m, head);
            if (p->flags & PG_writeback)
                return FATE_KEEP;
        }
    }
    return remove_mapping(m, head) ? FATE_FREED : FATE_KEEP;
}

/* Linux's shrink_inactive_list with shrink_folio_list: pages freed. */
static uint64_t shrink_inactive_list(vms_machine *m, struct scan_control *sc, enum lru_list l,
                                     uint64_t nr_to_scan)
{
    uint32_t folios[SWAP_CLUSTER_MAX];
    uint64_t scanned, reclaimed = 0, pageouts = 0;
    struct tlb_batch batch = {.n = 0};
    unsigned n = isolate_lru_folios(m, l, nr_to_scan, folios, SWAP_CLUSTER_MAX, &scanned);
    if (sc->kswapd)
        m->vmstat.pgscan_kswapd += scanned;
    else
        m->vmstat.pgscan_direct += scanned;
    if (is_file_lru(l))
        m->vmstat.pgscan_file += scanned;
    else
        m->vmstat.pgscan_anon += scanned;
    for (unsigned i = 0; i < n; i++) {
        uint32_t head = folios[i];
        uint32_t nr = folio_nr_pages(&m->pm, head);
        struct page *p = &m->pm.pages[head];
        switch (shrink_folio(m, head, &pageouts, &batch)) {
        case FATE_FREED:
            reclaimed += nr;
            continue;
        case FATE_ACTIVATE:
            p->flags |= PG_active;
            m->vmstat.pgactivate += nr;
            workingset_age_nonresident(m, nr); /* move_folios_to_lru */
            break;
        case FATE_MLOCK:
            p->flags = (p->flags & ~(PG_active | PG_referenced)) | PG_mlocked | PG_unevictable;
            break;
        case FATE_KEEP:
            break;
        }
        putback(m, head);
    }
    tlb_batch_flush(m, &batch);
    if (sc->kswapd)
        m->vmstat.pgsteal_kswapd += reclaimed;
    else
        m->vmstat.pgsteal_direct += reclaimed;
    if (is_file_lru(l))
        m->vmstat.pgsteal_file += reclaimed;
    else
        m->vmstat.pgsteal_anon += reclaimed;
    lru_note_cost(m, is_file_lru(l), pageouts, scanned - reclaimed);
    sc->nr_scanned += scanned;
    return reclaimed;
}

static uint64_t shrink_list(vms_machine *m, struct scan_control *sc, enum lru_list l,
                            uint64_t nr_to_scan)
{
    sc->lists |= 1u << l;
    if (l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE) {
        if (is_file_lru(l) ? sc->may_deactivate_file : sc->may_deactivate_anon)
            shrink_active_list(m, sc, l, nr_to_scan);
        else
            sc->skipped_deactivate = 1;
        return 0;
    }
    return shrink_inactive_list(m, sc, l, nr_to_scan);
}

/* Once the target is met: the type with less left to scan stops, and the
 * other is scanned on only as far as the stopped one got through its own
 * share (Linux's shrink_lruvec keeps the two in proportion to what
 * get_scan_count asked, adjusting once). 0 when one type has nothing left:
 * stop. */
static int scan_adjust(uint64_t nr[4], const uint64_t targets[4])
{
    uint64_t nr_file = nr[LRU_INACTIVE_FILE] + nr[LRU_ACTIVE_FILE];
    uint64_t nr_anon = nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON];
    if (!nr_file || !nr_anon)
        return 0;
    int stop_file = nr_file <= nr_anon;
    enum lru_list stopped = stop_file ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
    enum lru_list other = stop_file ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
    uint64_t left = stop_file ? nr_file : nr_anon;
    uint64_t percentage = left * 100 / (targets[stopped] + targets[stopped + 1] + 1);
    nr[stopped] = nr[stopped + 1] = 0;
    for (enum lru_list l = other; l <= other + 1; l++) {
        uint64_t scanned = targets[l] - nr[l];
        nr[l] = targets[l] * (100 - percentage) / 100;
        nr[l] -= nr[l] < scanned ? nr[l] : scanned;
    }
    return 1;
}

/* Linux's shrink_lruvec (the one node's lists). */
static void shrink_node(vms_machine *m, struct scan_control *sc)
{
    m->reclaim_pass++;
    prepare_scan_control(m, sc);
    uint64_t nr[4], targets[4];
    get_scan_count(m, sc, nr);
    memcpy(targets, nr, sizeof(targets));
    /* Global direct reclaim at the first priority scans everything it
     * meant to; otherwise the scan is cut down once the target is met. */
    int proportional = !sc->kswapd && sc->priority == DEF_PRIORITY && !m->cfg.cgroup_reclaim;
    uint64_t reclaimed = 0;
    while (nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]) {
        for (int l = 0; l < LRU_UNEVICTABLE; l++) {
            if (!nr[l])
                continue;
            uint64_t scan = nr[l] < SWAP_CLUSTER_MAX ? nr[l] : SWAP_CLUSTER_MAX;
            nr[l] -= scan;
            reclaimed += shrink_list(m, sc, (enum lru_list)l, scan);
        }
        if (reclaimed < sc->nr_to_reclaim || proportional)
            continue;
        if (!scan_adjust(nr, targets))
            break;
        proportional = 1; /* one nudge: then what is left of the other type is scanned */
    }
    sc->nr_reclaimed += reclaimed;
    /* Anonymous memory ages even when it was not scanned (swap present). */
    if (can_reclaim_anon_pages(m) && inactive_is_low(m, LRU_INACTIVE_ANON))
        shrink_active_list(m, sc, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
    if (reclaimed)
        m->kswapd_failures = 0;
    end_writes_before(m, m->reclaim_pass); /* the last pass's writes are done */
}

/* Linux's snapshot_refaults: the activations reclaim has seen. */
static void snapshot_refaults(vms_machine *m)
{
    m->refaults_seen[0] = reclaim_activations(m, 0);
    m->refaults_seen[1] = reclaim_activations(m, 1);
}

/* A pass's begin (Linux's mm_vmscan_kswapd_wake, mm_vmscan_direct_reclaim_begin)
 * or its end, with what the pass did in sum. */
static void reclaim_event(vms_machine *m, enum vms_event_kind kind, int kswapd, uint64_t a,
                          uint64_t b, const struct scan_control *sum)
{
    trace_event(m, &(struct vms_event){.kind = kind, .detail = kswapd ? "kswapd" : "direct",
                                       .a = a, .b = b, .index = sum ? sum->lists : 0,
                                       .level = sum ? sum->priority : 0});
}

/* kswapd's balance_pgdat: reclaim until more than the high watermark is free. */
static void kswapd(vms_machine *m)
{
    if (m->kswapd_failures >= MAX_RECLAIM_RETRIES || m->in_reclaim)
        return;
    m->in_reclaim = 1;
    m->vmstat.pageoutrun++;
    reclaim_event(m, VMS_EV_RECLAIM_BEGIN, 1, m->pm.nr_free, m->wmark[WMARK_HIGH], NULL);
    struct scan_control sum = {.priority = DEF_PRIORITY};
    uint64_t total = 0;
    int priority = DEF_PRIORITY;
    while (priority >= 0 && !watermark_ok(m, 0, m->wmark[WMARK_HIGH])) {
        uint64_t high = m->wmark[WMARK_HIGH];
        struct scan_control sc = {.nr_to_reclaim = high > SWAP_CLUSTER_MAX ? high : SWAP_CLUSTER_MAX,
                                  .priority = priority, .kswapd = 1};
        shrink_node(m, &sc);
        sum = (struct scan_control){.priority = priority, .lists = sum.lists | sc.lists,
                                    .nr_scanned = sum.nr_scanned + sc.nr_scanned};
        total += sc.nr_reclaimed;
        /* Enough at this priority: try it again before raising it. */
        if (sc.nr_reclaimed < sc.nr_to_reclaim || !sc.nr_reclaimed)
            priority--;
    }
    if (!total)
        m->kswapd_failures++;
    end_writes_before(m, UINT64_MAX);
    snapshot_refaults(m);
    reclaim_event(m, VMS_EV_RECLAIM_END, 1, sum.nr_scanned, total, &sum);
    m->in_reclaim = 0;
}

/* Direct reclaim (try_to_free_pages): did it make progress (pages freed,
 * or swap writes started whose folios the next reclaim frees)? */
static int try_to_free_pages(vms_machine *m)
{
    if (m->in_reclaim)
        return 0;
    m->in_reclaim = 1;
    m->vmstat.allocstall++;
    reclaim_event(m, VMS_EV_RECLAIM_BEGIN, 0, m->pm.nr_free, SWAP_CLUSTER_MAX, NULL);
    struct scan_control sum = {.priority = DEF_PRIORITY};
    uint64_t total = 0, written = m->vmstat.pswpout;
    int skipped = 0, force = 0;
    for (int priority = DEF_PRIORITY; priority >= 0; priority--) {
        struct scan_control sc = {.nr_to_reclaim = SWAP_CLUSTER_MAX, .priority = priority,
                                  .force_deactivate = force};
        shrink_node(m, &sc);
        sum = (struct scan_control){.priority = priority, .lists = sum.lists | sc.lists,
                                    .nr_scanned = sum.nr_scanned + sc.nr_scanned};
        total += sc.nr_reclaimed;
        skipped |= sc.skipped_deactivate;
        if (total >= SWAP_CLUSTER_MAX)
            break;
        /* Nothing freed at any priority, and an active list was left
         * unaged because the statistics said it need not be: all again,
         * aging both (Linux's do_try_to_free_pages, force_deactivate). */
        if (!priority && !total && skipped && !force) {
            snapshot_refaults(m);
            force = 1;
            skipped = 0;
            priority = DEF_PRIORITY + 1;
        }
    }
    end_writes_before(m, UINT64_MAX);
    snapshot_refaults(m);
    reclaim_event(m, VMS_EV_RECLAIM_END, 0, sum.nr_scanned, total, &sum);
    m->in_reclaim = 0;
    return total || m->vmstat.pswpout != written;
}

/* ---- the allocator's slow path ---- */

/* A memory cgroup's limit wakes no kswapd: the charge that finds the
 * cgroup full reclaims itself, SWAP_CLUSTER_MAX pages at least, going down
 * the priorities until it has them (Linux's try_charge_memcg and
 * try_to_free_mem_cgroup_pages). A kswapd run at zero watermarks would
 * stop at the first page freed, at a priority whose scan counts are 0 or 1
 * a list, where anonymous pages' share rounds down to nothing: host-measured
 * (a 12 MiB mapped file read beside 6 MiB of anonymous memory written, in a
 * 16 MiB cgroup), the cgroup swaps 158 - 1,544 pages a pass from the second
 * pass on; reclaim by kswapd here swapped 0 - 170. */
uint32_t alloc_pages_gfp(vms_machine *m, unsigned order, enum gfp gfp)
{
    if (!m->cfg.cgroup_reclaim && !watermark_ok(m, order, m->wmark[WMARK_LOW]))
        kswapd(m);
    int retries = 0;
    for (;;) {
        if (watermark_ok(m, order, m->wmark[WMARK_MIN]) || m->in_reclaim) {
            uint32_t pfn = alloc_pages(&m->pm, order);
            if (pfn != PFN_NONE)
                return pfn;
        }
        if (m->in_reclaim)
            return PFN_NONE; /* reclaim's own allocations take what is left */
        if (m->oom_reap_pending) { /* a victim's memory not yet freed */
            oom_reap_pending(m);
            if (!m->oom_reap_pending)
                continue;
        }
        if (try_to_free_pages(m) && ++retries <= MAX_RECLAIM_RETRIES)
            continue;
        if (gfp == GFP_NORETRY)
            return PFN_NONE;
        if (!out_of_memory(m))
            return PFN_NONE;
        retries = 0;
    }
}

uint32_t alloc_zeroed_page_gfp(vms_machine *m, enum gfp gfp)
{
    uint32_t pfn = alloc_pages_gfp(m, 0, gfp);
    if (pfn != PFN_NONE)
        memset(pfn_to_virt(&m->pm, pfn), 0, PAGE_SIZE);
    return pfn;
}

/* ---- MADV_PAGEOUT ---- */

int reclaim_folio(vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    struct page *p = &m->pm.pages[head];
    if (!can_reclaim_anon_pages(m) && !(p->flags & PG_swapcache))
        return 0;
    if (!(p->flags & PG_lru) || (p->flags & PG_mlocked) || folio_held(m, head))
        return 0;
    lru_del(&m->pm, head);
    p->flags &= ~PG_referenced;
    if (((p->flags & PG_swapcache) || add_to_swap(m, head)) && try_to_unmap(m, head, NULL)) {
        if (folio_dirty(m, head)) {
            if (pageout(m, head)) {
                putback(m, head);
                return 1;
            }
            /* Linux's write to swap is asynchronous: the folio, under
             * writeback when reclaim_folio_list looks, is kept, clean in the
             * swap cache, and rotated to the inactive tail when the write
             * ends, for the next reclaim to free (host-measured: a touch
             * after MADV_PAGEOUT is a minor fault, mincore says resident). */
            p->flags &= ~PG_active;
            lru_add_tail(&m->pm, head);
            m->vmstat.pgrotated += folio_nr_pages(&m->pm, head);
            return 1;
        }
        if (remove_mapping(m, head))
            return 1;
    }
    putback(m, head);
    return !m->pm.pages[head].mapcount;
}

/* ---- MADV_COLD ---- */

int madvise_cold_pte(vms_machine *m, pte_t *pte)
{
    pte_t e = *pte;
    if (!pte_present(e) || pte_special(e))
        return 0;
    uint32_t pfn = (uint32_t)pte_pfn(e);
    if (m->pm.pages[pfn].mapcount != 1)
        return 0; /* another mapping may use it: left alone */
    int young = (e & _PAGE_ACCESSED) != 0;
    *pte &= ~_PAGE_ACCESSED;
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    m->pm.pages[head].flags &= ~PG_referenced;
    folio_deactivate(m, head);
    return young;
}
