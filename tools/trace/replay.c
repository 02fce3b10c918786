/*
 * replay.c - a .vmt trace on a vmsim machine (docs/traces.md, "Replay").
 *
 * A recorded program first gets its exec image (vms_execve of the recorded
 * path and argv, config.root "/"), so its program, loader, stack and heap
 * sit where Linux puts them. The trace's addresses are those of the traced
 * run, which Valgrind laid out its own way: the segments of that starting
 * image (VMT_SEGMENT records) give, per file and for the stack and the
 * brk area, the distance from the traced place to vmsim's, and every
 * address in them is moved by it. Memory the program mapped itself is
 * made at the traced address (MAP_FIXED_NOREPLACE at the recorded
 * result). A trace without mm calls gets an anonymous VMA for each
 * region it touches first: the 2 MiB-aligned block around the address (the
 * span of one page table), cut to the free gap it lies in.
 */
#include "replay.h"
#include "vmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096ull
#define MADE_BLOCK (2ull << 20)
#define NOTES_MAX 8 /* notes of one kind printed before they are only counted */

struct reloc {
    uint64_t start, end; /* traced addresses */
    int64_t delta;       /* added to reach vmsim's */
};

struct interval {
    uint64_t start, end;
    size_t region;
};

struct named_mmap { /* an anonymous mmap the trace made, for naming its VMA */
    uint64_t start, end;
};

struct named_range { /* without the exec image: the traced stack and brk areas */
    uint64_t start, end;
    const char *name;
};

struct replay {
    const struct vmt_replay_opts *o;
    struct vmt_replay_result *res;
    const struct vmt_header *h;
    vms_machine *m;
    vms_task *t;
    const char *exec_path;
    struct reloc *relocs;
    size_t nrelocs;
    size_t last_reloc;       /* the range the last relocated address fell in */
    int relocs_disjoint;     /* no two ranges overlap */
    struct vmt_record *segs; /* the starting image, until it is set up */
    size_t nsegs;
    int set_up;
    struct interval *iv;     /* the VMAs, sorted, with their regions */
    size_t niv;
    int iv_stale;
    size_t last_iv;
    struct named_mmap *anon;
    size_t nanon;
    struct named_range named[2];
    size_t nnamed;
    char **paths;            /* files opened for mmap, and their descriptors */
    int *fds;
    size_t npaths;
    uint64_t brk_now;        /* without exec: the brk area mapped so far */
    uint64_t brk_base;
    unsigned notes[4];       /* notes printed, by kind */
    struct vms_cpu_stats cpu_before;
    uint64_t min_before, maj_before;
    uint64_t next_sample, sample_every;
    size_t unmapped;         /* the region of accesses outside every VMA */
    unsigned char *buf;      /* loads land here; stores write its zeros */
};

enum note_kind { NOTE_MADE, NOTE_DIFFER, NOTE_SIGNAL, NOTE_OTHER };

static void note(struct replay *r, enum note_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct replay *r, enum note_kind k, const char *fmt, ...)
{
    if (!r->o->notes || r->notes[k]++ >= NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("replay: ", r->o->notes);
    vfprintf(r->o->notes, fmt, ap);
    fputc('\n', r->o->notes);
    va_end(ap);
}

void vmt_replay_opts_init(struct vmt_replay_opts *o)
{
    memset(o, 0, sizeof(*o));
    vms_config_init(&o->config);
    o->config.ncpus = 1;
    o->samples = 64;
}

void vmt_replay_cpu_total(const struct vmt_replay_result *res, struct vms_cpu_stats *sum)
{
    *sum = (struct vms_cpu_stats){0};
    uint64_t *s = (uint64_t *)sum; /* every field is a uint64_t counter */
    for (unsigned c = 0; c < res->stats.ncpus; c++) {
        const uint64_t *p = (const uint64_t *)&res->stats.cpu[c];
        for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
            s[i] += p[i];
    }
}

void vmt_replay_result_free(struct vmt_replay_result *res)
{
    free(res->regions);
    free(res->samples);
    free(res->region_samples);
    if (res->has_lru)
        lru_free(&res->lru);
    memset(res, 0, sizeof(*res));
}

/* ---- addresses ---- */

/* The first range holding a moves it. Consecutive accesses mostly fall in
 * the range the last one did: when no two ranges overlap, that one is the
 * only one that can hold a, so it is tried first. */
static uint64_t relocate(struct replay *r, uint64_t a)
{
    if (r->relocs_disjoint && r->last_reloc < r->nrelocs) {
        const struct reloc *last = &r->relocs[r->last_reloc];
        if (a >= last->start && a < last->end)
            return a + (uint64_t)last->delta;
    }
    for (size_t i = 0; i < r->nrelocs; i++)
        if (a >= r->relocs[i].start && a < r->relocs[i].end) {
            r->last_reloc = i;
            return a + (uint64_t)r->relocs[i].delta;
        }
    return a;
}

static int add_reloc(struct replay *r, uint64_t start, uint64_t end, int64_t delta)
{
    struct reloc *n = realloc(r->relocs, (r->nrelocs + 1) * sizeof(*n));
    if (!n)
        return -1;
    r->relocs = n;
    if (r->nrelocs == 0)
        r->relocs_disjoint = 1;
    for (size_t i = 0; i < r->nrelocs; i++)
        if (start < n[i].end && n[i].start < end)
            r->relocs_disjoint = 0;
    r->relocs[r->nrelocs++] = (struct reloc){start, end, delta};
    return 0;
}

/* ---- the VMAs and their regions ---- */

struct vma_line {
    uint64_t start, end, offset;
    char perms[5];
    char path[VMT_PATH_MAX + 1];
};

/* vms_maps' lines into an array; n lines, or -1. */
static long read_maps(vms_task *t, struct vma_line **out)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return -1;
    int rc = vms_maps(t, f);
    fclose(f);
    if (rc < 0) {
        free(text);
        return -1;
    }
    long n = 0, cap = 0;
    struct vma_line *v = NULL;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            struct vma_line *nv = realloc(v, (size_t)cap * sizeof(*nv));
            if (!nv) {
                free(v);
                free(text);
                return -1;
            }
            v = nv;
        }
        struct vma_line *l = &v[n];
        int at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*u %n", &l->start, &l->end,
                   l->perms, &l->offset, &at) < 4)
            continue;
        snprintf(l->path, sizeof(l->path), "%s", at ? line + at : "");
        n++;
    }
    free(text);
    *out = v;
    return n;
}

static size_t region_index(struct replay *r, const char *name)
{
    struct vmt_replay_result *res = r->res;
    for (size_t i = 0; i < res->nregions; i++)
        if (strcmp(res->regions[i].name, name) == 0)
            return i;
    struct vmt_region *n = realloc(res->regions, (res->nregions + 1) * sizeof(*n));
    if (!n)
        return SIZE_MAX;
    res->regions = n;
    memset(&n[res->nregions], 0, sizeof(*n));
    snprintf(n[res->nregions].name, VMT_REGION_NAME, "%s", name);
    return res->nregions++;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Whether a file is mapped with execute permission somewhere: a program or
 * a library, whose loader puts its bss right after its last file mapping.
 * A data file (a locale archive) has no bss: memory after it is an mmap's. */
static int file_is_code(const struct vma_line *maps, long n, const char *path)
{
    for (long i = 0; i < n; i++)
        if (strchr(maps[i].perms, 'x') && strcmp(maps[i].path, path) == 0)
            return 1;
    return 0;
}

/* The region of maps[i], by the rules of docs/traces.md. */
static void name_vma(const struct replay *r, const struct vma_line *maps, long n, long i,
                     char *name, size_t len)
{
    const struct vma_line *v = &maps[i], *prev = i ? &maps[i - 1] : NULL;
    const char *p = v->path;
    if (p[0] == '/' && r->exec_path && strcmp(p, r->exec_path) == 0) {
        snprintf(name, len, "%s", strchr(v->perms, 'x') ? "text" : "data");
        return;
    }
    if (p[0]) {
        snprintf(name, len, "%.63s", strcmp(p, "[heap]") == 0 ? "heap" : strcmp(p, "[stack]") == 0 ? "stack"
                                     : p[0] == '[' ? "vdso" : base_name(p));
        return;
    }
    for (size_t i = 0; i < r->nnamed; i++) /* the traced stack and brk areas, without exec */
        if (v->start >= r->named[i].start && v->start < r->named[i].end) {
            snprintf(name, len, "%s", r->named[i].name);
            return;
        }
    if (prev && prev->end == v->start && prev->path[0] == '/' && file_is_code(maps, n, prev->path)) {
        snprintf(name, len, "%.63s", r->exec_path && strcmp(prev->path, r->exec_path) == 0
                                         ? "bss" : base_name(prev->path));
        return;
    }
    uint64_t at = v->start;
    for (size_t i = r->nanon; i-- > 0;)
        if (v->start < r->anon[i].end && r->anon[i].start < v->end) {
            at = r->anon[i].start;
            break;
        }
    snprintf(name, len, "mmap@0x%" PRIx64, at);
}

static int rebuild_intervals(struct replay *r)
{
    struct vma_line *v = NULL;
    long n = read_maps(r->t, &v);
    if (n < 0)
        return -1;
    struct interval *iv = realloc(r->iv, (size_t)(n ? n : 1) * sizeof(*iv));
    if (!iv) {
        free(v);
        return -1;
    }
    r->iv = iv;
    for (long i = 0; i < n; i++) {
        char name[VMT_REGION_NAME];
        name_vma(r, v, n, i, name, sizeof(name));
        iv[i] = (struct interval){v[i].start, v[i].end, region_index(r, name)};
    }
    r->niv = (size_t)n;
    r->iv_stale = 0;
    r->last_iv = 0;
    free(v);
    return 0;
}

/* The interval holding a, or NULL. */
static const struct interval *find_interval(struct replay *r, uint64_t a)
{
    if (r->iv_stale)
        rebuild_intervals(r);
    if (r->last_iv < r->niv && a >= r->iv[r->last_iv].start && a < r->iv[r->last_iv].end)
        return &r->iv[r->last_iv];
    size_t lo = 0, hi = r->niv;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a < r->iv[mid].start)
            hi = mid;
        else if (a >= r->iv[mid].end)
            lo = mid + 1;
        else
            return &r->iv[r->last_iv = mid];
    }
    return NULL;
}

static size_t region_of(struct replay *r, uint64_t a)
{
    const struct interval *iv = find_interval(r, a);
    if (!iv) { /* the stack may have grown under the access: look again */
        r->iv_stale = 1;
        iv = find_interval(r, a);
    }
    return iv ? iv->region : region_index(r, "unmapped");
}

/* ---- memory for traces without mm calls ---- */

static void make_vma(struct replay *r, uint64_t a)
{
    uint64_t lo = a & ~(MADE_BLOCK - 1), hi = lo + MADE_BLOCK;
    for (size_t i = 0; i < r->niv; i++) { /* cut to the gap around a */
        if (r->iv[i].end <= a && r->iv[i].end > lo)
            lo = r->iv[i].end;
        if (r->iv[i].start > a && r->iv[i].start < hi)
            hi = r->iv[i].start;
    }
    int64_t got = vms_mmap(r->t, lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got < 0) {
        note(r, NOTE_OTHER, "cannot map 0x%" PRIx64 "-0x%" PRIx64 " for an access at 0x%" PRIx64
             ": %s", lo, hi, a, strerror((int)-got));
        return;
    }
    r->res->vmas_made++;
    note(r, NOTE_MADE, "no mm call made 0x%" PRIx64 ": an anonymous VMA 0x%" PRIx64 "-0x%" PRIx64
         " (rwx) for it", a, lo, hi);
    struct named_mmap *n = realloc(r->anon, (r->nanon + 1) * sizeof(*n));
    if (n) {
        r->anon = n;
        r->anon[r->nanon++] = (struct named_mmap){lo, hi};
    }
    r->iv_stale = 1;
}

static void ensure_mapped(struct replay *r, uint64_t a, uint32_t size)
{
    for (uint64_t p = a & ~(PAGE - 1); p < a + size && p >= (a & ~(PAGE - 1)); p += PAGE)
        if (!find_interval(r, p))
            make_vma(r, p);
}

/* ---- the starting image ---- */

static int path_fd(struct replay *r, const char *path)
{
    for (size_t i = 0; i < r->npaths; i++)
        if (strcmp(r->paths[i], path) == 0)
            return r->fds[i];
    int fd = vms_open(r->t, path, O_RDONLY, 0);
    char **np = realloc(r->paths, (r->npaths + 1) * sizeof(*np));
    if (np)
        r->paths = np;
    int *nf = np ? realloc(r->fds, (r->npaths + 1) * sizeof(*nf)) : NULL;
    if (nf) {
        r->fds = nf;
        r->paths[r->npaths] = strdup(path);
        if (r->paths[r->npaths])
            r->fds[r->npaths++] = fd;
    }
    return fd;
}

static int do_exec(struct replay *r)
{
    const struct vmt_meta *meta = &r->h->meta;
    size_t argc = 0;
    for (size_t i = 0; i < meta->n; i++)
        argc += strcmp(meta->key[i], "argv") == 0;
    char **argv = calloc(argc + 1, sizeof(*argv));
    if (!argv)
        return -ENOMEM;
    for (size_t i = 0, k = 0; i < meta->n; i++)
        if (strcmp(meta->key[i], "argv") == 0)
            argv[k++] = meta->value[i];
    int rc = vms_execve(r->t, r->exec_path, argv, NULL);
    free(argv);
    return rc;
}

/* A traced segment of a file moves by the distance between the file's two
 * load biases (address minus file offset of its lowest mapping), traced
 * and vmsim's: an ELF image is mapped with one bias, whatever its
 * segments. */
static void relocate_file(struct replay *r, const struct vmt_record *seg,
                          const struct vma_line *v, long nv)
{
    const struct vmt_record *first = seg;
    for (size_t k = 0; k < r->nsegs; k++)
        if (r->segs[k].arg[4] == VMT_SEG_FILE && strcmp(r->segs[k].path, seg->path) == 0 &&
            r->segs[k].arg[0] < first->arg[0])
            first = &r->segs[k];
    for (long i = 0; i < nv; i++) {
        if (strcmp(v[i].path, seg->path) != 0)
            continue; /* maps lists a file's VMAs lowest first: v[i] is its first */
        int64_t delta = (int64_t)((v[i].start - v[i].offset) - (first->arg[0] - first->arg[3]));
        uint64_t end = seg->arg[0] + seg->arg[1];
        /* an anonymous segment right after (its bss) moves with it */
        for (size_t k = 0; k < r->nsegs; k++)
            if (r->segs[k].arg[4] == VMT_SEG_ANON && r->segs[k].arg[0] == end)
                end += r->segs[k].arg[1];
        add_reloc(r, seg->arg[0], end, delta);
        return;
    }
    note(r, NOTE_OTHER, "%s: not in vmsim's image, left where traced", seg->path);
}

static void relocate_image(struct replay *r)
{
    struct vma_line *v = NULL;
    long nv = read_maps(r->t, &v);
    struct vms_exec_info info;
    vms_task_exec_info(r->t, &info);
    for (size_t k = 0; k < r->nsegs; k++) {
        const struct vmt_record *s = &r->segs[k];
        uint64_t start = s->arg[0], end = s->arg[0] + s->arg[1];
        if (s->arg[4] == VMT_SEG_FILE) {
            relocate_file(r, s, v, nv);
        } else if (s->arg[4] == VMT_SEG_BRK) {
            add_reloc(r, start, end, (int64_t)(info.start_brk - start));
        } else if (s->arg[4] == VMT_SEG_STACK) {
            for (long i = 0; i < nv; i++)
                if (strcmp(v[i].path, "[stack]") == 0)
                    add_reloc(r, start, end, (int64_t)(v[i].end - end));
        }
    }
    free(v);
}

/* No exec: the starting image mapped as traced. */
static void map_segments(struct replay *r)
{
    for (size_t k = 0; k < r->nsegs; k++) {
        const struct vmt_record *s = &r->segs[k];
        int prot = (int)s->arg[2], fd = -1, flags = MAP_PRIVATE | MAP_FIXED_NOREPLACE;
        if (s->arg[4] == VMT_SEG_FILE)
            fd = path_fd(r, s->path);
        if (fd < 0)
            flags |= MAP_ANONYMOUS;
        uint64_t len = s->arg[1];
        if ((s->arg[4] == VMT_SEG_BRK || s->arg[4] == VMT_SEG_STACK) && r->nnamed < 2)
            r->named[r->nnamed++] = (struct named_range){s->arg[0], s->arg[0] + len,
                                                         s->arg[4] == VMT_SEG_BRK ? "heap" : "stack"};
        if (s->arg[4] == VMT_SEG_BRK) { /* only its first page is memory; the rest is brk's */
            r->brk_base = r->brk_now = s->arg[0];
            continue;
        }
        if (s->arg[4] == VMT_SEG_STACK) /* the stack's top page; the rest grows on demand */
            flags |= MAP_GROWSDOWN;
        int64_t got = vms_mmap(r->t, s->arg[0] + (s->arg[4] == VMT_SEG_STACK ? len - PAGE : 0),
                               s->arg[4] == VMT_SEG_STACK ? PAGE : len, prot, flags, fd,
                               fd < 0 ? 0 : (int64_t)s->arg[3]);
        if (got < 0)
            note(r, NOTE_OTHER, "segment 0x%" PRIx64 "+0x%" PRIx64 " %s: %s", s->arg[0], len,
                 s->path, strerror((int)-got));
    }
}

static void set_up(struct replay *r)
{
    r->set_up = 1;
    r->exec_path = (r->h->flags & VMT_F_EXEC) ? vmt_meta_get(&r->h->meta, "exec") : NULL;
    if (r->exec_path && access(r->exec_path, R_OK) != 0) {
        note(r, NOTE_OTHER, "the exec image %s is not on this machine: its segments are mapped as traced",
             r->exec_path);
        r->exec_path = NULL;
    }
    if (r->exec_path) {
        int rc = do_exec(r);
        if (rc == 0) {
            r->res->exec_done = 1;
            relocate_image(r);
        } else {
            note(r, NOTE_OTHER, "vms_execve(%s): %s: its segments are mapped as traced",
                 r->exec_path, strerror(-rc));
            r->exec_path = NULL;
        }
    }
    if (!r->res->exec_done)
        map_segments(r);
    free(r->segs);
    r->segs = NULL;
    r->iv_stale = 1;
}

/* ---- mm calls ---- */

static int64_t replay_mmap(struct replay *r, const struct vmt_record *c, int64_t *want)
{
    uint64_t addr = relocate(r, c->arg[0]), len = c->arg[1];
    int prot = (int)c->arg[2], flags = (int)c->arg[3], fd = -1;
    *want = c->result < 0 ? c->result : (int64_t)relocate(r, (uint64_t)c->result);
    if (c->result >= 0) {
        addr = (uint64_t)*want;
        if (!(flags & MAP_FIXED))
            flags |= MAP_FIXED_NOREPLACE;
    }
    if (!(flags & MAP_ANONYMOUS)) {
        fd = c->path[0] ? path_fd(r, c->path) : -1;
        if (fd < 0) {
            note(r, NOTE_OTHER, "mmap of %s: the file cannot be opened here, mapped anonymous",
                 c->path[0] ? c->path : "an unnamed descriptor");
            flags |= MAP_ANONYMOUS;
        } else if ((flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_WRITE)) {
            note(r, NOTE_OTHER, "shared writable mmap of %s made private: the replay writes no file",
                 c->path);
            flags = (flags & ~MAP_TYPE) | MAP_PRIVATE;
        }
    }
    int64_t got = vms_mmap(r->t, addr, len, prot, flags, flags & MAP_ANONYMOUS ? -1 : fd,
                           flags & MAP_ANONYMOUS ? 0 : (int64_t)c->arg[5]);
    if (got >= 0 && (flags & MAP_ANONYMOUS)) {
        struct named_mmap *n = realloc(r->anon, (r->nanon + 1) * sizeof(*n));
        if (n) {
            r->anon = n;
            r->anon[r->nanon++] = (struct named_mmap){(uint64_t)got, (uint64_t)got + len};
        }
    }
    return got;
}

static int64_t replay_brk(struct replay *r, const struct vmt_record *c, int64_t *want)
{
    uint64_t to = c->arg[0] ? relocate(r, c->arg[0]) : 0;
    *want = (int64_t)relocate(r, (uint64_t)c->result);
    if (r->res->exec_done)
        return (int64_t)vms_brk(r->t, to);
    /* without the image, the brk area is anonymous memory grown and cut as traced */
    uint64_t now = (uint64_t)c->result, old = r->brk_now;
    uint64_t a = (old + PAGE - 1) & ~(PAGE - 1), b = (now + PAGE - 1) & ~(PAGE - 1);
    if (b > a && a)
        vms_mmap(r->t, a, b - a, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    else if (b < a)
        vms_munmap(r->t, b, a - b);
    r->brk_now = now;
    return (int64_t)now;
}

static void replay_mm(struct replay *r, const struct vmt_record *c)
{
    int64_t got = 0, want = c->result;
    uint64_t a0 = relocate(r, c->arg[0]);
    switch (c->type) {
    case VMT_MMAP: got = replay_mmap(r, c, &want); break;
    case VMT_MUNMAP: got = vms_munmap(r->t, a0, c->arg[1]); break;
    case VMT_MPROTECT: got = vms_mprotect(r->t, a0, c->arg[1], (int)c->arg[2]); break;
    case VMT_MADVISE: got = vms_madvise(r->t, a0, c->arg[1], (int)c->arg[2]); break;
    case VMT_BRK: got = replay_brk(r, c, &want); break;
    case VMT_MREMAP: {
        int flags = (int)c->arg[3];
        uint64_t to = relocate(r, c->arg[4]);
        if (c->result >= 0) {
            want = (int64_t)relocate(r, (uint64_t)c->result);
            if ((uint64_t)want != a0) {
                flags |= MREMAP_MAYMOVE | MREMAP_FIXED;
                to = (uint64_t)want;
            }
        }
        got = vms_mremap(r->t, a0, c->arg[1], c->arg[2], flags, to);
        break;
    }
    default: return;
    }
    r->res->mm_calls++;
    r->iv_stale = 1;
    if (got != want) {
        r->res->mm_differ++;
        note(r, NOTE_DIFFER, "%s(0x%" PRIx64 ", 0x%" PRIx64 ", ...) = %" PRId64 " (0x%" PRIx64
             "), the trace says %" PRId64 " (0x%" PRIx64 ")", vmt_type_name(c->type), a0,
             c->arg[1], got, (uint64_t)got, want, (uint64_t)want);
    }
}

/* ---- accesses ---- */

static int do_access(struct replay *r, enum vmt_type type, uint64_t a, uint32_t size)
{
    switch (type) {
    case VMT_LOAD: return vms_load(r->t, a, r->buf, size);
    case VMT_STORE: return vms_store(r->t, a, r->buf + VMT_ACCESS_MAX, size);
    case VMT_FETCH: return vms_fetch(r->t, a, size);
    default: {
        int sig = vms_load(r->t, a, r->buf, size);
        return sig ? sig : vms_store(r->t, a, r->buf + VMT_ACCESS_MAX, size);
    }
    }
}

static void cpu_add_diff(struct vms_cpu_stats *to, const struct vms_cpu_stats *a,
                         const struct vms_cpu_stats *b)
{
    const uint64_t *pa = (const uint64_t *)a, *pb = (const uint64_t *)b;
    uint64_t *pt = (uint64_t *)to;
    for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
        pt[i] += pa[i] - pb[i];
}

/* After an access: what it cost, to its region. */
static void account(struct replay *r, size_t region, enum vmt_type type, int sig)
{
    struct vms_cpu_stats now;
    uint64_t minflt, majflt;
    vms_get_cpu_stats(r->m, 0, &now);
    vms_task_rusage(r->t, &minflt, &majflt);
    if (region == SIZE_MAX)
        return;
    struct vmt_region *g = &r->res->regions[region];
    g->accesses++;
    g->loads += type == VMT_LOAD || type == VMT_MODIFY;
    g->stores += type == VMT_STORE || type == VMT_MODIFY;
    g->fetches += type == VMT_FETCH;
    g->signals += sig != 0;
    cpu_add_diff(&g->cpu, &now, &r->cpu_before);
    g->minflt += minflt - r->min_before;
    g->majflt += majflt - r->maj_before;
    r->cpu_before = now;
    r->min_before = minflt;
    r->maj_before = majflt;
}

/* Each region's resident pages (vms_mincore over its VMAs) into counts[]. */
static void resident_by_region(struct replay *r, uint64_t *counts)
{
    if (r->iv_stale)
        rebuild_intervals(r);
    unsigned char vec[4096];
    for (size_t i = 0; i < r->niv; i++)
        for (uint64_t a = r->iv[i].start; a < r->iv[i].end; a += sizeof(vec) * PAGE) {
            uint64_t len = r->iv[i].end - a < sizeof(vec) * PAGE ? r->iv[i].end - a : sizeof(vec) * PAGE;
            if (vms_mincore(r->t, a, len, vec) < 0)
                break;
            for (uint64_t k = 0; k < len / PAGE; k++)
                counts[r->iv[i].region] += vec[k] & 1;
        }
}

static void sample_regions(struct replay *r)
{
    struct vmt_replay_result *res = r->res;
    if (r->iv_stale)
        rebuild_intervals(r);
    uint64_t *counts = calloc(res->nregions ? res->nregions : 1, sizeof(*counts));
    if (!counts)
        return;
    resident_by_region(r, counts);
    for (size_t g = 0; g < res->nregions; g++) {
        if (!counts[g])
            continue;
        struct vmt_region_sample *n =
            realloc(res->region_samples, (res->nregion_samples + 1) * sizeof(*n));
        if (!n)
            break;
        res->region_samples = n;
        n[res->nregion_samples++] = (struct vmt_region_sample){res->nsamples - 1, g, counts[g]};
    }
    free(counts);
}

static void count_resident(struct replay *r)
{
    struct vmt_replay_result *res = r->res;
    if (r->iv_stale)
        rebuild_intervals(r);
    uint64_t *counts = calloc(res->nregions ? res->nregions : 1, sizeof(*counts));
    if (!counts)
        return;
    resident_by_region(r, counts);
    for (size_t g = 0; g < res->nregions; g++)
        res->regions[g].resident = counts[g];
    free(counts);
}

static void take_sample(struct replay *r)
{
    struct vms_stats s;
    vms_get_stats(r->m, &s);
    struct vmt_sample *n = realloc(r->res->samples, (r->res->nsamples + 1) * sizeof(*n));
    if (!n)
        return;
    r->res->samples = n;
    struct vmt_sample *x = &n[r->res->nsamples++];
    x->access = r->res->accesses;
    x->frames_used = s.frames_used;
    x->cache_frames = s.cache_frames;
    x->pgtable_frames = s.pgtable_frames;
    vms_task_rusage(r->t, &x->minflt, &x->majflt);
    if (r->o->by_region && !vms_task_killed(r->t))
        sample_regions(r);
}

/* What follows every access at a (traced at rec->addr): its signal noted,
 * the count, a sample when one is due. */
static inline void access_tail(struct replay *r, const struct vmt_access *rec, uint64_t a, int sig)
{
    if (sig) {
        r->res->signals++;
        note(r, NOTE_SIGNAL, "%s of %" PRIu32 " at 0x%" PRIx64 " (traced 0x%" PRIx64 "): signal %d",
             vmt_type_name(rec->type), rec->size, a, rec->addr, sig);
    }
    if (++r->res->accesses == r->next_sample) {
        take_sample(r);
        r->next_sample += r->sample_every;
    }
}

static void replay_access(struct replay *r, const struct vmt_access *rec)
{
    uint64_t a = relocate(r, rec->addr);
    if (!(r->h->flags & VMT_F_MM))
        ensure_mapped(r, a, rec->size);
    size_t region = r->o->by_region ? region_of(r, a) : SIZE_MAX;
    int sig = do_access(r, rec->type, a, rec->size);
    if (r->o->by_region) {
        if (region == r->unmapped && !sig) { /* the access grew the stack to reach it */
            r->iv_stale = 1;
            region = region_of(r, a);
        }
        account(r, region, rec->type, sig);
    }
    if (r->res->has_lru)
        for (uint64_t p = a / PAGE; p <= (a + rec->size - 1) / PAGE; p++)
            lru_touch(&r->res->lru, p);
    access_tail(r, rec, a, sig);
}

/* ---- the end ---- */

static void on_event(void *arg, const struct vms_event *ev)
{
    struct replay *r = arg;
    if (ev->kind == VMS_EV_PGTABLE_ALLOC && r->t && r->set_up) {
        const struct interval *iv = NULL;
        if (!r->iv_stale)
            iv = find_interval(r, ev->a);
        if (iv)
            r->res->regions[iv->region].pgtables++;
    }
}

static void finish(struct replay *r)
{
    struct vmt_replay_result *res = r->res;
    if (r->o->samples)
        take_sample(r);
    vms_get_stats(r->m, &res->stats);
    vms_task_rusage(r->t, &res->minflt, &res->majflt);
    res->oom_killed = vms_task_killed(r->t);
    if (r->o->by_region && !res->oom_killed)
        count_resident(r);
    const char *min = vmt_meta_get(&r->h->meta, "native_minflt");
    const char *maj = vmt_meta_get(&r->h->meta, "native_majflt");
    if ((r->h->flags & VMT_F_NATIVE) && min && maj) {
        res->has_native = 1;
        res->native_minflt = strtoull(min, NULL, 10);
        res->native_majflt = strtoull(maj, NULL, 10);
    }
}

static void replay_free(struct replay *r)
{
    for (size_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->paths);
    free(r->fds);
    free(r->relocs);
    free(r->segs);
    free(r->iv);
    free(r->anon);
    free(r->buf);
    if (r->t)
        vms_exit(r->t);
    if (r->m)
        vms_machine_destroy(r->m);
}

#define ACCESS_BLOCK 256

/* The accesses that follow, read a block at a time, until another record
 * comes (or one that is not yet decompressed). 1 if one of them ended the
 * process. */
static int replay_accesses(struct replay *r, struct vmt_reader *rd)
{
    struct vmt_access block[ACCESS_BLOCK];
    /* Without regions, the LRU pass or VMAs to make, an access is the access
     * and what follows every one (access_tail): done without the rest. */
    int bare = !r->o->by_region && !r->res->has_lru && (r->h->flags & VMT_F_MM);
    size_t n;
    while ((n = vmt_read_accesses(rd, block, ACCESS_BLOCK)) > 0)
        for (size_t i = 0; i < n; i++) {
            const struct vmt_access *acc = &block[i];
            r->res->records++;
            if (bare) {
                uint64_t a = relocate(r, acc->addr);
                access_tail(r, acc, a, do_access(r, acc->type, a, acc->size));
            } else {
                replay_access(r, acc);
            }
            if (vms_task_killed(r->t))
                return 1;
        }
    return 0;
}

static int run_records(struct replay *r, struct vmt_reader *rd, char *err, size_t errlen)
{
    struct vmt_record rec;
    int rc;
    while ((rc = vmt_read(rd, &rec)) > 0) {
        r->res->records++;
        if (rec.type == VMT_SEGMENT && !r->set_up) {
            struct vmt_record *n = realloc(r->segs, (r->nsegs + 1) * sizeof(*n));
            if (!n) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            r->segs = n;
            r->segs[r->nsegs++] = rec;
            continue;
        }
        if (!r->set_up)
            set_up(r);
        if (vmt_is_access(rec.type))
            replay_access(r, &(struct vmt_access){rec.addr, rec.size, rec.type});
        else if (rec.type != VMT_SEGMENT)
            replay_mm(r, &rec);
        if (vms_task_killed(r->t) || replay_accesses(r, rd))
            break;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", vmt_reader_error(rd));
        return -1;
    }
    if (!r->set_up)
        set_up(r);
    return 0;
}

int vmt_replay(FILE *in, const struct vmt_replay_opts *o, struct vmt_replay_result *res,
               char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    struct vmt_reader *rd = vmt_reader_open(in, err, errlen);
    if (!rd)
        return -1;
    struct replay r = {.o = o, .res = res, .h = vmt_reader_header(rd), .iv_stale = 1};
    struct vms_config c = o->config;
    if (o->by_region) {
        c.trace = on_event;
        c.trace_arg = &r;
    }
    int rc = -1;
    r.buf = calloc(2, VMT_ACCESS_MAX);
    if (o->lru && lru_init(&res->lru) == 0)
        res->has_lru = 1;
    if (!r.buf || (o->lru && !res->has_lru)) {
        snprintf(err, errlen, "out of memory");
    } else if (!(r.m = vms_machine_create(&c))) {
        char msg[200] = "";
        vms_config_check(&c, msg, sizeof(msg));
        snprintf(err, errlen, "cannot make the machine: %s", msg[0] ? msg : strerror(errno));
    } else if (!(r.t = vms_spawn(r.m, "replay"))) {
        snprintf(err, errlen, "cannot make the task: %s", strerror(errno));
    } else {
        uint64_t total = r.h->count != VMT_COUNT_UNKNOWN ? r.h->count : 1000000;
        r.sample_every = o->samples ? (total / o->samples ? total / o->samples : 1) : 0;
        r.next_sample = o->samples ? r.sample_every : UINT64_MAX;
        if (o->by_region) {
            vms_get_cpu_stats(r.m, 0, &r.cpu_before);
            r.unmapped = region_index(&r, "unmapped");
        }
        rc = run_records(&r, rd, err, errlen);
        finish(&r);
    }
    replay_free(&r);
    vmt_reader_close(rd);
    return rc;
}
