/*
 * The swap area, as Linux's mm/swapfile.c and mm/page_io.c: config.swap_bytes
 * of slots in a host file the machine makes for itself (an unnamed file in
 * its root folder, or, where the filesystem cannot make one, a file in
 * $TMPDIR removed at once), read and written a page at a time. Slot 0 is
 * the header, as in a Linux swap file, so the file holds one page more
 * than SwapTotal. Each slot has a count (swap_map): the swap entries that
 * name it (in PTEs), plus SWAP_HAS_CACHE while the swap cache holds a page
 * for it (src/swap_state.c). Slots are handed out in clusters of 512, as
 * Linux 6.18's allocator does on a disk without discard: consecutive slots
 * of the current cluster, then the first cluster in use with room (the
 * nonfull list, where swapon puts the header's cluster: the first page
 * swapped goes to slot 1, host-measured), then the first free cluster.
 * Simplifications: one swap area (type 0), no priorities, no discard, no
 * per-CPU clusters (one current cluster), no swapoff.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_TMPFILE */
#endif
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWAPFILE_CLUSTER 512

static int open_swap_file(vms_machine *m, uint64_t bytes)
{
    int fd = m->root_fd >= 0 ? openat(m->root_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1;
    if (fd < 0) {
        const char *dir = getenv("TMPDIR");
        char path[4096];
        snprintf(path, sizeof(path), "%s/vmsim-swap-XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkstemp(path);
        if (fd < 0)
            return -errno;
        unlink(path);
    }
    if (ftruncate(fd, (off_t)bytes)) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int swap_init(vms_machine *m)
{
    struct swap_info *si = &m->swap;
    si->fd = -1;
    uint64_t slots = m->cfg.swap_bytes >> PAGE_SHIFT;
    if (!slots)
        return 0;
    si->max = slots + 1; /* slot 0: the header */
    si->nr_clusters = (si->max + SWAPFILE_CLUSTER - 1) / SWAPFILE_CLUSTER;
    si->map = calloc(si->max, sizeof(*si->map));
    si->cache = calloc(si->max, sizeof(*si->cache));
    si->cluster_used = calloc(si->nr_clusters, sizeof(*si->cluster_used));
    si->shadow = calloc(si->max, sizeof(*si->shadow));
    if (!si->map || !si->cache || !si->cluster_used || !si->shadow)
        return -ENOMEM;
    si->map[0] = SWAP_MAP_BAD; /* the header is never handed out */
    si->cluster_used[0] = 1;
    int fd = open_swap_file(m, si->max << PAGE_SHIFT);
    if (fd < 0)
        return fd;
    si->fd = fd;
    return 0;
}

void swap_exit(vms_machine *m)
{
    struct swap_info *si = &m->swap;
    if (si->fd >= 0)
        close(si->fd);
    free(si->map);
    free(si->cache);
    free(si->cluster_used);
    free(si->shadow);
    writeback_exit(m);
    memset(si, 0, sizeof(*si));
    si->fd = -1;
}

uint64_t swap_pages_total(const vms_machine *m) { return m->swap.max ? m->swap.max - 1 : 0; }

uint64_t swap_pages_free(const vms_machine *m)
{
    return swap_pages_total(m) - m->swap.inuse;
}

int vm_swap_full(const vms_machine *m)
{
    return m->swap.inuse * 2 > swap_pages_total(m);
}

static int cluster_has_room(const struct swap_info *si, uint64_t c)
{
    uint64_t end = (c + 1) * SWAPFILE_CLUSTER;
    uint64_t size = (end > si->max ? si->max : end) - c * SWAPFILE_CLUSTER;
    return si->cluster_used[c] < size;
}

/* The first free slot of cluster c from slot from on; 0 if none. */
static uint64_t scan_cluster(const struct swap_info *si, uint64_t c, uint64_t from)
{
    uint64_t end = (c + 1) * SWAPFILE_CLUSTER;
    if (end > si->max)
        end = si->max;
    for (uint64_t off = from; off < end; off++)
        if (!si->map[off])
            return off;
    return 0;
}

uint64_t get_swap_page(vms_machine *m)
{
    struct swap_info *si = &m->swap;
    if (!si->max || si->inuse == si->max - 1)
        return 0;
    uint64_t off = si->next ? scan_cluster(si, si->next / SWAPFILE_CLUSTER, si->next) : 0;
    for (uint64_t c = 0; !off && c < si->nr_clusters; c++) /* nonfull clusters first */
        if (si->cluster_used[c] && cluster_has_room(si, c))
            off = scan_cluster(si, c, c * SWAPFILE_CLUSTER);
    for (uint64_t c = 0; !off && c < si->nr_clusters; c++)
        if (!si->cluster_used[c])
            off = scan_cluster(si, c, c * SWAPFILE_CLUSTER);
    if (!off)
        return 0;
    si->map[off] = SWAP_HAS_CACHE;
    si->cluster_used[off / SWAPFILE_CLUSTER]++;
    si->inuse++;
    m->nr_swap_used = si->inuse;
    si->next = (off + 1) % SWAPFILE_CLUSTER ? off + 1 : 0;
    return off;
}

static void swap_slot_free(vms_machine *m, uint64_t off)
{
    struct swap_info *si = &m->swap;
    si->cluster_used[off / SWAPFILE_CLUSTER]--;
    si->shadow[off] = 0; /* nothing will read this page back */
    si->inuse--;
    m->nr_swap_used = si->inuse;
}

void swap_duplicate(vms_machine *m, uint64_t off)
{
    m->swap.map[off]++;
}

/* Drops one reference to the slot; the slot is free once nothing names it. */
void swap_put(vms_machine *m, uint64_t off)
{
    uint16_t *c = &m->swap.map[off];
    if ((*c & ~SWAP_HAS_CACHE) == 0)
        return;
    (*c)--;
    if (!*c)
        swap_slot_free(m, off);
}

void swap_put_cache(vms_machine *m, uint64_t off)
{
    uint16_t *c = &m->swap.map[off];
    *c &= (uint16_t)~SWAP_HAS_CACHE;
    if (!*c)
        swap_slot_free(m, off);
}

unsigned swap_count(const vms_machine *m, uint64_t off)
{
    return m->swap.map[off] & (uint16_t)~SWAP_HAS_CACHE;
}

/* A PTE that held a swap entry is gone (Linux's free_swap_and_cache): the
 * slot loses a reference, and a page left in the swap cache that nothing
 * maps or names any more goes with it. */
void free_swap_and_cache(vms_machine *m, uint64_t off)
{
    swap_put(m, off);
    uint32_t pfn = swap_cache_pfn(m, off);
    if (pfn != PFN_NONE && !swap_count(m, off) && !m->pm.pages[pfn].mapcount &&
        m->pm.pages[pfn].refcount == 1) {
        delete_from_swap_cache(m, pfn);
        put_page(&m->pm, pfn);
    }
}

/* What reclaim wrote where: the page, its slot, the entry its PTEs hold. */
static void swap_out_event(vms_machine *m, uint32_t pfn, uint64_t off)
{
    const struct page *p = &m->pm.pages[pfn];
    trace_event(m, &(struct vms_event){.kind = VMS_EV_SWAP_OUT, .pa = (uint64_t)pfn << PAGE_SHIFT,
                                       .a = p->index << PAGE_SHIFT, .b = off,
                                       .entry = swp_entry_pte(0, off, 0),
                                       .detail = (p->flags & PG_shmem) ? "shmem" : "anon"});
}

int swap_writepage(vms_machine *m, uint32_t pfn)
{
    uint64_t off = m->pm.pages[pfn].swap_off;
    const uint8_t *p = pfn_to_virt(&m->pm, pfn);
    for (size_t done = 0; done < PAGE_SIZE;) {
        ssize_t n = pwrite(m->swap.fd, p + done, PAGE_SIZE - done, (off_t)(off << PAGE_SHIFT) + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    m->vmstat.pswpout++;
    m->pm.pages[pfn].flags &= ~PG_dirty;
    swap_out_event(m, pfn, off);
    return 0;
}

int swap_readpage(vms_machine *m, uint32_t pfn, uint64_t off)
{
    uint8_t *p = pfn_to_virt(&m->pm, pfn);
    for (size_t done = 0; done < PAGE_SIZE;) {
        ssize_t n = pread(m->swap.fd, p + done, PAGE_SIZE - done, (off_t)(off << PAGE_SHIFT) + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    m->vmstat.pswpin++;
    return 0;
}

int folio_free_swap(vms_machine *m, uint32_t pfn)
{
    struct page *p = &m->pm.pages[pfn];
    if (!(p->flags & PG_swapcache) || swap_count(m, p->swap_off))
        return 0;
    delete_from_swap_cache(m, pfn); /* the page is its only copy now */
    put_page(&m->pm, pfn);
    return 1;
}
