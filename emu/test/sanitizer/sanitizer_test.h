#ifndef SANITIZER_TEST_H
#define SANITIZER_TEST_H

#include <stdint.h>

#include "nrf52840.h"

void test_main(void);
void uarte_start_tx(const volatile uint8_t *buf, uint32_t len);
void uarte_wait_endtx(void);
/* A vector table in RAM with handler for TIMER0 (start.c's has only the
 * core's first two entries), TIMER0 enabled in the NVIC: the test then pends
 * it by software (NVIC ISPR) to take an interrupt where it wants one. */
void install_timer0_handler(void (*handler)(void));

#endif
