/*
 * The ELF loader, as Linux 6.18's fs/binfmt_elf.c loads an x86-64 ELF64
 * program: the checks before the point of no return (magic, type, machine,
 * program headers, PT_INTERP and its loader: ENOEXEC, ELIBBAD, EIO), then
 * the new mm: the stack (src/exec.c), each PT_LOAD as a private file mapping
 * with its protection (ET_EXEC at its p_vaddr, a PIE at ELF_ET_DYN_BASE, a
 * program without PT_INTERP such as the loader run directly in the mmap
 * area, the whole image reserved first and each segment then MAP_FIXED), the
 * bss as anonymous memory after zeroing the tail of the last file page (a
 * write that copies that page), the loader mapped the same way, [vdso], and
 * the tables on the stack (argc, argv, envp, the auxiliary vector, the
 * platform string and AT_RANDOM's 16 bytes), then the heap's start.
 * Simplifications: no 32-bit programs (EM_386 is ENOEXEC; Linux runs them
 * through its compat loader when IA32 emulation is on); PT_GNU_PROPERTY
 * (shadow stacks, IBT) is not read.
 */
#include "internal.h"

#include <elf.h>
#include <limits.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ELF_MIN_ALIGN PAGE_SIZE
#define ELF_PAGESTART(v) ((v) & ~(uint64_t)(ELF_MIN_ALIGN - 1))
#define ELF_PAGEOFFSET(v) ((v) & (ELF_MIN_ALIGN - 1))
#define ELF_PAGEALIGN(v) (((v) + ELF_MIN_ALIGN - 1) & ~(uint64_t)(ELF_MIN_ALIGN - 1))
#define IS_ERR_VALUE(x) ((uint64_t)(x) >= (uint64_t)-4095)
#define ERR_VALUE(err) ((uint64_t)(int64_t)(err))
#define MMAP_RND_BITS 28
#define BRK_RND_BYTES (32ULL << 20) /* arch_randomize_brk: within 32 MiB */
#define PLATFORM "x86_64"
#define RSEQ_FEATURE_SIZE 28 /* offsetof(struct rseq, end) */
#define RSEQ_ALIGN 32
#define CLOCKS_PER_SEC_AUX 100
#define EXSTACK_DEFAULT 0
#define EXSTACK_DISABLE_X (-1)
#define EXSTACK_ENABLE_X 1

/* x86-64's ELF_ET_DYN_BASE: two thirds of the 47-bit window (a PIE's base). */
static uint64_t elf_et_dyn_base(void) { return ((1ULL << 47) - PAGE_SIZE) / 3 * 2; }

static int bad_addr(const struct mm_struct *mm, uint64_t x) { return x >= mm->task_size; }

/* Linux's elf_read: all len bytes or an error (-EIO for a short read). */
static int elf_read(vms_machine *m, struct vms_file *f, void *buf, uint64_t len, uint64_t pos)
{
    int64_t n = kernel_read(m, f, buf, len, pos);
    if (n < 0)
        return (int)n;
    return (uint64_t)n == len ? 0 : -EIO;
}

static int elf_header_ok(const Elf64_Ehdr *ex)
{
    /* The class byte is not looked at (host: an ELFCLASS32 header with
     * EM_X86_64 and ELF64 fields runs). */
    return memcmp(ex->e_ident, ELFMAG, SELFMAG) == 0 && ex->e_machine == EM_X86_64;
}

/* The program headers, or NULL: wrong entry size, none, more than 64 KiB of
 * them, or a table the file does not hold. The caller frees them. */
static Elf64_Phdr *load_elf_phdrs(vms_machine *m, const Elf64_Ehdr *ex, struct vms_file *f)
{
    if (ex->e_phentsize != sizeof(Elf64_Phdr))
        return NULL;
    uint64_t size = sizeof(Elf64_Phdr) * (uint64_t)ex->e_phnum;
    if (size == 0 || size > 65536)
        return NULL;
    Elf64_Phdr *ph = malloc(size);
    if (ph && elf_read(m, f, ph, size, ex->e_phoff)) {
        free(ph);
        ph = NULL;
    }
    return ph;
}

static int make_prot(uint32_t p_flags)
{
    return (p_flags & PF_R ? PROT_READ : 0) | (p_flags & PF_W ? PROT_WRITE : 0) |
           (p_flags & PF_X ? PROT_EXEC : 0);
}

/* From the first PT_LOAD's page to the end of the highest: 0 without any. */
static uint64_t total_mapping_size(const Elf64_Phdr *ph, unsigned n)
{
    uint64_t min_addr = UINT64_MAX, max_addr = 0;
    int pt_load = 0;
    for (unsigned i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ELF_PAGESTART(ph[i].p_vaddr) < min_addr)
            min_addr = ELF_PAGESTART(ph[i].p_vaddr);
        if (ph[i].p_vaddr + ph[i].p_memsz > max_addr)
            max_addr = ph[i].p_vaddr + ph[i].p_memsz;
        pt_load = 1;
    }
    return pt_load ? max_addr - min_addr : 0;
}

/* The largest power-of-two p_align of the PT_LOADs, at least a page. */
static uint64_t maximum_alignment(const Elf64_Phdr *ph, unsigned n)
{
    uint64_t align = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = ph[i].p_align;
        if (ph[i].p_type == PT_LOAD && a && !(a & (a - 1)) && a > align)
            align = a;
    }
    return ELF_PAGEALIGN(align);
}

/* vm_mmap of the file: an address, or an error value (-4095..-1). */
static uint64_t vm_mmap(struct vms_task *t, struct vms_file *f, uint64_t addr, uint64_t len,
                        int prot, int flags, uint64_t off)
{
    if (off + PAGE_ALIGN(len) < off || (off & ~PAGE_MASK))
        return ERR_VALUE(-EINVAL);
    return (uint64_t)do_mmap_file(t, addr, len, prot, flags, f, (int64_t)off);
}

/* Linux's elf_map: the segment's file pages; with total_size, the whole
 * image is reserved first and what lies past this segment unmapped. */
static uint64_t elf_map(struct vms_task *t, struct vms_file *f, uint64_t addr,
                        const Elf64_Phdr *ph, int prot, int type, uint64_t total_size)
{
    uint64_t size = ELF_PAGEALIGN(ph->p_filesz + ELF_PAGEOFFSET(ph->p_vaddr));
    uint64_t off = ph->p_offset - ELF_PAGEOFFSET(ph->p_vaddr);
    addr = ELF_PAGESTART(addr);
    if (!size)
        return addr;
    if (!total_size)
        return vm_mmap(t, f, addr, size, prot, type, off);
    total_size = ELF_PAGEALIGN(total_size);
    uint64_t map = vm_mmap(t, f, addr, total_size, prot, type, off);
    if (!bad_addr(t->mm, map) && total_size > size)
        do_munmap(t, map + size, map + total_size);
    return map;
}

/* Linux's padzero: zero from address to the end of its page (a write, which
 * copies a private file page); 0 or 1 when it faulted. */
static int padzero(struct vms_task *t, uint64_t address)
{
    static const char zeros[PAGE_SIZE];
    uint64_t nbyte = ELF_PAGEOFFSET(address);
    if (!nbyte)
        return 0;
    nbyte = ELF_MIN_ALIGN - nbyte;
    return copy_to_user(t, address, zeros, nbyte) != nbyte;
}

/* Linux's elf_load: file pages, the zeroed tail of the last, then the bss. */
static uint64_t elf_load(struct vms_task *t, struct vms_file *f, uint64_t addr,
                         const Elf64_Phdr *ph, int prot, int type, uint64_t total_size)
{
    uint64_t map_addr, zero_start, zero_end;
    if (ph->p_filesz) {
        map_addr = elf_map(t, f, addr, ph, prot, type, total_size);
        if (bad_addr(t->mm, map_addr))
            return map_addr;
        zero_start = map_addr + ELF_PAGEOFFSET(ph->p_vaddr) + ph->p_filesz;
        zero_end = map_addr + ELF_PAGEOFFSET(ph->p_vaddr) + ph->p_memsz;
        /* A read-only segment's tail may stay as the file has it. */
        if (ph->p_memsz > ph->p_filesz && padzero(t, zero_start) && (prot & PROT_WRITE))
            return ERR_VALUE(-EFAULT);
    } else {
        map_addr = zero_start = ELF_PAGESTART(addr);
        zero_end = zero_start + ELF_PAGEOFFSET(ph->p_vaddr) + ph->p_memsz;
    }
    if (ph->p_memsz > ph->p_filesz) {
        zero_start = ELF_PAGEALIGN(zero_start);
        zero_end = ELF_PAGEALIGN(zero_end);
        int err = zero_end >= zero_start
                      ? vm_brk_flags(t, zero_start, zero_end - zero_start, prot & PROT_EXEC)
                      : -ENOMEM;
        if (err)
            map_addr = ERR_VALUE(err);
    }
    return map_addr;
}

/* A segment whose end would pass TASK_SIZE (checked after it was mapped). */
static int segment_too_big(const struct mm_struct *mm, uint64_t k, const Elf64_Phdr *ph)
{
    uint64_t ts = mm->task_size;
    return bad_addr(mm, k) || ph->p_filesz > ph->p_memsz || ph->p_memsz > ts || ts - ph->p_memsz < k;
}

/* Linux's load_elf_interp: the loader's segments, the first where mmap puts
 * the whole image, the rest fixed after it. Its load address, or an error. */
static uint64_t load_elf_interp(struct vms_task *t, const Elf64_Ehdr *iex, const Elf64_Phdr *iph,
                                struct vms_file *f, uint64_t no_base)
{
    uint64_t load_addr = 0, total_size = total_mapping_size(iph, iex->e_phnum);
    int load_addr_set = 0;
    if (!total_size)
        return ERR_VALUE(-EINVAL);
    for (unsigned i = 0; i < iex->e_phnum; i++) {
        const Elf64_Phdr *ph = &iph[i];
        if (ph->p_type != PT_LOAD)
            continue;
        int type = MAP_PRIVATE;
        uint64_t vaddr = ph->p_vaddr;
        if (iex->e_type == ET_EXEC || load_addr_set)
            type |= MAP_FIXED;
        else if (no_base && iex->e_type == ET_DYN)
            load_addr = -vaddr;
        uint64_t map_addr = elf_load(t, f, load_addr + vaddr, ph, make_prot(ph->p_flags), type,
                                     total_size);
        total_size = 0;
        if (bad_addr(t->mm, map_addr))
            return IS_ERR_VALUE(map_addr) ? map_addr : ERR_VALUE(-EINVAL);
        if (!load_addr_set && iex->e_type == ET_DYN) {
            load_addr = map_addr - ELF_PAGESTART(vaddr);
            load_addr_set = 1;
        }
        if (segment_too_big(t->mm, load_addr + ph->p_vaddr, ph))
            return ERR_VALUE(-ENOMEM);
    }
    return load_addr;
}

/* Everything read before the point of no return. */
struct elf_load_state {
    Elf64_Ehdr *ex;
    Elf64_Phdr *ph;
    struct vms_file *interp;
    Elf64_Ehdr iex;
    Elf64_Phdr *iph;
    int executable_stack;
};

/* PT_INTERP: the loader's path (a NUL-terminated string of 2..PATH_MAX
 * bytes), opened as execve opens a program, and its header. */
static int open_interpreter(struct linux_binprm *bprm, struct elf_load_state *s,
                            const Elf64_Phdr *ph)
{
    vms_machine *m = bprm->t->m;
    if (ph->p_filesz > PATH_MAX || ph->p_filesz < 2)
        return -ENOEXEC;
    char *path = malloc(ph->p_filesz);
    if (!path)
        return -ENOMEM;
    int err = elf_read(m, bprm->file, path, ph->p_filesz, ph->p_offset);
    if (!err && path[ph->p_filesz - 1] != '\0')
        err = -ENOEXEC;
    if (!err)
        err = open_exec(bprm->t, path, 1, &s->interp);
    free(path);
    if (!err)
        err = elf_read(m, s->interp, &s->iex, sizeof(s->iex), 0);
    return err;
}

/* The checks Linux makes while execve can still fail. */
static int elf_prepare(struct linux_binprm *bprm, struct elf_load_state *s)
{
    vms_machine *m = bprm->t->m;
    Elf64_Ehdr *ex = s->ex;
    if (!elf_header_ok(ex) || (ex->e_type != ET_EXEC && ex->e_type != ET_DYN))
        return -ENOEXEC;
    s->ph = load_elf_phdrs(m, ex, bprm->file);
    if (!s->ph)
        return -ENOEXEC;
    for (unsigned i = 0; i < ex->e_phnum; i++)
        if (s->ph[i].p_type == PT_INTERP) {
            int err = open_interpreter(bprm, s, &s->ph[i]);
            if (err)
                return err;
            break;
        }
    for (unsigned i = 0; i < ex->e_phnum; i++)
        if (s->ph[i].p_type == PT_GNU_STACK)
            s->executable_stack = (s->ph[i].p_flags & PF_X) ? EXSTACK_ENABLE_X : EXSTACK_DISABLE_X;
    if (s->interp) {
        if (!elf_header_ok(&s->iex))
            return -ELIBBAD;
        s->iph = load_elf_phdrs(m, &s->iex, s->interp);
        if (!s->iph)
            return -ELIBBAD;
    }
    return 0;
}

/* Where the program's segments went. */
struct elf_layout {
    uint64_t load_bias, phdr_addr, start_code, end_code, start_data, end_data, elf_brk;
};

/* The once-per-program placement of the first PT_LOAD (Linux's "PIE
 * handling"): MAP_FIXED_NOREPLACE at p_vaddr for ET_EXEC; a PIE at
 * ELF_ET_DYN_BASE aligned to its segments; a program without PT_INTERP
 * where mmap puts its whole image (at an aligned place when it asks for
 * more than a page). Returns the flags, sets *load_bias, *total_size. */
static int64_t first_load_flags(struct vms_task *t, struct linux_binprm *bprm,
                                const struct elf_load_state *s, const Elf64_Phdr *ph,
                                uint64_t *load_bias, uint64_t *total_size)
{
    const Elf64_Ehdr *ex = s->ex;
    if (ex->e_type == ET_EXEC)
        return MAP_PRIVATE | MAP_FIXED_NOREPLACE;
    *total_size = total_mapping_size(s->ph, ex->e_phnum);
    if (!*total_size)
        return -EINVAL;
    uint64_t alignment = maximum_alignment(s->ph, ex->e_phnum);
    int flags = MAP_PRIVATE;
    if (s->interp) {
        *load_bias = elf_et_dyn_base();
        if (t->m->cfg.aslr_seed)
            *load_bias += (machine_random(t->m) & ((1ULL << MMAP_RND_BITS) - 1)) << PAGE_SHIFT;
        if (alignment)
            *load_bias &= ~(alignment - 1);
        flags |= MAP_FIXED_NOREPLACE;
    } else if (alignment > ELF_MIN_ALIGN) {
        uint64_t at = elf_load(t, bprm->file, 0, ph, make_prot(ph->p_flags), flags, *total_size);
        if (bad_addr(t->mm, at))
            return IS_ERR_VALUE(at) ? (int64_t)at : -EINVAL;
        do_munmap(t, at, at + ELF_PAGEALIGN(*total_size));
        *load_bias = at & ~(alignment - 1);
        flags |= MAP_FIXED_NOREPLACE;
    } else {
        *load_bias = 0;
    }
    *load_bias = ELF_PAGESTART(*load_bias - ph->p_vaddr);
    return flags;
}

static int map_segments(struct linux_binprm *bprm, const struct elf_load_state *s,
                        struct elf_layout *l)
{
    struct vms_task *t = bprm->t;
    const Elf64_Ehdr *ex = s->ex;
    int first = 1;
    l->start_code = UINT64_MAX;
    for (unsigned i = 0; i < ex->e_phnum; i++) {
        const Elf64_Phdr *ph = &s->ph[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t total_size = 0;
        int64_t flags = MAP_PRIVATE | MAP_FIXED;
        if (first) {
            flags = first_load_flags(t, bprm, s, ph, &l->load_bias, &total_size);
            if (flags < 0)
                return (int)flags;
        }
        uint64_t got = elf_load(t, bprm->file, l->load_bias + ph->p_vaddr, ph,
                                make_prot(ph->p_flags), (int)flags, total_size);
        if (bad_addr(t->mm, got))
            return IS_ERR_VALUE(got) ? (int)(int64_t)got : -EINVAL;
        if (first && ex->e_type == ET_DYN)
            l->load_bias += got - ELF_PAGESTART(l->load_bias + ph->p_vaddr);
        first = 0;
        if (ph->p_offset <= ex->e_phoff && ex->e_phoff < ph->p_offset + ph->p_filesz)
            l->phdr_addr = ex->e_phoff - ph->p_offset + ph->p_vaddr;
        uint64_t k = ph->p_vaddr;
        if ((ph->p_flags & PF_X) && k < l->start_code)
            l->start_code = k;
        if (l->start_data < k)
            l->start_data = k;
        if (segment_too_big(t->mm, k, ph))
            return -EINVAL;
        k = ph->p_vaddr + ph->p_filesz;
        if ((ph->p_flags & PF_X) && l->end_code < k)
            l->end_code = k;
        if (l->end_data < k)
            l->end_data = k;
        k = ph->p_vaddr + ph->p_memsz;
        if (k > l->elf_brk)
            l->elf_brk = k;
    }
    l->phdr_addr += l->load_bias;
    l->elf_brk += l->load_bias;
    l->start_code += l->load_bias;
    l->end_code += l->load_bias;
    l->start_data += l->load_bias;
    l->end_data += l->load_bias;
    return 0;
}

/* The auxiliary vector, in Linux's order; returns the words written. */
static unsigned fill_auxv(uint64_t *v, const vms_machine *m, const struct mm_exec_layout *x,
                          const Elf64_Ehdr *ex, uint64_t u_rand, uint64_t u_platform)
{
    const struct vms_config *c = &m->cfg;
    uint64_t pairs[][2] = {
        {AT_SYSINFO_EHDR, x->vdso}, {AT_MINSIGSTKSZ, c->minsigstksz}, {AT_HWCAP, c->hwcap},
        {AT_PAGESZ, PAGE_SIZE}, {AT_CLKTCK, CLOCKS_PER_SEC_AUX}, {AT_PHDR, x->at_phdr},
        {AT_PHENT, sizeof(Elf64_Phdr)}, {AT_PHNUM, ex->e_phnum}, {AT_BASE, x->at_base},
        {AT_FLAGS, 0}, {AT_ENTRY, x->at_entry}, {AT_UID, c->uid}, {AT_EUID, c->uid},
        {AT_GID, c->gid}, {AT_EGID, c->gid}, {AT_SECURE, 0}, {AT_RANDOM, u_rand},
        {AT_HWCAP2, c->hwcap2}, {AT_EXECFN, x->at_execfn}, {AT_PLATFORM, u_platform},
        {AT_RSEQ_FEATURE_SIZE, RSEQ_FEATURE_SIZE}, {AT_RSEQ_ALIGN, RSEQ_ALIGN}, {AT_NULL, 0},
    };
    unsigned n = 0;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        v[n++] = pairs[i][0];
        v[n++] = pairs[i][1];
    }
    return n;
}

/* Linux's create_elf_tables: below the strings, 16-byte aligned, the
 * platform string, 16 random bytes, then (16-byte aligned) argc, argv,
 * NULL, envp, NULL and the auxiliary vector. */
static int create_elf_tables(struct linux_binprm *bprm, const Elf64_Ehdr *ex)
{
    struct vms_task *t = bprm->t;
    vms_machine *m = t->m;
    struct mm_exec_layout *x = &t->mm->exec;
    uint64_t p = x->arg_start;
    if (m->cfg.aslr_seed)
        p -= machine_random(m) % 8192;
    p &= ~0xfULL;
    p -= sizeof(PLATFORM);
    uint64_t u_platform = p;
    uint64_t rnd[2] = {machine_random(m), machine_random(m)};
    p -= sizeof(rnd);
    uint64_t u_rand = p;
    x->at_random = u_rand;
    uint64_t top = x->arg_start + bprm->used;
    x->at_execfn = top - bprm->exec;
    x->auxv_words = fill_auxv(x->saved_auxv, m, x, ex, u_rand, u_platform);
    uint64_t items = (uint64_t)bprm->argc + 1 + (uint64_t)bprm->envc + 1 + 1;
    uint64_t sp = (p - x->auxv_words * 8 - items * 8) & ~0xfULL;
    uint64_t nwords = items + x->auxv_words;
    uint64_t *w = calloc(nwords, 8);
    if (!w)
        return -ENOMEM;
    unsigned k = 0;
    w[k++] = (uint64_t)bprm->argc;
    /* The pointers follow the strings as Linux walks them (strnlen_user). */
    uint64_t s = x->arg_start;
    const char *str = bprm->area + bprm->cap - bprm->used;
    for (int i = 0; i < bprm->argc; i++) {
        w[k++] = s;
        size_t len = strlen(str) + 1;
        s += len;
        str += len;
    }
    w[k++] = 0;
    x->arg_end = x->env_start = s;
    for (int i = 0; i < bprm->envc; i++) {
        w[k++] = s;
        size_t len = strlen(str) + 1;
        s += len;
        str += len;
    }
    w[k++] = 0;
    x->env_end = s;
    memcpy(w + k, x->saved_auxv, x->auxv_words * 8);
    x->auxv_addr = sp + items * 8;
    int err = 0;
    if (copy_to_user(t, u_platform, PLATFORM, sizeof(PLATFORM)) != sizeof(PLATFORM) ||
        copy_to_user(t, u_rand, rnd, sizeof(rnd)) != sizeof(rnd) ||
        copy_to_user(t, sp, w, nwords * 8) != nwords * 8)
        err = -EFAULT;
    free(w);
    bprm->p = sp;
    return err;
}

/* Where the heap starts: after the highest segment; far away (at
 * ELF_ET_DYN_BASE) for a program without PT_INTERP that mmap placed; one
 * page and a random distance further with ASLR. */
static void set_brk(struct vms_task *t, const struct elf_load_state *s, uint64_t elf_brk)
{
    struct mm_exec_layout *x = &t->mm->exec;
    int moved = 0;
    if (s->ex->e_type == ET_DYN && !s->interp) {
        elf_brk = elf_et_dyn_base();
        moved = 1;
    }
    x->start_brk = x->brk = ELF_PAGEALIGN(elf_brk);
    if (t->m->cfg.aslr_seed) {
        if (!moved)
            x->start_brk = x->brk = x->brk + PAGE_SIZE;
        uint64_t r = machine_random(t->m) % (BRK_RND_BYTES >> PAGE_SHIFT);
        x->start_brk = x->brk = x->brk + (r << PAGE_SHIFT);
    }
}

/* Everything after the point of no return; 0 or the errno that kills. */
static int elf_build(struct linux_binprm *bprm, struct elf_load_state *s)
{
    struct vms_task *t = bprm->t;
    struct mm_struct *mm = t->mm;
    struct mm_exec_layout *x = &mm->exec;
    int err = setup_arg_pages(bprm, mm->map_window, s->executable_stack);
    struct elf_layout l = {0};
    if (!err)
        err = map_segments(bprm, s, &l);
    if (err)
        return err;
    uint64_t entry = s->ex->e_entry + l.load_bias, elf_entry = entry;
    if (s->interp) {
        uint64_t base = load_elf_interp(t, &s->iex, s->iph, s->interp, l.load_bias);
        if (!IS_ERR_VALUE(base)) {
            x->at_base = base;
            elf_entry = base + s->iex.e_entry;
        } else {
            elf_entry = base;
        }
    }
    if (bad_addr(mm, elf_entry))
        return IS_ERR_VALUE(elf_entry) ? (int)(int64_t)elf_entry : -EINVAL;
    err = arch_setup_additional_pages(t);
    x->at_entry = entry;
    x->at_phdr = l.phdr_addr;
    x->load_bias = l.load_bias;
    if (!err)
        err = create_elf_tables(bprm, s->ex);
    if (err)
        return err;
    x->entry = elf_entry;
    x->sp = x->start_stack = bprm->p;
    x->start_code = l.start_code;
    x->end_code = l.end_code;
    x->start_data = l.start_data;
    x->end_data = l.end_data;
    set_brk(t, s, l.elf_brk);
    return 0;
}

int load_elf_binary(struct linux_binprm *bprm)
{
    vms_machine *m = bprm->t->m;
    Elf64_Ehdr ex;
    memcpy(&ex, bprm->buf, sizeof(ex));
    struct elf_load_state s = {.ex = &ex, .executable_stack = EXSTACK_DEFAULT};
    int err = elf_prepare(bprm, &s);
    if (!err)
        err = begin_new_exec(bprm);
    if (!err)
        err = elf_build(bprm, &s);
    free(s.ph);
    free(s.iph);
    if (s.interp)
        fput(m, s.interp);
    return err;
}
