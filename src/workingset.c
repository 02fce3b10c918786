/*
 * Workingset detection, as Linux's mm/workingset.c: when reclaim frees a
 * page it leaves a shadow of it behind (in the swap slot for an anonymous
 * page) holding the node's nonresident age at that moment, a clock that
 * advances with every eviction and every activation. When the page is read
 * back (a refault), the clock's advance since is how many pages the lists
 * took in while it was out: if that fits in the memory the page competes
 * for (the active lists, and the inactive list of the other type), the page
 * would have stayed had it been active, so it comes back active.
 * Simplifications: anonymous pages only (a file page leaves no shadow in
 * the page cache, so file refaults are never counted; host-measured in a
 * 16 MiB memory cgroup, files read again and again through a mapping
 * refault a few pages a pass at most, so no count a
 * program sees changes); one node and no
 * memory cgroups (the shadow keeps no memcg or node id); the clock is 62
 * bits (Linux trims it to what fits in an xarray value after its bucket
 * order; with 4 KiB pages and this RAM nothing is lost).
 */
#include "internal.h"

/* A shadow: 0 is none; else bit 0 says the page was active (PG_workingset)
 * and the rest is the clock's reading. */
static uint64_t pack_shadow(uint64_t age, int workingset) { return (age << 1 | 1) << 1 | (workingset != 0); }
static uint64_t shadow_age(uint64_t shadow) { return shadow >> 2; }
static int shadow_workingset(uint64_t shadow) { return shadow & 1; }

void workingset_age_nonresident(vms_machine *m, uint64_t nr_pages)
{
    m->nonresident_age += nr_pages;
}

uint64_t workingset_eviction(vms_machine *m, uint32_t head)
{
    workingset_age_nonresident(m, folio_nr_pages(&m->pm, head));
    return pack_shadow(m->nonresident_age, (m->pm.pages[head].flags & PG_workingset) != 0);
}

static uint64_t lru_size(const vms_machine *m, enum lru_list l) { return m->pm.lru[l].nr_pages; }

/* Linux's workingset_test_recent: did the page leave less than a
 * workingset's worth of pages ago? */
static int workingset_test_recent(const vms_machine *m, uint64_t shadow, int file)
{
    uint64_t distance = m->nonresident_age - shadow_age(shadow);
    uint64_t size = lru_size(m, LRU_ACTIVE_FILE);
    if (!file)
        size += lru_size(m, LRU_INACTIVE_FILE);
    if (swap_pages_free(m) > 0) {
        size += lru_size(m, LRU_ACTIVE_ANON);
        if (file)
            size += lru_size(m, LRU_INACTIVE_ANON);
    }
    return distance <= size;
}

void workingset_refault(vms_machine *m, uint32_t head, uint64_t shadow)
{
    if (!shadow)
        return;
    struct page *p = &m->pm.pages[head];
    int file = (p->flags & PG_file) != 0;
    uint64_t nr = folio_nr_pages(&m->pm, head);
    *(file ? &m->vmstat.workingset_refault_file : &m->vmstat.workingset_refault_anon) += nr;
    if (!workingset_test_recent(m, shadow, file))
        return;
    p->flags |= PG_active;
    workingset_age_nonresident(m, nr);
    *(file ? &m->vmstat.workingset_activate_file : &m->vmstat.workingset_activate_anon) += nr;
    if (shadow_workingset(shadow)) { /* it was active before it went */
        p->flags |= PG_workingset;
        lru_note_cost_refault(m, file, nr);
        *(file ? &m->vmstat.workingset_restore_file : &m->vmstat.workingset_restore_anon) += nr;
    }
}
