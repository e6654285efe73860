/* Start-up for the sanitizer test firmwares: a vector table and a reset
 * handler that calls test_main and then sleeps. Each test firmware breaks one
 * DMA ownership rule on purpose (or, clean.c, none) so that hilda-emu's
 * sanitizer can be shown to catch it. */
#include <stdint.h>

#include "sanitizer_test.h"

extern uint32_t __stack_top[];
void reset_handler(void);

__attribute__((section(".vectors"), used))
const void *const vectors[16] = {
    __stack_top,
    (const void *)reset_handler,
};

void reset_handler(void)
{
    test_main();
    for (;;)
        __asm__ volatile("wfi");
}

void uarte_start_tx(const volatile uint8_t *buf, uint32_t len)
{
    NRF_REG(NRF_UARTE0_BASE, UARTE_BAUDRATE) = 0x01D60000u;   /* 115200: 87 us a byte */
    NRF_REG(NRF_UARTE0_BASE, UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    NRF_REG(NRF_UARTE0_BASE, UARTE_TXD_PTR) = (uint32_t)(uintptr_t)buf;
    NRF_REG(NRF_UARTE0_BASE, UARTE_TXD_MAXCNT) = len;
    NRF_REG(NRF_UARTE0_BASE, UARTE_EVENTS_ENDTX) = 0;
    __asm__ volatile("dmb" ::: "memory");
    NRF_REG(NRF_UARTE0_BASE, UARTE_TASKS_STARTTX) = 1;
}

void uarte_wait_endtx(void)
{
    while (!NRF_REG(NRF_UARTE0_BASE, UARTE_EVENTS_ENDTX))
        ;
    __asm__ volatile("dmb" ::: "memory");
}

/* VTOR needs the table aligned to its size rounded up to a power of two. */
static void (*ram_vectors[16 + NRF_IRQ_COUNT])(void) __attribute__((aligned(256)));

void install_timer0_handler(void (*handler)(void))
{
    for (unsigned i = 0; i < 16; i++)
        ram_vectors[i] = (void (*)(void))vectors[i];
    ram_vectors[16 + NRF_IRQ_TIMER0] = handler;
    NRF_REG(SCS_VTOR, 0) = (uint32_t)(uintptr_t)ram_vectors;
    NRF_REG(SCS_NVIC_ISER(0), 0) = 1u << NRF_IRQ_TIMER0;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}
