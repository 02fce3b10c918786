/*
 * TLBs and TLB shootdown, as the x86 hardware and Linux's arch/x86/mm/tlb.c
 * work together. Each CPU has an L1 data TLB, an L1 instruction TLB and a
 * unified L2 TLB, set-associative with LRU replacement; entries are tagged with
 * the PCID when PCID is on.
 *
 * Linux's rules kept here: a CR3 load flushes the TLB unless PCID is on; with
 * PCID a CPU keeps TLB_NR_DYN_ASIDS contexts live and flushes a context whose
 * mm changed (tlb_gen) since it last ran; a flush request invalidates single
 * pages up to tlb_single_page_flush_ceiling pages and flushes the whole context
 * above it; other CPUs in the mm's cpumask get an IPI and flush the same way.
 * Lazy TLB mode, as Linux: a CPU whose task leaves it keeps the mm loaded
 * and stays in its cpumask, but ordinary shootdowns skip it; one that frees
 * page tables reaches it too, and it then leaves the mm. When a task of the
 * same mm runs there again, a TLB that missed flushes (tlb_gen) is flushed.
 * The paging-structure caches (src/pwc.c) are flushed with the TLBs: a
 * context flush drops the context's entries, INVLPG all of the current
 * PCID's, a page fault those of the faulting address.
 * Simplifications: IPIs are delivered at once (no queueing); no global pages;
 * a CPU leaves an mm's cpumask when it switches to another mm (Linux 6.13+
 * trims the mask later, on the next shootdown).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tlb_init(struct tlb *t, unsigned entries, unsigned ways)
{
    *t = (struct tlb){0};
    if (ways == 0 || entries == 0 || entries % ways)
        return -EINVAL;
    unsigned sets = entries / ways;
    if (sets & (sets - 1))
        return -EINVAL;
    t->e = calloc(entries, sizeof(*t->e));
    t->tag = malloc(sizeof(*t->tag) * entries);
    t->fp_stride = ((size_t)ways + 7) / 8 * 8;
    t->fp = malloc(t->fp_stride * sets);
    t->nfree = malloc(sizeof(*t->nfree) * sets);
    t->mru = calloc(sets, sizeof(*t->mru));
    if (!t->e || !t->tag || !t->fp || !t->nfree || !t->mru) {
        tlb_destroy(t);
        return -ENOMEM;
    }
    t->set_mask = sets - 1;
    t->ways = ways;
    tlb_invalidate_all(t);
    return 0;
}

/* Each set's ways in the order 0, 1, ... ways - 1: all stamped 0 at first,
 * which is the order the scan of stamps gives them. */
int tlb_keep_order(struct tlb *t)
{
    size_t sets = t->set_mask + 1, n = sets * t->ways;
    t->older = malloc(sizeof(*t->older) * n);
    t->newer = malloc(sizeof(*t->newer) * n);
    t->oldest = malloc(sizeof(*t->oldest) * sets);
    t->newest = malloc(sizeof(*t->newest) * sets);
    t->when = calloc(n, sizeof(*t->when));
    if (!t->older || !t->newer || !t->oldest || !t->newest || !t->when)
        return -ENOMEM;
    for (size_t set = 0; set < sets; set++) {
        t->oldest[set] = 0;
        t->newest[set] = t->ways - 1;
        for (unsigned w = 0; w < t->ways; w++) {
            t->older[set * t->ways + w] = w - 1; /* way 0's is never read */
            t->newer[set * t->ways + w] = w + 1;
        }
    }
    return 0;
}

void tlb_touch(struct tlb *t, struct tlb_entry *e, uint64_t tick)
{
    e->lru = (uint32_t)tick;
    if (t->when) {
        size_t i = (size_t)(e - t->e);
        tlb_order_touch(t, i / t->ways, (unsigned)(i % t->ways), tick);
    }
}

void tlb_destroy(struct tlb *t)
{
    free(t->e);
    free(t->tag);
    free(t->fp);
    free(t->nfree);
    free(t->mru);
    free(t->older);
    free(t->newer);
    free(t->oldest);
    free(t->newest);
    free(t->when);
    *t = (struct tlb){0};
}

struct tlb_entry *tlb_insert(struct tlb *t, uint64_t vpn, uint64_t key, uint8_t *host,
                             unsigned perm, uint64_t tick)
{
    /* An entry for the key is replaced in place: a set never holds two. */
    struct tlb_entry *old = tlb_lookup(t, vpn, key);
    if (!old)
        return tlb_insert_new(t, vpn, key, host, perm, tick);
    uint64_t set = vpn & t->set_mask;
    return tlb_set_entry(t, set, set * t->ways, (size_t)(old - t->e), key, host, perm, tick);
}

int tlb_invalidate(struct tlb *t, uint64_t vpn, uint64_t key)
{
    struct tlb_entry *e = tlb_lookup(t, vpn, key);
    if (!e)
        return 0;
    tlb_clear_way(t, (size_t)(e - t->e));
    t->nfree[vpn & t->set_mask]++;
    return 1;
}

void tlb_invalidate_pcid(struct tlb *t, unsigned pcid)
{
    size_t i = 0;
    for (uint64_t set = 0; t->ways && set <= t->set_mask; set++)
        for (unsigned w = 0; w < t->ways; w++, i++)
            if (t->tag[i] != TLB_INVALID && (t->tag[i] & 0xfff) == pcid) {
                tlb_clear_way(t, i);
                t->nfree[set]++;
            }
}

void tlb_invalidate_all(struct tlb *t)
{
    size_t n = (t->set_mask + 1) * t->ways;
    for (size_t i = 0; i < n; i++)
        t->tag[i] = TLB_INVALID;
    if (t->fp)
        memset(t->fp, TLB_FP_NONE, (t->set_mask + 1) * t->fp_stride);
    for (uint64_t set = 0; t->ways && set <= t->set_mask; set++)
        t->nfree[set] = t->ways;
}

/* ---- per-CPU operations ---- */

int cpu_init(struct cpu *c, unsigned id, const struct vms_config *cfg)
{
    *c = (struct cpu){.id = id};
    int err = tlb_init(&c->dtlb, cfg->dtlb.entries, cfg->dtlb.ways);
    if (!err)
        err = tlb_init(&c->itlb, cfg->itlb.entries, cfg->itlb.ways);
    if (!err)
        err = tlb_init(&c->stlb, cfg->stlb.entries, cfg->stlb.ways);
    if (!err)
        err = tlb_keep_order(&c->stlb);
    if (!err)
        err = pwc_init(&c->pwc, cfg);
    if (err)
        cpu_destroy(c);
    return err;
}

void cpu_destroy(struct cpu *c)
{
    tlb_destroy(&c->dtlb);
    tlb_destroy(&c->itlb);
    tlb_destroy(&c->stlb);
    pwc_destroy(&c->pwc);
}

static void cpu_flush_context(struct cpu *c, unsigned pcid)
{
    tlb_invalidate_pcid(&c->dtlb, pcid);
    tlb_invalidate_pcid(&c->itlb, pcid);
    tlb_invalidate_pcid(&c->stlb, pcid);
    pwc_invalidate_pcid(&c->pwc, pcid);
    c->st.flushes_full++;
}

static void cpu_flush_tlb_page(struct cpu *c, uint64_t va)
{
    uint64_t vpn = va >> PAGE_SHIFT, key = tlb_key(vpn, c->pcid);
    tlb_invalidate(&c->dtlb, vpn, key);
    tlb_invalidate(&c->itlb, vpn, key);
    tlb_invalidate(&c->stlb, vpn, key);
}

/* What the hardware does to the faulting address on a page fault: it drops
 * any TLB entry for it and the paging-structure cache entries that would
 * translate it, so the handler's fix is seen without a flush. */
void cpu_fault_invalidate(struct cpu *c, uint64_t va)
{
    cpu_flush_tlb_page(c, va);
    pwc_invalidate_va(&c->pwc, va, c->pcid);
}

static int asid_slot_of(const struct cpu *c, uint64_t ctx_id)
{
    for (int i = 0; i < TLB_NR_DYN_ASIDS; i++)
        if (c->asid[i].ctx_id == ctx_id)
            return i;
    return -1;
}

/* The tlb_gen of loaded_mm that this CPU's TLB has caught up with. */
static uint64_t *ctx_tlb_gen(struct cpu *c)
{
    return c->pcid ? &c->asid[c->pcid - 1].tlb_gen : &c->tlb_gen;
}

/* CR3 load: run mm on this CPU. */
void switch_mm(vms_machine *m, struct cpu *c, struct mm_struct *next)
{
    struct mm_struct *prev = c->loaded_mm;
    if (prev == next)
        return;
    if (prev)
        prev->cpumask &= ~(1ULL << c->id);
    if (next)
        next->cpumask |= 1ULL << c->id;
    c->loaded_mm = next;
    c->running_mm = NULL;
    c->st.context_switches++;
    int kept = 0; /* the PCID's entries are still current: nothing flushed */
    if (!m->cfg.pcid) {
        c->pcid = 0;
        cpu_flush_context(c, 0);
        c->tlb_gen = next ? next->tlb_gen : 0;
    } else if (next) {
        int slot = asid_slot_of(c, next->ctx_id);
        if (slot < 0) {
            slot = (int)(c->next_asid++ % TLB_NR_DYN_ASIDS);
            c->asid[slot].ctx_id = next->ctx_id;
            c->asid[slot].tlb_gen = next->tlb_gen;
            cpu_flush_context(c, (unsigned)slot + 1);
        } else if (c->asid[slot].tlb_gen != next->tlb_gen) {
            c->asid[slot].tlb_gen = next->tlb_gen;
            cpu_flush_context(c, (unsigned)slot + 1);
        } else {
            kept = 1;
        }
        c->pcid = (unsigned)slot + 1;
    } else {
        c->pcid = 0; /* the kernel's own context */
    }
    if (next)
        trace_event(m, &(struct vms_event){.kind = VMS_EV_CR3, .cpu = c->id,
                                           .pa = (uint64_t)next->pgd << PAGE_SHIFT,
                                           .index = c->pcid, .b = (uint64_t)kept});
}

void cpu_run(vms_machine *m, struct cpu *c, struct vms_task *t)
{
    if (c->loaded_mm != t->mm) {
        switch_mm(m, c, t->mm);
    } else if (c->running_mm != t->mm && *ctx_tlb_gen(c) != t->mm->tlb_gen) {
        /* Back from lazy mode: shootdowns were skipped, flush what they missed. */
        cpu_flush_context(c, c->pcid);
        *ctx_tlb_gen(c) = t->mm->tlb_gen;
    }
    c->running_mm = t->mm;
    c->curr = t;
}

void cpu_idle(struct cpu *c)
{
    c->running_mm = NULL;
    c->curr = NULL;
}

/* Flush [start, end) of mm on one CPU that runs it: INVLPG page by page,
 * each of which also drops (SDM 4.10.4.1) every paging-structure cache entry
 * of the current PCID, whatever its address. Linux relies on that: after
 * freeing page tables it flushes only the first page each freed table
 * covered (pte_free_tlb), or the whole context. */
static void flush_on_cpu(vms_machine *m, struct cpu *c, struct mm_struct *mm,
                         uint64_t start, uint64_t end, int full)
{
    if (full) {
        cpu_flush_context(c, c->pcid);
    } else {
        for (uint64_t va = start; va < end; va += PAGE_SIZE)
            cpu_flush_tlb_page(c, va);
        pwc_invalidate_pcid(&c->pwc, c->pcid); /* what each INVLPG does: once is enough */
        c->st.flushes_single += (end - start) >> PAGE_SHIFT;
    }
    *ctx_tlb_gen(c) = mm->tlb_gen;
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FLUSH, .cpu = c->id,
                                       .a = full ? 0 : start, .b = full ? 0 : end});
}

/* Linux's flush_tlb_mm_range(): invalidate [start, end) of mm wherever it may
 * be cached. `self` is the CPU making the request. Lazy CPUs are skipped
 * unless page tables were freed: then they leave the mm instead, so that
 * nothing can walk the freed tables. */
void flush_tlb_range_tables(vms_machine *m, struct mm_struct *mm, unsigned self, uint64_t start,
                            uint64_t end, int freed_tables)
{
    if (start >= end)
        return;
    int full = ((end - start) >> PAGE_SHIFT) > m->cfg.tlb_flush_ceiling;
    mm->tlb_gen++;
    struct cpu *me = &m->cpus[self];
    unsigned sent = 0;
    for (unsigned i = 0; i < m->ncpus; i++) {
        if (!(mm->cpumask & (1ULL << i)))
            continue;
        struct cpu *c = &m->cpus[i];
        int lazy = c->running_mm != mm && i != self;
        if (lazy && !freed_tables) {
            c->st.lazy_skips++;
            continue;
        }
        if (i != self) {
            sent++;
            c->st.ipis_received++;
            trace_event(m, &(struct vms_event){.kind = VMS_EV_IPI, .cpu = i});
        }
        if (lazy)
            switch_mm(m, c, NULL);
        else
            flush_on_cpu(m, c, mm, start, end, full);
    }
    if (sent) {
        me->st.shootdowns++;
        me->st.ipis_sent += sent;
    }
}

void flush_tlb_mm_range(vms_machine *m, struct mm_struct *mm, unsigned self, uint64_t start,
                        uint64_t end)
{
    flush_tlb_range_tables(m, mm, self, start, end, 0);
}

/* ---- introspection ---- */

const char *vms_tlb_level_name(enum vms_tlb_level l)
{
    static const char *const names[VMS_TLB_NLEVELS] = {"L1d", "L1i", "L2"};
    return (unsigned)l < VMS_TLB_NLEVELS ? names[l] : "unknown";
}

static const struct tlb *cpu_tlb(const struct cpu *c, enum vms_tlb_level l)
{
    return l == VMS_TLB_L1D ? &c->dtlb : l == VMS_TLB_L1I ? &c->itlb : &c->stlb;
}

static void tlb_entry_describe(const vms_machine *m, const struct tlb *t, size_t i,
                               enum vms_tlb_level l, struct vms_tlb_entry *out)
{
    uint64_t tag = t->tag[i];
    const struct tlb_entry *e = &t->e[i];
    unsigned perm = e->perm;
    *out = (struct vms_tlb_entry){
        .level = l,
        .set = (unsigned)(i / t->ways),
        .way = (unsigned)(i % t->ways),
        .vpn = tag >> 12,
        .pfn = (uint64_t)(e->host - m->pm.ram) >> PAGE_SHIFT,
        .pcid = (unsigned)(tag & 0xfff),
        .page_size = PAGE_SIZE,
        .user = 1,
        .writable = (perm & (TLB_W | TLB_WCLEAN)) != 0,
        .dirty = (perm & TLB_W) != 0,
        .exec = (perm & TLB_X) != 0,
        .pkey_denied = (perm & TLB_PK) != 0,
        .lru = e->lru,
    };
}

int vms_tlb_visit(vms_machine *m, unsigned cpu, int (*fn)(void *arg, const struct vms_tlb_entry *e),
                  void *arg)
{
    if (cpu >= m->ncpus)
        return -EINVAL;
    const struct cpu *c = &m->cpus[cpu];
    for (unsigned l = 0; l < VMS_TLB_NLEVELS; l++) {
        const struct tlb *t = cpu_tlb(c, (enum vms_tlb_level)l);
        size_t n = (t->set_mask + 1) * t->ways;
        for (size_t i = 0; i < n; i++) {
            if (t->tag[i] == TLB_INVALID)
                continue;
            struct vms_tlb_entry e;
            tlb_entry_describe(m, t, i, (enum vms_tlb_level)l, &e);
            int r = fn(arg, &e);
            if (r)
                return r;
        }
    }
    return 0;
}

int vms_tlb_geometry(vms_machine *m, enum vms_tlb_level l, struct vms_tlb_geometry *g)
{
    switch (l) {
    case VMS_TLB_L1D: *g = m->cfg.dtlb; return 0;
    case VMS_TLB_L1I: *g = m->cfg.itlb; return 0;
    case VMS_TLB_L2: *g = m->cfg.stlb; return 0;
    default: return -EINVAL;
    }
}

unsigned vms_cpu_count(vms_machine *m) { return m->ncpus; }

int vms_cpu_info(vms_machine *m, unsigned cpu, struct vms_cpu_info *ci)
{
    if (cpu >= m->ncpus)
        return -EINVAL;
    const struct cpu *c = &m->cpus[cpu];
    *ci = (struct vms_cpu_info){
        .pid = c->curr ? c->curr->pid : 0,
        .pcid = c->pcid,
        .cr3_pa = c->loaded_mm ? (uint64_t)c->loaded_mm->pgd << PAGE_SHIFT : 0,
        .lazy = c->loaded_mm && !c->running_mm,
    };
    return 0;
}
