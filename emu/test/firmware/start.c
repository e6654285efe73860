/* Start-up shared by the core test firmwares: a full vector table whose
 * unused entries record an unexpected exception, .data/.bss set-up, the FPU
 * enabled, then test_main and sleep. */
#include "emu_test.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[], __stack_top[];

void reset_handler(void);
void unexpected_handler(void);

#define HANDLER(name) void name(void) __attribute__((weak, alias("unexpected_handler")))
HANDLER(nmi_handler);
HANDLER(hardfault_handler);
HANDLER(svc_handler);
HANDLER(pendsv_handler);
HANDLER(systick_handler);
HANDLER(irq0_handler);
HANDLER(irq1_handler);
HANDLER(irq2_handler);
HANDLER(irq3_handler);
HANDLER(irq4_handler);
HANDLER(irq5_handler);
HANDLER(irq6_handler);
HANDLER(irq7_handler);
HANDLER(irq40_handler);

typedef void (*vector_t)(void);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".vectors"), used))
const vector_t vector_table[16 + 48] = {
    [2 ... 16 + 47] = unexpected_handler,
    [0] = (vector_t)(uintptr_t)__stack_top,
    [1] = reset_handler,
    [2] = nmi_handler,
    [3] = hardfault_handler,
    [11] = svc_handler,
    [14] = pendsv_handler,
    [15] = systick_handler,
    [16] = irq0_handler,
    [17] = irq1_handler,
    [18] = irq2_handler,
    [19] = irq3_handler,
    [20] = irq4_handler,
    [21] = irq5_handler,
    [22] = irq6_handler,
    [23] = irq7_handler,
    [16 + 40] = irq40_handler,
};
#pragma GCC diagnostic pop

void unexpected_handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    check(0, 0xE0000000u | ipsr);
    RESULT->magic = RESULT_DONE;
    for (;;)
        __asm__ volatile("cpsid i\n wfi");
}

void reset_handler(void)
{
    // cppcheck-suppress comparePointers ; the linker's bounds of one section
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    // cppcheck-suppress comparePointers ; the linker's bounds of one section
    for (uint32_t *p = __bss_start; p < __bss_end;)
        *p++ = 0;
    REG(SCB_CPACR) |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
    test_main();
    RESULT->magic = RESULT_DONE;
    for (;;)
        __asm__ volatile("wfi");
}
