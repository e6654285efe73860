/* Hardware-independent USB device logic: chapter 9 standard requests with
 * their state rules, for whatever device the application describes.
 *
 * Two seams, as TinyUSB splits dcd_ from tud_:
 *  - struct usb_device_hw: the device controller (usbd.c on the chip, a fake
 *    in the unit tests): halts and the configured state of the endpoints.
 *  - struct usb_function: the device itself (the hilda test function of
 *    usb_vendor.c, or the bootloader's CDC ACM): its descriptors, the shape of
 *    its configuration for the chapter-9 checks, and the handlers of its class
 *    and vendor requests.
 * The device controller driver decodes each SETUP, calls usb_device_setup,
 * and carries out the returned reply on the hardware. */
#ifndef HILDA_USB_DEVICE_H
#define HILDA_USB_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/protocol.h"   /* HILDA_EP0_MAX_DATA, HILDA_EP0_PACKET */
#include "hilda/usb.h"

enum usb_state { USB_STATE_DEFAULT, USB_STATE_ADDRESS, USB_STATE_CONFIGURED };

enum usb_stage {
    USB_STAGE_STALL,      /* STALL the data/status stage (Request Error) */
    USB_STAGE_DATA_IN,    /* send len bytes from the EP0 buffer, then status */
    USB_STAGE_DATA_OUT,   /* receive len bytes into the EP0 buffer, then usb_device_out_done */
    USB_STAGE_STATUS,     /* no data: allow the status stage */
    USB_STAGE_HW_STATUS,  /* no data, and the USBD runs the status stage itself (SET_ADDRESS, §3.5) */
};

struct usb_reply {
    enum usb_stage stage;
    uint16_t len;         /* DATA_IN: bytes in the buffer, <= wLength; DATA_OUT: bytes expected */
    bool zlp;             /* DATA_IN: end the data stage with a zero-length packet (§3.2) */
    uint16_t delay_ms;    /* fault injection: arm this reply's first stage this much later */
};

/* The device controller (dcd): what chapter 9 asks of the hardware. */
struct usb_device_hw {
    void (*set_halt)(uint8_t ep_addr, bool halt);   /* clearing also resets the toggle to DATA0 */
    bool (*halted)(uint8_t ep_addr);
    void (*set_configured)(bool configured);         /* enable/disable the function's endpoints */
};

/* A fault the application injects into the next request (the hilda vendor
 * protocol's FAULT_STALL / FAULT_DELAY). */
struct usb_fault {
    bool stall;          /* STALL the next request */
    uint16_t delay_ms;   /* delay the next reply; 0 = none */
};

/* One endpoint of configuration 1 (never EP0) and the interface it belongs to. */
struct usb_function_ep {
    uint8_t addr;
    uint8_t interface;
};

/* The device the core serves (the application side). Configuration 1 has
 * interfaces 0 .. interfaces-1, each with alternate setting 0 only. */
struct usb_function {
    uint8_t config_value;                       /* bConfigurationValue of its one configuration */
    uint8_t interfaces;
    const struct usb_function_ep *endpoints;
    uint8_t endpoint_count;
    uint16_t langid;                            /* the one LANGID string 0 lists */
    /* Copy descriptor (type, index) into buf, at most max bytes: returns the
     * bytes copied, or -1 if the device has no such descriptor. */
    int (*descriptor)(uint8_t type, uint8_t index, uint8_t *buf, uint16_t max);
    /* Class and vendor requests, with the contract of usb_device_setup and
     * usb_device_out_done (wLength <= HILDA_EP0_MAX_DATA and len <= wLength
     * already checked; the core truncates to wLength and applies the ZLP rule). */
    struct usb_reply (*setup)(const struct usb_setup *setup, uint8_t *buf);
    struct usb_reply (*out_done)(const struct usb_setup *setup, const uint8_t *buf, uint16_t len);
    /* Optional (NULL): a fault to apply to this request, taken (and so spent)
     * before anything else happens to it. */
    struct usb_fault (*take_fault)(void);
    /* Optional: configuration 1 was selected (true) or left (false: SET_CONFIGURATION 0,
     * SET_ADDRESS, bus reset, VBUS gone). */
    void (*configured)(bool configured);
};

void usb_device_init(const struct usb_device_hw *hw, const struct usb_function *function);

/* A SETUP arrived. buf holds HILDA_EP0_MAX_DATA bytes: DATA_IN replies are
 * written there. Any control transfer in progress is abandoned. */
struct usb_reply usb_device_setup(const struct usb_setup *setup, uint8_t *buf);

/* The OUT data stage of setup completed with len bytes in buf. Returns STATUS
 * or STALL. */
struct usb_reply usb_device_out_done(const struct usb_setup *setup, const uint8_t *buf, uint16_t len);

void usb_device_bus_reset(void);     /* back to Default state, unconfigured */
void usb_device_suspend(void);
void usb_device_resume(void);

enum usb_state usb_device_state(void);
uint8_t usb_device_configuration(void);

#endif
