/*
 * testutil.h - small helpers shared by the unit tests: a machine made from a
 * config (failing the test if it cannot be made), a spawned task, an
 * anonymous mapping, the maps text as a string, fault counts, and the check
 * that every invariant of the machine still holds.
 *
 * Include after cmocka's prerequisites; every helper is static inline so that
 * each test program stays one translation unit with no shared state.
 */
#ifndef VMSIM_TESTUTIL_H
#define VMSIM_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmsim.h"

#define TU_PAGE 4096ULL

/* A config with the defaults, on a smaller RAM so that tests start fast. */
static inline struct vms_config tu_config(uint64_t phys_bytes)
{
    struct vms_config c;
    vms_config_init(&c);
    c.phys_bytes = phys_bytes;
    return c;
}

/* Paging-structure caches on, set here rather than left to the defaults:
 * the sizes commonly cited for Intel's Skylake cores, or tiny ones whose entries
 * are replaced all the time (the randomised tests use both). */
static inline void tu_pwc(struct vms_config *c, int tiny)
{
    c->pde_cache = tiny ? (struct vms_tlb_geometry){4, 2} : (struct vms_tlb_geometry){32, 4};
    c->pdpte_cache = tiny ? (struct vms_tlb_geometry){2, 2} : (struct vms_tlb_geometry){4, 4};
    c->pml4e_cache = tiny ? (struct vms_tlb_geometry){1, 1} : (struct vms_tlb_geometry){2, 2};
}

/* The disk of the host that the tests' readahead measurements were taken
 * on: it reads ahead 8192 KiB (a read-around of 2048 pages, 512 of them
 * async) in requests of up to 4096 KiB. */
static inline void tu_measuring_host_disk(struct vms_config *c)
{
    c->readahead_kb = 8192;
    c->max_sectors_kb = 4096;
}

static inline vms_machine *tu_machine_with(const struct vms_config *c)
{
    vms_machine *m = vms_machine_create(c);
    assert_non_null(m);
    return m;
}

/* The default machine with 64 MiB of RAM. */
static inline vms_machine *tu_machine(void)
{
    struct vms_config c = tu_config(64ULL << 20);
    return tu_machine_with(&c);
}

static inline vms_task *tu_spawn(vms_machine *m)
{
    vms_task *t = vms_spawn(m, "test");
    assert_non_null(t);
    return t;
}

/* Every invariant holds: tree, tables, mapcounts, frames, TLBs. */
static inline void tu_assert_clean(vms_machine *m)
{
    assert_int_equal(vms_check(m, stderr), 0);
}

/* mmap that must succeed; returns the address. */
static inline vms_addr tu_mmap(vms_task *t, vms_addr addr, uint64_t len, int prot, int flags)
{
    int64_t r = vms_mmap(t, addr, len, prot, flags, -1, 0);
    assert_true(r >= 0);
    return (vms_addr)r;
}

/* A private anonymous mapping anywhere. */
static inline vms_addr tu_anon(vms_task *t, uint64_t len, int prot)
{
    return tu_mmap(t, 0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS);
}

/* The task's /proc/PID/maps text; the caller frees it. */
static inline char *tu_maps(vms_task *t)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    assert_int_equal(vms_maps(t, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static inline void tu_assert_maps(vms_task *t, const char *expected)
{
    char *text = tu_maps(t);
    assert_string_equal(text, expected);
    free(text);
}

static inline uint64_t tu_minflt(const vms_task *t)
{
    uint64_t minflt = 0, majflt = 0;
    vms_task_rusage(t, &minflt, &majflt);
    return minflt;
}

/* Stats are large (one block per possible CPU): keep them off small stacks. */
static inline struct vms_stats *tu_stats(vms_machine *m)
{
    struct vms_stats *s = malloc(sizeof(*s));
    assert_non_null(s);
    vms_get_stats(m, s);
    return s;
}

static inline uint64_t tu_frames_used(vms_machine *m)
{
    struct vms_stats *s = tu_stats(m);
    uint64_t used = s->frames_used;
    free(s);
    return used;
}

static inline uint64_t tu_pgtable_frames(vms_machine *m)
{
    struct vms_stats *s = tu_stats(m);
    uint64_t n = s->pgtable_frames;
    free(s);
    return n;
}

/* Byte-sized accesses that must succeed. */
static inline void tu_store_byte(vms_task *t, vms_addr va, uint8_t v)
{
    assert_int_equal(vms_store(t, va, &v, 1), 0);
}

static inline uint8_t tu_load_byte(vms_task *t, vms_addr va)
{
    uint8_t v = 0xee;
    assert_int_equal(vms_load(t, va, &v, 1), 0);
    return v;
}

/* The access raised signo/code at addr. */
static inline void tu_assert_fault(const vms_task *t, int signo, int code, vms_addr addr)
{
    const struct vms_fault *f = vms_last_fault(t);
    assert_int_equal(f->signo, signo);
    assert_int_equal(f->code, code);
    assert_int_equal(f->addr, addr);
}

/* How many VMAs the task has: one maps line each. */
static inline int tu_vma_count(vms_task *t)
{
    char *text = tu_maps(t);
    int n = 0;
    for (const char *c = text; *c; c++)
        n += *c == '\n';
    free(text);
    return n;
}

/* line is one maps line of a shared anonymous mapping that starts with prefix
 * ("start-end perms offset 00:01 "): the inode follows, then spaces so that
 * the name "/dev/zero (deleted)" starts at column 73, as Linux prints it.
 * Returns the inode. */
static inline uint64_t tu_assert_shm_line(const char *line, const char *prefix)
{
    size_t n = strlen(prefix);
    assert_memory_equal(line, prefix, n);
    char *after = NULL;
    uint64_t ino = strtoull(line + n, &after, 10);
    assert_true(after > line + n && *after == ' ');
    const char *name = line + 73;
    for (const char *c = after; c < name; c++)
        assert_int_equal(*c, ' ');
    assert_memory_equal(name, "/dev/zero (deleted)\n", 20);
    return ino;
}

/* The n-th line (from 0) of a maps text, or NULL. */
static inline const char *tu_line(const char *text, int n)
{
    for (; n > 0 && text; n--) {
        text = strchr(text, '\n');
        text = text ? text + 1 : NULL;
    }
    return text && *text ? text : NULL;
}

#endif

/* ---- files: a scratch root folder, host files, fault patterns ---- */
#ifndef VMSIM_TESTUTIL_FILES_H
#define VMSIM_TESTUTIL_FILES_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new empty folder under /tmp; dir holds at least 32 bytes. */
static inline void tu_scratch_make(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/vmsim-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static inline int tu_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything in it; symlinks are removed, never followed. */
static inline int tu_scratch_remove(const char *dir)
{
    return nftw(dir, tu_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir "/" name into out. */
static inline const char *tu_join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < size);
    return out;
}

/* A scratch folder holding an empty machine root: dir gets the folder's real
 * path (absolute paths compare as the machine sees them), root dir/root. */
static inline void tu_root_make(char *dir, size_t dirsize, char *root, size_t rootsize)
{
    char made[64], real[PATH_MAX];
    tu_scratch_make(made, sizeof(made));
    assert_non_null(realpath(made, real));
    int n = snprintf(dir, dirsize, "%s", real);
    assert_true(n > 0 && (size_t)n < dirsize);
    tu_join(root, rootsize, dir, "root");
    assert_int_equal(mkdir(root, 0755), 0);
}

/* The byte a test file holds at off: differs between pages and within one. */
static inline uint8_t tu_pattern(uint64_t off)
{
    return (uint8_t)((off >> 12) * 37 + off % 251);
}

/* Creates (or empties) path and writes data in 4 KiB write()s, as a program
 * would, so that the host caches the file in single pages. */
static inline void tu_host_write(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    for (size_t done = 0; done < len; done += 4096) {
        size_t n = len - done < 4096 ? len - done : 4096;
        assert_int_equal(write(fd, (const uint8_t *)data + done, n), (ssize_t)n);
    }
    assert_int_equal(close(fd), 0);
}

/* A file of len bytes of tu_pattern. */
static inline void tu_host_fill(const char *path, size_t len)
{
    uint8_t *data = malloc(len ? len : 1);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = tu_pattern(i);
    tu_host_write(path, data, len);
    free(data);
}

/* A file of len bytes, all c. */
static inline void tu_host_fill_byte(const char *path, size_t len, uint8_t c)
{
    uint8_t *data = malloc(len ? len : 1);
    assert_non_null(data);
    memset(data, c, len);
    tu_host_write(path, data, len);
    free(data);
}

/* What the host file holds at off (pread); returns the byte count. */
static inline ssize_t tu_host_read(const char *path, void *buf, size_t len, off_t off)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = pread(fd, buf, len, off);
    close(fd);
    return n;
}

static inline int tu_host_byte(const char *path, off_t off)
{
    uint8_t c = 0;
    return tu_host_read(path, &c, 1, off) == 1 ? c : -1;
}

/* st_size of the host file, or -1 when it does not exist. */
static inline long long tu_host_size(const char *path)
{
    struct stat st;
    return lstat(path, &st) ? -1 : (long long)st.st_size;
}

/* A machine whose root folder is root (64 MiB of RAM). */
static inline vms_machine *tu_machine_in(const char *root)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.root = root;
    return tu_machine_with(&c);
}

/* The fixture of the tests on files: a scratch folder holding the
 * machine's root folder, the default machine over it and one task. */
struct tu_env {
    char dir[256];  /* the scratch folder */
    char root[300]; /* dir/root: the machine's root folder */
    vms_machine *m; /* NULL once a test has ended it itself */
    vms_task *t;
};

static inline int tu_env_setup(void **state)
{
    struct tu_env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    e->m = tu_machine_in(e->root);
    e->t = tu_spawn(e->m);
    *state = e;
    return 0;
}

static inline int tu_env_teardown(void **state)
{
    struct tu_env *e = *state;
    vms_machine_destroy(e->m);
    int err = tu_scratch_remove(e->dir);
    free(e);
    return err;
}

static inline uint64_t tu_majflt(const vms_task *t)
{
    uint64_t minflt = 0, majflt = 0;
    vms_task_rusage(t, &minflt, &majflt);
    return majflt;
}

/* Touch each of `pages` pages from start in turn (a one-byte load, or a
 * store when write) and write what each cost into out: '0' no fault,
 * '1' one minor fault, 'M' one major fault, '?' anything else. */
static inline void tu_fault_pattern(vms_task *t, vms_addr start, int pages, int write, char *out)
{
    for (int i = 0; i < pages; i++) {
        uint64_t min0 = 0, maj0 = 0, min1 = 0, maj1 = 0;
        vms_addr va = start + (uint64_t)i * 4096;
        vms_task_rusage(t, &min0, &maj0);
        if (write)
            tu_store_byte(t, va, 'w');
        else
            (void)tu_load_byte(t, va);
        vms_task_rusage(t, &min1, &maj1);
        uint64_t dmin = min1 - min0, dmaj = maj1 - maj0;
        out[i] = dmin == 0 && dmaj == 0 ? '0' : dmin == 1 && dmaj == 0 ? '1'
               : dmin == 0 && dmaj == 1 ? 'M' : '?';
    }
    out[pages] = '\0';
}

/* The cost of one access: "0", "1" or "M", as in tu_fault_pattern. */
static inline char tu_fault_cost(vms_task *t, vms_addr va, int write)
{
    char out[2];
    tu_fault_pattern(t, va, 1, write, out);
    return out[0];
}

/* mincore over pages pages from start, as a string of '0' and '1'. */
static inline void tu_residency(vms_task *t, vms_addr start, int pages, char *out)
{
    unsigned char *vec = malloc((size_t)pages);
    assert_non_null(vec);
    assert_int_equal(vms_mincore(t, start, (uint64_t)pages * 4096, vec), 0);
    for (int i = 0; i < pages; i++)
        out[i] = vec[i] == 1 ? '1' : vec[i] == 0 ? '0' : '?';
    out[pages] = '\0';
    free(vec);
}

/* The maps line Linux prints for a file mapping: prefix, spaces up to column
 * 72, one more space, the name. */
static inline void tu_file_maps_line(char *out, size_t size, uint64_t start, uint64_t end,
                                     const char *perms, uint64_t off, uint64_t ino,
                                     const char *name)
{
    char prefix[128];
    int n = snprintf(prefix, sizeof(prefix), "%08llx-%08llx %s %08llx 08:01 %llu ",
                     (unsigned long long)start, (unsigned long long)end, perms,
                     (unsigned long long)off, (unsigned long long)ino);
    snprintf(out, size, "%s%*s %s\n", prefix, n < 72 ? 72 - n : 0, "", name);
}

#endif
