/* The argument rules of Linux's usbfs, as pure functions of what the host
 * believes about the device: which interface a request or URB needs and
 * which errno the kernel answers, in the kernel's order. Source:
 * drivers/usb/core/devio.c of Linux 6.16 (findintfep, checkintf/claimintf,
 * check_ctrlrecip, do_proc_bulk, proc_do_submiturb) and usb_submit_urb in
 * urb.c. usbfs.c calls these under the URB queue's lock and keeps the claims;
 * the unit tests call them on hand-built descriptors.
 *
 * Where the bridge differs from a Linux host: it is a host controller that
 * runs control transfers on EP0, bulk and interrupt transfers only. An
 * isochronous URB that passes devio.c's checks (and usb_submit_urb's
 * packet size 0 check, EMSGSIZE) is refused with ENXIO, what Linux's own
 * host controllers without isochronous support answer when usbcore hands
 * them one (isp116x-hcd: "Isochronous transfers not supported"). The
 * isochronous packet descriptors are not read, so their checks (a packet
 * over 98304 bytes: EINVAL; over wMaxPacketSize: EMSGSIZE) are not made.
 * A control URB to a control endpoint other than 0 (which no full-speed
 * device we run declares) gets ENXIO at the endpoint check, before its
 * SETUP packet is looked at. */
#ifndef EMU_BRIDGE_USBFS_RULES_H
#define EMU_BRIDGE_USBFS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "descriptors.h"

/* The device as the host sees it. */
struct usbfs_view {
    const uint8_t *config;       /* the active configuration; NULL: unconfigured (address state) */
    size_t config_len;
    const uint8_t *alts;         /* current alternate setting of each interface (HOST_MAX_INTERFACES) */
};

/* findintfep: the interface whose alternate settings (ANY of them) hold
 * endpoint address ep, or -EINVAL (bits other than the direction and the
 * number), -ESRCH (unconfigured), -ENOENT (no such endpoint). */
int usbfs_findintfep(const struct usbfs_view *v, unsigned ep);

/* Who holds an interface, from one client's point of view. */
enum usbfs_holder { USBFS_FREE, USBFS_MINE, USBFS_OTHER };

/* checkintf (+ claimintf): 0 if the client may use interface ifnum (when
 * it is USBFS_FREE the caller claims it for the client, as usbfs does
 * implicitly), else -EHOSTUNREACH (unconfigured), -EINVAL (ifnum >= 32),
 * -ENOENT (no such interface), -EBUSY (another file holds it). */
int usbfs_checkintf(const struct usbfs_view *v, unsigned ifnum, enum usbfs_holder holder);

/* check_ctrlrecip up to its checkintf: 0 with *ifnum = -1 when the request
 * goes through as it is (vendor type, recipient device or other, EP0, the
 * printer class's GET_DEVICE_ID), 0 with *ifnum the interface to pass to
 * checkintf, or the errno of the endpoint lookup. The device is always in
 * the address or configured state here. */
int usbfs_ctrlrecip(const struct usbfs_view *v, uint8_t type, uint8_t request, uint16_t index, int *ifnum);

/* USBDEVFS_BULK once findintfep and checkintf passed: the endpoint in the
 * current alternate setting (-EINVAL if absent or of packet size 0, and for
 * an isochronous one as usb_submit_urb refuses it without packets). */
int usbfs_bulk_endpoint(const struct usbfs_view *v, unsigned ep, struct usb_ep_info *out);

/* USBDEVFS_SUBMITURB's endpoint checks once findintfep and checkintf
 * passed (for every URB but a control URB to EP0): type is
 * USBDEVFS_URB_TYPE_*; -ENOENT if the endpoint is not in the current
 * alternate setting, -EINVAL for a type the endpoint does not have or a
 * number of isochronous packets outside 1..128, -EMSGSIZE for an
 * isochronous endpoint of packet size 0, -ENXIO for a URB the bridge cannot
 * run (above). out: the endpoint. */
int usbfs_urb_endpoint(const struct usbfs_view *v, unsigned type, uint8_t ep, int number_of_packets,
                       struct usb_ep_info *out);

#endif
