/* The chapter 9 conformance battery, modelled on USBCV's chapter 9 test
 * descriptions (TD 9.x) and the Linux usbtest tests 9 (ch9_postconfig),
 * 10 (queued control transfers) and 13 (halt set/clear). docs/host.md lists
 * every check id. The battery leaves the device as it found it:
 * configuration 1, no halts, no interface claimed. */
#ifndef HILDA_CH9_H
#define HILDA_CH9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks.h"
#include "device.h"
#include "status.h"

struct hilda_ch9_options {
    bool skip_reset;         /* leave out 9.16 (USBDEVFS_RESET and re-enumeration check) */
    unsigned queue_rounds;   /* usbtest 10: rounds of the 16 queued requests (0: 4) */
    const char *only;        /* run only checks whose id starts with this, up to a '-' or '.'
                                (9.1 selects 9.1-device, not 9.10-bad-type); NULL: all */
};

/* The device state a check needs. The battery walks the stages in this
 * order, and the registry lists its checks in the same order. */
enum hilda_ch9_stage {
    HILDA_CH9_DESCRIPTORS,   /* configured, no interface claimed: descriptor reads */
    HILDA_CH9_ADDRESS,       /* the Address state, in the middle of 9.13's SET_CONFIGURATION 1, 1, 0, 1 */
    HILDA_CH9_CONFIGURED,    /* configured again, every interface released (SET_CONFIGURATION needs that) */
    HILDA_CH9_INTERFACE,     /* interface 0 claimed: interface and endpoint requests */
    HILDA_CH9_RELEASED,      /* interface 0 released again: the bus reset comes last */
};

struct hilda_ch9;            /* one run of the battery: the device, the options, what it learnt (ch9_battery.h) */

/* The registry: one entry per check the battery can report, in the order it
 * runs them (usbtest's numbered table: id, title, function, all run with the
 * one context). `--only`, `hilda ch9 --list` and the check table in
 * docs/host.md all come from it. */
struct hilda_ch9_check {
    const char *id;          /* "9.1-device", "10-queue" ...; an id ending in N or NN stands for one
                                result per string index or endpoint: 9.8-string-N is 9.8-string-1, -2...,
                                9.9-halt-0xNN is 9.9-halt-0x81... (two lower-case hex digits) */
    const char *title;       /* one line for people (a check may report a more precise one, e.g. with
                                the endpoint, or for a device of another speed) */
    void (*run)(struct hilda_ch9 *c, const struct hilda_ch9_check *self);
    enum hilda_ch9_stage stage;
};

/* The whole registry; *count receives its length. */
const struct hilda_ch9_check *hilda_ch9_checks(size_t *count);

/* The --only rule on a concrete id (see hilda_ch9_options.only): "9.1"
 * selects "9.1-device" but not "9.10-bad-type"; "9.9-halt-0x81" selects
 * itself. NULL selects everything, "" nothing. */
bool hilda_ch9_id_selected(const char *id, const char *only);

/* The same for a registry entry: true when `only` selects it or, for an
 * entry standing for several results (9.8-string-N), one of them could be. */
bool hilda_ch9_check_selected(const struct hilda_ch9_check *k, const char *only);

/* True when `only` selects at least one check of the registry: the CLI
 * refuses an --only that would run nothing. */
bool hilda_ch9_only_matches_any(const char *only);

/* The configuration value 9.13-set-configuration-invalid sends: one no
 * configuration of the device uses. Devices number their n_configs
 * configurations 1..n_configs by convention, and `configured` is the value
 * the first one declares; the answer is the smallest value above both, or,
 * when that would not fit in a byte, the largest value below 256 that is
 * neither `configured` nor 1..n_configs (1 when all 255 are taken). Never 0
 * (valid: the Address state). */
uint8_t hilda_ch9_unused_config_value(uint8_t configured, uint8_t n_configs);

/* Returns HILDA_OK when the battery ran (check results in out); an error
 * only when it could not go on (device gone, interrupted). */
enum hilda_status hilda_ch9_run(struct hilda_device *d, const struct hilda_ch9_options *o, struct hilda_checks *out,
                                struct hilda_error *e);

#endif
