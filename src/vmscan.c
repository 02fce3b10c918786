/*
 * Page reclaim and the allocator's slow path, as Linux's mm/vmscan.c and
 * __alloc_pages_slowpath: an allocation that finds no free block tries to
 * free memory, and when nothing can be freed an ordinary allocation calls
 * the OOM killer (src/oom_kill.c) and tries again.
 * Simplification: nothing is reclaimed yet, so the OOM killer is the only
 * way out.
 */
#include "internal.h"

#include <string.h>

uint32_t alloc_pages_gfp(vms_machine *m, unsigned order, enum gfp gfp)
{
    for (;;) {
        uint32_t pfn = alloc_pages(&m->pm, order);
        if (pfn != PFN_NONE || gfp == GFP_NORETRY)
            return pfn;
        if (m->oom_reap_pending) { /* a victim's memory not yet freed */
            oom_reap_pending(m);
            if (!m->oom_reap_pending)
                continue;
        }
        if (!out_of_memory(m))
            return PFN_NONE;
    }
}

uint32_t alloc_zeroed_page_gfp(vms_machine *m, enum gfp gfp)
{
    uint32_t pfn = alloc_pages_gfp(m, 0, gfp);
    if (pfn != PFN_NONE)
        memset(pfn_to_virt(&m->pm, pfn), 0, PAGE_SIZE);
    return pfn;
}
