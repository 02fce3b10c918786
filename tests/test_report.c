/*
 * test_report.c - the data the HTML report's views are built from: the JSON
 * model tools/report.c writes (docs/report.md). Each test runs calls on a
 * machine, records them as `vmsim run --html` does, and checks the model:
 * valid JSON; the first state; a step per call with the VMAs, page-table
 * entries, TLB slots and frames that call changed, and nothing else (a diff,
 * not a copy); its events and counters; calls grouped and states spaced
 * out on a large run; the page that carries it, safe inside <script>.
 */
#include "testutil.h"

#include "report.h"
#include "text_escape.h"
#include "views.h"

#include <inttypes.h>

#define RW (PROT_READ | PROT_WRITE)
#define BASE 0x10000000ULL

/* ---- a JSON syntax check: the model must parse ---- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *json_list(const char *p, char close, int object)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            p = json_string(json_ws(p));
            if (!p || *(p = json_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = json_value(p);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{')
        return json_list(p, '}', 1);
    if (*p == '[')
        return json_list(p, ']', 0);
    if (*p == '"')
        return json_string(p);
    if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    const char *q = p + (*p == '-');
    if (*q < '0' || *q > '9')
        return NULL;
    while ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' || *q == '-')
        q++;
    return q;
}

static void assert_json(const char *text)
{
    const char *end = json_value(text);
    assert_non_null(end);
    assert_int_equal(*json_ws(end), '\0');
}

/* ---- the model, and its steps one by one ---- */

struct fixture {
    vms_machine *m;
    vms_task *t;
    struct report *r;
    char *model;
};

/* The config every fixture starts from: the TLB geometry the report draws. */
static struct vms_config report_config(unsigned ncpus)
{
    struct vms_config c = tu_config(64ULL << 20);
    c.ncpus = ncpus;
    c.pcid = 0;
    c.zero_page = 1;
    c.dtlb = (struct vms_tlb_geometry){64, 4};
    c.itlb = (struct vms_tlb_geometry){128, 8};
    c.stlb = (struct vms_tlb_geometry){1536, 12};
    return c;
}

/* A machine of config c whose calls a new report records. */
static int setup_with(void **state, const struct vms_config *c)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->m = tu_machine_with(c);
    f->r = report_new("test");
    assert_non_null(f->r);
    assert_int_equal(report_machine_begin(f->r, f->m, 1), 0);
    report_set_current(f->r, f->m);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    struct vms_config c = report_config(2);
    return setup_with(state, &c);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->m) /* first: its events may still reach the report */
        vms_machine_destroy(f->m);
    report_free(f->r);
    free(f->model);
    free(f);
    return 0;
}

/* The machine's events go to the report, as the Lua hooks send them. */
static void to_report(void *arg, const struct vms_event *ev) { report_event(arg, ev); }

static int setup_traced(void **state)
{
    setup(state);
    struct fixture *f = *state;
    vms_machine_destroy(f->m);
    report_free(f->r);
    struct vms_config c = tu_config(64ULL << 20);
    c.ncpus = 2;
    c.pcid = 0;
    c.zero_page = 1;
    f->r = report_new("test");
    c.trace = to_report;
    c.trace_arg = f->r;
    f->m = tu_machine_with(&c);
    assert_int_equal(report_machine_begin(f->r, f->m, 1), 0);
    report_set_current(f->r, f->m);
    return 0;
}

static void call(struct fixture *f, const char *name, const char *text)
{
    report_call(f->r, f->m, name, text, 0);
}

static const char *model(struct fixture *f)
{
    free(f->model);
    f->model = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&f->model, &len);
    assert_non_null(out);
    assert_int_equal(report_write_json(f->r, out), 0);
    assert_int_equal(fclose(out), 0);
    assert_json(f->model);
    return f->model;
}

/* Step i of the model as its own string (freed by the caller): the objects
 * of "steps" split at depth 0, strings skipped. */
static char *step_of(const char *model, int i)
{
    const char *p = strstr(model, "\"steps\":[");
    assert_non_null(p);
    p += strlen("\"steps\":[");
    for (int n = 0;; n++) {
        assert_int_equal(*p, '{');
        const char *end = json_value(p);
        assert_non_null(end);
        if (n == i)
            return strndup(p, (size_t)(end - p));
        if (*end != ',')
            return NULL;
        p = end + 1;
    }
}

/* The numbers of a string of numbers ("vs", "rt") at p, up to its closing
 * quote, into v: base 32, the lowest digit first, a digit of the alphabet's
 * second half saying more follow (docs/report.md). */
static int model_numbers(const char *p, uint64_t *v, int cap)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
    int n = 0;
    while (*p && *p != '"') {
        uint64_t x = 0;
        int d, shift = 0;
        do {
            const char *at = *p ? strchr(digits, *p++) : NULL;
            assert_non_null(at);
            d = (int)(at - digits);
            assert_true(shift < 64);
            x |= (uint64_t)(d & 31) << shift;
            shift += 5;
        } while (d & 32);
        assert_true(n < cap);
        v[n++] = x;
    }
    return n;
}

/* The VMAs of a step's "vs" (of its one address space), each as the page
 * reads it: [start from the last end, pages, kind, vm_flags, name, offset,
 * dev_major, dev_minor, ino, guards, gate], the fields left out zero.
 * Returns how many. */
static int vmas_of(const char *step, uint64_t (*vma)[11], int cap)
{
    const char *p = strstr(step, "\"vs\":\"");
    if (!p)
        return 0;
    uint64_t *v = malloc(12 * (size_t)cap * sizeof(*v));
    assert_non_null(v);
    int n = model_numbers(p + 6, v, 12 * cap), count = 0;
    for (int k = 0; k < n; count++) {
        assert_true(count < cap);
        memset(vma[count], 0, sizeof(vma[count]));
        unsigned fields = (unsigned)(v[k] % 8) + 3;
        vma[count][0] = v[k++] / 8;
        for (unsigned i = 1; i <= fields; i++) {
            assert_true(k < n);
            vma[count][i] = v[k++];
        }
    }
    free(v);
    return count;
}

/* A slot record of a step's "tlb" lists, as the page reads it: the list's
 * CPU and level, the slot, and for a translation its vpn, pfn and
 * bits | pcid << 8. */
struct tlb_rec {
    unsigned cpu;
    int level, valid;
    uint64_t slot, vpn, pfn, bits;
};

/* How the records were written: the cases the format has (docs/report.md). */
struct tlb_forms {
    int empty, bits_written, bits_repeated, vpn_down, pfn_down;
    uint64_t vpn_down_most, pcid_most; /* the largest step down, the largest PCID */
    unsigned cpus;                     /* the CPUs with a list, one bit each */
};

/* Adds a zigzag difference (2d for d >= 0, -2d - 1 below) to x; counts
 * the steps down and keeps the largest. */
static uint64_t add_zigzag(uint64_t x, uint64_t z, int *down, uint64_t *most)
{
    if (z & 1) {
        *down += 1;
        if (most && (z >> 1) + 1 > *most)
            *most = (z >> 1) + 1;
        return x - (z >> 1) - 1;
    }
    return x + (z >> 1);
}

/* The records of a step's "tlb" ([[cpu, level, "slots"], ...]), each list's
 * slots decoded as the page does: the slot's index less the one before
 * times 4, plus 1 (a translation) and 2 (its bits and PCID those of the
 * translation before); vpn and pfn as zigzag differences; then the bits
 * unless repeated. Returns how many; counts the forms met into forms. */
static int tlb_of(const char *step, struct tlb_rec *rec, int cap, struct tlb_forms *forms)
{
    const char *p = strstr(step, "\"tlb\":[");
    if (!p)
        return 0;
    p += strlen("\"tlb\":[");
    int count = 0;
    uint64_t *v = malloc(4 * 1536 * sizeof(*v));
    assert_non_null(v);
    for (;;) {
        unsigned cpu;
        int level, used = 0;
        assert_int_equal(sscanf(p, "[%u,%d,\"%n", &cpu, &level, &used), 2);
        assert_true(used > 0 && level >= 0 && level < VMS_TLB_NLEVELS && cpu < 32);
        forms->cpus |= 1u << cpu;
        p += used;
        int n = model_numbers(p, v, 4 * 1536);
        assert_true(n > 0); /* a list is written only when a slot changed */
        p = strchr(p, '"');
        assert_non_null(p);
        assert_int_equal(p[1], ']');
        uint64_t slot = 0, vpn = 0, pfn = 0, bits = 0;
        for (int k = 0; k < n;) {
            uint64_t what = v[k] % 4;
            slot += v[k++] / 4;
            assert_true(count < cap);
            rec[count] = (struct tlb_rec){.cpu = cpu, .level = level, .slot = slot,
                                          .valid = (int)(what & 1)};
            if (what & 1) {
                assert_true(k + 2 <= n);
                vpn = add_zigzag(vpn, v[k++], &forms->vpn_down, &forms->vpn_down_most);
                pfn = add_zigzag(pfn, v[k++], &forms->pfn_down, NULL);
                if (!(what & 2)) {
                    assert_true(k < n);
                    bits = v[k++];
                    forms->bits_written++;
                    if (bits >> 8 > forms->pcid_most)
                        forms->pcid_most = bits >> 8;
                } else {
                    forms->bits_repeated++;
                }
                rec[count].vpn = vpn;
                rec[count].pfn = pfn;
                rec[count].bits = bits;
            } else {
                assert_int_equal(what, 0); /* 2 alone means nothing */
                forms->empty++;
            }
            count++;
        }
        p += 2;
        if (*p == ']')
            break;
        assert_int_equal(*p++, ',');
    }
    free(v);
    return count;
}

static void assert_tlb_recs(const struct tlb_rec *got, const struct tlb_rec *want, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(got[i].cpu, want[i].cpu);
        assert_int_equal(got[i].level, want[i].level);
        assert_int_equal(got[i].slot, want[i].slot);
        assert_int_equal(got[i].valid, want[i].valid);
        assert_int_equal(got[i].vpn, want[i].vpn);
        assert_int_equal(got[i].pfn, want[i].pfn);
        assert_int_equal(got[i].bits, want[i].bits);
    }
}

/* Calls fn on each step in one pass: its index, where it starts, its length. */
static int each_step(const char *model, void (*fn)(void *arg, int i, const char *s, size_t len),
                     void *arg)
{
    const char *p = strstr(model, "\"steps\":[");
    assert_non_null(p);
    p += strlen("\"steps\":[");
    int n = 0;
    while (*p == '{') {
        const char *end = json_value(p);
        assert_non_null(end);
        if (fn)
            fn(arg, n, p, (size_t)(end - p));
        n++;
        p = end + (*end == ',');
    }
    return n;
}

static int nsteps(const char *model) { return each_step(model, NULL, NULL); }

/* Steps with a state ("d") and without. */
static void count_states(void *arg, int i, const char *s, size_t len)
{
    (void)i;
    int *counts = arg;
    char *copy = strndup(s, len);
    counts[strstr(copy, "\"d\":{") ? 0 : 1]++;
    free(copy);
}

/* The frames run of "fr" that holds pfn: its owner and mapcount. */
static void frame_in_runs(const char *step, uint64_t pfn, int *owner, int *mapcount)
{
    const char *p = strstr(step, "\"fr\":[");
    assert_non_null(p);
    p += strlen("\"fr\":[");
    unsigned long long start, n;
    int o, mc, rc, fl, used;
    while (sscanf(p, "[%llu,%llu,%d,%d,%d,%d]%n", &start, &n, &o, &mc, &rc, &fl, &used) == 6) {
        if (pfn >= start && pfn < start + n) {
            *owner = o;
            *mapcount = mc;
            return;
        }
        p += used;
        if (*p != ',')
            break;
        p++;
    }
    fail_msg("frame %" PRIu64 " not in %s", pfn, step);
}

static void assert_has(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" not in %s", part, text);
}

static void assert_lacks(const char *text, const char *part)
{
    if (strstr(text, part))
        fail_msg("\"%s\" in %s", part, text);
}

/* ---- the tests ---- */

static void test_first_state_and_machine(void **state)
{
    struct fixture *f = *state;
    f->t = tu_spawn(f->m);
    call(f, "spawn", "machine 1: spawn(\"t\") = task 1000");
    const char *m = model(f);
    assert_has(m, "\"v\":3");
    assert_has(m, "\"machines\":[{\"number\":1,\"ncpus\":2,\"frames\":16384,\"tlb\":[{\"name\":\"L1d\","
                  "\"entries\":64,\"ways\":4},{\"name\":\"L1i\",\"entries\":128,\"ways\":8},"
                  "{\"name\":\"L2\",\"entries\":1536,\"ways\":12}]}]");
    assert_has(m, "\"counters\":[\"minor_faults\"");
    assert_has(m, "\"owners\":[\"free\",\"reserved\",\"zero\",\"pgtable\"");
    assert_int_equal(nsteps(m), 1);
    char *s = step_of(m, 0);
    /* the first state: the task, its empty PGD, frames 0 (reserved), 1
     * (zero page) and the PGD's */
    assert_has(s, "\"c\":\"machine 1: spawn(\\\"t\\\") = task 1000\"");
    assert_has(s, "\"tasks\":[[1000,1000]]");
    char pgd[64];
    snprintf(pgd, sizeof(pgd), "\"ts\":[[%" PRIu64 ",4,0,0,[]]]", vms_task_pgd(f->t) >> 12);
    assert_has(s, pgd);
    assert_has(s, "\"fr\":[[0,1,1,0,1,0],[1,1,2,0,1,0],[2,1,3,0,1,0]]");
    free(s);
}

static void test_steps_hold_what_each_call_changed(void **state)
{
    struct fixture *f = *state;
    f->t = tu_spawn(f->m);
    call(f, "spawn", "spawn");
    assert_int_equal(vms_mmap(f->t, BASE, 3 * TU_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                              -1, 0), (int64_t)BASE);
    call(f, "mmap", "mmap");
    tu_store_byte(f->t, BASE + TU_PAGE, 7);
    call(f, "store", "store");
    struct vms_walk w;
    assert_int_equal(vms_walk(f->t, BASE + TU_PAGE, &w), 0);
    (void)tu_load_byte(f->t, BASE + TU_PAGE);
    call(f, "load", "load");
    assert_int_equal(vms_munmap(f->t, BASE, 3 * TU_PAGE), 0);
    call(f, "munmap", "munmap");
    const char *m = model(f);
    assert_int_equal(nsteps(m), 5);

    /* mmap: one VMA [0x10000, 0x10003) pages, anonymous, rw, no table */
    char *s = step_of(m, 1);
    assert_has(s, "\"n\":\"mmap\"");
    uint64_t vma[2][11];
    assert_int_equal(vmas_of(s, vma, 2), 1);
    const uint64_t made[11] = {65536, 3, 0, 1048691}; /* VM_READ|WRITE|MAYREAD|MAYWRITE|MAYEXEC|ACCOUNT */
    assert_memory_equal(vma[0], made, sizeof(made));
    assert_lacks(s, "\"ts\"");
    assert_lacks(s, "\"tasks\""); /* unchanged: not repeated */
    free(s);

    /* store: the tables down to the PTE, its entry, the TLB slots, the frame */
    uint64_t pfn = w.pa >> 12, pte_table = w.step[3].table_pa >> 12;
    s = step_of(m, 2);
    char want[160];
    snprintf(want, sizeof(want), "[%" PRIu64 ",1,65536,0,[[1,1,\"%" PRIx64 "\"]]]", pte_table,
             w.step[3].entry);
    assert_has(s, want);
    /* CPU 0's L1d and L2 each cache the page (bits 19: writable, dirty,
     * user): one slot per list, its differences from 0. */
    struct tlb_rec tlb[4];
    struct tlb_forms forms = {0};
    assert_int_equal(tlb_of(s, tlb, 4, &forms), 2);
    const struct tlb_rec cached[2] = {
        {.cpu = 0, .level = VMS_TLB_L1D, .valid = 1, .slot = 65537 % 16 * 4, .vpn = 65537,
         .pfn = pfn, .bits = 19},
        {.cpu = 0, .level = VMS_TLB_L2, .valid = 1, .slot = 65537 % 128 * 12, .vpn = 65537,
         .pfn = pfn, .bits = 19}};
    assert_tlb_recs(tlb, cached, 2);
    /* as characters: slot 4 times 4 plus 1 is "h"; vpn 65537, zigzag
     * 131074 = 2 + 4 * 32^3, is "y" (32 + 2: more follow), "w", "w", "4" */
    assert_has(s, "\"tlb\":[[0,0,\"hyww4");
    int owner = -1, mapcount = -1;
    frame_in_runs(s, pfn, &owner, &mapcount);
    assert_int_equal(owner, VMS_FRAME_ANON);
    assert_int_equal(mapcount, 1);
    assert_has(s, "\"k\":[1,0,0,"); /* one minor fault */
    assert_lacks(s, "\"vs\"");
    free(s);

    /* a load the TLB answers changes no state: the diff is empty */
    s = step_of(m, 3);
    assert_has(s, "\"d\":{\"hw\":");
    assert_lacks(s, "\"mm\"");
    assert_lacks(s, "\"fr\"");
    free(s);

    /* munmap: the VMA and the tables below the PGD go, the TLB slots, the frame */
    s = step_of(m, 4);
    assert_has(s, "\"vd\":[65536]");
    snprintf(want, sizeof(want), "%" PRIu64 "]", pte_table);
    assert_has(s, "\"td\":[");
    assert_has(s, want);
    assert_int_equal(tlb_of(s, tlb, 4, &forms), 2);
    const struct tlb_rec emptied[2] = {
        {.cpu = 0, .level = VMS_TLB_L1D, .slot = 65537 % 16 * 4},
        {.cpu = 0, .level = VMS_TLB_L2, .slot = 65537 % 128 * 12}};
    assert_tlb_recs(tlb, emptied, 2);
    assert_has(s, "\"tlb\":[[0,0,\"g\"],[0,2,\""); /* slot 4 times 4: "g" */
    frame_in_runs(s, pfn, &owner, &mapcount);
    assert_int_equal(owner, VMS_FRAME_FREE);
    frame_in_runs(s, pte_table, &owner, &mapcount);
    assert_int_equal(owner, VMS_FRAME_FREE);
    free(s);
    tu_assert_clean(f->m);
}

static void test_events_kept_then_counted(void **state)
{
    struct fixture *f = *state;
    f->t = tu_spawn(f->m);
    call(f, "spawn", "spawn");
    tu_store_byte(f->t, tu_anon(f->t, TU_PAGE, RW), 1);
    call(f, "store", "task 1000: store(...)");
    const char *m = model(f);
    char *s = step_of(m, 1);
    assert_has(s, "\"e\":[[");
    assert_has(s, "L1 DTLB miss");
    assert_has(s, "fault");
    assert_lacks(s, "\"ec\"");
    free(s);
    /* A call with more events than a step keeps: the rest are counted. */
    vms_addr big = tu_anon(f->t, 200 * TU_PAGE, RW);
    for (int i = 0; i < 200; i++)
        tu_store_byte(f->t, big + (uint64_t)i * TU_PAGE, 1);
    call(f, "stores", "200 stores");
    m = model(f);
    s = step_of(m, 2);
    assert_has(s, "\"ec\":{");
    int kept = 0;
    const char *p = strstr(s, "\"e\":[") + strlen("\"e\":[");
    for (; *p == '['; kept++) {
        p = json_value(p);
        assert_non_null(p);
        p += *p == ',';
    }
    assert_int_equal(kept, REPORT_STEP_EVENT_LINES);
    free(s);
}

static void test_texts_are_safe_in_a_script_element(void **state)
{
    struct fixture *f = *state;
    call(f, "x", "</script><b>\"quoted\" & \x01\xff");
    const char *m = model(f);
    assert_has(m, "\\u003c/script\\u003e\\u003cb\\u003e\\\"quoted\\\" \\u0026 \\u0001\\ufffd");
    char *page = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&page, &len);
    assert_int_equal(report_write_html(f->r, out), 0);
    fclose(out);
    assert_has(page, "<!DOCTYPE html>");
    assert_lacks(page, "/*@MODEL@*/");
    assert_lacks(page, "/*@CSS@*/");
    assert_lacks(page, "/*@JS@*/");
    const char *model_at = strstr(page, "<script type=\"application/json\" id=\"model\">");
    assert_non_null(model_at);
    model_at = strchr(model_at, '>') + 1;
    /* the model ends at the first "</script": exactly where it should */
    const char *end = strstr(model_at, "</script");
    assert_non_null(end);
    char *copy = strndup(model_at, (size_t)(end - model_at));
    assert_json(copy);
    /* nothing from the network, no font */
    assert_lacks(page, "http://");
    assert_lacks(page, "https://");
    assert_lacks(page, "@import");
    assert_lacks(page, "@font-face");
    free(copy);
    free(page);
}

static char *escaped(void (*write)(FILE *, const char *), const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    write(out, text);
    fclose(out);
    return buf;
}

static void json_text(FILE *out, const char *s) { json_write_string(out, s, 0); }

/* A host file name reaches JSON and XML as the same text: UTF-8 kept (a
 * name in another encoding, a cut or overlong sequence or a surrogate
 * becomes U+FFFD, never a byte that breaks the document), markup escaped. */
static void test_names_in_json_and_xml(void **state)
{
    (void)state;
    static const struct {
        const char *in, *json, *xml;
    } cases[] = {
        {"caf\xc3\xa9.txt", "\"caf\xc3\xa9.txt\"", "caf&#xE9;.txt"},
        {"\xe2\x82\xac \xf0\x9f\x90\xa7", "\"\xe2\x82\xac \xf0\x9f\x90\xa7\"", "&#x20AC; &#x1F427;"},
        {"latin1 \xe9t\xe9", "\"latin1 \\ufffdt\\ufffd\"", "latin1 &#xFFFD;t&#xFFFD;"},
        {"cut \xe2\x82", "\"cut \\ufffd\\ufffd\"", "cut &#xFFFD;&#xFFFD;"},
        {"overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\"", "overlong &#xFFFD;&#xFFFD;"},
        {"surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\"", "surrogate &#xFFFD;&#xFFFD;&#xFFFD;"},
        {"<a & \"b\">\t\x01\x7f", "\"<a & \\\"b\\\">\\t\\u0001\\u007f\"", "&lt;a &amp; &quot;b&quot;&gt;&#x9;&#xFFFD;&#xFFFD;"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *j = escaped(json_text, cases[i].in), *x = escaped(view_xml_text, cases[i].in);
        assert_string_equal(j, cases[i].json);
        assert_string_equal(x, cases[i].xml);
        free(j);
        free(x);
    }
    char one[JSON_ESCAPE_MAX];
    assert_int_equal(json_escape_char("<", one, 1), 1);
    assert_string_equal(one, "\\u003c");
    assert_int_equal(json_escape_char("\xf0\x9f\x90\xa7", one, 1), 4);
}

/* The VMAs written in all steps, and those of one page, anonymous, rw (with
 * VM_ACCOUNT) or r, and nothing more. */
struct vma_count {
    int vmas, one_page;
};

static void count_vmas(void *arg, int i, const char *s, size_t len)
{
    (void)i;
    struct vma_count *c = arg;
    char *copy = strndup(s, len);
    uint64_t(*vma)[11] = malloc(3000 * sizeof(*vma));
    assert_non_null(copy);
    assert_non_null(vma);
    int n = vmas_of(copy, vma, 3000);
    c->vmas += n;
    for (int k = 0; k < n; k++) {
        int flags_ok = vma[k][3] == 1048691 || vma[k][3] == 113;
        int rest_zero = 1;
        for (int f = 4; f < 11; f++)
            rest_zero &= vma[k][f] == 0;
        c->one_page += vma[k][1] == 1 && vma[k][2] == 0 && flags_ok && rest_zero;
    }
    free(vma);
    free(copy);
}

/* A large state: calls share steps after REPORT_DETAILED_CALLS and the
 * states are spaced out, yet the last state is always taken. */
static void test_large_runs_group_and_space_out(void **state)
{
    struct fixture *f = *state;
    f->t = tu_spawn(f->m);
    call(f, "spawn", "spawn");
    /* 3000 VMAs that cannot merge (alternating protections) */
    for (int i = 0; i < 3000; i++) {
        int64_t a = vms_mmap(f->t, BASE + (uint64_t)i * TU_PAGE, TU_PAGE, i % 2 ? PROT_READ : RW,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        assert_int_equal(a, (int64_t)(BASE + (uint64_t)i * TU_PAGE));
        call(f, "mmap", "mmap");
    }
    report_machine_end(f->r, f->m);
    const char *m = model(f);
    int n = nsteps(m);
    /* 2000 calls of their own, then 1001 in groups of 100 */
    assert_int_equal(n, 1 + (REPORT_DETAILED_CALLS - 1) + (3001 - REPORT_DETAILED_CALLS + 99) / 100);
    char *s = step_of(m, REPORT_DETAILED_CALLS + 1);
    assert_has(s, "\"g\":100");
    assert_has(s, "mmap x 100");
    free(s);
    int counts[2] = {0, 0};
    each_step(m, count_states, counts);
    assert_true(counts[1] > 0);  /* spaced out */
    assert_true(counts[0] > 20); /* but many */
    /* the last step holds the last state: the last VMA is in some step */
    s = step_of(m, n - 1);
    assert_has(s, "\"d\":{");
    free(s);
    /* Each VMA is written once, when it is made: one page, anonymous, rw or r. */
    struct vma_count counted = {0};
    each_step(m, count_vmas, &counted);
    assert_int_equal(counted.vmas, 3000);
    assert_int_equal(counted.one_page, 3000);
}

static void test_machine_end_takes_the_last_state(void **state)
{
    struct fixture *f = *state;
    f->t = tu_spawn(f->m);
    call(f, "spawn", "spawn");
    report_machine_end(f->r, f->m);
    /* After its end the machine is forgotten: calls on it are not recorded. */
    call(f, "late", "late");
    const char *m = model(f);
    assert_int_equal(nsteps(m), 1);
    assert_int_equal(model(f) != NULL, 1);
}

/* ---- the VMA tree ---- */

#define TREE_MAX 64

struct tree_node {
    uint64_t start, left, right; /* pages */
    int red, live;
};

static struct tree_node *tree_find(struct tree_node *t, uint64_t start)
{
    for (int i = 0; i < TREE_MAX; i++)
        if (t[i].live && t[i].start == start)
            return &t[i];
    for (int i = 0; i < TREE_MAX; i++)
        if (!t[i].live) {
            t[i] = (struct tree_node){.start = start, .live = 1};
            return &t[i];
        }
    fail_msg("more than %d nodes", TREE_MAX);
    return NULL;
}

/* The numbers of the array after key ("\"vd\":[") at p, into v. */
static int numbers_after(const char *p, uint64_t *v, int cap)
{
    int n = 0;
    while (*p && *p != ']') {
        char *end;
        uint64_t x = strtoull(p, &end, 10);
        assert_true(end > p && n < cap);
        v[n++] = x;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* Every step's "vd" and "rt" applied in order, as the page does. */
static void tree_from_model(const char *m, struct tree_node *t)
{
    memset(t, 0, TREE_MAX * sizeof(*t));
    for (int i = 0; i < nsteps(m); i++) {
        char *s = step_of(m, i);
        uint64_t v[4 * TREE_MAX];
        const char *vd = strstr(s, "\"vd\":[");
        int n = vd ? numbers_after(vd + 6, v, 4 * TREE_MAX) : 0;
        for (int k = 0; k < n; k++)
            tree_find(t, v[k])->live = 0;
        const char *rt = strstr(s, "\"rt\":\"");
        n = rt ? model_numbers(rt + 6, v, 4 * TREE_MAX) : 0;
        uint64_t prev = 0;
        for (int k = 0; k < n;) {
            uint64_t first = v[k++], code = first % 8;
            struct tree_node *node = tree_find(t, prev + first / 8);
            node->red = code & 1;
            node->left = code & 2 ? node->start - v[k++] : 0;
            node->right = code & 4 ? node->start + v[k++] : 0;
            prev = node->start;
        }
        free(s);
    }
}

struct tree_check {
    struct tree_node *t;
    int nodes;
};

static int check_node(void *arg, const struct vms_vma_info *vi)
{
    struct tree_check *c = arg;
    if (vi->gate)
        return 0;
    struct tree_node *node = tree_find(c->t, vi->start >> 12);
    assert_int_equal(node->red, vi->red);
    assert_int_equal(node->left << 12, vi->left);
    assert_int_equal(node->right << 12, vi->right);
    c->nodes++;
    return 0;
}

/* The tree the model describes, step after step, is the machine's: every
 * node's colour and children as vms_vma_visit gives them, after inserts
 * that rotate and recolour and after removals. */
static void test_the_vma_tree_in_the_model(void **state)
{
    struct fixture *f = *state;
    f->t = tu_spawn(f->m);
    call(f, "spawn", "spawn");
    struct tree_node t[TREE_MAX];
    for (int i = 0; i < 20; i++) { /* alternate protections: no merging */
        assert_int_equal(vms_mmap(f->t, BASE + (uint64_t)i * 2 * TU_PAGE, TU_PAGE,
                                  i % 2 ? PROT_READ : RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                                  -1, 0), (int64_t)(BASE + (uint64_t)i * 2 * TU_PAGE));
        call(f, "mmap", "mmap");
        tree_from_model(model(f), t);
        struct tree_check c = {t, 0};
        assert_int_equal(vms_vma_visit(f->t, check_node, &c), 0);
        assert_int_equal(c.nodes, i + 1);
    }
    for (int i = 0; i < 20; i += 3) {
        assert_int_equal(vms_munmap(f->t, BASE + (uint64_t)i * 2 * TU_PAGE, TU_PAGE), 0);
        call(f, "munmap", "munmap");
    }
    tree_from_model(model(f), t);
    struct tree_check c = {t, 0};
    assert_int_equal(vms_vma_visit(f->t, check_node, &c), 0);
    int live = 0;
    for (int i = 0; i < TREE_MAX; i++)
        live += t[i].live;
    assert_int_equal(live, c.nodes); /* removed nodes are gone from the model's tree */
    assert_int_equal(c.nodes, 20 - 7);
    assert_int_equal(vms_check(f->m, stderr), 0);
}

/* ---- the TLBs ---- */

#define TLB_CPUS 3

/* Every CPU's TLB slots as the model builds them, step after step. */
struct tlb_model {
    unsigned entries[VMS_TLB_NLEVELS];
    struct tlb_rec *slot[TLB_CPUS][VMS_TLB_NLEVELS];
    struct tlb_forms forms;
};

/* Every step's "tlb" lists applied in order, as the page does. */
static void tlb_from_model(const char *m, struct tlb_model *t)
{
    for (unsigned c = 0; c < TLB_CPUS; c++)
        for (int l = 0; l < VMS_TLB_NLEVELS; l++)
            memset(t->slot[c][l], 0, t->entries[l] * sizeof(struct tlb_rec));
    memset(&t->forms, 0, sizeof(t->forms));
    struct tlb_rec *rec = malloc(TLB_CPUS * 1728 * sizeof(*rec));
    assert_non_null(rec);
    for (int i = 0; i < nsteps(m); i++) {
        char *s = step_of(m, i);
        int n = tlb_of(s, rec, TLB_CPUS * 1728, &t->forms);
        for (int k = 0; k < n; k++) {
            assert_true(rec[k].cpu < TLB_CPUS && rec[k].slot < t->entries[rec[k].level]);
            t->slot[rec[k].cpu][rec[k].level][rec[k].slot] = rec[k];
        }
        free(s);
    }
    free(rec);
}

struct tlb_check {
    struct tlb_model *t;
    unsigned cpu, ways[VMS_TLB_NLEVELS];
    uint8_t *seen[VMS_TLB_NLEVELS];
    int valid;
};

static int check_tlb_entry(void *arg, const struct vms_tlb_entry *e)
{
    struct tlb_check *c = arg;
    unsigned slot = e->set * c->ways[e->level] + e->way;
    const struct tlb_rec *r = &c->t->slot[c->cpu][e->level][slot];
    uint64_t bits = (uint64_t)(e->writable | e->dirty << 1 | e->exec << 2 | e->pkey_denied << 3 |
                               e->user << 4 | e->global << 5) | (uint64_t)e->pcid << 8;
    assert_true(r->valid);
    assert_int_equal(r->vpn, e->vpn);
    assert_int_equal(r->pfn, e->pfn);
    assert_int_equal(r->bits, bits);
    c->seen[e->level][slot] = 1;
    c->valid++;
    return 0;
}

/* The model's slots are the machine's: each valid entry vms_tlb_visit gives
 * in its slot with its page, frame, bits and PCID, every other slot empty.
 * Returns the valid entries. */
static int assert_tlbs_as_model(struct fixture *f, struct tlb_model *t)
{
    vms_machine *m = f->m;
    tlb_from_model(model(f), t);
    int valid = 0;
    for (unsigned c = 0; c < TLB_CPUS; c++) {
        struct tlb_check chk = {.t = t, .cpu = c};
        for (int l = 0; l < VMS_TLB_NLEVELS; l++) {
            struct vms_tlb_geometry g;
            assert_int_equal(vms_tlb_geometry(m, (enum vms_tlb_level)l, &g), 0);
            chk.ways[l] = g.ways;
            chk.seen[l] = calloc(t->entries[l], 1);
            assert_non_null(chk.seen[l]);
        }
        assert_int_equal(vms_tlb_visit(m, c, check_tlb_entry, &chk), 0);
        for (int l = 0; l < VMS_TLB_NLEVELS; l++) {
            for (unsigned s = 0; s < t->entries[l]; s++)
                if (!chk.seen[l][s] && t->slot[c][l][s].valid)
                    fail_msg("CPU %u %s slot %u: valid in the model only", c,
                             vms_tlb_level_name((enum vms_tlb_level)l), s);
            free(chk.seen[l]);
        }
        valid += chk.valid;
    }
    return valid;
}

static int setup_tlbs(void **state)
{
    struct vms_config c = report_config(TLB_CPUS);
    c.pcid = 1;
    c.pgtable_levels = 5; /* pages far apart: 57-bit addresses */
    c.pku = 1;
    return setup_with(state, &c);
}

/* Stores one byte at each address in one step. */
static void stores(struct fixture *f, vms_task *t, const vms_addr *va, int n)
{
    for (int i = 0; i < n; i++)
        tu_store_byte(t, va[i], 1);
    call(f, "store", "store");
}

/* The TLBs the model describes, step after step, are the machine's: after
 * fills whose pages and frames go down as well as up (by up to 2^44 pages),
 * an instruction fetch, a child on another CPU with its own PCID, a
 * protection change and an unmap that empty slots; a CPU that never ran
 * has no list and no translation. */
static void test_the_tlbs_in_the_model(void **state)
{
    struct fixture *f = *state;
    struct tlb_model t = {0};
    for (int l = 0; l < VMS_TLB_NLEVELS; l++) {
        struct vms_tlb_geometry g;
        assert_int_equal(vms_tlb_geometry(f->m, (enum vms_tlb_level)l, &g), 0);
        t.entries[l] = g.entries;
        for (unsigned c = 0; c < TLB_CPUS; c++)
            assert_non_null(t.slot[c][l] = calloc(g.entries, sizeof(struct tlb_rec)));
    }
    f->t = tu_spawn(f->m);
    call(f, "spawn", "spawn");
    assert_int_equal(assert_tlbs_as_model(f, &t), 0);
    /* 40 pages stored from the top down, four a step */
    vms_addr a = tu_mmap(f->t, BASE, 40 * TU_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    call(f, "mmap", "mmap");
    for (int i = 39; i >= 0; i -= 4) {
        const vms_addr va[4] = {a + (uint64_t)i * TU_PAGE, a + (uint64_t)(i - 1) * TU_PAGE,
                                a + (uint64_t)(i - 2) * TU_PAGE, a + (uint64_t)(i - 3) * TU_PAGE};
        stores(f, f->t, va, 4);
        /* each page stored is in the L1d (its 64 slots hold all 40) and the L2 */
        assert_int_equal(assert_tlbs_as_model(f, &t), 2 * (40 - (i - 3)));
    }
    /* L1d set 8 holds two of them: a page at the top of the 57-bit space
     * takes its third way and a new low page its fourth, so that in the
     * L1d's list the low page is 2^44 pages below the slot before it */
    vms_addr high = tu_mmap(f->t, (1ULL << 56) - 8 * TU_PAGE, TU_PAGE, RW,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    vms_addr b = tu_mmap(f->t, BASE + 0x100000, 16 * TU_PAGE, RW,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    call(f, "mmap", "mmap high and low");
    const vms_addr far[2] = {high, b + 8 * TU_PAGE};
    stores(f, f->t, far, 2);
    assert_tlbs_as_model(f, &t);
    /* an instruction fetch: an executable translation in the L1i */
    vms_addr code = tu_anon(f->t, TU_PAGE, PROT_READ | PROT_EXEC);
    call(f, "mmap", "mmap code");
    assert_int_equal(vms_fetch(f->t, code, 4), 0);
    call(f, "fetch", "fetch");
    assert_tlbs_as_model(f, &t);
    /* a child writes the first pages on CPU 1 (whose first address space
     * it is: PCID 1 there), then one on CPU 0 (its second: PCID 2) */
    vms_task *child = vms_fork(f->t);
    assert_non_null(child);
    call(f, "fork", "fork");
    assert_int_equal(vms_schedule(child, 1), 0);
    call(f, "schedule", "schedule");
    const vms_addr low[3] = {a, a + TU_PAGE, a + 2 * TU_PAGE};
    stores(f, child, low, 3);
    assert_tlbs_as_model(f, &t);
    assert_int_equal(vms_schedule(child, 0), 0);
    call(f, "schedule", "schedule");
    stores(f, child, &low[1], 1);
    assert_tlbs_as_model(f, &t);
    struct vms_cpu_info ci;
    assert_int_equal(vms_cpu_info(f->m, 0, &ci), 0);
    assert_int_equal(ci.pcid, 2);
    /* slots emptied: a protection change and an unmap */
    assert_int_equal(vms_mprotect(f->t, a, 20 * TU_PAGE, PROT_READ), 0);
    call(f, "mprotect", "mprotect");
    assert_tlbs_as_model(f, &t);
    assert_int_equal(vms_munmap(f->t, a, 40 * TU_PAGE), 0);
    call(f, "munmap", "munmap");
    assert_tlbs_as_model(f, &t);
    assert_int_equal(vms_munmap(child, a, 40 * TU_PAGE), 0);
    call(f, "munmap", "munmap child");
    assert_tlbs_as_model(f, &t);

    /* every form of the format was met */
    const struct tlb_forms *m = &t.forms;
    assert_true(m->empty > 0 && m->bits_written > 0 && m->bits_repeated > 0);
    assert_true(m->vpn_down > 0 && m->pfn_down > 0);
    assert_true(m->vpn_down_most > (1ULL << 43));
    assert_int_equal(m->pcid_most, 2); /* CPU 0's second address space */
    assert_int_equal(m->cpus, 3);        /* CPU 2 never ran: no list */
    for (unsigned c = 0; c < TLB_CPUS; c++)
        for (int l = 0; l < VMS_TLB_NLEVELS; l++)
            free(t.slot[c][l]);
    assert_int_equal(vms_check(f->m, stderr), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_state_and_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_hold_what_each_call_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_kept_then_counted, setup_traced, teardown),
        cmocka_unit_test_setup_teardown(test_texts_are_safe_in_a_script_element, setup, teardown),
        cmocka_unit_test(test_names_in_json_and_xml),
        cmocka_unit_test_setup_teardown(test_large_runs_group_and_space_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_machine_end_takes_the_last_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_vma_tree_in_the_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_tlbs_in_the_model, setup_tlbs, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
