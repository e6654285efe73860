#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (0 if not well-formed). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

size_t hilda_utf8_clean(const char *in, size_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, k = 0;
    while (i < n) {
        size_t len = utf8_seq(p + i, n - i);
        if (len == 0) {
            memcpy(out + k, "\xef\xbf\xbd", 3);   /* U+FFFD for this one byte */
            k += 3;
            i++;
        } else {
            memcpy(out + k, in + i, len);
            k += len;
            i += len;
        }
    }
    out[k] = '\0';
    return k;
}

json_t *hj_strn(const char *s, size_t n)
{
    if (!s)
        return json_string("");
    char *clean = malloc(3 * n + 1);
    if (!clean)
        return NULL;
    size_t k = hilda_utf8_clean(s, n, clean);
    json_t *v = json_stringn_nocheck(clean, k);   /* well-formed by construction */
    free(clean);
    return v;
}

json_t *hj_str(const char *s)
{
    return hj_strn(s, s ? strlen(s) : 0);
}

json_t *hj_uint(unsigned long long v)
{
    if (v > (unsigned long long)INT64_MAX)
        return json_real((double)v);
    return json_integer((json_int_t)v);
}

json_t *hj_real(double v)
{
    if (!isfinite(v))
        return json_null();
    /* 6 significant digits, as %.6g writes them; an integral result stays
     * an integer ("2", not jansson's "2.0") */
    char b[48];
    snprintf(b, sizeof b, "%.6g", v);
    if (!strpbrk(b, ".eE"))
        return json_integer(strtoll(b, NULL, 10));
    return json_real(strtod(b, NULL));
}

json_t *hj_hex(const uint8_t *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 15];
    }
    s[2 * n] = '\0';
    json_t *v = json_stringn_nocheck(s, 2 * n);
    free(s);
    return v;
}

void hj_set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value);   /* takes the value over, even when it fails */
}

void hj_set_str(json_t *obj, const char *key, const char *s) { hj_set(obj, key, hj_str(s)); }
void hj_set_int(json_t *obj, const char *key, long long v) { hj_set(obj, key, json_integer(v)); }
void hj_set_uint(json_t *obj, const char *key, unsigned long long v) { hj_set(obj, key, hj_uint(v)); }
void hj_set_real(json_t *obj, const char *key, double v) { hj_set(obj, key, hj_real(v)); }
void hj_set_bool(json_t *obj, const char *key, bool v) { hj_set(obj, key, json_boolean(v)); }
void hj_set_hex(json_t *obj, const char *key, const uint8_t *d, size_t n) { hj_set(obj, key, hj_hex(d, n)); }

void hj_append(json_t *arr, json_t *value)
{
    json_array_append_new(arr, value);
}

char *hj_dump(const json_t *v)
{
    /* JSON_REAL_PRECISION(6): the digits hj_real kept; no JSON_ENSURE_ASCII:
     * text stays UTF-8 as it was */
    return json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(6) | JSON_ENCODE_ANY);
}

bool hj_print(const json_t *v, FILE *f)
{
    char *t = v ? hj_dump(v) : NULL;
    if (!t)
        return false;
    fputs(t, f);
    fputc('\n', f);
    free(t);
    return fflush(f) == 0 && !ferror(f);
}
