/* usbfs's argument rules: see usbfs_rules.h. Each function follows the
 * devio.c function it names, check for check, in the same order. */
#include "usbfs_rules.h"

#include <errno.h>
#include <sys/ioctl.h>   /* _IOR and friends, which usbdevice_fs.h uses without including */
#include <linux/usbdevice_fs.h>

#define USBFS_MAX_INTERFACES 32      /* 8 * sizeof(ps->ifclaimed) */
#define USBFS_MAX_ISO_PACKETS 128    /* proc_do_submiturb's "arbitrary limit" */
#define PRINTER_CLASS 0x07           /* USB_CLASS_PRINTER, linux/usb/ch9.h */
#define PRINTER_GET_DEVICE_ID 0x00   /* printer class 1.1 §4.2.1, bmRequestType 0xA1 */

int usbfs_findintfep(const struct usbfs_view *v, unsigned ep)
{
    struct usb_ep_info info;
    if (ep & ~(unsigned)(USB_DIR_IN | USB_EP_NUM_MASK))
        return -EINVAL;
    if (!v->config)
        return -ESRCH;
    if (!usbdesc_find_endpoint_any_alt(v->config, v->config_len, (uint8_t)ep, &info))
        return -ENOENT;
    return info.interface;
}

int usbfs_checkintf(const struct usbfs_view *v, unsigned ifnum, enum usbfs_holder holder)
{
    if (!v->config)
        return -EHOSTUNREACH;
    if (ifnum >= USBFS_MAX_INTERFACES)
        return -EINVAL;
    if (holder == USBFS_MINE)
        return 0;
    /* claimintf: usb_ifnum_to_if, then usb_driver_claim_interface */
    if (!usbdesc_alt_count(v->config, v->config_len, (uint8_t)ifnum))
        return -ENOENT;
    return holder == USBFS_OTHER ? -EBUSY : 0;
}

int usbfs_ctrlrecip(const struct usbfs_view *v, uint8_t type, uint8_t request, uint16_t index, int *ifnum)
{
    *ifnum = -1;
    if ((type & USB_TYPE_MASK) == USB_TYPE_VENDOR)
        return 0;
    /* the printer class's GET_DEVICE_ID (wIndex: interface << 8 | alternate
     * setting) always goes through: it reports ink levels and the like */
    if (type == (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE) && request == PRINTER_GET_DEVICE_ID &&
        v->config) {
        const uint8_t *alt = usbdesc_find_alt(v->config, v->config_len, (uint8_t)(index >> 8), (uint8_t)index);
        if (alt && alt[5] == PRINTER_CLASS)
            return 0;
    }
    unsigned low = index & 0xFF;
    switch (type & USB_RECIP_MASK) {
    case USB_RECIP_ENDPOINT: {
        if ((low & ~(unsigned)USB_DIR_IN) == 0)
            return 0;
        /* an endpoint number with the wrong direction bit is let through
         * to the device (Windows does; the kernel only logs it) */
        int r = usbfs_findintfep(v, low);
        if (r < 0)
            r = usbfs_findintfep(v, low ^ USB_DIR_IN);
        if (r < 0)
            return r;
        *ifnum = r;
        return 0;
    }
    case USB_RECIP_INTERFACE:
        *ifnum = (int)low;
        return 0;
    default:
        return 0;
    }
}

/* The endpoint in the current alternate setting (dev->ep_in / ep_out). */
static bool current_endpoint(const struct usbfs_view *v, uint8_t ep, struct usb_ep_info *out)
{
    return v->config && usbdesc_find_endpoint(v->config, v->config_len, v->alts, ep, out);
}

int usbfs_bulk_endpoint(const struct usbfs_view *v, unsigned ep, struct usb_ep_info *out)
{
    /* do_proc_bulk: usb_pipe_endpoint and its packet size */
    if (!current_endpoint(v, (uint8_t)ep, out) || (out->max_packet & 0x7FF) == 0)
        return -EINVAL;
    switch (out->attributes & USB_EP_XFER_MASK) {
    case USB_EP_XFER_ISOC:
        return -EINVAL;          /* usb_submit_urb: an isochronous URB with no packets */
    case USB_EP_XFER_CONTROL:
        return -ENOEXEC;         /* usb_submit_urb: a control URB without a SETUP packet */
    default:
        return 0;                /* bulk, or interrupt (do_proc_bulk makes it an interrupt URB) */
    }
}

int usbfs_urb_endpoint(const struct usbfs_view *v, unsigned type, uint8_t ep, int number_of_packets,
                       struct usb_ep_info *out)
{
    if ((ep & ~USB_DIR_IN) == 0) {
        /* EP0: the device's default control pipe, in both directions */
        *out = (struct usb_ep_info){ .address = ep, .attributes = USB_EP_XFER_CONTROL };
    } else if (!current_endpoint(v, ep, out)) {
        return -ENOENT;
    }
    unsigned xfer = out->attributes & USB_EP_XFER_MASK;
    switch (type) {
    case USBDEVFS_URB_TYPE_CONTROL:
        if (xfer != USB_EP_XFER_CONTROL)
            return -EINVAL;
        return (ep & ~USB_DIR_IN) ? -ENXIO : 0;    /* a control endpoint other than 0: not run here */
    case USBDEVFS_URB_TYPE_BULK:
        return xfer == USB_EP_XFER_CONTROL || xfer == USB_EP_XFER_ISOC ? -EINVAL : 0;
    case USBDEVFS_URB_TYPE_INTERRUPT:
        return xfer == USB_EP_XFER_INT ? 0 : -EINVAL;
    case USBDEVFS_URB_TYPE_ISO:
        if (number_of_packets < 1 || number_of_packets > USBFS_MAX_ISO_PACKETS)
            return -EINVAL;
        if (xfer != USB_EP_XFER_ISOC)
            return -EINVAL;
        if ((out->max_packet & 0x7FF) == 0)
            return -EMSGSIZE;    /* usb_submit_urb: "bad maxpacket" (a zero-bandwidth setting) */
        return -ENXIO;           /* the host controller would get it: the bridge runs no isochronous transfers */
    default:
        return -EINVAL;
    }
}
