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
     * would: see tlb_full_victim. */
    uint32_t *older, *newer; /* per entry: its neighbours in its set's order */
    uint32_t *oldest, *newest; /* per set */
    uint64_t *when;
    uint64_t set_mask;
    unsigned ways;
};

static inline uint64_t tlb_key(uint64_t vpn, uint64_t pcid) { return (vpn << 12) | pcid; }

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

/* ---- filling: inline, as every TLB miss fills two levels and often a
 * paging-structure cache, and a call's saved registers cost as much as the
 * fill ---- */

/* Way `way` of `set` becomes the most recently stamped. */
static inline void tlb_order_touch(struct tlb *t, uint64_t set, unsigned way, uint64_t tick)
{
    size_t base = set * t->ways;
    t->when[base + way] = tick;
    if (t->newest[set] == way)
        return;
    unsigned newer = t->newer[base + way];
    if (t->oldest[set] == way) {
        t->oldest[set] = newer;
    } else {
        unsigned older = t->older[base + way];
        t->newer[base + older] = newer;
        t->older[base + newer] = older;
    }
    t->older[base + way] = t->newest[set];
    t->newer[base + t->newest[set]] = way;
    t->newest[set] = way;
}

/* The way of a full set whose stamp is the least, compared as differences
 * from way 0's so that the clock may wrap; scanned without data-dependent
 * branches. */
static inline unsigned tlb_lru_way(const struct tlb_entry *e, unsigned ways)
{
    uint32_t ref = e[0].lru;
    int32_t best = 0;
    unsigned victim = 0;
    for (unsigned w = 1; w < ways; w++) {
        int32_t age = (int32_t)(e[w].lru - ref);
        victim = age < best ? w : victim;
        best = age < best ? age : best;
    }
    return victim;
}

/* The way to replace in a full set: the least recently used (stamps
 * compared as differences from way 0's, so that the clock may wrap). With a
 * recency order (the L2 TLB), the least recently stamped way is that one
 * whenever every stamp of the set is less than 2^31 ticks old: the
 * differences are then the true ages, all distinct, so the least is the
 * oldest. Only a set left untouched that long is scanned (without reading
 * its tags: every TLB miss fills two levels). */
static inline unsigned tlb_full_victim(const struct tlb *t, uint64_t set, size_t base,
                                       uint64_t tick)
{
    if (t->when && tick - t->when[base + t->oldest[set]] < (1ULL << 31))
        return t->oldest[set];
    return t->ways == 4 ? tlb_lru_way(t->e + base, 4) /* unrolled: most L1s */
                        : tlb_lru_way(t->e + base, t->ways);
}

/* Entry i (of the set starting at index base) holds key now, used at tick. */
static inline struct tlb_entry *tlb_set_entry(struct tlb *t, uint64_t set, size_t base, size_t i,
                                              uint64_t key, uint8_t *host, unsigned perm,
                                              uint64_t tick)
{
    t->tag[i] = key;
    t->e[i] = (struct tlb_entry){.host = host, .lru = (uint32_t)tick, .perm = perm};
    if (t->when)
        tlb_order_touch(t, set, (unsigned)(i - base), tick);
    return &t->e[i];
}

/* As tlb_insert, for a key the caller has just looked up and not found: in
 * the set's first invalid way, else in place of its least recently used. */
static inline struct tlb_entry *tlb_insert_new(struct tlb *t, uint64_t vpn, uint64_t key,
                                               uint8_t *host, unsigned perm, uint64_t tick)
{
    uint64_t set = vpn & t->set_mask;
    size_t base = set * t->ways, i = base;
    if (t->nfree[set]) {
        t->nfree[set]--;
        while (t->tag[i] != TLB_INVALID)
            i++;
    } else {
        i += tlb_full_victim(t, set, base, tick);
    }
    return tlb_set_entry(t, set, base, i, key, host, perm, tick);
}

int tlb_invalidate(struct tlb *t, uint64_t vpn, uint64_t key); /* 1 if an entry went */
void tlb_invalidate_pcid(struct tlb *t, unsigned pcid);
void tlb_invalidate_all(struct tlb *t);

#endif
