/*
 * A run's timeline in the Chrome trace-event JSON format (the JSON object
 * form, {"traceEvents": [...]}), which Perfetto and chrome://tracing open.
 * Time is the run's own clock (struct record's ticks: one per call start,
 * event and call end), written as microseconds, so the file is the same on
 * every run. The writer streams: each call, event and counter sample is one
 * line, written when it is known.
 *
 * Tracks: each machine is a process ("machine N"); in it, thread 0 is the
 * machine's own calls, thread 1 + n is CPU n, and a task is the thread of
 * its pid (vmsim's pids start at 1000).
 */
#ifndef VMSIM_PERFETTO_H
#define VMSIM_PERFETTO_H

#include "vmsim.h"

#include <stddef.h>
#include <stdint.h>

struct perfetto;

/* The thread number of CPU n's track, and of the machine's own track. */
#define PERFETTO_CPU_TID(cpu) ((int)(cpu) + 1)
#define PERFETTO_MACHINE_TID 0
/* The reclaim track: kswapd and direct reclaim passes, swap and write-back. */
#define PERFETTO_RECLAIM_TID (VMS_MAX_CPUS + 1)

/* Events drawn on the reclaim track (docs/events.md's reclaim kinds). */
int perfetto_is_reclaim(enum vms_event_kind k);

/* Creates (truncates) path and writes the header; NULL with the reason in
 * err (snprintf semantics). */
struct perfetto *perfetto_open(const char *path, char *err, size_t errsize);
/* Ends the JSON and closes the file: 0, or -1 when a write failed. */
int perfetto_close(struct perfetto *p);

/* Metadata: the machine's process name, and a track's name (once each). */
void perfetto_process(struct perfetto *p, unsigned machine, const char *name);
void perfetto_thread(struct perfetto *p, unsigned machine, int tid, const char *name);

/* A call: a complete event ("X") from begin, lasting end - begin ticks;
 * text is the call as written (may be NULL), result what it returned. */
void perfetto_call(struct perfetto *p, unsigned machine, int tid, uint64_t begin, uint64_t end,
                   const char *name, const char *text, const char *result);
/* A span of the run that is not a call: a chapter of the demo (category
 * "step"), or a reclaim pass from its begin event to its end (category
 * "reclaim", sharing their ticks). */
void perfetto_span(struct perfetto *p, unsigned machine, int tid, uint64_t begin, uint64_t end,
                   const char *name);
void perfetto_slice(struct perfetto *p, unsigned machine, int tid, uint64_t begin, uint64_t end,
                    const char *category, const char *name);
/* An event: an instant ("i", thread scope) whose args are the event's JSON
 * object (docs/events.md). */
void perfetto_event(struct perfetto *p, unsigned machine, int tid, uint64_t ts,
                    const struct vms_event *ev);
/* The counters ("C"): faults, TLB misses, frames used, memory (free
 * frames, swap used), swap I/O (pswpin, pswpout). */
void perfetto_counters(struct perfetto *p, unsigned machine, uint64_t ts,
                       const struct vms_stats *s);

/* The event's name on the timeline: its kind, with the table or the kind
 * of fault ("walk PGD[255]", "fault anon"). */
void perfetto_event_title(const struct vms_event *ev, char *buf, size_t size);

#endif
