/*
 * vglog.h - Valgrind's output for `vmsim record` (vglog.c): lackey's
 * access lines and --trace-syscalls lines on the log, and the client's
 * starting memory layout that `-d` prints on standard error, turned into
 * .vmt records with Valgrind's own memory filtered out.
 */
#ifndef VMSIM_VGLOG_H
#define VMSIM_VGLOG_H

#include "vmt.h"

#define VGLOG_FDS 1024 /* descriptors whose file the recorder tracks */

struct vglog_range {
    uint64_t start, end;
};

struct vglog {
    struct vmt_writer *w;
    char libdir[256];             /* Valgrind's library folder: its preloads live there */
    char *fd_path[VGLOG_FDS];     /* the file behind each open descriptor */
    char pending[512];            /* a system call whose result is still to come */
    struct vglog_range *own;      /* Valgrind's own mappings in the client's space */
    size_t nown;
    char *names[64];              /* the layout's file-name table */
    int in_layout, layout_done, prev_upper;
    uint64_t upper_start;         /* the stack's reserved growth room, below it */
    struct vmt_record last_anon;  /* an anonymous segment not yet known as brk or plain */
    int have_last_anon;
    int stopped;                  /* the program exec'd another: the recording stops */
    uint64_t accesses, mm_calls, filtered, lines;
};

void vglog_init(struct vglog *g, struct vmt_writer *w);
void vglog_free(struct vglog *g);
/* One line of standard error (the -d output): 0, or -1 on a write error. */
int vglog_stderr_line(struct vglog *g, const char *line);
/* Whether the starting layout has been read (then the log's lines may go). */
static inline int vglog_layout_done(const struct vglog *g) { return g->layout_done; }
/* One line of the log: 0, or -1 on a write error (vmt_writer_error). Lines
 * that are neither accesses nor system calls are skipped. */
int vglog_log_line(struct vglog *g, const char *line);

#endif
