/* Breaks the two-transfer rule with two writers: UARTE0 RX and UARTE1 RX
 * EasyDMA both latch buffers that share bytes, so whichever receives last
 * wins. */
#include "sanitizer_test.h"

static uint8_t rx[24];

void test_main(void)
{
    NRF_REG(NRF_UARTE0_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_PTR) = (uint32_t)(uintptr_t)rx;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_MAXCNT) = 16;
    NRF_REG(NRF_UARTE0_BASE, UARTE_TASKS_STARTRX) = 1;

    NRF_REG(NRF_UARTE1_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE1_BASE, UARTE_RXD_PTR) = (uint32_t)(uintptr_t)(rx + 8);   /* rx[8..15] is UARTE0's */
    NRF_REG(NRF_UARTE1_BASE, UARTE_RXD_MAXCNT) = 16;
    NRF_REG(NRF_UARTE1_BASE, UARTE_TASKS_STARTRX) = 1;
}
