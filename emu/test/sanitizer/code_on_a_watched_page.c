/* Follows every rule, with code in RAM on a page a TX transfer partly
 * owns: the code is copied there before the transfer starts, then called
 * (through both views of RAM: 0x20000000 and its code alias at 0x00800000)
 * while the transfer sends the first 16 bytes of the page, and it reads and
 * writes a counter on the same page; then, the transfer still running, one
 * instruction of it is rewritten (+1 becomes +2) and it is called again. On
 * Unicorn 2.1 the CPU layer sends the data accesses of a watched page
 * through its watch window and fetches from the page itself
 * (emu/cpu/machine.c, tlb_fill): the code must run right, the rewritten
 * code must be the one that runs, and the sanitizer must stay silent. A
 * wrong count ends the run with a fault (a store to an address nothing
 * answers). cpu_write_from_code_on_a_watched_page.c points the code at the
 * transfer's bytes instead, which must be reported. */
#include <stdbool.h>

#include "sanitizer_test.h"

#define CODE_ALIAS_OFFSET 0x1F800000u   /* 0x20000000 - 0x00800000 */

static struct {
    uint8_t tx[16];
    uint16_t code[8];
    uint32_t counter;
} page __attribute__((aligned(1024)));

/* counter_step(p): *p += 1; return *p;  (Thumb) */
static const uint16_t counter_step[] = {
    0x6801,   /* ldr  r1, [r0]   */
    0x3101,   /* adds r1, #1     */
    0x6001,   /* str  r1, [r0]   */
    0x4608,   /* mov  r0, r1     */
    0x4770,   /* bx   lr         */
};

typedef uint32_t (*step_fn)(volatile uint32_t *counter);

#ifndef STEP_TARGET
#define STEP_TARGET (&page.counter)
#endif

void test_main(void)
{
    for (unsigned i = 0; i < sizeof counter_step / sizeof counter_step[0]; i++)
        page.code[i] = counter_step[i];
    for (unsigned i = 0; i < sizeof page.tx; i++)
        page.tx[i] = (uint8_t)('A' + i);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    step_fn data_view = (step_fn)((uintptr_t)page.code | 1u);
    step_fn code_view = (step_fn)(((uintptr_t)page.code - CODE_ALIAS_OFFSET) | 1u);

    uarte_start_tx(page.tx, sizeof page.tx);
    bool counted = true;
    for (unsigned i = 0; i < 50; i++) {
        uint32_t before = data_view(STEP_TARGET);
        counted = counted && code_view(STEP_TARGET) == before + 1;
    }
    page.code[1] = 0x3102;                    /* adds r1, #2 */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uint32_t last = data_view(STEP_TARGET);
    bool sending = !NRF_REG(NRF_UARTE0_BASE, UARTE_EVENTS_ENDTX);
    uarte_wait_endtx();
    if (!sending || !counted || last != 102 || page.counter != 102)
        *(volatile uint32_t *)0xB0000000u = last;   /* nothing answers there: a fault */
}
