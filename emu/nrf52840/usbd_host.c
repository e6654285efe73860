/* The full-speed host controller in front of the USBD model (usbd_host.h):
 * transfer queues, and one transaction per step in virtual time against
 * the device (usbd.c) through the bus calls of usbd_bus.h, one call a token;
 * frames with their SOF, and isochronous transfers on EP8: one packet a
 * frame, right after its SOF, no handshake, no retry (USB 2.0 §5.6).
 *
 * What differs from a real host controller: a transaction the device is not
 * ready for is NAKed; instead of polling, the host retries when the firmware
 * changes something (any register write "kicks" it), which is what a real
 * host's endless NAK-retry comes down to, minus the wasted bus time. Frames
 * (SOF) run only while the device's SOF interrupt is enabled or isochronous
 * transfers are queued. No bandwidth scheduling (control and bulk share the
 * bus freely, outside the frames; isochronous packets take no bus time), no
 * CRC or bit-stuffing errors, interrupt endpoints are driven like bulk.
 * The status stage of a control transfer is an IN or OUT token like any
 * other: whatever the device answers it with (a data packet there ends the
 * transfer with OVERFLOW, as babble).
 * Pending: errors injected on purpose. */
#include <stdlib.h>
#include <string.h>

#include <hilda/usb.h>

#include "usbd_bus.h"

#define NEP USBD_BUS_ENDPOINTS
#define MPS USBD_BUS_MAX_PACKET
#define ISO_MAX USBD_BUS_MAX_ISO_PACKET

/* Virtual-time costs. Full speed moves 1.5 bytes a microsecond; a
 * transaction adds token, handshake and inter-packet gaps. */
#define T_TRANSACTION(bytes) (SOC_US(2) + (vtime_t)(bytes) * SOC_CYCLES_PER_US * 2 / 3)
#define T_KICK               SOC_US(1)

enum ctrl_stage { ST_SETUP, ST_DATA_IN, ST_DATA_OUT, ST_STATUS_IN, ST_STATUS_OUT };

struct usbd_hc {
    struct soc *soc;
    struct usbd *dev;
    struct sched_event step_ev, frame_ev;
    struct usbd_host_events events;
    /* its data toggles and the transfer queues (head = running) */
    uint8_t toggle_in[NEP], toggle_out[NEP];
    struct usb_xfer *ctrl;
    struct usb_xfer *bulk_in[NEP], *bulk_out[NEP];
    struct usb_xfer *iso_in, *iso_out;
};

static bool frames_wanted(const struct usbd_hc *hc)
{
    return hc->iso_in || hc->iso_out || usbd_bus_wants_sof(hc->dev);
}

/* The next frame starts on the device's frame boundary. */
static void frames_start(struct usbd_hc *hc)
{
    if (frames_wanted(hc) && !hc->frame_ev.pending)
        soc_schedule(hc->soc, &hc->frame_ev, usbd_bus_next_frame(hc->dev));
}

void usbd_hc_kick(struct usbd_hc *hc)
{
    if (!hc->step_ev.pending)
        soc_schedule(hc->soc, &hc->step_ev, T_KICK);
    frames_start(hc);
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
    fail_queue(&hc->iso_in, status);
    fail_queue(&hc->iso_out, status);
}

void usbd_hc_reset_toggles(struct usbd_hc *hc)
{
    memset(hc->toggle_in, 0, sizeof hc->toggle_in);
    memset(hc->toggle_out, 0, sizeof hc->toggle_out);
}

void usbd_hc_connection(struct usbd_hc *hc, bool connected)
{
    /* the device's frame counter starts again: so do the frames */
    if (hc->frame_ev.pending)
        soc_schedule(hc->soc, &hc->frame_ev, usbd_bus_next_frame(hc->dev));
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

/* The device's handshake to one transaction of a control transfer: ACK goes
 * on (true); NAK ends this step with no bus time used (the host tries again
 * when kicked); STALL ends the transfer, one transaction's time used. */
static bool ctrl_acked(struct usbd_hc *hc, struct usb_xfer *x, enum usbd_handshake h, vtime_t *used)
{
    *used = 0;
    if (h == USBD_STALL) {
        ctrl_done(hc, x, USB_XFER_STALL);
        *used = T_TRANSACTION(0);
    }
    return h == USBD_ACK;
}

/* The same for a bulk transfer, the head of `queue`. A disabled endpoint
 * does not answer at all, which the host sees as a NAK: it times out. */
static bool bulk_acked(struct usb_xfer **queue, struct usb_xfer *x, enum usbd_handshake h, vtime_t *used)
{
    *used = 0;
    if (h == USBD_STALL) {
        finish(queue, x, USB_XFER_STALL);
        *used = T_TRANSACTION(0);
    }
    return h == USBD_ACK;
}

/* Returns the bus time used, 0 if every transaction was NAKed. */
static vtime_t ctrl_step(struct usbd_hc *hc)
{
    struct usb_xfer *x = hc->ctrl;
    const struct usb_setup s = usb_setup_decode(x->setup);
    uint16_t wlength = s.wLength;
    uint8_t packet[MPS];
    uint32_t n;
    vtime_t used;

    switch (x->stage) {
    case ST_SETUP:
        usbd_bus_setup(hc->dev, x->setup);
        x->actual = 0;
        x->stage = wlength == 0 ? ST_STATUS_IN : usb_setup_is_in(&s) ? ST_DATA_IN : ST_DATA_OUT;
        return T_TRANSACTION(USB_SETUP_SIZE);
    case ST_DATA_IN:
        if (!ctrl_acked(hc, x, usbd_bus_ep0_in(hc->dev, packet, &n), &used))
            return used;
        if (x->actual + n > x->len) {
            ctrl_done(hc, x, USB_XFER_OVERFLOW);   /* babble: more than wLength */
            return T_TRANSACTION(n);
        }
        memcpy(x->buf + x->actual, packet, n);
        x->actual += n;
        if (n < MPS || x->actual == wlength)
            x->stage = ST_STATUS_OUT;
        usbd_bus_ep0_in_acked(hc->dev);
        return T_TRANSACTION(n);
    case ST_DATA_OUT:
        n = wlength - x->actual < MPS ? wlength - x->actual : MPS;
        if (!ctrl_acked(hc, x, usbd_bus_ep0_out(hc->dev, x->buf + x->actual, n), &used))
            return used;
        x->actual += n;
        if (x->actual == wlength)
            x->stage = ST_STATUS_IN;
        return T_TRANSACTION(n);
    case ST_STATUS_IN:   /* an IN token: the device's zero-length packet ends the transfer */
        if (!ctrl_acked(hc, x, usbd_bus_ep0_in(hc->dev, packet, &n), &used))
            return used;
        if (n != 0) {
            soc_log(hc->soc, "emu: usb host: the device sent %u bytes in the status stage of a control transfer "
                    "(babble)\n", n);
            ctrl_done(hc, x, USB_XFER_OVERFLOW);
            return T_TRANSACTION(n);
        }
        usbd_bus_ep0_in_acked(hc->dev);
        ctrl_done(hc, x, USB_XFER_OK);
        return T_TRANSACTION(0);
    case ST_STATUS_OUT:   /* an OUT token with the host's zero-length packet */
        if (!ctrl_acked(hc, x, usbd_bus_ep0_out(hc->dev, packet, 0), &used))
            return used;
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
    vtime_t used;
    if (!bulk_acked(&hc->bulk_in[n], x, usbd_bus_bulk_in(hc->dev, n, packet, &len, &toggle), &used))
        return used;
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
    vtime_t used;
    if (!bulk_acked(&hc->bulk_out[n], x, usbd_bus_bulk_out(hc->dev, n, x->buf + x->actual, len, hc->toggle_out[n]), &used))
        return used;
    hc->toggle_out[n] ^= 1;
    x->actual += len;
    if (x->actual == x->len)
        finish(&hc->bulk_out[n], x, USB_XFER_OK);
    return T_TRANSACTION(len);
}

/* ---- isochronous: one packet a frame ---- */

/* Packet i sits after the room of the ones before it (the usbfs layout). */
static uint32_t iso_offset(const struct usb_xfer *x, uint32_t i)
{
    uint32_t off = 0;
    for (uint32_t k = 0; k < i; k++)
        off += x->iso[k].length;
    return off;
}

static void iso_packet_done(struct usb_xfer **queue, struct usb_xfer *x)
{
    x->actual += x->iso[x->stage].actual;
    if (++x->stage == x->iso_count)
        finish(queue, x, USB_XFER_OK);
}

static void iso_in_step(struct usbd_hc *hc)
{
    struct usb_xfer *x = hc->iso_in;
    struct usb_iso_packet *p = &x->iso[x->stage];
    uint8_t packet[ISO_MAX];
    uint32_t len = 0;
    if (!usbd_bus_iso_in(hc->dev, packet, &len)) {
        p->actual = 0;
        p->result = USB_ISO_NO_ANSWER;
    } else {
        p->actual = len <= p->length ? len : p->length;
        p->result = len <= p->length ? USB_ISO_OK : USB_ISO_OVERFLOW;
        memcpy(x->buf + iso_offset(x, x->stage), packet, p->actual);
    }
    iso_packet_done(&hc->iso_in, x);
}

static void iso_out_step(struct usbd_hc *hc)
{
    struct usb_xfer *x = hc->iso_out;
    struct usb_iso_packet *p = &x->iso[x->stage];
    usbd_bus_iso_out(hc->dev, x->buf + iso_offset(x, x->stage), p->length);
    p->actual = p->length;
    p->result = USB_ISO_OK;
    iso_packet_done(&hc->iso_out, x);
}

/* A frame: the SOF, then the isochronous packets of the frame. */
static void frame_step(struct soc *soc, void *ctx)
{
    struct usbd_hc *hc = ctx;
    (void)soc;
    if (usbd_bus_connected(hc->dev) && !usbd_bus_suspended(hc->dev)) {
        usbd_bus_sof(hc->dev);
        if (hc->iso_in)
            iso_in_step(hc);
        if (hc->iso_out)
            iso_out_step(hc);
    }
    frames_start(hc);
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
    hc->frame_ev = (struct sched_event){ .name = "USB frame", .fire = frame_step, .ctx = hc };
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
    bool in = x->ep & USB_EP_DIR_IN;
    if (x->type == USB_XFER_ISO)
        return n == USBD_BUS_ISO_EP ? in ? &hc->iso_in : &hc->iso_out : NULL;
    if (x->type != USB_XFER_CONTROL_BULK || n >= NEP)
        return NULL;
    return n == 0 ? &hc->ctrl : in ? &hc->bulk_in[n] : &hc->bulk_out[n];
}

/* Isochronous packets: at least one, each at most 1023 bytes, all in buf. */
static bool iso_fits(struct usb_xfer *x)
{
    if (!x->iso || x->iso_count == 0 || (!x->buf && x->len))
        return false;
    uint64_t total = 0;
    for (uint32_t i = 0; i < x->iso_count; i++) {
        if (x->iso[i].length > ISO_MAX)
            return false;
        total += x->iso[i].length;
    }
    return total <= x->len;
}

bool usbd_host_submit(struct periph *usbd, struct usb_xfer *x)
{
    struct usbd_hc *hc = usbd_bus_hc(usbd);
    if (!usbd_bus_connected(hc->dev))
        return false;
    struct usb_xfer **q = queue_of(hc, x);
    if (!q || (x->type == USB_XFER_ISO && !iso_fits(x)))
        return false;
    if (x->type == USB_XFER_ISO) {
        for (uint32_t i = 0; i < x->iso_count; i++)
            x->iso[i] = (struct usb_iso_packet){ .length = x->iso[i].length, .result = USB_ISO_PENDING };
    }
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
