/*
 * Fuzz target: the Lua binding's flag names (lua/names.c: "rw",
 * "private|anonymous", "MAP_SHARED|0x20", "dontneed"), for every flag word
 * it knows. Whatever the bytes, a word is read or refused with a message
 * naming the bad part, never a crash or a read past the input (which has no
 * NUL); a word read formats back (vl_format_flags) to names that read to
 * the same value.
 */
#include "names.h"

#include <stdlib.h>
#include <string.h>

static void check_kind(const struct vl_flag_kind *k, const char *text, size_t size)
{
    int64_t v = 0;
    char err[160] = "";
    if (vl_parse_flags(k, text, size, &v, err, sizeof(err)) != 0) {
        if (!err[0])
            abort(); /* a refusal always says why */
        return;
    }
    char names[1024];
    vl_format_flags(k, v, names, sizeof(names));
    int64_t again = 0;
    if (vl_parse_flags(k, names, strlen(names), &again, err, sizeof(err)) != 0 || again != v)
        abort(); /* what was read formats back to the same value */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exactly the input: ASan sees any read past it */
    if (!text)
        return 0;
    memcpy(text, data, size);
    for (size_t i = 0; i < vl_nr_kinds; i++)
        check_kind(vl_all_kinds[i], text, size);
    free(text);
    return 0;
}
