#include "vendor.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "desc.h"
#include "xfer.h"

#define UART_POLL_MS 5

const char *const hilda_counter_names[HILDA_COUNTERS_FIELDS] = {
    "setups", "stalls", "bus_resets", "suspends", "resumes", "dma_usbd", "dma_uarte_tx", "dma_uarte_rx",
    "uart_errors", "uart_overruns", "uart_rx_bytes", "uart_tx_bytes", "ep0_cycles_last", "ep0_cycles_max",
    "button_presses", "core_hz", "uart_rx_fifo_overruns", "uart_rx_ring_overflows", "uart_tx_ring_overflows",
    "uart_rx_flow_stops",
};

uint32_t hilda_counter_value(const struct hilda_counters *c, size_t i)
{
    const uint32_t v[HILDA_COUNTERS_FIELDS] = {
        c->setups, c->stalls, c->bus_resets, c->suspends, c->resumes, c->dma_usbd, c->dma_uarte_tx,
        c->dma_uarte_rx, c->uart_errors, c->uart_overruns, c->uart_rx_bytes, c->uart_tx_bytes,
        c->ep0_cycles_last, c->ep0_cycles_max, c->button_presses, c->core_hz, c->uart_rx_fifo_overruns,
        c->uart_rx_ring_overflows, c->uart_tx_ring_overflows, c->uart_rx_flow_stops,
    };
    return i < HILDA_COUNTERS_FIELDS ? v[i] : 0;
}

enum hilda_status hilda_get_version(struct hilda_device *d, struct hilda_version *v, struct hilda_error *e)
{
    uint8_t b[HILDA_VERSION_WIRE];
    enum hilda_status st = hilda_ctrl_in_exact(d, HILDA_REQTYPE_IN, HILDA_REQ_GET_VERSION, 0, 0, b, sizeof b, e);
    if (st)
        return st;
    v->protocol = hilda_le16(b, sizeof b, 0);
    v->firmware = hilda_le16(b, sizeof b, 2);
    v->git_hash = hilda_le32(b, sizeof b, 4);
    return HILDA_OK;
}

enum hilda_status hilda_get_counters(struct hilda_device *d, struct hilda_counters *c, struct hilda_error *e)
{
    uint8_t b[HILDA_COUNTERS_WIRE] = { 0 };
    struct usb_setup s = { HILDA_REQTYPE_IN, HILDA_REQ_GET_COUNTERS, 0, 0, sizeof b };
    size_t got = 0;
    enum hilda_status st = hilda_ctrl(d, &s, b, 0, &got, e);
    if (st)
        return st;
    if (got != HILDA_COUNTERS_WIRE && got != HILDA_COUNTERS_WIRE_1_0)
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "GET_COUNTERS answered %zu bytes, not %d (or %d from protocol 1.0)",
                          got, HILDA_COUNTERS_WIRE, HILDA_COUNTERS_WIRE_1_0);
    uint32_t w[HILDA_COUNTERS_FIELDS];
    for (size_t i = 0; i < HILDA_COUNTERS_FIELDS; i++)
        w[i] = hilda_le32(b, sizeof b, 4 * i);
    *c = (struct hilda_counters){
        .setups = w[0], .stalls = w[1], .bus_resets = w[2], .suspends = w[3], .resumes = w[4],
        .dma_usbd = w[5], .dma_uarte_tx = w[6], .dma_uarte_rx = w[7], .uart_errors = w[8],
        .uart_overruns = w[9], .uart_rx_bytes = w[10], .uart_tx_bytes = w[11], .ep0_cycles_last = w[12],
        .ep0_cycles_max = w[13], .button_presses = w[14], .core_hz = w[15], .uart_rx_fifo_overruns = w[16],
        .uart_rx_ring_overflows = w[17], .uart_tx_ring_overflows = w[18], .uart_rx_flow_stops = w[19],
    };
    return HILDA_OK;
}

enum hilda_status hilda_reset_counters(struct hilda_device *d, struct hilda_error *e)
{
    return hilda_ctrl_nodata(d, HILDA_REQTYPE_OUT, HILDA_REQ_RESET_COUNTERS, 0, 0, e);
}

enum hilda_status hilda_echo_write(struct hilda_device *d, const uint8_t *data, uint16_t len, struct hilda_error *e)
{
    struct usb_setup s = { HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, len };
    size_t sent;
    /* libusb takes a non-const buffer for both directions; an OUT transfer only reads it */
    enum hilda_status st = hilda_ctrl(d, &s, (uint8_t *)(uintptr_t)data, 0, &sent, e);
    if (st == HILDA_OK && sent != len)
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "ECHO_WRITE sent %zu of %u bytes", sent, len);
    return st;
}

enum hilda_status hilda_echo_read(struct hilda_device *d, uint8_t *data, uint16_t cap, size_t *got,
                                  struct hilda_error *e)
{
    struct usb_setup s = { HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, cap };
    return hilda_ctrl(d, &s, data, 0, got, e);
}

enum hilda_status hilda_uart_status(struct hilda_device *d, struct hilda_uart_status *u, struct hilda_error *e)
{
    uint8_t b[HILDA_UART_STATUS_WIRE];
    enum hilda_status st = hilda_ctrl_in_exact(d, HILDA_REQTYPE_IN, HILDA_REQ_UART_STATUS, 0, 0, b, sizeof b, e);
    if (st)
        return st;
    u->baud = hilda_le32(b, sizeof b, 0);
    u->tx_free = hilda_le32(b, sizeof b, 4);
    u->rx_available = hilda_le32(b, sizeof b, 8);
    u->errorsrc = hilda_le32(b, sizeof b, 12);
    return HILDA_OK;
}

static const uint32_t uart_bauds[] = { HILDA_UART_BAUDS };

bool hilda_uart_baud_supported(uint32_t baud)
{
    for (size_t i = 0; i < sizeof uart_bauds / sizeof uart_bauds[0]; i++)
        if (uart_bauds[i] == baud)
            return true;
    return false;
}

const char *hilda_uart_bauds_text(void)
{
    static char text[16 * (sizeof uart_bauds / sizeof uart_bauds[0])];
    if (!text[0]) {
        size_t at = 0;
        for (size_t i = 0; i < sizeof uart_bauds / sizeof uart_bauds[0]; i++)
            at += (size_t)snprintf(text + at, sizeof text - at, "%s%lu", i ? ", " : "", (unsigned long)uart_bauds[i]);
    }
    return text;
}

enum hilda_status hilda_uart_set_baud(struct hilda_device *d, uint32_t baud, struct hilda_error *e)
{
    return hilda_ctrl_nodata(d, HILDA_REQTYPE_OUT, HILDA_REQ_UART_SET_BAUD, (uint16_t)baud, (uint16_t)(baud >> 16), e);
}

enum hilda_status hilda_uart_send(struct hilda_device *d, const uint8_t *data, size_t len, unsigned timeout_ms,
                                  size_t *sent, struct hilda_error *e)
{
    *sent = 0;
    uint64_t last_progress = hilda_now_ns();
    while (*sent < len) {
        struct hilda_uart_status u;
        enum hilda_status st = hilda_uart_status(d, &u, e);
        if (st)
            return st;
        size_t chunk = len - *sent;
        if (chunk > u.tx_free)
            chunk = u.tx_free;
        if (chunk > HILDA_UART_TX_CAPACITY)   /* a device claiming more than it can hold is not believed */
            chunk = HILDA_UART_TX_CAPACITY;
        if (chunk == 0) {
            if (hilda_now_ns() - last_progress > (uint64_t)timeout_ms * 1000000u)
                return hilda_fail(e, HILDA_ERR_TIMEOUT,
                                  "the UART took no bytes for %u ms (TX buffer full); %zu of %zu sent", timeout_ms,
                                  *sent, len);
            if (!hilda_sleep_ms(UART_POLL_MS))
                return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted with %zu of %zu bytes sent", *sent, len);
            continue;
        }
        struct usb_setup s = { HILDA_REQTYPE_OUT, HILDA_REQ_UART_WRITE, 0, 0, (uint16_t)chunk };
        size_t n;
        st = hilda_ctrl(d, &s, (uint8_t *)(uintptr_t)(data + *sent), 0, &n, e);
        if (st)
            return st;
        *sent += n;
        last_progress = hilda_now_ns();
    }
    return HILDA_OK;
}

enum hilda_status hilda_uart_read(struct hilda_device *d, uint8_t *data, uint16_t cap, size_t *got,
                                  struct hilda_error *e)
{
    struct usb_setup s = { HILDA_REQTYPE_IN, HILDA_REQ_UART_READ, 0, 0, cap };
    return hilda_ctrl(d, &s, data, 0, got, e);
}

enum hilda_status hilda_uart_recv(struct hilda_device *d, uint8_t *data, size_t cap, unsigned idle_ms, unsigned max_ms,
                                  size_t *got, struct hilda_error *e)
{
    *got = 0;
    uint64_t start = hilda_now_ns(), last = start;
    while (*got < cap) {
        size_t want = cap - *got;
        if (want > HILDA_UART_RX_CAPACITY)
            want = HILDA_UART_RX_CAPACITY;
        size_t n;
        enum hilda_status st = hilda_uart_read(d, data + *got, (uint16_t)want, &n, e);
        if (st)
            return st;
        uint64_t now = hilda_now_ns();
        if (n) {
            *got += n;
            last = now;
            continue;
        }
        if (now - last >= (uint64_t)idle_ms * 1000000u || now - start >= (uint64_t)max_ms * 1000000u)
            break;
        if (!hilda_sleep_ms(UART_POLL_MS))
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted after %zu bytes", *got);
    }
    return HILDA_OK;
}

enum hilda_status hilda_get_variant(struct hilda_device *d, uint16_t id, uint8_t *data, uint16_t cap, size_t *got,
                                    struct hilda_error *e)
{
    struct usb_setup s = { HILDA_REQTYPE_IN, HILDA_REQ_GET_VARIANT, id, 0, cap };
    return hilda_ctrl(d, &s, data, 0, got, e);
}

const char *hilda_variant_name(unsigned id)
{
    switch (id) {
    case HILDA_VARIANT_CONFIG_64: return "config_64";
    case HILDA_VARIANT_CONFIG_128: return "config_128";
    case HILDA_VARIANT_STRING_254: return "string_254";
    case HILDA_VARIANT_STRING_255: return "string_255";
    case HILDA_VARIANT_STRING_64: return "string_64";
    default: return "unknown";
    }
}

enum hilda_status hilda_fault_stall(struct hilda_device *d, struct hilda_error *e)
{
    return hilda_ctrl_nodata(d, HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_STALL, 0, 0, e);
}

enum hilda_status hilda_fault_delay(struct hilda_device *d, uint16_t ms, struct hilda_error *e)
{
    return hilda_ctrl_nodata(d, HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_DELAY, ms, 0, e);
}

enum hilda_status hilda_reboot(struct hilda_device *d, bool bootloader, struct hilda_error *e)
{
    return hilda_ctrl_nodata(d, HILDA_REQTYPE_OUT, bootloader ? HILDA_REQ_REBOOT_BOOTLOADER : HILDA_REQ_REBOOT, 0, 0,
                             e);
}
