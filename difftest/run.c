/*
 * run.c - runs one sequence of operations on both sides and compares them
 * after every step: return value and errno, signal (number, si_code,
 * address), bytes loaded and mincore vectors, the step's fault counts (for
 * the kinds where they are compared), the window's lines of the maps, and
 * vms_check. File contents on disk are compared after fsync, after
 * msync(MS_SYNC) (the synced range), after sync, and at the end; the whole
 * files with their holes (see compare_holes).
 *
 * Both sides start from identical scratch folders: A for vmsim, B for the
 * host child, each holding the same files, written in 4 KiB writes.
 */
#include "difftest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRACKED_FD 128

const char *dt_aspect_name(int aspect)
{
    static const char *const names[DT_NASPECTS] = {"ret", "signal", "data", "faults",
                                                   "maps", "disk", "check", "host"};
    return aspect >= 0 && aspect < DT_NASPECTS ? names[aspect] : "?";
}

/* A difference the host's own timing can cause: its background write-back
 * (a fault count, a load's bytes past the end of a file) or a readahead
 * whose reads have not all completed (a mincore vector: a page still being
 * read is not yet up to date). vmsim does both at once. */
int dt_may_be_host_timing(const struct dt_seq *seq, const struct dt_diff *d)
{
    if (d->aspect == DT_ASPECT_FAULTS)
        return 1;
    if (d->aspect != DT_ASPECT_DATA || d->step >= seq->n)
        return 0;
    int kind = seq->ops[d->step].kind;
    return kind == DT_LOAD || kind == DT_MINCORE;
}

/* ---- maps ---- */

int dt_maps_parse(const char *text, uint64_t window, struct dt_maps *out)
{
    out->n = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        char one[1024];
        snprintf(one, sizeof(one), "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
        unsigned long start, end, offset;
        char perms[5];
        int name_at = 0;
        if (sscanf(one, "%lx-%lx %4s %lx %*x:%*x %*u %n", &start, &end, perms, &offset, &name_at) >= 4 &&
            end > window && start < window + DT_WINDOW_SIZE + DT_GUARD) {
            if (out->n == out->cap) {
                int cap = out->cap ? out->cap * 2 : 32;
                struct dt_vma *grown = realloc(out->v, (size_t)cap * sizeof(*grown));
                if (!grown)
                    return -1;
                out->v = grown;
                out->cap = cap;
            }
            struct dt_vma *v = &out->v[out->n++];
            memset(v, 0, sizeof(*v));
            v->start = start - window;
            v->end = end - window;
            memcpy(v->perms, perms, sizeof(v->perms));
            v->offset = offset;
            if (name_at && one[name_at]) {
                const char *path = one + name_at;
                const char *base = strrchr(path, '/');
                base = base ? base + 1 : path;
                size_t blen = strlen(base);
                if (blen >= sizeof(v->name))
                    blen = sizeof(v->name) - 1;
                memcpy(v->name, base, blen);
                v->name[blen] = '\0';
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

void dt_maps_free(struct dt_maps *m)
{
    free(m->v);
    *m = (struct dt_maps){0};
}

void dt_maps_format(const struct dt_maps *m, char *buf, size_t size)
{
    size_t len = 0;
    if (size)
        buf[0] = '\0';
    for (int i = 0; i < m->n && len < size; i++) {
        const struct dt_vma *v = &m->v[i];
        int n = snprintf(buf + len, size - len, "  +%07" PRIx64 "-+%07" PRIx64 " %s %08" PRIx64 " %s\n",
                         v->start, v->end, v->perms, v->offset, v->name);
        if (n > 0)
            len += (size_t)n;
    }
    if (m->n == 0)
        snprintf(buf, size, "  (nothing mapped)\n");
}

/* ---- scratch folders ---- */

static int write_file(const char *dir, int name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, dt_file_names[name]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    uint64_t size = dt_initial_size(name);
    uint8_t page[DT_PAGE];
    int rc = 0;
    /* 4 KiB writes, so that the host's page cache holds single pages. */
    for (uint64_t off = 0; off < size && !rc; off += DT_PAGE) {
        uint64_t n = size - off < DT_PAGE ? size - off : DT_PAGE;
        for (uint64_t i = 0; i < n; i++)
            page[i] = dt_initial_byte(name, off + i);
        rc = write(fd, page, n) == (ssize_t)n ? 0 : -1;
    }
    /* Written back, so the host's cache is clean like the machine's warmed
     * one: reclaim (MADV_PAGEOUT) drops clean pages but keeps dirty ones. */
    if (!rc && fsync(fd))
        rc = -1;
    close(fd);
    return rc;
}

static void remove_tree(const char *dir)
{
    char path[4096];
    for (int i = 0; i < DT_NNAMES; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, dt_file_names[i]) >= (int)sizeof(path))
            continue; /* no such file can exist: its name is too long */
        if (unlink(path) && (errno == EISDIR || errno == EPERM))
            rmdir(path);
    }
    rmdir(dir);
}

void dt_remove_scratch(const char *scratch)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/A", scratch);
    remove_tree(path);
    snprintf(path, sizeof(path), "%s/B", scratch);
    remove_tree(path);
    rmdir(scratch);
}

static int prepare_dir(const char *dir)
{
    char path[4096];
    if (mkdir(dir, 0755) && errno != EEXIST)
        return -1;
    for (int i = 0; i < DT_NNAMES; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, dt_file_names[i]) >= (int)sizeof(path))
            continue; /* no such file can exist: its name is too long */
        if (unlink(path) && (errno == EISDIR || errno == EPERM))
            rmdir(path);
    }
    for (int i = 0; i < DT_NFILES; i++)
        if (write_file(dir, i))
            return -1;
    snprintf(path, sizeof(path), "%s/%s", dir, dt_file_names[DT_NAME_DIR]);
    return mkdir(path, 0755);
}

/* ---- file contents ---- */

struct blob {
    uint8_t *bytes;
    size_t len;
    int exists;
};

/* Which pages of the file the host's page cache holds now (1 per page). */
static unsigned char *resident_pages(int fd, size_t size)
{
    size_t pages = (size + DT_PAGE - 1) / DT_PAGE;
    unsigned char *vec = calloc(pages, 1);
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (vec && map != MAP_FAILED && mincore(map, size, vec) != 0)
        memset(vec, 1, pages); /* unknown: drop nothing afterwards */
    if (map != MAP_FAILED)
        munmap(map, size);
    return vec;
}

/* Drops from the host's cache the pages that were not there before (was[i]
 * is 0), one run of them at a time: the read may have cached a run in large
 * folios, and a folio goes only when its whole range is dropped at once. */
static void drop_new_pages(int fd, const unsigned char *was, size_t pages)
{
    for (size_t i = 0; was && i < pages;) {
        if (was[i]) {
            i++;
            continue;
        }
        size_t run = i;
        while (i < pages && !was[i])
            i++;
        posix_fadvise(fd, (off_t)(run * DT_PAGE), (off_t)((i - run) * DT_PAGE), POSIX_FADV_DONTNEED);
    }
}

/* One page of a direct read that failed with EIO: ext4 refuses a direct
 * read of a block reserved by delayed allocation and never written (a
 * failed write's, left after write-back). Such a block has nothing on the
 * disk: it reads as zeros. Falling back to a buffered read instead would
 * read (and the cleanup then drop) the cached-but-unread page at the end of
 * file, which the next fault would then miss. */
static ssize_t read_direct_page(int fd, uint8_t *page, uint64_t off)
{
    ssize_t n = pread(fd, page, DT_PAGE, (off_t)off);
    if (n >= 0 || errno != EIO)
        return n;
    memset(page, 0, DT_PAGE);
    return DT_PAGE;
}

/* Reads [from, to) of the host's file, page-aligned, straight from the disk
 * (O_DIRECT): the read must not change the state the test compares. A
 * buffered read would start readahead and clear the readahead markers of
 * the pages it reads, and could not give them back. Dirty pages in the range
 * are written back first, which is why only the range is read. -1 if the
 * file system refuses O_DIRECT. */
static int read_direct(const char *path, uint8_t *bytes, size_t size, uint64_t from, uint64_t to)
{
    int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t lo = from & ~(DT_PAGE - 1), hi = to < size ? to : size;
    hi = (hi + DT_PAGE - 1) & ~(DT_PAGE - 1);
    void *buf = NULL;
    int rc = lo < hi && posix_memalign(&buf, DT_PAGE, hi - lo) != 0 ? -1 : 0;
    for (uint64_t off = lo; rc == 0 && off < hi;) {
        ssize_t n = pread(fd, (uint8_t *)buf + (off - lo), hi - off, (off_t)off);
        if (n < 0 && errno == EIO)
            n = read_direct_page(fd, (uint8_t *)buf + (off - lo), off);
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        off += (uint64_t)n;
    }
    if (rc == 0 && lo < hi)
        memcpy(bytes + lo, buf, (hi < size ? hi : size) - lo);
    free(buf);
    close(fd);
    return rc;
}

/* Reads a whole file with a buffered read; for the host's, pages the read
 * (and its readahead) brings into the page cache are dropped again. */
static void read_buffered(int fd, uint8_t *bytes, size_t size, int host)
{
    unsigned char *was = host ? resident_pages(fd, size) : NULL;
    ssize_t n = pread(fd, bytes, size, 0);
    (void)n; /* a short read leaves zeros, which the comparison shows */
    drop_new_pages(fd, was, (size + DT_PAGE - 1) / DT_PAGE);
    free(was);
}

/* A file's size and its bytes in [from, to) (the rest reads as zero). */
static struct blob read_blob(const char *dir, int name, int host, uint64_t from, uint64_t to)
{
    struct blob b = {0};
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, dt_file_names[name]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return b;
    struct stat st;
    b.exists = 1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        b.len = (size_t)st.st_size;
        b.bytes = calloc(b.len, 1);
        if (!b.bytes)
            b.len = 0;
        else if (!host || read_direct(path, b.bytes, b.len, from, to) != 0)
            read_buffered(fd, b.bytes, b.len, host);
    } else if (S_ISDIR(st.st_mode)) {
        b.exists = 2;
    }
    close(fd);
    return b;
}

static uint8_t blob_at(const struct blob *b, uint64_t off) { return off < b->len ? b->bytes[off] : 0; }

static void diff_set(struct dt_diff *d, int step, int aspect, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void diff_set(struct dt_diff *d, int step, int aspect, const char *fmt, ...)
{
    d->step = step;
    d->aspect = aspect;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof(d->text), fmt, ap);
    va_end(ap);
}

/* Compare bytes [from, to) of a file (to clipped to the host's size), or the
 * whole file (to = UINT64_MAX, sizes too). */
static int compare_file(const struct dt_config *cfg, int name, uint64_t from, uint64_t to,
                        int step, struct dt_diff *d)
{
    char a_dir[4096], b_dir[4096];
    snprintf(a_dir, sizeof(a_dir), "%s/A", cfg->scratch);
    snprintf(b_dir, sizeof(b_dir), "%s/B", cfg->scratch);
    struct blob a = read_blob(a_dir, name, 0, from, to), b = read_blob(b_dir, name, 1, from, to);
    int whole = to == UINT64_MAX, rc = 0;
    if (whole && (a.exists != b.exists || a.len != b.len)) {
        diff_set(d, step, DT_ASPECT_DISK, "file %s: host %s, %zu bytes; vmsim %s, %zu bytes\n",
                 dt_file_names[name], b.exists ? "exists" : "missing", b.len,
                 a.exists ? "exists" : "missing", a.len);
        rc = 1;
    }
    if (to > b.len)
        to = b.len;
    for (uint64_t off = from; !rc && off < to; off++) {
        if (blob_at(&a, off) != blob_at(&b, off)) {
            diff_set(d, step, DT_ASPECT_DISK,
                     "file %s on disk differs at byte 0x%" PRIx64 " (page %" PRIu64 "): host 0x%02x, vmsim 0x%02x\n",
                     dt_file_names[name], off, off / DT_PAGE, blob_at(&b, off), blob_at(&a, off));
            rc = 1;
        }
    }
    free(a.bytes);
    free(b.bytes);
    return rc;
}

/* ---- a run ---- */

struct run_state {
    const struct dt_config *cfg;
    struct dt_host *host;
    struct dt_sim *sim;
    struct dt_maps maps[DT_MAX_PROCS]; /* each process's window, as vmsim lists it */
    int fd_name[DT_MAX_PROCS][MAX_TRACKED_FD];
    FILE *trace;
};

/* ---- holes ---- */


#define MAX_MAP_BLOCKS 4096 /* files stay far smaller (see gen.c) */

/* out as a string of '0', one per 4 KiB block of the open file; the
 * number of blocks, or -1 when out cannot hold them. */
static int64_t blank_blocks(int fd, char *out, size_t n)
{
    struct stat st;
    if (fstat(fd, &st) || (uint64_t)st.st_size / DT_PAGE + 1 >= n)
        return -1;
    uint64_t blocks = ((uint64_t)st.st_size + DT_PAGE - 1) / DT_PAGE;
    memset(out, '0', blocks);
    out[blocks] = '\0';
    return (int64_t)blocks;
}

/* One char per 4 KiB block of the open file: '1' where SEEK_DATA and
 * SEEK_HOLE see data, '0' in a hole. 0, or -1. */
static int seek_blocks(int fd, char *out, size_t n)
{
    int64_t blocks = blank_blocks(fd, out, n);
    if (blocks < 0)
        return -1;
    for (off_t off = 0; off < blocks * (int64_t)DT_PAGE;) {
        off_t data = lseek(fd, off, SEEK_DATA), hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
        if (data < 0)
            return errno == ENXIO ? 0 : -1;
        if (hole <= data)
            return -1;
        for (uint64_t b = (uint64_t)data / DT_PAGE; b < ((uint64_t)hole + DT_PAGE - 1) / DT_PAGE; b++)
            out[b] = '1';
        off = hole;
    }
    return 0;
}

/* One char per block of the open (and written back) file, by FIEMAP: '1'
 * where the disk holds its data, 'd' where a delayed-allocation extent is
 * left after write-back (a block a write reserved but never filled: it
 * copied nothing), '0' in a hole. */
static int disk_blocks(int fd, char *out, size_t n)
{
    enum { BATCH = 64 };
    int64_t count = blank_blocks(fd, out, n);
    if (count < 0)
        return -1;
    uint64_t blocks = (uint64_t)count;
    struct fiemap *fm = calloc(1, sizeof(*fm) + BATCH * sizeof(struct fiemap_extent));
    int rc = fm ? 0 : -1;
    for (uint64_t start = 0; rc == 0 && start < blocks * DT_PAGE;) {
        memset(fm, 0, sizeof(*fm));
        fm->fm_start = start;
        fm->fm_length = blocks * DT_PAGE - start;
        fm->fm_extent_count = BATCH;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) || fm->fm_mapped_extents == 0)
            break;
        for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
            const struct fiemap_extent *x = &fm->fm_extents[i];
            for (uint64_t b = x->fe_logical / DT_PAGE;
                 b < blocks && b < (x->fe_logical + x->fe_length + DT_PAGE - 1) / DT_PAGE; b++)
                out[b] = (x->fe_flags & FIEMAP_EXTENT_DELALLOC) ? 'd' : '1';
            start = x->fe_logical + x->fe_length;
            if (x->fe_flags & FIEMAP_EXTENT_LAST)
                start = UINT64_MAX;
        }
    }
    free(fm);
    return rc;
}

/* The disk maps agree: vmsim's host file (where anything delayed is data
 * being written) holds data where the host's does and nowhere else. A
 * block the host reserved but left off the disk may be either: whether a
 * failed write's page past the end is written once the file grows depends
 * on whether the host's background write-back cleaned it before. */
static int same_disk_blocks(const char *host, char *sim)
{
    if (strlen(host) != strlen(sim))
        return 0;
    for (size_t i = 0; sim[i]; i++) {
        if (sim[i] == 'd')
            sim[i] = '1';
        if (host[i] != 'd' && host[i] != sim[i])
            return 0;
    }
    return 1;
}

/* The holes of a file, after its bytes compared equal: where SEEK_DATA and
 * SEEK_HOLE see data on the host and in vmsim (delayed blocks count there),
 * and where the disk holds data, in vmsim's host file (after its
 * write-back) and in the host's (written back first: at fsync and sync
 * that is done already, at the end it is harmless). st_blocks is not
 * compared: ext4 adds a block for its extent tree once a file's blocks lie
 * in more than four extents on the disk, which depends on where the host's
 * allocator put them. */
static int compare_holes(struct run_state *st, int name, int step, struct dt_diff *d)
{
    char a_path[4096], b_path[4096];
    char host_seek[MAX_MAP_BLOCKS], sim_seek[MAX_MAP_BLOCKS];
    char host_disk[MAX_MAP_BLOCKS], sim_disk[MAX_MAP_BLOCKS];
    if (!st->cfg->profile->ext4)
        return 0; /* vmsim models ext4's holes; another filesystem's differ */
    snprintf(a_path, sizeof(a_path), "%s/A/%s", st->cfg->scratch, dt_file_names[name]);
    snprintf(b_path, sizeof(b_path), "%s/B/%s", st->cfg->scratch, dt_file_names[name]);
    int a = open(a_path, O_RDONLY | O_CLOEXEC), b = open(b_path, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    struct stat sa, sb;
    if (a >= 0 && b >= 0 && !fstat(a, &sa) && !fstat(b, &sb) && S_ISREG(sb.st_mode) &&
        S_ISREG(sa.st_mode)) {
        fdatasync(a);
        fdatasync(b);
        /* That is one more write-back of the host's file: ext4's scan ends
         * at the end of the file, so it may clean a dirty page past the
         * end the step's own left; vmsim's file takes the same pass. */
        sim_fsync_file(st->sim, name);
        if (!seek_blocks(b, host_seek, sizeof(host_seek)) &&
            !sim_data_blocks(st->sim, name, sim_seek, sizeof(sim_seek)) &&
            strcmp(host_seek, sim_seek) != 0) {
            diff_set(d, step, DT_ASPECT_DISK, "file %s: blocks holding data (SEEK_DATA/SEEK_HOLE)\n"
                     "  host:  %.*s\n  vmsim: %.*s\n", dt_file_names[name], 80, host_seek, 80, sim_seek);
            rc = 1;
        } else if (!disk_blocks(b, host_disk, sizeof(host_disk)) &&
                   !disk_blocks(a, sim_disk, sizeof(sim_disk)) && !same_disk_blocks(host_disk, sim_disk)) {
            diff_set(d, step, DT_ASPECT_DISK, "file %s: blocks on the disk (FIEMAP; d: reserved, not on the disk)\n"
                     "  host:  %.*s\n  vmsim: %.*s\n", dt_file_names[name], 80, host_disk, 80, sim_disk);
            rc = 1;
        }
    }
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return rc;
}

static int compare_whole_file(struct run_state *st, int name, int step, struct dt_diff *d)
{
    return compare_file(st->cfg, name, 0, UINT64_MAX, step, d) || compare_holes(st, name, step, d);
}

static int compare_all_files(struct run_state *st, int step, struct dt_diff *d)
{
    for (int i = 0; i < DT_NNAMES; i++)
        if (i != DT_NAME_DIR && compare_whole_file(st, i, step, d))
            return 1;
    return 0;
}

/* After msync(MS_SYNC): the file pages that shared mappings in the range map. */
/* The host's O_DIRECT read of the range writes its dirty pages back
 * first, whatever msync did (an msync of a mapping made through a read-only
 * descriptor writes nothing: it is not VM_SHARED): the vmsim side writes
 * back the same range before the two are compared. */
static int compare_synced_range(struct dt_sim *sim, const struct dt_config *cfg,
                                const struct dt_op *op, const struct dt_maps *maps, int step,
                                struct dt_diff *d)
{
    uint64_t lo = op->addr, hi = op->addr + ((op->len + DT_PAGE - 1) & ~(DT_PAGE - 1));
    for (int i = 0; i < maps->n; i++) {
        const struct dt_vma *v = &maps->v[i];
        if (v->perms[3] != 's' || v->end <= lo || v->start >= hi)
            continue;
        for (int name = 0; name < DT_NNAMES; name++) {
            if (strcmp(v->name, dt_file_names[name]) != 0)
                continue;
            uint64_t s = v->start > lo ? v->start : lo, e = v->end < hi ? v->end : hi;
            uint64_t from = v->offset + (s - v->start), to = v->offset + (e - v->start);
            sim_flush_range(sim, name, from & ~(uint64_t)(DT_PAGE - 1), to);
            if (compare_file(cfg, name, from, to, step, d))
                return 1;
        }
    }
    return 0;
}

/* ---- one step ---- */


static int inside(uint64_t addr, uint64_t window)
{
    return addr >= window && addr - window < DT_WINDOW_SIZE;
}

static void relativize(const struct dt_op *op, struct dt_result *r, uint64_t window)
{
    if ((op->kind == DT_MMAP || op->kind == DT_MREMAP) && r->ret >= 0) {
        if (inside((uint64_t)r->ret, window))
            r->ret -= (int64_t)window;
        else
            r->ret_outside = 1, r->ret = 0; /* where outside is not compared */
    }
    if (r->signo) {
        if (inside(r->sig_addr, window))
            r->sig_addr -= window;
        else
            r->sig_outside = 1;
    }
}

/* A mapping placed outside the window cannot be compared; it is removed
 * on both sides at once. */
static int remove_outside(struct run_state *st, const struct dt_op *op, const struct dt_result *h,
                          const struct dt_result *s, char *err, size_t errsize)
{
    if (op->kind != DT_MMAP && op->kind != DT_MREMAP)
        return 0;
    struct dt_op un = {.kind = DT_MUNMAP, .abs = 1, .proc = op->proc,
                       .len = op->kind == DT_MREMAP ? op->len2 : op->len, .fd = -1};
    /* A hugetlb mapping goes only in whole huge pages: a shorter munmap
     * would split it and fail, leaving it where no later step sees it. */
    if (op->kind == DT_MMAP && (op->flags & MAP_HUGETLB))
        un.len = (un.len + (UINT64_C(2) << 20) - 1) & ~((UINT64_C(2) << 20) - 1);
    struct dt_result scratch;
    if (h->ret >= 0 && !inside((uint64_t)h->ret, st->cfg->window)) {
        un.addr = (uint64_t)h->ret;
        if (host_run(st->host, &un, &scratch, err, errsize))
            return -1;
    }
    if (s->ret >= 0 && !inside((uint64_t)s->ret, st->cfg->window)) {
        un.addr = (uint64_t)s->ret;
        sim_run(st->sim, &un, &scratch);
    }
    return 0;
}

static int same_faults(const struct dt_op *op, const struct dt_result *h, const struct dt_result *s)
{
    /* Fault-around depends on where a file mapping lies in its page table,
     * and the sides place a mapping outside the window differently. */
    if (op->kind == DT_MMAP && h->ret_outside && !(op->flags & MAP_ANONYMOUS))
        return 1;
    return h->minflt == s->minflt && h->majflt == s->majflt;
}

static int compare_results(const struct dt_config *cfg, const struct dt_op *op,
                           const struct dt_result *h, const struct dt_result *s, int step,
                           struct dt_diff *d)
{
    int aspect = -1;
    if (h->ret != s->ret || h->ret_outside != s->ret_outside)
        aspect = DT_ASPECT_RET;
    else if (h->signo != s->signo || h->code != s->code || h->sig_outside != s->sig_outside ||
             h->sig_addr != s->sig_addr)
        aspect = DT_ASPECT_SIGNAL;
    else if (h->ndata != s->ndata || memcmp(h->data, s->data, h->ndata) != 0)
        aspect = DT_ASPECT_DATA;
    else if ((cfg->fault_kinds & (1u << op->kind)) && !same_faults(op, h, s))
        aspect = DT_ASPECT_FAULTS;
    if (aspect < 0)
        return 0;
    char hs[512], ss[512];
    dt_format_result(op, h, hs, sizeof(hs));
    dt_format_result(op, s, ss, sizeof(ss));
    diff_set(d, step, aspect, "host:  %s\nvmsim: %s\n", hs, ss);
    return 1;
}

static int compare_maps(struct run_state *st, int proc, int step, struct dt_diff *d, char *err,
                        size_t errsize)
{
    char *ht = host_maps(st->host, proc), *stext = sim_maps(st->sim, proc);
    struct dt_maps hm = {0}, *sm = &st->maps[proc];
    int rc = -1;
    if (!ht || !stext) {
        snprintf(err, errsize, "cannot read the maps of process @%d", proc);
    } else if (dt_maps_parse(ht, st->cfg->window, &hm) || dt_maps_parse(stext, st->cfg->window, sm)) {
        snprintf(err, errsize, "out of memory");
    } else {
        size_t cap = 128 * (size_t)((hm.n > sm->n ? hm.n : sm->n) + 2);
        char *a = malloc(cap), *b = malloc(cap);
        if (a && b) {
            dt_maps_format(&hm, a, cap);
            dt_maps_format(sm, b, cap);
            rc = strcmp(a, b) != 0;
            if (rc)
                diff_set(d, step, DT_ASPECT_MAPS, "host maps of @%d (window-relative):\n%svmsim maps:\n%s",
                         proc, a, b);
        }
        free(a);
        free(b);
    }
    dt_maps_free(&hm);
    free(ht);
    free(stext);
    return rc;
}

/* Which file each fd names, per process: a fork copies the table. */
static void follow_fds(struct run_state *st, const struct dt_op *op, const struct dt_result *r)
{
    int *fds = st->fd_name[op->proc];
    if (op->kind == DT_OPEN && r->ret >= 0 && r->ret < MAX_TRACKED_FD)
        fds[r->ret] = op->name;
    if (op->kind == DT_CLOSE && r->ret == 0 && op->fd >= 0 && op->fd < MAX_TRACKED_FD)
        fds[op->fd] = -1;
    if (op->kind == DT_FORK && r->ret > 0 && r->ret < DT_MAX_PROCS)
        memcpy(st->fd_name[r->ret], fds, sizeof(st->fd_name[0]));
}

static int disk_checks(struct run_state *st, const struct dt_op *op, const struct dt_result *r,
                       int step, struct dt_diff *d)
{
    const int *fds = st->fd_name[op->proc];
    if (op->kind == DT_FSYNC && r->ret == 0 && op->fd >= 0 && op->fd < MAX_TRACKED_FD &&
        fds[op->fd] >= 0 && fds[op->fd] != DT_NAME_DIR)
        return compare_whole_file(st, fds[op->fd], step, d);
    if (op->kind == DT_MSYNC && r->ret == 0 && (op->flags & MS_SYNC) && !op->abs)
        return compare_synced_range(st->sim, st->cfg, op, &st->maps[op->proc], step, d);
    if (op->kind == DT_SYNC && r->ret == 0) /* not in a process that is gone */
        return compare_all_files(st, step, d);
    return 0;
}

/* The maps of the process that ran the step (and of the one a fork made);
 * an operation changes no other process's maps. */
static int compare_maps_after(struct run_state *st, const struct dt_op *op, const struct dt_result *r,
                              int step, struct dt_diff *d, char *err, size_t errsize)
{
    if (r->ret == -ESRCH)
        return 0; /* no such process: no call of ours gives ESRCH otherwise */
    if (op->kind == DT_EXIT) {
        st->maps[op->proc].n = 0;
        return 0;
    }
    int rc = compare_maps(st, op->proc, step, d, err, errsize);
    if (rc == 0 && op->kind == DT_FORK && r->ret > 0)
        rc = compare_maps(st, (int)r->ret, step, d, err, errsize);
    return rc;
}

static void trace_step(FILE *trace, int step, const struct dt_op *op, const struct dt_result *h,
                       const struct dt_result *s)
{
    char line[256], hs[512], ss[512];
    dt_format_op(op, line, sizeof(line));
    dt_format_result(op, h, hs, sizeof(hs));
    dt_format_result(op, s, ss, sizeof(ss));
    fprintf(trace, "%4d %s\n       host:  %s\n       vmsim: %s\n", step, line, hs, ss);
}

/* 0: the step agrees; 1: diverged; -1: harness failure (in d, aspect host). */
static int run_step(struct run_state *st, const struct dt_op *op, int step, struct dt_result *h,
                    struct dt_result *s, struct dt_diff *d)
{
    char err[512] = "";
    const char *unsafe = dt_op_unsafe(op);
    if (unsafe) {
        diff_set(d, step, DT_ASPECT_HOST, "refused to run an unsafe op: %s\n", unsafe);
        return -1;
    }
    if (host_run(st->host, op, h, err, sizeof(err))) {
        diff_set(d, step, DT_ASPECT_HOST, "%s\n", err);
        return -1;
    }
    if (st->cfg->on_sim_begin)
        st->cfg->on_sim_begin(st->cfg->on_step_arg, step, op, sim_task(st->sim, op->proc));
    sim_run(st->sim, op, s);
    if (remove_outside(st, op, h, s, err, sizeof(err))) {
        diff_set(d, step, DT_ASPECT_HOST, "%s\n", err);
        return -1;
    }
    relativize(op, h, st->cfg->window);
    relativize(op, s, st->cfg->window);
    if (st->trace)
        trace_step(st->trace, step, op, h, s);
    if (st->cfg->on_step)
        st->cfg->on_step(st->cfg->on_step_arg, step, op, h, s);
    if (st->cfg->on_sim)
        st->cfg->on_sim(st->cfg->on_step_arg, sim_machine(st->sim), step);
    follow_fds(st, op, s);
    if (compare_results(st->cfg, op, h, s, step, d))
        return 1;
    int rc = compare_maps_after(st, op, s, step, d, err, sizeof(err));
    if (rc < 0)
        diff_set(d, step, DT_ASPECT_HOST, "%s\n", err);
    if (rc)
        return rc;
    char *report = NULL;
    if (st->cfg->check_every_step && sim_check(st->sim, &report)) {
        diff_set(d, step, DT_ASPECT_CHECK, "vms_check failed:\n%s", report ? report : "");
        free(report);
        return 1;
    }
    return disk_checks(st, op, s, step, d);
}

/* Does no line of maps text meet [lo, hi)? */
static int range_is_free(const char *text, uint64_t lo, uint64_t hi)
{
    for (const char *line = text; line && *line;) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start < hi && end > lo)
            return 0;
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return 1;
}

static int start_sides(struct run_state *st, struct dt_diff *d)
{
    const struct dt_config *cfg = st->cfg;
    char a[4096], b[4096], err[512] = "";
    snprintf(a, sizeof(a), "%s/A", cfg->scratch);
    snprintf(b, sizeof(b), "%s/B", cfg->scratch);
    if (prepare_dir(a) || prepare_dir(b)) {
        diff_set(d, 0, DT_ASPECT_HOST, "cannot prepare %s: %s\n", cfg->scratch, strerror(errno));
        return -1;
    }
    st->sim = sim_start(a, cfg->window, cfg->profile, cfg->settings, cfg->nsettings, cfg->sim_trace,
                        cfg->sim_trace_arg, err, sizeof(err));
    if (st->sim && cfg->on_sim)
        cfg->on_sim(cfg->on_step_arg, sim_machine(st->sim), DT_SIM_READY);
    st->host = st->sim ? host_start(b, cfg->window, err, sizeof(err)) : NULL;
    if (!st->host) {
        diff_set(d, 0, DT_ASPECT_HOST, "%s\n", err);
        return -1;
    }
    /* The test area and the second guard around it are free in the child
     * too (the safety rules in ops.c rely on it). */
    char *text = host_maps(st->host, 0);
    int busy = !text || !range_is_free(text, cfg->window - 2 * DT_GUARD,
                                       cfg->window + DT_WINDOW_SIZE + 2 * DT_GUARD);
    free(text);
    if (busy) {
        diff_set(d, 0, DT_ASPECT_HOST, "the window is not free in the host child\n");
        return -1;
    }
    return 0;
}

int dt_run(const struct dt_config *cfg, struct dt_seq *seq, struct dt_gen *gen, int steps,
           struct dt_diff *diff, FILE *trace)
{
    struct run_state st = {.cfg = cfg, .trace = trace};
    memset(st.fd_name, 0xff, sizeof(st.fd_name)); /* -1: not open */
    struct dt_result *h = malloc(sizeof(*h)), *s = malloc(sizeof(*s));
    int rc = (h && s) ? start_sides(&st, diff) : -1;
    int n = gen ? steps : seq->n, diverged = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        if (gen) {
            struct dt_op op;
            gen_next(gen, st.maps, &op);
            dt_seq_push(seq, &op);
        }
        rc = run_step(&st, &seq->ops[i], i, h, s, diff);
        if (gen && rc == 0)
            gen_observe(gen, &seq->ops[i], s);
        if (rc == 1 && cfg->keep_going && trace) {
            fprintf(trace, "       DIFFERENT (%s):\n%s", dt_aspect_name(diff->aspect), diff->text);
            diverged = 1;
            rc = 0;
        }
    }
    if (rc == 0 && diverged)
        rc = 1;
    if (rc == 0 && sim_sync(st.sim) != 0) {
        diff_set(diff, n, DT_ASPECT_DISK, "vms_sync failed\n");
        rc = 1;
    }
    if (rc == 0)
        rc = compare_all_files(&st, n, diff);
    host_stop(st.host);
    if (cfg->on_sim && st.sim)
        cfg->on_sim(cfg->on_step_arg, sim_machine(st.sim), DT_SIM_END);
    sim_stop(st.sim);
    for (int i = 0; i < DT_MAX_PROCS; i++)
        dt_maps_free(&st.maps[i]);
    free(h);
    free(s);
    return rc;
}
