/* SETUP packets of the standard requests, built from the chapter-9 names
 * of hilda/usb.h: the one place in the host code where a standard request
 * is spelled out field by field. A caller reads as the request it makes,
 * hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, 9), never as
 * { 0x80, 0x06, 0x0200, 0, 9 }. */
#ifndef HILDA_SETUPS_H
#define HILDA_SETUPS_H

#include <stdint.h>

#include "hilda/usb.h"

/* The LANGID of US English (USB LANGID table): what a host asks for when the
 * device's string 0 gives nothing better. */
#define HILDA_LANGID_EN_US 0x0409

/* A descriptor type chapter 9 does not define (reserved code): requests for
 * it must STALL (USBCV TD 9.10). */
#define HILDA_DT_UNDEFINED 0x42

/* GET_DESCRIPTOR(type, index) for wLength bytes; langid is wIndex (strings). */
static inline struct usb_setup hilda_setup_get_descriptor(uint8_t type, uint8_t index, uint16_t langid,
                                                          uint16_t wLength)
{
    return (struct usb_setup){ USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(type, index), langid,
                               wLength };
}

/* GET_STATUS of a recipient: rt is USB_RT_DEVICE_IN, USB_RT_INTERFACE_IN or
 * USB_RT_ENDPOINT_IN, index the interface number or endpoint address. */
static inline struct usb_setup hilda_setup_get_status(uint8_t rt, uint16_t index)
{
    return (struct usb_setup){ rt, USB_REQ_GET_STATUS, 0, index, 2 };
}

static inline struct usb_setup hilda_setup_get_configuration(void)
{
    return (struct usb_setup){ USB_RT_DEVICE_IN, USB_REQ_GET_CONFIGURATION, 0, 0, 1 };
}

static inline struct usb_setup hilda_setup_get_interface(uint16_t interface)
{
    return (struct usb_setup){ USB_RT_INTERFACE_IN, USB_REQ_GET_INTERFACE, 0, interface, 1 };
}

#endif
