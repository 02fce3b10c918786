/*
 * test_holes.c - holes in files, as ext4 (4 KiB blocks) on Linux 6.18 makes
 * and reports them: lseek SEEK_DATA/SEEK_HOLE and st_blocks after ftruncate,
 * writes past the end, stores through shared and private mappings, reads of
 * holes, truncation, MADV_REMOVE, failed and short writes, fsync/msync; a
 * host file's own holes; and the host file kept in step (its bytes and
 * holes after write-back).
 *
 * Every expected value was measured on the host (ext4, Linux 6.18) with the
 * same sequence of calls: a map "[a,b) [c,d)" lists what SEEK_DATA and
 * SEEK_HOLE find from offset 0 on, and blocks is st_blocks (512-byte units).
 */
#include "testutil.h"

#include <sys/stat.h>

#define PG 4096ULL
#define RW (PROT_READ | PROT_WRITE)
#define UNMAPPED 0x10000000ULL /* an address no test maps */

static const char *host_path(const struct tu_env *e, const char *name, char *buf, size_t size)
{
    return tu_join(buf, size, e->root, name);
}

/* A new empty file in the machine, open read-write. */
static int new_file(struct tu_env *e, const char *name)
{
    int fd = vms_open(e->t, name, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 3);
    return fd;
}

/* "[a,b) [c,d)": the data ranges SEEK_DATA and SEEK_HOLE find from 0 to
 * size, by seeking as a program would (through seek(), on fd). */
typedef int64_t (*seek_fn)(void *ctx, int fd, int64_t off, int whence);

static void describe_map(seek_fn seek, void *ctx, int fd, uint64_t size, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = 0;
    for (int64_t off = 0; (uint64_t)off < size;) {
        int64_t data = seek(ctx, fd, off, SEEK_DATA);
        if (data < 0) {
            assert_int_equal(data, -ENXIO);
            break;
        }
        int64_t hole = seek(ctx, fd, data, SEEK_HOLE);
        assert_true(hole > data);
        int w = snprintf(out + len, n - len, "%s[%lld,%lld)", len ? " " : "", (long long)data,
                         (long long)hole);
        assert_true(w > 0 && (size_t)w < n - len);
        len += (size_t)w;
        off = hole;
    }
}

static int64_t machine_seek(void *ctx, int fd, int64_t off, int whence)
{
    return vms_lseek(ctx, fd, off, whence);
}

static int64_t host_seek(void *ctx, int fd, int64_t off, int whence)
{
    (void)ctx;
    off_t r = lseek(fd, off, whence);
    return r < 0 ? -errno : r;
}

/* The machine's map of fd and its st_blocks. */
static void assert_map(struct tu_env *e, int fd, const char *expected, long long blocks)
{
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    char got[256];
    describe_map(machine_seek, e->t, fd, (uint64_t)st.st_size, got, sizeof(got));
    assert_string_equal(got, expected);
    assert_int_equal(st.st_blocks, blocks);
    tu_assert_clean(e->m);
}

/* Does the filesystem of dir keep 4 KiB holes and report them? Measured,
 * not assumed: a file with one byte at 4096 and a hole before it. The
 * machine's own maps are checked everywhere; the host file's only where
 * its filesystem can show them (ext4 and tmpfs can; others may report a
 * whole file as data, or holes in larger blocks). */
static int host_reports_4k_holes(const char *dir)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/.hole-probe", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    int ok = pwrite(fd, "x", 1, 4096) == 1 && fsync(fd) == 0 && lseek(fd, 0, SEEK_DATA) == 4096;
    close(fd);
    unlink(path);
    return ok;
}

/* The host file's own map (after write-back: its bytes and holes). */
static void assert_host_map(struct tu_env *e, const char *name, const char *expected)
{
    if (!host_reports_4k_holes(e->dir)) {
        fprintf(stderr, "note: this filesystem does not report 4 KiB holes; host map of %s not compared\n",
                name);
        return;
    }
    char path[400], got[256];
    int fd = open(host_path(e, name, path, sizeof(path)), O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    describe_map(host_seek, NULL, fd, (uint64_t)st.st_size, got, sizeof(got));
    close(fd);
    assert_string_equal(got, expected);
}

static vms_addr buffer_of(struct tu_env *e, uint64_t len, uint8_t c)
{
    vms_addr buf = tu_anon(e->t, len, RW);
    uint8_t *bytes = malloc(len);
    assert_non_null(bytes);
    memset(bytes, c, len);
    assert_int_equal(vms_store(e->t, buf, bytes, len), 0);
    free(bytes);
    return buf;
}

static int64_t data_at(struct tu_env *e, int fd, int64_t off)
{
    return vms_lseek(e->t, fd, off, SEEK_DATA);
}

static int64_t hole_at(struct tu_env *e, int fd, int64_t off)
{
    return vms_lseek(e->t, fd, off, SEEK_HOLE);
}

/* ---- how holes are made ---- */

static void test_ftruncate_grows_a_file_with_a_hole(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 3 * PG + 100), 0);
    assert_map(e, fd, "", 0);
    assert_int_equal(data_at(e, fd, 0), -ENXIO);
    assert_int_equal(hole_at(e, fd, 0), 0);
    assert_int_equal(hole_at(e, fd, 5000), 5000);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 5000); /* the position moved */
    assert_int_equal(data_at(e, fd, 3 * PG + 100), -ENXIO);
    assert_int_equal(hole_at(e, fd, 3 * PG + 100), -ENXIO);
    assert_int_equal(data_at(e, fd, 1LL << 50), -ENXIO);
    tu_assert_clean(e->m);
}

static void test_negative_offsets_are_enxio_not_einval(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_int_equal(data_at(e, fd, -1), -ENXIO);
    assert_int_equal(hole_at(e, fd, -1), -ENXIO);
    assert_int_equal(hole_at(e, fd, -4096), -ENXIO);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0); /* left where it was */
    tu_assert_clean(e->m);
}

static void test_write_past_the_end_leaves_a_hole_before_it(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, PG, 'y');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 1, 5000), 1);
    assert_map(e, fd, "[4096,5001)", 8);
    assert_int_equal(data_at(e, fd, 0), 4096);
    assert_int_equal(data_at(e, fd, 4097), 4097);
    assert_int_equal(hole_at(e, fd, 4096), 5001);
    assert_int_equal(hole_at(e, fd, 0), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[4096,5001)", 8);
    assert_host_map(e, "f", "[4096,5001)");
}

static void test_holes_are_whole_4k_blocks(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, PG, 'y');
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 1, 4095), 1);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 1, 3 * PG + 1), 1);
    assert_map(e, fd, "[0,4096) [12288,16384)", 16);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[0,4096) [12288,16384)", 16);
    assert_host_map(e, "f", "[0,4096) [12288,16384)");
}

static void test_written_zeros_are_data(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr zeros = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pwrite(e->t, fd, zeros, PG, PG), (int64_t)PG);
    assert_map(e, fd, "[4096,8192)", 8);
}

/* ---- the page cache: what counts as data before write-back ---- */

/* A page dirtied through a shared mapping is data at once (page_mkwrite
 * reserves its block), before and after msync; a read fault on a hole
 * reads zeros into the cache and leaves it a hole. */
static void test_shared_store_makes_data_before_writeback(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 4 * PG, RW, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, p + 2 * PG + 5, 1);
    assert_map(e, fd, "[8192,12288)", 8);
    assert_int_equal(vms_msync(e->t, p, 4 * PG, MS_SYNC), 0);
    assert_map(e, fd, "[8192,12288)", 8);
    assert_host_map(e, "f", "[8192,12288)");
    assert_int_equal(tu_load_byte(e->t, p), 0);
    assert_map(e, fd, "[8192,12288)", 8);
    char res[8];
    tu_residency(e->t, p, 4, res);
    assert_string_equal(res, "1111");
}

/* Reading a hole costs a major fault and caches zeros for the whole
 * read-around window; storing to the cached page is one minor
 * (write-notify) fault and makes it data. */
static void test_read_fault_on_a_hole_is_major_and_caches_zeros(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 16 * PG), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 16 * PG, RW, MAP_SHARED, fd, 0);
    assert_int_equal(tu_fault_cost(e->t, p + 5 * PG, 0), 'M');
    char res[17];
    tu_residency(e->t, p, 16, res);
    assert_string_equal(res, "1111111111111111");
    assert_map(e, fd, "", 0);
    assert_int_equal(tu_fault_cost(e->t, p + 5 * PG, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, p + 15 * PG, 1), '1');
    assert_map(e, fd, "[20480,24576) [61440,65536)", 16);
}

static void test_pread_of_a_hole_caches_the_page_and_keeps_the_hole(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    vms_addr buf = buffer_of(e, PG, 'x');
    assert_int_equal(vms_pread(e->t, fd, buf, 100, PG), 100);
    assert_int_equal(tu_load_byte(e->t, buf), 0);
    assert_map(e, fd, "", 0);
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 8 * PG, PROT_READ, MAP_SHARED, fd, 0);
    char res[9];
    tu_residency(e->t, p, 8, res);
    assert_string_equal(res, "01000000");
    vms_addr src = buffer_of(e, PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, src, 10, PG + 100), 10);
    assert_map(e, fd, "[4096,8192)", 8);
}

static void test_private_store_leaves_the_hole(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 4 * PG, RW, MAP_PRIVATE, fd, 0);
    tu_store_byte(e->t, p, 1);
    assert_map(e, fd, "", 0);
}

/* ---- the end of the file ---- */

/* A write past the end first zeroes the rest of the old last block, as a
 * growing truncate does: an old last page that was not cached is left in
 * the cache unread, so read-around skips it and its own fault is minor.
 * The same whether the write copies anything or not. */
static void test_write_past_eof_leaves_the_old_last_page_unread(void **state)
{
    struct tu_env *e = *state;
    vms_addr src = buffer_of(e, PG, 'w');
    const char *expected[] = {"M0", "M1", "M1"};
    for (int kind = 0; kind < 3; kind++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", kind);
        int fd = new_file(e, name);
        vms_addr p = (vms_addr)vms_mmap(e->t, 0, 13 * PG, RW, MAP_SHARED, fd, 0);
        assert_int_equal(vms_ftruncate(e->t, fd, 0xc001), 0);
        if (kind == 1)
            assert_int_equal(vms_pwrite(e->t, fd, src, 0x766, 0xd000), 0x766);
        if (kind == 2)
            assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0xd000), -EFAULT);
        char costs[3] = {tu_fault_cost(e->t, p + 11 * PG, 0), tu_fault_cost(e->t, p + 12 * PG, 0), 0};
        assert_string_equal(costs, expected[kind]);
        char res[14];
        tu_residency(e->t, p, 13, res);
        assert_string_equal(res, "1111111111111");
        tu_assert_clean(e->m);
    }
}

static void test_a_partial_last_block_ends_at_eof(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, 2 * PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 5000, 0), 5000);
    assert_map(e, fd, "[0,5000)", 16);
    assert_int_equal(hole_at(e, fd, 4500), 5000);
    assert_int_equal(data_at(e, fd, 4500), 4500);
    assert_int_equal(data_at(e, fd, 5000), -ENXIO);
}

static void test_a_file_grown_within_its_last_block_has_no_hole_there(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, PG, 0), (int64_t)PG);
    assert_int_equal(vms_ftruncate(e->t, fd, PG + 1), 0);
    assert_map(e, fd, "[0,4096)", 8);
    assert_int_equal(hole_at(e, fd, 0), 4096);
    assert_int_equal(data_at(e, fd, PG), -ENXIO);
}

/* Truncation frees the blocks past the new end, keeps the one holding it;
 * growing again leaves a hole. The bytes of dirty pages survive up to the
 * new end, zeros after it. */
static void test_truncated_tail_becomes_a_hole_when_regrown(void **state)
{
    struct tu_env *e = *state;
    vms_addr buf = buffer_of(e, 4 * PG, 'x');
    const char *names[] = {"dirty", "synced"};
    for (int synced = 0; synced < 2; synced++) {
        int fd = new_file(e, names[synced]);
        assert_int_equal(vms_pwrite(e->t, fd, buf, 4 * PG, 0), (int64_t)(4 * PG));
        if (synced)
            assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, PG + 10), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
        assert_map(e, fd, "[0,8192)", 16);
    }
    int fd = new_file(e, "exact");
    assert_int_equal(vms_pwrite(e->t, fd, buf, 4 * PG, 0), (int64_t)(4 * PG));
    assert_int_equal(vms_ftruncate(e->t, fd, 2 * PG), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_map(e, fd, "[0,8192)", 16);
    fd = new_file(e, "bytes");
    assert_int_equal(vms_pwrite(e->t, fd, buf, 3 * PG, 0), (int64_t)(3 * PG));
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 3 * PG), 0);
    assert_map(e, fd, "[0,4096)", 8);
    vms_addr got = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, got, PG, 0), (int64_t)PG);
    assert_int_equal(tu_load_byte(e->t, got + 99), 'x');
    assert_int_equal(tu_load_byte(e->t, got + 100), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_host_map(e, "bytes", "[0,4096)");
}

static void test_o_trunc_leaves_no_data(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, 4 * PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 4 * PG, 0), (int64_t)(4 * PG));
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_close(e->t, fd), 0);
    fd = vms_open(e->t, "f", O_RDWR | O_TRUNC, 0);
    assert_true(fd >= 3);
    assert_int_equal(vms_ftruncate(e->t, fd, 2 * PG), 0);
    assert_map(e, fd, "", 0);
}

/* ---- MADV_REMOVE punches a hole, in the file and in the host file ---- */

static void test_madv_remove_punches_a_hole(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, 4 * PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 4 * PG, 0), (int64_t)(4 * PG));
    assert_int_equal(vms_fsync(e->t, fd), 0);
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 4 * PG, RW, MAP_SHARED, fd, 0);
    assert_int_equal(vms_madvise(e->t, p + PG, PG, MADV_REMOVE), 0);
    assert_map(e, fd, "[0,4096) [8192,16384)", 24);
    assert_host_map(e, "f", "[0,4096) [8192,16384)");
    tu_store_byte(e->t, p + 3 * PG, 5); /* dirty, then punched: gone */
    assert_int_equal(vms_madvise(e->t, p + 2 * PG, 2 * PG, MADV_REMOVE), 0);
    assert_map(e, fd, "[0,4096)", 8);
    assert_int_equal(tu_load_byte(e->t, p + 3 * PG), 0);
    assert_int_equal(vms_sync(e->m), 0);
    assert_host_map(e, "f", "[0,4096)");
    assert_int_equal(tu_host_size(host_path(e, "f", (char[400]){0}, 400)), (long long)(4 * PG));
}

/* A range written but not yet written back: the punch takes it from the
 * cache, and write-back leaves the host file the same hole. */
static void test_madv_remove_of_unwritten_data(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, 4 * PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 4 * PG, 0), (int64_t)(4 * PG));
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 4 * PG, RW, MAP_SHARED, fd, 0);
    assert_int_equal(vms_madvise(e->t, p + PG, PG, MADV_REMOVE), 0);
    assert_map(e, fd, "[0,4096) [8192,16384)", 24);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_host_map(e, "f", "[0,4096) [8192,16384)");
    char path[400];
    host_path(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_byte(path, PG + 7), 0);
    assert_int_equal(tu_host_byte(path, 2 * PG), 'x');
}

static void test_madv_remove_across_eof_punches_the_last_block(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, 3 * PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 2 * PG + 10, 0), (int64_t)(2 * PG + 10));
    vms_addr p = (vms_addr)vms_mmap(e->t, 0, 4 * PG, RW, MAP_SHARED, fd, 0);
    assert_int_equal(vms_madvise(e->t, p + 2 * PG, 2 * PG, MADV_REMOVE), 0);
    assert_map(e, fd, "[0,8192)", 16);
}

/* MADV_REMOVE punches nothing from the end of the file on, and only up to
 * the end of the page holding it: a failed write's page and block just past
 * the end survive a punch that starts at the end. */
static void test_madv_remove_stops_at_the_page_holding_eof(void **state)
{
    struct tu_env *e = *state;
    const int64_t size[] = {6 * PG, 6 * PG + 100, 6 * PG};
    const uint64_t from[] = {6, 5, 5};
    const char *left[] = {"00000010", "00000000", "00000010"};
    const char *grown[] = {"[24576,28672)", "", "[24576,28672)"};
    for (int k = 0; k < 3; k++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", k);
        int fd = new_file(e, name);
        assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
        assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, size[k]), -EFAULT);
        vms_addr p = (vms_addr)vms_mmap(e->t, 0, 8 * PG, RW, MAP_SHARED, fd, 0);
        char res[9];
        tu_residency(e->t, p, 8, res);
        assert_string_equal(res, "00000010");
        assert_int_equal(vms_madvise(e->t, p + from[k] * PG, (8 - from[k]) * PG, MADV_REMOVE), 0);
        tu_residency(e->t, p, 8, res);
        assert_string_equal(res, left[k]);
        assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_map(e, fd, grown[k], k == 1 ? 0 : 8);
        assert_host_map(e, name, grown[k]);
    }
}

/* A truncate zeroes the rest of the last block (the new end, or the old
 * one when the file grows) through the cache: a page holding data is
 * dirtied (MADV_PAGEOUT keeps it); an end on a block boundary zeroes
 * nothing. A 5000-byte file on the disk, pages 0 and 1 mapped. */
static void test_truncate_dirties_the_page_it_zeroes(void **state)
{
    struct tu_env *e = *state;
    vms_addr src = buffer_of(e, PG, 'x');
    const int64_t sizes[] = {-1, 4500, 9000, 5000, 4096, 8192, 12288};
    const char *expected[] = {"000", "010", "010", "010", "000", "010", "010"};
    for (int k = 0; k < 7; k++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", k);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, src, PG, 0), (int64_t)PG);
        assert_int_equal(vms_pwrite(e->t, fd, src, 5000 - PG, PG), (int64_t)(5000 - PG));
        assert_int_equal(vms_fsync(e->t, fd), 0);
        vms_addr p = (vms_addr)vms_mmap(e->t, 0, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
        (void)tu_load_byte(e->t, p);
        (void)tu_load_byte(e->t, p + PG);
        if (sizes[k] >= 0)
            assert_int_equal(vms_ftruncate(e->t, fd, sizes[k]), 0);
        assert_int_equal(vms_madvise(e->t, p, 3 * PG, MADV_PAGEOUT), 0);
        char res[4];
        tu_residency(e->t, p, 3, res);
        assert_string_equal(res, expected[k]);
        tu_assert_clean(e->m);
    }
}

/* ---- writes that fail: ext4 reserves the block before the copy ---- */

static void test_a_failed_write_leaves_its_block_holding_data(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 2 * PG), -EFAULT);
    assert_map(e, fd, "[8192,12288)", 8);
    /* Past the end: i_size moves to the write's position, the block past
     * it is reserved (st_blocks counts it), hidden until the file grows. */
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 6 * PG), -EFAULT);
    assert_map(e, fd, "[8192,12288)", 16);
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_map(e, fd, "[8192,12288) [24576,28672)", 16);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[8192,12288) [24576,28672)", 16);
    /* Both pages were left dirty (with zeros) and inside the file when
     * written back: the disk holds both blocks now. */
    assert_host_map(e, "f", "[8192,12288) [24576,28672)");
    char path[400];
    assert_int_equal(tu_host_byte(host_path(e, "f", path, sizeof(path)), 2 * PG + 5), 0);
}

/* Write-back before the file grows cleans the page past the end without
 * writing it: the block stays reserved (data for lseek), never on disk. */
static void test_a_failed_write_past_eof_written_back_before_growth_never_reaches_the_disk(
    void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 6 * PG), -EFAULT);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[24576,28672)", 8);
    assert_host_map(e, "f", "");
}

/* ext4's write-back scan ends at the end of the file: after the dirty page
 * holding the last block, or after the first dirty page wholly past the
 * end; a dirty page further on stays dirty, and the file's growth lets the
 * next write-back write it. host (FIEMAP), failed writes into an empty
 * file: page 1, then page 0 (4 KiB long): fsync writes block 0 only, and
 * after a growth block 1 too; a second fsync first cleans page 1 unwritten.
 * Page 2, then page 0 (8 KiB long, page 1 a hole): fsync cleans page 2
 * unwritten. Page 0 written and clean, then page 1: fsync cleans it
 * unwritten. Seed 1950174 (the write-back of auto_da_alloc). */
static void test_write_back_ends_its_scan_at_the_end_of_the_file(void **state)
{
    struct tu_env *e = *state;
    static const struct {
        uint64_t first_fail; /* page of the first failed write */
        int clean_page_0;    /* page 0 written and written back first */
        int fsyncs;          /* before the growth */
        const char *map;     /* the host file's after growth and fsync */
    } c[] = {
        {1, 0, 1, "[0,8192)"},
        {1, 0, 2, "[0,4096)"},
        {2, 0, 1, "[0,4096)"},
        {1, 1, 1, "[0,4096)"},
    };
    vms_addr buf = buffer_of(e, PG, 'a');
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "f%zu", i);
        int fd = new_file(e, name);
        if (c[i].clean_page_0) {
            assert_int_equal(vms_pwrite(e->t, fd, buf, PG, 0), (int64_t)PG);
            assert_int_equal(vms_fsync(e->t, fd), 0);
        }
        assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, PG, (int64_t)(c[i].first_fail * PG)),
                         -EFAULT);
        if (!c[i].clean_page_0)
            assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, PG, 0), -EFAULT);
        for (int f = 0; f < c[i].fsyncs; f++)
            assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_host_map(e, name, "[0,4096)");
        assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_host_map(e, name, c[i].map);
        tu_assert_clean(e->m);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* A block reserved but never written is new to the next write that
 * begins on it: a second failed write dirties its page again (inside the
 * file now), and write-back puts it on the disk; growing the file does not. */
static void test_a_reserved_block_not_on_disk_is_new_to_the_next_write(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "again");
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 3742), -EFAULT);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[0,3742)", 8);
    assert_host_map(e, "again", "[0,3742)");
    fd = new_file(e, "grown");
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 3742), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[0,3742)", 8);
    assert_host_map(e, "grown", "");
}

/* ...but not to a write through the page that reserved it (its buffer
 * still maps the block) when nothing past the end needs zeroing. */
static void test_a_block_reserved_through_a_cached_page_is_not_new_again(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    assert_int_equal(vms_ftruncate(e->t, fd, PG), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, "[0,4096)", 8);
    assert_host_map(e, "f", "");
}

/* host: a failed 8 KiB write on an empty file leaves a clean order-1 folio
 * once written back; a truncate that splits it releases its buffers, so a
 * failed write into its first page finds the block new and dirties the
 * page (write-back puts it on the disk). Unsplit, nothing reaches it. */
static void test_a_split_folio_no_longer_maps_its_reserved_blocks(void **state)
{
    struct tu_env *e = *state;
    for (int grow_to = 1; grow_to <= 2; grow_to++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", grow_to);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 2 * PG, 0), -EFAULT);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, (int64_t)(grow_to * PG)), 0);
        assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_map(e, fd, grow_to == 1 ? "[0,4096)" : "[0,8192)", 16);
        assert_host_map(e, name, grow_to == 1 ? "[0,4096)" : "");
    }
}

/* host: a failed 8 KiB write leaves a dirty order-1 folio; a truncate into
 * its first page cannot split it and discards the second page's buffer.
 * A failed 12 KiB write at 0 then maps the blocks of the whole folio and
 * dirties the second page (its block new again): write-back puts both
 * blocks on the disk. Without that write only the first gets there. */
static void test_a_failed_write_maps_and_dirties_the_rest_of_its_folio(void **state)
{
    struct tu_env *e = *state;
    for (int again = 0; again <= 1; again++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", again);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 2 * PG, 0), -EFAULT);
        assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, 0xc001), 0);
        if (again)
            assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 3 * PG, 0), -EFAULT);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_map(e, fd, "[0,8192)", 16);
        assert_host_map(e, name, again ? "[0,8192)" : "[0,4096)");
    }
}

/* A write that starts past the end zeroes the rest of the old last block
 * through the cache, which dirties that page (MADV_PAGEOUT keeps it), also
 * when the write copies nothing; a write that starts at the end zeroes
 * nothing. Pages: 0 and 1 of a 5000-byte file (mapped), 2 the write's. */
static void test_write_past_eof_dirties_the_old_last_page(void **state)
{
    struct tu_env *e = *state;
    vms_addr src = buffer_of(e, PG, 'x');
    const int64_t at[] = {-1, 8192, 9000, 5000, 8192, 9000};
    const char *expected[] = {"000", "011", "011", "010", "011", "011"};
    for (int k = 0; k < 6; k++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", k);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, src, 5000 - PG, 0), (int64_t)(5000 - PG));
        assert_int_equal(vms_pwrite(e->t, fd, src, PG, 5000 - PG), (int64_t)PG);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        vms_addr p = (vms_addr)vms_mmap(e->t, 0, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
        (void)tu_load_byte(e->t, p);
        (void)tu_load_byte(e->t, p + PG);
        if (at[k] >= 0)
            assert_int_equal(vms_pwrite(e->t, fd, k < 4 ? src : UNMAPPED, 1, at[k]),
                             k < 4 ? 1 : -EFAULT);
        assert_int_equal(vms_madvise(e->t, p, 3 * PG, MADV_PAGEOUT), 0);
        char res[4];
        tu_residency(e->t, p, 3, res);
        assert_string_equal(res, expected[k]);
        tu_assert_clean(e->m);
    }
}

/* A write that copies nothing dirties the page it began on when it began
 * inside the block, even a block on the disk: MADV_PAGEOUT keeps that page.
 * A 3-page file on the disk, all mapped. */
static void test_a_failed_write_inside_a_block_dirties_its_page(void **state)
{
    struct tu_env *e = *state;
    vms_addr src = buffer_of(e, PG, 'x');
    const int64_t at[] = {-1, PG, PG + 100, PG + 4095, 2 * PG + 5};
    const char *expected[] = {"000", "000", "010", "010", "001"};
    for (int k = 0; k < 5; k++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", k);
        int fd = new_file(e, name);
        for (int i = 0; i < 3; i++)
            assert_int_equal(vms_pwrite(e->t, fd, src, PG, (int64_t)(i * PG)), (int64_t)PG);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        vms_addr p = (vms_addr)vms_mmap(e->t, 0, 3 * PG, PROT_READ, MAP_SHARED, fd, 0);
        for (int i = 0; i < 3; i++)
            (void)tu_load_byte(e->t, p + (uint64_t)i * PG);
        if (at[k] >= 0)
            assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, at[k]), -EFAULT);
        assert_int_equal(vms_madvise(e->t, p, 3 * PG, MADV_PAGEOUT), 0);
        char res[4];
        tu_residency(e->t, p, 3, res);
        assert_string_equal(res, expected[k]);
        tu_assert_clean(e->m);
    }
}

/* The page a failed write left dirty in a hole is kept by MADV_PAGEOUT,
 * where a page only read from the hole is dropped. */
static void test_a_failed_write_in_a_hole_leaves_a_dirty_page(void **state)
{
    struct tu_env *e = *state;
    const char *names[] = {"read", "failed"};
    const char *expected[] = {"0000", "0010"};
    for (int failed = 0; failed < 2; failed++) {
        int fd = new_file(e, names[failed]);
        assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        if (failed)
            assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 2 * PG), -EFAULT);
        vms_addr p = (vms_addr)vms_mmap(e->t, 0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
        (void)tu_load_byte(e->t, p + 2 * PG);
        assert_int_equal(vms_madvise(e->t, p, 4 * PG, MADV_PAGEOUT), 0);
        char res[5];
        tu_residency(e->t, p, 4, res);
        assert_string_equal(res, expected[failed]);
        tu_assert_clean(e->m);
    }
}

/* host: a failed 8 KiB write that starts past the end inside the old last
 * page gets an order-1 folio there (no single end page made first), and
 * ext4 reserves both its blocks: the second shows once the file grows. */
static void test_a_failed_write_in_the_last_page_reserves_its_whole_folio(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    assert_int_equal(vms_ftruncate(e->t, fd, 0xc001), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 2 * PG, 0xc840), -EFAULT);
    assert_map(e, fd, "[49152,51264)", 16);
    assert_int_equal(vms_ftruncate(e->t, fd, 16 * PG), 0);
    assert_map(e, fd, "[49152,57344)", 16);
    /* host: the same with the end in the first page, grown to 5000 bytes. */
    int g = new_file(e, "g");
    assert_int_equal(vms_ftruncate(e->t, g, 100), 0);
    assert_int_equal(vms_pwrite(e->t, g, UNMAPPED, 2 * PG, 0xd8c), -EFAULT);
    assert_int_equal(vms_ftruncate(e->t, g, 5000), 0);
    assert_map(e, g, "[0,5000)", 16);
}

static void test_a_failed_write_past_eof_is_freed_by_a_truncate_to_any_smaller_or_same_size(
    void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "same");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 6 * PG), -EFAULT);
    assert_map(e, fd, "", 8);
    assert_int_equal(vms_ftruncate(e->t, fd, 6 * PG), 0);
    assert_map(e, fd, "", 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_map(e, fd, "", 0);

    fd = new_file(e, "unaligned");
    assert_int_equal(vms_ftruncate(e->t, fd, 4 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 6 * PG + 100), -EFAULT);
    assert_map(e, fd, "[24576,24676)", 8);

    fd = new_file(e, "empty");
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    assert_map(e, fd, "", 8);
    int again = vms_open(e->t, "empty", O_RDWR | O_TRUNC, 0);
    assert_true(again >= 3);
    assert_int_equal(vms_ftruncate(e->t, again, PG), 0);
    assert_map(e, again, "", 0);

    fd = new_file(e, "kept");
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    assert_int_equal(vms_ftruncate(e->t, fd, PG), 0);
    assert_map(e, fd, "[0,4096)", 8);
}

/* A copy that stops at a page boundary still began the next page; one that
 * stops inside a page never reaches the next. (Writes under 8 KiB, or not
 * aligned to 8 KiB: the host's cache takes them in single pages. A larger
 * folio would reserve every block it covers.) */
static void test_a_short_write_reserves_the_page_where_it_stopped(void **state)
{
    struct tu_env *e = *state;
    vms_addr src = buffer_of(e, 2 * PG, 's');
    assert_int_equal(vms_munmap(e->t, src + PG, PG), 0);
    int fd = new_file(e, "inside");
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, src, 5000, 2 * PG), (int64_t)PG);
    assert_map(e, fd, "[8192,16384)", 16);
    fd = new_file(e, "empty");
    assert_int_equal(vms_pwrite(e->t, fd, src, 5000, 2 * PG), (int64_t)PG);
    assert_map(e, fd, "[8192,12288)", 16); /* the next block is past the end */
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_map(e, fd, "[8192,16384)", 16);
    fd = new_file(e, "within");
    assert_int_equal(vms_pwrite(e->t, fd, src + 100, 5000, 2 * PG), (int64_t)PG - 100);
    assert_map(e, fd, "[8192,12188)", 8);
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_map(e, fd, "[8192,12288)", 8);
    fd = new_file(e, "odd");
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_int_equal(vms_pwrite(e->t, fd, src + 100, 2 * PG, 3 * PG), (int64_t)PG - 100);
    assert_map(e, fd, "[12288,16384)", 8);
}

/* ---- host files, directories, descriptors ---- */

static void test_a_host_files_holes_are_read_at_first_open(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    int hfd = open(host_path(e, "sparse", path, sizeof(path)), O_RDWR | O_CREAT, 0644);
    assert_true(hfd >= 0);
    uint8_t page[PG];
    memset(page, 'h', sizeof(page));
    assert_int_equal(ftruncate(hfd, 16 * PG), 0);
    assert_int_equal(pwrite(hfd, page, PG, 5 * PG), (ssize_t)PG);
    assert_int_equal(pwrite(hfd, page, 100, 9 * PG), 100);
    assert_int_equal(pwrite(hfd, page, PG, 10 * PG), (ssize_t)PG);
    assert_int_equal(close(hfd), 0);
    assert_host_map(e, "sparse", "[20480,24576) [36864,45056)"); /* the host's own holes */
    int fd = vms_open(e->t, "sparse", O_RDONLY, 0);
    assert_true(fd >= 3);
    assert_map(e, fd, "[20480,24576) [36864,45056)", 24);
}

static void test_seek_data_and_hole_in_a_directory(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    assert_int_equal(mkdir(host_path(e, "d", path, sizeof(path)), 0755), 0);
    int fd = vms_open(e->t, "d", O_RDONLY, 0);
    assert_true(fd >= 3);
    assert_int_equal(data_at(e, fd, 0), 0);
    assert_int_equal(hole_at(e, fd, 0), INT64_MAX);
    assert_int_equal(data_at(e, fd, -1), -ENXIO);
    assert_int_equal(hole_at(e, fd, -1), -ENXIO);
    assert_int_equal(data_at(e, fd, 1LL << 62), 1LL << 62);
    assert_int_equal(hole_at(e, fd, 5), INT64_MAX);
    tu_assert_clean(e->m);
}

static void test_seek_data_works_on_a_write_only_descriptor(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, PG, 'x');
    assert_int_equal(vms_pwrite(e->t, fd, buf, 100, 0), 100);
    int wr = vms_open(e->t, "f", O_WRONLY, 0);
    assert_true(wr >= 3);
    assert_int_equal(data_at(e, wr, 0), 0);
    assert_int_equal(hole_at(e, wr, 0), 100);
}

/* Many holes: every other block. st_blocks counts the data blocks; the
 * host adds one block for its extent tree once the blocks are on the disk
 * in more than four extents (72 there), which vmsim leaves out. */
static void test_every_other_block(void **state)
{
    struct tu_env *e = *state;
    int fd = new_file(e, "f");
    vms_addr buf = buffer_of(e, PG, 'x');
    for (int i = 0; i < 16; i += 2)
        assert_int_equal(vms_pwrite(e->t, fd, buf, PG, (int64_t)(i * PG)), (int64_t)PG);
    const char *map = "[0,4096) [8192,12288) [16384,20480) [24576,28672) [32768,36864) "
                      "[40960,45056) [49152,53248) [57344,61440)";
    assert_map(e, fd, map, 64);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_map(e, fd, map, 64);
    assert_host_map(e, "f", map);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_env_setup, tu_env_teardown)
    const struct CMUnitTest tests[] = {
        T(test_ftruncate_grows_a_file_with_a_hole),
        T(test_negative_offsets_are_enxio_not_einval),
        T(test_write_past_the_end_leaves_a_hole_before_it),
        T(test_holes_are_whole_4k_blocks),
        T(test_written_zeros_are_data),
        T(test_shared_store_makes_data_before_writeback),
        T(test_read_fault_on_a_hole_is_major_and_caches_zeros),
        T(test_pread_of_a_hole_caches_the_page_and_keeps_the_hole),
        T(test_private_store_leaves_the_hole),
        T(test_write_past_eof_leaves_the_old_last_page_unread),
        T(test_a_partial_last_block_ends_at_eof),
        T(test_a_file_grown_within_its_last_block_has_no_hole_there),
        T(test_truncated_tail_becomes_a_hole_when_regrown),
        T(test_o_trunc_leaves_no_data),
        T(test_madv_remove_punches_a_hole),
        T(test_madv_remove_of_unwritten_data),
        T(test_madv_remove_across_eof_punches_the_last_block),
        T(test_madv_remove_stops_at_the_page_holding_eof),
        T(test_truncate_dirties_the_page_it_zeroes),
        T(test_a_failed_write_leaves_its_block_holding_data),
        T(test_a_failed_write_past_eof_is_freed_by_a_truncate_to_any_smaller_or_same_size),
        T(test_a_failed_write_in_the_last_page_reserves_its_whole_folio),
        T(test_a_failed_write_past_eof_written_back_before_growth_never_reaches_the_disk),
        T(test_write_back_ends_its_scan_at_the_end_of_the_file),
        T(test_a_failed_write_in_a_hole_leaves_a_dirty_page),
        T(test_a_failed_write_inside_a_block_dirties_its_page),
        T(test_a_reserved_block_not_on_disk_is_new_to_the_next_write),
        T(test_a_block_reserved_through_a_cached_page_is_not_new_again),
        T(test_a_split_folio_no_longer_maps_its_reserved_blocks),
        T(test_a_failed_write_maps_and_dirties_the_rest_of_its_folio),
        T(test_write_past_eof_dirties_the_old_last_page),
        T(test_a_short_write_reserves_the_page_where_it_stopped),
        T(test_a_host_files_holes_are_read_at_first_open),
        T(test_seek_data_and_hole_in_a_directory),
        T(test_seek_data_works_on_a_write_only_descriptor),
        T(test_every_other_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
