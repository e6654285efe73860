/* CDC ACM (USB CDC 1.2, PSTN 1.2) in the shape of Nordic's open bootloader
 * (nRF5 SDK app_usbd_string_config.h, §6.3): interface 0 communications/ACM with EP2 IN interrupt
 * (declared, never sent on: there are no serial state changes to report),
 * interface 1 data with the EP1 bulk pair. Line coding is stored and read
 * back but means nothing on USB; DTR is what counts (as in Nordic's open bootloader: docs/sources.md). */
#include "cdc_acm.h"

#include <string.h>

#include "hilda/bootloader.h"
#include "usb_descriptors.h"

#if !defined(HILDA_FW_MAJOR) || !defined(HILDA_FW_MINOR)
#error "the build passes HILDA_FW_MAJOR and HILDA_FW_MINOR (bcdDevice)"
#endif

#define LO(x) ((uint8_t)((x) & 0xFF))
#define HI(x) ((uint8_t)(((x) >> 8) & 0xFF))
#define CONFIG_VALUE 1
#define LANGID 0x0409

static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
    USB_DT_DEVICE_SIZE, USB_DT_DEVICE, LO(0x0200), HI(0x0200),
    USB_CLASS_COMM, 0x00, 0x00,       /* CDC at device level, as Nordic's */
    USB_FS_EP0_MAX_PACKET,
    LO(HILDA_BOOTLOADER_VID), HI(HILDA_BOOTLOADER_VID), LO(HILDA_BOOTLOADER_PID), HI(HILDA_BOOTLOADER_PID),
    HILDA_FW_MINOR, HILDA_FW_MAJOR,   /* bcdDevice */
    1, 2, 3,                          /* iManufacturer, iProduct, iSerialNumber */
    1,
};

#define CS_HEADER_SIZE 5
#define CS_CALL_SIZE   5
#define CS_ACM_SIZE    4
#define CS_UNION_SIZE  5
#define CONFIG_TOTAL (USB_DT_CONFIG_SIZE + 2 * USB_DT_INTERFACE_SIZE + CS_HEADER_SIZE + CS_CALL_SIZE + \
                      CS_ACM_SIZE + CS_UNION_SIZE + 3 * USB_DT_ENDPOINT_SIZE)

static const uint8_t config_desc[CONFIG_TOTAL] = {
    USB_DT_CONFIG_SIZE, USB_DT_CONFIG, LO(CONFIG_TOTAL), HI(CONFIG_TOTAL), 2, CONFIG_VALUE, 0,
    USB_CONFIG_ATT_ONE, 50,           /* bus-powered, 100 mA */
    USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, HILDA_BOOTLOADER_IF_COMM, 0, 1,
    USB_CLASS_COMM, CDC_SUBCLASS_ACM, CDC_PROTOCOL_NONE, 0,
    CS_HEADER_SIZE, CDC_DT_CS_INTERFACE, CDC_FD_HEADER, LO(0x0110), HI(0x0110),
    CS_CALL_SIZE, CDC_DT_CS_INTERFACE, CDC_FD_CALL_MANAGEMENT, 0x00, HILDA_BOOTLOADER_IF_DATA,
    CS_ACM_SIZE, CDC_DT_CS_INTERFACE, CDC_FD_ACM, CDC_ACM_CAP_LINE,
    CS_UNION_SIZE, CDC_DT_CS_INTERFACE, CDC_FD_UNION, HILDA_BOOTLOADER_IF_COMM, HILDA_BOOTLOADER_IF_DATA,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, HILDA_BOOTLOADER_EP_NOTIFY, USB_EP_XFER_INT,
    LO(HILDA_BOOTLOADER_NOTIFY_SIZE), HI(HILDA_BOOTLOADER_NOTIFY_SIZE), 16,   /* every 16 ms */
    USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, HILDA_BOOTLOADER_IF_DATA, 0, 2,
    USB_CLASS_CDC_DATA, 0x00, 0x00, 0,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, HILDA_BOOTLOADER_EP_OUT, USB_EP_XFER_BULK,
    LO(USB_FS_BULK_MAX_PACKET), HI(USB_FS_BULK_MAX_PACKET), 0,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, HILDA_BOOTLOADER_EP_IN, USB_EP_XFER_BULK,
    LO(USB_FS_BULK_MAX_PACKET), HI(USB_FS_BULK_MAX_PACKET), 0,
};

static const uint8_t langid_desc[4] = { 4, USB_DT_STRING, LO(LANGID), HI(LANGID) };
static const char manufacturer[] = "hilda";
static const char product[] = HILDA_BOOTLOADER_PRODUCT;
static char serial[USB_DESC_SERIAL_LEN];

static uint8_t line_coding[CDC_LINE_CODING_SIZE] = { LO(115200), HI(115200), 0x01, 0x00, 0, 0, 8 };
static bool dtr;
static void (*dtr_changed)(bool);

static int copy(const uint8_t *desc, uint16_t len, uint8_t *buf, uint16_t max)
{
    uint16_t n = len < max ? len : max;
    memcpy(buf, desc, n);
    return n;
}

static int descriptor(uint8_t type, uint8_t index, uint8_t *buf, uint16_t max)
{
    if (type == USB_DT_STRING) {
        switch (index) {
        case 0:
            return copy(langid_desc, sizeof langid_desc, buf, max);
        case 1:
            return usb_string_copy(manufacturer, sizeof manufacturer - 1, buf, max);
        case 2:
            return usb_string_copy(product, sizeof product - 1, buf, max);
        case 3:
            return usb_string_copy(serial, sizeof serial, buf, max);
        default:
            return -1;
        }
    }
    if (index == 0 && type == USB_DT_DEVICE)
        return copy(device_desc, sizeof device_desc, buf, max);
    if (index == 0 && type == USB_DT_CONFIG)
        return copy(config_desc, sizeof config_desc, buf, max);
    return -1;     /* no BOS (bcdUSB 2.00), full speed only */
}

static struct usb_reply reply(enum usb_stage stage, uint16_t len)
{
    struct usb_reply r = { stage, len, false, 0 };
    return r;
}

static void set_dtr(bool on)
{
    if (on == dtr)
        return;
    dtr = on;
    if (dtr_changed)
        dtr_changed(on);
}

/* Only the three requests of ACM_CAP_LINE, to the communications interface. */
static struct usb_reply setup(const struct usb_setup *s, uint8_t *buf)
{
    if (s->wIndex != HILDA_BOOTLOADER_IF_COMM)
        return reply(USB_STAGE_STALL, 0);
    if (s->bmRequestType == CDC_REQTYPE_IN && s->bRequest == CDC_REQ_GET_LINE_CODING) {
        uint16_t n = s->wLength < sizeof line_coding ? s->wLength : sizeof line_coding;
        memcpy(buf, line_coding, n);
        return reply(USB_STAGE_DATA_IN, n);
    }
    if (s->bmRequestType != CDC_REQTYPE_OUT)
        return reply(USB_STAGE_STALL, 0);
    if (s->bRequest == CDC_REQ_SET_LINE_CODING && s->wLength == sizeof line_coding)
        return reply(USB_STAGE_DATA_OUT, s->wLength);
    if (s->bRequest == CDC_REQ_SET_CONTROL_LINE_STATE && s->wLength == 0) {
        set_dtr(s->wValue & CDC_CONTROL_LINE_DTR);
        return reply(USB_STAGE_STATUS, 0);
    }
    return reply(USB_STAGE_STALL, 0);
}

static struct usb_reply out_done(const struct usb_setup *s, const uint8_t *buf, uint16_t len)
{
    if (s->bRequest != CDC_REQ_SET_LINE_CODING || len != sizeof line_coding)
        return reply(USB_STAGE_STALL, 0);
    memcpy(line_coding, buf, len);
    return reply(USB_STAGE_STATUS, 0);
}

static void configured(bool on)
{
    if (!on)
        set_dtr(false);
}

static const struct usb_function_ep endpoints[] = {
    { HILDA_BOOTLOADER_EP_NOTIFY, HILDA_BOOTLOADER_IF_COMM },
    { HILDA_BOOTLOADER_EP_IN, HILDA_BOOTLOADER_IF_DATA },
    { HILDA_BOOTLOADER_EP_OUT, HILDA_BOOTLOADER_IF_DATA },
};

const struct usb_function cdc_acm_function = {
    .config_value = CONFIG_VALUE,
    .interfaces = 2,
    .endpoints = endpoints,
    .endpoint_count = sizeof endpoints / sizeof endpoints[0],
    .langid = LANGID,
    .descriptor = descriptor,
    .setup = setup,
    .out_done = out_done,
    .configured = configured,
};

void cdc_acm_init(const uint8_t device_id[8], void (*on_dtr)(bool))
{
    usb_descriptors_serial(device_id, serial);
    dtr = false;
    dtr_changed = on_dtr;
}
