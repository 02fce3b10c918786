/*
 * The grid of `vmsim sweep` (docs/traces.md, "Sweeps"): a text file of
 * parameters, one a line, `name = v1, v2, ...`, whose cross product is the
 * sweep's jobs. Text only: what a name or value means is sweep.c's to say.
 * Links with libc alone (the fuzz target builds it by itself).
 */
#ifndef VMSIM_SWEEP_GRID_H
#define VMSIM_SWEEP_GRID_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GRID_MAX_PARAMS 32     /* lines with a name */
#define GRID_MAX_VALUES 256    /* values on one line */
#define GRID_MAX_NAME 63       /* bytes of a name */
#define GRID_MAX_VALUE 4096    /* bytes of a value (a path) */
#define GRID_MAX_LINE 65536    /* bytes of a line */

struct grid_param {
    char *name;
    char **values;
    size_t nvalues;
    unsigned line; /* where the grid names it, from 1 */
};

struct grid {
    struct grid_param *params; /* in the file's order */
    size_t nparams;
};

/* Reads the grid in text[0..len) (it may hold any bytes): 0, or -1 with
 * "NAME:LINE: why" in err (snprintf semantics; NAME is `name`) and g empty.
 * The rules:
 *  - '#' outside quotes starts a comment to the end of the line; blank
 *    lines are skipped; a line may end in CR LF;
 *  - a line is NAME = VALUE[, VALUE]...; NAME is a lower-case letter, then
 *    lower-case letters, digits, '_' and '.', at most GRID_MAX_NAME bytes;
 *    a NAME appears once;
 *  - a VALUE is the text between commas with the blanks (space, tab)
 *    around it cut off, or a double-quoted string where \" and \\ stand
 *    for " and \ (for a value with a comma, a '#', a quote or blanks at
 *    its ends); never empty, no control character (below 0x20, 0x7f), at
 *    most GRID_MAX_VALUE bytes, and not twice on one line;
 *  - at least one NAME, at most GRID_MAX_PARAMS, GRID_MAX_VALUES values a
 *    line; no NUL byte. */
int grid_parse(const char *text, size_t len, const char *name, struct grid *g, char *err,
               size_t errlen);
void grid_free(struct grid *g);

/* The grid in its plain form, one NAME = VALUE, ... line each, values
 * quoted where they must be: what grid_parse reads back to the same grid. */
void grid_write(FILE *out, const struct grid *g);

/* The product of the value counts, or UINT64_MAX when it passes `limit`
 * (at most UINT64_MAX / GRID_MAX_VALUES). */
uint64_t grid_jobs(const struct grid *g, uint64_t limit);

/* Job `index` (0 .. grid_jobs - 1): choice[i] is the value of params[i] it
 * takes. The first parameter changes slowest, the last fastest: jobs are in
 * the order of nested loops written in the grid's order. */
void grid_job(const struct grid *g, uint64_t index, size_t *choice);

/* The param named `name`, or NULL. */
const struct grid_param *grid_find(const struct grid *g, const char *name);

#endif
