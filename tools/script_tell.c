/*
 * Telling what a Lua script does (script_tell.h): the narration of calls and
 * events, their JSON objects, and the counters of a machine at its end.
 */
#include "script_tell.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

/* ---- narration: tools/narrate.c's, with the teller as the hooks' arg ---- */

static void narrate_begin(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    narrate_call_begin(&((struct teller *)arg)->n, L, call);
}

static void narrate_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    narrate_call_end(&((struct teller *)arg)->n, L, call);
}

static void narrate_ev(void *arg, const struct vms_event *ev)
{
    narrate_event(&((struct teller *)arg)->n, ev);
}

/* Slot 1 is the receiver when it is a machine or a task handle. */
static int has_receiver(lua_State *L, const struct vmsim_lua_call *call)
{
    return call->nargs >= 1 && lua_type(L, 1) == LUA_TUSERDATA;
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

static void print_stats(void *arg, vms_machine *m, unsigned number)
{
    struct teller *r = arg;
    struct vms_stats s;
    vms_get_stats(m, &s);
    if (r->mode == TELL_JSON) {
        fprintf(r->out, "{\"v\":1,\"type\":\"stats\",\"machine\":%u", number);
        for (size_t i = 0; i < narrate_nr_counters; i++)
            fprintf(r->out, ",\"%s\":%" PRIu64, narrate_counters[i].name,
                    narrate_counter_value(&s, &narrate_counters[i]));
        fputs("}\n", r->out);
        return;
    }
    narrate_stats(&r->n, number, &s, NULL, NULL);
}

/* ---- installing ---- */

void teller_init(struct teller *t, FILE *out, enum tell_mode mode, int stats, int color)
{
    *t = (struct teller){.out = out, .mode = mode, .stats = stats};
    narrator_init(&t->n, out, mode == TELL_NARRATE && color);
}

void teller_hooks(struct teller *t, struct vmsim_lua_hooks *h)
{
    *h = (struct vmsim_lua_hooks){.arg = t};
    if (t->mode == TELL_NARRATE) {
        h->call_begin = narrate_begin;
        h->call_end = narrate_end;
        h->event = narrate_ev;
    } else if (t->mode == TELL_JSON) {
        h->call_end = json_end;
        h->event = json_event;
    }
    if (t->stats)
        h->machine_end = print_stats;
}

void teller_quiet_hooks(struct teller *t, struct vmsim_lua_hooks *h)
{
    *h = (struct vmsim_lua_hooks){.arg = t, .machine_end = t->stats ? print_stats : NULL};
}

void teller_install(struct teller *t, lua_State *L)
{
    struct vmsim_lua_hooks h;
    teller_hooks(t, &h);
    vmsim_lua_set_hooks(L, &h);
}

void teller_install_quiet(struct teller *t, lua_State *L)
{
    struct vmsim_lua_hooks h;
    teller_quiet_hooks(t, &h);
    vmsim_lua_set_hooks(L, &h);
}

void teller_end_line(struct teller *t) { narrate_end_line(&t->n); }
