/*
 * sweep_json.c - one line of `vmsim replay --json` read back: a flat JSON
 * object (strings, numbers, true, false, null; no nesting), for `vmsim
 * sweep --collect`. Links with libc alone (the fuzz target builds it by
 * itself).
 */
#include "sweep_json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jobj_free(struct jobj *o)
{
    for (int i = 0; i < o->n; i++) {
        free(o->f[i].key);
        free(o->f[i].str);
    }
    o->n = 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static void put_utf8(char **out, unsigned cp)
{
    char *o = *out;
    if (cp < 0x80)
        *o++ = (char)cp;
    else if (cp < 0x800)
        *o++ = (char)(0xc0 | cp >> 6), *o++ = (char)(0x80 | (cp & 0x3f));
    else
        *o++ = (char)(0xe0 | cp >> 12), *o++ = (char)(0x80 | ((cp >> 6) & 0x3f)),
        *o++ = (char)(0x80 | (cp & 0x3f));
    *out = o;
}

/* A string at *pp (its opening quote); NULL when malformed. */
static char *read_string(const char **pp)
{
    const char *p = *pp + 1;
    char *buf = malloc(strlen(p) + 1), *o = buf; /* escapes only shrink */
    if (!buf)
        return NULL;
    for (; *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) /* the line's end too: an unterminated string */
            goto bad;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        const char *esc = "\"\\/bfnrt", *val = "\"\\/\b\f\n\r\t", *at = strchr(esc, *++p);
        if (*p && at) {
            *o++ = val[at - esc];
            continue;
        }
        if (*p != 'u')
            goto bad;
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
            if (!isxdigit((unsigned char)p[i]))
                goto bad;
            cp = cp * 16 + (unsigned)(isdigit((unsigned char)p[i]) ? p[i] - '0'
                                                                   : (tolower((unsigned char)p[i]) - 'a' + 10));
        }
        if (cp == 0 || (cp >= 0xd800 && cp < 0xe000)) /* no NUL, no lone surrogate halves */
            goto bad;
        put_utf8(&o, cp);
        p += 4;
    }
    *o = '\0';
    *pp = p + 1;
    return buf;
bad:
    free(buf);
    return NULL;
}

/* A JSON number's text at *pp; NULL when malformed. */
static char *read_number(const char **pp)
{
    const char *p = *pp, *start = p;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    *pp = p;
    return strndup(start, (size_t)(p - start));
}

/* A flat JSON object on one line: 0, or -1 with why. */
int json_flat(const char *line, struct jobj *o, char *why, size_t len)
{
    const char *p = skip_ws(line);
    o->n = 0;
    if (*p++ != '{')
        return snprintf(why, len, "not a JSON object"), -1;
    p = skip_ws(p);
    if (*p == '}')
        goto end;
    for (;;) {
        if (o->n == JSON_MAX_FIELDS)
            return snprintf(why, len, "more than %d fields", JSON_MAX_FIELDS), -1;
        struct jfield *f = &o->f[o->n];
        memset(f, 0, sizeof(*f));
        if (*p != '"' || !(f->key = read_string(&p)))
            return snprintf(why, len, "a field's name expected"), -1;
        o->n++;
        p = skip_ws(p);
        if (*p++ != ':')
            return snprintf(why, len, "':' expected after \"%.40s\"", f->key), -1;
        p = skip_ws(p);
        if (*p == '"') {
            f->kind = J_STR;
            f->str = read_string(&p);
        } else if (*p == '-' || isdigit((unsigned char)*p)) {
            f->kind = J_NUM;
            f->str = read_number(&p);
        } else if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4)) {
            f->kind = *p == 't' ? J_TRUE : J_NULL;
            f->str = strdup(*p == 't' ? "1" : "");
            p += 4;
        } else if (!strncmp(p, "false", 5)) {
            f->kind = J_FALSE;
            f->str = strdup("0");
            p += 5;
        }
        if (!f->str)
            return snprintf(why, len, "\"%.40s\": a string, a number, true, false or null expected",
                            f->key), -1;
        p = skip_ws(p);
        if (*p == '}')
            break;
        if (*p++ != ',')
            return snprintf(why, len, "',' or '}' expected after \"%.40s\"", f->key), -1;
        p = skip_ws(p);
    }
end:
    p = skip_ws(p + 1);
    if (*p && *p != '\n')
        return snprintf(why, len, "text after the object"), -1;
    return 0;
}

const struct jfield *jget(const struct jobj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->f[i].key, key))
            return &o->f[i];
    return NULL;
}
