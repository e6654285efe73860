/* Control transfers on endpoint 0, each with a timeout (never infinite),
 * and a queue of asynchronous control transfers whose completion order is
 * recorded (usbtest test 10). Every transfer's data is bounded by the
 * caller's buffer: the host stack never writes past wLength. */
#ifndef HILDA_XFER_H
#define HILDA_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/usb.h"

#include "device.h"
#include "status.h"

/* One control transfer. IN: data receives up to wLength bytes, *actual says
 * how many came. OUT: data holds wLength bytes. timeout_ms 0 means the
 * device's default. On failure e says what went wrong in one sentence
 * naming the request; HILDA_ERR_STALL is the device's STALL. */
enum hilda_status hilda_ctrl(struct hilda_device *d, const struct usb_setup *s, uint8_t *data,
                             unsigned timeout_ms, size_t *actual, struct hilda_error *e);

/* Shorthand for an IN request whose reply must be exactly `want` bytes
 * (e.g. GET_STATUS): HILDA_ERR_PROTOCOL otherwise. */
enum hilda_status hilda_ctrl_in_exact(struct hilda_device *d, uint8_t bmRequestType, uint8_t bRequest,
                                      uint16_t wValue, uint16_t wIndex, uint8_t *data, uint16_t want,
                                      struct hilda_error *e);
/* A request without data stage. */
enum hilda_status hilda_ctrl_nodata(struct hilda_device *d, uint8_t bmRequestType, uint8_t bRequest,
                                    uint16_t wValue, uint16_t wIndex, struct hilda_error *e);

/* ---- asynchronous queue ---- */

struct hilda_async {
    struct usb_setup setup;
    const uint8_t *out;      /* OUT data, setup.wLength bytes */
    uint8_t *in;             /* IN: room for setup.wLength bytes (the reply is copied here) */
    unsigned align;          /* 0..15: offset of the transfer buffer from a 16-byte boundary */
    /* results */
    enum hilda_status status;
    size_t actual;
    long order;              /* completion rank 0, 1, ...; -1 if it never completed */
};

/* Runs n transfers, at most in_flight submitted at a time (in submission
 * order), each with timeout_ms. Returns HILDA_OK when every transfer
 * completed (look at each one's status), HILDA_ERR_NO_DEVICE if the device
 * went away, another error if transfers could not be submitted. Never
 * hangs: if completions stop coming, the rest are cancelled. */
enum hilda_status hilda_ctrl_async(struct hilda_device *d, struct hilda_async *v, size_t n, size_t in_flight,
                                   unsigned timeout_ms, struct hilda_error *e);

#endif
