/* Physical memory: frames, their metadata (struct page) and the buddy allocator. */
#ifndef VMSIM_PAGE_ALLOC_H
#define VMSIM_PAGE_ALLOC_H

#include <stdint.h>
#include <stddef.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define MAX_ORDER 10 /* largest block: 2^10 frames, 4 MiB; 2 MiB blocks are order 9 */
#define PFN_NONE UINT32_MAX

enum page_flag {
    PG_buddy = 1u << 0,          /* head of a free block on a buddy free list */
    PG_reserved = 1u << 1,       /* never allocated or freed: the zero page */
    PG_table = 1u << 2,          /* a page-table frame */
    PG_anon = 1u << 3,           /* anonymous memory; mapping is its anon_vma */
    PG_shmem = 1u << 4,          /* in a shmem object; mapping is the object */
    PG_dirty = 1u << 5,          /* contents newer than the backing store */
    PG_anon_exclusive = 1u << 6, /* anon page owned by exactly one mm (no COW sharing) */
    PG_file = 1u << 7,           /* in a host file's page cache; mapping is its inode */
    PG_readahead = 1u << 8,      /* readahead marker: touching it reads the next window */
    PG_lazyfree = 1u << 9,       /* MADV_FREE: reclaim may drop it while its PTE is clean */
    PG_unread = 1u << 10,        /* cached but not yet read (Linux's !uptodate): see truncate */
    PG_head = 1u << 11,          /* first page of a large folio; order is the folio's */
    PG_tail = 1u << 12,          /* another page of a large folio; compound_head names the first */
    PG_mapped_bh = 1u << 13,     /* its file block is mapped for it (Linux keeps it in the page's
                                    buffer head): a write or page_mkwrite reserved it */
    PG_dirty_bh = 1u << 14,      /* its own block buffer is dirty: the page a write or store
                                    dirtied (PG_dirty spreads to the whole folio) */
    /* Reclaim's flags, on a folio's first page (src/vmscan.c). */
    PG_lru = 1u << 15,           /* on one of the LRU lists */
    PG_active = 1u << 16,        /* on an active list */
    PG_referenced = 1u << 17,    /* used once since it was last looked at (read(), a scan) */
    PG_unevictable = 1u << 18,   /* on the unevictable list */
    PG_mlocked = 1u << 19,       /* mapped by a VM_LOCKED VMA */
    PG_swapcache = 1u << 20,     /* an anonymous or shmem page with a swap slot (index) */
    PG_workingset = 1u << 21,    /* was active once (deactivated or refaulted): src/workingset.c */
    PG_writeback = 1u << 22,     /* its swap write is in flight (only inside reclaim: src/vmscan.c) */
    PG_reclaim = 1u << 23,       /* reclaim wrote it: rotate it to the inactive tail when the write ends */
    PG_locked = 1u << 24,        /* a readahead window added it and the readahead call has not
                                    returned (only inside readahead: src/filemap.c) */
};

/* The LRU lists of the one node, in Linux's order (enum lru_list). */
enum lru_list {
    LRU_INACTIVE_ANON,
    LRU_ACTIVE_ANON,
    LRU_INACTIVE_FILE,
    LRU_ACTIVE_FILE,
    LRU_UNEVICTABLE,
    NR_LRU_LISTS
};

/* A list of folios linked through their first pages' next/prev (the buddy
 * links, free while a frame is allocated): head is the newest, tail the
 * oldest, where reclaim looks first. */
struct lru_head {
    uint32_t head, tail;
    uint64_t nr_pages;
};

struct page {
    uint32_t flags;
    int32_t refcount;  /* references: the cache, each PTE mapping it, transient users */
    int32_t mapcount;  /* PTEs that map it */
    uint32_t order;    /* block order while PG_buddy; folio order with PG_head */
    uint32_t compound_head; /* with PG_tail: the frame of the folio's first page */
    uint32_t next, prev; /* free-list links (frame numbers) while PG_buddy; LRU links with PG_lru */
    void *mapping;     /* anon_vma or shmem object, by flag */
    uint64_t index;    /* page offset within mapping */
    uint32_t swap_off; /* with PG_swapcache: its slot in the swap area */
};

struct phys_mem {
    uint8_t *ram;         /* nframes * PAGE_SIZE bytes, backed by the host on first touch */
    struct page *pages;   /* nframes entries, likewise backed lazily */
    uint64_t nframes;
    uint32_t free_head[MAX_ORDER + 1];
    uint64_t nr_free;     /* free frames, all orders */
    uint64_t nr_table;    /* frames holding page tables */
    uint32_t zero_pfn;    /* the shared zero page */
    struct lru_head lru[NR_LRU_LISTS];
    /* Told of each block put_page() frees (flags: its first page's, before
     * the free); NULL: nobody listens. The machine raises VMS_EV_FRAME_FREE. */
    void (*freed)(struct phys_mem *pm, uint32_t pfn, unsigned order, uint32_t flags);
};

int phys_mem_init(struct phys_mem *pm, uint64_t bytes); /* 0 or -errno */
void phys_mem_destroy(struct phys_mem *pm);

/* Returns the first frame of a 2^order block, or PFN_NONE when memory is exhausted.
 * The frames' metadata is reset; contents are not cleared. */
uint32_t alloc_pages(struct phys_mem *pm, unsigned order);
void free_pages(struct phys_mem *pm, uint32_t pfn, unsigned order);
uint32_t alloc_zeroed_page(struct phys_mem *pm);

static inline void *pfn_to_virt(const struct phys_mem *pm, uint64_t pfn)
{
    return pm->ram + (pfn << PAGE_SHIFT);
}
static inline struct page *pfn_to_page(const struct phys_mem *pm, uint64_t pfn)
{
    return &pm->pages[pfn];
}
static inline uint32_t page_to_pfn(const struct phys_mem *pm, const struct page *p)
{
    return (uint32_t)(p - pm->pages);
}
static inline uint64_t frames_used(const struct phys_mem *pm)
{
    return pm->nframes - pm->nr_free;
}

/* Drops one reference; frees the frame when none is left. A large folio's
 * block is freed when none of its pages has a reference left.
 * Simplification: references are counted per page (Linux counts them on the
 * folio); the sum over the folio's pages is Linux's folio refcount. */
void put_page(struct phys_mem *pm, uint32_t pfn);

/* Linux's folio helpers, by frame: the folio's first frame, and its order. */
static inline uint32_t folio_head_pfn(const struct phys_mem *pm, uint32_t pfn)
{
    return (pm->pages[pfn].flags & PG_tail) ? pm->pages[pfn].compound_head : pfn;
}
static inline unsigned folio_order(const struct phys_mem *pm, uint32_t pfn)
{
    const struct page *head = &pm->pages[folio_head_pfn(pm, pfn)];
    return (head->flags & PG_head) ? head->order : 0;
}
static inline uint32_t folio_nr_pages(const struct phys_mem *pm, uint32_t pfn)
{
    return 1u << folio_order(pm, pfn);
}
/* Makes frames [pfn, pfn + 2^order) one folio (order 0: a plain page). A
 * piece split off a folio on an LRU list joins that list beside it, with
 * its flags (Linux's lru_add_split_folio). */
void folio_set_order(struct phys_mem *pm, uint32_t pfn, unsigned order);

/* ---- the LRU lists (Linux's mm_inline.h) ---- */
/* The list a folio belongs on by its flags: anonymous and shmem pages are
 * swap-backed (the anon lists), page-cache pages the file lists. */
static inline enum lru_list folio_lru_list(const struct page *head)
{
    if (head->flags & PG_unevictable)
        return LRU_UNEVICTABLE;
    enum lru_list l = (head->flags & PG_file) ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
    return (enum lru_list)(l + ((head->flags & PG_active) ? 1 : 0));
}
/* Adds the folio whose first frame is pfn at the head of its list. */
void lru_add(struct phys_mem *pm, uint32_t pfn);
/* ... at the tail, where reclaim looks next (Linux's lruvec_add_folio_tail). */
void lru_add_tail(struct phys_mem *pm, uint32_t pfn);
void lru_del(struct phys_mem *pm, uint32_t pfn);
static inline void get_page(struct phys_mem *pm, uint32_t pfn) { pm->pages[pfn].refcount++; }

#endif
