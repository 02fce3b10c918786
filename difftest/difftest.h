/*
 * difftest.h - the parts of the differential tester and how they meet:
 * two sides that run operations (the host kernel in a child process, and a
 * vmsim machine), a generator of operation sequences, the runner that
 * compares the sides after every step, and the shrinker that reduces a
 * diverging sequence to a small one.
 */
#ifndef DIFFTEST_H
#define DIFFTEST_H

#include "ops.h"
#include "vmsim_host.h"

#include <stdint.h>
#include <stdio.h>

/* ---- one VMA of a maps listing, inside the window ---- */

struct dt_vma {
    uint64_t start, end; /* relative to the window */
    char perms[5];
    uint64_t offset;
    char name[64]; /* basename of the path, "" for anonymous memory */
};

struct dt_maps {
    struct dt_vma *v;
    int n, cap;
};

/* Parses /proc/PID/maps text, keeping the lines that meet the window. */
int dt_maps_parse(const char *text, uint64_t window, struct dt_maps *out);
void dt_maps_free(struct dt_maps *m);
void dt_maps_format(const struct dt_maps *m, char *buf, size_t size);

/* ---- the host side: a child process of the real kernel ---- */

struct dt_host;
struct dt_host *host_start(const char *dir, uint64_t window, char *err, size_t errsize);
/* 0, or -1 if the child died (then err says how). */
int host_run(struct dt_host *h, const struct dt_op *op, struct dt_result *r, char *err, size_t errsize);
/* malloc'ed /proc/PID/maps text of process proc, or NULL if it is gone. */
char *host_maps(struct dt_host *h, int proc);
void host_stop(struct dt_host *h);
/* A window address that is free in this process (and so in its children). */
uint64_t host_pick_window(void);

/* ---- the simulated side ---- */

/* One "field=value" assignment to the machine's config (settings.c),
 * applied after the host profile: a machine unlike this host. */
struct dt_setting {
    const char *name; /* the field, as vms_config names it */
    size_t offset;    /* in struct vms_config */
    int type;
    uint64_t value;
};
/* 0, or -1 with what is wrong (an unknown field, with the list of them; a
 * value that is no number or too large for the field) in err. */
int dt_setting_parse(const char *text, struct dt_setting *out, char *err, size_t errsize);
void dt_setting_apply(const struct dt_setting *s, struct vms_config *c);
/* "PREFIXFIELD=VALUE" lines for every field of c that differs from base's:
 * the settings that make base into c. */
void dt_settings_print(const struct vms_config *base, const struct vms_config *c, const char *prefix,
                       FILE *out);

/* The machine's config: the host profile, then the settings, then root. */
void sim_config(struct vms_config *c, const char *dir, const struct host_profile *profile,
                const struct dt_setting *settings, int nsettings);

/* on_sim's steps that are no step of the scenario. */
enum { DT_SIM_END = -1, DT_SIM_READY = -2 };

struct dt_sim;
/* trace (may be NULL) watches the machine's events, with trace_arg. */
struct dt_sim *sim_start(const char *dir, uint64_t window, const struct host_profile *profile,
                         const struct dt_setting *settings, int nsettings, vms_trace_fn trace,
                         void *trace_arg, char *err, size_t errsize);
vms_machine *sim_machine(struct dt_sim *s);
vms_task *sim_task(struct dt_sim *s, int proc); /* NULL: no such process (yet, or any more) */
void sim_run(struct dt_sim *s, const struct dt_op *op, struct dt_result *r);
char *sim_maps(struct dt_sim *s, int proc); /* malloc'ed vms_maps text, or NULL */
/* 0 when vms_check passes; else the report, malloc'ed, in *report. */
int sim_check(struct dt_sim *s, char **report);
int sim_sync(struct dt_sim *s);
/* Writes back the pages of [from, to) of file `name` on the vmsim side, as
 * the host's O_DIRECT read of that range does on the host before it reads. */
int sim_flush_range(struct dt_sim *s, int name, uint64_t from, uint64_t to);
/* fsync of file `name` on the vmsim side, as the comparison's fdatasync of
 * the host's file does there. 0, or -errno. */
int sim_fsync_file(struct dt_sim *s, int name);
/* Which 4 KiB blocks of file `name` hold data, as vmsim's SEEK_DATA and
 * SEEK_HOLE show them: '1' data, '0' hole, one per block of the file, into
 * out (n bytes, NUL-terminated). Opens the file in process 0 and closes it
 * again, which changes nothing a later step sees. 0, or -errno. */
int sim_data_blocks(struct dt_sim *s, int name, char *out, size_t n);
void sim_stop(struct dt_sim *s);

/* ---- what to compare ---- */

/* Aspects compared after each step; a divergence names one of them. */
enum dt_aspect {
    DT_ASPECT_RET,
    DT_ASPECT_SIGNAL,
    DT_ASPECT_DATA,
    DT_ASPECT_FAULTS,
    DT_ASPECT_MAPS,
    DT_ASPECT_DISK,
    DT_ASPECT_CHECK, /* vms_check */
    DT_ASPECT_HOST,  /* the host child died or the harness failed */
    DT_NASPECTS
};
const char *dt_aspect_name(int aspect);

struct dt_config {
    uint64_t window;
    const char *scratch;      /* folder holding A (vmsim root) and B (host cwd) */
    unsigned kinds;           /* bit per enum dt_kind that the generator may use */
    unsigned features;        /* DT_FEAT_* the generator may use */
    unsigned fault_kinds;     /* bit per kind whose fault counts are compared */
    int check_every_step;     /* run vms_check after each step */
    int verbose;              /* print each step with both results */
    int keep_going;           /* report a divergence and carry on (replay) */
    const struct host_profile *profile; /* the host's values for the machine's config */
    const struct dt_setting *settings;  /* then these (none: a machine like the host) */
    int nsettings;
    /* Called after each step with both sides' results (addresses made
     * relative), before they are compared; may be NULL. */
    void (*on_step)(void *arg, int step, const struct dt_op *op, const struct dt_result *host,
                    const struct dt_result *vmsim);
    void *on_step_arg;
    /* Watching the vmsim side (vmsim compare --html), all may be NULL:
     * its events, and its machine (with on_step_arg) once it is ready
     * (step DT_SIM_READY), after each step (after on_step) and before it
     * stops (step DT_SIM_END). */
    vms_trace_fn sim_trace;
    void *sim_trace_arg;
    void (*on_sim)(void *arg, vms_machine *m, int step);
    /* Before the vmsim side runs each step (with on_step_arg): the op and
     * its task (NULL: no such process); may be NULL. */
    void (*on_sim_begin)(void *arg, int step, const struct dt_op *op, vms_task *t);
};

/* Generator features beyond the plain op kinds, each of which can be turned
 * off where the sides are known to differ. */
enum {
    DT_FEAT_FILE_MMAP = 1u << 0,   /* mmap of files */
    DT_FEAT_EXEC_ONLY = 1u << 1,   /* PROT_EXEC alone */
    DT_FEAT_ODD_FLAGS = 1u << 2,   /* LOCKED, STACK, GROWSDOWN, 32BIT, unknown bits */
    DT_FEAT_OUTSIDE = 1u << 3,     /* mmaps that land outside the window */
    DT_FEAT_ABS_ACCESS = 1u << 4,  /* loads/stores at never-mapped absolute addresses */
    DT_FEAT_TRUNC_LIVE = 1u << 5,  /* ftruncate/O_TRUNC of a mapped file */
    DT_FEAT_BEYOND_EOF = 1u << 6,  /* mmap offsets and i/o beyond EOF */
    DT_FEAT_POPULATE = 1u << 7,    /* MAP_POPULATE */
    DT_FEAT_HUGE_ARGS = 1u << 8,   /* lengths that fail (0, unaligned, huge) */
    DT_FEAT_HUGETLB = 1u << 9,     /* MAP_HUGETLB */
    DT_FEAT_MAP_STACK = 1u << 10,  /* MAP_STACK */
    DT_FEAT_MSYNC_WRAP = 1u << 11, /* msync lengths that wrap when rounded to a page */
    DT_FEAT_WRITE_PAST_EOF = 1u << 12, /* pwrite offsets and lseek positions past EOF */
    /* 1u << 13 was LARGE_IO: writes of 8 KiB and more, now in every mix */
    DT_FEAT_MAP_SYNC = 1u << 14,   /* MAP_SYNC */
    DT_FEAT_EDGE_ARGS = 1u << 18,  /* every argument class: addresses outside the window and
                                      user space, lengths up to 2^64-1, every flag bit */
};
#define DT_FEAT_ALL 0x47fffu

/* ---- sequences ---- */

struct dt_seq {
    struct dt_op *ops;
    int n, cap;
    int recorded; /* a recorded scenario (its first line set, arg, env or execve): vmsim alone */
};
void dt_seq_push(struct dt_seq *s, const struct dt_op *op);
void dt_seq_free(struct dt_seq *s);
void dt_seq_print(const struct dt_seq *s, FILE *out);
/* Scenario text of len bytes (any bytes at all) into s, one op per line
 * (scenario.c); lines, when not NULL, gets each op's line number
 * (malloc'ed). 0, or -1 with "NAME:LINE: what is wrong" in err, s and
 * *lines left empty. */
int dt_scenario_parse(const char *name, const char *text, size_t len, struct dt_seq *s, int **lines,
                      char *err, size_t errsize);
int dt_scenario_load(const char *path, struct dt_seq *s, int **lines, char *err, size_t errsize);
int dt_seq_load(const char *path, struct dt_seq *s, char *err, size_t errsize); /* lines not kept */

struct dt_diff {
    int step;   /* index of the diverging op; n for the final disk check */
    int aspect; /* enum dt_aspect */
    char text[16384];
};

/* ---- recorded scenarios (recorded.c) ---- */

/* One step of a recorded scenario as it was replayed: an operation line
 * (not set, arg, env or maps, which belong to the machine, the next execve
 * and the step above them). */
struct dt_rec_step {
    int step;              /* the operation's index in the sequence */
    const struct dt_op *op;
    char got[40];          /* vmsim's answer, spelt as a recorded answer ("0x7ffff7fc0000", "-ENOMEM") */
    char expected[40];     /* the kernel's recorded answer, "" when the line has none */
    int maps_checked;      /* maps lines followed it and were compared */
    int differs;           /* the answer or the maps differ: the replay stops here */
};
typedef void (*dt_rec_fn)(void *arg, const struct dt_rec_step *s);

/* Replays a recorded scenario (seq->recorded) on a new machine made from
 * its set lines over vmsim's defaults, then the settings, rooted at root
 * (the recording's files: "/"); fn, when not NULL, sees each step; watch,
 * when not NULL, watches the machine as dt_run's vmsim side is watched (its
 * sim_trace, on_sim and on_sim_begin with on_step_arg; the other fields are
 * not read): ready, before and after each step (after fn), at its end. 0: every
 * answer and maps agree (and vms_check at the end); 1: the first
 * difference in diff (step, aspect ret, maps or check, both sides in
 * text); -1: it could not run (the machine refused its config: diff says
 * why and at which line's step). */
int dt_recorded_run(const struct dt_seq *seq, const struct dt_setting *settings, int nsettings,
                    const char *root, dt_rec_fn fn, void *arg, const struct dt_config *watch,
                    struct dt_diff *diff);

/* ---- the generator ---- */

struct dt_gen;
struct dt_gen *gen_create(uint64_t seed, const struct dt_config *cfg);
void gen_destroy(struct dt_gen *g);
/* The next op, knowing the VMAs the window holds now in each process
 * (maps[DT_MAX_PROCS], empty for processes that do not exist). */
void gen_next(struct dt_gen *g, const struct dt_maps *maps, struct dt_op *op);
/* What the op returned (on the vmsim side), to follow fds and file sizes. */
void gen_observe(struct dt_gen *g, const struct dt_op *op, const struct dt_result *r);

/* ---- running ---- */

/* Runs seq on both sides (with gen: generates `steps` ops into seq first,
 * one at a time). 0: agree; 1: diverged (diff filled); -1: could not run. */
int dt_run(const struct dt_config *cfg, struct dt_seq *seq, struct dt_gen *gen, int steps,
           struct dt_diff *diff, FILE *trace);

/* Can the host's own timing have caused d (its background write-back, a
 * readahead still reading)? Such a difference must show again to count. */
int dt_may_be_host_timing(const struct dt_seq *seq, const struct dt_diff *d);

/* Removes the scratch folder and the two roots A and B in it. */
void dt_remove_scratch(const char *scratch);

/* Shrinks a diverging seq in place to a small one that still diverges in
 * the same aspect; diff gets the final difference. */
void dt_shrink(const struct dt_config *cfg, struct dt_seq *seq, struct dt_diff *diff);

#endif
