/*
 * test_exec.c - vms_execve against what Linux 6.18 does with the same ELF
 * files (built here byte by byte, see elfbuild.h; each layout below was
 * checked on the host with the same bytes under ptrace at the exec stop,
 * ASLR off): the maps, the stack's strings and auxiliary vector, the bss
 * and its zeroed page tail, and every errno, malformed files included.
 */
#include "elfbuild.h"

#include <limits.h>
#include <unistd.h>

#define TOP 0x7ffffffff000ULL            /* STACK_TOP: the 47-bit window's end */
#define MMAP_BASE (TOP - (128ULL << 20)) /* 8 MiB + guard gap, raised to 128 MiB */
#define PIE_BASE ((TOP / 3 * 2) & ~0xfffULL) /* ELF_ET_DYN_BASE, page-aligned */

static vms_machine *ex_machine(const char *root, uint64_t stack_rlimit)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.root = root;
    c.aslr_seed = 0;
    c.stack_rlimit = stack_rlimit;
    c.data_rlimit = UINT64_MAX;
    c.hwcap = 0x178bebff;
    c.hwcap2 = 0;
    c.minsigstksz = 3376;
    c.uid = 0;
    c.gid = 0;
    c.privileged = 0;
    c.pgtable_levels = 4;
    c.readahead_kb = 128;
    c.large_folios = 1;
    return tu_machine_with(&c);
}

struct ex_env {
    char dir[256], root[300];
    vms_machine *m;
    vms_task *t;
};

static int ex_setup(void **state)
{
    struct ex_env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    tu_root_make(e->dir, sizeof(e->dir), e->root, sizeof(e->root));
    e->m = ex_machine(e->root, 8ULL << 20);
    e->t = tu_spawn(e->m);
    *state = e;
    return 0;
}

static int ex_teardown(void **state)
{
    struct ex_env *e = *state;
    vms_machine_destroy(e->m);
    int err = tu_scratch_remove(e->dir);
    free(e);
    return err;
}

/* A maps line of anonymous or special memory. */
static void anon_line(char *out, size_t size, uint64_t start, uint64_t end, const char *perms,
                      const char *name)
{
    char prefix[128];
    int n = snprintf(prefix, sizeof(prefix), "%08llx-%08llx %s 00000000 00:00 0 ",
                     (unsigned long long)start, (unsigned long long)end, perms);
    if (name)
        snprintf(out, size, "%s%*s %s\n", prefix, n < 72 ? 72 - n : 0, "", name);
    else
        snprintf(out, size, "%s\n", prefix);
}

/* Appends a line to text. */
static void add_file(char *text, size_t size, uint64_t start, uint64_t end, const char *perms,
                     uint64_t off, uint64_t ino, const char *name)
{
    char line[256];
    tu_file_maps_line(line, sizeof(line), start, end, perms, off, ino, name);
    strncat(text, line, size - strlen(text) - 1);
}

static void add_anon(char *text, size_t size, uint64_t start, uint64_t end, const char *perms,
                     const char *name)
{
    char line[256];
    anon_line(line, sizeof(line), start, end, perms, name);
    strncat(text, line, size - strlen(text) - 1);
}

/* [vvar] (4 pages), [vvar_vclock] (2) and [vdso] (2) from vvar up. */
static void add_vdso(char *text, size_t size, uint64_t vvar)
{
    add_anon(text, size, vvar, vvar + 0x4000, "r--p", "[vvar]");
    add_anon(text, size, vvar + 0x4000, vvar + 0x6000, "r--p", "[vvar_vclock]");
    add_anon(text, size, vvar + 0x6000, vvar + 0x8000, "r-xp", "[vdso]");
}

/* The stack after exec: the strings' page plus 128 KiB; then [vsyscall]. */
static void add_stack_vsyscall(char *text, size_t size)
{
    add_anon(text, size, TOP - 0x21000, TOP, "rw-p", "[stack]");
    strncat(text, "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  "
                  "[vsyscall]\n", size - strlen(text) - 1);
}

static char *const ARGV[] = {"./exec", NULL};
static char *const ENVP[] = {"HOME=/root", "A=b", NULL};

static void test_static_program_maps(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    assert_int_equal(vms_execve(e->t, "./exec", ARGV, ENVP), 0);
    char want[4096] = "";
    add_file(want, sizeof(want), 0x400000, 0x401000, "r--p", 0, 1001, "/exec");
    add_file(want, sizeof(want), 0x401000, 0x402000, "r-xp", 0x1000, 1001, "/exec");
    add_file(want, sizeof(want), 0x402000, 0x403000, "r--p", 0x2000, 1001, "/exec");
    /* rw: file offset 0x2e10 at 0x403e10, 0x200 bytes: pages 0x403000-0x405000 */
    add_file(want, sizeof(want), 0x403000, 0x405000, "rw-p", 0x2000, 1001, "/exec");
    /* bss to 0x403e10 + 0x3000, page-aligned: not [heap] (brk is its end) */
    add_anon(want, sizeof(want), 0x405000, 0x407000, "rw-p", NULL);
    add_vdso(want, sizeof(want), MMAP_BASE - 0x8000);
    add_stack_vsyscall(want, sizeof(want));
    tu_assert_maps(e->t, want);
    struct vms_exec_info i;
    assert_int_equal(vms_task_exec_info(e->t, &i), 0);
    assert_int_equal(i.entry, 0x401000);
    assert_int_equal(i.at_entry, 0x401000);
    assert_int_equal(i.at_base, 0);
    assert_int_equal(i.at_phdr, 0x400040);
    assert_int_equal(i.load_bias, 0);
    assert_int_equal(i.vdso, MMAP_BASE - 0x2000);
    assert_int_equal(i.start_code, 0x401000);
    assert_int_equal(i.end_code, 0x402000);
    assert_int_equal(i.start_data, 0x403e10);
    assert_int_equal(i.end_data, 0x404010);
    assert_int_equal(i.start_brk, 0x407000);
    assert_int_equal(i.brk, 0x407000);
    assert_int_equal(i.mmap_base, MMAP_BASE);
    /* host: rsp 7fffffffee10, arg_start efdb, env_start efe2, env_end eff1 */
    assert_int_equal(i.sp, 0x7fffffffee10);
    assert_int_equal(i.start_stack, i.sp);
    assert_int_equal(i.arg_start, 0x7fffffffefdb);
    assert_int_equal(i.arg_end, 0x7fffffffefe2);
    assert_int_equal(i.env_start, 0x7fffffffefe2);
    assert_int_equal(i.env_end, 0x7fffffffeff1);
    tu_assert_clean(e->m);
}

/* The bss: the file's bytes up to p_filesz, zeros after it in the same page
 * (padzero copied that page), zeros in the anonymous pages. */
static void test_bss_tail_zeroed(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    assert_int_equal(vms_execve(e->t, "./exec", ARGV, ENVP), 0);
    /* 0x404000 holds file offset 0x3000: 0x10 bytes of data, then the bss */
    for (uint64_t off = 0; off < 0x10; off++)
        assert_int_equal(tu_load_byte(e->t, 0x404000 + off), tu_pattern(0x3000 + off));
    for (uint64_t va = 0x404010; va < 0x407000; va += 0x1f7)
        assert_int_equal(tu_load_byte(e->t, va), 0);
    /* the data below is the file's, and the code page too */
    assert_int_equal(tu_load_byte(e->t, 0x403e10), tu_pattern(0x2e10));
    assert_int_equal(tu_load_byte(e->t, 0x401234), tu_pattern(0x1234));
    /* the file itself is unchanged: the zeroing wrote a private copy */
    char path[600];
    assert_int_equal(tu_host_byte(tu_join(path, sizeof(path), e->root, "exec"), 0x3010),
                     tu_pattern(0x3010));
    tu_assert_clean(e->m);
}

/* The strings, platform, random bytes and the vector, as Linux lays them. */
static void test_stack_layout(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    assert_int_equal(vms_execve(e->t, "./exec", ARGV, ENVP), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    /* From the top: 8 zero bytes, "./exec" (AT_EXECFN), the environment,
     * then argv; arg_start is where argv[0] begins. */
    static const char strings[] = "./exec\0HOME=/root\0A=b\0./exec\0\0\0\0\0\0\0\0\0";
    uint64_t len = sizeof(strings) - 1, start = TOP - len;
    assert_int_equal(i.arg_start, start);
    char got[sizeof(strings)];
    assert_int_equal(vms_load(e->t, start, got, len), 0);
    assert_memory_equal(got, strings, len);
    assert_int_equal(i.at_execfn, TOP - 8 - 7);
    /* below, 16-byte aligned: "x86_64\0", then the 16 random bytes */
    uint64_t plat = ((start & ~0xfULL) - 7), rnd = plat - 16;
    char platform[7];
    vms_load(e->t, plat, platform, 7);
    assert_memory_equal(platform, "x86_64", 7);
    assert_int_equal(i.at_random, rnd);
    /* 22 pairs and AT_NULL; argc, 1 argv, NULL, 2 envp, NULL: 6 words */
    assert_int_equal(i.auxv_count, 23);
    assert_int_equal(i.sp, (rnd - 23 * 16 - 6 * 8) & ~0xfULL);
    uint64_t w[6];
    vms_load(e->t, i.sp, w, sizeof(w));
    assert_int_equal(w[0], 1);
    assert_int_equal(w[1], start);
    assert_int_equal(w[2], 0);
    assert_int_equal(w[3], start + 7);
    assert_int_equal(w[4], start + 18);
    assert_int_equal(w[5], 0);
    assert_int_equal(i.auxv, i.sp + 48);
    uint64_t av[46];
    vms_load(e->t, i.auxv, av, sizeof(av));
    const uint64_t want[46] = {
        AT_SYSINFO_EHDR, MMAP_BASE - 0x2000, AT_MINSIGSTKSZ, 3376, AT_HWCAP, 0x178bebff,
        AT_PAGESZ, 4096, AT_CLKTCK, 100, AT_PHDR, 0x400040, AT_PHENT, 56, AT_PHNUM, 5,
        AT_BASE, 0, AT_FLAGS, 0, AT_ENTRY, 0x401000, AT_UID, 0, AT_EUID, 0, AT_GID, 0,
        AT_EGID, 0, AT_SECURE, 0, AT_RANDOM, rnd, AT_HWCAP2, 0, AT_EXECFN, TOP - 15,
        AT_PLATFORM, plat, AT_RSEQ_FEATURE_SIZE, 28, AT_RSEQ_ALIGN, 32, AT_NULL, 0};
    assert_memory_equal(av, want, sizeof(want));
    /* The random bytes follow the machine's seed: the same on a second machine. */
    uint8_t r1[16], r2[16];
    vms_load(e->t, rnd, r1, 16);
    vms_machine *m2 = ex_machine(e->root, 8ULL << 20);
    vms_task *t2 = tu_spawn(m2);
    assert_int_equal(vms_execve(t2, "./exec", ARGV, ENVP), 0);
    vms_load(t2, rnd, r2, 16);
    assert_memory_equal(r1, r2, 16);
    vms_machine_destroy(m2);
    tu_assert_clean(e->m);
}

/* A PIE with a loader: at ELF_ET_DYN_BASE, the loader's whole image below
 * mmap_base, the vDSO below it (host-measured with the same two files). */
static void test_pie_with_loader(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf ld = eb_loader();
    eb_install(e->root, "ld.so", &ld);
    struct eb_elf p = eb_program(0, 1);
    p.interp = "/ld.so";
    eb_install(e->root, "pie", &p);
    char *const argv[] = {"./pie", "a", NULL};
    assert_int_equal(vms_execve(e->t, "./pie", argv, ENVP), 0);
    assert_int_equal(PIE_BASE, 0x555555554000ULL);
    char want[4096] = "";
    add_file(want, sizeof(want), PIE_BASE, PIE_BASE + 0x1000, "r--p", 0, 1001, "/pie");
    add_file(want, sizeof(want), PIE_BASE + 0x1000, PIE_BASE + 0x2000, "r-xp", 0x1000, 1001, "/pie");
    add_file(want, sizeof(want), PIE_BASE + 0x2000, PIE_BASE + 0x3000, "r--p", 0x2000, 1001, "/pie");
    add_file(want, sizeof(want), PIE_BASE + 0x3000, PIE_BASE + 0x5000, "rw-p", 0x2000, 1001, "/pie");
    add_anon(want, sizeof(want), PIE_BASE + 0x5000, PIE_BASE + 0x7000, "rw-p", NULL);
    /* the loader spans 0x2100 bytes: three pages right below mmap_base */
    uint64_t ld_base = MMAP_BASE - 0x3000;
    add_vdso(want, sizeof(want), ld_base - 0x8000);
    add_file(want, sizeof(want), ld_base, ld_base + 0x1000, "r--p", 0, 1002, "/ld.so");
    add_file(want, sizeof(want), ld_base + 0x1000, ld_base + 0x2000, "r-xp", 0x1000, 1002, "/ld.so");
    add_file(want, sizeof(want), ld_base + 0x2000, ld_base + 0x3000, "rw-p", 0x2000, 1002, "/ld.so");
    add_stack_vsyscall(want, sizeof(want));
    tu_assert_maps(e->t, want);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(i.at_base, 0x7ffff7ffc000ULL);
    assert_int_equal(i.entry, 0x7ffff7ffd100ULL);
    assert_int_equal(i.at_entry, PIE_BASE + 0x1000);
    assert_int_equal(i.at_phdr, PIE_BASE + 0x40);
    assert_int_equal(i.load_bias, PIE_BASE);
    assert_int_equal(i.vdso, 0x7ffff7ffa000ULL);
    assert_int_equal(i.start_brk, 0x55555555b000ULL);
    assert_int_equal(i.sp, 0x7fffffffee10ULL);
    tu_assert_clean(e->m);
}

/* Segments aligned to 2 MiB (p_align): a PIE's base is ELF_ET_DYN_BASE
 * rounded down to it, a program without PT_INTERP is placed by a first
 * mapping of the whole image and then aligned (host, gcc -z
 * max-page-size=0x200000: 555555400000; a static PIE at 7ffff7600000). */
static void test_large_alignment(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf ld = eb_loader();
    eb_install(e->root, "ld.so", &ld);
    struct eb_elf p = eb_program(0, 1);
    p.interp = "/ld.so";
    for (int k = 0; k < 4; k++)
        p.seg[k].align = 0x200000;
    eb_install(e->root, "pie", &p);
    char *const argv[] = {"./pie", NULL};
    assert_int_equal(vms_execve(e->t, "./pie", argv, NULL), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(i.load_bias, 0x555555400000ULL);
    p.interp = NULL;
    eb_install(e->root, "spie", &p);
    char *const argv2[] = {"./spie", NULL};
    assert_int_equal(vms_execve(e->t, "./spie", argv2, NULL), 0);
    vms_task_exec_info(e->t, &i);
    /* 0x6e10 bytes: reserved top-down below mmap_base at 7ffff7ff8000, then
     * rounded down to 2 MiB */
    assert_int_equal(i.load_bias, 0x7ffff7e00000ULL);
    assert_int_equal(i.start_brk, 0x555555555000ULL);
    tu_assert_clean(e->m);
}

/* The loader run directly (ET_DYN without PT_INTERP): where mmap puts its
 * image; the heap starts at ELF_ET_DYN_BASE (host: ld.so at 7ffff7fca000,
 * start_brk 555555555000). */
static void test_loader_run_directly(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf ld = eb_loader();
    eb_install(e->root, "ld.so", &ld);
    char *const argv[] = {"./ld.so", NULL};
    assert_int_equal(vms_execve(e->t, "./ld.so", argv, NULL), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(i.load_bias, MMAP_BASE - 0x3000);
    assert_int_equal(i.at_base, 0);
    assert_int_equal(i.entry, MMAP_BASE - 0x3000 + 0x1100);
    assert_int_equal(i.start_brk, 0x555555555000ULL);
    assert_int_equal(i.vdso, MMAP_BASE - 0x3000 - 0x2000);
    /* argc 1, argv[0], NULL, no environment: NULL */
    uint64_t w[4];
    vms_load(e->t, i.sp, w, sizeof(w));
    assert_int_equal(w[0], 1);
    assert_int_equal(w[1], i.arg_start);
    assert_int_equal(w[2], 0);
    assert_int_equal(w[3], 0);
    assert_int_equal(i.env_start, i.env_end);
    tu_assert_clean(e->m);
}

/* An empty argv gets "" as argv[0] (Linux 5.18+). */
static void test_empty_argv(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    assert_int_equal(vms_execve(e->t, "./exec", NULL, NULL), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(i.arg_start, TOP - 8 - 7 - 1);
    assert_int_equal(i.arg_end, i.arg_start + 1);
    uint64_t w[2];
    vms_load(e->t, i.sp, w, sizeof(w));
    assert_int_equal(w[0], 1);
    assert_int_equal(w[1], i.arg_start);
    assert_int_equal(tu_load_byte(e->t, i.arg_start), 0);
    tu_assert_clean(e->m);
}

/* The old address space goes, and with it the other threads; O_CLOEXEC
 * descriptors close, others stay. */
static void test_exec_replaces_mm(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    vms_addr a = tu_mmap(e->t, 0x10000000, 0x3000, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    tu_store_byte(e->t, a, 1);
    vms_clone_thread(e->t);
    vms_clone_thread(e->t);
    int keep = vms_open(e->t, "exec", O_RDONLY, 0);
    int gone = vms_open(e->t, "exec", O_RDONLY | O_CLOEXEC, 0);
    assert_true(keep >= 0 && gone >= 0);
    assert_int_equal(vms_execve(e->t, "./exec", ARGV, ENVP), 0);
    uint8_t b;
    assert_int_equal(vms_load(e->t, a, &b, 1), SIGSEGV);
    struct stat st;
    assert_int_equal(vms_fstat(e->t, keep, &st), 0);
    assert_int_equal(vms_fstat(e->t, gone, &st), -EBADF);
    tu_assert_clean(e->m);
}

/* A second exec in the same task: the first program is gone. */
static void test_exec_twice(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    struct eb_elf ld = eb_loader();
    eb_install(e->root, "ld.so", &ld);
    assert_int_equal(vms_execve(e->t, "./exec", ARGV, ENVP), 0);
    char *const argv[] = {"./ld.so", NULL};
    assert_int_equal(vms_execve(e->t, "./ld.so", argv, NULL), 0);
    uint8_t b;
    assert_int_equal(vms_load(e->t, 0x400000, &b, 1), SIGSEGV);
    vms_task *c = vms_fork(e->t);
    assert_non_null(c);
    char *a = tu_maps(e->t), *bm = tu_maps(c);
    assert_string_equal(a, bm); /* fork keeps the names: [stack], [vdso], ... */
    free(a);
    free(bm);
    vms_exit(c);
    tu_assert_clean(e->m);
}

/* ---- errors before the point of no return: the old mm stays ---- */

static void assert_exec_fails(struct ex_env *e, const char *path, int err)
{
    vms_addr a = tu_anon(e->t, 0x1000, PROT_READ | PROT_WRITE);
    tu_store_byte(e->t, a, 7);
    assert_int_equal(vms_execve(e->t, path, ARGV, ENVP), err);
    assert_int_equal(tu_load_byte(e->t, a), 7);
    assert_int_equal(vms_last_fault(e->t)->signo, 0);
    vms_munmap(e->t, a, 0x1000);
    tu_assert_clean(e->m);
}

static void install_variant(struct ex_env *e, const char *name, struct eb_elf *p, unsigned mode)
{
    char path[600];
    eb_write(tu_join(path, sizeof(path), e->root, name), p, mode);
}

static void test_errno_open(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    assert_exec_fails(e, "./nothere", -ENOENT);
    assert_exec_fails(e, "", -ENOENT);
    install_variant(e, "noexec", &p, 0644);
    assert_exec_fails(e, "./noexec", -EACCES);
    char path[600];
    assert_int_equal(mkdir(tu_join(path, sizeof(path), e->root, "dir"), 0755), 0);
    assert_exec_fails(e, "./dir", -EACCES);
    assert_int_equal(symlink("loop2", tu_join(path, sizeof(path), e->root, "loop1")), 0);
    assert_int_equal(symlink("loop1", tu_join(path, sizeof(path), e->root, "loop2")), 0);
    assert_exec_fails(e, "./loop1", -ELOOP);
    char longpath[PATH_MAX + 8];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    assert_exec_fails(e, longpath, -ENAMETOOLONG);
    install_variant(e, "prog", &p, 0755);
    assert_exec_fails(e, "./prog/x", -ENOTDIR);
    assert_exec_fails(e, "/etc/passwd", -EXDEV); /* outside the machine's root */
    assert_int_equal(vms_execve(e->t, NULL, ARGV, ENVP), -EFAULT);
}

/* Headers Linux refuses with ENOEXEC (each host-checked with the same file). */
static void test_errno_noexec(void **state)
{
    struct ex_env *e = *state;
    char path[600];
    tu_host_write(tu_join(path, sizeof(path), e->root, "text"), "hello\n", 6);
    chmod(path, 0755);
    assert_exec_fails(e, "./text", -ENOEXEC);
    tu_host_write(tu_join(path, sizeof(path), e->root, "tiny"), "\x7f" "ELF\x02\x01\x01", 7);
    chmod(path, 0755);
    assert_exec_fails(e, "./tiny", -ENOEXEC); /* the rest of the header reads as zeros */
    struct eb_elf p = eb_program(0x400000, 0);
    p.machine = EM_386;
    install_variant(e, "i386", &p, 0755);
    assert_exec_fails(e, "./i386", -ENOEXEC);
    p = eb_program(0x400000, 0);
    p.type = ET_REL;
    install_variant(e, "rel", &p, 0755);
    assert_exec_fails(e, "./rel", -ENOEXEC);
    p = eb_program(0x400000, 0);
    p.phentsize = 32;
    install_variant(e, "phent", &p, 0755);
    assert_exec_fails(e, "./phent", -ENOEXEC);
    p = eb_program(0x400000, 0);
    p.no_phdrs = 1;
    install_variant(e, "phnum0", &p, 0755);
    assert_exec_fails(e, "./phnum0", -ENOEXEC);
    p = eb_program(0x400000, 0);
    p.phnum = 0xffff; /* 3.5 MiB of headers: more than 64 KiB */
    install_variant(e, "phnumhuge", &p, 0755);
    assert_exec_fails(e, "./phnumhuge", -ENOEXEC);
    p = eb_program(0x400000, 0);
    p.phoff = 0x3fd0; /* the table runs past the end of the file */
    install_variant(e, "phtrunc", &p, 0755);
    assert_exec_fails(e, "./phtrunc", -ENOEXEC);
    p = eb_program(0, 1);
    p.interp = ""; /* PT_INTERP of 1 byte */
    install_variant(e, "interp1", &p, 0755);
    assert_exec_fails(e, "./interp1", -ENOEXEC);
}

/* The loader's errors: open's (ENOENT, EACCES), ELIBBAD for a file that is
 * not an x86-64 ELF, EIO when it is shorter than a header. */
static void test_errno_interp(void **state)
{
    struct ex_env *e = *state;
    char path[600];
    struct eb_elf p = eb_program(0, 1);
    p.interp = "/missing";
    install_variant(e, "p1", &p, 0755);
    assert_exec_fails(e, "./p1", -ENOENT);
    struct eb_elf ld = eb_loader();
    install_variant(e, "ld_noexec", &ld, 0644);
    p.interp = "/ld_noexec";
    install_variant(e, "p2", &p, 0755);
    assert_exec_fails(e, "./p2", -EACCES);
    char text[300];
    memset(text, 'x', sizeof(text));
    tu_host_write(tu_join(path, sizeof(path), e->root, "bigtext"), text, sizeof(text));
    chmod(path, 0755);
    p.interp = "/bigtext";
    install_variant(e, "p3", &p, 0755);
    assert_exec_fails(e, "./p3", -ELIBBAD);
    tu_host_write(tu_join(path, sizeof(path), e->root, "short"), text, 6);
    chmod(path, 0755);
    p.interp = "/short";
    install_variant(e, "p4", &p, 0755);
    assert_exec_fails(e, "./p4", -EIO);
    ld.machine = EM_386;
    install_variant(e, "ld386", &ld, 0755);
    p.interp = "/ld386";
    install_variant(e, "p5", &p, 0755);
    assert_exec_fails(e, "./p5", -ELIBBAD);
    ld = eb_loader();
    ld.no_phdrs = 1; /* a loader without program headers */
    install_variant(e, "ld_nophdr", &ld, 0755);
    p.interp = "/ld_nophdr";
    install_variant(e, "p7", &p, 0755);
    assert_exec_fails(e, "./p7", -ELIBBAD);
    /* a PT_INTERP whose bytes lie past the end of the file */
    p = eb_program(0, 1);
    p.interp = "/ld.so";
    p.file_size = 0x301;
    p.nseg = 0;
    install_variant(e, "p6", &p, 0755);
    assert_exec_fails(e, "./p6", -EIO);
}

/* E2BIG: a string over 32 pages (its NUL included), or all of them over a
 * quarter of the stack rlimit (at least 32 pages). */
static void test_errno_e2big(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    char *big = malloc(0x20001);
    memset(big, 'a', 0x20000);
    big[0x20000] = 0;
    char *const argv1[] = {"/prog", big, NULL};
    assert_int_equal(vms_execve(e->t, "./exec", argv1, NULL), -E2BIG);
    big[0x1ffff] = 0; /* 0x20000 bytes with its NUL: allowed */
    assert_int_equal(vms_execve(e->t, "./exec", argv1, NULL), 0);
    vms_machine *m = ex_machine(e->root, 1ULL << 20); /* limit 256 KiB */
    vms_task *t = tu_spawn(m);
    char *const argv2[] = {"/prog", big, NULL};
    assert_int_equal(vms_execve(t, "./exec", argv2, NULL), 0);
    char *const argv3[] = {"/prog", big, NULL};
    char *const envp3[] = {big, NULL};
    assert_int_equal(vms_execve(t, "./exec", argv3, envp3), -E2BIG);
    free(big);
    tu_assert_clean(m);
    vms_machine_destroy(m);
    tu_assert_clean(e->m);
}

/* Strings larger than 128 KiB: the stack holds them and 128 KiB more. */
static void test_big_arguments_stack(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    char *big = malloc(0x1ffff);
    memset(big, 'b', 0x1fffe);
    big[0x1fffe] = 0;
    char *const argv[] = {big, big, NULL};
    assert_int_equal(vms_execve(e->t, "./exec", argv, NULL), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(i.arg_start, TOP - 8 - 7 - 2 * 0x1ffff);
    uint64_t low = i.arg_start & ~0xfffULL;
    char *text = tu_maps(e->t);
    char line[256];
    anon_line(line, sizeof(line), low - 0x20000, TOP, "rw-p", "[stack]");
    assert_non_null(strstr(text, line));
    free(text);
    free(big);
    tu_assert_clean(e->m);
}

/* ---- errors after the point of no return: Linux kills the process ---- */

static void assert_exec_kills(struct ex_env *e, const char *path, int err)
{
    vms_task *t = tu_spawn(e->m);
    assert_int_equal(vms_execve(t, path, ARGV, ENVP), err);
    assert_int_equal(vms_last_fault(t)->signo, SIGSEGV);
    assert_int_equal(vms_last_fault(t)->code, SI_KERNEL);
    tu_assert_clean(e->m);
    vms_exit(t);
    tu_assert_clean(e->m);
}

static void test_malformed_segments(void **state)
{
    struct ex_env *e = *state;
    /* p_offset and p_vaddr disagree within the page: the mmap offset is not
     * page-aligned (host: killed with the first segment mapped) */
    struct eb_elf p = eb_program(0x400000, 0);
    p.seg[3].offset = 0x2e00;
    install_variant(e, "misalign", &p, 0755);
    assert_exec_kills(e, "./misalign", -EINVAL);
    /* a bss of 2^50 bytes: vm_brk cannot place it (host: killed) */
    p = eb_program(0x400000, 0);
    p.seg[3].memsz = 1ULL << 50;
    install_variant(e, "hugemem", &p, 0755);
    assert_exec_kills(e, "./hugemem", -ENOMEM);
    /* p_filesz above p_memsz */
    p = eb_program(0x400000, 0);
    p.seg[2].filesz = 0x900;
    install_variant(e, "filesz", &p, 0755);
    assert_exec_kills(e, "./filesz", -EINVAL);
    /* writable data past the end of the file whose last page must be
     * zeroed: the zeroing faults (SIGBUS in the kernel): EFAULT */
    p = eb_program(0x400000, 0);
    p.seg[3].filesz = 0x9010;
    p.seg[3].memsz = 0xa000;
    install_variant(e, "pastend", &p, 0755);
    assert_exec_kills(e, "./pastend", -EFAULT);
    /* a PIE with no PT_LOAD but with a loader: nothing to reserve */
    struct eb_elf ld = eb_loader();
    ld.nseg = 1;
    ld.seg[0] = (struct eb_seg){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16};
    install_variant(e, "ld_empty", &ld, 0755);
    p = eb_program(0, 1);
    p.interp = "/ld_empty";
    install_variant(e, "pie_empty_ld", &p, 0755);
    assert_exec_kills(e, "./pie_empty_ld", -EINVAL);
    /* at address 0 for an unprivileged task: EPERM */
    p = eb_program(0, 0);
    install_variant(e, "at0", &p, 0755);
    assert_exec_kills(e, "./at0", -EPERM);
}

/* Malformed but loadable, as on the host: overlapping segments (the later
 * one wins), a read-only segment past the end of the file (its tail is left
 * alone; a fault there would be SIGBUS), a PIE without PT_LOAD. */
static void test_malformed_but_runs(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    p.nseg = 2;
    p.seg[0] = (struct eb_seg){PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x2000, 0x2000, 0x1000};
    p.seg[1] = (struct eb_seg){PT_LOAD, PF_R | PF_W, 0x1000, 0x401000, 0x100, 0x100, 0x1000};
    install_variant(e, "overlap", &p, 0755);
    assert_int_equal(vms_execve(e->t, "./overlap", ARGV, ENVP), 0);
    char *text = tu_maps(e->t);
    char line[256];
    tu_file_maps_line(line, sizeof(line), 0x400000, 0x401000, "r-xp", 0, 1001, "/overlap");
    assert_non_null(strstr(text, line));
    tu_file_maps_line(line, sizeof(line), 0x401000, 0x402000, "rw-p", 0x1000, 1001, "/overlap");
    assert_non_null(strstr(text, line));
    free(text);
    p = eb_program(0x400000, 0);
    p.nseg = 2;
    p.file_size = 0x2000;
    p.seg[0] = (struct eb_seg){PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1000, 0x1000, 0x1000};
    p.seg[1] = (struct eb_seg){PT_LOAD, PF_R, 0x1000, 0x401000, 0x9010, 0xa000, 0x1000};
    install_variant(e, "pastend_ro", &p, 0755);
    assert_int_equal(vms_execve(e->t, "./pastend_ro", ARGV, ENVP), 0);
    uint8_t b;
    assert_int_equal(vms_load(e->t, 0x405000, &b, 1), SIGBUS);
    p = eb_program(0, 1);
    p.nseg = 1;
    p.seg[0] = (struct eb_seg){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16};
    install_variant(e, "noload", &p, 0755);
    assert_int_equal(vms_execve(e->t, "./noload", ARGV, ENVP), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    assert_int_equal(i.entry, 0x1000);
    tu_assert_clean(e->m);
}

/* PT_GNU_STACK with PF_X makes the stack executable. */
static void test_executable_stack(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    p.seg[4].flags = PF_R | PF_W | PF_X;
    eb_install(e->root, "xstack", &p);
    assert_int_equal(vms_execve(e->t, "./xstack", ARGV, ENVP), 0);
    char *text = tu_maps(e->t);
    char line[256];
    anon_line(line, sizeof(line), TOP - 0x21000, TOP, "rwxp", "[stack]");
    assert_non_null(strstr(text, line));
    free(text);
    tu_assert_clean(e->m);
}

/* The headers are read as read() reads: the first read of a file opens a
 * 4-page window (host: a 1668-page program copied and dropped from the
 * cache has pages 0-3 cached after its exec, plus the read-around of its
 * bss page's fault). */
static void test_header_readahead(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    p.file_size = 0x40000;
    p.seg[3].memsz = p.seg[3].filesz; /* no bss: no page-tail zeroing */
    eb_install(e->root, "big", &p);
    char *const argv[] = {"./big", NULL};
    assert_int_equal(vms_execve(e->t, "./big", argv, NULL), 0);
    int fd = vms_open(e->t, "big", O_RDONLY, 0);
    int64_t a = vms_mmap(e->t, 0, 0x40000, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(a > 0);
    unsigned char vec[64];
    assert_int_equal(vms_mincore(e->t, (vms_addr)a, 0x40000, vec), 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(vec[i] & 1, i < 4);
    tu_assert_clean(e->m);
}

/* The vDSO's mappings behave as Linux's special mappings (host, from a
 * program's own [vdso] and [vvar]): no split (EINVAL), no growth (EFAULT),
 * [vvar] takes no MADV_DONTNEED, DODUMP or DOFORK and never becomes
 * writable; [vdso] may, and may move, its name with it. */
static void test_special_mappings(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    assert_int_equal(vms_execve(e->t, "./exec", ARGV, ENVP), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    vms_addr v = i.vdso, vv = v - 0x6000;
    assert_int_equal(vms_mremap(e->t, v, 0x2000, 0x3000, MREMAP_MAYMOVE, 0), -EFAULT);
    assert_int_equal(vms_mremap(e->t, vv, 0x4000, 0x2000, 0, 0), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, vv, 0x1000, PROT_NONE), -EINVAL);
    assert_int_equal(vms_mprotect(e->t, vv, 0x1000, PROT_READ), 0); /* nothing to change */
    assert_int_equal(vms_mprotect(e->t, vv, 0x4000, PROT_READ | PROT_WRITE), -EACCES);
    assert_int_equal(vms_madvise(e->t, vv, 0x4000, MADV_DONTNEED), -EINVAL);
    assert_int_equal(vms_madvise(e->t, vv, 0x4000, MADV_DODUMP), -EINVAL);
    assert_int_equal(vms_madvise(e->t, vv, 0x4000, MADV_DOFORK), -EINVAL);
    assert_int_equal(vms_madvise(e->t, v, 0x2000, MADV_DONTNEED), 0);
    assert_int_equal(vms_munmap(e->t, v + 0x1000, 0x1000), -EINVAL);
    assert_int_equal(vms_munmap(e->t, vv + 0x1000, 0x1000), -EINVAL);
    /* the image starts with an ELF header */
    uint8_t magic[4];
    assert_int_equal(vms_load(e->t, v, magic, 4), 0);
    assert_memory_equal(magic, "\x7f" "ELF", 4);
    assert_int_equal(vms_mprotect(e->t, v, 0x2000, PROT_READ | PROT_WRITE), 0);
    assert_int_equal(vms_mremap(e->t, v, 0x2000, 0x2000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x10000000),
                     0x10000000);
    assert_int_equal(vms_munmap(e->t, vv, 0x4000), 0);
    char *text = tu_maps(e->t);
    char line[256];
    anon_line(line, sizeof(line), 0x10000000, 0x10002000, "rw-p", "[vdso]");
    assert_non_null(strstr(text, line));
    assert_null(strstr(text, "[vvar]"));
    free(text);
    tu_assert_clean(e->m);
}

/* With ASLR (config.aslr_seed not 0) a PIE's base, the stack top, the heap
 * and mmap_base move within Linux's ranges, the same for the same seed. */
static void test_aslr(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf ld = eb_loader();
    eb_install(e->root, "ld.so", &ld);
    struct eb_elf p = eb_program(0, 1);
    p.interp = "/ld.so";
    eb_install(e->root, "pie", &p);
    char *const argv[] = {"./pie", NULL};
    struct vms_exec_info info[3];
    char *maps[3];
    for (int k = 0; k < 3; k++) {
        struct vms_config c = tu_config(64ULL << 20);
        c.root = e->root;
        c.aslr_seed = k < 2 ? 42 : 43;
        vms_machine *m = tu_machine_with(&c);
        vms_task *t = tu_spawn(m);
        assert_int_equal(vms_execve(t, "./pie", argv, NULL), 0);
        vms_task_exec_info(t, &info[k]);
        maps[k] = tu_maps(t);
        tu_assert_clean(m);
        vms_machine_destroy(m);
    }
    assert_string_equal(maps[0], maps[1]);
    assert_string_not_equal(maps[0], maps[2]);
    for (int k = 0; k < 3; k++) {
        const struct vms_exec_info *i = &info[k];
        /* arch_mmap_rnd: 28 bits of pages above ELF_ET_DYN_BASE */
        assert_true(i->load_bias >= PIE_BASE && i->load_bias < PIE_BASE + (1ULL << 40));
        assert_int_equal(i->load_bias & 0xfff, 0);
        /* the stack top: up to 16 GiB lower, then up to 8 KiB (16-aligned) */
        assert_true(i->arg_start < TOP && i->arg_start > TOP - (16ULL << 30) - 0x4000);
        /* brk: a page and up to 32 MiB after the bss */
        uint64_t bss_end = i->load_bias + 0x7000;
        assert_true(i->start_brk >= bss_end + 0x1000 && i->start_brk < bss_end + 0x1000 + (32ULL << 20));
        assert_true(i->mmap_base < TOP - (128ULL << 20));
        free(maps[k]);
    }
}

/* ---- "#!" scripts (host-checked with the same lines and /bin/sh) ---- */

static void write_script(struct ex_env *e, const char *name, const char *text, size_t len)
{
    char path[600];
    tu_host_write(tu_join(path, sizeof(path), e->root, name), text, len);
    assert_int_equal(chmod(path, 0755), 0);
}

/* argv[0] gives way to the interpreter, its one argument (inner spaces
 * kept, trailing blanks cut) and the script's path; the bytes of a longer
 * old argv[0] stay below the new strings. */
static void test_script(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    static const char line[] = "#! /exec   -x  y \t \n";
    write_script(e, "s", line, sizeof(line) - 1);
    char *const argv[] = {"a-very-long-argv0", "a", NULL};
    assert_int_equal(vms_execve(e->t, "./s", argv, ENVP), 0);
    struct vms_exec_info i;
    vms_task_exec_info(e->t, &i);
    static const char strings[] = "/exec\0-x  y\0./s\0a\0HOME=/root\0A=b\0./s\0\0\0\0\0\0\0\0\0";
    uint64_t len = sizeof(strings) - 1;
    assert_int_equal(i.arg_start, TOP - len);
    char got[sizeof(strings)];
    vms_load(e->t, i.arg_start, got, len);
    assert_memory_equal(got, strings, len);
    uint64_t w[6];
    vms_load(e->t, i.sp, w, sizeof(w));
    assert_int_equal(w[0], 4);
    assert_int_equal(w[1], i.arg_start);
    assert_int_equal(w[2], i.arg_start + 6);
    assert_int_equal(w[3], i.arg_start + 12);
    assert_int_equal(w[4], i.arg_start + 16);
    assert_int_equal(w[5], 0);
    assert_int_equal(i.at_execfn, TOP - 8 - 4);
    /* "a-very-long-argv0" took 18 bytes where the new argv[0..2] take 16:
     * its first 2 bytes are still there, unless the platform string took them */
    uint64_t stale = i.arg_start - 2, plat_end = i.arg_start & ~0xfULL;
    for (uint64_t a = stale > plat_end ? stale : plat_end; a < i.arg_start; a++)
        assert_int_equal(tu_load_byte(e->t, a), "a-"[a - stale]);
    char want[256];
    tu_file_maps_line(want, sizeof(want), 0x400000, 0x401000, "r--p", 0, 1002, "/exec");
    char *text = tu_maps(e->t);
    assert_non_null(strstr(text, want));
    free(text);
    tu_assert_clean(e->m);
}

/* A script may name a script, 5 deep at most (ELOOP past it). */
static void test_script_chain(void **state)
{
    struct ex_env *e = *state;
    struct eb_elf p = eb_program(0x400000, 0);
    eb_install(e->root, "exec", &p);
    write_script(e, "c6", "#!/exec\n", 8);
    char name[8], line[32];
    for (int k = 5; k >= 0; k--) {
        snprintf(name, sizeof(name), "c%d", k);
        int n = snprintf(line, sizeof(line), "#!/c%d\n", k + 1);
        write_script(e, name, line, (size_t)n);
    }
    assert_int_equal(vms_execve(e->t, "./c2", ARGV, ENVP), 0);
    assert_int_equal(vms_execve(e->t, "./c1", ARGV, ENVP), -ELOOP);
    assert_int_equal(vms_last_fault(e->t)->signo, 0);
    /* the chain's last interpreter is the program; argv: /c6 /c5 ... ./c2 */
    tu_assert_clean(e->m);
}

static void test_script_errors(void **state)
{
    struct ex_env *e = *state;
    write_script(e, "bare", "#!\n", 3);
    assert_exec_fails(e, "./bare", -ENOEXEC);
    write_script(e, "blank", "#!   \n", 6);
    assert_exec_fails(e, "./blank", -ENOEXEC);
    char cut[300];
    memset(cut, 'a', sizeof(cut));
    memcpy(cut, "#!/", 3);
    write_script(e, "cut", cut, sizeof(cut)); /* a name the 256 bytes cut short */
    assert_exec_fails(e, "./cut", -ENOEXEC);
    write_script(e, "missing", "#!/nothere\n", 11);
    assert_exec_fails(e, "./missing", -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_static_program_maps, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_bss_tail_zeroed, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_stack_layout, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_pie_with_loader, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_loader_run_directly, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_large_alignment, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_empty_argv, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_exec_replaces_mm, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_exec_twice, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_errno_open, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_errno_noexec, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_errno_interp, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_errno_e2big, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_big_arguments_stack, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_segments, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_but_runs, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_executable_stack, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_header_readahead, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_special_mappings, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_aslr, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_script, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_script_chain, ex_setup, ex_teardown),
        cmocka_unit_test_setup_teardown(test_script_errors, ex_setup, ex_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
