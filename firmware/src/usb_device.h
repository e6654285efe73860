/* Hardware-independent USB device logic: chapter 9 standard requests with
 * their state rules, the descriptors, and the hilda vendor test protocol.
 *
 * The device controller driver (usbd.c) decodes each SETUP, calls
 * usb_device_setup, and carries out the returned reply on the hardware.
 * Everything this module needs from drivers and board comes through
 * struct usb_device_hw, so unit tests drive it with fakes. */
#ifndef HILDA_USB_DEVICE_H
#define HILDA_USB_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/protocol.h"
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

struct usb_device_hw {
    /* device controller */
    void (*set_halt)(uint8_t ep_addr, bool halt);   /* clearing also resets the toggle to DATA0 */
    bool (*halted)(uint8_t ep_addr);
    void (*set_configured)(bool configured);         /* enable/disable the bulk endpoints, DATA0 */
    /* UART bridge */
    size_t (*uart_write)(const uint8_t *data, size_t len);  /* bytes accepted */
    size_t (*uart_read)(uint8_t *data, size_t len);          /* bytes returned */
    bool (*uart_set_baud)(uint32_t baud);
    void (*uart_status)(struct hilda_uart_status *status);
    /* board */
    void (*reboot)(bool into_bootloader);   /* must let the status stage finish first */
};

/* device_id: the 8 bytes of FICR DEVICEID[0..1], little-endian; the serial
 * number string is derived from it. */
void usb_device_init(const struct usb_device_hw *hw, const uint8_t device_id[8]);

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
