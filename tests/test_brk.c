/*
 * test_brk.c - vms_brk as Linux 6.18's brk(2). The program is the one the
 * host ran for these figures: a static ET_EXEC whose writable segment is
 * all bss (p_filesz 0, 0x33a0 bytes at 0x403000), started under ptrace with
 * ASLR off, then the same brk, mmap, mprotect and munmap calls made with raw
 * system calls and /proc/self/maps read after them.
 */
#include "elfbuild.h"

#define B0 0x407000ULL /* the first break: the bss's end, page-aligned */

static struct eb_elf bss_only_program(void)
{
    struct eb_elf p = eb_program(0x400000, 0);
    p.seg[0].filesz = p.seg[0].memsz = 0x1b4;
    p.seg[1].filesz = p.seg[1].memsz = 0x4b0;
    p.seg[2].filesz = p.seg[2].memsz = 0x174;
    p.seg[3] = (struct eb_seg){PT_LOAD, PF_R | PF_W, 0, 0x403000, 0, 0x33a0, 0x1000};
    return p;
}

struct brk_env {
    char dir[256], root[300];
    vms_machine *m;
    vms_task *t;
};

static vms_machine *brk_machine(const char *root, uint64_t data_rlimit, unsigned overcommit)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.root = root;
    c.aslr_seed = 0;
    c.stack_rlimit = 8ULL << 20;
    c.data_rlimit = data_rlimit;
    c.overcommit_memory = overcommit;
    c.max_map_count = 65530;
    c.privileged = 0;
    return tu_machine_with(&c);
}

static int brk_setup(void **state)
{
    struct brk_env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    struct eb_elf p = bss_only_program();
    eb_install(e->root, "nb", &p);
    e->m = brk_machine(e->root, UINT64_MAX, 0);
    e->t = tu_spawn(e->m);
    char *const argv[] = {"./nb", NULL};
    assert_int_equal(vms_execve(e->t, "./nb", argv, NULL), 0);
    *state = e;
    return 0;
}

static int brk_teardown(void **state)
{
    struct brk_env *e = *state;
    vms_machine_destroy(e->m);
    int err = tu_scratch_remove(e->dir);
    free(e);
    return err;
}

/* The text between the program's lines and the vDSO's. */
static char *heap_lines(vms_task *t)
{
    static char text[8192];
    memset(text, 0, sizeof(text));
    FILE *f = fmemopen(text, sizeof(text) - 1, "w");
    assert_non_null(f);
    assert_int_equal(vms_maps(t, f), 0);
    fclose(f);
    const char *from = strstr(text, "00402000-00403000");
    const char *to = strstr(text, "7ffff7ff7000-");
    assert_non_null(from);
    assert_non_null(to);
    from = strchr(from, '\n') + 1;
    return strndup(from, (size_t)(to - from));
}

static void assert_heap(vms_task *t, const char *want)
{
    char *got = heap_lines(t);
    assert_string_equal(got, want);
    free(got);
}

#define PAD "                                  "
#define BSS "00403000-00407000 rw-p 00000000 00:00 0 \n"

static void test_first_break_and_heap_line(void **state)
{
    struct brk_env *e = *state;
    assert_int_equal(vms_brk(e->t, 0), B0);
    assert_heap(e->t, BSS);
    /* one byte: a page of heap, its own VMA (the bss is not extended) */
    assert_int_equal(vms_brk(e->t, B0 + 1), B0 + 1);
    assert_heap(e->t, BSS "00407000-00408000 rw-p 00000000 00:00 0" PAD "[heap]\n");
    assert_int_equal(vms_brk(e->t, 0), B0 + 1);
    /* the heap is memory: zeros, writable */
    assert_int_equal(tu_load_byte(e->t, B0 + 0xfff), 0);
    tu_store_byte(e->t, B0 + 0x10, 9);
    assert_int_equal(tu_load_byte(e->t, B0 + 0x10), 9);
    tu_assert_clean(e->m);
}

static void test_grow_shrink_below(void **state)
{
    struct brk_env *e = *state;
    assert_int_equal(vms_brk(e->t, B0 + 1), B0 + 1);
    assert_int_equal(vms_brk(e->t, B0 + 0x3000), B0 + 0x3000);
    assert_heap(e->t, BSS "00407000-0040a000 rw-p 00000000 00:00 0" PAD "[heap]\n");
    /* below start_brk: refused, the break stays */
    assert_int_equal(vms_brk(e->t, B0 - 1), B0 + 0x3000);
    assert_int_equal(vms_brk(e->t, B0 + 0x1800), B0 + 0x1800);
    assert_heap(e->t, BSS "00407000-00409000 rw-p 00000000 00:00 0" PAD "[heap]\n");
    /* within the same page: only the break moves */
    assert_int_equal(vms_brk(e->t, B0 + 0x1001), B0 + 0x1001);
    assert_heap(e->t, BSS "00407000-00409000 rw-p 00000000 00:00 0" PAD "[heap]\n");
    assert_int_equal(vms_brk(e->t, B0), B0);
    assert_heap(e->t, BSS);
    tu_assert_clean(e->m);
}

/* The heap keeps one page before the next mapping, and a stack's guard gap
 * (256 pages) below a MAP_GROWSDOWN one (host: 0x506000 yes, one more no). */
static void test_next_mapping_and_guard_gap(void **state)
{
    struct brk_env *e = *state;
    uint64_t g = B0 + 0x200000;
    assert_int_equal(vms_mmap(e->t, g, 0x1000, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0),
                     (int64_t)g);
    assert_int_equal(vms_brk(e->t, g - 0x100000 - 0x1000), g - 0x100000 - 0x1000);
    assert_int_equal(vms_brk(e->t, g - 0x100000 - 0x1000 + 1), g - 0x100000 - 0x1000);
    vms_munmap(e->t, g, 0x1000);
    assert_int_equal(vms_brk(e->t, B0), B0);
    uint64_t r = B0 + 0x10000;
    assert_int_equal(vms_mmap(e->t, r, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                              -1, 0),
                     (int64_t)r);
    assert_int_equal(vms_brk(e->t, r - 0x1000), r - 0x1000);
    assert_int_equal(vms_brk(e->t, r - 0x1000 + 1), r - 0x1000);
    assert_int_equal(vms_brk(e->t, r + 0x100000), r - 0x1000);
    /* far past everything: the address space ends first */
    assert_int_equal(vms_brk(e->t, 1ULL << 47), r - 0x1000);
    assert_int_equal(vms_brk(e->t, UINT64_MAX - 5), r - 0x1000);
    tu_assert_clean(e->m);
}

/* mprotect splits the heap (both parts stay [heap]); a hole in it does not
 * stop a shrink across it; a mapping placed at the break blocks growth and
 * is named [heap] once it overlaps [start_brk, brk). */
static void test_heap_split_hole_and_blocker(void **state)
{
    struct brk_env *e = *state;
    assert_int_equal(vms_brk(e->t, B0 + 0x2000), B0 + 0x2000);
    assert_int_equal(vms_mprotect(e->t, B0, 0x1000, PROT_READ), 0);
    assert_int_equal(vms_brk(e->t, B0 + 0x4000), B0 + 0x4000);
    assert_heap(e->t, BSS "00407000-00408000 r--p 00000000 00:00 0" PAD "[heap]\n"
                          "00408000-0040b000 rw-p 00000000 00:00 0" PAD "[heap]\n");
    assert_int_equal(vms_munmap(e->t, B0 + 0x1000, 0x1000), 0);
    assert_int_equal(vms_brk(e->t, B0 + 0x800), B0 + 0x800);
    assert_heap(e->t, BSS "00407000-00408000 r--p 00000000 00:00 0" PAD "[heap]\n");
    assert_int_equal(vms_brk(e->t, B0), B0);
    assert_heap(e->t, BSS);
    assert_int_equal(vms_mmap(e->t, B0, 0x1000, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     (int64_t)B0);
    assert_int_equal(vms_brk(e->t, B0 + 0x2000), B0);
    assert_heap(e->t, "00403000-00408000 rw-p 00000000 00:00 0" PAD "[heap]\n");
    tu_assert_clean(e->m);
}

/* RLIMIT_DATA: brk checks the heap plus the data segment against it, then
 * (as every mapping) all private writable memory but stacks. Host, with a
 * 10-page limit and a 2-page bss: the heap grows to 8 pages, then a 1-page
 * read-write mmap is ENOMEM. Here the bss is 4 pages: the heap stops at 6. */
static void test_data_rlimit(void **state)
{
    struct brk_env *e = *state;
    vms_machine *m = brk_machine(e->root, 40960, 0);
    vms_task *t = tu_spawn(m);
    char *const argv[] = {"./nb", NULL};
    assert_int_equal(vms_execve(t, "./nb", argv, NULL), 0);
    for (uint64_t k = 1; k <= 6; k++)
        assert_int_equal(vms_brk(t, B0 + k * 0x1000), B0 + k * 0x1000);
    assert_int_equal(vms_brk(t, B0 + 0x7000), B0 + 0x6000);
    assert_int_equal(vms_mmap(t, 0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                     -ENOMEM);
    assert_true(vms_mmap(t, 0, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) > 0);
    assert_true(vms_mmap(t, 0, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) > 0);
    /* replacing data pages with as many is allowed */
    assert_int_equal(vms_mmap(t, B0, 0x1000, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     (int64_t)B0);
    /* the first check: heap + data segment (0 here) above the limit */
    assert_int_equal(vms_brk(t, B0 + 40961), B0 + 0x6000);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* RLIMIT_DATA for mprotect (memory turning writable) and mremap (growth)
 * too (host, 10-page limit, 2-page bss, 8 pages mapped read-write: both
 * ENOMEM). Here the bss is 4 pages, so 6 pages fill the limit. */
static void test_data_rlimit_mprotect_mremap(void **state)
{
    struct brk_env *e = *state;
    vms_machine *m = brk_machine(e->root, 40960, 0);
    vms_task *t = tu_spawn(m);
    char *const argv[] = {"./nb", NULL};
    assert_int_equal(vms_execve(t, "./nb", argv, NULL), 0);
    int64_t a = vms_mmap(t, 0, 0x6000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int64_t b = vms_mmap(t, 0, 0x4000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(a > 0 && b > 0);
    assert_int_equal(vms_mprotect(t, (vms_addr)b, 0x1000, PROT_READ | PROT_WRITE), -ENOMEM);
    assert_int_equal(vms_mremap(t, (vms_addr)a, 0x6000, 0x7000, MREMAP_MAYMOVE, 0), -ENOMEM);
    assert_int_equal(vms_munmap(t, (vms_addr)a, 0x1000), 0);
    assert_int_equal(vms_mprotect(t, (vms_addr)b, 0x1000, PROT_READ | PROT_WRITE), 0);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* Strict overcommit refuses a heap larger than the commit limit. */
static void test_overcommit(void **state)
{
    struct brk_env *e = *state;
    vms_machine *m = brk_machine(e->root, UINT64_MAX, 2);
    vms_task *t = tu_spawn(m);
    char *const argv[] = {"./nb", NULL};
    assert_int_equal(vms_execve(t, "./nb", argv, NULL), 0);
    assert_int_equal(vms_brk(t, B0 + (1ULL << 30)), B0);
    assert_int_equal(vms_brk(t, B0 + 0x100000), B0 + 0x100000);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* fork copies the break; each process then moves its own. */
static void test_fork_keeps_break(void **state)
{
    struct brk_env *e = *state;
    assert_int_equal(vms_brk(e->t, B0 + 0x2000), B0 + 0x2000);
    tu_store_byte(e->t, B0 + 0x1000, 5);
    vms_task *c = vms_fork(e->t);
    assert_non_null(c);
    assert_int_equal(vms_brk(c, 0), B0 + 0x2000);
    assert_int_equal(tu_load_byte(c, B0 + 0x1000), 5);
    assert_int_equal(vms_brk(c, B0 + 0x5000), B0 + 0x5000);
    assert_int_equal(vms_brk(e->t, 0), B0 + 0x2000);
    vms_exit(c);
    tu_assert_clean(e->m);
}

/* A process never started by execve has its break at 0: brk(0) is 0. */
static void test_spawned_task(void **state)
{
    struct brk_env *e = *state;
    vms_task *t = tu_spawn(e->m);
    assert_int_equal(vms_brk(t, 0), 0);
    vms_exit(t);
    tu_assert_clean(e->m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_break_and_heap_line, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_grow_shrink_below, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_next_mapping_and_guard_gap, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_heap_split_hole_and_blocker, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_data_rlimit, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_data_rlimit_mprotect_mremap, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_overcommit, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_fork_keeps_break, brk_setup, brk_teardown),
        cmocka_unit_test_setup_teardown(test_spawned_task, brk_setup, brk_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
