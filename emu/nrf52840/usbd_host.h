/* The full-speed host controller in front of the USBD model: the host side
 * submits transfers; the model runs their transactions in virtual time
 * against the registers the firmware drives, NAKing until the firmware has
 * armed each stage (isochronous ones: one packet a frame, never retried).
 * `usbd` is the periph usbd_model_new returned. */
#ifndef EMU_USBD_HOST_H
#define EMU_USBD_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"

enum usb_xfer_status {
    USB_XFER_PENDING,
    USB_XFER_OK,
    USB_XFER_STALL,          /* the device stalled (EPIPE) */
    USB_XFER_CANCELLED,      /* the host gave up (timeout, discard) */
    USB_XFER_DISCONNECTED,   /* pull-up off, reset or power gone (ENODEV) */
    USB_XFER_OVERFLOW,       /* the device sent more than the buffer holds (EOVERFLOW) */
};

struct usb_xfer;
typedef void (*usb_xfer_done_fn)(struct usb_xfer *x, void *ctx);

enum usb_xfer_type {
    USB_XFER_CONTROL_BULK,       /* 0: control on EP0, bulk (or interrupt) on EP1-7 */
    USB_XFER_ISO,                /* isochronous: EP8 (0x88 IN, 0x08 OUT), the nRF52840's only one */
};

/* What became of one isochronous packet (its frame's transaction). */
enum usb_iso_result {
    USB_ISO_PENDING,
    USB_ISO_OK,                  /* IN: the device answered (actual may be 0); OUT: sent */
    USB_ISO_NO_ANSWER,           /* IN: the device did not answer in that frame (Linux: -EPROTO) */
    USB_ISO_OVERFLOW,            /* IN: the packet was longer than its room (babble; Linux: -EOVERFLOW) */
};

struct usb_iso_packet {
    uint32_t length;             /* IN: room; OUT: bytes to send (at most 1023) */
    uint32_t actual;             /* bytes moved in its frame */
    enum usb_iso_result result;
};

/* One transfer, owned by the submitter until done() is called. */
struct usb_xfer {
    uint8_t ep;                  /* endpoint address: 0x00 control, 0x81 bulk IN, 0x01 bulk OUT */
    enum usb_xfer_type type;
    uint8_t setup[8];            /* control only */
    uint8_t *buf;                /* control: the data stage; bulk: the data; iso: packet i at the sum
                                  * of the lengths before it (the usbfs layout) */
    uint32_t len;                /* IN: buffer capacity (control: wLength); OUT: bytes to send;
                                  * iso: at least the sum of the packet lengths */
    uint32_t actual;             /* bytes moved */
    /* isochronous: one packet a frame, in order; no handshake, no retry */
    struct usb_iso_packet *iso;
    uint32_t iso_count;
    enum usb_xfer_status status; /* iso: OK once every packet had its frame (see each result) */
    usb_xfer_done_fn done;
    void *ctx;
    /* model-private */
    struct usb_xfer *next;
    uint32_t stage;
};

/* The host controller's view of the bus. */
struct usbd_host_events {
    void (*connect)(void *ctx, bool connected);   /* D+ pull-up seen on / off */
    void *ctx;
};

void usbd_host_set_events(struct periph *usbd, const struct usbd_host_events *ev);
bool usbd_host_connected(const struct periph *usbd);
uint8_t usbd_host_address(const struct periph *usbd);   /* USBADDR as the host must now use it */

/* Queue a transfer (control transfers run one at a time, in order; each
 * bulk endpoint and each isochronous direction has its own queue). Returns
 * false if the device is not connected, or the transfer is not one this
 * bus carries (an endpoint the chip lacks, a type that does not match it,
 * isochronous packets that do not fit); done() is not called then. */
bool usbd_host_submit(struct periph *usbd, struct usb_xfer *x);
/* Withdraw a queued or running transfer; done() is called with CANCELLED.
 * Returns false if it already completed. */
bool usbd_host_cancel(struct periph *usbd, struct usb_xfer *x);

/* Bus signalling: a reset (SE0 for 10 ms; EVENTS_USBRESET), suspend (bus
 * idle: EVENTCAUSE.SUSPEND), resume (EVENTCAUSE.RESUME). */
void usbd_host_bus_reset(struct periph *usbd);
void usbd_host_suspend(struct periph *usbd);
void usbd_host_resume(struct periph *usbd);

#endif
