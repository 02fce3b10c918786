/*
 * test_pwc.c - the paging-structure caches (src/pwc.c): a walk after a TLB
 * miss starts at the PTE table when the PDE cache holds the address's 2 MiB
 * prefix, at the page directory on a PDPTE-cache hit (1 GiB), at the PDPT
 * on a PML4E-cache hit (512 GiB); hits and the references saved are
 * counted. The flush rules of Intel SDM vol. 3 4.10.4.1 as Linux meets them:
 * a page fault drops the faulting address's entries only; INVLPG drops every
 * entry of the current PCID; a whole-context flush and a CR3 load without
 * PCID drop them all; with PCID a context's entries survive a switch unless
 * its mm changed meanwhile. Freed page tables never stay reachable: a stale
 * entry would turn into a wrong translation, which these tests would see.
 */
#include "testutil.h"

#include "internal.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define FIXED_POP (PRIV | MAP_FIXED | MAP_POPULATE)
#define MiB2 (1ULL << 21)
#define GiB1 (1ULL << 30)
#define GiB512 (1ULL << 39)
#define A 0x100000000000ULL /* PGD slot 32: nothing else of the process near it */

struct fixture {
    vms_machine *m;
    vms_task *t;
};

static void skylake_caches(struct vms_config *c) { tu_pwc(c, 0); }

static int setup_with(void **state, struct vms_config *c)
{
    struct fixture *f = malloc(sizeof(*f));
    assert_non_null(f);
    f->m = tu_machine_with(c);
    f->t = tu_spawn(f->m);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    skylake_caches(&c);
    c.pcid = 0;
    return setup_with(state, &c);
}

static int setup_pcid(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    skylake_caches(&c);
    c.pcid = 1;
    return setup_with(state, &c);
}

static int setup_none(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.pde_cache.entries = c.pdpte_cache.entries = c.pml4e_cache.entries = 0;
    c.pcid = 0;
    return setup_with(state, &c);
}

static int setup_5level(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    skylake_caches(&c);
    c.pcid = 0;
    c.pgtable_levels = 5;
    return setup_with(state, &c);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tu_assert_clean(f->m);
    vms_machine_destroy(f->m);
    free(f);
    return 0;
}

static struct vms_cpu_stats cpu_stats(vms_machine *m, unsigned cpu)
{
    struct vms_stats *s = tu_stats(m);
    struct vms_cpu_stats c = s->cpu[cpu];
    free(s);
    return c;
}

#define DELTA(after, before, field) ((after).field - (before).field)
#define refs_of_load(t, cpu, va) refs_of_load_on(f->m, t, cpu, va)

/* One populated page at va. */
static void map_page(vms_task *t, vms_addr va)
{
    assert_int_equal(tu_mmap(t, va, TU_PAGE, RW, FIXED_POP), va);
}

/* The walk references a TLB-missing load of va costs on cpu. */
static uint64_t refs_of_load_on(vms_machine *m, vms_task *t, unsigned cpu, vms_addr va)
{
    struct vms_cpu_stats b = cpu_stats(m, cpu);
    (void)tu_load_byte(t, va);
    struct vms_cpu_stats e = cpu_stats(m, cpu);
    assert_int_equal(DELTA(e, b, page_walks), 1);
    return DELTA(e, b, walk_refs);
}

/* ---- where a walk starts ---- */

static void test_same_2m_starts_at_the_pte_table(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    assert_int_equal(refs_of_load(f->t, 0, A), 4);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, pde_cache_hits), 1);
    assert_int_equal(DELTA(e, b, pdpte_cache_hits) + DELTA(e, b, pml4e_cache_hits), 0);
    assert_int_equal(DELTA(e, b, walk_refs_saved), 3);
}

static void test_same_1g_starts_at_the_page_directory(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + MiB2);
    assert_int_equal(refs_of_load(f->t, 0, A), 4);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(refs_of_load(f->t, 0, A + MiB2), 2);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, pdpte_cache_hits), 1);
    assert_int_equal(DELTA(e, b, pde_cache_hits), 0);
    assert_int_equal(DELTA(e, b, walk_refs_saved), 2);
}

static void test_same_512g_starts_at_the_pdpt(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + GiB1);
    assert_int_equal(refs_of_load(f->t, 0, A), 4);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(refs_of_load(f->t, 0, A + GiB1), 3);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, pml4e_cache_hits), 1);
    assert_int_equal(DELTA(e, b, walk_refs_saved), 1);
}

static void test_other_512g_walks_from_the_top(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + GiB512);
    assert_int_equal(refs_of_load(f->t, 0, A), 4);
    assert_int_equal(refs_of_load(f->t, 0, A + GiB512), 4);
}

static void test_without_caches_every_walk_reads_four(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    assert_int_equal(refs_of_load(f->t, 0, A), 4);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 4);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(e.pde_cache_hits + e.pdpte_cache_hits + e.pml4e_cache_hits, 0);
    assert_int_equal(e.walk_refs_saved, 0);
}

/* A page fault drops the faulting address's entries from every cache, the
 * absent ones included (which hold nothing to drop). */
static void test_without_caches_a_demand_fault_walks_twice(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(tu_mmap(f->t, A, TU_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), A);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    tu_store_byte(f->t, A, 7);
    assert_int_equal(tu_load_byte(f->t, A), 7);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, page_walks), 2); /* the faulting one, then the retry */
    assert_int_equal(e.pde_cache_hits + e.pdpte_cache_hits + e.pml4e_cache_hits, 0);
}

static void test_5level_pde_hit_saves_four(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    assert_int_equal(refs_of_load(f->t, 0, A), 5);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, walk_refs_saved), 4);
}

/* A small PDE cache evicts its least recently used entry. */
static int setup_one_pde(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    skylake_caches(&c);
    c.pde_cache = (struct vms_tlb_geometry){2, 2};
    c.pcid = 0;
    return setup_with(state, &c);
}

static void test_pde_cache_replaces_lru(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        map_page(f->t, A + i * MiB2);
        map_page(f->t, A + i * MiB2 + TU_PAGE);
    }
    (void)tu_load_byte(f->t, A);            /* PDE cache: A */
    (void)tu_load_byte(f->t, A + MiB2);     /* A, A+2M */
    (void)tu_load_byte(f->t, A + TU_PAGE);  /* a hit: A is the most recent */
    (void)tu_load_byte(f->t, A + 2 * MiB2); /* evicts A+2M */
    assert_int_equal(refs_of_load(f->t, 0, A + MiB2 + TU_PAGE), 2);     /* PDPTE hit only */
    assert_int_equal(refs_of_load(f->t, 0, A + 2 * MiB2 + TU_PAGE), 1); /* still there */
}

/* ---- flushes ---- */

/* A page fault drops the entries for the faulting address: the retry walks
 * from the top; another 2 MiB's PDE entry survives. */
static void test_fault_drops_only_the_faulting_prefix(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, A, 2 * TU_PAGE, RW, PRIV | MAP_FIXED);
    map_page(f->t, A + MiB2);
    map_page(f->t, A + MiB2 + TU_PAGE);
    tu_store_byte(f->t, a, 1);
    (void)tu_load_byte(f->t, A + MiB2); /* caches the PDE of the second 2 MiB */
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    tu_store_byte(f->t, a + TU_PAGE, 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    /* A PDE-cache hit, the PTE not present: a fault, then the retry walks 4. */
    assert_int_equal(DELTA(e, b, page_walks), 2);
    assert_int_equal(DELTA(e, b, walk_refs), 5);
    assert_int_equal(refs_of_load(f->t, 0, A + MiB2 + TU_PAGE), 1);
}

/* INVLPG (a one-page mprotect's flush) drops every entry of the context. */
static void test_invlpg_drops_every_entry(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    map_page(f->t, A + MiB2);
    map_page(f->t, A + MiB2 + TU_PAGE);
    (void)tu_load_byte(f->t, A);
    (void)tu_load_byte(f->t, A + MiB2);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_mprotect(f->t, A + TU_PAGE, TU_PAGE, PROT_READ), 0);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, flushes_single), 1);
    assert_int_equal(refs_of_load(f->t, 0, A + MiB2 + TU_PAGE), 4);
}

static void test_full_flush_drops_every_entry(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    vms_addr big = tu_mmap(f->t, A + GiB512, 40 * TU_PAGE, RW, FIXED_POP);
    (void)tu_load_byte(f->t, A);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_mprotect(f->t, big, 40 * TU_PAGE, PROT_READ), 0); /* > 33 pages */
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, flushes_full), 1);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 4);
}

static void test_cr3_load_without_pcid_drops_every_entry(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    (void)tu_load_byte(f->t, A);
    vms_task *other = tu_spawn(f->m);
    assert_int_equal(vms_schedule(other, 0), 0);
    assert_int_equal(vms_schedule(f->t, 0), 0);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 4);
    vms_exit(other);
}

static void test_pcid_keeps_entries_across_a_switch(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    (void)tu_load_byte(f->t, A);
    vms_task *other = tu_spawn(f->m);
    map_page(other, A); /* the same addresses in another context */
    map_page(other, A + TU_PAGE);
    assert_int_equal(refs_of_load(other, 0, A), 4);
    assert_int_equal(vms_schedule(f->t, 0), 0);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 1);
    assert_int_equal(refs_of_load(other, 0, A + TU_PAGE), 1);
    vms_exit(other);
}

/* A context whose mm changed while the CPU ran another is flushed whole
 * when it comes back (Linux's tlb_gen; INVPCID single-context). */
static void test_pcid_switch_back_after_a_shootdown_drops_entries(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    map_page(f->t, A + MiB2);
    (void)tu_load_byte(f->t, A);
    vms_task *th = vms_clone_thread(f->t);
    assert_non_null(th);
    assert_int_equal(vms_schedule(th, 1), 0);
    vms_task *other = tu_spawn(f->m);
    assert_int_equal(vms_schedule(other, 0), 0); /* CPU 0 leaves the mm */
    assert_int_equal(vms_mprotect(th, A + MiB2, TU_PAGE, PROT_READ), 0);
    assert_int_equal(vms_schedule(f->t, 0), 0);
    assert_int_equal(refs_of_load(f->t, 0, A + TU_PAGE), 4);
    vms_exit(other);
    vms_exit(th);
}

/* ---- freed tables never reached through a cache ---- */

/* The PTE table that maps va. */
static uint64_t pte_table_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_true(w.present);
    return w.step[w.levels - 1].table_pa;
}

/* Frames freed by munmap are handed out again as data pages whose every
 * word looks like a PTE naming decoy's frame: a walk through a stale
 * PDE-cache entry would translate to the decoy. The freed PTE table
 * `table` must be among them, or the test would prove nothing. */
#define POISON_PAGES 64
#define FILL (A + 3 * GiB512)

/* The region poison_freed_tables fills, with its tables made beforehand, so
 * that the freed table frames come back as its pages, not as its tables. */
static void poison_prepare(vms_task *t)
{
    assert_int_equal(tu_mmap(t, FILL, POISON_PAGES * TU_PAGE, RW, PRIV | MAP_FIXED), FILL);
    tu_store_byte(t, FILL, 1);
}

static void poison_freed_tables(vms_task *t, uint64_t table, vms_addr decoy)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, decoy, &w), 0);
    assert_true(w.present);
    uint64_t fake = (w.pa & ~(TU_PAGE - 1)) | 0x67; /* present, rw, user, A, D */
    vms_addr fill = FILL;
    int reused = 0;
    for (int i = 0; i < POISON_PAGES; i++) {
        for (unsigned off = 0; off < TU_PAGE; off += 8)
            assert_int_equal(vms_store(t, fill + i * TU_PAGE + off, &fake, 8), 0);
        assert_int_equal(vms_walk(t, fill + i * TU_PAGE, &w), 0);
        reused |= (w.pa & ~(TU_PAGE - 1)) == table;
    }
    assert_true(reused);
}

static void test_munmap_freeing_tables_then_reuse_translates_right(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A + GiB512); /* the decoy */
    tu_store_byte(f->t, A + GiB512, 0x33);
    map_page(f->t, A);
    tu_store_byte(f->t, A, 0x11);
    assert_int_equal(tu_load_byte(f->t, A), 0x11); /* the PDE is cached */
    poison_prepare(f->t);
    uint64_t tables = tu_pgtable_frames(f->m), table = pte_table_of(f->t, A);
    assert_int_equal(vms_munmap(f->t, A, TU_PAGE), 0);
    assert_true(tu_pgtable_frames(f->m) < tables); /* its tables went */
    poison_freed_tables(f->t, table, A + GiB512);
    tu_assert_clean(f->m);
    assert_int_equal(tu_mmap(f->t, A, TU_PAGE, RW, PRIV | MAP_FIXED), A);
    assert_int_equal(tu_load_byte(f->t, A), 0); /* a fresh page, not the decoy */
    tu_store_byte(f->t, A, 0x22);
    assert_int_equal(tu_load_byte(f->t, A), 0x22);
    assert_int_equal(tu_load_byte(f->t, A + GiB512), 0x33);
}

/* The same on another CPU: one whose thread runs the mm gets the IPI; one
 * left lazy by its thread leaves the mm; both see the new tables. */
static void test_munmap_freeing_tables_reaches_other_cpus(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A + GiB512);
    tu_store_byte(f->t, A + GiB512, 0x33);
    map_page(f->t, A);
    map_page(f->t, A + MiB2);
    vms_task *th1 = vms_clone_thread(f->t), *th2 = vms_clone_thread(f->t);
    assert_non_null(th1);
    assert_non_null(th2);
    assert_int_equal(vms_schedule(th1, 1), 0);
    assert_int_equal(vms_schedule(th2, 2), 0);
    (void)tu_load_byte(th1, A);
    (void)tu_load_byte(th2, A + MiB2);
    assert_int_equal(vms_schedule(th2, 3), 0); /* CPU 2 idles, lazy, its caches full */
    poison_prepare(f->t);
    uint64_t table = pte_table_of(f->t, A + MiB2);
    assert_int_equal(vms_munmap(f->t, A, 2 * MiB2), 0);
    poison_freed_tables(f->t, table, A + GiB512);
    tu_assert_clean(f->m);
    assert_int_equal(tu_mmap(f->t, A, 2 * MiB2, RW, PRIV | MAP_FIXED), A);
    assert_int_equal(tu_load_byte(th1, A), 0);
    assert_int_equal(vms_schedule(th2, 2), 0);
    assert_int_equal(tu_load_byte(th2, A + MiB2), 0);
    vms_exit(th1);
    vms_exit(th2);
}

static void fork_and_exit(struct fixture *f)
{
    map_page(f->t, A);
    map_page(f->t, A + TU_PAGE);
    tu_store_byte(f->t, A, 0x11);
    tu_store_byte(f->t, A + TU_PAGE, 0x12);
    (void)tu_load_byte(f->t, A);
    vms_task *child = vms_fork(f->t);
    assert_non_null(child);
    assert_int_equal(tu_load_byte(child, A + TU_PAGE), 0x12);
    tu_store_byte(child, A + TU_PAGE, 0x21); /* its own copy */
    tu_assert_clean(f->m);
    vms_exit(child);
    tu_assert_clean(f->m);
    assert_int_equal(tu_load_byte(f->t, A + TU_PAGE), 0x12);
    assert_int_equal(tu_load_byte(f->t, A), 0x11);
}

static void test_fork_and_exit(void **state)
{
    struct fixture *f = *state;
    fork_and_exit(f);
    /* The caches refilled after fork's flush of the parent's context. */
    map_page(f->t, A + 2 * TU_PAGE);
    assert_int_equal(refs_of_load(f->t, 0, A + 2 * TU_PAGE), 1);
}

/* The checker sees an entry pointing to a table no longer linked. */
static void test_check_catches_a_stale_entry(void **state)
{
    struct fixture *f = *state;
    map_page(f->t, A);
    (void)tu_load_byte(f->t, A);
    tu_assert_clean(f->m);
    struct vms_walk w;
    assert_int_equal(vms_walk(f->t, A, &w), 0);
    pte_t *pmd = (pte_t *)(f->m->pm.ram + w.step[2].table_pa) + w.step[2].index;
    pte_t saved = *pmd;
    *pmd = 0; /* unlinked behind the caches' back, with no flush */
    assert_int_not_equal(vms_check(f->m, NULL), 0);
    *pmd = saved;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TP(fn) cmocka_unit_test_setup_teardown(fn, setup_pcid, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_same_2m_starts_at_the_pte_table),
        T(test_same_1g_starts_at_the_page_directory),
        T(test_same_512g_starts_at_the_pdpt),
        T(test_other_512g_walks_from_the_top),
        cmocka_unit_test_setup_teardown(test_without_caches_every_walk_reads_four, setup_none,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_without_caches_a_demand_fault_walks_twice, setup_none,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_5level_pde_hit_saves_four, setup_5level, teardown),
        cmocka_unit_test_setup_teardown(test_pde_cache_replaces_lru, setup_one_pde, teardown),
        T(test_fault_drops_only_the_faulting_prefix),
        T(test_invlpg_drops_every_entry),
        TP(test_invlpg_drops_every_entry),
        T(test_full_flush_drops_every_entry),
        T(test_cr3_load_without_pcid_drops_every_entry),
        TP(test_pcid_keeps_entries_across_a_switch),
        TP(test_pcid_switch_back_after_a_shootdown_drops_entries),
        T(test_munmap_freeing_tables_then_reuse_translates_right),
        TP(test_munmap_freeing_tables_then_reuse_translates_right),
        T(test_munmap_freeing_tables_reaches_other_cpus),
        TP(test_munmap_freeing_tables_reaches_other_cpus),
        T(test_fork_and_exit),
        TP(test_fork_and_exit),
        T(test_check_catches_a_stale_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
