/*
 * The Chrome trace-event JSON writer (perfetto.h). Every record is one line
 * inside the "traceEvents" array; the first line after the header carries
 * no comma, the others start with one, so the array is valid whenever the
 * file is closed.
 */
#include "perfetto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct perfetto {
    FILE *out;
    int records; /* written into the array so far */
};

static const char header[] = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"vmsim "
                             VMSIM_VERSION "\",\"clock\":\"one tick per call start, event and "
                             "call end\"},\n\"traceEvents\":[\n";

struct perfetto *perfetto_open(const char *path, char *err, size_t errsize)
{
    struct perfetto *p = calloc(1, sizeof(*p));
    FILE *out = p ? fopen(path, "w") : NULL;
    if (!out) {
        snprintf(err, errsize, "cannot write %s: %s", path, strerror(p ? errno : ENOMEM));
        free(p);
        return NULL;
    }
    *p = (struct perfetto){.out = out};
    fputs(header, out);
    return p;
}

int perfetto_close(struct perfetto *p)
{
    if (!p)
        return 0;
    int rc = -1;
    if (p->out) {
        fputs("\n]}\n", p->out);
        rc = ferror(p->out) ? -1 : 0;
        if (fclose(p->out) != 0)
            rc = -1;
    }
    free(p);
    return rc;
}

/* ---- pieces of JSON ---- */

static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20 || c >= 0x7f) /* the Lua quoting keeps text ASCII; this keeps JSON valid */
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* Opens the next record: a comma before all but the first. */
static FILE *record(struct perfetto *p)
{
    if (p->records++)
        fputs(",\n", p->out);
    return p->out;
}

/* ---- metadata ---- */

void perfetto_process(struct perfetto *p, unsigned machine, const char *name)
{
    FILE *o = record(p);
    fprintf(o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"ts\":0,\"name\":\"process_name\",\"args\":{\"name\":",
            machine);
    put_string(o, name);
    fputs("}}", o);
    o = record(p);
    fprintf(o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"ts\":0,\"name\":\"process_sort_index\","
               "\"args\":{\"sort_index\":%u}}",
            machine, machine);
}

void perfetto_thread(struct perfetto *p, unsigned machine, int tid, const char *name)
{
    FILE *o = record(p);
    fprintf(o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%d,\"ts\":0,\"name\":\"thread_name\",\"args\":{\"name\":",
            machine, tid);
    put_string(o, name);
    fputs("}}", o);
    /* the machine first, then the CPUs, then the tasks by pid */
    o = record(p);
    fprintf(o, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%d,\"ts\":0,\"name\":\"thread_sort_index\","
               "\"args\":{\"sort_index\":%d}}",
            machine, tid, tid);
}

/* ---- calls and events ---- */

void perfetto_call(struct perfetto *p, unsigned machine, int tid, uint64_t begin, uint64_t end,
                   const char *name, const char *text, const char *result)
{
    FILE *o = record(p);
    fprintf(o, "{\"ph\":\"X\",\"cat\":\"call\",\"pid\":%u,\"tid\":%d,\"ts\":%" PRIu64
               ",\"dur\":%" PRIu64 ",\"name\":",
            machine, tid, begin, end - begin);
    put_string(o, name);
    fputs(",\"args\":{\"call\":", o);
    put_string(o, text ? text : name);
    fputs(",\"result\":", o);
    put_string(o, result ? result : "");
    fputs("}}", o);
}

void perfetto_slice(struct perfetto *p, unsigned machine, int tid, uint64_t begin, uint64_t end,
                    const char *category, const char *name)
{
    FILE *o = record(p);
    fprintf(o, "{\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%u,\"tid\":%d,\"ts\":%" PRIu64
               ",\"dur\":%" PRIu64 ",\"name\":",
            category, machine, tid, begin, end - begin);
    put_string(o, name);
    fputs("}", o);
}

void perfetto_span(struct perfetto *p, unsigned machine, int tid, uint64_t begin, uint64_t end,
                   const char *name)
{
    perfetto_slice(p, machine, tid, begin, end, "step", name);
}

int perfetto_is_reclaim(enum vms_event_kind k)
{
    switch (k) {
    case VMS_EV_RECLAIM_BEGIN:
    case VMS_EV_RECLAIM_END:
    case VMS_EV_SWAP_OUT:
    case VMS_EV_SWAP_IN:
    case VMS_EV_PAGEOUT:
    case VMS_EV_REFAULT: return 1;
    default: return 0;
    }
}

void perfetto_event_title(const struct vms_event *ev, char *buf, size_t size)
{
    const char *kind = vms_event_name(ev->kind);
    if (ev->kind == VMS_EV_WALK_STEP && ev->detail)
        snprintf(buf, size, "%s %s[%u]", kind, ev->detail, ev->index);
    else if ((ev->kind == VMS_EV_FAULT || ev->kind == VMS_EV_FRAME_ALLOC ||
              ev->kind == VMS_EV_FRAME_FREE || ev->kind == VMS_EV_PGTABLE_ALLOC ||
              ev->kind == VMS_EV_PGTABLE_FREE || ev->kind == VMS_EV_RECLAIM_BEGIN ||
              ev->kind == VMS_EV_RECLAIM_END || ev->kind == VMS_EV_SWAP_OUT ||
              ev->kind == VMS_EV_SWAP_IN || ev->kind == VMS_EV_REFAULT) && ev->detail)
        snprintf(buf, size, "%s %s", kind, ev->detail);
    else if (ev->kind == VMS_EV_TLB_MISS)
        snprintf(buf, size, "%s L%d", kind, ev->level);
    else
        snprintf(buf, size, "%s", kind);
}

void perfetto_event(struct perfetto *p, unsigned machine, int tid, uint64_t ts,
                    const struct vms_event *ev)
{
    char title[96], json[512];
    perfetto_event_title(ev, title, sizeof(title));
    int n = vms_event_json(ev, json, sizeof(json));
    FILE *o = record(p);
    fprintf(o, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"event\",\"pid\":%u,\"tid\":%d,\"ts\":%" PRIu64
               ",\"name\":",
            machine, tid, ts);
    put_string(o, title);
    /* An event too long for the buffer (a very long detail) keeps its title only. */
    fprintf(o, ",\"args\":%s}", n > 0 && (size_t)n < sizeof(json) ? json : "{}");
}

void perfetto_counters(struct perfetto *p, unsigned machine, uint64_t ts,
                       const struct vms_stats *s)
{
    FILE *o = record(p);
    fprintf(o, "{\"ph\":\"C\",\"pid\":%u,\"ts\":%" PRIu64 ",\"name\":\"page faults\",\"args\":"
               "{\"minor\":%" PRIu64 ",\"major\":%" PRIu64 "}}",
            machine, ts, s->minor_faults, s->major_faults);
    o = record(p);
    fprintf(o, "{\"ph\":\"C\",\"pid\":%u,\"ts\":%" PRIu64 ",\"name\":\"TLB misses\",\"args\":"
               "{\"misses\":%" PRIu64 ",\"page walks\":%" PRIu64 "}}",
            machine, ts, s->tlb_misses, s->page_walks);
    o = record(p);
    fprintf(o, "{\"ph\":\"C\",\"pid\":%u,\"ts\":%" PRIu64 ",\"name\":\"frames used\",\"args\":"
               "{\"frames\":%" PRIu64 ",\"page tables\":%" PRIu64 ",\"page cache\":%" PRIu64 "}}",
            machine, ts, s->frames_used, s->pgtable_frames, s->cache_frames);
    o = record(p);
    fprintf(o, "{\"ph\":\"C\",\"pid\":%u,\"ts\":%" PRIu64 ",\"name\":\"memory\",\"args\":"
               "{\"free frames\":%" PRIu64 ",\"swap used\":%" PRIu64 "}}",
            machine, ts, s->frames_total - s->frames_used, s->swap_used);
    o = record(p);
    fprintf(o, "{\"ph\":\"C\",\"pid\":%u,\"ts\":%" PRIu64 ",\"name\":\"swap I/O\",\"args\":"
               "{\"pswpin\":%" PRIu64 ",\"pswpout\":%" PRIu64 "}}",
            machine, ts, s->vm.pswpin, s->vm.pswpout);
}
