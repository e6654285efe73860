/* JSON output through jansson, with hilda's own rules on top:
 * - device text (descriptor strings, serial numbers, UART bytes, error
 *   sentences that quote them) may be any bytes, and jansson refuses
 *   malformed UTF-8: hj_str() first replaces every byte that does not start
 *   a well-formed UTF-8 sequence by U+FFFD (one per byte), so device text
 *   can never break or empty the output;
 * - numbers print as they always have: integers in full, measurements
 *   (doubles) to 6 significant digits, an integral one without ".0", NaN
 *   and infinities as null;
 * - one compact object per line (hj_dump, hj_print): the batch protocol and
 *   every --json reader rely on it.
 * The hj_set_* helpers take a key (plain ASCII, from the code) and a value;
 * they never fail loudly: out of memory surfaces as hj_print() failing. */
#ifndef HILDA_JSON_H
#define HILDA_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The UTF-8 step: copies n bytes of in to out, every byte that does not
 * start a well-formed UTF-8 sequence (overlong forms, surrogates, beyond
 * U+10FFFF, truncated) replaced by U+FFFD. out holds at least 3 * n + 1
 * bytes; it ends with a NUL (NULs of the input are kept). Returns the
 * length written, the NUL not counted. */
size_t hilda_utf8_clean(const char *in, size_t n, char *out);

/* New values (NULL only when out of memory) */
json_t *hj_str(const char *s);                  /* NULL: "" */
json_t *hj_strn(const char *s, size_t n);       /* may hold NULs */
json_t *hj_uint(unsigned long long v);          /* above INT64_MAX: as a double */
json_t *hj_real(double v);
json_t *hj_hex(const uint8_t *data, size_t n);  /* "0a1b..." */

/* obj[key] = value; the value is taken over (released if obj is not an object) */
void hj_set(json_t *obj, const char *key, json_t *value);
void hj_set_str(json_t *obj, const char *key, const char *s);
void hj_set_int(json_t *obj, const char *key, long long v);
void hj_set_uint(json_t *obj, const char *key, unsigned long long v);
void hj_set_real(json_t *obj, const char *key, double v);
void hj_set_bool(json_t *obj, const char *key, bool v);
void hj_set_hex(json_t *obj, const char *key, const uint8_t *data, size_t n);
/* arr.append(value), the value taken over */
void hj_append(json_t *arr, json_t *value);

/* The compact one-line text (free() it); NULL when out of memory. */
char *hj_dump(const json_t *v);
/* Writes the text and a newline, flushes; false on error. */
bool hj_print(const json_t *v, FILE *f);

#endif
