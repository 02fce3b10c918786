/*
 * oracle.c - the public face of the tester (oracle.h): a scenario loaded
 * with line numbers, replayed with dt_run on both sides, each step's two
 * results kept for the caller to show, and the reruns that tell the host's
 * timing from a real difference, as vmsim-difftest --replay does them.
 */
#include "oracle.h"

#include "difftest.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SETTINGS 64

struct oracle_scenario {
    struct dt_seq seq;
    int *lines;
};

struct oracle {
    char scratch[4096];
    struct host_profile profile;
    struct dt_config cfg;
    struct dt_setting settings[MAX_SETTINGS];
    int nsettings;
    struct oracle_watch watch; /* all NULL: nobody watches */
};

/* ---- scenarios ---- */

static oracle_scenario *scenario_from(int rc, struct dt_seq *seq, int *lines)
{
    if (rc)
        return NULL;
    oracle_scenario *s = malloc(sizeof(*s));
    if (!s) {
        dt_seq_free(seq);
        free(lines);
        return NULL;
    }
    s->seq = *seq;
    s->lines = lines;
    return s;
}

oracle_scenario *oracle_scenario_load(const char *path, char *err, size_t errsize)
{
    struct dt_seq seq;
    int *lines = NULL;
    int rc = dt_scenario_load(path, &seq, &lines, err, errsize);
    return scenario_from(rc, &seq, lines);
}

oracle_scenario *oracle_scenario_parse(const char *name, const void *text, size_t len, char *err,
                                       size_t errsize)
{
    struct dt_seq seq;
    int *lines = NULL;
    int rc = dt_scenario_parse(name, text, len, &seq, &lines, err, errsize);
    return scenario_from(rc, &seq, lines);
}

void oracle_scenario_free(oracle_scenario *s)
{
    if (!s)
        return;
    dt_seq_free(&s->seq);
    free(s->lines);
    free(s);
}

int oracle_scenario_steps(const oracle_scenario *s) { return s->seq.n; }

int oracle_scenario_recorded(const oracle_scenario *s) { return s->seq.recorded; }

int oracle_scenario_line(const oracle_scenario *s, int step)
{
    return step >= 0 && step < s->seq.n && s->lines ? s->lines[step] : 0;
}

void oracle_scenario_call(const oracle_scenario *s, int step, char *buf, size_t size)
{
    if (step >= 0 && step < s->seq.n)
        dt_format_call(&s->seq.ops[step], buf, size);
    else
        snprintf(buf, size, "(after the last step)");
}

void oracle_print_config_lines(const struct vms_config *c, FILE *out)
{
    struct vms_config base;
    vms_config_init(&base);
    dt_settings_print(&base, c, "set ", out);
}

/* ---- the oracle ---- */

oracle *oracle_open(const char *scratch_parent, char *err, size_t errsize)
{
    oracle *o = calloc(1, sizeof(*o));
    if (!o)
        return snprintf(err, errsize, "out of memory"), NULL;
    signal(SIGPIPE, SIG_IGN);
    const char *parent = scratch_parent ? scratch_parent : getenv("TMPDIR");
    parent = parent && *parent ? parent : "/tmp";
    snprintf(o->scratch, sizeof(o->scratch), "%s/vmsim-oracle.XXXXXX", parent);
    if (!mkdtemp(o->scratch)) {
        snprintf(err, errsize, "cannot make a scratch folder in %s: %s", parent, strerror(errno));
        free(o);
        return NULL;
    }
    /* The files under test live in the scratch folder, so its disk and
     * filesystem are the ones the profile reads. */
    host_profile_read(&o->profile, o->scratch);
    o->cfg = (struct dt_config){
        .window = host_pick_window(),
        .scratch = o->scratch,
        .kinds = (1u << DT_NKINDS) - 1,
        .features = DT_FEAT_ALL,
        /* A forking host process writes its own stack as the call returns. */
        .fault_kinds = ((1u << DT_NKINDS) - 1) & ~(1u << DT_FORK),
        .check_every_step = 1,
        .profile = &o->profile,
        .settings = o->settings,
    };
    if (!o->cfg.window) {
        snprintf(err, errsize, "no free window in this process's address space");
        oracle_close(o);
        return NULL;
    }
    return o;
}

int oracle_set(oracle *o, const char *assignment, char *err, size_t errsize)
{
    struct dt_setting s;
    if (o->nsettings == MAX_SETTINGS)
        return snprintf(err, errsize, "more than %d settings", MAX_SETTINGS), -1;
    if (dt_setting_parse(assignment, &s, err, errsize))
        return -1;
    o->settings[o->nsettings] = s;
    struct vms_config c;
    char why[256];
    sim_config(&c, o->scratch, &o->profile, o->settings, o->nsettings + 1);
    if (vms_config_check(&c, why, sizeof(why)))
        return snprintf(err, errsize, "%s: %s", assignment, why), -1;
    vms_machine *m = vms_machine_create(&c);
    if (!m)
        return snprintf(err, errsize, "%s: the machine refuses this value (%s)", assignment,
                        strerrorname_np(errno) ? strerrorname_np(errno) : "error"), -1;
    vms_machine_destroy(m);
    o->cfg.nsettings = ++o->nsettings;
    return 0;
}

void oracle_print_profile(const oracle *o, FILE *out) { host_profile_print(&o->profile, out); }

const char *oracle_host_kernel(const oracle *o) { return o->profile.kernel; }

void oracle_close(oracle *o)
{
    if (!o)
        return;
    dt_remove_scratch(o->scratch);
    free(o);
}

/* ---- one side's result, for showing ---- */

static const char *signal_code_name(int signo, int code)
{
    if (code == 0x80)
        return "SI_KERNEL";
    if (signo == SIGSEGV && code >= 1 && code <= 4)
        return (const char *const[]){"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"}[code - 1];
    if (signo == SIGBUS && code >= 1 && code <= 3)
        return (const char *const[]){"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"}[code - 1];
    return NULL;
}

static void show_ret(const struct dt_op *op, const struct dt_result *r, char *buf, size_t size)
{
    if (r->signo) {
        const char *sig = sigabbrev_np(r->signo), *code = signal_code_name(r->signo, r->code);
        char codebuf[16];
        snprintf(codebuf, sizeof(codebuf), "%d", r->code);
        snprintf(buf, size, "SIG%s/%s@%s0x%" PRIx64, sig ? sig : "?", code ? code : codebuf,
                 r->sig_outside ? "" : "+", r->sig_addr);
    } else if (r->ret < 0) {
        const char *name = strerrorname_np((int)-r->ret);
        snprintf(buf, size, "-%s", name ? name : "?");
    } else if (op->kind == DT_LOAD || op->kind == DT_STORE) {
        snprintf(buf, size, "ok");
    } else if (op->kind == DT_FORK) {
        snprintf(buf, size, "@%" PRId64, r->ret);
    } else if (op->kind == DT_MMAP || op->kind == DT_MREMAP) {
        snprintf(buf, size, r->ret_outside ? "outside" : "+0x%" PRIx64, (uint64_t)r->ret);
    } else {
        snprintf(buf, size, "%" PRId64, r->ret);
    }
}

static void show_detail(const struct dt_op *op, const struct dt_result *r, char *buf, size_t size)
{
    size_t len = 0, room = size - 1, shown = r->ndata;
    buf[0] = '\0';
    if (op->kind == DT_FSTAT && r->ndata == 12) {
        uint64_t fsize;
        uint32_t type;
        memcpy(&fsize, r->data, 8);
        memcpy(&type, r->data + 8, 4);
        snprintf(buf, size, "size=%" PRIu64 " %s", fsize,
                 S_ISREG(type) ? "file" : S_ISDIR(type) ? "directory" : "other");
        return;
    }
    if (op->kind == DT_MINCORE) { /* one digit per page: 1 resident */
        shown = shown < 64 ? shown : 64;
        for (size_t i = 0; i < shown && len < room; i++)
            buf[len++] = "0123456789abcdef"[r->data[i] & 0xf];
        buf[len] = '\0';
    } else if (r->ndata) { /* bytes loaded, in hex */
        shown = shown < 32 ? shown : 32;
        for (size_t i = 0; i < shown && len + 2 < room; i++, len += 2)
            snprintf(buf + len, size - len, "%02x", r->data[i]);
    }
    if (shown < r->ndata)
        snprintf(buf + len, size - len, "...(%" PRIu32 "%s)", r->ndata, op->kind == DT_MINCORE ? " pages" : " bytes");
}

static void show_side(const struct dt_op *op, const struct dt_result *r, struct oracle_side *side)
{
    show_ret(op, r, side->ret, sizeof(side->ret));
    show_detail(op, r, side->detail, sizeof(side->detail));
    side->minflt = r->minflt;
    side->majflt = r->majflt;
}

/* ---- replaying ---- */

struct collector {
    struct oracle_report *report;
    const oracle_scenario *scenario;
    unsigned fault_kinds;
    int failed; /* out of memory */
    const struct oracle_watch *watch; /* NULL: nobody watches this run */
};

void oracle_watch(oracle *o, const struct oracle_watch *w)
{
    o->watch = w ? *w : (struct oracle_watch){0};
}

static void watch_event(void *arg, const struct vms_event *ev)
{
    const struct oracle_watch *w = arg;
    if (w->event)
        w->event(w->arg, ev);
}

/* The machine, ready, after a step, or at its end (difftest.h's on_sim). */
static void watch_machine(void *arg, vms_machine *m, int step)
{
    struct collector *c = arg;
    const struct oracle_watch *w = c->watch;
    if (!w)
        return;
    if (step == DT_SIM_READY && w->ready)
        w->ready(w->arg, m);
    else if (step == DT_SIM_END && w->end)
        w->end(w->arg, m);
    else if (step >= 0 && w->step && c->report->nsteps > 0)
        w->step(w->arg, m, &c->report->steps[c->report->nsteps - 1]);
}

static void watch_step_begin(void *arg, int step, const struct dt_op *op, vms_task *t)
{
    struct collector *c = arg;
    const struct oracle_watch *w = c->watch;
    if (!w || !w->step_begin)
        return;
    char call[256];
    dt_format_op(op, call, sizeof(call));
    w->step_begin(w->arg, step, call, t ? vms_task_pid(t) : 0);
}

/* A new, zeroed step at the end of the report; NULL (and the collector
 * failed) when out of memory. */
static struct oracle_step *next_step(struct collector *c)
{
    struct oracle_report *r = c->report;
    struct oracle_step *grown = realloc(r->steps, (size_t)(r->nsteps + 1) * sizeof(*grown));
    if (!grown) {
        c->failed = 1;
        return NULL;
    }
    r->steps = grown;
    struct oracle_step *s = &r->steps[r->nsteps++];
    memset(s, 0, sizeof(*s));
    return s;
}

static void collect_step(void *arg, int step, const struct dt_op *op, const struct dt_result *host,
                         const struct dt_result *vmsim)
{
    struct collector *c = arg;
    struct oracle_step *s = next_step(c);
    if (!s)
        return;
    s->step = step;
    s->line = oracle_scenario_line(c->scenario, step);
    dt_format_op(op, s->call, sizeof(s->call));
    show_side(op, vmsim, &s->vmsim);
    show_side(op, host, &s->host);
    s->access = op->kind == DT_LOAD || op->kind == DT_STORE;
    s->faults_compared = (c->fault_kinds >> op->kind) & 1;
}

static int run_once(oracle *o, const oracle_scenario *s, struct oracle_report *r, struct dt_diff *d)
{
    struct collector c = {.report = r, .scenario = s, .fault_kinds = o->cfg.fault_kinds};
    struct dt_config cfg = o->cfg;
    cfg.on_step = collect_step;
    cfg.on_step_arg = &c;
    int watched = r->runs == 0 && (o->watch.event || o->watch.ready || o->watch.step ||
                                   o->watch.end || o->watch.step_begin);
    if (watched) { /* the first run only: a rerun replays the same calls */
        c.watch = &o->watch;
        cfg.on_sim = watch_machine;
        cfg.on_sim_begin = watch_step_begin;
        cfg.sim_trace = watch_event;
        cfg.sim_trace_arg = &o->watch;
    }
    r->nsteps = 0;
    r->runs++;
    struct dt_seq seq = s->seq; /* dt_run only reads a sequence it is given */
    int rc = dt_run(&cfg, &seq, NULL, 0, d, NULL);
    if (c.failed) {
        snprintf(d->text, sizeof(d->text), "out of memory\n");
        d->aspect = DT_ASPECT_HOST;
        return -1;
    }
    return rc;
}

/* ---- recorded scenarios ---- */

static void collect_recorded(void *arg, const struct dt_rec_step *rs)
{
    struct collector *c = arg;
    struct oracle_step *s = next_step(c);
    if (!s)
        return;
    s->step = rs->step;
    s->line = oracle_scenario_line(c->scenario, rs->step);
    dt_format_call(rs->op, s->call, sizeof(s->call));
    snprintf(s->vmsim.ret, sizeof(s->vmsim.ret), "%s", rs->got);
    snprintf(s->host.ret, sizeof(s->host.ret), "%s", rs->expected);
    if (rs->maps_checked) {
        snprintf(s->vmsim.detail, sizeof(s->vmsim.detail), "maps");
        snprintf(s->host.detail, sizeof(s->host.detail), "maps");
    }
    s->differs = rs->differs;
}

/* Before a recorded step: its line as the report shows recorded calls. */
static void watch_recorded_begin(void *arg, int step, const struct dt_op *op, vms_task *t)
{
    struct collector *c = arg;
    const struct oracle_watch *w = c->watch;
    if (!w || !w->step_begin)
        return;
    char call[256];
    dt_format_call(op, call, sizeof(call));
    w->step_begin(w->arg, step, call, t ? vms_task_pid(t) : 0);
}

static int replay_recorded(oracle *o, const oracle_scenario *s, struct oracle_report *r)
{
    struct dt_diff *d = malloc(sizeof(*d));
    struct collector c = {.report = r, .scenario = s};
    r->runs = 1;
    /* The machine is watched as a generated scenario's vmsim side is. */
    struct dt_config watch = {.on_step_arg = &c};
    int watched = o->watch.event || o->watch.ready || o->watch.step || o->watch.end ||
                  o->watch.step_begin;
    if (watched) {
        c.watch = &o->watch;
        watch.on_sim = watch_machine;
        watch.on_sim_begin = watch_recorded_begin;
        watch.sim_trace = watch_event;
        watch.sim_trace_arg = &o->watch;
    }
    int rc = d ? dt_recorded_run(&s->seq, o->settings, o->nsettings, "/", collect_recorded, &c,
                                 watched ? &watch : NULL, d) : -1;
    if (c.failed || !d)
        rc = -1;
    r->outcome = rc == 0 ? ORACLE_AGREE : rc == 1 ? ORACLE_DIFFER : ORACLE_ERROR;
    if (rc != 0) {
        r->diff_step = d ? d->step : 0;
        r->diff_aspect = d ? dt_aspect_name(d->aspect) : "host";
        snprintf(r->diff_text, sizeof(r->diff_text), "%s", d && !c.failed ? d->text : "out of memory\n");
    }
    free(d);
    return r->outcome;
}

int oracle_replay(oracle *o, const oracle_scenario *s, struct oracle_report *r)
{
    memset(r, 0, sizeof(*r));
    if (s->seq.recorded)
        return replay_recorded(o, s, r);
    struct dt_diff *d = malloc(sizeof(*d));
    if (!d) {
        r->outcome = ORACLE_ERROR;
        r->diff_aspect = "host";
        snprintf(r->diff_text, sizeof(r->diff_text), "out of memory\n");
        return r->outcome;
    }
    int rc = run_once(o, s, r, d);
    /* What the host's timing can cause must show again to count: vmsim
     * itself gives the same every run. */
    while (rc == 1 && r->runs < 3 && dt_may_be_host_timing(&s->seq, d)) {
        snprintf(r->noise, sizeof(r->noise), "%s differed at step %d in run %d", dt_aspect_name(d->aspect),
                 d->step + 1, r->runs);
        rc = run_once(o, s, r, d);
    }
    if (rc == 0 && r->runs > 1) {
        size_t len = strlen(r->noise);
        snprintf(r->noise + len, sizeof(r->noise) - len, ", agreed in run %d", r->runs);
    } else if (rc == 1 && r->runs > 1) {
        snprintf(r->noise, sizeof(r->noise), "%s differed in each of %d runs, so it counts",
                 dt_aspect_name(d->aspect), r->runs);
    }
    r->outcome = rc == 0 ? ORACLE_AGREE : rc == 1 ? ORACLE_DIFFER : ORACLE_ERROR;
    if (rc != 0) {
        r->diff_step = d->step;
        r->diff_aspect = dt_aspect_name(d->aspect);
        snprintf(r->diff_text, sizeof(r->diff_text), "%s", d->text);
        for (int i = 0; i < r->nsteps; i++)
            r->steps[i].differs = rc == 1 && r->steps[i].step == d->step;
    }
    free(d);
    return r->outcome;
}

void oracle_report_free(struct oracle_report *r)
{
    free(r->steps);
    r->steps = NULL;
    r->nsteps = 0;
}
