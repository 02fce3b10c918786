/*
 * Lua values written out for the tools: as JSON (--json) and as a script
 * would spell them (narration, expectation messages); and the ready Lua
 * state the tools start from.
 */
#include "binding.h"

#include <ctype.h>
#include <inttypes.h>
#include <lualib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8
#define MAX_SHOWN_BYTES 40 /* a longer string is cut in narration */

/* ---- JSON ---- */

static void json_string(const char *s, size_t len, FILE *out)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c); /* each byte as the code point of its value */
        else
            fputc(c, out);
    }
    fputc('"', out);
}

struct json_key {
    int is_int;
    lua_Integer i;
    const char *s;
    size_t len;
};

static int key_order(const void *pa, const void *pb)
{
    const struct json_key *a = pa, *b = pb;
    if (a->is_int != b->is_int)
        return a->is_int ? -1 : 1;
    if (a->is_int)
        return (a->i > b->i) - (a->i < b->i);
    return strcmp(a->s, b->s);
}

static void json_value(lua_State *L, int index, FILE *out, int depth);

/* 1..n with nothing else: an array. */
static int is_array(lua_State *L, int index, size_t *n_out)
{
    size_t n = (size_t)lua_rawlen(L, index), count = 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    *n_out = n;
    return count == n;
}

/* The table's keys JSON can spell (strings and integers), sorted: integers
 * first, in order, then strings. The strings stay anchored by the table.
 * A malloc'd array (NULL when empty or out of memory) and its length. */
static struct json_key *sorted_keys(lua_State *L, int index, size_t *count)
{
    size_t n = 0, cap = 16;
    struct json_key *keys = malloc(cap * sizeof(*keys));
    lua_pushnil(L);
    while (keys && lua_next(L, index)) {
        lua_pop(L, 1);
        int type = lua_type(L, -1);
        if (type != LUA_TSTRING && !lua_isinteger(L, -1))
            continue; /* keys JSON cannot spell are left out */
        if (n == cap) {
            struct json_key *more = realloc(keys, 2 * cap * sizeof(*keys));
            if (!more) {
                lua_pop(L, 1);
                break;
            }
            keys = more;
            cap *= 2;
        }
        keys[n] = (struct json_key){.is_int = type != LUA_TSTRING};
        if (keys[n].is_int)
            keys[n].i = lua_tointeger(L, -1);
        else
            keys[n].s = lua_tolstring(L, -1, &keys[n].len);
        n++;
    }
    if (keys)
        qsort(keys, n, sizeof(*keys), key_order);
    *count = keys ? n : 0;
    return keys;
}

/* Pushes t[key]. */
static void push_field(lua_State *L, int index, const struct json_key *key)
{
    if (key->is_int) {
        lua_rawgeti(L, index, key->i);
    } else {
        lua_pushlstring(L, key->s, key->len);
        lua_rawget(L, index);
    }
}

/* An object with its keys sorted, so that the output does not depend on
 * Lua's hash order. */
static void json_object(lua_State *L, int index, FILE *out, int depth)
{
    size_t n;
    struct json_key *keys = sorted_keys(L, index, &n);
    fputc('{', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        if (keys[i].is_int)
            fprintf(out, "\"%" PRId64 "\":", (int64_t)keys[i].i);
        else
            json_string(keys[i].s, keys[i].len, out);
        if (!keys[i].is_int)
            fputc(':', out);
        push_field(L, index, &keys[i]);
        json_value(L, lua_gettop(L), out, depth + 1);
        lua_pop(L, 1);
    }
    fputc('}', out);
    free(keys);
}

static void json_table(lua_State *L, int index, FILE *out, int depth)
{
    size_t n;
    if (depth >= MAX_DEPTH || !lua_checkstack(L, 4)) {
        fputs("\"...\"", out);
        return;
    }
    if (!is_array(L, index, &n) || n == 0) {
        json_object(L, index, out, depth);
        return;
    }
    fputc('[', out);
    for (size_t i = 1; i <= n; i++) {
        if (i > 1)
            fputc(',', out);
        lua_rawgeti(L, index, (lua_Integer)i);
        json_value(L, lua_gettop(L), out, depth + 1);
        lua_pop(L, 1);
    }
    fputc(']', out);
}

static void json_value(lua_State *L, int index, FILE *out, int depth)
{
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE: fputs("null", out); break;
    case LUA_TBOOLEAN: fputs(lua_toboolean(L, index) ? "true" : "false", out); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            fprintf(out, "%" PRId64, (int64_t)lua_tointeger(L, index));
        } else {
            double d = lua_tonumber(L, index);
            if (isfinite(d))
                fprintf(out, "%.17g", d);
            else
                fputs("null", out);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, index, &len);
        json_string(s, len, out);
        break;
    }
    case LUA_TTABLE: json_table(L, index, out, depth); break;
    case LUA_TUSERDATA: {
        struct vl_task_ud *t = luaL_testudata(L, index, VL_TASK);
        if (t) {
            fprintf(out, "{\"machine\":%u,\"task\":%d}", t->machine, t->pid);
            break;
        }
        struct vl_machine_ud *m = luaL_testudata(L, index, VL_MACHINE);
        if (m) {
            fprintf(out, "{\"machine\":%u}", m->rec ? m->rec->number : 0);
            break;
        }
    }
        /* fall through */
    default: json_string(luaL_typename(L, index), strlen(luaL_typename(L, index)), out); break;
    }
}

void vmsim_lua_write_json(lua_State *L, int index, FILE *out)
{
    json_value(L, index, out, 0);
}

/* ---- as a script spells it ---- */

static void lua_string(const char *s, size_t len, FILE *out)
{
    size_t shown = len > MAX_SHOWN_BYTES ? MAX_SHOWN_BYTES : len;
    fputc('"', out);
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (isprint(c))
            fputc(c, out);
        else
            fprintf(out, "\\x%02x", c);
    }
    fputc('"', out);
    if (shown < len)
        fprintf(out, "...(%zu bytes)", len);
}

/* Fields whose integers are addresses or page-table entries: in hex. */
static int hex_field(const struct json_key *key)
{
    static const char *const names[] = {"pa", "a", "b", "addr", "table", "entry"};
    if (key->is_int)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(key->s, names[i]) == 0)
            return 1;
    return 0;
}

#define MAX_SHOWN_FIELDS 8

/* A table, one level deep: {1, 0, 1} or {levels = 4, pa = 0x6000, steps =
 * {...}}, the first fields in key order and "..." for the rest; a list's
 * integers in hex when as_hex (pagemap entries). */
static void write_table(lua_State *L, int index, int as_hex, FILE *out)
{
    size_t n, len;
    if (!lua_checkstack(L, 4)) {
        fputs("{...}", out);
        return;
    }
    int array = is_array(L, index, &len);
    struct json_key *keys = sorted_keys(L, index, &n);
    fputc('{', out);
    for (size_t i = 0; i < n && i < MAX_SHOWN_FIELDS; i++) {
        fputs(i ? ", " : "", out);
        if (!array && keys[i].is_int)
            fprintf(out, "[%" PRId64 "] = ", (int64_t)keys[i].i);
        else if (!array)
            fprintf(out, "%.*s = ", (int)keys[i].len, keys[i].s);
        push_field(L, index, &keys[i]);
        if (lua_type(L, -1) == LUA_TTABLE)
            fputs("{...}", out);
        else
            vmsim_lua_write_value(L, -1, hex_field(&keys[i]) || (array && as_hex), out);
        lua_pop(L, 1);
    }
    fputs(n > MAX_SHOWN_FIELDS ? ", ...}" : "}", out);
    free(keys);
}

void vmsim_lua_write_value(lua_State *L, int index, int as_hex, FILE *out)
{
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE: fputs("nil", out); break;
    case LUA_TBOOLEAN: fputs(lua_toboolean(L, index) ? "true" : "false", out); break;
    case LUA_TNUMBER:
        if (!lua_isinteger(L, index))
            fprintf(out, "%.14g", lua_tonumber(L, index));
        else if (as_hex)
            fprintf(out, "0x%" PRIx64, (uint64_t)lua_tointeger(L, index));
        else
            fprintf(out, "%" PRId64, (int64_t)lua_tointeger(L, index));
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, index, &len);
        lua_string(s, len, out);
        break;
    }
    case LUA_TTABLE: write_table(L, index, as_hex, out); break;
    case LUA_TUSERDATA: {
        struct vl_task_ud *t = luaL_testudata(L, index, VL_TASK);
        if (t) {
            fprintf(out, "task %d", t->pid);
            break;
        }
        struct vl_machine_ud *m = luaL_testudata(L, index, VL_MACHINE);
        if (m) {
            fprintf(out, "machine %u", m->rec ? m->rec->number : 0);
            break;
        }
    }
        /* fall through */
    default: fputs(luaL_typename(L, index), out); break;
    }
}

/* ---- the tools' state ---- */

static int open_all(lua_State *L)
{
    FILE *report = lua_touserdata(L, 1);
    luaL_openlibs(L);
    luaL_requiref(L, "vmsim", luaopen_vmsim, 1);
    lua_pop(L, 1);
    vmsim_lua_install_expect(L, report);
    return 0;
}

lua_State *vmsim_lua_new_state(FILE *report)
{
    lua_State *L = luaL_newstate();
    if (!L)
        return NULL;
    lua_pushcfunction(L, open_all);
    lua_pushlightuserdata(L, report);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    return L;
}

/* ---- a hooked call as text ---- */

/* Slot 1 is the receiver when it is a machine or a task handle. */
static int has_receiver(lua_State *L, const struct vmsim_lua_call *call)
{
    return call->nargs >= 1 && lua_type(L, 1) == LUA_TUSERDATA;
}

void vmsim_lua_write_receiver(lua_State *L, const struct vmsim_lua_call *call, FILE *out)
{
    if (!has_receiver(L, call)) {
        fputs("vmsim.", out);
        return;
    }
    vmsim_lua_write_value(L, 1, 0, out);
    fputs(": ", out);
}

void vmsim_lua_write_args(lua_State *L, const struct vmsim_lua_call *call, FILE *out)
{
    int first = has_receiver(L, call) ? 2 : 1;
    fputc('(', out);
    for (int i = first; i <= call->nargs; i++) { /* hex bit i - 1 is slot i */
        if (i > first)
            fputs(", ", out);
        vmsim_lua_write_value(L, i, (call->hex >> (i - 1)) & 1, out);
    }
    fputc(')', out);
}

void vmsim_lua_write_results(lua_State *L, const struct vmsim_lua_call *call, FILE *out)
{
    int base = lua_gettop(L) - call->nres;
    for (int j = 1; j <= call->nres; j++) { /* hex bit 16 + j - 1 is result j */
        if (j > 1)
            fputs(", ", out);
        vmsim_lua_write_value(L, base + j, (call->hex >> (16 + j - 1)) & 1, out);
    }
}

char *vmsim_lua_call_text(lua_State *L, const struct vmsim_lua_call *call, unsigned parts)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    if (parts & VMSIM_LUA_CALL_RECEIVER)
        vmsim_lua_write_receiver(L, call, f);
    if (parts & VMSIM_LUA_CALL_NAME_ARGS) {
        fputs(call->name, f);
        vmsim_lua_write_args(L, call, f);
    }
    if (parts & VMSIM_LUA_CALL_RESULTS) {
        if ((parts & VMSIM_LUA_CALL_NAME_ARGS) && call->nres)
            fputs(" = ", f);
        vmsim_lua_write_results(L, call, f);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
