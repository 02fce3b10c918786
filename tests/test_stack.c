/*
 * test_stack.c - the stack a program starts with and how it grows, as Linux
 * 6.18 does it. Host figures (a program under setarch -R touching addresses
 * below its stack, with a SIGSEGV handler on an alternate stack, printing
 * the [stack] line after each touch):
 *   start 7ffffffde000; a byte one below grows it one page (7ffffffdd000);
 *   read() into a buffer 2 pages below grows it there (a kernel copy);
 *   4 MiB below grows it (no distance rule from the stack pointer); the
 *   8 MiB RLIMIT_STACK edge (7fffff7ff000) grows, one byte below is SIGSEGV;
 *   a readable mapping below must stay 256 pages (1 MiB) away, a PROT_NONE
 *   one may touch it; with a 1 MiB rlimit 4 MiB below is SIGSEGV;
 *   a 2-page rlimit leaves a 2-page stack at exec; mmap_base follows the
 *   rlimit ([vdso] ends at 7fffbfeff000 with 1 GiB, 155555556000 unlimited).
 */
#include "elfbuild.h"

#define TOP 0x7ffffffff000ULL

struct st_env {
    char dir[256], root[300];
    vms_machine *m;
    vms_task *t;
};

static vms_machine *st_machine(const char *root, uint64_t stack_rlimit)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.root = root;
    c.aslr_seed = 0;
    c.stack_rlimit = stack_rlimit;
    c.overcommit_memory = 0;
    c.mmap_min_addr = 4096;
    c.pgtable_levels = 4;
    c.zero_page = 1;
    return tu_machine_with(&c);
}

static vms_task *start_program(vms_machine *m)
{
    vms_task *t = tu_spawn(m);
    char *const argv[] = {"./prog", NULL};
    assert_int_equal(vms_execve(t, "./prog", argv, NULL), 0);
    return t;
}

static int st_setup(void **state)
{
    struct st_env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "prog", &p);
    e->m = st_machine(e->root, 8ULL << 20);
    e->t = start_program(e->m);
    *state = e;
    return 0;
}

static int st_teardown(void **state)
{
    struct st_env *e = *state;
    vms_machine_destroy(e->m);
    int err = tu_scratch_remove(e->dir);
    free(e);
    return err;
}

/* The start of the [stack] line (0: none). */
static uint64_t stack_start(vms_task *t)
{
    char *text = tu_maps(t);
    uint64_t start = 0;
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char *nl = strchr(line, '\n');
        if (nl && memmem(line, (size_t)(nl - line), "[stack]", 7))
            start = strtoull(line, NULL, 16);
    }
    free(text);
    return start;
}

/* A store at va: 0, or the signal. */
static int touch(vms_task *t, uint64_t va)
{
    uint8_t b = 1;
    return vms_store(t, va, &b, 1);
}

static void test_growth_by_faults(void **state)
{
    struct st_env *e = *state;
    assert_int_equal(stack_start(e->t), 0x7ffffffde000ULL);
    assert_int_equal(touch(e->t, 0x7ffffffddfffULL), 0);
    assert_int_equal(stack_start(e->t), 0x7ffffffdd000ULL);
    assert_int_equal(touch(e->t, TOP - 0x400000), 0);
    assert_int_equal(stack_start(e->t), TOP - 0x400000);
    /* everything between reads as zeros, the strings are still at the top */
    assert_int_equal(tu_load_byte(e->t, TOP - 0x300000), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(tu_load_byte(e->t, i.arg_start), '.');
    assert_int_equal(touch(e->t, TOP - 0x800000), 0);
    assert_int_equal(stack_start(e->t), TOP - 0x800000);
    assert_int_equal(touch(e->t, TOP - 0x800000 - 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_MAPERR, TOP - 0x800000 - 1);
    assert_int_equal(stack_start(e->t), TOP - 0x800000);
    tu_assert_clean(e->m);
}

/* read() into memory below the stack grows it, as the kernel's copy faults. */
static void test_growth_by_kernel_copy(void **state)
{
    struct st_env *e = *state;
    int fd = vms_open(e->t, "prog", O_RDONLY, 0);
    assert_true(fd >= 0);
    uint64_t lo = stack_start(e->t);
    assert_int_equal(vms_read(e->t, fd, lo - 0x2000, 16), 16);
    assert_int_equal(stack_start(e->t), lo - 0x2000);
    assert_int_equal(tu_load_byte(e->t, lo - 0x2000 + 3), 'F'); /* the ELF magic */
    lo = stack_start(e->t);
    assert_int_equal(vms_read(e->t, fd, lo - 0x2000 + 0xff8, 16), 16);
    assert_int_equal(stack_start(e->t), lo - 0x2000);
    /* beyond the rlimit the copy fails: EFAULT, and no signal */
    assert_int_equal(vms_read(e->t, fd, TOP - 0x900000, 16), -EFAULT);
    tu_assert_clean(e->m);
}

/* The guard gap: 256 pages above an accessible mapping, none above
 * PROT_NONE. */
static void test_guard_gap(void **state)
{
    struct st_env *e = *state;
    assert_int_equal(touch(e->t, 0x7ffffffddfffULL), 0);
    uint64_t lo = stack_start(e->t), mb = lo - 0x200000;
    assert_int_equal(vms_mmap(e->t, mb, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                              -1, 0),
                     (int64_t)mb);
    assert_int_equal(touch(e->t, mb + 0x1000 + 0x100000 - 0x1000), SIGSEGV);
    assert_int_equal(touch(e->t, mb + 0x1000 + 0x100000), 0);
    assert_int_equal(stack_start(e->t), mb + 0x1000 + 0x100000);
    assert_int_equal(vms_munmap(e->t, mb, 0x1000), 0);
    lo = stack_start(e->t);
    assert_int_equal(vms_mmap(e->t, lo - 0x3000, 0x1000, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     (int64_t)(lo - 0x3000));
    assert_int_equal(touch(e->t, lo - 0x2000), 0);
    assert_int_equal(stack_start(e->t), lo - 0x2000);
    /* the PROT_NONE page itself is no stack */
    assert_int_equal(touch(e->t, lo - 0x2001), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_ACCERR, lo - 0x2001);
    tu_assert_clean(e->m);
}

/* RLIMIT_STACK: the stack at exec, its growth, and mmap_base. */
static void test_rlimits(void **state)
{
    struct st_env *e = *state;
    vms_machine *m = st_machine(e->root, 1ULL << 20);
    vms_task *t = start_program(m);
    assert_int_equal(touch(t, TOP - 0x100000), 0);
    assert_int_equal(touch(t, TOP - 0x400000), SIGSEGV);
    struct vms_exec_info i;
    vms_task_exec_info(t, &i);
    assert_int_equal(i.mmap_base, TOP - (128ULL << 20)); /* raised to 128 MiB */
    vms_machine_destroy(m);

    m = st_machine(e->root, 8192);
    t = start_program(m);
    assert_int_equal(stack_start(t), TOP - 0x2000);
    assert_int_equal(touch(t, TOP - 0x2001), SIGSEGV);
    vms_machine_destroy(m);

    m = st_machine(e->root, 1ULL << 30);
    t = start_program(m);
    vms_task_exec_info(t, &i);
    assert_int_equal(i.mmap_base, 0x7fffbfeff000ULL); /* 1 GiB + the 1 MiB guard gap */
    assert_int_equal(i.vdso + 0x2000, 0x7fffbfeff000ULL);
    vms_machine_destroy(m);

    m = st_machine(e->root, UINT64_MAX);
    t = start_program(m);
    vms_task_exec_info(t, &i);
    assert_int_equal(i.vdso + 0x2000, 0x155555556000ULL); /* 5/6 of the space below */
    assert_int_equal(touch(t, TOP - 0x2000000), 0); /* past 8 MiB: no limit */
    vms_machine_destroy(m);
    tu_assert_clean(e->m);
}

/* An mmap hint inside the stack's guard gap is not taken. */
static void test_hint_below_stack(void **state)
{
    struct st_env *e = *state;
    uint64_t lo = stack_start(e->t), hint = lo - 0x10000;
    int64_t got = vms_mmap(e->t, hint, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(got > 0);
    assert_true((uint64_t)got != hint);
    tu_assert_clean(e->m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_growth_by_faults, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_growth_by_kernel_copy, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_guard_gap, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_rlimits, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_hint_below_stack, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
