/*
 * test_file.c - file descriptors of a task, as Linux 6.x answers them on an
 * ext4 file: open/close/read/write/pread/pwrite/lseek/ftruncate/fsync/fstat
 * with their errno and its priority, O_APPEND and O_TRUNC; confinement of
 * every path to the machine's root folder (EXDEV for a way out, nothing ever
 * created outside: a table of hostile paths with openat2's answers, a
 * symlink swapped mid-walk, /proc's magic links, search permission);
 * read() and write() against mappings of the same file
 * (one page cache: no sync needed; a private mapping follows the file until
 * it copies a page); and the copies the data makes on the way (read() copies
 * twice, disk to cache to user; a mapping once, disk to cache).
 *
 * Every test runs in a new scratch folder: root/ is the machine's root
 * folder, outside/ a folder next to it that must never be touched.
 *
 * The program runs every test three times: as the host allows, then in
 * children whose seccomp filter answers openat2 with ENOSYS, then EPERM, so
 * that the machines resolve paths by hand (src/namei.c) and must give the
 * same answers.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define PG 4096ULL
#define RW (PROT_READ | PROT_WRITE)
#define EXT4_MAXBYTES 0xffffffff000LL /* ext4's largest file with 4 KiB blocks */
/* The largest file of the machines that test the limit: small, so that the
 * scratch folder's own filesystem (whatever its limit) can hold it. */
#define S_MAXBYTES 0x40000000LL
#define UNMAPPED 0x10000000ULL     /* an address no test maps */

struct env {
    char dir[256];     /* the scratch folder */
    char root[300];    /* dir/root: the machine's root folder */
    char outside[300]; /* dir/outside: next to the root, out of reach */
    vms_machine *m;
    vms_task *t;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    tu_join(e->outside, sizeof(e->outside), e->dir, "outside");
    assert_int_equal(mkdir(e->outside, 0755), 0);
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

/* The host path of name inside the root folder. */
static const char *in_root(const struct env *e, const char *name, char *buf, size_t size)
{
    return tu_join(buf, size, e->root, name);
}

static const char *in_outside(const struct env *e, const char *name, char *buf, size_t size)
{
    return tu_join(buf, size, e->outside, name);
}

/* A host file in the root folder holding len bytes of tu_pattern. */
static void make_file(const struct env *e, const char *name, size_t len)
{
    char path[400];
    tu_host_fill(in_root(e, name, path, sizeof(path)), len);
}

static void make_text_file(const struct env *e, const char *name, const char *text)
{
    char path[400];
    tu_host_write(in_root(e, name, path, sizeof(path)), text, strlen(text));
}

static int open_ok(struct env *e, const char *name, int flags)
{
    int fd = vms_open(e->t, name, flags, 0644);
    assert_true(fd >= 3);
    return fd;
}

/* An anonymous read-write buffer in the task's memory. */
static vms_addr user_buffer(struct env *e, uint64_t len)
{
    return tu_anon(e->t, len, RW);
}

/* A buffer whose first page is mapped and whose second is not. */
static vms_addr half_mapped_buffer(struct env *e)
{
    vms_addr buf = user_buffer(e, 2 * PG);
    assert_int_equal(vms_munmap(e->t, buf + PG, PG), 0);
    return buf;
}

static vms_addr map_file(struct env *e, int fd, uint64_t len, int prot, int flags)
{
    int64_t r = vms_mmap(e->t, 0, len, prot, flags, fd, 0);
    assert_true(r > 0);
    return (vms_addr)r;
}

static void store_text(struct env *e, vms_addr va, const char *text)
{
    assert_int_equal(vms_store(e->t, va, text, strlen(text)), 0);
}

/* The n bytes at va equal text. */
static void assert_user_text(struct env *e, vms_addr va, const char *text)
{
    char got[64] = {0};
    size_t n = strlen(text);
    assert_true(n < sizeof(got));
    assert_int_equal(vms_load(e->t, va, got, n), 0);
    assert_string_equal(got, text);
}

/* The len bytes at va are tu_pattern(off), tu_pattern(off + 1), ... */
static void assert_user_pattern(struct env *e, vms_addr va, uint64_t len, uint64_t off)
{
    uint8_t *got = malloc(len);
    assert_non_null(got);
    assert_int_equal(vms_load(e->t, va, got, len), 0);
    for (uint64_t i = 0; i < len; i++)
        if (got[i] != tu_pattern(off + i))
            fail_msg("byte %llu is 0x%02x, not 0x%02x", (unsigned long long)(off + i), got[i],
                     tu_pattern(off + i));
    free(got);
}

/* The host file holds tu_pattern over [off, off + len). */
static void assert_host_pattern(const char *path, uint64_t len, uint64_t off)
{
    uint8_t *got = malloc(len);
    assert_non_null(got);
    assert_int_equal(tu_host_read(path, got, len, (off_t)off), (ssize_t)len);
    for (uint64_t i = 0; i < len; i++)
        if (got[i] != tu_pattern(off + i))
            fail_msg("host byte %llu is 0x%02x", (unsigned long long)(off + i), got[i]);
    free(got);
}

static void assert_host_text(const char *path, off_t off, const char *text)
{
    char got[64] = {0};
    size_t n = strlen(text);
    assert_int_equal(tu_host_read(path, got, n, off), (ssize_t)n);
    assert_string_equal(got, text);
}

/* ---- descriptor numbers ---- */

/* A write that fails moves no file position, O_APPEND's included. */
static void test_failed_append_write_leaves_the_position(void **state)
{
    struct env *e = *state;
    make_text_file(e, "a", "hello");
    int fd = open_ok(e, "a", O_RDWR | O_APPEND);
    assert_int_equal(vms_write(e->t, fd, UNMAPPED, 3), -EFAULT);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0);
    tu_assert_clean(e->m);
}

/* An empty O_APPEND write returns 0 and leaves the position too (host). */
static void test_empty_append_write_leaves_the_position(void **state)
{
    struct env *e = *state;
    make_text_file(e, "a", "hello");
    int fd = open_ok(e, "a", O_RDWR | O_APPEND);
    assert_int_equal(vms_write(e->t, fd, UNMAPPED, 0), 0);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0);
    tu_assert_clean(e->m);
}

/* ext4's (hashed) directories end at INT64_MAX; fstat gives the host size. */
static void test_directory_seeks_from_int64_max_and_has_its_host_size(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    struct stat host;
    assert_int_equal(stat(path, &host), 0);
    int fd = open_ok(e, "d", O_RDONLY | O_DIRECTORY);
    assert_int_equal(vms_lseek(e->t, fd, -10, SEEK_END), INT64_MAX - 10);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, host.st_size);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_first_open_returns_fd_3(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 10);
    assert_int_equal(vms_open(e->t, "f", O_RDONLY, 0), 3);
    tu_assert_clean(e->m);
}

/* How many of this process's descriptors name the host file at path and
 * may write it. */
static int host_writers_of(const char *path)
{
    struct stat want, st;
    assert_int_equal(stat(path, &want), 0);
    int writers = 0;
    for (int fd = 0; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fstat(fd, &st) || st.st_dev != want.st_dev || st.st_ino != want.st_ino)
            continue;
        writers += (fl & O_ACCMODE) != O_RDONLY;
    }
    return writers;
}

/* A file the machine only reads is never held open for writing on the host
 * (a program run from it would fail with ETXTBSY, and nothing could ever
 * write it by mistake); the first open for writing makes one writer. */
static void test_a_file_only_read_is_not_held_open_for_writing(void **state)
{
    struct env *e = *state;
    char path[PATH_MAX + 8];
    make_file(e, "f", 2 * PG);
    tu_join(path, sizeof(path), e->root, "f");
    int fd = vms_open(e->t, "f", O_RDONLY, 0);
    assert_true(fd >= 3);
    vms_addr m = (vms_addr)vms_mmap(e->t, 0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(tu_load_byte(e->t, m), tu_pattern(0));
    assert_int_equal(host_writers_of(path), 0);
    int wfd = vms_open(e->t, "f", O_WRONLY | O_APPEND, 0);
    assert_true(wfd > fd);
    assert_int_equal(host_writers_of(path), 1);
    assert_int_equal(vms_close(e->t, wfd), 0);
    assert_int_equal(vms_munmap(e->t, m, 2 * PG), 0);
    tu_assert_clean(e->m);
}

/* sync_file_range(2). Host: fd -1 is EBADF whatever the flags; then flag
 * 8, a negative offset or length, or a range past 2^63 is EINVAL; a
 * directory, no flag, or a range starting at 2^63 - 1 with length 0 is 0.
 * SYNC_FILE_RANGE_WRITE writes back the range's dirty pages, no others. */
static void test_sync_file_range_writes_back_only_its_range(void **state)
{
    struct env *e = *state;
    char path[PATH_MAX + 8];
    make_file(e, "r", 2 * PG);
    tu_join(path, sizeof(path), e->root, "r");
    int fd = vms_open(e->t, "r", O_RDWR, 0);
    int dir = vms_open(e->t, ".", O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 3 && dir > fd);
    assert_int_equal(vms_sync_file_range(e->t, -1, 0, 0, 8), -EBADF);
    assert_int_equal(vms_sync_file_range(e->t, fd, 0, 0, 8), -EINVAL);
    assert_int_equal(vms_sync_file_range(e->t, fd, -1, 0, 2), -EINVAL);
    assert_int_equal(vms_sync_file_range(e->t, fd, 0, -1, 2), -EINVAL);
    assert_int_equal(vms_sync_file_range(e->t, fd, INT64_MAX, 1, 2), -EINVAL);
    assert_int_equal(vms_sync_file_range(e->t, fd, INT64_MAX, 0, 2), 0);
    assert_int_equal(vms_sync_file_range(e->t, dir, 0, 0, 2), 0);
    vms_addr m = (vms_addr)vms_mmap(e->t, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    tu_store_byte(e->t, m, 'a');
    tu_store_byte(e->t, m + PG, 'b');
    assert_int_equal(vms_sync_file_range(e->t, fd, 0, PG, 0), 0);
    assert_int_equal(tu_host_byte(path, 0), tu_pattern(0));
    assert_int_equal(vms_sync_file_range(e->t, fd, 0, PG, SYNC_FILE_RANGE_WRITE), 0);
    assert_int_equal(tu_host_byte(path, 0), 'a');
    assert_int_equal(tu_host_byte(path, PG), tu_pattern(PG));
    assert_int_equal(vms_sync_file_range(e->t, fd, PG, 0, SYNC_FILE_RANGE_WRITE), 0);
    assert_int_equal(tu_host_byte(path, PG), 'b');
    assert_int_equal(vms_munmap(e->t, m, 2 * PG), 0);
    tu_assert_clean(e->m);
}

static void test_open_returns_the_lowest_free_fd(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 10);
    assert_int_equal(vms_open(e->t, "f", O_RDONLY, 0), 3);
    assert_int_equal(vms_open(e->t, "f", O_RDONLY, 0), 4);
    assert_int_equal(vms_open(e->t, "f", O_RDONLY, 0), 5);
    assert_int_equal(vms_close(e->t, 4), 0);
    assert_int_equal(vms_open(e->t, "f", O_RDONLY, 0), 4);
    assert_int_equal(vms_open(e->t, "f", O_RDONLY, 0), 6);
    tu_assert_clean(e->m);
}

static void test_close_of_a_bad_fd_is_ebadf(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 10);
    for (int fd = -1; fd <= 2; fd++)
        assert_int_equal(vms_close(e->t, fd), -EBADF);
    assert_int_equal(vms_close(e->t, 999), -EBADF);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_close(e->t, fd), 0);
    assert_int_equal(vms_close(e->t, fd), -EBADF);
    tu_assert_clean(e->m);
}

/* ---- read and write: errno ---- */

static void test_io_on_a_bad_fd_is_ebadf(void **state)
{
    struct env *e = *state;
    vms_addr buf = user_buffer(e, PG);
    assert_int_equal(vms_read(e->t, 999, buf, 1), -EBADF);
    assert_int_equal(vms_read(e->t, -1, buf, 1), -EBADF);
    assert_int_equal(vms_write(e->t, 999, buf, 1), -EBADF);
    assert_int_equal(vms_write(e->t, -1, buf, 1), -EBADF);
    assert_int_equal(vms_pread(e->t, 3, buf, 1, 0), -EBADF);
    assert_int_equal(vms_pwrite(e->t, 3, buf, 1, 0), -EBADF);
    assert_int_equal(vms_fsync(e->t, 3), -EBADF);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, 3, &st), -EBADF);
    tu_assert_clean(e->m);
}

/* The descriptor's mode is checked before the buffer: EBADF even for NULL. */
static void test_read_of_a_write_only_fd_is_ebadf_before_the_buffer(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_WRONLY);
    assert_int_equal(vms_read(e->t, fd, buf, 10), -EBADF);
    assert_int_equal(vms_pread(e->t, fd, buf, 10, 0), -EBADF);
    assert_int_equal(vms_read(e->t, fd, 0, 10), -EBADF);
    tu_assert_clean(e->m);
}

static void test_write_to_a_read_only_fd_is_ebadf(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_write(e->t, fd, buf, 10), -EBADF);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 10, 0), -EBADF);
    tu_assert_clean(e->m);
}

static void test_read_of_a_directory_is_eisdir_and_write_ebadf(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "d", O_RDONLY);
    assert_int_equal(vms_read(e->t, fd, buf, 10), -EISDIR);
    assert_int_equal(vms_pread(e->t, fd, buf, 10, 0), -EISDIR);
    assert_int_equal(vms_write(e->t, fd, buf, 10), -EBADF); /* opened read-only */
    tu_assert_clean(e->m);
}

/* rw_verify_area runs before the read: a range ending past INT64_MAX is
 * EINVAL, and a directory's SEEK_END is INT64_MAX. Host-measured (ext4). */
static void test_read_whose_range_passes_int64_max_is_einval(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    make_file(e, "f", 100);
    vms_addr buf = user_buffer(e, PG);
    int d = open_ok(e, "d", O_RDONLY | O_DIRECTORY);
    int f = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_lseek(e->t, d, 0, SEEK_END), INT64_MAX);
    assert_int_equal(vms_read(e->t, d, buf, 1), -EINVAL);            /* host: EINVAL */
    assert_int_equal(vms_read(e->t, d, buf, 0), -EISDIR);            /* host: EISDIR */
    assert_int_equal(vms_lseek(e->t, d, -1, SEEK_END), INT64_MAX - 1);
    assert_int_equal(vms_read(e->t, d, buf, 1), -EISDIR);            /* host: EISDIR */
    assert_int_equal(vms_read(e->t, d, buf, 2), -EINVAL);            /* host: EINVAL */
    assert_int_equal(vms_pread(e->t, d, buf, 1, INT64_MAX), -EINVAL); /* host: EINVAL */
    assert_int_equal(vms_pread(e->t, f, buf, 1, INT64_MAX), -EINVAL); /* host: EINVAL */
    assert_int_equal(vms_pread(e->t, f, buf, 1, INT64_MAX - 1), 0);  /* host: 0 */
    assert_int_equal(vms_pread(e->t, f, buf, 0, INT64_MAX), 0);      /* host: 0 */
    assert_int_equal(vms_pwrite(e->t, f, buf, 1, INT64_MAX), -EINVAL); /* host: EINVAL */
    assert_int_equal(vms_pwrite(e->t, f, buf, 0, INT64_MAX), 0);     /* host: 0 */
    tu_assert_clean(e->m);
}

static void test_open_of_a_directory_for_writing_is_eisdir(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    assert_int_equal(vms_open(e->t, "d", O_RDWR, 0), -EISDIR);
    assert_int_equal(vms_open(e->t, "d", O_WRONLY, 0), -EISDIR);
    assert_int_equal(vms_open(e->t, "d", O_RDONLY | O_DIRECTORY, 0), 3);
    tu_assert_clean(e->m);
}

static void test_read_into_an_unmapped_buffer_is_efault(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_read(e->t, fd, UNMAPPED, 10), -EFAULT);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0); /* nothing was consumed */
    assert_int_equal(vms_pread(e->t, fd, UNMAPPED, 10, 0), -EFAULT);
    tu_assert_clean(e->m);
}

static void test_read_into_a_read_only_buffer_is_efault(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    vms_addr buf = tu_anon(e->t, PG, PROT_READ);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_read(e->t, fd, buf, 10), -EFAULT);
    tu_assert_clean(e->m);
}

static void test_count_0_with_a_bad_buffer_returns_0(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    int fd = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_read(e->t, fd, UNMAPPED, 0), 0);
    assert_int_equal(vms_write(e->t, fd, UNMAPPED, 0), 0);
    assert_int_equal(vms_pread(e->t, fd, UNMAPPED, 0, 0), 0);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, 0, 0), 0);
    tu_assert_clean(e->m);
}

/* A write whose source cannot be read fails and must not disturb the file:
 * the page it would have overwritten still reads as before. */
static void test_write_from_an_unmapped_buffer_is_efault_and_leaves_the_file_alone(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 2 * PG);
    vms_addr buf = user_buffer(e, 2 * PG);
    int fd = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_write(e->t, fd, UNMAPPED, PG), -EFAULT);
    assert_int_equal(vms_pwrite(e->t, fd, UNMAPPED, PG, (int64_t)PG), -EFAULT);
    assert_int_equal(vms_pread(e->t, fd, buf, 2 * PG, 0), (int64_t)(2 * PG));
    assert_user_pattern(e, buf, 2 * PG, 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_host_pattern(in_root(e, "f", path, sizeof(path)), 2 * PG, 0);
    tu_assert_clean(e->m);
}

static void test_pread_into_a_half_mapped_buffer_returns_the_mapped_part(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    vms_addr buf = half_mapped_buffer(e);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_pread(e->t, fd, buf, 2 * PG, 0), (int64_t)PG);
    assert_user_pattern(e, buf, PG, 0);
    tu_assert_clean(e->m);
}

static void test_read_up_to_a_hole_returns_100_and_advances_by_100(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    vms_addr buf = half_mapped_buffer(e);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_read(e->t, fd, buf + PG - 100, 2 * PG), 100);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 100);
    assert_user_pattern(e, buf + PG - 100, 100, 0);
    tu_assert_clean(e->m);
}

/* A partial write keeps the bytes it could not write as they were. */
static void test_pwrite_from_a_half_mapped_buffer_writes_the_mapped_part(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 2 * PG);
    vms_addr buf = half_mapped_buffer(e);
    for (uint64_t i = 0; i < PG; i++)
        tu_store_byte(e->t, buf + i, 'y');
    int fd = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 2 * PG, 0), (int64_t)PG);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 2 * PG);
    vms_addr check = user_buffer(e, PG);
    assert_int_equal(vms_pread(e->t, fd, check, PG, (int64_t)PG), (int64_t)PG);
    assert_user_pattern(e, check, PG, PG);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    in_root(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_byte(path, 0), 'y');
    assert_int_equal(tu_host_byte(path, (off_t)PG - 1), 'y');
    assert_host_pattern(path, PG, PG);
    tu_assert_clean(e->m);
}

/* Linux checks the buffer with access_ok before it reads or writes a byte,
 * even for a count of 0: the whole of [buf, buf + count) must lie below
 * TASK_SIZE (0x7ffffffff000 itself may be the end). A count of 2^47 or
 * 2^64-1 is EFAULT, not the bytes the file holds, and nothing moves.
 * Host-measured (Linux 6.18): read, write, pread and pwrite alike. */
static void test_buffer_past_user_space_is_efault_before_anything(void **state)
{
    struct env *e = *state;
    const uint64_t top = 0x7ffffffff000ULL;
    make_file(e, "f", 5000);
    vms_addr buf = user_buffer(e, 2 * PG);
    int fd = open_ok(e, "f", O_RDWR);
    static const uint64_t huge[] = {UINT64_MAX, 1ULL << 47, 1ULL << 63, UINT64_MAX - 4095, 0x7fffffffffffffffULL};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        assert_int_equal(vms_read(e->t, fd, buf, huge[i]), -EFAULT);
        assert_int_equal(vms_write(e->t, fd, buf, huge[i]), -EFAULT);
        assert_int_equal(vms_pread(e->t, fd, buf, huge[i], 0), -EFAULT);
        assert_int_equal(vms_pwrite(e->t, fd, buf, huge[i], 0), -EFAULT);
    }
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0);
    assert_int_equal(vms_read(e->t, fd, buf, top - buf + 1), -EFAULT);
    assert_int_equal(vms_read(e->t, fd, buf, top - buf), 5000); /* ends at TASK_SIZE: allowed */
    /* count 0: only the address counts */
    assert_int_equal(vms_read(e->t, fd, top, 0), 0);
    assert_int_equal(vms_read(e->t, fd, top + 1, 0), -EFAULT);
    assert_int_equal(vms_write(e->t, fd, 0xffff800000000000ULL, 0), -EFAULT);
    assert_int_equal(vms_pread(e->t, fd, 0xfffffffffffff000ULL, 0, 0), -EFAULT);
    assert_int_equal(vms_pwrite(e->t, fd, 0x8000000000000000ULL, 0, 0), -EFAULT);
    /* the descriptor is checked first */
    assert_int_equal(vms_read(e->t, 77, 0xffff800000000000ULL, 0), -EBADF);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 5000);
    tu_assert_clean(e->m);
}

/* Past access_ok, rw_verify_area: a position plus count beyond INT64_MAX is
 * EINVAL (before ext4's own EFBIG or end-of-file), and a count above
 * MAX_RW_COUNT is cut, not refused. A directory answers EFAULT and EINVAL
 * before its EISDIR. Host-measured (Linux 6.18). */
static void test_position_plus_count_past_int64_max_is_einval(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 5000);
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    vms_addr buf = user_buffer(e, 2 * PG);
    int fd = open_ok(e, "f", O_RDWR), dir = open_ok(e, "d", O_RDONLY);
    const int64_t near_end = 0x7ffffffffffff000LL;
    assert_int_equal(vms_pread(e->t, fd, buf, PG, near_end), -EINVAL);
    assert_int_equal(vms_pwrite(e->t, fd, buf, PG, near_end), -EINVAL);
    assert_int_equal(vms_pread(e->t, fd, buf, 1, INT64_MAX), -EINVAL);
    assert_int_equal(vms_pread(e->t, fd, buf, 0, INT64_MAX), 0);
    assert_int_equal(vms_pread(e->t, fd, buf, PG, near_end - 1), 0);         /* past s_maxbytes */
    assert_int_equal(vms_pwrite(e->t, fd, buf, PG, 0x7fffffff00000000LL), -EFBIG);
    /* low in memory, so that 2 GiB from buf stay below TASK_SIZE */
    vms_addr low = tu_mmap(e->t, 0x200000000000ULL, 2 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    assert_int_equal(vms_pread(e->t, fd, low, 0x80000000ULL, 0), 5000);
    assert_int_equal(vms_pread(e->t, fd, buf, 0x80000000ULL, 0), -EFAULT); /* buf + 2 GiB > TASK_SIZE */
    assert_int_equal(vms_pwrite(e->t, fd, low, 0x80000000ULL, 0), (int64_t)(2 * PG)); /* up to the hole */
    assert_int_equal(vms_read(e->t, dir, 0xffff800000000000ULL, 1), -EFAULT);
    assert_int_equal(vms_read(e->t, dir, buf, UINT64_MAX), -EFAULT);
    assert_int_equal(vms_pread(e->t, dir, buf, 1, INT64_MAX), -EINVAL);
    assert_int_equal(vms_pread(e->t, dir, buf, 1, 0), -EISDIR);
    tu_assert_clean(e->m);
}

/* A negative offset is refused before the descriptor is even looked at. */
static void test_negative_offsets_are_einval_before_the_fd(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    vms_addr buf = user_buffer(e, PG);
    int ro = open_ok(e, "f", O_RDONLY), wo = open_ok(e, "f", O_WRONLY);
    assert_int_equal(vms_pread(e->t, ro, buf, 1, -1), -EINVAL);
    assert_int_equal(vms_pread(e->t, 999, buf, 1, -1), -EINVAL);
    assert_int_equal(vms_pread(e->t, wo, buf, 1, -1), -EINVAL);
    assert_int_equal(vms_pwrite(e->t, wo, buf, 1, -1), -EINVAL);
    assert_int_equal(vms_pwrite(e->t, 999, buf, 1, -1), -EINVAL);
    assert_int_equal(vms_pwrite(e->t, ro, buf, 1, -1), -EINVAL);
    assert_int_equal(vms_ftruncate(e->t, 999, -1), -EINVAL);
    tu_assert_clean(e->m);
}

static void test_pread_at_or_beyond_eof_returns_0(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_pread(e->t, fd, buf, 16, (int64_t)(2 * PG)), 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 16, 1LL << 40), 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 16, (int64_t)(2 * PG) - 2), 2);
    assert_user_pattern(e, buf, 2, 2 * PG - 2);
    tu_assert_clean(e->m);
}

/* ---- lseek ---- */

static void test_lseek_with_an_unknown_whence_is_einval(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_lseek(e->t, fd, 0, 5), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, 0, 99), -EINVAL);
    assert_int_equal(vms_lseek(e->t, 999, 0, 99), -EBADF); /* the fd first */
    tu_assert_clean(e->m);
}

static void test_lseek_to_a_negative_position_is_einval(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_lseek(e->t, fd, -1, SEEK_SET), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, -1, SEEK_CUR), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, -10000, SEEK_END), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0);
    assert_int_equal(vms_lseek(e->t, fd, -100, SEEK_END), (int64_t)(2 * PG) - 100);
    tu_assert_clean(e->m);
}

/* Positions go up to ext4's largest file size, 16 TiB - 4 KiB. */
static void test_lseek_stops_at_the_largest_file_size(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 100);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_lseek(e->t, fd, 1LL << 40, SEEK_SET), 1LL << 40);
    assert_int_equal(vms_lseek(e->t, fd, EXT4_MAXBYTES, SEEK_SET), EXT4_MAXBYTES);
    assert_int_equal(vms_lseek(e->t, fd, EXT4_MAXBYTES + 1, SEEK_SET), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, LLONG_MAX, SEEK_SET), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, 1, SEEK_CUR), -EINVAL);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), EXT4_MAXBYTES);
    tu_assert_clean(e->m);
}

static void test_lseek_data_and_hole_of_a_file_without_holes(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    int fd = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_HOLE), 2 * PG);
    assert_int_equal(vms_lseek(e->t, fd, 2 * PG - 1, SEEK_HOLE), 2 * PG);
    assert_int_equal(vms_lseek(e->t, fd, 100, SEEK_DATA), 100);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 100);
    tu_assert_clean(e->m);
}

static void test_lseek_data_or_hole_at_or_beyond_eof_is_enxio(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    int fd = open_ok(e, "f", O_RDONLY);
    int64_t offs[] = {(int64_t)(2 * PG), (int64_t)(2 * PG) + 1, 1LL << 30, -1};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        assert_int_equal(vms_lseek(e->t, fd, offs[i], SEEK_DATA), -ENXIO);
        assert_int_equal(vms_lseek(e->t, fd, offs[i], SEEK_HOLE), -ENXIO);
    }
    tu_assert_clean(e->m);
}

/* Linux checks that a read or write stays below the largest offset before
 * it looks at what the file is (host-measured): a directory at its
 * SEEK_HOLE position (INT64_MAX) gives EINVAL, not EISDIR, unless the
 * length is 0; a range ending exactly at INT64_MAX passes the check. */
static void test_read_or_write_past_the_largest_offset_is_einval(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    make_file(e, "f", 0);
    vms_addr buf = user_buffer(e, 2 * PG);
    int d = open_ok(e, "d", O_RDONLY), f = open_ok(e, "f", O_RDWR), ro = open_ok(e, "f", O_RDONLY);
    assert_int_equal(vms_lseek(e->t, d, 0, SEEK_HOLE), INT64_MAX);
    assert_int_equal(vms_read(e->t, d, buf, 4096), -EINVAL);
    assert_int_equal(vms_read(e->t, d, buf, 1), -EINVAL);
    assert_int_equal(vms_read(e->t, d, buf, 0), -EISDIR);
    assert_int_equal(vms_read(e->t, d, UNMAPPED, 4096), -EINVAL);
    assert_int_equal(vms_pread(e->t, d, buf, 100, INT64_MAX - 10), -EINVAL);
    assert_int_equal(vms_pread(e->t, d, buf, 100, INT64_MAX - 100), -EISDIR);
    assert_int_equal(vms_pread(e->t, f, buf, 100, INT64_MAX - 10), -EINVAL);
    assert_int_equal(vms_pread(e->t, f, buf, 10, INT64_MAX - 10), 0);
    assert_int_equal(vms_pread(e->t, f, UNMAPPED, 100, INT64_MAX - 10), -EINVAL);
    assert_int_equal(vms_pwrite(e->t, f, buf, 100, INT64_MAX - 10), -EINVAL);
    assert_int_equal(vms_pwrite(e->t, f, buf, 10, INT64_MAX - 10), -EFBIG);
    assert_int_equal(vms_pwrite(e->t, ro, buf, 100, INT64_MAX - 10), -EBADF);
    tu_assert_clean(e->m);
}

static void test_lseek_on_a_directory_to_0_succeeds(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    int fd = open_ok(e, "d", O_RDONLY);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_SET), 0);
    tu_assert_clean(e->m);
}

/* ---- ftruncate, fsync, fstat ---- */

static void test_ftruncate_needs_a_file_open_for_writing(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 100);
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    int ro = open_ok(e, "f", O_RDONLY), wo = open_ok(e, "f", O_WRONLY), dir = open_ok(e, "d", O_RDONLY);
    assert_int_equal(vms_ftruncate(e->t, ro, 10), -EINVAL);
    assert_int_equal(vms_ftruncate(e->t, dir, 10), -EINVAL);
    assert_int_equal(vms_ftruncate(e->t, 999, 10), -EBADF);
    assert_int_equal(vms_ftruncate(e->t, wo, -1), -EINVAL);
    assert_int_equal(vms_ftruncate(e->t, wo, 10), 0);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, ro, &st), 0);
    assert_int_equal(st.st_size, 10);
    assert_int_equal(tu_host_size(in_root(e, "f", path, sizeof(path))), 10);
    tu_assert_clean(e->m);
}

/* The machine over the same root with a largest file of S_MAXBYTES. */
static void use_small_max_file_bytes(struct env *e)
{
    vms_machine_destroy(e->m);
    struct vms_config c = tu_config(64ULL << 20);
    c.root = e->root;
    c.max_file_bytes = S_MAXBYTES;
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
}

/* A machine's files are as large as ext4's with 4 KiB blocks unless its
 * config says otherwise (the tester takes the host filesystem's). */
static void test_largest_file_is_ext4s_by_default(void **state)
{
    (void)state;
    struct vms_config c;
    vms_config_init(&c);
    assert_int_equal(c.max_file_bytes, EXT4_MAXBYTES);
    char msg[200];
    c.max_file_bytes = 100;
    assert_int_equal(vms_config_check(&c, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "max_file_bytes"));
}

static void test_ftruncate_beyond_the_largest_file_size_is_efbig(void **state)
{
    struct env *e = *state;
    use_small_max_file_bytes(e);
    char path[400];
    make_file(e, "f", 100);
    int fd = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_ftruncate(e->t, fd, 1LL << 62), -EFBIG);
    assert_int_equal(vms_ftruncate(e->t, fd, S_MAXBYTES + 1), -EFBIG);
    assert_int_equal(vms_ftruncate(e->t, fd, S_MAXBYTES), 0);
    assert_int_equal(tu_host_size(in_root(e, "f", path, sizeof(path))), S_MAXBYTES);
    tu_assert_clean(e->m);
}

/* A write at the limit fails; one that crosses it is cut short there. */
static void test_pwrite_at_the_largest_file_size_is_efbig_and_short_below_it(void **state)
{
    struct env *e = *state;
    use_small_max_file_bytes(e);
    char path[400];
    make_file(e, "f", 100);
    vms_addr buf = user_buffer(e, PG);
    store_text(e, buf, "XY");
    int fd = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 2, S_MAXBYTES), -EFBIG);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 2, S_MAXBYTES - 1), 1);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, S_MAXBYTES);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    in_root(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_size(path), S_MAXBYTES);
    assert_int_equal(tu_host_byte(path, S_MAXBYTES - 1), 'X');
    assert_int_equal(tu_host_byte(path, S_MAXBYTES - 2), 0);
    tu_assert_clean(e->m);
}

/* ext4's auto_da_alloc: a file left empty by a truncate has the blocks
 * written to it since allocated when an open file of it is released, so a
 * shared mapping's dirty page is written back (clean, write-protected: the
 * next store takes a write-notify fault). Host-measured with one page
 * written by pwrite, stored to through a shared mapping, then a second
 * descriptor opened and closed: a fault for O_TRUNC of an existing file and
 * for ftruncate to 0; none for O_CREAT|O_TRUNC of a new file (open does
 * not truncate what it creates), for ftruncate to 0x100, nor for a release
 * the mapping holds off (its descriptor closed, the mapping still there:
 * host-measured too). */
static void check_release_writes_back(struct env *e, const char *name, int flags, int64_t cut,
                                      char want)
{
    vms_addr buf = user_buffer(e, PG);
    store_text(e, buf, "data");
    int fd = open_ok(e, name, flags);
    if (cut >= 0)
        assert_int_equal(vms_ftruncate(e->t, fd, cut), 0);
    assert_int_equal(vms_pwrite(e->t, fd, buf, PG, 0), (int64_t)PG);
    int64_t map = vms_mmap(e->t, 0, PG, RW, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map, 1), '1');
    int other = open_ok(e, name, O_RDONLY);
    assert_int_equal(vms_close(e->t, other), 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map, 1), want);
    assert_int_equal(vms_munmap(e->t, (vms_addr)map, PG), 0);
    assert_int_equal(vms_close(e->t, fd), 0);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

static void test_release_of_a_file_truncated_to_zero_writes_it_back(void **state)
{
    struct env *e = *state;
    make_file(e, "old", 5000);
    check_release_writes_back(e, "old", O_RDWR | O_TRUNC, -1, '1');
    make_file(e, "cut", 5000);
    check_release_writes_back(e, "cut", O_RDWR, 0, '1');
    check_release_writes_back(e, "new", O_RDWR | O_CREAT | O_TRUNC, -1, '0');
    make_file(e, "short", 5000);
    check_release_writes_back(e, "short", O_RDWR, 0x100, '0');
    /* Once released, the file is written back no more at a release. */
    check_release_writes_back(e, "old", O_RDWR, -1, '0');
}

/* A mapping holds the open file: closing its descriptor releases nothing,
 * the munmap does. */
static void test_release_waits_for_the_mapping(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 5000);
    vms_addr buf = user_buffer(e, PG);
    store_text(e, buf, "data");
    int fd = open_ok(e, "f", O_RDWR | O_TRUNC);
    assert_int_equal(vms_pwrite(e->t, fd, buf, PG, 0), (int64_t)PG);
    int64_t map = vms_mmap(e->t, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    int64_t other = vms_mmap(e->t, 0, PG, RW, MAP_SHARED, fd, 0);
    assert_true(other > 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map, 1), '1');
    assert_int_equal(vms_close(e->t, fd), 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map, 1), '0');
    assert_int_equal(vms_munmap(e->t, (vms_addr)other, PG), 0); /* the same open file: held */
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map, 1), '0');
    assert_int_equal(vms_check(e->m, stderr), 0);
}

static void test_fsync_of_a_read_only_fd_and_of_a_directory_succeeds(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 100);
    assert_int_equal(mkdir(in_root(e, "d", path, sizeof(path)), 0755), 0);
    assert_int_equal(vms_fsync(e->t, open_ok(e, "f", O_RDONLY)), 0);
    assert_int_equal(vms_fsync(e->t, open_ok(e, "d", O_RDONLY)), 0);
    assert_int_equal(vms_fsync(e->t, 999), -EBADF);
    tu_assert_clean(e->m);
}

/* The machine's own inode numbers (from 1001) and disk (08:01). */
static void test_fstat_reports_size_machine_inode_and_device(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "a", 5000);
    make_file(e, "b", 1);
    int a = open_ok(e, "a", O_RDONLY), b = open_ok(e, "b", O_RDONLY), a2 = open_ok(e, "a", O_RDWR);
    struct stat st, host;
    assert_int_equal(lstat(in_root(e, "a", path, sizeof(path)), &host), 0);
    assert_int_equal(vms_fstat(e->t, a, &st), 0);
    assert_int_equal(st.st_size, 5000);
    assert_int_equal(st.st_ino, 1001);
    assert_int_equal(st.st_dev, makedev(8, 1));
    assert_int_equal(st.st_mode, host.st_mode);
    assert_int_equal(st.st_blocks, 16);
    assert_int_equal(vms_fstat(e->t, b, &st), 0);
    assert_int_equal(st.st_ino, 1002);
    assert_int_equal(st.st_size, 1);
    assert_int_equal(vms_fstat(e->t, a2, &st), 0);
    assert_int_equal(st.st_ino, 1001); /* one inode, however often it is opened */
    tu_assert_clean(e->m);
}

/* ---- open: errno ---- */

/* open(2) ignores flag bits it does not know (openat2 would refuse them):
 * a file opens with bits 2, 3, 23, 26, 30 or 31 set. Host-measured (Linux
 * 6.18; bit 31 is INT_MIN as an int). */
static void test_open_ignores_unknown_flag_bits(void **state)
{
    struct env *e = *state;
    make_file(e, "file", 10);
    static const unsigned bits[] = {0x4, 0x8, 0x800000, 0x4000000, 0x40000000, 0x80000000u};
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        int fd = vms_open(e->t, "file", O_RDWR | (int)bits[i], 0);
        assert_int_equal(fd, 3);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
    assert_int_equal(vms_open(e->t, "missing", O_RDWR | 0x20, 0), -ENOENT);
    tu_assert_clean(e->m);
}

/* O_DSYNC, O_SYNC and the __O_SYNC bit alone (open adds O_DSYNC to it):
 * a write is on the disk when it returns, so the page it wrote is clean
 * again and a store through a shared mapping takes a write-notify fault
 * once more. Host-measured (Linux 6.18, ext4): 1 minor fault after the
 * pwrite with any of the three, none without. */
static void test_sync_writes_clean_what_they_wrote(void **state)
{
    struct env *e = *state;
    char path[400];
    static const int flags[] = {O_DSYNC, O_SYNC, 04000000, 0};
    make_file(e, "f", 2 * PG);
    in_root(e, "f", path, sizeof(path));
    vms_addr src = user_buffer(e, PG);
    store_text(e, src, "BBBB");
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        int fd = open_ok(e, "f", O_RDWR | flags[i]);
        vms_addr map = map_file(e, fd, PG, RW, MAP_SHARED);
        tu_store_byte(e->t, map, 'A');
        assert_int_equal(vms_pwrite(e->t, fd, src, 4, 16), 4);
        uint64_t before = tu_minflt(e->t);
        tu_store_byte(e->t, map + 1, 'C');
        assert_int_equal(tu_minflt(e->t) - before, flags[i] ? 1 : 0);
        if (flags[i])
            assert_host_text(path, 16, "BBBB");
        assert_int_equal(vms_munmap(e->t, map, PG), 0);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
    tu_assert_clean(e->m);
}

static void test_open_errors_are_the_hosts(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "file", 10);
    assert_int_equal(mkdir(in_root(e, "dir", path, sizeof(path)), 0755), 0);
    assert_int_equal(vms_open(e->t, "file/", O_RDONLY, 0), -ENOTDIR);
    assert_int_equal(vms_open(e->t, "file/", O_RDWR | O_CREAT, 0644), -EISDIR);
    assert_int_equal(vms_open(e->t, "missing/", O_RDWR | O_CREAT, 0644), -EISDIR);
    assert_int_equal(vms_open(e->t, "file/sub", O_RDONLY, 0), -ENOTDIR);
    assert_int_equal(vms_open(e->t, "missing", O_RDONLY, 0), -ENOENT);
    assert_int_equal(vms_open(e->t, "nodir/x", O_RDWR | O_CREAT, 0644), -ENOENT);
    assert_int_equal(vms_open(e->t, "dir", O_RDWR | O_CREAT, 0644), -EISDIR);
    assert_int_equal(vms_open(e->t, "file", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
    assert_int_equal(vms_open(e->t, "missing", O_RDONLY | O_DIRECTORY, 0), -ENOENT);
    assert_int_equal(vms_open(e->t, "missing", O_RDWR | O_DIRECTORY | O_CREAT, 0644), -EINVAL);
    assert_int_equal(vms_open(e->t, "", O_RDONLY, 0), -ENOENT);
    assert_int_equal(vms_open(e->t, NULL, O_RDONLY, 0), -EFAULT);
    assert_int_equal(tu_host_size(in_root(e, "missing", path, sizeof(path))), -1);
    tu_assert_clean(e->m);
}

static void test_o_creat_o_excl_on_an_existing_name_is_eexist(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "file", 10);
    assert_int_equal(mkdir(in_root(e, "dir", path, sizeof(path)), 0755), 0);
    assert_int_equal(vms_open(e->t, "file", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
    assert_int_equal(vms_open(e->t, "dir", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
    assert_int_equal(vms_open(e->t, "new", O_RDWR | O_CREAT | O_EXCL, 0644), 3);
    assert_int_equal(tu_host_size(in_root(e, "new", path, sizeof(path))), 0);
    tu_assert_clean(e->m);
}

/* ---- O_APPEND, O_TRUNC, growing ---- */

static void test_o_append_writes_at_the_end_whatever_the_position(void **state)
{
    struct env *e = *state;
    char path[400];
    make_text_file(e, "f", "hello");
    vms_addr buf = user_buffer(e, PG);
    store_text(e, buf, "abc");
    int fd = open_ok(e, "f", O_WRONLY | O_APPEND);
    assert_int_equal(vms_write(e->t, fd, buf, 3), 3);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 8);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_SET), 0);
    assert_int_equal(vms_write(e->t, fd, buf, 2), 2);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 10);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    in_root(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_size(path), 10);
    assert_host_text(path, 0, "helloabcab");
    tu_assert_clean(e->m);
}

/* Linux's pwrite appends on an O_APPEND descriptor, offset or not. */
static void test_pwrite_on_an_o_append_fd_appends(void **state)
{
    struct env *e = *state;
    char path[400];
    make_text_file(e, "f", "hello");
    vms_addr buf = user_buffer(e, PG);
    store_text(e, buf, "XY");
    int fd = open_ok(e, "f", O_RDWR | O_APPEND);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 2, 0), 2);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    in_root(e, "f", path, sizeof(path));
    assert_host_text(path, 0, "helloXY");
    tu_assert_clean(e->m);
}

/* O_TRUNC drops what the cache held, dirty pages and all: a later sync
 * must not bring the old data back, and a mapping of it is beyond EOF. */
static void test_o_trunc_empties_a_cached_file(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 2 * PG);
    vms_addr buf = user_buffer(e, 2 * PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr map = map_file(e, fd, 2 * PG, PROT_READ, MAP_SHARED);
    assert_int_equal(vms_read(e->t, fd, buf, 2 * PG), (int64_t)(2 * PG));
    store_text(e, buf, "dirty");
    assert_int_equal(vms_pwrite(e->t, fd, buf, 5, 0), 5);
    assert_int_equal(tu_load_byte(e->t, map), 'd');
    int fd2 = open_ok(e, "f", O_RDWR | O_TRUNC);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 2 * PG, 0), 0);
    char c;
    assert_int_equal(vms_load(e->t, map, &c, 1), SIGBUS);
    tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, map);
    assert_int_equal(vms_sync(e->m), 0);
    in_root(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_size(path), 0);
    store_text(e, buf, "new");
    assert_int_equal(vms_write(e->t, fd2, buf, 3), 3);
    assert_int_equal(vms_sync(e->m), 0);
    assert_int_equal(tu_host_size(path), 3);
    assert_host_text(path, 0, "new");
    tu_assert_clean(e->m);
}

static void test_o_rdonly_with_o_trunc_truncates(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 2 * PG);
    int fd = open_ok(e, "f", O_RDONLY | O_TRUNC);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(tu_host_size(in_root(e, "f", path, sizeof(path))), 0);
    tu_assert_clean(e->m);
}

/* A write past EOF leaves a gap of zeros; write-back makes the host file
 * as long as the machine's. */
static void test_write_past_eof_grows_the_file_with_zeros(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 100);
    vms_addr buf = user_buffer(e, 2 * PG);
    store_text(e, buf, "0123456789");
    int fd = open_ok(e, "f", O_RDWR);
    assert_int_equal(vms_pwrite(e->t, fd, buf, 10, 8000), 10);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    assert_int_equal(st.st_size, 8010);
    assert_int_equal(vms_pread(e->t, fd, buf, 2 * PG, 0), 8010);
    assert_user_pattern(e, buf, 100, 0);
    for (uint64_t i = 100; i < 8000; i++)
        assert_int_equal(tu_load_byte(e->t, buf + i), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    in_root(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_size(path), 8010);
    assert_host_pattern(path, 100, 0);
    assert_int_equal(tu_host_byte(path, 4000), 0);
    assert_host_text(path, 8000, "0123456789");
    tu_assert_clean(e->m);
}

/* ---- confinement to the root folder ---- */

static void test_absolute_path_outside_the_root_is_exdev(void **state)
{
    struct env *e = *state;
    char path[400];
    in_outside(e, "x", path, sizeof(path));
    tu_host_write(path, "secret", 6);
    assert_int_equal(vms_open(e->t, path, O_RDONLY, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, path, O_RDWR | O_TRUNC, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, "/", O_RDONLY, 0), -EXDEV);
    assert_int_equal(tu_host_size(path), 6);
    assert_host_text(path, 0, "secret");
    tu_assert_clean(e->m);
}

/* "<root>x/f" starts with the root's name but is not inside it. */
static void test_absolute_path_into_a_sibling_named_like_the_root_is_exdev(void **state)
{
    struct env *e = *state;
    char sibling[400], path[420];
    snprintf(sibling, sizeof(sibling), "%sx", e->root);
    assert_int_equal(mkdir(sibling, 0755), 0);
    tu_join(path, sizeof(path), sibling, "f");
    tu_host_write(path, "secret", 6);
    assert_int_equal(vms_open(e->t, path, O_RDWR | O_TRUNC, 0), -EXDEV);
    assert_int_equal(tu_host_size(path), 6);
    tu_assert_clean(e->m);
}

static void test_dotdot_out_of_the_root_is_exdev(void **state)
{
    struct env *e = *state;
    char path[400], via_root[420];
    make_file(e, "f", 10);
    assert_int_equal(mkdir(in_root(e, "sub", path, sizeof(path)), 0755), 0);
    tu_host_write(in_outside(e, "x", path, sizeof(path)), "secret", 6);
    assert_int_equal(vms_open(e->t, "..", O_RDONLY, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, "../outside/x", O_RDONLY, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, "sub/../../outside/x", O_RDWR | O_TRUNC, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, "sub/../../root/f", O_RDONLY, 0), -EXDEV);
    snprintf(via_root, sizeof(via_root), "%s/../outside/x", e->root);
    assert_int_equal(vms_open(e->t, via_root, O_RDONLY, 0), -EXDEV);
    assert_int_equal(tu_host_size(path), 6);
    tu_assert_clean(e->m);
}

static void test_dotdot_that_stays_inside_the_root_works(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 10);
    assert_int_equal(mkdir(in_root(e, "sub", path, sizeof(path)), 0755), 0);
    assert_int_equal(vms_open(e->t, "sub/../f", O_RDONLY, 0), 3);
    assert_int_equal(vms_open(e->t, ".", O_RDONLY, 0), 4);
    tu_assert_clean(e->m);
}

/* Neither a relative nor an absolute symlink can lead out; the file it
 * names is neither opened nor truncated. */
static void test_symlink_out_of_the_root_is_exdev_and_the_target_untouched(void **state)
{
    struct env *e = *state;
    char target[400], link[400];
    in_outside(e, "x", target, sizeof(target));
    tu_host_write(target, "secret", 6);
    assert_int_equal(symlink("../outside/x", in_root(e, "rel", link, sizeof(link))), 0);
    assert_int_equal(symlink(target, in_root(e, "abs", link, sizeof(link))), 0);
    assert_int_equal(vms_open(e->t, "rel", O_RDONLY, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, "rel", O_RDWR | O_TRUNC, 0), -EXDEV);
    assert_int_equal(vms_open(e->t, "abs", O_RDWR | O_TRUNC, 0), -EXDEV);
    assert_int_equal(tu_host_size(target), 6);
    assert_host_text(target, 0, "secret");
    tu_assert_clean(e->m);
}

/* Resolution stays beneath the root, so an absolute symlink is refused even
 * when it points inside; a relative one inside works. */
static void test_symlink_inside_the_root_works_when_relative(void **state)
{
    struct env *e = *state;
    char link[400], target[400];
    make_text_file(e, "f", "inside");
    in_root(e, "f", target, sizeof(target));
    assert_int_equal(symlink("f", in_root(e, "rel", link, sizeof(link))), 0);
    assert_int_equal(symlink(target, in_root(e, "abs", link, sizeof(link))), 0);
    vms_addr buf = user_buffer(e, PG);
    int fd = vms_open(e->t, "rel", O_RDONLY, 0);
    assert_int_equal(fd, 3);
    assert_int_equal(vms_read(e->t, fd, buf, 100), 6);
    assert_user_text(e, buf, "inside");
    struct stat via_link, direct;
    assert_int_equal(vms_fstat(e->t, fd, &via_link), 0);
    assert_int_equal(vms_fstat(e->t, open_ok(e, "f", O_RDONLY), &direct), 0);
    assert_int_equal(via_link.st_ino, direct.st_ino);
    assert_int_equal(vms_open(e->t, "abs", O_RDONLY, 0), -EXDEV);
    tu_assert_clean(e->m);
}

/* A machine whose root is the host's own "/" resolves paths as the host
 * does: an absolute symlink is followed from "/" and "/.." is "/" (the
 * host's open(2) of both succeeds, measured here on each run; beneath any
 * other root both stay EXDEV, above). Programs need it: their loader's
 * path, /lib64/ld-linux-x86-64.so.2, is an absolute symlink on Debian. */
static void test_root_slash_follows_absolute_symlinks_as_the_host(void **state)
{
    struct env *e = *state;
    char link[400], target[400], chain[400];
    make_text_file(e, "f", "inside");
    in_root(e, "f", target, sizeof(target));
    assert_int_equal(symlink(target, in_root(e, "abs", link, sizeof(link))), 0);
    /* A link to "/" and back down: the walk restarts at the root mid-path. */
    assert_int_equal(symlink("/", in_root(e, "slash", chain, sizeof(chain))), 0);
    int host_fd = open(link, O_RDONLY);
    assert_true(host_fd >= 0);
    close(host_fd);
    host_fd = open("/..", O_RDONLY | O_DIRECTORY);
    assert_true(host_fd >= 0);
    close(host_fd);

    vms_machine *m = tu_machine_in("/");
    vms_task *t = tu_spawn(m);
    struct stat via_link, direct;
    assert_int_equal(vms_fstat(t, vms_open(t, target, O_RDONLY, 0), &direct), 0);
    int fd = vms_open(t, link, O_RDONLY, 0);
    assert_int_equal(fd, 4);
    assert_int_equal(vms_fstat(t, fd, &via_link), 0);
    assert_int_equal(via_link.st_ino, direct.st_ino); /* the machine's inode: one file */
    assert_int_equal(via_link.st_size, 6);
    char through_slash[900];
    snprintf(through_slash, sizeof(through_slash), "%s/%s", chain, target + 1);
    fd = vms_open(t, through_slash, O_RDONLY, 0);
    assert_int_equal(fd, 5);
    assert_int_equal(vms_fstat(t, fd, &via_link), 0);
    assert_int_equal(via_link.st_ino, direct.st_ino);
    assert_int_equal(vms_open(t, "/..", O_RDONLY | O_DIRECTORY, 0), 6);
    assert_int_equal(vms_open(t, "../..", O_RDONLY | O_DIRECTORY, 0), 7);
    tu_assert_clean(m);
    vms_machine_destroy(m);
    /* Beneath the scratch root the same absolute link is still refused. */
    assert_int_equal(vms_open(e->t, "abs", O_RDONLY, 0), -EXDEV);
    tu_assert_clean(e->m);
}

static void test_absolute_path_inside_the_root_names_the_same_file(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 10);
    int rel = open_ok(e, "f", O_RDONLY);
    int abs = open_ok(e, in_root(e, "f", path, sizeof(path)), O_RDONLY);
    struct stat a, b;
    assert_int_equal(vms_fstat(e->t, rel, &a), 0);
    assert_int_equal(vms_fstat(e->t, abs, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(vms_open(e->t, e->root, O_RDONLY | O_DIRECTORY, 0), 5);
    tu_assert_clean(e->m);
}

/* O_CREAT through any way out fails, and nothing appears outside. */
static void test_o_creat_never_creates_outside_the_root(void **state)
{
    struct env *e = *state;
    char link[400], abs_new[400], abs_target[400], path[400];
    int fl = O_WRONLY | O_CREAT;
    in_outside(e, "abs_new", abs_new, sizeof(abs_new));
    in_outside(e, "via_abs_link", abs_target, sizeof(abs_target));
    assert_int_equal(symlink("../outside/via_link", in_root(e, "dangling", link, sizeof(link))), 0);
    assert_int_equal(symlink(abs_target, in_root(e, "dangling_abs", link, sizeof(link))), 0);
    assert_int_equal(vms_open(e->t, "../outside/dotdot", fl, 0644), -EXDEV);
    assert_int_equal(vms_open(e->t, abs_new, fl, 0644), -EXDEV);
    assert_int_equal(vms_open(e->t, "dangling", fl, 0644), -EXDEV);
    assert_int_equal(vms_open(e->t, "dangling_abs", fl, 0644), -EXDEV);
    assert_int_equal(tu_host_size(in_outside(e, "dotdot", path, sizeof(path))), -1);
    assert_int_equal(tu_host_size(abs_new), -1);
    assert_int_equal(tu_host_size(in_outside(e, "via_link", path, sizeof(path))), -1);
    assert_int_equal(tu_host_size(abs_target), -1);
    assert_int_equal(tu_host_size(in_root(e, "outside", path, sizeof(path))), -1);
    tu_assert_clean(e->m);
}

static void test_o_creat_inside_the_root_creates_the_host_file(void **state)
{
    struct env *e = *state;
    char path[400];
    vms_addr buf = user_buffer(e, PG);
    store_text(e, buf, "made");
    int fd = vms_open(e->t, "new", O_RDWR | O_CREAT, 0600);
    assert_int_equal(fd, 3);
    in_root(e, "new", path, sizeof(path));
    assert_int_equal(tu_host_size(path), 0);
    assert_int_equal(vms_write(e->t, fd, buf, 4), 4);
    assert_int_equal(vms_close(e->t, fd), 0);
    tu_assert_clean(e->m);
    vms_machine_destroy(e->m); /* writes the dirty page back */
    e->m = NULL;
    assert_int_equal(tu_host_size(path), 4);
    assert_host_text(path, 0, "made");
}

/* ---- confinement: the hostile paths, one table ---- */

#define DIR_OPENED "<dir>" /* the row opens a folder */

/* One vms_open: its errno, or what it opens (a file whose bytes are the text,
 * or DIR_OPENED). "@" at the start of a path stands for the root's host path. */
struct open_case {
    const char *path;
    int flags;
    int err;
    const char *opens;
};

/* Answers of openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) on the host
 * (Linux 6.18, ext4), row by row. */
static const struct open_case hostile_paths[] = {
    {"..", O_RDONLY, EXDEV, NULL},
    {"../outside/x", O_RDONLY, EXDEV, NULL},
    {"sub/../../outside/x", O_RDWR | O_TRUNC, EXDEV, NULL},
    {"sub/../f", O_RDONLY, 0, "f"},
    {"sub/./d2/../g", O_RDONLY, 0, "sub/g"},
    {"./f", O_RDONLY, 0, "f"},
    {"@/sub/../f", O_RDONLY, 0, "f"},
    {"@/../outside/x", O_RDONLY, EXDEV, NULL},
    {"f/", O_RDONLY, ENOTDIR, NULL},
    {"f/.", O_RDONLY, ENOTDIR, NULL},
    {"f/..", O_RDONLY, ENOTDIR, NULL},
    {"sub/", O_RDONLY, 0, DIR_OPENED},
    {"sub//d2/", O_RDONLY, 0, DIR_OPENED},
    {"sub", O_WRONLY, EISDIR, NULL},
    {"sub", O_RDONLY | O_TRUNC, EISDIR, NULL},
    {".", O_RDONLY | O_CREAT, EISDIR, NULL},
    {"./", O_RDONLY | O_CREAT | O_EXCL, EEXIST, NULL},
    {"sub/..", O_RDONLY | O_CREAT | O_EXCL, EEXIST, NULL},
    {"..", O_RDONLY | O_CREAT, EXDEV, NULL},
    {"missing", O_RDONLY, ENOENT, NULL},
    {"missing/x", O_WRONLY | O_CREAT, ENOENT, NULL},
    {"new/", O_WRONLY | O_CREAT, EISDIR, NULL},
    {"missing", O_RDWR | O_CREAT | O_DIRECTORY, EINVAL, NULL},
    /* open(2) ignores a flag bit it does not know, where openat2 refuses it
     * (EINVAL): vms_open is open(2) (host-measured with openat) */
    {"f", O_RDONLY | 04, 0, "f"},
    {"f", O_RDONLY | (1 << 23), 0, "f"},
    /* symlinks that leave: relative, absolute, to a folder outside */
    {"rel_out", O_RDONLY, EXDEV, NULL},
    {"rel_out", O_RDWR | O_TRUNC, EXDEV, NULL},
    {"abs_out", O_RDWR | O_TRUNC, EXDEV, NULL},
    {"abs_in", O_RDONLY, EXDEV, NULL},         /* absolute, even to inside */
    {"dir_out/x", O_RDONLY, EXDEV, NULL},
    {"dir_out/new", O_WRONLY | O_CREAT, EXDEV, NULL},
    {"sub/up2", O_RDONLY, EXDEV, NULL},
    /* symlinks that stay: ".." after a link is the link target's parent */
    {"sub/up", O_RDONLY, 0, "f"},
    {"ld2/h", O_RDONLY, 0, "sub/d2/h"},
    {"ld2/../g", O_RDONLY, 0, "sub/g"},
    {"ld2/../../f", O_RDONLY, 0, "f"},
    {"ld2/../../..", O_RDONLY, EXDEV, NULL},
    {"lf", O_RDONLY, 0, "f"},
    {"lf", O_RDONLY | O_NOFOLLOW, ELOOP, NULL},
    {"lf", O_RDWR | O_TRUNC | O_NOFOLLOW, ELOOP, NULL},
    {"lf/", O_RDONLY, ENOTDIR, NULL},
    {"lf", O_RDONLY | O_DIRECTORY, ENOTDIR, NULL},
    {"lsub", O_RDONLY | O_NOFOLLOW, ELOOP, NULL},
    {"lsub/", O_RDONLY | O_NOFOLLOW, 0, DIR_OPENED}, /* a trailing slash follows */
    {"lsub", O_RDONLY | O_DIRECTORY, 0, DIR_OPENED},
    {"lsub/", O_RDONLY | O_CREAT, EISDIR, NULL},
    {"lsub/d2/h", O_RDONLY, 0, "sub/d2/h"},
    /* loops and the limit of 40 links */
    {"loop", O_RDONLY, ELOOP, NULL},
    {"loop", O_RDONLY | O_NOFOLLOW, ELOOP, NULL},
    {"loop", O_WRONLY | O_CREAT, ELOOP, NULL},
    {"loop/x", O_RDONLY, ELOOP, NULL},
    {"ping", O_RDONLY, ELOOP, NULL},
    {"c40", O_RDONLY, 0, "f"},
    {"c41", O_RDONLY, ELOOP, NULL},
    {"c40/", O_RDONLY, ENOTDIR, NULL},
    /* dangling symlinks and O_CREAT: created through the link, inside only */
    {"dangling", O_WRONLY | O_CREAT | O_EXCL, EEXIST, NULL},
    {"dangling", O_WRONLY | O_CREAT | O_NOFOLLOW, ELOOP, NULL},
    {"dangling", O_RDONLY, ENOENT, NULL},
    {"dangling", O_RDWR | O_CREAT, 0, ""},
    {"made_by_link", O_RDONLY, 0, ""},
    {"dangling_slash", O_WRONLY | O_CREAT, EISDIR, NULL},
    {"dangling_out", O_WRONLY | O_CREAT, EXDEV, NULL},
    {"dangling_abs", O_WRONLY | O_CREAT, EXDEV, NULL},
};

static void make_link(const struct env *e, const char *target, const char *name)
{
    char path[400];
    assert_int_equal(symlink(target, in_root(e, name, path, sizeof(path))), 0);
}

/* Files hold their own names: what a row opened shows in its bytes. */
static void make_hostile_tree(const struct env *e)
{
    char path[400], target[400];
    make_text_file(e, "f", "f");
    assert_int_equal(mkdir(in_root(e, "sub", path, sizeof(path)), 0755), 0);
    assert_int_equal(mkdir(in_root(e, "sub/d2", path, sizeof(path)), 0755), 0);
    make_text_file(e, "sub/g", "sub/g");
    make_text_file(e, "sub/d2/h", "sub/d2/h");
    tu_host_write(in_outside(e, "x", path, sizeof(path)), "secret", 6);
    make_link(e, "../outside/x", "rel_out");
    make_link(e, in_outside(e, "x", target, sizeof(target)), "abs_out");
    make_link(e, in_root(e, "f", target, sizeof(target)), "abs_in");
    make_link(e, "../outside", "dir_out");
    make_link(e, "../f", "sub/up");
    make_link(e, "../../outside/x", "sub/up2");
    make_link(e, "sub/d2", "ld2");
    make_link(e, "f", "lf");
    make_link(e, "sub", "lsub");
    make_link(e, "loop", "loop");
    make_link(e, "pong", "ping");
    make_link(e, "ping", "pong");
    make_link(e, "f", "c1");
    for (int i = 2; i <= 41; i++) {
        char name[8], prev[8];
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(prev, sizeof(prev), "c%d", i - 1);
        make_link(e, prev, name);
    }
    make_link(e, "made_by_link", "dangling");
    make_link(e, "missing/", "dangling_slash");
    make_link(e, "../outside/made_by_link", "dangling_out");
    make_link(e, in_outside(e, "made_by_abs_link", target, sizeof(target)), "dangling_abs");
}

/* What the descriptor opened, in the terms of the table: DIR_OPENED or the
 * file's bytes (at most 63) into out. */
static void describe_opened(struct env *e, int fd, char *out, size_t size)
{
    struct stat st;
    assert_int_equal(vms_fstat(e->t, fd, &st), 0);
    memset(out, 0, size);
    if (S_ISDIR(st.st_mode)) {
        snprintf(out, size, "%s", DIR_OPENED);
        return;
    }
    vms_addr buf = user_buffer(e, PG);
    int64_t n = vms_pread(e->t, fd, buf, size - 1, 0);
    assert_true(n >= 0);
    assert_int_equal(vms_load(e->t, buf, out, (uint64_t)n), 0);
}

/* Whether one vms_open gave what the row says; prints the difference. */
static bool open_case_agrees(struct env *e, const struct open_case *c, const char *path, int fd)
{
    char got[64];
    if (fd < 0) {
        if (fd == -c->err)
            return true;
        printf("%s 0%o: %d, not %s\n", path, (unsigned)c->flags, fd, c->err ? "that errno" : "a file");
        return false;
    }
    if (c->err) {
        printf("%s 0%o: opened, not -%d\n", path, (unsigned)c->flags, c->err);
        return false;
    }
    describe_opened(e, fd, got, sizeof(got));
    assert_int_equal(vms_close(e->t, fd), 0);
    if (strcmp(got, c->opens) == 0)
        return true;
    printf("%s 0%o: opened \"%s\", not \"%s\"\n", path, (unsigned)c->flags, got, c->opens);
    return false;
}

/* The names in a host folder, sorted, joined by spaces. */
static void list_folder(const char *dir, char *out, size_t size)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            if (out[0])
                strncat(out, " ", size - strlen(out) - 1);
            strncat(out, names[i]->d_name, size - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
}

/* Nothing was created next to the root or outside, nothing outside changed. */
static void assert_outside_untouched(const struct env *e, const char *expected)
{
    char names[256], path[400];
    list_folder(e->outside, names, sizeof(names));
    assert_string_equal(names, expected);
    list_folder(e->dir, names, sizeof(names));
    assert_string_equal(names, "outside root");
    assert_host_text(in_outside(e, "x", path, sizeof(path)), 0, "secret");
}

/* Every row as the host's openat2 answers it, whichever resolver the machine
 * uses (main runs this program again with openat2 refused). */
static void test_hostile_paths_get_the_answers_of_openat2(void **state)
{
    struct env *e = *state;
    make_hostile_tree(e);
    int wrong = 0;
    for (size_t i = 0; i < sizeof(hostile_paths) / sizeof(hostile_paths[0]); i++) {
        const struct open_case *c = &hostile_paths[i];
        char path[400];
        if (c->path[0] == '@')
            snprintf(path, sizeof(path), "%s%s", e->root, c->path + 1);
        else
            snprintf(path, sizeof(path), "%s", c->path);
        wrong += !open_case_agrees(e, c, path, vms_open(e->t, path, c->flags, 0644));
    }
    assert_int_equal(wrong, 0);
    char path[400];
    assert_int_equal(tu_host_size(in_root(e, "made_by_link", path, sizeof(path))), 0);
    assert_outside_untouched(e, "x");
    tu_assert_clean(e->m);
}

/* NAME_MAX is 255 on ext4: a longer name, anywhere in the path or in a
 * link's target, is ENAMETOOLONG (host). */
static void test_names_longer_than_255_bytes_are_enametoolong(void **state)
{
    struct env *e = *state;
    char name[300], path[320];
    memset(name, 'a', 256);
    name[256] = '\0';
    make_text_file(e, "f", "f");
    tu_host_write(in_outside(e, "x", path, sizeof(path)), "secret", 6);
    make_link(e, name, "long_link");
    assert_int_equal(vms_open(e->t, name, O_RDONLY, 0), -ENAMETOOLONG);
    assert_int_equal(vms_open(e->t, name, O_WRONLY | O_CREAT, 0644), -ENAMETOOLONG);
    snprintf(path, sizeof(path), "%s/f", name);
    assert_int_equal(vms_open(e->t, path, O_RDONLY, 0), -ENAMETOOLONG);
    assert_int_equal(vms_open(e->t, "long_link", O_RDONLY, 0), -ENAMETOOLONG);
    name[255] = '\0';
    assert_int_equal(vms_open(e->t, name, O_WRONLY | O_CREAT, 0644), 3);
    assert_outside_untouched(e, "x");
    tu_assert_clean(e->m);
}

/* /proc's links to open objects ("exe", "cwd", "fd/N") are refused with
 * ELOOP (RESOLVE_NO_MAGICLINKS); its plain links ("self", "mounts") are
 * followed (host). */
static void test_proc_magic_links_are_eloop(void **state)
{
    (void)state;
    vms_machine *m = tu_machine_in("/proc/self");
    vms_task *t = tu_spawn(m);
    char fd_link[32];
    snprintf(fd_link, sizeof(fd_link), "fd/%d", fileno(stdout));
    assert_int_equal(vms_open(t, "exe", O_RDONLY, 0), -ELOOP);
    assert_int_equal(vms_open(t, "exe", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
    assert_int_equal(vms_open(t, "cwd", O_RDONLY | O_DIRECTORY, 0), -ELOOP);
    assert_int_equal(vms_open(t, fd_link, O_RDONLY, 0), -ELOOP);
    assert_int_equal(vms_open(t, "status", O_RDONLY, 0), 3);
    vms_machine_destroy(m);
    m = tu_machine_in("/proc");
    t = tu_spawn(m);
    assert_int_equal(vms_open(t, "self/exe", O_RDONLY, 0), -ELOOP);
    assert_int_equal(vms_open(t, "self/status", O_RDONLY, 0), 3);
    assert_int_equal(vms_open(t, "thread-self/status", O_RDONLY, 0), 4);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* What the host's own open() of the same path answers: 0 or -errno. */
static int host_open_result(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

/* fs.protected_symlinks: in a sticky world-writable folder, a last
 * component that is a link of another user (not the folder's owner) is not
 * followed (EACCES); a link earlier in the path is. The host's own open()
 * of the same paths is the reference, whatever its sysctl says. */
static void test_protected_symlinks_are_applied_as_the_host_applies_them(void **state)
{
    struct env *e = *state;
    char path[400];
    make_text_file(e, "f", "f");
    assert_int_equal(mkdir(in_root(e, "sub", path, sizeof(path)), 0755), 0);
    make_text_file(e, "sub/g", "sub/g");
    assert_int_equal(mkdir(in_root(e, "sticky", path, sizeof(path)), 0755), 0);
    assert_int_equal(chmod(path, 01777), 0);
    make_link(e, "../f", "sticky/l");
    make_link(e, "../sub", "sticky/ld");
    if (geteuid() == 0) { /* the links belong to nobody, the folder to root */
        assert_int_equal(lchown(in_root(e, "sticky/l", path, sizeof(path)), 65534, 65534), 0);
        assert_int_equal(lchown(in_root(e, "sticky/ld", path, sizeof(path)), 65534, 65534), 0);
    }
    static const char *const names[] = {"sticky/l", "sticky/ld/g", "sticky/ld", "sticky/l/"};
    static const int flags[] = {O_RDONLY, O_RDONLY, O_RDONLY | O_DIRECTORY, O_RDONLY};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int want = host_open_result(in_root(e, names[i], path, sizeof(path)), flags[i]);
        int fd = vms_open(e->t, names[i], flags[i], 0);
        if (fd >= 0)
            assert_int_equal(vms_close(e->t, fd), 0);
        if ((fd >= 0 ? 0 : fd) != want)
            fail_msg("%s: %d, the host's open() %d", names[i], fd, want);
    }
    tu_assert_clean(e->m);
}

/* A child that swaps "sub" (a folder inside) and "lnk" (a symlink to the
 * folder outside) as fast as it can, until killed. */
static pid_t start_swapper(const struct env *e)
{
    char sub[400], lnk[400];
    in_root(e, "sub", sub, sizeof(sub));
    in_root(e, "lnk", lnk, sizeof(lnk));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;)
            if (renameat2(AT_FDCWD, sub, AT_FDCWD, lnk, RENAME_EXCHANGE))
                _exit(errno == EINVAL ? 77 : 1);
    }
    return pid;
}

/* Opens through a name swapped between a folder inside and a symlink to a
 * folder outside, thousands of times: each sees one or the other, and none
 * ever reaches or creates anything outside. */
static void test_a_symlink_swapped_in_mid_walk_never_leads_out(void **state)
{
    struct env *e = *state;
    char path[400];
    assert_int_equal(mkdir(in_root(e, "sub", path, sizeof(path)), 0755), 0);
    tu_host_write(in_outside(e, "secret", path, sizeof(path)), "secret", 6);
    tu_host_write(in_outside(e, "x", path, sizeof(path)), "secret", 6);
    make_link(e, "../outside", "lnk");
    pid_t swapper = start_swapper(e);
    int inside = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        int fd = vms_open(e->t, "sub/new", O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 3 || fd == -EXDEV);
        if (fd >= 3)
            assert_int_equal(vms_close(e->t, fd), 0);
        fd = vms_open(e->t, "sub/secret", O_RDONLY, 0);
        assert_true(fd == -ENOENT || fd == -EXDEV);
        inside += fd == -ENOENT;
        refused += fd == -EXDEV;
    }
    int status = 0;
    assert_int_equal(kill(swapper, SIGKILL), 0);
    assert_int_equal(waitpid(swapper, &status, 0), swapper);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        skip(); /* the file system cannot exchange names */
    assert_true(WIFSIGNALED(status));
    assert_int_equal(inside + refused, 3000);
    assert_outside_untouched(e, "secret x");
    tu_assert_clean(e->m);
}

/* Search permission is checked before every component, "." and ".."
 * included (host, as an unprivileged user): run as nobody in a child. */
struct open_result {
    const char *path;
    int flags;
    int want; /* what vms_open returns: -errno or the descriptor */
};

/* The rows whose vms_open in a new machine over root does not return what
 * they want, each printed; -1 if the machine cannot be made. */
static int count_wrong_results(const char *root, const struct open_result *rows, size_t n)
{
    struct vms_config c = tu_config(16ULL << 20);
    c.root = root;
    vms_machine *m = vms_machine_create(&c);
    vms_task *t = m ? vms_spawn(m, "nobody") : NULL;
    if (!t) {
        vms_machine_destroy(m);
        return -1;
    }
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        int fd = vms_open(t, rows[i].path, rows[i].flags, 0);
        if (fd != rows[i].want) {
            printf("as nobody in %s: %s 0%o gave %d, not %d\n", root, rows[i].path,
                   (unsigned)rows[i].flags, fd, rows[i].want);
            wrong++;
        }
    }
    vms_machine_destroy(m);
    return wrong;
}

static int open_as_nobody(const struct env *e)
{
    if (geteuid() == 0 && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
                           setresuid(65534, 65534, 65534)))
        return 77;
    static const struct open_result under_root[] = {
        {"locked/f", O_RDONLY, -EACCES},
        {"locked/.", O_RDONLY, -EACCES},
        {"locked/..", O_RDONLY, -EACCES},
        {"locked/../f", O_RDONLY, -EACCES},
        {"locked", O_RDONLY | O_DIRECTORY, -EACCES},
        {"read_only", O_RDWR, -EACCES},
        {"read_only", O_RDWR | O_NOFOLLOW, -EACCES},
        {"to_read_only", O_WRONLY | O_TRUNC, -EACCES},
        {"to_read_only", O_RDONLY, 3},
    };
    /* A root that cannot be searched: EACCES comes before EXDEV. */
    static const struct open_result under_locked[] = {
        {"..", O_RDONLY, -EACCES}, {"../f", O_RDONLY, -EACCES}, {"./..", O_RDONLY, -EACCES},
        {".", O_RDONLY, -EACCES},  {"f", O_RDONLY, -EACCES},
    };
    char locked[400];
    int a = count_wrong_results(e->root, under_root, sizeof(under_root) / sizeof(under_root[0]));
    int b = count_wrong_results(in_root(e, "locked", locked, sizeof(locked)), under_locked,
                                sizeof(under_locked) / sizeof(under_locked[0]));
    return a || b ? 1 : 0;
}

static void test_search_permission_is_checked_before_every_component(void **state)
{
    struct env *e = *state;
    char path[400];
    make_text_file(e, "f", "f");
    make_text_file(e, "read_only", "r");
    make_link(e, "read_only", "to_read_only");
    assert_int_equal(mkdir(in_root(e, "locked", path, sizeof(path)), 0755), 0);
    make_text_file(e, "locked/f", "f");
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(chmod(in_root(e, "read_only", path, sizeof(path)), 0444), 0);
    assert_int_equal(chmod(e->dir, 0755), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int wrong = open_as_nobody(e);
        fflush(NULL);
        _exit(wrong);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(chmod(in_root(e, "locked", path, sizeof(path)), 0755), 0);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip(); /* cannot become an unprivileged user here */
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- read() and write() against mappings: one page cache ---- */

/* Four pages: "AAAA...", "BBBB...", "CCCC...", "DDDD...". */
static void make_letter_file(const struct env *e, const char *name)
{
    char path[400];
    uint8_t data[4 * PG];
    for (uint64_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)('A' + i / PG);
    tu_host_write(in_root(e, name, path, sizeof(path)), data, sizeof(data));
}

static void pwrite_text(struct env *e, int fd, vms_addr buf, const char *text, int64_t off)
{
    store_text(e, buf, text);
    assert_int_equal(vms_pwrite(e->t, fd, buf, strlen(text), off), (int64_t)strlen(text));
}

static void test_write_is_seen_by_a_shared_mapping_at_once(void **state)
{
    struct env *e = *state;
    make_letter_file(e, "f");
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr map = map_file(e, fd, 4 * PG, RW, MAP_SHARED);
    assert_user_text(e, map, "AAAA");
    pwrite_text(e, fd, buf, "NEW0", 0);
    assert_user_text(e, map, "NEW0");
    pwrite_text(e, fd, buf, "NEW3", (int64_t)(3 * PG));
    assert_user_text(e, map + 3 * PG, "NEW3");
    tu_assert_clean(e->m);
}

static void test_store_in_a_shared_mapping_is_seen_by_read_at_once(void **state)
{
    struct env *e = *state;
    make_letter_file(e, "f");
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr map = map_file(e, fd, 4 * PG, RW, MAP_SHARED);
    store_text(e, map + PG, "SHR1");
    assert_int_equal(vms_pread(e->t, fd, buf, 5, (int64_t)PG), 5);
    assert_user_text(e, buf, "SHR1B");
    tu_assert_clean(e->m);
}

/* A private mapping shows the file in every page it has not copied yet;
 * its copied page keeps what it had. */
static void test_private_mapping_sees_file_changes_until_it_copies_a_page(void **state)
{
    struct env *e = *state;
    make_letter_file(e, "f");
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr priv = map_file(e, fd, 4 * PG, RW, MAP_PRIVATE);
    assert_user_text(e, priv, "AAAA");
    assert_user_text(e, priv + 3 * PG, "DDDD");
    tu_store_byte(e->t, priv + PG + 1, 'c');
    pwrite_text(e, fd, buf, "NEW0", 0);
    pwrite_text(e, fd, buf, "NEW1", (int64_t)PG);
    pwrite_text(e, fd, buf, "NEW2", (int64_t)(2 * PG));
    pwrite_text(e, fd, buf, "NEW3", (int64_t)(3 * PG));
    assert_user_text(e, priv, "NEW0");
    assert_user_text(e, priv + PG, "BcBB");
    assert_user_text(e, priv + 2 * PG, "NEW2");
    assert_user_text(e, priv + 3 * PG, "NEW3");
    tu_assert_clean(e->m);
}

static void test_private_mapping_keeps_its_copy_over_shared_stores(void **state)
{
    struct env *e = *state;
    make_letter_file(e, "f");
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr priv = map_file(e, fd, 4 * PG, RW, MAP_PRIVATE);
    vms_addr shared = map_file(e, fd, 4 * PG, RW, MAP_SHARED);
    tu_store_byte(e->t, priv + PG + 1, 'c');
    store_text(e, shared, "SHR0");
    store_text(e, shared + PG, "SHR1");
    assert_user_text(e, priv, "SHR0");
    assert_user_text(e, priv + PG, "BcBB");
    tu_assert_clean(e->m);
}

static void test_private_store_never_reaches_the_file(void **state)
{
    struct env *e = *state;
    char path[400];
    make_letter_file(e, "f");
    vms_addr buf = user_buffer(e, PG);
    int fd = open_ok(e, "f", O_RDWR);
    vms_addr priv = map_file(e, fd, 4 * PG, RW, MAP_PRIVATE);
    store_text(e, priv, "PRIV");
    assert_int_equal(vms_msync(e->t, priv, 4 * PG, MS_SYNC), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_pread(e->t, fd, buf, 4, 0), 4);
    assert_user_text(e, buf, "AAAA");
    in_root(e, "f", path, sizeof(path));
    assert_host_text(path, 0, "AAAA");
    tu_assert_clean(e->m);
    vms_machine_destroy(e->m);
    e->m = NULL;
    assert_host_text(path, 0, "AAAA");
}

/* ---- copies: read() makes two, a mapping one ---- */

static struct vms_io_stats io_now(struct env *e)
{
    struct vms_stats *s = tu_stats(e->m);
    struct vms_io_stats io = s->io;
    free(s);
    return io;
}

static void test_read_copies_from_disk_once_and_to_user_on_every_read(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    vms_addr buf = user_buffer(e, 2 * PG);
    int fd = open_ok(e, "f", O_RDONLY);
    struct vms_io_stats before = io_now(e);
    assert_int_equal(vms_read(e->t, fd, buf, 2 * PG), (int64_t)(2 * PG));
    struct vms_io_stats cold = io_now(e);
    assert_int_equal(cold.disk_to_cache - before.disk_to_cache, 2 * PG);
    assert_int_equal(cold.disk_reads - before.disk_reads, 2);
    assert_int_equal(cold.cache_to_user - before.cache_to_user, 2 * PG);
    assert_int_equal(vms_pread(e->t, fd, buf, 2 * PG, 0), (int64_t)(2 * PG));
    struct vms_io_stats hot = io_now(e);
    assert_int_equal(hot.disk_to_cache, cold.disk_to_cache);
    assert_int_equal(hot.cache_to_user - cold.cache_to_user, 2 * PG);
    assert_user_pattern(e, buf, 2 * PG, 0);
    tu_assert_clean(e->m);
}

static void test_loads_through_a_mapping_copy_only_from_disk_to_cache(void **state)
{
    struct env *e = *state;
    make_file(e, "f", 2 * PG);
    int fd = open_ok(e, "f", O_RDONLY);
    vms_addr map = map_file(e, fd, 2 * PG, PROT_READ, MAP_SHARED);
    struct vms_io_stats before = io_now(e);
    assert_user_pattern(e, map, 2 * PG, 0);
    assert_user_pattern(e, map, 2 * PG, 0);
    struct vms_io_stats after = io_now(e);
    assert_int_equal(after.disk_to_cache - before.disk_to_cache, 2 * PG);
    assert_int_equal(after.cache_to_user, before.cache_to_user);
    assert_int_equal(after.user_to_cache, before.user_to_cache);
    tu_assert_clean(e->m);
}

/* A whole-page write needs nothing from the disk; fsync writes it once. */
static void test_write_copies_user_to_cache_and_fsync_cache_to_disk(void **state)
{
    struct env *e = *state;
    char path[400];
    make_file(e, "f", 2 * PG);
    vms_addr buf = user_buffer(e, PG);
    for (uint64_t i = 0; i < PG; i++)
        tu_store_byte(e->t, buf + i, 'w');
    int fd = open_ok(e, "f", O_RDWR);
    struct vms_io_stats before = io_now(e);
    assert_int_equal(vms_pwrite(e->t, fd, buf, PG, (int64_t)PG), (int64_t)PG);
    struct vms_io_stats written = io_now(e);
    assert_int_equal(written.user_to_cache - before.user_to_cache, PG);
    assert_int_equal(written.disk_to_cache, before.disk_to_cache);
    assert_int_equal(written.cache_to_disk, before.cache_to_disk);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    struct vms_io_stats synced = io_now(e);
    assert_int_equal(synced.cache_to_disk - written.cache_to_disk, PG);
    assert_int_equal(synced.disk_writes - written.disk_writes, 1);
    in_root(e, "f", path, sizeof(path));
    assert_int_equal(tu_host_byte(path, (off_t)PG), 'w');
    assert_int_equal(tu_host_byte(path, (off_t)(2 * PG) - 1), 'w');
    assert_host_pattern(path, PG, 0);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static int run_file_tests(const char *name)
{
    const struct CMUnitTest tests[] = {
        T(test_first_open_returns_fd_3),
        T(test_open_returns_the_lowest_free_fd),
        T(test_sync_file_range_writes_back_only_its_range),
        T(test_a_file_only_read_is_not_held_open_for_writing),
        T(test_close_of_a_bad_fd_is_ebadf),
        T(test_io_on_a_bad_fd_is_ebadf),
        T(test_read_of_a_write_only_fd_is_ebadf_before_the_buffer),
        T(test_write_to_a_read_only_fd_is_ebadf),
        T(test_read_of_a_directory_is_eisdir_and_write_ebadf),
        T(test_read_whose_range_passes_int64_max_is_einval),
        T(test_open_of_a_directory_for_writing_is_eisdir),
        T(test_read_into_an_unmapped_buffer_is_efault),
        T(test_read_into_a_read_only_buffer_is_efault),
        T(test_count_0_with_a_bad_buffer_returns_0),
        T(test_write_from_an_unmapped_buffer_is_efault_and_leaves_the_file_alone),
        T(test_pread_into_a_half_mapped_buffer_returns_the_mapped_part),
        T(test_read_up_to_a_hole_returns_100_and_advances_by_100),
        T(test_pwrite_from_a_half_mapped_buffer_writes_the_mapped_part),
        T(test_negative_offsets_are_einval_before_the_fd),
        T(test_buffer_past_user_space_is_efault_before_anything),
        T(test_position_plus_count_past_int64_max_is_einval),
        T(test_pread_at_or_beyond_eof_returns_0),
        T(test_lseek_with_an_unknown_whence_is_einval),
        T(test_lseek_to_a_negative_position_is_einval),
        T(test_lseek_stops_at_the_largest_file_size),
        T(test_lseek_data_and_hole_of_a_file_without_holes),
        T(test_lseek_data_or_hole_at_or_beyond_eof_is_enxio),
        T(test_lseek_on_a_directory_to_0_succeeds),
        T(test_ftruncate_needs_a_file_open_for_writing),
        cmocka_unit_test(test_largest_file_is_ext4s_by_default),
        T(test_ftruncate_beyond_the_largest_file_size_is_efbig),
        T(test_pwrite_at_the_largest_file_size_is_efbig_and_short_below_it),
        T(test_release_of_a_file_truncated_to_zero_writes_it_back),
        T(test_release_waits_for_the_mapping),
        T(test_fsync_of_a_read_only_fd_and_of_a_directory_succeeds),
        T(test_fstat_reports_size_machine_inode_and_device),
        T(test_open_errors_are_the_hosts),
        T(test_open_ignores_unknown_flag_bits),
        T(test_sync_writes_clean_what_they_wrote),
        T(test_o_creat_o_excl_on_an_existing_name_is_eexist),
        T(test_o_append_writes_at_the_end_whatever_the_position),
        T(test_pwrite_on_an_o_append_fd_appends),
        T(test_o_trunc_empties_a_cached_file),
        T(test_o_rdonly_with_o_trunc_truncates),
        T(test_write_past_eof_grows_the_file_with_zeros),
        T(test_absolute_path_outside_the_root_is_exdev),
        T(test_absolute_path_into_a_sibling_named_like_the_root_is_exdev),
        T(test_dotdot_out_of_the_root_is_exdev),
        T(test_dotdot_that_stays_inside_the_root_works),
        T(test_symlink_out_of_the_root_is_exdev_and_the_target_untouched),
        T(test_symlink_inside_the_root_works_when_relative),
        T(test_root_slash_follows_absolute_symlinks_as_the_host),
        T(test_absolute_path_inside_the_root_names_the_same_file),
        T(test_o_creat_never_creates_outside_the_root),
        T(test_o_creat_inside_the_root_creates_the_host_file),
        T(test_hostile_paths_get_the_answers_of_openat2),
        T(test_names_longer_than_255_bytes_are_enametoolong),
        cmocka_unit_test(test_proc_magic_links_are_eloop),
        T(test_a_symlink_swapped_in_mid_walk_never_leads_out),
        T(test_protected_symlinks_are_applied_as_the_host_applies_them),
        T(test_search_permission_is_checked_before_every_component),
        T(test_write_is_seen_by_a_shared_mapping_at_once),
        T(test_store_in_a_shared_mapping_is_seen_by_read_at_once),
        T(test_private_mapping_sees_file_changes_until_it_copies_a_page),
        T(test_private_mapping_keeps_its_copy_over_shared_stores),
        T(test_private_store_never_reaches_the_file),
        T(test_read_copies_from_disk_once_and_to_user_on_every_read),
        T(test_loads_through_a_mapping_copy_only_from_disk_to_cache),
        T(test_write_copies_user_to_cache_and_fsync_cache_to_disk),
        T(test_failed_append_write_leaves_the_position),
        T(test_empty_append_write_leaves_the_position),
        T(test_directory_seeks_from_int64_max_and_has_its_host_size),
        T(test_read_or_write_past_the_largest_offset_is_einval),
    };
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}

/* A seccomp filter that answers openat2 with err, as a container's filter
 * or an old kernel would. Only native system calls are made here, so the
 * filter does not look at the architecture. 0 once openat2 is refused. */
static int refuse_openat2(int err)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
        return -1;
    /* Refused now: with err, or ENOSYS where openat2 was unknown before. */
    errno = 0;
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0);
    return fd == -1 && (errno == err || errno == ENOSYS) ? 0 : -1;
}

/* Every test again in a child whose openat2 fails with err: its machines
 * resolve paths by hand (src/namei.c). Returns the child's failures. */
static int run_tests_without_openat2(int err, const char *name)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        if (refuse_openat2(err)) {
            fprintf(stderr, "%s: cannot install the seccomp filter\n", name);
            exit(1);
        }
        exit(run_file_tests(name) ? 1 : 0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
}

int main(void)
{
    int failed = run_file_tests("files, with the host's openat2") ? 1 : 0;
    failed += run_tests_without_openat2(ENOSYS, "files, openat2 refused with ENOSYS");
    failed += run_tests_without_openat2(EPERM, "files, openat2 refused with EPERM");
    return failed;
}
