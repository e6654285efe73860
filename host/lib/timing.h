/* Latency per request kind and size, measured on the host around each
 * control transfer (CLOCK_MONOTONIC), beside the device's own EP0 handling
 * time: after each measured request a GET_COUNTERS (not measured) reads
 * ep0_cycles_last, the DWT cycles from the EP0SETUP interrupt to the next
 * stage armed for the measured request, at core_hz. */
#ifndef HILDA_TIMING_H
#define HILDA_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "stats.h"
#include "status.h"

enum hilda_timing_kind {
    HILDA_TIMING_NODATA,     /* ECHO_WRITE with wLength 0: setup + status only */
    HILDA_TIMING_IN,         /* ECHO_READ of size bytes (the echo buffer holds them) */
    HILDA_TIMING_OUT,        /* ECHO_WRITE of size bytes */
    HILDA_TIMING_DESCRIPTOR, /* GET_DESCRIPTOR(configuration 0) with wLength size: the standard path */
    HILDA_TIMING_KINDS
};

struct hilda_timing_cell {
    enum hilda_timing_kind kind;
    uint16_t size;
    /* results */
    struct hilda_summary host;               /* microseconds */
    unsigned long hist[HILDA_HIST_BUCKETS];
    bool device_valid;
    struct hilda_summary device;             /* microseconds, from cycles */
    uint32_t device_cycles_min, device_cycles_max;
    uint32_t core_hz;
    unsigned errors;                         /* transfers that failed or returned the wrong length */
    double *samples;                         /* every host latency (us), sorted; the caller frees it */
    size_t n_samples;
};

typedef void (*hilda_progress_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);

struct hilda_timing_options {
    unsigned count;          /* transfers per cell (0: 200) */
    bool device_samples;     /* read ep0_cycles_last after each transfer (hilda firmware only) */
    hilda_progress_fn progress;
    void *progress_ctx;
};

const char *hilda_timing_kind_name(enum hilda_timing_kind k);
bool hilda_timing_kind_parse(const char *s, enum hilda_timing_kind *k);

/* Measures every cell in turn. Errors only when the device cannot be used. */
enum hilda_status hilda_timing_run(struct hilda_device *d, struct hilda_timing_cell *cells, size_t n,
                                   const struct hilda_timing_options *o, struct hilda_error *e);

#endif
