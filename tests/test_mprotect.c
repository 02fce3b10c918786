/*
 * test_mprotect.c - mprotect of anonymous memory, as Linux 6.x on x86-64
 * answers it: the order of its checks, partial success over a hole,
 * PROT_GROWSDOWN, what the new protection does to loads and stores (also
 * through another CPU's TLB), the overcommit charge when memory becomes
 * writable, the splits and merges it causes, and the vm.max_map_count limit.
 */
#include "testutil.h"

#include <errno.h>

#define PG 0x1000ULL
#define MIB (1ULL << 20)
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define SA (MAP_SHARED | MAP_ANONYMOUS)
#define MMAP_BASE 0x7ffff7fff000ULL
#define RAM (64ULL << 20)

#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif

struct env {
    vms_machine *m;
    vms_task *t;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    e->m = tu_machine();
    e->t = tu_spawn(e->m);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    vms_machine_destroy(e->m);
    free(e);
    return 0;
}

static int64_t map(struct env *e, vms_addr addr, uint64_t len, int prot, int flags)
{
    return vms_mmap(e->t, addr, len, prot, flags, -1, 0);
}

/* An 8-page RW private mapping at the top of a fresh task. */
static vms_addr map_eight_pages(struct env *e)
{
    assert_int_equal(map(e, 0, 8 * PG, RW, PA), MMAP_BASE - 8 * PG);
    return MMAP_BASE - 8 * PG;
}

static void fill_pages(vms_task *t, vms_addr start, int pages, uint8_t v)
{
    for (int i = 0; i < pages; i++)
        tu_store_byte(t, start + (uint64_t)i * PG, v);
}

static void read_pages(vms_task *t, vms_addr start, int pages)
{
    for (int i = 0; i < pages; i++)
        assert_int_equal(tu_load_byte(t, start + (uint64_t)i * PG), 0);
}

/* ---- order of the checks ---- */

static void test_mprotect_growsdown_with_growsup_is_einval_before_anything(void **state)
{
    struct env *e = *state;
    int both = PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP;
    assert_int_equal(vms_mprotect(e->t, 0x10000000, 0, both), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, 0x10000000, PG, both), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mprotect_unaligned_address_is_einval_even_with_len_0(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, a + 1, PG, PROT_READ), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, a + 1, 0, PROT_READ), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, a + 1, PG, 0x10), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mprotect_len_0_returns_0_even_unmapped_or_with_bad_prot(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, a, 0, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, 0x10000000, 0, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, a, 0, 0x10), 0);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_wrapping_range_is_enomem_before_the_prot_check(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_mprotect(e->t, 0x7ffff0000000ULL, ~0ULL - 0x1000, PROT_READ), -ENOMEM);
    assert_int_equal(vms_mprotect(e->t, 0x7ffff0000000ULL, ~0ULL - 0x1000, 0x10), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mprotect_unknown_prot_bit_is_einval_before_the_lookup(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, a, PG, RW | 0x10), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, 0x10000000, PG, 0x10), -EINVAL);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_prot_sem_is_accepted_and_changes_nothing_visible(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, a, 8 * PG, RW | PROT_SEM), 0);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_unmapped_range_is_enomem(void **state)
{
    struct env *e = *state;
    map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, 0x10000000, PG, PROT_READ), -ENOMEM);
    assert_int_equal(vms_mprotect(e->t, 0x800000000000ULL, PG, PROT_READ), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mprotect_huge_len_changes_the_mapped_part_then_is_enomem(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, a, 1ULL << 47, PROT_READ), -ENOMEM);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7fff000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_growsdown_or_growsup_on_a_normal_vma_is_einval(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_READ | PROT_GROWSDOWN), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_READ | PROT_GROWSUP), -EINVAL);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Pages 0-3 and 5-6 mapped, page 4 a hole: the part before the hole is
 * changed, then the hole stops the call with ENOMEM. */
static void test_mprotect_over_a_hole_changes_the_part_before_it(void **state)
{
    struct env *e = *state;
    vms_addr a = MMAP_BASE - 7 * PG;
    assert_int_equal(map(e, 0, 7 * PG, RW, PA), a);
    assert_int_equal(vms_munmap(e->t, a + 4 * PG, PG), 0);
    assert_int_equal(vms_mprotect(e->t, a + 2 * PG, 3 * PG, PROT_READ), -ENOMEM);
    tu_assert_maps(e->t, "7ffff7ff8000-7ffff7ffa000 rw-p 00000000 00:00 0 \n"
                         "7ffff7ffa000-7ffff7ffc000 r--p 00000000 00:00 0 \n"
                         "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_over_a_hole_still_applies_before_it_when_spanning_all(void **state)
{
    struct env *e = *state;
    vms_addr a = MMAP_BASE - 7 * PG;
    assert_int_equal(map(e, 0, 7 * PG, RW, PA), a);
    assert_int_equal(vms_munmap(e->t, a + 4 * PG, PG), 0);
    assert_int_equal(vms_mprotect(e->t, a, 7 * PG, PROT_READ), -ENOMEM);
    tu_assert_maps(e->t, "7ffff7ff8000-7ffff7ffc000 r--p 00000000 00:00 0 \n"
                         "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_starting_in_a_hole_changes_nothing(void **state)
{
    struct env *e = *state;
    vms_addr a = MMAP_BASE - 7 * PG;
    assert_int_equal(map(e, 0, 7 * PG, RW, PA), a);
    assert_int_equal(vms_munmap(e->t, a + 4 * PG, PG), 0);
    assert_int_equal(vms_mprotect(e->t, a + 4 * PG, 2 * PG, PROT_READ), -ENOMEM);
    tu_assert_maps(e->t, "7ffff7ff8000-7ffff7ffc000 rw-p 00000000 00:00 0 \n"
                         "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- PROT_GROWSDOWN on a MAP_GROWSDOWN mapping ---- */

static void test_mprotect_growsdown_extends_the_change_down_to_vma_start(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x30000000, 4 * PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x30000000);
    assert_int_equal(vms_mprotect(e->t, 0x30002000, PG, PROT_READ | PROT_GROWSDOWN), 0);
    tu_assert_maps(e->t, "30000000-30003000 r--p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_growsdown_may_start_below_the_vma(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x30000000, 4 * PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x30000000);
    assert_int_equal(vms_mprotect(e->t, 0x2ffff000, 2 * PG, PROT_READ | PROT_GROWSDOWN), 0);
    tu_assert_maps(e->t, "30000000-30001000 r--p 00000000 00:00 0 \n"
                         "30001000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_growsdown_ending_below_the_vma_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x30000000, 4 * PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x30000000);
    assert_int_equal(vms_mprotect(e->t, 0x2fffe000, PG, PROT_READ | PROT_GROWSDOWN), -ENOMEM);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_growsup_on_a_growsdown_vma_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x30000000, 4 * PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x30000000);
    assert_int_equal(vms_mprotect(e->t, 0x30000000, PG, PROT_READ | PROT_GROWSUP), -EINVAL);
    tu_assert_clean(e->m);
}

/* ---- what the new protection does to accesses ---- */

static void test_mprotect_read_only_refuses_stores_and_keeps_the_data(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    fill_pages(e->t, a, 2, 0x5a);
    assert_int_equal(vms_mprotect(e->t, a, 2 * PG, PROT_READ), 0);
    uint8_t v = 1;
    assert_int_equal(vms_store(e->t, a + PG + 0x10, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_ACCERR, a + PG + 0x10);
    assert_int_equal(tu_load_byte(e->t, a + PG), 0x5a);
    tu_assert_clean(e->m);
}

static void test_mprotect_none_refuses_loads_with_accerr(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    fill_pages(e->t, a, 1, 0x5a);
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_NONE), 0);
    uint8_t v = 0;
    assert_int_equal(vms_load(e->t, a + 0x20, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_ACCERR, a + 0x20);
    tu_assert_clean(e->m);
}

static void test_mprotect_back_to_rw_allows_stores_and_keeps_the_data(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    fill_pages(e->t, a, 1, 0x5a);
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_NONE), 0);
    assert_int_equal(vms_mprotect(e->t, a, PG, RW), 0);
    assert_int_equal(tu_load_byte(e->t, a), 0x5a);
    tu_store_byte(e->t, a + 1, 0x6b);
    assert_int_equal(tu_load_byte(e->t, a + 1), 0x6b);
    tu_assert_clean(e->m);
}

/* A thread on CPU 1 cached a writable translation; after mprotect on CPU 0
 * its next store must fault. */
static void test_mprotect_shoots_down_other_cpus_tlb_entries(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    vms_task *thread = vms_clone_thread(e->t);
    assert_non_null(thread);
    assert_int_equal(vms_schedule(thread, 1), 0);
    tu_store_byte(thread, a, 1);
    tu_store_byte(thread, a, 2);
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_READ), 0);
    uint8_t v = 3;
    assert_int_equal(vms_store(thread, a, &v, 1), SIGSEGV);
    tu_assert_fault(thread, SIGSEGV, SEGV_ACCERR, a);
    assert_int_equal(tu_load_byte(thread, a), 2);
    tu_assert_clean(e->m);
}

/* ---- overcommit charge when memory becomes writable ---- */

static void test_mprotect_making_more_than_ram_writable_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x100000000ULL, 2 * RAM, PROT_NONE, PA | MAP_FIXED), 0x100000000ULL);
    assert_int_equal(vms_mprotect(e->t, 0x100000000ULL, 2 * RAM, RW), -ENOMEM);
    tu_assert_maps(e->t, "100000000-108000000 ---p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_noreserve_memory_may_become_writable_beyond_ram(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x100000000ULL, 2 * RAM, PROT_NONE, PA | MAP_NORESERVE | MAP_FIXED),
                     0x100000000ULL);
    assert_int_equal(vms_mprotect(e->t, 0x100000000ULL, 2 * RAM, RW), 0);
    tu_assert_maps(e->t, "100000000-108000000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- splits and merges ---- */

static void test_mprotect_middle_splits_in_three_and_back_merges_to_one(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x14000000, 8 * PG, RW, PA | MAP_FIXED), 0x14000000);
    assert_int_equal(vms_mprotect(e->t, 0x14002000, 2 * PG, PROT_READ), 0);
    tu_assert_maps(e->t, "14000000-14002000 rw-p 00000000 00:00 0 \n"
                         "14002000-14004000 r--p 00000000 00:00 0 \n"
                         "14004000-14008000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(vms_mprotect(e->t, 0x14002000, 2 * PG, RW), 0);
    tu_assert_maps(e->t, "14000000-14008000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_middle_of_touched_memory_merges_back_too(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x14000000, 8 * PG, RW, PA | MAP_FIXED), 0x14000000);
    fill_pages(e->t, 0x14000000, 8, 7);
    assert_int_equal(vms_mprotect(e->t, 0x14002000, 2 * PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), 3);
    assert_int_equal(vms_mprotect(e->t, 0x14002000, 2 * PG, RW), 0);
    tu_assert_maps(e->t, "14000000-14008000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(tu_load_byte(e->t, 0x14003000), 7);
    tu_assert_clean(e->m);
}

static void test_mprotect_read_only_to_rw_merges_with_rw_neighbour(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x15000000, 4 * PG, RW, PA | MAP_FIXED), 0x15000000);
    assert_int_equal(map(e, 0x15004000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x15004000);
    assert_int_equal(vms_mprotect(e->t, 0x15004000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "15000000-15008000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Untouched RW memory gives its charge back when made read-only, so it
 * then looks like (and merges with) a fresh read-only mapping. */
static void test_mprotect_untouched_rw_to_read_only_merges_with_fresh_read_only(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x16000000, 4 * PG, RW, PA | MAP_FIXED), 0x16000000);
    assert_int_equal(vms_mprotect(e->t, 0x16000000, 4 * PG, PROT_READ), 0);
    assert_int_equal(map(e, 0x16004000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x16004000);
    tu_assert_maps(e->t, "16000000-16008000 r--p 00000000 00:00 0 \n");
    assert_int_equal(vms_mprotect(e->t, 0x16000000, 8 * PG, RW), 0);
    tu_assert_maps(e->t, "16000000-16008000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Reading maps the zero page only: still no anonymous memory of its own. */
static void test_mprotect_only_read_rw_to_read_only_merges_with_fresh_read_only(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x21000000, 4 * PG, RW, PA | MAP_FIXED), 0x21000000);
    read_pages(e->t, 0x21000000, 4);
    assert_int_equal(vms_mprotect(e->t, 0x21000000, 4 * PG, PROT_READ), 0);
    assert_int_equal(map(e, 0x21004000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x21004000);
    tu_assert_maps(e->t, "21000000-21008000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Written memory keeps its charge when made read-only: no merge. */
static void test_mprotect_written_rw_to_read_only_does_not_merge_with_fresh(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x20000000, 4 * PG, RW, PA | MAP_FIXED), 0x20000000);
    fill_pages(e->t, 0x20000000, 1, 1);
    assert_int_equal(vms_mprotect(e->t, 0x20000000, 4 * PG, PROT_READ), 0);
    assert_int_equal(map(e, 0x20004000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x20004000);
    tu_assert_maps(e->t, "20000000-20004000 r--p 00000000 00:00 0 \n"
                         "20004000-20008000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_fresh_read_only_to_rw_merges_with_written_rw(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x22000000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x22000000);
    assert_int_equal(map(e, 0x22004000, 4 * PG, RW, PA | MAP_FIXED), 0x22004000);
    fill_pages(e->t, 0x22004000, 4, 1);
    tu_assert_maps(e->t, "22000000-22004000 r--p 00000000 00:00 0 \n"
                         "22004000-22008000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(vms_mprotect(e->t, 0x22000000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "22000000-22008000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_both_halves_of_touched_memory_read_only_merge(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x23000000, 8 * PG, RW, PA | MAP_FIXED), 0x23000000);
    fill_pages(e->t, 0x23000000, 8, 1);
    assert_int_equal(vms_mprotect(e->t, 0x23004000, 4 * PG, PROT_READ), 0);
    tu_assert_maps(e->t, "23000000-23004000 rw-p 00000000 00:00 0 \n"
                         "23004000-23008000 r--p 00000000 00:00 0 \n");
    assert_int_equal(vms_mprotect(e->t, 0x23000000, 4 * PG, PROT_READ), 0);
    tu_assert_maps(e->t, "23000000-23008000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Growing a stack gives it anonymous memory of its own (an anon_vma), even
 * when the growth came from a read: a piece made RW and then read-only
 * again keeps its charge, so it no longer merges with the rest. */
static void test_mprotect_rw_to_read_only_after_stack_growth_does_not_merge(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x31000000, 2 * PG, PROT_READ, PA | MAP_GROWSDOWN | MAP_FIXED),
                     0x31000000);
    assert_int_equal(tu_load_byte(e->t, 0x30fff000), 0);
    assert_int_equal(vms_mprotect(e->t, 0x31001000, PG, RW), 0);
    assert_int_equal(vms_mprotect(e->t, 0x31001000, PG, PROT_READ), 0);
    tu_assert_maps(e->t, "30fff000-31001000 r--p 00000000 00:00 0 \n"
                         "31001000-31002000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_rw_to_read_only_of_an_ungrown_stack_merges_back(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x30000000, 2 * PG, PROT_READ, PA | MAP_GROWSDOWN | MAP_FIXED),
                     0x30000000);
    assert_int_equal(vms_mprotect(e->t, 0x30001000, PG, RW), 0);
    assert_int_equal(vms_mprotect(e->t, 0x30001000, PG, PROT_READ), 0);
    tu_assert_maps(e->t, "30000000-30002000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_none_to_rw_does_not_merge_with_noreserve_rw(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x17200000, 4 * PG, PROT_NONE, PA | MAP_FIXED), 0x17200000);
    assert_int_equal(map(e, 0x17204000, 4 * PG, RW, PA | MAP_NORESERVE | MAP_FIXED), 0x17204000);
    assert_int_equal(vms_mprotect(e->t, 0x17200000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "17200000-17204000 rw-p 00000000 00:00 0 \n"
                         "17204000-17208000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* MAP_NORESERVE survives mprotect, and no charge is added. */
static void test_mprotect_noreserve_none_to_rw_does_not_merge_with_plain_rw(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x17300000, 4 * PG, PROT_NONE, PA | MAP_NORESERVE | MAP_FIXED),
                     0x17300000);
    assert_int_equal(map(e, 0x17304000, 4 * PG, RW, PA | MAP_FIXED), 0x17304000);
    assert_int_equal(vms_mprotect(e->t, 0x17300000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "17300000-17304000 rw-p 00000000 00:00 0 \n"
                         "17304000-17308000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_rwx_to_rw_merges_with_rw_neighbour(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18600000, 4 * PG, RW, PA | MAP_FIXED), 0x18600000);
    assert_int_equal(map(e, 0x18604000, 4 * PG, RW | PROT_EXEC, PA | MAP_FIXED), 0x18604000);
    assert_int_equal(vms_mprotect(e->t, 0x18604000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "18600000-18608000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Outer neighbours touched separately (different anon_vmas): the middle
 * made RW joins the lower one only. */
static void test_mprotect_between_two_touched_mappings_merges_with_the_lower_only(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * PG, RW, PA | MAP_FIXED), 0x10000000);
    tu_store_byte(e->t, 0x10000000, 1);
    assert_int_equal(map(e, 0x10008000, 4 * PG, RW, PA | MAP_FIXED), 0x10008000);
    tu_store_byte(e->t, 0x10008000, 1);
    assert_int_equal(map(e, 0x10004000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x10004000);
    assert_int_equal(vms_mprotect(e->t, 0x10004000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "10000000-10008000 rw-p 00000000 00:00 0 \n"
                         "10008000-1000c000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Splitting locked memory with mprotect keeps every page counted. */
static void test_mprotect_of_locked_memory_keeps_it_counted(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 8 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    assert_int_equal(vms_mprotect(e->t, 0x10100000, MIB, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), 3);
    assert_int_equal(map(e, 0x30000000, PG, RW, PA | MAP_LOCKED | MAP_FIXED), -EAGAIN);
    tu_assert_clean(e->m);
}

static void test_mprotect_locked_does_not_merge_with_plain(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18200000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x18200000);
    assert_int_equal(map(e, 0x18204000, 4 * PG, RW, PA | MAP_LOCKED | MAP_FIXED), 0x18204000);
    assert_int_equal(vms_mprotect(e->t, 0x18200000, 4 * PG, RW), 0);
    tu_assert_maps(e->t, "18200000-18204000 rw-p 00000000 00:00 0 \n"
                         "18204000-18208000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_shared_pieces_merge_back_into_one(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18000000, 4 * PG, RW, SA | MAP_FIXED), 0x18000000);
    assert_int_equal(vms_mprotect(e->t, 0x18001000, PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), 3);
    assert_int_equal(vms_mprotect(e->t, 0x18001000, PG, RW), 0);
    char *text = tu_maps(e->t);
    tu_assert_shm_line(text, "18000000-18004000 rw-s 00000000 00:01 ");
    assert_null(tu_line(text, 1));
    free(text);
    tu_assert_clean(e->m);
}

/* ---- vm.max_map_count, lowered to 20 so that tests stay small ---- */

#define MAX_MAPS 20
#define TARGET 0x10000000ULL /* a 5-page RW mapping the calls act on */
#define FILLERS 0x20000000ULL /* one-page mappings a page apart, so none merge */

static void fill_to(struct env *e, int count)
{
    struct vms_config c = tu_config(RAM);
    c.max_map_count = MAX_MAPS;
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    assert_int_equal(map(e, TARGET, 5 * PG, RW, PA | MAP_FIXED), TARGET);
    for (int i = 1; i < count; i++) {
        vms_addr a = FILLERS + (uint64_t)i * 2 * PG;
        assert_int_equal(map(e, a, PG, RW, PA | MAP_FIXED), a);
    }
    assert_int_equal(tu_vma_count(e->t), count);
}

/* The first lines of the maps text: the target's pieces. */
static void assert_target_lines(vms_task *t, const char *expected)
{
    char *text = tu_maps(t);
    assert_memory_equal(text, expected, strlen(expected));
    free(text);
}

static void test_mprotect_first_page_at_max_minus_1_splits(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1);
    assert_int_equal(vms_mprotect(e->t, TARGET, PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    tu_assert_clean(e->m);
}

static void test_mprotect_first_page_at_max_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    assert_int_equal(vms_mprotect(e->t, TARGET, PG, PROT_READ), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    assert_target_lines(e->t, "10000000-10005000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_middle_page_at_max_minus_2_splits_twice(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 2);
    assert_int_equal(vms_mprotect(e->t, TARGET + PG, PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    assert_target_lines(e->t, "10000000-10001000 rw-p 00000000 00:00 0 \n"
                              "10001000-10002000 r--p 00000000 00:00 0 \n"
                              "10002000-10005000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* The first split is made and kept; the second is refused. */
static void test_mprotect_middle_page_at_max_minus_1_keeps_the_first_split(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1);
    assert_int_equal(vms_mprotect(e->t, TARGET + PG, PG, PROT_READ), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    assert_target_lines(e->t, "10000000-10001000 rw-p 00000000 00:00 0 \n"
                              "10001000-10005000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_middle_page_at_max_changes_nothing(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    assert_int_equal(vms_mprotect(e->t, TARGET + PG, PG, PROT_READ), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    assert_target_lines(e->t, "10000000-10005000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mprotect_whole_vma_past_the_limit_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(vms_mprotect(e->t, TARGET, 5 * PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    assert_target_lines(e->t, "10000000-10005000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mprotect_growsdown_with_growsup_is_einval_before_anything),
        T(test_mprotect_unaligned_address_is_einval_even_with_len_0),
        T(test_mprotect_len_0_returns_0_even_unmapped_or_with_bad_prot),
        T(test_mprotect_wrapping_range_is_enomem_before_the_prot_check),
        T(test_mprotect_unknown_prot_bit_is_einval_before_the_lookup),
        T(test_mprotect_prot_sem_is_accepted_and_changes_nothing_visible),
        T(test_mprotect_unmapped_range_is_enomem),
        T(test_mprotect_huge_len_changes_the_mapped_part_then_is_enomem),
        T(test_mprotect_growsdown_or_growsup_on_a_normal_vma_is_einval),
        T(test_mprotect_over_a_hole_changes_the_part_before_it),
        T(test_mprotect_over_a_hole_still_applies_before_it_when_spanning_all),
        T(test_mprotect_starting_in_a_hole_changes_nothing),
        T(test_mprotect_growsdown_extends_the_change_down_to_vma_start),
        T(test_mprotect_growsdown_may_start_below_the_vma),
        T(test_mprotect_growsdown_ending_below_the_vma_is_enomem),
        T(test_mprotect_growsup_on_a_growsdown_vma_is_einval),
        T(test_mprotect_read_only_refuses_stores_and_keeps_the_data),
        T(test_mprotect_none_refuses_loads_with_accerr),
        T(test_mprotect_back_to_rw_allows_stores_and_keeps_the_data),
        T(test_mprotect_shoots_down_other_cpus_tlb_entries),
        T(test_mprotect_making_more_than_ram_writable_is_enomem),
        T(test_mprotect_noreserve_memory_may_become_writable_beyond_ram),
        T(test_mprotect_middle_splits_in_three_and_back_merges_to_one),
        T(test_mprotect_middle_of_touched_memory_merges_back_too),
        T(test_mprotect_read_only_to_rw_merges_with_rw_neighbour),
        T(test_mprotect_untouched_rw_to_read_only_merges_with_fresh_read_only),
        T(test_mprotect_only_read_rw_to_read_only_merges_with_fresh_read_only),
        T(test_mprotect_written_rw_to_read_only_does_not_merge_with_fresh),
        T(test_mprotect_fresh_read_only_to_rw_merges_with_written_rw),
        T(test_mprotect_both_halves_of_touched_memory_read_only_merge),
        T(test_mprotect_rw_to_read_only_after_stack_growth_does_not_merge),
        T(test_mprotect_rw_to_read_only_of_an_ungrown_stack_merges_back),
        T(test_mprotect_none_to_rw_does_not_merge_with_noreserve_rw),
        T(test_mprotect_noreserve_none_to_rw_does_not_merge_with_plain_rw),
        T(test_mprotect_rwx_to_rw_merges_with_rw_neighbour),
        T(test_mprotect_between_two_touched_mappings_merges_with_the_lower_only),
        T(test_mprotect_of_locked_memory_keeps_it_counted),
        T(test_mprotect_locked_does_not_merge_with_plain),
        T(test_mprotect_shared_pieces_merge_back_into_one),
        T(test_mprotect_first_page_at_max_minus_1_splits),
        T(test_mprotect_first_page_at_max_is_enomem),
        T(test_mprotect_middle_page_at_max_minus_2_splits_twice),
        T(test_mprotect_middle_page_at_max_minus_1_keeps_the_first_split),
        T(test_mprotect_middle_page_at_max_changes_nothing),
        T(test_mprotect_whole_vma_past_the_limit_succeeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
