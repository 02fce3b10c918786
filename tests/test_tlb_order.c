/*
 * test_tlb_order.c - the L2 TLB's recency order (src/tlb.c) chooses the same
 * victims as the scan of LRU stamps it stands in for. Two TLBs of the same
 * shape, one keeping the order and one not, take the same random run of
 * fills, stamped hits, replacements in place and invalidations, on a clock
 * that starts near the 32-bit wrap and now and then jumps by more than 2^31
 * or 2^32 ticks (sets left untouched that long, where the order gives way to
 * the scan); after every step both hold the same tags, stamps and rights,
 * and a lookup of every tag held finds its own entry. The 4-way tree of
 * comparisons chooses the scan's victim, ties and wraps included, and
 * lookups through the sets' fingerprints find keys that share one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tlb.h"

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void expect_same(const struct tlb *a, const struct tlb *b)
{
    size_t n = (a->set_mask + 1) * a->ways;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a->tag[i], b->tag[i]);
        if (a->tag[i] == TLB_INVALID)
            continue;
        assert_int_equal(a->e[i].lru, b->e[i].lru);
        assert_int_equal(a->e[i].perm, b->e[i].perm);
        assert_ptr_equal(a->e[i].host, b->e[i].host);
        assert_ptr_equal(tlb_lookup(a, a->tag[i] >> 12, a->tag[i]), &a->e[i]);
        assert_ptr_equal(tlb_lookup(b, b->tag[i] >> 12, b->tag[i]), &b->e[i]);
    }
}

/* One random step on both TLBs at clock tick. */
static void step(struct tlb *t[2], uint64_t r, uint64_t tick)
{
    uint64_t vpn = (r >> 8) % 96; /* 96 pages over the sets: full sets, evictions */
    unsigned pcid = (unsigned)(r >> 20) % 2;
    uint64_t key = tlb_key(vpn, pcid);
    uint8_t *host = (uint8_t *)(uintptr_t)(0x10000 + vpn * 0x1000);
    switch (r % 8) {
    case 0: case 1: case 2: /* a lookup: stamped on a hit, filled on a miss */
        for (int k = 0; k < 2; k++) {
            struct tlb_entry *e = tlb_lookup(t[k], vpn, key);
            if (e)
                tlb_touch(t[k], e, tick);
            else
                tlb_insert_new(t[k], vpn, key, host, 1, tick);
        }
        break;
    case 3: case 4: /* a fill that replaces the entry for the key, if any */
        for (int k = 0; k < 2; k++)
            tlb_insert(t[k], vpn, key, host, 3, tick);
        break;
    case 5: /* rarely: most of the time the sets stay full */
        if ((r >> 30) % 8 == 0)
            for (int k = 0; k < 2; k++)
                tlb_invalidate(t[k], vpn, key);
        break;
    case 6:
        if ((r >> 30) % 16 == 0)
            for (int k = 0; k < 2; k++)
                tlb_invalidate_pcid(t[k], pcid);
        break;
    default:
        if ((r >> 30) % 512 == 0)
            for (int k = 0; k < 2; k++)
                tlb_invalidate_all(t[k]);
        break;
    }
}

static void run(unsigned entries, unsigned ways, uint64_t seed)
{
    struct tlb scan, ordered;
    assert_int_equal(tlb_init(&scan, entries, ways), 0);
    assert_int_equal(tlb_init(&ordered, entries, ways), 0);
    assert_int_equal(tlb_keep_order(&ordered), 0);
    struct tlb *t[2] = {&scan, &ordered};
    uint64_t s = seed, tick = (1ULL << 32) - 5000;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = xorshift(&s);
        if (r % 700 == 0) /* a long idle time: stamps older than 2^31 ticks */
            tick += ((r >> 12) & 1 ? 1ULL << 31 : 1ULL << 32) + (r >> 40) % 1000;
        step(t, r, ++tick);
        expect_same(&scan, &ordered);
    }
    tlb_destroy(&scan);
    tlb_destroy(&ordered);
}

static void order_chooses_the_scans_victims_12_ways(void **state)
{
    (void)state;
    run(48, 12, 0x9e3779b97f4a7c15ULL);
}

static void order_chooses_the_scans_victims_fully_associative(void **state)
{
    (void)state;
    run(32, 32, 0x2545f4914f6cdd1dULL);
}

static void order_chooses_the_scans_victims_one_way(void **state)
{
    (void)state;
    run(16, 1, 0x5851f42d4c957f2dULL);
}

/* Four stamps drawn from few values (ties) around a clock that wraps. */
static void tree_of_four_picks_the_scans_victim(void **state)
{
    (void)state;
    uint64_t s = 0x1234567887654321ULL;
    for (int i = 0; i < 100000; i++) {
        uint64_t r = xorshift(&s);
        uint32_t base = (r & 1) ? UINT32_MAX - 3 : (uint32_t)(r >> 32);
        struct tlb_entry e[4];
        for (int w = 0; w < 4; w++)
            e[w].lru = base + (uint32_t)((r >> (8 + 4 * w)) % ((r >> 2) % 2 ? 3 : 9));
        assert_int_equal(tlb_lru_way4(e), tlb_lru_way(e, 4));
    }
}

/* Up to `want` page numbers of one set of t whose keys (PCID 0) share the
 * fingerprint of the first. */
static unsigned colliding_pages(const struct tlb *t, uint64_t set, uint64_t *vpn, unsigned want)
{
    unsigned n = 0;
    for (uint64_t v = set; n < want && v < (1ULL << 30); v += t->set_mask + 1)
        if (n == 0 || tlb_fp(tlb_key(v, 0)) == tlb_fp(tlb_key(vpn[0], 0)))
            vpn[n++] = v;
    return n;
}

static void fingerprints_that_collide_still_find_each_key(void **state)
{
    (void)state;
    struct tlb t;
    assert_int_equal(tlb_init(&t, 48, 12), 0);
    uint64_t vpn[13];
    assert_int_equal(colliding_pages(&t, 2, vpn, 13), 13);
    for (unsigned i = 0; i < 12; i++) /* fills ways 0..11 in order */
        tlb_insert_new(&t, vpn[i], tlb_key(vpn[i], 0), (uint8_t *)(uintptr_t)(0x1000 * (i + 1)), 1,
                       i + 1);
    for (unsigned i = 0; i < 12; i++) {
        struct tlb_entry *e = tlb_lookup(&t, vpn[i], tlb_key(vpn[i], 0));
        assert_ptr_equal(e, &t.e[2 * 12 + i]);
        assert_ptr_equal(e->host, (uint8_t *)(uintptr_t)(0x1000 * (i + 1)));
    }
    assert_null(tlb_lookup(&t, vpn[12], tlb_key(vpn[12], 0))); /* same fingerprint, absent */
    assert_null(tlb_lookup(&t, vpn[0], tlb_key(vpn[0], 1)));   /* another PCID */
    /* Freed ways are filled lowest first, and a full set replaces its LRU. */
    assert_int_equal(tlb_invalidate(&t, vpn[9], tlb_key(vpn[9], 0)), 1);
    assert_int_equal(tlb_invalidate(&t, vpn[4], tlb_key(vpn[4], 0)), 1);
    assert_ptr_equal(tlb_insert_new(&t, vpn[12], tlb_key(vpn[12], 0), NULL, 1, 20),
                     &t.e[2 * 12 + 4]);
    assert_ptr_equal(tlb_insert_new(&t, vpn[4], tlb_key(vpn[4], 0), NULL, 1, 21), &t.e[2 * 12 + 9]);
    assert_ptr_equal(tlb_insert_new(&t, vpn[9], tlb_key(vpn[9], 0), NULL, 1, 22), &t.e[2 * 12 + 0]);
    assert_null(tlb_lookup(&t, vpn[0], tlb_key(vpn[0], 0)));
    tlb_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_chooses_the_scans_victims_12_ways),
        cmocka_unit_test(order_chooses_the_scans_victims_fully_associative),
        cmocka_unit_test(order_chooses_the_scans_victims_one_way),
        cmocka_unit_test(tree_of_four_picks_the_scans_victim),
        cmocka_unit_test(fingerprints_that_collide_still_find_each_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
