/* Nested interrupts by priority: a higher-priority IRQ pended inside a
 * lower-priority handler preempts it at once; one of equal priority waits and
 * runs after it (tail-chained). Only the top 3 bits of a priority exist. */
#include "emu_test.h"

void irq0_handler(void)
{
    log_value(0xA1);
    irq_pend(1);            /* priority 0x20 < 0xE0: preempts now */
    log_value(0xA2);
    irq_pend(2);            /* same priority as irq0: waits */
    log_value(0xA3);
}

void irq1_handler(void)
{
    uint32_t icsr = REG(SCB_ICSR);
    log_value(0xB0 | (icsr & 0x1FF));               /* VECTACTIVE = 17 */
    check((REG(NVIC_IABR(0)) & 3u) == 3u, 1);       /* irq0 and irq1 both active */
}

void irq2_handler(void)
{
    log_value(0xC0);
}

void test_main(void)
{
    check(REG(SCB_CPUID) == 0x410FC241u, 2);
    REG8(NVIC_IPR(5)) = 0xFF;
    check(REG8(NVIC_IPR(5)) == 0xE0, 3);            /* 3 implemented bits */
    irq_enable(0, 0xE0);
    irq_enable(1, 0x20);
    irq_enable(2, 0xE0);
    irq_pend(0);
    log_value(0xD0);
    check(RESULT->count == 6, 4);
    check(RESULT->log[0] == 0xA1 && RESULT->log[1] == (0xB0 | 17) && RESULT->log[2] == 0xA2 &&
          RESULT->log[3] == 0xA3 && RESULT->log[4] == 0xC0 && RESULT->log[5] == 0xD0, 5);
    check((REG(SCB_ICSR) & 0x1FF) == 0, 6);         /* back in thread mode */
}
