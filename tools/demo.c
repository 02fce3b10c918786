/*
 * `vmsim demo`: a file mapped with mmap, told by the running simulator. The
 * story is the classic program: open file.txt, fstat it, mmap it shared and
 * writable, close the descriptor, print the content through the pointer,
 * store 'H', 'i' through it, munmap. On the way: the page-table walk, the
 * major fault that reads the page into the page cache, the write-protect
 * fault that marks it dirty, msync writing it back (the host's own read()
 * sees the change), a thread on a second CPU with its own TLB, the shootdown
 * at munmap, and why read() copies twice where a mapping copies once.
 * Only the public API is used; the file lives in a scratch root folder whose
 * host path is never printed, so the output is the same on every run.
 */
#include "cli.h"
#include "demo.h"
#include "record.h"
#include "report.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_LEN (sizeof(DEMO_TEXT_BEFORE) - 1)

/* ---- 1. open, fstat, mmap, close ---- */

static void spawn_process(struct demo *d)
{
    demo_call_begin(d, NULL, "spawn", "vms_spawn(\"demo\")");
    d->proc = vms_spawn(d->m, "demo");
    demo_call_end(d, "pid %d", d->proc ? vms_task_pid(d->proc) : -1);
    expect(d, d->proc != NULL, "vms_spawn failed");
    if (!d->proc)
        return;
    say(d, "  vms_spawn() -> pid %d, a process with an empty address space, on CPU 0:\n",
        vms_task_pid(d->proc));
    demo_call_begin(d, d->proc, "schedule", "vms_schedule(pid %d, CPU 0)", vms_task_pid(d->proc));
    demo_call_end(d, "%d", vms_schedule(d->proc, 0));
}

static void show_call(struct demo *d, const char *call, const char *result)
{
    say(d, "    %-55s = %s\n", call, result);
}

/* The classic program's four calls; returns 0 when the file ended up mapped. */
static int open_and_map(struct demo *d)
{
    char call[80], result[64];
    demo_call_begin(d, d->proc, "open", "open(\"" DEMO_FILE "\", O_RDWR)");
    int fd = vms_open(d->proc, DEMO_FILE, O_RDWR, 0);
    demo_call_end(d, "%d", fd);
    snprintf(result, sizeof(result), "%d", fd);
    show_call(d, "open(\"" DEMO_FILE "\", O_RDWR)", result);
    expect(d, fd >= 0, "open failed");
    if (fd < 0)
        return -1;
    struct stat st;
    demo_call_begin(d, d->proc, "fstat", "fstat(%d, &st)", fd);
    int ret = vms_fstat(d->proc, fd, &st);
    demo_call_end(d, "%d", ret);
    d->size = ret == 0 ? (uint64_t)st.st_size : 0;
    snprintf(call, sizeof(call), "fstat(%d, &st)", fd);
    snprintf(result, sizeof(result), "%d   (st_size %" PRIu64 ", st_ino %" PRIu64 ")", ret,
             d->size, (uint64_t)st.st_ino);
    show_call(d, call, result);
    expect(d, ret == 0 && d->size == TEXT_LEN, "fstat did not report the file's size");
    demo_call_begin(d, d->proc, "mmap", "mmap(NULL, %" PRIu64 ", PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)",
                    d->size, fd);
    int64_t addr = vms_mmap(d->proc, 0, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    demo_call_end(d, "0x%" PRIx64, (uint64_t)addr);
    snprintf(call, sizeof(call), "mmap(NULL, %" PRIu64 ", PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)",
             d->size, fd);
    snprintf(result, sizeof(result), "0x%" PRIx64, (uint64_t)addr);
    show_call(d, call, result);
    expect(d, addr > 0, "mmap failed");
    demo_call_begin(d, d->proc, "close", "close(%d)", fd);
    ret = vms_close(d->proc, fd);
    demo_call_end(d, "%d", ret);
    snprintf(call, sizeof(call), "close(%d)", fd);
    snprintf(result, sizeof(result), "%d", ret);
    show_call(d, call, result);
    expect(d, ret == 0, "close failed");
    d->va = addr > 0 ? (uint64_t)addr : 0;
    return d->va ? 0 : -1;
}

static void step_open_and_map(struct demo *d)
{
    heading(d, 1, "open, fstat, mmap, close: the file becomes memory");
    say(d, "  The root folder holds " DEMO_FILE ", written by the host: one line of %zu"
           " bytes,\n    ",
        TEXT_LEN);
    say_quoted(d, DEMO_TEXT_BEFORE, TEXT_LEN);
    say(d, "\n");
    spawn_process(d);
    if (!d->proc)
        return;
    begin_step(d);
    say(d, "\n  The program's calls, one at a time:\n");
    if (open_and_map(d))
        return;
    say(d, "\n  close() dropped the descriptor, not the mapping: the VMA holds its own\n"
           "  reference to the file.\n");
    print_maps(d, d->proc);
    explain_maps_line(d, d->proc);
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    expect(d, now.frames_used == d->before.frames_used && now.cache_frames == 0,
           "mmap allocated memory");
    say(d, "\n  mmap only recorded the VMA (range, rights, file, offset) in the sorted\n"
           "  list and the red-black tree: no page table yet, nothing read from the disk.\n");
}

/* ---- 2. the first load ---- */

static int walk_now(struct demo *d, vms_task *t, struct vms_walk *w)
{
    int ok = vms_walk(t, d->va, w) == 0 && w->present;
    expect(d, ok, "the file's page is not mapped");
    return ok;
}

/* Loads the file's bytes through the mapping and prints them; 0 when they
 * are the expected ones. */
static int load_text(struct demo *d, vms_task *t, const char *expected)
{
    char text[TEXT_LEN];
    demo_call_begin(d, t, "load", "load(0x%" PRIx64 ", %zu)", d->va, sizeof(text));
    int sig = vms_load(t, d->va, text, sizeof(text));
    demo_call_end(d, "%d", sig);
    expect(d, sig == 0, "a load through the mapping failed");
    if (sig)
        return -1;
    say(d, "    = ");
    say_quoted(d, text, sizeof(text));
    say(d, "\n");
    int same = memcmp(text, expected, sizeof(text)) == 0;
    expect(d, same, "a load through the mapping read unexpected bytes");
    return same ? 0 : -1;
}

static void step_first_load(struct demo *d)
{
    heading(d, 2, "The first load: a major fault reads the page from the disk");
    print_va_split(d);
    begin_step(d);
    say(d, "\n  Printing the content through the pointer: vms_load(pid %d, 0x%" PRIx64
           ", %" PRIu64 ") on CPU 0:\n",
        vms_task_pid(d->proc), d->va, d->size);
    load_text(d, d->proc, DEMO_TEXT_BEFORE);
    say(d, "  The walk stopped at an empty PGD entry. The fault handler built the PUD,\n"
           "  PMD and PTE tables, found no page of the file in the page cache and read\n"
           "  it from the disk into a new cache frame: a major fault. The PTE points at\n"
           "  that cache frame itself; no copy of the page is made for the process.\n\n");
    struct vms_walk w;
    if (!walk_now(d, d->proc, &w))
        return;
    print_pte(d, &w);
    expect(d, !pte_bit(&w, 1) && !pte_bit(&w, 6), "the clean file page is writable or dirty");
    say(d, "  RW is 0 although the mapping is PROT_READ|PROT_WRITE: a clean page of a\n"
           "  shared file mapping is mapped write-protected, so that the first store\n"
           "  faults and the kernel learns the page is dirty (write-notify).\n\n");
    print_machine_change(d, MROW_FRAMES | MROW_PGTABLES | MROW_CACHE | MROW_MAJOR |
                                MROW_DISK_IN);
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    expect(d, now.major_faults - d->before.major_faults == 1 &&
                  now.minor_faults == d->before.minor_faults && now.cache_frames == 1,
           "the first load was not one major fault filling one cache page");
}

/* ---- 3. the store ---- */

static void show_cache_frame(struct demo *d, uint64_t pa)
{
    char text[TEXT_LEN];
    expect(d, vms_phys_read(d->m, pa, text, sizeof(text)) == 0, "vms_phys_read failed");
    say(d, "  The cache frame 0x%08" PRIx64 " now holds ", pa);
    say_quoted(d, text, sizeof(text));
    say(d, ".\n");
    expect(d, memcmp(text, DEMO_TEXT_AFTER, sizeof(text)) == 0,
           "the page-cache frame does not hold the stored bytes");
}

static void step_store(struct demo *d)
{
    heading(d, 3, "The store of \"Hi\": write-notify marks the page dirty");
    begin_step(d);
    say(d, "  addr[0] = 'H'; addr[1] = 'i': vms_store(pid %d, 0x%" PRIx64
           ", \"Hi\", 2) on CPU 0:\n",
        vms_task_pid(d->proc), d->va);
    demo_call_begin(d, d->proc, "store", "store(0x%" PRIx64 ", \"Hi\")", d->va);
    int sig = vms_store(d->proc, d->va, "Hi", 2);
    demo_call_end(d, "%d", sig);
    expect(d, sig == 0, "the store failed");
    say(d, "  The L1 DTLB held the page, but read-only: the CPU raised a page fault\n"
           "  without walking. The page was in memory, so the fault was minor: the\n"
           "  handler marked the cache page dirty and set RW and D in the PTE; the\n"
           "  retried store walked again and cached the writable translation.\n");
    struct vms_walk w;
    if (!walk_now(d, d->proc, &w))
        return;
    print_pte_short(d, &w);
    expect(d, pte_bit(&w, 1) && pte_bit(&w, 6), "the PTE is not writable and dirty");
    show_cache_frame(d, w.pa);
    say(d, "\n");
    print_machine_change(d, MROW_DIRTY | MROW_MINOR);
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    expect(d, now.minor_faults - d->before.minor_faults == 1 && now.dirty_pages == 1,
           "the store was not one minor fault dirtying the page");
}

/* ---- 4. msync ---- */

/* Prints the file as the host's read() finds it; 0 when it is `expected`. */
static int show_host_file(struct demo *d, const struct scratch *s, const char *expected)
{
    char text[TEXT_LEN + 16];
    int64_t n = scratch_read_file(s, text, sizeof(text));
    if (n < 0) {
        expect(d, 0, "the host cannot read " DEMO_FILE);
        return -1;
    }
    say(d, "    ");
    say_quoted(d, text, (size_t)n);
    say(d, "\n");
    int same = (size_t)n == TEXT_LEN && memcmp(text, expected, TEXT_LEN) == 0;
    expect(d, same, DEMO_FILE " on the host does not hold the expected line");
    return same ? 0 : -1;
}

static void step_msync(struct demo *d, const struct scratch *s)
{
    heading(d, 4, "msync writes the dirty page back to the file");
    say(d, "  The store changed only the page cache (munmap would not write it back\n"
           "  either). The host's own read() of " DEMO_FILE " still finds:\n");
    show_host_file(d, s, DEMO_TEXT_BEFORE);
    begin_step(d);
    say(d, "\n  vms_msync(pid %d, 0x%" PRIx64 ", %" PRIu64 ", MS_SYNC) on CPU 0:\n",
        vms_task_pid(d->proc), d->va, d->size);
    demo_call_begin(d, d->proc, "msync", "msync(0x%" PRIx64 ", %" PRIu64 ", MS_SYNC)", d->va,
                    d->size);
    int ret = vms_msync(d->proc, d->va, d->size, MS_SYNC);
    demo_call_end(d, "%d", ret);
    expect(d, ret == 0, "msync failed");
    say(d, "    = %d\n", ret);
    say(d, "  The page went to the disk (%" PRIu64 " bytes: the file ends there). Its PTE is\n"
           "  write-protected and clean again and its TLB entry flushed, so that the\n"
           "  next store is noticed by another write-notify fault.\n",
        d->size);
    struct vms_walk w;
    if (walk_now(d, d->proc, &w)) {
        print_pte_short(d, &w);
        expect(d, !pte_bit(&w, 1) && !pte_bit(&w, 6), "the PTE stayed writable or dirty");
    }
    say(d, "  The host's read() now finds 'H', 'i' over the first two bytes:\n");
    show_host_file(d, s, DEMO_TEXT_AFTER);
    say(d, "\n");
    print_machine_change(d, MROW_DIRTY | MROW_DISK_OUT);
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    expect(d, now.dirty_pages == 0 && now.io.cache_to_disk - d->before.io.cache_to_disk == d->size,
           "msync did not write the page back");
}

/* ---- 5. a thread on CPU 1 ---- */

static void step_thread(struct demo *d)
{
    heading(d, 5, "A thread on CPU 1 has its own TLB");
    demo_call_begin(d, d->proc, "thread", "vms_clone_thread(pid %d)", vms_task_pid(d->proc));
    d->thread = vms_clone_thread(d->proc);
    demo_call_end(d, "pid %d", d->thread ? vms_task_pid(d->thread) : -1);
    expect(d, d->thread != NULL, "vms_clone_thread failed");
    if (!d->thread)
        return;
    say(d, "  vms_clone_thread(pid %d) -> pid %d, sharing the mm and its page tables.\n",
        vms_task_pid(d->proc), vms_task_pid(d->thread));
    say(d, "  vms_schedule(pid %d, CPU 1):\n", vms_task_pid(d->thread));
    demo_call_begin(d, d->thread, "schedule", "vms_schedule(pid %d, CPU 1)", vms_task_pid(d->thread));
    int ret = vms_schedule(d->thread, 1);
    demo_call_end(d, "%d", ret);
    expect(d, ret == 0, "vms_schedule failed");
    begin_step(d);
    say(d, "\n  vms_load(pid %d, 0x%" PRIx64 ", %" PRIu64 ") on CPU 1, which never saw the page:\n",
        vms_task_pid(d->thread), d->va, d->size);
    load_text(d, d->thread, DEMO_TEXT_AFTER);
    say(d, "  The tables exist, so the walk finds the same cache frame without a fault.\n"
           "  The same load again hits CPU 1's own L1 DTLB, so it raises no event:\n");
    load_text(d, d->thread, DEMO_TEXT_AFTER);
    say(d, "\n");
    print_deltas(d, ROWS_TLB);
}

/* ---- 6. munmap and the shootdown ---- */

static void touch_after_unmap(struct demo *d)
{
    char byte;
    say(d, "\n  vms_load(pid %d, 0x%" PRIx64 ", 1) on CPU 1, after the unmap:\n",
        vms_task_pid(d->thread), d->va);
    demo_call_begin(d, d->thread, "load", "load(0x%" PRIx64 ", 1)", d->va);
    int sig = vms_load(d->thread, d->va, &byte, 1);
    demo_call_end(d, "%s", sig ? signal_name(sig) : "0");
    const struct vms_fault *f = vms_last_fault(d->thread);
    expect(d, sig == SIGSEGV && f->code == SEGV_MAPERR && f->addr == d->va,
           "no SIGSEGV/SEGV_MAPERR after munmap");
    say(d, "    = %s, si_code %s, si_addr 0x%" PRIx64 "\n", signal_name(sig),
        si_code_name(f->signo, f->code), f->addr);
    say(d, "  Without the shootdown, CPU 1 would still have reached the page.\n");
}

/* Why the flush was what it was, from what the counters saw. */
static void explain_munmap_flush(struct demo *d)
{
    struct vms_stats now;
    vms_get_stats(d->m, &now);
    uint64_t full = now.cpu[0].flushes_full - d->before.cpu[0].flushes_full;
    uint64_t freed = d->before.pgtable_frames - now.pgtable_frames;
    expect(d, now.cpu[1].ipis_received - d->before.cpu[1].ipis_received == 1,
           "CPU 1 got no IPI at munmap");
    say(d, "  CPU 1 runs the same mm, so CPU 0 interrupts it (IPI) to flush it too.\n");
    if (freed && full)
        say(d, "  The page tables went with the last VMA; flushing what they covered\n"
               "  takes more than the single-page ceiling: a full flush, not INVLPG.\n");
}

static void step_munmap(struct demo *d)
{
    /* The pictures show the machine at its fullest: the file mapped, its
     * page in two TLBs, the walk of its address highlighted. */
    if (d->rec)
        record_snapshot(d->rec, d->m, 1, 1, d->va);
    heading(d, 6, "munmap removes the VMA and shoots down CPU 1's entry");
    begin_step(d);
    say(d, "  vms_munmap(pid %d, 0x%" PRIx64 ", %" PRIu64 ") on CPU 0:\n", vms_task_pid(d->proc),
        d->va, d->size);
    demo_call_begin(d, d->proc, "munmap", "munmap(0x%" PRIx64 ", %" PRIu64 ")", d->va, d->size);
    int ret = vms_munmap(d->proc, d->va, d->size);
    demo_call_end(d, "%d", ret);
    expect(d, ret == 0, "munmap failed");
    say(d, "    = %d\n", ret);
    explain_munmap_flush(d);
    print_maps(d, d->proc);
    say(d, "\n");
    print_deltas(d, ROWS_SHOOTDOWN);
    say(d, "\n");
    print_machine_change(d, MROW_FRAMES | MROW_PGTABLES | MROW_CACHE);
    say(d, "\n  The cache frame stays: it belongs to the file, not to the mapping, and\n"
           "  the next read or mmap of " DEMO_FILE " finds it. munmap writes nothing back:\n"
           "  a dirty page would wait in the cache for msync, fsync, sync or shutdown.\n");
    touch_after_unmap(d);
}

/* ---- 7. read() against mmap ---- */

struct copy_cost {
    uint64_t disk_to_cache, cache_to_user; /* bytes */
    uint64_t data_frames;                  /* frames holding the file's bytes */
    uint64_t minflt, majflt;
    char text[TEXT_LEN];                   /* what the process found in its memory */
    int ok;
};

static vms_machine *quiet_machine(const char *root)
{
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = 64ULL << 20;
    cfg.ncpus = 2;
    cfg.root = root;
    return vms_machine_create(&cfg);
}

static void cost_between(struct copy_cost *c, const struct vms_stats *a, const struct vms_stats *b,
                         vms_task *t)
{
    c->disk_to_cache = b->io.disk_to_cache - a->io.disk_to_cache;
    c->cache_to_user = b->io.cache_to_user - a->io.cache_to_user;
    c->data_frames = (b->frames_used - b->pgtable_frames) - (a->frames_used - a->pgtable_frames);
    vms_task_rusage(t, &c->minflt, &c->majflt);
}

/* read(fd, buf, 4096) into an anonymous buffer, then a load of what it got. */
static void cost_of_read(vms_machine *m, vms_task *t, int fd, struct copy_cost *c)
{
    int64_t buf = vms_mmap(t, 0, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
    if (buf <= 0)
        return;
    struct vms_stats a, b;
    vms_get_stats(m, &a);
    int64_t n = vms_read(t, fd, (uint64_t)buf, PAGE_BYTES);
    c->ok = n == (int64_t)TEXT_LEN && vms_load(t, (uint64_t)buf, c->text, TEXT_LEN) == 0;
    vms_get_stats(m, &b);
    cost_between(c, &a, &b, t);
}

/* mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0), then a load through it. */
static void cost_of_mmap(vms_machine *m, vms_task *t, int fd, struct copy_cost *c)
{
    int64_t addr = vms_mmap(t, 0, TEXT_LEN, PROT_READ, MAP_SHARED, fd, 0);
    if (addr <= 0)
        return;
    struct vms_stats a, b;
    vms_get_stats(m, &a);
    c->ok = vms_load(t, (uint64_t)addr, c->text, TEXT_LEN) == 0;
    vms_get_stats(m, &b);
    cost_between(c, &a, &b, t);
}

/* On a machine of its own, so that the page cache starts cold. */
static void measure(struct demo *d, const char *root, int by_read, struct copy_cost *c)
{
    *c = (struct copy_cost){0};
    vms_machine *m = quiet_machine(root);
    vms_task *t = m ? vms_spawn(m, "copy") : NULL;
    int fd = t ? vms_open(t, DEMO_FILE, O_RDONLY, 0) : -1;
    if (fd >= 0 && by_read)
        cost_of_read(m, t, fd, c);
    else if (fd >= 0)
        cost_of_mmap(m, t, fd, c);
    expect(d, c->ok && memcmp(c->text, DEMO_TEXT_AFTER, TEXT_LEN) == 0,
           by_read ? "read() did not bring the file" : "the mapping did not show the file");
    if (!m)
        return;
    expect(d, vms_check(m, stderr) == 0, "vms_check failed on a copy machine");
    vms_machine_destroy(m);
}

static void cost_row(struct demo *d, const char *label, uint64_t a, uint64_t b)
{
    say(d, "  %-28s %10" PRIu64 " %10" PRIu64 "\n", label, a, b);
}

static void print_costs(struct demo *d, const struct copy_cost *r, const struct copy_cost *m)
{
    say(d, "  %s%-28s %10s %10s%s\n", d->c.dim, "cold file, one access", "read()", "mmap",
        d->c.reset);
    cost_row(d, "bytes disk -> page cache", r->disk_to_cache, m->disk_to_cache);
    cost_row(d, "bytes page cache -> user", r->cache_to_user, m->cache_to_user);
    cost_row(d, "copies of each byte", (r->disk_to_cache + r->cache_to_user) / TEXT_LEN,
             (m->disk_to_cache + m->cache_to_user) / TEXT_LEN);
    cost_row(d, "frames holding the bytes", r->data_frames, m->data_frames);
    char a[24], b[24];
    snprintf(a, sizeof(a), "%" PRIu64 " / %" PRIu64, r->minflt, r->majflt);
    snprintf(b, sizeof(b), "%" PRIu64 " / %" PRIu64, m->minflt, m->majflt);
    say(d, "  %-28s %10s %10s\n", "page faults, minor / major", a, b);
}

static void step_copies(struct demo *d, const struct scratch *s)
{
    heading(d, 7, "Copies: read() copies twice, a mapping once");
    say(d, "  Two fresh machines over the same root folder, each with a cold page cache:\n"
           "    read():  read(fd, buf, 4096) into an anonymous mapping, then a load of buf\n"
           "    mmap:    mmap(NULL, %zu, PROT_READ, MAP_SHARED, fd, 0), then a load\n\n",
        TEXT_LEN);
    struct copy_cost by_read, by_mmap;
    measure(d, s->dir, 1, &by_read);
    measure(d, s->dir, 0, &by_mmap);
    print_costs(d, &by_read, &by_mmap);
    expect(d, by_read.cache_to_user == TEXT_LEN && by_mmap.cache_to_user == 0 &&
                  by_read.disk_to_cache == TEXT_LEN && by_mmap.disk_to_cache == TEXT_LEN,
           "the copy counters are not those of two copies against one");
    say(d, "\n  read() copies the disk into the page cache, then the cache into the\n"
           "  buffer: the bytes end up in two frames. The mapping's PTE points at the\n"
           "  cache frame itself: one copy, paid for with a page fault per page.\n");
}

/* ---- 8. summary ---- */

static void step_summary(struct demo *d)
{
    heading(d, 8, "Summary");
    print_cpu_totals(d);
    struct vms_stats s;
    vms_get_stats(d->m, &s);
    say(d, "\n");
    uint64_t min_proc, maj_proc, min_thread, maj_thread;
    vms_task_rusage(d->proc, &min_proc, &maj_proc);
    vms_task_rusage(d->thread, &min_thread, &maj_thread);
    say(d, "  %-22s pid %d: %" PRIu64 " minor, %" PRIu64 " major; pid %d: %" PRIu64 ", %" PRIu64
           "\n",
        "page faults", vms_task_pid(d->proc), min_proc, maj_proc, vms_task_pid(d->thread),
        min_thread, maj_thread);
    say(d, "  %-22s %" PRIu64 " of %" PRIu64 " (page tables %" PRIu64 ", page cache %" PRIu64 ")\n",
        "frames used", s.frames_used, s.frames_total, s.pgtable_frames, s.cache_frames);
    int ok = vms_check(d->m, stderr) == 0;
    expect(d, ok, "vms_check found a broken invariant");
    say(d, "  %-22s %s\n", "vms_check", ok ? "every invariant holds" : "FAILED");
}

/* After the machine stopped (its shutdown writes back what is still dirty). */
static void show_file_at_end(struct demo *d, const struct scratch *s)
{
    say(d, "  %-22s ", DEMO_FILE " on the host");
    char text[TEXT_LEN + 16];
    int64_t n = scratch_read_file(s, text, sizeof(text));
    int same = n == (int64_t)TEXT_LEN && memcmp(text, DEMO_TEXT_AFTER, TEXT_LEN) == 0;
    expect(d, same, DEMO_FILE " does not end up changed");
    if (n >= 0)
        say_quoted(d, text, (size_t)n);
    say(d, "\n");
}

/* ---- the subcommand ---- */

struct demo_options {
    int no_color, keep;
    const char *root;
    struct picture_options pictures;
    const char *html; /* --html FILE */
};

static void demo_usage(FILE *out)
{
    fprintf(out, "Usage: vmsim demo [--no-color] [--root DIR] [--keep] [--html FILE]\n"
                 "                  [PICTURE OPTIONS]\n\n"
                 "Maps a file the classic way: open file.txt, fstat, mmap(MAP_SHARED), close,\n"
                 "read it through the pointer, store \"Hi\" through it, munmap. Shows the\n"
                 "page-table walk, the major fault that fills the page cache, the write\n"
                 "fault that dirties the page, msync writing it to the disk, a thread on a\n"
                 "second CPU and the TLB shootdown at munmap; then read() against mmap.\n"
                 "Every address shown comes from the simulator.\n\n"
                 "Options:\n"
                 "  --root DIR  the machine's root folder, where file.txt is written\n"
                 "              (made if missing; an existing file.txt is never\n"
                 "              replaced). Default: a new folder under $TMPDIR or\n"
                 "              /tmp. What the demo created is removed at the end.\n"
                 "  --keep      keep the folder and file.txt (its path goes to stderr)\n"
                 "  --html FILE also write FILE, one self-contained HTML page of the story:\n"
                 "              the machine's state after each of its steps (docs/report.md)\n"
                 "  --no-color  never colour the output (also: NO_COLOR set and not empty)\n"
                 "  -h, --help  show this help and exit\n\n"
                 "Pictures of the run (docs/report.md):\n%s",
            picture_options_help);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "vmsim demo: %s '%s'\nTry 'vmsim demo --help'.\n", what, arg);
    return CLI_USAGE;
}

/* Returns -1 to go on, or the exit status. */
static int parse_demo_args(int argc, char **argv, struct demo_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int picture = picture_option(argc, argv, &i, &o->pictures, "vmsim demo");
        if (picture < 0)
            return CLI_USAGE;
        if (picture)
            continue;
        if (strcmp(a, "--no-color") == 0) {
            o->no_color = 1;
        } else if (strcmp(a, "--keep") == 0) {
            o->keep = 1;
        } else if (strcmp(a, "--root") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return usage_error("option needs a folder", a);
            o->root = argv[++i];
        } else if (strncmp(a, "--root=", 7) == 0 && a[7]) {
            o->root = a + 7;
        } else if (strcmp(a, "--html") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return usage_error("option needs a file", a);
            o->html = argv[++i];
        } else if (strncmp(a, "--html=", 7) == 0 && a[7]) {
            o->html = a + 7;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            demo_usage(stdout);
            return CLI_OK;
        } else {
            return usage_error(a[0] == '-' ? "unknown option" : "unknown argument", a);
        }
    }
    return -1;
}

static vms_machine *create_machine(struct demo *d, const char *root)
{
    struct vms_config cfg;
    vms_config_init(&cfg);
    cfg.phys_bytes = 64ULL << 20;
    cfg.ncpus = 2;
    cfg.root = root;
    cfg.trace = on_event;
    cfg.trace_arg = d;
    say(d, "%svmsim %s demo: a file mapped with mmap, from the disk and back%s\n", d->c.head,
        VMSIM_VERSION, d->c.reset);
    say(d, "%s64 MiB of RAM, 2 CPUs, 4-level page tables; per CPU an L1 DTLB of %u entries\n"
           "(%u-way) and an L2 TLB of %u entries (%u-way); no PCID. Files live in the\n"
           "root folder, which is \"/\" inside the machine.%s\n",
        d->c.dim, cfg.dtlb.entries, cfg.dtlb.ways, cfg.stlb.entries, cfg.stlb.ways, d->c.reset);
    return vms_machine_create(&cfg);
}

static void run_story(struct demo *d, const struct scratch *s)
{
    d->narrate = 1;
    step_open_and_map(d);
    if (d->proc && d->va) {
        step_first_load(d);
        step_store(d);
        step_msync(d, s);
        step_thread(d);
    }
    if (d->thread)
        step_munmap(d);
    d->narrate = 0;
    demo_chapter_end(d);
    step_copies(d, s);
    if (d->thread)
        step_summary(d);
    demo_chapter_end(d);
}

int demo_main(int argc, char **argv)
{
    struct demo_options opt = {0};
    int status = parse_demo_args(argc, argv, &opt);
    if (status >= 0)
        return status;
    struct record rec;
    char err[512];
    if (record_open(&rec, &opt.pictures, err, sizeof(err))) {
        fprintf(stderr, "vmsim demo: %s\n", err);
        return CLI_FAILED;
    }
    struct scratch scratch;
    if (scratch_create(&scratch, opt.root, opt.keep)) {
        record_close(&rec, "vmsim demo");
        return CLI_FAILED;
    }
    struct demo d = {.out = stdout, .rec = record_active(&rec) ? &rec : NULL};
    set_palette(&d.c, cli_use_color(stdout, opt.no_color));
    d.m = create_machine(&d, scratch.dir);
    if (!d.m) {
        perror("vmsim demo: cannot create the machine");
        record_close(&rec, "vmsim demo");
        scratch_remove(&scratch);
        return CLI_FAILED;
    }
    if (opt.html) {
        d.report = report_new("vmsim demo: a file mapped with mmap");
        if (!d.report || report_machine_begin(d.report, d.m, 1)) {
            fprintf(stderr, "vmsim demo: out of memory\n");
            d.failures++;
        } else {
            report_set_current(d.report, d.m);
        }
    }
    run_story(&d, &scratch);
    if (d.report) {
        demo_report_step(&d);
        report_machine_end(d.report, d.m);
    }
    vms_machine_destroy(d.m);
    show_file_at_end(&d, &scratch);
    scratch_remove(&scratch);
    if (record_close(&rec, "vmsim demo"))
        d.failures++;
    if (d.report) {
        if (report_save_html(d.report, opt.html, "vmsim demo"))
            d.failures++;
        report_free(d.report);
    }
    if (fflush(stdout) != 0)
        d.failures++;
    return d.failures ? CLI_FAILED : CLI_OK;
}
