/*
 * host_swap.h - a swap file and memory cgroups on this host, for the
 * programs that measure swapping here (vmsim-swapcheck, vmsim-bench's
 * swap_in_fault). Root only. Everything made is undone by
 * host_swap_teardown, which also runs at exit and on a fatal signal of the
 * process that called host_swap_setup (not of its children), so that swap
 * is on only while the measurement runs.
 */
#ifndef VMSIM_HOST_SWAP_H
#define VMSIM_HOST_SWAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A scratch folder, a swap file of swap_bytes in it, swapon, and a memory
 * cgroup controller found. 0, or -1 with why (snprintf'd into why[len]):
 * not root, no memory cgroup, no swapon. On -1 nothing is left behind. */
int host_swap_setup(uint64_t swap_bytes, char *why, size_t len);
const char *host_swap_dir(void);  /* the scratch folder */
int host_swap_cgroup_v2(void);    /* 1: cgroup v2's memory.max, 0: v1's limit_in_bytes */
/* A fresh cgroup limited to limit bytes (swap unlimited): 0 or -1. */
int host_swap_cgroup_new(uint64_t limit);
/* The calling process moves into the cgroup: 0 or -1. */
int host_swap_cgroup_enter(void);
void host_swap_cgroup_remove(void); /* once its processes have ended */
/* Kills it at teardown if it still runs (the child running a pattern). */
void host_swap_watch_child(pid_t pid);
/* swapoff, the swap file and the cgroup removed; the scratch folder stays. */
void host_swap_off(void);
/* All of it, the scratch folder and what it holds included. Idempotent. */
void host_swap_teardown(void);
/* The host's swap counters (/proc/vmstat). */
uint64_t host_vmstat(const char *key);
/* A value of the current cgroup's memory.stat (bytes for list sizes,
 * events for counters); 0 when it has no such key. */
uint64_t host_swap_cgroup_stat(const char *key);
/* Writes all len bytes (a pipe, a file): 0, or -1 on an error or a short write. */
int host_write_all(int fd, const void *buf, size_t len);

#endif
