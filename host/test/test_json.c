/* JSON output (escaping what a device sends) and JSON input (the batch
 * protocol's requests, including hostile ones). */
#include <stdlib.h>

#include "json.h"
#include "jsonread.h"
#include "testutil.h"

static void writer_structure(void **state)
{
    (void)state;
    struct hj j;
    hj_init(&j);
    hj_obj(&j);
    hj_kint(&j, "a", -1);
    hj_key(&j, "b");
    hj_arr(&j);
    hj_uint(&j, 1);
    hj_bool(&j, true);
    hj_null(&j);
    hj_obj(&j);
    hj_obj_end(&j);
    hj_arr_end(&j);
    hj_khex(&j, "h", (const uint8_t *)"\x00\xff\x10", 3);
    hj_kdouble(&j, "d", 0.5);
    hj_obj_end(&j);
    assert_string_equal(hj_text(&j), "{\"a\":-1,\"b\":[1,true,null,{}],\"h\":\"00ff10\",\"d\":0.5}");
    hj_reset(&j);
    hj_arr(&j);
    hj_arr_end(&j);
    assert_string_equal(hj_text(&j), "[]");
    hj_free(&j);
}

static void writer_escapes_device_text(void **state)
{
    (void)state;
    struct hj j;
    hj_init(&j);
    /* quotes, backslash, control characters (an ANSI escape), malformed UTF-8, a valid euro sign */
    hj_str(&j, "a\"b\\c\n\x1b[2J\xff\xc3(\xe2\x82\xac");
    assert_string_equal(hj_text(&j), "\"a\\\"b\\\\c\\u000a\\u001b[2J\\ufffd\\ufffd(\xe2\x82\xac\"");
    hj_reset(&j);
    hj_strn(&j, "x\0y", 3);
    assert_string_equal(hj_text(&j), "\"x\\u0000y\"");
    hj_reset(&j);
    hj_double(&j, 0.0 / 0.0);
    assert_string_equal(hj_text(&j), "null");
    hj_free(&j);
}

static void reader_values(void **state)
{
    (void)state;
    const char *t = "{\"id\": 7, \"cmd\": \"ctrl\", \"x\": -2, \"f\": 1.5, \"big\": 99999999999999999999,"
                    " \"s\": \"a\\n\\u00e9\\ud83d\\ude00\", \"arr\": [1, [2], {}], \"t\": true, \"n\": null, \"id\": 8}";
    char err[80];
    struct hjv *v = hjv_parse(t, strlen(t), err, sizeof err);
    assert_non_null(v);
    assert_int_equal(v->type, HJV_OBJECT);
    const struct hjv *id = hjv_get(v, "id");
    assert_int_equal(id->i, 8);   /* the last duplicate wins */
    assert_string_equal(hjv_get(v, "cmd")->str, "ctrl");
    assert_int_equal(hjv_get(v, "x")->i, -2);
    assert_false(hjv_get(v, "f")->is_int);
    assert_false(hjv_get(v, "big")->is_int);   /* does not fit: not an integer */
    assert_string_equal(hjv_get(v, "s")->str, "a\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(hjv_get(v, "arr")->n, 3);
    assert_true(hjv_get(v, "t")->b);
    assert_int_equal(hjv_get(v, "n")->type, HJV_NULL);
    assert_null(hjv_get(v, "missing"));
    assert_null(hjv_get(hjv_get(v, "arr"), "x"));
    hjv_free(v);
}

static void reader_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1 2]", "{\"a\":1} x", "\"open", "tru", "nul",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "-", "1e", "{1:2}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[80];
        struct hjv *v = hjv_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (v)
            fail_msg("accepted: %s", bad[i]);
        assert_true(strlen(err) > 0);
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
        hjv_free(hjv_parse(b, n, err, sizeof err));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_structure),
        cmocka_unit_test(writer_escapes_device_text),
        cmocka_unit_test(reader_values),
        cmocka_unit_test(reader_rejects),
        cmocka_unit_test(reader_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
