/*
 * The demo's root folder on the host: a new private folder under $TMPDIR (or
 * /tmp), or the one named with --root; it gets file.txt, which the host reads
 * back with its own read() to show what reached the disk; at the end the demo
 * removes what it created, and only that, unless --keep. The folder's host
 * path is never printed on stdout, so the output is the same on every run.
 */
#include "demo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int file_path(const struct scratch *s, char *path, size_t size)
{
    int n = snprintf(path, size, "%s/%s", s->dir, DEMO_FILE);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static int make_temp_dir(struct scratch *s)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(s->dir, sizeof(s->dir), "%s/vmsim-demo-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof(s->dir) || !mkdtemp(s->dir)) {
        fprintf(stderr, "vmsim demo: cannot make a folder in %s: %s\n", tmp,
                n < 0 || (size_t)n >= sizeof(s->dir) ? strerror(ENAMETOOLONG) : strerror(errno));
        return -1;
    }
    s->made_dir = 1;
    return 0;
}

/* --root DIR: made when missing (its parent must exist), else used as it is. */
static int take_chosen_dir(struct scratch *s, const char *dir)
{
    if (strlen(dir) >= sizeof(s->dir)) {
        fprintf(stderr, "vmsim demo: --root: %s\n", strerror(ENAMETOOLONG));
        return -1;
    }
    strcpy(s->dir, dir);
    if (mkdir(dir, 0777) == 0) {
        s->made_dir = 1;
        return 0;
    }
    struct stat st;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    fprintf(stderr, "vmsim demo: --root %s: %s\n", dir,
            errno == EEXIST ? strerror(ENOTDIR) : strerror(errno));
    return -1;
}

/* Never replaces a file of the user's: O_EXCL. */
static int write_demo_file(struct scratch *s)
{
    char path[PATH_MAX + 16];
    if (file_path(s, path, sizeof(path)))
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "vmsim demo: cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (the demo never replaces a file; choose another --root)" : "");
        return -1;
    }
    s->made_file = 1;
    size_t len = strlen(DEMO_TEXT_BEFORE);
    ssize_t n = write(fd, DEMO_TEXT_BEFORE, len);
    int err = close(fd);
    if (n != (ssize_t)len || err) {
        fprintf(stderr, "vmsim demo: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int scratch_create(struct scratch *s, const char *chosen_dir, int keep)
{
    *s = (struct scratch){.keep = keep};
    int err = chosen_dir ? take_chosen_dir(s, chosen_dir) : make_temp_dir(s);
    if (!err)
        err = write_demo_file(s);
    if (err) {
        s->keep = 0;
        scratch_remove(s);
    }
    return err;
}

int64_t scratch_read_file(const struct scratch *s, char *buf, size_t size)
{
    char path[PATH_MAX + 16];
    if (file_path(s, path, sizeof(path)))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size);
    close(fd);
    return n;
}

void scratch_remove(struct scratch *s)
{
    if (s->keep) {
        if (s->made_dir)
            fprintf(stderr, "vmsim demo: kept the root folder %s\n", s->dir);
        return;
    }
    char path[PATH_MAX + 16];
    if (s->made_file && file_path(s, path, sizeof(path)) == 0 && unlink(path) != 0)
        fprintf(stderr, "vmsim demo: cannot remove %s: %s\n", path, strerror(errno));
    if (s->made_dir && rmdir(s->dir) != 0)
        fprintf(stderr, "vmsim demo: cannot remove %s: %s\n", s->dir, strerror(errno));
    s->made_file = s->made_dir = 0;
}
