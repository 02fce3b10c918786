/*
 * test_follow.c - the parts of `vmsim follow` that need no program: the
 * decoder of system calls (what the follower repeats, how a call prints,
 * how it reads as a scenario line that the tester's parser accepts) and the
 * maps normaliser; the tracer's look at a sleeping thread and its wait
 * with a time limit. The follower itself runs real programs in ctest
 * (follow_* entries).
 *
 * The calls below are the ones the host's loader made for /usr/bin/true on
 * Linux 6.18 (traced; written here as registers).
 */
#include "follow.h"
#include "ops.h"
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static struct fl_call *call(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                            uint64_t a4, uint64_t a5)
{
    static struct fl_call c;
    memset(&c, 0, sizeof(c));
    c.nr = nr;
    uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
    memcpy(c.arg, a, sizeof(a));
    return &c;
}

static void classify(void **state)
{
    (void)state;
    assert_int_equal(fl_classify(call(SYS_mmap, 0, 0x2000, 3, 0x22, -1, 0)), FL_MM);
    assert_int_equal(fl_classify(call(SYS_brk, 0, 0, 0, 0, 0, 0)), FL_MM);
    assert_int_equal(fl_classify(call(SYS_mincore, 0, 0, 0, 0, 0, 0)), FL_MM);
    assert_int_equal(fl_classify(call(SYS_mlock, 0, 0, 0, 0, 0, 0)), FL_MM_UNMODELLED);
    assert_int_equal(fl_classify(call(SYS_prctl, 0x53564d41, 0, 0, 0, 0, 0)), FL_MM_UNMODELLED);
    assert_int_equal(fl_classify(call(SYS_prctl, 41, 1, 0, 0, 0, 0)), FL_OTHER);
    assert_int_equal(fl_classify(call(SYS_openat, (uint64_t)AT_FDCWD, 0, 0, 0, 0, 0)), FL_OPEN);
    assert_int_equal(fl_classify(call(SYS_close, 3, 0, 0, 0, 0, 0)), FL_CLOSE);
    assert_int_equal(fl_classify(call(SYS_fcntl, 3, F_DUPFD_CLOEXEC, 10, 0, 0, 0)), FL_DUP);
    assert_int_equal(fl_classify(call(SYS_fcntl, 3, F_GETFL, 0, 0, 0, 0)), FL_OTHER);
    assert_int_equal(fl_classify(call(SYS_pipe2, 0, 0, 0, 0, 0, 0)), FL_NEW_FD);
    assert_int_equal(fl_new_fds_in_memory(SYS_pipe2), 2);
    assert_int_equal(fl_new_fds_in_memory(SYS_socket), 0);
    assert_int_equal(fl_classify(call(SYS_execve, 0, 0, 0, 0, 0, 0)), FL_EXEC);
    assert_int_equal(fl_classify(call(SYS_exit_group, 0, 0, 0, 0, 0, 0)), FL_EXIT);
    assert_int_equal(fl_classify(call(SYS_read, 0, 0, 0, 0, 0, 0)), FL_OTHER);
}

static void open_flags_and_paths(void **state)
{
    (void)state;
    struct fl_call *c = call(SYS_openat, (uint64_t)AT_FDCWD, 0x1000, O_RDONLY | O_CLOEXEC, 0, 0, 0);
    assert_int_equal(fl_path_arg(c->nr), 1);
    assert_int_equal(fl_open_flags(c), O_RDONLY | O_CLOEXEC);
    c = call(SYS_open, 0x1000, O_WRONLY | O_CREAT, 0644, 0, 0, 0);
    assert_int_equal(fl_path_arg(c->nr), 0);
    assert_int_equal(fl_open_flags(c), O_WRONLY | O_CREAT);
    c = call(SYS_creat, 0x1000, 0644, 0, 0, 0, 0);
    assert_int_equal(fl_open_flags(c), O_WRONLY | O_CREAT | O_TRUNC);
    c = call(SYS_openat2, 3, 0x1000, 0x2000, 24, 0, 0);
    c->mem_flags = O_RDWR;
    assert_int_equal(fl_open_flags(c), O_RDWR);
}

static void clone_kinds(void **state)
{
    (void)state;
    /* glibc's pthread_create: clone3 with CLONE_VM|CLONE_THREAD|... in memory. */
    struct fl_call *c = call(SYS_clone3, 0x7fffffffd000, 88, 0, 0, 0, 0);
    c->mem_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    assert_true(fl_clone_shares_vm(c));
    assert_true(fl_clone_is_thread(c));
    /* fork(): glibc's clone with SIGCHLD and the tid flags. */
    c = call(SYS_clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, 0, 0, 0, 0);
    assert_false(fl_clone_shares_vm(c));
    assert_false(fl_clone_is_thread(c));
    c = call(SYS_vfork, 0, 0, 0, 0, 0, 0);
    assert_true(fl_clone_shares_vm(c));
    assert_false(fl_clone_is_thread(c));
}

static void format_calls(void **state)
{
    (void)state;
    char buf[512];
    fl_format_call(call(SYS_mmap, 0, 0x1e1f50, PROT_READ, MAP_PRIVATE | MAP_DENYWRITE, 3, 0), buf,
                   sizeof(buf));
    assert_string_equal(buf, "mmap(NULL, 0x1e1f50, READ, PRIVATE|DENYWRITE, 3, 0x0)");
    fl_format_call(call(SYS_mmap, 0x7ffff7fa8000, 0xcf50, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, (uint64_t)-1, 0),
                   buf, sizeof(buf));
    assert_string_equal(buf, "mmap(0x7ffff7fa8000, 0xcf50, READ|WRITE, PRIVATE|FIXED|ANONYMOUS, -1, 0x0)");
    fl_format_call(call(SYS_mprotect, 0x7ffff7fa2000, 0x4000, PROT_READ, 0, 0, 0), buf, sizeof(buf));
    assert_string_equal(buf, "mprotect(0x7ffff7fa2000, 0x4000, READ)");
    fl_format_call(call(SYS_madvise, 0x7ffff7d50000, 0x22000, MADV_DONTNEED, 0, 0, 0), buf, sizeof(buf));
    assert_string_equal(buf, "madvise(0x7ffff7d50000, 0x22000, DONTNEED)");
    fl_format_call(call(SYS_brk, 0, 0, 0, 0, 0, 0), buf, sizeof(buf));
    assert_string_equal(buf, "brk(NULL)");
    fl_format_call(call(SYS_mremap, 0x1000, 0x1000, 0x2000, MREMAP_MAYMOVE, 0, 0), buf, sizeof(buf));
    assert_string_equal(buf, "mremap(0x1000, 0x1000, 0x2000, MAYMOVE)");
    struct fl_call *c = call(SYS_openat, (uint64_t)AT_FDCWD, 0x1000, O_RDONLY | O_CLOEXEC, 0, 0, 0);
    snprintf(c->path, sizeof(c->path), "/etc/ld.so.cache");
    fl_format_call(c, buf, sizeof(buf));
    assert_string_equal(buf, "openat(AT_FDCWD, \"/etc/ld.so.cache\", RDONLY|CLOEXEC)");
    snprintf(c->path, sizeof(c->path), "a \"b\"\n");
    fl_format_call(c, buf, sizeof(buf));
    assert_string_equal(buf, "openat(AT_FDCWD, \"a \\\"b\\\"\\x0a\", RDONLY|CLOEXEC)");
}

static void format_results(void **state)
{
    (void)state;
    char buf[64];
    struct fl_call *c = call(SYS_mmap, 0, 0x2000, 3, 0x22, -1, 0);
    fl_format_ret(c, 0x7ffff7fc0000, buf, sizeof(buf));
    assert_string_equal(buf, "0x7ffff7fc0000");
    fl_format_ret(c, -ENOMEM, buf, sizeof(buf));
    assert_string_equal(buf, "-ENOMEM");
    c = call(SYS_openat, 0, 0, 0, 0, 0, 0);
    fl_format_ret(c, 3, buf, sizeof(buf));
    assert_string_equal(buf, "3");
    c = call(SYS_brk, 0, 0, 0, 0, 0, 0);
    fl_format_ret(c, 0x55555555e000, buf, sizeof(buf));
    assert_string_equal(buf, "0x55555555e000");
}

/* A line the tester's parser reads back into the same operation. */
static struct dt_op parse(const char *line)
{
    struct dt_op op;
    char err[128] = "";
    if (dt_parse_op(line, &op, err, sizeof(err)))
        fail_msg("'%s' does not parse: %s", line, err);
    return op;
}

static void scenario_lines_parse(void **state)
{
    (void)state;
    char line[256];
    /* The host's descriptor 5 is vmsim's 3: the line names vmsim's. */
    fl_format_scenario(call(SYS_mmap, 0x7ffff7df9000, 0x156000, PROT_READ | PROT_EXEC,
                            MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 5, 0x26000),
                       3, line, sizeof(line));
    assert_string_equal(line, "mmap 0x7ffff7df9000 0x156000 READ|EXEC PRIVATE|FIXED|DENYWRITE 3 0x26000");
    struct dt_op op = parse(line);
    assert_int_equal(op.kind, DT_MMAP);
    assert_true(op.abs);
    assert_int_equal(op.addr, 0x7ffff7df9000);
    assert_int_equal(op.len, 0x156000);
    assert_int_equal(op.prot, PROT_READ | PROT_EXEC);
    assert_int_equal(op.flags, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE);
    assert_int_equal(op.fd, 3);
    assert_int_equal(op.off, 0x26000);

    fl_format_scenario(call(SYS_mmap, 0, 0x3000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                            (uint64_t)-1, 0), 7, line, sizeof(line));
    op = parse(line);
    assert_int_equal(op.fd, -1); /* anonymous: the program's fd, not a mapped one */
    assert_int_equal(op.prot, PROT_NONE);

    fl_format_scenario(call(SYS_munmap, 0x7ffff7fb5000, 0xa3b7, 0, 0, 0, 0), -1, line, sizeof(line));
    op = parse(line);
    assert_int_equal(op.kind, DT_MUNMAP);
    assert_int_equal(op.len, 0xa3b7);
    fl_format_scenario(call(SYS_mprotect, 0x55555555c000, 0x1000, PROT_READ, 0, 0, 0), -1, line,
                       sizeof(line));
    assert_int_equal(parse(line).kind, DT_MPROTECT);
    fl_format_scenario(call(SYS_mremap, 0x1000, 0x1000, 0x2000, MREMAP_MAYMOVE | MREMAP_FIXED,
                            0x9000, 0), -1, line, sizeof(line));
    op = parse(line);
    assert_int_equal(op.kind, DT_MREMAP);
    assert_int_equal(op.addr2, 0x9000);
    assert_int_equal(op.flags, MREMAP_MAYMOVE | MREMAP_FIXED);
    fl_format_scenario(call(SYS_madvise, 0x1000, 0x1000, MADV_DONTNEED, 0, 0, 0), -1, line, sizeof(line));
    op = parse(line);
    assert_int_equal(op.kind, DT_MADVISE);
    assert_int_equal(op.flags, MADV_DONTNEED);
    fl_format_scenario(call(SYS_msync, 0x1000, 0x1000, MS_SYNC, 0, 0, 0), -1, line, sizeof(line));
    assert_int_equal(parse(line).kind, DT_MSYNC);
    fl_format_scenario(call(SYS_mincore, 0x1000, 0x1000, 0x5000, 0, 0, 0), -1, line, sizeof(line));
    assert_int_equal(parse(line).kind, DT_MINCORE);
    fl_format_scenario(call(SYS_close, 5, 0, 0, 0, 0, 0), 3, line, sizeof(line));
    op = parse(line);
    assert_int_equal(op.kind, DT_CLOSE);
    assert_int_equal(op.fd, 3);
    fl_format_scenario(call(SYS_read, 0, 0, 0, 0, 0, 0), -1, line, sizeof(line));
    assert_string_equal(line, "");
}

static void scenario_open_and_exec_lines(void **state)
{
    (void)state;
    char line[512];
    fl_format_open_line("/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY | O_CLOEXEC, line, sizeof(line));
    assert_string_equal(line, "open /usr/lib/x86_64-linux-gnu/libc.so.6 RDONLY|0x80000");
    fl_format_open_line("/a b", O_RDONLY | O_DIRECTORY, line, sizeof(line));
    assert_string_equal(line, "open \"/a b\" RDONLY|DIRECTORY");
    char *argv[] = {"ls", "-l", "a b", "", NULL}, *envp[] = {"HOME=/root", "ODD", NULL};
    char *lines = fl_format_exec_lines("/usr/bin/ls", argv, envp);
    assert_non_null(lines);
    /* Values masked, lengths kept: no secret of the environment in a file. */
    assert_string_equal(lines, "arg ls\narg -l\narg \"a b\"\narg \"\"\nenv HOME 5\nenv ODD\nexecve /usr/bin/ls");
    /* Each line reads back as what it stands for. */
    struct dt_op op = parse("arg \"a b\"");
    assert_int_equal(op.kind, DT_ARG);
    assert_string_equal(op.str, "a b");
    op = parse("env HOME 5");
    assert_int_equal(op.kind, DT_ENV);
    assert_string_equal(op.str, "HOME");
    assert_int_equal(op.len, 5);
    assert_int_equal(parse("env ODD").flags, 0);
    assert_string_equal(parse("arg \"\"").str, "");
    assert_string_equal(parse("execve /usr/bin/ls").str, "/usr/bin/ls");
    free(lines);
    /* An argument longer than a line goes on in arg+ lines, each within
     * the line's limit, that join to the argument. */
    char big[2000];
    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = i % 7 == 0 ? '"' : (char)('a' + i % 26);
    big[sizeof(big) - 1] = '\0';
    char *long_argv[] = {big, NULL};
    lines = fl_format_exec_lines("/p", long_argv, NULL);
    assert_non_null(lines);
    char joined[2100] = "";
    int pieces = 0;
    for (char *p = lines, *nl; p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        assert_true(strlen(p) <= DT_MAX_LINE);
        op = parse(p);
        if (op.kind == DT_EXECVE)
            break;
        assert_int_equal(op.kind, pieces++ ? DT_ARG_MORE : DT_ARG);
        strcat(joined, op.str);
    }
    assert_true(pieces > 4);
    assert_string_equal(joined, big);
    free(lines);
}

static const char host_maps[] =
    "555555554000-555555556000 r--p 00000000 fe:00 248139                     /usr/bin/true\n"
    "55555555e000-55555557f000 rw-p 00000000 00:00 0                          [heap]\n"
    "7ffff7fc0000-7ffff7fc2000 rw-p 00000000 00:00 0 \n"
    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";

static const char sim_maps[] =
    "555555554000-555555556000 r--p 00000000 08:01 1001                       /usr/bin/true\n"
    "55555555e000-55555557f000 rw-p 00000000 00:00 0                          [heap]\n"
    "7ffff7fc0000-7ffff7fc2000 rw-p 00000000 00:00 0\n"
    "7ffffffdd000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";

static void maps_normalised_and_diffed(void **state)
{
    (void)state;
    char *h = fl_maps_normalise(host_maps), *v = fl_maps_normalise(sim_maps);
    assert_non_null(h);
    assert_non_null(v);
    /* Device and inode gone from file lines, anonymous ones as they were. */
    assert_non_null(strstr(h, "555555554000-555555556000 r--p 00000000 dev ino"));
    assert_null(strstr(h, "fe:00"));
    assert_null(strstr(v, "08:01"));
    assert_non_null(strstr(v, "7ffff7fc0000-7ffff7fc2000 rw-p 00000000 00:00 0\n"));
    /* Only the stack differs (one line each side), trailing blanks aside. */
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert_int_equal(fl_maps_diff(h, v, f), 1);
    fclose(f);
    assert_non_null(strstr(out, "- kernel  7ffffffde000-7ffffffff000"));
    assert_non_null(strstr(out, "+ vmsim   7ffffffdd000-7ffffffff000"));
    free(out);
    assert_int_equal(fl_maps_diff(h, h, NULL), 0);
    /* A line one side lacks counts once. */
    assert_int_equal(fl_maps_diff(h, "", NULL), 4);
    assert_int_equal(fl_maps_stack_start(host_maps), 0x7ffffffde000);
    assert_int_equal(fl_maps_stack_start("1000-2000 rw-p 00000000 00:00 0\n"), 0);
    free(h);
    free(v);
}

struct reader {
    int fd;
    pid_t tid;
};

static void *read_pipe(void *arg)
{
    struct reader *r = arg;
    __atomic_store_n(&r->tid, gettid(), __ATOMIC_RELEASE);
    char byte;
    return read(r->fd, &byte, 1) == 1 ? NULL : arg;
}

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
}

/* A thread in read() of an empty pipe sleeps (state S) and does not run:
 * its count of context switches stays; the thread that looks runs. */
static void sleeping_thread_seen(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct reader r = {p[0], 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_pipe, &r), 0);
    struct fl_tracee self = {.pid = getpid()};
    unsigned long long before = 0, after = 1;
    int asleep = 0;
    for (int tries = 0; tries < 500 && !asleep; tries++) { /* until it is in read() */
        nap_ms(10);
        pid_t tid = __atomic_load_n(&r.tid, __ATOMIC_ACQUIRE);
        asleep = tid && fl_trace_sleeping(&self, tid, &before) == 1;
    }
    assert_true(asleep);
    nap_ms(50);
    assert_int_equal(fl_trace_sleeping(&self, r.tid, &after), 1);
    assert_true(before == after);
    assert_int_equal(fl_trace_sleeping(&self, gettid(), &after), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    void *result = &r;
    assert_int_equal(pthread_join(t, &result), 0);
    assert_null(result);
    assert_int_equal(fl_trace_sleeping(&self, r.tid, &after), -1); /* gone */
    close(p[0]);
    close(p[1]);
}

/* A traced program asleep in nanosleep: the wait with a time limit comes
 * back at the limit (1), the program seen asleep in its call. */
static void wait_comes_back_at_its_limit(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "10", NULL};
    char err[512];
    struct fl_tracee t;
    if (access("/bin/sleep", X_OK) || fl_trace_start(&t, "/bin/sleep", argv, environ, err, sizeof(err))) {
        fprintf(stderr, "skipped: %s\n", access("/bin/sleep", X_OK) ? "no /bin/sleep" : err);
        skip();
    }
    assert_int_equal(fl_trace_resume(&t, t.pid), 0);
    struct fl_event ev;
    int r = 0;
    /* Each system call's stops until one call sleeps past the limit. */
    for (int calls = 0; calls < 1000 && (r = fl_trace_wait_for(&t, &ev, 200)) == 0; calls++)
        assert_int_equal(fl_trace_resume(&t, ev.tid), 0);
    assert_int_equal(r, 1);
    struct fl_thread *th = fl_trace_thread(&t, t.pid);
    assert_non_null(th);
    assert_true(th->in_syscall);
    assert_true(th->call.nr == SYS_clock_nanosleep || th->call.nr == SYS_nanosleep);
    unsigned long long switches;
    assert_int_equal(fl_trace_sleeping(&t, t.pid, &switches), 1);
    fl_trace_kill(&t);
    assert_true(t.exited);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify),
        cmocka_unit_test(open_flags_and_paths),
        cmocka_unit_test(clone_kinds),
        cmocka_unit_test(format_calls),
        cmocka_unit_test(format_results),
        cmocka_unit_test(scenario_lines_parse),
        cmocka_unit_test(scenario_open_and_exec_lines),
        cmocka_unit_test(maps_normalised_and_diffed),
        cmocka_unit_test(sleeping_thread_seen),
        cmocka_unit_test(wait_comes_back_at_its_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
