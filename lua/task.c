/*
 * The Lua binding's task handle: every vms_* call that takes a task, one
 * method each, with the C API's arguments in the C API's order. Addresses
 * are integers (or strings "0x..."), sizes integers >= 0 or strings such as
 * "64M", flag words names ("rw", "private|anonymous") or numbers.
 */
#include "binding.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The largest load or mincore vector the binding builds in one call. */
#define MAX_LOAD_BYTES ((uint64_t)256 << 20)
#define MAX_MINCORE_PAGES ((uint64_t)1 << 20)

static int check_int(lua_State *L, int arg, const char *what)
{
    lua_Integer v = luaL_checkinteger(L, arg);
    if (v < INT_MIN || v > INT_MAX) {
        lua_pushfstring(L, "%s out of range", what);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    return (int)v;
}

static int opt_int(lua_State *L, int arg, const char *what, int def)
{
    return lua_isnoneornil(L, arg) ? def : check_int(L, arg, what);
}

/* ---- memory ---- */

static int t_mmap(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    int prot = (int)vl_check_flags(L, 4, &vl_prot);
    int flags = (int)vl_check_flags(L, 5, &vl_map_flags);
    int fd = opt_int(L, 6, "fd", -1);
    int64_t off = (int64_t)luaL_optinteger(L, 7, 0);
    vl_enter(L, ud->rec);
    int64_t r = vms_mmap(ud->t, addr, len, prot, flags, fd, off);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_munmap(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    vl_enter(L, ud->rec);
    int r = vms_munmap(ud->t, addr, len);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_mprotect(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    int prot = (int)vl_check_flags(L, 4, &vl_prot);
    vl_enter(L, ud->rec);
    int r = vms_mprotect(ud->t, addr, len, prot);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_msync(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    int flags = (int)vl_opt_flags(L, 4, &vl_msync_flags, MS_SYNC);
    vl_enter(L, ud->rec);
    int r = vms_msync(ud->t, addr, len, flags);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

/* A table with one integer per page: 1 when the page is resident. */
static int t_mincore(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    uint64_t pages = len / 4096 + (len % 4096 != 0);
    if (pages > MAX_MINCORE_PAGES)
        return luaL_argerror(L, 3, "length too large for a vector (at most 4 GiB)");
    unsigned char *vec = lua_newuserdatauv(L, pages ? pages : 1, 0);
    vl_enter(L, ud->rec);
    int r = vms_mincore(ud->t, addr, len, vec);
    vl_leave(L, ud->rec);
    if (r < 0)
        return vl_push_errno(L, -r);
    lua_createtable(L, (int)pages, 0);
    for (uint64_t i = 0; i < pages; i++) {
        lua_pushinteger(L, vec[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_remove(L, -2);
    return 1;
}

static int t_mremap(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t old_len = vl_check_size(L, 3);
    uint64_t new_len = vl_check_size(L, 4);
    int flags = (int)vl_opt_flags(L, 5, &vl_mremap_flags, 0);
    uint64_t new_addr = lua_isnoneornil(L, 6) ? 0 : vl_check_addr(L, 6);
    vl_enter(L, ud->rec);
    int64_t r = vms_mremap(ud->t, addr, old_len, new_len, flags, new_addr);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_madvise(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = vl_check_addr(L, 2);
    uint64_t len = vl_check_size(L, 3);
    int advice = (int)vl_check_flags(L, 4, &vl_advice);
    vl_enter(L, ud->rec);
    int r = vms_madvise(ud->t, addr, len, advice);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

/* ---- accesses ---- */

static int t_store(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t va = vl_check_addr(L, 2);
    size_t len;
    const char *bytes = luaL_checklstring(L, 3, &len);
    vl_enter(L, ud->rec);
    int sig = vms_store(ud->t, va, bytes, len);
    vl_leave(L, ud->rec);
    if (sig)
        return vl_push_signal(L, ud->t, sig);
    lua_pushboolean(L, 1);
    return 1;
}

static uint64_t check_access_len(lua_State *L, int arg)
{
    uint64_t n = vl_check_size(L, arg);
    if (n > MAX_LOAD_BYTES)
        luaL_argerror(L, arg, "length too large (at most 256 MiB in one call)");
    return n;
}

static int t_load(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t va = vl_check_addr(L, 2);
    uint64_t n = check_access_len(L, 3);
    luaL_Buffer b;
    char *dst = luaL_buffinitsize(L, &b, n);
    vl_enter(L, ud->rec);
    int sig = vms_load(ud->t, va, dst, n);
    vl_leave(L, ud->rec);
    if (sig)
        return vl_push_signal(L, ud->t, sig);
    luaL_pushresultsize(&b, n);
    return 1;
}

static int t_fetch(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t va = vl_check_addr(L, 2);
    uint64_t n = check_access_len(L, 3);
    vl_enter(L, ud->rec);
    int sig = vms_fetch(ud->t, va, n);
    vl_leave(L, ud->rec);
    if (sig)
        return vl_push_signal(L, ud->t, sig);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- files ---- */

/* A mode: an integer, or a string of octal digits ("0644"). */
static unsigned check_mode(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg))
        return 0644;
    if (lua_type(L, arg) == LUA_TSTRING) {
        const char *s = lua_tostring(L, arg);
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 8);
        if (!*s || *end || errno || v > 07777)
            luaL_argerror(L, arg, "mode expected (octal digits such as \"0644\")");
        return (unsigned)v;
    }
    lua_Integer v = luaL_checkinteger(L, arg);
    if (v < 0 || v > UINT_MAX)
        luaL_argerror(L, arg, "mode out of range");
    return (unsigned)v;
}

static int t_open(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    const char *path = luaL_checkstring(L, 2);
    int flags = (int)vl_opt_flags(L, 3, &vl_open_flags, O_RDONLY);
    unsigned mode = check_mode(L, 4);
    vl_enter(L, ud->rec);
    int r = vms_open(ud->t, path, flags, mode);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_close(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int fd = check_int(L, 2, "fd");
    vl_enter(L, ud->rec);
    int r = vms_close(ud->t, fd);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

/* read, write, pread, pwrite: (fd, buffer address, length[, offset]). */
static int rw_call(lua_State *L, int positional, int writing)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int fd = check_int(L, 2, "fd");
    uint64_t buf = vl_check_addr(L, 3);
    uint64_t len = vl_check_size(L, 4);
    int64_t off = positional ? (int64_t)luaL_checkinteger(L, 5) : 0;
    vl_enter(L, ud->rec);
    int64_t r;
    if (positional)
        r = writing ? vms_pwrite(ud->t, fd, buf, len, off) : vms_pread(ud->t, fd, buf, len, off);
    else
        r = writing ? vms_write(ud->t, fd, buf, len) : vms_read(ud->t, fd, buf, len);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_read(lua_State *L) { return rw_call(L, 0, 0); }
static int t_write(lua_State *L) { return rw_call(L, 0, 1); }
static int t_pread(lua_State *L) { return rw_call(L, 1, 0); }
static int t_pwrite(lua_State *L) { return rw_call(L, 1, 1); }

static int t_lseek(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int fd = check_int(L, 2, "fd");
    int64_t off = (int64_t)luaL_checkinteger(L, 3);
    int whence = (int)vl_opt_flags(L, 4, &vl_whence, SEEK_SET);
    vl_enter(L, ud->rec);
    int64_t r = vms_lseek(ud->t, fd, off, whence);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_ftruncate(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int fd = check_int(L, 2, "fd");
    int64_t len = (int64_t)luaL_checkinteger(L, 3);
    vl_enter(L, ud->rec);
    int r = vms_ftruncate(ud->t, fd, len);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_fsync(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int fd = check_int(L, 2, "fd");
    vl_enter(L, ud->rec);
    int r = vms_fsync(ud->t, fd);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static void set_int(lua_State *L, const char *name, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, name);
}

static int t_fstat(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int fd = check_int(L, 2, "fd");
    struct stat st;
    vl_enter(L, ud->rec);
    int r = vms_fstat(ud->t, fd, &st);
    vl_leave(L, ud->rec);
    if (r < 0)
        return vl_push_errno(L, -r);
    lua_createtable(L, 0, 9);
    set_int(L, "dev", st.st_dev);
    set_int(L, "ino", st.st_ino);
    set_int(L, "mode", st.st_mode);
    set_int(L, "nlink", st.st_nlink);
    set_int(L, "uid", st.st_uid);
    set_int(L, "gid", st.st_gid);
    set_int(L, "size", (uint64_t)st.st_size);
    set_int(L, "blksize", (uint64_t)st.st_blksize);
    set_int(L, "blocks", (uint64_t)st.st_blocks);
    return 1;
}

/* ---- processes ---- */

static int t_fork(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    vl_enter(L, ud->rec);
    vms_task *child = vms_fork(ud->t);
    int err = errno;
    vl_leave(L, ud->rec);
    if (!child)
        return vl_push_errno(L, err);
    vl_push_task(L, ud->rec, child, 1, 0); /* a new address space */
    return 1;
}

static int t_thread(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    vl_enter(L, ud->rec);
    vms_task *thread = vms_clone_thread(ud->t);
    int err = errno;
    vl_leave(L, ud->rec);
    if (!thread)
        return vl_push_errno(L, err);
    vl_push_task(L, ud->rec, thread, 1, ud->group); /* the same address space */
    return 1;
}

static int t_schedule(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    lua_Integer cpu = luaL_checkinteger(L, 2);
    if (cpu < 0 || cpu > UINT_MAX)
        return vl_push_errno(L, EINVAL); /* no such CPU, as for any number past the last */
    vl_enter(L, ud->rec);
    int r = vms_schedule(ud->t, (unsigned)cpu);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_exit(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    vl_enter(L, ud->rec);
    vms_exit(ud->t);
    ud->t = NULL;
    vl_leave(L, ud->rec);
    return 0;
}

static int t_pid(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    lua_pushinteger(L, vms_task_pid(ud->t));
    return 1;
}

static int t_cpu(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    lua_pushinteger(L, vms_task_cpu(ud->t));
    return 1;
}

static int t_machine(lua_State *L)
{
    vl_check_task(L, 1);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

/* ---- programs ---- */

/* A table of strings as a NULL-terminated array (in a userdata pushed on
 * the stack; the strings stay anchored by the table), or NULL for nil. */
static char **check_strings(lua_State *L, int arg, const char *what)
{
    if (lua_isnoneornil(L, arg))
        return NULL;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_Integer n = luaL_len(L, arg);
    if (n < 0 || n > 1 << 20)
        luaL_argerror(L, arg, "too many strings");
    char **v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof(char *), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, arg, i) != LUA_TSTRING) {
            lua_pushfstring(L, "%s[%d]: string expected, got %s", what, (int)i,
                            luaL_typename(L, -1));
            luaL_argerror(L, arg, lua_tostring(L, -1));
        }
        v[i - 1] = (char *)lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    v[n] = NULL;
    return v;
}

/* execve frees the other threads of the process: their handles die with
 * them. It did when it succeeded, or when it failed past the point of no
 * return, which leaves SIGSEGV/SI_KERNEL as the task's last fault. A fault
 * from before can look the same: the handles then die too, to be safe (a
 * dead handle raises errors; a freed task would be a crash). */
static void end_other_threads(struct vl_task_ud *ud, int r)
{
    const struct vms_fault *f = vms_last_fault(ud->t);
    if (r < 0 && !(f->signo == SIGSEGV && f->code == SI_KERNEL))
        return;
    for (struct vl_task_ud *o = ud->rec->tasks; o; o = o->next)
        if (o != ud && o->group == ud->group)
            o->t = NULL;
}

static int t_execve(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    const char *path = luaL_checkstring(L, 2);
    if (lua_gettop(L) < 4)
        lua_settop(L, 4); /* argv's array goes above envp, not in its slot */
    char **argv = check_strings(L, 3, "argv");
    char **envp = check_strings(L, 4, "envp");
    vl_enter(L, ud->rec);
    int r = vms_execve(ud->t, path, argv, envp);
    end_other_threads(ud, r);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_brk(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t addr = lua_isnoneornil(L, 2) ? 0 : vl_check_addr(L, 2);
    vl_enter(L, ud->rec);
    vms_addr r = vms_brk(ud->t, addr);
    vl_leave(L, ud->rec);
    lua_pushinteger(L, (lua_Integer)r);
    return 1;
}

static int t_exec_info(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    struct vms_exec_info x;
    int r = vms_task_exec_info(ud->t, &x);
    if (r < 0)
        return vl_push_errno(L, -r);
    lua_createtable(L, 0, 24);
#define X_INT(f) set_int(L, #f, x.f)
    X_INT(entry); X_INT(sp); X_INT(at_entry); X_INT(at_base); X_INT(at_phdr);
    X_INT(at_random); X_INT(at_execfn); X_INT(vdso); X_INT(load_bias); X_INT(auxv);
    X_INT(auxv_count); X_INT(start_code); X_INT(end_code); X_INT(start_data);
    X_INT(end_data); X_INT(start_brk); X_INT(brk); X_INT(start_stack); X_INT(arg_start);
    X_INT(arg_end); X_INT(env_start); X_INT(env_end); X_INT(mmap_base);
#undef X_INT
    return 1;
}

/* ---- looking inside ---- */

/* Pushes the text fn wrote for the task (maps, smaps), or nil, message,
 * errno. */
static int task_text(lua_State *L, int (*fn)(vms_task *, FILE *))
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return luaL_error(L, "vmsim: out of memory");
    vl_enter(L, ud->rec);
    int r = fn(ud->t, f);
    vl_leave(L, ud->rec);
    int closed = fclose(f);
    if (r < 0 || closed) {
        free(text);
        return vl_push_errno(L, r < 0 ? -r : ENOMEM);
    }
    lua_pushlstring(L, text ? text : "", size);
    free(text);
    return 1;
}

static int t_maps(lua_State *L) { return task_text(L, vms_maps); }
static int t_smaps(lua_State *L) { return task_text(L, vms_smaps); }

#define PAGEMAP_MAX_PAGES (1 << 20) /* one call's entries, 8 MiB of them */

/* t:pagemap(va [, npages]): the entries as a list of integers. */
static int t_pagemap(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t va = vl_check_addr(L, 2);
    lua_Integer n = luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, n >= 0 && n <= PAGEMAP_MAX_PAGES, 3, "0 .. 1048576 pages expected");
    uint64_t *e = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(uint64_t), 0);
    vl_enter(L, ud->rec);
    int r = vms_pagemap(ud->t, va, e, (size_t)n);
    vl_leave(L, ud->rec);
    if (r < 0)
        return vl_push_errno(L, -r);
    lua_createtable(L, r, 0);
    for (int i = 0; i < r; i++) {
        lua_pushinteger(L, (lua_Integer)e[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* ---- out of memory ---- */

static int t_set_oom_score_adj(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    lua_Integer adj = luaL_checkinteger(L, 2);
    luaL_argcheck(L, adj >= INT_MIN && adj <= INT_MAX, 2, "out of range");
    vl_enter(L, ud->rec);
    int r = vms_set_oom_score_adj(ud->t, (int)adj);
    vl_leave(L, ud->rec);
    return vl_push_result(L, r);
}

static int t_oom_score_adj(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    int adj = 0;
    int r = vms_get_oom_score_adj(ud->t, &adj);
    return vl_push_result(L, r < 0 ? r : adj);
}

static int t_oom_score(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    return vl_push_result(L, vms_oom_score(ud->t));
}

static int t_killed(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    lua_pushboolean(L, vms_task_killed(ud->t));
    return 1;
}

static int t_walk(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t va = vl_check_addr(L, 2);
    struct vms_walk w;
    vl_enter(L, ud->rec);
    int r = vms_walk(ud->t, va, &w);
    vl_leave(L, ud->rec);
    /* -EFAULT: a table on the way is missing; the steps read so far are
     * the answer (steps holds only those), present is false. */
    int read = w.levels;
    if (r < 0)
        for (read = 1; read < w.levels && w.step[read].table_pa; read++)
            ;
    lua_createtable(L, 0, 4);
    set_int(L, "levels", (uint64_t)w.levels);
    lua_pushboolean(L, w.present);
    lua_setfield(L, -2, "present");
    if (w.present)
        set_int(L, "pa", w.pa);
    lua_createtable(L, read, 0);
    for (int i = 0; i < read && i < 5; i++) {
        lua_createtable(L, 0, 4);
        set_int(L, "level", (uint64_t)(w.levels - i));
        set_int(L, "table", w.step[i].table_pa);
        set_int(L, "index", w.step[i].index);
        set_int(L, "entry", w.step[i].entry);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "steps");
    if (w.swap) { /* the PTE holds a swap entry */
        lua_createtable(L, 0, 3);
        set_int(L, "type", w.swap_type);
        set_int(L, "offset", w.swap_offset);
        lua_pushboolean(L, w.swap_exclusive);
        lua_setfield(L, -2, "exclusive");
        lua_setfield(L, -2, "swap");
    }
    return 1;
}

static int t_rusage(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    uint64_t minflt, majflt;
    vms_task_rusage(ud->t, &minflt, &majflt);
    lua_pushinteger(L, (lua_Integer)minflt);
    lua_pushinteger(L, (lua_Integer)majflt);
    return 2;
}

static int t_last_fault(lua_State *L)
{
    struct vl_task_ud *ud = vl_check_task(L, 1);
    const struct vms_fault *f = vms_last_fault(ud->t);
    if (!f->signo) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 6);
    set_int(L, "signo", (uint64_t)f->signo);
    lua_pushstring(L, vl_signal_name(f->signo));
    lua_setfield(L, -2, "signal");
    set_int(L, "code", (uint64_t)f->code);
    lua_pushstring(L, vl_si_code_name(f->signo, f->code));
    lua_setfield(L, -2, "code_name");
    set_int(L, "addr", f->addr);
    set_int(L, "pkey", (uint64_t)f->pkey);
    return 1;
}

/* ---- the metatable ---- */

static int t_gc(lua_State *L)
{
    struct vl_task_ud *ud = luaL_checkudata(L, 1, VL_TASK);
    if (ud->rec) {
        struct vl_machine_rec *rec = ud->rec;
        vl_task_unlink(ud);
        ud->rec = NULL;
        ud->t = NULL;
        vl_rec_put(L, rec);
    }
    return 0;
}

static int t_tostring(lua_State *L)
{
    struct vl_task_ud *ud = luaL_checkudata(L, 1, VL_TASK);
    if (!ud->rec || !ud->rec->m)
        lua_pushfstring(L, "vmsim.task %d (machine destroyed)", ud->pid);
    else if (!ud->t)
        lua_pushfstring(L, "vmsim.task %d (exited)", ud->pid);
    else
        lua_pushfstring(L, "vmsim.task %d", ud->pid);
    return 1;
}

#define A2 VL_HEX_ARG(2)
static const struct vl_method task_methods[] = {
    {"mmap", t_mmap, A2 | VL_HEX_RES(1)},
    {"munmap", t_munmap, A2},
    {"mprotect", t_mprotect, A2},
    {"msync", t_msync, A2},
    {"mincore", t_mincore, A2},
    {"mremap", t_mremap, A2 | VL_HEX_ARG(6) | VL_HEX_RES(1)},
    {"madvise", t_madvise, A2},
    {"store", t_store, A2 | VL_HEX_RES(4)}, /* the fourth result: a signal's address */
    {"load", t_load, A2 | VL_HEX_RES(4)},
    {"fetch", t_fetch, A2 | VL_HEX_RES(4)},
    {"open", t_open, 0},
    {"close", t_close, 0},
    {"read", t_read, VL_HEX_ARG(3)},
    {"write", t_write, VL_HEX_ARG(3)},
    {"pread", t_pread, VL_HEX_ARG(3)},
    {"pwrite", t_pwrite, VL_HEX_ARG(3)},
    {"lseek", t_lseek, 0},
    {"ftruncate", t_ftruncate, 0},
    {"fsync", t_fsync, 0},
    {"fstat", t_fstat, 0},
    {"fork", t_fork, 0},
    {"thread", t_thread, 0},
    {"schedule", t_schedule, 0},
    {"exit", t_exit, 0},
    {"pid", t_pid, 0},
    {"cpu", t_cpu, 0},
    {"machine", t_machine, 0},
    {"maps", t_maps, 0},
    {"smaps", t_smaps, 0},
    {"pagemap", t_pagemap, A2 | VL_HEX_RES(1)}, /* entries in hex, as their bits read */
    {"set_oom_score_adj", t_set_oom_score_adj, 0},
    {"oom_score_adj", t_oom_score_adj, 0},
    {"oom_score", t_oom_score, 0},
    {"killed", t_killed, 0},
    {"walk", t_walk, A2},
    {"rusage", t_rusage, 0},
    {"last_fault", t_last_fault, 0},
    {"execve", t_execve, 0},
    {"brk", t_brk, A2 | VL_HEX_RES(1)},
    {"exec_info", t_exec_info, 0},
    {NULL, NULL, 0},
};
#undef A2

void vl_open_task(lua_State *L, struct vl_ctx *ctx)
{
    luaL_newmetatable(L, VL_TASK);
    lua_newtable(L);
    vl_register_methods(L, ctx, task_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, t_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, t_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, VL_TASK); /* getmetatable(t) gives this, not __gc */
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}
