/* Breaks rule 3 the other way through the core: an interrupt handler points
 * UARTE RX EasyDMA at its own exception frame (a stack pointer gone stale)
 * and returns; the exception return unstacks r0-r3, r12, lr, pc and xPSR
 * from bytes the transfer owns and may overwrite at any moment. */
#include "sanitizer_test.h"

static void timer0_handler(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));   /* a leaf handler: SP is the frame */
    NRF_REG(NRF_UARTE0_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_PTR) = sp;
    NRF_REG(NRF_UARTE0_BASE, UARTE_RXD_MAXCNT) = 8;
    NRF_REG(NRF_UARTE0_BASE, UARTE_TASKS_STARTRX) = 1;
}

void test_main(void)
{
    install_timer0_handler(timer0_handler);
    NRF_REG(SCS_NVIC_ISPR(0), 0) = 1u << NRF_IRQ_TIMER0;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}
