/* Chapter 9 checks of the interface and endpoint requests in the Configured
 * state, interface 0 claimed (USBCV TD 9.4, 9.9, 9.12; usbtest 13 halt_simple
 * and 29 toggle sync). One function per registry entry; 9.9-halt-0xNN
 * reports one result per bulk or interrupt endpoint. */
#include <stdio.h>
#include <string.h>

#include "ch9_battery.h"

/* SET_FEATURE or CLEAR_FEATURE (req) of feature to the recipient rt (USB_RT_*_OUT) number index. */
static struct usb_setup feature(uint8_t rt, uint8_t req, uint16_t feature, uint16_t index)
{
    return (struct usb_setup){ rt, req, feature, index, 0 };
}

/* ---- GET_STATUS, and requests to what does not exist ---- */

CH9_CHECK(ch9_status_interface)
{
    ch9_expect_status(c, k, USB_RT_INTERFACE_IN, 0, 0, false);
}

CH9_CHECK(ch9_status_ep0_out)
{
    ch9_expect_status(c, k, USB_RT_ENDPOINT_IN, 0x00, 0, false);
}

CH9_CHECK(ch9_status_ep0_in)
{
    ch9_expect_status(c, k, USB_RT_ENDPOINT_IN, USB_EP_DIR_IN | 0, 0, false);
}

CH9_CHECK(ch9_clear_halt_ep0)
{
    struct hilda_error e;
    enum hilda_status st =
        ch9_req(c, feature(USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0), NULL, NULL, &e);
    char why[200];
    if (st == HILDA_OK || (st == HILDA_ERR_STALL && ch9_recovers(c, why, sizeof why)))
        ch9_add(c, k, HILDA_PASS, "%s", st == HILDA_OK ? "accepted" : "STALL, then served the next request");
    else if (!c->fatal)
        ch9_add(c, k, HILDA_FAIL, "%s", st == HILDA_ERR_STALL ? why : e.message);
}

CH9_CHECK(ch9_status_interface_missing)
{
    ch9_expect_stall(c, k, hilda_setup_get_status(USB_RT_INTERFACE_IN, (uint16_t)c->n_interfaces), true);
}

CH9_CHECK(ch9_status_ep_missing)
{
    /* endpoint 15 IN: the highest address there is, which hilda does not have */
    ch9_expect_stall(c, k, hilda_setup_get_status(USB_RT_ENDPOINT_IN, USB_EP_DIR_IN | USB_EP_NUM_MASK), true);
}

/* ---- features the device does not have ---- */

CH9_CHECK(ch9_set_feature_interface)
{
    /* chapter 9 defines no interface feature; selector 0 stands for any */
    ch9_expect_stall(c, k, feature(USB_RT_INTERFACE_OUT, USB_REQ_SET_FEATURE, 0, 0), true);
}

CH9_CHECK(ch9_remote_wakeup)
{
    if (c->cl.n && c->cl.v[0].decoded && (c->cl.v[0].u.config.bmAttributes & USB_CONFIG_ATT_WAKEUP)) {
        const struct hilda_ch9_check able = { k->id, "remote wakeup", k->run, k->stage };
        ch9_add(c, &able, HILDA_SKIP,
                "the configuration supports remote wakeup: USBCV TD 9.12 needs suspend, not done here");
    } else {
        ch9_expect_stall(c, k, feature(USB_RT_DEVICE_OUT, USB_REQ_SET_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0),
                         false);
    }
}

CH9_CHECK(ch9_set_halt_ep0)
{
    ch9_expect_stall(c, k, feature(USB_RT_ENDPOINT_OUT, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0), false);
    if (!c->hilda && c->out->n && strcmp(c->out->v[c->out->n - 1].id, k->id) == 0 &&
        c->out->v[c->out->n - 1].result == HILDA_FAIL)
        c->out->v[c->out->n - 1].result = HILDA_WARN;   /* a device may implement EP0 halt */
}

/* ---- GET_INTERFACE and SET_INTERFACE ---- */

CH9_CHECK(ch9_get_interface)
{
    uint8_t alt;
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_interface(0), &alt, &got, &e);
    ch9_add(c, k, st == HILDA_OK && got == 1 && alt == 0 ? HILDA_PASS : HILDA_FAIL, "%s",
            st ? e.message : got != 1 ? "not 1 byte" : alt ? "not 0" : "0");
}

CH9_CHECK(ch9_set_interface)
{
    int rc = libusb_set_interface_alt_setting(c->d->h, 0, 0);
    uint8_t alt = 0xFF;
    size_t got = 0;
    struct hilda_error e;
    enum hilda_status st = rc < 0 ? HILDA_ERR_IO : ch9_req(c, hilda_setup_get_interface(0), &alt, &got, &e);
    if (rc < 0)
        ch9_add(c, k, HILDA_FAIL, "SET_INTERFACE failed: %s", libusb_error_name(rc));
    else
        ch9_add(c, k, st == HILDA_OK && got == 1 && alt == 0 ? HILDA_PASS : HILDA_FAIL, "%s",
                st ? e.message : alt ? "GET_INTERFACE is not 0" : "accepted; GET_INTERFACE 0");
}

CH9_CHECK(ch9_set_interface_invalid)
{
    unsigned max_alt = 0;
    for (size_t i = 0; i < c->cl.n; i++)
        if (c->cl.v[i].kind == HILDA_KIND_INTERFACE && c->cl.v[i].decoded && c->cl.v[i].u.intf.bInterfaceNumber == 0 &&
            c->cl.v[i].u.intf.bAlternateSetting > max_alt)
            max_alt = c->cl.v[i].u.intf.bAlternateSetting;
    struct usb_setup s = { USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE, (uint16_t)(max_alt + 1), 0, 0 };
    ch9_expect_stall(c, k, s, true);
}

CH9_CHECK(ch9_get_interface_missing)
{
    ch9_expect_stall(c, k, hilda_setup_get_interface((uint16_t)c->n_interfaces), true);
}

/* ---- usbtest 13 halt_simple, per bulk/interrupt endpoint ---- */

/* GET_STATUS(endpoint ep) into *value (0, USB_STATUS_ENDPOINT_HALT...; -1 unless 2 bytes came). */
static enum hilda_status endpoint_status(struct hilda_ch9 *c, uint8_t ep, int *value, struct hilda_error *e)
{
    uint8_t b[2];
    size_t got;
    enum hilda_status st = ch9_req(c, hilda_setup_get_status(USB_RT_ENDPOINT_IN, ep), b, &got, e);
    *value = st == HILDA_OK && got == 2 ? hilda_le16(b, got, 0) : -1;
    return st;
}

static void check_halt(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint8_t ep)
{
    char id[32], title[96];
    snprintf(id, sizeof id, "9.9-halt-0x%02x", ep);
    snprintf(title, sizeof title, "endpoint 0x%02X: GET_STATUS, SET_FEATURE(HALT), I/O stalls, CLEAR_FEATURE", ep);
    const struct hilda_ch9_check one = { id, title, k->run, k->stage };
    if (!ch9_wanted(c, id) || c->fatal)
        return;
    struct hilda_error e;
    int status;
    enum hilda_status st = endpoint_status(c, ep, &status, &e);
    if (st || status != 0) {
        ch9_add(c, &one, HILDA_FAIL, "before: %s", st ? e.message : "GET_STATUS is not 0x0000 (not halted)");
        return;
    }
    if (ch9_req(c, feature(USB_RT_ENDPOINT_OUT, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT, ep), NULL, NULL, &e)) {
        ch9_add(c, &one, HILDA_FAIL, "SET_FEATURE(ENDPOINT_HALT): %s", e.message);
        return;
    }
    endpoint_status(c, ep, &status, &e);
    bool halted = status == USB_STATUS_ENDPOINT_HALT;
    uint8_t b[64];
    int done = 0;
    memset(b, 0x5A, sizeof b);
    enum hilda_status io =
        c->fatal ? HILDA_ERR_NO_DEVICE : ch9_bulk_io(c, ep, b, (ep & USB_EP_DIR_IN) ? 64 : 8, &done);
    int rc = c->fatal ? 0 : libusb_clear_halt(c->d->h, ep);   /* through the OS: the host's toggle resets too */
    bool cleared = !c->fatal && endpoint_status(c, ep, &status, &e) == HILDA_OK && status == 0;
    if (c->fatal)
        return;
    if (!halted)
        ch9_add(c, &one, HILDA_FAIL, "after SET_FEATURE(HALT), GET_STATUS does not say halted (0x0001)");
    else if (io != HILDA_ERR_STALL)
        ch9_add(c, &one, HILDA_FAIL, "I/O on the halted endpoint gave %s, not a STALL", hilda_status_name(io));
    else if (rc < 0)
        ch9_add(c, &one, HILDA_FAIL, "CLEAR_FEATURE(HALT) failed: %s", libusb_error_name(rc));
    else if (!cleared)
        ch9_add(c, &one, HILDA_FAIL, "after CLEAR_FEATURE(HALT), GET_STATUS does not say 0x0000");
    else
        ch9_add(c, &one, HILDA_PASS, "0 -> halted 1 (I/O stalled) -> cleared 0");
}

CH9_CHECK(ch9_halt_each)
{
    for (unsigned i = 0; i < c->neps; i++)
        check_halt(c, k, c->eps[i]);
}

/* usbtest 29 toggle sync, on hilda's bulk loopback: after CLEAR_FEATURE both
 * sides are at DATA0, so packets in a row must all come back. */
CH9_CHECK(ch9_loopback)
{
    if (!c->hilda) {
        ch9_add(c, k, HILDA_SKIP, "not the hilda firmware: no loopback to use");
        return;
    }
    uint8_t ep_in = 0, ep_out = 0;
    for (unsigned i = 0; i < c->neps; i++) {
        if ((c->eps[i] & USB_EP_DIR_IN) && !ep_in)
            ep_in = c->eps[i];
        if (!(c->eps[i] & USB_EP_DIR_IN) && !ep_out)
            ep_out = c->eps[i];
    }
    if (!ep_in || !ep_out) {
        ch9_add(c, k, HILDA_SKIP, "no bulk IN/OUT pair");
        return;
    }
    for (int n = 0; n < 3; n++) {
        uint8_t out[16], in[64];
        for (size_t i = 0; i < sizeof out; i++)
            out[i] = (uint8_t)(n * 31 + i);
        int done = 0;
        enum hilda_status st = ch9_bulk_io(c, ep_out, out, sizeof out, &done);
        if (st || done != (int)sizeof out) {
            ch9_add(c, k, HILDA_FAIL, "packet %d OUT: %s (%d bytes)", n, hilda_status_name(st), done);
            return;
        }
        st = ch9_bulk_io(c, ep_in, in, sizeof in, &done);
        if (st || done != (int)sizeof out || memcmp(in, out, sizeof out) != 0) {
            ch9_add(c, k, HILDA_FAIL, "packet %d IN: %s, %d bytes%s", n, hilda_status_name(st), done,
                    st ? "" : " (not what was sent)");
            return;
        }
    }
    ch9_add(c, k, HILDA_PASS, "3 packets looped back in order");
}
