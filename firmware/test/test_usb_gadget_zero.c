/* The Gadget Zero personality (usb_gadget_zero.c, docs/protocol.md) on the
 * chapter-9 core, with fake endpoints: the switch request, the descriptors,
 * the source and sink patterns, usbtest's control write/read, halts and
 * toggles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "fake_device_hw.h"
#include "usb_descriptors.h"
#include "usb_device.h"
#include "usb_gadget_zero.h"
#include "usb_vendor.h"

#define EP_IN  USB_DESC_EP_BULK_IN
#define EP_OUT USB_DESC_EP_BULK_OUT
#define PACKET USB_FS_BULK_MAX_PACKET

static const uint8_t device_id[8] = { 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01 };
static uint8_t buf[HILDA_EP0_MAX_DATA];

/* The endpoints: the last IN packet loaded, and one OUT packet to drain. */
static struct {
    bool in_busy;
    uint8_t in[PACKET];
    uint16_t in_len;
    unsigned writes;
    uint8_t out[PACKET];
    uint16_t out_len;
    bool out_waiting;
} ep;

static bool ep_write(uint8_t addr, uint8_t *data, uint16_t len)
{
    if (addr != EP_IN || ep.in_busy || !fake.configured)
        return false;
    memcpy(ep.in, data, len);
    ep.in_len = len;
    ep.in_busy = true;
    ep.writes++;
    return true;
}

static bool ep_in_busy(uint8_t addr)
{
    return addr == EP_IN && ep.in_busy;
}

static int ep_read(uint8_t addr, uint8_t *data, uint16_t max)
{
    if (addr != EP_OUT || !ep.out_waiting)
        return -1;
    uint16_t n = ep.out_len < max ? ep.out_len : max;
    memcpy(data, ep.out, n);
    ep.out_waiting = false;
    return n;
}

static bool ep_out_waiting(uint8_t addr)
{
    return addr == EP_OUT && ep.out_waiting;
}

static struct usb_gadget_zero_hw gz_hw;

static struct usb_setup last;

static struct usb_reply req(uint8_t bm, uint8_t request, uint16_t value, uint16_t index, uint16_t length)
{
    last = (struct usb_setup){ bm, request, value, index, length };
    memset(buf, 0xA5, sizeof buf);
    return usb_device_setup(&last, buf);
}

/* The device as main.c leaves it after switching: Gadget Zero with pattern. */
static void start_gadget_zero(uint8_t pattern)
{
    fake_device_start(device_id);
    gz_hw = (struct usb_gadget_zero_hw){ ep_write, ep_in_busy, ep_read, ep_out_waiting, *fake_device_hw_reset() };
    memset(&ep, 0, sizeof ep);
    usb_gadget_zero_init(&gz_hw, pattern);
    usb_device_init(&usb_gadget_zero_device_hw, &usb_gadget_zero_function);
}

static void configure(void)
{
    assert_int_equal(req(USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS, 5, 0, 0).stage, USB_STAGE_HW_STATUS);
    assert_int_equal(req(USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, USB_GZ_CONFIG_VALUE, 0, 0).stage,
                     USB_STAGE_STATUS);
}

static int setup_hilda(void **state)
{
    (void)state;
    counters_reset();
    fake_device_start(device_id);
    return 0;
}

static int setup_zeros(void **state)
{
    (void)state;
    start_gadget_zero(HILDA_GZ_PATTERN_ZEROS);
    configure();
    return 0;
}

static int setup_mod63(void **state)
{
    (void)state;
    start_gadget_zero(HILDA_GZ_PATTERN_MOD63);
    configure();
    return 0;
}

static struct usb_reply set_personality(uint16_t personality, uint16_t pattern)
{
    return req(HILDA_REQTYPE_OUT, HILDA_REQ_SET_PERSONALITY, personality, pattern, 0);
}

static void test_switch_accepted(void **state)
{
    (void)state;
    assert_int_equal(set_personality(HILDA_PERSONALITY_GADGET_ZERO, HILDA_GZ_PATTERN_MOD63).stage, USB_STAGE_STATUS);
    assert_int_equal(fake.personality_calls, 1);
    assert_int_equal(fake.personality, HILDA_PERSONALITY_GADGET_ZERO);
    assert_int_equal(fake.pattern, HILDA_GZ_PATTERN_MOD63);
    assert_int_equal(set_personality(HILDA_PERSONALITY_HILDA, HILDA_GZ_PATTERN_ZEROS).stage, USB_STAGE_STATUS);
    assert_int_equal(fake.personality_calls, 2);
    assert_int_equal(fake.personality, HILDA_PERSONALITY_HILDA);
}

static void test_switch_bad_values_stall(void **state)
{
    (void)state;
    assert_int_equal(set_personality(2, 0).stage, USB_STAGE_STALL);
    assert_int_equal(set_personality(0xFFFF, 0).stage, USB_STAGE_STALL);
    assert_int_equal(set_personality(1, 2).stage, USB_STAGE_STALL);
    assert_int_equal(set_personality(0, 0x100).stage, USB_STAGE_STALL);
    /* a data stage, or the IN direction, is not the request */
    assert_int_equal(req(HILDA_REQTYPE_OUT, HILDA_REQ_SET_PERSONALITY, 1, 0, 1).stage, USB_STAGE_STALL);
    assert_int_equal(req(HILDA_REQTYPE_IN, HILDA_REQ_SET_PERSONALITY, 1, 0, 1).stage, USB_STAGE_STALL);
    assert_int_equal(fake.personality_calls, 0);
}

static void test_switch_back_from_gadget_zero(void **state)
{
    (void)state;
    assert_int_equal(set_personality(HILDA_PERSONALITY_HILDA, 0).stage, USB_STAGE_STATUS);
    assert_int_equal(fake.personality_calls, 1);
    assert_int_equal(fake.personality, HILDA_PERSONALITY_HILDA);
    assert_int_equal(set_personality(3, 0).stage, USB_STAGE_STALL);
    assert_int_equal(fake.personality_calls, 1);
}

static int get_descriptor(uint8_t type, uint8_t index, uint16_t length)
{
    struct usb_reply r = req(USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(type, index),
                             type == USB_DT_STRING && index ? USB_DESC_LANGID : 0, length);
    return r.stage == USB_STAGE_DATA_IN ? r.len : -1;
}

static void test_device_descriptor(void **state)
{
    (void)state;
    assert_int_equal(get_descriptor(USB_DT_DEVICE, 0, 255), USB_DT_DEVICE_SIZE);
    assert_int_equal(buf[1], USB_DT_DEVICE);
    assert_int_equal(buf[2] | buf[3] << 8, 0x0200);
    assert_int_equal(buf[7], HILDA_EP0_PACKET);
    assert_int_equal(buf[8] | buf[9] << 8, HILDA_GZ_USB_VID);
    assert_int_equal(buf[10] | buf[11] << 8, HILDA_GZ_USB_PID);
    assert_int_equal(buf[17], 1);
    assert_int_equal(get_descriptor(USB_DT_BOS, 0, 255), -1);
    assert_int_equal(get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 10), -1);
}

static void test_configuration_descriptor(void **state)
{
    (void)state;
    static const uint8_t interface_and_eps[] = {
        USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, 0, 0, 2, USB_CLASS_VENDOR_SPEC, 0, 0, 4,
        USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, EP_IN, USB_EP_XFER_BULK, PACKET, 0, 0,
        USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, EP_OUT, USB_EP_XFER_BULK, PACKET, 0, 0,
    };
    int total = USB_DT_CONFIG_SIZE + (int)sizeof interface_and_eps;

    assert_int_equal(get_descriptor(USB_DT_CONFIG, 0, 255), total);
    assert_int_equal(buf[2] | buf[3] << 8, total);
    assert_int_equal(buf[4], 1);
    assert_int_equal(buf[5], USB_GZ_CONFIG_VALUE);
    assert_memory_equal(buf + USB_DT_CONFIG_SIZE, interface_and_eps, sizeof interface_and_eps);
    assert_int_equal(get_descriptor(USB_DT_CONFIG, 1, 255), -1);
}

static void assert_string(uint8_t index, const char *ascii)
{
    size_t n = strlen(ascii);

    assert_int_equal(get_descriptor(USB_DT_STRING, index, 255), 2 + 2 * n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(buf[2 + 2 * i], ascii[i]);
        assert_int_equal(buf[3 + 2 * i], 0);
    }
}

static void test_strings(void **state)
{
    (void)state;
    uint8_t hilda_serial[64];
    int n = usb_descriptor_copy(USB_DT_STRING, 3, hilda_serial, sizeof hilda_serial);

    assert_string(1, "hilda");
    assert_string(2, "Gadget Zero (hilda)");
    assert_int_equal(get_descriptor(USB_DT_STRING, 3, 255), n);
    assert_memory_equal(buf, hilda_serial, (size_t)n);
    assert_string(4, "source and sink data");
    assert_int_equal(get_descriptor(USB_DT_STRING, 0, 255), 4);
    assert_int_equal(buf[2] | buf[3] << 8, USB_DESC_LANGID);
    assert_int_equal(get_descriptor(USB_DT_STRING, 5, 255), -1);
}

static void assert_source_packet(uint8_t pattern)
{
    assert_true(ep.in_busy);
    assert_int_equal(ep.in_len, PACKET);
    for (uint16_t j = 0; j < PACKET; j++)
        assert_int_equal(ep.in[j], pattern == HILDA_GZ_PATTERN_MOD63 ? j % 63 : 0);
}

/* The host takes the packet: the next one is loaded at once. */
static void host_takes_in(void)
{
    ep.in_busy = false;
    usb_gadget_zero_event(EP_IN);
}

static void test_source_zeros(void **state)
{
    (void)state;
    assert_int_equal(ep.writes, 1);          /* loaded when configured */
    assert_source_packet(HILDA_GZ_PATTERN_ZEROS);
    for (int i = 0; i < 5; i++)
        host_takes_in();
    assert_int_equal(ep.writes, 6);
    assert_source_packet(HILDA_GZ_PATTERN_ZEROS);
}

/* usbtest/f_sourcesink's mod63: byte i of a transfer is (i % maxpacket) % 63,
 * so a transfer of several packets reads 0..62, 0, 0..62, 0, ... */
static void test_source_mod63_across_packets(void **state)
{
    (void)state;
    uint8_t transfer[4 * PACKET];

    for (unsigned p = 0; p < 4; p++) {
        assert_source_packet(HILDA_GZ_PATTERN_MOD63);
        memcpy(transfer + p * PACKET, ep.in, PACKET);
        host_takes_in();
    }
    for (unsigned i = 0; i < sizeof transfer; i++)
        assert_int_equal(transfer[i], (i % PACKET) % 63);
    assert_int_equal(transfer[63], 0);
    assert_int_equal(transfer[64], 0);
    assert_int_equal(transfer[65], 1);
    assert_int_equal(usb_gadget_zero_pattern_byte(HILDA_GZ_PATTERN_MOD63, 62), 62);
    assert_int_equal(usb_gadget_zero_pattern_byte(HILDA_GZ_PATTERN_MOD63, 63), 0);
    assert_int_equal(usb_gadget_zero_pattern_byte(HILDA_GZ_PATTERN_ZEROS, 62), 0);
}

static void test_source_waits_for_configuration(void **state)
{
    (void)state;
    start_gadget_zero(HILDA_GZ_PATTERN_ZEROS);
    usb_gadget_zero_event(EP_IN);
    assert_int_equal(ep.writes, 0);
}

static void host_sends(const uint8_t *data, uint16_t len)
{
    memcpy(ep.out, data, len);
    ep.out_len = len;
    ep.out_waiting = true;
    usb_gadget_zero_event(EP_OUT);
}

static void test_sink_checks_mod63(void **state)
{
    (void)state;
    uint8_t packet[PACKET];

    for (unsigned j = 0; j < PACKET; j++)
        packet[j] = (uint8_t)(j % 63);
    host_sends(packet, PACKET);
    host_sends(packet, 10);                   /* a short packet: its prefix */
    assert_false(ep.out_waiting);
    assert_int_equal(usb_gadget_zero_sink_errors(), 0);
    assert_false(fake.halt[0][1]);

    packet[63] = 63;                          /* mod64, not mod63 */
    host_sends(packet, PACKET);
    assert_int_equal(usb_gadget_zero_sink_errors(), 1);
    assert_true(fake.halt[0][1]);             /* like f_sourcesink: EPIPE for the host */
}

static void test_sink_checks_zeros(void **state)
{
    (void)state;
    uint8_t packet[PACKET] = { 0 };

    host_sends(packet, PACKET);
    assert_int_equal(usb_gadget_zero_sink_errors(), 0);
    packet[5] = 5;
    host_sends(packet, PACKET);
    assert_int_equal(usb_gadget_zero_sink_errors(), 1);
    assert_true(fake.halt[0][1]);
}

static void test_control_write_read(void **state)
{
    (void)state;
    uint8_t data[HILDA_EP0_MAX_DATA];
    struct usb_reply r;

    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    r = req(HILDA_REQTYPE_OUT, HILDA_GZ_REQ_ECHO_WRITE, 0, 0, sizeof data);
    assert_int_equal(r.stage, USB_STAGE_DATA_OUT);
    memcpy(buf, data, sizeof data);
    assert_int_equal(usb_device_out_done(&last, buf, sizeof data).stage, USB_STAGE_STATUS);
    r = req(HILDA_REQTYPE_IN, HILDA_GZ_REQ_ECHO_READ, 0, 0, sizeof data);
    assert_int_equal(r.stage, USB_STAGE_DATA_IN);
    assert_int_equal(r.len, sizeof data);
    assert_memory_equal(buf, data, sizeof data);
    r = req(HILDA_REQTYPE_IN, HILDA_GZ_REQ_ECHO_READ, 0, 0, 100);
    assert_int_equal(r.len, 100);
    /* the wrong directions, and the rest of the hilda protocol, are refused */
    assert_int_equal(req(HILDA_REQTYPE_IN, HILDA_GZ_REQ_ECHO_WRITE, 0, 0, 8).stage, USB_STAGE_STALL);
    assert_int_equal(req(HILDA_REQTYPE_OUT, HILDA_GZ_REQ_ECHO_READ, 0, 0, 8).stage, USB_STAGE_STALL);
    assert_int_equal(req(HILDA_REQTYPE_IN, HILDA_REQ_GET_VERSION, 0, 0, 8).stage, USB_STAGE_STALL);
    assert_int_equal(req(HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, 8).stage, USB_STAGE_STALL);
    assert_int_equal(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_STALL, 0, 0, 0).stage, USB_STAGE_STALL);
}

static struct usb_reply endpoint_feature(uint8_t request, uint8_t addr)
{
    return req(USB_RT_ENDPOINT_OUT, request, USB_FEATURE_ENDPOINT_HALT, addr, 0);
}

static bool get_halt_status(uint8_t addr)
{
    struct usb_reply r = req(USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0, addr, 2);
    assert_int_equal(r.stage, USB_STAGE_DATA_IN);
    return buf[0] & 1;
}

/* usbtest 13: halt, see the halt, clear it, and the source delivers again. */
static void test_halt_and_clear(void **state)
{
    (void)state;
    for (unsigned k = 0; k < 2; k++) {
        uint8_t addr = k ? EP_OUT : EP_IN;
        assert_int_equal(endpoint_feature(USB_REQ_SET_FEATURE, addr).stage, USB_STAGE_STATUS);
        assert_true(get_halt_status(addr));
        assert_int_equal(endpoint_feature(USB_REQ_CLEAR_FEATURE, addr).stage, USB_STAGE_STATUS);
        assert_false(get_halt_status(addr));
    }
    /* the packet the host took before the halt is replaced on clearing */
    host_takes_in();
    ep.in_busy = false;
    unsigned writes = ep.writes;
    assert_int_equal(endpoint_feature(USB_REQ_SET_FEATURE, EP_IN).stage, USB_STAGE_STATUS);
    assert_int_equal(endpoint_feature(USB_REQ_CLEAR_FEATURE, EP_IN).stage, USB_STAGE_STATUS);
    assert_int_equal(ep.writes, writes + 1);
    assert_true(ep.in_busy);
    assert_int_equal(endpoint_feature(USB_REQ_SET_FEATURE, 0x82).stage, USB_STAGE_STALL);
}

/* The toggle resets (to DATA0) are the controller's set_halt(ep, false). */
static void test_toggles_reset(void **state)
{
    (void)state;
    unsigned calls = fake.set_halt_calls;

    assert_int_equal(endpoint_feature(USB_REQ_CLEAR_FEATURE, EP_OUT).stage, USB_STAGE_STATUS);
    assert_int_equal(fake.set_halt_calls, calls + 1);
    assert_int_equal(fake.last_halt_ep, EP_OUT);
    assert_int_equal(req(USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE, 0, 0, 0).stage, USB_STAGE_STATUS);
    assert_int_equal(fake.set_halt_calls, calls + 3);
    assert_int_equal(req(USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, USB_GZ_CONFIG_VALUE, 0, 0).stage,
                     USB_STAGE_STATUS);
    assert_int_equal(fake.set_halt_calls, calls + 5);
    assert_int_equal(req(USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 1, 0, 0).stage, USB_STAGE_STALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_switch_accepted, setup_hilda),
        cmocka_unit_test_setup(test_switch_bad_values_stall, setup_hilda),
        cmocka_unit_test_setup(test_switch_back_from_gadget_zero, setup_zeros),
        cmocka_unit_test_setup(test_device_descriptor, setup_zeros),
        cmocka_unit_test_setup(test_configuration_descriptor, setup_zeros),
        cmocka_unit_test_setup(test_strings, setup_zeros),
        cmocka_unit_test_setup(test_source_zeros, setup_zeros),
        cmocka_unit_test_setup(test_source_mod63_across_packets, setup_mod63),
        cmocka_unit_test(test_source_waits_for_configuration),
        cmocka_unit_test_setup(test_sink_checks_mod63, setup_mod63),
        cmocka_unit_test_setup(test_sink_checks_zeros, setup_zeros),
        cmocka_unit_test_setup(test_control_write_read, setup_zeros),
        cmocka_unit_test_setup(test_halt_and_clear, setup_zeros),
        cmocka_unit_test_setup(test_toggles_reset, setup_zeros),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
