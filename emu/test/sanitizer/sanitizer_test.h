#ifndef SANITIZER_TEST_H
#define SANITIZER_TEST_H

#include <stdint.h>

#include "nrf52840.h"

void test_main(void);
void uarte_start_tx(const volatile uint8_t *buf, uint32_t len);
void uarte_wait_endtx(void);

#endif
