/*
 * test_oom.c - the OOM killer: the victim is the process of highest
 * badness (resident pages + page-table pages below the pgd + oom_score_adj
 * thousandths of RAM + swap), which may be another process than the one
 * that ran out; every thread of it dies, its memory is freed at once, its
 * handles refuse every call until released; the kill is reported as the
 * kernel logs it. oom_score and oom_score_adj as /proc shows them.
 *
 * A 1 MiB machine has 256 frames: 2 are the machine's (frame 0, the zero
 * page), a process with one mapping under 2 MiB holds 4 tables (pgd, PUD,
 * PMD, PTE), 3 of which count in its badness (Linux counts no pgd).
 */
#include "testutil.h"

#include <errno.h>

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define MACHINE_FRAMES 2
#define SMALL_RAM (1ULL << 20) /* 256 frames */
#define RAM_4M (4ULL << 20)    /* 1024 frames: oom_score_adj counts 1 page a unit */

struct oom_log {
    int kills;
    uint64_t pid, points;
    int adj;
    char line[256];
};

static void record_oom(void *arg, const struct vms_event *ev)
{
    struct oom_log *log = arg;
    if (ev->kind != VMS_EV_OOM_KILL)
        return;
    log->kills++;
    log->pid = ev->a;
    log->points = ev->b;
    log->adj = ev->level;
    snprintf(log->line, sizeof(log->line), "%s", ev->detail);
}

static vms_machine *machine(uint64_t ram, struct oom_log *log, int privileged)
{
    struct vms_config c = tu_config(ram);
    c.swap_bytes = 0;
    c.min_free_kbytes = 0; /* no reserve: the frames count exactly (test_vmscan has the rule) */
    c.privileged = privileged;
    c.trace = record_oom;
    c.trace_arg = log;
    return tu_machine_with(&c);
}

/* Stores one byte in each of pages pages from a; the pages stored before
 * the first refusal. */
static unsigned store_pages(vms_task *t, vms_addr a, unsigned pages)
{
    for (unsigned i = 0; i < pages; i++) {
        uint8_t v = (uint8_t)(i + 1);
        if (vms_store(t, a + i * TU_PAGE, &v, 1))
            return i;
    }
    return pages;
}

/* A process holding pages written pages of anonymous memory. */
static vms_task *process_with(vms_machine *m, unsigned pages, vms_addr *at)
{
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 256 * TU_PAGE, RW);
    assert_int_equal(store_pages(t, a, pages), pages);
    if (at)
        *at = a;
    return t;
}

static void test_the_bigger_process_dies_for_the_faulting_one(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(SMALL_RAM, &log, 0);
    vms_task *big = process_with(m, 200, NULL);
    vms_task *big_thread = vms_clone_thread(big);
    assert_non_null(big_thread);
    vms_task *small = tu_spawn(m);
    vms_addr a = tu_anon(small, 100 * TU_PAGE, RW);
    /* 256 - 2 - (4 + 200) - 4 = 46 frames, then the killer frees the big
     * one's 204 and the small one goes on. */
    assert_int_equal(store_pages(small, a, 100), 100);
    assert_int_equal(log.kills, 1);
    assert_int_equal(log.pid, (uint64_t)vms_task_pid(big));
    assert_int_equal(log.points, 200 + 3);
    assert_int_equal(log.adj, 0);
    assert_string_equal(log.line, "Out of memory: Killed process 1000 (test) total-vm:1024kB, "
                                  "anon-rss:800kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
                                  "pgtables:12kB oom_score_adj:0");
    assert_true(vms_task_killed(big));
    assert_true(vms_task_killed(big_thread));
    assert_false(vms_task_killed(small));
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES + 4 + 100);
    assert_int_equal(tu_minflt(small), 100);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(tu_load_byte(small, a + i * TU_PAGE), (uint8_t)(i + 1));
    uint8_t v;
    assert_int_equal(vms_load(big_thread, a, &v, 1), SIGKILL);
    tu_assert_fault(big_thread, SIGKILL, SI_KERNEL, 0);
    tu_assert_clean(m);
    vms_exit(big_thread);
    vms_exit(big);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_equal_badness_kills_the_youngest(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(SMALL_RAM, &log, 0);
    vms_task *older = process_with(m, 100, NULL);
    vms_task *younger = process_with(m, 100, NULL);
    vms_task *third = tu_spawn(m);
    vms_addr a = tu_anon(third, 100 * TU_PAGE, RW);
    assert_int_equal(store_pages(third, a, 100), 100);
    assert_int_equal(log.kills, 1);
    assert_int_equal(log.pid, (uint64_t)vms_task_pid(younger));
    assert_false(vms_task_killed(older));
    assert_true(vms_task_killed(younger));
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_oom_score_adj_1000_makes_a_small_process_the_victim(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(RAM_4M, &log, 0);
    vms_task *big = tu_spawn(m);
    vms_addr b = tu_anon(big, 800 * TU_PAGE, RW);
    assert_int_equal(store_pages(big, b, 800), 800);
    vms_task *small = tu_spawn(m);
    assert_int_equal(vms_set_oom_score_adj(small, 1000), 0);
    vms_addr a = tu_anon(small, 400 * TU_PAGE, RW);
    /* 1024 - 2 - 805 (two PTE tables) - 4 = 213 pages, then it dies itself. */
    assert_int_equal(store_pages(small, a, 400), 213);
    tu_assert_fault(small, SIGKILL, 0, a + 213 * TU_PAGE);
    assert_int_equal(log.kills, 1);
    assert_int_equal(log.pid, (uint64_t)vms_task_pid(small));
    /* 213 pages + 3 tables + 1000 thousandths of 1024 pages, 1 page each. */
    assert_int_equal(log.points, 213 + 3 + 1000);
    assert_int_equal(log.adj, 1000);
    assert_true(vms_task_killed(small));
    assert_false(vms_task_killed(big));
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES + 805);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_oom_score_adj_minus_1000_is_never_killed(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(SMALL_RAM, &log, 1);
    vms_task *big = process_with(m, 200, NULL);
    assert_int_equal(vms_set_oom_score_adj(big, -1000), 0);
    assert_int_equal(vms_oom_score(big), 0);
    vms_task *small = tu_spawn(m);
    vms_addr a = tu_anon(small, 100 * TU_PAGE, RW);
    assert_int_equal(store_pages(small, a, 100), 46);
    assert_int_equal(log.kills, 1);
    assert_true(vms_task_killed(small));
    assert_false(vms_task_killed(big));
    /* With nobody left to kill, the allocation fails and the task lives. */
    vms_addr b = tu_anon(big, 100 * TU_PAGE, RW);
    unsigned more = store_pages(big, b, 100);
    assert_true(more < 100);
    tu_assert_fault(big, SIGKILL, 0, b + more * TU_PAGE);
    assert_int_equal(log.kills, 1);
    assert_false(vms_task_killed(big));
    assert_int_equal(tu_load_byte(big, b), 1);
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->oom_kill, 1);
    assert_int_equal(s->frames_used, s->frames_total);
    free(s);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* A system call that runs out for its own process (a populating mmap):
 * the process is killed, and its memory is gone once the call returns. */
static void test_a_populating_mmap_kills_its_own_process(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(SMALL_RAM, &log, 0);
    vms_task *t = tu_spawn(m);
    vms_task *other = tu_spawn(m);
    (void)vms_mmap(t, 0, 250 * TU_PAGE, RW, PRIV | MAP_POPULATE, -1, 0);
    assert_int_equal(log.kills, 1);
    assert_true(vms_task_killed(t));
    assert_int_equal(vms_mmap(t, 0, TU_PAGE, RW, PRIV, -1, 0), -ESRCH);
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES + 1);
    vms_addr a = tu_anon(other, 200 * TU_PAGE, RW);
    assert_int_equal(store_pages(other, a, 200), 200);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* MADV_POPULATE_WRITE that runs out: the same, from madvise's populate. */
static void test_populate_write_that_runs_out_kills(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(SMALL_RAM, &log, 0);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 252 * TU_PAGE, RW); /* no more than RAM: overcommit */
    (void)vms_madvise(t, a, 252 * TU_PAGE, MADV_POPULATE_WRITE);
    assert_int_equal(log.kills, 1);
    assert_true(vms_task_killed(t));
    assert_int_equal(vms_madvise(t, a, TU_PAGE, MADV_DONTNEED), -ESRCH);
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    tu_assert_clean(m);
    vms_exit(t);
    vms_machine_destroy(m);
}

static void test_set_oom_score_adj_checks_as_proc_does(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(RAM_4M, &log, 0);
    vms_task *t = process_with(m, 100, NULL);
    int adj = 7;
    assert_int_equal(vms_get_oom_score_adj(t, &adj), 0);
    assert_int_equal(adj, 0);
    assert_int_equal(vms_set_oom_score_adj(t, 1001), -EINVAL);
    assert_int_equal(vms_set_oom_score_adj(t, -1001), -EINVAL);
    /* Below the floor (0) only with CAP_SYS_RESOURCE. */
    assert_int_equal(vms_set_oom_score_adj(t, -1), -EACCES);
    assert_int_equal(vms_set_oom_score_adj(t, 500), 0);
    assert_int_equal(vms_set_oom_score_adj(t, 0), 0);
    assert_int_equal(vms_set_oom_score_adj(t, 300), 0);
    /* A thread shares it; fork copies it. */
    vms_task *th = vms_clone_thread(t);
    assert_non_null(th);
    assert_int_equal(vms_get_oom_score_adj(th, &adj), 0);
    assert_int_equal(adj, 300);
    vms_task *child = vms_fork(t);
    assert_non_null(child);
    assert_int_equal(vms_get_oom_score_adj(child, &adj), 0);
    assert_int_equal(adj, 300);
    vms_machine_destroy(m);
}

/* oom_score: (1000 + badness * 1000 / totalpages) * 2 / 3, the host's
 * formula (a small process reads 666; at oom_score_adj 1000, 1332). */
static void test_oom_score_follows_the_badness(void **state)
{
    (void)state;
    struct oom_log log = {0};
    vms_machine *m = machine(RAM_4M, &log, 0);
    vms_task *t = process_with(m, 100, NULL);
    int64_t total = 1024, badness = 100 + 3;
    assert_int_equal(vms_oom_score(t), (1000 + badness * 1000 / total) * 2 / 3);
    assert_int_equal(vms_set_oom_score_adj(t, 1000), 0);
    badness += 1000 * (total / 1000);
    assert_int_equal(vms_oom_score(t), (1000 + badness * 1000 / total) * 2 / 3);
    vms_task *empty = tu_spawn(m);
    assert_int_equal(vms_oom_score(empty), 666);
    vms_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_bigger_process_dies_for_the_faulting_one),
        cmocka_unit_test(test_equal_badness_kills_the_youngest),
        cmocka_unit_test(test_oom_score_adj_1000_makes_a_small_process_the_victim),
        cmocka_unit_test(test_oom_score_adj_minus_1000_is_never_killed),
        cmocka_unit_test(test_a_populating_mmap_kills_its_own_process),
        cmocka_unit_test(test_populate_write_that_runs_out_kills),
        cmocka_unit_test(test_set_oom_score_adj_checks_as_proc_does),
        cmocka_unit_test(test_oom_score_follows_the_badness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
