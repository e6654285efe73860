/* The board layer: the nRF52840 Dongle (PCA10059) built around the chip and
 * its CPU, and the wiring the outside world reaches (nRF52840 Dongle user guide):
 *   - LEDs LD1 (green, P0.06) and LD2 (red P0.08, green P1.09, blue P0.12),
 *     all active low;
 *   - the user button SW1 on P1.06 (active low, to ground);
 *   - the reset pin (SW2): a system reset recorded as RESETREAS.RESETPIN;
 *   - VBUS: the dongle is bus-powered, so unplugging it is power off.
 * It owns the soc, the chip and the machine and ties them together: the
 * CPU's system reset records RESETREAS.SREQ, POWER.SYSTEMOFF halts the CPU,
 * an NVMC erase drops stale translated code.
 *
 * Images: the board flashes the images it is given (several: a boot loader
 * or Nordic's MBR + boot loader, and an application) into the chip's flash,
 * RAM and UICR, as a programmer would, before the first reset (machine.h
 * says where the CPU then starts).
 *
 * The bench (emu/bench: the FTDI adapter wired to the reset pin and to a
 * load switch in VBUS, docs/rig.md) drives the board through these calls
 * (dongle_reset_hold, dongle_power), as tools and the control channel do. */
#ifndef EMU_BOARD_DONGLE_H
#define EMU_BOARD_DONGLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine.h"
#include "nrf52840.h"
#include "soc.h"
#include "usbd.h"

struct dongle;

#define DONGLE_MAX_IMAGES MACHINE_MAX_IMAGES

struct dongle_options {
    /* ELF or Intel HEX, in load order, up to the first NULL; UICR records
     * are programmed into the UICR. Two images may not write one byte. */
    const char *firmware[DONGLE_MAX_IMAGES];
    FILE *log;                     /* diagnostics; stderr if NULL */
    bool trace_irq;                /* log exception entry/exit with virtual time */
    bool trace_mmio;               /* log every peripheral access */
    bool realtime;                 /* see struct machine_options */
    const char *uart_mode;         /* UARTE0: "pty" (default), "stdio" or "none" */
    uint64_t device_id;            /* FICR DEVICEID of the emulated chip */
    enum usbd_ep0_status_policy ep0_status; /* how the USBD answers EP0's status stage (usbd.h) */
};

/* Builds the soc, the chip with every model (VBUS present) and the CPU,
 * loads the images and resets. NULL with a message on the log if an image
 * cannot be loaded or two overlap. */
struct dongle *dongle_new(const struct dongle_options *opt);
void dongle_free(struct dongle *d);

struct machine *dongle_machine(struct dongle *d);
struct nrf52840 *dongle_chip(struct dongle *d);
struct soc *dongle_soc(struct dongle *d);

/* The reset pin pressed and released: a system reset the chip records as
 * RESETREAS.RESETPIN (GPREGRET survives). */
void dongle_reset_pin(struct dongle *d);

/* The reset pin held low (true) or let go: held, the chip is in reset and
 * USB is disconnected; let go, it starts with RESETREAS.RESETPIN. */
void dongle_reset_hold(struct dongle *d, bool held);
bool dongle_reset_held(const struct dongle *d);
bool dongle_powered(const struct dongle *d);

/* Plugged in (on) or pulled out (off): VBUS and the supply together. Off:
 * VBUS goes away, the CPU and the models stop. On: a power-on reset with
 * VBUS present. */
void dongle_power(struct dongle *d, bool on);

/* SW1 held down (true) or let go. */
void dongle_button(struct dongle *d, bool pressed);

/* The LEDs, by index 0 .. dongle_led_count() - 1: "ld1_green", "ld2_red",
 * "ld2_green", "ld2_blue". Lit: the pin is an output driven low. */
unsigned dongle_led_count(void);
const char *dongle_led_name(unsigned i);
bool dongle_led_lit(const struct dongle *d, unsigned i);

#endif
