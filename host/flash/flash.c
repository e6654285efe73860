#include "flash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dfu_init.h"
#include "dfu_usb.h"
#include "hilda/dfu.h"
#include "vendor.h"

#define DEFAULT_WAIT_MS     30000
#define DEFAULT_APP_WAIT_MS 20000
/* A bootloader that honours GPREGRET appears within a second or two; one
 * that does not (Nordic's factory bootloader) restarts the application. */
#define BUTTONLESS_WAIT_MS  8000
#define POLL_MS             100
/* A dongle just plugged in or powered up takes a moment to enumerate: look
 * for one this long before asking the user for the reset button. */
#define SETTLE_MS           3000

const char *hilda_flash_entry_name(enum hilda_flash_entry entry)
{
    static const char *const names[] = { "already_in_dfu", "vendor_request", "rig_pin_reset", "reset_button" };
    return (unsigned)entry < sizeof names / sizeof names[0] ? names[entry] : "?";
}

static void notice(const struct hilda_flash_options *o, const char *sentence)
{
    if (o->notice)
        o->notice(o->notice_ctx, sentence);
}

/* The image and its init packet, checked. */
static enum hilda_status prepare(const struct hilda_flash_options *o, struct hilda_image *img, uint8_t **init,
                                 size_t *init_len, struct hilda_error *e)
{
    enum hilda_status st = hilda_image_load(o->image_path, o->format, o->bin_address, img, e);
    if (st)
        return st;
    if ((st = hilda_image_check_application(img, e)))
        return st;
    if (img->init_packet) {
        struct hilda_dfu_init info;
        if ((st = hilda_dfu_init_decode(img->init_packet, img->init_len, &info, e)) ||
            (st = hilda_dfu_init_check(&info, img->data, img->len, DFU_HW_VERSION_NRF52840, e)))
            return st;
        *init = malloc(img->init_len);
        if (!*init)
            return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
        memcpy(*init, img->init_packet, img->init_len);
        *init_len = img->init_len;
        return HILDA_OK;
    }
    return hilda_dfu_init_encode(img->data, img->len, DFU_HW_VERSION_NRF52840, init, init_len, e);
}

/* The one dongle in one of modes that the user's selection names, or that
 * sits on near's port (a dongle keeps its port across reboots, not always its
 * serial number: Nordic's bootloader reports another one than hilda's
 * firmware). HILDA_ERR_NOT_FOUND when none is there yet. */
static enum hilda_status find_one(libusb_context *ctx, const struct hilda_flash_options *o, unsigned modes,
                                  const struct hilda_devinfo *near, struct hilda_devinfo *out, struct hilda_error *e)
{
    struct hilda_selector sel = o->sel;
    sel.has_vidpid = false;
    sel.modes = modes;
    sel.read_serials = true;       /* the result names the bootloader and the app by their serials */
    if (near && !sel.path)
        sel.serial = NULL;          /* after a reboot the port is the evidence */
    struct hilda_devinfo *list;
    size_t n;
    enum hilda_status st = hilda_discover(ctx, &sel, &list, &n, e);
    if (st)
        return st;
    size_t pick = n, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (near && strcmp(list[i].path, near->path) != 0)
            continue;
        if (near && list[i].bus == near->bus && list[i].address == near->address)
            continue;               /* still the old device */
        if (pick == n)
            pick = i;
        count++;
    }
    if (count > 1) {
        hilda_devinfo_free(list, n);
        return hilda_fail(e, HILDA_ERR_AMBIGUOUS, "%zu dongles match; choose one with --serial or --path", count);
    }
    if (count == 0) {
        hilda_devinfo_free(list, n);
        return hilda_fail(e, HILDA_ERR_NOT_FOUND, "no dongle found");
    }
    *out = list[pick];
    out->dev = libusb_ref_device(list[pick].dev);
    hilda_devinfo_free(list, n);
    return HILDA_OK;
}

static enum hilda_status wait_for(libusb_context *ctx, const struct hilda_flash_options *o, unsigned modes,
                                  const struct hilda_devinfo *near, unsigned wait_ms, struct hilda_devinfo *out,
                                  struct hilda_error *e)
{
    uint64_t deadline = hilda_now_ns() + (uint64_t)wait_ms * 1000000u;
    for (;;) {
        enum hilda_status st = find_one(ctx, o, modes, near, out, e);
        if (st != HILDA_ERR_NOT_FOUND)
            return st;
        if (hilda_now_ns() >= deadline)
            return st;
        if (!hilda_sleep_ms(POLL_MS))
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted while waiting for the dongle");
    }
}

/* Step 2: a bootloader to talk to. */
static enum hilda_status enter_bootloader(libusb_context *ctx, const struct hilda_flash_options *o,
                                          struct hilda_flash_result *r, struct hilda_devinfo *boot,
                                          struct hilda_error *e)
{
    unsigned wait_ms = o->wait_ms ? o->wait_ms : DEFAULT_WAIT_MS;
    struct hilda_devinfo app;
    enum hilda_status st = wait_for(ctx, o, HILDA_MODE_BOOTLOADER | HILDA_MODE_APP, NULL, SETTLE_MS, &app, e);
    if (st == HILDA_ERR_AMBIGUOUS)
        return st;
    if (!st)
        libusb_unref_device(app.dev);
    st = find_one(ctx, o, HILDA_MODE_BOOTLOADER, NULL, boot, e);
    if (st != HILDA_ERR_NOT_FOUND) {
        r->entry = HILDA_ENTRY_ALREADY;
        return st;
    }
    st = find_one(ctx, o, HILDA_MODE_APP, NULL, &app, e);
    if (st == HILDA_ERR_AMBIGUOUS)
        return st;
    if (!st) {
        struct hilda_device *d;
        if (!(st = hilda_open_info(ctx, &app, &d, e))) {
            st = hilda_reboot(d, true, e);
            if (st == HILDA_ERR_NO_DEVICE)
                st = HILDA_OK;      /* the reboot won the race with the status stage */
            hilda_close(d);
        }
        if (!st && !(st = wait_for(ctx, o, HILDA_MODE_BOOTLOADER, &app, BUTTONLESS_WAIT_MS, boot, e))) {
            libusb_unref_device(app.dev);
            r->entry = HILDA_ENTRY_VENDOR_REQUEST;
            return HILDA_OK;
        }
        if (st != HILDA_ERR_NOT_FOUND && st != HILDA_ERR_STALL && st != HILDA_ERR_NO_DEVICE) {
            libusb_unref_device(app.dev);
            return st;
        }
        libusb_unref_device(app.dev);
    }
    if (o->enter_bootloader) {
        if ((st = o->enter_bootloader(o->enter_ctx, e)))
            return st;
        if (!(st = wait_for(ctx, o, HILDA_MODE_BOOTLOADER, NULL, wait_ms, boot, e))) {
            r->entry = HILDA_ENTRY_HOOK;
            return HILDA_OK;
        }
        return hilda_fail(e, st, "the rig pulsed the dongle's reset, but no bootloader appeared within %u s",
                          wait_ms / 1000);
    }
    char sentence[200];
    snprintf(sentence, sizeof sentence,
             "Press the dongle's RESET button (SW2, the small side button) to start its bootloader; waiting up to "
             "%u s.", wait_ms / 1000);
    notice(o, sentence);
    if (!(st = wait_for(ctx, o, HILDA_MODE_BOOTLOADER, NULL, wait_ms, boot, e))) {
        r->entry = HILDA_ENTRY_USER;
        return HILDA_OK;
    }
    if (st == HILDA_ERR_NOT_FOUND)
        return hilda_fail(e, st, "no dongle in DFU mode appeared within %u s: plug one in and press its reset "
                          "button, or pass --wait", wait_ms / 1000);
    return st;
}

/* Step 3. */
static enum hilda_status transfer(libusb_context *ctx, const struct hilda_flash_options *o,
                                  const struct hilda_devinfo *boot, const uint8_t *init, size_t init_len,
                                  const struct hilda_image *img, struct hilda_flash_result *r, struct hilda_error *e)
{
    struct hilda_device *d;
    enum hilda_status st = hilda_open_info(ctx, boot, &d, e);
    if (st)
        return st;
    struct hilda_dfu_usb u;
    if (!(st = hilda_dfu_usb_open(d, &u, e))) {
        struct hilda_dfu_transport t = hilda_dfu_usb_transport(&u);
        struct hilda_dfu_options dopt = { .corrupt_object = o->corrupt_object,
                                          .stop_after_objects = o->stop_after_objects,
                                          .progress = o->progress,
                                          .progress_ctx = o->progress_ctx };
        uint64_t t0 = hilda_now_ns();
        st = hilda_dfu_ping(&t, 10, e);
        if (!st)
            st = hilda_dfu_update(&t, init, init_len, img->data, img->len, &dopt, &r->dfu, &r->refusal, e);
        r->seconds = (double)(hilda_now_ns() - t0) / 1e9;
        hilda_dfu_usb_close(&u);
    }
    hilda_close(d);
    return st;
}

/* Step 4. */
static enum hilda_status verify(libusb_context *ctx, const struct hilda_flash_options *o,
                                const struct hilda_devinfo *boot, struct hilda_flash_result *r, struct hilda_error *e)
{
    unsigned wait_ms = o->app_wait_ms ? o->app_wait_ms : DEFAULT_APP_WAIT_MS;
    enum hilda_status st = wait_for(ctx, o, HILDA_MODE_APP, boot, wait_ms, &r->app, e);
    if (st == HILDA_ERR_NOT_FOUND)
        return hilda_fail(e, HILDA_ERR_CHECK, "the update was accepted, but the application did not enumerate within "
                          "%u s (the dongle stays in its bootloader when the application is not valid)", wait_ms / 1000);
    if (st)
        return st;
    r->app_seen = true;
    struct hilda_device *d;
    if (!(st = hilda_open_info(ctx, &r->app, &d, e))) {
        st = hilda_get_version(d, &r->app_version, e);
        hilda_close(d);
    }
    libusb_unref_device(r->app.dev);
    r->app.dev = NULL;
    if (st)
        return st;
    r->app_version_read = true;
    if (r->image_has_version && r->app_version.git_hash != r->image_git_hash)
        return hilda_fail(e, HILDA_ERR_CHECK, "the dongle reports firmware git %08x after the update, but the image "
                          "is git %08x: the update did not take", r->app_version.git_hash, r->image_git_hash);
    return HILDA_OK;
}

enum hilda_status hilda_flash(libusb_context *ctx, const struct hilda_flash_options *o, struct hilda_flash_result *r,
                              struct hilda_error *e)
{
    memset(r, 0, sizeof *r);
    struct hilda_image img;
    uint8_t *init = NULL;
    size_t init_len = 0;
    struct hilda_devinfo boot = { 0 };
    enum hilda_status st = prepare(o, &img, &init, &init_len, e);
    r->format = img.format;
    r->start = img.start;
    r->len = img.len;
    r->image_has_version = !st && hilda_image_git_hash(&img, &r->image_git_hash);
    if (!st)
        st = enter_bootloader(ctx, o, r, &boot, e);
    if (!st) {
        r->bootloader = boot;
        r->bootloader.dev = NULL;
        st = transfer(ctx, o, &boot, init, init_len, &img, r, e);
    }
    if (!st && !o->no_verify)
        st = verify(ctx, o, &boot, r, e);
    if (boot.dev)
        libusb_unref_device(boot.dev);
    free(init);
    hilda_image_free(&img);
    return st;
}
