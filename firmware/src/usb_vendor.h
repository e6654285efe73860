/* The hilda vendor test protocol (include/hilda/protocol.h, docs/protocol.md):
 * the application's USB function (struct usb_function) — its descriptors
 * (usb_descriptors.c), the vendor-type requests that usb_device hands over,
 * and the fault injection they arm, which usb_device applies to the next
 * request of any type. The bulk EP1 loopback is the firmware's (usb_loopback.c). */
#ifndef HILDA_USB_VENDOR_H
#define HILDA_USB_VENDOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usb_device.h"

/* What the vendor requests reach beyond USB: the UART bridge and the board. */
struct usb_vendor_hw {
    size_t (*uart_write)(const uint8_t *data, size_t len);  /* bytes accepted */
    size_t (*uart_read)(uint8_t *data, size_t len);          /* bytes returned */
    bool (*uart_set_baud)(uint32_t baud);
    void (*uart_status)(struct hilda_uart_status *status);
    void (*reboot)(bool into_bootloader);   /* must let the status stage finish first */
    /* HILDA_REQ_SET_PERSONALITY with checked arguments: must let the status
     * stage finish first, then detach, switch and re-attach. */
    void (*set_personality)(uint8_t personality, uint8_t pattern);
};

/* The hilda test function: configuration 1, interface 0 (vendor class) with
 * the bulk pair USB_DESC_EP_BULK_IN/OUT. */
extern const struct usb_function usb_vendor_function;

/* The image-info block with this build's version (in flash). */
extern const struct hilda_image_info hilda_image_info;

/* Forgets the echo buffer and any armed fault. */
void usb_vendor_init(const struct usb_vendor_hw *hw);

/* Same contract as usb_device_setup / usb_device_out_done, for vendor-type
 * requests; usb_device has already checked wLength <= HILDA_EP0_MAX_DATA (and
 * len <= wLength) and applies truncation to wLength and the ZLP rule. */
struct usb_reply usb_vendor_setup(const struct usb_setup *setup, uint8_t *buf);
struct usb_reply usb_vendor_out_done(const struct usb_setup *setup, const uint8_t *buf, uint16_t len);

/* Returns the armed fault (HILDA_REQ_FAULT_STALL / FAULT_DELAY) and disarms
 * it: each fault applies exactly once. */
struct usb_fault usb_vendor_take_fault(void);

#endif
