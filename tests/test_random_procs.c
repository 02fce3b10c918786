/*
 * test_random_procs.c - a randomised test of processes, mremap and madvise
 * against a reference model.
 *
 * From a fixed seed, 5,000 operations run on up to four processes of one or
 * two threads each, spread over four CPUs: vms_fork (of either thread),
 * vms_exit (of a thread, of a child, of a parent whose children live on, of
 * the last process, which a fresh vms_spawn then replaces),
 * vms_clone_thread, vms_schedule to any CPU; mmap (private and shared
 * anonymous, private and shared mappings of three files through read-write
 * and read-only descriptors, MAP_FIXED, MAP_FIXED_NOREPLACE or no address,
 * MAP_POPULATE, offsets past EOF), munmap, mprotect, loads and stores of 1
 * byte to 2 pages; mremap with every combination of MREMAP_MAYMOVE,
 * MREMAP_FIXED and MREMAP_DONTUNMAP (in-place shrink and growth, moves to
 * the kernel's choice, to a fixed address or to a hint, old_len 0 to
 * duplicate a shared mapping, ranges that leave their VMA); madvise with
 * DONTNEED, FREE, WILLNEED, REMOVE, DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK,
 * RANDOM, SEQUENTIAL, NORMAL, POPULATE_READ and POPULATE_WRITE, over holes
 * and mixed mappings.
 *
 * The model: per process, one record per page of a 1 MiB window just below
 * mmap_base (where every mapping of the test lives), saying what the page
 * maps and with which protection, plus the process's own bytes for private
 * pages. Private anonymous pages are the process's own from the start (zero
 * until written) and are copied at fork, so each process sees only its own
 * writes; a private file page shows the file until written (or populated
 * for writing), then its own copy. Shared anonymous objects and the files'
 * page cache are single byte arrays seen by every mapping; touching a page
 * past the object's size or the file's last page raises SIGBUS. DONTNEED
 * makes private anonymous pages zero and private file pages show the file
 * again, and leaves shared pages alone; FREE leaves the data (no memory
 * pressure); REMOVE zeroes the shared object's pages; mremap carries the
 * pages along, grows with the mapping's own kind (zeros, or further pages of
 * the object), and with DONTUNMAP leaves the old range mapped but empty.
 * The model knows no VMAs: where mremap needs them (a range may not leave its
 * VMA; growth in place needs the VMA to end there), their bounds are read
 * from /proc/PID/maps, which is itself checked against the model: every
 * line covers pages mapped alike, consecutive pages of one object from its
 * offset, and two adjacent shared lines that continue one object with the
 * same protection and advice must have merged.
 * Semantics the model encodes were checked on a Linux 6.18 host.
 *
 * After every step: results and errno, the signal, si_code and address of
 * every access, the bytes loaded, a probe of the pages the operation
 * touched, and vms_check. The maps of the acting process are compared with
 * the model every few steps; every 250 steps every page of every process is
 * probed. At the end every task exits, every file is read back and must hold
 * the model's bytes, and exactly the frames of the zero page and of the
 * files' page cache are left in use. Any failure names the seed, the step,
 * the process and the operation.
 *
 * One run has 384 KiB of RAM and 16 MiB of swap, so that reclaim runs all
 * the time (about a thousand pages written to swap and more read back):
 * what the model says still holds but for two things reclaim changes, as
 * on Linux: MADV_FREE drops a page whose copy is out in swap (it reads
 * zero; the model asks vms_walk which pages were out), and what a shared
 * mapping stores past EOF in a file's last page is lost when reclaim
 * frees that page (the run stores zeros there). The files' cache may be
 * partly reclaimed at the start and at the end.
 */
#include "testutil.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE UINT64_C(4096)
#define MMAP_BASE UINT64_C(0x7ffff7fff000) /* where a fresh mm's top-down search starts */
#define WIN_PAGES 256
#define WIN (MMAP_BASE - WIN_PAGES * PAGE) /* every mapping lives in [WIN, MMAP_BASE) */
#define MAX_PROCS 4
#define MAX_THREADS 2
#define NCPUS 4
#define NFILES 3
#define FILE_MAX_PAGES 20
#define MAP_MAX_PAGES 32
#define STEPS 5000
#define FULL_CHECK_EVERY 250
#define MAPS_CHECK_EVERY 8
#define GC_EVERY 50
#define MAX_ACCESS (2 * PAGE)
#define SENTINEL 0xa5
#define MAX_VMAS (WIN_PAGES + 1)
#define MREMAP_BAD_FLAG 8

static const char *const file_names[NFILES] = {"alpha", "beta", "gamma"};

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- the model ---- */

enum kind { K_NONE, K_ANON, K_SHM, K_FILE };

struct mpage {
    uint8_t kind;     /* K_NONE: not mapped */
    uint8_t shared;   /* MAP_SHARED (always for K_SHM, never for K_ANON) */
    uint8_t prot;
    uint8_t copied;   /* private file page: holds its own copy */
    uint8_t maywrite; /* 0: shared mapping of a read-only descriptor */
    uint8_t dontfork, wipeonfork;
    uint8_t readhint; /* MADV_NORMAL, MADV_RANDOM or MADV_SEQUENTIAL */
    uint32_t obj;     /* K_SHM: object number; K_FILE: file number */
    uint32_t pgoff;   /* K_SHM, K_FILE: page index in the object */
};

struct mproc {
    int alive, ntasks;
    vms_task *task[MAX_THREADS];
    struct mpage page[WIN_PAGES];
    uint8_t *bytes; /* WIN_PAGES pages: private pages' own bytes */
};

struct mshm {
    uint32_t npages; /* its size: pages past it raise SIGBUS */
    uint8_t *bytes;  /* NULL once no mapping is left */
};

struct mfile {
    uint64_t size;
    uint32_t npages;
    uint8_t *cache; /* npages pages: the page cache, bytes past EOF included */
};

struct outcome {
    int sig, code;
    uint64_t addr; /* the first byte not accessed */
    size_t done;
};

enum op_kind {
    OP_LOAD, OP_STORE, OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MREMAP, OP_MADVISE, OP_FORK,
    OP_EXIT, OP_CLONE, OP_SCHEDULE, OP_SPAWN, OP_SKIPPED, OP_KINDS
};

struct run {
    uint64_t seed, rng;
    int step;
    char op[256];
    char dir[256], root[300];
    vms_machine *m;
    struct mproc proc[MAX_PROCS];
    int ap, at; /* the acting process and thread */
    struct mshm *shm;
    uint32_t nshm, shm_cap;
    struct mfile file[NFILES];
    uint64_t baseline_frames, cache_pages;
    uint64_t own_frames; /* the machine's frames besides the files' cache at the start */
    int swap; /* a small RAM with swap: reclaim runs */
    /* Before a MADV_FREE: which window pages of the actor held a swap
     * entry (vms_walk). MADV_FREE drops a swapped-out copy at once, as on
     * Linux: those pages read zero after it. */
    uint8_t swapped[WIN_PAGES];
    unsigned done[OP_KINDS], failed[OP_KINDS];
    /* Frames of memory (not page tables) in use when the machine was made,
     * and the frame-alloc minus frame-free events since: always equal to
     * frames_used - pgtable_frames. */
    uint64_t first_frames;
    int64_t reported_frames;
};

static uint64_t rnd(struct run *r) { return splitmix64(&r->rng); }
static uint64_t below(struct run *r, uint64_t n) { return rnd(r) % n; }
static int chance(struct run *r, unsigned percent) { return below(r, 100) < percent; }

static void check_failed(const struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void check_failed(const struct run *r, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    print_error("seed %#" PRIx64 " step %d (process %d thread %d: %s)\ncheck failed: %s\n",
                r->seed, r->step, r->ap, r->at, r->op, detail);
    fail();
}

#define CHECK(r, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_failed((r), __VA_ARGS__);                                                        \
    } while (0)

static void expect_result(struct run *r, int64_t got, int64_t want)
{
    CHECK(r, got == want, "result %" PRId64 " (%#" PRIx64 "), model expects %" PRId64 " (%#" PRIx64
          ")", got, (uint64_t)got, want, (uint64_t)want);
}

static int fd_of(int file, int rdonly) { return 3 + 2 * file + rdonly; }
static uint64_t pages_of(uint64_t len) { return (len + PAGE - 1) / PAGE; }
static uint64_t page_va(int idx) { return WIN + (uint64_t)idx * PAGE; }
static int in_window(uint64_t va) { return va >= WIN && va < MMAP_BASE; }
static int page_index(uint64_t va) { return (int)((va - WIN) / PAGE); }
static struct mproc *actor_proc(struct run *r) { return &r->proc[r->ap]; }
static vms_task *actor(struct run *r) { return r->proc[r->ap].task[r->at]; }

/* The page holding va; NULL outside the window, where nothing is mapped. */
static struct mpage *page_at(struct mproc *p, uint64_t va)
{
    return in_window(va) ? &p->page[page_index(va)] : NULL;
}

static int is_mapped(struct mproc *p, uint64_t va)
{
    const struct mpage *pg = page_at(p, va);
    return pg && pg->kind != K_NONE;
}

static uint8_t *own_bytes(struct mproc *p, int idx) { return p->bytes + (size_t)idx * PAGE; }

/* Where the bytes a mapped page shows live; NULL when touching it raises
 * SIGBUS (it lies past the end of its object). */
static uint8_t *page_view(struct run *r, struct mproc *p, int idx)
{
    const struct mpage *pg = &p->page[idx];
    if (pg->kind == K_ANON || (pg->kind == K_FILE && pg->copied))
        return own_bytes(p, idx);
    if (pg->kind == K_SHM) {
        const struct mshm *o = &r->shm[pg->obj];
        return pg->pgoff < o->npages ? o->bytes + (size_t)pg->pgoff * PAGE : NULL;
    }
    const struct mfile *f = &r->file[pg->obj];
    return pg->pgoff < f->npages ? f->cache + (size_t)pg->pgoff * PAGE : NULL;
}

/* A write fault on a private file page: it copies the file's page now. */
static void cow_file_page(struct run *r, struct mproc *p, int idx)
{
    struct mpage *pg = &p->page[idx];
    if (pg->kind != K_FILE || pg->shared || pg->copied)
        return;
    const uint8_t *src = page_view(r, p, idx);
    if (!src)
        return; /* past EOF: SIGBUS, nothing copied */
    memcpy(own_bytes(p, idx), src, PAGE);
    pg->copied = 1;
}

static void unmap_page(struct mproc *p, int idx)
{
    p->page[idx] = (struct mpage){0};
    memset(own_bytes(p, idx), 0, PAGE);
}

static void model_unmap(struct mproc *p, uint64_t start, uint64_t end)
{
    for (uint64_t va = start; va < end; va += PAGE)
        if (in_window(va))
            unmap_page(p, page_index(va));
}

static int may_load(const struct mpage *pg) { return pg->prot != PROT_NONE; }
static int may_store(const struct mpage *pg) { return (pg->prot & PROT_WRITE) != 0; }

/* An access as the model sees it: stores are applied (copying private file
 * pages first), loads fill data. */
static struct outcome model_access(struct run *r, struct mproc *p, uint64_t va, uint8_t *data,
                                   size_t len, int write)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = va + done, off = a & (PAGE - 1);
        size_t n = (size_t)(PAGE - off);
        if (n > len - done)
            n = len - done;
        struct mpage *pg = page_at(p, a);
        if (!pg || pg->kind == K_NONE)
            return (struct outcome){SIGSEGV, SEGV_MAPERR, a, done};
        if (write ? !may_store(pg) : !may_load(pg))
            return (struct outcome){SIGSEGV, SEGV_ACCERR, a, done};
        int idx = page_index(a);
        if (!page_view(r, p, idx))
            return (struct outcome){SIGBUS, BUS_ADRERR, a, done};
        if (write) {
            cow_file_page(r, p, idx);
            memcpy(page_view(r, p, idx) + off, data + done, n);
        } else {
            memcpy(data + done, page_view(r, p, idx) + off, n);
        }
        done += n;
    }
    return (struct outcome){0, 0, 0, len};
}

/* ---- shared anonymous objects ---- */

static uint32_t shm_create(struct run *r, uint32_t npages)
{
    if (r->nshm == r->shm_cap) {
        r->shm_cap = r->shm_cap ? 2 * r->shm_cap : 64;
        r->shm = realloc(r->shm, r->shm_cap * sizeof(*r->shm));
        assert_non_null(r->shm);
    }
    r->shm[r->nshm] = (struct mshm){.npages = npages, .bytes = calloc(npages, PAGE)};
    assert_non_null(r->shm[r->nshm].bytes);
    return r->nshm++;
}

/* Objects no process maps any more can never be reached again: free them. */
static void shm_collect(struct run *r)
{
    unsigned char *used = calloc(r->nshm + 1, 1);
    assert_non_null(used);
    for (int pi = 0; pi < MAX_PROCS; pi++)
        for (int i = 0; r->proc[pi].alive && i < WIN_PAGES; i++)
            if (r->proc[pi].page[i].kind == K_SHM)
                used[r->proc[pi].page[i].obj] = 1;
    for (uint32_t o = 0; o < r->nshm; o++)
        if (!used[o]) {
            free(r->shm[o].bytes);
            r->shm[o].bytes = NULL;
        }
    free(used);
}

/* ---- probing vmsim against the model ---- */

static void expect_outcome(struct run *r, vms_task *t, int sig, const struct outcome *want,
                           const char *what)
{
    CHECK(r, sig == want->sig, "%s: signal %d, model expects %d (code %d at %#" PRIx64 ")", what,
          sig, want->sig, want->code, want->addr);
    if (!want->sig)
        return;
    const struct vms_fault *f = vms_last_fault(t);
    CHECK(r, f->signo == want->sig && f->code == want->code && f->addr == want->addr,
          "%s: fault %d/%d at %#" PRIx64 ", model expects %d/%d at %#" PRIx64, what, f->signo,
          f->code, f->addr, want->sig, want->code, want->addr);
}

/* A load of len bytes at va by thread ti of process pi, checked byte by byte. */
static void checked_load(struct run *r, int pi, int ti, uint64_t va, size_t len, const char *what)
{
    struct mproc *p = &r->proc[pi];
    uint8_t *got = malloc(len), *want = malloc(len);
    assert_true(got && want);
    memset(got, SENTINEL, len);
    memset(want, SENTINEL, len);
    struct outcome o = model_access(r, p, va, want, len, 0);
    expect_outcome(r, p->task[ti], vms_load(p->task[ti], va, got, len), &o, what);
    size_t i = memcmp(got, want, len) == 0 ? len : 0;
    while (i < len && got[i] == want[i])
        i++;
    unsigned gb = i < len ? got[i] : 0, wb = i < len ? want[i] : 0;
    free(got);
    free(want);
    CHECK(r, i == len, "%s: byte at %#" PRIx64 " (process %d) is %#x, model expects %#x (%s)",
          what, va + i, pi, gb, wb, i < o.done ? "loaded" : "past the fault, untouched");
}

/* A store the model forbids must fault exactly as predicted, storing nothing. */
static void probe_forbidden_store(struct run *r, int pi, int ti, uint64_t va)
{
    struct mproc *p = &r->proc[pi];
    const struct mpage *pg = page_at(p, va);
    if (pg && pg->kind != K_NONE && may_store(pg) && page_view(r, p, page_index(va)))
        return;
    uint8_t byte = 0x5a;
    struct outcome o = model_access(r, p, va, &byte, 1, 1);
    expect_outcome(r, p->task[ti], vms_store(p->task[ti], va, &byte, 1), &o,
                   "probe store where the model forbids one");
}

static void probe_page(struct run *r, int pi, int ti, uint64_t va)
{
    checked_load(r, pi, ti, va, PAGE, "probe load of a whole page");
    probe_forbidden_store(r, pi, ti, va + below(r, PAGE));
}

static int random_thread(struct run *r, int pi) { return (int)below(r, (uint64_t)r->proc[pi].ntasks); }

/* One byte of every page of [start, end) and the page either side, then
 * whole pages at the edges and one inside, from any thread of the process. */
static void probe_around(struct run *r, int pi, uint64_t start, uint64_t end)
{
    start &= ~(PAGE - 1);
    end = (end + PAGE - 1) & ~(PAGE - 1);
    if (end <= start)
        end = start + PAGE;
    int ti = random_thread(r, pi);
    for (uint64_t va = start - PAGE; va <= end; va += PAGE) {
        uint64_t at = va + below(r, PAGE);
        checked_load(r, pi, ti, at, 1, "probe load of one byte");
        probe_forbidden_store(r, pi, ti, at);
    }
    uint64_t pages[] = {start - PAGE, start, end - PAGE, end,
                        start + below(r, (end - start) / PAGE) * PAGE};
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        probe_page(r, pi, random_thread(r, pi), pages[i]);
}

static void probe_everything(struct run *r, int pi)
{
    for (int i = -1; i <= WIN_PAGES; i++)
        probe_page(r, pi, random_thread(r, pi), page_va(0) + (uint64_t)((int64_t)i * (int64_t)PAGE));
}

/* Whether two adjacent pages look alike; where they do not, vmsim must have
 * a VMA edge: a good place to aim at. */
static int same_state(const struct mpage *a, const struct mpage *b)
{
    return a->kind == b->kind && a->prot == b->prot && a->shared == b->shared &&
           a->obj == b->obj && a->dontfork == b->dontfork && a->wipeonfork == b->wipeonfork &&
           a->readhint == b->readhint && a->maywrite == b->maywrite &&
           (a->kind == K_NONE || a->kind == K_ANON || a->pgoff + 1 == b->pgoff);
}

/* ---- /proc/PID/maps: VMA bounds for mremap, and a check of the model ---- */

struct vma_line {
    uint64_t start, end, off, ino;
    char perms[5];
    char name[64];
};

static void parse_vma_line(struct run *r, const char *line, struct vma_line *v)
{
    unsigned major, minor;
    int pos = 0;
    int n = sscanf(line, "%" SCNx64 "-%" SCNx64 " %4c %" SCNx64 " %x:%x %" SCNu64 "%n", &v->start,
                   &v->end, v->perms, &v->off, &major, &minor, &v->ino, &pos);
    v->perms[4] = 0;
    CHECK(r, n == 7, "cannot parse maps line \"%s\"", line);
    const char *name = line + pos;
    while (*name == ' ')
        name++;
    snprintf(v->name, sizeof(v->name), "%s", name);
}

/* The task's VMAs, in order; returns how many. */
static int read_vmas(struct run *r, vms_task *t, struct vma_line *v)
{
    char *text = tu_maps(t);
    int n = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        CHECK(r, nl != NULL, "maps line without a newline");
        *nl = 0;
        CHECK(r, n < MAX_VMAS, "more VMAs than pages in the window");
        parse_vma_line(r, line, &v[n++]);
    }
    free(text);
    return n;
}

static const char *expected_name(const struct mpage *pg)
{
    static const char *const names[NFILES] = {"/alpha", "/beta", "/gamma"};
    return pg->kind == K_ANON ? "" : pg->kind == K_SHM ? "/dev/zero (deleted)" : names[pg->obj];
}

static void perms_of(const struct mpage *pg, char out[5])
{
    out[0] = (pg->prot & PROT_READ) ? 'r' : '-';
    out[1] = (pg->prot & PROT_WRITE) ? 'w' : '-';
    out[2] = (pg->prot & PROT_EXEC) ? 'x' : '-';
    out[3] = pg->shared ? 's' : 'p';
    out[4] = 0;
}

/* Every page of a line is mapped in the model as the line says: same
 * permissions, same object, consecutive pages of it from the offset. */
static void expect_line_pages(struct run *r, struct mproc *p, const struct vma_line *v,
                              unsigned char *seen)
{
    CHECK(r, v->start < v->end && v->start >= WIN && v->end <= MMAP_BASE,
          "maps line %#" PRIx64 "-%#" PRIx64 " leaves the window", v->start, v->end);
    const struct mpage *first = page_at(p, v->start);
    for (uint64_t va = v->start; va < v->end; va += PAGE) {
        const struct mpage *pg = page_at(p, va);
        char perms[5];
        CHECK(r, pg->kind != K_NONE, "maps line %#" PRIx64 "-%#" PRIx64 ": page %#" PRIx64
              " is not mapped in the model", v->start, v->end, va);
        perms_of(pg, perms);
        CHECK(r, strcmp(perms, v->perms) == 0, "maps: page %#" PRIx64 " shows %s, model %s", va,
              v->perms, perms);
        CHECK(r, strcmp(v->name, expected_name(pg)) == 0,
              "maps: page %#" PRIx64 " names \"%s\", model \"%s\"", va, v->name, expected_name(pg));
        if (pg->kind != K_ANON)
            CHECK(r, pg->obj == first->obj && pg->pgoff == v->off / PAGE + (va - v->start) / PAGE,
                  "maps: page %#" PRIx64 " is page %u of object %u; line %#" PRIx64
                  " starts at offset %#" PRIx64 " of object %u",
                  va, pg->pgoff, pg->obj, v->start, v->off, first->obj);
        seen[page_index(va)] = 1;
    }
}

/* Two adjacent shared lines that continue one object (through one open
 * file) with the same protection and the same advice flags have equal
 * vm_flags, no anon_vma and one vm_file: Linux merges them whenever one of
 * them is made or changed, so they must be one line. (Private mappings
 * are left out: an anon_vma may legitimately keep them apart.) */
static void expect_merged(struct run *r, struct mproc *p, const struct vma_line *a,
                          const struct vma_line *b)
{
    const struct mpage *last = page_at(p, a->end - PAGE), *next = page_at(p, b->start);
    if (a->end != b->start || !last->shared || !next->shared)
        return;
    CHECK(r, !same_state(last, next), "maps: %#" PRIx64 "-%#" PRIx64 " and %#" PRIx64
          "-%#" PRIx64 " (%s) continue one object alike, yet are separate VMAs",
          a->start, a->end, b->start, b->end, a->perms);
}

static void check_maps(struct run *r, int pi)
{
    struct mproc *p = &r->proc[pi];
    struct vma_line *v = malloc(MAX_VMAS * sizeof(*v));
    assert_non_null(v);
    int n = read_vmas(r, p->task[random_thread(r, pi)], v);
    unsigned char seen[WIN_PAGES] = {0};
    for (int i = 0; i < n; i++) {
        CHECK(r, i == 0 || v[i].start >= v[i - 1].end, "maps lines out of order at %#" PRIx64,
              v[i].start);
        expect_line_pages(r, p, &v[i], seen);
        if (i > 0)
            expect_merged(r, p, &v[i - 1], &v[i]);
    }
    free(v);
    for (int i = 0; i < WIN_PAGES; i++)
        CHECK(r, seen[i] || p->page[i].kind == K_NONE,
              "maps of process %d: page %#" PRIx64 " is mapped in the model but in no line", pi,
              page_va(i));
}

/* ---- choosing inputs ---- */

/* A page of the window, usually at or next to a place where the state changes. */
static int pick_rel_page(struct run *r, struct mproc *p)
{
    if (chance(r, 25))
        return (int)below(r, WIN_PAGES);
    int edges[WIN_PAGES + 1], n = 0;
    edges[n++] = 0;
    for (int i = 1; i < WIN_PAGES; i++)
        if (!same_state(&p->page[i - 1], &p->page[i]))
            edges[n++] = i;
    edges[n++] = WIN_PAGES;
    int rel = edges[below(r, (uint64_t)n)] + (int)below(r, 5) - 2;
    return rel < 0 ? 0 : rel >= WIN_PAGES ? WIN_PAGES - 1 : rel;
}

/* A page-aligned start for npages inside the window. */
static uint64_t pick_start_inside(struct run *r, struct mproc *p, uint64_t npages)
{
    int64_t rel = pick_rel_page(r, p), last = WIN_PAGES - (int64_t)npages;
    return page_va((int)(rel > last ? last : rel));
}

/* A start for munmap, mprotect or madvise: near an edge, sometimes just
 * outside the window. */
static uint64_t pick_range_start(struct run *r, struct mproc *p)
{
    int64_t rel = pick_rel_page(r, p) + (int64_t)below(r, 7) - 3;
    return (uint64_t)((int64_t)WIN + rel * (int64_t)PAGE);
}

/* A mapped page picked uniformly, or -1 when nothing is mapped. */
static int pick_mapped_page(struct run *r, struct mproc *p)
{
    int start = (int)below(r, WIN_PAGES);
    for (int i = 0; i < WIN_PAGES; i++)
        if (p->page[(start + i) % WIN_PAGES].kind != K_NONE)
            return (start + i) % WIN_PAGES;
    return -1;
}

/* A range inside one run of mapped pages (holes make most calls fail). */
static int pick_mapped_range(struct run *r, struct mproc *p, uint64_t *start, uint64_t *len)
{
    int first = pick_mapped_page(r, p), end = first;
    if (first < 0)
        return 0;
    while (end < WIN_PAGES && p->page[end].kind != K_NONE)
        end++;
    *start = page_va(first);
    *len = (1 + below(r, (uint64_t)(end - first))) * PAGE;
    return 1;
}

static uint64_t pick_len(struct run *r, uint64_t max_pages, unsigned unaligned_percent)
{
    uint64_t len = (1 + below(r, max_pages)) * PAGE;
    if (chance(r, unaligned_percent))
        len -= 1 + below(r, PAGE - 1);
    return len;
}

static uint64_t pick_range_len(struct run *r)
{
    return pick_len(r, chance(r, 70) ? 12 : 48, 20);
}

static int pick_prot(struct run *r)
{
    /* PROT_EXEC alone is left out: it takes a protection key (SEGV_PKUERR). */
    static const int prots[] = {PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
                                PROT_READ | PROT_WRITE, PROT_READ,
                                PROT_NONE,              PROT_WRITE,
                                PROT_READ | PROT_EXEC,  PROT_READ | PROT_WRITE | PROT_EXEC,
                                PROT_WRITE | PROT_EXEC};
    return prots[below(r, sizeof(prots) / sizeof(prots[0]))];
}

static const char *prot_name(int prot)
{
    static const char *const names[] = {"NONE", "R", "W", "RW", "X", "RX", "WX", "RWX"};
    return names[prot & 7];
}

/* The highest free run of npages in the window, as the top-down search
 * finds it; 0 when none fits there (the model cannot follow below). */
static uint64_t model_topdown(struct mproc *p, uint64_t npages)
{
    uint64_t run = 0;
    for (int rel = WIN_PAGES - 1; rel >= 0; rel--) {
        run = p->page[rel].kind != K_NONE ? 0 : run + 1;
        if (run >= npages)
            return page_va(rel);
    }
    return 0;
}

static int range_free(struct mproc *p, uint64_t addr, uint64_t npages)
{
    for (uint64_t i = 0; i < npages; i++)
        if (is_mapped(p, addr + i * PAGE))
            return 0;
    return 1;
}

/* ---- mmap, munmap, mprotect, loads and stores ---- */

enum placement { PLACE_FIXED, PLACE_NOREPLACE, PLACE_ANY };

struct mmap_req {
    enum kind kind;
    int shared, file, rdonly, prot, populate;
    enum placement place;
    uint64_t addr, len, pgoff;
};

static struct mmap_req pick_mmap(struct run *r, struct mproc *p)
{
    struct mmap_req q = {.len = pick_len(r, MAP_MAX_PAGES, 15), .prot = pick_prot(r)};
    uint64_t x = below(r, 100);
    q.kind = x < 35 ? K_ANON : x < 55 ? K_SHM : K_FILE;
    q.shared = q.kind == K_SHM || (q.kind == K_FILE && chance(r, 50));
    if (q.kind == K_FILE) {
        q.file = (int)below(r, NFILES);
        q.rdonly = chance(r, 25);
        uint64_t in_file = r->file[q.file].npages;
        q.pgoff = chance(r, 80) ? below(r, in_file + 1) : below(r, in_file + 4);
    }
    q.populate = chance(r, 15);
    x = below(r, 100);
    q.place = x < 55 ? PLACE_FIXED : x < 70 ? PLACE_NOREPLACE : PLACE_ANY;
    if (q.place != PLACE_ANY)
        q.addr = pick_start_inside(r, p, pages_of(q.len));
    if (q.place != PLACE_ANY && chance(r, 2))
        q.addr += 1 + below(r, PAGE - 1); /* EINVAL */
    if (chance(r, 1))
        q.len = 0;
    return q;
}

/* The result vms_mmap must give; *skip when it would land outside the window. */
static int64_t expected_mmap(struct mproc *p, const struct mmap_req *q, int *skip)
{
    *skip = 0;
    if (q->len == 0)
        return -EINVAL;
    uint64_t npages = pages_of(q->len);
    if (q->place != PLACE_ANY && (q->addr & (PAGE - 1)))
        return -EINVAL;
    if (q->place == PLACE_NOREPLACE && !range_free(p, q->addr, npages))
        return -EEXIST;
    if (q->kind == K_FILE && q->shared && q->rdonly && (q->prot & PROT_WRITE))
        return -EACCES;
    if (q->place != PLACE_ANY)
        return (int64_t)q->addr;
    uint64_t top = model_topdown(p, npages);
    *skip = top == 0;
    return (int64_t)top;
}

static void model_mmap(struct run *r, struct mproc *p, const struct mmap_req *q, uint64_t start)
{
    uint64_t npages = pages_of(q->len);
    uint32_t obj = q->kind == K_SHM ? shm_create(r, (uint32_t)npages) : (uint32_t)q->file;
    for (uint64_t i = 0; i < npages; i++) {
        int idx = page_index(start + i * PAGE);
        unmap_page(p, idx);
        p->page[idx] = (struct mpage){
            .kind = (uint8_t)q->kind,
            .shared = (uint8_t)q->shared,
            .prot = (uint8_t)q->prot,
            .maywrite = !(q->kind == K_FILE && q->shared && q->rdonly),
            .obj = q->kind == K_ANON ? 0 : obj,
            .pgoff = (uint32_t)(q->kind == K_FILE ? q->pgoff + i : i),
        };
        /* MAP_POPULATE touches writable private memory with writes. */
        if (q->populate && (q->prot & PROT_WRITE))
            cow_file_page(r, p, idx);
    }
}

static void describe_mmap(struct run *r, const struct mmap_req *q)
{
    static const char *const place[] = {"FIXED", "FIXED_NOREPLACE", "no address"};
    static const char *const kinds[] = {"", "anon", "shm", "file"};
    int n = snprintf(r->op, sizeof(r->op), "mmap(%#" PRIx64 ", %#" PRIx64 ", %s, %s %s%s) [%s]",
                     q->addr, q->len, prot_name(q->prot), q->shared ? "SHARED" : "PRIVATE",
                     kinds[q->kind], q->populate ? " POPULATE" : "", place[q->place]);
    if (q->kind == K_FILE)
        snprintf(r->op + n, sizeof(r->op) - (size_t)n, " %s%s pgoff %" PRIu64 " (%u pages)",
                 file_names[q->file], q->rdonly ? " O_RDONLY" : "", q->pgoff,
                 r->file[q->file].npages);
}

static int mmap_flags(const struct mmap_req *q)
{
    int flags = q->shared ? MAP_SHARED : MAP_PRIVATE;
    if (q->kind != K_FILE)
        flags |= MAP_ANONYMOUS;
    if (q->place == PLACE_FIXED)
        flags |= MAP_FIXED;
    if (q->place == PLACE_NOREPLACE)
        flags |= MAP_FIXED_NOREPLACE;
    return flags | (q->populate ? MAP_POPULATE : 0);
}

static void op_mmap(struct run *r)
{
    struct mproc *p = actor_proc(r);
    struct mmap_req q = pick_mmap(r, p);
    int skip;
    int64_t want = expected_mmap(p, &q, &skip);
    describe_mmap(r, &q);
    if (skip) {
        r->done[OP_SKIPPED]++;
        return;
    }
    int fd = q.kind == K_FILE ? fd_of(q.file, q.rdonly) : -1;
    int64_t got = vms_mmap(actor(r), q.addr, q.len, q.prot, mmap_flags(&q), fd,
                           (int64_t)(q.pgoff * PAGE));
    expect_result(r, got, want);
    if (want >= 0)
        model_mmap(r, p, &q, (uint64_t)want);
    r->failed[OP_MMAP] += want < 0;
    uint64_t start = want >= 0 ? (uint64_t)want : q.addr & ~(PAGE - 1);
    probe_around(r, r->ap, start, start + pages_of(q.len) * PAGE);
}

static void op_munmap(struct run *r)
{
    struct mproc *p = actor_proc(r);
    uint64_t start = pick_range_start(r, p), len = pick_range_len(r);
    if (chance(r, 50))
        pick_mapped_range(r, p, &start, &len);
    if (chance(r, 2))
        start += 1 + below(r, PAGE - 1);
    if (chance(r, 1))
        len = 0;
    snprintf(r->op, sizeof(r->op), "munmap(%#" PRIx64 ", %#" PRIx64 ")", start, len);
    int want = (start & (PAGE - 1)) || !len ? -EINVAL : 0;
    expect_result(r, vms_munmap(actor(r), start, len), want);
    if (!want)
        model_unmap(p, start, start + pages_of(len) * PAGE);
    r->failed[OP_MUNMAP] += want < 0;
    probe_around(r, r->ap, start, start + len);
}

/* mprotect changes VMA after VMA: a hole stops it with ENOMEM, write access
 * to a shared mapping of a read-only descriptor with EACCES, after the
 * pages before have changed. */
static int model_mprotect(struct mproc *p, uint64_t start, uint64_t len, int prot)
{
    if (start & (PAGE - 1))
        return -EINVAL;
    for (uint64_t va = start; va < start + pages_of(len) * PAGE; va += PAGE) {
        struct mpage *pg = page_at(p, va);
        if (!pg || pg->kind == K_NONE)
            return -ENOMEM;
        if ((prot & PROT_WRITE) && !pg->maywrite)
            return -EACCES;
        pg->prot = (uint8_t)prot;
    }
    return 0;
}

static void op_mprotect(struct run *r)
{
    struct mproc *p = actor_proc(r);
    uint64_t start = pick_range_start(r, p), len = pick_range_len(r);
    if (chance(r, 50))
        pick_mapped_range(r, p, &start, &len);
    int prot = pick_prot(r);
    if (chance(r, 2))
        start += 1 + below(r, PAGE - 1);
    if (chance(r, 1))
        len = 0;
    snprintf(r->op, sizeof(r->op), "mprotect(%#" PRIx64 ", %#" PRIx64 ", %s)", start, len,
             prot_name(prot));
    int got = vms_mprotect(actor(r), start, len, prot);
    int want = model_mprotect(p, start, len, prot);
    expect_result(r, got, want);
    r->failed[OP_MPROTECT] += want < 0;
    probe_around(r, r->ap, start, start + len);
}

/* An address for a load or store: near a page edge, near the end of a
 * file's data, or anywhere in a page. */
static uint64_t pick_access_addr(struct run *r, struct mproc *p)
{
    int mapped = pick_mapped_page(r, p);
    if (mapped >= 0 && chance(r, 45))
        return page_va(mapped) + below(r, PAGE);
    uint64_t page = page_va(pick_rel_page(r, p));
    const struct mpage *pg = page_at(p, page);
    if (pg->kind == K_FILE && chance(r, 30))
        return page + r->file[pg->obj].size % PAGE - 8 + below(r, 17);
    if (chance(r, 40))
        return page + below(r, PAGE);
    return page - 20 + below(r, 41);
}

static size_t pick_access_len(struct run *r)
{
    return chance(r, 15) ? (size_t)(1 + below(r, MAX_ACCESS)) : (size_t)(1 + below(r, 16));
}

static void op_load(struct run *r)
{
    uint64_t va = pick_access_addr(r, actor_proc(r));
    size_t len = pick_access_len(r);
    snprintf(r->op, sizeof(r->op), "load(%#" PRIx64 ", %zu)", va, len);
    checked_load(r, r->ap, r->at, va, len, "load");
}

/* A writable page's address, usually (a store elsewhere only faults). */
static uint64_t pick_store_addr(struct run *r, struct mproc *p)
{
    int start = (int)below(r, WIN_PAGES);
    for (int i = 0; i < WIN_PAGES; i++) {
        int idx = (start + i) % WIN_PAGES;
        if (p->page[idx].kind != K_NONE && may_store(&p->page[idx]) && page_view(r, p, idx))
            return page_va(idx) + below(r, PAGE);
    }
    return pick_access_addr(r, p);
}

/* Is va past EOF in a file's last page, seen through a shared mapping?
 * Under memory pressure reclaim may write that page back and free it, and
 * what a mapping stored there is gone when it is read again (zeros, as on
 * Linux): when, the model cannot tell. A run with swap stores zeros
 * there, so that the page reads the same either way. */
static int shared_past_eof(struct run *r, struct mproc *p, uint64_t va)
{
    const struct mpage *pg = page_at(p, va);
    if (!pg || pg->kind != K_FILE || !pg->shared)
        return 0;
    const struct mfile *f = &r->file[pg->obj];
    return pg->pgoff * PAGE + (va & (PAGE - 1)) >= f->size;
}

static void op_store(struct run *r)
{
    struct mproc *p = actor_proc(r);
    uint64_t va = chance(r, 50) ? pick_store_addr(r, p) : pick_access_addr(r, p);
    size_t len = pick_access_len(r);
    snprintf(r->op, sizeof(r->op), "store(%#" PRIx64 ", %zu)", va, len);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd(r);
    for (size_t i = 0; r->swap && i < len; i++)
        if (shared_past_eof(r, p, va + i))
            buf[i] = 0;
    int sig = vms_store(actor(r), va, buf, len);
    struct outcome want = model_access(r, p, va, buf, len, 1);
    free(buf);
    expect_outcome(r, actor(r), sig, &want, "store");
    r->failed[OP_STORE] += want.sig != 0;
    probe_around(r, r->ap, va, va + len);
}

/* ---- mremap ---- */

struct remap {
    uint64_t addr, old_len, new_len, new_addr; /* lengths as given */
    int flags;
    uint64_t old_pages, new_pages;
    /* the plan, as Linux's mremap would carry it out */
    int64_t result;
    int skip;
    int unmap_dest;         /* MREMAP_FIXED: the destination is unmapped first */
    int shrink;             /* the tail past new_pages is unmapped */
    int grow_in_place, move;
    uint64_t dest;
    struct mpage tmpl;      /* the page at addr: what growth continues */
};

static int vma_holding(const struct vma_line *v, int n, uint64_t addr)
{
    for (int i = 0; i < n; i++)
        if (v[i].start <= addr && addr < v[i].end)
            return i;
    return -1;
}

/* Linux's check_mremap_params: the checks that need no VMA. */
static int remap_param_error(const struct remap *q)
{
    if (q->flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
        return -EINVAL;
    if (q->addr & (PAGE - 1))
        return -EINVAL;
    if (!q->new_pages)
        return -EINVAL;
    if (!(q->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)))
        return 0;
    if (q->new_addr & (PAGE - 1))
        return -EINVAL;
    if (!(q->flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if ((q->flags & MREMAP_DONTUNMAP) && q->old_pages != q->new_pages)
        return -EINVAL;
    uint64_t old_end = q->addr + q->old_pages * PAGE, new_end = q->new_addr + q->new_pages * PAGE;
    if (old_end > q->new_addr && new_end > q->addr)
        return -EINVAL; /* the ranges overlap */
    return 0;
}

/* Where a moved range goes without MREMAP_FIXED: the hint of a DONTUNMAP
 * move when it is free, else the top-down search (the old range is still
 * mapped meanwhile). 0 when the model cannot follow. */
static uint64_t remap_destination(struct mproc *p, const struct remap *q)
{
    if (q->new_addr && (q->flags & MREMAP_DONTUNMAP) && range_free(p, q->new_addr, q->new_pages))
        return q->new_addr + q->new_pages * PAGE <= MMAP_BASE ? q->new_addr : 0;
    return model_topdown(p, q->new_pages);
}

static void plan_move(struct mproc *p, struct remap *q)
{
    q->move = 1;
    q->dest = (q->flags & MREMAP_FIXED) ? q->new_addr : remap_destination(p, q);
    q->skip = q->dest < WIN || q->dest + q->new_pages * PAGE > MMAP_BASE;
    q->result = (int64_t)q->dest;
}

/* Without a new address: shrink or grow in place, else move if allowed. */
static void plan_remap_at(struct mproc *p, struct remap *q, const struct vma_line *vma)
{
    q->result = (int64_t)q->addr;
    if (q->new_pages == q->old_pages)
        return;
    if (q->new_pages < q->old_pages) {
        q->shrink = 1;
        return;
    }
    uint64_t delta = (q->new_pages - q->old_pages) * PAGE;
    if (vma->end == q->addr + q->old_pages * PAGE && range_free(p, vma->end, delta / PAGE)) {
        q->grow_in_place = 1;
        q->skip = vma->end + delta > MMAP_BASE; /* it would grow out of the window */
        return;
    }
    if (!(q->flags & MREMAP_MAYMOVE)) {
        q->result = -ENOMEM;
        return;
    }
    plan_move(p, q);
}

/* Predicts the whole call, as Linux's do_mremap, from the model and the
 * VMAs the maps show. */
static void plan_remap(struct run *r, struct mproc *p, struct remap *q, const struct vma_line *v,
                       int nv)
{
    q->old_pages = pages_of(q->old_len);
    q->new_pages = pages_of(q->new_len);
    q->result = remap_param_error(q);
    if (q->result)
        return;
    int implies_new = (q->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0;
    int vi = vma_holding(v, nv, q->addr);
    int equal = q->old_pages == q->new_pages;
    if (vi < 0) {
        q->result = -EFAULT;
        return;
    }
    /* Linux 6.17+ moves every VMA of the range for MREMAP_FIXED with equal
     * lengths; vmsim moves one (a documented simplification): not generated. */
    if ((q->flags & MREMAP_FIXED) && equal && q->addr + q->old_pages * PAGE > v[vi].end) {
        q->skip = 1;
        return;
    }
    const struct mpage *at = page_at(p, q->addr);
    CHECK(r, at && at->kind != K_NONE, "maps shows a VMA at %#" PRIx64 ", the model nothing",
          q->addr);
    q->tmpl = *at;
    if (q->new_pages > q->old_pages || implies_new) {
        if (!q->old_pages && !q->tmpl.shared) {
            q->result = -EINVAL; /* duplicating a private mapping */
            return;
        }
        uint64_t kept = q->new_pages < q->old_pages ? q->new_pages : q->old_pages;
        if (kept * PAGE > v[vi].end - q->addr) {
            q->result = -EFAULT; /* the old range leaves its VMA */
            return;
        }
    }
    if (!implies_new) {
        plan_remap_at(p, q, &v[vi]);
        return;
    }
    q->unmap_dest = (q->flags & MREMAP_FIXED) != 0;
    if (q->unmap_dest && q->addr >= q->new_addr && q->addr < q->new_addr + q->new_pages * PAGE) {
        /* old_len 0 escapes the overlap check: unmapping the destination
         * takes the source away, and the VMA is looked up again. */
        q->result = -EFAULT;
        return;
    }
    q->shrink = q->new_pages < q->old_pages;
    plan_move(p, q);
}

/* Page i of a range that continues the mapping at addr past what it held. */
static struct mpage continued_page(const struct mpage *tmpl, uint64_t i)
{
    struct mpage pg = *tmpl;
    pg.copied = 0;
    pg.pgoff = tmpl->pgoff + (uint32_t)i;
    return pg;
}

/* The old range of a DONTUNMAP move keeps its mapping, emptied: private
 * pages lose their bytes (zeros, or the file again), shared ones stay. */
static void empty_page(struct mproc *p, int idx)
{
    struct mpage *pg = &p->page[idx];
    if (pg->shared)
        return;
    pg->copied = 0;
    memset(own_bytes(p, idx), 0, PAGE);
}

static void model_move(struct mproc *p, const struct remap *q, uint64_t old_pages)
{
    struct mpage *saved = calloc(old_pages + 1, sizeof(*saved));
    uint8_t *bytes = malloc((old_pages + 1) * PAGE);
    assert_true(saved && bytes);
    for (uint64_t i = 0; i < old_pages; i++) {
        int idx = page_index(q->addr + i * PAGE);
        saved[i] = p->page[idx];
        memcpy(bytes + i * PAGE, own_bytes(p, idx), PAGE);
        if (q->flags & MREMAP_DONTUNMAP)
            empty_page(p, idx);
        else
            unmap_page(p, idx);
    }
    for (uint64_t i = 0; i < q->new_pages; i++) {
        int idx = page_index(q->dest + i * PAGE);
        unmap_page(p, idx);
        if (i < old_pages) {
            p->page[idx] = saved[i];
            memcpy(own_bytes(p, idx), bytes + i * PAGE, PAGE);
        } else {
            p->page[idx] = continued_page(&q->tmpl, i);
        }
    }
    free(saved);
    free(bytes);
}

/* The model after the call (a failed call may have unmapped its destination). */
static void apply_remap(struct mproc *p, const struct remap *q)
{
    uint64_t old_pages = q->old_pages;
    if (q->unmap_dest)
        model_unmap(p, q->new_addr, q->new_addr + q->new_pages * PAGE);
    if (q->result < 0)
        return;
    if (q->shrink) {
        model_unmap(p, q->addr + q->new_pages * PAGE, q->addr + old_pages * PAGE);
        old_pages = q->new_pages;
    }
    if (q->grow_in_place)
        for (uint64_t i = old_pages; i < q->new_pages; i++)
            p->page[page_index(q->addr + i * PAGE)] = continued_page(&q->tmpl, i);
    if (q->move)
        model_move(p, q, old_pages);
}

static uint64_t pick_remap_len(struct run *r, uint64_t pages)
{
    uint64_t len = pages * PAGE;
    if (len && chance(r, 10))
        len -= 1 + below(r, PAGE - 1);
    return len;
}

/* Mostly the combinations that can succeed; now and then one that cannot
 * (FIXED or DONTUNMAP without MAYMOVE). */
static int pick_remap_flags(struct run *r)
{
    static const int choices[] = {
        0, 0, 0, 0, 0,
        MREMAP_MAYMOVE, MREMAP_MAYMOVE, MREMAP_MAYMOVE, MREMAP_MAYMOVE, MREMAP_MAYMOVE,
        MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_MAYMOVE | MREMAP_FIXED,
        MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_MAYMOVE | MREMAP_FIXED,
        MREMAP_MAYMOVE | MREMAP_DONTUNMAP, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
        MREMAP_MAYMOVE | MREMAP_DONTUNMAP, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
        MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_DONTUNMAP,
        MREMAP_FIXED | MREMAP_DONTUNMAP,
    };
    int flags = choices[below(r, sizeof(choices) / sizeof(choices[0]))];
    return chance(r, 2) ? flags | MREMAP_BAD_FLAG : flags;
}

/* A destination for new_pages that does not overlap the old range (most of the time). */
static uint64_t pick_remap_dest(struct run *r, const struct remap *q, uint64_t new_pages)
{
    uint64_t room = new_pages < WIN_PAGES ? WIN_PAGES - new_pages + 1 : 1, dest = 0;
    for (int tries = 0; tries < 8; tries++) {
        dest = page_va((int)below(r, room));
        if (dest + new_pages * PAGE <= q->addr || dest >= q->addr + q->old_len || chance(r, 5))
            break;
    }
    return dest;
}

static struct remap pick_remap(struct run *r, struct mproc *p, const struct vma_line *v, int nv)
{
    struct remap q = {.flags = pick_remap_flags(r)};
    uint64_t max_old = 4;
    if (nv == 0 || chance(r, 5)) {
        q.addr = page_va(pick_rel_page(r, p));
    } else {
        const struct vma_line *vma = &v[below(r, (uint64_t)nv)];
        uint64_t pages = (vma->end - vma->start) / PAGE;
        q.addr = vma->start + (chance(r, 50) ? 0 : below(r, pages) * PAGE);
        max_old = (vma->end - q.addr) / PAGE;
    }
    uint64_t x = below(r, 100), old_pages;
    old_pages = x < 30   ? max_old /* to the VMA's end: may grow in place */
                : x < 88 ? 1 + below(r, max_old)
                : x < 96 ? max_old + 1 + below(r, 4)
                         : 0;
    x = below(r, 3);
    if ((q.flags & MREMAP_DONTUNMAP) && chance(r, 90))
        x = 1; /* DONTUNMAP needs equal lengths */
    uint64_t new_pages = x == 0 && old_pages > 1 ? 1 + below(r, old_pages - 1)
                         : x == 1 && old_pages  ? old_pages
                                                : old_pages + 1 + below(r, 16);
    q.old_len = pick_remap_len(r, old_pages);
    q.new_len = pick_remap_len(r, new_pages);
    if ((q.flags & MREMAP_FIXED) || chance(r, 50))
        q.new_addr = pick_remap_dest(r, &q, new_pages);
    if (chance(r, 2))
        q.new_addr += 1 + below(r, PAGE - 1);
    if (chance(r, 2))
        q.addr += 1 + below(r, PAGE - 1);
    return q;
}

static void op_mremap(struct run *r)
{
    struct mproc *p = actor_proc(r);
    struct vma_line *v = malloc(MAX_VMAS * sizeof(*v));
    assert_non_null(v);
    int nv = read_vmas(r, actor(r), v);
    struct remap q = pick_remap(r, p, v, nv);
    plan_remap(r, p, &q, v, nv);
    free(v);
    snprintf(r->op, sizeof(r->op),
             "mremap(%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 ", %s%s%s%s, %#" PRIx64 ")", q.addr,
             q.old_len, q.new_len, (q.flags & MREMAP_MAYMOVE) ? "MAYMOVE" : "0",
             (q.flags & MREMAP_FIXED) ? "|FIXED" : "",
             (q.flags & MREMAP_DONTUNMAP) ? "|DONTUNMAP" : "",
             (q.flags & MREMAP_BAD_FLAG) ? "|8" : "", q.new_addr);
    if (q.skip) {
        r->done[OP_SKIPPED]++;
        return;
    }
    int64_t got = vms_mremap(actor(r), q.addr, q.old_len, q.new_len, q.flags, q.new_addr);
    expect_result(r, got, q.result);
    apply_remap(p, &q);
    r->failed[OP_MREMAP] += q.result < 0;
    probe_around(r, r->ap, q.addr, q.addr + q.old_pages * PAGE);
    if (q.result >= 0)
        probe_around(r, r->ap, (uint64_t)q.result, (uint64_t)q.result + q.new_pages * PAGE);
    if (q.new_addr && in_window(q.new_addr))
        probe_around(r, r->ap, q.new_addr, q.new_addr + q.new_pages * PAGE);
}

/* ---- madvise ---- */

#define MADV_BAD 999

static const int advices[] = {
    MADV_DONTNEED, MADV_DONTNEED, MADV_DONTNEED, MADV_FREE,       MADV_FREE,
    MADV_WILLNEED, MADV_REMOVE,   MADV_REMOVE,   MADV_DONTFORK,   MADV_DONTFORK,
    MADV_DOFORK,   MADV_WIPEONFORK, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_RANDOM,
    MADV_SEQUENTIAL, MADV_NORMAL, MADV_POPULATE_READ, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
    MADV_POPULATE_WRITE, MADV_BAD,
};

static const char *advice_name(int advice)
{
    switch (advice) {
    case MADV_DONTNEED: return "DONTNEED";
    case MADV_FREE: return "FREE";
    case MADV_WILLNEED: return "WILLNEED";
    case MADV_REMOVE: return "REMOVE";
    case MADV_DONTFORK: return "DONTFORK";
    case MADV_DOFORK: return "DOFORK";
    case MADV_WIPEONFORK: return "WIPEONFORK";
    case MADV_KEEPONFORK: return "KEEPONFORK";
    case MADV_RANDOM: return "RANDOM";
    case MADV_SEQUENTIAL: return "SEQUENTIAL";
    case MADV_NORMAL: return "NORMAL";
    case MADV_POPULATE_READ: return "POPULATE_READ";
    case MADV_POPULATE_WRITE: return "POPULATE_WRITE";
    }
    return "invalid";
}

/* MADV_REMOVE punches a hole in the shared object: its pages read zero. */
static int remove_page(struct run *r, struct mproc *p, int idx)
{
    const struct mpage *pg = &p->page[idx];
    if (pg->kind == K_ANON)
        return -EINVAL;
    if (!pg->shared || !pg->maywrite)
        return -EACCES;
    uint8_t *view = page_view(r, p, idx);
    if (view)
        memset(view, 0, PAGE);
    return 0;
}

/* One page of an advice that walks VMA by VMA; the errors are per VMA, and
 * a VMA's pages are all alike, so the first page decides. */
static int advise_page(struct run *r, struct mproc *p, int idx, int advice)
{
    struct mpage *pg = &p->page[idx];
    switch (advice) {
    case MADV_DONTNEED:
        if (pg->kind == K_ANON)
            memset(own_bytes(p, idx), 0, PAGE);
        if (pg->kind == K_FILE && !pg->shared)
            pg->copied = 0;
        return 0;
    case MADV_FREE: /* the data stays, unless it was out in swap */
        if (pg->kind == K_ANON && r->swapped[idx])
            memset(own_bytes(p, idx), 0, PAGE);
        return pg->kind == K_ANON ? 0 : -EINVAL;
    case MADV_REMOVE: return remove_page(r, p, idx);
    case MADV_DONTFORK: pg->dontfork = 1; return 0;
    case MADV_DOFORK: pg->dontfork = 0; return 0;
    case MADV_WIPEONFORK:
        if (pg->kind != K_ANON)
            return -EINVAL;
        pg->wipeonfork = 1;
        return 0;
    case MADV_KEEPONFORK: pg->wipeonfork = 0; return 0;
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL: pg->readhint = (uint8_t)advice; return 0;
    }
    return 0; /* WILLNEED: no visible change */
}

/* POPULATE_READ/WRITE fault pages in one after the other and stop at the
 * first that cannot be: a hole (ENOMEM), an access the protection refuses
 * (EINVAL), SIGBUS (EFAULT). Writing copies private file pages. */
static int model_populate(struct run *r, struct mproc *p, uint64_t start, uint64_t end, int write)
{
    for (uint64_t va = start; va < end; va += PAGE) {
        struct mpage *pg = page_at(p, va);
        if (!pg || pg->kind == K_NONE)
            return -ENOMEM;
        if (!(pg->prot & (write ? PROT_WRITE : PROT_READ)))
            return -EINVAL;
        if (!page_view(r, p, page_index(va)))
            return -EFAULT;
        if (write)
            cow_file_page(r, p, page_index(va));
    }
    return 0;
}

static int model_madvise(struct run *r, struct mproc *p, uint64_t start, uint64_t len_in,
                         int advice)
{
    if (advice == MADV_BAD || (start & (PAGE - 1)))
        return -EINVAL;
    uint64_t end = start + pages_of(len_in) * PAGE;
    if (end == start)
        return 0;
    if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE)
        return model_populate(r, p, start, end, advice == MADV_POPULATE_WRITE);
    int unmapped = 0;
    for (uint64_t va = start; va < end; va += PAGE) {
        if (!is_mapped(p, va)) {
            unmapped = -ENOMEM; /* a hole: the rest is still advised */
            continue;
        }
        int err = advise_page(r, p, page_index(va), advice);
        if (err)
            return err;
    }
    return unmapped;
}

static void note_swapped(struct run *r, uint64_t start, uint64_t len)
{
    memset(r->swapped, 0, sizeof(r->swapped));
    for (uint64_t va = start & ~(PAGE - 1); r->swap && va < start + len && va >= start - PAGE;
         va += PAGE) {
        struct vms_walk w;
        if (in_window(va) && vms_walk(actor(r), va, &w) == 0 && w.swap)
            r->swapped[page_index(va)] = 1;
    }
}

static void op_madvise(struct run *r)
{
    struct mproc *p = actor_proc(r);
    uint64_t start = pick_range_start(r, p), len = pick_range_len(r);
    if (chance(r, 50))
        pick_mapped_range(r, p, &start, &len);
    int advice = advices[below(r, sizeof(advices) / sizeof(advices[0]))];
    if (chance(r, 2))
        start += 1 + below(r, PAGE - 1);
    if (chance(r, 1))
        len = 0;
    snprintf(r->op, sizeof(r->op), "madvise(%#" PRIx64 ", %#" PRIx64 ", %s)", start, len,
             advice_name(advice));
    note_swapped(r, start, len);
    int got = vms_madvise(actor(r), start, len, advice);
    int want = model_madvise(r, p, start, len, advice);
    expect_result(r, got, want);
    r->failed[OP_MADVISE] += want < 0;
    probe_around(r, r->ap, start, start + len);
}

/* ---- processes and threads ---- */

static int free_slot(struct run *r)
{
    for (int pi = 0; pi < MAX_PROCS; pi++)
        if (!r->proc[pi].alive)
            return pi;
    return -1;
}

static int nprocs(struct run *r)
{
    int n = 0;
    for (int pi = 0; pi < MAX_PROCS; pi++)
        n += r->proc[pi].alive;
    return n;
}

/* A fresh process in slot pi: an empty mm, the files opened in order. */
static void spawn_process(struct run *r, int pi)
{
    struct mproc *p = &r->proc[pi];
    vms_task *t = vms_spawn(r->m, "proc");
    assert_non_null(t);
    p->alive = 1;
    p->ntasks = 1;
    p->task[0] = t;
    memset(p->page, 0, sizeof(p->page));
    memset(p->bytes, 0, WIN_PAGES * PAGE);
    for (int f = 0; f < NFILES; f++) {
        expect_result(r, vms_open(t, file_names[f], O_RDWR, 0), fd_of(f, 0));
        expect_result(r, vms_open(t, file_names[f], O_RDONLY, 0), fd_of(f, 1));
    }
    expect_result(r, vms_schedule(t, (unsigned)below(r, NCPUS)), 0);
}

static void op_spawn(struct run *r)
{
    int pi = free_slot(r);
    snprintf(r->op, sizeof(r->op), "spawn a process in slot %d", pi);
    if (pi < 0) {
        r->done[OP_SKIPPED]++;
        return;
    }
    spawn_process(r, pi);
    probe_everything(r, pi);
}

/* The child's model: private pages copied, shared ones the same objects,
 * DONTFORK ranges absent, WIPEONFORK ranges zero. */
static void model_fork(struct mproc *child, const struct mproc *parent)
{
    memcpy(child->page, parent->page, sizeof(child->page));
    memcpy(child->bytes, parent->bytes, WIN_PAGES * PAGE);
    for (int i = 0; i < WIN_PAGES; i++) {
        if (child->page[i].dontfork)
            unmap_page(child, i);
        else if (child->page[i].wipeonfork)
            memset(own_bytes(child, i), 0, PAGE);
    }
}

static void op_fork(struct run *r)
{
    int ci = free_slot(r);
    snprintf(r->op, sizeof(r->op), "fork into slot %d", ci);
    if (ci < 0) {
        r->done[OP_SKIPPED]++;
        return;
    }
    struct mproc *child = &r->proc[ci];
    vms_task *t = vms_fork(actor(r));
    CHECK(r, t != NULL, "vms_fork failed (errno %d)", errno);
    child->alive = 1;
    child->ntasks = 1;
    child->task[0] = t;
    model_fork(child, actor_proc(r));
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check right after fork");
    if (chance(r, 50))
        expect_result(r, vms_schedule(t, (unsigned)below(r, NCPUS)), 0);
    for (int i = 0; i < 6; i++) {
        uint64_t va = page_va(pick_rel_page(r, child));
        probe_page(r, ci, 0, va);
        probe_page(r, r->ap, r->at, va);
    }
}

static void op_clone(struct run *r)
{
    struct mproc *p = actor_proc(r);
    snprintf(r->op, sizeof(r->op), "clone a thread");
    if (p->ntasks == MAX_THREADS) {
        r->done[OP_SKIPPED]++;
        return;
    }
    vms_task *t = vms_clone_thread(actor(r));
    CHECK(r, t != NULL, "vms_clone_thread failed (errno %d)", errno);
    p->task[p->ntasks++] = t;
    expect_result(r, vms_schedule(t, (unsigned)below(r, NCPUS)), 0);
    probe_page(r, r->ap, p->ntasks - 1, page_va(pick_rel_page(r, p)));
}

/* A thread exits; with its last thread the process goes, and the model
 * with it (its children live on). The last process is replaced by a fresh one. */
static void op_exit(struct run *r)
{
    struct mproc *p = actor_proc(r);
    snprintf(r->op, sizeof(r->op), "exit of thread %d of %d (%d processes)", r->at, p->ntasks,
             nprocs(r));
    vms_exit(actor(r));
    p->task[r->at] = p->task[--p->ntasks];
    if (p->ntasks)
        return;
    p->alive = 0;
    memset(p->page, 0, sizeof(p->page));
    if (nprocs(r) == 0)
        spawn_process(r, (int)below(r, MAX_PROCS));
}

static void op_schedule(struct run *r)
{
    unsigned cpu = (unsigned)below(r, NCPUS + 1); /* NCPUS: EINVAL */
    snprintf(r->op, sizeof(r->op), "schedule on cpu %u", cpu);
    expect_result(r, vms_schedule(actor(r), cpu), cpu < NCPUS ? 0 : -EINVAL);
    r->failed[OP_SCHEDULE] += cpu >= NCPUS;
    probe_page(r, r->ap, r->at, page_va(pick_rel_page(r, actor_proc(r))));
}

/* ---- the run ---- */

static void pick_actor(struct run *r)
{
    do
        r->ap = (int)below(r, MAX_PROCS);
    while (!r->proc[r->ap].alive);
    r->at = random_thread(r, r->ap);
}

/* Another process looks at a few of its pages: shared objects written
 * elsewhere must show through, private ones must not. */
static void probe_bystander(struct run *r)
{
    int ap = r->ap, at = r->at;
    pick_actor(r);
    for (int i = 0; i < 2; i++)
        probe_page(r, r->ap, r->at, page_va(pick_rel_page(r, actor_proc(r))));
    r->ap = ap;
    r->at = at;
}

static enum op_kind pick_op(struct run *r)
{
    uint64_t x = below(r, 1000);
    static const struct {
        unsigned upto;
        enum op_kind op;
    } table[] = {
        {170, OP_LOAD},    {350, OP_STORE},    {470, OP_MMAP},     {530, OP_MUNMAP},
        {590, OP_MPROTECT}, {720, OP_MREMAP}, {870, OP_MADVISE}, {900, OP_FORK},
        {930, OP_EXIT},    {950, OP_CLONE},    {990, OP_SCHEDULE}, {1000, OP_SPAWN},
    };
    size_t i = 0;
    while (x >= table[i].upto)
        i++;
    return table[i].op;
}

static void random_step(struct run *r)
{
    pick_actor(r);
    enum op_kind op = pick_op(r);
    switch (op) {
    case OP_LOAD: op_load(r); break;
    case OP_STORE: op_store(r); break;
    case OP_MMAP: op_mmap(r); break;
    case OP_MUNMAP: op_munmap(r); break;
    case OP_MPROTECT: op_mprotect(r); break;
    case OP_MREMAP: op_mremap(r); break;
    case OP_MADVISE: op_madvise(r); break;
    case OP_FORK: op_fork(r); break;
    case OP_EXIT: op_exit(r); break;
    case OP_CLONE: op_clone(r); break;
    case OP_SCHEDULE: op_schedule(r); break;
    case OP_SPAWN: op_spawn(r); break;
    case OP_SKIPPED:
    case OP_KINDS: break;
    }
    r->done[op]++;
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check (invariants broken, see above)");
    if (chance(r, 25))
        probe_bystander(r);
}

static void count_frames(void *arg, const struct vms_event *ev)
{
    struct run *r = arg;
    if (ev->kind == VMS_EV_FRAME_ALLOC)
        r->reported_frames += 1LL << ev->level;
    else if (ev->kind == VMS_EV_FRAME_FREE)
        r->reported_frames -= 1LL << ev->level;
}

/* Every frame given to memory or back was reported. */
static void check_frame_events(struct run *r)
{
    struct vms_stats *s = tu_stats(r->m);
    int64_t data = (int64_t)(s->frames_used - s->pgtable_frames);
    free(s);
    CHECK(r, data == (int64_t)r->first_frames + r->reported_frames,
          "%" PRId64 " frames hold memory, the frame events account for %" PRId64, data,
          (int64_t)r->first_frames + r->reported_frames);
}

static void full_check(struct run *r)
{
    snprintf(r->op, sizeof(r->op), "full comparison after step %d", r->step);
    for (int pi = 0; pi < MAX_PROCS; pi++) {
        if (!r->proc[pi].alive)
            continue;
        r->ap = pi;
        probe_everything(r, pi);
        check_maps(r, pi);
    }
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check");
    check_frame_events(r);
}

/* ---- files, the frame baseline, set-up and tear-down ---- */

static void make_files(struct run *r)
{
    r->cache_pages = 0;
    for (int i = 0; i < NFILES; i++) {
        struct mfile *f = &r->file[i];
        uint64_t pages = 1 + below(r, FILE_MAX_PAGES);
        f->size = chance(r, 30) ? pages * PAGE : pages * PAGE - 1 - below(r, PAGE - 1);
        f->npages = (uint32_t)pages;
        f->cache = calloc(pages, PAGE);
        assert_non_null(f->cache);
        for (uint64_t b = 0; b < f->size; b++)
            f->cache[b] = (uint8_t)rnd(r);
        char path[400];
        tu_host_write(tu_join(path, sizeof(path), r->root, file_names[i]), f->cache, f->size);
        r->cache_pages += pages;
    }
}

static uint64_t cache_frames(vms_machine *m)
{
    struct vms_stats *s = tu_stats(m);
    uint64_t n = s->cache_frames;
    free(s);
    return n;
}

/* A process of its own reads every file whole (so that the page cache holds
 * all of it) and checks the bytes against the model, then exits. */
static void read_back_files(struct run *r)
{
    vms_task *t = vms_spawn(r->m, "reader");
    assert_non_null(t);
    expect_result(r, vms_mmap(t, WIN, FILE_MAX_PAGES * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                  (int64_t)WIN);
    uint8_t *got = malloc(FILE_MAX_PAGES * PAGE);
    assert_non_null(got);
    for (int i = 0; i < NFILES; i++) {
        const struct mfile *f = &r->file[i];
        int fd = vms_open(t, file_names[i], O_RDONLY, 0);
        CHECK(r, fd >= 0, "reader cannot open %s: %d", file_names[i], fd);
        expect_result(r, vms_pread(t, fd, WIN, f->size, 0), (int64_t)f->size);
        CHECK(r, vms_load(t, WIN, got, f->size) == 0, "reader load");
        for (uint64_t b = 0; b < f->size; b++)
            CHECK(r, got[b] == f->cache[b], "%s: byte %" PRIu64 " read back %#x, model %#x",
                  file_names[i], b, got[b], f->cache[b]);
        expect_result(r, vms_close(t, fd), 0);
    }
    free(got);
    vms_exit(t);
}

/* Each host file holds the model's bytes after a sync. */
static void expect_disk_matches(struct run *r)
{
    CHECK(r, vms_sync(r->m) == 0, "vms_sync");
    uint8_t *disk = malloc(FILE_MAX_PAGES * PAGE + 1);
    assert_non_null(disk);
    for (int i = 0; i < NFILES; i++) {
        const struct mfile *f = &r->file[i];
        char path[400];
        ssize_t n = tu_host_read(tu_join(path, sizeof(path), r->root, file_names[i]), disk,
                                 FILE_MAX_PAGES * PAGE + 1, 0);
        CHECK(r, n == (ssize_t)f->size, "%s: %zd bytes on disk, model %" PRIu64, file_names[i], n,
              f->size);
        CHECK(r, memcmp(disk, f->cache, f->size) == 0, "%s: bytes on disk differ from the model",
              file_names[i]);
    }
    free(disk);
}

static void start_run(struct run *r, uint64_t seed, int pcid, int levels, uint64_t phys,
                      uint64_t swap)
{
    r->seed = r->rng = seed;
    make_files(r);
    struct vms_config c = tu_config(phys);
    c.swap_bytes = swap;
    c.root = r->root;
    c.ncpus = NCPUS;
    c.pcid = pcid;
    c.pgtable_levels = levels;
    c.trace = count_frames;
    c.trace_arg = r;
    tu_pwc(&c, (int)(seed & 1));
    r->m = tu_machine_with(&c);
    r->reported_frames = 0;
    r->first_frames = tu_frames_used(r->m) - tu_pgtable_frames(r->m);
    snprintf(r->op, sizeof(r->op), "reading the files before the run");
    read_back_files(r);
    /* With a small RAM, reclaim may already have dropped some of them. */
    CHECK(r, swap ? cache_frames(r->m) <= r->cache_pages : cache_frames(r->m) == r->cache_pages,
          "page cache holds %" PRIu64 " frames, the files %" PRIu64 " pages", cache_frames(r->m),
          r->cache_pages);
    r->baseline_frames = tu_frames_used(r->m);
    r->own_frames = r->baseline_frames - cache_frames(r->m);
    for (int pi = 0; pi < MAX_PROCS; pi++) {
        r->proc[pi].bytes = calloc(WIN_PAGES, PAGE);
        assert_non_null(r->proc[pi].bytes);
    }
    spawn_process(r, 0);
}

/* Every task exits (in a random order); only the zero page and the files'
 * page cache may be left. */
static void finish(struct run *r)
{
    r->step = STEPS;
    snprintf(r->op, sizeof(r->op), "every task exits");
    while (nprocs(r)) {
        pick_actor(r);
        struct mproc *p = actor_proc(r);
        vms_exit(actor(r));
        p->task[r->at] = p->task[--p->ntasks];
        p->alive = p->ntasks > 0;
        CHECK(r, vms_check(r->m, stderr) == 0, "vms_check after an exit");
        check_frame_events(r);
    }
    snprintf(r->op, sizeof(r->op), "reading the files after the run");
    read_back_files(r);
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check at the end");
    uint64_t used = tu_frames_used(r->m);
    if (r->swap) { /* only the files' cache (what fits of it) and the machine's own */
        CHECK(r, used - cache_frames(r->m) == r->own_frames, "%" PRIu64 " frames in use after "
              "every task exited, %" PRIu64 " of them the files' cache; %" PRIu64 " expected "
              "besides", used, cache_frames(r->m), r->own_frames);
    } else {
        CHECK(r, cache_frames(r->m) == r->cache_pages, "page cache holds %" PRIu64
              " frames, the files %" PRIu64 " pages", cache_frames(r->m), r->cache_pages);
        CHECK(r, used == r->baseline_frames, "%" PRIu64 " frames in use after every task "
              "exited, %" PRIu64 " with only the files cached", used, r->baseline_frames);
    }
    expect_disk_matches(r);
    print_message("seed %#" PRIx64 ": %d steps; load %u store %u mmap %u munmap %u mprotect %u "
                  "mremap %u madvise %u fork %u exit %u clone %u schedule %u spawn %u "
                  "(skipped %u); errors expected and seen: mmap %u mremap %u madvise %u "
                  "mprotect %u store %u\n",
                  r->seed, STEPS, r->done[OP_LOAD], r->done[OP_STORE], r->done[OP_MMAP],
                  r->done[OP_MUNMAP], r->done[OP_MPROTECT], r->done[OP_MREMAP],
                  r->done[OP_MADVISE], r->done[OP_FORK], r->done[OP_EXIT], r->done[OP_CLONE],
                  r->done[OP_SCHEDULE], r->done[OP_SPAWN], r->done[OP_SKIPPED],
                  r->failed[OP_MMAP], r->failed[OP_MREMAP], r->failed[OP_MADVISE],
                  r->failed[OP_MPROTECT], r->failed[OP_STORE]);
}

static void run_seed_with(struct run *r, uint64_t seed, int pcid, int levels, uint64_t phys,
                          uint64_t swap)
{
    r->swap = swap != 0;
    start_run(r, seed, pcid, levels, phys, swap);
    for (r->step = 0; r->step < STEPS; r->step++) {
        random_step(r);
        if ((r->step + 1) % FULL_CHECK_EVERY == 0)
            full_check(r);
        else if ((r->step + 1) % MAPS_CHECK_EVERY == 0) {
            pick_actor(r);
            check_maps(r, r->ap);
        }
        if ((r->step + 1) % GC_EVERY == 0)
            shm_collect(r);
    }
    finish(r);
    if (swap) { /* reclaim did run, both ways */
        struct vms_stats *st = tu_stats(r->m);
        print_message("  with swap: pswpout %" PRIu64 " pswpin %" PRIu64 " pgsteal %" PRIu64
                      " major faults %" PRIu64 "\n", st->vm.pswpout, st->vm.pswpin,
                      st->vm.pgsteal_kswapd + st->vm.pgsteal_direct, st->major_faults);
        CHECK(r, st->vm.pswpout > 500 && st->vm.pswpin > 500, "too little swapping to test it");
        free(st);
    }
}

static void run_seed(struct run *r, uint64_t seed, int pcid, int levels)
{
    run_seed_with(r, seed, pcid, levels, 32ULL << 20, 0);
}

/* A scratch folder holds the machine's root; teardown removes it even when
 * a check fails half-way. */
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
    for (int pi = 0; pi < MAX_PROCS; pi++)
        free(r->proc[pi].bytes);
    for (uint32_t o = 0; o < r->nshm; o++)
        free(r->shm[o].bytes);
    free(r->shm);
    for (int i = 0; i < NFILES; i++)
        free(r->file[i].cache);
    int err = tu_scratch_remove(r->dir);
    free(r);
    return err;
}

/* Four CPUs without PCID: every switch between processes flushes. */
static void test_random_processes_four_cpus(void **state)
{
    run_seed(*state, UINT64_C(0x70726f6331), 0, 4);
}

/* Four CPUs with PCID: stale entries of other contexts stay tagged in the TLBs. */
static void test_random_processes_four_cpus_pcid(void **state)
{
    run_seed(*state, UINT64_C(0x70726f6332), 1, 4);
}

/* PCID and 5-level page tables. */
static void test_random_processes_pcid_5level(void **state)
{
    run_seed(*state, UINT64_C(0x70726f6333), 1, 5);
}

/* 2 MiB of RAM for up to four processes of 1 MiB each, with 16 MiB of
 * swap: reclaim runs all the time, private and shared pages go to swap and
 * come back through forks, mremaps and exits, and every byte is checked. */
static void test_random_processes_small_ram_with_swap(void **state)
{
    run_seed_with(*state, UINT64_C(0x70726f6334), 1, 4, 384ULL << 10, 16ULL << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_processes_small_ram_with_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_processes_four_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_processes_four_cpus_pcid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_processes_pcid_5level, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
