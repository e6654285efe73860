/* The FT232R model (ft232r.h). Written from FTDI's FT232R datasheet (the
 * descriptors, the pins), application note AN232R-01 (bit-bang modes) and
 * the request list FTDI's D2XX drivers and libftdi1 document. */
#include "ft232r.h"

#include <stdlib.h>
#include <string.h>

#include <hilda/usb.h>

#define CONFIG_VALUE 1
#define LATENCY_DEFAULT 16             /* ms, the chip's power-on value */
#define EEPROM_WORDS 64                /* the FT232R's internal 128-byte EEPROM */
#define PIN_TXD 0x01
#define PIN_RTS 0x04
#define PIN_DTR 0x10
#define LANGID_EN_US 0x0409
#define MAX_POWER_2MA 45               /* 90 mA */

struct ft232r {
    ft232r_pins_fn pins_changed;
    void *ctx;
    char serial[FTDI_SERIAL_MAX];
    uint8_t config;                    /* SET_CONFIGURATION */
    uint8_t mode;                      /* FTDI_BITMODE_* */
    uint8_t dir;                       /* bit-bang direction mask: 1 = output */
    uint8_t latch;                     /* bit-bang output latch */
    uint8_t modem;                     /* FTDI_MODEM_DTR | FTDI_MODEM_RTS, asserted */
    uint8_t latency;
    uint16_t baud_divisor, data_format, flow;
    uint8_t rx[FTDI_RX_BUFFER];
    size_t rx_len;
    uint8_t last_levels, last_outputs;
};

static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
    USB_DT_DEVICE_SIZE, USB_DT_DEVICE,
    0x00, 0x02,                        /* bcdUSB 2.00 */
    0x00, 0x00, 0x00,                  /* class per interface */
    8,                                 /* EP0: 8 bytes on the FT232R */
    FTDI_VID & 0xFF, FTDI_VID >> 8,
    FTDI_PID_FT232R & 0xFF, FTDI_PID_FT232R >> 8,
    FTDI_BCD_FT232R & 0xFF, FTDI_BCD_FT232R >> 8,
    1, 2, 3,                           /* iManufacturer, iProduct, iSerialNumber */
    1,                                 /* one configuration */
};

#define CONFIG_TOTAL (USB_DT_CONFIG_SIZE + USB_DT_INTERFACE_SIZE + 2 * USB_DT_ENDPOINT_SIZE)

static const uint8_t config_desc[CONFIG_TOTAL] = {
    USB_DT_CONFIG_SIZE, USB_DT_CONFIG, CONFIG_TOTAL, 0, 1, CONFIG_VALUE, 0,
    USB_CONFIG_ATT_ONE | USB_CONFIG_ATT_WAKEUP, MAX_POWER_2MA,
    USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, 0, 0, 2,
    USB_CLASS_VENDOR_SPEC, 0xFF, 0xFF, 2,   /* vendor class, iInterface: the product string */
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, FTDI_EP_IN, USB_EP_XFER_BULK, FTDI_MAX_PACKET, 0, 0,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, FTDI_EP_OUT, USB_EP_XFER_BULK, FTDI_MAX_PACKET, 0, 0,
};

static const char manufacturer[] = "FTDI";
static const char product[] = "FT232R USB UART";

struct ft232r *ft232r_new(const char *serial, ft232r_pins_fn pins_changed, void *ctx)
{
    struct ft232r *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->pins_changed = pins_changed;
    f->ctx = ctx;
    strncpy(f->serial, serial ? serial : "", sizeof f->serial - 1);
    f->latency = LATENCY_DEFAULT;
    f->last_levels = ft232r_pin_levels(f);
    f->last_outputs = ft232r_pin_outputs(f);
    return f;
}

void ft232r_free(struct ft232r *f)
{
    free(f);
}

const uint8_t *ft232r_device_descriptor(void)
{
    return device_desc;
}

const uint8_t *ft232r_config_descriptor(size_t *len)
{
    *len = sizeof config_desc;
    return config_desc;
}

const char *ft232r_manufacturer(void)
{
    return manufacturer;
}

const char *ft232r_product(void)
{
    return product;
}

const char *ft232r_serial(const struct ft232r *f)
{
    return f->serial;
}

uint8_t ft232r_pin_outputs(const struct ft232r *f)
{
    if (f->mode == FTDI_BITMODE_BITBANG)
        return f->dir;
    return PIN_TXD | PIN_RTS | PIN_DTR;     /* serial mode: the UART's outputs */
}

uint8_t ft232r_pin_levels(const struct ft232r *f)
{
    uint8_t out = ft232r_pin_outputs(f);
    uint8_t driven;
    if (f->mode == FTDI_BITMODE_BITBANG) {
        driven = f->latch;
    } else {
        driven = PIN_TXD;                      /* TXD idles high */
        if (!(f->modem & FTDI_MODEM_RTS))
            driven |= PIN_RTS;                 /* RTS# and DTR# are active low */
        if (!(f->modem & FTDI_MODEM_DTR))
            driven |= PIN_DTR;
    }
    return (uint8_t)((driven & out) | (uint8_t)~out);   /* inputs: pulled up */
}

uint8_t ft232r_bitmode(const struct ft232r *f)
{
    return f->mode;
}

static void pins_update(struct ft232r *f)
{
    uint8_t levels = ft232r_pin_levels(f), outputs = ft232r_pin_outputs(f);
    if (levels == f->last_levels && outputs == f->last_outputs)
        return;
    f->last_levels = levels;
    f->last_outputs = outputs;
    if (f->pins_changed)
        f->pins_changed(f->ctx, levels, outputs);
}

/* ---- standard requests ---- */

static int string_desc(uint8_t index, uint8_t *data, const struct ft232r *f, uint16_t wLength)
{
    uint8_t d[USB_DT_STRING_MAX];
    size_t n = 2;
    if (index == 0) {
        usb_put_le16(d + 2, LANGID_EN_US);
        n = 4;
    } else {
        const char *s = index == 1 ? manufacturer : index == 2 ? product : index == 3 ? f->serial : NULL;
        if (!s)
            return FTDI_STALL;
        for (; *s && n + 2 <= sizeof d; s++, n += 2)
            usb_put_le16(d + n, (uint8_t)*s);   /* ASCII only */
    }
    d[0] = (uint8_t)n;
    d[1] = USB_DT_STRING;
    n = n < wLength ? n : wLength;
    memcpy(data, d, n);
    return (int)n;
}

static int give(uint8_t *data, const uint8_t *what, size_t len, uint16_t wLength)
{
    size_t n = len < wLength ? len : wLength;
    memcpy(data, what, n);
    return (int)n;
}

static int standard_request(struct ft232r *f, const struct usb_setup *s, uint8_t *data)
{
    uint8_t type = (uint8_t)(s->wValue >> 8), index = (uint8_t)s->wValue;
    if (usb_setup_is(s, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR)) {
        if (type == USB_DT_DEVICE && index == 0)
            return give(data, device_desc, sizeof device_desc, s->wLength);
        if (type == USB_DT_CONFIG && index == 0)
            return give(data, config_desc, sizeof config_desc, s->wLength);
        if (type == USB_DT_STRING)
            return string_desc(index, data, f, s->wLength);
        return FTDI_STALL;                     /* no BOS, no qualifier: a full-speed USB 2.0 device */
    }
    if (usb_setup_is(s, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION)) {
        if (s->wValue != 0 && s->wValue != CONFIG_VALUE)
            return FTDI_STALL;
        f->config = (uint8_t)s->wValue;
        return 0;
    }
    if (usb_setup_is(s, USB_RT_DEVICE_IN, USB_REQ_GET_CONFIGURATION))
        return give(data, &f->config, 1, s->wLength);
    if (s->bRequest == USB_REQ_GET_STATUS && usb_setup_is_in(s) && usb_setup_type(s) == USB_TYPE_STANDARD) {
        static const uint8_t zero[2];
        return give(data, zero, sizeof zero, s->wLength);   /* bus powered, nothing halted */
    }
    if (usb_setup_is(s, USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE))
        return s->wIndex == 0 && s->wValue == 0 ? 0 : FTDI_STALL;
    if (usb_setup_is(s, USB_RT_INTERFACE_IN, USB_REQ_GET_INTERFACE)) {
        static const uint8_t alt0;
        return s->wIndex == 0 ? give(data, &alt0, 1, s->wLength) : FTDI_STALL;
    }
    if ((usb_setup_is(s, USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE) ||
         usb_setup_is(s, USB_RT_DEVICE_OUT, USB_REQ_CLEAR_FEATURE) ||
         usb_setup_is(s, USB_RT_DEVICE_OUT, USB_REQ_SET_FEATURE)))
        return 0;                              /* endpoint halt, remote wake-up: nothing to keep */
    return FTDI_STALL;
}

/* ---- vendor requests ---- */

static void sample(struct ft232r *f)
{
    if (f->rx_len < sizeof f->rx)
        f->rx[f->rx_len++] = ft232r_pin_levels(f);
}

static int vendor_out(struct ft232r *f, const struct usb_setup *s)
{
    switch (s->bRequest) {
    case FTDI_SIO_RESET:
        if (s->wValue == FTDI_RESET_SIO || s->wValue == FTDI_RESET_PURGE_RX)
            f->rx_len = 0;
        else if (s->wValue != FTDI_RESET_PURGE_TX)
            return FTDI_STALL;
        return 0;                              /* the TX buffer is always empty */
    case FTDI_SIO_SET_MODEM_CTRL:
        if (s->wValue & FTDI_MODEM_DTR_MASK)
            f->modem = (uint8_t)((f->modem & ~FTDI_MODEM_DTR) | (s->wValue & FTDI_MODEM_DTR));
        if (s->wValue & FTDI_MODEM_RTS_MASK)
            f->modem = (uint8_t)((f->modem & ~FTDI_MODEM_RTS) | (s->wValue & FTDI_MODEM_RTS));
        pins_update(f);
        return 0;
    case FTDI_SIO_SET_FLOW_CTRL:
        f->flow = s->wIndex;
        return 0;
    case FTDI_SIO_SET_BAUD_RATE:
        f->baud_divisor = s->wValue;
        return 0;
    case FTDI_SIO_SET_DATA:
        f->data_format = s->wValue;
        return 0;
    case FTDI_SIO_SET_EVENT_CHAR:
    case FTDI_SIO_SET_ERROR_CHAR:
        return 0;
    case FTDI_SIO_SET_LATENCY_TIMER:
        if ((s->wValue & 0xFF) == 0)
            return FTDI_STALL;
        f->latency = (uint8_t)s->wValue;
        return 0;
    case FTDI_SIO_SET_BITMODE: {
        uint8_t mode = (uint8_t)(s->wValue >> 8);
        if (mode != FTDI_BITMODE_RESET && mode != FTDI_BITMODE_BITBANG)
            return FTDI_STALL;                 /* MPSSE, sync bit-bang, CBUS...: not modelled */
        f->mode = mode;
        f->dir = mode == FTDI_BITMODE_BITBANG ? (uint8_t)s->wValue : 0;
        pins_update(f);
        return 0;
    }
    default:
        return FTDI_STALL;                     /* EEPROM writes and erases included */
    }
}

static int vendor_in(struct ft232r *f, const struct usb_setup *s, uint8_t *data)
{
    switch (s->bRequest) {
    case FTDI_SIO_POLL_MODEM_STATUS: {
        const uint8_t st[2] = { FTDI_STATUS0, FTDI_STATUS1 };
        return give(data, st, sizeof st, s->wLength);
    }
    case FTDI_SIO_GET_LATENCY_TIMER:
        return give(data, &f->latency, 1, s->wLength);
    case FTDI_SIO_READ_PINS: {
        uint8_t levels = ft232r_pin_levels(f);
        return give(data, &levels, 1, s->wLength);
    }
    case FTDI_SIO_READ_EEPROM: {
        static const uint8_t blank[2];
        return s->wIndex < EEPROM_WORDS ? give(data, blank, sizeof blank, s->wLength) : FTDI_STALL;
    }
    default:
        return FTDI_STALL;
    }
}

int ft232r_control(struct ft232r *f, const uint8_t setup[8], uint8_t *data)
{
    const struct usb_setup s = usb_setup_decode(setup);
    if (usb_setup_type(&s) == USB_TYPE_STANDARD)
        return standard_request(f, &s, data);
    if (usb_setup_type(&s) != USB_TYPE_VENDOR || usb_setup_recipient(&s) != USB_RECIP_DEVICE)
        return FTDI_STALL;
    return usb_setup_is_in(&s) ? vendor_in(f, &s, data) : vendor_out(f, &s);
}

int ft232r_bulk_out(struct ft232r *f, const uint8_t *data, size_t len)
{
    if (f->mode == FTDI_BITMODE_BITBANG) {
        for (size_t i = 0; i < len; i++) {
            f->latch = data[i];
            pins_update(f);
            sample(f);
        }
    }
    return (int)len;
}

int ft232r_bulk_in(struct ft232r *f, uint8_t *buf, size_t cap)
{
    size_t n = 0, taken = 0;
    do {
        size_t packet = cap - n < FTDI_MAX_PACKET ? cap - n : FTDI_MAX_PACKET;
        // cppcheck-suppress knownConditionTrueFalse ; cap < 2 gives packet < 2 on the first pass
        if (packet < 2)
            break;
        buf[n] = FTDI_STATUS0;
        buf[n + 1] = FTDI_STATUS1;
        size_t data = packet - 2 < f->rx_len - taken ? packet - 2 : f->rx_len - taken;
        memcpy(buf + n + 2, f->rx + taken, data);
        taken += data;
        n += 2 + data;
        if (2 + data < FTDI_MAX_PACKET)
            break;                             /* a short packet ends the transfer */
    } while (n < cap);
    memmove(f->rx, f->rx + taken, f->rx_len - taken);
    f->rx_len -= taken;
    return (int)n;
}

void ft232r_usb_reset(struct ft232r *f)
{
    f->mode = FTDI_BITMODE_RESET;
    f->dir = 0;
    f->rx_len = 0;
    pins_update(f);
}
