/* Control transfers per second through libhilda and through bare libusb,
 * interleaved in the same process against the same device, so that
 * libhilda's per-transfer overhead can be read off (scripts/bench).
 *
 * usage: hilda-bench-ctrl [--transfers N] [--rounds R] [selection options]
 * Each round runs N transfers with libusb_control_transfer, then N with
 * hilda_ctrl, then N with hilda_ctrl, then N with libusb (ABBA, so a drift
 * of the device's speed cancels). The requests cycle through the same three:
 * GET_VERSION (vendor, 8 bytes), GET_DESCRIPTOR(device, 18), ECHO_READ of 64
 * bytes (the echo buffer is filled first). Every reply's length is checked.
 * Prints one JSON object: rates from the total time of each, and the
 * median latency of each (the steadier figure for the overhead). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "device.h"
#include "stats.h"
#include "json.h"
#include "text.h"
#include "vendor.h"
#include "xfer.h"

static const struct usb_setup requests[3] = {
    { HILDA_REQTYPE_IN, HILDA_REQ_GET_VERSION, 0, 0, 8 },
    { USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, USB_DT_DEVICE_SIZE },
    { HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, 64 },
};
static const size_t reply_len[3] = { sizeof(struct hilda_version), USB_DT_DEVICE_SIZE, 64 };

/* Each loop also records every transfer's latency: the medians are what
 * the overhead is read from (a preempted transfer moves a mean, not a median). */
static int raw_loop(struct hilda_device *d, unsigned n, double *seconds, struct hilda_samples *lat)
{
    uint8_t buf[64];
    uint64_t t0 = hilda_now_ns(), prev = t0;
    for (unsigned i = 0; i < n; i++) {
        const struct usb_setup *s = &requests[i % 3];
        int rc = libusb_control_transfer(d->h, s->bmRequestType, s->bRequest, s->wValue, s->wIndex, buf, s->wLength,
                                         1000);
        if (rc != (int)reply_len[i % 3])
            return rc < 0 ? rc : -100;
        uint64_t now = hilda_now_ns();
        hilda_samples_add(lat, (double)(now - prev) / 1000.0);
        prev = now;
    }
    *seconds += (double)(prev - t0) / 1e9;
    return 0;
}

static int hilda_loop(struct hilda_device *d, unsigned n, double *seconds, struct hilda_samples *lat,
                      struct hilda_error *e)
{
    uint8_t buf[64];
    uint64_t t0 = hilda_now_ns(), prev = t0;
    for (unsigned i = 0; i < n; i++) {
        size_t got;
        enum hilda_status st = hilda_ctrl(d, &requests[i % 3], buf, 0, &got, e);
        if (st || got != reply_len[i % 3])
            return st ? (int)st : -100;
        uint64_t now = hilda_now_ns();
        hilda_samples_add(lat, (double)(now - prev) / 1000.0);
        prev = now;
    }
    *seconds += (double)(prev - t0) / 1e9;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long transfers = 1000, rounds = 5;
    struct hilda_selector sel = { 0 };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--transfers") == 0 && hilda_parse_uint(argv[i + 1], 10000000, &transfers))
            continue;
        if (strcmp(argv[i], "--rounds") == 0 && hilda_parse_uint(argv[i + 1], 1000, &rounds))
            continue;
        if (strcmp(argv[i], "--serial") == 0) {
            sel.serial = argv[i + 1];
            continue;
        }
        fprintf(stderr, "usage: hilda-bench-ctrl [--transfers N] [--rounds R] [--serial S]\n");
        return 2;
    }
    libusb_context *ctx;
    struct hilda_device *d;
    struct hilda_error e;
    if (hilda_context_new(&ctx, &e) || hilda_open(ctx, &sel, 5000, &d, &e)) {
        fprintf(stderr, "hilda-bench-ctrl: %s\n", e.message);
        return hilda_status_exit_code(e.status);
    }
    uint8_t fill[64];
    for (size_t i = 0; i < sizeof fill; i++)
        fill[i] = (uint8_t)i;
    if (hilda_echo_write(d, fill, sizeof fill, &e)) {
        fprintf(stderr, "hilda-bench-ctrl: %s\n", e.message);
        return hilda_status_exit_code(e.status);
    }
    double raw_s = 0, hilda_s = 0;
    struct hilda_samples raw_lat, hilda_lat;
    hilda_samples_init(&raw_lat);
    hilda_samples_init(&hilda_lat);
    for (unsigned long r = 0; r < rounds; r++) {
        int rc = raw_loop(d, (unsigned)transfers, &raw_s, &raw_lat);
        if (!rc)
            rc = hilda_loop(d, (unsigned)transfers, &hilda_s, &hilda_lat, &e);
        if (!rc)
            rc = hilda_loop(d, (unsigned)transfers, &hilda_s, &hilda_lat, &e);
        if (!rc)
            rc = raw_loop(d, (unsigned)transfers, &raw_s, &raw_lat);
        if (rc) {
            fprintf(stderr, "hilda-bench-ctrl: a transfer failed (%d)\n", rc);
            return 6;
        }
    }
    double n = 2.0 * (double)transfers * (double)rounds;
    struct hilda_summary rs, hs;
    hilda_summarize(&raw_lat, &rs);
    hilda_summarize(&hilda_lat, &hs);
    json_t *j = json_object();
    hj_set_uint(j, "transfers_each", (unsigned long long)n);
    hj_set_real(j, "libusb_per_s", n / raw_s);
    hj_set_real(j, "libhilda_per_s", n / hilda_s);
    hj_set_real(j, "libusb_us", raw_s / n * 1e6);
    hj_set_real(j, "libhilda_us", hilda_s / n * 1e6);
    hj_set_real(j, "overhead_percent", (hilda_s - raw_s) / raw_s * 100.0);
    hj_set_real(j, "libusb_p50_us", rs.p50);
    hj_set_real(j, "libhilda_p50_us", hs.p50);
    hj_set_real(j, "overhead_p50_percent", (hs.p50 - rs.p50) / rs.p50 * 100.0);
    hj_print(j, stdout);
    json_decref(j);
    hilda_samples_free(&raw_lat);
    hilda_samples_free(&hilda_lat);
    hilda_close(d);
    libusb_exit(ctx);
    return 0;
}
