/* The FP frame: an interrupt handler that uses S0-S15 and FPSCR while the
 * interrupted thread has live FP values; the 26-word frame must bring them
 * back. Without FP state in thread mode the frame is the basic one. */
#include "emu_test.h"

static volatile uint32_t exc_returns[2];
static volatile uint32_t nirq;

void irq0_body(uint32_t exc_return);
void irq0_body(uint32_t exc_return)
{
    exc_returns[nirq++ & 1] = exc_return;
    /* clobber the caller-saved FP registers and FPSCR */
    __asm__ volatile(
        "mov r1, #0\n vmsr fpscr, r1\n"
        "movw r1, #0xdead\n"
        "vmov s0, r1\n vmov s1, r1\n vmov s2, r1\n vmov s3, r1\n"
        "vmov s4, r1\n vmov s5, r1\n vmov s6, r1\n vmov s7, r1\n"
        "vmov s8, r1\n vmov s9, r1\n vmov s10, r1\n vmov s11, r1\n"
        "vmov s12, r1\n vmov s13, r1\n vmov s14, r1\n vmov s15, r1\n"
        ::: "r1", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
            "s14", "s15", "memory");
}

__attribute__((naked)) void irq0_handler(void)
{
    __asm__ volatile("mov r0, lr\n push {r0, lr}\n bl irq0_body\n pop {r0, pc}\n");
}

#define SET(n) "add r4, r4, #1\n vmov s" #n ", r4\n"
#define GET(n) "vmov r4, s" #n "\n str r4, [%[out], #" #n "*4]\n"

void test_main(void)
{
    irq_enable(0, 0x80);

    /* no FP context in thread mode yet: basic frame, EXC_RETURN 0xFFFFFFF9 */
    irq_pend(0);
    check(nirq == 1 && exc_returns[0] == 0xFFFFFFF9u, 1);

    uint32_t out[17];
    __asm__ volatile(
        "mov r4, %[seed]\n"
        SET(0) SET(1) SET(2) SET(3) SET(4) SET(5) SET(6) SET(7)
        SET(8) SET(9) SET(10) SET(11) SET(12) SET(13) SET(14) SET(15)
        "mov r4, #0x00C00000\n vmsr fpscr, r4\n"
        "str %[bit], [%[ispr]]\n dsb\n isb\n nop\n nop\n"
        GET(0) GET(1) GET(2) GET(3) GET(4) GET(5) GET(6) GET(7)
        GET(8) GET(9) GET(10) GET(11) GET(12) GET(13) GET(14) GET(15)
        "vmrs r4, fpscr\n str r4, [%[out], #64]\n"
        :
        : [seed] "r"(0x1000u), [bit] "r"(1u), [ispr] "r"(NVIC_ISPR(0)), [out] "r"(out)
        : "r4", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14",
          "s15", "memory");
    check(nirq == 2, 2);
    check(exc_returns[1] == 0xFFFFFFE9u, 3);          /* FP frame */
    for (uint32_t i = 0; i < 16; i++)
        check(out[i] == 0x1001u + i, 0x10 + i);
    check((out[16] & 0x00C00000u) == 0x00C00000u, 4); /* FPSCR rounding mode survived */
    log_value(out[0]);
}
