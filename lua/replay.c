/*
 * replay.c - vmsim.replay(path [, settings]): a recorded scenario (a real
 * program's run as `vmsim follow -o` writes it, docs/scenarios.md) replayed
 * on a machine of its own, made from the scenario's set lines (the
 * recording host's config) and rooted at "/", each line's result held
 * against the kernel's answer it carries. The same reader and replayer as
 * `vmsim compare FILE` (difftest/scenario.c, difftest/recorded.c), so both
 * give the same steps and the same outcome.
 */
#include "binding.h"
#include "difftest.h"

#include <stdlib.h>
#include <string.h>

struct collected {
    struct dt_rec_step *steps;
    int n, failed;
};

static void collect(void *arg, const struct dt_rec_step *s)
{
    struct collected *c = arg;
    struct dt_rec_step *grown = realloc(c->steps, (size_t)(c->n + 1) * sizeof(*grown));
    if (!grown) {
        c->failed = 1;
        return;
    }
    c->steps = grown;
    c->steps[c->n++] = *s;
}

/* The extra settings: a table of "FIELD=VALUE" strings (raises on a bad one). */
static int check_settings(lua_State *L, int arg, struct dt_setting *out, int max)
{
    if (lua_isnoneornil(L, arg))
        return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    int n = (int)luaL_len(L, arg);
    if (n > max)
        luaL_argerror(L, arg, "too many settings");
    for (int i = 0; i < n; i++) {
        lua_geti(L, arg, i + 1);
        const char *text = lua_tostring(L, -1);
        char why[1536];
        if (!text || dt_setting_parse(text, &out[i], why, sizeof(why)))
            luaL_argerror(L, arg, lua_pushfstring(L, "setting %d: %s", i + 1, text ? why : "not a string"));
        lua_pop(L, 1);
    }
    return n;
}

static const char *aspect_name(int aspect)
{
    static const char *const names[DT_NASPECTS] = {"ret", "signal", "data", "faults",
                                                   "maps", "disk", "check", "host"};
    return aspect >= 0 && aspect < DT_NASPECTS ? names[aspect] : "?";
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

/* { line =, call =, vmsim =, kernel = (nil: no answer recorded), maps =, agrees = } */
static void push_step(lua_State *L, const struct dt_rec_step *s, const int *lines)
{
    char call[DT_MAX_LINE * 2];
    lua_createtable(L, 0, 6);
    set_integer(L, "line", lines[s->step]);
    dt_format_call(s->op, call, sizeof(call));
    set_string(L, "call", call);
    set_string(L, "vmsim", s->got);
    if (s->expected[0])
        set_string(L, "kernel", s->expected);
    lua_pushboolean(L, s->maps_checked);
    lua_setfield(L, -2, "maps");
    lua_pushboolean(L, !s->differs);
    lua_setfield(L, -2, "agrees");
}

static int l_replay(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct dt_setting settings[64];
    int nsettings = check_settings(L, 2, settings, 64);
    struct dt_seq seq;
    int *lines = NULL;
    char err[2048];
    if (dt_scenario_load(path, &seq, &lines, err, sizeof(err))) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    if (!seq.recorded) {
        dt_seq_free(&seq);
        free(lines);
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: not a recorded scenario (its first line is not set, arg, env or execve): "
                           "`vmsim compare` replays it on this kernel", path);
        return 2;
    }
    struct collected c = {0};
    struct dt_diff *diff = malloc(sizeof(*diff));
    int rc = diff ? dt_recorded_run(&seq, settings, nsettings, "/", collect, &c, NULL, diff) : -1;
    if (rc < 0 || c.failed) { /* the machine refused its config: bad input, by line */
        if (diff)
            diff->text[strcspn(diff->text, "\n")] = '\0';
        lua_pushfstring(L, "%s:%d: %s", path, diff && seq.n ? lines[diff->step < seq.n ? diff->step : 0] : 0,
                        diff && !c.failed ? diff->text : "out of memory");
        free(diff);
        free(c.steps);
        dt_seq_free(&seq);
        free(lines);
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    /* Nothing below raises before the C memory is freed but out of memory. */
    lua_createtable(L, 0, 3);
    set_string(L, "outcome", rc == 0 ? "agree" : "differ");
    lua_createtable(L, c.n, 0);
    for (int i = 0; i < c.n; i++) {
        push_step(L, &c.steps[i], lines);
        lua_seti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "steps");
    if (rc == 1) {
        lua_createtable(L, 0, 3);
        set_integer(L, "line", diff->step < seq.n ? lines[diff->step] : 0);
        set_string(L, "aspect", aspect_name(diff->aspect));
        set_string(L, "text", diff->text);
        lua_setfield(L, -2, "difference");
    }
    free(diff);
    free(c.steps);
    dt_seq_free(&seq);
    free(lines);
    return 1;
}

void vl_open_replay(lua_State *L, struct vl_ctx *ctx)
{
    static const struct vl_method functions[] = {{"replay", l_replay, 0}, {NULL, NULL, 0}};
    vl_register_methods(L, ctx, functions);
}
