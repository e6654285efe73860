/* The nRF52840 Dongle (PCA10059) around the chip: clocks, LEDs, the user
 * button, the cycle counter, resets (nRF52840 Dongle user guide; PS "RESET"). */
#ifndef HILDA_BOARD_H
#define HILDA_BOARD_H

#include <stdbool.h>
#include <stdint.h>

enum board_led {
    LED_CONFIGURED,   /* LD1 green, P0.06: the host configured the device */
    LED_ALIVE,        /* LD2 green, P1.09: firmware running */
    LED_ACTIVITY,     /* LD2 blue, P0.12: toggles on every SETUP */
    LED_FAULT,        /* LD2 red, P0.08: a fault handler ran */
};

/* The bootloader blinks LD2 red in DFU mode (the factory one breathes it). */
#define LED_DFU LED_FAULT

/* UARTE0 pins on the dongle's castellated edge (§6.1, the ones Zephyr's board
 * file uses): TX P0.20, RX P0.24, and for hardware flow control RTS P0.17
 * (output: low = send to me) and CTS P0.22 (input: low = I may send). CTS
 * has a pull-up, so a bench must wire it (docs/rig.md): left open, it holds
 * TX off. */
#define BOARD_UART_TX_PIN 20u
#define BOARD_UART_RX_PIN 24u
#define BOARD_UART_RTS_PIN 17u
#define BOARD_UART_CTS_PIN 22u

void board_init(void);
void board_led(enum board_led led, bool on);
void board_led_toggle(enum board_led led);
bool board_button_pressed(void);
/* SW1 before board_init (the bootloader's boot decision): pull-up on, one
 * sample once it settled, and the pin back to its reset state. */
bool board_button_sample(void);
uint32_t board_cycles(void);           /* DWT CYCCNT, 64 MHz */
void board_device_id(uint8_t id[8]);   /* FICR DEVICEID0, DEVICEID1, little-endian */
void board_nvic_enable(unsigned irq);
void board_reboot(bool into_bootloader) __attribute__((noreturn));
void board_fault(void) __attribute__((noreturn));

#endif
