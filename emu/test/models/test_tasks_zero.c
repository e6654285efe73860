/* Writing 0 to a TASKS_ register does nothing and is not reported, on every
 * model kind of the chip (TinyUSB's dcd_nrf5x.c writes 0 to USBD tasks
 * at bus reset; USBD has its own test in test_usbd.c). Each case first shows
 * that writing 1 to the same task does act, so the check can fail. */
#include "harness.h"

#define CLOCK_HFCLKSTART   0x40000000u
#define CLOCK_LFCLKSTART   0x40000008u
#define CLOCK_HFCLKSTARTED 0x40000100u
#define CLOCK_LFCLKSTARTED 0x40000104u
#define CLOCK_HFCLKSTAT    0x4000040Cu
#define CLOCK_LFCLKSTAT    0x40000418u
#define RTC0_START         0x4000B000u
#define RTC0_CLEAR         0x4000B008u
#define RTC0_COUNTER       0x4000B504u
#define TIMER0_START       0x40008000u
#define TIMER0_CLEAR       0x4000800Cu
#define TIMER0_CAPTURE0    0x40008040u
#define TIMER0_CC0         0x40008540u
#define UARTE0_STARTTX     0x40002008u
#define UARTE0_TXSTARTED   0x40002150u
#define UARTE0_ENABLE      0x40002500u
#define UARTE0_TXD_PTR     0x40002544u
#define UARTE0_TXD_MAXCNT  0x40002548u
#define TEMP_START         0x4000C000u
#define TEMP_DATARDY       0x4000C100u
#define WDT_START          0x40010000u
#define WDT_RUNSTATUS      0x40010400u

struct fixture {
    struct harness *h;
    struct nrf52840 *chip;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    struct nrf52840_config cfg = { .uart_mode = "none" };
    f->chip = nrf52840_new(f->h->soc, &cfg);
    assert_non_null(f->chip);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nrf52840_free(f->chip);
    harness_free(f->h);
    free(f);
    return 0;
}

/* Nothing in the log: the 0 writes were neither acted on nor reported. */
static void assert_quiet(struct harness *h)
{
    assert_string_equal(harness_log(h), "");
}

static void clock_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, CLOCK_HFCLKSTART, 0);
    wr(h, CLOCK_LFCLKSTART, 0);
    run_for(h, SOC_MS(5));
    assert_int_equal(rd(h, CLOCK_HFCLKSTARTED), 0);
    assert_int_equal(rd(h, CLOCK_LFCLKSTARTED), 0);
    assert_int_equal(rd(h, CLOCK_HFCLKSTAT), 0);
    assert_int_equal(rd(h, CLOCK_LFCLKSTAT), 0);
    wr(h, CLOCK_LFCLKSTART, 1);
    run_for(h, SOC_MS(5));
    assert_int_equal(rd(h, CLOCK_LFCLKSTARTED), 1);
    assert_quiet(h);
}

static void rtc_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, CLOCK_LFCLKSTART, 1);
    run_for(h, SOC_MS(1));
    wr(h, RTC0_START, 0);
    run_for(h, SOC_MS(10));
    assert_int_equal(rd(h, RTC0_COUNTER), 0);
    wr(h, RTC0_START, 1);
    run_for(h, SOC_MS(10));
    uint32_t counted = rd(h, RTC0_COUNTER);
    assert_true(counted >= 327);
    wr(h, RTC0_CLEAR, 0);
    assert_true(rd(h, RTC0_COUNTER) >= counted);
    assert_quiet(h);
}

static void timer_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0_CC0, 1234);
    wr(h, TIMER0_CAPTURE0, 0);
    assert_int_equal(rd(h, TIMER0_CC0), 1234);
    wr(h, TIMER0_START, 0);
    run_for(h, SOC_MS(1));
    wr(h, TIMER0_CAPTURE0, 1);
    assert_int_equal(rd(h, TIMER0_CC0), 0);                      /* never started */
    wr(h, TIMER0_START, 1);
    run_for(h, SOC_MS(1));
    wr(h, TIMER0_CLEAR, 0);
    wr(h, TIMER0_CAPTURE0, 1);
    assert_int_equal(rd(h, TIMER0_CC0), 1000);                  /* 1 MHz: 1000 ticks, not cleared */
    assert_quiet(h);
}

static void uarte_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, UARTE0_ENABLE, 8);
    wr(h, UARTE0_TXD_PTR, 0x20000000u);
    wr(h, UARTE0_TXD_MAXCNT, 1);
    wr(h, UARTE0_STARTTX, 0);
    run_for(h, SOC_MS(1));
    assert_int_equal(rd(h, UARTE0_TXSTARTED), 0);
    wr(h, UARTE0_STARTTX, 1);
    run_for(h, SOC_MS(1));
    assert_int_equal(rd(h, UARTE0_TXSTARTED), 1);
    assert_quiet(h);
}

static void temp_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TEMP_START, 0);
    run_for(h, SOC_MS(1));
    assert_int_equal(rd(h, TEMP_DATARDY), 0);
    wr(h, TEMP_START, 1);
    run_for(h, SOC_MS(1));
    assert_int_equal(rd(h, TEMP_DATARDY), 1);
    assert_quiet(h);
}

static void wdt_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_START, 0);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 0);
    wr(h, WDT_START, 1);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 1);
    assert_quiet(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(clock_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(rtc_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(timer_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(uarte_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(temp_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(wdt_tasks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
