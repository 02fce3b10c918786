/*
 * The report of a Lua scenario (report_lua.h): hooks that feed the
 * recorder (report.c) with every machine the script makes, every call on
 * it with its arguments and results as the narration spells them, and the
 * events under it, and then pass each hook on to the tool's own hooks
 * (narration, --json), which see exactly what they saw without a report.
 */
#include "report_lua.h"

#include <lua.h>
#include <stdlib.h>
#include <string.h>

/* The machine behind slot index, a machine or a task handle, or NULL. */
static vms_machine *machine_at(lua_State *L, int index, unsigned *number)
{
    if (lua_type(L, index) != LUA_TUSERDATA)
        return NULL;
    vms_machine *m = vmsim_lua_to_machine(L, index, number);
    if (m)
        return m;
    vms_task *t = vmsim_lua_to_task(L, index);
    return t ? vms_task_machine(t) : NULL;
}

static void rl_call_begin(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct report_lua *rl = arg;
    if (rl->inner.call_begin)
        rl->inner.call_begin(rl->inner.arg, L, call);
    rl->call_machine = call->nargs >= 1 ? machine_at(L, 1, NULL) : NULL;
    report_set_current(rl->r, rl->call_machine);
}

static void rl_call_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct report_lua *rl = arg;
    if (rl->inner.call_end)
        rl->inner.call_end(rl->inner.arg, L, call);
    int base = lua_gettop(L) - call->nres;
    vms_machine *m = rl->call_machine;
    if (!m && strcmp(call->name, "machine") == 0 && call->nres >= 1) {
        unsigned number = 0;
        m = machine_at(L, base + 1, &number);
        if (m)
            report_machine_begin(rl->r, m, number);
    }
    /* nil, "ENAME" ...: an error; nil, "SIGSEGV" ...: a signal. */
    int failed = call->nres >= 2 && lua_isnil(L, base + 1) && lua_type(L, base + 2) == LUA_TSTRING;
    char *text = vmsim_lua_call_text(L, call, VMSIM_LUA_CALL_RECEIVER | VMSIM_LUA_CALL_NAME_ARGS |
                                                  VMSIM_LUA_CALL_RESULTS);
    report_call(rl->r, m, call->name, text ? text : call->name, failed);
    free(text);
    rl->call_machine = NULL;
}

static void rl_event(void *arg, const struct vms_event *ev)
{
    struct report_lua *rl = arg;
    if (rl->inner.event)
        rl->inner.event(rl->inner.arg, ev);
    report_event(rl->r, ev);
}

static void rl_machine_end(void *arg, vms_machine *m, unsigned number)
{
    struct report_lua *rl = arg;
    if (rl->inner.machine_end)
        rl->inner.machine_end(rl->inner.arg, m, number);
    report_machine_end(rl->r, m);
}

void report_lua_hooks(struct report_lua *rl, struct report *r, const struct vmsim_lua_hooks *inner,
                      struct vmsim_lua_hooks *out)
{
    rl->r = r;
    rl->inner = *inner;
    rl->call_machine = NULL;
    *out = (struct vmsim_lua_hooks){.arg = rl,
                                    .call_begin = rl_call_begin,
                                    .call_end = rl_call_end,
                                    .event = rl_event,
                                    .machine_end = rl_machine_end};
}
