/*
 * oracle.h - the host oracle as a library: a scenario in the line format
 * (docs/scenarios.md) replayed on a vmsim machine and on this host's kernel
 * step by step, with both sides' results and the first difference, compared
 * as vmsim-difftest --replay compares them. The machine's config comes from
 * this host's profile (vmsim-difftest --profile), then from any settings.
 *
 * Linked as libvmsim-oracle by vmsim-difftest and by the vmsim tool
 * (`vmsim compare`); this header is all a caller needs.
 */
#ifndef VMSIM_ORACLE_H
#define VMSIM_ORACLE_H

#include "vmsim.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- scenarios ---- */

typedef struct oracle_scenario oracle_scenario;

/* Loads a scenario file; NULL with "PATH:LINE: what is wrong" in err (any
 * bytes at all give a message, never a crash). Operations the host child
 * must not run (outside the test window) are refused here, by line. */
oracle_scenario *oracle_scenario_load(const char *path, char *err, size_t errsize);
/* The same from len bytes of text; name stands for the file in messages. */
oracle_scenario *oracle_scenario_parse(const char *name, const void *text, size_t len, char *err,
                                       size_t errsize);
void oracle_scenario_free(oracle_scenario *s);
int oracle_scenario_steps(const oracle_scenario *s);
int oracle_scenario_line(const oracle_scenario *s, int step); /* step from 0; its line from 1 */
/* The step's operation as a scenario line (what it parsed to, numbers in hex;
 * without a recorded answer). */
void oracle_scenario_call(const oracle_scenario *s, int step, char *buf, size_t size);
/* A recorded scenario (a real program's run, `vmsim follow -o`): it replays
 * on vmsim alone, against the kernel's answers it carries; its steps are
 * its operation lines but set, arg, env and maps. */
int oracle_scenario_recorded(const oracle_scenario *s);

/* "set FIELD=VALUE" lines (a recorded scenario's first lines) for every
 * config field of c that differs from vms_config_init's: replayed, they
 * make a machine configured as c. */
struct vms_config;
void oracle_print_config_lines(const struct vms_config *c, FILE *out);

/* ---- the oracle ---- */

typedef struct oracle oracle;

/* Ready to replay: a test window free in this process, a scratch folder in
 * scratch_parent (NULL: $TMPDIR, else /tmp), this host's profile read. It
 * ignores SIGPIPE in the calling process (a host child that died then shows
 * as a failed read). NULL with the reason in err. */
oracle *oracle_open(const char *scratch_parent, char *err, size_t errsize);
/* "FIELD=VALUE" for the vmsim side's config, over the host profile (a
 * vms_config field: ncpus, pgtable_levels, zero_page, dtlb.entries, ...;
 * a number, 0x hex, K/M/G/T, "unlimited"). The machine is created once to
 * check it accepts the value. 0, or -1 with what is wrong in err. */
int oracle_set(oracle *o, const char *assignment, char *err, size_t errsize);
void oracle_print_profile(const oracle *o, FILE *out);
const char *oracle_host_kernel(const oracle *o); /* uname release */
void oracle_close(oracle *o);                    /* removes the scratch folder */

/* One side's result of one step. */
struct oracle_side {
    char ret[48];     /* "3", "+0x100000" (window-relative), "outside", "-EINVAL",
                         "@1" (fork), "ok" (an access), "SIGSEGV/SEGV_MAPERR@+0x1000" */
    char detail[192]; /* bytes loaded, the mincore vector, fstat's size and type; "" */
    uint64_t minflt, majflt; /* the step's own fault counts */
};

struct oracle_step {
    int step;            /* from 0 */
    int line;            /* in the scenario, from 1 */
    char call[256];      /* the operation, as a scenario line */
    struct oracle_side vmsim, host;
    int access;          /* a load or a store */
    int faults_compared; /* 0 for fork, whose host count is the harness's */
    int differs;         /* the first difference is at this step */
};

enum oracle_outcome { ORACLE_AGREE = 0, ORACLE_DIFFER = 1, ORACLE_ERROR = -1 };

struct oracle_report {
    int outcome;                /* enum oracle_outcome */
    struct oracle_step *steps;  /* the steps of the last run, up to the first difference */
    int nsteps;
    int runs;                   /* 1, or up to 3: a difference the host's timing can cause
                                   (fault counts, bytes loaded, mincore) must show again */
    int diff_step;              /* DIFFER/ERROR: the step (the scenario's length: after the
                                   last one, the files on disk) */
    const char *diff_aspect;    /* ret, signal, data, faults, maps, disk, check, host */
    char diff_text[16384];      /* both sides as compared: results, maps, bytes on disk */
    char noise[256];            /* an earlier run's difference that went away, or "" */
};

/* Watching the vmsim side of the first run of the next oracle_replay calls
 * (vmsim compare --html); any member may be NULL, and w NULL stops. */
struct oracle_watch {
    void *arg;
    void (*event)(void *arg, const struct vms_event *ev);  /* as the machine raises them */
    void (*ready)(void *arg, vms_machine *m);              /* before the first step */
    void (*step)(void *arg, vms_machine *m, const struct oracle_step *s); /* after each */
    void (*end)(void *arg, vms_machine *m);                /* before the machine goes */
    /* Before the vmsim side runs a step: the step (from 0), its operation
     * as a scenario line, and its task's pid (0: no such process). */
    void (*step_begin)(void *arg, int step, const char *call, int pid);
};
void oracle_watch(oracle *o, const struct oracle_watch *w);

/* Runs s on both sides (a recorded scenario: on vmsim, against its recorded
 * answers and maps, the host side of each step being the recorded answer,
 * "" for a line without one; its machine watched as the vmsim side is): ORACLE_AGREE, ORACLE_DIFFER (the first difference
 * in r), or ORACLE_ERROR (the host side could not run: r->diff_text says
 * why). r is to be freed with oracle_report_free. */
int oracle_replay(oracle *o, const oracle_scenario *s, struct oracle_report *r);
void oracle_report_free(struct oracle_report *r);

#endif
