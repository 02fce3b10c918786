/*
 * Paging-structure caches, as Intel SDM vol. 3 section 4.10.3 describes them:
 * besides its TLBs a CPU keeps recently used upper-level entries, so that a
 * walk after a TLB miss may start below the top. A PDE-cache entry, keyed by
 * the address bits 47:21 (56:21 with 5-level paging) and the PCID, holds the
 * page table a PDE points to and the rights of the PML4E, PDPTE and PDE
 * combined (R/W and U/S ANDed, XD ORed); the PDPTE cache does the same for
 * bits 47:30, the PML4E cache for bits 47:39. Each is a set-associative
 * cache with LRU replacement, built on the TLB's structure (src/tlb.c).
 *
 * Invalidation as the SDM specifies it (section 4.10.4.1), which is what
 * Linux relies on when it frees page tables: INVLPG drops every entry of the
 * current PCID whatever its address; a CR3 load that flushes, and INVPCID
 * for a context, drop the context's entries; a page fault drops the entries
 * that would translate the faulting address.
 * Simplifications: no PML5E cache (a 5-level walk that misses reads the
 * PML5E); entries are made only from present entries, never speculatively.
 */
#include "internal.h"

#include <errno.h>

int pwc_init(struct pwc *p, const struct vms_config *cfg)
{
    const struct vms_tlb_geometry g[PWC_NLEVELS] = {cfg->pde_cache, cfg->pdpte_cache,
                                                    cfg->pml4e_cache};
    int bits = cfg->pgtable_levels == 5 ? 57 : 48;
    *p = (struct pwc){.va_mask = (1ULL << bits) - 1};
    for (int i = 0; i < PWC_NLEVELS; i++) {
        if (!g[i].entries)
            continue;
        int err = tlb_init(&p->level[i], g[i].entries, g[i].ways);
        if (err) {
            pwc_destroy(p);
            return err;
        }
    }
    return 0;
}

void pwc_destroy(struct pwc *p)
{
    for (int i = 0; i < PWC_NLEVELS; i++) {
        tlb_destroy(&p->level[i]);
        p->level[i] = (struct tlb){0};
    }
}

void pwc_invalidate_pcid(struct pwc *p, unsigned pcid)
{
    for (int i = 0; i < PWC_NLEVELS; i++)
        tlb_invalidate_pcid(&p->level[i], pcid);
}

void pwc_invalidate_va(struct pwc *p, uint64_t va, unsigned pcid)
{
    for (int level = PWC_LOWEST; level < PWC_LOWEST + PWC_NLEVELS; level++) {
        uint64_t prefix = pwc_prefix(p, va, level);
        tlb_invalidate(&p->level[level - PWC_LOWEST], prefix, tlb_key(prefix, pcid));
    }
}
