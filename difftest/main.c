/*
 * main.c - vmsim-difftest: runs random sequences of memory-mapping and file
 * operations on vmsim and on the real kernel, compares them after every
 * step, and prints each divergence as a minimal scenario that --replay runs
 * again. The last line is "N passed, M failed"; the exit status is 1 if any
 * seed failed.
 */
#include "difftest.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALL_KINDS ((1u << DT_NKINDS) - 1)

static const char usage[] =
    "usage: vmsim-difftest [options]\n"
    "\n"
    "Runs seeded random sequences of operations twice, on a vmsim machine and on\n"
    "the host kernel (in a child process), and compares after every step: return\n"
    "value and errno, signal/si_code/si_addr, bytes loaded or read, mincore\n"
    "vectors, the step's minor/major fault counts, the maps lines of the test\n"
    "window, vms_check, and the files on disk (after fsync, msync MS_SYNC, sync\n"
    "and at the end; whole files with their holes). A diverging sequence is\n"
    "shrunk to a minimal scenario.\n"
    "\n"
    "  --seeds A-B     seeds to run (default 1-100); a single number runs one seed\n"
    "  --steps N       operations per seed (default 60)\n"
    "  --replay FILE   run the scenario in FILE (one op per line) on both sides,\n"
    "                  printing every step\n"
    "  --keep-going    with --replay: report each divergence and carry on\n"
    "  --no-shrink     print the failing sequence as generated\n"
    "  --out DIR       also write each minimal scenario to DIR/seed-N.txt\n"
    "  --scratch DIR   folder for the two scratch roots (default $TMPDIR or /tmp)\n"
    "  --profile       print the host profile (what vmsim's config takes from this\n"
    "                  host: protection keys, paging levels, sysctls, the disk's\n"
    "                  readahead, large folios, the huge page pool) and exit\n"
    "  -v, --verbose   print every step with both results\n"
    "  -h, --help      this text\n"
    "\n"
    "Scenario lines (docs/scenarios.md has them all; addresses \"+0x...\" are\n"
    "relative to the 64 MiB test window,\n"
    "\"+-0x...\" below it, \"0x...\" absolute; flags are names joined by '|', or\n"
    "numbers):\n"
    "  mmap ADDR LEN PROT FLAGS FD OFF     munmap ADDR LEN      mprotect ADDR LEN PROT\n"
    "  msync ADDR LEN FLAGS                mincore ADDR LEN [vecnull]\n"
    "  load ADDR N                         store ADDR N FIRSTBYTE\n"
    "  open NAME FLAGS                     close FD             fsync FD   fstat FD   sync\n"
    "  read FD ADDR LEN    write FD ADDR LEN    pread FD ADDR LEN OFF    pwrite FD ADDR LEN OFF\n"
    "  lseek FD OFF WHENCE                 ftruncate FD LEN\n"
    "  mremap ADDR OLDLEN NEWLEN FLAGS NEWADDR   (FLAGS: MAYMOVE|FIXED|DONTUNMAP or 0)\n"
    "  madvise ADDR LEN ADVICE             (ADVICE: DONTNEED, FREE, GUARD_INSTALL, ...)\n"
    "  fork                                exit (not in process 0)\n"
    "A line may start with @N, the process that runs it (default @0). fork makes\n"
    "process @1, then @2, ... (up to @7); its result is the new process's number.\n"
    "NAME is f0 (12388 bytes), f1 (64 KiB), f2 (empty), f3 (5000 bytes), new, d (a\n"
    "directory) or missing; both sides start with these files in their scratch root.\n"
    "'#' starts a comment. Example:\n"
    "  open f0 RDWR\n"
    "  mmap +0x2000000 0x2000 READ|WRITE SHARED|FIXED 3 0\n"
    "  store +0x2000ffe 4 0x41\n"
    "\n"
    "Every run generates every operation and flag the tester supports. MAP_HUGETLB\n"
    "is left out (and the run says so) on a host whose huge page pool is not the\n"
    "empty 2 MiB one vmsim models (see --profile).\n";

struct options {
    uint64_t first, last;
    int steps, shrink, verbose, keep_going, profile;
    const char *replay, *out_dir, *scratch_parent;
};

static int parse_seeds(const char *s, struct options *o)
{
    char *end;
    o->first = strtoull(s, &end, 10);
    o->last = o->first;
    if (*end == '-')
        o->last = strtoull(end + 1, &end, 10);
    return *end || o->last < o->first ? -1 : 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.first = 1, .last = 100, .steps = 60, .shrink = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--seeds") && val) {
            if (parse_seeds(val, o))
                return -1;
            i++;
        } else if (!strcmp(a, "--steps") && val) {
            o->steps = atoi(val);
            i++;
        } else if (!strcmp(a, "--replay") && val) {
            o->replay = val;
            i++;
        } else if (!strcmp(a, "--out") && val) {
            o->out_dir = val;
            i++;
        } else if (!strcmp(a, "--scratch") && val) {
            o->scratch_parent = val;
            i++;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (!strcmp(a, "--keep-going")) {
            o->keep_going = 1;
        } else if (!strcmp(a, "--no-shrink")) {
            o->shrink = 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else {
            return -1;
        }
    }
    return o->steps > 0 ? 0 : -1;
}

/* The mix: every operation and feature, less what this host cannot be
 * compared on (MAP_HUGETLB where the huge page pool is not the empty 2 MiB
 * one vmsim models: the host would map pages where vmsim raises SIGBUS). */
static void default_mix(struct dt_config *cfg, const struct host_profile *profile)
{
    cfg->kinds = ALL_KINDS;
    cfg->features = DT_FEAT_ALL;
    /* A forking host process writes its own (now copy-on-write) stack as the
     * call returns: the fork step's count is the harness's, not the call's. */
    cfg->fault_kinds = ALL_KINDS & ~(1u << DT_FORK);
    if (!profile->hugetlb_as_vmsim)
        cfg->features &= ~DT_FEAT_HUGETLB;
}

/* ---- reporting ---- */

static void print_scenario(FILE *out, const struct dt_seq *seq, const struct dt_diff *d, uint64_t seed)
{
    if (seed)
        fprintf(out, "# vmsim-difftest scenario from seed %" PRIu64 "; diverges in %s", seed,
                dt_aspect_name(d->aspect));
    else
        fprintf(out, "# vmsim-difftest scenario; diverges in %s", dt_aspect_name(d->aspect));
    if (d->step < seq->n)
        fprintf(out, " at op %d\n", d->step + 1);
    else
        fprintf(out, " after the last op (files on disk)\n");
    dt_seq_print(seq, out);
}

static void print_difference(FILE *out, const struct dt_seq *seq, const struct dt_diff *d)
{
    char line[256] = "end of sequence";
    if (d->step < seq->n)
        dt_format_op(&seq->ops[d->step], line, sizeof(line));
    fprintf(out, "first difference (%s) at op %d: %s\n%s", dt_aspect_name(d->aspect), d->step + 1, line,
            d->text);
}

static void save_scenario(const char *dir, uint64_t seed, const struct dt_seq *seq, const struct dt_diff *d)
{
    char path[4096];
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/seed-%" PRIu64 ".txt", dir, seed);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    print_scenario(f, seq, d, seed);
    fclose(f);
}

static int run_seed(const struct dt_config *cfg, const struct options *o, uint64_t seed, int *steps_ok)
{
    struct dt_seq seq = {0};
    struct dt_gen *g = gen_create(seed, cfg);
    struct dt_diff *d = malloc(sizeof(*d));
    if (!g || !d) {
        fprintf(stderr, "vmsim-difftest: out of memory\n");
        exit(2);
    }
    int rc = dt_run(cfg, &seq, g, o->steps, d, o->verbose ? stdout : NULL);
    gen_destroy(g);
    /* The host's background write-back may clean a dirty shared page
     * mid-run, costing it one more write-notify fault, and zeroes what a
     * mapping stored past the end of the file in its last page; its
     * readahead may still be reading when mincore asks: such a difference
     * must show again to count. Under load (other write-back keeps the
     * flusher busy) it can strike twice, so there are two reruns; a real
     * difference in vmsim shows every time. */
    int excusable = rc == 1 && dt_may_be_host_timing(&seq, d);
    const char *what = !excusable                       ? ""
                       : d->aspect == DT_ASPECT_FAULTS ? "fault counts"
                       : seq.ops[d->step].kind == DT_MINCORE ? "mincore vectors"
                                                             : "loaded bytes";
    for (int rerun = 0; rerun < 2 && rc == 1 && excusable; rerun++) {
        struct dt_seq again = {0};
        struct dt_gen *g2 = gen_create(seed, cfg);
        if (!g2) {
            fprintf(stderr, "vmsim-difftest: out of memory\n");
            exit(2);
        }
        int rc2 = dt_run(cfg, &again, g2, o->steps, d, NULL);
        gen_destroy(g2);
        if (rc2 == 0) {
            printf("seed %" PRIu64 ": %s differed %s, agreed when run again\n", seed, what,
                   rerun ? "twice" : "once");
            rc = 0;
        }
        /* seq goes with d: the run that made it */
        dt_seq_free(&seq);
        seq = again;
    }
    if (rc == 0) {
        *steps_ok += seq.n;
    } else {
        char line[256] = "end";
        if (d->step < seq.n)
            dt_format_op(&seq.ops[d->step], line, sizeof(line));
        printf("seed %" PRIu64 ": diverged in %s at op %d of %d (%s)\n", seed, dt_aspect_name(d->aspect),
               d->step + 1, seq.n, line);
        char changed[256];
        if (cfg->profile && host_profile_changed(cfg->profile, cfg->scratch, changed, sizeof(changed)))
            printf("seed %" PRIu64 ": failed while the host changed under the tester (%s): "
                   "run it again on a quiet host\n",
                   seed, changed);
        if (o->shrink && rc == 1)
            dt_shrink(cfg, &seq, d);
        print_scenario(stdout, &seq, d, seed);
        print_difference(stdout, &seq, d);
        printf("\n");
        if (o->out_dir)
            save_scenario(o->out_dir, seed, &seq, d);
    }
    fflush(stdout);
    dt_seq_free(&seq);
    free(d);
    return rc != 0;
}

static int replay(const struct dt_config *cfg, const char *path)
{
    struct dt_seq seq = {0};
    char err[512];
    if (dt_seq_load(path, &seq, err, sizeof(err))) {
        fprintf(stderr, "vmsim-difftest: %s\n", err);
        return 2;
    }
    if (seq.recorded) { /* its lines run on no host child */
        fprintf(stderr, "vmsim-difftest: %s: a recorded scenario (vmsim follow -o): replay it with "
                "vmsim compare\n", path);
        dt_seq_free(&seq);
        return 2;
    }
    struct dt_diff *d = malloc(sizeof(*d));
    if (!d)
        return 2;
    int rc = dt_run(cfg, &seq, NULL, 0, d, stdout);
    /* The same rule as for seeds: what the host's timing can cause
     * must show again to count (vmsim itself gives the same every run). */
    for (int rerun = 0; rerun < 2 && rc == 1 && dt_may_be_host_timing(&seq, d); rerun++) {
        print_difference(stdout, &seq, d);
        rc = dt_run(cfg, &seq, NULL, 0, d, NULL);
        if (rc == 0)
            printf("agreed when run again\n");
    }
    if (rc)
        print_difference(stdout, &seq, d);
    printf("%d passed, %d failed\n", rc == 0, rc != 0);
    dt_seq_free(&seq);
    free(d);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o)) {
        fputs(usage, stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a dead host child shows as a failed read instead */
    struct dt_config cfg = {.check_every_step = 1, .verbose = o.verbose, .keep_going = o.keep_going};
    cfg.window = host_pick_window();
    if (!cfg.window) {
        fprintf(stderr, "vmsim-difftest: no free window in this process's address space\n");
        return 2;
    }
    const char *parent = o.scratch_parent ? o.scratch_parent : getenv("TMPDIR");
    char scratch[2048];
    snprintf(scratch, sizeof(scratch), "%s/vmsim-difftest.%d", parent && *parent ? parent : "/tmp", (int)getpid());
    if (mkdir(scratch, 0755) && errno != EEXIST) {
        fprintf(stderr, "vmsim-difftest: %s: %s\n", scratch, strerror(errno));
        return 2;
    }
    cfg.scratch = scratch;
    /* The one place the tester looks at this host: the files under test live
     * in the scratch folder, so its disk and filesystem are the ones read. */
    struct host_profile profile;
    host_profile_read(&profile, scratch);
    cfg.profile = &profile;
    default_mix(&cfg, &profile);
    if (!o.profile && !profile.hugetlb_as_vmsim)
        printf("MAP_HUGETLB left out: this host's huge page pool is not the empty 2 MiB one "
               "vmsim models (nr_hugepages %" PRIu64 ", nr_overcommit_hugepages %" PRIu64
               "; see --profile)\n",
               profile.nr_hugepages, profile.nr_overcommit_hugepages);
    int status;
    if (o.profile) {
        host_profile_print(&profile, stdout);
        status = 0;
    } else if (o.replay) {
        status = replay(&cfg, o.replay);
    } else {
        int passed = 0, failed = 0, steps_ok = 0;
        for (uint64_t seed = o.first; seed <= o.last; seed++) {
            if (run_seed(&cfg, &o, seed, &steps_ok))
                failed++;
            else
                passed++;
            if (seed == UINT64_MAX)
                break;
        }
        printf("(%d steps in agreeing sequences)\n", steps_ok);
        printf("%d passed, %d failed\n", passed, failed);
        status = failed ? 1 : 0;
    }
    dt_remove_scratch(scratch);
    return status;
}
