/*
 * Fuzz target: the "FIELD=VALUE" settings of a machine's config
 * (difftest/settings.c, `vmsim compare --set`). Whatever the bytes, an
 * assignment is taken or refused with a message, never a crash; one taken
 * writes inside struct vms_config only (ASan sees a write past it), and
 * its value fits the field.
 */
#include "difftest.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* the option's text ends at its first NUL, as argv's does */
    struct dt_setting s;
    char err[2048] = "";
    if (dt_setting_parse(text, &s, err, sizeof(err)) == 0) {
        struct vms_config *c = malloc(sizeof(*c)); /* on the heap: ASan bounds it exactly */
        if (c) {
            memset(c, 0, sizeof(*c));
            dt_setting_apply(&s, c);
            free(c);
        }
        if (!s.name || strncmp(text, s.name, strlen(s.name)) != 0 || text[strlen(s.name)] != '=')
            abort();
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(text);
    return 0;
}
