/*
 * The program whose memory trace make bench records (vmsim record) and
 * replays for its trace_replay_recorded row: a fixed, deterministic mix of
 * what programs do to memory, small enough to record in seconds under
 * Valgrind. It fills a 4 MiB hash table with keys from a fixed generator
 * and looks half of them up (accesses spread over 1024 pages), sorts a
 * 8 KiB array (a few hot pages), and walks a linked list laid out in
 * allocation order on the heap. The sum it prints keeps the work.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TABLE_SLOTS (1u << 18) /* 16-byte slots: 4 MiB */
#define KEYS 3000u
#define SORT_WORDS 2048u
#define LIST_NODES 3000u

struct slot {
    uint64_t key, value;
};

struct node {
    struct node *next;
    uint64_t value;
};

static uint64_t next_key(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    return z ^ (z >> 27);
}

static uint64_t hash_work(struct slot *table)
{
    uint64_t state = 1, sum = 0;
    for (unsigned i = 0; i < KEYS; i++) {
        uint64_t k = next_key(&state) | 1;
        size_t at = (size_t)(k % TABLE_SLOTS);
        while (table[at].key && table[at].key != k)
            at = (at + 1) % TABLE_SLOTS;
        table[at] = (struct slot){k, i};
    }
    state = 1;
    for (unsigned i = 0; i < KEYS; i += 2) {
        uint64_t k = next_key(&state) | 1;
        next_key(&state);
        size_t at = (size_t)(k % TABLE_SLOTS);
        while (table[at].key != k)
            at = (at + 1) % TABLE_SLOTS;
        sum += table[at].value;
    }
    return sum;
}

static int cmp_words(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint64_t sort_work(uint32_t *words)
{
    uint64_t state = 2;
    for (unsigned i = 0; i < SORT_WORDS; i++)
        words[i] = (uint32_t)next_key(&state);
    qsort(words, SORT_WORDS, sizeof(*words), cmp_words);
    return words[SORT_WORDS / 2];
}

static uint64_t list_work(void)
{
    struct node *head = NULL;
    for (unsigned i = 0; i < LIST_NODES; i++) {
        struct node *n = malloc(sizeof(*n));
        if (!n)
            exit(1);
        *n = (struct node){head, i};
        head = n;
    }
    uint64_t sum = 0;
    while (head) {
        struct node *n = head;
        sum += n->value;
        head = n->next;
        free(n);
    }
    return sum;
}

int main(void)
{
    struct slot *table = calloc(TABLE_SLOTS, sizeof(*table));
    uint32_t *words = malloc(SORT_WORDS * sizeof(*words));
    if (!table || !words)
        return 1;
    uint64_t sum = hash_work(table) + sort_work(words) + list_work();
    printf("%llu\n", (unsigned long long)sum);
    free(words);
    free(table);
    return 0;
}
