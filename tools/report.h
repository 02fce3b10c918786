/*
 * The HTML report of a run (`--html FILE`): a recorder that takes the
 * machine's state after each call through the introspection API of
 * include/vmsim.h (tasks, VMAs, page tables, TLBs, frames, counters) and
 * the events the call raised, keeps only what changed since the last state
 * (a diff per call), and writes it all as one JSON model (docs/report.md
 * describes it) inside a self-contained HTML page (tools/report_html.c,
 * whose template, style and script are in report/).
 *
 * Scale: a state costs work in proportion to its size, so the recorder
 * takes one after every call while the state is small and after every
 * k-th call of a large one (each call still has its own line); after
 * REPORT_DETAILED_CALLS calls, consecutive calls share one step; events are
 * kept word for word up to a budget, then only counted by kind.
 */
#ifndef VMSIM_REPORT_H
#define VMSIM_REPORT_H

#include "vmsim.h"

#include <stdio.h>

#define REPORT_DETAILED_CALLS 2000 /* calls with a step of their own */
#define REPORT_GROUP_CALLS 100     /* calls per step after that */
#define REPORT_EVENT_LINES 5000    /* events kept word for word, in all */
#define REPORT_STEP_EVENT_LINES 200 /* ... and in one step */
#define REPORT_CREDIT_PER_CALL 500  /* state units a call may pay for (see report.c) */

struct report;

/* title: what the page is about (the script's name); NULL when out of memory. */
struct report *report_new(const char *title);
void report_free(struct report *r);

/* Starts watching machine m (number: as the Lua binding numbers them, from
 * 1; label: a line saying what it is). Its first state is taken now. 0, or
 * -ENOMEM. A machine already watched is left alone. */
int report_machine_begin(struct report *r, vms_machine *m, unsigned number);
/* m is about to be destroyed: its last state is taken, and m forgotten. */
void report_machine_end(struct report *r, vms_machine *m);
/* The machine the next events and step belong to (the current call's). */
void report_set_current(struct report *r, vms_machine *m);
void report_event(struct report *r, const struct vms_event *ev);
/* One call on m has returned: name ("mmap"), text (the call and its results
 * as the narration spells them), failed (it returned an error or a signal). */
void report_call(struct report *r, vms_machine *m, const char *name, const char *text,
                 int failed);
/* A note in the timeline (a script error, an expectation): no state. */
void report_note(struct report *r, const char *text);

/* The whole model as JSON (docs/report.md). 0, or -EIO. */
int report_write_json(struct report *r, FILE *out);
/* The page: report/report.html with report/report.css, report/report.js
 * and the model inlined. 0, or -EIO. */
int report_write_html(struct report *r, FILE *out);
/* Writes the page to path (a partial file is removed). 0, or -errno with a
 * message on stderr prefixed by who. */
int report_save_html(struct report *r, const char *path, const char *who);

/* The embedded assets (generated at build time from report/). */
extern const char report_asset_html[];
extern const char report_asset_css[];
extern const char report_asset_js[];
extern const char report_asset_replay_html[]; /* vmsim replay --html (tools/replay_html.c) */
extern const char report_asset_replay_js[];

/* Writes template tpl with its markers filled: the report's style, js as
 * its script, and the model's len bytes of JSON. */
void report_fill_template(FILE *out, const char *tpl, const char *js, const char *model, size_t len);

#endif
