/* The chapter 9 conformance battery, modelled on USBCV's chapter 9 test
 * descriptions (TD 9.x) and the Linux usbtest tests 9 (ch9_postconfig),
 * 10 (queued control transfers) and 13 (halt set/clear). docs/host.md lists
 * every check id. The battery leaves the device as it found it:
 * configuration 1, no halts, no interface claimed. */
#ifndef HILDA_CH9_H
#define HILDA_CH9_H

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"
#include "device.h"
#include "status.h"

struct hilda_ch9_options {
    bool skip_reset;         /* leave out 9.16 (USBDEVFS_RESET and re-enumeration check) */
    unsigned queue_rounds;   /* usbtest 10: rounds of the 16 queued requests (0: 4) */
    const char *only;        /* run only checks whose id starts with this, up to a '-' or '.'
                                (9.1 selects 9.1-device, not 9.10-bad-type); NULL: all */
};

/* The registry: one entry per check the battery can report, in the order it
 * runs them. `--only`, `hilda ch9 --list` and the check table in docs/host.md
 * all come from it. */
struct hilda_ch9_check {
    const char *id;          /* "9.1-device", "10-queue" ... */
    const char *title;       /* one line for people */
};

/* The whole registry; *count receives its length. */
const struct hilda_ch9_check *hilda_ch9_checks(size_t *count);

/* Returns HILDA_OK when the battery ran (check results in out); an error
 * only when it could not go on (device gone, interrupted). */
enum hilda_status hilda_ch9_run(struct hilda_device *d, const struct hilda_ch9_options *o, struct hilda_checks *out,
                                struct hilda_error *e);

#endif
