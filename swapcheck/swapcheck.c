/*
 * vmsim-swapcheck: the host oracle for memory larger than RAM. Each pattern
 * runs on this kernel in a child confined to a memory cgroup (16 MiB, THP
 * off) with a swap file this program makes and removes, and on vmsim with the
 * same memory for user pages and the same swap; it prints, for each phase,
 * minor and major faults (getrusage) and pswpin/pswpout (/proc/vmstat: the
 * whole host's, which nothing else moves while the oracle runs), host against
 * vmsim. Every value read back is checked on both sides.
 *
 * Needs root, a memory cgroup (v1 memory.limit_in_bytes or v2 memory.max)
 * and swapon(2) of a file; without them it says why and exits 77 (skip).
 * Swap is on only while the patterns run: swapoff, the file and the cgroups
 * go at the end, on an error and on a signal too.
 *
 * Uses vmsim only through include/vmsim.h and include/vmsim_host.h; the
 * host's swap and cgroups are made by host_swap.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmsim.h"
#include "vmsim_host.h"
#include "host_swap.h"

#define PG 4096ULL
#define MIB (1ULL << 20)
#define LIMIT (16 * MIB)
#define SWAP_BYTES (96 * MIB)
#define EXIT_SKIP 77
#define MAX_PHASES 24


/* ---- what one side measured ---- */

struct counts {
    uint64_t minflt, majflt, pswpin, pswpout;
};

struct phase {
    char name[48];
    struct counts d;     /* what the phase cost */
    uint64_t bad_values; /* values read back that were not the ones written */
};

struct result {
    unsigned nphases;
    struct phase ph[MAX_PHASES];
};

/* ---- the two sides behind one interface ---- */

struct side {
    const char *name;
    void *ctx;
    uint64_t (*map_anon)(struct side *s, uint64_t pages);
    uint64_t (*map_file)(struct side *s, const char *name, uint64_t pages);
    void (*store)(struct side *s, uint64_t addr, uint64_t v);
    uint64_t (*load)(struct side *s, uint64_t addr);
    void (*pageout)(struct side *s, uint64_t addr, uint64_t pages);
    void (*counts)(struct side *s, struct counts *c);
    /* Runs fn in a forked copy of the process; its phases join r. */
    void (*in_child)(struct side *s, void (*fn)(struct side *, void *, struct result *), void *arg,
                     struct result *r);
};

static uint64_t value_of(uint64_t page, unsigned round) { return page * 0x9e3779b97f4a7c15ULL ^ round; }

/* A phase: the counts around fn's accesses. */
struct phase_run {
    struct side *s;
    struct result *r;
    struct phase *p;
    struct counts before;
};

static void phase_begin(struct phase_run *pr, struct side *s, struct result *r, const char *name)
{
    pr->s = s;
    pr->r = r;
    pr->p = &r->ph[r->nphases++];
    memset(pr->p, 0, sizeof(*pr->p));
    snprintf(pr->p->name, sizeof(pr->p->name), "%s", name);
    s->counts(s, &pr->before);
}

static void phase_end(struct phase_run *pr)
{
    struct counts after;
    pr->s->counts(pr->s, &after);
    pr->p->d.minflt = after.minflt - pr->before.minflt;
    pr->p->d.majflt = after.majflt - pr->before.majflt;
    pr->p->d.pswpin = after.pswpin - pr->before.pswpin;
    pr->p->d.pswpout = after.pswpout - pr->before.pswpout;
}

static void write_pages(struct side *s, uint64_t a, uint64_t first, uint64_t n, unsigned round)
{
    for (uint64_t i = first; i < first + n; i++)
        s->store(s, a + i * PG, value_of(i, round));
}

static uint64_t read_pages(struct side *s, uint64_t a, uint64_t first, uint64_t n, unsigned round)
{
    uint64_t bad = 0;
    for (uint64_t i = first; i < first + n; i++)
        bad += s->load(s, a + i * PG) != value_of(i, round);
    return bad;
}

/* ---- the patterns ---- */

#define LIMIT_PAGES (LIMIT / PG)

/* Twice the limit touched in order, then read twice. */
static void pattern_sequential(struct side *s, struct result *r)
{
    uint64_t n = 2 * LIMIT_PAGES, a = s->map_anon(s, n);
    struct phase_run pr;
    phase_begin(&pr, s, r, "seq: touch 32 MiB");
    write_pages(s, a, 0, n, 0);
    phase_end(&pr);
    phase_begin(&pr, s, r, "seq: read pass 1");
    pr.p->bad_values = read_pages(s, a, 0, n, 0);
    phase_end(&pr);
    phase_begin(&pr, s, r, "seq: read pass 2");
    pr.p->bad_values = read_pages(s, a, 0, n, 0);
    phase_end(&pr);
}

/* A 4 MiB hot set read again after every 1 MiB of a 32 MiB cold scan. */
static void pattern_hot_cold(struct side *s, struct result *r)
{
    uint64_t hot_n = LIMIT_PAGES / 4, cold_n = 2 * LIMIT_PAGES;
    uint64_t hot = s->map_anon(s, hot_n), cold = s->map_anon(s, cold_n);
    struct phase_run pr;
    phase_begin(&pr, s, r, "hot/cold: hot set 4 MiB");
    write_pages(s, hot, 0, hot_n, 1);
    phase_end(&pr);
    phase_begin(&pr, s, r, "hot/cold: scan 32 MiB");
    for (uint64_t i = 0; i < cold_n; i += 256) {
        write_pages(s, cold, i, 256, 2);
        pr.p->bad_values += read_pages(s, hot, 0, hot_n, 1);
    }
    phase_end(&pr);
    phase_begin(&pr, s, r, "hot/cold: hot set again");
    pr.p->bad_values = read_pages(s, hot, 0, hot_n, 1);
    phase_end(&pr);
}

#define FILE_NAME "swapcheck.dat"
#define FILE_PAGES (2 * LIMIT_PAGES)

/* A 32 MiB file (page i holds value_of(i, 3)) read through a mapping, twice. */
static void pattern_file(struct side *s, struct result *r)
{
    uint64_t a = s->map_file(s, FILE_NAME, FILE_PAGES);
    struct phase_run pr;
    phase_begin(&pr, s, r, "file: read 32 MiB");
    pr.p->bad_values = read_pages(s, a, 0, FILE_PAGES, 3);
    phase_end(&pr);
    phase_begin(&pr, s, r, "file: read again");
    pr.p->bad_values = read_pages(s, a, 0, FILE_PAGES, 3);
    phase_end(&pr);
}

/* 4 MiB written, MADV_PAGEOUT, read back. */
static void pattern_pageout(struct side *s, struct result *r)
{
    uint64_t n = LIMIT_PAGES / 4, a = s->map_anon(s, n);
    write_pages(s, a, 0, n, 4);
    struct phase_run pr;
    phase_begin(&pr, s, r, "pageout: MADV_PAGEOUT 4 MiB");
    s->pageout(s, a, n);
    phase_end(&pr);
    phase_begin(&pr, s, r, "pageout: read back");
    pr.p->bad_values = read_pages(s, a, 0, n, 4);
    phase_end(&pr);
}

struct fork_arg {
    uint64_t a, n;
};

static void fork_child_reads(struct side *s, void *arg, struct result *r)
{
    const struct fork_arg *fa = arg;
    struct phase_run pr;
    phase_begin(&pr, s, r, "fork: child reads 24 MiB");
    pr.p->bad_values = read_pages(s, fa->a, 0, fa->n, 5);
    phase_end(&pr);
}

/* 24 MiB written (a third of it goes to swap), fork: the child reads it
 * all, then the parent writes it all. */
static void pattern_fork(struct side *s, struct result *r)
{
    struct fork_arg fa = {.n = LIMIT_PAGES * 3 / 2};
    fa.a = s->map_anon(s, fa.n);
    struct phase_run pr;
    phase_begin(&pr, s, r, "fork: parent writes 24 MiB");
    write_pages(s, fa.a, 0, fa.n, 5);
    phase_end(&pr);
    s->in_child(s, fork_child_reads, &fa, r);
    phase_begin(&pr, s, r, "fork: parent writes again");
    write_pages(s, fa.a, 0, fa.n, 6);
    pr.p->bad_values = read_pages(s, fa.a, 0, fa.n, 6);
    phase_end(&pr);
}

static const struct {
    const char *name;
    void (*run)(struct side *s, struct result *r);
} patterns[] = {
    {"sequential", pattern_sequential},
    {"hot/cold", pattern_hot_cold},
    {"file", pattern_file},
    {"pageout", pattern_pageout},
    {"fork", pattern_fork},
};
#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

/* ---- the host side ---- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    host_swap_teardown(); /* nothing in a child: the parent undoes */
    _exit(2);
}

static uint64_t host_map_anon(struct side *s, uint64_t pages)
{
    (void)s;
    void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    return (uint64_t)(uintptr_t)p;
}

static uint64_t host_map_file(struct side *s, const char *name, uint64_t pages)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", (const char *)s->ctx, name);
    int fd = open(path, O_RDONLY);
    void *p = fd < 0 ? MAP_FAILED : mmap(NULL, pages * PG, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("%s: %s", path, strerror(errno));
    close(fd);
    return (uint64_t)(uintptr_t)p;
}

static void host_store(struct side *s, uint64_t addr, uint64_t v)
{
    (void)s;
    *(volatile uint64_t *)(uintptr_t)addr = v;
}

static uint64_t host_load(struct side *s, uint64_t addr)
{
    (void)s;
    return *(volatile uint64_t *)(uintptr_t)addr;
}

static void host_pageout(struct side *s, uint64_t addr, uint64_t pages)
{
    (void)s;
    if (madvise((void *)(uintptr_t)addr, pages * PG, MADV_PAGEOUT))
        die("madvise: %s", strerror(errno));
}

static void host_counts(struct side *s, struct counts *c)
{
    (void)s;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    c->minflt = (uint64_t)ru.ru_minflt;
    c->majflt = (uint64_t)ru.ru_majflt;
    c->pswpin = host_vmstat("pswpin");
    c->pswpout = host_vmstat("pswpout");
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void host_in_child(struct side *s, void (*fn)(struct side *, void *, struct result *),
                          void *arg, struct result *r)
{
    int p[2];
    if (pipe(p))
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        struct result cr = {0};
        fn(s, arg, &cr);
        _exit(host_write_all(p[1], &cr, sizeof(cr)) ? 3 : 0);
    }
    close(p[1]);
    struct result cr;
    int ok = !read_all(p[0], &cr, sizeof(cr));
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status))
        die("the forked child failed (status %#x)", status);
    for (unsigned i = 0; i < cr.nphases && r->nphases < MAX_PHASES; i++)
        r->ph[r->nphases++] = cr.ph[i];
}

/* ---- the host's runs ---- */

static void make_data_file(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, FILE_NAME);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    static uint64_t page[PG / 8];
    for (uint64_t i = 0; i < FILE_PAGES; i++) { /* 4 KiB writes: small folios */
        memset(page, 0, sizeof(page));
        page[0] = value_of(i, 3);
        if (host_write_all(fd, page, PG))
            die("%s: %s", path, strerror(errno));
    }
    if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
        die("%s: %s", path, strerror(errno));
    close(fd);
}

/* One pattern in a child in a fresh cgroup: its phases come back by pipe. */
static void host_run_pattern(unsigned i, struct result *r)
{
    if (host_swap_cgroup_new(LIMIT))
        die("a memory cgroup: %s", strerror(errno));
    make_data_file(host_swap_dir());
    int p[2];
    if (pipe(p))
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (host_swap_cgroup_enter())
            _exit(4);
        prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
        struct side s = {"host", (void *)host_swap_dir(), host_map_anon, host_map_file, host_store, host_load,
                         host_pageout, host_counts, host_in_child};
        struct result cr = {0};
        patterns[i].run(&s, &cr);
        _exit(host_write_all(p[1], &cr, sizeof(cr)) ? 3 : 0);
    }
    host_swap_watch_child(pid);
    close(p[1]);
    int ok = !read_all(p[0], r, sizeof(*r));
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    host_swap_watch_child(0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status))
        die("pattern %s failed on the host (status %#x)", patterns[i].name, status);
    host_swap_cgroup_remove();
}

/* ---- the vmsim side ---- */

struct sim {
    vms_machine *m;
    vms_task *t;
};

static void sim_check(int err, const char *what)
{
    if (err < 0)
        die("vmsim: %s: %s", what, strerror(-err));
    if (err > 0)
        die("vmsim: %s: signal %d", what, err);
}

static uint64_t sim_map_anon(struct side *s, uint64_t pages)
{
    struct sim *sim = s->ctx;
    int64_t a = vms_mmap(sim->t, 0, pages * PG, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sim_check(a < 0 ? (int)a : 0, "mmap");
    return (uint64_t)a;
}

static uint64_t sim_map_file(struct side *s, const char *name, uint64_t pages)
{
    struct sim *sim = s->ctx;
    int fd = vms_open(sim->t, name, O_RDONLY, 0);
    sim_check(fd < 0 ? fd : 0, name);
    int64_t a = vms_mmap(sim->t, 0, pages * PG, PROT_READ, MAP_SHARED, fd, 0);
    sim_check(a < 0 ? (int)a : 0, "mmap of the file");
    vms_close(sim->t, fd);
    return (uint64_t)a;
}

static void sim_store(struct side *s, uint64_t addr, uint64_t v)
{
    struct sim *sim = s->ctx;
    sim_check(vms_store(sim->t, addr, &v, sizeof(v)), "store");
}

static uint64_t sim_load(struct side *s, uint64_t addr)
{
    struct sim *sim = s->ctx;
    uint64_t v = 0;
    sim_check(vms_load(sim->t, addr, &v, sizeof(v)), "load");
    return v;
}

static void sim_pageout(struct side *s, uint64_t addr, uint64_t pages)
{
    struct sim *sim = s->ctx;
    sim_check(vms_madvise(sim->t, addr, pages * PG, MADV_PAGEOUT), "madvise");
}

static void sim_counts(struct side *s, struct counts *c)
{
    struct sim *sim = s->ctx;
    vms_task_rusage(sim->t, &c->minflt, &c->majflt);
    struct vms_stats *st = malloc(sizeof(*st));
    if (!st)
        die("out of memory");
    vms_get_stats(sim->m, st);
    c->pswpin = st->vm.pswpin;
    c->pswpout = st->vm.pswpout;
    free(st);
}

static void sim_in_child(struct side *s, void (*fn)(struct side *, void *, struct result *),
                         void *arg, struct result *r)
{
    struct sim *sim = s->ctx, child = {sim->m, vms_fork(sim->t)};
    if (!child.t)
        die("vmsim: fork: %s", strerror(errno));
    struct side cs = *s;
    cs.ctx = &child;
    fn(&cs, arg, r);
    vms_exit(child.t);
}

/* The host's settings, and RAM that leaves LIMIT for user pages once the
 * machine's own frames (zero page, the task's top table) are counted. */
static vms_machine *sim_machine(const struct host_profile *hp, const char *root)
{
    struct vms_config c;
    vms_config_init(&c);
    host_profile_apply(hp, &c);
    c.root = root;
    c.phys_bytes = LIMIT;
    c.swap_bytes = SWAP_BYTES - PG; /* the header page is not swap */
    c.min_free_kbytes = 0;          /* a cgroup's limit keeps no reserve */
    c.watermark_scale_factor = 1;
    c.cgroup_reclaim = 1;           /* the host's reclaim is the cgroup's */
    char msg[160];
    if (vms_config_check(&c, msg, sizeof(msg)))
        die("vmsim: %s", msg);
    return vms_machine_create(&c);
}

static void sim_run_pattern(unsigned i, const struct host_profile *hp, struct result *r)
{
    struct sim sim = {sim_machine(hp, host_swap_dir()), NULL};
    if (!sim.m)
        die("vmsim: machine: %s", strerror(errno));
    sim.t = vms_spawn(sim.m, "swapcheck");
    if (!sim.t)
        die("vmsim: spawn: %s", strerror(errno));
    make_data_file(host_swap_dir());
    struct side s = {"vmsim", &sim, sim_map_anon, sim_map_file, sim_store, sim_load,
                     sim_pageout, sim_counts, sim_in_child};
    memset(r, 0, sizeof(*r));
    patterns[i].run(&s, r);
    if (vms_check(sim.m, stderr))
        die("vmsim: vms_check failed after %s", patterns[i].name);
    vms_machine_destroy(sim.m);
}

/* ---- the table ---- */

/* The host's child faults on and swaps a few pages of its own (stack,
 * stdio, /proc reads): differences up to this many pages are that noise. */
#define NOISE_PAGES 16

static int within(uint64_t h, uint64_t v)
{
    uint64_t d = h > v ? h - v : v - h, big = h > v ? h : v;
    return d * 10 <= big || d <= NOISE_PAGES;
}

static unsigned print_row(const char *phase, const char *what, uint64_t h, uint64_t v)
{
    char ratio[16] = "-";
    if (h)
        snprintf(ratio, sizeof(ratio), "%.2f", (double)v / (double)h);
    int ok = within(h, v);
    printf("| %-28s | %-7s | %8" PRIu64 " | %8" PRIu64 " | %5s | %s |\n", phase, what, h, v, ratio,
           ok ? "yes" : "NO");
    return !ok;
}

static unsigned print_table(const struct result *host, const struct result *sim, uint64_t *bad)
{
    unsigned differ = 0;
    for (unsigned p = 0; p < host->nphases && p < sim->nphases; p++) {
        const struct phase *h = &host->ph[p], *v = &sim->ph[p];
        differ += print_row(h->name, "minor", h->d.minflt, v->d.minflt);
        differ += print_row("", "major", h->d.majflt, v->d.majflt);
        differ += print_row("", "pswpin", h->d.pswpin, v->d.pswpin);
        differ += print_row("", "pswpout", h->d.pswpout, v->d.pswpout);
        *bad += h->bad_values + v->bad_values;
    }
    return differ;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    int strict = argc > 1 && !strcmp(argv[1], "--strict");
    if (argc > 1 && !strict) {
        fprintf(stderr, "usage: vmsim-swapcheck [--strict]\n"
                        "  --strict: exit 1 when a count differs by more than 10 %%\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char why[160];
    if (host_swap_setup(SWAP_BYTES, why, sizeof(why))) {
        printf("vmsim-swapcheck: skipped: %s\n", why);
        return EXIT_SKIP;
    }
    struct host_profile hp;
    host_profile_read(&hp, host_swap_dir());

    static struct result host[NPATTERNS], sim[NPATTERNS];
    for (unsigned i = 0; i < NPATTERNS; i++)
        host_run_pattern(i, &host[i]);
    host_swap_off(); /* swap off before vmsim's side, which needs none of it */
    for (unsigned i = 0; i < NPATTERNS; i++)
        sim_run_pattern(i, &hp, &sim[i]);

    printf("Linux %s, cgroup %s limit %llu MiB, swap file %llu MiB, page-cluster %u, "
           "swappiness %u, THP off\n\n",
           hp.kernel, host_swap_cgroup_v2() ? "v2" : "v1", (unsigned long long)(LIMIT / MIB),
           (unsigned long long)(SWAP_BYTES / MIB), hp.page_cluster, hp.swappiness);
    printf("| %-28s | %-7s | %8s | %8s | %5s | %s |\n", "pattern", "count", "host", "vmsim",
           "ratio", "within 10 %");
    printf("|------------------------------|---------|----------|----------|-------|-----|\n");
    unsigned differ = 0;
    uint64_t bad = 0;
    for (unsigned i = 0; i < NPATTERNS; i++)
        differ += print_table(&host[i], &sim[i], &bad);
    printf("\n%u counts differ by more than 10 %% (and %d pages); %" PRIu64
           " values read back wrong\n", differ, NOISE_PAGES, bad);
    host_swap_teardown();
    return bad ? 1 : strict && differ ? 1 : 0;
}
