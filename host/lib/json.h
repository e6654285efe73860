/* JSON output: a writer that builds one compact JSON text in memory (so a
 * batch reply is written as one line, in one go). Strings are UTF-8; bytes
 * that are not well-formed UTF-8 become U+FFFD and control characters are
 * escaped, so text from a device cannot break the output. */
#ifndef HILDA_JSON_H
#define HILDA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HJ_DEPTH_MAX 32

struct hj {
    char *buf;
    size_t len, cap;
    bool oom;
    int depth;
    bool comma[HJ_DEPTH_MAX + 1];   /* a value was written at this depth: the next needs a comma */
    bool after_key;
};

void hj_init(struct hj *j);
void hj_free(struct hj *j);
void hj_reset(struct hj *j);
const char *hj_text(const struct hj *j);   /* "" after an allocation failure */
/* Writes the text and a newline, flushes; false on error. */
bool hj_print(const struct hj *j, FILE *f);

void hj_obj(struct hj *j);
void hj_obj_end(struct hj *j);
void hj_arr(struct hj *j);
void hj_arr_end(struct hj *j);
void hj_key(struct hj *j, const char *key);
void hj_str(struct hj *j, const char *s);
void hj_strn(struct hj *j, const char *s, size_t n);
void hj_int(struct hj *j, long long v);
void hj_uint(struct hj *j, unsigned long long v);
void hj_double(struct hj *j, double v);   /* NaN and infinities: null */
void hj_bool(struct hj *j, bool v);
void hj_null(struct hj *j);
void hj_hex(struct hj *j, const uint8_t *data, size_t n);   /* "0a1b..." */
/* Inserts already-serialised JSON (from another struct hj) as a value. */
void hj_raw(struct hj *j, const char *json);

/* key + value */
void hj_kstr(struct hj *j, const char *k, const char *v);
void hj_kint(struct hj *j, const char *k, long long v);
void hj_kuint(struct hj *j, const char *k, unsigned long long v);
void hj_kdouble(struct hj *j, const char *k, double v);
void hj_kbool(struct hj *j, const char *k, bool v);
void hj_khex(struct hj *j, const char *k, const uint8_t *data, size_t n);

#endif
