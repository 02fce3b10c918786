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

/* Installs inner's hooks in L, and the recorder's after them when rec
 * records anything. rl must live as long as the hooks are in L. */
void record_lua_install(struct record_lua *rl, struct record *rec, lua_State *L,
                        const struct vmsim_lua_hooks *inner);

#endif
