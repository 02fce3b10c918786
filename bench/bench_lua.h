/* vmsim-bench's Lua benchmark (bench_lua.c), kept apart from bench.c so
 * that the Lua headers stay out of the C benchmarks. */
#ifndef VMSIM_BENCH_LUA_H
#define VMSIM_BENCH_LUA_H

#include <stdint.h>

/* lua_store: ns per t:store(a, "8 bytes") from a Lua loop, the translation
 * in the L1 DTLB (*vmsim_ns), against the same loop calling a method that
 * copies the 8 bytes into host memory (*host_ns): the price of the call
 * itself. The fastest of reps runs of `stores` each. *dtlb_missed is set
 * when a timed store missed the DTLB. 0, or -1 after a message. */
int bench_lua_store(uint64_t stores, int reps, double *vmsim_ns, double *host_ns,
                    int *dtlb_missed);

#endif
