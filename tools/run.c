/*
 * `vmsim run SCRIPT.lua [ARGS]`: runs a Lua scenario with the vmsim module
 * loaded (global `vmsim`, `arg` as lua5.4 sets it, expect and expect_eq)
 * and tells what it does: each call of a machine or task method with its
 * arguments and results, and under it every event the call raised, in the
 * library's words (vms_event_format), as `vmsim demo` prints them. --json
 * writes one JSON object per line instead (docs/events.md), --quiet nothing,
 * --stats each machine's counters when it ends; --html a page of the run,
 * and the picture options (record.h) its timeline and drawings of each
 * machine's last state. Every machine the script
 * made is destroyed at the end, even after an error, so no dirty file page
 * is lost. Exit status: 0, or 1 after a script error or a failed expectation.
 */
#include "cli.h"
#include "record_lua.h"
#include "report_lua.h"
#include "script_tell.h"
#include "vmsim_lua.h"

#include <lauxlib.h>
#include <lua.h>
#include <string.h>

struct run_options {
    enum tell_mode mode;
    int stats;
    int no_color;
    const char *script;
    int script_index; /* in argv */
    struct picture_options pictures;
    const char *html; /* --html FILE: the report page */
};

struct runner {
    struct run_options opt;
    struct teller tell;
    struct record rec;     /* the pictures of the run (--perfetto) */
    struct record_lua rec_hooks;
    int exit_status; /* what the script's os.exit asked for */
    struct report *report; /* --html */
    struct report_lua report_hooks;
};

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
    teller_end_line(&r->tell);
    if (status != LUA_OK && lua_touserdata(L, -1) == r)
        return r->exit_status; /* os.exit */
    if (status != LUA_OK) {
        fflush(r->tell.out);
        if (r->report && lua_tostring(L, -1))
            report_note(r->report, lua_tostring(L, -1));
        report_error(L);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* The teller's hooks (quiet: the final teardown's), with the report's
 * around them under --html, and the pictures' around those. */
static void install_hooks(struct runner *r, lua_State *L, int quiet)
{
    struct vmsim_lua_hooks h;
    if (quiet)
        teller_quiet_hooks(&r->tell, &h);
    else
        teller_hooks(&r->tell, &h);
    if (r->report) {
        struct vmsim_lua_hooks inner = h;
        report_lua_hooks(&r->report_hooks, r->report, &inner, &h);
    }
    struct vmsim_lua_hooks inner = h;
    record_lua_hooks(&r->rec_hooks, &r->rec, &inner, &h);
    vmsim_lua_set_hooks(L, &h);
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
    fprintf(out, "Usage: vmsim run [--quiet | --json] [--stats] [--no-color] [--html FILE]\n"
                 "                 [PICTURE OPTIONS] SCRIPT.lua [ARGS]\n\n"
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
                 "  --html FILE write FILE, one self-contained HTML page of the run: each\n"
                 "              process's address space, its page tables, each CPU's TLBs,\n"
                 "              physical memory and a timeline, after any call\n"
                 "              (docs/report.md)\n"
                 "  --no-color  never colour the output (also: NO_COLOR set and not empty)\n"
                 "  -h, --help  show this help and exit\n\n"
                 "Pictures of the run (docs/report.md):\n%s\n"
                 "Exit status: 0; 1 after a script error, a failed expectation or a picture\n"
                 "that could not be written; 2 for a bad command line.\n",
            picture_options_help);
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
        int picture = picture_option(argc, argv, &i, &o->pictures, "vmsim run");
        if (picture < 0)
            return CLI_USAGE;
        if (picture)
            continue;
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            o->mode = o->mode == TELL_JSON ? TELL_JSON : TELL_QUIET;
        else if (strcmp(a, "--json") == 0)
            o->mode = TELL_JSON;
        else if (strcmp(a, "--stats") == 0)
            o->stats = 1;
        else if (strcmp(a, "--no-color") == 0)
            o->no_color = 1;
        else if (strcmp(a, "--html") == 0 && i + 1 < argc && argv[i + 1][0])
            o->html = argv[++i];
        else if (strncmp(a, "--html=", 7) == 0 && a[7])
            o->html = a + 7;
        else if (strcmp(a, "--html") == 0 || strcmp(a, "--html=") == 0)
            return usage_error("option needs a file:", a);
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
    struct runner r = {0};
    int parsed = parse_run_args(argc, argv, &r.opt);
    if (parsed == 1) {
        usage(stdout);
        return CLI_OK;
    }
    if (parsed)
        return parsed;
    teller_init(&r.tell, stdout, r.opt.mode, r.opt.stats, cli_use_color(stdout, r.opt.no_color));
    const char *slash = strrchr(r.opt.script, '/'); /* the page is titled by the file's name */
    if (r.opt.html && !(r.report = report_new(slash ? slash + 1 : r.opt.script))) {
        fprintf(stderr, "vmsim run: out of memory\n");
        return CLI_FAILED;
    }
    char err[512];
    if (record_open(&r.rec, &r.opt.pictures, err, sizeof(err))) {
        fprintf(stderr, "vmsim run: %s\n", err);
        report_free(r.report);
        return CLI_FAILED;
    }
    lua_State *L = vmsim_lua_new_state(stderr);
    if (!L) {
        report_free(r.report);
        record_close(&r.rec, "vmsim run");
        fprintf(stderr, "vmsim run: out of memory\n");
        return CLI_FAILED;
    }
    install_hooks(&r, L, 0);
    int status = run_script(&r, L, argc, argv);
    /* Every machine still alive ends here, written back; quietly, but for
     * --stats (and the report's and the pictures' last states). */
    install_hooks(&r, L, 1);
    vmsim_lua_destroy_machines(L);
    unsigned long failed = vmsim_lua_failures(L);
    lua_close(L);
    if (record_close(&r.rec, "vmsim run") && status == CLI_OK)
        status = CLI_FAILED;
    fflush(stdout);
    if (failed) {
        fprintf(stderr, "vmsim run: %lu expectation%s failed\n", failed, failed == 1 ? "" : "s");
        status = CLI_FAILED;
    }
    if (r.report) {
        if (report_save_html(r.report, r.opt.html, "vmsim run") && status == CLI_OK)
            status = CLI_FAILED;
        report_free(r.report);
    }
    return status;
}
