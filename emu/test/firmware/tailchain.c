/* Tail-chaining order: four exceptions pended while PRIMASK is set run, once
 * it is cleared, highest priority first and, at equal priority, lowest
 * exception number first, one after the other without returning to thread. */
#include "emu_test.h"

static void note(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    log_value(ipsr);
}

void irq3_handler(void) { note(); }
void irq5_handler(void) { note(); }
void irq7_handler(void) { note(); }
void pendsv_handler(void) { note(); }

void test_main(void)
{
    irq_enable(3, 0x40);
    irq_enable(5, 0x40);
    irq_enable(7, 0x20);
    REG(SCB_SHPR3) = (REG(SCB_SHPR3) & ~0x00FF0000u) | 0x00400000u;   /* PendSV 0x40 */
    __asm__ volatile("cpsid i" ::: "memory");
    irq_pend(5);
    irq_pend(3);
    REG(SCB_ICSR) = ICSR_PENDSVSET;
    irq_pend(7);
    check(RESULT->count == 0, 1);                   /* all masked */
    check(((REG(SCB_ICSR) >> 12) & 0x1FF) == 16 + 7, 2);   /* VECTPENDING */
    __asm__ volatile("cpsie i\n isb" ::: "memory");
    log_value(0);
    check(RESULT->count == 5, 3);
    check(RESULT->log[0] == 16 + 7 && RESULT->log[1] == 14 && RESULT->log[2] == 16 + 3 &&
          RESULT->log[3] == 16 + 5 && RESULT->log[4] == 0, 4);
}
