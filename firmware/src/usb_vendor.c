#include "usb_vendor.h"

#include <string.h>

#include "counters.h"
#include "git_hash.h"
#include "usb_descriptors.h"

#if !defined(HILDA_FW_MAJOR) || !defined(HILDA_FW_MINOR)
#error "the build passes HILDA_FW_MAJOR and HILDA_FW_MINOR"
#endif

#define GIT_HASH ((uint32_t)(HILDA_GIT_HASH))

#define FAULT_DELAY_MAX_MS 5000

static const struct usb_vendor_hw *hw;
static uint8_t echo[HILDA_EP0_MAX_DATA];
static uint16_t echo_len;
static struct usb_fault fault;

static struct usb_reply reply(enum usb_stage stage, uint16_t len)
{
    struct usb_reply r = { stage, len, false, 0 };
    return r;
}

static struct usb_reply stall(void) { return reply(USB_STAGE_STALL, 0); }
static struct usb_reply status(void) { return reply(USB_STAGE_STATUS, 0); }

/* Never more than the host asked for, so nothing past wLength is touched. */
static struct usb_reply data_in(uint8_t *buf, uint16_t wLength, const void *src, uint16_t n)
{
    if (n > wLength)
        n = wLength;
    memcpy(buf, src, n);
    return reply(USB_STAGE_DATA_IN, n);
}

/* Wire fields are little-endian whatever the CPU (protocol.h). */
static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, (uint16_t)v);
    le16(p + 2, (uint16_t)(v >> 16));
}

static struct usb_reply data_in_words(uint8_t *buf, uint16_t wLength, const uint32_t *words, uint16_t n)
{
    uint8_t wire[sizeof(struct hilda_counters)];   /* the largest word reply */

    for (uint16_t i = 0; i < n; i++)
        le32(wire + 4 * i, words[i]);
    return data_in(buf, wLength, wire, (uint16_t)(4 * n));
}

/* The image-info block (protocol.h): the version GET_VERSION reports, kept
 * in flash where a host finds it in the image file before flashing it. Read
 * by get_version through a volatile pointer, so the compiler cannot fold the
 * constants away and the linker keeps the block. */
const struct hilda_image_info hilda_image_info = {
    { HILDA_IMAGE_INFO_MAGIC0, HILDA_IMAGE_INFO_MAGIC1 },
    { HILDA_PROTOCOL_VERSION, (uint16_t)(HILDA_FW_MAJOR << 8 | HILDA_FW_MINOR), GIT_HASH },
};

static struct usb_reply get_version(uint8_t *buf, uint16_t wLength)
{
    const volatile struct hilda_version *v = &hilda_image_info.version;
    uint8_t wire[sizeof(struct hilda_version)];

    le16(wire, v->protocol);
    le16(wire + 2, v->firmware);
    le32(wire + 4, v->git_hash);
    return data_in(buf, wLength, wire, sizeof wire);
}

static struct usb_reply get_counters(uint8_t *buf, uint16_t wLength)
{
    uint32_t words[sizeof counters / 4];

    _Static_assert(sizeof words == sizeof counters, "hilda_counters is all uint32_t");
    memcpy(words, &counters, sizeof words);
    return data_in_words(buf, wLength, words, sizeof words / 4);
}

static struct usb_reply uart_status(uint8_t *buf, uint16_t wLength)
{
    struct hilda_uart_status st;

    hw->uart_status(&st);
    const uint32_t words[4] = { st.baud, st.tx_free, st.rx_available, st.errorsrc };
    return data_in_words(buf, wLength, words, 4);
}

static uint32_t uart_tx_free(void)
{
    struct hilda_uart_status st;

    hw->uart_status(&st);
    return st.tx_free;
}

static struct usb_reply uart_read(uint8_t *buf, uint16_t wLength)
{
    size_t n = wLength ? hw->uart_read(buf, wLength) : 0;

    return reply(USB_STAGE_DATA_IN, (uint16_t)(n < wLength ? n : wLength));
}

static struct usb_reply variant(uint8_t *buf, uint16_t id, uint16_t wLength)
{
    int n = usb_descriptor_variant_copy(id, buf, wLength);

    return n < 0 ? stall() : reply(USB_STAGE_DATA_IN, (uint16_t)n);
}

/* Requests with data from the device. */
static struct usb_reply vendor_in(const struct usb_setup *s, uint8_t *buf)
{
    switch (s->bRequest) {
    case HILDA_REQ_GET_VERSION:
        return get_version(buf, s->wLength);
    case HILDA_REQ_ECHO_READ:
        return data_in(buf, s->wLength, echo, echo_len);
    case HILDA_REQ_UART_READ:
        return uart_read(buf, s->wLength);
    case HILDA_REQ_UART_STATUS:
        return uart_status(buf, s->wLength);
    case HILDA_REQ_GET_COUNTERS:
        return get_counters(buf, s->wLength);
    case HILDA_REQ_GET_VARIANT:
        return variant(buf, s->wValue, s->wLength);
    default:
        return stall();
    }
}

/* Requests with data from the host: accepted or refused before the data moves,
 * so a refused write leaves no partial effect. */
static struct usb_reply vendor_out(const struct usb_setup *s)
{
    switch (s->bRequest) {
    case HILDA_REQ_ECHO_WRITE:
        return reply(USB_STAGE_DATA_OUT, s->wLength);
    case HILDA_REQ_UART_WRITE:
        return s->wLength <= uart_tx_free() ? reply(USB_STAGE_DATA_OUT, s->wLength) : stall();
    default:
        return stall();
    }
}

/* Both personalities take it (usb_gadget_zero.c passes it on), so a host can
 * switch back without a reset. */
static struct usb_reply set_personality(const struct usb_setup *s)
{
    bool known = s->wValue == HILDA_PERSONALITY_HILDA || s->wValue == HILDA_PERSONALITY_GADGET_ZERO;

    if (!known || (s->wIndex != HILDA_GZ_PATTERN_ZEROS && s->wIndex != HILDA_GZ_PATTERN_MOD63) ||
        !hw->set_personality)
        return stall();
    hw->set_personality((uint8_t)s->wValue, (uint8_t)s->wIndex);
    return status();
}

static struct usb_reply vendor_no_data(const struct usb_setup *s)
{
    switch (s->bRequest) {
    case HILDA_REQ_ECHO_WRITE:          /* wLength 0: an empty echo buffer */
        echo_len = 0;
        return status();
    case HILDA_REQ_UART_SET_BAUD:
        return hw->uart_set_baud(s->wValue | (uint32_t)s->wIndex << 16) ? status() : stall();
    case HILDA_REQ_RESET_COUNTERS:
        counters_reset();
        return status();
    case HILDA_REQ_FAULT_DELAY:
        if (s->wValue == 0 || s->wValue > FAULT_DELAY_MAX_MS)
            return stall();
        fault.delay_ms = s->wValue;
        return status();
    case HILDA_REQ_FAULT_STALL:
        fault.stall = true;
        return status();
    case HILDA_REQ_SET_PERSONALITY:
        return set_personality(s);
    case HILDA_REQ_REBOOT:
    case HILDA_REQ_REBOOT_BOOTLOADER:
        hw->reboot(s->bRequest == HILDA_REQ_REBOOT_BOOTLOADER);
        return status();
    default:                            /* includes UART_WRITE of 0 bytes */
        return stall();
    }
}

void usb_vendor_init(const struct usb_vendor_hw *vendor_hw)
{
    hw = vendor_hw;
    echo_len = 0;
    fault = (struct usb_fault){ false, 0 };
}

/* Only bmRequestType 0x40 and 0xC0 exist (protocol.h): a vendor request to an
 * interface or endpoint, or in the other direction, is a Request Error. */
struct usb_reply usb_vendor_setup(const struct usb_setup *s, uint8_t *buf)
{
    if (s->bmRequestType == HILDA_REQTYPE_IN)
        return vendor_in(s, buf);
    if (s->bmRequestType != HILDA_REQTYPE_OUT)
        return stall();
    return s->wLength ? vendor_out(s) : vendor_no_data(s);
}

struct usb_reply usb_vendor_out_done(const struct usb_setup *s, const uint8_t *buf, uint16_t len)
{
    if (s->bmRequestType != HILDA_REQTYPE_OUT || len > sizeof echo)
        return stall();
    switch (s->bRequest) {
    case HILDA_REQ_ECHO_WRITE:
        memcpy(echo, buf, len);
        echo_len = len;
        return status();
    case HILDA_REQ_UART_WRITE:
        return hw->uart_write(buf, len) == len ? status() : stall();
    default:
        return stall();
    }
}

struct usb_fault usb_vendor_take_fault(void)
{
    struct usb_fault taken = fault;

    fault = (struct usb_fault){ false, 0 };
    return taken;
}

static const struct usb_function_ep endpoints[] = {
    { USB_DESC_EP_BULK_IN, USB_DESC_INTERFACE },
    { USB_DESC_EP_BULK_OUT, USB_DESC_INTERFACE },
};

const struct usb_function usb_vendor_function = {
    .config_value = USB_DESC_CONFIG_VALUE,
    .interfaces = 1,
    .endpoints = endpoints,
    .endpoint_count = sizeof endpoints / sizeof endpoints[0],
    .langid = USB_DESC_LANGID,
    .descriptor = usb_descriptor_copy,
    .setup = usb_vendor_setup,
    .out_done = usb_vendor_out_done,
    .take_fault = usb_vendor_take_fault,
};
