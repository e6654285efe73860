/* libFuzzer target for the batch protocol's JSON reader, and the writer
 * on what it read (every string goes back out through the escaper). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void echo(struct hj *j, const struct hjv *v, int depth)
{
    switch (v->type) {
    case HJV_NULL: hj_null(j); break;
    case HJV_BOOL: hj_bool(j, v->b); break;
    case HJV_NUMBER:
        if (v->is_int)
            hj_int(j, v->i);
        else
            hj_double(j, v->num);
        break;
    case HJV_STRING: hj_strn(j, v->str, v->len); break;
    case HJV_ARRAY:
    case HJV_OBJECT:
        if (v->type == HJV_ARRAY)
            hj_arr(j);
        else
            hj_obj(j);
        for (size_t i = 0; i < v->n; i++) {
            if (v->type == HJV_OBJECT)
                hj_key(j, v->keys[i]);
            echo(j, &v->items[i], depth + 1);
        }
        if (v->type == HJV_ARRAY)
            hj_arr_end(j);
        else
            hj_obj_end(j);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    char err[128];
    struct hjv *v = hjv_parse(copy, size, err, sizeof err);
    if (v) {
        struct hj j;
        hj_init(&j);
        echo(&j, v, 0);
        /* what the writer made must read back */
        const char *t = hj_text(&j);
        struct hjv *again = hjv_parse(t, strlen(t), err, sizeof err);
        if (!again && !j.oom)
            abort();
        hjv_free(again);
        hj_free(&j);
        (void)hjv_get(v, "cmd");
    }
    hjv_free(v);
    free(copy);
    return 0;
}
