/* PRIMASK, BASEPRI and FAULTMASK: what they hold back and when it runs. */
#include "emu_test.h"

void irq0_handler(void) { log_value(0x10); }
void irq1_handler(void) { log_value(0x11); }
void irq2_handler(void) { log_value(0x12); }

static void set_basepri(uint32_t v)
{
    __asm__ volatile("msr basepri, %0\n isb" : : "r"(v) : "memory");
}

void test_main(void)
{
    irq_enable(0, 0x40);
    irq_enable(1, 0x20);
    irq_enable(2, 0x60);

    /* BASEPRI 0x40 masks priorities 0x40 and lower (numerically >= 0x40) */
    set_basepri(0x40);
    irq_pend(0);
    check(RESULT->count == 0, 1);
    irq_pend(1);
    check(RESULT->count == 1 && RESULT->log[0] == 0x11, 2);
    set_basepri(0);
    check(RESULT->count == 2 && RESULT->log[1] == 0x10, 3);

    /* PRIMASK masks every configurable priority */
    __asm__ volatile("cpsid i" ::: "memory");
    irq_pend(1);
    irq_pend(2);
    check(RESULT->count == 2, 4);
    __asm__ volatile("cpsie i\n isb" ::: "memory");
    check(RESULT->count == 4 && RESULT->log[2] == 0x11 && RESULT->log[3] == 0x12, 5);

    /* FAULTMASK too */
    __asm__ volatile("cpsid f" ::: "memory");
    irq_pend(0);
    check(RESULT->count == 4, 6);
    __asm__ volatile("cpsie f\n isb" ::: "memory");
    check(RESULT->count == 5 && RESULT->log[4] == 0x10, 7);

    /* a disabled interrupt stays pending until enabled */
    REG(NVIC_ICER(0)) = 1u << 2;
    irq_pend(2);
    check(RESULT->count == 5 && (REG(NVIC_ISPR(0)) & 4u), 8);
    REG(NVIC_ISER(0)) = 1u << 2;
    __asm__ volatile("isb" ::: "memory");
    check(RESULT->count == 6 && RESULT->log[5] == 0x12, 9);

    /* BASEPRI with only unimplemented bits set masks nothing */
    set_basepri(0x10);
    irq_pend(2);
    check(RESULT->count == 7, 10);
    set_basepri(0);
}
