/*
 * test_task.c - processes and threads: pids, the CPU a task runs on, threads
 * sharing one mm, exit of a thread and of the last task (every frame comes
 * back), running out of simulated RAM (SIGKILL from the OOM killer, with the machine still
 * consistent), and two machines in one process that share nothing.
 *
 * A fresh machine uses two frames (the reserved frame 0 and the zero page);
 * a spawned process adds one, its pgd.
 */
#include "testutil.h"

#include <limits.h>

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)
#define MACHINE_FRAMES 2 /* frame 0 and the zero page */

static vms_task *thread_of(vms_task *t)
{
    vms_task *th = vms_clone_thread(t);
    assert_non_null(th);
    return th;
}

/* ---- pids and CPUs ---- */

static void test_pids_start_at_1000_and_count_up(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *a = tu_spawn(m), *b = tu_spawn(m);
    vms_task *th = thread_of(a);
    assert_int_equal(vms_task_pid(a), 1000);
    assert_int_equal(vms_task_pid(b), 1001);
    assert_int_equal(vms_task_pid(th), 1002);
    vms_machine_destroy(m);
}

static void test_pids_are_not_reused_after_exit(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    for (int i = 0; i < 3; i++) {
        vms_task *t = tu_spawn(m);
        assert_int_equal(vms_task_pid(t), 1000 + i);
        vms_exit(t);
    }
    vms_machine_destroy(m);
}

static void test_pids_are_the_same_on_every_machine(void **state)
{
    (void)state;
    vms_machine *m1 = tu_machine(), *m2 = tu_machine();
    vms_task *a1 = tu_spawn(m1), *b1 = tu_spawn(m1);
    vms_task *a2 = tu_spawn(m2), *b2 = tu_spawn(m2);
    assert_int_equal(vms_task_pid(a1), vms_task_pid(a2));
    assert_int_equal(vms_task_pid(b1), vms_task_pid(b2));
    assert_int_equal(vms_task_pid(b2), 1001);
    vms_machine_destroy(m1);
    vms_machine_destroy(m2);
}

static void test_spawned_task_runs_on_cpu_0_with_empty_mm(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = vms_spawn(m, NULL);
    assert_non_null(t);
    assert_int_equal(vms_task_cpu(t), 0);
    tu_assert_maps(t, "");
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->frames_used, MACHINE_FRAMES + 1);
    assert_int_equal(s->pgtable_frames, 1);
    assert_int_equal(s->context_switches, 0); /* nothing ran yet */
    free(s);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_schedule_moves_a_task_to_another_cpu(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    assert_int_equal(vms_schedule(t, 3), 0);
    assert_int_equal(vms_task_cpu(t), 3);
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->cpu[3].context_switches, 1);
    assert_int_equal(s->cpu[0].context_switches, 0);
    free(s);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_schedule_to_a_missing_cpu_is_einval(void **state)
{
    (void)state;
    vms_machine *m = tu_machine(); /* 4 CPUs */
    vms_task *t = tu_spawn(m);
    assert_int_equal(vms_schedule(t, 1), 0);
    assert_int_equal(vms_schedule(t, 4), -EINVAL);
    assert_int_equal(vms_schedule(t, VMS_MAX_CPUS), -EINVAL);
    assert_int_equal(vms_schedule(t, UINT_MAX), -EINVAL);
    assert_int_equal(vms_task_cpu(t), 1);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_single_cpu_machine_has_only_cpu_0(void **state)
{
    (void)state;
    struct vms_config c = tu_config(16ULL << 20);
    c.ncpus = 1;
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    assert_int_equal(vms_schedule(t, 0), 0);
    assert_int_equal(vms_schedule(t, 1), -EINVAL);
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->ncpus, 1);
    free(s);
    vms_machine_destroy(m);
}

static void test_thread_starts_on_its_parents_cpu(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    assert_int_equal(vms_schedule(t, 2), 0);
    vms_task *th = thread_of(t);
    assert_int_equal(vms_task_cpu(th), 2);
    vms_machine_destroy(m);
}

/* ---- threads share the mm ---- */

static void test_threads_see_each_others_stores(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    vms_task *th = thread_of(t);
    assert_int_equal(vms_schedule(th, 1), 0);
    vms_addr a = tu_anon(t, TU_PAGE, RW);
    tu_store_byte(t, a, 0x11);
    assert_int_equal(tu_load_byte(th, a), 0x11);
    tu_store_byte(th, a + 1, 0x22);
    assert_int_equal(tu_load_byte(t, a + 1), 0x22);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_threads_see_each_others_mappings(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    vms_task *th = thread_of(t);
    vms_addr a = tu_anon(th, 2 * TU_PAGE, RW);
    assert_int_equal(a, 0x7ffff7ffd000ULL);
    tu_assert_maps(t, "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    assert_int_equal(vms_munmap(t, a, 2 * TU_PAGE), 0);
    tu_assert_maps(th, "");
    vms_machine_destroy(m);
}

static void test_threads_share_one_set_of_page_tables(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    vms_task *th = thread_of(t);
    assert_int_equal(tu_pgtable_frames(m), 1); /* one pgd for both */
    vms_addr a = tu_anon(t, TU_PAGE, RW);
    tu_store_byte(th, a, 1);
    struct vms_walk w1, w2;
    assert_int_equal(vms_walk(t, a, &w1), 0);
    assert_int_equal(vms_walk(th, a, &w2), 0);
    assert_int_equal(w1.step[0].table_pa, w2.step[0].table_pa);
    assert_int_equal(w1.pa, w2.pa);
    assert_int_equal(tu_pgtable_frames(m), 4);
    vms_machine_destroy(m);
}

static void test_fault_counts_are_per_task(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    vms_task *th = thread_of(t);
    vms_addr a = tu_anon(t, 5 * TU_PAGE, RW);
    for (int i = 0; i < 2; i++)
        tu_store_byte(t, a + i * TU_PAGE, 1);
    for (int i = 2; i < 5; i++)
        tu_store_byte(th, a + i * TU_PAGE, 1);
    uint64_t minflt = 9, majflt = 9;
    vms_task_rusage(t, &minflt, &majflt);
    assert_int_equal(minflt, 2);
    assert_int_equal(majflt, 0);
    assert_int_equal(tu_minflt(th), 3);
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->minor_faults, 5);
    free(s);
    vms_machine_destroy(m);
}

/* ---- exit ---- */

static void test_exit_of_a_thread_leaves_the_mm_to_the_others(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    vms_task *th = thread_of(t);
    assert_int_equal(vms_schedule(th, 1), 0);
    vms_addr a = tu_anon(t, TU_PAGE, RW);
    tu_store_byte(th, a, 0x33);
    uint64_t used = tu_frames_used(m);
    vms_exit(th);
    assert_int_equal(tu_frames_used(m), used);
    assert_int_equal(tu_load_byte(t, a), 0x33);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_exit_of_the_first_task_leaves_its_thread_running(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, TU_PAGE, RW);
    tu_store_byte(t, a, 0x44);
    vms_task *th = thread_of(t);
    vms_exit(t);
    assert_int_equal(tu_load_byte(th, a), 0x44);
    tu_store_byte(th, a, 0x45);
    tu_assert_clean(m);
    vms_exit(th);
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    vms_machine_destroy(m);
}

/* Private written, private read (zero page), copied-on-write, shared,
 * PROT_NONE over a written page, and tables spread over two PUD entries. */
static void populate_everything(vms_task *t)
{
    vms_addr priv = tu_anon(t, 8 * TU_PAGE, RW);
    for (int i = 0; i < 8; i++)
        (void)tu_load_byte(t, priv + i * TU_PAGE);
    for (int i = 0; i < 4; i++)
        tu_store_byte(t, priv + i * TU_PAGE, 1);
    vms_addr shared = tu_mmap(t, 0, 4 * TU_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    for (int i = 0; i < 4; i++)
        tu_store_byte(t, shared + i * TU_PAGE, 2);
    vms_addr none = tu_anon(t, TU_PAGE, RW);
    tu_store_byte(t, none, 3);
    assert_int_equal(vms_mprotect(t, none, TU_PAGE, PROT_NONE), 0);
    tu_mmap(t, 0x10000000, TU_PAGE, RW, PRIV | MAP_FIXED | MAP_POPULATE);
    tu_mmap(t, 0x40000000, TU_PAGE, RW, PRIV | MAP_FIXED | MAP_POPULATE);
}

static void test_exit_of_last_task_frees_every_frame(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    uint64_t before = tu_frames_used(m);
    assert_int_equal(before, MACHINE_FRAMES);
    vms_task *t = tu_spawn(m);
    populate_everything(t);
    /* pgd; 3 + 3 + 2 tables; 4 written, 4 shared, 1 PROT_NONE, 2 populated pages */
    assert_int_equal(tu_frames_used(m), before + 20);
    assert_int_equal(tu_pgtable_frames(m), 9);
    tu_assert_clean(m);
    vms_exit(t);
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->frames_used, before);
    assert_int_equal(s->pgtable_frames, 0);
    free(s);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_exit_of_threads_on_four_cpus_frees_every_frame(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t[4];
    t[0] = tu_spawn(m);
    vms_addr a = tu_anon(t[0], 4 * TU_PAGE, RW);
    for (unsigned i = 1; i < 4; i++) {
        t[i] = thread_of(t[0]);
        assert_int_equal(vms_schedule(t[i], i), 0);
    }
    for (unsigned i = 0; i < 4; i++)
        tu_store_byte(t[i], a + i * TU_PAGE, (uint8_t)i);
    for (unsigned i = 0; i < 4; i++) /* every CPU caches every page */
        for (unsigned j = 0; j < 4; j++)
            assert_int_equal(tu_load_byte(t[i], a + j * TU_PAGE), j);
    vms_exit(t[2]);
    vms_exit(t[0]);
    vms_exit(t[3]);
    tu_assert_clean(m);
    vms_exit(t[1]);
    tu_assert_clean(m);
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    vms_machine_destroy(m);
}

static void test_spawn_and_exit_again_and_again_leaks_nothing(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    for (int round = 0; round < 10; round++) {
        vms_task *t = tu_spawn(m);
        populate_everything(t);
        vms_exit(t);
        assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    }
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_exit_of_null_does_nothing(void **state)
{
    (void)state;
    vms_exit(NULL);
}

static void test_destroying_a_machine_ends_its_live_tasks(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    populate_everything(t);
    vms_task *th = thread_of(t);
    assert_int_equal(vms_schedule(th, 3), 0);
    (void)tu_spawn(m);
    vms_machine_destroy(m); /* the sanitizer build would report any leak */
}

/* ---- out of memory ---- */

#define SMALL_RAM (1ULL << 20) /* 256 frames */

/* No free-memory reserve, so that every frame can be counted. */
static struct vms_config small_ram_config(void)
{
    struct vms_config c = tu_config(SMALL_RAM);
    c.min_free_kbytes = 0;
    return c;
}

/* Stores one byte per page from a upward; returns how many succeeded. */
static unsigned store_until_refused(vms_task *t, vms_addr a, unsigned pages)
{
    for (unsigned i = 0; i < pages; i++) {
        uint8_t v = (uint8_t)(i + 1);
        int sig = vms_store(t, a + i * TU_PAGE, &v, 1);
        if (sig) {
            assert_int_equal(sig, SIGKILL);
            return i;
        }
    }
    return pages;
}

static void test_store_loop_in_small_ram_ends_with_sigkill(void **state)
{
    (void)state;
    struct vms_config c = small_ram_config();
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 256 * TU_PAGE, RW);
    assert_int_equal(a, 0x7ffff7eff000ULL);
    /* 256 frames - 2 (machine) - 4 (pgd, PUD, PMD, PTE tables) = 250 pages. */
    unsigned stored = store_until_refused(t, a, 256);
    assert_int_equal(stored, 250);
    tu_assert_fault(t, SIGKILL, 0, a + 250 * TU_PAGE);
    assert_int_equal(tu_minflt(t), 250);
    /* The only process was the OOM killer's victim: its memory is gone. */
    assert_true(vms_task_killed(t));
    struct vms_stats *s = tu_stats(m);
    assert_int_equal(s->frames_used, MACHINE_FRAMES);
    assert_int_equal(s->oom_kill, 1);
    free(s);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_oom_killed_process_is_gone(void **state)
{
    (void)state;
    struct vms_config c = small_ram_config();
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 256 * TU_PAGE, RW);
    assert_int_equal(store_until_refused(t, a, 256), 250);
    /* Its memory no longer reads back: every access is SIGKILL, from the
     * kill (SI_KERNEL), not a fault at the address. */
    uint8_t v = 0;
    assert_int_equal(vms_load(t, a, &v, 1), SIGKILL);
    tu_assert_fault(t, SIGKILL, SI_KERNEL, 0);
    assert_int_equal(vms_store(t, a, &v, 1), SIGKILL);
    assert_int_equal(vms_fetch(t, a, 1), SIGKILL);
    assert_int_equal(vms_mmap(t, 0, TU_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ESRCH);
    assert_int_equal(vms_munmap(t, a, TU_PAGE), -ESRCH);
    assert_int_equal(vms_schedule(t, 1), -ESRCH);
    errno = 0;
    assert_null(vms_fork(t));
    assert_int_equal(errno, ESRCH);
    assert_null(vms_clone_thread(t));
    assert_int_equal(errno, ESRCH);
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    tu_assert_clean(m);
    vms_exit(t); /* releases the handle */
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_oom_while_building_tables_is_sigkill(void **state)
{
    (void)state;
    struct vms_config c = small_ram_config();
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 256 * TU_PAGE, RW);
    assert_int_equal(store_until_refused(t, a, 249), 249); /* one frame left */
    vms_addr far = tu_mmap(t, 0x10000000, TU_PAGE, RW, PRIV | MAP_FIXED);
    uint8_t v = 0;
    /* Even a read needs page tables (three here) that there is no frame for. */
    assert_int_equal(vms_load(t, far, &v, 1), SIGKILL);
    tu_assert_fault(t, SIGKILL, 0, far);
    assert_true(vms_task_killed(t));
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_exit_after_oom_returns_every_frame(void **state)
{
    (void)state;
    struct vms_config c = small_ram_config();
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_task *th = thread_of(t);
    assert_int_equal(vms_schedule(th, 1), 0);
    vms_addr a = tu_anon(t, 256 * TU_PAGE, RW);
    assert_int_equal(store_until_refused(th, a, 256), 250);
    vms_exit(th);
    vms_exit(t);
    assert_int_equal(tu_frames_used(m), MACHINE_FRAMES);
    tu_assert_clean(m);
    /* The memory is usable again by a new process. */
    vms_task *t2 = tu_spawn(m);
    vms_addr b = tu_anon(t2, 256 * TU_PAGE, RW);
    assert_int_equal(store_until_refused(t2, b, 250), 250);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

/* ---- independent machines ---- */

static void test_two_machines_share_nothing(void **state)
{
    (void)state;
    vms_machine *m1 = tu_machine(), *m2 = tu_machine();
    vms_task *t1 = tu_spawn(m1), *t2 = tu_spawn(m2);
    vms_addr a1 = tu_anon(t1, TU_PAGE, RW), a2 = tu_anon(t2, TU_PAGE, RW);
    assert_int_equal(a1, a2);
    tu_store_byte(t1, a1, 0x01);
    tu_store_byte(t2, a2, 0x02);
    assert_int_equal(tu_load_byte(t1, a1), 0x01);
    assert_int_equal(tu_load_byte(t2, a2), 0x02);
    (void)tu_load_byte(t2, a2 + 1);
    struct vms_stats *s1 = tu_stats(m1), *s2 = tu_stats(m2);
    assert_int_equal(s1->minor_faults, 1);
    assert_int_equal(s2->minor_faults, 1);
    assert_int_equal(s1->frames_used, MACHINE_FRAMES + 4 + 1);
    assert_int_equal(s2->frames_used, MACHINE_FRAMES + 4 + 1);
    free(s1);
    free(s2);
    vms_machine_destroy(m1);
    assert_int_equal(tu_load_byte(t2, a2), 0x02);
    tu_assert_clean(m2);
    vms_machine_destroy(m2);
}

static void test_two_machines_count_their_own_tlb_and_frames(void **state)
{
    (void)state;
    vms_machine *m1 = tu_machine(), *m2 = tu_machine();
    vms_task *t1 = tu_spawn(m1);
    (void)tu_spawn(m2);
    vms_addr a = tu_anon(t1, 4 * TU_PAGE, RW);
    for (int i = 0; i < 4; i++)
        tu_store_byte(t1, a + i * TU_PAGE, 1);
    struct vms_stats *s1 = tu_stats(m1), *s2 = tu_stats(m2);
    assert_int_equal(s1->frames_used, MACHINE_FRAMES + 4 + 4);
    assert_int_equal(s2->frames_used, MACHINE_FRAMES + 1);
    assert_int_equal(s2->page_walks, 0);
    assert_int_equal(s2->minor_faults, 0);
    assert_int_equal(s2->context_switches, 0);
    assert_true(s1->page_walks > 0);
    free(s1);
    free(s2);
    vms_machine_destroy(m2);
    vms_machine_destroy(m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pids_start_at_1000_and_count_up),
        cmocka_unit_test(test_pids_are_not_reused_after_exit),
        cmocka_unit_test(test_pids_are_the_same_on_every_machine),
        cmocka_unit_test(test_spawned_task_runs_on_cpu_0_with_empty_mm),
        cmocka_unit_test(test_schedule_moves_a_task_to_another_cpu),
        cmocka_unit_test(test_schedule_to_a_missing_cpu_is_einval),
        cmocka_unit_test(test_single_cpu_machine_has_only_cpu_0),
        cmocka_unit_test(test_thread_starts_on_its_parents_cpu),
        cmocka_unit_test(test_threads_see_each_others_stores),
        cmocka_unit_test(test_threads_see_each_others_mappings),
        cmocka_unit_test(test_threads_share_one_set_of_page_tables),
        cmocka_unit_test(test_fault_counts_are_per_task),
        cmocka_unit_test(test_exit_of_a_thread_leaves_the_mm_to_the_others),
        cmocka_unit_test(test_exit_of_the_first_task_leaves_its_thread_running),
        cmocka_unit_test(test_exit_of_last_task_frees_every_frame),
        cmocka_unit_test(test_exit_of_threads_on_four_cpus_frees_every_frame),
        cmocka_unit_test(test_spawn_and_exit_again_and_again_leaks_nothing),
        cmocka_unit_test(test_exit_of_null_does_nothing),
        cmocka_unit_test(test_destroying_a_machine_ends_its_live_tasks),
        cmocka_unit_test(test_store_loop_in_small_ram_ends_with_sigkill),
        cmocka_unit_test(test_oom_killed_process_is_gone),
        cmocka_unit_test(test_oom_while_building_tables_is_sigkill),
        cmocka_unit_test(test_exit_after_oom_returns_every_frame),
        cmocka_unit_test(test_two_machines_share_nothing),
        cmocka_unit_test(test_two_machines_count_their_own_tlb_and_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
