/* A struct usb_device_hw and a struct usb_vendor_hw for host tests: they
 * record what the device logic asked of the controller, the UART and the
 * board, and let a test set what they report back. */
#ifndef HILDA_FAKE_DEVICE_HW_H
#define HILDA_FAKE_DEVICE_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usb_device.h"

#define FAKE_UART_BYTES 8192

struct fake_device_hw {
    /* controller: halt per endpoint, [direction IN][number] */
    bool halt[2][16];
    unsigned set_halt_calls;
    uint8_t last_halt_ep;
    bool configured;
    unsigned set_configured_calls;
    /* UART: tx collects what uart_write accepted; rx is what uart_read returns */
    uint8_t tx[FAKE_UART_BYTES];
    size_t tx_len;
    uint32_t tx_free;         /* uart_write accepts all of len <= tx_free, else nothing */
    uint8_t rx[FAKE_UART_BYTES];
    size_t rx_len, rx_pos;
    uint32_t baud;
    uint32_t errorsrc;
    unsigned uart_read_calls;
    /* board */
    unsigned reboots;
    bool reboot_into_bootloader;
    unsigned personality_calls;   /* HILDA_REQ_SET_PERSONALITY accepted */
    uint8_t personality, pattern;
};

extern struct fake_device_hw fake;

/* Clears fake to power-on values (tx_free HILDA_UART_TX_CAPACITY, baud
 * HILDA_UART_DEFAULT_BAUD) and returns the hooks that act on it. */
const struct usb_device_hw *fake_device_hw_reset(void);

/* fake_device_hw_reset, then the hilda test function (descriptors with this
 * device ID, vendor protocol) on the fakes, as the firmware's main does. */
void fake_device_start(const uint8_t device_id[8]);

void fake_uart_receive(const uint8_t *data, size_t len);

#endif
