/* Flash takes CPU stores only while NVMC CONFIG.WEN is set; a store
 * without it is a fault. */
#include "emu_test.h"

#define NVMC_CONFIG 0x4001E504u

void test_main(void)
{
    REG(NVMC_CONFIG) = 1;
    REG(0x00080000u) = 0x12345678u;
    REG(NVMC_CONFIG) = 0;
    RESULT->scratch[0] = REG(0x00080000u);
    REG(0x00080004u) = 0x9ABCDEF0u;
}
