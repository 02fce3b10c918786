/*
 * vms_check: every invariant the model promises, checked from scratch (what
 * Linux's CONFIG_DEBUG_VM and validate_mm() check, and more): the VMA tree's
 * colours and gaps, list order, no overlap; page tables that map only inside
 * VMAs and never more than a VMA allows; each page's mapcount equal to the
 * PTEs that map it; every frame accounted for; every TLB and
 * paging-structure cache entry a CPU may use agreeing with the page tables.
 */
#include "internal.h"
#include "xarray.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

struct checker {
    vms_machine *m;
    FILE *report;
    int errors;
    int32_t *mapped;    /* per frame: PTEs found that map it */
    uint64_t tables;    /* table frames reached from pgds */
    uint64_t shmem_pages;
    uint64_t file_pages, file_dirty;
    uint32_t *swap_refs; /* per swap slot: swap entries found in PTEs */
};

static void fail(struct checker *ck, const char *fmt, ...)
{
    ck->errors++;
    if (!ck->report || ck->errors > 20)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("vms_check: ", ck->report);
    vfprintf(ck->report, fmt, ap);
    fputc('\n', ck->report);
    va_end(ap);
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a > b ? a : b;
    return m > c ? m : c;
}

static uint64_t check_gaps(struct checker *ck, struct rb_node *n)
{
    if (!n)
        return 0;
    struct vm_area_struct *vma = rb_entry(n, struct vm_area_struct, vm_rb);
    uint64_t l = check_gaps(ck, n->left), r = check_gaps(ck, n->right);
    uint64_t prev_end = vma->vm_prev ? vma->vm_prev->vm_end : 0;
    uint64_t want = max3(vma->vm_start - prev_end, l, r);
    if (vma->rb_subtree_gap != want)
        fail(ck, "vma %" PRIx64 ": subtree gap %" PRIx64 ", expected %" PRIx64, vma->vm_start,
             vma->rb_subtree_gap, want);
    return want;
}

/* The VMA's chain links it to its own anon_vma, and each link is in the
 * anon_vma's list of VMAs. */
static void check_anon_vma_chain(struct checker *ck, const struct vm_area_struct *vma)
{
    int own = 0;
    for (const struct anon_vma_chain *avc = vma->anon_vma_chain; avc; avc = avc->same_vma) {
        const struct anon_vma_chain *l = avc->anon_vma->head;
        while (l && l != avc)
            l = l->next;
        if (avc->vma != vma || !l)
            fail(ck, "vma %" PRIx64 ": broken anon_vma chain", vma->vm_start);
        own |= avc->anon_vma == vma->anon_vma;
    }
    if (vma->anon_vma && !own)
        fail(ck, "vma %" PRIx64 ": anon_vma not in its chain", vma->vm_start);
    if (!vma->anon_vma && vma->anon_vma_chain)
        fail(ck, "vma %" PRIx64 ": chain without an anon_vma", vma->vm_start);
}

static void check_vmas(struct checker *ck, struct mm_struct *mm)
{
    const char *why = NULL;
    if (rb_validate(&mm->mm_rb, &why) < 0)
        fail(ck, "mm %" PRIu64 ": red-black tree: %s", mm->ctx_id, why);
    check_gaps(ck, mm->mm_rb.node);
    int count = 0;
    struct rb_node *n = rb_first(&mm->mm_rb);
    const struct vm_area_struct *prev = NULL;
    for (const struct vm_area_struct *vma = mm->mmap; vma; prev = vma, vma = vma->vm_next) {
        count++;
        if (!n || rb_entry(n, struct vm_area_struct, vm_rb) != vma)
            fail(ck, "vma %" PRIx64 ": list and tree disagree", vma->vm_start);
        n = n ? rb_next(n) : NULL;
        if (vma->vm_prev != prev)
            fail(ck, "vma %" PRIx64 ": bad vm_prev", vma->vm_start);
        if (vma->vm_start >= vma->vm_end || (vma->vm_start | vma->vm_end) & ~PAGE_MASK ||
            vma->vm_end > mm->task_size)
            fail(ck, "vma %" PRIx64 "-%" PRIx64 ": bad bounds", vma->vm_start, vma->vm_end);
        if (prev && prev->vm_end > vma->vm_start)
            fail(ck, "vmas %" PRIx64 " and %" PRIx64 " overlap", prev->vm_start, vma->vm_start);
        if (vma->vm_mm != mm)
            fail(ck, "vma %" PRIx64 ": wrong mm", vma->vm_start);
        /* hugetlb: whole huge pages of its file, and nothing of its own. */
        if ((vma->vm_flags & VM_HUGETLB) &&
            (!hugetlb_aligned(vma->vm_start) || !hugetlb_aligned(vma->vm_end) ||
             !hugetlb_aligned(vma->vm_pgoff << PAGE_SHIFT) || vma->mapping || vma->anon_vma))
            fail(ck, "hugetlb vma %" PRIx64 ": not whole huge pages, or holds pages", vma->vm_start);
        check_anon_vma_chain(ck, vma);
        /* A special mapping ([vdso], [vvar]) is private and has its object. */
        if (vma->vm_name && (!vma->mapping || (vma->vm_flags & VM_SHARED)))
            fail(ck, "vma %" PRIx64 ": special mapping %s without its object", vma->vm_start,
                 vma->vm_name);
    }
    if (n)
        fail(ck, "mm %" PRIu64 ": tree has more VMAs than the list", mm->ctx_id);
    /* brk never goes below the heap's start, which is page-aligned. */
    const struct mm_exec_layout *x = &mm->exec;
    if (x->brk < x->start_brk || (x->start_brk & ~PAGE_MASK))
        fail(ck, "mm %" PRIu64 ": heap [%" PRIx64 ", %" PRIx64 ") is malformed", mm->ctx_id,
             x->start_brk, x->brk);
    if (count != mm->map_count)
        fail(ck, "mm %" PRIu64 ": map_count %d, list holds %d", mm->ctx_id, mm->map_count, count);
    if (mm->highest_vm_end != (prev ? prev->vm_end : 0))
        fail(ck, "mm %" PRIu64 ": highest_vm_end is stale", mm->ctx_id);
}

static void check_pte(struct checker *ck, struct mm_struct *mm, uint64_t va, pte_t e)
{
    const struct phys_mem *pm = &ck->m->pm;
    struct vm_area_struct *vma = find_vma(mm, va);
    if (!vma || vma->vm_start > va) {
        fail(ck, "pte for %" PRIx64 " outside any vma", va);
        return;
    }
    if (vma->vm_flags & VM_HUGETLB) {
        fail(ck, "pte for %" PRIx64 " in a hugetlb vma (the pool is empty)", va);
        return;
    }
    if (pte_is_guard(e)) {
        if (!vma->may_have_guards)
            fail(ck, "guard marker for %" PRIx64 " in a vma without guards", va);
        return;
    }
    if (pte_is_swap(e)) {
        uint64_t off = pte_swp_offset(e);
        const struct swap_info *si = &ck->m->swap;
        if (pte_swp_type(e) != 0 || off == 0 || off >= si->max || !swap_count(ck->m, off))
            fail(ck, "pte for %" PRIx64 " names swap slot %" PRIu64 " that is not in use", va,
                 off);
        else
            ck->swap_refs[off]++;
        if (!vma->anon_vma)
            fail(ck, "swap entry for %" PRIx64 " in a vma without anonymous memory", va);
        return;
    }
    if (!pte_present(e)) {
        fail(ck, "pte for %" PRIx64 " is neither present nor a known marker", va);
        return;
    }
    uint64_t pfn = pte_pfn(e);
    if (pfn >= pm->nframes) {
        fail(ck, "pte for %" PRIx64 ": pfn %" PRIx64 " beyond RAM", va, pfn);
        return;
    }
    if ((e & _PAGE_RW) && !(vma->vm_flags & VM_WRITE))
        fail(ck, "pte for %" PRIx64 " writable in a read-only vma", va);
    if ((e & _PAGE_PRESENT) && !(vma->vm_flags & VM_ACCESS_FLAGS))
        fail(ck, "pte for %" PRIx64 " present in a PROT_NONE vma", va);
    if (pte_special(e)) {
        if (pfn != pm->zero_pfn || (e & _PAGE_RW))
            fail(ck, "special pte for %" PRIx64 " is not the read-only zero page", va);
        return;
    }
    const struct page *p = pfn_to_page(pm, pfn);
    if (p->flags & (PG_buddy | PG_table | PG_reserved) || p->refcount <= 0)
        fail(ck, "pte for %" PRIx64 " maps frame %" PRIx64 " that is not a live page", va, pfn);
    if ((p->flags & (PG_shmem | PG_file)) && p->mapping != vma->mapping)
        fail(ck, "pte for %" PRIx64 " maps a page of another object", va);
    if ((p->flags & PG_file) && (e & _PAGE_RW) &&
        (!(vma->vm_flags & VM_SHARED) || !(p->flags & PG_dirty)))
        fail(ck, "pte for %" PRIx64 " lets a clean or private file page be written", va);
    ck->mapped[pfn]++;
}

static void check_table(struct checker *ck, struct mm_struct *mm, uint32_t pfn, int level,
                        uint64_t base)
{
    const struct phys_mem *pm = &ck->m->pm;
    ck->tables++;
    if (!(pm->pages[pfn].flags & PG_table))
        fail(ck, "frame %" PRIx32 " used as a level-%d table is not marked as one", pfn, level);
    const pte_t *t = table_of(pm, pfn);
    uint64_t span = 1ULL << TABLE_SHIFT(level);
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
        if (pte_none(t[i]))
            continue;
        if (level == 1)
            check_pte(ck, mm, base + i * span, t[i]);
        else if (!(t[i] & _PAGE_PRESENT) || pte_pfn(t[i]) >= pm->nframes)
            fail(ck, "bad level-%d entry %" PRIx64, level, t[i]);
        else
            check_table(ck, mm, (uint32_t)pte_pfn(t[i]), level - 1, base + i * span);
    }
}

static int count_shmem(void *arg, uint64_t index, uint32_t pfn)
{
    struct checker *ck = arg;
    const struct page *p = &ck->m->pm.pages[pfn];
    if (!(p->flags & PG_shmem) || p->index != index)
        fail(ck, "shmem page %" PRIx32 " has wrong flags or index", pfn);
    if (p->refcount != 1 + p->mapcount)
        fail(ck, "shmem page %" PRIx32 ": refcount %d, mapcount %d", pfn, p->refcount,
             p->mapcount);
    ck->shmem_pages++;
    return 0;
}

/* A page-cache folio: one aligned block of frames, holding aligned
 * consecutive indices of one object, every page cached, the readahead
 * marker on its head only, unread pages only as order 0. (Dirt is marked on
 * the whole folio; a truncation that cannot split it cleans the pages it
 * cuts off, as ext4 discards their buffers.) */
static void check_folio(struct checker *ck, uint32_t pfn, uint64_t index)
{
    const struct phys_mem *pm = &ck->m->pm;
    const struct page *p = &pm->pages[pfn];
    uint32_t head = folio_head_pfn(pm, pfn);
    const struct page *h = &pm->pages[head];
    if (!(p->flags & (PG_head | PG_tail)))
        return;
    if ((p->flags & PG_head) && (p->flags & PG_tail))
        fail(ck, "page %" PRIx32 " is a folio's head and tail", pfn);
    if (!(h->flags & PG_head) || h->order < 1 || h->order > MAX_ORDER || pfn - head >= (1u << h->order))
        fail(ck, "page %" PRIx32 ": its folio head %" PRIx32 " is no head of it", pfn, head);
    else if ((head & ((1u << h->order) - 1)) || (h->index & ((1ULL << h->order) - 1)))
        fail(ck, "folio %" PRIx32 " of order %u is not aligned", head, h->order);
    else if (h->mapping != p->mapping || h->index + (pfn - head) != index)
        fail(ck, "page %" PRIx32 " is out of place in its folio", pfn);
    else if ((p->flags ^ h->flags) & PG_unread)
        fail(ck, "page %" PRIx32 " differs from its folio in reading", pfn);
    else if ((p->flags & PG_tail) && (p->flags & PG_readahead))
        fail(ck, "page %" PRIx32 " carries a readahead marker inside its folio", pfn);
    else if (p->flags & PG_unread)
        fail(ck, "large folio %" PRIx32 " was never read", head);
    if (pfn == head && h->order <= MAX_ORDER)
        for (uint32_t i = 1; i < (1u << h->order); i++)
            if (xa_load(((const struct address_space *)h->mapping)->pages, index + i) != head + i)
                fail(ck, "folio %" PRIx32 ": page %u is not in the cache", head, i);
}

static int count_file_page(void *arg, uint64_t index, uint32_t pfn)
{
    struct checker *ck = arg;
    const struct page *p = &ck->m->pm.pages[pfn];
    if (!(p->flags & PG_file) || p->index != index)
        fail(ck, "file page %" PRIx32 " has wrong flags or index", pfn);
    if (p->refcount != 1 + p->mapcount)
        fail(ck, "file page %" PRIx32 ": refcount %d, mapcount %d", pfn, p->refcount,
             p->mapcount);
    if ((p->flags & PG_unread) && (p->mapcount || (p->flags & PG_dirty)))
        fail(ck, "file page %" PRIx32 " is mapped or dirty but was never read", pfn);
    check_folio(ck, pfn, index);
    const struct address_space *as = p->mapping;
    /* A dirty buffer needs its block. A page may be dirty and in a hole
     * without one: a large folio is dirty as a whole, and its pages stay
     * dirty when a truncate splits it; write-back writes nothing there. */
    if ((p->flags & PG_dirty_bh) && ext_status_of(&as->extents, index) == EXT_HOLE)
        fail(ck, "file page %" PRIx32 " has a dirty buffer in a hole: its block was never reserved",
             pfn);
    if ((p->flags & PG_mapped_bh) && ext_status_of(&as->extents, index) == EXT_HOLE)
        fail(ck, "block-mapped file page %" PRIx32 " lies in a hole", pfn);
    ck->file_pages++;
    ck->file_dirty += (p->flags & PG_dirty) != 0;
    return 0;
}

static void check_inodes(struct checker *ck)
{
    for (struct address_space *as = ck->m->inodes; as; as = as->next) {
        uint64_t dirty = ck->file_dirty;
        const char *bad = ext_check(&as->extents);
        if (bad)
            fail(ck, "inode %" PRIu64 ": %s", as->ino, bad);
        xa_for_each(as->pages, count_file_page, ck);
        if (ck->file_dirty - dirty != as->nrdirty)
            fail(ck, "inode %" PRIu64 ": nrdirty %" PRIu64 ", %" PRIu64 " dirty pages", as->ino,
                 as->nrdirty, ck->file_dirty - dirty);
        for (struct vm_area_struct *v = as->i_mmap; v; v = v->shared_next)
            if (v->mapping != as)
                fail(ck, "inode %" PRIu64 ": i_mmap holds a vma of another object", as->ino);
    }
}

/* Each shmem object is counted once, at its first VMA in machine order. */
/* A shmem page in swap: its slot is in use, named once by the object, and
 * the page is not in memory too. */
static int count_shmem_swap(void *arg, uint64_t index, uint32_t off)
{
    struct checker *ck = arg;
    (void)index;
    if (off == 0 || off >= ck->m->swap.max || !swap_count(ck->m, off))
        fail(ck, "shmem index %" PRIu64 " names swap slot %" PRIu32 " not in use", index, off);
    else
        ck->swap_refs[off]++;
    return 0;
}

static void check_shmem_objects(struct checker *ck)
{
    for (struct mm_struct *mm = ck->m->mms; mm; mm = mm->mm_next)
        for (struct vm_area_struct *v = mm->mmap; v; v = v->vm_next) {
            if (!v->mapping || v->mapping->kind != MAPPING_SHMEM)
                continue;
            int seen = 0;
            for (struct mm_struct *m2 = ck->m->mms; m2 && !seen; m2 = m2->mm_next)
                for (struct vm_area_struct *w = m2->mmap; w && !seen; w = w->vm_next) {
                    if (w == v)
                        goto first;
                    seen = w->mapping == v->mapping;
                }
        first:
            if (!seen) {
                xa_for_each(v->mapping->pages, count_shmem, ck);
                xa_for_each(v->mapping->swapped, count_shmem_swap, ck);
            }
        }
}

static int count_mapping(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg)
{
    (void)vma, (void)va, (void)pte;
    ++*(int *)arg;
    return 0;
}

/* Reverse mapping: from the frame, every PTE that maps it is found. */
static void check_rmap(struct checker *ck, uint64_t pfn, const struct page *p)
{
    if (!(p->flags & (PG_anon | PG_file | PG_shmem)) || p->mapcount < 1)
        return;
    int found = 0;
    rmap_walk(ck->m, (uint32_t)pfn, count_mapping, &found);
    if (found != p->mapcount)
        fail(ck, "frame %" PRIx64 ": rmap finds %d of its %d mappings", pfn, found, p->mapcount);
    if ((p->flags & PG_anon_exclusive) && p->mapcount != 1)
        fail(ck, "frame %" PRIx64 ": exclusive to one mm but mapped %d times", pfn, p->mapcount);
}

static void check_frames(struct checker *ck)
{
    const struct phys_mem *pm = &ck->m->pm;
    uint64_t free_frames = 0, anon = 0, reserved = 0, table = 0, shmem = 0, file = 0;
    for (uint64_t pfn = 0; pfn < pm->nframes; pfn++) {
        const struct page *p = &pm->pages[pfn];
        if (p->flags & PG_buddy) {
            free_frames += 1ULL << p->order;
            pfn += (1ULL << p->order) - 1;
            continue;
        }
        if (p->flags & PG_reserved)
            reserved++;
        else if (p->flags & PG_table)
            table++;
        else if (p->flags & PG_shmem)
            shmem++;
        else if (p->flags & PG_file)
            file++;
        else if (p->flags & (PG_anon | PG_swapcache))
            anon++;
        if (p->mapcount != ck->mapped[pfn])
            fail(ck, "frame %" PRIx64 ": mapcount %d but %d ptes map it", pfn, p->mapcount,
                 ck->mapped[pfn]);
        /* An anonymous page is held by its PTEs and, in the swap cache, once more. */
        int cached = (p->flags & PG_swapcache) != 0;
        if ((p->flags & (PG_anon | PG_swapcache)) &&
            ((p->mapcount < 1 && !cached) || p->refcount != p->mapcount + cached))
            fail(ck, "anon frame %" PRIx64 ": refcount %d, mapcount %d (leaked?)", pfn,
                 p->refcount, p->mapcount);
        check_rmap(ck, pfn, p);
    }
    if (free_frames != pm->nr_free)
        fail(ck, "free lists hold %" PRIu64 " frames, counter says %" PRIu64, free_frames,
             pm->nr_free);
    if (table != pm->nr_table || table != ck->tables)
        fail(ck, "%" PRIu64 " table frames, counter %" PRIu64 ", reachable %" PRIu64, table,
             pm->nr_table, ck->tables);
    if (shmem != ck->shmem_pages)
        fail(ck, "%" PRIu64 " shmem frames, %" PRIu64 " in live objects", shmem, ck->shmem_pages);
    if (file != ck->file_pages)
        fail(ck, "%" PRIu64 " file frames, %" PRIu64 " in page caches", file, ck->file_pages);
    uint64_t accounted = free_frames + anon + reserved + table + shmem + file;
    if (accounted != pm->nframes)
        fail(ck, "%" PRIu64 " of %" PRIu64 " frames accounted for", accounted, pm->nframes);
}

/* Each set's count of invalid ways, which replacement trusts, and its
 * fingerprints, which lookups trust: each valid way's is its tag's, each
 * invalid way's and the padding's TLB_FP_NONE. */
static void check_tlb_nfree(struct checker *ck, const struct cpu *c, const struct tlb *tl,
                            const char *name)
{
    for (uint64_t set = 0; tl->ways && set <= tl->set_mask; set++) {
        uint32_t n = 0;
        const uint8_t *fp = tl->fp + set * tl->fp_stride;
        for (unsigned w = 0; w < tl->fp_stride; w++) {
            uint64_t tag = w < tl->ways ? tl->tag[set * tl->ways + w] : TLB_INVALID;
            unsigned want = tag == TLB_INVALID ? TLB_FP_NONE : tlb_fp(tag);
            if (fp[w] != want)
                fail(ck, "cpu %u %s: set %" PRIu64 " way %u's fingerprint is %#x, not %#x",
                     c->id, name, set, w, fp[w], want);
        }
        for (unsigned w = 0; w < tl->ways; w++)
            n += tl->tag[set * tl->ways + w] == TLB_INVALID;
        if (n != tl->nfree[set])
            fail(ck, "cpu %u %s: set %" PRIu64 " has %u invalid ways, counted %u", c->id, name,
                 set, n, tl->nfree[set]);
    }
}

/* A kept recency order (the L2 TLB's): each set's list runs from its oldest
 * to its newest way through every way once, linked both ways, and its valid
 * entries' clocks rise along it and end in their stamps; the ITLB's hints
 * name ways of their sets. */
static void check_tlb_order(struct checker *ck, const struct cpu *c, const struct tlb *tl,
                            const char *name)
{
    for (uint64_t set = 0; tl->mru && set <= tl->set_mask; set++)
        if (tl->mru[set] >= tl->ways)
            fail(ck, "cpu %u %s: set %" PRIu64 "'s hint names way %u", c->id, name, set,
                 tl->mru[set]);
    if (!tl->when)
        return;
    for (uint64_t set = 0; set <= tl->set_mask; set++) {
        size_t base = set * tl->ways;
        unsigned w = tl->oldest[set], steps = 1;
        uint64_t last = 0;
        for (;; steps++) {
            if (w >= tl->ways || steps > tl->ways) {
                fail(ck, "cpu %u %s: set %" PRIu64 "'s recency order is broken", c->id, name, set);
                break;
            }
            if (tl->tag[base + w] != TLB_INVALID) {
                if (tl->when[base + w] < last || tl->when[base + w] > c->tick ||
                    (uint32_t)tl->when[base + w] != tl->e[base + w].lru)
                    fail(ck, "cpu %u %s: set %" PRIu64 " way %u is out of recency order", c->id,
                         name, set, w);
                last = tl->when[base + w];
            }
            if (w == tl->newest[set])
                break;
            unsigned next = tl->newer[base + w];
            if (next >= tl->ways || tl->older[base + next] != w) {
                fail(ck, "cpu %u %s: set %" PRIu64 "'s recency links disagree", c->id, name, set);
                break;
            }
            w = next;
        }
        if (steps != tl->ways)
            fail(ck, "cpu %u %s: set %" PRIu64 "'s recency order holds %u of %u ways", c->id, name,
                 set, steps, tl->ways);
    }
}

static void check_tlb(struct checker *ck, struct cpu *c, struct tlb *tl, const char *name)
{
    struct mm_struct *mm = c->loaded_mm;
    size_t n = (tl->set_mask + 1) * tl->ways;
    for (size_t i = 0; i < n; i++) {
        const struct tlb_entry *e = &tl->e[i];
        uint64_t tag = tl->tag[i];
        if (tag == TLB_INVALID)
            continue;
        for (size_t j = i - i % tl->ways; j < i; j++)
            if (tl->tag[j] == tag)
                fail(ck, "cpu %u %s: two entries for one page in a set", c->id, name);
        if ((tag & 0xfff) != c->pcid)
            continue;
        uint64_t va = (tag >> 12) << PAGE_SHIFT;
        pte_t *pte = mm ? pte_offset(mm, va) : NULL;
        if (!pte || !(*pte & _PAGE_PRESENT) ||
            pfn_to_virt(&ck->m->pm, pte_pfn(*pte)) != e->host) {
            fail(ck, "cpu %u %s: stale entry for %" PRIx64, c->id, name, va);
            continue;
        }
        if ((e->perm & TLB_W) && !(*pte & _PAGE_RW))
            fail(ck, "cpu %u %s: entry for %" PRIx64 " allows writes the pte forbids", c->id,
                 name, va);
        if ((e->perm & TLB_X) && (*pte & _PAGE_NX))
            fail(ck, "cpu %u %s: entry for %" PRIx64 " allows fetches the pte forbids", c->id,
                 name, va);
    }
}

/* The mm whose context `pcid` names on CPU c, if the CPU may use the
 * context's cached entries without flushing them first; else NULL (a dead
 * context, or one whose mm changed since: it is flushed before it runs). */
static struct mm_struct *usable_context(vms_machine *m, const struct cpu *c, unsigned pcid)
{
    if (!m->cfg.pcid) {
        struct mm_struct *mm = c->loaded_mm;
        return mm && c->tlb_gen == mm->tlb_gen ? mm : NULL;
    }
    if (pcid == 0 || pcid > TLB_NR_DYN_ASIDS)
        return NULL;
    for (struct mm_struct *mm = m->mms; mm; mm = mm->mm_next)
        if (mm->ctx_id == c->asid[pcid - 1].ctx_id)
            return c->asid[pcid - 1].tlb_gen == mm->tlb_gen ? mm : NULL;
    return NULL;
}

/* One paging-structure cache entry against mm's tables: the entry of `level`
 * for va is present, points to a live table, the one cached, with the rights
 * cached (R/W and U/S of the entries above ANDed, XD ORed). */
static void check_pwc_entry(struct checker *ck, const struct cpu *c, struct mm_struct *mm,
                            int level, uint64_t va, const struct tlb_entry *e)
{
    static const char *const cache[] = {"PDE", "PDPTE", "PML4E"};
    const char *name = cache[level - PWC_LOWEST];
    const struct phys_mem *pm = &ck->m->pm;
    const pte_t *table = table_of(pm, mm->pgd);
    uint64_t allow = _PAGE_RW | _PAGE_USER, nx = 0;
    for (int l = pgtable_levels(mm); l >= level; l--) {
        pte_t pe = table[table_index(va, l)];
        if (!(pe & _PAGE_PRESENT)) {
            fail(ck, "cpu %u %s cache: entry for %" PRIx64 " names a table no longer linked",
                 c->id, name, va);
            return;
        }
        allow &= pe;
        nx |= pe & _PAGE_NX;
        table = table_of(pm, pte_pfn(pe));
    }
    unsigned rights = (unsigned)(allow & (_PAGE_RW | _PAGE_USER)) | (nx ? PWC_NX : 0);
    uint64_t pfn = (uint64_t)((const uint8_t *)e->host - pm->ram) >> PAGE_SHIFT;
    if ((const uint8_t *)table != e->host || !(pm->pages[pfn].flags & PG_table))
        fail(ck, "cpu %u %s cache: entry for %" PRIx64 " points to another table (0x%" PRIx64 ")",
             c->id, name, va, pfn << PAGE_SHIFT);
    else if (e->perm != rights)
        fail(ck, "cpu %u %s cache: entry for %" PRIx64 " holds rights %#x, the tables %#x", c->id,
             name, va, e->perm, rights);
}

/* Every paging-structure cache entry a CPU may use matches the tables: none
 * points to a freed table or to one since unlinked. */
static void check_pwc(struct checker *ck, const struct cpu *c)
{
    for (int level = PWC_LOWEST; level < PWC_LOWEST + PWC_NLEVELS; level++) {
        const struct tlb *tl = &c->pwc.level[level - PWC_LOWEST];
        size_t n = tl->ways ? (tl->set_mask + 1) * tl->ways : 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t tag = tl->tag[i];
            if (tag == TLB_INVALID)
                continue;
            for (size_t j = i - i % tl->ways; j < i; j++)
                if (tl->tag[j] == tag)
                    fail(ck, "cpu %u: two paging-structure cache entries for one prefix", c->id);
            struct mm_struct *mm = usable_context(ck->m, c, (unsigned)(tag & 0xfff));
            if (mm)
                check_pwc_entry(ck, c, mm, level, (tag >> 12) << TABLE_SHIFT(level), &tl->e[i]);
            else if (!ck->m->cfg.pcid && !c->loaded_mm)
                fail(ck, "cpu %u: paging-structure cache entries with no mm loaded", c->id);
        }
    }
}

/* The LRU lists: well linked, counted right, each folio on the list its
 * flags name; every anonymous, shmem and page-cache folio on one. */
static void check_lru(struct checker *ck)
{
    const struct phys_mem *pm = &ck->m->pm;
    uint64_t on_lists = 0;
    for (int l = 0; l < NR_LRU_LISTS; l++) {
        uint64_t pages = 0, n = 0;
        uint32_t prev = PFN_NONE;
        for (uint32_t pfn = pm->lru[l].head; pfn != PFN_NONE && n <= pm->nframes;
             pfn = pm->pages[pfn].next, n++) {
            const struct page *p = &pm->pages[pfn];
            if (p->prev != prev)
                fail(ck, "lru %d: frame %" PRIx32 " has a broken back link", l, pfn);
            if (!(p->flags & PG_lru) || (p->flags & PG_tail) || (int)folio_lru_list(p) != l)
                fail(ck, "lru %d: frame %" PRIx32 " (flags %x) does not belong", l, pfn,
                     p->flags);
            if ((p->flags & PG_mlocked) && !(p->flags & PG_unevictable))
                fail(ck, "frame %" PRIx32 ": mlocked but evictable", pfn);
            pages += folio_nr_pages(pm, pfn);
            prev = pfn;
        }
        if (prev != pm->lru[l].tail)
            fail(ck, "lru %d: the tail is not the last folio", l);
        if (pages != pm->lru[l].nr_pages)
            fail(ck, "lru %d: %" PRIu64 " pages counted, %" PRIu64 " found", l,
                 pm->lru[l].nr_pages, pages);
        on_lists += n;
    }
    uint64_t folios = 0;
    for (uint64_t pfn = 0; pfn < pm->nframes; pfn++) {
        const struct page *p = &pm->pages[pfn];
        if ((p->flags & (PG_anon | PG_shmem | PG_file | PG_swapcache)) &&
            !(p->flags & (PG_tail | PG_buddy))) {
            folios++;
            if (!(p->flags & PG_lru))
                fail(ck, "frame %" PRIx64 " (flags %x) is on no LRU list", pfn, p->flags);
        }
    }
    if (folios != on_lists)
        fail(ck, "%" PRIu64 " folios, %" PRIu64 " on the LRU lists", folios, on_lists);
}

/* Every slot's count is the swap entries naming it, plus the swap cache's
 * flag exactly when the cache holds a page for it, which knows its slot. */
static void check_swap(struct checker *ck)
{
    vms_machine *m = ck->m;
    const struct swap_info *si = &m->swap;
    uint64_t inuse = 0;
    for (uint64_t off = 1; off < si->max; off++) {
        unsigned count = swap_count(m, off);
        uint32_t pfn = swap_cache_pfn(m, off);
        int has_cache = (si->map[off] & SWAP_HAS_CACHE) != 0;
        inuse += si->map[off] != 0;
        if (count != ck->swap_refs[off])
            fail(ck, "swap slot %" PRIu64 ": count %u, %u swap entries name it", off, count,
                 ck->swap_refs[off]);
        if (has_cache != (pfn != PFN_NONE))
            fail(ck, "swap slot %" PRIu64 ": cache flag and swap cache disagree", off);
        if (pfn != PFN_NONE && (pfn >= m->pm.nframes ||
                                !(m->pm.pages[pfn].flags & PG_swapcache) ||
                                m->pm.pages[pfn].swap_off != off))
            fail(ck, "swap slot %" PRIu64 ": its cached frame does not know it", off);
        if (pfn != PFN_NONE && !count && !m->pm.pages[pfn].mapcount &&
            !(m->pm.pages[pfn].flags & PG_lru))
            fail(ck, "swap slot %" PRIu64 ": an unused page left in the cache", off);
    }
    if (inuse != si->inuse || inuse != m->nr_swap_used)
        fail(ck, "%" PRIu64 " swap slots in use, counted %" PRIu64, inuse, si->inuse);
    uint64_t cached = 0;
    for (uint64_t off = 1; off < si->max; off++)
        cached += swap_cache_pfn(m, off) != PFN_NONE;
    if (cached != si->nr_cache)
        fail(ck, "%" PRIu64 " pages in the swap cache, counted %" PRIu64, cached, si->nr_cache);
    /* Every swap write reclaim started has ended by the time it returns. */
    if (m->writeback.n)
        fail(ck, "%zu swap writes in flight outside reclaim", m->writeback.n);
    for (uint64_t pfn = 0; pfn < m->pm.nframes; pfn++) {
        const struct page *p = &m->pm.pages[pfn];
        if (p->flags & (PG_writeback | PG_reclaim))
            fail(ck, "frame %" PRIx64 ": under writeback outside reclaim", pfn);
        if (p->flags & PG_locked)
            fail(ck, "frame %" PRIx64 ": locked by a readahead batch outside readahead", pfn);
        if ((p->flags & PG_swapcache) && !(p->flags & PG_buddy) &&
            (p->swap_off >= si->max || swap_cache_pfn(m, p->swap_off) != pfn))
            fail(ck, "frame %" PRIx64 ": in the swap cache under a slot that does not hold it",
                 pfn);
    }
}

/* The OOM killer's work is done: every killed task's memory is reaped, no
 * live mm is a victim, no CPU runs a killed task. */
static void check_oom_victims(struct checker *ck)
{
    vms_machine *m = ck->m;
    for (const struct vms_task *t = m->tasks; t; t = t->next) {
        if (t->oom_killed && (t->mm != &m->exited_mm || t->files))
            fail(ck, "task %d: killed but its memory not reaped", t->pid);
        if (!t->oom_killed && t->mm == &m->exited_mm)
            fail(ck, "task %d: lost its mm without being killed", t->pid);
    }
    for (const struct mm_struct *mm = m->mms; mm; mm = mm->mm_next)
        if (mm->oom_victim)
            fail(ck, "an OOM victim's mm outlived the reaper");
    for (unsigned i = 0; i < m->ncpus; i++)
        if (m->cpus[i].curr && m->cpus[i].curr->oom_killed)
            fail(ck, "cpu %u runs a killed task", i);
}

int vms_check(vms_machine *m, FILE *report)
{
    m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(m);
    struct checker ck = {.m = m, .report = report};
    ck.mapped = calloc(m->pm.nframes, sizeof(*ck.mapped));
    ck.swap_refs = calloc(m->swap.max ? m->swap.max : 1, sizeof(*ck.swap_refs));
    if (!ck.mapped || !ck.swap_refs) {
        free(ck.mapped);
        free(ck.swap_refs);
        if (report)
            fputs("vms_check: out of memory\n", report);
        return -1;
    }
    for (struct mm_struct *mm = m->mms; mm; mm = mm->mm_next) {
        check_vmas(&ck, mm);
        check_table(&ck, mm, mm->pgd, pgtable_levels(mm), 0);
    }
    check_shmem_objects(&ck);
    check_inodes(&ck);
    check_oom_victims(&ck);
    check_lru(&ck);
    check_swap(&ck);
    check_frames(&ck);
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct cpu *c = &m->cpus[i];
        if (c->loaded_mm && !(c->loaded_mm->cpumask & (1ULL << i)))
            fail(&ck, "cpu %u runs an mm whose cpumask lacks it", i);
        if (c->running_mm && c->running_mm != c->loaded_mm)
            fail(&ck, "cpu %u runs an mm it has not loaded", i);
        /* A lazy CPU may hold what skipped shootdowns would have removed;
         * it flushes before running the mm again. */
        if (!c->running_mm && c->loaded_mm &&
            (c->pcid ? c->asid[c->pcid - 1].tlb_gen : c->tlb_gen) != c->loaded_mm->tlb_gen)
            continue;
        check_tlb(&ck, c, &c->dtlb, "dtlb");
        check_tlb(&ck, c, &c->itlb, "itlb");
        check_tlb(&ck, c, &c->stlb, "stlb");
    }
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct cpu *c = &m->cpus[i];
        check_tlb_nfree(&ck, c, &c->dtlb, "dtlb");
        check_tlb_nfree(&ck, c, &c->itlb, "itlb");
        check_tlb_nfree(&ck, c, &c->stlb, "stlb");
        check_tlb_order(&ck, c, &c->itlb, "itlb");
        check_tlb_order(&ck, c, &c->stlb, "stlb");
        for (int l = 0; l < PWC_NLEVELS; l++)
            check_tlb_nfree(&ck, c, &c->pwc.level[l], "paging-structure cache");
        check_pwc(&ck, c);
    }
    free(ck.mapped);
    free(ck.swap_refs);
    return ck.errors ? -1 : 0;
}
