/* Breaks rule 3 the other way: the CPU reads a buffer UARTE RX EasyDMA is
 * writing, before ENDRX hands it back. */
#include "sanitizer_test.h"

static volatile uint8_t rx[8];
volatile uint8_t sink;

void test_main(void)
{
    NRF_REG(NRF_UARTE0_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_PTR) = (uint32_t)(uintptr_t)rx;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_MAXCNT) = sizeof rx;
    NRF_REG(NRF_UARTE0_BASE, UARTE_TASKS_STARTRX) = 1;
    sink = rx[0];                     /* nothing received yet: ENDRX has not come */
}
