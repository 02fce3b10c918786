/*
 * vmsim-ab: two builds of the library in one program, timed in turns.
 *
 * Speed work compares a change with what it changes, and on a shared or
 * virtual machine two runs of the same binary move by 5-50 %: memory
 * latency follows the neighbours. Here both libraries are linked into one
 * program (scripts/ab.sh renames every symbol of one to A_..., of the other
 * to B_...) and rounds of the same accesses alternate between them, A then
 * B, then B then A, with a host round beside, so that both meet the same
 * moments. Per round the ratio B/A is taken; its median is the verdict.
 *
 * usage: vmsim-ab ROW [ROUNDS [MIB [LOADS]]]
 *   ROW    miss: 8-byte loads at random over MIB MiB of touched memory
 *                (the bench's tlb_miss_load);
 *          hit:  8-byte loads over 16 KiB, which the L1 TLB holds
 *   ROUNDS rounds of each (default 10), MIB (default 1024), LOADS per
 *   round (default 2000000).
 */
#include "vmsim.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define DECLARE(P)                                                                        \
    void P##vms_config_init(struct vms_config *c);                                        \
    vms_machine *P##vms_machine_create(const struct vms_config *c);                       \
    void P##vms_machine_destroy(vms_machine *m);                                          \
    vms_task *P##vms_spawn(vms_machine *m, const char *comm);                             \
    int64_t P##vms_mmap(vms_task *t, vms_addr addr, uint64_t len, int prot, int flags,    \
                        int fd, int64_t off);                                             \
    int P##vms_load(vms_task *t, vms_addr va, void *dst, size_t len);                     \
    int P##vms_store(vms_task *t, vms_addr va, const void *src, size_t len);
DECLARE(A_)
DECLARE(B_)

#define MAX_ROUNDS 1000

/* One build's machine with the region mapped and touched. */
struct side {
    const char *name;
    vms_machine *m;
    vms_task *t;
    int64_t base;
    int (*load)(vms_task *, vms_addr, void *, size_t);
    void (*destroy)(vms_machine *);
    double ns[MAX_ROUNDS];
};

#define OPEN_SIDE(P, s, region)                                                           \
    do {                                                                                  \
        struct vms_config cfg;                                                            \
        P##vms_config_init(&cfg);                                                         \
        cfg.phys_bytes = 2 * (region) + (64ULL << 20);                                    \
        (s)->m = P##vms_machine_create(&cfg);                                             \
        if (!(s)->m)                                                                      \
            die("vms_machine_create", errno);                                             \
        (s)->t = P##vms_spawn((s)->m, "ab");                                              \
        if (!(s)->t)                                                                      \
            die("vms_spawn", errno);                                                      \
        (s)->base = P##vms_mmap((s)->t, 0, (region), PROT_READ | PROT_WRITE,              \
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);                      \
        if ((s)->base < 0)                                                                \
            die("vms_mmap", (int)-(s)->base);                                             \
        for (uint64_t off = 0; off < (region); off += 4096)                               \
            if (P##vms_store((s)->t, (vms_addr)(s)->base + off, &off, sizeof(off)))       \
                die("vms_store", EFAULT);                                                 \
        (s)->load = P##vms_load;                                                          \
        (s)->destroy = P##vms_machine_destroy;                                            \
    } while (0)

static void die(const char *what, int err)
{
    fprintf(stderr, "vmsim-ab: %s: %s\n", what, strerror(err));
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One round on one side: ns per load; the loaded words' sum in *sum. */
static double sim_round(const struct side *s, const uint64_t *off, uint64_t n, uint64_t *sum)
{
    uint64_t v = 0, total = 0, t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        if (s->load(s->t, (vms_addr)s->base + off[i], &v, sizeof(v)))
            die("vms_load", EFAULT);
        total += v;
    }
    double ns = (double)(now_ns() - t0) / (double)n;
    *sum = total;
    return ns;
}

static double host_round(const uint8_t *base, const uint64_t *off, uint64_t n)
{
    uint64_t total = 0, t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        total += *(const volatile uint64_t *)(base + off[i]);
    double ns = (double)(now_ns() - t0) / (double)n;
    volatile uint64_t sink = total;
    (void)sink;
    return ns;
}

static uint64_t number(const char *arg, const char *what, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "vmsim-ab: %s: a number from %llu to %llu, not '%s'\n", what,
                (unsigned long long)lo, (unsigned long long)hi, arg);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5 || (strcmp(argv[1], "miss") && strcmp(argv[1], "hit"))) {
        fprintf(stderr, "usage: vmsim-ab miss|hit [ROUNDS [MIB [LOADS]]]\n");
        return 2;
    }
    int miss = !strcmp(argv[1], "miss");
    int rounds = argc > 2 ? (int)number(argv[2], "ROUNDS", 1, MAX_ROUNDS) : 10;
    uint64_t region = (argc > 3 ? number(argv[3], "MIB", 1, 16384) : 1024) << 20;
    uint64_t n = argc > 4 ? number(argv[4], "LOADS", 1, 1ULL << 30) : 2000000;
    uint64_t span = miss ? region : 16384;

    struct side side[2] = {{.name = "A"}, {.name = "B"}};
    OPEN_SIDE(A_, &side[0], region);
    OPEN_SIDE(B_, &side[1], region);
    uint8_t *host = mmap(NULL, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (host == MAP_FAILED)
        die("mmap", errno);
    for (uint64_t o = 0; o < region; o += 4096)
        host[o] = 1;
    uint64_t *off = malloc(sizeof(*off) * n), seed = 0x5eed0fbe9c4ULL;
    if (!off)
        die("malloc", ENOMEM);
    for (uint64_t i = 0; i < n; i++)
        off[i] = (splitmix64(&seed) % (span / 8)) * 8;

    static double host_ns[MAX_ROUNDS], ratio[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        uint64_t sum[2];
        for (int k = 0; k < 2; k++) {
            int x = r % 2 ? 1 - k : k; /* A B, then B A */
            side[x].ns[r] = sim_round(&side[x], off, n, &sum[x]);
        }
        if (sum[0] != sum[1]) {
            fprintf(stderr, "vmsim-ab: the two builds loaded different bytes\n");
            return 1;
        }
        host_ns[r] = host_round(host, off, n);
        ratio[r] = side[1].ns[r] / side[0].ns[r];
    }
    double best_host = host_ns[0];
    for (int r = 1; r < rounds; r++)
        best_host = host_ns[r] < best_host ? host_ns[r] : best_host;
    printf("vmsim-ab %s: %d rounds of %llu loads over %llu KiB\n", argv[1], rounds,
           (unsigned long long)n, (unsigned long long)(span >> 10));
    for (int k = 0; k < 2; k++) {
        double med = median(side[k].ns, rounds);
        printf("%s     best %8.2f ns  median %8.2f ns  (best / host's best: %.1fx)\n",
               side[k].name, side[k].ns[0], med, side[k].ns[0] / best_host);
    }
    printf("host  best %8.2f ns  median %8.2f ns\n", best_host, median(host_ns, rounds));
    printf("B/A   median of the rounds' ratios: %.3f\n", median(ratio, rounds));
    side[0].destroy(side[0].m);
    side[1].destroy(side[1].m);
    munmap(host, region);
    free(off);
    return 0;
}
