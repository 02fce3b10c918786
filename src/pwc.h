/* Paging-structure caches (Intel SDM vol. 3, section 4.10.3): per CPU, a PDE,
 * a PDPTE and a PML4E cache, each a small set-associative TLB of upper-level
 * entries keyed by the address bits those entries translate and the PCID. */
#ifndef VMSIM_PWC_H
#define VMSIM_PWC_H

#include "tlb.h"

#include <stdint.h>

struct vms_config;

/* The cached levels: the entry of a table at level 2 (a PDE), 3 (PDPTE), 4
 * (PML4E); index level - PWC_LOWEST. */
#define PWC_LOWEST 2
#define PWC_NLEVELS 3

/* What an entry holds besides the next table: the rights of every entry
 * from the top down to it, combined as the walk combines them. */
enum pwc_rights {
    PWC_NX = 1,        /* some entry had XD */
    PWC_RW = 1u << 1,  /* all had R/W (_PAGE_RW's bit) */
    PWC_US = 1u << 2,  /* all had U/S (_PAGE_USER's bit) */
};

struct pwc {
    struct tlb level[PWC_NLEVELS]; /* ways == 0: that cache is absent */
    uint64_t va_mask;              /* the translated address bits (48 or 57) */
};

/* 0, -EINVAL or -ENOMEM; caches of 0 entries are absent. */
int pwc_init(struct pwc *p, const struct vms_config *cfg);
void pwc_destroy(struct pwc *p);

/* Drops every entry of context pcid (INVLPG, a CR3 load that flushes, INVPCID). */
void pwc_invalidate_pcid(struct pwc *p, unsigned pcid);
/* Drops the entries that would translate va in context pcid (a page fault). */
void pwc_invalidate_va(struct pwc *p, uint64_t va, unsigned pcid);

static inline int pwc_present(const struct pwc *p, int level)
{
    return level >= PWC_LOWEST && level < PWC_LOWEST + PWC_NLEVELS &&
           p->level[level - PWC_LOWEST].ways != 0;
}

/* The key bits of an entry at `level` for va: what the entry translates. */
static inline uint64_t pwc_prefix(const struct pwc *p, uint64_t va, int level)
{
    return (va & p->va_mask) >> (12 + 9 * (level - 1));
}

/* Caches the present entry of the level-`level` table that translates va,
 * which the cache of that level does not hold (pwc_lookup just missed it).
 * Inline: a walk that misses the PDE cache fills it. */
static inline void pwc_fill(struct pwc *p, int level, uint64_t va, unsigned pcid,
                            uint8_t *table, unsigned rights, uint64_t tick)
{
    if (!pwc_present(p, level))
        return;
    uint64_t prefix = pwc_prefix(p, va, level);
    tlb_insert_new(&p->level[level - PWC_LOWEST], prefix, tlb_key(prefix, pcid), table, rights,
                   tick);
}

/* The lowest cached entry for va in context pcid: its level (2..4) with the
 * table it points to and its rights, or 0 when every cache misses. Inline:
 * every walk starts here. */
static inline int pwc_lookup(struct pwc *p, uint64_t va, unsigned pcid, uint8_t **table,
                             unsigned *rights, uint64_t tick)
{
    for (int level = PWC_LOWEST; level < PWC_LOWEST + PWC_NLEVELS; level++) {
        struct tlb *c = &p->level[level - PWC_LOWEST];
        if (!c->ways)
            continue;
        uint64_t prefix = pwc_prefix(p, va, level);
        struct tlb_entry *e = tlb_lookup(c, prefix, tlb_key(prefix, pcid));
        if (e) {
            e->lru = (uint32_t)tick;
            *table = e->host;
            *rights = e->perm;
            return level;
        }
    }
    return 0;
}

#endif
