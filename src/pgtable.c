/*
 * Page tables, as Linux builds them for x86-64 (mm/memory.c, mm/pgtable):
 * 4 levels (PGD, PUD, PMD, PTE) of 512 eight-byte entries, each table one
 * frame of simulated RAM, or 5 levels with 57-bit addresses. A table is
 * allocated by the first fault that needs it and freed when an unmap leaves
 * no VMA anywhere in the range it covers.
 * Simplification: no huge (PS) leaf entries yet; no split page-table locks.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

const char *pgtable_level_name(int level, int levels)
{
    static const char *const names[] = {"", "PTE", "PMD", "PUD", "P4D", "PGD"};
    if (level == levels)
        return "PGD";
    return level >= 1 && level <= 4 ? names[level] : "";
}

static uint32_t alloc_table(vms_machine *m)
{
    uint32_t pfn = alloc_zeroed_page_gfp(m, GFP_USER);
    if (pfn != PFN_NONE) {
        m->pm.pages[pfn].flags = PG_table;
        m->pm.nr_table++;
    }
    return pfn;
}

static void free_table(vms_machine *m, uint32_t pfn)
{
    m->pm.nr_table--;
    free_pages(&m->pm, pfn, 0);
}

int pgd_alloc(struct mm_struct *mm)
{
    mm->pgd = alloc_table(mm->m);
    return mm->pgd == PFN_NONE ? -ENOMEM : 0;
}

pte_t *pte_alloc(struct mm_struct *mm, uint64_t va)
{
    int fresh;
    return pte_alloc_fresh(mm, va, &fresh);
}

pte_t *pte_alloc_fresh(struct mm_struct *mm, uint64_t va, int *fresh)
{
    vms_machine *m = mm->m;
    pte_t *table = table_of(&m->pm, mm->pgd);
    *fresh = 0;
    for (int level = pgtable_levels(mm); level > 1; level--) {
        pte_t *e = &table[table_index(va, level)];
        if (!(*e & _PAGE_PRESENT)) {
            uint32_t pfn = alloc_table(m);
            if (pfn == PFN_NONE)
                return NULL;
            *fresh = level == 2;
            *e = ((uint64_t)pfn << PAGE_SHIFT) | _PAGE_TABLE;
            trace_event(m, &(struct vms_event){
                .kind = VMS_EV_PGTABLE_ALLOC, .a = va, .level = level - 1,
                .b = (uint64_t)pgtable_levels(mm),
                .detail = pgtable_level_name(level - 1, pgtable_levels(mm)),
                .pa = (uint64_t)pfn << PAGE_SHIFT});
        }
        table = table_of(&m->pm, pte_pfn(*e));
    }
    return &table[table_index(va, 1)];
}

/* Frees the table behind entry *e (of a table at `level`) and all below it. */
static void free_subtree(struct mm_struct *mm, pte_t *e, int level, uint64_t base)
{
    vms_machine *m = mm->m;
    uint32_t pfn = (uint32_t)pte_pfn(*e);
    if (level > 2) {
        pte_t *child = table_of(&m->pm, pfn);
        uint64_t span = 1ULL << TABLE_SHIFT(level - 1);
        for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
            if (child[i] & _PAGE_PRESENT)
                free_subtree(mm, &child[i], level - 1, base + i * span);
    }
    *e = 0;
    trace_event(m, &(struct vms_event){.kind = VMS_EV_PGTABLE_FREE, .a = base, .level = level - 1,
                                       .b = (uint64_t)pgtable_levels(mm),
                                       .detail = pgtable_level_name(level - 1, pgtable_levels(mm)),
                                       .pa = (uint64_t)pfn << PAGE_SHIFT});
    free_table(m, pfn);
}

void pte_table_drop_empty(struct mm_struct *mm, uint64_t va)
{
    const struct phys_mem *pm = &mm->m->pm;
    pte_t *table = table_of(pm, mm->pgd);
    for (int level = pgtable_levels(mm); level > 2; level--) {
        pte_t e = table[table_index(va, level)];
        if (!(e & _PAGE_PRESENT))
            return;
        table = table_of(pm, pte_pfn(e));
    }
    pte_t *pmd = &table[table_index(va, 2)];
    if (!(*pmd & _PAGE_PRESENT))
        return;
    const pte_t *ptes = table_of(pm, pte_pfn(*pmd));
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
        if (ptes[i])
            return;
    free_subtree(mm, pmd, 2, va & ~((1ULL << TABLE_SHIFT(2)) - 1));
}

struct free_area {
    uint64_t start, end;     /* what was unmapped: only its entries are visited */
    uint64_t floor, ceiling; /* no VMA in between: tables inside may go */
    uint64_t *fs, *fe;       /* flush range to widen */
};

static unsigned free_range(struct mm_struct *mm, pte_t *table, int level, uint64_t base,
                           const struct free_area *fa)
{
    uint64_t span = 1ULL << TABLE_SHIFT(level);
    uint64_t first = fa->start > base ? (fa->start - base) / span : 0;
    uint64_t last = (fa->end - 1 - base) / span;
    if (fa->end - 1 < base)
        return 0;
    if (last >= PTRS_PER_TABLE)
        last = PTRS_PER_TABLE - 1;
    unsigned freed = 0;
    for (uint64_t i = first; i <= last; i++) {
        uint64_t lo = base + i * span, hi = lo + span - 1; /* inclusive: no overflow at the top */
        if (hi < fa->floor || lo >= fa->ceiling || !(table[i] & _PAGE_PRESENT))
            continue;
        if (lo >= fa->floor && hi <= fa->ceiling - 1) {
            free_subtree(mm, &table[i], level, lo);
            /* Linux widens the flush to a freed table's first page (pte_free_tlb). */
            widen(fa->fs, fa->fe, lo, lo + PAGE_SIZE);
            freed++;
        } else if (level > 2) {
            freed += free_range(mm, table_of(&mm->m->pm, pte_pfn(table[i])), level - 1, lo, fa);
        }
    }
    return freed;
}

unsigned free_pgtables(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t floor,
                       uint64_t ceiling, uint64_t *fs, uint64_t *fe)
{
    if (floor >= ceiling || start >= end)
        return 0;
    struct free_area fa = {start, end, floor, ceiling, fs, fe};
    return free_range(mm, table_of(&mm->m->pm, mm->pgd), pgtable_levels(mm), 0, &fa);
}

void pgd_free(struct mm_struct *mm)
{
    uint64_t fs = UINT64_MAX, fe = 0;
    free_pgtables(mm, 0, UINT64_MAX, 0, UINT64_MAX, &fs, &fe);
    free_table(mm->m, mm->pgd);
    mm->pgd = PFN_NONE;
}

int vms_walk(vms_task *t, vms_addr va, struct vms_walk *w)
{
    SYSCALL_ENTER(t);
    struct mm_struct *mm = t->mm;
    const struct phys_mem *pm = &mm->m->pm;
    int levels = pgtable_levels(mm);
    memset(w, 0, sizeof(*w));
    w->levels = levels;
    uint64_t table = (uint64_t)mm->pgd << PAGE_SHIFT;
    for (int level = levels, i = 0; level >= 1; level--, i++) {
        unsigned idx = table_index(va, level);
        pte_t e = ((const pte_t *)(pm->ram + table))[idx];
        w->step[i].table_pa = table;
        w->step[i].index = idx;
        w->step[i].entry = e;
        if (level == 1) {
            w->present = (e & _PAGE_PRESENT) != 0;
            if (w->present)
                w->pa = (e & PTE_PFN_MASK) | (va & (PAGE_SIZE - 1));
            if (pte_is_swap(e)) {
                w->swap = 1;
                w->swap_type = pte_swp_type(e);
                w->swap_offset = pte_swp_offset(e);
                w->swap_exclusive = pte_swp_exclusive(e);
            }
            return 0;
        }
        if (!(e & _PAGE_PRESENT))
            return -EFAULT;
        table = e & PTE_PFN_MASK;
    }
    return 0;
}

/* ---- introspection ---- */

uint64_t vms_task_pgd(const vms_task *t)
{
    return t->oom_killed ? 0 : (uint64_t)t->mm->pgd << PAGE_SHIFT;
}

int vms_task_pgtable_levels(const vms_task *t) { return t->m->cfg.pgtable_levels; }

struct pgtable_visit {
    const struct phys_mem *pm;
    int levels;
    int (*fn)(void *arg, const struct vms_pgtable_info *pi);
    void *arg;
};

/* The table at pfn, at level, translating from va on; then its children. */
static int visit_table(const struct pgtable_visit *v, uint64_t pfn, int level, uint64_t va)
{
    const pte_t *table = table_of(v->pm, pfn);
    struct vms_pgtable_info pi = {.level = level,
                                  .name = pgtable_level_name(level, v->levels),
                                  .pa = pfn << PAGE_SHIFT,
                                  .va = va,
                                  .span = 1ULL << TABLE_SHIFT(level),
                                  .entries = table};
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
        pi.present += (table[i] & _PAGE_PRESENT) != 0;
        pi.used += table[i] != 0;
    }
    int r = v->fn(v->arg, &pi);
    if (r || level == 1)
        return r;
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
        if (!(table[i] & _PAGE_PRESENT))
            continue;
        uint64_t child_va = va + ((uint64_t)i << TABLE_SHIFT(level));
        /* The upper half of the address space: sign-extended, as the CPU sees it. */
        if (level == v->levels && i >= PTRS_PER_TABLE / 2)
            child_va |= ~0ULL << (TABLE_SHIFT(level) + 9);
        r = visit_table(v, pte_pfn(table[i]), level - 1, child_va);
        if (r)
            return r;
    }
    return 0;
}

int vms_pgtable_visit(vms_task *t, int (*fn)(void *arg, const struct vms_pgtable_info *pi),
                      void *arg)
{
    if (t->oom_killed)
        return -ESRCH;
    struct pgtable_visit v = {.pm = &t->m->pm, .levels = pgtable_levels(t->mm), .fn = fn,
                              .arg = arg};
    return visit_table(&v, t->mm->pgd, v.levels, 0);
}
