/* SysTick counts the core clock in virtual time: a 100 us period gives
 * interrupts 6400 cycles apart on the DWT cycle counter. */
#include "emu_test.h"

static volatile uint32_t ticks;

void systick_handler(void)
{
    log_value(REG(DWT_CYCCNT));
    ticks++;
}

void test_main(void)
{
    cycle_counter_on();
    REG(SYST_RVR) = 6400 - 1;
    REG(SYST_CVR) = 0;
    check((REG(SYST_CSR) & (1u << 16)) == 0, 1);
    REG(SYST_CSR) = 7;                                /* enable, interrupt, core clock */
    uint32_t a = REG(SYST_CVR);
    for (volatile int i = 0; i < 20; i++)
        ;
    uint32_t b = REG(SYST_CVR);
    check(a <= 6400 && b < a, 2);                     /* counts down */
    while (ticks < 6)
        ;
    REG(SYST_CSR) = 0;
    for (uint32_t i = 1; i < 6; i++) {
        uint32_t d = RESULT->log[i] - RESULT->log[i - 1];
        check(d > 6400 - 64 && d < 6400 + 64, 10 + i);
    }
    /* COUNTFLAG: set by a wrap, cleared by reading */
    REG(SYST_RVR) = 99;
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 1;                                /* no interrupt */
    for (volatile int i = 0; i < 200; i++)
        ;
    check((REG(SYST_CSR) & (1u << 16)) != 0, 4);
    REG(SYST_CSR) = 0;
    check((REG(SYST_CSR) & (1u << 16)) == 0, 5);
}
