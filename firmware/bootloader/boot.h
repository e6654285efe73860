/* Whether to start the application or stay in DFU mode: the rules of
 * docs/firmware.md ("The bootloader"), as a pure function of what the chip
 * reports, so the unit tests try each one. */
#ifndef HILDA_BOOT_BOOT_H
#define HILDA_BOOT_BOOT_H

#include <stdbool.h>
#include <stdint.h>

struct boot_inputs {
    bool app_valid;            /* the settings page marks an application valid */
    uint32_t app_sp, app_reset; /* the first two words of its vector table */
    uint32_t resetreas;        /* POWER RESETREAS */
    uint32_t gpregret;         /* POWER GPREGRET */
    bool button;               /* SW1 held */
};

enum boot_choice {
    BOOT_APP,
    BOOT_DFU_NO_APP,           /* no valid application (or its vector table is not one) */
    BOOT_DFU_PIN_RESET,        /* SW2 (pin reset): the dongle's way into DFU mode */
    BOOT_DFU_GPREGRET,         /* the application asked (HILDA_REQ_REBOOT_BOOTLOADER) */
    BOOT_DFU_BUTTON,           /* SW1 held at reset */
};

#define BOOT_RESETREAS_RESETPIN (1u << 0)

enum boot_choice boot_decide(const struct boot_inputs *in);

#endif
