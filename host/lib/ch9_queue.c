/* usbtest 10: its 16 control requests queued together, round after round,
 * with unaligned buffers; every result must be right and every completion in
 * submission order. */
#include <stdlib.h>

#include "ch9_battery.h"
#include "xfer.h"

#define QUEUE_CASES 16
#define QUEUE_BUF 1024

struct expect {
    enum { X_EXACT, X_STALL, X_OK_OR_STALL, X_SHORT_OR_STALL } kind;
    size_t len;
};

struct queue_case {
    struct usb_setup s;
    struct expect x;
};

static size_t at_most(size_t total, size_t len)
{
    return total < len ? total : len;
}

/* usbtest 10's cases in its order, against what this device has. */
static void queue_cases(const struct hilda_ch9 *c, struct queue_case v[QUEUE_CASES])
{
    size_t total = c->cfg_len;
    uint16_t maxp = c->dd.bMaxPacketSize0;
    uint16_t less = (uint16_t)(1024 - maxp);
    const struct usb_setup clear_halt_ep0 = { USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT,
                                              0, 0 };
    const struct queue_case cases[QUEUE_CASES] = {
        { hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, USB_DT_DEVICE_SIZE), { X_EXACT, USB_DT_DEVICE_SIZE } },
        { hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, USB_DT_CONFIG_SIZE), { X_EXACT, USB_DT_CONFIG_SIZE } },
        { hilda_setup_get_interface(0), { X_OK_OR_STALL, 1 } },
        { hilda_setup_get_status(USB_RT_INTERFACE_IN, 0), { X_EXACT, 2 } },
        { hilda_setup_get_status(USB_RT_DEVICE_IN, 0), { X_EXACT, 2 } },
        { hilda_setup_get_descriptor(USB_DT_DEVICE_QUALIFIER, 0, 0, USB_DT_DEVICE_QUALIFIER_SIZE),
          { ch9_full_speed(c) ? X_STALL : X_EXACT, USB_DT_DEVICE_QUALIFIER_SIZE } },
        { hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, 18), { X_EXACT, at_most(total, 18) } },
        { hilda_setup_get_descriptor(USB_DT_INTERFACE, 0, 0, USB_DT_INTERFACE_SIZE), { X_STALL, 0 } },
        { clear_halt_ep0, { X_OK_OR_STALL, 0 } },
        { hilda_setup_get_status(USB_RT_ENDPOINT_IN, 0), { X_EXACT, 2 } },
        { hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, 1024), { X_EXACT, at_most(total, 1024) } },
        { hilda_setup_get_descriptor(USB_DT_ENDPOINT, 0, 0, USB_DT_ENDPOINT_SIZE), { X_STALL, 0 } },
        { hilda_setup_get_descriptor(USB_DT_STRING, 0, 0, 9), { X_SHORT_OR_STALL, 9 } },
        { hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, less), { X_EXACT, at_most(total, less) } },
        { hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, maxp), { X_EXACT, at_most(USB_DT_DEVICE_SIZE, maxp) } },
        { hilda_setup_get_descriptor(USB_DT_BOS, 0, 0, USB_DT_BOS_SIZE),
          { c->dd.bcdUSB >= HILDA_BCD_USB_BOS ? X_EXACT : X_STALL, USB_DT_BOS_SIZE } },
    };
    for (size_t i = 0; i < QUEUE_CASES; i++)
        v[i] = cases[i];
}

static bool as_expected(const struct hilda_async *a, const struct expect *x)
{
    switch (x->kind) {
    case X_EXACT: return a->status == HILDA_OK && a->actual == x->len;
    case X_STALL: return a->status == HILDA_ERR_STALL;
    case X_OK_OR_STALL: return a->status == HILDA_ERR_STALL || (a->status == HILDA_OK && a->actual == x->len);
    default: return a->status == HILDA_ERR_STALL || (a->status == HILDA_OK && a->actual <= x->len);
    }
}

CH9_CHECK(ch9_queue)
{
    unsigned rounds = c->o->queue_rounds ? c->o->queue_rounds : 4;
    if (rounds > 64)
        rounds = 64;
    struct queue_case cases[QUEUE_CASES];
    queue_cases(c, cases);
    size_t n = QUEUE_CASES * (size_t)rounds;
    struct hilda_async *v = calloc(n, sizeof *v);
    uint8_t *bufs = calloc(n, (size_t)QUEUE_BUF);
    if (!v || !bufs) {
        free(v);
        free(bufs);
        ch9_add(c, k, HILDA_SKIP, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].setup = cases[i % QUEUE_CASES].s;
        v[i].in = bufs + QUEUE_BUF * i;
        v[i].align = (unsigned)(i % 4);
    }
    struct hilda_error e;
    enum hilda_status st = hilda_ctrl_async(c->d, v, n, n, 0, &e);
    if (st) {
        if (st == HILDA_ERR_NO_DEVICE || st == HILDA_ERR_INTERRUPTED) {
            c->fatal = true;
            c->err = e;
        }
        /* Ctrl-C cancels the queue: its transfers are not judged */
        ch9_add(c, k, st == HILDA_ERR_INTERRUPTED ? HILDA_NOT_RUN : HILDA_FAIL, "%s%s",
                st == HILDA_ERR_INTERRUPTED ? "not run to its end: " : "", e.message);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!as_expected(&v[i], &cases[i % QUEUE_CASES].x)) {
            ch9_add(c, k, HILDA_FAIL, "round %zu case %zu (bRequest 0x%02X wValue 0x%04X wLength %u): %s, %zu bytes",
                    i / QUEUE_CASES, i % QUEUE_CASES, v[i].setup.bRequest, v[i].setup.wValue, v[i].setup.wLength,
                    hilda_status_name(v[i].status), v[i].actual);
            goto out;
        }
        if (v[i].order != (long)i) {
            ch9_add(c, k, HILDA_FAIL, "transfer %zu completed as number %ld: not in submission order", i, v[i].order);
            goto out;
        }
    }
    ch9_add(c, k, HILDA_PASS, "%zu transfers (%u rounds of 16) in flight together, all in order, stalls recovered", n,
            rounds);
out:
    free(v);
    free(bufs);
}
