/* The nRF52840 USBD as a device controller: power-up with the errata
 * workarounds, bus events, endpoint-0 control transfers over EasyDMA, and the
 * bulk EP1 loopback (reference §2, §3). It carries out what the
 * hardware-independent device logic (usb_device.h) decides. */
#ifndef HILDA_USBD_H
#define HILDA_USBD_H

#include <stdbool.h>
#include <stdint.h>

/* Enables the POWER USB events and, if VBUS is already there, the USBD. */
void usbd_init(void);

void usbd_irq(void);          /* USBD interrupt */
void usbd_power_irq(void);    /* POWER USBDETECTED / USBPWRRDY / USBREMOVED */

/* for struct usb_device_hw */
void usbd_set_halt(uint8_t ep_addr, bool halt);
bool usbd_halted(uint8_t ep_addr);
void usbd_set_configured(bool configured);

#endif
