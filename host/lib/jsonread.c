#include "jsonread.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errcap;
    bool failed;
};

static void fail(struct parser *p, const char *what)
{
    if (!p->failed)
        snprintf(p->err, p->errcap, "%s at byte %zu", what, p->pos);
    p->failed = true;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                               p->s[p->pos] == '\r'))
        p->pos++;
}

static void free_value(struct hjv *v)
{
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        free_value(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

static bool parse_value(struct parser *p, struct hjv *v, int depth);

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_u4(struct parser *p, uint32_t *u)
{
    if (p->len - p->pos < 4) {
        fail(p, "truncated \\u escape");
        return false;
    }
    *u = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + (size_t)i]);
        if (h < 0) {
            fail(p, "bad \\u escape");
            return false;
        }
        *u = *u << 4 | (uint32_t)h;
    }
    p->pos += 4;
    return true;
}

static bool parse_string(struct parser *p, char **out, size_t *outlen)
{
    p->pos++;   /* opening quote */
    /* The decoded string is never longer than its source. */
    size_t start = p->pos;
    char *buf = malloc(p->len - start + 1);
    if (!buf) {
        fail(p, "out of memory");
        return false;
    }
    size_t k = 0;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            buf[k] = '\0';
            *out = buf;
            *outlen = k;
            return true;
        }
        if (c < 0x20) {
            fail(p, "control character in a string");
            break;
        }
        if (c != '\\') {
            buf[k++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        if (p->pos >= p->len) {
            fail(p, "truncated escape");
            break;
        }
        char e = p->s[p->pos++];
        uint32_t cp;
        switch (e) {
        case '"': buf[k++] = '"'; continue;
        case '\\': buf[k++] = '\\'; continue;
        case '/': buf[k++] = '/'; continue;
        case 'b': buf[k++] = '\b'; continue;
        case 'f': buf[k++] = '\f'; continue;
        case 'n': buf[k++] = '\n'; continue;
        case 'r': buf[k++] = '\r'; continue;
        case 't': buf[k++] = '\t'; continue;
        case 'u':
            if (!read_u4(p, &cp))
                goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u') {
                p->pos += 2;
                uint32_t lo;
                if (!read_u4(p, &lo))
                    goto bad;
                cp = lo >= 0xDC00 && lo <= 0xDFFF ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) : 0xFFFD;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            /* \uXXXX is 6 source bytes, at most 4 UTF-8 bytes: it fits */
            if (cp < 0x80) {
                buf[k++] = (char)cp;
            } else if (cp < 0x800) {
                buf[k++] = (char)(0xC0 | cp >> 6);
                buf[k++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                buf[k++] = (char)(0xE0 | cp >> 12);
                buf[k++] = (char)(0x80 | (cp >> 6 & 0x3F));
                buf[k++] = (char)(0x80 | (cp & 0x3F));
            } else {
                buf[k++] = (char)(0xF0 | cp >> 18);
                buf[k++] = (char)(0x80 | (cp >> 12 & 0x3F));
                buf[k++] = (char)(0x80 | (cp >> 6 & 0x3F));
                buf[k++] = (char)(0x80 | (cp & 0x3F));
            }
            continue;
        default:
            fail(p, "unknown escape");
            goto bad;
        }
    }
    fail(p, "unterminated string");
bad:
    free(buf);
    return false;
}

static bool parse_number(struct parser *p, struct hjv *v)
{
    size_t start = p->pos;
    bool integer = true;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9') {
        fail(p, "bad number");
        return false;
    }
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c >= '0' && c <= '9') {
            p->pos++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && p->pos > start)) {
            integer = false;
            p->pos++;
        } else {
            break;
        }
    }
    char tmp[64];
    size_t n = p->pos - start;
    if (n >= sizeof tmp) {
        fail(p, "number too long");
        return false;
    }
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    char *end;
    v->type = HJV_NUMBER;
    v->num = strtod(tmp, &end);
    if (*end) {
        fail(p, "bad number");
        return false;
    }
    if (integer) {
        errno = 0;
        long long i = strtoll(tmp, &end, 10);
        if (!errno && !*end) {
            v->is_int = true;
            v->i = i;
        }
    }
    return true;
}

static bool literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0) {
        p->pos += n;
        return true;
    }
    fail(p, "unexpected word");
    return false;
}

static bool push(struct hjv *v, size_t *cap, bool object)
{
    if (v->n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        struct hjv *items = realloc(v->items, c * sizeof *items);
        if (!items)
            return false;
        v->items = items;
        if (object) {
            char **keys = realloc(v->keys, c * sizeof *keys);
            if (!keys)
                return false;
            v->keys = keys;
        }
        *cap = c;
    }
    memset(&v->items[v->n], 0, sizeof v->items[v->n]);
    if (object)
        v->keys[v->n] = NULL;
    v->n++;
    return true;
}

static bool parse_container(struct parser *p, struct hjv *v, int depth, bool object)
{
    v->type = object ? HJV_OBJECT : HJV_ARRAY;
    char close = object ? '}' : ']';
    size_t cap = 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return true;
    }
    for (;;) {
        if (!push(v, &cap, object)) {
            fail(p, "out of memory");
            return false;
        }
        if (object) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail(p, "expected a key");
                return false;
            }
            size_t klen;
            if (!parse_string(p, &v->keys[v->n - 1], &klen))
                return false;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                fail(p, "expected ':'");
                return false;
            }
            p->pos++;
        }
        if (!parse_value(p, &v->items[v->n - 1], depth + 1))
            return false;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return true;
        }
        fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        return false;
    }
}

static bool parse_value(struct parser *p, struct hjv *v, int depth)
{
    if (depth > HJV_DEPTH_MAX) {
        fail(p, "nested too deeply");
        return false;
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end");
        return false;
    }
    char c = p->s[p->pos];
    switch (c) {
    case '{':
        return parse_container(p, v, depth, true);
    case '[':
        return parse_container(p, v, depth, false);
    case '"':
        v->type = HJV_STRING;
        return parse_string(p, &v->str, &v->len);
    case 't':
        v->type = HJV_BOOL;
        v->b = true;
        return literal(p, "true");
    case 'f':
        v->type = HJV_BOOL;
        return literal(p, "false");
    case 'n':
        v->type = HJV_NULL;
        return literal(p, "null");
    default:
        return parse_number(p, v);
    }
}

struct hjv *hjv_parse(const char *text, size_t len, char *err, size_t errcap)
{
    struct parser p = { text, len, 0, err, errcap, false };
    if (errcap)
        err[0] = '\0';
    struct hjv *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    if (parse_value(&p, v, 0)) {
        skip_ws(&p);
        if (p.pos == p.len)
            return v;
        fail(&p, "trailing characters");
    }
    hjv_free(v);
    return NULL;
}

void hjv_free(struct hjv *v)
{
    if (!v)
        return;
    free_value(v);
    free(v);
}

const struct hjv *hjv_get(const struct hjv *obj, const char *key)
{
    if (!obj || obj->type != HJV_OBJECT)
        return NULL;
    for (size_t i = obj->n; i-- > 0;)   /* the last of duplicate keys wins */
        if (obj->keys[i] && strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}
