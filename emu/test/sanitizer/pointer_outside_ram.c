/* Breaks rule 1: EasyDMA pointed at flash (a const string), which real
 * silicon cannot read (nRF52840 PS "EasyDMA": HardFault or RAM corruption). */
#include "sanitizer_test.h"

static const uint8_t in_flash[] = "const data lives in flash";

void test_main(void)
{
    uarte_start_tx((const volatile uint8_t *)in_flash, sizeof in_flash);
    uarte_wait_endtx();
}
