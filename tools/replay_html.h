/*
 * vmsim replay --html FILE: the replay's figures as one self-contained page
 * (report/replay.html and replay.js with the report's style): resident
 * memory over time, TLB hits and misses and faults per region, the
 * memory-size curve beside vmsim's own runs at chosen RAM sizes.
 */
#ifndef VMSIM_REPLAY_HTML_H
#define VMSIM_REPLAY_HTML_H

#include "replay.h"

#include <stdio.h>

/* One replay again at another RAM size (vmsim replay --ram). */
struct ram_run {
    uint64_t bytes, minflt, majflt, pswpin, pswpout;
    int oom, failed;
};

/* The page's model (JSON, docs/traces.md) of the replay of trace (exec: the
 * recorded program, or NULL) into out; 0, or -1 when a write failed. */
int replay_write_model(FILE *out, const char *trace, const char *exec,
                       const struct vmt_replay_result *r, const struct ram_run *runs, int nruns);
/* The page at path (a partial file is removed): 0, or -1 with a message on
 * stderr. */
int replay_save_html(const char *path, const char *trace, const char *exec,
                     const struct vmt_replay_result *r, const struct ram_run *runs, int nruns);

#endif
