/*
 * test_filemap.c - mappings of files, as Linux 6.x on x86-64 (ext4, THP
 * off) shows them: mmap's errno for files and their priority, mprotect
 * against the descriptor's mode, 2 MiB placement of file ranges, the maps
 * text; the page faults (fault-around windows and how they are clipped,
 * write faults without neighbours, write-notify, copy-on-write), read-around
 * of a cold file with its readahead marker; what lies beyond EOF (zeros in
 * the last page, SIGBUS after it), truncation under live mappings; and the
 * way data reaches the disk (msync, fsync, sync, destroying the machine).
 *
 * Every test runs in a new scratch folder that is the machine's root, and a
 * new machine, so that the machine's page cache starts cold. Fault windows
 * are measured on mappings placed with MAP_FIXED at a 2 MiB-aligned address
 * (BASE) so that the 2 MiB page-table boundaries are known.
 */
#include "testutil.h"

#include <errno.h>

#define PG 4096ULL
#define MIB (1ULL << 20)
#define RW (PROT_READ | PROT_WRITE)
#define BASE 0x200000000ULL        /* 2 MiB-aligned: the start of a PTE table */
#define MMAP_BASE 0x7ffff7fff000ULL /* a new task maps top-down from here */
#define FIRST_PAGE 0x7ffff7ffe000ULL

#define MAP_UNKNOWN_BIT 0x800000 /* no such flag */
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif

/* End the machine now (writing back what is dirty); teardown skips it. */
static void destroy_machine(struct tu_env *e)
{
    tu_assert_clean(e->m);
    vms_machine_destroy(e->m);
    e->m = NULL;
}

static const char *host_path(const struct tu_env *e, const char *name, char *buf, size_t size)
{
    return tu_join(buf, size, e->root, name);
}

/* A file of len bytes of tu_pattern, written on the host in 4 KiB writes. */
static void make_file(const struct tu_env *e, const char *name, size_t len)
{
    char path[400];
    tu_host_fill(host_path(e, name, path, sizeof(path)), len);
}

/* A file of len bytes, all c. */
static void make_byte_file(const struct tu_env *e, const char *name, size_t len, uint8_t c)
{
    char path[400];
    tu_host_fill_byte(host_path(e, name, path, sizeof(path)), len, c);
}

static int open_ok(struct tu_env *e, const char *name, int flags)
{
    int fd = vms_open(e->t, name, flags, 0644);
    assert_true(fd >= 3);
    return fd;
}

static vms_addr map_ok(struct tu_env *e, vms_addr addr, uint64_t len, int prot, int flags, int fd,
                       int64_t off)
{
    int64_t r = vms_mmap(e->t, addr, len, prot, flags, fd, off);
    if (r < 0)
        fail_msg("mmap failed: %lld", (long long)r);
    if (flags & MAP_FIXED)
        assert_int_equal(r, addr);
    return (vms_addr)r;
}

/* A mapping of pages [pgoff, pgoff + pages) of fd at BASE + slot pages. */
static vms_addr map_at(struct tu_env *e, uint64_t slot, uint64_t pages, int prot, int flags, int fd,
                       uint64_t pgoff)
{
    return map_ok(e, BASE + slot * PG, pages * PG, prot, flags | MAP_FIXED, fd,
                  (int64_t)(pgoff * PG));
}

/* Bring pages [0, pages) of the file into the page cache with pread(),
 * except `skip` (-1: none). Page 0 is read from offset 1 so that no
 * readahead brings in more than asked. */
static void warm_cache(struct tu_env *e, int fd, uint64_t pages, int64_t skip)
{
    vms_addr buf = tu_anon(e->t, PG, RW);
    /* Backwards, so that no read looks sequential and reads ahead (only the
     * read at offset 0 does: it brings in pages 0-3). */
    for (uint64_t i = pages; i-- > 0;) {
        if ((int64_t)i == skip)
            continue;
        int64_t off = i ? (int64_t)(i * PG) : 1;
        assert_true(vms_pread(e->t, fd, buf, PG - (uint64_t)off % PG, off) > 0);
    }
}

/* A file of `pages` pages, opened with flags and fully cached. */
static int hot_file(struct tu_env *e, uint64_t pages, int flags)
{
    make_file(e, "f", pages * PG);
    int fd = open_ok(e, "f", flags);
    warm_cache(e, fd, pages, -1);
    return fd;
}

static void assert_pattern(struct tu_env *e, vms_addr start, int pages, int write, const char *want)
{
    char got[300];
    assert_true(pages < (int)sizeof(got));
    tu_fault_pattern(e->t, start, pages, write, got);
    assert_string_equal(got, want);
}

static void assert_residency(struct tu_env *e, vms_addr start, int pages, const char *want)
{
    char got[300];
    assert_true(pages < (int)sizeof(got));
    tu_residency(e->t, start, pages, got);
    assert_string_equal(got, want);
}

/* "0...01...10...0": pages [first, last] are '1', of n. */
static const char *ones(char *buf, int n, int first, int last)
{
    for (int i = 0; i < n; i++)
        buf[i] = i >= first && i <= last ? '1' : '0';
    buf[n] = '\0';
    return buf;
}

static void assert_load_sigbus(struct tu_env *e, vms_addr va)
{
    uint8_t c;
    assert_int_equal(vms_load(e->t, va, &c, 1), SIGBUS);
    tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, va);
}

static void assert_store_sigbus(struct tu_env *e, vms_addr va)
{
    uint8_t c = 'q';
    assert_int_equal(vms_store(e->t, va, &c, 1), SIGBUS);
    tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, va);
}

static void store_text(struct tu_env *e, vms_addr va, const char *text)
{
    assert_int_equal(vms_store(e->t, va, text, strlen(text)), 0);
}

static void assert_user_text(struct tu_env *e, vms_addr va, const char *text)
{
    char got[128] = {0};
    size_t n = strlen(text);
    assert_true(n < sizeof(got));
    assert_int_equal(vms_load(e->t, va, got, n), 0);
    assert_string_equal(got, text);
}

/* Every byte of [va, va + len) is c. */
static void assert_user_bytes(struct tu_env *e, vms_addr va, uint64_t len, uint8_t c)
{
    uint8_t *got = malloc(len);
    assert_non_null(got);
    assert_int_equal(vms_load(e->t, va, got, len), 0);
    for (uint64_t i = 0; i < len; i++)
        if (got[i] != c)
            fail_msg("byte at +%llu is 0x%02x, not 0x%02x", (unsigned long long)i, got[i], c);
    free(got);
}

static void assert_host_text(const char *path, off_t off, const char *text)
{
    char got[128] = {0};
    size_t n = strlen(text);
    assert_int_equal(tu_host_read(path, got, n, off), (ssize_t)n);
    assert_string_equal(got, text);
}

/* ---- the seeds' example: a store through MAP_SHARED reaches the file ---- */

#define GREETING "Hello, world: one file, mapped shared.\n"

/* open, fstat, mmap MAP_SHARED read-write, close; load through the mapping,
 * store "Hi". Returns the mapping. */
static vms_addr greet(struct tu_env *e)
{
    char path[400];
    tu_host_write(host_path(e, "file.txt", path, sizeof(path)), GREETING, strlen(GREETING));
    int fd = vms_open(e->t, "file.txt", O_RDWR, 0);
    assert_int_equal(fd, 3);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, strlen(GREETING));
    vms_addr p = map_ok(e, 0, (uint64_t)st.st_size, RW, MAP_SHARED, fd, 0);
    assert_int_equal(p, FIRST_PAGE);
    assert_int_equal(vms_close(e->t, fd), 0); /* the mapping keeps the file */
    assert_user_text(e, p, GREETING);
    store_text(e, p, "Hi");
    return p;
}

static void test_seed_example_msync_puts_hi_in_the_file_on_disk(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    host_path(e, "file.txt", path, sizeof(path));
    vms_addr p = greet(e);
    assert_int_equal(vms_msync(e->t, p, strlen(GREETING), MS_SYNC), 0);
    assert_host_text(path, 0, "Hillo, world");
    assert_int_equal(tu_host_size(path), strlen(GREETING));
    assert_int_equal(vms_munmap(e->t, p, strlen(GREETING)), 0);
    destroy_machine(e);
    assert_host_text(path, 0, "Hillo, world");
    assert_int_equal(tu_host_size(path), strlen(GREETING));
}

static void test_seed_example_without_msync_reaches_the_disk_on_destroy(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    host_path(e, "file.txt", path, sizeof(path));
    vms_addr p = greet(e);
    assert_int_equal(vms_munmap(e->t, p, strlen(GREETING)), 0);
    destroy_machine(e);
    assert_host_text(path, 0, "Hillo, world");
    assert_int_equal(tu_host_size(path), strlen(GREETING));
}

/* The host file is the machine's disk: a dirty page stays in the page
 * cache until something writes it back. */
static void test_dirty_pages_stay_in_the_cache_until_written_back(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    make_byte_file(e, "f", 2 * PG, 'a');
    host_path(e, "f", path, sizeof(path));
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr map = map_ok(e, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    store_text(e, map + PG, "dirty");
    struct vms_stats *s = tu_stats(e->m);
    assert_int_equal(s->dirty_pages, 1);
    free(s);
    assert_int_equal(tu_host_byte(path, (off_t)PG), 'a');
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_host_text(path, (off_t)PG, "dirty");
    s = tu_stats(e->m);
    assert_int_equal(s->dirty_pages, 0);
    free(s);
    tu_assert_clean(e->m);
}

/* Nothing dirty is lost when the machine goes: pages written by write()
 * and by stores are on disk afterwards, and the file has grown. */
static void test_destroy_writes_every_dirty_page(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    make_byte_file(e, "f", 2 * PG, 'a');
    host_path(e, "f", path, sizeof(path));
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr map = map_ok(e, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    vms_addr buf = tu_anon(e->t, PG, RW);
    store_text(e, buf, "appended");
    store_text(e, map, "stored");
    assert_int_equal(vms_pwrite(e->t, fd, buf, 8, (int64_t)(3 * PG)), 8);
    destroy_machine(e);
    assert_int_equal(tu_host_size(path), 3 * PG + 8);
    assert_host_text(path, 0, "storeda");
    assert_host_text(path, (off_t)(3 * PG), "appended");
    assert_int_equal(tu_host_byte(path, (off_t)(2 * PG)), 0);
}

static void test_sync_writes_back_every_file(void **state)
{
    struct tu_env *e = *state;
    char a[400], b[400];
    make_byte_file(e, "a", PG, 'a');
    make_byte_file(e, "b", PG, 'b');
    host_path(e, "a", a, sizeof(a));
    host_path(e, "b", b, sizeof(b));
    vms_addr ma = map_ok(e, 0, PG, RW, MAP_SHARED, open_ok(e, "a", O_RDWR), 0);
    vms_addr mb = map_ok(e, 0, PG, RW, MAP_SHARED, open_ok(e, "b", O_RDWR), 0);
    store_text(e, ma, "AA");
    store_text(e, mb, "BB");
    assert_int_equal(vms_sync(e->m), 0);
    assert_host_text(a, 0, "AAa");
    assert_host_text(b, 0, "BBb");
    tu_assert_clean(e->m);
}

/* ---- mmap of a file: errno ---- */

struct fds {
    int ro, wo, rw, dir;
};

/* A two-page file "f" opened three ways, and a folder "d". */
static struct fds open_fds(struct tu_env *e)
{
    char path[400];
    make_file(e, "f", 2 * PG);
    assert_int_equal(mkdir(host_path(e, "d", path, sizeof(path)), 0755), 0);
    struct fds f = {.ro = open_ok(e, "f", O_RDONLY), .wo = open_ok(e, "f", O_WRONLY),
                    .rw = open_ok(e, "f", O_RDWR), .dir = open_ok(e, "d", O_RDONLY)};
    return f;
}

static int64_t try_map(struct tu_env *e, uint64_t len, int prot, int flags, int fd, int64_t off)
{
    return vms_mmap(e->t, 0, len, prot, flags, fd, off);
}

static void test_mmap_of_a_bad_fd_is_ebadf(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, 999, 0), -EBADF);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE, -1, 0), -EBADF);
    assert_int_equal(vms_close(e->t, f.ro), 0);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE, f.ro, 0), -EBADF);
    tu_assert_clean(e->m);
}

static void test_mmap_of_a_write_only_fd_is_eacces(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    int types[] = {MAP_PRIVATE, MAP_SHARED};
    int prots[] = {PROT_READ, PROT_NONE};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            assert_int_equal(try_map(e, PG, prots[j], types[i], f.wo, 0), -EACCES);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED, f.wo, 0), -EACCES);
    tu_assert_clean(e->m);
}

static void test_mmap_shared_writable_of_a_read_only_fd_is_eacces(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED, f.ro, 0), -EACCES);
    assert_int_equal(try_map(e, PG, PROT_WRITE, MAP_SHARED, f.ro, 0), -EACCES);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED_VALIDATE, f.ro, 0), -EACCES);
    assert_int_equal(try_map(e, PG, RW, MAP_PRIVATE, f.ro, 0), (int64_t)FIRST_PAGE);
    tu_assert_clean(e->m);
}

/* The offset must be page-aligned, and offset + length may not pass
 * LLONG_MAX (the file-size limit of the VFS, not ext4's). */
static void test_mmap_offset_must_be_aligned_and_below_the_vfs_limit(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, 100), -EINVAL);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, -4096), -EOVERFLOW);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, INT64_MIN), -EOVERFLOW);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, 0x7ffffffffffff000LL),
                     -EOVERFLOW);
    assert_int_equal(try_map(e, 2 * PG, PROT_READ, MAP_SHARED, f.rw, 0x7fffffffffffe000LL),
                     -EOVERFLOW);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, 0x7fffffffffffe000LL),
                     (int64_t)FIRST_PAGE);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, 1LL << 40),
                     (int64_t)(FIRST_PAGE - PG));
    tu_assert_clean(e->m);
}

static void test_mmap_of_a_directory_is_enodev(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE, f.dir, 0), -ENODEV);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.dir, 0), -ENODEV);
    /* Before the stack flag, which a file mapping may not have (host). */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, f.dir, 0), -ENODEV);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, f.rw, 0), -EINVAL);
    /* A directory's offsets have no limit of a regular file's size. */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE, f.dir, 0x7ffffffffffff000LL), -ENODEV);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE, f.rw, 0x7ffffffffffff000LL), -EOVERFLOW);
    /* Its limit is the 64-bit range: its last page is past it (host, seed
     * 1202877: EOVERFLOW before ENODEV). */
    assert_int_equal(try_map(e, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, f.dir, -0x1000LL),
                     -EOVERFLOW);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE, f.dir, -0x2000LL), -ENODEV);
    tu_assert_clean(e->m);
}

static void test_mmap_hugetlb_of_a_file_is_einval(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, 2 * MIB, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, f.rw, 0), -EINVAL);
    tu_assert_clean(e->m);
}

/* ext4 without DAX refuses MAP_SYNC whatever the map type: the flag
 * reaches the file's own mmap even when MAP_SHARED drops it from the
 * validated flags. Anonymous private memory ignores it. */
static void test_mmap_sync_of_a_file_is_eopnotsupp(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED_VALIDATE | MAP_SYNC, f.rw, 0), -EOPNOTSUPP);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, f.rw, 0),
                     -EOPNOTSUPP);
    assert_int_equal(try_map(e, PG, RW, MAP_PRIVATE | MAP_SYNC, f.rw, 0), -EOPNOTSUPP);
    assert_int_equal(try_map(e, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_SYNC, -1, 0),
                     (int64_t)FIRST_PAGE);
    tu_assert_clean(e->m);
}

/* MAP_SHARED drops MAP_SYNC from the flags it validates, but the VMA gets
 * VM_SYNC from the flags as given, and ext4's mmap refuses it. */
static void test_mmap_shared_without_validate_still_refuses_map_sync(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED | MAP_SYNC, f.rw, 0), -EOPNOTSUPP);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED | MAP_SYNC, f.ro, 0), -EOPNOTSUPP);
    tu_assert_clean(e->m);
}

static void test_mmap_shared_validate_with_an_unknown_bit(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_UNKNOWN_BIT, f.rw, 0),
                     -EOPNOTSUPP);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_UNKNOWN_BIT,
                             -1, 0),
                     -EINVAL);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
    /* without validation the bit is ignored */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED | MAP_UNKNOWN_BIT, f.rw, 0),
                     (int64_t)FIRST_PAGE);
    tu_assert_clean(e->m);
}

/* MAP_SHARED_VALIDATE knows x86's MAP_ABOVE4G (0x80); the kernel takes the
 * flags as an unsigned long that the C library widens with the int's sign,
 * so bit 31 sets unknown bits 32-63 too (host-measured, Linux 6.18). */
static void test_mmap_shared_validate_above4g_and_bit_31(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    int64_t r = try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x80, f.rw, 0);
    assert_int_equal(r, (int64_t)FIRST_PAGE);
    assert_int_equal(vms_munmap(e->t, (vms_addr)r, PG), 0);
    r = try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x80 | MAP_32BIT, f.rw, 0);
    assert_true(r > 0 && r < (int64_t)0x80000000);
    assert_int_equal(vms_munmap(e->t, (vms_addr)r, PG), 0);
    assert_int_equal(try_map(e, PG, PROT_READ, (int)(MAP_SHARED_VALIDATE | 0x80000000u), f.rw, 0),
                     -EOPNOTSUPP);
    /* bit 30 is one of the huge page size bits, which validation lets through */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x40000000, f.rw, 0),
                     (int64_t)FIRST_PAGE);
    tu_assert_clean(e->m);
}

static void test_mmap_of_a_file_with_growsdown_is_einval(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, RW, MAP_PRIVATE | MAP_GROWSDOWN, f.rw, 0), -EINVAL);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED | MAP_GROWSDOWN, f.rw, 0), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_mmap_length_checks_for_a_file(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, 0, PROT_READ, MAP_SHARED, f.rw, 0), -EINVAL);
    assert_int_equal(try_map(e, (uint64_t)-4096, PROT_READ, MAP_SHARED, f.rw, 0), -ENOMEM);
    assert_int_equal(try_map(e, 1ULL << 47, PROT_READ, MAP_SHARED, f.rw, 0), -ENOMEM);
    tu_assert_clean(e->m);
}

static void test_mmap_of_a_file_accepts_what_linux_accepts(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    int app = open_ok(e, "f", O_RDWR | O_APPEND);
    assert_int_equal(try_map(e, PG, PROT_READ | PROT_SEM, MAP_SHARED, f.rw, 0), (int64_t)FIRST_PAGE);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED, app, 0), (int64_t)(FIRST_PAGE - PG));
    assert_int_equal(try_map(e, PG, RW, MAP_PRIVATE, app, 0), (int64_t)(FIRST_PAGE - 2 * PG));
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.rw, (int64_t)(100 * PG)),
                     (int64_t)(FIRST_PAGE - 3 * PG));
    tu_assert_clean(e->m);
}

/* Which error wins, checked one pair at a time. */
static void test_mmap_errno_priority_for_files(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    const int64_t too_far = 0x7ffffffffffff000LL;
    /* unaligned offset before the fd */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, 999, 100), -EINVAL);
    /* the fd before len 0 and a zero map type */
    assert_int_equal(try_map(e, 0, PROT_READ, MAP_SHARED, 999, 0), -EBADF);
    assert_int_equal(try_map(e, PG, PROT_READ, 0, 999, 0), -EBADF);
    /* len 0 before anything about the file */
    assert_int_equal(try_map(e, 0, PROT_READ, MAP_SHARED, f.wo, too_far), -EINVAL);
    /* a length that does not fit before the offset overflow */
    assert_int_equal(try_map(e, (uint64_t)-4096, PROT_READ, MAP_SHARED, f.rw, too_far), -ENOMEM);
    /* the overflow before the descriptor's mode */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED, f.wo, too_far), -EOVERFLOW);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED, f.ro, too_far), -EOVERFLOW);
    /* the map type before the descriptor's mode */
    assert_int_equal(try_map(e, PG, PROT_READ, 0, f.wo, 0), -EINVAL);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_UNKNOWN_BIT, f.wo, 0),
                     -EOPNOTSUPP);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED_VALIDATE | MAP_UNKNOWN_BIT, f.ro, 0),
                     -EOPNOTSUPP);
    /* an unreadable fd before GROWSDOWN */
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, f.wo, 0), -EACCES);
    tu_assert_clean(e->m);
}

/* ext4 lets MAP_SYNC through MAP_SHARED_VALIDATE (it knows the flag), so a
 * shared writable map of a read-only fd fails on the fd first; the refusal
 * of MAP_SYNC itself comes last, from ext4's own mmap. */
static void test_mmap_shared_write_of_a_read_only_fd_beats_map_sync(void **state)
{
    struct tu_env *e = *state;
    struct fds f = open_fds(e);
    assert_int_equal(try_map(e, PG, RW, MAP_SHARED_VALIDATE | MAP_SYNC, f.ro, 0), -EACCES);
    assert_int_equal(try_map(e, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, f.wo, 0), -EACCES);
    tu_assert_clean(e->m);
}

/* ---- mprotect against the descriptor's mode ---- */

static void test_mprotect_write_on_a_shared_map_of_a_read_only_fd_is_eacces(void **state)
{
    struct tu_env *e = *state;
    char line[256];
    struct fds f = open_fds(e);
    vms_addr p = map_ok(e, 0, PG, PROT_READ, MAP_SHARED, f.ro, 0);
    assert_int_equal(vms_mprotect(e->t, p, PG, RW), -EACCES);
    assert_int_equal(vms_mprotect(e->t, p, PG, PROT_WRITE), -EACCES);
    tu_file_maps_line(line, sizeof(line), p, p + PG, "r--s", 0, 1001, "/f");
    tu_assert_maps(e->t, line);
    assert_int_equal(vms_mprotect(e->t, p, PG, PROT_READ | PROT_EXEC), 0);
    tu_file_maps_line(line, sizeof(line), p, p + PG, "r-xs", 0, 1001, "/f");
    tu_assert_maps(e->t, line);
    tu_assert_clean(e->m);
}

/* The right to write comes from the descriptor at mmap time; closing it
 * later changes nothing. */
static void test_mprotect_write_on_a_shared_map_of_a_closed_rdwr_fd_succeeds(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    struct fds f = open_fds(e);
    vms_addr p = map_ok(e, 0, PG, PROT_READ, MAP_SHARED, f.rw, 0);
    assert_int_equal(vms_close(e->t, f.rw), 0);
    assert_int_equal(vms_mprotect(e->t, p, PG, RW), 0);
    store_text(e, p, "via mprotect");
    assert_int_equal(vms_msync(e->t, p, PG, MS_SYNC), 0);
    assert_host_text(host_path(e, "f", path, sizeof(path)), 0, "via mprotect");
    tu_assert_clean(e->m);
}

static void test_mprotect_write_on_a_private_map_of_a_read_only_fd_succeeds(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    struct fds f = open_fds(e);
    vms_addr p = map_ok(e, 0, PG, PROT_READ, MAP_PRIVATE, f.ro, 0);
    assert_int_equal(vms_mprotect(e->t, p, PG, RW), 0);
    store_text(e, p, "private");
    assert_user_text(e, p, "private");
    assert_int_equal(vms_sync(e->m), 0);
    assert_int_equal(tu_host_byte(host_path(e, "f", path, sizeof(path)), 0), tu_pattern(0));
    tu_assert_clean(e->m);
}

/* ---- /proc/PID/maps ---- */

/* The name is the path below the root folder, the device 08:01, the inode
 * the machine's own; the offset widens past eight digits. */
static void test_maps_lines_of_file_mappings(void **state)
{
    struct tu_env *e = *state;
    char path[400], want[1024], l1[256], l2[256], l3[256], l4[256];
    make_file(e, "maps_file", 4 * PG);
    assert_int_equal(mkdir(host_path(e, "sub", path, sizeof(path)), 0755), 0);
    make_file(e, "sub/g", PG);
    int fd = open_ok(e, "maps_file", O_RDWR), g = open_ok(e, "sub/g", O_RDONLY);
    vms_addr a = map_ok(e, 0, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    vms_addr b = map_ok(e, 0, 4 * PG, RW, MAP_SHARED, fd, 3 * (int64_t)PG);
    vms_addr c = map_ok(e, 0, PG, PROT_READ, MAP_SHARED, fd, 0x123456000LL);
    vms_addr d = map_ok(e, 0, PG, PROT_READ, MAP_SHARED, g, 0);
    assert_int_equal(a, MMAP_BASE - 4 * PG);
    assert_int_equal(b, a - 4 * PG);
    assert_int_equal(c, b - PG);
    assert_int_equal(d, c - PG);
    tu_file_maps_line(l1, sizeof(l1), d, d + PG, "r--s", 0, 1002, "/sub/g");
    tu_file_maps_line(l2, sizeof(l2), c, c + PG, "r--s", 0x123456000ULL, 1001, "/maps_file");
    tu_file_maps_line(l3, sizeof(l3), b, b + 4 * PG, "rw-s", 3 * PG, 1001, "/maps_file");
    tu_file_maps_line(l4, sizeof(l4), a, a + 4 * PG, "r--p", 0, 1001, "/maps_file");
    snprintf(want, sizeof(want), "%s%s%s%s", l1, l2, l3, l4);
    tu_assert_maps(e->t, want);
    tu_assert_clean(e->m);
}

/* A private mapping keeps its name and offset after a copy-on-write. */
static void test_maps_line_of_a_private_map_is_unchanged_by_cow(void **state)
{
    struct tu_env *e = *state;
    char line[256];
    make_file(e, "f", 4 * PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr p = map_ok(e, 0, 2 * PG, RW, MAP_PRIVATE, fd, 2 * (int64_t)PG);
    store_text(e, p, "cow");
    tu_file_maps_line(line, sizeof(line), p, p + 2 * PG, "rw-p", 2 * PG, 1001, "/f");
    tu_assert_maps(e->t, line);
    tu_assert_clean(e->m);
}

static void test_mprotect_of_the_middle_page_splits_with_each_piece_offset(void **state)
{
    struct tu_env *e = *state;
    char want[1024], l1[256], l2[256], l3[256];
    make_file(e, "f", 8 * PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr p = map_ok(e, 0, 3 * PG, RW, MAP_SHARED, fd, 3 * (int64_t)PG);
    assert_int_equal(vms_mprotect(e->t, p + PG, PG, PROT_READ), 0);
    tu_file_maps_line(l1, sizeof(l1), p, p + PG, "rw-s", 0x3000, 1001, "/f");
    tu_file_maps_line(l2, sizeof(l2), p + PG, p + 2 * PG, "r--s", 0x4000, 1001, "/f");
    tu_file_maps_line(l3, sizeof(l3), p + 2 * PG, p + 3 * PG, "rw-s", 0x5000, 1001, "/f");
    snprintf(want, sizeof(want), "%s%s%s", l1, l2, l3);
    tu_assert_maps(e->t, want);
    tu_assert_clean(e->m);
}

/* ---- placement: 2 MiB alignment of file ranges ---- */

/* Where a mapping of len bytes at offset off lands in an empty task. */
static vms_addr placed(struct tu_env *e, int fd, uint64_t len, int64_t off, int flags)
{
    vms_addr p = map_ok(e, 0, len, PROT_READ, flags, fd, off);
    assert_int_equal(vms_munmap(e->t, p, len), 0);
    return p;
}

/* A range holding a whole aligned 2 MiB of the file is placed so that
 * address = offset (mod 2 MiB); the file's end does not matter. */
static void test_file_range_with_a_whole_2mib_chunk_is_aligned_to_its_offset(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "f", PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(placed(e, fd, 2 * MIB, 0, MAP_SHARED), 0x7ffff7c00000ULL);
    assert_int_equal(placed(e, fd, 2 * MIB, 0, MAP_PRIVATE), 0x7ffff7c00000ULL);
    assert_int_equal(placed(e, fd, 4 * MIB, 0x1000, MAP_SHARED), 0x7ffff7a01000ULL);
    assert_int_equal(placed(e, fd, 0x201000, 0x1ff000, MAP_SHARED), 0x7ffff7bff000ULL);
    assert_int_equal(placed(e, fd, 2 * MIB, 2 * (int64_t)MIB, MAP_SHARED), 0x7ffff7c00000ULL);
    tu_assert_clean(e->m);
}

static void test_file_range_without_a_whole_2mib_chunk_is_placed_as_usual(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "f", PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(placed(e, fd, 2 * MIB, 0x1000, MAP_SHARED), MMAP_BASE - 2 * MIB);
    assert_int_equal(placed(e, fd, 3 * MIB, 0x1000, MAP_SHARED), MMAP_BASE - 3 * MIB);
    assert_int_equal(placed(e, fd, 0x1ff000, 0, MAP_SHARED), MMAP_BASE - 0x1ff000);
    tu_assert_clean(e->m);
}

/* The search asks for len + 2 MiB; when its result is already congruent,
 * the mapping goes 2 MiB higher, not at the result itself. */
static void test_congruent_search_result_moves_up_2mib(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "f", PG);
    int fd = open_ok(e, "f", O_RDONLY);
    /* len + 2 MiB = 0x5ff000 ends at mmap_base: the search gives 0x7ffff7a00000 */
    assert_int_equal(placed(e, fd, 0x3ff000, 0, MAP_SHARED), 0x7ffff7c00000ULL);
    tu_assert_clean(e->m);
}

static void test_usable_hint_is_honored_for_a_file(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "f", PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_mmap(e->t, 0x100001000ULL, 4 * MIB, PROT_READ, MAP_SHARED, fd, 0),
                     0x100001000LL);
    tu_assert_clean(e->m);
}

/* ---- read faults: fault-around (16 pages) on a cached file ---- */

static void test_fault_around_maps_the_aligned_16_page_block(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 0, 64, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_pattern(e, p, 64, 0,
                   "0000000000000000" "1000000000000000" "1000000000000000" "1000000000000000");
    tu_assert_clean(e->m);
}

/* A VMA starting inside a block slides the window forward: 16 pages from
 * the VMA's start, not the 13 left in the block. */
static void test_fault_around_window_slides_forward_from_the_vma_start(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 3, 64, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_pattern(e, p, 64, 0,
                   "0000000000000000100000000000010000000000000001000000000000000100");
    tu_assert_clean(e->m);
}

static void test_fault_around_later_windows_are_aligned_blocks(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 3, 64, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + 14 * PG, 0), '1'); /* VA page 17: block 16..31 */
    assert_pattern(e, p, 40, 0, "1000000000000000000000000000010000000000");
    tu_assert_clean(e->m);
}

static void test_fault_around_maps_the_block_of_the_faulting_page(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 0, 64, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + 21 * PG, 0), '1');
    assert_pattern(e, p, 64, 0,
                   "1000000000000000000000000000000010000000000000001000000000000000");
    tu_assert_clean(e->m);
}

/* The window never crosses into the next 2 MiB page table. */
static void test_fault_around_stops_at_the_page_table_boundary(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 512 - 8, 32, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + 7 * PG, 0), '1');
    assert_pattern(e, p, 32, 0, "00000000100000000000000010000000");
    tu_assert_clean(e->m);
}

/* Windows follow the virtual address, whatever the file offset. */
static void test_fault_around_follows_the_address_not_the_file_offset(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 0, 32, PROT_READ, MAP_SHARED, fd, 5);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_pattern(e, p, 32, 0, "00000000000000001000000000000000");
    tu_assert_clean(e->m);
}

/* The VMA's end clips the window; it is not moved back to make 16. */
static void test_fault_around_is_clipped_by_the_vma_end(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDONLY);
    vms_addr p = map_at(e, 0, 20, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + 18 * PG, 0), '1');
    assert_pattern(e, p, 20, 0, "10000000000000000000");
    tu_assert_clean(e->m);
}

/* The partial last page is mapped with its neighbours; nothing after it. */
static void test_fault_around_maps_the_partial_eof_page(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "f", 5000);
    int fd = open_ok(e, "f", O_RDONLY);
    warm_cache(e, fd, 2, -1);
    vms_addr p = map_at(e, 0, 4, PROT_READ, MAP_SHARED, fd, 0);
    assert_pattern(e, p, 2, 0, "10");
    assert_load_sigbus(e, p + 2 * PG);
    tu_assert_clean(e->m);
}

/* A page missing from the cache is skipped by fault-around and costs a
 * major fault of its own. */
static void test_fault_around_leaves_an_uncached_page_to_a_major_fault(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "f", 64 * PG);
    int fd = open_ok(e, "f", O_RDONLY);
    warm_cache(e, fd, 64, 7);
    vms_addr p = map_at(e, 0, 16, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_pattern(e, p, 16, 0, "0000000M00000000");
    tu_assert_clean(e->m);
}

/* A mapping longer than its file, whose file index is below its slot in the
 * page table (offset 0 mapped at slot 5): the window is clipped at the end
 * of the file, not emptied. Host: one fault at page 1 maps pages 0-3. */
static void test_fault_around_of_a_file_mapped_above_its_offset_reaches_eof(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 4, O_RDONLY);
    vms_addr p = map_at(e, 5, 6, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + PG, 0), '1');
    assert_pattern(e, p, 4, 0, "0000");
    tu_assert_clean(e->m);
}

/* read() reads ahead as Linux's page_cache_sync_ra/async_ra with the default
 * 128 KiB window, as measured on an ext4 disk set to it: the first read of
 * one page at offset 0 brings pages 0-3 and marks page 1; reading the marked
 * page brings the next 8 (4-11); a read far away with no cached run before
 * it reads only what it asks for. */
static void test_read_readahead_grows_as_a_stream_goes_on(void **state)
{
    struct tu_env *e = *state;
    enum { N = 48 };
    char want[N + 1];
    make_file(e, "s", N * PG);
    int fd = open_ok(e, "s", O_RDONLY);
    vms_addr view = map_ok(e, 0, N * PG, PROT_READ, MAP_SHARED, fd, 0); /* never touched */
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_read(e->t, fd, buf, PG), (int64_t)PG);
    assert_residency(e, view, N, ones(want, N, 0, 3));
    assert_int_equal(vms_read(e->t, fd, buf, PG), (int64_t)PG);
    assert_residency(e, view, N, ones(want, N, 0, 11));
    assert_int_equal(vms_read(e->t, fd, buf, PG), (int64_t)PG);
    assert_int_equal(vms_read(e->t, fd, buf, PG), (int64_t)PG);
    assert_residency(e, view, N, ones(want, N, 0, 11));
    assert_int_equal(vms_pread(e->t, fd, buf, PG, 40 * PG), (int64_t)PG);
    ones(want, N, 0, 11);
    want[40] = '1';
    assert_residency(e, view, N, want);
    tu_assert_clean(e->m);
}

/* A read() remembers where it ended (prev_pos) only once it reached the
 * copy: one that returns before (empty, or at or past EOF) leaves the last
 * read's end, so the next read may still look sequential; one whose copy
 * faults does count. Host-measured (64 KiB file, 100-byte preads). */
static void test_read_that_copies_nothing_keeps_the_last_reads_end(void **state)
{
    struct tu_env *e = *state;
    enum { N = 16 };
    vms_addr buf = tu_anon(e->t, PG, RW);
    const char *names[] = {"h", "i", "k"};
    for (int i = 0; i < 3; i++)
        make_file(e, names[i], N * PG);
    int fd = open_ok(e, "h", O_RDONLY);
    vms_addr view = map_ok(e, 0, N * PG, PROT_READ, MAP_SHARED, fd, 0); /* never touched */
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 3 * PG), 100);
    assert_int_equal(vms_pread(e->t, fd, buf, 0, 9 * PG), 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 10 * PG), 100);
    assert_residency(e, view, N, "0001000000100000"); /* host: 0001000000100000 */
    fd = open_ok(e, "i", O_RDONLY);
    view = map_ok(e, 0, N * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 3 * PG), 100);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, (N + 9) * PG), 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 4 * PG), 100);
    assert_residency(e, view, N, "0001111100000000"); /* host: 0001111100000000 */
    fd = open_ok(e, "k", O_RDONLY);
    view = map_ok(e, 0, N * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 3 * PG), 100);
    assert_int_equal(vms_pread(e->t, fd, 0x10000, 100, 9 * PG), -EFAULT);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 10 * PG), 100);
    assert_residency(e, view, N, "0001000001111100"); /* host: 0001000001111100 */
    tu_assert_clean(e->m);
}

/* prev_pos is set when a read() ends, not page by page: a miss later in
 * the same read is not sequential to its start. Host: a 16-page file with
 * only page 2 cached (a 100-byte pread there); a fresh descriptor's
 * pread(0x1581 bytes at 0x2fd5) then brings in pages 3-4 only, and with
 * pages 1-2 cached the same. */
static void test_a_miss_within_one_read_is_not_taken_for_a_stream(void **state)
{
    struct tu_env *e = *state;
    enum { N = 16 };
    vms_addr buf = tu_anon(e->t, 2 * PG, RW);
    make_file(e, "p1", N * PG);
    make_file(e, "p2", N * PG);
    int fd = open_ok(e, "p1", O_RDONLY);
    vms_addr view = map_ok(e, 0, N * PG, PROT_READ, MAP_SHARED, fd, 0); /* never touched */
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 2 * PG), 100);
    assert_int_equal(vms_pread(e->t, open_ok(e, "p1", O_RDONLY), buf, 0x1581, 0x2fd5), 0x1581);
    assert_residency(e, view, N, "0011100000000000"); /* host: 0011100000000000 */
    fd = open_ok(e, "p2", O_RDONLY);
    view = map_ok(e, 0, N * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 2 * PG), 100);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 1 * PG), 100);
    assert_int_equal(vms_pread(e->t, open_ok(e, "p2", O_RDONLY), buf, 0x1581, 0x2fd5), 0x1581);
    assert_residency(e, view, N, "0111100000000000"); /* host: 0111100000000000 */
    tu_assert_clean(e->m);
}

static void test_fault_around_is_the_same_for_private_mappings(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDWR);
    const char *want =
        "0000000000000000" "1000000000000000" "1000000000000000" "1000000000000000";
    vms_addr ro = map_at(e, 0, 64, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, ro, 0), '1');
    assert_pattern(e, ro, 64, 0, want);
    vms_addr rw = map_at(e, 512, 64, RW, MAP_PRIVATE, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, rw, 0), '1');
    assert_pattern(e, rw, 64, 0, want);
    tu_assert_clean(e->m);
}

/* ---- write faults ---- */

static void test_first_shared_write_maps_no_neighbours(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDWR);
    vms_addr p = map_at(e, 0, 64, RW, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_pattern(e, p, 64, 0,
                   "0100000000000000" "1000000000000000" "1000000000000000" "1000000000000000");
    tu_assert_clean(e->m);
}

/* A page mapped by a read is write-protected until its first write
 * (write-notify): one more fault, then none. Pages mapped by fault-around
 * cost their own. */
static void test_write_after_read_on_a_shared_mapping_costs_one_fault(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDWR);
    vms_addr p = map_at(e, 0, 64, RW, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    assert_int_equal(tu_fault_cost(e->t, p + PG, 1), '1');
    assert_pattern(e, p + 2 * PG, 19, 1, "1111111111111111111");
    tu_assert_clean(e->m);
}

static void test_private_write_copies_once(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    int fd = hot_file(e, 64, O_RDWR);
    vms_addr p = map_at(e, 0, 64, RW, MAP_PRIVATE, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1'); /* copy-on-write */
    assert_int_equal(tu_fault_cost(e->t, p, 0), '0');
    assert_int_equal(tu_fault_cost(e->t, p, 1), '0');
    assert_int_equal(tu_fault_cost(e->t, p + PG, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p + PG, 0), '0');
    assert_int_equal(tu_load_byte(e->t, p), 'w');
    assert_int_equal(tu_load_byte(e->t, p + 1), tu_pattern(1)); /* the rest was copied */
    assert_int_equal(vms_sync(e->m), 0);
    assert_int_equal(tu_host_byte(host_path(e, "f", path, sizeof(path)), 0), tu_pattern(0));
    tu_assert_clean(e->m);
}

static void test_first_private_write_maps_no_neighbours(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDWR);
    vms_addr p = map_at(e, 0, 64, RW, MAP_PRIVATE, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p, 1), '1');
    assert_pattern(e, p, 20, 0, "01000000000000001000");
    tu_assert_clean(e->m);
}

/* A read after a write fault maps the block around it, the written page
 * aside; the others are still write-protected. */
static void test_read_after_a_shared_write_maps_the_rest_read_only(void **state)
{
    struct tu_env *e = *state;
    int fd = hot_file(e, 64, O_RDWR);
    vms_addr p = map_at(e, 0, 64, RW, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + 5 * PG, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p, 0), '1');
    assert_pattern(e, p, 16, 0, "0000000000000000");
    assert_int_equal(tu_fault_cost(e->t, p + 5 * PG, 1), '0');
    assert_int_equal(tu_fault_cost(e->t, p + 6 * PG, 1), '1');
    tu_assert_clean(e->m);
}

/* ---- a cold file: read-around and its marker ---- */

#define COLD_PAGES 256

/* A 256-page file the machine has never read; mapped at BASE. */
static vms_addr map_cold(struct tu_env *e, int prot, int flags, int open_flags)
{
    make_file(e, "big", COLD_PAGES * PG);
    int fd = open_ok(e, "big", open_flags);
    return map_at(e, 0, COLD_PAGES, prot, flags, fd, 0);
}

/* The first fault reads 32 pages from the disk: one major fault, no minor
 * one; the retry maps the first 16. Page 24 carries the readahead marker,
 * which fault-around skips: it costs a fault, which reads the next window. */
static void test_cold_first_read_is_one_major_fault_and_reads_32_pages(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr p = map_cold(e, PROT_READ, MAP_SHARED, O_RDONLY);
    assert_int_equal(tu_fault_cost(e->t, p, 0), 'M');
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 0, 31));
    assert_pattern(e, p, 64, 0,
                   "0000000000000000" "1000000010000000" "1000000000000000" "1000000000000000");
    assert_int_equal(tu_majflt(e->t), 1);
    tu_assert_clean(e->m);
}

/* MADV_RANDOM stops read-around, but not for executable memory, which is
 * read at random anyway (host: the same 100..131 as without the advice). */
static void test_cold_exec_read_ignores_madv_random(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr all = map_cold(e, PROT_READ, MAP_SHARED, O_RDONLY);
    int fd = open_ok(e, "big", O_RDONLY);
    vms_addr x = map_at(e, 512, 60, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 90);
    assert_int_equal(vms_madvise(e->t, x, 60 * PG, MADV_RANDOM), 0);
    assert_int_equal(tu_fault_cost(e->t, x + 10 * PG, 0), 'M');
    assert_residency(e, all, COLD_PAGES, ones(want, COLD_PAGES, 100, 131));
    tu_assert_clean(e->m);
}

/* Touching the readahead marker reads the next window; Linux then faults
 * again, and that fault maps the block around the marker. Host, at
 * read_ahead_kb 128: after page 0 (major) and page 24 (the marker, minor),
 * pages 16..31 cost nothing; page 32, in the window just read, one. */
static void test_marker_fault_maps_its_block_when_it_retries(void **state)
{
    struct tu_env *e = *state;
    vms_addr p = map_cold(e, PROT_READ, MAP_SHARED, O_RDONLY);
    assert_int_equal(tu_fault_cost(e->t, p, 0), 'M');
    assert_int_equal(tu_fault_cost(e->t, p + 24 * PG, 0), '1');
    assert_int_equal(tu_fault_cost(e->t, p + 25 * PG, 0), '0');
    assert_int_equal(tu_fault_cost(e->t, p + 16 * PG, 0), '0');
    assert_int_equal(tu_fault_cost(e->t, p + 31 * PG, 0), '0');
    assert_int_equal(tu_fault_cost(e->t, p + 32 * PG, 0), '1');
    tu_assert_clean(e->m);
}

/* A marker left by another descriptor's read(): the fault's own file has
 * no window there, so the next one starts at the first page not cached
 * after the marker and is a whole window long (Linux's page_cache_async_ra
 * for interleaved streams); the retry then maps what it read. Host: a
 * 13-page file of holes, read(fd A, 4 KiB at 0) that faults on its buffer
 * (pages 0-3 cached, the marker on 1); a private map through fd B: the
 * load of page 1 costs 1 minor fault, all 13 pages are then resident, and
 * pages 8 and 12 cost nothing. (Pages 4-7 cost one more on the host: they
 * are one large folio holding the marker.) */
static void test_marker_of_another_descriptor_reads_the_next_window(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "x", 0);
    int a = open_ok(e, "x", O_RDWR);
    assert_int_equal(vms_ftruncate(e->t, a, 0xc001), 0);
    assert_int_equal(vms_read(e->t, a, 0x7f0000000000ULL, PG), -EFAULT);
    int b = open_ok(e, "x", O_RDONLY);
    vms_addr p = map_at(e, 0, 13, RW, MAP_PRIVATE, b, 0);
    assert_residency(e, p, 13, "1111000000000");         /* host: 1111000000000 */
    assert_int_equal(tu_fault_cost(e->t, p + PG, 0), '1');      /* host: 1/0 */
    assert_residency(e, p, 13, "1111111111111");         /* host: 1111111111111 */
    assert_int_equal(tu_fault_cost(e->t, p + 8 * PG, 0), '0');  /* host: 0/0 */
    assert_int_equal(tu_fault_cost(e->t, p + 12 * PG, 0), '0'); /* host: 0/0 */
    tu_assert_clean(e->m);
}

/* Reading on through the file never waits for the disk again. */
static void test_cold_sequential_reads_cost_one_major_fault_in_all(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr p = map_cold(e, PROT_READ, MAP_SHARED, O_RDONLY);
    for (int i = 0; i < COLD_PAGES; i++)
        (void)tu_load_byte(e->t, p + (uint64_t)i * PG);
    assert_int_equal(tu_majflt(e->t), 1);
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 0, COLD_PAGES - 1));
    tu_assert_clean(e->m);
}

/* Read-around centres on the fault: pages 84..115 for page 100, marker at
 * 108; touching the marker reads 116..147 without a major fault. */
static void test_cold_read_in_the_middle_reads_around_the_fault(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr p = map_cold(e, PROT_READ, MAP_SHARED, O_RDONLY);
    assert_int_equal(tu_fault_cost(e->t, p + 100 * PG, 0), 'M');
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 84, 115));
    assert_pattern(e, p + 96 * PG, 12, 0, "000000000000");
    assert_int_equal(tu_fault_cost(e->t, p + 108 * PG, 0), '1');
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 84, 147));
    assert_int_equal(tu_majflt(e->t), 1);
    assert_int_equal(tu_load_byte(e->t, p + 100 * PG + 7), tu_pattern(100 * PG + 7));
    tu_assert_clean(e->m);
}

static void test_cold_private_read_reads_around_the_same_way(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr p = map_cold(e, PROT_READ, MAP_PRIVATE, O_RDONLY);
    assert_int_equal(tu_fault_cost(e->t, p + 100 * PG, 0), 'M');
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 84, 115));
    tu_assert_clean(e->m);
}

/* Executable memory is read from the fault onwards, one window at most and
 * never past the VMA, with no readahead marker (Linux 6.16+). Measured on
 * the host with read_ahead_kb 128: an r-x mapping of file pages 90..149
 * faulted at page 100 reads 100..131; page 108 then costs a minor fault;
 * page 95 reads 95..99; page 135 reads 135..149. */
static void test_cold_exec_read_reads_ahead_within_the_vma_only(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr all = map_cold(e, PROT_READ, MAP_SHARED, O_RDONLY);
    int fd = open_ok(e, "big", O_RDONLY);
    vms_addr x = map_at(e, 512, 60, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 90);
    assert_int_equal(tu_fault_cost(e->t, x + 10 * PG, 0), 'M');
    assert_residency(e, all, COLD_PAGES, ones(want, COLD_PAGES, 100, 131));
    assert_int_equal(tu_fault_cost(e->t, x + 18 * PG, 0), '1');
    assert_residency(e, all, COLD_PAGES, ones(want, COLD_PAGES, 100, 131));
    assert_int_equal(tu_fault_cost(e->t, x + 5 * PG, 0), 'M');
    assert_residency(e, all, COLD_PAGES, ones(want, COLD_PAGES, 95, 131));
    assert_int_equal(tu_fault_cost(e->t, x + 45 * PG, 0), 'M');
    ones(want, COLD_PAGES, 95, 131);
    memset(want + 135, '1', 15);
    assert_residency(e, all, COLD_PAGES, want);
    tu_assert_clean(e->m);
}

/* A file whose faults keep missing the cache stops reading around them
 * (Linux's MMAP_LOTSAMISS, 100): each miss counts one, each page a fault
 * finds or maps around counts one less. Measured on the host at
 * read_ahead_kb 128 with faults 64 pages apart on a cold file: private
 * write faults (no fault-around) each read the 32 pages around them up to
 * the 100th miss, then only their own page; read faults map 16 pages
 * around each time, so they never stop reading around. `want[k]` is how
 * many of the 64 pages from fault k are cached after it. */
#define MISS_STRIDE 64
#define MISS_FAULTS 105
static void check_misses(struct tu_env *e, int write, int around_until)
{
    make_file(e, "misses", (size_t)MISS_STRIDE * MISS_FAULTS * PG);
    int fd = open_ok(e, "misses", O_RDONLY);
    vms_addr p = map_at(e, 0, MISS_STRIDE * MISS_FAULTS, RW, MAP_PRIVATE, fd, 0);
    char res[MISS_STRIDE + 1];
    for (int k = 0; k < MISS_FAULTS; k++) {
        vms_addr va = p + (uint64_t)k * MISS_STRIDE * PG;
        assert_int_equal(tu_fault_cost(e->t, va, write), 'M');
        tu_residency(e->t, va, MISS_STRIDE, res);
        int cached = 0;
        for (int i = 0; i < MISS_STRIDE; i++)
            cached += res[i] == '1';
        int want = k == 0 ? 32 : k < around_until ? 16 : 1;
        if (cached != want)
            fail_msg("fault %d: %d pages cached, want %d", k, cached, want);
    }
    tu_assert_clean(e->m);
}

static void test_cold_write_faults_stop_reading_around_after_100_misses(void **state)
{
    check_misses(*state, 1, 100);
}

static void test_cold_read_faults_keep_reading_around(void **state)
{
    check_misses(*state, 0, MISS_FAULTS);
}

static void test_cold_shared_write_is_one_major_fault_and_reads_around(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    vms_addr p = map_cold(e, RW, MAP_SHARED, O_RDWR);
    assert_int_equal(tu_fault_cost(e->t, p + 100 * PG, 1), 'M');
    assert_int_equal(tu_minflt(e->t), 0);
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 84, 115));
    assert_int_equal(tu_load_byte(e->t, p + 100 * PG), 'w');
    assert_int_equal(tu_load_byte(e->t, p + 100 * PG + 1), tu_pattern(100 * PG + 1));
    tu_assert_clean(e->m);
}

/* pread() of a cold file faults nothing; from offset 0 it reads ahead
 * four pages, elsewhere only the page asked for. */
static void test_cold_pread_reads_ahead_only_from_the_start(void **state)
{
    struct tu_env *e = *state;
    char want[COLD_PAGES + 1];
    make_file(e, "big", COLD_PAGES * PG);
    int fd = open_ok(e, "big", O_RDONLY);
    vms_addr buf = tu_anon(e->t, PG, RW);
    tu_store_byte(e->t, buf, 0);
    vms_addr p = map_at(e, 0, COLD_PAGES, PROT_READ, MAP_SHARED, fd, 0);
    uint64_t min0 = tu_minflt(e->t);
    assert_int_equal(vms_pread(e->t, fd, buf, PG, 0), (int64_t)PG);
    assert_int_equal(tu_minflt(e->t), min0);
    assert_int_equal(tu_majflt(e->t), 0);
    assert_residency(e, p, COLD_PAGES, ones(want, COLD_PAGES, 0, 3));
    assert_int_equal(vms_pread(e->t, fd, buf, PG, 100 * (int64_t)PG), (int64_t)PG);
    ones(want, COLD_PAGES, 0, 3);
    want[100] = '1';
    assert_residency(e, p, COLD_PAGES, want);
    tu_assert_clean(e->m);
}

/* ---- beyond the end of the file ---- */

/* A 5000-byte file of 'a': page 1 is the partial last page, page 2 lies
 * wholly beyond EOF. */
static int eof_file(struct tu_env *e, int flags)
{
    make_byte_file(e, "eof", 5000, 'a');
    return open_ok(e, "eof", flags);
}

static void test_tail_of_the_last_page_reads_zero(void **state)
{
    struct tu_env *e = *state;
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 3 * PG, RW, MAP_SHARED, fd, 0);
    assert_int_equal(tu_load_byte(e->t, m + 4999), 'a');
    assert_user_bytes(e, m + 5000, 2 * PG - 5000, 0);
    tu_assert_clean(e->m);
}

/* A store past EOF in the last page is visible through every mapping but
 * is never file data: the size stays, and write-back zeroes it. */
static void test_store_past_eof_stays_until_written_back_then_reads_zero(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    host_path(e, "eof", path, sizeof(path));
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 3 * PG, RW, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, m + 6000, 'W');
    tu_store_byte(e->t, m + 5000, 'V');
    vms_addr other = map_ok(e, 0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_load_byte(e->t, other + 6000), 'W');
    assert_int_equal(vms_msync(e->t, m, 2 * PG, MS_SYNC), 0);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 5000);
    assert_int_equal(tu_host_size(path), 5000);
    assert_int_equal(tu_load_byte(e->t, m + 5000), 0);
    assert_int_equal(tu_load_byte(e->t, m + 6000), 0);
    assert_int_equal(tu_load_byte(e->t, other + 6000), 0);
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 16, 4990), 10);
    tu_assert_clean(e->m);
}

static void test_store_past_eof_survives_munmap_and_ms_async_but_not_fsync(void **state)
{
    struct tu_env *e = *state;
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, m + 6000, 'W');
    assert_int_equal(vms_munmap(e->t, m, 2 * PG), 0);
    m = map_ok(e, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    assert_int_equal(tu_load_byte(e->t, m + 6000), 'W');
    assert_int_equal(vms_msync(e->t, m, 2 * PG, MS_ASYNC), 0);
    assert_int_equal(tu_load_byte(e->t, m + 6000), 'W');
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(tu_load_byte(e->t, m + 6000), 0);
    tu_assert_clean(e->m);
}

/* SIGBUS with BUS_ADRERR at the very byte, for loads and stores, shared
 * and private alike; the partial last page stays writable. */
static void test_access_to_a_page_wholly_beyond_eof_is_sigbus(void **state)
{
    struct tu_env *e = *state;
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 3 * PG, RW, MAP_SHARED, fd, 0);
    assert_load_sigbus(e, m + 2 * PG + 123);
    assert_store_sigbus(e, m + 2 * PG + 5);
    vms_addr pv = map_ok(e, 0, 3 * PG, RW, MAP_PRIVATE, fd, 0);
    assert_store_sigbus(e, pv + 2 * PG + 7);
    assert_load_sigbus(e, pv + 2 * PG);
    tu_store_byte(e->t, pv + 6000, 'P');
    assert_int_equal(tu_load_byte(e->t, pv + 6000), 'P');
    tu_assert_clean(e->m);
}

/* A 0x2388-byte file (pages 0..2), all cached, mapped from page `first`
 * to page 4 at BASE, the start of a page table; `table`: something else is
 * mapped in that table first. A load of page 4 raises SIGBUS; its
 * fault-around then maps the cached pages in its window, except that Linux
 * 6.18 makes no new table for a window whose first page is the file's last:
 * then nothing is mapped. `want` is the cost of loading pages first..2
 * afterwards (measured on the host). */
static void check_fault_past_eof_maps_around(struct tu_env *e, uint64_t first, int table,
                                             const char *want)
{
    make_file(e, "eof3", 0x2388);
    int fd = open_ok(e, "eof3", O_RDONLY);
    vms_addr buf = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 0x2388, 0), 0x2388);
    if (table)
        tu_store_byte(e->t, map_at(e, 256, 1, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 1);
    vms_addr m = map_at(e, 0, 5 - first, PROT_READ, MAP_SHARED, fd, first);
    assert_load_sigbus(e, m + (4 - first) * PG);
    char got[8];
    tu_fault_pattern(e->t, m, (int)(3 - first), 0, got);
    assert_string_equal(got, want);
    tu_assert_clean(e->m);
}

static void test_fault_past_eof_with_only_the_last_page_around_maps_nothing(void **state)
{
    check_fault_past_eof_maps_around(*state, 2, 0, "1");
}

static void test_fault_past_eof_maps_the_last_page_into_an_existing_table(void **state)
{
    check_fault_past_eof_maps_around(*state, 2, 1, "0");
}

static void test_fault_past_eof_maps_a_window_that_starts_before_the_last_page(void **state)
{
    check_fault_past_eof_maps_around(*state, 1, 0, "00");
}

/* mprotect making locked private memory writable copies its pages at once,
 * without dropping the lock as mmap's and mlock's populate do: a page read
 * from the disk counts as a major fault here. Host: an empty MAP_LOCKED
 * 2-page map, the file then grown, costs 1 major + 1 minor fault in the
 * mprotect; the stores after it cost nothing. */
static void test_mprotect_writable_of_locked_private_file_memory_counts_the_read_major(void **state)
{
    struct tu_env *e = *state;
    int fd = open_ok(e, "grown", O_RDWR | O_CREAT | O_TRUNC);
    vms_addr m = map_ok(e, 0, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_LOCKED, fd, 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x3007), 0);
    uint64_t min0 = tu_minflt(e->t), maj0 = tu_majflt(e->t);
    assert_int_equal(vms_mprotect(e->t, m, 2 * PG, RW), 0);
    assert_int_equal(tu_minflt(e->t) - min0, 1);
    assert_int_equal(tu_majflt(e->t) - maj0, 1);
    assert_int_equal(tu_fault_cost(e->t, m, 1), '0');
    assert_int_equal(tu_fault_cost(e->t, m + PG, 1), '0');
    tu_assert_clean(e->m);
}

/* The disk the host measurements below were taken on reads ahead
 * 8192 KiB (a read-around is 2048 pages, its async part 512). */
static void use_disk_of_the_measuring_host(struct tu_env *e)
{
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    struct vms_config c = tu_config(64ULL << 20);
    c.root = e->root;
    tu_measuring_host_disk(&c);
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
}

/* ext4 leaves the page of the end of file in the page cache, not yet read,
 * when a truncate puts that end inside a page: the new end when the size
 * shrinks or stays, the old end when it grows. Read-around passes such a
 * page by, and the fault that reads it is minor. Each case: a file of
 * `pages` written pages the machine never read, truncated to `first` and
 * then `second` (if not -1), then every page loaded in order; the fault
 * costs are the host's (ext4, Linux 6.18). */
struct truncate_case {
    int pages;
    int64_t first, second;
    const char *costs;
};

static void test_truncate_leaves_the_eof_page_cached_but_unread(void **state)
{
    static const struct truncate_case cases[] = {
        {0, 0x3007, -1, "M000"},        {0, 0x1388, 0x3007, "M100"},
        {0, 0x64, 0x10000, "1M00000000000000"},
        {0, 0x8000, 0x64, "1"},         {0, 0x8000, 0x2064, "M01"},
        {0, 0x2000, 0x5000, "M0000"},   {4, 0x1064, -1, "M1"},
        {4, 0x2000, -1, "M0"},          {2, 0x1800, 0x5007, "M10000"},
        {2, 0x5007, -1, "M00000"},      {0, 0x5007, 0x5007, "M00001"},
    };
    struct tu_env *e = *state;
    /* The read-around of case 2 runs past the end of the file and meets
     * the cached page 0: its marker would land async pages before the end
     * (page 8 with a 32-page window), none with the host's 2048. */
    use_disk_of_the_measuring_host(e);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct truncate_case *c = &cases[i];
        char name[16], got[20];
        snprintf(name, sizeof(name), "t%zu", i);
        make_file(e, name, (size_t)c->pages * PG);
        int fd = open_ok(e, name, O_RDWR);
        assert_int_equal(vms_ftruncate(e->t, fd, c->first), 0);
        if (c->second >= 0)
            assert_int_equal(vms_ftruncate(e->t, fd, c->second), 0);
        int pages = (int)strlen(c->costs);
        vms_addr m = map_at(e, 512 * i, (uint64_t)pages, PROT_READ, MAP_SHARED, fd, 0);
        tu_fault_pattern(e->t, m, pages, 0, got);
        if (strcmp(got, c->costs) != 0)
            fail_msg("case %zu: costs %s, want %s", i, got, c->costs);
    }
    tu_assert_clean(e->m);
}

/* A write that fails (its buffer is not mapped) still leaves the page it
 * prepared in the cache, past the end of the file; a truncate, even to the
 * same size, removes it, so a later read misses and reads ahead (pages
 * 0..3). Both as on the host. */
static void test_page_of_a_failed_write_stays_until_a_truncate(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "w", 0);
    int fd = open_ok(e, "w", O_RDWR);
    vms_addr m = map_at(e, 0, 8, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(vms_write(e->t, fd, 0x7f0000000000ULL, 0x6c5), -EFAULT);
    assert_residency(e, m, 8, "10000000");
    assert_int_equal(vms_ftruncate(e->t, fd, 0), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x8000), 0);
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_read(e->t, fd, buf, PG), PG);
    assert_residency(e, m, 8, "11110000");
    tu_assert_clean(e->m);
}

/* A write that starts past the end of file grows it as a truncate does:
 * ext4 zeroes the old end-of-file block first, so the old end's page is
 * left cached but unread (not resident, its first load minor), whether the
 * copy then succeeds or faults at once. Each case: a file of `size` bytes
 * (with `written` bytes of data, the rest a truncate's hole), never read,
 * one pwrite of 0x74 bytes at `at`; then mincore of pages 0-2 and the cost
 * of a load of page 1. Host-measured (ext4, Linux 6.18). */
struct write_past_eof_case {
    int64_t written, size, at;
    int bad_buffer;
    const char *resident;
    char page1_cost;
};

/* A write that starts past the end inside the cached end page zeroes the
 * gap it leaves after the old end, and nothing further: what a shared
 * mapping stored beyond the write's start stays. Host: a 100-byte file
 * mapped shared, bytes stored at 0x200 and 0xcd8, then a write at 0x8d5
 * (of 2 bytes, or from an unmapped buffer): 0x200 reads 0, 0xcd8 keeps
 * its byte, i_size is 0x8d7 or 0x8d5; a truncate to 0x8d5 zeroes both. */
static void check_write_past_eof_in_a_cached_page(struct tu_env *e, const char *name, int how,
                                                  uint8_t at_cd8, int64_t size)
{
    make_file(e, name, 100);
    int fd = open_ok(e, name, O_RDWR);
    vms_addr m = map_ok(e, 0, PG, RW, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, m + 0x200, 0x33);
    tu_store_byte(e->t, m + 0xcd8, 0x59);
    vms_addr buf = tu_anon(e->t, PG, RW);
    tu_store_byte(e->t, buf, 'z');
    if (how == 0)
        assert_int_equal(vms_pwrite(e->t, fd, 0x7f0000000000ULL, 0xab0, 0x8d5), -EFAULT);
    else if (how == 1)
        assert_int_equal(vms_pwrite(e->t, fd, buf, 2, 0x8d5), 2);
    else
        assert_int_equal(vms_ftruncate(e->t, fd, 0x8d5), 0);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, size);
    assert_int_equal(tu_load_byte(e->t, m + 0x200), 0);
    assert_int_equal(tu_load_byte(e->t, m + 0xcd8), at_cd8);
    assert_int_equal(vms_munmap(e->t, m, PG), 0);
    tu_assert_clean(e->m);
}

static void test_write_past_eof_in_a_cached_page_zeroes_only_the_gap(void **state)
{
    check_write_past_eof_in_a_cached_page(*state, "failed", 0, 0x59, 0x8d5);
    check_write_past_eof_in_a_cached_page(*state, "written", 1, 0x59, 0x8d7);
    check_write_past_eof_in_a_cached_page(*state, "truncated", 2, 0, 0x8d5);
}

static void test_write_past_eof_leaves_the_old_eof_page_unread(void **state)
{
    static const struct write_past_eof_case cases[] = {
        {0x1000, 0x1388, 0x28d9, 1, "001", '1'}, /* host: 001, minor */
        {0x1388, 0x1388, 0x28d9, 0, "001", '1'}, /* host: 001, minor */
        {0x1388, 0x1388, 0x28d9, 1, "001", '1'}, /* host: 001, minor */
        {0x1000, 0x1388, 0x9000, 1, "000", '1'}, /* host: 000, minor */
        {0x1000, 0x2000, 0x28d9, 1, "001", 'M'}, /* host: 001, major: the end is page-aligned */
        {0x1000, 0x1388, 0x800, 1, "100", 'M'},  /* host: 100, major: no growth */
    };
    struct tu_env *e = *state;
    vms_addr buf = tu_anon(e->t, PG, RW);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct write_past_eof_case *c = &cases[i];
        char name[16], got[4];
        snprintf(name, sizeof(name), "w%zu", i);
        make_file(e, name, (size_t)c->written);
        int fd = open_ok(e, name, O_RDWR);
        if (c->size != c->written)
            assert_int_equal(vms_ftruncate(e->t, fd, c->size), 0);
        int64_t r = vms_pwrite(e->t, fd, c->bad_buffer ? 0x7f0000000000ULL : buf, 0x74, c->at);
        assert_int_equal(r, c->bad_buffer ? -EFAULT : 0x74);
        vms_addr m = map_at(e, 512 * i, 3, PROT_READ, MAP_SHARED, fd, 0);
        tu_residency(e->t, m, 3, got);
        if (strcmp(got, c->resident) != 0)
            fail_msg("case %zu: resident %s, want %s", i, got, c->resident);
        char cost = tu_fault_cost(e->t, m + PG, 0);
        if (cost != c->page1_cost)
            fail_msg("case %zu: load of page 1 costs %c, want %c", i, cost, c->page1_cost);
    }
    tu_assert_clean(e->m);
}

/* write() copies with page faults disabled and faults the source in only
 * after a short copy, by which time i_size has moved to where the copy
 * stopped: a source mapping the file's own pages past the old end is
 * faulted in once, and fault-around maps the new tail page with it. Host:
 * an empty file mapped 3 pages, 0x17ef bytes written at 0, then
 * pwrite(fd, map + 0x1000, 0x149c, 0x22b4) = 0x149c with 1 minor fault
 * (the same for private, private exec and shared mappings). */
static void test_write_faults_its_source_in_after_moving_i_size(void **state)
{
    static const int kinds[][2] = {{PROT_READ | PROT_EXEC, MAP_PRIVATE},
                                   {PROT_READ, MAP_PRIVATE},
                                   {PROT_READ, MAP_SHARED}};
    struct tu_env *e = *state;
    vms_addr zeros = tu_anon(e->t, 2 * PG, PROT_READ);
    for (size_t i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "s%zu", i);
        make_file(e, name, 0);
        int fd = open_ok(e, name, O_RDWR);
        vms_addr m = map_at(e, 512 * i, 3, kinds[i][0], kinds[i][1], fd, 0);
        assert_int_equal(vms_pwrite(e->t, fd, zeros, 0x17ef, 0), 0x17ef);
        uint64_t min0 = tu_minflt(e->t), maj0 = tu_majflt(e->t);
        assert_int_equal(vms_pwrite(e->t, fd, m + PG, 0x149c, 0x22b4), 0x149c);
        assert_int_equal(tu_minflt(e->t) - min0, 1); /* host: 1 */
        assert_int_equal(tu_majflt(e->t) - maj0, 0); /* host: 0 */
        assert_residency(e, m, 3, "111");            /* host: 111 */
    }
    tu_assert_clean(e->m);
}

/* Reading an unread page costs a minor fault when the program touches it,
 * but a major one when the kernel does (write() copying from it): Linux
 * retries a kernel fault as FAULT_FLAG_TRIED. Host: a 3-page shared map,
 * the file truncated to 0x8000 then 0x1388; write(fd, map + 0x1f41, 4096)
 * at 0 copies 191 bytes and costs 1 major fault; a load there costs 1 minor. */
static void check_unread_page_fault(struct tu_env *e, int from_kernel, char want)
{
    make_file(e, "k", 0);
    int fd = open_ok(e, "k", O_RDWR);
    vms_addr m = map_at(e, 0, 3, RW, MAP_SHARED, fd, 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x8000), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x1388), 0);
    uint64_t min0 = tu_minflt(e->t), maj0 = tu_majflt(e->t);
    if (from_kernel)
        assert_int_equal(vms_pwrite(e->t, fd, m + 0x1f41, PG, 0), 191);
    else
        (void)tu_load_byte(e->t, m + 0x1f41);
    uint64_t dmin = tu_minflt(e->t) - min0, dmaj = tu_majflt(e->t) - maj0;
    assert_int_equal(dmin + dmaj, 1);
    assert_int_equal(dmaj ? 'M' : '1', want);
    tu_assert_clean(e->m);
}

static void test_unread_page_touched_by_the_program_is_a_minor_fault(void **state)
{
    check_unread_page_fault(*state, 0, '1');
}

static void test_unread_page_touched_by_the_kernel_is_a_major_fault(void **state)
{
    check_unread_page_fault(*state, 1, 'M');
}

/* The same holds for the readahead marker: a kernel copy that touches it
 * starts the next window and counts a major fault. Host: a file grown to
 * 0x3007, a pread at 0xd55 (its window 0..3 puts the marker on page 2),
 * then pwrite(fd, map of page 2, 0x8f8, 0x3000): 2296 bytes, 1 major. */
static void test_kernel_copy_from_the_readahead_marker_is_a_major_fault(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "mk", 0);
    int fd = open_ok(e, "mk", O_RDWR);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x3007), 0);
    assert_int_equal(vms_pread(e->t, fd, 0x7f0000000000ULL, PG, 0xd55), -EFAULT);
    vms_addr m = map_at(e, 0, 1, RW, MAP_SHARED, fd, 2);
    uint64_t min0 = tu_minflt(e->t), maj0 = tu_majflt(e->t);
    assert_int_equal(vms_pwrite(e->t, fd, m, 0x8f8, 0x3000), 0x8f8);
    assert_int_equal(tu_minflt(e->t) - min0, 0);
    assert_int_equal(tu_majflt(e->t) - maj0, 1);
    tu_assert_clean(e->m);
}

/* read() gathers cached pages up to, not including, one that is cached but
 * unread: that page is read only when the copy reaches it. Host (ext4,
 * 6.18, read_ahead_kb 8192), a file grown 0 -> 0x1388 -> 0xc001 (page 1 unread), read of
 * 0x18f1 bytes at 0 on a fresh descriptor: into a bad buffer (EFAULT) it
 * leaves 1011111100000 resident (page 1 still unread: a later load costs
 * a minor fault), into a good one 1111111100000. With page 0 cached
 * first (a pread while the file was 0x1000 bytes), the failing read
 * leaves 1000000000000. */
static void test_read_reads_an_unread_page_only_when_it_gets_there(void **state)
{
    struct tu_env *e = *state;
    use_disk_of_the_measuring_host(e); /* the first window is 8 pages */
    vms_addr buf = tu_anon(e->t, 2 * PG, RW);
    const vms_addr bad = 0x7f0000000000ULL;
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof(name), "u%d", i);
        make_file(e, name, 0);
        int fd = open_ok(e, name, O_RDWR);
        vms_addr m = map_at(e, 512 * (uint64_t)i, 13, PROT_READ, MAP_SHARED, fd, 0);
        if (i == 2) { /* page 0 cached first: the file is one page then */
            assert_int_equal(vms_ftruncate(e->t, fd, 0x1000), 0);
            assert_int_equal(vms_pread(e->t, fd, buf, 100, 0), 100);
        }
        assert_int_equal(vms_ftruncate(e->t, fd, 0x1388), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, 0xc001), 0);
        int fresh = open_ok(e, name, O_RDONLY);
        if (i == 1) {
            assert_int_equal(vms_read(e->t, fresh, buf, 0x18f1), 0x18f1);
            assert_residency(e, m, 13, "1111111100000"); /* host: 1111111100000 */
            continue;
        }
        assert_int_equal(vms_read(e->t, fresh, bad, 0x18f1), -EFAULT);
        if (i == 0) {
            assert_residency(e, m, 13, "1011111100000"); /* host: 1011111100000 */
            assert_int_equal(tu_fault_cost(e->t, m + PG, 0), '1'); /* host: minor */
        } else {
            assert_residency(e, m, 13, "1000000000000"); /* host: 1000000000000 */
        }
    }
    tu_assert_clean(e->m);
}

/* mincore does not count a page that is cached but unread. */
static void test_unread_eof_page_is_not_resident_until_read(void **state)
{
    struct tu_env *e = *state;
    make_file(e, "u", 0);
    int fd = open_ok(e, "u", O_RDWR);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x8000), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 0x2064), 0);
    vms_addr m = map_at(e, 0, 3, PROT_READ, MAP_SHARED, fd, 0);
    assert_residency(e, m, 3, "000");
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 0x64, 0x2000), 0x64);
    assert_residency(e, m, 3, "001");
    tu_assert_clean(e->m);
}

static void test_mapping_of_an_empty_file_is_sigbus_on_access(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    tu_host_write(host_path(e, "empty", path, sizeof(path)), "", 0);
    int fd = open_ok(e, "empty", O_RDWR);
    vms_addr z = map_ok(e, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_int_equal(z, FIRST_PAGE);
    assert_load_sigbus(e, z);
    tu_assert_clean(e->m);
}

static void test_mapping_at_an_offset_beyond_eof_is_sigbus_on_access(void **state)
{
    struct tu_env *e = *state;
    int fd = eof_file(e, O_RDWR);
    vms_addr w = map_ok(e, 0, PG, PROT_READ, MAP_SHARED, fd, 16 * (int64_t)PG);
    assert_load_sigbus(e, w + 8);
    tu_assert_clean(e->m);
}

/* ---- truncation under live mappings ---- */

/* Shrinking zaps every mapping of the cut pages, private copies too; the
 * kept part of the last page reads zero past the new size. */
static void test_shrink_makes_cut_pages_sigbus_private_copies_included(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 3 * PG, RW, MAP_SHARED, fd, 0);
    vms_addr pv = map_ok(e, 0, 3 * PG, RW, MAP_PRIVATE, fd, 0);
    tu_store_byte(e->t, pv + 6000, 'P');
    tu_store_byte(e->t, m + 6000, 'Y');
    assert_int_equal(vms_msync(e->t, m, 2 * PG, MS_SYNC), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_int_equal(tu_host_size(host_path(e, "eof", path, sizeof(path))), 100);
    assert_load_sigbus(e, m + PG);
    assert_int_equal(tu_load_byte(e->t, m + 99), 'a');
    assert_user_bytes(e, m + 100, PG - 100, 0);
    assert_load_sigbus(e, pv + PG);
    assert_user_bytes(e, pv + 100, PG - 100, 0);
    tu_assert_clean(e->m);
}

/* Growing back brings zeros, never the old data or the old copy. */
static void test_grow_after_shrink_reads_zeros(void **state)
{
    struct tu_env *e = *state;
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 3 * PG, RW, MAP_SHARED, fd, 0);
    vms_addr pv = map_ok(e, 0, 2 * PG, RW, MAP_PRIVATE, fd, 0);
    tu_store_byte(e->t, m + 6000, 'Y');
    tu_store_byte(e->t, pv + 6000, 'P');
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 2 * PG), 0);
    assert_int_equal(tu_load_byte(e->t, m + 99), 'a');
    assert_user_bytes(e, m + 100, 2 * PG - 100, 0);
    assert_int_equal(tu_load_byte(e->t, pv + 6000), 0);
    assert_load_sigbus(e, m + 2 * PG);
    assert_int_equal(vms_ftruncate(e->t, fd, 2 * PG + 1), 0);
    assert_int_equal(tu_load_byte(e->t, m + 2 * PG), 0);
    tu_assert_clean(e->m);
}

/* A cut inside a page keeps that page, and a private copy of it. */
static void test_shrink_within_a_page_keeps_its_private_copy(void **state)
{
    struct tu_env *e = *state;
    make_byte_file(e, "f", 2 * PG, 'a');
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr pv = map_ok(e, 0, 2 * PG, RW, MAP_PRIVATE, fd, 0);
    tu_store_byte(e->t, pv + 7000, 'Q');
    tu_store_byte(e->t, pv + 4500, 'R');
    assert_int_equal(vms_ftruncate(e->t, fd, 6000), 0);
    assert_int_equal(tu_load_byte(e->t, pv + 7000), 'Q');
    assert_int_equal(tu_load_byte(e->t, pv + 4500), 'R');
    tu_assert_clean(e->m);
}

/* Growing a file zeroes what a mapping had stored past the old end. */
static void test_grow_zeroes_what_was_stored_past_the_old_eof(void **state)
{
    struct tu_env *e = *state;
    int fd = eof_file(e, O_RDWR);
    vms_addr m = map_ok(e, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, m + 6000, 'Z');
    assert_int_equal(vms_ftruncate(e->t, fd, 2 * PG), 0);
    assert_int_equal(tu_load_byte(e->t, m + 6000), 0);
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 1, 6000), 1);
    assert_int_equal(tu_load_byte(e->t, buf), 0);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_env_setup, tu_env_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_seed_example_msync_puts_hi_in_the_file_on_disk),
        T(test_seed_example_without_msync_reaches_the_disk_on_destroy),
        T(test_dirty_pages_stay_in_the_cache_until_written_back),
        T(test_destroy_writes_every_dirty_page),
        T(test_sync_writes_back_every_file),
        T(test_mmap_of_a_bad_fd_is_ebadf),
        T(test_mmap_of_a_write_only_fd_is_eacces),
        T(test_mmap_shared_writable_of_a_read_only_fd_is_eacces),
        T(test_mmap_offset_must_be_aligned_and_below_the_vfs_limit),
        T(test_mmap_of_a_directory_is_enodev),
        T(test_mmap_hugetlb_of_a_file_is_einval),
        T(test_mmap_sync_of_a_file_is_eopnotsupp),
        T(test_mmap_shared_without_validate_still_refuses_map_sync),
        T(test_mmap_shared_validate_with_an_unknown_bit),
        T(test_mmap_shared_validate_above4g_and_bit_31),
        T(test_mmap_of_a_file_with_growsdown_is_einval),
        T(test_mmap_length_checks_for_a_file),
        T(test_mmap_of_a_file_accepts_what_linux_accepts),
        T(test_mmap_errno_priority_for_files),
        T(test_mmap_shared_write_of_a_read_only_fd_beats_map_sync),
        T(test_mprotect_write_on_a_shared_map_of_a_read_only_fd_is_eacces),
        T(test_mprotect_write_on_a_shared_map_of_a_closed_rdwr_fd_succeeds),
        T(test_mprotect_write_on_a_private_map_of_a_read_only_fd_succeeds),
        T(test_maps_lines_of_file_mappings),
        T(test_maps_line_of_a_private_map_is_unchanged_by_cow),
        T(test_mprotect_of_the_middle_page_splits_with_each_piece_offset),
        T(test_file_range_with_a_whole_2mib_chunk_is_aligned_to_its_offset),
        T(test_file_range_without_a_whole_2mib_chunk_is_placed_as_usual),
        T(test_congruent_search_result_moves_up_2mib),
        T(test_usable_hint_is_honored_for_a_file),
        T(test_fault_around_maps_the_aligned_16_page_block),
        T(test_fault_around_window_slides_forward_from_the_vma_start),
        T(test_fault_around_later_windows_are_aligned_blocks),
        T(test_fault_around_maps_the_block_of_the_faulting_page),
        T(test_fault_around_stops_at_the_page_table_boundary),
        T(test_fault_around_follows_the_address_not_the_file_offset),
        T(test_fault_around_is_clipped_by_the_vma_end),
        T(test_fault_around_maps_the_partial_eof_page),
        T(test_fault_around_leaves_an_uncached_page_to_a_major_fault),
        T(test_fault_around_of_a_file_mapped_above_its_offset_reaches_eof),
        T(test_read_readahead_grows_as_a_stream_goes_on),
        T(test_read_that_copies_nothing_keeps_the_last_reads_end),
        T(test_a_miss_within_one_read_is_not_taken_for_a_stream),
        T(test_fault_around_is_the_same_for_private_mappings),
        T(test_first_shared_write_maps_no_neighbours),
        T(test_write_after_read_on_a_shared_mapping_costs_one_fault),
        T(test_private_write_copies_once),
        T(test_first_private_write_maps_no_neighbours),
        T(test_read_after_a_shared_write_maps_the_rest_read_only),
        T(test_cold_first_read_is_one_major_fault_and_reads_32_pages),
        T(test_cold_sequential_reads_cost_one_major_fault_in_all),
        T(test_cold_read_in_the_middle_reads_around_the_fault),
        T(test_cold_private_read_reads_around_the_same_way),
        T(test_cold_exec_read_reads_ahead_within_the_vma_only),
        T(test_marker_fault_maps_its_block_when_it_retries),
        T(test_marker_of_another_descriptor_reads_the_next_window),
        T(test_cold_exec_read_ignores_madv_random),
        T(test_cold_write_faults_stop_reading_around_after_100_misses),
        T(test_cold_read_faults_keep_reading_around),
        T(test_cold_shared_write_is_one_major_fault_and_reads_around),
        T(test_cold_pread_reads_ahead_only_from_the_start),
        T(test_tail_of_the_last_page_reads_zero),
        T(test_store_past_eof_stays_until_written_back_then_reads_zero),
        T(test_store_past_eof_survives_munmap_and_ms_async_but_not_fsync),
        T(test_access_to_a_page_wholly_beyond_eof_is_sigbus),
        T(test_fault_past_eof_with_only_the_last_page_around_maps_nothing),
        T(test_fault_past_eof_maps_the_last_page_into_an_existing_table),
        T(test_fault_past_eof_maps_a_window_that_starts_before_the_last_page),
        T(test_mprotect_writable_of_locked_private_file_memory_counts_the_read_major),
        T(test_truncate_leaves_the_eof_page_cached_but_unread),
        T(test_write_past_eof_in_a_cached_page_zeroes_only_the_gap),
        T(test_write_past_eof_leaves_the_old_eof_page_unread),
        T(test_write_faults_its_source_in_after_moving_i_size),
        T(test_unread_eof_page_is_not_resident_until_read),
        T(test_read_reads_an_unread_page_only_when_it_gets_there),
        T(test_unread_page_touched_by_the_program_is_a_minor_fault),
        T(test_unread_page_touched_by_the_kernel_is_a_major_fault),
        T(test_kernel_copy_from_the_readahead_marker_is_a_major_fault),
        T(test_page_of_a_failed_write_stays_until_a_truncate),
        T(test_mapping_of_an_empty_file_is_sigbus_on_access),
        T(test_mapping_at_an_offset_beyond_eof_is_sigbus_on_access),
        T(test_shrink_makes_cut_pages_sigbus_private_copies_included),
        T(test_grow_after_shrink_reads_zeros),
        T(test_shrink_within_a_page_keeps_its_private_copy),
        T(test_grow_zeroes_what_was_stored_past_the_old_eof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
