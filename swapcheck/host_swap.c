/*
 * A swap file and memory cgroups on this host (host_swap.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "host_swap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

/* What must be undone, also from a signal handler: the one piece of static
 * state, as a handler can reach nothing else. */
static struct {
    char dir[4096], swapfile[4200], cgroup_root[64], cgroup[256];
    int v2, swap_on, handlers;
    volatile pid_t child;
    pid_t owner; /* the process that set it up: only it undoes */
    unsigned ncgroups;
} hs;

int host_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void host_swap_cgroup_remove(void)
{
    if (hs.cgroup[0]) {
        rmdir(hs.cgroup);
        hs.cgroup[0] = 0;
    }
}

void host_swap_watch_child(pid_t pid) { hs.child = pid; }

void host_swap_off(void)
{
    if (getpid() != hs.owner)
        return;
    if (hs.child > 0) {
        kill(hs.child, SIGKILL);
        waitpid(hs.child, NULL, 0);
        hs.child = 0;
    }
    host_swap_cgroup_remove();
    if (hs.swap_on) {
        swapoff(hs.swapfile);
        hs.swap_on = 0;
    }
    if (hs.swapfile[0]) {
        unlink(hs.swapfile);
        hs.swapfile[0] = 0;
    }
}

/* The scratch folder holds only plain files of ours. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        int fd = dirfd(d);
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(fd, e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

void host_swap_teardown(void)
{
    if (getpid() != hs.owner)
        return;
    host_swap_off();
    if (hs.dir[0]) {
        remove_dir(hs.dir);
        hs.dir[0] = 0;
    }
}

static void on_signal(int sig)
{
    host_swap_teardown();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    if (hs.handlers)
        return;
    hs.handlers = 1;
    struct sigaction sa = {.sa_handler = on_signal};
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    atexit(host_swap_teardown);
}

/* Every block written (swapon refuses holes), then the version-1 header
 * mkswap writes: version, last page, no bad pages, and the magic. */
static int make_swap_file(const char *path, uint64_t bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    static char page[PG];
    memset(page, 0, sizeof(page));
    for (uint64_t off = 0; off < bytes; off += PG)
        if (host_write_all(fd, page, PG)) {
            close(fd);
            return -1;
        }
    uint32_t info[3] = {1, (uint32_t)(bytes / PG - 1), 0};
    memcpy(page + 1024, info, sizeof(info));
    memcpy(page + PG - 10, "SWAPSPACE2", 10);
    int err = pwrite(fd, page, PG, 0) != PG || fsync(fd);
    close(fd);
    return err ? -1 : 0;
}

static int write_text(const char *dir, const char *file, const char *text)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    int err = host_write_all(fd, text, strlen(text));
    close(fd);
    return err;
}

/* The memory controller: cgroup v1's hierarchy, or v2's unified one. */
static int find_memory_cgroup(void)
{
    struct stat st;
    if (!stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st)) {
        snprintf(hs.cgroup_root, sizeof(hs.cgroup_root), "/sys/fs/cgroup/memory");
        hs.v2 = 0;
        return 0;
    }
    FILE *f = fopen("/sys/fs/cgroup/cgroup.subtree_control", "r");
    char buf[256] = "";
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = 0;
        fclose(f);
    }
    if (!strstr(buf, "memory"))
        return -1;
    snprintf(hs.cgroup_root, sizeof(hs.cgroup_root), "/sys/fs/cgroup");
    hs.v2 = 1;
    return 0;
}

static int fail(char *why, size_t len, const char *what)
{
    snprintf(why, len, "%s", what);
    host_swap_teardown();
    return -1;
}

int host_swap_setup(uint64_t swap_bytes, char *why, size_t len)
{
    hs.owner = getpid();
    install_handlers();
    if (geteuid() != 0)
        return fail(why, len, "not root (swapon and memory cgroups need it)");
    if (find_memory_cgroup())
        return fail(why, len, "no memory cgroup controller mounted");
    const char *tmp = getenv("TMPDIR");
    snprintf(hs.dir, sizeof(hs.dir), "%s/vmsim-swap-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(hs.dir)) {
        hs.dir[0] = 0;
        return fail(why, len, "no scratch folder");
    }
    snprintf(hs.swapfile, sizeof(hs.swapfile), "%s/swapfile", hs.dir);
    if (make_swap_file(hs.swapfile, swap_bytes))
        return fail(why, len, "the swap file could not be written");
    if (swapon(hs.swapfile, 0)) {
        char what[128];
        snprintf(what, sizeof(what), "swapon: %s", strerror(errno));
        return fail(why, len, what);
    }
    hs.swap_on = 1;
    return 0;
}

const char *host_swap_dir(void) { return hs.dir; }
int host_swap_cgroup_v2(void) { return hs.v2; }

int host_swap_cgroup_new(uint64_t limit)
{
    host_swap_cgroup_remove();
    snprintf(hs.cgroup, sizeof(hs.cgroup), "%s/vmsim-swap-%d-%u", hs.cgroup_root, (int)hs.owner,
             hs.ncgroups++);
    if (mkdir(hs.cgroup, 0755)) {
        hs.cgroup[0] = 0;
        return -1;
    }
    char text[32];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)limit);
    if (hs.v2)
        return write_text(hs.cgroup, "memory.max", text) ||
               write_text(hs.cgroup, "memory.swap.max", "max") ? -1 : 0;
    return write_text(hs.cgroup, "memory.limit_in_bytes", text) ? -1 : 0;
}

int host_swap_cgroup_enter(void)
{
    char me[32];
    snprintf(me, sizeof(me), "%d", (int)getpid());
    return write_text(hs.cgroup, "cgroup.procs", me);
}

/* The value of key in a file of "key value" lines (/proc/vmstat,
 * memory.stat); 0 when the file or the key is missing. */
static uint64_t stat_file_value(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char k[64];
    unsigned long long v;
    uint64_t found = 0;
    while (f && fscanf(f, "%63s %llu", k, &v) == 2)
        if (!strcmp(k, key))
            found = v;
    if (f)
        fclose(f);
    return found;
}

uint64_t host_vmstat(const char *key) { return stat_file_value("/proc/vmstat", key); }

uint64_t host_swap_cgroup_stat(const char *key)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/memory.stat", hs.cgroup);
    return hs.cgroup[0] ? stat_file_value(path, key) : 0;
}
