/* Follows every rule: writes the buffer, hands it to TX, waits for ENDTX,
 * only then reuses it; RX is read only after ENDRX. The sanitizer must stay
 * silent (no false positives). */
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
    /* MAXCNT 0 touches no memory: any pointer is legal (§5) */
    uarte_start_tx((const volatile uint8_t *)0, 0);
    uarte_wait_endtx();
}
