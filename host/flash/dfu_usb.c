#include "dfu_usb.h"

#include <string.h>

#include "hilda/bootloader.h"
#include "hilda/usb.h"

/* The communication interface (class 0x02) and the data interface (0x0A)
 * with its bulk pair, from the active configuration. */
static enum hilda_status find_interfaces(struct hilda_dfu_usb *u, struct hilda_error *e)
{
    struct libusb_config_descriptor *cfg;
    int rc = libusb_get_active_config_descriptor(u->d->dev, &cfg);
    if (rc)
        return hilda_fail(e, hilda_status_from_libusb(rc), "cannot read the bootloader's configuration: %s",
                          libusb_strerror(rc));
    bool comm = false, data = false;
    for (int i = 0; i < cfg->bNumInterfaces; i++) {
        for (int a = 0; a < cfg->interface[i].num_altsetting; a++) {
            const struct libusb_interface_descriptor *id = &cfg->interface[i].altsetting[a];
            if (id->bInterfaceClass == USB_CLASS_COMM && !comm) {
                u->comm_if = id->bInterfaceNumber;
                comm = true;
            }
            if (id->bInterfaceClass != USB_CLASS_CDC_DATA || data)
                continue;
            uint8_t in = 0, out = 0;
            for (int k = 0; k < id->bNumEndpoints; k++) {
                const struct libusb_endpoint_descriptor *ep = &id->endpoint[k];
                if ((ep->bmAttributes & USB_EP_XFER_MASK) != USB_EP_XFER_BULK)
                    continue;
                if (ep->bEndpointAddress & USB_EP_DIR_IN)
                    in = ep->bEndpointAddress;
                else
                    out = ep->bEndpointAddress;
            }
            if (in && out) {
                u->data_if = id->bInterfaceNumber;
                u->ep_in = in;
                u->ep_out = out;
                data = true;
            }
        }
    }
    libusb_free_config_descriptor(cfg);
    if (!comm || !data)
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "%04x:%04x is not a CDC ACM device with a bulk data interface: not a "
                          "Secure DFU serial bootloader", u->d->info.vid, u->d->info.pid);
    return HILDA_OK;
}

static enum hilda_status claim(struct hilda_dfu_usb *u, uint8_t iface, bool *claimed, bool *reattach,
                               struct hilda_error *e)
{
    libusb_device_handle *h = u->d->h;
    if (libusb_kernel_driver_active(h, iface) == 1) {
        int rc = libusb_detach_kernel_driver(h, iface);
        if (rc)
            return hilda_fail(e, hilda_status_from_libusb(rc), "cannot take interface %u from the kernel's driver "
                              "(cdc_acm): %s", iface, libusb_strerror(rc));
        *reattach = true;
    }
    int rc = libusb_claim_interface(h, iface);
    if (rc)
        return hilda_fail(e, hilda_status_from_libusb(rc), "cannot claim the bootloader's interface %u: %s%s", iface,
                          libusb_strerror(rc), rc == LIBUSB_ERROR_BUSY ? " (is a terminal program using the port?)" : "");
    *claimed = true;
    return HILDA_OK;
}

enum hilda_status hilda_dfu_usb_open(struct hilda_device *d, struct hilda_dfu_usb *u, struct hilda_error *e)
{
    memset(u, 0, sizeof *u);
    u->d = d;
    enum hilda_status st = find_interfaces(u, e);
    if (!st)
        st = claim(u, u->comm_if, &u->claimed_comm, &u->reattach_comm, e);
    if (!st && u->data_if != u->comm_if)
        st = claim(u, u->data_if, &u->claimed_data, &u->reattach_data, e);
    if (!st) {
        int rc = libusb_control_transfer(d->h, CDC_REQTYPE_OUT,
                                         CDC_REQ_SET_CONTROL_LINE_STATE, CDC_CONTROL_LINE_DTR | CDC_CONTROL_LINE_RTS,
                                         u->comm_if, NULL, 0, d->timeout_ms);
        if (rc < 0)
            st = hilda_fail(e, hilda_status_from_libusb(rc), "the bootloader refused SET_CONTROL_LINE_STATE (DTR): %s",
                            libusb_strerror(rc));
    }
    if (st)
        hilda_dfu_usb_close(u);
    return st;
}

static enum hilda_status usb_write(void *ctx, const uint8_t *bytes, size_t len, unsigned timeout_ms,
                                   struct hilda_error *e)
{
    struct hilda_dfu_usb *u = ctx;
    while (len) {
        int done = 0;
        int n = len > 65536 ? 65536 : (int)len;
        int rc = libusb_bulk_transfer(u->d->h, u->ep_out, (unsigned char *)bytes, n, &done, timeout_ms);
        if (rc && !(rc == LIBUSB_ERROR_TIMEOUT && done > 0)) {
            if (rc == LIBUSB_ERROR_NO_DEVICE)
                u->d->gone = true;
            return hilda_fail(e, hilda_status_from_libusb(rc), "sending to the bootloader failed: %s%s",
                              libusb_strerror(rc), rc == LIBUSB_ERROR_TIMEOUT ? " (it takes no data: DTR not seen?)" : "");
        }
        bytes += done;
        len -= (size_t)done;
    }
    return HILDA_OK;
}

static enum hilda_status usb_read(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms,
                                  struct hilda_error *e)
{
    struct hilda_dfu_usb *u = ctx;
    int done = 0;
    int rc = libusb_bulk_transfer(u->d->h, u->ep_in, buf, (int)cap, &done, timeout_ms);
    if (rc == LIBUSB_ERROR_TIMEOUT && done == 0)
        return hilda_fail(e, HILDA_ERR_TIMEOUT, "no answer from the bootloader within %u ms", timeout_ms);
    if (rc && done == 0) {
        if (rc == LIBUSB_ERROR_NO_DEVICE)
            u->d->gone = true;
        return hilda_fail(e, hilda_status_from_libusb(rc), "reading from the bootloader failed: %s",
                          libusb_strerror(rc));
    }
    *got = (size_t)done;
    return HILDA_OK;
}

struct hilda_dfu_transport hilda_dfu_usb_transport(struct hilda_dfu_usb *u)
{
    return (struct hilda_dfu_transport){ u, usb_write, usb_read };
}

void hilda_dfu_usb_close(struct hilda_dfu_usb *u)
{
    libusb_device_handle *h = u->d ? u->d->h : NULL;
    if (!h)
        return;
    if (u->claimed_data)
        libusb_release_interface(h, u->data_if);
    if (u->claimed_comm)
        libusb_release_interface(h, u->comm_if);
    if (u->reattach_data)
        libusb_attach_kernel_driver(h, u->data_if);
    if (u->reattach_comm)
        libusb_attach_kernel_driver(h, u->comm_if);
    memset(u, 0, sizeof *u);
}
