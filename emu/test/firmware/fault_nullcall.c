/* A call through a NULL function pointer: BLX to address 0, whose bit 0 (the
 * Thumb bit) is clear. On a Cortex-M4 the branch itself succeeds and the
 * first instruction at the target raises an INVSTATE UsageFault (CFSR bit
 * 17), which escalates to HardFault. The run must end with that report. */
#include "emu_test.h"

typedef void (*callback_t)(void);

/* volatile: the compiler must not see the NULL and drop the call */
static callback_t volatile on_event;

void test_main(void)
{
    RESULT->scratch[0] = 0x11u;    /* reached the call */
    on_event();
    RESULT->scratch[0] = 0x22u;    /* never: the call faults */
}
