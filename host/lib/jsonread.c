#include "jsonread.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

json_t *hilda_json_parse(const char *text, size_t len, char *err, size_t errcap)
{
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (errcap)
        err[0] = '\0';
    if (!v)
        snprintf(err, errcap, "%s at byte %d", je.text, je.position);
    return v;
}

static const json_t *present(const json_t *req, const char *key)
{
    const json_t *v = json_object_get(req, key);
    return v && !json_is_null(v) ? v : NULL;
}

bool hilda_field_uint(const json_t *req, const char *key, unsigned long long max, unsigned long long def,
                      unsigned long long *out, struct hilda_error *e)
{
    const json_t *v = present(req, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 && (unsigned long long)json_integer_value(v) <= max) {
        *out = (unsigned long long)json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {   /* "0xc0" is handy in hand-written requests */
        unsigned long x;
        if (strlen(json_string_value(v)) == json_string_length(v) &&
            hilda_parse_uint(json_string_value(v), max > 0xFFFFFFFFull ? 0xFFFFFFFFul : (unsigned long)max, &x)) {
            *out = x;
            return true;
        }
    }
    hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be an integer in 0..%llu", key, max);
    return false;
}

bool hilda_field_bool(const json_t *req, const char *key, bool def, bool *out, struct hilda_error *e)
{
    const json_t *v = present(req, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be true or false", key);
    return false;
}

bool hilda_field_str(const json_t *req, const char *key, const char **out, struct hilda_error *e)
{
    const json_t *v = present(req, key);
    *out = NULL;
    if (!v)
        return true;
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
        *out = json_string_value(v);
        return true;
    }
    hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be a string", key);
    return false;
}

bool hilda_field_hex(const json_t *req, const char *key, uint8_t *buf, size_t cap, size_t *n, bool *is_present,
                     struct hilda_error *e)
{
    const char *s;
    *n = 0;
    *is_present = false;
    if (!hilda_field_str(req, key, &s, e))
        return false;
    if (!s)
        return true;
    *is_present = true;
    char why[96];
    if (!hilda_hex_parse(s, buf, cap, n, why, sizeof why)) {
        hilda_fail(e, HILDA_ERR_USAGE, "\"%s\": %s", key, why);
        return false;
    }
    return true;
}
