/*
 * The kernel's objects, named as in Linux's include/linux/mm_types.h and
 * sched.h: the machine (one kernel), its CPUs, tasks, mm_structs and VMAs.
 */
#ifndef VMSIM_MM_TYPES_H
#define VMSIM_MM_TYPES_H

#include "vmsim.h"
#include "extents.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "rbtree.h"
#include "pwc.h"
#include "tlb.h"

/* vm_flags: Linux's bit values, so a reader can match them. */
#define VM_NONE 0x0ULL
#define VM_READ 0x1ULL
#define VM_WRITE 0x2ULL
#define VM_EXEC 0x4ULL
#define VM_SHARED 0x8ULL
#define VM_MAYREAD 0x10ULL
#define VM_MAYWRITE 0x20ULL
#define VM_MAYEXEC 0x40ULL
#define VM_MAYSHARE 0x80ULL
#define VM_GROWSDOWN 0x100ULL
#define VM_PFNMAP 0x400ULL /* pages with no struct page: [vvar] */
#define VM_LOCKED 0x2000ULL
#define VM_IO 0x4000ULL
#define VM_SEQ_READ 0x8000ULL
#define VM_RAND_READ 0x10000ULL
#define VM_DONTCOPY 0x20000ULL
#define VM_DONTEXPAND 0x40000ULL /* special mappings and hugetlbfs: mremap cannot grow them */
#define VM_ACCOUNT 0x100000ULL
#define VM_NORESERVE 0x200000ULL
#define VM_HUGETLB 0x00400000ULL /* a hugetlbfs mapping: see hugetlb.c */
#define VM_SYNC 0x00800000ULL /* MAP_SYNC, kept even where it means nothing */
#define VM_WIPEONFORK 0x02000000ULL
#define VM_HUGEPAGE 0x20000000ULL
#define VM_NOHUGEPAGE 0x40000000ULL
#define VM_MERGEABLE 0x80000000ULL
#define VM_DONTDUMP 0x04000000ULL
#define VM_DROPPABLE (1ULL << 40)
#define VM_PKEY_BIT0 0x100000000ULL /* protection key 1: x86's execute-only key */
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)
#define VM_SPECIAL (VM_IO | VM_DONTEXPAND | VM_PFNMAP)
/* Linux's default PKRU denies data access through every key but 0. */
#define PKRU_DENIES(pkey) ((pkey) != 0)

struct mm_struct;

/* The anonymous memory of a VMA and of its forked copies (Linux's anon_vma):
 * a page points to the anon_vma of the VMA that allocated it; the anon_vma
 * lists every VMA that may map such pages. Freed when no VMA links to it. */
struct anon_vma {
    uint64_t id;
    int refcount;                  /* anon_vma_chain links to it */
    struct anon_vma *parent;       /* the anon_vma it was forked from */
    struct anon_vma_chain *head;   /* the VMAs that may map its pages */
};

/* One link between a VMA and an anon_vma its pages may come from. */
struct anon_vma_chain {
    struct vm_area_struct *vma;
    struct anon_vma *anon_vma;
    struct anon_vma_chain *same_vma;   /* the VMA's next link */
    struct anon_vma_chain *prev, *next; /* in anon_vma->head */
};

enum mapping_kind { MAPPING_SHMEM, MAPPING_FILE };

/* A memory object with a page cache (Linux's inode + address_space): the shmem
 * object behind MAP_SHARED|MAP_ANONYMOUS ("/dev/zero (deleted)"), or a host
 * file. Pages are kept in a radix index by page offset. */
struct address_space {
    enum mapping_kind kind;
    uint64_t ino;
    unsigned dev_major, dev_minor;
    uint64_t size;                 /* i_size in bytes */
    int refcount;                  /* VMAs and open files using it */
    struct xarray *pages;
    struct vm_area_struct *i_mmap; /* VMAs that map it (Linux's i_mmap tree) */
    uint64_t nrdirty;              /* pages with PG_dirty */
    /* host files only */
    int host_fd;                   /* reads the host file: read-only */
    int host_wfd;                  /* writes it: -1 until the machine opens the file for
                                      writing, so that a file only read is never held open
                                      for writing (a program run from it would fail) */
    uint64_t host_dev, host_ino;   /* the page-cache key */
    struct extent_tree extents;    /* which blocks hold data, the rest are holes */
    int da_alloc_close;            /* truncated to 0: the next release of an open file of it
                                      writes its delayed blocks (ext4's auto_da_alloc) */
    char *path;                    /* as the machine sees it: "/" is its root folder */
    struct address_space *next, *prev; /* the machine's inodes */
    struct xarray *swapped;        /* shmem only: page index -> the swap slot holding it */
    struct xarray *shadows;        /* host files: page index -> what reclaim left of the page
                                      it freed there (src/workingset.c); NULL until then */
    /* shmem only: its size is committed (made without MAP_NORESERVE) */
    int commit_charged;
    uint64_t commit_walk;          /* the last committed_pages() walk that counted it */
};

/* Readahead state of an open file (Linux's file_ra_state). */
struct file_ra_state {
    uint64_t start, size, async_size; /* pages */
    uint64_t prev_pos;                /* where the last read() ended; UINT64_MAX: none */
    unsigned order;                   /* folio order of the last window (large folios) */
    unsigned mmap_miss;               /* faults that missed the cache, less pages hit */
};

/* An open file description (Linux's struct file). */
struct vms_file {
    struct file_ra_state ra;
    int refcount;   /* descriptors and VMAs */
    int flags;      /* open(2) flags */
    int readable, writable, is_dir;
    unsigned mode;  /* st_mode of the host file */
    uint64_t dir_size; /* a directory's st_size on the host (directories have no page cache) */
    uint64_t pos;
    struct address_space *mapping;
};

/* A task's descriptor table, shared by threads. */
struct files_struct {
    int refcount;
    int max;
    struct vms_file **fd;
};

struct vm_area_struct {
    uint64_t vm_start, vm_end; /* [vm_start, vm_end) */
    uint64_t vm_flags;
    uint64_t vm_pgoff;         /* offset in the object, in pages (anon: vm_start >> 12) */
    struct vm_area_struct *vm_next, *vm_prev; /* sorted list */
    struct rb_node vm_rb;
    uint64_t rb_subtree_gap;   /* largest gap before a VMA in this subtree */
    struct mm_struct *vm_mm;
    struct anon_vma *anon_vma;          /* where its new anonymous pages point */
    struct anon_vma_chain *anon_vma_chain; /* its own anon_vma and its ancestors' */
    struct vms_file *vm_file;       /* the file mapped, NULL for anonymous memory */
    struct address_space *mapping;  /* its pages: the file's, or the shmem object's */
    struct vm_area_struct *shared_next, *shared_prev; /* in mapping->i_mmap */
    int may_have_guards;       /* MADV_GUARD_INSTALL was used: fork copies its tables */
    uint64_t hugetlb_ino;      /* VM_HUGETLB: the inode of its hugetlbfs file (for the maps) */
    const char *vm_name;       /* a special mapping's name ("[vdso]", "[vvar]", ...): it
                                  never merges and shows no file in the maps */
};

#define AT_VECTOR_WORDS 64 /* Linux's AT_VECTOR_SIZE on x86-64: the saved auxv's room */

/* What execve set up in an mm (Linux keeps these in mm_struct). */
struct mm_exec_layout {
    int done;                      /* an execve built this mm: the maps show [vsyscall] */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t vdso;                 /* context.vdso: the start of [vdso] */
    uint64_t entry, sp, at_entry, at_base, at_phdr, at_random, at_execfn, load_bias;
    uint64_t auxv_addr;            /* where create_elf_tables put the vector */
    unsigned auxv_words;           /* saved_auxv's words up to AT_NULL's pair */
    uint64_t saved_auxv[AT_VECTOR_WORDS];
};

struct mm_struct {
    vms_machine *m;
    uint32_t pgd;                   /* frame of the top-level table */
    struct rb_root mm_rb;
    struct vm_area_struct *mmap;    /* lowest VMA; list sorted by address */
    int map_count;
    uint64_t highest_vm_end;
    uint64_t mmap_base;
    uint64_t task_size;             /* end of user space */
    uint64_t map_window;            /* top of the default search window */
    int users;                      /* tasks using this mm */
    uint64_t cpumask;               /* CPUs that may hold its TLB entries */
    uint64_t tlb_gen;               /* bumped by every flush request */
    uint64_t ctx_id;                /* unique, never reused (PCID bookkeeping) */
    uint64_t total_vm;              /* pages mapped */
    uint64_t locked_vm;             /* pages in VM_LOCKED VMAs */
    /* The process's OOM settings (Linux keeps them in signal_struct: one
     * per process, as an mm is here; fork copies them). */
    int oom_score_adj;              /* -1000 (never killed) .. 1000 */
    int oom_score_adj_min;          /* lowest value an unprivileged task may set */
    int oom_victim;                 /* killed by the OOM killer, memory not yet reaped */
    struct mm_exec_layout exec;     /* code, data, heap and stack bounds from execve */
    struct mm_struct *mm_next, *mm_prev; /* machine's list of mms */
};

struct vms_task {
    vms_machine *m;
    struct mm_struct *mm;
    struct files_struct *files;
    int in_uaccess; /* the kernel is copying to or from user memory: faults raise no signal */
    int pagefault_disabled; /* an atomic kernel copy: a fault ends it, unhandled */
    unsigned cpu;
    struct cpu *cpu_ptr;  /* &m->cpus[cpu], for the access fast path */
    int pid;
    char comm[16];
    uint64_t min_flt, maj_flt;
    struct vms_fault fault;
    /* The OOM killer killed its process: every call on it fails (a system
     * call with -ESRCH, an access with SIGKILL) until vms_exit releases the
     * handle. Once reaped, mm points at the machine's exited_mm and files is
     * NULL. */
    int oom_killed;
    struct vms_task *next, *prev; /* machine's task list */
};

#define TLB_NR_DYN_ASIDS 6 /* PCIDs a CPU keeps live at once, as Linux */

struct cpu {
    unsigned id;
    struct mm_struct *loaded_mm;  /* whose pgd is in CR3 */
    /* The mm of the task running here; NULL when the CPU idles in lazy TLB
     * mode, still in loaded_mm's tables and cpumask, receiving no ordinary
     * shootdowns (the access fast path checks this field). */
    struct mm_struct *running_mm;
    struct vms_task *curr;        /* the task that last ran here */
    uint64_t tlb_gen;             /* loaded_mm's tlb_gen this TLB is current with (no PCID) */
    uint64_t pcid;               /* tag of the current context; 0 when PCID is off (64 bits: one OR makes a TLB key) */
    uint64_t tick;               /* LRU clock for the L2 TLB and the paging-structure caches
                                    (entries keep its low 32 bits) */
    /* Each L1 TLB's own LRU clock: it ticks at every stamp of one of its
     * entries, so its entries are in the same order as on one clock for
     * all (a TLB's stamps are only compared with each other). `slow`
     * counts the ticks of the slow path; the others are the fast path's
     * hits, which then need no counter of their own (cpu_stats_read). */
    struct l1_clock {
        uint64_t now, slow;
    } dclock, iclock;
    struct tlb dtlb, itlb, stlb;
    struct pwc pwc;              /* paging-structure caches */
    struct { uint64_t ctx_id, tlb_gen; } asid[TLB_NR_DYN_ASIDS];
    unsigned next_asid;
    struct vms_cpu_stats st;
};

#define SWAP_HAS_CACHE 0x8000 /* in swap_map: the swap cache holds a page for the slot */
#define SWAP_MAP_BAD 0x7fff   /* in swap_map: never handed out (the header) */

/* The one swap area (Linux's swap_info_struct), src/swapfile.c. */
struct swap_info {
    int fd;                  /* the host file; -1 without swap */
    uint64_t max;            /* slots, the header's included */
    uint16_t *map;           /* per slot: swap entries naming it, | SWAP_HAS_CACHE */
    uint32_t *cache;         /* per slot: the swap cache's frame + 1, or 0 (swap_cache_pfn) */
    uint32_t *cluster_used;  /* per cluster of 512 slots: slots in use */
    uint64_t nr_clusters;
    uint64_t next;           /* the next slot to try in the current cluster; 0: none */
    uint64_t inuse;          /* slots in use */
    uint64_t *shadow;        /* per slot: what reclaim left of the page it freed (a
                                workingset shadow entry, src/workingset.c), or 0 */
    uint64_t ra_prev_offset; /* swap-in readahead's state (swapin_nr_pages) */
    unsigned ra_hits, ra_last_pages;
    uint64_t nr_cache;       /* pages in the swap cache (Linux's NR_SWAPCACHE) */
};

struct vms_machine {
    struct vms_config cfg;
    struct phys_mem pm;
    struct cpu *cpus;
    unsigned ncpus;
    struct vms_task *tasks;       /* all live tasks */
    struct mm_struct *mms;        /* all live mms */
    int next_pid;
    uint64_t next_ctx_id, next_anon_vma_id, next_ino;
    uint64_t minor_faults, major_faults, cow_faults;
    uint64_t aslr_state;
    int root_fd;                  /* the root folder, O_PATH */
    char *root_path;              /* its real path on the host */
    int namei_by_hand;            /* the host refuses openat2: src/namei.c resolves */
    struct address_space *inodes; /* every host file the machine has opened */
    struct vms_io_stats io;
    uint64_t commit_walks;        /* committed_pages() walks so far */
    /* The task whose system call or access runs now (Linux's current); NULL
     * in a call made for no task (vms_spawn, vms_sync). The OOM killer must
     * not tear down its mm under its feet: a kill of it waits for the reaper. */
    struct vms_task *current;
    int oom_reap_pending;         /* a victim's mm waits for the OOM reaper */
    /* What a killed task's mm points at once reaped: an empty mm no CPU
     * ever runs, so the access fast path can never hit for it. */
    struct mm_struct exited_mm;
    uint64_t oom_kills;           /* vmstat's oom_kill */
    /* Reclaim (src/vmscan.c). */
    uint64_t wmark[3];            /* min, low, high watermarks, in free frames */
    int kswapd_failures;          /* balance runs in a row that freed nothing */
    int in_reclaim;               /* reclaim runs: no reclaim inside it */
    uint64_t anon_cost, file_cost; /* what reclaiming each type cost lately */
    uint64_t nonresident_age;     /* evictions and activations so far (workingset.c) */
    /* workingset_activate_anon and _file when reclaim last returned: new
     * activations since mean a new workingset (prepare_scan_control). */
    uint64_t refaults_seen[2];
    /* The cgroup's statistics as last flushed (config.cgroup_flushed_stats):
     * the four lists' sizes and workingset_activate_anon and _file. */
    struct {
        uint64_t lru[4];
        uint64_t activate[2];
    } flushed;
    /* Swap writes reclaim started and the device has not ended yet: the
     * folios (first frames) and the reclaim pass that started each. */
    struct {
        uint32_t *pfn;
        uint64_t *pass;
        size_t n, cap;
    } writeback;
    uint64_t reclaim_pass;        /* shrink_node calls so far */
    struct vms_vmstat vmstat;
    uint64_t nr_swap_used;        /* swap slots in use */
    struct swap_info swap;
    char oom_msg[256];            /* the kernel log line of the last kill */
};

enum { WMARK_MIN, WMARK_LOW, WMARK_HIGH };

static inline uint32_t swap_cache_pfn(const vms_machine *m, uint64_t off)
{
    return m->swap.cache[off] ? m->swap.cache[off] - 1 : PFN_NONE;
}

/* A macro, so that the event is only built when someone is listening. */
#define trace_event(m, ...)                                                  \
    do {                                                                     \
        if (__builtin_expect((m)->cfg.trace != NULL, 0))                     \
            (m)->cfg.trace((m)->cfg.trace_arg, __VA_ARGS__);                 \
    } while (0)

#endif
