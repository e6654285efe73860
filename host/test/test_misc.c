/* The small parts: statistics, text and hex helpers, the status table
 * (exit codes), the stress generator's determinism, timing cell lists. */
#include <libusb.h>
#include <stdlib.h>

#include "stats.h"
#include "status.h"
#include "stress.h"
#include "testutil.h"
#include "text.h"
#include "timing.h"
#include "vendor.h"

static void percentiles(void **state)
{
    (void)state;
    struct hilda_samples s;
    struct hilda_summary m;
    hilda_samples_init(&s);
    hilda_summarize(&s, &m);
    assert_int_equal(m.n, 0);
    for (int i = 100; i >= 1; i--)
        hilda_samples_add(&s, i);
    hilda_summarize(&s, &m);
    assert_int_equal(m.n, 100);
    assert_true(m.min == 1 && m.max == 100);
    assert_true(m.p50 == 50 && m.p90 == 90 && m.p99 == 99);
    assert_true(m.mean == 50.5);
    double one[] = { 7 };
    assert_true(hilda_percentile(one, 1, 99) == 7);
    assert_true(hilda_percentile(one, 0, 50) == 0);
    hilda_samples_free(&s);
}

static void histogram(void **state)
{
    (void)state;
    struct hilda_samples s;
    hilda_samples_init(&s);
    double v[] = { 0.1, 1.9, 2, 3.9, 4, 150, 1e12 };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        hilda_samples_add(&s, v[i]);
    unsigned long h[HILDA_HIST_BUCKETS];
    hilda_histogram(&s, h);
    assert_int_equal(h[0], 2);    /* [0, 2) */
    assert_int_equal(h[1], 2);    /* [2, 4) */
    assert_int_equal(h[2], 1);    /* [4, 8) */
    assert_int_equal(h[7], 1);    /* [128, 256) */
    assert_int_equal(h[HILDA_HIST_BUCKETS - 1], 1);   /* the last bucket takes the rest */
    assert_true(hilda_bucket_lower(0) == 0 && hilda_bucket_lower(3) == 8);
    hilda_samples_free(&s);
}

static void escapes(void **state)
{
    (void)state;
    char out[64];
    hilda_escape("ok \xe2\x82\xac", out, sizeof out);
    assert_string_equal(out, "ok \xe2\x82\xac");
    hilda_escape("\x1b[31mred\x07\xff\xc2\x9b", out, sizeof out);
    assert_string_equal(out, "\\x1b[31mred\\x07\\xff\\xc2\\x9b");
    hilda_escape("abcdefgh", out, 4);
    assert_string_equal(out, "abc");
    hilda_escape(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

static void hex(void **state)
{
    (void)state;
    uint8_t b[8];
    size_t n;
    assert_true(hilda_hex_decode("de ad:BE,ef", b, sizeof b, &n));
    assert_int_equal(n, 4);
    assert_int_equal(b[3], 0xEF);
    assert_true(hilda_hex_decode("0x01 0x02", b, sizeof b, &n));
    assert_int_equal(n, 2);
    assert_true(hilda_hex_decode("", b, sizeof b, &n));
    assert_int_equal(n, 0);
    assert_false(hilda_hex_decode("abc", b, sizeof b, &n));
    assert_false(hilda_hex_decode("zz", b, sizeof b, &n));
    assert_false(hilda_hex_decode("000102030405060708", b, sizeof b, &n));   /* 9 bytes into 8 */
    assert_false(hilda_hex_decode("1 2", b, sizeof b, &n));   /* not 0x12: each byte is two digits */
    /* the reason names the real problem */
    char why[80];
    assert_false(hilda_hex_parse("xyz", b, sizeof b, &n, why, sizeof why));
    assert_string_equal(why, "'xyz' is not hexadecimal");
    assert_false(hilda_hex_parse("abc", b, sizeof b, &n, why, sizeof why));
    assert_string_equal(why, "odd number of digits (3)");
    assert_false(hilda_hex_parse("0a 1b2", b, sizeof b, &n, why, sizeof why));
    assert_string_equal(why, "odd number of digits (3) in '1b2'");
    assert_false(hilda_hex_parse("000102030405060708", b, sizeof b, &n, why, sizeof why));
    assert_string_equal(why, "9 bytes, at most 8");
    assert_true(hilda_hex_parse("0x0a,0x1b", b, sizeof b, &n, why, sizeof why));
    assert_int_equal(n, 2);
    assert_int_equal(b[1], 0x1b);
}

/* echo's mismatch report: the offset and the region around it, not the whole buffer */
static void hexdiff(void **state)
{
    (void)state;
    uint8_t want[4096], got[4096];
    for (size_t i = 0; i < sizeof want; i++)
        want[i] = got[i] = (uint8_t)i;
    got[1000] = 0xEE;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hilda_hexdiff(f, want, sizeof want, got, sizeof got, "  ");
    fclose(f);
    assert_non_null(strstr(text, "first difference at offset 1000 (0x3e8): sent 0xe8, read 0xee\n"));
    assert_non_null(strstr(text, "sent, from offset 976:\n"));
    assert_non_null(strstr(text, "    0010  e0 e1 e2 e3 e4 e5 e6 e7  ee e9"));   /* offset 1000 is 976 + 0x18 */
    size_t lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 1 + 2 * (1 + 4));   /* 64 bytes of each, not 4096 */
    free(text);
    /* a short read: which side is shorter */
    f = open_memstream(&text, &len);
    hilda_hexdiff(f, want, 20, got, 8, "");
    fclose(f);
    assert_non_null(strstr(text, "the first 8 bytes agree; 20 sent, 8 read\n"));
    free(text);
}

static void numbers(void **state)
{
    (void)state;
    unsigned long v;
    assert_true(hilda_parse_uint("0x10", 255, &v) && v == 16);
    assert_true(hilda_parse_uint("255", 255, &v) && v == 255);
    assert_false(hilda_parse_uint("256", 255, &v));
    assert_false(hilda_parse_uint("-1", 255, &v));
    assert_false(hilda_parse_uint("1x", 255, &v));
    assert_false(hilda_parse_uint("", 255, &v));
    uint16_t vid, pid;
    assert_true(hilda_parse_vidpid("1209:0001", &vid, &pid) && vid == 0x1209 && pid == 1);
    assert_false(hilda_parse_vidpid("1209", &vid, &pid));
    assert_false(hilda_parse_vidpid("12345:1", &vid, &pid));
    assert_false(hilda_parse_vidpid("1209:", &vid, &pid));
}

static void exit_codes(void **state)
{
    (void)state;
    /* each status has its own documented exit code and name */
    for (int a = 0; a < HILDA_STATUS_COUNT; a++)
        for (int b = a + 1; b < HILDA_STATUS_COUNT; b++) {
            assert_int_not_equal(hilda_status_exit_code(a), hilda_status_exit_code(b));
            assert_string_not_equal(hilda_status_name(a), hilda_status_name(b));
        }
    assert_int_equal(hilda_status_exit_code(HILDA_OK), 0);
    assert_int_equal(hilda_status_exit_code(HILDA_ERR_USAGE), 2);
    assert_int_equal(hilda_status_from_libusb(LIBUSB_ERROR_PIPE), HILDA_ERR_STALL);
    assert_int_equal(hilda_status_from_libusb(LIBUSB_ERROR_TIMEOUT), HILDA_ERR_TIMEOUT);
    assert_int_equal(hilda_status_from_libusb(LIBUSB_ERROR_NO_DEVICE), HILDA_ERR_NO_DEVICE);
    assert_int_equal(hilda_status_from_libusb(LIBUSB_ERROR_IO), HILDA_ERR_IO);
    assert_int_equal(hilda_status_from_libusb(5), HILDA_OK);
    struct hilda_error e;
    assert_int_equal(hilda_fail(&e, HILDA_ERR_STALL, "x %d", 1), HILDA_ERR_STALL);
    assert_string_equal(e.message, "x 1");
    assert_string_equal(hilda_status_name(HILDA_ERR_NO_DEVICE), "no_device");
}

static void generator(void **state)
{
    (void)state;
    uint64_t a = 42, b = 42, c = 43;
    for (int i = 0; i < 100; i++)
        assert_true(hilda_rng_next(&a) == hilda_rng_next(&b));
    assert_true(hilda_rng_next(&a) != hilda_rng_next(&c));
    enum hilda_stress_piece p;
    assert_true(hilda_stress_piece_parse("echo", &p) && p == HILDA_STRESS_ECHO);
    assert_false(hilda_stress_piece_parse("Echo", &p));
    enum hilda_timing_kind k;
    assert_true(hilda_timing_kind_parse("descriptor", &k) && k == HILDA_TIMING_DESCRIPTOR);
    assert_false(hilda_timing_kind_parse("bulk", &k));
}

static void protocol_names(void **state)
{
    (void)state;
    assert_string_equal(hilda_counter_names[0], "setups");
    assert_string_equal(hilda_counter_names[15], "core_hz");
    assert_string_equal(hilda_counter_names[HILDA_COUNTERS_FIELDS - 1], "uart_rx_flow_stops");
    struct hilda_counters k = { .setups = 1, .core_hz = 64000000 };
    assert_int_equal(hilda_counter_value(&k, 0), 1);
    assert_int_equal(hilda_counter_value(&k, 15), 64000000);
    assert_int_equal(hilda_counter_value(&k, 99), 0);
    assert_true(hilda_uart_baud_supported(115200));
    assert_false(hilda_uart_baud_supported(115201));
    assert_string_equal(hilda_variant_name(HILDA_VARIANT_STRING_255), "string_255");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percentiles),
        cmocka_unit_test(histogram),
        cmocka_unit_test(escapes),
        cmocka_unit_test(hex),
        cmocka_unit_test(hexdiff),
        cmocka_unit_test(numbers),
        cmocka_unit_test(exit_codes),
        cmocka_unit_test(generator),
        cmocka_unit_test(protocol_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
