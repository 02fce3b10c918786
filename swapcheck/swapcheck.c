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

/* Counters a phase moves. The host's reclaim counters (activations,
 * restores, scans, steals, list moves) are the whole host's /proc/vmstat,
 * as the swap counters; its refaults are the cgroup's own (memory.stat).
 * The host counts no pgrefill for a cgroup's reclaim outside the cgroup,
 * and cgroup v1 shows none: active-list scans are not compared. */
enum count {
    C_MINFLT, C_MAJFLT, C_PSWPIN, C_PSWPOUT,
    C_REFAULT_ANON, C_REFAULT_FILE, C_ACTIVATE_ANON, C_ACTIVATE_FILE,
    C_RESTORE_ANON, C_RESTORE_FILE,
    C_SCAN_ANON, C_SCAN_FILE, C_STEAL_ANON, C_STEAL_FILE, C_PGACTIVATE, C_PGDEACTIVATE,
    NCOUNTS
};

/* The LRU lists' sizes in pages once a phase has ended. */
enum lru_size { L_ACTIVE_ANON, L_INACTIVE_ANON, L_ACTIVE_FILE, L_INACTIVE_FILE, NLISTS };

struct counts {
    uint64_t v[NCOUNTS];
};

struct phase {
    char name[48];
    struct counts d;        /* what the phase cost */
    uint64_t bad_values;    /* values read back that were not the ones written */
    int detail;             /* the reclaim counters and lists are reported too */
    uint64_t lists[NLISTS]; /* with detail: the lists after the phase */
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
    void (*lists)(struct side *s, uint64_t lists[NLISTS]);
    /* Brings the cgroup's statistics up to date (the host's reading of
     * memory.stat flushes them); nothing on vmsim, whose are never behind. */
    void (*flush_stats)(struct side *s);
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
    for (int i = 0; i < NCOUNTS; i++)
        pr->p->d.v[i] = after.v[i] - pr->before.v[i];
}

/* phase_end, and the lists' sizes: the phase's reclaim is reported. */
static void phase_end_detail(struct phase_run *pr)
{
    phase_end(pr);
    pr->p->detail = 1;
    pr->s->lists(pr->s, pr->p->lists);
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

#define FBA_FILE_PAGES (LIMIT_PAGES * 3 / 4)
#define FBA_ANON_PAGES (LIMIT_PAGES * 3 / 8)
#define FBA_PASSES 6

/* A 12 MiB file read through a mapping, then 6 MiB of anonymous memory
 * written, six times over in the 16 MiB limit (18 MiB a pass): which of
 * the two reclaim takes, pass by pass, is what it reports. The anonymous
 * pages are read back at the end. */
static void file_beside_anon(struct side *s, struct result *r, const char *tag, uint64_t flush_every)
{
    uint64_t file = s->map_file(s, FILE_NAME, FBA_FILE_PAGES);
    uint64_t anon = s->map_anon(s, FBA_ANON_PAGES);
    struct phase_run pr;
    char name[48];
    for (unsigned pass = 0; pass < FBA_PASSES; pass++) {
        snprintf(name, sizeof(name), "%s: pass %u", tag, pass);
        phase_begin(&pr, s, r, name);
        for (uint64_t i = 0; i < FBA_FILE_PAGES; i += flush_every) {
            pr.p->bad_values += read_pages(s, file, i, flush_every, 3);
            s->flush_stats(s);
        }
        for (uint64_t i = 0; i < FBA_ANON_PAGES; i += flush_every) {
            write_pages(s, anon, i, flush_every, 10 + pass);
            s->flush_stats(s);
        }
        phase_end_detail(&pr);
    }
    snprintf(name, sizeof(name), "%s: anon read back", tag);
    phase_begin(&pr, s, r, name);
    pr.p->bad_values = read_pages(s, anon, 0, FBA_ANON_PAGES, 10 + FBA_PASSES - 1);
    phase_end_detail(&pr);
}

static void pattern_file_beside_anon(struct side *s, struct result *r)
{
    file_beside_anon(s, r, "fba", FBA_ANON_PAGES);
}

/* The same, with the cgroup's statistics brought up to date every 64
 * pages: on the host reclaim then sees the lists and the refaults as they
 * are (see docs/fidelity.md). */
static void pattern_file_beside_anon_flushed(struct side *s, struct result *r)
{
    file_beside_anon(s, r, "fba flushed", 64);
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
    {"file_beside_anon", pattern_file_beside_anon},
    {"file_beside_anon_flushed", pattern_file_beside_anon_flushed},
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
    c->v[C_MINFLT] = (uint64_t)ru.ru_minflt;
    c->v[C_MAJFLT] = (uint64_t)ru.ru_majflt;
    c->v[C_PSWPIN] = host_vmstat("pswpin");
    c->v[C_PSWPOUT] = host_vmstat("pswpout");
    c->v[C_REFAULT_ANON] = host_swap_cgroup_stat("workingset_refault_anon");
    c->v[C_REFAULT_FILE] = host_swap_cgroup_stat("workingset_refault_file");
    c->v[C_ACTIVATE_ANON] = host_vmstat("workingset_activate_anon");
    c->v[C_ACTIVATE_FILE] = host_vmstat("workingset_activate_file");
    c->v[C_RESTORE_ANON] = host_vmstat("workingset_restore_anon");
    c->v[C_RESTORE_FILE] = host_vmstat("workingset_restore_file");
    c->v[C_SCAN_ANON] = host_vmstat("pgscan_anon");
    c->v[C_SCAN_FILE] = host_vmstat("pgscan_file");
    c->v[C_STEAL_ANON] = host_vmstat("pgsteal_anon");
    c->v[C_STEAL_FILE] = host_vmstat("pgsteal_file");
    c->v[C_PGACTIVATE] = host_vmstat("pgactivate");
    c->v[C_PGDEACTIVATE] = host_vmstat("pgdeactivate");
}

static void host_flush_stats(struct side *s)
{
    (void)s;
    (void)host_swap_cgroup_stat("cache");
}

static void host_lists(struct side *s, uint64_t lists[NLISTS])
{
    (void)s;
    lists[L_ACTIVE_ANON] = host_swap_cgroup_stat("active_anon") / PG;
    lists[L_INACTIVE_ANON] = host_swap_cgroup_stat("inactive_anon") / PG;
    lists[L_ACTIVE_FILE] = host_swap_cgroup_stat("active_file") / PG;
    lists[L_INACTIVE_FILE] = host_swap_cgroup_stat("inactive_file") / PG;
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
                         host_pageout, host_counts, host_lists, host_flush_stats, host_in_child};
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
    vms_task_rusage(sim->t, &c->v[C_MINFLT], &c->v[C_MAJFLT]);
    vms_cgroup_flush_stats(sim->m); /* the host reads the refaults from memory.stat */
    struct vms_stats *st = malloc(sizeof(*st));
    if (!st)
        die("out of memory");
    vms_get_stats(sim->m, st);
    c->v[C_PSWPIN] = st->vm.pswpin;
    c->v[C_PSWPOUT] = st->vm.pswpout;
    c->v[C_REFAULT_ANON] = st->vm.workingset_refault_anon;
    c->v[C_REFAULT_FILE] = st->vm.workingset_refault_file;
    c->v[C_ACTIVATE_ANON] = st->vm.workingset_activate_anon;
    c->v[C_ACTIVATE_FILE] = st->vm.workingset_activate_file;
    c->v[C_RESTORE_ANON] = st->vm.workingset_restore_anon;
    c->v[C_RESTORE_FILE] = st->vm.workingset_restore_file;
    c->v[C_SCAN_ANON] = st->vm.pgscan_anon;
    c->v[C_SCAN_FILE] = st->vm.pgscan_file;
    c->v[C_STEAL_ANON] = st->vm.pgsteal_anon;
    c->v[C_STEAL_FILE] = st->vm.pgsteal_file;
    c->v[C_PGACTIVATE] = st->vm.pgactivate;
    c->v[C_PGDEACTIVATE] = st->vm.pgdeactivate;
    free(st);
}

static void sim_flush_stats(struct side *s)
{
    struct sim *sim = s->ctx;
    vms_cgroup_flush_stats(sim->m);
}

/* The lists' sizes, as /proc/meminfo shows them (kB). */
static void sim_lists(struct side *s, uint64_t lists[NLISTS])
{
    static const char *const keys[NLISTS] = {"Active(anon):", "Inactive(anon):", "Active(file):",
                                             "Inactive(file):"};
    struct sim *sim = s->ctx;
    vms_cgroup_flush_stats(sim->m); /* the host reads them from memory.stat */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f || vms_meminfo(sim->m, f) < 0)
        die("vmsim: meminfo");
    fclose(f);
    for (int l = 0; l < NLISTS; l++) {
        const char *at = strstr(text, keys[l]);
        unsigned long long kb = 0;
        if (!at || sscanf(at + strlen(keys[l]), "%llu", &kb) != 1)
            die("vmsim: meminfo has no %s", keys[l]);
        lists[l] = kb * 1024 / PG;
    }
    free(text);
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
    c.cgroup_flushed_stats = 1;     /* on the cgroup's statistics as last flushed */
    char msg[160];
    if (vms_config_check(&c, msg, sizeof(msg)))
        die("vmsim: %s", msg);
    return vms_machine_create(&c);
}

static void sim_run_pattern(unsigned i, const struct host_profile *hp, const char *dir,
                            struct result *r)
{
    struct sim sim = {sim_machine(hp, dir), NULL};
    if (!sim.m)
        die("vmsim: machine: %s", strerror(errno));
    sim.t = vms_spawn(sim.m, "swapcheck");
    if (!sim.t)
        die("vmsim: spawn: %s", strerror(errno));
    make_data_file(dir);
    struct side s = {"vmsim", &sim, sim_map_anon, sim_map_file, sim_store, sim_load,
                     sim_pageout, sim_counts, sim_lists, sim_flush_stats, sim_in_child};
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
#define MAX_RUNS 32

static int within(uint64_t h, uint64_t v)
{
    uint64_t d = h > v ? h - v : v - h, big = h > v ? h : v;
    return d * 10 <= big || d <= NOISE_PAGES;
}

/* A row's figures: every field a phase reports, in the order printed;
 * the first four always, the rest for a phase with detail. */
#define NFIELDS (NCOUNTS + NLISTS)
#define NMAIN_FIELDS 4

static const char *const field_names[NFIELDS] = {
    "minor", "major", "pswpin", "pswpout",
    "refault anon", "refault file", "activate anon*", "activate file*",
    "restore anon*", "restore file*",
    "pgscan anon*", "pgscan file*", "pgsteal anon*", "pgsteal file*", "pgactivate*", "pgdeactivate*",
    "active anon", "inactive anon", "active file", "inactive file",
};

static uint64_t field_of(const struct phase *p, unsigned f)
{
    return f < NCOUNTS ? p->d.v[f] : p->lists[f - NCOUNTS];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The host's figure over its runs: median (the mean of the middle two of an
 * even count), lowest and highest. */
struct spread {
    uint64_t median, lo, hi;
};

static struct spread host_spread(struct result host[][MAX_RUNS], unsigned pat, unsigned runs,
                                 unsigned ph, unsigned f)
{
    uint64_t v[MAX_RUNS];
    for (unsigned r = 0; r < runs; r++)
        v[r] = field_of(&host[pat][r].ph[ph], f);
    qsort(v, runs, sizeof(v[0]), cmp_u64);
    uint64_t median = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2] + 1) / 2;
    return (struct spread){median, v[0], v[runs - 1]};
}

static unsigned print_row(const char *phase, const char *what, struct spread h, uint64_t v,
                          unsigned runs)
{
    char ratio[16] = "-", range[32] = "";
    if (h.median)
        snprintf(ratio, sizeof(ratio), "%.2f", (double)v / (double)h.median);
    if (runs > 1)
        snprintf(range, sizeof(range), " %" PRIu64 "-%" PRIu64 " |", h.lo, h.hi);
    int ok = within(h.median, v);
    printf("| %-28s | %-14s | %8" PRIu64 " |%s %8" PRIu64 " | %5s | %s |\n", phase, what, h.median,
           range, v, ratio, ok ? "yes" : "NO");
    return !ok;
}

/* One pattern's rows; counts how many of the main ones differ. */
static unsigned print_table(struct result host[][MAX_RUNS], unsigned pat, unsigned runs,
                            const struct result *sim, uint64_t *bad)
{
    unsigned differ = 0;
    const struct result *h0 = &host[pat][0];
    for (unsigned p = 0; p < h0->nphases && p < sim->nphases; p++) {
        const struct phase *v = &sim->ph[p];
        unsigned nf = v->detail ? NFIELDS : NMAIN_FIELDS;
        for (unsigned f = 0; f < nf; f++) {
            unsigned d = print_row(f ? "" : h0->ph[p].name, field_names[f],
                                   host_spread(host, pat, runs, p, f), field_of(v, f), runs);
            if (f < NMAIN_FIELDS)
                differ += d;
        }
        for (unsigned r = 0; r < runs; r++)
            *bad += host[pat][r].ph[p].bad_values;
        *bad += v->bad_values;
    }
    return differ;
}

/* ---- main ---- */

struct options {
    int strict;
    int vmsim_only; /* no host runs: vmsim's figures alone, no root needed */
    unsigned runs;
    const char *only; /* a pattern's name, or NULL for all */
};

static int usage(void)
{
    fprintf(stderr, "usage: vmsim-swapcheck [--strict] [--runs N] [--pattern NAME] [--vmsim-only]\n"
                    "  --strict: exit 1 when a count differs by more than 10 %%\n"
                    "  --vmsim-only: vmsim's figures alone (no host run, no root, no swap)\n"
                    "  --runs N: run each pattern N times (1 - %d) on the host; the table\n"
                    "            gives the host's median and range\n"
                    "  --pattern NAME: only that pattern (", MAX_RUNS);
    for (unsigned i = 0; i < NPATTERNS; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", patterns[i].name);
    fprintf(stderr, ")\n");
    return 2;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.runs = 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--strict")) {
            o->strict = 1;
        } else if (!strcmp(argv[i], "--vmsim-only")) {
            o->vmsim_only = 1;
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            char *end;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (*end || n < 1 || n > MAX_RUNS)
                return -1;
            o->runs = (unsigned)n;
        } else if (!strcmp(argv[i], "--pattern") && i + 1 < argc) {
            o->only = argv[++i];
            unsigned k = 0;
            while (k < NPATTERNS && strcmp(patterns[k].name, o->only))
                k++;
            if (k == NPATTERNS)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static int selected(const struct options *o, unsigned i)
{
    return !o->only || !strcmp(o->only, patterns[i].name);
}

/* vmsim's side alone, in a scratch folder of its own, with this host's
 * profile: the figures a change to reclaim moves, without root. */
static int vmsim_only(const struct options *o)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/vmsim-swapcheck-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("a scratch folder: %s", strerror(errno));
    struct host_profile hp;
    host_profile_read(&hp, dir);
    static struct result sim;
    printf("| %-28s | %-14s | %8s |\n", "pattern", "count", "vmsim");
    printf("|------------------------------|----------------|----------|\n");
    for (unsigned i = 0; i < NPATTERNS; i++) {
        if (!selected(o, i))
            continue;
        sim_run_pattern(i, &hp, dir, &sim);
        for (unsigned p = 0; p < sim.nphases; p++) {
            const struct phase *v = &sim.ph[p];
            unsigned nf = v->detail ? NFIELDS : NMAIN_FIELDS;
            for (unsigned f = 0; f < nf; f++)
                printf("| %-28s | %-14s | %8" PRIu64 " |\n", f ? "" : v->name, field_names[f],
                       field_of(v, f));
        }
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, FILE_NAME);
    unlink(path);
    rmdir(dir);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o))
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (o.vmsim_only)
        return vmsim_only(&o);
    char why[160];
    if (host_swap_setup(SWAP_BYTES, why, sizeof(why))) {
        printf("vmsim-swapcheck: skipped: %s\n", why);
        return EXIT_SKIP;
    }
    struct host_profile hp;
    host_profile_read(&hp, host_swap_dir());

    static struct result host[NPATTERNS][MAX_RUNS], sim[NPATTERNS];
    for (unsigned r = 0; r < o.runs; r++)
        for (unsigned i = 0; i < NPATTERNS; i++)
            if (selected(&o, i))
                host_run_pattern(i, &host[i][r]);
    host_swap_off(); /* swap off before vmsim's side, which needs none of it */
    for (unsigned i = 0; i < NPATTERNS; i++)
        if (selected(&o, i))
            sim_run_pattern(i, &hp, host_swap_dir(), &sim[i]);

    printf("Linux %s, cgroup %s limit %llu MiB, swap file %llu MiB, page-cluster %u, "
           "swappiness %u, THP off; host: %s of %u run%s\n\n",
           hp.kernel, host_swap_cgroup_v2() ? "v2" : "v1", (unsigned long long)(LIMIT / MIB),
           (unsigned long long)(SWAP_BYTES / MIB), hp.page_cluster, hp.swappiness,
           o.runs > 1 ? "median and range" : "one", o.runs, o.runs > 1 ? "s" : "");
    printf("| %-28s | %-14s | %8s |%s %8s | %5s | %s |\n", "pattern", "count", "host",
           o.runs > 1 ? " range |" : "", "vmsim", "ratio", "within 10 %");
    printf("|------------------------------|----------------|----------|%s----------|-------|-----|\n",
           o.runs > 1 ? "-------|" : "");
    unsigned differ = 0;
    uint64_t bad = 0;
    for (unsigned i = 0; i < NPATTERNS; i++)
        if (selected(&o, i))
            differ += print_table(host, i, o.runs, &sim[i], &bad);
    printf("\n%u counts differ by more than 10 %% (and %d pages); %" PRIu64
           " values read back wrong\n"
           "(* the whole host's /proc/vmstat; lists in pages after the phase, the host's "
           "from its cgroup's memory.stat)\n",
           differ, NOISE_PAGES, bad);
    host_swap_teardown();
    return bad ? 1 : o.strict && differ ? 1 : 0;
}
