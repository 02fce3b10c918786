/*
 * The page cache, as Linux's mm/filemap.c keeps it: every memory object
 * (a host file's inode, or a shmem object) holds its pages in an index by
 * page offset, and the list of VMAs that map it (i_mmap), through which its
 * pages can be found in every address space. A miss reads the page from the
 * host file; read() and write() copy between cache and user memory; dirty
 * pages are written back (write-protecting their mappings first) and never
 * dropped while dirty, except by a truncate that cuts them off.
 * With config.large_folios (ext4 since Linux 6.16) a file's pages come in
 * folios: one aligned block of 2^order frames from the buddy allocator for
 * 2^order consecutive, aligned indices. write() sizes them from its length,
 * readahead grows their order window by window (mm/readahead.c), truncation
 * and hole punching split the folio they cut (mm/truncate.c), and dirt,
 * write-back and reclaim take a folio whole. A readahead window's folios
 * are locked until the readahead call returns, and reclaim passes over them.
 * Shmem objects keep order-0 pages (tmpfs without huge=).
 * Simplifications: i_size is the machine's own (the host file is extended on
 * write-back); reads and write-back are synchronous (the host's fault-around
 * skips a folio still being read; vmsim's I/O is always done); the index
 * holds one entry per page, each naming its own frame (Linux stores a
 * folio once); a split fails for a dirty folio only (ext4's dirty buffers),
 * never for a clean one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pread, pwrite, fallocate */
#endif
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PAGECACHE_ORDER 9 /* 2 MiB folios at most (x86-64's PMD order) */

void mapping_get(struct address_space *as) { as->refcount++; }

static int drop_page(void *arg, uint64_t index, uint32_t pfn)
{
    (void)index;
    put_page(arg, pfn);
    return 0;
}

/* Frees the object and its pages; the caller has written back what was dirty. */
void mapping_destroy(vms_machine *m, struct address_space *as)
{
    xa_for_each(as->pages, drop_page, &m->pm);
    xa_destroy(as->pages);
    free(as->pages);
    workingset_file_destroy(as);
    if (as->swapped) {
        shmem_free_swap(m, as, 0, UINT64_MAX);
        xa_destroy(as->swapped);
        free(as->swapped);
    }
    ext_destroy(&as->extents);
    if (as->host_fd >= 0)
        close(as->host_fd);
    if (as->host_wfd >= 0)
        close(as->host_wfd);
    free(as->path);
    free(as);
}

/* A shmem object dies with its last mapping; a file's pages stay cached
 * (no reclaim yet) until the machine is destroyed. */
void mapping_put(vms_machine *m, struct address_space *as)
{
    if (--as->refcount == 0 && as->kind == MAPPING_SHMEM)
        mapping_destroy(m, as);
}

uint32_t find_get_page(const struct address_space *as, uint64_t index)
{
    return xa_load(as->pages, index);
}

void vma_link_file(struct vm_area_struct *vma)
{
    struct address_space *as = vma->mapping;
    vma->shared_prev = NULL;
    vma->shared_next = as->i_mmap;
    if (as->i_mmap)
        as->i_mmap->shared_prev = vma;
    as->i_mmap = vma;
}

void vma_unlink_file(struct vm_area_struct *vma)
{
    struct address_space *as = vma->mapping;
    if (vma->shared_prev)
        vma->shared_prev->shared_next = vma->shared_next;
    else if (as->i_mmap == vma)
        as->i_mmap = vma->shared_next;
    if (vma->shared_next)
        vma->shared_next->shared_prev = vma->shared_prev;
    vma->shared_next = vma->shared_prev = NULL;
}

/* ---- host files: reading pages in, writing them back ---- */

static ssize_t pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 && done == 0 ? -1 : (ssize_t)done;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static int pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* Reads page index of the host file into p, zero-filling past its end. */
static void read_page_from_disk(vms_machine *m, struct address_space *as, uint64_t index,
                                uint8_t *p)
{
    ssize_t n = pread_full(as->host_fd, p, PAGE_SIZE, index << PAGE_SHIFT);
    if (n < 0)
        n = 0; /* an unreadable host file reads as a hole */
    m->io.disk_to_cache += (uint64_t)n;
    m->io.disk_reads++;
    memset(p + n, 0, PAGE_SIZE - (size_t)n);
}

/* A new folio of 2^order page-cache pages at index (aligned to it): zeroed,
 * or read from the host file. Returns its first frame; PFN_NONE when out of
 * memory. A large folio never calls the OOM killer (Linux's __GFP_NORETRY
 * above the mapping's smallest order). */
static uint32_t add_folio_to_page_cache(vms_machine *m, struct address_space *as, uint64_t index,
                                        unsigned order, int read_from_disk, enum gfp gfp)
{
    uint32_t pfn = alloc_pages_gfp(m, order, order ? GFP_NORETRY : gfp);
    if (pfn == PFN_NONE)
        return PFN_NONE;
    uint32_t nr = 1u << order;
    for (uint32_t i = 0; i < nr; i++) {
        uint8_t *p = pfn_to_virt(&m->pm, pfn + i);
        if (read_from_disk)
            read_page_from_disk(m, as, index + i, p);
        else
            memset(p, 0, PAGE_SIZE);
        struct page *page = pfn_to_page(&m->pm, pfn + i);
        page->flags = PG_file;
        page->mapping = as;
        page->index = index + i;
    }
    folio_set_order(&m->pm, pfn, order);
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = index << PAGE_SHIFT,
                                       .pa = (uint64_t)pfn << PAGE_SHIFT, .level = (int)order,
                                       .detail = read_from_disk ? "page cache"
                                                                : "page cache, zeroed"});
    for (uint32_t i = 0; i < nr; i++) {
        if (xa_store(as->pages, index + i, pfn + i)) {
            while (i--)
                xa_erase(as->pages, index + i);
            for (uint32_t j = 0; j < nr; j++)
                put_page(&m->pm, pfn + j);
            return PFN_NONE;
        }
    }
    workingset_file_refault(m, as, index, pfn); /* back soon enough: active */
    lru_add(&m->pm, pfn); /* file folios start inactive */
    return pfn;
}

/* A new page-cache page at index: zeroed, or read from the host file. */
static uint32_t add_to_page_cache(vms_machine *m, struct address_space *as, uint64_t index,
                                  int read_from_disk, enum gfp gfp)
{
    return add_folio_to_page_cache(m, as, index, 0, read_from_disk, gfp);
}

/* Does the cache hold any page of [index, index + n)? */
static int range_has_page(const struct address_space *as, uint64_t index, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (xa_load(as->pages, index + i) != PFN_NONE)
            return 1;
    return 0;
}

static unsigned ilog2_u64(uint64_t v) { return 63u - (unsigned)__builtin_clzll(v); }

/* The largest order that index is aligned to, at most order. */
static unsigned align_order(uint64_t index, unsigned order)
{
    if (index & ((1ULL << order) - 1))
        return (unsigned)__builtin_ctzll(index);
    return order;
}

int page_read_now(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (!(page->flags & PG_unread))
        return 0;
    page->flags &= ~PG_unread; /* its bytes were read when it was made */
    return 1;
}

uint32_t filemap_get_page(vms_machine *m, struct address_space *as, uint64_t index, int *major)
{
    uint32_t pfn = xa_load(as->pages, index);
    if (pfn != PFN_NONE)
        return pfn;
    if (major)
        *major = 1;
    return add_to_page_cache(m, as, index, 1, GFP_USER);
}

/* Linux's read_pages: the folios a readahead batch adds are locked from
 * the moment they join the page cache until their read ends, so reclaim,
 * which their own allocations run, passes over them (shrink_folio_list's
 * folio_trylock fails): a window larger than memory stops when memory is
 * full of it. Simplification: vmsim reads each folio as it adds it, and
 * the window's folios are unlocked when the readahead call returns (Linux's
 * reads end later, asynchronously: none ends while the window is still
 * being allocated). */
static void ra_unlock(vms_machine *m, struct address_space *as, uint64_t first, uint64_t end)
{
    for (uint64_t i = first; i < end; i++) {
        uint32_t pfn = xa_load(as->pages, i);
        if (pfn != PFN_NONE)
            m->pm.pages[pfn].flags &= ~PG_locked;
    }
}

/* A folio a readahead batch adds: locked until ra_unlock. */
static uint32_t ra_add_folio(vms_machine *m, struct address_space *as, uint64_t index, unsigned order)
{
    uint32_t pfn = add_folio_to_page_cache(m, as, index, order, 1, GFP_NORETRY);
    if (pfn != PFN_NONE)
        m->pm.pages[pfn].flags |= PG_locked;
    return pfn;
}

/* Order-0 pages for nr pages from index, skipping cached ones, none past
 * the end of the file (Linux's do_page_cache_ra and
 * page_cache_ra_unbounded): the page lookahead pages before the end of
 * what is left to read, once the end of the file has cut it, gets the
 * marker (6.18 keeps lookahead when it cuts), none when fewer than
 * lookahead pages are left to read. */
static void ra_order0(vms_machine *m, struct address_space *as, uint64_t index, uint64_t nr,
                      uint64_t lookahead)
{
    uint64_t eof = size_pages(as);
    if (index >= eof)
        return;
    if (nr > eof - index)
        nr = eof - index;
    uint64_t mark = lookahead <= nr ? nr - lookahead : UINT64_MAX;
    for (uint64_t i = 0; i < nr; i++) {
        if (xa_load(as->pages, index + i) != PFN_NONE)
            continue;
        uint32_t pfn = ra_add_folio(m, as, index + i, 0);
        if (pfn == PFN_NONE)
            break;
        if (i == mark)
            m->pm.pages[pfn].flags |= PG_readahead;
    }
}

/* Linux's page_cache_ra_order (6.18): folios of ra->order (at most the
 * largest page-cache order and the window's size, aligned to their index,
 * none past the end of the file); the folio holding the window's marker
 * index start + size - async (rounded down to its order, as ra_alloc_folio
 * does) gets the marker, even when the window runs past the end of the
 * file. A cached page in the way of the next folio ends the loop, as does
 * a folio that cannot be allocated (no free block of its order): the rest
 * of the window, size - (index - start) pages with the same async part, is
 * read by do_page_cache_ra in order-0 pages (ra_order0), whose end-of-file
 * clamp keeps the async part, so its marker lands async pages before the
 * file's end. Host-measured (ext4, 6.18, read_ahead_kb 8192): a read-around
 * of a 1500-page file whose page 0 (or 700) was cached marks page 988; a
 * MADV_HUGEPAGE fault in an 800-page file with page 100 cached, page 288;
 * an 8-page read window of a 5-page file meeting page 4 keeps its marker
 * on page 2; a 3-page window reaching the end of a 5-page file is read by
 * the loop, not the fallback, and marks nothing. */
static void ra_window(vms_machine *m, struct address_space *as, struct file_ra_state *ra)
{
    uint64_t end = ra->start + ra->size, mark = end - ra->async_size;
    if (end > size_pages(as))
        end = size_pages(as);
    uint64_t index = ra->start;
    if (!mapping_large_folio_support(m, as)) {
        ra->order = 0;
        ra_order0(m, as, index, ra->size, ra->async_size);
        return;
    }
    if (!ra->size)
        return;
    unsigned order = ra->order < MAX_PAGECACHE_ORDER ? ra->order : MAX_PAGECACHE_ORDER;
    if (order > ilog2_u64(ra->size))
        order = ilog2_u64(ra->size);
    ra->order = order;
    while (index < end) {
        unsigned o = align_order(index, order);
        while (o && index + (1ULL << o) > end)
            o--;
        /* A page in the way, or no free block of the folio's order (Linux's
         * filemap_add_folio failing with -EEXIST, ra_alloc_folio with
         * -ENOMEM): the rest in single pages. */
        uint32_t pfn = range_has_page(as, index, 1ULL << o) ? PFN_NONE
                                                             : ra_add_folio(m, as, index, o);
        if (pfn == PFN_NONE) {
            ra_order0(m, as, index, ra->size - (index - ra->start), ra->async_size);
            return;
        }
        if (index == (mark & ~((1ULL << o) - 1)))
            m->pm.pages[pfn].flags |= PG_readahead;
        index += 1ULL << o;
    }
}

void page_cache_ra(vms_machine *m, struct address_space *as, struct file_ra_state *ra)
{
    ra_window(m, as, ra);
    uint64_t eof = size_pages(as), end = ra->start + ra->size;
    ra_unlock(m, as, ra->start, end < eof ? end : eof);
}

void page_cache_async_window(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                             uint64_t max)
{
    /* Even without large folios (the order then starts from 0 again:
     * host-measured, a classic window 10-17 is cut to 10-15). */
    ra->order += 2;
    /* The end aligns to the new order, at most to max's lowest set bit. */
    unsigned align = max ? (unsigned)__builtin_ctzll(max) : 63;
    if (align > ra->order)
        align = ra->order;
    uint64_t end = ra->start + ra->size;
    uint64_t aligned = end & ~((1ULL << align) - 1);
    if (aligned > ra->start) {
        ra->async_size -= end - aligned < ra->async_size ? end - aligned : ra->async_size;
        ra->size = aligned - ra->start;
    }
    page_cache_ra(m, as, ra);
}

void set_page_dirty(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (page->flags & PG_file)
        page->flags |= PG_dirty_bh;
    if (page->flags & PG_dirty)
        return;
    /* A written shmem page stays dirty: nothing writes it back, and only a
     * clean one (zeros, never written) may be dropped by reclaim. */
    if (page->flags & PG_shmem)
        page->flags |= PG_dirty;
    if (!(page->flags & PG_file))
        return;
    /* Linux keeps the dirty bit on the folio: all its pages go to the disk. */
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    for (uint32_t i = 0; i < nr; i++) {
        struct page *p = pfn_to_page(&m->pm, head + i);
        if (!(p->flags & PG_dirty)) {
            p->flags |= PG_dirty;
            ((struct address_space *)p->mapping)->nrdirty++;
        }
    }
}

static void clear_page_dirty(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    page->flags &= ~PG_dirty_bh;
    if (page->flags & PG_dirty) {
        page->flags &= ~PG_dirty;
        ((struct address_space *)page->mapping)->nrdirty--;
    }
}


struct mkclean {
    vms_machine *m;
    unsigned cpu;
};

static int mkclean_one(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg)
{
    const struct mkclean *c = arg;
    if (*pte & (_PAGE_RW | _PAGE_DIRTY)) {
        *pte &= ~(_PAGE_RW | _PAGE_DIRTY);
        flush_tlb_mm_range(c->m, vma->vm_mm, c->cpu, va, va + PAGE_SIZE);
    }
    return 0;
}

/* Write-protect and clean every PTE that maps a page of the folio, so that
 * the next write faults and dirties it again (Linux's folio_mkclean, by
 * rmap). */
static void folio_mkclean(vms_machine *m, uint32_t pfn, unsigned cpu)
{
    struct mkclean c = {m, cpu};
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    for (uint32_t i = 0; i < nr; i++)
        rmap_walk(m, head + i, mkclean_one, &c);
}

struct page_list {
    uint64_t *index;
    uint32_t *pfn;
    size_t n, cap;
    uint64_t first, last;
    int dirty_only;
    const struct phys_mem *pm;
};

static int collect_page(void *arg, uint64_t index, uint32_t pfn)
{
    struct page_list *l = arg;
    if (index < l->first || index > l->last)
        return 0;
    if (l->dirty_only && !(l->pm->pages[pfn].flags & PG_dirty))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint64_t *ix = realloc(l->index, cap * sizeof(*ix));
        if (!ix)
            return -ENOMEM;
        l->index = ix;
        uint32_t *pf = realloc(l->pfn, cap * sizeof(*pf));
        if (!pf)
            return -ENOMEM;
        l->pfn = pf;
        l->cap = cap;
    }
    l->index[l->n] = index;
    l->pfn[l->n++] = pfn;
    return 0;
}

static void page_list_free(struct page_list *l)
{
    free(l->index);
    free(l->pfn);
}

/* Linux writes a page straddling EOF with the part beyond EOF zeroed, and
 * cleans a page wholly past EOF without writing it when its scan gets
 * there (writeback_range: a block a failed write reserved there then stays
 * off the disk, even if the file grows later). The block written is on the
 * disk from now on. */
static int write_page(vms_machine *m, struct address_space *as, uint64_t index, uint32_t pfn)
{
    uint64_t off = index << PAGE_SHIFT;
    if (off >= as->size)
        return 0;
    /* A page of a dirty large folio that nothing wrote (its block still a
     * hole) has no dirty block: ext4 writes nothing there. */
    if (ext_status_of(&as->extents, index) == EXT_HOLE)
        return 0;
    if (ext_reserve_room(&as->extents))
        return -ENOMEM;
    uint8_t *p = pfn_to_virt(&m->pm, pfn);
    size_t len = as->size - off < PAGE_SIZE ? (size_t)(as->size - off) : PAGE_SIZE;
    memset(p + len, 0, PAGE_SIZE - len);
    int err = pwrite_full(as->host_wfd, p, len, off);
    if (!err) {
        m->io.cache_to_disk += len;
        m->io.disk_writes++;
        ext_set(&as->extents, index, index + 1, EXT_WRITTEN); /* room was reserved */
    }
    return err;
}

int writeback_range(vms_machine *m, struct address_space *as, uint64_t first, uint64_t last,
                    unsigned cpu)
{
    if (as->kind != MAPPING_FILE)
        return 0;
    /* A folio is written whole, and cleaned whole. */
    uint32_t pfn = xa_load(as->pages, first);
    if (pfn != PFN_NONE)
        first = m->pm.pages[folio_head_pfn(&m->pm, pfn)].index;
    pfn = last == UINT64_MAX ? PFN_NONE : xa_load(as->pages, last);
    if (pfn != PFN_NONE)
        last = m->pm.pages[folio_head_pfn(&m->pm, pfn)].index + folio_nr_pages(&m->pm, pfn) - 1;
    struct page_list l = {.first = first, .last = last, .dirty_only = 1, .pm = &m->pm};
    int err = as->nrdirty ? xa_for_each(as->pages, collect_page, &l) : 0;
    uint32_t cleaned = PFN_NONE; /* the folio made clean last */
    int at_eof = 0;              /* the folio made clean last reached the end of file */
    for (size_t i = 0; !err && i < l.n; i++) {
        if (folio_head_pfn(&m->pm, l.pfn[i]) != cleaned) {
            /* ext4's write-back ends its scan at the end of the file: after
             * the folio holding the last block, or after the first folio
             * wholly past it; the dirty folios further on stay dirty, and a
             * later growth writes them (host-measured: a failed write left
             * page 1 of a one-page file dirty; fsync with page 0 dirty too
             * leaves it dirty, with page 0 clean cleans it unwritten). */
            if (at_eof)
                break;
            cleaned = folio_head_pfn(&m->pm, l.pfn[i]);
            uint64_t folio_end = m->pm.pages[cleaned].index + folio_nr_pages(&m->pm, cleaned);
            at_eof = folio_end >= size_pages(as);
            folio_mkclean(m, l.pfn[i], cpu);
            /* Linux's readahead marker is the reclaim flag, which the end
             * of write-back clears (host: read 0x37b bytes of an 8-page
             * file, write 1 byte into page 1, fsync: a read of pages 0-2
             * then reads nothing ahead; without the fsync, pages 4-7). */
            folio_clear_readahead(m, l.pfn[i]);
        }
        err = write_page(m, as, l.index[i], l.pfn[i]);
        if (!err)
            clear_page_dirty(m, l.pfn[i]);
    }
    page_list_free(&l);
    /* The host size follows i_size: a write() may have grown the file, even
     * one that copied nothing (Linux sets i_size to the write's position). */
    struct stat st;
    if (!err && !fstat(as->host_fd, &st) && (uint64_t)st.st_size < as->size &&
        ftruncate(as->host_wfd, (off_t)as->size))
        err = -errno;
    return err;
}

/* ---- read(), write(), truncate ---- */

/* Bytes [from, PAGE_SIZE) of a cache page that was created without reading,
 * read now from the host file. */
static void fill_from_disk(vms_machine *m, struct address_space *as, uint64_t index,
                           uint8_t *page, uint64_t from)
{
    uint8_t disk[PAGE_SIZE];
    ssize_t n = pread_full(as->host_fd, disk, PAGE_SIZE, index << PAGE_SHIFT);
    if (n < 0)
        n = 0;
    memset(disk + n, 0, PAGE_SIZE - (size_t)n);
    memcpy(page + from, disk + from, PAGE_SIZE - from);
    m->io.disk_to_cache += (uint64_t)n;
    m->io.disk_reads++;
}

/* Zero the cached last page past `size`: what a mapping wrote beyond the end
 * of the file never becomes file data when the file grows (ext4 zeroes it). */
static void zero_tail(vms_machine *m, struct address_space *as, uint64_t size)
{
    uint64_t off = size & (PAGE_SIZE - 1);
    uint32_t pfn = off ? xa_load(as->pages, size >> PAGE_SHIFT) : PFN_NONE;
    if (pfn != PFN_NONE)
        memset((uint8_t *)pfn_to_virt(&m->pm, pfn) + off, 0, PAGE_SIZE - off);
}

/* ---- read() and its readahead (Linux's mm/readahead.c) ---- */

#define READ_BATCH 31      /* pages one pass of read() takes (a folio batch) */

/* Linux's get_init_ra_size: the first window for a request of size pages. */
static uint64_t init_ra_size(uint64_t size, uint64_t max)
{
    uint64_t n = 1;
    while (n < size)
        n <<= 1;
    if (n <= max / 32)
        return n * 4;
    if (n <= max / 4)
        return n * 2;
    return max;
}

/* Linux's get_next_ra_size: the window grows while a stream goes on. */
uint64_t next_ra_size(uint64_t cur, uint64_t max)
{
    if (cur < max / 16)
        return 4 * cur;
    if (cur <= max / 2)
        return 2 * cur;
    return max;
}

/* A request larger than the window may read up to the disk's request size. */
static uint64_t ra_max_pages(const vms_machine *m, uint64_t req)
{
    uint64_t ra = ra_pages(m), io = io_pages(m);
    if (req > ra && io > ra)
        return req < io ? req : io;
    return ra;
}

/* Reads [index, index + n) without touching the window (a standalone read). */
static void read_pages_plain(vms_machine *m, struct address_space *as, uint64_t index, uint64_t n)
{
    struct file_ra_state plain = {.start = index, .size = n, .async_size = 0};
    page_cache_ra(m, as, &plain);
}

/* Linux's page_cache_prev_miss, with the walk of its xarray cursor: the
 * first look at index lands on the head slot of a large folio holding it, and
 * the cursor's index and slot then step down together, one apart by the
 * folio's tail, so the scan reports a miss that many pages too high (host-
 * measured: a pread just past an order-1 folio reads one page, past two
 * order-1 folios four). Leaving a 64-slot leaf at its first slot resyncs or
 * ends the scan as the cursor does. Simplification: the tree has a level
 * above the leaves when vmsim's cache index has one (both grow with the
 * highest index cached). */
static uint64_t page_cache_prev_miss(const vms_machine *m, const struct address_space *as,
                                     uint64_t index, uint64_t max_scan)
{
    uint64_t rep = index, slot = index; /* the cursor's index and the slot it reads */
    uint32_t pfn = xa_load(as->pages, slot);
    if (pfn == PFN_NONE || !max_scan--)
        return rep;
    if (folio_order(&m->pm, pfn) < 6)
        slot -= pfn - folio_head_pfn(&m->pm, pfn);
    while (max_scan--) {
        rep--;
        if (slot % XA_LEAF_SLOTS) {
            slot--;
        } else if (rep % XA_LEAF_SLOTS) {
            /* At a leaf's first slot, the index past it: up the tree and into
             * the leaf below at the index's slot, or out of the tree. */
            uint64_t leaf = slot / XA_LEAF_SLOTS;
            if (as->pages->height < 2 || leaf % XA_LEAF_SLOTS == 0)
                return rep;
            slot = (leaf - 1) * XA_LEAF_SLOTS + rep % XA_LEAF_SLOTS;
        } /* else the index came down onto the slot: read again, in step */
        if (xa_load(as->pages, slot) == PFN_NONE)
            return rep;
    }
    return rep;
}

/* Linux's page_cache_next_miss, the same cursor walking up: its first look
 * lands on the head slot of a large folio, so the slots it reads lag its
 * index and the miss it reports is that many pages too high (host-measured:
 * a second descriptor reading the marked order-2 folio at page 4 of a window
 * ending at page 19 leaves page 20 out and reads from 21). */
static uint64_t page_cache_next_miss(const vms_machine *m, const struct address_space *as,
                                     uint64_t index, uint64_t max_scan)
{
    uint32_t pfn = max_scan ? xa_load(as->pages, index) : PFN_NONE;
    if (pfn == PFN_NONE)
        return index;
    uint64_t rep = index, slot = index; /* the cursor's index and the slot it reads */
    if (folio_order(&m->pm, pfn) < 6)
        slot -= pfn - folio_head_pfn(&m->pm, pfn);
    for (uint64_t n = 1; n < max_scan; n++) {
        rep++;
        if (slot % XA_LEAF_SLOTS != XA_LEAF_SLOTS - 1) {
            slot++;
        } else if (rep % XA_LEAF_SLOTS != XA_LEAF_SLOTS - 1) {
            /* At a leaf's last slot, the index past it: up the tree and into
             * the next leaf at the index's slot, or out of the tree. */
            uint64_t leaf = slot / XA_LEAF_SLOTS;
            if (as->pages->height < 2 || leaf % XA_LEAF_SLOTS == XA_LEAF_SLOTS - 1)
                return rep;
            slot = (leaf + 1) * XA_LEAF_SLOTS + rep % XA_LEAF_SLOTS;
        } /* else the index came up onto the slot: read again, in step */
        if (xa_load(as->pages, slot) == PFN_NONE)
            return rep;
    }
    return index + max_scan;
}

/* Linux's page_cache_sync_ra: a read() missed the cache at index. */
static void sync_readahead(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                           uint64_t index, uint64_t req)
{
    uint64_t max = ra_max_pages(m, req);
    uint64_t prev_index = ra->prev_pos >> PAGE_SHIFT;
    /* The start of the file, an oversized read, or a sequential miss. */
    if (!index || req > max || index - prev_index <= 1) {
        ra->start = index;
        ra->size = init_ra_size(req, max);
        ra->async_size = ra->size > req ? ra->size - req : ra->size >> 1;
        ra->order = 0;
        page_cache_ra(m, as, ra);
        return;
    }
    /* How many pages just before index are cached: the trace of a stream. */
    uint64_t miss = page_cache_prev_miss(m, as, index - 1, max);
    uint64_t contig = index - miss - 1;
    if (contig <= req) {
        read_pages_plain(m, as, index, req); /* a small random read, as asked */
        return;
    }
    if (miss == UINT64_MAX)
        contig *= 2;
    ra->start = index;
    ra->size = contig + req < max ? contig + req : max;
    ra->async_size = 1;
    ra->order = 0;
    page_cache_ra(m, as, ra);
}

/* Linux's page_cache_async_ra: a read() (or a fault, asking for a whole
 * window) reached the marked page pfn at index; the folio holding it
 * decides (its first index, rounded as Linux rounds the expected one). */
void page_cache_async_ra(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                         uint32_t pfn, uint64_t index, uint64_t req)
{
    folio_clear_readahead(m, pfn);
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    uint64_t nr = folio_nr_pages(&m->pm, pfn);
    index -= pfn - head;
    uint64_t max = ra_max_pages(m, req);
    if (index == ((ra->start + ra->size - ra->async_size) & ~(nr - 1))) {
        ra->start += ra->size;
        uint64_t next = next_ra_size(ra->size, max);
        ra->size = next > ra->size ? next : ra->size;
        ra->async_size = ra->size;
        page_cache_async_window(m, as, ra, max);
        return;
    }
    /* A marked page without the window that marked it (interleaved reads):
     * the cached run after it tells how far the old window went. */
    uint64_t start = page_cache_next_miss(m, as, index + 1, max);
    if (start - index > max)
        return;
    ra->start = start;
    ra->size = next_ra_size(start - index + req, max);
    ra->async_size = ra->size;
    page_cache_async_window(m, as, ra, max);
}

/* Linux's filemap_get_pages: the cached run of pages from index, reading
 * ahead on a miss and at a marker. Fills pfn[]; returns how many (0: out of
 * memory). */
static unsigned get_read_batch(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                               uint64_t index, uint64_t last_index, uint32_t *pfn)
{
    unsigned n = 0;
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        if (pass == 1)
            sync_readahead(m, as, ra, index, last_index - index);
        while (n < READ_BATCH && index + n < last_index) {
            uint32_t p = xa_load(as->pages, index + n);
            if (p == PFN_NONE)
                break;
            /* A cached page not yet read ends the batch before it: it is
             * read only when the copy gets there (host-measured: a read
             * whose copy faults on an earlier page leaves it unread). */
            if (n && (m->pm.pages[p].flags & PG_unread))
                break;
            page_read_now(m, p);
            get_page(&m->pm, p); /* held until copied: reclaim passes it by */
            pfn[n++] = p;
            if (folio_test_readahead(m, p))
                break;
        }
    }
    if (n == 0) { /* readahead could not help: read just this page */
        uint32_t p = filemap_get_page(m, as, index, NULL);
        if (p == PFN_NONE)
            return 0;
        get_page(&m->pm, p);
        pfn[n++] = p;
    }
    uint32_t marked = pfn[n - 1];
    if (folio_test_readahead(m, marked)) {
        uint64_t folio_index = m->pm.pages[folio_head_pfn(&m->pm, marked)].index;
        page_cache_async_ra(m, as, ra, marked, index + n - 1, last_index - folio_index);
    }
    return n;
}

/* read() marks each folio it copies from accessed, once: not again for
 * the folio where the last copy ended (Linux's pos_same_folio test).
 * Simplification: every folio of the batch is marked (Linux marks the
 * batch's first and those it reaches at a new folio). */
static void mark_read_accessed(vms_machine *m, uint32_t pfn, uint64_t last_pos)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    const struct page *p = &m->pm.pages[head];
    uint64_t first = p->index, end = first + folio_nr_pages(&m->pm, head);
    if (last_pos != UINT64_MAX && last_pos > 0) {
        uint64_t last = (last_pos - 1) >> PAGE_SHIFT;
        if (last >= first && last < end)
            return;
    }
    folio_mark_accessed(m, head);
}

int64_t filemap_read(struct vms_task *t, struct address_space *as, struct file_ra_state *ra,
                     uint64_t buf, uint64_t len, uint64_t *pos)
{
    vms_machine *m = t->m;
    uint64_t done = 0;
    int64_t err = 0;
    uint32_t pfn[READ_BATCH];
    /* Linux notes where the read ended (prev_pos) once it is over: a miss
     * later in the same read is judged by the last read's end, and a read
     * that copies nothing (empty, at or past EOF) leaves it; one whose copy
     * faults counts. */
    uint64_t last_pos = ra->prev_pos;
    while (!err && done < len && *pos < as->size) {
        uint64_t index = *pos >> PAGE_SHIFT;
        uint64_t last_index = (*pos + (len - done) + PAGE_SIZE - 1) >> PAGE_SHIFT;
        unsigned n = get_read_batch(m, as, ra, index, last_index, pfn);
        if (!n) {
            err = -ENOMEM;
            break;
        }
        uint64_t end = as->size < *pos + (len - done) ? as->size : *pos + (len - done);
        for (unsigned i = 0; i < n && *pos < end && !err; i++) {
            uint64_t off = *pos & (PAGE_SIZE - 1), c = PAGE_SIZE - off;
            if (c > end - *pos)
                c = end - *pos;
            mark_read_accessed(m, pfn[i], last_pos);
            uint64_t got = copy_to_user(t, buf + done, (uint8_t *)pfn_to_virt(&m->pm, pfn[i]) + off, c);
            m->io.cache_to_user += got;
            done += got;
            *pos += got;
            last_pos = *pos;
            if (got < c)
                err = -EFAULT;
        }
        for (unsigned i = 0; i < n; i++)
            put_page(&m->pm, pfn[i]);
    }
    ra->prev_pos = last_pos;
    return done ? (int64_t)done : err;
}

/* kernel_read: read() into a kernel buffer (execve reads a program's
 * headers so), with the file's readahead state as a read() would use it. */
int64_t filemap_read_kernel(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                            void *buf, uint64_t len, uint64_t pos)
{
    uint64_t done = 0;
    uint32_t pfn[READ_BATCH];
    while (done < len && pos < as->size) {
        uint64_t index = pos >> PAGE_SHIFT;
        uint64_t last_index = (pos + (len - done) + PAGE_SIZE - 1) >> PAGE_SHIFT;
        unsigned n = get_read_batch(m, as, ra, index, last_index, pfn);
        if (!n)
            return done ? (int64_t)done : -ENOMEM;
        uint64_t end = as->size < pos + (len - done) ? as->size : pos + (len - done);
        for (unsigned i = 0; i < n && pos < end; i++) {
            uint64_t off = pos & (PAGE_SIZE - 1), c = PAGE_SIZE - off;
            if (c > end - pos)
                c = end - pos;
            mark_read_accessed(m, pfn[i], ra->prev_pos);
            memcpy((uint8_t *)buf + done, (uint8_t *)pfn_to_virt(&m->pm, pfn[i]) + off, c);
            done += c;
            pos += c;
        }
        for (unsigned i = 0; i < n; i++) /* the batch's references */
            put_page(&m->pm, pfn[i]);
    }
    ra->prev_pos = pos;
    return (int64_t)done;
}

/* Can the folio's buffers not be released (one of them is dirty)? That
 * is what keeps a folio from being split. */
static int folio_has_dirty_buffers(const vms_machine *m, uint32_t head)
{
    uint32_t nr = folio_nr_pages(&m->pm, head);
    for (uint32_t i = 0; i < nr; i++)
        if (m->pm.pages[head + i].flags & PG_dirty_bh)
            return 1;
    return 0;
}

struct unmap_folio_ctx {
    vms_machine *m;
    unsigned cpu;
};

static int unmap_folio_one(struct vm_area_struct *vma, uint64_t va, pte_t *pte, void *arg)
{
    const struct unmap_folio_ctx *c = arg;
    uint32_t pfn = (uint32_t)pte_pfn(*pte);
    if (pte_dirty(*pte))
        set_page_dirty(c->m, pfn);
    *pte = 0;
    c->m->pm.pages[pfn].mapcount--;
    put_page(&c->m->pm, pfn);
    flush_tlb_mm_range(c->m, vma->vm_mm, c->cpu, va, va + PAGE_SIZE);
    return 0;
}

/* Every PTE that maps a page of the folio goes, in every address space
 * (Linux's unmap_folio before a split: file pages are not mapped back). */
static void unmap_folio(vms_machine *m, uint32_t head, unsigned cpu)
{
    struct unmap_folio_ctx c = {m, cpu};
    uint32_t nr = folio_nr_pages(&m->pm, head);
    for (uint32_t i = 0; i < nr; i++)
        rmap_walk(m, head + i, unmap_folio_one, &c);
}

/* Before a split Linux releases the folio's buffers (filemap_release_folio):
 * its pages no longer map their blocks, so a block reserved but not yet
 * on the disk is new again to the next write (host-measured: a failed
 * write into a page split out of a clean order-1 folio dirties it). */
static void release_folio_buffers(vms_machine *m, uint32_t head)
{
    uint32_t nr = folio_nr_pages(&m->pm, head);
    for (uint32_t i = 0; i < nr; i++)
        m->pm.pages[head + i].flags &= ~PG_mapped_bh;
}

/* A split leaves no page cached past the end of the file: the pieces of the
 * folio [index, index + nr) that lie wholly past it leave the page cache,
 * clean (Linux's __folio_split drops them; host-measured: MADV_REMOVE of the
 * first page of an order-1 folio whose second page is past the end leaves
 * neither cached). */
static void drop_split_pages_past_eof(vms_machine *m, struct address_space *as, uint64_t index,
                                      uint64_t nr)
{
    if (as->kind != MAPPING_FILE)
        return;
    for (uint64_t i = index > size_pages(as) ? index : size_pages(as); i < index + nr; i++) {
        uint32_t pfn = xa_load(as->pages, i);
        if (pfn == PFN_NONE)
            continue;
        clear_page_dirty(m, pfn);
        xa_erase(as->pages, i);
        put_page(&m->pm, pfn);
    }
}

/* Linux's non-uniform folio split (try_folio_split): the folio holding the
 * cached page at index becomes pieces of falling order around it, the page
 * itself an order-0 folio. The folio is unmapped first; a dirty one (ext4:
 * its dirty buffers cannot be released) then stays whole: 0, or -EBUSY. */
static int split_folio_at(vms_machine *m, struct address_space *as, uint64_t index,
                          unsigned cpu)
{
    uint32_t at = xa_load(as->pages, index);
    if (at == PFN_NONE || !folio_order(&m->pm, at))
        return 0;
    uint32_t head = folio_head_pfn(&m->pm, at);
    unsigned order = folio_order(&m->pm, at);
    uint64_t first = index - (at - head), nr = 1ULL << order;
    unmap_folio(m, head, cpu);
    if (folio_has_dirty_buffers(m, head))
        return -EBUSY;
    release_folio_buffers(m, head);
    while (order--) {
        uint32_t half = 1u << order;
        int upper = at - head >= half;
        folio_set_order(&m->pm, upper ? head : head + half, order);
        if (upper)
            head += half;
    }
    folio_set_order(&m->pm, at, 0);
    drop_split_pages_past_eof(m, as, first, nr);
    return 0;
}

int split_folio(vms_machine *m, uint32_t pfn, unsigned cpu)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    if (nr == 1)
        return 0;
    /* Linux releases the buffers before it unmaps: a dirty folio fails
     * there and stays mapped (host: MADV_PAGEOUT of one page of a dirty
     * 8 KiB folio leaves it mapped, 0 faults after; once clean, 1). */
    if (folio_has_dirty_buffers(m, head))
        return -EBUSY;
    unmap_folio(m, head, cpu);
    release_folio_buffers(m, head);
    struct address_space *as = m->pm.pages[head].mapping;
    uint64_t first = m->pm.pages[head].index;
    for (uint32_t i = 0; i < nr; i++)
        folio_set_order(&m->pm, head + i, 0);
    if (as && (m->pm.pages[head].flags & PG_file))
        drop_split_pages_past_eof(m, as, first, nr);
    return 0;
}

/* Is index cached inside a large folio, past its first page? */
static int folio_straddles(const vms_machine *m, const struct address_space *as, uint64_t index)
{
    uint32_t pfn = xa_load(as->pages, index);
    return pfn != PFN_NONE && folio_head_pfn(&m->pm, pfn) != pfn;
}

/* The blocks of pages [from, to) of a folio that a truncate or punch
 * removes are invalidated first (block_invalidate_folio): their dirt goes,
 * so only the pages that stay decide whether the folio can be split
 * (host-measured: an order-1 folio left dirty by a failed write stays
 * whole when cut to 100 bytes unless written back first; written back,
 * then page 1 written again, it splits and page 1 goes). */
static void invalidate_folio_range(vms_machine *m, const struct address_space *as, uint64_t from,
                                   uint64_t to)
{
    for (uint64_t i = from; i < to; i++) {
        uint32_t pfn = xa_load(as->pages, i);
        if (pfn != PFN_NONE)
            clear_page_dirty(m, pfn);
    }
}

/* Linux's truncate_inode_partial_folio for the pages [first, last) (last
 * UINT64_MAX: to the end; cut: the range starts inside page first): a large
 * folio the range covers in part is split at the range's first page, and
 * again at its end, so that the folios inside the range can go whole and
 * the rest stays. */
static void split_partial_folios(vms_machine *m, struct address_space *as, uint64_t first,
                                 uint64_t last, int cut, unsigned cpu)
{
    uint32_t pfn = xa_load(as->pages, first);
    uint64_t start = 0, end = 0; /* the folio holding first, before a split */
    if (pfn != PFN_NONE && folio_order(&m->pm, pfn)) {
        start = m->pm.pages[folio_head_pfn(&m->pm, pfn)].index;
        end = start + folio_nr_pages(&m->pm, pfn);
        invalidate_folio_range(m, as, cut ? first + 1 : first, last < end ? last : end);
        if ((cut || first > start || last < end) && split_folio_at(m, as, first, cpu))
            return; /* Linux tries the end too, in the same folio: it fails */
    }
    if (last == UINT64_MAX)
        return;
    /* Linux splits again at the end of the range, even where the first
     * split left a folio starting there. */
    uint32_t at = xa_load(as->pages, last);
    if (folio_straddles(m, as, last) ||
        (at != PFN_NONE && folio_order(&m->pm, at) && last > start && last < end))
        split_folio_at(m, as, last, cpu);
}

/* Does the range [first, last] hold the whole folio of the page? A folio
 * that a range cuts could not be split (it is dirty): it stays, and the
 * part inside the range is zeroed instead. */
static int folio_within(const vms_machine *m, uint32_t pfn, uint64_t first, uint64_t last)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    uint64_t start = m->pm.pages[head].index;
    return start >= first && start + folio_nr_pages(&m->pm, pfn) - 1 <= last;
}

/* Removes the collected pages whose folios lie inside [first, last]; zeroes
 * the others. */
static void remove_collected(vms_machine *m, struct address_space *as, const struct page_list *l,
                             uint64_t first, uint64_t last)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!folio_within(m, l->pfn[i], first, last)) {
            /* ext4 discards the page's buffers: write-back skips it. */
            memset(pfn_to_virt(&m->pm, l->pfn[i]), 0, PAGE_SIZE);
            clear_page_dirty(m, l->pfn[i]);
            m->pm.pages[l->pfn[i]].flags &= ~PG_mapped_bh;
            continue;
        }
        clear_page_dirty(m, l->pfn[i]);
        xa_erase(as->pages, l->index[i]);
        put_page(&m->pm, l->pfn[i]);
    }
}

/* Removes the cache pages [first, ...), which nothing maps any more. */
static void drop_pages_from(vms_machine *m, struct address_space *as, uint64_t first)
{
    struct page_list l = {.first = first, .last = UINT64_MAX, .pm = &m->pm};
    xa_for_each(as->pages, collect_page, &l);
    remove_collected(m, as, &l, first, UINT64_MAX);
    page_list_free(&l);
    workingset_file_forget(as, first, UINT64_MAX);
}

static void leave_unread_eof_page(vms_machine *m, struct address_space *as, uint64_t old,
                                  uint64_t size);

/* ext4's write_begin reserves the block a write will copy into before the
 * copy (delayed allocation), so even a copy that fails leaves it holding
 * data: past the end of the file too, where a later growth shows it. */
static int reserve_block(struct address_space *as, uint64_t index)
{
    return ext_reserve_block(&as->extents, index);
}

/* Is any page of the folio dirty (Linux keeps one bit for the folio)? */
static int folio_test_dirty(const vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    for (uint32_t i = 0; i < nr; i++)
        if (m->pm.pages[head + i].flags & PG_dirty)
            return 1;
    return 0;
}

/* Linux's mark_buffer_dirty: the page's buffer is dirty and write-back
 * will write it. A clean folio becomes dirty whole (set_page_dirty); in a
 * folio already dirty only this page is added, for a truncate may have
 * discarded the buffers of the others (invalidate_folio_range), and those
 * stay unwritten. */
static void mark_buffer_dirty(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (!(page->flags & PG_dirty) && folio_test_dirty(m, pfn)) {
        page->flags |= PG_dirty;
        ((struct address_space *)page->mapping)->nrdirty++;
    }
    set_page_dirty(m, pfn);
}

/* ext4's page_mkwrite reserves the blocks of the whole folio, those before
 * the end of the file, and dirties their buffers (block_commit_write over
 * the folio): a page of it that a later punch keeps then holds the folio
 * whole, and write-back writes each of them, even one whose buffer a
 * truncate discarded while the folio stayed dirty (host-measured: a failed
 * 8 KiB write into an empty file, a truncate to 4 KiB and one to 0x3007, a
 * store to page 0 through a shared mapping: fsync writes blocks 0 and 1;
 * without the store only block 0; seed 1950098). A page already
 * block-mapped has its block (vms_check holds it to that), so a folio's
 * later faults only test its flags. */
int filemap_page_mkwrite(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (!(page->flags & PG_file))
        return 0;
    struct address_space *as = page->mapping;
    int err = (page->flags & PG_mapped_bh) ? 0 : reserve_block(as, page->index);
    if (!err)
        page->flags |= PG_mapped_bh;
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    for (uint32_t i = 0; !err && i < nr; i++) {
        struct page *p = &m->pm.pages[head + i];
        if (p->index >= size_pages(as))
            continue;
        if (!(p->flags & PG_mapped_bh) && !(err = reserve_block(as, p->index)))
            p->flags |= PG_mapped_bh;
        if (!err)
            mark_buffer_dirty(m, head + i);
    }
    return err;
}

/* Linux 6.18's write_begin with large folios: the folio for a write at pos
 * with left bytes to go has the order of the bytes this step may copy (at
 * most a 2 MiB chunk), lowered to the alignment of its index and until it
 * overlaps no cached page (host-measured on ext4). */
static unsigned write_folio_order(const vms_machine *m, const struct address_space *as,
                                  uint64_t pos, uint64_t left)
{
    if (!mapping_large_folio_support(m, as))
        return 0;
    uint64_t chunk = PAGE_SIZE << MAX_PAGECACHE_ORDER;
    uint64_t bytes = chunk - (pos & (chunk - 1));
    if (bytes > left)
        bytes = left;
    unsigned order = ilog2_u64(bytes) > PAGE_SHIFT ? ilog2_u64(bytes) - PAGE_SHIFT : 0;
    uint64_t index = pos >> PAGE_SHIFT;
    order = align_order(index, order);
    while (order && range_has_page(as, index, 1ULL << order))
        order--;
    return order;
}

/* A new folio for a write at pos: the pages the write covers whole are not
 * read (their bytes come from the write: *unread_end says how far), a page
 * it covers in part is read when it holds file data. */
static uint32_t write_begin_folio(vms_machine *m, struct address_space *as, uint64_t pos,
                                  uint64_t left, uint64_t *unread_end)
{
    uint64_t index = pos >> PAGE_SHIFT, off = pos & (PAGE_SIZE - 1);
    unsigned order = write_folio_order(m, as, pos, left);
    uint64_t n = PAGE_SIZE - off < left ? PAGE_SIZE - off : left;
    int inside = (index << PAGE_SHIFT) < as->size;
    int whole = !off && n == PAGE_SIZE;
    uint32_t pfn = add_folio_to_page_cache(m, as, index, order, inside && !whole, GFP_USER);
    if (pfn == PFN_NONE && order) { /* Linux falls back to smaller folios */
        order = 0;
        pfn = add_folio_to_page_cache(m, as, index, 0, inside && !whole, GFP_USER);
    }
    if (pfn == PFN_NONE)
        return PFN_NONE;
    /* ext4's write_begin reserves (and maps) the blocks of the whole folio,
     * so a copy that comes up short leaves them all holding data. */
    for (uint64_t i = 1; i < (1ULL << order); i++) {
        if (reserve_block(as, index + i))
            return PFN_NONE;
        m->pm.pages[pfn + i].flags |= PG_mapped_bh;
    }
    /* Pages of the folio inside the file were read only if partly written:
     * the others (all but the first) are covered whole by the write. */
    *unread_end = index;
    for (uint64_t i = whole ? 0 : 1; i < (1ULL << order); i++)
        if (((index + i) << PAGE_SHIFT) < as->size)
            *unread_end = index + i + 1;
    return pfn;
}

/* Whether ext4 finds the block of a write new (so that it zeroes, and
 * dirties, what the write does not copy): a hole is, a block on the disk
 * is not, a reserved one is unless it was reserved through this very page
 * (its buffer head still maps it). */
static int block_is_new(const vms_machine *m, const struct address_space *as, uint64_t index,
                        uint32_t pfn)
{
    enum ext_status status = ext_status_of(&as->extents, index);
    if (status != EXT_DELAYED)
        return status == EXT_HOLE;
    return pfn == PFN_NONE || !(m->pm.pages[pfn].flags & PG_mapped_bh);
}

/* ext4's write_begin maps the blocks of every page of the folio the step
 * covers, not only the page the copy reaches: when the copy comes up short
 * in page index, the pages after it in its folio up to last have their
 * blocks reserved and mapped, and those whose block was new are zeroed and
 * dirtied (page_zero_new_buffers). Host-measured: a failed 12 KiB write
 * into a cached order-1 folio whose second block a truncate had discarded
 * puts both blocks on the disk. */
static int write_begin_rest_of_folio(vms_machine *m, struct address_space *as, uint32_t pfn,
                                     uint64_t index, uint64_t last, uint64_t fresh_from,
                                     uint64_t fresh_to)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    uint64_t folio_last = m->pm.pages[head].index + folio_nr_pages(&m->pm, pfn) - 1;
    if (last > folio_last)
        last = folio_last;
    for (uint64_t i = index + 1; i <= last; i++) {
        uint32_t p = head + (uint32_t)(i - m->pm.pages[head].index);
        /* The pages of a folio this write made had their blocks reserved
         * with it: new unless they were on the disk. */
        int new_block = i >= fresh_from && i < fresh_to
                            ? ext_status_of(&as->extents, i) != EXT_WRITTEN
                            : block_is_new(m, as, i, p);
        if (reserve_block(as, i))
            return -ENOMEM;
        m->pm.pages[p].flags |= PG_mapped_bh;
        if (new_block)
            set_page_dirty(m, p);
    }
    return 0;
}

/* ext4 zeroes partial blocks through the page cache: the rest of the last
 * block when a truncate moves the end (the new end, or the old one when
 * the file grows), and when a write starts past the end both the rest of
 * the old last block and the start of the write's own first block
 * (ext4_zero_partial_blocks over [from, to)). A cached page whose block is
 * mapped for it is dirtied, even by a write that copies nothing. (An unread
 * page stays clean here; its bytes on the disk are the same.) */
static void dirty_zeroed_blocks(vms_machine *m, struct address_space *as, uint64_t from,
                                uint64_t to)
{
    uint64_t blocks[2] = {from >> PAGE_SHIFT, (to - 1) >> PAGE_SHIFT};
    int partial[2] = {(from & (PAGE_SIZE - 1)) != 0, (to & (PAGE_SIZE - 1)) != 0};
    for (int i = 0; i < 2; i++) {
        uint32_t pfn = partial[i] ? xa_load(as->pages, blocks[i]) : PFN_NONE;
        if (pfn == PFN_NONE || (m->pm.pages[pfn].flags & PG_unread))
            continue;
        enum ext_status status = ext_status_of(&as->extents, blocks[i]);
        if (status == EXT_WRITTEN ||
            (status == EXT_DELAYED && (m->pm.pages[pfn].flags & PG_mapped_bh)))
            set_page_dirty(m, pfn);
    }
}

/* After a short copy Linux's generic_perform_write faults in the source of
 * the rest of its step, not only of the page: the step ends at the end of
 * the folio, of the write, or of the chunk (the largest folio, halved at
 * each copy that write_end rejects). Host-measured: a write at 0x20b9 into
 * a new order-1 folio from an unfaulted file mapping faults in the source
 * of both folio pages at once. */
static uint64_t write_step_rest(const vms_machine *m, uint32_t pfn, uint64_t pos, uint64_t end,
                                uint64_t chunk)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn);
    uint64_t step_end = (m->pm.pages[head].index + folio_nr_pages(&m->pm, pfn)) << PAGE_SHIFT;
    uint64_t chunk_end = (pos & ~(chunk - 1)) + chunk;
    if (step_end > end)
        step_end = end;
    if (step_end > chunk_end)
        step_end = chunk_end;
    return step_end - pos;
}

int64_t filemap_write(struct vms_task *t, struct address_space *as, uint64_t buf, uint64_t len,
                      uint64_t *pos)
{
    vms_machine *m = t->m;
    uint64_t done = 0;
    uint64_t old_size = as->size, start = *pos;
    /* A write that starts past the end inside the old last page makes that
     * page part of its own folio (host-measured: an order-1 folio for an
     * 8 KiB write there); one that starts further on first zeroes the rest
     * of the old last block, as a truncate that grows the file does, and an
     * uncached end page stays an unread single page. */
    int eof_page_is_first = len && *pos > as->size && (*pos >> PAGE_SHIFT) == (as->size >> PAGE_SHIFT);
    if (len && *pos > as->size && !eof_page_is_first) {
        leave_unread_eof_page(m, as, as->size, *pos);
        zero_tail(m, as, as->size);
    }
    unsigned stuck = 0;
    uint64_t chunk = mapping_large_folio_support(m, as) ? PAGE_SIZE << MAX_PAGECACHE_ORDER
                                                        : PAGE_SIZE;
    int first = 1;
    int64_t err = 0;
    uint64_t unread_start = 0, unread_end = 0; /* fresh pages not read from the disk */
    uint64_t fresh_from = 0, fresh_to = 0;     /* the pages of a new folio after its first */
    while (done < len) {
        uint64_t index = *pos >> PAGE_SHIFT, off = *pos & (PAGE_SIZE - 1), n = PAGE_SIZE - off;
        if (n > len - done)
            n = len - done;
        uint32_t pfn = xa_load(as->pages, index);
        /* The pages of a folio this write made were reserved with it: their
         * blocks are new unless they were on the disk. */
        int new_block = index >= fresh_from && index < fresh_to
                            ? ext_status_of(&as->extents, index) != EXT_WRITTEN
                            : block_is_new(m, as, index, pfn);
        if (reserve_block(as, index)) {
            err = -ENOMEM;
            break;
        }
        /* write_end takes a short copy into a folio that is not up to
         * date (one this write made) as no copy at all. */
        int fresh_folio = pfn == PFN_NONE || (index >= fresh_from && index < fresh_to);
        if (pfn == PFN_NONE) {
            pfn = write_begin_folio(m, as, *pos, len - done, &unread_end);
            unread_start = (!off && n == PAGE_SIZE) ? index : index + 1;
            fresh_from = index + 1;
            fresh_to = pfn == PFN_NONE ? 0 : index + folio_nr_pages(&m->pm, pfn);
        }
        if (pfn == PFN_NONE) {
            err = -ENOMEM;
            break;
        }
        m->pm.pages[pfn].flags |= PG_mapped_bh;
        /* ext4 zeroes the gap the write leaves after the old end, no more:
         * what a mapping stored further on in a cached end page stays
         * (host-measured, even when the write copies nothing). */
        if (first && eof_page_is_first)
            memset((uint8_t *)pfn_to_virt(&m->pm, pfn) + (old_size & (PAGE_SIZE - 1)), 0,
                   start - old_size);
        int unread = index >= unread_start && index < unread_end && !off && n == PAGE_SIZE;
        page_read_now(m, pfn);
        uint8_t *page = pfn_to_virt(&m->pm, pfn);
        /* Linux copies with page faults disabled while it holds the page. */
        uint64_t c = copy_from_user_nofault(t, page + off, buf + done, n);
        if (unread && c < n) /* a short copy: the rest must be the file's bytes */
            fill_from_disk(m, as, index, page, c);
        /* A page that copied nothing over a block on the disk was never
         * read: its buffer is not up to date (a new block's is zeroed), so
         * Linux's folio stays !uptodate and the next fault reads it
         * (host-measured: a kernel copy from it then counts a major fault). */
        if (unread && !c && !new_block && ext_status_of(&as->extents, index) == EXT_WRITTEN)
            m->pm.pages[pfn].flags |= PG_unread;
        if (unread)
            unread_start = index + 1;
        /* Even a copy that comes up short dirties the page when its block
         * was new (Linux's page_zero_new_buffers; the bytes it would zero
         * are zeros already: a hole's page holds nothing else) or when it
         * began inside the block (block_write_end commits the block that
         * holds the position, whatever was copied). */
        if (c || new_block || off)
            set_page_dirty(m, pfn);
        if (c < n && write_begin_rest_of_folio(m, as, pfn, index, (start + len - 1) >> PAGE_SHIFT,
                                               fresh_from, fresh_to)) {
            err = -ENOMEM;
            break;
        }
        if (first && start > old_size) /* only the first write_end starts past the end */
            dirty_zeroed_blocks(m, as, old_size, start);
        first = 0;
        m->io.user_to_cache += c;
        done += c;
        *pos += c;
        /* Like Linux's write_end, even a short copy moves i_size to where
         * the copy stopped, before the source is faulted in: a fault on
         * this very file then sees the new size (fault-around maps up to
         * it, and a source beyond the old end is readable). */
        if (*pos > as->size)
            as->size = *pos;
        /* Linux retries for as long as the fault-in succeeds; a copy that
         * keeps failing after one is ended here rather than spun on. */
        stuck = c ? 0 : stuck + 1;
        if (c < n) {
            if (c && fresh_folio && chunk > PAGE_SIZE)
                chunk /= 2;
            uint64_t rest = write_step_rest(m, pfn, *pos, start + len, chunk);
            if (chunk > PAGE_SIZE) /* the copy that finds the fault copies nothing */
                chunk /= 2;
            if (stuck > 8 || !fault_in_readable(t, buf + done, rest)) {
                err = -EFAULT;
                break;
            }
        }
    }
    /* A copy that failed leaves the rest of a new folio unwritten: those
     * pages hold the file's bytes. */
    for (uint64_t i = unread_start; i < unread_end; i++)
        read_page_from_disk(m, as, i, pfn_to_virt(&m->pm, xa_load(as->pages, i)));
    return done ? (int64_t)done : err;
}

/* Zap every mapping of pages [first, ...) of the object, private copies
 * included (Linux's unmap_mapping_range with even_cows). */
static void unmap_mapping_pages(struct vms_task *t, struct address_space *as, uint64_t first)
{
    for (struct vm_area_struct *vma = as->i_mmap; vma; vma = vma->shared_next) {
        uint64_t pages = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
        if (vma->vm_pgoff + pages <= first)
            continue;
        uint64_t start = first > vma->vm_pgoff
                             ? vma->vm_start + ((first - vma->vm_pgoff) << PAGE_SHIFT)
                             : vma->vm_start;
        uint64_t fs = UINT64_MAX, fe = 0;
        zap_page_range(vma->vm_mm, vma, start, vma->vm_end, &fs, &fe);
        if (fe > fs)
            flush_tlb_mm_range(t->m, vma->vm_mm, t->cpu, fs, fe);
    }
}

/* ext4 zeroes the rest of the end-of-file block when a truncate leaves
 * the end inside a page: the new end when it shrinks (or keeps) the size,
 * the old end when it grows. That puts the page in the page cache without
 * making it up to date (mincore does not count it, fault-around and
 * readahead pass it by), and the first access reads it without counting a
 * major fault. The bytes are read here already; PG_unread keeps the rest. */
static void leave_unread_eof_page(vms_machine *m, struct address_space *as, uint64_t old,
                                  uint64_t size)
{
    uint64_t end = size > old ? old : size;
    if (!(end & (PAGE_SIZE - 1)) || xa_load(as->pages, end >> PAGE_SHIFT) != PFN_NONE)
        return;
    uint32_t pfn = add_to_page_cache(m, as, end >> PAGE_SHIFT, 1, GFP_NORETRY);
    if (pfn != PFN_NONE)
        m->pm.pages[pfn].flags |= PG_unread;
}

void truncate_mapping(struct vms_task *t, struct address_space *as, uint64_t size)
{
    vms_machine *m = t->m;
    uint64_t old = as->size;
    as->size = size;
    /* ext4 frees the blocks past the end unless the file grows: a block a
     * failed write reserved just past it survives only a growth. */
    if (size <= old)
        ext_set(&as->extents, size_pages(as), EXT_NONE, EXT_HOLE);
    if (size > old) {
        /* ext4 zeroes the old last block before it truncates the page
         * cache when the file grows: a clean folio holding it is dirty by
         * then and is not split (host-measured: 8 KiB written, cut to 2 KiB,
         * written back, grown to 4 KiB: the order-1 folio stays whole). A
         * truncate to the same size cuts the cache first, as a shrink does
         * (host: the clean folio splits). */
        leave_unread_eof_page(m, as, old, size);
        zero_tail(m, as, old);
        dirty_zeroed_blocks(m, as, old, PAGE_ALIGN(old));
        /* Linux truncates the page cache to the new size even when the
         * file grows: a page a failed write left past the end goes. */
        split_partial_folios(m, as, size >> PAGE_SHIFT, UINT64_MAX, (size & (PAGE_SIZE - 1)) != 0,
                         t->cpu);
        drop_pages_from(m, as, size_pages(as));
        return;
    }
    uint64_t first = size_pages(as);
    unmap_mapping_pages(t, as, first);
    split_partial_folios(m, as, size >> PAGE_SHIFT, UINT64_MAX, (size & (PAGE_SIZE - 1)) != 0,
                         t->cpu);
    drop_pages_from(m, as, first);
    leave_unread_eof_page(m, as, old, size);
    zero_tail(m, as, size);
    dirty_zeroed_blocks(m, as, size, PAGE_ALIGN(size));
}

/* Clears the PTEs that map the object's own pages [first, last) in vma;
 * private copies (anonymous pages) stay. */
static void unmap_shared_pages(struct vms_task *t, struct vm_area_struct *vma,
                               struct address_space *as, uint64_t first, uint64_t last)
{
    struct phys_mem *pm = &t->m->pm;
    uint64_t fs = UINT64_MAX, fe = 0;
    for (uint64_t index = first; index < last; index++) {
        uint64_t va = vma_address(vma, index);
        pte_t *pte = va ? pte_offset(vma->vm_mm, va) : NULL;
        if (!pte || !pte_present(*pte) || pte_special(*pte))
            continue;
        struct page *page = pfn_to_page(pm, pte_pfn(*pte));
        if (page->mapping != as || (page->flags & PG_anon))
            continue;
        page->mapcount--;
        put_page(pm, (uint32_t)pte_pfn(*pte));
        *pte = 0;
        widen(&fs, &fe, va, va + PAGE_SIZE);
    }
    if (fe > fs)
        flush_tlb_mm_range(t->m, vma->vm_mm, t->cpu, fs, fe);
}

int punch_hole(struct vms_task *t, struct address_space *as, uint64_t first, uint64_t last)
{
    vms_machine *m = t->m;
    /* ext4 punches nothing from the end of the file on, and up to the end
     * of the page holding it: a failed write's page and block just past
     * the end stay. */
    if (as->kind == MAPPING_FILE && last > size_pages(as))
        last = size_pages(as);
    if (first >= last)
        return 0;
    if (as->kind == MAPPING_FILE && ext_reserve_room(&as->extents))
        return -ENOMEM;
    if (as->kind == MAPPING_FILE &&
        fallocate(as->host_wfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)(first << PAGE_SHIFT), (off_t)((last - first) << PAGE_SHIFT)))
        return -errno;
    for (struct vm_area_struct *vma = as->i_mmap; vma; vma = vma->shared_next)
        unmap_shared_pages(t, vma, as, first, last);
    split_partial_folios(m, as, first, last, 0, t->cpu);
    struct page_list l = {.first = first, .last = last - 1, .pm = &m->pm};
    if (xa_for_each(as->pages, collect_page, &l)) {
        page_list_free(&l);
        return -ENOMEM;
    }
    remove_collected(m, as, &l, first, last - 1);
    page_list_free(&l);
    workingset_file_forget(as, first, last - 1);
    if (as->kind == MAPPING_SHMEM)
        return shmem_free_swap(m, as, first, last);
    ext_set(&as->extents, first, last, EXT_HOLE); /* cannot fail: room was reserved */
    return 0;
}

static int cache_page_reclaimable(const struct page *page)
{
    return (page->flags & (PG_file | PG_shmem)) && !(page->flags & PG_dirty) && !page->mapcount &&
           page->refcount == 1;
}

/* Reclaim takes a folio whole: only when none of its pages is dirty or in use. */
int remove_clean_cache_page(vms_machine *m, uint32_t pfn)
{
    uint32_t head = folio_head_pfn(&m->pm, pfn), nr = folio_nr_pages(&m->pm, pfn);
    for (uint32_t i = 0; i < nr; i++)
        if (!cache_page_reclaimable(pfn_to_page(&m->pm, head + i)))
            return 0;
    struct address_space *as = m->pm.pages[head].mapping;
    for (uint32_t i = 0; i < nr; i++) {
        xa_erase(as->pages, m->pm.pages[head + i].index);
        put_page(&m->pm, head + i);
    }
    return 1;
}
