/*
 * sweep.c - `vmsim sweep GRID -o DIR`: the cross product of a grid of
 * machine configs and traces (sweep_grid.h) as a job list, one complete
 * `vmsim replay --json` command line per job, and the scripts that run it:
 * GNU parallel on this machine or over ssh on many, a Slurm array on a
 * cluster. Every value is checked here with the parsers the replay will
 * use (replay_config_option) and every job's machine with
 * vms_config_check, so that a job fails only for what a replay alone can
 * find. `vmsim sweep --collect DIR` is sweep_collect.c.
 */
#include "cli.h"
#include "replay.h"
#include "sweep.h"
#include "sweep_grid.h"
#include "vmt.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GRID_MAX_BYTES (1 << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsim sweep GRID -o DIR\n"
            "       vmsim sweep --collect DIR [-o CSV] [--plot SVG --x PARAM --y METRIC\n"
            "                   [--series PARAM] [--where PARAM=VALUE]... [--log-y]]\n\n"
            "Expands GRID, a text file of parameters, one a line (name = v1, v2, ...; # for\n"
            "comments), into its cross product of `vmsim replay --json` jobs, and writes in\n"
            "DIR: jobs.txt (one command line a job, each writing results/ID.jsonl),\n"
            "run-parallel.sh (runs them with GNU parallel; its arguments go to parallel:\n"
            "-j N, -S host1,host2) and run-slurm.sbatch (a Slurm array, a task a job).\n"
            "Parameters: trace (the .vmt files, required), dtlb, itlb, stlb, pde_cache,\n"
            "pdpte_cache, pml4e_cache (ENTRIES:WAYS), levels, ncpus, phys or ram, swap\n"
            "(sizes: 64M), and any field of the machine's config (pcid, dtlb.entries,\n"
            "zero_page, ...). docs/traces.md, \"Sweeps\", has the details.\n\n"
            "  -o DIR            the sweep's folder (made if missing)\n"
            "  --collect DIR     merge DIR/results/*.jsonl into one CSV (standard output,\n"
            "                    or -o CSV), a row per job, parameters then metrics; name\n"
            "                    the jobs missing or malformed (exit 1)\n"
            "  --plot SVG        draw METRIC (--y) against PARAM (--x), a line per value of\n"
            "                    --series, over the rows --where selects\n"
            "  --log-y           a logarithmic y axis\n"
            "  -h, --help        show this help\n");
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vmsim sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'vmsim sweep --help'.\n", stderr);
    return CLI_USAGE;
}

/* An error in the grid or the folder: also exit status 2. */
static int refuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vmsim sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

int sweep_id_width(unsigned long njobs)
{
    int w = 1;
    for (; njobs >= 10; njobs /= 10)
        w++;
    return w;
}

void sweep_format_id(char *buf, size_t len, unsigned long id, int width)
{
    char digits[24];
    size_t n = (size_t)snprintf(digits, sizeof(digits), "%lu", id), at = 0;
    for (size_t i = n; i < (size_t)width && at + 1 < len; i++)
        buf[at++] = '0';
    for (size_t i = 0; i < n && at + 1 < len; i++)
        buf[at++] = digits[i];
    if (len)
        buf[at] = '\0';
}

/* ---- shell quoting ---- */

/* s as one word of a POSIX shell: unquoted when every byte is plainly
 * safe, else in single quotes (a ' inside written '\''). */
static void shell_word(FILE *out, const char *s)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "_./:=,+@%-";
    if (*s && strspn(s, safe) == strlen(s)) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    fputc('\'', out);
}

/* ---- the grid's parameters as replay options ---- */

struct option_map {
    const char *param;  /* the grid's name */
    const char *option; /* replay's */
};

static const struct option_map option_maps[] = {
    {"dtlb", "--dtlb"},
    {"itlb", "--itlb"},
    {"stlb", "--stlb"},
    {"pde_cache", "--pde-cache"},
    {"pdpte_cache", "--pdpte-cache"},
    {"pml4e_cache", "--pml4e-cache"},
    {"levels", "--levels"},
    {"ncpus", "--ncpus"},
    {"phys", "--phys"},
    {"ram", "--phys"},
    {"swap", "--swap"},
};

#define NMAPS (sizeof(option_maps) / sizeof(option_maps[0]))

/* What a param becomes on a job's command line. */
struct param_use {
    const char *option; /* "--dtlb", ..., "--set"; NULL for the trace */
    char **args;        /* the option's argument for each value */
    char **traces;      /* the trace: absolute paths, for each value */
};

struct sweep {
    const char *grid_path;
    const char *dir;
    char *absdir;
    char *vmsim;        /* this program, by absolute path */
    struct grid g;
    struct param_use *uses;
    uint64_t njobs;
};

static const char *map_option(const char *param)
{
    for (size_t i = 0; i < NMAPS; i++)
        if (!strcmp(option_maps[i].param, param))
            return option_maps[i].option;
    return NULL;
}

/* "NAME=VALUE" for --set; NULL when out of memory. */
static char *assignment(const char *name, const char *value)
{
    char *s;
    return asprintf(&s, "%s=%s", name, value) < 0 ? NULL : s;
}

/* The folder of the grid file, for traces named relative to it. */
static char *grid_folder(const char *grid_path)
{
    char *copy = strdup(grid_path), *slash = copy ? strrchr(copy, '/') : NULL;
    if (!copy)
        return NULL;
    if (!slash) {
        free(copy);
        return strdup(".");
    }
    if (slash == copy)
        slash[1] = '\0';
    else
        *slash = '\0';
    return copy;
}

/* A trace: resolved (relative to the grid's folder), a readable .vmt. */
static int check_trace(struct sweep *s, const struct grid_param *p, const char *value, char **abs)
{
    char *folder = grid_folder(s->grid_path), *joined = NULL;
    if (!folder)
        return refuse("out of memory");
    if (value[0] == '/')
        joined = strdup(value);
    else if (asprintf(&joined, "%s/%s", folder, value) < 0)
        joined = NULL;
    free(folder);
    if (!joined)
        return refuse("out of memory");
    *abs = realpath(joined, NULL);
    int rc = 0;
    if (!*abs)
        rc = refuse("%s:%u: trace '%s': %s (%s)", s->grid_path, p->line, value, strerror(errno),
                    joined);
    free(joined);
    if (rc)
        return rc;
    struct stat st;
    if (stat(*abs, &st) == 0 && S_ISDIR(st.st_mode))
        return refuse("%s:%u: trace '%s': a folder, not a .vmt trace", s->grid_path, p->line, value);
    FILE *f = fopen(*abs, "rb");
    char err[256];
    struct vmt_reader *rd = f ? vmt_reader_open(f, err, sizeof(err)) : NULL;
    if (!f)
        rc = refuse("%s:%u: trace '%s': %s", s->grid_path, p->line, value, strerror(errno));
    else if (!rd)
        rc = refuse("%s:%u: trace '%s': not a .vmt trace: %s", s->grid_path, p->line, value, err);
    vmt_reader_close(rd);
    if (f)
        fclose(f);
    return rc;
}

/* The list of parameter names, for a message. */
static void known_params(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "trace");
    for (size_t i = 0; i < NMAPS && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, ", %s", option_maps[i].param);
}

/* One param: how jobs pass it, each value checked alone. */
static int use_param(struct sweep *s, const struct grid_param *p, struct param_use *u)
{
    u->option = map_option(p->name);
    int is_trace = !strcmp(p->name, "trace");
    char why[2048];
    if (!u->option && !is_trace) {
        /* any field of the config: "0" fits every field, so a refusal names an unknown field */
        struct vms_config c;
        vms_config_init(&c);
        char *probe = assignment(p->name, "0");
        int rc = probe ? replay_config_option(&c, "--set", probe, why, sizeof(why)) : -1;
        free(probe);
        if (rc) {
            char names[512];
            known_params(names, sizeof(names));
            return refuse("%s:%u: unknown parameter '%s': the parameters are %s, and the fields "
                          "of the machine's config (%s)", s->grid_path, p->line, p->name, names,
                          why + strlen("--set "));
        }
        u->option = "--set";
    }
    char ***list = is_trace ? &u->traces : &u->args;
    if (!(*list = calloc(p->nvalues, sizeof(char *))))
        return refuse("out of memory");
    for (size_t k = 0; k < p->nvalues; k++) {
        const char *v = p->values[k];
        if (is_trace) {
            int rc = check_trace(s, p, v, &u->traces[k]);
            if (rc)
                return rc;
            continue;
        }
        u->args[k] = !strcmp(u->option, "--set") ? assignment(p->name, v) : strdup(v);
        if (!u->args[k])
            return refuse("out of memory");
        struct vmt_replay_opts ro;
        vmt_replay_opts_init(&ro);
        if (replay_config_option(&ro.config, u->option, u->args[k], why, sizeof(why)))
            return refuse("%s:%u: %s = %s: %s", s->grid_path, p->line, p->name, v, why);
    }
    return 0;
}

/* Two params that set the same thing (ram and phys) would make the later
 * one win silently. */
static int check_clashes(const struct sweep *s)
{
    for (size_t i = 0; i < s->g.nparams; i++)
        for (size_t k = 0; k < i; k++) {
            const char *a = s->uses[i].option, *b = s->uses[k].option;
            if (a && b && strcmp(a, "--set") && !strcmp(a, b))
                return refuse("%s:%u: '%s' sets what '%s' (line %u) sets: keep one", s->grid_path,
                              s->g.params[i].line, s->g.params[i].name, s->g.params[k].name,
                              s->g.params[k].line);
        }
    return 0;
}

/* "name = value, name = value" of a job, for messages. */
static void describe_job(const struct sweep *s, const size_t *choice, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->g.nparams && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s = %s", i ? ", " : "", s->g.params[i].name,
                              s->g.params[i].values[choice[i]]);
}

/* Each job's machine, built as the replay will build it, must be one
 * vms_machine_create accepts. */
static int check_jobs(const struct sweep *s)
{
    size_t choice[GRID_MAX_PARAMS];
    char why[2048], what[1024];
    for (uint64_t j = 0; j < s->njobs; j++) {
        grid_job(&s->g, j, choice);
        struct vmt_replay_opts ro;
        vmt_replay_opts_init(&ro);
        ro.config.root = "/";
        for (size_t i = 0; i < s->g.nparams; i++)
            if (s->uses[i].args)
                replay_config_option(&ro.config, s->uses[i].option, s->uses[i].args[choice[i]], why,
                                     sizeof(why));
        if (vms_config_check(&ro.config, why, sizeof(why))) {
            describe_job(s, choice, what, sizeof(what));
            return refuse("%s: job %" PRIu64 " (%s): the machine's config: %s", s->grid_path, j + 1,
                          what, why);
        }
    }
    return 0;
}

static int read_grid(struct sweep *s)
{
    FILE *f = fopen(s->grid_path, "r");
    if (!f)
        return refuse("%s: %s", s->grid_path, strerror(errno));
    char *text = malloc(GRID_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, GRID_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    int rc = 0;
    char err[1024];
    if (!text)
        rc = refuse("out of memory");
    else if (bad)
        rc = refuse("%s: cannot read it", s->grid_path);
    else if (len > GRID_MAX_BYTES)
        rc = refuse("%s: larger than %d bytes: not a grid", s->grid_path, GRID_MAX_BYTES);
    else if (grid_parse(text, len, s->grid_path, &s->g, err, sizeof(err)))
        rc = refuse("%s", err);
    free(text);
    return rc;
}

static int plan(struct sweep *s)
{
    int rc = read_grid(s);
    if (rc)
        return rc;
    const struct grid_param *t = grid_find(&s->g, "trace");
    if (!t)
        return refuse("%s: no 'trace = FILE.vmt, ...' line: a sweep replays traces",
                      s->grid_path);
    s->njobs = grid_jobs(&s->g, SWEEP_MAX_JOBS);
    if (s->njobs == UINT64_MAX)
        return refuse("%s: too many jobs: the grid's cross product passes %d", s->grid_path,
                      SWEEP_MAX_JOBS);
    if (!(s->uses = calloc(s->g.nparams, sizeof(*s->uses))))
        return refuse("out of memory");
    for (size_t i = 0; i < s->g.nparams; i++)
        if ((rc = use_param(s, &s->g.params[i], &s->uses[i])))
            return rc;
    if ((rc = check_clashes(s)))
        return rc;
    return check_jobs(s);
}

/* ---- the folder ---- */

static int count_results(const char *results)
{
    DIR *d = opendir(results);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if ((len > 6 && !strcmp(e->d_name + len - 6, ".jsonl")) ||
            (len > 5 && !strcmp(e->d_name + len - 5, ".part")))
            n++;
    }
    closedir(d);
    return n;
}

static int make_folder(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    return -1;
}

static int prepare_folder(struct sweep *s)
{
    if (make_folder(s->dir))
        return refuse("cannot make the folder %s: %s", s->dir, strerror(errno));
    if (!(s->absdir = realpath(s->dir, NULL)))
        return refuse("%s: %s", s->dir, strerror(errno));
    if (access(s->absdir, W_OK) != 0)
        return refuse("cannot write in %s: %s", s->dir, strerror(errno));
    char *results;
    if (asprintf(&results, "%s/results", s->absdir) < 0)
        return refuse("out of memory");
    int n = count_results(results), rc = 0;
    if (n)
        rc = refuse("%s/results holds %d results of an earlier sweep: remove them, or choose "
                    "another folder", s->dir, n);
    else if (make_folder(results))
        rc = refuse("cannot make the folder %s: %s", results, strerror(errno));
    free(results);
    return rc;
}

/* ---- the files ---- */

static FILE *create(const struct sweep *s, const char *name, int executable, char **path)
{
    if (asprintf(path, "%s/%s", s->absdir, name) < 0) {
        *path = NULL;
        return NULL;
    }
    FILE *f = fopen(*path, "w");
    if (f && executable)
        fchmod(fileno(f), 0755);
    return f;
}

/* Closes f (which may be NULL: it could not be made): 0, or exit status 2
 * with the file named. */
static int finish(FILE *f, char *path)
{
    int err = f ? 0 : errno;
    if (f) {
        int bad = ferror(f);
        if (fclose(f) != 0 || bad)
            err = errno ? errno : EIO;
    }
    int rc = err ? refuse("cannot write %s: %s", path ? path : "a file", strerror(err)) : 0;
    free(path);
    return rc;
}

/* Writes shell_word("NAME=VALUE" or the path) of a formatted string: 0, or -1
 * out of memory. */
static int write_word(FILE *f, const char *fmt, const char *a, const char *b)
{
    char *arg;
    if (asprintf(&arg, fmt, a, b) < 0)
        return -1;
    shell_word(f, arg);
    free(arg);
    return 0;
}

static int write_job(const struct sweep *s, FILE *f, uint64_t j, int width)
{
    size_t choice[GRID_MAX_PARAMS];
    grid_job(&s->g, j, choice);
    char id[32];
    sweep_format_id(id, sizeof(id), (unsigned long)j + 1, width);
    shell_word(f, s->vmsim);
    fprintf(f, " replay --json -q --no-regions --no-lru --label job=%s", id);
    for (size_t i = 0; i < s->g.nparams; i++) {
        fputs(" --label ", f);
        if (write_word(f, "%s=%s", s->g.params[i].name, s->g.params[i].values[choice[i]]))
            return -1;
    }
    for (size_t i = 0; i < s->g.nparams; i++)
        if (s->uses[i].args) {
            fprintf(f, " %s ", s->uses[i].option);
            shell_word(f, s->uses[i].args[choice[i]]);
        }
    fputs(" -o ", f);
    if (write_word(f, "%s/results/%s.jsonl", s->absdir, id))
        return -1;
    for (size_t i = 0; i < s->g.nparams; i++)
        if (s->uses[i].traces) {
            fputc(' ', f);
            shell_word(f, s->uses[i].traces[choice[i]]);
        }
    fputc('\n', f);
    return 0;
}

static int write_jobs(const struct sweep *s)
{
    char *path;
    FILE *f = create(s, "jobs.txt", 0, &path);
    int width = sweep_id_width((unsigned long)s->njobs);
    for (uint64_t j = 0; f && j < s->njobs; j++)
        if (write_job(s, f, j, width)) {
            fclose(f);
            free(path);
            return refuse("out of memory");
        }
    return finish(f, path);
}

static int write_grid_copy(const struct sweep *s)
{
    char *path;
    FILE *f = create(s, "grid.txt", 0, &path);
    if (f) {
        fprintf(f, "# The grid of this sweep, as vmsim sweep read it from %s:\n# %" PRIu64
                   " jobs, the first parameter changing slowest.\n", s->grid_path, s->njobs);
        grid_write(f, &s->g);
    }
    return finish(f, path);
}

static int write_parallel(const struct sweep *s)
{
    char *path;
    FILE *f = create(s, "run-parallel.sh", 1, &path);
    if (!f)
        return finish(f, path);
    fprintf(f, "#!/bin/sh\n"
               "# The %" PRIu64 " jobs of a vmsim sweep (jobs.txt: one vmsim replay command a line,\n"
               "# each writing results/ID.jsonl) run by GNU parallel: on this machine, or\n"
               "# with -S host1,host2 (--sshlogin) on machines that see the same paths.\n"
               "# The arguments go to parallel: -j 4 (jobs at once), -S ..., --resume-failed.\n"
               "# The first failed job stops the run (--halt now,fail=1); joblog.txt has\n"
               "# every job's exit status. Then: vmsim sweep --collect DIR.\n"
               "set -u\n"
               "dir=",
            s->njobs);
    shell_word(f, s->absdir);
    fprintf(f, "\n"
               "if ! command -v parallel >/dev/null 2>&1; then\n"
               "    echo \"run-parallel.sh: GNU parallel is not installed (Debian: apt-get install parallel)\" >&2\n"
               "    exit 127\n"
               "fi\n"
               "parallel --will-cite --joblog \"$dir/joblog.txt\" --halt now,fail=1 \"$@\" :::: \"$dir/jobs.txt\"\n"
               "status=$?\n"
               "if [ \"$status\" -ne 0 ]; then\n"
               "    echo \"run-parallel.sh: parallel exited $status; the jobs that failed or were stopped:\" >&2\n"
               "    awk -F '\\t' 'NR > 1 && ($7 != 0 || $8 != 0) { printf \"  job %%s: exit %%s, signal %%s\\n\", $1, $7, $8 }' \"$dir/joblog.txt\" >&2\n"
               "    exit \"$status\"\n"
               "fi\n"
               "echo \"run-parallel.sh: %" PRIu64 " jobs done; collect them with: vmsim sweep --collect $dir\"\n",
            s->njobs);
    return finish(f, path);
}

static int write_slurm(const struct sweep *s)
{
    char *path;
    FILE *f = create(s, "run-slurm.sbatch", 1, &path);
    if (!f)
        return finish(f, path);
    fprintf(f, "#!/bin/sh\n"
               "#SBATCH --job-name=vmsim-sweep\n"
               "#SBATCH --array=1-%" PRIu64 "\n"
               "#SBATCH --ntasks=1\n"
               "#SBATCH --cpus-per-task=1\n"
               "# A Slurm array of the %" PRIu64 " jobs of a vmsim sweep: task N runs line N of\n"
               "# jobs.txt, which writes results/ID.jsonl (ID: N padded with zeros).\n"
               "# Submit with: sbatch run-slurm.sbatch (add --partition, --time, ... there);\n"
               "# the compute nodes must see the same paths. Slurm refuses arrays larger\n"
               "# than its MaxArraySize (1001 unless the cluster says otherwise).\n"
               "# Then: vmsim sweep --collect DIR.\n"
               "set -u\n"
               "jobs=",
            s->njobs, s->njobs);
    if (write_word(f, "%s/%s", s->absdir, "jobs.txt")) {
        fclose(f);
        free(path);
        return refuse("out of memory");
    }
    fprintf(f, "\n"
               "task=${SLURM_ARRAY_TASK_ID:-}\n"
               "case $task in\n"
               "'' | *[!0-9]*)\n"
               "    echo \"run-slurm.sbatch: SLURM_ARRAY_TASK_ID is '$task', not a job number (submit with sbatch)\" >&2\n"
               "    exit 2 ;;\n"
               "esac\n"
               "if [ \"$task\" -lt 1 ] || [ \"$task\" -gt %" PRIu64 " ]; then\n"
               "    echo \"run-slurm.sbatch: no job $task: the jobs are 1-%" PRIu64 "\" >&2\n"
               "    exit 2\n"
               "fi\n"
               "line=$(sed -n \"${task}p\" \"$jobs\")\n"
               "exec /bin/sh -c \"$line\"\n",
            s->njobs, s->njobs);
    return finish(f, path);
}

static void free_sweep(struct sweep *s)
{
    for (size_t i = 0; s->uses && i < s->g.nparams; i++) {
        for (size_t k = 0; k < s->g.params[i].nvalues; k++) {
            if (s->uses[i].args)
                free(s->uses[i].args[k]);
            if (s->uses[i].traces)
                free(s->uses[i].traces[k]);
        }
        free(s->uses[i].args);
        free(s->uses[i].traces);
    }
    free(s->uses);
    grid_free(&s->g);
    free(s->absdir);
    free(s->vmsim);
}

static int make_sweep(const char *grid, const char *dir)
{
    struct sweep s = {.grid_path = grid, .dir = dir};
    int rc = plan(&s);
    if (!rc && !(s.vmsim = realpath("/proc/self/exe", NULL)))
        rc = refuse("cannot find this program's path: %s", strerror(errno));
    if (!rc)
        rc = prepare_folder(&s);
    if (!rc)
        rc = write_grid_copy(&s);
    if (!rc)
        rc = write_jobs(&s);
    if (!rc)
        rc = write_parallel(&s);
    if (!rc)
        rc = write_slurm(&s);
    if (!rc) {
        printf("%" PRIu64 " jobs in %s/jobs.txt. Run them with GNU parallel:\n  sh ", s.njobs,
               s.absdir);
        char *p;
        if (asprintf(&p, "%s/run-parallel.sh", s.absdir) >= 0) {
            shell_word(stdout, p);
            free(p);
        }
        printf(" [-j N] [-S host1,host2]\nor on Slurm: sbatch ");
        if (asprintf(&p, "%s/run-slurm.sbatch", s.absdir) >= 0) {
            shell_word(stdout, p);
            free(p);
        }
        printf("\nthen: vmsim sweep --collect ");
        shell_word(stdout, s.absdir);
        printf(" -o sweep.csv\n");
    }
    free_sweep(&s);
    return rc;
}

/* ---- the command line ---- */

struct args {
    const char *grid, *out;
    struct sweep_collect_opts c;
    int collect;
};

static int takes_value(const char *a)
{
    static const char *const with[] = {"-o", "--collect", "--plot", "--x", "--y", "--series",
                                       "--where"};
    for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++)
        if (!strcmp(a, with[i]))
            return 1;
    return 0;
}

static int parse_args(struct args *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(o, "--log-y")) {
            a->c.log_y = 1;
            continue;
        }
        if (takes_value(o) && i + 1 == argc)
            return usage_error("missing value for '%s'", o);
        const char *v = takes_value(o) ? argv[++i] : NULL;
        if (!strcmp(o, "-o")) a->out = v;
        else if (!strcmp(o, "--collect")) a->collect = 1, a->c.dir = v;
        else if (!strcmp(o, "--plot")) a->c.plot = v;
        else if (!strcmp(o, "--x")) a->c.x = v;
        else if (!strcmp(o, "--y")) a->c.y = v;
        else if (!strcmp(o, "--series")) a->c.series = v;
        else if (!strcmp(o, "--where")) {
            if (a->c.nwhere == SWEEP_MAX_WHERE || !strchr(v, '='))
                return usage_error("bad --where '%s': PARAM=VALUE, at most %d", v, SWEEP_MAX_WHERE);
            a->c.where[a->c.nwhere++] = v;
        } else if (o[0] == '-' && o[1])
            return usage_error("unknown option '%s'", o);
        else if (!a->grid)
            a->grid = o;
        else
            return usage_error("one grid only, not '%s'", o);
    }
    if (a->collect) {
        if (a->grid)
            return usage_error("--collect takes no grid ('%s')", a->grid);
        int plotting = a->c.plot || a->c.x || a->c.y || a->c.series || a->c.nwhere || a->c.log_y;
        if (plotting && !(a->c.plot && a->c.x && a->c.y))
            return usage_error("a plot needs --plot SVG, --x PARAM and --y METRIC");
        a->c.csv = a->out;
        return 0;
    }
    if (a->c.plot || a->c.x || a->c.y || a->c.series || a->c.nwhere || a->c.log_y)
        return usage_error("--plot, --x, --y, --series, --where and --log-y go with --collect");
    if (!a->grid)
        return usage_error("missing the GRID file");
    if (!a->out)
        return usage_error("missing -o DIR, the sweep's folder");
    return 0;
}

int sweep_main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(&a, argc, argv);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    return a.collect ? sweep_collect(&a.c) : make_sweep(a.grid, a.out);
}
