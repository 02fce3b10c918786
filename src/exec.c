/*
 * execve, as Linux's fs/exec.c runs it: open the program (it must be a
 * regular file with an execute bit), count and measure the arguments and
 * the environment against the stack limit (E2BIG), read the file's first
 * 256 bytes and hand them to the format (src/binfmt_elf.c). At the point of
 * no return the other threads of the process end, a new mm replaces the old
 * one and descriptors opened with O_CLOEXEC close; the stack VMA then gets
 * the strings at its top, laid out as Linux lays them: argv[0] lowest, then
 * the environment, then the file name, then 8 zero bytes below the top.
 * A "#!" script (src/binfmt_script.c) names the next file to load, up to 5
 * deep.
 * Simplifications: the strings are built in a host buffer and copied into
 * the new mm after the point of no return (Linux copies them into the new
 * mm before it, with the same addresses and the same limits, so no result
 * differs); no binfmt_misc formats, set-user-ID programs, capabilities or
 * ETXTBSY (a program open for writing runs anyway).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STK_LIM (8ULL << 20)        /* _STK_LIM: the default stack rlimit */
#define ARG_MAX_BYTES (32 * PAGE_SIZE) /* always room for this much */
#define MAX_ARG_STRLEN (32 * PAGE_SIZE) /* one string, its NUL included */
#define STACK_EXPAND (128ULL << 10) /* setup_arg_pages grows the stack this much */
#define STACK_RND_MASK 0x3fffffULL   /* x86-64's randomised stack top, in pages */

static int count_strings(char *const *v)
{
    int n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* Linux's bprm_stack_limits: the strings and their pointers within a
 * quarter of the stack rlimit (at most 6 MiB, at least ARG_MAX). */
static int bprm_stack_limits(struct linux_binprm *bprm, uint64_t rlim_stack)
{
    uint64_t limit = STK_LIM / 4 * 3;
    if (rlim_stack / 4 < limit)
        limit = rlim_stack / 4;
    if (limit < ARG_MAX_BYTES)
        limit = ARG_MAX_BYTES;
    uint64_t ptr_size = ((uint64_t)(bprm->argc ? bprm->argc : 1) + (uint64_t)bprm->envc) * 8;
    if (limit <= ptr_size)
        return -E2BIG;
    bprm->room = 8 + limit - ptr_size; /* the top's 8 zero bytes, then the strings */
    return 0;
}

static int area_reserve(struct linux_binprm *bprm, uint64_t used)
{
    if (used <= bprm->cap)
        return 0;
    uint64_t cap = bprm->cap ? bprm->cap : 4096;
    while (cap < used)
        cap *= 2;
    char *area = malloc(cap);
    if (!area)
        return -ENOMEM;
    memset(area, 0, cap - bprm->cap);
    if (bprm->cap)
        memcpy(area + cap - bprm->cap, bprm->area, bprm->cap);
    free(bprm->area);
    bprm->area = area;
    bprm->cap = cap;
    return 0;
}

/* Pushes len bytes below the strings, checking MAX_ARG_STRLEN and argmin. */
static int push_bytes(struct linux_binprm *bprm, const char *s, uint64_t len)
{
    if (len > MAX_ARG_STRLEN || bprm->used + len > bprm->room)
        return -E2BIG;
    int err = area_reserve(bprm, bprm->used + len);
    if (err)
        return err;
    bprm->used += len;
    memcpy(bprm->area + bprm->cap - bprm->used, s, len);
    if (bprm->used > bprm->max_used)
        bprm->max_used = bprm->used;
    return 0;
}

int copy_string_kernel(struct linux_binprm *bprm, const char *s)
{
    return push_bytes(bprm, s, strnlen(s, MAX_ARG_STRLEN + 1) + 1);
}

/* Linux's copy_strings: the last string first, so that v[0] ends lowest. */
static int copy_strings(struct linux_binprm *bprm, int n, char *const *v)
{
    for (int i = n - 1; i >= 0; i--) {
        int err = copy_string_kernel(bprm, v[i]);
        if (err)
            return err;
    }
    return 0;
}

void remove_arg_zero(struct linux_binprm *bprm)
{
    if (!bprm->argc)
        return;
    bprm->used -= strlen(bprm->area + bprm->cap - bprm->used) + 1;
    bprm->argc--;
}

/* The top 8 zero bytes, the file name (AT_EXECFN), the environment, argv;
 * an empty argv gets "" as argv[0] (Linux 5.18+). */
static int bprm_strings(struct linux_binprm *bprm, char *const argv[], char *const envp[])
{
    static const char zero[8];
    int err = push_bytes(bprm, zero, sizeof(zero));
    if (!err)
        err = copy_string_kernel(bprm, bprm->filename);
    bprm->exec = bprm->used;
    if (!err)
        err = copy_strings(bprm, bprm->envc, envp);
    if (!err)
        err = copy_strings(bprm, bprm->argc, argv);
    if (!err && !bprm->argc) {
        err = copy_string_kernel(bprm, "");
        bprm->argc = 1;
    }
    return err;
}

/* de_thread: the other threads of the process (tasks sharing its mm) end. */
static void de_thread(struct vms_task *t)
{
    vms_machine *m = t->m;
    struct vms_task *o = m->tasks;
    while (o && t->mm->users > 1) {
        struct vms_task *next = o->next;
        if (o != t && o->mm == t->mm)
            do_exit(o);
        o = next;
    }
}

/* Descriptors opened with O_CLOEXEC close (Linux's do_close_on_exec). */
static void close_on_exec(struct vms_task *t)
{
    struct files_struct *files = t->files;
    for (int fd = 0; fd < files->max; fd++) {
        struct vms_file *f = files->fd[fd];
        if (f && (f->flags & O_CLOEXEC)) {
            files->fd[fd] = NULL;
            fput(t->m, f);
        }
    }
}

static void set_comm(struct vms_task *t, const char *filename)
{
    const char *base = strrchr(filename, '/');
    snprintf(t->comm, sizeof(t->comm), "%s", base ? base + 1 : filename);
}

int begin_new_exec(struct linux_binprm *bprm)
{
    struct vms_task *t = bprm->t;
    vms_machine *m = t->m;
    struct mm_struct *mm = mm_alloc(m);
    if (!mm)
        return -ENOMEM;
    de_thread(t);
    struct mm_struct *old = t->mm;
    mm->oom_score_adj = old->oom_score_adj; /* the process's, kept across exec */
    mm->oom_score_adj_min = old->oom_score_adj_min;
    t->mm = mm;
    task_cpu_enter(t);
    if (--old->users == 0)
        mm_release(m, old, t->cpu);
    bprm->point_of_no_return = 1;
    mm->exec.done = 1;
    close_on_exec(t);
    set_comm(t, bprm->filename);
    return 0;
}

/* Every byte the strings ever took, stale ones below argv[0] included. */
static int copy_strings_to_stack(struct linux_binprm *bprm, uint64_t top)
{
    uint64_t n = bprm->max_used;
    return copy_to_user(bprm->t, top - n, bprm->area + bprm->cap - n, n) == n ? 0 : -EFAULT;
}

/* The stack VMA: first the pages the strings need (at least one), as the
 * new mm's bprm_mm_init and get_arg_page build it. */
static int stack_vma(struct vms_task *t, uint64_t start, uint64_t end, int executable_stack)
{
    struct mm_struct *mm = t->mm;
    vms_machine *m = t->m;
    uint64_t vm_flags = VM_GROWSDOWN | VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE |
                        VM_MAYEXEC | VM_ACCOUNT | vma_pkey_flags(m, PROT_READ | PROT_WRITE);
    if (executable_stack > 0)
        vm_flags |= VM_EXEC;
    if (!vm_enough_memory(mm, (end - start) >> PAGE_SHIFT))
        return -ENOMEM;
    struct vm_area_struct *vma = vma_alloc(mm);
    if (!vma)
        return -ENOMEM;
    vma->vm_start = start;
    vma->vm_end = end;
    vma->vm_flags = vm_flags;
    vma->vm_pgoff = start >> PAGE_SHIFT;
    vma_link(mm, vma);
    mm->total_vm += (end - start) >> PAGE_SHIFT;
    return 0;
}

/* Linux's randomize_stack_top and arch_align_stack, with ASLR on. */
static uint64_t random_stack_top(vms_machine *m, uint64_t top)
{
    top -= (machine_random(m) & STACK_RND_MASK) << PAGE_SHIFT;
    top -= machine_random(m) % 8192;
    return PAGE_ALIGN(top & ~0xfULL);
}

int setup_arg_pages(struct linux_binprm *bprm, uint64_t stack_top, int executable_stack)
{
    struct vms_task *t = bprm->t;
    vms_machine *m = t->m;
    if (m->cfg.aslr_seed)
        stack_top = random_stack_top(m, stack_top);
    uint64_t lowest = (stack_top - bprm->max_used) & PAGE_MASK;
    if (lowest > stack_top - PAGE_SIZE)
        lowest = stack_top - PAGE_SIZE;
    int err = stack_vma(t, lowest, stack_top, executable_stack);
    if (err)
        return err;
    t->mm->exec.arg_start = stack_top - bprm->used;
    t->mm->exec.start_stack = stack_top - 8; /* inside the stack until the tables are built */
    err = copy_strings_to_stack(bprm, stack_top);
    if (err)
        return err;
    /* 128 KiB more, within RLIMIT_STACK: a fault just below grows it. */
    uint64_t size = stack_top - lowest, rlim = m->cfg.stack_rlimit & PAGE_MASK;
    uint64_t expand = size + STACK_EXPAND < rlim ? size + STACK_EXPAND : rlim;
    uint64_t base = stack_top - expand;
    if (base < lowest) {
        struct vm_area_struct *vma = find_vma(t->mm, lowest);
        if (base < m->cfg.mmap_min_addr || !vm_enough_memory(t->mm, (lowest - base) >> PAGE_SHIFT))
            return -EFAULT;
        vma_set_range(vma, base, vma->vm_end, vma->vm_pgoff - ((lowest - base) >> PAGE_SHIFT));
        t->mm->total_vm += (lowest - base) >> PAGE_SHIFT;
    }
    return 0;
}

/* Reads the file's first bytes and hands them to the formats: a script
 * names the next file to load, up to 5 deep (Linux's exec_binprm). */
static int exec_binprm(struct linux_binprm *bprm)
{
    vms_machine *m = bprm->t->m;
    for (int depth = 0;; depth++) {
        if (depth > 5)
            return -ELOOP;
        memset(bprm->buf, 0, sizeof(bprm->buf));
        int64_t n = kernel_read(m, bprm->file, bprm->buf, sizeof(bprm->buf), 0);
        if (n < 0)
            return (int)n;
        int err = load_script(bprm);
        if (err == -ENOEXEC)
            err = load_elf_binary(bprm);
        if (err || !bprm->interpreter)
            return err;
        fput(m, bprm->file);
        bprm->file = bprm->interpreter;
        bprm->interpreter = NULL;
    }
}

int vms_execve(vms_task *t, const char *path, char *const argv[], char *const envp[])
{
    if (!t)
        return -EINVAL;
    SYSCALL_ENTER(t);
    if (!path)
        return -EFAULT;
    task_cpu_enter(t);
    struct linux_binprm bprm = {.t = t, .filename = path, .interp = path};
    int err = open_exec(t, path, 0, &bprm.file);
    if (err)
        return err;
    bprm.argc = count_strings(argv);
    bprm.envc = count_strings(envp);
    err = bprm_stack_limits(&bprm, t->m->cfg.stack_rlimit);
    if (!err)
        err = bprm_strings(&bprm, argv, envp);
    if (!err)
        err = exec_binprm(&bprm);
    fput(t->m, bprm.file);
    if (bprm.interpreter)
        fput(t->m, bprm.interpreter);
    free(bprm.area);
    free(bprm.interp_owned);
    if (err && bprm.point_of_no_return) /* Linux kills the process: SIGSEGV */
        t->fault = (struct vms_fault){.signo = SIGSEGV, .code = SI_KERNEL};
    return err;
}

int vms_task_exec_info(const vms_task *t, struct vms_exec_info *info)
{
    if (!t || !info)
        return -EINVAL;
    const struct mm_exec_layout *x = &t->mm->exec;
    *info = (struct vms_exec_info){
        .entry = x->entry, .sp = x->sp, .at_entry = x->at_entry, .at_base = x->at_base,
        .at_phdr = x->at_phdr, .at_random = x->at_random, .at_execfn = x->at_execfn,
        .vdso = x->vdso, .load_bias = x->load_bias, .auxv = x->auxv_addr,
        .auxv_count = x->auxv_words / 2, .start_code = x->start_code, .end_code = x->end_code,
        .start_data = x->start_data, .end_data = x->end_data, .start_brk = x->start_brk,
        .brk = x->brk, .start_stack = x->start_stack, .arg_start = x->arg_start,
        .arg_end = x->arg_end, .env_start = x->env_start, .env_end = x->env_end,
        .mmap_base = t->mm->mmap_base};
    return 0;
}
