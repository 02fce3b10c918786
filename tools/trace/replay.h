/*
 * replay.h - a .vmt trace run on a vmsim machine (replay.c): the recorded
 * program's exec image, its mm calls at the traced addresses, then every
 * access; the machine's figures in total, per CPU and per region. Uses
 * vmsim through include/vmsim.h only, so that anything linking libvmsim
 * can replay (the tool, the benchmarks).
 */
#ifndef VMSIM_REPLAY_H
#define VMSIM_REPLAY_H

#include "lru.h"
#include "vmsim.h"

#include <stdio.h>

#define VMT_REGION_NAME 64

/* What happened in one region of the address space: the program's text,
 * data, bss, heap, stack, each library (by file name), each mmap. */
struct vmt_region {
    char name[VMT_REGION_NAME];
    uint64_t accesses, loads, stores, fetches;
    struct vms_cpu_stats cpu; /* TLB hits and misses, walks, walk references */
    uint64_t minflt, majflt;
    uint64_t pgtables;        /* page-table pages made for its addresses */
    uint64_t resident;        /* pages resident at the end (mincore) */
    uint64_t signals;         /* accesses that raised a signal */
};

/* The machine's memory at one moment of the replay. */
struct vmt_sample {
    uint64_t access;                      /* accesses replayed so far */
    uint64_t frames_used, cache_frames, pgtable_frames;
    uint64_t minflt, majflt;
};

/* A region's resident pages at a sample (by_region only). */
struct vmt_region_sample {
    size_t sample, region; /* indexes into samples[] and regions[] */
    uint64_t resident;
};

struct vmt_replay_opts {
    struct vms_config config; /* root "/" for a recorded program */
    int by_region;            /* split every figure by region (reads counters after each access) */
    unsigned samples;         /* resident-memory samples over the run (0: none) */
    int lru;                  /* the reuse-distance pass (lru.h) */
    FILE *notes;              /* what the replay did that the trace did not say; NULL: quiet */
};

struct vmt_replay_result {
    uint64_t records, accesses, mm_calls;
    uint64_t mm_differ;       /* mm calls whose result differed from the recorded one */
    uint64_t vmas_made;       /* anonymous VMAs made for memory no mm call made */
    uint64_t signals;         /* accesses that raised a signal */
    int exec_done;            /* vms_execve of the recorded image succeeded */
    struct vms_stats stats;   /* at the end */
    uint64_t minflt, majflt;  /* the task's */
    struct vmt_region *regions;
    size_t nregions;
    struct vmt_sample *samples;
    size_t nsamples;
    struct vmt_region_sample *region_samples; /* regions with pages resident, per sample */
    size_t nregion_samples;
    struct lru lru;
    int has_lru;
    int has_native;           /* the recording's native run: */
    uint64_t native_minflt, native_majflt;
    int oom_killed;           /* the OOM killer ended the replayed process */
};

/* Defaults: vms_config_init, one CPU, nothing split, 64 samples. */
void vmt_replay_opts_init(struct vmt_replay_opts *o);
/* Replays the trace read from in. 0, or -1 with a message in err (the
 * trace's own error, or a machine that could not be made); res holds what
 * was replayed up to there in both cases, freed by vmt_replay_result_free. */
int vmt_replay(FILE *in, const struct vmt_replay_opts *o, struct vmt_replay_result *res,
               char *err, size_t errlen);
void vmt_replay_result_free(struct vmt_replay_result *res);

/* Every CPU's TLB and walk counters at the end, added up. */
void vmt_replay_cpu_total(const struct vmt_replay_result *res, struct vms_cpu_stats *sum);

#endif
