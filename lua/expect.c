/*
 * Expectations for teachers: expect(cond, msg) and expect_eq(got, want,
 * what). A failed one prints where it is (file:line), what was expected and
 * what happened; the script goes on, and the tool's exit status says that
 * something failed (vmsim_lua_failures). Both are also vmsim.expect and
 * vmsim.expect_eq, with vmsim.failures(), for scripts run by plain lua5.4.
 */
#include "binding.h"

#include <stdlib.h>

#define MAX_DEPTH 16

static void report_where(lua_State *L, struct vl_ctx *ctx)
{
    luaL_where(L, 1); /* "file:line:" of the script line that called */
    const char *where = lua_tostring(L, -1);
    fputs(where, ctx->report); /* "file:line: " */
    lua_pop(L, 1);
}

static int l_expect(lua_State *L)
{
    struct vl_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
    luaL_checkany(L, 1);
    int ok = lua_toboolean(L, 1);
    if (!ok) {
        ctx->failures++;
        report_where(L, ctx);
        const char *msg = luaL_optstring(L, 2, "a condition");
        fprintf(ctx->report, "expectation failed: %s\n", msg);
        fflush(ctx->report);
    }
    lua_pushboolean(L, ok);
    return 1;
}

/* Equal as values, tables compared key by key (to a depth). */
static int deep_equal(lua_State *L, int a, int b, int depth)
{
    if (lua_type(L, a) != LUA_TTABLE || lua_type(L, b) != LUA_TTABLE)
        return lua_compare(L, a, b, LUA_OPEQ);
    if (lua_rawequal(L, a, b))
        return 1;
    if (depth >= MAX_DEPTH || !lua_checkstack(L, 6))
        return 0;
    lua_pushnil(L);
    while (lua_next(L, a)) { /* every key of a is in b with an equal value */
        lua_pushvalue(L, -2);
        lua_rawget(L, b);
        int same = deep_equal(L, lua_absindex(L, -2), lua_absindex(L, -1), depth + 1);
        lua_pop(L, 2);
        if (!same) {
            lua_pop(L, 1);
            return 0;
        }
    }
    lua_pushnil(L);
    while (lua_next(L, b)) { /* and b has no key a lacks */
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawget(L, a);
        int missing = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (missing) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return 1;
}

/* A value for the message: tables as JSON, large integers in hex too. */
static void show_value(lua_State *L, int index, FILE *out)
{
    if (lua_type(L, index) == LUA_TTABLE) {
        vmsim_lua_write_json(L, index, out);
        return;
    }
    vmsim_lua_write_value(L, index, 0, out);
    if (lua_isinteger(L, index) && (lua_tointeger(L, index) >= 65536 || lua_tointeger(L, index) < 0)) {
        fputs(" (", out);
        vmsim_lua_write_value(L, index, 1, out);
        fputs(")", out);
    }
}

static int l_expect_eq(lua_State *L)
{
    struct vl_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
    luaL_checkany(L, 2);
    int ok = deep_equal(L, 1, 2, 0);
    if (!ok) {
        ctx->failures++;
        report_where(L, ctx);
        const char *what = luaL_optstring(L, 3, "value");
        fprintf(ctx->report, "expectation failed: %s: expected ", what);
        show_value(L, 2, ctx->report);
        fputs(", got ", ctx->report);
        show_value(L, 1, ctx->report);
        fputc('\n', ctx->report);
        fflush(ctx->report);
    }
    lua_pushboolean(L, ok);
    return 1;
}

static int l_failures(lua_State *L)
{
    struct vl_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushinteger(L, (lua_Integer)ctx->failures);
    return 1;
}

static void set_closure(lua_State *L, struct vl_ctx *ctx, lua_CFunction fn, const char *name)
{
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

void vl_open_expect(lua_State *L, struct vl_ctx *ctx)
{
    set_closure(L, ctx, l_expect, "expect");
    set_closure(L, ctx, l_expect_eq, "expect_eq");
    set_closure(L, ctx, l_failures, "failures");
}

void vmsim_lua_install_expect(lua_State *L, FILE *report)
{
    struct vl_ctx *ctx = vl_ctx(L);
    ctx->report = report ? report : stderr;
    lua_pushglobaltable(L);
    set_closure(L, ctx, l_expect, "expect");
    set_closure(L, ctx, l_expect_eq, "expect_eq");
    lua_pop(L, 1);
}

unsigned long vmsim_lua_failures(lua_State *L)
{
    return vl_ctx(L)->failures;
}
