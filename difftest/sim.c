/*
 * sim.c - the simulated side of the differential test: one vmsim machine
 * whose root folder is the scratch folder A, with a task per process of the
 * sequence (vms_fork makes the others). Results are reported exactly as the
 * host processes report them (raw addresses; the runner makes them
 * relative), with the same numbering of processes and the same ESRCH and
 * EAGAIN for a missing process and one fork too many.
 *
 * The host's page cache holds the files from the start (the harness has just
 * written them), so the machine's cache is filled first too, by a short-lived
 * task that reads every file; the test task's fault counts then start from
 * the same state on both sides.
 */
#include "difftest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vmsim.h"

#define SIM_RAM (UINT64_C(512) << 20)
#define WARM_BUF UINT64_C(0x10000000)

struct dt_sim {
    vms_machine *m;
    vms_task *t[DT_MAX_PROCS]; /* NULL: not made yet, or exited */
    int nprocs;                /* processes made so far */
    uint64_t window;
};

/* Read every starting file once, from another task, so that all its pages
 * are cached (and clean) before the test task starts. */
static int warm_page_cache(vms_machine *m)
{
    vms_task *w = vms_spawn(m, "warm");
    if (!w)
        return -ENOMEM;
    int64_t buf = vms_mmap(w, WARM_BUF, 64 * DT_PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    int err = buf < 0 ? (int)buf : 0;
    for (int i = 0; !err && i < DT_NFILES; i++) {
        int fd = vms_open(w, dt_file_names[i], O_RDONLY, 0);
        if (fd < 0) {
            err = fd;
            break;
        }
        int64_t n = vms_pread(w, fd, (vms_addr)buf, dt_initial_size(i), 0);
        if (n != (int64_t)dt_initial_size(i))
            err = n < 0 ? (int)n : -EIO;
        vms_close(w, fd);
    }
    vms_exit(w);
    return err;
}

void sim_config(struct vms_config *c, const char *dir, const struct host_profile *profile,
                const struct dt_setting *settings, int nsettings)
{
    vms_config_init(c);
    host_profile_apply(profile, c); /* the host's CPU, sysctls and disk */
    c->phys_bytes = SIM_RAM;
    for (int i = 0; i < nsettings; i++)
        dt_setting_apply(&settings[i], c);
    c->root = dir;
}

struct dt_sim *sim_start(const char *dir, uint64_t window, const struct host_profile *profile,
                         const struct dt_setting *settings, int nsettings, vms_trace_fn trace,
                         void *trace_arg, char *err, size_t errsize)
{
    struct vms_config c;
    sim_config(&c, dir, profile, settings, nsettings);
    c.trace = trace;
    c.trace_arg = trace_arg;
    struct dt_sim *s = calloc(1, sizeof(*s));
    if (!s)
        return snprintf(err, errsize, "out of memory"), NULL;
    s->window = window;
    s->m = vms_machine_create(&c);
    if (!s->m) {
        snprintf(err, errsize, "vms_machine_create: %s", strerror(errno));
        free(s);
        return NULL;
    }
    int e = warm_page_cache(s->m);
    s->t[0] = e ? NULL : vms_spawn(s->m, "difftest");
    s->nprocs = 1;
    if (!s->t[0]) {
        snprintf(err, errsize, "cannot prepare the machine: %s", strerror(e ? -e : ENOMEM));
        sim_stop(s);
        return NULL;
    }
    return s;
}

static uint64_t vec_len(uint64_t len)
{
    uint64_t pages = len / DT_PAGE + (len % DT_PAGE != 0);
    return pages < DT_MAX_VEC ? pages : DT_MAX_VEC;
}

static void access_result(vms_task *t, int sig, struct dt_result *r)
{
    if (!sig)
        return;
    const struct vms_fault *f = vms_last_fault(t);
    r->signo = f->signo;
    r->code = f->code;
    r->sig_addr = f->addr;
}

static int64_t sim_fork(struct dt_sim *s, vms_task *t)
{
    if (s->nprocs == DT_MAX_PROCS)
        return -EAGAIN;
    vms_task *child = vms_fork(t);
    if (!child)
        return -errno;
    s->t[s->nprocs] = child;
    return s->nprocs++;
}

static int64_t run_syscall(struct dt_sim *s, const struct dt_op *op, uint64_t va, struct dt_result *r)
{
    vms_task *t = s->t[op->proc];
    switch (op->kind) {
    case DT_FORK: return sim_fork(s, t);
    case DT_EXIT:
        vms_exit(t);
        s->t[op->proc] = NULL;
        return 0;
    case DT_MMAP: return vms_mmap(t, va, op->len, op->prot, op->flags, op->fd, op->off);
    case DT_MUNMAP: return vms_munmap(t, va, op->len);
    case DT_MPROTECT: return vms_mprotect(t, va, op->len, op->prot);
    case DT_MSYNC: return vms_msync(t, va, op->len, op->flags);
    case DT_MINCORE: return vms_mincore(t, va, op->len, (op->flags & DT_VEC_NULL) ? NULL : r->data);
    case DT_OPEN: return vms_open(t, dt_file_names[op->name], op->flags, 0644);
    case DT_CLOSE: return vms_close(t, op->fd);
    case DT_READ: return vms_read(t, op->fd, va, op->len);
    case DT_WRITE: return vms_write(t, op->fd, va, op->len);
    case DT_PREAD: return vms_pread(t, op->fd, va, op->len, op->off);
    case DT_PWRITE: return vms_pwrite(t, op->fd, va, op->len, op->off);
    case DT_LSEEK: return vms_lseek(t, op->fd, op->off, op->flags);
    case DT_FTRUNCATE: return vms_ftruncate(t, op->fd, op->off);
    case DT_FSYNC: return vms_fsync(t, op->fd);
    case DT_FSTAT: {
        struct stat st;
        int ret = vms_fstat(t, op->fd, &st);
        if (ret == 0) {
            uint64_t size = (uint64_t)st.st_size;
            uint32_t type = st.st_mode & S_IFMT;
            memcpy(r->data, &size, 8);
            memcpy(r->data + 8, &type, 4);
            r->ndata = 12;
        }
        return ret;
    }
    case DT_SYNC: return vms_sync(s->m);
    case DT_MREMAP:
        return vms_mremap(t, va, op->len, op->len2, op->flags,
                          op->abs2 ? op->addr2 : s->window + op->addr2);
    case DT_MADVISE: return vms_madvise(t, va, op->len, op->flags);
    default: return -EINVAL;
    }
}

void sim_run(struct dt_sim *s, const struct dt_op *op, struct dt_result *r)
{
    memset(r, 0, DT_RESULT_HEADER);
    vms_task *t = op->proc >= 0 && op->proc < DT_MAX_PROCS ? s->t[op->proc] : NULL;
    if (!t) {
        r->ret = -ESRCH;
        return;
    }
    uint64_t va = op->abs ? op->addr : s->window + op->addr;
    uint8_t pattern[DT_MAX_LOAD];
    if (op->kind == DT_LOAD || op->kind == DT_STORE) {
        for (int i = 0; i < DT_MAX_LOAD; i++) {
            r->data[i] = 0xcc;
            pattern[i] = (uint8_t)(op->pattern + i);
        }
        if (op->kind == DT_LOAD)
            r->ndata = (uint32_t)op->len;
    } else if (op->kind == DT_MINCORE && !(op->flags & DT_VEC_NULL)) {
        r->ndata = (uint32_t)vec_len(op->len);
        memset(r->data, 0xee, r->ndata);
    }
    uint64_t min0, maj0, min1, maj1;
    vms_task_rusage(t, &min0, &maj0);
    if (op->kind == DT_LOAD)
        access_result(t, vms_load(t, va, r->data, op->len), r);
    else if (op->kind == DT_STORE)
        access_result(t, vms_store(t, va, pattern, op->len), r);
    else
        r->ret = run_syscall(s, op, va, r);
    if (op->kind == DT_EXIT)
        return; /* nothing is left to count */
    vms_task_rusage(t, &min1, &maj1);
    r->minflt = min1 - min0;
    r->majflt = maj1 - maj0;
}

static char *capture(int (*fn)(void *, FILE *), void *arg, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    *rc = fn(arg, f);
    fclose(f);
    return text;
}

static int maps_of(void *t, FILE *f) { return vms_maps(t, f); }
static int check_of(void *m, FILE *f) { return vms_check(m, f); }

char *sim_maps(struct dt_sim *s, int proc)
{
    int rc = 0;
    if (proc < 0 || proc >= DT_MAX_PROCS || !s->t[proc])
        return NULL;
    return capture(maps_of, s->t[proc], &rc);
}

int sim_check(struct dt_sim *s, char **report)
{
    int rc = 0;
    char *text = capture(check_of, s->m, &rc);
    if (rc == 0) {
        free(text);
        *report = NULL;
        return 0;
    }
    *report = text;
    return rc ? rc : -1;
}

int sim_sync(struct dt_sim *s) { return vms_sync(s->m); }

int sim_flush_range(struct dt_sim *s, int name, uint64_t from, uint64_t to)
{
    vms_task *t = s->t[0];
    int fd = vms_open(t, dt_file_names[name], O_RDONLY, 0);
    if (fd < 0)
        return fd;
    int err = vms_sync_file_range(t, fd, (int64_t)from, (int64_t)(to - from), SYNC_FILE_RANGE_WRITE);
    vms_close(t, fd);
    return err;
}

int sim_fsync_file(struct dt_sim *s, int name)
{
    vms_task *t = s->t[0];
    int fd = vms_open(t, dt_file_names[name], O_RDONLY, 0);
    if (fd < 0)
        return fd;
    int err = vms_fsync(t, fd);
    vms_close(t, fd);
    return err;
}

int sim_data_blocks(struct dt_sim *s, int name, char *out, size_t n)
{
    vms_task *t = s->t[0];
    int fd = vms_open(t, dt_file_names[name], O_RDONLY, 0);
    if (fd < 0)
        return fd;
    struct stat st;
    int err = vms_fstat(t, fd, &st);
    uint64_t blocks = err ? 0 : ((uint64_t)st.st_size + DT_PAGE - 1) / DT_PAGE;
    if (!err && blocks >= n)
        err = -EFBIG;
    if (!err)
        memset(out, '0', blocks), out[blocks] = '\0';
    for (int64_t off = 0; !err && (uint64_t)off < (uint64_t)st.st_size;) {
        int64_t data = vms_lseek(t, fd, off, SEEK_DATA);
        if (data < 0) {
            err = data == -ENXIO ? 0 : (int)data;
            break;
        }
        int64_t hole = vms_lseek(t, fd, data, SEEK_HOLE);
        if (hole <= data) {
            err = hole < 0 ? (int)hole : -EIO;
            break;
        }
        for (uint64_t b = (uint64_t)data / DT_PAGE; b < ((uint64_t)hole + DT_PAGE - 1) / DT_PAGE; b++)
            out[b] = '1';
        off = hole;
    }
    vms_close(t, fd);
    return err;
}

vms_machine *sim_machine(struct dt_sim *s) { return s->m; }

vms_task *sim_task(struct dt_sim *s, int proc)
{
    return proc >= 0 && proc < DT_MAX_PROCS ? s->t[proc] : NULL;
}

void sim_stop(struct dt_sim *s)
{
    if (!s)
        return;
    vms_machine_destroy(s->m);
    free(s);
}
