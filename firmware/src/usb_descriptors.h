/* The descriptors the device serves (USB 2.0 §9.6) and the
 * stress variants of HILDA_REQ_GET_VARIANT. The tables are const, so they live
 * in flash, which EasyDMA cannot read (nRF52840 PS "EasyDMA"): every lookup
 * copies into the caller's RAM buffer. docs/protocol.md lists the bytes. */
#ifndef HILDA_USB_DESCRIPTORS_H
#define HILDA_USB_DESCRIPTORS_H

#include <stdint.h>

/* What configuration 1 declares; chapter 9 validates requests against it. */
#define USB_DESC_CONFIG_VALUE   1
#define USB_DESC_INTERFACE      0
#define USB_DESC_EP_BULK_IN     0x81
#define USB_DESC_EP_BULK_OUT    0x01
#define USB_DESC_STRING_COUNT   5        /* indices 0 (LANGID list) .. 4 */
#define USB_DESC_LANGID         0x0409   /* English (United States) */

#define USB_DESC_SERIAL_LEN     16       /* hex digits of the 64-bit device ID */

/* device_id: FICR DEVICEID[0..1] as 8 little-endian bytes; the serial number
 * string (index 3) is derived from it. */
void usb_descriptors_init(const uint8_t device_id[8]);

/* The serial number string of a device ID, in ASCII (no terminator): shared
 * with the bootloader, so a dongle shows one serial in both modes. */
void usb_descriptors_serial(const uint8_t device_id[8], char out[USB_DESC_SERIAL_LEN]);

/* A string descriptor of len ASCII characters (len <= 126), widened to
 * UTF-16LE, copied into buf (at most max bytes): returns the bytes copied. */
int usb_string_copy(const char *ascii, uint8_t len, uint8_t *buf, uint16_t max);

/* Copy descriptor (type, index) into buf, at most max bytes. Returns the bytes
 * copied (min(max, descriptor length)), or -1 if the device has no such
 * descriptor. Strings are returned for any LANGID: checking wIndex is the
 * caller's business. */
int usb_descriptor_copy(uint8_t type, uint8_t index, uint8_t *buf, uint16_t max);

/* The same for stress variant HILDA_VARIANT_*; -1 for an unknown variant. */
int usb_descriptor_variant_copy(uint16_t variant, uint8_t *buf, uint16_t max);

#endif
