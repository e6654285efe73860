/* UARTE over EasyDMA: TX from a static ring, RX double-buffered into a ring
 * the host drains through the vendor bridge (nRF52840 PS "UARTE"). */
#ifndef HILDA_UARTE_H
#define HILDA_UARTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/protocol.h"

/* Pins in PSEL format (pin | port << 5). With hwfc, RTS and CTS are routed
 * and CONFIG.HWFC is set (see uarte.c, "Flow control"). */
struct uarte_config {
    uintptr_t base;         /* NRF_UARTE0_BASE; unit tests pass a fake block */
    uint32_t pin_tx, pin_rx;
    bool hwfc;
    uint32_t pin_rts, pin_cts;
    uint32_t baud;
};

void uarte_init(const struct uarte_config *cfg);
void uarte_irq(void);

size_t uarte_write(const uint8_t *data, size_t len);   /* bytes queued (all or none) */
size_t uarte_read(uint8_t *data, size_t len);
bool uarte_set_baud(uint32_t baud);                    /* false: not a supported rate */
void uarte_status(struct hilda_uart_status *status);

/* BAUDRATE register value for a rate from HILDA_UART_BAUDS, 0 if unsupported (§4.1). */
uint32_t uarte_baud_register(uint32_t baud);

#endif
