/*
 * vmsim_host.h - the host profile: what one Linux host may differ in from
 * another, read from this host (host/profile.c, library vmsim_host) and put
 * into a machine's config. The one place that reads the host: the tester
 * (vmsim-difftest) and `vmsim follow` both take their machine's config from
 * it, so that the simulated kernel and the host's compare like with like.
 */
#ifndef VMSIM_HOST_H
#define VMSIM_HOST_H

#include <stdint.h>
#include <stdio.h>

#include "vmsim.h"

struct host_profile {
    char kernel[65];            /* uname release */
    int pku;                    /* protection keys usable */
    int pgtable_levels;         /* 4, or 5 with 57-bit addresses */
    int zero_page;              /* anonymous read faults map the zero page */
    int privileged;             /* root: CAP_SYS_RAWIO, CAP_IPC_LOCK */
    uint64_t memlock_rlimit;    /* RLIMIT_MEMLOCK soft limit, bytes; UINT64_MAX unlimited */
    uint64_t stack_rlimit;      /* RLIMIT_STACK soft limit, bytes; UINT64_MAX unlimited */
    uint64_t data_rlimit;       /* RLIMIT_DATA soft limit, bytes; UINT64_MAX unlimited */
    unsigned uid, gid;          /* the real uid and gid (a new program's AT_UID, AT_GID) */
    uint64_t hwcap, hwcap2;     /* AT_HWCAP, AT_HWCAP2 of this process's exec */
    uint64_t minsigstksz;       /* AT_MINSIGSTKSZ of this process's exec */
    unsigned max_map_count;     /* vm.max_map_count */
    uint64_t mmap_min_addr;     /* vm.mmap_min_addr */
    unsigned overcommit_memory; /* vm.overcommit_memory: 0 heuristic, 1 always, 2 never */
    unsigned overcommit_ratio;  /* vm.overcommit_ratio, percent */
    uint64_t overcommit_kbytes; /* vm.overcommit_kbytes */
    uint64_t admin_reserve_kbytes, user_reserve_kbytes; /* vm.admin_/user_reserve_kbytes */
    uint64_t mem_total;         /* MemTotal, bytes */
    uint64_t swap_total;        /* SwapTotal, bytes */
    unsigned page_cluster;      /* vm.page-cluster: swap readahead is 2^N pages */
    unsigned swappiness;        /* vm.swappiness */
    unsigned fault_around_bytes;
    unsigned readahead_kb;      /* the scratch disk's read_ahead_kb */
    unsigned max_sectors_kb;    /* the scratch disk's max_sectors_kb */
    int large_folios;           /* the scratch filesystem caches large folios; -1 unknown */
    int ext4;                   /* the scratch filesystem is ext4, whose holes vmsim models */
    uint64_t max_file_bytes;    /* the scratch filesystem's largest file (s_maxbytes) */
    uint64_t nr_hugepages;      /* vm.nr_hugepages: the default huge page pool */
    uint64_t nr_overcommit_hugepages; /* vm.nr_overcommit_hugepages: surplus pages allowed */
    uint64_t hugepage_kb;       /* /proc/meminfo Hugepagesize: the default page size */
    int gigantic_pages;         /* a 1 GiB hstate exists (MAP_HUGE_1GB is not EINVAL) */
    int hugetlb_as_vmsim;       /* all four as vmsim models: an empty 2 MiB pool, no 1 GiB */
    struct {                    /* where each value came from */
        const char *max_map_count, *mmap_min_addr, *overcommit_memory, *overcommit_ratio;
        const char *overcommit_kbytes, *admin_reserve_kbytes, *user_reserve_kbytes;
        const char *page_cluster, *swappiness, *fault_around_bytes;
        const char *readahead_kb, *max_sectors_kb;
        const char *nr_hugepages, *nr_overcommit_hugepages;
    } src;
    char ra_path[128], ms_path[128]; /* the sysfs files read for the disk */
};

/* Reads the profile of this host; dir is the folder whose disk and
 * filesystem the files under test live on. */
void host_profile_read(struct host_profile *p, const char *dir);
/* Sets every modelled field of c from the profile. */
void host_profile_apply(const struct host_profile *p, struct vms_config *c);
void host_profile_print(const struct host_profile *p, FILE *out);
/* Reads the profile again and says in what (up to len bytes) how the host
 * changed since `then` was read (a swap area turned on, a sysctl set):
 * 0 when it did not, else the number of values that changed. A result the
 * tester got while the host changed under it proves nothing. */
int host_profile_changed(const struct host_profile *then, const char *dir, char *what, size_t len);

#endif
