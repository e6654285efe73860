/* The FT232R model of the virtual bench (emu/bench/ft232r.h), request by
 * request: descriptors, the vendor requests libftdi1 sends, bit-bang pins
 * and read-back, the bulk IN status bytes, and STALLs for what it does not
 * implement. No soc, no bridge: the model is pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hilda/usb.h>

#include "ft232r.h"

struct pins_seen {
    unsigned calls;
    uint8_t levels, outputs;
};

static void on_pins(void *ctx, uint8_t levels, uint8_t outputs)
{
    struct pins_seen *p = ctx;
    p->calls++;
    p->levels = levels;
    p->outputs = outputs;
}

static int request(struct ft232r *f, uint8_t type, uint8_t req, uint16_t value, uint16_t index, uint16_t length,
                   uint8_t *data)
{
    const struct usb_setup s = { type, req, value, index, length };
    uint8_t raw[USB_SETUP_SIZE];
    usb_setup_encode(&s, raw);
    return ft232r_control(f, raw, data);
}

static int vendor_out(struct ft232r *f, uint8_t req, uint16_t value, uint16_t index)
{
    return request(f, USB_RT_VENDOR_DEVICE_OUT, req, value, index, 0, NULL);
}

static void test_descriptors(void **state)
{
    (void)state;
    struct ft232r *f = ft232r_new("HILDAEMU0", NULL, NULL);
    uint8_t d[255];
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, 18, d),
                     18);
    assert_int_equal(usb_get_le16(d + 8), 0x0403);
    assert_int_equal(usb_get_le16(d + 10), 0x6001);
    assert_int_equal(usb_get_le16(d + 12), 0x0600);
    size_t len;
    const uint8_t *c = ft232r_config_descriptor(&len);
    assert_int_equal(len, 32);
    assert_int_equal(usb_get_le16(c + 2), 32);
    assert_int_equal(c[18 + 2], FTDI_EP_IN);
    assert_int_equal(c[25 + 2], FTDI_EP_OUT);
    assert_int_equal(usb_get_le16(c + 18 + 4), 64);
    /* wLength shorter than the descriptor: the head only */
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_CONFIG, 0), 0, 9, d), 9);
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 3), 0x0409,
                             255, d),
                     2 + 2 * 9);
    assert_int_equal(d[1], USB_DT_STRING);
    assert_int_equal(d[2], 'H');
    assert_int_equal(d[18], '0');
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 0), 0, 255, d), 4);
    assert_int_equal(usb_get_le16(d + 2), 0x0409);
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 4), 0, 255, d),
                     FTDI_STALL);
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_BOS, 0), 0, 5, d),
                     FTDI_STALL);
    assert_int_equal(request(f, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL), 0);
    assert_int_equal(request(f, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 2, 0, 0, NULL), FTDI_STALL);
    assert_int_equal(request(f, USB_RT_DEVICE_IN, USB_REQ_GET_CONFIGURATION, 0, 0, 1, d), 1);
    assert_int_equal(d[0], 1);
    ft232r_free(f);
}

static void test_serial_mode_requests(void **state)
{
    (void)state;
    struct pins_seen p = { 0 };
    struct ft232r *f = ft232r_new("X", on_pins, &p);
    uint8_t d[8];
    /* what ftdi_usb_open_desc and ftdi_usb_reset send */
    assert_int_equal(vendor_out(f, FTDI_SIO_RESET, FTDI_RESET_SIO, 1), 0);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_BAUD_RATE, 0x4138, 0), 0);   /* 9600 */
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_DATA, 8, 1), 0);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_FLOW_CTRL, 0, 1), 0);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_EVENT_CHAR, 0, 1), 0);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_ERROR_CHAR, 0, 1), 0);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_LATENCY_TIMER, 2, 1), 0);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, FTDI_SIO_GET_LATENCY_TIMER, 0, 1, 1, d), 1);
    assert_int_equal(d[0], 2);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_LATENCY_TIMER, 0, 1), FTDI_STALL);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, FTDI_SIO_POLL_MODEM_STATUS, 0, 1, 2, d), 2);
    assert_int_equal(d[0], FTDI_STATUS0);
    assert_int_equal(d[1], FTDI_STATUS1);
    /* serial mode: TXD (D0) high, RTS# D2 and DTR# D4 high while not asserted */
    assert_int_equal(ft232r_pin_outputs(f), 0x15);
    assert_int_equal(ft232r_pin_levels(f), 0xFF);
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_MODEM_CTRL, FTDI_MODEM_DTR_MASK | FTDI_MODEM_DTR, 1), 0);
    assert_int_equal(ft232r_pin_levels(f), 0xEF);
    assert_int_equal(p.calls, 1);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, FTDI_SIO_READ_PINS, 0, 1, 1, d), 1);
    assert_int_equal(d[0], 0xEF);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, FTDI_SIO_READ_EEPROM, 0, 2, 2, d), 2);
    assert_int_equal(usb_get_le16(d), 0);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, FTDI_SIO_READ_EEPROM, 0, 64, 2, d), FTDI_STALL);
    ft232r_free(f);
}

static void test_bitbang(void **state)
{
    (void)state;
    struct pins_seen p = { 0 };
    struct ft232r *f = ft232r_new("X", on_pins, &p);
    uint8_t d[200];
    /* ftdi_set_bitmode(0x01, BITMODE_BITBANG): D0 an output, latch 0 */
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_BITMODE, FTDI_BITMODE_BITBANG << 8 | 0x01, 1), 0);
    assert_int_equal(ft232r_bitmode(f), FTDI_BITMODE_BITBANG);
    assert_int_equal(p.outputs, 0x01);
    assert_int_equal(p.levels, 0xFE);                 /* D0 driven low, the rest pulled up */
    const uint8_t out[3] = { 0x00, 0x01, 0x00 };
    assert_int_equal(ft232r_bulk_out(f, out, sizeof out), 3);
    assert_int_equal(p.levels, 0xFE);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, FTDI_SIO_READ_PINS, 0, 1, 1, d), 1);
    assert_int_equal(d[0], 0xFE);
    /* the read-back: status bytes, then one sample per byte written */
    assert_int_equal(ft232r_bulk_in(f, d, sizeof d), 5);
    assert_int_equal(d[0], FTDI_STATUS0);
    assert_int_equal(d[1], FTDI_STATUS1);
    assert_int_equal(d[2], 0xFE);
    assert_int_equal(d[3], 0xFF);
    assert_int_equal(d[4], 0xFE);
    assert_int_equal(ft232r_bulk_in(f, d, sizeof d), 2);   /* nothing left: the status alone */
    /* 100 samples: 62 in the first packet, 38 in the second */
    uint8_t many[100] = { 0 };
    ft232r_bulk_out(f, many, sizeof many);
    assert_int_equal(ft232r_bulk_in(f, d, sizeof d), 64 + 40);
    assert_int_equal(d[64], FTDI_STATUS0);
    /* D0 back to an input: released, reads high */
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_BITMODE, FTDI_BITMODE_BITBANG << 8 | 0x00, 1), 0);
    assert_int_equal(p.outputs, 0x00);
    assert_int_equal(p.levels, 0xFF);
    /* D1 an output driven low: the power pin */
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_BITMODE, FTDI_BITMODE_BITBANG << 8 | 0x02, 1), 0);
    const uint8_t low = 0x00, high = 0x02;
    ft232r_bulk_out(f, &low, 1);
    assert_int_equal(p.levels, 0xFD);
    ft232r_bulk_out(f, &high, 1);
    assert_int_equal(p.levels, 0xFF);
    /* a USB reset: serial mode again */
    ft232r_usb_reset(f);
    assert_int_equal(ft232r_bitmode(f), FTDI_BITMODE_RESET);
    assert_int_equal(ft232r_pin_outputs(f), 0x15);
    ft232r_free(f);
}

static void test_not_implemented_stalls(void **state)
{
    (void)state;
    struct ft232r *f = ft232r_new("X", NULL, NULL);
    uint8_t d[4];
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_BITMODE, 0x02 << 8 | 0xFF, 1), FTDI_STALL);   /* MPSSE */
    assert_int_equal(vendor_out(f, FTDI_SIO_SET_BITMODE, 0x04 << 8 | 0xFF, 1), FTDI_STALL);   /* sync bit-bang */
    assert_int_equal(ft232r_bitmode(f), FTDI_BITMODE_RESET);
    assert_int_equal(vendor_out(f, FTDI_SIO_WRITE_EEPROM, 0x1234, 2), FTDI_STALL);
    assert_int_equal(vendor_out(f, FTDI_SIO_ERASE_EEPROM, 0, 0), FTDI_STALL);
    assert_int_equal(vendor_out(f, 0x0D, 0, 0), FTDI_STALL);
    assert_int_equal(vendor_out(f, FTDI_SIO_RESET, 3, 1), FTDI_STALL);
    assert_int_equal(request(f, USB_RT_VENDOR_DEVICE_IN, 0x0D, 0, 0, 1, d), FTDI_STALL);
    /* class requests and vendor requests to the interface */
    assert_int_equal(request(f, 0x21, 0x20, 0, 0, 0, NULL), FTDI_STALL);
    assert_int_equal(request(f, 0x41, FTDI_SIO_RESET, 0, 0, 0, NULL), FTDI_STALL);
    ft232r_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_serial_mode_requests),
        cmocka_unit_test(test_bitbang),
        cmocka_unit_test(test_not_implemented_stalls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
