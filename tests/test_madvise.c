/*
 * test_madvise.c - madvise as Linux 6.x on x86-64 answers it (every value
 * here was first taken from the host kernel): what DONTNEED, DONTNEED_LOCKED,
 * FREE, PAGEOUT, COLD, WILLNEED, REMOVE, POPULATE_READ/WRITE and the guard
 * advice do to the pages of each kind of mapping (data, faults, mincore);
 * how the advice kept in VMA flags splits and merges VMAs; DONTFORK and
 * WIPEONFORK seen through fork; the errno of each refusal and of bad
 * arguments; and ranges with holes, advised in their mapped parts before
 * ENOMEM. Mappings are placed with MAP_FIXED at 0x30000000 so that maps
 * lines are exact.
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

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

struct env {
    vms_machine *m;
    vms_task *t;
    char dir[PATH_MAX];
    char root[PATH_MAX];
};

static int setup_with(void **state, const struct vms_config *c)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    struct vms_config cfg = *c;
    cfg.root = e->root;
    e->m = tu_machine_with(&cfg);
    e->t = tu_spawn(e->m);
    *state = e;
    return 0;
}

static int setup(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    return setup_with(state, &c);
}

/* The disk of the host the values were taken on: read_ahead_kb 8192,
 * max_sectors_kb 4096. */
static int setup_host_disk(void **state)
{
    struct vms_config c = tu_config(64ULL << 20);
    tu_measuring_host_disk(&c);
    return setup_with(state, &c);
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

static void assert_unmapped(vms_task *t, vms_addr va)
{
    uint8_t v;
    assert_int_equal(vms_load(t, va, &v, 1), SIGSEGV);
    tu_assert_fault(t, SIGSEGV, SEGV_MAPERR, va);
}

/* madvise that must give expected without faulting anything. */
static void advise(struct env *e, vms_addr addr, uint64_t len, int advice, int expected)
{
    uint64_t before = tu_minflt(e->t);
    assert_int_equal(vms_madvise(e->t, addr, len, advice), expected);
    assert_int_equal(tu_minflt(e->t), before);
    tu_assert_clean(e->m);
}

/* madvise that must give expected after `faults` minor faults. */
static void advise_faulting(struct env *e, vms_addr addr, uint64_t len, int advice, int expected,
                            uint64_t faults)
{
    uint64_t before = tu_minflt(e->t);
    assert_int_equal(vms_madvise(e->t, addr, len, advice), expected);
    assert_int_equal(tu_minflt(e->t) - before, faults);
    tu_assert_clean(e->m);
}

static void assert_residency(vms_task *t, vms_addr start, const char *expected)
{
    char got[128];
    int pages = (int)strlen(expected);
    assert_true(pages < (int)sizeof(got));
    tu_residency(t, start, pages, got);
    assert_string_equal(got, expected);
}

static void assert_costs(vms_task *t, vms_addr start, int write, const char *expected)
{
    char got[128];
    int pages = (int)strlen(expected);
    assert_true(pages < (int)sizeof(got));
    tu_fault_pattern(t, start, pages, write, got);
    assert_string_equal(got, expected);
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

static void map_file_at(struct env *e, vms_addr addr, uint64_t len, int prot, int flags, int fd)
{
    assert_int_equal(vms_mmap(e->t, addr, len, prot, flags | MAP_FIXED, fd, 0), (int64_t)addr);
}

/* How many pages of [start, start + pages) mincore reports resident, and the
 * first and last of them. */
static int count_resident(vms_task *t, vms_addr start, int pages, int *first, int *last)
{
    unsigned char *vec = malloc((size_t)pages);
    assert_non_null(vec);
    assert_int_equal(vms_mincore(t, start, (uint64_t)pages * PG, vec), 0);
    int n = 0;
    *first = *last = -1;
    for (int i = 0; i < pages; i++) {
        if (!(vec[i] & 1))
            continue;
        n++;
        if (*first < 0)
            *first = i;
        *last = i;
    }
    free(vec);
    return n;
}

/* ---- DONTNEED ---- */

static void test_madvise_dontneed_private_anon_reads_zeros_after_a_fault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_DONTNEED, 0);
    tu_assert_maps(e->t, "30000000-30004000 rw-p 00000000 00:00 0 \n");
    assert_residency(e->t, V, "1001");
    assert_costs(e->t, V, 0, "0110");
    assert_byte(e->t, V + PG, 0);
    assert_byte(e->t, V + 3 * PG, 0x13);
    tu_assert_clean(e->m);
}

/* The private copies go; the page cache still holds the file. */
static void test_madvise_dontneed_private_file_reads_the_file_again(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_PRIVATE, fd);
    fill_pages(e->t, V, 4, 0x70);
    advise(e, V, 4 * PG, MADV_DONTNEED, 0);
    assert_residency(e->t, V, "1111");
    assert_costs(e->t, V, 0, "1000");
    assert_byte(e->t, V + PG, tu_pattern(PG));
    tu_assert_clean(e->m);
}

static void test_madvise_dontneed_shared_anon_keeps_the_data(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V, 4 * PG, MADV_DONTNEED, 0);
    assert_residency(e->t, V, "1111");
    assert_costs(e->t, V, 0, "1000");
    assert_byte(e->t, V + PG, 0x11);
    tu_assert_clean(e->m);
}

static void test_madvise_dontneed_shared_file_keeps_the_data(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_SHARED, fd);
    fill_pages(e->t, V, 4, 0x70);
    advise(e, V, 4 * PG, MADV_DONTNEED, 0);
    assert_residency(e->t, V, "1111");
    assert_costs(e->t, V, 0, "1000");
    assert_byte(e->t, V + PG, 0x71);
    tu_assert_clean(e->m);
}

static void test_madvise_dontneed_of_locked_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    fill_pages(e->t, V, 2, 0x10);
    advise(e, V, 2 * PG, MADV_DONTNEED, -EINVAL);
    assert_byte(e->t, V, 0x10);
    tu_assert_clean(e->m);
}

/* The pages go and are not populated again, though the VMA stays locked. */
static void test_madvise_dontneed_locked_drops_locked_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    fill_pages(e->t, V, 2, 0x10);
    advise(e, V, 2 * PG, MADV_DONTNEED_LOCKED, 0);
    assert_residency(e->t, V, "00");
    assert_costs(e->t, V, 0, "11");
    assert_byte(e->t, V, 0);
    tu_assert_clean(e->m);
}

static void test_madvise_dontneed_over_a_hole_zaps_both_sides_then_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 1);
    fill_pages(e->t, V + 3 * PG, 2, 3);
    advise(e, V, 5 * PG, MADV_DONTNEED, -ENOMEM);
    assert_residency(e->t, V, "00");
    assert_residency(e->t, V + 3 * PG, "00");
    tu_assert_clean(e->m);
}

static void test_madvise_dontneed_of_only_a_hole_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, 2 * PG, RW, PA);
    advise(e, V + 2 * PG, PG, MADV_DONTNEED, -ENOMEM);
    advise(e, V + 2 * PG, 2 * PG, MADV_DONTNEED, -ENOMEM);
}

/* ---- locked and PROT_NONE memory ---- */

static void test_madvise_advice_that_drops_pages_of_locked_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    advise(e, V, 2 * PG, MADV_FREE, -EINVAL);
    advise(e, V, 2 * PG, MADV_REMOVE, -EINVAL);
    advise(e, V, 2 * PG, MADV_COLD, -EINVAL);
    advise(e, V, 2 * PG, MADV_PAGEOUT, -EINVAL);
    advise(e, V, 2 * PG, MADV_GUARD_INSTALL, -EINVAL);
    assert_residency(e->t, V, "11");
}

static void test_madvise_willneed_and_populate_of_locked_memory_succeed(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA | MAP_LOCKED);
    advise(e, V, 2 * PG, MADV_WILLNEED, 0);
    advise(e, V, 2 * PG, MADV_POPULATE_READ, 0);
}

static void test_madvise_page_advice_on_prot_none_memory_succeeds(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, PROT_NONE, PA);
    advise(e, V, 2 * PG, MADV_DONTNEED, 0);
    advise(e, V, 2 * PG, MADV_FREE, 0);
    advise(e, V, 2 * PG, MADV_WILLNEED, 0);
    advise(e, V, 2 * PG, MADV_PAGEOUT, 0);
}

static void test_madvise_populate_of_prot_none_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, PROT_NONE, PA);
    advise(e, V, 2 * PG, MADV_POPULATE_READ, -EINVAL);
    advise(e, V, 2 * PG, MADV_POPULATE_WRITE, -EINVAL);
    assert_residency(e->t, V, "00");
}

/* mincore reports residency whatever the protection. */
static void test_madvise_dontneed_of_prot_none_private_memory_shows_in_mincore(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 1);
    assert_int_equal(vms_mprotect(e->t, V, 2 * PG, PROT_NONE), 0);
    assert_residency(e->t, V, "11");
    advise(e, V + PG, PG, MADV_DONTNEED, 0);
    assert_residency(e->t, V, "10");
}

/* The object keeps the page through DONTNEED; REMOVE needs only
 * VM_MAYWRITE, which PROT_NONE keeps. */
static void test_madvise_remove_of_prot_none_shared_memory_empties_it(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    tu_store_byte(e->t, V, 1);
    assert_int_equal(vms_mprotect(e->t, V, 2 * PG, PROT_NONE), 0);
    assert_residency(e->t, V, "10");
    advise(e, V, 2 * PG, MADV_DONTNEED, 0);
    assert_residency(e->t, V, "10");
    advise(e, V, 2 * PG, MADV_REMOVE, 0);
    assert_residency(e->t, V, "00");
}

/* ---- FREE, PAGEOUT, COLD ---- */

/* Without memory pressure nothing is reclaimed: the data stays readable and
 * writable without a fault. */
static void test_madvise_free_private_anon_keeps_the_data_without_reclaim(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V, 4 * PG, MADV_FREE, 0);
    assert_residency(e->t, V, "1111");
    assert_costs(e->t, V, 0, "0000");
    assert_byte(e->t, V + PG, 0x11);
    assert_costs(e->t, V, 1, "0000");
    tu_assert_clean(e->m);
}

static void test_madvise_free_of_untouched_memory_succeeds(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    advise(e, V, 2 * PG, MADV_FREE, 0);
    assert_residency(e->t, V, "00");
}

static void test_madvise_free_of_read_only_private_anon_succeeds(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, PROT_READ, PA);
    advise(e, V, 2 * PG, MADV_FREE, 0);
}

static void test_madvise_free_of_shared_anon_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    tu_store_byte(e->t, V, 1);
    advise(e, V, 2 * PG, MADV_FREE, -EINVAL);
    assert_byte(e->t, V, 1);
}

static void test_madvise_free_of_private_file_is_einval(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 2 * PG, RW, MAP_PRIVATE, fd);
    tu_store_byte(e->t, V, 1);
    advise(e, V, 2 * PG, MADV_FREE, -EINVAL);
}

static void test_madvise_free_of_shared_file_is_einval(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 2 * PG, RW, MAP_SHARED, fd);
    advise(e, V, 2 * PG, MADV_FREE, -EINVAL);
}

static void test_madvise_free_running_into_shared_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 2 * PG, 2 * PG, RW, SA);
    tu_store_byte(e->t, V, 1);
    advise(e, V, 4 * PG, MADV_FREE, -EINVAL);
}

static void test_madvise_free_over_a_hole_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + 8 * PG, PG, MADV_FREE, -ENOMEM);
}

/* With no swap, reclaim keeps dirty anonymous pages. */
static void test_madvise_pageout_keeps_dirty_anon_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V, 4 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "1111");
    assert_byte(e->t, V + 2 * PG, 0x12);
}

/* Clean MADV_FREE pages are dropped: the next touch finds zeros. */
static void test_madvise_pageout_drops_lazily_freed_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V, 4 * PG, MADV_FREE, 0);
    advise(e, V, 4 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "0000");
    assert_costs(e->t, V, 0, "1111");
    assert_byte(e->t, V + PG, 0);
    tu_assert_clean(e->m);
}

/* A page written after MADV_FREE is dirty again: reclaim keeps it. */
/* Reading does not dirty a page again: reclaim still drops it. */
static void test_madvise_pageout_drops_a_lazily_freed_page_that_was_only_read(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    advise(e, V, 2 * PG, MADV_FREE, 0);
    assert_byte(e->t, V, 0x10);
    advise(e, V, 2 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "00");
    assert_byte(e->t, V, 0);
    tu_assert_clean(e->m);
}

static void test_madvise_pageout_keeps_a_page_written_after_free(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    advise(e, V, 2 * PG, MADV_FREE, 0);
    tu_store_byte(e->t, V, 0x55);
    advise(e, V, 2 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "10");
    assert_byte(e->t, V, 0x55);
    assert_byte(e->t, V + PG, 0);
    tu_assert_clean(e->m);
}

/* MAP_POPULATE reads a shared anonymous mapping in, clean; MADV_POPULATE_WRITE
 * of a page already mapped dirties it (GUP's FOLL_TOUCH), so PAGEOUT, with no
 * swap, keeps it; the pages only read in hold zeros and go (host-measured:
 * "100"). */
static void test_madvise_populate_write_dirties_a_mapped_shared_page(void **state)
{
    struct env *e = *state;
    map_at(e, V, 3 * PG, RW, SA | MAP_POPULATE);
    advise(e, V, PG, MADV_POPULATE_WRITE, 0);
    advise(e, V + 2 * PG, PG, MADV_POPULATE_READ, 0);
    advise(e, V, 3 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "100");
    tu_assert_clean(e->m);
}

static struct vms_frame_info frame_at(struct env *e, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, va, &w), 0);
    assert_true(w.present);
    struct vms_frame_info fi;
    assert_int_equal(vms_frame_info(e->m, w.pa >> 12, &fi), 0);
    return fi;
}

/* Populating a page already mapped touches it as Linux's mark_page_accessed
 * does (GUP's FOLL_TOUCH): an inactive page is marked referenced, and a
 * referenced one goes to the active list. */
static void test_madvise_populate_read_marks_a_mapped_page_accessed(void **state)
{
    struct env *e = *state;
    map_at(e, V, PG, RW, PA);
    tu_store_byte(e->t, V, 1);
    advise(e, V, PG, MADV_COLD, 0); /* inactive, no references */
    struct vms_frame_info fi = frame_at(e, V);
    assert_true(fi.lru && !fi.active && !fi.referenced);
    advise(e, V, PG, MADV_POPULATE_READ, 0);
    fi = frame_at(e, V);
    assert_true(!fi.active && fi.referenced);
    advise(e, V, PG, MADV_POPULATE_READ, 0);
    fi = frame_at(e, V);
    assert_true(fi.active && !fi.referenced);
    tu_assert_clean(e->m);
}

static void test_madvise_pageout_drops_clean_file_pages_mapped_once(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDONLY);
    map_file_at(e, V, 4 * PG, PROT_READ, MAP_SHARED, fd);
    (void)tu_load_byte(e->t, V);
    (void)tu_load_byte(e->t, V + PG);
    assert_residency(e->t, V, "1111");
    advise(e, V, 4 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "0000");
    assert_int_equal(tu_fault_cost(e->t, V, 0), 'M');
    tu_assert_clean(e->m);
}

/* Reclaim cannot write a dirty file page back from madvise: PAGEOUT unmaps
 * it and marks it PG_reclaim, the bit PG_readahead shares, so the next
 * fault on it reads ahead. Host (16-page file on ext4, cold cache, page 1
 * dirtied by pwrite, mapped and touched, then advised): one minor fault,
 * then pages 1-15 cached after PAGEOUT, only page 1 after DONTNEED. */
static void check_fault_after_advice_on_dirty_file_page(struct env *e, int flags, int advice,
                                                         const char *after)
{
    int fd = open_file(e, "f", 16, O_RDWR);
    vms_addr buf = tu_anon(e->t, PG, PROT_READ | PROT_WRITE);
    tu_store_byte(e->t, buf, 'b');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 1, PG), 1);
    map_file_at(e, V, 16 * PG, PROT_READ, flags, fd);
    (void)tu_load_byte(e->t, V + PG);
    advise(e, V + PG, PG, advice, 0);
    assert_residency(e->t, V, "0100000000000000");
    assert_int_equal(tu_fault_cost(e->t, V + PG, 0), '1');
    assert_residency(e->t, V, after);
    tu_assert_clean(e->m);
}

static void test_madvise_pageout_of_a_dirty_shared_file_page_marks_it_for_readahead(void **state)
{
    check_fault_after_advice_on_dirty_file_page(*state, MAP_SHARED, MADV_PAGEOUT,
                                                "0111111111111111");
}

static void test_madvise_pageout_of_a_dirty_private_file_page_marks_it_for_readahead(void **state)
{
    check_fault_after_advice_on_dirty_file_page(*state, MAP_PRIVATE, MADV_PAGEOUT,
                                                "0111111111111111");
}

static void test_madvise_dontneed_of_a_dirty_file_page_reads_nothing_ahead(void **state)
{
    check_fault_after_advice_on_dirty_file_page(*state, MAP_PRIVATE, MADV_DONTNEED,
                                                "0100000000000000");
}

/* Guard markers give private anonymous memory an anon_vma, and a file
 * VMA none that fork would copy apart: 15 pages guarded at pages 3-5,
 * page 7 made readable (three VMAs), a fork, then pages 4-8 made
 * executable in the child. Host: a private file mapping merges back into
 * three VMAs; anonymous memory stays in five (each child VMA has an
 * anon_vma of its own). */
static int vmas_after_guard_split_fork_and_mprotect(struct env *e, int file)
{
    if (file) {
        int fd = open_file(e, "g", 15, O_RDONLY);
        map_file_at(e, V, 15 * PG, PROT_NONE, MAP_PRIVATE, fd);
    } else {
        map_at(e, V, 15 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    }
    assert_int_equal(vms_madvise(e->t, V + 3 * PG, 3 * PG, MADV_GUARD_INSTALL), 0);
    assert_int_equal(vms_mprotect(e->t, V + 7 * PG, PG, PROT_READ), 0);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    assert_int_equal(vms_mprotect(child, V + 4 * PG, 5 * PG, PROT_EXEC), 0);
    int n = tu_vma_count(child);
    vms_exit(child);
    tu_assert_clean(e->m);
    return n;
}

static void test_guarded_file_vma_merges_again_after_fork(void **state)
{
    assert_int_equal(vmas_after_guard_split_fork_and_mprotect(*state, 1), 3);
}

static void test_guarded_anon_vma_stays_split_after_fork(void **state)
{
    assert_int_equal(vmas_after_guard_split_fork_and_mprotect(*state, 0), 5);
}

/* Shared anonymous memory without swap: reclaim unmaps its pages; one never
 * written holds only zeros and is dropped, a written one stays in memory.
 * Host: 18 populated pages, PAGEOUT of pages 1..17, then a load of each:
 * never written, every page faults alone (nothing is left to map around);
 * written, fault-around maps the kept pages 16 at a time. */
static void check_pageout_of_shared_anon(struct env *e, int written, const char *residency,
                                         const char *faults)
{
    map_at(e, V, 18 * PG, RW, SA | MAP_POPULATE);
    if (written)
        fill_pages(e->t, V, 18, 0x10);
    advise(e, V + PG, 17 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, residency);
    char got[19];
    tu_fault_pattern(e->t, V, 18, 0, got);
    assert_string_equal(got, faults);
    tu_assert_clean(e->m);
}

static void test_madvise_pageout_drops_shared_anon_pages_never_written(void **state)
{
    check_pageout_of_shared_anon(*state, 0, "100000000000000000", "011111111111111111");
}

static void test_madvise_pageout_unmaps_but_keeps_written_shared_anon_pages(void **state)
{
    check_pageout_of_shared_anon(*state, 1, "111111111111111111", "010000000000000010");
}

static void test_madvise_cold_succeeds_and_keeps_the_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 1);
    advise(e, V, 4 * PG, MADV_COLD, 0);
    assert_residency(e->t, V, "1111");
}

/* ---- other CPUs' TLBs ---- */

static vms_task *thread_on_cpu1(struct env *e)
{
    vms_task *thread = vms_clone_thread(e->t);
    assert_non_null(thread);
    assert_int_equal(vms_schedule(thread, 1), 0);
    return thread;
}

static void test_madvise_dontneed_shoots_down_another_cpus_tlb_entry(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    vms_task *thread = thread_on_cpu1(e);
    tu_store_byte(thread, V, 9);
    assert_byte(thread, V, 9);
    advise(e, V, 2 * PG, MADV_DONTNEED, 0);
    assert_byte(thread, V, 0);
    tu_assert_clean(e->m);
}

/* MADV_FREE cleans the PTE: a CPU that kept a dirty translation would write
 * without marking the page dirty again, and reclaim would lose the write. */
static void test_madvise_free_then_a_write_from_another_cpu_survives_pageout(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    vms_task *thread = thread_on_cpu1(e);
    tu_store_byte(thread, V, 9);
    tu_store_byte(thread, V + PG, 9);
    advise(e, V, 2 * PG, MADV_FREE, 0);
    tu_store_byte(thread, V, 0x55);
    advise(e, V, 2 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "10");
    assert_byte(e->t, V, 0x55);
    assert_byte(e->t, V + PG, 0);
    tu_assert_clean(e->m);
}

/* ---- WILLNEED ---- */

static void test_madvise_willneed_reads_the_range_into_the_page_cache(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 64, O_RDONLY);
    map_file_at(e, V, 64 * PG, PROT_READ, MAP_SHARED, fd);
    assert_residency(e->t, V, "0000000000000000000000000000000000000000000000000000000000000000");
    advise(e, V + 4 * PG, 8 * PG, MADV_WILLNEED, 0);
    assert_residency(e->t, V, "0000111111110000000000000000000000000000000000000000000000000000");
    tu_assert_clean(e->m);
}

/* The pages are cached, not mapped: the first touch is a minor fault that
 * maps the cached neighbours too (fault-around). */
static void test_madvise_willneed_makes_the_next_faults_minor(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 64, O_RDONLY);
    map_file_at(e, V, 64 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V + 4 * PG, 8 * PG, MADV_WILLNEED, 0);
    assert_costs(e->t, V + 4 * PG, 0, "10000000");
    assert_int_equal(tu_majflt(e->t), 0);
    tu_assert_clean(e->m);
}

static void test_madvise_willneed_of_a_private_file_mapping_reads_it_too(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 64, O_RDONLY);
    map_file_at(e, V, 64 * PG, PROT_READ, MAP_PRIVATE, fd);
    advise(e, V + 4 * PG, 8 * PG, MADV_WILLNEED, 0);
    assert_residency(e->t, V, "00001111111100000000");
}

static void test_madvise_willneed_stops_at_the_end_of_the_file(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 3, O_RDONLY);
    map_file_at(e, V, 8 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V, 8 * PG, MADV_WILLNEED, 0);
    assert_residency(e->t, V, "11100000");
}

static void test_madvise_willneed_of_anonymous_memory_reads_nothing(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    map_at(e, V + 8 * PG, 4 * PG, RW, SA);
    advise(e, V, 4 * PG, MADV_WILLNEED, 0);
    advise(e, V + 8 * PG, 4 * PG, MADV_WILLNEED, 0);
    assert_residency(e->t, V, "0000");
    assert_residency(e->t, V + 8 * PG, "0000");
}

/* The file pages read are those the advised range maps. */
static void test_madvise_willneed_through_a_mapping_at_an_offset(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 16, O_RDONLY);
    assert_int_equal(vms_mmap(e->t, V, 8 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 8 * PG),
                     (int64_t)V);
    advise(e, V + 2 * PG, 4 * PG, MADV_WILLNEED, 0);
    map_file_at(e, V + 32 * PG, 16 * PG, PROT_READ, MAP_SHARED, fd);
    assert_residency(e->t, V + 32 * PG, "0000000000111100");
    assert_residency(e->t, V, "00111100");
}

/* One call reads at most max(read_ahead_kb, max_sectors_kb): 2048 pages on
 * the host disk (8192 KiB / 4096 KiB). */
static void test_madvise_willneed_reads_at_most_the_readahead_window(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4096, O_RDONLY);
    map_file_at(e, V, 4096 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V, 4096 * PG, MADV_WILLNEED, 0);
    int first, last;
    assert_int_equal(count_resident(e->t, V, 4096, &first, &last), 2048);
    assert_int_equal(first, 0);
    assert_int_equal(last, 2047);
}

static void test_madvise_willneed_window_starts_at_the_advised_page(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4096, O_RDONLY);
    map_file_at(e, V, 4096 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V + 1000 * PG, 3000 * PG, MADV_WILLNEED, 0);
    int first, last;
    assert_int_equal(count_resident(e->t, V, 4096, &first, &last), 2048);
    assert_int_equal(first, 1000);
    assert_int_equal(last, 3047);
}

/* Pages already cached count in the window: it still ends 2048 pages after
 * the advised start. */
static void test_madvise_willneed_window_counts_pages_already_cached(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4096, O_RDONLY);
    map_at(e, V + 8192 * PG, 100 * PG, RW, PA);
    assert_int_equal(vms_pread(e->t, fd, V + 8192 * PG, 100 * PG, 0), (int64_t)(100 * PG));
    map_file_at(e, V, 4096 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V, 4096 * PG, MADV_WILLNEED, 0);
    int first, last;
    assert_int_equal(count_resident(e->t, V, 4096, &first, &last), 2048);
    assert_int_equal(first, 0);
    assert_int_equal(last, 2047);
}

/* The default disk (read_ahead_kb 128, max_sectors_kb 1280): 320 pages, as
 * the host reads from such a disk. */
static void test_madvise_willneed_reads_at_most_io_pages_on_the_default_disk(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 1024, O_RDONLY);
    map_file_at(e, V, 1024 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V, 600 * PG, MADV_WILLNEED, 0);
    int first, last;
    assert_int_equal(count_resident(e->t, V, 1024, &first, &last), 320);
    assert_int_equal(first, 0);
    assert_int_equal(last, 319);
}

/* ---- what RANDOM and SEQUENTIAL do to a file fault's readahead (host disk) ---- */

/* A 4096-page file mapped at V; one load of page 1000 after `advice`
 * (-1: none), which must be a major fault. Returns the resident count. */
static int read_page_1000_after(struct env *e, int advice, int *first, int *last)
{
    int fd = open_file(e, "f", 4096, O_RDONLY);
    map_file_at(e, V, 4096 * PG, PROT_READ, MAP_SHARED, fd);
    if (advice >= 0)
        advise(e, V, 4096 * PG, advice, 0);
    assert_int_equal(tu_fault_cost(e->t, V + 1000 * PG, 0), 'M');
    tu_assert_clean(e->m);
    return count_resident(e->t, V, 4096, first, last);
}

/* Without advice the window is centred on the fault (clipped at 0). */
static void test_madvise_normal_file_fault_reads_a_window_around_the_page(void **state)
{
    int first, last;
    assert_int_equal(read_page_1000_after(*state, MADV_NORMAL, &first, &last), 2048);
    assert_int_equal(first, 0);
    assert_int_equal(last, 2047);
}

static void test_madvise_random_file_fault_reads_only_that_page(void **state)
{
    int first, last;
    assert_int_equal(read_page_1000_after(*state, MADV_RANDOM, &first, &last), 1);
    assert_int_equal(first, 1000);
    assert_int_equal(last, 1000);
}

static void test_madvise_sequential_file_fault_reads_ahead_from_the_page(void **state)
{
    int first, last;
    assert_int_equal(read_page_1000_after(*state, MADV_SEQUENTIAL, &first, &last), 2048);
    assert_int_equal(first, 1000);
    assert_int_equal(last, 3047);
}

/* ---- advice kept in VMA flags: splits and merges ---- */

/* advice on pages 1-2 of a fresh 4-page VMA splits it in three; `undo` on the
 * same pages then leaves `after` (the maps text). */
static void check_split_then_undo(struct env *e, int advice, int undo, const char *after)
{
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + PG, 2 * PG, advice, 0);
    tu_assert_maps(e->t, "30000000-30001000 rw-p 00000000 00:00 0 \n"
                         "30001000-30003000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n");
    advise(e, V + PG, 2 * PG, undo, 0);
    tu_assert_maps(e->t, after);
}

#define MERGED "30000000-30004000 rw-p 00000000 00:00 0 \n"
#define STILL_SPLIT                                                                               \
    "30000000-30001000 rw-p 00000000 00:00 0 \n"                                                   \
    "30001000-30003000 rw-p 00000000 00:00 0 \n"                                                   \
    "30003000-30004000 rw-p 00000000 00:00 0 \n"

static void test_madvise_random_splits_and_normal_merges_back(void **state)
{
    check_split_then_undo(*state, MADV_RANDOM, MADV_NORMAL, MERGED);
}

static void test_madvise_sequential_splits_and_normal_merges_back(void **state)
{
    check_split_then_undo(*state, MADV_SEQUENTIAL, MADV_NORMAL, MERGED);
}

static void test_madvise_sequential_then_random_stays_split(void **state)
{
    check_split_then_undo(*state, MADV_SEQUENTIAL, MADV_RANDOM, STILL_SPLIT);
}

static void test_madvise_dontfork_splits_and_dofork_merges_back(void **state)
{
    check_split_then_undo(*state, MADV_DONTFORK, MADV_DOFORK, MERGED);
}

static void test_madvise_wipeonfork_splits_and_keeponfork_merges_back(void **state)
{
    check_split_then_undo(*state, MADV_WIPEONFORK, MADV_KEEPONFORK, MERGED);
}

static void test_madvise_dontdump_splits_and_dodump_merges_back(void **state)
{
    check_split_then_undo(*state, MADV_DONTDUMP, MADV_DODUMP, MERGED);
}

static void test_madvise_mergeable_splits_and_unmergeable_merges_back(void **state)
{
    check_split_then_undo(*state, MADV_MERGEABLE, MADV_UNMERGEABLE, MERGED);
}

/* NOHUGEPAGE is a flag of its own, not the absence of HUGEPAGE. */
static void test_madvise_hugepage_then_nohugepage_stays_split(void **state)
{
    check_split_then_undo(*state, MADV_HUGEPAGE, MADV_NOHUGEPAGE, STILL_SPLIT);
}

static void test_madvise_nohugepage_then_hugepage_stays_split(void **state)
{
    check_split_then_undo(*state, MADV_NOHUGEPAGE, MADV_HUGEPAGE, STILL_SPLIT);
}

/* Advice that changes no flag splits nothing. */
static void test_madvise_advice_already_in_effect_splits_nothing(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    const int advice[] = {MADV_NORMAL, MADV_DOFORK, MADV_KEEPONFORK, MADV_DODUMP, MADV_UNMERGEABLE};
    for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++) {
        advise(e, V + PG, 2 * PG, advice[i], 0);
        tu_assert_maps(e->t, MERGED);
    }
}

/* MAP_DROPPABLE memory must stay out of core dumps and empty in a fork
 * child: DODUMP and KEEPONFORK are EINVAL there, the rest as elsewhere. */
static void test_madvise_on_droppable_memory_refuses_dodump_and_keeponfork(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, 0x08 /* MAP_DROPPABLE */ | MAP_ANONYMOUS);
    advise(e, V, PG, MADV_DODUMP, -EINVAL);
    advise(e, V, PG, MADV_KEEPONFORK, -EINVAL);
    const int fine[] = {MADV_DONTDUMP, MADV_WIPEONFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_NORMAL};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        advise(e, V, PG, fine[i], 0);
    tu_assert_clean(e->m);
}

/* A length of one page and one byte covers two pages. */
static void test_madvise_length_rounds_up_to_pages(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V, PG + 1, MADV_SEQUENTIAL, 0);
    tu_assert_maps(e->t, "30000000-30002000 rw-p 00000000 00:00 0 \n"
                         "30002000-30004000 rw-p 00000000 00:00 0 \n");
}

/* KSM leaves shared memory alone: MERGEABLE changes nothing there. */
static void test_madvise_mergeable_on_shared_anon_changes_nothing(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    advise(e, V + PG, PG, MADV_MERGEABLE, 0);
    advise(e, V + PG, PG, MADV_UNMERGEABLE, 0);
    assert_int_equal(tu_vma_count(e->t), 1);
}

static void test_madvise_hugepage_on_shared_anon_splits_it(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    advise(e, V + PG, PG, MADV_HUGEPAGE, 0);
    char *text = tu_maps(e->t);
    uint64_t ino = tu_assert_shm_line(text, "30000000-30001000 rw-s 00000000 00:01 ");
    assert_int_equal(tu_assert_shm_line(tu_line(text, 1), "30001000-30002000 rw-s 00001000 00:01 "),
                     ino);
    assert_int_equal(tu_assert_shm_line(tu_line(text, 2), "30002000-30004000 rw-s 00002000 00:01 "),
                     ino);
    assert_null(tu_line(text, 3));
    free(text);
}

static void test_madvise_mergeable_on_private_file_splits_it(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_PRIVATE, fd);
    advise(e, V + PG, PG, MADV_MERGEABLE, 0);
    assert_int_equal(tu_vma_count(e->t), 3);
}

static void test_madvise_wipeonfork_on_shared_anon_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    advise(e, V + PG, PG, MADV_WIPEONFORK, -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 1);
}

static void test_madvise_wipeonfork_on_private_file_is_einval(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_PRIVATE, fd);
    advise(e, V, 4 * PG, MADV_WIPEONFORK, -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 1);
}

/* The parts before the refusing VMA keep their advice. */
static void test_madvise_wipeonfork_stops_at_shared_memory_after_advising_before(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 2 * PG, 2 * PG, RW, SA);
    map_at(e, V + 4 * PG, 2 * PG, RW, PA);
    advise(e, V + PG, 4 * PG, MADV_WIPEONFORK, -EINVAL);
    const char *private_lines = "30000000-30001000 rw-p 00000000 00:00 0 \n"
                                "30001000-30002000 rw-p 00000000 00:00 0 \n";
    char *text = tu_maps(e->t);
    assert_memory_equal(text, private_lines, strlen(private_lines));
    tu_assert_shm_line(tu_line(text, 2), "30002000-30004000 rw-s 00000000 00:01 ");
    assert_string_equal(tu_line(text, 3), "30004000-30006000 rw-p 00000000 00:00 0 \n");
    free(text);
}

static void test_madvise_flag_advice_over_a_hole_splits_both_sides_then_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, 2 * PG, RW, PA);
    advise(e, V + PG, 3 * PG, MADV_RANDOM, -ENOMEM);
    tu_assert_maps(e->t, "30000000-30001000 rw-p 00000000 00:00 0 \n"
                         "30001000-30002000 rw-p 00000000 00:00 0 \n"
                         "30003000-30004000 rw-p 00000000 00:00 0 \n"
                         "30004000-30005000 rw-p 00000000 00:00 0 \n");
}

static void test_madvise_huge_length_advises_the_mapped_part_then_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + PG, 1ULL << 47, MADV_RANDOM, -ENOMEM);
    tu_assert_maps(e->t, "30000000-30001000 rw-p 00000000 00:00 0 \n"
                         "30001000-30004000 rw-p 00000000 00:00 0 \n");
}

/* ---- fork ---- */

static vms_task *fork_child(struct env *e)
{
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    tu_assert_clean(e->m);
    return child;
}

static void test_madvise_dontfork_leaves_the_range_out_of_the_child(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_DONTFORK, 0);
    vms_task *child = fork_child(e);
    tu_assert_maps(child, "30000000-30001000 rw-p 00000000 00:00 0 \n"
                          "30003000-30004000 rw-p 00000000 00:00 0 \n");
    assert_byte(child, V, 0x10);
    assert_unmapped(child, V + PG);
    assert_byte(child, V + 3 * PG, 0x13);
    assert_byte(e->t, V + PG, 0x11);
    tu_assert_clean(e->m);
}

static void test_madvise_dofork_lets_the_child_have_the_range_again(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_DONTFORK, 0);
    advise(e, V + PG, 2 * PG, MADV_DOFORK, 0);
    vms_task *child = fork_child(e);
    tu_assert_maps(child, MERGED);
    assert_byte(child, V + PG, 0x11);
    tu_assert_clean(e->m);
}

/* The child has the VMA, empty: its first touch faults in a zero page. */
static void test_madvise_wipeonfork_child_reads_zeros(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_WIPEONFORK, 0);
    vms_task *child = fork_child(e);
    tu_assert_maps(child, STILL_SPLIT);
    assert_residency(child, V, "1001");
    assert_costs(child, V, 0, "0110");
    assert_byte(child, V, 0x10);
    assert_byte(child, V + PG, 0);
    assert_byte(child, V + 3 * PG, 0x13);
    assert_byte(e->t, V + PG, 0x11);
    tu_assert_clean(e->m);
}

static void test_madvise_keeponfork_lets_the_child_keep_the_data(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_WIPEONFORK, 0);
    advise(e, V + PG, 2 * PG, MADV_KEEPONFORK, 0);
    vms_task *child = fork_child(e);
    tu_assert_maps(child, MERGED);
    assert_byte(child, V + PG, 0x11);
    tu_assert_clean(e->m);
}

/* A page the child also maps is not lazily freed: reclaim keeps it. */
static void test_madvise_free_of_pages_shared_with_a_child_keeps_them(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    vms_task *child = fork_child(e);
    advise(e, V, 2 * PG, MADV_FREE, 0);
    advise(e, V, 2 * PG, MADV_PAGEOUT, 0);
    assert_residency(e->t, V, "11");
    assert_byte(e->t, V, 0x10);
    assert_byte(child, V, 0x10);
    tu_assert_clean(e->m);
}

static void test_madvise_dontneed_in_the_parent_leaves_the_child_its_data(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    fill_pages(e->t, V, 2, 0x10);
    vms_task *child = fork_child(e);
    advise(e, V, 2 * PG, MADV_DONTNEED, 0);
    assert_byte(e->t, V, 0);
    assert_byte(child, V, 0x10);
    tu_assert_clean(e->m);
}

/* ---- REMOVE ---- */

static void test_madvise_remove_of_shared_anon_reads_zeros_after(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_REMOVE, 0);
    assert_residency(e->t, V, "1001");
    assert_costs(e->t, V, 0, "0110");
    assert_byte(e->t, V + PG, 0);
    assert_byte(e->t, V + 3 * PG, 0x13);
    tu_assert_clean(e->m);
}

/* The object loses the pages: every process that maps it sees zeros. */
static void test_madvise_remove_of_shared_anon_empties_it_for_a_child_too(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    fill_pages(e->t, V, 2, 0x10);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    advise(e, V, 2 * PG, MADV_REMOVE, 0);
    assert_byte(child, V, 0);
    tu_assert_clean(e->m);
}

/* The hole reaches the host file at once; its size stays. */
static void test_madvise_remove_of_shared_file_punches_a_hole_in_the_file(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_SHARED, fd);
    fill_pages(e->t, V, 4, 0x70);
    advise(e, V + PG, 2 * PG, MADV_REMOVE, 0);
    assert_residency(e->t, V, "1001");
    char path[PATH_MAX + 8];
    tu_join(path, sizeof(path), e->root, "f");
    uint8_t *bytes = malloc(2 * PG);
    assert_non_null(bytes);
    assert_int_equal(tu_host_read(path, bytes, 2 * PG, (off_t)PG), (ssize_t)(2 * PG));
    for (uint64_t i = 0; i < 2 * PG; i++)
        assert_int_equal(bytes[i], 0);
    free(bytes);
    assert_int_equal(tu_host_size(path), 4 * PG);
    assert_int_equal(tu_host_byte(path, 3 * PG + 5), tu_pattern(3 * PG + 5));
    tu_assert_clean(e->m);
}

static void test_madvise_remove_of_shared_file_reads_zeros_through_the_mapping(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_SHARED, fd);
    fill_pages(e->t, V, 4, 0x70);
    advise(e, V + PG, 2 * PG, MADV_REMOVE, 0);
    assert_byte(e->t, V, 0x70);
    assert_byte(e->t, V + PG, 0);
    assert_byte(e->t, V + 2 * PG + 7, 0);
    assert_byte(e->t, V + 3 * PG, 0x73);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 4 * PG);
    tu_assert_clean(e->m);
}

static void test_madvise_remove_of_private_anon_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    tu_store_byte(e->t, V, 1);
    advise(e, V, PG, MADV_REMOVE, -EINVAL);
    assert_byte(e->t, V, 1);
}

static void test_madvise_remove_of_private_file_is_eacces(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 2 * PG, RW, MAP_PRIVATE, fd);
    advise(e, V, PG, MADV_REMOVE, -EACCES);
}

static void test_madvise_remove_of_a_read_only_file_is_eacces(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDONLY);
    map_file_at(e, V, 2 * PG, PROT_READ, MAP_SHARED, fd);
    map_file_at(e, V + 4 * PG, 2 * PG, PROT_READ, MAP_PRIVATE, fd);
    advise(e, V, PG, MADV_REMOVE, -EACCES);
    advise(e, V + 4 * PG, PG, MADV_REMOVE, -EACCES);
}

/* Only VM_MAYWRITE counts: a read-only shared mapping of a writable file may
 * punch holes. */
static void test_madvise_remove_through_a_read_only_mapping_of_a_writable_file(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 2 * PG, PROT_READ, MAP_SHARED, fd);
    advise(e, V, PG, MADV_REMOVE, 0);
    map_at(e, V + 4 * PG, 2 * PG, PROT_READ, SA);
    advise(e, V + 4 * PG, PG, MADV_REMOVE, 0);
}

static void test_madvise_remove_of_locked_shared_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA | MAP_LOCKED);
    advise(e, V, PG, MADV_REMOVE, -EINVAL);
    assert_residency(e->t, V, "11");
}

/* ---- POPULATE_READ / POPULATE_WRITE ---- */

/* Reading maps the zero page: each later write is a fault of its own. */
static void test_madvise_populate_read_of_anon_maps_every_page(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_READ, 0, 4);
    assert_residency(e->t, V, "1111");
    assert_costs(e->t, V, 1, "1111");
    tu_assert_clean(e->m);
}

static void test_madvise_populate_write_of_anon_makes_writes_free(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_WRITE, 0, 4);
    assert_costs(e->t, V, 1, "0000");
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_WRITE, 0, 0);
}

static void test_madvise_populate_write_of_read_only_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, PROT_READ, PA);
    advise(e, V, 2 * PG, MADV_POPULATE_WRITE, -EINVAL);
    advise_faulting(e, V, 2 * PG, MADV_POPULATE_READ, 0, 2);
}

static void test_madvise_populate_of_unmapped_memory_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + 20 * PG, 2 * PG, MADV_POPULATE_READ, -ENOMEM);
    advise(e, V + 20 * PG, 2 * PG, MADV_POPULATE_WRITE, -ENOMEM);
}

/* Execute-only memory (a protection key) and write-only memory cannot be
 * read by the kernel either. */
static void test_madvise_populate_read_of_unreadable_memory_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, PG, PROT_EXEC, PA);
    map_at(e, V + 4 * PG, PG, PROT_WRITE, PA);
    advise(e, V, PG, MADV_POPULATE_READ, -EINVAL);
    advise(e, V + 4 * PG, PG, MADV_POPULATE_READ, -EINVAL);
    advise_faulting(e, V + 4 * PG, PG, MADV_POPULATE_WRITE, 0, 1);
}

static void test_madvise_populate_read_past_the_end_of_a_file_is_efault(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 2, O_RDONLY);
    map_file_at(e, V, 4 * PG, PROT_READ, MAP_SHARED, fd);
    assert_int_equal(vms_madvise(e->t, V, 4 * PG, MADV_POPULATE_READ), -EFAULT);
    assert_residency(e->t, V, "1100");
    tu_assert_clean(e->m);
}

/* Each page is copied for writing: private copies of the file's bytes. The
 * first fault reads the file (major), the other three find it cached. */
static void test_madvise_populate_write_of_a_private_file_copies_every_page(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V, 4 * PG, RW, MAP_PRIVATE, fd);
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_WRITE, 0, 3);
    assert_int_equal(tu_majflt(e->t), 1);
    assert_byte(e->t, V + PG, tu_pattern(PG));
    assert_costs(e->t, V, 1, "0000");
    tu_assert_clean(e->m);
}

/* With the file cached, one fault maps all four pages (fault-around). */
static void test_madvise_populate_read_of_a_cached_file_is_one_fault(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_at(e, V + 16 * PG, 4 * PG, RW, PA);
    assert_int_equal(vms_pread(e->t, fd, V + 16 * PG, 4 * PG, 0), (int64_t)(4 * PG));
    map_file_at(e, V, 4 * PG, PROT_READ, MAP_SHARED, fd);
    uint64_t majflt = tu_majflt(e->t);
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_READ, 0, 1);
    assert_int_equal(tu_majflt(e->t), majflt);
    assert_residency(e->t, V, "1111");
}

static void test_madvise_populate_read_then_write_of_a_private_file_copies_on_write(void **state)
{
    struct env *e = *state;
    int fd = open_file(e, "f", 4, O_RDWR);
    map_at(e, V + 16 * PG, 4 * PG, RW, PA);
    assert_int_equal(vms_pread(e->t, fd, V + 16 * PG, 4 * PG, 0), (int64_t)(4 * PG));
    map_file_at(e, V, 4 * PG, RW, MAP_PRIVATE, fd);
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_READ, 0, 1);
    assert_byte(e->t, V + PG, tu_pattern(PG));
    assert_int_equal(tu_fault_cost(e->t, V + PG, 1), '1');
    tu_assert_clean(e->m);
}

static void test_madvise_populate_write_of_shared_anon_allocates_every_page(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, SA);
    advise_faulting(e, V, 4 * PG, MADV_POPULATE_WRITE, 0, 4);
    assert_residency(e->t, V, "1111");
}

/* A shared anonymous mapping grown by mremap past its object. */
static void test_madvise_populate_of_shared_anon_past_its_object_is_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, SA);
    assert_int_equal(vms_mremap(e->t, V, 2 * PG, 4 * PG, 0, 0), (int64_t)V);
    assert_int_equal(vms_madvise(e->t, V, 4 * PG, MADV_POPULATE_WRITE), -EFAULT);
    assert_residency(e->t, V, "1100");
    assert_int_equal(vms_madvise(e->t, V + 2 * PG, 2 * PG, MADV_POPULATE_READ), -EFAULT);
    tu_assert_clean(e->m);
}

/* ---- guard regions ---- */

static void test_madvise_guard_install_makes_a_page_fault_without_a_split(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, PG, MADV_GUARD_INSTALL, 0);
    tu_assert_maps(e->t, MERGED);
    assert_unmapped(e->t, V + PG);
    uint8_t v = 1;
    assert_int_equal(vms_store(e->t, V + PG, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, V + PG);
    assert_residency(e->t, V, "1011");
    tu_assert_clean(e->m);
}

static void test_madvise_guard_remove_leaves_an_empty_page(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, PG, MADV_GUARD_INSTALL, 0);
    advise(e, V + PG, PG, MADV_GUARD_REMOVE, 0);
    assert_byte(e->t, V + PG, 0);
    tu_assert_clean(e->m);
}

/* A 4-page RW mapping at V, pages written 0x10.., a guard on page 1. */
static void map_with_guard(struct env *e, int flags)
{
    map_at(e, V, 4 * PG, RW, flags);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, PG, MADV_GUARD_INSTALL, 0);
}

static void test_madvise_guard_markers_move_with_mremap(void **state)
{
    struct env *e = *state;
    map_with_guard(e, PA);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, V + 16 * PG),
                     (int64_t)(V + 16 * PG));
    assert_unmapped(e->t, V + 17 * PG);
    assert_byte(e->t, V + 18 * PG, 0x12);
    assert_residency(e->t, V + 16 * PG, "1011");
    tu_assert_clean(e->m);
}

/* The old range of a MREMAP_DONTUNMAP move keeps nothing, guards included. */
static void test_madvise_guard_markers_leave_the_old_range_of_dontunmap(void **state)
{
    struct env *e = *state;
    map_with_guard(e, PA);
    assert_int_equal(vms_mremap(e->t, V, 4 * PG, 4 * PG,
                                MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, V + 16 * PG),
                     (int64_t)(V + 16 * PG));
    assert_byte(e->t, V + PG, 0);
    assert_unmapped(e->t, V + 17 * PG);
    assert_byte(e->t, V, 0);
    tu_assert_clean(e->m);
}

static void test_madvise_guard_markers_survive_dontneed(void **state)
{
    struct env *e = *state;
    map_with_guard(e, PA);
    advise(e, V, 4 * PG, MADV_DONTNEED, 0);
    assert_unmapped(e->t, V + PG);
    assert_byte(e->t, V, 0);
    tu_assert_clean(e->m);
}

static void test_madvise_guard_markers_survive_fork(void **state)
{
    struct env *e = *state;
    map_with_guard(e, PA);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    assert_unmapped(child, V + PG);
    assert_byte(child, V, 0x10);
    tu_assert_clean(e->m);
}

/* A MADV_WIPEONFORK child starts with empty page tables: no pages and no
 * guard markers either (Linux 6.18 copies nothing for such a VMA). */
static void test_madvise_guard_markers_do_not_reach_a_wipeonfork_child(void **state)
{
    struct env *e = *state;
    map_with_guard(e, PA);
    advise(e, V, 4 * PG, MADV_WIPEONFORK, 0);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    assert_byte(child, V + PG, 0);
    assert_byte(child, V, 0);
    assert_unmapped(e->t, V + PG);
    assert_byte(e->t, V, 0x10);
    tu_assert_clean(e->m);
}

static void test_madvise_guard_markers_survive_mprotect(void **state)
{
    struct env *e = *state;
    map_with_guard(e, PA);
    assert_int_equal(vms_mprotect(e->t, V, 4 * PG, PROT_READ), 0);
    assert_unmapped(e->t, V + PG);
    assert_int_equal(vms_mprotect(e->t, V, 4 * PG, RW), 0);
    uint8_t v = 1;
    assert_int_equal(vms_store(e->t, V + PG, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, V + PG);
    tu_assert_maps(e->t, MERGED);
    tu_assert_clean(e->m);
}

/* Installing a guard gives the VMA an anon_vma of its own (its neighbour's
 * flags differ by VM_ACCOUNT, so it cannot borrow that one); a later
 * mprotect that makes it like the neighbour then cannot merge them.
 * Without the guard the two merge. */
static void check_mprotect_next_to_rw(struct env *e, int guard, const char *expected)
{
    map_at(e, V, 4 * PG, PROT_READ, PA);
    map_at(e, V + 4 * PG, PG, RW, PA);
    fill_pages(e->t, V + 4 * PG, 1, 0x10);
    if (guard)
        advise(e, V, PG, MADV_GUARD_INSTALL, 0);
    assert_int_equal(vms_mprotect(e->t, V + 2 * PG, 2 * PG, RW), 0);
    tu_assert_maps(e->t, expected);
    tu_assert_clean(e->m);
}

static void test_madvise_guard_install_prepares_an_anon_vma_that_blocks_a_merge(void **state)
{
    check_mprotect_next_to_rw(*state, 1,
                              "30000000-30002000 r--p 00000000 00:00 0 \n"
                              "30002000-30004000 rw-p 00000000 00:00 0 \n"
                              "30004000-30005000 rw-p 00000000 00:00 0 \n");
}

static void test_madvise_without_a_guard_the_same_mprotect_merges(void **state)
{
    check_mprotect_next_to_rw(*state, 0,
                              "30000000-30002000 r--p 00000000 00:00 0 \n"
                              "30002000-30005000 rw-p 00000000 00:00 0 \n");
}

/* Only a private VMA takes an anon_vma for its guards. In a forked child,
 * a VMA with a forked anon_vma refuses to merge into a neighbour without
 * one; a shared VMA's guards give it none, so there the merge happens.
 * Host (Linux 6.18): 13 pages PROT_NONE at V, pages 1-3 made RW, guards on
 * 7-10, fork, the child's mprotect(V + 2 pages, 3 pages, PROT_EXEC): 4 VMAs
 * when shared (pages 2-4 one VMA), 5 when private. */
static void check_forked_guard_vma_merge(struct env *e, int flags, int want_vmas)
{
    map_at(e, V, 13 * PG, PROT_NONE, flags);
    assert_int_equal(vms_mprotect(e->t, V + PG, 3 * PG, RW), 0);
    advise(e, V + 7 * PG, 4 * PG, MADV_GUARD_INSTALL, 0);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    assert_int_equal(vms_mprotect(child, V + 2 * PG, 3 * PG, PROT_EXEC), 0);
    assert_int_equal(tu_vma_count(child), want_vmas);
    tu_assert_clean(e->m);
}

static void test_madvise_guards_of_a_shared_vma_leave_its_fork_mergeable(void **state)
{
    check_forked_guard_vma_merge(*state, SA, 4); /* host: 4 */
}

static void test_madvise_guards_of_a_private_vma_keep_its_fork_apart(void **state)
{
    check_forked_guard_vma_merge(*state, PA, 5); /* host: 5 */
}

/* Populating stops at the guard: the page before it is mapped, no more. */
static void test_madvise_populate_stops_at_a_guard_with_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + PG, PG, MADV_GUARD_INSTALL, 0);
    assert_int_equal(vms_madvise(e->t, V, 4 * PG, MADV_POPULATE_READ), -EFAULT);
    assert_int_equal(vms_madvise(e->t, V, 4 * PG, MADV_POPULATE_WRITE), -EFAULT);
    assert_residency(e->t, V, "1000");
    tu_assert_clean(e->m);
}

static void test_madvise_guard_on_shared_anon_and_file_mappings(void **state)
{
    struct env *e = *state;
    map_with_guard(e, SA);
    assert_unmapped(e->t, V + PG);
    int fd = open_file(e, "f", 4, O_RDWR);
    map_file_at(e, V + 8 * PG, 4 * PG, PROT_READ, MAP_SHARED, fd);
    map_file_at(e, V + 16 * PG, 4 * PG, RW, MAP_PRIVATE, fd);
    advise(e, V + 9 * PG, PG, MADV_GUARD_INSTALL, 0);
    advise(e, V + 17 * PG, PG, MADV_GUARD_INSTALL, 0);
    assert_unmapped(e->t, V + 9 * PG);
    assert_byte(e->t, V + 8 * PG + 5, tu_pattern(5));
    assert_unmapped(e->t, V + 17 * PG);
    tu_assert_clean(e->m);
}

static void test_madvise_guard_over_a_hole_guards_both_sides_then_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 2 * PG, RW, PA);
    map_at(e, V + 3 * PG, PG, RW, PA);
    advise(e, V, 4 * PG, MADV_GUARD_INSTALL, -ENOMEM);
    assert_unmapped(e->t, V + PG);
    assert_unmapped(e->t, V + 3 * PG);
    tu_assert_clean(e->m);
}

/* The kernel touching a guard page fails with EFAULT, as any bad buffer. */
static void test_madvise_read_and_write_with_a_guarded_buffer_are_efault(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + PG, PG, MADV_GUARD_INSTALL, 0);
    int fd = open_file(e, "f", 4, O_RDWR);
    assert_int_equal(vms_pread(e->t, fd, V + PG, 16, 0), -EFAULT);
    assert_int_equal(vms_write(e->t, fd, V + PG, 16), -EFAULT);
    tu_assert_clean(e->m);
}

static void test_madvise_guard_remove_of_part_leaves_the_rest_guarded(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 0x10);
    advise(e, V + PG, 2 * PG, MADV_GUARD_INSTALL, 0);
    advise(e, V + PG, PG, MADV_GUARD_REMOVE, 0);
    assert_byte(e->t, V + PG, 0);
    assert_unmapped(e->t, V + 2 * PG);
    advise(e, V + 10 * PG, PG, MADV_GUARD_REMOVE, -ENOMEM);
    tu_assert_clean(e->m);
}

/* ---- bad arguments ---- */

static void test_madvise_unknown_advice_is_einval_before_anything(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    const int unknown[] = {5, 6, 7, 26, 99, 104, -1, 1000};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        advise(e, V, PG, unknown[i], -EINVAL);
        advise(e, V, 0, unknown[i], -EINVAL);
        advise(e, V + 30 * PG, PG, unknown[i], -EINVAL);
        advise(e, V + 1, PG, unknown[i], -EINVAL);
    }
}

/* This kernel has no memory-failure support: the advice is unknown. */
static void test_madvise_hwpoison_and_soft_offline_are_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V, PG, MADV_HWPOISON, -EINVAL);
    advise(e, V, 0, MADV_HWPOISON, -EINVAL);
    advise(e, V, PG, MADV_SOFT_OFFLINE, -EINVAL);
    advise(e, V, 0, MADV_SOFT_OFFLINE, -EINVAL);
}

/* COLLAPSE is known, and fails with THP off. */
static void test_madvise_collapse_is_einval_on_mapped_memory(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 1);
    advise(e, V, 4 * PG, MADV_COLLAPSE, -EINVAL);
    advise(e, V, 0, MADV_COLLAPSE, 0);
    advise(e, V + 30 * PG, PG, MADV_COLLAPSE, -ENOMEM);
}

static void test_madvise_unaligned_start_is_einval_even_with_len_0(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + 1, PG, MADV_DONTNEED, -EINVAL);
    advise(e, V + 1, 0, MADV_DONTNEED, -EINVAL);
    advise(e, V + 1, 0, MADV_COLLAPSE, -EINVAL);
}

static void test_madvise_len_0_is_0_even_unmapped(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    fill_pages(e->t, V, 4, 1);
    advise(e, V, 0, MADV_DONTNEED, 0);
    advise(e, V + 30 * PG, 0, MADV_DONTNEED, 0);
    assert_residency(e->t, V, "1111");
}

/* A length that rounds past the top of the address space is EINVAL; one
 * that merely runs past user space is a walk that meets a hole: ENOMEM. */
static void test_madvise_wrapping_length_is_einval(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V, ~0ULL, MADV_NORMAL, -EINVAL);
    advise(e, V, (uint64_t)-PG, MADV_NORMAL, -EINVAL);
    advise(e, V, 1ULL << 63, MADV_NORMAL, -ENOMEM);
}

static void test_madvise_unmapped_range_is_enomem(void **state)
{
    struct env *e = *state;
    map_at(e, V, 4 * PG, RW, PA);
    advise(e, V + 30 * PG, PG, MADV_NORMAL, -ENOMEM);
    advise(e, 0x800000000000ULL, PG, MADV_NORMAL, -ENOMEM);
}

/* ---- vm.max_map_count, lowered to 20 so that tests stay small ---- */

#define MAX_MAPS 20
#define FILLERS 0x20000000ULL /* one-page mappings a page apart, so none merge */

/* A fresh machine with the limit, a 5-page RW VMA at V and fillers up to
 * `count` VMAs in all. */
static void fill_to(struct env *e, int count)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.max_map_count = MAX_MAPS;
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    map_at(e, V, 5 * PG, RW, PA);
    tu_store_byte(e->t, V, 1);
    for (int i = 1; i < count; i++)
        map_at(e, FILLERS + (uint64_t)i * 2 * PG, PG, PROT_READ, PA);
    assert_int_equal(tu_vma_count(e->t), count);
}

/* The target's lines (after the fillers, which lie lower), in order. */
static void assert_target_lines(vms_task *t, const char *expected)
{
    char *text = tu_maps(t);
    const char *at = strstr(text, "30000000-");
    assert_non_null(at);
    assert_string_equal(at, expected);
    free(text);
}

static void test_madvise_middle_page_at_max_minus_2_splits_twice(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 2);
    advise(e, V + PG, PG, MADV_RANDOM, 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
}

/* A split that would pass the limit fails, and madvise reports a lack of
 * kernel resources as EAGAIN, not ENOMEM; the first split stays. */
static void test_madvise_middle_page_at_max_minus_1_keeps_the_first_split_and_is_eagain(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1);
    advise(e, V + PG, PG, MADV_RANDOM, -EAGAIN);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    assert_target_lines(e->t, "30000000-30001000 rw-p 00000000 00:00 0 \n"
                             "30001000-30005000 rw-p 00000000 00:00 0 \n");
}

static void test_madvise_first_page_at_max_minus_1_splits(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS - 1);
    advise(e, V, PG, MADV_RANDOM, 0);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
}

static void test_madvise_first_page_at_max_is_eagain(void **state)
{
    struct env *e = *state;
    fill_to(e, MAX_MAPS);
    advise(e, V, PG, MADV_RANDOM, -EAGAIN);
    assert_int_equal(tu_vma_count(e->t), MAX_MAPS);
    assert_target_lines(e->t, "30000000-30005000 rw-p 00000000 00:00 0 \n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_HOST_DISK(fn) cmocka_unit_test_setup_teardown(fn, setup_host_disk, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_madvise_dontneed_private_anon_reads_zeros_after_a_fault),
        T(test_madvise_dontneed_private_file_reads_the_file_again),
        T(test_madvise_dontneed_shared_anon_keeps_the_data),
        T(test_madvise_dontneed_shared_file_keeps_the_data),
        T(test_madvise_dontneed_of_locked_memory_is_einval),
        T(test_madvise_dontneed_locked_drops_locked_pages),
        T(test_madvise_dontneed_over_a_hole_zaps_both_sides_then_is_enomem),
        T(test_madvise_dontneed_of_only_a_hole_is_enomem),
        T(test_madvise_advice_that_drops_pages_of_locked_memory_is_einval),
        T(test_madvise_willneed_and_populate_of_locked_memory_succeed),
        T(test_madvise_page_advice_on_prot_none_memory_succeeds),
        T(test_madvise_populate_of_prot_none_memory_is_einval),
        T(test_madvise_dontneed_of_prot_none_private_memory_shows_in_mincore),
        T(test_madvise_remove_of_prot_none_shared_memory_empties_it),
        T(test_madvise_free_private_anon_keeps_the_data_without_reclaim),
        T(test_madvise_free_of_untouched_memory_succeeds),
        T(test_madvise_free_of_read_only_private_anon_succeeds),
        T(test_madvise_free_of_shared_anon_is_einval),
        T(test_madvise_free_of_private_file_is_einval),
        T(test_madvise_free_of_shared_file_is_einval),
        T(test_madvise_free_running_into_shared_memory_is_einval),
        T(test_madvise_free_over_a_hole_is_enomem),
        T(test_madvise_pageout_keeps_dirty_anon_pages),
        T(test_madvise_pageout_drops_lazily_freed_pages),
        T(test_madvise_pageout_drops_a_lazily_freed_page_that_was_only_read),
        T(test_madvise_pageout_keeps_a_page_written_after_free),
        T(test_madvise_populate_write_dirties_a_mapped_shared_page),
        T(test_madvise_populate_read_marks_a_mapped_page_accessed),
        T(test_madvise_pageout_drops_clean_file_pages_mapped_once),
        T(test_guarded_file_vma_merges_again_after_fork),
        T(test_guarded_anon_vma_stays_split_after_fork),
        T(test_madvise_pageout_of_a_dirty_shared_file_page_marks_it_for_readahead),
        T(test_madvise_pageout_of_a_dirty_private_file_page_marks_it_for_readahead),
        T(test_madvise_dontneed_of_a_dirty_file_page_reads_nothing_ahead),
        T(test_madvise_pageout_drops_shared_anon_pages_never_written),
        T(test_madvise_pageout_unmaps_but_keeps_written_shared_anon_pages),
        T(test_madvise_cold_succeeds_and_keeps_the_pages),
        T(test_madvise_dontneed_shoots_down_another_cpus_tlb_entry),
        T(test_madvise_free_then_a_write_from_another_cpu_survives_pageout),
        T(test_madvise_willneed_reads_the_range_into_the_page_cache),
        T(test_madvise_willneed_makes_the_next_faults_minor),
        T(test_madvise_willneed_of_a_private_file_mapping_reads_it_too),
        T(test_madvise_willneed_stops_at_the_end_of_the_file),
        T(test_madvise_willneed_of_anonymous_memory_reads_nothing),
        T(test_madvise_willneed_through_a_mapping_at_an_offset),
        T_HOST_DISK(test_madvise_willneed_reads_at_most_the_readahead_window),
        T_HOST_DISK(test_madvise_willneed_window_starts_at_the_advised_page),
        T_HOST_DISK(test_madvise_willneed_window_counts_pages_already_cached),
        T(test_madvise_willneed_reads_at_most_io_pages_on_the_default_disk),
        T_HOST_DISK(test_madvise_normal_file_fault_reads_a_window_around_the_page),
        T_HOST_DISK(test_madvise_random_file_fault_reads_only_that_page),
        T_HOST_DISK(test_madvise_sequential_file_fault_reads_ahead_from_the_page),
        T(test_madvise_random_splits_and_normal_merges_back),
        T(test_madvise_sequential_splits_and_normal_merges_back),
        T(test_madvise_sequential_then_random_stays_split),
        T(test_madvise_dontfork_splits_and_dofork_merges_back),
        T(test_madvise_wipeonfork_splits_and_keeponfork_merges_back),
        T(test_madvise_dontdump_splits_and_dodump_merges_back),
        T(test_madvise_mergeable_splits_and_unmergeable_merges_back),
        T(test_madvise_hugepage_then_nohugepage_stays_split),
        T(test_madvise_nohugepage_then_hugepage_stays_split),
        T(test_madvise_advice_already_in_effect_splits_nothing),
        T(test_madvise_on_droppable_memory_refuses_dodump_and_keeponfork),
        T(test_madvise_length_rounds_up_to_pages),
        T(test_madvise_mergeable_on_shared_anon_changes_nothing),
        T(test_madvise_hugepage_on_shared_anon_splits_it),
        T(test_madvise_mergeable_on_private_file_splits_it),
        T(test_madvise_wipeonfork_on_shared_anon_is_einval),
        T(test_madvise_wipeonfork_on_private_file_is_einval),
        T(test_madvise_wipeonfork_stops_at_shared_memory_after_advising_before),
        T(test_madvise_flag_advice_over_a_hole_splits_both_sides_then_is_enomem),
        T(test_madvise_huge_length_advises_the_mapped_part_then_is_enomem),
        T(test_madvise_dontfork_leaves_the_range_out_of_the_child),
        T(test_madvise_dofork_lets_the_child_have_the_range_again),
        T(test_madvise_wipeonfork_child_reads_zeros),
        T(test_madvise_keeponfork_lets_the_child_keep_the_data),
        T(test_madvise_free_of_pages_shared_with_a_child_keeps_them),
        T(test_madvise_dontneed_in_the_parent_leaves_the_child_its_data),
        T(test_madvise_remove_of_shared_anon_reads_zeros_after),
        T(test_madvise_remove_of_shared_anon_empties_it_for_a_child_too),
        T(test_madvise_remove_of_shared_file_punches_a_hole_in_the_file),
        T(test_madvise_remove_of_shared_file_reads_zeros_through_the_mapping),
        T(test_madvise_remove_of_private_anon_is_einval),
        T(test_madvise_remove_of_private_file_is_eacces),
        T(test_madvise_remove_of_a_read_only_file_is_eacces),
        T(test_madvise_remove_through_a_read_only_mapping_of_a_writable_file),
        T(test_madvise_remove_of_locked_shared_memory_is_einval),
        T(test_madvise_populate_read_of_anon_maps_every_page),
        T(test_madvise_populate_write_of_anon_makes_writes_free),
        T(test_madvise_populate_write_of_read_only_memory_is_einval),
        T(test_madvise_populate_of_unmapped_memory_is_enomem),
        T(test_madvise_populate_read_of_unreadable_memory_is_einval),
        T(test_madvise_populate_read_past_the_end_of_a_file_is_efault),
        T(test_madvise_populate_write_of_a_private_file_copies_every_page),
        T(test_madvise_populate_read_of_a_cached_file_is_one_fault),
        T(test_madvise_populate_read_then_write_of_a_private_file_copies_on_write),
        T(test_madvise_populate_write_of_shared_anon_allocates_every_page),
        T(test_madvise_populate_of_shared_anon_past_its_object_is_efault),
        T(test_madvise_guard_install_makes_a_page_fault_without_a_split),
        T(test_madvise_guard_remove_leaves_an_empty_page),
        T(test_madvise_guard_markers_move_with_mremap),
        T(test_madvise_guard_markers_leave_the_old_range_of_dontunmap),
        T(test_madvise_guard_markers_survive_dontneed),
        T(test_madvise_guard_markers_survive_fork),
        T(test_madvise_guard_markers_survive_mprotect),
        T(test_madvise_guard_markers_do_not_reach_a_wipeonfork_child),
        T(test_madvise_guard_install_prepares_an_anon_vma_that_blocks_a_merge),
        T(test_madvise_guards_of_a_shared_vma_leave_its_fork_mergeable),
        T(test_madvise_guards_of_a_private_vma_keep_its_fork_apart),
        T(test_madvise_without_a_guard_the_same_mprotect_merges),
        T(test_madvise_populate_stops_at_a_guard_with_efault),
        T(test_madvise_guard_on_shared_anon_and_file_mappings),
        T(test_madvise_guard_over_a_hole_guards_both_sides_then_is_enomem),
        T(test_madvise_read_and_write_with_a_guarded_buffer_are_efault),
        T(test_madvise_guard_remove_of_part_leaves_the_rest_guarded),
        T(test_madvise_middle_page_at_max_minus_2_splits_twice),
        T(test_madvise_middle_page_at_max_minus_1_keeps_the_first_split_and_is_eagain),
        T(test_madvise_first_page_at_max_minus_1_splits),
        T(test_madvise_first_page_at_max_is_eagain),
        T(test_madvise_unknown_advice_is_einval_before_anything),
        T(test_madvise_hwpoison_and_soft_offline_are_einval),
        T(test_madvise_collapse_is_einval_on_mapped_memory),
        T(test_madvise_unaligned_start_is_einval_even_with_len_0),
        T(test_madvise_len_0_is_0_even_unmapped),
        T(test_madvise_wrapping_length_is_einval),
        T(test_madvise_unmapped_range_is_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
