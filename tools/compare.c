/*
 * vmsim compare: a scenario in the line format (docs/scenarios.md) run step
 * by step on a vmsim machine and on this machine's kernel, both sides'
 * results side by side, and the first difference with what each side had
 * (results, maps, fault counts, bytes), as the tester compares them. The
 * oracle (difftest/oracle.h) does the running; this file shows it.
 */
#include "cli.h"
#include "text_escape.h"
#include "oracle.h"
#include "record.h"
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char compare_usage[] =
    "Usage: vmsim compare [options] SCENARIO\n"
    "\n"
    "Runs SCENARIO, one operation per line (docs/scenarios.md), step by step on\n"
    "a vmsim machine and on this machine's kernel (in a child process), prints\n"
    "both sides' results side by side and says where they first differ: return\n"
    "value or errno, signal, bytes loaded, mincore vectors, fault counts, the\n"
    "maps of the test window, vms_check, and the files on disk. The machine's\n"
    "config is taken from this host (vmsim-difftest --profile shows it).\n"
    "\n"
    "Options:\n"
    "  --set FIELD=VALUE  give the vmsim side a config unlike this host's (repeat\n"
    "                     for more fields): e.g. --set zero_page=0, --set\n"
    "                     readahead_kb=0; VALUE is a number, 0x hex, K/M/G/T or\n"
    "                     unlimited; FIELD is a vms_config field\n"
    "  --json             one JSON object per step, then one with the outcome\n"
    "  --profile          print the host profile before the steps (not with --json)\n"
    "  --scratch DIR      folder for the two scratch roots (default $TMPDIR or /tmp)\n"
    "  --html FILE        also write FILE, one self-contained HTML page of the vmsim\n"
    "                     side's run (of a recorded scenario: the machine replaying\n"
    "                     it): its state after each step (docs/report.md)\n"
    "  --no-color         no colour (also NO_COLOR=1, or output not a terminal)\n"
    "  -h, --help         this text\n"
    "\n"
    "Pictures of the vmsim side's run (docs/report.md):\n"
    "%s"
    "\n"
    "Exit status: 0 every step agrees, 1 the sides differ, 2 bad input (a\n"
    "scenario line that does not parse says its line number) or the host side\n"
    "could not run.\n";

struct compare_options {
    const char *path, *scratch, *html;
    const char *settings[64];
    int nsettings, json, profile, no_color;
    struct picture_options pictures;
};

static int compare_usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "vmsim compare: %s%s%s\nTry 'vmsim compare --help'.\n", what, arg ? " " : "",
            arg ? arg : "");
    return CLI_USAGE;
}

/* 0, 1 after --help, or CLI_USAGE (with the message printed). */
static int parse_compare_options(int argc, char **argv, struct compare_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int picture = picture_option(argc, argv, &i, &o->pictures, "vmsim compare");
        if (picture < 0)
            return CLI_USAGE;
        if (picture)
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf(compare_usage, picture_options_help);
            return 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (!strcmp(a, "--no-color")) {
            o->no_color = 1;
        } else if ((!strcmp(a, "--set") || !strcmp(a, "--scratch") || !strcmp(a, "--html")) &&
                   !val) {
            return compare_usage_error("missing value after", a);
        } else if (!strcmp(a, "--set")) {
            if (o->nsettings == (int)(sizeof(o->settings) / sizeof(o->settings[0])))
                return compare_usage_error("too many --set options", NULL);
            o->settings[o->nsettings++] = argv[++i];
        } else if (!strcmp(a, "--scratch")) {
            o->scratch = argv[++i];
        } else if (!strcmp(a, "--html")) {
            o->html = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return compare_usage_error("unknown option", a);
        } else if (o->path) {
            return compare_usage_error("one scenario only; extra argument", a);
        } else {
            o->path = a;
        }
    }
    return o->path ? 0 : compare_usage_error("missing SCENARIO", NULL);
}

/* ---- text ---- */

struct widths {
    int call, vmsim, host;
};

static void side_text(const struct oracle_side *s, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", s->ret, s->detail[0] ? " " : "", s->detail);
}

static int shows_faults(const struct oracle_step *s)
{
    return s->faults_compared && (s->access || s->vmsim.minflt || s->vmsim.majflt || s->host.minflt ||
                                  s->host.majflt);
}

static int wider(int w, const char *text, int cap)
{
    int n = (int)strlen(text);
    return n > w ? (n < cap ? n : cap) : w;
}

static struct widths measure(const struct oracle_report *r)
{
    struct widths w = {4, 5, 4};
    char text[256];
    for (int i = 0; i < r->nsteps; i++) {
        w.call = wider(w.call, r->steps[i].call, 64);
        side_text(&r->steps[i].vmsim, text, sizeof(text));
        w.vmsim = wider(w.vmsim, text, 40);
        side_text(&r->steps[i].host, text, sizeof(text));
        w.host = wider(w.host, text, 40);
    }
    return w;
}

static void print_step(const struct oracle_step *s, int number, const struct widths *w, int color)
{
    char v[256], h[256], faults[64] = "";
    side_text(&s->vmsim, v, sizeof(v));
    side_text(&s->host, h, sizeof(h));
    if (shows_faults(s))
        snprintf(faults, sizeof(faults), "%" PRIu64 "/%" PRIu64 " %" PRIu64 "/%" PRIu64, s->vmsim.minflt,
                 s->vmsim.majflt, s->host.minflt, s->host.majflt);
    const char *on = s->differs && color ? "\033[1;31m" : "", *off = s->differs && color ? "\033[0m" : "";
    /* The last column is padded only when the faults follow it. */
    printf("%s%c%4d %4d  %-*s  %-*s  %-*s%s%s%s\n", on, s->differs ? '!' : ' ', number, s->line,
           w->call, s->call, w->vmsim, v, faults[0] ? w->host : 0, h, faults[0] ? "  " : "", faults, off);
}

/* A recorded scenario's last lines: its steps are its operation lines, named by line. */
static void print_recorded_outcome(const oracle_scenario *sc, const struct oracle_report *r, int color)
{
    const char *red = color ? "\033[1;31m" : "", *plain = color ? "\033[0m" : "";
    char call[256];
    oracle_scenario_call(sc, r->diff_step, call, sizeof(call));
    int line = oracle_scenario_line(sc, r->diff_step);
    if (r->outcome == ORACLE_AGREE)
        printf("all %d steps agree with the kernel's recorded answers (results, maps, vms_check)\n", r->nsteps);
    else if (r->outcome == ORACLE_ERROR)
        printf("could not replay (line %d: %s): %s", line, call, r->diff_text);
    else if (r->diff_step >= oracle_scenario_steps(sc))
        printf("%sDIFFERENT%s after the last step, in %s:\n%s", red, plain, r->diff_aspect, r->diff_text);
    else
        printf("%sDIFFERENT%s at line %d (%s), in %s:\n%s", red, plain, line, call, r->diff_aspect,
               r->diff_text);
}

/* The last lines: agreement, or the first difference with both sides. */
static void print_outcome(const oracle_scenario *sc, const struct oracle_report *r, int color)
{
    if (oracle_scenario_recorded(sc)) {
        print_recorded_outcome(sc, r, color);
        return;
    }
    const char *red = color ? "\033[1;31m" : "", *plain = color ? "\033[0m" : "";
    char call[256];
    oracle_scenario_call(sc, r->diff_step, call, sizeof(call));
    int line = oracle_scenario_line(sc, r->diff_step);
    if (r->outcome == ORACLE_AGREE)
        printf("all %d steps agree (results, signals, bytes, fault counts, maps, vms_check, files on disk)\n",
               oracle_scenario_steps(sc));
    else if (r->outcome == ORACLE_ERROR && r->nsteps == 0)
        printf("could not start the two sides: %s", r->diff_text);
    else if (r->outcome == ORACLE_ERROR)
        printf("could not run step %d (line %d: %s): %s", r->diff_step + 1, line, call, r->diff_text);
    else if (r->diff_step >= oracle_scenario_steps(sc))
        printf("%sDIFFERENT%s after the last step, in %s (files on disk):\n%s", red, plain, r->diff_aspect,
               r->diff_text);
    else
        printf("%sDIFFERENT%s at step %d (line %d: %s), in %s:\n%s", red, plain, r->diff_step + 1, line, call,
               r->diff_aspect, r->diff_text);
}

static void print_text(const struct compare_options *o, const oracle_scenario *sc,
                       const struct oracle_report *r, const oracle *orc, int color)
{
    struct widths w = measure(r);
    int recorded = oracle_scenario_recorded(sc);
    if (recorded)
        printf("vmsim compare %s: a recorded run, replayed on vmsim against the kernel's answers it "
               "carries%s\n", o->path, o->nsettings ? ", vmsim with --set" : "");
    else
        printf("vmsim compare %s: %d steps on vmsim and on this kernel (Linux %s)%s\n", o->path,
               oracle_scenario_steps(sc), oracle_host_kernel(orc), o->nsettings ? ", vmsim with --set" : "");
    if (recorded && w.host < 6)
        w.host = 6;
    if (recorded)
        printf(" %4s %4s  %-*s  %-*s  %s\n", "step", "line", w.call, "call", w.vmsim, "vmsim", "kernel");
    else
        printf(" %4s %4s  %-*s  %-*s  %-*s  %s\n", "step", "line", w.call, "call", w.vmsim, "vmsim", w.host,
               "host", "faults min/maj: vmsim host");
    for (int i = 0; i < r->nsteps; i++)
        print_step(&r->steps[i], i + 1, &w, color);
    if (r->noise[0])
        printf("(run again, as the host's timing can cause such a difference: %s)\n", r->noise);
    print_outcome(sc, r, color);
}

static void json_side(const char *name, const struct oracle_side *s)
{
    printf("\"%s\":{\"ret\":", name);
    json_write_string(stdout, s->ret, 0);
    printf(",\"detail\":");
    json_write_string(stdout, s->detail, 0);
    printf(",\"minflt\":%" PRIu64 ",\"majflt\":%" PRIu64 "}", s->minflt, s->majflt);
}

static void print_json(const struct compare_options *o, const oracle_scenario *sc,
                       const struct oracle_report *r)
{
    for (int i = 0; i < r->nsteps; i++) {
        const struct oracle_step *s = &r->steps[i];
        printf("{\"type\":\"step\",\"step\":%d,\"line\":%d,\"call\":", i + 1, s->line);
        json_write_string(stdout, s->call, 0);
        putchar(',');
        json_side("vmsim", &s->vmsim);
        putchar(',');
        json_side("host", &s->host);
        printf(",\"faults_compared\":%s,\"differs\":%s}\n", s->faults_compared ? "true" : "false",
               s->differs ? "true" : "false");
    }
    static const char *const outcomes[] = {"agree", "differ"};
    printf("{\"type\":\"outcome\",\"scenario\":");
    json_write_string(stdout, o->path, 0);
    int recorded = oracle_scenario_recorded(sc);
    printf(",\"outcome\":\"%s\",\"steps\":%d,\"runs\":%d,\"noise\":",
           r->outcome >= 0 ? outcomes[r->outcome] : "error", recorded ? r->nsteps : oracle_scenario_steps(sc),
           r->runs);
    json_write_string(stdout, r->noise, 0);
    if (r->outcome != ORACLE_AGREE) {
        int step = r->diff_step + 1; /* a recorded scenario's steps are counted as shown */
        for (int i = 0; recorded && i < r->nsteps; i++)
            if (r->steps[i].step == r->diff_step)
                step = i + 1;
        printf(",\"difference\":{\"step\":%d,\"line\":%d,\"aspect\":", step,
               oracle_scenario_line(sc, r->diff_step));
        json_write_string(stdout, r->diff_aspect, 0);
        printf(",\"text\":");
        json_write_string(stdout, r->diff_text, 0);
        putchar('}');
    }
    printf("}\n");
}

static int bad_input(const struct compare_options *o, const char *err)
{
    fprintf(stderr, "vmsim compare: %s\n", err);
    if (o->json) {
        printf("{\"type\":\"error\",\"message\":");
        json_write_string(stdout, err, 0);
        printf("}\n");
    }
    return CLI_USAGE;
}

/* ---- the report (--html) and the pictures: the vmsim side, step by step ---- */

/* The scenario runs on one machine; its steps are the calls. */
#define COMPARE_MACHINE 1

struct watchers {
    struct report *page; /* --html, or NULL */
    struct record *rec;  /* the picture options, or NULL */
    int ready;           /* the setup is over: events from now on are the steps' */
};

static void watch_event(void *arg, const struct vms_event *ev)
{
    struct watchers *ws = arg;
    if (ws->page)
        report_event(ws->page, ev);
    if (ws->rec && ws->ready)
        record_event(ws->rec, ev);
}

static void watch_ready(void *arg, vms_machine *m)
{
    struct watchers *ws = arg;
    ws->ready = 1;
    if (!ws->page)
        return;
    report_machine_begin(ws->page, m, COMPARE_MACHINE);
    report_set_current(ws->page, m);
}

/* The operation's name: the first word after an "@N" process prefix. */
static void op_name(const char *call, char *op, size_t size)
{
    const char *name = call[0] == '@' ? strchr(call, ' ') : call;
    const char *from = name ? name + (*name == ' ') : call;
    size_t n = strcspn(from, " ");
    n = n < size - 1 ? n : size - 1; /* a longer word is cut, as the buffer's user expects */
    memcpy(op, from, n);
    op[n] = '\0';
}

static void watch_step_begin(void *arg, int step, const char *call, int pid)
{
    struct watchers *ws = arg;
    (void)step;
    char op[32];
    op_name(call, op, sizeof(op));
    if (ws->rec)
        record_call_begin(ws->rec, COMPARE_MACHINE, pid, op, call);
}

static void watch_step(void *arg, vms_machine *m, const struct oracle_step *s)
{
    struct watchers *ws = arg;
    if (ws->rec)
        record_call_end(ws->rec, m, 0, s->vmsim.ret);
    if (!ws->page)
        return;
    char text[512];
    snprintf(text, sizeof(text), "line %d: %s = %s%s%s", s->line, s->call, s->vmsim.ret,
             s->vmsim.detail[0] ? " " : "", s->vmsim.detail);
    int failed = s->vmsim.ret[0] == '-' || strncmp(s->vmsim.ret, "SIG", 3) == 0;
    char op[32];
    op_name(s->call, op, sizeof(op));
    report_call(ws->page, m, op, text, failed);
    report_set_current(ws->page, m);
}

static void watch_end(void *arg, vms_machine *m)
{
    struct watchers *ws = arg;
    if (ws->page)
        report_machine_end(ws->page, m);
    if (ws->rec)
        record_snapshot(ws->rec, m, COMPARE_MACHINE, 0, 0);
}

int compare_main(int argc, char **argv)
{
    struct compare_options o = {0};
    int rc = parse_compare_options(argc, argv, &o);
    if (rc)
        return rc == 1 ? CLI_OK : rc;
    char err[2048];
    oracle_scenario *sc = oracle_scenario_load(o.path, err, sizeof(err));
    if (!sc)
        return bad_input(&o, err);
    oracle *orc = oracle_open(o.scratch, err, sizeof(err));
    for (int i = 0; orc && i < o.nsettings; i++) {
        char why[1536];
        if (oracle_set(orc, o.settings[i], why, sizeof(why))) {
            snprintf(err, sizeof(err), "--set %s", why);
            oracle_close(orc);
            orc = NULL;
        }
    }
    if (!orc) {
        oracle_scenario_free(sc);
        return bad_input(&o, err);
    }
    if (o.profile && !o.json)
        oracle_print_profile(orc, stdout);
    struct record rec;
    if (record_open(&rec, &o.pictures, err, sizeof(err))) {
        oracle_close(orc);
        oracle_scenario_free(sc);
        return bad_input(&o, err);
    }
    const char *slash = strrchr(o.path, '/'); /* the page is titled by the file's name */
    struct watchers ws = {.page = o.html ? report_new(slash ? slash + 1 : o.path) : NULL,
                          .rec = record_active(&rec) ? &rec : NULL};
    if (ws.page || ws.rec) {
        struct oracle_watch w = {.arg = &ws, .event = watch_event, .ready = watch_ready,
                                 .step = watch_step, .end = watch_end,
                                 .step_begin = watch_step_begin};
        oracle_watch(orc, &w);
    }
    struct oracle_report r;
    int outcome = oracle_replay(orc, sc, &r);
    if (ws.page && report_save_html(ws.page, o.html, "vmsim compare") && outcome == ORACLE_AGREE)
        outcome = ORACLE_ERROR;
    report_free(ws.page);
    if (record_close(&rec, "vmsim compare") && outcome == ORACLE_AGREE)
        outcome = ORACLE_ERROR;
    if (o.json)
        print_json(&o, sc, &r);
    else
        print_text(&o, sc, &r, orc, cli_use_color(stdout, o.no_color));
    oracle_report_free(&r);
    oracle_close(orc);
    oracle_scenario_free(sc);
    return outcome == ORACLE_AGREE ? CLI_OK : outcome == ORACLE_DIFFER ? CLI_FAILED : CLI_USAGE;
}
