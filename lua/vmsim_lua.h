/*
 * The Lua 5.4 binding of vmsim, as the tools embed it. The same code is the
 * loadable module vmsim.so (`local vmsim = require "vmsim"`); docs/lua.md is
 * the reference of what scripts see. The tools add hooks (every call and
 * every event of every machine, for narration and --json) and the teachers'
 * expectations expect() and expect_eq().
 */
#ifndef VMSIM_LUA_H
#define VMSIM_LUA_H

#include "vmsim.h"

#include <lua.h>
#include <stdio.h>

/* The module's entry point: pushes the vmsim table. */
int luaopen_vmsim(lua_State *L);

/* One call of a machine or task method, as the hooks see it: the
 * arguments are the stack slots 1..nargs (slot 1 is the machine or task),
 * the results (at call_end) the nres slots above them. */
struct vmsim_lua_call {
    const char *name; /* the method: "mmap", "store", ... */
    int nargs, nres;
    unsigned hex;     /* bit i: slot i+1 is an address, best shown in hex;
                         bit 16+j: so is result j+1 */
};

/* What a tool watches. Each method call runs between call_begin and
 * call_end; the events of the machine come in between (or outside any call,
 * when a machine no script handle reaches is collected). A call that raises
 * a Lua error (a bad argument) has no call_end. Any member may be NULL. */
struct vmsim_lua_hooks {
    void *arg;
    void (*call_begin)(void *arg, lua_State *L, const struct vmsim_lua_call *call);
    void (*call_end)(void *arg, lua_State *L, const struct vmsim_lua_call *call);
    void (*event)(void *arg, const struct vms_event *ev);
    /* Machine `number` (1, 2, ... in the order of creation in this state)
     * is about to be destroyed: its counters are final. */
    void (*machine_end)(void *arg, vms_machine *m, unsigned number);
};

/* A new Lua state with the standard libraries, package.loaded.vmsim and the
 * global `vmsim` set, and expect/expect_eq installed (failures reported on
 * `report`). NULL when out of memory. */
lua_State *vmsim_lua_new_state(FILE *report);

/* Installs the hooks (copied) for every machine created from now on and for
 * the calls of every machine. luaopen_vmsim must have run in L. */
void vmsim_lua_set_hooks(lua_State *L, const struct vmsim_lua_hooks *hooks);

/* Installs expect(cond, msg) and expect_eq(got, want, what) as globals;
 * failures are printed on `report` with the script's file:line. */
void vmsim_lua_install_expect(lua_State *L, FILE *report);

/* How many expectations have failed in L so far. */
unsigned long vmsim_lua_failures(lua_State *L);

/* Destroys every machine still alive in L, oldest first (dirty file pages
 * are written back); their handles then raise errors. Returns how many. */
int vmsim_lua_destroy_machines(lua_State *L);

/* Writes a Lua value as JSON (nil: null; a task: {"machine":N,"task":PID};
 * a machine: {"machine":N}; tables with keys 1..n as arrays, other tables as objects;
 * functions and other values as strings naming their type). */
void vmsim_lua_write_json(lua_State *L, int index, FILE *out);

/* Writes a Lua value as a script would spell it: strings quoted with Lua's
 * escapes (long ones cut), integers in decimal (hex when as_hex), tables one
 * level deep ({levels = 4, pa = 0x6000, steps = {...}}, at most eight
 * fields, address fields in hex), a task as "task PID", a machine as
 * "machine N". */
void vmsim_lua_write_value(lua_State *L, int index, int as_hex, FILE *out);

/* A hooked call as a script spells it, for the tools' narration, report
 * and pictures: one writer, so that every tool shows a call the same way.
 * The receiver ("task 1000: ", "machine 1: ", or "vmsim." for a function
 * of the module); the arguments after it in parentheses, addresses in hex
 * ("(0x0, 8192, "rw", "private|anonymous")"); at call_end only, the
 * results, comma separated ("0x7ffff7ffe000" or "nil, "ENOMEM", 12"). */
void vmsim_lua_write_receiver(lua_State *L, const struct vmsim_lua_call *call, FILE *out);
void vmsim_lua_write_args(lua_State *L, const struct vmsim_lua_call *call, FILE *out);
void vmsim_lua_write_results(lua_State *L, const struct vmsim_lua_call *call, FILE *out);
/* The parts of vmsim_lua_call_text. */
enum { VMSIM_LUA_CALL_RECEIVER = 1, VMSIM_LUA_CALL_NAME_ARGS = 2, VMSIM_LUA_CALL_RESULTS = 4 };
/* The parts chosen in a string the caller frees (NULL when out of memory):
 * all three give "task 1000: mmap(0x0, 8192, ...) = 0x7ffff7ffe000". */
char *vmsim_lua_call_text(lua_State *L, const struct vmsim_lua_call *call, unsigned parts);

/* The machine or the task behind the handle at index, for a tool that looks
 * inside between calls (vmsim shell's :maps, :walk, :stats); NULL when the
 * value is no such handle, its machine is destroyed or the task has exited.
 * number (may be NULL) gets the machine's number. */
vms_machine *vmsim_lua_to_machine(lua_State *L, int index, unsigned *number);
vms_task *vmsim_lua_to_task(lua_State *L, int index);
/* The task handle at index, even of a task that has exited: its machine's
 * number and its pid, and the machine (NULL once destroyed); NULL without
 * touching machine and pid when the value is no task handle. */
vms_machine *vmsim_lua_task_ids(lua_State *L, int index, unsigned *machine, int *pid);

#endif
