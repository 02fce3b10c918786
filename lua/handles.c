/*
 * The objects behind the handles, for the tools: a tool may look inside a
 * machine between calls (maps, walks, counters) with the C API itself.
 */
#include "binding.h"

vms_machine *vmsim_lua_to_machine(lua_State *L, int index, unsigned *number)
{
    struct vl_machine_ud *ud = luaL_testudata(L, index, VL_MACHINE);
    if (!ud || !ud->rec || !ud->rec->m)
        return NULL;
    if (number)
        *number = ud->rec->number;
    return ud->rec->m;
}

vms_task *vmsim_lua_to_task(lua_State *L, int index)
{
    struct vl_task_ud *ud = luaL_testudata(L, index, VL_TASK);
    if (!ud || !ud->rec || !ud->rec->m)
        return NULL;
    return ud->t;
}

vms_machine *vmsim_lua_task_ids(lua_State *L, int index, unsigned *machine, int *pid)
{
    struct vl_task_ud *ud = luaL_testudata(L, index, VL_TASK);
    if (!ud)
        return NULL;
    *machine = ud->machine;
    *pid = ud->pid;
    return ud->rec ? ud->rec->m : NULL;
}
