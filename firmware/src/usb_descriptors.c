#include "usb_descriptors.h"

#include <stddef.h>

#include "hilda/protocol.h"
#include "hilda/usb.h"

#if !defined(HILDA_FW_MAJOR) || !defined(HILDA_FW_MINOR)
#error "the build passes HILDA_FW_MAJOR and HILDA_FW_MINOR (bcdDevice)"
#endif

#define LO(x) ((uint8_t)((x) & 0xFF))
#define HI(x) ((uint8_t)(((x) >> 8) & 0xFF))

#define BCD_DEVICE ((HILDA_FW_MAJOR) << 8 | (HILDA_FW_MINOR))
_Static_assert(HILDA_FW_MAJOR >= 0 && HILDA_FW_MAJOR <= 255 && HILDA_FW_MINOR >= 0 && HILDA_FW_MINOR <= 255,
               "bcdDevice holds major and minor in one byte each");

/* bcdUSB 2.01, not 2.00: a device with a BOS descriptor must claim at least
 * 2.01 (USB 2.0 LPM ECN), and Windows only asks for the BOS when it does. */
static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
    USB_DT_DEVICE_SIZE, USB_DT_DEVICE, LO(0x0201), HI(0x0201),
    0x00, 0x00, 0x00,                 /* class per interface */
    HILDA_EP0_PACKET,
    LO(HILDA_USB_VID), HI(HILDA_USB_VID), LO(HILDA_USB_PID), HI(HILDA_USB_PID),
    LO(BCD_DEVICE), HI(BCD_DEVICE),
    1, 2, 3,                          /* iManufacturer, iProduct, iSerialNumber */
    1,                                /* bNumConfigurations */
};

#define CONFIG_TOTAL (USB_DT_CONFIG_SIZE + USB_DT_INTERFACE_SIZE + 2 * USB_DT_ENDPOINT_SIZE)

static const uint8_t config_desc[CONFIG_TOTAL] = {
    USB_DT_CONFIG_SIZE, USB_DT_CONFIG, LO(CONFIG_TOTAL), HI(CONFIG_TOTAL),
    1, USB_DESC_CONFIG_VALUE, 0,
    USB_CONFIG_ATT_ONE,               /* bus-powered, no remote wakeup (b7 must be set) */
    50,                               /* 100 mA, in 2 mA units */
    USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, USB_DESC_INTERFACE, 0, 2, USB_CLASS_VENDOR_SPEC, 0x00, 0x00, 4,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, USB_DESC_EP_BULK_IN, USB_EP_XFER_BULK, LO(USB_FS_BULK_MAX_PACKET), HI(USB_FS_BULK_MAX_PACKET), 0,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, USB_DESC_EP_BULK_OUT, USB_EP_XFER_BULK, LO(USB_FS_BULK_MAX_PACKET), HI(USB_FS_BULK_MAX_PACKET), 0,
};

#define BOS_TOTAL (USB_DT_BOS_SIZE + 7)

/* USB 2.0 Extension with bmAttributes 0: no LPM, which the USBD does not do. */
static const uint8_t bos_desc[BOS_TOTAL] = {
    USB_DT_BOS_SIZE, USB_DT_BOS, LO(BOS_TOTAL), HI(BOS_TOTAL), 1,
    7, USB_DT_DEVICE_CAPABILITY, USB_CAP_USB20_EXT, 0, 0, 0, 0,
};

static const uint8_t langid_desc[4] = { 4, USB_DT_STRING, LO(USB_DESC_LANGID), HI(USB_DESC_LANGID) };

/* Filled by usb_descriptors_init; a RAM copy because it depends on the chip. */
static char serial[USB_DESC_SERIAL_LEN];

struct ascii { const char *text; uint8_t len; };
#define ASCII(s) { s, sizeof s - 1 }

/* Indices 1.. : stored as ASCII, widened to UTF-16LE when copied. */
static const struct ascii strings[USB_DESC_STRING_COUNT - 1] = {
    ASCII("hilda"),
    ASCII("hilda nRF52840 test dongle"),
    { serial, sizeof serial },
    ASCII("hilda vendor loopback"),
};

/* Writes stop at max, so no descriptor can overrun the caller's buffer; len
 * then is exactly what the host gets, min(max, descriptor length). */
struct sink { uint8_t *buf; uint16_t max, len; };

static void put(struct sink *s, uint8_t byte)
{
    if (s->len < s->max)
        s->buf[s->len++] = byte;
}

static void put_bytes(struct sink *s, const uint8_t *p, size_t n)
{
    while (n--)
        put(s, *p++);
}

/* ascii NULL: the variants' filler, a repeating A..Z that shows where a host
 * cut the string. The body is the UTF-16LE expansion cut to bLength - 2 bytes,
 * so an odd bLength ends with the low byte of one more character. */
static void put_string(struct sink *s, const char *ascii, uint8_t blength)
{
    put(s, blength);
    put(s, USB_DT_STRING);
    for (unsigned k = 0; k + 2 < blength; k++)
        put(s, (k & 1) ? 0 : ascii ? (uint8_t)ascii[k / 2] : (uint8_t)('A' + k / 2 % 26));
}

/* Configuration 1 grown to total bytes by one vendor-specific descriptor (type
 * 0xFF, bLength = the padding) after the endpoints, so that wTotalLength is
 * still the sum of the bLengths. Hosts skip descriptor types they do not know
 * (USB 2.0 §9.6.3). Generated, not tabled, to keep flash small. */
static void put_config_padded(struct sink *s, uint8_t total)
{
    uint8_t pad = (uint8_t)(total - CONFIG_TOTAL);

    put_bytes(s, config_desc, 2);
    put(s, total);
    put(s, 0);
    put_bytes(s, config_desc + 4, CONFIG_TOTAL - 4);
    put(s, pad);
    put(s, 0xFF);
    for (uint8_t i = 0; i + 2 < pad; i++)
        put(s, i);
}

/* The serial is DEVICEID[1]:DEVICEID[0] as one 64-bit number in uppercase hex,
 * most significant digit first: the form Nordic's bootloader reports, so the
 * dongle shows the same serial in both modes. device_id is little-endian, so
 * the most significant byte is device_id[7]. */
void usb_descriptors_serial(const uint8_t device_id[8], char out[USB_DESC_SERIAL_LEN])
{
    static const char hex[16] = "0123456789ABCDEF";

    for (unsigned i = 0; i < 8; i++) {
        uint8_t b = device_id[7 - i];
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 0x0F];
    }
}

void usb_descriptors_init(const uint8_t device_id[8])
{
    usb_descriptors_serial(device_id, serial);
}

int usb_string_copy(const char *ascii, uint8_t len, uint8_t *buf, uint16_t max)
{
    struct sink s = { buf, max, 0 };

    put_string(&s, ascii, (uint8_t)(2 + 2 * len));
    return s.len;
}

int usb_descriptor_copy(uint8_t type, uint8_t index, uint8_t *buf, uint16_t max)
{
    struct sink s = { buf, max, 0 };

    if (type == USB_DT_STRING) {
        if (index >= USB_DESC_STRING_COUNT)
            return -1;
        if (index == 0)
            put_bytes(&s, langid_desc, sizeof langid_desc);
        else
            put_string(&s, strings[index - 1].text, (uint8_t)(2 + 2 * strings[index - 1].len));
        return s.len;
    }
    if (index != 0)
        return -1;
    switch (type) {
    case USB_DT_DEVICE:
        put_bytes(&s, device_desc, sizeof device_desc);
        break;
    case USB_DT_CONFIG:
        put_bytes(&s, config_desc, sizeof config_desc);
        break;
    case USB_DT_BOS:
        put_bytes(&s, bos_desc, sizeof bos_desc);
        break;
    default:    /* DEVICE_QUALIFIER, OTHER_SPEED: full-speed only (§7.4) */
        return -1;
    }
    return s.len;
}

int usb_descriptor_variant_copy(uint16_t variant, uint8_t *buf, uint16_t max)
{
    struct sink s = { buf, max, 0 };

    switch (variant) {
    case HILDA_VARIANT_CONFIG_64:
        put_config_padded(&s, 64);
        break;
    case HILDA_VARIANT_CONFIG_128:
        put_config_padded(&s, 128);
        break;
    case HILDA_VARIANT_STRING_254:
        put_string(&s, NULL, 254);
        break;
    case HILDA_VARIANT_STRING_255:
        put_string(&s, NULL, 255);
        break;
    case HILDA_VARIANT_STRING_64:
        put_string(&s, NULL, 64);
        break;
    default:
        return -1;
    }
    return s.len;
}
