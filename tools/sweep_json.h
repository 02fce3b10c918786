/*
 * A flat JSON object on one line, as `vmsim replay --json` writes them
 * (sweep_json.c): what `vmsim sweep --collect` reads its jobs' results with.
 */
#ifndef VMSIM_SWEEP_JSON_H
#define VMSIM_SWEEP_JSON_H

#include <stddef.h>

#define JSON_MAX_FIELDS 64

enum jkind { J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL };

struct jfield {
    char *key;       /* the name, decoded */
    char *str;       /* a string's value decoded (UTF-8, no NUL), a number's text as written,
                        "1" for true, "0" for false, "" for null */
    enum jkind kind;
};

struct jobj {
    struct jfield f[JSON_MAX_FIELDS];
    int n;
};

/* Reads the object in line (a C string; one '\n' may end it): 0, or -1
 * with why (snprintf semantics). Refused: anything but one flat object
 * (whitespace around), more than JSON_MAX_FIELDS fields, a bad escape, a
 * \u0000 or a lone surrogate half, a control character in a string, a
 * malformed number. o holds what was read in both cases: free it with
 * jobj_free. */
int json_flat(const char *line, struct jobj *o, char *why, size_t len);
void jobj_free(struct jobj *o);
/* The field named key (the first, if it repeats), or NULL. */
const struct jfield *jget(const struct jobj *o, const char *key);

#endif
