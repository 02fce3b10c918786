/*
 * text_escape.h - strings as JSON and XML text, for every writer of the
 * tool (the report's model, --json lines, Perfetto, SVG and dot): one rule
 * for what a byte becomes, so that a file name reads the same everywhere.
 */
#ifndef VMSIM_TEXT_ESCAPE_H
#define VMSIM_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_ESCAPE_MAX 16 /* the longest escaped character, with its NUL */

/* The code point of the UTF-8 sequence at s and its length, or 0 when the
 * bytes are no well-formed sequence. */
size_t utf8_decode(const unsigned char *s, uint32_t *cp);

/* The first character of s (not empty) as JSON text in out; returns the
 * bytes it took. UTF-8 stays as it is, a byte of no UTF-8 sequence (a name
 * in another encoding) becomes U+FFFD, control characters \uXXXX.
 * script_safe: '<', '>' and '&' escaped too, for JSON inside <script>. */
size_t json_escape_char(const char *s, char out[JSON_ESCAPE_MAX], int script_safe);

/* s as a quoted JSON string. */
void json_write_string(FILE *out, const char *s, int script_safe);

#endif
