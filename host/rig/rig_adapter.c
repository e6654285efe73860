/* FTDI adapters through libftdi1: discovery, choice, bitbang pin ops. */
#include "rig_adapter.h"

#include <ftdi.h>
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

static const uint16_t supported_pids[] = { 0x6001, 0x6010, 0x6014 };   /* FT232R, FT2232H, FT232H */

/* "A10KXYZ at 1-1.2, B at 1-1.3" */
static void describe_list(const struct hilda_rig_adapter_info *list, size_t n, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *serial = list[i].no_permission ? "(serial unreadable)" : *list[i].serial ? list[i].serial
                                                                                            : "(no serial)";
        int k = snprintf(out + at, cap - at, "%s%04x:%04x %s at %s", i ? ", " : "", list[i].vid, list[i].pid,
                         serial, list[i].path);
        if (k < 0 || (size_t)k >= cap - at)
            break;
        at += (size_t)k;
    }
}

static enum hilda_status no_permission(const struct hilda_rig_adapter_info *a, struct hilda_error *e)
{
    return hilda_fail(e, HILDA_ERR_ACCESS, "no permission to open the FTDI adapter %04x:%04x at %s: add the udev "
                      "rule of docs/rig.md (SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\", "
                      "MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\") and plug the adapter in again", a->vid,
                      a->pid, a->path, a->vid, a->pid);
}

enum hilda_status hilda_rig_choose(const struct hilda_rig_adapter_info *list, size_t n, const char *serial,
                                   size_t *chosen, struct hilda_error *e)
{
    char seen[400];
    describe_list(list, n, seen, sizeof seen);
    if (serial && *serial) {
        size_t denied = n;
        for (size_t i = 0; i < n; i++) {
            if (!list[i].no_permission && !strcmp(list[i].serial, serial)) {
                *chosen = i;
                return HILDA_OK;
            }
            if (list[i].no_permission && denied == n)
                denied = i;
        }
        if (denied < n)   /* it may be the one whose serial could not be read */
            return no_permission(&list[denied], e);
        if (!n)
            return hilda_fail(e, HILDA_ERR_NOT_FOUND, "no FTDI adapter is connected (the rig's is %s): plug it in "
                              "and check it with `hilda rig list`", serial);
        return hilda_fail(e, HILDA_ERR_NOT_FOUND, "no FTDI adapter with the serial %s is connected (there is %s): "
                          "plug it in, or correct the adapter serial (--adapter SERIAL or the rig description)",
                          serial, seen);
    }
    if (!n)
        return hilda_fail(e, HILDA_ERR_NOT_FOUND, "no FTDI adapter (0403:6001, 0403:6010 or 0403:6014) is "
                          "connected: plug in the rig's adapter and check it with `hilda rig list`");
    if (n > 1)
        return hilda_fail(e, HILDA_ERR_AMBIGUOUS, "%zu FTDI adapters are connected (%s): choose one with --adapter "
                          "SERIAL or the rig description's adapter serial", n, seen);
    if (list[0].no_permission)
        return no_permission(&list[0], e);
    *chosen = 0;
    return HILDA_OK;
}

static void read_string(libusb_device_handle *h, uint8_t index, char *out, size_t cap)
{
    out[0] = '\0';
    if (index && libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out, (int)cap) < 0)
        out[0] = '\0';
}

/* Identity of one adapter: its strings need it opened (a permission test too). */
static void identify(libusb_device *dev, struct hilda_rig_adapter_info *a)
{
    struct libusb_device_descriptor dd;
    *a = (struct hilda_rig_adapter_info){ .bus = libusb_get_bus_number(dev), .dev = libusb_ref_device(dev) };
    hilda_usb_path(dev, a->path, sizeof a->path);
    if (libusb_get_device_descriptor(dev, &dd) == 0) {
        a->vid = dd.idVendor;
        a->pid = dd.idProduct;
    }
    libusb_device_handle *h;
    int rc = libusb_open(dev, &h);
    if (rc == LIBUSB_ERROR_ACCESS) {
        a->no_permission = true;
        return;
    }
    if (rc)
        return;
    read_string(h, dd.iSerialNumber, a->serial, sizeof a->serial);
    read_string(h, dd.iManufacturer, a->manufacturer, sizeof a->manufacturer);
    read_string(h, dd.iProduct, a->description, sizeof a->description);
    libusb_close(h);
}

static int by_path(const void *x, const void *y)
{
    const struct hilda_rig_adapter_info *a = x, *b = y;
    return strcmp(a->path, b->path);
}

enum hilda_status hilda_rig_scan(struct hilda_rig_scan *s, uint16_t vid, uint16_t pid, struct hilda_error *e)
{
    *s = (struct hilda_rig_scan){ 0 };
    struct ftdi_context *ftdi = ftdi_new();
    if (!ftdi)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "libftdi1 could not start (ftdi_new failed)");
    s->ftdi = ftdi;
    for (size_t k = 0; k < sizeof supported_pids / sizeof supported_pids[0]; k++) {
        uint16_t v = vid ? vid : HILDA_RIG_FTDI_VID, p = pid ? pid : supported_pids[k];
        if (pid && k)
            break;                       /* one vid:pid asked for: one search */
        struct ftdi_device_list *found = NULL;
        int count = ftdi_usb_find_all(ftdi, &found, v, p);
        if (count < 0) {
            hilda_rig_scan_free(s);
            return hilda_fail(e, HILDA_ERR_IO, "cannot list the USB devices: %s", ftdi_get_error_string(ftdi));
        }
        struct hilda_rig_adapter_info *grown = realloc(s->list, (s->n + (size_t)count + 1) * sizeof *grown);
        if (!grown) {
            ftdi_list_free(&found);
            hilda_rig_scan_free(s);
            return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
        }
        s->list = grown;
        for (struct ftdi_device_list *d = found; d; d = d->next)
            identify(d->dev, &s->list[s->n++]);
        ftdi_list_free(&found);
    }
    if (s->n > 1)
        qsort(s->list, s->n, sizeof *s->list, by_path);
    return HILDA_OK;
}

void hilda_rig_scan_free(struct hilda_rig_scan *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->list[i].dev)
            libusb_unref_device(s->list[i].dev);
    free(s->list);
    if (s->ftdi)
        ftdi_free(s->ftdi);
    *s = (struct hilda_rig_scan){ 0 };
}

/* The pin ops: asynchronous bitbang. */
static enum hilda_status ftdi_failed(struct ftdi_context *ftdi, const char *what, struct hilda_error *e)
{
    return hilda_fail(e, HILDA_ERR_IO, "the FTDI adapter refused %s: %s", what, ftdi_get_error_string(ftdi));
}

static enum hilda_status op_direction(void *ctx, uint8_t mask, struct hilda_error *e)
{
    struct ftdi_context *ftdi = ctx;
    return ftdi_set_bitmode(ftdi, mask, BITMODE_BITBANG) < 0 ? ftdi_failed(ftdi, "bitbang mode", e) : HILDA_OK;
}

static enum hilda_status op_latch(void *ctx, uint8_t latch, struct hilda_error *e)
{
    struct ftdi_context *ftdi = ctx;
    return ftdi_write_data(ftdi, &latch, 1) != 1 ? ftdi_failed(ftdi, "the pin states", e) : HILDA_OK;
}

static enum hilda_status op_read(void *ctx, uint8_t *levels, struct hilda_error *e)
{
    struct ftdi_context *ftdi = ctx;
    unsigned char b;
    if (ftdi_read_pins(ftdi, &b) < 0)
        return ftdi_failed(ftdi, "to read the pins", e);
    *levels = b;
    return HILDA_OK;
}

enum hilda_status hilda_rig_open(const struct hilda_rig *rig, bool start, struct hilda_rig_adapter **out,
                                 struct hilda_error *e)
{
    *out = NULL;
    struct hilda_rig_adapter *a = calloc(1, sizeof *a);
    if (!a)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    size_t i;
    enum hilda_status st = hilda_rig_scan(&a->scan, rig->adapter.vid, rig->adapter.pid, e);
    if (!st)
        st = hilda_rig_choose(a->scan.list, a->scan.n, rig->adapter.serial, &i, e);
    if (st) {
        hilda_rig_close(a);
        return st;
    }
    a->info = a->scan.list[i];
    struct ftdi_context *ftdi = a->scan.ftdi;
    int rc = ftdi_set_interface(ftdi, (enum ftdi_interface)(INTERFACE_A + (rig->adapter.interface - 'A')));
    if (rc < 0)
        st = hilda_fail(e, HILDA_ERR_USAGE, "the FTDI adapter at %s has no interface %c: %s", a->info.path,
                        rig->adapter.interface, ftdi_get_error_string(ftdi));
    else if ((rc = ftdi_usb_open_dev(ftdi, a->info.dev)) == -4)
        st = no_permission(&a->info, e);
    else if (rc == -5)
        st = hilda_fail(e, HILDA_ERR_IO, "the FTDI adapter at %s is in use by another program (is another hilda "
                        "rig running?): %s", a->info.path, ftdi_get_error_string(ftdi));
    else if (rc < 0)
        st = hilda_fail(e, HILDA_ERR_IO, "cannot open the FTDI adapter at %s: %s", a->info.path,
                        ftdi_get_error_string(ftdi));
    if (st) {
        hilda_rig_close(a);
        return st;
    }
    a->ops = (struct hilda_rig_ops){ .set_direction = op_direction, .write_latch = op_latch, .read_pins = op_read,
                                     .ctx = ftdi };
    a->pins = (struct hilda_rig_pins){ .ops = &a->ops, .rig = *rig };
    if (start && (st = hilda_rig_pins_start(&a->pins, &a->ops, rig, e))) {
        hilda_rig_close(a);
        return st;
    }
    *out = a;
    return HILDA_OK;
}

void hilda_rig_close(struct hilda_rig_adapter *a)
{
    if (!a)
        return;
    if (a->scan.ftdi && a->ops.ctx)
        ftdi_usb_close(a->scan.ftdi);    /* the pins keep their state: the chip stays in bitbang mode */
    hilda_rig_scan_free(&a->scan);
    free(a);
}

enum hilda_status hilda_rig_pulse_reset(const struct hilda_rig *rig, unsigned ms, struct hilda_error *e)
{
    struct hilda_rig_adapter *a;
    enum hilda_status st = hilda_rig_open(rig, true, &a, e);
    if (st)
        return st;
    st = hilda_rig_reset(&a->pins, ms, e);
    hilda_rig_close(a);
    return st;
}
