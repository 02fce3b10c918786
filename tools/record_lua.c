/*
 * A Lua scenario's calls and events into a struct record (record_lua.h):
 * hooks that run the tool's own hooks (narration, JSON) first, then record.
 */
#include "record_lua.h"

#include <lua.h>
#include <stdlib.h>

/* Slot 1 is the receiver when it is a machine or a task handle. */
static int has_receiver(lua_State *L, const struct vmsim_lua_call *call)
{
    return call->nargs >= 1 && lua_type(L, 1) == LUA_TUSERDATA;
}

/* ---- the hooks ---- */

static void on_call_begin(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct record_lua *rl = arg;
    if (rl->inner.call_begin)
        rl->inner.call_begin(rl->inner.arg, L, call);
    unsigned machine = 0;
    int pid = 0;
    if (has_receiver(L, call) && !vmsim_lua_to_machine(L, 1, &machine))
        vmsim_lua_task_ids(L, 1, &machine, &pid);
    char *text = vmsim_lua_call_text(L, call, VMSIM_LUA_CALL_NAME_ARGS);
    record_call_begin(rl->rec, machine, pid, call->name, text);
    if (!text)
        rl->rec->failed = 1;
    free(text);
}

static void on_call_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct record_lua *rl = arg;
    if (rl->inner.call_end)
        rl->inner.call_end(rl->inner.arg, L, call);
    int base = lua_gettop(L) - call->nres;
    unsigned machine = 0;
    vms_machine *m = NULL;
    if (has_receiver(L, call)) {
        unsigned ignored;
        int pid;
        m = vmsim_lua_to_machine(L, 1, &ignored);
        if (!m)
            m = vmsim_lua_task_ids(L, 1, &ignored, &pid);
    }
    if (!m && call->nres >= 1) /* vmsim.machine{...} returns its machine */
        m = vmsim_lua_to_machine(L, base + 1, &machine);
    char *result = vmsim_lua_call_text(L, call, VMSIM_LUA_CALL_RESULTS);
    if (!result)
        rl->rec->failed = 1;
    record_call_end(rl->rec, m, machine, result);
    free(result);
}

static void on_event(void *arg, const struct vms_event *ev)
{
    struct record_lua *rl = arg;
    if (rl->inner.event)
        rl->inner.event(rl->inner.arg, ev);
    record_event(rl->rec, ev);
}

static void on_machine_end(void *arg, vms_machine *m, unsigned number)
{
    struct record_lua *rl = arg;
    if (rl->inner.machine_end)
        rl->inner.machine_end(rl->inner.arg, m, number);
    record_snapshot(rl->rec, m, number, 0, 0);
    record_set_machine(rl->rec, number); /* the teardown's events are its */
}

void record_lua_hooks(struct record_lua *rl, struct record *rec,
                      const struct vmsim_lua_hooks *inner, struct vmsim_lua_hooks *out)
{
    rl->rec = rec;
    rl->inner = *inner;
    if (!record_active(rec)) {
        *out = *inner;
        return;
    }
    *out = (struct vmsim_lua_hooks){.arg = rl, .call_begin = on_call_begin,
                                    .call_end = on_call_end, .event = on_event,
                                    .machine_end = on_machine_end};
}
