/*
 * Trace events in words, as Linux's trace events (include/trace/events/)
 * carry a printing format with each event: the stable name of each kind,
 * one line of narration (what `vmsim demo` prints) and one JSON object per
 * event, whose schema docs/events.md describes. Both writers follow
 * snprintf: they never write past the buffer and return the length needed.
 * Simplification: the narration is English only.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* ---- a bounded writer with snprintf's return value ---- */

struct out {
    char *buf;
    size_t len;    /* bytes the caller gave, '\0' included */
    size_t needed; /* bytes the whole text takes, '\0' excluded */
};

static void out_init(struct out *o, char *buf, size_t len)
{
    *o = (struct out){.buf = len ? buf : NULL, .len = len};
    if (o->buf)
        o->buf[0] = '\0';
}

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    char *at = NULL;
    size_t room = 0;
    if (o->buf && o->needed < o->len) {
        at = o->buf + o->needed;
        room = o->len - o->needed;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->needed += (size_t)n;
}

static int out_result(const struct out *o)
{
    return o->needed > INT32_MAX ? INT32_MAX : (int)o->needed;
}

/* ---- names ---- */

static const char *const kind_names[] = {
    [VMS_EV_TLB_MISS] = "tlb-miss",
    [VMS_EV_WALK_STEP] = "walk",
    [VMS_EV_PGTABLE_ALLOC] = "pgtable-alloc",
    [VMS_EV_PGTABLE_FREE] = "pgtable-free",
    [VMS_EV_FAULT] = "fault",
    [VMS_EV_FRAME_ALLOC] = "frame-alloc",
    [VMS_EV_TLB_FILL] = "tlb-fill",
    [VMS_EV_FLUSH] = "flush",
    [VMS_EV_IPI] = "ipi",
    [VMS_EV_CR3] = "cr3",
    [VMS_EV_SIGNAL] = "signal",
    [VMS_EV_FORK] = "fork",
    [VMS_EV_FRAME_FREE] = "frame-free",
    [VMS_EV_OOM_KILL] = "oom-kill",
    [VMS_EV_PWC_HIT] = "pwc-hit",
    [VMS_EV_RECLAIM_BEGIN] = "reclaim-begin",
    [VMS_EV_RECLAIM_END] = "reclaim-end",
    [VMS_EV_SWAP_OUT] = "swap-out",
    [VMS_EV_SWAP_IN] = "swap-in",
    [VMS_EV_PAGEOUT] = "pageout",
    [VMS_EV_REFAULT] = "refault",
};

#define NR_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *vms_event_name(enum vms_event_kind k)
{
    unsigned i = (unsigned)k;
    return i < NR_KINDS && kind_names[i] ? kind_names[i] : "unknown";
}

/* The events of older builds carry no paging levels: theirs were 4. */
static int levels_of(const struct vms_event *ev)
{
    return ev->b == 5 ? 5 : 4;
}

static const char *level_name(const struct vms_event *ev, int level)
{
    const char *name = pgtable_level_name(level, levels_of(ev));
    return *name ? name : "?";
}

static unsigned index_at(uint64_t va, int level)
{
    return level >= 1 && level <= 5 ? (unsigned)(va >> (PAGE_SHIFT + 9 * (level - 1))) & 511 : 0;
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
    if (code == SI_KERNEL)
        return "SI_KERNEL";
    if (signo == SIGSEGV && code == SEGV_MAPERR)
        return "SEGV_MAPERR";
    if (signo == SIGSEGV && code == SEGV_ACCERR)
        return "SEGV_ACCERR";
    if (signo == SIGSEGV && code == SEGV_PKUERR)
        return "SEGV_PKUERR";
    if (signo == SIGBUS && code == BUS_ADRERR)
        return "BUS_ADRERR";
    return NULL;
}

/* ---- narration: one line per event ---- */

/* The tag column, then the CPU column (blank for an event of no CPU). */
static void line_start(struct out *o, const char *tag, const struct vms_event *ev, int has_cpu)
{
    put(o, "%-6s ", tag);
    if (has_cpu)
        put(o, "CPU %-2u ", ev->cpu);
    else
        put(o, "       ");
}

static void say_tlb_miss(struct out *o, const struct vms_event *ev)
{
    line_start(o, "miss", ev, 1);
    put(o, "%s", ev->level == 2 ? "L1 DTLB miss, L2 TLB miss: walk the page tables"
                                : "L1 DTLB miss, L2 TLB hit");
}

static void say_walk_step(struct out *o, const struct vms_event *ev)
{
    char slot[24];
    snprintf(slot, sizeof(slot), "%s[%u]", level_name(ev, ev->level), ev->index);
    line_start(o, "walk", ev, 1);
    put(o, "%-8s @ 0x%08" PRIx64 " = 0x%016" PRIx64 "  ", slot, ev->pa, ev->entry);
    uint64_t next = ev->entry & PTE_PFN_MASK;
    if (!(ev->entry & _PAGE_PRESENT))
        put(o, "not present -> #PF");
    else if (ev->level == 1)
        put(o, "-> frame 0x%08" PRIx64, next);
    else
        put(o, "-> %s 0x%08" PRIx64, level_name(ev, ev->level - 1), next);
}

/* The cache that held the entry above the first table read. */
static void say_pwc_hit(struct out *o, const struct vms_event *ev)
{
    static const char *const cache[] = {"", "PDE", "PDPTE", "PML4E"};
    line_start(o, "pwc", ev, 1);
    put(o, "%s cache hit: the walk starts at %s 0x%08" PRIx64,
        ev->level >= 1 && ev->level <= 3 ? cache[ev->level] : "?", level_name(ev, ev->level),
        ev->pa);
}

static void say_pgtable(struct out *o, const struct vms_event *ev, int alloc)
{
    line_start(o, alloc ? "alloc" : "free", ev, 0);
    if (alloc)
        put(o, "new %s table at 0x%08" PRIx64 ", linked from %s[%u]", level_name(ev, ev->level),
            ev->pa, level_name(ev, ev->level + 1), index_at(ev->a, ev->level + 1));
    else
        put(o, "%s table at 0x%08" PRIx64 " freed", level_name(ev, ev->level), ev->pa);
}

/* What each kind of fault did, worded around the PTE index and the frame. */
struct fault_words {
    const char *detail;
    const char *fmt; /* takes the PTE index, then the frame, or the other way round */
    int frame_first;
};

static const struct fault_words fault_words[] = {
    {"anon", "anonymous, demand-zero: frame 0x%08" PRIx64 " zeroed, PTE[%u] -> it", 1},
    {"zero-page", "read of untouched memory: PTE[%u] -> the zero page 0x%08" PRIx64, 0},
    {"write-notify", "write-notify: cache frame 0x%08" PRIx64 " now dirty, PTE[%u] made writable",
     1},
    {"file", "file page: PTE[%u] -> page-cache frame 0x%08" PRIx64, 0},
    {"file, read from disk", "file page read from the disk: PTE[%u] -> page-cache frame 0x%08" PRIx64,
     0},
    {"fault-around", "file page, with its cached neighbours (fault-around): PTE[%u] -> frame 0x%08"
     PRIx64, 0},
    {"shmem", "shared anonymous page: PTE[%u] -> shmem frame 0x%08" PRIx64, 0},
    {"cow", "copy-on-write: page copied into frame 0x%08" PRIx64 ", PTE[%u] -> it", 1},
    {"reuse", "write to a page no one else maps: frame 0x%08" PRIx64 " kept, PTE[%u] writable", 1},
};

static void say_fault(struct out *o, const struct vms_event *ev)
{
    const char *detail = ev->detail ? ev->detail : "?";
    unsigned slot = index_at(ev->a, 1);
    line_start(o, "fault", ev, 1);
    for (size_t i = 0; i < sizeof(fault_words) / sizeof(fault_words[0]); i++) {
        const struct fault_words *w = &fault_words[i];
        if (strcmp(detail, w->detail) != 0)
            continue;
        /* The table's formats are literals with the argument order their
         * frame_first flag states; the compiler cannot check them here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (w->frame_first)
            put(o, w->fmt, ev->pa, slot);
        else
            put(o, w->fmt, slot, ev->pa);
#pragma GCC diagnostic pop
        return;
    }
    put(o, "%s: frame 0x%08" PRIx64 ", PTE[%u]", detail, ev->pa, slot);
}

/* A large folio's frames after its first. */
static void say_folio(struct out *o, const struct vms_event *ev)
{
    if (ev->level > 0 && ev->level < 32)
        put(o, " (a folio of %u frames)", 1u << ev->level);
}

static int detail_is(const struct vms_event *ev, const char *word)
{
    return ev->detail && strcmp(ev->detail, word) == 0;
}

static void say_frame_alloc(struct out *o, const struct vms_event *ev)
{
    if (detail_is(ev, "page cache")) {
        line_start(o, "disk", ev, 0);
        put(o, "page-cache miss: file offset 0x%" PRIx64 " read into frame 0x%08" PRIx64, ev->a,
            ev->pa);
        say_folio(o, ev);
        return;
    }
    line_start(o, "frame", ev, 0);
    put(o, "frame 0x%08" PRIx64, ev->pa);
    if (detail_is(ev, "anon"))
        put(o, " zeroed for a write to anonymous memory at 0x%" PRIx64, ev->a);
    else if (detail_is(ev, "anon-read"))
        put(o, " zeroed for a read of anonymous memory at 0x%" PRIx64 " (no zero page)", ev->a);
    else if (detail_is(ev, "cow"))
        put(o, " takes a private copy of the page at 0x%" PRIx64, ev->a);
    else if (detail_is(ev, "shmem"))
        put(o, " zeroed for shared anonymous memory, offset 0x%" PRIx64, ev->a);
    else if (detail_is(ev, "page cache, zeroed"))
        put(o, " zeroed for the page cache, file offset 0x%" PRIx64 " (not read)", ev->a);
    else
        put(o, " allocated (%s)", ev->detail ? ev->detail : "?");
    say_folio(o, ev);
}

static void say_frame_free(struct out *o, const struct vms_event *ev)
{
    line_start(o, "free", ev, 0);
    put(o, "frame 0x%08" PRIx64 " freed, was %s", ev->pa, ev->detail ? ev->detail : "?");
    say_folio(o, ev);
}

static void say_signal(struct out *o, const struct vms_event *ev)
{
    int signo = (int)ev->index;
    const char *code = si_code_name(signo, ev->level);
    line_start(o, "signal", ev, 1);
    if (code)
        put(o, "%s %s at 0x%" PRIx64, signal_name(signo), code, ev->a);
    else
        put(o, "%s (%d) si_code %d at 0x%" PRIx64, signal_name(signo), signo, ev->level, ev->a);
}

static void say_flush(struct out *o, const struct vms_event *ev)
{
    line_start(o, "flush", ev, 1);
    if (ev->b == 0) {
        put(o, "whole TLB context flushed");
        return;
    }
    uint64_t pages = ev->b > ev->a ? (ev->b - ev->a) / PAGE_SIZE : 0;
    put(o, "INVLPG 0x%" PRIx64 " (%" PRIu64 " page%s)", ev->a, pages, pages == 1 ? "" : "s");
}

/* The LRU lists of a reclaim-end's index, by name. */
static void say_lists(struct out *o, unsigned lists)
{
    static const char *const names[] = {"inactive anon", "active anon", "inactive file",
                                        "active file"};
    int any = 0;
    for (unsigned i = 0; i < 4; i++)
        if (lists & (1u << i)) {
            put(o, "%s%s", any ? ", " : " (", names[i]);
            any = 1;
        }
    put(o, "%s", any ? ")" : " (no list)");
}

static void say_reclaim(struct out *o, const struct vms_event *ev)
{
    int kswapd = detail_is(ev, "kswapd");
    line_start(o, "vmscan", ev, 0);
    if (ev->kind == VMS_EV_RECLAIM_BEGIN) {
        if (kswapd)
            put(o, "kswapd wakes: %" PRIu64 " frames free, reclaims until more than %" PRIu64
                   " are free", ev->a, ev->b);
        else
            put(o, "direct reclaim: %" PRIu64 " frames free, the allocation reclaims %" PRIu64
                   " pages itself", ev->a, ev->b);
        return;
    }
    put(o, "%s ends: %" PRIu64 " pages scanned, %" PRIu64 " reclaimed, priority %d",
        kswapd ? "kswapd" : "direct reclaim", ev->a, ev->b, ev->level);
    say_lists(o, ev->index);
}

static void say_swap(struct out *o, const struct vms_event *ev)
{
    line_start(o, "swap", ev, 0);
    if (ev->kind == VMS_EV_SWAP_OUT) {
        if (detail_is(ev, "shmem"))
            put(o, "frame 0x%08" PRIx64 " written to swap slot %" PRIu64
                   " (shared memory, offset 0x%" PRIx64 ")", ev->pa, ev->b, ev->a);
        else
            put(o, "frame 0x%08" PRIx64 " written to swap slot %" PRIu64
                   " (anonymous page 0x%" PRIx64 "), its PTEs -> swap entry 0x%" PRIx64,
                ev->pa, ev->b, ev->a, ev->entry);
        return;
    }
    put(o, "swap slot %" PRIu64 " read into frame 0x%08" PRIx64 "%s", ev->b, ev->pa,
        detail_is(ev, "readahead") ? " (readahead)" : " for a fault");
}

static void say_refault(struct out *o, const struct vms_event *ev)
{
    line_start(o, "wset", ev, 0);
    const char *what = detail_is(ev, "inactive") ? "too far: back inactive"
                       : detail_is(ev, "restored") ? "back active (it was active before)"
                                                   : "back active";
    put(o, "refault of frame 0x%08" PRIx64 ": distance %" PRIu64 ", workingset %" PRIu64 ": %s",
        ev->pa, ev->a, ev->b, what);
}

static void say_other(struct out *o, const struct vms_event *ev)
{
    switch (ev->kind) {
    case VMS_EV_TLB_FILL:
        line_start(o, "fill", ev, 1);
        put(o, "TLB: page 0x%" PRIx64 " -> frame 0x%08" PRIx64 " (L1 DTLB and L2 TLB)",
            ev->a & (uint64_t)PAGE_MASK, ev->pa);
        break;
    case VMS_EV_IPI:
        line_start(o, "ipi", ev, 1);
        put(o, "interrupted: flush request (shootdown)");
        break;
    case VMS_EV_CR3:
        line_start(o, "cr3", ev, 1);
        if (ev->index == 0) /* no PCID: the switch flushes the whole TLB */
            put(o, "CR3 <- PGD 0x%08" PRIx64 " (context switch, TLB flushed)", ev->pa);
        else
            put(o, "CR3 <- PGD 0x%08" PRIx64 ", PCID %u (context switch, %s)", ev->pa,
                ev->index, ev->b ? "its TLB entries kept" : "its old TLB entries flushed");
        break;
    case VMS_EV_FORK:
        line_start(o, "fork", ev, 1);
        put(o, "pid %" PRIu64 " forked pid %" PRIu64 ": its mm copied, anonymous pages shared "
               "copy-on-write", ev->a, ev->b);
        break;
    case VMS_EV_PAGEOUT:
        line_start(o, "write", ev, 0);
        put(o, "reclaim writes dirty file offset 0x%" PRIx64 " (frame 0x%08" PRIx64
               ") back before freeing it", ev->a, ev->pa);
        say_folio(o, ev);
        break;
    case VMS_EV_OOM_KILL:
        line_start(o, "oom", ev, 1);
        put(o, "%s (badness %" PRIu64 ")", ev->detail ? ev->detail : "", ev->b);
        break;
    default:
        line_start(o, "?", ev, 0);
        put(o, "event of unknown kind %u", (unsigned)ev->kind);
        break;
    }
}

int vms_event_format(const struct vms_event *ev, char *buf, size_t len)
{
    struct out o;
    out_init(&o, buf, len);
    switch (ev->kind) {
    case VMS_EV_TLB_MISS: say_tlb_miss(&o, ev); break;
    case VMS_EV_WALK_STEP: say_walk_step(&o, ev); break;
    case VMS_EV_PWC_HIT: say_pwc_hit(&o, ev); break;
    case VMS_EV_PGTABLE_ALLOC: say_pgtable(&o, ev, 1); break;
    case VMS_EV_PGTABLE_FREE: say_pgtable(&o, ev, 0); break;
    case VMS_EV_FAULT: say_fault(&o, ev); break;
    case VMS_EV_FRAME_ALLOC: say_frame_alloc(&o, ev); break;
    case VMS_EV_FRAME_FREE: say_frame_free(&o, ev); break;
    case VMS_EV_SIGNAL: say_signal(&o, ev); break;
    case VMS_EV_FLUSH: say_flush(&o, ev); break;
    case VMS_EV_RECLAIM_BEGIN:
    case VMS_EV_RECLAIM_END: say_reclaim(&o, ev); break;
    case VMS_EV_SWAP_OUT:
    case VMS_EV_SWAP_IN: say_swap(&o, ev); break;
    case VMS_EV_REFAULT: say_refault(&o, ev); break;
    default: say_other(&o, ev); break;
    }
    return out_result(&o);
}

/* ---- JSON: one object per event ---- */

#define EVENT_SCHEMA_VERSION 1

/* The fields of struct vms_event, by bit: those a kind uses carry a value. */
enum {
    F_CPU = 1 << 0, F_LEVEL = 1 << 1, F_INDEX = 1 << 2, F_A = 1 << 3, F_B = 1 << 4,
    F_PA = 1 << 5, F_ENTRY = 1 << 6, F_DETAIL = 1 << 7,
    F_ALL = (1 << 8) - 1,
};

static const unsigned kind_fields[] = {
    [VMS_EV_TLB_MISS] = F_CPU | F_A | F_LEVEL,
    [VMS_EV_WALK_STEP] = F_CPU | F_A | F_LEVEL | F_INDEX | F_PA | F_ENTRY | F_DETAIL | F_B,
    [VMS_EV_PGTABLE_ALLOC] = F_A | F_LEVEL | F_PA | F_DETAIL | F_B,
    [VMS_EV_PGTABLE_FREE] = F_A | F_LEVEL | F_PA | F_DETAIL | F_B,
    [VMS_EV_FAULT] = F_CPU | F_A | F_PA | F_DETAIL,
    [VMS_EV_FRAME_ALLOC] = F_A | F_PA | F_DETAIL | F_LEVEL,
    [VMS_EV_TLB_FILL] = F_CPU | F_A | F_PA,
    [VMS_EV_FLUSH] = F_CPU | F_A | F_B,
    [VMS_EV_IPI] = F_CPU,
    [VMS_EV_CR3] = F_CPU | F_PA | F_INDEX | F_B,
    [VMS_EV_SIGNAL] = F_CPU | F_A | F_INDEX | F_LEVEL,
    [VMS_EV_FORK] = F_CPU | F_A | F_B,
    [VMS_EV_FRAME_FREE] = F_PA | F_DETAIL | F_LEVEL,
    [VMS_EV_OOM_KILL] = F_CPU | F_A | F_B | F_LEVEL | F_DETAIL,
    [VMS_EV_PWC_HIT] = F_CPU | F_A | F_LEVEL | F_PA | F_DETAIL | F_B,
    [VMS_EV_RECLAIM_BEGIN] = F_A | F_B | F_DETAIL,
    [VMS_EV_RECLAIM_END] = F_A | F_B | F_INDEX | F_LEVEL | F_DETAIL,
    [VMS_EV_SWAP_OUT] = F_A | F_B | F_PA | F_ENTRY | F_DETAIL,
    [VMS_EV_SWAP_IN] = F_B | F_PA | F_DETAIL,
    [VMS_EV_PAGEOUT] = F_A | F_PA | F_LEVEL,
    [VMS_EV_REFAULT] = F_A | F_B | F_PA | F_DETAIL,
};

static unsigned fields_of(enum vms_event_kind k)
{
    unsigned i = (unsigned)k;
    return i < sizeof(kind_fields) / sizeof(kind_fields[0]) ? kind_fields[i] : F_ALL;
}

static void put_json_string(struct out *o, const char *s)
{
    put(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(o, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            put(o, "\\u%04x", *p);
        else
            put(o, "%c", *p);
    }
    put(o, "\"");
}

static void put_hex(struct out *o, const char *name, uint64_t v, int used)
{
    if (used)
        put(o, ",\"%s\":\"0x%" PRIx64 "\"", name, v);
    else
        put(o, ",\"%s\":null", name);
}

static void put_int(struct out *o, const char *name, long long v, int used)
{
    if (used)
        put(o, ",\"%s\":%lld", name, v);
    else
        put(o, ",\"%s\":null", name);
}

int vms_event_json(const struct vms_event *ev, char *buf, size_t len)
{
    struct out o;
    out_init(&o, buf, len);
    unsigned f = fields_of(ev->kind);
    put(&o, "{\"v\":%d,\"type\":\"event\",\"kind\":", EVENT_SCHEMA_VERSION);
    put_json_string(&o, vms_event_name(ev->kind));
    put_int(&o, "cpu", ev->cpu, f & F_CPU);
    put_int(&o, "level", ev->level, f & F_LEVEL);
    put_int(&o, "index", ev->index, f & F_INDEX);
    put_hex(&o, "a", ev->a, f & F_A);
    put_hex(&o, "b", ev->b, f & F_B);
    put_hex(&o, "pa", ev->pa, f & F_PA);
    put_hex(&o, "entry", ev->entry, f & F_ENTRY);
    if ((f & F_DETAIL) && ev->detail) {
        put(&o, ",\"detail\":");
        put_json_string(&o, ev->detail);
    } else {
        put(&o, ",\"detail\":null");
    }
    put(&o, "}");
    return out_result(&o);
}
