/*
 * sweep_collect.c - `vmsim sweep --collect DIR`: each job's JSON lines
 * (DIR/results/ID.jsonl, written by `vmsim replay --json --label ...`) read
 * back into one CSV row: the job's parameters from its "label" lines, then
 * the total figures and a few rates; the jobs missing or malformed named;
 * and a line plot of one metric against one parameter as a standalone SVG.
 * The JSON read (sweep_json.c) is the flat objects replay writes (strings,
 * numbers, true, false, null; no nesting): anything else is malformed.
 */
#include "cli.h"
#include "sweep.h"
#include "sweep_json.h"
#include "views.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 64

/* ---- one job's result ---- */

/* The metrics of a row: counts first (read from the result), then rates
 * (computed from them). */
static const char *const counts[] = {
    "accesses", "l1_hits", "l1_misses", "l2_hits", "l2_misses", "walks", "walk_refs",
    "psc_hits", "minflt",  "majflt",    "pgtables", "resident_pages", "dtlb_hits",
    "dtlb_misses", "itlb_hits", "itlb_misses",
};
#define NCOUNTS (sizeof(counts) / sizeof(counts[0]))
static const char *const from_replay[] = {"mm_differ", "vmas_made", "signals", "oom_killed"};
#define NREPLAY (sizeof(from_replay) / sizeof(from_replay[0]))
static const char *const rates[] = {"l1_miss_rate", "dtlb_miss_rate", "itlb_miss_rate",
                                    "l2_miss_rate", "l1_mpka", "dtlb_mpka", "l2_mpka",
                                    "refs_per_walk"};
#define NRATES (sizeof(rates) / sizeof(rates[0]))
#define NMETRICS (NCOUNTS + NREPLAY + NRATES)

enum {
    C_ACCESSES, C_L1_HITS, C_L1_MISSES, C_L2_HITS, C_L2_MISSES, C_WALKS, C_WALK_REFS, C_PSC_HITS,
    C_MINFLT, C_MAJFLT, C_PGTABLES, C_RESIDENT, C_DTLB_HITS, C_DTLB_MISSES, C_ITLB_HITS, C_ITLB_MISSES
};

struct row {
    int ok;
    char *labels[MAX_LABELS]; /* the values, in the order of the sweep's names */
    char *names[MAX_LABELS];
    int nlabels;
    uint64_t count[NCOUNTS + NREPLAY];
    double rate[NRATES];      /* NAN when the denominator is 0 */
};

static void row_free(struct row *r)
{
    for (int i = 0; i < r->nlabels; i++) {
        free(r->labels[i]);
        free(r->names[i]);
    }
    memset(r, 0, sizeof(*r));
}

static int take_counts(const struct jobj *o, const char *const *keys, size_t n, uint64_t *out,
                       char *why, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const struct jfield *f = jget(o, keys[i]);
        char *end;
        if (!f || f->kind == J_STR || f->kind == J_NULL || f->str[0] == '-')
            return snprintf(why, len, "no count \"%s\"", keys[i]), -1;
        errno = 0;
        out[i] = strtoull(f->str, &end, 10);
        if (errno || *end)
            return snprintf(why, len, "\"%s\": %.40s is not a count", keys[i], f->str), -1;
    }
    return 0;
}

static double ratio(uint64_t a, uint64_t b, double scale)
{
    return b ? scale * (double)a / (double)b : NAN;
}

static void compute_rates(struct row *r)
{
    const uint64_t *c = r->count;
    double *v = r->rate;
    *v++ = ratio(c[C_L1_MISSES], c[C_L1_HITS] + c[C_L1_MISSES], 1);
    *v++ = ratio(c[C_DTLB_MISSES], c[C_DTLB_HITS] + c[C_DTLB_MISSES], 1);
    *v++ = ratio(c[C_ITLB_MISSES], c[C_ITLB_HITS] + c[C_ITLB_MISSES], 1);
    *v++ = ratio(c[C_L2_MISSES], c[C_L2_HITS] + c[C_L2_MISSES], 1);
    *v++ = ratio(c[C_L1_MISSES], c[C_ACCESSES], 1000);
    *v++ = ratio(c[C_DTLB_MISSES], c[C_ACCESSES], 1000);
    *v++ = ratio(c[C_L2_MISSES], c[C_ACCESSES], 1000);
    *v = ratio(c[C_WALK_REFS], c[C_WALKS], 1);
}

/* One line of a result into the row: 0, or -1 with why. */
static int take_line(struct row *r, const struct jobj *o, int *seen, char *why, size_t len)
{
    const struct jfield *type = jget(o, "type");
    if (!type || type->kind != J_STR)
        return snprintf(why, len, "no \"type\""), -1;
    if (!strcmp(type->str, "label")) {
        const struct jfield *n = jget(o, "name"), *v = jget(o, "value");
        if (!n || !v || n->kind != J_STR || v->kind != J_STR)
            return snprintf(why, len, "a label without its name and value"), -1;
        if (r->nlabels == MAX_LABELS)
            return snprintf(why, len, "more than %d labels", MAX_LABELS), -1;
        for (int i = 0; i < r->nlabels; i++)
            if (!strcmp(r->names[i], n->str))
                return snprintf(why, len, "the label \"%.40s\" twice", n->str), -1;
        r->names[r->nlabels] = strdup(n->str);
        r->labels[r->nlabels] = strdup(v->str);
        if (!r->names[r->nlabels++] || !r->labels[r->nlabels - 1])
            return snprintf(why, len, "out of memory"), -1;
        return 0;
    }
    if (!strcmp(type->str, "replay")) {
        seen[0]++;
        return take_counts(o, from_replay, NREPLAY, r->count + NCOUNTS, why, len);
    }
    const struct jfield *scope = jget(o, "scope");
    if (!strcmp(type->str, "figures") && scope && scope->kind == J_STR && !strcmp(scope->str, "total")) {
        seen[1]++;
        return take_counts(o, counts, NCOUNTS, r->count, why, len);
    }
    return 0;
}

/* results/ID.jsonl into r: 0, or -1 with why ("line 3: ..."). */
static int read_result(FILE *f, const char *id, struct row *r, char *why, size_t len)
{
    char *line = NULL, msg[256];
    size_t cap = 0;
    int seen[2] = {0, 0}, rc = 0;
    unsigned n = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        n++;
        struct jobj o;
        if (json_flat(line, &o, msg, sizeof(msg)) || take_line(r, &o, seen, msg, sizeof(msg)))
        {
            snprintf(why, len, "line %u: %s", n, msg);
            rc = -1;
        }
        jobj_free(&o);
    }
    free(line);
    if (rc)
        return rc;
    if (ferror(f))
        return snprintf(why, len, "cannot read it: %s", strerror(errno)), -1;
    if (n == 0)
        return snprintf(why, len, "empty"), -1;
    if (seen[0] != 1 || seen[1] != 1)
        return snprintf(why, len, "%s", seen[0] != 1 ? "not one \"replay\" line" : "not one total \"figures\" line"), -1;
    if (r->nlabels == 0 || strcmp(r->names[0], "job") || strcmp(r->labels[0], id))
        return snprintf(why, len, "its first label is not job=%s", id), -1;
    compute_rates(r);
    return 0;
}

/* ---- the whole sweep ---- */

struct table {
    struct row *rows; /* rows[k]: job k + 1 */
    unsigned long njobs;
    int width;
    const struct row *first; /* the first good row: the columns */
    unsigned long missing, malformed;
};

static void vsay(const char *fmt, va_list ap)
{
    fputs("vmsim sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

/* A bad command line or folder: exit status 2. */
static int complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

/* A file that cannot be written, nothing to collect: exit status 1. */
static int failure(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return CLI_FAILED;
}

static int count_jobs(const char *dir, unsigned long *n)
{
    char *path;
    if (asprintf(&path, "%s/jobs.txt", dir) < 0)
        return complain("out of memory");
    FILE *f = fopen(path, "r");
    if (!f) {
        complain("%s: %s: not a sweep's folder (vmsim sweep GRID -o DIR makes one)", path,
                 strerror(errno));
        free(path);
        return CLI_USAGE;
    }
    free(path);
    *n = 0;
    int c, last = '\n';
    for (; (c = getc(f)) != EOF; last = c)
        if (c == '\n' && last != '\n')
            ++*n;
    if (last != '\n') /* a last line without its newline */
        ++*n;
    fclose(f);
    if (*n == 0 || *n > SWEEP_MAX_JOBS)
        return complain("%s/jobs.txt: %lu jobs: not a sweep's job list", dir, *n);
    return 0;
}

/* The same labels, in the same order, as the first good row's. */
static int same_columns(const struct row *a, const struct row *b)
{
    if (a->nlabels != b->nlabels)
        return 0;
    for (int i = 0; i < a->nlabels; i++)
        if (strcmp(a->names[i], b->names[i]))
            return 0;
    return 1;
}

static void read_job(struct table *t, const char *dir, unsigned long k)
{
    char id[32], *path, why[512];
    sweep_format_id(id, sizeof(id), k + 1, t->width);
    struct row *r = &t->rows[k];
    if (asprintf(&path, "%s/results/%s.jsonl", dir, id) < 0)
        return;
    FILE *f = fopen(path, "r");
    if (!f) {
        t->missing++;
        char *part;
        if (asprintf(&part, "%s.part", path) >= 0) {
            FILE *p = fopen(part, "r");
            fprintf(stderr, "vmsim sweep: job %s: no result%s\n", id,
                    p ? " (a .part file: the job failed, or still runs)" : "");
            if (p)
                fclose(p);
            free(part);
        }
        free(path);
        return;
    }
    int rc = read_result(f, id, r, why, sizeof(why));
    fclose(f);
    if (rc == 0 && t->first && !same_columns(t->first, r)) {
        snprintf(why, sizeof(why), "its labels differ from job 1's: from another sweep?");
        rc = -1;
    }
    if (rc) {
        fprintf(stderr, "vmsim sweep: job %s: results/%s.jsonl: %s\n", id, id, why);
        t->malformed++;
        row_free(r);
    } else {
        r->ok = 1;
        if (!t->first)
            t->first = r;
    }
    free(path);
}

/* Files in results/ that no job of jobs.txt writes. */
static void note_strays(const struct table *t, const char *dir)
{
    char *path;
    if (asprintf(&path, "%s/results", dir) < 0)
        return;
    DIR *d = opendir(path);
    free(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *n = e->d_name;
        size_t len = strlen(n), digits = strspn(n, "0123456789");
        if (n[0] == '.' || (len > 5 && !strcmp(n + len - 5, ".part")))
            continue;
        unsigned long k = strtoul(n, NULL, 10);
        if (digits == (size_t)t->width && !strcmp(n + digits, ".jsonl") && k >= 1 && k <= t->njobs)
            continue;
        fprintf(stderr, "vmsim sweep: results/%s: no job of jobs.txt writes it: left out\n", n);
    }
    if (d)
        closedir(d);
}

/* ---- the CSV ---- */

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' ')) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void write_csv(FILE *out, const struct table *t)
{
    const struct row *h = t->first;
    for (int i = 0; i < h->nlabels; i++) {
        csv_field(out, h->names[i]);
        fputc(',', out);
    }
    for (size_t i = 0; i < NCOUNTS; i++)
        fprintf(out, "%s,", counts[i]);
    for (size_t i = 0; i < NREPLAY; i++)
        fprintf(out, "%s,", from_replay[i]);
    for (size_t i = 0; i < NRATES; i++)
        fprintf(out, "%s%s", rates[i], i + 1 < NRATES ? "," : "\n");
    for (unsigned long k = 0; k < t->njobs; k++) {
        const struct row *r = &t->rows[k];
        if (!r->ok)
            continue;
        for (int i = 0; i < r->nlabels; i++) {
            csv_field(out, r->labels[i]);
            fputc(',', out);
        }
        for (size_t i = 0; i < NCOUNTS + NREPLAY; i++)
            fprintf(out, "%" PRIu64 ",", r->count[i]);
        for (size_t i = 0; i < NRATES; i++) {
            if (!isnan(r->rate[i]))
                fprintf(out, "%.6g", r->rate[i]);
            fputs(i + 1 < NRATES ? "," : "\n", out);
        }
    }
}

/* ---- the plot ---- */

/* A metric's value in a row, NAN when it has none. */
static double metric(const struct row *r, int m)
{
    if ((size_t)m < NCOUNTS + NREPLAY)
        return (double)r->count[m];
    return r->rate[(size_t)m - NCOUNTS - NREPLAY];
}

static const char *metric_name(int m)
{
    if ((size_t)m < NCOUNTS)
        return counts[m];
    if ((size_t)m < NCOUNTS + NREPLAY)
        return from_replay[(size_t)m - NCOUNTS];
    return rates[(size_t)m - NCOUNTS - NREPLAY];
}

static int find_metric(const char *name)
{
    for (int m = 0; (size_t)m < NMETRICS; m++)
        if (!strcmp(metric_name(m), name))
            return m;
    return -1;
}

static int find_label(const struct row *h, const char *name)
{
    for (int i = 1; i < h->nlabels; i++) /* 0 is the job's id */
        if (!strcmp(h->names[i], name))
            return i;
    return -1;
}

/* The distinct values of label i over the rows plotted, in job order. */
struct values {
    const char **v;
    size_t n;
};

static int value_index(const struct values *vs, const char *v)
{
    for (size_t i = 0; i < vs->n; i++)
        if (!strcmp(vs->v[i], v))
            return (int)i;
    return -1;
}

static void add_value(struct values *vs, const char *v)
{
    if (value_index(vs, v) < 0)
        vs->v[vs->n++] = v;
}

struct plot {
    const struct sweep_collect_opts *o;
    const struct table *t;
    int x, series, y;          /* label, label (-1: none), metric */
    int where[SWEEP_MAX_WHERE];
    const char *where_value[SWEEP_MAX_WHERE];
    char *selected;            /* selected[k]: row k is plotted */
    struct values xs, ss;
    double *val;               /* val[s * xs.n + x]: NAN where no job */
    double ymin, ymax;
};

static int selected(const struct plot *p, const struct row *r)
{
    if (!r->ok)
        return 0;
    for (int i = 0; i < p->o->nwhere; i++)
        if (strcmp(r->labels[p->where[i]], p->where_value[i]))
            return 0;
    return 1;
}

static int name_columns(struct plot *p)
{
    const struct row *h = p->t->first;
    char names[1024];
    size_t n = 0;
    names[0] = '\0';
    for (int i = 1; i < h->nlabels && n < sizeof(names); i++)
        n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i > 1 ? ", " : "", h->names[i]);
    if ((p->x = find_label(h, p->o->x)) < 0)
        return complain("--x %s: not a parameter of the sweep (%s)", p->o->x, names);
    p->series = -1;
    if (p->o->series && (p->series = find_label(h, p->o->series)) < 0)
        return complain("--series %s: not a parameter of the sweep (%s)", p->o->series, names);
    if (p->series == p->x)
        return complain("--series %s is the x axis's parameter too", p->o->series);
    if ((p->y = find_metric(p->o->y)) < 0) {
        char ms[1024];
        size_t k = 0;
        for (int m = 0; (size_t)m < NMETRICS && k < sizeof(ms); m++)
            k += (size_t)snprintf(ms + k, sizeof(ms) - k, "%s%s", m ? ", " : "", metric_name(m));
        return complain("--y %s: not a metric (%s)", p->o->y, ms);
    }
    for (int i = 0; i < p->o->nwhere; i++) {
        const char *w = p->o->where[i], *eq = strchr(w, '=');
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - w), w);
        if ((p->where[i] = find_label(h, name)) < 0)
            return complain("--where %s: '%s' is not a parameter of the sweep (%s)", w, name, names);
        p->where_value[i] = eq + 1;
    }
    return 0;
}

/* Every (series, x) has at most one row, or another parameter varies. */
static int place_points(struct plot *p)
{
    const struct table *t = p->t;
    size_t nx = p->xs.n, ns = p->ss.n ? p->ss.n : 1;
    unsigned long *at = calloc(nx * ns, sizeof(*at));
    if (!(p->val = malloc(nx * ns * sizeof(double))) || !at) {
        free(at);
        return complain("out of memory");
    }
    for (size_t i = 0; i < nx * ns; i++)
        p->val[i] = NAN;
    for (unsigned long k = 0; k < t->njobs; k++) {
        const struct row *r = &t->rows[k];
        if (!p->selected[k])
            continue;
        size_t xi = (size_t)value_index(&p->xs, r->labels[p->x]);
        size_t si = p->series < 0 ? 0 : (size_t)value_index(&p->ss, r->labels[p->series]);
        if (at[si * nx + xi]) {
            const struct row *o = &t->rows[at[si * nx + xi] - 1];
            int i = 1;
            while (i < r->nlabels && !strcmp(r->labels[i], o->labels[i]))
                i++;
            free(at);
            return complain("--plot: jobs %s and %s both fall at %s = %s%s%s: '%s' varies too (%s, "
                            "%s); choose one value with --where %s=VALUE, or make it the --series",
                            o->labels[0], r->labels[0], p->o->x, r->labels[p->x],
                            p->series < 0 ? "" : " in the series ",
                            p->series < 0 ? "" : r->labels[p->series], r->names[i], o->labels[i],
                            r->labels[i], r->names[i]);
        }
        at[si * nx + xi] = k + 1;
        p->val[si * nx + xi] = metric(r, p->y);
    }
    free(at);
    return 0;
}

static int gather(struct plot *p)
{
    const struct table *t = p->t;
    int rc = name_columns(p);
    if (rc)
        return rc;
    p->selected = calloc(t->njobs, 1);
    p->xs.v = calloc(t->njobs, sizeof(char *));
    p->ss.v = calloc(t->njobs, sizeof(char *));
    if (!p->selected || !p->xs.v || !p->ss.v)
        return complain("out of memory");
    for (unsigned long k = 0; k < t->njobs; k++)
        if ((p->selected[k] = (char)selected(p, &t->rows[k]))) {
            add_value(&p->xs, t->rows[k].labels[p->x]);
            if (p->series >= 0)
                add_value(&p->ss, t->rows[k].labels[p->series]);
        }
    if (p->xs.n == 0)
        return complain("--plot: no job's result matches the --where filters");
    if ((rc = place_points(p)))
        return rc;
    p->ymin = INFINITY;
    p->ymax = -INFINITY;
    size_t n = p->xs.n * (p->ss.n ? p->ss.n : 1);
    for (size_t i = 0; i < n; i++)
        if (!isnan(p->val[i]) && (!p->o->log_y || p->val[i] > 0)) {
            p->ymin = fmin(p->ymin, p->val[i]);
            p->ymax = fmax(p->ymax, p->val[i]);
        }
    if (p->ymin > p->ymax)
        return complain("--plot: no value of %s to draw%s", p->o->y,
                        p->o->log_y ? " above 0 (a log axis)" : "");
    return 0;
}

/* Geometry of the picture. */
#define W 760.0
#define H 460.0
#define LEFT 90.0
#define TOP 56.0
#define PW 470.0
#define PH 320.0

static const char *const series_colour[] = {VIEW_BLUE, VIEW_VERMILLION, VIEW_GREEN, VIEW_PURPLE,
                                            VIEW_ORANGE, VIEW_SKY, VIEW_BLACK};
#define NCOLOURS (sizeof(series_colour) / sizeof(series_colour[0]))
static const char *const series_dash[] = {"", "7 4", "2 3", "9 3 2 3"};
#define NDASHES (sizeof(series_dash) / sizeof(series_dash[0]))

/* The y axis: [lo, hi] and its ticks (linear: a 1, 2, 5 step from 0;
 * log: the powers of ten). */
struct axis {
    double lo, hi, step;
    int log;
};

static struct axis y_axis(const struct plot *p)
{
    struct axis a = {.log = p->o->log_y};
    if (a.log) {
        a.lo = pow(10, floor(log10(p->ymin)));
        a.hi = pow(10, ceil(log10(p->ymax)));
        if (a.hi <= a.lo)
            a.hi = a.lo * 10;
        return a;
    }
    a.lo = fmin(0, p->ymin);
    double span = p->ymax - a.lo > 0 ? p->ymax - a.lo : fabs(p->ymax) + 1;
    double raw = span / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    a.step = mag * (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10);
    a.hi = ceil(p->ymax / a.step) * a.step;
    if (a.hi <= a.lo)
        a.hi = a.lo + a.step;
    return a;
}

static double y_pos(const struct axis *a, double v)
{
    double f = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) : (v - a->lo) / (a->hi - a->lo);
    return TOP + PH - PH * f;
}

static double x_pos(const struct plot *p, size_t i)
{
    return p->xs.n == 1 ? LEFT + PW / 2 : LEFT + 20 + (PW - 40) * (double)i / (double)(p->xs.n - 1);
}

static void fmt_num(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.4g", v);
}

static void draw_marker(FILE *f, int shape, double x, double y, const char *colour)
{
    switch (shape % 4) {
    case 0: fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"", x, y, colour); break;
    case 1: fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"", x - 4, y - 4, colour); break;
    case 2: fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"", x, y - 5, x + 5, y + 4, x - 5, y + 4, colour); break;
    default: fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"", x, y - 5, x + 5, y, x, y + 5, x - 5, y, colour);
    }
}

static void draw_axes(FILE *f, const struct plot *p, const struct axis *a)
{
    char num[32];
    if (a->log) {
        for (double v = a->lo; v <= a->hi * 1.0001; v *= 10) {
            double y = y_pos(a, v);
            fmt_num(num, sizeof(num), v);
            fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n"
                       "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    LEFT, LEFT + PW, y, y, VIEW_LIGHT, LEFT - 6, y + 4, num);
        }
    } else {
        for (double v = a->lo; v <= a->hi + a->step / 2; v += a->step) {
            double y = y_pos(a, v);
            fmt_num(num, sizeof(num), fabs(v) < a->step / 1e6 ? 0 : v);
            fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n"
                       "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    LEFT, LEFT + PW, y, y, VIEW_LIGHT, LEFT - 6, y + 4, num);
        }
    }
    /* the frame over the grid lines */
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"%s\"/>\n",
            LEFT, TOP, PW, PH, VIEW_BLACK);
    for (size_t i = 0; i < p->xs.n; i++) {
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\"/>\n"
                   "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
                x_pos(p, i), x_pos(p, i), TOP + PH, TOP + PH + 5, VIEW_BLACK, x_pos(p, i), TOP + PH + 19);
        view_xml_text(f, p->xs.v[i]);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-weight=\"bold\">",
            LEFT + PW / 2, TOP + PH + 42);
    view_xml_text(f, p->o->x);
    fprintf(f, "</text>\n<text transform=\"translate(22 %.0f) rotate(-90)\" text-anchor=\"middle\" "
               "font-weight=\"bold\">", TOP + PH / 2);
    view_xml_text(f, p->o->y);
    fprintf(f, "%s</text>\n", a->log ? " (log scale)" : "");
}

static void draw_series(FILE *f, const struct plot *p, const struct axis *a, size_t s)
{
    const char *colour = series_colour[s % NCOLOURS], *dash = series_dash[(s / NCOLOURS + s) % NDASHES];
    const char *name = p->ss.n ? p->ss.v[s] : p->o->y;
    fputs("<g>\n<title>", f);
    if (p->ss.n) {
        view_xml_text(f, p->o->series);
        fputs(" = ", f);
    }
    view_xml_text(f, name);
    fputs("</title>\n", f);
    /* the line, broken where a job has no value */
    int open = 0;
    for (size_t i = 0; i < p->xs.n; i++) {
        double v = p->val[s * p->xs.n + i];
        if (isnan(v) || (a->log && v <= 0)) {
            if (open)
                fputs("\"/>\n", f);
            open = 0;
            continue;
        }
        if (!open)
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s points=\"",
                    colour, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
        fprintf(f, "%s%.1f,%.1f", open ? " " : "", x_pos(p, i), y_pos(a, v));
        open = 1;
    }
    if (open)
        fputs("\"/>\n", f);
    char num[32];
    for (size_t i = 0; i < p->xs.n; i++) {
        double v = p->val[s * p->xs.n + i];
        if (isnan(v) || (a->log && v <= 0))
            continue;
        draw_marker(f, (int)s, x_pos(p, i), y_pos(a, v), colour);
        fmt_num(num, sizeof(num), v);
        fputs("><title>", f);
        view_xml_text(f, name);
        fputs(", ", f);
        view_xml_text(f, p->o->x);
        fputs(" = ", f);
        view_xml_text(f, p->xs.v[i]);
        fprintf(f, ": %s</title></%s>\n", num, s % 4 == 0 ? "circle" : s % 4 == 1 ? "rect" : "path");
    }
    /* its legend entry */
    double ly = TOP + 10 + 22 * (double)s, lx = LEFT + PW + 20;
    fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n",
            lx, lx + 36, ly, ly, colour, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
    draw_marker(f, (int)s, lx + 18, ly, colour);
    fprintf(f, "/>\n<text x=\"%.0f\" y=\"%.0f\">", lx + 44, ly + 4);
    view_xml_text(f, name);
    fputs("</text>\n</g>\n", f);
}

/* What the plot shows, in words and numbers: its <desc>. */
static void describe(FILE *f, const struct plot *p)
{
    fputs("<desc>A line plot of ", f);
    view_xml_text(f, p->o->y);
    fputs(" against ", f);
    view_xml_text(f, p->o->x);
    if (p->ss.n) {
        fputs(", one line per value of ", f);
        view_xml_text(f, p->o->series);
    }
    for (int i = 0; i < p->o->nwhere; i++) {
        fputs(i ? ", " : ", for ", f);
        view_xml_text(f, p->o->where[i]);
    }
    fputs(".", f);
    char num[32];
    for (size_t s = 0; s < (p->ss.n ? p->ss.n : 1); s++) {
        fputs(" ", f);
        view_xml_text(f, p->ss.n ? p->ss.v[s] : p->o->y);
        fputs(":", f);
        for (size_t i = 0; i < p->xs.n; i++) {
            double v = p->val[s * p->xs.n + i];
            fputs(i ? ", " : " ", f);
            view_xml_text(f, p->xs.v[i]);
            if (isnan(v))
                fputs(" none", f);
            else {
                fmt_num(num, sizeof(num), v);
                fprintf(f, " %s", num);
            }
        }
        fputs(".", f);
    }
    fputs("</desc>\n", f);
}

static int draw(const struct plot *p)
{
    FILE *f = fopen(p->o->plot, "w");
    if (!f)
        return failure("cannot write %s: %s", p->o->plot, strerror(errno));
    struct axis a = y_axis(p);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"title desc\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<title id=\"title\">",
            W, H, W, H);
    view_xml_text(f, p->o->y);
    fputs(" against ", f);
    view_xml_text(f, p->o->x);
    fputs("</title>\n", f);
    describe(f, p);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%.0f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">", LEFT);
    view_xml_text(f, p->o->y);
    fputs(" against ", f);
    view_xml_text(f, p->o->x);
    fprintf(f, "</text>\n<text x=\"%.0f\" y=\"42\">", LEFT);
    for (int i = 0; i < p->o->nwhere; i++) {
        fputs(i ? ", " : "where ", f);
        view_xml_text(f, p->o->where[i]);
    }
    fputs("</text>\n", f);
    draw_axes(f, p, &a);
    if (p->ss.n) { /* the legend's heading */
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">", LEFT + PW + 20, TOP - 6);
        view_xml_text(f, p->o->series);
        fputs("</text>\n", f);
    }
    for (size_t s = 0; s < (p->ss.n ? p->ss.n : 1); s++)
        draw_series(f, p, &a, s);
    fputs("</svg>\n", f);
    if (ferror(f) | fclose(f))
        return failure("cannot write %s", p->o->plot);
    return 0;
}

static int plot(const struct sweep_collect_opts *o, const struct table *t)
{
    struct plot p = {.o = o, .t = t};
    int rc = gather(&p);
    if (!rc)
        rc = draw(&p);
    free(p.selected);
    free(p.xs.v);
    free(p.ss.v);
    free(p.val);
    return rc;
}

/* ---- collect ---- */

int sweep_collect(const struct sweep_collect_opts *o)
{
    struct table t = {0};
    int rc = count_jobs(o->dir, &t.njobs);
    if (rc)
        return rc;
    t.width = sweep_id_width(t.njobs);
    if (!(t.rows = calloc(t.njobs, sizeof(*t.rows))))
        return complain("out of memory");
    for (unsigned long k = 0; k < t.njobs; k++)
        read_job(&t, o->dir, k);
    note_strays(&t, o->dir);
    unsigned long good = t.njobs - t.missing - t.malformed;
    fprintf(stderr, "vmsim sweep: %lu of %lu jobs collected", good, t.njobs);
    if (t.missing || t.malformed)
        fprintf(stderr, "; %lu missing, %lu malformed (named above)", t.missing, t.malformed);
    fputc('\n', stderr);
    if (!t.first)
        rc = failure("%s: no job's result to collect", o->dir);
    if (!rc) {
        FILE *out = !o->csv || !strcmp(o->csv, "-") ? stdout : fopen(o->csv, "w");
        if (!out)
            rc = failure("cannot write %s: %s", o->csv, strerror(errno));
        else {
            write_csv(out, &t);
            if (ferror(out) | (out == stdout ? fflush(out) : fclose(out)))
                rc = failure("cannot write %s", o->csv ? o->csv : "the CSV");
        }
    }
    if (!rc && o->plot)
        rc = plot(o, &t);
    if (!rc && (t.missing || t.malformed))
        rc = CLI_FAILED;
    for (unsigned long k = 0; k < t.njobs; k++)
        row_free(&t.rows[k]);
    free(t.rows);
    return rc;
}
