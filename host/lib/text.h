/* Text helpers: printing what a device sent without letting it drive the
 * terminal (escapes), hex dumps, and hex strings in and out. */
#ifndef HILDA_TEXT_H
#define HILDA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Copies UTF-8 text, replacing control characters and malformed bytes by
 * \xNN escapes. out always ends with a NUL (cap >= 1). */
void hilda_escape(const char *in, char *out, size_t cap);

/* Classic dump: offset, 16 hex bytes, ASCII column; each line prefixed. */
void hilda_hexdump(FILE *f, const uint8_t *data, size_t n, const char *prefix);

/* "0a 1b", "0a1b", "0x0a,0x1b" ... into bytes; false on a bad digit or if
 * more than cap bytes. */
bool hilda_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *n);

/* Parses an unsigned number (decimal, 0x hex) up to max; false otherwise. */
bool hilda_parse_uint(const char *s, unsigned long max, unsigned long *v);

#endif
