/* JSON input for the batch protocol: one text (a line) parsed into a tree.
 * Bounded: nesting depth, and the input length the caller passes. */
#ifndef HILDA_JSONREAD_H
#define HILDA_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

#define HJV_DEPTH_MAX 16

enum hjv_type { HJV_NULL, HJV_BOOL, HJV_NUMBER, HJV_STRING, HJV_ARRAY, HJV_OBJECT };

struct hjv {
    enum hjv_type type;
    bool b;
    double num;
    bool is_int;             /* a number without fraction or exponent that fits long long */
    long long i;
    char *str;               /* STRING: UTF-8, NUL-terminated (may hold NULs: see len) */
    size_t len;
    struct hjv *items;       /* ARRAY and OBJECT values */
    char **keys;             /* OBJECT keys */
    size_t n;
};

/* NULL on error, with a sentence in err. */
struct hjv *hjv_parse(const char *text, size_t len, char *err, size_t errcap);
void hjv_free(struct hjv *v);
const struct hjv *hjv_get(const struct hjv *obj, const char *key);

#endif
