/*
 * The watcher behind the picture options (record.h): the run's clock, the
 * tracks each event belongs to, the calls kept for the timeline picture,
 * and the writers fed as the run goes.
 */
#include "record.h"

#include "dot.h"
#include "perfetto.h"
#include "svg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char picture_options_help[] =
    "  --perfetto FILE  write the run's timeline to FILE in the Chrome trace-event\n"
    "                   JSON format (Perfetto, chrome://tracing): calls, events and\n"
    "                   counters on one track per CPU and per task\n"
    "  --dot DIR        write Graphviz graphs of each address space into DIR (made\n"
    "                   if missing): its page-table tree and its VMA tree (the\n"
    "                   red-black tree with colours and gaps), as each machine ends\n"
    "  --svg DIR        write SVG pictures into DIR (made if missing), drawn without\n"
    "                   Graphviz: each address space, its page-table tree, each\n"
    "                   CPU's TLBs, physical memory (as each machine ends) and each\n"
    "                   machine's timeline with its counters (at the end)\n"
    "  --walk ADDR      highlight the walk of ADDR in the page-table trees\n";

struct option_name {
    const char *name;
    size_t offset; /* of its const char * in struct picture_options */
    const char *needs;
};

static const struct option_name option_names[] = {
    {"--perfetto", offsetof(struct picture_options, perfetto), "a file"},
    {"--dot", offsetof(struct picture_options, dot), "a folder"},
    {"--svg", offsetof(struct picture_options, svg), "a folder"},
    {"--walk", offsetof(struct picture_options, walk), "an address"},
};

/* 0 and *va, or -1: not a whole number below 2^64 (no sign). */
static int parse_address(const char *text, vms_addr *va)
{
    char *end;
    int hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    errno = 0;
    unsigned long long v = strtoull(text, &end, hex ? 16 : 10); /* a leading 0 is not octal */
    if (errno || *end || !*text || text[0] == '-' || text[0] == '+' || text[0] == ' ' ||
        (hex && !text[2]))
        return -1;
    *va = v;
    return 0;
}

int picture_option(int argc, char **argv, int *i, struct picture_options *o, const char *tool)
{
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof(option_names) / sizeof(option_names[0]); k++) {
        const struct option_name *n = &option_names[k];
        size_t len = strlen(n->name);
        const char *value = NULL;
        if (strcmp(a, n->name) == 0) {
            if (*i + 1 < argc)
                value = argv[++*i];
        } else if (strncmp(a, n->name, len) == 0 && a[len] == '=') {
            value = a + len + 1;
        } else {
            continue;
        }
        if (!value || !*value) {
            fprintf(stderr, "%s: %s needs %s\nTry '%s --help'.\n", tool, n->name, n->needs, tool);
            return -1;
        }
        vms_addr ignored;
        if (n->offset == offsetof(struct picture_options, walk) && parse_address(value, &ignored)) {
            fprintf(stderr, "%s: --walk %s: not an address (0x7ffff7ffe000, or decimal)\n"
                            "Try '%s --help'.\n",
                    tool, value, tool);
            return -1;
        }
        memcpy((char *)o + n->offset, &value, sizeof(value));
        return 1;
    }
    return 0;
}

/* ---- opening and closing ---- */

/* The folder, made when missing (its parent must exist). */
static int make_dir(const char *dir, char *err, size_t errsize)
{
    struct stat st;
    if (mkdir(dir, 0777) == 0 || (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
        return 0;
    snprintf(err, errsize, "cannot make the folder %s: %s", dir,
             errno == EEXIST ? "a file is in the way" : strerror(errno));
    return -1;
}

int record_open(struct record *r, const struct picture_options *o, char *err, size_t errsize)
{
    *r = (struct record){.opt = *o};
    if (o->walk) {
        if (parse_address(o->walk, &r->walk)) {
            snprintf(err, errsize, "--walk %s: not an address (0x7ffff7ffe000, or decimal)", o->walk);
            return -1;
        }
        r->has_walk = 1;
    }
    if ((o->dot && make_dir(o->dot, err, errsize)) || (o->svg && make_dir(o->svg, err, errsize)))
        return -1;
    if (o->perfetto) {
        r->perfetto = perfetto_open(o->perfetto, err, errsize);
        if (!r->perfetto)
            return -1;
    }
    return 0;
}

int record_active(const struct record *r)
{
    return r->perfetto != NULL || r->opt.dot != NULL || r->opt.svg != NULL;
}

static void forget(struct record *r)
{
    free(r->cur_text);
    r->cur_text = NULL;
    r->ncalls = 0;
    r->ntracks = 0;
    r->tick = 0;
    r->in_call = 0;
    r->event_machine = 0;
    r->ndrawn = 0;
}

static void draw_timelines(struct record *r);

int record_close(struct record *r, const char *tool)
{
    if (r->opt.svg)
        draw_timelines(r);
    int rc = r->failed ? -1 : 0;
    if (r->perfetto && perfetto_close(r->perfetto)) {
        fprintf(stderr, "%s: cannot write %s\n", tool, r->opt.perfetto);
        rc = -1;
    } else if (r->failed) {
        fprintf(stderr, "%s: the pictures of the run are incomplete (out of memory)\n", tool);
    }
    forget(r);
    free(r->calls);
    free(r->tracks);
    *r = (struct record){0};
    return rc;
}

/* ---- tracks ---- */

static struct record_track *find_track(const struct record *r, unsigned machine, int tid)
{
    for (size_t i = 0; i < r->ntracks; i++)
        if (r->tracks[i].machine == machine && r->tracks[i].tid == tid)
            return &r->tracks[i];
    return NULL;
}

static int track_known(const struct record *r, unsigned machine, int tid)
{
    return find_track(r, machine, tid) != NULL;
}

static void track_name(int tid, char *buf, size_t size)
{
    if (tid == PERFETTO_MACHINE_TID)
        snprintf(buf, size, "machine");
    else if (tid == PERFETTO_RECLAIM_TID)
        snprintf(buf, size, "reclaim");
    else if (tid <= VMS_MAX_CPUS)
        snprintf(buf, size, "CPU %d", tid - 1);
    else
        snprintf(buf, size, "task %d", tid);
}

/* Names the track (and its machine) the first time it is used. */
static void use_track(struct record *r, unsigned machine, int tid)
{
    if (!r->perfetto || track_known(r, machine, tid))
        return;
    if (!track_known(r, machine, PERFETTO_MACHINE_TID) && tid != PERFETTO_MACHINE_TID)
        use_track(r, machine, PERFETTO_MACHINE_TID);
    if (r->ntracks == r->tracks_cap) {
        size_t cap = r->tracks_cap ? 2 * r->tracks_cap : 16;
        struct record_track *grown = realloc(r->tracks, cap * sizeof(*grown));
        if (!grown) {
            r->failed = 1;
            return;
        }
        r->tracks = grown;
        r->tracks_cap = cap;
    }
    r->tracks[r->ntracks++] = (struct record_track){.machine = machine, .tid = tid,
                                                    .counters = {UINT64_MAX}};
    char name[32];
    if (tid == PERFETTO_MACHINE_TID) {
        snprintf(name, sizeof(name), "machine %u", machine);
        perfetto_process(r->perfetto, machine, name);
    }
    track_name(tid, name, sizeof(name));
    perfetto_thread(r->perfetto, machine, tid, name);
}

/* ---- calls ---- */

void record_call_begin(struct record *r, unsigned machine, int task, const char *name,
                       const char *text)
{
    r->tick++;
    r->in_call = 1;
    r->cur = (struct record_call){.machine = machine, .task = task, .begin = r->tick};
    snprintf(r->cur.name, sizeof(r->cur.name), "%s", name);
    snprintf(r->cur.text, sizeof(r->cur.text), "%s", text ? text : name);
    free(r->cur_text);
    r->cur_text = strdup(text ? text : name);
    if (!r->cur_text)
        r->failed = 1;
    if (machine)
        r->event_machine = machine;
}

static void keep_call(struct record *r)
{
    if (r->ncalls == r->calls_cap) {
        size_t cap = r->calls_cap ? 2 * r->calls_cap : 64;
        struct record_call *grown = realloc(r->calls, cap * sizeof(*grown));
        if (!grown) {
            r->failed = 1;
            return;
        }
        r->calls = grown;
        r->calls_cap = cap;
    }
    r->calls[r->ncalls++] = r->cur;
}

/* The counters, when they changed since the machine's last sample. */
static void write_counters(struct record *r, unsigned machine, uint64_t ts,
                           const struct vms_stats *s)
{
    use_track(r, machine, PERFETTO_MACHINE_TID);
    struct record_track *t = find_track(r, machine, PERFETTO_MACHINE_TID);
    uint64_t now[11] = {s->minor_faults, s->major_faults, s->tlb_misses, s->page_walks,
                        s->frames_used, s->pgtable_frames, s->cache_frames, s->frames_total,
                        s->swap_used, s->vm.pswpin, s->vm.pswpout};
    if (t && memcmp(t->counters, now, sizeof(now)) == 0)
        return;
    if (t)
        memcpy(t->counters, now, sizeof(now));
    perfetto_counters(r->perfetto, machine, ts, s);
}

void record_call_end(struct record *r, vms_machine *m, unsigned machine, const char *result)
{
    if (!r->in_call)
        return;
    r->tick++;
    r->in_call = 0;
    struct record_call *c = &r->cur;
    c->end = r->tick;
    if (!c->machine)
        c->machine = machine;
    snprintf(c->result, sizeof(c->result), "%s", result ? result : "");
    struct vms_stats s;
    if (m) {
        vms_get_stats(m, &s);
        c->minor_faults = s.minor_faults;
        c->major_faults = s.major_faults;
        c->tlb_misses = s.tlb_misses;
        c->frames_used = s.frames_used;
        c->swap_used = s.swap_used;
        c->pswpin = s.vm.pswpin;
        c->pswpout = s.vm.pswpout;
    }
    if (!c->machine)
        return; /* a call that made no machine: nothing to draw it on */
    r->event_machine = c->machine;
    keep_call(r);
    if (!r->perfetto)
        return;
    use_track(r, c->machine, c->task);
    perfetto_call(r->perfetto, c->machine, c->task, c->begin, c->end, c->name, r->cur_text,
                  c->result);
    if (m)
        write_counters(r, c->machine, c->end, &s);
}

/* ---- events ---- */

/* Whether the event happened on a CPU: its JSON's "cpu" is not null (so a
 * kind this file does not know is placed as its schema says). */
static int event_on_cpu(const struct vms_event *ev)
{
    char json[512];
    int n = vms_event_json(ev, json, sizeof(json));
    return n > 0 && (size_t)n < sizeof(json) && !strstr(json, "\"cpu\":null") &&
           ev->cpu < VMS_MAX_CPUS;
}

/* A reclaim pass as a slice on the reclaim track, from its begin event to
 * its end event (their ticks: the slice takes none of its own). */
static void reclaim_slice(struct record *r, unsigned machine, const struct vms_event *ev)
{
    struct record_track *t = find_track(r, machine, PERFETTO_RECLAIM_TID);
    if (!t)
        return;
    if (ev->kind == VMS_EV_RECLAIM_BEGIN) {
        t->reclaim_begin = r->tick;
    } else if (ev->kind == VMS_EV_RECLAIM_END && t->reclaim_begin) {
        perfetto_slice(r->perfetto, machine, PERFETTO_RECLAIM_TID, t->reclaim_begin, r->tick,
                       "reclaim", ev->detail && strcmp(ev->detail, "kswapd") == 0
                                      ? "kswapd" : "direct reclaim");
        t->reclaim_begin = 0;
    }
}

void record_event(struct record *r, const struct vms_event *ev)
{
    r->tick++;
    if (r->in_call) {
        unsigned k = (unsigned)ev->kind;
        r->cur.kinds[k < RECORD_KINDS - 1 ? k : RECORD_KINDS - 1]++;
    }
    unsigned machine = r->in_call && r->cur.machine ? r->cur.machine : r->event_machine;
    if (!r->perfetto || !machine)
        return;
    int tid = PERFETTO_MACHINE_TID;
    if (perfetto_is_reclaim(ev->kind))
        tid = PERFETTO_RECLAIM_TID;
    else if (event_on_cpu(ev))
        tid = PERFETTO_CPU_TID(ev->cpu);
    else if (r->in_call)
        tid = r->cur.task;
    use_track(r, machine, tid);
    perfetto_event(r->perfetto, machine, tid, r->tick, ev);
    if (tid == PERFETTO_RECLAIM_TID)
        reclaim_slice(r, machine, ev);
}

uint64_t record_span_begin(struct record *r) { return ++r->tick; }

void record_span_end(struct record *r, unsigned machine, uint64_t begin, const char *name)
{
    r->tick++;
    if (!r->perfetto)
        return;
    use_track(r, machine, PERFETTO_MACHINE_TID);
    perfetto_span(r->perfetto, machine, PERFETTO_MACHINE_TID, begin, r->tick, name);
}

void record_set_machine(struct record *r, unsigned machine) { r->event_machine = machine; }

/* ---- pictures of the state ---- */

typedef int (*draw_fn)(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                       vms_addr walk);

/* DIR/machine-N-task-PID-WHAT.EXT, drawn by fn; a failure is remembered. */
static void draw_file(struct record *r, const char *dir, unsigned machine, int pid,
                      const char *what, const char *ext, draw_fn fn, vms_machine *m, vms_task *t,
                      const char *title, int has_walk, vms_addr walk)
{
    char path[4096];
    int n;
    if (pid)
        n = snprintf(path, sizeof(path), "%s/machine-%u-task-%d-%s.%s", dir, machine, pid, what, ext);
    else
        n = snprintf(path, sizeof(path), "%s/machine-%u-%s.%s", dir, machine, what, ext);
    if (n < 0 || (size_t)n >= sizeof(path)) { /* never a file of a cut name */
        fprintf(stderr, "cannot write into %s: the path is too long\n", dir);
        r->failed = 1;
        return;
    }
    FILE *out = fopen(path, "w");
    int rc = out ? fn(out, m, t, title, has_walk, walk) : -errno;
    if (out && fclose(out) != 0 && !rc)
        rc = -EIO;
    if (rc) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(-rc));
        r->failed = 1;
    }
}

static int draw_address_space(FILE *out, vms_machine *m, vms_task *t, const char *title,
                              int has_walk, vms_addr walk)
{
    (void)m, (void)has_walk, (void)walk;
    return svg_write_address_space(out, t, title);
}

static int draw_frames(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                       vms_addr walk)
{
    (void)t, (void)has_walk, (void)walk;
    return svg_write_frames(out, m, title);
}

/* The CPU rides in walk: the drawing functions share one signature. */
static int draw_tlbs(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                     vms_addr cpu)
{
    (void)t, (void)has_walk;
    return svg_write_tlbs(out, m, (unsigned)cpu, title);
}

static int draw_vma_tree(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                         vms_addr walk)
{
    (void)m, (void)has_walk, (void)walk;
    return dot_write_vma_tree(out, t, title);
}

/* "machine 1, task 1000 (threads 1001, 1002): page tables" */
static void space_title(char *buf, size_t size, unsigned machine, const int *pids, const char *what)
{
    int n = snprintf(buf, size, "machine %u, task %d", machine, pids[0]);
    for (int k = 1; k < 8 && pids[k] && n > 0 && (size_t)n < size; k++)
        n += snprintf(buf + n, size - (size_t)n, "%s%d", k == 1 ? " (threads " : ", ", pids[k]);
    if (pids[1] && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, ")");
    if (n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ": %s", what);
}

void record_snapshot(struct record *r, vms_machine *m, unsigned number, int has_default,
                     vms_addr default_walk)
{
    if (!r->opt.dot && !r->opt.svg)
        return;
    for (size_t i = 0; i < r->ndrawn; i++)
        if (r->drawn[i] == number)
            return;
    if (r->ndrawn < sizeof(r->drawn) / sizeof(r->drawn[0]))
        r->drawn[r->ndrawn++] = number;
    int has_walk = r->has_walk || has_default;
    vms_addr walk = r->has_walk ? r->walk : default_walk;
    struct view_spaces spaces;
    view_spaces_read(m, &spaces);
    for (size_t i = 0; i < spaces.n && r->opt.dot; i++) {
        char title[160];
        int pid = spaces.pids[i][0];
        space_title(title, sizeof(title), number, spaces.pids[i], "page tables");
        draw_file(r, r->opt.dot, number, pid, "pgtable", "dot", dot_write_pgtable, m,
                  spaces.task[i], title, has_walk, walk);
        space_title(title, sizeof(title), number, spaces.pids[i], "the VMA tree");
        draw_file(r, r->opt.dot, number, pid, "vma-tree", "dot", draw_vma_tree, m,
                  spaces.task[i], title, 0, 0);
    }
    for (size_t i = 0; i < spaces.n && r->opt.svg; i++) {
        char title[160];
        int pid = spaces.pids[i][0];
        space_title(title, sizeof(title), number, spaces.pids[i], "address space");
        draw_file(r, r->opt.svg, number, pid, "address-space", "svg", draw_address_space, m,
                  spaces.task[i], title, 0, 0);
        space_title(title, sizeof(title), number, spaces.pids[i], "page tables");
        draw_file(r, r->opt.svg, number, pid, "pgtable", "svg", svg_write_pgtable, m,
                  spaces.task[i], title, has_walk, walk);
    }
    if (!r->opt.svg)
        return;
    for (unsigned cpu = 0; cpu < vms_cpu_count(m); cpu++) {
        char title[64], what[32];
        snprintf(title, sizeof(title), "machine %u, CPU %u: TLBs", number, cpu);
        snprintf(what, sizeof(what), "cpu-%u-tlb", cpu);
        draw_file(r, r->opt.svg, number, 0, what, "svg", draw_tlbs, m, NULL, title, 0, cpu);
    }
    char title[64];
    snprintf(title, sizeof(title), "machine %u: physical memory", number);
    draw_file(r, r->opt.svg, number, 0, "frames", "svg", draw_frames, m, NULL, title, 0, 0);
}

/* One timeline per machine that had calls, at the end of the run. */
static void draw_timelines(struct record *r)
{
    for (size_t i = 0; i < r->ncalls; i++) {
        unsigned machine = r->calls[i].machine;
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            first = r->calls[k].machine != machine;
        if (!first)
            continue;
        char path[4096], title[64];
        int n = snprintf(path, sizeof(path), "%s/machine-%u-timeline.svg", r->opt.svg, machine);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(stderr, "cannot write into %s: the path is too long\n", r->opt.svg);
            r->failed = 1;
            return;
        }
        snprintf(title, sizeof(title), "machine %u: timeline", machine);
        FILE *out = fopen(path, "w");
        int rc = out ? svg_write_timeline(out, r->calls, r->ncalls, machine, title) : -errno;
        if (out && fclose(out) != 0 && !rc)
            rc = -EIO;
        if (rc) {
            fprintf(stderr, "cannot write %s: %s\n", path, strerror(-rc));
            r->failed = 1;
        }
    }
}
