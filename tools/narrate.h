/*
 * Narration of Lua scenarios, shared by `vmsim run` and `vmsim shell`: each
 * call of a machine or task method on a line with its arguments and its
 * results, and under it, indented, every event the call raised in the
 * library's words (vms_event_format), coloured by kind as `vmsim demo`
 * colours them (only when the palette has colour: on a terminal). When
 * events came between a call and its end, the results follow them on a line
 * of their own, aligned with the events:
 *
 *   task 1000: store(0x7ffff7ffe000, "Hi")
 *       miss   CPU 0  L1 DTLB miss, L2 TLB miss: walk the page tables
 *       ...
 *       = true
 *
 * Also the machine's counters as a table, with their change.
 */
#ifndef VMSIM_NARRATE_H
#define VMSIM_NARRATE_H

#include "demo.h"
#include "vmsim_lua.h"

struct narrator {
    FILE *out;
    struct palette c;
    int open_call; /* a call's line is printed, its results not yet */
};

void narrator_init(struct narrator *n, FILE *out, int color);

/* The hooks, their arg a struct narrator. */
void narrate_call_begin(void *narrator, lua_State *L, const struct vmsim_lua_call *call);
void narrate_call_end(void *narrator, lua_State *L, const struct vmsim_lua_call *call);
void narrate_event(void *narrator, const struct vms_event *ev);
/* Sets the hooks above in h (arg included); other members are left alone. */
void narrator_hooks(struct narrator *n, struct vmsim_lua_hooks *h);

/* Ends the line of a call that has no end (it raised a Lua error), so that
 * what follows starts on a line of its own. */
void narrate_end_line(struct narrator *n);

/* The machine-wide counters of struct vms_stats, by name. */
struct narrate_counter {
    const char *name; /* the field's name: "minor_faults", "io.disk_to_cache" */
    size_t offset;    /* of its uint64_t in struct vms_stats */
};
extern const struct narrate_counter narrate_counters[];
extern const size_t narrate_nr_counters;
uint64_t narrate_counter_value(const struct vms_stats *s, const struct narrate_counter *c);

/* "counters of machine N:", then one counter a line; with change (NULL for
 * none) a second column, signed, headed change_title. */
void narrate_stats(struct narrator *n, unsigned machine, const struct vms_stats *now,
                   const struct vms_stats *change, const char *change_title);

#endif
