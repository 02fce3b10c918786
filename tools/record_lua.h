/*
 * Recording a Lua scenario (vmsim run): the binding's hooks feed a struct
 * record (record.h) after the tool's own hooks (the teller's narration or
 * JSON) have run, so both see every call and event.
 */
#ifndef VMSIM_RECORD_LUA_H
#define VMSIM_RECORD_LUA_H

#include "record.h"
#include "vmsim_lua.h"

struct record_lua {
    struct record *rec;
    struct vmsim_lua_hooks inner; /* the tool's own hooks, run first */
};

/* Fills out with hooks that pass every hook on to inner (copied; its
 * members may be NULL), then record into rec; just inner's when rec records
 * nothing. rl must live as long as the hooks are installed. */
void record_lua_hooks(struct record_lua *rl, struct record *rec,
                      const struct vmsim_lua_hooks *inner, struct vmsim_lua_hooks *out);

#endif
