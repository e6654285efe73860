#include "xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "requests.h"

#define GUARD_MS 2000        /* slack over a transfer's own timeout before the queue gives up */

static enum hilda_status fail_request(struct hilda_device *d, const struct usb_setup *s, int rc,
                                      unsigned timeout_ms, struct hilda_error *e)
{
    enum hilda_status st = hilda_status_from_libusb(rc);
    if (st == HILDA_ERR_NO_DEVICE)
        d->gone = true;
    if (!e)
        return st;
    char what[128];
    hilda_describe_request(s, what, sizeof what);
    switch (st) {
    case HILDA_ERR_STALL:
        return hilda_fail(e, st, "%s: the device answered with STALL (it refused the request)", what);
    case HILDA_ERR_TIMEOUT:
        return hilda_fail(e, st, "%s: no answer within %u ms", what, timeout_ms);
    case HILDA_ERR_NO_DEVICE:
        return hilda_fail(e, st, "%s: the device is gone (unplugged or rebooted)", what);
    case HILDA_ERR_PROTOCOL:
        return hilda_fail(e, st, "%s: the device sent more data than requested (overflow)", what);
    case HILDA_ERR_USAGE:
        return hilda_fail(e, st, "%s: the host stack refused the request (%s; Linux usbfs takes at most 4096 "
                          "bytes of control data)", what, libusb_error_name(rc));
    default:
        return hilda_fail(e, st, "%s failed: %s", what, libusb_error_name(rc));
    }
}

enum hilda_status hilda_ctrl(struct hilda_device *d, const struct usb_setup *s, uint8_t *data,
                             unsigned timeout_ms, size_t *actual, struct hilda_error *e)
{
    if (actual)
        *actual = 0;
    if (!timeout_ms)
        timeout_ms = d->timeout_ms ? d->timeout_ms : HILDA_DEFAULT_TIMEOUT_MS;
    if (d->gone)
        return fail_request(d, s, LIBUSB_ERROR_NO_DEVICE, timeout_ms, e);
    if (s->wLength && !data)
        return hilda_fail(e, HILDA_ERR_USAGE, "a request with wLength %u needs a buffer", s->wLength);
    int rc = libusb_control_transfer(d->h, s->bmRequestType, s->bRequest, s->wValue, s->wIndex, data,
                                     s->wLength, timeout_ms);
    if (rc < 0)
        return fail_request(d, s, rc, timeout_ms, e);
    if ((size_t)rc > s->wLength)   /* cannot happen with a sane stack; never trust it */
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "the host stack reported %d bytes for wLength %u", rc,
                          s->wLength);
    if (actual)
        *actual = (size_t)rc;
    return HILDA_OK;
}

enum hilda_status hilda_ctrl_in_exact(struct hilda_device *d, uint8_t bmRequestType, uint8_t bRequest,
                                      uint16_t wValue, uint16_t wIndex, uint8_t *data, uint16_t want,
                                      struct hilda_error *e)
{
    struct usb_setup s = { bmRequestType, bRequest, wValue, wIndex, want };
    size_t got;
    enum hilda_status st = hilda_ctrl(d, &s, data, 0, &got, e);
    if (st)
        return st;
    if (got != want) {
        char what[128];
        hilda_describe_request(&s, what, sizeof what);
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "%s: %zu bytes came back, %u expected", what, got, want);
    }
    return HILDA_OK;
}

enum hilda_status hilda_ctrl_nodata(struct hilda_device *d, uint8_t bmRequestType, uint8_t bRequest,
                                    uint16_t wValue, uint16_t wIndex, struct hilda_error *e)
{
    struct usb_setup s = { bmRequestType, bRequest, wValue, wIndex, 0 };
    return hilda_ctrl(d, &s, NULL, 0, NULL, e);
}

/* ---- asynchronous queue ---- */

struct slot {
    struct libusb_transfer *t;
    uint8_t *mem;            /* allocation; the transfer buffer starts at mem + align */
    size_t index;            /* into the request array */
    bool busy;
};

struct queue {
    struct hilda_async *v;
    long completed;
    size_t in_flight;
    bool gone;
};

struct cb_ctx {
    struct queue *q;
    struct slot *slot;
};

static enum hilda_status status_of_transfer(enum libusb_transfer_status s)
{
    switch (s) {
    case LIBUSB_TRANSFER_COMPLETED:
        return HILDA_OK;
    case LIBUSB_TRANSFER_STALL:
        return HILDA_ERR_STALL;
    case LIBUSB_TRANSFER_TIMED_OUT:
    case LIBUSB_TRANSFER_CANCELLED:
        return HILDA_ERR_TIMEOUT;
    case LIBUSB_TRANSFER_NO_DEVICE:
        return HILDA_ERR_NO_DEVICE;
    case LIBUSB_TRANSFER_OVERFLOW:
        return HILDA_ERR_PROTOCOL;
    default:
        return HILDA_ERR_IO;
    }
}

static void LIBUSB_CALL on_done(struct libusb_transfer *t)
{
    struct cb_ctx *c = t->user_data;
    struct queue *q = c->q;
    struct hilda_async *a = &q->v[c->slot->index];
    a->status = status_of_transfer(t->status);
    a->order = q->completed++;
    size_t got = t->actual_length > 0 ? (size_t)t->actual_length : 0;
    if (got > a->setup.wLength)
        got = a->setup.wLength;
    a->actual = got;
    if (usb_setup_is_in(&a->setup) && a->in && got)
        memcpy(a->in, libusb_control_transfer_get_data(t), got);
    if (a->status == HILDA_ERR_NO_DEVICE)
        q->gone = true;
    c->slot->busy = false;
    q->in_flight--;
}

enum hilda_status hilda_ctrl_async(struct hilda_device *d, struct hilda_async *v, size_t n, size_t in_flight,
                                   unsigned timeout_ms, struct hilda_error *e)
{
    if (!n)
        return HILDA_OK;
    if (!timeout_ms)
        timeout_ms = d->timeout_ms;
    if (!in_flight || in_flight > n)
        in_flight = n;
    if (in_flight > 1024)
        in_flight = 1024;
    for (size_t i = 0; i < n; i++) {
        v[i].status = HILDA_ERR_TIMEOUT;
        v[i].actual = 0;
        v[i].order = -1;
        if (v[i].align > 15)
            return hilda_fail(e, HILDA_ERR_USAGE, "buffer offset %u is beyond 15", v[i].align);
    }
    if (d->gone)
        return hilda_fail(e, HILDA_ERR_NO_DEVICE, "the device is gone (unplugged or rebooted)");

    struct queue q = { .v = v };
    struct slot *slots = calloc(in_flight, sizeof *slots);
    struct cb_ctx *ctxs = calloc(in_flight, sizeof *ctxs);
    if (!slots || !ctxs) {
        free(slots);
        free(ctxs);
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory for %zu transfers", in_flight);
    }
    enum hilda_status result = HILDA_OK;
    size_t longest = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].setup.wLength > longest)
            longest = v[i].setup.wLength;
    for (size_t i = 0; i < in_flight; i++) {
        slots[i].t = libusb_alloc_transfer(0);
        slots[i].mem = malloc(32 + LIBUSB_CONTROL_SETUP_SIZE + longest);
        ctxs[i] = (struct cb_ctx){ &q, &slots[i] };
        if (!slots[i].t || !slots[i].mem) {
            result = hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory for %zu transfers", in_flight);
            goto out;
        }
    }

    size_t next = 0;
    long finished_without_completion = 0;
    uint64_t last_progress = hilda_now_ns();
    long last_completed = 0;
    bool cancelling = false;
    uint64_t cancel_deadline = 0;
    while ((size_t)(q.completed + finished_without_completion) < n) {
        while (!cancelling && !q.gone && next < n && q.in_flight < in_flight && !hilda_interrupted) {
            struct slot *s = NULL;
            for (size_t i = 0; i < in_flight && !s; i++)
                if (!slots[i].busy)
                    s = &slots[i];
            if (!s)
                break;   /* cannot happen: fewer than in_flight are busy */
            struct hilda_async *a = &v[next];
            uint8_t *buf = (uint8_t *)(((uintptr_t)s->mem + 15) & ~(uintptr_t)15) + a->align;
            libusb_fill_control_setup(buf, a->setup.bmRequestType, a->setup.bRequest, a->setup.wValue,
                                      a->setup.wIndex, a->setup.wLength);
            if (!usb_setup_is_in(&a->setup) && a->setup.wLength && a->out)
                memcpy(buf + LIBUSB_CONTROL_SETUP_SIZE, a->out, a->setup.wLength);
            libusb_fill_control_transfer(s->t, d->h, buf, on_done, &ctxs[s - slots], timeout_ms);
            s->index = next;
            int rc = libusb_submit_transfer(s->t);
            if (rc < 0) {
                a->status = hilda_status_from_libusb(rc);
                finished_without_completion++;
                next++;
                if (rc == LIBUSB_ERROR_NO_DEVICE) {
                    q.gone = true;
                    break;
                }
                continue;
            }
            s->busy = true;
            q.in_flight++;
            next++;
        }
        if ((q.gone || hilda_interrupted) && !cancelling) {
            /* nothing more will be submitted; what is queued completes or is cancelled */
            finished_without_completion += (long)(n - next);
            next = n;
        }
        if (q.in_flight == 0) {
            if (next >= n)
                break;
            continue;
        }
        struct timeval tv = { 0, 100000 };
        int rc = libusb_handle_events_timeout_completed(d->ctx, &tv, NULL);
        if (rc < 0 && rc != LIBUSB_ERROR_INTERRUPTED) {
            result = hilda_fail(e, hilda_status_from_libusb(rc), "handling USB events failed: %s",
                                libusb_error_name(rc));
            cancelling = true;
        }
        uint64_t now = hilda_now_ns();
        if (q.completed != last_completed) {
            last_completed = q.completed;
            last_progress = now;
        }
        if (!cancelling && (hilda_interrupted || now - last_progress > (uint64_t)(timeout_ms + GUARD_MS) * 1000000u)) {
            cancelling = true;
            cancel_deadline = now + (uint64_t)GUARD_MS * 1000000u;
            for (size_t i = 0; i < in_flight; i++)
                if (slots[i].busy)
                    libusb_cancel_transfer(slots[i].t);
            finished_without_completion += (long)(n - next);
            next = n;
        }
        if (cancelling && cancel_deadline && now > cancel_deadline) {
            /* The stack never gave the transfers back: their memory must not
             * be freed (the kernel may still write into it), so it is leaked. */
            result = hilda_fail(e, HILDA_ERR_TIMEOUT,
                                "%zu control transfers never completed, even after cancelling them", q.in_flight);
            free(ctxs);
            free(slots);
            return result;
        }
    }
    if (result == HILDA_OK) {
        if (q.gone || d->gone) {
            d->gone = true;
            result = hilda_fail(e, HILDA_ERR_NO_DEVICE,
                                "the device went away with control transfers queued (unplugged or rebooted)");
        } else if (hilda_interrupted) {
            result = hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted with control transfers queued");
        } else if (cancelling) {
            result = hilda_fail(e, HILDA_ERR_TIMEOUT, "queued control transfers stopped completing; cancelled");
        }
    }
out:
    for (size_t i = 0; i < in_flight; i++) {
        if (slots[i].t)
            libusb_free_transfer(slots[i].t);
        free(slots[i].mem);
    }
    free(ctxs);
    free(slots);
    return result;
}
