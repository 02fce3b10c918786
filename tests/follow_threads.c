/*
 * follow_threads.c - a program with threads that `vmsim follow` runs in
 * ctest: every thread's memory calls are followed in the shared address
 * space. The C library maps each thread's stack (mmap PROT_NONE with
 * MAP_STACK, then mprotect of all but the guard page) and gives a thread
 * that allocates its own malloc arena (a 64 MiB-aligned reservation
 * trimmed by munmap, then mprotect as it grows); on top, each thread maps,
 * writes, splits and unmaps memory of its own, one thread makes a thread
 * of its own, and the threads run one after another and side by side.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { WORKERS = 3 };

/* Memory of a thread's own: mapped, written, split by mprotect, unmapped in part. */
static void *own_memory(void *arg)
{
    size_t pages = 4 + (size_t)(long)arg;
    char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return (void *)1;
    memset(p, 0x5a, pages * 4096);
    if (mprotect(p + 4096, 4096, PROT_READ) || munmap(p + 2 * 4096, 4096))
        return (void *)1;
    char *heap = malloc(100000); /* the thread's own arena */
    if (!heap)
        return (void *)1;
    memset(heap, 1, 100000);
    free(heap);
    return munmap(p, pages * 4096) ? (void *)1 : NULL;
}

/* A thread that makes a thread of its own and waits for it. */
static void *parent_thread(void *arg)
{
    pthread_t child;
    void *result = (void *)1;
    if (pthread_create(&child, NULL, own_memory, arg) == 0)
        pthread_join(child, &result);
    void *mine = own_memory(arg);
    return result ? result : mine;
}

int main(void)
{
    pthread_t t[WORKERS];
    int failed = 0;
    /* One at a time: a stack the C library keeps is used again. */
    for (long i = 0; i < WORKERS; i++) {
        void *r = NULL;
        failed |= pthread_create(&t[i], NULL, own_memory, (void *)i) || pthread_join(t[i], &r) || r;
    }
    /* Side by side, one of them with a thread of its own. */
    for (long i = 0; i < WORKERS; i++)
        failed |= pthread_create(&t[i], NULL, i ? own_memory : parent_thread, (void *)i) != 0;
    for (int i = 0; i < WORKERS; i++) {
        void *r = NULL;
        failed |= pthread_join(t[i], &r) || r;
    }
    printf("%d threads: %s\n", 2 * WORKERS + 1, failed ? "failed" : "done");
    return failed;
}
