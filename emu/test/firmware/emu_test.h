/* Test firmwares for the hilda-emu core: each one exercises one piece of the
 * Cortex-M4 system (NVIC, SysTick, exception frames, sleep, reset, faults)
 * and leaves its findings in a result block at a fixed RAM address that the
 * native test (emu/test/unit/test_machine.c) reads after the run. */
#ifndef EMU_TEST_H
#define EMU_TEST_H

#include <stdint.h>

#define RESULT_ADDR 0x2003F000u
#define RESULT_DONE 0x600DD0E5u
#define RESULT_LOG 56

struct result {
    uint32_t magic;            /* RESULT_DONE once test_main returned */
    uint32_t status;           /* 0: every check passed; else the first failed check's code */
    uint32_t boots;            /* survives a system reset (RAM is kept) */
    uint32_t count;
    uint32_t scratch[4];
    uint32_t log[RESULT_LOG];
};

#define RESULT ((volatile struct result *)RESULT_ADDR)

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define REG8(addr) (*(volatile uint8_t *)(uintptr_t)(addr))

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define NVIC_ISER(n) (0xE000E100u + 4u * (n))
#define NVIC_ICER(n) (0xE000E180u + 4u * (n))
#define NVIC_ISPR(n) (0xE000E200u + 4u * (n))
#define NVIC_ICPR(n) (0xE000E280u + 4u * (n))
#define NVIC_IABR(n) (0xE000E300u + 4u * (n))
#define NVIC_IPR(n) (0xE000E400u + (n))
#define SCB_CPUID 0xE000ED00u
#define SCB_ICSR 0xE000ED04u
#define SCB_VTOR 0xE000ED08u
#define SCB_AIRCR 0xE000ED0Cu
#define SCB_SCR 0xE000ED10u
#define SCB_SHPR3 0xE000ED20u
#define SCB_CPACR 0xE000ED88u
#define DEMCR 0xE000EDFCu
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u

#define ICSR_PENDSVSET (1u << 28)
#define ICSR_NMIPENDSET (1u << 31)

void test_main(void);

static inline void log_value(uint32_t v)
{
    uint32_t n = RESULT->count;
    if (n < RESULT_LOG)
        RESULT->log[n] = v;
    RESULT->count = n + 1;
}

static inline void check(int ok, uint32_t code)
{
    if (!ok && RESULT->status == 0)
        RESULT->status = code;
}

static inline void irq_enable(unsigned irq, uint8_t prio)
{
    REG8(NVIC_IPR(irq)) = prio;
    REG(NVIC_ISER(irq / 32)) = 1u << (irq % 32);
}

static inline void irq_pend(unsigned irq)
{
    REG(NVIC_ISPR(irq / 32)) = 1u << (irq % 32);
    __asm__ volatile("dsb\n isb" ::: "memory");
}

static inline void cycle_counter_on(void)
{
    REG(DEMCR) |= 1u << 24;
    REG(DWT_CYCCNT) = 0;
    REG(DWT_CTRL) |= 1u;
}

#endif
