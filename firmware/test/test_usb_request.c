/* SETUP decoding (reference §7.1) and the ZLP rule (reference §3.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "usb_request.h"

static void test_decode_get_descriptor(void **state)
{
    (void)state;
    const uint8_t raw[8] = { 0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00 };
    struct usb_setup s;

    usb_setup_decode(raw, &s);
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
    struct usb_setup s;

    usb_setup_decode(raw, &s);
    assert_int_equal(s.bmRequestType, 0xC0);
    assert_int_equal(s.bRequest, 0x50);
    assert_int_equal(s.wValue, 0x1234);
    assert_int_equal(s.wIndex, 0x5678);
    assert_int_equal(s.wLength, 0xFFFF);
}

static enum usb_dir dir_of(uint8_t bm)
{
    struct usb_setup s = { .bmRequestType = bm };
    return usb_setup_dir(&s);
}

static enum usb_type type_of(uint8_t bm)
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
    assert_int_equal(dir_of(0x00), USB_DIR_OUT);
    assert_int_equal(dir_of(0x40), USB_DIR_OUT);
    assert_int_equal(dir_of(0x7F), USB_DIR_OUT);
    assert_int_equal(dir_of(0x80), USB_DIR_IN);
    assert_int_equal(dir_of(0xC0), USB_DIR_IN);
    assert_int_equal(dir_of(0xFF), USB_DIR_IN);
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
        cmocka_unit_test(test_zlp_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
