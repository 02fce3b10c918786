/*
 * The report's views as static SVG files, for print and docs, drawn by
 * hand (no Graphviz): an address space, a page-table tree, a CPU's TLBs,
 * physical memory, a machine's timeline. Each file is a standalone SVG
 * document with a <title> and a <desc> saying what it shows (for screen
 * readers; role="img"), a <title> on every drawn thing, the palette of
 * views.h with every colour's meaning also written, and nothing that
 * depends on the host or the time: the same run draws the same bytes.
 */
#ifndef VMSIM_SVG_H
#define VMSIM_SVG_H

#include "record.h"
#include "views.h"

#include <stdio.h>

/* Each returns 0, or -errno (-ENOMEM, -ESRCH, -EIO). */

/* The task's VMAs, highest address at the top, heights growing with the
 * logarithm of their sizes, the gaps between them marked. */
int svg_write_address_space(FILE *out, vms_task *t, const char *title);
/* The task's page-table tree, the walk of `walk` highlighted (has_walk). */
int svg_write_pgtable(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                      vms_addr walk);
/* The CPU's L1d, L1i and L2 TLBs as set x way grids. */
int svg_write_tlbs(FILE *out, vms_machine *m, unsigned cpu, const char *title);
/* Every frame of RAM coloured by owner, frames mapped more than once dotted. */
int svg_write_frames(FILE *out, vms_machine *m, const char *title);
/* The calls on machine `machine`, in order, with the events under each and
 * the counters (frames used, faults, TLB misses) plotted over them. */
int svg_write_timeline(FILE *out, const struct record_call *calls, size_t ncalls,
                       unsigned machine, const char *title);

#endif
