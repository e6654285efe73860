#include "usb_request.h"

/* Assembled byte by byte so the result does not depend on the host's
 * endianness (the unit tests run natively). */
void usb_setup_decode(const uint8_t raw[8], struct usb_setup *out)
{
    out->bmRequestType = raw[0];
    out->bRequest = raw[1];
    out->wValue = (uint16_t)(raw[2] | raw[3] << 8);
    out->wIndex = (uint16_t)(raw[4] | raw[5] << 8);
    out->wLength = (uint16_t)(raw[6] | raw[7] << 8);
}

enum usb_dir usb_setup_dir(const struct usb_setup *s)
{
    return (s->bmRequestType & 0x80) ? USB_DIR_IN : USB_DIR_OUT;
}

enum usb_type usb_setup_type(const struct usb_setup *s)
{
    return (enum usb_type)((s->bmRequestType >> 5) & 3);
}

/* Not masked to two bits: recipients 4..31 are reserved (§7.1) and must stay
 * distinguishable from the valid ones so callers can reject them. */
enum usb_recipient usb_setup_recipient(const struct usb_setup *s)
{
    return (enum usb_recipient)(s->bmRequestType & 0x1F);
}

bool usb_needs_zlp(uint16_t len, uint16_t wLength, uint16_t max_packet)
{
    return max_packet != 0 && len < wLength && len % max_packet == 0;
}
