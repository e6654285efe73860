/* The USB 2.0 chapter-9 vocabulary: the one definition that the firmware,
 * the emulator, the host tool and (through rig/usb_vocab.py, which reads
 * this file) the Python tests share. Values are from the USB 2.0
 * specification, chapter 9 (tables 9-2 to 9-6) and the BOS additions of
 * USB 3.2 chapter 9; names follow the Linux kernel's <linux/usb/ch9.h> where
 * it has one, so a reader of either recognises them.
 *
 * Plain C99, no allocation, no host headers beyond <stdint.h>/<stdbool.h>:
 * it is compiled into the firmware as well. Do not include it together with
 * <linux/usb/ch9.h>; nothing here needs that header. */
#ifndef HILDA_USB_H
#define HILDA_USB_H

#include <stdbool.h>
#include <stdint.h>

/* bmRequestType (§9.3.1): direction, type and recipient fields. */
#define USB_DIR_MASK               0x80
#define USB_DIR_OUT                0x00     /* host to device */
#define USB_DIR_IN                 0x80     /* device to host */
#define USB_TYPE_MASK              0x60
#define USB_TYPE_STANDARD          0x00
#define USB_TYPE_CLASS             0x20
#define USB_TYPE_VENDOR            0x40
#define USB_TYPE_RESERVED          0x60
#define USB_RECIP_MASK             0x1F     /* 4..31 are reserved: keep them distinguishable */
#define USB_RECIP_DEVICE           0x00
#define USB_RECIP_INTERFACE        0x01
#define USB_RECIP_ENDPOINT         0x02
#define USB_RECIP_OTHER            0x03

/* The bmRequestType values chapter 9's standard requests use. */
#define USB_RT_DEVICE_IN           (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_DEVICE)          /* 0x80 */
#define USB_RT_DEVICE_OUT          (USB_DIR_OUT | USB_TYPE_STANDARD | USB_RECIP_DEVICE)         /* 0x00 */
#define USB_RT_INTERFACE_IN        (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_INTERFACE)       /* 0x81 */
#define USB_RT_INTERFACE_OUT       (USB_DIR_OUT | USB_TYPE_STANDARD | USB_RECIP_INTERFACE)      /* 0x01 */
#define USB_RT_ENDPOINT_IN         (USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_ENDPOINT)        /* 0x82 */
#define USB_RT_ENDPOINT_OUT        (USB_DIR_OUT | USB_TYPE_STANDARD | USB_RECIP_ENDPOINT)       /* 0x02 */
#define USB_RT_VENDOR_DEVICE_IN    (USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_DEVICE)            /* 0xC0 */
#define USB_RT_VENDOR_DEVICE_OUT   (USB_DIR_OUT | USB_TYPE_VENDOR | USB_RECIP_DEVICE)           /* 0x40 */

/* The standard requests (table 9-4): X(NAME, bRequest). Every name table is
 * generated from this list; USB_REQ_<NAME> is the code. */
#define USB_STANDARD_REQUESTS(X) \
    X(GET_STATUS,        0x00) \
    X(CLEAR_FEATURE,     0x01) \
    X(SET_FEATURE,       0x03) \
    X(SET_ADDRESS,       0x05) \
    X(GET_DESCRIPTOR,    0x06) \
    X(SET_DESCRIPTOR,    0x07) \
    X(GET_CONFIGURATION, 0x08) \
    X(SET_CONFIGURATION, 0x09) \
    X(GET_INTERFACE,     0x0A) \
    X(SET_INTERFACE,     0x0B) \
    X(SYNCH_FRAME,       0x0C)

enum usb_request {
#define USB_REQ_ENUMERATOR(name, code) USB_REQ_##name = code,
    USB_STANDARD_REQUESTS(USB_REQ_ENUMERATOR)
#undef USB_REQ_ENUMERATOR
};

/* Descriptor types (table 9-5; BOS and capability: USB 3.2 table 9-6):
 * X(NAME, bDescriptorType); USB_DT_<NAME> is the code. */
#define USB_DESCRIPTOR_TYPES(X) \
    X(DEVICE,             0x01) \
    X(CONFIG,             0x02) \
    X(STRING,             0x03) \
    X(INTERFACE,          0x04) \
    X(ENDPOINT,           0x05) \
    X(DEVICE_QUALIFIER,   0x06) \
    X(OTHER_SPEED_CONFIG, 0x07) \
    X(INTERFACE_POWER,    0x08) \
    X(OTG,                0x09) \
    X(DEBUG,              0x0A) \
    X(INTERFACE_ASSOC,    0x0B) \
    X(BOS,                0x0F) \
    X(DEVICE_CAPABILITY,  0x10) \
    X(SS_EP_COMPANION,    0x30)

enum usb_descriptor_type {
#define USB_DT_ENUMERATOR(name, code) USB_DT_##name = code,
    USB_DESCRIPTOR_TYPES(USB_DT_ENUMERATOR)
#undef USB_DT_ENUMERATOR
};

/* Fixed descriptor lengths (bLength). */
#define USB_DT_DEVICE_SIZE         18
#define USB_DT_CONFIG_SIZE         9
#define USB_DT_INTERFACE_SIZE      9
#define USB_DT_ENDPOINT_SIZE       7
#define USB_DT_DEVICE_QUALIFIER_SIZE 10
#define USB_DT_INTERFACE_ASSOC_SIZE 8
#define USB_DT_BOS_SIZE            5
#define USB_DT_STRING_MAX          255     /* bLength is one byte */

/* Device capability types (bDevCapabilityType, USB 3.2 table 9-14). */
#define USB_CAP_USB20_EXT          0x02
#define USB_CAP_SUPERSPEED         0x03
#define USB_CAP_CONTAINER_ID       0x04
#define USB_CAP_PLATFORM           0x05

/* Feature selectors (table 9-6). */
#define USB_FEATURE_ENDPOINT_HALT        0
#define USB_FEATURE_DEVICE_REMOTE_WAKEUP 1
#define USB_FEATURE_TEST_MODE            2

/* GET_STATUS answer bits (figures 9-4 and 9-6). */
#define USB_STATUS_SELF_POWERED    0x0001
#define USB_STATUS_REMOTE_WAKEUP   0x0002
#define USB_STATUS_ENDPOINT_HALT   0x0001

/* Configuration bmAttributes (table 9-10). */
#define USB_CONFIG_ATT_ONE         0x80    /* reserved, must be set */
#define USB_CONFIG_ATT_SELFPOWER   0x40
#define USB_CONFIG_ATT_WAKEUP      0x20

/* Endpoint address and attributes (table 9-13). */
#define USB_EP_DIR_IN              0x80
#define USB_EP_NUM_MASK            0x0F
#define USB_EP_XFER_MASK           0x03
#define USB_EP_XFER_CONTROL        0x00
#define USB_EP_XFER_ISOC           0x01
#define USB_EP_XFER_BULK           0x02
#define USB_EP_XFER_INT            0x03

/* Class codes used by the project's devices and checks (usb.org class codes). */
#define USB_CLASS_PER_INTERFACE    0x00
#define USB_CLASS_COMM             0x02
#define USB_CLASS_CDC_DATA         0x0A
#define USB_CLASS_MISC             0xEF
#define USB_CLASS_VENDOR_SPEC      0xFF

/* Full speed (§5.5.3, §5.8.3): EP0's largest packet and a bulk endpoint's. */
#define USB_FS_EP0_MAX_PACKET      64
#define USB_FS_BULK_MAX_PACKET     64

/* wValue of GET_DESCRIPTOR: the type in the high byte, the index in the low. */
#define USB_DESC_VALUE(type, index) ((uint16_t)(((unsigned)(type) << 8) | ((unsigned)(index) & 0xFF)))

/* The SETUP packet (§9.3), decoded into host order. */
struct usb_setup {
    uint8_t bmRequestType;
    uint8_t bRequest;
    uint16_t wValue;
    uint16_t wIndex;
    uint16_t wLength;
};

#define USB_SETUP_SIZE 8

/* Little-endian helpers, byte by byte so the result does not depend on the
 * machine's byte order (the firmware's unit tests run natively). */
static inline uint16_t usb_get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline void usb_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t usb_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void usb_put_le32(uint8_t *p, uint32_t v)
{
    usb_put_le16(p, (uint16_t)v);
    usb_put_le16(p + 2, (uint16_t)(v >> 16));
}

/* raw: the 8 bytes in wire order. */
static inline struct usb_setup usb_setup_decode(const uint8_t raw[USB_SETUP_SIZE])
{
    struct usb_setup s = {
        .bmRequestType = raw[0],
        .bRequest = raw[1],
        .wValue = usb_get_le16(raw + 2),
        .wIndex = usb_get_le16(raw + 4),
        .wLength = usb_get_le16(raw + 6),
    };
    return s;
}

static inline void usb_setup_encode(const struct usb_setup *s, uint8_t raw[USB_SETUP_SIZE])
{
    raw[0] = s->bmRequestType;
    raw[1] = s->bRequest;
    usb_put_le16(raw + 2, s->wValue);
    usb_put_le16(raw + 4, s->wIndex);
    usb_put_le16(raw + 6, s->wLength);
}

static inline bool usb_setup_is_in(const struct usb_setup *s)
{
    return (s->bmRequestType & USB_DIR_MASK) == USB_DIR_IN;
}

/* One of USB_TYPE_STANDARD .. USB_TYPE_RESERVED. */
static inline uint8_t usb_setup_type(const struct usb_setup *s)
{
    return (uint8_t)(s->bmRequestType & USB_TYPE_MASK);
}

/* USB_RECIP_*; not masked to two bits: the reserved recipients 4..31 must
 * stay distinguishable so that callers can reject them. */
static inline uint8_t usb_setup_recipient(const struct usb_setup *s)
{
    return (uint8_t)(s->bmRequestType & USB_RECIP_MASK);
}

/* A standard request with this bRequest and bmRequestType: the test the
 * emulator and the bridge make on a SETUP they must react to (SET_ADDRESS,
 * SET_CONFIGURATION, CLEAR_FEATURE(HALT)...). */
static inline bool usb_setup_is(const struct usb_setup *s, uint8_t bmRequestType, uint8_t bRequest)
{
    return s->bmRequestType == bmRequestType && s->bRequest == bRequest;
}

/* §5.5.3 / §8.5.3: a control read of len bytes answering wLength ends with a
 * zero-length packet iff len < wLength and len is a multiple of the packet
 * size (len 0 included). */
static inline bool usb_needs_zlp(uint16_t len, uint16_t wLength, uint16_t max_packet)
{
    return max_packet != 0 && len < wLength && len % max_packet == 0;
}

#endif
