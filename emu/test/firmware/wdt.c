/* The watchdog on the whole machine: it pauses while the CPU sleeps when
 * CONFIG.SLEEP says Pause, its timeout resets the chip with RESETREAS.DOG
 * (and resets the watchdog), and a soft reset (AIRCR.SYSRESETREQ) leaves a
 * started watchdog running. RAM survives the resets: each boot continues
 * where the previous one left off. */
#include "emu_test.h"

#define RESETREAS 0x40000400u
#define RESETREAS_DOG (1u << 1)
#define RESETREAS_SREQ (1u << 2)
#define WDT_START 0x40010000u
#define WDT_RUNSTATUS 0x40010400u
#define WDT_CRV 0x40010504u
#define WDT_CONFIG 0x4001050Cu
#define CONFIG_PAUSE_IN_SLEEP 0u
#define CONFIG_RUN_IN_SLEEP 1u
#define MS_TICKS(ms) ((ms) * 32768u / 1000u)

static volatile uint32_t ticks;

void systick_handler(void)
{
    ticks++;
}

/* Sleeps ms milliseconds in WFI, woken by SysTick every millisecond. */
static void sleep_ms(uint32_t ms)
{
    ticks = 0;
    REG(SYST_RVR) = 64000 - 1;
    REG(SYST_CVR) = 0;
    REG(SYST_CSR) = 7;
    while (ticks < ms)
        __asm__ volatile("wfi" ::: "memory");
    REG(SYST_CSR) = 0;
}

void test_main(void)
{
    uint32_t boot = ++RESULT->boots;
    uint32_t reasons = REG(RESETREAS);
    REG(RESETREAS) = reasons;                          /* W1C: the next boot sees only its own */
    log_value(reasons);
    log_value(REG(WDT_RUNSTATUS));
    switch (boot) {
    case 1:
        check(REG(WDT_RUNSTATUS) == 0, 0x11);
        REG(WDT_CRV) = MS_TICKS(10) - 1;
        REG(WDT_CONFIG) = CONFIG_PAUSE_IN_SLEEP;
        REG(WDT_START) = 1;
        check(REG(WDT_RUNSTATUS) == 1, 0x12);
        sleep_ms(40);                                  /* asleep: the watchdog is paused */
        RESULT->scratch[0] = 0x51EE9;                  /* still the first boot */
        for (;;)                                       /* awake: it times out in 10 ms */
            ;
    case 2:
        check(RESULT->scratch[0] == 0x51EE9, 0x21);
        check(reasons == RESETREAS_DOG, 0x22);
        check(REG(WDT_RUNSTATUS) == 0, 0x23);          /* the watchdog reset resets it */
        REG(WDT_CRV) = MS_TICKS(20) - 1;
        REG(WDT_CONFIG) = CONFIG_RUN_IN_SLEEP;
        REG(WDT_START) = 1;
        REG(SCB_AIRCR) = 0x05FA0004u;                  /* soft reset */
        __asm__ volatile("dsb" ::: "memory");
        for (;;)
            ;
    case 3:
        check(reasons == RESETREAS_SREQ, 0x31);
        check(REG(WDT_RUNSTATUS) == 1, 0x32);          /* a soft reset leaves it running */
        check(REG(WDT_CONFIG) == CONFIG_RUN_IN_SLEEP, 0x33);
        for (;;)
            __asm__ volatile("wfi" ::: "memory");      /* counts in sleep: it times out */
    default:
        check(boot == 4, 0x41);
        check(reasons == RESETREAS_DOG, 0x42);
        check(REG(WDT_RUNSTATUS) == 0, 0x43);
        return;
    }
}
