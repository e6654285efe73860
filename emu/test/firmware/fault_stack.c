/* The exception frame would go below RAM: stack overflow. */
#include "emu_test.h"

void test_main(void)
{
    __asm__ volatile(
        "ldr r0, =0x20000010\n mov sp, r0\n"
        "ldr r0, =0xE000ED04\n ldr r1, =0x10000000\n str r1, [r0]\n dsb\n isb\n"
        "b .\n .ltorg" ::: "r0", "r1", "memory");
}
