/*
 * test_vmscan.c - reclaim without swap: the watermarks Linux computes from
 * RAM, the LRU lists (new folios inactive, read() twice active, mlock
 * unevictable, MADV_COLD back to inactive), kswapd reclaiming clean file
 * pages up to the high watermark, dirty file pages written back before they
 * go (never lost), anonymous memory kept (nowhere to put it) until the OOM
 * killer acts at the min watermark, and /proc/meminfo's lines; active
 * file pages aged back to the inactive list, and a file page read again
 * soon after reclaim freed it coming back active (its shadow); in a
 * memory cgroup, a readahead window's own locked folios, reclaim that
 * frees nothing going round again aging both active lists, and reclaim
 * on the cgroup's statistics as last flushed.
 */
#include "testutil.h"

#include <errno.h>

#define RW (PROT_READ | PROT_WRITE)
#define MIB (1ULL << 20)
#define PG TU_PAGE

/* One /proc/meminfo value (kB), by name ("Active(file)"); -1 if absent. */
static long long meminfo(vms_machine *m, const char *name)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    assert_int_equal(vms_meminfo(m, f), 0);
    fclose(f);
    long long v = -1;
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, name, n) && l[n] == ':') {
            v = strtoll(l + n + 1, NULL, 10);
            break;
        }
    }
    free(text);
    return v;
}

static long long meminfo_pages(vms_machine *m, const char *name)
{
    return meminfo(m, name) / 4;
}

/* A machine of ram bytes over the fixture's root, without swap, Linux's
 * reserve unless told; each test changes what it is about before
 * restart(). */
static struct vms_config file_config(const struct tu_env *e, uint64_t ram,
                                     uint64_t min_free_kbytes)
{
    struct vms_config c = tu_config(ram);
    c.root = e->root;
    c.min_free_kbytes = min_free_kbytes;
    c.watermark_scale_factor = 10;
    c.swappiness = 60;
    c.swap_bytes = 0;
    c.large_folios = 0; /* page counts stay page counts */
    return c;
}

/* The fixture's machine replaced by one of config c, with one task. */
static void restart(struct tu_env *e, const struct vms_config *c)
{
    vms_machine_destroy(e->m);
    e->m = NULL; /* a config the new machine refuses fails the test, not the teardown */
    e->m = tu_machine_with(c);
    e->t = tu_spawn(e->m);
}

static void machine(struct tu_env *e, uint64_t ram, uint64_t min_free_kbytes)
{
    struct vms_config c = file_config(e, ram, min_free_kbytes);
    restart(e, &c);
}

static int open_file(struct tu_env *e, const char *name, uint64_t len, int flags)
{
    char path[512];
    tu_host_fill(tu_join(path, sizeof(path), e->root, name), len);
    int fd = vms_open(e->t, name, flags, 0);
    assert_true(fd >= 0);
    return fd;
}

/* ---- watermarks ---- */

/* Linux's rule, written out again: sqrt(16 * KiB), 128 KiB .. 256 MiB. */
static uint64_t expected_min_kb(uint64_t ram)
{
    uint64_t x = ram / 1024 * 16, kb = 0;
    while ((kb + 1) * (kb + 1) <= x)
        kb++;
    return kb < 128 ? 128 : kb > 262144 ? 262144 : kb;
}

static void test_min_free_kbytes_follows_the_square_root_rule(void **state)
{
    struct tu_env *e = *state;
    static const uint64_t rams[] = {1 * MIB, 16 * MIB, 64 * MIB, 1024 * MIB};
    for (size_t i = 0; i < sizeof(rams) / sizeof(*rams); i++) {
        machine(e, rams[i], UINT64_MAX);
        struct vms_stats *s = tu_stats(e->m);
        uint64_t min = expected_min_kb(rams[i]) / 4, frames = rams[i] / PG;
        uint64_t gap = min / 4 > frames * 10 / 10000 ? min / 4 : frames * 10 / 10000;
        assert_int_equal(s->watermark[0], min);
        assert_int_equal(s->watermark[1], min + gap);
        assert_int_equal(s->watermark[2], min + 2 * gap);
        free(s);
    }
    /* 1 GiB: 4096 KiB; 1 MiB: the 128 KiB floor. */
    assert_int_equal(expected_min_kb(1024 * MIB), 4096);
    assert_int_equal(expected_min_kb(1 * MIB), 128);
}

/* Anonymous memory cannot go anywhere: the OOM killer acts when an
 * allocation would leave no more than min free (32 frames on 1 MiB). */
static void test_anonymous_memory_stops_at_the_min_watermark(void **state)
{
    struct tu_env *e = *state;
    machine(e, 1 * MIB, UINT64_MAX);
    vms_task *t = tu_spawn(e->m); /* the fixture's task holds a pgd too */
    vms_addr a = tu_anon(t, 250 * PG, RW);
    unsigned stored = 0;
    for (; stored < 250; stored++) {
        uint8_t v = 1;
        if (vms_store(t, a + stored * PG, &v, 1))
            break;
    }
    /* 256 - 2 (machine) - 1 (fixture's pgd) - 4 (tables): each store may
     * take a frame while more than 32 (min) are free. */
    assert_int_equal(stored, 256 - 2 - 1 - 4 - 32);
    assert_true(vms_task_killed(t));
    tu_assert_clean(e->m);
}

/* ---- the lists ---- */

static void test_new_folios_start_inactive_and_read_twice_is_active(void **state)
{
    struct tu_env *e = *state;
    machine(e, 64 * MIB, UINT64_MAX);
    vms_addr a = tu_anon(e->t, 8 * PG, RW);
    for (int i = 0; i < 8; i++)
        tu_store_byte(e->t, a + i * PG, 1);
    assert_int_equal(meminfo_pages(e->m, "Inactive(anon)"), 8);
    assert_int_equal(meminfo_pages(e->m, "Active(anon)"), 0);
    assert_int_equal(meminfo_pages(e->m, "AnonPages"), 8);
    int fd = open_file(e, "f", 4 * PG, O_RDONLY);
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 0), 100);
    long long inactive = meminfo_pages(e->m, "Inactive(file)");
    assert_true(inactive >= 1);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), 0);
    /* The same folio again, but where the last read ended: not counted. */
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 100), 100);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), 0);
    /* A read that starts elsewhere first: the page is used a second time. */
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 2 * PG), 100);
    assert_int_equal(vms_pread(e->t, fd, buf, 100, 0), 100);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), 1);
    assert_int_equal(meminfo_pages(e->m, "Inactive(file)"), inactive - 1);
    struct vms_stats *s = tu_stats(e->m);
    assert_int_equal(s->vm.pgactivate, 1);
    free(s);
    tu_assert_clean(e->m);
}

static void test_madv_cold_deactivates_an_active_page(void **state)
{
    struct tu_env *e = *state;
    machine(e, 64 * MIB, UINT64_MAX);
    int fd = open_file(e, "f", 4 * PG, O_RDONLY);
    vms_addr buf = tu_anon(e->t, PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 10, 0), 10);
    assert_int_equal(vms_pread(e->t, fd, buf, 10, PG), 10);
    assert_int_equal(vms_pread(e->t, fd, buf, 10, 0), 10);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), 1);
    int64_t map = vms_mmap(e->t, 0, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map > 0);
    (void)tu_load_byte(e->t, (vms_addr)map);
    assert_int_equal(vms_madvise(e->t, (vms_addr)map, 4 * PG, MADV_COLD), 0);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), 0);
    struct vms_stats *s = tu_stats(e->m);
    assert_int_equal(s->vm.pgdeactivate, 1);
    free(s);
    tu_assert_clean(e->m);
}

static void test_locked_memory_is_unevictable_until_unmapped(void **state)
{
    struct tu_env *e = *state;
    machine(e, 64 * MIB, UINT64_MAX);
    vms_addr a = tu_mmap(e->t, 0, 16 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED);
    assert_int_equal(meminfo_pages(e->m, "Unevictable"), 16);
    assert_int_equal(meminfo_pages(e->m, "Mlocked"), 16);
    assert_int_equal(meminfo_pages(e->m, "Inactive(anon)"), 0);
    assert_int_equal(vms_munmap(e->t, a, 16 * PG), 0);
    assert_int_equal(meminfo_pages(e->m, "Unevictable"), 0);
    assert_int_equal(meminfo_pages(e->m, "Mlocked"), 0);
    struct vms_stats *s = tu_stats(e->m);
    assert_int_equal(s->vm.unevictable_pgs_mlocked, 16);
    assert_int_equal(s->vm.unevictable_pgs_munlocked, 16);
    free(s);
    tu_assert_clean(e->m);
}

/* ---- reclaim ---- */

/* A file twice the size of RAM, read through a mapping: kswapd frees the
 * clean pages behind, every byte reads right, and free memory never sinks
 * to min. */
static void test_reading_a_file_larger_than_ram_reclaims_clean_pages(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, UINT64_MAX);
    uint64_t len = 8 * MIB;
    int fd = open_file(e, "big", len, O_RDONLY);
    int64_t map = vms_mmap(e->t, 0, len, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    struct vms_stats *s = tu_stats(e->m);
    uint64_t min = s->watermark[0];
    free(s);
    for (uint64_t off = 0; off < len; off += PG) {
        uint8_t v = 0;
        assert_int_equal(vms_load(e->t, (vms_addr)map + off + off % 251, &v, 1), 0);
        assert_int_equal(v, tu_pattern(off + off % 251));
        s = tu_stats(e->m);
        assert_true(s->frames_total - s->frames_used >= min);
        free(s);
    }
    s = tu_stats(e->m);
    assert_true(s->vm.pageoutrun > 0);
    assert_true(s->vm.pgscan_kswapd > 0);
    assert_true(s->vm.pgsteal_kswapd > 0);
    assert_int_equal(s->vm.pgsteal_file, s->vm.pgsteal_kswapd + s->vm.pgsteal_direct);
    assert_true(s->cache_frames < len / PG / 2);
    free(s);
    assert_false(vms_task_killed(e->t));
    tu_assert_clean(e->m);
}

/* Writes through a shared mapping of a file larger than RAM: reclaim
 * writes each dirty page back before it frees it, so the host file and a
 * second pass through the mapping read every byte written. */
static void test_dirty_pages_are_written_back_before_they_go(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, UINT64_MAX);
    uint64_t len = 6 * MIB;
    int fd = open_file(e, "big", len, O_RDWR);
    int64_t map = vms_mmap(e->t, 0, len, RW, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    for (uint64_t off = 0; off < len; off += PG) {
        uint8_t v = (uint8_t)~tu_pattern(off);
        assert_int_equal(vms_store(e->t, (vms_addr)map + off, &v, 1), 0);
    }
    struct vms_stats *s = tu_stats(e->m);
    assert_true(s->vm.pgpgout > 0);
    assert_true(s->vm.pgsteal_kswapd + s->vm.pgsteal_direct > 0);
    free(s);
    for (uint64_t off = 0; off < len; off += PG) {
        assert_int_equal(tu_load_byte(e->t, (vms_addr)map + off), (uint8_t)~tu_pattern(off));
        assert_int_equal(tu_load_byte(e->t, (vms_addr)map + off + 1), tu_pattern(off + 1));
    }
    assert_int_equal(vms_fsync(e->t, fd), 0);
    char path[512];
    tu_join(path, sizeof(path), e->root, "big");
    for (uint64_t off = 0; off < len; off += PG)
        assert_int_equal(tu_host_byte(path, (off_t)off), (uint8_t)~tu_pattern(off));
    tu_assert_clean(e->m);
}

/* ---- reclaim in the event stream ---- */

struct pageout_log {
    uint64_t pages_written;    /* by pageout events, 2^level each */
    size_t passes[2], ends[2]; /* reclaim passes by detail: [0] direct, [1] kswapd */
    uint64_t reclaimed;
    unsigned lists;
    int bad;
};

static void log_pageout(void *arg, const struct vms_event *ev)
{
    struct pageout_log *l = arg;
    int kswapd = ev->detail && strcmp(ev->detail, "kswapd") == 0;
    if (ev->kind == VMS_EV_PAGEOUT) {
        l->pages_written += 1ULL << ev->level;
        l->bad |= ev->a % PG != 0 || ev->pa % PG != 0;
    } else if (ev->kind == VMS_EV_RECLAIM_BEGIN) {
        l->passes[kswapd]++;
    } else if (ev->kind == VMS_EV_RECLAIM_END) {
        l->ends[kswapd]++;
        l->reclaimed += ev->b;
        l->lists |= ev->index;
    } else if (ev->kind == VMS_EV_SWAP_OUT || ev->kind == VMS_EV_SWAP_IN) {
        l->bad = 1; /* no swap on this machine */
    }
}

/* Dirty file pages written by a store through a shared mapping larger
 * than RAM: each write-back reclaim does is a pageout event, and the
 * passes (kswapd's and the allocations' own) scan the file lists only. */
static void test_reclaim_write_back_is_traced(void **state)
{
    struct tu_env *e = *state;
    struct pageout_log l = {0};
    struct vms_config c = file_config(e, 4 * MIB, UINT64_MAX);
    c.trace = log_pageout;
    c.trace_arg = &l;
    restart(e, &c);
    uint64_t len = 6 * MIB;
    int fd = open_file(e, "big", len, O_RDWR);
    int64_t map = vms_mmap(e->t, 0, len, RW, MAP_SHARED, fd, 0);
    assert_true(map > 0);
    for (uint64_t off = 0; off < len; off += PG)
        tu_store_byte(e->t, (vms_addr)map + off, 1);
    struct vms_stats *s = tu_stats(e->m);
    assert_false(l.bad);
    assert_true(l.pages_written > 0);
    assert_int_equal(l.pages_written * (PG / 1024), s->vm.pgpgout);
    assert_int_equal(l.passes[1], s->vm.pageoutrun);
    assert_int_equal(l.ends[1], s->vm.pageoutrun);
    assert_int_equal(l.passes[0], s->vm.allocstall);
    assert_int_equal(l.ends[0], s->vm.allocstall);
    assert_int_equal(l.reclaimed, s->vm.pgsteal_kswapd + s->vm.pgsteal_direct);
    assert_int_equal(l.lists & 3, 0); /* no swap: the anonymous lists are left alone */
    assert_true(l.lists & 4);
    free(s);
    tu_assert_clean(e->m);
}

/* write() of a file larger than RAM, then read() of it all. */
static void test_write_then_read_a_file_larger_than_ram(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, UINT64_MAX);
    uint64_t len = 6 * MIB;
    int fd = open_file(e, "w", 0, O_RDWR);
    vms_addr buf = tu_anon(e->t, 16 * PG, RW);
    for (uint64_t off = 0; off < len; off += 16 * PG) {
        for (uint64_t i = 0; i < 16 * PG; i += PG)
            tu_store_byte(e->t, buf + i, (uint8_t)((off + i) >> 12));
        assert_int_equal(vms_pwrite(e->t, fd, buf, 16 * PG, (int64_t)off), (int64_t)(16 * PG));
    }
    for (uint64_t off = 0; off < len; off += 16 * PG) {
        assert_int_equal(vms_pread(e->t, fd, buf, 16 * PG, (int64_t)off), (int64_t)(16 * PG));
        for (uint64_t i = 0; i < 16 * PG; i += PG)
            assert_int_equal(tu_load_byte(e->t, buf + i), (uint8_t)((off + i) >> 12));
    }
    tu_assert_clean(e->m);
}

/* A file's bytes [from, to) read with pread, 16 pages at a time. */
static void read_in_chunks(vms_task *t, int fd, vms_addr buf, uint64_t from, uint64_t to)
{
    for (uint64_t off = from; off < to; off += 16 * PG)
        assert_int_equal(vms_pread(t, fd, buf, 16 * PG, (int64_t)off), (int64_t)(16 * PG));
}

/* A page read twice (active) outlives a stream of pages read once. */
static void test_a_hot_page_survives_a_cold_stream(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, UINT64_MAX);
    int hot = open_file(e, "hot", 2 * PG, O_RDONLY);
    int cold = open_file(e, "cold", 8 * MIB, O_RDONLY);
    vms_addr buf = tu_anon(e->t, 16 * PG, RW);
    assert_int_equal(vms_pread(e->t, hot, buf, 10, 0), 10);
    assert_int_equal(vms_pread(e->t, hot, buf, 10, 100), 10); /* where the last ended: once */
    assert_int_equal(vms_pread(e->t, hot, buf, 10, PG), 10);
    assert_int_equal(vms_pread(e->t, hot, buf, 10, 0), 10);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), 1);
    read_in_chunks(e->t, cold, buf, 0, 8 * MIB);
    /* Still cached: reading it again takes nothing from the disk. */
    struct vms_stats *s = tu_stats(e->m);
    uint64_t reads = s->io.disk_reads;
    assert_true(s->vm.pgsteal_file > 0);
    free(s);
    assert_int_equal(vms_pread(e->t, hot, buf, 10, 0), 10);
    s = tu_stats(e->m);
    assert_int_equal(s->io.disk_reads, reads);
    free(s);
    tu_assert_clean(e->m);
}

/* Active folios age: once the inactive file list is below its share,
 * reclaim moves folios from the active list's tail to the inactive list
 * (shrink_active_list: pgrefill looked at, pgdeactivate moved), and those
 * not used again are freed in their turn. */
static void test_active_file_pages_age_into_the_inactive_list(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, UINT64_MAX);
    int warm = open_file(e, "warm", 2 * MIB, O_RDONLY);
    int cold = open_file(e, "cold", 8 * MIB, O_RDONLY);
    vms_addr buf = tu_anon(e->t, 16 * PG, RW);
    for (int pass = 0; pass < 2; pass++) /* read twice: active */
        read_in_chunks(e->t, warm, buf, 0, 2 * MIB);
    long long active = meminfo_pages(e->m, "Active(file)");
    assert_true(active >= 500);
    struct vms_stats *s = tu_stats(e->m);
    assert_int_equal(s->vm.pgrefill, 0);
    free(s);
    read_in_chunks(e->t, cold, buf, 0, 8 * MIB);
    s = tu_stats(e->m);
    assert_true(s->vm.pgrefill > 0);
    assert_true(s->vm.pgdeactivate > 0);
    free(s);
    assert_true(meminfo_pages(e->m, "Active(file)") < active);
    tu_assert_clean(e->m);
}

/* A file page reclaim freed leaves a shadow in the page cache; read
 * again soon enough (fewer pages went through the lists since than the
 * active ones hold), it comes back active (workingset_refault_file,
 * workingset_activate_file); read again much later, inactive. A truncate
 * forgets the shadows: the page read after it is new. */
static void test_a_file_page_read_again_soon_comes_back_active(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, UINT64_MAX);
    int warm = open_file(e, "warm", 2 * MIB, O_RDONLY);
    int once = open_file(e, "once", 16 * PG, O_RDWR);
    int cold = open_file(e, "cold", 20 * MIB, O_RDONLY); /* read once, each part */
    vms_addr buf = tu_anon(e->t, 16 * PG, RW);
    for (int pass = 0; pass < 2; pass++) /* 512 pages active */
        read_in_chunks(e->t, warm, buf, 0, 2 * MIB);
    assert_int_equal(vms_pread(e->t, once, buf, 16 * PG, 0), (int64_t)(16 * PG));
    struct vms_stats *s = tu_stats(e->m);
    uint64_t refaults = s->vm.workingset_refault_file, activated = s->vm.workingset_activate_file;
    free(s);
    read_in_chunks(e->t, cold, buf, 0, 10 * MIB / 4); /* "once" is reclaimed */
    assert_int_equal(vms_pread(e->t, once, buf, 16 * PG, 0), (int64_t)(16 * PG));
    s = tu_stats(e->m);
    assert_int_equal(s->vm.workingset_refault_file - refaults, 16);
    assert_int_equal(s->vm.workingset_activate_file - activated, 16);
    refaults = s->vm.workingset_refault_file;
    activated = s->vm.workingset_activate_file;
    free(s);
    /* Much later: 8 MiB went through since. */
    int late = open_file(e, "late", 16 * PG, O_RDWR);
    assert_int_equal(vms_pread(e->t, late, buf, 16 * PG, 0), (int64_t)(16 * PG));
    read_in_chunks(e->t, cold, buf, 4 * MIB, 12 * MIB);
    assert_int_equal(vms_pread(e->t, late, buf, 16 * PG, 0), (int64_t)(16 * PG));
    s = tu_stats(e->m);
    assert_int_equal(s->vm.workingset_refault_file - refaults, 16);
    assert_int_equal(s->vm.workingset_activate_file - activated, 0);
    refaults = s->vm.workingset_refault_file;
    free(s);
    /* Truncated and grown again while out: nothing to refault. */
    read_in_chunks(e->t, cold, buf, 12 * MIB, 20 * MIB);
    assert_int_equal(vms_ftruncate(e->t, late, 0), 0);
    assert_int_equal(vms_ftruncate(e->t, late, (int64_t)(16 * PG)), 0);
    assert_int_equal(vms_pread(e->t, late, buf, 16 * PG, 0), (int64_t)(16 * PG));
    s = tu_stats(e->m);
    assert_int_equal(s->vm.workingset_refault_file, refaults);
    free(s);
    (void)once;
    tu_assert_clean(e->m);
}

/* ---- /proc/meminfo ---- */

/* A large folio mapped by many young PTEs of one VMA is referenced once
 * (Linux counts referencing mappings, not PTEs): used once, it is kept for
 * another trip round the inactive list, not activated. Host-measured: a
 * 32 MiB file read twice through a mapping in a 16 MiB memory cgroup costs
 * the same both times (516 minor + 6 major, then 507 + 5), nothing of it
 * staying active. Here a 4 MiB machine and an 8 MiB file, large folios. */
static void test_a_mapped_file_larger_than_ram_costs_the_same_twice(void **state)
{
    struct tu_env *e = *state;
    struct vms_config c = file_config(e, 4 * MIB, UINT64_MAX);
    c.large_folios = 1;
    c.readahead_kb = 128;
    c.fault_around_bytes = 65536;
    restart(e, &c);
    int fd = open_file(e, "big.dat", 8 * MIB, O_RDONLY);
    int64_t a = vms_mmap(e->t, 0, 8 * MIB, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(a > 0);
    uint64_t faults[2][2];
    for (int pass = 0; pass < 2; pass++) {
        uint64_t min0, maj0, min1, maj1;
        vms_task_rusage(e->t, &min0, &maj0);
        for (uint64_t off = 0; off < 8 * MIB; off += PG)
            assert_int_equal(tu_load_byte(e->t, (vms_addr)a + off), tu_pattern(off));
        vms_task_rusage(e->t, &min1, &maj1);
        faults[pass][0] = min1 - min0;
        faults[pass][1] = maj1 - maj0;
        assert_int_equal(meminfo(e->m, "Active(file)"), 0);
    }
    assert_int_equal(faults[1][0], faults[0][0]);
    assert_int_equal(faults[1][1], faults[0][1]);
    struct vms_stats *s = tu_stats(e->m);
    assert_int_equal(s->vm.pgactivate, 0);
    free(s);
    tu_assert_clean(e->m);
}

/* The folios a readahead window adds stay locked until their reads end
 * (in vmsim, until the readahead call returns), and reclaim passes over a locked folio (Linux's read_pages and
 * shrink_folio_list's folio_trylock): a read-around window larger than a
 * memory cgroup stops when the cgroup is full of its own folios, rather
 * than freeing its first pages to read its last. Host-measured (Linux
 * 6.18, 4 MiB memory cgroup v1, readahead 8 MiB, a 16 MiB file mapped
 * whole, page 1024 touched once; three runs): one major fault; pages
 * 58 - 60 to 959 - 982 of the window [0, 2048) are cached, and page 1024,
 * read on its own after the window stopped (its allocation freed the
 * window's first pages); nothing past page 1024. */
/* A 4 MiB machine standing for a memory cgroup, with the host's 8 MiB
 * readahead, 64 KiB fault-around and large folios. */
static void readahead_cgroup_machine(struct tu_env *e)
{
    struct vms_config c = file_config(e, 4 * MIB, 0);
    c.watermark_scale_factor = 1;
    c.cgroup_reclaim = 1;
    c.large_folios = 1;
    tu_measuring_host_disk(&c);
    c.fault_around_bytes = 65536;
    restart(e, &c);
}

/* The pages of [addr, addr + n pages) mincore says are resident, but the
 * one at skip: how many, the first and the last. */
struct resident {
    uint64_t n, first, last;
};

static struct resident resident_pages(struct tu_env *e, vms_addr addr, uint64_t n, uint64_t skip)
{
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(vms_mincore(e->t, addr, n * PG, vec), 0);
    struct resident r = {0, n, 0};
    for (uint64_t i = 0; i < n; i++) {
        if (!(vec[i] & 1) || i == skip)
            continue;
        r.n++;
        r.first = i < r.first ? i : r.first;
        r.last = i > r.last ? i : r.last;
    }
    free(vec);
    return r;
}

/* A load of page at of a 16 MiB file mapped whole: one major fault. */
static vms_addr touch_big_file(struct tu_env *e, int fd, uint64_t n, uint64_t at)
{
    int64_t a = vms_mmap(e->t, 0, n * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(a > 0);
    uint64_t min0, maj0, min1, maj1;
    vms_task_rusage(e->t, &min0, &maj0);
    assert_int_equal(tu_load_byte(e->t, (vms_addr)a + at * PG), tu_pattern(at * PG));
    vms_task_rusage(e->t, &min1, &maj1);
    assert_int_equal(maj1 - maj0, 1);
    assert_int_equal(min1 - min0, 0);
    return (vms_addr)a;
}

static void test_a_readahead_window_larger_than_memory_stops_at_its_own_folios(void **state)
{
    struct tu_env *e = *state;
    readahead_cgroup_machine(e);
    const uint64_t n = 4096, at = 1024;
    int fd = open_file(e, "big.dat", n * PG, O_RDONLY);
    vms_addr a = touch_big_file(e, fd, n, at);
    struct resident r = resident_pages(e, a, n, at);
    /* One run from the window's start, none of it past the faulting page:
     * the window stopped, its own folios unreclaimable while it read. */
    assert_int_equal(r.n, r.last - r.first + 1);
    assert_in_range(r.first, 1, 128);
    assert_in_range(r.last, 768, at - 1);
    vms_close(e->t, fd);
    tu_assert_clean(e->m);
}

/* Reclaim that frees nothing at any priority, having left an active list
 * unaged because the lists' sizes said it need not be, starts again from
 * the first priority aging both active lists (Linux's
 * do_try_to_free_pages, force_deactivate). Here a 400-page file read
 * twice is active, and a read-around window fills the rest of memory
 * with its own locked folios: more of them than active pages, so the
 * active list is not due for aging, and nothing inactive can go. Host-
 * measured (4 MiB memory cgroup v1, 8 MiB readahead, the small file read
 * twice with pread, then page 1024 of a 16 MiB mapped file touched): the
 * small file is freed whole and the window reads on to page 959 - 975,
 * 933 - 936 pages of the big file cached, one major fault. */
static void test_reclaim_that_frees_nothing_ages_the_active_lists_and_tries_again(void **state)
{
    struct tu_env *e = *state;
    readahead_cgroup_machine(e);
    const uint64_t small_n = 400, n = 4096, at = 1024;
    int small = open_file(e, "small.dat", small_n * PG, O_RDONLY);
    vms_addr buf = tu_anon(e->t, PG, RW);
    for (int round = 0; round < 2; round++)
        for (uint64_t i = 0; i < small_n; i++)
            assert_int_equal(vms_pread(e->t, small, buf, PG, (int64_t)(i * PG)), (int64_t)PG);
    assert_int_equal(meminfo_pages(e->m, "Active(file)"), small_n);
    int fd = open_file(e, "big.dat", n * PG, O_RDONLY);
    vms_addr a = touch_big_file(e, fd, n, at);
    int64_t s = vms_mmap(e->t, 0, small_n * PG, PROT_READ, MAP_SHARED, small, 0);
    assert_true(s > 0);
    assert_int_equal(resident_pages(e, (vms_addr)s, small_n, small_n).n, 0);
    struct resident r = resident_pages(e, a, n, at);
    assert_in_range(r.last, 900, at - 1);
    assert_in_range(r.n, 850, 1000);
    vms_close(e->t, fd);
    vms_close(e->t, small);
    tu_assert_clean(e->m);
}

/* A 400-page file read twice (active), then, with or without the
 * cgroup's statistics flushed in between, a 1,024-page file read once a
 * page at a time in a 4 MiB memory cgroup: Active(file) after. */
static long long active_after_a_stream(struct tu_env *e, int flushed_stats, int flush)
{
    struct vms_config c = file_config(e, 4 * MIB, 0);
    c.watermark_scale_factor = 1;
    c.cgroup_reclaim = 1;
    c.cgroup_flushed_stats = flushed_stats;
    c.readahead_kb = 4; /* one page a read: the host's were POSIX_FADV_RANDOM */
    c.large_folios = 0; /* and so order-0 pages */
    restart(e, &c);
    const uint64_t small_n = 400, big_n = 1024;
    int small = open_file(e, "small.dat", small_n * PG, O_RDONLY);
    int big = open_file(e, "big.dat", big_n * PG, O_RDONLY);
    vms_addr buf = tu_anon(e->t, PG, RW);
    for (int round = 0; round < 2; round++)
        for (uint64_t i = 0; i < small_n; i++)
            assert_int_equal(vms_pread(e->t, small, buf, PG, (int64_t)(i * PG)), (int64_t)PG);
    if (flush)
        vms_cgroup_flush_stats(e->m);
    for (uint64_t i = 0; i < big_n; i++)
        assert_int_equal(vms_pread(e->t, big, buf, PG, (int64_t)(i * PG)), (int64_t)PG);
    long long active = meminfo_pages(e->m, "Active(file)");
    vms_close(e->t, big);
    vms_close(e->t, small);
    tu_assert_clean(e->m);
    return active;
}

/* A memory cgroup's reclaim reads the lists' sizes as last flushed (a
 * read of memory.stat), not as they are: whether the inactive file list
 * is short of its share, and the active one is aged, depends on when the
 * statistics were read. Host-measured (Linux 6.18, 4 MiB memory cgroup
 * v1, a 400-page file read twice with pread, then a 1,024-page file read
 * once, both POSIX_FADV_RANDOM; three runs each): memory.stat read between
 * the two, the inactive list looks short to every reclaim of the stream
 * and the small file is aged, active_file 202 - 230 after; not read, it
 * stays active, 400, as with statistics always current, where the
 * inactive list holding the stream is never short. (Read with readahead,
 * in large folios, it is aged whole: active_file 16.) */
static void test_a_cgroup_reclaims_on_its_statistics_as_last_flushed(void **state)
{
    struct tu_env *e = *state;
    assert_in_range(active_after_a_stream(e, 1, 1), 202, 230);
    assert_int_equal(active_after_a_stream(e, 1, 0), 400);
    assert_int_equal(active_after_a_stream(e, 0, 1), 400);
}

static void test_meminfo_lines_and_format(void **state)
{
    struct tu_env *e = *state;
    machine(e, 64 * MIB, UINT64_MAX);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_int_equal(vms_meminfo(e->m, f), 0);
    fclose(f);
    assert_memory_equal(text, "MemTotal:          65536 kB\n", 28);
    static const char *const order[] = {
        "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:", "Cached:", "SwapCached:",
        "Active:", "Inactive:", "Active(anon):", "Inactive(anon):", "Active(file):",
        "Inactive(file):", "Unevictable:", "Mlocked:", "SwapTotal:", "SwapFree:", "Zswap:",
        "Zswapped:", "Dirty:", "Writeback:", "AnonPages:", "Mapped:", "Shmem:",
        "KReclaimable:", "Slab:", "SReclaimable:", "SUnreclaim:", "KernelStack:",
        "PageTables:", "SecPageTables:", "NFS_Unstable:", "Bounce:", "WritebackTmp:",
        "CommitLimit:", "Committed_AS:", "VmallocTotal:", "VmallocUsed:", "VmallocChunk:",
        "Percpu:", "AnonHugePages:", "ShmemHugePages:", "ShmemPmdMapped:", "FileHugePages:",
        "FilePmdMapped:", "Balloon:", "HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:",
        "HugePages_Surp:", "Hugepagesize:", "Hugetlb:", "DirectMap4k:", "DirectMap2M:"};
    const char *l = text;
    for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
        assert_non_null(l);
        assert_memory_equal(l, order[i], strlen(order[i]));
        l = strchr(l, '\n') + 1;
    }
    assert_int_equal(*l, '\0');
    assert_non_null(strstr(text, "VmallocTotal:   34359738367 kB\n"));
    assert_non_null(strstr(text, "HugePages_Total:       0\n"));
    free(text);
    /* MemAvailable: free - high + cache - min(cache / 2, low). */
    int fd = open_file(e, "f", 64 * PG, O_RDONLY);
    vms_addr buf = tu_anon(e->t, 64 * PG, RW);
    assert_int_equal(vms_pread(e->t, fd, buf, 64 * PG, 0), (int64_t)(64 * PG));
    struct vms_stats *s = tu_stats(e->m);
    long long cache = meminfo_pages(e->m, "Active(file)") + meminfo_pages(e->m, "Inactive(file)");
    long long low = (long long)s->watermark[1], high = (long long)s->watermark[2];
    long long free_pages = (long long)(s->frames_total - s->frames_used);
    assert_int_equal(meminfo_pages(e->m, "MemFree"), free_pages);
    assert_int_equal(meminfo_pages(e->m, "MemAvailable"),
                     free_pages - high + cache - (cache / 2 < low ? cache / 2 : low));
    assert_int_equal(meminfo_pages(e->m, "Cached"), (long long)s->cache_frames);
    assert_int_equal(meminfo_pages(e->m, "PageTables"), (long long)s->pgtable_frames);
    free(s);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_env_setup, tu_env_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_min_free_kbytes_follows_the_square_root_rule),
        T(test_anonymous_memory_stops_at_the_min_watermark),
        T(test_new_folios_start_inactive_and_read_twice_is_active),
        T(test_madv_cold_deactivates_an_active_page),
        T(test_locked_memory_is_unevictable_until_unmapped),
        T(test_reading_a_file_larger_than_ram_reclaims_clean_pages),
        T(test_dirty_pages_are_written_back_before_they_go),
        T(test_reclaim_write_back_is_traced),
        T(test_write_then_read_a_file_larger_than_ram),
        T(test_a_hot_page_survives_a_cold_stream),
        T(test_a_mapped_file_larger_than_ram_costs_the_same_twice),
        T(test_active_file_pages_age_into_the_inactive_list),
        T(test_a_file_page_read_again_soon_comes_back_active),
        T(test_a_readahead_window_larger_than_memory_stops_at_its_own_folios),
        T(test_reclaim_that_frees_nothing_ages_the_active_lists_and_tries_again),
        T(test_a_cgroup_reclaims_on_its_statistics_as_last_flushed),
        T(test_meminfo_lines_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
