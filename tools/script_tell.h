/*
 * Telling what a Lua script does to its machines, for `vmsim run` (and any
 * tool that runs scripts): each call of a machine or task method with its
 * arguments and results, the events it raised under it in the library's
 * words (vms_event_format) with the demo's colours, or one JSON object per
 * call and event (docs/events.md); each machine's counters when it ends.
 */
#ifndef VMSIM_SCRIPT_TELL_H
#define VMSIM_SCRIPT_TELL_H

#include "narrate.h"
#include "vmsim_lua.h"

#include <stdio.h>

enum tell_mode { TELL_NARRATE, TELL_QUIET, TELL_JSON };

struct teller {
    FILE *out;
    enum tell_mode mode;
    int stats;          /* each machine's counters when it ends */
    struct narrator n;  /* the narration (tools/narrate.c), coloured in TELL_NARRATE only */
};

/* Colour only in TELL_NARRATE mode, and only when color is set. */
void teller_init(struct teller *t, FILE *out, enum tell_mode mode, int stats, int color);

/* The hooks teller_install and teller_install_quiet set, for a tool that
 * chains them with its own. */
void teller_hooks(struct teller *t, struct vmsim_lua_hooks *h);
void teller_quiet_hooks(struct teller *t, struct vmsim_lua_hooks *h);

/* Hooks the teller into L (vmsim_lua_set_hooks) as its mode says. */
void teller_install(struct teller *t, lua_State *L);

/* From now on only the counters (with stats): for the final teardown. */
void teller_install_quiet(struct teller *t, lua_State *L);

/* Ends a call's line left open (the call raised an error). */
void teller_end_line(struct teller *t);

#endif
