/* Chapter 9 standard requests and their state rules (USB 2.0 §9.1, §9.4), each
 * from the accepting and the refusing side, plus the device-wide rules:
 * counters, fault injection, bus reset, suspend and resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "fake_device_hw.h"
#include "usb_device.h"

static const uint8_t device_id[8] = { 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01 };
static uint8_t buf[HILDA_EP0_MAX_DATA];

static int setup(void **state)
{
    (void)state;
    counters_reset();
    fake_device_start(device_id);
    return 0;
}

static struct usb_reply req(uint8_t bm, uint8_t request, uint16_t value, uint16_t index, uint16_t length)
{
    const struct usb_setup s = { bm, request, value, index, length };

    memset(buf, 0xA5, sizeof buf);
    return usb_device_setup(&s, buf);
}

static void assert_stall(struct usb_reply r)
{
    assert_int_equal(r.stage, USB_STAGE_STALL);
}

static void assert_status(struct usb_reply r)
{
    assert_int_equal(r.stage, USB_STAGE_STATUS);
}

static void assert_in(struct usb_reply r, uint16_t len, bool zlp)
{
    assert_int_equal(r.stage, USB_STAGE_DATA_IN);
    assert_int_equal(r.len, len);
    assert_int_equal(r.zlp, zlp);
}

static void to_address(void)
{
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 5, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);
}

static void to_configured(void)
{
    to_address();
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
}

static struct usb_reply get_descriptor(uint8_t type, uint8_t index, uint16_t lang, uint16_t length)
{
    return req(0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(type << 8 | index), lang, length);
}

/* ---- GET_DESCRIPTOR ---- */

static void test_starts_in_default_state(void **state)
{
    (void)state;
    assert_int_equal(usb_device_state(), USB_STATE_DEFAULT);
    assert_int_equal(usb_device_configuration(), 0);
}

static void test_device_descriptor_in_default_state(void **state)
{
    (void)state;
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 64), 18, false);
    assert_int_equal(buf[0], 18);
    assert_int_equal(buf[1], USB_DT_DEVICE);
    assert_int_equal(buf[18], 0xA5);
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 8), 8, false);
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 18), 18, false);
}

static void test_configuration_descriptor_truncated(void **state)
{
    (void)state;
    assert_in(get_descriptor(USB_DT_CONFIG, 0, 0, 9), 9, false);
    assert_int_equal(buf[2], 32);
    assert_int_equal(buf[9], 0xA5);
    assert_in(get_descriptor(USB_DT_CONFIG, 0, 0, 255), 32, false);
    assert_in(get_descriptor(USB_DT_CONFIG, 0, 0, 4096), 32, false);
    assert_in(get_descriptor(USB_DT_BOS, 0, 0, 255), 12, false);
    assert_in(get_descriptor(USB_DT_BOS, 0, 0, 5), 5, false);
}

static void test_descriptor_wlength_zero_is_no_data(void **state)
{
    (void)state;
    struct usb_reply r = get_descriptor(USB_DT_DEVICE, 0, 0, 0);

    assert_status(r);
    assert_int_equal(r.len, 0);
    assert_false(r.zlp);
}

static void test_missing_descriptors_stall(void **state)
{
    (void)state;
    assert_stall(get_descriptor(USB_DT_DEVICE, 1, 0, 64));
    assert_stall(get_descriptor(USB_DT_CONFIG, 1, 0, 255));
    assert_stall(get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 0, 10));
    assert_stall(get_descriptor(USB_DT_OTHER_SPEED_CONFIG, 0, 0, 255));
    assert_stall(get_descriptor(USB_DT_INTERFACE, 0, 0, 9));
    assert_stall(get_descriptor(USB_DT_ENDPOINT, 0, 0, 7));
    assert_stall(get_descriptor(USB_DT_BOS, 1, 0, 255));
    assert_stall(get_descriptor(0x21, 0, 0, 255));   /* a HID descriptor */
    assert_stall(get_descriptor(USB_DT_STRING, 5, 0x0409, 255));
}

static void test_strings_and_langid(void **state)
{
    (void)state;
    assert_in(get_descriptor(USB_DT_STRING, 0, 0, 255), 4, false);
    assert_int_equal(buf[2], 0x09);
    assert_int_equal(buf[3], 0x04);
    assert_in(get_descriptor(USB_DT_STRING, 0, 0x0409, 255), 4, false);
    for (uint8_t i = 1; i <= 4; i++) {
        assert_int_equal(get_descriptor(USB_DT_STRING, i, 0x0409, 255).stage, USB_STAGE_DATA_IN);
        assert_int_equal(get_descriptor(USB_DT_STRING, i, 0, 255).stage, USB_STAGE_DATA_IN);
        assert_stall(get_descriptor(USB_DT_STRING, i, 0x0407, 255));
    }
    assert_in(get_descriptor(USB_DT_STRING, 3, 0x0409, 255), 34, false);
    assert_int_equal(buf[2], '0');
    assert_int_equal(buf[32], 'F');
    assert_in(get_descriptor(USB_DT_STRING, 2, 0x0409, 2), 2, false);
    assert_int_equal(buf[0], 54);
}

static void test_get_descriptor_wrong_request_type(void **state)
{
    (void)state;
    assert_stall(req(0x00, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18));   /* OUT */
    assert_stall(req(0x81, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18));   /* interface */
    assert_stall(req(0x82, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18));   /* endpoint */
    assert_stall(req(0xA0, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18));   /* class */
    assert_stall(req(0x83, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18));   /* other */
}

static void test_wlength_over_limit_stalls(void **state)
{
    (void)state;
    assert_stall(get_descriptor(USB_DT_DEVICE, 0, 0, HILDA_EP0_MAX_DATA + 1));
    assert_stall(get_descriptor(USB_DT_DEVICE, 0, 0, 0xFFFF));
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, HILDA_EP0_MAX_DATA), 18, false);
}

/* ---- SET_ADDRESS ---- */

static void test_set_address_state_changes(void **state)
{
    (void)state;
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 0, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(usb_device_state(), USB_STATE_DEFAULT);
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 127, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 9, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 0, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(usb_device_state(), USB_STATE_DEFAULT);
}

static void test_set_address_invalid(void **state)
{
    (void)state;
    assert_stall(req(0x00, USB_REQ_SET_ADDRESS, 128, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_ADDRESS, 0x0105, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_ADDRESS, 5, 1, 0));
    assert_stall(req(0x00, USB_REQ_SET_ADDRESS, 5, 0, 1));
    assert_stall(req(0x80, USB_REQ_SET_ADDRESS, 5, 0, 0));
    assert_stall(req(0x01, USB_REQ_SET_ADDRESS, 5, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_DEFAULT);
}

static void test_set_address_when_configured_drops_configuration(void **state)
{
    (void)state;
    to_configured();
    assert_true(fake.configured);
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 9, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);
    assert_int_equal(usb_device_configuration(), 0);
    assert_false(fake.configured);
}

/* ---- SET_CONFIGURATION / GET_CONFIGURATION ---- */

static void test_set_configuration_in_default_stalls(void **state)
{
    (void)state;
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 0, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_DEFAULT);
    assert_int_equal(fake.set_configured_calls, 0);
}

static void test_set_configuration_1_and_0(void **state)
{
    (void)state;
    to_address();
    fake.halt[1][1] = fake.halt[0][1] = true;
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
    assert_int_equal(usb_device_configuration(), 1);
    assert_true(fake.configured);
    assert_false(fake.halt[1][1]);
    assert_false(fake.halt[0][1]);

    /* the same value again still resets the endpoints (§7.4) */
    fake.halt[1][1] = true;
    fake.set_halt_calls = 0;
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_false(fake.halt[1][1]);
    assert_int_equal(fake.set_halt_calls, 2);

    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 0, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);
    assert_int_equal(usb_device_configuration(), 0);
    assert_false(fake.configured);
}

static void test_set_configuration_invalid(void **state)
{
    (void)state;
    to_address();
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 2, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 0x0101, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 1, 0));
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 1));
    assert_stall(req(0x80, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_stall(req(0x01, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);
    assert_int_equal(fake.set_configured_calls, 0);

    to_configured();
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 2, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
    assert_int_equal(usb_device_configuration(), 1);
}

static void test_get_configuration(void **state)
{
    (void)state;
    assert_stall(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1));
    to_address();
    assert_in(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1), 1, false);
    assert_int_equal(buf[0], 0);
    assert_status(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 0));
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_in(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1), 1, false);
    assert_int_equal(buf[0], 1);
    assert_in(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 64), 1, false);
    assert_int_equal(buf[1], 0xA5);
    assert_stall(req(0x00, USB_REQ_GET_CONFIGURATION, 0, 0, 1));
    assert_stall(req(0x81, USB_REQ_GET_CONFIGURATION, 0, 0, 1));
    assert_stall(req(0x80, USB_REQ_GET_CONFIGURATION, 1, 0, 1));
    assert_stall(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 1, 1));
}

/* ---- GET_STATUS ---- */

static void test_get_status_device(void **state)
{
    (void)state;
    assert_in(req(0x80, USB_REQ_GET_STATUS, 0, 0, 2), 2, false);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 0);
    assert_in(req(0x80, USB_REQ_GET_STATUS, 0, 0, 1), 1, false);
    assert_int_equal(buf[1], 0xA5);
    to_configured();
    assert_in(req(0x80, USB_REQ_GET_STATUS, 0, 0, 64), 2, false);
    assert_int_equal(buf[0], 0);
    assert_stall(req(0x80, USB_REQ_GET_STATUS, 0, 1, 2));
    assert_stall(req(0x80, USB_REQ_GET_STATUS, 1, 0, 2));
    assert_stall(req(0x00, USB_REQ_GET_STATUS, 0, 0, 2));   /* OUT direction */
    assert_stall(req(0x00, USB_REQ_GET_STATUS, 0, 0, 0));
    assert_stall(req(0x83, USB_REQ_GET_STATUS, 0, 0, 2));   /* recipient other */
    assert_stall(req(0x84, USB_REQ_GET_STATUS, 0, 0, 2));   /* reserved recipient */
}

static void test_get_status_interface_only_when_configured(void **state)
{
    (void)state;
    assert_stall(req(0x81, USB_REQ_GET_STATUS, 0, 0, 2));
    to_address();
    assert_stall(req(0x81, USB_REQ_GET_STATUS, 0, 0, 2));
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_in(req(0x81, USB_REQ_GET_STATUS, 0, 0, 2), 2, false);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 0);
    assert_stall(req(0x81, USB_REQ_GET_STATUS, 0, 1, 2));
    assert_stall(req(0x01, USB_REQ_GET_STATUS, 0, 0, 2));
}

static void test_get_status_endpoints(void **state)
{
    (void)state;
    /* EP0 in every state */
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x00, 2), 2, false);
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x80, 2), 2, false);
    assert_int_equal(buf[0], 0);
    to_address();
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x80, 2), 2, false);
    /* the bulk endpoints do not exist before configuration */
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 0, 0x81, 2));
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 0, 0x01, 2));
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x81, 2), 2, false);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 0);
    fake.halt[0][1] = true;
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x01, 2), 2, false);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], 0);
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x81, 2), 2, false);
    assert_int_equal(buf[0], 0);
    /* endpoints the configuration does not have */
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 0, 0x02, 2));
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 0, 0x82, 2));
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 0, 0x0181, 2));
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 1, 0x81, 2));
}

/* ---- SET_FEATURE / CLEAR_FEATURE ---- */

static void test_endpoint_halt_when_configured(void **state)
{
    (void)state;
    to_configured();
    assert_status(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 0));
    assert_true(fake.halt[1][1]);
    assert_in(req(0x82, USB_REQ_GET_STATUS, 0, 0x81, 2), 2, false);
    assert_int_equal(buf[0], 1);
    assert_status(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x01, 0));
    assert_true(fake.halt[0][1]);
    assert_status(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 0));
    assert_false(fake.halt[1][1]);
    assert_true(fake.halt[0][1]);
    assert_status(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x01, 0));
    assert_false(fake.halt[0][1]);
    /* clearing a halt that is not set still resets the toggle: it reaches the hw */
    fake.set_halt_calls = 0;
    assert_status(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 0));
    assert_int_equal(fake.set_halt_calls, 1);
    assert_int_equal(fake.last_halt_ep, 0x81);
}

static void test_endpoint_halt_refused(void **state)
{
    (void)state;
    to_address();
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 0));
    assert_stall(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x01, 0));
    assert_int_equal(fake.set_halt_calls, 0);
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    fake.set_halt_calls = 0;
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x82, 0));
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x02, 0));
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, 1, 0x81, 0));            /* not a feature of endpoints */
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 2));
    assert_stall(req(0x82, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 0));
    assert_stall(req(0x82, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x81, 0));
    assert_int_equal(fake.set_halt_calls, 0);
}

static void test_ep0_halt(void **state)
{
    (void)state;
    assert_status(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x00, 0));
    assert_status(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x80, 0));
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x00, 0));
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x80, 0));
    assert_int_equal(fake.set_halt_calls, 0);
    to_configured();
    assert_status(req(0x02, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x80, 0));
    assert_stall(req(0x02, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x80, 0));
}

static void test_device_and_interface_features_stall(void **state)
{
    (void)state;
    to_configured();
    assert_stall(req(0x00, USB_REQ_SET_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0, 0));
    assert_stall(req(0x00, USB_REQ_CLEAR_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_FEATURE, USB_FEATURE_TEST_MODE, 0x0100, 0));
    assert_stall(req(0x00, USB_REQ_SET_FEATURE, USB_FEATURE_TEST_MODE, 0x0400, 0));
    assert_stall(req(0x01, USB_REQ_SET_FEATURE, 0, 0, 0));
    assert_stall(req(0x01, USB_REQ_CLEAR_FEATURE, 0, 0, 0));
    assert_in(req(0x80, USB_REQ_GET_STATUS, 0, 0, 2), 2, false);
    assert_int_equal(buf[0], 0);   /* remote wakeup still off */
}

/* ---- GET_INTERFACE / SET_INTERFACE ---- */

static void test_interface_requests_need_configured(void **state)
{
    (void)state;
    assert_stall(req(0x81, USB_REQ_GET_INTERFACE, 0, 0, 1));
    assert_stall(req(0x01, USB_REQ_SET_INTERFACE, 0, 0, 0));
    to_address();
    assert_stall(req(0x81, USB_REQ_GET_INTERFACE, 0, 0, 1));
    assert_stall(req(0x01, USB_REQ_SET_INTERFACE, 0, 0, 0));
    assert_int_equal(fake.set_halt_calls, 0);
}

static void test_interface_requests_when_configured(void **state)
{
    (void)state;
    to_configured();
    assert_in(req(0x81, USB_REQ_GET_INTERFACE, 0, 0, 1), 1, false);
    assert_int_equal(buf[0], 0);
    fake.halt[1][1] = fake.halt[0][1] = true;
    assert_status(req(0x01, USB_REQ_SET_INTERFACE, 0, 0, 0));
    assert_false(fake.halt[1][1]);
    assert_false(fake.halt[0][1]);
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
}

static void test_interface_requests_invalid(void **state)
{
    (void)state;
    to_configured();
    assert_stall(req(0x81, USB_REQ_GET_INTERFACE, 0, 1, 1));
    assert_stall(req(0x81, USB_REQ_GET_INTERFACE, 1, 0, 1));
    assert_stall(req(0x80, USB_REQ_GET_INTERFACE, 0, 0, 1));
    assert_stall(req(0x01, USB_REQ_GET_INTERFACE, 0, 0, 1));
    fake.set_halt_calls = 0;
    assert_stall(req(0x01, USB_REQ_SET_INTERFACE, 1, 0, 0));
    assert_stall(req(0x01, USB_REQ_SET_INTERFACE, 0, 1, 0));
    assert_stall(req(0x01, USB_REQ_SET_INTERFACE, 0, 0, 1));
    assert_stall(req(0x00, USB_REQ_SET_INTERFACE, 0, 0, 0));
    assert_stall(req(0x81, USB_REQ_SET_INTERFACE, 0, 0, 0));
    assert_int_equal(fake.set_halt_calls, 0);
}

/* ---- everything else ---- */

static void test_unsupported_requests_stall(void **state)
{
    (void)state;
    to_configured();
    assert_stall(req(0x00, USB_REQ_SET_DESCRIPTOR, 0x0100, 0, 18));
    assert_stall(req(0x00, USB_REQ_SET_DESCRIPTOR, 0x0100, 0, 0));
    assert_stall(req(0x82, USB_REQ_SYNCH_FRAME, 0, 0x81, 2));
    assert_stall(req(0x82, USB_REQ_SYNCH_FRAME, 0, 0x01, 2));
    assert_stall(req(0x80, 0x02, 0, 0, 2));
    assert_stall(req(0x00, 0x04, 0, 0, 0));
    assert_stall(req(0x80, 0xFF, 0, 0, 2));
    /* class requests: there is no class interface */
    assert_stall(req(0x21, 0x20, 0, 0, 7));
    assert_stall(req(0xA1, 0x21, 0, 0, 7));
    assert_stall(req(0x21, 0x22, 3, 0, 0));
    /* reserved type */
    assert_stall(req(0x60, 0x00, 0, 0, 0));
    assert_stall(req(0xE0, 0x06, 0x0100, 0, 18));
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
}

static void test_request_after_stall_is_served(void **state)
{
    (void)state;
    assert_stall(get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 0, 10));
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 64), 18, false);
    assert_stall(req(0x00, USB_REQ_SET_ADDRESS, 200, 0, 0));
    assert_int_equal(req(0x00, USB_REQ_SET_ADDRESS, 3, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 7, 0, 0));
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
}

static void test_counters_setups_and_stalls(void **state)
{
    (void)state;
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 64), 18, false);
    assert_int_equal(counters.setups, 1);
    assert_int_equal(counters.stalls, 0);
    assert_stall(get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 0, 10));
    assert_stall(req(0x21, 0x20, 0, 0, 7));
    assert_int_equal(counters.setups, 3);
    assert_int_equal(counters.stalls, 2);
    to_configured();
    assert_int_equal(counters.setups, 5);
    assert_int_equal(counters.stalls, 2);
}

static void test_out_done_without_out_stage_stalls(void **state)
{
    (void)state;
    const struct usb_setup set_descriptor = { 0x00, USB_REQ_SET_DESCRIPTOR, 0x0100, 0, 18 };
    const struct usb_setup echo = { HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, 4 };

    assert_stall(usb_device_setup(&set_descriptor, buf));
    assert_stall(usb_device_out_done(&set_descriptor, buf, 18));
    assert_int_equal(counters.stalls, 2);
    /* data with no SETUP that asked for it */
    assert_stall(usb_device_out_done(&echo, buf, 4));
    assert_int_equal(counters.stalls, 3);
    /* more data than wLength */
    assert_int_equal(usb_device_setup(&echo, buf).stage, USB_STAGE_DATA_OUT);
    assert_stall(usb_device_out_done(&echo, buf, 5));
    /* a second completion for one data stage */
    assert_int_equal(usb_device_setup(&echo, buf).stage, USB_STAGE_DATA_OUT);
    assert_status(usb_device_out_done(&echo, buf, 4));
    assert_stall(usb_device_out_done(&echo, buf, 4));
    assert_int_equal(counters.stalls, 5);
}

static void test_bus_reset(void **state)
{
    (void)state;
    to_configured();
    assert_true(fake.configured);
    usb_device_bus_reset();
    assert_int_equal(usb_device_state(), USB_STATE_DEFAULT);
    assert_int_equal(usb_device_configuration(), 0);
    assert_false(fake.configured);
    assert_int_equal(counters.bus_resets, 0);   /* the driver counts USBRESET events */
    assert_stall(req(0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1));
    assert_stall(req(0x82, USB_REQ_GET_STATUS, 0, 0x81, 2));
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 64), 18, false);
}

static void test_suspend_resume_keep_state(void **state)
{
    (void)state;
    to_configured();
    usb_device_suspend();
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
    usb_device_resume();
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
    assert_int_equal(usb_device_configuration(), 1);
    usb_device_suspend();
    assert_int_equal(counters.suspends, 2);
    assert_int_equal(counters.resumes, 1);
    assert_true(fake.configured);
}

/* ---- fault injection on standard requests ---- */

static void test_fault_stall_hits_next_standard_request_once(void **state)
{
    (void)state;
    to_address();
    assert_status(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_STALL, 0, 0, 0));
    assert_stall(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_ADDRESS);   /* not carried out */
    assert_int_equal(fake.set_configured_calls, 0);
    assert_status(req(0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0));
    assert_int_equal(usb_device_state(), USB_STATE_CONFIGURED);
    assert_int_equal(counters.stalls, 1);
}

static void test_fault_delay_hits_next_standard_request_once(void **state)
{
    (void)state;
    assert_status(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_DELAY, 300, 0, 0));
    struct usb_reply r = get_descriptor(USB_DT_DEVICE, 0, 0, 64);
    assert_in(r, 18, false);
    assert_int_equal(r.delay_ms, 300);
    r = get_descriptor(USB_DT_DEVICE, 0, 0, 64);
    assert_int_equal(r.delay_ms, 0);
    /* a delayed request that stalls has still spent the delay */
    assert_status(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_DELAY, 20, 0, 0));
    r = get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 0, 10);
    assert_stall(r);
    assert_int_equal(r.delay_ms, 20);
    assert_int_equal(get_descriptor(USB_DT_DEVICE, 0, 0, 64).delay_ms, 0);
}

static void test_bus_reset_drops_armed_fault(void **state)
{
    (void)state;
    assert_status(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_STALL, 0, 0, 0));
    usb_device_bus_reset();
    assert_in(get_descriptor(USB_DT_DEVICE, 0, 0, 64), 18, false);
    assert_status(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_DELAY, 40, 0, 0));
    usb_device_bus_reset();
    assert_int_equal(get_descriptor(USB_DT_DEVICE, 0, 0, 64).delay_ms, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_starts_in_default_state, setup),
        cmocka_unit_test_setup(test_device_descriptor_in_default_state, setup),
        cmocka_unit_test_setup(test_configuration_descriptor_truncated, setup),
        cmocka_unit_test_setup(test_descriptor_wlength_zero_is_no_data, setup),
        cmocka_unit_test_setup(test_missing_descriptors_stall, setup),
        cmocka_unit_test_setup(test_strings_and_langid, setup),
        cmocka_unit_test_setup(test_get_descriptor_wrong_request_type, setup),
        cmocka_unit_test_setup(test_wlength_over_limit_stalls, setup),
        cmocka_unit_test_setup(test_set_address_state_changes, setup),
        cmocka_unit_test_setup(test_set_address_invalid, setup),
        cmocka_unit_test_setup(test_set_address_when_configured_drops_configuration, setup),
        cmocka_unit_test_setup(test_set_configuration_in_default_stalls, setup),
        cmocka_unit_test_setup(test_set_configuration_1_and_0, setup),
        cmocka_unit_test_setup(test_set_configuration_invalid, setup),
        cmocka_unit_test_setup(test_get_configuration, setup),
        cmocka_unit_test_setup(test_get_status_device, setup),
        cmocka_unit_test_setup(test_get_status_interface_only_when_configured, setup),
        cmocka_unit_test_setup(test_get_status_endpoints, setup),
        cmocka_unit_test_setup(test_endpoint_halt_when_configured, setup),
        cmocka_unit_test_setup(test_endpoint_halt_refused, setup),
        cmocka_unit_test_setup(test_ep0_halt, setup),
        cmocka_unit_test_setup(test_device_and_interface_features_stall, setup),
        cmocka_unit_test_setup(test_interface_requests_need_configured, setup),
        cmocka_unit_test_setup(test_interface_requests_when_configured, setup),
        cmocka_unit_test_setup(test_interface_requests_invalid, setup),
        cmocka_unit_test_setup(test_unsupported_requests_stall, setup),
        cmocka_unit_test_setup(test_request_after_stall_is_served, setup),
        cmocka_unit_test_setup(test_counters_setups_and_stalls, setup),
        cmocka_unit_test_setup(test_out_done_without_out_stage_stalls, setup),
        cmocka_unit_test_setup(test_bus_reset, setup),
        cmocka_unit_test_setup(test_suspend_resume_keep_state, setup),
        cmocka_unit_test_setup(test_fault_stall_hits_next_standard_request_once, setup),
        cmocka_unit_test_setup(test_fault_delay_hits_next_standard_request_once, setup),
        cmocka_unit_test_setup(test_bus_reset_drops_armed_fault, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
