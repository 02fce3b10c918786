/*
 * The machine: one simulated kernel with its RAM, CPUs and counters. Two
 * machines in one process share nothing.
 */
#include "internal.h"
#include "xarray.h"

#include <errno.h>
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
    c->tlb_flush_ceiling = 33;
    c->mmap_min_addr = 4096;
    c->max_map_count = 65530;
    c->fault_around_bytes = 65536;
    c->readahead_kb = 128;
    c->max_sectors_kb = 1280;
    c->root = ".";
    c->memlock_rlimit = 8ULL << 20;
    c->pku = 1;
    c->zero_page = 1;
    c->overcommit_ratio = 50;
    c->admin_reserve_kbytes = UINT64_MAX;
    c->user_reserve_kbytes = UINT64_MAX;
    c->large_folios = 1;
    c->min_free_kbytes = UINT64_MAX;
    c->watermark_scale_factor = 10;
    c->swappiness = 60;
}

static int config_valid(const struct vms_config *c)
{
    unsigned fa = c->fault_around_bytes;
    return c->ncpus >= 1 && c->ncpus <= VMS_MAX_CPUS &&
           (c->pgtable_levels == 4 || c->pgtable_levels == 5) &&
           c->phys_bytes >= 64 * PAGE_SIZE && (c->phys_bytes >> PAGE_SHIFT) < PFN_NONE &&
           fa >= PAGE_SIZE && fa <= PTRS_PER_TABLE * PAGE_SIZE && (fa & (fa - 1)) == 0 &&
           c->max_map_count >= 1 && c->max_map_count < INT32_MAX &&
           c->readahead_kb >= 4 && c->readahead_kb <= (1u << 20) &&
           c->max_sectors_kb >= 4 && c->max_sectors_kb <= (1u << 20) && c->overcommit_memory <= 2 &&
           c->swappiness <= 200 && c->watermark_scale_factor >= 1 &&
           c->watermark_scale_factor <= 3000 &&
           (c->min_free_kbytes == UINT64_MAX || c->min_free_kbytes < c->phys_bytes / 1024);
}

vms_machine *vms_machine_create(const struct vms_config *c)
{
    if (!c || !config_valid(c)) {
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
    int err = fs_init(m);
    if (!err)
        err = phys_mem_init(&m->pm, c->phys_bytes);
    if (!err)
        setup_watermarks(m);
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

void vms_get_stats(vms_machine *m, struct vms_stats *s)
{
    m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(m);
    memset(s, 0, sizeof(*s));
    s->ncpus = m->ncpus;
    for (unsigned i = 0; i < m->ncpus; i++) {
        const struct vms_cpu_stats *c = &m->cpus[i].st;
        s->cpu[i] = *c;
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
    s->io = m->io;
    s->oom_kill = m->oom_kills;
    s->vm = m->vmstat;
    memcpy(s->watermark, m->wmark, sizeof(s->watermark));
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
