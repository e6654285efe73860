/* A capture of the emulated bus in the Linux usbmon format, as Wireshark and
 * tshark read it: pcap link type 220 (LINKTYPE_USB_LINUX_MMAPPED), one
 * 64-byte usbmon header per record, then the data. Each transfer gives a
 * submission record ('S') and a completion record ('C'), with one id, time
 * stamped in virtual time. CPU thread only. */
#ifndef EMU_BRIDGE_PCAP_H
#define EMU_BRIDGE_PCAP_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"
#include "usbd_host.h"

struct usb_pcap;

/* NULL with errno set if the file cannot be created. */
struct usb_pcap *usb_pcap_open(const char *path);
void usb_pcap_close(struct usb_pcap *p);

/* id: anything unique while the transfer runs (the kernel uses the URB's
 * address). devnum: the address the host sends the transfer to. */
void usb_pcap_submit(struct usb_pcap *p, vtime_t now, uint64_t id, uint8_t busnum, uint8_t devnum,
                     const struct usb_xfer *x);
/* status: the URB status the host reports (0, -EPIPE, ...). */
void usb_pcap_complete(struct usb_pcap *p, vtime_t now, uint64_t id, uint8_t busnum, uint8_t devnum,
                       const struct usb_xfer *x, int status);

#endif
