/*
 * The OOM killer and the OOM reaper, as Linux's mm/oom_kill.c: when an
 * allocation finds no frame and reclaim frees none, the process with the
 * highest badness is killed -- its resident pages (anonymous, file, shmem)
 * plus its swap entries plus its page-table pages, plus oom_score_adj
 * thousandths of RAM + swap; -1000 is never killed; among equals the
 * youngest process, which Linux reaches last in its process list. Every
 * thread of the victim dies and its memory is freed, address space and
 * descriptors, before the next call returns (the reaper). The kill is
 * reported as the kernel logs it.
 *
 * Simplifications: one node, no memory cgroups or cpusets (every kill is a
 * global one); the victim's handles become zombies (src/task.c) that vms_exit
 * releases; tasks have no user ids (the log line says UID:0). When the
 * victim is the current task, its mm is torn down once its call has
 * returned (the call's own stack still uses it); it never runs again.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000
#define BADNESS_UNKILLABLE INT64_MIN

/* What a process holds, as its mm counters and mm_pgtables_bytes say. */
struct oom_usage {
    uint64_t anon, file, shmem; /* resident pages (MM_ANONPAGES, ...) */
    uint64_t swapents;          /* swap entries in its page tables */
    uint64_t pgtables;          /* PTE, PMD and PUD tables (Linux counts no PGD or P4D) */
};

static void count_pte(const vms_machine *m, pte_t e, struct oom_usage *u)
{
    if (!pte_present(e)) {
        if (pte_is_swap(e))
            u->swapents++;
        return; /* none, or a guard marker */
    }
    if (pte_special(e))
        return; /* the zero page is nobody's */
    uint32_t flags = m->pm.pages[pte_pfn(e)].flags;
    if (flags & PG_anon)
        u->anon++;
    else if (flags & PG_shmem)
        u->shmem++;
    else
        u->file++;
}

static void count_table(const vms_machine *m, uint32_t pfn, int level, struct oom_usage *u)
{
    const pte_t *table = table_of(&m->pm, pfn);
    if (level <= 3)
        u->pgtables++;
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
        if (level == 1)
            count_pte(m, table[i], u);
        else if (table[i] & _PAGE_PRESENT)
            count_table(m, (uint32_t)pte_pfn(table[i]), level - 1, u);
    }
}

static struct oom_usage mm_usage(const struct mm_struct *mm)
{
    struct oom_usage u = {0};
    count_table(mm->m, mm->pgd, pgtable_levels(mm), &u);
    return u;
}

/* RAM plus swap in pages: what oom_score_adj is a share of. */
static uint64_t oom_totalpages(const vms_machine *m)
{
    return m->pm.nframes + (m->cfg.swap_bytes >> PAGE_SHIFT);
}

/* Linux's oom_badness: pages held, plus the adjustment scaled to the
 * machine (thousandths of totalpages, the division first as Linux does). */
static int64_t oom_badness(const struct mm_struct *mm, uint64_t totalpages)
{
    if (mm->oom_score_adj == OOM_SCORE_ADJ_MIN || mm->oom_victim)
        return BADNESS_UNKILLABLE;
    struct oom_usage u = mm_usage(mm);
    int64_t points = (int64_t)(u.anon + u.file + u.shmem + u.swapents + u.pgtables);
    return points + (int64_t)mm->oom_score_adj * (int64_t)(totalpages / 1000);
}

/* The mm of highest badness among live processes; the youngest (highest
 * ctx_id) among equals. NULL when every process is unkillable. */
static struct mm_struct *select_bad_process(vms_machine *m, int64_t *points)
{
    struct mm_struct *chosen = NULL;
    uint64_t total = oom_totalpages(m);
    *points = BADNESS_UNKILLABLE;
    for (struct mm_struct *mm = m->mms; mm; mm = mm->mm_next) {
        int has_task = 0;
        for (const struct vms_task *t = m->tasks; t && !has_task; t = t->next)
            has_task = t->mm == mm && !t->oom_killed;
        if (!has_task) /* an mm fork is still building */
            continue;
        int64_t p = oom_badness(mm, total);
        if (p == BADNESS_UNKILLABLE || p < *points)
            continue;
        if (p == *points && chosen && chosen->ctx_id > mm->ctx_id)
            continue;
        chosen = mm;
        *points = p;
    }
    return chosen;
}

/* The task that stands for the process in the log: its oldest (the leader). */
static struct vms_task *process_leader(vms_machine *m, const struct mm_struct *mm)
{
    struct vms_task *leader = NULL;
    for (struct vms_task *t = m->tasks; t; t = t->next)
        if (t->mm == mm && (!leader || t->pid < leader->pid))
            leader = t;
    return leader;
}

static void report_kill(vms_machine *m, const struct mm_struct *mm, const struct vms_task *leader,
                        int64_t points)
{
    struct oom_usage u = mm_usage(mm);
    unsigned kb = PAGE_SIZE / 1024;
    snprintf(m->oom_msg, sizeof(m->oom_msg),
             "Out of memory: Killed process %d (%s) total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64
             "kB, file-rss:%" PRIu64 "kB, shmem-rss:%" PRIu64 "kB, UID:0 pgtables:%" PRIu64
             "kB oom_score_adj:%d",
             leader->pid, leader->comm, mm->total_vm * kb, u.anon * kb, u.file * kb,
             u.shmem * kb, u.pgtables * kb, mm->oom_score_adj);
    trace_event(m, &(struct vms_event){.kind = VMS_EV_OOM_KILL, .cpu = leader->cpu,
                                       .a = (uint64_t)leader->pid, .b = (uint64_t)points,
                                       .level = mm->oom_score_adj, .detail = m->oom_msg});
}

/* Every task of mm gets SIGKILL; none runs again. */
static void oom_kill_process(vms_machine *m, struct mm_struct *mm, int64_t points)
{
    report_kill(m, mm, process_leader(m, mm), points);
    m->oom_kills++;
    mm->oom_victim = 1;
    for (struct vms_task *t = m->tasks; t; t = t->next) {
        if (t->mm != mm)
            continue;
        t->oom_killed = 1;
        t->fault = (struct vms_fault){.signo = SIGKILL, .code = SI_KERNEL, .addr = 0};
        task_leave_cpu(t);
    }
    m->oom_reap_pending = 1;
}

/* Frees everything the killed process held: its tasks' descriptor tables,
 * then its address space and page tables. */
static void oom_reap(vms_machine *m, struct mm_struct *mm)
{
    unsigned cpu = 0;
    for (struct vms_task *t = m->tasks; t; t = t->next) {
        if (t->mm != mm)
            continue;
        files_put(m, t->files);
        t->files = NULL;
        t->mm = &m->exited_mm;
        cpu = t->cpu;
    }
    mm->users = 0;
    mm_release(m, mm, cpu);
}

void oom_reap_pending(vms_machine *m)
{
    if (!m->oom_reap_pending)
        return;
    /* The current task's call still runs on its own mm: that one waits. */
    const struct mm_struct *busy = m->current ? m->current->mm : NULL;
    m->oom_reap_pending = 0;
    struct mm_struct *mm = m->mms;
    while (mm) {
        struct mm_struct *next = mm->mm_next;
        if (mm->oom_victim && mm == busy)
            m->oom_reap_pending = 1;
        else if (mm->oom_victim)
            oom_reap(m, mm);
        mm = next;
    }
}

int out_of_memory(vms_machine *m)
{
    if (current_is_oom_victim(m))
        return 0; /* already dying: its allocations fail, nobody else dies */
    int64_t points;
    struct mm_struct *victim = select_bad_process(m, &points);
    if (!victim)
        return 0;
    oom_kill_process(m, victim, points);
    oom_reap_pending(m); /* no stack frame uses another process's mm */
    return !(m->current && m->current->mm == victim);
}

/* ---- /proc/PID/oom_score_adj and oom_score ---- */

int vms_set_oom_score_adj(vms_task *t, int adj)
{
    SYSCALL_ENTER(t);
    if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX)
        return -EINVAL;
    struct mm_struct *mm = t->mm;
    int privileged = t->m->cfg.privileged; /* CAP_SYS_RESOURCE */
    if (adj < mm->oom_score_adj_min && !privileged)
        return -EACCES;
    mm->oom_score_adj = adj;
    if (privileged)
        mm->oom_score_adj_min = adj;
    return 0;
}

int vms_get_oom_score_adj(vms_task *t, int *adj)
{
    SYSCALL_ENTER(t);
    *adj = t->mm->oom_score_adj;
    return 0;
}

/* Linux's proc_oom_score: 1000 + badness in thousandths of totalpages,
 * times 2/3 (host: a small process reads 666, at oom_score_adj 1000 1332),
 * 0 for a process that may not be killed. */
int vms_oom_score(vms_task *t)
{
    SYSCALL_ENTER(t);
    uint64_t total = oom_totalpages(t->m);
    int64_t badness = oom_badness(t->mm, total);
    if (badness == BADNESS_UNKILLABLE)
        return 0;
    int64_t score = (1000 + badness * 1000 / (int64_t)total) * 2 / 3;
    return (int)(score < 0 ? 0 : score);
}
