/* The vmsim command-line tool: what its subcommands share. */
#ifndef VMSIM_CLI_H
#define VMSIM_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of every subcommand. */
enum cli_status {
    CLI_OK = 0,      /* done, and every check held */
    CLI_FAILED = 1,  /* ran, but the simulator did something unexpected */
    CLI_USAGE = 2,   /* bad command line */
};

/* Colour only for a terminal, never with --no-color or a non-empty NO_COLOR
 * (https://no-color.org), nor for TERM=dumb. */
int cli_use_color(FILE *out, int no_color_flag);

/* `vmsim demo`: argv[0] is "demo". */
int demo_main(int argc, char **argv);

/* `vmsim run SCRIPT.lua [ARGS]`: argv[0] is "run". */
int run_main(int argc, char **argv);
/* `vmsim follow -- CMD ARGS`: argv[0] is "follow" (tools/follow.c). */
int follow_main(int argc, char **argv);
/* `vmsim compare SCENARIO`: argv[0] is "compare". */
int compare_main(int argc, char **argv);
/* `vmsim shell`: argv[0] is "shell". */
int shell_main(int argc, char **argv);
/* `vmsim record -o FILE -- CMD ARGS` (tools/record_cmd.c). */
int record_main(int argc, char **argv);
/* `vmsim replay FILE` (tools/replay_cmd.c). */
int replay_main(int argc, char **argv);
struct vms_config;
/* Applies one of replay's config options (--phys, --swap, --dtlb, --itlb,
 * --stlb, --pde-cache, --pdpte-cache, --pml4e-cache, --levels, --ncpus,
 * --set) with its value to c: 0; -1 for a bad value, -2 for an option that
 * is none of those, with why in err (snprintf semantics). */
int replay_config_option(struct vms_config *c, const char *opt, const char *value, char *err,
                         size_t errlen);
/* `vmsim sweep GRID -o DIR`, `vmsim sweep --collect DIR` (tools/sweep.c). */
int sweep_main(int argc, char **argv);
/* `vmsim convert IN -o OUT` (tools/convert.c). */
int convert_main(int argc, char **argv);

#endif
