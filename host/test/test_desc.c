/* The descriptor parser on well-formed and malformed input: bLength 0 and
 * 1, lengths past the end, a wTotalLength that lies either way, odd string
 * lengths, broken UTF-16, chains that would loop a naive parser, and
 * random bytes (which must never crash it: run under ASan too). */
#include <stdlib.h>

#include "desc.h"
#include "testutil.h"

static void device_fields(void **state)
{
    (void)state;
    struct hilda_device_desc d;
    struct hilda_findings f;
    hilda_findings_init(&f);
    assert_true(hilda_parse_device(hilda_device_desc, 18, &d, &f));
    assert_int_equal(f.n, 0);
    assert_int_equal(d.bcdUSB, 0x0201);
    assert_int_equal(d.bMaxPacketSize0, 64);
    assert_int_equal(d.idVendor, 0x1209);
    assert_int_equal(d.idProduct, 0x0001);
    assert_int_equal(d.iSerialNumber, 3);
    assert_int_equal(d.bNumConfigurations, 1);
    hilda_findings_free(&f);
}

static void device_short_and_long(void **state)
{
    (void)state;
    struct hilda_device_desc d;
    struct hilda_findings f;
    hilda_findings_init(&f);
    assert_true(hilda_parse_device(hilda_device_desc, 8, &d, &f));
    assert_finding(&f, "P-DEV-SHORT");
    assert_int_equal(d.bMaxPacketSize0, 64);
    assert_int_equal(d.idVendor, 0);   /* not there: 0, never read past the end */
    hilda_findings_free(&f);

    uint8_t big[20];
    memcpy(big, hilda_device_desc, 18);
    big[18] = big[19] = 0xAA;
    hilda_findings_init(&f);
    hilda_parse_device(big, sizeof big, &d, &f);
    assert_finding(&f, "P-DEV-LONG");
    hilda_findings_free(&f);

    hilda_findings_init(&f);
    assert_false(hilda_parse_device(hilda_device_desc, 1, &d, &f));
    assert_finding(&f, "P-DEV-SHORT");
    hilda_findings_free(&f);

    uint8_t wrong[18];
    memcpy(wrong, hilda_device_desc, 18);
    wrong[0] = 17;
    wrong[1] = 2;
    hilda_findings_init(&f);
    assert_false(hilda_parse_device(wrong, 18, &d, &f));
    assert_finding(&f, "P-DEV-TYPE");
    assert_finding(&f, "P-DEV-LENGTH");
    hilda_findings_free(&f);
}

static void config_tree(void **state)
{
    (void)state;
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    assert_true(hilda_parse_config(hilda_config_desc, sizeof hilda_config_desc, "cfg", &l, &f));
    assert_int_equal(f.n, 0);
    assert_int_equal(l.n, 4);
    assert_false(l.truncated);
    assert_int_equal(l.consumed, 32);
    assert_int_equal(l.v[0].kind, HILDA_KIND_CONFIG);
    assert_int_equal(l.v[0].u.config.wTotalLength, 32);
    assert_int_equal(l.v[0].u.config.bmAttributes, 0x80);
    assert_int_equal(l.v[1].kind, HILDA_KIND_INTERFACE);
    assert_int_equal(l.v[1].depth, 1);
    assert_int_equal(l.v[1].u.intf.bInterfaceClass, 0xFF);
    assert_int_equal(l.v[2].kind, HILDA_KIND_ENDPOINT);
    assert_int_equal(l.v[2].depth, 2);
    assert_int_equal(l.v[2].u.ep.bEndpointAddress, 0x81);
    assert_int_equal(l.v[3].u.ep.wMaxPacketSize, 64);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void blength_zero_stops(void **state)
{
    (void)state;
    uint8_t b[32];
    memcpy(b, hilda_config_desc, sizeof b);
    b[18] = 0;   /* the first endpoint claims 0 bytes: a naive walk never advances */
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, sizeof b, "cfg", &l, &f);
    assert_finding(&f, "P-BLENGTH-ZERO");
    assert_true(l.truncated);
    assert_int_equal(l.n, 2);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    b[18] = 1;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, sizeof b, "cfg", &l, &f);
    assert_finding(&f, "P-BLENGTH-ONE");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    /* a blob of nothing but zeros: wTotalLength 0 is not believed either */
    uint8_t z[64] = { 0 };
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    assert_false(hilda_parse_config(z, sizeof z, "cfg", &l, &f));
    assert_finding(&f, "P-BLENGTH-ZERO");
    assert_finding(&f, "P-TOTAL-BOGUS");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void past_the_end(void **state)
{
    (void)state;
    uint8_t b[32];
    memcpy(b, hilda_config_desc, sizeof b);
    b[25] = 40;   /* the last endpoint claims 40 bytes, 7 are there */
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, sizeof b, "cfg", &l, &f);
    assert_finding(&f, "P-PAST-END");
    assert_true(l.truncated);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.v[3].bLength, 40);
    assert_int_equal(l.v[3].avail, 7);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void total_length_lies(void **state)
{
    (void)state;
    uint8_t b[40];
    struct hilda_desc_list l;
    struct hilda_findings f;

    /* claims more than arrived */
    memcpy(b, hilda_config_desc, 32);
    b[2] = 0x40;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    assert_true(hilda_parse_config(b, 32, "cfg", &l, &f));
    assert_finding(&f, "P-TOTAL-SHORT");
    assert_int_equal(l.n, 4);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    /* claims less: only wTotalLength bytes are parsed */
    memcpy(b, hilda_config_desc, 32);
    b[2] = 18;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, 32, "cfg", &l, &f);
    assert_finding(&f, "P-TOTAL-LONG");
    assert_int_equal(l.n, 2);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    /* a descriptor straddles wTotalLength */
    memcpy(b, hilda_config_desc, 32);
    b[2] = 20;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, 32, "cfg", &l, &f);
    assert_finding(&f, "P-PAST-END");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    /* trailing byte */
    memcpy(b, hilda_config_desc, 32);
    b[32] = 0x07;
    b[2] = 33;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, 33, "cfg", &l, &f);
    assert_finding(&f, "P-TRAILING-BYTE");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void loops_terminate(void **state)
{
    (void)state;
    /* 65535 bytes of 2-byte descriptors: 32767 records, far past the limit */
    size_t n = 65535;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    static const uint8_t head[9] = { 9, 2, 0xFF, 0xFF, 0, 1, 0, 0x80, 0 };
    memcpy(b, head, sizeof head);
    for (size_t i = 9; i + 1 < n; i += 2) {   /* 65526 bytes: the pairs fill them exactly */
        b[i] = 2;
        b[i + 1] = 0x24;
    }
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, n, "cfg", &l, &f);
    assert_finding(&f, "P-TOO-MANY");
    assert_int_equal(l.n, HILDA_DESC_RECORDS_MAX);
    assert_true(l.truncated);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
    free(b);
}

static void endpoint_too_short_and_orphan(void **state)
{
    (void)state;
    uint8_t b[] = { 0x09, 0x02, 0x0D, 0x00, 0x00, 0x01, 0x00, 0x80, 0x32, 0x04, 0x05, 0x81, 0x02 };
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, sizeof b, "cfg", &l, &f);
    assert_finding(&f, "P-TOO-SHORT");
    assert_finding(&f, "P-EP-ORPHAN");
    assert_int_equal(l.n, 2);
    assert_false(l.v[1].decoded);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void nested_header_and_wrong_head(void **state)
{
    (void)state;
    uint8_t b[41];
    memcpy(b, hilda_config_desc, 32);
    memcpy(b + 32, hilda_config_desc, 9);
    b[2] = 41;
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_config(b, sizeof b, "cfg", &l, &f);
    assert_finding(&f, "P-NESTED-HEAD");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    assert_false(hilda_parse_config(hilda_device_desc, 18, "cfg", &l, &f));
    assert_finding(&f, "P-HEAD-TYPE");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void bos(void **state)
{
    (void)state;
    struct hilda_desc_list l;
    struct hilda_findings f;
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    assert_true(hilda_parse_bos(hilda_bos_desc, sizeof hilda_bos_desc, &l, &f));
    assert_int_equal(f.n, 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].u.bos.bNumDeviceCaps, 1);
    assert_int_equal(l.v[1].kind, HILDA_KIND_DEVCAP);
    assert_int_equal(l.v[1].u.cap.bDevCapabilityType, USB_CAP_USB20_EXT);
    assert_int_equal(l.v[1].u.cap.bmAttributes, 0);
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);

    uint8_t b[12];
    memcpy(b, hilda_bos_desc, sizeof b);
    b[5] = 2;   /* a 2-byte capability: too short to say its type */
    hilda_desc_list_init(&l);
    hilda_findings_init(&f);
    hilda_parse_bos(b, sizeof b, &l, &f);
    assert_finding(&f, "P-TOO-SHORT");
    hilda_desc_list_free(&l);
    hilda_findings_free(&f);
}

static void strings(void **state)
{
    (void)state;
    uint8_t b[256];
    char out[64];
    struct hilda_findings f;
    size_t n = make_string(b, "hilda");
    hilda_findings_init(&f);
    assert_true(hilda_parse_string(b, n, "s", out, sizeof out, &f));
    assert_string_equal(out, "hilda");
    assert_int_equal(f.n, 0);
    hilda_findings_free(&f);

    /* odd length: the half unit is dropped, and said */
    b[0] = 5;
    hilda_findings_init(&f);
    hilda_parse_string(b, 5, "s", out, sizeof out, &f);
    assert_string_equal(out, "h");
    assert_finding(&f, "P-STR-ODD");
    hilda_findings_free(&f);

    /* bLength says more than arrived, and less */
    n = make_string(b, "abc");
    hilda_findings_init(&f);
    hilda_parse_string(b, 4, "s", out, sizeof out, &f);
    assert_finding(&f, "P-STR-LENGTH");
    assert_string_equal(out, "a");
    hilda_findings_free(&f);
    b[0] = 4;
    hilda_findings_init(&f);
    hilda_parse_string(b, n, "s", out, sizeof out, &f);
    assert_finding(&f, "P-STR-LENGTH");
    assert_string_equal(out, "a");
    hilda_findings_free(&f);

    /* UTF-16: a pair becomes one 4-byte character; an unpaired half U+FFFD */
    uint8_t pair[] = { 8, 3, 0x3D, 0xD8, 0x00, 0xDE, 0x41, 0x00 };
    hilda_findings_init(&f);
    hilda_parse_string(pair, sizeof pair, "s", out, sizeof out, &f);
    assert_string_equal(out, "\xF0\x9F\x98\x80" "A");
    assert_int_equal(f.n, 0);
    hilda_findings_free(&f);
    uint8_t lone[] = { 6, 3, 0x00, 0xDC, 0x41, 0x00 };
    hilda_findings_init(&f);
    hilda_parse_string(lone, sizeof lone, "s", out, sizeof out, &f);
    assert_string_equal(out, "\xEF\xBF\xBD" "A");
    assert_finding(&f, "P-STR-UTF16");
    hilda_findings_free(&f);

    /* the output buffer bounds the text, never the input */
    n = make_string(b, "a long string that does not fit");
    hilda_findings_init(&f);
    hilda_parse_string(b, n, "s", out, 8, &f);
    assert_string_equal(out, "a long ");
    hilda_findings_free(&f);

    /* wrong type, bLength below 2, nothing at all */
    b[1] = 0x02;
    hilda_findings_init(&f);
    assert_false(hilda_parse_string(b, n, "s", out, sizeof out, &f));
    assert_finding(&f, "P-STR-TYPE");
    hilda_findings_free(&f);
    uint8_t tiny[] = { 1, 3 };
    hilda_findings_init(&f);
    assert_false(hilda_parse_string(tiny, 2, "s", out, sizeof out, &f));
    assert_false(hilda_parse_string(tiny, 1, "s", out, sizeof out, &f));
    assert_false(hilda_parse_string(NULL, 0, "s", out, sizeof out, &f));
    hilda_findings_free(&f);
}

static void string_255(void **state)
{
    (void)state;
    /* HILDA_VARIANT_STRING_255: 126 characters and one odd byte */
    uint8_t b[255];
    b[0] = 255;
    b[1] = 3;
    for (size_t i = 0; i < 253; i++)
        b[2 + i] = i % 2 ? 0 : (uint8_t)('A' + (i / 2) % 26);
    char out[300];
    struct hilda_findings f;
    hilda_findings_init(&f);
    hilda_parse_string(b, sizeof b, "s", out, sizeof out, &f);
    assert_int_equal(strlen(out), 126);
    assert_finding(&f, "P-STR-ODD");
    hilda_findings_free(&f);
}

static void langids(void **state)
{
    (void)state;
    uint16_t ids[4];
    struct hilda_findings f;
    hilda_findings_init(&f);
    assert_int_equal(hilda_parse_langids(hilda_string0, 4, ids, 4, &f), 1);
    assert_int_equal(ids[0], 0x0409);
    assert_int_equal(f.n, 0);
    uint8_t many[] = { 10, 3, 1, 0, 2, 0, 3, 0, 4, 0 };
    assert_int_equal(hilda_parse_langids(many, sizeof many, ids, 2, &f), 2);   /* bounded by max */
    uint8_t odd[] = { 5, 3, 9, 4, 7 };
    assert_int_equal(hilda_parse_langids(odd, sizeof odd, ids, 4, &f), 1);
    assert_finding(&f, "P-STR-ODD");
    assert_int_equal(hilda_parse_langids(odd, 1, ids, 4, &f), 0);
    hilda_findings_free(&f);
}

static void little_endian_bounds(void **state)
{
    (void)state;
    uint8_t b[] = { 1, 2, 3, 4 };
    assert_int_equal(hilda_le16(b, 4, 0), 0x0201);
    assert_int_equal(hilda_le16(b, 4, 3), 0);
    assert_int_equal(hilda_le16(b, 4, 9), 0);
    assert_int_equal(hilda_le32(b, 4, 0), 0x04030201);
    assert_int_equal(hilda_le32(b, 4, 1), 0);
    assert_int_equal(hilda_le16(NULL, 4, 0), 0);
}

static void usbfs_blob(void **state)
{
    (void)state;
    uint8_t b[18 + 32 + 32];
    memcpy(b, hilda_device_desc, 18);
    memcpy(b + 18, hilda_config_desc, 32);
    memcpy(b + 50, hilda_config_desc, 32);
    size_t starts[4], lens[4];
    struct hilda_findings f;
    hilda_findings_init(&f);
    assert_int_equal(hilda_split_usbfs_blob(b, sizeof b, starts, lens, 4, &f), 2);
    assert_int_equal(starts[1], 50);
    assert_int_equal(lens[1], 32);
    assert_int_equal(hilda_split_usbfs_blob(b, 18 + 34, starts, lens, 4, &f), 1);
    assert_finding(&f, "P-BLOB-TRAILING");
    b[20] = 0;
    b[21] = 0;   /* wTotalLength 0 */
    assert_int_equal(hilda_split_usbfs_blob(b, sizeof b, starts, lens, 4, &f), 1);
    assert_finding(&f, "P-BLOB-TOTAL");
    hilda_findings_free(&f);
}

static void random_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t s = 12345;
    uint8_t b[300];
    char out[128];
    uint16_t ids[8];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        n = (size_t)(s >> 33) % sizeof b;
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (uint8_t)(s >> 56);
            if (i % 7 == 0)
                b[i] = (uint8_t)(s >> 60);   /* small lengths are the interesting ones */
        }
        struct hilda_desc_list l;
        struct hilda_findings f;
        struct hilda_device_desc d;
        hilda_desc_list_init(&l);
        hilda_findings_init(&f);
        hilda_parse_config(b, n, "c", &l, &f);
        for (size_t i = 0; i < l.n; i++)
            assert_true(l.v[i].offset + l.v[i].avail <= n);
        hilda_parse_bos(b, n, &l, &f);
        hilda_parse_device(b, n, &d, &f);
        hilda_parse_string(b, n, "s", out, sizeof out, &f);
        hilda_parse_langids(b, n, ids, 8, &f);
        hilda_desc_list_free(&l);
        hilda_findings_free(&f);
    }
}

static void findings_bounded(void **state)
{
    (void)state;
    struct hilda_findings f;
    hilda_findings_init(&f);
    for (int i = 0; i < HILDA_FINDINGS_MAX + 50; i++)
        hilda_findings_add(&f, HILDA_SEV_WARNING, "X", "here", "number %d", i);
    assert_int_equal(f.n, HILDA_FINDINGS_MAX);
    assert_int_equal(f.dropped, 50);
    assert_int_equal(hilda_findings_count(&f, HILDA_SEV_ERROR), 0);
    assert_int_equal(hilda_findings_count(&f, HILDA_SEV_INFO), HILDA_FINDINGS_MAX);
    hilda_findings_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_fields),
        cmocka_unit_test(device_short_and_long),
        cmocka_unit_test(config_tree),
        cmocka_unit_test(blength_zero_stops),
        cmocka_unit_test(past_the_end),
        cmocka_unit_test(total_length_lies),
        cmocka_unit_test(loops_terminate),
        cmocka_unit_test(endpoint_too_short_and_orphan),
        cmocka_unit_test(nested_header_and_wrong_head),
        cmocka_unit_test(bos),
        cmocka_unit_test(strings),
        cmocka_unit_test(string_255),
        cmocka_unit_test(langids),
        cmocka_unit_test(little_endian_bounds),
        cmocka_unit_test(usbfs_blob),
        cmocka_unit_test(random_bytes_never_crash),
        cmocka_unit_test(findings_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
