/*
 * record_tiny.c - the program tests/record_replay.sh records: an mmap of 5
 * pages written page by page, an mprotect, an munmap, and a heap of 3 pages
 * from brk, each page written once. Its replay must put the 5 faults in
 * the mmap's region and the 3 in the heap. Between the two, a page of a
 * data file (argv[1]) mapped over the first page of 3 anonymous ones: the anonymous
 * memory right after the file's mapping is no bss (the file is no code),
 * so its 2 faults belong to the mmap, not to the file.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

static int data_file_then_anonymous(const char *path)
{
    char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fd = open(path, O_RDONLY);
    if (a == MAP_FAILED || fd < 0)
        return 1;
    char *f = mmap(a, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (f != a)
        return 1;
    volatile char c = f[0];
    (void)c;
    a[4096] = 1;
    a[2 * 4096] = 2;
    return 0;
}

int main(int argc, char **argv)
{
    char *p = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (int i = 0; i < 5; i++)
        p[i * 4096] = (char)i;
    if (argc > 1 && data_file_then_anonymous(argv[1]) != 0)
        return 1;
    if (mprotect(p, 4096, PROT_READ) != 0 || munmap(p, 5 * 4096) != 0)
        return 1;
    char *h = sbrk(0);
    if (brk(h + 3 * 4096) != 0)
        return 1;
    for (int i = 0; i < 3; i++)
        h[i * 4096] = 1;
    return 0;
}
