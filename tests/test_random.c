/*
 * test_random.c - a randomised test of the whole mapping system against a
 * reference model of the address space.
 *
 * From a fixed seed, 10,000 operations run on one address space: mmap
 * (private and shared anonymous, every protection but exec-only, MAP_FIXED,
 * MAP_FIXED_NOREPLACE, hints, no address, MAP_POPULATE, unaligned lengths),
 * munmap and mprotect over random ranges that often straddle VMA edges or
 * holes, and loads and stores of 1..16 bytes, sometimes up to two pages,
 * near page and VMA edges. The model is deliberately naive: one record per
 * page of two windows (one low, one just below mmap_base, where mmap without
 * MAP_FIXED puts things), with its protection, whether it is shared (and
 * which object and page of it), and its 4096 bytes.
 *
 * After every step: the call's result and errno, the signal, si_code and
 * fault address of every access (the first byte that could not be
 * accessed; bytes before it are transferred, bytes after it untouched), the
 * bytes loaded, one byte of every page the operation touched and whole pages
 * at its edges probed through the TLBs, and vms_check. Every 4 steps
 * /proc/PID/maps is compared with the model, and every 500 steps every page
 * of both windows is probed as well. Maps must show exactly the mapped pages
 * with their permissions ('p' or 's'), sorted and disjoint; a shared line
 * covers consecutive pages of one object from its offset, with one inode per
 * object; and two adjacent private lines with the same permissions must have
 * merged when neither can hold an anon_vma. Merges are not predicted beyond
 * that: a page a write (or MAP_POPULATE) may have reached is "tainted", and
 * the taint spreads over the whole run of private pages its VMA might have
 * joined, since Linux legitimately keeps VMAs with different anon_vmas (or
 * VM_ACCOUNT kept by a written VMA made read-only) apart.
 *
 * Another process, mapped at the same addresses, drops in on a CPU now and
 * then, so that context switches must flush (or, with PCID, retire the old
 * context's entries). The second run uses 5-level page tables, PCID, and two
 * threads of the tested process on two CPUs that take turns, so that stale
 * TLB entries on the other CPU show up. At the end everything is unmapped,
 * every task exits, and every frame must be free again.
 * Any failure names the seed, the step, the operation and the check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmsim.h"

#define PAGE 4096ULL
#define WIN_PAGES 512
#define NWIN 2
#define NPAGES (NWIN * WIN_PAGES)
#define WIN_A_BASE 0x100000000ULL
#define MMAP_BASE 0x7ffff7fff000ULL /* where a fresh mm's top-down search starts */
#define WIN_B_BASE (MMAP_BASE - WIN_PAGES * PAGE)
#define EMPTY_ZONE 0x200000000ULL /* never mapped: munmap over nothing */
#define STEPS 10000
#define FULL_CHECK_EVERY 500 /* every page probed, maps compared */
#define MAPS_CHECK_EVERY 4   /* maps alone is cheaper: compare it more often */
#define MAX_MAP_PAGES 64
#define MAX_RANGE_PAGES 80
#define SHORT_RANGE_PAGES 16
#define MAX_ACCESS (2 * PAGE)
#define SENTINEL 0xa5
#define PROBES_PER_STEP 2
#define MAPS_NAME_COLUMN 73

/* ---- deterministic randomness (splitmix64) ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- the reference model ---- */

struct mpage {
    unsigned char mapped, shared;
    unsigned char tainted; /* its VMA may hold an anon_vma, so may refuse to merge */
    int prot;
    uint32_t obj;   /* shared: the model's number for the shmem object */
    uint32_t pgoff; /* shared: page index inside that object */
};

struct model {
    struct mpage page[NPAGES];
    uint8_t *bytes; /* NPAGES pages of content, zero until written */
    uint32_t nobj;  /* shared objects created so far */
};

/* What an access does, as the model predicts it. */
struct outcome {
    int sig, code;
    uint64_t addr; /* first byte not accessed */
    size_t done;   /* bytes transferred before the fault */
};

struct run {
    uint64_t seed, rng;
    int step;
    char op[192]; /* the operation of this step, for failure messages */
    vms_machine *m;
    vms_task *task[2];
    int ntasks, actor;
    unsigned cpu_of[2];
    struct vms_fault fault[2]; /* each task's last fault, as the model expects it */
    vms_task *other;           /* another process, at the same addresses */
    uint8_t other_bytes[16];   /* what the other process last stored at WIN_A_BASE */
    struct model md;
    uint64_t *obj_ino; /* per model object: the inode maps showed for it (0: not yet) */
    size_t obj_ino_cap;
    uint64_t frames_before;
};

static uint64_t rnd(struct run *r) { return splitmix64(&r->rng); }

/* Modulo bias is irrelevant for choosing test inputs. */
static uint64_t below(struct run *r, uint64_t n) { return rnd(r) % n; }

static int chance(struct run *r, unsigned percent) { return below(r, 100) < percent; }

static void check_failed(const struct run *r, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints the seed, step and operation with the failed check, then fails. */
static void check_failed(const struct run *r, const char *what, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    print_error("seed %#" PRIx64 " step %d (task %d: %s)\ncheck failed: %s: %s\n", r->seed, r->step,
                r->actor, r->op, what, detail);
    fail();
}

#define CHECK(r, cond, what, ...)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_failed((r), (what), __VA_ARGS__);                                                \
    } while (0)

static uint64_t window_base(int w) { return w == 0 ? WIN_A_BASE : WIN_B_BASE; }

static uint64_t page_va(int idx)
{
    return window_base(idx / WIN_PAGES) + (uint64_t)(idx % WIN_PAGES) * PAGE;
}

/* The model's index of the page holding va, or -1 outside both windows. */
static int page_index(uint64_t va)
{
    for (int w = 0; w < NWIN; w++) {
        uint64_t base = window_base(w);
        if (va >= base && va - base < WIN_PAGES * PAGE)
            return w * WIN_PAGES + (int)((va - base) / PAGE);
    }
    return -1;
}

/* The page at va; NULL outside the windows, where nothing is ever mapped. */
static struct mpage *model_page(struct model *md, uint64_t va)
{
    int idx = page_index(va);
    return idx < 0 ? NULL : &md->page[idx];
}

static int is_mapped(struct model *md, uint64_t va)
{
    const struct mpage *p = model_page(md, va);
    return p && p->mapped;
}

static uint8_t *page_bytes(struct model *md, uint64_t va)
{
    return md->bytes + (size_t)page_index(va) * PAGE;
}

static uint64_t pages_of(uint64_t len) { return (len + PAGE - 1) / PAGE; }

static void model_map(struct model *md, uint64_t addr, uint64_t npages, int prot, int shared)
{
    uint32_t obj = shared ? ++md->nobj : 0;
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t va = addr + i * PAGE;
        struct mpage *p = model_page(md, va);
        assert_non_null(p); /* the generator keeps mappings inside the windows */
        *p = (struct mpage){.mapped = 1,
                            .shared = (unsigned char)shared,
                            .prot = prot,
                            .obj = obj,
                            .pgoff = (uint32_t)i};
        memset(page_bytes(md, va), 0, PAGE);
    }
}

static void model_unmap_range(struct model *md, uint64_t start, uint64_t end)
{
    for (uint64_t va = start; va < end; va += PAGE) {
        struct mpage *p = model_page(md, va);
        if (p && p->mapped) {
            *p = (struct mpage){0};
            memset(page_bytes(md, va), 0, PAGE);
        }
    }
}

/* munmap as the model sees it: applies it and returns the expected result. */
static int model_munmap(struct model *md, uint64_t start, uint64_t len)
{
    if ((start & (PAGE - 1)) || len == 0)
        return -EINVAL;
    model_unmap_range(md, start, start + pages_of(len) * PAGE);
    return 0;
}

/* mprotect: a range starting in a hole changes nothing; a hole later on
 * stops the change there, after the part before it has changed. */
static int model_mprotect(struct model *md, uint64_t start, uint64_t len, int prot)
{
    if (start & (PAGE - 1))
        return -EINVAL;
    if (len == 0)
        return 0;
    uint64_t end = start + pages_of(len) * PAGE;
    for (uint64_t va = start; va < end; va += PAGE) {
        struct mpage *p = model_page(md, va);
        if (!p || !p->mapped)
            return -ENOMEM;
        p->prot = prot;
    }
    return 0;
}

static int may_load(const struct mpage *p) { return p->prot != PROT_NONE; }

static int may_store(const struct mpage *p) { return (p->prot & PROT_WRITE) != 0; }

static struct outcome model_access(struct model *md, uint64_t va, size_t len, int write)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = va + done;
        size_t n = PAGE - (a & (PAGE - 1));
        if (n > len - done)
            n = len - done;
        const struct mpage *p = model_page(md, a);
        if (!p || !p->mapped)
            return (struct outcome){SIGSEGV, SEGV_MAPERR, a, done};
        if (write ? !may_store(p) : !may_load(p))
            return (struct outcome){SIGSEGV, SEGV_ACCERR, a, done};
        done += n;
    }
    return (struct outcome){0, 0, 0, len};
}

/* Copies between the model's pages and buf, page by page (windows are not contiguous). */
static void model_copy(struct model *md, uint64_t va, uint8_t *buf, size_t len, int to_model)
{
    while (len) {
        size_t off = (size_t)(va & (PAGE - 1)), n = (size_t)PAGE - off;
        if (n > len)
            n = len;
        uint8_t *mem = page_bytes(md, va) + off;
        if (to_model)
            memcpy(mem, buf, n);
        else
            memcpy(buf, mem, n);
        va += n;
        buf += n;
        len -= n;
    }
}

static void taint_range(struct model *md, uint64_t start, uint64_t end)
{
    for (uint64_t va = start & ~(PAGE - 1); va < end; va += PAGE) {
        struct mpage *p = model_page(md, va);
        if (p && p->mapped && !p->shared)
            p->tainted = 1;
    }
}

/* An anon_vma may travel to any VMA its owner merges with, and merges only
 * happen within a run of adjacent private pages: taint the whole run. */
static void spread_taint(struct model *md)
{
    for (int w = 0; w < NWIN; w++) {
        int i = w * WIN_PAGES, end = i + WIN_PAGES;
        while (i < end) {
            int j = i, any = 0;
            while (j < end && md->page[j].mapped && !md->page[j].shared)
                any |= md->page[j++].tainted;
            for (int k = i; k < j; k++)
                md->page[k].tainted = (unsigned char)any;
            i = j > i ? j : i + 1;
        }
    }
}

/* ---- choosing inputs ---- */

/* Whether two adjacent pages look alike; where they do not, vmsim must have
 * a VMA edge (the model knows no VMAs), a good place to aim at. */
static int same_state(const struct mpage *a, const struct mpage *b)
{
    if (a->mapped != b->mapped)
        return 0;
    if (!a->mapped)
        return 1;
    return a->prot == b->prot && a->shared == b->shared && a->obj == b->obj &&
           (!a->shared || a->pgoff + 1 == b->pgoff);
}

/* A page of window w, usually at or next to a place where the state changes. */
static int pick_rel_page(struct run *r, int w)
{
    if (chance(r, 25))
        return (int)below(r, WIN_PAGES);
    int edges[WIN_PAGES + 1], n = 0;
    const struct mpage *pg = &r->md.page[w * WIN_PAGES];
    edges[n++] = 0;
    for (int i = 1; i < WIN_PAGES; i++)
        if (!same_state(&pg[i - 1], &pg[i]))
            edges[n++] = i;
    edges[n++] = WIN_PAGES;
    int rel = edges[below(r, (uint64_t)n)] + (int)below(r, 5) - 2;
    return rel < 0 ? 0 : rel >= WIN_PAGES ? WIN_PAGES - 1 : rel;
}

static int pick_window(struct run *r) { return chance(r, 70) ? 0 : 1; }

/* A page-aligned start for npages that stays inside window w. */
static uint64_t pick_start_inside(struct run *r, int w, uint64_t npages)
{
    int64_t rel = pick_rel_page(r, w);
    int64_t last = WIN_PAGES - (int64_t)npages;
    if (rel > last)
        rel = last;
    return window_base(w) + (uint64_t)rel * PAGE;
}

/* A page-aligned start for munmap or mprotect: near an edge, sometimes just
 * outside a window, sometimes where nothing is ever mapped. */
static uint64_t pick_range_start(struct run *r)
{
    if (chance(r, 5))
        return EMPTY_ZONE + below(r, 64) * PAGE;
    int w = pick_window(r);
    int64_t rel = pick_rel_page(r, w) + (int64_t)below(r, 7) - 3;
    return (uint64_t)((int64_t)window_base(w) + rel * (int64_t)PAGE);
}

static uint64_t pick_len(struct run *r, uint64_t max_pages, unsigned unaligned_percent)
{
    uint64_t len = (1 + below(r, max_pages)) * PAGE;
    if (chance(r, unaligned_percent))
        len -= 1 + below(r, PAGE - 1);
    return len;
}

static int pick_prot(struct run *r)
{
    /* PROT_EXEC alone is left out: it takes a protection key (SEGV_PKUERR). */
    static const int prots[] = {PROT_READ | PROT_WRITE,
                                PROT_READ | PROT_WRITE,
                                PROT_READ,
                                PROT_NONE,
                                PROT_WRITE,
                                PROT_READ | PROT_EXEC,
                                PROT_READ | PROT_WRITE | PROT_EXEC,
                                PROT_WRITE | PROT_EXEC};
    return prots[below(r, sizeof(prots) / sizeof(prots[0]))];
}

/* An address for a load or store: a few bytes either side of an edge, or anywhere in a page. */
static uint64_t pick_access_addr(struct run *r)
{
    int w = pick_window(r);
    uint64_t page = window_base(w) + (uint64_t)pick_rel_page(r, w) * PAGE;
    if (chance(r, 30))
        return page + below(r, PAGE);
    return page - 20 + below(r, 41);
}

static size_t pick_access_len(struct run *r)
{
    return chance(r, 15) ? (size_t)(1 + below(r, MAX_ACCESS)) : (size_t)(1 + below(r, 16));
}

static const char *prot_name(int prot)
{
    static const char *const names[] = {"NONE", "R", "W", "RW", "X", "RX", "WX", "RWX"};
    return names[prot & 7];
}

static void perms_of(const struct mpage *p, char out[5])
{
    out[0] = (p->prot & PROT_READ) ? 'r' : '-';
    out[1] = (p->prot & PROT_WRITE) ? 'w' : '-';
    out[2] = (p->prot & PROT_EXEC) ? 'x' : '-';
    out[3] = p->shared ? 's' : 'p';
    out[4] = 0;
}

static vms_task *actor(const struct run *r) { return r->task[r->actor]; }

/* ---- checking accesses against the model ---- */

static void expect_fault_state(struct run *r, int ti, const char *what)
{
    const struct vms_fault *got = vms_last_fault(r->task[ti]);
    const struct vms_fault *want = &r->fault[ti];
    CHECK(r, got->signo == want->signo && got->code == want->code && got->addr == want->addr, what,
          "last fault is signal %d code %d at %#" PRIx64 ", model expects %d code %d at %#" PRIx64,
          got->signo, got->code, got->addr, want->signo, want->code, want->addr);
}

static void expect_outcome(struct run *r, int ti, int sig, struct outcome want, const char *what)
{
    CHECK(r, sig == want.sig, what, "returned %d, model expects %d (code %d at %#" PRIx64 ")", sig,
          want.sig, want.code, want.addr);
    if (want.sig)
        r->fault[ti] = (struct vms_fault){.signo = want.sig, .code = want.code, .addr = want.addr};
    expect_fault_state(r, ti, what);
}

static void expect_loaded(struct run *r, uint64_t va, const uint8_t *buf, size_t len,
                          struct outcome want, const char *what)
{
    uint8_t *expect = malloc(len);
    assert_non_null(expect);
    model_copy(&r->md, va, expect, want.done, 0);
    memset(expect + want.done, SENTINEL, len - want.done);
    size_t i = memcmp(buf, expect, len) == 0 ? len : 0;
    while (i < len && buf[i] == expect[i])
        i++;
    unsigned got_byte = i < len ? buf[i] : 0, want_byte = i < len ? expect[i] : 0;
    free(expect);
    CHECK(r, i == len, what, "byte %zu at %#" PRIx64 " is %#x, model expects %#x (%s)", i, va + i,
          got_byte, want_byte, i < want.done ? "loaded" : "past the fault, must be untouched");
}

/* Loads a whole page (and tries a store where the model forbids one): a
 * probe of what one page holds and allows. */
static void probe_page(struct run *r, int ti, uint64_t va)
{
    uint8_t buf[PAGE];
    memset(buf, SENTINEL, sizeof(buf));
    struct outcome want = model_access(&r->md, va, PAGE, 0);
    int sig = vms_load(r->task[ti], va, buf, PAGE);
    expect_outcome(r, ti, sig, want, "probe load of a whole page: signal");
    expect_loaded(r, va, buf, PAGE, want, "probe load of a whole page: bytes");
    const struct mpage *p = model_page(&r->md, va);
    if (p && p->mapped && may_store(p))
        return;
    uint64_t at = va + below(r, PAGE);
    uint8_t byte = 0x5a;
    want = model_access(&r->md, at, 1, 1);
    sig = vms_store(r->task[ti], at, &byte, 1);
    expect_outcome(r, ti, sig, want, "probe store to a page that forbids stores");
}

/* One byte of one page, loaded (and stored where the model forbids it): a
 * cheap look at every page an operation touched, through the TLBs. */
static void probe_byte(struct run *r, uint64_t va)
{
    uint8_t byte = SENTINEL;
    struct outcome want = model_access(&r->md, va, 1, 0);
    int sig = vms_load(actor(r), va, &byte, 1);
    expect_outcome(r, r->actor, sig, want, "probe load of one byte: signal");
    expect_loaded(r, va, &byte, 1, want, "probe load of one byte: value");
    const struct mpage *p = model_page(&r->md, va);
    if (p && p->mapped && may_store(p))
        return;
    want = model_access(&r->md, va, 1, 1);
    sig = vms_store(actor(r), va, &byte, 1);
    expect_outcome(r, r->actor, sig, want, "probe store of one byte where stores are refused");
}

/* Probes one byte of every page of [start, end) and the page either side,
 * then whole pages at and around the edges, and a few inside. */
static void probe_around(struct run *r, uint64_t start, uint64_t end)
{
    start &= ~(PAGE - 1);
    end = (end + PAGE - 1) & ~(PAGE - 1);
    if (end <= start)
        end = start + PAGE;
    for (uint64_t va = start - PAGE; va <= end; va += PAGE)
        probe_byte(r, va + below(r, PAGE));
    uint64_t pages[4 + PROBES_PER_STEP] = {start - PAGE, start, end - PAGE, end};
    uint64_t n = (end - start) / PAGE;
    for (int i = 0; i < PROBES_PER_STEP; i++)
        pages[4 + i] = start + below(r, n) * PAGE;
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        probe_page(r, r->actor, pages[i]);
}

/* Every page of both windows and the page either side of each, from every task. */
static void probe_everything(struct run *r)
{
    for (int ti = 0; ti < r->ntasks; ti++)
        for (int w = 0; w < NWIN; w++)
            for (int rel = -1; rel <= WIN_PAGES; rel++)
                probe_page(r, ti, (uint64_t)((int64_t)window_base(w) + rel * (int64_t)PAGE));
}

/* ---- the operations ---- */

enum placement { PLACE_FIXED, PLACE_NOREPLACE, PLACE_HINT, PLACE_ANY };

struct mmap_req {
    uint64_t addr, len;
    int prot, flags;
    enum placement place;
};

static enum placement pick_placement(struct run *r)
{
    uint64_t x = below(r, 100);
    return x < 50 ? PLACE_FIXED : x < 65 ? PLACE_NOREPLACE : x < 88 ? PLACE_HINT : PLACE_ANY;
}

static struct mmap_req pick_mmap(struct run *r)
{
    struct mmap_req q = {.len = pick_len(r, MAX_MAP_PAGES, 20), .prot = pick_prot(r)};
    q.flags = MAP_ANONYMOUS | (chance(r, 30) ? MAP_SHARED : MAP_PRIVATE);
    if (chance(r, 20))
        q.flags |= MAP_POPULATE;
    q.place = pick_placement(r);
    if (q.place == PLACE_ANY)
        return q;
    q.addr = pick_start_inside(r, pick_window(r), pages_of(q.len));
    if (q.place == PLACE_FIXED)
        q.flags |= MAP_FIXED;
    if (q.place == PLACE_NOREPLACE)
        q.flags |= MAP_FIXED_NOREPLACE | (chance(r, 20) ? MAP_FIXED : 0);
    int fixed = q.place != PLACE_HINT;
    if ((fixed && chance(r, 3)) || (!fixed && chance(r, 30)))
        q.addr += 1 + below(r, PAGE - 1); /* unaligned: EINVAL when fixed, rounded down if a hint */
    if (chance(r, 1))
        q.len = 0;
    return q;
}

static int range_free(struct model *md, uint64_t addr, uint64_t npages)
{
    for (uint64_t i = 0; i < npages; i++)
        if (is_mapped(md, addr + i * PAGE))
            return 0;
    return 1;
}

/* The top-down search below mmap_base: the highest free range. 0 when it
 * would not fit in the upper window (the model cannot follow it there). */
static uint64_t model_topdown(struct model *md, uint64_t npages)
{
    uint64_t run = 0;
    for (int rel = WIN_PAGES - 1; rel >= 0; rel--) {
        run = md->page[WIN_PAGES + rel].mapped ? 0 : run + 1;
        if (run >= npages)
            return WIN_B_BASE + (uint64_t)rel * PAGE;
    }
    return 0;
}

/* The result vms_mmap must give; *skip when the model cannot predict it. */
static int64_t expected_mmap(struct run *r, const struct mmap_req *q, int *skip)
{
    *skip = 0;
    if (q->len == 0)
        return -EINVAL;
    uint64_t npages = pages_of(q->len);
    if (q->place == PLACE_FIXED || q->place == PLACE_NOREPLACE) {
        if (q->addr & (PAGE - 1))
            return -EINVAL;
        if (q->place == PLACE_NOREPLACE && !range_free(&r->md, q->addr, npages))
            return -EEXIST;
        return (int64_t)q->addr;
    }
    uint64_t hint = q->addr & ~(PAGE - 1);
    if (hint && range_free(&r->md, hint, npages))
        return (int64_t)hint;
    uint64_t top = model_topdown(&r->md, npages);
    *skip = top == 0;
    return (int64_t)top;
}

static void describe_mmap(struct run *r, const struct mmap_req *q)
{
    static const char *const place[] = {"FIXED", "FIXED_NOREPLACE", "hint", "no address"};
    snprintf(r->op, sizeof(r->op), "mmap(%#" PRIx64 ", %#" PRIx64 ", %s, %s%s%s%s) [%s]", q->addr,
             q->len, prot_name(q->prot), (q->flags & MAP_SHARED) ? "SHARED" : "PRIVATE",
             (q->flags & MAP_FIXED) ? "|FIXED" : "",
             (q->flags & MAP_FIXED_NOREPLACE) ? "|FIXED_NOREPLACE" : "",
             (q->flags & MAP_POPULATE) ? "|POPULATE" : "", place[q->place]);
}

static void op_mmap(struct run *r)
{
    struct mmap_req q = pick_mmap(r);
    int skip;
    int64_t want = expected_mmap(r, &q, &skip);
    describe_mmap(r, &q);
    if (skip)
        return; /* would land below the upper window, outside the model */
    int64_t got = vms_mmap(actor(r), q.addr, q.len, q.prot, q.flags, -1, 0);
    CHECK(r, got == want, "mmap result",
          "returned %" PRId64 " (%#" PRIx64 "), model expects %" PRId64 " (%#" PRIx64 ")", got,
          (uint64_t)got, want, (uint64_t)want);
    uint64_t start = q.addr & ~(PAGE - 1), npages = pages_of(q.len);
    if (want >= 0) {
        start = (uint64_t)want;
        model_map(&r->md, start, npages, q.prot, (q.flags & MAP_SHARED) != 0);
        if (q.flags & MAP_POPULATE)
            taint_range(&r->md, start, start + npages * PAGE);
    }
    if (start)
        probe_around(r, start, start + npages * PAGE);
}

/* munmap and mprotect lengths: mostly short, so that ranges end inside VMAs
 * as often as they cross holes. */
static uint64_t pick_range_len(struct run *r)
{
    return pick_len(r, chance(r, 70) ? SHORT_RANGE_PAGES : MAX_RANGE_PAGES, 25);
}

static void op_munmap(struct run *r)
{
    uint64_t start = pick_range_start(r), len = pick_range_len(r);
    if (chance(r, 3))
        start += 1 + below(r, PAGE - 1);
    if (chance(r, 1))
        len = 0;
    snprintf(r->op, sizeof(r->op), "munmap(%#" PRIx64 ", %#" PRIx64 ")", start, len);
    int got = vms_munmap(actor(r), start, len);
    int want = model_munmap(&r->md, start, len);
    CHECK(r, got == want, "munmap result", "returned %d, model expects %d", got, want);
    probe_around(r, start, start + len);
}

static void op_mprotect(struct run *r)
{
    uint64_t start = pick_range_start(r), len = pick_range_len(r);
    int prot = pick_prot(r);
    if (chance(r, 3))
        start += 1 + below(r, PAGE - 1);
    if (chance(r, 1))
        len = 0;
    snprintf(r->op, sizeof(r->op), "mprotect(%#" PRIx64 ", %#" PRIx64 ", %s)", start, len,
             prot_name(prot));
    int got = vms_mprotect(actor(r), start, len, prot);
    int want = model_mprotect(&r->md, start, len, prot);
    CHECK(r, got == want, "mprotect result", "returned %d, model expects %d", got, want);
    probe_around(r, start, start + len);
}

static void op_load(struct run *r)
{
    uint64_t va = pick_access_addr(r);
    size_t len = pick_access_len(r);
    snprintf(r->op, sizeof(r->op), "load(%#" PRIx64 ", %zu)", va, len);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, SENTINEL, len);
    struct outcome want = model_access(&r->md, va, len, 0);
    int sig = vms_load(actor(r), va, buf, len);
    expect_outcome(r, r->actor, sig, want, "load signal");
    expect_loaded(r, va, buf, len, want, "loaded bytes");
    free(buf);
    probe_around(r, va, va + len);
}

static void op_store(struct run *r)
{
    uint64_t va = pick_access_addr(r);
    size_t len = pick_access_len(r);
    snprintf(r->op, sizeof(r->op), "store(%#" PRIx64 ", %zu)", va, len);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd(r);
    struct outcome want = model_access(&r->md, va, len, 1);
    int sig = vms_store(actor(r), va, buf, len);
    expect_outcome(r, r->actor, sig, want, "store signal");
    model_copy(&r->md, va, buf, want.done, 1);
    taint_range(&r->md, va, va + want.done);
    free(buf);
    probe_around(r, va, va + len);
}

/* The other process runs on a CPU for a moment: that CPU switches mm and,
 * when a thread comes back, must flush what changed meanwhile (with PCID, the
 * old context's entries are still tagged in the TLB). It uses the same
 * addresses, so a stale entry of either mm would show the other's bytes. */
static void maybe_run_other(struct run *r)
{
    if (!r->other || !chance(r, 3))
        return;
    unsigned cpu = (unsigned)below(r, 2);
    snprintf(r->op, sizeof(r->op), "other process on cpu %u", cpu);
    assert_int_equal(vms_schedule(r->other, cpu), 0);
    uint8_t got[sizeof(r->other_bytes)];
    CHECK(r, vms_load(r->other, WIN_A_BASE, got, sizeof(got)) == 0, "other process load",
          "faulted");
    CHECK(r, memcmp(got, r->other_bytes, sizeof(got)) == 0, "other process bytes",
          "its page shows bytes it did not store");
    for (size_t i = 0; i < sizeof(r->other_bytes); i++)
        r->other_bytes[i] = (uint8_t)rnd(r);
    CHECK(r, vms_store(r->other, WIN_A_BASE, r->other_bytes, sizeof(got)) == 0,
          "other process store", "faulted");
}

static void start_other(struct run *r)
{
    r->other = vms_spawn(r->m, "other");
    assert_non_null(r->other);
    int64_t a = vms_mmap(r->other, WIN_A_BASE, PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    assert_int_equal(a, (int64_t)WIN_A_BASE);
}

/* Two threads swap CPUs now and then, so each CPU sees both. */
static void maybe_swap_cpus(struct run *r)
{
    if (r->ntasks < 2 || !chance(r, 2))
        return;
    unsigned c0 = r->cpu_of[0];
    r->cpu_of[0] = r->cpu_of[1];
    r->cpu_of[1] = c0;
    for (int i = 0; i < 2; i++)
        assert_int_equal(vms_schedule(r->task[i], r->cpu_of[i]), 0);
}

static void random_step(struct run *r)
{
    maybe_swap_cpus(r);
    maybe_run_other(r);
    r->actor = r->step % r->ntasks;
    uint64_t x = below(r, 100);
    if (x < 22)
        op_mmap(r);
    else if (x < 40)
        op_munmap(r);
    else if (x < 58)
        op_mprotect(r);
    else if (x < 79)
        op_load(r);
    else
        op_store(r);
    spread_taint(&r->md);
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check", "invariants broken (see above)");
}

/* ---- /proc/PID/maps against the model ---- */

struct maps_line {
    uint64_t start, end, off, ino;
    char perms[5];
    unsigned major, minor;
};

static char *read_maps(struct run *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    CHECK(r, vms_maps(actor(r), f) == 0, "vms_maps", "returned an error");
    assert_int_equal(fclose(f), 0);
    return text;
}

/* The text Linux prints for this line: checks the whole format at once. */
static void expect_line_text(struct run *r, const char *line, const struct maps_line *ml)
{
    char want[160];
    int n = snprintf(want, sizeof(want),
                     "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                     ml->start, ml->end, ml->perms, ml->off, ml->major, ml->minor, ml->ino);
    if (ml->perms[3] == 's')
        snprintf(want + n, sizeof(want) - (size_t)n, "%*s/dev/zero (deleted)",
                 n < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - n : 0, "");
    CHECK(r, strcmp(line, want) == 0, "maps line format", "got \"%s\", expected \"%s\"", line,
          want);
}

static void parse_maps_line(struct run *r, const char *line, struct maps_line *ml)
{
    int n = sscanf(line, "%" SCNx64 "-%" SCNx64 " %4c %" SCNx64 " %x:%x %" SCNu64, &ml->start,
                   &ml->end, ml->perms, &ml->off, &ml->major, &ml->minor, &ml->ino);
    ml->perms[4] = 0;
    CHECK(r, n == 7, "maps line parse", "cannot parse \"%s\"", line);
    expect_line_text(r, line, ml);
    CHECK(r, ml->start < ml->end && !((ml->start | ml->end) & (PAGE - 1)), "maps line bounds",
          "bad range in \"%s\"", line);
    int shared = ml->perms[3] == 's';
    CHECK(r, ml->major == 0 && ml->minor == (shared ? 1u : 0u), "maps line device",
          "device %02x:%02x in \"%s\"", ml->major, ml->minor, line);
    CHECK(r, shared || (ml->off == 0 && ml->ino == 0), "maps private line offset and inode",
          "\"%s\"", line);
}

/* One inode per shared object, and no two objects with the same one. */
static void expect_inode(struct run *r, uint32_t obj, uint64_t ino)
{
    if (obj >= r->obj_ino_cap) {
        size_t cap = (size_t)obj * 2 + 16;
        r->obj_ino = realloc(r->obj_ino, cap * sizeof(*r->obj_ino));
        assert_non_null(r->obj_ino);
        memset(r->obj_ino + r->obj_ino_cap, 0, (cap - r->obj_ino_cap) * sizeof(*r->obj_ino));
        r->obj_ino_cap = cap;
    }
    if (r->obj_ino[obj] == 0) {
        for (size_t i = 0; i < r->obj_ino_cap; i++)
            CHECK(r, r->obj_ino[i] != ino, "maps shared inode",
                  "objects %zu and %u both show inode %" PRIu64, i, obj, ino);
        r->obj_ino[obj] = ino;
    }
    CHECK(r, r->obj_ino[obj] == ino, "maps shared inode",
          "object %u showed inode %" PRIu64 " before, now %" PRIu64, obj, r->obj_ino[obj], ino);
}

/* Every page of the line is mapped in the model with these permissions, and
 * a shared line covers consecutive pages of one object from its offset. */
static void expect_line_pages(struct run *r, const struct maps_line *ml, unsigned char *seen)
{
    const struct mpage *first = model_page(&r->md, ml->start);
    for (uint64_t va = ml->start; va < ml->end; va += PAGE) {
        const struct mpage *p = model_page(&r->md, va);
        char perms[5];
        CHECK(r, p && p->mapped, "maps covers only mapped pages",
              "page %#" PRIx64 " of line %#" PRIx64 "-%#" PRIx64 " is not mapped in the model", va,
              ml->start, ml->end);
        perms_of(p, perms);
        CHECK(r, strcmp(perms, ml->perms) == 0, "maps permissions",
              "page %#" PRIx64 " shows %s, model %s", va, ml->perms, perms);
        seen[page_index(va)] = 1;
        if (!p->shared)
            continue;
        CHECK(r, p->obj == first->obj && p->pgoff == ml->off / PAGE + (va - ml->start) / PAGE,
              "maps shared offset",
              "page %#" PRIx64 " is page %u of object %u; line %#" PRIx64
              " starts at offset %#" PRIx64 " of object %u",
              va, p->pgoff, p->obj, ml->start, ml->off, first->obj);
    }
    if (first->shared)
        expect_inode(r, first->obj, ml->ino);
}

static int line_untainted(struct run *r, const struct maps_line *ml)
{
    for (uint64_t va = ml->start; va < ml->end; va += PAGE)
        if (model_page(&r->md, va)->tainted)
            return 0;
    return 1;
}

/* Two adjacent private lines with equal permissions that no write could
 * have given an anon_vma have equal vm_flags and must be one VMA. */
static void expect_merged(struct run *r, const struct maps_line *a, const struct maps_line *b)
{
    if (a->end != b->start || a->perms[3] != 'p' || strcmp(a->perms, b->perms) != 0)
        return;
    CHECK(r, !line_untainted(r, a) || !line_untainted(r, b), "maps adjacent untouched VMAs merged",
          "%#" PRIx64 "-%#" PRIx64 " and %#" PRIx64 "-%#" PRIx64
          " (%s) were never written yet are separate",
          a->start, a->end, b->start, b->end, a->perms);
}

static void check_maps(struct run *r)
{
    char *text = read_maps(r);
    unsigned char seen[NPAGES] = {0};
    struct maps_line prev = {0};
    char *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        CHECK(r, nl != NULL, "maps line ends with a newline", "\"%s\"", line);
        *nl = 0;
        struct maps_line ml;
        parse_maps_line(r, line, &ml);
        CHECK(r, ml.start >= prev.end, "maps lines sorted and disjoint",
              "%#" PRIx64 " after a line ending at %#" PRIx64, ml.start, prev.end);
        expect_line_pages(r, &ml, seen);
        expect_merged(r, &prev, &ml);
        prev = ml;
        line = nl + 1;
    }
    free(text);
    for (int i = 0; i < NPAGES; i++)
        CHECK(r, seen[i] || !r->md.page[i].mapped, "maps shows every mapped page",
              "page %#" PRIx64 " is mapped in the model but in no line", page_va(i));
}

static void full_check(struct run *r)
{
    snprintf(r->op, sizeof(r->op), "full comparison after step %d", r->step);
    probe_everything(r);
    check_maps(r);
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check", "invariants broken (see above)");
}

/* ---- set-up, the run, tear-down ---- */

static uint64_t frames_used(vms_machine *m)
{
    struct vms_stats *s = malloc(sizeof(*s));
    assert_non_null(s);
    vms_get_stats(m, s);
    uint64_t used = s->frames_used;
    free(s);
    return used;
}

static struct run *run_create_with(uint64_t seed, int levels, int pcid, unsigned ncpus,
                                   int ntasks, int with_other, uint64_t phys, uint64_t swap)
{
    struct run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->seed = r->rng = seed;
    r->md.bytes = calloc(NPAGES, PAGE);
    assert_non_null(r->md.bytes);
    struct vms_config c;
    vms_config_init(&c);
    c.phys_bytes = phys;
    c.swap_bytes = swap;
    c.pgtable_levels = levels;
    c.pcid = pcid;
    c.ncpus = ncpus;
    /* Paging-structure caches on; tiny ones (replaced all the time) for odd seeds. */
    c.pde_cache = (seed & 1) ? (struct vms_tlb_geometry){4, 2} : (struct vms_tlb_geometry){32, 4};
    c.pdpte_cache = (seed & 1) ? (struct vms_tlb_geometry){2, 2} : (struct vms_tlb_geometry){4, 4};
    c.pml4e_cache = (seed & 1) ? (struct vms_tlb_geometry){1, 1} : (struct vms_tlb_geometry){2, 2};
    r->m = vms_machine_create(&c);
    assert_non_null(r->m);
    r->frames_before = frames_used(r->m);
    r->task[0] = vms_spawn(r->m, "random");
    assert_non_null(r->task[0]);
    r->ntasks = ntasks;
    for (int i = 1; i < ntasks; i++) {
        r->task[i] = vms_clone_thread(r->task[0]);
        assert_non_null(r->task[i]);
        r->cpu_of[i] = (unsigned)i;
        assert_int_equal(vms_schedule(r->task[i], r->cpu_of[i]), 0);
    }
    if (with_other)
        start_other(r);
    return r;
}

static struct run *run_create(uint64_t seed, int levels, int pcid, unsigned ncpus, int ntasks,
                              int with_other)
{
    /* 16 MiB: ample for two windows of 512 pages, and quick to check */
    return run_create_with(seed, levels, pcid, ncpus, ntasks, with_other, 16ULL << 20, 0);
}

static int teardown_run(void **state)
{
    struct run *r = *state;
    if (!r)
        return 0;
    vms_machine_destroy(r->m);
    free(r->md.bytes);
    free(r->obj_ino);
    free(r);
    *state = NULL;
    return 0;
}

/* munmap everything, then every task exits: every frame comes back. */
static void finish(struct run *r)
{
    r->step = STEPS;
    r->actor = 0;
    snprintf(r->op, sizeof(r->op), "munmap of both windows at the end");
    for (int w = 0; w < NWIN; w++) {
        int got = vms_munmap(actor(r), window_base(w), WIN_PAGES * PAGE);
        CHECK(r, got == 0, "final munmap", "returned %d", got);
        model_unmap_range(&r->md, window_base(w), window_base(w) + WIN_PAGES * PAGE);
    }
    char *text = read_maps(r);
    CHECK(r, text[0] == 0, "maps empty after unmapping everything", "\"%s\"", text);
    free(text);
    full_check(r);
    for (int i = r->ntasks - 1; i >= 0; i--) {
        vms_exit(r->task[i]);
        r->task[i] = NULL;
    }
    vms_exit(r->other);
    r->other = NULL;
    CHECK(r, vms_check(r->m, stderr) == 0, "vms_check after exit", "invariants broken");
    uint64_t after = frames_used(r->m);
    CHECK(r, after == r->frames_before, "frames returned after exit",
          "%" PRIu64 " frames in use, %" PRIu64 " before vms_spawn", after, r->frames_before);
}

static void run_steps(struct run *r)
{
    for (r->step = 0; r->step < STEPS; r->step++) {
        random_step(r);
        if ((r->step + 1) % FULL_CHECK_EVERY == 0)
            full_check(r);
        else if ((r->step + 1) % MAPS_CHECK_EVERY == 0)
            check_maps(r);
    }
    finish(r);
}

/* One task on a default machine (4-level tables, no PCID); another process
 * drops in on its CPU now and then, so CR3 loads must flush. */
static void test_random_ops_match_model_one_task(void **state)
{
    struct run *r = run_create(UINT64_C(0x5eed0001), 4, 0, 4, 1, 1);
    *state = r;
    run_steps(r);
}

/* Two threads of one process on two CPUs take turns; another process drops
 * in on either CPU now and then, so PCID contexts come and go. */
static void test_random_ops_match_model_two_threads_5level_pcid(void **state)
{
    struct run *r = run_create(UINT64_C(0x5eed0002), 5, 1, 2, 2, 1);
    *state = r;
    run_steps(r);
}

/* RAM smaller than the windows (3 MiB: 768 frames, 221 KiB kept free)
 * with 16 MiB of swap: reclaim swaps private pages out and in all the
 * time, and every byte still matches the model. */
static void test_random_ops_match_model_small_ram_with_swap(void **state)
{
    struct run *r = run_create_with(UINT64_C(0x5eed0003), 4, 0, 4, 1, 1, 3ULL << 20, 16ULL << 20);
    *state = r;
    run_steps(r);
    struct vms_stats s;
    vms_get_stats(r->m, &s);
    assert_true(s.vm.pswpout > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_random_ops_match_model_small_ram_with_swap, teardown_run),
        cmocka_unit_test_teardown(test_random_ops_match_model_one_task, teardown_run),
        cmocka_unit_test_teardown(test_random_ops_match_model_two_threads_5level_pcid,
                                  teardown_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
