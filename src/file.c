/*
 * Open files and descriptor tables (Linux's fs/open.c, fs/file.c,
 * fs/read_write.c, fs/stat.c), over host files confined to the machine's
 * root folder.
 *
 * Confinement: relative paths resolve beneath the root folder with the host's
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so "..", absolute
 * symlinks and symlinks that leave the folder fail with EXDEV and nothing
 * outside is ever opened; an absolute path is accepted only when it names
 * something inside the folder. Where the host refuses openat2 (ENOSYS before
 * Linux 5.6 and under Valgrind, EPERM or ENOSYS from a seccomp filter),
 * decided once per machine, src/namei.c resolves the same paths by hand with
 * the same answers. A machine whose root is the host's own "/" (vmsim
 * follow's) resolves as the host does (RESOLVE_IN_ROOT): absolute symlinks
 * from "/", ".." at "/" staying there, as no path can leave it.
 * Inside the machine the root folder is "/": maps show "/name".
 * Simplifications: regular files and directories only (EOPNOTSUPP otherwise,
 * and for O_PATH and O_TMPFILE); descriptors 0-2 are never open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* openat2, O_PATH, SEEK_DATA, pread */
#endif
#include "internal.h"
#include "xarray.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_OPEN_DEFAULT 1024        /* RLIMIT_NOFILE */
/* 0, 1 and 2 belong to the terminal a real process inherits; vmsim has none,
 * so they stay closed and the first open returns 3, as on the host. */
#define FIRST_FD 3
#define MAX_RW_COUNT (INT_MAX & PAGE_MASK)
#define OPEN_RETRIES 64 /* resolutions raced by renames before EAGAIN shows */

/* ---- the machine's root folder ---- */

/* in_root: the root folder is the host's "/", where nothing can escape and an
 * absolute symbolic link (as /lib64/ld-linux-x86-64.so.2 on Debian) names a
 * path from it, as for any program: RESOLVE_IN_ROOT, which resolves as
 * open(2) does there. */
static long openat2_beneath(int dir, const char *path, int flags, unsigned mode, int in_root)
{
    struct open_how how = {
        .flags = (uint64_t)flags,
        .mode = mode,
        .resolve = (in_root ? RESOLVE_IN_ROOT : RESOLVE_BENEATH) | RESOLVE_NO_MAGICLINKS,
    };
    return syscall(SYS_openat2, dir, path, &how, sizeof(how));
}

/* Whether the host refuses openat2: ENOSYS where the kernel or Valgrind does
 * not know it, ENOSYS or EPERM from a seccomp filter. */
static int openat2_refused(int root_fd)
{
    long fd = openat2_beneath(root_fd, ".", O_PATH | O_CLOEXEC, 0, 0);
    if (fd >= 0) {
        close((int)fd);
        return 0;
    }
    return errno == ENOSYS || errno == EPERM;
}

int fs_init(vms_machine *m)
{
    const char *root = m->cfg.root ? m->cfg.root : ".";
    m->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (m->root_fd < 0)
        return -errno;
    m->namei_by_hand = openat2_refused(m->root_fd);
    m->root_path = realpath(root, NULL);
    return m->root_path ? 0 : -errno;
}

void fs_exit(vms_machine *m)
{
    if (m->root_fd >= 0)
        close(m->root_fd);
    free(m->root_path);
}

/* The path to hand to openat2 beneath the root, or NULL for an absolute path
 * outside it. */
static const char *beneath_root(const vms_machine *m, const char *path)
{
    if (path[0] != '/')
        return path;
    size_t n = strlen(m->root_path);
    if (strcmp(m->root_path, "/") == 0)
        return path[1] ? path + 1 : ".";
    if (strncmp(path, m->root_path, n) != 0 || (path[n] != '/' && path[n] != '\0'))
        return NULL;
    return path[n] && path[n + 1] ? path + n + 1 : ".";
}

static int host_open_in(vms_machine *m, const char *rel, int flags, unsigned mode, int in_root);

static int host_open_beneath(vms_machine *m, const char *rel, int flags, unsigned mode)
{
    return host_open_in(m, rel, flags, mode, strcmp(m->root_path, "/") == 0);
}

/* in_root: resolve as a program inside the machine would, "/" and ".." stopping
 * at the root folder (RESOLVE_IN_ROOT; src/namei.c the same where the host
 * refuses openat2). */
static int host_open_in(vms_machine *m, const char *rel, int flags, unsigned mode, int in_root)
{
    /* O_PATH (a look at a path) takes no other flags but these in openat2. */
    flags = (flags & O_PATH) ? O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY))
                             : flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    /* O_DIRECTORY shares a bit with O_TMPFILE: only a whole O_TMPFILE (or
     * O_CREAT) takes a mode, or openat2 refuses it. */
    mode = ((flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE) ? mode & 07777 : 0;
    /* A ".." that a rename raced gives EAGAIN (openat2: any rename on the
     * host; namei: its own folder moved) before anything is created. A
     * program's open() never sees that, so the resolution starts again. */
    int fd = -EAGAIN;
    for (int tries = 0; fd == -EAGAIN && tries < OPEN_RETRIES; tries++) {
        if (m->namei_by_hand) {
            fd = namei_open_beneath(m->root_fd, rel, flags, mode, in_root);
        } else {
            long ret = openat2_beneath(m->root_fd, rel, flags, mode, in_root);
            fd = ret < 0 ? -errno : (int)ret;
        }
    }
    return fd;
}

/* "/" + the path of an open host file relative to the root folder. */
static char *machine_path(const vms_machine *m, int host_fd)
{
    char proc[64], target[PATH_MAX];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", host_fd);
    ssize_t n = readlink(proc, target, sizeof(target) - 1);
    if (n < 0)
        return strdup("/?");
    target[n] = '\0';
    size_t r = strlen(m->root_path);
    const char *rel = target;
    if (strcmp(m->root_path, "/") != 0 && strncmp(target, m->root_path, r) == 0)
        rel = target + r;
    if (rel[0] == '/')
        return strdup(rel);
    size_t len = strlen(rel) + 2;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "/%s", rel);
    return out;
}

/* ---- inodes: one page cache per host file ---- */

static struct address_space *find_inode(vms_machine *m, const struct stat *st)
{
    for (struct address_space *as = m->inodes; as; as = as->next)
        if (as->host_dev == (uint64_t)st->st_dev && as->host_ino == (uint64_t)st->st_ino)
            return as;
    return NULL;
}

/* The blocks of the host file that hold data, as its SEEK_DATA/SEEK_HOLE
 * show them (an unwritten extent reads as a hole there, as it does here).
 * Where the host cannot tell, the rest of the file counts as data. */
static int read_host_extents(struct extent_tree *t, int fd, uint64_t size)
{
    for (uint64_t off = 0; off < size;) {
        off_t data = lseek(fd, (off_t)off, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            return 0;
        off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
        uint64_t from = data < 0 ? off : (uint64_t)data;
        uint64_t to = hole < 0 || (uint64_t)hole > size ? size : (uint64_t)hole;
        if (ext_set(t, from >> PAGE_SHIFT, PAGE_ALIGN(to) >> PAGE_SHIFT, EXT_WRITTEN))
            return -ENOMEM;
        if (hole < 0)
            return 0;
        off = to > off ? to : size; /* always moves on */
    }
    return 0;
}

static struct address_space *new_inode(vms_machine *m, int host_fd, const struct stat *st)
{
    struct address_space *as = calloc(1, sizeof(*as));
    struct xarray *xa = calloc(1, sizeof(*xa));
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", host_fd);
    int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (!as || !xa || fd < 0 || read_host_extents(&as->extents, fd, (uint64_t)st->st_size)) {
        if (as)
            ext_destroy(&as->extents);
        free(as);
        free(xa);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    as->kind = MAPPING_FILE;
    as->pages = xa;
    as->host_fd = fd;
    as->host_wfd = -1;
    as->host_dev = (uint64_t)st->st_dev;
    as->host_ino = (uint64_t)st->st_ino;
    as->size = (uint64_t)st->st_size;
    as->ino = ++m->next_ino;
    as->dev_major = 8; /* the machine's one disk, shown as 08:01 */
    as->dev_minor = 1;
    as->path = machine_path(m, host_fd);
    as->next = m->inodes;
    if (m->inodes)
        m->inodes->prev = as;
    m->inodes = as;
    return as;
}

/* ---- descriptor tables ---- */

struct files_struct *files_alloc(void)
{
    struct files_struct *files = calloc(1, sizeof(*files));
    if (files)
        files->refcount = 1;
    return files;
}

struct files_struct *files_dup(const struct files_struct *files)
{
    struct files_struct *copy = files_alloc();
    if (!copy)
        return NULL;
    if (files->max) {
        copy->fd = calloc((size_t)files->max, sizeof(*copy->fd));
        if (!copy->fd) {
            free(copy);
            return NULL;
        }
        copy->max = files->max;
    }
    for (int i = 0; i < files->max; i++)
        if ((copy->fd[i] = files->fd[i]) != NULL)
            copy->fd[i]->refcount++;
    return copy;
}

/* ext4's release of an open file (its last descriptor or mapping gone):
 * a file truncated to 0 since the last such release has the blocks written
 * to it since allocated now, so that a file rewritten in place is on the
 * disk once closed (auto_da_alloc, on by default): a write-back of the
 * whole file, as fsync's but not waited for. */
static void ext4_release_file(vms_machine *m, struct address_space *as)
{
    if (!as || as->kind != MAPPING_FILE || !as->da_alloc_close)
        return;
    as->da_alloc_close = 0;
    if (ext_has_delayed(&as->extents))
        writeback_range(m, as, 0, UINT64_MAX, m->current ? m->current->cpu : 0);
}

void fput(vms_machine *m, struct vms_file *f)
{
    if (--f->refcount > 0)
        return;
    if (f->mapping) {
        ext4_release_file(m, f->mapping);
        mapping_put(m, f->mapping);
    }
    free(f);
}

void files_put(vms_machine *m, struct files_struct *files)
{
    if (--files->refcount > 0)
        return;
    for (int i = 0; i < files->max; i++)
        if (files->fd[i])
            fput(m, files->fd[i]);
    free(files->fd);
    free(files);
}

struct vms_file *fget(const struct vms_task *t, int fd)
{
    const struct files_struct *files = t->files;
    return (fd >= 0 && fd < files->max) ? files->fd[fd] : NULL;
}

static int install_fd(struct files_struct *files, struct vms_file *f)
{
    int fd = FIRST_FD;
    while (fd < files->max && files->fd[fd])
        fd++;
    if (fd >= NR_OPEN_DEFAULT)
        return -EMFILE;
    if (fd >= files->max) {
        int max = files->max ? files->max * 2 : 16;
        struct vms_file **grown = realloc(files->fd, sizeof(*grown) * (size_t)max);
        if (!grown)
            return -ENOMEM;
        memset(grown + files->max, 0, sizeof(*grown) * (size_t)(max - files->max));
        files->fd = grown;
        files->max = max;
    }
    files->fd[fd] = f;
    return fd;
}

/* ---- open and close ---- */

/* The first open for writing gives the inode its writing descriptor: the
 * host file opened again, write-only (never O_APPEND, which would move
 * every write-back to the end), through the descriptor the open just got,
 * so the host checked the right to write already. */
static int inode_open_for_write(struct address_space *as, int host_fd)
{
    if (as->host_wfd >= 0)
        return 0;
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", host_fd);
    as->host_wfd = open(proc, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    return as->host_wfd < 0 ? -errno : 0;
}

static int open_file(vms_task *t, int host_fd, int flags, int created, struct vms_file **out)
{
    vms_machine *m = t->m;
    struct stat st;
    if (fstat(host_fd, &st))
        return -errno;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return -EOPNOTSUPP;
    struct vms_file *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->refcount = 1;
    f->ra.prev_pos = UINT64_MAX;
    f->flags = flags;
    f->readable = (flags & O_ACCMODE) == O_RDONLY || (flags & O_ACCMODE) == O_RDWR;
    f->writable = (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
    f->is_dir = S_ISDIR(st.st_mode);
    f->dir_size = f->is_dir ? (uint64_t)st.st_size : 0;
    f->mode = st.st_mode;
    if (!f->is_dir) {
        struct address_space *as = find_inode(m, &st);
        if (!as && !(as = new_inode(m, host_fd, &st))) {
            free(f);
            return -ENOMEM;
        }
        mapping_get(as);
        f->mapping = as;
        int err = f->writable ? inode_open_for_write(as, host_fd) : 0;
        if (err) {
            fput(m, f);
            return err;
        }
        if (flags & O_TRUNC) { /* the host emptied the file; so must its cache */
            truncate_mapping(t, as, 0);
            /* ext4_truncate ran only if the file was there before the open
             * (open does not truncate a file it creates). */
            as->da_alloc_close = !created;
        }
    }
    *out = f;
    return 0;
}

#define O_SYNC_ONLY 04000000 /* the kernel's __O_SYNC: O_SYNC is it with O_DSYNC */

/* Whether rel names something before an open with O_CREAT makes it: only
 * "no such file" counts as absent (a path that cannot be looked at for
 * another reason fails the open itself). */
static int host_path_exists(vms_machine *m, const char *rel, int flags)
{
    int fd = host_open_beneath(m, rel, O_PATH | (flags & O_NOFOLLOW), 0);
    if (fd >= 0)
        close(fd);
    return fd != -ENOENT;
}

int vms_open(vms_task *t, const char *path, int flags, unsigned mode)
{
    SYSCALL_ENTER(t);
    vms_machine *m = t->m;
    flags &= VALID_OPEN_FLAGS; /* open and openat ignore other bits; openat2 refuses them */
    if (flags & O_SYNC_ONLY) /* as open does: every sync path looks at O_DSYNC */
        flags |= O_DSYNC;
    if (!path)
        return -EFAULT;
    if (!path[0])
        return -ENOENT;
    if (strlen(path) >= PATH_MAX)
        return -ENAMETOOLONG;
    if ((flags & O_PATH) || (flags & __O_TMPFILE) == __O_TMPFILE)
        return -EOPNOTSUPP;
    const char *rel = beneath_root(m, path);
    if (!rel)
        return -EXDEV;
    int created = (flags & O_CREAT) && (flags & O_TRUNC) && !host_path_exists(m, rel, flags);
    int host_fd = host_open_beneath(m, rel, flags, mode);
    if (host_fd < 0)
        return host_fd;
    struct vms_file *f = NULL;
    int err = open_file(t, host_fd, flags, created, &f);
    close(host_fd);
    if (err)
        return err;
    int fd = install_fd(t->files, f);
    if (fd < 0)
        fput(m, f);
    return fd;
}

int vms_close(vms_task *t, int fd)
{
    SYSCALL_ENTER(t);
    struct vms_file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    t->files->fd[fd] = NULL;
    fput(t->m, f);
    return 0;
}

/* ---- read and write ---- */

/* x86's access_ok: the whole buffer lies in user space (it may end at
 * TASK_SIZE_MAX itself). Checked before anything is read or written, for a
 * count of 0 too. */
static int access_ok(const vms_task *t, vms_addr buf, uint64_t len)
{
    uint64_t top = t->mm->task_size;
    return buf <= top && len <= top - buf;
}

/* The checks of Linux's vfs_read/vfs_write before the file's own method, in
 * their order: the descriptor's mode, the buffer (access_ok), then
 * rw_verify_area's count and position (a count above SSIZE_MAX, or one that
 * takes the position past INT64_MAX, is EINVAL), and the count is cut to
 * MAX_RW_COUNT. A directory's read method answers EISDIR only after these. */
static int64_t check_rw(const vms_task *t, struct vms_file *f, int want_write, vms_addr buf,
                        uint64_t *len, uint64_t pos)
{
    if (!f || (want_write ? !f->writable : !f->readable))
        return -EBADF;
    if (!access_ok(t, buf, *len))
        return -EFAULT;
    if (*len > INT64_MAX || pos > INT64_MAX || *len > INT64_MAX - pos)
        return -EINVAL;
    if (f->is_dir) /* only a read gets here: a directory never opens for writing */
        return -EISDIR;
    if (*len > MAX_RW_COUNT)
        *len = MAX_RW_COUNT;
    return 0;
}

static int64_t do_read(vms_task *t, struct vms_file *f, vms_addr buf, uint64_t len,
                       uint64_t *pos)
{
    task_cpu_enter(t);
    int64_t err = check_rw(t, f, 0, buf, &len, pos ? *pos : 0);
    if (err)
        return err;
    return filemap_read(t, f->mapping, &f->ra, buf, len, pos);
}

static int64_t do_write(vms_task *t, struct vms_file *f, vms_addr buf, uint64_t len,
                        uint64_t *pos)
{
    task_cpu_enter(t);
    int64_t err = check_rw(t, f, 1, buf, &len, pos ? *pos : 0);
    if (err)
        return err;
    /* The position moves only when the write writes something: a failed or
     * empty O_APPEND write leaves it where it was. */
    uint64_t at = (f->flags & O_APPEND) ? f->mapping->size : *pos;
    if (len && at >= t->m->cfg.max_file_bytes)
        return -EFBIG;
    if (len > t->m->cfg.max_file_bytes - at)
        len = t->m->cfg.max_file_bytes - at;
    int64_t ret = filemap_write(t, f->mapping, buf, len, &at);
    if (ret > 0)
        *pos = at;
    /* O_DSYNC (and O_SYNC): what the call wrote is on the disk before it
     * returns (Linux's generic_write_sync). */
    if (ret > 0 && (f->flags & O_DSYNC)) {
        int e = writeback_range(t->m, f->mapping, (at - (uint64_t)ret) >> PAGE_SHIFT,
                                (at - 1) >> PAGE_SHIFT, t->cpu);
        if (e)
            return e;
    }
    return ret;
}

int64_t vms_read(vms_task *t, int fd, vms_addr buf, uint64_t len)
{
    SYSCALL_ENTER(t);
    struct vms_file *f = fget(t, fd);
    return do_read(t, f, buf, len, f ? &f->pos : NULL);
}

int64_t vms_write(vms_task *t, int fd, vms_addr buf, uint64_t len)
{
    SYSCALL_ENTER(t);
    struct vms_file *f = fget(t, fd);
    return do_write(t, f, buf, len, f ? &f->pos : NULL);
}

int64_t vms_pread(vms_task *t, int fd, vms_addr buf, uint64_t len, int64_t off)
{
    SYSCALL_ENTER(t);
    if (off < 0) /* checked before the descriptor, as Linux does */
        return -EINVAL;
    uint64_t pos = (uint64_t)off;
    return do_read(t, fget(t, fd), buf, len, &pos);
}

int64_t vms_pwrite(vms_task *t, int fd, vms_addr buf, uint64_t len, int64_t off)
{
    SYSCALL_ENTER(t);
    if (off < 0)
        return -EINVAL;
    uint64_t pos = (uint64_t)off; /* with O_APPEND, Linux appends all the same */
    return do_write(t, fget(t, fd), buf, len, &pos);
}

/* ext4's SEEK_DATA and SEEK_HOLE (through iomap): the next block that
 * holds data, or the next hole, from off; the end of the file counts as a
 * hole, and off itself when it is already in what is sought. ENXIO from
 * the end on, and for a negative off. A directory is all data up to its
 * end cookie. */
static int64_t seek_data_hole(const struct vms_file *f, int64_t off, int whence, uint64_t size)
{
    if (off < 0 || (uint64_t)off >= size)
        return -ENXIO;
    if (f->is_dir)
        return whence == SEEK_DATA ? off : (int64_t)size;
    const struct extent_tree *ext = &f->mapping->extents;
    uint64_t blk = (uint64_t)off >> PAGE_SHIFT;
    uint64_t found = whence == SEEK_DATA ? ext_next_data(ext, blk) : ext_next_hole(ext, blk);
    if (found == blk)
        return off;
    uint64_t pos = found == EXT_NONE || found > (size >> PAGE_SHIFT) ? size : found << PAGE_SHIFT;
    if (whence == SEEK_DATA)
        return pos >= size ? -ENXIO : (int64_t)pos;
    return (int64_t)(pos < size ? pos : size);
}

int64_t vms_lseek(vms_task *t, int fd, int64_t off, int whence)
{
    SYSCALL_ENTER(t);
    struct vms_file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    int64_t base;
    uint64_t size = f->mapping ? f->mapping->size : 0, max = t->m->cfg.max_file_bytes;
    /* ext4 positions in a (hashed) directory are cookies up to INT64_MAX,
     * and its end is INT64_MAX too. */
    if (f->is_dir)
        size = max = INT64_MAX;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: base = (int64_t)size; break;
    case SEEK_DATA:
    case SEEK_HOLE: {
        int64_t pos = seek_data_hole(f, off, whence, size);
        if (pos >= 0)
            f->pos = (uint64_t)pos;
        return pos;
    }
    default: return -EINVAL;
    }
    if ((off > 0 && base > (int64_t)max - off) || base + off < 0 || (uint64_t)(base + off) > max)
        return -EINVAL;
    f->pos = (uint64_t)(base + off);
    return (int64_t)f->pos;
}

int vms_ftruncate(vms_task *t, int fd, int64_t len)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    if (len < 0)
        return -EINVAL;
    struct vms_file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    if (f->is_dir || !f->writable)
        return -EINVAL;
    if ((uint64_t)len > t->m->cfg.max_file_bytes)
        return -EFBIG;
    if (ftruncate(f->mapping->host_wfd, len))
        return -errno;
    truncate_mapping(t, f->mapping, (uint64_t)len);
    if (len == 0) /* ext4_truncate of a file left empty */
        f->mapping->da_alloc_close = 1;
    return 0;
}

int vms_fsync(vms_task *t, int fd)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    struct vms_file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    if (f->is_dir)
        return 0;
    return writeback_range(t->m, f->mapping, 0, UINT64_MAX, t->cpu);
}

int vms_sync_file_range(vms_task *t, int fd, int64_t off, int64_t nbytes, unsigned flags)
{
    SYSCALL_ENTER(t);
    task_cpu_enter(t);
    const unsigned valid = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                           SYNC_FILE_RANGE_WAIT_AFTER;
    /* The descriptor first, then the flags and the range (host-measured:
     * fd -1 with flag 8 is EBADF). */
    struct vms_file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    if ((flags & ~valid) || off < 0 || nbytes < 0 || nbytes > INT64_MAX - off)
        return -EINVAL;
    if (f->is_dir || !(flags & SYNC_FILE_RANGE_WRITE))
        return 0;
    uint64_t first = (uint64_t)off >> PAGE_SHIFT;
    uint64_t last = nbytes ? ((uint64_t)off + (uint64_t)nbytes - 1) >> PAGE_SHIFT : UINT64_MAX;
    return writeback_range(t->m, f->mapping, first, last, t->cpu);
}

int vms_fstat(vms_task *t, int fd, struct stat *st)
{
    SYSCALL_ENTER(t);
    struct vms_file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    memset(st, 0, sizeof(*st));
    st->st_mode = f->mode;
    st->st_nlink = 1;
    st->st_blksize = PAGE_SIZE;
    if (f->mapping) {
        st->st_dev = makedev(f->mapping->dev_major, f->mapping->dev_minor);
        st->st_ino = f->mapping->ino;
        st->st_size = (off_t)f->mapping->size;
        /* Every block that holds data, reserved or written, even one past
         * the end; ext4 adds a block for its extent tree once a file has
         * more than four extents on the disk (where the host put them
         * decides that), which vmsim leaves out. */
        st->st_blocks = (blkcnt_t)(ext_count_blocks(&f->mapping->extents) << (PAGE_SHIFT - 9));
    } else {
        st->st_size = (off_t)f->dir_size;
        st->st_blocks = (blkcnt_t)(f->dir_size / 512);
    }
    return 0;
}

int vms_sync(vms_machine *m)
{
    m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(m);
    int err = 0;
    for (struct address_space *as = m->inodes; as; as = as->next) {
        int e = writeback_range(m, as, 0, UINT64_MAX, 0);
        if (e && !err)
            err = e;
    }
    return err;
}

/* ---- execve's file (Linux's do_open_execat and kernel_read) ---- */

int open_exec(vms_task *t, const char *path, int in_machine, struct vms_file **out)
{
    vms_machine *m = t->m;
    if (!path[0])
        return -ENOENT;
    if (strlen(path) >= PATH_MAX)
        return -ENAMETOOLONG;
    const char *rel = in_machine ? (path[0] == '/' ? (path[1] ? path + 1 : ".") : path)
                                 : beneath_root(m, path);
    if (!rel)
        return -EXDEV;
    int host_fd = in_machine ? host_open_in(m, rel, O_RDONLY, 0, 1)
                             : host_open_beneath(m, rel, O_RDONLY, 0);
    if (host_fd < 0)
        return host_fd;
    struct stat st;
    int err = fstat(host_fd, &st) ? -errno : 0;
    /* may_open with MAY_EXEC: only a regular file with an execute bit runs
     * (for root too: CAP_DAC_OVERRIDE needs one x bit). */
    if (!err && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
        err = -EACCES;
    if (!err)
        err = open_file(t, host_fd, O_RDONLY, 0, out);
    close(host_fd);
    return err;
}

int64_t kernel_read(vms_machine *m, struct vms_file *f, void *buf, uint64_t len, uint64_t pos)
{
    return filemap_read_kernel(m, f->mapping, &f->ra, buf, len, pos);
}
