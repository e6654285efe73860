/* The hilda vendor protocol (include/hilda/protocol.h, docs/protocol.md)
 * through usb_device, the way the USBD driver drives it: SETUP, then for OUT
 * requests the data stage's completion. */
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

static struct usb_setup last;

static struct usb_reply req(uint8_t bm, uint8_t request, uint16_t value, uint16_t index, uint16_t length)
{
    last = (struct usb_setup){ bm, request, value, index, length };
    memset(buf, 0xA5, sizeof buf);
    return usb_device_setup(&last, buf);
}

static struct usb_reply in(uint8_t request, uint16_t value, uint16_t length)
{
    return req(HILDA_REQTYPE_IN, request, value, 0, length);
}

static struct usb_reply no_data(uint8_t request, uint16_t value, uint16_t index)
{
    return req(HILDA_REQTYPE_OUT, request, value, index, 0);
}

/* A whole control write: SETUP, data into the EP0 buffer, completion. */
static struct usb_reply out(uint8_t request, const uint8_t *data, uint16_t len)
{
    struct usb_reply r = req(HILDA_REQTYPE_OUT, request, 0, 0, len);

    if (r.stage != USB_STAGE_DATA_OUT)
        return r;
    assert_int_equal(r.len, len);
    memcpy(buf, data, len);
    return usb_device_out_done(&last, buf, len);
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

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

/* ---- GET_VERSION ---- */

static void test_get_version(void **state)
{
    (void)state;
    const uint8_t expected[8] = {
        0x01, 0x01,                          /* HILDA_PROTOCOL_VERSION 0x0101 */
        HILDA_FW_MINOR, HILDA_FW_MAJOR,
        0, 0, 0, 0,                          /* no HILDA_GIT_HASH in unit tests */
    };

    assert_in(in(HILDA_REQ_GET_VERSION, 0, 8), 8, false);
    assert_memory_equal(buf, expected, 8);
    assert_in(in(HILDA_REQ_GET_VERSION, 0, 255), 8, false);
    assert_int_equal(buf[8], 0xA5);
    assert_in(in(HILDA_REQ_GET_VERSION, 0, 3), 3, false);
    assert_int_equal(buf[3], 0xA5);
    assert_status(in(HILDA_REQ_GET_VERSION, 0, 0));
}

static void test_wrong_direction_and_recipient_stall(void **state)
{
    (void)state;
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_GET_VERSION, 0, 0, 8));
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_GET_VERSION, 0, 0, 0));
    assert_stall(req(0xC1, HILDA_REQ_GET_VERSION, 0, 0, 8));     /* interface */
    assert_stall(req(0xC2, HILDA_REQ_GET_VERSION, 0, 0, 8));     /* endpoint */
    assert_stall(req(0x41, HILDA_REQ_RESET_COUNTERS, 0, 0, 0));
    assert_stall(in(HILDA_REQ_RESET_COUNTERS, 0, 0));
    assert_stall(in(HILDA_REQ_ECHO_WRITE, 0, 4));
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_READ, 0, 0, 4));
    assert_stall(in(HILDA_REQ_UART_WRITE, 0, 4));
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_UART_READ, 0, 0, 4));
    assert_stall(in(HILDA_REQ_UART_SET_BAUD, 0xC200, 0));
    assert_stall(in(HILDA_REQ_FAULT_STALL, 0, 0));
    assert_stall(in(HILDA_REQ_FAULT_DELAY, 10, 0));
    assert_stall(in(HILDA_REQ_REBOOT, 0, 0));
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_GET_VARIANT, 0, 0, 64));
    assert_int_equal(fake.reboots, 0);
}

static void test_unknown_requests_stall(void **state)
{
    (void)state;
    const uint8_t unknown[] = { 0x00, 0x02, 0x12, 0x24, 0x32, 0x42, 0x51, 0x62, 0xFF };

    for (size_t i = 0; i < sizeof unknown; i++) {
        assert_stall(in(unknown[i], 0, 64));
        assert_stall(no_data(unknown[i], 0, 0));
        assert_stall(req(HILDA_REQTYPE_OUT, unknown[i], 0, 0, 8));
    }
    assert_int_equal(counters.stalls, 3 * sizeof unknown);
}

/* ---- echo ---- */

static void echo_round_trip(uint16_t n)
{
    static uint8_t data[HILDA_EP0_MAX_DATA];

    fill_pattern(data, n, (uint8_t)n);
    if (n == 0)
        assert_status(no_data(HILDA_REQ_ECHO_WRITE, 0, 0));
    else
        assert_status(out(HILDA_REQ_ECHO_WRITE, data, n));
    /* asked for the maximum: short unless 4096, ZLP when a multiple of 64 */
    assert_in(in(HILDA_REQ_ECHO_READ, 0, HILDA_EP0_MAX_DATA), n, n < HILDA_EP0_MAX_DATA && n % 64 == 0);
    assert_memory_equal(buf, data, n);
    if (n < HILDA_EP0_MAX_DATA)
        assert_int_equal(buf[n], 0xA5);
    /* asked for exactly n */
    if (n > 0)
        assert_in(in(HILDA_REQ_ECHO_READ, 0, n), n, false);
}

static void test_echo_sizes(void **state)
{
    (void)state;
    const uint16_t sizes[] = { 0, 1, 63, 64, 65, 4096, 128, 4095, 0 };

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        echo_round_trip(sizes[i]);
    assert_int_equal(counters.stalls, 0);
}

static void test_echo_read_truncated_and_empty(void **state)
{
    (void)state;
    uint8_t data[100];

    assert_in(in(HILDA_REQ_ECHO_READ, 0, 64), 0, true);   /* nothing stored yet */
    fill_pattern(data, sizeof data, 3);
    assert_status(out(HILDA_REQ_ECHO_WRITE, data, sizeof data));
    assert_in(in(HILDA_REQ_ECHO_READ, 0, 10), 10, false);
    assert_memory_equal(buf, data, 10);
    assert_int_equal(buf[10], 0xA5);
    assert_status(in(HILDA_REQ_ECHO_READ, 0, 0));
}

static void test_echo_write_abandoned_keeps_old_contents(void **state)
{
    (void)state;
    const uint8_t first[3] = { 1, 2, 3 };

    assert_status(out(HILDA_REQ_ECHO_WRITE, first, 3));
    /* a new SETUP arrives before the data stage completes */
    assert_int_equal(req(HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, 50).stage, USB_STAGE_DATA_OUT);
    assert_in(in(HILDA_REQ_ECHO_READ, 0, 64), 3, false);
    assert_memory_equal(buf, first, 3);
}

static void test_echo_short_data_stage_stores_what_came(void **state)
{
    (void)state;
    assert_int_equal(req(HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, 100).stage, USB_STAGE_DATA_OUT);
    memset(buf, 0x5A, 40);
    assert_status(usb_device_out_done(&last, buf, 40));
    assert_in(in(HILDA_REQ_ECHO_READ, 0, 255), 40, false);
    assert_int_equal(buf[39], 0x5A);
}

static void test_echo_write_too_long_stalls(void **state)
{
    (void)state;
    const uint8_t first[2] = { 9, 8 };

    assert_status(out(HILDA_REQ_ECHO_WRITE, first, 2));
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, HILDA_EP0_MAX_DATA + 1));
    assert_stall(in(HILDA_REQ_ECHO_READ, 0, HILDA_EP0_MAX_DATA + 1));
    assert_in(in(HILDA_REQ_ECHO_READ, 0, 64), 2, false);
}

/* ---- UART bridge ---- */

static void test_uart_write(void **state)
{
    (void)state;
    uint8_t data[300];

    fill_pattern(data, sizeof data, 1);
    assert_status(out(HILDA_REQ_UART_WRITE, data, sizeof data));
    assert_int_equal(fake.tx_len, sizeof data);
    assert_memory_equal(fake.tx, data, sizeof data);
    assert_int_equal(fake.tx_free, HILDA_UART_TX_CAPACITY - sizeof data);
}

static void test_uart_write_refused_at_setup(void **state)
{
    (void)state;
    uint8_t data[64] = { 0 };

    assert_stall(no_data(HILDA_REQ_UART_WRITE, 0, 0));
    fake.tx_free = 10;
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_UART_WRITE, 0, 0, 11));
    assert_status(out(HILDA_REQ_UART_WRITE, data, 10));
    assert_int_equal(fake.tx_free, 0);
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_UART_WRITE, 0, 0, 1));
    assert_int_equal(fake.tx_len, 10);
}

static void test_uart_write_refused_at_data(void **state)
{
    (void)state;
    assert_int_equal(req(HILDA_REQTYPE_OUT, HILDA_REQ_UART_WRITE, 0, 0, 20).stage, USB_STAGE_DATA_OUT);
    fake.tx_free = 5;   /* the ring filled up while the data stage ran */
    memset(buf, 0x33, 20);
    assert_stall(usb_device_out_done(&last, buf, 20));
    assert_int_equal(fake.tx_len, 0);
    assert_int_equal(counters.stalls, 1);
}

static void test_uart_read(void **state)
{
    (void)state;
    const uint8_t rx[10] = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };

    assert_in(in(HILDA_REQ_UART_READ, 0, 64), 0, true);   /* nothing received */
    fake_uart_receive(rx, sizeof rx);
    assert_in(in(HILDA_REQ_UART_READ, 0, 4), 4, false);
    assert_memory_equal(buf, rx, 4);
    assert_int_equal(buf[4], 0xA5);
    assert_in(in(HILDA_REQ_UART_READ, 0, 4096), 6, false);
    assert_memory_equal(buf, rx + 4, 6);
    assert_status(in(HILDA_REQ_UART_READ, 0, 0));
}

static void test_uart_read_full_packet_gets_zlp(void **state)
{
    (void)state;
    uint8_t rx[64];

    fill_pattern(rx, sizeof rx, 0);
    fake_uart_receive(rx, sizeof rx);
    assert_in(in(HILDA_REQ_UART_READ, 0, 256), 64, true);
    assert_memory_equal(buf, rx, 64);
}

static void test_uart_set_baud(void **state)
{
    (void)state;
    assert_status(no_data(HILDA_REQ_UART_SET_BAUD, 0x2580, 0));     /* 9600 */
    assert_int_equal(fake.baud, 9600);
    assert_status(no_data(HILDA_REQ_UART_SET_BAUD, 0x4240, 0x000F)); /* 1000000 */
    assert_int_equal(fake.baud, 1000000);
    assert_stall(no_data(HILDA_REQ_UART_SET_BAUD, 12345, 0));
    assert_stall(no_data(HILDA_REQ_UART_SET_BAUD, 0x2580, 1));        /* 75136 */
    assert_int_equal(fake.baud, 1000000);
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_UART_SET_BAUD, 0x2580, 0, 4));
}

static void test_uart_status(void **state)
{
    (void)state;
    const uint8_t rx[3] = { 1, 2, 3 };

    fake_uart_receive(rx, sizeof rx);
    fake.tx_free = 0x01020304;
    fake.errorsrc = 0x0C;
    fake.baud = 230400;
    assert_in(in(HILDA_REQ_UART_STATUS, 0, 64), 16, false);
    assert_int_equal(le32_at(buf), 230400);
    assert_int_equal(le32_at(buf + 4), 0x01020304);
    assert_int_equal(buf[4], 0x04);                  /* little-endian on the wire */
    assert_int_equal(le32_at(buf + 8), 3);
    assert_int_equal(le32_at(buf + 12), 0x0C);
    assert_int_equal(buf[16], 0xA5);
    assert_in(in(HILDA_REQ_UART_STATUS, 0, 6), 6, false);
    assert_int_equal(buf[6], 0xA5);
}

/* ---- counters ---- */

static void test_get_counters(void **state)
{
    (void)state;
    counters.dma_usbd = 0xAABBCCDD;
    counters.button_presses = 7;
    counters.uart_rx_fifo_overruns = 1;
    counters.uart_rx_ring_overflows = 2;
    counters.uart_tx_ring_overflows = 3;
    counters.uart_rx_flow_stops = 4;
    assert_stall(in(0x7F, 0, 0));
    assert_in(in(HILDA_REQ_GET_COUNTERS, 0, 255), 80, false);    /* protocol 1.1: 20 words */
    assert_int_equal(le32_at(buf + 0), 2);           /* setups, this one included */
    assert_int_equal(le32_at(buf + 4), 1);           /* stalls */
    assert_int_equal(le32_at(buf + 20), 0xAABBCCDD);
    assert_int_equal(buf[20], 0xDD);
    assert_int_equal(le32_at(buf + 56), 7);
    assert_int_equal(le32_at(buf + 60), 64000000);
    assert_int_equal(le32_at(buf + 64), 1);          /* the UART loss counters, appended */
    assert_int_equal(le32_at(buf + 68), 2);
    assert_int_equal(le32_at(buf + 72), 3);
    assert_int_equal(le32_at(buf + 76), 4);
    assert_in(in(HILDA_REQ_GET_COUNTERS, 0, 64), 64, false);  /* what a 1.0 reader asks for */
    assert_in(in(HILDA_REQ_GET_COUNTERS, 0, 8), 8, false);
    assert_int_equal(buf[8], 0xA5);
}

static void test_reset_counters(void **state)
{
    (void)state;
    assert_stall(in(0x7F, 0, 0));
    usb_device_suspend();
    assert_status(no_data(HILDA_REQ_RESET_COUNTERS, 0, 0));
    assert_int_equal(counters.setups, 0);
    assert_int_equal(counters.stalls, 0);
    assert_int_equal(counters.suspends, 0);
    assert_int_equal(counters.core_hz, 64000000);
    assert_in(in(HILDA_REQ_GET_COUNTERS, 0, 64), 64, false);
    assert_int_equal(le32_at(buf), 1);
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_RESET_COUNTERS, 0, 0, 4));
    assert_int_equal(counters.setups, 2);
}

/* ---- variants ---- */

static void test_get_variant(void **state)
{
    (void)state;
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_CONFIG_64, 4096), 64, true);
    assert_int_equal(buf[2], 64);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_CONFIG_64, 64), 64, false);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_CONFIG_64, 255), 64, true);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_CONFIG_128, 255), 128, true);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_CONFIG_128, 9), 9, false);
    assert_int_equal(buf[2], 128);
    assert_int_equal(buf[9], 0xA5);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_STRING_254, 255), 254, false);
    assert_int_equal(buf[0], 254);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_STRING_255, 255), 255, false);
    assert_int_equal(buf[0], 255);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_STRING_255, 2), 2, false);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_STRING_64, 255), 64, true);
    assert_int_equal(buf[0], 64);
    assert_in(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_STRING_64, 64), 64, false);
    assert_stall(in(HILDA_REQ_GET_VARIANT, HILDA_VARIANT_COUNT, 255));
    assert_stall(in(HILDA_REQ_GET_VARIANT, 0xFFFF, 255));
    assert_stall(in(HILDA_REQ_GET_VARIANT, 0x0100, 255));
}

/* ---- reboot ---- */

static void test_reboot(void **state)
{
    (void)state;
    assert_status(no_data(HILDA_REQ_REBOOT, 0, 0));
    assert_int_equal(fake.reboots, 1);
    assert_false(fake.reboot_into_bootloader);
    assert_status(no_data(HILDA_REQ_REBOOT_BOOTLOADER, 0, 0));
    assert_int_equal(fake.reboots, 2);
    assert_true(fake.reboot_into_bootloader);
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_REBOOT, 0, 0, 1));
    assert_stall(in(HILDA_REQ_REBOOT_BOOTLOADER, 0, 1));
    assert_int_equal(fake.reboots, 2);
}

/* ---- fault injection ---- */

static void test_fault_stall_applies_exactly_once(void **state)
{
    (void)state;
    assert_status(no_data(HILDA_REQ_FAULT_STALL, 0, 0));
    assert_int_equal(counters.stalls, 0);
    assert_stall(in(HILDA_REQ_GET_VERSION, 0, 8));
    assert_int_equal(counters.stalls, 1);
    assert_in(in(HILDA_REQ_GET_VERSION, 0, 8), 8, false);
    assert_in(in(HILDA_REQ_GET_VERSION, 0, 8), 8, false);
    assert_int_equal(counters.stalls, 1);
}

static void test_fault_stall_on_a_write_stores_nothing(void **state)
{
    (void)state;
    const uint8_t data[4] = { 1, 2, 3, 4 };

    assert_status(out(HILDA_REQ_ECHO_WRITE, data, 4));
    assert_status(no_data(HILDA_REQ_FAULT_STALL, 0, 0));
    assert_stall(out(HILDA_REQ_ECHO_WRITE, (const uint8_t *)"abcdefgh", 8));
    assert_in(in(HILDA_REQ_ECHO_READ, 0, 64), 4, false);
    assert_memory_equal(buf, data, 4);
}

static void test_fault_stall_twice_in_a_row(void **state)
{
    (void)state;
    assert_status(no_data(HILDA_REQ_FAULT_STALL, 0, 0));
    assert_stall(no_data(HILDA_REQ_FAULT_STALL, 0, 0));   /* the stalled request arms nothing */
    assert_in(in(HILDA_REQ_GET_VERSION, 0, 8), 8, false);
}

static void test_fault_delay_applies_exactly_once(void **state)
{
    (void)state;
    struct usb_reply r;

    assert_status(no_data(HILDA_REQ_FAULT_DELAY, 1234, 0));
    r = in(HILDA_REQ_GET_VERSION, 0, 8);
    assert_in(r, 8, false);
    assert_int_equal(r.delay_ms, 1234);
    r = in(HILDA_REQ_GET_VERSION, 0, 8);
    assert_int_equal(r.delay_ms, 0);
}

static void test_fault_delay_on_a_write_delays_the_data_stage_only(void **state)
{
    (void)state;
    struct usb_reply r;

    assert_status(no_data(HILDA_REQ_FAULT_DELAY, 50, 0));
    r = req(HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, 4);
    assert_int_equal(r.stage, USB_STAGE_DATA_OUT);
    assert_int_equal(r.delay_ms, 50);
    memset(buf, 7, 4);
    r = usb_device_out_done(&last, buf, 4);
    assert_status(r);
    assert_int_equal(r.delay_ms, 0);
}

static void test_fault_delay_range(void **state)
{
    (void)state;
    assert_stall(no_data(HILDA_REQ_FAULT_DELAY, 0, 0));
    assert_stall(no_data(HILDA_REQ_FAULT_DELAY, 5001, 0));
    assert_stall(no_data(HILDA_REQ_FAULT_DELAY, 0xFFFF, 0));
    assert_stall(req(HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_DELAY, 10, 0, 2));
    assert_int_equal(in(HILDA_REQ_GET_VERSION, 0, 8).delay_ms, 0);
    assert_status(no_data(HILDA_REQ_FAULT_DELAY, 1, 0));
    assert_int_equal(in(HILDA_REQ_GET_VERSION, 0, 8).delay_ms, 1);
    assert_status(no_data(HILDA_REQ_FAULT_DELAY, 5000, 0));
    assert_int_equal(in(HILDA_REQ_GET_VERSION, 0, 8).delay_ms, 5000);
}

static void test_fault_delay_then_stall(void **state)
{
    (void)state;
    struct usb_reply r;

    /* the FAULT_STALL request is the one the delay is spent on */
    assert_status(no_data(HILDA_REQ_FAULT_DELAY, 70, 0));
    r = no_data(HILDA_REQ_FAULT_STALL, 0, 0);
    assert_status(r);
    assert_int_equal(r.delay_ms, 70);
    r = in(HILDA_REQ_GET_VERSION, 0, 8);
    assert_stall(r);
    assert_int_equal(r.delay_ms, 0);
    assert_in(in(HILDA_REQ_GET_VERSION, 0, 8), 8, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_version, setup),
        cmocka_unit_test_setup(test_wrong_direction_and_recipient_stall, setup),
        cmocka_unit_test_setup(test_unknown_requests_stall, setup),
        cmocka_unit_test_setup(test_echo_sizes, setup),
        cmocka_unit_test_setup(test_echo_read_truncated_and_empty, setup),
        cmocka_unit_test_setup(test_echo_write_abandoned_keeps_old_contents, setup),
        cmocka_unit_test_setup(test_echo_short_data_stage_stores_what_came, setup),
        cmocka_unit_test_setup(test_echo_write_too_long_stalls, setup),
        cmocka_unit_test_setup(test_uart_write, setup),
        cmocka_unit_test_setup(test_uart_write_refused_at_setup, setup),
        cmocka_unit_test_setup(test_uart_write_refused_at_data, setup),
        cmocka_unit_test_setup(test_uart_read, setup),
        cmocka_unit_test_setup(test_uart_read_full_packet_gets_zlp, setup),
        cmocka_unit_test_setup(test_uart_set_baud, setup),
        cmocka_unit_test_setup(test_uart_status, setup),
        cmocka_unit_test_setup(test_get_counters, setup),
        cmocka_unit_test_setup(test_reset_counters, setup),
        cmocka_unit_test_setup(test_get_variant, setup),
        cmocka_unit_test_setup(test_reboot, setup),
        cmocka_unit_test_setup(test_fault_stall_applies_exactly_once, setup),
        cmocka_unit_test_setup(test_fault_stall_on_a_write_stores_nothing, setup),
        cmocka_unit_test_setup(test_fault_stall_twice_in_a_row, setup),
        cmocka_unit_test_setup(test_fault_delay_applies_exactly_once, setup),
        cmocka_unit_test_setup(test_fault_delay_on_a_write_delays_the_data_stage_only, setup),
        cmocka_unit_test_setup(test_fault_delay_range, setup),
        cmocka_unit_test_setup(test_fault_delay_then_stall, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
