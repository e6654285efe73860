/* `hilda flash`: the whole journey of an application update on a dongle.
 *
 * 1. The image is read and checked before anything is sent (image.h); an
 *    nrfutil package's init packet is checked against its image, otherwise
 *    one is made (dfu_init.h).
 * 2. The dongle is brought into its bootloader: one already in DFU mode is
 *    used as it is; hilda firmware is asked to reboot into it (the vendor
 *    request REBOOT_BOOTLOADER: GPREGRET 0xB1, honoured by hilda's own
 *    bootloader); failing that the caller's enter_bootloader hook (the bench
 *    rig's pin reset) runs; failing that the user is asked, in one sentence,
 *    to press the dongle's reset button, and hilda waits (bounded).
 * 3. Secure DFU over the bootloader's CDC ACM endpoints (dfu.h, dfu_usb.h).
 * 4. hilda waits for the application to enumerate and reads its version: the
 *    git hash it reports must be the one in the image, or the flash fails. */
#ifndef HILDA_FLASH_H
#define HILDA_FLASH_H

#include <libusb.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "dfu.h"
#include "image.h"
#include "status.h"

struct hilda_flash_options {
    const char *image_path;
    enum hilda_image_format format;
    uint32_t bin_address;          /* a flat binary's load address; UINT32_MAX: none given */
    struct hilda_selector sel;     /* which dongle (serial, path); modes are set by hilda_flash */
    unsigned wait_ms;              /* for the bootloader to appear (after a button press); 0: 30 s */
    unsigned app_wait_ms;          /* for the application after the update; 0: 20 s */
    bool no_verify;                /* foreign firmware: do not read GET_VERSION afterwards */
    unsigned corrupt_object;       /* test hooks, see hilda_dfu_options */
    unsigned stop_after_objects;
    hilda_dfu_progress_fn progress;
    void *progress_ctx;
    /* A sentence the user must read now ("press the reset button"). */
    void (*notice)(void *ctx, const char *sentence);
    void *notice_ctx;
    /* Puts the dongle into its bootloader by other means (the rig's pin
     * reset); NULL when there is none. */
    enum hilda_status (*enter_bootloader)(void *ctx, struct hilda_error *e);
    void *enter_ctx;
};

enum hilda_flash_entry {
    HILDA_ENTRY_ALREADY,           /* the dongle was in DFU mode */
    HILDA_ENTRY_VENDOR_REQUEST,    /* buttonless: REBOOT_BOOTLOADER */
    HILDA_ENTRY_HOOK,              /* the rig's pin reset */
    HILDA_ENTRY_USER,              /* the user pressed the reset button */
};

struct hilda_flash_result {
    enum hilda_image_format format;
    uint32_t start;
    size_t len;
    bool image_has_version;
    uint32_t image_git_hash;
    enum hilda_flash_entry entry;
    struct hilda_devinfo bootloader;   /* dev is NULL: only the identity is kept */
    struct hilda_dfu_report dfu;
    struct hilda_dfu_refusal refusal;
    bool app_seen;
    struct hilda_devinfo app;
    bool app_version_read;
    struct hilda_version app_version;
    double seconds;                    /* wall time of the DFU transfer itself */
};

enum hilda_status hilda_flash(libusb_context *ctx, const struct hilda_flash_options *o, struct hilda_flash_result *r,
                              struct hilda_error *e);

const char *hilda_flash_entry_name(enum hilda_flash_entry entry);

#endif
