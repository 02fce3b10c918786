/*
 * Recording a Lua scenario for the HTML report: hooks of the Lua binding
 * that feed a struct report (report.h) and then call a tool's own hooks.
 */
#ifndef VMSIM_REPORT_LUA_H
#define VMSIM_REPORT_LUA_H

#include "report.h"
#include "vmsim_lua.h"

struct report_lua {
    struct report *r;
    struct vmsim_lua_hooks inner; /* the tool's own hooks, called first */
    vms_machine *call_machine;    /* the machine of the call under way */
};

/* Fills out with hooks that record into r and pass every hook on to inner
 * (copied; its members may be NULL). rl must live as long as the hooks. */
void report_lua_hooks(struct report_lua *rl, struct report *r, const struct vmsim_lua_hooks *inner,
                      struct vmsim_lua_hooks *out);

#endif
