/* A model of the FTDI FT232R USB UART (0403:6001) as the bench drives it:
 * the USB device (descriptors, standard requests) and the vendor requests
 * libftdi1 sends, with the asynchronous bit-bang mode of FTDI's application
 * note AN232R-01 on the eight pins D0..D7 (FT232R: TXD, RXD, RTS#, CTS#,
 * DTR#, DSR#, DCD#, RI#). A chip model of its own: it knows no soc, no
 * bridge, no board; the bench (bench.h) wires its pins and serves it on the
 * USB bridge. Pure functions of the model's state, so unit tests drive it
 * request by request (emu/test/models/test_ft232r.c).
 *
 * Implemented (vendor requests, bmRequestType 0x40 OUT / 0xC0 IN):
 *   SIO_RESET (0x00: reset, purge RX, purge TX), SIO_SET_MODEM_CTRL (0x01:
 *   DTR/RTS with their mask bits), SIO_SET_FLOW_CTRL (0x02), SIO_SET_BAUD_RATE
 *   (0x03), SIO_SET_DATA (0x04), SIO_SET_EVENT_CHAR (0x06), SIO_SET_ERROR_CHAR
 *   (0x07), SIO_SET_LATENCY_TIMER (0x09: 1..255), all accepted and kept;
 *   SIO_POLL_MODEM_STATUS (0x05: 0x01 0x60), SIO_GET_LATENCY_TIMER (0x0A),
 *   SIO_SET_BITMODE (0x0B, wValue = mode << 8 | direction mask: modes RESET 0x00
 *   and BITBANG 0x01), SIO_READ_PINS (0x0C: the pin levels), SIO_READ_EEPROM
 *   (0x90: a blank EEPROM, every word 0).
 *   Bulk OUT (EP 0x02): in bit-bang mode each byte is the new output latch and
 *   the pins are sampled into the receive buffer (the read-back); in serial
 *   mode the bytes are accepted and go nowhere (TXD is not modelled as a UART).
 *   Bulk IN (EP 0x81): every 64-byte packet starts with the two modem-status
 *   bytes 0x01 0x60, then up to 62 bytes of the receive buffer (256 bytes, as
 *   the chip's; the oldest samples are kept when it overflows).
 * Not implemented, answered with a STALL: the other bit modes (MPSSE, sync
 *   bit-bang, CBUS, ...: the FT232R's CBUS bit-bang needs its EEPROM set up),
 *   SIO_WRITE_EEPROM (0x91), SIO_ERASE_EEPROM (0x92), any other request.
 * Not modelled: the UART itself (baud rate, data format, flow control are only
 *   stored), the latency timer's effect (a bulk IN is answered at once, with
 *   the status bytes alone when there is nothing to read), the bit-bang clock
 *   (bytes take effect one after the other, at once).
 *
 * Pins: an output pin has the level of its latch bit; an input pin reads 1
 * (the FT232R's internal pull-ups, and on the bench the pull-ups of the
 * dongle's reset pin and of the load switch's enable input). In serial mode
 * TXD (D0) is an output idling high and RTS# (D2) and DTR# (D4) outputs
 * driven low while asserted. */
#ifndef EMU_BENCH_FT232R_H
#define EMU_BENCH_FT232R_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FTDI_VID 0x0403
#define FTDI_PID_FT232R 0x6001
#define FTDI_BCD_FT232R 0x0600
#define FTDI_EP_IN 0x81
#define FTDI_EP_OUT 0x02
#define FTDI_MAX_PACKET 64
#define FTDI_RX_BUFFER 256
#define FTDI_SERIAL_MAX 32

/* The vendor requests (FTDI's D2XX / libftdi request list): X(NAME, code). */
#define FTDI_SIO_REQUESTS(X) \
    X(RESET,             0x00) \
    X(SET_MODEM_CTRL,    0x01) \
    X(SET_FLOW_CTRL,     0x02) \
    X(SET_BAUD_RATE,     0x03) \
    X(SET_DATA,          0x04) \
    X(POLL_MODEM_STATUS, 0x05) \
    X(SET_EVENT_CHAR,    0x06) \
    X(SET_ERROR_CHAR,    0x07) \
    X(SET_LATENCY_TIMER, 0x09) \
    X(GET_LATENCY_TIMER, 0x0A) \
    X(SET_BITMODE,       0x0B) \
    X(READ_PINS,         0x0C) \
    X(READ_EEPROM,       0x90) \
    X(WRITE_EEPROM,      0x91) \
    X(ERASE_EEPROM,      0x92)

enum ftdi_sio_request {
#define FTDI_SIO_ENUMERATOR(name, code) FTDI_SIO_##name = code,
    FTDI_SIO_REQUESTS(FTDI_SIO_ENUMERATOR)
#undef FTDI_SIO_ENUMERATOR
};

/* SIO_RESET wValue */
#define FTDI_RESET_SIO 0
#define FTDI_RESET_PURGE_RX 1
#define FTDI_RESET_PURGE_TX 2
/* SIO_SET_BITMODE modes (wValue high byte) the model implements */
#define FTDI_BITMODE_RESET 0x00
#define FTDI_BITMODE_BITBANG 0x01
/* SIO_SET_MODEM_CTRL wValue bits */
#define FTDI_MODEM_DTR 0x01
#define FTDI_MODEM_RTS 0x02
#define FTDI_MODEM_DTR_MASK 0x0100
#define FTDI_MODEM_RTS_MASK 0x0200
/* the two status bytes (modem status: bits 0..3 always 1; line status:
 * transmitter holding register and transmitter empty) */
#define FTDI_STATUS0 0x01
#define FTDI_STATUS1 0x60

#define FTDI_STALL (-1)

struct ft232r;

/* pins_changed: called after every change of a pin's level or direction
 * (from inside ft232r_control / ft232r_bulk_out), NULL for none. */
typedef void (*ft232r_pins_fn)(void *ctx, uint8_t levels, uint8_t outputs);

struct ft232r *ft232r_new(const char *serial, ft232r_pins_fn pins_changed, void *ctx);
void ft232r_free(struct ft232r *f);

/* The descriptors (device: 18 bytes; the one configuration) and strings. */
const uint8_t *ft232r_device_descriptor(void);
const uint8_t *ft232r_config_descriptor(size_t *len);
const char *ft232r_manufacturer(void);
const char *ft232r_product(void);
const char *ft232r_serial(const struct ft232r *f);

/* A control transfer: setup (8 bytes, wire order); data: the data stage
 * (OUT: what the host sent; IN: filled, up to wLength). Returns the bytes
 * of the data stage moved, or FTDI_STALL. */
int ft232r_control(struct ft232r *f, const uint8_t setup[8], uint8_t *data);
/* Bulk OUT on FTDI_EP_OUT: returns len (the chip takes everything). */
int ft232r_bulk_out(struct ft232r *f, const uint8_t *data, size_t len);
/* Bulk IN on FTDI_EP_IN into buf (cap bytes): returns the bytes given. */
int ft232r_bulk_in(struct ft232r *f, uint8_t *buf, size_t cap);
/* A USB bus reset (USBDEVFS_RESET): back to serial mode, buffers purged. */
void ft232r_usb_reset(struct ft232r *f);

uint8_t ft232r_pin_levels(const struct ft232r *f);
uint8_t ft232r_pin_outputs(const struct ft232r *f);
uint8_t ft232r_bitmode(const struct ft232r *f);

#endif
