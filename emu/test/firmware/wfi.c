/* WFI sleeps until SysTick wakes it (virtual time jumps); WFE honours the
 * event register (SEV). */
#include "emu_test.h"

static volatile uint32_t ticks;

void systick_handler(void)
{
    ticks++;
}

void test_main(void)
{
    cycle_counter_on();
    REG(SYST_RVR) = 64000 - 1;                        /* 1 ms */
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 7;
    for (int i = 0; i < 5; i++) {
        uint32_t before = ticks;
        __asm__ volatile("wfi" ::: "memory");
        check(ticks == before + 1, 1);
        log_value(REG(DWT_CYCCNT));
    }
    REG(SYST_CSR) = 0;
    check(RESULT->log[4] - RESULT->log[0] > 4 * 64000 - 1000, 2);

    /* the event register: SEV then WFE returns at once (nothing else would wake it) */
    __asm__ volatile("sev\n wfe\n sev\n wfe" ::: "memory");
    /* WFE woken by an interrupt */
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 7;
    while (ticks < 8)
        __asm__ volatile("wfe" ::: "memory");
    REG(SYST_CSR) = 0;
}
