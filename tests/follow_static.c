/*
 * follow_static.c - a program linked statically (no loader, no shared
 * libraries) that `vmsim follow` runs in ctest: its memory calls are the
 * ones a C program makes without ld.so (brk for the heap and the TLS block,
 * mmap for a large allocation) plus a few made on purpose: a brk that
 * grows and shrinks the heap, an mprotect that splits a mapping and one
 * that merges it again, mremap growing it, and munmap; and a written
 * mapping made read-only next to a new read-only one, which the kernel
 * does not merge (the write gave it an anon_vma, so it kept VM_ACCOUNT):
 * vmsim agrees only if the follower repeats the program's write.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    char *small = malloc(100);          /* the heap: brk */
    char *large = malloc(1 << 20);      /* above the mmap threshold: mmap */
    if (!small || !large)
        return 1;
    memset(large, 1, 1 << 20);
    void *top = sbrk(0);
    if (sbrk(64 << 10) == (void *)-1 || brk(top))
        return 1;
    char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_READ) ||
        mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE))
        return 1;
    p = mremap(p, 4 * 4096, 8 * 4096, MREMAP_MAYMOVE);
    if (p == MAP_FAILED || munmap(p, 8 * 4096))
        return 1;
    char *q = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED || munmap(q + 2 * 4096, 4096))
        return 1;
    q[0] = 1;
    if (mprotect(q, 2 * 4096, PROT_READ) ||
        mmap(q + 2 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
        return 1;
    free(large);
    free(small);
    printf("static: done\n");
    return 0;
}
