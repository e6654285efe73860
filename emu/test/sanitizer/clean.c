/* Follows every rule: writes the buffer, hands it to TX, waits for ENDTX,
 * only then reuses it; RX is read only after ENDRX; two TX transfers read one
 * buffer at once (two readers are legal). The sanitizer must stay silent (no
 * false positives). */
#include "sanitizer_test.h"

static volatile uint8_t tx[8];

void test_main(void)
{
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < sizeof tx; i++)
            tx[i] = (uint8_t)('a' + round + i);
        uarte_start_tx(tx, sizeof tx);
        uarte_wait_endtx();
    }
    /* UARTE1 and UARTE0 send the same buffer at the same time: both only read it */
    NRF_REG(NRF_UARTE1_BASE, UARTE_BAUDRATE) = 0x01D60000u;   /* 115200 */
    NRF_REG(NRF_UARTE1_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE1_BASE, UARTE_TXD_PTR) = (uint32_t)(uintptr_t)tx;
    NRF_REG(NRF_UARTE1_BASE, UARTE_TXD_MAXCNT) = sizeof tx;
    NRF_REG(NRF_UARTE1_BASE, UARTE_EVENTS_ENDTX) = 0;
    NRF_REG(NRF_UARTE1_BASE, UARTE_TASKS_STARTTX) = 1;
    uarte_start_tx(tx, sizeof tx);
    uarte_wait_endtx();
    while (!NRF_REG(NRF_UARTE1_BASE, UARTE_EVENTS_ENDTX))
        ;
    /* MAXCNT 0 touches no memory: any pointer is legal (§5) */
    uarte_start_tx((const volatile uint8_t *)0, 0);
    uarte_wait_endtx();
}
