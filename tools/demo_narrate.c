/*
 * `vmsim demo`, the narration: headings and colours, one line per trace event
 * (worded by the library's vms_event_format, coloured here), the counter
 * tables, the maps text and a PTE taken apart bit by bit. Everything comes
 * through the public API: the trace callback, vms_walk, vms_maps and the
 * counters.
 */
#include "demo.h"
#include "record.h"
#include "report.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- output helpers ---- */

void say(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
}

/* The report's step for the story's step that ends: the state after it. */
void demo_report_step(struct demo *d)
{
    if (d->report && d->step_title[0])
        report_call(d->report, d->m, "step", d->step_title, 0);
    d->step_title[0] = '\0';
}

void heading(struct demo *d, int number, const char *title)
{
    demo_chapter_end(d);
    if (d->rec) {
        snprintf(d->chapter, sizeof(d->chapter), "%d. %s", number, title);
        d->chapter_begin = record_span_begin(d->rec);
    }
    demo_report_step(d);
    snprintf(d->step_title, sizeof(d->step_title), "%d. %s", number, title);
    char text[RULE_WIDTH + 1];
    int n = snprintf(text, sizeof(text), "== %d. %s ", number, title);
    say(d, "\n%s%s", d->c.head, text);
    for (int i = n; i < RULE_WIDTH; i++)
        fputc('=', d->out);
    say(d, "%s\n\n", d->c.reset);
}

/* A problem the simulator should not have: reported, and the exit status says so. */
void expect(struct demo *d, int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "vmsim demo: unexpected: %s\n", what);
        d->failures++;
    }
}

void set_palette(struct palette *p, int color)
{
    if (!color) {
        *p = (struct palette){"", "", "", "", "", "", "", "", ""};
        return;
    }
    *p = (struct palette){.head = "\033[1m", .dim = "\033[2m", .miss = "\033[33m",
                          .walk = "\033[36m", .alloc = "\033[35m", .fault = "\033[1;31m",
                          .fill = "\033[32m", .flush = "\033[34m", .reset = "\033[0m"};
}

void say_quoted(struct demo *d, const char *bytes, size_t len)
{
    fputc('"', d->out);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)bytes[i];
        if (ch == '\n')
            say(d, "\\n");
        else if (ch == '"' || ch == '\\')
            say(d, "\\%c", ch);
        else if (isprint(ch))
            fputc(ch, d->out);
        else
            say(d, "\\x%02x", ch);
    }
    fputc('"', d->out);
}

const char *signal_name(int signo)
{
    switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    default: return "signal";
    }
}

const char *si_code_name(int signo, int code)
{
    if (signo != SIGSEGV)
        return "";
    switch (code) {
    case SEGV_MAPERR: return "SEGV_MAPERR";
    case SEGV_ACCERR: return "SEGV_ACCERR";
    case SEGV_PKUERR: return "SEGV_PKUERR";
    default: return "SI_KERNEL";
    }
}

/* ---- trace events ---- */

const char *palette_event_color(const struct palette *c, enum vms_event_kind kind)
{
    switch (kind) {
    case VMS_EV_TLB_MISS: return c->miss;
    case VMS_EV_WALK_STEP: return c->walk;
    case VMS_EV_PGTABLE_ALLOC:
    case VMS_EV_PGTABLE_FREE:
    case VMS_EV_FRAME_ALLOC:
    case VMS_EV_FRAME_FREE:
    case VMS_EV_RECLAIM_BEGIN:
    case VMS_EV_RECLAIM_END:
    case VMS_EV_SWAP_OUT:
    case VMS_EV_SWAP_IN:
    case VMS_EV_PAGEOUT: return c->alloc;
    case VMS_EV_REFAULT: return c->fault;
    case VMS_EV_FAULT:
    case VMS_EV_SIGNAL: return c->fault;
    case VMS_EV_TLB_FILL: return c->fill;
    case VMS_EV_FLUSH:
    case VMS_EV_IPI:
    case VMS_EV_CR3: return c->flush;
    default: return c->head;
    }
}

/* The library's line for the event (vms_event_format), indented, its tag
 * word in the kind's colour. */
void on_event(void *arg, const struct vms_event *ev)
{
    struct demo *d = arg;
    if (d->rec)
        record_event(d->rec, ev);
    if (d->report)
        report_event(d->report, ev);
    if (!d->narrate)
        return;
    char line[256];
    vms_event_format(ev, line, sizeof(line)); /* longer lines are cut, never overrun */
    size_t tag = strcspn(line, " ");
    say(d, "    %s%.*s%s%s\n", palette_event_color(&d->c, ev->kind), (int)tag, line, d->c.reset,
        line + tag);
}

/* ---- the pictures of the run ---- */

/* The story runs on machine 1. */
#define DEMO_MACHINE 1

void demo_call_begin(struct demo *d, vms_task *t, const char *name, const char *fmt, ...)
{
    if (!d->rec)
        return;
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    record_call_begin(d->rec, DEMO_MACHINE, t ? vms_task_pid(t) : 0, name, text);
}

void demo_call_end(struct demo *d, const char *fmt, ...)
{
    if (!d->rec)
        return;
    char result[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(result, sizeof(result), fmt, ap);
    va_end(ap);
    record_call_end(d->rec, d->m, 0, result);
}

void demo_chapter_end(struct demo *d)
{
    if (!d->rec || !d->chapter[0])
        return;
    record_span_end(d->rec, DEMO_MACHINE, d->chapter_begin, d->chapter);
    d->chapter[0] = '\0';
}

/* ---- counters ---- */

struct counter_row {
    const char *label;
    size_t offset; /* of a uint64_t in struct vms_cpu_stats, or in struct vms_stats */
};

static const struct counter_row cpu_rows[] = {
    {"L1 DTLB hits", offsetof(struct vms_cpu_stats, dtlb_hits)},
    {"L1 DTLB misses", offsetof(struct vms_cpu_stats, dtlb_misses)},
    {"L2 TLB misses", offsetof(struct vms_cpu_stats, stlb_misses)},
    {"page walks", offsetof(struct vms_cpu_stats, page_walks)},
    {"walk references", offsetof(struct vms_cpu_stats, walk_refs)},
    {"single-page flushes", offsetof(struct vms_cpu_stats, flushes_single)},
    {"full flushes", offsetof(struct vms_cpu_stats, flushes_full)},
    {"shootdowns started", offsetof(struct vms_cpu_stats, shootdowns)},
    {"IPIs sent", offsetof(struct vms_cpu_stats, ipis_sent)},
    {"IPIs received", offsetof(struct vms_cpu_stats, ipis_received)},
};

static const struct counter_row machine_rows[] = {
    {"frames used", offsetof(struct vms_stats, frames_used)},
    {"page-table frames", offsetof(struct vms_stats, pgtable_frames)},
    {"page-cache frames", offsetof(struct vms_stats, cache_frames)},
    {"dirty cache pages", offsetof(struct vms_stats, dirty_pages)},
    {"minor faults", offsetof(struct vms_stats, minor_faults)},
    {"major faults", offsetof(struct vms_stats, major_faults)},
    {"bytes disk -> cache", offsetof(struct vms_stats, io.disk_to_cache)},
    {"bytes cache -> disk", offsetof(struct vms_stats, io.cache_to_disk)},
};

#define NR_ROWS(rows) (sizeof(rows) / sizeof(rows[0]))

static uint64_t counter_at(const void *base, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)base + offset, sizeof(v));
    return v;
}

static uint64_t cpu_counter(const struct vms_stats *s, unsigned cpu, size_t offset)
{
    return counter_at(&s->cpu[cpu], offset);
}

void begin_step(struct demo *d)
{
    vms_get_stats(d->m, &d->before);
}

/* The change of the chosen counters since begin_step(), for CPUs 0 and 1. */
void print_deltas(struct demo *d, unsigned rows)
{
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    say(d, "  %s%-22s %8s %8s%s\n", d->c.dim, "counter (change)", "CPU 0", "CPU 1", d->c.reset);
    for (size_t i = 0; i < NR_ROWS(cpu_rows); i++) {
        if (!(rows & (1u << i)))
            continue;
        say(d, "  %-22s", cpu_rows[i].label);
        for (unsigned cpu = 0; cpu < 2; cpu++) {
            uint64_t v = cpu_counter(&now, cpu, cpu_rows[i].offset) -
                         cpu_counter(&d->before, cpu, cpu_rows[i].offset);
            say(d, " %+8" PRId64, (int64_t)v);
        }
        say(d, "\n");
    }
}

/* The chosen machine-wide counters, before and after the current step. */
void print_machine_change(struct demo *d, unsigned rows)
{
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    say(d, "  %s%-22s %8s %8s%s\n", d->c.dim, "machine", "before", "after", d->c.reset);
    for (size_t i = 0; i < NR_ROWS(machine_rows); i++)
        if (rows & (1u << i))
            say(d, "  %-22s %8" PRIu64 " %8" PRIu64 "\n", machine_rows[i].label,
                counter_at(&d->before, machine_rows[i].offset),
                counter_at(&now, machine_rows[i].offset));
}

void print_cpu_totals(struct demo *d)
{
    struct vms_stats s;
    vms_get_stats(d->m, &s);
    say(d, "  %s%-22s %8s %8s %8s%s\n", d->c.dim, "counter", "CPU 0", "CPU 1", "total", d->c.reset);
    for (size_t i = 0; i < NR_ROWS(cpu_rows); i++) {
        uint64_t total = 0;
        say(d, "  %-22s", cpu_rows[i].label);
        for (unsigned cpu = 0; cpu < 2; cpu++) {
            total += cpu_counter(&s, cpu, cpu_rows[i].offset);
            say(d, " %8" PRIu64, cpu_counter(&s, cpu, cpu_rows[i].offset));
        }
        say(d, " %8" PRIu64 "\n", total);
    }
}

/* ---- the maps text ---- */

/* The task's /proc/PID/maps text in a malloc'd string, or NULL. */
static char *maps_text(struct demo *d, vms_task *t)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    int ok = f && vms_maps(t, f) == 0;
    if (f)
        fclose(f);
    expect(d, ok, "vms_maps failed");
    if (!ok) {
        free(text);
        return NULL;
    }
    return text;
}

void print_maps(struct demo *d, vms_task *t)
{
    char *text = maps_text(d, t);
    if (!text)
        return;
    say(d, "  %s/proc/%d/maps:%s\n", d->c.dim, vms_task_pid(t), d->c.reset);
    if (!*text)
        say(d, "    (no mappings)\n");
    for (char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        size_t shown = n;
        while (shown && line[shown - 1] == ' ') /* the kernel's trailing space */
            shown--;
        say(d, "    %.*s\n", (int)shown, line);
        line += line[n] ? n + 1 : n;
    }
    free(text);
}

/* The first line of the maps text, split into its fields. */
void explain_maps_line(struct demo *d, vms_task *t)
{
    char *text = maps_text(d, t);
    if (!text)
        return;
    char range[40], perms[8], offset[20], dev[8], path[64];
    unsigned long long inode;
    int n = sscanf(text, "%39s %7s %19s %7s %llu %63s", range, perms, offset, dev, &inode, path);
    expect(d, n == 6, "the maps line of the file has not six fields");
    if (n == 6) {
        char pages[48];
        snprintf(pages, sizeof(pages), "%" PRIu64 " bytes take one whole page", d->size);
        say(d, "    %-8s %-26s %s\n", "range", range, pages);
        say(d, "    %-8s %-26s %s\n", "perms", perms, "s: shared, stores reach the file");
        say(d, "    %-8s %-26s %s\n", "offset", offset, "file offset of the first page");
        say(d, "    %-8s %-26s %s\n", "device", dev, "the machine's one disk");
        say(d, "    %-8s %-26llu %s\n", "inode", inode, "the file's inode number");
        say(d, "    %-8s %-26s %s\n", "path", path, "as seen inside the machine");
    }
    free(text);
}

/* ---- the virtual address and the PTE ---- */

static void print_bits(struct demo *d, const char *label, uint64_t va, int hi, int lo)
{
    char bits[16];
    int n = 0;
    for (int b = hi; b >= lo; b--)
        bits[n++] = (char)('0' + ((va >> b) & 1));
    bits[n] = '\0';
    say(d, "    %-10s bits %2d..%-2d  %12s  = %" PRIu64 "\n", label, hi, lo, bits,
        (va >> lo) & (((uint64_t)1 << (hi - lo + 1)) - 1));
}

void print_va_split(struct demo *d)
{
    say(d, "  The MMU cuts the 48-bit address into 9 + 9 + 9 + 9 + 12 bits: one index\n"
           "  (0..511) per table level, then the offset in the 4 KiB page.\n");
    say(d, "    va 0x%016" PRIx64 "\n", d->va);
    print_bits(d, "PGD index", d->va, 47, 39);
    print_bits(d, "PUD index", d->va, 38, 30);
    print_bits(d, "PMD index", d->va, 29, 21);
    print_bits(d, "PTE index", d->va, 20, 12);
    print_bits(d, "offset", d->va, 11, 0);
}

struct pte_bit_info {
    int bit;
    const char *name, *when_set, *when_clear;
};

static const struct pte_bit_info pte_bits[] = {
    {0, "P", "present: the MMU may use it", "not present"},
    {1, "RW", "writable", "read-only: a store faults"},
    {2, "US", "user mode may access it", "kernel only"},
    {5, "A", "accessed (set by the walk)", "not accessed yet"},
    {6, "D", "dirty (set by a store)", "clean"},
    {63, "NX", "no execute (no PROT_EXEC)", "executable"},
};

static uint64_t leaf_entry(const struct vms_walk *w)
{
    return w->step[w->levels - 1].entry;
}

int pte_bit(const struct vms_walk *w, int bit)
{
    return (int)((leaf_entry(w) >> bit) & 1);
}

void print_pte(struct demo *d, const struct vms_walk *w)
{
    uint64_t e = leaf_entry(w);
    say(d, "  The PTE, PTE[%u] in table 0x%08" PRIx64 ", holds 0x%016" PRIx64 ":\n",
        w->step[w->levels - 1].index, w->step[w->levels - 1].table_pa, e);
    for (size_t i = 0; i < NR_ROWS(pte_bits); i++) {
        int set = pte_bit(w, pte_bits[i].bit);
        char where[16];
        snprintf(where, sizeof(where), "bit %d", pte_bits[i].bit);
        say(d, "    %-12s %-4s %-6d %s\n", where, pte_bits[i].name, set,
            set ? pte_bits[i].when_set : pte_bits[i].when_clear);
    }
    uint64_t pfn = (e & 0x000ffffffffff000ULL) >> 12;
    char value[24];
    snprintf(value, sizeof(value), "0x%" PRIx64, pfn);
    say(d, "    %-12s %-4s %-6s frame number: the page is at 0x%08" PRIx64 "\n", "bits 51..12",
        "PFN", value, pfn << 12);
}

void print_pte_short(struct demo *d, const struct vms_walk *w)
{
    say(d, "  PTE[%u] = 0x%016" PRIx64 ":", w->step[w->levels - 1].index, leaf_entry(w));
    for (size_t i = 0; i < NR_ROWS(pte_bits); i++)
        say(d, " %s=%d", pte_bits[i].name, pte_bit(w, pte_bits[i].bit));
    say(d, "\n");
}
