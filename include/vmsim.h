/*
 * vmsim: the Linux memory-mapping system (mmap, VMAs, x86-64 page tables,
 * MMU and TLBs, page faults) rebuilt in user space.
 *
 * Conventions, used everywhere:
 *   - constructors return a pointer, or NULL with errno set;
 *   - system calls return a value >= 0, or -errno, as the kernel does;
 *   - memory accesses return 0, or the signal the access raised (details in
 *     vms_last_fault()).
 * Constants are the host's own PROT_*, MAP_*, SIGSEGV, SEGV_MAPERR, ...
 */
#ifndef VMSIM_H
#define VMSIM_H

#include <fcntl.h> /* O_* flags of vms_open */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Strict ISO C builds (-std=c17 without _GNU_SOURCE) hide some of the host's
 * constants; these are the same Linux x86-64 values. */
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS 0x20
#endif
#ifndef MAP_TYPE
#define MAP_TYPE 0x0f
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_32BIT
#define MAP_32BIT 0x40
#endif
#ifndef MAP_GROWSDOWN
#define MAP_GROWSDOWN 0x100
#endif
#ifndef MAP_DENYWRITE
#define MAP_DENYWRITE 0x800
#endif
#ifndef MAP_EXECUTABLE
#define MAP_EXECUTABLE 0x1000
#endif
#ifndef MAP_LOCKED
#define MAP_LOCKED 0x2000
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0x4000
#endif
#ifndef MAP_POPULATE
#define MAP_POPULATE 0x8000
#endif
#ifndef MAP_NONBLOCK
#define MAP_NONBLOCK 0x10000
#endif
#ifndef MAP_STACK
#define MAP_STACK 0x20000
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef PROT_GROWSDOWN
#define PROT_GROWSDOWN 0x01000000
#endif
#ifndef PROT_GROWSUP
#define PROT_GROWSUP 0x02000000
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#define MADV_KEEPONFORK 19
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef SYNC_FILE_RANGE_WRITE
#define SYNC_FILE_RANGE_WAIT_BEFORE 1
#define SYNC_FILE_RANGE_WRITE 2
#define SYNC_FILE_RANGE_WAIT_AFTER 4
#endif
#ifndef SEGV_MAPERR
#define SEGV_MAPERR 1
#endif
#ifndef SEGV_ACCERR
#define SEGV_ACCERR 2
#endif
#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif
#ifndef BUS_ADRERR
#define BUS_ADRERR 2
#endif
#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define VMSIM_VERSION "0.1.0"
#define VMS_MAX_CPUS 64

typedef struct vms_machine vms_machine; /* RAM, CPUs, page cache: one kernel */
typedef struct vms_task vms_task;       /* a process or a thread */
typedef uint64_t vms_addr;              /* a virtual address in a task */

struct vms_tlb_geometry {
    unsigned entries; /* total entries; a multiple of ways */
    unsigned ways;    /* associativity; entries / ways must be a power of two */
};

/* What the machine reports as it works, for narration (vmsim demo) and
 * tracing. Never raised on the TLB-hit fast path. */
enum vms_event_kind {
    VMS_EV_TLB_MISS,      /* a: va; level: 1 (L1 missed) or 2 (L2 missed too) */
    VMS_EV_WALK_STEP,     /* a: va; level 4..1 (5..1); pa: table; index; entry;
                             detail: the table's name ("PGD", "P4D", "PUD", "PMD", "PTE");
                             b: the paging levels (4 or 5) */
    VMS_EV_PGTABLE_ALLOC, /* a: va; level of the new table; pa: its address; detail: its
                             name; b: the paging levels */
    VMS_EV_PGTABLE_FREE,  /* a: first va it covered; level; pa; detail; b: as above */
    VMS_EV_FAULT,         /* a: va; detail: "anon", "zero-page", "cow", ... */
    VMS_EV_FRAME_ALLOC,   /* pa: the first frame of a block given to pages of memory;
                             level: its order (2^level frames; > 0 only for large page-cache
                             folios); detail, and a: "anon" (a write to untouched private
                             memory; a: the page's va), "anon-read" (a read of it, without
                             the zero page; a: va), "cow" (a private copy for a write; a: va),
                             "shmem" (a: offset in the object), "page cache" (read from the
                             file; a: file offset), "page cache, zeroed" (a new page, not
                             read: written whole, or past the end of the file; a: offset).
                             Page tables are VMS_EV_PGTABLE_ALLOC; a new mm's PGD and the
                             zero page are not reported */
    VMS_EV_TLB_FILL,      /* a: va; pa: frame */
    VMS_EV_FLUSH,         /* cpu; a..b: range (b == 0: full flush) */
    VMS_EV_IPI,           /* cpu: target of a shootdown IPI */
    VMS_EV_CR3,           /* cpu switched to a task's mm; pa: its pgd, index: its PCID
                             (0: none, TLB flushed), b: 1 when the PCID's entries were kept */
    VMS_EV_SIGNAL,        /* a: va; index: signo; level: si_code */
    VMS_EV_FORK,          /* cpu; a: parent's pid; b: child's pid */
    VMS_EV_FRAME_FREE,    /* a block of VMS_EV_FRAME_ALLOC back to the allocator: pa; level:
                             its order; detail: "anon" (anon, anon-read and cow pages alike),
                             "shmem" or "page cache" */
    VMS_EV_OOM_KILL,      /* a: victim's pid; b: its badness (oom_badness: pages);
                             level: its oom_score_adj; detail: the kernel's log line
                             ("Out of memory: Killed process ...") */
    VMS_EV_PWC_HIT,       /* a walk starts below the top: a paging-structure cache held the
                             entry above; cpu; a: va; level: of the first table read (1:
                             a PDE-cache hit, 2: PDPTE, 3: PML4E); pa: that table; detail:
                             its name; b: the paging levels. The walk steps follow */
    /* Reclaim (src/vmscan.c), as Linux's mm_vmscan_* and swap tracepoints show
     * it; none of these has a CPU: reclaim is drawn on its own lane. */
    VMS_EV_RECLAIM_BEGIN, /* a reclaim pass starts: detail "kswapd" (woken: free memory fell
                             to the low watermark) or "direct" (the allocation itself
                             reclaims: free memory at min); a: free frames; b: its target
                             (kswapd: free frames above the high watermark; direct: 32 pages
                             reclaimed) */
    VMS_EV_RECLAIM_END,   /* the pass ends: detail as its begin; a: pages scanned on the
                             inactive lists; b: pages reclaimed (freed); index: the LRU lists
                             scanned (bit 0 inactive anon, 1 active anon, 2 inactive file,
                             3 active file); level: the last priority (12 down to 0) */
    VMS_EV_SWAP_OUT,      /* a page written to its swap slot: pa: the frame; b: the slot;
                             detail "anon" (a: the page's index in its mapping << 12, the
                             address it was first mapped at) or "shmem" (a: its offset in
                             the object); entry: the swap entry as x86-64 PTEs hold it
                             (type 0, the slot; bit 7, exclusive, belongs to each PTE and
                             is left clear) */
    VMS_EV_SWAP_IN,       /* a page read from its swap slot into the swap cache: pa: the
                             frame; b: the slot; detail "fault" (the page a fault wants) or
                             "readahead" (a neighbour read with it) */
    VMS_EV_PAGEOUT,       /* reclaim wrote a dirty file folio back before freeing it: pa: its
                             first frame; a: its file offset; level: its order */
    VMS_EV_REFAULT,       /* a page reclaim freed came back (workingset_refault): pa: the
                             frame; a: the refault distance (pages the lists took in since);
                             b: the workingset it competes for (pages); detail "activated"
                             (distance <= workingset: back on the active list), "restored"
                             (the same, and it was active before it went) or "inactive" */
};

struct vms_event {
    enum vms_event_kind kind;
    unsigned cpu;
    int level;
    unsigned index;
    uint64_t a, b, pa, entry;
    const char *detail;
};

typedef void (*vms_trace_fn)(void *arg, const struct vms_event *ev);

/* Printing events (src/trace.c). The JSON schema is docs/events.md. */

/* The kind's stable name, as the JSON "kind" field carries it: "tlb-miss",
 * "walk", "pgtable-alloc", "pgtable-free", "fault", "frame-alloc",
 * "tlb-fill", "flush", "ipi", "cr3", "signal", "fork", "frame-free",
 * "oom-kill", "pwc-hit", "reclaim-begin", "reclaim-end", "swap-out", "swap-in",
 * "pageout", "refault"; "unknown" for a value outside the enum. */
const char *vms_event_name(enum vms_event_kind k);

/* The event narrated in one line, without a newline, as `vmsim demo` prints
 * it: a one-word tag padded to 6 columns and a space (callers may colour
 * that word), the CPU column ("CPU n  ", blank when the event belongs to no
 * CPU), then the text, e.g.
 *   "walk   CPU 0  PGD[255] @ 0x00002000 = 0x0000000000003067  -> PUD 0x00003000"
 * snprintf semantics: writes at most len bytes including the terminating
 * '\0' (nothing when len is 0, and buf may then be NULL) and returns the
 * length the whole line needs, not counting the '\0'. */
int vms_event_format(const struct vms_event *ev, char *buf, size_t len);

/* The event as one JSON object, without a newline: "v":1 (the schema
 * version), "type":"event", "kind" (vms_event_name), then every field of
 * struct vms_event by name; a field the kind does not use is null; a, b, pa
 * and entry are hex strings ("0x7ffff7ffe000"), being 64 bits wide.
 * snprintf semantics, as vms_event_format. */
int vms_event_json(const struct vms_event *ev, char *buf, size_t len);

struct vms_config {
    uint64_t phys_bytes;          /* simulated RAM; default 1 GiB */
    unsigned ncpus;               /* default 4, at most VMS_MAX_CPUS */
    uint64_t swap_bytes;          /* swap space (SwapTotal), in a host file the machine makes in
                                     its root folder (or $TMPDIR) and removes; 0 */
    int pgtable_levels;           /* 4 (48-bit) or 5 (57-bit); default 4 */
    int pcid;                     /* tag TLB entries by PCID; default 0 */
    struct vms_tlb_geometry dtlb; /* L1 data TLB: 64 entries, 4-way */
    struct vms_tlb_geometry itlb; /* L1 instruction TLB: 128 entries, 8-way */
    struct vms_tlb_geometry stlb; /* unified L2 TLB: 1536 entries, 12-way */
    /* Paging-structure caches (Intel SDM vol. 3 4.10.3), per CPU, tagged by
     * PCID; entries 0: none, every walk starts at the top. Defaults: the
     * sizes commonly cited for Intel's Skylake cores (Intel publishes none). */
    struct vms_tlb_geometry pde_cache;   /* PDEs (a walk reads only the PTE): 32, 4-way */
    struct vms_tlb_geometry pdpte_cache; /* PDPTEs (reads the PDE, PTE): 4, fully assoc. */
    struct vms_tlb_geometry pml4e_cache; /* PML4Es (reads PDPTE, PDE, PTE): 2, fully assoc. */
    unsigned tlb_flush_ceiling;   /* single-page flushes up to this; 33 */
    uint64_t mmap_min_addr;       /* vm.mmap_min_addr; 4096 */
    unsigned max_map_count;       /* vm.max_map_count; 65530 */
    uint64_t aslr_seed;           /* 0: no randomisation (mmap_base fixed) */
    unsigned fault_around_bytes;  /* read fault-around window; 65536 */
    unsigned readahead_kb;        /* the disk's read_ahead_kb (readahead window); 128 */
    unsigned max_sectors_kb;      /* the disk's largest request (io_pages); 1280 */
    int large_folios;             /* the page cache holds large folios, as ext4 does since
                                     Linux 6.16 (0: the classic 4 KiB page cache); 1 */
    uint64_t max_file_bytes;      /* the file system's largest file (s_maxbytes): writes and
                                     truncates beyond give EFBIG; ext4 with 4 KiB blocks,
                                     0xffffffff000 */
    const char *root;             /* host folder that confines paths; "." */
    int privileged;               /* tasks hold CAP_SYS_RAWIO and CAP_IPC_LOCK; default 0 */
    uint64_t memlock_rlimit;      /* RLIMIT_MEMLOCK in bytes (UINT64_MAX: unlimited); 8 MiB */
    uint64_t stack_rlimit;        /* RLIMIT_STACK in bytes (UINT64_MAX: unlimited): mmap_base,
                                     how far a stack grows, execve's E2BIG limit; 8 MiB */
    uint64_t data_rlimit;         /* RLIMIT_DATA in bytes, as brk checks it; UINT64_MAX */
    /* What execve writes into a new program's auxiliary vector. The CPU's
     * words are this default or, in the tester, the host's (getauxval). */
    unsigned uid, gid;            /* AT_UID/AT_EUID, AT_GID/AT_EGID; 0 */
    uint64_t hwcap, hwcap2;       /* AT_HWCAP (CPUID 1 EDX), AT_HWCAP2; 0x178bebff, 0 */
    uint64_t minsigstksz;         /* AT_MINSIGSTKSZ (the signal frame the CPU's xsave
                                     features need); 3376 */
    int pku;                      /* protection keys: PROT_EXEC-only memory is unreadable; 1 */
    int zero_page;                /* read faults of private anonymous memory map the shared
                                     zero page (0: a kernel that allocates a page instead); 1 */
    /* Overcommit: how mmap, mprotect, mremap and fork charge private writable
     * and shared anonymous memory (Linux's __vm_enough_memory). */
    unsigned overcommit_memory;   /* vm.overcommit_memory: 0 heuristic (refuse one request
                                     larger than RAM + swap), 1 always, 2 strict; 0 */
    unsigned overcommit_ratio;    /* vm.overcommit_ratio: percent of RAM in the strict limit; 50 */
    uint64_t overcommit_kbytes;   /* vm.overcommit_kbytes: the strict limit's RAM part instead
                                     of the ratio when not 0; 0 */
    uint64_t mem_total;           /* the RAM the policy counts (MemTotal), bytes; 0: phys_bytes.
                                     Lets a small simulated RAM stand in for a host's */
    uint64_t admin_reserve_kbytes; /* vm.admin_reserve_kbytes, kept back from unprivileged
                                      tasks in strict mode; UINT64_MAX: Linux's boot value,
                                      1/32 of mem_total up to 8 MiB */
    uint64_t user_reserve_kbytes; /* vm.user_reserve_kbytes (strict mode); UINT64_MAX: 1/32 of
                                     mem_total up to 128 MiB */
    /* Reclaim (src/vmscan.c). */
    uint64_t min_free_kbytes;     /* vm.min_free_kbytes: the min watermark; UINT64_MAX: Linux's
                                     boot value from phys_bytes, sqrt(16 * KiB) within 128 KiB..
                                     256 MiB; 0: no reserve */
    unsigned watermark_scale_factor; /* vm.watermark_scale_factor: low and high lie this many
                                        ten-thousandths of RAM (at least min/4) above min; 10 */
    unsigned swappiness;          /* vm.swappiness: anon against file pages in reclaim, 0..200; 60 */
    unsigned page_cluster;        /* vm.page-cluster: swap-in reads up to 2^page_cluster slots; 3 */
    int cgroup_reclaim;           /* 1: RAM stands for a memory cgroup's limit, and reclaim
                                     balances the lists as a cgroup's does (Linux's
                                     cgroup_reclaim: no tiny-file-cache rule, no proportional
                                     scan, swappiness 0 never swaps, no kswapd: an allocation
                                     that finds no free frame reclaims 32 pages or more
                                     itself); 0: a whole machine's */
    int cgroup_flushed_stats;     /* with cgroup_reclaim, 1: reclaim reads the cgroup's list
                                     sizes and refault activations as of the last
                                     vms_cgroup_flush_stats (Linux's memcg statistics, folded
                                     into what reclaim reads only at a flush); 0: as they are */
    vms_trace_fn trace;           /* optional observer of events */
    void *trace_arg;
};

void vms_config_init(struct vms_config *c);
/* 0 when vms_machine_create accepts c's values; otherwise -EINVAL and msg
 * (snprintf semantics, may be NULL with len 0) names the first bad field,
 * its value and what it allows: "ncpus = 0: must be 1..64". The empty
 * string in msg on success. Fields it checks: phys_bytes, ncpus,
 * pgtable_levels, dtlb, itlb, stlb (entries and ways), pde_cache,
 * pdpte_cache, pml4e_cache (as a TLB's, or 0 entries), fault_around_bytes,
 * max_map_count, readahead_kb, max_sectors_kb, overcommit_memory. Does not
 * look at the host (config.root is opened by vms_machine_create). */
int vms_config_check(const struct vms_config *c, char *msg, size_t len);
/* NULL with errno EINVAL when vms_config_check refuses c (ENOENT, ENOMEM,
 * ... from the host otherwise). */
vms_machine *vms_machine_create(const struct vms_config *c);
void vms_machine_destroy(vms_machine *m);

vms_task *vms_spawn(vms_machine *m, const char *comm); /* new process, on CPU 0 */
vms_task *vms_fork(vms_task *parent);                  /* copy-on-write copy of the mm */
vms_task *vms_clone_thread(vms_task *t);               /* shares t's mm */
/* Ends a task, or releases the handle of one the OOM killer killed. */
void vms_exit(vms_task *t);
int vms_schedule(vms_task *t, unsigned cpu);           /* 0, or -EINVAL */
int vms_task_pid(const vms_task *t);
unsigned vms_task_cpu(const vms_task *t);

/* Out of memory. When an allocation finds no frame and nothing can be
 * reclaimed, the OOM killer kills the process with the highest badness (its
 * resident pages + swap entries + page-table pages, plus oom_score_adj
 * thousandths of RAM + swap; the youngest among equals), which may be
 * another process than the one allocating. Every thread of it is killed and
 * its memory freed (address space, descriptors) before the next call
 * returns, as the OOM reaper does; a VMS_EV_OOM_KILL event says so.
 * The handles stay valid until vms_exit releases them: an access through one
 * returns SIGKILL (vms_last_fault: SIGKILL, SI_KERNEL), every system call
 * -ESRCH, vms_fork and vms_clone_thread NULL with errno ESRCH;
 * vms_brk returns 0; vms_task_pid, vms_task_cpu, vms_task_rusage and
 * vms_task_killed still answer. A call during which the caller's own process was killed returns
 * what the failed allocation gave (an access: SIGKILL). When no process may
 * be killed (all at -1000) the allocation fails: the access returns SIGKILL
 * and the task lives on. */
int vms_task_killed(const vms_task *t); /* 1 once the OOM killer killed its process */
/* /proc/PID/oom_score_adj, for the task's whole process: 0, -EINVAL outside
 * -1000..1000, -EACCES below the process's floor (0 unless set by a
 * privileged task) without config.privileged (CAP_SYS_RESOURCE), -ESRCH. */
int vms_set_oom_score_adj(vms_task *t, int adj);
int vms_get_oom_score_adj(vms_task *t, int *adj); /* 0 and *adj, or -ESRCH */
int vms_oom_score(vms_task *t);      /* /proc/PID/oom_score: 0..1333, or -ESRCH */

/* Files: host paths confined to config.root (EXDEV for a path that leaves it). */
int vms_open(vms_task *t, const char *path, int flags, unsigned mode);
int vms_close(vms_task *t, int fd);
int64_t vms_read(vms_task *t, int fd, vms_addr buf, uint64_t len); /* into simulated memory */
int64_t vms_write(vms_task *t, int fd, vms_addr buf, uint64_t len);
int64_t vms_pread(vms_task *t, int fd, vms_addr buf, uint64_t len, int64_t off);
int64_t vms_pwrite(vms_task *t, int fd, vms_addr buf, uint64_t len, int64_t off);
int64_t vms_lseek(vms_task *t, int fd, int64_t off, int whence);
int vms_ftruncate(vms_task *t, int fd, int64_t len);
int vms_fsync(vms_task *t, int fd);
/* sync_file_range(2): with SYNC_FILE_RANGE_WRITE the dirty pages of
 * [off, off + nbytes) (nbytes 0: to the end) go to the disk; the WAIT
 * flags add nothing, as vmsim's writes complete at once. 0, or -EINVAL
 * (unknown flag, negative or overflowing range), -EBADF, -ESPIPE. */
int vms_sync_file_range(vms_task *t, int fd, int64_t off, int64_t nbytes, unsigned flags);
int vms_fstat(vms_task *t, int fd, struct stat *st);
int vms_sync(vms_machine *m); /* sync(2): write back every dirty page */

int64_t vms_mmap(vms_task *t, vms_addr addr, uint64_t len, int prot, int flags,
                 int fd, int64_t off);
int vms_munmap(vms_task *t, vms_addr addr, uint64_t len);
int vms_mprotect(vms_task *t, vms_addr addr, uint64_t len, int prot);
int vms_msync(vms_task *t, vms_addr addr, uint64_t len, int flags);
int vms_mincore(vms_task *t, vms_addr addr, uint64_t len, unsigned char *vec);
/* The new address, or -errno; flags: MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP. */
int64_t vms_mremap(vms_task *t, vms_addr addr, uint64_t old_len, uint64_t new_len, int flags,
                   vms_addr new_addr);
int vms_madvise(vms_task *t, vms_addr addr, uint64_t len, int advice);

/* Programs. vms_execve runs an x86-64 ELF64 executable as Linux's execve and
 * binfmt_elf do: path resolves beneath config.root as vms_open's; a new
 * address space replaces the old (the other threads of the process end: their
 * handles are freed and must not be used again); PT_LOAD segments become
 * private file mappings, the bss anonymous memory, PT_INTERP's loader is
 * mapped too; the stack holds argv, envp and the auxiliary vector byte for
 * byte as Linux lays them out (read them with vms_load); [vvar],
 * [vvar_vclock], [vdso] and [vsyscall] appear in vms_maps as on the host.
 * argv and envp end with NULL (either may be NULL itself: no strings).
 * Returns 0, or -errno as execve: ENOENT, EACCES, ENOEXEC, E2BIG, ELOOP,
 * ENAMETOOLONG, ENOTDIR, EIO (headers cut short), ENOMEM. An error found
 * after the old address space is gone (Linux's point of no return: a segment
 * that cannot be mapped) kills the process on Linux: vmsim returns that errno
 * too, records SIGSEGV/SI_KERNEL in vms_last_fault() and leaves the task the
 * half-built address space, good only for vms_exit.
 * With config.root "/" an absolute symbolic link resolves from "/" as for any
 * program (Debian's /lib64/ld-linux-x86-64.so.2 is one). */
int vms_execve(vms_task *t, const char *path, char *const argv[], char *const envp[]);
/* brk(2): the new break, or the current one when addr is 0 or the request
 * fails (below the start, RLIMIT_DATA, the next mapping or its stack guard
 * gap in the way, overcommit). The heap is the [heap] line of vms_maps. */
vms_addr vms_brk(vms_task *t, vms_addr addr);

/* What the last successful vms_execve set up (all 0 before one, mmap_base
 * aside). */
struct vms_exec_info {
    vms_addr entry;       /* where the task starts: the loader's entry, else the program's */
    vms_addr sp;          /* the stack pointer at entry: the address of argc */
    vms_addr at_entry;    /* AT_ENTRY: the program's entry point */
    vms_addr at_base;     /* AT_BASE: the loader's load address; 0 without PT_INTERP */
    vms_addr at_phdr;     /* AT_PHDR: the program headers in memory */
    vms_addr at_random;   /* AT_RANDOM: the 16 random bytes (from config.aslr_seed) */
    vms_addr at_execfn;   /* AT_EXECFN: the path given to execve, on the stack */
    vms_addr vdso;        /* AT_SYSINFO_EHDR: the start of [vdso] */
    vms_addr load_bias;   /* added to the program's p_vaddr (0 for ET_EXEC) */
    vms_addr auxv;        /* the auxiliary vector on the stack (pairs up to AT_NULL) */
    unsigned auxv_count;  /* its entries, AT_NULL included */
    vms_addr start_code, end_code, start_data, end_data; /* as /proc/PID/stat */
    vms_addr start_brk, brk; /* the heap [start_brk, brk): brk moves with vms_brk */
    vms_addr start_stack; /* mm->start_stack */
    vms_addr arg_start, arg_end, env_start, env_end;
    vms_addr mmap_base;   /* where top-down mmap searches start */
};
int vms_task_exec_info(const vms_task *t, struct vms_exec_info *info); /* 0, or -EINVAL */

/* Accesses of a program's load, store or instruction fetch of len bytes at
 * va, through the task's CPU's TLBs: 0, or the signal the access raised
 * (its details in vms_last_fault). A zero-length access touches nothing. */
int vms_load(vms_task *t, vms_addr va, void *dst, size_t len);
int vms_store(vms_task *t, vms_addr va, const void *src, size_t len);
int vms_fetch(vms_task *t, vms_addr va, size_t len);

/* The last signal an access of the task raised (signo 0: none yet). */
struct vms_fault {
    int signo, code; /* SIGSEGV/SEGV_MAPERR, SIGSEGV/SEGV_ACCERR, SIGKILL (out of memory), ... */
    vms_addr addr;   /* the first byte that could not be accessed (0 for SI_KERNEL) */
    int pkey;        /* the protection key, with SEGV_PKUERR */
};
const struct vms_fault *vms_last_fault(const vms_task *t);

/* looking inside */
struct vms_walk {
    int levels; /* 4, or 5 with 57-bit addresses */
    struct {
        uint64_t table_pa;
        unsigned index;
        uint64_t entry;
    } step[5];   /* top level first; steps past a missing table are zero */
    int present; /* 1 when va maps to a frame */
    uint64_t pa; /* physical address of va when present */
    /* A non-present PTE holding a swap entry (x86-64's layout: type in bits
     * 59-63, offset inverted in bits 9-58, bit 7 exclusive): */
    int swap;              /* 1 when the PTE holds one */
    unsigned swap_type;    /* the swap area: 0 */
    uint64_t swap_offset;  /* the slot, in pages from the start of the area */
    int swap_exclusive;    /* the page was this mm's alone */
};
int vms_walk(vms_task *t, vms_addr va, struct vms_walk *w); /* 0, -EFAULT or -ESRCH */
int vms_phys_read(vms_machine *m, uint64_t pa, void *dst, size_t len);
void vms_task_rusage(const vms_task *t, uint64_t *minflt, uint64_t *majflt);

struct vms_cpu_stats {
    uint64_t dtlb_hits, dtlb_misses; /* L1 data TLB */
    uint64_t itlb_hits, itlb_misses; /* L1 instruction TLB */
    uint64_t stlb_hits, stlb_misses; /* L2 TLB, looked up on an L1 miss */
    uint64_t page_walks;             /* walks of the tables after an L2 miss */
    uint64_t walk_refs;              /* page-table entries read by walks */
    uint64_t pde_cache_hits;         /* walks that started at the PTE table */
    uint64_t pdpte_cache_hits;       /* ... at the page directory (PDE cache missed) */
    uint64_t pml4e_cache_hits;       /* ... at the PDPT (PDE and PDPTE caches missed) */
    uint64_t walk_refs_saved;        /* entries those walks did not read */
    uint64_t flushes_full;           /* whole-context flushes */
    uint64_t flushes_single;         /* single-page invalidations (INVLPG) */
    uint64_t shootdowns;             /* flush requests this CPU started that sent IPIs */
    uint64_t ipis_sent, ipis_received;
    uint64_t context_switches;       /* CR3 loads */
    uint64_t lazy_skips;             /* shootdowns not sent here: lazy TLB mode */
};

/* Bytes copied between the disk, the page cache and user memory. */
struct vms_io_stats {
    uint64_t disk_to_cache;  /* page-cache misses read from the host file */
    uint64_t cache_to_user;  /* read(), pread() */
    uint64_t user_to_cache;  /* write(), pwrite() */
    uint64_t cache_to_disk;  /* write-back: msync, fsync, sync, destroy */
    uint64_t disk_reads, disk_writes; /* pages */
};

/* Reclaim's counters, as /proc/vmstat names them (pages unless named). */
struct vms_vmstat {
    uint64_t pgscan_kswapd, pgscan_direct;   /* inactive-list pages looked at */
    uint64_t pgsteal_kswapd, pgsteal_direct; /* ... and freed */
    uint64_t pgscan_anon, pgscan_file, pgsteal_anon, pgsteal_file;
    uint64_t pgrefill;      /* active-list pages looked at */
    uint64_t pgactivate, pgdeactivate;
    uint64_t pgrotated;     /* written by reclaim, moved to the inactive tail as the write ended */
    uint64_t pgpgout;       /* KiB written back by reclaim */
    uint64_t pswpin, pswpout; /* pages read from and written to swap */
    uint64_t allocstall;    /* direct reclaims */
    uint64_t pageoutrun;    /* kswapd runs */
    uint64_t unevictable_pgs_mlocked, unevictable_pgs_munlocked;
    /* Pages read back after reclaim freed them (refaults), those of them
     * recent enough to come back active, and those that were active before
     * they went (restores), anonymous and file. */
    uint64_t workingset_refault_anon, workingset_refault_file;
    uint64_t workingset_activate_anon, workingset_activate_file;
    uint64_t workingset_restore_anon, workingset_restore_file;
};

struct vms_stats {
    uint64_t tlb_hits, tlb_misses;   /* accesses that hit / missed every TLB level */
    uint64_t page_walks, walk_refs;
    uint64_t shootdowns, ipis;
    uint64_t flushes_full, flushes_single;
    uint64_t context_switches;
    uint64_t minor_faults, major_faults, cow_faults;
    uint64_t frames_total;           /* frames of simulated RAM */
    uint64_t frames_used;            /* allocated: pages, tables, zero page */
    uint64_t pgtable_frames;         /* of which page tables */
    uint64_t cache_frames;           /* of which host files' page cache */
    uint64_t dirty_pages;            /* page-cache pages not yet written back */
    uint64_t swap_used;              /* swap slots in use, in pages (SwapTotal - SwapFree) */
    uint64_t oom_kill;               /* processes the OOM killer killed (vmstat oom_kill) */
    struct vms_vmstat vm;
    struct vms_io_stats io;
    unsigned ncpus;
    uint64_t watermark[3];           /* min, low, high free frames (/proc/zoneinfo); not counters */
    struct vms_cpu_stats cpu[VMS_MAX_CPUS];
};
void vms_get_stats(vms_machine *m, struct vms_stats *s);
/* One CPU's counters alone (the cpu[] entry of vms_get_stats), cheap
 * enough to read after every access: 0, or -EINVAL for a CPU the machine
 * does not have. */
int vms_get_cpu_stats(vms_machine *m, unsigned cpu, struct vms_cpu_stats *out);
/* What happened between two vms_get_stats(): every field after - before,
 * cpu[] and io included, except ncpus and frames_total, which describe the
 * machine and are copied from after. The gauges (frames_used,
 * pgtable_frames, cache_frames, dirty_pages, swap_used) give their change modulo 2^64:
 * read a decrease as (int64_t). out may be after or before. */
void vms_stats_diff(const struct vms_stats *after, const struct vms_stats *before,
                    struct vms_stats *out);

/* ---- Introspection: the machine's state, for pictures and tools ----
 * Read-only: none of these changes any state (no fault, no counter, no LRU
 * move, no OOM reaping) nor allocates; a pointer handed to a callback is
 * valid only during that call. A visitor calls fn in order until fn returns
 * nonzero, and returns that value (0 when it went through), or -errno. */

/* Every task alive on the machine (OOM-killed handles not yet released
 * included), in creation order. */
int vms_task_visit(vms_machine *m, int (*fn)(void *arg, vms_task *t), void *arg);
vms_machine *vms_task_machine(const vms_task *t); /* the machine the task runs on */
/* 1 when a and b share one address space (threads, or the same task). */
int vms_task_same_mm(const vms_task *a, const vms_task *b);

/* What a VMA holds, as a picture colours it (src/vma.c). */
enum vms_vma_kind {
    VMS_VMA_ANON,         /* private anonymous memory */
    VMS_VMA_SHARED_ANON,  /* MAP_SHARED|MAP_ANONYMOUS: "/dev/zero (deleted)" */
    VMS_VMA_FILE_PRIVATE, /* a file mapped MAP_PRIVATE (program segments too) */
    VMS_VMA_FILE_SHARED,  /* a file mapped MAP_SHARED */
    VMS_VMA_HEAP,         /* "[heap]": anonymous memory over the brk area */
    VMS_VMA_STACK,        /* "[stack]": the stack execve set up */
    VMS_VMA_SPECIAL,      /* "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]" */
    VMS_VMA_HUGETLB,      /* MAP_HUGETLB: "/anon_hugepage (deleted)" */
    VMS_VMA_NKINDS
};
/* "anon", "shared-anon", "file-private", "file-shared", "heap", "stack",
 * "special", "hugetlb"; "unknown" outside the enum. */
const char *vms_vma_kind_name(enum vms_vma_kind k);

struct vms_vma_info {
    vms_addr start, end;       /* [start, end) */
    uint64_t pgoff;            /* vm_pgoff: pages into the object (anonymous: start >> 12) */
    uint64_t offset;           /* the maps line's offset column, in bytes */
    int prot;                  /* PROT_READ | PROT_WRITE | PROT_EXEC */
    int shared;                /* VM_MAYSHARE: 's' in the maps line, else 'p' */
    enum vms_vma_kind kind;
    uint64_t vm_flags;         /* Linux's VM_* bits (VM_GROWSDOWN 0x100, VM_LOCKED 0x2000, ...) */
    int guards;                /* MADV_GUARD_INSTALL was used on it: it may hold guard markers */
    unsigned dev_major, dev_minor;
    uint64_t ino;              /* the maps line's device and inode columns */
    const char *name;          /* the maps line's name column; "" when it has none */
    /* The VMA tree (a red-black tree keyed by start, augmented with gaps):
     * gate is 1 for [vsyscall], x86's gate area, which is in no mm and no
     * tree (the rest of the tree fields are then 0). */
    int gate;
    int red;                   /* the node's colour: 1 red, 0 black */
    int depth;                 /* 0 for the root */
    vms_addr parent, left, right; /* those nodes' start addresses; 0 for none */
    uint64_t gap;              /* free bytes right below it (from the previous VMA's end, or 0) */
    uint64_t subtree_gap;      /* the largest such gap in its subtree (rb_subtree_gap) */
};
/* The task's VMAs in address order, then [vsyscall] when the maps show it.
 * -ESRCH for a task the OOM killer killed. */
int vms_vma_visit(vms_task *t, int (*fn)(void *arg, const struct vms_vma_info *vi), void *arg);
/* The VMA's /proc/PID/maps line as vms_maps prints it, without the newline.
 * snprintf semantics, as vms_event_format. */
int vms_vma_maps_line(const struct vms_vma_info *vi, char *buf, size_t len);

/* The TLBs of a CPU (src/tlb.c). Every entry maps one 4 KiB page. */
enum vms_tlb_level { VMS_TLB_L1D, VMS_TLB_L1I, VMS_TLB_L2, VMS_TLB_NLEVELS };
const char *vms_tlb_level_name(enum vms_tlb_level l); /* "L1d", "L1i", "L2" */
struct vms_tlb_entry {
    enum vms_tlb_level level;
    unsigned set, way;         /* set = vpn mod the level's sets */
    uint64_t vpn, pfn;         /* virtual page -> physical frame */
    unsigned pcid;             /* 0 when PCID is off */
    uint64_t page_size;        /* 4096 */
    int user;                  /* U/S: 1 (vmsim caches user pages only) */
    int writable;              /* the PTE's RW (the entry may still need to set D) */
    int dirty;                 /* the PTE's D was set when cached: a store needs no walk */
    int exec;                  /* not NX: instruction fetches may use it */
    int pkey_denied;           /* data accesses refused by the page's protection key */
    int global;                /* G: 0 (vmsim caches no global pages) */
    uint32_t lru;              /* the CPU's clock when last used (larger: more recent) */
};
/* Every valid entry of the CPU's L1d, L1i and L2 TLBs, in that order, set
 * by set and way by way. -EINVAL for a CPU the machine does not have. */
int vms_tlb_visit(vms_machine *m, unsigned cpu, int (*fn)(void *arg, const struct vms_tlb_entry *e),
                  void *arg);
/* A level's entries and ways (sets = entries / ways); 0, or -EINVAL. */
int vms_tlb_geometry(vms_machine *m, enum vms_tlb_level l, struct vms_tlb_geometry *g);
unsigned vms_cpu_count(vms_machine *m);
/* What a CPU runs: the pid of the task that last ran there (0: none), the
 * PCID of its current context, its CR3's table address (0: no mm loaded),
 * and lazy: 1 when it idles in lazy TLB mode (the mm loaded, its task gone). */
struct vms_cpu_info {
    int pid;
    unsigned pcid;
    uint64_t cr3_pa;
    int lazy;
};
int vms_cpu_info(vms_machine *m, unsigned cpu, struct vms_cpu_info *ci); /* 0, or -EINVAL */

/* Physical frames (src/page_alloc.c). */
enum vms_frame_owner {
    VMS_FRAME_FREE,        /* in the buddy allocator */
    VMS_FRAME_RESERVED,    /* never handed out: frame 0 */
    VMS_FRAME_ZERO,        /* the shared zero page */
    VMS_FRAME_PGTABLE,     /* a page table */
    VMS_FRAME_ANON,        /* private anonymous memory */
    VMS_FRAME_PAGE_CACHE,  /* a host file's page cache */
    VMS_FRAME_SHMEM,       /* a shmem object (shared anonymous memory, the vDSO's pages) */
    VMS_FRAME_SWAP_CACHE,  /* an anonymous or shmem page that holds a swap slot */
    VMS_FRAME_KERNEL,      /* allocated for no user page: in transit in a kernel path */
    VMS_FRAME_NOWNERS
};
/* "free", "reserved", "zero", "pgtable", "anon", "page-cache", "shmem",
 * "swap-cache", "kernel"; "unknown" outside the enum. */
const char *vms_frame_owner_name(enum vms_frame_owner o);
struct vms_frame_info {
    enum vms_frame_owner owner;
    int mapcount;              /* PTEs that map it */
    int refcount;              /* references (0 when free) */
    unsigned order;            /* its folio's order (free: the free block's); 0 for a plain page */
    uint64_t head;             /* the first frame of that folio or free block */
    uint64_t index;            /* page offset in its file or object (anon: va >> 12) */
    int dirty, active, lru, referenced, unevictable, mlocked, swapcache;
};
uint64_t vms_frame_count(vms_machine *m); /* frames of simulated RAM */
int vms_frame_info(vms_machine *m, uint64_t pfn, struct vms_frame_info *fi); /* 0, or -EINVAL */

/* Page tables (src/pgtable.c). Entries are Intel's x86-64 format: */
#define VMS_PTE_P (1ULL << 0)   /* present */
#define VMS_PTE_RW (1ULL << 1)  /* writable */
#define VMS_PTE_US (1ULL << 2)  /* user */
#define VMS_PTE_A (1ULL << 5)   /* accessed */
#define VMS_PTE_D (1ULL << 6)   /* dirty */
#define VMS_PTE_PS (1ULL << 7)  /* a huge leaf (never set by vmsim) */
#define VMS_PTE_G (1ULL << 8)   /* global */
#define VMS_PTE_NX (1ULL << 63) /* no execute */
#define VMS_PTE_PFN(e) (((e) & 0x000ffffffffff000ULL) >> 12)
/* The physical address of the task's top table (CR3 without the PCID), for
 * vms_phys_read; 0 for a task the OOM killer killed. */
uint64_t vms_task_pgd(const vms_task *t);
int vms_task_pgtable_levels(const vms_task *t); /* 4 or 5 */
struct vms_pgtable_info {
    int level;                 /* levels..1: the top is the PGD, 1 the PTE table */
    const char *name;          /* "PGD", "P4D", "PUD", "PMD", "PTE" */
    uint64_t pa;               /* the table's physical address */
    vms_addr va;               /* the first address it translates */
    uint64_t span;             /* bytes one of its entries covers: 4 KiB, 2 MiB, 1 GiB, ... */
    const uint64_t *entries;   /* its 512 entries, read-only */
    unsigned present;          /* entries with P set */
    unsigned used;             /* entries that are not zero (present, swap, guard markers) */
};
/* Every table of the task's tree, depth first (a table, then the tables
 * below its entries in index order). -ESRCH for a killed task. */
int vms_pgtable_visit(vms_task *t, int (*fn)(void *arg, const struct vms_pgtable_info *pi),
                      void *arg);

int vms_maps(vms_task *t, FILE *out);         /* /proc/PID/maps text */
/* /proc/meminfo, line for line in Linux's format ("MemTotal:    1048576 kB");
 * 0, or -EIO when out cannot be written. */
int vms_meminfo(vms_machine *m, FILE *out);
/* What a read of a memory cgroup's memory.stat does to its reclaim: the
 * statistics reclaim reads are brought up to date (config.cgroup_flushed_stats). */
void vms_cgroup_flush_stats(vms_machine *m);
/* /proc/PID/smaps: for each line of vms_maps, the VMA's page counts in
 * Linux's format and order (Size, KernelPageSize, MMUPageSize, Rss, Pss,
 * Pss_Dirty, Shared/Private_Clean/Dirty, Referenced, Anonymous, KSM,
 * LazyFree, AnonHugePages, ShmemPmdMapped, FilePmdMapped, Shared_Hugetlb,
 * Private_Hugetlb, Swap, SwapPss, Locked, THPeligible, ProtectionKey when
 * config.pku, VmFlags). 0, -EIO when out cannot be written, or -ESRCH. */
int vms_smaps(vms_task *t, FILE *out);
/* /proc/PID/pagemap: one entry per page from va's page on, as Linux's
 * pagemap_read gives them: bit 63 present, 62 swapped (or a guard region,
 * bit 58 too), 61 a file or shmem page, 56 mapped exclusively by this
 * process; bits 0-54 the frame number of a present page, or a swap entry's
 * type (bits 0-4) and offset (5-54). The frame and swap bits read as 0
 * unless config.privileged (the reader holds CAP_SYS_ADMIN, as root). Bit 55
 * (soft-dirty) is never set: vmsim models a kernel without it. Returns the
 * entries written: npages, fewer when the range reaches the end of user
 * space; -EINVAL for more than INT_MAX; or -ESRCH. */
int vms_pagemap(vms_task *t, vms_addr va, uint64_t *out, size_t npages);
int vms_check(vms_machine *m, FILE *report); /* 0 when every invariant holds */

#ifdef __cplusplus
}
#endif
#endif
