/* Linked at 0x1000 like the dongle image. Before the firmware writes VTOR,
 * exceptions go through the image's table at 0x1000; a table copied to RAM
 * takes over once VTOR points at it; AIRCR.SYSRESETREQ restarts from 0x1000
 * with VTOR back there and RAM kept. */
#include "emu_test.h"

extern void (*const vector_table[64])(void);
static volatile uint32_t pendsv_runs, ram_pendsv_runs;
static void (*ram_table[64])(void) __attribute__((aligned(256)));

void pendsv_handler(void)
{
    pendsv_runs++;
}

static void ram_pendsv(void)
{
    ram_pendsv_runs++;
}

void test_main(void)
{
    uint32_t boot = ++RESULT->boots;
    log_value(REG(SCB_VTOR));
    check(REG(SCB_VTOR) == 0x1000u, boot * 16 + 1);
    check((uint32_t)(uintptr_t)vector_table == 0x1000u, boot * 16 + 2);
    REG(SCB_ICSR) = ICSR_PENDSVSET;
    __asm__ volatile("dsb\n isb" ::: "memory");
    check(pendsv_runs == 1, boot * 16 + 3);
    if (boot == 2) {
        for (int i = 0; i < 64; i++)
            ram_table[i] = vector_table[i];
        ram_table[14] = ram_pendsv;
        REG(SCB_VTOR) = (uint32_t)(uintptr_t)ram_table;
        REG(SCB_ICSR) = ICSR_PENDSVSET;
        __asm__ volatile("dsb\n isb" ::: "memory");
        check(ram_pendsv_runs == 1 && pendsv_runs == 1, boot * 16 + 4);
    }
    if (boot < 3) {
        REG(SCB_AIRCR) = 0x05FA0004u;
        __asm__ volatile("dsb" ::: "memory");
        for (;;)
            ;
    }
}
