/*
 * Fuzz target: the scenario reader (difftest/scenario.c, with ops.c's line
 * parser and safety rules, live and recorded, and settings.c for set lines). Whatever the bytes, it gives a sequence or an
 * error of the form "NAME:LINE: why" with LINE a line of the input, never a
 * crash, and leaves nothing allocated on an error. A sequence it gives
 * prints back (dt_format_op) to lines no longer than DT_MAX_LINE that read
 * back to the same operations, so that a scenario the tester prints
 * (vmsim-difftest's minimal scenarios) can always be replayed.
 */
#include "difftest.h"

#include <stdlib.h>
#include <string.h>

static int same_op(const struct dt_op *a, const struct dt_op *b)
{
    return a->kind == b->kind && a->abs == b->abs && a->addr == b->addr && a->len == b->len &&
           a->off == b->off && a->prot == b->prot && a->flags == b->flags && a->fd == b->fd &&
           a->name == b->name && a->pattern == b->pattern && a->len2 == b->len2 &&
           a->addr2 == b->addr2 && a->abs2 == b->abs2 && a->proc == b->proc && a->expect == b->expect &&
           a->expect_value == b->expect_value && strcmp(a->str, b->str) == 0;
}

static size_t count_lines(const uint8_t *data, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n + (size && data[size - 1] != '\n');
}

static void check_error(const char *err, const struct dt_seq *seq, const int *lines, size_t nlines)
{
    int line = 0;
    if (sscanf(err, "fuzz:%d:", &line) != 1 || line < 1 || (size_t)line > nlines) {
        fprintf(stderr, "error without a line of the input (%zu lines): %s\n", nlines, err);
        abort();
    }
    if (seq->n || seq->ops || lines)
        abort(); /* an error leaves nothing behind */
}

static void check_round_trip(const struct dt_seq *seq, const int *lines, size_t nlines)
{
    char text[1024], err[512];
    for (int i = 0; i < seq->n; i++) {
        if (lines[i] < 1 || (size_t)lines[i] > nlines || (i && lines[i] <= lines[i - 1]))
            abort();
        dt_format_op(&seq->ops[i], text, sizeof(text));
        struct dt_op again;
        if (strlen(text) > DT_MAX_LINE) {
            fprintf(stderr, "printed line longer than %d bytes: %s\n", DT_MAX_LINE, text);
            abort();
        }
        if (dt_parse_op(text, &again, err, sizeof(err)) || !same_op(&seq->ops[i], &again)) {
            fprintf(stderr, "line %d prints as '%s', which reads back %s: %s\n", lines[i], text,
                    "differently", err);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dt_seq seq;
    int *lines = NULL;
    char err[512] = "";
    size_t nlines = count_lines(data, size);
    if (dt_scenario_parse("fuzz", (const char *)data, size, &seq, &lines, err, sizeof(err)) == 0) {
        check_round_trip(&seq, lines, nlines);
        dt_seq_free(&seq);
        free(lines);
    } else {
        check_error(err, &seq, lines, nlines);
    }
    return 0;
}
