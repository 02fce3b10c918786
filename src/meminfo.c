/*
 * /proc/meminfo, as Linux's fs/proc/meminfo.c prints it: every line of a
 * 6.18 x86-64 kernel, in its order and format ("Name:", padded to 16
 * columns, the value right-aligned in 8, " kB"). MemAvailable is Linux's
 * si_mem_available: free pages less the reserve (the high watermark), plus
 * the page cache less the smaller of half of it and the low watermark.
 * Cached counts file and shmem pages (Linux's NR_FILE_PAGES less the swap
 * cache and Buffers); Mapped the file and shmem pages some PTE maps.
 * Kernel memory vmsim does not hold (slab, kernel stacks, vmalloc use,
 * per-CPU areas, buffers, huge pages) reads 0; VmallocTotal is the x86-64
 * constant of the paging mode, DirectMap4k all of RAM.
 */
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <inttypes.h>

struct meminfo {
    uint64_t cached, shmem, anon, mapped, mlocked, dirty, swapcache;
};

static struct meminfo count_pages(const vms_machine *m)
{
    struct meminfo mi = {0};
    const struct phys_mem *pm = &m->pm;
    for (uint64_t pfn = 0; pfn < pm->nframes; pfn++) {
        const struct page *p = &pm->pages[pfn];
        if (p->flags & (PG_buddy | PG_reserved | PG_table))
            continue;
        if (p->flags & (PG_file | PG_shmem))
            mi.cached++;
        if (p->flags & PG_shmem)
            mi.shmem++;
        if ((p->flags & PG_anon) && p->mapcount)
            mi.anon++;
        if ((p->flags & (PG_file | PG_shmem)) && p->mapcount)
            mi.mapped++;
        if (p->flags & PG_swapcache)
            mi.swapcache++;
        const struct page *head = &pm->pages[folio_head_pfn(pm, (uint32_t)pfn)];
        if ((head->flags & PG_mlocked) && (p->flags & (PG_anon | PG_file | PG_shmem)))
            mi.mlocked++;
    }
    for (const struct address_space *as = m->inodes; as; as = as->next)
        mi.dirty += as->nrdirty;
    return mi;
}

static void line(FILE *out, const char *name, uint64_t pages)
{
    fprintf(out, "%-16s%8" PRIu64 " kB\n", name, pages * (uint64_t)(PAGE_SIZE / 1024));
}

static void line_kb(FILE *out, const char *name, uint64_t kb)
{
    fprintf(out, "%-16s%8" PRIu64 " kB\n", name, kb);
}

static void line_count(FILE *out, const char *name, uint64_t n)
{
    fprintf(out, "%-16s%8" PRIu64 "\n", name, n);
}

int vms_meminfo(vms_machine *m, FILE *out)
{
    m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(m);
    const struct phys_mem *pm = &m->pm;
    struct meminfo mi = count_pages(m);
    const uint64_t *lru = (const uint64_t[]){pm->lru[LRU_INACTIVE_ANON].nr_pages,
                                             pm->lru[LRU_ACTIVE_ANON].nr_pages,
                                             pm->lru[LRU_INACTIVE_FILE].nr_pages,
                                             pm->lru[LRU_ACTIVE_FILE].nr_pages,
                                             pm->lru[LRU_UNEVICTABLE].nr_pages};
    uint64_t free = pm->nr_free;
    uint64_t pagecache = lru[LRU_INACTIVE_FILE] + lru[LRU_ACTIVE_FILE];
    uint64_t low = m->wmark[WMARK_LOW], reserve = m->wmark[WMARK_HIGH];
    int64_t available = (int64_t)free - (int64_t)reserve + (int64_t)pagecache -
                        (int64_t)(pagecache / 2 < low ? pagecache / 2 : low);
    uint64_t swap_total = m->cfg.swap_bytes >> PAGE_SHIFT;
    line(out, "MemTotal:", pm->nframes);
    line(out, "MemFree:", free);
    line(out, "MemAvailable:", available > 0 ? (uint64_t)available : 0);
    line(out, "Buffers:", 0);
    line(out, "Cached:", mi.cached);
    line(out, "SwapCached:", mi.swapcache);
    line(out, "Active:", lru[LRU_ACTIVE_ANON] + lru[LRU_ACTIVE_FILE]);
    line(out, "Inactive:", lru[LRU_INACTIVE_ANON] + lru[LRU_INACTIVE_FILE]);
    line(out, "Active(anon):", lru[LRU_ACTIVE_ANON]);
    line(out, "Inactive(anon):", lru[LRU_INACTIVE_ANON]);
    line(out, "Active(file):", lru[LRU_ACTIVE_FILE]);
    line(out, "Inactive(file):", lru[LRU_INACTIVE_FILE]);
    line(out, "Unevictable:", lru[LRU_UNEVICTABLE]);
    line(out, "Mlocked:", mi.mlocked);
    line(out, "SwapTotal:", swap_total);
    line(out, "SwapFree:", swap_total - m->nr_swap_used);
    line(out, "Zswap:", 0);
    line(out, "Zswapped:", 0);
    line(out, "Dirty:", mi.dirty);
    line(out, "Writeback:", 0); /* write-back completes at once */
    line(out, "AnonPages:", mi.anon);
    line(out, "Mapped:", mi.mapped);
    line(out, "Shmem:", mi.shmem);
    static const char *const kernel_only[] = {
        "KReclaimable:", "Slab:", "SReclaimable:", "SUnreclaim:", "KernelStack:"};
    for (size_t i = 0; i < sizeof(kernel_only) / sizeof(*kernel_only); i++)
        line(out, kernel_only[i], 0);
    line(out, "PageTables:", pm->nr_table);
    static const char *const none[] = {"SecPageTables:", "NFS_Unstable:", "Bounce:",
                                       "WritebackTmp:"};
    for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
        line(out, none[i], 0);
    line(out, "CommitLimit:", commit_limit(m));
    line(out, "Committed_AS:", committed_pages(m));
    /* The vmalloc area's size less one byte, in KiB: 32 TiB, or 12800 TiB
     * with 5-level paging. */
    line_kb(out, "VmallocTotal:", ((m->cfg.pgtable_levels == 5 ? 12800ULL : 32ULL) << 30) - 1);
    static const char *const unused[] = {"VmallocUsed:", "VmallocChunk:", "Percpu:",
                                         "AnonHugePages:", "ShmemHugePages:", "ShmemPmdMapped:",
                                         "FileHugePages:", "FilePmdMapped:", "Balloon:"};
    for (size_t i = 0; i < sizeof(unused) / sizeof(*unused); i++)
        line(out, unused[i], 0);
    line_count(out, "HugePages_Total:", 0);
    line_count(out, "HugePages_Free:", 0);
    line_count(out, "HugePages_Rsvd:", 0);
    line_count(out, "HugePages_Surp:", 0);
    line_kb(out, "Hugepagesize:", 2048);
    line_kb(out, "Hugetlb:", 0);
    line(out, "DirectMap4k:", pm->nframes);
    line_kb(out, "DirectMap2M:", 0);
    return ferror(out) ? -EIO : 0;
}
