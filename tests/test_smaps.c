/*
 * test_smaps.c - /proc/PID/smaps and /proc/PID/pagemap (src/procfs.c), each
 * state measured on the host (Linux 6.18, THP off, no zero page, no
 * protection keys, a swap file, files written in 4 KiB writes): every VMA is
 * made alone between PROT_NONE pages, as the host program made it, and its
 * whole smaps block is compared byte for byte with what the host printed.
 */
#include "testutil.h"

#include <inttypes.h>

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define PG TU_PAGE
#define MIB (1ULL << 20)

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define PM_GUARD (1ULL << 58)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_FRAME ((1ULL << 55) - 1)

/* The host's configuration: no zero page, no PKU, 4 KiB page cache, swap. */
static void machine(struct tu_env *e, int privileged)
{
    vms_machine_destroy(e->m);
    struct vms_config c = tu_config(64 * MIB);
    c.root = e->root;
    c.swap_bytes = 4 * MIB;
    c.zero_page = 0;
    c.pku = 0;
    c.large_folios = 0;
    c.privileged = privileged;
    c.page_cluster = 3;
    c.swappiness = 60;
    c.min_free_kbytes = 0;
    c.fault_around_bytes = 65536;
    c.readahead_kb = 128;
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
}

/* n pages of memory alone between two PROT_NONE pages (no merge). */
static vms_addr alone(vms_task *t, unsigned n, int flags, int fd)
{
    vms_addr b = tu_mmap(t, 0, (n + 2) * PG, PROT_NONE, PRIV);
    int64_t a = vms_mmap(t, b + PG, n * PG, RW, flags | MAP_FIXED, fd, 0);
    assert_int_equal(a, (int64_t)(b + PG));
    return (vms_addr)a;
}

/* The smaps lines of the VMA that starts at va, its maps line left out. */
static char *smaps_block(vms_task *t, vms_addr va)
{
    char *text = NULL, *block = NULL;
    size_t size = 0, bsize = 0;
    FILE *f = open_memstream(&text, &size), *b = open_memstream(&block, &bsize);
    assert_int_equal(vms_smaps(t, f), 0);
    fclose(f);
    int on = 0;
    for (char *l = text; *l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
        unsigned long long s, e;
        if (sscanf(l, "%llx-%llx ", &s, &e) == 2)
            on = s == va;
        else if (on)
            fwrite(l, 1, len, b);
        l += len;
    }
    fclose(b);
    free(text);
    return block;
}

struct counts {
    unsigned size, rss, pss, pss_dirty, shared_clean, shared_dirty, private_clean, private_dirty;
    unsigned referenced, anonymous, swap, swap_pss, locked;
    const char *flags;
};

/* The block Linux prints for these counts (kB); test_anonymous_memory pins
 * the format itself with the host's text. */
static char *expected(const struct counts *c)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    const struct { const char *k; unsigned v; } rows[] = {
        {"Size:", c->size}, {"KernelPageSize:", 4}, {"MMUPageSize:", 4}, {"Rss:", c->rss},
        {"Pss:", c->pss}, {"Pss_Dirty:", c->pss_dirty}, {"Shared_Clean:", c->shared_clean},
        {"Shared_Dirty:", c->shared_dirty}, {"Private_Clean:", c->private_clean},
        {"Private_Dirty:", c->private_dirty}, {"Referenced:", c->referenced},
        {"Anonymous:", c->anonymous}, {"KSM:", 0}, {"LazyFree:", 0}, {"AnonHugePages:", 0},
        {"ShmemPmdMapped:", 0}, {"FilePmdMapped:", 0}, {"Shared_Hugetlb:", 0},
        {"Private_Hugetlb:", 0}, {"Swap:", c->swap}, {"SwapPss:", c->swap_pss},
        {"Locked:", c->locked},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        fprintf(f, "%-16s%8u kB\n", rows[i].k, rows[i].v);
    fprintf(f, "THPeligible:           0\nVmFlags: %s\n", c->flags);
    fclose(f);
    return s;
}

static void assert_smaps(vms_task *t, vms_addr va, const struct counts *c)
{
    char *got = smaps_block(t, va), *want = expected(c);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

static uint64_t pagemap1(vms_task *t, vms_addr va)
{
    uint64_t e = ~0ULL;
    assert_int_equal(vms_pagemap(t, va, &e, 1), 1);
    return e;
}

static uint64_t frame_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_true(w.present);
    return w.pa >> 12;
}

static void test_anonymous_memory(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 4, PRIV, -1);
    tu_store_byte(e->t, a, 1);
    tu_store_byte(e->t, a + PG, 1);
    (void)tu_load_byte(e->t, a + 2 * PG);
    char *got = smaps_block(e->t, a);
    assert_string_equal(got, /* the host's text, every line */
                        "Size:                 16 kB\n"
                        "KernelPageSize:        4 kB\n"
                        "MMUPageSize:           4 kB\n"
                        "Rss:                  12 kB\n"
                        "Pss:                  12 kB\n"
                        "Pss_Dirty:            12 kB\n"
                        "Shared_Clean:          0 kB\n"
                        "Shared_Dirty:          0 kB\n"
                        "Private_Clean:         0 kB\n"
                        "Private_Dirty:        12 kB\n"
                        "Referenced:           12 kB\n"
                        "Anonymous:            12 kB\n"
                        "KSM:                   0 kB\n"
                        "LazyFree:              0 kB\n"
                        "AnonHugePages:         0 kB\n"
                        "ShmemPmdMapped:        0 kB\n"
                        "FilePmdMapped:         0 kB\n"
                        "Shared_Hugetlb:        0 kB\n"
                        "Private_Hugetlb:       0 kB\n"
                        "Swap:                  0 kB\n"
                        "SwapPss:               0 kB\n"
                        "Locked:                0 kB\n"
                        "THPeligible:           0\n"
                        "VmFlags: rd wr mr mw me ac \n");
    free(got);
    /* Three pages present and exclusive, with their frames (root reads them). */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(pagemap1(e->t, a + i * PG), PM_PRESENT | PM_EXCLUSIVE | frame_of(e->t, a + i * PG));
    assert_int_equal(pagemap1(e->t, a + 3 * PG), 0);
    tu_assert_clean(e->m);
}

static void test_unprivileged_reader_sees_no_frame(void **state)
{
    struct tu_env *e = *state;
    machine(e, 0);
    vms_addr a = alone(e->t, 4, PRIV, -1);
    for (unsigned i = 0; i < 4; i++)
        tu_store_byte(e->t, a + i * PG, 5);
    assert_int_equal(vms_madvise(e->t, a, 2 * PG, MADV_PAGEOUT), 0);
    uint64_t pm[4];
    assert_int_equal(vms_pagemap(e->t, a, pm, 4), 4);
    /* Host, as nobody: 4000000000000000 twice, then 8100000000000000 twice. */
    assert_int_equal(pm[0], PM_SWAP);
    assert_int_equal(pm[1], PM_SWAP);
    assert_int_equal(pm[2], PM_PRESENT | PM_EXCLUSIVE);
    assert_int_equal(pm[3], PM_PRESENT | PM_EXCLUSIVE);
    tu_assert_clean(e->m);
}

static int make_file(struct tu_env *e)
{
    char path[400], data[32 * 4096];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i / 4096);
    tu_host_write(tu_join(path, sizeof(path), e->root, "f"), data, sizeof(data));
    int fd = vms_open(e->t, "f", O_RDWR, 0);
    assert_true(fd >= 0);
    return fd;
}

static void test_file_private_read_and_written(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    int fd = make_file(e);
    vms_addr a = alone(e->t, 32, MAP_PRIVATE, fd);
    (void)tu_load_byte(e->t, a);
    tu_store_byte(e->t, a + 2 * PG, 'x');
    /* Fault-around mapped 16 clean pages; page 2 is an anonymous copy. */
    assert_smaps(e->t, a, &(struct counts){.size = 128, .rss = 64, .pss = 64, .pss_dirty = 4,
                                           .private_clean = 60, .private_dirty = 4,
                                           .referenced = 64, .anonymous = 4,
                                           .flags = "rd wr mr mw me ac "});
    assert_int_equal(pagemap1(e->t, a), PM_PRESENT | PM_FILE | PM_EXCLUSIVE | frame_of(e->t, a));
    assert_int_equal(pagemap1(e->t, a + 2 * PG),
                     PM_PRESENT | PM_EXCLUSIVE | frame_of(e->t, a + 2 * PG));
    tu_assert_clean(e->m);
}

static void test_file_shared_written(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    int fd = make_file(e);
    vms_addr a = alone(e->t, 32, MAP_SHARED, fd);
    tu_store_byte(e->t, a + 20 * PG, 'y');
    /* A write fault maps its one page (no fault-around), dirty. */
    assert_smaps(e->t, a, &(struct counts){.size = 128, .rss = 4, .pss = 4, .pss_dirty = 4,
                                           .private_dirty = 4, .referenced = 4,
                                           .flags = "rd wr sh mr mw me ms "});
    assert_int_equal(pagemap1(e->t, a + 20 * PG),
                     PM_PRESENT | PM_FILE | PM_EXCLUSIVE | frame_of(e->t, a + 20 * PG));
    assert_int_equal(pagemap1(e->t, a), 0);
    tu_assert_clean(e->m);
}

static void test_shared_anonymous_written_and_clean(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 4, MAP_SHARED | MAP_ANONYMOUS, -1);
    tu_store_byte(e->t, a, 1);
    (void)tu_load_byte(e->t, a + PG);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .rss = 8, .pss = 8, .pss_dirty = 4,
                                           .private_clean = 4, .private_dirty = 4,
                                           .referenced = 8, .flags = "rd wr sh mr mw me ms "});
    /* shmem pages count as file pages (bit 61). */
    assert_int_equal(pagemap1(e->t, a + PG), PM_PRESENT | PM_FILE | PM_EXCLUSIVE | frame_of(e->t, a + PG));
    /* Paged out: the written page goes to swap (Swap, no SwapPss), the
     * clean one is dropped; pagemap shows neither. */
    assert_int_equal(vms_madvise(e->t, a, 4 * PG, MADV_PAGEOUT), 0);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .swap = 4, .flags = "rd wr sh mr mw me ms "});
    assert_int_equal(pagemap1(e->t, a), 0);
    assert_int_equal(pagemap1(e->t, a + PG), 0);
    /* Read back: dirty again, its slot freed. */
    assert_int_equal(tu_load_byte(e->t, a), 1);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .rss = 4, .pss = 4, .pss_dirty = 4,
                                           .private_dirty = 4, .referenced = 4,
                                           .flags = "rd wr sh mr mw me ms "});
    tu_assert_clean(e->m);
}

static void test_locked(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 2, PRIV | MAP_LOCKED, -1);
    assert_smaps(e->t, a, &(struct counts){.size = 8, .rss = 8, .pss = 8, .pss_dirty = 8,
                                           .private_dirty = 8, .referenced = 8, .anonymous = 8,
                                           .locked = 8, .flags = "rd wr mr mw me lo ac "});
    tu_assert_clean(e->m);
}

static void test_fork_halves_pss(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 4, PRIV, -1);
    for (unsigned i = 0; i < 4; i++)
        tu_store_byte(e->t, a + i * PG, 3);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    tu_store_byte(child, a + 3 * PG, 9);
    /* Three pages shared (Pss 2 kB each), one copied; the child's PTEs were
     * copied old, so only its written page is Referenced. */
    assert_smaps(child, a, &(struct counts){.size = 16, .rss = 16, .pss = 10, .pss_dirty = 10,
                                            .shared_dirty = 12, .private_dirty = 4,
                                            .referenced = 4, .anonymous = 16,
                                            .flags = "rd wr mr mw me ac "});
    assert_smaps(e->t, a, &(struct counts){.size = 16, .rss = 16, .pss = 10, .pss_dirty = 10,
                                           .shared_dirty = 12, .private_dirty = 4,
                                           .referenced = 16, .anonymous = 16,
                                           .flags = "rd wr mr mw me ac "});
    assert_int_equal(pagemap1(child, a), PM_PRESENT | frame_of(child, a));
    assert_int_equal(frame_of(child, a), frame_of(e->t, a));
    assert_int_equal(pagemap1(child, a + 3 * PG), PM_PRESENT | PM_EXCLUSIVE | frame_of(child, a + 3 * PG));
    vms_exit(child);
    tu_assert_clean(e->m);
}

static void test_swapped_pages(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 4, PRIV, -1);
    for (unsigned i = 0; i < 4; i++)
        tu_store_byte(e->t, a + i * PG, 5);
    assert_int_equal(vms_madvise(e->t, a, 2 * PG, MADV_PAGEOUT), 0);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .rss = 8, .pss = 8, .pss_dirty = 8,
                                           .private_dirty = 8, .referenced = 8, .anonymous = 8,
                                           .swap = 8, .swap_pss = 8, .flags = "rd wr mr mw me ac "});
    /* Swap type 0, offsets 1 and 2 (slot 0 is the header): host 0x20, 0x40. */
    assert_int_equal(pagemap1(e->t, a), PM_SWAP | 0x20);
    assert_int_equal(pagemap1(e->t, a + PG), PM_SWAP | 0x40);
    /* A read brings page 0 back clean; a write brings page 1 back dirty. */
    assert_int_equal(tu_load_byte(e->t, a), 5);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .rss = 12, .pss = 12, .pss_dirty = 8,
                                           .private_clean = 4, .private_dirty = 8,
                                           .referenced = 12, .anonymous = 12, .swap = 4,
                                           .swap_pss = 4, .flags = "rd wr mr mw me ac "});
    tu_store_byte(e->t, a + PG, 1);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .rss = 16, .pss = 16, .pss_dirty = 12,
                                           .private_clean = 4, .private_dirty = 12,
                                           .referenced = 16, .anonymous = 16,
                                           .flags = "rd wr mr mw me ac "});
    assert_int_equal(pagemap1(e->t, a), PM_PRESENT | PM_EXCLUSIVE | frame_of(e->t, a));
    tu_assert_clean(e->m);
}

static void test_swapped_then_forked_halves_swap_pss(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 4, PRIV, -1);
    for (unsigned i = 0; i < 4; i++)
        tu_store_byte(e->t, a + i * PG, 6);
    assert_int_equal(vms_madvise(e->t, a, 4 * PG, MADV_PAGEOUT), 0);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    assert_smaps(e->t, a, &(struct counts){.size = 16, .swap = 16, .swap_pss = 8,
                                           .flags = "rd wr mr mw me ac "});
    struct vms_walk w;
    assert_int_equal(vms_walk(child, a + 3 * PG, &w), 0);
    assert_true(w.swap);
    assert_int_equal(pagemap1(child, a + 3 * PG), PM_SWAP | (w.swap_offset << 5) | w.swap_type);
    vms_exit(child);
    tu_assert_clean(e->m);
}

static void test_guard_region_and_the_end_of_user_space(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1);
    vms_addr a = alone(e->t, 2, PRIV, -1);
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_GUARD_INSTALL), 0);
    /* Host, as root: 440000000000009f (a PTE marker's swap type and offset). */
    assert_int_equal(pagemap1(e->t, a), 0x440000000000009fULL);
    assert_int_equal(pagemap1(e->t, a + PG), 0);
    machine(e, 0);
    a = alone(e->t, 2, PRIV, -1);
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_GUARD_INSTALL), 0);
    assert_int_equal(pagemap1(e->t, a), PM_SWAP | PM_GUARD); /* as nobody */
    uint64_t pm[4] = {1, 1, 1, 1};
    /* Entries stop at the end of user space (0x7ffffffff000). */
    assert_int_equal(vms_pagemap(e->t, 0x7fffffffe000ULL, pm, 4), 1);
    assert_int_equal(pm[0], 0);
    assert_int_equal(pm[1], 1);
    assert_int_equal(vms_pagemap(e->t, 0x800000000000ULL, pm, 4), 0);
    tu_assert_clean(e->m);
}

static void test_protection_key_line_with_pku(void **state)
{
    struct tu_env *e = *state;
    machine(e, 0);
    vms_machine_destroy(e->m);
    struct vms_config c = tu_config(64 * MIB);
    c.root = e->root;
    c.pku = 1;
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    vms_addr x = tu_anon(e->t, PG, PROT_EXEC);
    vms_addr r = tu_anon(e->t, PG, PROT_READ);
    char *got = smaps_block(e->t, x);
    assert_non_null(strstr(got, "THPeligible:           0\nProtectionKey:         1\nVmFlags: ex mr mw me \n"));
    free(got);
    got = smaps_block(e->t, r);
    assert_non_null(strstr(got, "ProtectionKey:         0\nVmFlags: rd mr mw me \n"));
    free(got);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_env_setup, tu_env_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_anonymous_memory),
        T(test_unprivileged_reader_sees_no_frame),
        T(test_file_private_read_and_written),
        T(test_file_shared_written),
        T(test_shared_anonymous_written_and_clean),
        T(test_locked),
        T(test_fork_halves_pss),
        T(test_swapped_pages),
        T(test_swapped_then_forked_halves_swap_pss),
        T(test_guard_region_and_the_end_of_user_space),
        T(test_protection_key_line_with_pku),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
