/*
 * test_tlb.c - the per-CPU TLBs and TLB shootdown: L1 DTLB / ITLB misses
 * falling back to the L2 TLB and then to a page walk that reads one entry per
 * level; capacity, associativity and LRU replacement with configurable
 * geometry (and EINVAL for geometry the hardware cannot have); flushes after
 * munmap and mprotect, single-page up to the 33-page ceiling and full above
 * it, with IPIs only to the other CPUs running the mm; and context switches
 * with and without PCID.
 */
#include "testutil.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define POPULATED (PRIV | MAP_POPULATE)

struct fixture {
    vms_machine *m;
    vms_task *t;
};

static int setup_with(void **state, const struct vms_config *c)
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
    return setup_with(state, &c);
}

static int setup_pcid(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.pcid = 1;
    return setup_with(state, &c);
}

/* Without paging-structure caches: every walk starts at the PGD. */
static int setup_no_pwc(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.pde_cache.entries = c.pdpte_cache.entries = c.pml4e_cache.entries = 0;
    return setup_with(state, &c);
}

static int setup_5level(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.pgtable_levels = 5;
    return setup_with(state, &c);
}

/* L1 DTLB: one 4-entry set (fully associative); L2: 8 entries in 4 sets. */
static int setup_tiny_tlbs(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.dtlb = (struct vms_tlb_geometry){4, 4};
    c.stlb = (struct vms_tlb_geometry){8, 2};
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

/* Counter differences on one CPU between two snapshots. */
#define DELTA(after, before, field) ((after).field - (before).field)

static void load_pages(vms_task *t, vms_addr a, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        (void)tu_load_byte(t, a + i * TU_PAGE);
}

/* A thread of t's process, running on cpu. */
static vms_task *thread_on(vms_task *t, unsigned cpu)
{
    vms_task *th = vms_clone_thread(t);
    assert_non_null(th);
    assert_int_equal(vms_schedule(th, cpu), 0);
    return th;
}

/* ---- misses, hits and walks ---- */

static void test_first_access_misses_both_levels_and_walks_four_entries(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    (void)tu_load_byte(f->t, a);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_misses), 1);
    assert_int_equal(DELTA(e, b, dtlb_hits), 0);
    assert_int_equal(DELTA(e, b, stlb_misses), 1);
    assert_int_equal(DELTA(e, b, stlb_hits), 0);
    assert_int_equal(DELTA(e, b, page_walks), 1);
    assert_int_equal(DELTA(e, b, walk_refs), 4);
}

static void test_second_access_hits_the_l1_dtlb_without_a_walk(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    (void)tu_load_byte(f->t, a);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    (void)tu_load_byte(f->t, a + 100);
    tu_store_byte(f->t, a + 200, 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_hits), 2);
    assert_int_equal(DELTA(e, b, dtlb_misses), 0);
    assert_int_equal(DELTA(e, b, stlb_misses), 0);
    assert_int_equal(DELTA(e, b, page_walks), 0);
}

static void test_machine_totals_count_hits_and_full_misses(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    struct vms_stats *b = tu_stats(f->m);
    (void)tu_load_byte(f->t, a);
    (void)tu_load_byte(f->t, a);
    struct vms_stats *e = tu_stats(f->m);
    assert_int_equal(e->tlb_misses - b->tlb_misses, 1);
    assert_int_equal(e->tlb_hits - b->tlb_hits, 1);
    assert_int_equal(e->page_walks - b->page_walks, 1);
    assert_int_equal(e->walk_refs - b->walk_refs, 4);
    free(b);
    free(e);
}

static void test_fault_in_fresh_mm_walks_one_entry_then_four(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    tu_store_byte(f->t, a, 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    /* The first walk stops at the empty PGD entry; the retry after the fault
     * walks all four levels. */
    assert_int_equal(DELTA(e, b, page_walks), 2);
    assert_int_equal(DELTA(e, b, walk_refs), 5);
    assert_int_equal(DELTA(e, b, dtlb_misses), 2);
    assert_int_equal(DELTA(e, b, stlb_misses), 2);
}

/* (test_pwc.c: with the caches the first walk reads only the PTE.) */
static void test_fault_under_existing_tables_walks_four_entries_twice(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 2 * TU_PAGE, RW);
    tu_store_byte(f->t, a, 1);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    tu_store_byte(f->t, a + TU_PAGE, 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, page_walks), 2);
    assert_int_equal(DELTA(e, b, walk_refs), 8);
}

static void test_5level_walk_reads_five_entries(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    (void)tu_load_byte(f->t, a);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, page_walks), 1);
    assert_int_equal(DELTA(e, b, walk_refs), 5);
}

static void test_fetch_goes_through_the_itlb(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, PROT_READ | PROT_EXEC, POPULATED);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_fetch(f->t, a, 1), 0);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, itlb_misses), 1);
    assert_int_equal(DELTA(e, b, stlb_misses), 1);
    assert_int_equal(DELTA(e, b, page_walks), 1);
    assert_int_equal(DELTA(e, b, dtlb_misses), 0);
    b = e;
    assert_int_equal(vms_fetch(f->t, a + 8, 1), 0);
    e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, itlb_hits), 1);
    assert_int_equal(DELTA(e, b, page_walks), 0);
    assert_int_equal(DELTA(e, b, dtlb_hits) + DELTA(e, b, dtlb_misses), 0);
}

static void test_load_after_fetch_hits_the_l2_tlb(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, PROT_READ | PROT_EXEC, POPULATED);
    assert_int_equal(vms_fetch(f->t, a, 1), 0);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    (void)tu_load_byte(f->t, a);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_misses), 1);
    assert_int_equal(DELTA(e, b, stlb_hits), 1);
    assert_int_equal(DELTA(e, b, page_walks), 0);
}

/* ---- capacity, associativity, replacement ---- */

static void test_l1_dtlb_holds_64_pages(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 64 * TU_PAGE, RW, POPULATED);
    load_pages(f->t, a, 0, 64);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    load_pages(f->t, a, 0, 64);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_hits), 64);
    assert_int_equal(DELTA(e, b, dtlb_misses), 0);
}

static void test_pages_pushed_out_of_l1_hit_in_l2(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 128 * TU_PAGE, RW, POPULATED);
    load_pages(f->t, a, 0, 128); /* each of the 16 sets sees 8 pages */
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    load_pages(f->t, a, 0, 64);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_misses), 64);
    assert_int_equal(DELTA(e, b, stlb_hits), 64);
    assert_int_equal(DELTA(e, b, stlb_misses), 0);
    assert_int_equal(DELTA(e, b, page_walks), 0);
}

static void test_l1_replaces_the_least_recently_used_entry(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 5 * TU_PAGE, RW, POPULATED);
    load_pages(f->t, a, 0, 4);
    load_pages(f->t, a, 0, 1); /* page 0 is now the most recent; page 1 the least */
    load_pages(f->t, a, 4, 5); /* evicts page 1 */
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    load_pages(f->t, a, 0, 1);
    load_pages(f->t, a, 2, 5);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_hits), 4);
    assert_int_equal(DELTA(e, b, dtlb_misses), 0);
    load_pages(f->t, a, 1, 2);
    struct vms_cpu_stats e2 = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e2, e, dtlb_misses), 1);
    assert_int_equal(DELTA(e2, e, stlb_hits), 1);
}

static void test_small_l2_evicts_and_walks_again(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, RW, POPULATED);
    load_pages(f->t, a, 0, 16); /* L1 keeps 12-15; each L2 set keeps its last two */
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    load_pages(f->t, a, 12, 13);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, dtlb_hits), 1);
    b = e;
    load_pages(f->t, a, 8, 9);
    e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, stlb_hits), 1);
    assert_int_equal(DELTA(e, b, page_walks), 0);
    b = e;
    load_pages(f->t, a, 0, 1);
    e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, stlb_misses), 1);
    assert_int_equal(DELTA(e, b, page_walks), 1);
}

static void expect_geometry_refused(struct vms_tlb_geometry g, int which)
{
    struct vms_config c = tu_config(1ULL << 20);
    if (which == 0)
        c.dtlb = g;
    else if (which == 1)
        c.itlb = g;
    else
        c.stlb = g;
    errno = 0;
    assert_null(vms_machine_create(&c));
    assert_int_equal(errno, EINVAL);
}

static void test_ways_must_divide_entries(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++)
        expect_geometry_refused((struct vms_tlb_geometry){64, 5}, which);
}

static void test_number_of_sets_must_be_a_power_of_two(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++) {
        expect_geometry_refused((struct vms_tlb_geometry){48, 4}, which);  /* 12 sets */
        expect_geometry_refused((struct vms_tlb_geometry){1536, 4}, which); /* 384 sets */
    }
}

static void test_zero_entries_or_ways_are_refused(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++) {
        expect_geometry_refused((struct vms_tlb_geometry){0, 0}, which);
        expect_geometry_refused((struct vms_tlb_geometry){64, 0}, which);
        expect_geometry_refused((struct vms_tlb_geometry){0, 4}, which);
    }
}

static void test_odd_ways_with_power_of_two_sets_are_accepted(void **state)
{
    (void)state;
    struct vms_config c = tu_config(1ULL << 20);
    c.dtlb = (struct vms_tlb_geometry){3, 3};
    c.itlb = (struct vms_tlb_geometry){1, 1};
    c.stlb = (struct vms_tlb_geometry){96, 12};
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 8 * TU_PAGE, RW);
    for (unsigned i = 0; i < 8; i++)
        tu_store_byte(t, a + i * TU_PAGE, (uint8_t)i);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(tu_load_byte(t, a + i * TU_PAGE), i);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* ---- shootdown ---- */

static void test_munmap_sends_an_ipi_to_the_other_cpu(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    tu_store_byte(f->t, a, 1);
    vms_task *th = thread_on(f->t, 1);
    assert_int_equal(tu_load_byte(th, a), 1);
    assert_int_equal(vms_munmap(f->t, a, TU_PAGE), 0);
    struct vms_stats *s = tu_stats(f->m);
    assert_int_equal(s->shootdowns, 1);
    assert_int_equal(s->ipis, 1);
    assert_int_equal(s->cpu[0].shootdowns, 1);
    assert_int_equal(s->cpu[0].ipis_sent, 1);
    assert_int_equal(s->cpu[1].ipis_received, 1);
    assert_int_equal(s->cpu[0].ipis_received, 0);
    assert_int_equal(s->cpu[2].ipis_received, 0);
    free(s);
    tu_assert_clean(f->m);
}

static void test_after_shootdown_the_other_cpu_misses(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    tu_store_byte(f->t, a, 1);
    vms_task *th = thread_on(f->t, 1);
    assert_int_equal(tu_load_byte(th, a), 1);
    assert_int_equal(vms_munmap(f->t, a, TU_PAGE), 0);
    struct vms_cpu_stats b = cpu_stats(f->m, 1);
    uint8_t v = 0;
    assert_int_equal(vms_load(th, a, &v, 1), SIGSEGV);
    tu_assert_fault(th, SIGSEGV, SEGV_MAPERR, a);
    struct vms_cpu_stats e = cpu_stats(f->m, 1);
    assert_int_equal(DELTA(e, b, dtlb_hits), 0);
    assert_int_equal(DELTA(e, b, dtlb_misses), 1);
    assert_int_equal(DELTA(e, b, stlb_misses), 1);
}

/* 40 written pages, with a thread of the same process on CPU 1. */
static vms_addr forty_pages_on_two_cpus(struct fixture *f)
{
    vms_addr a = tu_mmap(f->t, 0, 40 * TU_PAGE, RW, POPULATED);
    (void)thread_on(f->t, 1);
    return a;
}

static void test_munmap_of_33_pages_flushes_single_pages(void **state)
{
    struct fixture *f = *state;
    vms_addr a = forty_pages_on_two_cpus(f);
    struct vms_cpu_stats b0 = cpu_stats(f->m, 0), b1 = cpu_stats(f->m, 1);
    assert_int_equal(vms_munmap(f->t, a + TU_PAGE, 33 * TU_PAGE), 0);
    struct vms_cpu_stats e0 = cpu_stats(f->m, 0), e1 = cpu_stats(f->m, 1);
    assert_int_equal(DELTA(e0, b0, flushes_single), 33);
    assert_int_equal(DELTA(e0, b0, flushes_full), 0);
    assert_int_equal(DELTA(e1, b1, flushes_single), 33);
    assert_int_equal(DELTA(e1, b1, flushes_full), 0);
    assert_int_equal(DELTA(e0, b0, shootdowns), 1);
    assert_int_equal(DELTA(e1, b1, ipis_received), 1);
}

static void test_munmap_of_34_pages_flushes_the_whole_context(void **state)
{
    struct fixture *f = *state;
    vms_addr a = forty_pages_on_two_cpus(f);
    struct vms_cpu_stats b0 = cpu_stats(f->m, 0), b1 = cpu_stats(f->m, 1);
    assert_int_equal(vms_munmap(f->t, a + TU_PAGE, 34 * TU_PAGE), 0);
    struct vms_cpu_stats e0 = cpu_stats(f->m, 0), e1 = cpu_stats(f->m, 1);
    assert_int_equal(DELTA(e0, b0, flushes_full), 1);
    assert_int_equal(DELTA(e0, b0, flushes_single), 0);
    assert_int_equal(DELTA(e1, b1, flushes_full), 1);
    assert_int_equal(DELTA(e1, b1, flushes_single), 0);
    assert_int_equal(DELTA(e1, b1, ipis_received), 1);
}

static void test_flush_covers_only_pages_that_had_ptes(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 40 * TU_PAGE, RW);
    for (unsigned i = 0; i < 10; i++)
        tu_store_byte(f->t, a + i * TU_PAGE, 1);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_munmap(f->t, a, 20 * TU_PAGE), 0);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, flushes_single), 10);
    assert_int_equal(DELTA(e, b, flushes_full), 0);
}

static void test_flush_with_no_other_cpu_sends_no_ipi(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 8 * TU_PAGE, RW, POPULATED);
    assert_int_equal(vms_munmap(f->t, a + TU_PAGE, 4 * TU_PAGE), 0);
    struct vms_stats *s = tu_stats(f->m);
    assert_int_equal(s->cpu[0].flushes_single, 4);
    assert_int_equal(s->shootdowns, 0);
    assert_int_equal(s->ipis, 0);
    free(s);
}

static void test_munmap_of_untouched_region_sends_no_ipi(void **state)
{
    struct fixture *f = *state;
    vms_addr touched = tu_anon(f->t, TU_PAGE, RW);
    vms_addr untouched = tu_anon(f->t, 4 * TU_PAGE, PROT_READ);
    assert_int_equal(untouched, touched - 4 * TU_PAGE);
    vms_task *th = thread_on(f->t, 1);
    tu_store_byte(th, touched, 1);
    struct vms_stats *b = tu_stats(f->m);
    assert_int_equal(vms_munmap(f->t, untouched, 4 * TU_PAGE), 0);
    struct vms_stats *e = tu_stats(f->m);
    assert_int_equal(e->shootdowns - b->shootdowns, 0);
    assert_int_equal(e->ipis - b->ipis, 0);
    assert_int_equal(e->flushes_single - b->flushes_single, 0);
    assert_int_equal(e->flushes_full - b->flushes_full, 0);
    free(b);
    free(e);
}

static void test_mprotect_of_touched_pages_shoots_down(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 4 * TU_PAGE, RW, POPULATED);
    vms_task *th = thread_on(f->t, 1);
    for (unsigned i = 0; i < 4; i++)
        tu_store_byte(th, a + i * TU_PAGE, 1); /* CPU 1 caches writable entries */
    struct vms_cpu_stats b0 = cpu_stats(f->m, 0), b1 = cpu_stats(f->m, 1);
    assert_int_equal(vms_mprotect(f->t, a, 4 * TU_PAGE, PROT_READ), 0);
    struct vms_cpu_stats e0 = cpu_stats(f->m, 0), e1 = cpu_stats(f->m, 1);
    assert_int_equal(DELTA(e0, b0, shootdowns), 1);
    assert_int_equal(DELTA(e0, b0, flushes_single), 4);
    assert_int_equal(DELTA(e1, b1, ipis_received), 1);
    assert_int_equal(DELTA(e1, b1, flushes_single), 4);
    uint8_t v = 2;
    assert_int_equal(vms_store(th, a + 2 * TU_PAGE, &v, 1), SIGSEGV);
    tu_assert_fault(th, SIGSEGV, SEGV_ACCERR, a + 2 * TU_PAGE);
}

static void test_cow_on_one_cpu_is_seen_by_the_other(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    vms_task *th = thread_on(f->t, 1);
    assert_int_equal(tu_load_byte(th, a), 0); /* CPU 1 caches the zero page */
    tu_store_byte(f->t, a, 0x5c);              /* COW on CPU 0 */
    struct vms_stats *s = tu_stats(f->m);
    assert_int_equal(s->cpu[0].shootdowns, 1);
    assert_int_equal(s->cpu[1].ipis_received, 1);
    free(s);
    assert_int_equal(tu_load_byte(th, a), 0x5c);
}

static void test_mprotect_with_no_ptes_does_not_flush(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 4 * TU_PAGE, RW);
    (void)thread_on(f->t, 1);
    struct vms_stats *b = tu_stats(f->m);
    assert_int_equal(vms_mprotect(f->t, a, 4 * TU_PAGE, PROT_READ), 0);
    struct vms_stats *e = tu_stats(f->m);
    assert_int_equal(e->flushes_single - b->flushes_single, 0);
    assert_int_equal(e->ipis - b->ipis, 0);
    free(b);
    free(e);
}

/* ---- context switches ---- */

static void test_switching_mm_without_pcid_flushes(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    (void)tu_load_byte(f->t, a);
    vms_task *other = tu_spawn(f->m);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_schedule(other, 0), 0);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, context_switches), 1);
    assert_int_equal(DELTA(e, b, flushes_full), 1);
    assert_int_equal(vms_schedule(f->t, 0), 0);
    b = e;
    (void)tu_load_byte(f->t, a);
    e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, context_switches), 1);
    assert_int_equal(DELTA(e, b, flushes_full), 1);
    assert_int_equal(DELTA(e, b, dtlb_misses), 1);
    assert_int_equal(DELTA(e, b, page_walks), 1);
}

static void test_scheduling_a_thread_of_the_loaded_mm_does_not_switch(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    (void)tu_load_byte(f->t, a);
    vms_task *th = vms_clone_thread(f->t);
    assert_non_null(th);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_schedule(th, 0), 0);
    (void)tu_load_byte(th, a);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, context_switches), 0);
    assert_int_equal(DELTA(e, b, dtlb_hits), 1);
}

static void test_access_by_a_task_of_another_mm_switches_its_cpu(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    vms_task *other = tu_spawn(f->m);
    vms_addr b_addr = tu_anon(other, TU_PAGE, RW); /* switches CPU 0 to other */
    assert_int_equal(b_addr, a);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    tu_store_byte(f->t, a, 1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, context_switches), 1);
}

static void test_pcid_keeps_entries_across_a_switch(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, POPULATED);
    tu_store_byte(f->t, a, 0xa1);
    vms_task *other = tu_spawn(f->m);
    vms_addr oa = tu_mmap(other, 0, TU_PAGE, RW, POPULATED);
    assert_int_equal(oa, a); /* same virtual page, another mm */
    tu_store_byte(other, oa, 0xb2);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_schedule(f->t, 0), 0);
    assert_int_equal(tu_load_byte(f->t, a), 0xa1);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, context_switches), 1);
    assert_int_equal(DELTA(e, b, flushes_full), 0);
    assert_int_equal(DELTA(e, b, dtlb_hits), 1);
    assert_int_equal(DELTA(e, b, page_walks), 0);
    assert_int_equal(tu_load_byte(other, oa), 0xb2);
}

static void test_pcid_first_run_of_an_mm_flushes_its_new_context(void **state)
{
    struct fixture *f = *state;
    (void)tu_anon(f->t, TU_PAGE, RW);
    vms_task *other = tu_spawn(f->m);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_schedule(other, 0), 0);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, context_switches), 1);
    assert_int_equal(DELTA(e, b, flushes_full), 1);
}

static void test_pcid_switch_back_after_a_shootdown_flushes(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 2 * TU_PAGE, RW, POPULATED);
    (void)tu_load_byte(f->t, a);
    vms_task *th = thread_on(f->t, 1);
    vms_task *other = tu_spawn(f->m);
    assert_int_equal(vms_schedule(other, 0), 0); /* CPU 0 leaves the mm */
    struct vms_stats *s0 = tu_stats(f->m);
    assert_int_equal(vms_mprotect(th, a + TU_PAGE, TU_PAGE, PROT_READ), 0);
    struct vms_stats *s1 = tu_stats(f->m);
    assert_int_equal(s1->ipis - s0->ipis, 0); /* CPU 0 is not in the mm's cpumask */
    free(s0);
    free(s1);
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    assert_int_equal(vms_schedule(f->t, 0), 0);
    (void)tu_load_byte(f->t, a);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, flushes_full), 1);
    assert_int_equal(DELTA(e, b, dtlb_misses), 1);
    assert_int_equal(DELTA(e, b, page_walks), 1);
}

static void test_pcid_seventh_mm_recycles_the_oldest_context(void **state)
{
    struct fixture *f = *state;
    vms_task *t[7];
    vms_addr a[7];
    t[0] = f->t;
    for (int i = 1; i < 7; i++)
        t[i] = tu_spawn(f->m);
    for (int i = 0; i < 7; i++) {
        a[i] = tu_mmap(t[i], 0, TU_PAGE, RW, POPULATED);
        (void)tu_load_byte(t[i], a[i]);
    }
    /* Six contexts per CPU: the seventh mm took the first one's. */
    struct vms_cpu_stats b = cpu_stats(f->m, 0);
    (void)tu_load_byte(t[0], a[0]);
    struct vms_cpu_stats e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, flushes_full), 1);
    assert_int_equal(DELTA(e, b, page_walks), 1);
    b = e;
    (void)tu_load_byte(t[2], a[2]); /* still has its context */
    e = cpu_stats(f->m, 0);
    assert_int_equal(DELTA(e, b, flushes_full), 0);
    assert_int_equal(DELTA(e, b, page_walks), 0);
    /* Seven contexts used one L1 set (4 ways) for the same address: t[2]'s
     * entry left the L1 DTLB but survives in the 12-way L2 TLB. */
    assert_int_equal(DELTA(e, b, dtlb_misses), 1);
    assert_int_equal(DELTA(e, b, stlb_hits), 1);
}

static void test_exit_of_last_task_switches_its_cpu_away(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    vms_task *th = thread_on(f->t, 1);
    tu_store_byte(th, a, 1);
    vms_exit(th);
    vms_exit(f->t);
    f->t = NULL;
    tu_assert_clean(f->m);
    assert_int_equal(tu_frames_used(f->m), 2);
}

/* A store to a clean writable page walks again to set D; the new entry must
 * replace the old one even when an earlier way of the set is free, or a
 * flush would drop one copy and leave the other pointing at a freed frame. */
static void test_dirty_refill_leaves_one_entry_and_munmap_really_flushes(void **state)
{
    struct fixture *f = *state;
    vms_addr p = tu_mmap(f->t, 0x100000000, 17 * TU_PAGE, RW,
                         MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    (void)tu_load_byte(f->t, p + 16 * TU_PAGE); /* same L1 set, way 0 */
    (void)tu_load_byte(f->t, p);                 /* way 1: writable, clean */
    assert_int_equal(vms_munmap(f->t, p + 16 * TU_PAGE, TU_PAGE), 0); /* way 0 free */
    uint8_t v = 7;
    assert_int_equal(vms_store(f->t, p, &v, 1), 0);
    tu_assert_clean(f->m); /* vms_check looks for two entries of one page */
    assert_int_equal(vms_munmap(f->t, p, TU_PAGE), 0);
    assert_int_equal(vms_load(f->t, p, &v, 1), SIGSEGV);
    assert_int_equal(vms_last_fault(f->t)->code, SEGV_MAPERR);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TP(fn) cmocka_unit_test_setup_teardown(fn, setup_pcid, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_dirty_refill_leaves_one_entry_and_munmap_really_flushes),
        T(test_first_access_misses_both_levels_and_walks_four_entries),
        T(test_second_access_hits_the_l1_dtlb_without_a_walk),
        T(test_machine_totals_count_hits_and_full_misses),
        T(test_fault_in_fresh_mm_walks_one_entry_then_four),
        cmocka_unit_test_setup_teardown(test_fault_under_existing_tables_walks_four_entries_twice,
                                        setup_no_pwc, teardown),
        cmocka_unit_test_setup_teardown(test_5level_walk_reads_five_entries, setup_5level,
                                        teardown),
        T(test_fetch_goes_through_the_itlb),
        T(test_load_after_fetch_hits_the_l2_tlb),
        T(test_l1_dtlb_holds_64_pages),
        T(test_pages_pushed_out_of_l1_hit_in_l2),
        cmocka_unit_test_setup_teardown(test_l1_replaces_the_least_recently_used_entry,
                                        setup_tiny_tlbs, teardown),
        cmocka_unit_test_setup_teardown(test_small_l2_evicts_and_walks_again, setup_tiny_tlbs,
                                        teardown),
        cmocka_unit_test(test_ways_must_divide_entries),
        cmocka_unit_test(test_number_of_sets_must_be_a_power_of_two),
        cmocka_unit_test(test_zero_entries_or_ways_are_refused),
        cmocka_unit_test(test_odd_ways_with_power_of_two_sets_are_accepted),
        T(test_munmap_sends_an_ipi_to_the_other_cpu),
        T(test_after_shootdown_the_other_cpu_misses),
        T(test_munmap_of_33_pages_flushes_single_pages),
        T(test_munmap_of_34_pages_flushes_the_whole_context),
        T(test_flush_covers_only_pages_that_had_ptes),
        T(test_flush_with_no_other_cpu_sends_no_ipi),
        T(test_munmap_of_untouched_region_sends_no_ipi),
        T(test_mprotect_of_touched_pages_shoots_down),
        T(test_cow_on_one_cpu_is_seen_by_the_other),
        T(test_mprotect_with_no_ptes_does_not_flush),
        T(test_switching_mm_without_pcid_flushes),
        T(test_scheduling_a_thread_of_the_loaded_mm_does_not_switch),
        T(test_access_by_a_task_of_another_mm_switches_its_cpu),
        TP(test_pcid_keeps_entries_across_a_switch),
        TP(test_pcid_first_run_of_an_mm_flushes_its_new_context),
        TP(test_pcid_switch_back_after_a_shootdown_flushes),
        TP(test_pcid_seventh_mm_recycles_the_oldest_context),
        T(test_exit_of_last_task_switches_its_cpu_away),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
