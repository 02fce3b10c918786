/*
 * What the files of the Lua binding share: the per-state context, the
 * liveness record of a machine (shared by its handle and its tasks'
 * handles, so that a handle outliving its machine raises an error instead
 * of reaching freed memory), argument checkers and return conventions.
 */
#ifndef VMSIM_LUA_BINDING_H
#define VMSIM_LUA_BINDING_H

#include "names.h"
#include "vmsim_lua.h"

#include <lauxlib.h>
#include <lua.h>

#define VL_MACHINE "vmsim.machine"
#define VL_TASK "vmsim.task"

struct vl_machine_rec;

/* One per Lua state (a userdata kept in the registry). */
struct vl_ctx {
    struct vmsim_lua_hooks hooks;
    int hooked;                       /* call_begin or call_end set */
    struct vl_machine_rec *machines;  /* alive, oldest first */
    unsigned long failures;           /* failed expectations */
    unsigned machines_made;           /* numbers the machines 1, 2, ... */
    FILE *report;                     /* where they are printed */
};

/* The liveness record of one machine: malloc'd, freed when the machine
 * handle and every task handle of it are gone. */
struct vl_machine_rec {
    vms_machine *m;     /* NULL once destroyed */
    unsigned refs;      /* handles that point here */
    int busy;           /* inside a library call: its event handler runs */
    int closing;        /* being destroyed: no Lua handler any more */
    lua_State *L;       /* the state of the call in progress */
    int handler;        /* registry reference of on_event's function */
    int handler_error;  /* registry reference of the error it raised */
    struct vl_ctx *ctx;
    struct vl_machine_rec *next, **pprev;
    struct vl_task_ud *tasks; /* every live task handle of the machine */
    unsigned next_group;      /* numbers the address spaces handles share */
    unsigned number; /* 1, 2, ... in the order of creation */
    unsigned ncpus;
    uint64_t phys_bytes;
};

struct vl_machine_ud {
    struct vl_machine_rec *rec;
};

struct vl_task_ud {
    struct vl_machine_rec *rec;
    vms_task *t; /* NULL once exited */
    int pid;
    unsigned machine; /* its machine's number */
    unsigned group;   /* handles of threads sharing an address space share it:
                         execve in one ends the others (they are freed) */
    struct vl_task_ud *next, **pprev; /* in rec->tasks */
};

/* A method: its C function, its name and which arguments/results are
 * addresses (struct vmsim_lua_call.hex). */
struct vl_method {
    const char *name;
    lua_CFunction fn;
    unsigned hex;
};
#define VL_HEX_ARG(i) (1u << ((i) - 1)) /* stack slot i */
#define VL_HEX_RES(j) (1u << (16 + (j) - 1))

/* Registers methods into the table at the top as closures that run the
 * hooks around them. */
void vl_register_methods(lua_State *L, struct vl_ctx *ctx, const struct vl_method *methods);

struct vl_ctx *vl_ctx(lua_State *L);

/* Argument checkers: each raises a Lua error naming the argument. */
struct vl_machine_rec *vl_check_machine(lua_State *L, int arg); /* alive and not busy */
struct vl_task_ud *vl_check_task(lua_State *L, int arg);        /* alive and not busy */
uint64_t vl_check_size(lua_State *L, int arg);   /* integer >= 0 or "64M" */
uint64_t vl_opt_size(lua_State *L, int arg, uint64_t def);
uint64_t vl_check_addr(lua_State *L, int arg);   /* any integer (two's complement) or a string */
int64_t vl_check_flags(lua_State *L, int arg, const struct vl_flag_kind *k);
int64_t vl_opt_flags(lua_State *L, int arg, const struct vl_flag_kind *k, int64_t def);

/* Drops one handle's reference to rec; the last frees it. */
void vl_rec_put(lua_State *L, struct vl_machine_rec *rec);

/* Pushes a new task handle for t (created by a call on rec's machine): in
 * the address-space group `group`, or a new one when 0. */
void vl_push_task(lua_State *L, struct vl_machine_rec *rec, vms_task *t, int machine_arg,
                  unsigned group);

/* Unlinks a task handle from its machine's list (its finalizer). */
void vl_task_unlink(struct vl_task_ud *ud);

/* Before and after a library call on rec's machine: marks it busy, and
 * re-raises an error its event handler raised meanwhile. */
void vl_enter(lua_State *L, struct vl_machine_rec *rec);
void vl_leave(lua_State *L, struct vl_machine_rec *rec);

/* Return conventions: the value, or nil, "ENAME", errno. */
int vl_push_result(lua_State *L, int64_t ret);
int vl_push_errno(lua_State *L, int err);
/* An access: true (or the pushed value), or nil, "SIGSEGV", "SEGV_MAPERR", addr. */
int vl_push_signal(lua_State *L, vms_task *t, int sig);
const char *vl_signal_name(int signo);
const char *vl_si_code_name(int signo, int code);

void vl_open_task(lua_State *L, struct vl_ctx *ctx);      /* the task metatable */
void vl_open_expect(lua_State *L, struct vl_ctx *ctx);    /* vmsim.expect, ... */
void vl_open_replay(lua_State *L, struct vl_ctx *ctx);    /* vmsim.replay */

#endif
