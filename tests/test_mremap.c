/*
 * test_mremap.c - mremap as Linux 6.x on x86-64 answers it (every value here
 * was first taken from the host kernel): shrinking and growing in place,
 * moving with MREMAP_MAYMOVE and MREMAP_FIXED (data kept, the same frames,
 * no fault), MREMAP_DONTUNMAP (the old range stays mapped, empty), the errno
 * of each bad argument and their order, duplicating a shared mapping with
 * old_len 0, shared anonymous memory grown past its object (SIGBUS), file
 * mappings moved (their offset in maps), locked memory populated when it
 * grows, the merges a move causes, and the TLB entries a move must shoot down.
 * Mappings are placed with MAP_FIXED at 0x30000000 so that maps lines are
 * exact.
 */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#define PG 0x1000ULL
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define SA (MAP_SHARED | MAP_ANONYMOUS)
#define V 0x30000000ULL
#define MMAP_BASE 0x7ffff7fff000ULL
#define MAYMOVE MREMAP_MAYMOVE
#define FIXED (MREMAP_MAYMOVE | MREMAP_FIXED)
#define DONTUNMAP (MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)
#define TASK_SIZE ((1ULL << 47) - PG)

struct env {
    vms_machine *m;
    vms_task *t;
    char dir[PATH_MAX];
    char root[PATH_MAX];
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    e->m = tu_machine_in(e->root);
    e->t = tu_spawn(e->m);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    vms_machine_destroy(e->m);
    int err = tu_scratch_remove(e->dir);
    free(e);
    return err;
}

/* ---- helpers ---- */

/* A mapping at exactly addr (MAP_FIXED). */
static void map_at(struct env *e, vms_addr addr, uint64_t len, int prot, int flags)
{
    assert_int_equal(vms_mmap(e->t, addr, len, prot, flags | MAP_FIXED, -1, 0), (int64_t)addr);
}

/* Byte base + i at the start of page i. */
static void fill_pages(vms_task *t, vms_addr start, int pages, uint8_t base)
{
    for (int i = 0; i < pages; i++)
        tu_store_byte(t, start + (uint64_t)i * PG, (uint8_t)(base + i));
}

static void assert_byte(vms_task *t, vms_addr va, uint8_t expected)
{
    assert_int_equal(tu_load_byte(t, va), expected);
}

static void assert_load_fails(vms_task *t, vms_addr va, int signo, int code)
{
    uint8_t v;
    assert_int_equal(vms_load(t, va, &v, 1), signo);
    tu_assert_fault(t, signo, code, va);
}

static void assert_unmapped(vms_task *t, vms_addr va)
{
    assert_load_fails(t, va, SIGSEGV, SEGV_MAPERR);
}

/* The physical address va maps to (it must be present). */
static uint64_t pa_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_int_equal(w.present, 1);
    return w.pa;
}

static void assert_residency(vms_task *t, vms_addr start, const char *expected)
{
    char got[64];
    int pages = (int)strlen(expected);
    assert_true(pages < (int)sizeof(got));
    tu_residency(t, start, pages, got);
    assert_string_equal(got, expected);
}

/* mremap that must succeed at expected, faulting nothing. */
static void remap_ok(struct env *e, vms_addr old, uint64_t old_len, uint64_t new_len, int flags,
                     vms_addr new_addr, vms_addr expected)
{
    uint64_t before = tu_minflt(e->t);
    assert_int_equal(vms_mremap(e->t, old, old_len, new_len, flags, new_addr), (int64_t)expected);
    assert_int_equal(tu_minflt(e->t), before);
    tu_assert_clean(e->m);
}

/* A host file of `pages` pages of tu_pattern, opened in the machine. */
static int open_file(struct env *e, const char *name, int pages, int flags)
{
    char path[PATH_MAX + 64];
    tu_host_fill(tu_join(path, sizeof(path), e->root, name), (size_t)pages * PG);
    int fd = vms_open(e->t, name, flags, 0);
    assert_true(fd >= 0);
    return fd;
}

static void map_file_at(struct env *e, vms_addr addr, uint64_t len, int prot, int flags, int fd,
                        int64_t off)
{
    assert_int_equal(vms_mmap(e->t, addr, len, prot, flags | MAP_FIXED, fd, off), (int64_t)addr);
}

/* The maps text of a file mapping line (inode 1001: the first file). */
static void file_line(char *out, size_t size, uint64_t start, uint64_t end, const char *perms,
                      uint64_t off, const char *name)
{
    tu_file_maps_line(out, size, start, end, perms, off, 1001, name);
}

/* ---- shrinking ---- */

/* Moving a range whose source has a PTE table gives the destination one,
 * even when no entry of the range is set; a source without a table gives
 * none. Host (VmPTE): anonymous memory at 4 GiB with page 0 touched, page
 * 1 moved to 8 GiB: +8 kB (a PMD table and a PTE table); a page of the
 * untouched next table moved to 12 GiB: +0; the same for shared memory. */
static void check_move_of_untouched_page(struct env *e, int flags)
{
    map_at(e, 1ULL << 32, 4ULL << 20, RW, flags);
    tu_store_byte(e->t, 1ULL << 32, 1);
    uint64_t tables = tu_pgtable_frames(e->m);
    assert_int_equal(vms_mremap(e->t, (1ULL << 32) + PG, PG, PG, FIXED, 2ULL << 32),
                     (int64_t)(2ULL << 32));
    assert_int_equal(tu_pgtable_frames(e->m), tables + 2);
    assert_int_equal(vms_mremap(e->t, (1ULL << 32) + (2ULL << 20), PG, PG, FIXED, 3ULL << 32),
                     (int64_t)(3ULL << 32));
    assert_int_equal(tu_pgtable_frames(e->m), tables + 2);
    tu_assert_clean(e->m);
}

static void test_mremap_of_an_untouched_page_makes_the_destination_table(void **state)
{
    check_move_of_untouched_page(*state, PA);
}

static void test_mremap_of_an_untouched_shared_page_makes_the_destination_table(void **state)
{
    check_move_of_untouched_page(*state, SA);
}

/* Growing a VMA in place extends it by the new range, which may join the
 * VMA above; it never merges with the VMA below. Host (seed 1407351): a
 * shared anonymous VMA split by a munmap that then failed on a hugetlb
 * VMA's alignment (the split stays), its upper piece grown by a page: two
 * VMAs, the upper one at offset 0xb000. */
static void test_mremap_growth_in_place_does_not_merge_below(void **state)
{
    struct env *e = *state;
    const vms_addr shared = 0x31fee000, huge = 0x32000000;
    assert_int_equal(vms_mmap(e->t, huge, PG, RW, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS |
                                                   MAP_NORESERVE | MAP_HUGETLB, -1, 0),
                     (int64_t)huge);
    assert_int_equal(vms_mmap(e->t, shared, 13 * PG, PROT_READ | PROT_EXEC,
                              MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, -1, 0),
                     (int64_t)shared);
    assert_int_equal(vms_munmap(e->t, shared + 11 * PG, 10 * PG), -EINVAL);
    remap_ok(e, shared + 12 * PG, PG, 2 * PG, 0, 0, shared + 12 * PG);
    char *maps = tu_maps(e->t);
    assert_non_null(strstr(maps, "31fee000-31ff9000 r-xs 00000000 "));
    assert_non_null(strstr(maps, "\n31ff9000-31ffc000 r-xs 0000b000 "));
    free(maps);
    tu_assert_clean(e->m);
}

static void test_mremap_shrink_in_place_unmaps_the_tail(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V, 4 * PG, 2 * PG, 0, 0, V);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + PG, 0x11);
    assert_unmapped(e->t, V + 2 * PG);
    assert_unmapped(e->t, V + 3 * PG);
    tu_assert_clean(e->m);
}

static void test_mremap_shrink_in_the_middle_leaves_a_hole(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V + PG, 2 * PG, PG, 0, 0, V + PG);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + PG, 0x11);
    assert_unmapped(e->t, V + 2 * PG);
    assert_byte(e->t, V + 3 * PG, 0x13);
    tu_assert_clean(e->m);
}

/* The old range may run past its VMA when shrinking: the tail unmapped is a
 * plain munmap. */
static void test_mremap_shrink_past_the_vma_end_succeeds(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    remap_ok(e, V + 2 * PG, 4 * PG, 3 * PG, 0, 0, V + 2 * PG);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_same_length_past_the_vma_end_returns_the_address(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    remap_ok(e, V + 2 * PG, 4 * PG, 4 * PG, 0, 0, V + 2 * PG);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
}

/* ---- growing in place ---- */

static void test_mremap_grow_in_place_when_the_space_is_free(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + PG, 0x11);
    assert_int_equal(tu_fault_cost(e->t, V + 3 * PG, 0), '1');
    assert_byte(e->t, V + 3 * PG, 0);
    tu_assert_clean(e->m);
}

/* Lengths are rounded up to pages: 3 pages + 1 byte is 4 pages. */
static void test_mremap_lengths_round_up_to_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    remap_ok(e, V + PG, 3 * PG, 3 * PG + 1, 0, 0, V + PG);
    tu_assert_maps(e->t, "30000000-30005000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_grow_of_a_vma_tail_extends_the_whole_vma(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 1);
    remap_ok(e, V + 2 * PG, 2 * PG, 4 * PG, 0, 0, V + 2 * PG);
    tu_assert_maps(e->t, "30000000-30006000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_grow_in_place_merges_with_an_untouched_next(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    tu_assert_maps(e->t, "30000000-30006000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_grow_of_untouched_merges_with_a_touched_next(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V + 4 * PG, 2, 0x20);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    tu_assert_maps(e->t, "30000000-30006000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 5 * PG, 0x21);
    tu_assert_clean(e->m);
}

/* Two VMAs with anonymous pages of their own never merge. */
static void test_mremap_grow_in_place_does_not_merge_two_touched(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    fill_pages(e->t, V + 4 * PG, 2, 0x20);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n"
                         "30004000-30006000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_grow_fills_an_exact_gap_then_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 4 * PG, 2 * PG, PROT_READ, PA);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 5 * PG, 0, 0), -ENOMEM);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n"
                         "30004000-30006000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_grow_blocked_without_maymove_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, PG, PROT_READ, PA);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 4 * PG, 0, 0), -ENOMEM);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_grow_not_at_the_vma_end_without_maymove_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 3 * PG, 0, 0), -ENOMEM);
    assert_int_equal(vms_mremap(e->t, V, PG, PG + 1, 0, 0), -ENOMEM);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- moving ---- */

/* A 2-page mapping with a read-only page right after it: growing must move. */
static void map_blocked_pair(struct env *e)
{
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 2 * PG, PG, PROT_READ, PA);
    fill_pages(e->t, V, 2, 0x10);
}

/* The host puts the moved range where mmap(NULL, new_len) would go. */
static void test_mremap_maymove_goes_where_mmap_would_place_it(void **state)
{
    struct env *e = *state;
    map_blocked_pair(e);
    int64_t probe = vms_mmap(e->t, 0, 4 * PG, RW, PA, -1, 0);
    assert_int_equal(probe, MMAP_BASE - 4 * PG);
    assert_int_equal(vms_munmap(e->t, (vms_addr)probe, 4 * PG), 0);
    remap_ok(e, V, 2 * PG, 4 * PG, MAYMOVE, 0, (vms_addr)probe);
    tu_assert_maps(e->t, "30002000-30003000 r--p 00000000 00:00 0 \n"
                         "7ffff7ffb000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
}

/* Without MREMAP_FIXED, new_addr is not even a hint. */
static void test_mremap_maymove_ignores_new_addr_without_fixed(void **state)
{
    struct env *e = *state;
    map_blocked_pair(e);
    remap_ok(e, V, 2 * PG, 4 * PG, MAYMOVE, V + 16 * PG, MMAP_BASE - 4 * PG);
}

/* The page-table entries move: same frames, nothing copied, no fault then or
 * when the moved pages are read. */
static void test_mremap_maymove_keeps_the_frames_and_faults_nothing(void **state)
{
    struct env *e = *state;
    map_blocked_pair(e);
    uint64_t pa0 = pa_of(e->t, V), pa1 = pa_of(e->t, V + PG);
    vms_addr n = MMAP_BASE - 4 * PG;
    remap_ok(e, V, 2 * PG, 4 * PG, MAYMOVE, 0, n);
    assert_int_equal(pa_of(e->t, n), pa0);
    assert_int_equal(pa_of(e->t, n + PG), pa1);
    char costs[5];
    tu_fault_pattern(e->t, n, 4, 0, costs);
    assert_string_equal(costs, "0011");
    assert_byte(e->t, n, 0x10);
    assert_byte(e->t, n + PG, 0x11);
    assert_byte(e->t, n + 2 * PG, 0);
    tu_assert_clean(e->m);
}

static void test_mremap_maymove_unmaps_the_old_range(void **state)
{
    struct env *e = *state;
    map_blocked_pair(e);
    remap_ok(e, V, 2 * PG, 4 * PG, MAYMOVE, 0, MMAP_BASE - 4 * PG);
    assert_unmapped(e->t, V);
    assert_unmapped(e->t, V + PG);
    tu_assert_clean(e->m);
}

/* Like mmap, a private anonymous range whose length is a multiple of 2 MiB
 * is placed 2 MiB-aligned. */
static void test_mremap_maymove_to_2mib_is_2mib_aligned(void **state)
{
    struct env *e = *state;
    map_at(e, V, PG, RW, PA);
    map_at(e, V + PG, PG, PROT_READ, PA);
    remap_ok(e, V, PG, 2ULL << 20, MAYMOVE, 0, 0x7ffff7c00000ULL);
}

static void test_mremap_move_of_part_of_a_vma_splits_it(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V + PG, PG, PG, FIXED, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30000000-30001000 rw-p 00000000 00:00 0 \n"
                         "30002000-30004000 rw-p 00000000 00:00 0 \n"
                         "30010000-30011000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 16 * PG, 0x11);
    assert_unmapped(e->t, V + PG);
    tu_assert_clean(e->m);
}

static void test_mremap_of_prot_none_memory_moves_it(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, PROT_NONE, PA);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30010000-30012000 ---p 00000000 00:00 0 \n");
}

/* ---- MREMAP_FIXED ---- */

static void test_mremap_fixed_replaces_what_was_at_the_target(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    map_at(e, V + 16 * PG, 4 * PG, RW, PA);
    fill_pages(e->t, V + 16 * PG, 4, 0x70);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 17 * PG, V + 17 * PG);
    tu_assert_maps(e->t, "30010000-30011000 rw-p 00000000 00:00 0 \n"
                         "30011000-30013000 rw-p 00000000 00:00 0 \n"
                         "30013000-30014000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 16 * PG, 0x70);
    assert_byte(e->t, V + 17 * PG, 0x10);
    assert_byte(e->t, V + 18 * PG, 0x11);
    assert_byte(e->t, V + 19 * PG, 0x73);
    assert_unmapped(e->t, V);
    tu_assert_clean(e->m);
}

static void test_mremap_fixed_with_a_shorter_length_shrinks_then_moves(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V, 4 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30010000-30012000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 17 * PG, 0x11);
    tu_assert_clean(e->m);
}

static void test_mremap_fixed_with_a_longer_length_grows_at_the_target(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 4 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30010000-30014000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 17 * PG, 0x11);
    assert_byte(e->t, V + 19 * PG, 0);
    tu_assert_clean(e->m);
}

/* Linux 6.17+ moves every VMA of the old range when the length does not
 * change and MREMAP_FIXED is given. */
static void test_mremap_fixed_same_length_moves_two_vmas_at_once(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 2 * PG, 2 * PG, PROT_READ, PA);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG, FIXED, V + 16 * PG), (int64_t)(V + 16 * PG));
    tu_assert_maps(e->t, "30010000-30012000 rw-p 00000000 00:00 0 \n"
                         "30012000-30014000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ... keeping the gaps between them, */
static void test_mremap_fixed_same_length_moves_vmas_across_a_gap(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, PG, PROT_READ, PA);
    fill_pages(e->t, V, 2, 1);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG, FIXED, V + 16 * PG), (int64_t)(V + 16 * PG));
    tu_assert_maps(e->t, "30010000-30012000 rw-p 00000000 00:00 0 \n"
                         "30013000-30014000 r--p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 17 * PG, 2);
    tu_assert_clean(e->m);
}

/* ... but the old range must start inside a VMA. */
static void test_mremap_fixed_same_length_starting_in_a_gap_is_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V + PG, PG, RW, PA);
    map_at(e, V + 2 * PG, PG, PROT_READ, PA);
    assert_int_equal(vms_mremap(e->t, V, 3 * PG, 3 * PG, FIXED, V + 16 * PG), -EFAULT);
    tu_assert_maps(e->t, "30001000-30002000 rw-p 00000000 00:00 0 \n"
                         "30002000-30003000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Files of an ordinary file system may move with the others. */
static void test_mremap_fixed_same_length_moves_anon_then_file_vmas(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDONLY);
    map_at(e, V, 2 * PG, RW, PA);
    map_file_at(e, V + 2 * PG, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG, FIXED, V + 16 * PG), (int64_t)(V + 16 * PG));
    char l1[160], all[320];
    file_line(l1, sizeof(l1), V + 18 * PG, V + 20 * PG, "r--s", 0, "/f");
    snprintf(all, sizeof(all), "30010000-30012000 rw-p 00000000 00:00 0 \n%s", l1);
    tu_assert_maps(e->t, all);
    tu_assert_clean(e->m);
}

static void test_mremap_fixed_same_length_moves_file_then_anon_vmas(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDONLY);
    map_file_at(e, V, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    map_at(e, V + 2 * PG, 2 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG, FIXED, V + 16 * PG), (int64_t)(V + 16 * PG));
    char l0[160], all[320];
    file_line(l0, sizeof(l0), V + 16 * PG, V + 18 * PG, "r--p", 0, "/f");
    snprintf(all, sizeof(all), "%s30012000-30014000 rw-p 00000000 00:00 0 \n", l0);
    tu_assert_maps(e->t, all);
    assert_byte(e->t, V + 17 * PG, tu_pattern(PG));
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_same_length_moves_two_vmas(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 2 * PG, 2 * PG, RW, SA);
    remap_ok(e, V, 4 * PG, 4 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    char *text = tu_maps(e->t);
    assert_memory_equal(text, "30000000-30002000 rw-p 00000000 00:00 0 \n", 41);
    uint64_t ino = tu_assert_shm_line(tu_line(text, 1), "30002000-30004000 rw-s 00000000 00:01 ");
    assert_memory_equal(tu_line(text, 2), "30010000-30012000 rw-p 00000000 00:00 0 \n", 41);
    assert_int_equal(tu_assert_shm_line(tu_line(text, 3), "30012000-30014000 rw-s 00000000 00:01 "),
                     ino);
    assert_null(tu_line(text, 4));
    free(text);
}

/* Untouched memory moved into a gap next to the next VMA of the same range
 * merges with it; the move goes on with what is left of the range. */
static void test_mremap_multi_move_merging_into_the_next_vma_of_the_range(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, PG, RW, PA);
    remap_ok(e, V, 4 * PG, 4 * PG, FIXED, V + 4 * PG, V + 4 * PG);
    tu_assert_maps(e->t, "30004000-30006000 rw-p 00000000 00:00 0 \n"
                         "30007000-30008000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_multi_dontunmap_merging_into_the_next_vma_of_the_range(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, PG, RW, PA);
    remap_ok(e, V, 4 * PG, 4 * PG, DONTUNMAP, V + 4 * PG, V + 4 * PG);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30006000 rw-p 00000000 00:00 0 \n"
                         "30007000-30008000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_multi_move_down_below_the_range(void **state)
{
    struct env *e = *state;
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    map_at(e, V + 7 * PG, PG, RW, PA);
    remap_ok(e, V + 4 * PG, 4 * PG, 4 * PG, FIXED, V, V);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_multi_dontunmap_down_merging_with_the_old_first_vma(void **state)
{
    struct env *e = *state;
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    map_at(e, V + 7 * PG, PG, RW, PA);
    remap_ok(e, V + 4 * PG, 4 * PG, 4 * PG, DONTUNMAP, V, V);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30006000 rw-p 00000000 00:00 0 \n"
                         "30007000-30008000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_growing_across_two_vmas_is_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 2 * PG, 2 * PG, PROT_READ, PA);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 5 * PG, MAYMOVE, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 5 * PG, FIXED, V + 16 * PG), -EFAULT);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30002000-30004000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- MREMAP_DONTUNMAP ---- */

static void test_mremap_dontunmap_leaves_the_old_range_mapped_and_empty(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30010000-30012000 rw-p 00000000 00:00 0 \n");
    char res[3];
    tu_residency(e->t, V, 2, res);
    assert_string_equal(res, "00");
    tu_residency(e->t, V + 16 * PG, 2, res);
    assert_string_equal(res, "11");
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_old_range_reads_zeros_after_a_fault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    char costs[3];
    tu_fault_pattern(e->t, V + 16 * PG, 2, 0, costs);
    assert_string_equal(costs, "00");
    tu_fault_pattern(e->t, V, 2, 0, costs);
    assert_string_equal(costs, "11");
    assert_byte(e->t, V, 0);
    assert_byte(e->t, V + PG, 0);
    assert_byte(e->t, V + 16 * PG, 0x10);
    assert_byte(e->t, V + 17 * PG, 0x11);
    tu_assert_clean(e->m);
}

/* Without MREMAP_FIXED, new_addr is a hint that a free range honours. */
static void test_mremap_dontunmap_without_fixed_takes_new_addr_as_a_hint(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30010000-30012000 rw-p 00000000 00:00 0 \n");
}

/* A hint that is taken falls back to mmap's own placement. */
static void test_mremap_dontunmap_with_a_busy_hint_goes_where_mmap_would(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 16 * PG, PG, RW, PA);
    tu_store_byte(e->t, V, 1);
    remap_ok(e, V, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, V + 16 * PG, MMAP_BASE - PG);
    remap_ok(e, V + PG, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0, MMAP_BASE - 2 * PG);
    assert_byte(e->t, MMAP_BASE - PG, 1);
}

static void test_mremap_dontunmap_of_part_of_a_vma_keeps_one_vma(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V + PG, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n"
                         "30010000-30012000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V, 0x10);
    assert_byte(e->t, V + PG, 0);
    assert_byte(e->t, V + 3 * PG, 0x13);
    assert_byte(e->t, V + 16 * PG, 0x11);
    tu_assert_clean(e->m);
}

/* Untouched memory moved right after itself: the two VMAs merge. */
static void test_mremap_dontunmap_of_untouched_memory_next_to_itself_merges(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 2 * PG, V + 2 * PG);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_dontunmap_of_untouched_memory_just_below_itself_merges(void **state)
{
    struct env *e = *state;
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    remap_ok(e, V + 4 * PG, 2 * PG, 2 * PG, DONTUNMAP, V + 2 * PG, V + 2 * PG);
    tu_assert_maps(e->t, "30002000-30006000 rw-p 00000000 00:00 0 \n");
}

/* Shared memory stays in its object: the old range finds it again. */
static void test_mremap_dontunmap_of_shared_anon_old_range_still_reads_the_data(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    char *text = tu_maps(e->t);
    uint64_t ino = tu_assert_shm_line(text, "30000000-30002000 rw-s 00000000 00:01 ");
    assert_int_equal(tu_assert_shm_line(tu_line(text, 1), "30010000-30012000 rw-s 00000000 00:01 "),
                     ino);
    assert_null(tu_line(text, 2));
    free(text);
    char res[3];
    tu_residency(e->t, V, 2, res);
    assert_string_equal(res, "11");
    assert_int_equal(tu_fault_cost(e->t, V, 0), '1');
    assert_byte(e->t, V, 0x10);
    assert_byte(e->t, V + 16 * PG, 0x10);
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_of_private_file_old_range_reads_the_file(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 2 * PG, RW, MAP_PRIVATE, fd, 0);
    tu_store_byte(e->t, V + PG, 0x77);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    char l0[160], l1[160], all[320];
    file_line(l0, sizeof(l0), V, V + 2 * PG, "rw-p", 0, "/f");
    file_line(l1, sizeof(l1), V + 16 * PG, V + 18 * PG, "rw-p", 0, "/f");
    snprintf(all, sizeof(all), "%s%s", l0, l1);
    tu_assert_maps(e->t, all);
    assert_byte(e->t, V + PG, tu_pattern(PG));
    assert_byte(e->t, V + 17 * PG, 0x77);
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_of_shared_file_old_range_sees_the_writes(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 2 * PG, RW, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, V, 0x77);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    assert_byte(e->t, V, 0x77);
    assert_byte(e->t, V + 16 * PG, 0x77);
    tu_assert_clean(e->m);
}

/* The locked pages go with the move; the old range loses VM_LOCKED and is
 * not populated again. */
static void test_mremap_dontunmap_of_locked_memory_leaves_the_old_range_empty(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    char res[3];
    tu_residency(e->t, V, 2, res);
    assert_string_equal(res, "00");
    tu_residency(e->t, V + 16 * PG, 2, res);
    assert_string_equal(res, "11");
}

/* The whole old VMA is unlocked, not only the moved part, and not split: a
 * new unlocked mapping next to it merges with it. */
static void test_mremap_dontunmap_of_part_of_locked_memory_unlocks_the_whole_vma(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA | MAP_LOCKED);
    remap_ok(e, V + PG, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    assert_residency(e->t, V, "1001");
    map_at(e, V + 4 * PG, PG, RW, PA);
    tu_assert_maps(e->t, "30000000-30005000 rw-p 00000000 00:00 0 \n"
                         "30010000-30012000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- errno, in Linux's order ---- */

static void test_mremap_unknown_flag_is_einval_before_the_lookup(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, 8, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V + 20 * PG, PG, PG, 8, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mremap_unaligned_address_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V + 1, PG, PG, 0, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V + 1, PG, 0, 0, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mremap_new_len_0_is_einval_even_unmapped(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, 0, 0, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V + 20 * PG, PG, 0, 0, 0), -EINVAL);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_new_len_beyond_the_task_size_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, 1ULL << 47, MAYMOVE, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mremap_fixed_without_maymove_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, MREMAP_FIXED, V + 16 * PG), -EINVAL);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_without_maymove_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, MREMAP_DONTUNMAP, V + 16 * PG), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, PG, 2 * PG, MREMAP_DONTUNMAP, V + 16 * PG), -EINVAL);
    tu_assert_clean(e->m);
}

/* The old VMA keeps its flags but VM_LOCKED (its memory stays committed):
 * new anonymous memory next to it merges with it. */
static void test_mremap_dontunmap_old_range_merges_with_a_new_mapping_after_it(void **state)
{
    struct env *e = *state;
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V + 4 * PG, 2, 1);
    remap_ok(e, V + 4 * PG, 2 * PG, 2 * PG, DONTUNMAP, V + 20 * PG, V + 20 * PG);
    map_at(e, V + 6 * PG, 2 * PG, RW, PA);
    tu_assert_maps(e->t, "30004000-30008000 rw-p 00000000 00:00 0 \n"
                         "30014000-30016000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_old_range_merges_with_a_new_mapping_before_it(void **state)
{
    struct env *e = *state;
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V + 4 * PG, 2, 1);
    remap_ok(e, V + 4 * PG, 2 * PG, 2 * PG, DONTUNMAP, V + 20 * PG, V + 20 * PG);
    map_at(e, V + 2 * PG, 2 * PG, RW, PA);
    tu_assert_maps(e->t, "30002000-30006000 rw-p 00000000 00:00 0 \n"
                         "30014000-30016000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Split and rejoined by mprotect, the pieces of a VMA whose first half was
 * moved away with MREMAP_DONTUNMAP merge again. */
static void test_mremap_dontunmap_of_part_leaves_pieces_that_merge_again(void **state)
{
    struct env *e = *state;
    map_at(e, V + 4 * PG, 4 * PG, RW, PA);
    fill_pages(e->t, V + 4 * PG, 4, 1);
    remap_ok(e, V + 4 * PG, 2 * PG, 2 * PG, DONTUNMAP, V + 20 * PG, V + 20 * PG);
    assert_int_equal(vms_mprotect(e->t, V + 4 * PG, PG, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, V + 4 * PG, PG, RW), 0);
    tu_assert_maps(e->t, "30004000-30008000 rw-p 00000000 00:00 0 \n"
                         "30014000-30016000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_with_different_lengths_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, V + 16 * PG),
                     -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, PG, DONTUNMAP, V + 16 * PG), -EINVAL);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_fixed_overlapping_ranges_are_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 2 * PG, FIXED, V + PG), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, FIXED, V), -EINVAL);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_fixed_bad_new_address_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG + 1), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, FIXED, TASK_SIZE), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, PG, 2 * PG, FIXED, TASK_SIZE), -EINVAL);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* vm.mmap_min_addr is 4096: a move to page 0 is refused, to page 1 allowed. */
static void test_mremap_fixed_below_mmap_min_addr_is_eperm(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, FIXED, 0), -EPERM);
    remap_ok(e, V, PG, PG, FIXED, PG, PG);
    tu_assert_maps(e->t, "00001000-00002000 rw-p 00000000 00:00 0 \n"
                         "30001000-30002000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_dontunmap_unaligned_or_overlapping_new_addr_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, V + 1), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, V), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, V + 2 * PG),
                     -EINVAL);
    assert_int_equal(vms_mremap(e->t, V + 20 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
                                V + 16 * PG), -EFAULT);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Lengths are rounded up first: ~0 becomes 0. */
static void test_mremap_new_len_rounding_to_0_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, PG, ~0ULL, MAYMOVE, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mremap_old_len_rounding_to_0_of_private_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, ~0ULL, PG, MAYMOVE, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V, 0, PG, 0, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mremap_old_len_rounding_to_0_duplicates_shared_memory(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    remap_ok(e, V, ~0ULL, PG, FIXED, V + 16 * PG, V + 16 * PG);
    char *text = tu_maps(e->t);
    uint64_t ino = tu_assert_shm_line(text, "30000000-30002000 rw-s 00000000 00:01 ");
    assert_int_equal(tu_assert_shm_line(tu_line(text, 1), "30010000-30011000 rw-s 00000000 00:01 "),
                     ino);
    free(text);
}

static void test_mremap_grow_beyond_any_free_space_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 1ULL << 46, 0, 0), -ENOMEM);
    assert_int_equal(vms_mremap(e->t, V, PG, 1ULL << 46, MAYMOVE, 0), -ENOMEM);
    assert_int_equal(vms_mremap(e->t, V, PG, (1ULL << 47) - PG, MAYMOVE, 0), -ENOMEM);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Every kind of remap of an unmapped address: EFAULT. */
static void test_mremap_unmapped_old_address_is_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    vms_addr hole = V + 20 * PG;
    assert_int_equal(vms_mremap(e->t, hole, PG, 2 * PG, 0, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, hole, PG, 2 * PG, MAYMOVE, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, hole, PG, PG, 0, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, hole, 2 * PG, PG, 0, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, hole, PG, PG, FIXED, V + 30 * PG), -EFAULT);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_grow_of_a_range_crossing_the_vma_end_is_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V + 2 * PG, 4 * PG, 8 * PG, MAYMOVE, 0), -EFAULT);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_old_len_0_of_private_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    assert_int_equal(vms_mremap(e->t, V, 0, PG, MAYMOVE, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V + 2 * PG, 0, PG, FIXED, V + 16 * PG), -EINVAL);
    assert_int_equal(vms_mremap(e->t, V + 20 * PG, 0, PG, MAYMOVE, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, V + 20 * PG, 0, PG, FIXED, V + 16 * PG), -EFAULT);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mremap_old_len_0_of_shared_memory_without_maymove_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    assert_int_equal(vms_mremap(e->t, V, 0, 2 * PG, 0, 0), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), 1);
    tu_assert_clean(e->m);
}

/* old_len 0 of a shared mapping makes a second mapping of the same pages. */
static void test_mremap_old_len_0_of_shared_memory_duplicates_it(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    remap_ok(e, V, 0, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    char *text = tu_maps(e->t);
    uint64_t ino = tu_assert_shm_line(text, "30000000-30002000 rw-s 00000000 00:01 ");
    assert_int_equal(tu_assert_shm_line(tu_line(text, 1), "30010000-30012000 rw-s 00000000 00:01 "),
                     ino);
    free(text);
    tu_store_byte(e->t, V, 0x42);
    assert_byte(e->t, V + 16 * PG, 0x42);
    tu_store_byte(e->t, V + 17 * PG, 0x43);
    assert_byte(e->t, V + PG, 0x43);
    tu_assert_clean(e->m);
}

/* ---- shared anonymous memory: the object has a size ---- */

static void test_mremap_grown_shared_anon_is_sigbus_past_the_old_size(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    assert_int_equal(tu_vma_count(e->t), 1);
    assert_byte(e->t, V + PG, 0x11);
    assert_load_fails(e->t, V + 2 * PG, SIGBUS, BUS_ADRERR);
    uint8_t v = 1;
    assert_int_equal(vms_store(e->t, V + 3 * PG, &v, 1), SIGBUS);
    tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, V + 3 * PG);
    char res[5];
    tu_residency(e->t, V, 4, res);
    assert_string_equal(res, "1100");
    tu_assert_clean(e->m);
}

/* Shrinking the mapping does not shrink the object: growing back finds the
 * pages again. */
static void test_mremap_shared_anon_shrunk_and_regrown_keeps_its_data(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V, 4 * PG, 2 * PG, 0, 0, V);
    remap_ok(e, V, 2 * PG, 4 * PG, 0, 0, V);
    assert_byte(e->t, V + 3 * PG, 0x13);
    tu_assert_clean(e->m);
}

static void test_mremap_shared_anon_moved_and_grown_is_sigbus_past_the_object(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    map_at(e, V + 2 * PG, PG, PROT_READ, PA);
    fill_pages(e->t, V, 2, 0x10);
    remap_ok(e, V, 2 * PG, 3 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    assert_byte(e->t, V + 17 * PG, 0x11);
    assert_load_fails(e->t, V + 18 * PG, SIGBUS, BUS_ADRERR);
    tu_assert_clean(e->m);
}

static void test_mremap_shared_anon_part_moved_keeps_its_offset(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V + 2 * PG, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    char *text = tu_maps(e->t);
    uint64_t ino = tu_assert_shm_line(text, "30000000-30002000 rw-s 00000000 00:01 ");
    assert_int_equal(tu_assert_shm_line(tu_line(text, 1), "30010000-30012000 rw-s 00002000 00:01 "),
                     ino);
    free(text);
    assert_byte(e->t, V + 17 * PG, 0x13);
    tu_assert_clean(e->m);
}

/* ---- file mappings ---- */

static void test_mremap_private_file_moved_keeps_offset_and_cow_data(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 8, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_PRIVATE, fd, 2 * PG);
    assert_byte(e->t, V, tu_pattern(2 * PG));
    tu_store_byte(e->t, V + PG, 0x77);
    remap_ok(e, V + PG, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    char l0[160], l1[160], l2[160], all[480];
    file_line(l0, sizeof(l0), V, V + PG, "rw-p", 2 * PG, "/f");
    file_line(l1, sizeof(l1), V + 3 * PG, V + 4 * PG, "rw-p", 5 * PG, "/f");
    file_line(l2, sizeof(l2), V + 16 * PG, V + 18 * PG, "rw-p", 3 * PG, "/f");
    snprintf(all, sizeof(all), "%s%s%s", l0, l1, l2);
    tu_assert_maps(e->t, all);
    assert_byte(e->t, V + 16 * PG, 0x77);
    assert_byte(e->t, V + 17 * PG, tu_pattern(4 * PG));
    tu_assert_clean(e->m);
}

static void test_mremap_shared_file_moved_still_writes_the_file(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_SHARED, fd, 0);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    char l0[160], l1[160], all[320];
    file_line(l0, sizeof(l0), V + 2 * PG, V + 4 * PG, "rw-s", 2 * PG, "/f");
    file_line(l1, sizeof(l1), V + 16 * PG, V + 18 * PG, "rw-s", 0, "/f");
    snprintf(all, sizeof(all), "%s%s", l0, l1);
    tu_assert_maps(e->t, all);
    tu_store_byte(e->t, V + 16 * PG, 0x55);
    assert_int_equal(vms_msync(e->t, V + 16 * PG, PG, MS_SYNC), 0);
    char path[PATH_MAX + 8];
    assert_int_equal(tu_host_byte(tu_join(path, sizeof(path), e->root, "f"), 0), 0x55);
    tu_assert_clean(e->m);
}

/* A file range that holds an aligned 2 MiB of the file is placed so that
 * huge pages could map it: as mmap would, 2 MiB-aligned plus the offset. */
static void check_file_move_placed_as_mmap(struct env *e, int64_t off, uint64_t expected_mod)
{
    int fd = open_file(e, "f", 1100, O_RDONLY);
    assert_int_equal(vms_mmap(e->t, V, 1024 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, off),
                     (int64_t)V);
    map_at(e, V + 1024 * PG, PG, PROT_READ, PA);
    int64_t probe = vms_mmap(e->t, 0, 1025 * PG, PROT_READ, MAP_SHARED, fd, off);
    assert_true(probe > 0);
    assert_int_equal(vms_munmap(e->t, (vms_addr)probe, 1025 * PG), 0);
    assert_int_equal((uint64_t)probe & ((2ULL << 20) - 1), expected_mod);
    remap_ok(e, V, 1024 * PG, 1025 * PG, MAYMOVE, 0, (vms_addr)probe);
}

static void test_mremap_moved_file_mapping_is_placed_as_mmap_would(void **state)
{
    check_file_move_placed_as_mmap(*state, 0, 0);
}

static void test_mremap_moved_file_mapping_at_an_offset_is_placed_as_mmap_would(void **state)
{
    check_file_move_placed_as_mmap(*state, (int64_t)PG, PG);
}

static void test_mremap_file_grown_past_eof_is_sigbus_there(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 3, O_RDONLY);
    map_file_at(e, V, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    remap_ok(e, V, 2 * PG, 5 * PG, 0, 0, V);
    char line[160];
    file_line(line, sizeof(line), V, V + 5 * PG, "r--s", 0, "/f");
    tu_assert_maps(e->t, line);
    assert_byte(e->t, V + 2 * PG, tu_pattern(2 * PG));
    assert_load_fails(e->t, V + 3 * PG, SIGBUS, BUS_ADRERR);
    assert_load_fails(e->t, V + 4 * PG, SIGBUS, BUS_ADRERR);
    tu_assert_clean(e->m);
}

/* ---- locked memory ---- */

static void test_mremap_locked_grow_in_place_populates_the_new_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    uint64_t before = tu_minflt(e->t);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 4 * PG, 0, 0), (int64_t)V);
    assert_int_equal(tu_minflt(e->t) - before, 2);
    char res[5];
    tu_residency(e->t, V, 4, res);
    assert_string_equal(res, "1111");
    assert_int_equal(tu_fault_cost(e->t, V + 3 * PG, 0), '0');
    tu_assert_clean(e->m);
}

static void test_mremap_locked_move_and_grow_populates_the_new_part(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    map_at(e, V + 2 * PG, PG, PROT_READ, PA);
    uint64_t before = tu_minflt(e->t);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 4 * PG, FIXED, V + 16 * PG), (int64_t)(V + 16 * PG));
    assert_int_equal(tu_minflt(e->t) - before, 2);
    char res[5];
    tu_residency(e->t, V + 16 * PG, 4, res);
    assert_string_equal(res, "1111");
    tu_assert_maps(e->t, "30002000-30003000 r--p 00000000 00:00 0 \n"
                         "30010000-30014000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Locking populates what it can: the pages past the object stay empty. */
static void test_mremap_locked_shared_anon_grown_past_its_object_stays_unpopulated(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA | MAP_LOCKED);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 4 * PG, 0, 0), (int64_t)V);
    assert_residency(e->t, V, "1100");
    tu_assert_clean(e->m);
}

/* ---- merges ---- */

/* A page moved away and back finds its old neighbours: same anon_vma, the
 * same page offsets, so the three pieces merge again. */
static void test_mremap_touched_page_moved_back_merges_with_its_neighbours(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V + 2 * PG, PG, PG, FIXED, V + 16 * PG, V + 16 * PG);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n"
                         "30010000-30011000 rw-p 00000000 00:00 0 \n");
    remap_ok(e, V + 16 * PG, PG, PG, FIXED, V + 2 * PG, V + 2 * PG);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 2 * PG, 0x12);
    tu_assert_clean(e->m);
}

static void test_mremap_untouched_page_moved_back_merges_with_its_neighbours(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    remap_ok(e, V + 2 * PG, PG, PG, FIXED, V + 16 * PG, V + 16 * PG);
    remap_ok(e, V + 16 * PG, PG, PG, FIXED, V + 2 * PG, V + 2 * PG);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_touched_moved_next_to_another_touched_does_not_merge(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 16 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 1);
    fill_pages(e->t, V + 16 * PG, 2, 2);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 18 * PG, V + 18 * PG);
    tu_assert_maps(e->t, "30010000-30012000 rw-p 00000000 00:00 0 \n"
                         "30012000-30014000 rw-p 00000000 00:00 0 \n");
}

static void test_mremap_untouched_moved_next_to_another_untouched_merges(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 16 * PG, 2 * PG, RW, PA);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 18 * PG, V + 18 * PG);
    tu_assert_maps(e->t, "30010000-30014000 rw-p 00000000 00:00 0 \n");
}

/* ---- TLB ---- */

static void test_mremap_old_address_faults_even_if_it_was_in_the_tlb(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 1);
    assert_byte(e->t, V, 1); /* the translation is in this CPU's TLB now */
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    assert_unmapped(e->t, V);
    assert_byte(e->t, V + 16 * PG, 1);
    tu_assert_clean(e->m);
}

static void test_mremap_shoots_down_another_cpus_tlb_entry(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    vms_task *thread = vms_clone_thread(e->t);
    assert_non_null(thread);
    assert_int_equal(vms_schedule(thread, 1), 0);
    tu_store_byte(thread, V, 9);
    assert_byte(thread, V, 9);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    assert_unmapped(thread, V);
    assert_byte(thread, V + 16 * PG, 9);
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_shoots_down_another_cpus_tlb_entry(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    vms_task *thread = vms_clone_thread(e->t);
    assert_non_null(thread);
    assert_int_equal(vms_schedule(thread, 1), 0);
    tu_store_byte(thread, V, 9);
    assert_byte(thread, V, 9);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    assert_byte(thread, V, 0);
    assert_byte(thread, V + 16 * PG, 9);
    tu_assert_clean(e->m);
}

/* ---- with fork, advice and limits ---- */

static vms_task *fork_child(struct env *e)
{
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    tu_assert_clean(e->m);
    return child;
}

/* The moved PTEs stay write-protected: the parent's first write copies. */
static void test_mremap_after_fork_moved_pages_are_still_copied_on_write(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    vms_task *child = fork_child(e);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    assert_int_equal(tu_fault_cost(e->t, V + 16 * PG, 1), '1');
    tu_assert_maps(e->t, "30010000-30012000 rw-p 00000000 00:00 0 \n");
    assert_byte(child, V, 0x10);
    assert_byte(e->t, V + 16 * PG, 'w');
    tu_assert_clean(e->m);
}

static void test_mremap_dontunmap_after_fork_leaves_the_child_alone(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    vms_task *child = fork_child(e);
    remap_ok(e, V, 2 * PG, 2 * PG, DONTUNMAP, V + 16 * PG, V + 16 * PG);
    assert_byte(e->t, V, 0);
    assert_byte(e->t, V + 16 * PG, 0x10);
    assert_int_equal(tu_fault_cost(e->t, V + 16 * PG, 1), '1');
    assert_byte(child, V, 0x10);
    assert_unmapped(child, V + 16 * PG);
    tu_assert_clean(e->m);
}

static void test_mremap_shared_anon_moved_after_fork_is_still_shared_with_the_child(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    fill_pages(e->t, V, 2, 0x10);
    vms_task *child = fork_child(e);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    tu_store_byte(e->t, V + 16 * PG, 0x55);
    assert_byte(child, V, 0x55);
    tu_assert_clean(e->m);
}

static void test_mremap_moved_vma_keeps_its_dontfork_advice(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    assert_int_equal(vms_madvise(e->t, V, 2 * PG, MADV_DONTFORK), 0);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 16 * PG, V + 16 * PG);
    vms_task *child = fork_child(e);
    assert_unmapped(child, V + 16 * PG);
    tu_assert_clean(e->m);
}

static void test_mremap_moved_random_vma_does_not_merge_with_a_normal_one(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 16 * PG, 2 * PG, RW, PA);
    assert_int_equal(vms_madvise(e->t, V, 2 * PG, MADV_RANDOM), 0);
    remap_ok(e, V, 2 * PG, 2 * PG, FIXED, V + 18 * PG, V + 18 * PG);
    tu_assert_maps(e->t, "30010000-30012000 rw-p 00000000 00:00 0 \n"
                         "30012000-30014000 rw-p 00000000 00:00 0 \n");
}

/* The target lies in the source's own VMA (not in the old range). */
static void test_mremap_touched_page_moved_within_its_own_vma_splits_it(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    remap_ok(e, V, PG, PG, FIXED, V + 2 * PG, V + 2 * PG);
    tu_assert_maps(e->t, "30001000-30002000 rw-p 00000000 00:00 0 \n"
                         "30002000-30003000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n");
    assert_byte(e->t, V + 2 * PG, 0x10);
    assert_unmapped(e->t, V);
    tu_assert_clean(e->m);
}

/* Untouched memory takes the page offset of its new place: it merges. */
static void test_mremap_untouched_page_moved_within_its_own_vma_merges(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    remap_ok(e, V, PG, PG, FIXED, V + 2 * PG, V + 2 * PG);
    tu_assert_maps(e->t, "30001000-30004000 rw-p 00000000 00:00 0 \n");
}

/* RLIMIT_MEMLOCK is 8 MiB for an unprivileged task. */
static void test_mremap_locked_grow_beyond_rlimit_memlock_is_eagain(void **state)
{
    struct env *e = *state;
    map_at(e, V, PG, RW, PA | MAP_LOCKED);
    assert_int_equal(vms_mremap(e->t, V, PG, 9ULL << 20, 0, 0), -EAGAIN);
    assert_int_equal(vms_mremap(e->t, V, PG, 8ULL << 20, 0, 0), (int64_t)V);
    assert_int_equal(vms_mremap(e->t, V, PG, (8ULL << 20) + PG, 0, 0), -EAGAIN);
    tu_assert_maps(e->t, "30000000-30800000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- vm.max_map_count, lowered to 20 so that tests stay small ---- */

#define MAX_MAPS 20
#define FILLERS 0x20000000ULL /* one-page mappings a page apart, so none merge */

/* A fresh machine with the limit; a 5-page RW VMA at V (first page written),
 * a read-only page at V + 6 pages when `blocker`, and fillers up to `count`
 * VMAs in all. */
static void fill_to(struct env *e, int count, int blocker)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.max_map_count = MAX_MAPS;
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    map_at(e, V, 5 * PG, RW, PA);
    tu_store_byte(e->t, V, 1);
    if (blocker)
        map_at(e, V + 6 * PG, PG, PROT_READ, PA);
    for (int i = 1 + blocker; i < count; i++)
        map_at(e, FILLERS + (uint64_t)i * 2 * PG, PG, PROT_READ, PA);
    assert_int_equal(tu_vma_count(e->t), count);
}

/* A move with MREMAP_FIXED wants room for both splits and the new VMA, and
 * keeps 3 more spare, before it looks at anything. */
static void test_mremap_fixed_move_at_max_minus_6_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 6, 0);
    remap_ok(e, V + PG, PG, PG, FIXED, V + 16 * PG, V + 16 * PG);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS - 4);
}

static void test_mremap_fixed_move_at_max_minus_5_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 5, 0);
    assert_int_equal(vms_mremap(e->t, V + PG, PG, PG, FIXED, V + 16 * PG), -ENOMEM);
    assert_int_equal(vms_mremap(e->t, V, 5 * PG, 5 * PG, FIXED, V + 16 * PG), -ENOMEM);
    assert_int_equal(vms_mremap(e->t, V, 5 * PG, 5 * PG, DONTUNMAP, V + 16 * PG), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS - 5);
    tu_assert_clean(e->m);
}

static void test_mremap_maymove_at_max_minus_4_moves(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 4, 1);
    remap_ok(e, V, 5 * PG, 7 * PG, MAYMOVE, 0, 0x7ffff7fff000ULL - 7 * PG);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS - 4);
}

static void test_mremap_maymove_at_max_minus_3_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 3, 1);
    assert_int_equal(vms_mremap(e->t, V, 5 * PG, 7 * PG, MAYMOVE, 0), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS - 3);
    tu_assert_clean(e->m);
}

/* Shrinking in the middle is an munmap that splits: allowed below the limit. */
static void test_mremap_shrink_in_the_middle_at_max_minus_1_splits(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1, 0);
    remap_ok(e, V + PG, 2 * PG, PG, 0, 0, V + PG);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
}

static void test_mremap_shrink_in_the_middle_at_max_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS, 0);
    assert_int_equal(vms_mremap(e->t, V + PG, 2 * PG, PG, 0, 0), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    tu_assert_clean(e->m);
}

/* Growing in place adds no VMA: the limit does not matter. */
static void test_mremap_grow_in_place_past_the_limit_succeeds(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1, 0);
    remap_ok(e, V, 5 * PG, 6 * PG, MAYMOVE, 0, V);
}

/* A shrink unmaps the old range's tail with munmap's check: a tail that
 * reaches past TASK_SIZE is EINVAL and nothing changes, however little of
 * it is mapped; a tail within user space is unmapped, VMA or not. The old
 * length is rounded to pages first, so 2^64 - 1 is 0 (a duplicate of a
 * shared mapping). Growing or moving with a huge old length is EFAULT (it
 * leaves the VMA), and an old address above user space has no VMA (EFAULT)
 * Host-measured (Linux 6.18). */
static void test_mremap_old_length_past_task_size(void **state)
{
    struct env *e = *state;
    const vms_addr base = 0x200000000000ULL;
    map_at(e, base, 8 * PG, RW, PA);
    const uint64_t last = TASK_SIZE - (base + 2 * PG); /* old range ends at TASK_SIZE */
    assert_int_equal(vms_mremap(e->t, base + 2 * PG, last + 1, PG, 0, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, base + 2 * PG, 1ULL << 63, PG, MAYMOVE, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, base + 2 * PG, UINT64_MAX - 4095, PG, 0, 0), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 1);
    assert_int_equal(vms_mremap(e->t, base + 2 * PG, 0x7fffffffffffffffULL, 0x3000, MAYMOVE, 0) , -EINVAL);
    assert_int_equal(vms_mremap(e->t, base + 2 * PG, 0x100000, PG, 0, 0), (int64_t)(base + 2 * PG));
    assert_int_equal(tu_vma_count(e->t), 1);
    assert_int_equal(vms_mremap(e->t, 0xfffffffffffff000ULL, PG, PG, 0, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, 0x800000000000ULL, PG, PG, FIXED, base + 0x100000), -EFAULT);
    assert_int_equal(vms_mremap(e->t, 0xffff800000000000ULL, 0, 0xb000, FIXED, base + 0x100000), -EFAULT);
    tu_assert_clean(e->m);
}

/* Shared memory: an old length of 2^64 - 1 rounds to 0 and duplicates it. */
static void test_mremap_old_length_that_rounds_to_0_duplicates(void **state)
{
    struct env *e = *state;
    const vms_addr base = 0x200000000000ULL;
    map_at(e, base, 8 * PG, RW, SA);
    int64_t r = vms_mremap(e->t, base + 2 * PG, UINT64_MAX, PG, MAYMOVE, 0);
    assert_true(r > 0 && (vms_addr)r != base + 2 * PG);
    assert_int_equal(vms_mremap(e->t, base + 2 * PG, UINT64_MAX, PG, 0, 0), -ENOMEM);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mremap_of_an_untouched_page_makes_the_destination_table),
        T(test_mremap_of_an_untouched_shared_page_makes_the_destination_table),
        T(test_mremap_growth_in_place_does_not_merge_below),
        T(test_mremap_shrink_in_place_unmaps_the_tail),
        T(test_mremap_shrink_in_the_middle_leaves_a_hole),
        T(test_mremap_shrink_past_the_vma_end_succeeds),
        T(test_mremap_same_length_past_the_vma_end_returns_the_address),
        T(test_mremap_grow_in_place_when_the_space_is_free),
        T(test_mremap_lengths_round_up_to_pages),
        T(test_mremap_grow_of_a_vma_tail_extends_the_whole_vma),
        T(test_mremap_grow_in_place_merges_with_an_untouched_next),
        T(test_mremap_grow_of_untouched_merges_with_a_touched_next),
        T(test_mremap_grow_in_place_does_not_merge_two_touched),
        T(test_mremap_grow_fills_an_exact_gap_then_is_enomem),
        T(test_mremap_grow_blocked_without_maymove_is_enomem),
        T(test_mremap_grow_not_at_the_vma_end_without_maymove_is_enomem),
        T(test_mremap_maymove_goes_where_mmap_would_place_it),
        T(test_mremap_maymove_ignores_new_addr_without_fixed),
        T(test_mremap_maymove_keeps_the_frames_and_faults_nothing),
        T(test_mremap_maymove_unmaps_the_old_range),
        T(test_mremap_maymove_to_2mib_is_2mib_aligned),
        T(test_mremap_move_of_part_of_a_vma_splits_it),
        T(test_mremap_of_prot_none_memory_moves_it),
        T(test_mremap_fixed_replaces_what_was_at_the_target),
        T(test_mremap_fixed_with_a_shorter_length_shrinks_then_moves),
        T(test_mremap_fixed_with_a_longer_length_grows_at_the_target),
        T(test_mremap_fixed_same_length_moves_two_vmas_at_once),
        T(test_mremap_fixed_same_length_moves_vmas_across_a_gap),
        T(test_mremap_fixed_same_length_starting_in_a_gap_is_efault),
        T(test_mremap_fixed_same_length_moves_anon_then_file_vmas),
        T(test_mremap_fixed_same_length_moves_file_then_anon_vmas),
        T(test_mremap_dontunmap_same_length_moves_two_vmas),
        T(test_mremap_multi_move_merging_into_the_next_vma_of_the_range),
        T(test_mremap_multi_dontunmap_merging_into_the_next_vma_of_the_range),
        T(test_mremap_multi_move_down_below_the_range),
        T(test_mremap_multi_dontunmap_down_merging_with_the_old_first_vma),
        T(test_mremap_growing_across_two_vmas_is_efault),
        T(test_mremap_dontunmap_leaves_the_old_range_mapped_and_empty),
        T(test_mremap_dontunmap_old_range_reads_zeros_after_a_fault),
        T(test_mremap_dontunmap_without_fixed_takes_new_addr_as_a_hint),
        T(test_mremap_dontunmap_with_a_busy_hint_goes_where_mmap_would),
        T(test_mremap_dontunmap_of_part_of_a_vma_keeps_one_vma),
        T(test_mremap_dontunmap_of_untouched_memory_next_to_itself_merges),
        T(test_mremap_dontunmap_of_untouched_memory_just_below_itself_merges),
        T(test_mremap_dontunmap_of_shared_anon_old_range_still_reads_the_data),
        T(test_mremap_dontunmap_of_private_file_old_range_reads_the_file),
        T(test_mremap_dontunmap_of_shared_file_old_range_sees_the_writes),
        T(test_mremap_dontunmap_of_locked_memory_leaves_the_old_range_empty),
        T(test_mremap_dontunmap_of_part_of_locked_memory_unlocks_the_whole_vma),
        T(test_mremap_unknown_flag_is_einval_before_the_lookup),
        T(test_mremap_unaligned_address_is_einval),
        T(test_mremap_new_len_0_is_einval_even_unmapped),
        T(test_mremap_new_len_beyond_the_task_size_is_einval),
        T(test_mremap_fixed_without_maymove_is_einval),
        T(test_mremap_dontunmap_without_maymove_is_einval),
        T(test_mremap_dontunmap_old_range_merges_with_a_new_mapping_after_it),
        T(test_mremap_dontunmap_old_range_merges_with_a_new_mapping_before_it),
        T(test_mremap_dontunmap_of_part_leaves_pieces_that_merge_again),
        T(test_mremap_dontunmap_with_different_lengths_is_einval),
        T(test_mremap_fixed_overlapping_ranges_are_einval),
        T(test_mremap_fixed_bad_new_address_is_einval),
        T(test_mremap_fixed_below_mmap_min_addr_is_eperm),
        T(test_mremap_dontunmap_unaligned_or_overlapping_new_addr_is_einval),
        T(test_mremap_new_len_rounding_to_0_is_einval),
        T(test_mremap_old_len_rounding_to_0_of_private_memory_is_einval),
        T(test_mremap_old_len_rounding_to_0_duplicates_shared_memory),
        T(test_mremap_grow_beyond_any_free_space_is_enomem),
        T(test_mremap_unmapped_old_address_is_efault),
        T(test_mremap_grow_of_a_range_crossing_the_vma_end_is_efault),
        T(test_mremap_old_len_0_of_private_memory_is_einval),
        T(test_mremap_old_len_0_of_shared_memory_without_maymove_is_enomem),
        T(test_mremap_old_len_0_of_shared_memory_duplicates_it),
        T(test_mremap_grown_shared_anon_is_sigbus_past_the_old_size),
        T(test_mremap_shared_anon_shrunk_and_regrown_keeps_its_data),
        T(test_mremap_shared_anon_moved_and_grown_is_sigbus_past_the_object),
        T(test_mremap_shared_anon_part_moved_keeps_its_offset),
        T(test_mremap_private_file_moved_keeps_offset_and_cow_data),
        T(test_mremap_shared_file_moved_still_writes_the_file),
        T(test_mremap_moved_file_mapping_is_placed_as_mmap_would),
        T(test_mremap_moved_file_mapping_at_an_offset_is_placed_as_mmap_would),
        T(test_mremap_file_grown_past_eof_is_sigbus_there),
        T(test_mremap_locked_grow_in_place_populates_the_new_pages),
        T(test_mremap_locked_move_and_grow_populates_the_new_part),
        T(test_mremap_locked_shared_anon_grown_past_its_object_stays_unpopulated),
        T(test_mremap_touched_page_moved_back_merges_with_its_neighbours),
        T(test_mremap_untouched_page_moved_back_merges_with_its_neighbours),
        T(test_mremap_touched_moved_next_to_another_touched_does_not_merge),
        T(test_mremap_untouched_moved_next_to_another_untouched_merges),
        T(test_mremap_after_fork_moved_pages_are_still_copied_on_write),
        T(test_mremap_dontunmap_after_fork_leaves_the_child_alone),
        T(test_mremap_shared_anon_moved_after_fork_is_still_shared_with_the_child),
        T(test_mremap_moved_vma_keeps_its_dontfork_advice),
        T(test_mremap_moved_random_vma_does_not_merge_with_a_normal_one),
        T(test_mremap_touched_page_moved_within_its_own_vma_splits_it),
        T(test_mremap_untouched_page_moved_within_its_own_vma_merges),
        T(test_mremap_locked_grow_beyond_rlimit_memlock_is_eagain),
        T(test_mremap_fixed_move_at_max_minus_6_succeeds),
        T(test_mremap_fixed_move_at_max_minus_5_is_enomem),
        T(test_mremap_maymove_at_max_minus_4_moves),
        T(test_mremap_maymove_at_max_minus_3_is_enomem),
        T(test_mremap_shrink_in_the_middle_at_max_minus_1_splits),
        T(test_mremap_shrink_in_the_middle_at_max_is_enomem),
        T(test_mremap_grow_in_place_past_the_limit_succeeds),
        T(test_mremap_old_address_faults_even_if_it_was_in_the_tlb),
        T(test_mremap_shoots_down_another_cpus_tlb_entry),
        T(test_mremap_dontunmap_shoots_down_another_cpus_tlb_entry),
        T(test_mremap_old_length_past_task_size),
        T(test_mremap_old_length_that_rounds_to_0_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
