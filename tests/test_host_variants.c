/*
 * test_host_variants.c - what a program sees change between Linux hosts, each
 * pinned both ways through the machine's config, so that no test depends on
 * the CPU or kernel of the machine that runs it:
 *   - protection keys (config.pku): with PKU, PROT_EXEC-only memory carries
 *     key 1 and data accesses to it raise SEGV_PKUERR; without, it is
 *     readable, and a store is an ordinary SEGV_ACCERR;
 *   - the zero page (config.zero_page): a read fault of private anonymous
 *     memory maps the shared zero page on a mainline kernel; some kernels
 *     (paravirtualised guests told so on their command line) give it a page
 *     of its own at once, so the first store takes no fault.
 * The pku = 0 and zero_page = 0 values were measured on a host without PKU
 * whose kernel maps no zero page (Linux 6.18); the pku = 1 and zero_page = 1
 * values on a PKU host with a mainline kernel.
 */
#include "testutil.h"

#include "pgtable.h"

#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define ZERO_PAGE_PA 0x1000ULL /* frame 1 holds the zero page */

struct env {
    vms_machine *m;
    vms_task *t;
    char dir[256], root[512];
};

static struct env *env_make(int pku, int zero_page)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    struct vms_config c = tu_config(64ULL << 20);
    c.root = e->root;
    c.pku = pku;
    c.zero_page = zero_page;
    e->m = tu_machine_with(&c);
    e->t = tu_spawn(e->m);
    return e;
}

static int setup_no_pku_no_zero_page(void **state)
{
    *state = env_make(0, 0);
    return 0;
}

static int setup_pku(void **state)
{
    *state = env_make(1, 1);
    return 0;
}

static int setup_no_pku(void **state)
{
    *state = env_make(0, 1);
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    tu_assert_clean(e->m);
    vms_machine_destroy(e->m);
    assert_int_equal(tu_scratch_remove(e->dir), 0);
    free(e);
    return 0;
}

static uint64_t faults_since(const vms_task *t, uint64_t *mark)
{
    uint64_t now = tu_minflt(t), delta = now - *mark;
    *mark = now;
    return delta;
}

static uint64_t pa_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_int_equal(w.present, 1);
    return w.pa;
}

/* ---- protection keys ---- */

static void test_without_pku_exec_only_memory_reads_zeros_after_one_fault(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, 4 * TU_PAGE, PROT_EXEC);
    uint64_t mark = 0;
    uint8_t v = 0xff;
    assert_int_equal(vms_load(e->t, a, &v, 1), 0);
    assert_int_equal(v, 0);
    assert_int_equal(faults_since(e->t, &mark), 1); /* host: 1 */
    tu_assert_clean(e->m);
}

static void test_without_pku_a_store_to_exec_only_memory_is_segv_accerr(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, 4 * TU_PAGE, PROT_EXEC);
    uint8_t v = 1;
    assert_int_equal(vms_store(e->t, a + TU_PAGE, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_ACCERR, a + TU_PAGE); /* host: si_code 2 */
}

static void test_without_pku_populate_of_exec_only_memory_faults_once_a_page(void **state)
{
    struct env *e = *state;
    uint64_t mark = 0;
    vms_addr a = tu_mmap(e->t, 0, 4 * TU_PAGE, PROT_EXEC, PRIV | MAP_POPULATE);
    assert_int_equal(faults_since(e->t, &mark), 4); /* host: 4 */
    uint8_t v;
    assert_int_equal(vms_load(e->t, a, &v, 1), 0);
    assert_int_equal(faults_since(e->t, &mark), 0); /* host: 0 */
}

static void test_without_pku_pwrite_from_exec_only_memory_succeeds(void **state)
{
    struct env *e = *state;
    int fd = vms_open(e->t, "out", O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    vms_addr a = tu_anon(e->t, 2 * TU_PAGE, PROT_EXEC);
    uint64_t mark = tu_minflt(e->t);
    assert_int_equal(vms_pwrite(e->t, fd, a, 2 * TU_PAGE, 0), 2 * TU_PAGE); /* host: 8192 */
    assert_int_equal(faults_since(e->t, &mark), 2);                         /* host: 2 */
    assert_int_equal(vms_close(e->t, fd), 0);
}

static void test_with_pku_exec_only_memory_refuses_data_access_with_key_1(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, 4 * TU_PAGE, PROT_EXEC);
    uint8_t v = 0;
    assert_int_equal(vms_load(e->t, a, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_PKUERR, a);
    assert_int_equal(vms_last_fault(e->t)->pkey, 1);
    assert_int_equal(vms_store(e->t, a + TU_PAGE, &v, 1), SIGSEGV);
    tu_assert_fault(e->t, SIGSEGV, SEGV_PKUERR, a + TU_PAGE);
    assert_int_equal(vms_fetch(e->t, a, 1), 0); /* instruction fetches ignore keys */
}

static void test_with_pku_pwrite_from_exec_only_memory_is_efault(void **state)
{
    struct env *e = *state;
    int fd = vms_open(e->t, "out", O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    vms_addr a = tu_anon(e->t, 2 * TU_PAGE, PROT_EXEC);
    assert_int_equal(vms_pwrite(e->t, fd, a, 2 * TU_PAGE, 0), -EFAULT);
    assert_int_equal(vms_close(e->t, fd), 0);
}

/* ---- the zero page ---- */

static void test_without_zero_page_a_read_fault_takes_a_writable_page(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, 2 * TU_PAGE, PROT_READ | PROT_WRITE);
    uint64_t mark = 0;
    (void)tu_load_byte(e->t, a);
    (void)tu_load_byte(e->t, a + TU_PAGE);
    assert_int_equal(faults_since(e->t, &mark), 2); /* host: 2 */
    assert_int_not_equal(pa_of(e->t, a), ZERO_PAGE_PA);
    assert_int_not_equal(pa_of(e->t, a), pa_of(e->t, a + TU_PAGE));
    tu_store_byte(e->t, a, 1);
    tu_store_byte(e->t, a + TU_PAGE, 1);
    assert_int_equal(faults_since(e->t, &mark), 0); /* host: 0 */
    tu_assert_clean(e->m);
}

static void test_with_zero_page_a_read_fault_shares_it_and_a_store_copies(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, 2 * TU_PAGE, PROT_READ | PROT_WRITE);
    uint64_t mark = 0;
    (void)tu_load_byte(e->t, a);
    (void)tu_load_byte(e->t, a + TU_PAGE);
    assert_int_equal(faults_since(e->t, &mark), 2);
    assert_int_equal(pa_of(e->t, a), ZERO_PAGE_PA);
    assert_int_equal(pa_of(e->t, a + TU_PAGE), ZERO_PAGE_PA);
    tu_store_byte(e->t, a, 1);
    tu_store_byte(e->t, a + TU_PAGE, 1);
    assert_int_equal(faults_since(e->t, &mark), 2);
}

static void test_without_zero_page_populate_read_leaves_stores_free(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, 2 * TU_PAGE, PROT_READ | PROT_WRITE);
    uint64_t mark = 0;
    assert_int_equal(vms_madvise(e->t, a, 2 * TU_PAGE, MADV_POPULATE_READ), 0);
    assert_int_equal(faults_since(e->t, &mark), 2); /* host: 2 */
    tu_store_byte(e->t, a, 1);
    tu_store_byte(e->t, a + TU_PAGE, 1);
    assert_int_equal(faults_since(e->t, &mark), 0); /* host: 0 */
}

/* The page a read fault gives read-only memory is the task's own, so the
 * VMA has anonymous memory and fork copies its PTE. */
static void test_without_zero_page_fork_copies_a_populated_read_only_page(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_mmap(e->t, 0, TU_PAGE, PROT_READ, PRIV | MAP_POPULATE);
    vms_task *c = vms_fork(e->t);
    assert_non_null(c);
    unsigned char v = 0;
    assert_int_equal(vms_mincore(c, a, TU_PAGE, &v), 0);
    assert_int_equal(v, 1); /* host: 1 */
    vms_exit(c);
}

/* mprotect makes an exclusive anonymous page writable at once, clean or not
 * (Linux's can_change_pte_writable). */
static void test_without_zero_page_mprotect_rw_of_a_read_page_needs_no_fault(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, TU_PAGE, PROT_READ);
    (void)tu_load_byte(e->t, a);
    assert_int_equal(vms_mprotect(e->t, a, TU_PAGE, PROT_READ | PROT_WRITE), 0);
    uint64_t mark = tu_minflt(e->t);
    tu_store_byte(e->t, a, 1);
    assert_int_equal(faults_since(e->t, &mark), 0); /* host: 0 */
}

static void test_without_zero_page_locked_read_only_memory_turns_writable_without_faults(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_mmap(e->t, 0, TU_PAGE, PROT_READ, PRIV | MAP_LOCKED);
    uint64_t mark = tu_minflt(e->t);
    assert_int_equal(vms_mprotect(e->t, a, TU_PAGE, PROT_WRITE), 0);
    assert_int_equal(faults_since(e->t, &mark), 0); /* host: 0 */
}

/* A written page that MADV_FREE made clean is still exclusive: writable
 * again after mprotect without a fault (host: 0). */
static void test_a_lazily_freed_page_made_writable_again_needs_no_fault(void **state)
{
    struct env *e = *state;
    vms_addr a = tu_anon(e->t, TU_PAGE, PROT_READ | PROT_WRITE);
    tu_store_byte(e->t, a, 1);
    assert_int_equal(vms_madvise(e->t, a, TU_PAGE, MADV_FREE), 0);
    assert_int_equal(vms_mprotect(e->t, a, TU_PAGE, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, a, TU_PAGE, PROT_READ | PROT_WRITE), 0);
    uint64_t mark = tu_minflt(e->t);
    tu_store_byte(e->t, a, 2);
    assert_int_equal(faults_since(e->t, &mark), 0);
    assert_int_equal(tu_load_byte(e->t, a), 2);
}

#define NO_PKU_NO_ZP(f) cmocka_unit_test_setup_teardown(f, setup_no_pku_no_zero_page, teardown)
#define NO_PKU(f) cmocka_unit_test_setup_teardown(f, setup_no_pku, teardown)
#define PKU(f) cmocka_unit_test_setup_teardown(f, setup_pku, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        NO_PKU_NO_ZP(test_without_pku_exec_only_memory_reads_zeros_after_one_fault),
        NO_PKU(test_without_pku_exec_only_memory_reads_zeros_after_one_fault),
        NO_PKU_NO_ZP(test_without_pku_a_store_to_exec_only_memory_is_segv_accerr),
        NO_PKU_NO_ZP(test_without_pku_populate_of_exec_only_memory_faults_once_a_page),
        NO_PKU(test_without_pku_populate_of_exec_only_memory_faults_once_a_page),
        NO_PKU_NO_ZP(test_without_pku_pwrite_from_exec_only_memory_succeeds),
        PKU(test_with_pku_exec_only_memory_refuses_data_access_with_key_1),
        PKU(test_with_pku_pwrite_from_exec_only_memory_is_efault),
        NO_PKU_NO_ZP(test_without_zero_page_a_read_fault_takes_a_writable_page),
        PKU(test_with_zero_page_a_read_fault_shares_it_and_a_store_copies),
        NO_PKU_NO_ZP(test_without_zero_page_populate_read_leaves_stores_free),
        NO_PKU_NO_ZP(test_without_zero_page_fork_copies_a_populated_read_only_page),
        NO_PKU_NO_ZP(test_without_zero_page_mprotect_rw_of_a_read_page_needs_no_fault),
        NO_PKU_NO_ZP(test_without_zero_page_locked_read_only_memory_turns_writable_without_faults),
        PKU(test_a_lazily_freed_page_made_writable_again_needs_no_fault),
        NO_PKU_NO_ZP(test_a_lazily_freed_page_made_writable_again_needs_no_fault),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
