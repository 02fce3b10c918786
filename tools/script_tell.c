/*
 * Telling what a Lua script does (script_tell.h): the narration of calls and
 * events, their JSON objects, and the counters of a machine at its end.
 */
#include "script_tell.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

/* ---- narration ---- */

static const char *event_color(const struct palette *c, enum vms_event_kind kind)
{
    switch (kind) {
    case VMS_EV_TLB_MISS: return c->miss;
    case VMS_EV_WALK_STEP: return c->walk;
    case VMS_EV_PGTABLE_ALLOC:
    case VMS_EV_PGTABLE_FREE:
    case VMS_EV_FRAME_ALLOC: return c->alloc;
    case VMS_EV_FAULT:
    case VMS_EV_SIGNAL: return c->fault;
    case VMS_EV_TLB_FILL: return c->fill;
    case VMS_EV_FLUSH:
    case VMS_EV_IPI:
    case VMS_EV_CR3: return c->flush;
    default: return c->head;
    }
}

/* Slot 1 is the receiver when it is a machine or a task handle. */
static int has_receiver(lua_State *L, const struct vmsim_lua_call *call)
{
    return call->nargs >= 1 && lua_type(L, 1) == LUA_TUSERDATA;
}

/* "task 1000: mmap(0x0, 8192, "rw", "private|anonymous")" */
static void print_call(struct teller *r, lua_State *L, const struct vmsim_lua_call *call)
{
    int first = 1;
    if (has_receiver(L, call)) {
        vmsim_lua_write_value(L, 1, 0, r->out);
        fputs(": ", r->out);
        first = 2;
    } else {
        fputs("vmsim.", r->out);
    }
    fprintf(r->out, "%s%s%s(", r->c.head, call->name, r->c.reset);
    for (int i = first; i <= call->nargs; i++) {
        if (i > first)
            fputs(", ", r->out);
        vmsim_lua_write_value(L, i, (call->hex >> (i - 1)) & 1, r->out);
    }
    fputc(')', r->out);
}

static void print_results(struct teller *r, lua_State *L, const struct vmsim_lua_call *call)
{
    if (call->nres == 0) {
        fputc('\n', r->out);
        return;
    }
    fputs(" = ", r->out);
    int base = lua_gettop(L) - call->nres;
    for (int j = 1; j <= call->nres; j++) {
        if (j > 1)
            fputs(", ", r->out);
        vmsim_lua_write_value(L, base + j, (call->hex >> (16 + j - 1)) & 1, r->out);
    }
    fputc('\n', r->out);
}

static void narrate_begin(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct teller *r = arg;
    if (r->open_call) /* the last call raised an error: end its line */
        fputc('\n', r->out);
    print_call(r, L, call);
    r->open_call = 1;
}

static void narrate_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct teller *r = arg;
    if (!r->open_call && call->nres == 0)
        return; /* events came between, and there is no result to show */
    if (!r->open_call) /* events came between: the results on a line of their own */
        fputs("   ", r->out);
    print_results(r, L, call);
    r->open_call = 0;
}

static void narrate_event(void *arg, const struct vms_event *ev)
{
    struct teller *r = arg;
    if (r->open_call) {
        fputc('\n', r->out);
        r->open_call = 0;
    }
    char line[256];
    vms_event_format(ev, line, sizeof(line)); /* longer lines are cut, never overrun */
    size_t tag = strcspn(line, " ");
    fprintf(r->out, "    %s%.*s%s%s\n", event_color(&r->c, ev->kind), (int)tag, line,
            r->c.reset, line + tag);
}

/* ---- JSON ---- */

/* An integer as JSON: addresses, and integers a double cannot hold, as hex
 * strings (the rule of the events' a, b, pa and entry). */
static void json_arg(lua_State *L, int index, int hex, FILE *out)
{
    if (lua_isinteger(L, index)) {
        lua_Integer v = lua_tointeger(L, index);
        if (hex || v > ((lua_Integer)1 << 53) || v < -((lua_Integer)1 << 53)) {
            fprintf(out, "\"0x%" PRIx64 "\"", (uint64_t)v);
            return;
        }
    }
    vmsim_lua_write_json(L, index, out);
}

static void json_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct teller *r = arg;
    int first = has_receiver(L, call) ? 2 : 1;
    fprintf(r->out, "{\"v\":1,\"type\":\"call\",\"name\":\"%s\",\"target\":", call->name);
    if (first == 2)
        vmsim_lua_write_json(L, 1, r->out);
    else
        fputs("null", r->out);
    fputs(",\"args\":[", r->out);
    for (int i = first; i <= call->nargs; i++) {
        if (i > first)
            fputc(',', r->out);
        json_arg(L, i, (call->hex >> (i - 1)) & 1, r->out);
    }
    fputs("],\"results\":[", r->out);
    int base = lua_gettop(L) - call->nres;
    for (int j = 1; j <= call->nres; j++) {
        if (j > 1)
            fputc(',', r->out);
        json_arg(L, base + j, (call->hex >> (16 + j - 1)) & 1, r->out);
    }
    fputc(']', r->out);
    /* nil, "ENAME", errno or nil, "SIGSEGV", code, addr: named at the top */
    if (call->nres >= 3 && lua_isnil(L, base + 1) && lua_type(L, base + 2) == LUA_TSTRING) {
        const char *what = lua_tostring(L, base + 2);
        fprintf(r->out, ",\"%s\":\"%s\"", strncmp(what, "SIG", 3) == 0 ? "signal" : "errno",
                what);
    }
    fputs("}\n", r->out);
}

static void json_event(void *arg, const struct vms_event *ev)
{
    struct teller *r = arg;
    char line[512];
    int n = vms_event_json(ev, line, sizeof(line));
    if (n >= 0 && (size_t)n < sizeof(line))
        fprintf(r->out, "%s\n", line);
}

/* ---- counters (--stats) ---- */

struct stat_row {
    const char *name;
    size_t offset; /* of a uint64_t in struct vms_stats */
};

#define ROW(f) {#f, offsetof(struct vms_stats, f)}
static const struct stat_row stat_rows[] = {
    ROW(tlb_hits), ROW(tlb_misses), ROW(page_walks), ROW(walk_refs), ROW(shootdowns),
    ROW(ipis), ROW(flushes_full), ROW(flushes_single), ROW(context_switches),
    ROW(minor_faults), ROW(major_faults), ROW(cow_faults), ROW(frames_total),
    ROW(frames_used), ROW(pgtable_frames), ROW(cache_frames), ROW(dirty_pages),
    {"io.disk_to_cache", offsetof(struct vms_stats, io.disk_to_cache)},
    {"io.cache_to_user", offsetof(struct vms_stats, io.cache_to_user)},
    {"io.user_to_cache", offsetof(struct vms_stats, io.user_to_cache)},
    {"io.cache_to_disk", offsetof(struct vms_stats, io.cache_to_disk)},
    {"io.disk_reads", offsetof(struct vms_stats, io.disk_reads)},
    {"io.disk_writes", offsetof(struct vms_stats, io.disk_writes)},
};
#undef ROW
#define NR_STAT_ROWS (sizeof(stat_rows) / sizeof(stat_rows[0]))

static uint64_t stat_at(const struct vms_stats *s, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)s + offset, sizeof(v));
    return v;
}

static void print_stats(void *arg, vms_machine *m, unsigned number)
{
    struct teller *r = arg;
    struct vms_stats s;
    vms_get_stats(m, &s);
    if (r->mode == TELL_JSON) {
        fprintf(r->out, "{\"v\":1,\"type\":\"stats\",\"machine\":%u", number);
        for (size_t i = 0; i < NR_STAT_ROWS; i++)
            fprintf(r->out, ",\"%s\":%" PRIu64, stat_rows[i].name, stat_at(&s, stat_rows[i].offset));
        fputs("}\n", r->out);
        return;
    }
    if (r->open_call) {
        fputc('\n', r->out);
        r->open_call = 0;
    }
    fprintf(r->out, "%scounters of machine %u:%s\n", r->c.dim, number, r->c.reset);
    for (size_t i = 0; i < NR_STAT_ROWS; i++)
        fprintf(r->out, "  %-20s %12" PRIu64 "\n", stat_rows[i].name,
                stat_at(&s, stat_rows[i].offset));
}

/* ---- installing ---- */

void teller_init(struct teller *t, FILE *out, enum tell_mode mode, int stats, int color)
{
    *t = (struct teller){.out = out, .mode = mode, .stats = stats};
    set_palette(&t->c, mode == TELL_NARRATE && color);
}

void teller_install(struct teller *t, lua_State *L)
{
    struct vmsim_lua_hooks h = {.arg = t};
    if (t->mode == TELL_NARRATE) {
        h.call_begin = narrate_begin;
        h.call_end = narrate_end;
        h.event = narrate_event;
    } else if (t->mode == TELL_JSON) {
        h.call_end = json_end;
        h.event = json_event;
    }
    if (t->stats)
        h.machine_end = print_stats;
    vmsim_lua_set_hooks(L, &h);
}

void teller_install_quiet(struct teller *t, lua_State *L)
{
    struct vmsim_lua_hooks h = {.arg = t, .machine_end = t->stats ? print_stats : NULL};
    vmsim_lua_set_hooks(L, &h);
}

void teller_end_line(struct teller *t)
{
    if (t->open_call) {
        fputc('\n', t->out);
        t->open_call = 0;
    }
}
