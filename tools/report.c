/*
 * The report's recorder (report.h): the machine's state after each call,
 * read through the introspection API only, kept as a shadow copy so that
 * each step stores what changed (VMAs by start address, page-table entries
 * by table and index, TLB slots, frames, CPUs, counters), and the JSON model
 * the page is built from (docs/report.md).
 *
 * Numbers in the model: addresses and frames as page numbers (below 2^53,
 * exact in JavaScript), page-table entries as hex strings (64 bits).
 */
#include "report.h"
#include "text_escape.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing text buffer ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_reserve(struct sbuf *b, size_t more)
{
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (n == 0)
        return; /* s may be an empty buffer's NULL */
    sb_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_putc(struct sbuf *b, char c) { sb_put(b, &c, 1); }

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        sb_put(b, small, (size_t)n);
        return;
    }
    sb_reserve(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A JSON string that is also safe inside a <script> element (text_escape.h). */
static void sb_json_string(struct sbuf *b, const char *s)
{
    char one[JSON_ESCAPE_MAX];
    sb_putc(b, '"');
    while (*s) {
        s += json_escape_char(s, one, 1);
        sb_puts(b, one);
    }
    sb_putc(b, '"');
}

/* Starts an element of a JSON array: a comma unless it is the first. */
static void sb_sep(struct sbuf *b, int *first)
{
    if (!*first)
        sb_putc(b, ',');
    *first = 0;
}

/* ---- the shadow state ---- */

struct vma_rec {
    uint64_t start, end, flags, offset, ino;
    uint64_t left, right; /* the VMA tree: the children's starts, 0 for none */
    uint32_t name;
    uint16_t dev_major, dev_minor;
    uint8_t kind, prot, shared, guards, gate, red;
};

struct pt_rec {
    uint64_t pa, va;
    int level;
    int seen;
    uint64_t *e; /* 512 entries */
};

struct mm_shadow {
    int key;  /* the pid of its oldest task */
    int seen;
    struct vma_rec *v;
    size_t nv;
    struct pt_rec *t; /* sorted by pa */
    size_t nt;
};

struct tlb_slot {
    uint64_t vpn, pfn;
    uint32_t pcid, bits;
    int valid;
};

struct frame_rec {
    uint8_t owner, flags;
    int32_t mapcount, refcount;
};

struct task_rec {
    int pid, key;
};

#define NR_COUNTERS 22
static const char *const counter_names[NR_COUNTERS] = {
    "minor_faults", "major_faults", "cow_faults", "tlb_hits", "tlb_misses", "page_walks",
    "walk_refs", "shootdowns", "ipis", "flushes_full", "flushes_single", "context_switches",
    "frames_used", "pgtable_frames", "cache_frames", "dirty_pages", "free_frames", "swap_used",
    "pswpin", "pswpout", "pgscan", "pgsteal"};

/* Every event kind the model names (docs/events.md), the last one included. */
#define NR_EVENT_KINDS (VMS_EV_REFAULT + 1)

static void counters_of(vms_machine *m, uint64_t *out)
{
    struct vms_stats *s = malloc(sizeof(*s));
    if (!s) {
        memset(out, 0, NR_COUNTERS * sizeof(*out));
        return;
    }
    vms_get_stats(m, s);
    const uint64_t v[NR_COUNTERS] = {s->minor_faults, s->major_faults, s->cow_faults, s->tlb_hits,
                                     s->tlb_misses, s->page_walks, s->walk_refs, s->shootdowns,
                                     s->ipis, s->flushes_full, s->flushes_single,
                                     s->context_switches, s->frames_used, s->pgtable_frames,
                                     s->cache_frames, s->dirty_pages,
                                     s->frames_total - s->frames_used, s->swap_used,
                                     s->vm.pswpin, s->vm.pswpout,
                                     s->vm.pgscan_kswapd + s->vm.pgscan_direct,
                                     s->vm.pgsteal_kswapd + s->vm.pgsteal_direct};
    memcpy(out, v, sizeof(v));
    free(s);
}

struct mach {
    vms_machine *m; /* NULL once ended */
    unsigned number;
    unsigned ncpus;
    struct vms_tlb_geometry geo[VMS_TLB_NLEVELS];
    struct task_rec *tasks;
    size_t ntasks;
    struct mm_shadow *mms;
    size_t nmms;
    struct tlb_slot *tlb[VMS_MAX_CPUS][VMS_TLB_NLEVELS];
    struct vms_cpu_info cpu[VMS_MAX_CPUS];
    struct frame_rec *frames;
    uint64_t nframes, hw; /* frames shown: [0, hw) holds every frame ever used */
    uint64_t counters[NR_COUNTERS];
    uint64_t credit, last_cost;
    int unsnapped;        /* calls since the last state */
    int need_state;       /* just watched: its next step takes a state */
    struct sbuf config;   /* the machine's fixed facts, as JSON */
};

struct step_name {
    const char *name; /* the binding's method name (a static string) */
    unsigned count;
};

/* A step not yet written: a call, or a group of calls. */
struct open_step {
    int open;
    struct mach *mc;
    unsigned calls, failed;
    unsigned long first_call;
    char text[1024];
    struct step_name names[8];
    unsigned nnames;
    struct sbuf events;
    int nevents_kept;
    uint64_t ev_count[NR_EVENT_KINDS + 1]; /* the last: kinds this build does not know */
};

struct report {
    char *title;
    struct mach **machines;
    size_t nmachines;
    struct mach *current;
    struct sbuf steps;  /* the steps written so far, comma-separated */
    unsigned long nsteps, ncalls;
    long event_lines;   /* events kept word for word */
    struct open_step cur;
    /* interned names (maps name column) */
    char **names;
    size_t nnames;
    uint32_t *name_index; /* open addressing: name + 1, 0 empty */
    size_t name_slots;
    int oom;
};

/* ---- names ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int names_grow(struct report *r)
{
    size_t slots = r->name_slots ? r->name_slots * 2 : 64;
    uint32_t *idx = calloc(slots, sizeof(*idx));
    char **names = realloc(r->names, slots / 2 * sizeof(*names));
    if (!idx || !names) {
        free(idx);
        if (names)
            r->names = names;
        return -ENOMEM;
    }
    r->names = names;
    for (size_t i = 0; i < r->nnames; i++) {
        size_t h = hash_str(r->names[i]) & (slots - 1);
        while (idx[h])
            h = (h + 1) & (slots - 1);
        idx[h] = (uint32_t)i + 1;
    }
    free(r->name_index);
    r->name_index = idx;
    r->name_slots = slots;
    return 0;
}

static uint32_t intern(struct report *r, const char *s)
{
    if ((r->nnames + 1) * 2 > r->name_slots && names_grow(r)) {
        r->oom = 1;
        return 0;
    }
    size_t h = hash_str(s) & (r->name_slots - 1);
    while (r->name_index[h]) {
        uint32_t i = r->name_index[h] - 1;
        if (strcmp(r->names[i], s) == 0)
            return i;
        h = (h + 1) & (r->name_slots - 1);
    }
    char *copy = strdup(s);
    if (!copy) {
        r->oom = 1;
        return 0;
    }
    r->names[r->nnames] = copy;
    r->name_index[h] = (uint32_t)++r->nnames;
    return (uint32_t)r->nnames - 1;
}

/* ---- taking a state: tasks ---- */

struct task_walk {
    struct task_rec *v;
    size_t n, cap;
    vms_task *firsts[256]; /* the oldest task of each mm seen so far */
    size_t nfirsts;
    int oom;
};

static int collect_task(void *arg, vms_task *t)
{
    struct task_walk *w = arg;
    if (vms_task_killed(t))
        return 0;
    int key = vms_task_pid(t);
    for (size_t i = 0; i < w->nfirsts; i++)
        if (vms_task_same_mm(w->firsts[i], t)) {
            key = vms_task_pid(w->firsts[i]);
            break;
        }
    if (key == vms_task_pid(t) && w->nfirsts < 256)
        w->firsts[w->nfirsts++] = t;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct task_rec *v = realloc(w->v, cap * sizeof(*v));
        if (!v) {
            w->oom = 1;
            return 1;
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (struct task_rec){.pid = vms_task_pid(t), .key = key};
    return 0;
}

/* The task handle of pid, found again (the API hands out no table of them). */
struct find_pid {
    int pid;
    vms_task *t;
};

static int match_pid(void *arg, vms_task *t)
{
    struct find_pid *f = arg;
    if (vms_task_pid(t) != f->pid)
        return 0;
    f->t = t;
    return 1;
}

static vms_task *task_of(vms_machine *m, int pid)
{
    struct find_pid f = {.pid = pid};
    vms_task_visit(m, match_pid, &f);
    return f.t;
}

/* ---- VMAs ---- */

struct vma_walk {
    struct report *r;
    struct vma_rec *v;
    size_t n, cap;
    int oom;
};

static int collect_vma(void *arg, const struct vms_vma_info *vi)
{
    struct vma_walk *w = arg;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        struct vma_rec *v = realloc(w->v, cap * sizeof(*v));
        if (!v) {
            w->oom = 1;
            return 1;
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (struct vma_rec){
        .start = vi->start, .end = vi->end, .flags = vi->vm_flags, .offset = vi->offset,
        .ino = vi->ino, .name = intern(w->r, vi->name), .dev_major = (uint16_t)vi->dev_major,
        .dev_minor = (uint16_t)vi->dev_minor, .kind = (uint8_t)vi->kind, .prot = (uint8_t)vi->prot,
        .shared = (uint8_t)vi->shared, .guards = (uint8_t)vi->guards, .gate = (uint8_t)vi->gate,
        .red = (uint8_t)(vi->red != 0), .left = vi->left, .right = vi->right};
    return 0;
}

static int tree_same(const struct vma_rec *a, const struct vma_rec *b)
{
    return a->red == b->red && a->left == b->left && a->right == b->right;
}

/* The digits of the numbers of "vs", "rt" and "tlb" (strings of numbers): each
 * number is written in base 32, its lowest digit first, a digit from the
 * second half of the alphabet saying that more follow. A one-page VMA
 * takes five to eight characters and its tree node two to four, where
 * decimal numbers with their commas and brackets took about fourteen and
 * eight. None of the characters needs escaping in a JSON string or a
 * script element. */
static const char model_digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

static void write_number(struct sbuf *b, uint64_t v)
{
    for (; v >= 32; v >>= 5)
        sb_putc(b, model_digits[32 | (v & 31)]);
    sb_putc(b, model_digits[v]);
}

/* A node of the VMA tree into "rt" (a string of numbers, model_digits):
 * its start in pages from the node written before it (the first: from 0)
 * times 8, plus red | 2 (a left child) | 4 (a right child); then the left
 * child's distance below it and the right child's above it, in pages,
 * when it has them. The gaps are not written: the page computes them from
 * the VMAs, as the tree's augmentation does. */
static void write_tree_node(struct sbuf *b, const struct vma_rec *v, uint64_t *prev)
{
    write_number(b, ((v->start - *prev) >> 12) * 8 +
                        (v->red | (v->left ? 2u : 0u) | (v->right ? 4u : 0u)));
    if (v->left)
        write_number(b, (v->start - v->left) >> 12);
    if (v->right)
        write_number(b, (v->right - v->start) >> 12);
    *prev = v->start;
}

static int vma_same(const struct vma_rec *a, const struct vma_rec *b)
{
    return a->start == b->start && a->end == b->end && a->flags == b->flags &&
           a->offset == b->offset && a->ino == b->ino && a->name == b->name &&
           a->dev_major == b->dev_major && a->dev_minor == b->dev_minor && a->kind == b->kind &&
           a->prot == b->prot && a->guards == b->guards;
}

/* A VMA into "vs" (a string of numbers, model_digits): its start in pages
 * from the end of the VMA written before it in the same list (the first:
 * from 0) times 8, plus how many of the fields after it are written less
 * 3; then pages, kind, vm_flags, name, offset, dev_major, dev_minor, ino,
 * guards, gate, trailing zeros after vm_flags left out. */
static void write_vma(struct sbuf *b, const struct vma_rec *v, uint64_t *prev_end)
{
    uint64_t f[10] = {(v->end - v->start) >> 12, v->kind, v->flags, v->name, v->offset,
                      v->dev_major, v->dev_minor, v->ino, v->guards, v->gate};
    unsigned n = 10;
    while (n > 3 && f[n - 1] == 0)
        n--;
    write_number(b, ((v->start - *prev_end) >> 12) * 8 + (n - 3));
    for (unsigned i = 0; i < n; i++)
        write_number(b, f[i]);
    *prev_end = v->end;
}

/* Both lists are in address order: a merge by start address. Writes
 * "vd" (starts gone) and "vs" (VMAs new or changed); returns the work done. */
static uint64_t diff_vmas(struct sbuf *b, const struct vma_rec *old, size_t nold,
                          const struct vma_rec *cur, size_t ncur, int *wrote)
{
    size_t i = 0, j = 0;
    int first_d = 1;
    uint64_t prev_end = 0, prev_node = 0;
    struct sbuf sets = {0}, tree = {0};
    while (i < nold || j < ncur) {
        if (j >= ncur || (i < nold && old[i].start < cur[j].start)) {
            if (first_d)
                sb_puts(b, "\"vd\":[");
            sb_sep(b, &first_d);
            sb_printf(b, "%" PRIu64, old[i].start >> 12);
            i++;
            continue;
        }
        if (i < nold && old[i].start == cur[j].start) {
            if (!vma_same(&old[i], &cur[j]))
                write_vma(&sets, &cur[j], &prev_end);
            if (!cur[j].gate && !tree_same(&old[i], &cur[j]))
                write_tree_node(&tree, &cur[j], &prev_node);
            i++;
            j++;
            continue;
        }
        write_vma(&sets, &cur[j], &prev_end);
        if (!cur[j].gate)
            write_tree_node(&tree, &cur[j], &prev_node);
        j++;
    }
    if (!first_d)
        sb_putc(b, ']');
    if (sets.len) {
        if (!first_d)
            sb_putc(b, ',');
        sb_puts(b, "\"vs\":\"");
        sb_put(b, sets.p, sets.len);
        sb_putc(b, '"');
    }
    if (tree.len) {
        if (!first_d || sets.len)
            sb_putc(b, ',');
        sb_puts(b, "\"rt\":\"");
        sb_put(b, tree.p, tree.len);
        sb_putc(b, '"');
    }
    b->oom |= sets.oom | tree.oom;
    free(sets.p);
    free(tree.p);
    *wrote = !first_d || sets.len || tree.len;
    return ncur > nold ? 2 * ncur : 2 * nold;
}

/* ---- page tables ---- */

/* Runs of entries: [index, count, "hex", stride]: count entries at index,
 * index + stride, ..., each the first plus k pages when it is present
 * (consecutive frames, same bits), else all equal; stride 1 is left out.
 * want(i) says which entries to write; a run steps over the others. */
static void write_runs(struct sbuf *b, const uint64_t *e, const uint8_t *want)
{
    int first = 1;
    uint8_t done[512] = {0};
    sb_putc(b, '[');
    for (unsigned i = 0; i < 512; i++) {
        if (!want[i] || done[i])
            continue;
        uint64_t step = (e[i] & VMS_PTE_P) ? 0x1000 : 0;
        unsigned stride = 1, n = 1;
        for (unsigned j = i + 1; j < 512; j++) /* the next wanted entry sets the stride */
            if (want[j] && !done[j]) {
                stride = j - i;
                break;
            }
        while (i + n * stride < 512 && want[i + n * stride] && !done[i + n * stride] &&
               e[i + n * stride] == e[i] + n * step)
            n++;
        if (n == 1)
            stride = 1;
        for (unsigned k = 0; k < n; k++)
            done[i + k * stride] = 1;
        sb_sep(b, &first);
        if (stride == 1)
            sb_printf(b, "[%u,%u,\"%" PRIx64 "\"]", i, n, e[i]);
        else
            sb_printf(b, "[%u,%u,\"%" PRIx64 "\",%u]", i, n, e[i], stride);
    }
    sb_putc(b, ']');
}

struct pt_walk {
    struct mach *mc;
    struct mm_shadow *sh;
    struct pt_rec *nt; /* the new list, in visit order */
    size_t n, cap;
    struct sbuf sets;
    int first, oom;
    uint64_t work;
};

static struct pt_rec *find_table(struct mm_shadow *sh, uint64_t pa)
{
    size_t lo = 0, hi = sh->nt;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sh->t[mid].pa == pa)
            return &sh->t[mid];
        if (sh->t[mid].pa < pa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void note_frame(struct mach *mc, uint64_t pfn, uint64_t count)
{
    if (pfn < mc->nframes && pfn + count > mc->hw)
        mc->hw = pfn + count > mc->nframes ? mc->nframes : pfn + count;
}

static int collect_table(void *arg, const struct vms_pgtable_info *pi)
{
    struct pt_walk *w = arg;
    w->work += 8;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct pt_rec *v = realloc(w->nt, cap * sizeof(*v));
        if (!v) {
            w->oom = 1;
            return 1;
        }
        w->nt = v;
        w->cap = cap;
    }
    note_frame(w->mc, pi->pa >> 12, 1);
    struct pt_rec *old = find_table(w->sh, pi->pa);
    int patch = old && old->level == pi->level && old->va == pi->va && old->e;
    struct pt_rec rec = {.pa = pi->pa, .va = pi->va, .level = pi->level};
    uint8_t want[512];
    int any = !patch; /* a new table is written even when empty */
    if (patch) {
        old->seen = 1;
        rec.e = old->e;
        old->e = NULL;
    } else if (!(rec.e = malloc(512 * sizeof(uint64_t)))) {
        w->oom = 1;
        return 1;
    }
    for (unsigned i = 0; i < 512; i++) {
        want[i] = patch ? rec.e[i] != pi->entries[i] : pi->entries[i] != 0;
        any |= want[i];
    }
    memcpy(rec.e, pi->entries, 512 * sizeof(uint64_t));
    if (pi->level == 1)
        for (unsigned i = 0; i < 512; i++)
            if (rec.e[i] & VMS_PTE_P)
                note_frame(w->mc, VMS_PTE_PFN(rec.e[i]), 1);
    if (any) {
        sb_sep(&w->sets, &w->first);
        sb_printf(&w->sets, "[%" PRIu64 ",%d,%" PRIu64 ",%d,", pi->pa >> 12, pi->level,
                  pi->va >> 12, patch);
        write_runs(&w->sets, rec.e, want);
        sb_putc(&w->sets, ']');
    }
    w->nt[w->n++] = rec;
    return 0;
}

static int by_pa(const void *a, const void *b)
{
    uint64_t x = ((const struct pt_rec *)a)->pa, y = ((const struct pt_rec *)b)->pa;
    return x < y ? -1 : x > y;
}

/* Writes "ts" (tables new or changed: [pfn, level, va page, patch, runs])
 * and "td" (tables gone, by frame). */
static uint64_t diff_tables(struct mach *mc, struct mm_shadow *sh, vms_task *t, struct sbuf *b,
                            int *wrote)
{
    struct pt_walk w = {.mc = mc, .sh = sh, .first = 1};
    for (size_t i = 0; i < sh->nt; i++)
        sh->t[i].seen = 0;
    if (t)
        vms_pgtable_visit(t, collect_table, &w);
    int first_d = 1;
    for (size_t i = 0; i < sh->nt; i++) {
        if (!sh->t[i].seen) {
            if (first_d)
                sb_puts(b, "\"td\":[");
            sb_sep(b, &first_d);
            sb_printf(b, "%" PRIu64, sh->t[i].pa >> 12);
        }
        free(sh->t[i].e);
    }
    if (!first_d)
        sb_putc(b, ']');
    if (!w.first) {
        if (!first_d)
            sb_putc(b, ',');
        sb_puts(b, "\"ts\":[");
        sb_put(b, w.sets.p, w.sets.len);
        sb_putc(b, ']');
    }
    free(sh->t);
    qsort(w.nt, w.n, sizeof(*w.nt), by_pa);
    sh->t = w.nt;
    sh->nt = w.n;
    b->oom |= w.sets.oom | w.oom;
    free(w.sets.p);
    *wrote = !first_d || !w.first;
    return w.work + sh->nt;
}

/* ---- TLBs, CPUs and frames ---- */

struct tlb_walk {
    struct mach *mc;
    unsigned cpu;
    struct tlb_slot *now[VMS_TLB_NLEVELS];
};

static int collect_tlb(void *arg, const struct vms_tlb_entry *e)
{
    struct tlb_walk *w = arg;
    const struct vms_tlb_geometry *g = &w->mc->geo[e->level];
    if (e->set * g->ways + e->way >= g->entries)
        return 0;
    w->now[e->level][e->set * g->ways + e->way] = (struct tlb_slot){
        .vpn = e->vpn, .pfn = e->pfn, .pcid = e->pcid, .valid = 1,
        .bits = (unsigned)(e->writable | e->dirty << 1 | e->exec << 2 | e->pkey_denied << 3 |
                           e->user << 4 | e->global << 5)};
    return 0;
}

static int tlb_same(const struct tlb_slot *a, const struct tlb_slot *b)
{
    if (a->valid != b->valid)
        return 0;
    return !a->valid || (a->vpn == b->vpn && a->pfn == b->pfn && a->pcid == b->pcid &&
                         a->bits == b->bits);
}

/* A signed difference as a number of a string of numbers (zigzag): 2d for
 * d >= 0, -2d - 1 below, so that small steps down stay small. */
static uint64_t zigzag_delta(uint64_t now, uint64_t before)
{
    return now >= before ? (now - before) * 2 : (before - now) * 2 - 1;
}

/* The record before, which a list's next slot is written against. */
struct tlb_list {
    uint64_t slot, vpn, pfn, bits;
};

/* One slot into a list's string of numbers (model_digits): its index less
 * the slot written before it (the first: less 0) times 4, plus 1 when it
 * holds a translation, plus 2 when that translation's bits and PCID are
 * those of the translation written before it (for the list's first: 0);
 * then, for a translation, its vpn and pfn as zigzag differences from the
 * translation before (the first: from 0) and, unless repeated,
 * bits | pcid << 8. Most slots take five or six characters, where decimal
 * numbers with their commas and brackets took about fourteen. */
static void write_tlb_slot(struct sbuf *b, unsigned slot, const struct tlb_slot *n,
                           struct tlb_list *prev)
{
    uint64_t bits = n->bits | (uint64_t)n->pcid << 8;
    unsigned what = !n->valid ? 0 : bits == prev->bits ? 3 : 1;
    write_number(b, (slot - prev->slot) * 4 + what);
    prev->slot = slot;
    if (!n->valid)
        return;
    write_number(b, zigzag_delta(n->vpn, prev->vpn));
    write_number(b, zigzag_delta(n->pfn, prev->pfn));
    if (what == 1)
        write_number(b, bits);
    prev->vpn = n->vpn;
    prev->pfn = n->pfn;
    prev->bits = bits;
}

/* "tlb": [[cpu, level, "slots"], ...]: for each CPU and level whose slots
 * changed, those slots in index order as a string of numbers
 * (write_tlb_slot); bits: 1 writable, 2 dirty, 4 executable, 8 refused by
 * its protection key, 16 user, 32 global. */
static uint64_t diff_tlbs(struct mach *mc, struct sbuf *b, int *wrote)
{
    uint64_t work = 0;
    int first = 1;
    for (unsigned c = 0; c < mc->ncpus; c++) {
        struct tlb_walk w = {.mc = mc, .cpu = c};
        for (int l = 0; l < VMS_TLB_NLEVELS; l++) {
            w.now[l] = calloc(mc->geo[l].entries, sizeof(struct tlb_slot));
            if (!w.now[l])
                b->oom = 1;
        }
        if (!b->oom)
            vms_tlb_visit(mc->m, c, collect_tlb, &w);
        for (int l = 0; l < VMS_TLB_NLEVELS && !b->oom; l++) {
            struct tlb_list prev = {0}; /* slots are written as differences from these */
            int first_slot = 1;
            for (unsigned s = 0; s < mc->geo[l].entries; s++) {
                const struct tlb_slot *o = &mc->tlb[c][l][s], *n = &w.now[l][s];
                if (tlb_same(o, n))
                    continue;
                if (first_slot) {
                    if (first)
                        sb_puts(b, "\"tlb\":[");
                    sb_sep(b, &first);
                    sb_printf(b, "[%u,%d,\"", c, l);
                }
                first_slot = 0;
                if (n->valid)
                    note_frame(mc, n->pfn, 1);
                write_tlb_slot(b, s, n, &prev);
            }
            if (!first_slot)
                sb_puts(b, "\"]");
            work += mc->geo[l].entries / 64;
        }
        for (int l = 0; l < VMS_TLB_NLEVELS; l++) {
            if (w.now[l]) {
                free(mc->tlb[c][l]);
                mc->tlb[c][l] = w.now[l];
            }
        }
    }
    if (!first)
        sb_putc(b, ']');
    *wrote = !first;
    return work;
}

static uint64_t diff_cpus(struct mach *mc, struct sbuf *b, int *wrote)
{
    int first = 1;
    for (unsigned c = 0; c < mc->ncpus; c++) {
        struct vms_cpu_info ci;
        if (vms_cpu_info(mc->m, c, &ci))
            continue;
        const struct vms_cpu_info *was = &mc->cpu[c];
        if (ci.pid == was->pid && ci.pcid == was->pcid && ci.cr3_pa == was->cr3_pa &&
            ci.lazy == was->lazy)
            continue;
        mc->cpu[c] = ci;
        if (first)
            sb_puts(b, "\"cpu\":[");
        sb_sep(b, &first);
        sb_printf(b, "[%u,%d,%u,%" PRIu64 ",%d]", c, ci.pid, ci.pcid, ci.cr3_pa >> 12, ci.lazy);
    }
    if (!first)
        sb_putc(b, ']');
    *wrote = !first;
    return mc->ncpus;
}

static int frame_same(const struct frame_rec *a, const struct frame_rec *b)
{
    return a->owner == b->owner && a->flags == b->flags && a->mapcount == b->mapcount &&
           a->refcount == b->refcount;
}

static struct frame_rec frame_now(vms_machine *m, uint64_t pfn)
{
    struct vms_frame_info fi;
    if (vms_frame_info(m, pfn, &fi))
        return (struct frame_rec){0};
    return (struct frame_rec){
        .owner = (uint8_t)fi.owner, .mapcount = fi.mapcount, .refcount = fi.refcount,
        .flags = (uint8_t)(fi.dirty | fi.active << 1 | fi.lru << 2 | fi.referenced << 3 |
                           fi.unevictable << 4 | fi.mlocked << 5 | fi.swapcache << 6)};
}

/* "fr": runs of frames that changed, [pfn, count, owner, mapcount, refcount, flags]. */
static uint64_t diff_frames(struct mach *mc, struct sbuf *b, int *wrote)
{
    int first = 1;
    uint64_t pfn = 0;
    while (pfn < mc->hw) {
        struct frame_rec now = frame_now(mc->m, pfn);
        if (frame_same(&now, &mc->frames[pfn])) {
            pfn++;
            continue;
        }
        uint64_t n = 0;
        for (; pfn + n < mc->hw; n++) {
            struct frame_rec f = n ? frame_now(mc->m, pfn + n) : now;
            if (!frame_same(&f, &now) || frame_same(&f, &mc->frames[pfn + n]))
                break;
            mc->frames[pfn + n] = f;
        }
        if (first)
            sb_puts(b, "\"fr\":[");
        sb_sep(b, &first);
        sb_printf(b, "[%" PRIu64 ",%" PRIu64 ",%u,%d,%d,%u]", pfn, n, now.owner, now.mapcount,
                  now.refcount, now.flags);
        pfn += n;
    }
    if (!first)
        sb_putc(b, ']');
    *wrote = !first;
    return mc->hw / 32;
}

/* ---- a whole state ---- */

static struct mm_shadow *find_mm(struct mach *mc, int key)
{
    for (size_t i = 0; i < mc->nmms; i++)
        if (mc->mms[i].key == key)
            return &mc->mms[i];
    return NULL;
}

static struct mm_shadow *add_mm(struct mach *mc, int key)
{
    struct mm_shadow *v = realloc(mc->mms, (mc->nmms + 1) * sizeof(*v));
    if (!v)
        return NULL;
    mc->mms = v;
    v[mc->nmms] = (struct mm_shadow){.key = key};
    return &v[mc->nmms++];
}

static void free_mm(struct mm_shadow *sh)
{
    free(sh->v);
    for (size_t i = 0; i < sh->nt; i++)
        free(sh->t[i].e);
    free(sh->t);
}

static int tasks_same(const struct mach *mc, const struct task_walk *w)
{
    if (mc->ntasks != w->n)
        return 0;
    return w->n == 0 || memcmp(mc->tasks, w->v, w->n * sizeof(*w->v)) == 0;
}

/* One address space's VMAs and tables: "KEY":{...} when anything changed. */
static uint64_t diff_mm(struct report *r, struct mach *mc, struct mm_shadow *sh, vms_task *t,
                        struct sbuf *b, int *first_mm)
{
    struct vma_walk vw = {.r = r};
    if (t)
        vms_vma_visit(t, collect_vma, &vw);
    struct sbuf part = {0};
    int wrote_v = 0, wrote_t = 0;
    uint64_t work = diff_vmas(&part, sh->v, sh->nv, vw.v, vw.n, &wrote_v);
    struct sbuf tables = {0};
    work += diff_tables(mc, sh, t, &tables, &wrote_t);
    if (wrote_v || wrote_t) {
        sb_sep(b, first_mm);
        sb_printf(b, "\"%d\":{", sh->key);
        sb_put(b, part.p, part.len);
        if (wrote_v && wrote_t)
            sb_putc(b, ',');
        sb_put(b, tables.p, tables.len);
        sb_putc(b, '}');
    }
    b->oom |= part.oom | tables.oom | vw.oom;
    free(part.p);
    free(tables.p);
    free(sh->v);
    sh->v = vw.v;
    sh->nv = vw.n;
    return work;
}

/* The state's diff against the last one, as "d":{...} (nothing when equal).
 * Returns the work it took, in units of about one VMA looked at. */
static uint64_t take_state(struct report *r, struct mach *mc, struct sbuf *b)
{
    struct task_walk tw = {0};
    vms_task_visit(mc->m, collect_task, &tw);
    struct sbuf d = {0};
    int first = 1;
    uint64_t work = tw.n;
    if (!tasks_same(mc, &tw)) {
        sb_sep(&d, &first);
        sb_puts(&d, "\"tasks\":[");
        for (size_t i = 0; i < tw.n; i++)
            sb_printf(&d, "%s[%d,%d]", i ? "," : "", tw.v[i].pid, tw.v[i].key);
        sb_putc(&d, ']');
        free(mc->tasks);
        mc->tasks = tw.v;
        mc->ntasks = tw.n;
        tw.v = NULL;
    }
    free(tw.v);
    /* Address spaces: one per key; a key no task has any more is gone. */
    for (size_t i = 0; i < mc->ntasks; i++) {
        if (mc->tasks[i].pid == mc->tasks[i].key && !find_mm(mc, mc->tasks[i].key) &&
            !add_mm(mc, mc->tasks[i].key))
            d.oom = 1;
    }
    struct sbuf mms = {0};
    int first_mm = 1, first_gone = 1;
    struct sbuf gone = {0};
    for (size_t i = 0; i < mc->nmms;) {
        struct mm_shadow *sh = &mc->mms[i];
        vms_task *t = NULL;
        for (size_t k = 0; k < mc->ntasks; k++)
            if (mc->tasks[k].key == sh->key && mc->tasks[k].pid == sh->key)
                t = task_of(mc->m, sh->key);
        if (!t) {
            sb_sep(&gone, &first_gone);
            sb_printf(&gone, "%d", sh->key);
            free_mm(sh);
            mc->mms[i] = mc->mms[--mc->nmms];
            continue;
        }
        work += diff_mm(r, mc, sh, t, &mms, &first_mm);
        i++;
    }
    if (!first_mm) {
        sb_sep(&d, &first);
        sb_puts(&d, "\"mm\":{");
        sb_put(&d, mms.p, mms.len);
        sb_putc(&d, '}');
    }
    if (!first_gone) {
        sb_sep(&d, &first);
        sb_puts(&d, "\"mmdel\":[");
        sb_put(&d, gone.p, gone.len);
        sb_putc(&d, ']');
    }
    struct sbuf part = {0};
    int wrote = 0;
    work += diff_tlbs(mc, &part, &wrote);
    if (wrote) {
        sb_sep(&d, &first);
        sb_put(&d, part.p, part.len);
    }
    part.len = 0;
    work += diff_cpus(mc, &part, &wrote);
    if (wrote) {
        sb_sep(&d, &first);
        sb_put(&d, part.p, part.len);
    }
    part.len = 0;
    work += diff_frames(mc, &part, &wrote);
    if (wrote) {
        sb_sep(&d, &first);
        sb_put(&d, part.p, part.len);
    }
    sb_sep(&d, &first);
    sb_printf(&d, "\"hw\":%" PRIu64, mc->hw);
    sb_puts(b, ",\"d\":{");
    sb_put(b, d.p, d.len);
    sb_putc(b, '}');
    b->oom |= d.oom | mms.oom | gone.oom | part.oom;
    free(d.p);
    free(mms.p);
    free(gone.p);
    free(part.p);
    mc->unsnapped = 0;
    return work;
}

/* ---- machines ---- */

static struct mach *find_mach(struct report *r, vms_machine *m)
{
    for (size_t i = 0; i < r->nmachines; i++)
        if (r->machines[i]->m == m)
            return r->machines[i];
    return NULL;
}

/* The highest frame in use now: one walk over the frames, at the start. */
static uint64_t first_hw(vms_machine *m, uint64_t nframes)
{
    uint64_t hw = 0;
    struct vms_frame_info fi;
    for (uint64_t pfn = 0; pfn < nframes; pfn++) {
        if (vms_frame_info(m, pfn, &fi) == 0 && fi.owner == VMS_FRAME_FREE) {
            pfn = fi.head + (1ULL << fi.order) - 1; /* skip the free block */
            continue;
        }
        hw = pfn + 1;
    }
    return hw;
}

static void write_config(struct mach *mc)
{
    struct sbuf *b = &mc->config;
    sb_printf(b, "{\"number\":%u,\"ncpus\":%u,\"frames\":%" PRIu64 ",\"tlb\":[", mc->number,
              mc->ncpus, mc->nframes);
    for (int l = 0; l < VMS_TLB_NLEVELS; l++)
        sb_printf(b, "%s{\"name\":\"%s\",\"entries\":%u,\"ways\":%u}", l ? "," : "",
                  vms_tlb_level_name((enum vms_tlb_level)l), mc->geo[l].entries, mc->geo[l].ways);
    sb_puts(b, "]}");
}

static void step_begin(struct report *r, struct mach *mc);
static void step_close(struct report *r, int force_state);

int report_machine_begin(struct report *r, vms_machine *m, unsigned number)
{
    if (find_mach(r, m))
        return 0;
    struct mach *mc = calloc(1, sizeof(*mc));
    struct mach **v = realloc(r->machines, (r->nmachines + 1) * sizeof(*v));
    if (!mc || !v) {
        free(mc);
        if (v)
            r->machines = v;
        r->oom = 1;
        return -ENOMEM;
    }
    r->machines = v;
    mc->m = m;
    mc->number = number;
    mc->ncpus = vms_cpu_count(m);
    mc->nframes = vms_frame_count(m);
    mc->frames = calloc(mc->nframes, sizeof(*mc->frames));
    for (int l = 0; l < VMS_TLB_NLEVELS; l++)
        vms_tlb_geometry(m, (enum vms_tlb_level)l, &mc->geo[l]);
    for (unsigned c = 0; c < mc->ncpus && mc->frames; c++) {
        mc->cpu[c].pid = -1;
        for (int l = 0; l < VMS_TLB_NLEVELS; l++)
            if (!(mc->tlb[c][l] = calloc(mc->geo[l].entries, sizeof(struct tlb_slot))))
                r->oom = 1;
    }
    if (!mc->frames)
        r->oom = 1;
    r->machines[r->nmachines++] = mc;
    if (r->oom)
        return -ENOMEM;
    mc->hw = first_hw(m, mc->nframes);
    write_config(mc);
    counters_of(m, mc->counters);
    /* Its first state goes with the step of the call that made it. */
    mc->need_state = 1;
    return 0;
}

/* ---- steps ---- */

static void step_begin(struct report *r, struct mach *mc)
{
    struct open_step *s = &r->cur;
    s->open = 1;
    s->mc = mc;
    s->calls = 0;
    s->failed = 0;
    s->first_call = r->ncalls + 1;
    s->text[0] = '\0';
    s->nnames = 0;
    s->events.len = 0;
    s->nevents_kept = 0;
    memset(s->ev_count, 0, sizeof(s->ev_count));
}

static void write_step_text(struct open_step *s, struct sbuf *b)
{
    if (s->calls <= 1) {
        sb_json_string(b, s->text);
        return;
    }
    char text[1024];
    int n = snprintf(text, sizeof(text), "calls %lu-%lu:", s->first_call,
                     s->first_call + s->calls - 1);
    for (unsigned i = 0; i < s->nnames && n > 0 && (size_t)n < sizeof(text); i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s %s x %u", i ? "," : "",
                      s->names[i].name, s->names[i].count);
    sb_json_string(b, text);
}

/* Writes the open step; takes a state when forced or when the machine's
 * credit pays for one. */
static void step_close(struct report *r, int force_state)
{
    struct open_step *s = &r->cur;
    if (!s->open)
        return;
    s->open = 0;
    struct mach *mc = s->mc;
    struct sbuf *b = &r->steps;
    if (r->nsteps)
        sb_putc(b, ',');
    r->nsteps++;
    sb_printf(b, "{\"m\":%u,\"n\":", mc->number);
    sb_json_string(b, s->nnames == 1 ? s->names[0].name : s->nnames ? "calls" : "");
    sb_puts(b, ",\"c\":");
    write_step_text(s, b);
    if (s->calls > 1)
        sb_printf(b, ",\"g\":%u", s->calls);
    if (s->failed)
        sb_printf(b, ",\"f\":%u", s->failed);
    if (s->events.len) {
        sb_puts(b, ",\"e\":[");
        sb_put(b, s->events.p, s->events.len);
        sb_putc(b, ']');
    }
    int first = 1;
    for (int k = 0; k <= NR_EVENT_KINDS; k++) {
        if (!s->ev_count[k])
            continue;
        sb_puts(b, first ? ",\"ec\":{" : ",");
        first = 0;
        sb_printf(b, "\"%s\":%" PRIu64, vms_event_name((enum vms_event_kind)k), s->ev_count[k]);
    }
    if (!first)
        sb_putc(b, '}');
    if (mc->m) {
        uint64_t now[NR_COUNTERS];
        counters_of(mc->m, now);
        if (memcmp(now, mc->counters, sizeof(now)) != 0) {
            sb_puts(b, ",\"k\":[");
            for (int k = 0; k < NR_COUNTERS; k++)
                sb_printf(b, "%s%" PRIu64, k ? "," : "", now[k]);
            sb_putc(b, ']');
            memcpy(mc->counters, now, sizeof(now));
        }
        if (force_state || mc->need_state || mc->credit >= mc->last_cost) {
            mc->need_state = 0;
            /* The calls since the last state pay for this one: the work
             * per call stays bounded however large the state. */
            mc->last_cost = take_state(r, mc, b);
            mc->credit = 0;
        }
    }
    sb_putc(b, '}');
}

void report_set_current(struct report *r, vms_machine *m)
{
    r->current = m ? find_mach(r, m) : NULL;
}

void report_event(struct report *r, const struct vms_event *ev)
{
    struct mach *mc = r->current;
    if (!mc || !mc->m)
        return;
    if (ev->kind == VMS_EV_FRAME_ALLOC)
        note_frame(mc, ev->pa >> 12, 1ULL << (ev->level > 0 && ev->level < 11 ? ev->level : 0));
    else if (ev->kind == VMS_EV_PGTABLE_ALLOC)
        note_frame(mc, ev->pa >> 12, 1);
    if (r->cur.open && r->cur.mc != mc)
        step_close(r, 0); /* another machine's step is done */
    if (!r->cur.open)
        step_begin(r, mc); /* events before the call's end: its step */
    struct open_step *s = &r->cur;
    /* A reclaim pass's begin and end are kept past a step's share: the
     * reclaim lane tells kswapd from direct reclaim by them. */
    int pass = ev->kind == VMS_EV_RECLAIM_BEGIN || ev->kind == VMS_EV_RECLAIM_END;
    if (r->event_lines < REPORT_EVENT_LINES &&
        (s->nevents_kept < REPORT_STEP_EVENT_LINES || pass)) {
        char line[512];
        int n = vms_event_format(ev, line, sizeof(line));
        if (n >= 0) {
            if (s->events.len)
                sb_putc(&s->events, ',');
            sb_printf(&s->events, "[%d,", (int)ev->kind);
            sb_json_string(&s->events, line);
            sb_putc(&s->events, ']');
            s->nevents_kept++;
            r->event_lines++;
            return;
        }
    }
    s->ev_count[(unsigned)ev->kind < NR_EVENT_KINDS ? (unsigned)ev->kind : NR_EVENT_KINDS]++;
}

static void step_add_name(struct open_step *s, const char *name)
{
    for (unsigned i = 0; i < s->nnames; i++)
        if (strcmp(s->names[i].name, name) == 0) {
            s->names[i].count++;
            return;
        }
    if (s->nnames < 8)
        s->names[s->nnames++] = (struct step_name){name, 1};
}

void report_call(struct report *r, vms_machine *m, const char *name, const char *text, int failed)
{
    struct mach *mc = m ? find_mach(r, m) : NULL;
    if (!mc || !mc->m)
        return;
    r->ncalls++;
    mc->credit += REPORT_CREDIT_PER_CALL;
    mc->unsnapped++;
    if (r->cur.open && r->cur.mc != mc)
        step_close(r, 0);
    if (!r->cur.open)
        step_begin(r, mc);
    struct open_step *s = &r->cur;
    s->calls++;
    s->failed += failed != 0;
    uint32_t id = intern(r, name); /* a copy the report keeps */
    step_add_name(s, r->oom ? "call" : r->names[id]);
    if (s->calls == 1)
        snprintf(s->text, sizeof(s->text), "%s", text);
    int grouping = r->ncalls > REPORT_DETAILED_CALLS;
    if (!grouping || s->calls >= REPORT_GROUP_CALLS)
        step_close(r, 0);
}

void report_note(struct report *r, const char *text)
{
    struct mach *mc = r->cur.open ? r->cur.mc : r->nmachines ? r->machines[r->nmachines - 1] : NULL;
    if (!mc)
        return;
    step_close(r, 0);
    step_begin(r, mc);
    snprintf(r->cur.text, sizeof(r->cur.text), "%s", text);
    r->cur.failed = 1;
    step_close(r, 0);
}

void report_machine_end(struct report *r, vms_machine *m)
{
    struct mach *mc = find_mach(r, m);
    if (!mc)
        return;
    if (r->cur.open && r->cur.mc == mc) {
        step_close(r, mc->unsnapped > 0);
    } else if (mc->unsnapped) {
        step_close(r, 0);
        step_begin(r, mc);
        snprintf(r->cur.text, sizeof(r->cur.text), "machine %u: its last state", mc->number);
        step_close(r, 1);
    }
    if (r->current == mc)
        r->current = NULL;
    mc->m = NULL;
}

/* ---- the model ---- */

struct report *report_new(const char *title)
{
    struct report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->title = strdup(title ? title : "vmsim");
    if (!r->title) {
        free(r);
        return NULL;
    }
    intern(r, ""); /* name 0: no name */
    return r;
}

static void free_mach(struct mach *mc)
{
    free(mc->tasks);
    for (size_t i = 0; i < mc->nmms; i++)
        free_mm(&mc->mms[i]);
    free(mc->mms);
    for (unsigned c = 0; c < VMS_MAX_CPUS; c++)
        for (int l = 0; l < VMS_TLB_NLEVELS; l++)
            free(mc->tlb[c][l]);
    free(mc->frames);
    free(mc->config.p);
    free(mc);
}

void report_free(struct report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nmachines; i++)
        free_mach(r->machines[i]);
    free(r->machines);
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r->name_index);
    free(r->steps.p);
    free(r->cur.events.p);
    free(r->title);
    free(r);
}

static void write_model(struct report *r, struct sbuf *b)
{
    step_close(r, 0);
    sb_puts(b, "{\"v\":3,\"generator\":\"vmsim " VMSIM_VERSION "\",\"title\":");
    sb_json_string(b, r->title);
    sb_puts(b, ",\"counters\":[");
    for (int k = 0; k < NR_COUNTERS; k++)
        sb_printf(b, "%s\"%s\"", k ? "," : "", counter_names[k]);
    sb_puts(b, "],\"events\":[");
    for (int k = 0; k < NR_EVENT_KINDS; k++)
        sb_printf(b, "%s\"%s\"", k ? "," : "", vms_event_name((enum vms_event_kind)k));
    sb_puts(b, "],\"vma_kinds\":[");
    for (int k = 0; k < VMS_VMA_NKINDS; k++)
        sb_printf(b, "%s\"%s\"", k ? "," : "", vms_vma_kind_name((enum vms_vma_kind)k));
    sb_puts(b, "],\"owners\":[");
    for (int k = 0; k < VMS_FRAME_NOWNERS; k++)
        sb_printf(b, "%s\"%s\"", k ? "," : "", vms_frame_owner_name((enum vms_frame_owner)k));
    sb_printf(b, "],\"calls\":%lu,\"names\":[", r->ncalls);
    for (size_t i = 0; i < r->nnames; i++) {
        if (i)
            sb_putc(b, ',');
        sb_json_string(b, r->names[i]);
    }
    sb_puts(b, "],\"machines\":[");
    for (size_t i = 0; i < r->nmachines; i++) {
        if (i)
            sb_putc(b, ',');
        sb_put(b, r->machines[i]->config.p ? r->machines[i]->config.p : "{}",
               r->machines[i]->config.p ? r->machines[i]->config.len : 2);
    }
    sb_puts(b, "],\"steps\":[");
    sb_put(b, r->steps.p ? r->steps.p : "", r->steps.len);
    sb_puts(b, "]}");
}

int report_write_json(struct report *r, FILE *out)
{
    struct sbuf b = {0};
    write_model(r, &b);
    int bad = b.oom || r->oom || r->steps.oom;
    if (!bad)
        fwrite(b.p, 1, b.len, out);
    free(b.p);
    if (bad)
        return -ENOMEM;
    return ferror(out) ? -EIO : 0;
}

/* The template's one marker for each asset. */
void report_fill_template(FILE *out, const char *tpl, const char *js, const char *model, size_t len)
{
    static const struct { const char *mark; int which; } marks[] = {
        {"/*@CSS@*/", 0}, {"/*@JS@*/", 1}, {"/*@MODEL@*/", 2}};
    const char *p = tpl;
    for (;;) {
        const char *next = NULL;
        int which = -1;
        size_t mlen = 0;
        for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
            const char *q = strstr(p, marks[i].mark);
            if (q && (!next || q < next)) {
                next = q;
                which = marks[i].which;
                mlen = strlen(marks[i].mark);
            }
        }
        if (!next) {
            fputs(p, out);
            return;
        }
        fwrite(p, 1, (size_t)(next - p), out);
        if (which == 0)
            fputs(report_asset_css, out);
        else if (which == 1)
            fputs(js, out);
        else
            fwrite(model, 1, len, out);
        p = next + mlen;
    }
}

int report_write_html(struct report *r, FILE *out)
{
    struct sbuf b = {0};
    write_model(r, &b);
    int bad = b.oom || r->oom || r->steps.oom;
    if (!bad)
        report_fill_template(out, report_asset_html, report_asset_js, b.p, b.len);
    free(b.p);
    if (bad)
        return -ENOMEM;
    return ferror(out) ? -EIO : 0;
}

int report_save_html(struct report *r, const char *path, const char *who)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        int err = errno;
        fprintf(stderr, "%s: cannot write %s: %s\n", who, path, strerror(err));
        return -err;
    }
    int rc = report_write_html(r, f);
    if (fclose(f) != 0 && !rc)
        rc = -EIO;
    if (rc) {
        fprintf(stderr, "%s: cannot write %s: %s\n", who, path, strerror(-rc));
        remove(path);
    }
    return rc;
}
