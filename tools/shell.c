/*
 * `vmsim shell`: an interactive Lua session with a machine `m` and a task
 * `t` ready. Each line runs as Lua; a line that is an expression prints its
 * values, as lua5.4's own prompt does. Each call of a machine or task method
 * is told with its result and the events under it (narrate.c, as `vmsim run`
 * tells them). Colon commands look inside: :maps, :stats, :walk ADDR.
 *
 * On a terminal, lines are edited with libedit: history kept in a file
 * ($XDG_STATE_HOME/vmsim/history or ~/.vmsim_history; a folder that cannot
 * be written only loses the history), completion of names with Tab, Ctrl-C
 * abandons a line or stops a running one, Ctrl-D leaves. Otherwise stdin is
 * a script feed: no prompt, no banner, and the exit status says whether
 * every line ran. Either way every machine is destroyed at the end, so
 * dirty file pages are written back.
 */
#include "cli.h"
#include "narrate.h"
#include "vmsim_lua.h"

#include <ctype.h>
#include <errno.h>
#include <histedit.h>
#include <inttypes.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#define PROMPT "vmsim> "
#define PROMPT_MORE ">> "
#define HISTORY_LINES 1000

struct shell {
    lua_State *L;
    struct narrator narr;
    int quiet;       /* --quiet: no narration */
    int interactive; /* stdin and stdout are terminals: libedit, prompt, banner */
    EditLine *el;
    History *hist;
    char history_path[PATH_MAX]; /* "" when there is none */
    char root[PATH_MAX];         /* the machine's root folder, as given */
    const char *prompt;
    int last_nres;   /* results of the last call of the current line, -1: none */
    vms_machine *stats_of;       /* the machine of stats_before */
    struct vms_stats stats_before; /* its counters at the last :stats */
    unsigned long failed_lines;  /* errors reported */
    int quit;
    int exit_status; /* os.exit's, when it ended the session */
    int exited;      /* os.exit was called */
};

/* The error object os.exit raises to unwind the line: its address. */
static const char EXIT_REQUEST = 'x';

/* The registry key of the last call's results: its address, a constant. */
static const char LAST_RESULTS_KEY = 'r';

/* Set by SIGINT (1), and by the Lua hook that stopped a running line on it
 * (2): the one thing a signal handler may touch is a volatile
 * sig_atomic_t. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void stop_if_interrupted(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (interrupted == 1) {
        interrupted = 2;
        luaL_error(L, "interrupted");
    }
}

/* ---- the hooks: narration, and the last call's results remembered ---- */

static void on_call_begin(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct shell *s = arg;
    if (!s->quiet)
        narrate_call_begin(&s->narr, L, call);
}

static void on_call_end(void *arg, lua_State *L, const struct vmsim_lua_call *call)
{
    struct shell *s = arg;
    if (!s->quiet)
        narrate_call_end(&s->narr, L, call);
    /* kept so that a line that only makes this call does not print its
     * results twice */
    luaL_checkstack(L, 2, "vmsim shell");
    int base = lua_gettop(L) - call->nres;
    lua_createtable(L, call->nres, 0);
    for (int j = 1; j <= call->nres; j++) {
        lua_pushvalue(L, base + j);
        lua_rawseti(L, -2, j);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &LAST_RESULTS_KEY);
    s->last_nres = call->nres;
}

static void on_machine_event(void *arg, const struct vms_event *ev)
{
    struct shell *s = arg;
    if (!s->quiet)
        narrate_event(&s->narr, ev);
}

static void install_hooks(struct shell *s)
{
    struct vmsim_lua_hooks h = {.arg = s, .call_begin = on_call_begin,
                                .call_end = on_call_end, .event = on_machine_event};
    vmsim_lua_set_hooks(s->L, &h);
}

/* os.exit([code [, close]]) ends the session as :quit does, so that every
 * machine is destroyed and its dirty file pages are written back; code
 * (true 0, false 1, an integer) becomes the exit status. */
static int shell_os_exit(lua_State *L)
{
    struct shell *s = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_isboolean(L, 1))
        s->exit_status = lua_toboolean(L, 1) ? CLI_OK : CLI_FAILED;
    else
        s->exit_status = (int)(luaL_optinteger(L, 1, 0) & 0xff);
    s->exited = 1;
    s->quit = 1;
    lua_pushlightuserdata(L, (void *)&EXIT_REQUEST); /* unwinds the line, unreported */
    return lua_error(L);
}

static void replace_os_exit(struct shell *s)
{
    lua_getglobal(s->L, "os");
    if (lua_istable(s->L, -1)) {
        lua_pushlightuserdata(s->L, s);
        lua_pushcclosure(s->L, shell_os_exit, 1);
        lua_setfield(s->L, -2, "exit");
    }
    lua_pop(s->L, 1);
}

/* ---- output ---- */

/* Errors go to stderr, after what stdout holds so far; each one fails a
 * script feed. */
static void report(struct shell *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct shell *s, const char *fmt, ...)
{
    narrate_end_line(&s->narr);
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    s->failed_lines++;
}

static int is_identifier(const char *name)
{
    if (!isalpha((unsigned char)*name) && *name != '_')
        return 0;
    for (name++; *name; name++)
        if (!isalnum((unsigned char)*name) && *name != '_')
            return 0;
    return 1;
}

/* Table fields worth showing in hexadecimal: the addresses of t:walk() and
 * t:last_fault(). */
static int is_address_key(const char *key)
{
    static const char *const keys[] = {"addr", "pa", "table", "entry", "va"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static void print_value(struct shell *s, int index, int depth, int as_hex);

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define TABLE_SHOWN 32 /* entries shown of a table; "..." for the rest */

/* {1, 2, name = value, ...}: the sequence first, then the names sorted. */
static void print_table(struct shell *s, int index, int depth)
{
    lua_State *L = s->L;
    if (depth >= 3) {
        fputs("{...}", stdout);
        return;
    }
    luaL_checkstack(L, 4, "vmsim shell");
    lua_Integer len = (lua_Integer)lua_rawlen(L, index);
    int shown = 0, more = len > TABLE_SHOWN;
    fputc('{', stdout);
    for (lua_Integer i = 1; i <= len && shown < TABLE_SHOWN; i++, shown++) {
        fputs(shown ? ", " : "", stdout);
        lua_rawgeti(L, index, i);
        print_value(s, lua_gettop(L), depth + 1, 0);
        lua_pop(L, 1);
    }
    const char *names[TABLE_SHOWN];
    size_t nnames = 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= len)
            continue;
        if (lua_type(L, -1) == LUA_TSTRING && nnames < TABLE_SHOWN)
            names[nnames++] = lua_tostring(L, -1); /* anchored: a key of the table */
        else
            more = 1;
    }
    qsort(names, nnames, sizeof(names[0]), compare_names);
    size_t i;
    for (i = 0; i < nnames && shown < TABLE_SHOWN; i++, shown++) {
        fputs(shown ? ", " : "", stdout);
        if (is_identifier(names[i]))
            printf("%s = ", names[i]);
        else
            printf("[\"%s\"] = ", names[i]);
        lua_getfield(L, index, names[i]);
        print_value(s, lua_gettop(L), depth + 1, is_address_key(names[i]));
        lua_pop(L, 1);
    }
    if (more || i < nnames)
        fputs(shown ? ", ..." : "...", stdout);
    fputc('}', stdout);
}

static void print_value(struct shell *s, int index, int depth, int as_hex)
{
    index = lua_absindex(s->L, index);
    if (lua_type(s->L, index) == LUA_TTABLE)
        print_table(s, index, depth);
    else
        vmsim_lua_write_value(s->L, index, as_hex, stdout);
}

/* The values a line returned, unless they are the results its last call
 * already showed. */
static void print_results(struct shell *s, int base)
{
    lua_State *L = s->L;
    int n = lua_gettop(L) - base;
    if (n == 0)
        return;
    if (n == s->last_nres && !s->quiet) {
        int same = 1;
        lua_rawgetp(L, LUA_REGISTRYINDEX, &LAST_RESULTS_KEY);
        for (int j = 1; j <= n && same; j++) {
            lua_rawgeti(L, -1, j);
            same = lua_rawequal(L, -1, base + j) && !lua_istable(L, base + j);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (same)
            return;
    }
    narrate_end_line(&s->narr);
    for (int j = 1; j <= n; j++) {
        fputs(j > 1 ? ", " : "", stdout);
        print_value(s, base + j, 0, 0);
        if (lua_isinteger(L, base + j) && (lua_tointeger(L, base + j) >= 0x10000 ||
                                           lua_tointeger(L, base + j) < 0))
            printf(" (0x%" PRIx64 ")", (uint64_t)lua_tointeger(L, base + j));
    }
    fputc('\n', stdout);
}

/* ---- running Lua ---- */

/* An error object as text: its __tostring, or its type named. */
static int message_handler(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING || lua_touserdata(L, 1) == &EXIT_REQUEST)
        return 1;
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
        return 1;
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

/* Runs the function at the top of the stack; its results stay above base.
 * 0, or -1 after the error is reported. */
static int run_chunk(struct shell *s, int base)
{
    lua_State *L = s->L;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base + 1);
    interrupted = 0;
    lua_sethook(L, stop_if_interrupted, LUA_MASKCOUNT, 1000);
    int status = lua_pcall(L, 0, LUA_MULTRET, base + 1);
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base + 1);
    if (interrupted && !s->interactive) /* Ctrl-C ends a script feed, cleanly */
        s->quit = 1;
    interrupted = 0;
    if (status != LUA_OK && lua_touserdata(L, -1) == &EXIT_REQUEST) {
        lua_settop(L, base);
        return -1;
    }
    if (status != LUA_OK) {
        report(s, "%s", lua_tostring(L, -1));
        lua_settop(L, base);
        return -1;
    }
    return 0;
}

/* Loads "return EXPR" as the chunk "=stdin". */
static int load_expression(lua_State *L, const char *expr)
{
    lua_pushfstring(L, "return %s", expr);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int status = luaL_loadbuffer(L, code, len, "=stdin");
    lua_remove(L, -2);
    return status;
}

/* A syntax error that only says the text ended too soon. */
static int is_incomplete(lua_State *L, int status)
{
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    return status == LUA_ERRSYNTAX && len >= 5 && strcmp(msg + len - 5, "<eof>") == 0;
}

static char *read_line(struct shell *s, const char *prompt);

/* Loads the line as a statement, reading more lines while it is unfinished
 * (for, function, ...). 0 with the function pushed, or -1 after a report. */
static int load_statement(struct shell *s, const char *first)
{
    lua_State *L = s->L;
    lua_pushstring(L, first);
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, -1, &len);
        int status = luaL_loadbuffer(L, code, len, "=stdin");
        if (status == LUA_OK) {
            lua_remove(L, -2);
            return 0;
        }
        if (!is_incomplete(L, status)) {
            report(s, "%s", lua_tostring(L, -1));
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
        char *more = read_line(s, PROMPT_MORE);
        if (!more) {
            report(s, "stdin: the input ended inside a statement");
            lua_pop(L, 1);
            return -1;
        }
        lua_pushliteral(L, "\n");
        lua_pushstring(L, more);
        free(more);
        lua_concat(L, 3); /* the statement so far, a newline, the new line */
    }
}

/* One line of Lua: an expression prints its values. */
static void run_lua_line(struct shell *s, const char *line)
{
    lua_State *L = s->L;
    int base = lua_gettop(L);
    s->last_nres = -1;
    if (load_expression(L, line) != LUA_OK) {
        lua_pop(L, 1);
        if (load_statement(s, line) != 0)
            return;
    }
    if (run_chunk(s, base) == 0) {
        narrate_end_line(&s->narr);
        print_results(s, base);
    }
    lua_settop(L, base);
}

/* Evaluates a colon command's argument (or `fallback`) as an expression:
 * 0 with the value pushed, or -1 after a report. */
static int eval_argument(struct shell *s, const char *arg, const char *fallback)
{
    lua_State *L = s->L;
    int base = lua_gettop(L);
    const char *expr = *arg ? arg : fallback;
    if (load_expression(L, expr) != LUA_OK) {
        report(s, "%s", lua_tostring(L, -1));
        lua_settop(L, base);
        return -1;
    }
    if (run_chunk(s, base) != 0)
        return -1;
    lua_settop(L, base + 1);
    narrate_end_line(&s->narr);
    return 0;
}

/* ---- colon commands ---- */

static void cmd_help(struct shell *s, const char *arg)
{
    (void)s, (void)arg;
    fputs("Lines are Lua 5.4 (docs/lua.md); an expression prints its value. Ready:\n"
          "  m    the machine              t    a process of m (pid 1000)\n"
          "Try:\n"
          "  a = t:mmap(0, 8192, \"rw\", \"private|anonymous\")\n"
          "  t:store(a, \"Hi\")             t:load(a, 2)\n"
          "  fd = t:open(\"file.txt\", \"rdwr\")   (files of the root folder, here \".\")\n"
          "  c = t:fork()                  t:schedule(1)   t:munmap(a, 8192)\n"
          "Commands:\n"
          "  :maps [TASK]     the task's /proc/PID/maps (t by default)\n"
          "  :stats [MACHINE] the counters, and their change since the last :stats\n"
          "  :walk ADDR       ADDR's 9/9/9/9/12 split and the walk of t's page tables\n"
          "  :help            this text\n"
          "  :quit            leave (as Ctrl-D does); every machine is destroyed and\n"
          "                   its dirty file pages written back\n"
          "Arguments are Lua expressions: `:walk a + 4096`, `:maps c`.\n"
          "Tab completes names: t:mm<Tab>, vmsim.PROT_<Tab>, :wa<Tab>.\n",
          stdout);
}

static void cmd_quit(struct shell *s, const char *arg)
{
    (void)arg;
    s->quit = 1;
}

/* The task an argument names (t by default), or NULL after a report. */
static vms_task *task_argument(struct shell *s, const char *arg)
{
    if (eval_argument(s, arg, "t") != 0)
        return NULL;
    vms_task *task = vmsim_lua_to_task(s->L, -1);
    if (!task)
        report(s, "%s is not a live task (a task handle of a machine still alive)",
               *arg ? arg : "t");
    lua_pop(s->L, 1);
    return task;
}

static void cmd_maps(struct shell *s, const char *arg)
{
    vms_task *task = task_argument(s, arg);
    if (!task)
        return;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    int r = f ? vms_maps(task, f) : -ENOMEM;
    if (f && fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        report(s, ":maps: %s", strerror(-r));
        free(text);
        return;
    }
    printf("%s/proc/%d/maps:%s\n", s->narr.c.dim, vms_task_pid(task), s->narr.c.reset);
    if (!size)
        printf("  (no mappings)\n");
    for (char *line = text; line && *line;) {
        size_t n = strcspn(line, "\n");
        size_t shown = n;
        while (shown && line[shown - 1] == ' ') /* the kernel's trailing space */
            shown--;
        printf("  %.*s\n", (int)shown, line);
        line += line[n] ? n + 1 : n;
    }
    free(text);
}

static void cmd_stats(struct shell *s, const char *arg)
{
    if (eval_argument(s, arg, "m") != 0)
        return;
    unsigned number;
    vms_machine *m = vmsim_lua_to_machine(s->L, -1, &number);
    lua_pop(s->L, 1);
    if (!m) {
        report(s, "%s is not a live machine", *arg ? arg : "m");
        return;
    }
    struct vms_stats now, change;
    vms_get_stats(m, &now);
    if (m != s->stats_of) /* a machine seen first: its change since it began */
        memset(&s->stats_before, 0, sizeof(s->stats_before));
    vms_stats_diff(&now, &s->stats_before, &change);
    narrate_stats(&s->narr, number, &now, &change,
                  m == s->stats_of ? "since :stats" : "since start");
    s->stats_of = m;
    s->stats_before = now;
}

static const char *level_name(int levels, int i)
{
    static const char *const four[] = {"PGD", "PUD", "PMD", "PTE"};
    static const char *const five[] = {"PGD", "P4D", "PUD", "PMD", "PTE"};
    return levels == 5 ? five[i] : four[i];
}

/* "P RW US A D NX": the entry's bits that matter to a reader. */
static void entry_flags(uint64_t e, char *buf, size_t len)
{
    static const struct { int bit; const char *name; } bits[] = {
        {0, "P"}, {1, "RW"}, {2, "US"}, {5, "A"}, {6, "D"}, {7, "PS"}, {8, "G"}, {63, "NX"}};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if ((e >> bits[i].bit) & 1)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                                     bits[i].name);
}

static void print_index_bits(uint64_t va, const char *label, int hi, int lo)
{
    char bits[16];
    int n = 0;
    for (int b = hi; b >= lo; b--)
        bits[n++] = (char)('0' + ((va >> b) & 1));
    bits[n] = '\0';
    printf("  %-10s bits %2d..%-2d  %12s = %" PRIu64 "\n", label, hi, lo, bits,
           (va >> lo) & (((uint64_t)1 << (hi - lo + 1)) - 1));
}

/* One step of the walk; returns 1 when the walk goes on below it. */
static int print_walk_step(const struct vms_walk *w, int i)
{
    const char *name = level_name(w->levels, i);
    uint64_t e = w->step[i].entry;
    printf("  %s[%u] @ 0x%08" PRIx64 " = 0x%016" PRIx64, name, w->step[i].index,
           w->step[i].table_pa, e);
    if (!(e & 1)) {
        printf("  %s: the walk stops, an access faults\n", e ? "not present" : "empty");
        return 0;
    }
    char flags[48];
    entry_flags(e, flags, sizeof(flags));
    uint64_t next = e & 0x000ffffffffff000ULL;
    int leaf = i == w->levels - 1 || ((e >> 7) & 1);
    if (leaf)
        printf("  %s -> frame 0x%08" PRIx64 "\n", flags, next);
    else
        printf("  %s -> %s table 0x%08" PRIx64 "\n", flags, level_name(w->levels, i + 1), next);
    return !leaf;
}

static void cmd_walk(struct shell *s, const char *arg)
{
    if (!*arg) {
        report(s, ":walk needs an address: :walk ADDR (a Lua expression, e.g. :walk a)");
        return;
    }
    if (eval_argument(s, arg, NULL) != 0)
        return;
    int isnum;
    uint64_t va = (uint64_t)lua_tointegerx(s->L, -1, &isnum);
    lua_pop(s->L, 1);
    if (!isnum) {
        report(s, ":walk: %s is not an address (an integer)", arg);
        return;
    }
    vms_task *task = task_argument(s, "");
    if (!task)
        return;
    struct vms_walk w;
    (void)vms_walk(task, va, &w); /* -EFAULT: a table is missing, the steps up to it read */
    printf("va 0x%016" PRIx64 ": %s + 12 bits, one index (0..511) per table level\n", va,
           w.levels == 5 ? "9 + 9 + 9 + 9 + 9" : "9 + 9 + 9 + 9");
    for (int i = 0; i < w.levels; i++) {
        char label[16];
        snprintf(label, sizeof(label), "%s index", level_name(w.levels, i));
        int hi = 12 + 9 * (w.levels - i) - 1;
        print_index_bits(va, label, hi, hi - 8);
    }
    print_index_bits(va, "offset", 11, 0);
    if (va >> (12 + 9 * w.levels)) /* the MMU refuses it before any walk */
        printf("  (not a user address: bits %d..63 are not all zero)\n", 12 + 9 * w.levels);
    printf("the walk of task %d's tables:\n", vms_task_pid(task));
    for (int i = 0; i < w.levels && print_walk_step(&w, i); i++)
        ;
    if (w.present)
        printf("  va 0x%" PRIx64 " -> pa 0x%08" PRIx64 "\n", va, w.pa);
    else
        printf("  va 0x%" PRIx64 ": no page mapped; an access faults (inside a VMA the fault\n"
               "  maps a page, outside one it raises SIGSEGV)\n", va);
}

struct colon_command {
    const char *name;
    void (*run)(struct shell *s, const char *arg);
};

static const struct colon_command colon_commands[] = {
    {"maps", cmd_maps}, {"stats", cmd_stats}, {"walk", cmd_walk},
    {"help", cmd_help}, {"quit", cmd_quit},
};
#define NR_COLON_COMMANDS (sizeof(colon_commands) / sizeof(colon_commands[0]))

/* line starts with ':' */
static void run_colon_command(struct shell *s, const char *line)
{
    const char *name = line + 1;
    size_t len = strcspn(name, " \t");
    const char *arg = name + len;
    while (*arg == ' ' || *arg == '\t')
        arg++;
    const struct colon_command *found = NULL;
    for (size_t i = 0; i < NR_COLON_COMMANDS; i++)
        if (len && strncmp(colon_commands[i].name, name, len) == 0) {
            if (found) { /* a prefix of two commands */
                found = NULL;
                break;
            }
            found = &colon_commands[i];
        }
    if (!found) {
        report(s, "unknown command :%.*s (:help lists them)", (int)len, name);
        return;
    }
    found->run(s, arg);
}

/* ---- completion ---- */

struct names {
    char **v;
    size_t n, cap;
};

static void names_add(struct names *ns, const char *prefix, char sep, const char *name)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 32;
        char **v = realloc(ns->v, cap * sizeof(*v));
        if (!v)
            return;
        ns->v = v;
        ns->cap = cap;
    }
    size_t len = strlen(prefix) + strlen(name) + 2;
    char *full = malloc(len);
    if (!full)
        return;
    snprintf(full, len, "%s%.*s%s", prefix, sep ? 1 : 0, &sep, name);
    ns->v[ns->n++] = full;
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

/* The string keys of the table at index that start with partial (functions
 * only when methods). */
static void add_keys(lua_State *L, int index, const char *partial, int methods,
                     const char *prefix, char sep, struct names *ns)
{
    index = lua_absindex(L, index);
    size_t plen = strlen(partial);
    lua_pushnil(L);
    while (lua_next(L, index)) {
        if (lua_type(L, -2) == LUA_TSTRING && (!methods || lua_isfunction(L, -1))) {
            const char *key = lua_tostring(L, -2);
            if (strncmp(key, partial, plen) == 0 && is_identifier(key))
                names_add(ns, prefix, sep, key);
        }
        lua_pop(L, 1);
    }
}

/* Pushes the value the dotted path names (a.b.c), or nil; no metamethod
 * runs but a userdata's __index table. */
static void push_path(lua_State *L, const char *path)
{
    lua_pushglobaltable(L);
    while (*path) {
        size_t len = strcspn(path, ".");
        lua_pushlstring(L, path, len);
        if (lua_istable(L, -2)) {
            lua_rawget(L, -2);
        } else if (lua_type(L, -2) == LUA_TUSERDATA && lua_getmetatable(L, -2)) {
            lua_getfield(L, -1, "__index"); /* the metatable's own field */
            lua_remove(L, -2);
            if (lua_istable(L, -1)) {
                lua_insert(L, -2);
                lua_rawget(L, -2);
                lua_remove(L, -2);
            } else {
                lua_pop(L, 2);
                lua_pushnil(L);
            }
        } else {
            lua_pop(L, 1);
            lua_pushnil(L);
        }
        lua_remove(L, -2);
        path += len;
        if (*path == '.')
            path++;
    }
}

/* The completions of word (the text before the cursor back to a character
 * that cannot be in a name), whole. */
static void complete_word(struct shell *s, const char *word, int line_start, struct names *ns)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    if (word[0] == ':' && line_start) {
        for (size_t i = 0; i < NR_COLON_COMMANDS; i++)
            if (strncmp(colon_commands[i].name, word + 1, strlen(word + 1)) == 0)
                names_add(ns, ":", 0, colon_commands[i].name);
        return;
    }
    const char *sep = strrchr(word, '.');
    const char *colon = strrchr(word, ':');
    if (colon && (!sep || colon > sep))
        sep = colon;
    if (!sep) {
        static const char *const keywords[] = {
            "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
            "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
            "until", "while"};
        for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
            if (strncmp(keywords[i], word, strlen(word)) == 0)
                names_add(ns, "", 0, keywords[i]);
        lua_pushglobaltable(L);
        add_keys(L, -1, word, 0, "", 0, ns);
        lua_settop(L, top);
        return;
    }
    char path[256];
    size_t plen = (size_t)(sep - word);
    if (plen >= sizeof(path) || memchr(word, ':', plen))
        return;
    memcpy(path, word, plen);
    path[plen] = '\0';
    push_path(L, path);
    if (lua_istable(L, -1))
        add_keys(L, -1, sep + 1, *sep == ':', path, *sep, ns);
    if (lua_getmetatable(L, -1)) {
        lua_getfield(L, -1, "__index");
        if (lua_istable(L, -1))
            add_keys(L, -1, sep + 1, *sep == ':', path, *sep, ns);
    }
    lua_settop(L, top);
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':';
}

/* Several matches: they are listed under the line, which is drawn again. */
static void list_matches(const struct names *ns)
{
    fputc('\n', stdout);
    size_t width = 0;
    for (size_t i = 0; i < ns->n; i++)
        if (strlen(ns->v[i]) > width)
            width = strlen(ns->v[i]);
    size_t per_line = 78 / (width + 2);
    per_line = per_line ? per_line : 1;
    for (size_t i = 0; i < ns->n; i++) {
        int last_of_row = (i + 1) % per_line == 0 || i + 1 == ns->n;
        printf("%-*s%s", last_of_row ? 0 : (int)(width + 2), ns->v[i], last_of_row ? "\n" : "");
    }
    fflush(stdout);
}

static unsigned char on_tab(EditLine *el, int ch)
{
    (void)ch;
    struct shell *s;
    el_get(el, EL_CLIENTDATA, &s);
    const LineInfo *li = el_line(el);
    const char *start = li->cursor;
    while (start > li->buffer && is_name_char(start[-1]))
        start--;
    char word[256];
    size_t wlen = (size_t)(li->cursor - start);
    if (wlen >= sizeof(word))
        return CC_ERROR;
    memcpy(word, start, wlen);
    word[wlen] = '\0';
    const char *before = li->buffer;
    while (before < start && (*before == ' ' || *before == '\t'))
        before++;
    struct names ns = {0};
    complete_word(s, word, before == start, &ns);
    if (ns.n == 0) {
        names_free(&ns);
        return CC_ERROR;
    }
    qsort(ns.v, ns.n, sizeof(ns.v[0]), compare_names);
    size_t common = strlen(ns.v[0]);
    for (size_t i = 1; i < ns.n; i++) {
        size_t k = 0;
        while (k < common && ns.v[i][k] == ns.v[0][k])
            k++;
        common = k;
    }
    unsigned char result = CC_REFRESH;
    if (common > wlen) {
        char add[256];
        snprintf(add, sizeof(add), "%.*s", (int)(common - wlen), ns.v[0] + wlen);
        el_insertstr(el, add);
    } else if (ns.n > 1) {
        list_matches(&ns);
        result = CC_REDISPLAY;
    }
    names_free(&ns);
    return result;
}

/* Ctrl-D: the end on an empty line (without libedit's "^D" echo), else
 * the character under the cursor deleted. */
static unsigned char on_ctrl_d(EditLine *el, int ch)
{
    (void)ch;
    const LineInfo *li = el_line(el);
    if (li->buffer == li->lastchar)
        return CC_EOF;
    if (li->cursor == li->lastchar)
        return CC_ERROR;
    el_cursor(el, 1);
    el_deletestr(el, 1);
    return CC_REFRESH;
}

/* ---- reading lines ---- */

static char *prompt_text(EditLine *el)
{
    struct shell *s;
    el_get(el, EL_CLIENTDATA, &s);
    return (char *)s->prompt;
}

/* The history file: $XDG_STATE_HOME/vmsim/history, or ~/.vmsim_history. */
static void choose_history_path(struct shell *s)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *p = s->history_path;
    size_t len = sizeof(s->history_path);
    int n = -1;
    if (state && state[0] == '/') {
        n = snprintf(p, len, "%s/vmsim", state);
        if (n > 0 && (size_t)n < len)
            (void)mkdir(p, 0700); /* may exist; may fail: then no history file */
        n = snprintf(p, len, "%s/vmsim/history", state);
    } else if (home && home[0] == '/') {
        n = snprintf(p, len, "%s/.vmsim_history", home);
    }
    if (n < 0 || (size_t)n >= len)
        p[0] = '\0';
}

static int open_editor(struct shell *s, const char *argv0)
{
    HistEvent ev;
    s->hist = history_init();
    s->el = el_init(argv0, stdin, stdout, stderr);
    if (!s->hist || !s->el)
        return -1;
    history(s->hist, &ev, H_SETSIZE, HISTORY_LINES);
    history(s->hist, &ev, H_SETUNIQUE, 1);
    if (s->history_path[0])
        history(s->hist, &ev, H_LOAD, s->history_path); /* none yet is fine */
    el_set(s->el, EL_CLIENTDATA, s);
    el_set(s->el, EL_EDITOR, "emacs");
    el_set(s->el, EL_SIGNAL, 1);
    el_set(s->el, EL_PROMPT, prompt_text);
    el_set(s->el, EL_HIST, history, s->hist);
    /* the wide call keeps these strings; the narrow one copies them and
     * never frees the copies */
    el_wset(s->el, EL_ADDFN, L"vmsim-complete", L"complete a name", on_tab);
    el_set(s->el, EL_BIND, "^I", "vmsim-complete", NULL);
    el_wset(s->el, EL_ADDFN, L"vmsim-eof", L"leave on an empty line, else delete", on_ctrl_d);
    el_set(s->el, EL_BIND, "^D", "vmsim-eof", NULL);
    return 0;
}

static void close_editor(struct shell *s)
{
    if (s->el)
        el_end(s->el);
    if (s->hist)
        history_end(s->hist);
}

static void remember(struct shell *s, const char *line)
{
    HistEvent ev;
    if (!s->hist || !*line)
        return;
    history(s->hist, &ev, H_ENTER, line);
    if (s->history_path[0])
        history(s->hist, &ev, H_SAVE, s->history_path); /* an unwritable home: no file */
}

/* The next line without its newline (malloc'd), or NULL at the end of the
 * input. Ctrl-C on a terminal gives an empty line. */
static char *read_line(struct shell *s, const char *prompt)
{
    if (!s->interactive) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
            free(line);
            return NULL;
        }
        line[strcspn(line, "\n")] = '\0';
        return line;
    }
    s->prompt = prompt;
    fflush(stdout);
    int count;
    errno = 0;
    const char *got = el_gets(s->el, &count);
    if (!got) {
        if (count < 0 && errno == EINTR) { /* Ctrl-C: the line is abandoned */
            interrupted = 0;
            fputc('\n', stdout);
            return strdup("");
        }
        return NULL;
    }
    char *line = strdup(got);
    if (line) {
        line[strcspn(line, "\n")] = '\0';
        remember(s, line);
    }
    return line;
}

/* ---- the session ---- */

static void banner(struct shell *s)
{
    lua_State *L = s->L;
    lua_getglobal(L, "m");
    lua_getglobal(L, "t");
    printf("vmsim %s shell: Lua 5.4 with the vmsim module (docs/lua.md)\n", VMSIM_VERSION);
    printf("  m = %s\n", luaL_tolstring(L, -2, NULL));
    lua_pop(L, 1);
    printf("  t = %s, a process of m with no mappings yet, on CPU 0\n",
           luaL_tolstring(L, -1, NULL));
    lua_pop(L, 3);
    printf("  files: the folder \"%s\" of this machine is \"/\" inside m\n", s->root);
    printf("Each call prints its result and the events under it.\n"
           ":help lists the commands, Tab completes names, Ctrl-D leaves.\n");
}

static void run_line(struct shell *s, const char *line)
{
    const char *text = line;
    while (*text == ' ' || *text == '\t')
        text++;
    if (!*text)
        return;
    if (*text == ':')
        run_colon_command(s, text);
    else
        run_lua_line(s, line);
    fflush(stdout);
}

static void session(struct shell *s)
{
    while (!s->quit) {
        char *line = read_line(s, PROMPT);
        if (!line)
            break;
        run_line(s, line);
        free(line);
    }
    if (s->interactive && !s->quit)
        fputc('\n', stdout); /* after Ctrl-D, the terminal's prompt on a line of its own */
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsim shell [--quiet] [--no-color] [--no-history] [--FIELD VALUE]...\n\n"
            "An interactive Lua session (docs/lua.md) with a machine `m` and a process `t`\n"
            "of it ready. Each line runs as Lua; an expression prints its value. Each call\n"
            "prints its result and the events under it, as `vmsim run` does. On a terminal:\n"
            "line editing, history, Tab completion of names; otherwise stdin is read as a\n"
            "script, without prompt.\n\n"
            "The machine's configuration, any field of vmsim.machine{...}:\n"
            "  --ram 64M --cpus 2 --pcid --no-zero-page --levels 5 --root DIR ...\n"
            "  (--FIELD alone is true, --no-FIELD false; '-' and '_' are the same)\n\n"
            "Options:\n"
            "  --quiet       do not tell the calls and events (values still print)\n"
            "  --no-color    never colour the output (also: NO_COLOR set and not empty)\n"
            "  --no-history  neither read nor write the history file\n"
            "  -h, --help    show this help and exit\n\n"
            "Commands in the session: :maps [TASK], :stats [MACHINE], :walk ADDR,\n"
            ":help, :quit. History: $XDG_STATE_HOME/vmsim/history, else ~/.vmsim_history.\n\n"
            "Exit status: 0; with a script on stdin, 1 when a line raised an error or an\n"
            "expectation failed; 2 for a bad command line or configuration.\n");
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "vmsim shell: %s%s%s\nTry 'vmsim shell --help'.\n", what, arg ? " " : "",
            arg ? arg : "");
    return CLI_USAGE;
}

struct shell_options {
    int no_color, quiet, no_history, help;
};

/* A command-line value as Lua would spell it: true, false, an integer, or
 * the string ("64M", "unlimited", a folder). */
static void push_option_value(lua_State *L, const char *text)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
        lua_pushboolean(L, text[0] == 't');
    else if (!lua_stringtonumber(L, text)) /* pushes the number when it is one */
        lua_pushstring(L, text);
}

/* Parses argv into o, the config table at index cfg and, at cfg + 1, the
 * option each field came from (for messages). 0, or CLI_USAGE after a
 * message. */
static int parse_options(lua_State *L, int argc, char **argv, struct shell_options *o, int cfg)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
            return 0;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2])
            return usage_error("unexpected argument", a);
        if (strcmp(a, "--no-color") == 0 || strcmp(a, "--no-history") == 0 ||
            strcmp(a, "--quiet") == 0) {
            *(a[2] == 'q' ? &o->quiet : a[5] == 'c' ? &o->no_color : &o->no_history) = 1;
            continue;
        }
        char field[64];
        const char *name = a + 2, *eq = strchr(name, '=');
        int negated = strncmp(name, "no-", 3) == 0 && !eq;
        name += negated ? 3 : 0;
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 0 || len >= sizeof(field))
            return usage_error("bad option", a);
        for (size_t k = 0; k < len; k++)
            field[k] = name[k] == '-' ? '_' : name[k];
        field[len] = '\0';
        if (negated)
            lua_pushboolean(L, 0);
        else if (eq)
            push_option_value(L, eq + 1);
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            push_option_value(L, argv[++i]);
        else
            lua_pushboolean(L, 1);
        lua_setfield(L, cfg, field);
        lua_pushstring(L, a);
        lua_setfield(L, cfg + 1, field);
    }
    return 0;
}

/* The machine's refusal, named by the option it came from when the message
 * quotes a field an option set: "--ram 12Q: field 'ram': not a size". */
static void report_config_error(lua_State *L, const char *msg, int origins)
{
    lua_pushnil(L);
    while (lua_next(L, origins)) {
        char quoted[80];
        snprintf(quoted, sizeof(quoted), "'%s'", lua_tostring(L, -2));
        const char *detail = strchr(msg, '(');
        if (strstr(msg, quoted) && detail) {
            size_t len = strlen(detail + 1);
            fprintf(stderr, "vmsim shell: %s: %.*s\n", lua_tostring(L, -1),
                    (int)(len && detail[len] == ')' ? len - 1 : len), detail + 1);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
    }
    fprintf(stderr, "vmsim shell: %s\n", msg);
}

/* After a pcall of vmsim.machine or m:spawn: 0 with the handle at the top,
 * or -1 after a message. */
static int handle_made(lua_State *L, int status, const char *what, int origins)
{
    if (status != LUA_OK) {
        report_config_error(L, lua_tostring(L, -1), origins);
        return -1;
    }
    if (lua_isnil(L, -2)) {
        fprintf(stderr, "vmsim shell: cannot make %s: %s\n", what,
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "no reason given");
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

/* The globals m and t, from the config table at cfg. */
static int make_machine(lua_State *L, int cfg)
{
    int base = lua_gettop(L);
    lua_getglobal(L, "vmsim");
    lua_getfield(L, -1, "machine");
    lua_pushvalue(L, cfg);
    if (handle_made(L, lua_pcall(L, 1, 2, 0), "the machine", cfg + 1) != 0) {
        lua_settop(L, base);
        return -1;
    }
    lua_pushvalue(L, -1);
    lua_setglobal(L, "m");
    lua_getfield(L, -1, "spawn");
    lua_insert(L, -2);
    lua_pushliteral(L, "shell");
    int r = handle_made(L, lua_pcall(L, 2, 2, 0), "the task", cfg + 1);
    if (r == 0)
        lua_setglobal(L, "t");
    lua_settop(L, base);
    return r;
}

static int finish(struct shell *s)
{
    struct vmsim_lua_hooks none = {0};
    vmsim_lua_set_hooks(s->L, &none);
    vmsim_lua_destroy_machines(s->L); /* dirty file pages are written back */
    unsigned long failed = vmsim_lua_failures(s->L);
    lua_close(s->L);
    close_editor(s);
    fflush(stdout);
    if (s->exited)
        return s->exit_status;
    if (s->interactive)
        return CLI_OK;
    return s->failed_lines || failed ? CLI_FAILED : CLI_OK;
}

static int shell_run(struct shell *s, int argc, char **argv)
{
    struct shell_options o = {0};
    lua_newtable(s->L); /* the config */
    lua_newtable(s->L); /* the option of each field */
    int status = parse_options(s->L, argc, argv, &o, lua_gettop(s->L) - 1);
    if (status || o.help) {
        if (o.help)
            usage(stdout);
        lua_close(s->L);
        return status;
    }
    int made = make_machine(s->L, lua_gettop(s->L) - 1);
    lua_getfield(s->L, -2, "root");
    snprintf(s->root, sizeof(s->root), "%s",
             lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : ".");
    lua_pop(s->L, 3);
    if (made != 0) {
        lua_close(s->L);
        fprintf(stderr, "Try 'vmsim shell --help'.\n");
        return CLI_USAGE;
    }
    s->quiet = o.quiet;
    s->last_nres = -1;
    s->interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    narrator_init(&s->narr, stdout, cli_use_color(stdout, o.no_color));
    if (s->interactive) {
        if (!o.no_history)
            choose_history_path(s);
        if (open_editor(s, argv[0]) != 0) {
            fprintf(stderr, "vmsim shell: cannot set up line editing; reading plain lines\n");
            close_editor(s);
            s->el = NULL;
            s->hist = NULL;
            s->interactive = 0;
        }
    }
    /* Ctrl-C stops a line (and a script feed) without losing dirty pages;
     * no SA_RESTART: a read in progress stops too */
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    if (s->interactive)
        banner(s);
    replace_os_exit(s);
    install_hooks(s);
    session(s);
    return finish(s);
}

int shell_main(int argc, char **argv)
{
    struct shell *s = calloc(1, sizeof(*s)); /* large: a path, the counters */
    if (!s || !(s->L = vmsim_lua_new_state(stderr))) {
        free(s);
        fprintf(stderr, "vmsim shell: out of memory\n");
        return CLI_FAILED;
    }
    int status = shell_run(s, argc, argv);
    free(s);
    return status;
}
