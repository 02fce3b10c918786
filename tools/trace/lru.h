/* lru.h - reuse distances of a page stream in one pass (lru.c). */
#ifndef VMSIM_LRU_H
#define VMSIM_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru {
    uint64_t *keys, *times; /* page -> time of its latest touch (open addressing) */
    size_t hcap;
    int32_t *tree;          /* Fenwick tree over times: 1 at each page's latest touch */
    uint64_t tcap, now;
    uint64_t last_page;
    uint64_t *hist;         /* hist[d]: touches at reuse distance d */
    size_t hlen;
    uint64_t pages;         /* distinct pages */
    uint64_t cold;          /* first touches */
    uint64_t touches;
};

int lru_init(struct lru *l);  /* 0, or -1 out of memory */
void lru_free(struct lru *l);
int lru_touch(struct lru *l, uint64_t page); /* 0, or -1 out of memory */
/* Touches that miss in an LRU memory of `frames` pages, first touches not
 * counted (they miss at every size: l->cold). */
uint64_t lru_misses(const struct lru *l, uint64_t frames);

#endif
