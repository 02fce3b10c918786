/*
 * sweep_grid.c - the grid file of `vmsim sweep` read into names and value
 * lists (sweep_grid.h has the rules), written back, and its cross product
 * counted and numbered. Every refusal names the line.
 */
#include "sweep_grid.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    const char *name; /* the grid's, for messages */
    unsigned line;
    char *err;
    size_t errlen;
};

static int refuse(struct reader *r, const char *fmt, ...)
{
    int n = snprintf(r->err, r->errlen, "%s:%u: ", r->name, r->line);
    if (n >= 0 && (size_t)n < r->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_control(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

static int name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (!first && ((c >= '0' && c <= '9') || c == '_' || c == '.'));
}

static void free_param(struct grid_param *p)
{
    for (size_t i = 0; i < p->nvalues; i++)
        free(p->values[i]);
    free(p->values);
    free(p->name);
}

void grid_free(struct grid *g)
{
    for (size_t i = 0; i < g->nparams; i++)
        free_param(&g->params[i]);
    free(g->params);
    g->params = NULL;
    g->nparams = 0;
}

const struct grid_param *grid_find(const struct grid *g, const char *name)
{
    for (size_t i = 0; i < g->nparams; i++)
        if (strcmp(g->params[i].name, name) == 0)
            return &g->params[i];
    return NULL;
}

/* One value from *pp (blanks before it skipped) into buf; *pp ends after
 * it and the blanks after it. 0 or -1. */
static int read_value(struct reader *r, const char **pp, const char *end, char *buf)
{
    const char *p = *pp;
    size_t n = 0;
    while (p < end && is_blank(*p))
        p++;
    if (p < end && *p == '"') {
        for (p++;; p++) {
            if (p == end)
                return refuse(r, "a quoted value without its closing quote");
            if (*p == '"')
                break;
            if (*p == '\\') {
                if (p + 1 == end || (p[1] != '"' && p[1] != '\\'))
                    return refuse(r, "in a quoted value, '\\' stands before '\"' or '\\' only");
                p++;
            }
            if (is_control(*p))
                return refuse(r, "a control character (0x%02x) in a value", (unsigned char)*p);
            if (n == GRID_MAX_VALUE)
                return refuse(r, "a value longer than %d bytes", GRID_MAX_VALUE);
            buf[n++] = *p;
        }
        p++;
        while (p < end && is_blank(*p))
            p++;
        if (p < end && *p != ',')
            return refuse(r, "'%c' after a quoted value: a ',' or the line's end expected", *p);
    } else {
        const char *start = p;
        while (p < end && *p != ',') {
            if (*p == '"')
                return refuse(r, "a '\"' inside a value: quote the whole value");
            p++;
        }
        const char *stop = p;
        while (stop > start && is_blank(stop[-1]))
            stop--;
        for (const char *c = start; c < stop; c++)
            if (is_control(*c))
                return refuse(r, "a control character (0x%02x) in a value", (unsigned char)*c);
        n = (size_t)(stop - start);
        if (n > GRID_MAX_VALUE)
            return refuse(r, "a value longer than %d bytes", GRID_MAX_VALUE);
        memcpy(buf, start, n);
    }
    if (n == 0)
        return refuse(r, "an empty value");
    buf[n] = '\0';
    *pp = p;
    return 0;
}

static int add_value(struct reader *r, struct grid_param *p, const char *v)
{
    for (size_t i = 0; i < p->nvalues; i++)
        if (strcmp(p->values[i], v) == 0)
            return refuse(r, "%s: the value '%.80s' twice", p->name, v);
    if (p->nvalues == GRID_MAX_VALUES)
        return refuse(r, "%s: more than %d values", p->name, GRID_MAX_VALUES);
    char **values = realloc(p->values, (p->nvalues + 1) * sizeof(*values));
    if (!values)
        return refuse(r, "out of memory");
    p->values = values;
    if (!(values[p->nvalues] = strdup(v)))
        return refuse(r, "out of memory");
    p->nvalues++;
    return 0;
}

/* The end of the line's content: its '#' outside quotes, or its end. */
static const char *content_end(const char *p, const char *end)
{
    int quoted = 0;
    for (; p < end; p++) {
        if (quoted && *p == '\\' && p + 1 < end)
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (*p == '#' && !quoted)
            return p;
    }
    return end;
}

/* NAME = VALUE, ... in [p, end) into a new param of g. */
static int read_line(struct reader *r, const char *p, const char *end, struct grid *g, char *buf)
{
    const char *name = p;
    while (p < end && name_char(*p, p == name))
        p++;
    size_t nlen = (size_t)(p - name);
    if (nlen == 0)
        return refuse(r, "a parameter's name expected (a lower-case letter, then a-z, 0-9, '_', '.')");
    if (nlen > GRID_MAX_NAME)
        return refuse(r, "a name longer than %d bytes", GRID_MAX_NAME);
    while (p < end && is_blank(*p))
        p++;
    if (p == end || *p != '=')
        return refuse(r, "'=' expected after '%.*s'", (int)nlen, name);
    p++;
    for (size_t i = 0; i < g->nparams; i++)
        if (strlen(g->params[i].name) == nlen && memcmp(g->params[i].name, name, nlen) == 0)
            return refuse(r, "'%.*s' again (first on line %u): one line a parameter", (int)nlen,
                          name, g->params[i].line);
    if (g->nparams == GRID_MAX_PARAMS)
        return refuse(r, "more than %d parameters", GRID_MAX_PARAMS);
    struct grid_param *params = realloc(g->params, (g->nparams + 1) * sizeof(*params));
    if (!params)
        return refuse(r, "out of memory");
    g->params = params;
    struct grid_param *gp = &params[g->nparams];
    memset(gp, 0, sizeof(*gp));
    gp->line = r->line;
    if (!(gp->name = strndup(name, nlen)))
        return refuse(r, "out of memory");
    g->nparams++;
    for (;;) {
        if (read_value(r, &p, end, buf) || add_value(r, gp, buf))
            return -1;
        if (p == end)
            return 0;
        p++; /* the ',' */
    }
}

int grid_parse(const char *text, size_t len, const char *name, struct grid *g, char *err,
               size_t errlen)
{
    struct reader r = {.name = name, .line = 0, .err = err, .errlen = errlen};
    memset(g, 0, sizeof(*g));
    if (errlen)
        err[0] = '\0';
    char *buf = malloc(GRID_MAX_VALUE + 1);
    if (!buf)
        return snprintf(err, errlen, "%s: out of memory", name), -1;
    const char *p = text, *end = text + len;
    int rc = 0;
    while (p < end && rc == 0) {
        r.line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if ((size_t)(stop - p) > GRID_MAX_LINE)
            rc = refuse(&r, "a line longer than %d bytes", GRID_MAX_LINE);
        else if (memchr(p, '\0', (size_t)(stop - p)))
            rc = refuse(&r, "a NUL byte: the grid is text");
        else {
            if (stop > p && stop[-1] == '\r')
                stop--;
            const char *cend = content_end(p, stop), *q = p;
            while (q < cend && is_blank(*q))
                q++;
            while (cend > q && is_blank(cend[-1]))
                cend--;
            if (q < cend)
                rc = read_line(&r, q, cend, g, buf);
        }
        p = nl ? nl + 1 : end;
    }
    free(buf);
    if (rc == 0 && g->nparams == 0) {
        snprintf(err, errlen, "%s: no parameter: the grid is empty", name);
        rc = -1;
    }
    if (rc)
        grid_free(g);
    return rc;
}

static int needs_quotes(const char *v)
{
    if (is_blank(v[0]) || is_blank(v[strlen(v) - 1]))
        return 1;
    return strpbrk(v, ",#\"\\") != NULL;
}

void grid_write(FILE *out, const struct grid *g)
{
    for (size_t i = 0; i < g->nparams; i++) {
        fprintf(out, "%s =", g->params[i].name);
        for (size_t k = 0; k < g->params[i].nvalues; k++) {
            const char *v = g->params[i].values[k];
            fputs(k ? ", " : " ", out);
            if (!needs_quotes(v)) {
                fputs(v, out);
                continue;
            }
            fputc('"', out);
            for (; *v; v++) {
                if (*v == '"' || *v == '\\')
                    fputc('\\', out);
                fputc(*v, out);
            }
            fputc('"', out);
        }
        fputc('\n', out);
    }
}

uint64_t grid_jobs(const struct grid *g, uint64_t limit)
{
    uint64_t n = 1;
    for (size_t i = 0; i < g->nparams; i++) {
        n *= g->params[i].nvalues; /* at most GRID_MAX_VALUES times a number <= limit */
        if (n > limit || n == 0)
            return n == 0 ? 0 : UINT64_MAX;
    }
    return n;
}

void grid_job(const struct grid *g, uint64_t index, size_t *choice)
{
    for (size_t i = g->nparams; i-- > 0;) {
        choice[i] = (size_t)(index % g->params[i].nvalues);
        index /= g->params[i].nvalues;
    }
}
