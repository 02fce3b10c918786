/*
 * vmsim-equiv-digest: a fingerprint of everything a user can see of vmsim,
 * for proving that a change meant only to make it faster (the TLBs, the
 * MMU, the allocator) changes nothing else. scripts/equiv.sh builds this
 * same program against two builds of the library and compares the output.
 *
 * What it checks. For each seed, a machine whose config is drawn from the
 * seed (1 to 4 CPUs, PCID on or off, 4- or 5-level tables, small, large and
 * absent L1/L2 TLBs and paging-structure caches, 2 to 64 MiB of RAM, swap
 * or none, overcommit modes), then random steps by up to 8 tasks: loads,
 * stores and instruction fetches (most of the steps, many on a few hot
 * addresses, some across page ends, some at bad addresses), sweeps over a
 * whole mapping (TLB evictions, reclaim, OOM kills), mmap (hints, MAP_FIXED,
 * MAP_POPULATE, large populated mappings for memory pressure), munmap,
 * mprotect, madvise, fork, thread clone, exit and migration between CPUs.
 * Folded into one 64-bit hash after every step: each call's return value,
 * each fault (signal, code, address, key), every byte loaded, the acting
 * CPU's counters; into a second hash: every event the machine raises. Every
 * K steps and at the end: all counters, every CPU's TLB entries and what it
 * runs, every task's page tables and VMAs (with their tree shape); at the end
 * also every frame's metadata and contents, and vms_check's verdict.
 *
 * TLB entries are folded with each entry's rank in its set by LRU stamp
 * (how many entries of the set were used less recently), not the raw stamp:
 * the stamps' clocks are an implementation detail (each L1 TLB may keep its
 * own), while the order they give decides every future eviction.
 *
 * What it does not check: file mappings, the page cache, read/write,
 * mremap, mlock, brk, exec and everything else beyond anonymous memory
 * (vmsim run --json of the examples and vmsim replay --json, which
 * scripts/equiv.sh compares beside this digest, reach some of those). The
 * digest sees vmsim through include/vmsim.h only, compiled against each
 * build's own header: a build that adds a counter to the statistics differs.
 *
 * Output: one line per seed (the hashes, a few totals for a reader, the
 * config); with --trace one line per step, to find the first step at which
 * two builds part.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmsim.h"

#define PAGE_BYTES 4096ULL
#define MAX_TASKS 8
#define MAX_REGIONS 40
#define HOT_ADDRESSES 8
#define MAX_ACCESS_BYTES 9100
#define SWEEP_MAX_PAGES 160
#define ARRAY_LENGTH(a) (sizeof(a) / sizeof((a)[0]))

#define EXIT_USAGE 2

struct digest_options {
    uint64_t first_seed, last_seed;
    unsigned steps;
    unsigned full_every;         /* K: fold the whole state every K steps */
    int tracing;                 /* --trace: one line per step */
    int dtlb_forced;             /* --dtlb: every machine gets this L1 DTLB */
    struct vms_tlb_geometry dtlb;
};

/* A mapping the digest made, as a source of addresses to touch. The list
 * is approximate on purpose (a partial munmap or a MAP_FIXED over part of
 * it leaves it as it was): the digest asks the machine, never this list,
 * what is mapped. */
struct region {
    uint64_t start, len;
    int prot;
};

/* The digest's picture of one address space, shared by its threads. */
struct space_model {
    int refs;
    int nregions;
    struct region regions[MAX_REGIONS];
    uint64_t hot[HOT_ADDRESSES]; /* addresses touched again and again: TLB hits */
};

struct tracked_task {
    vms_task *task;
    struct space_model *space;
};

/* One seed's run: the machine, its tasks, the generator and the hashes. */
struct run {
    const struct digest_options *options;
    const char *root;
    FILE *devnull;               /* vms_check's report is not wanted, its verdict is */
    vms_machine *machine;
    unsigned ncpus;
    int levels;
    struct tracked_task tasks[MAX_TASKS];
    int ntasks;
    uint64_t random_state;
    uint64_t hash;
    uint64_t event_hash;
    uint64_t nevents;
    int actor;                   /* the task that acts, until a switch */
    int last_actor;              /* -1: none, or it exited */
    int last_was_load;
    uint64_t last_va;
    unsigned full_every;
    char config_text[256];
    char op_text[300];           /* --trace: what the step did */
    uint64_t part_stats, part_tlbs, part_tables; /* the last full fold's parts, for --trace */
};

/* ---- randomness (splitmix64: the same sequence on every host) ---- */

static uint64_t next_random(struct run *r)
{
    uint64_t z = (r->random_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t random_below(struct run *r, uint64_t n)
{
    return n ? next_random(r) % n : 0;
}

static int chance(struct run *r, unsigned percent)
{
    return random_below(r, 100) < percent;
}

/* ---- hashing ---- */

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

static void fold(struct run *r, uint64_t v)
{
    r->hash = hash_mix(r->hash, v);
}

/* Bytes in 8-byte words; a short tail carries its length, so that "ab" and
 * "ab\0" differ. */
static void fold_bytes(struct run *r, const void *p, size_t n)
{
    const unsigned char *bytes = p;
    uint64_t word;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&word, bytes + i, 8);
        fold(r, word);
    }
    if (i < n) {
        word = 0;
        memcpy(&word, bytes + i, n - i);
        fold(r, word ^ ((uint64_t)(n - i) << 56));
    }
}

static void fold_string(struct run *r, const char *s)
{
    if (!s)
        fold(r, 0xdeadULL);
    else
        fold_bytes(r, s, strlen(s));
}

static void fold_event(void *arg, const struct vms_event *ev)
{
    struct run *r = arg;
    uint64_t h = r->event_hash;
    h = hash_mix(h, (uint64_t)ev->kind);
    h = hash_mix(h, ev->cpu);
    h = hash_mix(h, (uint64_t)(int64_t)ev->level);
    h = hash_mix(h, ev->index);
    h = hash_mix(h, ev->a);
    h = hash_mix(h, ev->b);
    h = hash_mix(h, ev->pa);
    h = hash_mix(h, ev->entry);
    for (const char *s = ev->detail; s && *s; s++)
        h = hash_mix(h, (unsigned char)*s);
    r->event_hash = h;
    r->nevents++;
}

/* ---- memory the digest itself needs: none of it may fail quietly ---- */

static void *must_allocate(size_t bytes)
{
    void *p = calloc(1, bytes);
    if (!p) {
        fprintf(stderr, "vmsim-equiv-digest: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

/* ---- the digest's picture of address spaces ---- */

static uint64_t pick_in_space(struct run *r, const struct space_model *space)
{
    if (space->nregions == 0) /* nothing mapped: somewhere a mapping might be */
        return 0x10000000ULL + random_below(r, 64) * PAGE_BYTES;
    const struct region *g = &space->regions[random_below(r, (uint64_t)space->nregions)];
    return g->start + random_below(r, g->len);
}

/* Code: the first pages of an executable region (fetches run on from a
 * function's start), else anywhere. */
static uint64_t pick_code(struct run *r, const struct space_model *space)
{
    int executable[MAX_REGIONS], n = 0;
    for (int i = 0; i < space->nregions; i++)
        if (space->regions[i].prot & PROT_EXEC)
            executable[n++] = i;
    if (n == 0)
        return pick_in_space(r, space);
    const struct region *g = &space->regions[executable[random_below(r, (uint64_t)n)]];
    uint64_t span = g->len < 3 * PAGE_BYTES ? g->len : 3 * PAGE_BYTES;
    return g->start + random_below(r, span);
}

static void refresh_hot(struct run *r, struct space_model *space, int i)
{
    space->hot[i] = pick_in_space(r, space) & ~7ULL;
}

static void remember_region(struct space_model *space, uint64_t start, uint64_t len, int prot)
{
    if (space->nregions < MAX_REGIONS)
        space->regions[space->nregions++] = (struct region){start, len, prot};
}

static void release_space(struct space_model *space)
{
    if (--space->refs == 0)
        free(space);
}

/* ---- tasks ---- */

static void add_task(struct run *r, vms_task *t, struct space_model *space)
{
    r->tasks[r->ntasks++] = (struct tracked_task){t, space};
}

static void forget_task(struct run *r, int i)
{
    release_space(r->tasks[i].space);
    r->tasks[i] = r->tasks[--r->ntasks];
}

static void fold_new_task(struct run *r, vms_task *t)
{
    fold(r, t ? 1 : 0);
    if (!t) {
        fold(r, (uint64_t)errno);
        return;
    }
    fold(r, (uint64_t)vms_task_pid(t));
    fold(r, vms_task_cpu(t));
}

static void spawn_task(struct run *r)
{
    vms_task *t = vms_spawn(r->machine, "digest");
    fold_new_task(r, t);
    if (!t)
        return;
    struct space_model *space = must_allocate(sizeof(*space));
    space->refs = 1;
    add_task(r, t, space);
    for (int i = 0; i < HOT_ADDRESSES; i++)
        refresh_hot(r, space, i);
}

/* The OOM killer's victims are zombies until vms_exit: release them, and
 * keep one task alive so that the run goes on. */
static void reap_killed_tasks(struct run *r)
{
    for (int i = 0; i < r->ntasks;) {
        vms_task *t = r->tasks[i].task;
        if (!vms_task_killed(t)) {
            i++;
            continue;
        }
        fold(r, 0x4b111ULL);
        fold(r, (uint64_t)vms_task_pid(t));
        vms_exit(t);
        forget_task(r, i);
    }
    if (r->ntasks == 0)
        spawn_task(r);
}

/* ---- the machine ---- */

/* Shapes a seed may draw: both common hardware ones and small ones that
 * evict all the time; {0, 0} is an absent paging-structure cache. */
static const struct vms_tlb_geometry L1_SHAPES[] = {{4, 4},   {8, 2}, {16, 4}, {64, 4}, {32, 8},
                                                    {128, 8}, {8, 1}, {16, 16}, {64, 4}};
static const struct vms_tlb_geometry L2_SHAPES[] = {{16, 4}, {64, 4}, {1536, 12}, {256, 8},
                                                    {32, 2}, {8, 8},  {1536, 12}, {96, 3}};
static const struct vms_tlb_geometry PDE_SHAPES[] = {{0, 0}, {32, 4}, {4, 4},
                                                     {2, 2}, {8, 1},  {16, 4}};
static const struct vms_tlb_geometry PDPTE_SHAPES[] = {{0, 0}, {4, 4}, {2, 1}, {4, 2}, {8, 8}};
static const struct vms_tlb_geometry PML4E_SHAPES[] = {{0, 0}, {2, 2}, {1, 1}, {4, 4}};

static struct vms_tlb_geometry pick_shape(struct run *r, const struct vms_tlb_geometry *shapes,
                                          size_t n)
{
    return shapes[random_below(r, n)];
}

static void draw_caches(struct run *r, struct vms_config *c)
{
    c->dtlb = pick_shape(r, L1_SHAPES, ARRAY_LENGTH(L1_SHAPES));
    c->itlb = pick_shape(r, L1_SHAPES, ARRAY_LENGTH(L1_SHAPES));
    c->stlb = pick_shape(r, L2_SHAPES, ARRAY_LENGTH(L2_SHAPES));
    c->pde_cache = pick_shape(r, PDE_SHAPES, ARRAY_LENGTH(PDE_SHAPES));
    c->pdpte_cache = pick_shape(r, PDPTE_SHAPES, ARRAY_LENGTH(PDPTE_SHAPES));
    c->pml4e_cache = pick_shape(r, PML4E_SHAPES, ARRAY_LENGTH(PML4E_SHAPES));
}

static void draw_config(struct run *r, struct vms_config *c)
{
    static const uint64_t ram_mib[] = {2, 3, 4, 6, 8, 16, 64};
    vms_config_init(c);
    c->ncpus = 1 + (unsigned)random_below(r, 4);
    c->pcid = chance(r, 50);
    c->pgtable_levels = chance(r, 30) ? 5 : 4;
    draw_caches(r, c);
    c->zero_page = chance(r, 70);
    c->pku = chance(r, 70);
    c->phys_bytes = ram_mib[random_below(r, ARRAY_LENGTH(ram_mib))] << 20;
    c->swap_bytes = chance(r, 35) ? (4 + random_below(r, 8)) << 20 : 0;
    c->tlb_flush_ceiling = chance(r, 20) ? (unsigned)random_below(r, 8) : 33;
    c->overcommit_memory = chance(r, 30) ? 1 : 0;
    /* After the draws, so that a forced shape leaves the steps as they were. */
    if (r->options->dtlb_forced)
        c->dtlb = r->options->dtlb;
    c->root = r->root;
    c->trace = fold_event;
    c->trace_arg = r;
}

static void describe_config(struct run *r, const struct vms_config *c)
{
    snprintf(r->config_text, sizeof(r->config_text),
             "cpus=%u pcid=%d lv=%d d=%u:%u i=%u:%u s=%u:%u pwc=%u:%u/%u:%u/%u:%u zp=%d pku=%d "
             "ram=%" PRIu64 "M swap=%" PRIu64 "M ceil=%u oc=%u",
             c->ncpus, c->pcid, c->pgtable_levels, c->dtlb.entries, c->dtlb.ways,
             c->itlb.entries, c->itlb.ways, c->stlb.entries, c->stlb.ways, c->pde_cache.entries,
             c->pde_cache.ways, c->pdpte_cache.entries, c->pdpte_cache.ways,
             c->pml4e_cache.entries, c->pml4e_cache.ways, c->zero_page, c->pku,
             c->phys_bytes >> 20, c->swap_bytes >> 20, c->tlb_flush_ceiling,
             (unsigned)c->overcommit_memory);
}

/* The config is printed on each seed's line, not folded: both builds draw
 * the same one, and keeping it out of the hash lets a run with --dtlb show
 * that the hash follows the machine's behaviour, not its description. */
static int create_machine(struct run *r)
{
    struct vms_config c;
    draw_config(r, &c);
    describe_config(r, &c);
    char why[200];
    if (vms_config_check(&c, why, sizeof(why)) != 0) {
        fprintf(stderr, "vmsim-equiv-digest: config refused: %s (%s)\n", why, r->config_text);
        return -1;
    }
    r->machine = vms_machine_create(&c);
    if (!r->machine) {
        fprintf(stderr, "vmsim-equiv-digest: vms_machine_create: %s (%s)\n", strerror(errno),
                r->config_text);
        return -1;
    }
    r->ncpus = c.ncpus;
    r->levels = c.pgtable_levels;
    return 0;
}

/* ---- folds of the whole state ---- */

/* The statistics up to ncpus are plain 64-bit counters (no padding); after
 * it, the watermarks and the machine's CPUs only. */
static void fold_stats(struct run *r)
{
    struct vms_stats s;
    memset(&s, 0, sizeof(s));
    vms_get_stats(r->machine, &s);
    fold_bytes(r, &s, offsetof(struct vms_stats, ncpus));
    fold(r, s.ncpus);
    fold_bytes(r, s.watermark, sizeof(s.watermark));
    for (unsigned c = 0; c < s.ncpus && c < VMS_MAX_CPUS; c++)
        fold_bytes(r, &s.cpu[c], sizeof(s.cpu[c]));
}

struct tlb_entries {
    struct vms_tlb_entry *entry;
    size_t n, capacity;
};

static int collect_tlb_entry(void *arg, const struct vms_tlb_entry *e)
{
    struct tlb_entries *list = arg;
    if (list->n == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 1024;
        struct vms_tlb_entry *grown = realloc(list->entry, capacity * sizeof(*grown));
        if (!grown) {
            fprintf(stderr, "vmsim-equiv-digest: out of memory (TLB entries)\n");
            exit(1);
        }
        list->entry = grown;
        list->capacity = capacity;
    }
    list->entry[list->n++] = *e;
    return 0;
}

static int same_set(const struct vms_tlb_entry *a, const struct vms_tlb_entry *b)
{
    return a->level == b->level && a->set == b->set;
}

/* Each entry's stamp becomes the number of entries of its set used less
 * recently. vms_tlb_visit gives a set's entries together (set by set), so
 * a set is a run of the list. The comparison is modulo 2^32, as the
 * stamps wrap. */
static void rank_by_recency(struct tlb_entries *list)
{
    uint32_t *rank = must_allocate((list->n + 1) * sizeof(*rank));
    for (size_t begin = 0, end; begin < list->n; begin = end) {
        for (end = begin + 1; end < list->n && same_set(&list->entry[begin], &list->entry[end]);)
            end++;
        for (size_t i = begin; i < end; i++)
            for (size_t j = begin; j < end; j++)
                if ((int32_t)(list->entry[j].lru - list->entry[i].lru) < 0)
                    rank[i]++;
    }
    for (size_t i = 0; i < list->n; i++)
        list->entry[i].lru = rank[i];
    free(rank);
}

static void fold_tlb_entry(struct run *r, const struct vms_tlb_entry *e)
{
    fold(r, (uint64_t)e->level);
    fold(r, e->set);
    fold(r, e->way);
    fold(r, e->vpn);
    fold(r, e->pfn);
    fold(r, e->pcid);
    fold(r, e->page_size);
    fold(r, (uint64_t)e->user | (uint64_t)e->writable << 1 | (uint64_t)e->dirty << 2 |
                (uint64_t)e->exec << 3 | (uint64_t)e->pkey_denied << 4 |
                (uint64_t)e->global << 5);
    fold(r, e->lru);
}

static void fold_cpu(struct run *r, unsigned cpu)
{
    struct tlb_entries list = {0};
    fold(r, 0x71b0000ULL + cpu);
    fold(r, (uint64_t)vms_tlb_visit(r->machine, cpu, collect_tlb_entry, &list));
    rank_by_recency(&list);
    for (size_t i = 0; i < list.n; i++)
        fold_tlb_entry(r, &list.entry[i]);
    free(list.entry);
    struct vms_cpu_info info;
    memset(&info, 0, sizeof(info));
    fold(r, (uint64_t)vms_cpu_info(r->machine, cpu, &info));
    fold(r, (uint64_t)info.pid);
    fold(r, info.pcid);
    fold(r, info.cr3_pa);
    fold(r, (uint64_t)info.lazy);
}

static int fold_table(void *arg, const struct vms_pgtable_info *pi)
{
    struct run *r = arg;
    fold(r, (uint64_t)pi->level);
    fold_string(r, pi->name);
    fold(r, pi->pa);
    fold(r, pi->va);
    fold(r, pi->span);
    fold(r, pi->present);
    fold(r, pi->used);
    fold_bytes(r, pi->entries, 512 * sizeof(pi->entries[0]));
    return 0;
}

/* A VMA and its place in the tree: the free-range search walks the tree. */
static int fold_vma(void *arg, const struct vms_vma_info *vi)
{
    struct run *r = arg;
    fold(r, vi->start);
    fold(r, vi->end);
    fold(r, vi->pgoff);
    fold(r, (uint64_t)vi->prot);
    fold(r, (uint64_t)vi->shared);
    fold(r, vi->vm_flags);
    fold(r, (uint64_t)vi->kind);
    fold_string(r, vi->name);
    fold(r, (uint64_t)vi->red | (uint64_t)vi->gate << 1 | (uint64_t)(uint32_t)vi->depth << 8);
    fold(r, vi->parent);
    fold(r, vi->left);
    fold(r, vi->right);
    fold(r, vi->gap);
    fold(r, vi->subtree_gap);
    return 0;
}

static int first_holder_of_space(const struct run *r, int i)
{
    for (int j = 0; j < i; j++)
        if (r->tasks[j].space == r->tasks[i].space)
            return 0;
    return 1;
}

/* Each task's identity and usage; each address space once (threads share
 * one: the first task holding it folds it). */
static void fold_tasks(struct run *r)
{
    for (int i = 0; i < r->ntasks; i++) {
        vms_task *t = r->tasks[i].task;
        uint64_t minor = 0, major = 0;
        fold(r, (uint64_t)vms_task_pid(t));
        fold(r, vms_task_cpu(t));
        vms_task_rusage(t, &minor, &major);
        fold(r, minor);
        fold(r, major);
        if (!first_holder_of_space(r, i))
            continue;
        fold(r, (uint64_t)vms_pgtable_visit(t, fold_table, r));
        fold(r, (uint64_t)vms_vma_visit(t, fold_vma, r));
    }
}

static void fold_frame_info(struct run *r, const struct vms_frame_info *fi)
{
    fold(r, (uint64_t)fi->owner | (uint64_t)(uint32_t)fi->mapcount << 8 |
                (uint64_t)(uint32_t)fi->refcount << 32);
    fold(r, fi->order);
    fold(r, fi->head);
    fold(r, fi->index);
    fold(r, (uint64_t)(fi->dirty | fi->active << 1 | fi->lru << 2 | fi->referenced << 3 |
                       fi->unevictable << 4 | fi->mlocked << 5 | fi->swapcache << 6));
}

/* Every frame's metadata, the contents of those in use, and whether every
 * invariant holds. Only at the end of a seed: it reads all of RAM. */
static void fold_frames(struct run *r)
{
    unsigned char contents[PAGE_BYTES];
    uint64_t nframes = vms_frame_count(r->machine);
    for (uint64_t pfn = 0; pfn < nframes; pfn++) {
        struct vms_frame_info fi;
        if (vms_frame_info(r->machine, pfn, &fi) == 0) {
            fold_frame_info(r, &fi);
            if (fi.owner == VMS_FRAME_FREE)
                continue;
        }
        fold(r, (uint64_t)vms_phys_read(r->machine, pfn * PAGE_BYTES, contents, PAGE_BYTES));
        fold_bytes(r, contents, PAGE_BYTES);
    }
    fold(r, (uint64_t)vms_check(r->machine, r->devnull));
}

/* The state in three parts, each hashed from its own start, so that
 * --trace can say which part parted first. */
static void fold_full_state(struct run *r, int with_frames)
{
    uint64_t outer = r->hash;
    r->hash = 1;
    fold_stats(r);
    r->part_stats = r->hash;
    r->hash = 2;
    for (unsigned cpu = 0; cpu < r->ncpus; cpu++)
        fold_cpu(r, cpu);
    r->part_tlbs = r->hash;
    r->hash = 3;
    fold_tasks(r);
    if (with_frames)
        fold_frames(r);
    r->part_tables = r->hash;
    r->hash = outer;
    fold(r, r->part_stats);
    fold(r, r->part_tlbs);
    fold(r, r->part_tables);
}

/* ---- addresses ---- */

/* Odd addresses a program may still touch: the NULL page, the end of user
 * space, the kernel's half, the part only 5-level tables translate. */
static uint64_t pick_unusual_address(struct run *r)
{
    switch (random_below(r, 5)) {
    case 0: return random_below(r, 0x10000);
    case 1: return 0x0000800000000000ULL - 8 + random_below(r, 16);
    case 2: return 0xffff800000000000ULL + random_below(r, 1 << 20);
    case 3: return 0x00ff000000000000ULL + random_below(r, 1 << 20);
    default: return random_below(r, 1ULL << 47);
    }
}

/* Mostly the hot addresses (TLB hits), then anywhere mapped, page ends
 * (an access that crosses into the next page), near a mapping (maybe a
 * hole), and now and then somewhere odd. */
static uint64_t pick_data_address(struct run *r, struct space_model *space)
{
    unsigned roll = (unsigned)random_below(r, 100);
    if (roll < 65) {
        int h = (int)random_below(r, HOT_ADDRESSES);
        if (chance(r, 3))
            refresh_hot(r, space, h);
        return space->hot[h] + random_below(r, 8);
    }
    if (roll < 88)
        return pick_in_space(r, space);
    if (roll < 94)
        return (pick_in_space(r, space) | (PAGE_BYTES - 1)) - random_below(r, 6);
    if (roll < 97) {
        uint64_t va = pick_in_space(r, space);
        uint64_t offset = random_below(r, 64) * PAGE_BYTES;
        return random_below(r, 2) ? va + offset : va - offset;
    }
    return pick_unusual_address(r);
}

/* ---- steps ---- */

enum access_kind { ACCESS_LOAD, ACCESS_STORE, ACCESS_FETCH };
static const char *const ACCESS_NAMES[] = {"load", "store", "fetch"};

static size_t pick_access_length(struct run *r)
{
    static const size_t lengths[] = {1, 2, 4, 8, 8, 4, 3, 5, 7, 13, 16, 1, 2, 64};
    size_t len = lengths[random_below(r, ARRAY_LENGTH(lengths))];
    if (chance(r, 2)) /* a long one over several pages */
        len = 4000 + random_below(r, 5000);
    return len;
}

/* A store right after a load of the same address now and then: the write
 * upgrade of an entry cached clean. */
static enum access_kind pick_access(struct run *r, int ti, uint64_t *va)
{
    struct space_model *space = r->tasks[ti].space;
    unsigned roll = (unsigned)random_below(r, 100);
    if (r->last_actor == ti && r->last_was_load && chance(r, 30)) {
        *va = r->last_va;
        return ACCESS_STORE;
    }
    enum access_kind kind = roll < 48 ? ACCESS_LOAD : roll < 86 ? ACCESS_STORE : ACCESS_FETCH;
    *va = kind == ACCESS_FETCH && chance(r, 75) ? pick_code(r, space)
                                                : pick_data_address(r, space);
    return kind;
}

static int perform_access(struct run *r, vms_task *t, enum access_kind kind, uint64_t va,
                          size_t len)
{
    unsigned char buf[MAX_ACCESS_BYTES];
    int rc;
    switch (kind) {
    case ACCESS_LOAD:
        memset(buf, 0xcc, len); /* bytes a failed load leaves are folded too */
        rc = vms_load(t, va, buf, len);
        fold_bytes(r, buf, len);
        return rc;
    case ACCESS_STORE:
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)next_random(r);
        return vms_store(t, va, buf, len);
    default:
        return vms_fetch(t, va, len);
    }
}

static void fold_fault(struct run *r, vms_task *t)
{
    const struct vms_fault *f = vms_last_fault(t);
    fold(r, (uint64_t)f->signo);
    fold(r, (uint64_t)f->code);
    fold(r, f->addr);
    fold(r, (uint64_t)f->pkey);
}

/* A hot address that faults moves on half the time, so that the hot set
 * stays mostly mapped. */
static void move_faulting_hot_address(struct run *r, struct space_model *space, uint64_t va)
{
    if (!chance(r, 50))
        return;
    for (int h = 0; h < HOT_ADDRESSES; h++)
        if (space->hot[h] >> 12 == va >> 12)
            refresh_hot(r, space, h);
}

static void do_access(struct run *r, int ti)
{
    vms_task *t = r->tasks[ti].task;
    uint64_t va;
    enum access_kind kind = pick_access(r, ti, &va);
    size_t len = pick_access_length(r);
    int rc = perform_access(r, t, kind, va, len);
    r->last_was_load = kind == ACCESS_LOAD;
    r->last_va = va;
    r->last_actor = ti;
    fold(r, (uint64_t)rc);
    if (rc) {
        move_faulting_hot_address(r, r->tasks[ti].space, va);
        fold_fault(r, t);
    }
    /* The acting CPU's counters after each access: a changed hit or miss
     * shows at the step that made it. */
    struct vms_cpu_stats cs;
    memset(&cs, 0, sizeof(cs));
    unsigned cpu = vms_task_cpu(t);
    fold(r, cpu);
    fold(r, (uint64_t)vms_get_cpu_stats(r->machine, cpu, &cs));
    fold_bytes(r, &cs, sizeof(cs));
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text),
                 "%s task%d(pid %d, cpu %u) va=%#" PRIx64 " len=%zu -> %d [d %" PRIu64
                 "/%" PRIu64 " s %" PRIu64 "/%" PRIu64 " w %" PRIu64 "]",
                 ACCESS_NAMES[kind], ti, vms_task_pid(t), cpu, va, len, rc, cs.dtlb_hits,
                 cs.dtlb_misses, cs.stlb_hits, cs.stlb_misses, cs.page_walks);
}

/* Every page of a region in turn (up to 160): evictions from every TLB
 * level, and on small machines reclaim and the OOM killer. */
static void do_sweep(struct run *r, int ti)
{
    struct space_model *space = r->tasks[ti].space;
    if (space->nregions == 0)
        return;
    vms_task *t = r->tasks[ti].task;
    const struct region *g = &space->regions[random_below(r, (uint64_t)space->nregions)];
    int store = chance(r, 60);
    uint64_t npages = (g->len + PAGE_BYTES - 1) / PAGE_BYTES, offset = random_below(r, PAGE_BYTES - 8);
    if (npages > SWEEP_MAX_PAGES)
        npages = SWEEP_MAX_PAGES;
    unsigned signals = 0;
    for (uint64_t i = 0; i < npages && !vms_task_killed(t); i++) {
        uint64_t value = i * 0x0101010101010101ULL ^ g->start;
        uint64_t va = g->start + i * PAGE_BYTES + offset;
        int rc = store ? vms_store(t, va, &value, 8) : vms_load(t, va, &value, 8);
        fold(r, (uint64_t)rc);
        fold(r, value);
        signals += rc != 0;
    }
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text),
                 "sweep-%s task%d %#" PRIx64 " pages=%" PRIu64 " signals=%u",
                 store ? "store" : "load", ti, g->start, npages, signals);
}

/* Protections with read-write the most common, every other one present. */
static const int PROTECTIONS[] = {PROT_READ,
                                  PROT_READ | PROT_WRITE,
                                  PROT_READ | PROT_WRITE,
                                  PROT_READ | PROT_WRITE | PROT_EXEC,
                                  PROT_READ | PROT_WRITE,
                                  PROT_READ | PROT_WRITE,
                                  PROT_READ | PROT_EXEC,
                                  PROT_READ | PROT_WRITE | PROT_EXEC,
                                  PROT_EXEC,
                                  PROT_NONE,
                                  PROT_WRITE,
                                  PROT_READ | PROT_WRITE};

static int pick_protection(struct run *r)
{
    return PROTECTIONS[random_below(r, ARRAY_LENGTH(PROTECTIONS))];
}

/* No hint, hints in a few clusters (so that mappings meet and merge),
 * high hints, 5-level-only hints, or MAP_FIXED over part of a region. */
static uint64_t pick_mmap_hint(struct run *r, const struct space_model *space, int *flags)
{
    switch (random_below(r, 7)) {
    case 0: return 0;
    case 1: return 0x10000000ULL + random_below(r, 512) * PAGE_BYTES;
    case 2:
        return 0x10000000ULL + random_below(r, 4) * 0x200000ULL +
               random_below(r, 512) * PAGE_BYTES;
    case 3:
        return 0x500000000000ULL + random_below(r, 4) * 0x40000000ULL +
               random_below(r, 64) * PAGE_BYTES;
    case 4: return 0x100000000ULL * (1 + random_below(r, 8));
    case 5:
        return r->levels == 5 ? 0x00f0000000000000ULL + random_below(r, 16) * 0x8000000000ULL : 0;
    default:
        if (space->nregions == 0)
            return 0;
        const struct region *g = &space->regions[random_below(r, (uint64_t)space->nregions)];
        *flags |= MAP_FIXED;
        return (g->start + random_below(r, g->len)) & ~(PAGE_BYTES - 1);
    }
}

static void do_mmap(struct run *r, int ti)
{
    struct space_model *space = r->tasks[ti].space;
    if (space->nregions == MAX_REGIONS)
        return;
    uint64_t npages = chance(r, 70) ? 1 + random_below(r, 16) : 1 + random_below(r, 96);
    uint64_t len = npages * PAGE_BYTES - (chance(r, 10) ? random_below(r, PAGE_BYTES) : 0);
    int prot = pick_protection(r);
    int flags = (chance(r, 25) ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
    if (chance(r, 8))
        flags |= MAP_POPULATE;
    if (chance(r, 4)) { /* memory pressure: reclaim, swap, OOM on small machines */
        len = (256 + random_below(r, 768)) * PAGE_BYTES;
        prot = PROT_READ | PROT_WRITE;
        flags |= MAP_POPULATE;
    }
    uint64_t hint = pick_mmap_hint(r, space, &flags);
    int64_t rc = vms_mmap(r->tasks[ti].task, hint, len, prot, flags, -1, 0);
    fold(r, (uint64_t)rc);
    if (rc >= 0) {
        remember_region(space, (uint64_t)rc, len, prot);
        if (chance(r, 50))
            space->hot[random_below(r, HOT_ADDRESSES)] = ((uint64_t)rc + random_below(r, len)) & ~7ULL;
    }
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text),
                 "mmap task%d hint=%#" PRIx64 " len=%#" PRIx64 " prot=%d flags=%#x -> %#" PRIx64,
                 ti, hint, len, prot, flags, (uint64_t)rc);
}

/* A region's pages from a random one (or its first) to its end (or fewer). */
static void pick_part_of_region(struct run *r, const struct space_model *space, uint64_t *start,
                                uint64_t *len)
{
    const struct region *g = &space->regions[random_below(r, (uint64_t)space->nregions)];
    uint64_t npages = (g->len + PAGE_BYTES - 1) / PAGE_BYTES;
    uint64_t first = chance(r, 50) ? 0 : random_below(r, npages);
    *start = g->start + first * PAGE_BYTES;
    *len = chance(r, 50) ? (npages - first) * PAGE_BYTES
                         : (1 + random_below(r, npages - first)) * PAGE_BYTES;
}

static void do_munmap(struct run *r, int ti)
{
    struct space_model *space = r->tasks[ti].space;
    if (space->nregions == 0)
        return;
    int k = (int)random_below(r, (uint64_t)space->nregions);
    struct region *g = &space->regions[k];
    uint64_t start = g->start, len = g->len;
    if (chance(r, 40)) { /* part of it */
        uint64_t npages = (g->len + PAGE_BYTES - 1) / PAGE_BYTES;
        uint64_t first = random_below(r, npages);
        start += first * PAGE_BYTES;
        len = (1 + random_below(r, npages - first)) * PAGE_BYTES;
    }
    int rc = vms_munmap(r->tasks[ti].task, start, len);
    fold(r, (uint64_t)rc);
    if (rc == 0 && start == g->start && len >= g->len)
        space->regions[k] = space->regions[--space->nregions];
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text), "munmap task%d %#" PRIx64 "+%#" PRIx64 " -> %d",
                 ti, start, len, rc);
}

static void do_mprotect(struct run *r, int ti)
{
    struct space_model *space = r->tasks[ti].space;
    if (space->nregions == 0)
        return;
    uint64_t start, len;
    pick_part_of_region(r, space, &start, &len);
    int prot = chance(r, 50) ? PROT_READ | PROT_WRITE : pick_protection(r);
    int rc = vms_mprotect(r->tasks[ti].task, start, len, prot);
    fold(r, (uint64_t)rc);
    for (int i = 0; rc == 0 && i < space->nregions; i++) {
        struct region *g = &space->regions[i];
        if (g->start >= start && g->start + g->len <= start + len)
            g->prot = prot;
    }
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text),
                 "mprotect task%d %#" PRIx64 "+%#" PRIx64 " prot=%d -> %d", ti, start, len, prot,
                 rc);
}

static void do_madvise(struct run *r, int ti)
{
    static const int advices[] = {MADV_DONTNEED, MADV_DONTNEED, MADV_DONTNEED,      MADV_PAGEOUT,
                                  MADV_COLD,     MADV_FREE,     MADV_POPULATE_WRITE};
    struct space_model *space = r->tasks[ti].space;
    if (space->nregions == 0)
        return;
    uint64_t start, len;
    pick_part_of_region(r, space, &start, &len);
    int advice = advices[random_below(r, ARRAY_LENGTH(advices))];
    int rc = vms_madvise(r->tasks[ti].task, start, len, advice);
    fold(r, (uint64_t)rc);
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text),
                 "madvise task%d %#" PRIx64 "+%#" PRIx64 " advice=%d -> %d", ti, start, len,
                 advice, rc);
}

/* A fork gets a copy of the parent's picture; a thread shares it. */
static struct space_model *space_for_child(struct space_model *parent, int thread)
{
    if (thread) {
        parent->refs++;
        return parent;
    }
    struct space_model *copy = must_allocate(sizeof(*copy));
    *copy = *parent;
    copy->refs = 1;
    return copy;
}

static void do_fork_or_clone(struct run *r, int ti, int thread)
{
    if (r->ntasks == MAX_TASKS)
        return;
    vms_task *parent = r->tasks[ti].task;
    vms_task *child = thread ? vms_clone_thread(parent) : vms_fork(parent);
    fold_new_task(r, child);
    if (child) {
        add_task(r, child, space_for_child(r->tasks[ti].space, thread));
        if (r->ncpus > 1 && chance(r, 70))
            fold(r, (uint64_t)vms_schedule(child, (unsigned)random_below(r, r->ncpus)));
    }
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text), "%s task%d -> pid %d",
                 thread ? "clone" : "fork", ti, child ? vms_task_pid(child) : -1);
}

static void do_exit(struct run *r, int ti)
{
    if (r->ntasks <= 1)
        return;
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text), "exit task%d pid %d", ti,
                 vms_task_pid(r->tasks[ti].task));
    vms_exit(r->tasks[ti].task);
    forget_task(r, ti);
    r->last_actor = -1;
}

static void do_schedule(struct run *r, int ti)
{
    unsigned cpu = (unsigned)random_below(r, r->ncpus + 1); /* ncpus itself: out of range */
    int rc = vms_schedule(r->tasks[ti].task, cpu);
    fold(r, (uint64_t)rc);
    if (r->options->tracing)
        snprintf(r->op_text, sizeof(r->op_text), "schedule task%d cpu %u -> %d", ti, cpu, rc);
}

/* One step: mostly accesses (85 %), the rest the calls that change what
 * the TLBs may hold. The acting task changes now and then. */
static void step(struct run *r)
{
    r->op_text[0] = 0;
    if (chance(r, 2))
        r->actor = (int)random_below(r, (uint64_t)r->ntasks);
    if (r->actor >= r->ntasks)
        r->actor = 0;
    unsigned roll = (unsigned)random_below(r, 1000);
    fold(r, roll);
    fold(r, (uint64_t)r->actor);
    if (roll < 850)
        do_access(r, r->actor);
    else if (roll < 860)
        do_sweep(r, r->actor);
    else if (roll < 895)
        do_mmap(r, r->actor);
    else if (roll < 910)
        do_munmap(r, r->actor);
    else if (roll < 935)
        do_mprotect(r, r->actor);
    else if (roll < 948)
        do_madvise(r, r->actor);
    else if (roll < 953)
        do_fork_or_clone(r, r->actor, 0);
    else if (roll < 959)
        do_fork_or_clone(r, r->actor, 1);
    else if (roll < 962)
        do_exit(r, r->actor);
    else
        do_schedule(r, chance(r, 50) ? r->actor : (int)random_below(r, (uint64_t)r->ntasks));
    reap_killed_tasks(r);
}

/* ---- one seed ---- */

/* A first task with a few mappings, so that most accesses hit. */
static void set_up_first_task(struct run *r)
{
    spawn_task(r);
    if (r->ntasks == 0)
        return;
    for (int i = 0; i < 5; i++)
        do_mmap(r, 0);
    for (int i = 0; i < HOT_ADDRESSES; i++)
        refresh_hot(r, r->tasks[0].space, i);
}

static void print_trace_line(const struct run *r, long step_number)
{
    printf("step %ld %016" PRIx64 " %016" PRIx64 " %s {stats %04x tlb %04x tables %04x}\n",
           step_number, r->hash, r->event_hash, r->op_text, (unsigned)(r->part_stats & 0xffff),
           (unsigned)(r->part_tlbs & 0xffff), (unsigned)(r->part_tables & 0xffff));
}

static void run_steps(struct run *r)
{
    for (unsigned s = 0; s < r->options->steps; s++) {
        step(r);
        if ((s + 1) % r->full_every == 0)
            fold_full_state(r, 0);
        fold(r, r->event_hash);
        if (r->options->tracing)
            print_trace_line(r, s);
    }
}

/* Totals of all CPUs, for a reader of the line (the hash covers them). */
static void print_seed_line(struct run *r, uint64_t seed)
{
    struct vms_stats st;
    memset(&st, 0, sizeof(st));
    vms_get_stats(r->machine, &st);
    struct vms_cpu_stats sum;
    memset(&sum, 0, sizeof(sum));
    for (unsigned c = 0; c < st.ncpus && c < VMS_MAX_CPUS; c++) {
        sum.dtlb_hits += st.cpu[c].dtlb_hits, sum.dtlb_misses += st.cpu[c].dtlb_misses;
        sum.itlb_hits += st.cpu[c].itlb_hits;
        sum.stlb_hits += st.cpu[c].stlb_hits, sum.stlb_misses += st.cpu[c].stlb_misses;
        sum.page_walks += st.cpu[c].page_walks;
        sum.pde_cache_hits += st.cpu[c].pde_cache_hits;
        sum.pdpte_cache_hits += st.cpu[c].pdpte_cache_hits;
        sum.pml4e_cache_hits += st.cpu[c].pml4e_cache_hits;
        sum.shootdowns += st.cpu[c].shootdowns;
        sum.context_switches += st.cpu[c].context_switches;
    }
    printf("seed %" PRIu64 " hash %016" PRIx64 " ev %016" PRIx64 " | dtlb %" PRIu64 "/%" PRIu64
           " itlb_h %" PRIu64 " stlb %" PRIu64 "/%" PRIu64 " walks %" PRIu64 " pwc %" PRIu64
           "/%" PRIu64 "/%" PRIu64 " shootdn %" PRIu64 " cr3 %" PRIu64 " cow %" PRIu64
           " oom %" PRIu64 " swpout %" PRIu64 " events %" PRIu64 " | %s\n",
           seed, r->hash, r->event_hash, sum.dtlb_hits, sum.dtlb_misses, sum.itlb_hits,
           sum.stlb_hits, sum.stlb_misses, sum.page_walks, sum.pde_cache_hits,
           sum.pdpte_cache_hits, sum.pml4e_cache_hits, sum.shootdowns, sum.context_switches,
           st.cow_faults, st.oom_kill, st.vm.pswpout, r->nevents, r->config_text);
}

static void tear_down(struct run *r)
{
    for (int i = r->ntasks - 1; i >= 0; i--) {
        vms_exit(r->tasks[i].task);
        release_space(r->tasks[i].space);
    }
    r->ntasks = 0;
    vms_machine_destroy(r->machine);
    r->machine = NULL;
}

/* 0, or -1 when the machine could not be made (said on stderr). */
static int run_seed(const struct digest_options *options, const char *root, FILE *devnull,
                    uint64_t seed)
{
    struct run *r = must_allocate(sizeof(*r));
    r->options = options;
    r->root = root;
    r->devnull = devnull;
    r->hash = 0x1234567ULL ^ seed;
    r->event_hash = 0x7654321ULL;
    r->random_state = seed * 0x2545f4914f6cdd1dULL + 1;
    r->last_actor = -1;
    r->full_every = options->full_every;
    if (create_machine(r) != 0) {
        printf("seed %" PRIu64 " NOMACHINE\n", seed);
        free(r);
        return -1;
    }
    set_up_first_task(r);
    if (options->tracing)
        printf("step -1 %016" PRIx64 " %016" PRIx64 " setup %s\n", r->hash, r->event_hash,
               r->config_text);
    run_steps(r);
    fold_full_state(r, 1);
    fold(r, r->event_hash);
    print_seed_line(r, seed);
    tear_down(r);
    free(r);
    return 0;
}

/* ---- arguments ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmsim-equiv-digest [--seeds A-B] [--steps N] [--every K] [--dtlb E:W]\n"
            "       vmsim-equiv-digest --trace SEED [--steps N] [--every K] [--dtlb E:W]\n"
            "Random anonymous-memory runs on vmsim, everything observable folded into a hash:\n"
            "one line per seed, or with --trace one line per step of one seed.\n"
            "  --seeds A-B   the seeds (default 1-300; a single seed: A)\n"
            "  --steps N     steps per seed (default 3000)\n"
            "  --every K     fold the whole state every K steps (default 100; 1 with --trace)\n"
            "  --dtlb E:W    every machine's L1 DTLB: E entries, W ways (default: drawn)\n"
            "  --trace SEED  one seed, a line per step: the first step two builds part\n"
            "Two builds are equivalent when their outputs are identical (scripts/equiv.sh).\n"
            "Exit status: 0; 1 when a machine could not be made; 2 for a bad argument.\n");
}

static int parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A-B, or one seed A. */
static int parse_seed_range(const char *text, struct digest_options *o)
{
    char first[32];
    const char *dash = text ? strchr(text, '-') : NULL;
    if (!text)
        return -1;
    if (!dash) {
        if (parse_u64(text, UINT64_MAX, &o->first_seed))
            return -1;
        o->last_seed = o->first_seed;
        return 0;
    }
    size_t n = (size_t)(dash - text);
    if (n == 0 || n >= sizeof(first))
        return -1;
    memcpy(first, text, n);
    first[n] = 0;
    if (parse_u64(first, UINT64_MAX, &o->first_seed) ||
        parse_u64(dash + 1, UINT64_MAX, &o->last_seed))
        return -1;
    return o->first_seed <= o->last_seed ? 0 : -1;
}

/* E:W, then the machine's own check says whether the shape is allowed. */
static int parse_geometry(const char *text, struct vms_tlb_geometry *g)
{
    char entries[32];
    const char *colon = text ? strchr(text, ':') : NULL;
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof(entries))
        return -1;
    memcpy(entries, text, (size_t)(colon - text));
    entries[colon - text] = 0;
    uint64_t e, w;
    if (parse_u64(entries, 1u << 20, &e) || parse_u64(colon + 1, 1u << 20, &w))
        return -1;
    *g = (struct vms_tlb_geometry){(unsigned)e, (unsigned)w};
    struct vms_config c;
    vms_config_init(&c);
    c.dtlb = *g;
    char why[200];
    if (vms_config_check(&c, why, sizeof(why)) != 0) {
        fprintf(stderr, "vmsim-equiv-digest: --dtlb %s: %s\n", text, why);
        return -1;
    }
    return 0;
}

static int bad_argument(const char *option, const char *value)
{
    fprintf(stderr, "vmsim-equiv-digest: bad value for %s: %s (--help: usage)\n", option,
            value ? value : "(missing)");
    return -1;
}

/* 0, 1 for --help, or -1 after saying what is wrong. */
static int parse_options(int argc, char **argv, struct digest_options *o)
{
    uint64_t v;
    int every_given = 0;
    *o = (struct digest_options){.first_seed = 1, .last_seed = 300, .steps = 3000, .full_every = 100};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(opt, "--seeds")) {
            if (parse_seed_range(value, o))
                return bad_argument(opt, value);
        } else if (!strcmp(opt, "--trace")) {
            if (!value || parse_u64(value, UINT64_MAX, &o->first_seed))
                return bad_argument(opt, value);
            o->last_seed = o->first_seed;
            o->tracing = 1;
        } else if (!strcmp(opt, "--steps")) {
            if (parse_u64(value, 100000000, &v))
                return bad_argument(opt, value);
            o->steps = (unsigned)v;
        } else if (!strcmp(opt, "--every")) {
            if (parse_u64(value, 100000000, &v) || v == 0)
                return bad_argument(opt, value);
            o->full_every = (unsigned)v;
            every_given = 1;
        } else if (!strcmp(opt, "--dtlb")) {
            if (parse_geometry(value, &o->dtlb))
                return bad_argument(opt, value);
            o->dtlb_forced = 1;
        } else {
            fprintf(stderr, "vmsim-equiv-digest: unknown argument: %s (--help: usage)\n", opt);
            return -1;
        }
        i++; /* every option takes a value */
    }
    if (o->tracing && !every_given)
        o->full_every = 1; /* the whole state after every step: the first step that changed it */
    return 0;
}

/* The machines' root folder: empty (only anonymous memory is used), but a
 * machine needs one for its swap file, which is unlinked at once. */
static int make_root(char *path, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/vmsim-equiv.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(path)) {
        fprintf(stderr, "vmsim-equiv-digest: cannot make a folder in %s: %s\n",
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct digest_options options;
    int parsed = parse_options(argc, argv, &options);
    if (parsed != 0)
        return parsed > 0 ? 0 : EXIT_USAGE;
    char root[4096];
    if (make_root(root, sizeof(root)) != 0)
        return 1;
    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) {
        fprintf(stderr, "vmsim-equiv-digest: /dev/null: %s\n", strerror(errno));
        rmdir(root);
        return 1;
    }
    int status = 0;
    for (uint64_t seed = options.first_seed;; seed++) {
        if (run_seed(&options, root, devnull, seed) != 0)
            status = 1;
        fflush(stdout);
        if (seed == options.last_seed)
            break;
    }
    fclose(devnull);
    if (rmdir(root) != 0)
        fprintf(stderr, "vmsim-equiv-digest: %s left behind: %s\n", root, strerror(errno));
    return status;
}
