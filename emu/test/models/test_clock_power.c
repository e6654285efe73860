/* CLOCK and POWER (the shared slot at 0x40000000, IRQ 0). */
#include "harness.h"

#define BASE 0x40000000u
#define TASKS_HFCLKSTART (BASE + 0x000u)
#define TASKS_HFCLKSTOP  (BASE + 0x004u)
#define TASKS_LFCLKSTART (BASE + 0x008u)
#define TASKS_LFCLKSTOP  (BASE + 0x00Cu)
#define EVENTS_HFCLKSTARTED (BASE + 0x100u)
#define EVENTS_LFCLKSTARTED (BASE + 0x104u)
#define EVENTS_USBDETECTED (BASE + 0x11Cu)
#define EVENTS_USBREMOVED  (BASE + 0x120u)
#define EVENTS_USBPWRRDY   (BASE + 0x124u)
#define INTENSET (BASE + 0x304u)
#define INTENCLR (BASE + 0x308u)
#define HFCLKRUN  (BASE + 0x408u)
#define HFCLKSTAT (BASE + 0x40Cu)
#define LFCLKRUN  (BASE + 0x414u)
#define LFCLKSTAT (BASE + 0x418u)
#define LFCLKSRCCOPY (BASE + 0x41Cu)
#define LFCLKSRC  (BASE + 0x518u)
#define RESETREAS (BASE + 0x400u)
#define USBREGSTATUS (BASE + 0x438u)
#define SYSTEMOFF (BASE + 0x500u)
#define GPREGRET  (BASE + 0x51Cu)
#define GPREGRET2 (BASE + 0x520u)
#define MAINREGSTATUS (BASE + 0x640u)

struct fixture {
    struct harness *h;
    struct periph *slot;
};

static int setup_vbus(void **state, bool vbus)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->slot = clock_power_new(f->h->soc, vbus);
    assert_non_null(f->slot);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_vbus(state, false);
}

static int setup_with_vbus(void **state)
{
    return setup_vbus(state, true);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    clock_power_free(f->slot);
    harness_free(f->h);
    free(f);
    return 0;
}

static void hfxo_starts_after_360us(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, HFCLKSTAT), 0);
    wr(h, INTENSET, 1u << 0);
    wr(h, TASKS_HFCLKSTART, 1);
    assert_int_equal(rd(h, HFCLKRUN), 1);
    run_to(h, SOC_US(360) - 1);
    assert_int_equal(rd(h, EVENTS_HFCLKSTARTED), 0);
    assert_int_equal(rd(h, HFCLKSTAT), 0);
    assert_false(irq(h, 0));
    run_to(h, SOC_US(360));
    assert_int_equal(rd(h, EVENTS_HFCLKSTARTED), 1);
    assert_int_equal(rd(h, HFCLKSTAT), 0x00010001u);   /* Xtal, running */
    assert_true(irq(h, 0));
    assert_true(clock_hfxo_running(clock_power_clock(f->slot)));
    wr(h, EVENTS_HFCLKSTARTED, 0);
    assert_false(irq(h, 0));

    /* already running: the event comes again at once */
    wr(h, TASKS_HFCLKSTART, 1);
    assert_int_equal(rd(h, EVENTS_HFCLKSTARTED), 1);

    wr(h, TASKS_HFCLKSTOP, 1);
    assert_int_equal(rd(h, HFCLKSTAT), 0);
    assert_int_equal(rd(h, HFCLKRUN), 0);
}

static void hfxo_stop_before_started_cancels(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TASKS_HFCLKSTART, 1);
    run_for(h, SOC_US(100));
    wr(h, TASKS_HFCLKSTOP, 1);
    run_for(h, SOC_MS(5));
    assert_int_equal(rd(h, EVENTS_HFCLKSTARTED), 0);
    assert_int_equal(rd(h, HFCLKSTAT), 0);
}

static void lfclk_starts_after_250us_with_its_source(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, LFCLKSRC, 1);                 /* Xtal */
    wr(h, INTENSET, 1u << 1);
    wr(h, TASKS_LFCLKSTART, 1);
    assert_int_equal(rd(h, LFCLKRUN), 1);
    assert_int_equal(rd(h, LFCLKSRCCOPY), 1);
    run_to(h, SOC_US(250) - 1);
    assert_int_equal(rd(h, EVENTS_LFCLKSTARTED), 0);
    assert_false(clock_lfclk_running(clock_power_clock(f->slot)));
    run_to(h, SOC_US(250));
    assert_int_equal(rd(h, EVENTS_LFCLKSTARTED), 1);
    assert_int_equal(rd(h, LFCLKSTAT), 0x00010001u);
    assert_true(irq(h, 0));
    assert_true(clock_lfclk_running(clock_power_clock(f->slot)));
    wr(h, TASKS_LFCLKSTOP, 1);
    assert_int_equal(rd(h, LFCLKSTAT), 0);
    assert_false(clock_lfclk_running(clock_power_clock(f->slot)));
}

static void vbus_events_and_regulator(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct power *pw = clock_power_power(f->slot);
    wr(h, INTENSET, (1u << 7) | (1u << 8) | (1u << 9));
    assert_int_equal(rd(h, USBREGSTATUS), 0);

    power_set_vbus(pw, true);
    assert_int_equal(rd(h, EVENTS_USBDETECTED), 1);
    assert_true(irq(h, 0));
    assert_int_equal(rd(h, USBREGSTATUS), 1);   /* VBUSDETECT, regulator not ready yet */
    wr(h, EVENTS_USBDETECTED, 0);
    assert_false(irq(h, 0));

    /* no USBD model yet: the regulator counts as on, ready 1 ms later */
    vtime_t t = now(h);
    run_to(h, t + SOC_MS(1) - 1);
    assert_int_equal(rd(h, EVENTS_USBPWRRDY), 0);
    run_to(h, t + SOC_MS(1));
    assert_int_equal(rd(h, EVENTS_USBPWRRDY), 1);
    assert_int_equal(rd(h, USBREGSTATUS), 3);
    assert_true(irq(h, 0));
    wr(h, EVENTS_USBPWRRDY, 0);

    power_set_vbus(pw, false);
    assert_int_equal(rd(h, EVENTS_USBREMOVED), 1);
    assert_int_equal(rd(h, USBREGSTATUS), 0);
    assert_true(irq(h, 0));
}

static void regulator_follows_usbd_enable(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    power_usb_regulator(clock_power_power(f->slot), false);     /* a USBD model exists, disabled */
    power_set_vbus(clock_power_power(f->slot), true);
    run_for(h, SOC_MS(5));
    assert_int_equal(rd(h, EVENTS_USBPWRRDY), 0);
    assert_int_equal(rd(h, USBREGSTATUS), 1);
    power_usb_regulator(clock_power_power(f->slot), true);
    run_for(h, SOC_MS(1));
    assert_int_equal(rd(h, EVENTS_USBPWRRDY), 1);
    assert_int_equal(rd(h, USBREGSTATUS), 3);
    power_usb_regulator(clock_power_power(f->slot), false);
    assert_int_equal(rd(h, USBREGSTATUS), 1);
}

static void vbus_at_power_on_shows_in_status_only(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, USBREGSTATUS), 1);
    assert_int_equal(rd(h, EVENTS_USBDETECTED), 0);      /* building the model is not a reset */
    run_for(h, SOC_MS(1));
    assert_int_equal(rd(h, USBREGSTATUS), 3);
}

/* Silicon raises USBDETECTED after a reset when VBUS is already there
 * (Zephyr PR #15114; nRF5 SDK 17.1's open boot loader waits for it, with its
 * interrupt, and never reads USBREGSTATUS). */
static void vbus_present_at_reset_raises_usbdetected(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    for (int kind = RESET_POWER_ON; kind <= RESET_SYSTEM; kind++) {
        soc_reset(h->soc, (enum reset_kind)kind);
        assert_int_equal(rd(h, EVENTS_USBDETECTED), 1);
        assert_int_equal(rd(h, EVENTS_USBREMOVED), 0);
        assert_false(irq(h, 0));                         /* INTEN is 0 after the reset */
        unsigned rises = h->irq_rises[0];
        wr(h, INTENSET, 1u << 7);                        /* USBDETECTED */
        assert_true(irq(h, 0));
        assert_int_equal(h->irq_rises[0], rises + 1);
        wr(h, EVENTS_USBDETECTED, 0);
        assert_false(irq(h, 0));
    }
}

static void no_usbdetected_at_reset_without_vbus(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, EVENTS_USBDETECTED), 0);
}

static void gpregret_survives_system_reset(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct power *pw = clock_power_power(f->slot);
    assert_int_equal(rd(h, RESETREAS), 0);
    wr(h, GPREGRET, 0x1B1);                   /* 8 bits */
    wr(h, GPREGRET2, 0x42);
    assert_int_equal(rd(h, GPREGRET), 0xB1);

    soc_reset(h->soc, RESET_SYSTEM);          /* nothing noted: SREQ */
    assert_int_equal(rd(h, GPREGRET), 0xB1);
    assert_int_equal(rd(h, GPREGRET2), 0x42);
    assert_int_equal(rd(h, RESETREAS), POWER_RESETREAS_SREQ);

    power_note_reset_reason(pw, POWER_RESETREAS_RESETPIN);
    soc_reset(h->soc, RESET_SYSTEM);          /* cumulative until cleared */
    assert_int_equal(rd(h, RESETREAS), POWER_RESETREAS_SREQ | POWER_RESETREAS_RESETPIN);
    wr(h, RESETREAS, POWER_RESETREAS_SREQ);   /* W1C */
    assert_int_equal(rd(h, RESETREAS), POWER_RESETREAS_RESETPIN);

    soc_reset(h->soc, RESET_POWER_ON);
    assert_int_equal(rd(h, GPREGRET), 0);
    assert_int_equal(rd(h, GPREGRET2), 0);
    assert_int_equal(rd(h, RESETREAS), 0);
}

static int off_calls;
static void on_off(void *ctx)
{
    (void)ctx;
    off_calls++;
}

static void systemoff_is_reported_and_flagged(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct power *pw = clock_power_power(f->slot);
    off_calls = 0;
    power_on_system_off(pw, on_off, NULL);
    assert_false(power_system_off(pw));
    wr(h, SYSTEMOFF, 1);
    assert_true(power_system_off(pw));
    assert_int_equal(off_calls, 1);
    assert_true(log_has(h, "SYSTEMOFF"));
    /* VBUS wakes it: the next reset says why */
    power_set_vbus(pw, true);
    soc_reset(h->soc, RESET_SYSTEM);
    assert_false(power_system_off(pw));
    assert_int_equal(rd(h, RESETREAS), POWER_RESETREAS_VBUS);
}

static void shared_irq_is_the_or_of_both(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, INTENSET, (1u << 0) | (1u << 7));
    wr(h, TASKS_HFCLKSTART, 1);
    run_for(h, SOC_MS(1));
    power_set_vbus(clock_power_power(f->slot), true);
    assert_true(irq(h, 0));
    wr(h, EVENTS_HFCLKSTARTED, 0);
    assert_true(irq(h, 0));          /* USBDETECTED still set */
    wr(h, EVENTS_USBDETECTED, 0);
    assert_false(irq(h, 0));
    assert_int_equal(rd(h, MAINREGSTATUS), 1);
    /* INTEN reads back both halves' bits */
    assert_int_equal(rd(h, INTENSET), (1u << 0) | (1u << 7));
}

static void errata_words_are_quiet(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, BASE + 0xEE4u, 5);
    assert_int_equal(rd(h, BASE + 0xEE4u), 5);
    wr(h, BASE + 0x558u, 0x5A);                   /* APPROTECT.DISABLE */
    wr(h, BASE + 0x10Cu, 0);                      /* errata 36: EVENTS_DONE */
    wr(h, BASE + 0x538u, 0);                      /* errata 36: CTIV */
    assert_string_equal(harness_log(h), "");
    rd(h, BASE + 0x7F0u);                         /* nothing there */
    assert_true(log_has(h, "unmodelled read of 0x400007f0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hfxo_starts_after_360us, setup, teardown),
        cmocka_unit_test_setup_teardown(hfxo_stop_before_started_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(lfclk_starts_after_250us_with_its_source, setup, teardown),
        cmocka_unit_test_setup_teardown(vbus_events_and_regulator, setup, teardown),
        cmocka_unit_test_setup_teardown(regulator_follows_usbd_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(vbus_at_power_on_shows_in_status_only, setup_with_vbus, teardown),
        cmocka_unit_test_setup_teardown(vbus_present_at_reset_raises_usbdetected, setup_with_vbus, teardown),
        cmocka_unit_test_setup_teardown(no_usbdetected_at_reset_without_vbus, setup, teardown),
        cmocka_unit_test_setup_teardown(gpregret_survives_system_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(systemoff_is_reported_and_flagged, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_irq_is_the_or_of_both, setup, teardown),
        cmocka_unit_test_setup_teardown(errata_words_are_quiet, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
