/*
 * recorded.c - a recorded scenario replayed: a real program's run as
 * `vmsim follow -o` wrote it (docs/scenarios.md, "Recorded scenarios"),
 * made again on one vmsim machine, each line's result held against the
 * kernel's answer the line carries ("=> ANSWER") and the maps after it
 * against the maps lines that follow it.
 *
 * Nothing runs on the host: the host harness cannot start a program of its
 * own in place of its child (execve replaces the harness), and the
 * addresses are the program's, anywhere in the address space. The machine
 * is made from the scenario's set lines (the recording host's config) over
 * vmsim's defaults, with the host's "/" as its root, so that the program's
 * absolute paths name the same files; a recorded scenario opens them
 * read-only and writes none (the reader refuses anything else).
 *
 * Tasks: @0 is the first; fork and thread make the next numbers (a thread
 * shares its creator's address space), exit ends one, and an execve ends
 * the other threads of its process as Linux's de_thread does.
 */
#include "difftest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmsim.h"

struct strings {
    char **v; /* NULL-terminated */
    size_t n;
};

struct replay {
    vms_machine *m;
    vms_task *t[DT_MAX_TASKS];
    int group[DT_MAX_TASKS]; /* the process a task belongs to: its first task's number */
    int ntasks;
    struct strings argv, envp;
    struct dt_diff *diff;
    const struct dt_config *watch; /* NULL: nobody watches */
};

/* The watcher's view of the machine (dt_config's on_sim). */
static void watch_sim(const struct replay *r, int step)
{
    if (r->watch && r->watch->on_sim)
        r->watch->on_sim(r->watch->on_step_arg, r->m, step);
}

/* ---- the strings of the next execve ---- */

static int strings_add(struct strings *s, char *str)
{
    char **grown = realloc(s->v, (s->n + 2) * sizeof(*grown));
    if (!grown) {
        free(str);
        return -1;
    }
    s->v = grown;
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
    return 0;
}

/* arg+: the last string grows. */
static int strings_extend(struct strings *s, const char *more)
{
    size_t old = strlen(s->v[s->n - 1]), add = strlen(more);
    char *grown = realloc(s->v[s->n - 1], old + add + 1);
    if (!grown)
        return -1;
    memcpy(grown + old, more, add + 1);
    s->v[s->n - 1] = grown;
    return 0;
}

static void strings_clear(struct strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (struct strings){0};
}

/* env NAME LEN: "NAME=" and LEN x's, the value masked as the recording masked it. */
static char *env_string(const struct dt_op *op)
{
    size_t name = strlen(op->str), len = (op->flags & 1) ? (size_t)op->len : 0;
    char *s = malloc(name + 1 + len + 1);
    if (!s)
        return NULL;
    memcpy(s, op->str, name);
    if (op->flags & 1) {
        s[name] = '=';
        memset(s + name + 1, 'x', len);
        s[name + 1 + len] = '\0';
    } else {
        s[name] = '\0';
    }
    return s;
}

/* ---- one operation ---- */

static int64_t new_task(struct replay *r, const struct dt_op *op, vms_task *t)
{
    if (r->ntasks == DT_MAX_TASKS)
        return -EAGAIN;
    vms_task *child = op->kind == DT_THREAD ? vms_clone_thread(t) : vms_fork(t);
    if (!child)
        return -errno;
    r->t[r->ntasks] = child;
    r->group[r->ntasks] = op->kind == DT_THREAD ? r->group[op->proc] : r->ntasks;
    return r->ntasks++;
}

static int64_t run_execve(struct replay *r, const struct dt_op *op, vms_task *t)
{
    int ret = vms_execve(t, op->str, r->argv.v, r->envp.v);
    strings_clear(&r->argv);
    strings_clear(&r->envp);
    /* The other threads of the process are gone, their handles freed
     * (whether the exec got past its point of no return or not: vmsim ends
     * them only then, but a failed exec before it leaves them alive). */
    if (ret == 0 || vms_task_killed(t))
        for (int i = 0; i < r->ntasks; i++)
            if (i != op->proc && r->t[i] && r->group[i] == r->group[op->proc])
                r->t[i] = NULL;
    return ret;
}

static int64_t run_syscall(struct replay *r, const struct dt_op *op, vms_task *t, unsigned char *vec)
{
    switch (op->kind) {
    case DT_FORK:
    case DT_THREAD: return new_task(r, op, t);
    case DT_EXIT:
        vms_exit(t);
        r->t[op->proc] = NULL;
        return 0;
    case DT_EXECVE: return run_execve(r, op, t);
    case DT_BRK: return (int64_t)vms_brk(t, op->addr);
    case DT_MMAP: return vms_mmap(t, op->addr, op->len, op->prot, op->flags, op->fd, op->off);
    case DT_MUNMAP: return vms_munmap(t, op->addr, op->len);
    case DT_MPROTECT: return vms_mprotect(t, op->addr, op->len, op->prot);
    case DT_MSYNC: return vms_msync(t, op->addr, op->len, op->flags);
    case DT_MINCORE: return vms_mincore(t, op->addr, op->len, (op->flags & DT_VEC_NULL) ? NULL : vec);
    case DT_OPEN:
        return vms_open(t, op->name == DT_NAME_PATH ? op->str : dt_file_names[op->name], op->flags, 0);
    case DT_CLOSE: return vms_close(t, op->fd);
    case DT_READ: return vms_read(t, op->fd, op->addr, op->len);
    case DT_PREAD: return vms_pread(t, op->fd, op->addr, op->len, op->off);
    case DT_LSEEK: return vms_lseek(t, op->fd, op->off, op->flags);
    case DT_FSYNC: return vms_fsync(t, op->fd);
    case DT_FSTAT: {
        struct stat st;
        return vms_fstat(t, op->fd, &st);
    }
    case DT_SYNC: return vms_sync(r->m);
    case DT_MREMAP: return vms_mremap(t, op->addr, op->len, op->len2, op->flags, op->addr2);
    case DT_MADVISE: return vms_madvise(t, op->addr, op->len, op->flags);
    default: return -EINVAL; /* write, pwrite, ftruncate: refused by the reader */
    }
}

/* What a line of this kind answers: a value, ok or a signal, a task. */
static int answer_kind(int kind)
{
    return kind == DT_LOAD || kind == DT_STORE ? DT_EXPECT_OK
           : kind == DT_FORK || kind == DT_THREAD ? DT_EXPECT_TASK
                                                  : DT_EXPECT_VALUE;
}

/* Runs op; its answer as (kind, value). */
static void run_op(struct replay *r, const struct dt_op *op, int *kind, int64_t *value)
{
    vms_task *t = r->t[op->proc];
    *kind = answer_kind(op->kind);
    *value = 0;
    if (!t) {
        *kind = DT_EXPECT_VALUE;
        *value = -ESRCH;
        return;
    }
    if (op->kind == DT_LOAD || op->kind == DT_STORE) {
        unsigned char bytes[DT_MAX_LOAD];
        for (int i = 0; i < DT_MAX_LOAD; i++)
            bytes[i] = (unsigned char)(op->pattern + i);
        int sig = op->kind == DT_LOAD ? vms_load(t, op->addr, bytes, op->len)
                                      : vms_store(t, op->addr, bytes, op->len);
        if (sig) {
            *kind = DT_EXPECT_SIGNAL;
            *value = vms_last_fault(t)->signo;
        }
        return;
    }
    uint64_t pages = op->kind == DT_MINCORE ? (op->len + DT_PAGE - 1) / DT_PAGE : 0;
    if (pages > (UINT64_C(1) << 24)) { /* a vector of more than 16 MiB: refused, as a fault would */
        *kind = DT_EXPECT_VALUE;
        *value = -EFAULT;
        return;
    }
    unsigned char *vec = malloc(pages ? pages : 1);
    *value = vec ? run_syscall(r, op, t, vec) : -ENOMEM;
    free(vec);
    if (*kind == DT_EXPECT_TASK && *value < 0)
        *kind = DT_EXPECT_VALUE;
}

/* ---- maps ---- */

/* One line of vms_maps as a maps op (device and inode dropped); 0 or -1. */
static int maps_line_op(const char *line, struct dt_op *op)
{
    unsigned long long start, end, off;
    char perms[5];
    int used = 0;
    memset(op, 0, sizeof(*op));
    op->kind = DT_MAPS;
    if (sscanf(line, "%llx-%llx %4s %llx %*s %*s%n", &start, &end, perms, &off, &used) != 4 || !used)
        return -1;
    op->addr = start;
    op->addr2 = end;
    op->off = (int64_t)off;
    for (int i = 0; i < 4; i++)
        op->flags |= (perms[i] == "rwxs"[i]) << i;
    const char *name = line + used;
    while (*name == ' ')
        name++;
    size_t len = strcspn(name, "\n");
    if (len > DT_MAX_LINE)
        len = DT_MAX_LINE;
    memcpy(op->str, name, len);
    op->str[len] = '\0';
    return 0;
}

/* A recorded maps line as vmsim's are printed: no task prefix. */
static void canonical_maps(const struct dt_op *op, char *buf, size_t size)
{
    struct dt_op plain = *op;
    plain.proc = 0;
    dt_format_call(&plain, buf, size);
}

struct text {
    char *buf;
    size_t size, len;
};

static void add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 < t->size) {
        memcpy(t->buf + t->len, s, n + 1);
        t->len += n;
    }
}

/* Canonical maps lines ("maps START-END ..."), each its own allocation. */
struct lines {
    char **line;
    size_t n;
};

static int lines_add(struct lines *l, const char *s)
{
    char **grown = realloc(l->line, (l->n + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    l->line = grown;
    if (!(l->line[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->line[i]);
    free(l->line);
}

static int lines_have(const struct lines *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->line[i], s) == 0)
            return 1;
    return 0;
}

/* vmsim's maps of a task now, as canonical lines. */
static int vmsim_maps_lines(vms_task *t, struct lines *out)
{
    char *text = NULL, line[DT_MAX_LINE * 2];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -1;
    if (t)
        vms_maps(t, f);
    fclose(f);
    int rc = 0;
    for (char *p = text, *nl; rc == 0 && p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        struct dt_op got;
        if (maps_line_op(p, &got))
            continue;
        dt_format_call(&got, line, sizeof(line));
        rc = lines_add(out, line);
    }
    free(text);
    return rc;
}

/* Each line of `of` that `other` lacks, after the mark ("- " or "+ "). */
static void add_missing(struct text *shown, const struct lines *of, const struct lines *other,
                        const char *mark)
{
    for (size_t i = 0; i < of->n; i++)
        if (!lines_have(other, of->line[i])) {
            add(shown, mark);
            add(shown, of->line[i] + 5); /* without "maps " */
            add(shown, "\n");
        }
}

static void add_all(struct text *shown, const struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) {
        add(shown, l->line[i] + 5);
        add(shown, "\n");
    }
}

/* The maps lines of the sequence from `from` (of the same task), and
 * vmsim's maps of that task now; 0 when they are the same lines. */
static int compare_maps(struct replay *r, const struct dt_seq *seq, int from, int *end)
{
    const int task = seq->ops[from].proc;
    int n = from;
    while (n < seq->n && seq->ops[n].kind == DT_MAPS)
        n++;
    *end = n;
    struct lines kernel = {0}, vmsim = {0};
    char want[DT_MAX_LINE * 2];
    int rc = vmsim_maps_lines(r->t[task], &vmsim);
    for (int k = from; rc == 0 && k < n; k++) {
        canonical_maps(&seq->ops[k], want, sizeof(want));
        rc = lines_add(&kernel, want);
    }
    int differ = rc != 0 ? -1 : kernel.n != vmsim.n;
    for (size_t i = 0; !differ && i < kernel.n; i++)
        differ = strcmp(kernel.line[i], vmsim.line[i]) != 0;
    if (differ > 0) {
        struct text shown = {r->diff->text, sizeof(r->diff->text), 0};
        add(&shown, "lines only the kernel's maps have (-), only vmsim's (+):\n");
        add_missing(&shown, &kernel, &vmsim, "- ");
        add_missing(&shown, &vmsim, &kernel, "+ ");
        add(&shown, "the maps recorded after this line (kernel):\n");
        add_all(&shown, &kernel);
        add(&shown, "vmsim's maps:\n");
        add_all(&shown, &vmsim);
    }
    lines_free(&kernel);
    lines_free(&vmsim);
    return differ;
}

/* ---- the machine ---- */

static int make_machine(struct replay *r, const struct dt_seq *seq, const struct dt_setting *settings,
                        int nsettings, const char *root)
{
    struct vms_config c;
    vms_config_init(&c);
    char why[512];
    int i = 0;
    for (; i < seq->n && seq->ops[i].kind == DT_SET; i++) {
        struct dt_setting s;
        if (dt_setting_parse(seq->ops[i].str, &s, why, sizeof(why))) /* the reader checked it */
            break;
        dt_setting_apply(&s, &c);
    }
    for (int k = 0; k < nsettings; k++)
        dt_setting_apply(&settings[k], &c);
    c.root = root;
    if (r->watch) {
        c.trace = r->watch->sim_trace;
        c.trace_arg = r->watch->sim_trace_arg;
    }
    if (vms_config_check(&c, why, sizeof(why))) {
        r->diff->step = i ? i - 1 : 0;
        snprintf(r->diff->text, sizeof(r->diff->text), "the machine refuses its config: %s\n", why);
        return -1;
    }
    r->m = vms_machine_create(&c);
    r->t[0] = r->m ? vms_spawn(r->m, "replay") : NULL;
    if (!r->t[0]) {
        r->diff->step = 0;
        snprintf(r->diff->text, sizeof(r->diff->text), "cannot make the machine: %s\n", strerror(errno));
        return -1;
    }
    r->ntasks = 1;
    return 0;
}

/* The strings lines: argv and envp of the next execve; 0 or -1 (out of memory). */
static int gather(struct replay *r, const struct dt_op *op)
{
    if (op->kind == DT_ARG)
        return strings_add(&r->argv, strdup(op->str)) || !r->argv.v[r->argv.n - 1] ? -1 : 0;
    if (op->kind == DT_ARG_MORE)
        return strings_extend(&r->argv, op->str);
    char *env = env_string(op);
    return env ? strings_add(&r->envp, env) : -1;
}

static int replay_steps(struct replay *r, const struct dt_seq *seq, dt_rec_fn fn, void *arg)
{
    for (int i = 0; i < seq->n; i++) {
        const struct dt_op *op = &seq->ops[i];
        if (op->kind == DT_SET || op->kind == DT_MAPS)
            continue; /* the machine's config; maps lines stray after a check are none */
        if (op->kind == DT_ARG || op->kind == DT_ARG_MORE || op->kind == DT_ENV) {
            if (gather(r, op)) {
                r->diff->step = i;
                r->diff->aspect = DT_ASPECT_HOST;
                snprintf(r->diff->text, sizeof(r->diff->text), "out of memory\n");
                return -1;
            }
            continue;
        }
        struct dt_rec_step s = {.step = i, .op = op};
        int kind;
        int64_t value;
        if (r->watch && r->watch->on_sim_begin)
            r->watch->on_sim_begin(r->watch->on_step_arg, i, op, r->t[op->proc]);
        run_op(r, op, &kind, &value);
        dt_format_answer(op, kind, value, s.got, sizeof(s.got));
        if (op->expect != DT_EXPECT_NONE) {
            dt_format_answer(op, op->expect, op->expect_value, s.expected, sizeof(s.expected));
            s.differs = strcmp(s.got, s.expected) != 0;
        }
        r->diff->step = i;
        if (s.differs) {
            r->diff->aspect = DT_ASPECT_RET;
            snprintf(r->diff->text, sizeof(r->diff->text), "kernel (recorded): %s\nvmsim:             %s\n",
                     s.expected, s.got);
        }
        int next = i + 1;
        if (!s.differs && next < seq->n && seq->ops[next].kind == DT_MAPS) {
            s.maps_checked = 1;
            s.differs = compare_maps(r, seq, next, &next) != 0;
            r->diff->aspect = DT_ASPECT_MAPS;
            i = next - 1;
        }
        if (fn)
            fn(arg, &s);
        watch_sim(r, i);
        if (s.differs)
            return 1;
    }
    return 0;
}

int dt_recorded_run(const struct dt_seq *seq, const struct dt_setting *settings, int nsettings,
                    const char *root, dt_rec_fn fn, void *arg, const struct dt_config *watch,
                    struct dt_diff *diff)
{
    struct replay *r = calloc(1, sizeof(*r));
    memset(diff, 0, sizeof(*diff));
    if (!r) {
        diff->aspect = DT_ASPECT_HOST;
        snprintf(diff->text, sizeof(diff->text), "out of memory\n");
        return -1;
    }
    r->diff = diff;
    r->watch = watch;
    int rc = make_machine(r, seq, settings, nsettings, root);
    if (rc == 0) {
        watch_sim(r, DT_SIM_READY);
        rc = replay_steps(r, seq, fn, arg);
    }
    if (rc == 0) {
        char *report = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&report, &len);
        int bad = f ? vms_check(r->m, f) : 0;
        if (f)
            fclose(f);
        if (bad) {
            diff->step = seq->n;
            diff->aspect = DT_ASPECT_CHECK;
            snprintf(diff->text, sizeof(diff->text), "vms_check:\n%s", report ? report : "");
            rc = 1;
        }
        free(report);
    }
    if (rc < 0)
        diff->aspect = DT_ASPECT_HOST;
    strings_clear(&r->argv);
    strings_clear(&r->envp);
    if (r->m) {
        watch_sim(r, DT_SIM_END);
        vms_machine_destroy(r->m);
    }
    free(r);
    return rc;
}
