/*
 * vmsim-bench: the same memory-management work run on vmsim and on the host
 * kernel in one process, reported as nanoseconds per operation and the ratio
 * vmsim/host. Covers first-touch anonymous faults, mmap+munmap pairs,
 * unmapping many separate VMAs, TLB-hit loads and TLB-miss loads.
 *
 * Every measurement is repeated, alternating vmsim and host, and the fastest
 * run kept: the minimum is the run least disturbed by the rest of the machine.
 * Memory is touched (or a whole round run) untimed first on both sides, so
 * that neither pays for the host backing fresh memory for the first time.
 */
#include "vmsim.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

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

#define NBENCH 5

/* Everything the run produces, passed along instead of kept in globals. */
struct report {
    struct result r[NBENCH];
    int n;
    char notes[3][160];
    int nnotes;
};

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

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

static struct sim sim_open(uint64_t phys_bytes, unsigned max_map_count)
{
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = phys_bytes;
    if (max_map_count)
        cfg.max_map_count = max_map_count;
    struct sim s = {vms_machine_create(&cfg), NULL};
    if (!s.m)
        die("vms_machine_create", errno);
    s.t = vms_spawn(s.m, "bench");
    if (!s.t)
        die("vms_spawn", errno);
    return s;
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
    struct result r = new_result("tlb_hit_load", TARGET_VMSIM_NS, 10.0);
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

static struct result bench_tlb_miss(const struct sizes *sz)
{
    struct result r = new_result("tlb_miss_load", TARGET_NONE, 0);
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
    host_munmap(hbase, sz->miss_bytes);
    sim_close(&s);
    free(off);
    snprintf(r.work, sizeof(r.work), "%llu MiB", (unsigned long long)(sz->miss_bytes / MiB));
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
    printf("%-14s %12s %12s %10s  %-16s %-6s %s\n", "benchmark", "vmsim ns/op", "host ns/op",
           "vmsim/host", "target", "status", "work per run");
    for (int i = 0; i < rep->n; i++) {
        const struct result *r = &rep->r[i];
        char target[32];
        target_text(r, target, sizeof(target));
        const char *status = r->target == TARGET_NONE ? "-" : target_met(r) ? "PASS" : "MISS";
        printf("%-14s %12.1f %12.1f %10.2f  %-16s %-6s %s\n", r->name, r->vmsim_ns,
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
        fprintf(f, "  {\"name\": \"%s\", \"vmsim_ns\": %.3f, \"host_ns\": %.3f, \"ratio\": %.4f}%s\n",
                r->name, r->vmsim_ns, r->host_ns, r->vmsim_ns / r->host_ns,
                i + 1 < rep->n ? "," : "");
    }
    fprintf(f, "]\n");
    return fclose(f) ? -errno : 0;
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
            "               tlb_hit_load, tlb_miss_load), e.g. under a profiler\n"
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
                              .miss_loads = 200000, .miss_phys = 256 * MiB, .reps = 2};
    return (struct sizes){.fault_bytes = 64 * MiB, .pairs = 200000, .many = MANY_WANTED,
                          .hit_loads = 10000000, .hit_reps = 20, .miss_bytes = 1 * GiB,
                          .miss_loads = 2000000, .miss_phys = 2 * GiB, .reps = 5};
}

static int selected(const struct options *o, const char *name)
{
    return !o->only || !strcmp(o->only, name);
}

int main(int argc, char **argv)
{
    struct options opt = {0};
    int a = parse_args(argc, argv, &opt);
    if (a) {
        usage(a > 0 ? stdout : stderr);
        return a > 0 ? 0 : 2;
    }
    /* Huge pages would hide the 4 KiB faults and TLB misses being measured. */
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
        die("prctl(PR_SET_THP_DISABLE)", errno);
    struct sizes sz = sizes_for(opt.quick);
    struct report rep = {0};
    if (selected(&opt, "anon_fault"))
        rep.r[rep.n++] = bench_anon_fault(&sz);
    if (selected(&opt, "mmap_munmap"))
        rep.r[rep.n++] = bench_mmap_munmap(&sz);
    if (selected(&opt, "munmap_many"))
        rep.r[rep.n++] = bench_munmap_many(&sz, &rep);
    if (selected(&opt, "tlb_hit_load"))
        rep.r[rep.n++] = bench_tlb_hit(&sz, &rep);
    if (selected(&opt, "tlb_miss_load"))
        rep.r[rep.n++] = bench_tlb_miss(&sz);
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
