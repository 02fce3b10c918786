/*
 * Path resolution beneath the machine's root folder, by hand (Linux's
 * fs/namei.c: link_path_walk, follow_dotdot, pick_link), for hosts that
 * refuse openat2: kernels before 5.6, seccomp filters answering ENOSYS or
 * EPERM, Valgrind. It answers what openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) answers, errno included, and opens or creates
 * nothing outside the root.
 *
 * Each component is opened with openat(O_PATH | O_NOFOLLOW) beneath the
 * folder reached so far, so a name swapped for a symlink mid-walk is only
 * ever seen as the link itself. A link is read through the descriptor that
 * opened it and its target walked by hand: from the link's folder when
 * relative, EXDEV when absolute, ELOOP after 40 links or for a /proc magic
 * link, EACCES where the host's fs.protected_symlinks forbids it (as the
 * host's openat2 would). ".." is the folder the walk came from (EXDEV at
 * the root; EAGAIN if the host's ".." is no longer that folder, as openat2
 * answers when a rename races it). Only the last component is opened with the caller's
 * flags, always with O_NOFOLLOW: when it is a link that must be followed,
 * that open fails and the link is walked by hand instead.
 *
 * A machine whose root is the host's own "/" resolves as the host does
 * (openat2's RESOLVE_IN_ROOT, which at "/" is plain resolution): an
 * absolute link starts again from the root, and ".." at the root stays
 * there. Nothing can leave "/", so nothing needs refusing.
 *
 * Where it differs from openat2: a folder moved out of the root while a
 * path is walked through it is not noticed (openat2 checks at the end), and
 * ".." gives EAGAIN only when its own folder moved (openat2 when any rename
 * on the host raced it; src/file.c tries again either way). The first
 * cannot happen in a root only its user can change.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_PATH, readlinkat with an empty path */
#endif
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MAXSYMLINKS 40              /* links one resolution may follow */
#define PROC_ROOT_INO 1
#define S_IALLUGO 07777

/* A folder on the walk's way down, for "..". */
struct walked {
    dev_t dev;
    ino_t ino;
};

struct nameidata {
    int root_fd;           /* the machine's root folder (not ours) */
    bool in_root;          /* the root is the host's "/": RESOLVE_IN_ROOT */
    int dir;               /* the folder reached so far (ours to close) */
    struct walked *stack;  /* stack[0] the root, stack[depth] dir */
    int depth, cap;
    int links;             /* symlinks followed */
    char *path;            /* what is left to walk starts at rest */
    char *rest;
};

struct component {
    char *name;  /* NUL-terminated in the walk's own copy of the path */
    bool last;   /* nothing but slashes follows it */
    bool slash;  /* slashes follow it */
};

/* ---- the walk's state ---- */

static int push_dir(struct nameidata *nd, int fd, const struct stat *st)
{
    if (nd->depth + 1 == nd->cap) {
        int cap = nd->cap * 2;
        struct walked *grown = realloc(nd->stack, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return -ENOMEM;
        nd->stack = grown;
        nd->cap = cap;
    }
    nd->stack[++nd->depth] = (struct walked){st->st_dev, st->st_ino};
    close(nd->dir);
    nd->dir = fd;
    return 0;
}

static int nd_init(struct nameidata *nd, int root_fd, const char *path, int in_root)
{
    struct stat st;
    *nd = (struct nameidata){.root_fd = root_fd, .in_root = in_root, .dir = -1, .cap = 16};
    nd->stack = malloc(sizeof(*nd->stack) * (size_t)nd->cap);
    nd->path = nd->rest = strdup(path);
    if (!nd->stack || !nd->path)
        return -ENOMEM;
    nd->dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (nd->dir < 0 || fstat(nd->dir, &st))
        return -errno;
    nd->stack[0] = (struct walked){st.st_dev, st.st_ino};
    return 0;
}

static void nd_release(struct nameidata *nd)
{
    if (nd->dir >= 0)
        close(nd->dir);
    free(nd->stack);
    free(nd->path);
}

/* Cuts the next component off the path left to walk. */
static struct component next_component(struct nameidata *nd)
{
    char *s = nd->rest;
    struct component c = {.name = s};
    while (*s && *s != '/')
        s++;
    c.slash = *s == '/';
    if (*s)
        *s++ = '\0';
    while (*s == '/')
        s++;
    c.last = !*s;
    nd->rest = s;
    return c;
}

static bool is_dot(const struct component *c)
{
    return strcmp(c->name, ".") == 0;
}

static bool is_dotdot(const struct component *c)
{
    return strcmp(c->name, "..") == 0;
}

/* ---- the steps ---- */

/* Linux checks search permission on a folder before it looks up any name
 * in it, "." and ".." included. Every openat beneath the folder asks the
 * host the same; only ".." at the root, refused without an openat, asks
 * with a lookup of ".". */
static int may_lookup(int dir)
{
    int fd = openat(dir, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

static int follow_dotdot(struct nameidata *nd)
{
    if (nd->depth == 0) {
        int err = may_lookup(nd->dir);
        return err ? err : nd->in_root ? 0 : -EXDEV;
    }
    int fd = openat(nd->dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    const struct walked *up = &nd->stack[nd->depth - 1];
    if (fstat(fd, &st) || st.st_dev != up->dev || st.st_ino != up->ino) {
        close(fd);
        return -EAGAIN; /* the folder moved while we walked through it */
    }
    close(nd->dir);
    nd->dir = fd;
    nd->depth--;
    return 0;
}

/* procfs links other than those in its root folder ("self", "mounts", ...)
 * jump to an object rather than name a path: RESOLVE_NO_MAGICLINKS. */
static bool is_magic_link(int dir, int link)
{
    struct statfs fs;
    struct stat st;
    return fstatfs(link, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC &&
           fstat(dir, &st) == 0 && st.st_ino != PROC_ROOT_INO;
}

/* fs.protected_symlinks, read from the host when it matters; unreadable
 * counts as on (systemd's setting). */
static bool protected_symlinks(void)
{
    int fd = open("/proc/sys/fs/protected_symlinks", O_RDONLY | O_CLOEXEC);
    char c = '1';
    if (fd >= 0) {
        if (read(fd, &c, 1) != 1)
            c = '1';
        close(fd);
    }
    return c != '0';
}

/* Linux's may_follow_link, for the last component only: in a sticky
 * world-writable folder, a link is followed only by its owner or when it
 * belongs to the folder's owner. (Linux asks the fsuid; it is the euid
 * unless a program changes it.) */
static int may_follow_link(int dir, int link)
{
    struct stat d, l;
    if (fstat(dir, &d) || fstat(link, &l))
        return -errno;
    if ((d.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) || l.st_uid == geteuid() ||
        l.st_uid == d.st_uid || !protected_symlinks())
        return 0;
    return -EACCES;
}

/* The walk goes on with the link's target, then whatever followed the link;
 * a trailing slash stays with it (it makes the target's last component a
 * folder that is followed). last: the link is the last component. */
static int follow_link(struct nameidata *nd, int link, bool slash, bool last)
{
    if (++nd->links > MAXSYMLINKS)
        return -ELOOP;
    int err = last ? may_follow_link(nd->dir, link) : 0;
    if (err)
        return err;
    if (is_magic_link(nd->dir, link))
        return -ELOOP;
    char target[PATH_MAX + 1];
    ssize_t n = readlinkat(link, "", target, sizeof(target));
    if (n < 0)
        return -errno;
    if (n > PATH_MAX - 1)
        return -ENAMETOOLONG;
    if (n == 0)
        return -ENOENT;
    target[n] = '\0';
    const char *from = target;
    if (target[0] == '/') {
        if (!nd->in_root)
            return -EXDEV;
        int root = fcntl(nd->root_fd, F_DUPFD_CLOEXEC, 0); /* the walk starts again at the root */
        if (root < 0)
            return -errno;
        close(nd->dir);
        nd->dir = root;
        nd->depth = 0;
        while (*from == '/')
            from++;
        if (!*from)
            from = ".";
        n = (ssize_t)strlen(from);
    }
    size_t rest = strlen(nd->rest);
    char *path = malloc((size_t)n + 1 + rest + 1);
    if (!path)
        return -ENOMEM;
    memcpy(path, from, (size_t)n);
    size_t len = (size_t)n;
    if (slash)
        path[len++] = '/';
    memcpy(path + len, nd->rest, rest + 1);
    free(nd->path);
    nd->path = nd->rest = path;
    return 0;
}

/* A component before the last: a folder to enter or a link to follow. */
static int walk_component(struct nameidata *nd, const struct component *c)
{
    if (is_dot(c))
        return 0; /* the next lookup in this folder checks its permission */
    if (is_dotdot(c))
        return follow_dotdot(nd);
    int fd = openat(nd->dir, c->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int err = fstat(fd, &st) ? -errno : 0;
    if (!err && S_ISDIR(st.st_mode)) {
        err = push_dir(nd, fd, &st);
        if (!err)
            return 0; /* fd is the walk's folder now */
    } else if (!err) {
        err = S_ISLNK(st.st_mode) ? follow_link(nd, fd, c->slash, false) : -ENOTDIR;
    }
    close(fd);
    return err;
}

/* Whether Linux follows a link in the last place: always before a trailing
 * slash; never with O_NOFOLLOW or O_CREAT | O_EXCL. */
static bool follows_last(int flags, bool slash)
{
    return slash || (!(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL));
}

/* The last component, opened with the caller's flags: returns the host fd or
 * -errno, or sets *followed when it was a link whose target is now the path
 * left to walk. */
static int open_last(struct nameidata *nd, const struct component *c, int flags, unsigned mode,
                     bool *followed)
{
    const char *name = c->name;
    if (is_dotdot(c)) {
        int err = follow_dotdot(nd);
        if (err)
            return err;
        name = ".";
    }
    if (strcmp(name, ".") == 0) {
        int fd = openat(nd->dir, ".", flags, mode);
        return fd < 0 ? -errno : fd;
    }
    if ((flags & O_CREAT) && c->slash)
        return -EISDIR;
    int fd = openat(nd->dir, name, flags | O_NOFOLLOW | (c->slash ? O_DIRECTORY : 0), mode);
    if (fd >= 0)
        return fd;
    int err = -errno;
    if (!follows_last(flags, c->slash))
        return err;
    /* The open refused a link (ELOOP, or ENOTDIR under O_DIRECTORY)? */
    int link = openat(nd->dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (link < 0)
        return err;
    struct stat st;
    if (fstat(link, &st) == 0 && S_ISLNK(st.st_mode)) {
        err = follow_link(nd, link, c->slash, true);
        *followed = !err;
    }
    close(link);
    return err;
}

/* What openat2 refuses before it looks at the path (openat ignores unknown
 * flags; kernels before 6.4 accept O_CREAT | O_DIRECTORY). */
static int check_how(int flags, unsigned mode)
{
    if ((unsigned)flags & ~(unsigned)VALID_OPEN_FLAGS)
        return -EINVAL;
    if ((flags & O_CREAT) ? (mode & ~(unsigned)S_IALLUGO) != 0 : mode != 0)
        return -EINVAL;
    if ((flags & O_CREAT) && (flags & O_DIRECTORY))
        return -EINVAL;
    return 0;
}

int namei_open_beneath(int root_fd, const char *path, int flags, unsigned mode, int in_root)
{
    int err = check_how(flags, mode);
    if (err)
        return err;
    if (path[0] == '/')
        return -EXDEV;
    if (!path[0])
        return -ENOENT;
    struct nameidata nd;
    int ret = nd_init(&nd, root_fd, path, in_root);
    while (ret == 0) {
        struct component c = next_component(&nd);
        if (!c.last) {
            ret = walk_component(&nd, &c);
            continue;
        }
        bool followed = false;
        ret = open_last(&nd, &c, flags, mode, &followed);
        if (!followed)
            break;
    }
    nd_release(&nd);
    return ret;
}
