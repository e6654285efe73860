/* RTC0..2: lazy counter, exact COMPARE timing, OVRFLW, TICK, LFCLK dependency. */
#include "harness.h"

#define CLOCK 0x40000000u
#define LFCLKSTART (CLOCK + 0x008u)
#define LFCLKSTOP  (CLOCK + 0x00Cu)
#define RTC0 0x4000B000u
#define RTC1 0x40011000u
#define RTC2 0x40024000u
#define START 0x000u
#define STOP 0x004u
#define CLEAR 0x008u
#define TRIGOVRFLW 0x00Cu
#define EV_TICK 0x100u
#define EV_OVRFLW 0x104u
#define EV_COMPARE(n) (0x140u + 4u * (n))
#define INTENSET 0x304u
#define EVTENSET 0x344u
#define COUNTER 0x504u
#define PRESCALER 0x508u
#define CC(n) (0x540u + 4u * (n))

struct fixture {
    struct harness *h;
    struct periph *slot, *rtc[3];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->slot = clock_power_new(f->h->soc, false);
    for (unsigned i = 0; i < 3; i++)
        f->rtc[i] = rtc_new(f->h->soc, i, clock_power_clock(f->slot));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < 3; i++)
        rtc_free(f->rtc[i]);
    clock_power_free(f->slot);
    harness_free(f->h);
    free(f);
    return 0;
}

/* Starts the LFCLK and returns when it runs (0.25 ms). */
static void lfclk_on(struct harness *h)
{
    wr(h, LFCLKSTART, 1);
    run_for(h, SOC_US(250));
}

static void compare_fires_on_the_exact_tick(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    lfclk_on(h);
    wr(h, RTC1 + CC(0), 32768);
    wr(h, RTC1 + INTENSET, 1u << 16);
    vtime_t t0 = now(h);
    wr(h, RTC1 + START, 1);
    run_to(h, t0 + SOC_MS(500));
    assert_int_equal(rd(h, RTC1 + COUNTER), 16384);
    run_to(h, t0 + SOC_HZ - 1);                  /* 32768 ticks are exactly 1 s */
    assert_int_equal(rd(h, RTC1 + COUNTER), 32767);
    assert_int_equal(rd(h, RTC1 + EV_COMPARE(0)), 0);
    assert_false(irq(h, 17));
    run_to(h, t0 + SOC_HZ);
    assert_int_equal(rd(h, RTC1 + EV_COMPARE(0)), 1);
    assert_true(irq(h, 17));
    assert_int_equal(rd(h, RTC1 + COUNTER), 32768);
}

static void prescaler_divides_the_rate(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    lfclk_on(h);
    wr(h, RTC0 + PRESCALER, 327);                /* 100 Hz (32768 / 328 = 99.9 Hz) */
    wr(h, RTC0 + CC(2), 10);
    wr(h, RTC0 + EVTENSET, 1u << 18);            /* EVTEN alone also makes the event */
    vtime_t t0 = now(h);
    wr(h, RTC0 + START, 1);
    /* tick k at t0 + ceil(k * 15625 * 328 / 8) */
    vtime_t at = t0 + (10ull * 15625 * 328 + 7) / 8;
    run_to(h, at - 1);
    assert_int_equal(rd(h, RTC0 + EV_COMPARE(2)), 0);
    run_to(h, at);
    assert_int_equal(rd(h, RTC0 + EV_COMPARE(2)), 1);
    assert_false(irq(h, 11));                    /* no INTEN: no interrupt */
    /* written while started: ignored and reported */
    wr(h, RTC0 + PRESCALER, 0);
    assert_int_equal(rd(h, RTC0 + PRESCALER), 327);
    assert_true(log_has(h, "PRESCALER written while started"));
}

static void disabled_events_are_not_generated(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    lfclk_on(h);
    wr(h, RTC2 + CC(3), 5);
    wr(h, RTC2 + START, 1);
    /* nothing enabled: nothing is even scheduled */
    assert_int_equal(soc_next_event(h->soc), UINT64_MAX);
    run_for(h, SOC_MS(10));
    assert_int_equal(rd(h, RTC2 + EV_COMPARE(3)), 0);
    assert_int_equal(rd(h, RTC2 + EV_TICK), 0);
}

static void tick_and_overflow(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    lfclk_on(h);
    wr(h, RTC1 + INTENSET, (1u << 0) | (1u << 1));
    wr(h, RTC1 + TRIGOVRFLW, 1);
    assert_int_equal(rd(h, RTC1 + COUNTER), 0xFFFFF0u);
    vtime_t t0 = now(h);
    wr(h, RTC1 + START, 1);
    run_to(h, t0 + (1ull * 15625 + 7) / 8);
    assert_int_equal(rd(h, RTC1 + EV_TICK), 1);
    wr(h, RTC1 + EV_TICK, 0);
    run_to(h, t0 + (16ull * 15625 + 7) / 8 - 1);
    assert_int_equal(rd(h, RTC1 + EV_OVRFLW), 0);
    run_to(h, t0 + (16ull * 15625 + 7) / 8);
    assert_int_equal(rd(h, RTC1 + EV_OVRFLW), 1);
    assert_int_equal(rd(h, RTC1 + COUNTER), 0);
    assert_int_equal(rd(h, RTC1 + EV_TICK), 1);
    wr(h, RTC1 + CLEAR, 1);
    assert_int_equal(rd(h, RTC1 + COUNTER), 0);
}

static void no_lfclk_no_count(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, RTC1 + START, 1);
    assert_true(log_has(h, "RTC1 started while the LFCLK is stopped"));
    run_for(h, SOC_MS(10));
    assert_int_equal(rd(h, RTC1 + COUNTER), 0);
    /* the clock arrives: counting starts */
    lfclk_on(h);
    run_for(h, SOC_MS(1000));
    assert_int_equal(rd(h, RTC1 + COUNTER), 32768);
    /* the clock goes: the counter freezes */
    wr(h, LFCLKSTOP, 1);
    run_for(h, SOC_MS(1000));
    assert_int_equal(rd(h, RTC1 + COUNTER), 32768);
    wr(h, RTC1 + STOP, 1);
}

static void starting_with_lfclk_requested_is_quiet(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, LFCLKSTART, 1);
    wr(h, RTC0 + START, 1);
    assert_string_equal(harness_log(h), "");
    run_for(h, SOC_US(250) + SOC_MS(1000));
    assert_int_equal(rd(h, RTC0 + COUNTER), 32768);
}

static void rtc0_has_three_channels(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, RTC0 + CC(3), 1);
    assert_true(log_has(h, "unmodelled write of 0x4000b54c"));
    wr(h, RTC1 + CC(3), 0x1234567);
    assert_int_equal(rd(h, RTC1 + CC(3)), 0x234567);   /* 24 bits */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(compare_fires_on_the_exact_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(prescaler_divides_the_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(disabled_events_are_not_generated, setup, teardown),
        cmocka_unit_test_setup_teardown(tick_and_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(no_lfclk_no_count, setup, teardown),
        cmocka_unit_test_setup_teardown(starting_with_lfclk_requested_is_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(rtc0_has_three_channels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
