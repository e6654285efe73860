/* SETUP packet decoding (USB 2.0 §9.3; reference §7.1) and the chapter 9
 * constants the device logic and its tests share. */
#ifndef HILDA_USB_REQUEST_H
#define HILDA_USB_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

struct usb_setup {
    uint8_t bmRequestType;
    uint8_t bRequest;
    uint16_t wValue;
    uint16_t wIndex;
    uint16_t wLength;
};

enum usb_dir { USB_DIR_OUT = 0, USB_DIR_IN = 1 };
enum usb_type { USB_TYPE_STANDARD = 0, USB_TYPE_CLASS = 1, USB_TYPE_VENDOR = 2, USB_TYPE_RESERVED = 3 };
enum usb_recipient { USB_RECIP_DEVICE = 0, USB_RECIP_INTERFACE = 1, USB_RECIP_ENDPOINT = 2, USB_RECIP_OTHER = 3 };

/* bRequest (standard) */
#define USB_REQ_GET_STATUS        0x00
#define USB_REQ_CLEAR_FEATURE     0x01
#define USB_REQ_SET_FEATURE       0x03
#define USB_REQ_SET_ADDRESS       0x05
#define USB_REQ_GET_DESCRIPTOR    0x06
#define USB_REQ_SET_DESCRIPTOR    0x07
#define USB_REQ_GET_CONFIGURATION 0x08
#define USB_REQ_SET_CONFIGURATION 0x09
#define USB_REQ_GET_INTERFACE     0x0A
#define USB_REQ_SET_INTERFACE     0x0B
#define USB_REQ_SYNCH_FRAME       0x0C

/* descriptor types */
#define USB_DT_DEVICE             0x01
#define USB_DT_CONFIGURATION      0x02
#define USB_DT_STRING             0x03
#define USB_DT_INTERFACE          0x04
#define USB_DT_ENDPOINT           0x05
#define USB_DT_DEVICE_QUALIFIER   0x06
#define USB_DT_OTHER_SPEED_CONFIG 0x07
#define USB_DT_BOS                0x0F
#define USB_DT_DEVICE_CAPABILITY  0x10

/* feature selectors */
#define USB_FEATURE_ENDPOINT_HALT        0
#define USB_FEATURE_DEVICE_REMOTE_WAKEUP 1
#define USB_FEATURE_TEST_MODE            2

/* raw: the 8 bytes in wire order */
void usb_setup_decode(const uint8_t raw[8], struct usb_setup *out);

enum usb_dir usb_setup_dir(const struct usb_setup *s);
enum usb_type usb_setup_type(const struct usb_setup *s);
enum usb_recipient usb_setup_recipient(const struct usb_setup *s);

/* §3.2: a control read of len bytes answering wLength ends with a ZLP iff
 * len < wLength and len is a multiple of the packet size (len 0 included). */
bool usb_needs_zlp(uint16_t len, uint16_t wLength, uint16_t max_packet);

#endif
