/*
 * shrink.c - reduces a diverging sequence to a small one that still
 * diverges in the same aspect (return value, maps, faults, ...): first by
 * dropping ever smaller chunks of operations (delta debugging), then by
 * simplifying the arguments of the ones left (shorter lengths, fewer flags,
 * aligned addresses), then by dropping single operations once more.
 * Every candidate is run afresh on both sides.
 */
#include "difftest.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_VARIANTS 24

/* Does cand still diverge in the aspect? Then it is cut after the
 * diverging step and *d describes the difference. */
static int still_diverges(const struct dt_config *cfg, struct dt_seq *cand, int aspect, struct dt_diff *d)
{
    if (cand->n == 0)
        return 0;
    int rc = dt_run(cfg, cand, NULL, 0, d, NULL);
    if (rc == 0 || d->aspect != aspect)
        return 0;
    if (d->step + 1 < cand->n)
        cand->n = d->step + 1;
    return 1;
}

static void seq_copy(struct dt_seq *dst, const struct dt_seq *src)
{
    dst->n = 0;
    for (int i = 0; i < src->n; i++)
        dt_seq_push(dst, &src->ops[i]);
}

/* Drop chunks of `chunk` ops, halving the chunk size when none can go. */
static void drop_chunks(const struct dt_config *cfg, struct dt_seq *seq, int aspect, struct dt_diff *d,
                        struct dt_diff *scratch)
{
    struct dt_seq cand = {0};
    for (int chunk = seq->n / 2 > 0 ? seq->n / 2 : 1; chunk >= 1;) {
        int progress = 0;
        for (int start = 0; start < seq->n;) {
            cand.n = 0;
            for (int i = 0; i < seq->n; i++)
                if (i < start || i >= start + chunk)
                    dt_seq_push(&cand, &seq->ops[i]);
            if (still_diverges(cfg, &cand, aspect, scratch)) {
                seq_copy(seq, &cand);
                *d = *scratch;
                progress = 1;
            } else {
                start += chunk;
            }
        }
        if (!progress)
            chunk /= 2;
    }
    dt_seq_free(&cand);
}

/* Shorter forms of op's length (one page, then half of it) into out; how
 * many. */
static int shorter(const struct dt_op *op, struct dt_op *out)
{
    if (op->len <= DT_PAGE || op->len > DT_WINDOW_SIZE)
        return 0;
    out[0] = out[1] = *op;
    out[0].len = DT_PAGE;
    out[1].len = op->len / 2 > DT_PAGE ? (op->len / 2) & ~(DT_PAGE - 1) : DT_PAGE;
    return 2;
}

/* Simpler forms of op, simplest first. */
static int variants(const struct dt_op *op, struct dt_op *out)
{
    int n = 0;
    /* The same op in the first process: the forks may then go. */
    if (op->proc != 0 && op->kind != DT_EXIT && op->kind != DT_FORK) {
        out[n] = *op;
        out[n++].proc = 0;
    }
    switch (op->kind) {
    case DT_MMAP: {
        static const int optional[] = {MAP_POPULATE, MAP_NORESERVE, MAP_LOCKED, MAP_STACK, MAP_NONBLOCK,
                                       MAP_32BIT, 0x400000, MAP_SYNC, MAP_GROWSDOWN, MAP_HUGETLB};
        for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
            if (op->flags & optional[i]) {
                out[n] = *op;
                out[n++].flags &= ~optional[i];
            }
        if (op->off > 0 && !(op->off & (int64_t)(DT_PAGE - 1))) {
            out[n] = *op;
            out[n++].off = 0;
        }
        n += shorter(op, out + n);
        break;
    }
    case DT_MUNMAP:
    case DT_MPROTECT:
    case DT_MSYNC:
    case DT_MINCORE:
    case DT_READ:
    case DT_WRITE:
    case DT_PREAD:
    case DT_PWRITE:
        n += shorter(op, out + n);
        break;
    case DT_LOAD:
    case DT_STORE:
        if (op->len > 1) {
            out[n] = *op;
            out[n++].len = 1;
        }
        if (!op->abs && (op->addr & (DT_PAGE - 1))) {
            out[n] = *op;
            out[n++].addr &= ~(DT_PAGE - 1);
        }
        break;
    default:
        break;
    }
    return n;
}

static int simplify_args(const struct dt_config *cfg, struct dt_seq *seq, int aspect, struct dt_diff *d,
                         struct dt_diff *scratch)
{
    struct dt_seq cand = {0};
    struct dt_op v[MAX_VARIANTS];
    int changed = 0;
    for (int i = 0; i < seq->n; i++) {
        int nv = variants(&seq->ops[i], v);
        for (int j = 0; j < nv; j++) {
            seq_copy(&cand, seq);
            cand.ops[i] = v[j];
            if (still_diverges(cfg, &cand, aspect, scratch)) {
                seq_copy(seq, &cand);
                *d = *scratch;
                changed = 1;
                break;
            }
        }
        if (i >= seq->n)
            break;
    }
    dt_seq_free(&cand);
    return changed;
}

void dt_shrink(const struct dt_config *cfg, struct dt_seq *seq, struct dt_diff *diff)
{
    struct dt_diff *scratch = malloc(sizeof(*scratch));
    if (!scratch)
        return;
    int aspect = diff->aspect;
    if (diff->step + 1 < seq->n)
        seq->n = diff->step + 1;
    drop_chunks(cfg, seq, aspect, diff, scratch);
    for (int round = 0; round < 3 && simplify_args(cfg, seq, aspect, diff, scratch); round++)
        drop_chunks(cfg, seq, aspect, diff, scratch);
    free(scratch);
}
