/*
 * `vmsim run SCRIPT.lua [ARGS]`: runs a Lua scenario with the vmsim module
 * loaded (global `vmsim`, `arg` as lua5.4 sets it, expect and expect_eq)
 * and tells what it does: each call of a machine or task method with its
 * arguments and results, and under it every event the call raised, in the
 * library's words (vms_event_format), as `vmsim demo` prints them. --json
 * writes one JSON object per line instead (docs/events.md), --quiet nothing,
 * --stats each machine's counters when it ends. Every machine the script
 * made is destroyed at the end, even after an error, so no dirty file page
 * is lost. Exit status: 0, or 1 after a script error or a failed expectation.
 */
#include "cli.h"
#include "demo.h"
#include "vmsim_lua.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

enum run_mode { MODE_NARRATE, MODE_QUIET, MODE_JSON };

struct run_options {
    enum run_mode mode;
    int stats;
    int no_color;
    const char *script;
    int script_index; /* in argv */
};

struct runner {
    FILE *out;
    struct run_options opt;
    struct palette c;
    int open_call;   /* a call's line is printed, its results not yet */
    int exit_status; /* what the script's os.exit asked for */
};

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
static void print_call(struct runner *r, lua_State *L, const struct vmsim_lua_call *call)
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

static void print_results(struct runner *r, lua_State *L, const struct vmsim_lua_call *call)
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
    struct runner *r = arg;
    if (r->open_call) /* the last call raised an error: end its line */
        fputc('\n', r->out);
    print_call(r, L, call);
    r->open_call = 1;
}

static void narrate_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct runner *r = arg;
    if (!r->open_call && call->nres == 0)
        return; /* events came between, and there is no result to show */
    if (!r->open_call) /* events came between: the results on a line of their own */
        fputs("   ", r->out);
    print_results(r, L, call);
    r->open_call = 0;
}

static void narrate_event(void *arg, const struct vms_event *ev)
{
    struct runner *r = arg;
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
    struct runner *r = arg;
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
    struct runner *r = arg;
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
    struct runner *r = arg;
    struct vms_stats s;
    vms_get_stats(m, &s);
    if (r->opt.mode == MODE_JSON) {
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

/* ---- the script ---- */

/* arg as lua5.4 sets it: arg[0] the script, arg[1..] what follows it. */
static void set_arg(lua_State *L, int argc, char **argv, int script_index)
{
    lua_createtable(L, argc - script_index - 1, 2);
    lua_pushliteral(L, "vmsim run");
    lua_rawseti(L, -2, -1);
    for (int i = script_index; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script_index);
    }
    lua_setglobal(L, "arg");
}

/* os.exit(code): C's exit() would skip the machines' write-back, so the
 * script unwinds instead (the error value is the runner itself) and the
 * tool exits with the code once every machine is destroyed. */
static int script_exit(lua_State *L)
{
    struct runner *r = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_isnoneornil(L, 1) || (lua_isboolean(L, 1) && lua_toboolean(L, 1)))
        r->exit_status = CLI_OK;
    else if (lua_isboolean(L, 1))
        r->exit_status = CLI_FAILED;
    else
        r->exit_status = (int)(luaL_checkinteger(L, 1) & 0xff);
    lua_pushlightuserdata(L, r);
    return lua_error(L);
}

static void replace_os_exit(struct runner *r, lua_State *L)
{
    lua_getglobal(L, "os");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, script_exit, 1);
    lua_setfield(L, -2, "exit");
    lua_pop(L, 1);
}

/* The script's error as "file:line: message" (a non-string error is named). */
static void report_error(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    if (msg)
        fprintf(stderr, "%s\n", msg);
    else
        fprintf(stderr, "vmsim run: the script raised an error object (a %s value)\n",
                luaL_typename(L, -1));
}

static int run_script(struct runner *r, lua_State *L, int argc, char **argv)
{
    set_arg(L, argc, argv, r->opt.script_index);
    replace_os_exit(r, L);
    /* Text only: precompiled chunks are not checked by Lua and a crafted
     * one could crash the tool. */
    if (luaL_loadfilex(L, r->opt.script, "t") != LUA_OK) {
        report_error(L);
        return CLI_FAILED;
    }
    for (int i = r->opt.script_index + 1; i < argc; i++)
        lua_pushstring(L, argv[i]);
    int status = lua_pcall(L, argc - r->opt.script_index - 1, 0, 0);
    if (r->open_call) {
        fputc('\n', r->out);
        r->open_call = 0;
    }
    if (status != LUA_OK && lua_touserdata(L, -1) == r)
        return r->exit_status; /* os.exit */
    if (status != LUA_OK) {
        fflush(r->out);
        report_error(L);
        return CLI_FAILED;
    }
    return CLI_OK;
}

static void install_hooks(struct runner *r, lua_State *L)
{
    struct vmsim_lua_hooks h = {.arg = r};
    if (r->opt.mode == MODE_NARRATE) {
        h.call_begin = narrate_begin;
        h.call_end = narrate_end;
        h.event = narrate_event;
    } else if (r->opt.mode == MODE_JSON) {
        h.call_end = json_end;
        h.event = json_event;
    }
    if (r->opt.stats)
        h.machine_end = print_stats;
    vmsim_lua_set_hooks(L, &h);
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
    fprintf(out, "Usage: vmsim run [--quiet | --json] [--stats] [--no-color] SCRIPT.lua [ARGS]\n\n"
                 "Runs a Lua scenario on simulated machines: the script sees the module as\n"
                 "`vmsim` (docs/lua.md), its arguments in `arg`, and expect(cond, msg) and\n"
                 "expect_eq(got, want, what). Each call and every event it raises is told\n"
                 "as `vmsim demo` tells them.\n\n"
                 "Options:\n"
                 "  --quiet     tell nothing (the script's own output and failed\n"
                 "              expectations still show)\n"
                 "  --json      one JSON object per line for every call and event\n"
                 "              (docs/events.md)\n"
                 "  --stats     each machine's counters when it ends\n"
                 "  --no-color  never colour the output (also: NO_COLOR set and not empty)\n"
                 "  -h, --help  show this help and exit\n\n"
                 "Exit status: 0; 1 after a script error or a failed expectation; 2 for a\n"
                 "bad command line.\n");
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "vmsim run: %s%s%s\nTry 'vmsim run --help'.\n", what, arg ? " " : "",
            arg ? arg : "");
    return CLI_USAGE;
}

/* 0 to run, 1 for --help, or CLI_USAGE after a message. */
static int parse_run_args(int argc, char **argv, struct run_options *o)
{
    int i;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            o->mode = o->mode == MODE_JSON ? MODE_JSON : MODE_QUIET;
        else if (strcmp(a, "--json") == 0)
            o->mode = MODE_JSON;
        else if (strcmp(a, "--stats") == 0)
            o->stats = 1;
        else if (strcmp(a, "--no-color") == 0)
            o->no_color = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        else
            return usage_error("unknown option", a);
    }
    if (i >= argc)
        return usage_error("missing script", NULL);
    o->script = argv[i];
    o->script_index = i;
    return 0;
}

int run_main(int argc, char **argv)
{
    struct runner r = {.out = stdout};
    int parsed = parse_run_args(argc, argv, &r.opt);
    if (parsed == 1) {
        usage(stdout);
        return CLI_OK;
    }
    if (parsed)
        return parsed;
    set_palette(&r.c, r.opt.mode == MODE_NARRATE && cli_use_color(stdout, r.opt.no_color));
    lua_State *L = vmsim_lua_new_state(stderr);
    if (!L) {
        fprintf(stderr, "vmsim run: out of memory\n");
        return CLI_FAILED;
    }
    install_hooks(&r, L);
    int status = run_script(&r, L, argc, argv);
    /* Every machine still alive ends here, written back; quietly, but for
     * --stats. */
    struct vmsim_lua_hooks last = {.arg = &r, .machine_end = r.opt.stats ? print_stats : NULL};
    vmsim_lua_set_hooks(L, &last);
    vmsim_lua_destroy_machines(L);
    unsigned long failed = vmsim_lua_failures(L);
    lua_close(L);
    fflush(stdout);
    if (failed) {
        fprintf(stderr, "vmsim run: %lu expectation%s failed\n", failed, failed == 1 ? "" : "s");
        status = CLI_FAILED;
    }
    return status;
}
