/*
 * test_page_alloc.c - simulated physical memory and its buddy allocator
 * (src/page_alloc.h): how blocks are split and coalesced, which frames come
 * out first, 2 MiB alignment of order-9 blocks, exhaustion, the frame count,
 * the reserved frame 0 and zero page, and a 64 GiB machine that costs nothing
 * until touched.
 *
 * Layout after phys_mem_init of a RAM that is a whole number of 4 MiB blocks:
 * frame 0 is reserved, frame 1 is the zero page, and the rest of the first
 * order-10 block sits on the free lists as one block of each order 1..9
 * (at frames 2, 4, 8, ..., 512); the other order-10 blocks are untouched.
 */
#include "testutil.h"

#include "page_alloc.h"

#define MIB (1ULL << 20)
#define FRAMES_PER_2MIB 512u

static void init_ram(struct phys_mem *pm, uint64_t bytes)
{
    assert_int_equal(phys_mem_init(pm, bytes), 0);
}

/* ---- initial state ---- */

static void test_init_counts_frames_and_reserves_two(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    assert_int_equal(pm.nframes, 2048);
    assert_int_equal(frames_used(&pm), 2);
    assert_int_equal(pm.nr_free, 2046);
    assert_int_equal(pm.nr_table, 0);
    phys_mem_destroy(&pm);
}

static void test_frame_0_and_zero_page_are_reserved(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    assert_int_equal(pm.zero_pfn, 1);
    assert_int_equal(pm.pages[0].flags, PG_reserved);
    assert_int_equal(pm.pages[1].flags, PG_reserved);
    phys_mem_destroy(&pm);
}

static void test_zero_page_holds_zeros(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    const uint8_t *zp = pfn_to_virt(&pm, pm.zero_pfn);
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        assert_int_equal(zp[i], 0);
    phys_mem_destroy(&pm);
}

static void test_put_page_never_frees_the_zero_page(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    put_page(&pm, pm.zero_pfn);
    put_page(&pm, pm.zero_pfn);
    assert_int_equal(frames_used(&pm), 2);
    assert_int_equal(pm.pages[pm.zero_pfn].flags, PG_reserved);
    phys_mem_destroy(&pm);
}

static void test_free_lists_hold_one_block_per_order_after_init(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    assert_int_equal(pm.free_head[0], PFN_NONE);
    for (unsigned order = 1; order < MAX_ORDER; order++) {
        assert_int_equal(pm.free_head[order], 1u << order);
        assert_int_equal(pm.pages[1u << order].order, order);
        assert_true(pm.pages[1u << order].flags & PG_buddy);
    }
    assert_int_equal(pm.free_head[MAX_ORDER], 1024);
    phys_mem_destroy(&pm);
}

static void test_too_small_ram_is_refused(void **state)
{
    (void)state;
    struct phys_mem pm;
    assert_int_equal(phys_mem_init(&pm, 15 * PAGE_SIZE), -EINVAL);
}

/* ---- allocation order and splitting ---- */

static void test_lowest_free_frames_come_out_first(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    assert_int_equal(alloc_pages(&pm, 0), 2);
    assert_int_equal(alloc_pages(&pm, 0), 3);
    assert_int_equal(alloc_pages(&pm, 0), 4);
    assert_int_equal(frames_used(&pm), 5);
    phys_mem_destroy(&pm);
}

static void test_split_keeps_lower_half_and_frees_upper_half(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    assert_int_equal(alloc_pages(&pm, 9), 512); /* the ready order-9 block */
    assert_int_equal(alloc_pages(&pm, 9), 1024); /* lower half of the order-10 block */
    assert_int_equal(pm.free_head[MAX_ORDER], PFN_NONE);
    assert_int_equal(pm.free_head[9], 1536);
    assert_int_equal(pm.pages[1536].order, 9);
    phys_mem_destroy(&pm);
}

static void test_allocated_frames_have_one_reference_and_no_flags(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t pfn = alloc_pages(&pm, 2);
    assert_int_equal(pfn, 4);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(pm.pages[pfn + i].refcount, 1);
        assert_int_equal(pm.pages[pfn + i].mapcount, 0);
        assert_int_equal(pm.pages[pfn + i].flags, 0);
    }
    phys_mem_destroy(&pm);
}

static void test_order_9_blocks_are_2mib_aligned(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 32 * MIB);
    /* 32 MiB holds 16 order-9 blocks; the first (frames 0-511) is broken up. */
    for (unsigned i = 0; i < 15; i++) {
        uint32_t pfn = alloc_pages(&pm, 9);
        assert_int_not_equal(pfn, PFN_NONE);
        assert_int_equal(pfn % FRAMES_PER_2MIB, 0);
        assert_int_equal(((uint64_t)pfn << PAGE_SHIFT) % (2 * MIB), 0);
    }
    assert_int_equal(alloc_pages(&pm, 9), PFN_NONE);
    phys_mem_destroy(&pm);
}

static void test_every_order_is_aligned_to_its_size(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 16 * MIB);
    for (unsigned order = 0; order <= MAX_ORDER; order++) {
        uint32_t pfn = alloc_pages(&pm, order);
        assert_int_not_equal(pfn, PFN_NONE);
        assert_int_equal(pfn & ((1u << order) - 1), 0);
    }
    phys_mem_destroy(&pm);
}

/* ---- freeing and coalescing ---- */

static void test_freeing_both_buddies_coalesces_them(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t a = alloc_pages(&pm, 0), b = alloc_pages(&pm, 0);
    assert_int_equal(a, 2);
    assert_int_equal(b, 3);
    free_pages(&pm, b, 0);
    assert_int_equal(pm.free_head[0], 3); /* its buddy is still in use */
    free_pages(&pm, a, 0);
    assert_int_equal(pm.free_head[0], PFN_NONE);
    assert_int_equal(pm.free_head[1], 2);
    assert_int_equal(pm.pages[2].order, 1);
    assert_int_equal(frames_used(&pm), 2);
    phys_mem_destroy(&pm);
}

static void test_coalescing_stops_at_a_reserved_buddy(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t pfn = alloc_pages(&pm, 9);
    assert_int_equal(pfn, 512);
    free_pages(&pm, pfn, 9);
    /* The buddy of 512 at order 9 is frames 0-511, which hold the reserved frames. */
    assert_int_equal(pm.free_head[9], 512);
    assert_int_equal(pm.free_head[MAX_ORDER], 1024);
    phys_mem_destroy(&pm);
}

static void test_coalescing_climbs_back_to_the_largest_order(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    assert_int_equal(alloc_pages(&pm, 9), 512);
    uint32_t lo = alloc_pages(&pm, 9), hi = alloc_pages(&pm, 9);
    assert_int_equal(lo, 1024);
    assert_int_equal(hi, 1536);
    assert_int_equal(pm.free_head[9], PFN_NONE);
    free_pages(&pm, lo, 9);
    free_pages(&pm, hi, 9);
    assert_int_equal(pm.free_head[9], PFN_NONE);
    assert_int_equal(pm.free_head[MAX_ORDER], 1024);
    assert_int_equal(pm.pages[1024].order, MAX_ORDER);
    phys_mem_destroy(&pm);
}

static void test_many_single_frames_coalesce_into_one_block(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t order9 = alloc_pages(&pm, 9); /* take 512-1023 out of the way */
    uint32_t pfns[1024];
    for (unsigned i = 0; i < 1024; i++) {
        pfns[i] = alloc_pages(&pm, 0);
        assert_int_not_equal(pfns[i], PFN_NONE);
    }
    /* The singles came from frames 2-511 (510) and 1024-1537 (514). */
    assert_int_equal(pfns[0], 2);
    assert_int_equal(pfns[509], 511);
    assert_int_equal(pfns[510], 1024);
    /* Free odd then even frames, so every merge waits for its buddy. */
    for (unsigned i = 1; i < 1024; i += 2)
        free_pages(&pm, pfns[i], 0);
    for (unsigned i = 0; i < 1024; i += 2)
        free_pages(&pm, pfns[i], 0);
    free_pages(&pm, order9, 9);
    for (unsigned order = 1; order < MAX_ORDER; order++)
        assert_int_equal(pm.free_head[order], 1u << order);
    assert_int_equal(pm.free_head[MAX_ORDER], 1024);
    assert_int_equal(pm.pages[1024].order, MAX_ORDER);
    assert_int_equal(frames_used(&pm), 2);
    phys_mem_destroy(&pm);
}

static void test_put_page_frees_on_last_reference(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t pfn = alloc_pages(&pm, 0);
    get_page(&pm, pfn);
    assert_int_equal(pm.pages[pfn].refcount, 2);
    put_page(&pm, pfn);
    assert_int_equal(frames_used(&pm), 3);
    put_page(&pm, pfn);
    assert_int_equal(frames_used(&pm), 2);
    assert_true(pm.pages[2].flags & PG_buddy);
    phys_mem_destroy(&pm);
}

static void test_alloc_zeroed_page_clears_old_contents(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t pfn = alloc_pages(&pm, 0);
    memset(pfn_to_virt(&pm, pfn), 0xa5, PAGE_SIZE);
    free_pages(&pm, pfn, 0);
    uint32_t again = alloc_zeroed_page(&pm);
    assert_int_equal(again, pfn);
    const uint8_t *bytes = pfn_to_virt(&pm, again);
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        assert_int_equal(bytes[i], 0);
    phys_mem_destroy(&pm);
}

/* ---- exhaustion and accounting ---- */

static void test_exhausted_memory_returns_pfn_none(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 16 * PAGE_SIZE);
    for (uint32_t expect = 2; expect < 16; expect++)
        assert_int_equal(alloc_pages(&pm, 0), expect);
    assert_int_equal(pm.nr_free, 0);
    assert_int_equal(alloc_pages(&pm, 0), PFN_NONE);
    assert_int_equal(alloc_zeroed_page(&pm), PFN_NONE);
    assert_int_equal(frames_used(&pm), 16);
    phys_mem_destroy(&pm);
}

static void test_no_block_larger_than_what_is_free(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 16 * PAGE_SIZE);
    /* 14 frames free, but the largest free block is order 3 (frames 8-15). */
    assert_int_equal(alloc_pages(&pm, 4), PFN_NONE);
    assert_int_equal(alloc_pages(&pm, 3), 8);
    assert_int_equal(alloc_pages(&pm, 3), PFN_NONE);
    assert_int_equal(alloc_pages(&pm, 2), 4);
    assert_int_equal(alloc_pages(&pm, 1), 2);
    assert_int_equal(alloc_pages(&pm, 0), PFN_NONE);
    assert_int_equal(frames_used(&pm), 16);
    phys_mem_destroy(&pm);
}

static void test_frames_used_counts_whole_blocks(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 8 * MIB);
    uint32_t a = alloc_pages(&pm, 3);
    assert_int_equal(frames_used(&pm), 2 + 8);
    uint32_t b = alloc_pages(&pm, 9);
    assert_int_equal(frames_used(&pm), 2 + 8 + 512);
    free_pages(&pm, a, 3);
    assert_int_equal(frames_used(&pm), 2 + 512);
    free_pages(&pm, b, 9);
    assert_int_equal(frames_used(&pm), 2);
    phys_mem_destroy(&pm);
}

static void test_ram_not_a_multiple_of_4mib_is_fully_usable(void **state)
{
    (void)state;
    struct phys_mem pm;
    init_ram(&pm, 5 * MIB + 3 * PAGE_SIZE); /* 1283 frames */
    assert_int_equal(pm.nframes, 1283);
    unsigned got = 0;
    while (alloc_pages(&pm, 0) != PFN_NONE)
        got++;
    assert_int_equal(got, 1281);
    phys_mem_destroy(&pm);
}

/* ---- through the machine ---- */

static void test_machine_of_64gib_counts_its_frames(void **state)
{
    (void)state;
    struct vms_config c = tu_config(64ULL << 30);
    vms_machine *m = tu_machine_with(&c);
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->frames_total, 16777216);
    assert_int_equal(s->frames_used, 2);
    assert_int_equal(s->pgtable_frames, 0);
    free(s);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, TU_PAGE, PROT_READ | PROT_WRITE);
    tu_store_byte(t, a, 7);
    assert_int_equal(tu_load_byte(t, a), 7);
    assert_int_equal(tu_frames_used(m), 2 + 4 + 1); /* tables and one page */
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_machine_frames_used_starts_at_two(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->frames_total, 16384);
    assert_int_equal(s->frames_used, 2);
    free(s);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_counts_frames_and_reserves_two),
        cmocka_unit_test(test_frame_0_and_zero_page_are_reserved),
        cmocka_unit_test(test_zero_page_holds_zeros),
        cmocka_unit_test(test_put_page_never_frees_the_zero_page),
        cmocka_unit_test(test_free_lists_hold_one_block_per_order_after_init),
        cmocka_unit_test(test_too_small_ram_is_refused),
        cmocka_unit_test(test_lowest_free_frames_come_out_first),
        cmocka_unit_test(test_split_keeps_lower_half_and_frees_upper_half),
        cmocka_unit_test(test_allocated_frames_have_one_reference_and_no_flags),
        cmocka_unit_test(test_order_9_blocks_are_2mib_aligned),
        cmocka_unit_test(test_every_order_is_aligned_to_its_size),
        cmocka_unit_test(test_freeing_both_buddies_coalesces_them),
        cmocka_unit_test(test_coalescing_stops_at_a_reserved_buddy),
        cmocka_unit_test(test_coalescing_climbs_back_to_the_largest_order),
        cmocka_unit_test(test_many_single_frames_coalesce_into_one_block),
        cmocka_unit_test(test_put_page_frees_on_last_reference),
        cmocka_unit_test(test_alloc_zeroed_page_clears_old_contents),
        cmocka_unit_test(test_exhausted_memory_returns_pfn_none),
        cmocka_unit_test(test_no_block_larger_than_what_is_free),
        cmocka_unit_test(test_frames_used_counts_whole_blocks),
        cmocka_unit_test(test_ram_not_a_multiple_of_4mib_is_fully_usable),
        cmocka_unit_test(test_machine_of_64gib_counts_its_frames),
        cmocka_unit_test(test_machine_frames_used_starts_at_two),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
