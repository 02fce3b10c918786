/*
 * test_fork.c - fork(), as Linux 6.x on x86-64 (THP off) shows it: private
 * memory shared copy-on-write in both directions, with the fault counts and
 * frames of every case (a copy, or reuse of the frame once the other side has
 * gone or copied); which VMAs get their page tables copied (only those with
 * anonymous pages) and which the child faults in again (zero-page-only
 * memory, shared anonymous memory, file mappings, with fault-around); fork of
 * a fork; threads and the TLB entries fork must flush (with and without
 * PCID); mprotect, MADV_DONTNEED, mremap, truncation and mincore on memory a
 * fork shares; mlock, MADV_DONTFORK and MADV_WIPEONFORK; protection keys and
 * 5-level tables; the maps text and descriptor table the child inherits, and
 * which new mappings merge with inherited ones; exit returning every frame;
 * fork out of memory. vms_check (reverse mapping, anon_vma chains, map and
 * reference counts, TLB entries) runs after every step.
 *
 * The fault counts are the host's, measured with fork() and getrusage() in
 * the child and the parent (frames through /proc/self/pagemap). Mappings are
 * placed with MAP_FIXED_NOREPLACE in separate 256 MiB slots, so that no two
 * of them merge and each starts a page table.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>

#define PG 4096ULL
#define MIB (1ULL << 20)
#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED (MAP_SHARED | MAP_ANONYMOUS)
#define MACHINE_FRAMES 2 /* frame 0 and the zero page */

/* ---- helpers ---- */

/* The start of slot k: 256 MiB apart, so mappings never touch. */
static vms_addr slot(int k) { return 0x100000000ULL + (vms_addr)k * 0x10000000ULL; }

static vms_addr map_fd_at(vms_task *t, int k, uint64_t pages, int prot, int flags, int fd)
{
    int64_t r = vms_mmap(t, slot(k), pages * PG, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (r < 0)
        fail_msg("mmap failed: %lld", (long long)r);
    assert_int_equal(r, slot(k));
    return (vms_addr)r;
}

static vms_addr map_at(vms_task *t, int k, uint64_t pages, int prot, int flags)
{
    return map_fd_at(t, k, pages, prot, flags, -1);
}

/* A private read-write anonymous mapping whose page i holds first + i. */
static vms_addr written_at(vms_task *t, int k, uint64_t pages, uint8_t first)
{
    vms_addr a = map_at(t, k, pages, RW, PRIV);
    for (uint64_t i = 0; i < pages; i++)
        tu_store_byte(t, a + i * PG, (uint8_t)(first + i));
    return a;
}

/* fork() that must succeed, leaving every invariant true. */
static vms_task *fork_ok(struct tu_env *e, vms_task *t)
{
    vms_task *c = vms_fork(t);
    assert_non_null(c);
    tu_assert_clean(e->m);
    return c;
}

/* The frame that va maps to in t (the page table must map it). */
static uint64_t frame_of(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    assert_int_equal(vms_walk(t, va, &w), 0);
    assert_int_equal(w.present, 1);
    return w.pa & ~(PG - 1);
}

/* Does t's page table map va? */
static int mapped(vms_task *t, vms_addr va)
{
    struct vms_walk w;
    return vms_walk(t, va, &w) == 0 && w.present;
}

/* The fault pattern of touching `pages` pages from va ('0' none, '1' minor). */
static void assert_faults(vms_task *t, vms_addr va, int pages, int write, const char *want)
{
    char got[1100];
    assert_true(pages < (int)sizeof(got));
    tu_fault_pattern(t, va, pages, write, got);
    assert_string_equal(got, want);
}

/* Page i from va holds first + i (on the page's first byte). */
static void assert_page_bytes(vms_task *t, vms_addr va, uint64_t pages, uint8_t first)
{
    for (uint64_t i = 0; i < pages; i++)
        assert_int_equal(tu_load_byte(t, va + i * PG), (uint8_t)(first + i));
}

/* A file of `pages` pages of tu_pattern in the machine's root, opened O_RDWR
 * and fully cached with pread (backwards, and page 0 from offset 1, so that
 * no readahead marks a page). */
static int cached_file(struct tu_env *e, const char *name, uint64_t pages)
{
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, name), pages * PG);
    int fd = vms_open(e->t, name, O_RDWR, 0);
    assert_true(fd >= 3);
    vms_addr buf = map_at(e->t, 15, 1, RW, PRIV);
    for (uint64_t i = pages; i-- > 0;) {
        int64_t off = i ? (int64_t)(i * PG) : 1;
        assert_true(vms_pread(e->t, fd, buf, PG - (uint64_t)off % PG, off) > 0);
    }
    assert_int_equal(vms_munmap(e->t, buf, PG), 0);
    return fd;
}

/* ---- the call itself ---- */

static void test_fork_of_null_is_einval(void **state)
{
    (void)state;
    errno = 0;
    assert_null(vms_fork(NULL));
    assert_int_equal(errno, EINVAL);
}

static void test_child_gets_the_next_pid_and_the_parents_cpu(void **state)
{
    struct tu_env *e = *state;
    assert_int_equal(vms_schedule(e->t, 2), 0);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_task_pid(c), vms_task_pid(e->t) + 1);
    assert_int_equal(vms_task_cpu(c), 2);
}

struct fork_events {
    int n;
    struct vms_event last;
};

static void record_fork(void *arg, const struct vms_event *ev)
{
    struct fork_events *fe = arg;
    if (ev->kind == VMS_EV_FORK) {
        fe->n++;
        fe->last = *ev;
    }
}

/* A tracer sees one fork event: the CPU, the parent's pid, the child's. */
static void test_fork_is_traced_with_both_pids(void **state)
{
    struct tu_env *e = *state;
    vms_machine_destroy(e->m);
    struct fork_events fe = {0};
    struct vms_config cfg = tu_config(64 * MIB);
    cfg.root = e->root;
    cfg.trace = record_fork;
    cfg.trace_arg = &fe;
    e->m = tu_machine_with(&cfg);
    e->t = tu_spawn(e->m);
    assert_int_equal(vms_schedule(e->t, 3), 0);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(fe.n, 1);
    assert_int_equal(fe.last.cpu, 3);
    assert_int_equal(fe.last.a, (uint64_t)vms_task_pid(e->t));
    assert_int_equal(fe.last.b, (uint64_t)vms_task_pid(c));
}

static void test_child_fault_counts_start_at_zero(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 4, RW, PRIV);
    assert_faults(e->t, a, 4, 1, "1111");
    vms_task *c = fork_ok(e, e->t);
    uint64_t minflt = 9, majflt = 9;
    vms_task_rusage(c, &minflt, &majflt);
    assert_int_equal(minflt, 0);
    assert_int_equal(majflt, 0);
    assert_int_equal(tu_minflt(e->t), 4);
}

/* ---- private anonymous memory: copy-on-write ---- */

static void test_child_reads_parents_private_pages_without_faults(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 16, 'a');
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 0, "0000000000000000"); /* host: 0 faults */
    assert_page_bytes(c, a, 16, 'a');
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(frame_of(c, a + i * PG), frame_of(e->t, a + i * PG));
    tu_assert_clean(e->m);
}

static void test_child_first_write_copies_the_page(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_fault_cost(c, a, 1), '1'); /* host: one minor fault */
    assert_int_not_equal(frame_of(c, a), pf);
    assert_int_equal(frame_of(e->t, a), pf);
    assert_int_equal(tu_fault_cost(c, a + 1, 1), '0'); /* the copy is the child's own */
    tu_assert_clean(e->m);
}

static void test_child_writes_do_not_reach_the_parent(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 16, 'a');
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 1, "1111111111111111"); /* host: 15 + 1 */
    tu_assert_clean(e->m);
    assert_page_bytes(e->t, a, 16, 'a');
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(tu_load_byte(c, a + i * PG), 'w');
    assert_int_equal(tu_minflt(e->t), 16); /* the parent's own first writes only */
}

/* The parent's CPU held a writable translation of the page: fork must have
 * flushed it, or this store would land in the frame the child still uses. */
static void test_parent_store_after_fork_faults_and_misses_the_child(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    tu_store_byte(e->t, a, 'b'); /* a writable DTLB entry on CPU 0 */
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: one minor fault */
    tu_assert_clean(e->m);
    assert_int_equal(tu_load_byte(c, a), 'b');
    assert_int_equal(tu_load_byte(e->t, a), 'w');
}

/* The same with PCID: the child ran on the CPU in between, and the parent's
 * entries stayed tagged in the TLB across both switches. */
static void test_parent_store_after_fork_faults_with_pcid(void **state)
{
    struct tu_env *e = *state;
    vms_machine_destroy(e->m);
    struct vms_config cfg = tu_config(64 * MIB);
    cfg.root = e->root;
    cfg.pcid = 1;
    e->m = tu_machine_with(&cfg);
    e->t = tu_spawn(e->m);
    vms_addr a = written_at(e->t, 0, 1, 'a');
    tu_store_byte(e->t, a, 'b');
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_load_byte(c, a), 'b');
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1');
    tu_assert_clean(e->m);
    assert_int_equal(tu_load_byte(c, a), 'b');
    assert_int_equal(tu_load_byte(e->t, a), 'w');
}

static void test_parent_write_after_child_exit_reuses_its_frame(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    vms_exit(c);
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(e->t, a, 0), '0');
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1 fault, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '0');
    tu_assert_clean(e->m);
}

static void test_parent_write_while_child_lives_copies(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1 fault, new frame */
    assert_int_not_equal(frame_of(e->t, a), pf);
    assert_int_equal(frame_of(c, a), pf); /* the child keeps the original */
    assert_int_equal(tu_load_byte(c, a), 'a');
    tu_assert_clean(e->m);
}

/* Once the parent has its copy, the child is the original's only user. */
static void test_child_write_after_parent_copied_reuses_its_frame(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1');
    assert_int_equal(tu_fault_cost(c, a, 1), '1'); /* host: 1 fault, same frame */
    assert_int_equal(frame_of(c, a), pf);
    tu_assert_clean(e->m);
}

static void test_parent_write_after_child_copied_reuses_its_frame(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_fault_cost(c, a, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1 fault, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
    assert_int_equal(tu_load_byte(c, a), 'w');
    tu_assert_clean(e->m);
}

static void test_child_write_after_parent_exit_reuses_its_frame(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    vms_exit(e->t);
    e->t = NULL;
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(c, a, 1), '1'); /* host: 1 fault, same frame */
    assert_int_equal(frame_of(c, a), pf);
    tu_assert_clean(e->m);
}

static void test_parent_write_after_child_unmapped_reuses_its_frame(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'a');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_munmap(c, a, PG), 0);
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1 fault, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
}

/* mprotect cannot make a shared page writable again: the write still copies. */
static void test_mprotect_round_trip_after_fork_keeps_copy_on_write(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 't');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, a, PG, RW), 0);
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1 fault, new frame */
    assert_int_not_equal(frame_of(e->t, a), pf);
    assert_int_equal(tu_load_byte(c, a), 't');
}

/* After the child left, the page is the parent's alone, but not yet marked
 * so: mprotect leaves it read-only and the write faults once, reusing it. */
static void test_mprotect_round_trip_after_child_exit_faults_once_and_reuses(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'q');
    uint64_t pf = frame_of(e->t, a);
    vms_exit(fork_ok(e, e->t));
    assert_int_equal(vms_mprotect(e->t, a, PG, PROT_READ), 0);
    assert_int_equal(vms_mprotect(e->t, a, PG, RW), 0);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
    tu_assert_clean(e->m);
}

/* PROT_NONE pages are copied too, and stay copy-on-write once accessible. */
static void test_prot_none_pages_are_shared_copy_on_write(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 2, 'a');
    uint64_t pf = frame_of(e->t, a);
    assert_int_equal(vms_mprotect(e->t, a, 2 * PG, PROT_NONE), 0);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_mprotect(c, a, 2 * PG, RW), 0);
    assert_int_equal(tu_fault_cost(c, a, 0), '0');     /* host: 0 */
    assert_int_equal(tu_fault_cost(c, a, 1), '1');     /* host: 1, new frame */
    assert_int_not_equal(frame_of(c, a), pf);
    assert_int_equal(vms_mprotect(e->t, a, 2 * PG, RW), 0);
    assert_int_equal(tu_fault_cost(e->t, a + PG, 0), '0'); /* host: 0 */
    assert_int_equal(tu_fault_cost(e->t, a + PG, 1), '1'); /* host: 1 (still shared) */
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1');      /* host: 1, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
    assert_int_equal(tu_load_byte(c, a + PG), 'b');
    tu_assert_clean(e->m);
}

/* MADV_DONTNEED in the child drops only its own mapping of the pages. */
static void test_dontneed_in_the_child_leaves_the_parent_its_pages(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 2, 'r');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_madvise(c, a, 2 * PG, MADV_DONTNEED), 0);
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(c, a, 0), '1'); /* host: 1, zero-filled */
    assert_int_equal(tu_load_byte(c, a), 0);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* the parent's own again */
    assert_int_equal(frame_of(e->t, a), pf);
    tu_assert_clean(e->m);
}

/* Two children in turn each copy; then the parent is the only user left. */
static void test_parent_reuses_after_two_children_copied_in_turn(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'p');
    uint64_t pf = frame_of(e->t, a);
    for (int k = 0; k < 2; k++) {
        vms_task *c = fork_ok(e, e->t);
        assert_int_equal(tu_fault_cost(c, a, 1), '1'); /* host: 1, new frame */
        assert_int_not_equal(frame_of(c, a), pf);
        vms_exit(c);
        tu_assert_clean(e->m);
    }
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
}

/* One child copied and left, the other still shares: the parent copies. */
static void test_parent_copies_while_one_of_two_children_shares(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 1, 'p');
    uint64_t pf = frame_of(e->t, a);
    vms_task *c1 = fork_ok(e, e->t);
    vms_task *c2 = fork_ok(e, e->t);
    tu_store_byte(c2, a, '2');
    vms_exit(c2);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1, new frame */
    assert_int_not_equal(frame_of(e->t, a), pf);
    assert_int_equal(frame_of(c1, a), pf);
    assert_int_equal(tu_load_byte(c1, a), 'p');
    tu_assert_clean(e->m);
}

/* ---- which VMAs get their page tables copied ---- */

/* Read faults mapped only the zero page and gave the VMA no anon_vma: the
 * child's tables stay empty and it faults every page in again. */
static void test_zero_page_only_vma_is_not_copied(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 16, RW, PRIV);
    assert_faults(e->t, a, 16, 0, "1111111111111111");
    vms_task *c = fork_ok(e, e->t);
    assert_false(mapped(c, a));
    assert_faults(c, a, 16, 0, "1111111111111111"); /* host: 16 */
    assert_faults(e->t, a, 16, 0, "0000000000000000"); /* host: 0 */
    assert_int_equal(tu_fault_cost(c, a, 1), '1');
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1');
    assert_int_equal(tu_load_byte(c, a), 'w');
    assert_int_equal(tu_load_byte(e->t, a), 'w');
    assert_int_equal(tu_load_byte(c, a + PG), 0);
    tu_assert_clean(e->m);
}

/* One written page gives the VMA an anon_vma: every PTE is copied, the
 * zero-page ones too. */
static void test_vma_with_an_anon_page_copies_its_zero_page_ptes(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 16, RW, PRIV);
    tu_store_byte(e->t, a, 'w');
    assert_faults(e->t, a + PG, 15, 0, "111111111111111");
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 0, "0000000000000000"); /* host: 0 */
    assert_int_equal(tu_fault_cost(c, a + 5 * PG, 1), '1'); /* host: 1 */
    assert_int_equal(tu_fault_cost(e->t, a + 5 * PG, 1), '1'); /* host: 1 */
    assert_int_not_equal(frame_of(c, a + 5 * PG), frame_of(e->t, a + 5 * PG));
    assert_int_equal(tu_load_byte(c, a + 6 * PG), 0);
    tu_assert_clean(e->m);
}

static void test_untouched_private_memory_faults_in_the_child(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 4, RW, PRIV);
    vms_task *c = fork_ok(e, e->t);
    assert_false(mapped(c, a));
    assert_faults(c, a, 4, 1, "1111");
    assert_false(mapped(e->t, a));
    assert_faults(e->t, a, 4, 0, "1111");
    assert_int_equal(tu_load_byte(e->t, a), 0);
    tu_assert_clean(e->m);
}

/* ---- shared memory: one object, faulted in again by the child ---- */

static void test_shared_anon_child_read_faults_around(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 16, RW, SHARED);
    assert_faults(e->t, a, 16, 1, "1111111111111111");
    vms_task *c = fork_ok(e, e->t);
    assert_false(mapped(c, a));
    assert_faults(c, a, 16, 0, "1000000000000000"); /* host: 1 */
    /* shmem has no write-notify: what fault-around mapped is writable. */
    assert_faults(c, a, 16, 1, "0000000000000000"); /* host: 0 */
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(frame_of(c, a + i * PG), frame_of(e->t, a + i * PG));
    tu_assert_clean(e->m);
}

static void test_shared_anon_child_write_faults_every_page(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 16, RW, SHARED);
    assert_faults(e->t, a, 16, 1, "1111111111111111");
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 1, "1111111111111111"); /* host: 16 */
    tu_assert_clean(e->m);
}

/* Pages the object does not hold yet are not mapped around a fault. */
static void test_shared_anon_child_read_of_holes_faults_every_page(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 16, RW, SHARED);
    tu_store_byte(e->t, a, '1');
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 0, "1111111111111111"); /* host: 16 */
    tu_assert_clean(e->m);
}

static void test_shared_anon_stores_are_seen_both_ways(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = map_at(e->t, 0, 2, RW, SHARED);
    tu_store_byte(e->t, a, 's');
    vms_task *c = fork_ok(e, e->t);
    tu_store_byte(c, a, 'c');
    assert_int_equal(tu_load_byte(e->t, a), 'c');
    tu_store_byte(e->t, a + PG, 'p');
    assert_int_equal(tu_load_byte(c, a + PG), 'p');
    tu_store_byte(e->t, a, 'q');
    assert_int_equal(tu_load_byte(c, a), 'q');
    tu_assert_clean(e->m);
}

/* ---- files ---- */

static void test_shared_file_child_read_faults_once_per_window(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 16);
    vms_addr a = map_fd_at(e->t, 0, 16, RW, MAP_SHARED, fd);
    assert_faults(e->t, a, 16, 0, "1000000000000000");
    vms_task *c = fork_ok(e, e->t);
    assert_false(mapped(c, a));
    assert_faults(c, a, 16, 0, "1000000000000000"); /* host: 1, no major fault */
    assert_int_equal(tu_majflt(c), 0);
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(tu_load_byte(c, a + i * PG), tu_pattern(i * PG));
    tu_assert_clean(e->m);
}

static void test_shared_file_untouched_by_parent_child_reads_four_windows(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 64);
    vms_addr a = map_fd_at(e->t, 0, 64, PROT_READ, MAP_SHARED, fd);
    vms_task *c = fork_ok(e, e->t);
    char want[65];
    for (int i = 0; i < 64; i++)
        want[i] = i % 16 ? '0' : '1';
    want[64] = '\0';
    assert_faults(c, a, 64, 0, want); /* host: 4 */
    tu_assert_clean(e->m);
}

/* Fault-around maps a file page read-only (write-notify): the child's first
 * store to each page faults, and the parent sees what it stored. */
static void test_shared_file_child_store_is_write_notify_and_seen(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 16);
    vms_addr a = map_fd_at(e->t, 0, 16, RW, MAP_SHARED, fd);
    assert_faults(e->t, a, 16, 0, "1000000000000000");
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 0, "1000000000000000");
    assert_faults(c, a + 3 * PG, 2, 1, "11"); /* host: 1 and 1 */
    assert_int_equal(tu_load_byte(e->t, a + 3 * PG), 'w');
    assert_int_equal(frame_of(c, a + 3 * PG), frame_of(e->t, a + 3 * PG));
    tu_assert_clean(e->m);
}

/* The parent's private copy of a file page is anonymous memory: the child
 * inherits it (not the file's bytes), and every mapped PTE with it. */
static void test_private_file_child_sees_the_parents_copy(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 16);
    vms_addr a = map_fd_at(e->t, 0, 16, RW, MAP_PRIVATE, fd);
    assert_int_equal(tu_fault_cost(e->t, a + PG, 0), '1'); /* maps the window */
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1');       /* the private copy */
    uint64_t pf = frame_of(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 16, 0, "0000000000000000"); /* host: 0 */
    assert_int_equal(tu_load_byte(c, a), 'w');
    assert_int_equal(tu_load_byte(c, a + PG), tu_pattern(PG));
    assert_int_equal(tu_fault_cost(c, a + PG, 1), '1'); /* host: 1, copy of the file page */
    assert_int_equal(tu_fault_cost(c, a, 1), '1');      /* host: 1, copy of the parent's */
    assert_int_not_equal(frame_of(c, a), pf);
    vms_exit(c);
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(e->t, a, 1), '1'); /* host: 1, same frame */
    assert_int_equal(frame_of(e->t, a), pf);
    /* The file itself never changed. */
    vms_addr buf = map_at(e->t, 1, 1, RW, PRIV);
    assert_int_equal(vms_pread(e->t, fd, buf, 2, 0), 2);
    assert_int_equal(tu_load_byte(e->t, buf), tu_pattern(0));
    assert_int_equal(tu_load_byte(e->t, buf + 1), tu_pattern(1));
    tu_assert_clean(e->m);
}

static void test_private_file_without_copies_is_not_copied(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 16);
    vms_addr a = map_fd_at(e->t, 0, 16, RW, MAP_PRIVATE, fd);
    assert_faults(e->t, a, 16, 0, "1000000000000000");
    vms_task *c = fork_ok(e, e->t);
    assert_false(mapped(c, a));
    assert_faults(c, a, 16, 0, "1000000000000000"); /* host: 1 */
    tu_assert_clean(e->m);
}

/* Truncation removes the pages past the new end from every process that
 * maps the file, private copies included: both then get SIGBUS there. */
static void test_truncate_after_fork_reaches_the_childs_copies(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 2);
    vms_addr a = map_fd_at(e->t, 0, 2, RW, MAP_PRIVATE, fd);
    tu_store_byte(e->t, a + PG, 'x');
    (void)tu_load_byte(e->t, a);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_ftruncate(e->t, fd, (int64_t)PG), 0);
    tu_assert_clean(e->m);
    uint8_t v;
    assert_int_equal(vms_load(c, a + PG, &v, 1), SIGBUS); /* host: SIGBUS, BUS_ADRERR */
    tu_assert_fault(c, SIGBUS, BUS_ADRERR, a + PG);
    assert_int_equal(vms_load(e->t, a + PG, &v, 1), SIGBUS);
    tu_assert_fault(e->t, SIGBUS, BUS_ADRERR, a + PG);
    assert_int_equal(tu_load_byte(c, a), tu_pattern(0));
    tu_assert_clean(e->m);
}

/* ---- fork of a fork ---- */

static void test_grandchild_shares_with_both_generations(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 8, 'a');
    vms_task *c = fork_ok(e, e->t);
    tu_store_byte(c, a + PG, 'c');
    vms_task *g = fork_ok(e, c);
    assert_faults(g, a, 8, 0, "00000000"); /* host: 0 */
    assert_int_equal(frame_of(g, a), frame_of(e->t, a));
    assert_int_equal(frame_of(g, a + PG), frame_of(c, a + PG));
    assert_int_equal(tu_load_byte(g, a + PG), 'c');
    assert_int_equal(tu_load_byte(g, a + 2 * PG), 'c'); /* 'a' + 2 */
    assert_faults(g, a, 2, 1, "11"); /* host: 1 and 1 */
    tu_assert_clean(e->m);
    vms_exit(g);
    tu_assert_clean(e->m);
    uint64_t cf = frame_of(c, a + PG);
    assert_faults(c, a + PG, 2, 1, "11"); /* host: 1 (reuse) and 1 (copy) */
    assert_int_equal(frame_of(c, a + PG), cf);
    assert_int_not_equal(frame_of(c, a + 2 * PG), frame_of(e->t, a + 2 * PG));
    assert_page_bytes(e->t, a, 8, 'a');
    tu_assert_clean(e->m);
}

/* The oldest generation leaves first: its pages, still mapped by the younger
 * ones, stay reachable through their anon_vma chains. */
static void test_parent_exits_first_under_two_generations(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 4, 'a');
    vms_task *c = fork_ok(e, e->t);
    vms_task *g = fork_ok(e, c);
    uint64_t f0 = frame_of(e->t, a);
    vms_exit(e->t);
    e->t = NULL;
    tu_assert_clean(e->m);
    assert_int_equal(tu_fault_cost(c, a, 1), '1'); /* still shared with g: a copy */
    assert_int_not_equal(frame_of(c, a), f0);
    assert_int_equal(tu_fault_cost(g, a, 1), '1'); /* g is the last user: reuse */
    assert_int_equal(frame_of(g, a), f0);
    tu_assert_clean(e->m);
    vms_exit(c);
    tu_assert_clean(e->m);
    assert_page_bytes(g, a + PG, 3, 'b');
    assert_faults(g, a + PG, 3, 1, "111");
    tu_assert_clean(e->m);
}

/* ---- threads and TLBs ---- */

/* Another thread of the parent, on another CPU, held a writable translation:
 * fork's flush reaches that CPU, so the thread's next store faults. */
static void test_fork_flushes_the_writable_entries_of_other_threads(void **state)
{
    struct tu_env *e = *state;
    vms_task *th = vms_clone_thread(e->t);
    assert_non_null(th);
    assert_int_equal(vms_schedule(th, 1), 0);
    vms_addr a = written_at(e->t, 0, 1, 'a');
    tu_store_byte(th, a, 'b'); /* a writable DTLB entry on CPU 1 */
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_fault_cost(th, a, 1), '1');
    tu_assert_clean(e->m);
    assert_int_equal(tu_load_byte(c, a), 'b');
    assert_int_equal(tu_load_byte(e->t, a), 'w');
}

/* The child is one task; the parent's other thread leaving changes nothing. */
static void test_fork_of_a_threaded_process_gives_one_task(void **state)
{
    struct tu_env *e = *state;
    vms_task *th = vms_clone_thread(e->t);
    assert_non_null(th);
    vms_addr a = written_at(th, 0, 2, 'a');
    vms_task *c = fork_ok(e, th);
    vms_exit(th);
    vms_exit(e->t);
    e->t = NULL;
    tu_assert_clean(e->m);
    assert_page_bytes(c, a, 2, 'a');
    assert_faults(c, a, 2, 1, "11"); /* reuse: the parent's mm is gone */
    tu_assert_clean(e->m);
}

/* ---- what the child does not inherit ---- */

/* mlock is not inherited: the child's locked total starts at zero, and its
 * copy of the locked VMA accepts MADV_DONTNEED, which the parent's refuses. */
static void test_mlock_is_not_inherited(void **state)
{
    struct tu_env *e = *state;
    int64_t r = vms_mmap(e->t, slot(0), 8 * MIB, RW, PRIV | MAP_LOCKED | MAP_FIXED_NOREPLACE,
                         -1, 0);
    assert_int_equal(r, slot(0));
    vms_addr a = slot(0);
    tu_store_byte(e->t, a + PG, 5);
    assert_int_equal(vms_mmap(e->t, slot(1), PG, RW, PRIV | MAP_LOCKED, -1, 0), -EAGAIN);
    assert_int_equal(vms_madvise(e->t, a, PG, MADV_DONTNEED), -EINVAL);
    vms_task *c = fork_ok(e, e->t);
    /* The same maps line on both sides: mlock does not show in maps. */
    char *pm = tu_maps(e->t), *cm = tu_maps(c);
    assert_string_equal(cm, "100000000-100800000 rw-p 00000000 00:00 0 \n");
    assert_string_equal(pm, cm);
    free(pm);
    free(cm);
    assert_true(vms_mmap(c, slot(1), PG, RW, PRIV | MAP_LOCKED, -1, 0) >= 0);
    assert_true(vms_mmap(c, slot(2), 8 * MIB - PG, RW, PRIV | MAP_LOCKED, -1, 0) >= 0);
    assert_int_equal(vms_madvise(c, a, PG, MADV_DONTNEED), 0);
    assert_int_equal(tu_load_byte(c, a + PG), 5);
    assert_int_equal(tu_fault_cost(c, a + 2 * PG, 0), '0'); /* host: 0, copied */
    assert_int_equal(tu_fault_cost(c, a + 3 * PG, 1), '1'); /* host: 1 */
    tu_assert_clean(e->m);
}

static void test_dontfork_memory_is_missing_in_the_child(void **state)
{
    struct tu_env *e = *state;
    vms_addr d = written_at(e->t, 0, 4, 'd');
    vms_addr k = written_at(e->t, 1, 1, 'k');
    assert_int_equal(vms_madvise(e->t, d, 4 * PG, MADV_DONTFORK), 0);
    vms_task *c = fork_ok(e, e->t);
    tu_assert_maps(c, "110000000-110001000 rw-p 00000000 00:00 0 \n");
    uint8_t v;
    assert_int_equal(vms_load(c, d, &v, 1), SIGSEGV);
    tu_assert_fault(c, SIGSEGV, SEGV_MAPERR, d);
    assert_int_equal(tu_load_byte(c, k), 'k');
    assert_page_bytes(e->t, d, 4, 'd');
    tu_assert_clean(e->m);
}

static void test_wipeonfork_memory_starts_empty_in_the_child(void **state)
{
    struct tu_env *e = *state;
    vms_addr w = written_at(e->t, 0, 4, 'w');
    assert_int_equal(vms_madvise(e->t, w, 4 * PG, MADV_WIPEONFORK), 0);
    vms_task *c = fork_ok(e, e->t);
    tu_assert_maps(c, "100000000-100004000 rw-p 00000000 00:00 0 \n");
    assert_false(mapped(c, w));
    assert_faults(c, w, 4, 0, "1111"); /* host: 4, zero-filled */
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(tu_load_byte(c, w + i * PG), 0);
    assert_page_bytes(e->t, w, 4, 'w');
    assert_faults(e->t, w, 4, 1, "0000"); /* nothing was shared */
    tu_assert_clean(e->m);
}

/* ---- the child's address space as a whole ---- */

static void test_child_maps_text_is_the_parents(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 16);
    written_at(e->t, 0, 4, 'a');
    map_at(e->t, 1, 4, RW, PRIV);
    map_at(e->t, 2, 2, PROT_NONE, PRIV);
    vms_addr s = map_at(e->t, 3, 4, RW, SHARED);
    tu_store_byte(e->t, s, 's');
    map_fd_at(e->t, 4, 16, PROT_READ, MAP_SHARED, fd);
    vms_addr p = map_fd_at(e->t, 5, 16, RW, MAP_PRIVATE, fd);
    tu_store_byte(e->t, p + 2 * PG, 'p');
    vms_addr x = written_at(e->t, 6, 8, 'x');
    assert_int_equal(vms_mprotect(e->t, x + 2 * PG, 2 * PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(e->t), 9);
    vms_task *c = fork_ok(e, e->t);
    char *pm = tu_maps(e->t), *cm = tu_maps(c);
    assert_string_equal(cm, pm);
    free(pm);
    free(cm);
}

/* A new mapping next to a VMA that shares its pages with a parent does not
 * merge with it (its anon_vma is not its own alone); in the parent it does. */
static void test_new_mapping_does_not_merge_with_a_forked_vma(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 4, 'a');
    vms_addr b = map_at(e->t, 1, 4, RW, PRIV);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_mmap(c, a + 4 * PG, 4 * PG, RW, PRIV | MAP_FIXED_NOREPLACE, -1, 0),
                     a + 4 * PG);
    assert_int_equal(vms_mmap(c, b + 4 * PG, 4 * PG, RW, PRIV | MAP_FIXED_NOREPLACE, -1, 0),
                     b + 4 * PG);
    tu_assert_maps(c, "100000000-100004000 rw-p 00000000 00:00 0 \n"
                      "100004000-100008000 rw-p 00000000 00:00 0 \n"
                      "110000000-110008000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(vms_mmap(e->t, a + 4 * PG, 4 * PG, RW, PRIV | MAP_FIXED_NOREPLACE, -1, 0),
                     a + 4 * PG);
    tu_assert_maps(e->t, "100000000-100008000 rw-p 00000000 00:00 0 \n"
                         "110000000-110004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* A private write fault past the end of a file raises SIGBUS, but Linux
 * gives the VMA its anon_vma before it looks for the page: so the child's
 * copy of that VMA shares its parent's anon_vma and will not merge with a
 * new neighbour. Without the failed write, it would. */
static void check_remap_first_page_in_child(struct tu_env *e, int write_past_eof, const char *expected)
{
    int fd = vms_open(e->t, "empty", O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 3);
    vms_addr a = map_fd_at(e->t, 0, 4, RW, MAP_PRIVATE, fd);
    if (write_past_eof) {
        uint8_t v = 1;
        assert_int_equal(vms_store(e->t, a + 2 * PG, &v, 1), SIGBUS);
    }
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_mmap(c, a, PG, RW, MAP_PRIVATE | MAP_FIXED, fd, 0), a);
    tu_assert_maps(c, expected);
    tu_assert_clean(e->m);
}

static void test_failed_cow_fault_past_eof_still_prepares_the_anon_vma(void **state)
{
    check_remap_first_page_in_child(*state, 1,
                                    "100000000-100001000 rw-p 00000000 08:01 1001                             /empty\n"
                                    "100001000-100004000 rw-p 00001000 08:01 1001                             /empty\n");
}

static void test_without_the_failed_write_the_child_merges(void **state)
{
    check_remap_first_page_in_child(*state, 0,
                                    "100000000-100004000 rw-p 00000000 08:01 1001                             /empty\n");
}

/* A split of a forked VMA merges back: both halves keep one anon_vma. */
static void test_mprotect_split_of_a_forked_vma_merges_back(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 4, 'a');
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_mprotect(c, a + PG, PG, PROT_READ), 0);
    assert_int_equal(tu_vma_count(c), 3);
    assert_int_equal(vms_mprotect(c, a + PG, PG, RW), 0);
    tu_assert_maps(c, "100000000-100004000 rw-p 00000000 00:00 0 \n");
    tu_assert_clean(e->m);
}

/* The child moves its copy: the pages stay shared with the parent, found by
 * reverse mapping at their new address. */
static void test_mremap_in_the_child_keeps_sharing(void **state)
{
    struct tu_env *e = *state;
    vms_addr s = written_at(e->t, 0, 4, 'a');
    vms_task *c = fork_ok(e, e->t);
    vms_addr n = slot(8);
    assert_int_equal(vms_mremap(c, s, 4 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, n), n);
    tu_assert_clean(e->m);
    assert_faults(c, n, 4, 0, "0000"); /* host: 0 */
    assert_int_equal(frame_of(c, n + 3 * PG), frame_of(e->t, s + 3 * PG));
    assert_page_bytes(c, n, 4, 'a');
    assert_int_equal(tu_fault_cost(c, n + PG, 1), '1');     /* host: 1 */
    assert_int_equal(tu_fault_cost(c, n + 5 * PG, 0), '1'); /* host: 1 */
    assert_int_equal(tu_load_byte(e->t, s + PG), 'b');
    tu_assert_clean(e->m);
}

static void test_fork_of_many_vmas(void **state)
{
    struct tu_env *e = *state;
    enum { N = 1000 };
    vms_addr base = slot(0);
    for (int i = 0; i < N; i++) {
        int prot = i % 2 ? PROT_READ : RW; /* neighbours never merge */
        vms_addr a = base + (vms_addr)i * PG;
        assert_int_equal(vms_mmap(e->t, a, PG, prot, PRIV | MAP_FIXED_NOREPLACE, -1, 0), a);
        if (prot == RW)
            tu_store_byte(e->t, a, (uint8_t)i);
        else
            (void)tu_load_byte(e->t, a);
    }
    assert_int_equal(tu_vma_count(e->t), N);
    vms_task *c = fork_ok(e, e->t);
    char *pm = tu_maps(e->t), *cm = tu_maps(c);
    assert_string_equal(cm, pm);
    free(pm);
    free(cm);
    for (int i = 0; i < N; i++) {
        vms_addr a = base + (vms_addr)i * PG;
        /* written ones: copied, then COW; read-only ones: zero page faulted again */
        assert_int_equal(tu_fault_cost(c, a, 0), i % 2 ? '1' : '0');
        if (i % 2 == 0)
            assert_int_equal(tu_fault_cost(c, a, 1), '1');
    }
    assert_int_equal(tu_minflt(c), N);
    tu_assert_clean(e->m);
}

/* mincore in the child shows what fork copied: nothing of a zero-page-only
 * VMA, the copied PTEs of one with anonymous pages, and what the shared
 * objects hold. */
static void test_mincore_in_the_child_shows_what_was_copied(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 4);
    vms_addr z = map_at(e->t, 0, 4, RW, PRIV);
    assert_faults(e->t, z, 4, 0, "1111");
    vms_addr w = map_at(e->t, 1, 4, RW, PRIV);
    tu_store_byte(e->t, w, 1);
    (void)tu_load_byte(e->t, w + PG);
    vms_addr s = map_at(e->t, 2, 4, RW, SHARED);
    tu_store_byte(e->t, s, 1);
    tu_store_byte(e->t, s + 2 * PG, 1);
    vms_addr f = map_fd_at(e->t, 3, 4, PROT_READ, MAP_SHARED, fd);
    (void)tu_load_byte(e->t, f);
    vms_task *c = fork_ok(e, e->t);
    char got[5];
    tu_residency(c, z, 4, got);
    assert_string_equal(got, "0000"); /* host: 0000 (parent: 1111) */
    tu_residency(c, w, 4, got);
    assert_string_equal(got, "1100"); /* host: 1100 */
    tu_residency(c, s, 4, got);
    assert_string_equal(got, "1010"); /* host: 1010 */
    tu_residency(c, f, 4, got);
    assert_string_equal(got, "1111"); /* host: 1111 */
    tu_residency(e->t, z, 4, got);
    assert_string_equal(got, "1111");
}

/* Execute-only memory keeps its protection key in the child. */
static void test_child_keeps_the_protection_key_of_execute_only_memory(void **state)
{
    struct tu_env *e = *state;
    vms_addr x = map_at(e->t, 0, 1, PROT_EXEC, PRIV);
    vms_task *c = fork_ok(e, e->t);
    uint8_t v;
    assert_int_equal(vms_load(c, x, &v, 1), SIGSEGV); /* host: SIGSEGV, SEGV_PKUERR */
    tu_assert_fault(c, SIGSEGV, SEGV_PKUERR, x);
    assert_int_equal(vms_last_fault(c)->pkey, 1);
    assert_int_equal(vms_fetch(c, x, 1), 0);
    tu_assert_clean(e->m);
}

/* With 5-level tables the copy walks one more level. */
static void test_fork_with_five_level_tables(void **state)
{
    struct tu_env *e = *state;
    vms_machine_destroy(e->m);
    struct vms_config cfg = tu_config(64 * MIB);
    cfg.root = e->root;
    cfg.pgtable_levels = 5;
    e->m = tu_machine_with(&cfg);
    e->t = tu_spawn(e->m);
    vms_addr a = written_at(e->t, 0, 4, 'a');
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 4, 0, "0000");
    assert_page_bytes(c, a, 4, 'a');
    assert_faults(c, a, 4, 1, "1111");
    assert_page_bytes(e->t, a, 4, 'a');
    tu_assert_clean(e->m);
}

/* ---- descriptors ---- */

/* The child's descriptors are the same open files: one offset between them. */
static void test_child_shares_file_offsets_with_the_parent(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 4);
    vms_addr buf = map_at(e->t, 0, 1, RW, PRIV);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_read(c, fd, buf, 100), 100);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 100);
    assert_int_equal(vms_lseek(e->t, fd, 5000, SEEK_SET), 5000);
    assert_int_equal(vms_read(c, fd, buf, 1), 1);
    assert_int_equal(tu_load_byte(c, buf), tu_pattern(5000));
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 5001);
    assert_false(mapped(e->t, buf)); /* the read landed in the child's memory */
    tu_assert_clean(e->m);
}

static void test_child_close_leaves_the_parents_descriptor(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 4);
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), e->root, "g"), PG);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(vms_close(c, fd), 0);
    assert_int_equal(vms_lseek(c, fd, 0, SEEK_CUR), -EBADF);
    assert_int_equal(vms_lseek(e->t, fd, 0, SEEK_CUR), 0);
    assert_int_equal(vms_open(c, "g", O_RDONLY, 0), fd); /* the lowest free number */
    assert_int_equal(vms_open(e->t, "g", O_RDONLY, 0), fd + 1);
    tu_assert_clean(e->m);
}

/* ---- exit ---- */

static void test_exit_of_every_generation_returns_every_frame(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = written_at(e->t, 0, 16, 'a');
    vms_addr s = map_at(e->t, 1, 4, RW, SHARED);
    assert_faults(e->t, s, 4, 1, "1111");
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, a, 8, 1, "11111111");
    vms_task *g = fork_ok(e, c);
    assert_faults(g, a + 4 * PG, 8, 1, "11111111");
    assert_faults(g, s, 4, 0, "1000");
    vms_exit(c);
    tu_assert_clean(e->m);
    vms_exit(e->t);
    e->t = NULL;
    tu_assert_clean(e->m);
    vms_exit(g);
    tu_assert_clean(e->m);
    assert_int_equal(tu_frames_used(e->m), MACHINE_FRAMES);
}

/* Only the page cache outlives the processes (the inode lives on). */
static void test_exit_keeps_only_the_page_cache(void **state)
{
    struct tu_env *e = *state;
    int fd = cached_file(e, "f", 16);
    vms_addr p = map_fd_at(e->t, 0, 16, RW, MAP_PRIVATE, fd);
    assert_faults(e->t, p, 4, 1, "1111");
    vms_addr q = map_fd_at(e->t, 1, 16, RW, MAP_SHARED, fd);
    assert_faults(e->t, q, 16, 0, "1000000000000000");
    vms_task *c = fork_ok(e, e->t);
    assert_faults(c, p, 8, 1, "11111111");
    assert_faults(c, q, 16, 0, "1000000000000000");
    vms_exit(e->t);
    e->t = NULL;
    vms_exit(c);
    tu_assert_clean(e->m);
    struct vms_stats *st = tu_stats(e->m);
    assert_int_equal(st->cache_frames, 16);
    assert_int_equal(st->frames_used, MACHINE_FRAMES + 16);
    free(st);
}

/* ---- out of memory ---- */

/* Not enough frames for the child's page tables: the OOM killer kills the
 * only process there is, the parent (the child is not one yet, as in
 * Linux's copy_process); fork fails with ENOMEM and the parent's memory is
 * freed. */
static void test_fork_without_frames_for_tables_kills_the_parent(void **state)
{
    struct tu_env *e = *state;
    vms_machine_destroy(e->m);
    struct vms_config cfg = tu_config(4 * MIB);
    cfg.root = e->root;
    cfg.min_free_kbytes = 0; /* every frame counts */
    e->m = tu_machine_with(&cfg);
    e->t = tu_spawn(e->m);
    vms_addr a = map_at(e->t, 0, 1024, RW, PRIV);
    struct vms_stats *st = tu_stats(e->m);
    uint64_t total = st->frames_total;
    free(st);
    uint64_t pages = 0;
    for (; tu_frames_used(e->m) + 3 < total; pages++) /* at most 3 frames left */
        tu_store_byte(e->t, a + PG * pages, (uint8_t)pages);
    errno = 0;
    assert_null(vms_fork(e->t));
    assert_int_equal(errno, ENOMEM);
    assert_true(vms_task_killed(e->t));
    tu_assert_clean(e->m);
    assert_int_equal(tu_frames_used(e->m), MACHINE_FRAMES);
    uint8_t v;
    assert_int_equal(vms_load(e->t, a, &v, 1), SIGKILL);
    /* A new process has the whole RAM. */
    vms_exit(e->t);
    e->t = tu_spawn(e->m);
    a = map_at(e->t, 0, 1024, RW, PRIV);
    for (uint64_t i = 0; i < pages; i++)
        tu_store_byte(e->t, a + PG * i, (uint8_t)~i);
    assert_int_equal(vms_munmap(e->t, a + 512 * PG, 512 * PG), 0);
    vms_task *c = fork_ok(e, e->t);
    assert_int_equal(tu_load_byte(c, a + 7 * PG), (uint8_t)~7u);
}

/* The child gets a page table wherever the parent has one in memory it
 * copies, even an empty one. Host (VmPTE): 4 MiB of anonymous memory with
 * page 0 written and then dropped by MADV_DONTNEED: the child's page
 * tables take as much as the parent's (56 kB both). */
static void test_child_gets_the_parents_empty_page_tables(void **state)
{
    struct tu_env *e = *state;
    vms_addr a = tu_mmap(e->t, 1ULL << 34, 4ULL << 20, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    tu_store_byte(e->t, a, 1);
    assert_int_equal(vms_madvise(e->t, a, 4096, MADV_DONTNEED), 0);
    uint64_t parent = tu_pgtable_frames(e->m);
    vms_task *child = vms_fork(e->t);
    assert_non_null(child);
    assert_int_equal(tu_pgtable_frames(e->m), 2 * parent);
    vms_exit(child);
    tu_assert_clean(e->m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_env_setup, tu_env_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fork_of_null_is_einval),
        T(test_child_gets_the_parents_empty_page_tables),
        T(test_child_gets_the_next_pid_and_the_parents_cpu),
        T(test_fork_is_traced_with_both_pids),
        T(test_child_fault_counts_start_at_zero),
        T(test_child_reads_parents_private_pages_without_faults),
        T(test_child_first_write_copies_the_page),
        T(test_child_writes_do_not_reach_the_parent),
        T(test_parent_store_after_fork_faults_and_misses_the_child),
        T(test_parent_store_after_fork_faults_with_pcid),
        T(test_parent_write_after_child_exit_reuses_its_frame),
        T(test_parent_write_while_child_lives_copies),
        T(test_child_write_after_parent_copied_reuses_its_frame),
        T(test_parent_write_after_child_copied_reuses_its_frame),
        T(test_child_write_after_parent_exit_reuses_its_frame),
        T(test_parent_write_after_child_unmapped_reuses_its_frame),
        T(test_mprotect_round_trip_after_fork_keeps_copy_on_write),
        T(test_mprotect_round_trip_after_child_exit_faults_once_and_reuses),
        T(test_prot_none_pages_are_shared_copy_on_write),
        T(test_dontneed_in_the_child_leaves_the_parent_its_pages),
        T(test_parent_reuses_after_two_children_copied_in_turn),
        T(test_parent_copies_while_one_of_two_children_shares),
        T(test_zero_page_only_vma_is_not_copied),
        T(test_vma_with_an_anon_page_copies_its_zero_page_ptes),
        T(test_untouched_private_memory_faults_in_the_child),
        T(test_shared_anon_child_read_faults_around),
        T(test_shared_anon_child_write_faults_every_page),
        T(test_shared_anon_child_read_of_holes_faults_every_page),
        T(test_shared_anon_stores_are_seen_both_ways),
        T(test_shared_file_child_read_faults_once_per_window),
        T(test_shared_file_untouched_by_parent_child_reads_four_windows),
        T(test_shared_file_child_store_is_write_notify_and_seen),
        T(test_private_file_child_sees_the_parents_copy),
        T(test_private_file_without_copies_is_not_copied),
        T(test_truncate_after_fork_reaches_the_childs_copies),
        T(test_grandchild_shares_with_both_generations),
        T(test_parent_exits_first_under_two_generations),
        T(test_fork_flushes_the_writable_entries_of_other_threads),
        T(test_fork_of_a_threaded_process_gives_one_task),
        T(test_mlock_is_not_inherited),
        T(test_dontfork_memory_is_missing_in_the_child),
        T(test_wipeonfork_memory_starts_empty_in_the_child),
        T(test_child_maps_text_is_the_parents),
        T(test_new_mapping_does_not_merge_with_a_forked_vma),
        T(test_mprotect_split_of_a_forked_vma_merges_back),
        T(test_failed_cow_fault_past_eof_still_prepares_the_anon_vma),
        T(test_without_the_failed_write_the_child_merges),
        T(test_mremap_in_the_child_keeps_sharing),
        T(test_fork_of_many_vmas),
        T(test_mincore_in_the_child_shows_what_was_copied),
        T(test_child_keeps_the_protection_key_of_execute_only_memory),
        T(test_fork_with_five_level_tables),
        T(test_child_shares_file_offsets_with_the_parent),
        T(test_child_close_leaves_the_parents_descriptor),
        T(test_exit_of_every_generation_returns_every_frame),
        T(test_exit_keeps_only_the_page_cache),
        T(test_fork_without_frames_for_tables_kills_the_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
