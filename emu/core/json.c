#include "json.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p;
    char *err;
    size_t errlen;
};

static void skip_space(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static int fail(struct parser *ps, const char *msg)
{
    snprintf(ps->err, ps->errlen, "%s", msg);
    return -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Strings are kept as bytes; \u escapes below 0x80 are decoded, others refused
 * (nothing in the control protocol needs them). */
static int parse_string(struct parser *ps, char *out, size_t cap)
{
    size_t n = 0;
    if (*ps->p != '"')
        return fail(ps, "expected a string");
    ps->p++;
    while (*ps->p && *ps->p != '"') {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20)
            return fail(ps, "control character in a string");
        if (c == '\\') {
            char e = *ps->p++;
            switch (e) {
            case '"': case '\\': case '/': c = e; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v;
                if (hex4(ps->p, &v) || v >= 0x80 || v == 0)
                    return fail(ps, "unsupported \\u escape");
                ps->p += 4;
                c = (char)v;
                break;
            }
            default:
                return fail(ps, "bad escape in a string");
            }
        }
        if (n + 1 >= cap)
            return fail(ps, "string too long");
        out[n++] = c;
    }
    if (*ps->p != '"')
        return fail(ps, "unterminated string");
    ps->p++;
    out[n] = 0;
    return 0;
}

static int parse_value(struct parser *ps, struct json_field *f)
{
    const char *p = ps->p;
    if (*p == '"') {
        f->type = JSON_STRING;
        return parse_string(ps, f->str, sizeof f->str);
    }
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        f->type = JSON_BOOL;
        f->boolean = *p == 't';
        ps->p += f->boolean ? 4 : 5;
        return 0;
    }
    if (strncmp(p, "null", 4) == 0) {
        f->type = JSON_NULL;
        ps->p += 4;
        return 0;
    }
    if (*p == '-' || isdigit((unsigned char)*p)) {
        char *end;
        f->type = JSON_NUMBER;
        f->num = strtod(p, &end);
        if (end == p)
            return fail(ps, "bad number");
        ps->p = end;
        return 0;
    }
    if (*p == '{' || *p == '[')
        return fail(ps, "nested values are not accepted");
    return fail(ps, "expected a value");
}

int json_parse_object(const char *text, struct json_object *out, char *err, size_t errlen)
{
    struct parser ps = { text, err, errlen };
    out->n = 0;
    skip_space(&ps);
    if (*ps.p != '{')
        return fail(&ps, "expected a JSON object");
    ps.p++;
    skip_space(&ps);
    if (*ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            if (out->n == JSON_MAX_FIELDS)
                return fail(&ps, "too many fields");
            struct json_field *f = &out->fields[out->n];
            skip_space(&ps);
            if (parse_string(&ps, f->key, sizeof f->key))
                return -1;
            skip_space(&ps);
            if (*ps.p++ != ':')
                return fail(&ps, "expected ':'");
            skip_space(&ps);
            if (parse_value(&ps, f))
                return -1;
            out->n++;
            skip_space(&ps);
            if (*ps.p == ',') {
                ps.p++;
                continue;
            }
            if (*ps.p == '}') {
                ps.p++;
                break;
            }
            return fail(&ps, "expected ',' or '}'");
        }
    }
    skip_space(&ps);
    if (*ps.p)
        return fail(&ps, "trailing characters after the object");
    return 0;
}

const struct json_field *json_find(const struct json_object *o, const char *key, enum json_type type)
{
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->fields[i].key, key) == 0)
            return o->fields[i].type == type ? &o->fields[i] : NULL;
    }
    return NULL;
}

size_t json_quote(char *out, size_t cap, const char *s)
{
    size_t n = 0;
#define PUT(c) do { if (n + 1 < cap) out[n] = (c); n++; } while (0)
    PUT('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            for (char *e = esc; *e; e++)
                PUT(*e);
        } else {
            PUT((char)c);
        }
    }
    PUT('"');
#undef PUT
    if (cap)
        out[n < cap ? n : cap - 1] = 0;
    return n;
}

static void append(struct json_writer *w, const char *s)
{
    size_t room = sizeof w->buf - w->len;
    size_t n = strlen(s);
    if (n >= room)
        n = room ? room - 1 : 0;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void key(struct json_writer *w, const char *k)
{
    char q[JSON_MAX_KEY * 2 + 4];
    append(w, w->empty ? "" : ", ");
    w->empty = false;
    json_quote(q, sizeof q, k);
    append(w, q);
    append(w, ": ");
}

void json_begin(struct json_writer *w)
{
    w->len = 0;
    w->buf[0] = 0;
    w->empty = true;
    append(w, "{");
}

void json_add_string(struct json_writer *w, const char *k, const char *value)
{
    char q[2048];
    key(w, k);
    json_quote(q, sizeof q, value);
    append(w, q);
}

void json_add_u64(struct json_writer *w, const char *k, uint64_t value)
{
    char num[24];
    key(w, k);
    snprintf(num, sizeof num, "%" PRIu64, value);
    append(w, num);
}

void json_add_bool(struct json_writer *w, const char *k, bool value)
{
    key(w, k);
    append(w, value ? "true" : "false");
}

void json_add_raw(struct json_writer *w, const char *k, const char *json)
{
    key(w, k);
    append(w, json);
}

const char *json_end(struct json_writer *w)
{
    /* keep room for the closing brace and newline even when cut */
    if (w->len > sizeof w->buf - 3)
        w->len = sizeof w->buf - 3;
    w->buf[w->len++] = '}';
    w->buf[w->len++] = '\n';
    w->buf[w->len] = 0;
    return w->buf;
}
