/* A store to unmapped memory. */
#include "emu_test.h"

void test_main(void)
{
    REG(0x70000010u) = 0x1234;
}
