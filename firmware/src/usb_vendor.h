/* The hilda vendor test protocol (include/hilda/protocol.h, docs/protocol.md):
 * the vendor-type requests that usb_device hands over, and the fault injection
 * they arm, which usb_device applies to the next request of any type. */
#ifndef HILDA_USB_VENDOR_H
#define HILDA_USB_VENDOR_H

#include <stdbool.h>
#include <stdint.h>

#include "usb_device.h"

struct usb_fault {
    bool stall;          /* HILDA_REQ_FAULT_STALL: STALL the next request */
    uint16_t delay_ms;   /* HILDA_REQ_FAULT_DELAY: delay the next reply; 0 = none */
};

/* Forgets the echo buffer and any armed fault. */
void usb_vendor_init(const struct usb_device_hw *hw);

/* Same contract as usb_device_setup / usb_device_out_done, for vendor-type
 * requests; usb_device has already checked wLength <= HILDA_EP0_MAX_DATA (and
 * len <= wLength) and applies truncation to wLength and the ZLP rule. */
struct usb_reply usb_vendor_setup(const struct usb_setup *setup, uint8_t *buf);
struct usb_reply usb_vendor_out_done(const struct usb_setup *setup, const uint8_t *buf, uint16_t len);

/* Returns the armed fault and disarms it: each fault applies exactly once. */
struct usb_fault usb_vendor_take_fault(void);

#endif
