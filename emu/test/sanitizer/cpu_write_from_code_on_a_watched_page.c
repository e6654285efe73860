/* Breaks rule 3 from code in RAM on the page the transfer partly owns:
 * code_on_a_watched_page.c with its counter inside the bytes being sent.
 * On Unicorn 2.1 the code's fetches map the page itself and its data
 * accesses the watch window (emu/cpu/machine.c, tlb_fill): the write must
 * be seen although the code runs from the watched page. */
#define STEP_TARGET ((volatile uint32_t *)&page.tx[4])
#include "code_on_a_watched_page.c"
