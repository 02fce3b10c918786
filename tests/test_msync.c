/*
 * test_msync.c - msync and mincore, as Linux 6.x on x86-64 answers them for
 * files on ext4 and for anonymous memory: their errno and its priority,
 * msync over holes (ENOMEM, yet both sides written), MS_INVALIDATE against
 * locked memory (EBUSY), which calls write a dirty page back and
 * write-protect it (MS_SYNC, fsync, sync: the next write faults again;
 * MS_ASYNC: it does not), and the residency mincore reports (page-cache
 * residency for file mappings, present PTEs for anonymous ones).
 *
 * Every test runs in a new scratch folder that is the machine's root, and a
 * new machine.
 */
#include "testutil.h"

#include <errno.h>

#define PG 4096ULL
#define RW (PROT_READ | PROT_WRITE)
#define BASE 0x200000000ULL
#define UNMAPPED 0x10000000ULL
#define TASK_SIZE 0x7ffffffff000ULL
#define MS_UNKNOWN 0x8

static const char *host_path(const struct tu_env *e, const char *name, char *buf, size_t size)
{
    return tu_join(buf, size, e->root, name);
}

/* A file "f" of `pages` pages of 'a', opened read-write. */
static int file_of_a(struct tu_env *e, uint64_t pages)
{
    char path[400];
    tu_host_fill_byte(host_path(e, "f", path, sizeof(path)), pages * PG, 'a');
    int fd = vms_open(e->t, "f", O_RDWR, 0);
    assert_int_equal(fd, 3);
    return fd;
}

static vms_addr map_fixed(struct tu_env *e, vms_addr addr, uint64_t len, int prot, int flags, int fd,
                          int64_t off)
{
    assert_int_equal(vms_mmap(e->t, addr, len, prot, flags | MAP_FIXED, fd, off), (int64_t)addr);
    return addr;
}

/* A shared read-write mapping of all `pages` pages of "f", at BASE, with
 * the file already in the page cache (so that faults are minor ones). */
static vms_addr shared_file(struct tu_env *e, uint64_t pages)
{
    int fd = file_of_a(e, pages);
    vms_addr buf = tu_anon(e->t, pages * PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, pages * PG, 0), (int64_t)(pages * PG));
    assert_int_equal(vms_munmap(e->t, buf, pages * PG), 0);
    return map_fixed(e, BASE, pages * PG, RW, MAP_SHARED, fd, 0);
}

static void store_text(struct tu_env *e, vms_addr va, const char *text)
{
    assert_int_equal(vms_store(e->t, va, text, strlen(text)), 0);
}

static void assert_host_text(const struct tu_env *e, off_t off, const char *text)
{
    char path[400], got[64] = {0};
    size_t n = strlen(text);
    assert_int_equal(tu_host_read(host_path(e, "f", path, sizeof(path)), got, n, off), (ssize_t)n);
    assert_string_equal(got, text);
}

/* ---- msync: errno ---- */

static void test_msync_of_an_unaligned_address_is_einval(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(vms_msync(e->t, p + 1, PG, MS_SYNC), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_msync_with_bad_flags_is_einval(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(vms_msync(e->t, p, PG, MS_ASYNC | MS_SYNC), -EINVAL);
    assert_int_equal(vms_msync(e->t, p, PG, MS_UNKNOWN), -EINVAL);
    assert_int_equal(vms_msync(e->t, UNMAPPED, PG, MS_ASYNC | MS_SYNC), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_msync_with_flags_0_or_invalidate_alone_succeeds(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(vms_msync(e->t, p, PG, 0), 0);
    assert_int_equal(vms_msync(e->t, p, PG, MS_INVALIDATE), 0);
    tu_assert_clean(e->m);
}

/* Length 0 succeeds even where nothing is mapped, but the address and the
 * flags are checked first. */
static void test_msync_of_length_0(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(vms_msync(e->t, p, 0, MS_SYNC), 0);
    assert_int_equal(vms_msync(e->t, UNMAPPED, 0, MS_SYNC), 0);
    assert_int_equal(vms_msync(e->t, p + 1, 0, MS_SYNC), -EINVAL);
    assert_int_equal(vms_msync(e->t, p, 0, MS_ASYNC | MS_SYNC), -EINVAL);
    tu_assert_clean(e->m);
}

/* A length within a page of 2^64 rounds up to 0: nothing to do (host: 0). */
static void test_msync_of_a_length_that_rounds_to_0_succeeds(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(vms_msync(e->t, p, UINT64_MAX, MS_SYNC), 0);
    assert_int_equal(vms_msync(e->t, UNMAPPED, UINT64_MAX - 4094, MS_ASYNC), 0);
    tu_assert_clean(e->m);
}

static void test_msync_length_is_rounded_up_to_whole_pages(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 2);
    store_text(e, p + 3000, "synced");
    assert_int_equal(vms_msync(e->t, p, 100, MS_SYNC), 0);
    assert_host_text(e, 3000, "synced");
    tu_assert_clean(e->m);
}

static void test_msync_of_unmapped_memory_is_enomem(void **state)
{
    struct tu_env *e = *state;
    assert_int_equal(vms_msync(e->t, UNMAPPED, PG, MS_SYNC), -ENOMEM);
    assert_int_equal(vms_msync(e->t, UNMAPPED, PG, MS_ASYNC), -ENOMEM);
    assert_int_equal(vms_msync(e->t, (vms_addr)-4096, 2 * PG, MS_SYNC), -ENOMEM);
    assert_int_equal(vms_msync(e->t, TASK_SIZE + PG, PG, MS_SYNC), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_msync_of_anonymous_and_prot_none_memory_succeeds(void **state)
{
    struct tu_env *e = *state;
    vms_addr anon = tu_anon(e->t, PG, RW);
    tu_store_byte(e->t, anon, 1);
    assert_int_equal(vms_msync(e->t, anon, PG, MS_SYNC), 0);
    vms_addr none = map_fixed(e, BASE, PG, PROT_NONE, MAP_SHARED, file_of_a(e, 1), 0);
    assert_int_equal(vms_msync(e->t, none, PG, MS_SYNC), 0);
    tu_assert_clean(e->m);
}

/* ---- msync over holes ---- */

/* Pages 0, 1, 3 mapped, 2 not, each dirtied with "pN". */
static vms_addr map_with_hole_at_2(struct tu_env *e)
{
    vms_addr p = shared_file(e, 4);
    store_text(e, p, "p0");
    store_text(e, p + PG, "p1");
    store_text(e, p + 3 * PG, "p3");
    assert_int_equal(vms_munmap(e->t, p + 2 * PG, PG), 0);
    return p;
}

/* MS_SYNC goes on past the hole, so both sides are written (and
 * write-protected), and the result is ENOMEM all the same. */
static void test_ms_sync_over_a_hole_syncs_both_sides_and_is_enomem(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = map_with_hole_at_2(e);
    assert_int_equal(vms_msync(e->t, p, 4 * PG, MS_SYNC), -ENOMEM);
    assert_host_text(e, 0, "p0a");
    assert_host_text(e, (off_t)PG, "p1a");
    assert_host_text(e, (off_t)(3 * PG), "p3a");
    assert_int_equal(tu_fault_cost(e->t, p + PG, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p + 3 * PG, 1), '1');
    tu_assert_clean(e->m);
}

static void test_ms_sync_starting_in_a_hole_syncs_what_follows_and_is_enomem(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = map_with_hole_at_2(e);
    assert_int_equal(vms_msync(e->t, p + 2 * PG, 2 * PG, MS_SYNC), -ENOMEM);
    assert_host_text(e, (off_t)(3 * PG), "p3a");
    assert_host_text(e, 0, "aaa"); /* before the range: still only in the cache */
    assert_int_equal(tu_fault_cost(e->t, p + 3 * PG, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    tu_assert_clean(e->m);
}

static void test_msync_ending_in_a_hole_is_enomem(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = map_with_hole_at_2(e);
    assert_int_equal(vms_msync(e->t, p, 3 * PG, MS_ASYNC), -ENOMEM);
    assert_int_equal(vms_msync(e->t, p, 3 * PG, MS_SYNC), -ENOMEM);
    assert_host_text(e, (off_t)PG, "p1a");
    assert_host_text(e, (off_t)(3 * PG), "aaa"); /* beyond the range */
    tu_assert_clean(e->m);
}

/* ---- MS_INVALIDATE and locked memory ---- */

static void test_ms_invalidate_on_locked_memory_is_ebusy(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = map_fixed(e, BASE, 2 * PG, RW, MAP_SHARED | MAP_LOCKED, file_of_a(e, 2), 0);
    assert_int_equal(vms_msync(e->t, p, 2 * PG, MS_INVALIDATE), -EBUSY);
    assert_int_equal(vms_msync(e->t, p, 2 * PG, MS_SYNC | MS_INVALIDATE), -EBUSY);
    assert_int_equal(vms_msync(e->t, p, 2 * PG, MS_SYNC), 0);
    vms_addr anon = tu_mmap(e->t, 0, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED);
    assert_int_equal(vms_msync(e->t, anon, PG, MS_INVALIDATE), -EBUSY);
    tu_assert_clean(e->m);
}

/* EBUSY beats the ENOMEM of a hole before the locked part. */
static void test_ms_invalidate_over_a_hole_then_locked_memory_is_ebusy(void **state)
{
    struct tu_env *e = *state;
    int fd = file_of_a(e, 3);
    map_fixed(e, BASE, PG, RW, MAP_SHARED, fd, 0);
    map_fixed(e, BASE + 2 * PG, PG, RW, MAP_SHARED | MAP_LOCKED, fd, 2 * (int64_t)PG);
    assert_int_equal(vms_msync(e->t, BASE, 3 * PG, MS_INVALIDATE), -EBUSY);
    assert_int_equal(vms_msync(e->t, BASE, 2 * PG, MS_INVALIDATE), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_ms_invalidate_keeps_a_private_copy(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = map_fixed(e, BASE, PG, RW, MAP_PRIVATE, file_of_a(e, 1), 0);
    tu_store_byte(e->t, p, 'P');
    assert_int_equal(vms_msync(e->t, p, PG, MS_INVALIDATE), 0);
    assert_int_equal(tu_load_byte(e->t, p), 'P');
    assert_host_text(e, 0, "a");
    tu_assert_clean(e->m);
}

/* ---- write-back and write-protection ---- */

static void test_ms_sync_write_protects_so_the_next_write_faults(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    assert_int_equal(vms_msync(e->t, p, PG, MS_SYNC), 0);
    assert_host_text(e, 0, "wa");
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    tu_assert_clean(e->m);
}

/* A cleaned page is still mapped for reading. */
static void test_read_after_ms_sync_does_not_fault(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(vms_msync(e->t, p, PG, MS_SYNC), 0);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '0');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    tu_assert_clean(e->m);
}

/* MS_ASYNC leaves the page dirty and writable: no fault, now or later. */
static void test_ms_async_leaves_the_page_writable(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    uint64_t before = tu_minflt(e->t);
    assert_int_equal(vms_msync(e->t, p, PG, MS_ASYNC), 0);
    assert_int_equal(tu_minflt(e->t), before);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    tu_assert_clean(e->m);
}

static void test_fsync_write_protects_like_ms_sync(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(vms_fsync(e->t, 3), 0);
    assert_host_text(e, 0, "wa");
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    tu_assert_clean(e->m);
}

static void test_sync_write_protects_like_ms_sync(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 1);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(vms_sync(e->m), 0);
    assert_host_text(e, 0, "wa");
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    tu_assert_clean(e->m);
}

/* Only the pages in the range are written and write-protected. */
static void test_ms_sync_writes_only_its_range(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = shared_file(e, 2);
    store_text(e, p, "p0");
    store_text(e, p + PG, "p1");
    assert_int_equal(vms_msync(e->t, p, PG, MS_SYNC), 0);
    assert_host_text(e, 0, "p0a");
    assert_host_text(e, (off_t)PG, "aaa");
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p + PG, 1), '0');
    tu_assert_clean(e->m);
}

/* A second mapping's dirty page is written through the file, and its PTE
 * is write-protected too. */
static void test_ms_sync_cleans_the_page_in_every_mapping(void **state)
{
    struct tu_env *e = *state;
    int fd = file_of_a(e, 1);
    vms_addr a = map_fixed(e, BASE, PG, RW, MAP_SHARED, fd, 0);
    vms_addr b = map_fixed(e, BASE + 16 * PG, PG, RW, MAP_SHARED, fd, 0);
    store_text(e, b, "bb");
    assert_int_equal(vms_msync(e->t, a, PG, MS_SYNC), 0);
    assert_host_text(e, 0, "bba");
    assert_int_equal(tu_fault_cost(e->t, b, 1), '1');
    tu_assert_clean(e->m);
}

/* ---- mincore: errno ---- */

static void test_mincore_of_an_unaligned_address_is_einval(void **state)
{
    struct tu_env *e = *state;
    unsigned char vec[2] = {0xee, 0xee};
    vms_addr p = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_mincore(e->t, p + 1, PG, vec), -EINVAL);
    assert_int_equal(vms_mincore(e->t, p + 1, 0, vec), -EINVAL);
    assert_int_equal(vms_mincore(e->t, p + 1, PG, NULL), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mincore_of_length_0_succeeds_anywhere(void **state)
{
    struct tu_env *e = *state;
    unsigned char vec[1] = {0xee};
    vms_addr p = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_mincore(e->t, p, 0, vec), 0);
    assert_int_equal(vms_mincore(e->t, UNMAPPED, 0, vec), 0);
    assert_int_equal(vec[0], 0xee);
    assert_int_equal(vms_mincore(e->t, p, 1, vec), 0); /* one byte is one page */
    assert_int_equal(vec[0], 0);
    tu_assert_clean(e->m);
}

/* An unmapped range is ENOMEM, before the vector is looked at. */
static void test_mincore_of_unmapped_memory_is_enomem(void **state)
{
    struct tu_env *e = *state;
    unsigned char vec[4];
    vms_addr p = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_mincore(e->t, UNMAPPED, PG, vec), -ENOMEM);
    assert_int_equal(vms_mincore(e->t, UNMAPPED, PG, NULL), -ENOMEM);
    assert_int_equal(vms_mincore(e->t, TASK_SIZE + PG, PG, vec), -ENOMEM);
    assert_int_equal(vms_mincore(e->t, TASK_SIZE, 2 * PG, vec), -ENOMEM);
    assert_int_equal(vms_mincore(e->t, p, (uint64_t)-4096, vec), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mincore_with_no_vector_is_efault(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_mincore(e->t, p, PG, NULL), -EFAULT);
    tu_assert_clean(e->m);
}

/* The pages before a hole are reported; the rest of the vector is left. */
static void test_mincore_over_a_hole_fills_the_part_before_it(void **state)
{
    struct tu_env *e = *state;
    unsigned char vec[3] = {0xee, 0xee, 0xee};
    vms_addr p = tu_anon(e->t, 3 * PG, RW);
    tu_store_byte(e->t, p, 1);
    tu_store_byte(e->t, p + 2 * PG, 1);
    assert_int_equal(vms_munmap(e->t, p + PG, PG), 0);
    assert_int_equal(vms_mincore(e->t, p, 3 * PG, vec), -ENOMEM);
    assert_int_equal(vec[0], 1);
    assert_int_equal(vec[1], 0xee);
    assert_int_equal(vec[2], 0xee);
    tu_assert_clean(e->m);
}

/* ---- mincore: anonymous memory ---- */

static void assert_residency(struct tu_env *e, vms_addr start, int pages, const char *want)
{
    char got[64];
    tu_residency(e->t, start, pages, got);
    assert_string_equal(got, want);
}

/* Written pages and pages read through the zero page are resident. */
static void test_mincore_of_private_anonymous_memory(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = tu_anon(e->t, 4 * PG, RW);
    assert_residency(e, p, 4, "0000");
    tu_store_byte(e->t, p, 1);
    (void)tu_load_byte(e->t, p + PG);
    assert_residency(e, p, 4, "1100");
    tu_assert_clean(e->m);
}

static void test_mincore_of_shared_anonymous_memory(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = tu_mmap(e->t, 0, 4 * PG, RW, MAP_SHARED | MAP_ANONYMOUS);
    assert_residency(e, p, 4, "0000");
    tu_store_byte(e->t, p, 1);
    (void)tu_load_byte(e->t, p + PG);
    assert_residency(e, p, 4, "1100");
    tu_assert_clean(e->m);
}

/* PROT_NONE hides nothing from mincore: a page written before is resident. */
static void test_mincore_of_prot_none_anonymous_memory(void **state)
{
    struct tu_env *e = *state;
    vms_addr none = tu_anon(e->t, 2 * PG, PROT_NONE);
    assert_residency(e, none, 2, "00");
    vms_addr p = tu_anon(e->t, 2 * PG, RW);
    tu_store_byte(e->t, p, 1);
    assert_int_equal(vms_mprotect(e->t, p, 2 * PG, PROT_NONE), 0);
    assert_residency(e, p, 2, "10");
    tu_assert_clean(e->m);
}

/* ---- mincore: files report the page cache ---- */

/* An 8-page file of which a 4 KiB pread() from offset 0 has cached pages
 * 0..3 (readahead); nothing is mapped yet. */
static int half_cached_file(struct tu_env *e)
{
    int fd = file_of_a(e, 8);
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, PG, 0), (int64_t)PG);
    return fd;
}

static void test_mincore_of_a_file_mapping_reports_the_page_cache(void **state)
{
    struct tu_env *e = *state;
    int fd = half_cached_file(e);
    vms_addr shared = map_fixed(e, BASE, 8 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_residency(e, shared, 8, "11110000");
    vms_addr none = map_fixed(e, BASE + 16 * PG, 8 * PG, PROT_NONE, MAP_PRIVATE, fd, 0);
    assert_residency(e, none, 8, "11110000");
    vms_addr priv = map_fixed(e, BASE + 32 * PG, 8 * PG, RW, MAP_PRIVATE, fd, 0);
    assert_residency(e, priv, 8, "11110000");
    tu_assert_clean(e->m);
}

/* A private copy counts as resident; the fault that made it read the file
 * around it into the cache, which every mapping of the file now reports. */
static void test_mincore_after_a_private_copy_of_an_uncached_page(void **state)
{
    struct tu_env *e = *state;
    int fd = half_cached_file(e);
    vms_addr priv = map_fixed(e, BASE, 8 * PG, RW, MAP_PRIVATE, fd, 0);
    tu_store_byte(e->t, priv + 5 * PG, 'P');
    assert_residency(e, priv, 8, "11111111");
    vms_addr shared = map_fixed(e, BASE + 16 * PG, 8 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_residency(e, shared, 8, "11111111");
    tu_assert_clean(e->m);
}

static void test_mincore_reports_pages_beyond_eof_as_not_resident(void **state)
{
    struct tu_env *e = *state;
    int fd = file_of_a(e, 8);
    vms_addr buf = tu_anon(e->t, 8 * PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 8 * PG, 0), (int64_t)(8 * PG));
    vms_addr shared = map_fixed(e, BASE, 12 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_residency(e, shared, 12, "111111110000");
    vms_addr priv = map_fixed(e, BASE + 16 * PG, 12 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_residency(e, priv, 12, "111111110000");
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_env_setup, tu_env_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_msync_of_an_unaligned_address_is_einval),
        T(test_msync_with_bad_flags_is_einval),
        T(test_msync_with_flags_0_or_invalidate_alone_succeeds),
        T(test_msync_of_length_0),
        T(test_msync_of_a_length_that_rounds_to_0_succeeds),
        T(test_msync_length_is_rounded_up_to_whole_pages),
        T(test_msync_of_unmapped_memory_is_enomem),
        T(test_msync_of_anonymous_and_prot_none_memory_succeeds),
        T(test_ms_sync_over_a_hole_syncs_both_sides_and_is_enomem),
        T(test_ms_sync_starting_in_a_hole_syncs_what_follows_and_is_enomem),
        T(test_msync_ending_in_a_hole_is_enomem),
        T(test_ms_invalidate_on_locked_memory_is_ebusy),
        T(test_ms_invalidate_over_a_hole_then_locked_memory_is_ebusy),
        T(test_ms_invalidate_keeps_a_private_copy),
        T(test_ms_sync_write_protects_so_the_next_write_faults),
        T(test_read_after_ms_sync_does_not_fault),
        T(test_ms_async_leaves_the_page_writable),
        T(test_fsync_write_protects_like_ms_sync),
        T(test_sync_write_protects_like_ms_sync),
        T(test_ms_sync_writes_only_its_range),
        T(test_ms_sync_cleans_the_page_in_every_mapping),
        T(test_mincore_of_an_unaligned_address_is_einval),
        T(test_mincore_of_length_0_succeeds_anywhere),
        T(test_mincore_of_unmapped_memory_is_enomem),
        T(test_mincore_with_no_vector_is_efault),
        T(test_mincore_over_a_hole_fills_the_part_before_it),
        T(test_mincore_of_private_anonymous_memory),
        T(test_mincore_of_shared_anonymous_memory),
        T(test_mincore_of_prot_none_anonymous_memory),
        T(test_mincore_of_a_file_mapping_reports_the_page_cache),
        T(test_mincore_after_a_private_copy_of_an_uncached_page),
        T(test_mincore_reports_pages_beyond_eof_as_not_resident),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
