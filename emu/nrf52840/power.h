/* The one POWER hook another model needs (the rest of POWER's surface is in
 * models.h): the USB regulator follows USBD.ENABLE (nRF52840 PS, USBD "USB power-up sequence").
 * The USBD model calls this with the POWER half of the CLOCK/POWER slot
 * (clock_power_power(); power.c never calls back into the slot) when it is
 * built (with false) and on every change of its ENABLE. Until the first call no USBD
 * model exists and the regulator counts as enabled: USBREGSTATUS.OUTPUTRDY
 * and USBPWRRDY then follow VBUS alone (1 ms after it appears). */
#ifndef EMU_POWER_H
#define EMU_POWER_H

#include <stdbool.h>

#include "soc.h"

struct power;

void power_usb_regulator(struct power *pw, bool usbd_enabled);

#endif
