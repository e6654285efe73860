/* The nRF52840's peripheral models, assembled on a struct soc, and the
 * handles the control channel and the USB bridge need. Each model is one file
 * in emu/periph/. */
#ifndef EMU_NRF52840_H
#define EMU_NRF52840_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"

struct nrf52840;

struct nrf52840_config {
    const char *uart_mode;     /* "pty", "stdio" or "none" */
    uint64_t device_id;        /* FICR DEVICEID (DEVICEID1 << 32 | DEVICEID0) */
    bool vbus;                 /* USB plugged in at power-on */
};

struct nrf52840 *nrf52840_new(struct soc *soc, const struct nrf52840_config *cfg);
void nrf52840_free(struct nrf52840 *chip);

/* GPIO: port 0 or 1. OUT and DIR registers, and the level a pin shows. */
uint32_t nrf52840_gpio_out(const struct nrf52840 *chip, unsigned port);
uint32_t nrf52840_gpio_dir(const struct nrf52840 *chip, unsigned port);
/* Drive an input from outside (a button): level true = high. */
void nrf52840_gpio_drive(struct nrf52840 *chip, unsigned port, unsigned pin, bool level);

/* USB cable: VBUS on/off raises USBDETECTED/USBREMOVED (and USBPWRRDY
 * once the regulator would be up) in the POWER model. */
void nrf52840_set_vbus(struct nrf52840 *chip, bool present);

/* The pseudo-terminal of UARTE instance 0 or 1 ("" if not a pty). */
const char *nrf52840_uart_path(const struct nrf52840 *chip, unsigned instance);

/* POWER.RESETREAS bits to record for the next reset (pin reset, SREQ...). */
void nrf52840_note_reset_reason(struct nrf52840 *chip, uint32_t resetreas_bits);

#endif
