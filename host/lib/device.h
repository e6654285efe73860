/* Finding and opening a dongle: by VID:PID, serial number or bus-port path.
 * When several devices match, nothing is chosen: the error lists them. A
 * wait (milliseconds) polls until a match appears, for re-enumeration after
 * a reset or a plug-in. */
#ifndef HILDA_DEVICE_H
#define HILDA_DEVICE_H

#include <libusb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/bootloader.h"
#include "hilda/protocol.h"
#include "status.h"


#define HILDA_DEFAULT_TIMEOUT_MS 1000
#define HILDA_SERIAL_MAX 128
#define HILDA_PATH_MAX 40

enum hilda_mode {
    HILDA_MODE_APP = 1,          /* hilda firmware, HILDA_USB_VID:HILDA_USB_PID */
    HILDA_MODE_BOOTLOADER = 2,   /* a Secure DFU bootloader: Nordic's Open USB one or hilda's own */
    HILDA_MODE_OTHER = 4,        /* anything else (list --all, or an explicit --device VID:PID) */
};

struct hilda_selector {
    bool has_vidpid;
    uint16_t vid, pid;
    const char *serial;          /* NULL: any */
    const char *path;            /* "1-1.4": bus, then port numbers; NULL: any */
    unsigned modes;              /* without has_vidpid: which modes match (0 means HILDA_MODE_APP) */
    bool read_serials;           /* open each candidate to read its serial number (list) */
};

struct hilda_devinfo {
    uint16_t vid, pid;
    uint8_t bus, address;
    char path[HILDA_PATH_MAX];
    enum hilda_mode mode;
    int speed;                   /* enum libusb_speed */
    bool serial_known;
    char serial[HILDA_SERIAL_MAX];   /* UTF-8 as the device sent it (untrusted: escape to print) */
    char product[HILDA_SERIAL_MAX];
    char note[96];               /* why the serial is unknown, "" otherwise */
    libusb_device *dev;          /* referenced while the info is held */
};

struct hilda_device {
    libusb_context *ctx;
    libusb_device *dev;
    libusb_device_handle *h;
    struct hilda_devinfo info;
    unsigned timeout_ms;         /* transfers that pass 0 use this; never 0 */
    bool gone;                   /* a transfer reported the device gone */
};

enum hilda_status hilda_context_new(libusb_context **ctx, struct hilda_error *e);

/* "1209:0001" or "1209:1" (hex). */
bool hilda_parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid);
const char *hilda_mode_name(enum hilda_mode m);
const char *hilda_speed_name(int libusb_speed);

/* All devices matching sel, in bus/path order. Free with hilda_devinfo_free. */
enum hilda_status hilda_discover(libusb_context *ctx, const struct hilda_selector *sel,
                                 struct hilda_devinfo **list, size_t *n, struct hilda_error *e);
void hilda_devinfo_free(struct hilda_devinfo *list, size_t n);
/* "a hilda dongle (1209:0001) with serial X", "1234:5678 at path 1-2": what sel asks for, for messages. */
void hilda_selector_describe(const struct hilda_selector *sel, char *out, size_t cap);

/* Opens the one device matching sel, waiting up to wait_ms for it to appear. */
/* The device's bus-port path as `hilda list` shows it and --path takes ("1-1.4"; "1-0" for a root
 * port): shared by the dongle list and the rig's adapter list. */
void hilda_usb_path(libusb_device *dev, char *out, size_t cap);

enum hilda_status hilda_open(libusb_context *ctx, const struct hilda_selector *sel, unsigned wait_ms,
                             struct hilda_device **out, struct hilda_error *e);
/* Opens a device found by hilda_discover (takes no ownership of info).
 * Opening sends nothing to the device: the next request is the caller's
 * (FAULT_STALL and FAULT_DELAY act on "the next request"). */
enum hilda_status hilda_open_info(libusb_context *ctx, const struct hilda_devinfo *info,
                                  struct hilda_device **out, struct hilda_error *e);
void hilda_close(struct hilda_device *d);
/* Reads the serial number and product strings into d->info if they are not
 * known yet (two or three GET_DESCRIPTOR requests). */
void hilda_device_read_identity(struct hilda_device *d);

/* After a reboot: waits up to wait_ms for a device in one of `modes` that
 * is not the old one (bus/address differ) and is the same dongle (same
 * serial number, or the same port path when the serial is unknown). */
enum hilda_status hilda_wait_reappear(libusb_context *ctx, const struct hilda_devinfo *old, unsigned modes,
                                      unsigned wait_ms, struct hilda_devinfo *found, struct hilda_error *e);
/* Waits up to wait_ms for the device at old's bus/address to disappear. */
bool hilda_wait_gone(libusb_context *ctx, const struct hilda_devinfo *old, unsigned wait_ms);

#endif
