/*
 * Fuzz target: the grid of `vmsim sweep` (tools/sweep_grid.c). Whatever
 * the bytes, the grid is read or refused with a message naming the grid
 * and a line; nothing leaks; a grid read writes back (grid_write) to text
 * that reads to the same grid; every job number maps to a choice inside
 * each parameter's values, and the last job to the last values.
 */
#include "sweep_grid.h"

#include <stdlib.h>
#include <string.h>

static int same(const struct grid *a, const struct grid *b)
{
    if (a->nparams != b->nparams)
        return 0;
    for (size_t i = 0; i < a->nparams; i++) {
        const struct grid_param *p = &a->params[i], *q = &b->params[i];
        if (strcmp(p->name, q->name) || p->nvalues != q->nvalues)
            return 0;
        for (size_t k = 0; k < p->nvalues; k++)
            if (strcmp(p->values[k], q->values[k]))
                return 0;
    }
    return 1;
}

static void check_jobs(const struct grid *g)
{
    uint64_t n = grid_jobs(g, 1000000);
    if (n == 0)
        abort(); /* every parameter has a value */
    if (n == UINT64_MAX)
        return;
    size_t choice[GRID_MAX_PARAMS];
    grid_job(g, n - 1, choice);
    for (size_t i = 0; i < g->nparams; i++)
        if (choice[i] != g->params[i].nvalues - 1)
            abort();
    grid_job(g, 0, choice);
    for (size_t i = 0; i < g->nparams; i++)
        if (choice[i] != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct grid g, back;
    char err[512] = "";
    if (grid_parse((const char *)data, size, "grid", &g, err, sizeof(err)) != 0) {
        if (strncmp(err, "grid:", 5) != 0)
            abort(); /* a refusal names the grid (and, but for an empty one, the line) */
        return 0;
    }
    check_jobs(&g);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    grid_write(f, &g);
    fclose(f);
    if (grid_parse(text, len, "back", &back, err, sizeof(err)) != 0 || !same(&g, &back))
        abort(); /* what grid_write wrote reads back to the same grid */
    grid_free(&back);
    grid_free(&g);
    free(text);
    return 0;
}
