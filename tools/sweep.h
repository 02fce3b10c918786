/*
 * `vmsim sweep`: what its two halves share. sweep.c turns a grid into a
 * job list and the scripts that run it; sweep_collect.c merges the jobs'
 * JSON lines into a CSV and a plot.
 */
#ifndef VMSIM_SWEEP_H
#define VMSIM_SWEEP_H

#include <stddef.h>

#define SWEEP_MAX_JOBS 10000 /* a sweep's jobs at most */
#define SWEEP_MAX_WHERE 16   /* --where filters of a plot */

struct sweep_collect_opts {
    const char *dir;               /* the sweep's folder */
    const char *csv;               /* NULL or "-": standard output */
    const char *plot;              /* an SVG to draw, or NULL */
    const char *x, *y, *series;    /* the plot's parameter, metric, parameter (or NULL) */
    const char *where[SWEEP_MAX_WHERE]; /* "PARAM=VALUE": the rows the plot takes */
    int nwhere;
    int log_y;                     /* a logarithmic y axis */
};

/* The digits of a job's id in a sweep of njobs: ids are 1..njobs, padded
 * with zeros to this width, so that they sort in job order. */
int sweep_id_width(unsigned long njobs);
/* Job `id`'s name: its number padded with zeros to width digits. */
void sweep_format_id(char *buf, size_t len, unsigned long id, int width);

/* `vmsim sweep --collect DIR`: 0 when every job's result was read, 1 when
 * some are missing or malformed (the CSV has the others), 2 for a bad
 * command line or folder. */
int sweep_collect(const struct sweep_collect_opts *o);

#endif
