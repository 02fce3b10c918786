/*
 * The swap cache and swap-in readahead, as Linux's mm/swap_state.c: a page
 * on its way to or from a swap slot stays findable by the slot, so that a
 * fault on a swap entry whose page is still (or already) in memory takes it
 * without reading (a minor fault), and every process that shares the slot
 * after fork finds the same page. A read from the swap area brings in the
 * aligned window around the slot (Linux's swap_cluster_readahead): up to
 * 2^page_cluster slots in use, the window sized by how many pages of the
 * last one were used (one page after a random fault, the whole window for a
 * sequential one); the pages read ahead carry the readahead mark until a
 * fault finds them.
 * Simplifications: order-0 pages only; the readahead hits are counted for
 * the machine (Linux counts them for the system too, but with per-VMA
 * readahead on non-rotating disks: vmsim models the cluster readahead a
 * swap file on a rotating disk gets).
 */
#include "internal.h"

#include <errno.h>

void add_to_swap_cache(vms_machine *m, uint32_t pfn, uint64_t off)
{
    struct page *p = &m->pm.pages[pfn];
    p->flags |= PG_swapcache;
    p->swap_off = (uint32_t)off;
    m->swap.cache[off] = pfn + 1;
    m->swap.nr_cache++;
    get_page(&m->pm, pfn); /* the cache's reference */
}

void delete_from_swap_cache(vms_machine *m, uint32_t pfn)
{
    struct page *p = &m->pm.pages[pfn];
    uint64_t off = p->swap_off;
    m->swap.cache[off] = 0;
    m->swap.nr_cache--;
    p->flags &= ~(PG_swapcache | PG_readahead);
    p->swap_off = 0;
    swap_put_cache(m, off);
}

int add_to_swap(vms_machine *m, uint32_t pfn)
{
    uint64_t off = get_swap_page(m);
    if (!off)
        return 0;
    add_to_swap_cache(m, pfn, off);
    m->pm.pages[pfn].flags |= PG_dirty; /* not on the disk yet */
    return 1;
}

uint32_t lookup_swap_cache(vms_machine *m, uint64_t off)
{
    uint32_t pfn = swap_cache_pfn(m, off);
    if (pfn != PFN_NONE && (m->pm.pages[pfn].flags & PG_readahead)) {
        m->pm.pages[pfn].flags &= ~PG_readahead;
        m->swap.ra_hits++;
    }
    return pfn;
}

/* A page for slot off, read into the swap cache; PFN_NONE when out of
 * memory or when the slot is free or already cached. */
static uint32_t read_swap_cache_async(vms_machine *m, uint64_t off, enum gfp gfp, const char *why)
{
    if (!m->swap.map[off] || m->swap.map[off] == SWAP_MAP_BAD ||
        m->swap.cache[off])
        return PFN_NONE;
    uint32_t pfn = alloc_pages_gfp(m, 0, gfp);
    if (pfn == PFN_NONE)
        return PFN_NONE;
    /* The allocation may have reclaimed: another path may have read it. */
    if (!m->swap.map[off] || m->swap.cache[off]) {
        free_pages(&m->pm, pfn, 0);
        return PFN_NONE;
    }
    if (swap_readpage(m, pfn, off)) {
        free_pages(&m->pm, pfn, 0);
        return PFN_NONE;
    }
    trace_event(m, &(struct vms_event){.kind = VMS_EV_SWAP_IN, .pa = (uint64_t)pfn << PAGE_SHIFT,
                                       .b = off, .detail = why});
    m->swap.map[off] |= SWAP_HAS_CACHE;
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = off << PAGE_SHIFT,
                                       .pa = (uint64_t)pfn << PAGE_SHIFT, .detail = "swap cache"});
    add_to_swap_cache(m, pfn, off);
    put_page(&m->pm, pfn); /* the cache's reference is the only one */
    workingset_refault(m, pfn, m->swap.shadow[off]); /* recently out: back active */
    m->swap.shadow[off] = 0;
    lru_add(&m->pm, pfn); /* swap-backed: the anon lists */
    return pfn;
}

/* Linux's __swapin_nr_pages: two hits more than the last window, rounded
 * up to a power of two from 4; one page after a fault far from the last;
 * never less than half the last window; at most 2^page_cluster. */
static unsigned swapin_nr_pages(vms_machine *m, uint64_t off)
{
    struct swap_info *si = &m->swap;
    unsigned max_pages = 1u << m->cfg.page_cluster;
    if (max_pages <= 1)
        return 1;
    unsigned hits = si->ra_hits;
    si->ra_hits = 0;
    unsigned pages = hits + 2;
    if (pages == 2) {
        if (off != si->ra_prev_offset + 1 && off != si->ra_prev_offset - 1)
            pages = 1;
    } else {
        unsigned roundup = 4;
        while (roundup < pages)
            roundup <<= 1;
        pages = roundup;
    }
    if (pages > max_pages)
        pages = max_pages;
    if (pages < si->ra_last_pages / 2)
        pages = si->ra_last_pages / 2;
    if (!hits)
        si->ra_prev_offset = off;
    si->ra_last_pages = pages;
    return pages;
}

uint32_t swapin_readahead(vms_machine *m, uint64_t off)
{
    uint64_t mask = swapin_nr_pages(m, off) - 1;
    if (mask) {
        uint64_t start = off & ~mask, end = off | mask;
        if (!start)
            start = 1; /* the header */
        if (end >= m->swap.max)
            end = m->swap.max - 1;
        for (uint64_t o = start; o <= end; o++) {
            if (o == off)
                continue;
            uint32_t pfn = read_swap_cache_async(m, o, GFP_NORETRY, "readahead");
            if (pfn != PFN_NONE)
                m->pm.pages[pfn].flags |= PG_readahead;
        }
    }
    uint32_t pfn = swap_cache_pfn(m, off);
    return pfn != PFN_NONE ? pfn : read_swap_cache_async(m, off, GFP_USER, "fault");
}
