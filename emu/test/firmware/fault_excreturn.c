/* A handler returns with a value that is no EXC_RETURN. */
#include "emu_test.h"

__attribute__((naked)) void pendsv_handler(void)
{
    __asm__ volatile("ldr r0, =0xFFFFFFF5\n bx r0\n .ltorg");
}

void test_main(void)
{
    REG(SCB_ICSR) = ICSR_PENDSVSET;
    __asm__ volatile("dsb\n isb" ::: "memory");
}
