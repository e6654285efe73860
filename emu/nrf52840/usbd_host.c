/* The full-speed host controller in front of the USBD model (usbd_host.h):
 * transfer queues, and one transaction per step in virtual time against
 * the device (usbd.c) through the bus calls of usbd_bus.h.
 *
 * What differs from a real host controller: a transaction the device is not
 * ready for is NAKed; instead of polling, the host retries when the firmware
 * changes something (any register write "kicks" it), which is what a real
 * host's endless NAK-retry comes down to, minus the wasted bus time. No
 * frame scheduling (control and bulk share the bus freely), no CRC or
 * bit-stuffing errors, no interrupt or isochronous transfers.
 * Pending: isochronous endpoints, errors injected on purpose. */
#include <stdlib.h>
#include <string.h>

#include <hilda/usb.h>

#include "usbd_bus.h"

#define NEP USBD_BUS_ENDPOINTS
#define MPS USBD_BUS_MAX_PACKET

/* Virtual-time costs. Full speed moves 1.5 bytes a microsecond; a
 * transaction adds token, handshake and inter-packet gaps. */
#define T_TRANSACTION(bytes) (SOC_US(2) + (vtime_t)(bytes) * SOC_CYCLES_PER_US * 2 / 3)
#define T_KICK               SOC_US(1)

enum ctrl_stage { ST_SETUP, ST_DATA_IN, ST_DATA_OUT, ST_STATUS_IN, ST_STATUS_OUT };

struct usbd_hc {
    struct soc *soc;
    struct usbd *dev;
    struct sched_event step_ev;
    struct usbd_host_events events;
    /* its data toggles and the transfer queues (head = running) */
    uint8_t toggle_in[NEP], toggle_out[NEP];
    struct usb_xfer *ctrl;
    struct usb_xfer *bulk_in[NEP], *bulk_out[NEP];
};

void usbd_hc_kick(struct usbd_hc *hc)
{
    if (!hc->step_ev.pending)
        soc_schedule(hc->soc, &hc->step_ev, T_KICK);
}

/* ---- transfers ---- */

static void finish(struct usb_xfer **queue, struct usb_xfer *x, enum usb_xfer_status status)
{
    for (struct usb_xfer **pp = queue; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    }
    x->next = NULL;
    x->status = status;
    if (x->done)
        x->done(x, x->ctx);
}

static void fail_queue(struct usb_xfer **queue, enum usb_xfer_status status)
{
    while (*queue)
        finish(queue, *queue, status);
}

void usbd_hc_fail_all(struct usbd_hc *hc, enum usb_xfer_status status)
{
    fail_queue(&hc->ctrl, status);
    for (unsigned n = 0; n < NEP; n++) {
        fail_queue(&hc->bulk_in[n], status);
        fail_queue(&hc->bulk_out[n], status);
    }
}

void usbd_hc_reset_toggles(struct usbd_hc *hc)
{
    memset(hc->toggle_in, 0, sizeof hc->toggle_in);
    memset(hc->toggle_out, 0, sizeof hc->toggle_out);
}

void usbd_hc_connection(struct usbd_hc *hc, bool connected)
{
    if (hc->events.connect)
        hc->events.connect(hc->events.ctx, connected);
}

/* ---- one transaction per step ---- */

/* Standard requests after which the host resets its data toggles (USB 2.0
 * §9.4.5, 9.4.7, 9.4.10): CLEAR_FEATURE(ENDPOINT_HALT), SET_CONFIGURATION,
 * SET_INTERFACE. The host controller side knows what it sent. */
static void toggles_after(struct usbd_hc *hc, const struct usb_setup *s)
{
    if (usb_setup_is(s, USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE) && s->wValue == USB_FEATURE_ENDPOINT_HALT) {
        unsigned n = s->wIndex & USB_EP_NUM_MASK;
        if (n < NEP) {
            if (s->wIndex & USB_EP_DIR_IN)
                hc->toggle_in[n] = 0;
            else
                hc->toggle_out[n] = 0;
        }
    } else if (usb_setup_is(s, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION) ||
               usb_setup_is(s, USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE)) {
        usbd_hc_reset_toggles(hc);
    }
}

static void ctrl_done(struct usbd_hc *hc, struct usb_xfer *x, enum usb_xfer_status st)
{
    if (st == USB_XFER_OK) {
        struct usb_setup s = usb_setup_decode(x->setup);
        toggles_after(hc, &s);
    }
    usbd_bus_ep0_end(hc->dev, st == USB_XFER_OK);
    finish(&hc->ctrl, x, st);
}

/* Returns the bus time used, 0 if every transaction was NAKed. */
static vtime_t ctrl_step(struct usbd_hc *hc)
{
    struct usb_xfer *x = hc->ctrl;
    const struct usb_setup s = usb_setup_decode(x->setup);
    uint16_t wlength = s.wLength;
    uint8_t packet[MPS];
    uint32_t n;

    switch (x->stage) {
    case ST_SETUP:
        usbd_bus_setup(hc->dev, x->setup);
        x->actual = 0;
        x->stage = wlength == 0 ? ST_STATUS_IN : usb_setup_is_in(&s) ? ST_DATA_IN : ST_DATA_OUT;
        return T_TRANSACTION(USB_SETUP_SIZE);
    case ST_DATA_IN:
        switch (usbd_bus_ep0_in(hc->dev, packet, &n)) {
        case USBD_STALL:
            ctrl_done(hc, x, USB_XFER_STALL);
            return T_TRANSACTION(0);
        case USBD_NAK:
            return 0;
        case USBD_ACK:
            break;
        }
        if (x->actual + n > x->len) {
            ctrl_done(hc, x, USB_XFER_OVERFLOW);   /* babble: more than wLength */
            return T_TRANSACTION(n);
        }
        memcpy(x->buf + x->actual, packet, n);
        x->actual += n;
        if (n < MPS || x->actual == wlength)
            x->stage = ST_STATUS_OUT;
        usbd_bus_ep0_datadone(hc->dev);
        return T_TRANSACTION(n);
    case ST_DATA_OUT:
        n = wlength - x->actual < MPS ? wlength - x->actual : MPS;
        switch (usbd_bus_ep0_out(hc->dev, x->buf + x->actual, n)) {
        case USBD_STALL:
            ctrl_done(hc, x, USB_XFER_STALL);
            return T_TRANSACTION(0);
        case USBD_NAK:
            return 0;
        case USBD_ACK:
            break;
        }
        x->actual += n;
        if (x->actual == wlength)
            x->stage = ST_STATUS_IN;
        usbd_bus_ep0_datadone(hc->dev);
        return T_TRANSACTION(n);
    case ST_STATUS_IN:
    case ST_STATUS_OUT:
        switch (usbd_bus_ep0_status(hc->dev, x->stage == ST_STATUS_IN)) {
        case USBD_STALL:
            ctrl_done(hc, x, USB_XFER_STALL);
            return T_TRANSACTION(0);
        case USBD_NAK:
            return 0;
        case USBD_ACK:
            break;
        }
        ctrl_done(hc, x, USB_XFER_OK);
        return T_TRANSACTION(0);
    }
    return 0;
}

static vtime_t bulk_in_step(struct usbd_hc *hc, unsigned n)
{
    struct usb_xfer *x = hc->bulk_in[n];
    uint8_t packet[MPS], toggle;
    uint32_t len;
    switch (usbd_bus_bulk_in(hc->dev, n, packet, &len, &toggle)) {
    case USBD_STALL:
        finish(&hc->bulk_in[n], x, USB_XFER_STALL);
        return T_TRANSACTION(0);
    case USBD_NAK:
        return 0;   /* a disabled endpoint does not answer either: the host times out */
    case USBD_ACK:
        break;
    }
    /* A packet with the toggle the host did not expect is taken for a
     * retransmission: ACKed and dropped (USB 2.0 §8.6). */
    if (toggle != hc->toggle_in[n])
        return T_TRANSACTION(len);
    hc->toggle_in[n] ^= 1;
    if (x->actual + len > x->len) {
        finish(&hc->bulk_in[n], x, USB_XFER_OVERFLOW);
        return T_TRANSACTION(len);
    }
    memcpy(x->buf + x->actual, packet, len);
    x->actual += len;
    if (len < MPS || x->actual == x->len)
        finish(&hc->bulk_in[n], x, USB_XFER_OK);
    return T_TRANSACTION(len);
}

static vtime_t bulk_out_step(struct usbd_hc *hc, unsigned n)
{
    struct usb_xfer *x = hc->bulk_out[n];
    uint32_t len = x->len - x->actual < MPS ? x->len - x->actual : MPS;
    switch (usbd_bus_bulk_out(hc->dev, n, x->buf + x->actual, len, hc->toggle_out[n])) {
    case USBD_STALL:
        finish(&hc->bulk_out[n], x, USB_XFER_STALL);
        return T_TRANSACTION(0);
    case USBD_NAK:
        return 0;
    case USBD_ACK:
        break;
    }
    hc->toggle_out[n] ^= 1;
    x->actual += len;
    if (x->actual == x->len)
        finish(&hc->bulk_out[n], x, USB_XFER_OK);
    return T_TRANSACTION(len);
}

static void host_step(struct soc *soc, void *ctx)
{
    struct usbd_hc *hc = ctx;
    (void)soc;
    if (!usbd_bus_connected(hc->dev) || usbd_bus_suspended(hc->dev))
        return;
    vtime_t used = 0;
    if (hc->ctrl)
        used += ctrl_step(hc);
    for (unsigned n = 1; n < NEP; n++) {
        if (hc->bulk_in[n])
            used += bulk_in_step(hc, n);
        if (hc->bulk_out[n])
            used += bulk_out_step(hc, n);
    }
    /* Progress: go on after the bus time used. All NAKed: wait for a kick. */
    if (used)
        soc_schedule(hc->soc, &hc->step_ev, used);
}

struct usbd_hc *usbd_hc_new(struct soc *soc, struct usbd *dev)
{
    struct usbd_hc *hc = calloc(1, sizeof *hc);
    if (!hc)
        return NULL;
    hc->soc = soc;
    hc->dev = dev;
    hc->step_ev = (struct sched_event){ .name = "USB host", .fire = host_step, .ctx = hc };
    return hc;
}

void usbd_hc_free(struct usbd_hc *hc)
{
    free(hc);
}

/* ---- usbd_host.h ---- */

void usbd_host_set_events(struct periph *usbd, const struct usbd_host_events *ev)
{
    usbd_bus_hc(usbd)->events = *ev;
}

bool usbd_host_connected(const struct periph *usbd)
{
    return usbd_bus_connected(usbd_bus_hc((struct periph *)usbd)->dev);
}

uint8_t usbd_host_address(const struct periph *usbd)
{
    return usbd_bus_address(usbd_bus_hc((struct periph *)usbd)->dev);
}

static struct usb_xfer **queue_of(struct usbd_hc *hc, const struct usb_xfer *x)
{
    unsigned n = x->ep & USB_EP_NUM_MASK;
    if (n >= NEP)
        return NULL;
    return n == 0 ? &hc->ctrl : (x->ep & USB_EP_DIR_IN) ? &hc->bulk_in[n] : &hc->bulk_out[n];
}

bool usbd_host_submit(struct periph *usbd, struct usb_xfer *x)
{
    struct usbd_hc *hc = usbd_bus_hc(usbd);
    if (!usbd_bus_connected(hc->dev))
        return false;
    struct usb_xfer **q = queue_of(hc, x);
    if (!q)
        return false;
    x->status = USB_XFER_PENDING;
    x->actual = 0;
    x->stage = ST_SETUP;
    x->next = NULL;
    while (*q)
        q = &(*q)->next;
    *q = x;
    usbd_hc_kick(hc);
    return true;
}

bool usbd_host_cancel(struct periph *usbd, struct usb_xfer *x)
{
    struct usbd_hc *hc = usbd_bus_hc(usbd);
    struct usb_xfer **q = queue_of(hc, x);
    if (!q)
        return false;
    for (struct usb_xfer *it = *q; it; it = it->next) {
        if (it == x) {
            finish(q, x, USB_XFER_CANCELLED);
            usbd_hc_kick(hc);
            return true;
        }
    }
    return false;
}

void usbd_host_bus_reset(struct periph *usbd)
{
    struct usbd_hc *hc = usbd_bus_hc(usbd);
    if (!usbd_bus_connected(hc->dev))
        return;
    usbd_hc_fail_all(hc, USB_XFER_DISCONNECTED);
    usbd_bus_reset(hc->dev);
}

void usbd_host_suspend(struct periph *usbd)
{
    usbd_bus_suspend(usbd_bus_hc(usbd)->dev);
}

void usbd_host_resume(struct periph *usbd)
{
    struct usbd_hc *hc = usbd_bus_hc(usbd);
    if (usbd_bus_resume(hc->dev))
        usbd_hc_kick(hc);
}
