/* The UART's answer when no USB host uses the bridge: a banner at boot and
 * the VT100-style answerback to ENQ (0x05), so a person with a terminal on the
 * UART pins (or a test on the emulator's pseudo-terminal) can see the
 * firmware is alive and the wiring is right. While the host has the device
 * configured the UART is a transparent bridge and ENQ is plain data. */
#ifndef HILDA_CONSOLE_H
#define HILDA_CONSOLE_H

#include <stdint.h>

#define CONSOLE_ENQ 0x05

/* Sends the banner: "hilda <major>.<minor> <serial>\r\n". */
void console_init(const uint8_t device_id[8]);

/* From thread mode after each wake-up: consumes received bytes while the
 * device is not configured and answers each ENQ with the banner. */
void console_poll(void);

#endif
