/*
 * The Lua binding's text parsers, free of Lua so that fuzz targets and the
 * tools can call them: sizes ("64M", "0x1000", "1G") and the names of flag
 * words ("rw", "private|anonymous", "MAP_SHARED|MAP_FIXED", "dontneed").
 */
#ifndef VMSIM_LUA_NAMES_H
#define VMSIM_LUA_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* One named constant of a flag word. */
struct vl_name {
    const char *name; /* lower case, without the prefix: "anonymous" */
    int64_t value;
};

/* A flag word: its names, the C prefix its constants carry ("MAP_"), and
 * whether several names combine with '|' (a single name otherwise: advice,
 * whence). */
struct vl_flag_kind {
    const char *what;   /* for messages: "protection", "mmap flag" */
    const char *prefix; /* "PROT_", accepted in front of a name, any case */
    const struct vl_name *names;
    size_t count;
    int combine;
    int letters; /* "rwx" letters are accepted too (protections) */
};

extern const struct vl_flag_kind vl_prot, vl_map_flags, vl_msync_flags, vl_mremap_flags,
    vl_advice, vl_open_flags, vl_whence;

/* The kinds in one list, for exporting every constant as vmsim.PREFIX_NAME. */
extern const struct vl_flag_kind *const vl_all_kinds[];
extern const size_t vl_nr_kinds;

/* Parses a size: a decimal or 0x-hexadecimal number with an optional binary
 * suffix K, M, G, T, P or E (optionally followed by "iB" or "B"). 0 and *out
 * set, or -1 and a message in err ("too large", "not a size"). */
int vl_parse_size(const char *s, size_t len, uint64_t *out, char *err, size_t errlen);

/* Parses a flag word by its names; "" and "0" are 0. 0 and *out, or -1
 * with the message in err naming the unknown part. */
int vl_parse_flags(const struct vl_flag_kind *k, const char *s, size_t len, int64_t *out,
                   char *err, size_t errlen);

/* The names of the bits set in value, '|'-separated, into buf (a number in
 * hexadecimal for bits without a name). Returns buf. */
const char *vl_format_flags(const struct vl_flag_kind *k, int64_t value, char *buf, size_t len);

#endif
