/*
 * scenario.c - scenarios as text: a sequence of operations, one per line
 * (the line format of ops.c), read from a file or from memory, printed
 * back the same way.
 *
 * Whatever the bytes, the reader gives the sequence or an error that names
 * the line and what is wrong with it: a NUL byte, a byte that is not
 * printable ASCII, a line longer than DT_MAX_LINE, an operation that does
 * not parse, or one the host child must not run (dt_op_unsafe). A scenario
 * whose first operation is set, arg, env or execve is a recorded one (a
 * real program's run, `vmsim follow -o`): nothing of it runs on the host,
 * its lines come in the order a recording has them, and it writes no
 * file (dt_op_unsafe_recorded). Comments
 * ('#' as the first character that is not blank) may hold any byte but NUL.
 */
#include "difftest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCENARIO_BYTES (16u << 20) /* a file larger than this is refused */
#define MAX_STEPS 100000               /* operations in one scenario */

void dt_seq_push(struct dt_seq *s, const struct dt_op *op)
{
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        struct dt_op *grown = realloc(s->ops, (size_t)cap * sizeof(*grown));
        if (!grown) {
            fprintf(stderr, "vmsim-difftest: out of memory\n");
            exit(2);
        }
        s->ops = grown;
        s->cap = cap;
    }
    s->ops[s->n++] = *op;
}

void dt_seq_free(struct dt_seq *s)
{
    free(s->ops);
    *s = (struct dt_seq){0};
}

void dt_seq_print(const struct dt_seq *s, FILE *out)
{
    char line[256];
    for (int i = 0; i < s->n; i++) {
        dt_format_op(&s->ops[i], line, sizeof(line));
        fprintf(out, "%s\n", line);
    }
}

/* Why the line's bytes cannot be an operation, or NULL: only printable
 * ASCII and tabs (a carriage return may end it; NULs are caught before). */
static const char *bad_byte(const char *line, size_t len, char *why, size_t whysize)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\r' && i + 1 == len)
            continue;
        else if (c != '\t' && (c < 0x20 || c > 0x7e))
            snprintf(why, whysize, "byte 0x%02x at column %zu is not printable ASCII", c, i + 1);
        else
            continue;
        return why;
    }
    return NULL;
}

/* One line (len bytes, no newline) into *op; 0, 1 for a blank or comment
 * line, or -1 with the reason in why. */
static int parse_line(const char *line, size_t len, struct dt_op *op, char *why, size_t whysize)
{
    size_t blank = 0;
    while (blank < len && (line[blank] == ' ' || line[blank] == '\t'))
        blank++;
    int comment = blank < len && line[blank] == '#';
    if (memchr(line, '\0', len))
        return snprintf(why, whysize, "a NUL byte at column %zu (a scenario is text)",
                        (size_t)((const char *)memchr(line, '\0', len) - line) + 1), -1;
    if (comment || blank == len || (blank + 1 == len && line[blank] == '\r'))
        return 1;
    if (len > DT_MAX_LINE)
        return snprintf(why, whysize, "line longer than %d bytes", DT_MAX_LINE), -1;
    if (bad_byte(line, len, why, whysize))
        return -1;
    char text[DT_MAX_LINE + 1];
    memcpy(text, line + blank, len - blank);
    text[len - blank] = '\0';
    if (dt_parse_op(text, op, why, whysize))
        return -1;
    return 0;
}

/* Does the first operation make the scenario a recorded one? */
static int starts_recording(const struct dt_op *op)
{
    return op->kind == DT_SET || op->kind == DT_ARG || op->kind == DT_ENV || op->kind == DT_EXECVE;
}

/* Whether op may come where it comes, in the scenario read so far (s);
 * NULL, or why not. */
static const char *misplaced(const struct dt_seq *s, const struct dt_op *op)
{
    if (!s->recorded) {
        const char *unsafe = dt_op_unsafe(op);
        return unsafe ? unsafe : NULL;
    }
    const struct dt_op *prev = s->n ? &s->ops[s->n - 1] : NULL;
    int prev_kind = prev ? prev->kind : -1;
    if (op->kind == DT_SET && prev && prev_kind != DT_SET)
        return "set comes before every other line (the machine is made first)";
    if (op->kind == DT_ARG_MORE && prev_kind != DT_ARG && prev_kind != DT_ARG_MORE)
        return "arg+ continues the arg line just above it, and there is none";
    if (op->kind == DT_MAPS && (!prev || prev_kind == DT_SET || prev_kind == DT_ARG ||
                                prev_kind == DT_ARG_MORE || prev_kind == DT_ENV))
        return "maps lines follow the operation after which the maps were read";
    if ((prev_kind == DT_ARG || prev_kind == DT_ARG_MORE || prev_kind == DT_ENV) &&
        op->kind != DT_ARG && op->kind != DT_ARG_MORE && op->kind != DT_ENV && op->kind != DT_EXECVE)
        return "arg and env lines are followed by their execve";
    return dt_op_unsafe_recorded(op);
}

int dt_scenario_parse(const char *name, const char *text, size_t len, struct dt_seq *s, int **lines,
                      char *err, size_t errsize)
{
    int *numbers = NULL, lineno = 0, rc = 0;
    size_t cap = 0;
    char why[256];
    *s = (struct dt_seq){0};
    for (size_t at = 0; at < len && rc == 0;) {
        const char *line = text + at, *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + (nl != NULL);
        lineno++;
        struct dt_op op;
        int got = parse_line(line, n, &op, why, sizeof(why));
        if (got == 0 && s->n == MAX_STEPS)
            got = -1, snprintf(why, sizeof(why), "more than %d operations", MAX_STEPS);
        if (got == 0 && s->n == 0)
            s->recorded = starts_recording(&op);
        const char *wrong = got == 0 ? misplaced(s, &op) : NULL;
        if (wrong)
            got = -1, snprintf(why, sizeof(why), "refused: %s", wrong);
        if (got < 0) {
            snprintf(err, errsize, "%s:%d: %s", name, lineno, why);
            rc = -1;
        } else if (got == 0) {
            if (lines && (size_t)s->n == cap) {
                cap = cap ? cap * 2 : 64;
                int *grown = realloc(numbers, cap * sizeof(*grown));
                if (!grown) {
                    snprintf(err, errsize, "%s: out of memory", name);
                    rc = -1;
                    break;
                }
                numbers = grown;
            }
            if (lines)
                numbers[s->n] = lineno;
            dt_seq_push(s, &op);
        }
    }
    int last = s->n ? s->ops[s->n - 1].kind : -1;
    if (rc == 0 && (last == DT_ARG || last == DT_ARG_MORE || last == DT_ENV)) {
        snprintf(err, errsize, "%s:%d: refused: arg and env lines are followed by their execve, and the "
                 "scenario ends first", name, lines ? numbers[s->n - 1] : lineno);
        rc = -1;
    }
    if (rc) {
        dt_seq_free(s); /* a scenario that does not load leaves nothing to free */
        free(numbers);
        numbers = NULL;
    }
    if (lines)
        *lines = numbers;
    return rc;
}

/* The whole file, NUL-terminated, in *text; its length, or -1. */
static long read_whole(const char *path, char **text, char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return snprintf(err, errsize, "%s: %s", path, strerror(errno)), -1;
    char *buf = malloc(MAX_SCENARIO_BYTES + 1);
    size_t len = buf ? fread(buf, 1, MAX_SCENARIO_BYTES + 1, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed || len > MAX_SCENARIO_BYTES) {
        snprintf(err, errsize, "%s: %s", path,
                 !buf ? "out of memory" : len > MAX_SCENARIO_BYTES ? "larger than 16 MiB" : "cannot be read");
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    *text = buf;
    return (long)len;
}

int dt_scenario_load(const char *path, struct dt_seq *s, int **lines, char *err, size_t errsize)
{
    char *text = NULL;
    long len = read_whole(path, &text, err, errsize);
    *s = (struct dt_seq){0};
    if (lines)
        *lines = NULL;
    if (len < 0)
        return -1;
    int rc = dt_scenario_parse(path, text, (size_t)len, s, lines, err, errsize);
    free(text);
    return rc;
}

int dt_seq_load(const char *path, struct dt_seq *s, char *err, size_t errsize)
{
    return dt_scenario_load(path, s, NULL, err, errsize);
}
