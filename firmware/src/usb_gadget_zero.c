/* Gadget Zero's source/sink, on hilda's chapter-9 core. The data pattern is
 * per packet, as usbtest.c (simple_fill_buf/simple_check_buf) and Linux's
 * f_sourcesink define mod63: byte i of a transfer is (i % maxpacket) % 63, so
 * with 64-byte packets every packet is the same 0, 1, .., 62, 0 (a short
 * packet its prefix). The device never needs to know where the host's
 * transfers begin, and one constant buffer is the source's every packet. */
#include "usb_gadget_zero.h"

#include "dma.h"
#include "usb_descriptors.h"
#include "usb_vendor.h"
#include "hilda/protocol.h"
#include "hilda/usb.h"

#define LO(x) ((uint8_t)((x) & 0xFF))
#define HI(x) ((uint8_t)(((x) >> 8) & 0xFF))

#define BCD_DEVICE ((HILDA_FW_MAJOR) << 8 | (HILDA_FW_MINOR))
#define EP_IN   USB_DESC_EP_BULK_IN
#define EP_OUT  USB_DESC_EP_BULK_OUT

/* bcdUSB 2.00 like g_zero at full speed: no BOS. */
static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
    USB_DT_DEVICE_SIZE, USB_DT_DEVICE, LO(0x0200), HI(0x0200),
    USB_CLASS_VENDOR_SPEC, 0x00, 0x00, /* as g_zero */
    HILDA_EP0_PACKET,
    LO(HILDA_GZ_USB_VID), HI(HILDA_GZ_USB_VID), LO(HILDA_GZ_USB_PID), HI(HILDA_GZ_USB_PID),
    LO(BCD_DEVICE), HI(BCD_DEVICE),
    1, 2, 3,                           /* iManufacturer, iProduct, iSerialNumber */
    1,
};

#define CONFIG_TOTAL (USB_DT_CONFIG_SIZE + USB_DT_INTERFACE_SIZE + 2 * USB_DT_ENDPOINT_SIZE)

static const uint8_t config_desc[CONFIG_TOTAL] = {
    USB_DT_CONFIG_SIZE, USB_DT_CONFIG, LO(CONFIG_TOTAL), HI(CONFIG_TOTAL),
    1, USB_GZ_CONFIG_VALUE, 4,
    USB_CONFIG_ATT_ONE,
    50,
    USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, USB_DESC_INTERFACE, 0, 2, USB_CLASS_VENDOR_SPEC, 0x00, 0x00, 4,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, EP_IN, USB_EP_XFER_BULK, LO(USB_FS_BULK_MAX_PACKET), HI(USB_FS_BULK_MAX_PACKET), 0,
    USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, EP_OUT, USB_EP_XFER_BULK, LO(USB_FS_BULK_MAX_PACKET), HI(USB_FS_BULK_MAX_PACKET), 0,
};

struct ascii { const char *text; uint8_t len; };
#define ASCII(s) { s, sizeof s - 1 }

/* Indices 1, 2 and 4; 0 (LANGID) and 3 (serial) are hilda's own. */
static const struct ascii strings[] = {
    ASCII("hilda"),
    ASCII("Gadget Zero (hilda)"),
    { 0, 0 },
    ASCII("source and sink data"),
};
#define SERIAL_INDEX 3

static const struct usb_gadget_zero_hw *hw;
static uint8_t pattern;
static uint32_t sink_errors;
DMA_BUFFER static uint8_t source_buf[USB_FS_BULK_MAX_PACKET];
DMA_BUFFER static uint8_t sink_buf[USB_FS_BULK_MAX_PACKET];

static int copy(const uint8_t *src, uint16_t n, uint8_t *buf, uint16_t max)
{
    if (n > max)
        n = max;
    for (uint16_t i = 0; i < n; i++)
        buf[i] = src[i];
    return n;
}

static int descriptor(uint8_t type, uint8_t index, uint8_t *buf, uint16_t max)
{
    if (type == USB_DT_STRING) {
        if (index == 0 || index == SERIAL_INDEX)
            return usb_descriptor_copy(type, index, buf, max);
        if (index > sizeof strings / sizeof strings[0])
            return -1;
        return usb_string_copy(strings[index - 1].text, strings[index - 1].len, buf, max);
    }
    if (index != 0)
        return -1;
    if (type == USB_DT_DEVICE)
        return copy(device_desc, sizeof device_desc, buf, max);
    if (type == USB_DT_CONFIG)
        return copy(config_desc, sizeof config_desc, buf, max);
    return -1;
}

uint8_t usb_gadget_zero_pattern_byte(uint8_t p, uint16_t j)
{
    return p == HILDA_GZ_PATTERN_MOD63 ? (uint8_t)(j % USB_FS_BULK_MAX_PACKET % 63) : 0;
}

/* The source: a packet always loaded while configured and not halted. */
static void source(void)
{
    if (!hw->ep_in_busy(EP_IN) && !hw->device.halted(EP_IN))
        (void)hw->ep_write(EP_IN, source_buf, sizeof source_buf);
}

/* The sink: like f_sourcesink's check_read_data, a bad packet halts the
 * endpoint (the host sees EPIPE) and is counted. */
static void sink(void)
{
    int got = hw->ep_read(EP_OUT, sink_buf, sizeof sink_buf);

    for (int j = 0; j < got; j++) {
        if (sink_buf[j] != usb_gadget_zero_pattern_byte(pattern, (uint16_t)j)) {
            sink_errors++;
            hw->device.set_halt(EP_OUT, true);
            return;
        }
    }
}

void usb_gadget_zero_event(uint8_t ep_addr)
{
    if (ep_addr == EP_IN)
        source();
    else if (ep_addr == EP_OUT && hw->ep_out_waiting(EP_OUT))
        sink();
}

static void configured(bool on)
{
    if (on)
        source();
}

/* usbtest's halt tests (13) clear the source's halt and then read from it. */
static void set_halt(uint8_t ep_addr, bool halt)
{
    hw->device.set_halt(ep_addr, halt);
    if (!halt && ep_addr == EP_IN)
        source();
}

static bool halted(uint8_t ep_addr)
{
    return hw->device.halted(ep_addr);
}

static void set_configured(bool on)
{
    hw->device.set_configured(on);
}

const struct usb_device_hw usb_gadget_zero_device_hw = {
    .set_halt = set_halt,
    .halted = halted,
    .set_configured = set_configured,
};

/* usbtest's control write/read (0x5B/0x5C) are hilda's echo requests under
 * other numbers: renamed here and served by usb_vendor.c, as is
 * SET_PERSONALITY; every other vendor request is a Request Error. */
static bool translate(const struct usb_setup *s, struct usb_setup *t)
{
    *t = *s;
    if (s->bmRequestType == HILDA_REQTYPE_OUT && s->bRequest == HILDA_GZ_REQ_ECHO_WRITE)
        t->bRequest = HILDA_REQ_ECHO_WRITE;
    else if (s->bmRequestType == HILDA_REQTYPE_IN && s->bRequest == HILDA_GZ_REQ_ECHO_READ)
        t->bRequest = HILDA_REQ_ECHO_READ;
    else if (!(s->bmRequestType == HILDA_REQTYPE_OUT && s->bRequest == HILDA_REQ_SET_PERSONALITY))
        return false;
    return true;
}

static struct usb_reply stall(void)
{
    struct usb_reply r = { USB_STAGE_STALL, 0, false, 0 };
    return r;
}

static struct usb_reply setup(const struct usb_setup *s, uint8_t *buf)
{
    struct usb_setup t;

    return translate(s, &t) ? usb_vendor_setup(&t, buf) : stall();
}

static struct usb_reply out_done(const struct usb_setup *s, const uint8_t *buf, uint16_t len)
{
    struct usb_setup t;

    return translate(s, &t) ? usb_vendor_out_done(&t, buf, len) : stall();
}

void usb_gadget_zero_init(const struct usb_gadget_zero_hw *gz_hw, uint8_t data_pattern)
{
    hw = gz_hw;
    pattern = data_pattern;
    sink_errors = 0;
    for (uint16_t j = 0; j < sizeof source_buf; j++)
        source_buf[j] = usb_gadget_zero_pattern_byte(pattern, j);
}

uint32_t usb_gadget_zero_sink_errors(void)
{
    return sink_errors;
}

static const struct usb_function_ep endpoints[] = {
    { EP_IN, USB_DESC_INTERFACE },
    { EP_OUT, USB_DESC_INTERFACE },
};

const struct usb_function usb_gadget_zero_function = {
    .config_value = USB_GZ_CONFIG_VALUE,
    .interfaces = 1,
    .endpoints = endpoints,
    .endpoint_count = sizeof endpoints / sizeof endpoints[0],
    .langid = USB_DESC_LANGID,
    .descriptor = descriptor,
    .setup = setup,
    .out_done = out_done,
    .configured = configured,
};
