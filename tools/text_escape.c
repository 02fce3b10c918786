/*
 * text_escape.c - strings as JSON text (text_escape.h). JSON is UTF-8: a
 * well-formed sequence is copied, anything else is replaced, so every line
 * the tool writes parses whatever bytes a host file name holds.
 */
#include "text_escape.h"

#include <inttypes.h>
#include <string.h>

size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] >= 0xf8 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (!len)
        return 0;
    uint32_t c = s[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < least[len] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
        return 0;
    *cp = c;
    return len;
}

size_t json_escape_char(const char *s, char out[JSON_ESCAPE_MAX], int script_safe)
{
    const unsigned char c = (unsigned char)s[0];
    uint32_t cp;
    size_t len;
    if (c == '"' || c == '\\')
        snprintf(out, JSON_ESCAPE_MAX, "\\%c", c);
    else if (c == '\n')
        snprintf(out, JSON_ESCAPE_MAX, "\\n");
    else if (c == '\t')
        snprintf(out, JSON_ESCAPE_MAX, "\\t");
    else if (c < 0x20 || c == 0x7f || (script_safe && (c == '<' || c == '>' || c == '&')))
        snprintf(out, JSON_ESCAPE_MAX, "\\u%04x", c);
    else if (c < 0x80)
        snprintf(out, JSON_ESCAPE_MAX, "%c", c);
    else if ((len = utf8_decode((const unsigned char *)s, &cp)) != 0) {
        memcpy(out, s, len);
        out[len] = '\0';
        return len;
    } else
        snprintf(out, JSON_ESCAPE_MAX, "\\ufffd");
    return 1;
}

void json_write_string(FILE *out, const char *s, int script_safe)
{
    char one[JSON_ESCAPE_MAX];
    fputc('"', out);
    while (*s) {
        s += json_escape_char(s, one, script_safe);
        fputs(one, out);
    }
    fputc('"', out);
}
