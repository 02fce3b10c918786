/* Set-associative TLBs with LRU replacement, tagged by virtual page and PCID. */
#ifndef VMSIM_TLB_H
#define VMSIM_TLB_H

#include <stdint.h>

#define TLB_INVALID UINT64_MAX

/* What an entry lets an access do without a page walk. */
enum tlb_perm {
    TLB_R = 1,      /* read: every cached translation is present */
    TLB_W = 2,      /* write: the PTE is writable and already dirty */
    TLB_X = 4,      /* instruction fetch: the PTE is not NX */
    TLB_WCLEAN = 8, /* writable but clean: a store walks once to set D */
    TLB_PK = 16,    /* data access refused by the page's protection key */
};

/* What an entry holds besides its tag. Tags live in their own array, so a
 * lookup that misses reads only the set's tags (one or two cache lines). */
struct tlb_entry {
    uint8_t *host;  /* the frame's bytes */
    uint32_t lru;
    uint32_t perm;
};

struct tlb {
    uint64_t *tag;       /* (vpn << 12) | pcid, or TLB_INVALID; nsets * ways, set-major */
    struct tlb_entry *e; /* the entries, indexed as tag */
    uint32_t *nfree;     /* per set: its invalid ways (0: full, replace the LRU) */
    /* Per set: the way of its last fast-path hit found by a search (the L1
     * ITLB's), where the next lookup looks first. Only a hint, checked
     * against the tag it names: an entry found there is the set's one entry
     * for the key, so the hint never needs to be dropped when entries come
     * and go. */
    uint32_t *mru;
    /* The L2 TLB's recency order (NULL in the others, whose sets are small or
     * whose hits must stay cheap): per set its ways from the least to the
     * most recently stamped, linked by way number, and per entry the CPU's
     * whole 64-bit clock at its stamp. It names the least recently used way
     * of a full set without a scan of its stamps, and gives the way the scan
     * would: see tlb_victim. */
    uint32_t *older, *newer; /* per entry: its neighbours in its set's order */
    uint32_t *oldest, *newest; /* per set */
    uint64_t *when;
    uint64_t set_mask;
    unsigned ways;
};

static inline uint64_t tlb_key(uint64_t vpn, unsigned pcid) { return (vpn << 12) | pcid; }

/* The entry for key, or NULL: every miss reads the whole set, so the loop
 * is unrolled (a compare and a branch per way). */
static inline struct tlb_entry *tlb_lookup(const struct tlb *t, uint64_t vpn, uint64_t key)
{
    size_t base = (vpn & t->set_mask) * t->ways;
    const uint64_t *tag = t->tag + base;
#pragma GCC unroll 4
    for (unsigned w = 0; w < t->ways; w++)
        if (tag[w] == key)
            return &t->e[base + w];
    return 0;
}

/* The tag of an entry. */
static inline uint64_t *tlb_tag_of(const struct tlb *t, const struct tlb_entry *e)
{
    return &t->tag[e - t->e];
}

int tlb_init(struct tlb *t, unsigned entries, unsigned ways); /* 0 or -EINVAL/-ENOMEM */
int tlb_keep_order(struct tlb *t); /* keeps the recency order above: 0 or -ENOMEM */
/* Stamps e with the clock (e->lru holds its low 32 bits) as a use of it. */
void tlb_touch(struct tlb *t, struct tlb_entry *e, uint64_t tick);
void tlb_destroy(struct tlb *t);
struct tlb_entry *tlb_insert(struct tlb *t, uint64_t vpn, uint64_t key, uint8_t *host,
                             unsigned perm, uint64_t tick);
/* As tlb_insert, for a key the caller has just looked up and not found. */
struct tlb_entry *tlb_insert_new(struct tlb *t, uint64_t vpn, uint64_t key, uint8_t *host,
                                 unsigned perm, uint64_t tick);
int tlb_invalidate(struct tlb *t, uint64_t vpn, uint64_t key); /* 1 if an entry went */
void tlb_invalidate_pcid(struct tlb *t, unsigned pcid);
void tlb_invalidate_all(struct tlb *t);

#endif
