/*
 * The page cache, as Linux's mm/filemap.c keeps it: every memory object
 * (a host file's inode, or a shmem object) holds its pages in an index by
 * page offset, and the list of VMAs that map it (i_mmap), through which its
 * pages can be found in every address space. A miss reads the page from the
 * host file; read() and write() copy between cache and user memory; dirty
 * pages are written back (write-protecting their mappings first) and never
 * dropped while dirty, except by a truncate that cuts them off.
 * Simplifications: i_size is the machine's own (the host file is extended on
 * write-back); no readahead for read(); write-back is synchronous.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* openat2, O_PATH, SEEK_DATA, pread */
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
    ext_destroy(&as->extents);
    if (as->host_fd >= 0)
        close(as->host_fd);
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

/* A new page-cache page at index: zeroed, or read from the host file. */
static uint32_t add_to_page_cache(vms_machine *m, struct address_space *as, uint64_t index,
                                  int read_from_disk)
{
    uint32_t pfn = alloc_pages(&m->pm, 0);
    if (pfn == PFN_NONE)
        return PFN_NONE;
    uint8_t *p = pfn_to_virt(&m->pm, pfn);
    ssize_t n = 0;
    if (read_from_disk) {
        n = pread_full(as->host_fd, p, PAGE_SIZE, index << PAGE_SHIFT);
        if (n < 0)
            n = 0; /* an unreadable host file reads as a hole */
        m->io.disk_to_cache += (uint64_t)n;
        m->io.disk_reads++;
    }
    memset(p + n, 0, PAGE_SIZE - (size_t)n);
    struct page *page = pfn_to_page(&m->pm, pfn);
    page->flags = PG_file;
    page->mapping = as;
    page->index = index;
    if (xa_store(as->pages, index, pfn)) {
        put_page(&m->pm, pfn);
        return PFN_NONE;
    }
    trace_event(m, &(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = index << PAGE_SHIFT,
                                       .pa = (uint64_t)pfn << PAGE_SHIFT, .detail = "page cache"});
    return pfn;
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
    return add_to_page_cache(m, as, index, 1);
}

void page_cache_ra(vms_machine *m, struct address_space *as, const struct file_ra_state *ra)
{
    uint64_t end = ra->start + ra->size, marker = end - ra->async_size;
    if (end > size_pages(as))
        end = size_pages(as);
    for (uint64_t i = ra->start; i < end; i++) {
        if (xa_load(as->pages, i) != PFN_NONE)
            continue;
        uint32_t pfn = add_to_page_cache(m, as, i, 1);
        if (pfn == PFN_NONE)
            return;
        if (i == marker && ra->async_size)
            m->pm.pages[pfn].flags |= PG_readahead;
    }
}

void set_page_dirty(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (page->flags & PG_dirty)
        return;
    /* A written shmem page stays dirty: nothing writes it back, and only a
     * clean one (zeros, never written) may be dropped by reclaim. */
    if (page->flags & PG_shmem)
        page->flags |= PG_dirty;
    if (!(page->flags & PG_file))
        return;
    page->flags |= PG_dirty;
    ((struct address_space *)page->mapping)->nrdirty++;
}

static void clear_page_dirty(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
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

/* Write-protect and clean every PTE that maps the page, so that the next
 * write faults and dirties it again (Linux's page_mkclean, by rmap). */
static void page_mkclean(vms_machine *m, uint32_t pfn, unsigned cpu)
{
    struct mkclean c = {m, cpu};
    rmap_walk(m, pfn, mkclean_one, &c);
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
 * cleans a page wholly past EOF without writing it (a block a failed write
 * reserved there stays off the disk, even if the file grows later). The
 * block written is on the disk from now on. */
static int write_page(vms_machine *m, struct address_space *as, uint64_t index, uint32_t pfn)
{
    uint64_t off = index << PAGE_SHIFT;
    if (off >= as->size)
        return 0;
    if (ext_reserve_room(&as->extents))
        return -ENOMEM;
    uint8_t *p = pfn_to_virt(&m->pm, pfn);
    size_t len = as->size - off < PAGE_SIZE ? (size_t)(as->size - off) : PAGE_SIZE;
    memset(p + len, 0, PAGE_SIZE - len);
    int err = pwrite_full(as->host_fd, p, len, off);
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
    struct page_list l = {.first = first, .last = last, .dirty_only = 1, .pm = &m->pm};
    int err = as->nrdirty ? xa_for_each(as->pages, collect_page, &l) : 0;
    for (size_t i = 0; !err && i < l.n; i++) {
        page_mkclean(m, l.pfn[i], cpu);
        err = write_page(m, as, l.index[i], l.pfn[i]);
        if (!err)
            clear_page_dirty(m, l.pfn[i]);
    }
    page_list_free(&l);
    /* The host size follows i_size: a write() may have grown the file, even
     * one that copied nothing (Linux sets i_size to the write's position). */
    struct stat st;
    if (!err && !fstat(as->host_fd, &st) && (uint64_t)st.st_size < as->size &&
        ftruncate(as->host_fd, (off_t)as->size))
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

/* ---- read() and its readahead (Linux's mm/readahead.c, order-0 pages) ---- */

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
        page_cache_ra(m, as, ra);
        return;
    }
    /* How many pages just before index are cached: the trace of a stream. */
    uint64_t miss = index - 1, scanned = 0;
    while (scanned < max && xa_load(as->pages, miss) != PFN_NONE) {
        scanned++;
        if (miss == 0) {
            miss = UINT64_MAX; /* cached from the very start */
            break;
        }
        if (scanned < max)
            miss--;
    }
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
    page_cache_ra(m, as, ra);
}

/* Linux's page_cache_async_ra: a read() (or a fault, asking for a whole
 * window) reached the marked page at index. */
void page_cache_async_ra(vms_machine *m, struct address_space *as, struct file_ra_state *ra,
                         uint32_t pfn, uint64_t index, uint64_t req)
{
    m->pm.pages[pfn].flags &= ~PG_readahead;
    uint64_t max = ra_max_pages(m, req);
    if (index == ra->start + ra->size - ra->async_size) {
        ra->start += ra->size;
        uint64_t next = next_ra_size(ra->size, max);
        ra->size = next > ra->size ? next : ra->size;
        ra->async_size = ra->size;
        page_cache_ra(m, as, ra);
        return;
    }
    /* A marked page without the window that marked it (interleaved reads):
     * the cached run after it tells how far the old window went. */
    uint64_t start = index + 1;
    while (start - index <= max && xa_load(as->pages, start) != PFN_NONE)
        start++;
    if (start - index > max)
        return;
    ra->start = start;
    ra->size = next_ra_size(start - index + req, max);
    ra->async_size = ra->size;
    page_cache_ra(m, as, ra);
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
            page_read_now(m, p);
            pfn[n++] = p;
            if (m->pm.pages[p].flags & PG_readahead)
                break;
        }
    }
    if (n == 0) { /* readahead could not help: read just this page */
        uint32_t p = filemap_get_page(m, as, index, NULL);
        if (p == PFN_NONE)
            return 0;
        pfn[n++] = p;
    }
    uint64_t last = index + n - 1;
    if (m->pm.pages[pfn[n - 1]].flags & PG_readahead)
        page_cache_async_ra(m, as, ra, pfn[n - 1], last, last_index - last);
    return n;
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
        for (unsigned i = 0; i < n && *pos < end; i++) {
            uint64_t off = *pos & (PAGE_SIZE - 1), c = PAGE_SIZE - off;
            if (c > end - *pos)
                c = end - *pos;
            uint64_t got = copy_to_user(t, buf + done, (uint8_t *)pfn_to_virt(&m->pm, pfn[i]) + off, c);
            m->io.cache_to_user += got;
            done += got;
            *pos += got;
            last_pos = *pos;
            if (got < c) {
                err = -EFAULT;
                break;
            }
        }
    }
    ra->prev_pos = last_pos;
    return done ? (int64_t)done : err;
}

/* Removes the cache pages [first, ...), which nothing maps any more. */
static void drop_pages_from(vms_machine *m, struct address_space *as, uint64_t first)
{
    struct page_list l = {.first = first, .last = UINT64_MAX, .pm = &m->pm};
    xa_for_each(as->pages, collect_page, &l);
    for (size_t i = 0; i < l.n; i++) {
        clear_page_dirty(m, l.pfn[i]);
        xa_erase(as->pages, l.index[i]);
        put_page(&m->pm, l.pfn[i]);
    }
    page_list_free(&l);
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

int filemap_page_mkwrite(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    if (!(page->flags & PG_file))
        return 0;
    int err = reserve_block(page->mapping, page->index);
    if (!err)
        page->flags |= PG_mapped_bh;
    return err;
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

int64_t filemap_write(struct vms_task *t, struct address_space *as, uint64_t buf, uint64_t len,
                      uint64_t *pos)
{
    vms_machine *m = t->m;
    uint64_t done = 0;
    uint64_t old_size = as->size, start = *pos;
    if (len && *pos > as->size) {
        /* ext4 zeroes the rest of the old last block first, as a truncate
         * that grows the file does: an uncached end page stays unread. */
        leave_unread_eof_page(m, as, as->size, *pos);
        zero_tail(m, as, as->size);
    }
    unsigned stuck = 0;
    int first = 1;
    while (done < len) {
        uint64_t index = *pos >> PAGE_SHIFT, off = *pos & (PAGE_SIZE - 1), n = PAGE_SIZE - off;
        if (n > len - done)
            n = len - done;
        uint32_t pfn = xa_load(as->pages, index);
        int new_block = block_is_new(m, as, index, pfn);
        if (reserve_block(as, index))
            return done ? (int64_t)done : -ENOMEM;
        int unread = 0;
        if (pfn == PFN_NONE) {
            /* Read the old bytes only when some of the page survives the write. */
            int inside = (index << PAGE_SHIFT) < as->size;
            unread = inside && !off && n == PAGE_SIZE;
            pfn = add_to_page_cache(m, as, index, inside && !unread);
        }
        if (pfn == PFN_NONE)
            return done ? (int64_t)done : -ENOMEM;
        m->pm.pages[pfn].flags |= PG_mapped_bh;
        page_read_now(m, pfn);
        uint8_t *page = pfn_to_virt(&m->pm, pfn);
        /* Linux copies with page faults disabled while it holds the page. */
        uint64_t c = copy_from_user_nofault(t, page + off, buf + done, n);
        if (unread && c < n) /* a short copy: the rest must be the file's bytes */
            fill_from_disk(m, as, index, page, c);
        /* Even a copy that comes up short dirties the page when its block
         * was new (Linux's page_zero_new_buffers; the bytes it would zero
         * are zeros already: a hole's page holds nothing else) or when it
         * began inside the block (block_write_end commits the block that
         * holds the position, whatever was copied). */
        if (c || new_block || off)
            set_page_dirty(m, pfn);
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
        if (c < n && (stuck > 8 || !fault_in_readable(t, buf + done, n - c)))
            return done ? (int64_t)done : -EFAULT;
    }
    return (int64_t)done;
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
    uint32_t pfn = add_to_page_cache(m, as, end >> PAGE_SHIFT, 1);
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
    if (size >= old) {
        /* Linux truncates the page cache to the new size even when the
         * file grows: a page a failed write left past the end goes. */
        drop_pages_from(m, as, size_pages(as));
        leave_unread_eof_page(m, as, old, size);
        zero_tail(m, as, old);
        dirty_zeroed_blocks(m, as, old, PAGE_ALIGN(old));
        return;
    }
    uint64_t first = size_pages(as);
    unmap_mapping_pages(t, as, first);
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
        fallocate(as->host_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)(first << PAGE_SHIFT), (off_t)((last - first) << PAGE_SHIFT)))
        return -errno;
    for (struct vm_area_struct *vma = as->i_mmap; vma; vma = vma->shared_next)
        unmap_shared_pages(t, vma, as, first, last);
    struct page_list l = {.first = first, .last = last - 1, .pm = &m->pm};
    if (xa_for_each(as->pages, collect_page, &l)) {
        page_list_free(&l);
        return -ENOMEM;
    }
    for (size_t i = 0; i < l.n; i++) {
        clear_page_dirty(m, l.pfn[i]);
        xa_erase(as->pages, l.index[i]);
        put_page(&m->pm, l.pfn[i]);
    }
    page_list_free(&l);
    ext_set(&as->extents, first, last, EXT_HOLE); /* cannot fail: room was reserved */
    return 0;
}

int remove_clean_cache_page(vms_machine *m, uint32_t pfn)
{
    struct page *page = pfn_to_page(&m->pm, pfn);
    struct address_space *as = page->mapping;
    if (!(page->flags & (PG_file | PG_shmem)) || (page->flags & PG_dirty) || page->mapcount ||
        page->refcount != 1)
        return 0;
    xa_erase(as->pages, page->index);
    put_page(&m->pm, pfn);
    return 1;
}
