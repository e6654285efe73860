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

/* Where got first differs from want (offset, both bytes, or which is
 * shorter), then both dumped from the 16-byte line before it, 64 bytes at
 * most: the region that matters, not the whole buffer. */
void hilda_hexdiff(FILE *f, const uint8_t *want, size_t nwant, const uint8_t *got, size_t ngot, const char *prefix);

/* "0a 1b", "0a1b", "0x0a,0x1b" ... into bytes; false on a bad digit or if
 * more than cap bytes. */
bool hilda_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *n);
/* The same, saying why not in why (one clause, no option name: "'xyz' is
 * not hexadecimal", "odd number of digits (3)", "5000 bytes, at most 4096"). */
bool hilda_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *n, char *why, size_t whycap);

/* Parses an unsigned number (decimal, 0x hex) up to max; false otherwise. */
bool hilda_parse_uint(const char *s, unsigned long max, unsigned long *v);

#endif
