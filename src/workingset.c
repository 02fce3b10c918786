/*
 * Workingset detection, as Linux's mm/workingset.c: when reclaim frees a
 * page it leaves a shadow of it behind (in the swap slot for an anonymous
 * page) holding the node's nonresident age at that moment, a clock that
 * advances with every eviction and every activation. When the page is read
 * back (a refault), the clock's advance since is how many pages the lists
 * took in while it was out: if that fits in the memory the page competes
 * for (the active lists, and the inactive list of the other type), the page
 * would have stayed had it been active, so it comes back active.
 * A file page's shadow stays in its file's page cache (as->shadows) until
 * the page is read again, the range truncated or the file dropped.
 * Refaults change what a program sees through reclaim's balance: new
 * activations since the last reclaim tell it a new workingset is coming
 * in, and it deactivates (and, for file pages, stops trimming the cache
 * alone: anonymous memory goes too).
 * Simplifications: one node and no
 * memory cgroups (the shadow keeps no memcg or node id); the clock is 62
 * bits (Linux trims it to what fits in an xarray value after its bucket
 * order; with 4 KiB pages and this RAM nothing is lost).
 */
#include "internal.h"
#include "xarray.h"

#include <stdlib.h>

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

static uint64_t lru_size(const vms_machine *m, enum lru_list l) { return reclaim_lru_size(m, l); }

/* The refault distance against the workingset it competes for. */
struct refault_test {
    uint64_t distance, size;
};

/* Linux's workingset_test_recent: did the page leave less than a
 * workingset's worth of pages ago? */
static int workingset_test_recent(const vms_machine *m, uint64_t shadow, int file,
                                  struct refault_test *rt)
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
    *rt = (struct refault_test){distance, size};
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
    struct refault_test rt;
    int recent = workingset_test_recent(m, shadow, file, &rt);
    trace_event(m, &(struct vms_event){.kind = VMS_EV_REFAULT, .pa = (uint64_t)head << PAGE_SHIFT,
                                       .a = rt.distance, .b = rt.size,
                                       .detail = !recent ? "inactive"
                                                 : shadow_workingset(shadow) ? "restored"
                                                                             : "activated"});
    if (!recent)
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

/* A file shadow fits the page cache's 32-bit entries: 29 bits of the
 * clock (distances are taken modulo 2^29, far more than any RAM here
 * holds), never PFN_NONE. */
#define FILE_AGE_BITS 29
#define FILE_AGE_MASK ((UINT64_C(1) << FILE_AGE_BITS) - 1)

void workingset_file_evicted(vms_machine *m, struct address_space *as, uint64_t index,
                             uint32_t nr, int workingset)
{
    workingset_age_nonresident(m, nr);
    if (!as->shadows && !(as->shadows = calloc(1, sizeof(*as->shadows))))
        return; /* no room for shadows: the page will not be known again */
    uint32_t shadow = (uint32_t)((m->nonresident_age & FILE_AGE_MASK) << 2 | 2 | (workingset != 0));
    for (uint32_t i = 0; i < nr; i++)
        if (xa_store(as->shadows, index + i, shadow))
            return;
}

void workingset_file_refault(vms_machine *m, struct address_space *as, uint64_t index,
                             uint32_t head)
{
    if (!as->shadows)
        return;
    uint32_t shadow = xa_load(as->shadows, index);
    for (uint32_t i = 0; i < folio_nr_pages(&m->pm, head); i++)
        xa_erase(as->shadows, index + i);
    if (shadow == PFN_NONE)
        return;
    uint64_t distance = (m->nonresident_age - (shadow >> 2)) & FILE_AGE_MASK;
    workingset_refault(m, head, pack_shadow(m->nonresident_age - distance, shadow & 1));
}

struct forget {
    uint64_t first, last;
    uint64_t *index;
    size_t n, cap;
};

static int collect_shadow(void *arg, uint64_t index, uint32_t shadow)
{
    (void)shadow;
    struct forget *f = arg;
    if (index < f->first || index > f->last)
        return 0;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        uint64_t *p = realloc(f->index, cap * sizeof(*p));
        if (!p)
            return 1;
        f->index = p;
        f->cap = cap;
    }
    f->index[f->n++] = index;
    return 0;
}

void workingset_file_forget(struct address_space *as, uint64_t first, uint64_t last)
{
    if (!as->shadows)
        return;
    struct forget f = {.first = first, .last = last};
    xa_for_each(as->shadows, collect_shadow, &f);
    for (size_t i = 0; i < f.n; i++)
        xa_erase(as->shadows, f.index[i]);
    free(f.index);
}

void workingset_file_destroy(struct address_space *as)
{
    if (!as->shadows)
        return;
    xa_destroy(as->shadows);
    free(as->shadows);
    as->shadows = NULL;
}
