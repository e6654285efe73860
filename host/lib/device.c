#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "desc.h"

#define SERIAL_TIMEOUT_MS 1000
#define POLL_MS 50

enum hilda_status hilda_context_new(libusb_context **ctx, struct hilda_error *e)
{
    int rc = libusb_init(ctx);
    if (rc < 0)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "libusb could not start (%s); is /dev/bus/usb there?",
                          libusb_error_name(rc));
    return HILDA_OK;
}

bool hilda_parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid)
{
    if (!s)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 16);
    if (end == s || *end != ':' || v > 0xFFFF || errno)
        return false;
    const char *q = end + 1;
    unsigned long p = strtoul(q, &end, 16);
    if (end == q || *end != '\0' || p > 0xFFFF || errno)
        return false;
    *vid = (uint16_t)v;
    *pid = (uint16_t)p;
    return true;
}

const char *hilda_mode_name(enum hilda_mode m)
{
    switch (m) {
    case HILDA_MODE_APP:
        return "application";
    case HILDA_MODE_BOOTLOADER:
        return "bootloader";
    default:
        return "other";
    }
}

const char *hilda_speed_name(int s)
{
    switch (s) {
    case LIBUSB_SPEED_LOW:
        return "low";
    case LIBUSB_SPEED_FULL:
        return "full";
    case LIBUSB_SPEED_HIGH:
        return "high";
    case LIBUSB_SPEED_SUPER:
        return "super";
    case LIBUSB_SPEED_SUPER_PLUS:
        return "super+";
    default:
        return "unknown";
    }
}

static enum hilda_mode mode_of(uint16_t vid, uint16_t pid)
{
    if (vid == HILDA_USB_VID && pid == HILDA_USB_PID)
        return HILDA_MODE_APP;
    if ((vid == HILDA_BOOTLOADER_VID && pid == HILDA_BOOTLOADER_PID) ||
        (vid == NORDIC_OPEN_BOOTLOADER_VID && pid == NORDIC_OPEN_BOOTLOADER_PID))
        return HILDA_MODE_BOOTLOADER;
    return HILDA_MODE_OTHER;
}

void hilda_usb_path(libusb_device *dev, char *out, size_t cap)
{
    uint8_t ports[8];
    int n = libusb_get_port_numbers(dev, ports, (int)sizeof ports);
    int at = snprintf(out, cap, "%u", libusb_get_bus_number(dev));
    if (n <= 0) {
        snprintf(out + at, cap - (size_t)at, "-0");
        return;
    }
    for (int i = 0; i < n && at >= 0 && (size_t)at < cap; i++)
        at += snprintf(out + at, cap - (size_t)at, "%c%u", i ? '.' : '-', ports[i]);
}

/* Reads string `index` in the device's first language into out (UTF-8). */
static int read_string(libusb_device_handle *h, uint8_t index, char *out, size_t cap)
{
    uint8_t buf[USB_DT_STRING_MAX];
    int n = libusb_control_transfer(h, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 0), 0,
                                    buf, sizeof buf, SERIAL_TIMEOUT_MS);
    if (n < 0)
        return n;
    uint16_t lang;
    if (hilda_parse_langids(buf, (size_t)n, &lang, 1, NULL) < 1)
        return LIBUSB_ERROR_OTHER;
    n = libusb_control_transfer(h, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, index), lang,
                                buf, sizeof buf, SERIAL_TIMEOUT_MS);
    if (n < 0)
        return n;
    if (!hilda_parse_string(buf, (size_t)n, NULL, out, cap, NULL))
        return LIBUSB_ERROR_OTHER;
    return 0;
}

static void read_identity(struct hilda_devinfo *x, const struct libusb_device_descriptor *dd)
{
    libusb_device_handle *h;
    int rc = libusb_open(x->dev, &h);
    if (rc < 0) {
        snprintf(x->note, sizeof x->note, "cannot open it: %s", libusb_error_name(rc));
        return;
    }
    if (dd->iSerialNumber) {
        rc = read_string(h, dd->iSerialNumber, x->serial, sizeof x->serial);
        if (rc == 0)
            x->serial_known = true;
        else
            snprintf(x->note, sizeof x->note, "reading the serial number failed: %s", libusb_error_name(rc));
    } else {
        snprintf(x->note, sizeof x->note, "the device has no serial number string");
    }
    if (dd->iProduct && read_string(h, dd->iProduct, x->product, sizeof x->product) != 0)
        x->product[0] = '\0';
    libusb_close(h);
}

static int compare_info(const void *a, const void *b)
{
    const struct hilda_devinfo *x = a, *y = b;
    return strcmp(x->path, y->path);
}

void hilda_devinfo_free(struct hilda_devinfo *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        if (list[i].dev)
            libusb_unref_device(list[i].dev);
    free(list);
}

static bool wants_mode(const struct hilda_selector *sel, enum hilda_mode m)
{
    unsigned modes = sel->modes ? sel->modes : HILDA_MODE_APP;
    return (modes & m) != 0;
}

enum hilda_status hilda_discover(libusb_context *ctx, const struct hilda_selector *sel,
                                 struct hilda_devinfo **list, size_t *count, struct hilda_error *e)
{
    *list = NULL;
    *count = 0;
    libusb_device **devs;
    ssize_t n = libusb_get_device_list(ctx, &devs);
    if (n < 0)
        return hilda_fail(e, hilda_status_from_libusb((int)n), "listing USB devices failed: %s",
                          libusb_error_name((int)n));
    struct hilda_devinfo *v = calloc((size_t)n + 1, sizeof *v);
    if (!v) {
        libusb_free_device_list(devs, 1);
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory listing devices");
    }
    size_t k = 0;
    for (ssize_t i = 0; i < n; i++) {
        struct libusb_device_descriptor dd;
        if (libusb_get_device_descriptor(devs[i], &dd) < 0)
            continue;
        enum hilda_mode m = mode_of(dd.idVendor, dd.idProduct);
        if (sel->has_vidpid ? (dd.idVendor != sel->vid || dd.idProduct != sel->pid) : !wants_mode(sel, m))
            continue;
        if (dd.bDeviceClass == LIBUSB_CLASS_HUB && !sel->has_vidpid)
            continue;
        struct hilda_devinfo *x = &v[k];
        memset(x, 0, sizeof *x);
        x->vid = dd.idVendor;
        x->pid = dd.idProduct;
        x->mode = m;
        x->bus = libusb_get_bus_number(devs[i]);
        x->address = libusb_get_device_address(devs[i]);
        x->speed = libusb_get_device_speed(devs[i]);
        hilda_usb_path(devs[i], x->path, sizeof x->path);
        if (sel->path && strcmp(sel->path, x->path) != 0)
            continue;
        x->dev = libusb_ref_device(devs[i]);
        if (sel->serial || sel->read_serials)
            read_identity(x, &dd);
        if (sel->serial && (!x->serial_known || strcmp(sel->serial, x->serial) != 0)) {
            libusb_unref_device(x->dev);
            x->dev = NULL;
            continue;
        }
        k++;
    }
    libusb_free_device_list(devs, 1);
    qsort(v, k, sizeof *v, compare_info);
    *list = v;
    *count = k;
    return HILDA_OK;
}

void hilda_selector_describe(const struct hilda_selector *sel, char *out, size_t cap)
{
    int at = 0;
    if (sel->has_vidpid)
        at += snprintf(out + at, cap - (size_t)at, "%04x:%04x", sel->vid, sel->pid);
    else {
        unsigned modes = sel->modes ? sel->modes : HILDA_MODE_APP;
        at += snprintf(out + at, cap - (size_t)at, "%s",
                       modes == HILDA_MODE_APP ? "a hilda dongle (1209:0001)"
                       : modes == HILDA_MODE_BOOTLOADER ? "a dongle in bootloader mode (1915:521f)"
                       : "a hilda dongle in application or bootloader mode");
    }
    if (sel->serial && (size_t)at < cap)
        at += snprintf(out + at, cap - (size_t)at, " with serial %s", sel->serial);
    if (sel->path && (size_t)at < cap)
        snprintf(out + at, cap - (size_t)at, " at path %s", sel->path);
}

enum hilda_status hilda_open_info(libusb_context *ctx, const struct hilda_devinfo *info,
                                  struct hilda_device **out, struct hilda_error *e)
{
    *out = NULL;
    struct hilda_device *d = calloc(1, sizeof *d);
    if (!d)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory opening the device");
    int rc = libusb_open(info->dev, &d->h);
    if (rc < 0) {
        free(d);
        if (rc == LIBUSB_ERROR_ACCESS)
            return hilda_fail(e, HILDA_ERR_ACCESS,
                              "permission denied opening the device at %s: add a udev rule giving you "
                              "access to %04x:%04x, or run as root", info->path, info->vid, info->pid);
        return hilda_fail(e, hilda_status_from_libusb(rc), "opening the device at %s failed: %s", info->path,
                          libusb_error_name(rc));
    }
    d->ctx = ctx;
    d->dev = libusb_ref_device(info->dev);
    d->info = *info;
    d->info.dev = d->dev;
    d->timeout_ms = HILDA_DEFAULT_TIMEOUT_MS;
    *out = d;
    return HILDA_OK;
}

void hilda_device_read_identity(struct hilda_device *d)
{
    struct libusb_device_descriptor dd;
    if (d->info.serial_known || libusb_get_device_descriptor(d->dev, &dd) != 0)
        return;
    d->info.note[0] = '\0';
    if (dd.iSerialNumber && read_string(d->h, dd.iSerialNumber, d->info.serial, sizeof d->info.serial) == 0)
        d->info.serial_known = true;
    if (dd.iProduct && !d->info.product[0] &&
        read_string(d->h, dd.iProduct, d->info.product, sizeof d->info.product) != 0)
        d->info.product[0] = '\0';
}

enum hilda_status hilda_open(libusb_context *ctx, const struct hilda_selector *sel, unsigned wait_ms,
                             struct hilda_device **out, struct hilda_error *e)
{
    *out = NULL;
    uint64_t deadline = hilda_now_ns() + (uint64_t)wait_ms * 1000000u;
    char what[160];
    hilda_selector_describe(sel, what, sizeof what);
    for (;;) {
        struct hilda_devinfo *list;
        size_t n;
        enum hilda_status st = hilda_discover(ctx, sel, &list, &n, e);
        if (st)
            return st;
        if (n == 1) {
            st = hilda_open_info(ctx, &list[0], out, e);
            hilda_devinfo_free(list, n);
            return st;
        }
        if (n > 1) {
            /* Refuse to guess: say which ones, with what tells them apart. */
            char names[HILDA_MESSAGE_MAX];
            int at = 0;
            for (size_t i = 0; i < n && (size_t)at < sizeof names; i++) {
                if (!list[i].serial_known) {
                    struct libusb_device_descriptor dd;
                    if (libusb_get_device_descriptor(list[i].dev, &dd) == 0)
                        read_identity(&list[i], &dd);
                }
                at += snprintf(names + at, sizeof names - (size_t)at, "%s%s (serial %s)", i ? ", " : "",
                               list[i].path, list[i].serial_known ? list[i].serial : "unknown");
            }
            hilda_devinfo_free(list, n);
            return hilda_fail(e, HILDA_ERR_AMBIGUOUS,
                              "%zu devices match %s: %s; choose one with --serial or --path", n, what, names);
        }
        hilda_devinfo_free(list, n);
        if (hilda_now_ns() >= deadline)
            break;
        if (!hilda_sleep_ms(POLL_MS))
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted while waiting for %s", what);
    }
    if (wait_ms)
        return hilda_fail(e, HILDA_ERR_NOT_FOUND, "no device matching %s appeared within %.1f s", what,
                          wait_ms / 1000.0);
    return hilda_fail(e, HILDA_ERR_NOT_FOUND,
                      "no device matching %s was found; is it plugged in? `hilda list` shows dongles in "
                      "both modes", what);
}

void hilda_close(struct hilda_device *d)
{
    if (!d)
        return;
    if (d->h)
        libusb_close(d->h);
    if (d->dev)
        libusb_unref_device(d->dev);
    free(d);
}

bool hilda_wait_gone(libusb_context *ctx, const struct hilda_devinfo *old, unsigned wait_ms)
{
    uint64_t deadline = hilda_now_ns() + (uint64_t)wait_ms * 1000000u;
    for (;;) {
        libusb_device **devs;
        ssize_t n = libusb_get_device_list(ctx, &devs);
        bool present = false;
        for (ssize_t i = 0; i < n; i++)
            present |= libusb_get_bus_number(devs[i]) == old->bus &&
                       libusb_get_device_address(devs[i]) == old->address;
        if (n >= 0)
            libusb_free_device_list(devs, 1);
        if (!present)
            return true;
        if (hilda_now_ns() >= deadline || !hilda_sleep_ms(POLL_MS / 2))
            return false;
    }
}

enum hilda_status hilda_wait_reappear(libusb_context *ctx, const struct hilda_devinfo *old, unsigned modes,
                                      unsigned wait_ms, struct hilda_devinfo *found, struct hilda_error *e)
{
    memset(found, 0, sizeof *found);
    uint64_t deadline = hilda_now_ns() + (uint64_t)wait_ms * 1000000u;
    struct hilda_selector sel = { .modes = HILDA_MODE_APP | HILDA_MODE_BOOTLOADER, .read_serials = true };
    unsigned others = 0;
    enum hilda_mode wrong_mode = 0;
    for (;;) {
        struct hilda_devinfo *list;
        size_t n;
        enum hilda_status st = hilda_discover(ctx, &sel, &list, &n, e);
        if (st)
            return st;
        size_t pick = n, matches = 0;
        others = 0;
        for (size_t i = 0; i < n; i++) {
            if (list[i].bus == old->bus && list[i].address == old->address)
                continue;   /* the old device, not yet removed */
            bool same = old->serial_known ? (list[i].serial_known && strcmp(list[i].serial, old->serial) == 0)
                                          : strcmp(list[i].path, old->path) == 0;
            if (!same && strcmp(list[i].path, old->path) == 0 && !list[i].serial_known)
                same = true;   /* same port, serial unreadable: the best evidence there is */
            if (same && !(list[i].mode & modes)) {
                wrong_mode = list[i].mode;   /* it came back, but not in the mode asked for: */
                continue;                    /* it will not change its mind, so stop below */
            }
            if (same) {
                if (pick == n)
                    pick = i;
                matches++;
            } else {
                others++;
            }
        }
        if (matches > 1) {
            hilda_devinfo_free(list, n);
            return hilda_fail(e, HILDA_ERR_AMBIGUOUS, "%zu devices with serial %s appeared; choose with --path",
                              matches, old->serial);
        }
        if (matches == 1) {
            *found = list[pick];
            found->dev = libusb_ref_device(list[pick].dev);
            hilda_devinfo_free(list, n);
            return HILDA_OK;
        }
        hilda_devinfo_free(list, n);
        if (hilda_now_ns() >= deadline || wrong_mode)
            break;
        if (!hilda_sleep_ms(POLL_MS))
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted while waiting for the device to come back");
    }
    const char *want = modes == HILDA_MODE_BOOTLOADER ? "in bootloader mode (1915:521f)"
                       : modes == HILDA_MODE_APP  ? "in application mode (1209:0001)"
                                                  : "in either mode";
    if (wrong_mode)
        return hilda_fail(e, HILDA_ERR_NOT_FOUND,
                          "the dongle (serial %s) came back in %s mode, not %s%s",
                          old->serial_known ? old->serial : "unknown", hilda_mode_name(wrong_mode), want,
                          modes == HILDA_MODE_BOOTLOADER ? " (is a bootloader in its flash? the emulated dongle "
                                                           "has none)" : "");
    return hilda_fail(e, HILDA_ERR_NOT_FOUND,
                      "the dongle (serial %s, was at %s) did not come back %s within %.1f s%s",
                      old->serial_known ? old->serial : "unknown", old->path, want, wait_ms / 1000.0,
                      others ? "; other hilda devices did appear (see `hilda list`)" : "");
}
