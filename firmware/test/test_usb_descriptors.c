/* The descriptor bytes (USB 2.0 §9.6), their lengths and consistency, the
 * UTF-16LE expansion of the strings, the serial number, the stress variants,
 * and how lookups truncate to wLength with the ZLP rule (USB 2.0 §5.5.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hilda/protocol.h"
#include "usb_descriptors.h"
#include "hilda/usb.h"

#define GUARD 0xA5

/* DEVICEID[0] = 0x89ABCDEF, DEVICEID[1] = 0x01234567, little-endian */
static const uint8_t device_id[8] = { 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01 };

static uint8_t buf[HILDA_EP0_MAX_DATA + 16];

static int setup(void **state)
{
    (void)state;
    usb_descriptors_init(device_id);
    memset(buf, GUARD, sizeof buf);
    return 0;
}

/* Each lookup starts from a fresh guard pattern, so the bytes after the
 * copy show whether it overran. */
static int get(uint8_t type, uint8_t index)
{
    memset(buf, GUARD, sizeof buf);
    return usb_descriptor_copy(type, index, buf, HILDA_EP0_MAX_DATA);
}

static int variant(uint16_t id)
{
    memset(buf, GUARD, sizeof buf);
    return usb_descriptor_variant_copy(id, buf, HILDA_EP0_MAX_DATA);
}

/* Walks a configuration's descriptors: every bLength >= 2 and the sum is
 * exactly wTotalLength. Returns how many descriptors it saw. */
static int walk_config(const uint8_t *d, int len)
{
    int total = d[2] | d[3] << 8, pos = 0, count = 0;

    assert_int_equal(total, len);
    while (pos < total) {
        assert_true(d[pos] >= 2);
        pos += d[pos];
        count++;
    }
    assert_int_equal(pos, total);
    return count;
}

static void assert_utf16(const uint8_t *d, const char *ascii)
{
    size_t n = strlen(ascii);

    assert_int_equal(d[0], 2 + 2 * n);
    assert_int_equal(d[1], USB_DT_STRING);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(d[2 + 2 * i], (uint8_t)ascii[i]);
        assert_int_equal(d[3 + 2 * i], 0);
    }
}

static void test_device_descriptor(void **state)
{
    (void)state;
    const uint8_t expected[18] = {
        18, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 64,
        0x09, 0x12, 0x01, 0x00,              /* 0x1209:0x0001 */
        HILDA_FW_MINOR, HILDA_FW_MAJOR,      /* bcdDevice */
        1, 2, 3, 1,
    };

    assert_int_equal(get(USB_DT_DEVICE, 0), 18);
    assert_memory_equal(buf, expected, 18);
    assert_int_equal(buf[18], GUARD);
}

static void test_configuration_descriptor(void **state)
{
    (void)state;
    const uint8_t expected[32] = {
        9, 0x02, 32, 0, 1, 1, 0, 0x80, 50,
        9, 0x04, 0, 0, 2, 0xFF, 0, 0, 4,
        7, 0x05, 0x81, 0x02, 64, 0, 0,
        7, 0x05, 0x01, 0x02, 64, 0, 0,
    };

    assert_int_equal(get(USB_DT_CONFIG, 0), 32);
    assert_memory_equal(buf, expected, 32);
    assert_int_equal(walk_config(buf, 32), 4);
    assert_int_equal(buf[32], GUARD);
}

static void test_bos_descriptor(void **state)
{
    (void)state;
    const uint8_t expected[12] = { 5, 0x0F, 12, 0, 1, 7, 0x10, 0x02, 0, 0, 0, 0 };

    assert_int_equal(get(USB_DT_BOS, 0), 12);
    assert_memory_equal(buf, expected, 12);
}

static void test_langid_list(void **state)
{
    (void)state;
    const uint8_t expected[4] = { 4, 0x03, 0x09, 0x04 };

    assert_int_equal(get(USB_DT_STRING, 0), 4);
    assert_memory_equal(buf, expected, 4);
}

static void test_strings_are_utf16le(void **state)
{
    (void)state;
    assert_int_equal(get(USB_DT_STRING, 1), 2 + 2 * 5);
    assert_utf16(buf, "hilda");
    assert_int_equal(get(USB_DT_STRING, 2), 2 + 2 * 26);
    assert_utf16(buf, "hilda nRF52840 test dongle");
    assert_int_equal(get(USB_DT_STRING, 4), 2 + 2 * 21);
    assert_utf16(buf, "hilda vendor loopback");
    assert_int_equal(buf[44], GUARD);
}

static void test_serial_from_device_id(void **state)
{
    (void)state;
    assert_int_equal(get(USB_DT_STRING, 3), 34);
    assert_utf16(buf, "0123456789ABCDEF");

    const uint8_t other[8] = { 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF };
    usb_descriptors_init(other);
    get(USB_DT_STRING, 3);
    assert_utf16(buf, "FFFFFFFF00000000");

    const uint8_t mixed[8] = { 0x0A, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC1 };
    usb_descriptors_init(mixed);
    get(USB_DT_STRING, 3);
    assert_utf16(buf, "C10000000000B00A");
}

static void test_missing_descriptors(void **state)
{
    (void)state;
    assert_int_equal(get(USB_DT_DEVICE, 1), -1);
    assert_int_equal(get(USB_DT_CONFIG, 1), -1);
    assert_int_equal(get(USB_DT_CONFIG, 255), -1);
    assert_int_equal(get(USB_DT_BOS, 1), -1);
    assert_int_equal(get(USB_DT_STRING, 5), -1);
    assert_int_equal(get(USB_DT_STRING, 0xEE), -1);
    assert_int_equal(get(USB_DT_DEVICE_QUALIFIER, 0), -1);
    assert_int_equal(get(USB_DT_OTHER_SPEED_CONFIG, 0), -1);
    assert_int_equal(get(USB_DT_INTERFACE, 0), -1);
    assert_int_equal(get(USB_DT_ENDPOINT, 0), -1);
    assert_int_equal(get(USB_DT_DEVICE_CAPABILITY, 0), -1);
    assert_int_equal(get(0, 0), -1);
    assert_int_equal(get(0xFF, 0), -1);
    assert_int_equal(buf[0], GUARD);
}

static void test_copy_stops_at_max(void **state)
{
    (void)state;
    assert_int_equal(usb_descriptor_copy(USB_DT_CONFIG, 0, buf, 9), 9);
    assert_int_equal(buf[2], 32);          /* wTotalLength is still the whole */
    assert_int_equal(buf[9], GUARD);
    memset(buf, GUARD, sizeof buf);
    assert_int_equal(usb_descriptor_copy(USB_DT_DEVICE, 0, buf, 8), 8);
    assert_int_equal(buf[7], 64);          /* bMaxPacketSize0 in the first 8 */
    assert_int_equal(buf[8], GUARD);
    memset(buf, GUARD, sizeof buf);
    assert_int_equal(usb_descriptor_copy(USB_DT_STRING, 2, buf, 3), 3);
    assert_int_equal(buf[3], GUARD);
    memset(buf, GUARD, sizeof buf);
    assert_int_equal(usb_descriptor_copy(USB_DT_STRING, 2, buf, 0), 0);
    assert_int_equal(usb_descriptor_variant_copy(HILDA_VARIANT_STRING_255, buf, 0), 0);
    assert_int_equal(buf[0], GUARD);
    assert_int_equal(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_128, buf, 100), 100);
    assert_int_equal(buf[100], GUARD);
}

static void assert_config_variant(uint16_t id, int total)
{
    uint8_t config[32];

    assert_int_equal(usb_descriptor_copy(USB_DT_CONFIG, 0, config, sizeof config), 32);
    assert_int_equal(variant(id), total);
    assert_int_equal(buf[total], GUARD);
    assert_int_equal(walk_config(buf, total), 5);
    /* the real configuration, with only wTotalLength changed ... */
    assert_memory_equal(buf, config, 2);
    assert_memory_equal(buf + 4, config + 4, 28);
    /* ... then one vendor-specific descriptor taking up the rest */
    assert_int_equal(buf[32], total - 32);
    assert_int_equal(buf[33], 0xFF);
    for (int i = 34; i < total; i++)
        assert_int_equal(buf[i], i - 34);
}

static void test_variant_config_64(void **state)
{
    (void)state;
    assert_config_variant(HILDA_VARIANT_CONFIG_64, 64);
}

static void test_variant_config_128(void **state)
{
    (void)state;
    assert_config_variant(HILDA_VARIANT_CONFIG_128, 128);
}

static void assert_string_variant(uint16_t id, int blength)
{
    assert_int_equal(variant(id), blength);
    assert_int_equal(buf[0], blength);
    assert_int_equal(buf[1], USB_DT_STRING);
    for (int k = 0; k < blength - 2; k++)
        assert_int_equal(buf[2 + k], (k & 1) ? 0 : 'A' + (k / 2) % 26);
    assert_int_equal(buf[blength], GUARD);
}

static void test_variant_strings(void **state)
{
    (void)state;
    assert_string_variant(HILDA_VARIANT_STRING_254, 254);
    assert_string_variant(HILDA_VARIANT_STRING_64, 64);
    assert_string_variant(HILDA_VARIANT_STRING_255, 255);
    /* 253 body bytes: 126 characters and the low byte of a 127th ('W') */
    assert_int_equal(buf[252], 'V');
    assert_int_equal(buf[253], 0);
    assert_int_equal(buf[254], 'W');
}

static void test_unknown_variants(void **state)
{
    (void)state;
    assert_int_equal(variant(HILDA_VARIANT_COUNT), -1);
    assert_int_equal(variant(0x100), -1);
    assert_int_equal(variant(0xFFFF), -1);
    assert_int_equal(buf[0], GUARD);
}

/* What usb_device does with a lookup: copy at most wLength, then the ZLP rule. */
static void assert_served(int n, uint16_t wLength, int len, bool zlp)
{
    assert_int_equal(n, len);
    assert_int_equal(usb_needs_zlp((uint16_t)n, wLength, HILDA_EP0_PACKET), zlp);
}

static void test_truncation_and_zlp(void **state)
{
    (void)state;
    assert_served(usb_descriptor_copy(USB_DT_CONFIG, 0, buf, 255), 255, 32, false);
    assert_served(usb_descriptor_copy(USB_DT_CONFIG, 0, buf, 9), 9, 9, false);
    assert_served(usb_descriptor_copy(USB_DT_DEVICE, 0, buf, 64), 64, 18, false);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_64, buf, 255), 255, 64, true);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_64, buf, 64), 64, 64, false);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_64, buf, 65), 65, 64, true);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_128, buf, 255), 255, 128, true);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_128, buf, 128), 128, 128, false);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_CONFIG_128, buf, 64), 64, 64, false);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_STRING_64, buf, 255), 255, 64, true);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_STRING_254, buf, 255), 255, 254, false);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_STRING_255, buf, 4096), 4096, 255, false);
    assert_served(usb_descriptor_variant_copy(HILDA_VARIANT_STRING_255, buf, 192), 192, 192, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_device_descriptor, setup),
        cmocka_unit_test_setup(test_configuration_descriptor, setup),
        cmocka_unit_test_setup(test_bos_descriptor, setup),
        cmocka_unit_test_setup(test_langid_list, setup),
        cmocka_unit_test_setup(test_strings_are_utf16le, setup),
        cmocka_unit_test_setup(test_serial_from_device_id, setup),
        cmocka_unit_test_setup(test_missing_descriptors, setup),
        cmocka_unit_test_setup(test_copy_stops_at_max, setup),
        cmocka_unit_test_setup(test_variant_config_64, setup),
        cmocka_unit_test_setup(test_variant_config_128, setup),
        cmocka_unit_test_setup(test_variant_strings, setup),
        cmocka_unit_test_setup(test_unknown_variants, setup),
        cmocka_unit_test_setup(test_truncation_and_zlp, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
