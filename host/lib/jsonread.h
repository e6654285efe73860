/* JSON input for the batch protocol, through jansson: one request line
 * parsed, and its fields read with hilda's rules (absent or null: the
 * default; numbers may come as strings, "0xc0"; a field of the wrong type
 * is a usage error that names it). */
#ifndef HILDA_JSONREAD_H
#define HILDA_JSONREAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* One JSON text (any value; NULs allowed in strings); NULL on error, with
 * a sentence in err ("... at byte N"). json_decref() the result. */
json_t *hilda_json_parse(const char *text, size_t len, char *err, size_t errcap);

/* An integer 0..max (or a string hilda_parse_uint takes, up to 2^32-1). */
bool hilda_field_uint(const json_t *req, const char *key, unsigned long long max, unsigned long long def,
                      unsigned long long *out, struct hilda_error *e);
bool hilda_field_bool(const json_t *req, const char *key, bool def, bool *out, struct hilda_error *e);
/* *out NULL when absent; a string with a NUL inside is refused. The
 * pointer lives as long as req. */
bool hilda_field_str(const json_t *req, const char *key, const char **out, struct hilda_error *e);
/* Hex data, at most cap bytes; *present says whether the field was there. */
bool hilda_field_hex(const json_t *req, const char *key, uint8_t *buf, size_t cap, size_t *n, bool *present,
                     struct hilda_error *e);

#endif
