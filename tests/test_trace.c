/*
 * test_trace.c - printing events and the helpers around them: every event
 * kind has a stable name, a narrated line (the demo's own wording for the
 * kinds the demo shows, the table names of 4- and 5-level paging) and a
 * JSON object that a strict parser accepts, with every field named and
 * the schema version; both writers keep to snprintf's contract at every
 * buffer length; vms_stats_diff subtracts every field; vms_config_check
 * names each field it refuses with its value and range, and
 * vms_machine_create refuses exactly what it refuses. Every frame given to
 * memory is reported (VMS_EV_FRAME_ALLOC) and every one given back
 * (VMS_EV_FRAME_FREE): the events account for frames_used after each call.
 *
 * `test_trace --json-lines` prints the JSON of every event of the scenario
 * below, one per line, for tests/check_events_json.py to parse with Python's
 * own json module.
 */
#include "testutil.h"

#include <ctype.h>
#include <limits.h>

#define PG 4096ULL
#define RW (PROT_READ | PROT_WRITE)
#define MAX_EVENTS 65536

/* ---- recording what a machine raises ---- */

struct recorder {
    struct vms_event ev[MAX_EVENTS];
    size_t n;
};

static void record(void *arg, const struct vms_event *ev)
{
    struct recorder *r = arg;
    if (r->n < MAX_EVENTS)
        r->ev[r->n++] = *ev;
}

static size_t count_kind(const struct recorder *r, enum vms_event_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->ev[i].kind == k;
    return n;
}

/* The kinds the library raises today, all of which the scenario raises. */
static const enum vms_event_kind all_kinds[] = {
    VMS_EV_TLB_MISS, VMS_EV_WALK_STEP, VMS_EV_PGTABLE_ALLOC, VMS_EV_PGTABLE_FREE,
    VMS_EV_FAULT, VMS_EV_FRAME_ALLOC, VMS_EV_TLB_FILL, VMS_EV_FLUSH, VMS_EV_IPI,
    VMS_EV_CR3, VMS_EV_SIGNAL, VMS_EV_FORK, VMS_EV_FRAME_FREE, VMS_EV_OOM_KILL,
    VMS_EV_PWC_HIT, VMS_EV_RECLAIM_BEGIN, VMS_EV_RECLAIM_END, VMS_EV_SWAP_OUT, VMS_EV_SWAP_IN,
    VMS_EV_PAGEOUT, VMS_EV_REFAULT,
};
#define NR_KINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))

/* A machine of 1 MiB with 2 MiB of swap: a shared file mapping larger
 * than RAM written (reclaim writes it back), then private memory larger
 * than RAM written and read back (swapped out and in, refaults). */
static void run_reclaim_scenario(struct recorder *r)
{
    char dir[256], root[300], path[400];
    tu_root_make(dir, sizeof(dir), root, sizeof(root));
    tu_host_fill(tu_join(path, sizeof(path), root, "f"), 384 * PG);
    struct vms_config c = tu_config(1ULL << 20);
    c.root = root;
    c.swap_bytes = 2ULL << 20;
    c.min_free_kbytes = UINT64_MAX;
    c.watermark_scale_factor = 10;
    c.swappiness = 60;
    c.page_cluster = 3;
    c.large_folios = 0;
    c.trace = record;
    c.trace_arg = r;
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    int fd = vms_open(t, "f", O_RDWR, 0);
    assert_true(fd >= 0);
    int64_t f = vms_mmap(t, 0, 384 * PG, RW, MAP_SHARED, fd, 0);
    assert_true(f >= 0);
    for (uint64_t i = 0; i < 384; i++)
        tu_store_byte(t, (vms_addr)f + i * PG, 1);
    assert_int_equal(vms_munmap(t, (vms_addr)f, 384 * PG), 0);
    assert_int_equal(vms_close(t, fd), 0);
    vms_addr a = tu_anon(t, 384 * PG, RW);
    for (uint64_t i = 0; i < 384; i++)
        tu_store_byte(t, a + i * PG, (uint8_t)i);
    for (uint64_t i = 0; i < 384; i++)
        assert_int_equal(tu_load_byte(t, a + i * PG), (uint8_t)i);
    tu_assert_clean(m);
    vms_machine_destroy(m);
    assert_int_equal(tu_scratch_remove(dir), 0);
}

/* A machine over a scratch root that does a bit of everything: two CPUs, a
 * thread, private, shared anonymous and file memory, a fork, unmaps and a
 * SIGSEGV. Fills r; leaves nothing behind. */
static void run_scenario(struct recorder *r)
{
    char dir[256], root[300], path[400];
    tu_root_make(dir, sizeof(dir), root, sizeof(root));
    tu_host_fill(tu_join(path, sizeof(path), root, "f"), 2 * PG);
    struct vms_config c = tu_config(64ULL << 20);
    c.ncpus = 2;
    c.root = root;
    c.trace = record;
    c.trace_arg = r;
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_task *th = vms_clone_thread(t);
    assert_non_null(th);
    assert_int_equal(vms_schedule(th, 1), 0);

    vms_addr a = tu_anon(t, 2 * PG, RW);
    tu_store_byte(t, a, 1);
    assert_int_equal(tu_load_byte(th, a), 1);
    vms_addr s = tu_mmap(t, 0, PG, RW, MAP_SHARED | MAP_ANONYMOUS);
    tu_store_byte(t, s, 2);
    int fd = vms_open(t, "f", O_RDWR, 0);
    assert_true(fd >= 0);
    int64_t f = vms_mmap(t, 0, 2 * PG, RW, MAP_SHARED, fd, 0);
    assert_true(f >= 0);
    (void)tu_load_byte(t, (vms_addr)f);
    vms_task *child = vms_fork(t);
    assert_non_null(child);
    tu_store_byte(t, a, 3); /* copy-on-write: the child shares the page */
    vms_exit(child);
    assert_int_equal(vms_munmap(t, a, 2 * PG), 0);
    assert_int_equal(vms_munmap(t, s, PG), 0);
    assert_int_equal(vms_munmap(t, (vms_addr)f, 2 * PG), 0);
    uint8_t byte;
    assert_int_equal(vms_load(th, a, &byte, 1), SIGSEGV);
    assert_int_equal(vms_close(t, fd), 0);
    tu_assert_clean(m);
    vms_machine_destroy(m);
    assert_int_equal(tu_scratch_remove(dir), 0);
    run_reclaim_scenario(r);
}

static struct recorder *scenario_events(void)
{
    struct recorder *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    run_scenario(r);
    return r;
}

/* ---- names ---- */

static void test_every_kind_has_a_stable_name(void **state)
{
    (void)state;
    static const char *const names[] = {"tlb-miss", "walk", "pgtable-alloc", "pgtable-free",
                                        "fault", "frame-alloc", "tlb-fill", "flush", "ipi",
                                        "cr3", "signal", "fork", "frame-free", "oom-kill",
                                        "pwc-hit", "reclaim-begin", "reclaim-end", "swap-out",
                                        "swap-in", "pageout", "refault"};
    for (size_t i = 0; i < NR_KINDS; i++)
        assert_string_equal(vms_event_name(all_kinds[i]), names[i]);
    assert_string_equal(vms_event_name((enum vms_event_kind)999), "unknown");
    assert_string_equal(vms_event_name((enum vms_event_kind)-1), "unknown");
}

/* ---- narration ---- */

static void assert_line(const struct vms_event *ev, const char *want)
{
    char buf[256];
    int n = vms_event_format(ev, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

/* The lines `vmsim demo` prints, word for word. */
static void test_demo_lines(void **state)
{
    (void)state;
    const uint64_t va = 0x7ffff7ffe000;
    assert_line(&(struct vms_event){.kind = VMS_EV_TLB_MISS, .cpu = 0, .a = va, .level = 2},
                "miss   CPU 0  L1 DTLB miss, L2 TLB miss: walk the page tables");
    assert_line(&(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = 0, .a = va, .level = 4,
                                    .index = 255, .pa = 0x2000, .entry = 0, .b = 4},
                "walk   CPU 0  PGD[255] @ 0x00002000 = 0x0000000000000000  not present -> #PF");
    assert_line(&(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = 1, .a = va, .level = 2,
                                    .index = 447, .pa = 0x4000, .entry = 0x5067, .b = 4},
                "walk   CPU 1  PMD[447] @ 0x00004000 = 0x0000000000005067  -> PTE 0x00005000");
    assert_line(&(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = 0, .a = va, .level = 1,
                                    .index = 510, .pa = 0x5000, .entry = 0x8000000000006025,
                                    .b = 4},
                "walk   CPU 0  PTE[510] @ 0x00005000 = 0x8000000000006025  -> frame 0x00006000");
    assert_line(&(struct vms_event){.kind = VMS_EV_PGTABLE_ALLOC, .a = va, .level = 3,
                                    .pa = 0x3000, .b = 4, .detail = "PUD"},
                "alloc         new PUD table at 0x00003000, linked from PGD[255]");
    assert_line(&(struct vms_event){.kind = VMS_EV_PGTABLE_FREE, .a = va, .level = 1,
                                    .pa = 0x5000, .b = 4, .detail = "PTE"},
                "free          PTE table at 0x00005000 freed");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = 0, .pa = 0x6000,
                                    .detail = "page cache"},
                "disk          page-cache miss: file offset 0x0 read into frame 0x00006000");
    assert_line(&(struct vms_event){.kind = VMS_EV_FAULT, .a = va, .pa = 0x6000, .detail = "file"},
                "fault  CPU 0  file page: PTE[510] -> page-cache frame 0x00006000");
    assert_line(&(struct vms_event){.kind = VMS_EV_FAULT, .a = va, .pa = 0x6000,
                                    .detail = "write-notify"},
                "fault  CPU 0  write-notify: cache frame 0x00006000 now dirty, PTE[510] made "
                "writable");
    assert_line(&(struct vms_event){.kind = VMS_EV_TLB_FILL, .cpu = 1, .a = va + 5, .pa = 0x6000},
                "fill   CPU 1  TLB: page 0x7ffff7ffe000 -> frame 0x00006000 (L1 DTLB and L2 TLB)");
    assert_line(&(struct vms_event){.kind = VMS_EV_FLUSH, .a = va, .b = va + PG},
                "flush  CPU 0  INVLPG 0x7ffff7ffe000 (1 page)");
    assert_line(&(struct vms_event){.kind = VMS_EV_FLUSH, .cpu = 1},
                "flush  CPU 1  whole TLB context flushed");
    assert_line(&(struct vms_event){.kind = VMS_EV_IPI, .cpu = 1},
                "ipi    CPU 1  interrupted: flush request (shootdown)");
    assert_line(&(struct vms_event){.kind = VMS_EV_CR3, .pa = 0x2000},
                "cr3    CPU 0  CR3 <- PGD 0x00002000 (context switch, TLB flushed)");
    assert_line(&(struct vms_event){.kind = VMS_EV_CR3, .pa = 0x2000, .index = 1, .b = 1},
                "cr3    CPU 0  CR3 <- PGD 0x00002000, PCID 1 (context switch, its TLB entries kept)");
    assert_line(&(struct vms_event){.kind = VMS_EV_CR3, .pa = 0x2000, .index = 2},
                "cr3    CPU 0  CR3 <- PGD 0x00002000, PCID 2 (context switch, its old TLB entries "
                "flushed)");
    assert_line(&(struct vms_event){.kind = VMS_EV_SIGNAL, .cpu = 1, .a = va, .index = SIGSEGV,
                                    .level = SEGV_MAPERR},
                "signal CPU 1  SIGSEGV SEGV_MAPERR at 0x7ffff7ffe000");
    assert_line(&(struct vms_event){.kind = VMS_EV_OOM_KILL, .cpu = 2, .a = 1000, .b = 203,
                                    .detail = "Out of memory: Killed process 1000 (test)"},
                "oom    CPU 2  Out of memory: Killed process 1000 (test) (badness 203)");
}

/* Reclaim's lines: a pass of kswapd and of direct reclaim, swap, write-back
 * and a refault. */
static void test_reclaim_lines(void **state)
{
    (void)state;
    assert_line(&(struct vms_event){.kind = VMS_EV_RECLAIM_BEGIN, .a = 90, .b = 120,
                                    .detail = "kswapd"},
                "vmscan        kswapd wakes: 90 frames free, reclaims until more than 120 are free");
    assert_line(&(struct vms_event){.kind = VMS_EV_RECLAIM_END, .a = 64, .b = 40, .level = 11,
                                    .index = 5, .detail = "kswapd"},
                "vmscan        kswapd ends: 64 pages scanned, 40 reclaimed, priority 11 "
                "(inactive anon, inactive file)");
    assert_line(&(struct vms_event){.kind = VMS_EV_RECLAIM_BEGIN, .a = 3, .b = 32,
                                    .detail = "direct"},
                "vmscan        direct reclaim: 3 frames free, the allocation reclaims 32 pages "
                "itself");
    assert_line(&(struct vms_event){.kind = VMS_EV_RECLAIM_END, .a = 32, .b = 0, .level = 0,
                                    .index = 0, .detail = "direct"},
                "vmscan        direct reclaim ends: 32 pages scanned, 0 reclaimed, priority 0 "
                "(no list)");
    assert_line(&(struct vms_event){.kind = VMS_EV_SWAP_OUT, .pa = 0x6000, .a = 0x7ffff7f7f000,
                                    .b = 1, .entry = 0x7fffffffffffc00, .detail = "anon"},
                "swap          frame 0x00006000 written to swap slot 1 (anonymous page "
                "0x7ffff7f7f000), its PTEs -> swap entry 0x7fffffffffffc00");
    assert_line(&(struct vms_event){.kind = VMS_EV_SWAP_OUT, .pa = 0x6000, .a = 0x3000, .b = 2,
                                    .detail = "shmem"},
                "swap          frame 0x00006000 written to swap slot 2 (shared memory, offset "
                "0x3000)");
    assert_line(&(struct vms_event){.kind = VMS_EV_SWAP_IN, .pa = 0xe000, .b = 1,
                                    .detail = "fault"},
                "swap          swap slot 1 read into frame 0x0000e000 for a fault");
    assert_line(&(struct vms_event){.kind = VMS_EV_SWAP_IN, .pa = 0xf000, .b = 2,
                                    .detail = "readahead"},
                "swap          swap slot 2 read into frame 0x0000f000 (readahead)");
    assert_line(&(struct vms_event){.kind = VMS_EV_PAGEOUT, .pa = 0x9000, .a = 0x5000},
                "write         reclaim writes dirty file offset 0x5000 (frame 0x00009000) back "
                "before freeing it");
    assert_line(&(struct vms_event){.kind = VMS_EV_REFAULT, .pa = 0xe000, .a = 111, .b = 300,
                                    .detail = "restored"},
                "wset          refault of frame 0x0000e000: distance 111, workingset 300: back "
                "active (it was active before)");
    assert_line(&(struct vms_event){.kind = VMS_EV_REFAULT, .pa = 0xe000, .a = 111, .b = 0,
                                    .detail = "inactive"},
                "wset          refault of frame 0x0000e000: distance 111, workingset 0: too far: "
                "back inactive");
}

/* What each frame was given for, and given back. */
static void test_frame_lines(void **state)
{
    (void)state;
    const uint64_t va = 0x7ffff7ffe000;
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = va, .pa = 0x6000,
                                    .detail = "anon"},
                "frame         frame 0x00006000 zeroed for a write to anonymous memory at "
                "0x7ffff7ffe000");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = va, .pa = 0x6000,
                                    .detail = "anon-read"},
                "frame         frame 0x00006000 zeroed for a read of anonymous memory at "
                "0x7ffff7ffe000 (no zero page)");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = va, .pa = 0x7000,
                                    .detail = "cow"},
                "frame         frame 0x00007000 takes a private copy of the page at 0x7ffff7ffe000");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = 0x2000, .pa = 0x7000,
                                    .detail = "shmem"},
                "frame         frame 0x00007000 zeroed for shared anonymous memory, offset 0x2000");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = 0x10000, .pa = 0x10000,
                                    .level = 4, .detail = "page cache"},
                "disk          page-cache miss: file offset 0x10000 read into frame 0x00010000 "
                "(a folio of 16 frames)");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_ALLOC, .a = 0x3000, .pa = 0x9000,
                                    .detail = "page cache, zeroed"},
                "frame         frame 0x00009000 zeroed for the page cache, file offset 0x3000 "
                "(not read)");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_FREE, .pa = 0x9000, .detail = "anon"},
                "free          frame 0x00009000 freed, was anon");
    assert_line(&(struct vms_event){.kind = VMS_EV_FRAME_FREE, .pa = 0x10000, .level = 2,
                                    .detail = "page cache"},
                "free          frame 0x00010000 freed, was page cache (a folio of 4 frames)");
}

/* With 57-bit addresses the top table is the PGD at level 5 and level 4 is
 * the P4D; CPUs above 9 keep the column aligned. */
static void test_five_level_names_and_wide_cpus(void **state)
{
    (void)state;
    assert_line(&(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = 12, .level = 5, .index = 1,
                                    .pa = 0x2000, .entry = 0x3067, .b = 5},
                "walk   CPU 12 PGD[1]   @ 0x00002000 = 0x0000000000003067  -> P4D 0x00003000");
    assert_line(&(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = 3, .level = 4, .index = 2,
                                    .pa = 0x3000, .entry = 0x4067, .b = 5},
                "walk   CPU 3  P4D[2]   @ 0x00003000 = 0x0000000000004067  -> PUD 0x00004000");
    assert_line(&(struct vms_event){.kind = VMS_EV_PGTABLE_ALLOC, .a = 1ULL << 48, .level = 4,
                                    .pa = 0x3000, .b = 5, .detail = "P4D"},
                "alloc         new P4D table at 0x00003000, linked from PGD[1]");
    assert_line(&(struct vms_event){.kind = VMS_EV_PGTABLE_ALLOC, .a = 1ULL << 48, .level = 3,
                                    .pa = 0x4000, .b = 5, .detail = "PUD"},
                "alloc         new PUD table at 0x00004000, linked from P4D[0]");
}

/* Every event of a real run narrates in one line: a known tag padded to
 * six columns, the CPU column, then text; no newline, no control byte. */
static void test_every_kind_formats(void **state)
{
    (void)state;
    static const char *const tags[] = {"miss", "walk", "alloc", "free", "fault", "disk",
                                       "frame", "fill", "flush", "ipi", "cr3", "signal",
                                       "fork", "oom", "pwc", "vmscan", "swap", "write", "wset"};
    struct recorder *r = scenario_events();
    for (size_t k = 0; k < NR_KINDS; k++) /* the scenario runs out of nothing */
        assert_true(count_kind(r, all_kinds[k]) > 0 || all_kinds[k] == VMS_EV_OOM_KILL);
    for (size_t i = 0; i < r->n; i++) {
        char buf[256];
        int n = vms_event_format(&r->ev[i], buf, sizeof(buf));
        assert_true(n > 14 && (size_t)n < sizeof(buf));
        assert_int_equal((size_t)n, strlen(buf));
        for (int j = 0; j < n; j++)
            assert_true(isprint((unsigned char)buf[j]));
        size_t tag = strcspn(buf, " ");
        int known = 0;
        for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
            known |= strlen(tags[t]) == tag && memcmp(buf, tags[t], tag) == 0;
        assert_true(known);
        assert_true(tag <= 6);
        for (size_t j = tag; j < 7; j++)
            assert_int_equal(buf[j], ' ');
        assert_true(memcmp(buf + 7, "CPU ", 4) == 0 || memcmp(buf + 7, "       ", 7) == 0);
        assert_false(strstr(buf, "?"));
    }
    free(r);
}

/* ---- a strict JSON parser: objects, strings, integers, null ---- */

struct json {
    const char *p;
    char keys[16][16];
    int nkeys;
};

static int json_string(struct json *j, char *out, size_t size)
{
    size_t n = 0;
    if (*j->p++ != '"')
        return -1;
    while (*j->p != '"') {
        unsigned char ch = (unsigned char)*j->p++;
        if (ch < 0x20 || ch == 0)
            return -1;
        if (ch == '\\') {
            char e = *j->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++)
                    if (!isxdigit((unsigned char)*j->p++))
                        return -1;
                ch = '?';
            } else if (e && strchr("\"\\/bfnrt", e)) {
                ch = (unsigned char)e;
            } else {
                return -1;
            }
        }
        if (out && n + 1 < size)
            out[n++] = (char)ch;
    }
    j->p++;
    if (out)
        out[n] = '\0';
    return 0;
}

static int json_value(struct json *j)
{
    if (*j->p == '"')
        return json_string(j, NULL, 0);
    if (strncmp(j->p, "null", 4) == 0) {
        j->p += 4;
        return 0;
    }
    const char *start = j->p;
    if (*j->p == '-')
        j->p++;
    if (!isdigit((unsigned char)*j->p) || (*j->p == '0' && isdigit((unsigned char)j->p[1])))
        return -1;
    while (isdigit((unsigned char)*j->p))
        j->p++;
    return j->p > start ? 0 : -1;
}

/* Parses one flat object; fills the key list. 0 when valid and complete. */
static int json_object(struct json *j)
{
    j->nkeys = 0;
    if (*j->p++ != '{')
        return -1;
    for (;;) {
        if (j->nkeys == 16 || json_string(j, j->keys[j->nkeys], sizeof(j->keys[0])))
            return -1;
        j->nkeys++;
        if (*j->p++ != ':' || json_value(j))
            return -1;
        char sep = *j->p++;
        if (sep == '}')
            return *j->p == '\0' ? 0 : -1;
        if (sep != ',')
            return -1;
    }
}

static const char *const json_keys[] = {"v", "type", "kind", "cpu", "level", "index",
                                        "a", "b", "pa", "entry", "detail"};

static void assert_valid_json(const char *text)
{
    struct json j = {.p = text};
    assert_int_equal(json_object(&j), 0);
    assert_int_equal(j.nkeys, 11);
    for (int i = 0; i < 11; i++)
        assert_string_equal(j.keys[i], json_keys[i]);
    assert_memory_equal(text, "{\"v\":1,\"type\":\"event\",\"kind\":\"", 30);
}

static void test_json_of_every_event_parses(void **state)
{
    (void)state;
    struct recorder *r = scenario_events();
    for (size_t i = 0; i < r->n; i++) {
        char buf[512];
        int n = vms_event_json(&r->ev[i], buf, sizeof(buf));
        assert_true(n > 0 && (size_t)n < sizeof(buf));
        assert_valid_json(buf);
        char kind[40];
        snprintf(kind, sizeof(kind), "\"kind\":\"%s\"", vms_event_name(r->ev[i].kind));
        assert_non_null(strstr(buf, kind));
    }
    free(r);
}

/* Fields a kind uses carry values, the others null; 64-bit ones are hex. */
static void test_json_fields(void **state)
{
    (void)state;
    char buf[512];
    vms_event_json(&(struct vms_event){.kind = VMS_EV_WALK_STEP, .cpu = 1, .a = 0x7ffff7ffe000,
                                       .level = 1, .index = 510, .pa = 0x5000,
                                       .entry = 0x8000000000006025, .b = 4, .detail = "PTE"},
                   buf, sizeof(buf));
    assert_string_equal(buf, "{\"v\":1,\"type\":\"event\",\"kind\":\"walk\",\"cpu\":1,\"level\":1,"
                             "\"index\":510,\"a\":\"0x7ffff7ffe000\",\"b\":\"0x4\",\"pa\":\"0x5000\","
                             "\"entry\":\"0x8000000000006025\",\"detail\":\"PTE\"}");
    vms_event_json(&(struct vms_event){.kind = VMS_EV_IPI, .cpu = 3, .a = 7, .detail = "x"}, buf,
                   sizeof(buf));
    assert_string_equal(buf, "{\"v\":1,\"type\":\"event\",\"kind\":\"ipi\",\"cpu\":3,\"level\":null,"
                             "\"index\":null,\"a\":null,\"b\":null,\"pa\":null,\"entry\":null,"
                             "\"detail\":null}");
    vms_event_json(&(struct vms_event){.kind = VMS_EV_SIGNAL, .cpu = 0, .a = 0x1000,
                                       .index = SIGSEGV, .level = SEGV_ACCERR},
                   buf, sizeof(buf));
    assert_non_null(strstr(buf, "\"cpu\":0,\"level\":2,\"index\":11,\"a\":\"0x1000\",\"b\":null"));
    vms_event_json(&(struct vms_event){.kind = VMS_EV_FAULT, .detail = NULL}, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\"detail\":null}"));
}

/* A detail with quotes, backslashes and control bytes stays one valid
 * string; an unknown kind still gives a valid object. */
static void test_json_escapes(void **state)
{
    (void)state;
    char buf[512];
    vms_event_json(&(struct vms_event){.kind = VMS_EV_FAULT, .detail = "a\"b\\c\nd\x01\x7f"},
                   buf, sizeof(buf));
    assert_valid_json(buf);
    assert_non_null(strstr(buf, "\"detail\":\"a\\\"b\\\\c\\u000ad\\u0001\\u007f\"}"));
    vms_event_json(&(struct vms_event){.kind = (enum vms_event_kind)77, .detail = "z"}, buf,
                   sizeof(buf));
    assert_valid_json(buf);
    assert_non_null(strstr(buf, "\"kind\":\"unknown\""));
    char line[128];
    assert_true(vms_event_format(&(struct vms_event){.kind = (enum vms_event_kind)77}, line,
                                 sizeof(line)) > 0);
}

/* ---- snprintf semantics at every length ---- */

typedef int (*writer)(const struct vms_event *, char *, size_t);

static void assert_truncates_safely(writer w, const struct vms_event *ev)
{
    char full[512];
    int need = w(ev, full, sizeof(full));
    assert_true(need > 0 && (size_t)need < sizeof(full));
    assert_int_equal(w(ev, NULL, 0), need);
    for (size_t len = 0; len <= (size_t)need + 2; len++) {
        char buf[600];
        memset(buf, 0x5a, sizeof(buf));
        assert_int_equal(w(ev, buf, len), need);
        for (size_t i = len; i < len + 16; i++)
            assert_int_equal(buf[i], 0x5a);
        if (len == 0)
            continue;
        size_t kept = (size_t)need < len - 1 ? (size_t)need : len - 1;
        assert_int_equal(buf[kept], '\0');
        assert_memory_equal(buf, full, kept);
    }
}

static void test_buffers_of_every_length(void **state)
{
    (void)state;
    struct recorder *r = scenario_events();
    for (size_t k = 0; k < NR_KINDS; k++)
        for (size_t i = 0; i < r->n; i++)
            if (r->ev[i].kind == all_kinds[k]) {
                assert_truncates_safely(vms_event_format, &r->ev[i]);
                assert_truncates_safely(vms_event_json, &r->ev[i]);
                break;
            }
    free(r);
}

/* ---- vms_stats_diff ---- */

/* Every counter of struct vms_stats lies before ncpus or in cpu[]. */
static void assert_counters_bytes(const struct vms_stats *s, int byte)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < offsetof(struct vms_stats, ncpus); i++)
        if (i < offsetof(struct vms_stats, frames_total) ||
            i >= offsetof(struct vms_stats, frames_total) + sizeof(uint64_t))
            assert_int_equal(p[i], byte);
    const unsigned char *c = (const unsigned char *)s->cpu;
    for (size_t i = 0; i < sizeof(s->cpu); i++)
        assert_int_equal(c[i], byte);
}

/* Each field is subtracted (no field forgotten, none added): after's bytes
 * 0x03, before's 0x01, every counter of the difference 0x0202...02. */
static void test_stats_diff_every_field(void **state)
{
    (void)state;
    struct vms_stats *after = malloc(sizeof(*after)), *before = malloc(sizeof(*before));
    struct vms_stats *out = malloc(sizeof(*out));
    assert_true(after && before && out);
    memset(after, 0x03, sizeof(*after));
    memset(before, 0x01, sizeof(*before));
    memset(out, 0xee, sizeof(*out));
    vms_stats_diff(after, before, out);
    assert_counters_bytes(out, 0x02);
    assert_int_equal(out->ncpus, after->ncpus);
    assert_int_equal(out->frames_total, after->frames_total);
    /* out may be one of the inputs */
    vms_stats_diff(after, before, after);
    assert_counters_bytes(after, 0x02);
    memset(after, 0x03, sizeof(*after));
    vms_stats_diff(after, before, before);
    assert_counters_bytes(before, 0x02);
    free(after);
    free(before);
    free(out);
}

/* On a real machine: one store to a new page is one minor fault, one
 * walk's worth of misses, four new frames (three tables and the page);
 * the unmap gives them back, a decrease read as int64_t. */
static void test_stats_diff_of_a_store(void **state)
{
    (void)state;
    struct vms_config c = tu_config(64ULL << 20);
    c.ncpus = 2;
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, PG, RW);
    struct vms_stats *s0 = tu_stats(m);
    tu_store_byte(t, a, 1);
    struct vms_stats *s1 = tu_stats(m), *d = tu_stats(m);
    vms_stats_diff(s1, s0, d);
    assert_int_equal(d->minor_faults, 1);
    assert_int_equal(d->major_faults, 0);
    assert_int_equal(d->frames_used, 4);
    assert_int_equal(d->pgtable_frames, 3);
    assert_int_equal(d->cpu[0].page_walks, s1->cpu[0].page_walks - s0->cpu[0].page_walks);
    assert_true(d->cpu[0].page_walks >= 1);
    assert_int_equal(d->cpu[1].page_walks, 0);
    assert_int_equal(d->ncpus, 2);
    assert_int_equal(d->frames_total, (64ULL << 20) / PG);
    assert_int_equal(vms_munmap(t, a, PG), 0);
    struct vms_stats *s2 = tu_stats(m);
    vms_stats_diff(s2, s1, d);
    assert_int_equal((int64_t)d->frames_used, -4);
    assert_int_equal((int64_t)d->pgtable_frames, -3);
    assert_int_equal(d->minor_faults, 0);
    tu_assert_clean(m);
    vms_machine_destroy(m);
    free(s0);
    free(s1);
    free(s2);
    free(d);
}

/* ---- every frame reported ---- */

/* The frames the events say are in use, and what each allocation was for. */
struct ledger {
    int64_t frames; /* frame-alloc minus frame-free, 2^level each */
    int64_t tables; /* pgtable-alloc minus pgtable-free */
    unsigned allocs[8], frees[8]; /* by detail, as named in details[] */
    unsigned large;               /* allocations of more than one frame */
    unsigned unknown;             /* a detail not in details[] */
};

static const char *const details[] = {"anon", "anon-read", "cow", "shmem", "page cache",
                                      "page cache, zeroed"};
#define NR_DETAILS (sizeof(details) / sizeof(details[0]))

static int detail_index(const char *d)
{
    for (size_t i = 0; d && i < NR_DETAILS; i++)
        if (strcmp(d, details[i]) == 0)
            return (int)i;
    return -1;
}

static void post(void *arg, const struct vms_event *ev)
{
    struct ledger *l = arg;
    int i = detail_index(ev->detail);
    switch (ev->kind) {
    case VMS_EV_FRAME_ALLOC:
        l->frames += 1LL << ev->level;
        l->large += ev->level > 0;
        if (i < 0)
            l->unknown++;
        else
            l->allocs[i]++;
        break;
    case VMS_EV_FRAME_FREE:
        l->frames -= 1LL << ev->level;
        if (i < 0)
            l->unknown++;
        else
            l->frees[i]++;
        break;
    case VMS_EV_PGTABLE_ALLOC: l->tables++; break;
    case VMS_EV_PGTABLE_FREE: l->tables--; break;
    default: break;
    }
}

struct books {
    struct ledger l;
    vms_machine *m;
    int64_t base; /* frames_used before anything: the zero page and reserved frame 0 */
    int64_t mms;  /* live address spaces, each holding a PGD the events do not report */
    char dir[256], root[300];
};

/* frames_used is what the events say, plus one PGD per address space. */
static void balance(struct books *b, const char *after)
{
    struct vms_stats *s = tu_stats(b->m);
    int64_t expected = b->base + b->l.frames + b->l.tables + b->mms;
    if ((int64_t)s->frames_used != expected)
        fail_msg("after %s: frames_used %llu, the events account for %lld", after,
                 (unsigned long long)s->frames_used, (long long)expected);
    assert_int_equal(s->pgtable_frames, b->l.tables + b->mms);
    free(s);
    assert_int_equal(b->l.unknown, 0);
}

#define STEP(b, call)                                                                          \
    do {                                                                                       \
        call;                                                                                  \
        balance(b, #call);                                                                     \
    } while (0)

static void books_open(struct books *b, int zero_page, int large_folios)
{
    memset(b, 0, sizeof(*b));
    tu_root_make(b->dir, sizeof(b->dir), b->root, sizeof(b->root));
    struct vms_config c = tu_config(64ULL << 20);
    c.ncpus = 2;
    c.zero_page = zero_page;
    c.large_folios = large_folios;
    c.root = b->root;
    c.trace = post;
    c.trace_arg = &b->l;
    b->m = tu_machine_with(&c);
    b->base = (int64_t)tu_frames_used(b->m);
}

static void books_close(struct books *b)
{
    tu_assert_clean(b->m);
    vms_machine_destroy(b->m);
    assert_int_equal(tu_scratch_remove(b->dir), 0);
}

/* Anonymous memory: read faults without the zero page, writes, fork and
 * copy-on-write both ways, MADV_DONTNEED, munmap, exit. */
static void test_every_anonymous_frame_is_reported(void **state)
{
    (void)state;
    struct books b;
    books_open(&b, 0, 1);
    vms_task *t = NULL, *child = NULL;
    STEP(&b, (t = tu_spawn(b.m), b.mms++));
    vms_addr a = tu_anon(t, 8 * PG, RW);
    STEP(&b, (void)tu_load_byte(t, a));
    STEP(&b, tu_store_byte(t, a + PG, 1));
    STEP(&b, tu_store_byte(t, a + 2 * PG, 2));
    STEP(&b, (child = vms_fork(t), b.mms++));
    assert_non_null(child);
    STEP(&b, tu_store_byte(child, a + PG, 3));  /* copy in the child */
    STEP(&b, tu_store_byte(t, a + 2 * PG, 4));  /* copy in the parent */
    STEP(&b, tu_store_byte(child, a + 2 * PG, 5)); /* the last user reuses it */
    STEP(&b, assert_int_equal(vms_madvise(t, a, 2 * PG, MADV_DONTNEED), 0));
    vms_addr s = tu_mmap(t, 0, 2 * PG, RW, MAP_SHARED | MAP_ANONYMOUS);
    STEP(&b, tu_store_byte(t, s, 6));
    STEP(&b, (void)tu_load_byte(t, s + PG)); /* a read of shmem takes a page too */
    STEP(&b, (vms_exit(child), b.mms--));
    STEP(&b, assert_int_equal(vms_munmap(t, a, 8 * PG), 0));
    STEP(&b, assert_int_equal(vms_munmap(t, s, 2 * PG), 0));
    assert_true(b.l.allocs[detail_index("anon")] >= 2);
    assert_true(b.l.allocs[detail_index("anon-read")] >= 1);
    assert_true(b.l.allocs[detail_index("cow")] >= 2);
    assert_true(b.l.allocs[detail_index("shmem")] >= 1);
    assert_true(b.l.frees[detail_index("anon")] >= 4);
    assert_true(b.l.frees[detail_index("shmem")] >= 1);
    assert_int_equal(b.l.frames, 0);
    books_close(&b);
}

/* Files: read() and readahead in large folios, write() of new pages, a
 * private mapping's copies, truncation and MADV_PAGEOUT giving frames
 * back. */
static void test_every_file_frame_is_reported(void **state)
{
    (void)state;
    struct books b;
    books_open(&b, 1, 1);
    char path[400];
    tu_host_fill(tu_join(path, sizeof(path), b.root, "f"), 64 * PG);
    vms_task *t = NULL;
    STEP(&b, (t = tu_spawn(b.m), b.mms++));
    int fd = vms_open(t, "f", O_RDWR, 0);
    assert_true(fd >= 0);
    vms_addr buf = tu_anon(t, 64 * PG, RW);
    STEP(&b, assert_int_equal(vms_pread(t, fd, buf, 32 * PG, 0), (int64_t)(32 * PG)));
    int g = vms_open(t, "g", O_RDWR | O_CREAT, 0644);
    assert_true(g >= 0);
    STEP(&b, assert_int_equal(vms_write(t, g, buf, 16 * PG), (int64_t)(16 * PG)));
    STEP(&b, assert_int_equal(vms_fsync(t, g), 0));
    unsigned before = b.l.frees[detail_index("page cache")];
    STEP(&b, assert_int_equal(vms_ftruncate(t, g, 3 * PG), 0)); /* splits the clean folio */
    assert_true(b.l.frees[detail_index("page cache")] > before);
    int64_t f = vms_mmap(t, 0, 64 * PG, RW, MAP_PRIVATE, fd, 0);
    assert_true(f >= 0);
    STEP(&b, (void)tu_load_byte(t, (vms_addr)f + 40 * PG));
    STEP(&b, tu_store_byte(t, (vms_addr)f + 40 * PG, 1)); /* copy of a file page */
    STEP(&b, tu_store_byte(t, (vms_addr)f + 50 * PG, 2)); /* copy of a page read for it */
    int64_t sh = vms_mmap(t, 0, 64 * PG, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(sh >= 0);
    STEP(&b, (void)tu_load_byte(t, (vms_addr)sh + 60 * PG));
    STEP(&b, assert_int_equal(vms_madvise(t, (vms_addr)sh, 64 * PG, MADV_PAGEOUT), 0));
    STEP(&b, assert_int_equal(vms_munmap(t, (vms_addr)f, 64 * PG), 0));
    STEP(&b, assert_int_equal(vms_close(t, fd), 0));
    STEP(&b, assert_int_equal(vms_close(t, g), 0));
    STEP(&b, (vms_exit(t), b.mms--));
    assert_true(b.l.allocs[detail_index("page cache")] >= 1);
    assert_true(b.l.allocs[detail_index("page cache, zeroed")] >= 1);
    assert_true(b.l.allocs[detail_index("cow")] >= 2);
    assert_true(b.l.large >= 1);
    assert_true(b.l.frees[detail_index("page cache")] >= 1);
    assert_true(b.l.frees[detail_index("anon")] >= 2);
    books_close(&b);
}

/* ---- vms_config_check ---- */

struct bad_config {
    const char *field; /* as the message names it */
    void (*spoil)(struct vms_config *c);
    const char *message;
};

#define SPOIL(name, ...) static void name(struct vms_config *c) { __VA_ARGS__; }
SPOIL(phys_small, c->phys_bytes = 63 * PG)
SPOIL(phys_huge, c->phys_bytes = 0xffffffffULL * PG)
SPOIL(cpus_none, c->ncpus = 0)
SPOIL(cpus_many, c->ncpus = 65)
SPOIL(levels_3, c->pgtable_levels = 3)
SPOIL(levels_neg, c->pgtable_levels = -1)
SPOIL(dtlb_ways, c->dtlb.ways = 0)
SPOIL(dtlb_entries, c->dtlb.entries = 63)
SPOIL(itlb_sets, c->itlb = (struct vms_tlb_geometry){24, 8})
SPOIL(itlb_ways, c->itlb.ways = 0)
SPOIL(stlb_entries, c->stlb.entries = 0)
SPOIL(stlb_ways, c->stlb.ways = 0)
SPOIL(pde_sets, c->pde_cache = (struct vms_tlb_geometry){24, 8})
SPOIL(pml4e_ways, c->pml4e_cache = (struct vms_tlb_geometry){2, 0})
SPOIL(fa_zero, c->fault_around_bytes = 0)
SPOIL(fa_small, c->fault_around_bytes = 2048)
SPOIL(fa_odd, c->fault_around_bytes = 12288)
SPOIL(fa_big, c->fault_around_bytes = 4u << 20)
SPOIL(maps_zero, c->max_map_count = 0)
SPOIL(maps_big, c->max_map_count = INT32_MAX)
SPOIL(ra_small, c->readahead_kb = 3)
SPOIL(ra_big, c->readahead_kb = (1u << 20) + 1)
SPOIL(sectors_small, c->max_sectors_kb = 0)
SPOIL(sectors_big, c->max_sectors_kb = 1u << 21)
SPOIL(overcommit, c->overcommit_memory = 3)

static const struct bad_config bad_configs[] = {
    {"phys_bytes", phys_small, "phys_bytes = 258048: must be 262144..17592186040319"},
    {"phys_bytes", phys_huge, "phys_bytes = 17592186040320: must be 262144..17592186040319"},
    {"ncpus", cpus_none, "ncpus = 0: must be 1..64"},
    {"ncpus", cpus_many, "ncpus = 65: must be 1..64"},
    {"pgtable_levels", levels_3, "pgtable_levels = 3: must be 4 or 5"},
    {"pgtable_levels", levels_neg, "pgtable_levels = -1: must be 4 or 5"},
    {"dtlb.ways", dtlb_ways, "dtlb.ways = 0: must be 1..4294967295"},
    {"dtlb.entries", dtlb_entries,
     "dtlb.entries = 63: must be dtlb.ways (4) times a power of two (1, 2, 4, ...)"},
    {"itlb.entries", itlb_sets,
     "itlb.entries = 24: must be itlb.ways (8) times a power of two (1, 2, 4, ...)"},
    {"itlb.ways", itlb_ways, NULL},
    {"stlb.entries", stlb_entries, NULL},
    {"stlb.ways", stlb_ways, NULL},
    {"pde_cache.entries", pde_sets,
     "pde_cache.entries = 24: must be pde_cache.ways (8) times a power of two (1, 2, 4, ...)"},
    {"pml4e_cache.ways", pml4e_ways, "pml4e_cache.ways = 0: must be 1..4294967295"},
    {"fault_around_bytes", fa_zero, "fault_around_bytes = 0: must be a power of two, 4096..2097152"},
    {"fault_around_bytes", fa_small, NULL},
    {"fault_around_bytes", fa_odd, NULL},
    {"fault_around_bytes", fa_big, NULL},
    {"max_map_count", maps_zero, "max_map_count = 0: must be 1..2147483646"},
    {"max_map_count", maps_big, NULL},
    {"readahead_kb", ra_small, "readahead_kb = 3: must be 4..1048576"},
    {"readahead_kb", ra_big, NULL},
    {"max_sectors_kb", sectors_small, NULL},
    {"max_sectors_kb", sectors_big, "max_sectors_kb = 2097152: must be 4..1048576"},
    {"overcommit_memory", overcommit, "overcommit_memory = 3: must be 0..2"},
};

static void test_config_check_names_each_refused_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
        const struct bad_config *b = &bad_configs[i];
        struct vms_config c;
        vms_config_init(&c);
        c.phys_bytes = 64ULL << 20;
        b->spoil(&c);
        char msg[160];
        assert_int_equal(vms_config_check(&c, msg, sizeof(msg)), -EINVAL);
        size_t n = strlen(b->field);
        assert_memory_equal(msg, b->field, n);
        assert_memory_equal(msg + n, " = ", 3);
        assert_non_null(strstr(msg, ": must be "));
        if (b->message)
            assert_string_equal(msg, b->message);
        errno = 0;
        assert_null(vms_machine_create(&c));
        assert_int_equal(errno, EINVAL);
    }
}

/* The edges of each range are accepted, by the check and by create. */
static void test_config_check_accepts_the_edges(void **state)
{
    (void)state;
    struct vms_config c;
    char msg[160] = "x";
    vms_config_init(&c);
    assert_int_equal(vms_config_check(&c, msg, sizeof(msg)), 0);
    assert_string_equal(msg, "");
    c.phys_bytes = 64 * PG;
    c.ncpus = VMS_MAX_CPUS;
    c.pgtable_levels = 5;
    c.dtlb = (struct vms_tlb_geometry){12, 12}; /* one set */
    c.itlb = (struct vms_tlb_geometry){6, 3};   /* two sets of three ways */
    c.stlb = (struct vms_tlb_geometry){1, 1};
    c.fault_around_bytes = 2u << 20;
    c.max_map_count = INT32_MAX - 1;
    c.readahead_kb = 1u << 20;
    c.max_sectors_kb = 4;
    c.overcommit_memory = 2;
    assert_int_equal(vms_config_check(&c, msg, sizeof(msg)), 0);
    vms_machine *m = tu_machine_with(&c);
    tu_assert_clean(m);
    vms_machine_destroy(m);
    c.phys_bytes = 0xffffffffULL * PG - 1;
    c.ncpus = 1;
    c.fault_around_bytes = 4096;
    c.max_map_count = 1;
    c.readahead_kb = 4;
    c.max_sectors_kb = 1u << 20;
    c.overcommit_memory = 0;
    assert_int_equal(vms_config_check(&c, msg, sizeof(msg)), 0);
}

/* A short message buffer is cut and terminated; none at all is fine. */
static void test_config_check_message_buffers(void **state)
{
    (void)state;
    struct vms_config c;
    vms_config_init(&c);
    c.ncpus = 0;
    char msg[9];
    memset(msg, 'x', sizeof(msg));
    assert_int_equal(vms_config_check(&c, msg, 6), -EINVAL);
    assert_string_equal(msg, "ncpus");
    assert_int_equal(msg[6], 'x');
    assert_int_equal(vms_config_check(&c, NULL, 0), -EINVAL);
    assert_int_equal(vms_config_check(NULL, msg, sizeof(msg)), -EINVAL);
    assert_true(msg[0] != '\0');
    errno = 0;
    assert_null(vms_machine_create(NULL));
    assert_int_equal(errno, EINVAL);
}

/* ---- `test_trace --json-lines` ---- */

static int print_json_lines(void)
{
    struct recorder *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    run_scenario(r);
    static const struct vms_event odd[] = {
        {.kind = VMS_EV_FAULT, .detail = "quote \" backslash \\ newline \n bell \x07 del \x7f"},
        {.kind = (enum vms_event_kind)77},
    };
    char buf[512];
    for (size_t i = 0; i < r->n; i++) {
        vms_event_json(&r->ev[i], buf, sizeof(buf));
        puts(buf);
    }
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        vms_event_json(&odd[i], buf, sizeof(buf));
        puts(buf);
    }
    free(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--json-lines") == 0)
        return print_json_lines();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_has_a_stable_name),
        cmocka_unit_test(test_demo_lines),
        cmocka_unit_test(test_frame_lines),
        cmocka_unit_test(test_reclaim_lines),
        cmocka_unit_test(test_five_level_names_and_wide_cpus),
        cmocka_unit_test(test_every_kind_formats),
        cmocka_unit_test(test_json_of_every_event_parses),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_buffers_of_every_length),
        cmocka_unit_test(test_stats_diff_every_field),
        cmocka_unit_test(test_stats_diff_of_a_store),
        cmocka_unit_test(test_every_anonymous_frame_is_reported),
        cmocka_unit_test(test_every_file_frame_is_reported),
        cmocka_unit_test(test_config_check_names_each_refused_field),
        cmocka_unit_test(test_config_check_accepts_the_edges),
        cmocka_unit_test(test_config_check_message_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
