/* An endless loop with interrupts disabled: the run must still end at its
 * deadline. */
#include "emu_test.h"

void test_main(void)
{
    RESULT->scratch[0] = 1;
    __asm__ volatile("cpsid i\n 1: b 1b" ::: "memory");
}
