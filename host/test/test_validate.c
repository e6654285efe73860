/* The chapter 9 validator: the hilda dongle's own descriptors are clean,
 * and each rule fires on a descriptor set broken in that one way. */
#include <libusb.h>
#include <stdlib.h>

#include "descset.h"
#include "testutil.h"
#include "validate.h"

static void put(struct hilda_raw *r, const uint8_t *data, size_t len)
{
    free(r->data);
    r->data = malloc(len ? len : 1);
    memcpy(r->data, data, len);
    r->len = len;
    r->present = true;
    r->status = 0;
}

/* The set `hilda desc` reads from the dongle, as a device at full speed. */
static void hilda_set(struct hilda_desc_set *s)
{
    hilda_desc_set_init(s);
    s->from_device = true;
    s->speed = LIBUSB_SPEED_FULL;
    s->active_config = 1;
    put(&s->device, hilda_device_desc, 18);
    s->n_configs = 1;
    put(&s->configs[0], hilda_config_desc, sizeof hilda_config_desc);
    put(&s->bos, hilda_bos_desc, sizeof hilda_bos_desc);
    put(&s->string0, hilda_string0, sizeof hilda_string0);
    static const char *const texts[] = { "hilda", "hilda nRF52840 test dongle", "1209CAFE00D0BEEF",
                                         "hilda vendor loopback" };
    for (int i = 0; i < 4; i++) {
        uint8_t b[255];
        size_t n = make_string(b, texts[i]);
        s->strings[i].index = (uint8_t)(i + 1);
        s->strings[i].langid = 0x0409;
        put(&s->strings[i].raw, b, n);
    }
    s->n_strings = 4;
    s->qualifier.status = 8;   /* refused */
    s->other_speed.status = 8;
    static const uint8_t status[2] = { 0, 0 };
    put(&s->status, status, 2);
}

static struct hilda_findings run(struct hilda_desc_set *s)
{
    struct hilda_findings f;
    hilda_findings_init(&f);
    hilda_validate(s, &f);
    return f;
}

static void clean_device(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    struct hilda_findings f = run(&s);
    assert_int_equal(hilda_findings_count(&f, HILDA_SEV_WARNING), 0);
    assert_finding(&f, "C9-CAP-LPM");   /* the one note: no LPM, fine at full speed */
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

/* Changes one byte of the configuration and checks the finding. */
static void config_byte(size_t off, uint8_t v, const char *id)
{
    struct hilda_desc_set s;
    hilda_set(&s);
    s.configs[0].data[off] = v;
    struct hilda_findings f = run(&s);
    if (!find_finding(&f, id))
        fail_msg("config byte %zu = 0x%02X: expected %s", off, v, id);
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void device_byte(size_t off, uint8_t v, const char *id)
{
    struct hilda_desc_set s;
    hilda_set(&s);
    s.device.data[off] = v;
    struct hilda_findings f = run(&s);
    if (!find_finding(&f, id))
        fail_msg("device byte %zu = 0x%02X: expected %s", off, v, id);
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void device_rules(void **state)
{
    (void)state;
    device_byte(7, 7, "C9-DEV-MAXP0");
    device_byte(7, 128, "C9-DEV-MAXP0");
    device_byte(2, 0x1A, "C9-DEV-BCDUSB");    /* 0x021A: not BCD */
    device_byte(17, 0, "C9-DEV-NUMCONFIGS");
    device_byte(5, 1, "C9-DEV-CLASS");        /* subclass without a class */
    device_byte(16, 9, "C9-STR-MISSING");     /* iSerialNumber names no string */
    device_byte(0, 17, "P-DEV-LENGTH");
}

static void bos_presence(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    free(s.bos.data);
    s.bos.data = NULL;
    s.bos.present = false;
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-BOS-MISSING");
    hilda_findings_free(&f);
    s.device.data[2] = 0x00;   /* bcdUSB 2.00 with a BOS answered */
    put(&s.bos, hilda_bos_desc, sizeof hilda_bos_desc);
    f = run(&s);
    assert_finding(&f, "C9-BOS-UNEXPECTED");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void bos_rules(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    s.bos.data[4] = 2;   /* bNumDeviceCaps 2, one follows */
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-BOS-NUMCAPS");
    hilda_findings_free(&f);
    s.bos.data[4] = 1;
    s.bos.data[8] = 0x01;   /* bmAttributes bit 0: reserved */
    f = run(&s);
    assert_finding(&f, "C9-CAP-RESERVED");
    hilda_findings_free(&f);
    s.bos.data[6] = 0x11;   /* not a device capability */
    f = run(&s);
    assert_finding(&f, "C9-BOS-TYPE");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

/* Found by fuzz_desc: a container ID capability whose bLength (20) runs
 * past the end of the BOS, leaving 3 bytes: its reserved byte is not there. */
static void bos_truncated_capability(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    static const uint8_t bos[8] = { 0x05, 0x0F, 0x19, 0x00, 0x01, 0x14, 0x10, 0x04 };
    put(&s.bos, bos, sizeof bos);
    struct hilda_findings f = run(&s);
    assert_finding(&f, "P-PAST-END");
    assert_finding(&f, "P-TOTAL-SHORT");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void config_rules(void **state)
{
    (void)state;
    config_byte(7, 0x00, "C9-CFG-ATTR");      /* bit 7 clear */
    config_byte(7, 0x81, "C9-CFG-ATTR");      /* reserved bit */
    config_byte(5, 0, "C9-CFG-VALUE");
    config_byte(4, 2, "C9-CFG-NUMIF");
    config_byte(8, 251, "C9-CFG-POWER");      /* 502 mA */
    config_byte(6, 7, "C9-STR-MISSING");      /* iConfiguration names no string */
    config_byte(0, 10, "C9-CFG-LENGTH");
    config_byte(2, 31, "P-PAST-END");         /* wTotalLength cuts the last endpoint */
}

static void interface_rules(void **state)
{
    (void)state;
    config_byte(13, 1, "C9-IF-NUMEP");
    config_byte(12, 1, "C9-IF-ALT");          /* interface 0 starts with alternate 1 */
    config_byte(14, 0, "C9-IF-CLASS");
    config_byte(17, 9, "C9-STR-MISSING");
    config_byte(11, 1, "C9-IF-NUMBERS");      /* interface 1 without interface 0 */
}

static void endpoint_rules(void **state)
{
    (void)state;
    config_byte(20, 0x80, "C9-EP-ADDR");      /* endpoint 0 */
    config_byte(20, 0x91, "C9-EP-ADDR");      /* reserved bits */
    config_byte(27, 0x81, "C9-EP-DUP");
    config_byte(22, 100, "C9-EP-MPS");        /* bulk 100 bytes at full speed */
    config_byte(23, 0x08, "C9-EP-MPS");       /* high-speed multiplier at full speed */
    config_byte(21, 0x00, "C9-EP-ATTR");      /* control */
    config_byte(21, 0x42, "C9-EP-ATTR");      /* reserved bit */
    config_byte(21, 0x03, "C9-EP-INTERVAL");  /* interrupt with bInterval 0 */
    config_byte(18, 6, "P-TOO-SHORT");
}

static void high_speed_rules(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    s.speed = LIBUSB_SPEED_HIGH;
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-EP-MPS");      /* bulk must be 512 */
    assert_finding(&f, "C9-QUALIFIER");   /* a high-speed device answers it */
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void qualifier_at_full_speed(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    static const uint8_t q[10] = { 10, 6, 0, 2, 0, 0, 0, 64, 1, 0 };
    put(&s.qualifier, q, sizeof q);
    put(&s.other_speed, hilda_config_desc, 9);
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-QUALIFIER");
    assert_finding(&f, "C9-OTHER-SPEED");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void status_rules(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    s.status.data[0] = 1;   /* self-powered, but bmAttributes says bus-powered */
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-STATUS-POWER");
    hilda_findings_free(&f);
    s.status.data[0] = 2;   /* remote wakeup on, not supported */
    f = run(&s);
    assert_finding(&f, "C9-STATUS-WAKEUP");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void string_rules(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    static const uint8_t empty[2] = { 2, 3 };
    put(&s.string0, empty, 2);
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-STR0-EMPTY");
    hilda_findings_free(&f);
    static const uint8_t zero[4] = { 4, 3, 0, 0 };
    put(&s.string0, zero, 4);
    f = run(&s);
    assert_finding(&f, "C9-STR0-LANGID");
    hilda_findings_free(&f);
    /* an odd-length string and one whose bLength lies */
    s.strings[0].raw.data[0] = 11;
    f = run(&s);
    assert_finding(&f, "P-STR-LENGTH");
    hilda_findings_free(&f);
    s.strings[0].raw.len = 11;
    f = run(&s);
    assert_finding(&f, "P-STR-ODD");
    hilda_findings_free(&f);
    /* no string 0 at all, yet strings referenced */
    free(s.string0.data);
    s.string0.data = NULL;
    s.string0.present = false;
    f = run(&s);
    assert_finding(&f, "C9-STR-NO-LANGID");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void iad_rules(void **state)
{
    (void)state;
    /* configuration with an IAD covering interfaces 0..1, only 0 exists */
    uint8_t c[40];
    memcpy(c, hilda_config_desc, 9);
    static const uint8_t iad[8] = { 8, 0x0B, 0, 2, 0xFF, 0, 0, 0 };
    memcpy(c + 9, iad, 8);
    memcpy(c + 17, hilda_config_desc + 9, 23);
    c[2] = 40;
    struct hilda_desc_set s;
    hilda_set(&s);
    put(&s.configs[0], c, sizeof c);
    struct hilda_findings f = run(&s);
    assert_finding(&f, "C9-IAD-RANGE");
    assert_finding(&f, "C9-IAD-CLASS");
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void from_blob(void **state)
{
    (void)state;
    uint8_t b[50];
    memcpy(b, hilda_device_desc, 18);
    memcpy(b + 18, hilda_config_desc, 32);
    struct hilda_desc_set s;
    struct hilda_findings f;
    hilda_desc_set_init(&s);
    hilda_findings_init(&f);
    hilda_desc_set_from_blob(&s, b, sizeof b, &f);
    assert_int_equal(s.n_configs, 1);
    assert_int_equal(s.configs[0].len, 32);
    hilda_validate(&s, &f);
    assert_int_equal(hilda_findings_count(&f, HILDA_SEV_WARNING), 0);   /* no device: strings are not judged */
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);

    /* a file of garbage: findings, no crash */
    uint8_t g[7] = { 0, 0, 0, 0, 0, 0, 0 };
    hilda_desc_set_init(&s);
    hilda_findings_init(&f);
    hilda_desc_set_from_blob(&s, g, sizeof g, &f);
    hilda_validate(&s, &f);
    assert_true(hilda_findings_count(&f, HILDA_SEV_ERROR) > 0);
    hilda_findings_free(&f);
    hilda_desc_set_free(&s);
}

static void string_refs(void **state)
{
    (void)state;
    struct hilda_desc_set s;
    hilda_set(&s);
    uint8_t refs[8];
    size_t n = hilda_desc_set_string_refs(&s, refs, 8);
    assert_int_equal(n, 4);
    assert_int_equal(refs[0], 1);
    assert_int_equal(refs[3], 4);
    char text[64];
    hilda_desc_set_string_text(&s, 3, text, sizeof text);
    assert_string_equal(text, "1209CAFE00D0BEEF");
    hilda_desc_set_string_text(&s, 9, text, sizeof text);
    assert_string_equal(text, "");
    hilda_desc_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_device),
        cmocka_unit_test(device_rules),
        cmocka_unit_test(bos_presence),
        cmocka_unit_test(bos_rules),
        cmocka_unit_test(bos_truncated_capability),
        cmocka_unit_test(config_rules),
        cmocka_unit_test(interface_rules),
        cmocka_unit_test(endpoint_rules),
        cmocka_unit_test(high_speed_rules),
        cmocka_unit_test(qualifier_at_full_speed),
        cmocka_unit_test(status_rules),
        cmocka_unit_test(string_rules),
        cmocka_unit_test(iad_rules),
        cmocka_unit_test(from_blob),
        cmocka_unit_test(string_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
