/* JSON output (jansson, with hilda's UTF-8 step for what a device sends and
 * its number formats) and JSON input (the batch protocol's requests and
 * their fields, including hostile ones). */
#include <math.h>
#include <stdlib.h>

#include "json.h"
#include "jsonread.h"
#include "testutil.h"

static void expect_dump(const json_t *v, const char *want)
{
    char *t = hj_dump(v);
    assert_non_null(t);
    assert_string_equal(t, want);
    free(t);
}

static void writer_structure(void **state)
{
    (void)state;
    json_t *o = json_object();
    hj_set_int(o, "a", -1);
    json_t *b = json_array();
    hj_append(b, hj_uint(1));
    hj_append(b, json_true());
    hj_append(b, json_null());
    hj_append(b, json_object());
    hj_set(o, "b", b);
    hj_set_hex(o, "h", (const uint8_t *)"\x00\xff\x10", 3);
    hj_set_real(o, "d", 0.5);
    hj_set_str(o, "s", NULL);
    hj_set_uint(o, "a", 7);   /* a key set again keeps its place */
    expect_dump(o, "{\"a\":7,\"b\":[1,true,null,{}],\"h\":\"00ff10\",\"d\":0.5,\"s\":\"\"}");
    json_decref(o);
    json_t *e = json_array();
    expect_dump(e, "[]");
    json_decref(e);
}

/* The UTF-8 step: every byte that does not start a well-formed sequence
 * becomes U+FFFD, one per byte; what is well-formed passes unchanged. */
static void utf8_step(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        { "plain", 5, "plain" },
        { "\xe2\x82\xac", 3, "\xe2\x82\xac" },                                   /* U+20AC */
        { "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },                           /* U+1F600 */
        { "\xff", 1, "\xef\xbf\xbd" },                                           /* never in UTF-8 */
        { "\xc3(", 2, "\xef\xbf\xbd(" },                                         /* a lead byte without its tail */
        { "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },                           /* overlong '/' */
        { "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },           /* a surrogate */
        { "\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },   /* above U+10FFFF */
        { "ab\xe2\x82", 4, "ab\xef\xbf\xbd\xef\xbf\xbd" },                       /* cut short at the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t k = hilda_utf8_clean(cases[i].in, cases[i].n, out);
        assert_int_equal(k, strlen(cases[i].out));
        assert_string_equal(out, cases[i].out);
    }
    char out[16];
    assert_int_equal(hilda_utf8_clean("x\0y", 3, out), 3);   /* NULs are kept */
    assert_memory_equal(out, "x\0y", 4);
}

static void writer_escapes_device_text(void **state)
{
    (void)state;
    json_t *s = hj_str("a\"b\\c\n\x1b[2J\xff\xc3(\xe2\x82\xac");
    assert_non_null(s);   /* jansson alone refuses malformed UTF-8 */
    expect_dump(s, "\"a\\\"b\\\\c\\n\\u001B[2J\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac\"");
    json_decref(s);
    s = hj_strn("x\0y", 3);
    expect_dump(s, "\"x\\u0000y\"");
    json_decref(s);
}

/* Numbers print as they always have: doubles with 6 significant digits,
 * an integral one as an integer; NaN and infinities as null. */
static void writer_numbers(void **state)
{
    (void)state;
    json_t *a = json_array();
    hj_append(a, hj_real(2.0));
    hj_append(a, hj_real(0.0));
    hj_append(a, hj_real(225.4567891));
    hj_append(a, hj_real(1.0 / 3.0));
    hj_append(a, hj_real(123456.0));
    hj_append(a, hj_real(NAN));
    hj_append(a, hj_real(INFINITY));
    hj_append(a, hj_uint(18446744073709551615ull >> 1));
    expect_dump(a, "[2,0,225.457,0.333333,123456,null,null,9223372036854775807]");
    json_decref(a);
}

static void reader_values(void **state)
{
    (void)state;
    const char *t = "{\"id\": 7, \"cmd\": \"ctrl\", \"x\": -2, \"f\": 1.5, \"big\": 1e30,"
                    " \"s\": \"a\\n\\u00e9\\ud83d\\ude00\", \"arr\": [1, [2], {}], \"t\": true, \"n\": null, \"id\": 8}";
    char err[80];
    json_t *v = hilda_json_parse(t, strlen(t), err, sizeof err);
    assert_non_null(v);
    assert_true(json_is_object(v));
    assert_int_equal(json_integer_value(json_object_get(v, "id")), 8);   /* the last duplicate wins */
    assert_string_equal(json_string_value(json_object_get(v, "cmd")), "ctrl");
    assert_int_equal(json_integer_value(json_object_get(v, "x")), -2);
    assert_false(json_is_integer(json_object_get(v, "f")));
    assert_false(json_is_integer(json_object_get(v, "big")));
    assert_string_equal(json_string_value(json_object_get(v, "s")), "a\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(json_array_size(json_object_get(v, "arr")), 3);
    assert_true(json_is_true(json_object_get(v, "t")));
    assert_true(json_is_null(json_object_get(v, "n")));
    json_decref(v);
}

static void reader_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1 2]", "{\"a\":1} x", "\"open", "tru", "nul",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "-", "1e", "{1:2}", "{\"a\":\"\xff\"}",
        "{\"big\":99999999999999999999}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[80];
        json_t *v = hilda_json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (v)
            fail_msg("accepted: %s", bad[i]);
        assert_true(strlen(err) > 0);
        assert_non_null(strstr(err, "at byte"));
    }
}

static void reader_random_bytes(void **state)
{
    (void)state;
    uint64_t s = 99;
    char b[64];
    static const char alphabet[] = "{}[]\":,0123456789.eE+-tfnul\\ \"abc";
    for (int iter = 0; iter < 20000; iter++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(s >> 40) % sizeof b;
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = alphabet[(s >> 33) % (sizeof alphabet - 1)];
        }
        char err[80];
        json_decref(hilda_json_parse(b, n, err, sizeof err));
    }
}

/* Request fields: absent or null is the default, numbers may be strings,
 * the wrong type is a usage error naming the field. */
static void request_fields(void **state)
{
    (void)state;
    const char *t = "{\"n\":5,\"h\":\"0x20\",\"neg\":-1,\"f\":1.5,\"z\":null,\"b\":true,\"s\":\"x\",\"nul\":\"a\\u0000b\","
                    "\"hex\":\"de ad\",\"badhex\":\"xyz\"}";
    char err[80];
    json_t *req = hilda_json_parse(t, strlen(t), err, sizeof err);
    assert_non_null(req);
    struct hilda_error e;
    unsigned long long u;
    assert_true(hilda_field_uint(req, "n", 10, 0, &u, &e));
    assert_int_equal(u, 5);
    assert_true(hilda_field_uint(req, "h", 255, 0, &u, &e));
    assert_int_equal(u, 0x20);
    assert_true(hilda_field_uint(req, "z", 255, 9, &u, &e));
    assert_int_equal(u, 9);
    assert_true(hilda_field_uint(req, "missing", 255, 3, &u, &e));
    assert_int_equal(u, 3);
    hilda_error_clear(&e);
    assert_false(hilda_field_uint(req, "n", 4, 0, &u, &e));
    assert_int_equal(e.status, HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "\"n\""));
    assert_false(hilda_field_uint(req, "neg", 4, 0, &u, &e));
    assert_false(hilda_field_uint(req, "f", 4, 0, &u, &e));
    assert_false(hilda_field_uint(req, "b", 4, 0, &u, &e));
    bool b;
    assert_true(hilda_field_bool(req, "b", false, &b, &e) && b);
    assert_true(hilda_field_bool(req, "missing", true, &b, &e) && b);
    assert_false(hilda_field_bool(req, "n", false, &b, &e));
    const char *s;
    assert_true(hilda_field_str(req, "s", &s, &e));
    assert_string_equal(s, "x");
    assert_true(hilda_field_str(req, "missing", &s, &e));
    assert_null(s);
    assert_false(hilda_field_str(req, "nul", &s, &e));   /* a NUL inside: not a string for us */
    assert_false(hilda_field_str(req, "n", &s, &e));
    uint8_t buf[4];
    size_t n;
    bool present;
    assert_true(hilda_field_hex(req, "hex", buf, sizeof buf, &n, &present, &e));
    assert_true(present);
    assert_int_equal(n, 2);
    assert_int_equal(buf[0], 0xde);
    assert_true(hilda_field_hex(req, "missing", buf, sizeof buf, &n, &present, &e));
    assert_false(present);
    assert_false(hilda_field_hex(req, "badhex", buf, sizeof buf, &n, &present, &e));
    assert_false(hilda_field_hex(req, "hex", buf, 1, &n, &present, &e));   /* more than cap */
    json_decref(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_structure),
        cmocka_unit_test(utf8_step),
        cmocka_unit_test(writer_escapes_device_text),
        cmocka_unit_test(writer_numbers),
        cmocka_unit_test(reader_values),
        cmocka_unit_test(reader_rejects),
        cmocka_unit_test(reader_random_bytes),
        cmocka_unit_test(request_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
