/*
 * replay_cmd.c - `vmsim replay FILE [options]`: a .vmt trace on a machine
 * (tools/trace/replay.c) and its figures: per CPU, in total and per region,
 * resident memory over time, the faults beside the native run's, and the
 * memory-size curve (reuse distances under exact LRU beside vmsim's own
 * reclaim at chosen RAM sizes), as text, JSON lines, an SVG plot or an
 * HTML page of plots (replay_html.c).
 */
#include "cli.h"
#include "difftest.h"
#include "replay.h"
#include "replay_html.h"
#include "text_escape.h"
#include "vmsim_host.h"
#include "vmt.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RAM 32
#define MAX_LABELS 64

struct options {
    const char *trace;
    int json, quiet, regions, lru, profile;
    const char *svg, *html, *out;
    uint64_t ram[MAX_RAM];
    int nram;
    const char *labels[MAX_LABELS]; /* "NAME=VALUE" */
    int nlabels;
    struct vmt_replay_opts ro;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsim replay FILE [options]\n\n"
            "Runs a .vmt trace (vmsim record, vmsim convert) on a machine: the recorded\n"
            "exec image, its mm calls at the traced addresses, then every access; reports\n"
            "per CPU, in total and per region (text, data, bss, heap, stack, each library,\n"
            "each mmap): L1 and L2 TLB hits and misses, walks and walk references, minor\n"
            "and major faults, page-table pages, resident memory over time; the faults\n"
            "beside the recorded program's native run; and the major faults at every RAM\n"
            "size under exact LRU (one reuse-distance pass), beside vmsim's own reclaim.\n\n"
            "  --json             JSON lines on stdout (docs/traces.md) instead of text\n"
            "  --ram SIZES        replay again with this RAM each (16M,32M,...; swap on)\n"
            "  --svg FILE         the memory-size curve as an SVG plot\n"
            "  --html FILE        a self-contained page of plots: resident memory over time,\n"
            "                     TLB hits and misses and faults per region, the memory-size\n"
            "                     curve (docs/traces.md)\n"
            "  --no-regions       no split by region (faster)\n"
            "  --no-lru           no reuse-distance pass\n"
            "  --phys SIZE        RAM of the machine (default 1G)\n"
            "  --swap SIZE        swap space (default 0; --ram runs: 4G)\n"
            "  --dtlb E:W, --itlb E:W, --stlb E:W   TLB entries and ways\n"
            "  --pde-cache E:W, --pdpte-cache E:W, --pml4e-cache E:W\n"
            "                     paging-structure caches' entries and ways (0:0: none)\n"
            "  --levels 4|5       page-table levels\n"
            "  --pcid             tag TLB entries with PCIDs\n"
            "  --ncpus N          CPUs (the trace runs on CPU 0)\n"
            "  --set FIELD=VALUE  any field of the machine's config (dtlb.ways=8, zero_page=0)\n"
            "  --profile          this host's profile (zero page, readahead, sysctls)\n"
            "  --label NAME=VALUE carried into the output (--json: a \"label\" line first)\n"
            "  -o FILE            write the report to FILE (FILE.part until it is whole)\n"
            "  -q, --quiet        no notes on what the replay made up\n"
            "  -h, --help         show this help\n");
}

static int parse_size(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    int shift = 0;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    }
    if (errno || end == s || *end || s[0] == '-' || (shift && x > (UINT64_MAX >> shift)))
        return -1;
    *v = (uint64_t)x << shift;
    return 0;
}

/* ENTRIES:WAYS, decimal digits only. */
static int parse_tlb(const char *s, struct vms_tlb_geometry *g)
{
    unsigned long v[2];
    for (int i = 0; i < 2; i++) {
        char *end;
        if (!isdigit((unsigned char)*s))
            return -1;
        errno = 0;
        v[i] = strtoul(s, &end, 10);
        if (errno || v[i] > UINT_MAX || *end != (i ? '\0' : ':'))
            return -1;
        s = end + 1;
    }
    g->entries = (unsigned)v[0];
    g->ways = (unsigned)v[1];
    return 0;
}

static int parse_ram(struct options *o, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && rc == 0;
         tok = strtok_r(NULL, ",", &save))
        rc = o->nram < MAX_RAM && parse_size(tok, &o->ram[o->nram]) == 0 && o->ram[o->nram] ? 0 : -1,
        o->nram += rc == 0;
    free(copy);
    return rc;
}

/* The options that set the machine's config: --phys, --swap, --dtlb,
 * --itlb, --stlb, --pde-cache, --pdpte-cache, --pml4e-cache, --levels,
 * --ncpus, --set. Shared with `vmsim sweep`, which checks a grid's values
 * with the parsers its jobs will meet. */
int replay_config_option(struct vms_config *c, const char *opt, const char *value, char *err,
                         size_t errlen)
{
    static const struct {
        const char *opt;
        size_t offset;
    } tlbs[] = {
        {"--dtlb", offsetof(struct vms_config, dtlb)},
        {"--itlb", offsetof(struct vms_config, itlb)},
        {"--stlb", offsetof(struct vms_config, stlb)},
        {"--pde-cache", offsetof(struct vms_config, pde_cache)},
        {"--pdpte-cache", offsetof(struct vms_config, pdpte_cache)},
        {"--pml4e-cache", offsetof(struct vms_config, pml4e_cache)},
    };
    uint64_t n;
    snprintf(err, errlen, "bad value '%s' for %s", value, opt);
    for (size_t i = 0; i < sizeof(tlbs) / sizeof(tlbs[0]); i++)
        if (!strcmp(opt, tlbs[i].opt)) {
            struct vms_tlb_geometry g;
            if (parse_tlb(value, &g))
                return snprintf(err, errlen, "bad value '%s' for %s: ENTRIES:WAYS expected", value,
                                opt), -1;
            memcpy((char *)c + tlbs[i].offset, &g, sizeof(g));
            return 0;
        }
    if (!strcmp(opt, "--phys"))
        return parse_size(value, &c->phys_bytes);
    if (!strcmp(opt, "--swap"))
        return parse_size(value, &c->swap_bytes);
    if (!strcmp(opt, "--levels")) {
        if (parse_size(value, &n) || n > 5)
            return -1;
        c->pgtable_levels = (int)n;
        return 0;
    }
    if (!strcmp(opt, "--ncpus")) {
        if (parse_size(value, &n) || n > VMS_MAX_CPUS)
            return -1;
        c->ncpus = (unsigned)n;
        return 0;
    }
    if (!strcmp(opt, "--set")) {
        struct dt_setting st;
        char why[1536];
        if (dt_setting_parse(value, &st, why, sizeof(why)))
            return snprintf(err, errlen, "--set %s", why), -1;
        dt_setting_apply(&st, c);
        return 0;
    }
    snprintf(err, errlen, "'%s' is no option of the machine's config", opt);
    return -2;
}

static int bad(const char *why)
{
    fprintf(stderr, "vmsim replay: %s\nTry 'vmsim replay --help'.\n", why);
    return CLI_USAGE;
}

static int takes_value(const char *a)
{
    static const char *const with[] = {"--ram", "--svg", "--html", "--phys", "--swap", "--dtlb", "--itlb",
                                       "--stlb", "--levels", "--ncpus", "--pde-cache",
                                       "--pdpte-cache", "--pml4e-cache", "--set", "--label", "-o"};
    for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++)
        if (strcmp(a, with[i]) == 0)
            return 1;
    return 0;
}

/* NAME=VALUE, NAME of letters, digits, '_', '.' and '-'. */
static int label_ok(const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return 0;
    for (const char *p = s; p < eq; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

static int parse_args(struct options *o, int argc, char **argv)
{
    struct vms_config *c = &o->ro.config;
    char why[2048];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "--no-regions")) o->regions = 0;
        else if (!strcmp(a, "--no-lru")) o->lru = 0;
        else if (!strcmp(a, "--pcid")) c->pcid = 1;
        else if (!strcmp(a, "--profile")) o->profile = 1;
        else if (takes_value(a) && !v) {
            snprintf(why, sizeof(why), "missing value for '%s'", a);
            return bad(why);
        } else if (!strcmp(a, "--svg")) o->svg = argv[++i];
        else if (!strcmp(a, "--html")) o->html = argv[++i];
        else if (!strcmp(a, "-o")) o->out = argv[++i];
        else if (!strcmp(a, "--ram")) {
            if (parse_ram(o, argv[++i]))
                return snprintf(why, sizeof(why), "bad value '%s' for %s", v, a), bad(why);
        } else if (!strcmp(a, "--label")) {
            if (!label_ok(v) || o->nlabels == MAX_LABELS)
                return snprintf(why, sizeof(why), "bad --label '%s': NAME=VALUE, at most %d", v,
                                MAX_LABELS), bad(why);
            o->labels[o->nlabels++] = argv[++i];
        } else if (takes_value(a)) {
            if (replay_config_option(c, a, argv[++i], why, sizeof(why)))
                return bad(why);
        } else if (a[0] == '-' && a[1]) {
            snprintf(why, sizeof(why), "unknown option '%s'", a);
            return bad(why);
        } else if (!o->trace) o->trace = a;
        else {
            snprintf(why, sizeof(why), "one trace only, not '%s'", a);
            return bad(why);
        }
    }
    if (!o->trace)
        return bad("missing the trace FILE");
    return 0;
}

/* ---- figures ---- */

struct figures {
    uint64_t accesses, l1_hits, l1_misses, l2_hits, l2_misses, walks, walk_refs, psc_hits;
    uint64_t dtlb_hits, dtlb_misses, itlb_hits, itlb_misses; /* the L1 figures split (JSON only) */
    uint64_t minflt, majflt, pgtables, resident;
};

static void from_cpu(struct figures *f, const struct vms_cpu_stats *c)
{
    f->dtlb_hits = c->dtlb_hits;
    f->dtlb_misses = c->dtlb_misses;
    f->itlb_hits = c->itlb_hits;
    f->itlb_misses = c->itlb_misses;
    f->l1_hits = c->dtlb_hits + c->itlb_hits;
    f->l1_misses = c->dtlb_misses + c->itlb_misses;
    f->l2_hits = c->stlb_hits;
    f->l2_misses = c->stlb_misses;
    f->walks = c->page_walks;
    f->walk_refs = c->walk_refs;
    f->psc_hits = c->pde_cache_hits + c->pdpte_cache_hits + c->pml4e_cache_hits;
}

/* A CPU's row leaves out what belongs to no CPU (page tables, resident): NA. */
#define NA UINT64_MAX

static void print_num(FILE *out, int json, const char *key, uint64_t v, int width)
{
    if (json)
        fprintf(out, v == NA ? ",\"%s\":null" : ",\"%s\":%" PRIu64, key, v);
    else if (v == NA)
        fprintf(out, " %*s", width, "-");
    else
        fprintf(out, " %*" PRIu64, width, v);
}

static void print_row(FILE *out, int json, const char *scope, const char *name,
                      const struct figures *f)
{
    if (json) {
        fprintf(out, "{\"v\":1,\"type\":\"figures\",\"scope\":\"%s\",\"name\":", scope);
        json_write_string(out, name, 0);
    } else
        fprintf(out, "%-22.22s", name);
    print_num(out, json, "accesses", f->accesses, 11);
    print_num(out, json, "l1_hits", f->l1_hits, 11);
    print_num(out, json, "l1_misses", f->l1_misses, 9);
    print_num(out, json, "l2_hits", f->l2_hits, 9);
    print_num(out, json, "l2_misses", f->l2_misses, 8);
    print_num(out, json, "walks", f->walks, 8);
    print_num(out, json, "walk_refs", f->walk_refs, 9);
    print_num(out, json, "psc_hits", f->psc_hits, 8);
    print_num(out, json, "minflt", f->minflt, 7);
    print_num(out, json, "majflt", f->majflt, 7);
    print_num(out, json, "pgtables", f->pgtables, 8);
    print_num(out, json, "resident_pages", f->resident, 9);
    if (json) {
        print_num(out, json, "dtlb_hits", f->dtlb_hits, 0);
        print_num(out, json, "dtlb_misses", f->dtlb_misses, 0);
        print_num(out, json, "itlb_hits", f->itlb_hits, 0);
        print_num(out, json, "itlb_misses", f->itlb_misses, 0);
    }
    fputs(json ? "}\n" : "\n", out);
}

static void report_figures(FILE *out, const struct options *o, const struct vmt_replay_result *r)
{
    if (!o->json)
        fprintf(out, "\n%-22s %11s %11s %9s %9s %8s %8s %9s %8s %7s %7s %8s %9s\n", "", "accesses",
                "L1 hits", "L1 miss", "L2 hits", "L2 miss", "walks", "walk refs", "PSC hits",
                "minflt", "majflt", "pgtables", "resident");
    struct figures f = {.accesses = r->accesses, .minflt = r->minflt, .majflt = r->majflt,
                        .pgtables = r->stats.pgtable_frames, .resident = r->stats.frames_used};
    struct vms_cpu_stats sum;
    vmt_replay_cpu_total(r, &sum);
    from_cpu(&f, &sum);
    print_row(out, o->json, "total", "total", &f);
    for (unsigned c = 0; c < r->stats.ncpus; c++) {
        /* the trace runs on CPU 0: its accesses and faults are that CPU's */
        struct figures fc = {.accesses = c == 0 ? r->accesses : 0, .minflt = c == 0 ? r->minflt : 0,
                             .majflt = c == 0 ? r->majflt : 0, .pgtables = NA, .resident = NA};
        from_cpu(&fc, &r->stats.cpu[c]);
        char name[16];
        snprintf(name, sizeof(name), "cpu %u", c);
        print_row(out, o->json, "cpu", name, &fc);
    }
    for (size_t i = 0; i < r->nregions; i++) {
        const struct vmt_region *g = &r->regions[i];
        if (!g->accesses && !g->pgtables && !g->resident)
            continue;
        struct figures fr = {.accesses = g->accesses, .minflt = g->minflt, .majflt = g->majflt,
                             .pgtables = g->pgtables, .resident = g->resident};
        from_cpu(&fr, &g->cpu);
        print_row(out, o->json, "region", g->name, &fr);
    }
    if (!o->json)
        fprintf(out, "(total resident: frames in use, page tables and page cache included; a\n"
                     " region's: its pages resident at the end, mincore)\n");
}

static void report_samples(FILE *out, const struct options *o, const struct vmt_replay_result *r)
{
    if (!o->json && r->nsamples)
        fprintf(out, "\nresident memory over time (frames of 4 KiB):\n%14s %10s %10s %10s %9s %9s\n",
                "accesses", "in use", "page cache", "pgtables", "minflt", "majflt");
    size_t step = o->json || r->nsamples <= 16 ? 1 : r->nsamples / 16;
    for (size_t i = 0; i < r->nsamples; i += step) {
        const struct vmt_sample *s = &r->samples[i];
        if (o->json)
            fprintf(out, "{\"v\":1,\"type\":\"sample\",\"access\":%" PRIu64 ",\"frames_used\":%" PRIu64
                         ",\"cache_frames\":%" PRIu64 ",\"pgtable_frames\":%" PRIu64
                         ",\"minflt\":%" PRIu64 ",\"majflt\":%" PRIu64 "}\n",
                    s->access, s->frames_used, s->cache_frames, s->pgtable_frames, s->minflt, s->majflt);
        else
            fprintf(out, "%14" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
                    s->access, s->frames_used, s->cache_frames, s->pgtable_frames, s->minflt, s->majflt);
        for (size_t k = 0; o->json && k < r->nregion_samples; k++)
            if (r->region_samples[k].sample == i) {
                fprintf(out, "{\"v\":1,\"type\":\"region_sample\",\"access\":%" PRIu64 ",\"name\":",
                        s->access);
                json_write_string(out, r->regions[r->region_samples[k].region].name, 0);
                fprintf(out, ",\"resident_pages\":%" PRIu64 "}\n", r->region_samples[k].resident);
            }
        if (i + step >= r->nsamples && i != r->nsamples - 1)
            i = r->nsamples - 1 - step;
    }
}

static void report_native(FILE *out, const struct options *o, const struct vmt_replay_result *r)
{
    if (!r->has_native)
        return;
    uint64_t replay = r->minflt + r->majflt, native = r->native_minflt + r->native_majflt;
    double ratio = native ? (double)replay / (double)native : 0;
    if (o->json)
        fprintf(out, "{\"v\":1,\"type\":\"native\",\"native_minflt\":%" PRIu64 ",\"native_majflt\":%" PRIu64
                     ",\"replay_minflt\":%" PRIu64 ",\"replay_majflt\":%" PRIu64 ",\"ratio\":%.3f}\n",
                r->native_minflt, r->native_majflt, r->minflt, r->majflt, ratio);
    else
        fprintf(out, "\nfaults: replayed %" PRIu64 " minor + %" PRIu64 " major = %" PRIu64
                     "; natively %" PRIu64 " + %" PRIu64 " = %" PRIu64 "; ratio %.2f\n",
                r->minflt, r->majflt, replay, r->native_minflt, r->native_majflt, native, ratio);
}

/* ---- the memory-size curve ---- */

static void print_size(char *buf, size_t len, uint64_t bytes)
{
    const char *u = "KMGT";
    double v = (double)bytes / 1024;
    int i = 0;
    while (v >= 1024 && i < 3)
        v /= 1024, i++;
    snprintf(buf, len, v == (double)(uint64_t)v ? "%.0f%c" : "%.1f%c", v, u[i]);
}

static void report_curve(FILE *out, const struct options *o, const struct vmt_replay_result *r,
                         const struct ram_run *runs, int nruns)
{
    if (!r->has_lru)
        return;
    const struct lru *l = &r->lru;
    if (o->json) {
        /* every size where the count changes: the whole curve */
        uint64_t prev = UINT64_MAX;
        for (uint64_t p = 1; p <= l->hlen + 1 && p <= l->pages + 1; p++) {
            uint64_t m = lru_misses(l, p);
            if (m != prev)
                fprintf(out, "{\"v\":1,\"type\":\"lru\",\"pages\":%" PRIu64 ",\"misses\":%" PRIu64
                             ",\"first_touches\":%" PRIu64 "}\n", p, m, l->cold);
            prev = m;
            if (m == 0)
                break;
        }
        for (int i = 0; i < nruns; i++)
            fprintf(out, "{\"v\":1,\"type\":\"ram\",\"bytes\":%" PRIu64 ",\"majflt\":%" PRIu64
                         ",\"minflt\":%" PRIu64 ",\"pswpin\":%" PRIu64 ",\"pswpout\":%" PRIu64
                         ",\"lru_misses\":%" PRIu64 ",\"oom\":%d}\n",
                    runs[i].bytes, runs[i].majflt, runs[i].minflt, runs[i].pswpin, runs[i].pswpout,
                    lru_misses(l, runs[i].bytes / 4096), runs[i].oom);
        return;
    }
    fprintf(out, "\nmemory-size curve: %" PRIu64 " page touches, %" PRIu64 " distinct pages (first touches)\n"
                 "%10s %12s %12s   %s\n", l->touches, l->pages, "RAM", "LRU misses", "vmsim majflt",
            "(LRU: touches again of a page evicted since, exact LRU over the trace's pages)");
    uint64_t top = 1;
    while (top < l->pages)
        top *= 2;
    double maxm = (double)lru_misses(l, 1);
    for (uint64_t p = 1; p <= top; p *= 2) {
        char size[16], bar[41];
        print_size(size, sizeof(size), p * 4096);
        uint64_t m = lru_misses(l, p);
        int n = maxm > 0 ? (int)(40.0 * (double)m / maxm + 0.5) : 0;
        memset(bar, '#', (size_t)n);
        bar[n] = 0;
        fprintf(out, "%10s %12" PRIu64 " %12s   %s\n", size, m, "", bar);
    }
    for (int i = 0; i < nruns; i++) {
        char size[16], v[32];
        print_size(size, sizeof(size), runs[i].bytes);
        if (runs[i].failed)
            snprintf(v, sizeof(v), "failed");
        else
            snprintf(v, sizeof(v), "%" PRIu64 "%s", runs[i].majflt, runs[i].oom ? " oom" : "");
        fprintf(out, "%10s %12" PRIu64 " %12s   (vmsim, %" PRIu64 " pages swapped in, %" PRIu64 " out)\n",
                size, lru_misses(l, runs[i].bytes / 4096), v, runs[i].pswpin, runs[i].pswpout);
    }
}

/* The curve as an SVG: x log2 of RAM, y misses; LRU as a line, vmsim as dots. */
static int write_svg(const char *path, const struct vmt_replay_result *r, const struct ram_run *runs,
                     int nruns)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const struct lru *l = &r->lru;
    uint64_t top = 1;
    while (top < l->pages || top < 2)
        top *= 2;
    for (int i = 0; i < nruns; i++)
        while (top < runs[i].bytes / 4096)
            top *= 2;
    double maxm = 1;
    for (int i = 0; i < nruns; i++)
        if ((double)runs[i].majflt > maxm)
            maxm = (double)runs[i].majflt;
    if ((double)lru_misses(l, 1) > maxm)
        maxm = (double)lru_misses(l, 1);
    double lx = 0, W = 640, H = 400, X0 = 70, Y0 = 30, PW = 540, PH = 320;
    for (uint64_t t = top; t > 1; t /= 2)
        lx++;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%.0f\" y=\"18\">misses against RAM size (LRU line, vmsim dots)</text>\n"
               "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n",
            W, H, X0, X0, Y0, PW, PH);
    for (int i = 0; i <= (int)lx; i += lx > 10 ? 2 : 1) {
        char size[16];
        print_size(size, sizeof(size), (4096ull << i));
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                X0 + PW * i / (lx ? lx : 1), Y0 + PH + 16, size);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>\n"
               "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>\n",
            X0 - 4, Y0 + 8, maxm, X0 - 4, Y0 + PH);
    fprintf(f, "<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"");
    for (uint64_t p = 1, i = 0; p <= top; p *= 2, i++)
        fprintf(f, "%.1f,%.1f ", X0 + PW * (double)i / (lx ? lx : 1),
                Y0 + PH - PH * (double)lru_misses(l, p) / maxm);
    fprintf(f, "\"/>\n");
    for (int i = 0; i < nruns; i++) {
        double x = 0;
        for (uint64_t t = runs[i].bytes / 4096; t > 1; t /= 2)
            x++;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"firebrick\"/>\n",
                X0 + PW * x / (lx ? lx : 1), Y0 + PH - PH * (double)runs[i].majflt / maxm);
    }
    fprintf(f, "</svg>\n");
    return fclose(f);
}

/* ---- running ---- */

static FILE *open_trace(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        fprintf(stderr, "vmsim replay: %s: %s\n", path, strerror(errno));
    return f;
}

static void ram_runs(const struct options *o, struct ram_run *runs)
{
    for (int i = 0; i < o->nram; i++) {
        struct vmt_replay_opts ro = o->ro;
        ro.config.phys_bytes = o->ram[i];
        if (!ro.config.swap_bytes)
            ro.config.swap_bytes = 4ull << 30;
        ro.by_region = 0;
        ro.samples = 0;
        ro.lru = 0;
        ro.notes = NULL;
        struct vmt_replay_result res;
        char err[256];
        FILE *f = open_trace(o->trace);
        runs[i].bytes = o->ram[i];
        if (!f || vmt_replay(f, &ro, &res, err, sizeof(err)) < 0) {
            if (f)
                fprintf(stderr, "vmsim replay: --ram %" PRIu64 ": %s\n", o->ram[i], err);
            runs[i].failed = 1;
        }
        if (f) {
            runs[i].minflt = res.minflt;
            runs[i].majflt = res.majflt;
            runs[i].pswpin = res.stats.vm.pswpin;
            runs[i].pswpout = res.stats.vm.pswpout;
            runs[i].oom = res.oom_killed;
            vmt_replay_result_free(&res);
            if (f != stdin)
                fclose(f);
        }
    }
}

static void report_head(FILE *out, const struct options *o, const struct vmt_replay_result *r,
                        const char *exec)
{
    if (o->json) {
        fprintf(out, "{\"v\":1,\"type\":\"replay\",\"trace\":");
        json_write_string(out, o->trace, 0);
        fprintf(out, ",\"exec\":");
        if (exec)
            json_write_string(out, exec, 0);
        else
            fputs("null", out);
        fprintf(out, ",\"exec_done\":%s,\"records\":%" PRIu64 ",\"accesses\":%" PRIu64
                     ",\"mm_calls\":%" PRIu64 ",\"mm_differ\":%" PRIu64 ",\"vmas_made\":%" PRIu64
                     ",\"signals\":%" PRIu64 ",\"oom_killed\":%s}\n",
                r->exec_done ? "true" : "false", r->records, r->accesses, r->mm_calls, r->mm_differ,
                r->vmas_made, r->signals, r->oom_killed ? "true" : "false");
        return;
    }
    fprintf(out, "replay of %s%s%s: %" PRIu64 " records, %" PRIu64 " accesses, %" PRIu64
                 " mm calls (%" PRIu64 " with another result), %" PRIu64 " VMAs made for untouched"
                 " memory, %" PRIu64 " accesses raised a signal%s\n",
            o->trace, exec ? " of " : "", exec ? exec : "", r->records, r->accesses, r->mm_calls,
            r->mm_differ, r->vmas_made, r->signals,
            r->oom_killed ? "; the OOM killer ended the process" : "");
}

static void report_labels(FILE *out, const struct options *o)
{
    for (int i = 0; i < o->nlabels; i++) {
        const char *eq = strchr(o->labels[i], '=');
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - o->labels[i]), o->labels[i]);
        if (o->json) {
            fprintf(out, "{\"v\":1,\"type\":\"label\",\"name\":");
            json_write_string(out, name, 0);
            fprintf(out, ",\"value\":");
            json_write_string(out, eq + 1, 0);
            fprintf(out, "}\n");
        } else
            fprintf(out, "%s%s = %s%s", i ? ", " : "labels: ", name, eq + 1,
                    i == o->nlabels - 1 ? "\n" : "");
    }
}

/* -o FILE: the report goes to FILE.part, renamed to FILE once whole, so
 * that a FILE is never a cut report (a sweep's collector trusts it). */
static FILE *open_output(const struct options *o, char **part)
{
    *part = NULL;
    if (!o->out)
        return stdout;
    size_t len = strlen(o->out) + sizeof(".part");
    *part = malloc(len);
    if (!*part)
        return NULL;
    snprintf(*part, len, "%s.part", o->out);
    FILE *f = fopen(*part, "w");
    if (!f)
        fprintf(stderr, "vmsim replay: cannot write %s: %s\n", *part, strerror(errno));
    return f;
}

static int close_output(const struct options *o, FILE *out, const char *part, int failed)
{
    if (out == stdout)
        return fflush(stdout) == 0 ? failed : CLI_FAILED;
    if (fclose(out) != 0) {
        fprintf(stderr, "vmsim replay: cannot write %s: %s\n", part, strerror(errno));
        return CLI_FAILED;
    }
    if (failed) {
        fprintf(stderr, "vmsim replay: the report is left in %s\n", part);
        return failed;
    }
    if (rename(part, o->out) != 0) {
        fprintf(stderr, "vmsim replay: cannot rename %s to %s: %s\n", part, o->out, strerror(errno));
        return CLI_FAILED;
    }
    return CLI_OK;
}

int replay_main(int argc, char **argv)
{
    struct options o = {.regions = 1, .lru = 1};
    vmt_replay_opts_init(&o.ro);
    o.ro.config.root = "/";
    int rc = parse_args(&o, argc, argv);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (o.profile) {
        struct host_profile p;
        host_profile_read(&p, ".");
        host_profile_apply(&p, &o.ro.config);
    }
    char msg[256];
    if (vms_config_check(&o.ro.config, msg, sizeof(msg))) {
        char why[300];
        snprintf(why, sizeof(why), "the machine's config: %s", msg);
        return bad(why);
    }
    o.ro.by_region = o.regions;
    o.ro.lru = o.lru;
    o.ro.notes = o.quiet ? NULL : stderr;
    FILE *f = open_trace(o.trace);
    if (!f)
        return CLI_FAILED;
    char *part;
    FILE *out = open_output(&o, &part);
    if (!out) {
        free(part);
        if (f != stdin)
            fclose(f);
        return CLI_FAILED;
    }
    struct vmt_replay_result res;
    char err[256];
    int failed = vmt_replay(f, &o.ro, &res, err, sizeof(err)) < 0;
    char *exec = NULL;
    if (f != stdin) { /* the exec image's name, for the report */
        rewind(f);
        struct vmt_reader *rd = vmt_reader_open(f, err + 128, 128);
        const char *e = rd ? vmt_meta_get(&vmt_reader_header(rd)->meta, "exec") : NULL;
        exec = e ? strdup(e) : NULL;
        vmt_reader_close(rd);
        fclose(f);
    }
    if (failed)
        fprintf(stderr, "vmsim replay: %s: %s\n", o.trace, err);
    struct ram_run runs[MAX_RAM] = {0};
    if (!failed && o.nram)
        ram_runs(&o, runs);
    if (failed && res.records == 0) { /* nothing replayed: the error says it all */
        free(exec);
        vmt_replay_result_free(&res);
        if (out != stdout) { /* no report at all: no file either */
            fclose(out);
            remove(part);
        }
        free(part);
        return CLI_FAILED;
    }
    report_labels(out, &o);
    report_head(out, &o, &res, exec);
    report_figures(out, &o, &res);
    report_samples(out, &o, &res);
    report_native(out, &o, &res);
    report_curve(out, &o, &res, runs, o.nram);
    if (o.svg && res.has_lru && write_svg(o.svg, &res, runs, o.nram) != 0) {
        fprintf(stderr, "vmsim replay: %s: %s\n", o.svg, strerror(errno));
        failed = 1;
    }
    if (o.html && replay_save_html(o.html, o.trace, exec, &res, runs, o.nram) != 0)
        failed = 1;
    free(exec);
    vmt_replay_result_free(&res);
    rc = close_output(&o, out, part, failed ? CLI_FAILED : CLI_OK);
    free(part);
    return rc;
}
