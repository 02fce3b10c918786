/*
 * follow_blocking.c - a program whose threads wait for each other inside
 * the calls `vmsim follow` repeats, which the follower runs in ctest (with
 * a timeout: a follower that holds one thread while another waits for it
 * would hang the program).
 *
 * Each part has a thread sleep in the kernel, inside a call the follower
 * repeats, until another thread makes a call the follower repeats too:
 *   - a FIFO opened for reading by one thread and for writing by the other
 *     (an open of a FIFO sleeps until its other end is opened), with memory
 *     calls and an open of a file between them: the sleeping open has taken
 *     its descriptor number already, the file gets the next;
 *   - accept() on a listening socket while the other thread makes the
 *     socket that connects (socket() is repeated: it takes a number);
 *   - madvise(MADV_POPULATE_WRITE) on memory registered with userfaultfd,
 *     which sleeps in the fault until the other thread resolves it, with an
 *     mmap of the page it copies from (left out, and said so, where
 *     userfaultfd is refused), and again with a third thread that wakes
 *     the sleeping one every 20 ms without resolving its fault (it faults
 *     and sleeps again: it runs, for an instant, every 20 ms).
 * Exit status 0 when every part did what Linux does; arguments name the
 * parts to run (all when none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { PAGE = 4096, UFFD_PAGES = 4 };

/* Long enough for the other thread to be asleep in its call (not needed
 * for the hang: whichever open of the FIFO comes first sleeps). */
static void pause_briefly(void)
{
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void *open_for_reading(void *path)
{
    int fd = open(path, O_RDONLY);
    char byte = 0;
    int ok = fd >= 0 && read(fd, &byte, 1) == 1 && byte == 'x';
    if (fd >= 0)
        close(fd);
    return ok ? NULL : (void *)1;
}

/* Memory calls of the thread that does not sleep: map, split, unmap. */
static int memory_calls(void)
{
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    memset(p, 1, 3 * PAGE);
    return mprotect(p + PAGE, PAGE, PROT_READ) || munmap(p, 3 * PAGE);
}

static int fifo_part(void)
{
    char path[] = "/tmp/vmsim-follow-fifo.XXXXXX";
    if (!mkdtemp(path))
        return 1;
    char fifo[sizeof(path) + 8];
    snprintf(fifo, sizeof(fifo), "%s/fifo", path);
    int failed = mkfifo(fifo, 0600) != 0;
    pthread_t reader;
    if (failed || pthread_create(&reader, NULL, open_for_reading, fifo)) {
        rmdir(path);
        return 1;
    }
    pause_briefly();
    failed |= memory_calls();
    int file = open("/etc/passwd", O_RDONLY); /* the number after the reader's */
    failed |= file < 0;
    int w = open(fifo, O_WRONLY);
    failed |= w < 0 || write(w, "x", 1) != 1;
    void *r = NULL;
    failed |= pthread_join(reader, &r) || r;
    if (w >= 0)
        close(w);
    if (file >= 0)
        close(file);
    unlink(fifo);
    rmdir(path);
    printf("fifo: %s\n", failed ? "failed" : "done");
    return failed;
}

static void *accept_one(void *arg)
{
    int fd = accept(*(int *)arg, NULL, NULL);
    if (fd < 0)
        return (void *)1;
    close(fd);
    return NULL;
}

static int socket_part(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    /* An abstract address: nothing in the file system. */
    int len = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "vmsim-follow-%d", (int)getpid());
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, salen) || listen(listener, 1))
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, accept_one, &listener))
        return 1;
    pause_briefly();
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    int failed = c < 0 || connect(c, (struct sockaddr *)&sa, salen);
    void *r = NULL;
    failed |= pthread_join(t, &r) || r;
    if (c >= 0)
        close(c);
    close(listener);
    printf("socket: %s\n", failed ? "failed" : "done");
    return failed;
}

struct populate {
    char *region;
    int result;
};

static void *populate(void *arg)
{
    struct populate *p = arg;
    p->result = madvise(p->region, UFFD_PAGES * PAGE, MADV_POPULATE_WRITE);
    return NULL;
}

/* Waits for the populating thread's fault and resolves it with a copy of
 * a page this thread maps for the purpose. */
static int resolve_fault(int uffd, char *region)
{
    struct pollfd pfd = {uffd, POLLIN, 0};
    struct uffd_msg msg;
    if (poll(&pfd, 1, 10000) != 1 || read(uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg) ||
        msg.event != UFFD_EVENT_PAGEFAULT)
        return 1;
    char *source = mmap(NULL, UFFD_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (source == MAP_FAILED)
        return 1;
    memset(source, 'u', UFFD_PAGES * PAGE);
    struct uffdio_copy copy = {.dst = (uintptr_t)region, .src = (uintptr_t)source,
                               .len = UFFD_PAGES * PAGE, .mode = 0};
    int failed = ioctl(uffd, UFFDIO_COPY, &copy) != 0;
    return munmap(source, UFFD_PAGES * PAGE) || failed;
}

/* Wakes the threads waiting in faults on the region every 20 ms without
 * resolving them (they fault again and sleep on), until told to stop. */
struct waker {
    int uffd;
    char *region;
    int stop;
};

static void *wake_often(void *arg)
{
    struct waker *w = arg;
    struct uffdio_range range = {(uintptr_t)w->region, UFFD_PAGES * PAGE};
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (ioctl(w->uffd, UFFDIO_WAKE, &range))
            return arg;
    }
    return NULL;
}

/* woken: a third thread wakes the populating one again and again while
 * the resolving thread maps its page. */
static int uffd_part_with(int woken)
{
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
    if (uffd < 0) {
        printf("userfaultfd: left out (%s)\n", strerror(errno));
        return 0;
    }
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    /* PROT_NONE on either side, so that the registered part merges with no neighbour. */
    char *guard = mmap(NULL, (UFFD_PAGES + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ioctl(uffd, UFFDIO_API, &api) || guard == MAP_FAILED)
        return 1;
    char *region = mmap(guard + PAGE, UFFD_PAGES * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    struct uffdio_register reg = {.range = {(uintptr_t)region, UFFD_PAGES * PAGE},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (region == MAP_FAILED || ioctl(uffd, UFFDIO_REGISTER, &reg))
        return 1;
    struct waker w = {uffd, region, 0};
    pthread_t waker;
    if (woken && pthread_create(&waker, NULL, wake_often, &w))
        return 1;
    struct populate p = {region, -1};
    pthread_t t;
    if (pthread_create(&t, NULL, populate, &p))
        return 1;
    int failed = resolve_fault(uffd, region);
    void *r = NULL;
    __atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
    failed |= woken && (pthread_join(waker, &r) || r);
    failed |= pthread_join(t, NULL) || p.result != 0 || region[PAGE] != 'u';
    failed |= munmap(guard, (UFFD_PAGES + 2) * PAGE) != 0;
    close(uffd);
    printf("userfaultfd%s: %s\n", woken ? " woken" : "", failed ? "failed" : "done");
    return failed;
}

static int uffd_part(void) { return uffd_part_with(0); }
static int uffd_woken_part(void) { return uffd_part_with(1); }

/* With no argument every part, else the parts named (fifo, socket,
 * userfaultfd, userfaultfd-woken). */
int main(int argc, char **argv)
{
    static const struct { const char *name; int (*run)(void); } parts[] = {
        {"fifo", fifo_part}, {"socket", socket_part}, {"userfaultfd", uffd_part},
        {"userfaultfd-woken", uffd_woken_part},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], parts[i].name) == 0;
        if (wanted)
            failed |= parts[i].run();
    }
    return failed;
}
