/* The bootloader's CDC ACM function (firmware/bootloader/cdc_acm.c) served
 * by the same chapter-9 core as the application: its descriptors, the class
 * requests routed to it, DTR, and chapter 9 over its two interfaces and
 * three endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cdc_acm.h"
#include "counters.h"
#include "fake_device_hw.h"
#include "hilda/bootloader.h"
#include "usb_device.h"

static const uint8_t device_id[8] = { 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01 };
static uint8_t buf[HILDA_EP0_MAX_DATA];
static int dtr_calls;
static bool dtr_state;

static void on_dtr(bool dtr)
{
    dtr_calls++;
    dtr_state = dtr;
}

static int setup(void **state)
{
    (void)state;
    counters_reset();
    dtr_calls = 0;
    dtr_state = false;
    cdc_acm_init(device_id, on_dtr);
    usb_device_init(fake_device_hw_reset(), &cdc_acm_function);
    return 0;
}

static struct usb_reply req(uint8_t bm, uint8_t request, uint16_t value, uint16_t index, uint16_t length)
{
    const struct usb_setup s = { bm, request, value, index, length };
    memset(buf, 0xA5, sizeof buf);
    return usb_device_setup(&s, buf);
}

static void configure(void)
{
    assert_int_equal(req(USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS, 3, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(req(USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 1, 0, 0).stage, USB_STAGE_STATUS);
}

static void test_descriptors(void **state)
{
    (void)state;
    struct usb_reply r = req(USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, 18);
    assert_int_equal(r.len, 18);
    assert_int_equal(buf[4], USB_CLASS_COMM);
    assert_int_equal(buf[8] | buf[9] << 8, HILDA_BOOTLOADER_VID);
    assert_int_equal(buf[10] | buf[11] << 8, HILDA_BOOTLOADER_PID);

    r = req(USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_CONFIG, 0), 0, 255);
    assert_int_equal(r.len, buf[2] | buf[3] << 8);
    assert_int_equal(buf[4], 2);                     /* two interfaces */
    /* walk it: the bLengths add up, and EP2 IN interrupt, EP1 OUT and IN bulk are there */
    unsigned eps = 0;
    for (unsigned i = 0; i < r.len; i += buf[i]) {
        assert_true(buf[i] >= 2);
        if (buf[i + 1] == USB_DT_ENDPOINT) {
            eps++;
            if (buf[i + 2] == HILDA_BOOTLOADER_EP_NOTIFY)
                assert_int_equal(buf[i + 3], USB_EP_XFER_INT);
            else
                assert_int_equal(buf[i + 3], USB_EP_XFER_BULK);
        }
    }
    assert_int_equal(eps, 3);

    r = req(USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 2), 0x0409, 255);
    assert_int_equal(r.len, 2 + 2 * strlen(HILDA_BOOTLOADER_PRODUCT));
    assert_int_equal(buf[2], 'h');
    r = req(USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 3), 0x0409, 255);
    assert_int_equal(r.len, 34);
    assert_int_equal(buf[2], '0');                   /* same serial as the application: 0123456789ABCDEF */
    assert_int_equal(buf[32], 'F');
    assert_int_equal(req(USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_BOS, 0), 0, 255).stage,
                     USB_STAGE_STALL);
}

static void test_line_coding_and_dtr(void **state)
{
    (void)state;
    static const uint8_t coding[CDC_LINE_CODING_SIZE] = { 0x00, 0xC2, 0x01, 0x00, 0, 0, 8 };   /* 115200 8N1 */
    configure();

    struct usb_reply r = req(CDC_REQTYPE_OUT, CDC_REQ_SET_LINE_CODING, 0, 0, 7);
    assert_int_equal(r.stage, USB_STAGE_DATA_OUT);
    const struct usb_setup s = { CDC_REQTYPE_OUT, CDC_REQ_SET_LINE_CODING, 0, 0, 7 };
    assert_int_equal(usb_device_out_done(&s, coding, 7).stage, USB_STAGE_STATUS);
    r = req(CDC_REQTYPE_IN, CDC_REQ_GET_LINE_CODING, 0, 0, 7);
    assert_int_equal(r.stage, USB_STAGE_DATA_IN);
    assert_memory_equal(buf, coding, 7);

    assert_int_equal(req(CDC_REQTYPE_OUT, CDC_REQ_SET_CONTROL_LINE_STATE, CDC_CONTROL_LINE_DTR | CDC_CONTROL_LINE_RTS,
                         0, 0).stage, USB_STAGE_STATUS);
    assert_int_equal(dtr_calls, 1);
    assert_true(dtr_state);
    assert_int_equal(req(CDC_REQTYPE_OUT, CDC_REQ_SET_CONTROL_LINE_STATE, CDC_CONTROL_LINE_RTS, 0, 0).stage,
                     USB_STAGE_STATUS);
    assert_false(dtr_state);
    req(CDC_REQTYPE_OUT, CDC_REQ_SET_CONTROL_LINE_STATE, CDC_CONTROL_LINE_DTR, 0, 0);
    assert_true(dtr_state);
    usb_device_bus_reset();                          /* the configuration goes, DTR with it */
    assert_false(dtr_state);
}

static void test_refused_class_requests(void **state)
{
    (void)state;
    configure();
    assert_int_equal(req(CDC_REQTYPE_OUT, CDC_REQ_SET_CONTROL_LINE_STATE, 1, 1, 0).stage, USB_STAGE_STALL); /* data IF */
    assert_int_equal(req(CDC_REQTYPE_OUT, 0x23, 0, 0, 0).stage, USB_STAGE_STALL);          /* SEND_BREAK */
    assert_int_equal(req(CDC_REQTYPE_OUT, CDC_REQ_SET_LINE_CODING, 0, 0, 6).stage, USB_STAGE_STALL);
    assert_int_equal(req(USB_RT_VENDOR_DEVICE_IN, 0x01, 0, 0, 8).stage, USB_STAGE_STALL);  /* no vendor protocol */
    assert_int_equal(dtr_calls, 0);
}

static void test_chapter9_over_two_interfaces(void **state)
{
    (void)state;
    configure();
    assert_true(fake.configured);
    assert_int_equal(req(USB_RT_INTERFACE_IN, USB_REQ_GET_INTERFACE, 0, 1, 1).stage, USB_STAGE_DATA_IN);
    assert_int_equal(req(USB_RT_INTERFACE_IN, USB_REQ_GET_INTERFACE, 0, 2, 1).stage, USB_STAGE_STALL);
    assert_int_equal(req(USB_RT_ENDPOINT_OUT, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT,
                         HILDA_BOOTLOADER_EP_NOTIFY, 0).stage, USB_STAGE_STATUS);
    assert_true(fake.halt[1][2]);
    assert_int_equal(req(USB_RT_ENDPOINT_OUT, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT,
                         HILDA_BOOTLOADER_EP_OUT, 0).stage, USB_STAGE_STATUS);
    /* SET_INTERFACE 1 resets the data pair only */
    assert_int_equal(req(USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE, 0, 1, 0).stage, USB_STAGE_STATUS);
    assert_false(fake.halt[0][1]);
    assert_true(fake.halt[1][2]);
    assert_int_equal(req(USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0, 0x83, 2).stage, USB_STAGE_STALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_descriptors, setup),
        cmocka_unit_test_setup(test_line_coding_and_dtr, setup),
        cmocka_unit_test_setup(test_refused_class_requests, setup),
        cmocka_unit_test_setup(test_chapter9_over_two_interfaces, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
