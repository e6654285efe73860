/* A fault with FAULTMASK set cannot escalate to HardFault: lockup. */
#include "emu_test.h"

void test_main(void)
{
    __asm__ volatile("cpsid f\n udf #1" ::: "memory");
}
