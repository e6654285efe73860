/* SCR.SLEEPONEXIT: after the first interrupt the CPU goes back to sleep on
 * every return to thread mode, without running thread code, until a handler
 * clears the bit. */
#include "emu_test.h"

static volatile uint32_t ticks;

void systick_handler(void)
{
    if (++ticks == 5) {
        REG(SCB_SCR) &= ~2u;
        REG(SYST_CSR) = 0;
    }
}

void test_main(void)
{
    REG(SYST_RVR) = 6400 - 1;
    REG(SYST_CVR) = 0;
    REG(SCB_SCR) |= 2u;
    REG(SYST_CSR) = 7;
    __asm__ volatile("wfi" ::: "memory");
    RESULT->scratch[0] = ticks;                       /* thread code ran again only now */
    check(ticks == 5, 1);
}
