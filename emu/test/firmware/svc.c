/* SVC from unprivileged thread mode on the process stack: the frame goes on
 * PSP, EXC_RETURN says so, the stacked PC is the instruction after SVC, and
 * the thread comes back unprivileged on PSP. */
#include "emu_test.h"

static uint32_t process_stack[64] __attribute__((aligned(8)));

void svc_body(uint32_t *frame, uint32_t exc_return);
void svc_body(uint32_t *frame, uint32_t exc_return)
{
    uint32_t control, ipsr;
    __asm__ volatile("mrs %0, control\n mrs %1, ipsr" : "=r"(control), "=r"(ipsr));
    log_value(exc_return);
    log_value(frame[6]);                              /* stacked PC */
    log_value(frame[0]);                              /* r0 = the argument */
    log_value(control);
    log_value(ipsr);
    frame[0] = frame[0] + 1;                          /* the result in r0 */
}

__attribute__((naked)) void svc_handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n"
        "mov r1, lr\n push {r1, lr}\n bl svc_body\n pop {r1, pc}\n");
}

void test_main(void)
{
    uint32_t top = (uint32_t)(uintptr_t)&process_stack[64];
    __asm__ volatile("msr psp, %0\n mov r0, #3\n msr control, r0\n isb" : : "r"(top) : "r0", "memory");
    uint32_t result, after, control;
    __asm__ volatile(
        "mov r0, #41\n"
        "svc #7\n"
        "1: mov %0, r0\n"
        "adr %1, 1b\n"
        "mrs %2, control\n"
        : "=r"(result), "=r"(after), "=r"(control) : : "r0", "memory");
    check(result == 42, 1);
    check(RESULT->log[0] == 0xFFFFFFFDu, 2);
    check((RESULT->log[1] | 1u) == (after | 1u), 3);
    check(RESULT->log[2] == 41, 4);
    check((RESULT->log[3] & 2u) == 0, 5);             /* handler: MSP */
    check(RESULT->log[4] == 11, 6);
    check((control & 3u) == 3u, 7);                   /* thread: unprivileged, PSP */
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    check(sp > (uint32_t)(uintptr_t)process_stack && sp <= top, 8);
    /* test_main's own frame is on the main stack, which this unprivileged
     * thread can no longer select: end here instead of returning */
    RESULT->magic = RESULT_DONE;
    for (;;)
        __asm__ volatile("wfi");
}
