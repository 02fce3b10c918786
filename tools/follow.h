/*
 * follow.h - `vmsim follow`: a real program of this machine, run under
 * ptrace, is the oracle. Each memory-management call it makes (and each open
 * and close of a file, which decide the descriptors those calls name) is
 * made again on a vmsim machine; the return values and /proc/PID/maps are
 * compared after each.
 *
 * The parts, each in its own file:
 *   follow_decode.c  system calls: what each number is to the follower, how
 *                    it prints (strace-like) and how it reads as a scenario line;
 *   follow_maps.c    maps text: the columns that cannot agree (device, inode)
 *                    normalised, and a line-by-line difference;
 *   follow_trace.c   the host side: the program under ptrace, stopped at
 *                    every system call;
 *   follow_sim.c     the vmsim side: the machine, the descriptor map, the calls;
 *   follow.c         the command.
 */
#ifndef VMSIM_FOLLOW_H
#define VMSIM_FOLLOW_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vmsim.h"

/* ---- decoding (follow_decode.c) ---- */

/* What a system call is to the follower. */
enum fl_kind {
    FL_OTHER,      /* nothing the follower repeats */
    FL_MM,         /* mmap, munmap, mprotect, brk, mremap, madvise, msync, mincore */
    FL_MM_UNMODELLED, /* changes the address space in a way vmsim cannot repeat */
    FL_OPEN,       /* open, openat, openat2, creat: a path becomes a descriptor */
    FL_CLOSE,      /* close */
    FL_CLOSE_RANGE,
    FL_DUP,        /* dup, dup2, dup3, fcntl(F_DUPFD*): a copy of a descriptor */
    FL_NEW_FD,     /* a descriptor of something that is not a path (pipe, socket, ...) */
    FL_EXEC,       /* execve, execveat */
    FL_CLONE,      /* clone, clone3, fork, vfork */
    FL_EXIT,       /* exit, exit_group */
};

/* One system call as the host made it. */
struct fl_call {
    long nr;           /* orig_rax */
    uint64_t arg[6];   /* rdi rsi rdx r10 r8 r9 */
    int64_t ret;       /* rax at the exit: >= 0, or -errno */
    uint64_t mem_flags; /* flags the call passed in memory: openat2's how.flags,
                           clone3's cl_args.flags */
    int new_fds[2];    /* pipe, pipe2, socketpair: the descriptors written to memory */
    char path[4096];   /* FL_OPEN: the path argument as the program passed it */
    char target[4096]; /* FL_OPEN, FL_DUP: the file the new descriptor names
                          (/proc/PID/fd), "" when it is not a path */
};

const char *fl_syscall_name(long nr); /* "mmap", ...; NULL when the follower does not know it */
enum fl_kind fl_classify(const struct fl_call *c);
/* Which argument of an FL_OPEN call is the path (0 for open/creat, 1 for openat/openat2). */
int fl_path_arg(long nr);
/* The open flags of an FL_OPEN call (openat2: mem_flags). */
int fl_open_flags(const struct fl_call *c);
/* FL_DUP: the descriptor copied. */
int fl_dup_source(const struct fl_call *c);
/* FL_NEW_FD: how many descriptors the call writes to memory (pipe, socketpair: 2), 0 for
 * the ones it returns. */
int fl_new_fds_in_memory(long nr);
/* FL_CLONE: the new task shares the address space (a thread, or vfork before its exec). */
int fl_clone_shares_vm(const struct fl_call *c);
int fl_clone_is_thread(const struct fl_call *c);

/* The call as a program's source would spell it, e.g.
 * "mmap(NULL, 0x2000, READ|WRITE, PRIVATE|ANONYMOUS, -1, 0)". */
void fl_format_call(const struct fl_call *c, char *buf, size_t size);
/* A result: an address in hex for mmap/mremap/brk, else decimal, or -ENOMEM. */
void fl_format_ret(const struct fl_call *c, int64_t ret, char *buf, size_t size);
/* The call as a scenario line (docs: vmsim follow -o), vmfd the descriptor on
 * vmsim's side; "" when the call has no line. */
void fl_format_scenario(const struct fl_call *c, int vmfd, char *buf, size_t size);

/* Scenario lines for what vmsim did where the call was not the program's
 * own: "open PATH FLAGS" (the descriptor vmsim opened), and the exec. */
void fl_format_open_line(const char *path, int flags, char *buf, size_t size);
/* The exec as scenario lines: "arg STRING" per argument (continued by "arg+"
 * lines when long), "env NAME LEN" per environment string (its value
 * masked, its length kept), then "execve PATH"; lines joined by '\n', none
 * at the end. malloc'd, or NULL. */
char *fl_format_exec_lines(const char *path, char *const argv[], char *const envp[]);

/* ---- maps (follow_maps.c) ---- */

/* The maps text with the device and inode of each file line replaced by
 * "dev ino", so that the host's and vmsim's files compare by path. Returns a
 * malloc'd string, or NULL when out of memory. */
char *fl_maps_normalise(const char *maps);
/* Prints the lines that differ, "-" kernel, "+" vmsim; returns how many
 * differences (a line of each side whose ranges overlap is one). */
int fl_maps_diff(const char *kernel, const char *vmsim, FILE *out);
/* The maps text as a recorded scenario holds it: device and inode dropped,
 * "START-END PERMS OFFSET NAME" per line. malloc'd, or NULL. */
char *fl_maps_recorded(const char *maps);
/* The start of the [stack] line, or 0 when there is none. */
uint64_t fl_maps_stack_start(const char *maps);

/* ---- the host side (follow_trace.c) ---- */

/* One thread of the program, as the tracer knows it. */
struct fl_thread {
    pid_t tid;
    int in_syscall;    /* between its entry stop and its exit stop */
    int announced;     /* its parent's clone event was seen (the leader: from the start) */
    int started;       /* its own first stop was seen */
    int exec_happened; /* an exec event came inside its call */
    int signal;        /* to deliver when it resumes */
    int task;          /* the follower's: vmsim's task for it, -1 none yet */
    int held;          /* the follower's: stopped at an entry, waiting for its turn */
    int overlapped;    /* the follower's: its call sleeps in the kernel, held threads were let by */
    int made_early;    /* the follower's: the overlapped call was made on vmsim when found asleep */
    int64_t early;     /* the follower's: vmsim's result of the call made early */
    int reserved_fd;   /* the follower's: vmsim's descriptor taken for a sleeping open or accept, -1 */
    unsigned seq;      /* the follower's: the call's number among the program's calls */
    struct fl_call call; /* the call it is in (from its entry stop) */
};

struct fl_tracee {
    pid_t pid;       /* the process: its first thread */
    int exited;      /* the program is gone: status holds how */
    int status;      /* waitpid status */
    int mem_fd;      /* /proc/PID/mem of the current image, or -1 */
    struct fl_thread *threads; /* the threads alive (the array moves when one is added) */
    int nthreads;
    sigset_t saved_mask; /* the follower's signal mask before SIGCHLD was blocked for timed waits */
    int mask_saved;
};

enum fl_event_kind {
    FL_EV_ENTRY,       /* a thread entered a call: thread->call has its arguments */
    FL_EV_EXIT,        /* a thread's call returned: thread->call.ret (exec: an exec happened in it) */
    FL_EV_NEW_THREAD,  /* thread made a thread, new_tid (it runs on its own) */
    FL_EV_THREAD_GONE, /* a thread other than the first ended (tid, task) */
    FL_EV_END,         /* the program is gone (status in the tracee) */
};

struct fl_event {
    enum fl_event_kind kind;
    pid_t tid;
    struct fl_thread *thread; /* ENTRY, EXIT, NEW_THREAD: the thread (valid until the next wait) */
    pid_t new_tid;
    int task;                 /* THREAD_GONE: the follower's task of the thread */
    int reserved_fd;          /* THREAD_GONE: the thread's reserved_fd */
    int exec;
};

/* Starts path under ptrace with ASLR off and transparent huge pages off;
 * returns at its first exec with the new image in place. 0, or -1 with the
 * reason in err (ENOENT, ptrace refused, ...). */
int fl_trace_start(struct fl_tracee *t, const char *path, char *const argv[],
                   char *const envp[], char *err, size_t errsize);
/* The next event of any thread; its thread stays stopped until
 * fl_trace_resume (a thread's stops that are no event are passed by). 0, or
 * -1 on an error. */
int fl_trace_wait(struct fl_tracee *t, struct fl_event *ev);
/* fl_trace_wait for at most timeout_ms (-1: no limit): 1 when no event came in that time. */
int fl_trace_wait_for(struct fl_tracee *t, struct fl_event *ev, int timeout_ms);
/* Whether a thread sleeps in the kernel (/proc: state S or D): 1, 0 when
 * it runs or is stopped, -1 when it is gone; *switches gets how often it
 * has left the CPU (the same count later: it did not run in between). */
int fl_trace_sleeping(const struct fl_tracee *t, pid_t tid, unsigned long long *switches);
/* Lets a stopped thread run on to its next stop. */
int fl_trace_resume(struct fl_tracee *t, pid_t tid);
struct fl_thread *fl_trace_thread(struct fl_tracee *t, pid_t tid);
/* /proc/PID/maps as a malloc'd string, or NULL. */
char *fl_trace_maps(const struct fl_tracee *t);
/* The descriptors open in the program (ascending); returns how many, or -1. */
int fl_trace_fds(const struct fl_tracee *t, int *fds, int max);
/* readlink(/proc/PID/fd/N): the path, or "" when it is not one (pipe:, socket:, ...). */
void fl_trace_fd_path(const struct fl_tracee *t, int fd, char *buf, size_t size);
/* The program's executable, from /proc/PID/exe. */
void fl_trace_exe(const struct fl_tracee *t, char *buf, size_t size);
/* Reads len bytes of the program's memory; 0 or -1. */
int fl_trace_read(const struct fl_tracee *t, uint64_t addr, void *buf, size_t len);
/* The program's pagemap entries (bit 63 present, bit 61 file page or shared
 * anonymous) for npages pages from start; 0 or -1. */
int fl_trace_pagemap(const struct fl_tracee *t, uint64_t start, size_t npages, uint64_t *entries);
/* Reads the program's argv and envp at an exec stop, from its stack (the strings the
 * kernel copied); malloc'd NULL-terminated arrays. */
int fl_trace_exec_args(const struct fl_tracee *t, char ***argv, char ***envp);
void fl_free_strings(char **v);
void fl_trace_kill(struct fl_tracee *t);

/* ---- the vmsim side (follow_sim.c) ---- */

struct fl_sim;
/* A machine configured from the host profile (scratch: a folder of the
 * disk to measure), rooted at "/", whose one task runs vms_execve of path. */
struct fl_sim *fl_sim_create(const char *scratch, char *err, size_t errsize);
void fl_sim_destroy(struct fl_sim *s);
vms_machine *fl_sim_machine(struct fl_sim *s);
/* Every call vmsim makes from now on is written to out as a scenario line. */
void fl_sim_set_scenario(struct fl_sim *s, FILE *out);
/* The last line written gets the kernel's answer: "LINE => ANSWER". */
void fl_sim_answer(struct fl_sim *s, const char *answer);
/* The kernel's maps (normalised: fl_maps_recorded), one "maps" line each. */
void fl_sim_scenario_maps(struct fl_sim *s, const char *maps);
/* Writes what waits (at the end). */
void fl_sim_scenario_flush(struct fl_sim *s);
/* The task the next calls are made in: 0 the program's first, then its
 * threads by number (scenario lines: "@N"); 0, or -1 when there is none. */
int fl_sim_use_task(struct fl_sim *s, int task);
/* vms_clone_thread of task parent ("thread => @N"): the new task's number, or -1. */
int fl_sim_thread(struct fl_sim *s, int parent);
/* The thread's task exits ("@N exit"). */
void fl_sim_thread_exit(struct fl_sim *s, int task);
/* vms_execve in the current task (the process's other threads end): 0 or -errno. */
int fl_sim_execve(struct fl_sim *s, const char *path, char *const argv[], char *const envp[]);
/* The call made on vmsim: its result, -errno; *note (static text) says why the call
 * could not be repeated when the result is meaningless (then it returns INT64_MIN). */
int64_t fl_sim_call(struct fl_sim *s, const struct fl_call *c, const char **note);
/* Every descriptor has the same number on both sides (until the program
 * picks a number itself, dup2, or gets one below 3, which vmsim never gives). */
int fl_sim_fds_match(const struct fl_sim *s);
/* A sleeping open or accept has taken its descriptor number on the host
 * already: vmsim takes one too, a descriptor of the stand-in "/" (its
 * scenario line unanswered). The number, or -errno. */
int fl_sim_reserve_fd(struct fl_sim *s);
/* The call that reserved vmfd returned: failed on the host, the
 * reservation is closed (INT64_MIN: nothing compared); else the host's
 * descriptor is vmfd, or the file it names opened in its place. The
 * reserved number, to compare with the host's. */
int64_t fl_sim_claim_fd(struct fl_sim *s, int vmfd, const struct fl_call *c);
/* The thread that reserved vmfd is gone inside its call: the reservation is closed. */
void fl_sim_release_fd(struct fl_sim *s, int vmfd);
/* The last scenario line goes out without an answer (a call made before the kernel's returned). */
void fl_sim_unanswered(struct fl_sim *s);
/* The descriptor on vmsim's side for the host's fd, or -1. */
int fl_sim_fd(const struct fl_sim *s, int host_fd);
/* After an exec: descriptors the host closed (close-on-exec) are closed here too. */
void fl_sim_sync_fds(struct fl_sim *s, const int *host_fds, int n);
/* vms_maps as a malloc'd string. */
char *fl_sim_maps(struct fl_sim *s);
/* The stack grew on the host (faults the follower does not see): a load at the host's
 * lowest stack address grows vmsim's stack the same way. */
void fl_sim_grow_stack(struct fl_sim *s, uint64_t host_stack_start);
/* The program wrote a page of private memory on the host (it holds an
 * anonymous page there): the same byte is stored at va on vmsim, unless
 * vmsim has a page there already. 1 when it stored, 0 when not needed, -1
 * when the store raised a signal. */
int fl_sim_mirror_store(struct fl_sim *s, uint64_t va, unsigned char byte);
/* Whether vmsim maps a page at va. */
int fl_sim_present(struct fl_sim *s, uint64_t va);

#endif
