/*
 * vmsim-bench: the same memory-management work run on vmsim and on the host
 * kernel in one process, reported as nanoseconds per operation and the ratio
 * vmsim/host. Covers first-touch anonymous faults, mmap+munmap pairs,
 * unmapping many separate VMAs, TLB-hit loads, TLB-miss loads, faults on
 * mappings of a file held in the page cache (read, shared write, private
 * copy-on-write), streaming a cached file with read() against mmap, fork of
 * a process with 256 MiB of written private memory, the child's
 * copy-on-write faults over that memory, a store from a Lua script
 * (bench_lua.c), and the read back of pages from swap (swap_in_fault: the
 * host side in a memory cgroup with a swap file, swapcheck/host_swap.c).
 *
 * Files live in a scratch folder made with mkdtemp and removed at the end;
 * each side gets its own file of the same size, and vmsim's machine has that
 * folder as its root.
 *
 * Every measurement is repeated, alternating vmsim and host, and the fastest
 * run kept: the minimum is the run least disturbed by the rest of the machine.
 * Memory is touched (or a whole round run) untimed first on both sides, so
 * that neither pays for the host backing fresh memory for the first time.
 */
#include "bench_lua.h"
#include "host_swap.h"
#include "replay.h"
#include "vmsim.h"
#include "timing.h"
#include "vmt.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define PAGE 4096ULL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define MANY_WANTED 100000u /* VMAs munmap_many would like to unmap */
#define MANY_FALLBACK 60000u /* what fits under the host's default vm.max_map_count */
#define PRNG_SEED 0x5eed0fbe9c4ULL

/* How much work each benchmark does; --quick shrinks it for a smoke run. */
struct sizes {
    uint64_t fault_bytes;   /* anon_fault: region touched once per page */
    unsigned pairs;         /* mmap_munmap: 4 KiB map+unmap pairs per run */
    unsigned many;          /* munmap_many: VMAs per run (settled by probing the host) */
    uint64_t hit_loads;     /* tlb_hit_load: loads per run */
    int hit_reps;           /* tlb_hit_load: many short runs, so one finds a quiet moment */
    uint64_t miss_bytes;    /* tlb_miss_load: touched region loaded at random */
    uint64_t miss_loads;    /* tlb_miss_load: loads per run */
    uint64_t miss_phys;     /* tlb_miss_load: vmsim's RAM */
    uint64_t file_bytes;    /* file_*_fault: size of the mapped cached file */
    uint64_t stream_bytes;  /* read_vs_mmap: size of the streamed cached file */
    uint64_t fork_bytes;    /* fork_256m, cow_fault: written private memory of the parent */
    uint64_t lua_stores;    /* lua_store: stores per run */
    uint64_t trace_len;     /* trace_replay: accesses in the synthetic trace */
    int reps;               /* timed runs per measurement; the minimum is kept */
};

struct options {
    const char *json_path;
    const char *only; /* run just this benchmark (for profiling); NULL: all */
    int quick;
};

enum target_kind { TARGET_NONE, TARGET_RATIO, TARGET_VMSIM_NS };

struct result {
    const char *name;
    double vmsim_ns, host_ns; /* per operation */
    enum target_kind target;
    double limit;
    char work[24]; /* how much work one run did, for the table */
};

#define NBENCH 16

/* Everything the run produces, passed along instead of kept in globals. */
struct report {
    struct result r[NBENCH];
    int n;
    char notes[16][200];
    int nnotes;
};

/* ---- small helpers ---- */

static void die(const char *what, int err)
{
    fprintf(stderr, "vmsim-bench: %s: %s\n", what, strerror(err));
    exit(1);
}

/* A simulated access that should have succeeded raised a signal. */
static void die_signal(const char *what, int sig)
{
    fprintf(stderr, "vmsim-bench: %s raised signal %d\n", what, sig);
    exit(1);
}

static double min_d(double a, double b) { return a < b ? a : b; }

static void add_note(struct report *rep, const char *text)
{
    if (rep->nnotes < (int)(sizeof(rep->notes) / sizeof(rep->notes[0])))
        snprintf(rep->notes[rep->nnotes++], sizeof(rep->notes[0]), "%s", text);
}

/* A result not yet measured: its times start above any run's, for min_d(). */
static struct result new_result(const char *name, enum target_kind target, double limit)
{
    return (struct result){.name = name, .vmsim_ns = 1e300, .host_ns = 1e300,
                           .target = target, .limit = limit};
}

/* ---- vmsim side: one machine and one task per benchmark ---- */

struct sim {
    vms_machine *m;
    vms_task *t;
};

static struct sim sim_open_config(const struct vms_config *cfg)
{
    struct sim s = {vms_machine_create(cfg), NULL};
    if (!s.m)
        die("vms_machine_create", errno);
    s.t = vms_spawn(s.m, "bench");
    if (!s.t)
        die("vms_spawn", errno);
    return s;
}

static struct sim sim_open(uint64_t phys_bytes, unsigned max_map_count)
{
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = phys_bytes;
    if (max_map_count)
        cfg.max_map_count = max_map_count;
    return sim_open_config(&cfg);
}

/* A machine whose root folder is dir, so its files are opened by name. */
static struct sim sim_open_rooted(uint64_t phys_bytes, const char *dir)
{
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = phys_bytes;
    cfg.root = dir;
    return sim_open_config(&cfg);
}

static void sim_close(struct sim *s)
{
    vms_machine_destroy(s->m);
    s->m = NULL;
    s->t = NULL;
}

static vms_addr sim_mmap(vms_task *t, uint64_t len, int prot)
{
    int64_t a = vms_mmap(t, 0, len, prot, ANON, -1, 0);
    if (a < 0)
        die("vms_mmap", (int)-a);
    return (vms_addr)a;
}

static void sim_munmap(vms_task *t, vms_addr a, uint64_t len)
{
    int err = vms_munmap(t, a, len);
    if (err)
        die("vms_munmap", -err);
}

/* Writes 8 bytes into every page: each store is the page's first touch. */
static void sim_touch_pages(vms_task *t, vms_addr base, uint64_t len)
{
    uint64_t one = 1;
    for (uint64_t off = 0; off < len; off += PAGE) {
        int sig = vms_store(t, base + off, &one, sizeof(one));
        if (sig)
            die_signal("vms_store", sig);
    }
}

/* ---- host side ---- */

static uint8_t *host_mmap(uint64_t len, int prot)
{
    void *p = mmap(NULL, len, prot, ANON, -1, 0);
    if (p == MAP_FAILED)
        die("mmap", errno);
    return p;
}

static void host_munmap(void *p, uint64_t len)
{
    if (munmap(p, len))
        die("munmap", errno);
}

static void host_touch_pages(uint8_t *base, uint64_t len)
{
    for (uint64_t off = 0; off < len; off += PAGE)
        *(volatile uint64_t *)(base + off) = 1;
}

/* ---- anon_fault: first store to a fresh private anonymous page ---- */

static double sim_fault_round(vms_task *t, uint64_t len)
{
    vms_addr a = sim_mmap(t, len, RW);
    uint64_t t0 = now_ns();
    sim_touch_pages(t, a, len);
    uint64_t dt = now_ns() - t0;
    sim_munmap(t, a, len);
    return (double)dt / (double)(len / PAGE);
}

static double host_fault_round(uint64_t len)
{
    uint8_t *p = host_mmap(len, RW);
    uint64_t t0 = now_ns();
    host_touch_pages(p, len);
    uint64_t dt = now_ns() - t0;
    host_munmap(p, len);
    return (double)dt / (double)(len / PAGE);
}

static struct result bench_anon_fault(const struct sizes *sz)
{
    struct result r = new_result("anon_fault", TARGET_RATIO, 1.0);
    struct sim s = sim_open(sz->fault_bytes * 2 + 64 * MiB, 0);
    sim_fault_round(s.t, sz->fault_bytes); /* warm-up: the host backs vmsim's RAM */
    host_fault_round(sz->fault_bytes);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_fault_round(s.t, sz->fault_bytes));
        r.host_ns = min_d(r.host_ns, host_fault_round(sz->fault_bytes));
    }
    sim_close(&s);
    snprintf(r.work, sizeof(r.work), "%llu pages", (unsigned long long)(sz->fault_bytes / PAGE));
    return r;
}

/* ---- mmap_munmap: a 4 KiB anonymous mapping made and removed ---- */

static double sim_pairs_round(vms_task *t, unsigned pairs)
{
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pairs; i++)
        sim_munmap(t, sim_mmap(t, PAGE, RW), PAGE);
    return (double)(now_ns() - t0) / pairs;
}

static double host_pairs_round(unsigned pairs)
{
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pairs; i++)
        host_munmap(host_mmap(PAGE, RW), PAGE);
    return (double)(now_ns() - t0) / pairs;
}

static struct result bench_mmap_munmap(const struct sizes *sz)
{
    struct result r = new_result("mmap_munmap", TARGET_RATIO, 1.0);
    struct sim s = sim_open(64 * MiB, 0);
    sim_pairs_round(s.t, sz->pairs / 10 + 1);
    host_pairs_round(sz->pairs / 10 + 1);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_pairs_round(s.t, sz->pairs));
        r.host_ns = min_d(r.host_ns, host_pairs_round(sz->pairs));
    }
    sim_close(&s);
    snprintf(r.work, sizeof(r.work), "%u pairs", sz->pairs);
    return r;
}

/* ---- munmap_many: unmapping each of many separate one-page VMAs ---- */

/* Neighbouring pages alternate read-only and read-write, so no two merge. */
static int many_prot(unsigned i) { return (i & 1) ? PROT_READ : RW; }

/* Maps n one-page VMAs on the host into addrs; returns how many it could. */
static unsigned host_map_many(uint8_t **addrs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        void *p = mmap(NULL, PAGE, many_prot(i), ANON, -1, 0);
        if (p == MAP_FAILED)
            return i;
        addrs[i] = p;
    }
    return n;
}

static double host_unmap_many(uint8_t **addrs, unsigned n)
{
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++)
        host_munmap(addrs[i], PAGE);
    return (double)(now_ns() - t0) / n;
}

static double host_many_round(uint8_t **addrs, unsigned n)
{
    unsigned got = host_map_many(addrs, n);
    if (got < n)
        die("mmap of a one-page VMA", errno);
    return host_unmap_many(addrs, n);
}

/* The host's vm.max_map_count (65530 by default) may be below MANY_WANTED;
 * try it once, and fall back to a count both sides can hold. */
static unsigned settle_many_count(uint8_t **addrs, unsigned wanted, struct report *rep)
{
    unsigned got = host_map_many(addrs, wanted);
    host_unmap_many(addrs, got);
    if (got == wanted)
        return wanted;
    unsigned n = wanted < MANY_FALLBACK ? wanted : MANY_FALLBACK;
    char note[160];
    snprintf(note, sizeof(note),
             "munmap_many: the host holds only %u of %u VMAs (vm.max_map_count); "
             "%u VMAs on both sides",
             got, wanted, n);
    add_note(rep, note);
    return n;
}

static double sim_many_round(vms_task *t, vms_addr *addrs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int64_t a = vms_mmap(t, 0, PAGE, many_prot(i), ANON, -1, 0);
        if (a < 0)
            die("vms_mmap of a one-page VMA", (int)-a);
        addrs[i] = (vms_addr)a;
    }
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++)
        sim_munmap(t, addrs[i], PAGE);
    return (double)(now_ns() - t0) / n;
}

static struct result bench_munmap_many(struct sizes *sz, struct report *rep)
{
    struct result r = new_result("munmap_many", TARGET_RATIO, 1.0);
    uint8_t **haddrs = malloc(sizeof(*haddrs) * sz->many);
    vms_addr *vaddrs = malloc(sizeof(*vaddrs) * sz->many);
    if (!haddrs || !vaddrs)
        die("malloc", ENOMEM);
    sz->many = settle_many_count(haddrs, sz->many, rep);
    /* vmsim's own limit is raised only if the host's allowed more than it. */
    struct sim s = sim_open(64 * MiB, sz->many >= 65530 ? sz->many + 1000 : 0);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_many_round(s.t, vaddrs, sz->many));
        r.host_ns = min_d(r.host_ns, host_many_round(haddrs, sz->many));
    }
    sim_close(&s);
    free(haddrs);
    free(vaddrs);
    snprintf(r.work, sizeof(r.work), "%u VMAs", sz->many);
    return r;
}

/* ---- tlb_hit_load: 8-byte loads whose translations sit in the L1 DTLB ---- */

#define HIT_ADDRS 8 /* two addresses in each of four pages: four DTLB sets */

static void hit_offsets(uint64_t off[HIT_ADDRS])
{
    for (unsigned i = 0; i < HIT_ADDRS; i++)
        off[i] = (i % 4) * PAGE + (i / 4) * 64;
}

static double sim_hit_round(vms_task *t, const vms_addr va[HIT_ADDRS], uint64_t loads)
{
    uint64_t sum = 0, v = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < loads; i++) {
        int sig = vms_load(t, va[i % HIT_ADDRS], &v, sizeof(v));
        if (sig)
            die_signal("vms_load", sig);
        sum += v;
    }
    uint64_t dt = now_ns() - t0;
    *(volatile uint64_t *)&v = sum; /* keep the loads */
    return (double)dt / (double)loads;
}

static double host_hit_round(uint8_t *const p[HIT_ADDRS], uint64_t loads)
{
    uint64_t sum = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < loads; i++)
        sum += *(volatile uint64_t *)p[i % HIT_ADDRS];
    uint64_t dt = now_ns() - t0;
    volatile uint64_t sink = sum;
    (void)sink;
    return (double)dt / (double)loads;
}

static uint64_t sim_dtlb_misses(vms_machine *m)
{
    struct vms_stats st;
    vms_get_stats(m, &st);
    return st.cpu[0].dtlb_misses;
}

static struct result bench_tlb_hit(const struct sizes *sz, struct report *rep)
{
    struct result r = new_result("tlb_hit_load", TARGET_VMSIM_NS, 2.0);
    uint64_t off[HIT_ADDRS];
    hit_offsets(off);
    struct sim s = sim_open(64 * MiB, 0);
    vms_addr base = sim_mmap(s.t, 4 * PAGE, RW);
    uint8_t *hbase = host_mmap(4 * PAGE, RW);
    sim_touch_pages(s.t, base, 4 * PAGE);
    host_touch_pages(hbase, 4 * PAGE);
    vms_addr va[HIT_ADDRS];
    uint8_t *hp[HIT_ADDRS];
    for (unsigned i = 0; i < HIT_ADDRS; i++) {
        va[i] = base + off[i];
        hp[i] = hbase + off[i];
    }
    sim_hit_round(s.t, va, HIT_ADDRS); /* fills the DTLB */
    uint64_t misses = sim_dtlb_misses(s.m);
    for (int i = 0; i < sz->hit_reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_hit_round(s.t, va, sz->hit_loads));
        r.host_ns = min_d(r.host_ns, host_hit_round(hp, sz->hit_loads));
    }
    if (sim_dtlb_misses(s.m) != misses)
        add_note(rep, "tlb_hit_load: WARNING: vmsim's DTLB missed during the timed loads");
    host_munmap(hbase, 4 * PAGE);
    sim_close(&s);
    snprintf(r.work, sizeof(r.work), "%llu loads", (unsigned long long)sz->hit_loads);
    return r;
}

/* ---- tlb_miss_load: 8-byte loads at random over a large touched region ---- */

static uint64_t *random_offsets(uint64_t n, uint64_t region)
{
    uint64_t *off = malloc(sizeof(*off) * n);
    if (!off)
        die("malloc", ENOMEM);
    uint64_t state = PRNG_SEED;
    for (uint64_t i = 0; i < n; i++)
        off[i] = (splitmix64(&state) % (region / 8)) * 8;
    return off;
}

__attribute__((noinline)) /* a symbol for instruction counts */
static double sim_miss_round(vms_task *t, vms_addr base, const uint64_t *off, uint64_t n)
{
    uint64_t sum = 0, v = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        int sig = vms_load(t, base + off[i], &v, sizeof(v));
        if (sig)
            die_signal("vms_load", sig);
        sum += v;
    }
    uint64_t dt = now_ns() - t0;
    *(volatile uint64_t *)&v = sum;
    return (double)dt / (double)n;
}

static double host_miss_round(const uint8_t *base, const uint64_t *off, uint64_t n)
{
    uint64_t sum = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        sum += *(const volatile uint64_t *)(base + off[i]);
    uint64_t dt = now_ns() - t0;
    volatile uint64_t sink = sum;
    (void)sink;
    return (double)dt / (double)n;
}

/* What one read of random host memory costs when it depends on the one
 * before: a chase through a slot of every page of the host's region in one
 * random cycle (Sattolo's shuffle), each slot on its own cache line of its
 * page. A vmsim miss cannot overlap the next one's reads of the host's
 * memory as the host's independent loads overlap theirs, so this is the
 * scale of tlb_miss_load on any machine (docs/fidelity.md, "Speed"). */
static double host_chase_ns(uint8_t *base, uint64_t bytes, uint64_t hops)
{
    uint64_t pages = bytes / PAGE;
    uint32_t *next = malloc(sizeof(*next) * pages);
    if (!next)
        die("malloc", ENOMEM);
    for (uint64_t i = 0; i < pages; i++)
        next[i] = (uint32_t)i;
    uint64_t state = PRNG_SEED;
    for (uint64_t i = pages - 1; i > 0; i--) {
        uint64_t j = splitmix64(&state) % i;
        uint32_t t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    for (uint64_t i = 0; i < pages; i++) /* slot of page i: i's line in its page */
        *(uint64_t *)(base + i * PAGE + (i % (PAGE / 64)) * 64) =
            (uint64_t)next[i] * PAGE + (next[i] % (PAGE / 64)) * 64;
    free(next);
    uint64_t at = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < hops; i++)
        at = *(const volatile uint64_t *)(base + at);
    uint64_t dt = now_ns() - t0;
    volatile uint64_t sink = at;
    (void)sink;
    return (double)dt / (double)hops;
}

static struct result bench_tlb_miss(const struct sizes *sz, struct report *rep)
{
    struct result r = new_result("tlb_miss_load", TARGET_RATIO, 10.0);
    uint64_t *off = random_offsets(sz->miss_loads, sz->miss_bytes);
    struct sim s = sim_open(sz->miss_phys, 0);
    vms_addr base = sim_mmap(s.t, sz->miss_bytes, RW);
    sim_touch_pages(s.t, base, sz->miss_bytes);
    uint8_t *hbase = host_mmap(sz->miss_bytes, RW);
    host_touch_pages(hbase, sz->miss_bytes);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_miss_round(s.t, base, off, sz->miss_loads));
        r.host_ns = min_d(r.host_ns, host_miss_round(hbase, off, sz->miss_loads));
    }
    double chase = host_chase_ns(hbase, sz->miss_bytes, sz->miss_loads);
    char note[200];
    snprintf(note, sizeof(note),
             "tlb_miss_load: a dependent read of random host memory (a chase over the host's "
             "region) takes %.0f ns here; vmsim's miss costs %.2f of them, the host's load %.2f",
             chase, r.vmsim_ns / chase, r.host_ns / chase);
    add_note(rep, note);
    host_munmap(hbase, sz->miss_bytes);
    sim_close(&s);
    free(off);
    snprintf(r.work, sizeof(r.work), "%llu MiB", (unsigned long long)(sz->miss_bytes / MiB));
    return r;
}

/* ---- cached files: shared by the file_*_fault and read_vs_mmap benchmarks ---- */

#define CHUNK (1 * MiB) /* read() buffer of read_vs_mmap, and warm-up reads */

/* The scratch folder holding both sides' files. */
struct scratch {
    char dir[64];
};

static void scratch_path(const struct scratch *sc, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", sc->dir, name);
}

/* Writes a file of len bytes with 4 KiB writes; each page holds its index. */
static void host_write_file(const char *path, uint64_t len)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path, errno);
    uint64_t page[PAGE / 8];
    for (uint64_t off = 0; off < len; off += PAGE) {
        for (size_t i = 0; i < PAGE / 8; i++)
            page[i] = off / PAGE + i;
        if (write(fd, page, PAGE) != (ssize_t)PAGE)
            die("write", errno ? errno : EIO);
    }
    if (close(fd))
        die("close", errno);
}

/* Reads [0, len) of fd with pread into buf; returns the nanoseconds taken. */
static uint64_t host_read_whole(int fd, uint8_t *buf, uint64_t len)
{
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < len; off += CHUNK) {
        uint64_t n = len - off < CHUNK ? len - off : CHUNK;
        if (pread(fd, buf, n, (off_t)off) != (ssize_t)n)
            die("pread", errno ? errno : EIO);
    }
    return now_ns() - t0;
}

static int host_open_cached(const char *path, uint64_t len)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die(path, errno);
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        die("malloc", ENOMEM);
    host_read_whole(fd, buf, len); /* brings every page into the page cache */
    free(buf);
    return fd;
}

/* vms_pread of [0, len) of fd into the simulated buffer; nanoseconds taken. */
static uint64_t sim_read_whole(vms_task *t, int fd, vms_addr buf, uint64_t len)
{
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < len; off += CHUNK) {
        uint64_t n = len - off < CHUNK ? len - off : CHUNK;
        int64_t got = vms_pread(t, fd, buf, n, (int64_t)off);
        if (got != (int64_t)n)
            die("vms_pread", got < 0 ? (int)-got : EIO);
    }
    return now_ns() - t0;
}

/* Opens name in the machine's root and warms its page cache with reads. */
static int sim_open_cached(vms_task *t, const char *name, uint64_t len, vms_addr *buf_out)
{
    int fd = vms_open(t, name, O_RDWR, 0);
    if (fd < 0)
        die("vms_open", -fd);
    vms_addr buf = sim_mmap(t, CHUNK, RW);
    sim_read_whole(t, fd, buf, len);
    *buf_out = buf;
    return fd;
}

/* ---- file_*_fault: first touch of each page of a cached file's mapping ---- */

struct file_fault_kind {
    const char *name;
    int prot, flags;
    int store; /* 1: the first touch is a store; 0: a load */
};

static void sim_touch_file(vms_task *t, vms_addr base, uint64_t len, int store)
{
    uint64_t v = 1;
    for (uint64_t off = 0; off < len; off += PAGE) {
        int sig = store ? vms_store(t, base + off, &v, sizeof(v))
                        : vms_load(t, base + off, &v, sizeof(v));
        if (sig)
            die_signal(store ? "vms_store" : "vms_load", sig);
    }
}

static double sim_file_fault_round(vms_task *t, int fd, uint64_t len,
                                   const struct file_fault_kind *k)
{
    int64_t a = vms_mmap(t, 0, len, k->prot, k->flags, fd, 0);
    if (a < 0)
        die("vms_mmap of a file", (int)-a);
    uint64_t t0 = now_ns();
    sim_touch_file(t, (vms_addr)a, len, k->store);
    uint64_t dt = now_ns() - t0;
    sim_munmap(t, (vms_addr)a, len);
    /* Shared stores dirtied the cache: clean it so every round starts alike. */
    if (k->store && (k->flags & MAP_TYPE) == MAP_SHARED && vms_fsync(t, fd))
        die("vms_fsync", EIO);
    return (double)dt / (double)(len / PAGE);
}

static double host_file_fault_round(int fd, uint64_t len, const struct file_fault_kind *k)
{
    uint8_t *p = mmap(NULL, len, k->prot, k->flags, fd, 0);
    if (p == MAP_FAILED)
        die("mmap of a file", errno);
    uint64_t sum = 0;
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < len; off += PAGE) {
        if (k->store)
            *(volatile uint64_t *)(p + off) = 1;
        else
            sum += *(volatile uint64_t *)(p + off);
    }
    uint64_t dt = now_ns() - t0;
    volatile uint64_t sink = sum;
    (void)sink;
    host_munmap(p, len);
    if (k->store && (k->flags & MAP_TYPE) == MAP_SHARED && fsync(fd))
        die("fsync", errno);
    return (double)dt / (double)(len / PAGE);
}

static struct result bench_file_fault(const struct sizes *sz, const struct scratch *sc,
                                      const struct file_fault_kind *k)
{
    struct result r = new_result(k->name, TARGET_RATIO, 1.0);
    char hpath[128];
    scratch_path(sc, "fault-host.dat", hpath, sizeof(hpath));
    int hfd = host_open_cached(hpath, sz->file_bytes);
    struct sim s = sim_open_rooted(sz->file_bytes * 3 + 64 * MiB, sc->dir);
    vms_addr buf;
    int sfd = sim_open_cached(s.t, "fault-sim.dat", sz->file_bytes, &buf);
    sim_file_fault_round(s.t, sfd, sz->file_bytes, k); /* warm-up round on both sides */
    host_file_fault_round(hfd, sz->file_bytes, k);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_file_fault_round(s.t, sfd, sz->file_bytes, k));
        r.host_ns = min_d(r.host_ns, host_file_fault_round(hfd, sz->file_bytes, k));
    }
    sim_close(&s);
    close(hfd);
    snprintf(r.work, sizeof(r.work), "%llu pages", (unsigned long long)(sz->file_bytes / PAGE));
    return r;
}

static const struct file_fault_kind FILE_FAULT_KINDS[] = {
    {"file_read_fault", PROT_READ, MAP_SHARED, 0},
    {"file_shared_write_fault", RW, MAP_SHARED, 1},
    {"file_private_cow_fault", RW, MAP_PRIVATE, 1},
};

/* ---- read_vs_mmap: streaming a cached file with read() or through a mapping ---- */

static double per_page(uint64_t dt, uint64_t len) { return (double)dt / (double)(len / PAGE); }

static double host_stream_mmap_round(int fd, uint64_t len)
{
    const uint64_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap of a file", errno);
    uint64_t sum = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < len / 8; i++)
        sum += ((const volatile uint64_t *)p)[i];
    uint64_t dt = now_ns() - t0;
    volatile uint64_t sink = sum;
    (void)sink;
    host_munmap((void *)p, len);
    return per_page(dt, len);
}

static double sim_stream_mmap_round(vms_task *t, int fd, uint64_t len)
{
    int64_t a = vms_mmap(t, 0, len, PROT_READ, MAP_SHARED, fd, 0);
    if (a < 0)
        die("vms_mmap of a file", (int)-a);
    uint64_t sum = 0, v = 0;
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < len; off += 8) {
        int sig = vms_load(t, (vms_addr)a + off, &v, sizeof(v));
        if (sig)
            die_signal("vms_load", sig);
        sum += v;
    }
    uint64_t dt = now_ns() - t0;
    *(volatile uint64_t *)&v = sum;
    sim_munmap(t, (vms_addr)a, len);
    return per_page(dt, len);
}

static double gbps(double ns_per_page) { return (double)PAGE / ns_per_page; }

static void stream_note(struct report *rep, const struct result *r)
{
    char note[160];
    snprintf(note, sizeof(note), "%s: vmsim %.2f GB/s, host %.2f GB/s", r->name,
             gbps(r->vmsim_ns), gbps(r->host_ns));
    add_note(rep, note);
}

/* Two results: read() into a 1 MiB buffer, and 8-byte loads through a mapping. */
static void bench_read_vs_mmap(const struct sizes *sz, const struct scratch *sc,
                               struct report *rep)
{
    struct result rd = new_result("read_vs_mmap_read", TARGET_NONE, 0);
    struct result mm = new_result("read_vs_mmap_mmap", TARGET_NONE, 0);
    uint64_t len = sz->stream_bytes;
    char hpath[128];
    scratch_path(sc, "stream-host.dat", hpath, sizeof(hpath));
    int hfd = host_open_cached(hpath, len);
    uint8_t *hbuf = malloc(CHUNK);
    if (!hbuf)
        die("malloc", ENOMEM);
    struct sim s = sim_open_rooted(len * 2 + 256 * MiB, sc->dir);
    vms_addr sbuf;
    int sfd = sim_open_cached(s.t, "stream-sim.dat", len, &sbuf);
    for (int i = 0; i < sz->reps; i++) {
        rd.vmsim_ns = min_d(rd.vmsim_ns, per_page(sim_read_whole(s.t, sfd, sbuf, len), len));
        rd.host_ns = min_d(rd.host_ns, per_page(host_read_whole(hfd, hbuf, len), len));
        mm.vmsim_ns = min_d(mm.vmsim_ns, sim_stream_mmap_round(s.t, sfd, len));
        mm.host_ns = min_d(mm.host_ns, host_stream_mmap_round(hfd, len));
    }
    sim_close(&s);
    free(hbuf);
    close(hfd);
    snprintf(rd.work, sizeof(rd.work), "%llu MiB", (unsigned long long)(len / MiB));
    snprintf(mm.work, sizeof(mm.work), "%llu MiB", (unsigned long long)(len / MiB));
    rep->r[rep->n++] = rd;
    rep->r[rep->n++] = mm;
    stream_note(rep, &rd);
    stream_note(rep, &mm);
}

/* ---- the scratch folder ---- */

static const char *const SCRATCH_FILES[] = {"fault-host.dat", "fault-sim.dat",
                                            "stream-host.dat", "stream-sim.dat"};

static void scratch_create(struct scratch *sc, const struct sizes *sz)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(sc->dir, sizeof(sc->dir), "%s/vmsim-bench-XXXXXX",
             tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(sc->dir))
        die("mkdtemp", errno);
    uint64_t sizes[] = {sz->file_bytes, sz->file_bytes, sz->stream_bytes, sz->stream_bytes};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char path[128];
        scratch_path(sc, SCRATCH_FILES[i], path, sizeof(path));
        host_write_file(path, sizes[i]);
    }
}

static void scratch_remove(const struct scratch *sc)
{
    for (size_t i = 0; i < sizeof(SCRATCH_FILES) / sizeof(SCRATCH_FILES[0]); i++) {
        char path[128];
        scratch_path(sc, SCRATCH_FILES[i], path, sizeof(path));
        unlink(path);
    }
    rmdir(sc->dir);
}

/* ---- fork_256m and cow_fault: fork of a process with written private memory ---- */

/* The host side runs in a helper process forked before vmsim's machine is
 * made: a fork of the bench itself would also copy the page tables of
 * vmsim's simulated RAM, which is private memory of this process. The helper
 * holds the written memory and runs one round per command byte, answering
 * with the round's nanoseconds (a double). */
enum { HELPER_FORK = 'f', HELPER_COW = 'c', HELPER_QUIT = 'q' };

struct host_helper {
    pid_t pid;
    int cmd, reply; /* pipes to and from the helper */
};

static void read_exact(int fd, void *buf, size_t n, const char *what)
{
    ssize_t got = read(fd, buf, n);
    if (got != (ssize_t)n)
        die(what, got < 0 ? errno : EIO);
}

static void write_exact(int fd, const void *buf, size_t n, const char *what)
{
    if (write(fd, buf, n) != (ssize_t)n)
        die(what, errno ? errno : EIO);
}

static pid_t fork_or_die(void)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    return pid;
}

static void wait_child(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid", errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "vmsim-bench: a forked child failed (status %#x)\n", status);
        exit(1);
    }
}

/* fork, the child exits at once, the parent waits: nanoseconds. */
static double host_fork_once(void)
{
    uint64_t t0 = now_ns();
    pid_t pid = fork_or_die();
    if (pid == 0)
        _exit(0);
    wait_child(pid);
    return (double)(now_ns() - t0);
}

/* The child writes one byte per page and reports its time through a pipe:
 * nanoseconds per page. */
static double host_cow_once(uint8_t *p, uint64_t len)
{
    int fds[2];
    if (pipe(fds))
        die("pipe", errno);
    pid_t pid = fork_or_die();
    if (pid == 0) {
        uint64_t t0 = now_ns();
        for (uint64_t off = 0; off < len; off += PAGE)
            *(volatile uint8_t *)(p + off) = (uint8_t)(off / PAGE);
        uint64_t dt = now_ns() - t0;
        _exit(write(fds[1], &dt, sizeof(dt)) == (ssize_t)sizeof(dt) ? 0 : 1);
    }
    uint64_t dt = 0;
    read_exact(fds[0], &dt, sizeof(dt), "read from the forked child");
    wait_child(pid);
    close(fds[0]);
    close(fds[1]);
    return (double)dt / (double)(len / PAGE);
}

static void helper_main(int cmd, int reply, uint64_t len)
{
    uint8_t *p = host_mmap(len, RW);
    char c;
    while (read(cmd, &c, 1) == 1 && c != HELPER_QUIT) {
        host_touch_pages(p, len); /* written again: every page exclusive and writable */
        double ns = c == HELPER_FORK ? host_fork_once() : host_cow_once(p, len);
        write_exact(reply, &ns, sizeof(ns), "helper reply");
    }
    _exit(0);
}

static struct host_helper helper_start(uint64_t len)
{
    int to[2], from[2];
    if (pipe(to) || pipe(from))
        die("pipe", errno);
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork_or_die();
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        helper_main(to[0], from[1], len);
    }
    close(to[0]);
    close(from[1]);
    return (struct host_helper){.pid = pid, .cmd = to[1], .reply = from[0]};
}

static double helper_round(const struct host_helper *h, char what)
{
    double ns = 0;
    write_exact(h->cmd, &what, 1, "helper command");
    read_exact(h->reply, &ns, sizeof(ns), "helper reply");
    return ns;
}

static void helper_stop(struct host_helper *h)
{
    char quit = HELPER_QUIT;
    write_exact(h->cmd, &quit, 1, "helper command");
    wait_child(h->pid);
    close(h->cmd);
    close(h->reply);
}

static vms_task *sim_fork(vms_task *t)
{
    vms_task *c = vms_fork(t);
    if (!c)
        die("vms_fork", errno);
    return c;
}

/* vms_fork, then the child's exit: nanoseconds. */
static double sim_fork_once(vms_task *t)
{
    uint64_t t0 = now_ns();
    vms_exit(sim_fork(t));
    return (double)(now_ns() - t0);
}

/* The child writes one byte per page: nanoseconds per page. */
static double sim_cow_once(vms_task *t, vms_addr base, uint64_t len)
{
    vms_task *c = sim_fork(t);
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < len; off += PAGE) {
        uint8_t v = (uint8_t)(off / PAGE);
        int sig = vms_store(c, base + off, &v, 1);
        if (sig)
            die_signal("vms_store", sig);
    }
    uint64_t dt = now_ns() - t0;
    vms_exit(c);
    return (double)dt / (double)(len / PAGE);
}

static double sim_fork_round(vms_task *t, vms_addr base, uint64_t len, char what)
{
    sim_touch_pages(t, base, len); /* as the host helper does before each round */
    return what == HELPER_FORK ? sim_fork_once(t) : sim_cow_once(t, base, len);
}

/* One result: what is HELPER_FORK (fork_256m) or HELPER_COW (cow_fault). */
static struct result bench_fork(const struct sizes *sz, char what)
{
    int is_fork = what == HELPER_FORK;
    struct result r = new_result(is_fork ? "fork_256m" : "cow_fault", TARGET_RATIO, 1.0);
    uint64_t len = sz->fork_bytes;
    struct host_helper h = helper_start(len);
    struct sim s = sim_open(len * 2 + 64 * MiB, 0); /* room for the child's copies */
    vms_addr base = sim_mmap(s.t, len, RW);
    sim_fork_round(s.t, base, len, what); /* warm-up on both sides */
    helper_round(&h, what);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_fork_round(s.t, base, len, what));
        r.host_ns = min_d(r.host_ns, helper_round(&h, what));
    }
    sim_close(&s);
    helper_stop(&h);
    if (is_fork)
        snprintf(r.work, sizeof(r.work), "%llu MiB", (unsigned long long)(len / MiB));
    else
        snprintf(r.work, sizeof(r.work), "%llu pages", (unsigned long long)(len / PAGE));
    return r;
}

/* ---- swap_in_fault: a read pass over twice the memory, every page from swap ---- */

#define SWAP_LIMIT (16 * MiB)
#define SWAP_AREA (96 * MiB)
#define SWAP_REGION (2 * SWAP_LIMIT)

/* ns per page of one read pass over a region twice the memory, written
 * before: each page comes back from swap (a major fault, or a minor one on a
 * page swap-in readahead brought in), as others leave for swap. */
static double sim_swap_round(vms_task *t, vms_addr base)
{
    uint64_t v, t0 = now_ns();
    for (uint64_t off = 0; off < SWAP_REGION; off += PAGE) {
        int sig = vms_load(t, base + off, &v, sizeof(v));
        if (sig)
            die_signal("vms_load", sig);
    }
    return (double)(now_ns() - t0) / (double)(SWAP_REGION / PAGE);
}

static double host_swap_round(volatile uint8_t *p)
{
    uint64_t t0 = now_ns();
    for (uint64_t off = 0; off < SWAP_REGION; off += PAGE)
        (void)p[off];
    return (double)(now_ns() - t0) / (double)(SWAP_REGION / PAGE);
}

/* The host's side in a child confined to the cgroup: its fastest of reps
 * passes, or a negative value when it could not run. */
static double host_swap_in(int reps)
{
    int pipefd[2];
    if (host_swap_cgroup_new(SWAP_LIMIT) || pipe(pipefd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        double best = -1;
        if (!host_swap_cgroup_enter()) {
            uint8_t *p = host_mmap(SWAP_REGION, RW);
            host_touch_pages(p, SWAP_REGION);
            host_swap_round(p); /* untimed: the steady state */
            best = 1e300;
            for (int i = 0; i < reps; i++)
                best = min_d(best, host_swap_round(p));
        }
        _exit(write(pipefd[1], &best, sizeof(best)) == sizeof(best) ? 0 : 1);
    }
    close(pipefd[1]);
    double best = -1;
    if (pid < 0 || read(pipefd[0], &best, sizeof(best)) != sizeof(best))
        best = -1;
    close(pipefd[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    host_swap_cgroup_remove();
    return best;
}

static struct result bench_swap_in(const struct sizes *sz, struct report *rep)
{
    struct result r = new_result("swap_in_fault", TARGET_RATIO, 1.0);
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = SWAP_LIMIT;
    cfg.swap_bytes = SWAP_AREA;
    cfg.zero_page = 0;
    struct sim s = sim_open_config(&cfg);
    vms_addr base = sim_mmap(s.t, SWAP_REGION, RW);
    sim_touch_pages(s.t, base, SWAP_REGION);
    sim_swap_round(s.t, base);
    for (int i = 0; i < sz->reps; i++)
        r.vmsim_ns = min_d(r.vmsim_ns, sim_swap_round(s.t, base));
    sim_close(&s);
    char why[100];
    if (host_swap_setup(SWAP_AREA, why, sizeof(why))) {
        r.host_ns = 0;
        r.target = TARGET_NONE;
        char note[160];
        snprintf(note, sizeof(note), "swap_in_fault: no host figure: %s", why);
        add_note(rep, note);
    } else {
        double ns = host_swap_in(sz->reps);
        host_swap_teardown();
        if (ns < 0) {
            r.host_ns = 0;
            r.target = TARGET_NONE;
            add_note(rep, "swap_in_fault: no host figure: the cgroup's child failed");
        } else {
            r.host_ns = ns;
        }
    }
    add_note(rep, "swap_in_fault: ns per page of a read pass over 32 MiB written in 16 MiB "
                  "of memory (host: a memory cgroup, a swap file; swap-out of the others "
                  "included)");
    snprintf(r.work, sizeof(r.work), "%llu pages", (unsigned long long)(SWAP_REGION / PAGE));
    return r;
}

/* ---- lua_store: t:store of 8 bytes from a Lua loop, TLB hit ---- */

static struct result bench_lua(const struct sizes *sz, struct report *rep)
{
    struct result r = new_result("lua_store", TARGET_VMSIM_NS, 100.0);
    int missed = 0;
    if (bench_lua_store(sz->lua_stores, sz->reps, &r.vmsim_ns, &r.host_ns, &missed))
        exit(1);
    if (missed)
        add_note(rep, "lua_store: WARNING: vmsim's DTLB missed during the timed stores");
    add_note(rep, "lua_store: host = the same Lua loop calling a method that copies the 8 "
                  "bytes into host memory (the Lua call alone); both in thread CPU time");
    snprintf(r.work, sizeof(r.work), "%llu stores", (unsigned long long)sz->lua_stores);
    return r;
}

/* ---- trace_replay: a memory trace replayed through vms_load/vms_store ---- */

/* One access of a trace, as a trace reader would hand it over. */
struct trace_rec {
    uint64_t va;
    uint32_t size;  /* 1..8 bytes, within one page */
    uint32_t store; /* 1: a store, 0: a load */
};

#define TRACE_HOT_PAGES 32      /* two per L1 DTLB set (64 entries, 4-way): stay cached */
#define TRACE_COLD_BYTES (16 * MiB) /* the rest lands anywhere in a program-sized data set */
#define TRACE_COLD_PER_MILLE 50 /* 5 %: the L1 DTLB misses about as often */

/* A synthetic trace with a 95 % L1 DTLB hit rate: 95 % of the accesses go to
 * 32 hot pages, 5 % anywhere in 16 MiB (4096 pages, more than the L2 TLB's
 * 1536 entries: about a third of those misses hit it, the rest walk, mostly
 * from the PDE cache); 30 % are stores; 8-byte words
 * mostly, some 4-byte and 1-byte accesses, aligned. Offsets from the
 * region's base: hot pages first, then the cold region. */
static struct trace_rec *synthetic_trace(uint64_t n)
{
    struct trace_rec *tr = malloc(sizeof(*tr) * n);
    if (!tr)
        die("malloc", ENOMEM);
    uint64_t state = PRNG_SEED;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = splitmix64(&state);
        uint32_t size = (r >> 20) % 10 < 7 ? 8 : (r >> 20) % 10 < 9 ? 4 : 1;
        uint64_t off = (r >> 32) % PAGE / size * size;
        uint64_t page = r % 1000 < TRACE_COLD_PER_MILLE
                            ? TRACE_HOT_PAGES + (r >> 40) % (TRACE_COLD_BYTES / PAGE)
                            : (r >> 12) % TRACE_HOT_PAGES;
        tr[i] = (struct trace_rec){.va = page * PAGE + off, .size = size,
                                   .store = (r >> 16) % 10 < 3};
    }
    return tr;
}

static double sim_replay_round(vms_task *t, vms_addr base, const struct trace_rec *tr, uint64_t n)
{
    uint64_t sum = 0, v = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        int sig = tr[i].store ? vms_store(t, base + tr[i].va, &i, tr[i].size)
                              : vms_load(t, base + tr[i].va, &v, tr[i].size);
        if (sig)
            die_signal("trace replay", sig);
        sum += v;
    }
    uint64_t dt = now_ns() - t0;
    *(volatile uint64_t *)&v = sum;
    return (double)dt / (double)n;
}

/* The ceiling: the same loop reading the trace and doing nothing with it. */
static double plain_trace_round(const struct trace_rec *tr, uint64_t n)
{
    uint64_t sum = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        sum += tr[i].va + tr[i].size + tr[i].store;
    uint64_t dt = now_ns() - t0;
    volatile uint64_t sink = sum;
    (void)sink;
    return (double)dt / (double)n;
}

static struct result bench_trace_replay(const struct sizes *sz, struct report *rep)
{
    struct result r = new_result("trace_replay", TARGET_VMSIM_NS, 20.0); /* 50 M/s */
    struct trace_rec *tr = synthetic_trace(sz->trace_len);
    uint64_t bytes = TRACE_HOT_PAGES * PAGE + TRACE_COLD_BYTES;
    struct sim s = sim_open(2 * bytes, 0);
    vms_addr base = sim_mmap(s.t, bytes, RW);
    sim_replay_round(s.t, base, tr, sz->trace_len); /* faults every page in, untimed */
    struct vms_stats before, after;
    vms_get_stats(s.m, &before);
    for (int i = 0; i < sz->reps; i++) {
        r.vmsim_ns = min_d(r.vmsim_ns, sim_replay_round(s.t, base, tr, sz->trace_len));
        r.host_ns = min_d(r.host_ns, plain_trace_round(tr, sz->trace_len));
    }
    vms_get_stats(s.m, &after);
    vms_stats_diff(&after, &before, &after);
    char note[160];
    snprintf(note, sizeof(note),
             "trace_replay: %.1f M accesses/s replayed, %.1f M/s the plain loop; L1 DTLB hits "
             "%.1f %%, L2 %.1f %% of the rest; %llu faults timed",
             1e3 / r.vmsim_ns, 1e3 / r.host_ns,
             100.0 * (double)after.cpu[0].dtlb_hits /
                 (double)(after.cpu[0].dtlb_hits + after.cpu[0].dtlb_misses),
             100.0 * (double)after.cpu[0].stlb_hits /
                 (double)(after.cpu[0].stlb_hits + after.cpu[0].stlb_misses),
             (unsigned long long)(after.minor_faults + after.major_faults));
    add_note(rep, note);
    sim_close(&s);
    free(tr);
    snprintf(r.work, sizeof(r.work), "%llu accesses", (unsigned long long)sz->trace_len);
    return r;
}

/* ---- trace_replay_recorded: a recorded program's trace through vmt_replay ---- */

/* Where make bench leaves the tool and the workload: beside this program. */
static int sibling_path(const char *name, char *buf, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0)
        return -1;
    self[len] = '\0';
    int w = snprintf(buf, n, "%s/%s", dirname(self), name);
    return w > 0 && (size_t)w < n && access(buf, X_OK) == 0 ? 0 : -1;
}

static int valgrind_present(void)
{
    return system("valgrind --version >/dev/null 2>&1") == 0;
}

/* vmsim record -o out -- workload, quietly; 0 when the trace was written. */
static int record_workload(const char *vmsim, const char *workload, const char *out)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execl(vmsim, vmsim, "record", "--quiet", "-o", out, "--", workload, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One whole vmt_replay of the trace: the machine made, the exec image, the
 * mm calls, every access, the machine destroyed. ns per access. */
static double recorded_replay_round(const char *path, struct vmt_replay_result *res)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, errno);
    struct vmt_replay_opts o;
    vmt_replay_opts_init(&o); /* the bare speed: no regions, samples or LRU pass */
    o.samples = 0;
    char err[200];
    uint64_t t0 = now_ns();
    if (vmt_replay(f, &o, res, err, sizeof(err))) {
        fprintf(stderr, "vmsim-bench: replay of %s: %s\n", path, err);
        exit(1);
    }
    uint64_t dt = now_ns() - t0;
    fclose(f);
    return (double)dt / (double)(res->accesses ? res->accesses : 1);
}

/* The ceiling: the same file read record by record, nothing replayed. */
static double recorded_read_round(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, errno);
    char err[200];
    uint64_t t0 = now_ns();
    struct vmt_reader *rd = vmt_reader_open(f, err, sizeof(err));
    if (!rd) {
        fprintf(stderr, "vmsim-bench: %s: %s\n", path, err);
        exit(1);
    }
    struct vmt_record rec;
    uint64_t accesses = 0, sum = 0;
    int rc;
    while ((rc = vmt_read(rd, &rec)) > 0) {
        accesses += vmt_is_access(rec.type);
        sum += rec.addr;
    }
    vmt_reader_close(rd);
    uint64_t dt = now_ns() - t0;
    fclose(f);
    volatile uint64_t sink = sum;
    (void)sink;
    if (rc < 0)
        die(path, EINVAL);
    return (double)dt / (double)(accesses ? accesses : 1);
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static struct result bench_trace_recorded(const struct sizes *sz, struct report *rep)
{
    struct result r = new_result("trace_replay_recorded", TARGET_NONE, 0);
    char vmsim[PATH_MAX], workload[PATH_MAX], dir[] = "/tmp/vmsim-bench-trace-XXXXXX";
    char path[PATH_MAX + 32];
    const char *why = NULL;
    if (sibling_path("vmsim", vmsim, sizeof(vmsim)) ||
        sibling_path("vmsim-bench-workload", workload, sizeof(workload)))
        why = "the vmsim tool or the workload is not beside vmsim-bench";
    else if (!valgrind_present())
        why = "valgrind is not installed (vmsim record needs it)";
    else if (!mkdtemp(dir))
        why = "no scratch folder";
    if (!why) {
        snprintf(path, sizeof(path), "%s/workload.vmt", dir);
        if (record_workload(vmsim, workload, path))
            why = "vmsim record of the workload failed";
    }
    if (why) {
        char note[200];
        snprintf(note, sizeof(note), "trace_replay_recorded: not run: %s", why);
        add_note(rep, note);
        r.vmsim_ns = 0;
        r.host_ns = 0;
        snprintf(r.work, sizeof(r.work), "-");
        return r;
    }
    struct vmt_replay_result res = {0};
    for (int i = 0; i < sz->reps; i++) {
        vmt_replay_result_free(&res);
        r.vmsim_ns = min_d(r.vmsim_ns, recorded_replay_round(path, &res));
        r.host_ns = min_d(r.host_ns, recorded_read_round(path));
    }
    const struct vms_cpu_stats *c = &res.stats.cpu[0];
    char note[200];
    snprintf(note, sizeof(note),
             "trace_replay_recorded: bench/workload (recorded here): %.1f M accesses/s replayed "
             "(vmt_replay, machine and exec included), %.1f M/s read only; L1 hits %.2f %% "
             "(DTLB %.2f %%, ITLB %.2f %%)",
             1e3 / r.vmsim_ns, 1e3 / r.host_ns,
             percent(c->dtlb_hits + c->itlb_hits,
                     c->dtlb_hits + c->itlb_hits + c->dtlb_misses + c->itlb_misses),
             percent(c->dtlb_hits, c->dtlb_hits + c->dtlb_misses),
             percent(c->itlb_hits, c->itlb_hits + c->itlb_misses));
    add_note(rep, note);
    snprintf(r.work, sizeof(r.work), "%llu accesses", (unsigned long long)res.accesses);
    vmt_replay_result_free(&res);
    unlink(path);
    rmdir(dir);
    return r;
}

/* ---- output ---- */

static int target_met(const struct result *r)
{
    if (r->target == TARGET_RATIO)
        return r->vmsim_ns / r->host_ns <= r->limit;
    return r->vmsim_ns <= r->limit;
}

static void target_text(const struct result *r, char *buf, size_t n)
{
    if (r->target == TARGET_RATIO)
        snprintf(buf, n, "ratio <= %.1f", r->limit);
    else if (r->target == TARGET_VMSIM_NS)
        snprintf(buf, n, "vmsim <= %.0f ns", r->limit);
    else
        snprintf(buf, n, "-");
}

static void print_table(const struct report *rep)
{
    printf("%-23s %12s %12s %10s  %-16s %-6s %s\n", "benchmark", "vmsim ns/op", "host ns/op",
           "vmsim/host", "target", "status", "work per run");
    for (int i = 0; i < rep->n; i++) {
        const struct result *r = &rep->r[i];
        char target[32];
        target_text(r, target, sizeof(target));
        const char *status = r->target == TARGET_NONE ? "-" : target_met(r) ? "PASS" : "MISS";
        if (r->vmsim_ns <= 0) { /* not run at all: a note says why */
            printf("%-23s %12s %12s %10s  %-16s %-6s %s\n", r->name, "n/a", "n/a", "n/a", target,
                   status, r->work);
            continue;
        }
        if (r->host_ns <= 0) { /* the host could not run it: a note says why */
            printf("%-23s %12.1f %12s %10s  %-16s %-6s %s\n", r->name, r->vmsim_ns, "n/a", "n/a",
                   target, status, r->work);
            continue;
        }
        printf("%-23s %12.1f %12.1f %10.2f  %-16s %-6s %s\n", r->name, r->vmsim_ns,
               r->host_ns, r->vmsim_ns / r->host_ns, target, status, r->work);
    }
    for (int i = 0; i < rep->nnotes; i++)
        printf("note: %s\n", rep->notes[i]);
}

static int write_json(const struct report *rep, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "[\n");
    for (int i = 0; i < rep->n; i++) {
        const struct result *r = &rep->r[i];
        if (r->vmsim_ns <= 0) { /* not run: nulls */
            fprintf(f, "  {\"name\": \"%s\", \"vmsim_ns\": null, \"host_ns\": null, \"ratio\": null}%s\n",
                    r->name, i + 1 < rep->n ? "," : "");
            continue;
        }
        if (r->host_ns <= 0) { /* no host figure: null, as JSON has no NaN */
            fprintf(f, "  {\"name\": \"%s\", \"vmsim_ns\": %.3f, \"host_ns\": null, \"ratio\": null}%s\n",
                    r->name, r->vmsim_ns, i + 1 < rep->n ? "," : "");
            continue;
        }
        fprintf(f, "  {\"name\": \"%s\", \"vmsim_ns\": %.3f, \"host_ns\": %.3f, \"ratio\": %.4f}%s\n",
                r->name, r->vmsim_ns, r->host_ns, r->vmsim_ns / r->host_ns,
                i + 1 < rep->n ? "," : "");
    }
    fprintf(f, "]\n");
    return fclose(f) ? -errno : 0;
}

/* Huge pages would hide the host's 4 KiB faults and TLB misses being
 * measured; vmsim's RAM alone asks for them (MADV_HUGEPAGE), as it always
 * does, where the kernel can leave advised memory out of the ban (Linux
 * 6.18's PR_THP_DISABLE_EXCEPT_ADVISED). */
#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1UL << 1)
#endif
static void disable_host_thp(struct report *rep)
{
    if (!prctl(PR_SET_THP_DISABLE, 1, PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0))
        return;
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
        die("prctl(PR_SET_THP_DISABLE)", errno);
    add_note(rep, "this kernel cannot exempt advised memory from PR_SET_THP_DISABLE: "
                  "vmsim's RAM runs on 4 KiB host pages too");
}

/* ---- command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim-bench [--quick] [--json PATH] [--only NAME]\n"
            "Runs the same memory-management work on vmsim and on the host kernel\n"
            "and prints ns per operation and the ratio vmsim/host.\n"
            "  --json PATH  also write the results as a JSON list to PATH\n"
            "  --quick      smaller sizes, for a smoke run\n"
            "  --only NAME  run one benchmark (anon_fault, mmap_munmap, munmap_many,\n"
            "               tlb_hit_load, tlb_miss_load, file_read_fault,\n"
            "               file_shared_write_fault, file_private_cow_fault,\n"
            "               read_vs_mmap, fork_256m, cow_fault, lua_store,\n"
            "               swap_in_fault, trace_replay, trace_replay_recorded),\n"
            "               e.g. under a profiler\n"
            "  --help       this text\n");
}

/* 0 to run, 1 when --help was asked for, -1 on a bad argument. */
static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
        if (!strcmp(argv[i], "--quick")) {
            o->quick = 1;
        } else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
            o->json_path = argv[++i];
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            o->only = argv[++i];
        } else {
            fprintf(stderr, "vmsim-bench: bad argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

static struct sizes sizes_for(int quick)
{
    if (quick)
        return (struct sizes){.fault_bytes = 8 * MiB, .pairs = 20000, .many = 10000,
                              .hit_loads = 1000000, .hit_reps = 5, .miss_bytes = 128 * MiB,
                              .miss_loads = 200000, .miss_phys = 256 * MiB, .file_bytes = 8 * MiB,
                              .stream_bytes = 16 * MiB, .fork_bytes = 32 * MiB,
                              .lua_stores = 200000, .trace_len = 1000000, .reps = 2};
    return (struct sizes){.fault_bytes = 64 * MiB, .pairs = 200000, .many = MANY_WANTED,
                          .hit_loads = 10000000, .hit_reps = 20, .miss_bytes = 1 * GiB,
                          .miss_loads = 2000000, .miss_phys = 2 * GiB, .file_bytes = 64 * MiB,
                          .stream_bytes = 256 * MiB, .fork_bytes = 256 * MiB,
                          .lua_stores = 2000000, .trace_len = 10000000, .reps = 5};
}

static int selected(const struct options *o, const char *name)
{
    return !o->only || !strcmp(o->only, name);
}

static int file_bench_selected(const struct options *o)
{
    if (selected(o, "read_vs_mmap"))
        return 1;
    for (size_t i = 0; i < sizeof(FILE_FAULT_KINDS) / sizeof(FILE_FAULT_KINDS[0]); i++)
        if (selected(o, FILE_FAULT_KINDS[i].name))
            return 1;
    return 0;
}

static void run_file_benches(const struct options *o, const struct sizes *sz,
                             struct report *rep)
{
    if (!file_bench_selected(o))
        return;
    struct scratch sc;
    scratch_create(&sc, sz);
    for (size_t i = 0; i < sizeof(FILE_FAULT_KINDS) / sizeof(FILE_FAULT_KINDS[0]); i++)
        if (selected(o, FILE_FAULT_KINDS[i].name))
            rep->r[rep->n++] = bench_file_fault(sz, &sc, &FILE_FAULT_KINDS[i]);
    if (selected(o, "read_vs_mmap"))
        bench_read_vs_mmap(sz, &sc, rep);
    scratch_remove(&sc);
    add_note(rep, "file_*_fault: ns per page over a sequential first touch of the whole "
                  "mapping, fault-around (64 KiB on both sides) included");
}

static void run_fork_benches(const struct options *o, const struct sizes *sz,
                             struct report *rep)
{
    int forks = selected(o, "fork_256m"), cows = selected(o, "cow_fault");
    if (forks)
        rep->r[rep->n++] = bench_fork(sz, HELPER_FORK);
    if (cows)
        rep->r[rep->n++] = bench_fork(sz, HELPER_COW);
    if (forks)
        add_note(rep, "fork_256m: ns per fork + the child's immediate exit + the parent's wait; "
                      "the parent's memory written again before each fork");
    if (cows)
        add_note(rep, "cow_fault: ns per page of a forked child's first one-byte write to each "
                      "page of the parent's written memory (the child's own clock)");
}

int main(int argc, char **argv)
{
    struct options opt = {0};
    int a = parse_args(argc, argv, &opt);
    if (a) {
        usage(a > 0 ? stdout : stderr);
        return a > 0 ? 0 : 2;
    }
    struct sizes sz = sizes_for(opt.quick);
    struct report rep = {0};
    disable_host_thp(&rep);
    if (selected(&opt, "anon_fault"))
        rep.r[rep.n++] = bench_anon_fault(&sz);
    if (selected(&opt, "mmap_munmap"))
        rep.r[rep.n++] = bench_mmap_munmap(&sz);
    if (selected(&opt, "munmap_many"))
        rep.r[rep.n++] = bench_munmap_many(&sz, &rep);
    if (selected(&opt, "tlb_hit_load"))
        rep.r[rep.n++] = bench_tlb_hit(&sz, &rep);
    if (selected(&opt, "tlb_miss_load"))
        rep.r[rep.n++] = bench_tlb_miss(&sz, &rep);
    run_file_benches(&opt, &sz, &rep);
    run_fork_benches(&opt, &sz, &rep);
    if (selected(&opt, "lua_store"))
        rep.r[rep.n++] = bench_lua(&sz, &rep);
    if (selected(&opt, "swap_in_fault"))
        rep.r[rep.n++] = bench_swap_in(&sz, &rep);
    if (selected(&opt, "trace_replay"))
        rep.r[rep.n++] = bench_trace_replay(&sz, &rep);
    if (selected(&opt, "trace_replay_recorded"))
        rep.r[rep.n++] = bench_trace_recorded(&sz, &rep);
    if (rep.n == 0) {
        fprintf(stderr, "vmsim-bench: no benchmark named '%s'\n", opt.only);
        return 2;
    }
    char note[160];
    snprintf(note, sizeof(note), "each figure is the fastest of %d timed runs (tlb_hit_load: %d)",
             sz.reps, sz.hit_reps);
    add_note(&rep, note);
    print_table(&rep);
    if (opt.json_path) {
        int err = write_json(&rep, opt.json_path);
        if (err)
            die(opt.json_path, -err);
    }
    return 0;
}
