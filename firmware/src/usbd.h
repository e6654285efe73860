/* The nRF52840 USBD as a device controller: power-up with the errata
 * workarounds, bus events, endpoint-0 control transfers over EasyDMA, and
 * one-packet-at-a-time transfers on the data endpoints EP1 and EP2 for the
 * function above it (nRF52840 PS "USBD"). It carries out what the
 * hardware-independent device logic (usb_device.h) decides. */
#ifndef HILDA_USBD_H
#define HILDA_USBD_H

#include <stdbool.h>
#include <stdint.h>

/* The data endpoints the function uses and where their events go. */
struct usbd_endpoints {
    uint8_t in_mask, out_mask;       /* bit n: EPn IN / EPn OUT (n = 1, 2) */
    /* Interrupt context. IN ep_addr: the host took the packet (the endpoint
     * is free again); OUT: a packet waits, to drain with usbd_ep_read. */
    void (*event)(uint8_t ep_addr);
};

/* Enables the POWER USB events and, if VBUS is already there, the USBD. */
void usbd_init(const struct usbd_endpoints *eps);

/* Before handing the chip to another program: pull-up off, USBD disabled,
 * its POWER events off. */
void usbd_deinit(void);

/* Loads one packet (<= 64 bytes, buf a DMA_BUFFER) into IN endpoint ep_addr.
 * False if the endpoint is busy, unused or unconfigured, or the DMA refused. */
bool usbd_ep_write(uint8_t ep_addr, uint8_t *buf, uint16_t len);
bool usbd_ep_in_busy(uint8_t ep_addr);

/* Drains the packet waiting on OUT endpoint ep_addr into buf (at most max
 * bytes): returns its length, or -1 if none waits or the DMA refused. */
int usbd_ep_read(uint8_t ep_addr, uint8_t *buf, uint16_t max);
bool usbd_ep_out_waiting(uint8_t ep_addr);

void usbd_irq(void);          /* USBD interrupt */
void usbd_power_irq(void);    /* POWER USBDETECTED / USBPWRRDY / USBREMOVED */

/* for struct usb_device_hw */
void usbd_set_halt(uint8_t ep_addr, bool halt);
bool usbd_halted(uint8_t ep_addr);
void usbd_set_configured(bool configured);

#endif
