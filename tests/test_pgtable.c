/*
 * test_pgtable.c - x86-64 page tables in simulated RAM, seen through
 * vms_walk, vms_phys_read and the pgtable_frames counter: tables built lazily
 * by the first fault, the 9/9/9/9/12 index split, Intel's entry bits for
 * table and leaf entries, the read-only zero page, 5-level paging, and tables
 * freed by munmap only when no VMA is left in the range they cover.
 *
 * Frames are handed out lowest first: frame 0 is reserved, frame 1 is the zero
 * page, so a fresh machine's first pgd is frame 2 and the tables that the
 * first fault builds are frames 3, 4 and 5, and its page frame 6.
 */
#include "testutil.h"

#include "pgtable.h"

#define FIRST_MMAP 0x7ffff7ffe000ULL
/* An address whose indices are 3, 5, 7 and 9, top level first. */
#define VA_3579 ((3ULL << 39) | (5ULL << 30) | (7ULL << 21) | (9ULL << 12))
#define FIXED_ANON (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
#define RW (PROT_READ | PROT_WRITE)
#define FLAG_BITS (~PTE_PFN_MASK)

struct fixture {
    vms_machine *m;
    vms_task *t;
};

static int setup(void **state)
{
    struct fixture *f = malloc(sizeof(*f));
    assert_non_null(f);
    f->m = tu_machine();
    f->t = tu_spawn(f->m);
    *state = f;
    return 0;
}

static int setup_5level(void **state)
{
    struct fixture *f = malloc(sizeof(*f));
    assert_non_null(f);
    struct vms_config c = tu_config(64ULL << 20);
    c.pgtable_levels = 5;
    f->m = tu_machine_with(&c);
    f->t = tu_spawn(f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tu_assert_clean(f->m);
    vms_machine_destroy(f->m);
    free(f);
    return 0;
}

static void walk_ok(vms_task *t, vms_addr va, struct vms_walk *w)
{
    assert_int_equal(vms_walk(t, va, w), 0);
}

/* ---- lazy creation ---- */

static void test_new_process_has_only_a_pgd(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(tu_pgtable_frames(f->m), 1);
    assert_int_equal(tu_frames_used(f->m), 3);
}

static void test_walk_before_first_fault_returns_efault(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    struct vms_walk w;
    assert_int_equal(vms_walk(f->t, VA_3579, &w), -EFAULT);
    assert_int_equal(w.levels, 4);
    assert_int_equal(w.present, 0);
    assert_int_equal(w.step[0].table_pa, 0x2000);
    assert_int_equal(w.step[0].index, 3);
    assert_int_equal(w.step[0].entry, 0);
    assert_int_equal(w.step[1].table_pa, 0);
    assert_int_equal(w.step[3].entry, 0);
}

static void test_mmap_alone_allocates_no_table(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, 0x10000000, 64ULL << 20, RW, FIXED_ANON);
    assert_int_equal(tu_pgtable_frames(f->m), 1);
}

static void test_first_store_builds_three_tables(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    assert_int_equal(tu_frames_used(f->m), 2 + 4 + 1);
}

static void test_walk_indices_are_the_address_bits(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579 + 0x123, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579 + 0x123, &w);
    assert_int_equal(w.levels, 4);
    assert_int_equal(w.step[0].index, 3);
    assert_int_equal(w.step[1].index, 5);
    assert_int_equal(w.step[2].index, 7);
    assert_int_equal(w.step[3].index, 9);
    assert_int_equal(w.present, 1);
}

static void test_walk_indices_at_the_top_of_user_space(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    assert_int_equal(a, FIRST_MMAP);
    tu_store_byte(f->t, a, 1);
    struct vms_walk w;
    walk_ok(f->t, a, &w);
    assert_int_equal(w.step[0].index, 255);
    assert_int_equal(w.step[1].index, 511);
    assert_int_equal(w.step[2].index, 447);
    assert_int_equal(w.step[3].index, 510);
}

static void test_tables_are_the_lowest_free_frames(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    assert_int_equal(w.step[0].table_pa, 0x2000);
    assert_int_equal(w.step[1].table_pa, 0x3000);
    assert_int_equal(w.step[2].table_pa, 0x4000);
    assert_int_equal(w.step[3].table_pa, 0x5000);
    assert_int_equal(w.pa, 0x6000);
}

static void test_each_entry_points_to_the_next_table(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    for (int i = 0; i < 3; i++)
        assert_int_equal(w.step[i + 1].table_pa, w.step[i].entry & PTE_PFN_MASK);
    assert_int_equal(w.pa, w.step[3].entry & PTE_PFN_MASK);
}

static void test_walk_entries_are_the_bytes_in_ram(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    for (int i = 0; i < 4; i++) {
        uint64_t e = 0;
        assert_int_equal(vms_phys_read(f->m, w.step[i].table_pa + 8 * w.step[i].index, &e, 8), 0);
        assert_int_equal(e, w.step[i].entry);
    }
}

/* ---- entry bits ---- */

static void test_table_entries_are_present_rw_user_accessed_dirty(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    for (int i = 0; i < 3; i++)
        assert_int_equal(w.step[i].entry & FLAG_BITS, 0x67); /* P RW US A D, no NX */
}

static void test_leaf_of_written_private_page_is_rw_dirty_nx(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    uint64_t e = w.step[3].entry;
    assert_int_equal(e & FLAG_BITS, _PAGE_NX | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_USER |
                                         _PAGE_RW | _PAGE_PRESENT);
    assert_int_equal(e, 0x8000000000006067ULL);
}

static void test_leaf_pfn_lives_in_bits_12_to_51(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579 + 0xabc, 1);
    struct vms_walk w;
    walk_ok(f->t, VA_3579 + 0xabc, &w);
    uint64_t e = w.step[3].entry;
    assert_int_equal((e >> 12) & ((1ULL << 40) - 1), 6);
    assert_int_equal(w.pa, 0x6abc);
}

static void test_read_maps_the_zero_page_read_only(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    assert_int_equal(tu_load_byte(f->t, VA_3579), 0);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    uint64_t e = w.step[3].entry;
    assert_int_equal(e & _PAGE_RW, 0);
    assert_int_equal(e & PTE_PFN_MASK, 0x1000); /* frame 1: the zero page */
    /* P US A NX, plus bit 9 (software: no struct page reference) */
    assert_int_equal(e & FLAG_BITS, _PAGE_NX | _PAGE_SPECIAL | _PAGE_ACCESSED | _PAGE_USER |
                                         _PAGE_PRESENT);
    assert_int_equal(tu_frames_used(f->m), 2 + 4); /* tables only: no page of its own */
}

static void test_exec_mapping_leaf_has_no_nx(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, PROT_READ | PROT_EXEC, FIXED_ANON);
    assert_int_equal(tu_load_byte(f->t, VA_3579), 0);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    assert_int_equal(w.step[3].entry & _PAGE_NX, 0);
    assert_int_equal(w.step[3].entry & _PAGE_RW, 0);
}

static void test_shared_writable_leaf_is_rw_after_a_read(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    assert_int_equal(tu_load_byte(f->t, VA_3579), 0);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    /* Shared memory has no COW: writable at once, but not yet dirty. */
    assert_int_equal(w.step[3].entry & FLAG_BITS,
                     _PAGE_NX | _PAGE_ACCESSED | _PAGE_USER | _PAGE_RW | _PAGE_PRESENT);
}

static void test_prot_none_leaf_is_absent_to_the_mmu(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, VA_3579, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, VA_3579, 1);
    assert_int_equal(vms_mprotect(f->t, VA_3579, TU_PAGE, PROT_NONE), 0);
    struct vms_walk w;
    walk_ok(f->t, VA_3579, &w);
    assert_int_equal(w.present, 0);
    assert_int_equal(w.step[3].entry & _PAGE_PRESENT, 0);
    assert_int_equal(w.step[3].entry & PTE_PFN_MASK, 0x6000); /* the page is kept */
}

/* ---- 5-level paging ---- */

static void test_5level_walk_has_five_steps(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    assert_int_equal(a, FIRST_MMAP);
    tu_store_byte(f->t, a, 1);
    struct vms_walk w;
    walk_ok(f->t, a, &w);
    assert_int_equal(w.levels, 5);
    assert_int_equal(w.step[0].index, 0);
    assert_int_equal(w.step[1].index, 255);
    assert_int_equal(w.step[2].index, 511);
    assert_int_equal(w.step[3].index, 447);
    assert_int_equal(w.step[4].index, 510);
    assert_int_equal(w.present, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w.step[i + 1].table_pa, w.step[i].entry & PTE_PFN_MASK);
}

static void test_5level_first_store_builds_four_tables(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    assert_int_equal(tu_pgtable_frames(f->m), 1);
    tu_store_byte(f->t, a, 1);
    assert_int_equal(tu_pgtable_frames(f->m), 5);
}

static void test_5level_maps_above_47_bits(void **state)
{
    struct fixture *f = *state;
    vms_addr a = (1ULL << 48) | VA_3579;
    tu_mmap(f->t, a, TU_PAGE, RW, FIXED_ANON);
    tu_store_byte(f->t, a, 0x5a);
    assert_int_equal(tu_load_byte(f->t, a), 0x5a);
    struct vms_walk w;
    walk_ok(f->t, a, &w);
    assert_int_equal(w.step[0].index, 1);
    assert_int_equal(w.step[1].index, 3);
    assert_int_equal(w.step[4].index, 9);
}

static void test_4level_cannot_map_above_47_bits(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(vms_mmap(f->t, 1ULL << 48, TU_PAGE, RW, FIXED_ANON, -1, 0), -ENOMEM);
}

/* ---- freeing ---- */

static void test_munmap_of_last_vma_frees_its_tables(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 4 * TU_PAGE, RW);
    for (int i = 0; i < 4; i++)
        tu_store_byte(f->t, a + i * TU_PAGE, 1);
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    assert_int_equal(vms_munmap(f->t, a, 4 * TU_PAGE), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 1);
    assert_int_equal(tu_frames_used(f->m), 3);
    struct vms_walk w;
    assert_int_equal(vms_walk(f->t, a, &w), -EFAULT);
    assert_int_equal(w.step[0].entry, 0);
}

static void test_neighbour_in_same_pte_table_keeps_the_tables(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    vms_addr b = tu_anon(f->t, TU_PAGE, PROT_READ); /* just below; no merge */
    assert_int_equal(b, a - TU_PAGE);
    tu_store_byte(f->t, a, 1);
    assert_int_equal(tu_load_byte(f->t, b), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    assert_int_equal(vms_munmap(f->t, a, TU_PAGE), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    struct vms_walk w;
    walk_ok(f->t, a, &w); /* every table is still there */
    assert_int_equal(w.present, 0);
    assert_int_equal(w.step[3].entry, 0);
    walk_ok(f->t, b, &w);
    assert_int_equal(w.present, 1);
    assert_int_equal(vms_munmap(f->t, b, TU_PAGE), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 1);
}

static void test_munmap_frees_only_the_pte_table_it_empties(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, 0x10000000, TU_PAGE, RW, FIXED_ANON);
    tu_mmap(f->t, 0x10200000, TU_PAGE, RW, FIXED_ANON); /* next 2 MiB */
    tu_store_byte(f->t, 0x10000000, 1);
    tu_store_byte(f->t, 0x10200000, 1);
    assert_int_equal(tu_pgtable_frames(f->m), 5);
    assert_int_equal(vms_munmap(f->t, 0x10200000, TU_PAGE), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    struct vms_walk w;
    assert_int_equal(vms_walk(f->t, 0x10200000, &w), -EFAULT);
    assert_int_equal(w.step[2].entry, 0); /* the PMD entry is cleared */
    assert_int_equal(w.step[1].entry & FLAG_BITS, 0x67);
}

static void test_munmap_inside_a_vma_keeps_its_tables(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, 0x10000000, 0x600000, RW, FIXED_ANON);
    tu_store_byte(f->t, 0x10000000, 1);
    tu_store_byte(f->t, 0x10200000, 1);
    tu_store_byte(f->t, 0x10400000, 1);
    assert_int_equal(tu_pgtable_frames(f->m), 6);
    /* The middle 2 MiB goes; the VMAs left on both sides do not reach its table. */
    assert_int_equal(vms_munmap(f->t, 0x10200000, 0x200000), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 5);
    assert_int_equal(vms_munmap(f->t, 0x10001000, TU_PAGE), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 5);
}

static void test_tables_grow_with_the_spread_of_touches(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, 0x10000000, 0x40200000, RW, FIXED_ANON | MAP_NORESERVE);
    tu_store_byte(f->t, 0x10000000, 1);
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    tu_store_byte(f->t, 0x10001000, 1); /* same PTE table */
    assert_int_equal(tu_pgtable_frames(f->m), 4);
    tu_store_byte(f->t, 0x10200000, 1); /* next PMD entry: one PTE table */
    assert_int_equal(tu_pgtable_frames(f->m), 5);
    tu_store_byte(f->t, 0x50000000, 1); /* next PUD entry: PMD and PTE tables */
    assert_int_equal(tu_pgtable_frames(f->m), 7);
    assert_int_equal(vms_munmap(f->t, 0x10000000, 0x40200000), 0);
    assert_int_equal(tu_pgtable_frames(f->m), 1);
}

static void test_exit_frees_pgd_and_tables(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    tu_store_byte(f->t, a, 1);
    vms_exit(f->t);
    assert_int_equal(tu_pgtable_frames(f->m), 0);
    assert_int_equal(tu_frames_used(f->m), 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T5(fn) cmocka_unit_test_setup_teardown(fn, setup_5level, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_process_has_only_a_pgd),
        T(test_walk_before_first_fault_returns_efault),
        T(test_mmap_alone_allocates_no_table),
        T(test_first_store_builds_three_tables),
        T(test_walk_indices_are_the_address_bits),
        T(test_walk_indices_at_the_top_of_user_space),
        T(test_tables_are_the_lowest_free_frames),
        T(test_each_entry_points_to_the_next_table),
        T(test_walk_entries_are_the_bytes_in_ram),
        T(test_table_entries_are_present_rw_user_accessed_dirty),
        T(test_leaf_of_written_private_page_is_rw_dirty_nx),
        T(test_leaf_pfn_lives_in_bits_12_to_51),
        T(test_read_maps_the_zero_page_read_only),
        T(test_exec_mapping_leaf_has_no_nx),
        T(test_shared_writable_leaf_is_rw_after_a_read),
        T(test_prot_none_leaf_is_absent_to_the_mmu),
        T5(test_5level_walk_has_five_steps),
        T5(test_5level_first_store_builds_four_tables),
        T5(test_5level_maps_above_47_bits),
        T(test_4level_cannot_map_above_47_bits),
        T(test_munmap_of_last_vma_frees_its_tables),
        T(test_neighbour_in_same_pte_table_keeps_the_tables),
        T(test_munmap_frees_only_the_pte_table_it_empties),
        T(test_munmap_inside_a_vma_keeps_its_tables),
        T(test_tables_grow_with_the_spread_of_touches),
        T(test_exit_frees_pgd_and_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
