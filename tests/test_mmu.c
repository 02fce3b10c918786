/*
 * test_mmu.c - memory accesses and the page-fault handler, checked against
 * what Linux does on x86-64: minor-fault counts for demand-zero, the zero
 * page, copy-on-write, MAP_POPULATE and mprotect; the signal, si_code and
 * exact address of every refused access (SEGV_ACCERR, SEGV_MAPERR, SI_KERNEL
 * for non-canonical addresses); partial copies that stop at the first bad
 * page; instruction fetches from non-executable memory; MAP_GROWSDOWN growth
 * and its guard gap; the Accessed and Dirty bits; and the bytes in RAM.
 */
#include "testutil.h"

#include "pgtable.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)
#define ZERO_PAGE_PA 0x1000ULL /* frame 1: the first frame after the reserved frame 0 */
#define NONCANONICAL 0x800000000000ULL

struct fixture {
    vms_machine *m;
    vms_task *t;
};

static int setup(void **state)
{
    struct fixture *f = malloc(sizeof(*f));
    assert_non_null(f);
    f->m = tu_machine();
    f->t = tu_spawn(f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tu_assert_clean(f->m);
    vms_machine_destroy(f->m);
    free(f);
    return 0;
}

/* Minor faults taken since the last call (starting from the task's total). */
static uint64_t faults_since(const vms_task *t, uint64_t *mark)
{
    uint64_t now = tu_minflt(t), delta = now - *mark;
    *mark = now;
    return delta;
}

static void read_pages(vms_task *t, vms_addr a, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        (void)tu_load_byte(t, a + i * TU_PAGE);
}

static void write_pages(vms_task *t, vms_addr a, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tu_store_byte(t, a + i * TU_PAGE, (uint8_t)(i + 1));
}

static uint64_t pa_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_int_equal(w.present, 1);
    return w.pa;
}

static uint64_t leaf_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    return w.step[w.levels - 1].entry;
}

/* ---- demand zero, zero page, copy-on-write ---- */

static void test_no_fault_recorded_before_any_signal(void **state)
{
    struct fixture *f = *state;
    tu_assert_fault(f->t, 0, 0, 0);
    assert_int_equal(tu_minflt(f->t), 0);
}

static void test_mmap_alone_takes_no_fault(void **state)
{
    struct fixture *f = *state;
    tu_anon(f->t, 16 * TU_PAGE, RW);
    assert_int_equal(tu_minflt(f->t), 0);
}

static void test_first_read_is_one_minor_fault_and_reads_zeros(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    uint8_t buf[64];
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(vms_load(f->t, a + 100, buf, sizeof(buf)), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(tu_minflt(f->t), 1);
    struct vms_stats *s = tu_stats(f->m);
    assert_int_equal(s->minor_faults, 1);
    assert_int_equal(s->major_faults, 0);
    assert_int_equal(s->cow_faults, 0);
    free(s);
}

static void test_second_read_takes_no_fault(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    uint64_t mark = 0;
    (void)tu_load_byte(f->t, a);
    assert_int_equal(faults_since(f->t, &mark), 1);
    (void)tu_load_byte(f->t, a + 4095);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

static void test_read_pages_share_the_zero_page(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 2 * TU_PAGE, RW);
    read_pages(f->t, a, 2);
    assert_int_equal(pa_of(f->t, a), ZERO_PAGE_PA);
    assert_int_equal(pa_of(f->t, a + TU_PAGE + 0x10), ZERO_PAGE_PA + 0x10);
    assert_int_equal(tu_frames_used(f->m), 2 + 4); /* pgd and three tables, no page */
}

static void test_write_after_read_is_one_cow_fault(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    uint64_t mark = 0;
    (void)tu_load_byte(f->t, a);
    assert_int_equal(faults_since(f->t, &mark), 1);
    tu_store_byte(f->t, a + 5, 0x11);
    assert_int_equal(faults_since(f->t, &mark), 1);
    tu_store_byte(f->t, a + 6, 0x12);
    assert_int_equal(faults_since(f->t, &mark), 0);
    struct vms_stats *s = tu_stats(f->m);
    assert_int_equal(s->cow_faults, 1);
    assert_int_equal(s->minor_faults, 2);
    free(s);
    assert_int_not_equal(pa_of(f->t, a), ZERO_PAGE_PA);
}

static void test_cow_of_zero_page_leaves_zero_page_clean(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    (void)tu_load_byte(f->t, a);
    tu_store_byte(f->t, a + 7, 0x77);
    uint8_t page[4096];
    assert_int_equal(vms_load(f->t, a, page, sizeof(page)), 0);
    for (unsigned i = 0; i < sizeof(page); i++)
        assert_int_equal(page[i], i == 7 ? 0x77 : 0);
    assert_int_equal(vms_phys_read(f->m, ZERO_PAGE_PA, page, sizeof(page)), 0);
    for (unsigned i = 0; i < sizeof(page); i++)
        assert_int_equal(page[i], 0);
}

static void test_first_write_is_one_fault_and_read_after_it_none(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    uint64_t mark = 0;
    tu_store_byte(f->t, a, 0x42);
    assert_int_equal(faults_since(f->t, &mark), 1);
    assert_int_equal(tu_load_byte(f->t, a), 0x42);
    assert_int_equal(faults_since(f->t, &mark), 0);
    struct vms_stats *s = tu_stats(f->m);
    assert_int_equal(s->cow_faults, 0);
    free(s);
}

static void test_16_reads_then_16_writes_fault_16_times_each(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 16 * TU_PAGE, RW);
    uint64_t mark = 0;
    read_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 16); /* no fault-around for anon */
    write_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 16);
}

static void test_write_only_mapping_can_be_read(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, PROT_WRITE);
    uint64_t mark = 0;
    assert_int_equal(tu_load_byte(f->t, a), 0);
    assert_int_equal(faults_since(f->t, &mark), 1);
    tu_store_byte(f->t, a, 3);
    assert_int_equal(faults_since(f->t, &mark), 1);
    assert_int_equal(tu_load_byte(f->t, a), 3);
}

/* ---- MAP_POPULATE ---- */

static void test_populate_rw_faults_16_times_during_mmap(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, RW, PRIV | MAP_POPULATE);
    uint64_t mark = 0;
    assert_int_equal(faults_since(f->t, &mark), 16);
    read_pages(f->t, a, 16);
    write_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 0);
    assert_int_not_equal(pa_of(f->t, a), ZERO_PAGE_PA); /* populated by writing */
}

static void test_populate_read_only_maps_zero_page_then_writes_fault(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, PROT_READ, PRIV | MAP_POPULATE);
    uint64_t mark = 0;
    assert_int_equal(faults_since(f->t, &mark), 16);
    read_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 0);
    assert_int_equal(pa_of(f->t, a + 15 * TU_PAGE), ZERO_PAGE_PA);
    assert_int_equal(vms_mprotect(f->t, a, 16 * TU_PAGE, RW), 0);
    assert_int_equal(faults_since(f->t, &mark), 0);
    write_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 16);
}

static void test_populate_write_only_faults_16_then_writes_nothing(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, PROT_WRITE, PRIV | MAP_POPULATE);
    uint64_t mark = 0;
    assert_int_equal(faults_since(f->t, &mark), 16);
    write_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

static void test_map_locked_faults_16_during_mmap(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, RW, PRIV | MAP_LOCKED);
    uint64_t mark = 0;
    assert_int_equal(faults_since(f->t, &mark), 16);
    write_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

static void test_populate_prot_none_faults_nothing(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, PROT_NONE, PRIV | MAP_POPULATE);
    assert_int_equal(tu_minflt(f->t), 0);
    struct vms_walk w;
    assert_int_equal(vms_walk(f->t, a, &w), -EFAULT);
}

static void test_populate_shared_faults_16_then_nothing(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 16 * TU_PAGE, RW, SHARED | MAP_POPULATE);
    uint64_t mark = 0;
    assert_int_equal(faults_since(f->t, &mark), 16);
    read_pages(f->t, a, 16);
    write_pages(f->t, a, 16);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

/* ---- shared anonymous memory and mprotect ---- */

static void test_shared_read_then_write_faults_once(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, SHARED);
    uint64_t mark = 0;
    (void)tu_load_byte(f->t, a);
    assert_int_equal(faults_since(f->t, &mark), 1);
    tu_store_byte(f->t, a, 9);
    assert_int_equal(faults_since(f->t, &mark), 0);
    assert_int_equal(tu_load_byte(f->t, a), 9);
}

static void test_private_read_only_read_mprotect_rw_write_faults_again(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, PROT_READ);
    uint64_t mark = 0;
    (void)tu_load_byte(f->t, a);
    assert_int_equal(faults_since(f->t, &mark), 1);
    assert_int_equal(vms_mprotect(f->t, a, TU_PAGE, RW), 0);
    assert_int_equal(faults_since(f->t, &mark), 0);
    tu_store_byte(f->t, a, 1);
    assert_int_equal(faults_since(f->t, &mark), 1);
}

static void test_shared_read_only_read_mprotect_rw_write_takes_no_fault(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, PROT_READ, SHARED);
    uint64_t mark = 0;
    (void)tu_load_byte(f->t, a);
    assert_int_equal(faults_since(f->t, &mark), 1);
    assert_int_equal(vms_mprotect(f->t, a, TU_PAGE, RW), 0);
    tu_store_byte(f->t, a, 1);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

static void test_written_page_mprotect_ro_then_rw_writes_without_fault(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    uint64_t mark = 0;
    tu_store_byte(f->t, a, 1);
    assert_int_equal(faults_since(f->t, &mark), 1);
    assert_int_equal(vms_mprotect(f->t, a, TU_PAGE, PROT_READ), 0);
    assert_int_equal(leaf_of(f->t, a) & _PAGE_RW, 0);
    assert_int_equal(vms_mprotect(f->t, a, TU_PAGE, RW), 0);
    assert_int_equal(leaf_of(f->t, a) & _PAGE_RW, _PAGE_RW);
    tu_store_byte(f->t, a, 2);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

/* ---- refused accesses ---- */

static void test_store_to_read_only_page_is_accerr_at_exact_address(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, PROT_READ);
    uint8_t v = 1;
    assert_int_equal(vms_store(f->t, a + 0x123, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 0x123);
    assert_int_equal(tu_minflt(f->t), 0);
    /* The refused store mapped nothing: the first read still faults. */
    (void)tu_load_byte(f->t, a);
    assert_int_equal(tu_minflt(f->t), 1);
}

static void test_store_to_present_read_only_page_is_accerr(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, PROT_READ);
    (void)tu_load_byte(f->t, a);
    uint8_t v = 1;
    assert_int_equal(vms_store(f->t, a + 0xfff, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 0xfff);
    assert_int_equal(tu_minflt(f->t), 1);
    assert_int_equal(tu_load_byte(f->t, a + 0xfff), 0);
}

static void test_store_to_shared_read_only_page_is_accerr(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, PROT_READ, SHARED);
    uint8_t v = 1;
    assert_int_equal(vms_store(f->t, a + 8, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 8);
}

static void test_every_access_to_prot_none_is_accerr(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, PROT_NONE);
    uint8_t v = 0;
    assert_int_equal(vms_load(f->t, a + 1, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 1);
    assert_int_equal(vms_store(f->t, a + 2, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 2);
    assert_int_equal(vms_fetch(f->t, a + 3, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 3);
    assert_int_equal(tu_minflt(f->t), 0);
}

static void test_prot_none_over_a_written_page_is_accerr(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    tu_store_byte(f->t, a, 5);
    assert_int_equal(vms_mprotect(f->t, a, TU_PAGE, PROT_NONE), 0);
    uint8_t v = 0;
    assert_int_equal(vms_load(f->t, a + 0x80, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 0x80);
    assert_int_equal(vms_mprotect(f->t, a, TU_PAGE, PROT_READ), 0);
    assert_int_equal(tu_load_byte(f->t, a), 5); /* the contents survived */
}

static void test_unmapped_access_is_maperr_at_exact_byte(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 4 * TU_PAGE, RW);
    assert_int_equal(vms_munmap(f->t, a, 4 * TU_PAGE), 0);
    uint8_t v = 0;
    assert_int_equal(vms_load(f->t, a + 0x1234, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, a + 0x1234);
    assert_int_equal(vms_store(f->t, a + 0x2fff, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, a + 0x2fff);
    assert_int_equal(vms_fetch(f->t, a + 0x10, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, a + 0x10);
    assert_int_equal(tu_minflt(f->t), 0);
}

static void test_null_page_access_is_maperr(void **state)
{
    struct fixture *f = *state;
    uint8_t v = 0;
    assert_int_equal(vms_load(f->t, 0x10, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, 0x10);
}

static void test_kernel_half_access_is_maperr(void **state)
{
    struct fixture *f = *state;
    uint8_t v = 0;
    assert_int_equal(vms_load(f->t, 0xffff888000000000ULL, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, 0xffff888000000000ULL);
    assert_int_equal(vms_store(f->t, 0x7ffffffff000ULL, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, 0x7ffffffff000ULL);
}

static void test_non_canonical_access_is_si_kernel_at_address_0(void **state)
{
    struct fixture *f = *state;
    uint8_t v = 0;
    assert_int_equal(vms_load(f->t, NONCANONICAL, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SI_KERNEL, 0);
    assert_int_equal(vms_store(f->t, NONCANONICAL + 0x123, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SI_KERNEL, 0);
    assert_int_equal(vms_fetch(f->t, 0xffff7fffffffffffULL, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SI_KERNEL, 0);
}

static void test_store_crossing_into_unmapped_page_writes_first_part(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 2 * TU_PAGE, RW);
    assert_int_equal(vms_munmap(f->t, a + TU_PAGE, TU_PAGE), 0);
    const uint8_t src[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    assert_int_equal(vms_store(f->t, a + TU_PAGE - 8, src, sizeof(src)), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, a + TU_PAGE);
    uint8_t got[8];
    assert_int_equal(vms_load(f->t, a + TU_PAGE - 8, got, sizeof(got)), 0);
    assert_memory_equal(got, src, sizeof(got));
}

static void test_load_crossing_into_unmapped_page_fills_first_part(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 2 * TU_PAGE, RW);
    assert_int_equal(vms_munmap(f->t, a + TU_PAGE, TU_PAGE), 0);
    const uint8_t src[4] = {0xa, 0xb, 0xc, 0xd};
    assert_int_equal(vms_store(f->t, a + TU_PAGE - 4, src, sizeof(src)), 0);
    uint8_t got[12];
    memset(got, 0xee, sizeof(got));
    assert_int_equal(vms_load(f->t, a + TU_PAGE - 4, got, sizeof(got)), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, a + TU_PAGE);
    assert_memory_equal(got, src, sizeof(src));
    for (size_t i = sizeof(src); i < sizeof(got); i++)
        assert_int_equal(got[i], 0xee);
}

static void test_store_is_refused_at_its_first_read_only_byte(void **state)
{
    struct fixture *f = *state;
    vms_addr hi = tu_anon(f->t, TU_PAGE, RW);
    vms_addr lo = tu_anon(f->t, TU_PAGE, PROT_READ);
    assert_int_equal(lo, hi - TU_PAGE);
    const uint8_t src[8] = {0};
    assert_int_equal(vms_store(f->t, hi - 4, src, sizeof(src)), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, hi - 4);
    /* Upward from the RW page into the read-only one: */
    vms_addr top = tu_mmap(f->t, hi + TU_PAGE, TU_PAGE, PROT_READ, PRIV | MAP_FIXED);
    assert_int_equal(vms_store(f->t, top - 4, src, sizeof(src)), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, top);
}

/* ---- instruction fetch ---- */

static void test_fetch_of_never_touched_rw_page_faults_once_then_accerr(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    uint64_t mark = 0;
    assert_int_equal(vms_fetch(f->t, a + 0x10, 4), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a + 0x10);
    assert_int_equal(faults_since(f->t, &mark), 1);
    assert_int_equal(pa_of(f->t, a), ZERO_PAGE_PA); /* present now */
    (void)tu_load_byte(f->t, a);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

static void test_fetch_of_present_rw_page_is_accerr_without_fault(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, RW);
    tu_store_byte(f->t, a, 0xc3);
    uint64_t mark = tu_minflt(f->t);
    assert_int_equal(vms_fetch(f->t, a, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_ACCERR, a);
    assert_int_equal(faults_since(f->t, &mark), 0);
}

static void test_fetch_of_read_exec_page_works(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 2 * TU_PAGE, PROT_READ | PROT_EXEC);
    assert_int_equal(vms_fetch(f->t, a + TU_PAGE - 2, 4), 0); /* spans both pages */
    assert_int_equal(tu_minflt(f->t), 2);
    assert_int_equal(vms_fetch(f->t, a, 16), 0);
    assert_int_equal(tu_minflt(f->t), 2);
    tu_assert_fault(f->t, 0, 0, 0);
}

static void test_fetch_of_rwx_page_after_write_works(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, TU_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    tu_store_byte(f->t, a, 0x90);
    assert_int_equal(vms_fetch(f->t, a, 1), 0);
    assert_int_equal(leaf_of(f->t, a) & _PAGE_NX, 0);
}

/* ---- MAP_GROWSDOWN ---- */

static void test_growsdown_grows_to_the_touched_page(void **state)
{
    struct fixture *f = *state;
    vms_addr gd = tu_mmap(f->t, 0x30000000, 2 * TU_PAGE, RW, PRIV | MAP_FIXED | MAP_GROWSDOWN);
    uint64_t mark = 0;
    tu_store_byte(f->t, gd - 1, 1);
    tu_assert_maps(f->t, "2ffff000-30002000 rw-p 00000000 00:00 0 \n");
    tu_store_byte(f->t, gd - 4097, 2);
    tu_assert_maps(f->t, "2fffe000-30002000 rw-p 00000000 00:00 0 \n");
    tu_store_byte(f->t, gd - 100 * TU_PAGE, 3);
    tu_assert_maps(f->t, "2ff9c000-30002000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(faults_since(f->t, &mark), 3);
    assert_int_equal(tu_load_byte(f->t, gd - 1), 1);
    assert_int_equal(tu_load_byte(f->t, gd - 4097), 2);
}

static void test_growsdown_stops_within_1mib_of_another_vma(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, 0x2ff00000, TU_PAGE, RW, PRIV | MAP_FIXED);
    vms_addr gd = tu_mmap(f->t, 0x30000000, 2 * TU_PAGE, RW, PRIV | MAP_FIXED | MAP_GROWSDOWN);
    uint8_t v = 1;
    assert_int_equal(vms_store(f->t, gd - 1, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, 0x2fffffff);
    tu_assert_maps(f->t, "2ff00000-2ff01000 rw-p 00000000 00:00 0 \n"
                         "30000000-30002000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(tu_minflt(f->t), 0);
}

static void test_growsdown_may_come_exactly_1mib_from_another_vma(void **state)
{
    struct fixture *f = *state;
    tu_mmap(f->t, 0x2fefe000, TU_PAGE, RW, PRIV | MAP_FIXED); /* ends 1 MiB below 0x2ffff000 */
    vms_addr gd = tu_mmap(f->t, 0x30000000, 2 * TU_PAGE, RW, PRIV | MAP_FIXED | MAP_GROWSDOWN);
    tu_store_byte(f->t, gd - 1, 1);
    tu_assert_maps(f->t, "2fefe000-2feff000 rw-p 00000000 00:00 0 \n"
                         "2ffff000-30002000 rw-p 00000000 00:00 0 \n");
}

static void test_plain_mapping_does_not_grow_down(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0x30000000, 2 * TU_PAGE, RW, PRIV | MAP_FIXED);
    uint8_t v = 1;
    assert_int_equal(vms_store(f->t, a - 1, &v, 1), SIGSEGV);
    tu_assert_fault(f->t, SIGSEGV, SEGV_MAPERR, a - 1);
}

/* ---- Accessed and Dirty bits, RAM contents ---- */

static void test_read_leaves_accessed_set_and_dirty_clear(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, SHARED);
    (void)tu_load_byte(f->t, a);
    uint64_t e = leaf_of(f->t, a);
    assert_int_equal(e & _PAGE_ACCESSED, _PAGE_ACCESSED);
    assert_int_equal(e & _PAGE_DIRTY, 0);
}

static void test_store_through_clean_writable_pte_sets_dirty_by_walk(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, TU_PAGE, RW, SHARED);
    (void)tu_load_byte(f->t, a); /* maps the page writable but clean */
    uint64_t mark = tu_minflt(f->t);
    struct vms_stats *before = tu_stats(f->m);
    tu_store_byte(f->t, a, 1);
    struct vms_stats *after = tu_stats(f->m);
    assert_int_equal(faults_since(f->t, &mark), 0); /* no fault: the walk set D */
    assert_int_equal(after->page_walks - before->page_walks, 1);
    assert_int_equal(leaf_of(f->t, a) & _PAGE_DIRTY, _PAGE_DIRTY);
    free(before);
    free(after);
    /* Now the TLB entry allows writes: the next store neither faults nor walks. */
    before = tu_stats(f->m);
    tu_store_byte(f->t, a + 1, 2);
    after = tu_stats(f->m);
    assert_int_equal(after->page_walks, before->page_walks);
    free(before);
    free(after);
}

static void test_phys_read_of_walk_pa_returns_stored_bytes(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 2 * TU_PAGE, RW);
    const char msg[] = "hello, physical memory";
    assert_int_equal(vms_store(f->t, a + TU_PAGE + 0x200, msg, sizeof(msg)), 0);
    char got[sizeof(msg)];
    assert_int_equal(vms_phys_read(f->m, pa_of(f->t, a + TU_PAGE + 0x200), got, sizeof(got)), 0);
    assert_memory_equal(got, msg, sizeof(msg));
}

static void test_store_spanning_three_pages_round_trips(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_anon(f->t, 3 * TU_PAGE, RW);
    /* From 96 bytes before the end of page 0 to 8 bytes before the end of page 2. */
    uint8_t src[2 * 4096 + 88], got[sizeof(src)];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(vms_store(f->t, a + 4000, src, sizeof(src)), 0);
    assert_int_equal(tu_minflt(f->t), 3);
    assert_int_equal(vms_load(f->t, a + 4000, got, sizeof(got)), 0);
    assert_memory_equal(got, src, sizeof(src));
    /* The bytes sit in three different frames, split at the page boundaries. */
    uint8_t b = 0;
    assert_int_equal(vms_phys_read(f->m, pa_of(f->t, a + 2 * TU_PAGE), &b, 1), 0);
    assert_int_equal(b, src[2 * 4096 - 4000]);
}

static void test_phys_read_beyond_ram_is_efault(void **state)
{
    struct fixture *f = *state;
    uint8_t b;
    assert_int_equal(vms_phys_read(f->m, 64ULL << 20, &b, 1), -EFAULT);
    assert_int_equal(vms_phys_read(f->m, (64ULL << 20) - 1, &b, 1), 0);
}

/* Accesses at the top of user space and at the end of the address space,
 * with 4-level paging: a page fault in the top user page or the kernel half
 * is SEGV_MAPERR at the first byte (even when the access would wrap past
 * 2^64); a non-canonical address is a general protection fault, SI_KERNEL
 * with address 0. Nothing is copied. Host-measured (Linux 6.18). */
static void test_accesses_at_the_top_and_end_of_the_address_space(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[16];
    static const struct {
        vms_addr va;
        size_t len;
        int store, code;
        vms_addr addr;
    } cases[] = {
        {0xfffffffffffffff8ULL, 16, 0, SEGV_MAPERR, 0xfffffffffffffff8ULL},
        {0xffffffffffffffffULL, 2, 0, SEGV_MAPERR, 0xffffffffffffffffULL},
        {0x7ffffffffff8ULL, 16, 1, SEGV_MAPERR, 0x7ffffffffff8ULL},
        {0x7fffffffffffULL, 2, 0, SEGV_MAPERR, 0x7fffffffffffULL},
        {NONCANONICAL, 1, 0, SI_KERNEL, 0},
        {0xffff7ffffffffff8ULL, 16, 1, SI_KERNEL, 0},
        {0xffff800000000000ULL, 1, 0, SEGV_MAPERR, 0xffff800000000000ULL},
        {0xfffffffffffff000ULL, 8, 1, SEGV_MAPERR, 0xfffffffffffff000ULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 0xcc, sizeof(buf));
        int sig = cases[i].store ? vms_store(f->t, cases[i].va, buf, cases[i].len)
                                 : vms_load(f->t, cases[i].va, buf, cases[i].len);
        assert_int_equal(sig, SIGSEGV);
        tu_assert_fault(f->t, SIGSEGV, cases[i].code, cases[i].addr);
        for (size_t b = 0; b < sizeof(buf); b++)
            assert_int_equal(buf[b], 0xcc);
    }
}

/* A zero-length access reads, writes and translates nothing, at any
 * address: page-aligned or not, mapped, unmapped or non-canonical. */
static void test_zero_length_access_touches_nothing(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 2 * TU_PAGE, RW, PRIV);
    uint8_t one = 1, buf = 0xcc;
    assert_int_equal(vms_store(f->t, a, &one, 1), 0); /* page 0 in the TLBs */
    const vms_addr vas[] = {a, a + 5, a + TU_PAGE, a + TU_PAGE + 7, 0x10, NONCANONICAL};
    struct vms_stats before, after;
    vms_get_stats(f->m, &before);
    for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
        assert_int_equal(vms_load(f->t, vas[i], &buf, 0), 0);
        assert_int_equal(vms_store(f->t, vas[i], &buf, 0), 0);
        assert_int_equal(vms_fetch(f->t, vas[i], 0), 0);
    }
    vms_get_stats(f->m, &after);
    assert_int_equal(buf, 0xcc);
    assert_memory_equal(&before.cpu[0], &after.cpu[0], sizeof(before.cpu[0]));
    assert_int_equal(after.minor_faults, before.minor_faults);
    assert_int_equal(vms_last_fault(f->t)->signo, 0);
}

/* Every access that takes no fault counts one L1 hit or one L1 miss (an
 * access that faults counts one more for its retry): the fast path's hits
 * (counted by the L1 TLB's clock, not a counter) and the slow path's add up
 * with the misses to the accesses made, for loads, stores and fetches. */
static void test_every_access_counts_one_l1_hit_or_miss(void **state)
{
    struct fixture *f = *state;
    vms_addr a = tu_mmap(f->t, 0, 8 * TU_PAGE, RW | PROT_EXEC, PRIV);
    uint64_t v = 0, data = 0, fetches = 0;
    write_pages(f->t, a, 8); /* faulted in: no access below faults */
    for (unsigned p = 0; p < 8; p++) /* the L1 TLBs hold the pages: 64 and 128 entries */
        assert_int_equal(vms_fetch(f->t, a + p * TU_PAGE, 1), 0);
    struct vms_stats before, after;
    vms_get_stats(f->m, &before);
    for (unsigned round = 0; round < 3; round++)
        for (unsigned p = 0; p < 8; p++) {
            assert_int_equal(vms_store(f->t, a + p * TU_PAGE, &v, 8), 0);
            assert_int_equal(vms_load(f->t, a + p * TU_PAGE + 8, &v, 8), 0);
            assert_int_equal(vms_fetch(f->t, a + p * TU_PAGE + 16, 4), 0);
            data += 2;
            fetches++;
        }
    vms_get_stats(f->m, &after);
    const struct vms_cpu_stats *b = &before.cpu[0], *c = &after.cpu[0];
    assert_int_equal(c->dtlb_hits - b->dtlb_hits + c->dtlb_misses - b->dtlb_misses, data);
    assert_int_equal(c->itlb_hits - b->itlb_hits + c->itlb_misses - b->itlb_misses, fetches);
    assert_int_equal(c->dtlb_hits - b->dtlb_hits, data); /* every page stays in each L1 */
    assert_int_equal(c->itlb_hits - b->itlb_hits, fetches);
    assert_int_equal(c->page_walks, b->page_walks);
    struct vms_cpu_stats one;
    assert_int_equal(vms_get_cpu_stats(f->m, 0, &one), 0);
    assert_memory_equal(&one, c, sizeof(one));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_no_fault_recorded_before_any_signal),
        T(test_zero_length_access_touches_nothing),
        T(test_every_access_counts_one_l1_hit_or_miss),
        T(test_accesses_at_the_top_and_end_of_the_address_space),
        T(test_mmap_alone_takes_no_fault),
        T(test_first_read_is_one_minor_fault_and_reads_zeros),
        T(test_second_read_takes_no_fault),
        T(test_read_pages_share_the_zero_page),
        T(test_write_after_read_is_one_cow_fault),
        T(test_cow_of_zero_page_leaves_zero_page_clean),
        T(test_first_write_is_one_fault_and_read_after_it_none),
        T(test_16_reads_then_16_writes_fault_16_times_each),
        T(test_write_only_mapping_can_be_read),
        T(test_populate_rw_faults_16_times_during_mmap),
        T(test_populate_read_only_maps_zero_page_then_writes_fault),
        T(test_populate_write_only_faults_16_then_writes_nothing),
        T(test_map_locked_faults_16_during_mmap),
        T(test_populate_prot_none_faults_nothing),
        T(test_populate_shared_faults_16_then_nothing),
        T(test_shared_read_then_write_faults_once),
        T(test_private_read_only_read_mprotect_rw_write_faults_again),
        T(test_shared_read_only_read_mprotect_rw_write_takes_no_fault),
        T(test_written_page_mprotect_ro_then_rw_writes_without_fault),
        T(test_store_to_read_only_page_is_accerr_at_exact_address),
        T(test_store_to_present_read_only_page_is_accerr),
        T(test_store_to_shared_read_only_page_is_accerr),
        T(test_every_access_to_prot_none_is_accerr),
        T(test_prot_none_over_a_written_page_is_accerr),
        T(test_unmapped_access_is_maperr_at_exact_byte),
        T(test_null_page_access_is_maperr),
        T(test_kernel_half_access_is_maperr),
        T(test_non_canonical_access_is_si_kernel_at_address_0),
        T(test_store_crossing_into_unmapped_page_writes_first_part),
        T(test_load_crossing_into_unmapped_page_fills_first_part),
        T(test_store_is_refused_at_its_first_read_only_byte),
        T(test_fetch_of_never_touched_rw_page_faults_once_then_accerr),
        T(test_fetch_of_present_rw_page_is_accerr_without_fault),
        T(test_fetch_of_read_exec_page_works),
        T(test_fetch_of_rwx_page_after_write_works),
        T(test_growsdown_grows_to_the_touched_page),
        T(test_growsdown_stops_within_1mib_of_another_vma),
        T(test_growsdown_may_come_exactly_1mib_from_another_vma),
        T(test_plain_mapping_does_not_grow_down),
        T(test_read_leaves_accessed_set_and_dirty_clear),
        T(test_store_through_clean_writable_pte_sets_dirty_by_walk),
        T(test_phys_read_of_walk_pa_returns_stored_bytes),
        T(test_store_spanning_three_pages_round_trips),
        T(test_phys_read_beyond_ram_is_efault),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
