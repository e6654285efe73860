/* The Gadget Zero personality (HILDA_REQ_SET_PERSONALITY, docs/protocol.md):
 * the device as Linux's g_zero presents its source/sink configuration, so
 * that the stock usbtest.ko binds it. EP1 IN is the source (always a packet
 * of the pattern ready), EP1 OUT the sink (checks the pattern); EP0 serves
 * usbtest's control write/read (0x5B/0x5C, hilda's echo buffer) and
 * HILDA_REQ_SET_PERSONALITY, nothing else of the hilda vendor protocol. */
#ifndef HILDA_USB_GADGET_ZERO_H
#define HILDA_USB_GADGET_ZERO_H

#include <stdbool.h>
#include <stdint.h>

#include "usb_device.h"

#define USB_GZ_CONFIG_VALUE     3   /* g_zero's source/sink configuration */

/* What the source and sink need of the device controller (usbd.h on the
 * chip, fakes in the unit tests), and chapter 9's hooks, which this module
 * wraps (usb_gadget_zero_device_hw). */
struct usb_gadget_zero_hw {
    bool (*ep_write)(uint8_t ep_addr, uint8_t *buf, uint16_t len);
    bool (*ep_in_busy)(uint8_t ep_addr);
    int (*ep_read)(uint8_t ep_addr, uint8_t *buf, uint16_t max);
    bool (*ep_out_waiting)(uint8_t ep_addr);
    struct usb_device_hw device;
};

/* The function for usb_device_init, and the device controller to use with
 * it: the controller's own, except that clearing the source's halt loads the
 * next packet at once (the source never runs dry). */
extern const struct usb_function usb_gadget_zero_function;
extern const struct usb_device_hw usb_gadget_zero_device_hw;

/* pattern: HILDA_GZ_PATTERN_*. Zeroes the sink's error count. */
void usb_gadget_zero_init(const struct usb_gadget_zero_hw *hw, uint8_t pattern);

/* Byte j of every packet, in both directions: 0, or (j % 64) % 63 (mod63). */
uint8_t usb_gadget_zero_pattern_byte(uint8_t pattern, uint16_t j);

/* struct usbd_endpoints.event: the source refills, the sink drains and checks. */
void usb_gadget_zero_event(uint8_t ep_addr);

/* OUT packets that did not match the pattern since usb_gadget_zero_init. */
uint32_t usb_gadget_zero_sink_errors(void);

#endif
