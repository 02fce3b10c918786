/*
 * The machine: one simulated kernel with its RAM, CPUs and counters. Two
 * machines in one process share nothing.
 */
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void vms_config_init(struct vms_config *c)
{
    memset(c, 0, sizeof(*c));
    c->phys_bytes = 1ULL << 30;
    c->ncpus = 4;
    c->pgtable_levels = 4;
    c->dtlb = (struct vms_tlb_geometry){64, 4};
    c->itlb = (struct vms_tlb_geometry){128, 8};
    c->stlb = (struct vms_tlb_geometry){1536, 12};
    c->pde_cache = (struct vms_tlb_geometry){32, 4};
    c->pdpte_cache = (struct vms_tlb_geometry){4, 4};
    c->pml4e_cache = (struct vms_tlb_geometry){2, 2};
    c->tlb_flush_ceiling = 33;
    c->mmap_min_addr = 4096;
    c->max_map_count = 65530;
    c->fault_around_bytes = 65536;
    c->readahead_kb = 128;
    c->max_sectors_kb = 1280;
    c->max_file_bytes = 0xffffffff000ULL;
    c->root = ".";
    c->memlock_rlimit = 8ULL << 20;
    c->stack_rlimit = 8ULL << 20;
    c->data_rlimit = UINT64_MAX;
    c->hwcap = 0x178bebff;
    c->hwcap2 = 0;
    c->minsigstksz = 3376;
    c->pku = 1;
    c->zero_page = 1;
    c->overcommit_ratio = 50;
    c->admin_reserve_kbytes = UINT64_MAX;
    c->user_reserve_kbytes = UINT64_MAX;
    c->large_folios = 1;
    c->min_free_kbytes = UINT64_MAX;
    c->watermark_scale_factor = 10;
    c->swappiness = 60;
    c->page_cluster = 3;
}

/* The ranges vms_config_check enforces: what the structures below can hold. */
#define MIN_PHYS_BYTES (64 * PAGE_SIZE)
#define MAX_PHYS_BYTES (((uint64_t)PFN_NONE << PAGE_SHIFT) - 1) /* frame numbers are 32-bit */
#define MAX_IO_KB (1u << 20)

/* Refuses field `name` holding `value`: always -EINVAL. */
static int refuse(char *msg, size_t len, const char *name, uint64_t value, const char *allowed)
{
    if (len)
        snprintf(msg, len, "%s = %" PRIu64 ": must be %s", name, value, allowed);
    return -EINVAL;
}

static int check_range(char *msg, size_t len, const char *name, uint64_t value, uint64_t lo,
                       uint64_t hi)
{
    if (value >= lo && value <= hi)
        return 0;
    char allowed[48];
    snprintf(allowed, sizeof(allowed), "%" PRIu64 "..%" PRIu64, lo, hi);
    return refuse(msg, len, name, value, allowed);
}

static int power_of_two(uint64_t v) { return v && !(v & (v - 1)); }

/* A TLB is `ways`-way set-associative with a power-of-two number of sets. */
static int check_tlb(char *msg, size_t len, const char *name, struct vms_tlb_geometry g)
{
    char field[24];
    snprintf(field, sizeof(field), "%s.ways", name);
    int err = check_range(msg, len, field, g.ways, 1, UINT32_MAX);
    if (err)
        return err;
    snprintf(field, sizeof(field), "%s.entries", name);
    if (g.entries && g.entries % g.ways == 0 && power_of_two(g.entries / g.ways))
        return 0;
    char allowed[96];
    snprintf(allowed, sizeof(allowed), "%s.ways (%u) times a power of two (1, 2, 4, ...)", name,
             g.ways);
    return refuse(msg, len, field, g.entries, allowed);
}

/* A paging-structure cache: absent (0 entries, ways ignored) or a TLB's shape. */
static int check_cache(char *msg, size_t len, const char *name, struct vms_tlb_geometry g)
{
    return g.entries ? check_tlb(msg, len, name, g) : 0;
}

static int check_fields(const struct vms_config *c, char *msg, size_t len)
{
    int err = check_range(msg, len, "phys_bytes", c->phys_bytes, MIN_PHYS_BYTES, MAX_PHYS_BYTES);
    if (!err)
        err = check_range(msg, len, "ncpus", c->ncpus, 1, VMS_MAX_CPUS);
    if (!err && c->pgtable_levels != 4 && c->pgtable_levels != 5) {
        if (len)
            snprintf(msg, len, "pgtable_levels = %d: must be 4 or 5", c->pgtable_levels);
        err = -EINVAL;
    }
    if (!err)
        err = check_tlb(msg, len, "dtlb", c->dtlb);
    if (!err)
        err = check_tlb(msg, len, "itlb", c->itlb);
    if (!err)
        err = check_tlb(msg, len, "stlb", c->stlb);
    if (!err)
        err = check_cache(msg, len, "pde_cache", c->pde_cache);
    if (!err)
        err = check_cache(msg, len, "pdpte_cache", c->pdpte_cache);
    if (!err)
        err = check_cache(msg, len, "pml4e_cache", c->pml4e_cache);
    if (!err && !(power_of_two(c->fault_around_bytes) && c->fault_around_bytes >= PAGE_SIZE &&
                  c->fault_around_bytes <= PTRS_PER_TABLE * PAGE_SIZE))
        err = refuse(msg, len, "fault_around_bytes", c->fault_around_bytes,
                     "a power of two, 4096..2097152");
    if (!err)
        err = check_range(msg, len, "max_map_count", c->max_map_count, 1, INT32_MAX - 1);
    if (!err)
        err = check_range(msg, len, "readahead_kb", c->readahead_kb, 4, MAX_IO_KB);
    if (!err)
        err = check_range(msg, len, "max_sectors_kb", c->max_sectors_kb, 4, MAX_IO_KB);
    if (!err)
        err = check_range(msg, len, "max_file_bytes", c->max_file_bytes, PAGE_SIZE, INT64_MAX);
    if (!err)
        err = check_range(msg, len, "overcommit_memory", c->overcommit_memory, 0, 2);
    if (!err)
        err = check_range(msg, len, "swappiness", c->swappiness, 0, 200);
    if (!err)
        err = check_range(msg, len, "page_cluster", c->page_cluster, 0, 10);
    if (!err)
        err = check_range(msg, len, "swap_bytes", c->swap_bytes, 0, 1ULL << 43);
    if (!err)
        err = check_range(msg, len, "watermark_scale_factor", c->watermark_scale_factor, 1, 3000);
    if (!err && c->min_free_kbytes != UINT64_MAX && c->min_free_kbytes >= c->phys_bytes / 1024)
        err = refuse(msg, len, "min_free_kbytes", c->min_free_kbytes,
                     "below phys_bytes / 1024, or UINT64_MAX (Linux's boot value)");
    return err;
}

int vms_config_check(const struct vms_config *c, char *msg, size_t len)
{
    if (len)
        msg[0] = '\0';
    if (!c) {
        if (len)
            snprintf(msg, len, "no config (NULL)");
        return -EINVAL;
    }
    return check_fields(c, msg, len);
}

/* What a freed frame held, in the words of its VMS_EV_FRAME_ALLOC. */
static const char *frame_use(uint32_t flags)
{
    if (flags & PG_anon)
        return "anon";
    if (flags & PG_shmem)
        return "shmem";
    if (flags & PG_file)
        return "page cache";
    return "other";
}

static void frame_freed(struct phys_mem *pm, uint32_t pfn, unsigned order, uint32_t flags)
{
    vms_machine *m = (vms_machine *)((char *)pm - offsetof(struct vms_machine, pm));
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_FREE, .pa = (uint64_t)pfn << PAGE_SHIFT,
                                       .level = (int)order, .detail = frame_use(flags)});
}

vms_machine *vms_machine_create(const struct vms_config *c)
{
    if (vms_config_check(c, NULL, 0)) {
        errno = EINVAL;
        return NULL;
    }
    vms_machine *m = calloc(1, sizeof(*m));
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    m->cfg = *c;
    m->next_pid = 1000;
    m->next_ino = 1000;
    m->aslr_state = c->aslr_seed;
    m->root_fd = -1;
    m->swap.fd = -1;
    int err = fs_init(m);
    if (!err)
        err = phys_mem_init(&m->pm, c->phys_bytes);
    if (!err)
        setup_watermarks(m);
    if (!err)
        err = swap_init(m);
    m->pm.freed = frame_freed;
    m->cpus = err ? NULL : calloc(c->ncpus, sizeof(*m->cpus));
    if (!err && !m->cpus)
        err = -ENOMEM;
    for (unsigned i = 0; !err && i < c->ncpus; i++) {
        err = cpu_init(&m->cpus[i], i, c);
        if (!err)
            m->ncpus = i + 1;
    }
    if (err) {
        vms_machine_destroy(m);
        errno = -err;
        return NULL;
    }
    return m;
}

void vms_machine_destroy(vms_machine *m)
{
    if (!m)
        return;
    while (m->tasks)
        vms_exit(m->tasks);
    vms_sync(m); /* nothing dirty is ever dropped */
    while (m->inodes) {
        struct address_space *as = m->inodes;
        m->inodes = as->next;
        mapping_destroy(m, as);
    }
    swap_exit(m);
    fs_exit(m);
    for (unsigned i = 0; i < m->ncpus; i++)
        cpu_destroy(&m->cpus[i]);
    free(m->cpus);
    phys_mem_destroy(&m->pm);
    free(m);
}

/* splitmix64: the machine's own deterministic randomness (ASLR). */
uint64_t machine_random(vms_machine *m)
{
    uint64_t z = (m->aslr_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A CPU's counters: its L1 TLBs' hits are those the slow path counted and
 * the ticks of their clocks the fast path made (one per hit). */
static void cpu_stats_read(const struct cpu *c, struct vms_cpu_stats *out)
{
    *out = c->st;
    out->dtlb_hits += c->dclock.now - c->dclock.slow;
    out->itlb_hits += c->iclock.now - c->iclock.slow;
}

void vms_get_stats(vms_machine *m, struct vms_stats *s)
{
    m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(m);
    memset(s, 0, sizeof(*s));
    s->ncpus = m->ncpus;
    for (unsigned i = 0; i < m->ncpus; i++) {
        const struct vms_cpu_stats *c = &s->cpu[i];
        cpu_stats_read(&m->cpus[i], &s->cpu[i]);
        s->tlb_hits += c->dtlb_hits + c->itlb_hits + c->stlb_hits;
        s->tlb_misses += c->stlb_misses;
        s->page_walks += c->page_walks;
        s->walk_refs += c->walk_refs;
        s->shootdowns += c->shootdowns;
        s->ipis += c->ipis_sent;
        s->flushes_full += c->flushes_full;
        s->flushes_single += c->flushes_single;
        s->context_switches += c->context_switches;
    }
    s->minor_faults = m->minor_faults;
    s->major_faults = m->major_faults;
    s->cow_faults = m->cow_faults;
    s->frames_total = m->pm.nframes;
    s->frames_used = frames_used(&m->pm);
    s->pgtable_frames = m->pm.nr_table;
    for (const struct address_space *as = m->inodes; as; as = as->next) {
        s->cache_frames += as->pages->count;
        s->dirty_pages += as->nrdirty;
    }
    s->swap_used = m->nr_swap_used;
    s->io = m->io;
    s->oom_kill = m->oom_kills;
    s->vm = m->vmstat;
    memcpy(s->watermark, m->wmark, sizeof(s->watermark));
}

int vms_get_cpu_stats(vms_machine *m, unsigned cpu, struct vms_cpu_stats *out)
{
    if (cpu >= m->ncpus)
        return -EINVAL;
    cpu_stats_read(&m->cpus[cpu], out);
    return 0;
}

static void cpu_stats_diff(const struct vms_cpu_stats *a, const struct vms_cpu_stats *b,
                           struct vms_cpu_stats *d)
{
#define D(f) d->f = a->f - b->f
    D(dtlb_hits); D(dtlb_misses); D(itlb_hits); D(itlb_misses); D(stlb_hits); D(stlb_misses);
    D(page_walks); D(walk_refs); D(pde_cache_hits); D(pdpte_cache_hits); D(pml4e_cache_hits);
    D(walk_refs_saved); D(flushes_full); D(flushes_single); D(shootdowns);
    D(ipis_sent); D(ipis_received); D(context_switches); D(lazy_skips);
#undef D
}

void vms_stats_diff(const struct vms_stats *after, const struct vms_stats *before,
                    struct vms_stats *out)
{
    struct vms_stats d; /* out may alias either input */
    memset(&d, 0, sizeof(d));
#define D(f) d.f = after->f - before->f
    D(tlb_hits); D(tlb_misses); D(page_walks); D(walk_refs); D(shootdowns); D(ipis);
    D(flushes_full); D(flushes_single); D(context_switches);
    D(minor_faults); D(major_faults); D(cow_faults);
    D(frames_used); D(pgtable_frames); D(cache_frames); D(dirty_pages); D(swap_used);
    D(io.disk_to_cache); D(io.cache_to_user); D(io.user_to_cache); D(io.cache_to_disk);
    D(io.disk_reads); D(io.disk_writes);
    D(oom_kill);
    D(vm.pgscan_kswapd); D(vm.pgscan_direct); D(vm.pgsteal_kswapd); D(vm.pgsteal_direct);
    D(vm.pgscan_anon); D(vm.pgscan_file); D(vm.pgsteal_anon); D(vm.pgsteal_file);
    D(vm.pgrefill); D(vm.pgactivate); D(vm.pgdeactivate); D(vm.pgrotated); D(vm.pgpgout);
    D(vm.pswpin); D(vm.pswpout); D(vm.allocstall); D(vm.pageoutrun);
    D(vm.unevictable_pgs_mlocked); D(vm.unevictable_pgs_munlocked);
    D(vm.workingset_refault_anon); D(vm.workingset_refault_file);
    D(vm.workingset_activate_anon); D(vm.workingset_activate_file);
    D(vm.workingset_restore_anon); D(vm.workingset_restore_file);
#undef D
    d.frames_total = after->frames_total;
    memcpy(d.watermark, after->watermark, sizeof(d.watermark));
    d.ncpus = after->ncpus;
    for (unsigned i = 0; i < VMS_MAX_CPUS; i++)
        cpu_stats_diff(&after->cpu[i], &before->cpu[i], &d.cpu[i]);
    *out = d;
}

int vms_phys_read(vms_machine *m, uint64_t pa, void *dst, size_t len)
{
    m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(m);
    uint64_t size = m->pm.nframes << PAGE_SHIFT;
    if (pa > size || len > size - pa)
        return -EFAULT;
    memcpy(dst, m->pm.ram + pa, len);
    return 0;
}
