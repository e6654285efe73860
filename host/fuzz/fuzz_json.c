/* libFuzzer target for what reads untrusted JSON: a batch request line,
 * taken the way `hilda batch` takes it (batch_request_parse: jansson, the
 * cmd looked up, the command's JSON-args parser filling its args), and the
 * writer on what was read (every string back out through the UTF-8 step,
 * whose output must read back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string of v into a JSON value again, bytes as they are. */
static void rewrite(const json_t *v, json_t *out)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, x) {
            hj_append(out, hj_strn(key, strlen(key)));
            rewrite(x, out);
        }
    } else if (json_is_array(v)) {
        // cppcheck-suppress unknownMacro ; jansson's iteration macro: cppcheck reads no system headers
        json_array_foreach(v, i, x)
            rewrite(x, out);
    } else if (json_is_string(v)) {
        hj_append(out, hj_strn(json_string_value(v), json_string_length(v)));
    } else if (json_is_real(v)) {
        hj_append(out, hj_real(json_real_value(v)));
    } else if (json_is_integer(v)) {
        hj_append(out, hj_uint((unsigned long long)json_integer_value(v)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the request path, as a line of `hilda batch` */
    struct batch_request r;
    struct hilda_error e;
    hilda_error_clear(&e);
    (void)batch_request_parse((const char *)data, size, &r, &e);
    batch_request_free(&r);

    /* the writer: device-like text (the raw input) and what the reader made */
    json_t *out = json_array();
    hj_append(out, hj_strn((const char *)data, size));
    char err[160];
    json_t *v = hilda_json_parse((const char *)data, size, err, sizeof err);
    if (v)
        rewrite(v, out);
    json_decref(v);
    char *text = hj_dump(out);
    if (text) {
        json_t *again = hilda_json_parse(text, strlen(text), err, sizeof err);
        if (!again)
            abort();   /* what the writer made must read back */
        json_decref(again);
        free(text);
    }
    json_decref(out);
    return 0;
}
