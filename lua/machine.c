/*
 * The Lua binding's core: the module table (vmsim.machine and the
 * constants), the per-state context, the machine handle and its methods
 * (spawn, sync, stats, check, phys_read, on_event, destroy), the liveness
 * record that machine and task handles share, and the return conventions
 * every method follows (docs/lua.md).
 */
#include "binding.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char CTX_KEY = 'c'; /* its address keys the context in the registry */

struct vl_ctx *vl_ctx(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
    struct vl_ctx *ctx = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!ctx)
        luaL_error(L, "vmsim: the module is not loaded in this state");
    return ctx;
}

/* ---- return conventions ---- */

int vl_push_errno(lua_State *L, int err)
{
    const char *name = strerrorname_np(err);
    lua_pushnil(L);
    lua_pushstring(L, name ? name : "EUNKNOWN");
    lua_pushinteger(L, err);
    return 3;
}

int vl_push_result(lua_State *L, int64_t ret)
{
    if (ret < 0 && ret >= -4095)
        return vl_push_errno(L, (int)-ret);
    lua_pushinteger(L, ret);
    return 1;
}

const char *vl_signal_name(int signo)
{
    switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    default: return "SIGUNKNOWN";
    }
}

const char *vl_si_code_name(int signo, int code)
{
    if (code == SI_KERNEL)
        return "SI_KERNEL";
    if (signo == SIGSEGV)
        switch (code) {
        case SEGV_MAPERR: return "SEGV_MAPERR";
        case SEGV_ACCERR: return "SEGV_ACCERR";
        case SEGV_PKUERR: return "SEGV_PKUERR";
        default: break;
        }
    if (signo == SIGBUS && code == BUS_ADRERR)
        return "BUS_ADRERR";
    return signo == SIGKILL ? "SI_USER" : "UNKNOWN";
}

int vl_push_signal(lua_State *L, vms_task *t, int sig)
{
    const struct vms_fault *f = vms_last_fault(t);
    lua_pushnil(L);
    lua_pushstring(L, vl_signal_name(sig));
    lua_pushstring(L, vl_si_code_name(f->signo, f->code));
    lua_pushinteger(L, (lua_Integer)f->addr);
    return 4;
}

/* ---- argument checkers ---- */

static uint64_t size_from_string(lua_State *L, int arg)
{
    size_t len;
    const char *s = lua_tolstring(L, arg, &len);
    uint64_t v;
    char err[96];
    if (vl_parse_size(s, len, &v, err, sizeof(err))) {
        lua_pushfstring(L, "%s: '%s'", err, s);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    return v;
}

uint64_t vl_check_size(lua_State *L, int arg)
{
    if (lua_type(L, arg) == LUA_TSTRING)
        return size_from_string(L, arg);
    int exact = 0;
    lua_Integer v = lua_tointegerx(L, arg, &exact); /* 4096.0 is 4096, as luaL_checkinteger says */
    if (!exact && lua_type(L, arg) == LUA_TNUMBER)
        luaL_argerror(L, arg, "size has no integer representation");
    if (!exact)
        v = luaL_checkinteger(L, arg); /* raises "number expected, got ..." */
    if (v < 0)
        luaL_argerror(L, arg, "negative size");
    return (uint64_t)v;
}

uint64_t vl_opt_size(lua_State *L, int arg, uint64_t def)
{
    return lua_isnoneornil(L, arg) ? def : vl_check_size(L, arg);
}

uint64_t vl_check_addr(lua_State *L, int arg)
{
    if (lua_type(L, arg) == LUA_TSTRING)
        return size_from_string(L, arg);
    return (uint64_t)luaL_checkinteger(L, arg);
}

int64_t vl_check_flags(lua_State *L, int arg, const struct vl_flag_kind *k)
{
    if (lua_type(L, arg) == LUA_TNUMBER)
        return (int64_t)luaL_checkinteger(L, arg);
    if (lua_type(L, arg) != LUA_TSTRING) {
        lua_pushfstring(L, "%s expected (a name or a number), got %s", k->what,
                        luaL_typename(L, arg));
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    size_t len;
    const char *s = lua_tolstring(L, arg, &len);
    int64_t v;
    char err[128];
    if (vl_parse_flags(k, s, len, &v, err, sizeof(err)))
        luaL_argerror(L, arg, err);
    return v;
}

int64_t vl_opt_flags(lua_State *L, int arg, const struct vl_flag_kind *k, int64_t def)
{
    return lua_isnoneornil(L, arg) ? def : vl_check_flags(L, arg, k);
}

static void check_usable(lua_State *L, struct vl_machine_rec *rec, int arg, const char *what)
{
    if (!rec) { /* the handle's finalizer ran (the debug library can call it) */
        lua_pushfstring(L, "%s used after it was finalized", what);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    if (!rec->m) {
        lua_pushfstring(L, "%s used after its machine was destroyed", what);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    if (rec->busy)
        luaL_error(L, "vmsim: a machine cannot be used from its own event handler");
}

struct vl_machine_rec *vl_check_machine(lua_State *L, int arg)
{
    struct vl_machine_ud *ud = luaL_checkudata(L, arg, VL_MACHINE);
    check_usable(L, ud->rec, arg, "machine");
    return ud->rec;
}

struct vl_task_ud *vl_check_task(lua_State *L, int arg)
{
    struct vl_task_ud *ud = luaL_checkudata(L, arg, VL_TASK);
    check_usable(L, ud->rec, arg, "task");
    if (!ud->t)
        luaL_argerror(L, arg, "task used after it exited");
    return ud;
}

/* ---- the liveness record ---- */

void vl_rec_put(lua_State *L, struct vl_machine_rec *rec)
{
    if (--rec->refs)
        return;
    luaL_unref(L, LUA_REGISTRYINDEX, rec->handler);
    luaL_unref(L, LUA_REGISTRYINDEX, rec->handler_error);
    free(rec);
}

void vl_push_task(lua_State *L, struct vl_machine_rec *rec, vms_task *t, int owner_arg,
                  unsigned group)
{
    struct vl_task_ud *ud = lua_newuserdatauv(L, sizeof(*ud), 1);
    *ud = (struct vl_task_ud){.rec = rec, .t = t, .pid = vms_task_pid(t), .machine = rec->number,
                              .group = group ? group : ++rec->next_group};
    rec->refs++;
    ud->next = rec->tasks;
    if (ud->next)
        ud->next->pprev = &ud->next;
    ud->pprev = &rec->tasks;
    rec->tasks = ud;
    luaL_setmetatable(L, VL_TASK);
    /* The task keeps its machine's handle alive: the machine is collected
     * (and destroyed) only when no handle of it or of its tasks is left. */
    if (luaL_testudata(L, owner_arg, VL_MACHINE))
        lua_pushvalue(L, owner_arg);
    else
        lua_getiuservalue(L, owner_arg, 1);
    lua_setiuservalue(L, -2, 1);
}

void vl_task_unlink(struct vl_task_ud *ud)
{
    if (!ud->pprev)
        return;
    *ud->pprev = ud->next;
    if (ud->next)
        ud->next->pprev = ud->pprev;
    ud->pprev = NULL;
    ud->next = NULL;
}

/* ---- events ---- */

static void push_event(lua_State *L, const struct vms_event *ev)
{
    lua_createtable(L, 0, 9);
    lua_pushstring(L, vms_event_name(ev->kind));
    lua_setfield(L, -2, "kind");
#define EV_INT(field)                                     \
    lua_pushinteger(L, (lua_Integer)ev->field);           \
    lua_setfield(L, -2, #field)
    EV_INT(cpu);
    EV_INT(level);
    EV_INT(index);
    EV_INT(a);
    EV_INT(b);
    EV_INT(pa);
    EV_INT(entry);
#undef EV_INT
    if (ev->detail) {
        lua_pushstring(L, ev->detail);
        lua_setfield(L, -2, "detail");
    }
}

/* The function on_event set, under a protected call: a Lua error cannot
 * unwind through the library's frames. The first error is kept and raised
 * when the call returns (vl_leave). */
static int run_handler(lua_State *L)
{
    const struct vms_event *ev = lua_touserdata(L, 2);
    lua_settop(L, 1);
    push_event(L, ev);
    lua_call(L, 1, 0);
    return 0;
}

static void on_trace(void *arg, const struct vms_event *ev)
{
    struct vl_machine_rec *rec = arg;
    if (rec->ctx->hooks.event)
        rec->ctx->hooks.event(rec->ctx->hooks.arg, ev);
    lua_State *L = rec->L;
    if (rec->handler == LUA_NOREF || rec->closing || !L || rec->handler_error != LUA_NOREF)
        return;
    if (!lua_checkstack(L, 4))
        return;
    lua_pushcfunction(L, run_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rec->handler);
    lua_pushlightuserdata(L, (void *)ev);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
        rec->handler_error = luaL_ref(L, LUA_REGISTRYINDEX);
}

void vl_enter(lua_State *L, struct vl_machine_rec *rec)
{
    rec->busy = 1;
    rec->L = L;
}

void vl_leave(lua_State *L, struct vl_machine_rec *rec)
{
    rec->busy = 0;
    rec->L = NULL;
    if (rec->handler_error == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, rec->handler_error);
    luaL_unref(L, LUA_REGISTRYINDEX, rec->handler_error);
    rec->handler_error = LUA_NOREF;
    lua_error(L);
}

/* ---- methods run through the hooks ---- */

static int dispatch(lua_State *L)
{
    const struct vl_method *me = lua_touserdata(L, lua_upvalueindex(1));
    struct vl_ctx *ctx = lua_touserdata(L, lua_upvalueindex(2));
    if (!ctx->hooked)
        return me->fn(L);
    struct vmsim_lua_call call = {.name = me->name, .nargs = lua_gettop(L), .hex = me->hex};
    if (ctx->hooks.call_begin)
        ctx->hooks.call_begin(ctx->hooks.arg, L, &call);
    call.nres = me->fn(L);
    if (ctx->hooks.call_end)
        ctx->hooks.call_end(ctx->hooks.arg, L, &call);
    return call.nres;
}

void vl_register_methods(lua_State *L, struct vl_ctx *ctx, const struct vl_method *methods)
{
    for (const struct vl_method *me = methods; me->name; me++) {
        lua_pushlightuserdata(L, (void *)me);
        lua_pushlightuserdata(L, ctx);
        lua_pushcclosure(L, dispatch, 2);
        lua_setfield(L, -2, me->name);
    }
}

/* ---- the configuration ---- */

enum field_type { F_SIZE, F_U32, F_BOOL, F_INT, F_TLB, F_STRING, F_SIZE_OR_MAX };

struct config_field {
    const char *name, *alias;
    enum field_type type;
    size_t offset;
    const char *max_word; /* F_SIZE_OR_MAX: the word that means UINT64_MAX */
};

#define FIELD(n, a, t, f) {n, a, t, offsetof(struct vms_config, f), NULL}
static const struct config_field config_fields[] = {
    FIELD("phys_bytes", "ram", F_SIZE, phys_bytes),
    FIELD("ncpus", "cpus", F_U32, ncpus),
    FIELD("swap_bytes", "swap", F_SIZE, swap_bytes),
    FIELD("pgtable_levels", "levels", F_INT, pgtable_levels),
    FIELD("pcid", NULL, F_BOOL, pcid),
    FIELD("dtlb", NULL, F_TLB, dtlb),
    FIELD("itlb", NULL, F_TLB, itlb),
    FIELD("stlb", NULL, F_TLB, stlb),
    FIELD("pde_cache", NULL, F_TLB, pde_cache),
    FIELD("pdpte_cache", NULL, F_TLB, pdpte_cache),
    FIELD("pml4e_cache", NULL, F_TLB, pml4e_cache),
    FIELD("tlb_flush_ceiling", NULL, F_U32, tlb_flush_ceiling),
    FIELD("mmap_min_addr", NULL, F_SIZE, mmap_min_addr),
    FIELD("max_map_count", NULL, F_U32, max_map_count),
    FIELD("aslr_seed", NULL, F_SIZE, aslr_seed),
    FIELD("fault_around_bytes", NULL, F_U32, fault_around_bytes),
    FIELD("readahead_kb", NULL, F_U32, readahead_kb),
    FIELD("max_sectors_kb", NULL, F_U32, max_sectors_kb),
    FIELD("large_folios", NULL, F_BOOL, large_folios),
    FIELD("max_file_bytes", NULL, F_SIZE, max_file_bytes),
    FIELD("root", NULL, F_STRING, root),
    FIELD("privileged", NULL, F_BOOL, privileged),
    {"memlock_rlimit", NULL, F_SIZE_OR_MAX, offsetof(struct vms_config, memlock_rlimit), "unlimited"},
    FIELD("pku", NULL, F_BOOL, pku),
    FIELD("zero_page", NULL, F_BOOL, zero_page),
    FIELD("overcommit_memory", NULL, F_U32, overcommit_memory),
    FIELD("overcommit_ratio", NULL, F_U32, overcommit_ratio),
    FIELD("overcommit_kbytes", NULL, F_SIZE, overcommit_kbytes),
    FIELD("mem_total", NULL, F_SIZE, mem_total),
    {"admin_reserve_kbytes", NULL, F_SIZE_OR_MAX, offsetof(struct vms_config, admin_reserve_kbytes), "default"},
    {"user_reserve_kbytes", NULL, F_SIZE_OR_MAX, offsetof(struct vms_config, user_reserve_kbytes), "default"},
    {"stack_rlimit", NULL, F_SIZE_OR_MAX, offsetof(struct vms_config, stack_rlimit), "unlimited"},
    {"data_rlimit", NULL, F_SIZE_OR_MAX, offsetof(struct vms_config, data_rlimit), "unlimited"},
    FIELD("uid", NULL, F_U32, uid),
    FIELD("gid", NULL, F_U32, gid),
    FIELD("hwcap", NULL, F_SIZE, hwcap),
    FIELD("hwcap2", NULL, F_SIZE, hwcap2),
    FIELD("minsigstksz", NULL, F_SIZE, minsigstksz),
    {"min_free_kbytes", NULL, F_SIZE_OR_MAX, offsetof(struct vms_config, min_free_kbytes), "default"},
    FIELD("watermark_scale_factor", NULL, F_U32, watermark_scale_factor),
    FIELD("swappiness", NULL, F_U32, swappiness),
    FIELD("page_cluster", NULL, F_U32, page_cluster),
    FIELD("cgroup_reclaim", NULL, F_BOOL, cgroup_reclaim),
    FIELD("cgroup_flushed_stats", NULL, F_BOOL, cgroup_flushed_stats),
};
#undef FIELD
#define NR_FIELDS (sizeof(config_fields) / sizeof(config_fields[0]))

/* A field's error: "bad argument #1 to 'machine' (field 'ram': ...)". */
static int field_error(lua_State *L, const char *field, const char *msg)
{
    lua_pushfstring(L, "field '%s': %s", field, msg);
    return luaL_argerror(L, 1, lua_tostring(L, -1));
}

/* The value at the top of the stack as a size (number >= 0 or "64M"). */
static uint64_t field_size(lua_State *L, const char *field, const char *max_word)
{
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (max_word && strcmp(s, max_word) == 0)
            return UINT64_MAX;
        uint64_t v;
        char err[96];
        if (vl_parse_size(s, len, &v, err, sizeof(err)))
            field_error(L, field, err);
        return v;
    }
    int exact = 0;
    lua_Integer v = lua_tointegerx(L, -1, &exact);
    if (!exact) {
        lua_pushfstring(L, "size expected (an integer or a string such as \"64M\"), got %s",
                        lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
        field_error(L, field, lua_tostring(L, -1));
    }
    if (v < 0)
        field_error(L, field, "negative size");
    return (uint64_t)v;
}

static unsigned field_u32(lua_State *L, const char *field)
{
    uint64_t v = field_size(L, field, NULL);
    if (v > UINT32_MAX)
        field_error(L, field, "too large (at most 4294967295)");
    return (unsigned)v;
}

static int field_int(lua_State *L, const char *field, int boolean)
{
    if (boolean && lua_isboolean(L, -1))
        return lua_toboolean(L, -1);
    int exact = 0;
    lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &exact) : 0;
    if (!exact)
        field_error(L, field, boolean ? "true, false, 0 or 1 expected" : "integer expected");
    if (v < INT32_MIN || v > INT32_MAX || (boolean && v != 0 && v != 1))
        field_error(L, field, boolean ? "true, false, 0 or 1 expected" : "out of range");
    return (int)v;
}

static void field_tlb(lua_State *L, const char *field, struct vms_tlb_geometry *g)
{
    if (!lua_istable(L, -1))
        field_error(L, field, "table {entries = N, ways = N} expected");
    static const char *const parts[] = {"entries", "ways"};
    for (int i = 0; i < 2; i++) {
        lua_getfield(L, -1, parts[i]);
        if (!lua_isnil(L, -1)) {
            char name[32];
            snprintf(name, sizeof(name), "%s.%s", field, parts[i]);
            unsigned v = field_u32(L, name);
            *(i ? &g->ways : &g->entries) = v;
        }
        lua_pop(L, 1);
    }
}

static const struct config_field *find_field(const char *name)
{
    for (size_t i = 0; i < NR_FIELDS; i++)
        if (strcmp(config_fields[i].name, name) == 0 ||
            (config_fields[i].alias && strcmp(config_fields[i].alias, name) == 0))
            return &config_fields[i];
    return NULL;
}

/* The value at the top of the stack into its field. */
static void set_field(lua_State *L, struct vms_config *c, const struct config_field *f,
                      const char *key)
{
    char *p = (char *)c + f->offset;
    uint64_t u64;
    unsigned u32;
    int i;
    switch (f->type) {
    case F_SIZE:
    case F_SIZE_OR_MAX:
        u64 = field_size(L, key, f->max_word);
        memcpy(p, &u64, sizeof(u64));
        break;
    case F_U32:
        u32 = field_u32(L, key);
        memcpy(p, &u32, sizeof(u32));
        break;
    case F_BOOL:
    case F_INT:
        i = field_int(L, key, f->type == F_BOOL);
        memcpy(p, &i, sizeof(i));
        break;
    case F_TLB:
        field_tlb(L, key, (struct vms_tlb_geometry *)(void *)p);
        break;
    case F_STRING:
        if (lua_type(L, -1) != LUA_TSTRING)
            field_error(L, key, "string expected");
        c->root = lua_tostring(L, -1); /* pinned by the table until creation */
        break;
    }
}

static void read_config(lua_State *L, struct vms_config *c)
{
    vms_config_init(c);
    if (lua_isnoneornil(L, 1))
        return;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_argerror(L, 1, "config keys must be field names");
        const char *key = lua_tostring(L, -2);
        const struct config_field *f = find_field(key);
        if (!f) {
            lua_pushfstring(L, "unknown config field '%s'", key);
            luaL_argerror(L, 1, lua_tostring(L, -1));
        }
        set_field(L, c, f, key);
        lua_pop(L, 1);
    }
}

/* ---- vmsim.machine ---- */

static int l_machine(lua_State *L)
{
    struct vl_ctx *ctx = vl_ctx(L);
    struct vms_config c;
    read_config(L, &c);
    struct vl_machine_ud *ud = lua_newuserdatauv(L, sizeof(*ud), 0);
    ud->rec = NULL;
    luaL_setmetatable(L, VL_MACHINE);
    struct vl_machine_rec *rec = calloc(1, sizeof(*rec));
    if (!rec)
        return luaL_error(L, "vmsim.machine: out of memory");
    *rec = (struct vl_machine_rec){.refs = 1, .handler = LUA_NOREF,
                                   .handler_error = LUA_NOREF, .ctx = ctx,
                                   .number = ++ctx->machines_made, .ncpus = c.ncpus,
                                   .phys_bytes = c.phys_bytes};
    ud->rec = rec;
    char msg[160];
    if (vms_config_check(&c, msg, sizeof(msg)))
        return luaL_argerror(L, 1, msg); /* "ncpus = 0: must be 1..64" */
    c.trace = on_trace;
    c.trace_arg = rec;
    rec->m = vms_machine_create(&c);
    if (!rec->m) {
        int err = errno;
        if (err == EINVAL)
            return luaL_argerror(L, 1, "invalid configuration (EINVAL)");
        return vl_push_errno(L, err);
    }
    /* Linked at the end: vmsim_lua_destroy_machines goes oldest first. */
    struct vl_machine_rec **link = &ctx->machines;
    while (*link)
        link = &(*link)->next;
    rec->pprev = link;
    *link = rec;
    return 1;
}

static void unlink_rec(struct vl_machine_rec *rec)
{
    if (!rec->pprev)
        return;
    *rec->pprev = rec->next;
    if (rec->next)
        rec->next->pprev = rec->pprev;
    rec->pprev = NULL;
    rec->next = NULL;
}

/* Destroys the machine (dirty pages written back); its handles then raise
 * errors. Events of the teardown still reach the tool's hook. */
static void destroy_rec(struct vl_machine_rec *rec)
{
    if (!rec->m)
        return;
    rec->closing = 1;
    vms_machine *m = rec->m;
    if (rec->ctx->hooks.machine_end)
        rec->ctx->hooks.machine_end(rec->ctx->hooks.arg, m, rec->number);
    vms_machine_destroy(m);
    rec->m = NULL;
    unlink_rec(rec);
}

static int m_destroy(lua_State *L)
{
    struct vl_machine_ud *ud = luaL_checkudata(L, 1, VL_MACHINE);
    if (ud->rec && ud->rec->busy)
        return luaL_error(L, "vmsim: a machine cannot be used from its own event handler");
    if (ud->rec)
        destroy_rec(ud->rec);
    return 0;
}

static int m_gc(lua_State *L)
{
    struct vl_machine_ud *ud = luaL_checkudata(L, 1, VL_MACHINE);
    if (!ud->rec)
        return 0;
    destroy_rec(ud->rec);
    vl_rec_put(L, ud->rec);
    ud->rec = NULL;
    return 0;
}

int vmsim_lua_destroy_machines(lua_State *L)
{
    struct vl_ctx *ctx = vl_ctx(L);
    int n = 0;
    while (ctx->machines) {
        destroy_rec(ctx->machines);
        n++;
    }
    return n;
}

static int m_tostring(lua_State *L)
{
    struct vl_machine_ud *ud = luaL_checkudata(L, 1, VL_MACHINE);
    if (!ud->rec || !ud->rec->m)
        lua_pushliteral(L, "vmsim.machine (destroyed)");
    else
        lua_pushfstring(L, "vmsim.machine %d (%d CPU%s, %d MiB)", (int)ud->rec->number,
                        (int)ud->rec->ncpus, ud->rec->ncpus == 1 ? "" : "s",
                        (int)(ud->rec->phys_bytes >> 20));
    return 1;
}

static int m_spawn(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    const char *name = luaL_optstring(L, 2, "task");
    vl_enter(L, rec);
    vms_task *t = vms_spawn(rec->m, name);
    int err = errno;
    vl_leave(L, rec);
    if (!t)
        return vl_push_errno(L, err);
    vl_push_task(L, rec, t, 1, 0);
    return 1;
}

static int m_sync(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    vl_enter(L, rec);
    int r = vms_sync(rec->m);
    vl_leave(L, rec);
    return vl_push_result(L, r);
}

static int m_cgroup_flush_stats(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    vl_enter(L, rec);
    vms_cgroup_flush_stats(rec->m);
    vl_leave(L, rec);
    return 0;
}

static void set_int(lua_State *L, const char *name, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, name);
}

static void push_cpu_stats(lua_State *L, const struct vms_cpu_stats *c)
{
    lua_createtable(L, 0, 20);
#define CPU_INT(f) set_int(L, #f, c->f)
    CPU_INT(dtlb_hits); CPU_INT(dtlb_misses); CPU_INT(itlb_hits); CPU_INT(itlb_misses);
    CPU_INT(stlb_hits); CPU_INT(stlb_misses); CPU_INT(page_walks); CPU_INT(walk_refs);
    CPU_INT(pde_cache_hits); CPU_INT(pdpte_cache_hits); CPU_INT(pml4e_cache_hits);
    CPU_INT(walk_refs_saved);
    CPU_INT(flushes_full); CPU_INT(flushes_single); CPU_INT(shootdowns); CPU_INT(ipis_sent);
    CPU_INT(ipis_received); CPU_INT(context_switches); CPU_INT(lazy_skips);
#undef CPU_INT
}

static void push_stats(lua_State *L, const struct vms_stats *s)
{
    lua_createtable(L, 0, 24);
#define ST_INT(f) set_int(L, #f, s->f)
    ST_INT(tlb_hits); ST_INT(tlb_misses); ST_INT(page_walks); ST_INT(walk_refs);
    ST_INT(shootdowns); ST_INT(ipis); ST_INT(flushes_full); ST_INT(flushes_single);
    ST_INT(context_switches); ST_INT(minor_faults); ST_INT(major_faults); ST_INT(cow_faults);
    ST_INT(frames_total); ST_INT(frames_used); ST_INT(pgtable_frames); ST_INT(cache_frames);
    ST_INT(dirty_pages); ST_INT(swap_used); ST_INT(oom_kill); ST_INT(ncpus);
#undef ST_INT
    lua_createtable(L, 0, 20);
#define VM_INT(f) set_int(L, #f, s->vm.f)
    VM_INT(pgscan_kswapd); VM_INT(pgscan_direct); VM_INT(pgsteal_kswapd); VM_INT(pgsteal_direct);
    VM_INT(pgscan_anon); VM_INT(pgscan_file); VM_INT(pgsteal_anon); VM_INT(pgsteal_file);
    VM_INT(pgrefill); VM_INT(pgactivate); VM_INT(pgdeactivate); VM_INT(pgrotated); VM_INT(pgpgout);
    VM_INT(pswpin); VM_INT(pswpout); VM_INT(allocstall); VM_INT(pageoutrun);
    VM_INT(unevictable_pgs_mlocked); VM_INT(unevictable_pgs_munlocked);
    VM_INT(workingset_refault_anon); VM_INT(workingset_refault_file);
    VM_INT(workingset_activate_anon); VM_INT(workingset_activate_file);
    VM_INT(workingset_restore_anon); VM_INT(workingset_restore_file);
#undef VM_INT
    lua_setfield(L, -2, "vm");
    lua_createtable(L, 0, 3); /* free frames, as /proc/zoneinfo's min, low, high */
    set_int(L, "min", s->watermark[0]);
    set_int(L, "low", s->watermark[1]);
    set_int(L, "high", s->watermark[2]);
    lua_setfield(L, -2, "watermark");
    lua_createtable(L, 0, 6);
#define IO_INT(f) set_int(L, #f, s->io.f)
    IO_INT(disk_to_cache); IO_INT(cache_to_user); IO_INT(user_to_cache); IO_INT(cache_to_disk);
    IO_INT(disk_reads); IO_INT(disk_writes);
#undef IO_INT
    lua_setfield(L, -2, "io");
    /* cpu[N] is CPU N, numbered as t:schedule() and the events number them. */
    lua_createtable(L, 0, (int)s->ncpus);
    for (unsigned i = 0; i < s->ncpus && i < VMS_MAX_CPUS; i++) {
        push_cpu_stats(L, &s->cpu[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setfield(L, -2, "cpu");
}

static int m_stats(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    /* A userdata rather than malloc: nothing leaks if pushing raises. */
    struct vms_stats *s = lua_newuserdatauv(L, sizeof(*s), 0);
    vms_get_stats(rec->m, s);
    push_stats(L, s);
    lua_remove(L, -2);
    return 1;
}

static int m_meminfo(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return luaL_error(L, "vmsim: out of memory");
    vl_enter(L, rec);
    int r = vms_meminfo(rec->m, f);
    vl_leave(L, rec);
    int closed = fclose(f);
    if (r < 0 || closed) {
        free(text);
        return vl_push_errno(L, r < 0 ? -r : ENOMEM);
    }
    lua_pushlstring(L, text ? text : "", size);
    free(text);
    return 1;
}

/* Runs vms_check with a memory stream and pushes what it wrote. */
static int check_to_string(lua_State *L, vms_machine *m, int *result)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return -1;
    *result = vms_check(m, f);
    fclose(f);
    lua_pushlstring(L, text ? text : "", size);
    free(text);
    return 0;
}

static int m_check(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    int result = 0;
    vl_enter(L, rec);
    int r = check_to_string(L, rec->m, &result);
    vl_leave(L, rec);
    if (r)
        return luaL_error(L, "vmsim: out of memory");
    if (result == 0) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

static int m_phys_read(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    uint64_t pa = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    if (len > rec->phys_bytes)
        return vl_push_errno(L, EFAULT);
    luaL_Buffer b;
    char *dst = luaL_buffinitsize(L, &b, len);
    int r = vms_phys_read(rec->m, pa, dst, len);
    if (r < 0)
        return vl_push_errno(L, -r);
    luaL_pushresultsize(&b, len);
    return 1;
}

static int m_on_event(lua_State *L)
{
    struct vl_machine_rec *rec = vl_check_machine(L, 1);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    luaL_unref(L, LUA_REGISTRYINDEX, rec->handler);
    rec->handler = LUA_NOREF;
    if (!lua_isnoneornil(L, 2)) {
        lua_pushvalue(L, 2);
        rec->handler = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

static const struct vl_method machine_methods[] = {
    {"spawn", m_spawn, 0},
    {"sync", m_sync, 0},
    {"stats", m_stats, 0},
    {"meminfo", m_meminfo, 0},
    {"cgroup_flush_stats", m_cgroup_flush_stats, 0},
    {"check", m_check, 0},
    {"phys_read", m_phys_read, VL_HEX_ARG(2)},
    {"on_event", m_on_event, 0},
    {"destroy", m_destroy, 0},
    {NULL, NULL, 0},
};

/* ---- the module ---- */

static void open_machine(lua_State *L, struct vl_ctx *ctx)
{
    luaL_newmetatable(L, VL_MACHINE);
    lua_newtable(L);
    vl_register_methods(L, ctx, machine_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, m_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, m_destroy);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, m_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, VL_MACHINE); /* getmetatable(m) gives this, not __gc */
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

/* vmsim.PROT_READ, vmsim.MAP_PRIVATE, ...: every name of every flag word,
 * plus the signal codes. */
static void set_constants(lua_State *L)
{
    char name[64];
    for (size_t k = 0; k < vl_nr_kinds; k++) {
        const struct vl_flag_kind *kind = vl_all_kinds[k];
        for (size_t i = 0; i < kind->count; i++) {
            snprintf(name, sizeof(name), "%s%s", kind->prefix, kind->names[i].name);
            for (char *p = name; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
            lua_pushinteger(L, kind->names[i].value);
            lua_setfield(L, -2, name);
        }
    }
    static const struct vl_name extra[] = {
        {"SIGSEGV", SIGSEGV}, {"SIGBUS", SIGBUS}, {"SIGKILL", SIGKILL},
        {"SEGV_MAPERR", SEGV_MAPERR}, {"SEGV_ACCERR", SEGV_ACCERR},
        {"SEGV_PKUERR", SEGV_PKUERR}, {"BUS_ADRERR", BUS_ADRERR}, {"SI_KERNEL", SI_KERNEL},
        {"MAX_CPUS", VMS_MAX_CPUS},
    };
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        lua_pushinteger(L, extra[i].value);
        lua_setfield(L, -2, extra[i].name);
    }
    lua_pushliteral(L, VMSIM_VERSION);
    lua_setfield(L, -2, "VERSION");
}

/* The context, made once per state. */
static struct vl_ctx *ctx_open(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
    struct vl_ctx *ctx = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (ctx)
        return ctx;
    ctx = lua_newuserdatauv(L, sizeof(*ctx), 0);
    *ctx = (struct vl_ctx){.report = stderr};
    lua_rawsetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
    return ctx;
}

int luaopen_vmsim(lua_State *L)
{
    struct vl_ctx *ctx = ctx_open(L);
    open_machine(L, ctx);
    vl_open_task(L, ctx);
    lua_newtable(L);
    static const struct vl_method functions[] = {{"machine", l_machine, 0}, {NULL, NULL, 0}};
    vl_register_methods(L, ctx, functions);
    vl_open_replay(L, ctx);
    set_constants(L);
    vl_open_expect(L, ctx);
    return 1;
}

void vmsim_lua_set_hooks(lua_State *L, const struct vmsim_lua_hooks *hooks)
{
    struct vl_ctx *ctx = vl_ctx(L);
    ctx->hooks = *hooks;
    ctx->hooked = hooks->call_begin || hooks->call_end;
}
