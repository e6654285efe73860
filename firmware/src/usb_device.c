/* Chapter 9 of USB 2.0 for one configuration, with the interfaces and
 * endpoints the function declares: the state rules of USB 2.0 §9.1 and §9.4, the
 * request layouts of §7.1. A request this module does not fully understand
 * is a Request Error (STALL): fields the spec fixes (wValue, wIndex, wLength
 * of 0) are checked, not assumed. */
#include "usb_device.h"

#include <string.h>

#include "counters.h"

static const struct usb_device_hw *hw;
static const struct usb_function *fn;
static enum usb_state state;
static uint8_t configuration;
/* The last SETUP asked for an OUT data stage: only then may data arrive. */
static bool out_pending;

static struct usb_reply reply(enum usb_stage stage, uint16_t len)
{
    struct usb_reply r = { stage, len, false, 0 };
    return r;
}

static struct usb_reply stall(void) { return reply(USB_STAGE_STALL, 0); }
static struct usb_reply status(void) { return reply(USB_STAGE_STATUS, 0); }

static struct usb_reply data_in(uint8_t *buf, uint16_t wLength, const uint8_t *src, uint16_t n)
{
    if (n > wLength)
        n = wLength;
    memcpy(buf, src, n);
    return reply(USB_STAGE_DATA_IN, n);
}

static bool configured(void)
{
    return state == USB_STATE_CONFIGURED;
}

static bool is_ep0(uint16_t wIndex)
{
    return wIndex == 0x00 || wIndex == 0x80;
}

/* The function's endpoints exist only in the Configured state (§7.4). */
static bool is_function_ep(uint16_t wIndex)
{
    if (!configured())
        return false;
    for (unsigned i = 0; i < fn->endpoint_count; i++) {
        if (fn->endpoints[i].addr == wIndex)
            return true;
    }
    return false;
}

static bool is_interface(uint16_t wIndex)
{
    return wIndex < fn->interfaces;
}

/* SET_CONFIGURATION (all interfaces) and SET_INTERFACE (one) clear halts and
 * reset toggles to DATA0 even when nothing changes (§7.4). */
static void reset_endpoints(int interface)
{
    for (unsigned i = 0; i < fn->endpoint_count; i++) {
        if (interface < 0 || fn->endpoints[i].interface == interface)
            hw->set_halt(fn->endpoints[i].addr, false);
    }
}

static void set_configured(bool on)
{
    hw->set_configured(on);
    if (fn->configured)
        fn->configured(on);
}

/* Device: not self-powered, remote wakeup not enabled. Interface status: always 0. */
static struct usb_reply get_status(const struct usb_setup *s, uint8_t *buf)
{
    uint8_t st[2] = { 0, 0 };

    if (s->wValue != 0)
        return stall();
    switch (s->bmRequestType) {
    case USB_RT_DEVICE_IN:
        if (s->wIndex != 0)
            return stall();
        break;
    case USB_RT_INTERFACE_IN:
        if (!configured() || !is_interface(s->wIndex))
            return stall();
        break;
    case USB_RT_ENDPOINT_IN:
        if (is_function_ep(s->wIndex))
            st[0] = hw->halted((uint8_t)s->wIndex) ? 1 : 0;
        else if (!is_ep0(s->wIndex))
            return stall();
        break;
    default:
        return stall();
    }
    return data_in(buf, s->wLength, st, sizeof st);
}

/* Only ENDPOINT_HALT exists here: DEVICE_REMOTE_WAKEUP is not advertised in
 * bmAttributes, TEST_MODE is for high-speed devices, interfaces have no
 * features. EP0 has no halt (§7.4 "not required"): clearing it is a truthful
 * no-op, setting it is refused rather than claimed and not done. */
static struct usb_reply feature(const struct usb_setup *s, bool set)
{
    if (s->bmRequestType != USB_RT_ENDPOINT_OUT || s->wValue != USB_FEATURE_ENDPOINT_HALT || s->wLength != 0)
        return stall();
    if (is_function_ep(s->wIndex)) {
        hw->set_halt((uint8_t)s->wIndex, set);
        return status();
    }
    return is_ep0(s->wIndex) && !set ? status() : stall();
}

/* The USBD runs the status stage and switches address itself (reference
 * §3.5), so the state follows at once. In Configured state the spec leaves the
 * behaviour open; the hardware takes the new address anyway, so hilda follows
 * it and drops the configuration, as if enumeration had restarted. */
static struct usb_reply set_address(const struct usb_setup *s)
{
    if (s->bmRequestType != USB_RT_DEVICE_OUT || s->wValue > 127 || s->wIndex != 0 || s->wLength != 0)
        return stall();
    if (configured()) {
        configuration = 0;
        set_configured(false);
    }
    state = s->wValue ? USB_STATE_ADDRESS : USB_STATE_DEFAULT;
    return reply(USB_STAGE_HW_STATUS, 0);
}

/* wIndex is the LANGID for strings 1..; 0 is accepted too because some hosts
 * send it. String 0 (the LANGID list) and the other types ignore wIndex. */
static struct usb_reply get_descriptor(const struct usb_setup *s, uint8_t *buf)
{
    uint8_t type = (uint8_t)(s->wValue >> 8), index = (uint8_t)s->wValue;
    int n;

    if (s->bmRequestType != USB_RT_DEVICE_IN)
        return stall();
    if (type == USB_DT_STRING && index != 0 && s->wIndex != 0 && s->wIndex != fn->langid)
        return stall();
    n = fn->descriptor(type, index, buf, s->wLength);
    return n < 0 ? stall() : reply(USB_STAGE_DATA_IN, (uint16_t)n);
}

static struct usb_reply get_configuration(const struct usb_setup *s, uint8_t *buf)
{
    if (s->bmRequestType != USB_RT_DEVICE_IN || s->wValue != 0 || s->wIndex != 0 || state == USB_STATE_DEFAULT)
        return stall();
    return data_in(buf, s->wLength, &configuration, 1);
}

static struct usb_reply set_configuration(const struct usb_setup *s)
{
    if (s->bmRequestType != USB_RT_DEVICE_OUT || (s->wValue != 0 && s->wValue != fn->config_value) ||
        s->wIndex != 0 || s->wLength != 0 || state == USB_STATE_DEFAULT)
        return stall();
    configuration = (uint8_t)s->wValue;
    set_configured(configuration != 0);
    reset_endpoints(-1);
    state = configuration ? USB_STATE_CONFIGURED : USB_STATE_ADDRESS;
    return status();
}

static struct usb_reply get_interface(const struct usb_setup *s, uint8_t *buf)
{
    static const uint8_t alternate = 0;

    if (s->bmRequestType != USB_RT_INTERFACE_IN || s->wValue != 0 || !is_interface(s->wIndex) ||
        !configured())
        return stall();
    return data_in(buf, s->wLength, &alternate, 1);
}

static struct usb_reply set_interface(const struct usb_setup *s)
{
    if (s->bmRequestType != USB_RT_INTERFACE_OUT || s->wValue != 0 || !is_interface(s->wIndex) ||
        s->wLength != 0 || !configured())
        return stall();
    reset_endpoints(s->wIndex);
    return status();
}

/* SET_DESCRIPTOR (descriptors are fixed), SYNCH_FRAME (no isochronous
 * endpoint) and reserved codes fall to the default: STALL. */
static struct usb_reply standard(const struct usb_setup *s, uint8_t *buf)
{
    switch (s->bRequest) {
    case USB_REQ_GET_STATUS:
        return get_status(s, buf);
    case USB_REQ_CLEAR_FEATURE:
        return feature(s, false);
    case USB_REQ_SET_FEATURE:
        return feature(s, true);
    case USB_REQ_SET_ADDRESS:
        return set_address(s);
    case USB_REQ_GET_DESCRIPTOR:
        return get_descriptor(s, buf);
    case USB_REQ_GET_CONFIGURATION:
        return get_configuration(s, buf);
    case USB_REQ_SET_CONFIGURATION:
        return set_configuration(s);
    case USB_REQ_GET_INTERFACE:
        return get_interface(s, buf);
    case USB_REQ_SET_INTERFACE:
        return set_interface(s);
    default:
        return stall();
    }
}

/* One place for what every reply obeys: at most wLength bytes, the ZLP rule
 * of USB 2.0 §5.5.3, no data stage when wLength is 0, and the stall count. */
static struct usb_reply finish(const struct usb_setup *s, struct usb_reply r)
{
    if (r.stage == USB_STAGE_DATA_IN) {
        if (r.len > s->wLength)
            r.len = s->wLength;
        if (s->wLength == 0)
            r.stage = USB_STAGE_STATUS;
        else
            r.zlp = usb_needs_zlp(r.len, s->wLength, HILDA_EP0_PACKET);
    }
    if (r.stage == USB_STAGE_STALL)
        counters.stalls++;
    return r;
}

void usb_device_init(const struct usb_device_hw *device_hw, const struct usb_function *function)
{
    hw = device_hw;
    fn = function;
    state = USB_STATE_DEFAULT;
    configuration = 0;
    out_pending = false;
}

static struct usb_fault take_fault(void)
{
    struct usb_fault none = { false, 0 };
    return fn->take_fault ? fn->take_fault() : none;
}

/* Class and vendor requests go to the function; reserved ones are refused.
 * The fault is taken before anything else so that it is spent on this
 * request whatever happens to it. */
struct usb_reply usb_device_setup(const struct usb_setup *s, uint8_t *buf)
{
    struct usb_fault fault = take_fault();
    struct usb_reply r;

    counters.setups++;
    if (fault.stall || s->wLength > HILDA_EP0_MAX_DATA)
        r = stall();
    else if (usb_setup_type(s) == USB_TYPE_STANDARD)
        r = standard(s, buf);
    else if ((usb_setup_type(s) == USB_TYPE_VENDOR || usb_setup_type(s) == USB_TYPE_CLASS) && fn->setup)
        r = fn->setup(s, buf);
    else
        r = stall();
    r = finish(s, r);
    r.delay_ms = fault.delay_ms;
    out_pending = r.stage == USB_STAGE_DATA_OUT;
    return r;
}

/* Only class and vendor requests take OUT data (SET_DESCRIPTOR is refused). */
struct usb_reply usb_device_out_done(const struct usb_setup *s, const uint8_t *buf, uint16_t len)
{
    struct usb_reply r = stall();

    if (out_pending && usb_setup_type(s) != USB_TYPE_STANDARD && len <= s->wLength &&
        s->wLength <= HILDA_EP0_MAX_DATA && fn->out_done)
        r = fn->out_done(s, buf, len);
    out_pending = false;
    if (r.stage == USB_STAGE_STALL)
        counters.stalls++;
    return r;
}

/* Not counted here: the driver also calls this when VBUS goes away, and
 * counts only the real USBRESET events itself. A pending fault is dropped: it
 * was meant for the host's next request, not for a re-enumeration. */
void usb_device_bus_reset(void)
{
    state = USB_STATE_DEFAULT;
    configuration = 0;
    out_pending = false;
    set_configured(false);
    (void)take_fault();
}

/* Suspend keeps address and configuration (USB 2.0 §9.1.1.6). */
void usb_device_suspend(void)
{
    counters.suspends++;
}

void usb_device_resume(void)
{
    counters.resumes++;
}

enum usb_state usb_device_state(void)
{
    return state;
}

uint8_t usb_device_configuration(void)
{
    return configuration;
}
