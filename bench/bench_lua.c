/*
 * lua_store: what a store costs a Lua script. The loop is the one a script
 * writes, `for i = 1, n do t:store(a, s) end`, timed around the whole run;
 * the host side runs the same loop on a userdata whose store method copies
 * the bytes into host memory, so the ratio is vmsim's share of the call.
 */
#include "bench_lua.h"

#include "vmsim_lua.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char LOOP[] =
    "local t, a, n = ...\n"
    "local s = '8 bytes!'\n"
    "for i = 1, n do t:store(a, s) end\n";

#define HOST_BUF_BYTES 4096

/* The thread's CPU time: a Lua loop is long enough to be preempted on a
 * busy machine, and time spent waiting for a CPU is no cost of the call. */
static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* host:store(offset, bytes): a method call that copies into host memory,
 * with the same argument checks the binding's store makes. */
static int host_store(lua_State *L)
{
    unsigned char *buf = luaL_checkudata(L, 1, "bench.host");
    lua_Integer off = luaL_checkinteger(L, 2);
    size_t len;
    const char *s = luaL_checklstring(L, 3, &len);
    if (off < 0 || (size_t)off > HOST_BUF_BYTES || len > HOST_BUF_BYTES - (size_t)off)
        return luaL_argerror(L, 2, "outside the buffer");
    memcpy(buf + off, s, len);
    lua_pushboolean(L, 1);
    return 1;
}

static void push_host_object(lua_State *L)
{
    unsigned char *buf = lua_newuserdatauv(L, HOST_BUF_BYTES, 0);
    memset(buf, 0, HOST_BUF_BYTES);
    if (luaL_newmetatable(L, "bench.host")) {
        lua_newtable(L);
        lua_pushcfunction(L, host_store);
        lua_setfield(L, -2, "store");
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
}

/* Runs the loop once with the receiver and address at the globals
 * bench_t and bench_a: ns per store, or -1. */
static double timed_loop(lua_State *L, int loop_ref, uint64_t stores)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, loop_ref);
    lua_getglobal(L, "bench_t");
    lua_getglobal(L, "bench_a");
    lua_pushinteger(L, (lua_Integer)stores);
    uint64_t t0 = clock_ns();
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        fprintf(stderr, "vmsim-bench: lua_store: %s\n", lua_tostring(L, -1));
        return -1;
    }
    return (double)(clock_ns() - t0) / (double)stores;
}

static int set_target(lua_State *L, int host)
{
    if (host) {
        push_host_object(L);
        lua_setglobal(L, "bench_t");
        lua_pushinteger(L, 64);
        lua_setglobal(L, "bench_a");
        return 0;
    }
    /* the vmsim side: one written page, so its translation is in the DTLB */
    return luaL_dostring(L, "bench_m = vmsim.machine{ram = '64M', cpus = 1}\n"
                            "bench_t = bench_m:spawn('bench')\n"
                            "bench_a = assert(bench_t:mmap(0, 4096, 'rw', 'private|anonymous')) + 64\n"
                            "assert(bench_t:store(bench_a, '8 bytes!'))\n"
                            "function bench_dtlb_misses() return bench_m:stats().cpu[0].dtlb_misses end\n");
}

static lua_Integer dtlb_misses(lua_State *L)
{
    lua_getglobal(L, "bench_dtlb_misses");
    lua_call(L, 0, 1);
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return n;
}

int bench_lua_store(uint64_t stores, int reps, double *vmsim_ns, double *host_ns,
                    int *dtlb_missed)
{
    lua_State *sim = vmsim_lua_new_state(stderr), *host = vmsim_lua_new_state(stderr);
    if (!sim || !host || set_target(sim, 0) || set_target(host, 1) ||
        luaL_loadstring(sim, LOOP) || luaL_loadstring(host, LOOP)) {
        fprintf(stderr, "vmsim-bench: lua_store: cannot set up the Lua states\n");
        if (sim)
            lua_close(sim);
        if (host)
            lua_close(host);
        return -1;
    }
    int sim_loop = luaL_ref(sim, LUA_REGISTRYINDEX);
    int host_loop = luaL_ref(host, LUA_REGISTRYINDEX);
    timed_loop(sim, sim_loop, stores / 10 + 1); /* warm: caches, the Lua strings */
    timed_loop(host, host_loop, stores / 10 + 1);
    lua_Integer misses = dtlb_misses(sim);
    int status = 0;
    for (int i = 0; i < reps && status == 0; i++) {
        double s = timed_loop(sim, sim_loop, stores), h = timed_loop(host, host_loop, stores);
        if (s < 0 || h < 0)
            status = -1;
        if (i == 0 || s < *vmsim_ns)
            *vmsim_ns = s;
        if (i == 0 || h < *host_ns)
            *host_ns = h;
    }
    *dtlb_missed = dtlb_misses(sim) != misses;
    vmsim_lua_destroy_machines(sim);
    lua_close(sim);
    lua_close(host);
    return status;
}
