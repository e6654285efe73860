/* A load from unmapped memory. */
#include "emu_test.h"

void test_main(void)
{
    RESULT->scratch[0] = REG(0x60000000u);
}
