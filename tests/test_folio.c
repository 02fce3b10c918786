/*
 * test_folio.c - large folios in the page cache of a file, as ext4 keeps them
 * on Linux 6.18 (config.large_folios = 1): the orders write() gives its
 * folios, the orders readahead grows, fault-around mapping whole folios, the
 * splits of truncation and hole punching, reclaim and write-back taking
 * folios whole; and the classic 4 KiB page cache (large_folios = 0) beside
 * them where the two differ.
 *
 * Every value was measured on the host (Linux 6.18, ext4 with 4 KiB blocks,
 * read_ahead_kb 128, THP off for the process, the file's cache dropped):
 * folio boundaries from /proc/self/pagemap and /proc/kpageflags (compound
 * head and tail bits), residency with mincore, faults with getrusage. The
 * layouts are read here from the machine's page cache ("index:oORDER" for
 * each folio, "R" on the one carrying the readahead marker).
 */
#include "testutil.h"

#include "internal.h"
#include "xarray.h"

#include <errno.h>

#define PG 4096ULL
#define RW (PROT_READ | PROT_WRITE)
#define BASE 0x200000000ULL /* 2 MiB-aligned: the start of a PTE table */

struct env {
    char dir[256];
    char root[300];
    vms_machine *m;
    vms_task *t;
};

static int setup_with(void **state, int large_folios)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    struct vms_config c = tu_config(256ULL << 20);
    c.root = e->root;
    c.readahead_kb = 128;
    c.large_folios = large_folios;
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    *state = e;
    return 0;
}

static int setup(void **state) { return setup_with(state, 1); }
static int setup_classic(void **state) { return setup_with(state, 0); }

static int teardown(void **state)
{
    struct env *e = *state;
    if (e->m) {
        tu_assert_clean(e->m);
        vms_machine_destroy(e->m);
    }
    tu_scratch_remove(e->dir);
    free(e);
    return 0;
}

/* A host file of `pages` pages of tu_pattern, not cached by the machine. */
static int cold_file(struct env *e, const char *name, uint64_t pages)
{
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, name), pages * PG);
    int fd = vms_open(e->t, name, O_RDWR, 0);
    assert_true(fd >= 3);
    return fd;
}

static int new_file(struct env *e, const char *name)
{
    int fd = vms_open(e->t, name, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 3);
    return fd;
}

/* The folios cached for pages [0, pages) of the file open at fd. */
static const char *folio_layout(struct env *e, int fd, uint64_t pages, char *out, size_t size)
{
    const struct address_space *as = fget(e->t, fd)->mapping;
    const struct phys_mem *pm = &e->m->pm;
    size_t len = 0;
    out[0] = '\0';
    for (uint64_t i = 0; i < pages;) {
        uint32_t pfn = xa_load(as->pages, i);
        if (pfn == PFN_NONE) {
            i++;
            continue;
        }
        uint32_t head = folio_head_pfn(pm, pfn);
        int n = snprintf(out + len, size - len, "%s%llu:o%u%s", len ? " " : "",
                         (unsigned long long)i, folio_order(pm, pfn),
                         (pm->pages[head].flags & PG_readahead) ? "R" : "");
        assert_true(n > 0 && (size_t)n < size - len);
        len += (size_t)n;
        i += folio_nr_pages(pm, pfn) - (pfn - head);
    }
    return out;
}

/* Appends to a layout of len characters, as folio_layout writes one, the
 * folios of order `order` that fill pages [from, to); the new length. */
static size_t layout_run(char *want, size_t size, size_t len, int from, int to, unsigned order)
{
    for (int i = from; i < to; i += 1 << order)
        len += (size_t)snprintf(want + len, size - len, "%s%d:o%u", len ? " " : "", i, order);
    assert_true(len < size);
    return len;
}

static void assert_layout(struct env *e, int fd, uint64_t pages, const char *want)
{
    char got[2048];
    assert_string_equal(folio_layout(e, fd, pages, got, sizeof(got)), want);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* pwrite of len bytes of 'x' at off, from the task's memory. */
static void write_at(struct env *e, int fd, uint64_t off, uint64_t len)
{
    vms_addr buf = tu_anon(e->t, len, RW);
    uint8_t *x = malloc(len);
    assert_non_null(x);
    memset(x, 'x', len);
    assert_int_equal(vms_store(e->t, buf, x, len), 0);
    free(x);
    assert_int_equal(vms_pwrite(e->t, fd, buf, len, (int64_t)off), (int64_t)len);
}

/* mincore of pages [0, pages) of the file, through a new shared mapping. */
static void assert_cached(struct env *e, int fd, int pages, const char *want)
{
    char got[300];
    int64_t p = vms_mmap(e->t, 0, (uint64_t)pages * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(p > 0);
    tu_residency(e->t, (vms_addr)p, pages, got);
    assert_int_equal(vms_munmap(e->t, (vms_addr)p, (uint64_t)pages * PG), 0);
    assert_string_equal(got, want);
}

/* Reads the file from its start in reads of chunk pages, upto pages in all. */
static void read_stream(struct env *e, int fd, uint64_t chunk, uint64_t upto)
{
    vms_addr buf = tu_anon(e->t, chunk * PG, RW);
    for (uint64_t done = 0; done < upto; done += chunk)
        assert_true(vms_read(e->t, fd, buf, chunk * PG) > 0);
}

/* ---- write() ---- */

struct write_case {
    uint64_t off, len; /* bytes */
    const char *layout;
};

static void check_writes(void **state, const struct write_case *c, size_t n, uint64_t old_pages)
{
    struct env *e = *state;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "w%zu", i);
        int fd = old_pages ? cold_file(e, name, old_pages) : new_file(e, name);
        write_at(e, fd, c[i].off, c[i].len);
        assert_layout(e, fd, 1024, c[i].layout);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* Each step of a write gets a folio of the order of the bytes left (at most
 * 2 MiB), lowered to the alignment of its index: 12 KiB at 0 is an order-1
 * folio and a page. Into a new, empty file. */
static void test_write_folio_order_follows_length_and_alignment(void **state)
{
    static const struct write_case c[] = {
        {0, 2 * PG, "0:o1"},
        {0, 3 * PG, "0:o1 2:o0"},
        {0, 7 * PG, "0:o2 4:o1 6:o0"},
        {0, 16 * PG, "0:o4"},
        {0, 20 * PG, "0:o4 16:o2"},
        {1 * PG, 7 * PG, "1:o0 2:o1 4:o2"},
        {1 * PG, 15 * PG, "1:o0 2:o1 4:o2 8:o3"},
        {3 * PG, 13 * PG, "3:o0 4:o2 8:o3"},
        {3 * PG, 20 * PG, "3:o0 4:o2 8:o3 16:o2 20:o1 22:o0"},
        {0, 4 << 20, "0:o9 512:o9"},
        {12 * PG, 3 << 20,
         "12:o2 16:o4 32:o5 64:o6 128:o7 256:o8 512:o8 768:o3 776:o2"},
    };
    check_writes(state, c, sizeof(c) / sizeof(c[0]), 0);
}

/* The same over a file whose data is on the disk but not cached, and with
 * offsets inside a page: the bytes from the write's position decide. */
static void test_write_folio_order_over_old_data_and_unaligned(void **state)
{
    static const struct write_case c[] = {
        {0, 6 * PG, "0:o2 4:o1"},
        {3 * PG, 9 * PG, "3:o0 4:o2 8:o2"},
        {100, 8192, "0:o1 2:o0"},
        {100, 65536, "0:o4 16:o0"},
        {4000, 8092, "0:o0 1:o0 2:o0"},
        {4000, 16384, "0:o2 4:o0"},
        {4196, 12288, "1:o0 2:o1 4:o0"},
        {4196, 65536, "1:o0 2:o1 4:o2 8:o3 16:o0 17:o0"},
    };
    check_writes(state, c, sizeof(c) / sizeof(c[0]), 64);
}

/* A folio never overlaps a cached page: the order drops until it fits. */
static void test_write_folio_fits_between_cached_pages(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "a");
    write_at(e, fd, 3 * PG, PG);
    write_at(e, fd, 0, 8 * PG);
    assert_layout(e, fd, 16, "0:o1 2:o0 3:o0 4:o2");
    int fd2 = new_file(e, "b");
    write_at(e, fd2, 9 * PG, PG);
    write_at(e, fd2, 0, 16 * PG);
    assert_layout(e, fd2, 32, "0:o3 8:o0 9:o0 10:o1 12:o2");
}

/* A write whose source cannot be read keeps the folio it made past the end
 * of the file (zeros, cached): 8 KiB leaves two pages, 16 KiB four. */
/* A write whose source is an unfaulted mapping of the same file: after the
 * short copy Linux faults in the source of the rest of the step, which
 * ends at the folio's end, not the page's. Host: a 100-byte file mapped
 * privately (4 pages), pwrite of the mapping's first 0x3a08 bytes at
 * 0x20b9 (an order-1 folio at page 2): 1 minor + 2 major faults, all 4
 * pages cached; 0x800 bytes there (order 0): 0 + 1, pages 0 and 2; at
 * 0x3000: 0 + 2. */
static void check_write_from_own_mapping(struct env *e, const char *name, uint64_t off,
                                         uint64_t len, uint64_t minflt, uint64_t majflt,
                                         const char *cached)
{
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, name), 100);
    int fd = vms_open(e->t, name, O_RDWR, 0);
    assert_true(fd >= 3);
    int64_t map = vms_mmap(e->t, 0, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map > 0);
    uint64_t min0 = tu_minflt(e->t), maj0 = tu_majflt(e->t);
    assert_int_equal(vms_pwrite(e->t, fd, (vms_addr)map, len, (int64_t)off), (int64_t)len);
    assert_int_equal(tu_minflt(e->t) - min0, minflt);
    assert_int_equal(tu_majflt(e->t) - maj0, majflt);
    assert_cached(e, fd, 4, cached);
    assert_int_equal(vms_munmap(e->t, (vms_addr)map, 4 * PG), 0);
    assert_int_equal(vms_close(e->t, fd), 0);
}

static void test_write_faults_in_the_source_of_its_whole_folio(void **state)
{
    check_write_from_own_mapping(*state, "a", 0x20b9, 0x3a08, 1, 2, "1111");
    check_write_from_own_mapping(*state, "b", 0x20b9, 0x800, 0, 1, "1010");
    check_write_from_own_mapping(*state, "c", 0x3000, 0x3a08, 0, 2, "1111");
}

/* A fault maps no page past the end of the file, even of a folio that
 * reaches there. Host: a failed 0x299e-byte write at 0xfbc into a new file
 * leaves an order-1 folio (pages 0 and 1, both cached) and i_size 0xfbc;
 * a load of page 0 of a mapping then costs one fault, and after a truncate
 * to 0x2000 a load of page 1 costs another, private or shared. */
static void check_fault_maps_nothing_past_eof(struct env *e, const char *name, int flags)
{
    int fd = new_file(e, name);
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    assert_int_equal(vms_pwrite(e->t, fd, bad, 0x299e, 0xfbc), -EFAULT);
    assert_layout(e, fd, 3, "0:o1");
    int64_t map = vms_mmap(e->t, 0, 3 * PG, RW, flags, fd, 0);
    assert_true(map > 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map, 0), '1');
    assert_int_equal(vms_ftruncate(e->t, fd, 2 * PG), 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)map + PG, 0), '1');
    assert_int_equal(vms_munmap(e->t, (vms_addr)map, 3 * PG), 0);
    assert_int_equal(vms_close(e->t, fd), 0);
}

static void test_fault_maps_no_page_of_a_folio_past_eof(void **state)
{
    check_fault_maps_nothing_past_eof(*state, "private", MAP_PRIVATE);
    check_fault_maps_nothing_past_eof(*state, "shared", MAP_SHARED);
}

/* A fault whose PTE table does not exist yet maps around it only if the
 * first folio it finds ends before the file's last page. Host: a file
 * written by one 8 KiB write (one order-1 folio), a 5-page shared mapping
 * alone in its 2 MiB: a load of page 2 raises SIGBUS and maps neither page;
 * with a third page written after it, a load of page 3 maps pages 0-2. */
static void test_fault_past_eof_maps_around_only_below_the_last_folio(void **state)
{
    struct env *e = *state;
    for (int third = 0; third <= 1; third++) {
        char name[16];
        snprintf(name, sizeof(name), "eof%d", third);
        int fd = new_file(e, name);
        write_at(e, fd, 0, 2 * PG);
        if (third)
            write_at(e, fd, 2 * PG, PG);
        vms_addr map = BASE + (vms_addr)third * (2ULL << 20);
        assert_int_equal(vms_mmap(e->t, map, 5 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0),
                         (int64_t)map);
        uint8_t byte;
        assert_int_equal(vms_load(e->t, map + (vms_addr)(2 + third) * PG, &byte, 1), SIGBUS);
        for (int page = 0; page < 5; page++) {
            struct vms_walk w;
            int rc = vms_walk(e->t, map + (vms_addr)page * PG, &w);
            assert_int_equal(rc == 0 && w.present, third && page <= 2);
        }
        assert_int_equal(vms_check(e->m, stderr), 0);
    }
}

/* A store through a shared mapping dirties the buffers of its whole folio
 * (ext4's page_mkwrite), so a hole punched in one page of it cannot split
 * it, and a later store to the other page reserves the punched block again.
 * Host: a 13-page file whose pages 2-3 are one clean order-1 folio (a
 * failed write of 12 KiB at 0x206d made it), a store to page 3, MADV_REMOVE
 * of page 3, a store to page 2, fsync: blocks 2 and 3 hold data; without
 * the first store the punch splits the folio and block 3 stays a hole. */
static void test_store_dirties_its_whole_folio_against_a_punch(void **state)
{
    struct env *e = *state;
    for (int first_store = 0; first_store <= 1; first_store++) {
        char name[16];
        snprintf(name, sizeof(name), "punch%d", first_store);
        int fd = new_file(e, name);
        vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
        assert_int_equal(vms_pwrite(e->t, fd, bad, 0x3000, 0x206d), -EFAULT);
        assert_int_equal(vms_pwrite(e->t, fd, bad, 0x1000, 0xd000), -EFAULT);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_layout(e, fd, 13, "2:o1");
        int64_t map = vms_mmap(e->t, 0, 4 * PG, RW, MAP_SHARED, fd, 0);
        assert_true(map > 0);
        if (first_store)
            tu_store_byte(e->t, (vms_addr)map + 3 * PG, 0x7a);
        assert_int_equal(vms_madvise(e->t, (vms_addr)map + 3 * PG, PG, MADV_REMOVE), 0);
        tu_store_byte(e->t, (vms_addr)map + 2 * PG, 0x7b);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_DATA), (int64_t)(2 * PG));
        assert_int_equal(vms_lseek(e->t, fd, 2 * PG, SEEK_HOLE), (int64_t)((first_store ? 4 : 3) * PG));
        assert_int_equal(vms_check(e->m, stderr), 0);
    }
}

/* A split leaves nothing cached past the end of the file. Host: a file of
 * 0x3064 bytes, failed writes of 12 KiB at 0x4000 (an order-1 folio at
 * pages 4-5, the size 0x4000) and at 0x5000 (the size 0x5000: page 5 is
 * past the end), fsync, MADV_REMOVE of pages 0-4 through a shared mapping:
 * the punch splits the folio at page 4's end and neither page stays (seed
 * 1307042). */
static void test_split_drops_the_pages_past_eof(void **state)
{
    struct env *e = *state;
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "eof"), 0x3064);
    int fd = vms_open(e->t, "eof", O_RDWR, 0);
    assert_true(fd >= 3);
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    assert_int_equal(vms_pwrite(e->t, fd, bad, 0x3000, 0x4000), -EFAULT);
    assert_int_equal(vms_pwrite(e->t, fd, bad, 0x382, 0x5000), -EFAULT);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_layout(e, fd, 8, "3:o0 4:o1"); /* page 3: the old end, read when the size grew */
    int64_t map = vms_mmap(e->t, 0, 5 * PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    assert_int_equal(vms_madvise(e->t, (vms_addr)map, 5 * PG, MADV_REMOVE), 0);
    assert_layout(e, fd, 8, "");
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* The disk the values below were measured on reads ahead 8 MiB (a first
 * read of 3 pages opens a 16-page window; with 128 KiB it would be 8). */
static void use_disk_of_the_measuring_host(struct env *e)
{
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    struct vms_config c = tu_config(256ULL << 20);
    c.root = e->root;
    tu_measuring_host_disk(&c);
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
}

/* The marker a window's folios already carry stays when the window then
 * meets a cached page. Host: an empty file, a failed write at 0x4d4b
 * (caches page 4), a failed pread of 4 KiB at 0xce1 (an 8-page window from
 * page 0 marked at page 2, meeting page 4), then MAP_POPULATE of pages 0-2
 * of a shared writable mapping: 2 faults (page 2's marker stops the
 * fault-around). */
static void test_window_meeting_a_cached_page_keeps_its_folios_marker(void **state)
{
    struct env *e = *state;
    use_disk_of_the_measuring_host(e);
    int fd = new_file(e, "m");
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    assert_int_equal(vms_lseek(e->t, fd, 0x4d4b, SEEK_END), 0x4d4b);
    assert_int_equal(vms_write(e->t, fd, bad, PG), -EFAULT);
    assert_int_equal(vms_pread(e->t, fd, bad, PG, 0xce1), -EFAULT);
    assert_cached(e, fd, 5, "11111");
    uint64_t min0 = tu_minflt(e->t);
    int64_t map = vms_mmap(e->t, 0, 3 * PG, RW, MAP_SHARED | MAP_POPULATE, fd, 0);
    assert_true(map > 0);
    assert_int_equal(tu_minflt(e->t) - min0, 2);
}

/* A readahead window that meets a cached page keeps no marker when what is
 * left of it before the end of the file is shorter than its async part.
 * Host: an empty file grown to 8 pages, a failed pread of 0xa48 bytes at
 * 0x1dc3 (caches pages 1 and 2), a failed read of 3 pages from 0 (a 16-page
 * window with 13 async pages, meeting page 1), then a mapping of the file:
 * a 16-byte load across pages 2 and 3 costs one fault, and nothing else
 * faults after it (no page was left out for a marker). */
static void test_window_meeting_a_cached_page_near_eof_keeps_no_marker(void **state)
{
    struct env *e = *state;
    use_disk_of_the_measuring_host(e);
    int fd = new_file(e, "w");
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    assert_int_equal(vms_pread(e->t, fd, bad, 0xa48, 0x1dc3), -EFAULT);
    assert_int_equal(vms_read(e->t, fd, bad, 3 * PG), -EFAULT);
    assert_cached(e, fd, 8, "11111111");
    int64_t map = vms_mmap(e->t, 0, 8 * PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    uint8_t buf[16];
    uint64_t min0 = tu_minflt(e->t);
    assert_int_equal(vms_load(e->t, (vms_addr)map + 2 * PG + 0xff4, buf, sizeof(buf)), 0);
    assert_int_equal(tu_minflt(e->t) - min0, 1);
    char got[9];
    tu_fault_pattern(e->t, (vms_addr)map, 8, 0, got);
    assert_string_equal(got, "00000000");
}

/* The indices of the folios of pages [0, pages) that carry the marker. */
static const char *marked_folios(struct env *e, int fd, uint64_t pages, char *out, size_t size)
{
    const struct address_space *as = fget(e->t, fd)->mapping;
    const struct phys_mem *pm = &e->m->pm;
    size_t len = 0;
    out[0] = '\0';
    for (uint64_t i = 0; i < pages;) {
        uint32_t pfn = xa_load(as->pages, i);
        if (pfn == PFN_NONE) {
            i++;
            continue;
        }
        uint32_t head = folio_head_pfn(pm, pfn);
        if (pm->pages[head].flags & PG_readahead) {
            int n = snprintf(out + len, size - len, "%s%llu", len ? " " : "",
                             (unsigned long long)i);
            assert_true(n > 0 && (size_t)n < size - len);
            len += (size_t)n;
        }
        i += folio_nr_pages(pm, pfn) - (pfn - head);
    }
    return out;
}

/* How many pages of [0, pages) are cached. */
static uint64_t cached_pages(struct env *e, int fd, uint64_t pages)
{
    const struct address_space *as = fget(e->t, fd)->mapping;
    uint64_t n = 0;
    for (uint64_t i = 0; i < pages; i++)
        n += xa_load(as->pages, i) != PFN_NONE;
    return n;
}

/* Caches pages [first, last] of the file alone: MADV_WILLNEED reads just
 * them (the host measurement read each page with a 1-byte pread after
 * POSIX_FADV_RANDOM; both read exactly the pages asked). */
static void cache_pages(struct env *e, int fd, uint64_t first, uint64_t last)
{
    uint64_t n = last - first + 1;
    int64_t p = vms_mmap(e->t, 0, n * PG, PROT_READ, MAP_SHARED, fd, (int64_t)(first * PG));
    assert_true(p > 0);
    assert_int_equal(vms_madvise(e->t, (vms_addr)p, n * PG, MADV_WILLNEED), 0);
    assert_int_equal(vms_munmap(e->t, (vms_addr)p, n * PG), 0);
}

enum ra_trigger { RA_READ, RA_FAULT, RA_HUGEPAGE_FAULT };

struct cached_page_case {
    uint64_t pages;              /* the file's size */
    uint64_t first, last;        /* pages cached beforehand */
    enum ra_trigger how;
    uint64_t off, len;           /* a read's bytes; a fault's page in off */
    uint64_t cached;             /* pages of the file cached after it */
    const char *marked;          /* folios carrying the marker after it */
};

/* Runs each case on a new file: cache its pages, read or fault, then
 * compare what is cached and which folios carry the marker. */
static void check_cached_page_cases(struct env *e, const struct cached_page_case *c, size_t n)
{
    vms_addr buf = tu_anon(e->t, 4 * PG, RW);
    for (size_t i = 0; i < n; i++) {
        char name[24], got[64];
        snprintf(name, sizeof(name), "c%zu", i);
        int fd = cold_file(e, name, c[i].pages);
        cache_pages(e, fd, c[i].first, c[i].last);
        if (c[i].how == RA_READ) {
            assert_int_equal(vms_pread(e->t, fd, buf, c[i].len, (int64_t)c[i].off),
                             (int64_t)c[i].len);
        } else {
            int64_t p = vms_mmap(e->t, 0, c[i].pages * PG, PROT_READ, MAP_SHARED, fd, 0);
            assert_true(p > 0);
            if (c[i].how == RA_HUGEPAGE_FAULT)
                assert_int_equal(
                    vms_madvise(e->t, (vms_addr)p, c[i].pages * PG, MADV_HUGEPAGE), 0);
            tu_load_byte(e->t, (vms_addr)p + c[i].off * PG);
            assert_int_equal(vms_munmap(e->t, (vms_addr)p, c[i].pages * PG), 0);
        }
        if (cached_pages(e, fd, c[i].pages) != c[i].cached)
            fail_msg("case %zu: %llu pages cached, want %llu", i,
                     (unsigned long long)cached_pages(e, fd, c[i].pages),
                     (unsigned long long)c[i].cached);
        marked_folios(e, fd, c[i].pages, got, sizeof(got));
        if (strcmp(got, c[i].marked) != 0)
            fail_msg("case %zu: marked \"%s\", want \"%s\"", i, got, c[i].marked);
        assert_int_equal(vms_check(e->m, stderr), 0);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* Where the marker lands when a readahead window meets a page already
 * cached (Linux 6.18's page_cache_ra_order, its fallback to
 * do_page_cache_ra with size - (index - start) pages and the same async
 * part, whose end-of-file clamp keeps that part). Host-measured (ext4,
 * Linux 6.18, read_ahead_kb 8192: a read-around is 2048 pages with 512
 * async; a fresh sparse file, the pages cached one by one; the marker
 * found by a 1-byte pread of every cached page through a new descriptor,
 * the one that starts an asynchronous readahead; the windows' arguments
 * confirmed by the readahead trace events): */
static void test_window_meeting_a_cached_page_marks_async_pages_before_eof(void **state)
{
    static const struct cached_page_case c[] = {
        /* read-around from 0 meets page 0 and runs past the end: the
         * 1500 pages left keep 512 async ones, the marker on 988 */
        {1500, 0, 0, RA_FAULT, 100, 0, 1500, "988"},
        /* the same after 700 pages of the loop */
        {1500, 700, 700, RA_FAULT, 100, 0, 1500, "988"},
        /* a window within the file: its own marker index */
        {2100, 0, 0, RA_FAULT, 100, 0, 2048, "1536"},
        /* 16 pages left hold no async part of 512, nor 11 after page 5 */
        {16, 0, 0, RA_FAULT, 1, 0, 16, ""},
        {16, 5, 5, RA_FAULT, 7, 0, 16, ""},
        /* MADV_HUGEPAGE: two 2 MiB blocks from 0, 512 async; the order-9
         * folio at 0 meets page 100 and the end cuts the rest to 800 */
        {800, 100, 100, RA_HUGEPAGE_FAULT, 5, 0, 800, "288"},
        {1500, 100, 100, RA_HUGEPAGE_FAULT, 5, 0, 1024, "512"},
        /* read() of 2 pages from 0: an 8-page window, 6 async, its marker
         * on page 2 is set by the loop before it meets page 4 */
        {5, 4, 4, RA_READ, 0xce1, PG, 5, "2"},
        /* read() of 3 pages from 0: a 16-page window, 13 async, meets page
         * 1; the 7 pages left hold no async part */
        {8, 1, 2, RA_READ, 0, 3 * PG, 8, ""},
        /* read() of page 3 after cached pages 1-2: a 3-page window with 1
         * async page, read by the folio loop up to the end (pages 3-4),
         * whose marker index 5 lies past it: none (page 0 stays out) */
        {5, 1, 2, RA_READ, 3 * PG, 1, 4, ""},
    };
    struct env *e = *state;
    use_disk_of_the_measuring_host(e);
    check_cached_page_cases(e, c, sizeof(c) / sizeof(c[0]));
}

/* The same at read_ahead_kb 128 (a read-around is 32 pages with 8 async),
 * host-measured on an ext4 file system on a loop device set to it: a
 * read-around of a 16-page file whose page 0 (or 5) was cached marks page
 * 8; of a 30-page file, page 22; of a 33-page file whose pages 0-15 were, page 24
 * (the window ends inside the file); read() of 3 pages from 0 of an
 * 8-page file whose pages 1-2 were cached (an 8-page window, 5 async)
 * marks page 3. */
static void test_window_meeting_a_cached_page_at_128_kib(void **state)
{
    static const struct cached_page_case c[] = {
        {16, 0, 0, RA_FAULT, 1, 0, 16, "8"},
        {16, 5, 5, RA_FAULT, 7, 0, 16, "8"},
        {30, 0, 0, RA_FAULT, 5, 0, 30, "22"},
        {33, 0, 15, RA_FAULT, 16, 0, 32, "24"},
        {8, 1, 2, RA_READ, 0, 3 * PG, 8, "3"},
    };
    check_cached_page_cases(*state, c, sizeof(c) / sizeof(c[0]));
}

/* The order of the folio holding page index of the file. */
static unsigned order_at(struct env *e, int fd, uint64_t index)
{
    uint32_t pfn = xa_load(fget(e->t, fd)->mapping->pages, index);
    assert_int_not_equal(pfn, PFN_NONE);
    return folio_order(&e->m->pm, pfn);
}

/* An asynchronous window of order-2 folios that meets a cached page: its
 * first folio carries the marker (its async part is the whole window), the
 * rest after the cached page comes in order-0 pages with none (the async
 * part never fits in what is left). Host-measured (ext4, Linux 6.18,
 * read_ahead_kb 8192): reads of 4 pages at 0 and at 4 (the marker on 4
 * opens pages 16-79 in order-2 folios); with page 40 cached the folios
 * stop at 36 and 41-79 are single pages; with page 18 cached the first
 * folio fails and 16-79 are single pages, 16 marked; in a 70-page file
 * with page 40 cached, 41-69. */
static void test_async_window_meeting_a_cached_page(void **state)
{
    static const struct {
        uint64_t pages, cached_page, cached, order36;
    } c[] = {{4096, 40, 80, 2}, {4096, 18, 80, 0}, {70, 40, 70, 2}};
    struct env *e = *state;
    use_disk_of_the_measuring_host(e);
    vms_addr buf = tu_anon(e->t, 4 * PG, RW);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[16], got[64];
        snprintf(name, sizeof(name), "a%zu", i);
        int fd = cold_file(e, name, c[i].pages);
        cache_pages(e, fd, c[i].cached_page, c[i].cached_page);
        assert_int_equal(vms_read(e->t, fd, buf, 4 * PG), (int64_t)(4 * PG));
        assert_int_equal(vms_read(e->t, fd, buf, 4 * PG), (int64_t)(4 * PG));
        assert_int_equal(cached_pages(e, fd, c[i].pages), c[i].cached);
        assert_string_equal(marked_folios(e, fd, c[i].pages, got, sizeof(got)), "16");
        assert_int_equal(order_at(e, fd, 36), c[i].order36);
        assert_int_equal(order_at(e, fd, 41), 0);
        assert_int_equal(vms_check(e->m, stderr), 0);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* Memory whose free frames are all single pages, every other one of an
 * anonymous area that took all the rest, and nothing that reclaim could
 * free to join them (no swap, no file page). */
static void fragment_memory(struct env *e)
{
    struct vms_stats st;
    vms_get_stats(e->m, &st);
    uint64_t most = st.frames_total - st.frames_used;
    vms_addr a = tu_anon(e->t, most * PG, RW);
    uint64_t pages = 0;
    for (; st.frames_total - st.frames_used > 2; pages++) {
        assert_int_equal(vms_store(e->t, a + pages * PG, "x", 1), 0);
        vms_get_stats(e->m, &st);
    }
    for (uint64_t i = 0; i < pages; i += 2)
        assert_int_equal(vms_madvise(e->t, a + i * PG, PG, MADV_DONTNEED), 0);
}

/* A window's folio that cannot be allocated, no free block of its order
 * being left, ends the large folios as a cached page does: the rest of the
 * window comes in single pages, the first of them marked (Linux 6.18's
 * page_cache_ra_order: ra_alloc_folio fails with -ENOMEM and the fallback
 * to do_page_cache_ra reads what is left; the code as read, since a host's
 * memory cannot be fragmented on purpose). The async window after reads of
 * 4 pages at 0 and 4 is pages 16-79 in order-2 folios (the test above);
 * here in single pages. */
static void test_window_without_a_free_block_of_its_order_is_read_in_single_pages(void **state)
{
    struct env *e = *state;
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    struct vms_config c = tu_config(16ULL << 20);
    c.root = e->root;
    tu_measuring_host_disk(&c);
    c.swap_bytes = 0;
    c.min_free_kbytes = 4;
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    int fd = cold_file(e, "f", 128);
    vms_addr buf = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_store(e->t, buf, "x", 1), 0);
    fragment_memory(e);
    assert_int_equal(vms_read(e->t, fd, buf, 4 * PG), (int64_t)(4 * PG));
    assert_int_equal(vms_read(e->t, fd, buf, 4 * PG), (int64_t)(4 * PG));
    /* Reclaim, run by the folio that could not be allocated, may have
     * taken and re-read some of pages 0-15: only the window is checked. */
    char want[1024], got[2048];
    size_t len = (size_t)snprintf(want, sizeof(want), "16:o0R");
    layout_run(want, sizeof(want), len, 17, 80, 0);
    const char *layout = folio_layout(e, fd, 128, got, sizeof(got));
    const char *window = strstr(layout, "16:");
    assert_non_null(window);
    assert_string_equal(window, want);
    assert_int_equal(vms_check(e->m, stderr), 0);
    assert_int_equal(vms_close(e->t, fd), 0);
}

/* A truncate that cuts a folio first drops the dirt of the pages it
 * removes: only the dirty blocks of the pages that stay keep it from being
 * split. Host: an empty file, a failed 12 KiB write (an order-1 folio,
 * both blocks new and dirty), then a truncate to 100 bytes: page 1 stays
 * cached; written back first: it goes; written back and then page 1
 * written again (or a failed write begun in it): it goes too. */
static void check_cut_of_a_folio(struct env *e, const char *name, int sync, int rewrite,
                                 const char *cached)
{
    int fd = new_file(e, name);
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    vms_addr one = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_write(e->t, fd, bad, 3 * PG), -EFAULT);
    assert_cached(e, fd, 4, "1100");
    if (sync)
        assert_int_equal(vms_sync(e->m), 0);
    if (rewrite == 1)
        assert_int_equal(vms_pwrite(e->t, fd, bad, PG, 0x125c), -EFAULT);
    if (rewrite == 2)
        assert_int_equal(vms_pwrite(e->t, fd, one, 1, 0x125c), 1);
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_cached(e, fd, 4, cached);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

static void test_cut_folio_splits_unless_a_page_that_stays_is_dirty(void **state)
{
    check_cut_of_a_folio(*state, "dirty", 0, 0, "1100");
    check_cut_of_a_folio(*state, "clean", 1, 0, "1000");
    check_cut_of_a_folio(*state, "failed", 1, 1, "1000");
    check_cut_of_a_folio(*state, "written", 1, 2, "1000");
}

/* A failed write dirties the new blocks of the whole folio it made, not
 * only the one it began in: a hole punched in the folio's first page then
 * cannot split it (its second page's buffer is dirty), so the page stays,
 * zeroed. Host: a 5000-byte file, a failed 12 KiB write at 0x2000 (an
 * order-1 folio, pages 2-3), MADV_REMOVE of page 2 through a shared
 * mapping: pages 2 and 3 still cached. */
static void test_punch_cannot_split_a_folio_a_failed_write_dirtied(void **state)
{
    struct env *e = *state;
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "punch"), 5000);
    int fd = vms_open(e->t, "punch", O_RDWR, 0);
    assert_true(fd >= 3);
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    int64_t map = vms_mmap(e->t, 0, PG, RW, MAP_SHARED, fd, 2 * PG);
    assert_true(map > 0);
    assert_int_equal(vms_pwrite(e->t, fd, bad, 3 * PG, 2 * PG), -EFAULT);
    assert_layout(e, fd, 5, "1:o0 2:o1");
    assert_int_equal(vms_madvise(e->t, (vms_addr)map, PG, MADV_REMOVE), 0);
    assert_layout(e, fd, 5, "1:o0 2:o1");
}

/* A truncate to the size the file has cuts the page cache before it
 * zeroes the end block, as a shrink does. Host: a failed 8 KiB write into
 * an empty file (an order-1 folio), a truncate to 100 bytes (dirty: the
 * folio stays), sync, the same truncate again: the clean folio splits and
 * page 1 goes. */
static void test_truncate_to_the_same_size_splits_a_clean_folio(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "same");
    vms_addr bad = tu_anon(e->t, 4 * PG, PROT_NONE);
    assert_int_equal(vms_write(e->t, fd, bad, 2 * PG), -EFAULT);
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_cached(e, fd, 4, "1100");
    assert_int_equal(vms_sync(e->m), 0);
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_cached(e, fd, 4, "1000");
}

/* A write that copies nothing over a page whose block is on the disk
 * leaves that page cached but not up to date (its buffer was never read;
 * a new block's would have been zeroed): mincore passes it by, and the
 * next fault reads it. Host: a 5000-byte file, its cache dropped, a failed
 * write of 4 KiB at 0: mincore of page 0 gives 0; a pwrite whose
 * source maps page 0 then takes one major fault and copies the file's
 * bytes. */
static void test_failed_write_over_disk_blocks_leaves_the_page_unread(void **state)
{
    struct env *e = *state;
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "disk"), 5000);
    int fd = vms_open(e->t, "disk", O_RDWR, 0);
    int out = new_file(e, "out");
    vms_addr bad = tu_anon(e->t, PG, PROT_NONE);
    assert_int_equal(vms_write(e->t, fd, bad, PG), -EFAULT);
    int64_t map = vms_mmap(e->t, 0, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map > 0);
    char got[2];
    tu_residency(e->t, (vms_addr)map, 1, got);
    assert_string_equal(got, "0");
    uint64_t min0 = tu_minflt(e->t), maj0 = tu_majflt(e->t);
    assert_int_equal(vms_pwrite(e->t, out, (vms_addr)map, PG, 0), (int64_t)PG);
    assert_int_equal(tu_minflt(e->t) - min0, 0);
    assert_int_equal(tu_majflt(e->t) - maj0, 1);
    assert_int_equal(tu_load_byte(e->t, (vms_addr)map), tu_pattern(0));
}

static void test_failed_write_leaves_its_whole_folio(void **state)
{
    struct env *e = *state;
    vms_addr src = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_mprotect(e->t, src, 4 * PG, PROT_NONE), 0);
    static const struct {
        uint64_t off, len;
        const char *cached;
    } c[] = {
        {0, 2 * PG, "11000000"},
        {0, 4 * PG, "11110000"},
        {PG, 2 * PG, "01000000"},
        {0, 3 * PG, "11000000"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "f%zu", i);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, src, c[i].len, (int64_t)c[i].off), -EFAULT);
        struct stat st;
        assert_int_equal(vms_fstat(e->t, fd, &st), 0);
        assert_int_equal(st.st_size, (off_t)c[i].off); /* i_size moves to the position */
        assert_cached(e, fd, 8, c[i].cached);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
    /* With the first page readable, 4 KiB are written; the folio stays whole. */
    assert_int_equal(vms_mprotect(e->t, src, PG, PROT_READ), 0);
    int fd = new_file(e, "half");
    assert_int_equal(vms_pwrite(e->t, fd, src, 2 * PG, 0), (int64_t)PG);
    assert_cached(e, fd, 8, "11000000");
    assert_layout(e, fd, 8, "0:o1");
}

/* ext4 reserves the blocks of the whole folio a write begins: a write that
 * copies nothing leaves them all holding data (SEEK_HOLE after growing the
 * file to 6 pages). */
static void test_failed_write_reserves_its_whole_folio(void **state)
{
    struct env *e = *state;
    vms_addr src = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_mprotect(e->t, src, 4 * PG, PROT_NONE), 0);
    static const struct {
        uint64_t len;
        int64_t hole;
    } c[] = {{PG, PG}, {2 * PG, 2 * PG}, {4 * PG, 4 * PG}, {3 * PG, 2 * PG}};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "r%zu", i);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, src, c[i].len, 0), -EFAULT);
        assert_int_equal(vms_ftruncate(e->t, fd, 6 * PG), 0);
        assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_HOLE), c[i].hole);
        assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_DATA), 0);
        assert_int_equal(vms_check(e->m, stderr), 0);
    }
}

/* A store through a shared mapping reserves the blocks of the page's whole
 * folio: one byte in page 40 of a sparse file read in order makes data of
 * the folio 32-47, before and after write-back. */
static void test_store_reserves_its_whole_folio(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "s");
    assert_int_equal(vms_ftruncate(e->t, fd, 64 * PG), 0);
    int rfd = vms_open(e->t, "s", O_RDONLY, 0);
    assert_true(rfd >= 3);
    read_stream(e, rfd, 1, 64);
    assert_layout(e, fd, 64, "0:o0 1:o0 2:o0 3:o0 4:o2 8:o2 12:o2 16:o3 24:o3 32:o4 48:o4");
    int64_t p = vms_mmap(e->t, 0, 64 * PG, RW, MAP_SHARED, fd, 0);
    assert_true(p > 0);
    tu_store_byte(e->t, (vms_addr)p + 40 * PG, 1);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_HOLE), 0);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_DATA), (int64_t)(32 * PG));
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_DATA), (int64_t)(32 * PG));
    assert_int_equal(vms_lseek(e->t, fd, 32 * PG, SEEK_HOLE), (int64_t)(48 * PG));
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* Stores into a new RW mapping of pages [off, off + pages) of a 4-page file
 * written in chunk-byte writes; what each store cost, as tu_fault_pattern. */
static void store_pattern(struct env *e, uint64_t chunk, uint64_t off, int pages, int flags,
                          char *out)
{
    int fd = new_file(e, "w");
    for (uint64_t o = 0; o < 4 * PG; o += chunk)
        write_at(e, fd, o, chunk);
    assert_int_equal(vms_mmap(e->t, BASE, (uint64_t)pages * PG, RW, flags | MAP_FIXED, fd,
                              (int64_t)(off * PG)),
                     (int64_t)BASE);
    tu_fault_pattern(e->t, BASE, pages, 1, out);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* A shared write fault maps the whole folio, writable, when it lies inside
 * the VMA and the PTE table; else only its page. A private one copies one
 * page. host: 16 KiB folio 1000; four 4 KiB folios 1111; two 8 KiB folios
 * 1010; VMA of pages 1-3 or 0-2 of the 16 KiB folio 111; private 1111. */
static void test_shared_write_fault_maps_the_whole_folio(void **state)
{
    struct env *e = *state;
    char got[8];
    store_pattern(e, 4 * PG, 0, 4, MAP_SHARED, got);
    assert_string_equal(got, "1000");
    store_pattern(e, PG, 0, 4, MAP_SHARED, got);
    assert_string_equal(got, "1111");
    store_pattern(e, 2 * PG, 0, 4, MAP_SHARED, got);
    assert_string_equal(got, "1010");
    store_pattern(e, 4 * PG, 1, 3, MAP_SHARED, got);
    assert_string_equal(got, "111");
    store_pattern(e, 4 * PG, 0, 3, MAP_SHARED, got);
    assert_string_equal(got, "111");
    store_pattern(e, 4 * PG, 0, 4, MAP_PRIVATE, got);
    assert_string_equal(got, "1111");
}

/* ---- readahead ---- */

/* read() one page at a time: windows of 4 (order 0), 8 (order 2), then 4:
 * the window is cut to end on a boundary of its growing order, so the third
 * window differs from a 4 KiB cache's; orders go 0, 2, 2, 3, 3, 4, 4, 5 and
 * stay at 5 (a 32-page window); none crosses the end of the file. */
static void test_read_readahead_grows_the_folio_order(void **state)
{
    struct env *e = *state;
    int fd = cold_file(e, "r", 200);
    read_stream(e, fd, 1, 13);
    assert_layout(e, fd, 200, "0:o0 1:o0 2:o0 3:o0 4:o2 8:o2 12:o2 16:o3R");
    read_stream(e, fd, 1, 200 - 13);
    assert_layout(e, fd, 200,
                  "0:o0 1:o0 2:o0 3:o0 4:o2 8:o2 12:o2 16:o3 24:o3 32:o4 48:o4 64:o5 96:o5 "
                  "128:o5 160:o5 192:o3");
}

static void test_read_readahead_orders_for_other_read_sizes(void **state)
{
    struct env *e = *state;
    int fd = cold_file(e, "a", 300);
    read_stream(e, fd, 3, 300);
    assert_layout(e, fd, 300,
                  "0:o0 1:o0 2:o0 3:o0 4:o0 5:o0 6:o0 7:o0 8:o2 12:o2 16:o2 20:o2 24:o3 32:o4 "
                  "48:o4 64:o5 96:o5 128:o5 160:o5 192:o5 224:o5 256:o5 288:o3 296:o2");
    int fd2 = cold_file(e, "b", 300);
    read_stream(e, fd2, 5, 40);
    assert_layout(e, fd2, 300,
                  "0:o0 1:o0 2:o0 3:o0 4:o0 5:o0 6:o0 7:o0 8:o0 9:o0 10:o0 11:o0 12:o0 13:o0 "
                  "14:o0 15:o0 16:o2 20:o2 24:o2 28:o2 32:o2 36:o2 40:o2 44:o2 48:o4R 64:o4");
    int fd3 = cold_file(e, "c", 600);
    read_stream(e, fd3, 16, 600);
    char want[2048];
    size_t len = layout_run(want, sizeof(want), 0, 0, 32, 0);
    len = layout_run(want, sizeof(want), len, 32, 64, 2);
    len = layout_run(want, sizeof(want), len, 64, 96, 4);
    len = layout_run(want, sizeof(want), len, 96, 576, 5);
    len = layout_run(want, sizeof(want), len, 576, 592, 4);
    layout_run(want, sizeof(want), len, 592, 600, 3);
    assert_layout(e, fd3, 600, want);
}

/* A read larger than the readahead window sizes it by the read (up to
 * the disk's request size), and an asynchronous window then aligns its end
 * no further than the lowest set bit of that size allows (Linux's
 * page_cache_async_ra aligns to 1 << min(order, ffs(max_pages) - 1)).
 * Host-measured (ext4 on a loop device at read_ahead_kb 128, max_sectors_kb
 * 1280): reads of 40 pages from 0 of a 256-page file; the second one
 * reaches the marker on 40 and reads 80-119 (max_pages 40: aligned to 8,
 * not to the order-4 folios' 16): folios 80:o4 96:o4 112:o3. */
static void test_async_window_aligns_to_the_read_sized_limit(void **state)
{
    struct env *e = *state;
    int fd = cold_file(e, "a", 256);
    read_stream(e, fd, 40, 80);
    char want[1024];
    size_t len = layout_run(want, sizeof(want), 0, 0, 40, 0);
    len = layout_run(want, sizeof(want), len, 40, 80, 2);
    snprintf(want + len, sizeof(want) - len, " 80:o4R 96:o4 112:o3");
    assert_layout(e, fd, 256, want);
}

/* The classic cache aligns an asynchronous window's end too: Linux's
 * page_cache_async_ra raises the order by 2 and aligns before
 * page_cache_ra_order finds the mapping without large folios and resets
 * it. Host-measured (ext4 mounted data=journal, which keeps order-0
 * folios, on a loop device at read_ahead_kb 128): reads of page 5, 6 and
 * 7 through one descriptor: page 5 alone, a 4-page window 6-9 marked on
 * 7, then 10-15 (8 pages cut to end on a multiple of 4), marked on 10. */
static void test_classic_async_window_aligns_its_end(void **state)
{
    struct env *e = *state;
    int fd = cold_file(e, "a", 256);
    vms_addr buf = tu_anon(e->t, PG, RW);
    for (int64_t page = 5; page < 8; page++)
        assert_int_equal(vms_pread(e->t, fd, buf, PG, page * (int64_t)PG), (int64_t)PG);
    assert_layout(e, fd, 256, "5:o0 6:o0 7:o0 8:o0 9:o0 10:o0R 11:o0 12:o0 13:o0 14:o0 15:o0");
}

/* A read() that finds its first page cached and misses the next is not
 * sequential to its own start (Linux records where a read ended only when
 * it returns): with pages 0-3 cached, pread of 4 pages at page 3 by a new
 * descriptor reads ahead from the trace of cached pages, 4-14 with the
 * marker on 14, not an initial window of 16. */
static void test_miss_inside_one_read_reads_ahead_from_the_cached_trace(void **state)
{
    struct env *e = *state;
    int fd = cold_file(e, "p", 64);
    vms_addr buf = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 10, 1), 10);
    assert_layout(e, fd, 64, "0:o0 1:o0R 2:o0 3:o0");
    int fd2 = vms_open(e->t, "p", O_RDONLY, 0);
    assert_true(fd2 >= 3);
    assert_int_equal(vms_pread(e->t, fd2, buf, 4 * PG, 3 * PG), (int64_t)(4 * PG));
    assert_layout(e, fd, 64,
                  "0:o0 1:o0R 2:o0 3:o0 4:o0 5:o0 6:o0 7:o0 8:o0 9:o0 10:o0 11:o0 12:o0 13:o0 "
                  "14:o0R");
}

/* Pages [from, to] cached, in a string of n: '1' cached, '0' not. */
static const char *cached_ranges(char *out, int n, const int (*ranges)[2], int nranges)
{
    memset(out, '0', (size_t)n);
    out[n] = '\0';
    for (int r = 0; r < nranges; r++)
        memset(out + ranges[r][0], '1', (size_t)(ranges[r][1] - ranges[r][0] + 1));
    return out;
}

/* A read that misses just past cached pages reads ahead by how many it
 * finds before it (the trace of a stream), but the scan's first look at a
 * large folio jumps to the folio's head while its index does not, so it
 * stops that many pages early. Host: a 24-page file of holes, pwrites of
 * whole pages (each its own folio, of the write's order), then a pread of
 * 100 bytes at page 8 by a fresh descriptor into an unmapped buffer
 * (EFAULT: the readahead happens first). */
static void test_miss_after_a_large_folio_finds_a_shorter_trace(void **state)
{
    static const struct {
        int writes[3][2]; /* page, pages */
        int last_read;    /* pages 8..last_read are read */
    } cases[] = {
        {{{4, 1}, {5, 1}, {6, 1}}, 12}, /* with 7 below: 4 order-0 pages, 4+1 read */
        {{{6, 2}}, 8},                  /* one order-1 folio: trace of 1, a plain read */
        {{{4, 2}, {6, 2}}, 11},         /* two order-1 folios: trace of 3 */
        {{{4, 4}}, 8},                  /* an order-2 folio: trace of 1 */
        {{{0, 8}}, 8},                  /* an order-3 folio from page 0: out of the tree */
        {{{2, 1}, {3, 1}, {4, 4}}, 11}, /* order-2 folio over two pages: trace of 3 */
    };
    struct env *e = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[16], want[32];
        snprintf(name, sizeof(name), "trace%zu", i);
        int fd = new_file(e, name);
        assert_int_equal(vms_ftruncate(e->t, fd, 24 * PG), 0);
        int cached[5][2], n = 0; /* up to three writes, the extra page, the read */
        for (int w = 0; w < 3 && cases[i].writes[w][1]; w++) {
            write_at(e, fd, (uint64_t)cases[i].writes[w][0] * PG, (uint64_t)cases[i].writes[w][1] * PG);
            cached[n][0] = cases[i].writes[w][0];
            cached[n][1] = cases[i].writes[w][0] + cases[i].writes[w][1] - 1;
            n++;
        }
        if (i == 0) {
            write_at(e, fd, 7 * PG, PG);
            cached[n][0] = cached[n][1] = 7, n++;
        }
        assert_int_equal(vms_fsync(e->t, fd), 0);
        int fd2 = vms_open(e->t, name, O_RDONLY, 0);
        assert_true(fd2 >= 3);
        assert_int_equal(vms_pread(e->t, fd2, 0x10000000000ULL, 100, 8 * PG), -EFAULT);
        cached[n][0] = 8, cached[n][1] = cases[i].last_read, n++;
        assert_cached(e, fd, 24, cached_ranges(want, 24, (const int (*)[2])cached, n));
        assert_int_equal(vms_check(e->m, stderr), 0);
    }
}

/* A second descriptor reaching the marked folio of another's window has no
 * window of its own: it finds where the cached run after the folio ends and
 * reads ahead from there, but the scan's first look inside the folio jumps
 * to its head, so it reports the miss one page late and that page stays
 * out. Host (read_ahead_kb 8192): a cold 256-page file; descriptor 1 reads
 * page 0 (pages 0-3) and page 1 (pages 4-19, order-2 folios, marker on 4);
 * descriptor 2 then reads page 4 (pages 21-91) or page 5 (pages 21-95). */
static void test_marked_folio_read_by_another_descriptor_leaves_a_page(void **state)
{
    static const struct {
        int page, last;
    } cases[] = {{4, 91}, {5, 95}};
    struct env *e = *state;
    use_disk_of_the_measuring_host(e);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[16], want[160];
        snprintf(name, sizeof(name), "marked%zu", i);
        int fd1 = cold_file(e, name, 256);
        int fd2 = vms_open(e->t, name, O_RDONLY, 0);
        assert_true(fd2 >= 3);
        vms_addr buf = tu_anon(e->t, PG, RW);
        assert_int_equal(vms_pread(e->t, fd1, buf, PG, 0), (int64_t)PG);
        assert_int_equal(vms_pread(e->t, fd1, buf, PG, PG), (int64_t)PG);
        const int window[][2] = {{0, 19}};
        assert_cached(e, fd1, 128, cached_ranges(want, 128, window, 1));
        assert_int_equal(vms_pread(e->t, fd2, buf, PG, (int64_t)cases[i].page * (int64_t)PG), (int64_t)PG);
        const int after[][2] = {{0, 19}, {21, cases[i].last}};
        assert_cached(e, fd1, 128, cached_ranges(want, 128, after, 2));
        assert_int_equal(vms_check(e->m, stderr), 0);
    }
}

/* ---- faults ---- */

/* Reads a cold 1 MiB file through a shared mapping, slot pages into its
 * PTE table, page by page; the pages whose access faulted ("M" after a
 * major fault) must be expected. */
static void assert_cold_mapping_faults(void **state, uint64_t slot, const char *expected)
{
    struct env *e = *state;
    char out[512];
    size_t size = sizeof(out);
    int fd = cold_file(e, "m", 256);
    vms_addr p = BASE + slot * PG;
    assert_int_equal(vms_mmap(e->t, p, 256 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0),
                     (int64_t)p);
    char pattern[257];
    tu_fault_pattern(e->t, p, 256, 0, pattern);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < 256; i++)
        if (pattern[i] != '0')
            len += (size_t)snprintf(out + len, size - len, "%s%d%s", len ? " " : "", i,
                                    pattern[i] == 'M' ? "M" : pattern[i] == '1' ? "" : "?");
    assert_string_equal(out, expected);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* Fault-around maps a whole folio that lies in the VMA and the PTE table,
 * however little of it the 16-page window holds, but not the folio that
 * holds the file's last page. Where the mapping starts in its PTE table
 * moves the windows: 12, 14 and 15 minor faults after the major one. */
static void test_cold_mapping_read_maps_whole_folios(void **state)
{
    assert_cold_mapping_faults(state, 0, "0M 16 24 32 48 64 80 96 128 160 192 224 240");
}

static void test_cold_mapping_read_two_pages_into_a_table(void **state)
{
    assert_cold_mapping_faults(state, 2, "0M 16 24 30 32 48 64 80 96 128 160 192 224 238 254");
}

static void test_cold_mapping_read_78_pages_into_a_table(void **state)
{
    assert_cold_mapping_faults(state, 78, "0M 16 18 24 32 36 52 64 80 96 128 160 192 224 226 242");
}

/* The classic 4 KiB cache faults once per 16-page window (and at the first
 * marker): 16 minor faults after the major one, whatever the alignment. */
static void test_classic_cold_mapping_read_faults_every_window(void **state)
{
    assert_cold_mapping_faults(state, 0,
                               "0M 16 24 32 48 64 80 96 112 128 144 160 176 192 208 224 240");
}

/* A store into page 1 of a cold 12-page file through a private mapping
 * with the given advice, then a write(2) from page `from` of a second
 * mapping: the file's cached pages, and what that write's fault cost. */
static void hugepage_case(struct env *e, const char *name, int advice, uint64_t from,
                          char *cached, char *cost)
{
    int fd = cold_file(e, name, 12);
    int64_t p = vms_mmap(e->t, 0, 12 * PG, RW, MAP_PRIVATE, fd, 0);
    int64_t q = vms_mmap(e->t, 0, 12 * PG, RW, MAP_PRIVATE, fd, 0);
    assert_true(p > 0 && q > 0);
    if (advice & 1)
        assert_int_equal(vms_madvise(e->t, (vms_addr)p, 12 * PG, MADV_HUGEPAGE), 0);
    if (advice & 2)
        assert_int_equal(vms_madvise(e->t, (vms_addr)p, 12 * PG, MADV_RANDOM), 0);
    assert_int_equal(tu_fault_cost(e->t, (vms_addr)p + PG, 1), 'M');
    tu_residency(e->t, (vms_addr)q, 12, cached);
    int out = new_file(e, "out");
    uint64_t min0, maj0, min1, maj1;
    vms_task_rusage(e->t, &min0, &maj0);
    assert_int_equal(vms_write(e->t, out, (vms_addr)q + from * PG, PG), (int64_t)PG);
    vms_task_rusage(e->t, &min1, &maj1);
    snprintf(cost, 8, "%llu/%llu", (unsigned long long)(min1 - min0),
             (unsigned long long)(maj1 - maj0));
    assert_int_equal(vms_close(e->t, out), 0);
    assert_int_equal(vms_munmap(e->t, (vms_addr)p, 12 * PG), 0);
    assert_int_equal(vms_munmap(e->t, (vms_addr)q, 12 * PG), 0);
    assert_int_equal(vms_close(e->t, fd), 0);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* MADV_HUGEPAGE reads the 2 MiB block around a miss, MADV_RANDOM or not;
 * with MADV_RANDOM its marker is on the block's first folio, so a later
 * fault in that folio from another mapping reads ahead and retries (a major
 * fault in a copy). host: HUGEPAGE+RANDOM 111111111111 then 0/1 (from page
 * 1 or 5); HUGEPAGE alone 111111111111 then 1/0; RANDOM alone 010000000000
 * then 1/0. */
static void test_hugepage_miss_reads_the_whole_block(void **state)
{
    struct env *e = *state;
    char cached[16], cost[8];
    hugepage_case(e, "h1", 3, 1, cached, cost);
    assert_string_equal(cached, "111111111111");
    assert_string_equal(cost, "0/1");
    hugepage_case(e, "h2", 3, 5, cached, cost);
    assert_string_equal(cached, "111111111111");
    assert_string_equal(cost, "0/1");
    hugepage_case(e, "h3", 1, 1, cached, cost);
    assert_string_equal(cached, "111111111111");
    assert_string_equal(cost, "1/0");
    hugepage_case(e, "h4", 2, 1, cached, cost);
    assert_string_equal(cached, "010000000000");
    assert_string_equal(cost, "1/0");
}

/* ---- truncation, holes, reclaim, write-back ---- */

/* Two 64 KiB writes: folios 0-15 and 16-31, written back. */
static int two_folios(struct env *e, const char *name)
{
    int fd = new_file(e, name);
    write_at(e, fd, 0, 16 * PG);
    write_at(e, fd, 16 * PG, 16 * PG);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_layout(e, fd, 32, "0:o4 16:o4");
    return fd;
}

/* Truncation splits the folio it cuts at the new end: the pages before it
 * stay in folios of falling order, the end page alone when the end is
 * inside it; a cut on a folio boundary drops the folio whole. */
static void test_truncate_splits_the_folio_it_cuts(void **state)
{
    struct env *e = *state;
    static const struct {
        int64_t size;
        const char *layout;
    } c[] = {
        {20 * PG, "0:o4 16:o2"},
        {20 * PG + 100, "0:o4 16:o2 20:o0"},
        {17 * PG - 1, "0:o4 16:o0"},
        {31 * PG, "0:o4 16:o3 24:o2 28:o1 30:o0"},
        {16 * PG, "0:o4"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "t%zu", i);
        int fd = two_folios(e, name);
        assert_int_equal(vms_ftruncate(e->t, fd, c[i].size), 0);
        assert_layout(e, fd, 34, c[i].layout);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* host: a growing truncate zeroes (and dirties) the old last block before
 * it truncates the page cache, so the clean folio holding it stays whole;
 * a shrinking one splits first. Each file: a write, a cut, fsync, a resize. */
static void test_growth_does_not_split_the_folio_of_the_old_end(void **state)
{
    struct env *e = *state;
    static const struct {
        uint64_t len;
        int64_t cut, resize;
        const char *layout;
    } c[] = {
        {2 * PG, 0x800, PG, "0:o1"},
        {4 * PG, 0x1800, 0x2800, "0:o2"},
        {2 * PG, 0x1800, PG, "0:o0"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "g%zu", i);
        int fd = new_file(e, name);
        write_at(e, fd, 0, c[i].len);
        assert_int_equal(vms_ftruncate(e->t, fd, c[i].cut), 0);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, c[i].resize), 0);
        assert_layout(e, fd, 4, c[i].layout);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* MADV_REMOVE of part of a folio splits it at both ends of the hole; only
 * the hole leaves the cache. */
static void test_madv_remove_splits_the_folio_at_both_ends(void **state)
{
    struct env *e = *state;
    static const struct {
        uint64_t first, pages;
        const char *layout, *cached;
    } c[] = {
        {18, 2, "0:o4 16:o1 20:o0 21:o0 22:o1 24:o3", "111111111111111111001111111111110"},
        {16, 8, "0:o4 24:o0 25:o0 26:o1 28:o2", "111111111111111100000000111111110"},
        {20, 12, "0:o4 16:o2", "111111111111111111110000000000000"},
        {16, 16, "0:o4", "111111111111111100000000000000000"},
        {17, 1, "0:o4 16:o0 18:o0 19:o0 20:o2 24:o3", "111111111111111110111111111111110"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "h%zu", i);
        int fd = two_folios(e, name);
        int64_t p = vms_mmap(e->t, 0, 32 * PG, RW, MAP_SHARED, fd, 0);
        assert_true(p > 0);
        assert_int_equal(vms_madvise(e->t, (vms_addr)p + c[i].first * PG, c[i].pages * PG,
                                     MADV_REMOVE), 0);
        assert_layout(e, fd, 34, c[i].layout);
        assert_cached(e, fd, 33, c[i].cached);
        assert_int_equal(vms_munmap(e->t, (vms_addr)p, 32 * PG), 0);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* A split unmaps its folio first, everywhere: after truncating a mapped
 * 64 KiB folio at 20 pages and 100 bytes, page 16 faults again (and maps
 * 16-20 around it); pages 0-15, another folio, stay mapped. */
static void test_split_unmaps_the_folio(void **state)
{
    struct env *e = *state;
    int fd = two_folios(e, "u");
    assert_int_equal(vms_mmap(e->t, BASE, 32 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0),
                     (int64_t)BASE);
    char got[40];
    tu_fault_pattern(e->t, BASE, 32, 0, got);
    assert_int_equal(vms_ftruncate(e->t, fd, 20 * PG + 100), 0);
    tu_fault_pattern(e->t, BASE, 21, 0, got);
    assert_string_equal(got, "000000000000000010000");
    assert_layout(e, fd, 32, "0:o4 16:o2 20:o0");
}

/* A dirty folio cannot be split (ext4 cannot release its dirty buffers):
 * a hole punched in part of it leaves it whole and cached, the hole zeroed,
 * the folio unmapped all the same. Dirtied through the mapping or by
 * write(), alike; a truncation keeps it whole past the new end. */
static void test_dirty_folio_is_not_split(void **state)
{
    struct env *e = *state;
    for (int how = 0; how < 2; how++) {
        char name[8];
        snprintf(name, sizeof(name), "d%d", how);
        int fd = two_folios(e, name);
        vms_addr p = BASE + (uint64_t)how * 64 * PG;
        assert_int_equal(vms_mmap(e->t, p, 32 * PG, RW, MAP_SHARED | MAP_FIXED, fd, 0),
                         (int64_t)p);
        char got[40];
        tu_fault_pattern(e->t, p, 32, how == 0, got);
        if (how == 1)
            write_at(e, fd, 17 * PG, 10);
        assert_int_equal(vms_madvise(e->t, p + 20 * PG, 12 * PG, MADV_REMOVE), 0);
        assert_cached(e, fd, 33, "111111111111111111111111111111110");
        tu_fault_pattern(e->t, p, 32, 0, got);
        assert_string_equal(got, "00000000000000001000000000000000");
        assert_int_equal(tu_load_byte(e->t, p + 25 * PG), 0);
        assert_layout(e, fd, 34, "0:o4 16:o4");
    }
    int fd = two_folios(e, "t");
    write_at(e, fd, 17 * PG, 10);
    assert_int_equal(vms_ftruncate(e->t, fd, 20 * PG), 0);
    assert_cached(e, fd, 34, "1111111111111111111111111111111100");
    assert_layout(e, fd, 34, "0:o4 16:o4");
}

/* The pages a truncation cuts off a folio it cannot split lose their dirt
 * (ext4 discards their buffers): a failed 12 KiB write leaves folio 0-1
 * dirty with both blocks reserved; after truncations to 100 bytes and to
 * 32 KiB, write-back puts block 0 on the disk and not block 1 (host: FIEMAP
 * maps block 0, block 1 stays delayed). */
static void test_pages_cut_off_an_unsplit_folio_are_not_written_back(void **state)
{
    struct env *e = *state;
    vms_addr src = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_mprotect(e->t, src, 4 * PG, PROT_NONE), 0);
    int fd = new_file(e, "c");
    assert_int_equal(vms_pwrite(e->t, fd, src, 12872, 0), -EFAULT);
    assert_int_equal(vms_ftruncate(e->t, fd, 100), 0);
    assert_layout(e, fd, 8, "0:o1");
    assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    char path[400];
    int hfd = open(tu_join(path, sizeof(path), e->root, "c"), O_RDONLY);
    assert_true(hfd >= 0);
    assert_int_equal(lseek(hfd, 0, SEEK_DATA), 0);
    assert_int_equal(lseek(hfd, 0, SEEK_HOLE), (off_t)PG);
    close(hfd);
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* A store through a shared mapping dirties the buffers of its whole folio
 * before the end of the file, those a truncate discarded in the folio that
 * stayed dirty too, and write-back writes them. Host-measured (FIEMAP
 * after fsync): a failed write of 2 (4) pages into an empty file, a
 * truncate to 4 KiB, a growth to 0x3007 (5 pages), a store to page 0:
 * blocks 0-1 (0-3) on the disk; without the store block 0 only, the rest
 * reserved but not written. Seed 1950098. */
static void test_store_writes_back_the_pages_a_truncate_cut(void **state)
{
    struct env *e = *state;
    vms_addr src = tu_anon(e->t, 4 * PG, RW);
    assert_int_equal(vms_mprotect(e->t, src, 4 * PG, PROT_NONE), 0);
    static const struct {
        uint64_t len, size;
        int store;
        off_t hole;
    } c[] = {{2 * PG, 0x3007, 1, 2 * PG}, {4 * PG, 5 * PG, 1, 4 * PG}, {2 * PG, 0x3007, 0, PG}};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8], path[400];
        snprintf(name, sizeof(name), "t%zu", i);
        int fd = new_file(e, name);
        assert_int_equal(vms_pwrite(e->t, fd, src, c[i].len, 0), -EFAULT);
        assert_int_equal(vms_ftruncate(e->t, fd, PG), 0);
        assert_int_equal(vms_ftruncate(e->t, fd, (int64_t)c[i].size), 0);
        int64_t p = vms_mmap(e->t, 0, PG, RW, MAP_SHARED, fd, 0);
        assert_true(p > 0);
        if (c[i].store)
            tu_store_byte(e->t, (vms_addr)p, 0x20);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        int hfd = open(tu_join(path, sizeof(path), e->root, name), O_RDONLY);
        assert_true(hfd >= 0);
        assert_int_equal(lseek(hfd, 0, SEEK_DATA), 0);
        assert_int_equal(lseek(hfd, 0, SEEK_HOLE), c[i].hole);
        close(hfd);
        assert_int_equal(vms_check(e->m, stderr), 0);
        assert_int_equal(vms_munmap(e->t, (vms_addr)p, PG), 0);
        assert_int_equal(vms_close(e->t, fd), 0);
    }
}

/* MADV_PAGEOUT reclaims a folio only when the range maps all of it; a
 * folio the range maps in part is split into pages, which unmaps it, and
 * none of it goes. File: two 64 KiB folios and a last page of 16 bytes,
 * all mapped read-only once. */
static void test_pageout_takes_only_whole_folios(void **state)
{
    struct env *e = *state;
    static const struct {
        uint64_t first, pages;
        const char *cached, *faults, *layout;
    } c[] = {
        {18, 2, "111111111111111111111111111111111", "000000000000000010000000000000000",
         "0:o4 16:o0 17:o0 18:o0 19:o0 20:o0 21:o0 22:o0 23:o0 24:o0 25:o0 26:o0 27:o0 "
         "28:o0 29:o0 30:o0 31:o0 32:o0"},
        {16, 16, "111111111111111100000000000000001", "0000000000000000M000000010000000"
                                                      "0",
         "0:o4 16:o0 17:o0 18:o0 19:o0 20:o0 21:o0 22:o0 23:o0 24:o0 25:o0 26:o0 27:o0 "
         "28:o0 29:o0 30:o0 31:o0 32:o0"},
        {8, 16, "111111111111111111111111111111111", "100000000000000010000000000000000",
         "0:o0 1:o0 2:o0 3:o0 4:o0 5:o0 6:o0 7:o0 8:o0 9:o0 10:o0 11:o0 12:o0 13:o0 14:o0 "
         "15:o0 16:o0 17:o0 18:o0 19:o0 20:o0 21:o0 22:o0 23:o0 24:o0 25:o0 26:o0 27:o0 "
         "28:o0 29:o0 30:o0 31:o0 32:o0"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "p%zu", i);
        int fd = two_folios(e, name);
        write_at(e, fd, 32 * PG, 16);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        vms_addr p = BASE + i * 64 * PG;
        assert_int_equal(vms_mmap(e->t, p, 33 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0),
                         (int64_t)p);
        char got[40];
        tu_fault_pattern(e->t, p, 33, 0, got);
        assert_int_equal(vms_madvise(e->t, p + c[i].first * PG, c[i].pages * PG, MADV_PAGEOUT),
                         0);
        assert_cached(e, fd, 33, c[i].cached);
        tu_fault_pattern(e->t, p, 33, 0, got);
        assert_string_equal(got, c[i].faults);
        assert_layout(e, fd, 33, c[i].layout);
    }
}

/* MADV_PAGEOUT of one page of a larger folio splits it only when it is
 * clean: a dirty one keeps its buffers, so the split fails before it
 * unmaps anything. host: pwrite of 8 KiB, a 1-page shared mapping, PAGEOUT,
 * load: 0 faults; with an fsync first: 1 fault. */
static void test_pageout_of_part_of_a_dirty_folio_keeps_it_mapped(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "p");
    write_at(e, fd, 0, 2 * PG);
    assert_layout(e, fd, 2, "0:o1");
    assert_int_equal(vms_mmap(e->t, BASE, PG, RW, MAP_SHARED | MAP_FIXED, fd, 0), (int64_t)BASE);
    assert_int_equal(tu_fault_cost(e->t, BASE, 0), '1');
    assert_int_equal(vms_madvise(e->t, BASE, PG, MADV_PAGEOUT), 0);
    assert_int_equal(tu_fault_cost(e->t, BASE, 0), '0');
    assert_layout(e, fd, 2, "0:o1");
    assert_int_equal(vms_fsync(e->t, fd), 0);
    assert_int_equal(vms_madvise(e->t, BASE, PG, MADV_PAGEOUT), 0);
    assert_int_equal(tu_fault_cost(e->t, BASE, 0), '1');
    assert_layout(e, fd, 2, "0:o0 1:o0");
}

/* MADV_PAGEOUT of part of a large folio splits it when no other mm maps
 * it, however often this one does. host: a written-back order-1 folio,
 * page 0 mapped shared (the range) and private, both read: both PTEs go
 * (a fault each); page 0 mapped shared and page 1 in a second mapping of
 * the same process, both read: split (a fault); page 1 read instead by a
 * forked child: no fault, the folio stays. Seed 1950222. */
static void test_pageout_splits_a_folio_only_this_mm_maps(void **state)
{
    struct env *e = *state;
    static const struct {
        int second;        /* 0: page 0 private, 1: page 1 shared, 2: page 1 in a child */
        const char *after; /* fault costs of the range, then the second mapping's */
    } c[] = {{0, "11"}, {1, "11"}, {2, "00"}};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char name[8];
        snprintf(name, sizeof(name), "m%zu", i);
        int fd = new_file(e, name);
        write_at(e, fd, 0, 2 * PG);
        assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_layout(e, fd, 2, "0:o1");
        vms_addr a = BASE + i * 16 * PG, b = a + 8 * PG;
        assert_int_equal(vms_mmap(e->t, a, PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0),
                         (int64_t)a);
        int flags = c[i].second ? MAP_SHARED : MAP_PRIVATE;
        int64_t off = c[i].second ? (int64_t)PG : 0;
        assert_int_equal(vms_mmap(e->t, b, PG, PROT_READ, flags | MAP_FIXED, fd, off), (int64_t)b);
        assert_int_equal(tu_fault_cost(e->t, a, 0), '1');
        vms_task *child = c[i].second == 2 ? vms_fork(e->t) : NULL;
        assert_int_equal(tu_fault_cost(child ? child : e->t, b, 0), '1');
        assert_int_equal(vms_madvise(e->t, a, PG, MADV_PAGEOUT), 0);
        char got[3] = {tu_fault_cost(e->t, a, 0), tu_fault_cost(child ? child : e->t, b, 0), 0};
        assert_string_equal(got, c[i].after);
        assert_layout(e, fd, 2, c[i].second == 2 ? "0:o1" : "0:o0 1:o0");
        assert_int_equal(vms_check(e->m, stderr), 0);
        if (child)
            vms_exit(child);
    }
}

/* The readahead marker is the flag the end of write-back clears. host: a
 * read of 0x37b bytes of an 8-page file caches pages 0-3; after a 1-byte
 * write into page 1 and fsync, a read of pages 0-2 reads nothing ahead;
 * without the fsync it reads pages 4-7. */
static void test_writeback_clears_the_readahead_marker(void **state)
{
    struct env *e = *state;
    vms_addr buf = tu_anon(e->t, 4 * PG, RW);
    for (int sync = 0; sync < 2; sync++) {
        int fd = new_file(e, sync ? "ws" : "wn");
        assert_int_equal(vms_ftruncate(e->t, fd, 8 * PG), 0);
        assert_int_equal(vms_pread(e->t, fd, buf, 0x37b, 0), 0x37b);
        assert_cached(e, fd, 8, "11110000");
        assert_int_equal(vms_pwrite(e->t, fd, buf, 1, 0x1038), 1);
        if (sync)
            assert_int_equal(vms_fsync(e->t, fd), 0);
        assert_int_equal(vms_pread(e->t, fd, buf, 0x2856, 0), 0x2856);
        assert_cached(e, fd, 8, sync ? "11110000" : "11111111");
        assert_int_equal(vms_check(e->m, stderr), 0);
    }
}

/* Writing back one page writes its whole folio and write-protects every
 * page of it: the first store maps the whole 64 KiB folio writable, and
 * after msync of page 0 a store to each of its 16 pages faults again
 * (host: 1000000000000000, then 1111111111111111). */
static void test_msync_of_one_page_cleans_its_whole_folio(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "s");
    write_at(e, fd, 0, 16 * PG);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    int64_t p = vms_mmap(e->t, 0, 16 * PG, RW, MAP_SHARED, fd, 0);
    assert_true(p > 0);
    char got[17];
    tu_fault_pattern(e->t, (vms_addr)p, 16, 1, got);
    assert_string_equal(got, "1000000000000000");
    assert_int_equal(vms_msync(e->t, (vms_addr)p, PG, MS_SYNC), 0);
    tu_fault_pattern(e->t, (vms_addr)p, 16, 1, got);
    assert_string_equal(got, "1111111111111111");
    assert_int_equal(vms_check(e->m, stderr), 0);
}

/* The 4 KiB cache writes back the page alone: only page 0 faults again. */
static void test_classic_msync_of_one_page_cleans_that_page(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "s");
    write_at(e, fd, 0, 16 * PG);
    assert_int_equal(vms_fsync(e->t, fd), 0);
    int64_t p = vms_mmap(e->t, 0, 16 * PG, RW, MAP_SHARED, fd, 0);
    assert_true(p > 0);
    char got[17];
    tu_fault_pattern(e->t, (vms_addr)p, 16, 1, got);
    assert_int_equal(vms_msync(e->t, (vms_addr)p, PG, MS_SYNC), 0);
    tu_fault_pattern(e->t, (vms_addr)p, 16, 1, got);
    assert_string_equal(got, "1000000000000000");
}

/* The classic cache holds order-0 pages only, whatever the write. */
static void test_classic_write_makes_single_pages(void **state)
{
    struct env *e = *state;
    int fd = new_file(e, "c");
    write_at(e, fd, 0, 5 * PG);
    assert_layout(e, fd, 8, "0:o0 1:o0 2:o0 3:o0 4:o0");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define C(f) cmocka_unit_test_setup_teardown(f, setup_classic, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_folio_order_follows_length_and_alignment),
        T(test_write_folio_order_over_old_data_and_unaligned),
        T(test_write_folio_fits_between_cached_pages),
        T(test_write_faults_in_the_source_of_its_whole_folio),
        T(test_fault_maps_no_page_of_a_folio_past_eof),
    T(test_fault_past_eof_maps_around_only_below_the_last_folio),
        T(test_window_meeting_a_cached_page_near_eof_keeps_no_marker),
        T(test_cut_folio_splits_unless_a_page_that_stays_is_dirty),
        T(test_window_meeting_a_cached_page_keeps_its_folios_marker),
        T(test_window_meeting_a_cached_page_marks_async_pages_before_eof),
        T(test_async_window_meeting_a_cached_page),
        T(test_window_meeting_a_cached_page_at_128_kib),
        T(test_window_without_a_free_block_of_its_order_is_read_in_single_pages),
        T(test_async_window_aligns_to_the_read_sized_limit),
        C(test_classic_async_window_aligns_its_end),
        T(test_truncate_to_the_same_size_splits_a_clean_folio),
        T(test_punch_cannot_split_a_folio_a_failed_write_dirtied),
        T(test_failed_write_over_disk_blocks_leaves_the_page_unread),
        T(test_failed_write_leaves_its_whole_folio),
        T(test_failed_write_reserves_its_whole_folio),
        T(test_store_reserves_its_whole_folio),
    T(test_store_dirties_its_whole_folio_against_a_punch),
    T(test_split_drops_the_pages_past_eof),
    T(test_shared_write_fault_maps_the_whole_folio),
    T(test_hugepage_miss_reads_the_whole_block),
    T(test_pageout_of_part_of_a_dirty_folio_keeps_it_mapped),
    T(test_pageout_splits_a_folio_only_this_mm_maps),
    T(test_writeback_clears_the_readahead_marker),
        T(test_read_readahead_grows_the_folio_order),
        T(test_read_readahead_orders_for_other_read_sizes),
        T(test_miss_inside_one_read_reads_ahead_from_the_cached_trace),
    T(test_miss_after_a_large_folio_finds_a_shorter_trace),
    T(test_marked_folio_read_by_another_descriptor_leaves_a_page),
        T(test_cold_mapping_read_maps_whole_folios),
        T(test_cold_mapping_read_two_pages_into_a_table),
        T(test_cold_mapping_read_78_pages_into_a_table),
        C(test_classic_cold_mapping_read_faults_every_window),
        T(test_truncate_splits_the_folio_it_cuts),
        T(test_growth_does_not_split_the_folio_of_the_old_end),
        T(test_madv_remove_splits_the_folio_at_both_ends),
        T(test_split_unmaps_the_folio),
        T(test_dirty_folio_is_not_split),
        T(test_pages_cut_off_an_unsplit_folio_are_not_written_back),
        T(test_store_writes_back_the_pages_a_truncate_cut),
        T(test_pageout_takes_only_whole_folios),
        T(test_msync_of_one_page_cleans_its_whole_folio),
        C(test_classic_msync_of_one_page_cleans_that_page),
        C(test_classic_write_makes_single_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
