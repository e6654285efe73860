/* The hilda test function's bulk pair: EP1 OUT packets come back on EP1 IN,
 * one at a time (docs/protocol.md). */
#ifndef HILDA_USB_LOOPBACK_H
#define HILDA_USB_LOOPBACK_H

#include <stdint.h>

/* struct usbd_endpoints.event for the loopback */
void usb_loopback_event(uint8_t ep_addr);

#endif
