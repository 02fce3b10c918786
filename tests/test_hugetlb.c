/*
 * test_hugetlb.c - MAP_HUGETLB on a machine whose huge page pool is empty,
 * as Linux 6.18 on x86-64 answers it with nr_hugepages and
 * nr_overcommit_hugepages 0 and only 2 MiB pages. Every value here was
 * measured on such a host: which mmaps succeed and where they go, the maps
 * line, SIGBUS on every touch, splits only at 2 MiB boundaries, no merging,
 * the answer of each madvise advice, mremap, msync, mincore, fork, and a
 * read() or write() through the memory.
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>

#define PG 0x1000ULL
#define H (2ULL << 20)
#define RW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)
#define SA (MAP_SHARED | MAP_ANONYMOUS)
#define HUGE (MAP_HUGETLB | MAP_NORESERVE)
#define BASE 0x40000000ULL /* a 2 MiB boundary, free in a new task */
#define MAP_HUGE_2MB (21 << 26)
#define MAP_HUGE_1GB (30 << 26)
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

struct env {
    char dir[PATH_MAX], root[PATH_MAX];
    vms_machine *m;
    vms_task *t;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    struct vms_config c = tu_config(64ULL << 20);
    c.root = e->root;
    c.aslr_seed = 0;
    c.overcommit_memory = 0;
    c.privileged = 0;
    c.memlock_rlimit = 8ULL << 20;
    e->m = tu_machine_with(&c);
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

static int64_t map(struct env *e, vms_addr addr, uint64_t len, int prot, int flags, int64_t off)
{
    return vms_mmap(e->t, addr, len, prot, flags, -1, off);
}

/* A hugetlb mapping at BASE + off that must succeed. */
static vms_addr huge_at(struct env *e, uint64_t off, uint64_t len, int flags)
{
    int64_t r = map(e, BASE + off, len, RW, flags | HUGE | MAP_FIXED, 0);
    assert_int_equal(r, (int64_t)(BASE + off));
    return (vms_addr)r;
}

/* The maps line of a hugetlb mapping: prefix ("start-end perms offset 00:11 "),
 * an inode, spaces up to column 73, the name. Returns the inode. */
static uint64_t assert_huge_line(const char *line, const char *prefix)
{
    size_t n = strlen(prefix);
    assert_memory_equal(line, prefix, n);
    char *after = NULL;
    uint64_t ino = strtoull(line + n, &after, 10);
    assert_true(after > line + n && *after == ' ');
    for (const char *c = after; c < line + 73; c++)
        assert_int_equal(*c, ' ');
    assert_memory_equal(line + 73, "/anon_hugepage (deleted)\n", 25);
    return ino;
}

/* Without MAP_NORESERVE the empty pool cannot reserve the pages: ENOMEM,
 * and a MAP_FIXED one has already unmapped what was in its range. */
static void test_reserving_mmap_is_enomem_after_the_unmap(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, PG, RW, PA | MAP_HUGETLB, 0), -ENOMEM);
    assert_int_equal(map(e, 0, H, RW, SA | MAP_HUGETLB, 0), -ENOMEM);
    assert_int_equal(map(e, 0, H, RW, PA | MAP_HUGETLB | MAP_LOCKED, 0), -ENOMEM);
    assert_int_equal(map(e, 0, H, RW, PA | MAP_HUGETLB | MAP_POPULATE, 0), -ENOMEM);
    tu_mmap(e->t, BASE + PG, PG, PROT_READ, PA | MAP_FIXED);
    assert_int_equal(map(e, BASE, PG, RW, PA | MAP_HUGETLB | MAP_FIXED, 0), -ENOMEM);
    assert_int_equal(tu_vma_count(e->t), 0);
    /* An offset that is no whole huge page is refused at the same point. */
    tu_mmap(e->t, BASE + PG, PG, PROT_READ, PA | MAP_FIXED);
    assert_int_equal(map(e, BASE, PG, RW, PA | HUGE | MAP_FIXED, 0x3000), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

/* With MAP_NORESERVE: whole 2 MiB pages of a file of its own. */
static void test_noreserve_maps_whole_huge_pages(void **state)
{
    struct env *e = *state;
    uint64_t frames = tu_frames_used(e->m);
    huge_at(e, 0, PG, PA);
    huge_at(e, H, H, SA);
    assert_int_equal(map(e, BASE + 2 * H, H, RW, PA | HUGE | MAP_FIXED, (int64_t)H), (int64_t)(BASE + 2 * H));
    char *text = tu_maps(e->t);
    uint64_t a = assert_huge_line(tu_line(text, 0), "40000000-40200000 rw-p 00000000 00:11 ");
    uint64_t b = assert_huge_line(tu_line(text, 1), "40200000-40400000 rw-s 00000000 00:11 ");
    uint64_t c = assert_huge_line(tu_line(text, 2), "40400000-40600000 rw-p 00200000 00:11 ");
    assert_null(tu_line(text, 3)); /* neighbours, yet never merged: each is its own file */
    assert_true(a != b && b != c && a != c);
    free(text);
    assert_int_equal(tu_frames_used(e->m), frames);
    tu_assert_clean(e->m);
}

static void test_mmap_errors(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0, H, RW, PA | HUGE | MAP_HUGE_1GB, 0), -EINVAL); /* no 1 GiB pool */
    assert_int_equal(map(e, 0, H, RW, PA | HUGE | (29 << 26), 0), -EINVAL);
    assert_int_equal(map(e, 0, H, RW, PA | HUGE | (16 << 26), 0), -EINVAL);
    assert_int_equal(map(e, 0, H, RW, PA | HUGE | (12 << 26), 0), -EINVAL);
    assert_int_equal(map(e, 0, H, RW, PA | HUGE | (int)(63u << 26), 0), -EINVAL);
    assert_true(map(e, 0, H, RW, PA | HUGE | MAP_HUGE_2MB, 0) > 0);
    assert_true(map(e, 0, H, RW, PA | MAP_NORESERVE | MAP_HUGE_2MB, 0) > 0); /* bits alone: ignored */
    assert_int_equal(map(e, 0, H, RW, PA | HUGE | MAP_GROWSDOWN, 0), -EINVAL);
    assert_int_equal(map(e, 0, H, RW, PA | HUGE, 4096), -EINVAL);
    assert_int_equal(map(e, 0, H, RW, PA | HUGE, -(int64_t)H), -EOVERFLOW);
    assert_int_equal(map(e, 0, 0, RW, PA | HUGE, 0), -EINVAL);
    assert_int_equal(map(e, 0, (uint64_t)-4096, RW, PA | HUGE, 0), -EINVAL); /* rounds to 0 */
    assert_int_equal(map(e, BASE + PG, H, RW, PA | HUGE | MAP_FIXED, 0), -EINVAL);
    huge_at(e, 0, PG, PA);
    assert_int_equal(map(e, BASE, H, RW, PA | HUGE | MAP_FIXED_NOREPLACE, 0), -EEXIST);
    assert_true(map(e, 0, H, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | HUGE, 0) > 0);
    assert_true(map(e, 0, H, PROT_NONE, PA | HUGE, 0) > 0);
    assert_true(map(e, 0, H, RW | PROT_EXEC, PA | HUGE, 0) > 0);
    tu_assert_clean(e->m);
}

/* A hint is rounded up to a huge page; a search finds an aligned place. */
static void test_placement(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, 0x7e0000001000ULL, H, RW, PA | HUGE, 0), 0x7e0000200000LL);
    int64_t r = map(e, 0, H, RW, PA | HUGE, 0);
    assert_true(r > 0 && ((uint64_t)r & (H - 1)) == 0);
    r = map(e, 0, H, RW, PA | HUGE | MAP_32BIT, 0);
    assert_true(r > 0 && (uint64_t)r < 0x80000000ULL && ((uint64_t)r & (H - 1)) == 0);
    tu_assert_clean(e->m);
}

/* Every touch is SIGBUS BUS_ADRERR at the address touched; no fault is
 * counted and no frame allocated, MAP_POPULATE or not. */
static void test_every_touch_is_sigbus(void **state)
{
    struct env *e = *state;
    vms_addr p = huge_at(e, 0, H, PA), s = huge_at(e, H, H, SA);
    vms_addr q = (vms_addr)map(e, BASE + 2 * H, H, RW, PA | HUGE | MAP_FIXED | MAP_POPULATE, 0);
    assert_int_equal(q, BASE + 2 * H);
    uint64_t frames = tu_frames_used(e->m), flt = tu_minflt(e->t);
    uint8_t v = 1;
    const vms_addr at[] = {p + 100, p + 5000, s + 100, s + 8000, q};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        assert_int_not_equal(vms_load(e->t, at[i], &v, 1), 0);
        tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, at[i]);
        assert_int_not_equal(vms_store(e->t, at[i] + 1, &v, 1), 0);
        tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, at[i] + 1);
    }
    assert_int_equal(tu_minflt(e->t), flt);
    assert_int_equal(tu_frames_used(e->m), frames);
    unsigned char vec[512];
    memset(vec, 0xff, sizeof(vec));
    assert_int_equal(vms_mincore(e->t, p, H, vec), 0);
    for (size_t i = 0; i < sizeof(vec); i++)
        assert_int_equal(vec[i], 0);
    /* A kernel copy through it fails. */
    char path[PATH_MAX];
    tu_host_write(tu_join(path, sizeof(path), e->root, "f"), "hello", 5);
    int fd = vms_open(e->t, "f", O_RDWR, 0);
    assert_true(fd >= 0);
    assert_int_equal(vms_read(e->t, fd, p, 5), -EFAULT);
    assert_int_equal(vms_write(e->t, fd, s, 1), -EFAULT);
    assert_int_equal(vms_close(e->t, fd), 0);
    tu_assert_clean(e->m);
}

/* Splits at a 4 KiB boundary are refused; at 2 MiB they are made, and the
 * pieces never merge again. */
static void test_splits_only_at_huge_page_boundaries(void **state)
{
    struct env *e = *state;
    vms_addr p = huge_at(e, 0, 2 * H, PA);
    assert_int_equal(vms_munmap(e->t, p, PG), -EINVAL);
    assert_int_equal(vms_munmap(e->t, p + PG, PG), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, p, PG, PROT_READ), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, p + PG, PG, PROT_NONE), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, p + PG, PG, RW), 0); /* nothing changes: no split */
    assert_int_equal(tu_vma_count(e->t), 1);
    assert_int_equal(vms_mprotect(e->t, p, H, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, p, H, RW), 0);
    char *text = tu_maps(e->t);
    assert_huge_line(tu_line(text, 0), "40000000-40200000 rw-p 00000000 00:11 ");
    assert_huge_line(tu_line(text, 1), "40200000-40400000 rw-p 00200000 00:11 ");
    free(text);
    assert_int_equal(vms_munmap(e->t, p + H, H), 0);
    assert_int_equal(tu_vma_count(e->t), 1);
    /* A hole before it is no obstacle. */
    assert_int_equal(vms_munmap(e->t, p - PG, H + PG), 0);
    assert_int_equal(tu_vma_count(e->t), 0);
    tu_assert_clean(e->m);
}

/* munmap splits the start first: a refused end split leaves it made. */
static void test_refused_end_split_leaves_the_start_split(void **state)
{
    struct env *e = *state;
    vms_addr p = huge_at(e, 0, 2 * H, PA);
    huge_at(e, 2 * H, H, PA);
    assert_int_equal(vms_munmap(e->t, p + H, H + PG), -EINVAL);
    char *text = tu_maps(e->t);
    assert_huge_line(tu_line(text, 0), "40000000-40200000 rw-p 00000000 00:11 ");
    assert_huge_line(tu_line(text, 1), "40200000-40400000 rw-p 00200000 00:11 ");
    assert_huge_line(tu_line(text, 2), "40400000-40600000 rw-p 00000000 00:11 ");
    free(text);
    tu_assert_clean(e->m);
}

static void test_madvise(void **state)
{
    struct env *e = *state;
    vms_addr q = huge_at(e, 0, 2 * H, PA), s = huge_at(e, 2 * H, H, SA);
    assert_int_equal(vms_madvise(e->t, q, PG, MADV_DONTFORK), -EINVAL); /* a split */
    assert_int_equal(tu_vma_count(e->t), 2);
    /* The start split is made before the end split is refused, and stays. */
    assert_int_equal(vms_madvise(e->t, q + H, PG, MADV_DONTFORK), -EINVAL);
    assert_int_equal(tu_vma_count(e->t), 3);
    assert_int_equal(vms_mprotect(e->t, q + H, PG, PROT_READ), -EINVAL);
    assert_int_equal(vms_madvise(e->t, q + PG, H, MADV_DONTNEED), -EINVAL);
    assert_int_equal(vms_madvise(e->t, q, H + PG, MADV_DONTNEED), 0);
    assert_int_equal(vms_madvise(e->t, q, PG, MADV_DONTNEED), 0);
    assert_int_equal(vms_madvise(e->t, q, H, MADV_DONTNEED_LOCKED), 0);
    assert_int_equal(vms_madvise(e->t, q, H, MADV_POPULATE_WRITE), -EFAULT);
    assert_int_equal(vms_madvise(e->t, q, H, MADV_POPULATE_READ), -EFAULT);
    assert_int_equal(vms_madvise(e->t, q, PG, MADV_REMOVE), -EACCES);
    assert_int_equal(vms_madvise(e->t, q, PG, MADV_SEQUENTIAL), -EINVAL);
    assert_int_equal(vms_madvise(e->t, q, H, MADV_WILLNEED), 0);
    const int einval[] = {MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE,
                          MADV_COLLAPSE, MADV_WIPEONFORK};
    for (size_t i = 0; i < sizeof(einval) / sizeof(einval[0]); i++)
        assert_int_equal(vms_madvise(e->t, q, 2 * H, einval[i]), -EINVAL);
    const int fine[] = {MADV_DODUMP, MADV_DONTDUMP, MADV_NOHUGEPAGE, MADV_HUGEPAGE, MADV_UNMERGEABLE,
                        MADV_MERGEABLE, MADV_KEEPONFORK, MADV_NORMAL, MADV_DOFORK};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        assert_int_equal(vms_madvise(e->t, q, 2 * H, fine[i]), 0);
    assert_int_equal(tu_vma_count(e->t), 3);
    char *text = tu_maps(e->t);
    assert_huge_line(tu_line(text, 0), "40000000-40200000 rw-p 00000000 00:11 ");
    assert_huge_line(tu_line(text, 1), "40200000-40400000 rw-p 00200000 00:11 ");
    free(text);
    /* Shared: REMOVE punches the (empty) file. */
    assert_int_equal(vms_madvise(e->t, s, H, MADV_REMOVE), 0);
    assert_int_equal(vms_madvise(e->t, s, PG, MADV_REMOVE), 0);
    assert_int_equal(vms_madvise(e->t, s + PG, PG, MADV_DONTNEED), -EINVAL);
    assert_int_equal(vms_madvise(e->t, s, H, MADV_WIPEONFORK), -EINVAL);
    assert_int_equal(vms_madvise(e->t, s, H, MADV_FREE), -EINVAL);
    assert_int_equal(vms_madvise(e->t, s, H, MADV_POPULATE_READ), -EFAULT);
    assert_int_equal(vms_mprotect(e->t, s, H, PROT_READ), 0);
    assert_int_equal(vms_madvise(e->t, s, H, MADV_REMOVE), 0); /* still VM_MAYWRITE */
    assert_int_equal(vms_msync(e->t, s, H, MS_SYNC), 0);
    assert_int_equal(vms_msync(e->t, s, H, MS_INVALIDATE), 0);
    assert_int_equal(vms_msync(e->t, s, PG, MS_ASYNC), 0);
    tu_assert_clean(e->m);
}

/* mremap rounds both lengths up to huge pages and never grows. */
static void test_mremap(void **state)
{
    struct env *e = *state;
    vms_addr r = huge_at(e, 0, 4 * H, PA);
    assert_int_equal(vms_mremap(e->t, r, 4 * H, PG, 0, 0), (int64_t)r);
    char *text = tu_maps(e->t);
    assert_huge_line(tu_line(text, 0), "40000000-40200000 rw-p 00000000 00:11 ");
    assert_null(tu_line(text, 1));
    free(text);
    assert_int_equal(vms_mremap(e->t, r, H, 2 * H, 0, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, r, H, 2 * H, MREMAP_MAYMOVE, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, r + PG, PG, PG, 0, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, r, 0, H, MREMAP_MAYMOVE, 0), -EINVAL);
    assert_int_equal(vms_mremap(e->t, r, PG, H, 0, 0), (int64_t)r);
    assert_int_equal(vms_mremap(e->t, r, H, H, 0, 0), (int64_t)r);
    assert_int_equal(vms_mremap(e->t, r, H, 1, 0, 0), (int64_t)r);
    /* new_addr must be aligned even when no flag asks for it (the system
     * call's own argument: the C library passes 0 unless MREMAP_FIXED). */
    assert_int_equal(vms_mremap(e->t, r, H, H, 0, r + PG), -EINVAL);
    assert_int_equal(vms_mremap(e->t, r, H, H, MREMAP_MAYMOVE, r + PG), -EINVAL);
    assert_int_equal(vms_mremap(e->t, r, H, H, 0, r + H), (int64_t)r);
    assert_int_equal(vms_mremap(e->t, r, 2 * H, H, 0, 1ULL << 50), (int64_t)r);
    assert_int_equal(vms_mremap(e->t, r, 2 * H, H, MREMAP_MAYMOVE, r + H), (int64_t)r);
    assert_int_equal(tu_vma_count(e->t), 1);
    /* A shared one cannot be duplicated either: old_len 0 rounds to 0. */
    vms_addr s = huge_at(e, 2 * H, H, SA);
    assert_int_equal(vms_mremap(e->t, s, 0, H, MREMAP_MAYMOVE, 0), -EINVAL);
    tu_assert_clean(e->m);
}

/* fork copies a hugetlb VMA (not one marked DONTFORK); the child's touch
 * is SIGBUS too. */
static void test_fork(void **state)
{
    struct env *e = *state;
    vms_addr a = huge_at(e, 0, H, PA), b = huge_at(e, H, H, PA);
    assert_int_equal(vms_madvise(e->t, a, H, MADV_DONTFORK), 0);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    char *text = tu_maps(child);
    assert_huge_line(tu_line(text, 0), "40200000-40400000 rw-p 00000000 00:11 ");
    assert_null(tu_line(text, 1));
    free(text);
    uint8_t v;
    assert_int_not_equal(vms_load(child, b, &v, 1), 0);
    tu_assert_fault(child, SIGBUS, BUS_ADRERR, b);
    assert_int_not_equal(vms_load(child, a, &v, 1), 0);
    tu_assert_fault(child, SIGSEGV, SEGV_MAPERR, a);
    vms_exit(child);
    tu_assert_clean(e->m);
}

/* MAP_LOCKED is accepted, and its populate fails silently. */
static void test_map_locked(void **state)
{
    struct env *e = *state;
    assert_int_equal(map(e, BASE, H, RW, PA | HUGE | MAP_FIXED | MAP_LOCKED, 0), (int64_t)BASE);
    tu_assert_clean(e->m);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_reserving_mmap_is_enomem_after_the_unmap),
        T(test_noreserve_maps_whole_huge_pages),
        T(test_mmap_errors),
        T(test_placement),
        T(test_every_touch_is_sigbus),
        T(test_splits_only_at_huge_page_boundaries),
        T(test_refused_end_split_leaves_the_start_split),
        T(test_madvise),
        T(test_mremap),
        T(test_fork),
        T(test_map_locked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
