/*
 * test_munmap.c - munmap of anonymous memory, as Linux 6.x on x86-64 answers
 * it: the errno table, length rounding, splitting and shrinking of VMAs,
 * the offsets of shared anonymous pieces in /proc/PID/maps, merging when a
 * hole is mapped again, frames and page tables given back, the TLB entries
 * of other CPUs shot down, and the vm.max_map_count limit on splits.
 */
#include "testutil.h"

#include <errno.h>

#define PG 0x1000ULL
#define MIB (1ULL << 20)
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define SA (MAP_SHARED | MAP_ANONYMOUS)
#define MMAP_BASE 0x7ffff7fff000ULL
#define FIRST_PAGE 0x7ffff7ffe000ULL /* where the first one-page mapping goes */
#define TASK_SIZE 0x7ffffffff000ULL
#define RAM (64ULL << 20)

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

/* ---- errors ---- */

static void test_munmap_unaligned_address_is_einval(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a + 1, PG), -EINVAL);
    assert_int_equal(vms_munmap(e->t, a + 0x800, PG), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 1);
    tu_assert_clean(e->m);
}

static void test_munmap_len_0_is_einval(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a, 0), -EINVAL);
    assert_int_equal(vms_munmap(e->t, a + 1, 0), -EINVAL);
    assert_int_equal(vms_munmap(e->t, 0x10000000, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_munmap_len_1_is_rounded_up_to_a_page(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a, 1), 0);
    tu_assert_maps(e->t, "7ffff7ff8000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_munmap_len_just_over_a_page_removes_two_pages(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a, PG + 1), 0);
    tu_assert_maps(e->t, "7ffff7ff9000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_munmap_of_unmapped_range_returns_0(void **state)
{
    struct env *e = *state;
    map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, 0x10000000, PG), 0);
    assert_int_equal(vms_munmap(e->t, 0, PG), 0);
    assert_int_equal(tu_vma_count(e->t), 1);
    tu_assert_clean(e->m);
}

static void test_munmap_with_nothing_mapped_returns_0(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_munmap(e->t, FIRST_PAGE, PG), 0);
    tu_assert_clean(e->m);
}

static void test_munmap_range_that_wraps_around_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_munmap(e->t, 0x7ffff0000000ULL, ~0ULL - 0x1000), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_munmap_at_or_past_task_size_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_munmap(e->t, TASK_SIZE, PG), -EINVAL);
    assert_int_equal(vms_munmap(e->t, 0x800000000000ULL, PG), -EINVAL);
    assert_int_equal(vms_munmap(e->t, 0xffffffffff600000ULL, PG), -EINVAL);
    assert_int_equal(vms_munmap(e->t, TASK_SIZE - PG, 2 * PG), -EINVAL);
    assert_int_equal(vms_munmap(e->t, 0x10000000, 1ULL << 47), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_munmap_range_ending_exactly_at_task_size_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, TASK_SIZE - PG, PG, RW, PA | MAP_FIXED), TASK_SIZE - PG);
    assert_int_equal(vms_munmap(e->t, TASK_SIZE - PG, PG), 0);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_munmap_of_the_whole_user_range_removes_everything(void **state)
{
    struct env *e = *state;
    map_eight_pages(e);
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x1000, PG, RW, SA | MAP_FIXED), 0x1000);
    fill_pages(e->t, 0x10000000, 1, 9);
    assert_int_equal(vms_munmap(e->t, 0x1000, TASK_SIZE - 0x1000), 0);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

/* ---- shapes ---- */

static void test_munmap_of_the_middle_splits_in_two(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a + 3 * PG, 2 * PG), 0);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7ffa000 rw-p 00000000 00:00 0 \n"
                         "7ffff7ffc000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_munmap_of_the_ends_shrinks_the_mapping(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a, 2 * PG), 0);
    assert_int_equal(vms_munmap(e->t, a + 6 * PG, 2 * PG), 0);
    tu_assert_maps(e->t, "7ffff7ff9000-7ffff7ffd000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_munmap_across_mappings_and_holes_removes_only_the_range(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10006000, 2 * PG, PROT_READ, PA | MAP_FIXED), 0x10006000);
    assert_int_equal(map(e, 0x10009000, 4 * PG, RW, SA | MAP_FIXED), 0x10009000);
    assert_int_equal(vms_munmap(e->t, 0x10002000, 0x9000), 0);
    char *text = tu_maps(e->t);
    assert_memory_equal(text, "10000000-10002000 rw-p 00000000 00:00 0 \n", 41);
    tu_assert_shm_line(tu_line(text, 1), "1000b000-1000d000 rw-s 00002000 00:01 ");
    assert_null(tu_line(text, 2));
    free(text);
    tu_assert_clean(e->m);
}

static void test_munmap_then_access_is_segv_maperr_at_the_exact_byte(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    fill_pages(e->t, a, 8, 5);
    assert_int_equal(vms_munmap(e->t, a + 2 * PG, PG), 0);
    uint8_t v = 0;
    assert_int_equal(vms_load(e->t, a + 2 * PG + 0x123, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, a + 2 * PG + 0x123);
    assert_int_equal(vms_store(e->t, a + 3 * PG - 1, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, a + 3 * PG - 1);
    assert_int_equal(tu_load_byte(e->t, a + PG), 5);
    assert_int_equal(tu_load_byte(e->t, a + 3 * PG), 5);
    tu_assert_clean(e->m);
}

/* A store that runs from a mapped page into the hole faults at the hole's first byte. */
static void test_munmap_store_across_into_the_hole_faults_at_its_first_byte(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    assert_int_equal(vms_munmap(e->t, a + 2 * PG, PG), 0);
    uint8_t buf[16] = {0};
    assert_int_equal(vms_store(e->t, a + 2 * PG - 8, buf, sizeof(buf)), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, a + 2 * PG);
    tu_assert_clean(e->m);
}

/* A hole mapped again with the same prot merges back. */
static void test_munmap_middle_of_touched_then_fixed_refill_merges_back(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x19000000, 8 * PG, RW, PA | MAP_FIXED), 0x19000000);
    fill_pages(e->t, 0x19000000, 8, 3);
    assert_int_equal(vms_munmap(e->t, 0x19003000, 2 * PG), 0);
    assert_int_equal(map(e, 0x19003000, 2 * PG, RW, PA | MAP_FIXED), 0x19003000);
    tu_assert_maps(e->t, "19000000-19008000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(tu_load_byte(e->t, 0x19003000), 0);
    assert_int_equal(tu_load_byte(e->t, 0x19005000), 3);
    tu_assert_clean(e->m);
}

/* ---- shared anonymous pieces keep their offsets ---- */

static void test_munmap_first_page_of_shared_leaves_offset_0x1000(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 4 * PG, RW, SA), MMAP_BASE - 4 * PG);
    assert_int_equal(vms_munmap(e->t, MMAP_BASE - 4 * PG, PG), 0);
    char *text = tu_maps(e->t);
    tu_assert_shm_line(text, "7ffff7ffc000-7ffff7fff000 rw-s 00001000 00:01 ");
    assert_null(tu_line(text, 1));
    free(text);
    tu_assert_clean(e->m);
}

static void test_munmap_pieces_of_shared_keep_their_page_offsets(void **state)
{
    struct env *e = *state;
    vms_addr a = MMAP_BASE - 4 * PG;
    assert_int_equal(map(e, 0, 4 * PG, RW, SA), a);
    assert_int_equal(vms_munmap(e->t, a, PG), 0);
    assert_int_equal(vms_munmap(e->t, a + 2 * PG, PG), 0);
    char *text = tu_maps(e->t);
    const char *low = "7ffff7ffc000-7ffff7ffd000 rw-s 00001000 00:01 ";
    const char *high = "7ffff7ffe000-7ffff7fff000 rw-s 00003000 00:01 ";
    uint64_t lo = tu_assert_shm_line(tu_line(text, 0), low);
    uint64_t hi = tu_assert_shm_line(tu_line(text, 1), high);
    assert_int_equal(lo, hi); /* still one object */
    assert_null(tu_line(text, 2));
    free(text);
    tu_assert_clean(e->m);
}

static void test_munmap_part_of_shared_keeps_the_rest_of_its_data(void **state)
{
    struct env *e = *state;
    vms_addr a = MMAP_BASE - 4 * PG;
    assert_int_equal(map(e, 0, 4 * PG, RW, SA), a);
    for (int i = 0; i < 4; i++)
        tu_store_byte(e->t, a + (uint64_t)i * PG + 1, (uint8_t)(0x10 + i));
    assert_int_equal(vms_munmap(e->t, a + PG, 2 * PG), 0);
    assert_int_equal(tu_load_byte(e->t, a + 1), 0x10);
    assert_int_equal(tu_load_byte(e->t, a + 3 * PG + 1), 0x13);
    tu_assert_clean(e->m);
}

/* ---- frames and page tables ---- */

static void test_munmap_gives_back_every_frame_it_unmaps(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    tu_store_byte(e->t, a + 7 * PG, 1); /* builds the page tables */
    uint64_t before = tu_frames_used(e->m);
    fill_pages(e->t, a, 5, 2);
    assert_int_equal(tu_frames_used(e->m), before + 5);
    assert_int_equal(vms_munmap(e->t, a, 5 * PG), 0);
    assert_int_equal(tu_frames_used(e->m), before);
    tu_assert_clean(e->m);
}

static void test_munmap_of_read_only_touched_memory_frees_nothing(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    tu_store_byte(e->t, a + 7 * PG, 1);
    uint64_t before = tu_frames_used(e->m);
    for (int i = 0; i < 4; i++) /* reads map the shared zero page */
        assert_int_equal(tu_load_byte(e->t, a + (uint64_t)i * PG), 0);
    assert_int_equal(tu_frames_used(e->m), before);
    assert_int_equal(vms_munmap(e->t, a, 4 * PG), 0);
    assert_int_equal(tu_frames_used(e->m), before);
    tu_assert_clean(e->m);
}

/* Far from everything else, one touched page needs its own PUD, PMD and
 * PTE tables; unmapping it frees all three. */
static void test_munmap_of_an_isolated_region_frees_its_page_tables(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    tu_store_byte(e->t, a, 1);
    uint64_t tables = tu_pgtable_frames(e->m), frames = tu_frames_used(e->m);
    vms_addr far = 0x100000000000ULL;
    assert_int_equal(map(e, far, PG, RW, PA | MAP_FIXED), far);
    tu_store_byte(e->t, far, 1);
    assert_int_equal(tu_pgtable_frames(e->m), tables + 3);
    assert_int_equal(vms_munmap(e->t, far, PG), 0);
    assert_int_equal(tu_pgtable_frames(e->m), tables);
    assert_int_equal(tu_frames_used(e->m), frames);
    tu_assert_clean(e->m);
}

static void test_munmap_keeps_a_page_table_a_neighbour_still_uses(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10002000, PG, RW, PA | MAP_FIXED), 0x10002000);
    tu_store_byte(e->t, 0x10000000, 1);
    tu_store_byte(e->t, 0x10002000, 1);
    uint64_t tables = tu_pgtable_frames(e->m), frames = tu_frames_used(e->m);
    assert_int_equal(vms_munmap(e->t, 0x10002000, PG), 0);
    assert_int_equal(tu_pgtable_frames(e->m), tables);
    assert_int_equal(tu_frames_used(e->m), frames - 1);
    assert_int_equal(tu_load_byte(e->t, 0x10000000), 1);
    tu_assert_clean(e->m);
}

/* A mapping covering exactly one PTE table's 2 MiB frees that table only:
 * the PMD table above it still serves the neighbour. */
static void test_munmap_frees_a_pte_table_but_keeps_the_shared_pmd_table(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x40000000, 2 * MIB, RW, PA | MAP_FIXED), 0x40000000);
    assert_int_equal(map(e, 0x40200000, PG, PROT_READ, PA | MAP_FIXED), 0x40200000);
    tu_store_byte(e->t, 0x40000000, 1);
    assert_int_equal(tu_load_byte(e->t, 0x40200000), 0);
    uint64_t tables = tu_pgtable_frames(e->m), frames = tu_frames_used(e->m);
    assert_int_equal(vms_munmap(e->t, 0x40000000, 2 * MIB), 0);
    assert_int_equal(tu_pgtable_frames(e->m), tables - 1);
    assert_int_equal(tu_frames_used(e->m), frames - 2);
    tu_assert_clean(e->m);
}

/* Unmapped locked memory no longer counts against RLIMIT_MEMLOCK (8 MiB). */
static void test_munmap_of_locked_memory_gives_back_memlock_room(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 8 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    assert_int_equal(vms_munmap(e->t, 0x10000000, 2 * MIB), 0);
    assert_int_equal(map(e, 0x30000000, 2 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x30000000);
    assert_int_equal(map(e, 0x40000000, PG, RW, PA | MAP_LOCKED | MAP_FIXED), -EAGAIN);
    tu_assert_clean(e->m);
}

/* Another CPU running a thread of the same mm cached the translation; after
 * munmap it must fault instead of reaching the old frame. */
static void test_munmap_shoots_down_other_cpus_tlb_entries(void **state)
{
    struct env *e = *state;
    vms_addr a = map_eight_pages(e);
    vms_task *thread = vms_clone_thread(e->t);
    assert_non_null(thread);
    assert_int_equal(vms_schedule(thread, 1), 0);
    tu_store_byte(thread, a, 0x42);
    assert_int_equal(tu_load_byte(thread, a), 0x42);
    assert_int_equal(vms_munmap(e->t, a, PG), 0);
    uint8_t v = 0;
    assert_int_equal(vms_load(thread, a, &v, 1), SIGSEGV);
    tu_assert_fault(thread, SIGSEGV, SEGV_MAPERR, a);
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

static void test_munmap_middle_page_at_max_minus_1_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1);
    assert_int_equal(vms_munmap(e->t, TARGET + 2 * PG, PG), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    tu_assert_clean(e->m);
}

static void test_munmap_middle_page_at_max_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    assert_int_equal(vms_munmap(e->t, TARGET + 2 * PG, PG), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    char *text = tu_maps(e->t);
    assert_memory_equal(text, "10000000-10005000 rw-p 00000000 00:00 0 \n", 41);
    free(text);
    tu_assert_clean(e->m);
}

static void test_munmap_middle_page_past_the_limit_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(vms_munmap(e->t, TARGET + 2 * PG, PG), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

static void test_munmap_first_page_past_the_limit_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(vms_munmap(e->t, TARGET, PG), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

static void test_munmap_tail_past_the_limit_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(vms_munmap(e->t, TARGET + PG, 4 * PG), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    char *text = tu_maps(e->t);
    assert_memory_equal(text, "10000000-10001000 rw-p 00000000 00:00 0 \n", 41);
    free(text);
    tu_assert_clean(e->m);
}

static void test_munmap_whole_vma_past_the_limit_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(vms_munmap(e->t, TARGET, 5 * PG), 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_munmap_unaligned_address_is_einval),
        T(test_munmap_len_0_is_einval),
        T(test_munmap_len_1_is_rounded_up_to_a_page),
        T(test_munmap_len_just_over_a_page_removes_two_pages),
        T(test_munmap_of_unmapped_range_returns_0),
        T(test_munmap_with_nothing_mapped_returns_0),
        T(test_munmap_range_that_wraps_around_is_einval),
        T(test_munmap_at_or_past_task_size_is_einval),
        T(test_munmap_range_ending_exactly_at_task_size_succeeds),
        T(test_munmap_of_the_whole_user_range_removes_everything),
        T(test_munmap_of_the_middle_splits_in_two),
        T(test_munmap_of_the_ends_shrinks_the_mapping),
        T(test_munmap_across_mappings_and_holes_removes_only_the_range),
        T(test_munmap_then_access_is_segv_maperr_at_the_exact_byte),
        T(test_munmap_store_across_into_the_hole_faults_at_its_first_byte),
        T(test_munmap_middle_of_touched_then_fixed_refill_merges_back),
        T(test_munmap_first_page_of_shared_leaves_offset_0x1000),
        T(test_munmap_pieces_of_shared_keep_their_page_offsets),
        T(test_munmap_part_of_shared_keeps_the_rest_of_its_data),
        T(test_munmap_gives_back_every_frame_it_unmaps),
        T(test_munmap_of_read_only_touched_memory_frees_nothing),
        T(test_munmap_of_an_isolated_region_frees_its_page_tables),
        T(test_munmap_keeps_a_page_table_a_neighbour_still_uses),
        T(test_munmap_frees_a_pte_table_but_keeps_the_shared_pmd_table),
        T(test_munmap_of_locked_memory_gives_back_memlock_room),
        T(test_munmap_shoots_down_other_cpus_tlb_entries),
        T(test_munmap_middle_page_at_max_minus_1_succeeds),
        T(test_munmap_middle_page_at_max_is_enomem),
        T(test_munmap_middle_page_past_the_limit_is_enomem),
        T(test_munmap_first_page_past_the_limit_succeeds),
        T(test_munmap_tail_past_the_limit_succeeds),
        T(test_munmap_whole_vma_past_the_limit_succeeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
