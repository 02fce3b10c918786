/*
 * The Lua binding from C: its parsers (sizes, flag names) against the
 * constants they name, the same sequence of calls run through the C API
 * and through a Lua script giving the same addresses, fault counts,
 * counters and maps, the tools' hooks (every call, every event, each
 * machine's end), vmsim_lua_destroy_machines, the JSON and script
 * spellings of values, and the expectations' failure count.
 */
#include "testutil.h"

#include "names.h"
#include "vmsim_lua.h"

#include <lauxlib.h>
#include <lua.h>

/* ---- parsers ---- */

static void assert_size(const char *text, uint64_t want)
{
    uint64_t v = 0;
    char err[96] = "";
    int r = vl_parse_size(text, strlen(text), &v, err, sizeof(err));
    if (r)
        fail_msg("'%s' refused: %s", text, err);
    assert_int_equal(v, want);
}

static void assert_size_error(const char *text, const char *msg)
{
    uint64_t v = 0;
    char err[96] = "";
    assert_int_equal(vl_parse_size(text, strlen(text), &v, err, sizeof(err)), -1);
    if (!strstr(err, msg))
        fail_msg("'%s': message '%s' lacks '%s'", text, err, msg);
}

static void test_sizes(void **state)
{
    (void)state;
    assert_size("0", 0);
    assert_size("4096", 4096);
    assert_size("0x1000", 4096);
    assert_size("0X1000", 4096);
    assert_size("4K", (uint64_t)4 << 10);
    assert_size("64M", (uint64_t)64 << 20);
    assert_size("64m", (uint64_t)64 << 20);
    assert_size("64MiB", (uint64_t)64 << 20);
    assert_size("64MB", (uint64_t)64 << 20);
    assert_size("1G", (uint64_t)1 << 30);
    assert_size("2T", (uint64_t)2 << 40);
    assert_size("3P", (uint64_t)3 << 50);
    assert_size("15E", (uint64_t)15 << 60);
    assert_size(" 8K ", (uint64_t)8 << 10);
    assert_size("0xffffffffffffffff", UINT64_MAX);
    assert_size("18446744073709551615", UINT64_MAX);
    assert_size_error("18446744073709551616", "too large");
    assert_size_error("0x10000000000000000", "too large");
    assert_size_error("16E", "too large");
    assert_size_error("99999999999999999999G", "too large");
    assert_size_error("17179869184G", "too large"); /* 2^34 G = 2^64 */
    assert_size_error("-1", "negative");
    assert_size_error(" -64M", "negative");
    assert_size_error("", "not a size");
    assert_size_error("M", "not a size");
    assert_size_error("0x", "not a size");
    assert_size_error("64Q", "unknown suffix");
    assert_size_error("64MiBs", "unknown suffix");
    assert_size_error("6 4", "unknown suffix");
    /* A length that stops before a NUL: only len bytes count. */
    uint64_t v;
    char err[96];
    assert_int_equal(vl_parse_size("64Mxyz", 3, &v, err, sizeof(err)), 0);
    assert_int_equal(v, (uint64_t)64 << 20);
}

static int64_t flags_of(const struct vl_flag_kind *k, const char *text)
{
    int64_t v = -1;
    char err[128] = "";
    if (vl_parse_flags(k, text, strlen(text), &v, err, sizeof(err)))
        fail_msg("'%s' refused: %s", text, err);
    return v;
}

static void assert_flags_error(const struct vl_flag_kind *k, const char *text, const char *msg)
{
    int64_t v;
    char err[128] = "";
    assert_int_equal(vl_parse_flags(k, text, strlen(text), &v, err, sizeof(err)), -1);
    if (!strstr(err, msg))
        fail_msg("'%s': message '%s' lacks '%s'", text, err, msg);
}

static void test_flag_names(void **state)
{
    (void)state;
    assert_int_equal(flags_of(&vl_prot, "rw"), PROT_READ | PROT_WRITE);
    assert_int_equal(flags_of(&vl_prot, "r-x"), PROT_READ | PROT_EXEC);
    assert_int_equal(flags_of(&vl_prot, "---"), PROT_NONE);
    assert_int_equal(flags_of(&vl_prot, ""), PROT_NONE);
    assert_int_equal(flags_of(&vl_prot, "none"), PROT_NONE);
    assert_int_equal(flags_of(&vl_prot, "read|write|exec"), PROT_READ | PROT_WRITE | PROT_EXEC);
    assert_int_equal(flags_of(&vl_prot, "PROT_READ | prot_exec"), PROT_READ | PROT_EXEC);
    assert_int_equal(flags_of(&vl_prot, "read|growsdown"), PROT_READ | PROT_GROWSDOWN);
    assert_int_equal(flags_of(&vl_map_flags, "private|anonymous"), MAP_PRIVATE | MAP_ANONYMOUS);
    assert_int_equal(flags_of(&vl_map_flags, "MAP_SHARED|MAP_FIXED_NOREPLACE"),
                     MAP_SHARED | MAP_FIXED_NOREPLACE);
    assert_int_equal(flags_of(&vl_map_flags, "shared_validate|sync"), MAP_SHARED_VALIDATE | MAP_SYNC);
    assert_int_equal(flags_of(&vl_map_flags, "private|0x20"), MAP_PRIVATE | MAP_ANONYMOUS);
    assert_int_equal(flags_of(&vl_map_flags, "private|32bit|populate|locked|noreserve"),
                     MAP_PRIVATE | MAP_32BIT | MAP_POPULATE | MAP_LOCKED | MAP_NORESERVE);
    assert_int_equal(flags_of(&vl_msync_flags, "async|invalidate"), MS_ASYNC | MS_INVALIDATE);
    assert_int_equal(flags_of(&vl_mremap_flags, "maymove|fixed|dontunmap"),
                     MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP);
    assert_int_equal(flags_of(&vl_advice, "dontneed"), MADV_DONTNEED);
    assert_int_equal(flags_of(&vl_advice, "MADV_GUARD_INSTALL"), MADV_GUARD_INSTALL);
    assert_int_equal(flags_of(&vl_advice, "23"), MADV_POPULATE_WRITE);
    assert_int_equal(flags_of(&vl_open_flags, "rdwr|creat|trunc"), O_RDWR | O_CREAT | O_TRUNC);
    assert_int_equal(flags_of(&vl_open_flags, "wronly|tmpfile"), O_WRONLY | O_TMPFILE);
    assert_int_equal(flags_of(&vl_whence, "hole"), SEEK_HOLE);
    assert_flags_error(&vl_prot, "rwz", "unknown protection letter 'z' in 'rwz'");
    assert_flags_error(&vl_prot, "rwxr", "unknown protection 'rwxr'");
    assert_flags_error(&vl_prot, "read||write", "empty protection name");
    assert_flags_error(&vl_map_flags, "privat", "unknown mmap flag 'privat'");
    assert_flags_error(&vl_map_flags, "private|", "empty mmap flag name");
    assert_flags_error(&vl_map_flags, "MAP_", "unknown mmap flag 'MAP_'");
    assert_flags_error(&vl_advice, "", "one madvise advice expected");
    assert_flags_error(&vl_advice, "free|cold", "one madvise advice expected");
    assert_flags_error(&vl_whence, "start", "unknown whence 'start'");
    /* the message keeps to its buffer */
    char small[8];
    int64_t v;
    assert_int_equal(vl_parse_flags(&vl_map_flags, "nonsense", 8, &v, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_flag_formatting(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(vl_format_flags(&vl_prot, PROT_READ | PROT_WRITE, buf, sizeof(buf)),
                        "read|write");
    assert_string_equal(vl_format_flags(&vl_map_flags, MAP_SHARED_VALIDATE | MAP_FIXED, buf,
                                        sizeof(buf)), "shared_validate|fixed");
    assert_string_equal(vl_format_flags(&vl_map_flags, MAP_PRIVATE | 0x200000000LL, buf,
                                        sizeof(buf)), "private|0x200000000");
    assert_string_equal(vl_format_flags(&vl_advice, MADV_PAGEOUT, buf, sizeof(buf)), "pageout");
    assert_string_equal(vl_format_flags(&vl_advice, 77, buf, sizeof(buf)), "0x4d");
    assert_string_equal(vl_format_flags(&vl_prot, 0, buf, sizeof(buf)), "none");
    char tiny[6];
    vl_format_flags(&vl_map_flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, tiny, sizeof(tiny));
    assert_true(strlen(tiny) < sizeof(tiny));
}

/* ---- the same sequence from C and from Lua ---- */

#define SEQ_PAGES 6

/* Map, touch, fork, write in the child, munmap part: from C. */
static void run_sequence_in_c(vms_machine *m, uint64_t out[8], char **maps)
{
    vms_task *t = tu_spawn(m);
    int64_t a = vms_mmap(t, 0, SEQ_PAGES * TU_PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(a > 0);
    char byte = 'x';
    for (int i = 0; i < SEQ_PAGES; i += 2)
        assert_int_equal(vms_store(t, (vms_addr)a + (uint64_t)i * TU_PAGE, &byte, 1), 0);
    char got;
    assert_int_equal(vms_load(t, (vms_addr)a + TU_PAGE, &got, 1), 0);
    vms_task *c = vms_fork(t);
    assert_non_null(c);
    assert_int_equal(vms_store(c, (vms_addr)a, &byte, 1), 0);
    assert_int_equal(vms_munmap(t, (vms_addr)a + 2 * TU_PAGE, TU_PAGE), 0);
    vms_task_rusage(t, &out[0], &out[1]);
    vms_task_rusage(c, &out[2], &out[3]);
    struct vms_stats s;
    vms_get_stats(m, &s);
    out[4] = s.cow_faults;
    out[5] = s.tlb_misses;
    out[6] = s.frames_used;
    out[7] = (uint64_t)a;
    *maps = tu_maps(t);
}

static const char LUA_SEQUENCE[] =
    "local m = vmsim.machine{ram = '64M', cpus = 2, zero_page = false}\n"
    "local t = m:spawn('test')\n"
    "local a = assert(t:mmap(0, 6 * 4096, 'rw', 'private|anonymous'))\n"
    "for i = 0, 5, 2 do assert(t:store(a + i * 4096, 'x')) end\n"
    "assert(t:load(a + 4096, 1))\n"
    "local c = assert(t:fork())\n"
    "assert(c:store(a, 'x'))\n"
    "assert(t:munmap(a + 2 * 4096, 4096))\n"
    "local s = m:stats()\n"
    "local tmin, tmaj = t:rusage()\n"
    "local cmin, cmaj = c:rusage()\n"
    "result = {tmin, tmaj, cmin, cmaj, s.cow_faults, s.tlb_misses, s.frames_used, a}\n"
    "maps = t:maps()\n";

static void test_same_numbers_as_the_c_api(void **state)
{
    (void)state;
    struct vms_config cfg = tu_config(64ULL << 20);
    cfg.ncpus = 2;
    cfg.zero_page = 0;
    vms_machine *m = tu_machine_with(&cfg);
    uint64_t want[8];
    char *want_maps;
    run_sequence_in_c(m, want, &want_maps);
    tu_assert_clean(m);
    vms_machine_destroy(m);

    lua_State *L = vmsim_lua_new_state(stderr);
    assert_non_null(L);
    if (luaL_dostring(L, LUA_SEQUENCE) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    lua_getglobal(L, "result");
    for (int i = 0; i < 8; i++) {
        lua_rawgeti(L, -1, i + 1);
        assert_true(lua_isinteger(L, -1));
        assert_int_equal((uint64_t)lua_tointeger(L, -1), want[i]);
        lua_pop(L, 1);
    }
    lua_getglobal(L, "maps");
    assert_string_equal(lua_tostring(L, -1), want_maps);
    free(want_maps);
    assert_true(want[0] > 0 && want[4] == 1); /* the sequence did fault and copy */
    lua_close(L);
}

/* ---- hooks ---- */

struct seen {
    int begins, ends, events, faults, machine_ends;
    char last_name[32];
    int last_nargs, last_nres;
    unsigned last_hex;
    unsigned ended_number;
};

static void on_begin(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct seen *s = arg;
    (void)L;
    s->begins++;
    assert_non_null(call->name);
}

static void on_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct seen *s = arg;
    s->ends++;
    snprintf(s->last_name, sizeof(s->last_name), "%s", call->name);
    s->last_nargs = call->nargs;
    s->last_nres = call->nres;
    s->last_hex = call->hex;
    assert_true(lua_gettop(L) >= call->nargs + call->nres);
}

static void on_ev(void *arg, const struct vms_event *ev)
{
    struct seen *s = arg;
    s->events++;
    s->faults += ev->kind == VMS_EV_FAULT;
}

static void on_machine_end(void *arg, vms_machine *m, unsigned number)
{
    struct seen *s = arg;
    struct vms_stats st;
    vms_get_stats(m, &st); /* the machine is still whole here */
    s->machine_ends++;
    s->ended_number = number;
}

static void run_lua(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
}

static void test_hooks_see_every_call_and_event(void **state)
{
    (void)state;
    lua_State *L = vmsim_lua_new_state(stderr);
    assert_non_null(L);
    struct seen s = {0};
    struct vmsim_lua_hooks h = {.arg = &s, .call_begin = on_begin, .call_end = on_end,
                                .event = on_ev, .machine_end = on_machine_end};
    vmsim_lua_set_hooks(L, &h);
    run_lua(L, "m = vmsim.machine{ram = '16M', cpus = 1}\n"
               "t = m:spawn('h')\n"
               "a = t:mmap(0, 4096, 'rw', 'private|anonymous')\n");
    assert_int_equal(s.begins, 3);
    assert_int_equal(s.ends, 3);
    assert_string_equal(s.last_name, "mmap");
    assert_int_equal(s.last_nargs, 5);
    assert_int_equal(s.last_nres, 1);
    assert_true(s.last_hex & 2);          /* the address argument */
    assert_true(s.last_hex & (1u << 16)); /* the address result */
    run_lua(L, "t:store(a, 'x')");
    assert_int_equal(s.faults, 1);
    assert_string_equal(s.last_name, "store");
    int events = s.events;
    run_lua(L, "t:store(a + 1, 'y')"); /* a TLB hit: no event */
    assert_int_equal(s.events, events);
    run_lua(L, "assert(not pcall(t.store, t, a, {}))"); /* an argument error: no call_end */
    assert_int_equal(s.begins, s.ends + 1);
    run_lua(L, "vmsim.machine{ram = '16M', cpus = 1}");
    assert_int_equal(vmsim_lua_destroy_machines(L), 2);
    assert_int_equal(s.machine_ends, 2);
    assert_int_equal(s.ended_number, 2);
    run_lua(L, "assert(not pcall(t.load, t, a, 1)); assert(not pcall(m.stats, m))");
    assert_int_equal(vmsim_lua_destroy_machines(L), 0);
    lua_close(L);
}

/* ---- values written out ---- */

static char *written(lua_State *L, const char *expr, int json, int hex)
{
    char code[256];
    snprintf(code, sizeof(code), "return %s", expr);
    if (luaL_dostring(L, code) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    if (json)
        vmsim_lua_write_json(L, -1, f);
    else
        vmsim_lua_write_value(L, -1, hex, f);
    fclose(f);
    lua_pop(L, 1);
    return text;
}

static void assert_written(lua_State *L, const char *expr, int json, int hex, const char *want)
{
    char *got = written(L, expr, json, hex);
    assert_string_equal(got, want);
    free(got);
}

static void test_values_written_out(void **state)
{
    (void)state;
    lua_State *L = vmsim_lua_new_state(stderr);
    assert_non_null(L);
    assert_written(L, "nil", 1, 0, "null");
    assert_written(L, "{b = 1, a = {true, false}, [3] = 'x', [1] = 0.5}", 1, 0,
                   "{\"1\":0.5,\"3\":\"x\",\"a\":[true,false],\"b\":1}");
    assert_written(L, "'q\"\\\\\\n\\0\\255'", 1, 0, "\"q\\\"\\\\\\n\\u0000\\u00ff\"");
    assert_written(L, "{}", 1, 0, "{}");
    assert_written(L, "1/0", 1, 0, "null");
    assert_written(L, "vmsim.machine{ram = '16M', cpus = 1}", 1, 0, "{\"machine\":1}");
    assert_written(L, "vmsim.machine{ram = '16M', cpus = 1}:spawn('x')", 1, 0,
                   "{\"machine\":2,\"task\":1000}");
    assert_written(L, "print", 1, 0, "\"function\"");
    assert_written(L, "4096", 0, 1, "0x1000");
    assert_written(L, "-1", 0, 1, "0xffffffffffffffff");
    assert_written(L, "-1", 0, 0, "-1");
    assert_written(L, "'a\\nb'", 0, 0, "\"a\\nb\"");
    assert_written(L, "string.rep('z', 50)", 0, 0,
                   "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"...(50 bytes)");
    assert_written(L, "{1, 0, 1}", 0, 0, "{1, 0, 1}");
    assert_written(L, "{}", 0, 0, "{}");
    assert_written(L, "{levels = 4, present = true, pa = 4096, steps = {{}}}", 0, 0,
                   "{levels = 4, pa = 0x1000, present = true, steps = {...}}");
    assert_written(L, "{[0] = 'a', [2] = 'b'}", 0, 0, "{[0] = \"a\", [2] = \"b\"}");
    assert_written(L, "{1, 2, 3, 4, 5, 6, 7, 8, 9}", 0, 0, "{1, 2, 3, 4, 5, 6, 7, 8, ...}");
    /* a deep table is cut, not followed forever */
    char *deep = written(L, "(function() local t = {} t[1] = t return t end)()", 1, 0);
    assert_non_null(strstr(deep, "\"...\""));
    free(deep);
    lua_close(L);
}

/* ---- expectations ---- */

static void test_expectations_count_failures(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *report = open_memstream(&text, &size);
    assert_non_null(report);
    lua_State *L = vmsim_lua_new_state(report);
    assert_non_null(L);
    run_lua(L, "expect(true, 'holds')\n"
               "expect_eq({1, {2}}, {1, {2}}, 'deep tables')\n"
               "assert(expect_eq(1, 1.0, 'an integer and its float') == true)\n");
    assert_int_equal(vmsim_lua_failures(L), 0);
    run_lua(L, "assert(expect(false, 'fails') == false)\n"
               "expect_eq({1, 2}, {1, 3}, 'tables differ')\n"
               "expect_eq({1}, {1, nil, 3}, 'a key missing')\n"
               "expect_eq(0x7ffff7ffe000, 0, 'an address')\n");
    assert_int_equal(vmsim_lua_failures(L), 4);
    fflush(report);
    assert_non_null(strstr(text, "[string \"assert(expect(false, 'fails') == false)...\"]:1: "
                                 "expectation failed: fails"));
    assert_non_null(strstr(text, "tables differ: expected [1,3], got [1,2]"));
    assert_non_null(strstr(text, "an address: expected 0, got 140737354129408 (0x7ffff7ffe000)"));
    lua_close(L);
    fclose(report);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_flag_names),
        cmocka_unit_test(test_flag_formatting),
        cmocka_unit_test(test_same_numbers_as_the_c_api),
        cmocka_unit_test(test_hooks_see_every_call_and_event),
        cmocka_unit_test(test_values_written_out),
        cmocka_unit_test(test_expectations_count_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
