/* The shared chapter-9 vocabulary (include/hilda/usb.h): SETUP decoding and
 * encoding (USB 2.0 §9.3), the bmRequestType fields, the ZLP rule (§5.5.3),
 * and the numbers the other sides rely on, checked against the spec's tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hilda/usb.h"

static void test_decode_get_descriptor(void **state)
{
    (void)state;
    const uint8_t raw[8] = { 0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00 };
    struct usb_setup s = usb_setup_decode(raw);
    assert_int_equal(s.bmRequestType, 0x80);
    assert_int_equal(s.bRequest, USB_REQ_GET_DESCRIPTOR);
    assert_int_equal(s.wValue, 0x0100);
    assert_int_equal(s.wIndex, 0);
    assert_int_equal(s.wLength, 64);
}

static void test_decode_little_endian_fields(void **state)
{
    (void)state;
    const uint8_t raw[8] = { 0xC0, 0x50, 0x34, 0x12, 0x78, 0x56, 0xFF, 0xFF };
    struct usb_setup s = usb_setup_decode(raw);
    assert_int_equal(s.bmRequestType, 0xC0);
    assert_int_equal(s.bRequest, 0x50);
    assert_int_equal(s.wValue, 0x1234);
    assert_int_equal(s.wIndex, 0x5678);
    assert_int_equal(s.wLength, 0xFFFF);
}

static bool is_in(uint8_t bm)
{
    struct usb_setup s = { .bmRequestType = bm };
    return usb_setup_is_in(&s);
}

static int type_of(uint8_t bm)
{
    struct usb_setup s = { .bmRequestType = bm };
    return usb_setup_type(&s);
}

static int recipient_of(uint8_t bm)
{
    struct usb_setup s = { .bmRequestType = bm };
    return (int)usb_setup_recipient(&s);
}

static void test_direction(void **state)
{
    (void)state;
    assert_false(is_in(0x00));
    assert_false(is_in(0x40));
    assert_false(is_in(0x7F));
    assert_true(is_in(0x80));
    assert_true(is_in(0xC0));
    assert_true(is_in(0xFF));
}

static void test_type(void **state)
{
    (void)state;
    assert_int_equal(type_of(0x80), USB_TYPE_STANDARD);
    assert_int_equal(type_of(0x21), USB_TYPE_CLASS);
    assert_int_equal(type_of(0xA1), USB_TYPE_CLASS);
    assert_int_equal(type_of(0x40), USB_TYPE_VENDOR);
    assert_int_equal(type_of(0xC0), USB_TYPE_VENDOR);
    assert_int_equal(type_of(0x60), USB_TYPE_RESERVED);
    assert_int_equal(type_of(0xE2), USB_TYPE_RESERVED);
}

static void test_recipient(void **state)
{
    (void)state;
    assert_int_equal(recipient_of(0x80), USB_RECIP_DEVICE);
    assert_int_equal(recipient_of(0x81), USB_RECIP_INTERFACE);
    assert_int_equal(recipient_of(0x02), USB_RECIP_ENDPOINT);
    assert_int_equal(recipient_of(0x43), USB_RECIP_OTHER);
    /* reserved recipients must not alias the valid ones */
    assert_int_equal(recipient_of(0x04), 4);
    assert_int_equal(recipient_of(0x85), 5);
    assert_int_equal(recipient_of(0x1F), 31);
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    const struct usb_setup s = { USB_RT_VENDOR_DEVICE_IN, 0x50, 0x1234, 0x5678, 0xFFFF };
    uint8_t raw[USB_SETUP_SIZE];

    usb_setup_encode(&s, raw);
    const uint8_t want[8] = { 0xC0, 0x50, 0x34, 0x12, 0x78, 0x56, 0xFF, 0xFF };
    assert_memory_equal(raw, want, sizeof want);
    struct usb_setup back = usb_setup_decode(raw);
    assert_memory_equal(&back, &s, sizeof s);
    assert_true(usb_setup_is(&back, 0xC0, 0x50));
    assert_false(usb_setup_is(&back, 0x40, 0x50));
}

/* The numbers every side takes from usb.h, against USB 2.0 tables 9-2, 9-4, 9-5 and 9-6. */
static void test_numbers_from_the_spec(void **state)
{
    (void)state;
    assert_int_equal(USB_RT_DEVICE_IN, 0x80);
    assert_int_equal(USB_RT_DEVICE_OUT, 0x00);
    assert_int_equal(USB_RT_INTERFACE_IN, 0x81);
    assert_int_equal(USB_RT_INTERFACE_OUT, 0x01);
    assert_int_equal(USB_RT_ENDPOINT_IN, 0x82);
    assert_int_equal(USB_RT_ENDPOINT_OUT, 0x02);
    assert_int_equal(USB_RT_VENDOR_DEVICE_IN, 0xC0);
    assert_int_equal(USB_RT_VENDOR_DEVICE_OUT, 0x40);
    assert_int_equal(USB_REQ_GET_STATUS, 0);
    assert_int_equal(USB_REQ_SET_FEATURE, 3);
    assert_int_equal(USB_REQ_SET_ADDRESS, 5);
    assert_int_equal(USB_REQ_GET_DESCRIPTOR, 6);
    assert_int_equal(USB_REQ_SET_CONFIGURATION, 9);
    assert_int_equal(USB_REQ_SYNCH_FRAME, 12);
    assert_int_equal(USB_DT_DEVICE, 1);
    assert_int_equal(USB_DT_CONFIG, 2);
    assert_int_equal(USB_DT_STRING, 3);
    assert_int_equal(USB_DT_DEVICE_QUALIFIER, 6);
    assert_int_equal(USB_DT_BOS, 15);
    assert_int_equal(USB_FEATURE_ENDPOINT_HALT, 0);
    assert_int_equal(USB_FEATURE_DEVICE_REMOTE_WAKEUP, 1);
    assert_int_equal(USB_FEATURE_TEST_MODE, 2);
    assert_int_equal(USB_DESC_VALUE(USB_DT_STRING, 3), 0x0303);
    assert_int_equal(USB_DESC_VALUE(USB_DT_CONFIG, 0x1FF), 0x02FF);
}

static void test_zlp_rule(void **state)
{
    (void)state;
    /* exactly what was asked for: the host stops by itself */
    assert_false(usb_needs_zlp(0, 0, 64));
    assert_false(usb_needs_zlp(64, 64, 64));
    assert_false(usb_needs_zlp(128, 128, 64));
    assert_false(usb_needs_zlp(4096, 4096, 64));
    /* short, ends in a short packet: no ZLP */
    assert_false(usb_needs_zlp(32, 255, 64));
    assert_false(usb_needs_zlp(18, 64, 64));
    assert_false(usb_needs_zlp(63, 64, 64));
    assert_false(usb_needs_zlp(65, 255, 64));
    assert_false(usb_needs_zlp(254, 255, 64));
    /* short, ends on a packet boundary: ZLP */
    assert_true(usb_needs_zlp(0, 1, 64));
    assert_true(usb_needs_zlp(0, 255, 64));
    assert_true(usb_needs_zlp(64, 255, 64));
    assert_true(usb_needs_zlp(64, 65, 64));
    assert_true(usb_needs_zlp(128, 255, 64));
    assert_true(usb_needs_zlp(4032, 4096, 64));
    /* other packet sizes */
    assert_true(usb_needs_zlp(8, 64, 8));
    assert_false(usb_needs_zlp(12, 64, 8));
    /* a packet size of 0 is nonsense and must not divide by zero */
    assert_false(usb_needs_zlp(0, 64, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_get_descriptor),
        cmocka_unit_test(test_decode_little_endian_fields),
        cmocka_unit_test(test_direction),
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_recipient),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_numbers_from_the_spec),
        cmocka_unit_test(test_zlp_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
