/* The bare layout's page 0 (docs/firmware.md): on a chip without Nordic's
 * MBR the CPU boots from the vector table at 0x0, so this stub stands where
 * the MBR would and does the one thing of the MBR's that hilda needs: start
 * the bootloader from its vector table at DFU_BOOTLOADER_START. Everything
 * else (VTOR, interrupts) the bootloader and the application set up
 * themselves. No RAM, no C runtime: two loads and a branch. */
#include <stdint.h>

#include "hilda/dfu.h"

void stub_reset(void);
void stub_hang(void);

__attribute__((naked, section(".stub_text"))) void stub_reset(void)
{
    __asm__ volatile("ldr r0, =%c0\n"
                     "ldr r1, [r0]\n"
                     "msr msp, r1\n"
                     "ldr r1, [r0, #4]\n"
                     "bx r1\n"
                     ".ltorg\n" ::"i"(DFU_BOOTLOADER_START));
}

/* A fault before the bootloader took over: stop where a debugger sees it. */
__attribute__((naked, section(".stub_text"))) void stub_hang(void)
{
    __asm__ volatile("b .");
}

typedef void (*vector_t)(void);

__attribute__((section(".stub_vectors"), used))
const vector_t stub_vectors[16] = {
    (vector_t)0x20001000u,      /* any RAM: nothing runs on it before stub_reset sets the bootloader's */
    stub_reset,
    stub_hang, stub_hang, stub_hang, stub_hang, stub_hang,
    0, 0, 0, 0,
    stub_hang, stub_hang, 0, stub_hang, stub_hang,
};
