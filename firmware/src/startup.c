/* Vector table and reset handler for the Cortex-M4F (ARMv7-M ARM §B1.5). */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "nrf52840.h"

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __start_dma_buffers[], __stop_dma_buffers[];
extern uint32_t __stack_top[];

int main(void);
void reset_handler(void);
void default_handler(void);
void fault_handler(void);

/* Every unexpected interrupt lands here. Its IPSR names the vector, which
 * a debugger or hilda-emu shows; the board marks the fault on the red LED. */
void default_handler(void)
{
    board_fault();
}

void fault_handler(void)
{
    board_fault();
}

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("default_handler")))
WEAK_HANDLER(svc_handler);
WEAK_HANDLER(pendsv_handler);
WEAK_HANDLER(systick_handler);
WEAK_HANDLER(power_clock_vector);
WEAK_HANDLER(uarte0_vector);
WEAK_HANDLER(timer0_vector);
WEAK_HANDLER(usbd_vector);

typedef void (*vector_t)(void);

/* Every external interrupt defaults to default_handler (so a stray one never
 * jumps to address 0), then the ones hilda uses are overridden. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".vectors"), used))
const vector_t vector_table[16 + NRF_IRQ_COUNT] = {
    [16 ... 16 + NRF_IRQ_COUNT - 1] = default_handler,
    [0] = (vector_t)(uintptr_t)__stack_top,
    [1] = reset_handler,
    [2] = fault_handler,        /* NMI */
    [3] = fault_handler,        /* HardFault */
    [4] = fault_handler,        /* MemManage */
    [5] = fault_handler,        /* BusFault */
    [6] = fault_handler,        /* UsageFault */
    [11] = svc_handler,
    [14] = pendsv_handler,
    [15] = systick_handler,
    [16 + NRF_IRQ_CLOCK_POWER] = power_clock_vector,
    [16 + NRF_IRQ_UARTE0] = uarte0_vector,
    [16 + NRF_IRQ_TIMER0] = timer0_vector,
    [16 + NRF_IRQ_USBD] = usbd_vector,
};
#pragma GCC diagnostic pop

void reset_handler(void)
{
    /* .data from flash, then .bss and the DMA pool zeroed: plain word loops,
     * because nothing (not even memcpy) may run on uninitialised statics. */
    // cppcheck-suppress comparePointers ; __data_start and __data_end are the linker's bounds of one section
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;)
        *dst++ = *src++;
    // cppcheck-suppress comparePointers ; __bss_start and __bss_end are the linker's bounds of one section
    for (uint32_t *p = __bss_start; p < __bss_end;)
        *p++ = 0;
    // cppcheck-suppress comparePointers ; the linker's bounds of the dma_buffers section
    for (uint32_t *p = __start_dma_buffers; p < __stop_dma_buffers;)
        *p++ = 0;

    /* Our table, not the MBR's: under the factory MBR the app runs from 0x1000. */
    NRF_REG(0, SCS_VTOR) = (uint32_t)(uintptr_t)vector_table;
    /* Full access to CP10/CP11 before any floating-point instruction can run. */
    NRF_REG(0, SCS_CPACR) |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");

    main();
    for (;;)
        __asm__ volatile("wfi");
}
