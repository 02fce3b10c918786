/*
 * test_vmt.c - the .vmt trace (tools/trace/): every record type written and
 * read back, lackey and ChampSim imports, malformed input (truncated, bad
 * magic, another version, huge counts and lengths, bad zstd frames) refused
 * with a message, the reuse-distance pass against a brute-force LRU, and
 * replays on a machine: VMAs made for a trace without mm calls, mm calls at
 * the traced addresses, per-region figures that add up to the totals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "lru.h"
#include "replay.h"
#include "vmt.h"

/* A trace in memory: written with w, read back from the same bytes. */
struct buf {
    char *data;
    size_t size;
};

static struct vmt_writer *open_mem_writer(FILE **f, uint32_t flags, const struct vmt_meta *meta)
{
    *f = tmpfile();
    assert_non_null(*f);
    char err[256];
    struct vmt_writer *w = vmt_writer_open(*f, flags, meta, err, sizeof(err));
    assert_non_null(w);
    return w;
}

static struct buf finish(FILE *f, struct vmt_writer *w)
{
    assert_int_equal(vmt_writer_close(w), 0);
    struct buf b;
    long n = ftell(f);
    assert_true(n > 0);
    b.size = (size_t)n;
    b.data = malloc(b.size);
    rewind(f);
    assert_int_equal(fread(b.data, 1, b.size, f), b.size);
    fclose(f);
    return b;
}

/* Reads b to the end: the number of records, or -1 with the message in err. */
static long read_all(const void *data, size_t size, struct vmt_record *recs, size_t max, char *err,
                     size_t errlen)
{
    FILE *f = fmemopen((void *)data, size, "rb");
    assert_non_null(f);
    struct vmt_reader *r = vmt_reader_open(f, err, errlen);
    if (!r) {
        fclose(f);
        return -1;
    }
    long n = 0;
    int rc;
    struct vmt_record rec;
    while ((rc = vmt_read(r, &rec)) > 0) {
        if ((size_t)n < max)
            recs[n] = rec;
        n++;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", vmt_reader_error(r));
        n = -1;
    }
    vmt_reader_close(r);
    fclose(f);
    return n;
}

static struct vmt_record sample_records[] = {
    {.type = VMT_SEGMENT, .arg = {0x108000, 0x2000, 1, 0, VMT_SEG_FILE}, .path = "/usr/bin/true"},
    {.type = VMT_SEGMENT, .arg = {0x1ffe801000, 0x800000, 3, 0, VMT_SEG_STACK}},
    {.type = VMT_FETCH, .addr = 0x401000, .size = 3},
    {.type = VMT_LOAD, .addr = 0x7ffffffde000, .size = 8},
    {.type = VMT_STORE, .addr = 0x7ffffffddff8, .size = 8},
    {.type = VMT_MODIFY, .addr = 0x600000, .size = 4},
    {.type = VMT_FETCH, .addr = 0x400ffe, .size = 15},
    {.type = VMT_LOAD, .addr = 0xffffffffffffff00, .size = 32},
    {.type = VMT_STORE, .addr = 0, .size = 512},
    {.type = VMT_MMAP, .arg = {0, 8192, 3, 0x22, (uint64_t)-1, 0}, .result = 0x4835000},
    {.type = VMT_MMAP, .arg = {0, 16400, 1, 0x802, 4, 0}, .result = 0x4837000, .path = "/lib/libc.so.6"},
    {.type = VMT_MUNMAP, .arg = {0x4835000, 4096}, .result = 0},
    {.type = VMT_MPROTECT, .arg = {0x4837000, 4096, 0}, .result = -22},
    {.type = VMT_BRK, .arg = {0}, .result = 0x4035000},
    {.type = VMT_MREMAP, .arg = {0x4836000, 4096, 8192, 1, 0}, .result = 0x5000000},
    {.type = VMT_MADVISE, .arg = {0x5000000, 8192, 4}, .result = 0},
};
#define NSAMPLE (sizeof(sample_records) / sizeof(sample_records[0]))

static struct buf sample_trace(void)
{
    struct vmt_meta meta;
    vmt_meta_init(&meta);
    assert_int_equal(vmt_meta_add(&meta, "exec", "/usr/bin/true"), 0);
    assert_int_equal(vmt_meta_add(&meta, "argv", "true"), 0);
    assert_int_equal(vmt_meta_add(&meta, "argv", "--x"), 0);
    FILE *f;
    struct vmt_writer *w = open_mem_writer(&f, VMT_F_EXEC | VMT_F_MM, &meta);
    vmt_meta_free(&meta);
    for (size_t i = 0; i < NSAMPLE; i++)
        assert_int_equal(vmt_write(w, &sample_records[i]), 0);
    return finish(f, w);
}

static void every_record_round_trips(void **state)
{
    (void)state;
    struct buf b = sample_trace();
    struct vmt_record got[NSAMPLE];
    char err[256] = "";
    assert_int_equal(read_all(b.data, b.size, got, NSAMPLE, err, sizeof(err)), NSAMPLE);
    for (size_t i = 0; i < NSAMPLE; i++) {
        const struct vmt_record *w = &sample_records[i];
        assert_int_equal(got[i].type, w->type);
        if (vmt_is_access(w->type)) {
            assert_int_equal(got[i].addr, w->addr);
            assert_int_equal(got[i].size, w->size);
        } else {
            for (int k = 0; k < 5; k++)
                assert_int_equal(got[i].arg[k], w->arg[k]);
            assert_int_equal(got[i].result, w->type == VMT_SEGMENT ? 0 : w->result);
            assert_string_equal(got[i].path, w->type == VMT_MMAP || w->type == VMT_SEGMENT ? w->path : "");
        }
    }
    /* the header: flags, metadata in order, the count put in at close */
    FILE *f = fmemopen(b.data, b.size, "rb");
    struct vmt_reader *r = vmt_reader_open(f, err, sizeof(err));
    assert_non_null(r);
    const struct vmt_header *h = vmt_reader_header(r);
    assert_int_equal(h->flags, VMT_F_EXEC | VMT_F_MM);
    assert_int_equal(h->count, NSAMPLE);
    assert_int_equal(h->meta.n, 3);
    assert_string_equal(vmt_meta_get(&h->meta, "exec"), "/usr/bin/true");
    assert_string_equal(h->meta.value[2], "--x");
    vmt_reader_close(r);
    fclose(f);
    free(b.data);
}

/* 10^6 accesses in a loop pattern: a few bytes each after zstd. */
static void many_accesses_stay_small(void **state)
{
    (void)state;
    FILE *f;
    struct vmt_writer *w = open_mem_writer(&f, 0, NULL);
    for (uint64_t i = 0; i < 1000000; i++) {
        assert_int_equal(vmt_write_access(w, VMT_FETCH, 0x401000 + (i % 64) * 4, 4), 0);
        assert_int_equal(vmt_write_access(w, VMT_LOAD, 0x10000000 + i * 8, 8), 0);
    }
    struct buf b = finish(f, w);
    assert_true(b.size < 2000000 / 4); /* under 2 bits an access */
    char err[256];
    assert_int_equal(read_all(b.data, b.size, NULL, 0, err, sizeof(err)), 2000000);
    free(b.data);
}

static void expect_error(const void *data, size_t size, const char *words)
{
    char err[256] = "";
    assert_int_equal(read_all(data, size, NULL, 0, err, sizeof(err)), -1);
    if (!strstr(err, words))
        fail_msg("error '%s' does not say '%s'", err, words);
}

static void malformed_traces_are_refused(void **state)
{
    (void)state;
    struct buf b = sample_trace();
    expect_error(b.data, 0, "truncated");
    expect_error(b.data, 20, "truncated");
    expect_error("#!/bin/sh\necho not a trace, but long enough\n", 44, "bad magic");
    /* every cut of the body is an error, never a crash */
    for (size_t n = VMT_HEADER_FIXED; n < b.size; n++) {
        char err[256] = "";
        assert_int_equal(read_all(b.data, n, NULL, 0, err, sizeof(err)), -1);
        assert_true(err[0] != 0);
    }
    char *c = malloc(b.size + 4);
    memcpy(c, b.data, b.size);
    c[8] = 2; /* version 2 */
    expect_error(c, b.size, "version 2");
    memcpy(c, b.data, b.size);
    c[23] = 0x7f; /* metadata of 2 GiB */
    expect_error(c, b.size, "metadata of");
    memcpy(c, b.data, b.size);
    c[24] = 99; /* a count the records do not reach */
    expect_error(c, b.size, "header counts");
    memcpy(c, b.data, b.size);
    c[b.size - 6] ^= 0x55; /* the frame's checksum or its last block */
    expect_error(c, b.size, "zstd");
    memcpy(c, b.data, b.size);
    memcpy(c + b.size, "junk", 4);
    expect_error(c, b.size + 4, "after the end marker");
    free(c);
    free(b.data);
}

static void huge_lengths_inside_records(void **state)
{
    (void)state;
    /* a path of 10^9 bytes and an access of 2^40 bytes, as raw records */
    static const unsigned char path_huge[] = {0x81, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03};
    static const unsigned char access_huge[] = {0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0};
    static const unsigned char varint_long[] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0x7f};
    static const unsigned char bad_tag[] = {0xfe};
    const struct { const unsigned char *p; size_t n; const char *says; } cases[] = {
        {path_huge, sizeof(path_huge), "a path of"},
        {access_huge, sizeof(access_huge), "an access of"},
        {varint_long, sizeof(varint_long), "wider than 64 bits"},
        {bad_tag, sizeof(bad_tag), "unknown tag"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char out[256] = {0};
        memcpy(out, VMT_MAGIC, 8);
        out[8] = 1;     /* version 1 */
        out[17] = 0x10; /* page size 4096 */
        memset(out + 24, 0xff, 8); /* count unknown */
        size_t n = ZSTD_compress(out + VMT_HEADER_FIXED, sizeof(out) - VMT_HEADER_FIXED, cases[i].p,
                                 cases[i].n, 1);
        assert_false(ZSTD_isError(n));
        expect_error(out, VMT_HEADER_FIXED + n, cases[i].says);
    }
}

static void lackey_import(void **state)
{
    (void)state;
    const char *text = "==123== Lackey, an example Valgrind tool\n"
                       "I  0401ab70,3\n"
                       " L 1ffefffd48,8\n"
                       " S 1ffefffd40,8\n"
                       " M 0421c7f0,4\n"
                       "--123-- a debug line\n"
                       "\n"
                       "I 04000000,15\n";
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    FILE *f;
    struct vmt_writer *w = open_mem_writer(&f, 0, NULL);
    char err[256] = "";
    assert_int_equal(vmt_import_lackey(in, w, err, sizeof(err)), 0);
    fclose(in);
    struct buf b = finish(f, w);
    struct vmt_record got[8];
    assert_int_equal(read_all(b.data, b.size, got, 8, err, sizeof(err)), 5);
    assert_int_equal(got[0].type, VMT_FETCH);
    assert_int_equal(got[0].addr, 0x401ab70);
    assert_int_equal(got[0].size, 3);
    assert_int_equal(got[1].type, VMT_LOAD);
    assert_int_equal(got[1].addr, 0x1ffefffd48);
    assert_int_equal(got[2].type, VMT_STORE);
    assert_int_equal(got[3].type, VMT_MODIFY);
    assert_int_equal(got[4].size, 15);
    free(b.data);

    static const char *const bad[] = {"X 1000,4\n", " I 1000,4\n", "L 1000,4\n", " L 1000\n",
                                      " L 1000,0\n", " L 10000000000000000,4\n", " L 1000,4 junk\n",
                                      " L 1000,99999999\n", " L zz,4\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in = fmemopen((void *)bad[i], strlen(bad[i]), "r");
        w = open_mem_writer(&f, 0, NULL);
        err[0] = 0;
        assert_int_equal(vmt_import_lackey(in, w, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "line 1"));
        fclose(in);
        vmt_writer_close(w);
        fclose(f);
    }
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void champsim_import(void **state)
{
    (void)state;
    unsigned char rec[2][64] = {{0}};
    put64(rec[0], 0x401000);          /* ip */
    put64(rec[0] + 32, 0x7fff0000);   /* source_memory[0] */
    put64(rec[0] + 40, 0x7fff0008);   /* source_memory[1] */
    put64(rec[0] + 16, 0x601000);     /* destination_memory[0] */
    put64(rec[1], 0x401004);
    FILE *in = fmemopen(rec, sizeof(rec), "rb");
    FILE *f;
    struct vmt_writer *w = open_mem_writer(&f, 0, NULL);
    char err[256] = "";
    assert_int_equal(vmt_import_champsim(in, w, err, sizeof(err)), 0);
    fclose(in);
    struct buf b = finish(f, w);
    struct vmt_record got[8];
    assert_int_equal(read_all(b.data, b.size, got, 8, err, sizeof(err)), 5);
    const enum vmt_type types[] = {VMT_FETCH, VMT_LOAD, VMT_LOAD, VMT_STORE, VMT_FETCH};
    const uint64_t addrs[] = {0x401000, 0x7fff0000, 0x7fff0008, 0x601000, 0x401004};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(got[i].type, types[i]);
        assert_int_equal(got[i].addr, addrs[i]);
    }
    free(b.data);
    /* a cut record, and an xz file */
    in = fmemopen(rec, 100, "rb");
    w = open_mem_writer(&f, 0, NULL);
    assert_int_equal(vmt_import_champsim(in, w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "truncated: 36 bytes after record 1"));
    fclose(in);
    vmt_writer_close(w);
    fclose(f);
    unsigned char xz[64] = {0xfd, '7', 'z', 'X', 'Z', 0};
    in = fmemopen(xz, sizeof(xz), "rb");
    w = open_mem_writer(&f, 0, NULL);
    assert_int_equal(vmt_import_champsim(in, w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "compressed"));
    fclose(in);
    vmt_writer_close(w);
    fclose(f);
}

/* Reuse distances against an LRU list kept by brute force. */
static void lru_matches_brute_force(void **state)
{
    (void)state;
    struct lru l;
    assert_int_equal(lru_init(&l), 0);
    enum { N = 20000, PAGES = 300 };
    uint64_t *stack = calloc(PAGES, sizeof(*stack)), depth = 0;
    uint64_t *brute = calloc(PAGES + 1, sizeof(*brute)), cold = 0;
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t page = (x >> 33) % (i < N / 2 ? PAGES / 3 : PAGES); /* a phase change */
        assert_int_equal(lru_touch(&l, page), 0);
        uint64_t d = 0;
        while (d < depth && stack[d] != page)
            d++;
        if (d == depth) {
            cold++;
            depth++;
        } else {
            brute[d]++;
        }
        memmove(stack + 1, stack, d * sizeof(*stack));
        stack[0] = page;
    }
    assert_int_equal(l.cold, cold);
    assert_int_equal(l.pages, depth);
    for (uint64_t frames = 1; frames <= PAGES + 1; frames++) {
        uint64_t want = 0;
        for (uint64_t d = frames; d < PAGES; d++)
            want += brute[d];
        assert_int_equal(lru_misses(&l, frames), want);
    }
    free(stack);
    free(brute);
    lru_free(&l);
}

static struct buf trace_of(const struct vmt_record *recs, size_t n, uint32_t flags)
{
    FILE *f;
    struct vmt_writer *w = open_mem_writer(&f, flags, NULL);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vmt_write(w, &recs[i]), 0);
    return finish(f, w);
}

static int replay_buf(const struct buf *b, struct vmt_replay_opts *o, struct vmt_replay_result *res)
{
    FILE *f = fmemopen(b->data, b->size, "rb");
    char err[256] = "";
    int rc = vmt_replay(f, o, res, err, sizeof(err));
    if (rc)
        print_error("replay: %s\n", err);
    fclose(f);
    return rc;
}

static void test_opts(struct vmt_replay_opts *o)
{
    vmt_replay_opts_init(o);
    o->config.phys_bytes = 64 << 20;
    o->config.min_free_kbytes = 0;
    o->config.zero_page = 1;
    o->config.dtlb = (struct vms_tlb_geometry){64, 4};
    o->config.itlb = (struct vms_tlb_geometry){128, 8};
    o->config.stlb = (struct vms_tlb_geometry){1536, 12};
    o->by_region = 1;
    o->lru = 1;
    o->samples = 4;
}

/* No mm calls: each 2 MiB block first touched becomes one anonymous VMA. */
static void replay_makes_vmas_for_untouched_memory(void **state)
{
    (void)state;
    struct vmt_record recs[] = {
        {.type = VMT_STORE, .addr = 0x10000000, .size = 8},
        {.type = VMT_LOAD, .addr = 0x10001000, .size = 8},
        {.type = VMT_FETCH, .addr = 0x10002000, .size = 4},
        {.type = VMT_STORE, .addr = 0x10200ffc, .size = 8}, /* the next block, across a page */
        {.type = VMT_LOAD, .addr = 0x10000000, .size = 8},
    };
    struct buf b = trace_of(recs, 5, 0);
    struct vmt_replay_opts o;
    test_opts(&o);
    struct vmt_replay_result res;
    assert_int_equal(replay_buf(&b, &o, &res), 0);
    assert_int_equal(res.accesses, 5);
    assert_int_equal(res.vmas_made, 2);
    assert_int_equal(res.signals, 0);
    /* host-independent: zero_page=1, so the load at 0x10001000 maps the zero page */
    assert_int_equal(res.minflt, 5); /* 3 pages of the first block, 2 of the second */
    assert_int_equal(res.majflt, 0);
    /* the regions add up to the total */
    uint64_t acc = 0, minflt = 0, walks = 0;
    for (size_t i = 0; i < res.nregions; i++) {
        acc += res.regions[i].accesses;
        minflt += res.regions[i].minflt;
        walks += res.regions[i].cpu.page_walks;
    }
    assert_int_equal(acc, 5);
    assert_int_equal(minflt, res.minflt);
    assert_int_equal(walks, res.stats.cpu[0].page_walks);
    assert_true(res.has_lru);
    assert_int_equal(res.lru.pages, 5);
    assert_int_equal(res.lru.cold, 5);
    assert_int_equal(lru_misses(&res.lru, 1), 1); /* 0x10000000 again after 4 others */
    assert_int_equal(lru_misses(&res.lru, 5), 0);
    assert_true(res.nsamples >= 1);
    vmt_replay_result_free(&res);
    free(b.data);
}

/* mm calls at the traced addresses: an mmap without a hint lands at its recorded result. */
static void replay_mm_calls_at_traced_addresses(void **state)
{
    (void)state;
    struct vmt_record recs[] = {
        {.type = VMT_MMAP, .arg = {0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                   (uint64_t)-1, 0}, .result = 0x4835000},
        {.type = VMT_STORE, .addr = 0x4835000, .size = 8},
        {.type = VMT_STORE, .addr = 0x4836000, .size = 8},
        {.type = VMT_MPROTECT, .arg = {0x4836000, 4096, PROT_READ}, .result = 0},
        {.type = VMT_STORE, .addr = 0x4836000, .size = 8},          /* SIGSEGV */
        {.type = VMT_MUNMAP, .arg = {0x4835000, 4096}, .result = 0},
        {.type = VMT_MUNMAP, .arg = {0x4835000, 5}, .result = -22}, /* recorded EINVAL? no: 0 */
        {.type = VMT_LOAD, .addr = 0x4835000, .size = 8},           /* SIGSEGV */
    };
    recs[6].result = 0; /* munmap of an unmapped page succeeds on Linux */
    struct buf b = trace_of(recs, 8, VMT_F_MM);
    struct vmt_replay_opts o;
    test_opts(&o);
    struct vmt_replay_result res;
    assert_int_equal(replay_buf(&b, &o, &res), 0);
    assert_int_equal(res.mm_calls, 4);
    assert_int_equal(res.mm_differ, 0);
    assert_int_equal(res.vmas_made, 0);
    assert_int_equal(res.signals, 2);
    assert_int_equal(res.minflt, 2);
    size_t named = 0;
    for (size_t i = 0; i < res.nregions; i++)
        if (strcmp(res.regions[i].name, "mmap@0x4835000") == 0) {
            named++;
            assert_int_equal(res.regions[i].accesses, 3);
            assert_int_equal(res.regions[i].signals, 1);
        }
    assert_int_equal(named, 1);
    vmt_replay_result_free(&res);
    free(b.data);
}

/* One CPU's counters alone: the cpu[] entry of vms_get_stats. */
static void cpu_stats_of_one_cpu(void **state)
{
    (void)state;
    struct vms_config c;
    vms_config_init(&c);
    c.ncpus = 2;
    c.phys_bytes = 16 << 20;
    vms_machine *m = vms_machine_create(&c);
    assert_non_null(m);
    vms_task *t = vms_spawn(m, "t");
    int64_t a = vms_mmap(t, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(a > 0);
    assert_int_equal(vms_store(t, (vms_addr)a, "x", 1), 0);
    assert_int_equal(vms_store(t, (vms_addr)a + 1, "y", 1), 0);
    struct vms_stats s;
    vms_get_stats(m, &s);
    struct vms_cpu_stats one;
    assert_int_equal(vms_get_cpu_stats(m, 0, &one), 0);
    assert_memory_equal(&one, &s.cpu[0], sizeof(one));
    assert_true(one.dtlb_hits >= 1 && one.page_walks >= 1);
    assert_int_equal(vms_get_cpu_stats(m, 1, &one), 0);
    assert_int_equal(one.dtlb_hits, 0);
    assert_int_equal(vms_get_cpu_stats(m, 2, &one), -EINVAL);
    assert_int_equal(vms_check(m, stderr), 0);
    vms_exit(t);
    vms_machine_destroy(m);
}

/* A trace the reader refuses: the replay says why and frees everything. */
static void replay_of_a_bad_trace(void **state)
{
    (void)state;
    struct buf b = sample_trace();
    b.size -= 5;
    struct vmt_replay_opts o;
    test_opts(&o);
    o.config.root = "/";
    struct vmt_replay_result res;
    FILE *f = fmemopen(b.data, b.size, "rb");
    char err[256] = "";
    assert_int_equal(vmt_replay(f, &o, &res, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "truncated") ? strstr(err, "truncated") : strstr(err, "zstd"));
    fclose(f);
    vmt_replay_result_free(&res);
    free(b.data);
}

/* vmt_read_accesses hands over the same accesses, in the same order, as
 * vmt_read, and stops before every other record: a trace of accesses of
 * every kind, sizes within the tag and beyond it (a varint), far jumps (long
 * varints), with mm calls among them, read both ways. */
static void block_reads_match_record_reads(void **state)
{
    (void)state;
    FILE *f;
    struct vmt_writer *w = open_mem_writer(&f, VMT_F_MM, NULL);
    enum { N = 20000 };
    uint64_t x = 0x243f6a8885a308d3ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t addr = (x & 8) ? x : 0x400000 + (x >> 40) % 65536;
        uint32_t size = (x & 0x30) == 0x30 ? 4096 : 1 + (uint32_t)(x >> 56) % 31;
        assert_int_equal(vmt_write_access(w, (enum vmt_type)(x >> 60 & 3), addr, size), 0);
        if (i % 997 == 0)
            assert_int_equal(vmt_write(w, &(struct vmt_record){.type = VMT_MUNMAP,
                                                               .arg = {0x1000, 0x2000}}), 0);
    }
    struct buf b = finish(f, w);
    static struct vmt_record want[N + N / 997 + 1];
    char err[256];
    long n = read_all(b.data, b.size, want, sizeof(want) / sizeof(want[0]), err, sizeof(err));
    assert_int_equal(n, N + N / 997 + 1);
    FILE *in = fmemopen(b.data, b.size, "rb");
    struct vmt_reader *r = vmt_reader_open(in, err, sizeof(err));
    assert_non_null(r);
    struct vmt_access block[100];
    long at = 0, from_blocks = 0;
    for (;;) {
        size_t got = vmt_read_accesses(r, block, 1 + (size_t)at % 100);
        for (size_t i = 0; i < got; i++, at++) {
            assert_true(at < n);
            assert_int_equal(block[i].type, want[at].type);
            assert_int_equal(block[i].addr, want[at].addr);
            assert_int_equal(block[i].size, want[at].size);
        }
        from_blocks += (long)got;
        struct vmt_record rec;
        int rc = vmt_read(r, &rec);
        assert_true(rc >= 0);
        if (rc == 0)
            break;
        assert_true(at < n);
        assert_int_equal(rec.type, want[at].type);
        if (vmt_is_access(rec.type))
            assert_int_equal(rec.addr, want[at].addr);
        at++;
    }
    assert_int_equal(at, n);
    assert_true(from_blocks > n / 2); /* most of them came in blocks */
    assert_int_equal(vmt_read_accesses(r, block, 100), 0); /* nothing after the end */
    vmt_reader_close(r);
    fclose(in);
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_record_round_trips),
        cmocka_unit_test(many_accesses_stay_small),
        cmocka_unit_test(block_reads_match_record_reads),
        cmocka_unit_test(malformed_traces_are_refused),
        cmocka_unit_test(huge_lengths_inside_records),
        cmocka_unit_test(lackey_import),
        cmocka_unit_test(champsim_import),
        cmocka_unit_test(lru_matches_brute_force),
        cmocka_unit_test(replay_makes_vmas_for_untouched_memory),
        cmocka_unit_test(replay_mm_calls_at_traced_addresses),
        cmocka_unit_test(replay_of_a_bad_trace),
        cmocka_unit_test(cpu_stats_of_one_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
