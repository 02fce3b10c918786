/*
 * `vmsim demo`: what the story (demo.c) shares with its narration
 * (demo_narrate.c) and its scratch folder on the host (demo_root.c).
 */
#ifndef VMSIM_DEMO_H
#define VMSIM_DEMO_H

#include "vmsim.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

struct report;

#define PAGE_BYTES ((uint64_t)4096)
#define RULE_WIDTH 78

/* The file of the story, as the classic program opens it, and its one line
 * before and after the program stores 'H', 'i' over its first two bytes. */
#define DEMO_FILE "file.txt"
#define DEMO_TEXT_BEFORE "Hello from the page cache\n"
#define DEMO_TEXT_AFTER "Hillo from the page cache\n"

/* ANSI escapes, all "" when colour is off. */
struct palette {
    const char *head, *dim, *miss, *walk, *alloc, *fault, *fill, *flush, *reset;
};

struct record;

struct demo {
    FILE *out;
    struct record *rec;      /* the pictures of the run (--perfetto, --dot, --svg), or NULL */
    uint64_t chapter_begin;  /* its tick */
    char chapter[RULE_WIDTH]; /* the chapter in progress, "" before the first */
    struct palette c;
    vms_machine *m;
    vms_task *proc, *thread;
    uint64_t va;             /* where the file is mapped */
    uint64_t size;           /* the file's size, as fstat reported it */
    struct vms_stats before; /* counters at the start of the current step */
    int narrate;             /* print trace events as they happen */
    int failures;
    struct report *report;   /* --html: the page of the story, step by step */
    char step_title[96];     /* the story's step under way, for the report */
};

/* ---- output (demo_narrate.c) ---- */

void say(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void heading(struct demo *d, int number, const char *title);
/* Ends the report's step of the story's step under way (--html). */
void demo_report_step(struct demo *d);
void expect(struct demo *d, int ok, const char *what);
void set_palette(struct palette *p, int color);
/* The colour of an event's tag word: one per family of kinds. */
const char *palette_event_color(const struct palette *c, enum vms_event_kind kind);
/* Prints bytes as a C string literal: "Hello\n". */
void say_quoted(struct demo *d, const char *bytes, size_t len);
const char *signal_name(int signo);
const char *si_code_name(int signo, int code);

/* The trace callback: narrates each event while d->narrate is set, and
 * records every event for the pictures. */
void on_event(void *arg, const struct vms_event *ev);

/* Per-CPU counters, by bit in a row mask. */
enum {
    ROW_DTLB_HIT = 1 << 0, ROW_DTLB_MISS = 1 << 1, ROW_STLB_MISS = 1 << 2, ROW_WALKS = 1 << 3,
    ROW_REFS = 1 << 4, ROW_FLUSH = 1 << 5, ROW_FLUSH_FULL = 1 << 6, ROW_SHOOT = 1 << 7,
    ROW_IPI_OUT = 1 << 8, ROW_IPI_IN = 1 << 9,
    ROWS_TLB = ROW_DTLB_HIT | ROW_DTLB_MISS | ROW_STLB_MISS | ROW_WALKS | ROW_REFS,
    ROWS_SHOOTDOWN = ROW_FLUSH | ROW_FLUSH_FULL | ROW_SHOOT | ROW_IPI_OUT | ROW_IPI_IN,
};

/* Machine-wide counters, by bit in a row mask. */
enum {
    MROW_FRAMES = 1 << 0, MROW_PGTABLES = 1 << 1, MROW_CACHE = 1 << 2, MROW_DIRTY = 1 << 3,
    MROW_MINOR = 1 << 4, MROW_MAJOR = 1 << 5, MROW_DISK_IN = 1 << 6, MROW_DISK_OUT = 1 << 7,
};

/* A call of the story, recorded for the pictures (text and result are
 * printf formats); nothing without d->rec. */
void demo_call_begin(struct demo *d, vms_task *t, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void demo_call_end(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the chapter in progress on the pictures' timeline. */
void demo_chapter_end(struct demo *d);

void begin_step(struct demo *d);
void print_deltas(struct demo *d, unsigned rows);         /* per CPU, since begin_step */
void print_machine_change(struct demo *d, unsigned rows); /* before and after the step */
void print_cpu_totals(struct demo *d);                    /* every per-CPU counter */

/* ---- looking inside ---- */

void print_maps(struct demo *d, vms_task *t);
void explain_maps_line(struct demo *d, vms_task *t); /* its fields, one per line */
void print_va_split(struct demo *d);
void print_pte(struct demo *d, const struct vms_walk *w);       /* every bit, explained */
void print_pte_short(struct demo *d, const struct vms_walk *w); /* one line */
int pte_bit(const struct vms_walk *w, int bit);

/* ---- the scratch root folder (demo_root.c) ---- */

struct scratch {
    char dir[PATH_MAX]; /* host path; never printed on stdout */
    int made_dir;       /* we created dir, so we remove it */
    int made_file;      /* we created DEMO_FILE in it */
    int keep;           /* --keep: leave both behind */
};

/* Makes (or takes, with --root) the folder and writes DEMO_FILE in it.
 * 0, or -1 after a message on stderr. */
int scratch_create(struct scratch *s, const char *chosen_dir, int keep);
/* Reads DEMO_FILE with the host's own read(): bytes read, or -1. */
int64_t scratch_read_file(const struct scratch *s, char *buf, size_t size);
void scratch_remove(struct scratch *s);

#endif
