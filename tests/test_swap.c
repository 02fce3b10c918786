/*
 * test_swap.c - swap: anonymous pages written to a host file the machine
 * makes (and nobody sees), swap entries in the PTEs in x86-64's layout,
 * the swap cache (a second fault on a page still there is minor),
 * swap-in readahead of up to 2^page_cluster slots sized by Linux's
 * __swapin_nr_pages, fork sharing slots, munmap freeing them, mremap
 * moving them, mincore, reclaim under pressure keeping every byte, and the
 * OOM killer once swap is full; slots in clusters, swappiness, vms_check's
 * books of slots and swap cache; reclaim's swap writes ending later (the
 * written page stays in the swap cache until then) and the swap oracle's
 * hot set beside a cold scan against the host's figures.
 */
#include "testutil.h"

#include "internal.h" /* to break the swap area's books on purpose */

#include <dirent.h>
#include <errno.h>

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define MIB (1ULL << 20)
#define PG TU_PAGE

/* A machine of ram bytes over the fixture's root with swap bytes of swap,
 * the reclaim fields these tests depend on set to Linux's defaults (page
 * cluster 3, swappiness 60, the boot-time reserve); each test changes what
 * it is about before restart(). */
static struct vms_config swap_config(const struct tu_env *e, uint64_t ram, uint64_t swap)
{
    struct vms_config c = tu_config(ram);
    c.root = e->root;
    c.swap_bytes = swap;
    c.page_cluster = 3;
    c.swappiness = 60;
    c.min_free_kbytes = UINT64_MAX;
    c.watermark_scale_factor = 10;
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

static void machine(struct tu_env *e, uint64_t ram, uint64_t swap)
{
    struct vms_config c = swap_config(e, ram, swap);
    c.zero_page = 1;
    restart(e, &c);
}

static long long meminfo_kb(vms_machine *m, const char *name)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_int_equal(vms_meminfo(m, f), 0);
    fclose(f);
    long long v = -1;
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, name, n) && l[n] == ':')
            v = strtoll(l + n + 1, NULL, 10);
    free(text);
    return v;
}

/* n pages of private memory, page i holding i * 7 + 1 in its first byte
 * and i in its last. */
static vms_addr written_pages(vms_task *t, unsigned n)
{
    vms_addr a = tu_anon(t, n * PG, RW);
    for (unsigned i = 0; i < n; i++) {
        tu_store_byte(t, a + i * PG, (uint8_t)(i * 7 + 1));
        tu_store_byte(t, a + i * PG + PG - 1, (uint8_t)i);
    }
    return a;
}

static void assert_pages(vms_task *t, vms_addr a, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(tu_load_byte(t, a + i * PG), (uint8_t)(i * 7 + 1));
        assert_int_equal(tu_load_byte(t, a + i * PG + PG - 1), (uint8_t)i);
    }
}

static struct vms_stats *stats(struct tu_env *e) { return tu_stats(e->m); }

/* After MADV_PAGEOUT the written pages stay in the swap cache (the host's
 * write is asynchronous: a touch then is a minor fault). Memory pressure
 * frees them: other memory is written until none of [a, a + n pages) is
 * resident any more (well before 18 MiB on the 16 MiB machine), then
 * unmapped. */
static int resident_pages(vms_task *t, vms_addr a, unsigned n)
{
    unsigned char vec[64];
    assert_true(n <= sizeof(vec));
    assert_int_equal(vms_mincore(t, a, n * PG, vec), 0);
    int r = 0;
    for (unsigned i = 0; i < n; i++)
        r += vec[i];
    return r;
}

static void squeeze(struct tu_env *e, vms_addr a, unsigned n)
{
    vms_addr f = tu_anon(e->t, 18 * MIB, RW);
    uint64_t off = 0;
    for (; off < 18 * MIB && resident_pages(e->t, a, n); off += 64 * PG)
        for (unsigned i = 0; i < 64; i++)
            tu_store_byte(e->t, f + off + i * PG, 1);
    assert_true(off < 18 * MIB);
    assert_int_equal(vms_munmap(e->t, f, 18 * MIB), 0);
}

static void test_the_swap_file_is_nowhere_to_be_seen(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    DIR *d = opendir(e->root);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *de; (de = readdir(d));)
        entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    assert_int_equal(entries, 0);
    assert_int_equal(meminfo_kb(e->m, "SwapTotal"), 4096);
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096);
}

/* MADV_PAGEOUT sends a page to swap: the PTE holds swap entry (type 0,
 * the slot inverted in bits 9-58, bit 7: exclusive), the page is written
 * once and read back on the next access, a major fault. */
static void test_pageout_leaves_the_page_in_the_swap_cache(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = written_pages(e->t, 1);
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_PAGEOUT), 0);
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, a, &w), 0);
    assert_false(w.present);
    assert_true(w.swap);
    assert_int_equal(w.swap_type, 0);
    /* Slot 1: the header's cluster is on Linux's nonfull list, taken
     * before a free cluster (host-measured: pagemap shows offset 1). */
    assert_int_equal(w.swap_offset, 1);
    assert_true(w.swap_exclusive);
    uint64_t want = ((~w.swap_offset << 14) >> 5) | (1ULL << 7);
    assert_int_equal(w.step[3].entry, want);
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096 - 4);
    struct vms_stats *s = stats(e);
    assert_int_equal(s->vm.pswpout, 1);
    free(s);
    /* Still in the swap cache: resident, a minor fault, nothing read
     * (host-measured: mincore 1, 16 pages back with 16 minor faults). */
    unsigned char vec = 0;
    assert_int_equal(vms_mincore(e->t, a, PG, &vec), 0);
    assert_int_equal(vec, 1);
    uint64_t maj = tu_majflt(e->t), min = tu_minflt(e->t);
    assert_pages(e->t, a, 1);
    assert_int_equal(tu_majflt(e->t), maj);
    assert_int_equal(tu_minflt(e->t), min + 1);
    /* Paged out again (clean now: no write), and pushed out by pressure:
     * the next touch reads it back, a major fault. */
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_PAGEOUT), 0);
    squeeze(e, a, 1);
    maj = tu_majflt(e->t);
    assert_pages(e->t, a, 1);
    assert_int_equal(tu_majflt(e->t), maj + 1);
    s = stats(e);
    assert_int_equal(s->vm.pswpin, 1);
    free(s);
    /* Read back, it keeps its slot (swap is far from full): a clean copy. */
    assert_int_equal(meminfo_kb(e->m, "SwapCached"), 4);
    assert_int_equal(vms_walk(e->t, a, &w), 0);
    assert_true(w.present);
    tu_assert_clean(e->m);
    /* Paged out again unchanged, it is not written again. */
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_PAGEOUT), 0);
    s = stats(e);
    assert_int_equal(s->vm.pswpout, 1);
    free(s);
    assert_pages(e->t, a, 1);
    tu_assert_clean(e->m);
}

/* 16 pages paged out in order land in slots 1-16 (host-measured); read
 * back in order, the window (__swapin_nr_pages, aligned slots) grows with
 * the hits: 1 alone (far from the last fault), 2 with 3 ahead (2 slots),
 * 4 with 5-7 ahead (1 hit: 4), 8 with 9-15 ahead (8, the most page_cluster
 * 3 allows), 16: 5 major faults, 11 minor. */
static void test_swap_in_readahead_grows_with_hits(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = written_pages(e->t, 16);
    assert_int_equal(vms_madvise(e->t, a, 16 * PG, MADV_PAGEOUT), 0);
    squeeze(e, a, 16);
    uint64_t min0 = 0, maj0 = 0, min1 = 0, maj1 = 0;
    vms_task_rusage(e->t, &min0, &maj0);
    for (unsigned i = 0; i < 16; i++)
        (void)tu_load_byte(e->t, a + i * PG);
    vms_task_rusage(e->t, &min1, &maj1);
    assert_int_equal(maj1 - maj0, 5);
    assert_int_equal(min1 - min0, 11);
    assert_pages(e->t, a, 16);
    tu_assert_clean(e->m);
}

static void test_page_cluster_0_reads_one_page_a_fault(void **state)
{
    struct tu_env *e = *state;
    struct vms_config c = swap_config(e, 16 * MIB, 4 * MIB);
    c.page_cluster = 0;
    restart(e, &c);
    vms_addr a = written_pages(e->t, 8);
    assert_int_equal(vms_madvise(e->t, a, 8 * PG, MADV_PAGEOUT), 0);
    squeeze(e, a, 8);
    uint64_t maj0 = tu_majflt(e->t);
    assert_pages(e->t, a, 8);
    assert_int_equal(tu_majflt(e->t) - maj0, 8);
    tu_assert_clean(e->m);
}

/* fork shares the slot: the first to fault reads it (major), the other
 * finds it in the swap cache (minor); a write then copies the page. */
static void test_fork_shares_swapped_pages(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = written_pages(e->t, 1);
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_PAGEOUT), 0);
    squeeze(e, a, 1);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, a, &w), 0);
    assert_true(w.swap);
    assert_false(w.swap_exclusive); /* shared now */
    tu_assert_clean(e->m);
    uint64_t cmaj = tu_majflt(child), pmaj = tu_majflt(e->t);
    assert_pages(child, a, 1);
    assert_int_equal(tu_majflt(child), cmaj + 1);
    assert_pages(e->t, a, 1);
    assert_int_equal(tu_majflt(e->t), pmaj);
    tu_store_byte(child, a, 0x55);
    assert_int_equal(tu_load_byte(child, a), 0x55);
    assert_int_equal(tu_load_byte(e->t, a), 1);
    tu_assert_clean(e->m);
    vms_exit(child);
    tu_assert_clean(e->m);
}

static void test_munmap_frees_slots_and_mremap_moves_them(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = written_pages(e->t, 8);
    assert_int_equal(vms_madvise(e->t, a, 8 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096 - 32);
    int64_t b = vms_mremap(e->t, a, 8 * PG, 16 * PG, MREMAP_MAYMOVE, 0);
    assert_true(b > 0);
    tu_assert_clean(e->m);
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, (vms_addr)b + 3 * PG, &w), 0);
    assert_true(w.swap);
    assert_pages(e->t, (vms_addr)b, 4);
    assert_int_equal(vms_munmap(e->t, (vms_addr)b, 16 * PG), 0);
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096);
    assert_int_equal(meminfo_kb(e->m, "SwapCached"), 0);
    tu_assert_clean(e->m);
}

/* mincore: a swapped-out page is resident while the swap cache holds it. */
static void test_mincore_of_swapped_pages(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = written_pages(e->t, 4);
    assert_int_equal(vms_madvise(e->t, a, 4 * PG, MADV_PAGEOUT), 0);
    unsigned char vec[4];
    /* Host-measured: 1111 right after MADV_PAGEOUT (the swap cache). */
    assert_int_equal(vms_mincore(e->t, a, 4 * PG, vec), 0);
    assert_memory_equal(vec, "\1\1\1\1", 4);
    squeeze(e, a, 4);
    assert_int_equal(vms_mincore(e->t, a, 4 * PG, vec), 0);
    assert_memory_equal(vec, "\0\0\0\0", 4);
    /* Slots 1-4: the second fault reads slot 3 ahead into the swap cache. */
    for (int i = 0; i < 2; i++)
        (void)tu_load_byte(e->t, a + (uint64_t)i * PG);
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, a + 2 * PG, &w), 0);
    assert_true(w.swap);
    assert_int_equal(vms_mincore(e->t, a, 4 * PG, vec), 0);
    assert_memory_equal(vec, "\1\1\1\0", 4);
    tu_assert_clean(e->m);
}

/* Workingset detection (Linux's mm/workingset.c): a page reclaim freed
 * leaves a shadow in its slot; read back, it is a refault, and it comes
 * back active when the pages taken in since it left fit in the memory it
 * competes for (for an anonymous page: the file lists and the active
 * anonymous list). */
static struct vms_stats *refault_one(struct tu_env *e, vms_addr x)
{
    tu_store_byte(e->t, x, 0x77);
    assert_int_equal(vms_madvise(e->t, x, PG, MADV_PAGEOUT), 0);
    squeeze(e, x, 1);
    struct vms_stats *before = stats(e);
    assert_int_equal(tu_load_byte(e->t, x), 0x77);
    struct vms_stats *after = stats(e);
    vms_stats_diff(after, before, after);
    free(before);
    return after;
}

static void test_refault_comes_back_active_within_the_workingset(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    /* Nothing competes: no file pages, no active anonymous ones. */
    vms_addr x = tu_anon(e->t, PG, RW);
    struct vms_stats *d = refault_one(e, x);
    assert_int_equal(d->vm.workingset_refault_anon, 1);
    assert_int_equal(d->vm.workingset_activate_anon, 0);
    free(d);
    assert_int_equal(meminfo_kb(e->m, "Active(anon)"), 0);
    /* 4 MiB of a file read twice with read(): active file pages, the
     * workingset an anonymous refault is measured against. */
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "ws.dat"), 4 * MIB);
    int fd = vms_open(e->t, "ws.dat", O_RDONLY, 0);
    assert_true(fd >= 0);
    vms_addr buf = tu_anon(e->t, 4 * MIB, RW);
    for (int pass = 0; pass < 2; pass++)
        assert_int_equal(vms_pread(e->t, fd, buf, 4 * MIB, 0), (int64_t)(4 * MIB));
    assert_int_equal(vms_munmap(e->t, buf, 4 * MIB), 0);
    assert_true(meminfo_kb(e->m, "Active(file)") > 2048);
    vms_addr y = tu_anon(e->t, PG, RW);
    d = refault_one(e, y);
    assert_int_equal(d->vm.workingset_refault_anon, 1);
    assert_int_equal(d->vm.workingset_activate_anon, 1);
    free(d);
    assert_int_equal(meminfo_kb(e->m, "Active(anon)"), 4);
    tu_assert_clean(e->m);
}

/* Shared anonymous memory swaps too: the object keeps the slot, the next
 * fault reads the page back (major) and frees it. */
static void test_shmem_pages_swap_out_and_back(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = tu_mmap(e->t, 0, 8 * PG, RW, MAP_SHARED | MAP_ANONYMOUS);
    for (unsigned i = 0; i < 8; i++)
        tu_store_byte(e->t, a + i * PG, (uint8_t)(i + 9));
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    for (unsigned i = 0; i < 8; i++) /* fork copied no PTEs of shared memory */
        assert_int_equal(tu_load_byte(child, a + i * PG), (uint8_t)(i + 9));
    assert_int_equal(meminfo_kb(e->m, "Shmem"), 32);
    /* Mapped by two processes: PAGEOUT of one mapping leaves them. */
    assert_int_equal(vms_madvise(e->t, a, 8 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(meminfo_kb(e->m, "Shmem"), 32);
    vms_exit(child);
    assert_int_equal(vms_madvise(e->t, a, 8 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(meminfo_kb(e->m, "Shmem"), 0);
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096 - 32);
    tu_assert_clean(e->m);
    uint64_t maj = tu_majflt(e->t);
    assert_int_equal(tu_load_byte(e->t, a + 5 * PG), 14);
    assert_true(tu_majflt(e->t) == maj + 1);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(tu_load_byte(e->t, a + i * PG), (uint8_t)(i + 9));
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096);
    assert_int_equal(meminfo_kb(e->m, "Shmem"), 32);
    tu_assert_clean(e->m);
    assert_int_equal(vms_madvise(e->t, a, 8 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(vms_munmap(e->t, a, 8 * PG), 0); /* the object dies: its slots go */
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 4096);
    tu_assert_clean(e->m);
}

/* Twice the RAM of private memory, written and read back twice: reclaim
 * swaps pages out and in and every byte survives. */
static void test_anonymous_memory_larger_than_ram(void **state)
{
    struct tu_env *e = *state;
    machine(e, 4 * MIB, 8 * MIB);
    unsigned n = 2 * 4 * MIB / PG;
    vms_addr a = written_pages(e->t, n);
    tu_assert_clean(e->m);
    assert_pages(e->t, a, n);
    assert_pages(e->t, a, n);
    struct vms_stats *s = stats(e);
    assert_true(s->vm.pswpout > n / 2);
    assert_true(s->vm.pswpin > n / 2);
    assert_true(s->vm.pgsteal_anon > 0);
    assert_true(s->major_faults > 0);
    free(s);
    assert_false(vms_task_killed(e->t));
    tu_assert_clean(e->m);
}

/* The machine vmsim-swapcheck compares with a 16 MiB memory cgroup: no
 * reserve, a cgroup's balance of the lists, 96 MiB of swap file (its
 * header page included), no zero page (as on the host measured). */
static void cgroup_machine(struct tu_env *e, uint64_t ram)
{
    struct vms_config c = swap_config(e, ram, 96 * MIB - PG);
    c.min_free_kbytes = 0;
    c.watermark_scale_factor = 1;
    c.cgroup_reclaim = 1;
    c.zero_page = 0;
    restart(e, &c);
}

/* Does a value lie within 10 % (or 16 pages) of the host's, as the swap
 * oracle asks? */
static int near_host(uint64_t v, uint64_t host)
{
    uint64_t d = v > host ? v - host : host - v, big = v > host ? v : host;
    return d * 10 <= big || d <= 16;
}

/* A 4 MiB hot set read after every 1 MiB of a 32 MiB cold scan, in 16
 * MiB. Host-measured (Linux 6.18, 16 MiB memory cgroup v1, swap file,
 * page-cluster 3, THP off; eleven runs): the scan costs 9,256 - 9,300
 * minor faults (median 9,288), 26 - 47 major (32), 151 - 282 pswpin,
 * 7,094 - 7,120 pswpout (7,118); the hot set is pushed out once, comes
 * back mostly from the swap cache and is activated when reclaim comes
 * round again (936 - 974 pages); reading it after the scan costs no
 * fault. */
static void test_a_hot_set_beside_a_cold_scan_stays(void **state)
{
    struct tu_env *e = *state;
    cgroup_machine(e, 16 * MIB);
    const uint64_t hot_n = 1024, cold_n = 8192;
    vms_addr hot = tu_anon(e->t, hot_n * PG, RW), cold = tu_anon(e->t, cold_n * PG, RW);
    for (uint64_t i = 0; i < hot_n; i++)
        tu_store_byte(e->t, hot + i * PG, (uint8_t)i);
    uint64_t min0, maj0, min1, maj1;
    struct vms_stats *s0 = stats(e);
    vms_task_rusage(e->t, &min0, &maj0);
    for (uint64_t c = 0; c < cold_n; c += 256) {
        for (uint64_t i = c; i < c + 256; i++)
            tu_store_byte(e->t, cold + i * PG, 1);
        for (uint64_t i = 0; i < hot_n; i++)
            assert_int_equal(tu_load_byte(e->t, hot + i * PG), (uint8_t)i);
    }
    vms_task_rusage(e->t, &min1, &maj1);
    struct vms_stats *s1 = stats(e);
    /* Within the oracle's 10 % (or 16 pages) of the host's median, and
     * pswpin within the host's range. */
    assert_true(near_host(min1 - min0, 9288));
    assert_true(near_host(maj1 - maj0, 32));
    assert_in_range(s1->vm.pswpin - s0->vm.pswpin, 151, 282);
    assert_true(near_host(s1->vm.pswpout - s0->vm.pswpout, 7118));
    assert_true(s1->vm.pgactivate - s0->vm.pgactivate >= 936);
    for (uint64_t i = 0; i < hot_n; i++)
        assert_int_equal(tu_load_byte(e->t, hot + i * PG), (uint8_t)i);
    vms_task_rusage(e->t, &min0, &maj0);
    assert_int_equal(min0 - min1, 0);
    assert_int_equal(maj0 - maj1, 0);
    free(s0);
    free(s1);
    tu_assert_clean(e->m);
}

/* vmsim-swapcheck's file_beside_anon patterns on the host's settings
 * (fault-around 64 KiB, readahead 8 MiB, large folios), reclaim on the
 * cgroup's statistics as last flushed: a 12 MiB mapping of a 32 MiB file
 * read, then 6 MiB of anonymous memory written, six passes in the 16 MiB
 * cgroup, the statistics flushed every flush_every pages and where the
 * oracle reads memory.stat (each pass's start and end); pswpout of each
 * pass into out[]. */
static void file_beside_anon(struct tu_env *e, uint64_t flush_every, uint64_t out[6])
{
    struct vms_config c = swap_config(e, 16 * MIB, 96 * MIB - PG);
    c.min_free_kbytes = 0;
    c.watermark_scale_factor = 1;
    c.cgroup_reclaim = 1;
    c.cgroup_flushed_stats = 1;
    c.zero_page = 0;
    c.fault_around_bytes = 65536;
    tu_measuring_host_disk(&c);
    c.large_folios = 1;
    restart(e, &c);
    char path[512];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "fba"), 32 * MIB);
    int fd = vms_open(e->t, "fba", O_RDONLY, 0);
    assert_true(fd >= 0);
    const uint64_t file_n = 3072, anon_n = 1536;
    int64_t mapped = vms_mmap(e->t, 0, file_n * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(mapped >= 0);
    vms_addr file = (vms_addr)mapped;
    vms_addr anon = tu_anon(e->t, anon_n * PG, RW);
    for (unsigned pass = 0; pass < 6; pass++) {
        vms_cgroup_flush_stats(e->m);
        struct vms_stats *s0 = stats(e);
        for (uint64_t i = 0; i < file_n; i++) {
            assert_int_equal(tu_load_byte(e->t, file + i * PG), tu_pattern(i * PG));
            if ((i + 1) % flush_every == 0)
                vms_cgroup_flush_stats(e->m);
        }
        for (uint64_t i = 0; i < anon_n; i++) {
            tu_store_byte(e->t, anon + i * PG, (uint8_t)(i + pass));
            if ((i + 1) % flush_every == 0)
                vms_cgroup_flush_stats(e->m);
        }
        struct vms_stats *s1 = stats(e);
        out[pass] = s1->vm.pswpout - s0->vm.pswpout;
        free(s0);
        free(s1);
    }
    for (uint64_t i = 0; i < anon_n; i++)
        assert_int_equal(tu_load_byte(e->t, anon + i * PG), (uint8_t)(i + 5));
    vms_close(e->t, fd);
}

/* A mapped file read beside anonymous memory in a memory cgroup, its
 * statistics read every 64 pages: anonymous memory goes to swap from the
 * second pass on. Host-measured (Linux 6.18, 16 MiB memory cgroup v1,
 * swap file, swappiness 60, page-cluster 3, THP off; nine clean runs):
 * pswpout 0 in the first pass, then medians 749, 779, 921, 847 and 1,032
 * a pass, each pass of each run 158 - 1,544 (fifteen runs' medians sum to
 * 4,777). Its reclaims run inside readahead windows, where no statistics
 * are read: it swaps on lists as they were. vmsim: 537, 1,536, 706, 200
 * and 993 (3,972); with statistics always current, 587, 822, 343, 849 and
 * 347 (2,948); with kswapd, 267 in all. */
static void test_a_mapped_file_beside_anonymous_memory_swaps_from_the_second_pass(void **state)
{
    struct tu_env *e = *state;
    uint64_t out[6];
    file_beside_anon(e, 64, out);
    assert_true(out[0] <= 16);
    uint64_t sum = 0;
    for (int pass = 1; pass < 6; pass++) {
        assert_in_range(out[pass], 158, 1544); /* the host's range */
        sum += out[pass];
    }
    assert_in_range(sum, 4777 * 8 / 10, 4777 * 12 / 10);
    tu_assert_clean(e->m);
}

/* The same with the statistics read only every 1,536 pages (three times a
 * pass) and at its start and end: in the second pass the refaulted file
 * pages fill the active list, which the statistics, read before them, do
 * not say to age; the inactive list runs dry, reclaim falls to the lowest
 * priority and the whole anonymous area goes to swap. Host-measured
 * (fifteen runs): 1,544 pages in the second pass (1,138 - 1,555), then
 * medians 1,085, 990, 773 and 1,073 (all five sum to 5,475). vmsim: 1,536,
 * then 743, 951, 1,536 and 1,152 (5,918); with statistics always current it
 * swapped 587 in the second pass. */
static void test_a_cgroup_that_reads_its_statistics_seldom_swaps_everything_at_once(void **state)
{
    struct tu_env *e = *state;
    uint64_t out[6];
    file_beside_anon(e, 1536, out);
    assert_true(out[0] <= 16);
    assert_in_range(out[1], 1138, 1555);
    uint64_t sum = 0;
    for (int pass = 1; pass < 6; pass++)
        sum += out[pass];
    assert_in_range(sum, 5475 * 8 / 10, 5475 * 12 / 10);
    tu_assert_clean(e->m);
}

/* The first reclaim finds every page young: it marks them referenced,
 * writes the ones it meets again (host-measured: 706 - 712 pages in one
 * reclaim, in a 16 MiB cgroup, whether the memory is a hot set and a scan
 * or a plain sequential touch) and frees nothing of them until their
 * writes have ended; then each moves to the inactive tail (pgrotated) and
 * the following faults free them without writing more (host: the next two
 * MiB of the touch wrote nothing). Until freed, a written page is in the
 * swap cache: its PTE holds the swap entry, mincore says resident, and a
 * touch is a minor fault (host: 982 of the hot set's 1,024 pages resident
 * with 706 swap entries, read back with 1,004 - 1,015 minor faults). */
static void test_reclaim_writes_in_a_burst_and_frees_later(void **state)
{
    struct tu_env *e = *state;
    cgroup_machine(e, 16 * MIB);
    const uint64_t n = 8192;
    vms_addr a = tu_anon(e->t, n * PG, RW);
    uint64_t i = 0, out = 0;
    struct vms_stats *s = NULL;
    for (; i < n && !out; i++) {
        tu_store_byte(e->t, a + i * PG, (uint8_t)i);
        free(s);
        s = stats(e);
        out = s->vm.pswpout;
    }
    assert_true(out >= 650 && out <= 780); /* the first burst: host 706 - 712 */
    assert_int_equal(s->vm.pgrotated, out); /* every write ended, every page rotated */
    assert_true((uint64_t)meminfo_kb(e->m, "SwapCached") * 1024 >= (out - 64) * PG);
    /* The first page is written, still in the swap cache. */
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, a, &w), 0);
    assert_true(w.swap);
    unsigned char vec[1];
    assert_int_equal(vms_mincore(e->t, a, PG, vec), 0);
    assert_int_equal(vec[0] & 1, 1);
    uint64_t maj0 = tu_majflt(e->t);
    assert_int_equal(tu_load_byte(e->t, a), 0);
    assert_int_equal(tu_majflt(e->t) - maj0, 0);
    /* The next 2 MiB take their frames from the written pages. */
    for (uint64_t j = i; j < i + 512; j++)
        tu_store_byte(e->t, a + j * PG, (uint8_t)j);
    free(s);
    s = stats(e);
    assert_int_equal(s->vm.pswpout, out);
    free(s);
    tu_assert_clean(e->m);
}

struct hot_entries {
    uint64_t lo, hi; /* virtual page numbers */
    int found;
};

static int count_hot_entry(void *arg, const struct vms_tlb_entry *te)
{
    struct hot_entries *h = arg;
    h->found += te->vpn >= h->lo && te->vpn < h->hi;
    return 0;
}

/* A reclaim batch that unmapped pages of an mm flushes all of that mm's
 * TLB entries (Linux's batched flush is a full one): the pages still in
 * use are walked again, so their Accessed bits are set again for the next
 * scan to see. The pages that stay mapped here are locked ones (MAP_LOCKED:
 * reclaim never unmaps them). */
static void test_reclaim_unmaps_flush_the_whole_tlb(void **state)
{
    struct tu_env *e = *state;
    cgroup_machine(e, 4 * MIB);
    int64_t locked = vms_mmap(e->t, 0, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    assert_true(locked > 0);
    vms_addr hot = (vms_addr)locked, cold = tu_anon(e->t, 2048 * PG, RW);
    uint64_t stolen = 0;
    for (unsigned i = 0; i < 2048 && !stolen; i++) {
        for (unsigned k = 0; k < 4; k++)
            tu_store_byte(e->t, hot + k * PG, 1);
        tu_store_byte(e->t, cold + i * PG, 1);
        struct vms_stats *s = stats(e);
        stolen = s->vm.pgsteal_direct + s->vm.pgsteal_kswapd;
        free(s);
    }
    assert_true(stolen > 0);
    struct hot_entries h = {hot >> 12, (hot >> 12) + 4, 0};
    assert_int_equal(vms_tlb_visit(e->m, 0, count_hot_entry, &h), 0);
    assert_int_equal(h.found, 0);
    tu_assert_clean(e->m);
}

/* A whole machine (not a cgroup) with no reserve (min_free_kbytes 0, the
 * watermarks all 0) running out: kswapd wakes when nothing is free, finds
 * every page young the first time and writes the ones it meets twice,
 * freeing nothing yet (their writes end when it returns); the allocation
 * then reclaims itself (direct reclaim: allocstall, pgscan_direct) and
 * frees the written pages; later kswapd runs free pages on their own.
 * Every byte comes back. */
static void test_kswapd_then_direct_reclaim(void **state)
{
    struct tu_env *e = *state;
    struct vms_config c = swap_config(e, 4 * MIB, 8 * MIB);
    c.min_free_kbytes = 0;
    c.watermark_scale_factor = 1;
    restart(e, &c);
    unsigned n = 2 * 4 * MIB / PG;
    vms_addr a = written_pages(e->t, n);
    struct vms_stats *s = stats(e);
    assert_true(s->vm.pageoutrun > 1);
    assert_true(s->vm.pgscan_kswapd > 0);
    assert_true(s->vm.pgsteal_kswapd > 0);
    assert_true(s->vm.allocstall > 0);
    assert_true(s->vm.pgscan_direct > 0);
    assert_true(s->vm.pgsteal_direct > 0);
    assert_int_equal(s->vm.pgsteal_anon, s->vm.pgsteal_kswapd + s->vm.pgsteal_direct);
    /* Each written page rotated as its write ended, but one met again
     * while in flight (reclaim waited for it, and it was off its list). */
    assert_true(s->vm.pgrotated > s->vm.pswpout / 2 && s->vm.pgrotated <= s->vm.pswpout);
    free(s);
    assert_pages(e->t, a, n);
    assert_false(vms_task_killed(e->t));
    tu_assert_clean(e->m);
}

static uint64_t slot_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_true(w.swap);
    return w.swap_offset;
}

/* Slots are handed out in clusters of 512 (src/swapfile.c): one after the
 * other in the current cluster (the first in the header's cluster, slot 1:
 * host-measured), then, that cluster full, the first one with room (slots
 * freed in the header's cluster), before a free cluster. */
static void test_swap_slots_come_in_clusters(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    const unsigned n = 1030;
    vms_addr a = written_pages(e->t, n);
    assert_int_equal(vms_madvise(e->t, a, 600 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(slot_of(e->t, a), 1);
    assert_int_equal(slot_of(e->t, a + 510 * PG), 511);
    assert_int_equal(slot_of(e->t, a + 511 * PG), 512); /* the next cluster */
    assert_int_equal(slot_of(e->t, a + 599 * PG), 600);
    assert_int_equal(vms_munmap(e->t, a + 10 * PG, 10 * PG), 0); /* slots 11-20 free */
    assert_int_equal(vms_madvise(e->t, a + 600 * PG, 5 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(slot_of(e->t, a + 600 * PG), 601); /* the current cluster goes on */
    assert_int_equal(vms_madvise(e->t, a + 605 * PG, 418 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(slot_of(e->t, a + 1022 * PG), 1023); /* its last slot */
    assert_int_equal(vms_madvise(e->t, a + 1023 * PG, 7 * PG, MADV_PAGEOUT), 0);
    assert_int_equal(slot_of(e->t, a + 1023 * PG), 11); /* then the room left in cluster 0 */
    assert_int_equal(slot_of(e->t, a + 1029 * PG), 17);
    assert_pages(e->t, a, 10);
    tu_assert_clean(e->m);
}

/* swappiness weighs anonymous against file pages (get_scan_count): with a
 * warm file active and a stream of reads after it, 0 keeps anonymous
 * memory in RAM; the higher, the more of it goes to swap for the same
 * reads (200: anonymous pages only, as long as there is swap). */
static uint64_t pswpout_at_swappiness(struct tu_env *e, unsigned swappiness)
{
    struct vms_config c = swap_config(e, 8 * MIB, 16 * MIB);
    c.swappiness = swappiness;
    c.large_folios = 0;
    restart(e, &c);
    vms_addr a = written_pages(e->t, 256);
    char path[512];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "warm"), 4 * MIB);
    tu_host_fill(tu_join(path, sizeof(path), e->root, "stream"), 12 * MIB);
    int warm = vms_open(e->t, "warm", O_RDONLY, 0), stream = vms_open(e->t, "stream", O_RDONLY, 0);
    assert_true(warm >= 0 && stream >= 0);
    vms_addr buf = tu_anon(e->t, 16 * PG, RW);
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t off = 0; off < 4 * MIB; off += 16 * PG)
            assert_int_equal(vms_pread(e->t, warm, buf, 16 * PG, (int64_t)off), (int64_t)(16 * PG));
    for (uint64_t off = 0; off < 12 * MIB; off += 16 * PG)
        assert_int_equal(vms_pread(e->t, stream, buf, 16 * PG, (int64_t)off), (int64_t)(16 * PG));
    assert_pages(e->t, a, 256);
    struct vms_stats *s = stats(e);
    uint64_t out = s->vm.pswpout;
    free(s);
    tu_assert_clean(e->m);
    return out;
}

static void test_swappiness_weighs_anon_against_file(void **state)
{
    struct tu_env *e = *state;
    uint64_t none = pswpout_at_swappiness(e, 0), some = pswpout_at_swappiness(e, 60),
             most = pswpout_at_swappiness(e, 200);
    print_message("pswpout at swappiness 0, 60, 200: %llu %llu %llu\n", (unsigned long long)none,
                  (unsigned long long)some, (unsigned long long)most);
    assert_int_equal(none, 0);
    assert_true(most > 0);
    assert_true(some < most);
}

/* vms_check's report after a deliberate break: it must fail and say what. */
static void assert_check_says(vms_machine *m, const char *what)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    assert_int_not_equal(vms_check(m, f), 0);
    fclose(f);
    assert_non_null(strstr(text, what));
    free(text);
}

/* vms_check counts every slot's references against the swap entries in
 * the page tables, and the swap cache against the slots' flags. */
static void test_vms_check_verifies_slots_and_the_swap_cache(void **state)
{
    struct tu_env *e = *state;
    machine(e, 16 * MIB, 4 * MIB);
    vms_addr a = written_pages(e->t, 2);
    assert_int_equal(vms_madvise(e->t, a, 2 * PG, MADV_PAGEOUT), 0);
    tu_assert_clean(e->m);
    struct swap_info *si = &e->m->swap;
    si->map[1]++; /* one reference more than the PTEs hold */
    assert_check_says(e->m, "swap slot 1: count 2, 1 swap entries name it");
    si->map[1]--;
    si->map[2] &= (uint16_t)~SWAP_HAS_CACHE; /* the cache holds it, the flag says not */
    assert_check_says(e->m, "swap slot 2: cache flag and swap cache disagree");
    si->map[2] |= SWAP_HAS_CACHE;
    si->nr_cache++;
    assert_check_says(e->m, "2 pages in the swap cache, counted 3");
    si->nr_cache--;
    si->inuse++;
    assert_check_says(e->m, "2 swap slots in use, counted 3");
    si->inuse--;
    tu_assert_clean(e->m);
}

/* ---- reclaim in the event stream ---- */

struct reclaim_log {
    size_t begins[2], ends[2]; /* by detail: [0] direct, [1] kswapd */
    int open;                  /* a pass has begun and not ended */
    uint64_t scanned, reclaimed;
    unsigned lists;
    size_t swap_out, swap_in, readahead, refaults, outside;
    struct vms_event first_out;
    int bad; /* an event out of place or with a field wrong */
};

static void log_reclaim(void *arg, const struct vms_event *ev)
{
    struct reclaim_log *l = arg;
    int kswapd = ev->detail && strcmp(ev->detail, "kswapd") == 0;
    switch (ev->kind) {
    case VMS_EV_RECLAIM_BEGIN:
        l->bad |= l->open || !ev->detail || (!kswapd && strcmp(ev->detail, "direct") != 0);
        l->open = 1;
        l->begins[kswapd]++;
        break;
    case VMS_EV_RECLAIM_END:
        l->bad |= !l->open || ev->b > ev->a || ev->level < 0 || ev->level > 12 || ev->index > 15;
        l->open = 0;
        l->ends[kswapd]++;
        l->scanned += ev->a;
        l->reclaimed += ev->b;
        l->lists |= ev->index;
        break;
    case VMS_EV_SWAP_OUT:
        if (!l->swap_out++)
            l->first_out = *ev;
        l->outside += !l->open;
        l->bad |= !ev->b || strcmp(ev->detail, "anon") != 0;
        break;
    case VMS_EV_SWAP_IN:
        l->swap_in++;
        l->readahead += strcmp(ev->detail, "readahead") == 0;
        l->bad |= !ev->b || (strcmp(ev->detail, "readahead") && strcmp(ev->detail, "fault"));
        break;
    case VMS_EV_REFAULT:
        l->refaults++;
        l->bad |= !ev->detail;
        break;
    default:
        break;
    }
}

/* Twice the RAM written and read back: every pass of kswapd and of direct
 * reclaim is a begin and an end whose sums are the vmstat counters, every
 * page written to or read from swap one event, every refault one. */
static void test_reclaim_raises_its_events(void **state)
{
    struct tu_env *e = *state;
    struct reclaim_log *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    struct vms_config c = swap_config(e, 4 * MIB, 8 * MIB);
    c.trace = log_reclaim;
    c.trace_arg = l;
    restart(e, &c);
    unsigned n = 2 * 4 * MIB / PG;
    vms_addr a = written_pages(e->t, n);
    /* Page 0 was the oldest: the first to go, to slot 1 (0 is the header). */
    struct vms_walk w;
    assert_int_equal(vms_walk(e->t, a, &w), 0);
    assert_true(w.swap);
    assert_int_equal(l->first_out.b, w.swap_offset);
    assert_int_equal(l->first_out.b, 1);
    assert_int_equal(l->first_out.a, a);
    /* The entry as the PTE holds it, but for the PTE's own exclusive bit (7). */
    assert_int_equal(l->first_out.entry, w.step[w.levels - 1].entry & ~(1ULL << 7));
    assert_pages(e->t, a, n);
    assert_pages(e->t, a, n);
    struct vms_stats *s = stats(e);
    assert_false(l->bad);
    assert_false(l->open);
    assert_int_equal(l->outside, 0); /* only reclaim swapped here */
    assert_int_equal(l->begins[1], s->vm.pageoutrun);
    assert_int_equal(l->ends[1], s->vm.pageoutrun);
    assert_int_equal(l->begins[0], s->vm.allocstall);
    assert_int_equal(l->ends[0], s->vm.allocstall);
    assert_true(l->begins[1] > 0);
    assert_int_equal(l->scanned, s->vm.pgscan_kswapd + s->vm.pgscan_direct);
    assert_int_equal(l->reclaimed, s->vm.pgsteal_kswapd + s->vm.pgsteal_direct);
    assert_true(l->lists & 1); /* the inactive anonymous list */
    assert_int_equal(l->swap_out, s->vm.pswpout);
    assert_int_equal(l->swap_in, s->vm.pswpin);
    assert_true(l->readahead > 0 && l->readahead < l->swap_in);
    assert_int_equal(l->refaults, s->vm.workingset_refault_anon);
    assert_true(l->refaults > 0);
    assert_int_equal(s->swap_used, (uint64_t)(meminfo_kb(e->m, "SwapTotal") -
                                              meminfo_kb(e->m, "SwapFree")) / 4);
    free(s);
    tu_assert_clean(e->m);
    vms_machine_destroy(e->m);
    e->m = NULL;
    free(l);
}

/* Once RAM and swap are full, the OOM killer: its badness counts the
 * swap entries too. */
static void test_full_swap_ends_in_the_oom_killer(void **state)
{
    struct tu_env *e = *state;
    machine(e, 2 * MIB, 1 * MIB);
    vms_task *t = tu_spawn(e->m);
    vms_addr a = tu_anon(t, 3 * MIB, RW);
    unsigned i = 0;
    for (; i < 3 * MIB / PG; i++) {
        uint8_t v = 1;
        if (vms_store(t, a + i * PG, &v, 1))
            break;
    }
    assert_true(i < 3 * MIB / PG);
    assert_true(i > 1 * MIB / PG); /* it did use the swap */
    assert_true(vms_task_killed(t));
    assert_int_equal(meminfo_kb(e->m, "SwapFree"), 1024);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_env_setup, tu_env_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_the_swap_file_is_nowhere_to_be_seen),
        T(test_pageout_leaves_the_page_in_the_swap_cache),
        T(test_swap_in_readahead_grows_with_hits),
        T(test_page_cluster_0_reads_one_page_a_fault),
        T(test_fork_shares_swapped_pages),
        T(test_munmap_frees_slots_and_mremap_moves_them),
        T(test_mincore_of_swapped_pages),
        T(test_refault_comes_back_active_within_the_workingset),
        T(test_shmem_pages_swap_out_and_back),
        T(test_anonymous_memory_larger_than_ram),
        T(test_swap_slots_come_in_clusters),
        T(test_vms_check_verifies_slots_and_the_swap_cache),
        T(test_swappiness_weighs_anon_against_file),
        T(test_kswapd_then_direct_reclaim),
        T(test_a_hot_set_beside_a_cold_scan_stays),
        T(test_a_mapped_file_beside_anonymous_memory_swaps_from_the_second_pass),
        T(test_a_cgroup_that_reads_its_statistics_seldom_swaps_everything_at_once),
        T(test_reclaim_writes_in_a_burst_and_frees_later),
        T(test_reclaim_unmaps_flush_the_whole_tlb),
        T(test_reclaim_raises_its_events),
        T(test_full_swap_ends_in_the_oom_killer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
