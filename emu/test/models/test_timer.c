/* TIMER0..4: exact COMPARE timing in 32- and 16-bit modes, prescaler,
 * CAPTURE, SHORTS, CC written while running, counter mode. */
#include "harness.h"

#define TIMER0 0x40008000u
#define TIMER3 0x4001A000u
#define START 0x000u
#define STOP 0x004u
#define COUNT 0x008u
#define CLEAR 0x00Cu
#define CAPTURE(n) (0x040u + 4u * (n))
#define EV_COMPARE(n) (0x140u + 4u * (n))
#define SHORTS 0x200u
#define INTENSET 0x304u
#define MODE 0x504u
#define BITMODE 0x508u
#define PRESCALER 0x510u
#define CC(n) (0x540u + 4u * (n))

#define TICK_1MHZ 64u      /* cycles per tick at PRESCALER 4 */

struct fixture {
    struct harness *h;
    struct periph *timer[5];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    for (unsigned i = 0; i < 5; i++)
        f->timer[i] = timer_new(f->h->soc, i);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < 5; i++)
        timer_free(f->timer[i]);
    harness_free(f->h);
    free(f);
    return 0;
}

static uint32_t capture(struct harness *h, uint32_t base, unsigned n)
{
    wr(h, base + CAPTURE(n), 1);
    return rd(h, base + CC(n));
}

static void reset_values(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, TIMER0 + PRESCALER), 4);
    assert_int_equal(rd(h, TIMER0 + BITMODE), 0);
    assert_int_equal(rd(h, TIMER0 + MODE), 0);
}

/* The firmware's timer.c: 1 MHz, 32 bit, CC = captured count + delay. */
static void compare_32bit_at_1mhz(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + BITMODE, 3);
    wr(h, TIMER0 + PRESCALER, 4);
    wr(h, TIMER0 + CLEAR, 1);
    vtime_t t0 = now(h);
    wr(h, TIMER0 + START, 1);
    run_to(h, t0 + 100 * TICK_1MHZ + 10);
    uint32_t c = capture(h, TIMER0, 1);
    assert_int_equal(c, 100);
    wr(h, TIMER0 + CC(1), c + 1000);
    wr(h, TIMER0 + INTENSET, 1u << 17);
    run_to(h, t0 + 1100 * TICK_1MHZ - 1);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(1)), 0);
    assert_false(irq(h, 8));
    run_to(h, t0 + 1100 * TICK_1MHZ);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(1)), 1);
    assert_true(irq(h, 8));
    assert_int_equal(capture(h, TIMER0, 2), 1100);
}

static void compare_16bit_wraps(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + PRESCALER, 0);            /* 16 MHz: 4 cycles a tick */
    wr(h, TIMER0 + CC(0), 0x10010);          /* compared as 0x0010 in 16-bit mode */
    vtime_t t0 = now(h);
    wr(h, TIMER0 + START, 1);
    run_to(h, t0 + 0x10 * 4);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
    wr(h, TIMER0 + EV_COMPARE(0), 0);
    run_to(h, t0 + (0x10000 + 0x10) * 4 - 1);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 0);
    assert_int_equal(capture(h, TIMER0, 3), 0x000F);   /* wrapped */
    run_to(h, t0 + (0x10000 + 0x10) * 4);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
}

static void cc_written_behind_the_counter_waits_for_the_wrap(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + BITMODE, 1);              /* 8 bit */
    wr(h, TIMER0 + PRESCALER, 0);
    vtime_t t0 = now(h);
    wr(h, TIMER0 + START, 1);
    run_to(h, t0 + 50 * 4);
    wr(h, TIMER0 + CC(0), 20);               /* already passed: next time round */
    run_to(h, t0 + (256 + 20) * 4 - 1);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 0);
    run_to(h, t0 + (256 + 20) * 4);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
    /* CC moved ahead while running */
    wr(h, TIMER0 + EV_COMPARE(0), 0);
    wr(h, TIMER0 + CC(0), 30);
    run_to(h, t0 + (256 + 30) * 4);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
}

static void prescaler_sets_the_rate(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + BITMODE, 3);
    wr(h, TIMER0 + PRESCALER, 9);            /* 31250 Hz: 2048 cycles a tick */
    wr(h, TIMER0 + CC(0), 3);
    vtime_t t0 = now(h);
    wr(h, TIMER0 + START, 1);
    run_to(h, t0 + 3 * 2048 - 1);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 0);
    run_to(h, t0 + 3 * 2048);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
    wr(h, TIMER0 + STOP, 1);
    wr(h, TIMER0 + PRESCALER, 15);           /* above 9: counts as 9, reported */
    assert_int_equal(rd(h, TIMER0 + PRESCALER), 9);
    assert_true(log_has(h, "above 9"));
}

static void compare_clear_short_gives_a_period(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + BITMODE, 3);
    wr(h, TIMER0 + CC(0), 1000);
    wr(h, TIMER0 + SHORTS, 1u << 0);         /* COMPARE0_CLEAR */
    vtime_t t0 = now(h);
    wr(h, TIMER0 + START, 1);
    for (unsigned i = 1; i <= 3; i++) {
        run_to(h, t0 + i * 1000 * TICK_1MHZ - 1);
        assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 0);
        run_to(h, t0 + i * 1000 * TICK_1MHZ);
        assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
        assert_int_equal(capture(h, TIMER0, 1), 0);
        wr(h, TIMER0 + EV_COMPARE(0), 0);
    }
}

static void compare_stop_short_stops(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + CC(2), 500);
    wr(h, TIMER0 + SHORTS, 1u << 10);        /* COMPARE2_STOP */
    wr(h, TIMER0 + START, 1);
    run_for(h, 600 * TICK_1MHZ);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(2)), 1);
    assert_int_equal(capture(h, TIMER0, 0), 500);
    run_for(h, SOC_MS(10));
    assert_int_equal(capture(h, TIMER0, 0), 500);
}

static void same_cc_on_two_channels_both_fire_before_clear(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + CC(0), 40);
    wr(h, TIMER0 + CC(1), 40);
    wr(h, TIMER0 + SHORTS, 1u << 0);
    wr(h, TIMER0 + START, 1);
    run_for(h, 40 * TICK_1MHZ);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(0)), 1);
    assert_int_equal(rd(h, TIMER0 + EV_COMPARE(1)), 1);
}

static void counter_mode_counts_count_tasks(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER3 + MODE, 1);
    wr(h, TIMER3 + CC(5), 3);                /* TIMER3 has 6 channels */
    wr(h, TIMER3 + INTENSET, 1u << 21);
    wr(h, TIMER3 + COUNT, 1);                /* not started: ignored */
    wr(h, TIMER3 + START, 1);
    run_for(h, SOC_MS(1));                   /* time does not count */
    assert_int_equal(capture(h, TIMER3, 0), 0);
    wr(h, TIMER3 + COUNT, 1);
    wr(h, TIMER3 + COUNT, 1);
    assert_false(irq(h, 26));
    wr(h, TIMER3 + COUNT, 1);
    assert_int_equal(rd(h, TIMER3 + EV_COMPARE(5)), 1);
    assert_true(irq(h, 26));
    assert_int_equal(capture(h, TIMER3, 0), 3);
}

static void timer0_has_four_channels(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TIMER0 + CC(4), 1);
    assert_true(log_has(h, "unmodelled write of 0x40008550"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_32bit_at_1mhz, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_16bit_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(cc_written_behind_the_counter_waits_for_the_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(prescaler_sets_the_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_clear_short_gives_a_period, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_stop_short_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(same_cc_on_two_channels_both_fire_before_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(counter_mode_counts_count_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(timer0_has_four_channels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
