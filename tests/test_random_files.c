/*
 * test_random_files.c - a randomised test of file mappings, the page cache
 * and the file system calls against a reference model.
 *
 * From a fixed seed, 5,000 operations run on three files of a scratch root
 * folder: open and close (fixed names, so fd numbers are the lowest free),
 * read, write, pread and pwrite between the files and an anonymous buffer,
 * ftruncate that shrinks and grows (also under live mappings), fsync,
 * msync(MS_SYNC), mmap of the files (shared and private, read-only or
 * read-write, MAP_FIXED into a window, offsets inside and beyond EOF),
 * munmap, and loads and stores through the window, beyond EOF too.
 *
 * The model holds, per file, its size and the page cache's bytes (write()
 * and shared stores are seen at once; a shared store into the last page
 * past EOF stays in the cache page until write-back, a truncate or a write
 * past EOF zeroes it), and per window page: the file and page it maps,
 * shared or private, and whether a private page has been copied (then its
 * own bytes; until then it shows the file's current bytes). Shrinking a file
 * drops the private copies of the pages cut off. A page wholly past EOF
 * raises SIGBUS with BUS_ADRERR at the first byte touched in it.
 *
 * After each step: results, signals, codes and addresses, bytes loaded or
 * read, and vms_check. Every 250 steps, vms_sync and every host file must
 * hold exactly the model's bytes and size; at the end once more, then again
 * after the machine is destroyed (which writes back what is still dirty).
 * A second run uses two threads on two CPUs taking turns.
 */
#include "testutil.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE UINT64_C(4096)
#define NFILES 3
#define FILE_MAX_PAGES 16               /* sizes stay within this */
#define PGOFF_MAX 20                    /* mmap offsets go past the largest size */
#define MAP_MAX_PAGES 8
#define CACHE_PAGES (PGOFF_MAX + MAP_MAX_PAGES)
#define WIN UINT64_C(0x200000000)             /* the window for file mappings */
#define WIN_PAGES 64
#define BUF UINT64_C(0x300000000)             /* the anonymous buffer for read/write */
#define BUF_PAGES 16
#define STEPS 5000
#define DISK_CHECK_EVERY 250
#define MAX_IO (3 * PAGE)
#define SENTINEL 0x5a
#define RW (PROT_READ | PROT_WRITE)

static const char *const file_names[NFILES] = {"alpha", "beta", "gamma"};

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- the model ---- */

struct mfile {
    uint8_t cache[CACHE_PAGES * PAGE]; /* the page cache's view, zero past the last page */
    uint64_t size;
    int fd; /* -1: closed */
    uint64_t pos;
};

struct wpage {
    int mapped, shared, prot, file, copied;
    uint64_t pgoff;
    uint8_t copy[PAGE]; /* a private page's own bytes, once copied */
};

struct outcome {
    int sig, code;
    uint64_t addr;
    size_t done;
};

struct run {
    uint64_t seed, rng;
    int step;
    char op[160];
    char dir[256], root[300];
    vms_machine *m;
    vms_task *task[2];
    int ntasks, actor;
    struct mfile file[NFILES];
    struct wpage win[WIN_PAGES];
    uint64_t reclaimed; /* pages reclaim freed in the run */
    uint8_t buf[BUF_PAGES * PAGE];
};

static uint64_t rnd(struct run *r) { return splitmix64(&r->rng); }
static uint64_t below(struct run *r, uint64_t n) { return rnd(r) % n; }
static int chance(struct run *r, unsigned percent) { return below(r, 100) < percent; }
static vms_task *actor(struct run *r) { return r->task[r->actor]; }

static void check_failed(const struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void check_failed(const struct run *r, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    print_error("seed %#" PRIx64 " step %d (task %d: %s)\ncheck failed: %s\n", r->seed, r->step,
                r->actor, r->op, detail);
    fail();
}

#define CHECK(r, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_failed((r), __VA_ARGS__);                                                        \
    } while (0)

static void expect_result(struct run *r, int64_t got, int64_t want)
{
    CHECK(r, got == want, "result %" PRId64 ", expected %" PRId64, got, want);
}

static uint64_t pages_in(uint64_t size) { return (size + PAGE - 1) / PAGE; }

/* Zero the cached last page past size: stores beyond EOF are not file data. */
static void model_zero_tail(struct mfile *f, uint64_t size)
{
    uint64_t end = pages_in(size) * PAGE;
    memset(f->cache + size, 0, end - size);
}

/* Write-back of the last page zeroes its tail (only a dirty page can hold
 * bytes past EOF, so zeroing a clean one changes nothing). */
static void model_writeback_last_page(struct mfile *f) { model_zero_tail(f, f->size); }

static void model_truncate(struct run *r, int fi, uint64_t size)
{
    struct mfile *f = &r->file[fi];
    if (size >= f->size) {
        model_zero_tail(f, f->size);
    } else {
        memset(f->cache + size, 0, sizeof(f->cache) - size);
        /* Private copies of pages cut off go too, as Linux zaps even COWs. */
        for (int i = 0; i < WIN_PAGES; i++) {
            struct wpage *p = &r->win[i];
            if (p->mapped && !p->shared && p->file == fi && p->pgoff >= pages_in(size))
                p->copied = 0;
        }
    }
    f->size = size;
}

static void model_write(struct mfile *f, const uint8_t *src, uint64_t len, uint64_t pos)
{
    if (!len)
        return; /* writes nothing, grows nothing */
    if (pos > f->size)
        model_zero_tail(f, f->size);
    memcpy(f->cache + pos, src, len);
    if (pos + len > f->size)
        f->size = pos + len;
}

static uint64_t model_read(const struct mfile *f, uint8_t *dst, uint64_t len, uint64_t pos)
{
    uint64_t n = pos < f->size ? f->size - pos : 0;
    if (n > len)
        n = len;
    memcpy(dst, f->cache + pos, n);
    return n;
}

static struct wpage *win_page(struct run *r, uint64_t va)
{
    if (va < WIN || va >= WIN + WIN_PAGES * PAGE)
        return NULL;
    return &r->win[(va - WIN) / PAGE];
}

/* The bytes a window page shows now. */
static uint8_t *page_view(struct run *r, struct wpage *p)
{
    return p->copied ? p->copy : r->file[p->file].cache + p->pgoff * PAGE;
}

/* Loads and stores through the window as the model sees them; stores are
 * applied (copying private pages first), loads fill dst. */
static struct outcome model_access(struct run *r, uint64_t va, uint8_t *data, size_t len, int write)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = va + done, off = a & (PAGE - 1);
        size_t n = (size_t)(PAGE - off);
        if (n > len - done)
            n = len - done;
        struct wpage *p = win_page(r, a);
        if (!p || !p->mapped)
            return (struct outcome){SIGSEGV, SEGV_MAPERR, a, done};
        if (write ? !(p->prot & PROT_WRITE) : !(p->prot & PROT_READ))
            return (struct outcome){SIGSEGV, SEGV_ACCERR, a, done};
        if (!p->copied && p->pgoff >= pages_in(r->file[p->file].size))
            return (struct outcome){SIGBUS, BUS_ADRERR, a, done};
        if (write && !p->shared && !p->copied) {
            memcpy(p->copy, page_view(r, p), PAGE);
            p->copied = 1;
        }
        if (write)
            memcpy(page_view(r, p) + off, data + done, n);
        else
            memcpy(data + done, page_view(r, p) + off, n);
        done += n;
    }
    return (struct outcome){0, 0, 0, len};
}

/* ---- checks ---- */

static void expect_fault(struct run *r, int got, const struct outcome *want)
{
    CHECK(r, got == want->sig, "signal %d, expected %d", got, want->sig);
    if (!want->sig)
        return;
    const struct vms_fault *f = vms_last_fault(actor(r));
    CHECK(r, f->signo == want->sig && f->code == want->code && f->addr == want->addr,
          "fault %d/%d at %#" PRIx64 ", expected %d/%d at %#" PRIx64, f->signo, f->code, f->addr,
          want->sig, want->code, want->addr);
}

static void expect_clean(struct run *r)
{
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check");
}

static void expect_buf_equals_model(struct run *r, uint64_t off, uint64_t len)
{
    uint8_t got[MAX_IO];
    int sig = vms_load(actor(r), BUF + off, got, len);
    CHECK(r, sig == 0, "load of the buffer raised %d", sig);
    CHECK(r, memcmp(got, r->buf + off, len) == 0, "buffer bytes differ from the model");
}

/* Every host file holds exactly the model's size and bytes. */
static void expect_disk_matches(struct run *r)
{
    for (int i = 0; i < NFILES; i++) {
        char path[400];
        struct mfile *f = &r->file[i];
        tu_join(path, sizeof(path), r->root, file_names[i]);
        int fd = open(path, O_RDONLY);
        CHECK(r, fd >= 0, "cannot open %s on the host", file_names[i]);
        struct stat st;
        CHECK(r, fstat(fd, &st) == 0 && (uint64_t)st.st_size == f->size,
              "%s: size on disk %lld, model %" PRIu64, file_names[i], (long long)st.st_size,
              f->size);
        _Static_assert(FILE_MAX_PAGES * PAGE <= sizeof(f->cache), "cache holds every size");
        uint8_t disk[FILE_MAX_PAGES * PAGE];
        ssize_t n = read(fd, disk, sizeof(disk));
        close(fd);
        CHECK(r, n == (ssize_t)f->size, "%s: read %zd bytes from disk", file_names[i], n);
        for (uint64_t b = 0; b < f->size; b++)
            CHECK(r, disk[b] == f->cache[b], "%s: byte %" PRIu64 " on disk %#x, model %#x",
                  file_names[i], b, disk[b], f->cache[b]);
    }
}

static void sync_and_compare(struct run *r)
{
    snprintf(r->op, sizeof(r->op), "vms_sync");
    CHECK(r, vms_sync(r->m) == 0, "vms_sync failed");
    for (int i = 0; i < NFILES; i++)
        model_writeback_last_page(&r->file[i]);
    expect_clean(r);
    expect_disk_matches(r);
}

/* ---- operations ---- */

static int lowest_free_fd(const struct run *r)
{
    for (int fd = 3;; fd++) {
        int used = 0;
        for (int i = 0; i < NFILES; i++)
            used |= r->file[i].fd == fd;
        if (!used)
            return fd;
    }
}

static void op_open_close(struct run *r, int fi)
{
    struct mfile *f = &r->file[fi];
    if (f->fd >= 0) {
        snprintf(r->op, sizeof(r->op), "close(%d) %s", f->fd, file_names[fi]);
        expect_result(r, vms_close(actor(r), f->fd), 0);
        f->fd = -1;
        return;
    }
    int want = lowest_free_fd(r);
    snprintf(r->op, sizeof(r->op), "open(%s, O_RDWR)", file_names[fi]);
    expect_result(r, vms_open(actor(r), file_names[fi], O_RDWR, 0), want);
    f->fd = want;
    f->pos = 0;
}

/* The file, opened first when it is closed (then this step is the open). */
static int open_file(struct run *r, int fi)
{
    if (r->file[fi].fd >= 0)
        return 1;
    op_open_close(r, fi);
    return 0;
}

/* Fresh random bytes stored into the buffer, as a source for write(). */
static void fill_buf(struct run *r, uint64_t off, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        r->buf[off + i] = (uint8_t)rnd(r);
    int sig = vms_store(actor(r), BUF + off, r->buf + off, len);
    CHECK(r, sig == 0, "store into the buffer raised %d", sig);
}

static uint64_t pick_io_len(struct run *r)
{
    return chance(r, 10) ? 0 : chance(r, 60) ? 1 + below(r, 300) : 1 + below(r, MAX_IO);
}

static uint64_t pick_buf_off(struct run *r, uint64_t len)
{
    return below(r, BUF_PAGES * PAGE - len + 1);
}

static void op_write(struct run *r, int fi, int positional)
{
    struct mfile *f = &r->file[fi];
    uint64_t max = FILE_MAX_PAGES * PAGE, len = pick_io_len(r);
    uint64_t pos = positional ? below(r, max + 1) : f->pos;
    if (len > max - pos)
        len = max - pos;
    uint64_t boff = pick_buf_off(r, len);
    fill_buf(r, boff, len);
    snprintf(r->op, sizeof(r->op), "%s(%s, buf+%#" PRIx64 ", %" PRIu64 ") at %" PRIu64
             " size %" PRIu64,
             positional ? "pwrite" : "write", file_names[fi], boff, len, pos, f->size);
    int64_t got = positional ? vms_pwrite(actor(r), f->fd, BUF + boff, len, (int64_t)pos)
                             : vms_write(actor(r), f->fd, BUF + boff, len);
    expect_result(r, got, (int64_t)len);
    model_write(f, r->buf + boff, len, pos);
    if (!positional)
        f->pos += len;
}

static void op_read(struct run *r, int fi, int positional)
{
    struct mfile *f = &r->file[fi];
    uint64_t len = pick_io_len(r);
    uint64_t pos = positional ? below(r, FILE_MAX_PAGES * PAGE + PAGE) : f->pos;
    uint64_t boff = pick_buf_off(r, len);
    snprintf(r->op, sizeof(r->op), "%s(%s, buf+%#" PRIx64 ", %" PRIu64 ") at %" PRIu64
             " size %" PRIu64,
             positional ? "pread" : "read", file_names[fi], boff, len, pos, f->size);
    int64_t got = positional ? vms_pread(actor(r), f->fd, BUF + boff, len, (int64_t)pos)
                             : vms_read(actor(r), f->fd, BUF + boff, len);
    uint64_t want = model_read(f, r->buf + boff, len, pos);
    expect_result(r, got, (int64_t)want);
    if (!positional)
        f->pos += want;
    expect_buf_equals_model(r, boff, len);
}

static uint64_t pick_size(struct run *r)
{
    uint64_t pages = below(r, FILE_MAX_PAGES + 1);
    if (pages == 0 || chance(r, 25))
        return pages * PAGE;
    return pages * PAGE - 1 - below(r, PAGE - 1);
}

static void op_ftruncate(struct run *r, int fi)
{
    struct mfile *f = &r->file[fi];
    uint64_t size = pick_size(r);
    snprintf(r->op, sizeof(r->op), "ftruncate(%s, %" PRIu64 ") from %" PRIu64, file_names[fi], size,
             f->size);
    expect_result(r, vms_ftruncate(actor(r), f->fd, (int64_t)size), 0);
    model_truncate(r, fi, size);
}

static void op_fsync(struct run *r, int fi)
{
    snprintf(r->op, sizeof(r->op), "fsync(%s)", file_names[fi]);
    expect_result(r, vms_fsync(actor(r), r->file[fi].fd), 0);
    model_writeback_last_page(&r->file[fi]);
}

static void pick_window_range(struct run *r, uint64_t max_pages, uint64_t *first, uint64_t *npages)
{
    *npages = 1 + below(r, max_pages);
    *first = below(r, WIN_PAGES - *npages + 1);
}

static void op_msync(struct run *r)
{
    uint64_t first, npages;
    pick_window_range(r, 24, &first, &npages);
    snprintf(r->op, sizeof(r->op), "msync(win+%" PRIu64 "p, %" PRIu64 "p, MS_SYNC)", first, npages);
    int want = 0;
    for (uint64_t i = first; i < first + npages; i++) {
        struct wpage *p = &r->win[i];
        if (!p->mapped)
            want = -ENOMEM;
        else if (p->shared && p->pgoff == r->file[p->file].size / PAGE)
            model_writeback_last_page(&r->file[p->file]);
    }
    expect_result(r, vms_msync(actor(r), WIN + first * PAGE, npages * PAGE, MS_SYNC), want);
}

static void op_mmap(struct run *r, int fi)
{
    uint64_t first, npages, in_file = pages_in(r->file[fi].size);
    /* Mostly inside the file (or its last page); now and then wholly beyond. */
    uint64_t pgoff = chance(r, 75) ? below(r, in_file + 1) : below(r, PGOFF_MAX);
    pick_window_range(r, MAP_MAX_PAGES, &first, &npages);
    int shared = chance(r, 50), prot = chance(r, 30) ? PROT_READ : RW;
    snprintf(r->op, sizeof(r->op),
             "mmap(win+%" PRIu64 "p, %" PRIu64 "p, %s, %s|MAP_FIXED, %s, %" PRIu64
             "p) size %" PRIu64,
             first, npages, prot == RW ? "RW" : "R", shared ? "SHARED" : "PRIVATE", file_names[fi],
             pgoff, r->file[fi].size);
    uint64_t addr = WIN + first * PAGE;
    int64_t got = vms_mmap(actor(r), addr, npages * PAGE, prot,
                           (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, r->file[fi].fd,
                           (int64_t)(pgoff * PAGE));
    expect_result(r, got, (int64_t)addr);
    for (uint64_t i = 0; i < npages; i++) {
        struct wpage *p = &r->win[first + i];
        p->mapped = 1;
        p->shared = shared;
        p->prot = prot;
        p->file = fi;
        p->pgoff = pgoff + i;
        p->copied = 0;
    }
}

static void op_munmap(struct run *r)
{
    uint64_t first, npages;
    pick_window_range(r, 12, &first, &npages);
    snprintf(r->op, sizeof(r->op), "munmap(win+%" PRIu64 "p, %" PRIu64 "p)", first, npages);
    expect_result(r, vms_munmap(actor(r), WIN + first * PAGE, npages * PAGE), 0);
    for (uint64_t i = first; i < first + npages; i++)
        r->win[i] = (struct wpage){0};
}

/* A mapped page most of the time (an unmapped one otherwise). */
static uint64_t pick_window_page(struct run *r)
{
    uint64_t start = below(r, WIN_PAGES);
    if (chance(r, 15))
        return start;
    for (uint64_t i = 0; i < WIN_PAGES; i++)
        if (r->win[(start + i) % WIN_PAGES].mapped)
            return (start + i) % WIN_PAGES;
    return start;
}

/* Near a page edge or the file's EOF most of the time, since faults and
 * the zeros past EOF live there. */
static uint64_t pick_access_addr(struct run *r, size_t len)
{
    uint64_t idx = pick_window_page(r), page = WIN + idx * PAGE;
    const struct wpage *p = &r->win[idx];
    uint64_t va;
    if (p->mapped && chance(r, 35))
        va = page + r->file[p->file].size % PAGE - 8 + below(r, 17);
    else if (chance(r, 40))
        va = page + below(r, PAGE);
    else
        va = page - 8 + below(r, 17);
    if (va < WIN)
        va = WIN;
    if (va + len > WIN + WIN_PAGES * PAGE)
        va = WIN + WIN_PAGES * PAGE - len;
    return va;
}

static void op_access(struct run *r, int write)
{
    uint8_t data[2 * PAGE], want[2 * PAGE], got[2 * PAGE];
    size_t len = chance(r, 10) ? 1 + below(r, sizeof(data)) : 1 + below(r, 24);
    uint64_t va = pick_access_addr(r, len);
    snprintf(r->op, sizeof(r->op), "%s %zu bytes at win+%#" PRIx64, write ? "store" : "load", len,
             va - WIN);
    if (write) {
        for (size_t i = 0; i < len; i++)
            data[i] = (uint8_t)rnd(r);
        struct outcome o = model_access(r, va, data, len, 1);
        expect_fault(r, vms_store(actor(r), va, data, len), &o);
        return;
    }
    memset(want, SENTINEL, sizeof(want));
    memset(got, SENTINEL, sizeof(got));
    struct outcome o = model_access(r, va, want, len, 0);
    expect_fault(r, vms_load(actor(r), va, got, len), &o);
    for (size_t i = 0; i < len; i++)
        CHECK(r, got[i] == want[i], "byte %zu of %zu (done %zu): %#x, expected %#x", i, len,
              o.done, got[i], want[i]);
}

static void one_step(struct run *r)
{
    int fi = (int)below(r, NFILES);
    unsigned pick = (unsigned)below(r, 100);
    if (pick < 5) {
        op_open_close(r, fi);
        return;
    }
    if (pick < 65 && pick >= 28) {
        op_access(r, pick < 46);
        return;
    }
    if (pick >= 65 && pick < 70) {
        op_munmap(r);
        return;
    }
    if (pick >= 70 && pick < 74) {
        op_msync(r);
        return;
    }
    if (!open_file(r, fi))
        return;
    if (pick < 9)
        op_read(r, fi, 0);
    else if (pick < 13)
        op_read(r, fi, 1);
    else if (pick < 17)
        op_write(r, fi, 0);
    else if (pick < 21)
        op_write(r, fi, 1);
    else if (pick < 26)
        op_ftruncate(r, fi);
    else if (pick < 28)
        op_fsync(r, fi);
    else
        op_mmap(r, fi);
}

/* ---- setup and the run ---- */

/* Each file starts on the host with a few pages of random bytes. */
static void make_files(struct run *r)
{
    for (int i = 0; i < NFILES; i++) {
        char path[400];
        struct mfile *f = &r->file[i];
        f->size = pick_size(r);
        for (uint64_t b = 0; b < f->size; b++)
            f->cache[b] = (uint8_t)rnd(r);
        tu_join(path, sizeof(path), r->root, file_names[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, f->cache, f->size), (ssize_t)f->size);
        assert_int_equal(close(fd), 0);
        f->fd = -1;
    }
}

static void start_machine(struct run *r, int threads, uint64_t ram, uint64_t swap)
{
    struct vms_config c = tu_config(ram);
    c.root = r->root;
    c.swap_bytes = swap;
    c.min_free_kbytes = swap ? 32 : UINT64_MAX; /* a small RAM keeps a small reserve */
    tu_pwc(&c, 0);
    r->m = tu_machine_with(&c);
    r->task[0] = tu_spawn(r->m);
    r->ntasks = threads;
    if (threads > 1) {
        r->task[1] = vms_clone_thread(r->task[0]);
        assert_non_null(r->task[1]);
        assert_int_equal(vms_schedule(r->task[1], 1), 0);
    }
    assert_int_equal(vms_mmap(r->task[0], BUF, BUF_PAGES * PAGE, RW,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     (int64_t)BUF);
}

/* Dirty every open file once more, so that destroying the machine has
 * something to write back. */
static void dirty_before_destroy(struct run *r)
{
    for (int i = 0; i < NFILES; i++) {
        if (r->file[i].fd < 0)
            continue;
        r->step++;
        op_write(r, i, 1);
        expect_clean(r);
    }
}

static void finish(struct run *r)
{
    sync_and_compare(r);
    dirty_before_destroy(r);
    snprintf(r->op, sizeof(r->op), "munmap everything, close, exit, destroy");
    expect_result(r, vms_munmap(actor(r), WIN, WIN_PAGES * PAGE), 0);
    for (int i = 0; i < NFILES; i++)
        if (r->file[i].fd >= 0)
            expect_result(r, vms_close(actor(r), r->file[i].fd), 0);
    expect_clean(r);
    struct vms_stats st;
    vms_get_stats(r->m, &st);
    r->reclaimed = st.vm.pgsteal_kswapd + st.vm.pgsteal_direct;
    for (int i = r->ntasks - 1; i >= 0; i--)
        vms_exit(r->task[i]);
    vms_machine_destroy(r->m);
    r->m = NULL;
    expect_disk_matches(r);
}

/* A scratch folder with a root folder for the machine; teardown removes it
 * even when a check fails half-way. */
static int setup(void **state)
{
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    tu_root_make(r->dir, sizeof(r->dir), r->root, sizeof(r->root));
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct run *r = *state;
    if (r->m)
        vms_machine_destroy(r->m);
    int err = tu_scratch_remove(r->dir);
    free(r);
    return err;
}

static void run_seed_in(struct run *r, uint64_t seed, int threads, uint64_t ram, uint64_t swap)
{
    r->seed = r->rng = seed;
    make_files(r);
    start_machine(r, threads, ram, swap);
    for (r->step = 1; r->step <= STEPS; r->step++) {
        r->actor = r->ntasks > 1 ? (int)below(r, 2) : 0;
        one_step(r);
        expect_clean(r);
        if (r->step % DISK_CHECK_EVERY == 0 && r->step < STEPS)
            sync_and_compare(r);
    }
    finish(r);
}

static void run_seed(struct run *r, uint64_t seed, int threads)
{
    run_seed_in(r, seed, threads, 64ULL << 20, 0);
}

/* 256 KiB of RAM (64 frames, 8 kept free) and 1 MiB of swap: the files'
 * pages and the buffers are reclaimed (dirty ones written back, anonymous
 * ones swapped) over and over, and the files still match. */
static void test_random_file_operations_in_small_ram_with_swap(void **state)
{
    struct run *r = *state;
    run_seed_in(r, 0x736d616c6cu, 1, 256ULL << 10, 1ULL << 20);
    assert_true(r->reclaimed > 0);
}

static void test_random_file_operations_match_the_model(void **state)
{
    run_seed(*state, 0x46494c45u, 1);
}

static void test_random_file_operations_with_two_threads_on_two_cpus(void **state)
{
    run_seed(*state, 0x7468726561647332u, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_file_operations_in_small_ram_with_swap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_file_operations_match_the_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_file_operations_with_two_threads_on_two_cpus,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
