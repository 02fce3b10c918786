/*
 * gen.c - a seeded generator of operation sequences, biased to the edges
 * where memory-mapping code goes wrong: addresses at and next to VMA
 * boundaries, accesses that cross a page, ranges across a 2 MiB page-table
 * boundary, lengths of one page, zero, unaligned or huge, file offsets at
 * and past EOF, files truncated under live mappings.
 *
 * Most addresses fall in a 512 KiB arena that straddles a 2 MiB boundary in
 * the middle of the window, so that operations meet each other's mappings.
 * The generator watches the results (fds opened, file sizes, processes
 * forked) so that most operations are meaningful, but never needs the
 * host's: the sides agree up to the step it generates. Operations run in a
 * current process, which forks now and then (the new process often becomes
 * the current one) and changes at random among the living ones, so that
 * copy-on-write is met from both sides; a process other than 0 may exit.
 *
 * Every class of argument reaches the tester (DT_FEAT_EDGE_ARGS), each in
 * the forms the safety rules of ops.c let the host child run:
 *   addresses  in the window and its guards, just below the window (the
 *              relative address wraps: "+-0x1000"), just above it and at
 *              the top of the upper guard; at or above 2^47: the first
 *              non-canonical address, 2^56 and 5-level paging's top page,
 *              the kernel half, its top page, unaligned addresses in the top
 *              page (their value is an errno), ranges that wrap past 2^64.
 *              MAP_FIXED and munmap reach outside the window only there,
 *              where nothing of the harness is; hints go anywhere.
 *   lengths    0, 1, unaligned, a page, up to the end of the area; for every
 *              call, read and write included: 2^31 +- 1 and MAX_RW_COUNT,
 *              2^32, 1 GiB, 16 and 64 GiB (beyond the simulated RAM; the
 *              host's RAM is in the profile), 1 TiB, 2^47, TASK_SIZE, 2^56,
 *              2^57, 2^63, 2^64 - 4096 (rounds to 0), 2^64 - 1. Mappings the
 *              kernel places (no MAP_FIXED) take only lengths whose fate does
 *              not depend on the host's own layout (up to 1 TiB, or one no
 *              layout fits); MAP_FIXED over the window and munmap only the
 *              ones every host refuses (2^56 and more), since 5-level
 *              paging would honour 2^47; a write() only lengths access_ok
 *              refuses, so that files stay small.
 *   flags      one random bit of 32 added to prot (mmap, mprotect), to the
 *              mmap flags (bit 31 too), msync flags, mremap flags and open
 *              flags; madvise advice from -2 to 111 and INT_MIN/INT_MAX
 *              (never 100/101, which act as root); lseek whence -1, 5, 6,
 *              8, INT_MIN, INT_MAX; fds -1, -2, INT_MIN, 1024, INT_MAX.
 *   offsets    pread at INT64_MAX, 2^63 - 4096, s_maxbytes and around;
 *              pwrite, lseek and ftruncate only where they must fail
 *              (s_maxbytes and past it, past INT64_MAX), so that no file
 *              grows past the 16 pages ops.c keeps files to.
 *   I/O        buffers at all the addresses above; counts beyond the file
 *              and beyond memory.
 * An edge argument that the safety rules refuse after all (they hold for a
 * 5-level host too) is replaced by an ordinary one.
 *
 * MAP_HUGETLB (private and shared, with and without MAP_NORESERVE, with the
 * MAP_HUGE_2MB and MAP_HUGE_1GB size bits or none) is generated only on a
 * host whose huge page pool is the empty 2 MiB one vmsim models (the host
 * profile says). Its mappings are often placed at a 2 MiB boundary (the
 * window starts at one), and ranges that meet them are often aligned to
 * one. Never sent: an mremap with MREMAP_FIXED or MREMAP_DONTUNMAP whose old
 * range meets a hugetlb VMA. Moving one made Linux 6.18 loop in the kernel
 * (the test process hung until killed); the host child refuses it too.
 */
#include "difftest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA_CENTER (UINT64_C(32) << 20) /* a 2 MiB boundary */
#define HPAGE (UINT64_C(2) << 20)          /* a huge page, and its alignment */
#define MAP_HUGE_2MB (21 << 26)
#define MAP_HUGE_1GB (30 << 26)
#define MAP_HUGE_BITS ((int)(0x3fu << 26)) /* bit 31 too: no signed shift */
#define ARENA_PAGES 128
#define ARENA_LO (ARENA_CENTER - ARENA_PAGES / 2 * DT_PAGE)
#define WINDOW_PAGES (DT_WINDOW_SIZE / DT_PAGE)
#define FILE_MAX (16 * DT_PAGE) /* files stay within 16 pages (see ops.c) */
#define MAX_OPEN 8
#define GEN_FDS 128

struct dt_gen {
    uint64_t rng;
    unsigned kinds, features;
    int64_t max_file_bytes; /* the host filesystem's s_maxbytes: offsets at its edge */
    int fd_tables[DT_MAX_PROCS][GEN_FDS]; /* per process; -1: closed */
    int *fd_name;                         /* the table of the process at hand */
    unsigned char fd_append[DT_MAX_PROCS][GEN_FDS]; /* opened with O_APPEND */
    int64_t size[DT_NNAMES];
    int alive[DT_MAX_PROCS];
    int nprocs; /* made so far */
    int cur;    /* the process the next operation runs in */
};

/* ---- randomness ---- */

static uint64_t next(struct dt_gen *g)
{
    uint64_t z = (g->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t below(struct dt_gen *g, uint64_t n) { return n ? next(g) % n : 0; }
static int chance(struct dt_gen *g, unsigned percent) { return below(g, 100) < percent; }
static int has(const struct dt_gen *g, unsigned feature) { return (g->features & feature) != 0; }

/* An entry of a static table, at random. */
#define PICK(g, table) (table)[below(g, sizeof(table) / sizeof((table)[0]))]

/* Now and then (percent), an argument at the edge of its range. */
static int edge(struct dt_gen *g, unsigned percent)
{
    return has(g, DT_FEAT_EDGE_ARGS) && chance(g, percent);
}

struct dt_gen *gen_create(uint64_t seed, const struct dt_config *cfg)
{
    struct dt_gen *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->rng = seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
    g->kinds = cfg->kinds;
    g->features = cfg->features;
    g->max_file_bytes = cfg->profile && cfg->profile->max_file_bytes
                            ? (int64_t)cfg->profile->max_file_bytes
                            : INT64_C(0xffffffff000); /* ext4 with 4 KiB blocks */
    memset(g->fd_tables, 0xff, sizeof(g->fd_tables)); /* -1: closed */
    g->fd_name = g->fd_tables[0];
    g->alive[0] = 1;
    g->nprocs = 1;
    for (int i = 0; i < DT_NNAMES; i++)
        g->size[i] = (int64_t)dt_initial_size(i);
    return g;
}

void gen_destroy(struct dt_gen *g) { free(g); }

/* ---- what is open and mapped ---- */

static int open_count(const struct dt_gen *g)
{
    int n = 0;
    for (int i = 0; i < GEN_FDS; i++)
        n += g->fd_name[i] >= 0;
    return n;
}

/* An open fd (of a regular file when files_only), or -1 if none. */
static int some_open_fd(struct dt_gen *g, int files_only)
{
    int fds[GEN_FDS], n = 0;
    for (int i = 0; i < GEN_FDS; i++)
        if (g->fd_name[i] >= 0 && (!files_only || g->fd_name[i] != DT_NAME_DIR))
            fds[n++] = i;
    return n ? fds[below(g, (uint64_t)n)] : -1;
}

static int pick_fd(struct dt_gen *g)
{
    int fd = some_open_fd(g, 0);
    if (fd >= 0 && !chance(g, 6))
        return fd;
    static const int bad[] = {42, -1, 3, 7};
    static const int edge_fds[] = {-2, INT32_MIN, INT32_MAX, 1024};
    return edge(g, 20) ? PICK(g, edge_fds) : bad[below(g, 4)];
}

static int file_is_mapped(const struct dt_maps *now, int name)
{
    for (int i = 0; name >= 0 && i < now->n; i++)
        if (strcmp(now->v[i].name, dt_file_names[name]) == 0)
            return 1;
    return 0;
}

/* The maps name of a MAP_HUGETLB mapping (its file on hugetlbfs). */
static int is_hugetlb(const struct dt_vma *v) { return !strcmp(v->name, "anon_hugepage (deleted)"); }

/* Does [addr, addr + len) (window-relative; len 0: the page at addr) meet
 * a hugetlb VMA of the window? */
static int meets_hugetlb(const struct dt_maps *now, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + (len ? len : DT_PAGE);
    int wraps = end < addr; /* a range from below the window ("+-0x1000") wraps past 0 */
    for (int i = 0; i < now->n; i++) {
        const struct dt_vma *v = &now->v[i];
        if (is_hugetlb(v) && (wraps ? v->end > addr || v->start < end
                                    : v->end > addr && v->start < end))
            return 1;
    }
    return 0;
}

/* A range that starts in a hugetlb VMA is often made of whole huge pages,
 * so that splits, unmaps and advice succeed as well as fail. */
static void align_to_hugetlb(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    if (op->abs || !meets_hugetlb(now, op->addr, 0) || !chance(g, 50))
        return;
    op->addr &= ~(HPAGE - 1);
    if (chance(g, 70))
        op->len = HPAGE * (1 + below(g, 2));
}

/* ---- addresses and lengths ---- */

static uint64_t clamp_page(int64_t addr)
{
    if (addr < 0)
        return 0;
    if ((uint64_t)addr > DT_WINDOW_SIZE - DT_PAGE)
        return DT_WINDOW_SIZE - DT_PAGE;
    return (uint64_t)addr & ~(DT_PAGE - 1);
}

/* A page-aligned window-relative address: near a VMA boundary, in the
 * arena, at either end of the window, or anywhere. */
static uint64_t pick_page(struct dt_gen *g, const struct dt_maps *now)
{
    uint64_t r = below(g, 100);
    if (r < 45 && now->n) {
        const struct dt_vma *v = &now->v[below(g, (uint64_t)now->n)];
        int64_t base = (int64_t)(chance(g, 50) ? v->start : v->end);
        int64_t delta = chance(g, 50) ? 0 : (int64_t)below(g, 5) - 2;
        return clamp_page(base + delta * (int64_t)DT_PAGE);
    }
    if (r < 90)
        return ARENA_LO + below(g, ARENA_PAGES) * DT_PAGE;
    if (r < 94)
        return below(g, 4) * DT_PAGE;
    if (r < 97)
        return DT_WINDOW_SIZE - (1 + below(g, 8)) * DT_PAGE;
    return below(g, WINDOW_PAGES) * DT_PAGE;
}

static uint64_t pick_pages(struct dt_gen *g)
{
    uint64_t r = below(g, 100);
    if (r < 35)
        return 1;
    if (r < 65)
        return 2 + below(g, 3);
    if (r < 90)
        return 5 + below(g, 12);
    return 17 + below(g, 16);
}

/* A length for a range at addr that stays inside the window; sometimes one
 * that must fail or is not a page multiple (when huge is allowed). */
static uint64_t pick_len(struct dt_gen *g, uint64_t addr, int huge_ok)
{
    uint64_t len = pick_pages(g) * DT_PAGE;
    if (len > DT_WINDOW_SIZE - addr)
        len = DT_WINDOW_SIZE - addr;
    if (has(g, DT_FEAT_HUGE_ARGS) && chance(g, 7)) {
        static const uint64_t odd[] = {0, 1, UINT64_MAX, UINT64_C(1) << 47, DT_TASK_SIZE,
                                       UINT64_MAX - 4095};
        uint64_t r = below(g, 10);
        if (r < 4)
            return len - 1 - below(g, 100); /* rounds up to len */
        if (r < 6)
            return odd[below(g, 2)];
        if (huge_ok)
            return odd[2 + below(g, 4)];
    }
    return len;
}

static int pick_prot(struct dt_gen *g)
{
    uint64_t r = below(g, 100);
    if (r < 38) return PROT_READ | PROT_WRITE;
    if (r < 60) return PROT_READ;
    if (r < 70) return PROT_NONE;
    if (r < 75) return PROT_WRITE;
    if (r < 82) return PROT_READ | PROT_EXEC;
    if (r < 87) return PROT_READ | PROT_WRITE | PROT_EXEC;
    if (r < 91 && has(g, DT_FEAT_EXEC_ONLY)) return PROT_EXEC;
    if (r < 93 && has(g, DT_FEAT_ODD_FLAGS)) return PROT_READ | PROT_WRITE | 0x10;
    if (r < 95 && has(g, DT_FEAT_ODD_FLAGS)) return PROT_READ | 0x8; /* PROT_SEM */
    return PROT_READ | PROT_WRITE;
}

static uint64_t size_pages(int64_t size) { return (uint64_t)(size + (int64_t)DT_PAGE - 1) / DT_PAGE; }

static int64_t pick_file_off(struct dt_gen *g, int name)
{
    uint64_t pages = name >= 0 ? size_pages(g->size[name]) : 4;
    uint64_t r = below(g, 100);
    if (r < 40)
        return 0;
    if (r < 88 || !has(g, DT_FEAT_BEYOND_EOF))
        return (int64_t)(below(g, pages + 1) * DT_PAGE);
    if (r < 96)
        return (int64_t)((pages + 1 + below(g, 8)) * DT_PAGE);
    if (!has(g, DT_FEAT_HUGE_ARGS))
        return 0;
    static const int64_t odd[] = {100, INT64_C(0x7ffffffffffff000), -4096};
    return odd[below(g, 3)];
}

/* ---- arguments at the edges of their range (see the opening comment) ---- */

#define PAGE_ALIGNED_MAX (UINT64_MAX - DT_PAGE + 1)
#define MAX_RW UINT64_C(0x7ffff000)       /* MAX_RW_COUNT */

static const uint64_t far_addrs[] = {
    UINT64_C(0x800000000000),     UINT64_C(0xffff800000000000), UINT64_C(0xfffffffffffff000),
    UINT64_C(0x8000000000000000), UINT64_C(0xffffffffffffe000), UINT64_C(0xffff7ffffffff000),
    UINT64_C(0x00fffffffffff000),  UINT64_C(0x100000000000000),  UINT64_C(0xfffffffffffffff1),
    UINT64_C(0xfffffffffffff001),
};

/* Lengths that every host refuses from any address. */
static const uint64_t refused_lens[] = {
    UINT64_MAX, PAGE_ALIGNED_MAX, PAGE_ALIGNED_MAX - 1, UINT64_C(1) << 63, UINT64_C(1) << 57,
    (UINT64_C(1) << 63) + 1,
};

/* Lengths a placed mapping meets the same fate with on any layout. */
static const uint64_t placed_lens[] = {
    UINT64_C(1) << 30, UINT64_C(1) << 31, UINT64_C(1) << 32, UINT64_C(1) << 34, UINT64_C(1) << 36,
    UINT64_C(1) << 40, UINT64_C(1) << 47, DT_TASK_SIZE, DT_TASK_SIZE + 1, UINT64_C(1) << 56,
    MAX_RW + 1, (UINT64_C(1) << 36) + 1,
};

/* Every length class, for calls that stop at a hole or fail first. */
static const uint64_t any_lens[] = {
    UINT64_MAX, PAGE_ALIGNED_MAX, UINT64_C(1) << 63, UINT64_C(0x7fffffffffffffff), UINT64_C(1) << 57,
    UINT64_C(1) << 56, UINT64_C(1) << 47, DT_TASK_SIZE, DT_TASK_SIZE + 1, UINT64_C(1) << 40,
    UINT64_C(1) << 36, UINT64_C(1) << 34, UINT64_C(1) << 32, UINT64_C(1) << 31, MAX_RW, MAX_RW + 1,
    (UINT64_C(1) << 31) - 1, UINT64_C(1) << 30,
};

/* An address outside the window: just below it (relative, wrapping), in
 * the guard above it, at the top of that guard, or at or above 2^47. */
static void edge_addr(struct dt_gen *g, int *abs, uint64_t *addr)
{
    uint64_t r = below(g, 100);
    *abs = 0;
    if (r < 25)
        *addr = (uint64_t)0 - (1 + below(g, 4)) * DT_PAGE;
    else if (r < 32)
        *addr = (uint64_t)0 - DT_GUARD + below(g, 2) * DT_PAGE;
    else if (r < 52)
        *addr = DT_WINDOW_SIZE + below(g, 4) * DT_PAGE;
    else if (r < 60)
        *addr = DT_WINDOW_SIZE + DT_GUARD - (1 + below(g, 2)) * DT_PAGE;
    else {
        *abs = 1;
        *addr = PICK(g, far_addrs);
    }
}

/* One bit of an int, bit 31 (INT_MIN) included. */
static int random_bit(struct dt_gen *g)
{
    unsigned bit = (unsigned)below(g, 32);
    return bit == 31 ? INT32_MIN : 1 << bit;
}

static int edge_advice(struct dt_gen *g)
{
    static const int ints[] = {INT32_MIN, INT32_MAX, -1, -2};
    if (chance(g, 10))
        return PICK(g, ints);
    int a = (int)below(g, 112);
    return a == 100 || a == 101 ? 99 : a;
}

/* mmap: an address outside the window, a length at the edge, or a bit. */
static void edge_mmap(struct dt_gen *g, struct dt_op *op)
{
    uint64_t r = below(g, 100);
    int fixed = (op->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    if (r < 35) {
        edge_addr(g, &op->abs, &op->addr);
        op->len = (1 + below(g, 4)) * DT_PAGE;
    } else if (r < 60) {
        op->len = fixed ? PICK(g, refused_lens) : PICK(g, placed_lens);
        if (!fixed) { /* no hint in the window: the kernel would honour it */
            op->abs = 1;
            op->addr = chance(g, 70) ? 0 : PICK(g, far_addrs);
        }
    } else if (r < 70) {
        edge_addr(g, &op->abs, &op->addr);
        op->len = PICK(g, refused_lens);
    } else if (r < 85) {
        int bit = random_bit(g);
        op->flags |= bit == MAP_HUGETLB && !has(g, DT_FEAT_HUGETLB) ? MAP_NORESERVE : bit;
    } else {
        op->prot |= random_bit(g);
    }
    if (op->len > DT_WINDOW_SIZE) /* never populate or lock that much */
        op->flags &= ~(MAP_POPULATE | MAP_LOCKED);
}

/* munmap, mprotect, msync, mincore, madvise. */
static void edge_range(struct dt_gen *g, struct dt_op *op)
{
    uint64_t r = below(g, 100);
    if (r < 40) {
        edge_addr(g, &op->abs, &op->addr);
        op->len = chance(g, 70) ? (1 + below(g, 4)) * DT_PAGE : PICK(g, any_lens);
    } else {
        op->len = PICK(g, any_lens);
    }
}

static void edge_io(struct dt_gen *g, struct dt_op *op)
{
    const int64_t read_offs[] = {INT64_MAX, INT64_MAX - 4095, g->max_file_bytes, g->max_file_bytes - 1,
                                        g->max_file_bytes + 1, INT64_C(0x7fffffff00000000), -1};
    const int64_t write_offs[] = {INT64_MAX, INT64_MAX - 4095, g->max_file_bytes, g->max_file_bytes + 1,
                                         INT64_C(0x7fffffff00000000), -1, INT64_MIN};
    int writes = op->kind == DT_WRITE || op->kind == DT_PWRITE;
    uint64_t r = below(g, 100);
    if (r < 30)
        edge_addr(g, &op->abs, &op->addr);
    else if (r < 45)
        op->addr = chance(g, 50) ? DT_WINDOW_SIZE - below(g, 3) * DT_PAGE - 1 : below(g, 4);
    if (r >= 15 && r < 75)
        op->len = writes ? PICK(g, refused_lens) : PICK(g, any_lens);
    else if (r >= 75 && (op->kind == DT_PREAD || op->kind == DT_PWRITE))
        op->off = writes ? PICK(g, write_offs) : PICK(g, read_offs);
}

/* ---- one op of each kind ---- */

static int map_type(struct dt_gen *g)
{
    uint64_t r = below(g, 100);
    if (r < 55)
        return MAP_PRIVATE;
    if (r < 96 || !has(g, DT_FEAT_ODD_FLAGS))
        return MAP_SHARED;
    static const int odd[] = {MAP_SHARED_VALIDATE, 0, 0x08 /* MAP_DROPPABLE */, 0x0f};
    return odd[below(g, 4)];
}

static int map_extras(struct dt_gen *g)
{
    int f = 0;
    if (has(g, DT_FEAT_POPULATE) && chance(g, 10))
        f |= MAP_POPULATE;
    if (chance(g, 5))
        f |= MAP_NORESERVE;
    if (has(g, DT_FEAT_ODD_FLAGS) && chance(g, 8)) {
        int odd[8] = {MAP_LOCKED, MAP_GROWSDOWN, MAP_32BIT, 0x400000, MAP_NONBLOCK | MAP_POPULATE};
        int n = 5;
        if (has(g, DT_FEAT_MAP_SYNC))
            odd[n++] = MAP_SYNC;
        if (has(g, DT_FEAT_MAP_STACK))
            odd[n++] = MAP_STACK;
        f |= odd[below(g, (uint64_t)n)];
    }
    if (has(g, DT_FEAT_HUGETLB) && chance(g, 10)) {
        /* Without MAP_NORESERVE the empty pool refuses it (ENOMEM); a 1 GiB
         * size has no pool at all (EINVAL), nor has 4 KiB. */
        static const int sizes[] = {0, 0, 0, 0, MAP_HUGE_2MB, MAP_HUGE_2MB, MAP_HUGE_1GB, 12 << 26};
        f |= MAP_HUGETLB | sizes[below(g, 8)] | (chance(g, 85) ? MAP_NORESERVE : 0);
    }
    return f;
}

/* A host with a randomised layout starts the MAP_32BIT search at a random
 * page of the first 32 MiB above 1 GiB; the machine vmsim runs here starts
 * at 1 GiB. A search for more than 1 GiB - 32 MiB but at most 1 GiB fits
 * only for some starts, so it becomes the largest length that always fits. */
static void avoid_random_32bit_fit(struct dt_op *op)
{
    const uint64_t always_fits = (UINT64_C(1) << 30) - (UINT64_C(32) << 20);
    uint64_t len = (op->len + DT_PAGE - 1) & ~(DT_PAGE - 1);
    if ((op->flags & MAP_32BIT) && !(op->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) &&
        len > always_fits && len <= UINT64_C(1) << 30)
        op->len = always_fits;
}

static void gen_mmap(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    int fd = some_open_fd(g, 1);
    int file = has(g, DT_FEAT_FILE_MMAP) && fd >= 0 && chance(g, 50);
    op->kind = DT_MMAP;
    op->flags = map_type(g) | (file ? 0 : MAP_ANONYMOUS) | map_extras(g);
    uint64_t r = below(g, 100);
    if (r < 55)
        op->flags |= MAP_FIXED;
    else if (r < 72)
        op->flags |= MAP_FIXED_NOREPLACE;
    else if (r >= 98 && has(g, DT_FEAT_OUTSIDE))
        op->abs = 1; /* no hint: placed outside the window */
    op->addr = op->abs ? 0 : pick_page(g, now);
    op->len = pick_len(g, op->addr, 1);
    op->prot = pick_prot(g);
    if (file && (op->flags & MAP_HUGETLB) && chance(g, 80))
        op->flags &= ~(MAP_HUGETLB | MAP_HUGE_BITS); /* of a file, only EINVAL */
    if (file) {
        op->fd = chance(g, 94) ? fd : pick_fd(g);
        op->off = pick_file_off(g, g->fd_name[fd]);
    } else {
        op->fd = chance(g, 97) ? -1 : pick_fd(g);
        op->off = chance(g, 92) ? 0 : (int64_t)(below(g, 8) * DT_PAGE);
    }
    if ((op->flags & MAP_HUGETLB) && !file) {
        if (chance(g, 85))
            op->addr &= ~(HPAGE - 1);
        if (chance(g, 10))
            op->off = (int64_t)(HPAGE * below(g, 3)); /* hugetlbfs offsets are whole pages */
    }
    if (edge(g, 12))
        edge_mmap(g, op);
    avoid_random_32bit_fit(op);
}

static void gen_range(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op, int huge_ok)
{
    op->addr = pick_page(g, now);
    op->len = pick_len(g, op->addr, huge_ok);
    align_to_hugetlb(g, now, op);
    if (edge(g, 10))
        edge_range(g, op);
}

static void gen_access(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op, int kind)
{
    static const uint64_t sizes[] = {1, 8, 16, 4, 2};
    op->kind = kind;
    op->len = chance(g, 80) ? sizes[below(g, 5)] : 1 + below(g, DT_MAX_LOAD);
    op->pattern = (int)below(g, 256);
    if (has(g, DT_FEAT_ABS_ACCESS) && chance(g, 2)) {
        static const uint64_t never[] = {0x10, UINT64_C(0x800000000000), UINT64_C(0xffff888000000000),
                                         DT_TASK_SIZE};
        /* around the top of user space, the non-canonical hole, the kernel
         * half and the end of the address space (an access that wraps) */
        static const uint64_t edges[] = {
            DT_TASK_SIZE - 8 + DT_PAGE, UINT64_C(0x7ffffffffff8), UINT64_C(0x800000000000) - 1,
            UINT64_C(0xffff7ffffffffff8), UINT64_C(0xffff800000000000), UINT64_C(0x8000000000000000) - 8,
            UINT64_C(0xfffffffffffff000), UINT64_C(0xfffffffffffffff8), UINT64_MAX, 0};
        op->abs = 1;
        op->addr = edge(g, 50) ? PICK(g, edges) : never[below(g, 4)];
        return;
    }
    uint64_t r = below(g, 100), off = 0;
    if (r < 40)
        off = DT_PAGE - 1 - below(g, DT_MAX_LOAD - 1); /* may cross into the next page */
    else if (r >= 70)
        off = below(g, DT_PAGE - DT_MAX_LOAD);
    op->addr = pick_page(g, now) + off;
}

/* One open flag bit of 32, but not those vmsim leaves out by design (O_PATH,
 * O_TMPFILE: EOPNOTSUPP) or cannot model (O_DIRECT: the host's reads and
 * writes bypass its page cache). */
static int edge_open_bit(struct dt_gen *g)
{
    int bit = random_bit(g);
    return bit & (O_PATH | __O_TMPFILE | O_DIRECT) ? O_NOFOLLOW : bit;
}

static void gen_open(struct dt_gen *g, struct dt_op *op)
{
    static const int modes[] = {O_RDONLY, O_RDONLY, O_RDONLY, O_WRONLY, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR};
    uint64_t r = below(g, 100);
    op->kind = DT_OPEN;
    op->name = r < 75 ? (int)below(g, DT_NFILES) : r < 85 ? DT_NAME_NEW : r < 92 ? DT_NAME_DIR : DT_NAME_MISSING;
    op->flags = modes[below(g, 10)];
    if (chance(g, 15))
        op->flags |= O_CREAT;
    if (chance(g, 5))
        op->flags |= O_APPEND;
    if (chance(g, 3))
        op->flags |= O_CREAT | O_EXCL;
    if (has(g, DT_FEAT_TRUNC_LIVE) && chance(g, 4))
        op->flags |= O_TRUNC;
    if (edge(g, 8))
        op->flags |= edge_open_bit(g);
    if ((op->flags & O_TRUNC) && !has(g, DT_FEAT_TRUNC_LIVE))
        op->flags &= ~O_TRUNC;
}

/* A copy between a file and a mapping of the same file that lands a little
 * above where it reads re-reads bytes it has already written, and how many
 * depends on the CPU's string-copy microcode (rep movsb moves bytes on some
 * CPUs, 64-byte chunks on others), not on the kernel: the generator leaves
 * such copies out (docs/fidelity.md). read() and write() positions are not
 * followed, nor is the end of file where an O_APPEND descriptor writes (even
 * with pwrite), so for them any mapping of the file under the buffer counts. */
static int copy_overlaps_itself(const struct dt_gen *g, const struct dt_maps *now,
                                const struct dt_op *op)
{
    int name = op->fd >= 0 && op->fd < GEN_FDS ? g->fd_name[op->fd] : -1;
    if (name < 0 || op->abs || op->len == 0 || op->len > DT_WINDOW_SIZE || op->off < 0)
        return 0;
    int appends = op->kind != DT_PREAD && op->kind != DT_READ && g->fd_append[g->cur][op->fd];
    int positioned = (op->kind == DT_PREAD || op->kind == DT_PWRITE) && !appends;
    for (int i = 0; i < now->n; i++) {
        const struct dt_vma *v = &now->v[i];
        if (strcmp(v->name, dt_file_names[name]) != 0 || v->end <= op->addr ||
            v->start >= op->addr + op->len)
            continue;
        if (!positioned)
            return 1;
        /* The file offset the buffer's first byte would have in this mapping. */
        int64_t buf_off = (int64_t)v->offset + ((int64_t)op->addr - (int64_t)v->start);
        int64_t src = op->kind == DT_PWRITE ? buf_off : op->off;
        int64_t dst = op->kind == DT_PWRITE ? op->off : buf_off;
        if (dst > src && (uint64_t)(dst - src) < op->len)
            return 1;
    }
    return 0;
}

static void gen_io(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op, int kind)
{
    op->kind = kind;
    op->fd = pick_fd(g);
    op->addr = pick_page(g, now) + (chance(g, 30) ? below(g, DT_PAGE) : 0);
    uint64_t r = below(g, 100);
    op->len = r < 5 ? 0 : r < 55 ? 1 + below(g, DT_PAGE) : r < 90 ? DT_PAGE * (1 + below(g, 3))
                                                                   : DT_PAGE * (1 + below(g, 3)) + below(g, DT_PAGE);
    if (kind != DT_PREAD && kind != DT_PWRITE) {
        if (edge(g, 12))
            edge_io(g, op);
        if (copy_overlaps_itself(g, now, op))
            op->kind = DT_FSYNC;
        return;
    }
    int name = op->fd >= 0 && op->fd < GEN_FDS ? g->fd_name[op->fd] : -1;
    int64_t size = name >= 0 ? g->size[name] : 0;
    r = below(g, 100);
    if (r < 15)
        op->off = 0;
    else if (r < 70)
        op->off = (int64_t)below(g, (uint64_t)size + 2 * DT_PAGE);
    else if (r < 92 || !has(g, DT_FEAT_HUGE_ARGS))
        op->off = (int64_t)(below(g, size_pages(size) + 2) * DT_PAGE);
    else
        op->off = chance(g, 50) ? -1 : INT64_C(0xffffffff000);
    if (kind == DT_PWRITE && !has(g, DT_FEAT_WRITE_PAST_EOF) && op->off > size)
        op->off = size;
    /* Keep files within FILE_MAX, unless the write must fail anyway. */
    if (kind == DT_PWRITE && op->off >= 0 && op->off < INT64_C(0xffffffff000) &&
        (uint64_t)op->off + op->len > FILE_MAX) {
        op->len = op->len > FILE_MAX ? FILE_MAX : op->len;
        op->off = (int64_t)(FILE_MAX - op->len);
    }
    if (edge(g, 12))
        edge_io(g, op);
    if (copy_overlaps_itself(g, now, op))
        op->kind = DT_FSYNC;
}

static void gen_write(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    gen_io(g, now, op, DT_WRITE);
    /* write() appends at the file position, which the generator does not
     * follow; keep it to files that are small enough. */
    int name = op->fd >= 0 && op->fd < GEN_FDS ? g->fd_name[op->fd] : -1;
    if (name >= 0 && (uint64_t)g->size[name] + op->len > FILE_MAX)
        op->kind = DT_READ;
    if (op->kind == DT_READ && copy_overlaps_itself(g, now, op))
        op->kind = DT_FSYNC;
}

static void gen_ftruncate(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    static const int64_t sizes[] = {0, 100, 4096, 5000, 3 * 4096 + 7, 8 * 4096, 12 * 4096 + 1, 16 * 4096};
    op->kind = DT_FTRUNCATE;
    op->fd = pick_fd(g);
    op->off = sizes[below(g, 8)];
    if (has(g, DT_FEAT_HUGE_ARGS) && chance(g, 4))
        op->off = chance(g, 50) ? -1 : INT64_C(1) << 62;
    const int64_t edges[] = {INT64_MAX, INT64_MIN, g->max_file_bytes + 1};
    if (edge(g, 6))
        op->off = PICK(g, edges);
    int name = op->fd >= 0 && op->fd < GEN_FDS ? g->fd_name[op->fd] : -1;
    if (!has(g, DT_FEAT_TRUNC_LIVE) && file_is_mapped(now, name))
        op->kind = DT_FSYNC;
}

static void gen_lseek(struct dt_gen *g, struct dt_op *op)
{
    op->kind = DT_LSEEK;
    op->fd = pick_fd(g);
    op->off = chance(g, 90) ? (int64_t)below(g, FILE_MAX) : -(int64_t)below(g, 10000);
    uint64_t r = below(g, 100);
    op->flags = r < 55 ? (int)below(g, 3) : r < 97 ? SEEK_DATA + (int)below(g, 2) : 7;
    int name = op->fd >= 0 && op->fd < GEN_FDS ? g->fd_name[op->fd] : -1;
    int64_t size = name >= 0 ? g->size[name] : 0;
    /* SEEK_DATA and SEEK_HOLE mostly from inside the file (a block start or
     * not) or just past its end, where the answers differ. */
    if ((op->flags == SEEK_DATA || op->flags == SEEK_HOLE) && op->off >= 0 && chance(g, 80)) {
        op->off = (int64_t)below(g, (uint64_t)size + DT_PAGE);
        if (chance(g, 40))
            op->off &= ~(int64_t)(DT_PAGE - 1);
    }
    if (edge(g, 10)) {
        /* no position a later write could grow a file from (s_maxbytes - 1) */
        const int64_t offs[] = {INT64_MAX, INT64_MIN, g->max_file_bytes, g->max_file_bytes + 1, -1,
                                       INT64_C(0x7ffffffffffff000)};
        static const int whences[] = {-1, 5, 6, 8, INT32_MAX, INT32_MIN};
        if (chance(g, 60))
            op->off = PICK(g, offs);
        else
            op->flags = PICK(g, whences);
        return;
    }
    if (has(g, DT_FEAT_WRITE_PAST_EOF) || op->off < 0)
        return;
    /* Stay within the file, so that a later write() does not start past EOF. */
    if (op->flags == SEEK_SET)
        op->off = size ? op->off % (size + 1) : 0;
    else if (op->flags == SEEK_CUR || op->flags == SEEK_END)
        op->off = -op->off;
}

static void gen_msync(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    static const int flags[] = {MS_SYNC, MS_SYNC, MS_SYNC, MS_ASYNC, MS_ASYNC, MS_INVALIDATE,
                                MS_SYNC | MS_INVALIDATE, 0, MS_SYNC | MS_ASYNC, 8};
    op->kind = DT_MSYNC;
    gen_range(g, now, op, 1);
    op->flags = flags[below(g, has(g, DT_FEAT_HUGE_ARGS) ? 10 : 8)];
    if (edge(g, 8))
        op->flags |= random_bit(g);
    /* msync rounds the length up to a page; lengths that wrap to 0 succeed. */
    if (!has(g, DT_FEAT_MSYNC_WRAP) && op->len > UINT64_MAX - DT_PAGE + 1)
        op->len = UINT64_C(1) << 47;
}

/* mremap at the edges: old or new address outside the window, lengths any
 * host refuses, one bit of the flags. */
static void edge_mremap(struct dt_gen *g, struct dt_op *op)
{
    uint64_t r = below(g, 100);
    if (r < 25)
        edge_addr(g, &op->abs, &op->addr);
    else if (r < 45)
        op->len = PICK(g, any_lens);
    else if (r < 65)
        op->len2 = PICK(g, any_lens);
    else if (r < 80)
        op->flags = random_bit(g) | (chance(g, 50) ? 1 : 0);
    else {
        op->flags |= 1 | 2;
        edge_addr(g, &op->abs2, &op->addr2);
    }
}

/* mremap: shrink, grow, move (where the kernel likes, or fixed in the
 * window), DONTUNMAP, and the invalid combinations. */
static void gen_mremap(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    op->addr = pick_page(g, now);
    uint64_t room = DT_WINDOW_SIZE - op->addr;
    op->len = pick_pages(g) * DT_PAGE;
    op->len2 = pick_pages(g) * DT_PAGE;
    if (chance(g, 25))
        op->len2 = op->len;
    if (chance(g, 4))
        op->len = 0; /* duplicate a shared mapping, or EINVAL for a private one */
    if (op->len > room)
        op->len = room;
    if (op->len2 > room)
        op->len2 = room;
    uint64_t r = below(g, 100);
    op->flags = r < 30 ? 0 : r < 62 ? 1 : r < 84 ? 1 | 2 : r < 96 ? 1 | 4 : (int)below(g, 9);
    if (op->flags & 4)
        op->len2 = op->len ? op->len : DT_PAGE; /* DONTUNMAP keeps the length */
    if (op->flags & (2 | 4)) {
        op->addr2 = pick_page(g, now);
        if (op->len2 > DT_WINDOW_SIZE - op->addr2)
            op->addr2 = DT_WINDOW_SIZE - op->len2;
    }
    if (meets_hugetlb(now, op->addr, 0) && chance(g, 50)) {
        /* A hugetlb VMA shrinks (or stays) at whole huge pages. */
        op->addr &= ~(HPAGE - 1);
        op->len = HPAGE * (1 + below(g, 2));
        op->len2 = chance(g, 70) ? HPAGE : (1 + below(g, 600)) * DT_PAGE;
    }
    if (has(g, DT_FEAT_HUGE_ARGS) && chance(g, 3))
        op->len2 = chance(g, 50) ? 0 : op->len2 - 1 - below(g, 100);
    if (edge(g, 12))
        edge_mremap(g, op);
    /* Never move a hugetlb VMA on the host (see the opening comment). */
    if (!op->abs && meets_hugetlb(now, op->addr, op->len))
        op->flags &= ~(2 | 4); /* MREMAP_FIXED, MREMAP_DONTUNMAP */
}

static void gen_madvise(struct dt_gen *g, const struct dt_maps *now, struct dt_op *op)
{
    static const int common[] = {4, 4, 4, 3, 3, 8, 8, 9, 9, 1, 2, 0, 10, 11, 18, 19, 21, 22, 23, 102, 103};
    static const int rare[] = {16, 17, 14, 15, 12, 13, 20, 24, 25, 5, 99, -1};
    gen_range(g, now, op, 0);
    op->flags = chance(g, 85) ? common[below(g, sizeof(common) / sizeof(common[0]))]
                              : rare[below(g, sizeof(rare) / sizeof(rare[0]))];
    if (edge(g, 8))
        op->flags = edge_advice(g);
}

/* ---- choosing the kind ---- */

static const unsigned kind_weight[DT_NKINDS] = {
    [DT_MMAP] = 16, [DT_MUNMAP] = 6,  [DT_MPROTECT] = 8, [DT_MSYNC] = 4,    [DT_MINCORE] = 5,
    [DT_LOAD] = 18, [DT_STORE] = 18,  [DT_OPEN] = 5,     [DT_CLOSE] = 2,    [DT_READ] = 3,
    [DT_WRITE] = 3, [DT_PREAD] = 3,   [DT_PWRITE] = 3,   [DT_LSEEK] = 3,    [DT_FTRUNCATE] = 3,
    [DT_FSYNC] = 2, [DT_FSTAT] = 1,   [DT_SYNC] = 1,     [DT_MREMAP] = 6,   [DT_MADVISE] = 7,
    [DT_FORK] = 2,  [DT_EXIT] = 1,
};

static int pick_kind(struct dt_gen *g)
{
    unsigned total = 0;
    for (int k = 0; k < DT_NKINDS; k++)
        if (g->kinds & (1u << k))
            total += kind_weight[k];
    uint64_t r = below(g, total);
    for (int k = 0; k < DT_NKINDS; k++) {
        if (!(g->kinds & (1u << k)))
            continue;
        if (r < kind_weight[k])
            return k;
        r -= kind_weight[k];
    }
    return DT_LOAD;
}

/* Now and then, another living process becomes the current one. */
static void pick_process(struct dt_gen *g)
{
    if (g->nprocs > 1 && chance(g, 12)) {
        int p = (int)below(g, (uint64_t)g->nprocs);
        if (g->alive[p])
            g->cur = p;
    }
    g->fd_name = g->fd_tables[g->cur];
}

static void generate(struct dt_gen *g, const struct dt_maps *maps, struct dt_op *op)
{
    memset(op, 0, sizeof(*op));
    op->fd = -1;
    pick_process(g);
    op->proc = g->cur;
    const struct dt_maps *now = &maps[g->cur];
    int kind = pick_kind(g);
    if (kind == DT_OPEN && open_count(g) >= MAX_OPEN)
        kind = (g->kinds & (1u << DT_CLOSE)) ? DT_CLOSE : DT_LOAD;
    if ((kind == DT_FORK && g->nprocs == DT_MAX_PROCS) || (kind == DT_EXIT && g->cur == 0))
        kind = DT_LOAD;
    op->kind = kind;
    switch (kind) {
    case DT_MMAP: gen_mmap(g, now, op); break;
    case DT_MUNMAP: gen_range(g, now, op, 1); break;
    case DT_MPROTECT: {
        op->prot = pick_prot(g);
        int grows = has(g, DT_FEAT_ODD_FLAGS) && chance(g, 3);
        if (grows)
            op->prot |= chance(g, 50) ? 0x01000000 : 0x02000000;
        gen_range(g, now, op, !grows); /* PROT_GROWS* would reach past the window */
        if (edge(g, 6))
            op->prot |= random_bit(g);
        break;
    }
    case DT_MSYNC: gen_msync(g, now, op); break;
    case DT_MINCORE:
        gen_range(g, now, op, 1);
        if (has(g, DT_FEAT_HUGE_ARGS) && chance(g, 3))
            op->flags = DT_VEC_NULL;
        break;
    case DT_LOAD:
    case DT_STORE: gen_access(g, now, op, kind); break;
    case DT_OPEN: gen_open(g, op); break;
    case DT_CLOSE: op->fd = pick_fd(g); break;
    case DT_READ:
    case DT_PREAD:
    case DT_PWRITE: gen_io(g, now, op, kind); break;
    case DT_WRITE: gen_write(g, now, op); break;
    case DT_LSEEK: gen_lseek(g, op); break;
    case DT_FTRUNCATE: gen_ftruncate(g, now, op); break;
    case DT_FSYNC:
    case DT_FSTAT: op->fd = pick_fd(g); break;
    case DT_MREMAP: gen_mremap(g, now, op); break;
    case DT_MADVISE: gen_madvise(g, now, op); break;
    default: break;
    }
}

/* The next op. One the safety rules refuse (an edge argument that a
 * 5-level host would honour, say) is generated again, edges left out after
 * the first try; the last resort is a load in the window. */
void gen_next(struct dt_gen *g, const struct dt_maps *maps, struct dt_op *op)
{
    unsigned features = g->features;
    generate(g, maps, op);
    for (int tries = 0; dt_op_unsafe(op) && tries < 8; tries++) {
        g->features &= ~DT_FEAT_EDGE_ARGS;
        generate(g, maps, op);
    }
    g->features = features;
    if (dt_op_unsafe(op)) {
        int proc = op->proc;
        memset(op, 0, sizeof(*op));
        *op = (struct dt_op){.kind = DT_LOAD, .addr = ARENA_CENTER, .len = 1, .fd = -1, .proc = proc};
    }
}

static void observe_process(struct dt_gen *g, const struct dt_op *op, const struct dt_result *r)
{
    if (op->kind == DT_FORK && r->ret > 0 && r->ret < DT_MAX_PROCS) {
        int k = (int)r->ret;
        memcpy(g->fd_tables[k], g->fd_tables[op->proc], sizeof(g->fd_tables[k]));
        memcpy(g->fd_append[k], g->fd_append[op->proc], sizeof(g->fd_append[k]));
        g->alive[k] = 1;
        g->nprocs = k + 1;
        if (chance(g, 50))
            g->cur = k;
    } else if (op->kind == DT_EXIT && r->ret == 0) {
        g->alive[op->proc] = 0;
        if (g->cur == op->proc)
            g->cur = 0;
    }
}

void gen_observe(struct dt_gen *g, const struct dt_op *op, const struct dt_result *r)
{
    g->fd_name = g->fd_tables[op->proc];
    observe_process(g, op, r);
    int name = op->fd >= 0 && op->fd < GEN_FDS ? g->fd_name[op->fd] : -1;
    switch (op->kind) {
    case DT_OPEN:
        if (r->ret >= 0 && r->ret < GEN_FDS) {
            g->fd_name[r->ret] = op->name;
            g->fd_append[op->proc][r->ret] = (op->flags & O_APPEND) != 0;
            if (op->flags & O_TRUNC)
                g->size[op->name] = 0;
        }
        break;
    case DT_CLOSE:
        if (r->ret == 0 && name >= 0)
            g->fd_name[op->fd] = -1;
        break;
    case DT_FTRUNCATE:
        if (r->ret == 0 && name >= 0)
            g->size[name] = op->off;
        break;
    case DT_PWRITE:
        if (r->ret > 0 && name >= 0 && op->off + r->ret > g->size[name])
            g->size[name] = op->off + r->ret;
        break;
    case DT_WRITE:
        if (r->ret > 0 && name >= 0)
            g->size[name] += r->ret; /* an upper bound: writes may overwrite */
        break;
    default: break;
    }
}
