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
