/*
 * The page of a replay (replay_html.h): its model as JSON, inlined with the
 * report's style and report/replay.js into report/replay.html.
 */
#include "replay_html.h"
#include "text_escape.h"

#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A row of figures, in the order of the model's "columns". */
static void put_figures(FILE *out, const char *scope, const char *name, uint64_t accesses,
                        const struct vms_cpu_stats *c, uint64_t minflt, uint64_t majflt,
                        int64_t pgtables, int64_t resident)
{
    fprintf(out, "[\"%s\",", scope);
    json_write_string(out, name, 1);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
            accesses, c->dtlb_hits + c->itlb_hits, c->dtlb_misses + c->itlb_misses, c->stlb_hits,
            c->stlb_misses, c->page_walks, c->walk_refs,
            c->pde_cache_hits + c->pdpte_cache_hits + c->pml4e_cache_hits, minflt, majflt);
    if (pgtables < 0)
        fputs(",null,null]", out);
    else
        fprintf(out, ",%" PRId64 ",%" PRId64 "]", pgtables, resident);
}

static void put_rows(FILE *out, const struct vmt_replay_result *r)
{
    struct vms_cpu_stats sum;
    vmt_replay_cpu_total(r, &sum);
    put_figures(out, "total", "total", r->accesses, &sum, r->minflt, r->majflt,
                (int64_t)r->stats.pgtable_frames, (int64_t)r->stats.frames_used);
    for (unsigned c = 0; c < r->stats.ncpus; c++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu %u", c);
        fputc(',', out);
        /* the trace runs on CPU 0: its accesses and faults are that CPU's */
        put_figures(out, "cpu", name, c ? 0 : r->accesses, &r->stats.cpu[c], c ? 0 : r->minflt,
                    c ? 0 : r->majflt, -1, -1);
    }
    for (size_t i = 0; i < r->nregions; i++) {
        const struct vmt_region *g = &r->regions[i];
        if (!g->accesses && !g->pgtables && !g->resident)
            continue;
        fputc(',', out);
        put_figures(out, "region", g->name, g->accesses, &g->cpu, g->minflt, g->majflt,
                    (int64_t)g->pgtables, (int64_t)g->resident);
    }
}

/* The LRU curve at 8 sizes an octave (every size where it changes would be
 * as many points as the trace has pages), from 1 page to past the last. */
static void put_curve(FILE *out, const struct lru *l)
{
    fprintf(out, "{\"touches\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"first_touches\":%" PRIu64
                 ",\"points\":[",
            l->touches, l->pages, l->cold);
    uint64_t last = 0;
    int first = 1;
    for (int k = 0;; k++) {
        double x = 1.0;
        for (int j = 0; j < k / 8; j++)
            x *= 2;
        static const double step[8] = {1.0, 1.0905, 1.1892, 1.2968, 1.4142, 1.5422, 1.6818, 1.8340};
        uint64_t p = (uint64_t)(x * step[k % 8] + 0.5);
        if (p <= last)
            continue;
        last = p;
        uint64_t m = lru_misses(l, p);
        fprintf(out, "%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", p, m);
        first = 0;
        if (m == 0 || p > l->pages)
            break;
    }
    fputs("]}", out);
}

int replay_write_model(FILE *out, const char *trace, const char *exec,
                       const struct vmt_replay_result *r, const struct ram_run *runs, int nruns)
{
    fputs("{\"v\":1,\"generator\":\"vmsim " VMSIM_VERSION "\",\"trace\":", out);
    json_write_string(out, trace, 1);
    fputs(",\"exec\":", out);
    if (exec)
        json_write_string(out, exec, 1);
    else
        fputs("null", out);
    fprintf(out, ",\"head\":{\"records\":%" PRIu64 ",\"accesses\":%" PRIu64 ",\"mm_calls\":%" PRIu64
                 ",\"mm_differ\":%" PRIu64 ",\"vmas_made\":%" PRIu64 ",\"signals\":%" PRIu64
                 ",\"oom_killed\":%s,\"frames_total\":%" PRIu64 ",\"ncpus\":%u}",
            r->records, r->accesses, r->mm_calls, r->mm_differ, r->vmas_made, r->signals,
            r->oom_killed ? "true" : "false", r->stats.frames_total, r->stats.ncpus);
    fputs(",\"columns\":[\"scope\",\"name\",\"accesses\",\"l1_hits\",\"l1_misses\",\"l2_hits\","
          "\"l2_misses\",\"walks\",\"walk_refs\",\"psc_hits\",\"minflt\",\"majflt\",\"pgtables\","
          "\"resident_pages\"],\"rows\":[", out);
    put_rows(out, r);
    fputs("],\"samples\":[", out);
    for (size_t i = 0; i < r->nsamples; i++) {
        const struct vmt_sample *s = &r->samples[i];
        fprintf(out, "%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]",
                i ? "," : "", s->access, s->frames_used, s->cache_frames, s->pgtable_frames,
                s->minflt, s->majflt);
    }
    fputs("],\"native\":", out);
    if (r->has_native)
        fprintf(out, "{\"minflt\":%" PRIu64 ",\"majflt\":%" PRIu64 "}", r->native_minflt,
                r->native_majflt);
    else
        fputs("null", out);
    fputs(",\"lru\":", out);
    if (r->has_lru)
        put_curve(out, &r->lru);
    else
        fputs("null", out);
    fputs(",\"ram\":[", out);
    for (int i = 0; i < nruns; i++)
        fprintf(out, "%s{\"bytes\":%" PRIu64 ",\"majflt\":%" PRIu64 ",\"minflt\":%" PRIu64
                     ",\"pswpin\":%" PRIu64 ",\"pswpout\":%" PRIu64 ",\"lru_misses\":%" PRIu64
                     ",\"oom\":%s,\"failed\":%s}",
                i ? "," : "", runs[i].bytes, runs[i].majflt, runs[i].minflt, runs[i].pswpin,
                runs[i].pswpout, r->has_lru ? lru_misses(&r->lru, runs[i].bytes / 4096) : 0,
                runs[i].oom ? "true" : "false", runs[i].failed ? "true" : "false");
    fputs("]}", out);
    return ferror(out) ? -1 : 0;
}

int replay_save_html(const char *path, const char *trace, const char *exec,
                     const struct vmt_replay_result *r, const struct ram_run *runs, int nruns)
{
    char *model = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&model, &len);
    int rc = m ? replay_write_model(m, trace, exec, r, runs, nruns) : -1;
    if (m && fclose(m) != 0)
        rc = -1;
    FILE *out = rc == 0 ? fopen(path, "w") : NULL;
    int err = out ? 0 : rc ? ENOMEM : errno;
    if (out) {
        report_fill_template(out, report_asset_replay_html, report_asset_replay_js, model, len);
        if (ferror(out))
            err = EIO;
        if (fclose(out) != 0 && !err)
            err = EIO;
        if (err)
            remove(path);
    }
    free(model);
    if (err)
        fprintf(stderr, "vmsim replay: cannot write %s: %s\n", path, strerror(err));
    return err ? -1 : 0;
}
