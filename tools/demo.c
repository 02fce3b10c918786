/*
 * `vmsim demo`: the life of one anonymous page, told by the running
 * simulator. mmap creates a VMA; the first store walks four missing levels
 * of page table, faults them in and fills the TLB; the next access hits; a
 * thread on another CPU walks on its own; munmap removes the VMA and shoots
 * down the other CPU's TLB entry. Only the public API is used: what happens
 * inside is seen through the trace callback, vms_walk and the counters.
 * Every address printed comes from the deterministic simulator, so the output
 * is the same on every run.
 */
#include "cli.h"
#include "vmsim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_BYTES 4096ULL
#define STORY_PAGES 4
#define RULE_WIDTH 78

/* ANSI escapes, all "" when colour is off. */
struct palette {
    const char *head, *dim, *miss, *walk, *alloc, *fault, *fill, *flush, *reset;
};

struct demo {
    FILE *out;
    struct palette c;
    vms_machine *m;
    vms_task *proc, *thread;
    uint64_t va;             /* the page this story follows */
    struct vms_stats before; /* counters at the start of the current step */
    int narrate;             /* print trace events as they happen */
    int failures;
};

/* ---- output helpers ---- */

static void say(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
}

static void heading(struct demo *d, int number, const char *title)
{
    char text[RULE_WIDTH + 1];
    int n = snprintf(text, sizeof(text), "== %d. %s ", number, title);
    say(d, "\n%s%s", d->c.head, text);
    for (int i = n; i < RULE_WIDTH; i++)
        fputc('=', d->out);
    say(d, "%s\n\n", d->c.reset);
}

/* A problem the simulator should not have: reported, and the exit status says so. */
static void expect(struct demo *d, int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "vmsim demo: unexpected: %s\n", what);
        d->failures++;
    }
}

static void set_palette(struct palette *p, int color)
{
    if (!color) {
        *p = (struct palette){"", "", "", "", "", "", "", "", ""};
        return;
    }
    *p = (struct palette){.head = "\033[1m", .dim = "\033[2m", .miss = "\033[33m",
                          .walk = "\033[36m", .alloc = "\033[35m", .fault = "\033[1;31m",
                          .fill = "\033[32m", .flush = "\033[34m", .reset = "\033[0m"};
}

/* ---- trace events ---- */

static const char *level_name(int level, int levels)
{
    static const char *const names[] = {"?", "PTE", "PMD", "PUD", "P4D", "PGD"};
    if (level == levels)
        return "PGD";
    return level >= 1 && level <= 4 ? names[level] : "?";
}

static unsigned index_at(uint64_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/* One narrated event: a coloured tag, then the CPU (if any), then the text. */
static void event_line(struct demo *d, const char *color, const char *tag, int cpu,
                       const char *fmt, ...)
{
    say(d, "    %s%-6s%s ", color, tag, d->c.reset);
    if (cpu >= 0)
        say(d, "CPU %d  ", cpu);
    else
        say(d, "       ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
}

static void on_tlb_miss(struct demo *d, const struct vms_event *ev)
{
    event_line(d, d->c.miss, "miss", (int)ev->cpu, "%s",
               ev->level == 2 ? "L1 DTLB miss, L2 TLB miss: walk the page tables"
                              : "L1 DTLB miss, L2 TLB hit");
}

static void on_walk_step(struct demo *d, const struct vms_event *ev)
{
    char what[48];
    uint64_t next = ev->entry & 0x000ffffffffff000ULL;
    if (!(ev->entry & 1))
        snprintf(what, sizeof(what), "not present -> #PF");
    else if (ev->level == 1)
        snprintf(what, sizeof(what), "-> frame 0x%08" PRIx64, next);
    else
        snprintf(what, sizeof(what), "-> %s 0x%08" PRIx64, level_name(ev->level - 1, 4), next);
    char slot[16];
    snprintf(slot, sizeof(slot), "%s[%u]", level_name(ev->level, 4), ev->index);
    event_line(d, d->c.walk, "walk", (int)ev->cpu, "%-8s @ 0x%08" PRIx64 " = 0x%016" PRIx64 "  %s",
               slot, ev->pa, ev->entry, what);
}

static void on_pgtable(struct demo *d, const struct vms_event *ev, int alloc)
{
    if (alloc)
        event_line(d, d->c.alloc, "alloc", -1,
                   "new %s table at 0x%08" PRIx64 ", linked from %s[%u]",
                   level_name(ev->level, 4), ev->pa, level_name(ev->level + 1, 4),
                   index_at(ev->a, ev->level + 1));
    else
        event_line(d, d->c.alloc, "free", -1, "%s table at 0x%08" PRIx64 " freed",
                   level_name(ev->level, 4), ev->pa);
}

static void on_fault(struct demo *d, const struct vms_event *ev)
{
    const char *detail = ev->detail ? ev->detail : "?";
    unsigned slot = index_at(ev->a, 1);
    if (strcmp(detail, "anon") == 0)
        event_line(d, d->c.fault, "fault", (int)ev->cpu,
                   "anonymous, demand-zero: frame 0x%08" PRIx64 " zeroed, PTE[%u] -> it",
                   ev->pa, slot);
    else if (strcmp(detail, "zero-page") == 0)
        event_line(d, d->c.fault, "fault", (int)ev->cpu,
                   "read of untouched memory: PTE[%u] -> the zero page 0x%08" PRIx64, slot, ev->pa);
    else
        event_line(d, d->c.fault, "fault", (int)ev->cpu, "%s: frame 0x%08" PRIx64 ", PTE[%u]",
                   detail, ev->pa, slot);
}

static const char *signal_name(int signo)
{
    switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    default: return "signal";
    }
}

static const char *si_code_name(int signo, int code)
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

static void on_signal(struct demo *d, const struct vms_event *ev)
{
    int signo = (int)ev->index;
    event_line(d, d->c.fault, "signal", (int)ev->cpu, "%s %s at 0x%" PRIx64, signal_name(signo),
               si_code_name(signo, ev->level), ev->a);
}

static void on_flush(struct demo *d, const struct vms_event *ev)
{
    if (ev->b == 0) {
        event_line(d, d->c.flush, "flush", (int)ev->cpu, "whole TLB context flushed");
        return;
    }
    uint64_t pages = (ev->b - ev->a) / PAGE_BYTES;
    event_line(d, d->c.flush, "flush", (int)ev->cpu, "INVLPG 0x%" PRIx64 " (%" PRIu64 " page%s)",
               ev->a, pages, pages == 1 ? "" : "s");
}

static void on_event_other(struct demo *d, const struct vms_event *ev)
{
    switch (ev->kind) {
    case VMS_EV_TLB_FILL:
        event_line(d, d->c.fill, "fill", (int)ev->cpu,
                   "TLB: page 0x%" PRIx64 " -> frame 0x%08" PRIx64 " (L1 DTLB and L2 TLB)",
                   ev->a & ~(PAGE_BYTES - 1), ev->pa);
        break;
    case VMS_EV_IPI:
        event_line(d, d->c.flush, "ipi", (int)ev->cpu, "interrupted: flush request (shootdown)");
        break;
    case VMS_EV_CR3:
        event_line(d, d->c.flush, "cr3", (int)ev->cpu,
                   "CR3 <- PGD 0x%08" PRIx64 " (context switch, TLB flushed)", ev->pa);
        break;
    case VMS_EV_FRAME_ALLOC:
        event_line(d, d->c.alloc, "frame", -1, "frame 0x%08" PRIx64 " allocated", ev->pa);
        break;
    default:
        break;
    }
}

static void on_event(void *arg, const struct vms_event *ev)
{
    struct demo *d = arg;
    if (!d->narrate)
        return;
    switch (ev->kind) {
    case VMS_EV_TLB_MISS: on_tlb_miss(d, ev); break;
    case VMS_EV_WALK_STEP: on_walk_step(d, ev); break;
    case VMS_EV_PGTABLE_ALLOC: on_pgtable(d, ev, 1); break;
    case VMS_EV_PGTABLE_FREE: on_pgtable(d, ev, 0); break;
    case VMS_EV_FAULT: on_fault(d, ev); break;
    case VMS_EV_SIGNAL: on_signal(d, ev); break;
    case VMS_EV_FLUSH: on_flush(d, ev); break;
    default: on_event_other(d, ev); break;
    }
}

/* ---- counters ---- */

struct counter_row {
    const char *label;
    size_t offset; /* of a uint64_t in struct vms_cpu_stats */
};

static const struct counter_row counter_rows[] = {
    {"L1 DTLB hits", offsetof(struct vms_cpu_stats, dtlb_hits)},
    {"L1 DTLB misses", offsetof(struct vms_cpu_stats, dtlb_misses)},
    {"L2 TLB misses", offsetof(struct vms_cpu_stats, stlb_misses)},
    {"page walks", offsetof(struct vms_cpu_stats, page_walks)},
    {"walk references", offsetof(struct vms_cpu_stats, walk_refs)},
    {"single-page flushes", offsetof(struct vms_cpu_stats, flushes_single)},
    {"shootdowns started", offsetof(struct vms_cpu_stats, shootdowns)},
    {"IPIs sent", offsetof(struct vms_cpu_stats, ipis_sent)},
    {"IPIs received", offsetof(struct vms_cpu_stats, ipis_received)},
};

enum {
    ROW_DTLB_HIT = 1 << 0, ROW_DTLB_MISS = 1 << 1, ROW_STLB_MISS = 1 << 2, ROW_WALKS = 1 << 3,
    ROW_REFS = 1 << 4, ROW_FLUSH = 1 << 5, ROW_SHOOT = 1 << 6, ROW_IPI_OUT = 1 << 7,
    ROW_IPI_IN = 1 << 8,
    ROWS_TLB = ROW_DTLB_HIT | ROW_DTLB_MISS | ROW_STLB_MISS | ROW_WALKS | ROW_REFS,
    ROWS_SHOOTDOWN = ROW_FLUSH | ROW_SHOOT | ROW_IPI_OUT | ROW_IPI_IN,
};

static uint64_t cpu_counter(const struct vms_stats *s, unsigned cpu, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)&s->cpu[cpu] + offset, sizeof(v));
    return v;
}

static void begin_step(struct demo *d)
{
    vms_get_stats(d->m, &d->before);
}

/* The change of the chosen counters since begin_step(), for CPUs 0 and 1. */
static void print_deltas(struct demo *d, unsigned rows)
{
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    say(d, "  %s%-22s %8s %8s%s\n", d->c.dim, "counter (change)", "CPU 0", "CPU 1", d->c.reset);
    for (size_t i = 0; i < sizeof(counter_rows) / sizeof(counter_rows[0]); i++) {
        if (!(rows & (1u << i)))
            continue;
        say(d, "  %-22s", counter_rows[i].label);
        for (unsigned cpu = 0; cpu < 2; cpu++) {
            uint64_t v = cpu_counter(&now, cpu, counter_rows[i].offset) -
                         cpu_counter(&d->before, cpu, counter_rows[i].offset);
            say(d, " %+8" PRId64, (int64_t)v);
        }
        say(d, "\n");
    }
}

/* Machine-wide counters, before and after the current step. */
static void print_frame_change(struct demo *d)
{
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    say(d, "  %s%-22s %8s %8s%s\n", d->c.dim, "machine", "before", "after", d->c.reset);
    say(d, "  %-22s %8" PRIu64 " %8" PRIu64 "\n", "frames used", d->before.frames_used,
        now.frames_used);
    say(d, "  %-22s %8" PRIu64 " %8" PRIu64 "\n", "page-table frames", d->before.pgtable_frames,
        now.pgtable_frames);
    say(d, "  %-22s %8" PRIu64 " %8" PRIu64 "\n", "minor faults", d->before.minor_faults,
        now.minor_faults);
}

/* ---- the VMA list ---- */

/* Prints the task's /proc/PID/maps, marking the line of the story's VMA. */
static void print_maps(struct demo *d, vms_task *t)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f || vms_maps(t, f) != 0) {
        expect(d, 0, "vms_maps failed");
        if (f)
            fclose(f);
        free(text);
        return;
    }
    fclose(f);
    say(d, "  %s/proc/%d/maps, in address order:%s\n", d->c.dim, vms_task_pid(t), d->c.reset);
    if (size == 0)
        say(d, "    (no mappings)\n");
    for (char *line = text; *line;) {
        char *eol = strchr(line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        size_t shown = n;
        while (shown && line[shown - 1] == ' ') /* the kernel's trailing space */
            shown--;
        uint64_t start = strtoull(line, NULL, 16);
        say(d, "    %.*s%s\n", (int)shown, line, start == d->va ? "   <- the story's VMA" : "");
        line += eol ? n + 1 : n;
    }
    free(text);
}

/* ---- 1. mmap ---- */

static int64_t story_mmap(struct demo *d, unsigned pages, int prot, const char *prot_text)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    int64_t addr = vms_mmap(d->proc, 0, pages * PAGE_BYTES, prot, flags, -1, 0);
    char call[96];
    snprintf(call, sizeof(call), "mmap(NULL, 4096*%u, %s, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)", pages,
             prot_text);
    say(d, "    %s\n      = 0x%" PRIx64 "\n", call, (uint64_t)addr);
    expect(d, addr > 0, "mmap failed");
    return addr;
}

static void spawn_process(struct demo *d)
{
    d->proc = vms_spawn(d->m, "demo");
    expect(d, d->proc != NULL, "vms_spawn failed");
    if (!d->proc)
        return;
    say(d, "  vms_spawn() -> pid %d, a process with an empty address space.\n",
        vms_task_pid(d->proc));
    say(d, "  It runs on CPU 0, which loads its PGD (the top page table) into CR3:\n");
    vms_schedule(d->proc, 0);
}

static void step_mmap(struct demo *d)
{
    heading(d, 1, "mmap creates a VMA");
    spawn_process(d);
    if (!d->proc)
        return;
    say(d, "\n  Two neighbours first (different rights, so they stay separate VMAs):\n");
    story_mmap(d, 1, PROT_READ, "PROT_READ");
    story_mmap(d, 2, PROT_NONE, "PROT_NONE");
    begin_step(d);
    say(d, "  Then the mapping this story follows:\n");
    d->va = (uint64_t)story_mmap(d, STORY_PAGES, PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE");
    say(d, "\n  The search is top-down from mmap_base 0x7ffff7fff000: the new range takes\n"
           "  the highest free gap that fits, just below its neighbours.\n\n");
    print_maps(d, d->proc);
    say(d, "\n  mmap only recorded a VMA (start, end, rights) in the sorted list and the\n"
           "  red-black tree. No page and no page table exists for it yet. (The frames\n"
           "  in use are reserved frame 0, the shared zero page and the PGD.)\n\n");
    print_frame_change(d);
}

/* ---- 2. the first store ---- */

static void print_bits(struct demo *d, const char *label, uint64_t va, int hi, int lo)
{
    char bits[16];
    int n = 0;
    for (int b = hi; b >= lo; b--)
        bits[n++] = (char)('0' + ((va >> b) & 1));
    bits[n] = '\0';
    say(d, "    %-10s bits %2d..%-2d  %12s  = %" PRIu64 "\n", label, hi, lo, bits,
        (va >> lo) & ((1ULL << (hi - lo + 1)) - 1));
}

static void print_va_split(struct demo *d)
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

struct pte_bit {
    int bit;
    const char *name, *when_set, *when_clear;
};

static const struct pte_bit pte_bits[] = {
    {0, "P", "present: the MMU may use it", "not present"},
    {1, "RW", "writable", "read-only"},
    {2, "US", "user mode may access it", "kernel only"},
    {5, "A", "accessed (set by the walk)", "not accessed yet"},
    {6, "D", "dirty (set by the store)", "clean"},
    {63, "NX", "no execute (no PROT_EXEC)", "executable"},
};

static void print_pte(struct demo *d, const struct vms_walk *w)
{
    uint64_t e = w->step[w->levels - 1].entry;
    say(d, "\n  The PTE, PTE[%u] in table 0x%08" PRIx64 ", now holds 0x%016" PRIx64 ":\n",
        w->step[w->levels - 1].index, w->step[w->levels - 1].table_pa, e);
    for (size_t i = 0; i < sizeof(pte_bits) / sizeof(pte_bits[0]); i++) {
        int set = (int)((e >> pte_bits[i].bit) & 1);
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

static void show_frame_contents(struct demo *d, uint64_t pa)
{
    char bytes[3] = {0};
    expect(d, vms_phys_read(d->m, pa, bytes, 2) == 0, "vms_phys_read failed");
    expect(d, memcmp(bytes, "Hi", 2) == 0, "the frame does not hold \"Hi\"");
    say(d, "  Physical memory at 0x%08" PRIx64 " reads \"%s\": the store went to that frame.\n",
        pa, bytes);
}

static void step_first_store(struct demo *d)
{
    heading(d, 2, "The first store walks, faults, and fills the TLB");
    print_va_split(d);
    begin_step(d);
    say(d, "\n  vms_store(pid %d, 0x%" PRIx64 ", \"Hi\", 2) on CPU 0:\n", vms_task_pid(d->proc),
        d->va);
    expect(d, vms_store(d->proc, d->va, "Hi", 2) == 0, "the first store failed");
    say(d, "  Only the PGD existed: the walk stopped at its empty entry, the fault\n"
           "  handler built the PUD, PMD and PTE tables and a zeroed page, and the\n"
           "  retried access walked all four levels and cached the translation.\n");
    struct vms_walk w;
    expect(d, vms_walk(d->proc, d->va, &w) == 0 && w.present, "no translation after the store");
    print_pte(d, &w);
    show_frame_contents(d, w.pa);
    say(d, "\n  Two walks: 1 entry read before the fault, 4 after it.\n\n");
    print_deltas(d, ROWS_TLB);
    say(d, "\n");
    print_frame_change(d);
}

/* ---- 3. the TLB hit ---- */

static void load_and_show(struct demo *d, vms_task *t, const char *why)
{
    char bytes[3] = {0};
    say(d, "  vms_load(pid %d, 0x%" PRIx64 ", 2) on CPU %u%s\n", vms_task_pid(t), d->va,
        vms_task_cpu(t), why);
    expect(d, vms_load(t, d->va, bytes, 2) == 0, "a load of the page failed");
    expect(d, memcmp(bytes, "Hi", 2) == 0, "a load did not read \"Hi\"");
    say(d, "    = \"%s\"\n", bytes);
}

static void step_tlb_hit(struct demo *d)
{
    heading(d, 3, "The next access hits the TLB");
    begin_step(d);
    load_and_show(d, d->proc, ":");
    say(d, "  No event: the L1 DTLB held the translation, so no table was read.\n\n");
    print_deltas(d, ROWS_TLB);
}

/* ---- 4. a thread on CPU 1 ---- */

static void step_thread(struct demo *d)
{
    heading(d, 4, "A thread on CPU 1 has its own TLB");
    d->thread = vms_clone_thread(d->proc);
    expect(d, d->thread != NULL, "vms_clone_thread failed");
    if (!d->thread)
        return;
    say(d, "  vms_clone_thread(pid %d) -> pid %d, sharing the mm and its page tables.\n",
        vms_task_pid(d->proc), vms_task_pid(d->thread));
    say(d, "  vms_schedule(pid %d, CPU 1):\n", vms_task_pid(d->thread));
    expect(d, vms_schedule(d->thread, 1) == 0, "vms_schedule failed");
    begin_step(d);
    say(d, "\n");
    load_and_show(d, d->thread, ": CPU 1 has never seen the page");
    say(d, "  The tables exist now, so the walk finds the frame without a fault.\n");
    load_and_show(d, d->thread, " again:");
    say(d, "  No event: a hit in CPU 1's own L1 DTLB.\n\n");
    print_deltas(d, ROWS_TLB);
}

/* ---- 5. munmap and the shootdown ---- */

static void touch_after_unmap(struct demo *d)
{
    char byte;
    say(d, "\n  vms_load(pid %d, 0x%" PRIx64 ", 1) on CPU 1, after the unmap:\n",
        vms_task_pid(d->thread), d->va);
    int sig = vms_load(d->thread, d->va, &byte, 1);
    const struct vms_fault *f = vms_last_fault(d->thread);
    expect(d, sig == SIGSEGV && f->code == SEGV_MAPERR && f->addr == d->va,
           "no SIGSEGV/SEGV_MAPERR after munmap");
    say(d, "    = %s, si_code %s, si_addr 0x%" PRIx64 "\n", signal_name(sig),
        si_code_name(f->signo, f->code), f->addr);
    say(d, "  The entry was flushed, so CPU 1 walked again and found an empty PTE;\n"
           "  no VMA covers the address any more, so the fault is SEGV_MAPERR. Without\n"
           "  the shootdown CPU 1 would still have read the freed frame.\n");
}

static void step_munmap(struct demo *d)
{
    heading(d, 5, "munmap removes the VMA and shoots down CPU 1's entry");
    print_maps(d, d->proc);
    begin_step(d);
    say(d, "\n  vms_munmap(pid %d, 0x%" PRIx64 ", 4096*%d) on CPU 0:\n", vms_task_pid(d->proc),
        d->va, STORY_PAGES);
    int ret = vms_munmap(d->proc, d->va, STORY_PAGES * PAGE_BYTES);
    expect(d, ret == 0, "munmap failed");
    say(d, "    = %d\n", ret);
    say(d, "  CPU 1 runs the same mm, so CPU 0 interrupts it (IPI) to drop the page.\n\n");
    print_maps(d, d->proc);
    say(d, "\n");
    print_deltas(d, ROWS_SHOOTDOWN);
    say(d, "\n");
    print_frame_change(d);
    say(d, "\n  The frame went back to the allocator. The page tables stay: the\n"
           "  neighbours still live under the same PTE table.\n");
    touch_after_unmap(d);
}

/* ---- 6. summary ---- */

static void summary_row(struct demo *d, const char *label, const struct vms_stats *s,
                        size_t offset)
{
    uint64_t total = 0;
    say(d, "  %-22s", label);
    for (unsigned cpu = 0; cpu < 2; cpu++) {
        total += cpu_counter(s, cpu, offset);
        say(d, " %8" PRIu64, cpu_counter(s, cpu, offset));
    }
    say(d, " %8" PRIu64 "\n", total);
}

static void step_summary(struct demo *d)
{
    heading(d, 6, "Summary");
    struct vms_stats s;
    vms_get_stats(d->m, &s);
    say(d, "  %s%-22s %8s %8s %8s%s\n", d->c.dim, "counter", "CPU 0", "CPU 1", "total", d->c.reset);
    for (size_t i = 0; i < sizeof(counter_rows) / sizeof(counter_rows[0]); i++)
        summary_row(d, counter_rows[i].label, &s, counter_rows[i].offset);
    say(d, "  %-22s %8s %8s %8" PRIu64 "\n", "TLB hits, any level", "", "", s.tlb_hits);
    say(d, "  %-22s %8s %8s %8" PRIu64 "\n\n", "TLB misses, all levels", "", "", s.tlb_misses);
    uint64_t min_proc, min_thread, maj;
    vms_task_rusage(d->proc, &min_proc, &maj);
    vms_task_rusage(d->thread, &min_thread, &maj);
    say(d, "  %-22s pid %d: %" PRIu64 ", pid %d: %" PRIu64 ", machine: %" PRIu64 "\n",
        "minor faults", vms_task_pid(d->proc), min_proc, vms_task_pid(d->thread), min_thread,
        s.minor_faults);
    say(d, "  %-22s %" PRIu64 " of %" PRIu64 " (page tables: %" PRIu64 ")\n", "frames used",
        s.frames_used, s.frames_total, s.pgtable_frames);
    int ok = vms_check(d->m, stderr) == 0;
    expect(d, ok, "vms_check found a broken invariant");
    say(d, "  %-22s %s\n", "vms_check", ok ? "every invariant holds" : "FAILED");
}

/* ---- the subcommand ---- */

static void demo_usage(FILE *out)
{
    fprintf(out, "Usage: vmsim demo [--no-color]\n\n"
                 "Follows one anonymous page through the simulator: mmap creates a VMA, the\n"
                 "first store walks the 4-level page table and faults the page in, the TLB\n"
                 "caches it, a thread on a second CPU walks on its own, and munmap removes\n"
                 "it with a TLB shootdown. Every address shown comes from the simulator.\n\n"
                 "Options:\n"
                 "  --no-color  never colour the output (also: NO_COLOR set and not empty)\n"
                 "  -h, --help  show this help and exit\n");
}

/* Returns -1 to go on, or the exit status. */
static int parse_demo_args(int argc, char **argv, int *no_color)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-color") == 0) {
            *no_color = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            demo_usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "vmsim demo: unknown %s '%s'\nTry 'vmsim demo --help'.\n",
                    argv[i][0] == '-' ? "option" : "argument", argv[i]);
            return CLI_USAGE;
        }
    }
    return -1;
}

static vms_machine *create_machine(struct demo *d)
{
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = 64ULL << 20;
    cfg.ncpus = 2;
    cfg.trace = on_event;
    cfg.trace_arg = d;
    say(d, "%svmsim %s demo: the life of one anonymous page%s\n", d->c.head, VMSIM_VERSION,
        d->c.reset);
    say(d, "%s64 MiB of RAM, 2 CPUs, 4-level page tables; per CPU an L1 DTLB of %u entries\n"
           "(%u-way) and an L2 TLB of %u entries (%u-way); no PCID.%s\n",
        d->c.dim, cfg.dtlb.entries, cfg.dtlb.ways, cfg.stlb.entries, cfg.stlb.ways, d->c.reset);
    return vms_machine_create(&cfg);
}

static void run_story(struct demo *d)
{
    d->narrate = 1;
    step_mmap(d);
    if (d->proc && d->va) {
        step_first_store(d);
        step_tlb_hit(d);
        step_thread(d);
    }
    if (d->thread) {
        step_munmap(d);
        step_summary(d);
    }
    d->narrate = 0;
}

int demo_main(int argc, char **argv)
{
    int no_color = 0;
    int status = parse_demo_args(argc, argv, &no_color);
    if (status >= 0)
        return status;
    struct demo d = {.out = stdout};
    set_palette(&d.c, cli_use_color(stdout, no_color));
    d.m = create_machine(&d);
    if (!d.m) {
        perror("vmsim demo: cannot create the machine");
        return CLI_FAILED;
    }
    run_story(&d);
    vms_machine_destroy(d.m);
    if (fflush(stdout) != 0)
        d.failures++;
    return d.failures ? CLI_FAILED : CLI_OK;
}
