/*
 * test_mmap.c - mmap of anonymous memory, as Linux 6.x on x86-64 answers it:
 * every errno and the order in which the checks are made, where a mapping is
 * placed (top-down below mmap_base, hints, MAP_FIXED, MAP_FIXED_NOREPLACE,
 * MAP_32BIT, the stack guard gap, 2 MiB alignment of large mappings), the
 * /proc/PID/maps text of the result, which neighbours merge, and the
 * vm.max_map_count limit.
 *
 * A new task has no mappings at all, so the first one-page mapping lands at
 * 0x7ffff7ffe000, just below mmap_base (0x7ffff7fff000), and later ones go
 * down from there.
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
#define RAM (64ULL << 20)            /* the test machine's memory */

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#define MAP_UNKNOWN_BIT 0x400000 /* no such flag */
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

/* Replace the default machine with one made from c. */
static void env_reset(struct env *e, const struct vms_config *c)
{
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    e->m = tu_machine_with(c);
    e->t = tu_spawn(e->m);
}

static void env_privileged(struct env *e)
{
    struct vms_config c = tu_config(RAM);
    c.privileged = 1;
    env_reset(e, &c);
}

static int64_t map(struct env *e, vms_addr addr, uint64_t len, int prot, int flags)
{
    return vms_mmap(e->t, addr, len, prot, flags, -1, 0);
}

static int64_t map_off(struct env *e, vms_addr addr, uint64_t len, int prot, int flags,
                       int64_t off)
{
    return vms_mmap(e->t, addr, len, prot, flags, -1, off);
}

/* ---- single errors ---- */

/* Linux 6.7+ gives MAP_STACK memory VM_NOHUGEPAGE: it does not merge with a
 * plain neighbour (host: two maps lines). */
static void test_map_stack_does_not_merge_with_a_plain_neighbour(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_mmap(e->t, 0, PG, PROT_READ, PA, -1, 0), (int64_t)FIRST_PAGE);
    assert_int_equal(vms_mmap(e->t, FIRST_PAGE - PG, PG, PROT_READ, PA | MAP_FIXED | MAP_STACK, -1, 0),
                     (int64_t)(FIRST_PAGE - PG));
    tu_assert_maps(e->t, "7ffff7ffd000-7ffff7ffe000 r--p 00000000 00:00 0 \n"
                         "7ffff7ffe000-7ffff7fff000 r--p 00000000 00:00 0 \n");
}

/* hugetlb maps whole 2 MiB pages: an unaligned offset, or a fixed address
 * that is not aligned, is EINVAL before the empty pool's ENOMEM. */
static void test_map_hugetlb_alignment_errors_come_before_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_mmap(e->t, 0, 2 * MIB, RW, PA | MAP_HUGETLB, -1, (int64_t)PG), -EINVAL);
    assert_int_equal(vms_mmap(e->t, 0x40001000, PG, RW, PA | MAP_HUGETLB | MAP_FIXED, -1, 0), -EINVAL);
    assert_int_equal(vms_mmap(e->t, 0, 2 * MIB, RW, PA | MAP_HUGETLB, -1, 0), -ENOMEM);
}

static void test_mmap_len_0_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 0, RW, PA), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_unaligned_offset_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map_off(e, 0, PG, RW, PA, 1), -EINVAL);
    assert_int_equal(map_off(e, 0, PG, RW, PA, 0x800), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_aligned_offset_is_ignored_for_anonymous_memory(void **state)
{
    struct env *e = *state;
    assert_int_equal(map_off(e, 0, PG, PROT_READ, PA, 0x5000), FIRST_PAGE);
    tu_assert_maps(e->t, "7ffff7ffe000-7ffff7fff000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* A page offset near 2^64 overflows nothing for anonymous memory. */
static void test_mmap_anonymous_offset_near_2_pow_64_succeeds(void **state)
{
    struct env *e = *state;
    int64_t off = -4096; /* 0xfffffffffffff000 */
    assert_int_equal(map_off(e, 0, 2 * PG, RW, PA, off), MMAP_BASE - 2 * PG);
    assert_int_equal(map_off(e, 0, 2 * PG, RW, SA, off), MMAP_BASE - 4 * PG);
    tu_assert_clean(e->m);
}

/* vmsim has no descriptor table yet, so every non-anonymous mmap has a bad fd. */
static void test_mmap_without_map_anonymous_is_ebadf(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_mmap(e->t, 0, PG, RW, MAP_PRIVATE, -1, 0), -EBADF);
    assert_int_equal(vms_mmap(e->t, 0, PG, RW, MAP_SHARED, 99, 0), -EBADF);
    assert_int_equal(vms_mmap(e->t, 0, PG, RW, 0, -1, 0), -EBADF);
    tu_assert_clean(e->m);
}

static void test_mmap_huge_len_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 1ULL << 47, PROT_NONE, PA | MAP_NORESERVE), -ENOMEM);
    assert_int_equal(map(e, 0, TASK_SIZE, PROT_NONE, PA | MAP_NORESERVE), -ENOMEM);
    /* Page-aligning these wraps to 0. */
    assert_int_equal(map(e, 0, ~0ULL, RW, PA), -ENOMEM);
    assert_int_equal(map(e, 0, ~0ULL - 4095, RW, PA), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_unaligned_address_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000001, PG, RW, PA | MAP_FIXED), -EINVAL);
    assert_int_equal(map(e, 0x10000800, PG, RW, PA | MAP_FIXED), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_past_task_size_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, TASK_SIZE - PG, 2 * PG, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, TASK_SIZE, PG, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, 0x800000000000ULL, PG, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, 0x10000000, 1ULL << 47, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, 0x10000000, ~0ULL, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, 0x10000000, ~0ULL - 4095, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, 0x1000, TASK_SIZE, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_ending_exactly_at_task_size_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, TASK_SIZE - PG, PG, RW, PA | MAP_FIXED), TASK_SIZE - PG);
    tu_assert_maps(e->t, "7fffffffe000-7ffffffff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_at_0_is_eperm_unprivileged(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_FIXED), -EPERM);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_FIXED_NOREPLACE), -EPERM);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_at_0_succeeds_privileged(void **state)
{
    struct env *e = *state;
    env_privileged(e);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_FIXED), 0);
    tu_assert_maps(e->t, "00000000-00001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* vm.mmap_min_addr is 4096: the page at 4096 may be mapped by anyone. */
static void test_mmap_fixed_at_mmap_min_addr_succeeds_unprivileged(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x1000, PG, RW, PA | MAP_FIXED), 0x1000);
    assert_int_equal(map(e, 0xfff000, PG, RW, PA | MAP_FIXED), 0xfff000);
    tu_assert_maps(e->t, "00001000-00002000 rw-p 00000000 00:00 0 \n"
                         "00fff000-01000000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_below_a_raised_mmap_min_addr_is_eperm(void **state)
{
    struct env *e = *state;
    struct vms_config c = tu_config(RAM);
    c.mmap_min_addr = 65536;
    env_reset(e, &c);
    assert_int_equal(map(e, 0x1000, PG, RW, PA | MAP_FIXED), -EPERM);
    assert_int_equal(map(e, 0xf000, PG, RW, PA | MAP_FIXED), -EPERM);
    assert_int_equal(map(e, 0x1000, PG, RW, PA | MAP_FIXED_NOREPLACE), -EPERM);
    assert_int_equal(map(e, 0x10000, PG, RW, PA | MAP_FIXED), 0x10000);
    tu_assert_clean(e->m);
}

static void test_mmap_noreplace_over_existing_mapping_is_eexist(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 2 * PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000, 2 * PG, RW, PA | MAP_FIXED_NOREPLACE), -EEXIST);
    assert_int_equal(map(e, 0x10001000, PG, PROT_READ, PA | MAP_FIXED_NOREPLACE), -EEXIST);
    tu_assert_maps(e->t, "10000000-10002000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_noreplace_partly_overlapping_is_eexist(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 2 * PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000 - PG, 2 * PG, RW, PA | MAP_FIXED_NOREPLACE), -EEXIST);
    assert_int_equal(map(e, 0x10001000, 2 * PG, RW, PA | MAP_FIXED_NOREPLACE), -EEXIST);
    tu_assert_maps(e->t, "10000000-10002000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_noreplace_unaligned_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000001, PG, RW, PA | MAP_FIXED_NOREPLACE), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_noreplace_on_free_range_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED_NOREPLACE), 0x10000000);
    tu_assert_maps(e->t, "10000000-10001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_neither_shared_nor_private_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, MAP_ANONYMOUS), -EINVAL);
    assert_int_equal(map(e, 0, PG, RW, MAP_ANONYMOUS | 0x04), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

/* MAP_SHARED_VALIDATE exists for files; anonymous memory takes only
 * MAP_SHARED or MAP_PRIVATE. */
static void test_mmap_shared_validate_anonymous_is_einval(void **state)
{
    struct env *e = *state;
    int sv = MAP_SHARED_VALIDATE | MAP_ANONYMOUS;
    assert_int_equal(map(e, 0, PG, RW, sv), -EINVAL);
    assert_int_equal(map(e, 0, PG, RW, sv | MAP_UNKNOWN_BIT), -EINVAL);
    assert_int_equal(map(e, 0, PG, RW, sv | MAP_SYNC), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_unknown_flags_are_ignored_without_validate(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, SA | MAP_UNKNOWN_BIT), FIRST_PAGE);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_UNKNOWN_BIT), FIRST_PAGE - PG);
    assert_int_equal(map(e, 0, PG, RW, SA | MAP_SYNC), FIRST_PAGE - 2 * PG);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_SYNC), FIRST_PAGE - 3 * PG);
    assert_int_equal(tu_vma_count(e->t), 4);
    tu_assert_clean(e->m);
}

/* MAP_DROPPABLE is a mapping type of its own (0x08): private memory the
 * kernel may drop; it does not merge with plain private memory. */
static void test_mmap_droppable_anonymous_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x20000000, PG, RW, MAP_DROPPABLE | MAP_ANONYMOUS | MAP_FIXED),
                     0x20000000);
    assert_int_equal(map(e, 0x20001000, PG, RW, PA | MAP_FIXED), 0x20001000);
    tu_assert_maps(e->t, "20000000-20001000 rw-p 00000000 00:00 0 \n"
                         "20001000-20002000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_droppable_growsdown_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, MAP_DROPPABLE | MAP_ANONYMOUS | MAP_GROWSDOWN), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_growsdown_shared_is_einval(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, SA | MAP_GROWSDOWN), -EINVAL);
    tu_assert_clean(e->m);
}

/* The huge page pool is empty. */
static void test_mmap_hugetlb_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_HUGETLB), -ENOMEM);
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA | MAP_HUGETLB), -ENOMEM);
    assert_int_equal(map(e, 0, 2 * MIB, RW, SA | MAP_HUGETLB), -ENOMEM);
    assert_int_equal(map(e, 0, 0, RW, PA | MAP_HUGETLB), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

/* RLIMIT_MEMLOCK is 8 MiB for an unprivileged task. */
static void test_mmap_locked_over_8mib_is_eagain_unprivileged(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 16 * MIB, RW, PA | MAP_LOCKED), -EAGAIN);
    assert_int_equal(map(e, 0, 8 * MIB + PG, RW, PA | MAP_LOCKED), -EAGAIN);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_locked_limit_counts_memory_already_locked(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0, 4 * MIB + PG, RW, PA | MAP_LOCKED), -EAGAIN);
    assert_true(map(e, 0, 4 * MIB, RW, PA | MAP_LOCKED) > 0);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_LOCKED), -EAGAIN);
    tu_assert_clean(e->m);
}

static void test_mmap_locked_exactly_8mib_succeeds_unprivileged(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 8 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    tu_assert_clean(e->m);
}

static void test_mmap_locked_over_8mib_succeeds_privileged(void **state)
{
    struct env *e = *state;
    env_privileged(e);
    assert_int_equal(map(e, 0x10000000, 16 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    tu_assert_maps(e->t, "10000000-11000000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* RLIMIT_MEMLOCK is the config's: a host whose limit is 64 KiB refuses a
 * 68 KiB MAP_LOCKED; an unlimited one refuses nothing. */
static void test_mmap_locked_follows_the_configured_memlock_rlimit(void **state)
{
    struct env *e = *state;
    struct vms_config c = tu_config(RAM);
    c.memlock_rlimit = 64 * 1024;
    env_reset(e, &c);
    assert_int_equal(map(e, 0, 17 * PG, RW, PA | MAP_LOCKED), -EAGAIN);
    assert_true(map(e, 0, 16 * PG, RW, PA | MAP_LOCKED) > 0);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_LOCKED), -EAGAIN);
    c.memlock_rlimit = UINT64_MAX;
    env_reset(e, &c);
    assert_true(map(e, 0, 16 * MIB, RW, PA | MAP_LOCKED) > 0);
    tu_assert_clean(e->m);
}

/* Overcommit heuristic: one private writable request may not exceed RAM + swap. */
static void test_mmap_private_writable_larger_than_ram_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, RAM + PG, RW, PA), -ENOMEM);
    assert_int_equal(map(e, 0, 2 * RAM, PROT_WRITE, PA), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_larger_than_ram_with_noreserve_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x100000000ULL, 2 * RAM, RW, PA | MAP_NORESERVE | MAP_FIXED),
                     0x100000000ULL);
    tu_assert_clean(e->m);
}

static void test_mmap_larger_than_ram_without_write_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x100000000ULL, 2 * RAM, PROT_NONE, PA | MAP_FIXED), 0x100000000ULL);
    assert_int_equal(map(e, 0x200000000ULL, 2 * RAM, PROT_READ, PA | MAP_FIXED), 0x200000000ULL);
    tu_assert_clean(e->m);
}

/* Shared anonymous memory is shmem, charged at creation whatever its prot
 * unless MAP_NORESERVE says otherwise. */
static void test_mmap_shared_larger_than_ram_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2 * RAM, PROT_READ, SA), -ENOMEM);
    assert_int_equal(map(e, 0, 2 * RAM, PROT_NONE, SA), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_mmap_shared_larger_than_ram_with_noreserve_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x100000000ULL, 2 * RAM, RW, SA | MAP_NORESERVE | MAP_FIXED),
                     0x100000000ULL);
    tu_assert_clean(e->m);
}

/* mmap does not validate prot: bits it does not know are dropped. */
static void test_mmap_ignores_unknown_prot_bits(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW | 0x10, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10002000, PG, RW | PROT_SEM, PA | MAP_FIXED), 0x10002000);
    assert_int_equal(map(e, 0x10004000, PG, RW | PROT_GROWSUP, PA | MAP_FIXED), 0x10004000);
    assert_int_equal(map(e, 0x10006000, PG, 0x7fffffff, PA | MAP_FIXED), 0x10006000);
    tu_assert_maps(e->t, "10000000-10001000 rw-p 00000000 00:00 0 \n"
                         "10002000-10003000 rw-p 00000000 00:00 0 \n"
                         "10004000-10005000 rw-p 00000000 00:00 0 \n"
                         "10006000-10007000 rwxp 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* PROT_GROWSDOWN given to mmap does not make a growing mapping: a touch
 * just below it finds nothing. */
static void test_mmap_prot_growsdown_does_not_make_the_mapping_grow(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x30000000, PG, RW | PROT_GROWSDOWN, PA | MAP_FIXED), 0x30000000);
    uint8_t v = 1;
    assert_int_equal(vms_store(e->t, 0x2fffffff, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, 0x2fffffff);
    tu_assert_maps(e->t, "30000000-30001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_len_is_rounded_up_to_a_page(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 1, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 0, PG + 1, PROT_READ, PA), FIRST_PAGE - 2 * PG);
    tu_assert_maps(e->t, "7ffff7ffc000-7ffff7ffe000 r--p 00000000 00:00 0 \n"
                         "7ffff7ffe000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* MAP_FIXED_NOREPLACE wins over MAP_FIXED given with it. */
static void test_mmap_fixed_with_noreplace_does_not_replace(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000, PG, PROT_READ, PA | MAP_FIXED | MAP_FIXED_NOREPLACE),
                     -EEXIST);
    tu_assert_maps(e->t, "10000000-10001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* mmap(MAP_FIXED) over locked memory still counts the old pages against
 * the limit: the check comes before anything is unmapped. */
static void test_mmap_fixed_locked_over_locked_memory_still_counts_it(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 8 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000, 8 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), -EAGAIN);
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_LOCKED | MAP_FIXED), -EAGAIN);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_over_locked_memory_gives_back_memlock_room(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 8 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000, 4 * MIB, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x20000000, 4 * MIB, RW, PA | MAP_LOCKED | MAP_FIXED), 0x20000000);
    assert_int_equal(map(e, 0x30000000, PG, RW, PA | MAP_LOCKED | MAP_FIXED), -EAGAIN);
    tu_assert_clean(e->m);
}

/* MAP_FIXED over charged memory is charged only for the pages it adds. */
static void test_mmap_fixed_charges_only_pages_not_already_charged(void **state)
{
    struct env *e = *state;
    vms_addr x = 0x100000000ULL;
    assert_int_equal(map(e, x, RAM / 2, RW, PA | MAP_FIXED), x);
    assert_int_equal(map(e, x, RAM + PG, RW, PA | MAP_FIXED), x);
    assert_int_equal(map(e, x, 2 * RAM, RW, PA | MAP_FIXED), x);
    tu_assert_maps(e->t, "100000000-108000000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_refused_fixed_leaves_the_old_mapping_in_place(void **state)
{
    struct env *e = *state;
    vms_addr x = 0x100000000ULL;
    assert_int_equal(map(e, x, PG, RW, PA | MAP_FIXED), x);
    tu_store_byte(e->t, x, 7);
    assert_int_equal(map(e, x, 2 * RAM, RW, PA | MAP_FIXED), -ENOMEM);
    tu_assert_maps(e->t, "100000000-100001000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(tu_load_byte(e->t, x), 7);
    tu_assert_clean(e->m);
}

/* ---- priority of the checks ---- */

static void test_mmap_unaligned_offset_comes_before_ebadf(void **state)
{
    struct env *e = *state;
    assert_int_equal(vms_mmap(e->t, 0, PG, RW, MAP_PRIVATE, 99, 1), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_ebadf_comes_before_every_other_check(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(vms_mmap(e->t, 0, 0, RW, MAP_PRIVATE, -1, 0), -EBADF);
    assert_int_equal(vms_mmap(e->t, 0, 1ULL << 47, RW, MAP_PRIVATE, -1, 0), -EBADF);
    assert_int_equal(vms_mmap(e->t, 0x10000001, PG, RW, MAP_PRIVATE | MAP_FIXED, -1, 0), -EBADF);
    assert_int_equal(vms_mmap(e->t, 0, PG, RW, MAP_SHARED_VALIDATE | MAP_UNKNOWN_BIT, -1, 0),
                     -EBADF);
    assert_int_equal(
        vms_mmap(e->t, 0x10000000, PG, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE, -1, 0), -EBADF);
    assert_int_equal(vms_mmap(e->t, 0, 2 * MIB, RW, MAP_PRIVATE | MAP_HUGETLB, -1, 0), -EBADF);
    tu_assert_clean(e->m);
}

static void test_mmap_size_comes_before_fixed_alignment(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000001, 1ULL << 47, RW, PA | MAP_FIXED), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_size_comes_before_eperm(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 1ULL << 47, RW, PA | MAP_FIXED), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_alignment_comes_before_eperm(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x800, PG, RW, PA | MAP_FIXED), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_eperm_comes_before_eexist(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x1000, PG, RW, PA | MAP_FIXED), 0x1000);
    assert_int_equal(map(e, 0, 2 * PG, RW, PA | MAP_FIXED_NOREPLACE), -EPERM);
    tu_assert_maps(e->t, "00001000-00002000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_size_comes_before_eexist(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000, 1ULL << 47, RW, PA | MAP_FIXED_NOREPLACE), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_size_comes_before_mapping_type_checks(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 1ULL << 47, RW, MAP_ANONYMOUS), -ENOMEM);
    assert_int_equal(map(e, 0, 1ULL << 47, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_eexist_comes_before_mapping_type_checks(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10000000, PG, RW, MAP_ANONYMOUS | MAP_FIXED_NOREPLACE), -EEXIST);
    assert_int_equal(map(e, 0x10000000, PG, RW,
                         MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_UNKNOWN_BIT |
                             MAP_FIXED_NOREPLACE),
                     -EEXIST);
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_HUGETLB | MAP_FIXED_NOREPLACE), -EEXIST);
    tu_assert_clean(e->m);
}

static void test_mmap_mapping_type_comes_before_hugetlb(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2 * MIB, RW, MAP_ANONYMOUS | MAP_HUGETLB), -EINVAL);
    assert_int_equal(map(e, 0, 2 * MIB, RW, SA | MAP_GROWSDOWN | MAP_HUGETLB), -EINVAL);
    tu_assert_clean(e->m);
}

/* Anonymous MAP_HUGETLB maps a file of Linux's hugetlbfs, so the rules for
 * file mappings decide the errno (host values): the length is first rounded
 * to 2 MiB (wrapping to 0 is EINVAL), too long is ENOMEM before an unaligned
 * fixed address is EINVAL, MAP_SHARED_VALIDATE is accepted (then the empty
 * pool says ENOMEM) but not with MAP_SYNC, and MAP_DROPPABLE is no file
 * mapping type. */
static void test_mmap_hugetlb_follows_the_rules_for_files(void **state)
{
    struct env *e = *state;
    const int ah = MAP_ANONYMOUS | MAP_HUGETLB;
    assert_int_equal(map(e, 0, UINT64_MAX, RW, MAP_PRIVATE | ah), -EINVAL);
    assert_int_equal(map(e, 0, UINT64_MAX - PG - 2 * MIB + 1, RW, MAP_PRIVATE | ah), -ENOMEM);
    assert_int_equal(map(e, 0x300000001000ULL, 0x7ffffffff000ULL, RW, MAP_PRIVATE | MAP_FIXED | ah),
                     -ENOMEM);
    assert_int_equal(map(e, 0, PG, RW, MAP_SHARED_VALIDATE | ah), -ENOMEM);
    assert_int_equal(map(e, 0, PG, RW, MAP_SHARED_VALIDATE | MAP_SYNC | ah), -EOPNOTSUPP);
    assert_int_equal(map(e, 0, PG, RW, 0x08 /* MAP_DROPPABLE */ | ah), -EINVAL);
    assert_int_equal(map(e, 0, PG, RW, MAP_PRIVATE | MAP_GROWSDOWN | MAP_NORESERVE | ah), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

/* MAP_SYNC means nothing for anonymous memory, but the VMA keeps VM_SYNC,
 * so it does not merge with a plain neighbour (as on the host). */
static void test_mmap_sync_anonymous_memory_does_not_merge(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 2 * PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10002000, PG, RW, PA | MAP_FIXED | MAP_SYNC), 0x10002000);
    assert_int_equal(map(e, 0x10003000, PG, RW, PA | MAP_FIXED), 0x10003000);
    assert_int_equal(tu_vma_count(e->t), 3);
    tu_assert_clean(e->m);
}

/* Linux checks the memlock limit before it looks at the mapping type, and
 * the huge page pool is only tried when the mapping is made. */
static void test_mmap_memlock_limit_comes_before_mapping_type(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 16 * MIB, RW, MAP_ANONYMOUS | MAP_LOCKED), -EAGAIN);
    assert_int_equal(map(e, 0, 16 * MIB, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_LOCKED),
                     -EAGAIN);
    assert_int_equal(map(e, 0, 16 * MIB, RW, SA | MAP_GROWSDOWN | MAP_LOCKED), -EAGAIN);
    tu_assert_clean(e->m);
}

static void test_mmap_memlock_limit_comes_before_hugetlb(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 16 * MIB, RW, PA | MAP_HUGETLB | MAP_LOCKED), -EAGAIN);
    tu_assert_clean(e->m);
}

/* ---- placement ---- */

static void test_mmap_first_mapping_lies_just_below_mmap_base(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    tu_assert_maps(e->t, "7ffff7ffe000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_next_mappings_go_down_and_merge(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE - PG);
    assert_int_equal(map(e, 0, 3 * PG, RW, PA), FIRST_PAGE - 4 * PG);
    tu_assert_maps(e->t, "7ffff7ffa000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_top_down_fills_the_highest_gap_that_fits(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 4 * PG, RW, PA), MMAP_BASE - 4 * PG);
    assert_int_equal(map(e, 0, PG, PROT_READ, PA), MMAP_BASE - 5 * PG);
    assert_int_equal(vms_munmap(e->t, MMAP_BASE - 3 * PG, 2 * PG), 0);
    /* The 3-page request skips the 2-page hole; a 2-page one fills it. */
    assert_int_equal(map(e, 0, 3 * PG, PROT_READ, PA), MMAP_BASE - 8 * PG);
    assert_int_equal(map(e, 0, 2 * PG, RW, PA), MMAP_BASE - 3 * PG);
    tu_assert_maps(e->t, "7ffff7ff7000-7ffff7ffb000 r--p 00000000 00:00 0 \n"
                         "7ffff7ffb000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_free_hint_is_rounded_down_to_a_page(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x20000123, PG, RW, PA), 0x20000000);
    assert_int_equal(map(e, 0x20010fff, PG, RW, PA), 0x20010000);
    tu_assert_clean(e->m);
}

static void test_mmap_low_hint_is_raised_to_0x10000(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x1000, PG, RW, PA), 0x10000);
    tu_assert_maps(e->t, "00010000-00011000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_low_hint_is_raised_to_0x10000_even_privileged(void **state)
{
    struct env *e = *state;
    env_privileged(e);
    assert_int_equal(map(e, 0xf000, PG, RW, PA), 0x10000);
    tu_assert_clean(e->m);
}

static void test_mmap_hint_0x800_counts_as_no_hint(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x800, PG, RW, PA), FIRST_PAGE);
    tu_assert_clean(e->m);
}

static void test_mmap_hint_just_above_the_floor_is_honoured(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0xfff000, PG, RW, PA), 0xfff000);
    tu_assert_clean(e->m);
}

static void test_mmap_occupied_hint_falls_back_to_top_down(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, FIRST_PAGE, PG, RW, PA), FIRST_PAGE - PG);
    assert_int_equal(map(e, FIRST_PAGE, 2 * PG, RW, PA), FIRST_PAGE - 3 * PG);
    tu_assert_clean(e->m);
}

/* The search starts again from mmap_base, not near the rejected hint. */
static void test_mmap_partly_overlapping_hint_is_ignored(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10010000, PG, RW, PA | MAP_FIXED), 0x10010000);
    assert_int_equal(map(e, 0x1000e000, 4 * PG, RW, PA), MMAP_BASE - 4 * PG);
    tu_assert_clean(e->m);
}

static void test_mmap_hint_crossing_task_size_is_ignored(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, TASK_SIZE - PG, 2 * PG, RW, PA), MMAP_BASE - 2 * PG);
    tu_assert_clean(e->m);
}

static void test_mmap_hint_beyond_47_bits_is_ignored(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x800000000000ULL, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 1ULL << 56, PG, RW, PA), FIRST_PAGE - PG);
    assert_int_equal(map(e, 0xffff800000000000ULL, PG, RW, PA), FIRST_PAGE - 2 * PG);
    tu_assert_clean(e->m);
}

static void test_mmap_hint_above_mmap_base_is_honoured(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, MMAP_BASE, PG, RW, PA), MMAP_BASE);
    assert_int_equal(map(e, 0x7ffff8000000ULL, PG, RW, PA), 0x7ffff8000000ULL);
    tu_assert_maps(e->t, "7ffff7fff000-7ffff8001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_hint_adjacent_to_a_mapping_is_honoured_and_merges(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10004000, PG, RW, PA), 0x10004000);
    assert_int_equal(map(e, 0x0ffff000, PG, RW, PA), 0x0ffff000);
    tu_assert_maps(e->t, "0ffff000-10005000 rw-p 00000000 00:00 0 \n");
    /* A hint whose end is the next mapping's start fits too. */
    assert_int_equal(map(e, 0x0fffd000, 2 * PG, RW, PA), 0x0fffd000);
    tu_assert_maps(e->t, "0fffd000-10005000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* A MAP_GROWSDOWN mapping keeps 1 MiB (stack_guard_gap) free below it. */
static void test_mmap_hint_inside_stack_guard_gap_is_rejected(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x50000000, PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x50000000);
    assert_int_equal(map(e, 0x4ffff000, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 0x4ff00000, PG, RW, PA), FIRST_PAGE - PG);
    tu_assert_clean(e->m);
}

static void test_mmap_hint_ending_at_stack_guard_gap_is_honoured(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x50000000, PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x50000000);
    assert_int_equal(map(e, 0x4feff000, PG, RW, PA), 0x4feff000);
    tu_assert_clean(e->m);
}

static void test_mmap_noreplace_ignores_stack_guard_gap(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x50000000, PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x50000000);
    assert_int_equal(map(e, 0x4ffff000, PG, RW, PA | MAP_FIXED_NOREPLACE), 0x4ffff000);
    tu_assert_maps(e->t, "4ffff000-50000000 rw-p 00000000 00:00 0 \n"
                         "50000000-50001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_top_down_search_keeps_stack_guard_gap(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_GROWSDOWN), FIRST_PAGE);
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE - MIB - PG);
    tu_assert_clean(e->m);
}

/* The search never goes below 65536 (the kernel's own mmap_min_addr floor);
 * when nothing fits above it, it retries bottom-up, which finds room above
 * mmap_base. */
static void test_mmap_top_down_stops_at_0x10000_then_searches_bottom_up(void **state)
{
    struct env *e = *state;
    uint64_t fill = MMAP_BASE - 0x10000;
    assert_int_equal(map(e, 0x10000, fill, PROT_NONE, PA | MAP_NORESERVE | MAP_FIXED), 0x10000);
    assert_int_equal(map(e, 0, PG, RW, PA), MMAP_BASE);
    assert_int_equal(map(e, 0, PG, RW, PA), MMAP_BASE + PG);
    tu_assert_maps(e->t, "00010000-7ffff7fff000 ---p 00000000 00:00 0 \n"
                         "7ffff7fff000-7ffff8001000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_low_hint_is_raised_to_a_higher_mmap_min_addr(void **state)
{
    struct env *e = *state;
    struct vms_config c = tu_config(RAM);
    c.mmap_min_addr = 0x20000;
    env_reset(e, &c);
    assert_int_equal(map(e, 0x1000, PG, RW, PA), 0x20000);
    assert_int_equal(map(e, 0x10000, PG, RW, PA | MAP_FIXED), -EPERM);
    tu_assert_clean(e->m);
}

/* Once the search meets a gap that reaches into a stack guard gap, it
 * retries with its upper limit lowered to the bottom of that guard gap:
 * free space between that limit and other mappings inside the guard gap
 * is passed over, though it lies outside the guard gap itself. */
static void test_mmap_top_down_skips_everything_inside_a_stack_guard_gap(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, FIRST_PAGE, PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), FIRST_PAGE);
    assert_int_equal(map(e, 0x7ffff7f80000ULL, PG, PROT_READ, PA | MAP_FIXED), 0x7ffff7f80000ULL);
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE - MIB - PG);
    assert_int_equal(map(e, 0, 2 * PG, PROT_READ, PA), FIRST_PAGE - MIB - 3 * PG);
    tu_assert_clean(e->m);
}

/* ---- 2 MiB alignment of large anonymous mappings ---- */

static void test_mmap_2mib_starts_on_a_2mib_boundary(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA), 0x7ffff7c00000ULL);
    tu_assert_maps(e->t, "7ffff7c00000-7ffff7e00000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_multiples_of_2mib_are_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 0, 4 * MIB, PROT_READ, PA), 0x7ffff7a00000ULL);
    assert_int_equal(map(e, 0, 6 * MIB, RW, PA), 0x7ffff7400000ULL);
    tu_assert_clean(e->m);
}

static void test_mmap_2mib_plus_or_minus_a_page_is_not_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 0, 2 * MIB + PG, PROT_READ, PA), FIRST_PAGE - 2 * MIB - PG);
    assert_int_equal(map(e, 0, 2 * MIB - PG, RW, PA), FIRST_PAGE - 4 * MIB);
    assert_int_equal(map(e, 0, MIB, PROT_READ, PA), FIRST_PAGE - 5 * MIB);
    tu_assert_clean(e->m);
}

/* The search is for len + 2 MiB; when that area already starts aligned,
 * the mapping goes 2 MiB above its start. */
static void test_mmap_2mib_aligned_padded_area_places_mapping_2mib_up(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x7ffff7e00000ULL, PG, PROT_READ, PA | MAP_FIXED), 0x7ffff7e00000ULL);
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA), 0x7ffff7c00000ULL);
    tu_assert_clean(e->m);
}

static void test_mmap_2mib_with_a_free_hint_is_not_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x20001000, 2 * MIB, RW, PA), 0x20001000);
    tu_assert_clean(e->m);
}

static void test_mmap_2mib_with_a_rejected_hint_is_not_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, FIRST_PAGE, 2 * MIB, PROT_READ, PA), FIRST_PAGE - 2 * MIB);
    tu_assert_clean(e->m);
}

static void test_mmap_2mib_with_hint_0x800_is_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x800, 2 * MIB, RW, PA), 0x7ffff7c00000ULL);
    tu_assert_clean(e->m);
}

static void test_mmap_2mib_prot_none_and_growsdown_are_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2 * MIB, PROT_NONE, PA | MAP_NORESERVE), 0x7ffff7c00000ULL);
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA | MAP_GROWSDOWN), 0x7ffff7a00000ULL);
    tu_assert_clean(e->m);
}

/* Shared anonymous memory is placed by shmem, which aligns only when
 * shmem huge pages are enabled (they are not): no 2 MiB alignment. */
static void test_mmap_shared_anonymous_multiple_of_2mib_is_not_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA), FIRST_PAGE);
    assert_int_equal(map(e, 0, 2 * MIB, RW, SA), FIRST_PAGE - 2 * MIB);
    assert_int_equal(map(e, 0, 4 * MIB, PROT_READ, SA), FIRST_PAGE - 6 * MIB);
    /* Private memory after them is aligned again. */
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA), 0x7ffff7600000ULL);
    tu_assert_clean(e->m);
}

static void test_mmap_32bit_2mib_is_aligned(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA | MAP_32BIT), 0x40200000);
    assert_int_equal(map(e, 0, 2 * MIB, RW, PA | MAP_32BIT), 0x40600000);
    tu_assert_maps(e->t, "40200000-40400000 rw-p 00000000 00:00 0 \n"
                         "40600000-40800000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- MAP_32BIT ---- */

static void test_mmap_32bit_searches_bottom_up_from_1gib(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_32BIT), 0x40000000);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_32BIT), 0x40001000);
    tu_assert_maps(e->t, "40000000-40002000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_32bit_hint_is_honoured_only_below_2gib(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2 * PG, RW, PA | MAP_32BIT), 0x40000000);
    assert_int_equal(map(e, 0x50000000, PG, RW, PA | MAP_32BIT), 0x50000000);
    assert_int_equal(map(e, 0x100000000ULL, PG, RW, PA | MAP_32BIT), 0x40002000);
    tu_assert_clean(e->m);
}

static void test_mmap_32bit_fixed_above_4gib_succeeds(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x100000000ULL, PG, RW, PA | MAP_32BIT | MAP_FIXED), 0x100000000ULL);
    tu_assert_clean(e->m);
}

static void test_mmap_32bit_2gib_is_enomem(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 2048 * MIB, PROT_NONE, PA | MAP_32BIT), -ENOMEM);
    tu_assert_clean(e->m);
}

/* With a randomised layout the search starts at a random page of the first
 * 32 MiB above 1 GiB, drawn anew for each call. host (ASLR on, 2000 calls
 * each): one page lands in 0x40000000-0x41fff000; 1 GiB - 32 MiB always
 * fits, 1 GiB never (0/2000; without ASLR it lands at 0x40000000). */
static void test_mmap_32bit_start_is_randomised_with_aslr(void **state)
{
    struct env *e = *state;
    struct vms_config c = tu_config(RAM);
    c.aslr_seed = 7;
    env_reset(e, &c);
    uint64_t lowest = UINT64_MAX, highest = 0;
    for (int i = 0; i < 200; i++) {
        int64_t p = map(e, 0, PG, RW, PA | MAP_32BIT);
        assert_true(p >= 0x40000000 && p < 0x42000000);
        lowest = (uint64_t)p < lowest ? (uint64_t)p : lowest;
        highest = (uint64_t)p > highest ? (uint64_t)p : highest;
        assert_int_equal(vms_munmap(e->t, (vms_addr)p, PG), 0);
    }
    assert_true(highest - lowest >= 16 * MIB);
    assert_int_equal(map(e, 0, 1024 * MIB, PROT_NONE, PA | MAP_32BIT), -ENOMEM);
    int64_t p = map(e, 0, 992 * MIB, PROT_NONE, PA | MAP_32BIT);
    assert_true(p >= 0x40000000 && p + 992 * MIB <= 0x80000000);
    tu_assert_clean(e->m);
}

static void test_mmap_32bit_1gib_fits_without_aslr(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, 1024 * MIB, PROT_NONE, PA | MAP_32BIT), 0x40000000);
    tu_assert_clean(e->m);
}

/* ---- MAP_FIXED over existing mappings ---- */

static void fill_pages(vms_task *t, vms_addr start, int pages, uint8_t v)
{
    for (int i = 0; i < pages; i++)
        tu_store_byte(t, start + (uint64_t)i * PG + 7, v);
}

static void test_mmap_fixed_over_touched_memory_gives_zeroes(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * PG, RW, PA | MAP_FIXED), 0x10000000);
    fill_pages(e->t, 0x10000000, 4, 0xab);
    assert_int_equal(map(e, 0x10001000, 2 * PG, RW, PA | MAP_FIXED), 0x10001000);
    assert_int_equal(tu_load_byte(e->t, 0x10000007), 0xab);
    assert_int_equal(tu_load_byte(e->t, 0x10001007), 0);
    assert_int_equal(tu_load_byte(e->t, 0x10002007), 0);
    assert_int_equal(tu_load_byte(e->t, 0x10003007), 0xab);
    tu_assert_clean(e->m);
}

/* Same prot, touched or not: the replacement merges back into one VMA. */
static void test_mmap_fixed_over_middle_with_same_prot_leaves_one_vma(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x19100000, 8 * PG, RW, PA | MAP_FIXED), 0x19100000);
    fill_pages(e->t, 0x19100000, 8, 1);
    assert_int_equal(map(e, 0x19103000, 2 * PG, RW, PA | MAP_FIXED), 0x19103000);
    assert_int_equal(map(e, 0x19200000, 8 * PG, RW, PA | MAP_FIXED), 0x19200000);
    assert_int_equal(map(e, 0x19203000, 2 * PG, RW, PA | MAP_FIXED), 0x19203000);
    tu_assert_maps(e->t, "19100000-19108000 rw-p 00000000 00:00 0 \n"
                         "19200000-19208000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_over_middle_with_other_prot_splits_in_three(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10001000, 2 * PG, PROT_READ, PA | MAP_FIXED), 0x10001000);
    tu_assert_maps(e->t, "10000000-10001000 rw-p 00000000 00:00 0 \n"
                         "10001000-10003000 r--p 00000000 00:00 0 \n"
                         "10003000-10004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_spanning_several_mappings_replaces_them_all(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, RW, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10002000, PG, PROT_READ, PA | MAP_FIXED), 0x10002000);
    assert_int_equal(map(e, 0x10004000, PG, RW, SA | MAP_FIXED), 0x10004000);
    assert_int_equal(map(e, 0x10000000, 5 * PG, PROT_NONE, PA | MAP_FIXED), 0x10000000);
    tu_assert_maps(e->t, "10000000-10005000 ---p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_gives_back_the_frames_it_replaces(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, 4 * PG, RW, PA | MAP_FIXED), 0x10000000);
    tu_store_byte(e->t, 0x10000000, 1); /* builds the page tables */
    uint64_t before = tu_frames_used(e->m);
    fill_pages(e->t, 0x10001000, 3, 2);
    assert_int_equal(tu_frames_used(e->m), before + 3);
    assert_int_equal(map(e, 0x10001000, 3 * PG, RW, PA | MAP_FIXED), 0x10001000);
    assert_int_equal(tu_frames_used(e->m), before);
    tu_assert_clean(e->m);
}

/* ---- /proc/PID/maps text ---- */

static void test_maps_private_anonymous_line_ends_with_inode_0_and_a_space(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x555555559000ULL, 0x800000, RW, PA | MAP_FIXED), 0x555555559000ULL);
    assert_int_equal(map(e, 0x400000, PG, PROT_READ, PA | MAP_FIXED), 0x400000);
    tu_assert_maps(e->t, "00400000-00401000 r--p 00000000 00:00 0 \n"
                         "555555559000-555555d59000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_maps_private_permission_strings(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, PROT_NONE, PA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10002000, PG, PROT_WRITE, PA | MAP_FIXED), 0x10002000);
    assert_int_equal(map(e, 0x10004000, PG, PROT_EXEC, PA | MAP_FIXED), 0x10004000);
    assert_int_equal(map(e, 0x10006000, PG, PROT_READ | PROT_EXEC, PA | MAP_FIXED), 0x10006000);
    assert_int_equal(map(e, 0x10008000, PG, RW | PROT_EXEC, PA | MAP_FIXED), 0x10008000);
    tu_assert_maps(e->t, "10000000-10001000 ---p 00000000 00:00 0 \n"
                         "10002000-10003000 -w-p 00000000 00:00 0 \n"
                         "10004000-10005000 --xp 00000000 00:00 0 \n"
                         "10006000-10007000 r-xp 00000000 00:00 0 \n"
                         "10008000-10009000 rwxp 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_maps_shared_anonymous_is_dev_zero_deleted_at_column_73(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, SA), FIRST_PAGE);
    char *text = tu_maps(e->t);
    uint64_t ino = tu_assert_shm_line(text, "7ffff7ffe000-7ffff7fff000 rw-s 00000000 00:01 ");
    assert_true(ino > 0);
    assert_null(tu_line(text, 1));
    free(text);
    tu_assert_clean(e->m);
}

static void test_maps_shared_permission_strings(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x10000000, PG, PROT_WRITE | PROT_EXEC, SA | MAP_FIXED), 0x10000000);
    assert_int_equal(map(e, 0x10002000, PG, PROT_NONE, SA | MAP_FIXED), 0x10002000);
    assert_int_equal(map(e, 0x10004000, PG, PROT_READ, SA | MAP_FIXED), 0x10004000);
    char *text = tu_maps(e->t);
    tu_assert_shm_line(tu_line(text, 0), "10000000-10001000 -wxs 00000000 00:01 ");
    tu_assert_shm_line(tu_line(text, 1), "10002000-10003000 ---s 00000000 00:01 ");
    tu_assert_shm_line(tu_line(text, 2), "10004000-10005000 r--s 00000000 00:01 ");
    assert_null(tu_line(text, 3));
    free(text);
    tu_assert_clean(e->m);
}

/* The offset argument does not reach the object: the maps offset stays 0. */
static void test_maps_shared_anonymous_offset_argument_is_ignored(void **state)
{
    struct env *e = *state;
    assert_int_equal(map_off(e, 0, PG, PROT_READ, SA, 0x5000), FIRST_PAGE);
    char *text = tu_maps(e->t);
    tu_assert_shm_line(text, "7ffff7ffe000-7ffff7fff000 r--s 00000000 00:01 ");
    free(text);
    tu_assert_clean(e->m);
}

/* ---- merging at mmap time ---- */

static void test_mmap_untouched_fixed_below_merges(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x11000000, 4 * PG, RW, PA | MAP_FIXED), 0x11000000);
    assert_int_equal(map(e, 0x10ffc000, 4 * PG, RW, PA | MAP_FIXED), 0x10ffc000);
    tu_assert_maps(e->t, "10ffc000-11004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_below_a_touched_mapping_merges(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x12000000, 4 * PG, RW, PA | MAP_FIXED), 0x12000000);
    fill_pages(e->t, 0x12000000, 4, 1);
    assert_int_equal(map(e, 0x11ffc000, 4 * PG, RW, PA | MAP_FIXED), 0x11ffc000);
    fill_pages(e->t, 0x11ffc000, 4, 2);
    tu_assert_maps(e->t, "11ffc000-12004000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(tu_load_byte(e->t, 0x12000007), 1);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_above_a_touched_mapping_merges(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x12100000, 4 * PG, RW, PA | MAP_FIXED), 0x12100000);
    fill_pages(e->t, 0x12100000, 4, 1);
    assert_int_equal(map(e, 0x12104000, 4 * PG, RW, PA | MAP_FIXED), 0x12104000);
    fill_pages(e->t, 0x12104000, 4, 2);
    tu_assert_maps(e->t, "12100000-12108000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* Two separately touched mappings have different anon_vmas: a mapping made
 * between them joins the lower one only. */
static void test_mmap_between_two_touched_mappings_merges_with_the_lower_only(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x20000000, 4 * PG, RW, PA | MAP_FIXED), 0x20000000);
    tu_store_byte(e->t, 0x20000000, 1);
    assert_int_equal(map(e, 0x20008000, 4 * PG, RW, PA | MAP_FIXED), 0x20008000);
    tu_store_byte(e->t, 0x20008000, 1);
    assert_int_equal(map(e, 0x20004000, 4 * PG, RW, PA | MAP_FIXED), 0x20004000);
    tu_assert_maps(e->t, "20000000-20008000 rw-p 00000000 00:00 0 \n"
                         "20008000-2000c000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_prot_read_next_to_rw_does_not_merge(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x15000000, 4 * PG, RW, PA | MAP_FIXED), 0x15000000);
    assert_int_equal(map(e, 0x15004000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x15004000);
    tu_assert_maps(e->t, "15000000-15004000 rw-p 00000000 00:00 0 \n"
                         "15004000-15008000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_noreserve_does_not_merge_with_plain(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x17000000, 4 * PG, RW, PA | MAP_FIXED), 0x17000000);
    assert_int_equal(map(e, 0x17004000, 4 * PG, RW, PA | MAP_NORESERVE | MAP_FIXED), 0x17004000);
    assert_int_equal(map(e, 0x17100000, 4 * PG, PROT_READ, PA | MAP_FIXED), 0x17100000);
    assert_int_equal(map(e, 0x17104000, 4 * PG, PROT_READ, PA | MAP_NORESERVE | MAP_FIXED),
                     0x17104000);
    tu_assert_maps(e->t, "17000000-17004000 rw-p 00000000 00:00 0 \n"
                         "17004000-17008000 rw-p 00000000 00:00 0 \n"
                         "17100000-17104000 r--p 00000000 00:00 0 \n"
                         "17104000-17108000 r--p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_two_shared_anonymous_mappings_never_merge(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18000000, 4 * PG, RW, SA | MAP_FIXED), 0x18000000);
    assert_int_equal(map(e, 0x18004000, 4 * PG, RW, SA | MAP_FIXED), 0x18004000);
    char *text = tu_maps(e->t);
    uint64_t a = tu_assert_shm_line(tu_line(text, 0), "18000000-18004000 rw-s 00000000 00:01 ");
    uint64_t b = tu_assert_shm_line(tu_line(text, 1), "18004000-18008000 rw-s 00000000 00:01 ");
    assert_int_not_equal(a, b); /* each mapping is a new object */
    assert_null(tu_line(text, 2));
    free(text);
    tu_assert_clean(e->m);
}

static void test_mmap_locked_does_not_merge_with_plain(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18200000, 4 * PG, RW, PA | MAP_FIXED), 0x18200000);
    assert_int_equal(map(e, 0x18204000, 4 * PG, RW, PA | MAP_LOCKED | MAP_FIXED), 0x18204000);
    tu_assert_maps(e->t, "18200000-18204000 rw-p 00000000 00:00 0 \n"
                         "18204000-18208000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_growsdown_does_not_merge_with_plain(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18400000, 4 * PG, RW, PA | MAP_GROWSDOWN | MAP_FIXED), 0x18400000);
    assert_int_equal(map(e, 0x18404000, 4 * PG, RW, PA | MAP_FIXED), 0x18404000);
    tu_assert_maps(e->t, "18400000-18404000 rw-p 00000000 00:00 0 \n"
                         "18404000-18408000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

static void test_mmap_populate_and_offset_merge_with_plain(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x18300000, 4 * PG, RW, PA | MAP_FIXED), 0x18300000);
    assert_int_equal(map(e, 0x18304000, 4 * PG, RW, PA | MAP_POPULATE | MAP_FIXED), 0x18304000);
    assert_int_equal(map(e, 0x18500000, 4 * PG, RW, PA | MAP_FIXED), 0x18500000);
    assert_int_equal(map_off(e, 0x18504000, 4 * PG, RW, PA | MAP_FIXED, 0x5000), 0x18504000);
    tu_assert_maps(e->t, "18300000-18308000 rw-p 00000000 00:00 0 \n"
                         "18500000-18508000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* ---- vm.max_map_count, lowered to 20 so that tests stay small ---- */

#define MAX_MAPS 20
#define TARGET 0x10000000ULL /* a 5-page RW mapping the operations act on */
#define FILLERS 0x20000000ULL /* one-page mappings a page apart, so none merge */

/* A task under max_map_count 20 holding exactly count VMAs. */
static void fill_to(struct env *e, int count)
{
    struct vms_config c = tu_config(RAM);
    c.max_map_count = MAX_MAPS;
    env_reset(e, &c);
    assert_int_equal(map(e, TARGET, 5 * PG, RW, PA | MAP_FIXED), TARGET);
    for (int i = 1; i < count; i++) {
        vms_addr a = FILLERS + (uint64_t)i * 2 * PG;
        assert_int_equal(map(e, a, PG, RW, PA | MAP_FIXED), a);
    }
    assert_int_equal(tu_vma_count(e->t), count);
}

static void test_mmap_may_take_the_count_one_past_the_limit(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    assert_int_equal(map(e, 0, PG, PROT_READ, PA), FIRST_PAGE);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

static void test_mmap_fails_once_the_count_is_past_the_limit(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(map(e, 0, PG, PROT_READ, PA), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

static void test_mmap_past_the_limit_fails_even_when_it_would_merge(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(map(e, TARGET + 5 * PG, PG, RW, PA | MAP_FIXED_NOREPLACE), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_exact_replacement_fails_past_the_limit(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(map(e, FILLERS + 2 * PG, PG, RW, PA | MAP_FIXED), -ENOMEM);
    tu_assert_clean(e->m);
}

/* The unmap half checks count >= max once; its two splits then go through. */
static void test_mmap_fixed_over_middle_page_at_max_minus_1_reaches_max_plus_1(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1);
    assert_int_equal(map(e, TARGET + 2 * PG, PG, PROT_READ, PA | MAP_FIXED), TARGET + 2 * PG);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_over_middle_page_at_max_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    assert_int_equal(map(e, TARGET + 2 * PG, PG, PROT_READ, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    char *text = tu_maps(e->t);
    assert_memory_equal(text, "10000000-10005000 rw-p 00000000 00:00 0 \n", 41);
    free(text);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_over_first_page_at_max_reaches_max_plus_1(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    assert_int_equal(map(e, TARGET, PG, PROT_READ, PA | MAP_FIXED), TARGET);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

static void test_mmap_fixed_over_first_page_past_the_limit_is_enomem(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS + 1);
    assert_int_equal(map(e, TARGET, PG, PROT_READ, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS + 1);
    tu_assert_clean(e->m);
}

/* An address with bit 63 set is an address, not an error code. MAP_FIXED
 * and MAP_FIXED_NOREPLACE anywhere past the top of user space (the kernel
 * half, its top page, non-canonical addresses, a range that wraps to 0) are
 * ENOMEM; an unaligned fixed address in the top page comes back as the
 * errno its value spells, as the host's mmap returns it; a hint there is
 * ignored. Host-measured (Linux 6.18). */
static void test_fixed_addresses_past_user_space_are_enomem(void **state)
{
    struct env *e = *state;
    static const uint64_t enomem[] = {0xfffffffffffff000ULL, 0xffff800000000000ULL,
                                      0x8000000000000000ULL, 0x800000000000ULL, TASK_SIZE,
                                      0xffff7ffffffff000ULL, 0xffffffffffffe000ULL};
    for (size_t i = 0; i < sizeof(enomem) / sizeof(enomem[0]); i++) {
        for (uint64_t len = PG; len <= 2 * PG; len += PG) {
            assert_int_equal(map(e, enomem[i], len, RW, PA | MAP_FIXED), -ENOMEM);
            assert_int_equal(map(e, enomem[i], len, RW, PA | MAP_FIXED_NOREPLACE), -ENOMEM);
            assert_int_equal(map(e, enomem[i], len, RW, SA | MAP_FIXED), -ENOMEM);
        }
    }
    assert_int_equal(map(e, TASK_SIZE - PG, 2 * PG, RW, PA | MAP_FIXED), -ENOMEM);
    assert_int_equal(map(e, 0xfffffffffffffff1ULL, PG, RW, PA | MAP_FIXED), -ENOTBLK);
    assert_int_equal(map(e, 0xfffffffffffff001ULL, PG, RW, PA | MAP_FIXED), -4095);
    assert_int_equal(map(e, 0xfffffffffffff000ULL, PG, RW, PA), (int64_t)FIRST_PAGE);
    assert_int_equal(tu_vma_count(e->t), 1);
    tu_assert_clean(e->m);
}

/* ---- overcommit ---- */

#define GIB (1ULL << 30)
#define HOST_MEM_TOTAL 25276157952ULL /* MemTotal of the host the values below were measured on */

/* A machine whose commit policy counts mem_total bytes of RAM (its own RAM
 * stays RAM bytes), in overcommit mode mode. */
static void env_overcommit(struct env *e, unsigned mode, uint64_t mem_total)
{
    struct vms_config c = tu_config(RAM);
    c.overcommit_memory = mode;
    c.mem_total = mem_total;
    c.privileged = 1;
    c.user_reserve_kbytes = 0;
    env_reset(e, &c);
}

/* Heuristic mode counts the RAM the config names, not the simulated RAM: on
 * a host with 24 GiB and no swap, 16 GiB of private writable memory maps,
 * 32 GiB does not (nor as shared memory), but read-only or MAP_NORESERVE
 * does. Two 16 GiB mappings merge into one VMA larger than RAM: fork
 * refuses to copy it (ENOMEM) and mprotect will not make it writable again
 * once read-only; growing 16 GiB in place by 16 GiB is one request of 16
 * GiB and succeeds. Host-measured (Linux 6.18, overcommit_memory 0). */
static void test_overcommit_heuristic_counts_mem_total(void **state)
{
    struct env *e = *state;
    env_overcommit(e, 0, HOST_MEM_TOTAL);
    const vms_addr base = 0x200000000000ULL;
    assert_int_equal(map(e, 0, 32 * GIB, RW, PA), -ENOMEM);
    assert_int_equal(map(e, 0, 32 * GIB, RW, SA), -ENOMEM);
    assert_true(map(e, 0, 32 * GIB, PROT_READ, PA) > 0);
    assert_true(map(e, 0, 32 * GIB, RW, PA | MAP_NORESERVE) > 0);
    assert_int_equal(map(e, base, 16 * GIB, RW, PA | MAP_FIXED_NOREPLACE), (int64_t)base);
    assert_int_equal(map(e, base + 16 * GIB, 16 * GIB, RW, PA | MAP_FIXED_NOREPLACE),
                     (int64_t)(base + 16 * GIB));
    assert_int_equal(tu_vma_count(e->t), 3);
    vms_task *child = vms_fork(e->t);
    assert_null(child);
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(vms_mprotect(e->t, base, 32 * GIB, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, base, 32 * GIB, RW), -ENOMEM);
    assert_int_equal(vms_munmap(e->t, base, 32 * GIB), 0);
    assert_int_equal(map(e, base, 16 * GIB, RW, PA | MAP_FIXED), (int64_t)base);
    assert_int_equal(vms_mremap(e->t, base, 16 * GIB, 32 * GIB, 0, 0), (int64_t)base);
    tu_assert_clean(e->m);
}

/* Without mem_total the policy counts the simulated RAM (64 MiB here). */
static void test_overcommit_heuristic_defaults_to_the_simulated_ram(void **state)
{
    struct env *e = *state;
    env_overcommit(e, 0, 0);
    assert_int_equal(map(e, 0, RAM + PG, RW, PA), -ENOMEM);
    assert_int_equal(map(e, 0, RAM + PG, RW, SA), -ENOMEM);
    assert_true(map(e, 0, RAM, RW, PA) > 0);
    assert_true(map(e, 0, RAM + PG, RW, SA | MAP_NORESERVE) > 0);
    tu_assert_clean(e->m);
}

static void test_overcommit_always_maps_anything(void **state)
{
    struct env *e = *state;
    env_overcommit(e, 1, 0);
    assert_true(map(e, 0, 1ULL << 40, RW, PA) > 0);
    assert_true(map(e, 0, 1ULL << 40, RW, SA) > 0);
    tu_assert_clean(e->m);
}

/* Strict mode (Linux's formula in mm/util.c; not measured: the host runs
 * mode 0 and its sysctl is shared): everything committed stays below
 * overcommit_ratio percent of RAM plus swap. 1 GiB at 50% is 131072
 * pages; MAP_NORESERVE counts all the same, munmap gives pages back, a
 * fork would commit the parent's memory twice. */
static void test_overcommit_strict_keeps_below_the_limit(void **state)
{
    struct env *e = *state;
    env_overcommit(e, 2, GIB);
    const uint64_t limit = GIB / 2;
    int64_t a = map(e, 0, limit - PG, RW, PA);
    assert_true(a > 0);
    assert_int_equal(map(e, 0, PG, RW, PA), -ENOMEM);
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_NORESERVE), -ENOMEM);
    assert_int_equal(map(e, 0, PG, RW, SA), -ENOMEM);
    int64_t ro = map(e, 0, GIB, PROT_READ, PA);
    assert_true(ro > 0); /* read-only private memory commits nothing */
    assert_int_equal(vms_mprotect(e->t, (vms_addr)ro, PG, RW), -ENOMEM);
    vms_task *child = vms_fork(e->t);
    assert_null(child);
    assert_int_equal(vms_munmap(e->t, (vms_addr)a, 2 * PG), 0);
    assert_true(map(e, 0, PG, RW, PA) > 0);
    assert_int_equal(map(e, 0, 2 * PG, RW, PA), -ENOMEM);
    assert_int_equal(vms_mprotect(e->t, (vms_addr)ro, PG, RW), 0);
    tu_assert_clean(e->m);
}

/* Strict mode: overcommit_kbytes replaces the ratio; swap adds to the
 * limit; an unprivileged task leaves the admin reserve alone. */
static void test_overcommit_strict_kbytes_swap_and_admin_reserve(void **state)
{
    struct env *e = *state;
    struct vms_config c = tu_config(RAM);
    c.overcommit_memory = 2;
    c.overcommit_kbytes = 1024; /* 256 pages */
    c.swap_bytes = 256 * PG;
    c.admin_reserve_kbytes = 256; /* 64 pages */
    c.user_reserve_kbytes = 0;
    env_reset(e, &c);
    assert_int_equal(map(e, 0, 448 * PG, RW, PA), -ENOMEM);
    assert_true(map(e, 0, 447 * PG, RW, PA) > 0);
    c.privileged = 1;
    env_reset(e, &c);
    assert_true(map(e, 0, 511 * PG, RW, PA) > 0);
    assert_int_equal(map(e, 0, PG, RW, PA), -ENOMEM);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mmap_len_0_is_einval),
        T(test_mmap_unaligned_offset_is_einval),
        T(test_mmap_aligned_offset_is_ignored_for_anonymous_memory),
        T(test_mmap_anonymous_offset_near_2_pow_64_succeeds),
        T(test_mmap_without_map_anonymous_is_ebadf),
        T(test_mmap_huge_len_is_enomem),
        T(test_mmap_fixed_unaligned_address_is_einval),
        T(test_mmap_fixed_past_task_size_is_enomem),
        T(test_mmap_fixed_ending_exactly_at_task_size_succeeds),
        T(test_mmap_fixed_at_0_is_eperm_unprivileged),
        T(test_mmap_fixed_at_0_succeeds_privileged),
        T(test_mmap_fixed_at_mmap_min_addr_succeeds_unprivileged),
        T(test_mmap_fixed_below_a_raised_mmap_min_addr_is_eperm),
        T(test_mmap_noreplace_over_existing_mapping_is_eexist),
        T(test_mmap_noreplace_partly_overlapping_is_eexist),
        T(test_mmap_noreplace_unaligned_is_einval),
        T(test_mmap_noreplace_on_free_range_succeeds),
        T(test_mmap_neither_shared_nor_private_is_einval),
        T(test_mmap_shared_validate_anonymous_is_einval),
        T(test_mmap_unknown_flags_are_ignored_without_validate),
        T(test_mmap_droppable_anonymous_succeeds),
        T(test_mmap_droppable_growsdown_is_einval),
        T(test_mmap_growsdown_shared_is_einval),
        T(test_mmap_hugetlb_is_enomem),
        T(test_mmap_locked_over_8mib_is_eagain_unprivileged),
        T(test_mmap_locked_follows_the_configured_memlock_rlimit),
        T(test_mmap_locked_limit_counts_memory_already_locked),
        T(test_mmap_locked_exactly_8mib_succeeds_unprivileged),
        T(test_mmap_locked_over_8mib_succeeds_privileged),
        T(test_mmap_private_writable_larger_than_ram_is_enomem),
        T(test_mmap_larger_than_ram_with_noreserve_succeeds),
        T(test_mmap_larger_than_ram_without_write_succeeds),
        T(test_mmap_shared_larger_than_ram_is_enomem),
        T(test_mmap_shared_larger_than_ram_with_noreserve_succeeds),
        T(test_mmap_ignores_unknown_prot_bits),
        T(test_mmap_prot_growsdown_does_not_make_the_mapping_grow),
        T(test_mmap_len_is_rounded_up_to_a_page),
        T(test_mmap_fixed_with_noreplace_does_not_replace),
        T(test_mmap_fixed_locked_over_locked_memory_still_counts_it),
        T(test_mmap_fixed_over_locked_memory_gives_back_memlock_room),
        T(test_mmap_fixed_charges_only_pages_not_already_charged),
        T(test_mmap_refused_fixed_leaves_the_old_mapping_in_place),
        T(test_mmap_unaligned_offset_comes_before_ebadf),
        T(test_mmap_ebadf_comes_before_every_other_check),
        T(test_mmap_size_comes_before_fixed_alignment),
        T(test_mmap_size_comes_before_eperm),
        T(test_mmap_fixed_alignment_comes_before_eperm),
        T(test_mmap_eperm_comes_before_eexist),
        T(test_mmap_size_comes_before_eexist),
        T(test_mmap_size_comes_before_mapping_type_checks),
        T(test_mmap_eexist_comes_before_mapping_type_checks),
        T(test_mmap_mapping_type_comes_before_hugetlb),
        T(test_mmap_hugetlb_follows_the_rules_for_files),
        T(test_mmap_sync_anonymous_memory_does_not_merge),
        T(test_mmap_memlock_limit_comes_before_mapping_type),
        T(test_mmap_memlock_limit_comes_before_hugetlb),
        T(test_mmap_first_mapping_lies_just_below_mmap_base),
        T(test_mmap_next_mappings_go_down_and_merge),
        T(test_mmap_top_down_fills_the_highest_gap_that_fits),
        T(test_mmap_free_hint_is_rounded_down_to_a_page),
        T(test_mmap_low_hint_is_raised_to_0x10000),
        T(test_mmap_low_hint_is_raised_to_0x10000_even_privileged),
        T(test_mmap_hint_0x800_counts_as_no_hint),
        T(test_mmap_hint_just_above_the_floor_is_honoured),
        T(test_mmap_occupied_hint_falls_back_to_top_down),
        T(test_mmap_partly_overlapping_hint_is_ignored),
        T(test_mmap_hint_crossing_task_size_is_ignored),
        T(test_mmap_hint_beyond_47_bits_is_ignored),
        T(test_mmap_hint_above_mmap_base_is_honoured),
        T(test_mmap_hint_adjacent_to_a_mapping_is_honoured_and_merges),
        T(test_mmap_hint_inside_stack_guard_gap_is_rejected),
        T(test_mmap_hint_ending_at_stack_guard_gap_is_honoured),
        T(test_mmap_noreplace_ignores_stack_guard_gap),
        T(test_mmap_top_down_search_keeps_stack_guard_gap),
        T(test_mmap_top_down_skips_everything_inside_a_stack_guard_gap),
        T(test_mmap_top_down_stops_at_0x10000_then_searches_bottom_up),
        T(test_mmap_low_hint_is_raised_to_a_higher_mmap_min_addr),
        T(test_mmap_2mib_starts_on_a_2mib_boundary),
        T(test_mmap_multiples_of_2mib_are_aligned),
        T(test_mmap_2mib_plus_or_minus_a_page_is_not_aligned),
        T(test_mmap_2mib_aligned_padded_area_places_mapping_2mib_up),
        T(test_mmap_2mib_with_a_free_hint_is_not_aligned),
        T(test_mmap_2mib_with_a_rejected_hint_is_not_aligned),
        T(test_mmap_2mib_with_hint_0x800_is_aligned),
        T(test_mmap_2mib_prot_none_and_growsdown_are_aligned),
        T(test_mmap_shared_anonymous_multiple_of_2mib_is_not_aligned),
        T(test_mmap_32bit_2mib_is_aligned),
        T(test_mmap_32bit_searches_bottom_up_from_1gib),
        T(test_mmap_32bit_hint_is_honoured_only_below_2gib),
        T(test_mmap_32bit_fixed_above_4gib_succeeds),
        T(test_mmap_32bit_2gib_is_enomem),
        T(test_mmap_32bit_start_is_randomised_with_aslr),
        T(test_mmap_32bit_1gib_fits_without_aslr),
        T(test_mmap_fixed_over_touched_memory_gives_zeroes),
        T(test_mmap_fixed_over_middle_with_same_prot_leaves_one_vma),
        T(test_mmap_fixed_over_middle_with_other_prot_splits_in_three),
        T(test_mmap_fixed_spanning_several_mappings_replaces_them_all),
        T(test_mmap_fixed_gives_back_the_frames_it_replaces),
        T(test_maps_private_anonymous_line_ends_with_inode_0_and_a_space),
        T(test_maps_private_permission_strings),
        T(test_maps_shared_anonymous_is_dev_zero_deleted_at_column_73),
        T(test_maps_shared_permission_strings),
        T(test_maps_shared_anonymous_offset_argument_is_ignored),
        T(test_mmap_untouched_fixed_below_merges),
        T(test_mmap_fixed_below_a_touched_mapping_merges),
        T(test_mmap_fixed_above_a_touched_mapping_merges),
        T(test_mmap_between_two_touched_mappings_merges_with_the_lower_only),
        T(test_mmap_prot_read_next_to_rw_does_not_merge),
        T(test_mmap_noreserve_does_not_merge_with_plain),
        T(test_mmap_two_shared_anonymous_mappings_never_merge),
        T(test_mmap_locked_does_not_merge_with_plain),
        T(test_mmap_growsdown_does_not_merge_with_plain),
        T(test_mmap_populate_and_offset_merge_with_plain),
        T(test_mmap_may_take_the_count_one_past_the_limit),
        T(test_mmap_fails_once_the_count_is_past_the_limit),
        T(test_mmap_past_the_limit_fails_even_when_it_would_merge),
        T(test_mmap_fixed_exact_replacement_fails_past_the_limit),
        T(test_mmap_fixed_over_middle_page_at_max_minus_1_reaches_max_plus_1),
        T(test_mmap_fixed_over_middle_page_at_max_is_enomem),
        T(test_mmap_fixed_over_first_page_at_max_reaches_max_plus_1),
        T(test_mmap_fixed_over_first_page_past_the_limit_is_enomem),
        T(test_fixed_addresses_past_user_space_are_enomem),
        T(test_overcommit_heuristic_counts_mem_total),
        T(test_overcommit_heuristic_defaults_to_the_simulated_ram),
        T(test_overcommit_always_maps_anything),
        T(test_overcommit_strict_keeps_below_the_limit),
        T(test_overcommit_strict_kbytes_swap_and_admin_reserve),
        T(test_map_stack_does_not_merge_with_a_plain_neighbour),
        T(test_map_hugetlb_alignment_errors_come_before_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
