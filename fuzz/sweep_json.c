/*
 * Fuzz target: the reader of `vmsim replay --json` lines that `vmsim sweep
 * --collect` trusts with its jobs' results (tools/sweep_json.c). Whatever
 * the bytes, a line is read or refused with a message, never a read past
 * it, nothing leaked; an object read writes back to JSON that reads to the
 * same fields.
 */
#include "sweep_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void write_object(FILE *f, const struct jobj *o)
{
    fputc('{', f);
    for (int i = 0; i < o->n; i++) {
        const struct jfield *x = &o->f[i];
        fputs(i ? "," : "", f);
        write_string(f, x->key);
        fputc(':', f);
        if (x->kind == J_STR)
            write_string(f, x->str);
        else if (x->kind == J_NUM)
            fputs(x->str, f);
        else
            fputs(x->kind == J_TRUE ? "true" : x->kind == J_FALSE ? "false" : "null", f);
    }
    fputs("}\n", f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0'; /* getline's line ends at its first NUL for the reader too */
    struct jobj o, back;
    char why[256] = "";
    if (json_flat(line, &o, why, sizeof(why)) != 0) {
        if (!why[0])
            abort(); /* a refusal says why */
        jobj_free(&o);
        free(line);
        return 0;
    }
    for (int i = 0; i < o.n; i++)
        if (!o.f[i].key || !o.f[i].str)
            abort();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    write_object(f, &o);
    fclose(f);
    if (json_flat(text, &back, why, sizeof(why)) != 0 || back.n != o.n)
        abort();
    for (int i = 0; i < o.n; i++)
        if (strcmp(o.f[i].key, back.f[i].key) || strcmp(o.f[i].str, back.f[i].str) ||
            o.f[i].kind != back.f[i].kind)
            abort(); /* what was read writes back to the same fields */
    jobj_free(&back);
    jobj_free(&o);
    free(text);
    free(line);
    return 0;
}
