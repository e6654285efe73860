/* Breaks rule 3 after the watch has moved on: ten TX transfers, each from
 * a page (1 KiB) of its own, with legal writes between them, then a TX
 * from the first page again and a write into it while it is sent. On
 * Unicorn 2.1 the CPU layer watches whole pages through its TLB, keeps a
 * page a while after its transfer ended and drops more than eight such
 * pages at once (emu/cpu/machine.c, machine_set_ram_watch): the write must
 * be seen all the same, and the legal ones must not. */
#include "sanitizer_test.h"

static volatile uint8_t pages[10][1024] __attribute__((aligned(1024)));

void test_main(void)
{
    for (unsigned p = 0; p < 10; p++) {
        pages[p][0] = (uint8_t)('a' + p);   /* legal: nothing owns it yet */
        uarte_start_tx(pages[p], 4);
        pages[p][100] = 1;                  /* legal: the transfer owns [0, 4) only */
        uarte_wait_endtx();
        pages[0][1] = 'x';                  /* legal: the transfer ended */
    }
    uarte_start_tx(pages[0], 16);
    pages[0][8] = '!';                      /* the transfer owns this byte until ENDTX */
    uarte_wait_endtx();
}
