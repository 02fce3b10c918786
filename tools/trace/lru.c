/*
 * lru.c - reuse distances of a page stream (Mattson's stack algorithm): the
 * number of other pages touched since a page's last touch, for every
 * touch, in O(log n) each with a Fenwick tree over time. Each page's
 * latest touch holds a 1 in the tree; a touch's distance is the sum of the
 * ones after its page's previous touch. The tree is renumbered when the
 * time runs past its end, so it holds at most twice the distinct pages
 * whatever the stream's length. A touch at distance d misses in an LRU
 * memory of fewer than d + 1 pages: one pass gives every memory size.
 */
#include "lru.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT64_MAX

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

int lru_init(struct lru *l)
{
    memset(l, 0, sizeof(*l));
    l->last_page = EMPTY;
    l->hcap = 1024;
    l->keys = malloc(l->hcap * sizeof(*l->keys));
    l->times = malloc(l->hcap * sizeof(*l->times));
    l->tcap = 4096;
    l->tree = calloc(l->tcap + 1, sizeof(*l->tree));
    if (!l->keys || !l->times || !l->tree) {
        lru_free(l);
        return -1;
    }
    memset(l->keys, 0xff, l->hcap * sizeof(*l->keys));
    return 0;
}

void lru_free(struct lru *l)
{
    free(l->keys);
    free(l->times);
    free(l->tree);
    free(l->hist);
    memset(l, 0, sizeof(*l));
}

/* The slot of page in the hash table: its own, or the empty one it would take. */
static size_t slot_of(const struct lru *l, uint64_t page)
{
    size_t i = hash64(page) & (l->hcap - 1);
    while (l->keys[i] != EMPTY && l->keys[i] != page)
        i = (i + 1) & (l->hcap - 1);
    return i;
}

static int grow_hash(struct lru *l)
{
    uint64_t *keys = l->keys, *times = l->times;
    size_t cap = l->hcap;
    l->hcap *= 2;
    l->keys = malloc(l->hcap * sizeof(*l->keys));
    l->times = malloc(l->hcap * sizeof(*l->times));
    if (!l->keys || !l->times) {
        free(l->keys);
        free(l->times);
        l->keys = keys, l->times = times, l->hcap = cap;
        return -1;
    }
    memset(l->keys, 0xff, l->hcap * sizeof(*l->keys));
    for (size_t i = 0; i < cap; i++)
        if (keys[i] != EMPTY) {
            size_t s = slot_of(l, keys[i]);
            l->keys[s] = keys[i];
            l->times[s] = times[i];
        }
    free(keys);
    free(times);
    return 0;
}

static void tree_add(struct lru *l, uint64_t t, int32_t v)
{
    for (uint64_t i = t + 1; i <= l->tcap; i += i & (~i + 1))
        l->tree[i] += v;
}

static uint64_t tree_sum(const struct lru *l, uint64_t t) /* marks at times < t */
{
    uint64_t s = 0;
    for (uint64_t i = t; i > 0; i -= i & (~i + 1))
        s += (uint64_t)l->tree[i];
    return s;
}

static int cmp_time(const void *a, const void *b)
{
    uint64_t x = **(uint64_t *const *)a, y = **(uint64_t *const *)b;
    return (x > y) - (x < y);
}

/* Renumbers the latest touches 0..pages-1, in order, into a tree of twice that. */
static int compact(struct lru *l)
{
    uint64_t **order = malloc((l->pages ? l->pages : 1) * sizeof(*order));
    size_t cap = l->pages * 2 > 4096 ? l->pages * 2 : 4096;
    int32_t *tree = calloc(cap + 1, sizeof(*tree));
    if (!order || !tree) {
        free(order);
        free(tree);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < l->hcap; i++)
        if (l->keys[i] != EMPTY)
            order[n++] = &l->times[i];
    qsort(order, n, sizeof(*order), cmp_time);
    for (size_t i = 0; i < n; i++)
        *order[i] = i;
    free(order);
    free(l->tree);
    l->tree = tree;
    l->tcap = cap;
    l->now = n;
    for (size_t i = 0; i < n; i++)
        tree_add(l, i, 1);
    return 0;
}

static int count_distance(struct lru *l, uint64_t d)
{
    if (d >= l->hlen) {
        size_t len = l->hlen ? l->hlen : 256;
        while (len <= d)
            len *= 2;
        uint64_t *h = realloc(l->hist, len * sizeof(*h));
        if (!h)
            return -1;
        memset(h + l->hlen, 0, (len - l->hlen) * sizeof(*h));
        l->hist = h;
        l->hlen = len;
    }
    l->hist[d]++;
    return 0;
}

int lru_touch(struct lru *l, uint64_t page)
{
    l->touches++;
    if (page == l->last_page) /* the most recent page: distance 0 */
        return count_distance(l, 0);
    l->last_page = page;
    if (l->now == l->tcap && compact(l) < 0)
        return -1;
    if ((l->pages + 1) * 2 > l->hcap && grow_hash(l) < 0)
        return -1;
    size_t s = slot_of(l, page);
    int rc = 0;
    if (l->keys[s] == EMPTY) {
        l->keys[s] = page;
        l->pages++;
        l->cold++;
    } else {
        uint64_t prev = l->times[s];
        rc = count_distance(l, tree_sum(l, l->now) - tree_sum(l, prev + 1));
        tree_add(l, prev, -1);
    }
    l->times[s] = l->now;
    tree_add(l, l->now++, 1);
    return rc;
}

uint64_t lru_misses(const struct lru *l, uint64_t frames)
{
    uint64_t misses = 0;
    for (uint64_t d = frames; d < l->hlen; d++)
        misses += l->hist[d];
    return misses;
}
