/*
 * Fuzz target: the Lua binding's size strings (lua/names.c: "64M",
 * "0x1000", "4KiB"). Whatever the bytes, a size is read or refused with a
 * message, never a crash or a read past the input (which has no NUL); a
 * size read prints back in decimal to the same value.
 */
#include "names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exactly the input: ASan sees any read past it */
    if (!text)
        return 0;
    memcpy(text, data, size);
    uint64_t v = 0;
    char err[128] = "";
    if (vl_parse_size(text, size, &v, err, sizeof(err)) == 0) {
        char back[32];
        int n = snprintf(back, sizeof(back), "%" PRIu64, v);
        uint64_t again = 0;
        if (vl_parse_size(back, (size_t)n, &again, err, sizeof(err)) != 0 || again != v)
            abort(); /* a size read prints back to the same value */
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(text);
    return 0;
}
