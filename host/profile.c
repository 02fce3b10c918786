/*
 * profile.c - the host profile (include/vmsim_host.h): everything vmsim
 * models as configuration in which one Linux host can differ from another,
 * read from this host in one place and put into a machine's config, so that the oracle compares like
 * with like. Nothing else in the tester, the tool (vmsim follow) or a unit
 * test may look at the host's CPU, sysctls or disk.
 *
 * Each value is measured the way a program would notice it (pkey_alloc
 * succeeds or not; a hint above 47 bits is honoured or not; a partial
 * fadvise leaves a large folio cached or not) or read from the file the
 * kernel publishes it in. A value that cannot be read keeps vmsim's default,
 * and the profile says so.
 */
#include "vmsim_host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PROFILE_PAGE 4096u

/* One number from a procfs or sysfs file; 0 when it was read. */
static int read_u64_file(const char *path, uint64_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long v;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    if (ok)
        *out = v;
    return ok ? 0 : -1;
}

static void take_u64(const char *path, uint64_t *value, const char **source)
{
    *source = read_u64_file(path, value) ? "unreadable: vmsim's default" : path;
}

static void take_unsigned(const char *path, unsigned *value, const char **source)
{
    uint64_t v = *value;
    take_u64(path, &v, source);
    *value = v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
}

/* Protection keys: the kernel hands out a key only where the CPU has PKU
 * and the kernel enabled it (ENOSPC or EINVAL otherwise, ENOSYS before 4.9). */
static int host_has_pku(void)
{
#ifdef SYS_pkey_alloc
    long key = syscall(SYS_pkey_alloc, 0UL, 0UL);
    if (key < 0)
        return 0;
    syscall(SYS_pkey_free, key);
    return 1;
#else
    return 0;
#endif
}

/* 5-level paging: the kernel honours a hint above 47 bits only then. */
static int host_pgtable_levels(void)
{
    void *hint = (void *)(UINT64_C(1) << 52);
    void *p = mmap(hint, PROFILE_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 4;
    int five = (uint64_t)(uintptr_t)p >> 47 != 0;
    munmap(p, PROFILE_PAGE);
    return five ? 5 : 4;
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* The zero page: a store after a load of private anonymous memory faults
 * again (copy-on-write from the zero page) only where the load mapped it.
 * Some kernels (paravirtualised guests told so on their command line)
 * allocate a page on the load instead. */
static int host_uses_zero_page(void)
{
    volatile char *p = mmap(NULL, PROFILE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    (void)p[0];
    long before = minor_faults();
    p[0] = 1;
    long store_faults = minor_faults() - before;
    munmap((void *)p, PROFILE_PAGE);
    return store_faults > 0;
}

/* A queue setting (KiB) of the disk holding dir; 0 when it cannot be read.
 * A partition's queue is its disk's. */
static unsigned disk_queue_kb(const char *dir, const char *name, const char **source, char *path,
                              size_t size)
{
    struct stat st;
    if (stat(dir, &st))
        return 0;
    static const char *const forms[] = {"/sys/dev/block/%u:%u/queue/%s",
                                        "/sys/dev/block/%u:%u/../queue/%s"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(path, size, forms[i], major(st.st_dev), minor(st.st_dev), name);
        uint64_t kb;
        if (!read_u64_file(path, &kb) && kb >= 4 && kb <= (1u << 20)) {
            *source = path;
            return (unsigned)kb;
        }
    }
    return 0;
}

/* A field of /proc/meminfo in bytes, or 0. */
static uint64_t meminfo_bytes(const char *field)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    size_t n = strlen(field);
    uint64_t kb = 0;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, field, n) && line[n] == ':') {
            kb = strtoull(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

/* Large folios in the page cache of dir's filesystem: write 64 KiB in one
 * call, write it back, and drop the cache of page 1 alone. A 4 KiB page
 * cache drops it; a large folio cannot be dropped in part and stays.
 * -1 when it cannot be measured. */
static int fs_has_large_folios(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.vmsim-profile.%d", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    unlink(path);
    enum { PAGES = 16 };
    static const char zeros[PAGES * PROFILE_PAGE];
    int result = -1;
    void *map = MAP_FAILED;
    unsigned char vec[PAGES];
    if (write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros) || fdatasync(fd))
        goto out;
    if (posix_fadvise(fd, PROFILE_PAGE, PROFILE_PAGE, POSIX_FADV_DONTNEED))
        goto out;
    map = mmap(NULL, sizeof(zeros), PROT_NONE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED || mincore(map, sizeof(zeros), vec))
        goto out;
    result = vec[1] & 1;
out:
    if (map != MAP_FAILED)
        munmap(map, sizeof(zeros));
    close(fd);
    return result;
}

/* Where a file's holes and disk blocks are as ext4 (4 KiB blocks, delayed
 * allocation) makes them: another filesystem places and reports them its
 * own way (tmpfs has no disk, XFS preallocates, ZFS sees holes per record). */
/* AT_HWCAP, AT_HWCAP2 and AT_MINSIGSTKSZ from /proc/self/auxv. */
static void read_auxv(struct host_profile *p)
{
    uint64_t v[2];
    FILE *f = fopen("/proc/self/auxv", "rb");
    while (f && fread(v, sizeof(v), 1, f) == 1 && v[0] != AT_NULL) {
        if (v[0] == AT_HWCAP)
            p->hwcap = v[1];
        else if (v[0] == AT_HWCAP2)
            p->hwcap2 = v[1];
        else if (v[0] == AT_MINSIGSTKSZ)
            p->minsigstksz = v[1];
    }
    if (f)
        fclose(f);
}

/* The largest size ftruncate gives a file of dir's filesystem (s_maxbytes),
 * found by halving on a sparse scratch file; 0 when it cannot be measured. */
static uint64_t fs_max_file_bytes(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.vmsim-maxbytes.%d", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return 0;
    unlink(path);
    uint64_t lo = 0, hi = (uint64_t)INT64_MAX; /* lo fits, hi + 1 does not */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (ftruncate(fd, (off_t)mid) == 0)
            lo = mid;
        else if (errno == EFBIG || errno == EINVAL)
            hi = mid - 1;
        else
            break;
    }
    int ok = lo == hi && ftruncate(fd, 0) == 0;
    close(fd);
    return ok ? lo : 0;
}

static int fs_is_ext4(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && fs.f_type == EXT4_SUPER_MAGIC;
}

/* vmsim models hugetlbfs with an empty pool of 2 MiB pages and no 1 GiB
 * ones; a host with pages in a pool (or that may allocate surplus ones)
 * would map them, so the tester generates MAP_HUGETLB only on a host like
 * that. A value that cannot be read counts as a pool that is not empty. */
static void read_hugetlb(struct host_profile *p)
{
    p->nr_hugepages = UINT64_MAX;
    if (read_u64_file("/proc/sys/vm/nr_hugepages", &p->nr_hugepages))
        p->src.nr_hugepages = "unreadable: taken as a pool that is not empty";
    else
        p->src.nr_hugepages = "/proc/sys/vm/nr_hugepages";
    p->nr_overcommit_hugepages = UINT64_MAX;
    if (read_u64_file("/proc/sys/vm/nr_overcommit_hugepages", &p->nr_overcommit_hugepages))
        p->src.nr_overcommit_hugepages = "unreadable: taken as a pool that is not empty";
    else
        p->src.nr_overcommit_hugepages = "/proc/sys/vm/nr_overcommit_hugepages";
    p->hugepage_kb = meminfo_bytes("Hugepagesize") >> 10;
    struct stat st;
    p->gigantic_pages = stat("/sys/kernel/mm/hugepages/hugepages-1048576kB", &st) == 0;
    p->hugetlb_as_vmsim = p->nr_hugepages == 0 && p->nr_overcommit_hugepages == 0 &&
                          p->hugepage_kb == 2048 && !p->gigantic_pages;
}

void host_profile_read(struct host_profile *p, const char *dir)
{
    struct vms_config d;
    vms_config_init(&d);
    memset(p, 0, sizeof(*p));

    struct utsname u;
    snprintf(p->kernel, sizeof(p->kernel), "%s", uname(&u) ? "unknown" : u.release);

    p->pku = host_has_pku();
    p->pgtable_levels = host_pgtable_levels();
    p->zero_page = host_uses_zero_page();
    p->privileged = geteuid() == 0;
    struct rlimit rl;
    p->memlock_rlimit = d.memlock_rlimit;
    if (!getrlimit(RLIMIT_MEMLOCK, &rl))
        p->memlock_rlimit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;

    p->stack_rlimit = d.stack_rlimit;
    if (!getrlimit(RLIMIT_STACK, &rl))
        p->stack_rlimit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    p->data_rlimit = d.data_rlimit;
    if (!getrlimit(RLIMIT_DATA, &rl))
        p->data_rlimit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    p->uid = (unsigned)getuid();
    p->gid = (unsigned)getgid();
    /* The CPU's words a new program finds in its auxiliary vector: this
     * process got the same ones at its own exec (read from the kernel's
     * copy: glibc's getauxval(AT_HWCAP) answers its own bits on x86). */
    p->hwcap = d.hwcap;
    p->hwcap2 = d.hwcap2;
    p->minsigstksz = d.minsigstksz;
    read_auxv(p);

    p->max_map_count = d.max_map_count;
    take_unsigned("/proc/sys/vm/max_map_count", &p->max_map_count, &p->src.max_map_count);
    p->mmap_min_addr = d.mmap_min_addr;
    take_u64("/proc/sys/vm/mmap_min_addr", &p->mmap_min_addr, &p->src.mmap_min_addr);
    p->overcommit_memory = d.overcommit_memory;
    take_unsigned("/proc/sys/vm/overcommit_memory", &p->overcommit_memory, &p->src.overcommit_memory);
    p->overcommit_ratio = d.overcommit_ratio;
    take_unsigned("/proc/sys/vm/overcommit_ratio", &p->overcommit_ratio, &p->src.overcommit_ratio);
    p->overcommit_kbytes = d.overcommit_kbytes;
    take_u64("/proc/sys/vm/overcommit_kbytes", &p->overcommit_kbytes, &p->src.overcommit_kbytes);
    p->admin_reserve_kbytes = d.admin_reserve_kbytes;
    take_u64("/proc/sys/vm/admin_reserve_kbytes", &p->admin_reserve_kbytes, &p->src.admin_reserve_kbytes);
    p->user_reserve_kbytes = d.user_reserve_kbytes;
    take_u64("/proc/sys/vm/user_reserve_kbytes", &p->user_reserve_kbytes, &p->src.user_reserve_kbytes);
    p->page_cluster = 3;
    take_unsigned("/proc/sys/vm/page-cluster", &p->page_cluster, &p->src.page_cluster);
    p->swappiness = 60;
    take_unsigned("/proc/sys/vm/swappiness", &p->swappiness, &p->src.swappiness);
    p->fault_around_bytes = d.fault_around_bytes;
    take_unsigned("/sys/kernel/debug/fault_around_bytes", &p->fault_around_bytes,
                  &p->src.fault_around_bytes);

    p->mem_total = meminfo_bytes("MemTotal");
    p->swap_total = meminfo_bytes("SwapTotal");

    p->readahead_kb = disk_queue_kb(dir, "read_ahead_kb", &p->src.readahead_kb, p->ra_path,
                                    sizeof(p->ra_path));
    if (!p->readahead_kb) {
        p->readahead_kb = d.readahead_kb;
        p->src.readahead_kb = "unreadable: vmsim's default";
    }
    p->max_sectors_kb = disk_queue_kb(dir, "max_sectors_kb", &p->src.max_sectors_kb,
                                      p->ms_path, sizeof(p->ms_path));
    if (!p->max_sectors_kb) {
        p->max_sectors_kb = d.max_sectors_kb;
        p->src.max_sectors_kb = "unreadable: vmsim's default";
    }
    p->large_folios = fs_has_large_folios(dir);
    p->ext4 = fs_is_ext4(dir);
    p->max_file_bytes = fs_max_file_bytes(dir);
    read_hugetlb(p);
}

void host_profile_apply(const struct host_profile *p, struct vms_config *c)
{
    c->pku = p->pku;
    c->swappiness = p->swappiness;
    c->page_cluster = p->page_cluster;
    c->pgtable_levels = p->pgtable_levels;
    c->zero_page = p->zero_page;
    c->privileged = p->privileged;
    c->memlock_rlimit = p->memlock_rlimit;
    c->stack_rlimit = p->stack_rlimit;
    c->data_rlimit = p->data_rlimit;
    c->uid = p->uid;
    c->gid = p->gid;
    c->hwcap = p->hwcap;
    c->hwcap2 = p->hwcap2;
    c->minsigstksz = p->minsigstksz;
    c->max_map_count = p->max_map_count;
    c->mmap_min_addr = p->mmap_min_addr;
    c->fault_around_bytes = p->fault_around_bytes;
    c->readahead_kb = p->readahead_kb;
    c->max_sectors_kb = p->max_sectors_kb;
    /* The commit policy sees the host's RAM and swap, whatever the
     * machine's own RAM is: a mapping larger than the simulated RAM but
     * smaller than the host's must succeed on both sides. */
    c->overcommit_memory = p->overcommit_memory;
    c->overcommit_ratio = p->overcommit_ratio;
    c->overcommit_kbytes = p->overcommit_kbytes;
    c->admin_reserve_kbytes = p->admin_reserve_kbytes;
    c->user_reserve_kbytes = p->user_reserve_kbytes;
    if (p->mem_total)
        c->mem_total = p->mem_total;
    c->swap_bytes = p->swap_total;
    if (p->large_folios >= 0)
        c->large_folios = p->large_folios;
    if (p->max_file_bytes)
        c->max_file_bytes = p->max_file_bytes;
}

static void note_change(char *what, size_t len, size_t *used, int *n, const char *name,
                        uint64_t then, uint64_t now)
{
    if (then == now)
        return;
    if (*used < len) {
        int k = snprintf(what + *used, len - *used, "%s%s %" PRIu64 " -> %" PRIu64, *n ? ", " : "",
                         name, then, now);
        if (k > 0)
            *used += (size_t)k;
    }
    (*n)++;
}

int host_profile_changed(const struct host_profile *then, const char *dir, char *what, size_t len)
{
    struct host_profile now;
    host_profile_read(&now, dir);
    size_t used = 0;
    int n = 0;
    if (len)
        what[0] = '\0';
#define CHANGED(field) note_change(what, len, &used, &n, #field, (uint64_t)then->field, (uint64_t)now.field)
    CHANGED(swap_total);
    CHANGED(overcommit_memory);
    CHANGED(overcommit_ratio);
    CHANGED(overcommit_kbytes);
    CHANGED(admin_reserve_kbytes);
    CHANGED(user_reserve_kbytes);
    CHANGED(max_map_count);
    CHANGED(mmap_min_addr);
    CHANGED(memlock_rlimit);
    CHANGED(page_cluster);
    CHANGED(swappiness);
    CHANGED(fault_around_bytes);
    CHANGED(readahead_kb);
    CHANGED(max_sectors_kb);
    CHANGED(nr_hugepages);
    CHANGED(nr_overcommit_hugepages);
#undef CHANGED
    return n;
}

static void row(FILE *out, const char *name, const char *value, const char *why)
{
    fprintf(out, "  %-19s %-12s %s\n", name, value, why);
}

static void row_u64(FILE *out, const char *name, uint64_t value, const char *why)
{
    char v[24];
    if (value == UINT64_MAX)
        snprintf(v, sizeof(v), "unlimited");
    else
        snprintf(v, sizeof(v), "%" PRIu64, value);
    row(out, name, v, why);
}

void host_profile_print(const struct host_profile *p, FILE *out)
{
    fprintf(out, "host profile (Linux %s)\n", p->kernel);
    row_u64(out, "pku", (uint64_t)p->pku,
            p->pku ? "pkey_alloc succeeds: PROT_EXEC-only memory is unreadable"
                   : "pkey_alloc is refused: PROT_EXEC-only memory is readable");
    row_u64(out, "pgtable_levels", (uint64_t)p->pgtable_levels,
            p->pgtable_levels == 5 ? "a hint above 47 bits is honoured"
                                   : "a hint above 47 bits is not honoured");
    row_u64(out, "zero_page", (uint64_t)p->zero_page,
            p->zero_page ? "a store after a load of anonymous memory faults (zero page)"
                         : "a store after a load of anonymous memory does not fault");
    row_u64(out, "privileged", (uint64_t)p->privileged,
            p->privileged ? "effective uid 0" : "effective uid not 0");
    row_u64(out, "memlock_rlimit", p->memlock_rlimit, "getrlimit(RLIMIT_MEMLOCK)");
    row_u64(out, "stack_rlimit", p->stack_rlimit, "getrlimit(RLIMIT_STACK): mmap_base, stack growth");
    row_u64(out, "data_rlimit", p->data_rlimit, "getrlimit(RLIMIT_DATA): brk and data mappings");
    row_u64(out, "uid", p->uid, "getuid(): AT_UID and AT_EUID of a new program");
    row_u64(out, "gid", p->gid, "getgid(): AT_GID and AT_EGID of a new program");
    row_u64(out, "hwcap", p->hwcap, "/proc/self/auxv AT_HWCAP");
    row_u64(out, "hwcap2", p->hwcap2, "/proc/self/auxv AT_HWCAP2");
    row_u64(out, "minsigstksz", p->minsigstksz, "/proc/self/auxv AT_MINSIGSTKSZ");
    row_u64(out, "max_map_count", p->max_map_count, p->src.max_map_count);
    row_u64(out, "mmap_min_addr", p->mmap_min_addr, p->src.mmap_min_addr);
    row_u64(out, "overcommit_memory", p->overcommit_memory, p->src.overcommit_memory);
    row_u64(out, "overcommit_ratio", p->overcommit_ratio, p->src.overcommit_ratio);
    row_u64(out, "overcommit_kbytes", p->overcommit_kbytes, p->src.overcommit_kbytes);
    row_u64(out, "admin_reserve_kb", p->admin_reserve_kbytes, p->src.admin_reserve_kbytes);
    row_u64(out, "user_reserve_kb", p->user_reserve_kbytes, p->src.user_reserve_kbytes);
    row_u64(out, "mem_total", p->mem_total, "/proc/meminfo MemTotal, bytes");
    row_u64(out, "swap_total", p->swap_total, "/proc/meminfo SwapTotal, bytes");
    row_u64(out, "page_cluster", p->page_cluster, p->src.page_cluster);
    row_u64(out, "swappiness", p->swappiness, p->src.swappiness);
    row_u64(out, "fault_around_bytes", p->fault_around_bytes, p->src.fault_around_bytes);
    row_u64(out, "readahead_kb", p->readahead_kb, p->src.readahead_kb);
    row_u64(out, "max_sectors_kb", p->max_sectors_kb, p->src.max_sectors_kb);
    row(out, "large_folios", p->large_folios < 0 ? "unknown" : p->large_folios ? "1" : "0",
        p->large_folios < 0 ? "could not be measured in the scratch folder"
        : p->large_folios   ? "a partial fadvise(DONTNEED) keeps a 64 KiB write cached"
                            : "a partial fadvise(DONTNEED) drops its page");
    row_u64(out, "ext4", (uint64_t)p->ext4,
            p->ext4 ? "the scratch folder is on ext4: holes and disk blocks are compared"
                    : "the scratch folder is not on ext4: holes and disk blocks are not compared");
    row_u64(out, "max_file_bytes", p->max_file_bytes,
            p->max_file_bytes ? "the largest ftruncate the scratch folder's filesystem takes"
                              : "could not be measured: vmsim's default (ext4's)");
    row_u64(out, "nr_hugepages", p->nr_hugepages, p->src.nr_hugepages);
    row_u64(out, "nr_overcommit_hp", p->nr_overcommit_hugepages, p->src.nr_overcommit_hugepages);
    row_u64(out, "hugepage_kb", p->hugepage_kb, "/proc/meminfo Hugepagesize");
    row_u64(out, "gigantic_pages", (uint64_t)p->gigantic_pages,
            p->gigantic_pages ? "a 1 GiB huge page size exists" : "no 1 GiB huge page size");
    row_u64(out, "hugetlb_as_vmsim", (uint64_t)p->hugetlb_as_vmsim,
            p->hugetlb_as_vmsim ? "an empty 2 MiB pool, as vmsim models: MAP_HUGETLB is tested"
                                : "not the empty 2 MiB pool vmsim models: MAP_HUGETLB is left out");
}
