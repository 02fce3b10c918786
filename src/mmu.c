/*
 * The MMU: every vms_load, vms_store and vms_fetch translates through the
 * CPU's TLBs; an L1 miss looks in the L2 TLB; an L2 miss walks the page
 * tables in simulated RAM (each entry read is a counted memory reference),
 * checks present, RW, US and NX along the way, sets the Accessed and Dirty
 * bits, and fills both TLB levels. The walk starts below the top when a
 * paging-structure cache (src/pwc.c) holds an upper-level entry for the
 * address, and fills those caches with the entries it reads. A refusal
 * raises a page fault, handled as the kernel would, after which the access
 * is retried.
 *
 * As on x86: a TLB entry that denies an access raises the fault without a new
 * walk (the fault drops the entry), except for a store to a writable page
 * whose cached D bit is clear, which walks once to set it.
 */
#include "internal.h"

#include <string.h>

enum access { ACC_READ, ACC_WRITE, ACC_FETCH };

static const unsigned need_of[] = {[ACC_READ] = TLB_R, [ACC_WRITE] = TLB_W, [ACC_FETCH] = TLB_X};
static const unsigned pf_of[] = {[ACC_READ] = 0, [ACC_WRITE] = PF_WRITE, [ACC_FETCH] = PF_INSTR};

static int canonical(const struct mm_struct *mm, uint64_t va)
{
    int bits = pgtable_levels(mm) == 5 ? 57 : 48;
    uint64_t top = va >> (bits - 1);
    return top == 0 || top == (UINT64_MAX >> (bits - 1));
}

/* The miss path below is written once and compiled for each access kind,
 * with and without a trace listener (the `tracing` argument is a constant
 * in every copy), so that a miss runs no test that the kind or an absent
 * listener decides: what a TLB miss costs is mostly its instructions. */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define trace_if(tracing, m, ...)                                              \
    do {                                                                       \
        if (tracing)                                                           \
            trace_event(m, __VA_ARGS__);                                       \
    } while (0)

/* Where a walk starts: the top table, or the table the lowest cached
 * paging-structure entry for va points to, with the rights it carries. */
static ALWAYS_INLINE pte_t *walk_start(vms_machine *m, struct cpu *c, struct mm_struct *mm,
                                       uint64_t va, int *level, uint64_t *allow, uint64_t *nx,
                                       const int tracing)
{
    int levels = pgtable_levels(mm);
    uint8_t *table;
    unsigned rights;
    int hit = pwc_lookup(&c->pwc, va, c->pcid, &table, &rights, ++c->tick);
    if (!hit) {
        *level = levels;
        return table_of(&m->pm, mm->pgd);
    }
    *level = hit - 1;
    *allow = rights & (_PAGE_RW | _PAGE_USER);
    *nx = (rights & PWC_NX) ? _PAGE_NX : 0;
    if (hit == PWC_LOWEST)
        c->st.pde_cache_hits++;
    else if (hit == PWC_LOWEST + 1)
        c->st.pdpte_cache_hits++;
    else
        c->st.pml4e_cache_hits++;
    c->st.walk_refs_saved += (uint64_t)(levels - hit + 1);
    trace_if(tracing, m, &(struct vms_event){.kind = VMS_EV_PWC_HIT, .cpu = c->id, .a = va,
                                             .level = hit - 1, .b = (uint64_t)levels,
                                             .pa = (uint64_t)(table - m->pm.ram),
                                             .detail = pgtable_level_name(hit - 1, levels)});
    return (pte_t *)table;
}

/* The hardware walk, from where the paging-structure caches let it start.
 * Returns 0 with the leaf PTE, or a page-fault error code. */
static ALWAYS_INLINE unsigned hw_walk(vms_machine *m, struct cpu *c, struct mm_struct *mm,
                                      uint64_t va, enum access acc, pte_t **leaf,
                                      const int tracing)
{
    uint64_t allow = _PAGE_RW | _PAGE_USER, nx = 0;
    int level;
    pte_t *table = walk_start(m, c, mm, va, &level, &allow, &nx, tracing);
    c->st.page_walks++;
    for (; level >= 1; level--) {
        unsigned idx = table_index(va, level);
        pte_t *e = &table[idx];
        c->st.walk_refs++;
        trace_if(tracing, m, &(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = c->id, .a = va,
                                                 .level = level, .index = idx, .entry = *e,
                                                 .pa = (uint64_t)((uint8_t *)table - m->pm.ram),
                                                 .b = (uint64_t)pgtable_levels(mm),
                                                 .detail = pgtable_level_name(level,
                                                                              pgtable_levels(mm))});
        if (!(*e & _PAGE_PRESENT))
            return PF_USER | pf_of[acc];
        allow &= *e;
        nx |= *e & _PAGE_NX;
        if (level == 1)
            break;
        if (!(*e & _PAGE_ACCESSED))
            *e |= _PAGE_ACCESSED;
        table = table_of(&m->pm, pte_pfn(*e));
        if (pwc_present(&c->pwc, level))
            pwc_fill(&c->pwc, level, va, c->pcid, (uint8_t *)table,
                     (unsigned)(allow & (_PAGE_RW | _PAGE_USER)) | (nx ? PWC_NX : 0), c->tick);
    }
    pte_t *pte = &table[table_index(va, 1)];
    if (!(allow & _PAGE_USER) || (acc == ACC_WRITE && !(allow & _PAGE_RW)) ||
        (acc == ACC_FETCH && nx))
        return PF_PROT | PF_USER | pf_of[acc];
    if (acc != ACC_FETCH && PKRU_DENIES(pte_pkey(*pte)))
        return PF_PROT | PF_USER | PF_PK | pf_of[acc];
    *pte |= _PAGE_ACCESSED | (acc == ACC_WRITE ? _PAGE_DIRTY : 0);
    *leaf = pte;
    return 0;
}

static unsigned tlb_perm_of(pte_t e)
{
    unsigned perm = TLB_R;
    if (e & _PAGE_RW)
        perm |= (e & _PAGE_DIRTY) ? TLB_W : TLB_WCLEAN;
    if (PKRU_DENIES(pte_pkey(e)))
        perm = TLB_PK;
    if (!(e & _PAGE_NX))
        perm |= TLB_X;
    return perm;
}

/* A stamp of an L1 entry by the slow path: a fill, or a hit it found. */
static ALWAYS_INLINE uint64_t l1_stamp(struct cpu *c, enum access acc)
{
    struct l1_clock *k = acc == ACC_FETCH ? &c->iclock : &c->dclock;
    k->slow++;
    return ++k->now;
}

static ALWAYS_INLINE void count_l1(struct cpu *c, enum access acc, int hit)
{
    if (acc == ACC_FETCH)
        (*(hit ? &c->st.itlb_hits : &c->st.itlb_misses))++;
    else
        (*(hit ? &c->st.dtlb_hits : &c->st.dtlb_misses))++;
}

/* An L1 and L2 lookup of key (fingerprint fp); the entry found (filled into
 * L1 on an L2 hit), or NULL. l1_missed: the fast path has just looked in L1
 * and not found the key, and nothing has run since, so L1 is not searched
 * again. */
static ALWAYS_INLINE struct tlb_entry *tlb_find(struct cpu *c, struct tlb *l1, uint64_t vpn,
                                                uint64_t key, unsigned fp, enum access acc,
                                                int l1_missed)
{
    struct tlb_entry *e = l1_missed ? NULL : tlb_probe(l1, vpn & l1->set_mask, key, fp);
    if (e) {
        count_l1(c, acc, 1);
        return e;
    }
    count_l1(c, acc, 0);
    struct tlb_entry *e2 = tlb_probe(&c->stlb, vpn & c->stlb.set_mask, key, fp);
    if (!e2) {
        c->st.stlb_misses++;
        return NULL;
    }
    c->st.stlb_hits++;
    tlb_touch(&c->stlb, e2, ++c->tick);
    return tlb_fill(l1, vpn & l1->set_mask, key, fp, e2->host, e2->perm, l1_stamp(c, acc));
}

/* Speed only, nothing a user sees: the L2 TLB has missed, so the walk will
 * read the PTE and the access its data, two reads of the host's memory of
 * which the second needs the first. Reading the page tables now, with no
 * side effect, and prefetching the data's line starts both before the
 * paging-structure caches' lookups and the walk's bookkeeping, a few
 * hundred instructions: the host's out-of-order window then reaches the
 * next miss's reads while this one's data is still on its way
 * (docs/fidelity.md, "Speed"). Stops at an entry that is not present. */
static ALWAYS_INLINE void walk_prefetch(const vms_machine *m, struct mm_struct *mm, uint64_t va)
{
    const pte_t *pte = pte_offset(mm, va);
    if (pte && (*pte & _PAGE_PRESENT))
        __builtin_prefetch((uint8_t *)pfn_to_virt(&m->pm, pte_pfn(*pte)) + (va & (PAGE_SIZE - 1)));
}

/* One attempt at the hardware's part of an access on CPU c: the TLBs, and
 * on a miss the walk, whose translation fills both levels. Returns the
 * frame's bytes, or NULL with the page-fault error code in *err (a walk's
 * refusal, or a cached entry's). */
static ALWAYS_INLINE uint8_t *tlb_translate(vms_machine *m, struct cpu *c, struct mm_struct *mm,
                                            uint64_t va, enum access acc, int l1_missed,
                                            unsigned *err, const int tracing)
{
    struct tlb *l1 = acc == ACC_FETCH ? &c->itlb : &c->dtlb;
    unsigned need = need_of[acc];
    uint64_t vpn = va >> PAGE_SHIFT, key = tlb_key(vpn, c->pcid);
    unsigned fp = tlb_fp(key);
    struct tlb_entry *e = tlb_find(c, l1, vpn, key, fp, acc, l1_missed);
    if (e && (e->perm & need) == need) {
        e->lru = (uint32_t)l1_stamp(c, acc);
        return e->host;
    }
    if (e && !(need == TLB_W && (e->perm & TLB_WCLEAN))) {
        *err = PF_PROT | PF_USER | pf_of[acc]; /* the cached entry refuses */
        if ((e->perm & TLB_PK) && acc != ACC_FETCH)
            *err |= PF_PK;
        return NULL;
    }
    if (!e && acc != ACC_FETCH) /* a fetch reads no data */
        walk_prefetch(m, mm, va);
    if (!e)
        trace_if(tracing, m, &(struct vms_event){.kind = VMS_EV_TLB_MISS, .cpu = c->id,
                                                 .a = va, .level = 2});
    pte_t *pte = NULL;
    *err = hw_walk(m, c, mm, va, acc, &pte, tracing);
    if (*err)
        return NULL;
    uint8_t *host = pfn_to_virt(&m->pm, pte_pfn(*pte));
    unsigned perm = tlb_perm_of(*pte);
    if (e) { /* a write upgrades the clean entry of both levels */
        tlb_insert(&c->stlb, vpn, key, host, perm, ++c->tick);
        tlb_insert(l1, vpn, key, host, perm, l1_stamp(c, acc));
    } else {
        tlb_fill(&c->stlb, vpn & c->stlb.set_mask, key, fp, host, perm, ++c->tick);
        tlb_fill(l1, vpn & l1->set_mask, key, fp, host, perm, l1_stamp(c, acc));
    }
    trace_if(tracing, m, &(struct vms_event){.kind = VMS_EV_TLB_FILL, .cpu = c->id, .a = va,
                                             .pa = pte_pfn(*pte) << PAGE_SHIFT});
    return host;
}

static int raise_gp(struct vms_task *t)
{
    if (t->in_uaccess)
        return SIGSEGV;
    t->fault = (struct vms_fault){.signo = SIGSEGV, .code = SI_KERNEL, .addr = 0};
    return SIGSEGV;
}

/* What stops an access before the TLBs: a killed task, a non-canonical
 * address. 0 or the signal. */
static __attribute__((noinline)) int translate_refused(struct vms_task *t, uint64_t va)
{
    if (t->oom_killed) { /* its process is dead: the kill's signal */
        if (!t->in_uaccess)
            t->fault = (struct vms_fault){.signo = SIGKILL, .code = SI_KERNEL, .addr = 0};
        return SIGKILL;
    }
    if (!canonical(t->mm, va))
        return raise_gp(t);
    return 0;
}

/* The page fault an attempt raised: the hardware drops what it cached for
 * va, then the kernel's handler runs. Returns the CPU t runs on for the next
 * attempt, or NULL with the signal in *sig. */
static __attribute__((noinline)) struct cpu *translate_fault(struct vms_task *t, struct cpu *c,
                                                            uint64_t va, unsigned err, int *sig)
{
    cpu_fault_invalidate(c, va);
    if (t->pagefault_disabled) {
        *sig = SIGSEGV;
        return NULL;
    }
    *sig = do_user_addr_fault(t, va, err);
    if (*sig)
        return NULL;
    return task_cpu_enter(t);
}

/* The slow path: TLB levels, walk, fault and retry. Returns the frame's bytes
 * or NULL with the signal in *sig. l1_missed: the fast path found no L1 entry
 * for va on t's CPU just before (tlb_fast). */
static ALWAYS_INLINE uint8_t *translate(struct vms_task *t, uint64_t va, enum access acc,
                                        int *sig, int l1_missed)
{
    vms_machine *m = t->m;
    if (unlikely(t->oom_killed || !canonical(t->mm, va))) {
        *sig = translate_refused(t, va);
        return NULL;
    }
    l1_missed = l1_missed && t->cpu_ptr->curr == t; /* else task_cpu may flush */
    struct cpu *c = task_cpu(t);
    for (int tries = 0; tries < 4; tries++) {
        unsigned err = 0;
        uint8_t *host = unlikely(m->cfg.trace)
                            ? tlb_translate(m, c, t->mm, va, acc, l1_missed && !tries, &err, 1)
                            : tlb_translate(m, c, t->mm, va, acc, l1_missed && !tries, &err, 0);
        if (host)
            return host;
        c = translate_fault(t, c, va, err, sig);
        if (!c)
            return NULL;
    }
    /* A fault that the handler fixed must not repeat; if it does, stop the task. */
    t->fault = (struct vms_fault){.signo = SIGKILL, .code = 0, .addr = va};
    *sig = SIGKILL;
    return NULL;
}

/* translate for each access kind, and for one known only at run time. */
static __attribute__((noinline)) uint8_t *translate_read(struct vms_task *t, uint64_t va,
                                                         int *sig, int l1_missed)
{
    return translate(t, va, ACC_READ, sig, l1_missed);
}

static __attribute__((noinline)) uint8_t *translate_write(struct vms_task *t, uint64_t va,
                                                          int *sig, int l1_missed)
{
    return translate(t, va, ACC_WRITE, sig, l1_missed);
}

static __attribute__((noinline)) uint8_t *translate_fetch(struct vms_task *t, uint64_t va,
                                                          int *sig, int l1_missed)
{
    return translate(t, va, ACC_FETCH, sig, l1_missed);
}

static ALWAYS_INLINE uint8_t *translate_acc(struct vms_task *t, uint64_t va, enum access acc,
                                            int *sig, int l1_missed)
{
    switch (acc) {
    case ACC_READ: return translate_read(t, va, sig, l1_missed);
    case ACC_WRITE: return translate_write(t, va, sig, l1_missed);
    default: return translate_fetch(t, va, sig, l1_missed);
    }
}

/* What the fast path found out when it returned no entry (l1_look). */
enum l1_look {
    L1_UNKNOWN,  /* nothing: another mm runs on the CPU, or the entry refuses */
    L1_MISSED,   /* the set holds no entry for va: the slow path does not look again */
    L1_ONE_WAY,  /* the first way looked at does not hold va: search the others */
};

/* The fast path: the L1 entry of an L1 hit with the rights needed, on the
 * CPU that runs t's mm, or NULL with what it found out in *look. Inline in
 * the access calls, it looks at one way of the set only (the accesses'
 * slow paths search the whole set, a search that costs registers the fast
 * path has not got to spare): data accesses at way 0, instruction fetches
 * at the way of the set's last hit (consecutive fetches nearly always touch
 * the same page). The whole set is read with no branch on where the key
 * is: which way hits is as random as the program's accesses (a set holds a
 * key once at most), and a mispredicted branch costs more than the reads.
 * Written for the compiler: an L1 TLB has at least one way; the entry is
 * returned rather than its frame, so that the caller tests one pointer that
 * the search already had in a register. */
static ALWAYS_INLINE struct tlb_entry *tlb_fast(struct vms_task *t, uint64_t va,
                                                enum access acc, int *look, const int whole_set)
{
    struct cpu *c = t->cpu_ptr;
    if (unlikely(c->running_mm != t->mm))
        return NULL;
    struct tlb *l1 = acc == ACC_FETCH ? &c->itlb : &c->dtlb;
    uint64_t vpn = va >> PAGE_SHIFT, key = tlb_key(vpn, c->pcid), set = vpn & l1->set_mask;
    size_t base = set * l1->ways, i = base;
    const uint64_t *tag = l1->tag;
    if (acc == ACC_FETCH) /* the way of the set's last hit first */
        i += l1->mru[set];
    if (unlikely(tag[i] != key)) {
        if (!whole_set) {
            *look = L1_ONE_WAY;
            return NULL;
        }
        for (size_t w = base; w < base + l1->ways; w++)
            i = tag[w] == key ? w : i;
        if (tag[i] != key) {
            *look = L1_MISSED;
            return NULL;
        }
        if (acc == ACC_FETCH)
            l1->mru[set] = (uint32_t)(i - base);
    }
    struct tlb_entry *e = &l1->e[i];
    if (unlikely((e->perm & need_of[acc]) != need_of[acc]))
        return NULL;
    e->lru = (uint32_t)++(acc == ACC_FETCH ? &c->iclock : &c->dclock)->now; /* counts the hit */
    return e;
}

/* x86's copy_user (rep movsb) copies forward: a write() whose buffer maps
 * the very page it writes, a little below the target, re-reads bytes it
 * has already overwritten. memmove would not, so the overlap is done as the
 * hardware does it. */
static void copy_forward(uint8_t *dst, const uint8_t *src, uint64_t n)
{
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
    if (d > s && d - s < n) {
        for (uint64_t i = 0; i < n; i++)
            dst[i] = src[i];
    } else {
        memmove(dst, src, n);
    }
}

/* The kernel's copy_to_user/copy_from_user: the same path, but a fault that
 * cannot be fixed ends the copy instead of raising a signal. */
static uint64_t uaccess(struct vms_task *t, uint64_t va, uint8_t *buf, uint64_t len,
                        enum access acc)
{
    uint64_t done = 0;
    t->in_uaccess = 1;
    while (done < len) {
        uint64_t off = (va + done) & (PAGE_SIZE - 1);
        uint64_t n = PAGE_SIZE - off < len - done ? PAGE_SIZE - off : len - done;
        int sig = 0;
        uint8_t *page = translate_acc(t, va + done, acc, &sig, 0);
        if (!page)
            break;
        if (acc == ACC_WRITE)
            copy_forward(page + off, buf + done, n);
        else
            copy_forward(buf + done, page + off, n);
        done += n;
    }
    t->in_uaccess = 0;
    return done;
}

uint64_t copy_to_user(struct vms_task *t, uint64_t va, const void *src, uint64_t len)
{
    return uaccess(t, va, (uint8_t *)(uintptr_t)src, len, ACC_WRITE);
}

uint64_t copy_from_user(struct vms_task *t, void *dst, uint64_t va, uint64_t len)
{
    return uaccess(t, va, dst, len, ACC_READ);
}

uint64_t copy_from_user_nofault(struct vms_task *t, void *dst, uint64_t va, uint64_t len)
{
    t->pagefault_disabled = 1;
    uint64_t done = uaccess(t, va, dst, len, ACC_READ);
    t->pagefault_disabled = 0;
    return done;
}

uint64_t fault_in_readable(struct vms_task *t, uint64_t va, uint64_t len)
{
    uint64_t done = 0;
    t->in_uaccess = 1;
    while (done < len) {
        uint64_t n = PAGE_SIZE - ((va + done) & (PAGE_SIZE - 1));
        int sig = 0;
        if (!translate_read(t, va + done, &sig, 0))
            break;
        done += n < len - done ? n : len - done;
    }
    t->in_uaccess = 0;
    return done;
}

/* A copy of what programs load and store: fixed sizes the compiler inlines
 * for the common words, memcpy for the rest. */
static inline void copy_small(void *dst, const void *src, size_t len)
{
    if (likely(len == 8)) { /* a word: one test */
        memcpy(dst, src, 8);
        return;
    }
    switch (len) {
    case 8: memcpy(dst, src, 8); break;
    case 4: memcpy(dst, src, 4); break;
    case 2: memcpy(dst, src, 2); break;
    case 1: memcpy(dst, src, 1); break;
    default: memcpy(dst, src, len); break;
    }
}

/* An access that raised sig has returned to the program: if the OOM
 * killer killed the task's own process on the way, its memory goes now. */
static int access_failed(struct vms_task *t, int sig)
{
    if (unlikely(t->m->oom_reap_pending)) {
        t->m->current = NULL;
        oom_reap_pending(t->m);
    }
    return sig;
}

/* Copies page by page; bytes before a faulting page are transferred, as a
 * CPU's string copy would. */
__attribute__((noinline)) /* keeps the fast path's prologue small */
static int access_slow(struct vms_task *t, uint64_t va, uint8_t *buf, size_t len,
                       enum access acc)
{
    while (len) {
        uint64_t off = va & (PAGE_SIZE - 1);
        size_t n = PAGE_SIZE - off < len ? (size_t)(PAGE_SIZE - off) : len;
        int sig = 0, look = L1_UNKNOWN;
        struct tlb_entry *e = tlb_fast(t, va, acc, &look, 1);
        uint8_t *page = e ? e->host : translate_acc(t, va, acc, &sig, look == L1_MISSED);
        if (!page)
            return access_failed(t, sig);
        if (acc == ACC_READ)
            memcpy(buf, page + off, n);
        else if (acc == ACC_WRITE)
            memcpy(page + off, buf, n);
        va += n;
        len -= n;
        if (buf)
            buf += n;
    }
    return 0;
}

/* The slow path of an access within one page whose fast path found no
 * entry. */
static ALWAYS_INLINE int access_page_slow(struct vms_task *t, uint64_t va, uint8_t *buf,
                                          size_t len, enum access acc, int look)
{
    int sig = 0;
    uint8_t *page = translate(t, va, acc, &sig, look == L1_MISSED); /* inline: a call less */
    if (!page)
        return access_failed(t, sig);
    page += va & (PAGE_SIZE - 1);
    if (acc == ACC_READ)
        copy_small(buf, page, len);
    else if (acc == ACC_WRITE)
        copy_small(page, buf, len);
    return 0;
}

/* The same for each access kind: out of line, to keep the fast paths'
 * prologues small. */
static __attribute__((noinline)) int load_page_slow(struct vms_task *t, uint64_t va, uint8_t *buf,
                                                    size_t len, int look)
{
    return access_page_slow(t, va, buf, len, ACC_READ, look);
}

static __attribute__((noinline)) int store_page_slow(struct vms_task *t, uint64_t va,
                                                     uint8_t *buf, size_t len, int look)
{
    return access_page_slow(t, va, buf, len, ACC_WRITE, look);
}

static __attribute__((noinline)) int fetch_page_slow(struct vms_task *t, uint64_t va, size_t len,
                                                     int look)
{
    return access_page_slow(t, va, NULL, len, ACC_FETCH, look);
}

/* Do the len bytes at va lie in one page? Not for len 0: the page by page
 * path takes that and touches nothing. Written without the offset in the
 * page, which the fast path then keeps in no register (the two values
 * ORed are both below PAGE_SIZE exactly when each is). */
static inline int within_page(uint64_t va, size_t len)
{
    return (((va + len - 1) ^ va) | (len - 1)) < PAGE_SIZE;
}

/* After the fast path's one way, the rest of the L1 set; then the slow
 * path. Small and out of line: a hit in another way saves its registers. */
static __attribute__((noinline)) int load_other_ways(struct vms_task *t, uint64_t va,
                                                     uint8_t *dst, size_t len)
{
    int look = L1_UNKNOWN;
    struct tlb_entry *e = tlb_fast(t, va, ACC_READ, &look, 1);
    if (likely(e)) {
        copy_small(dst, e->host + (va & (PAGE_SIZE - 1)), len);
        return 0;
    }
    return load_page_slow(t, va, dst, len, look);
}

static __attribute__((noinline)) int store_other_ways(struct vms_task *t, uint64_t va,
                                                      uint8_t *src, size_t len)
{
    int look = L1_UNKNOWN;
    struct tlb_entry *e = tlb_fast(t, va, ACC_WRITE, &look, 1);
    if (likely(e)) {
        copy_small(e->host + (va & (PAGE_SIZE - 1)), src, len);
        return 0;
    }
    return store_page_slow(t, va, src, len, look);
}

static __attribute__((noinline)) int fetch_other_ways(struct vms_task *t, uint64_t va,
                                                      size_t len)
{
    int look = L1_UNKNOWN;
    if (likely(tlb_fast(t, va, ACC_FETCH, &look, 1)))
        return 0;
    return fetch_page_slow(t, va, len, look);
}

int vms_load(vms_task *t, vms_addr va, void *dst, size_t len)
{
    if (likely(within_page(va, len))) {
        int look = L1_UNKNOWN;
        struct tlb_entry *e = tlb_fast(t, va, ACC_READ, &look, 0);
        if (likely(e)) {
            copy_small(dst, e->host + (va & (PAGE_SIZE - 1)), len);
            return 0;
        }
        return look == L1_ONE_WAY ? load_other_ways(t, va, dst, len)
                                  : load_page_slow(t, va, dst, len, look);
    }
    return access_slow(t, va, dst, len, ACC_READ);
}

int vms_store(vms_task *t, vms_addr va, const void *src, size_t len)
{
    if (likely(within_page(va, len))) {
        int look = L1_UNKNOWN;
        struct tlb_entry *e = tlb_fast(t, va, ACC_WRITE, &look, 0);
        if (likely(e)) {
            copy_small(e->host + (va & (PAGE_SIZE - 1)), src, len);
            return 0;
        }
        return look == L1_ONE_WAY ? store_other_ways(t, va, (uint8_t *)(uintptr_t)src, len)
                                  : store_page_slow(t, va, (uint8_t *)(uintptr_t)src, len, look);
    }
    return access_slow(t, va, (uint8_t *)(uintptr_t)src, len, ACC_WRITE);
}

int vms_fetch(vms_task *t, vms_addr va, size_t len)
{
    if (likely(within_page(va, len))) { /* most instructions: the ITLB's fast path */
        int look = L1_UNKNOWN;
        if (likely(tlb_fast(t, va, ACC_FETCH, &look, 0)))
            return 0;
        return look == L1_ONE_WAY ? fetch_other_ways(t, va, len)
                                  : fetch_page_slow(t, va, len, look);
    }
    return access_slow(t, va, NULL, len, ACC_FETCH);
}
