#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hj_init(struct hj *j)
{
    memset(j, 0, sizeof *j);
}

void hj_free(struct hj *j)
{
    free(j->buf);
    memset(j, 0, sizeof *j);
}

void hj_reset(struct hj *j)
{
    char *buf = j->buf;
    size_t cap = j->cap;
    memset(j, 0, sizeof *j);
    j->buf = buf;
    j->cap = cap;
    if (buf)
        buf[0] = '\0';
}

const char *hj_text(const struct hj *j)
{
    return j->buf && !j->oom ? j->buf : "";
}

bool hj_print(const struct hj *j, FILE *f)
{
    if (j->oom)
        return false;
    fputs(hj_text(j), f);
    fputc('\n', f);
    return fflush(f) == 0 && !ferror(f);
}

static void put(struct hj *j, const char *s, size_t n)
{
    if (j->oom)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (j->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(j->buf, cap);
        if (!b) {
            j->oom = true;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void putc_(struct hj *j, char c)
{
    put(j, &c, 1);
}

/* Before any value: a comma if one came before at this level. */
static void before_value(struct hj *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->comma[j->depth])
        putc_(j, ',');
    j->comma[j->depth] = true;
}

static void open_(struct hj *j, char c)
{
    before_value(j);
    putc_(j, c);
    if (j->depth < HJ_DEPTH_MAX)
        j->depth++;
    j->comma[j->depth] = false;
}

static void close_(struct hj *j, char c)
{
    putc_(j, c);
    if (j->depth > 0)
        j->depth--;
}

void hj_obj(struct hj *j) { open_(j, '{'); }
void hj_obj_end(struct hj *j) { close_(j, '}'); }
void hj_arr(struct hj *j) { open_(j, '['); }
void hj_arr_end(struct hj *j) { close_(j, ']'); }

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

static void string_body(struct hj *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    putc_(j, '"');
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put(j, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            char e[8];
            int k = snprintf(e, sizeof e, "\\u%04x", c);
            put(j, e, (size_t)k);
            i++;
        } else {
            size_t len = utf8_seq(p + i, n - i);
            if (len == 0) {
                put(j, "\\ufffd", 6);
                i++;
            } else {
                put(j, s + i, len);
                i += len;
            }
        }
    }
    putc_(j, '"');
}

void hj_key(struct hj *j, const char *key)
{
    before_value(j);
    string_body(j, key, strlen(key));
    putc_(j, ':');
    j->after_key = true;
}

void hj_strn(struct hj *j, const char *s, size_t n)
{
    before_value(j);
    string_body(j, s ? s : "", s ? n : 0);
}

void hj_str(struct hj *j, const char *s)
{
    hj_strn(j, s, s ? strlen(s) : 0);
}

void hj_int(struct hj *j, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    before_value(j);
    put(j, b, (size_t)n);
}

void hj_uint(struct hj *j, unsigned long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%llu", v);
    before_value(j);
    put(j, b, (size_t)n);
}

void hj_double(struct hj *j, double v)
{
    if (!isfinite(v)) {
        hj_null(j);
        return;
    }
    char b[48];
    int n = snprintf(b, sizeof b, "%.6g", v);
    before_value(j);
    put(j, b, (size_t)n);
}

void hj_bool(struct hj *j, bool v)
{
    before_value(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void hj_null(struct hj *j)
{
    before_value(j);
    put(j, "null", 4);
}

void hj_hex(struct hj *j, const uint8_t *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    before_value(j);
    putc_(j, '"');
    char chunk[128];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = digits[data[i] >> 4];
        chunk[k++] = digits[data[i] & 15];
        if (k == sizeof chunk) {
            put(j, chunk, k);
            k = 0;
        }
    }
    put(j, chunk, k);
    putc_(j, '"');
}

void hj_raw(struct hj *j, const char *json)
{
    before_value(j);
    put(j, json, strlen(json));
}

void hj_kstr(struct hj *j, const char *k, const char *v) { hj_key(j, k); hj_str(j, v); }
void hj_kint(struct hj *j, const char *k, long long v) { hj_key(j, k); hj_int(j, v); }
void hj_kuint(struct hj *j, const char *k, unsigned long long v) { hj_key(j, k); hj_uint(j, v); }
void hj_kdouble(struct hj *j, const char *k, double v) { hj_key(j, k); hj_double(j, v); }
void hj_kbool(struct hj *j, const char *k, bool v) { hj_key(j, k); hj_bool(j, v); }
void hj_khex(struct hj *j, const char *k, const uint8_t *d, size_t n) { hj_key(j, k); hj_hex(j, d, n); }
