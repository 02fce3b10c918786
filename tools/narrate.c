/*
 * Narration of Lua scenarios (see narrate.h): the call hooks of the Lua
 * binding, turned into lines, and the counters as a table.
 */
#include "narrate.h"

#include <inttypes.h>
#include <lua.h>
#include <string.h>

void narrator_init(struct narrator *n, FILE *out, int color)
{
    *n = (struct narrator){.out = out};
    set_palette(&n->c, color);
}

void narrator_hooks(struct narrator *n, struct vmsim_lua_hooks *h)
{
    h->arg = n;
    h->call_begin = narrate_call_begin;
    h->call_end = narrate_call_end;
    h->event = narrate_event;
}

void narrate_end_line(struct narrator *n)
{
    if (n->open_call) {
        fputc('\n', n->out);
        n->open_call = 0;
    }
}

/* ---- calls ---- */

/* "task 1000: mmap(0x0, 8192, "rw", "private|anonymous")", the name in colour */
static void print_call(struct narrator *n, lua_State *L, const struct vmsim_lua_call *call)
{
    vmsim_lua_write_receiver(L, call, n->out);
    fprintf(n->out, "%s%s%s", n->c.head, call->name, n->c.reset);
    vmsim_lua_write_args(L, call, n->out);
}

static void print_results(struct narrator *n, lua_State *L, const struct vmsim_lua_call *call)
{
    if (call->nres) {
        fputs(" = ", n->out);
        vmsim_lua_write_results(L, call, n->out);
    }
    fputc('\n', n->out);
}

void narrate_call_begin(void *narrator, lua_State *L, const struct vmsim_lua_call *call)
{
    struct narrator *n = narrator;
    narrate_end_line(n); /* the last call raised an error */
    print_call(n, L, call);
    n->open_call = 1;
}

void narrate_call_end(void *narrator, lua_State *L, const struct vmsim_lua_call *call)
{
    struct narrator *n = narrator;
    if (!n->open_call && call->nres == 0)
        return; /* events came between, and there is no result to show */
    if (!n->open_call) /* events came between: the results under them */
        fputs("   ", n->out);
    print_results(n, L, call);
    n->open_call = 0;
}

/* ---- events ---- */

/* The library's line for the event, indented, its tag word in the kind's
 * colour. */
void narrate_event(void *narrator, const struct vms_event *ev)
{
    struct narrator *n = narrator;
    narrate_end_line(n);
    char line[256];
    vms_event_format(ev, line, sizeof(line)); /* longer lines are cut, never overrun */
    size_t tag = strcspn(line, " ");
    fprintf(n->out, "    %s%.*s%s%s\n", palette_event_color(&n->c, ev->kind), (int)tag, line,
            n->c.reset, line + tag);
}

/* ---- counters ---- */

#define COUNTER(f) {#f, offsetof(struct vms_stats, f)}
const struct narrate_counter narrate_counters[] = {
    COUNTER(tlb_hits), COUNTER(tlb_misses), COUNTER(page_walks), COUNTER(walk_refs),
    COUNTER(shootdowns), COUNTER(ipis), COUNTER(flushes_full), COUNTER(flushes_single),
    COUNTER(context_switches), COUNTER(minor_faults), COUNTER(major_faults),
    COUNTER(cow_faults), COUNTER(frames_total), COUNTER(frames_used), COUNTER(pgtable_frames),
    COUNTER(cache_frames), COUNTER(dirty_pages), COUNTER(swap_used), COUNTER(io.disk_to_cache),
    COUNTER(io.cache_to_user), COUNTER(io.user_to_cache), COUNTER(io.cache_to_disk),
    COUNTER(io.disk_reads), COUNTER(io.disk_writes),
};
#undef COUNTER
const size_t narrate_nr_counters = sizeof(narrate_counters) / sizeof(narrate_counters[0]);

uint64_t narrate_counter_value(const struct vms_stats *s, const struct narrate_counter *c)
{
    uint64_t v;
    memcpy(&v, (const char *)s + c->offset, sizeof(v));
    return v;
}

void narrate_stats(struct narrator *n, unsigned machine, const struct vms_stats *now,
                   const struct vms_stats *change, const char *change_title)
{
    narrate_end_line(n);
    fprintf(n->out, "%scounters of machine %u:%s\n", n->c.dim, machine, n->c.reset);
    if (change)
        fprintf(n->out, "%s  %-20s %12s  %12s%s\n", n->c.dim, "", "now", change_title,
                n->c.reset);
    for (size_t i = 0; i < narrate_nr_counters; i++) {
        const struct narrate_counter *c = &narrate_counters[i];
        fprintf(n->out, "  %-20s %12" PRIu64, c->name, narrate_counter_value(now, c));
        /* the gauges' change is modulo 2^64: signed, a decrease shows */
        if (change && strcmp(c->name, "frames_total") != 0) /* the machine's size */
            fprintf(n->out, "  %+12" PRId64, (int64_t)narrate_counter_value(change, c));
        fputc('\n', n->out);
    }
}
