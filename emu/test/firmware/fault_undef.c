/* An undefined instruction: the run ends with a fault report. */
#include "emu_test.h"

void test_main(void)
{
    __asm__ volatile("udf #0x42");
}
