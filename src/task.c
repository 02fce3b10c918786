/*
 * Tasks and address spaces (Linux's kernel/fork.c, kernel/exit.c and the
 * scheduler's context switch): a task runs on one CPU at a time and owns or
 * shares an mm_struct; threads share one mm; the last task to exit an mm
 * tears it down and frees its page tables and pgd.
 * A process has its own descriptor table; threads share it.
 * Simplification: no signals are delivered (an access returns
 * the signal it raised and the task carries on), except the OOM killer's
 * SIGKILL (src/oom_kill.c): a killed task's handle lives on, refusing every
 * call, until vms_exit releases it (a zombie waiting to be reaped).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mm_struct *mm_alloc(vms_machine *m)
{
    struct mm_struct *mm = calloc(1, sizeof(*mm));
    if (!mm)
        return NULL;
    mm->m = m;
    mm->ctx_id = ++m->next_ctx_id;
    mm->users = 1;
    if (pgd_alloc(mm)) {
        free(mm);
        return NULL;
    }
    mm_set_layout(mm);
    mm->mm_next = m->mms;
    if (m->mms)
        m->mms->mm_prev = mm;
    m->mms = mm;
    return mm;
}

void mm_free(struct mm_struct *mm)
{
    vms_machine *m = mm->m;
    if (mm->mm_prev)
        mm->mm_prev->mm_next = mm->mm_next;
    else
        m->mms = mm->mm_next;
    if (mm->mm_next)
        mm->mm_next->mm_prev = mm->mm_prev;
    free(mm);
}

vms_task *task_alloc(vms_machine *m, struct mm_struct *mm, struct files_struct *files,
                     const char *comm, unsigned cpu)
{
    vms_task *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->files = files;
    t->m = m;
    t->mm = mm;
    t->cpu = cpu;
    t->cpu_ptr = &m->cpus[cpu];
    t->pid = m->next_pid++;
    snprintf(t->comm, sizeof(t->comm), "%s", comm ? comm : "task");
    t->next = m->tasks;
    if (m->tasks)
        m->tasks->prev = t;
    m->tasks = t;
    return t;
}

vms_task *vms_spawn(vms_machine *m, const char *comm)
{
    m->current = NULL; /* a new process: no task of it runs yet */
    oom_reap_pending(m);
    struct mm_struct *mm = mm_alloc(m);
    if (!mm) {
        errno = ENOMEM;
        return NULL;
    }
    struct files_struct *files = files_alloc();
    vms_task *t = files ? task_alloc(m, mm, files, comm, 0) : NULL;
    if (!t) {
        free(files);
        pgd_free(mm);
        mm_free(mm);
        errno = ENOMEM;
    }
    return t;
}

vms_task *vms_clone_thread(vms_task *t)
{
    if (syscall_enter(t)) {
        errno = ESRCH;
        return NULL;
    }
    vms_task *c = task_alloc(t->m, t->mm, t->files, t->comm, t->cpu);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    t->mm->users++;
    t->files->refcount++;
    return c;
}

void task_leave_cpu(struct vms_task *t)
{
    if (t->cpu_ptr->curr == t)
        cpu_idle(t->cpu_ptr);
}

void mm_release(vms_machine *m, struct mm_struct *mm, unsigned cpu)
{
    exit_mmap(mm, cpu);
    /* CPUs still running this mm switch away (to the kernel's own mm). */
    for (unsigned i = 0; i < m->ncpus; i++)
        if (m->cpus[i].loaded_mm == mm)
            switch_mm(m, &m->cpus[i], NULL);
    pgd_free(mm);
    mm_free(mm);
}

void vms_exit(vms_task *t)
{
    if (!t)
        return;
    t->m->current = NULL; /* called between calls: the reaper may run */
    oom_reap_pending(t->m);
    do_exit(t);
}

void do_exit(struct vms_task *t)
{
    vms_machine *m = t->m;
    if (!t->oom_killed) { /* a killed task's mm and files are gone already */
        task_leave_cpu(t);
        if (--t->mm->users == 0)
            mm_release(m, t->mm, t->cpu);
        files_put(m, t->files);
    }
    if (t->prev)
        t->prev->next = t->next;
    else
        m->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    free(t);
}

struct cpu *task_cpu_enter(struct vms_task *t)
{
    struct cpu *c = t->cpu_ptr;
    if (unlikely(t->oom_killed)) { /* never runs again: no TLB fast path for it */
        task_leave_cpu(t);
        return c;
    }
    if (c->running_mm != t->mm || c->curr != t)
        cpu_run(t->m, c, t);
    return c;
}

int syscall_enter(struct vms_task *t)
{
    vms_machine *m = t->m;
    m->current = NULL; /* the last call has returned: the reaper may run */
    oom_reap_pending(m);
    if (t->oom_killed)
        return -ESRCH;
    m->current = t;
    return 0;
}

int vms_task_killed(const vms_task *t) { return t->oom_killed; }

int vms_schedule(vms_task *t, unsigned cpu)
{
    SYSCALL_ENTER(t);
    if (cpu >= t->m->ncpus)
        return -EINVAL;
    if (cpu != t->cpu)
        task_leave_cpu(t);
    t->cpu = cpu;
    t->cpu_ptr = &t->m->cpus[cpu];
    task_cpu_enter(t);
    return 0;
}

int vms_task_pid(const vms_task *t) { return t->pid; }
unsigned vms_task_cpu(const vms_task *t) { return t->cpu; }

void vms_task_rusage(const vms_task *t, uint64_t *minflt, uint64_t *majflt)
{
    if (minflt)
        *minflt = t->min_flt;
    if (majflt)
        *majflt = t->maj_flt;
}

const struct vms_fault *vms_last_fault(const vms_task *t) { return &t->fault; }

int vms_task_visit(vms_machine *m, int (*fn)(void *arg, vms_task *t), void *arg)
{
    /* The list is newest first: the oldest is its last. */
    vms_task *t = m->tasks;
    while (t && t->next)
        t = t->next;
    for (; t; t = t->prev) {
        int r = fn(arg, t);
        if (r)
            return r;
    }
    return 0;
}

int vms_task_same_mm(const vms_task *a, const vms_task *b)
{
    return a->mm == b->mm && !a->oom_killed && !b->oom_killed;
}

vms_machine *vms_task_machine(const vms_task *t) { return t->m; }
