/* USBD model (nRF52840 PS "USBD"): the nRF52840 USB device controller as the
 * firmware sees it (usbd.c, the register model), with a full-speed host
 * controller in front of it (usbd_host.h, usbd_host.c) that the USB bridge
 * and the tests drive; the two halves meet only at the bus transactions of
 * usbd_bus.h. The model never answers a request itself: every
 * byte of every data stage comes from or goes to the firmware through
 * EasyDMA, isochronous packets (EP8) included. */
#ifndef EMU_USBD_H
#define EMU_USBD_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"

#define USBD_MODEL_BASE 0x40027000u
#define USBD_MODEL_IRQ 39u

struct periph *usbd_model_new(struct soc *soc);
void usbd_model_free(struct periph *usbd);

/* How the status stage of a no-data or control-write transfer may be
 * answered (usbd.c head comment): besides EP0STATUS, the USBD answers an IN
 * token from a packet the firmware loaded into EPIN0, a zero-length one
 * included. That is inferred from the bus and from firmware that runs on
 * silicon (TinyUSB's dcd_nrf5x.c, docs/sources.md), not measured; these modes flag or refuse
 * firmware that relies on it. */
enum usbd_ep0_status_policy {
    USBD_EP0_STATUS_INFERRED,        /* default: answered from EPIN0, silently */
    USBD_EP0_STATUS_WARN,            /* the same, logged once: "... relies on inferred silicon behaviour" */
    USBD_EP0_STATUS_EP0STATUS_ONLY,  /* only EP0STATUS answers it; NAK otherwise (logged once) */
};
void usbd_model_set_ep0_status_policy(struct periph *usbd, enum usbd_ep0_status_policy policy);

/* The POWER model's regulator follows USBD.ENABLE (PS USBD "USB power-up sequence"). */
struct power;
void usbd_model_set_power(struct periph *usbd, struct power *power);

#endif
