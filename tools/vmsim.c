/*
 * vmsim: the command-line tool. Parses the global options (--help,
 * --version), then hands the rest of the command line to a subcommand.
 */
#include "cli.h"
#include "vmsim.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"demo", demo_main, "map a file with mmap and follow its page, step by step"},
    {"run", run_main, "run a Lua scenario (SCRIPT.lua) and tell every call and event"},
    {"follow", follow_main, "run a program and repeat its memory calls on vmsim, compared"},
    {"compare", compare_main, "run a scenario on vmsim and on this kernel, side by side"},
    {"shell", shell_main, "an interactive Lua session with a machine ready"},
    {"record", record_main, "run a program under Valgrind and write its memory trace (.vmt)"},
    {"replay", replay_main, "run a memory trace on a machine: TLBs, faults, regions, RAM curve"},
    {"convert", convert_main, "turn lackey or ChampSim traces into .vmt, and back into text"},
    {"sweep", sweep_main, "replay traces over a grid of configs: jobs for GNU parallel or Slurm, a CSV"},
};

#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

int cli_use_color(FILE *out, int no_color_flag)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if (no_color_flag || (no_color && *no_color))
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(out));
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: vmsim <command> [options]\n"
                 "       vmsim --help | --version\n\n"
                 "vmsim rebuilds Linux's memory mapping (mmap, VMAs, x86-64 page tables,\n"
                 "TLBs, page faults) in user space, so that every step can be watched.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\nOptions:\n"
                 "  -h, --help     show this help and exit\n"
                 "  -V, --version  print the version and exit\n\n"
                 "Run 'vmsim <command> --help' for a command's own options.\n");
}

static const struct subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
        if (strcmp(subcommands[i].name, name) == 0)
            return &subcommands[i];
    return NULL;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "vmsim: %s '%s'\nTry 'vmsim --help'.\n", what, arg);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "vmsim: missing command\n\n");
        usage(stderr);
        return CLI_USAGE;
    }
    const char *first = argv[1];
    int help = strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0;
    int version = strcmp(first, "-V") == 0 || strcmp(first, "--version") == 0;
    if ((help || version) && argc > 2) {
        fprintf(stderr, "vmsim: %s takes no argument, not '%s'\nTry 'vmsim --help'.\n", first,
                argv[2]);
        return CLI_USAGE;
    }
    if (help) {
        usage(stdout);
        return CLI_OK;
    }
    if (version) {
        printf("vmsim %s\n", VMSIM_VERSION);
        return CLI_OK;
    }
    if (first[0] == '-')
        return usage_error("unknown option", first);
    const struct subcommand *cmd = find_subcommand(first);
    if (!cmd)
        return usage_error("unknown command", first);
    return cmd->run(argc - 1, argv + 1);
}
