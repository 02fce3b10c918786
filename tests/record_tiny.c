/*
 * record_tiny.c - the program tests/record_replay.sh records: an mmap of 5
 * pages written page by page, an mprotect, an munmap, and a heap of 3 pages
 * from brk, each page written once. Its replay must put the 5 faults in
 * the mmap's region and the 3 in the heap.
 */
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    char *p = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (int i = 0; i < 5; i++)
        p[i * 4096] = (char)i;
    if (mprotect(p, 4096, PROT_READ) != 0 || munmap(p, 5 * 4096) != 0)
        return 1;
    char *h = sbrk(0);
    if (brk(h + 3 * 4096) != 0)
        return 1;
    for (int i = 0; i < 3; i++)
        h[i * 4096] = 1;
    return 0;
}
