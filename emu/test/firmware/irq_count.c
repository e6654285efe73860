/* Sleeps in WFI with IRQ 7 enabled (SAADC's line: no model drives it) and
 * counts every IRQ 7 it takes in scratch[0]. The native test pulses the line
 * from events of its own and checks that the CPU took each interrupt before
 * the next pulse came. */
#include "emu_test.h"

void irq7_handler(void)
{
    RESULT->scratch[0]++;
}

void test_main(void)
{
    RESULT->scratch[0] = 0;
    irq_enable(7, 0);
}
