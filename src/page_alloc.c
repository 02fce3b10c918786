/*
 * Physical memory, as Linux's mm/page_alloc.c manages it: RAM is an array of
 * 4 KiB frames, each described by a struct page, handed out by a binary buddy
 * allocator (orders 0..MAX_ORDER) so that 2 MiB blocks exist for huge pages.
 *
 * The RAM and the struct page array are one host reservation each, made with
 * MAP_NORESERVE: the host backs a frame only when it is first touched, so 64 GiB
 * of simulated RAM costs nothing until used. The RAM asks the host for
 * transparent huge pages (MADV_HUGEPAGE): every access and page walk reads
 * it, and 2 MiB host pages spare those reads most of the host's own TLB
 * misses (a speed matter only: what the machine does is the same without).
 * A large folio is one allocated block: its first frame carries PG_head and
 * the order, the others PG_tail and the first frame's number.
 * The LRU lists of reclaim (src/vmscan.c) are kept here, since freeing a
 * folio takes it off its list.
 * Simplifications: one zone, one node, no per-CPU page lists (the
 * watermarks are src/vmscan.c's);
 * references are counted per page and a folio's block is freed when none of
 * its pages has one left (Linux counts them on the folio: the sum is its
 * refcount).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#endif
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static void *reserve(uint64_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void free_list_add(struct phys_mem *pm, uint32_t pfn, unsigned order)
{
    struct page *p = &pm->pages[pfn];
    uint32_t head = pm->free_head[order];
    p->flags = PG_buddy;
    p->order = order;
    p->prev = PFN_NONE;
    p->next = head;
    if (head != PFN_NONE)
        pm->pages[head].prev = pfn;
    pm->free_head[order] = pfn;
}

static void free_list_del(struct phys_mem *pm, uint32_t pfn, unsigned order)
{
    struct page *p = &pm->pages[pfn];
    if (p->prev != PFN_NONE)
        pm->pages[p->prev].next = p->next;
    else
        pm->free_head[order] = p->next;
    if (p->next != PFN_NONE)
        pm->pages[p->next].prev = p->prev;
    p->flags = 0;
}

/* The simulated RAM: huge host pages where the host gives them (its THP
 * setting "madvise" or "always"); a refusal changes nothing but speed. */
static void *reserve_ram(uint64_t bytes)
{
    void *p = reserve(bytes);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

int phys_mem_init(struct phys_mem *pm, uint64_t bytes)
{
    memset(pm, 0, sizeof(*pm));
    pm->nframes = bytes >> PAGE_SHIFT;
    if (pm->nframes < 16 || pm->nframes >= PFN_NONE)
        return -EINVAL;
    pm->ram = reserve_ram(pm->nframes << PAGE_SHIFT);
    pm->pages = reserve(pm->nframes * sizeof(struct page));
    if (!pm->ram || !pm->pages) {
        phys_mem_destroy(pm);
        return -ENOMEM;
    }
    for (unsigned o = 0; o <= MAX_ORDER; o++)
        pm->free_head[o] = PFN_NONE;
    for (unsigned l = 0; l < NR_LRU_LISTS; l++)
        pm->lru[l] = (struct lru_head){.head = PFN_NONE, .tail = PFN_NONE};
    /* Largest aligned blocks first, pushed from the top so that the lowest
     * frames are handed out first: addresses read naturally in a demo. */
    uint64_t pfn = pm->nframes;
    while (pfn > 0) {
        unsigned order = MAX_ORDER;
        while ((pfn & ((1ULL << order) - 1)) != 0 || pfn < (1ULL << order))
            order--;
        pfn -= 1ULL << order;
        free_list_add(pm, (uint32_t)pfn, order);
    }
    pm->nr_free = pm->nframes;
    /* Frame 0 stays reserved so that a zero PFN never names real memory. */
    uint32_t f0 = alloc_pages(pm, 0);
    pm->pages[f0].flags = PG_reserved;
    pm->zero_pfn = alloc_zeroed_page(pm);
    pm->pages[pm->zero_pfn].flags = PG_reserved;
    return 0;
}

void phys_mem_destroy(struct phys_mem *pm)
{
    if (pm->ram)
        munmap(pm->ram, pm->nframes << PAGE_SHIFT);
    if (pm->pages)
        munmap(pm->pages, pm->nframes * sizeof(struct page));
    pm->ram = NULL;
    pm->pages = NULL;
}

uint32_t alloc_pages(struct phys_mem *pm, unsigned order)
{
    unsigned o = order;
    while (o <= MAX_ORDER && pm->free_head[o] == PFN_NONE)
        o++;
    if (o > MAX_ORDER)
        return PFN_NONE;
    uint32_t pfn = pm->free_head[o];
    free_list_del(pm, pfn, o);
    /* Split: keep the lower half, return the upper halves to the free lists. */
    while (o > order) {
        o--;
        free_list_add(pm, pfn + (1u << o), o);
    }
    for (uint32_t i = 0; i < (1u << order); i++)
        pm->pages[pfn + i] = (struct page){.refcount = 1};
    pm->nr_free -= 1ULL << order;
    return pfn;
}

void free_pages(struct phys_mem *pm, uint32_t pfn, unsigned order)
{
    pm->nr_free += 1ULL << order;
    for (uint32_t i = 0; i < (1u << order); i++)
        pm->pages[pfn + i] = (struct page){0};
    /* Coalesce with the buddy while it is a free block of the same order. */
    while (order < MAX_ORDER) {
        uint32_t buddy = pfn ^ (1u << order);
        if (buddy >= pm->nframes)
            break;
        struct page *b = &pm->pages[buddy];
        if (!(b->flags & PG_buddy) || b->order != order)
            break;
        free_list_del(pm, buddy, order);
        pfn &= ~(1u << order);
        order++;
    }
    free_list_add(pm, pfn, order);
}

uint32_t alloc_zeroed_page(struct phys_mem *pm)
{
    uint32_t pfn = alloc_pages(pm, 0);
    if (pfn != PFN_NONE)
        memset(pfn_to_virt(pm, pfn), 0, PAGE_SIZE);
    return pfn;
}

/* Links pfn into list l after frame at (towards the tail); at PFN_NONE: as the head. */
static void lru_link_after(struct phys_mem *pm, enum lru_list l, uint32_t at, uint32_t pfn)
{
    struct lru_head *lh = &pm->lru[l];
    struct page *p = &pm->pages[pfn];
    uint32_t next = at == PFN_NONE ? lh->head : pm->pages[at].next;
    p->prev = at;
    p->next = next;
    if (at == PFN_NONE)
        lh->head = pfn;
    else
        pm->pages[at].next = pfn;
    if (next == PFN_NONE)
        lh->tail = pfn;
    else
        pm->pages[next].prev = pfn;
    p->flags |= PG_lru;
    lh->nr_pages += folio_nr_pages(pm, pfn);
}

void lru_add(struct phys_mem *pm, uint32_t pfn)
{
    lru_link_after(pm, folio_lru_list(&pm->pages[pfn]), PFN_NONE, pfn);
}

void lru_add_tail(struct phys_mem *pm, uint32_t pfn)
{
    enum lru_list l = folio_lru_list(&pm->pages[pfn]);
    lru_link_after(pm, l, pm->lru[l].tail, pfn);
}

void lru_del(struct phys_mem *pm, uint32_t pfn)
{
    struct page *p = &pm->pages[pfn];
    struct lru_head *lh = &pm->lru[folio_lru_list(p)];
    if (p->prev != PFN_NONE)
        pm->pages[p->prev].next = p->next;
    else
        lh->head = p->next;
    if (p->next != PFN_NONE)
        pm->pages[p->next].prev = p->prev;
    else
        lh->tail = p->prev;
    p->flags &= ~PG_lru;
    lh->nr_pages -= folio_nr_pages(pm, pfn);
}

#define LRU_FLAGS (PG_lru | PG_active | PG_referenced | PG_unevictable | PG_mlocked)

void folio_set_order(struct phys_mem *pm, uint32_t pfn, unsigned order)
{
    uint32_t old_head = folio_head_pfn(pm, pfn);
    int joins = old_head != pfn && (pm->pages[old_head].flags & PG_lru);
    struct page *head = &pm->pages[pfn];
    head->flags &= ~(PG_head | PG_tail);
    head->order = order;
    if (order)
        head->flags |= PG_head;
    for (uint32_t i = 1; i < (1u << order); i++) {
        struct page *tail = &pm->pages[pfn + i];
        tail->flags = (tail->flags & ~PG_head) | PG_tail;
        tail->compound_head = pfn;
        tail->order = 0;
    }
    if (joins) {
        uint32_t flags = pm->pages[old_head].flags & LRU_FLAGS & ~PG_lru;
        head->flags |= flags;
        /* The old folio's count shrinks by what leaves it; the list's total stays. */
        pm->lru[folio_lru_list(head)].nr_pages -= 1u << order;
        lru_link_after(pm, folio_lru_list(head), old_head, pfn);
    }
}

void put_page(struct phys_mem *pm, uint32_t pfn)
{
    struct page *p = &pm->pages[pfn];
    if (p->flags & PG_reserved)
        return;
    if (--p->refcount != 0)
        return;
    uint32_t head = pfn;
    unsigned order = 0;
    if (p->flags & (PG_head | PG_tail)) {
        head = folio_head_pfn(pm, pfn);
        order = folio_order(pm, pfn);
        for (uint32_t i = 0; i < (1u << order); i++)
            if (pm->pages[head + i].refcount)
                return;
    }
    if (pm->pages[head].flags & PG_lru)
        lru_del(pm, head);
    if (pm->freed)
        pm->freed(pm, head, order, pm->pages[head].flags);
    free_pages(pm, head, order);
}

/* ---- introspection ---- */

const char *vms_frame_owner_name(enum vms_frame_owner o)
{
    static const char *const names[VMS_FRAME_NOWNERS] = {
        [VMS_FRAME_FREE] = "free",         [VMS_FRAME_RESERVED] = "reserved",
        [VMS_FRAME_ZERO] = "zero",         [VMS_FRAME_PGTABLE] = "pgtable",
        [VMS_FRAME_ANON] = "anon",         [VMS_FRAME_PAGE_CACHE] = "page-cache",
        [VMS_FRAME_SHMEM] = "shmem",       [VMS_FRAME_SWAP_CACHE] = "swap-cache",
        [VMS_FRAME_KERNEL] = "kernel",
    };
    return (unsigned)o < VMS_FRAME_NOWNERS ? names[o] : "unknown";
}

uint64_t vms_frame_count(vms_machine *m) { return m->pm.nframes; }

/* The free block holding pfn: its first frame, or PFN_NONE when pfn is allocated.
 * Only a block's first frame carries PG_buddy, so look at each aligned start. */
static uint32_t free_block_of(const struct phys_mem *pm, uint32_t pfn)
{
    for (unsigned order = 0; order <= MAX_ORDER; order++) {
        uint32_t start = pfn & ~((1u << order) - 1);
        const struct page *p = &pm->pages[start];
        if ((p->flags & PG_buddy) && p->order >= order)
            return start;
    }
    return PFN_NONE;
}

static enum vms_frame_owner owner_of(const struct phys_mem *pm, uint32_t pfn, uint32_t hflags)
{
    if (pfn == pm->zero_pfn)
        return VMS_FRAME_ZERO;
    if (hflags & PG_reserved)
        return VMS_FRAME_RESERVED;
    if (hflags & PG_table)
        return VMS_FRAME_PGTABLE;
    if (hflags & PG_swapcache)
        return VMS_FRAME_SWAP_CACHE;
    if (hflags & PG_shmem)
        return VMS_FRAME_SHMEM;
    if (hflags & PG_anon)
        return VMS_FRAME_ANON;
    if (hflags & PG_file)
        return VMS_FRAME_PAGE_CACHE;
    return VMS_FRAME_KERNEL;
}

int vms_frame_info(vms_machine *m, uint64_t pfn, struct vms_frame_info *fi)
{
    const struct phys_mem *pm = &m->pm;
    if (pfn >= pm->nframes)
        return -EINVAL;
    memset(fi, 0, sizeof(*fi));
    uint32_t block = free_block_of(pm, (uint32_t)pfn);
    if (block != PFN_NONE) {
        fi->owner = VMS_FRAME_FREE;
        fi->head = block;
        fi->order = pm->pages[block].order;
        return 0;
    }
    const struct page *p = &pm->pages[pfn];
    uint32_t head = folio_head_pfn(pm, (uint32_t)pfn);
    const struct page *h = &pm->pages[head];
    fi->owner = owner_of(pm, (uint32_t)pfn, h->flags);
    fi->mapcount = p->mapcount;
    fi->refcount = p->refcount;
    fi->head = head;
    fi->order = (h->flags & PG_head) ? h->order : 0;
    fi->index = p->index;
    fi->dirty = (p->flags & PG_dirty) != 0;
    fi->active = (h->flags & PG_active) != 0;
    fi->lru = (h->flags & PG_lru) != 0;
    fi->referenced = (h->flags & PG_referenced) != 0;
    fi->unevictable = (h->flags & PG_unevictable) != 0;
    fi->mlocked = (h->flags & PG_mlocked) != 0;
    fi->swapcache = (h->flags & PG_swapcache) != 0;
    return 0;
}
