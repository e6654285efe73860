/* The rig's FTDI adapters on libftdi1: finding them (FT232R 0403:6001,
 * FT2232H 0403:6010, FT232H 0403:6014), choosing the one the description
 * names, and the pin ops (rig_pins.h) as asynchronous bitbang on its
 * interface. Choosing is apart from the bus, so that its sentences ("no
 * adapter", "two adapters", "no permission", each saying what to do) are
 * unit-tested with a made-up list. */
#ifndef HILDA_RIG_ADAPTER_H
#define HILDA_RIG_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rig_desc.h"
#include "rig_pins.h"
#include "status.h"

#define HILDA_RIG_FTDI_VID 0x0403

struct hilda_rig_adapter_info {
    uint16_t vid, pid;
    uint8_t bus;
    char path[40];                               /* "1-1.4": bus, then port numbers */
    char serial[HILDA_RIG_STRING_MAX];           /* "" when unknown or none */
    char manufacturer[HILDA_RIG_STRING_MAX];
    char description[HILDA_RIG_STRING_MAX];
    bool no_permission;                          /* could not be opened (its strings are unknown) */
    void *dev;                                   /* the libusb_device (referenced), NULL in tests */
};

/* Which of list[0..n) to use: the one whose serial is `serial` ("" or NULL:
 * the only one). HILDA_ERR_NOT_FOUND (no adapter), HILDA_ERR_AMBIGUOUS (two
 * or more, none chosen), HILDA_ERR_ACCESS (the one it must be cannot be
 * opened), each with its sentence. */
enum hilda_status hilda_rig_choose(const struct hilda_rig_adapter_info *list, size_t n, const char *serial,
                                   size_t *chosen, struct hilda_error *e);

/* The adapters present (vid/pid 0: the three supported ones). */
struct hilda_rig_scan {
    void *ftdi;                                  /* struct ftdi_context *: the devices belong to it */
    struct hilda_rig_adapter_info *list;
    size_t n;
};
enum hilda_status hilda_rig_scan(struct hilda_rig_scan *s, uint16_t vid, uint16_t pid, struct hilda_error *e);
void hilda_rig_scan_free(struct hilda_rig_scan *s);

/* The description's adapter, open in bitbang mode: `pins` drives it. */
struct hilda_rig_adapter {
    struct hilda_rig_scan scan;
    struct hilda_rig_adapter_info info;
    struct hilda_rig_ops ops;
    struct hilda_rig_pins pins;
};
/* Finds and opens the adapter; start: take it into bitbang mode
 * (hilda_rig_pins_start) for reset and power, not for reading the pins. */
enum hilda_status hilda_rig_open(const struct hilda_rig *rig, bool start, struct hilda_rig_adapter **out,
                                 struct hilda_error *e);
void hilda_rig_close(struct hilda_rig_adapter *a);

/* Opens the adapter, pulses reset (ms 0: the description's), closes it:
 * `hilda flash --rig`'s way into the bootloader. */
enum hilda_status hilda_rig_pulse_reset(const struct hilda_rig *rig, unsigned ms, struct hilda_error *e);

#endif
