/*
 * ops.h - the operations of a differential test and their results.
 *
 * One operation is a plain value (no pointers), so that it can be sent down a
 * pipe to the host child, printed as one line of a scenario and read back.
 * Addresses are relative to the test window unless `abs` is set; results
 * carry addresses the same way.
 *
 * Every operation runs in one process, `proc`: process 0 is the first;
 * `fork` in process P makes the next one (its result is the new process's
 * number) and `exit` ends one. Processes are numbered by creation and never
 * reused; on both sides at most DT_MAX_PROCS are made (the next fork gives
 * EAGAIN, as a process limit would), and an operation in a process that
 * does not exist (any more) gives ESRCH without running.
 */
#ifndef DIFFTEST_OPS_H
#define DIFFTEST_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DT_PAGE UINT64_C(4096)
#define DT_WINDOW_SIZE (UINT64_C(64) << 20)   /* the test window: 64 MiB */
#define DT_GUARD (UINT64_C(2) << 20)          /* free space the host keeps on each side */
#define DT_TASK_SIZE UINT64_C(0x7ffffffff000) /* x86-64, 4-level paging */
#define DT_MAX_LOAD 16                        /* bytes of one load or store */
#define DT_MAX_VEC (DT_WINDOW_SIZE / DT_PAGE + 1) /* mincore vector bytes */
#define DT_MAX_FD 99                          /* operations use fds -1 and 3..99 */
#define DT_VEC_NULL 1                         /* mincore: pass a NULL vector */
#define DT_MAX_PROCS 8                        /* processes in one sequence */
#define DT_MAX_LINE 400                       /* bytes of one scenario line */
#define DT_MAX_TASKS 256                      /* tasks of a recorded scenario (@0..@255) */
#define DT_MAX_ENV_VALUE 131072               /* env: a value's length (MAX_ARG_STRLEN) */

enum dt_kind {
    DT_MMAP,
    DT_MUNMAP,
    DT_MPROTECT,
    DT_MSYNC,
    DT_MINCORE,
    DT_LOAD,
    DT_STORE,
    DT_OPEN,
    DT_CLOSE,
    DT_READ,
    DT_WRITE,
    DT_PREAD,
    DT_PWRITE,
    DT_LSEEK,
    DT_FTRUNCATE,
    DT_FSYNC,
    DT_FSTAT,
    DT_SYNC,
    DT_MREMAP,
    DT_MADVISE,
    DT_FORK,
    DT_EXIT,
    /* Recorded scenarios only (docs/scenarios.md, "Recorded scenarios"):
     * a real program's run as `vmsim follow -o` writes it, replayed on
     * vmsim alone against the kernel's answers the lines carry. */
    DT_SET,      /* set FIELD=VALUE: the recording machine's config */
    DT_ARG,      /* arg STRING: the next execve's next argv string */
    DT_ARG_MORE, /* arg+ STRING: more of the last arg string */
    DT_ENV,      /* env NAME LEN: an environment string, its value masked */
    DT_EXECVE,   /* execve PATH */
    DT_BRK,      /* brk ADDR */
    DT_THREAD,   /* thread: a new task sharing the address space */
    DT_MAPS,     /* maps START-END PERMS OFFSET [NAME]: a line of the maps after the op above */
    DT_NKINDS
};

/* What a recorded line says the kernel answered ("=> ANSWER"). */
enum dt_expect {
    DT_EXPECT_NONE,
    DT_EXPECT_VALUE,  /* a return value: a number, or -ENAME (-errno) */
    DT_EXPECT_OK,     /* "ok": a load or store without a signal */
    DT_EXPECT_SIGNAL, /* "SIGSEGV", "SIGBUS": the access raised this signal */
    DT_EXPECT_TASK,   /* "@N": fork's or thread's new task */
};

struct dt_op {
    int kind;      /* enum dt_kind */
    int abs;       /* addr is absolute, not relative to the window */
    uint64_t addr; /* mmap hint or address, range start, load/store/buffer address */
    uint64_t len;  /* bytes (load/store: 1..DT_MAX_LOAD) */
    int64_t off;   /* mmap/pread/pwrite offset, lseek offset, ftruncate length */
    int prot;      /* mmap/mprotect */
    int flags;     /* mmap/msync/open flags, lseek whence, mincore DT_VEC_NULL */
    int fd;
    int name;      /* open: index into dt_file_names */
    int pattern;   /* store: first byte; the next ones count up from it */
    uint64_t len2; /* mremap: new length */
    uint64_t addr2; /* mremap: new address (relative to the window unless abs2) */
    int abs2;
    int proc;      /* the process that runs it: 0..DT_MAX_PROCS-1 (recorded: DT_MAX_TASKS-1) */
    int expect;    /* enum dt_expect: the kernel's recorded answer, if any */
    int64_t expect_value; /* its value (DT_EXPECT_VALUE, _SIGNAL: the signal, _TASK) */
    /* open: the path (name DT_NAME_PATH); set: "FIELD=VALUE"; arg, arg+:
     * the string; env: the name; execve: the path; maps: the name column */
    char str[DT_MAX_LINE + 1];
};

/* What one side saw. Addresses inside the window are made relative. */
struct dt_result {
    int64_t ret;      /* >= 0, or -errno */
    int ret_outside;  /* a successful mmap placed outside the window */
    int signo, code;  /* the signal an access raised; 0 if none */
    uint64_t sig_addr;
    int sig_outside;  /* sig_addr is absolute */
    uint64_t minflt, majflt; /* fault counts of this step alone */
    uint32_t ndata;   /* bytes loaded, mincore vector, fstat summary */
    uint8_t data[DT_MAX_VEC];
};

#define DT_RESULT_HEADER offsetof(struct dt_result, data)

/* The names operations open: files created identically on both sides, a new
 * name, a directory and a name that never exists. */
enum { DT_NFILES = 4, DT_NAME_NEW = 4, DT_NAME_DIR = 5, DT_NAME_MISSING = 6, DT_NNAMES = 7 };
/* open of a path (op.str) instead of a name: recorded scenarios only. */
#define DT_NAME_PATH (-1)
extern const char *const dt_file_names[DT_NNAMES];
uint64_t dt_initial_size(int name);      /* bytes of a file created at start */
uint8_t dt_initial_byte(int name, uint64_t off);

const char *dt_kind_name(int kind);
/* The line (with its "=> ANSWER" when it has one). */
void dt_format_op(const struct dt_op *op, char *buf, size_t size);
/* The line without its answer: the call alone. */
void dt_format_call(const struct dt_op *op, char *buf, size_t size);
/* The answer as a recorded line spells it ("0x7ffff7fc0000", "-ENOMEM", "ok",
 * "SIGSEGV", "@1"), for the op's kind; expect is an enum dt_expect. */
void dt_format_answer(const struct dt_op *op, int expect, int64_t value, char *buf, size_t size);
/* Kinds that belong to recorded scenarios only. */
int dt_kind_recorded_only(int kind);
/* Why op cannot be in a recorded scenario (it would write a host file), or NULL. */
const char *dt_op_unsafe_recorded(const struct dt_op *op);
/* One scenario line (at most DT_MAX_LINE bytes, no comment) into *op; 0,
 * or -1 with a message in err. */
int dt_parse_op(const char *line, struct dt_op *op, char *err, size_t errsize);
/* NULL when the op cannot harm the host child (stays inside the window, or
 * must fail before touching anything); else why it is refused. */
const char *dt_op_unsafe(const struct dt_op *op);
void dt_format_result(const struct dt_op *op, const struct dt_result *r, char *buf, size_t size);

#endif
