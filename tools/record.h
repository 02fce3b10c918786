/*
 * Pictures of a run, for print and docs: what `--perfetto FILE`, `--dot DIR`
 * and `--svg DIR` of vmsim run, demo and compare share. A struct record
 * watches a run (calls, the events under them, each machine's end) on a
 * deterministic clock and hands it to the writers: the timeline in the
 * Chrome trace-event format (perfetto.c), Graphviz graphs (dot.c) and
 * hand-made SVG (svg.c). The tools feed it from their own sources: the Lua
 * binding's hooks (record_lua.c), the demo's story, the oracle's steps.
 */
#ifndef VMSIM_RECORD_H
#define VMSIM_RECORD_H

#include "vmsim.h"

#include <stddef.h>
#include <stdint.h>

/* The command-line options; NULL: not asked for. */
struct picture_options {
    const char *perfetto; /* FILE: the timeline, Chrome trace-event JSON */
    const char *dot;      /* DIR: Graphviz graphs of each address space */
    const char *svg;      /* DIR: SVG pictures of each machine */
    const char *walk;     /* ADDR: the walk to highlight in the page-table trees */
};

/* Takes argv[*i] (and its value) when it is one of the options above:
 * 1 (with *i on its last word), 0 when it is not one, or -1 after printing
 * "TOOL: OPTION needs a file" on stderr. "--opt=VALUE" is accepted too. */
int picture_option(int argc, char **argv, int *i, struct picture_options *o, const char *tool);
/* The options' lines for a --help text. */
extern const char picture_options_help[];

/* How many kinds of event the per-call counts keep (the last one counts
 * every kind this build does not know). */
#define RECORD_KINDS 24 /* every kind up to VMS_EV_REFAULT, then "other" */

/* One call, as the timeline picture shows it. */
struct record_call {
    unsigned machine;   /* 1, 2, ... */
    int task;           /* the pid it was called on; 0: the machine */
    uint64_t begin, end; /* ticks */
    char name[24];
    char text[120];     /* the call as written, cut to fit */
    char result[64];
    unsigned kinds[RECORD_KINDS]; /* events under it, by kind */
    uint64_t minor_faults, major_faults, tlb_misses, frames_used; /* after it */
    uint64_t swap_used, pswpin, pswpout; /* pages, after it */
};

struct record_track {
    unsigned machine;
    int tid;
    uint64_t counters[11]; /* on the machine's track: the counters last written */
    uint64_t reclaim_begin; /* on the reclaim track: the tick of the open pass's begin */
};

struct record {
    struct picture_options opt;
    struct perfetto *perfetto;
    uint64_t tick;           /* one per call start, event and call end */
    int in_call;
    struct record_call cur;  /* the call in progress */
    char *cur_text;          /* its whole text */
    unsigned event_machine;  /* events outside calls belong to this machine */
    struct record_call *calls;
    size_t ncalls, calls_cap;
    struct record_track *tracks; /* named so far (machine tid 0: the machine itself) */
    size_t ntracks, tracks_cap;
    int failed;              /* out of memory or a write failed */
    int has_walk;
    vms_addr walk;           /* --walk's address */
    unsigned drawn[64];      /* machines already drawn */
    size_t ndrawn;
};

/* 0, or -1 with the reason in err: a file cannot be written. */
int record_open(struct record *r, const struct picture_options *o, char *err, size_t errsize);
/* Writes what is written at the end and frees r: 0, or -1 after a failed
 * write (the message on stderr, prefixed by tool). */
int record_close(struct record *r, const char *tool);
int record_active(const struct record *r);
/* Draws machine `number`'s state now (--dot, --svg), once per machine: the
 * tools call it when a machine ends, or at the moment that shows the most.
 * default_walk (used when has_default) is the address whose walk the trees
 * highlight when --walk did not choose one. */
void record_snapshot(struct record *r, vms_machine *m, unsigned number, int has_default,
                     vms_addr default_walk);

/* A call on machine `machine` (0: not known yet), on task `task` (its pid;
 * 0 for the machine itself). text: the call as written (may be NULL). */
void record_call_begin(struct record *r, unsigned machine, int task, const char *name,
                       const char *text);
/* The call returned `result`; m (may be NULL: destroyed) gives the counters;
 * machine, when not 0, is the call's machine if begin did not know it. */
void record_call_end(struct record *r, vms_machine *m, unsigned machine, const char *result);
/* An event of the machine of the call in progress (or, outside a call, of
 * the last machine named). */
void record_event(struct record *r, const struct vms_event *ev);
/* A span that is not a call (a chapter of the demo), on the machine's own
 * track, written when it ends. */
uint64_t record_span_begin(struct record *r);
void record_span_end(struct record *r, unsigned machine, uint64_t begin, const char *name);
/* Events from now on belong to machine (its end, or a setup outside calls). */
void record_set_machine(struct record *r, unsigned machine);

#endif
