/* Breaks rule 3: the CPU writes into a buffer while UARTE TX EasyDMA still
 * reads it (the bug the seeds' Ep0In busy flag prevents). */
#include "sanitizer_test.h"

static volatile uint8_t tx[16] = "hello, sanitizer";

void test_main(void)
{
    uarte_start_tx(tx, sizeof tx);
    tx[8] = '!';                      /* the transfer owns this byte until ENDTX */
    uarte_wait_endtx();
}
