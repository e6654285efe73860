/* Breaks rule 3 through the core itself: a function hands a buffer on its
 * stack to UARTE TX and returns without waiting for ENDTX; the next interrupt
 * stacks its exception frame (r0-r3, r12, lr, pc, xPSR) below SP, on the
 * bytes the transfer still reads. The emulator writes the frame, not a CPU
 * store, so only the sanitizer's frame check can see it. */
#include "sanitizer_test.h"

static volatile unsigned timer0_entries;

static void timer0_handler(void)
{
    timer0_entries++;
}

__attribute__((noinline)) static void send_greeting(void)
{
    volatile uint8_t line[32];
    for (unsigned i = 0; i < sizeof line; i++)
        line[i] = (uint8_t)('a' + i % 26);
    uarte_start_tx(line, sizeof line);
    /* returns with the transfer still reading `line`, now free stack */
}

void test_main(void)
{
    install_timer0_handler(timer0_handler);
    send_greeting();
    /* pended by software, TIMER0 is taken at once: its frame lands on `line`
     * (no call in between, whose own push would be caught first) */
    NRF_REG(SCS_NVIC_ISPR(0), 0) = 1u << NRF_IRQ_TIMER0;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uarte_wait_endtx();
}
