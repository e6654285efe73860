/* Breaks the two-transfer rule: UARTE1 TX EasyDMA reads a buffer that UARTE0
 * RX EasyDMA is writing at the same time (a bridge forwarding a buffer
 * before its ENDRX). */
#include "sanitizer_test.h"

static uint8_t line[16];

void test_main(void)
{
    NRF_REG(NRF_UARTE0_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_PTR) = (uint32_t)(uintptr_t)line;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_MAXCNT) = sizeof line;
    NRF_REG(NRF_UARTE0_BASE, UARTE_TASKS_STARTRX) = 1;

    NRF_REG(NRF_UARTE1_BASE, UARTE_BAUDRATE) = 0x01D60000u;   /* 115200 */
    NRF_REG(NRF_UARTE1_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE1_BASE, UARTE_TXD_PTR) = (uint32_t)(uintptr_t)(line + 8);
    NRF_REG(NRF_UARTE1_BASE, UARTE_TXD_MAXCNT) = 8;
    NRF_REG(NRF_UARTE1_BASE, UARTE_TASKS_STARTTX) = 1;       /* UARTE0 has not ended RX */
}
