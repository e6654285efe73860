/* The full-speed bus between the USBD model's two halves, and nothing else
 * of either: usbd.c is the device (the nRF52840 USB device controller's
 * registers, its endpoint buffers and EasyDMA), usbd_host.c the host
 * controller in front of it (transfer queues, one transaction per step in
 * virtual time, the frames and their SOF, the host's data toggles). The
 * host moves data only through the transaction calls below, one call a
 * token; the device only wakes the host up and tells it about the
 * connection. Nothing outside these two files includes this. */
#ifndef EMU_USBD_BUS_H
#define EMU_USBD_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"
#include "usbd_host.h"

#define USBD_BUS_ENDPOINTS 8
#define USBD_BUS_MAX_PACKET 64u
#define USBD_BUS_ISO_EP 8u             /* the nRF52840's isochronous endpoint number (§2) */
#define USBD_BUS_MAX_ISO_PACKET 1023u  /* full-speed isochronous maximum (10-bit counts, §2.6) */
#define USBD_BUS_FRAME SOC_MS(1)

struct usbd;      /* the device (usbd.c) */
struct usbd_hc;   /* the host controller (usbd_host.c) */

/* How the device answered a token. NAK also stands for no answer at all
 * (a disabled endpoint): either way the host tries again later. */
enum usbd_handshake { USBD_NAK, USBD_ACK, USBD_STALL };

/* ---- the device, for the host controller (usbd.c) ---- */

struct usbd_hc *usbd_bus_hc(struct periph *usbd);
bool usbd_bus_connected(const struct usbd *u);         /* enabled with D+ pulled up */
bool usbd_bus_suspended(const struct usbd *u);
uint8_t usbd_bus_address(const struct usbd *u);        /* USBADDR */

/* SETUP to EP0: always ACKed; it ends whatever EP0 was doing (§3). The
 * USBD decodes SET_ADDRESS itself (§3.5). */
void usbd_bus_setup(struct usbd *u, const uint8_t setup[8]);
/* An IN token to EP0, in any stage: the device answers with a packet
 * (*len bytes into buf; a zero-length one is what the status stage of a
 * no-data or control-write transfer looks like), NAK or STALL. */
enum usbd_handshake usbd_bus_ep0_in(struct usbd *u, uint8_t buf[USBD_BUS_MAX_PACKET], uint32_t *len);
/* The host ACKed the packet of the last usbd_bus_ep0_in (EP0DATADONE and
 * its shorts if it came from EPIN0). */
void usbd_bus_ep0_in_acked(struct usbd *u);
/* An OUT token to EP0 with its packet (len 0: the status stage of a control
 * read). The device ACKs (raising what it raises), NAKs or STALLs. */
enum usbd_handshake usbd_bus_ep0_out(struct usbd *u, const uint8_t *buf, uint32_t len);
/* The control transfer is over (ok: its status stage was ACKed): a
 * SET_ADDRESS takes effect now (§3.5). */
void usbd_bus_ep0_end(struct usbd *u, bool ok);
/* Bulk endpoint n: IN gives a packet and the data toggle it carries; OUT
 * hands one over with the host's toggle (a repeated toggle is ACKed and
 * dropped, USB 2.0 §8.6). */
enum usbd_handshake usbd_bus_bulk_in(struct usbd *u, unsigned n, uint8_t buf[USBD_BUS_MAX_PACKET], uint32_t *len,
                                     uint8_t *toggle);
enum usbd_handshake usbd_bus_bulk_out(struct usbd *u, unsigned n, const uint8_t *buf, uint32_t len, uint8_t toggle);

/* Frames. The host starts one every USBD_BUS_FRAME, aligned to the
 * device's frame counter (usbd_bus_next_frame: cycles until the next one
 * starts), while the device wants SOF events or isochronous transfers are
 * queued; usbd_bus_sof is the SOF token. */
vtime_t usbd_bus_next_frame(const struct usbd *u);
bool usbd_bus_wants_sof(const struct usbd *u);
void usbd_bus_sof(struct usbd *u);
/* Isochronous EP8, at most one transaction per frame, no handshake and no
 * retry (USB 2.0 §5.6). IN: false if the device does not answer at all;
 * otherwise the packet (up to USBD_BUS_MAX_ISO_PACKET bytes into buf).
 * OUT: the device takes the packet or ignores it; the host cannot tell. */
bool usbd_bus_iso_in(struct usbd *u, uint8_t buf[USBD_BUS_MAX_ISO_PACKET], uint32_t *len);
void usbd_bus_iso_out(struct usbd *u, const uint8_t *buf, uint32_t len);

/* Bus signalling: reset (EVENTS_USBRESET), suspend and resume (EVENTCAUSE).
 * usbd_bus_resume returns false if there was nothing to resume. */
void usbd_bus_reset(struct usbd *u);
void usbd_bus_suspend(struct usbd *u);
bool usbd_bus_resume(struct usbd *u);

/* ---- the host controller, for the device (usbd_host.c) ---- */

struct usbd_hc *usbd_hc_new(struct soc *soc, struct usbd *dev);
void usbd_hc_free(struct usbd_hc *hc);
/* The device changed something the host may be waiting for (a packet
 * loaded, an endpoint armed, a stall, the SOF interrupt enabled): retry the
 * NAKed transactions and start the frames if they are now wanted. */
void usbd_hc_kick(struct usbd_hc *hc);
/* Every queued transfer ends with status (the device went away). */
void usbd_hc_fail_all(struct usbd_hc *hc, enum usb_xfer_status status);
/* The pull-up went on or off (after the device updated its own state). */
void usbd_hc_connection(struct usbd_hc *hc, bool connected);
/* The host's data toggles back to DATA0 (bus reset, enable). */
void usbd_hc_reset_toggles(struct usbd_hc *hc);

#endif
