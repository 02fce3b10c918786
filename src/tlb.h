/* Set-associative TLBs with LRU replacement, tagged by virtual page and PCID. */
#ifndef VMSIM_TLB_H
#define VMSIM_TLB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    /* Per set, fp_stride bytes (the ways rounded up to 8): each valid way's
     * fingerprint (tlb_fp of its tag, below 0x80), TLB_FP_NONE for an
     * invalid way and the padding. A lookup compares eight fingerprints at
     * a time and reads a tag only where one matches; the first invalid way
     * is the first TLB_FP_NONE. */
    uint8_t *fp;
    size_t fp_stride;
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

#define TLB_FP_NONE 0x80
#define TLB_BYTES(b) ((b) * 0x0101010101010101ULL) /* b in every byte */

/* A key's fingerprint: 7 bits of a multiplicative hash of all its bits. */
static inline unsigned tlb_fp(uint64_t key) { return (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 57); }

/* Eight fingerprints of a set, way k * 8 in the low byte. */
static inline uint64_t tlb_fp_word(const uint8_t *fp, size_t k)
{
    uint64_t w;
    memcpy(&w, fp + k * 8, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* 0x80 in each byte of x that is zero, 0 in the others (exact: no carry
 * between bytes). */
static inline uint64_t tlb_zero_bytes(uint64_t x)
{
    const uint64_t low7 = TLB_BYTES(0x7f);
    return ~(((x & low7) + low7) | x | low7);
}

/* The way of a set whose fingerprint byte the lowest 0x80 of z marks. */
static inline unsigned tlb_fp_way(size_t k, uint64_t z)
{
    return (unsigned)(k * 8 + ((unsigned)__builtin_ctzll(z) >> 3));
}

/* The entry for key in set of t, or NULL; t has ways (it is no absent
 * paging-structure cache), fp is tlb_fp(key) (a miss passes it on to the
 * fills of both TLB levels). Eight ways' fingerprints per step; a tag is
 * read only where a fingerprint matches (a miss in a 12-way set reads one
 * tag in ten). */
static inline struct tlb_entry *tlb_probe(const struct tlb *t, uint64_t set, uint64_t key,
                                          unsigned fp)
{
    size_t base = set * t->ways, k = 0;
    const uint8_t *fps = t->fp + set * t->fp_stride;
    uint64_t pattern = TLB_BYTES((uint64_t)fp);
    do { /* every TLB has a way */
        for (uint64_t z = tlb_zero_bytes(tlb_fp_word(fps, k) ^ pattern); z; z &= z - 1) {
            size_t i = base + tlb_fp_way(k, z);
            if (__builtin_expect(t->tag[i] == key, 1))
                return &t->e[i];
        }
    } while (++k < t->fp_stride / 8);
    return 0;
}

static inline struct tlb_entry *tlb_lookup(const struct tlb *t, uint64_t vpn, uint64_t key)
{
    return tlb_probe(t, vpn & t->set_mask, key, tlb_fp(key));
}

/* The set's first invalid way; the set has one (nfree). */
static inline unsigned tlb_first_free(const struct tlb *t, uint64_t set)
{
    const uint8_t *fp = t->fp + set * t->fp_stride;
    for (size_t k = 0;; k++) {
        uint64_t z = tlb_zero_bytes(tlb_fp_word(fp, k) ^ TLB_BYTES(TLB_FP_NONE));
        if (z)
            return tlb_fp_way(k, z);
    }
}

/* Way i (an index into tag) holds nothing now. */
static inline void tlb_clear_way(struct tlb *t, size_t i)
{
    t->tag[i] = TLB_INVALID;
    t->fp[(i / t->ways) * t->fp_stride + i % t->ways] = TLB_FP_NONE;
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
        uint32_t older = -(uint32_t)(age < best); /* a mask: no branch to mispredict */
        victim = (w & older) | (victim & ~older);
        best = (int32_t)(((uint32_t)age & older) | ((uint32_t)best & ~older));
    }
    return victim;
}

/* The same for 4 ways (most L1 TLBs, the PDE cache), as a tree of
 * comparisons: a tie goes to the lower way, as in the scan. */
static inline unsigned tlb_lru_way4(const struct tlb_entry *e)
{
    uint32_t ref = e[0].lru;
    int32_t a1 = (int32_t)(e[1].lru - ref), a2 = (int32_t)(e[2].lru - ref),
            a3 = (int32_t)(e[3].lru - ref);
    uint32_t lt01 = -(uint32_t)(a1 < 0), lt23 = -(uint32_t)(a3 < a2); /* masks, no branches */
    int32_t m01 = (int32_t)((uint32_t)a1 & lt01);
    int32_t m23 = (int32_t)(((uint32_t)a3 & lt23) | ((uint32_t)a2 & ~lt23));
    uint32_t lt = -(uint32_t)(m23 < m01);
    return ((2 + (lt23 & 1)) & lt) | ((lt01 & 1) & ~lt);
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
    return t->ways == 4 ? tlb_lru_way4(t->e + base) : tlb_lru_way(t->e + base, t->ways);
}

/* Entry i (of the set starting at index base) holds key now, used at tick. */
static inline struct tlb_entry *tlb_set_entry(struct tlb *t, uint64_t set, size_t base, size_t i,
                                              uint64_t key, unsigned fp, uint8_t *host,
                                              unsigned perm, uint64_t tick)
{
    t->tag[i] = key;
    t->e[i] = (struct tlb_entry){.host = host, .lru = (uint32_t)tick, .perm = perm};
    if (t->when)
        tlb_order_touch(t, set, (unsigned)(i - base), tick);
    t->fp[set * t->fp_stride + (i - base)] = (uint8_t)fp; /* last: a byte store may alias all */
    return &t->e[i];
}

/* Fills set with key (fingerprint fp), which a probe has just not found:
 * its first invalid way, else its least recently used. */
static inline struct tlb_entry *tlb_fill(struct tlb *t, uint64_t set, uint64_t key, unsigned fp,
                                         uint8_t *host, unsigned perm, uint64_t tick)
{
    size_t base = set * t->ways, i = base;
    if (t->nfree[set]) {
        t->nfree[set]--;
        i += tlb_first_free(t, set);
    } else {
        i += tlb_full_victim(t, set, base, tick);
    }
    return tlb_set_entry(t, set, base, i, key, fp, host, perm, tick);
}

/* As tlb_insert, for a key the caller has just looked up and not found. */
static inline struct tlb_entry *tlb_insert_new(struct tlb *t, uint64_t vpn, uint64_t key,
                                               uint8_t *host, unsigned perm, uint64_t tick)
{
    return tlb_fill(t, vpn & t->set_mask, key, tlb_fp(key), host, perm, tick);
}

int tlb_invalidate(struct tlb *t, uint64_t vpn, uint64_t key); /* 1 if an entry went */
void tlb_invalidate_pcid(struct tlb *t, unsigned pcid);
void tlb_invalidate_all(struct tlb *t);

#endif
