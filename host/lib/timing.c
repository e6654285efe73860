#include "timing.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "setups.h"
#include "vendor.h"
#include "xfer.h"

static const char *const kind_names[HILDA_TIMING_KINDS] = { "nodata", "in", "out", "descriptor" };

const char *hilda_timing_kind_name(enum hilda_timing_kind k)
{
    return (unsigned)k < HILDA_TIMING_KINDS ? kind_names[k] : "unknown";
}

bool hilda_timing_kind_parse(const char *s, enum hilda_timing_kind *k)
{
    for (unsigned i = 0; i < HILDA_TIMING_KINDS; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *k = (enum hilda_timing_kind)i;
            return true;
        }
    return false;
}

static enum hilda_status run_cell(struct hilda_device *d, struct hilda_timing_cell *c, const struct hilda_timing_options *o,
                                  uint8_t *buf, uint64_t *done, uint64_t total, struct hilda_error *e)
{
    unsigned count = o->count ? o->count : 200;
    struct hilda_samples host, dev;
    hilda_samples_init(&host);
    hilda_samples_init(&dev);
    c->errors = 0;
    c->device_cycles_min = UINT32_MAX;
    c->device_cycles_max = 0;
    enum hilda_status st = HILDA_OK;
    struct usb_setup s;
    size_t want = c->size;
    switch (c->kind) {
    case HILDA_TIMING_NODATA:
        s = (struct usb_setup){ HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, 0 };
        want = 0;
        break;
    case HILDA_TIMING_IN:
        for (size_t i = 0; i < c->size; i++)
            buf[i] = (uint8_t)i;
        if ((st = hilda_echo_write(d, buf, c->size, e)))
            goto out;
        s = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, c->size };
        break;
    case HILDA_TIMING_OUT:
        for (size_t i = 0; i < c->size; i++)
            buf[i] = (uint8_t)(i * 3);
        s = (struct usb_setup){ HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, c->size };
        break;
    default: {
        /* the reply is min(size, wTotalLength) */
        uint8_t h[USB_DT_CONFIG_SIZE];
        size_t got;
        struct usb_setup hs = hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, sizeof h);
        if ((st = hilda_ctrl(d, &hs, h, 0, &got, e)))
            goto out;
        size_t wtotal = got >= 4 ? usb_get_le16(h + 2) : 0;
        want = c->size < wtotal ? c->size : wtotal;
        s = hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, c->size);
        break;
    }
    }
    for (unsigned i = 0; i < count; i++) {
        if (hilda_interrupted) {
            st = hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted while measuring");
            goto out;
        }
        size_t got;
        struct hilda_error le;
        uint64_t t0 = hilda_now_ns();
        enum hilda_status r = hilda_ctrl(d, &s, buf, 0, &got, &le);
        uint64_t t1 = hilda_now_ns();
        if (r == HILDA_ERR_NO_DEVICE) {
            if (e)
                *e = le;
            st = r;
            goto out;
        }
        if (r || got != want)
            c->errors++;
        else
            hilda_samples_add(&host, (double)(t1 - t0) / 1000.0);
        if (o->device_samples) {
            struct hilda_counters k;
            r = hilda_get_counters(d, &k, &le);
            if (r == HILDA_ERR_NO_DEVICE) {
                if (e)
                    *e = le;
                st = r;
                goto out;
            }
            if (r == HILDA_OK && k.core_hz) {
                c->core_hz = k.core_hz;
                hilda_samples_add(&dev, (double)k.ep0_cycles_last * 1e6 / (double)k.core_hz);
                if (k.ep0_cycles_last < c->device_cycles_min)
                    c->device_cycles_min = k.ep0_cycles_last;
                if (k.ep0_cycles_last > c->device_cycles_max)
                    c->device_cycles_max = k.ep0_cycles_last;
            }
        }
        ++*done;
        if (o->progress && (*done % 16 == 0 || *done == total))
            o->progress(o->progress_ctx, hilda_timing_kind_name(c->kind), *done, total);
    }
out:
    hilda_histogram(&host, c->hist);
    hilda_summarize(&host, &c->host);
    c->device_valid = dev.n > 0;
    hilda_summarize(&dev, &c->device);
    if (!c->device_valid)
        c->device_cycles_min = 0;
    free(c->samples);                 /* the report draws its histograms from these */
    c->samples = host.v;
    c->n_samples = host.n;
    hilda_samples_free(&dev);
    return st;
}

enum hilda_status hilda_timing_run(struct hilda_device *d, struct hilda_timing_cell *cells, size_t n,
                                   const struct hilda_timing_options *o, struct hilda_error *e)
{
    uint8_t *buf = malloc(HILDA_EP0_MAX_DATA);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (cells[i].size > HILDA_EP0_MAX_DATA || cells[i].kind >= HILDA_TIMING_KINDS) {
            free(buf);
            return hilda_fail(e, HILDA_ERR_USAGE, "size %u is above the protocol's %d bytes", cells[i].size,
                              HILDA_EP0_MAX_DATA);
        }
    uint64_t done = 0, total = (uint64_t)n * (o->count ? o->count : 200);
    enum hilda_status st = HILDA_OK;
    for (size_t i = 0; i < n && !st; i++)
        st = run_cell(d, &cells[i], o, buf, &done, total, e);
    free(buf);
    return st;
}
