/*
 * settings.c - "field=value" assignments to a machine's config, for asking
 * what vmsim would do on a machine unlike this host (`vmsim compare --set`).
 * The names are vms_config's own (dtlb.entries for a member of a member);
 * a value is a number, decimal or 0x hex, optionally with a binary K, M, G
 * or T suffix, or "unlimited" (the largest value) for a 64-bit field.
 * Whether the machine accepts the value is vms_machine_create's to say.
 */
#include "difftest.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum field_type { F_U64, F_UNSIGNED, F_INT };

struct field {
    const char *name;
    size_t offset;
    enum field_type type;
};

#define FIELD(member, type) {#member, offsetof(struct vms_config, member), type}

static const struct field fields[] = {
    FIELD(phys_bytes, F_U64),           FIELD(ncpus, F_UNSIGNED),
    FIELD(swap_bytes, F_U64),           FIELD(pgtable_levels, F_INT),
    FIELD(pcid, F_INT),                 FIELD(dtlb.entries, F_UNSIGNED),
    FIELD(dtlb.ways, F_UNSIGNED),       FIELD(itlb.entries, F_UNSIGNED),
    FIELD(itlb.ways, F_UNSIGNED),       FIELD(stlb.entries, F_UNSIGNED),
    FIELD(stlb.ways, F_UNSIGNED),       FIELD(tlb_flush_ceiling, F_UNSIGNED),
    FIELD(pde_cache.entries, F_UNSIGNED), FIELD(pde_cache.ways, F_UNSIGNED),
    FIELD(pdpte_cache.entries, F_UNSIGNED), FIELD(pdpte_cache.ways, F_UNSIGNED),
    FIELD(pml4e_cache.entries, F_UNSIGNED), FIELD(pml4e_cache.ways, F_UNSIGNED),
    FIELD(mmap_min_addr, F_U64),        FIELD(max_map_count, F_UNSIGNED),
    FIELD(aslr_seed, F_U64),            FIELD(fault_around_bytes, F_UNSIGNED),
    FIELD(readahead_kb, F_UNSIGNED),    FIELD(max_sectors_kb, F_UNSIGNED),
    FIELD(large_folios, F_INT),         FIELD(privileged, F_INT),
    FIELD(max_file_bytes, F_U64),
    FIELD(memlock_rlimit, F_U64),       FIELD(pku, F_INT),
    FIELD(zero_page, F_INT),            FIELD(overcommit_memory, F_UNSIGNED),
    FIELD(overcommit_ratio, F_UNSIGNED), FIELD(overcommit_kbytes, F_U64),
    FIELD(mem_total, F_U64),            FIELD(admin_reserve_kbytes, F_U64),
    FIELD(user_reserve_kbytes, F_U64),  FIELD(stack_rlimit, F_U64),
    FIELD(data_rlimit, F_U64),          FIELD(uid, F_UNSIGNED),
    FIELD(gid, F_UNSIGNED),             FIELD(hwcap, F_U64),
    FIELD(hwcap2, F_U64),               FIELD(minsigstksz, F_U64),
    FIELD(min_free_kbytes, F_U64),      FIELD(watermark_scale_factor, F_UNSIGNED),
    FIELD(swappiness, F_UNSIGNED),      FIELD(page_cluster, F_UNSIGNED),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *find_field(const char *name, size_t len)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0)
            return &fields[i];
    return NULL;
}

static int suffix_shift(char c)
{
    switch (c) {
    case 'K': case 'k': return 10;
    case 'M': case 'm': return 20;
    case 'G': case 'g': return 30;
    case 'T': case 't': return 40;
    default: return -1;
    }
}

/* A value: 0, or -1 when it is no number or does not fit 64 bits. */
static int parse_value(const char *s, uint64_t *v)
{
    if (strcmp(s, "unlimited") == 0) {
        *v = UINT64_MAX;
        return 0;
    }
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    if (!(hex ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits)))
        return -1;
    char *end;
    errno = 0;
    uint64_t u = strtoull(digits, &end, hex ? 16 : 10);
    int shift = *end ? suffix_shift(*end) : 0;
    if (errno || shift < 0 || (*end && end[1]) || (shift && u > (UINT64_MAX >> shift)))
        return -1;
    *v = u << shift;
    return 0;
}

static uint64_t field_max(enum field_type t)
{
    return t == F_U64 ? UINT64_MAX : t == F_UNSIGNED ? UINT_MAX : INT_MAX;
}

/* The names, for a message: "phys_bytes, ncpus, ...". */
static void list_names(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NFIELDS && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", fields[i].name);
        if (n > 0)
            len += (size_t)n;
    }
}

int dt_setting_parse(const char *text, struct dt_setting *out, char *err, size_t errsize)
{
    const char *eq = strchr(text, '=');
    const struct field *f = eq ? find_field(text, (size_t)(eq - text)) : NULL;
    if (!eq) {
        snprintf(err, errsize, "'%.60s': expected FIELD=VALUE", text);
        return -1;
    }
    if (!f) {
        char names[1024];
        list_names(names, sizeof(names));
        snprintf(err, errsize, "'%.*s' is not a config field (%s)", (int)(eq - text > 60 ? 60 : eq - text),
                 text, names);
        return -1;
    }
    uint64_t v;
    if (parse_value(eq + 1, &v) || v > field_max(f->type)) {
        snprintf(err, errsize, "%s: '%.60s' is not a number from 0 to %" PRIu64
                 " (decimal or 0x hex, K/M/G/T suffixes%s)", f->name, eq + 1, field_max(f->type),
                 f->type == F_U64 ? ", or unlimited" : "");
        return -1;
    }
    out->offset = f->offset;
    out->type = f->type;
    out->value = v;
    out->name = f->name;
    return 0;
}

void dt_setting_apply(const struct dt_setting *s, struct vms_config *c)
{
    char *at = (char *)c + s->offset;
    if (s->type == F_U64) {
        uint64_t v = s->value;
        memcpy(at, &v, sizeof(v));
    } else if (s->type == F_UNSIGNED) {
        unsigned v = (unsigned)s->value;
        memcpy(at, &v, sizeof(v));
    } else {
        int v = (int)s->value;
        memcpy(at, &v, sizeof(v));
    }
}

static uint64_t field_value(const struct field *f, const struct vms_config *c)
{
    const char *at = (const char *)c + f->offset;
    if (f->type == F_U64) {
        uint64_t v;
        memcpy(&v, at, sizeof(v));
        return v;
    }
    if (f->type == F_UNSIGNED) {
        unsigned v;
        memcpy(&v, at, sizeof(v));
        return v;
    }
    int v;
    memcpy(&v, at, sizeof(v));
    return (uint64_t)(unsigned)v;
}

void dt_settings_print(const struct vms_config *base, const struct vms_config *c, const char *prefix,
                       FILE *out)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        uint64_t v = field_value(&fields[i], c);
        if (v == field_value(&fields[i], base))
            continue;
        if (fields[i].type == F_U64 && v == UINT64_MAX)
            fprintf(out, "%s%s=unlimited\n", prefix, fields[i].name);
        else
            fprintf(out, "%s%s=%#" PRIx64 "\n", prefix, fields[i].name, v);
    }
}
