/* Just enough JSON for the control channel: one flat object per line in
 * ({"cmd": "reset", "on": true, "pin": 6}), one flat object per line out. */
#ifndef EMU_JSON_H
#define EMU_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_FIELDS 16
#define JSON_MAX_KEY 32
#define JSON_MAX_STRING 256

enum json_type { JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_NULL };

struct json_field {
    char key[JSON_MAX_KEY];
    enum json_type type;
    char str[JSON_MAX_STRING];
    double num;
    bool boolean;
};

struct json_object {
    struct json_field fields[JSON_MAX_FIELDS];
    unsigned n;
};

/* 0 on success; -1 with a sentence in err otherwise. Nested values are refused. */
int json_parse_object(const char *text, struct json_object *out, char *err, size_t errlen);
const struct json_field *json_find(const struct json_object *o, const char *key, enum json_type type);

/* Output: a line built in a fixed buffer; overlong output is cut, never overrun. */
struct json_writer {
    char buf[8192];
    size_t len;
    bool empty;
};

void json_begin(struct json_writer *w);
void json_add_string(struct json_writer *w, const char *key, const char *value);
void json_add_u64(struct json_writer *w, const char *key, uint64_t value);
void json_add_bool(struct json_writer *w, const char *key, bool value);
void json_add_raw(struct json_writer *w, const char *key, const char *json);   /* value already JSON */
const char *json_end(struct json_writer *w);   /* adds "}\n"; returns the line */

/* Appends s as a JSON string literal (quotes and escapes) to out; returns
 * the length it would need, like snprintf. */
size_t json_quote(char *out, size_t cap, const char *s);

#endif
