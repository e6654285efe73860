/* The steps the chapter 9 checks are made of: one request, a STALL that must
 * come (and be recovered from), a read of an exact length, a GET_STATUS, and
 * what several checks read once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch9_battery.h"
#include "xfer.h"

#define IO_TIMEOUT_MS 300      /* bulk I/O that must fail at once (halted) or finds nothing waiting */

static const char host_refused[] =
    "the host OS refused the request before it reached the device (Linux usbfs passes interface and endpoint "
    "requests only for the active configuration)";

void ch9_add(struct hilda_ch9 *c, const struct hilda_ch9_check *k, enum hilda_result r, const char *fmt, ...)
{
    char reason[288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    hilda_checks_add(c->out, k->id, k->title, r, "%s", reason);
}

enum hilda_status ch9_req(struct hilda_ch9 *c, struct usb_setup s, uint8_t *buf, size_t *got, struct hilda_error *e)
{
    size_t dummy;
    struct hilda_error local;
    if (!e)
        e = &local;
    enum hilda_status st = hilda_ctrl(c->d, &s, buf, 0, got ? got : &dummy, e);
    if ((st == HILDA_ERR_NO_DEVICE || st == HILDA_ERR_INTERRUPTED) && !c->fatal) {
        c->fatal = true;
        c->err = *e;
    }
    return st;
}

bool ch9_recovers(struct hilda_ch9 *c, char *why, size_t cap)
{
    uint8_t b[USB_DT_DEVICE_SIZE];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, sizeof b), b, &got, &e);
    if (st == HILDA_OK && got == sizeof b)
        return true;
    snprintf(why, cap, "after the STALL, GET_DESCRIPTOR(device) failed: %.140s", st ? e.message : "short reply");
    return false;
}

void ch9_expect_stall(struct hilda_ch9 *c, const struct hilda_ch9_check *k, struct usb_setup s, bool host_may_refuse)
{
    if (!ch9_wanted(c, k->id) || c->fatal)
        return;
    uint8_t buf[1024];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, s, s.wLength ? buf : NULL, &got, &e);
    char why[200];
    switch (st) {
    case HILDA_ERR_STALL:
        if (ch9_recovers(c, why, sizeof why))
            ch9_add(c, k, HILDA_PASS, "STALL, and the next request was served");
        else
            ch9_add(c, k, HILDA_FAIL, "%s", why);
        break;
    case HILDA_OK:
        ch9_add(c, k, HILDA_FAIL, "answered (%zu bytes) where a request error must STALL", got);
        break;
    case HILDA_ERR_IO:
        if (host_may_refuse)
            ch9_add(c, k, HILDA_SKIP, "%s", host_refused);
        else
            ch9_add(c, k, HILDA_FAIL, "%s", e.message);
        break;
    default:
        if (!c->fatal)
            ch9_add(c, k, HILDA_FAIL, "%s", e.message);
        break;
    }
}

void ch9_expect_read(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint8_t type, uint8_t index,
                     uint16_t len, size_t want, const uint8_t *ref)
{
    if (!ch9_wanted(c, k->id) || c->fatal)
        return;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return;
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_descriptor(type, index, 0, len), buf, &got, &e);
    if (st)
        ch9_add(c, k, c->fatal ? HILDA_SKIP : HILDA_FAIL, "%s", e.message);
    else if (got != want)
        ch9_add(c, k, HILDA_FAIL, "wLength %u returned %zu bytes; %zu expected (min(wLength, length))", len, got,
                want);
    else if (ref && memcmp(buf, ref, want) != 0)
        ch9_add(c, k, HILDA_FAIL, "wLength %u: the %zu bytes differ from the full descriptor", len, want);
    else
        ch9_add(c, k, HILDA_PASS, "wLength %u returned exactly %zu bytes%s", len, got,
                ref ? ", equal to the full descriptor" : "");
    free(buf);
}

void ch9_expect_status(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint8_t rt, uint16_t index,
                       uint16_t want, bool host_may_refuse)
{
    if (!ch9_wanted(c, k->id) || c->fatal)
        return;
    uint8_t b[2];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_status(rt, index), b, &got, &e);
    if (st == HILDA_ERR_IO && host_may_refuse)
        ch9_add(c, k, HILDA_SKIP, "%s", host_refused);
    else if (st)
        ch9_add(c, k, c->fatal ? HILDA_SKIP : HILDA_FAIL, "%s", e.message);
    else if (got != 2)
        ch9_add(c, k, HILDA_FAIL, "%zu bytes; GET_STATUS returns 2", got);
    else if (hilda_le16(b, 2, 0) != want)
        ch9_add(c, k, HILDA_FAIL, "status 0x%04X, expected 0x%04X", hilda_le16(b, 2, 0), want);
    else
        ch9_add(c, k, HILDA_PASS, "0x%04X", want);
}

int ch9_get_configuration(struct hilda_ch9 *c, struct hilda_error *e)
{
    uint8_t v;
    size_t got;
    enum hilda_status st = ch9_req(c, hilda_setup_get_configuration(), &v, &got, e);
    if (st)
        return -1;
    if (got != 1) {
        hilda_fail(e, HILDA_ERR_PROTOCOL, "GET_CONFIGURATION returned %zu bytes, not 1", got);
        return -1;
    }
    return v;
}

enum hilda_status ch9_bulk_io(struct hilda_ch9 *c, uint8_t ep, uint8_t *buf, int len, int *done)
{
    int rc = libusb_bulk_transfer(c->d->h, ep, buf, len, done, IO_TIMEOUT_MS);
    enum hilda_status st = hilda_status_from_libusb(rc);
    if (st == HILDA_ERR_NO_DEVICE && !c->fatal) {
        c->fatal = true;
        c->d->gone = true;
        hilda_fail(&c->err, st, "the device went away during bulk I/O on endpoint 0x%02X", ep);
    }
    return st;
}

const uint8_t *ch9_device_ref(struct hilda_ch9 *c)
{
    if (!c->device.read) {
        size_t got;
        c->device.read = true;
        c->device.ok = ch9_req(c, hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, sizeof c->device.data),
                               c->device.data, &got, NULL) == HILDA_OK &&
                       got == sizeof c->device.data;
    }
    return c->device.ok ? c->device.data : NULL;
}

/* String 0 (when the device can still be asked), its first LANGID, and the
 * string indexes the device and configuration descriptors name. */
void ch9_strings(struct hilda_ch9 *c)
{
    if (c->strings.read)
        return;
    c->strings.read = true;
    c->strings.st = HILDA_ERR_STALL;
    c->strings.lang = HILDA_LANGID_EN_US;
    if (!c->fatal)
        c->strings.st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_STRING, 0, 0, sizeof c->strings.s0),
                                c->strings.s0, &c->strings.n0, &c->strings.e);
    const uint8_t *s0 = c->strings.s0;
    size_t n0 = c->strings.n0;
    if (c->strings.st == HILDA_OK && n0 >= 4 && s0[0] == n0 && n0 % 2 == 0 && s0[1] == USB_DT_STRING)
        c->strings.lang = hilda_le16(s0, n0, 2);

    const uint8_t *ref = ch9_device_ref(c);
    if (!ref)
        return;
    struct hilda_desc_set set;
    hilda_desc_set_init(&set);
    uint8_t devcopy[USB_DT_DEVICE_SIZE];
    memcpy(devcopy, ref, sizeof devcopy);
    set.device.present = true;
    set.device.data = devcopy;
    set.device.len = sizeof devcopy;
    set.n_configs = 1;
    set.configs[0].present = true;
    set.configs[0].data = c->cfg;
    set.configs[0].len = c->cfg_len;
    c->strings.nrefs = hilda_desc_set_string_refs(&set, c->strings.refs, HILDA_SET_STRINGS_MAX);
    for (size_t k = 0; k < c->strings.nrefs; k++)
        if (c->strings.refs[k] > c->strings.highest)
            c->strings.highest = c->strings.refs[k];
}
