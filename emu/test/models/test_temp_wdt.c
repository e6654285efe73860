/* TEMP (conversion time, DATARDY and its IRQ, the result in 0.25 degree
 * steps, STOP, the calibration registers and FICR's copy source) and WDT
 * (timeout timing, reload rules, REQSTATUS, write protection, the pause in
 * sleep, the reset it causes and the resets it survives). */
#include "harness.h"

#define FICR_TEMP(n)   (0x10000404u + 4u * (n))     /* A0..A5, B0..B5, T0..T4 */

#define TEMP           0x4000C000u
#define TEMP_START     (TEMP + 0x000u)
#define TEMP_STOP      (TEMP + 0x004u)
#define TEMP_DATARDY   (TEMP + 0x100u)
#define TEMP_INTENSET  (TEMP + 0x304u)
#define TEMP_INTENCLR  (TEMP + 0x308u)
#define TEMP_RESULT    (TEMP + 0x508u)
#define TEMP_A(n)      (TEMP + 0x520u + 4u * (n))
#define TEMP_B(n)      (TEMP + 0x540u + 4u * (n))
#define TEMP_T(n)      (TEMP + 0x560u + 4u * (n))
#define TEMP_IRQ_LINE  12u

#define WDT            0x40010000u
#define WDT_START      (WDT + 0x000u)
#define WDT_TIMEOUT    (WDT + 0x100u)
#define WDT_INTENSET   (WDT + 0x304u)
#define WDT_INTENCLR   (WDT + 0x308u)
#define WDT_RUNSTATUS  (WDT + 0x400u)
#define WDT_REQSTATUS  (WDT + 0x404u)
#define WDT_CRV        (WDT + 0x504u)
#define WDT_RREN       (WDT + 0x508u)
#define WDT_CONFIG     (WDT + 0x50Cu)
#define WDT_RR(n)      (WDT + 0x600u + 4u * (n))
#define WDT_IRQ_LINE   16u
#define RELOAD         0x6E524635u
#define CONFIG_PAUSE_IN_SLEEP 0u

#define RESETREAS      0x40000400u
#define RESETREAS_DOG  (1u << 1)

/* 32.768 kHz ticks in 64 MHz cycles: exactly 15625/8 each */
#define TICKS(n) (((vtime_t)(n) * 15625u + 7u) / 8u)

/* ---- TEMP ---- */

struct temp_fixture {
    struct harness *h;
    struct periph *temp;
};

static int temp_setup(void **state)
{
    struct temp_fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->temp = temp_new(f->h->soc);
    assert_non_null(f->temp);
    *state = f;
    return 0;
}

static int temp_teardown(void **state)
{
    struct temp_fixture *f = *state;
    temp_free(f->temp);
    harness_free(f->h);
    free(f);
    return 0;
}

static void temp_conversion_takes_36_us(void **state)
{
    struct temp_fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, TEMP_RESULT), 0);                   /* reset value */
    wr(h, TEMP_INTENSET, 1);
    assert_int_equal(rd(h, TEMP_INTENSET), 1);
    vtime_t t0 = now(h);
    wr(h, TEMP_START, 1);
    run_to(h, t0 + SOC_US(36) - 1);
    assert_int_equal(rd(h, TEMP_DATARDY), 0);
    assert_int_equal(rd(h, TEMP_RESULT), 0);
    assert_false(irq(h, TEMP_IRQ_LINE));
    run_to(h, t0 + SOC_US(36));
    assert_int_equal(rd(h, TEMP_DATARDY), 1);
    assert_int_equal(rd(h, TEMP_RESULT), 100);                  /* 25.00 C in 0.25 degree steps */
    assert_true(irq(h, TEMP_IRQ_LINE));
    assert_int_equal(h->irq_rises[TEMP_IRQ_LINE], 1);
    wr(h, TEMP_DATARDY, 0);                                      /* the handler clears it */
    assert_false(irq(h, TEMP_IRQ_LINE));
    assert_string_equal(harness_log(h), "");
}

static void temp_reads_the_set_die_temperature(void **state)
{
    struct temp_fixture *f = *state;
    struct harness *h = f->h;
    temp_set_die_temperature(f->temp, -41);                      /* -10.25 C */
    wr(h, TEMP_START, 1);
    run_for(h, SOC_US(40));
    assert_int_equal(rd(h, TEMP_DATARDY), 1);
    assert_int_equal((int32_t)rd(h, TEMP_RESULT), -41);
    assert_false(irq(h, TEMP_IRQ_LINE));                         /* INTEN not set: no interrupt */
    temp_set_die_temperature(f->temp, 342);                      /* 85.5 C */
    wr(h, TEMP_DATARDY, 0);
    wr(h, TEMP_START, 1);
    assert_int_equal((int32_t)rd(h, TEMP_RESULT), -41);         /* the old one until the new is ready */
    run_for(h, SOC_US(36));
    assert_int_equal(rd(h, TEMP_RESULT), 342);
}

static void temp_stop_cancels_the_conversion(void **state)
{
    struct temp_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, TEMP_INTENSET, 1);
    wr(h, TEMP_START, 1);
    run_for(h, SOC_US(20));
    wr(h, TEMP_STOP, 1);
    run_for(h, SOC_US(100));
    assert_int_equal(rd(h, TEMP_DATARDY), 0);
    assert_int_equal(rd(h, TEMP_RESULT), 0);
    assert_int_equal(h->irq_rises[TEMP_IRQ_LINE], 0);
    wr(h, TEMP_INTENCLR, 1);
    assert_int_equal(rd(h, TEMP_INTENSET), 0);
    /* a START during a conversion does not restart it */
    vtime_t t0 = now(h);
    wr(h, TEMP_START, 1);
    run_to(h, t0 + SOC_US(30));
    wr(h, TEMP_START, 1);
    run_to(h, t0 + SOC_US(36));
    assert_int_equal(rd(h, TEMP_DATARDY), 1);
}

/* nrfx SystemInit's errata 66 copy: FICR.TEMP -> TEMP.A0..T4, read back. */
static void temp_calibration_registers_keep_what_is_written(void **state)
{
    struct temp_fixture *f = *state;
    struct harness *h = f->h;
    struct periph *ficr = ficr_new(h->soc, 1);
    assert_int_equal(rd(h, TEMP_A(0)), 0x326);                  /* reset values (nrf52840.svd) */
    assert_int_equal(rd(h, TEMP_B(3)), 0x12);
    assert_int_equal(rd(h, TEMP_T(4)), 0x50);
    uint32_t ficr_words[17];
    for (unsigned i = 0; i < 17; i++)
        ficr_words[i] = rd(h, FICR_TEMP(i));
    assert_int_equal(ficr_words[0], 0x326);                      /* A0 */
    assert_int_equal(ficr_words[6], 0x3FEF);                     /* B0: -17 in 14 bits */
    assert_int_equal(ficr_words[12], 0xE2);                      /* T0: -30 C in 8 bits */
    assert_int_equal(ficr_words[16], 0x50);                      /* T4: 80 C */
    /* write values unlike the defaults, then the copy */
    for (unsigned i = 0; i < 6; i++) {
        wr(h, TEMP_A(i), 0x100u + i);
        wr(h, TEMP_B(i), 0x2000u + i);
    }
    for (unsigned i = 0; i < 5; i++)
        wr(h, TEMP_T(i), 0x10u + i);
    assert_int_equal(rd(h, TEMP_A(5)), 0x105);
    assert_int_equal(rd(h, TEMP_B(5)), 0x2005);
    assert_int_equal(rd(h, TEMP_T(2)), 0x12);
    wr(h, TEMP_A(1), 0xFFFFFFFFu);                               /* field widths: 12, 14, 8 bits */
    wr(h, TEMP_B(1), 0xFFFFFFFFu);
    wr(h, TEMP_T(1), 0xFFFFFFFFu);
    assert_int_equal(rd(h, TEMP_A(1)), 0xFFF);
    assert_int_equal(rd(h, TEMP_B(1)), 0x3FFF);
    assert_int_equal(rd(h, TEMP_T(1)), 0xFF);
    for (unsigned i = 0; i < 6; i++) {
        wr(h, TEMP_A(i), ficr_words[i]);
        wr(h, TEMP_B(i), ficr_words[6 + i]);
    }
    for (unsigned i = 0; i < 5; i++)
        wr(h, TEMP_T(i), ficr_words[12 + i]);
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(rd(h, TEMP_A(i)), ficr_words[i]);
        assert_int_equal(rd(h, TEMP_B(i)), ficr_words[6 + i]);
    }
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(rd(h, TEMP_T(i)), ficr_words[12 + i]);
    /* they do not change the result (documented in temp.c) */
    wr(h, TEMP_START, 1);
    run_for(h, SOC_US(36));
    assert_int_equal(rd(h, TEMP_RESULT), 100);
    assert_string_equal(harness_log(h), "");                    /* nothing reported */
    /* a reset brings the defaults back */
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, TEMP_A(0)), 0x326);
    assert_int_equal(rd(h, TEMP_RESULT), 0);
    ficr_free(ficr);
}

/* ---- WDT ---- */

struct wdt_fixture {
    struct harness *h;
    struct periph *wdt;
    unsigned resets;            /* timed_out callbacks */
    vtime_t reset_at;
};

static void on_timed_out(void *ctx)
{
    struct wdt_fixture *f = ctx;
    f->resets++;
    f->reset_at = now(f->h);
}

static int wdt_setup(void **state)
{
    struct wdt_fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->wdt = wdt_new(f->h->soc, on_timed_out, f);
    assert_non_null(f->wdt);
    *state = f;
    return 0;
}

static int wdt_teardown(void **state)
{
    struct wdt_fixture *f = *state;
    wdt_free(f->wdt);
    harness_free(f->h);
    free(f);
    return 0;
}

static void wdt_reset_values_and_runstatus(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, WDT_RUNSTATUS), 0);                  /* Nordic's boot loader reads this */
    assert_int_equal(rd(h, WDT_REQSTATUS), 1);
    assert_int_equal(rd(h, WDT_CRV), 0xFFFFFFFFu);
    assert_int_equal(rd(h, WDT_RREN), 1);
    assert_int_equal(rd(h, WDT_CONFIG), 1);
    wr(h, WDT_CRV, 99);
    wr(h, WDT_START, 1);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 1);
    assert_string_equal(harness_log(h), "");
}

/* (CRV + 1) / 32768 s; without the interrupt the reset comes with TIMEOUT. */
static void wdt_times_out_after_crv_plus_one_ticks(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 32767);                                       /* 1 s */
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    run_to(h, t0 + SOC_HZ - 1);
    assert_int_equal(rd(h, WDT_TIMEOUT), 0);
    assert_int_equal(f->resets, 0);
    run_to(h, t0 + SOC_HZ);
    assert_int_equal(rd(h, WDT_TIMEOUT), 1);
    assert_int_equal(f->resets, 1);
    assert_true(f->reset_at == t0 + SOC_HZ);
    assert_false(irq(h, WDT_IRQ_LINE));
    assert_true(log_has(h, "WDT timed out"));
}

/* With INTENSET.TIMEOUT the IRQ comes at the timeout and the reset two
 * 32.768 kHz cycles later; a reload then no longer helps. */
static void wdt_interrupt_postpones_the_reset_two_cycles(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 15);
    wr(h, WDT_INTENSET, 1);
    assert_int_equal(rd(h, WDT_INTENSET), 1);
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    run_to(h, t0 + TICKS(16));
    assert_true(irq(h, WDT_IRQ_LINE));
    assert_int_equal(rd(h, WDT_TIMEOUT), 1);
    assert_int_equal(f->resets, 0);
    wr(h, WDT_RR(0), RELOAD);                                    /* too late */
    run_to(h, t0 + TICKS(18) - 1);
    assert_int_equal(f->resets, 0);
    run_to(h, t0 + TICKS(18));
    assert_int_equal(f->resets, 1);
    run_for(h, SOC_MS(10));
    assert_int_equal(f->resets, 1);                              /* once */
}

static void wdt_reloads_when_every_enabled_rr_is_written(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 3276);                                        /* 100 ms */
    wr(h, WDT_RREN, 0x05);                                       /* RR0 and RR2 */
    assert_int_equal(rd(h, WDT_REQSTATUS), 0x05);
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    run_to(h, t0 + SOC_MS(60));
    wr(h, WDT_RR(0), RELOAD);
    assert_int_equal(rd(h, WDT_REQSTATUS), 0x04);               /* RR2 still to write */
    wr(h, WDT_RR(2), 0x12345678u);                               /* not the reload value */
    wr(h, WDT_RR(1), RELOAD);                                    /* not enabled */
    assert_int_equal(rd(h, WDT_REQSTATUS), 0x04);
    run_to(h, t0 + TICKS(3277) - 1);
    assert_int_equal(f->resets, 0);
    run_to(h, t0 + TICKS(3277));
    assert_int_equal(f->resets, 1);                              /* RR0 alone reloaded nothing */

    /* again, both written: the count starts over from the second write */
    soc_reset(h->soc, RESET_POWER_ON);
    f->resets = 0;
    wr(h, WDT_CRV, 3276);
    wr(h, WDT_RREN, 0x05);
    t0 = now(h);
    wr(h, WDT_START, 1);
    run_to(h, t0 + SOC_MS(60));
    wr(h, WDT_RR(2), RELOAD);
    run_to(h, t0 + SOC_MS(80));
    vtime_t t1 = now(h);
    wr(h, WDT_RR(0), RELOAD);
    assert_int_equal(rd(h, WDT_REQSTATUS), 0x05);               /* reloaded: both requested afresh */
    run_to(h, t1 + TICKS(3277) - 1);
    assert_int_equal(f->resets, 0);
    run_to(h, t1 + TICKS(3277));
    assert_int_equal(f->resets, 1);
}

static void wdt_configuration_is_locked_once_started(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 327);
    wr(h, WDT_RREN, 0x03);
    wr(h, WDT_CONFIG, 0x09);
    assert_int_equal(rd(h, WDT_CONFIG), 0x09);
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    wr(h, WDT_CRV, 32767);
    wr(h, WDT_RREN, 0x01);
    wr(h, WDT_CONFIG, 0);
    assert_int_equal(rd(h, WDT_CRV), 327);
    assert_int_equal(rd(h, WDT_RREN), 0x03);
    assert_int_equal(rd(h, WDT_CONFIG), 0x09);
    assert_true(log_has(h, "WDT CRV/RREN/CONFIG written while the watchdog runs: ignored"));
    wr(h, WDT_START, 1);                                         /* a second START reloads nothing */
    run_to(h, t0 + TICKS(328));
    assert_int_equal(f->resets, 1);
}

/* CONFIG.SLEEP = Pause: the time the CPU sleeps does not count. */
static void wdt_pauses_while_the_cpu_sleeps(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 32767);                                       /* 1 s */
    wr(h, WDT_CONFIG, CONFIG_PAUSE_IN_SLEEP);
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    run_to(h, t0 + SOC_MS(200));
    wdt_cpu_sleeping(f->wdt, true);
    run_to(h, t0 + SOC_MS(700));                                 /* 500 ms asleep */
    wdt_cpu_sleeping(f->wdt, false);
    run_to(h, t0 + SOC_HZ + SOC_MS(500) - 1);
    assert_int_equal(f->resets, 0);
    run_to(h, t0 + SOC_HZ + SOC_MS(500));
    assert_int_equal(f->resets, 1);
}

static void wdt_runs_in_sleep_by_default(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 32767);
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    wdt_cpu_sleeping(f->wdt, true);
    run_to(h, t0 + SOC_HZ);
    assert_int_equal(f->resets, 1);
}

/* A soft reset (SREQ, or nothing noted) leaves it counting; the others stop it. */
static void wdt_survives_a_soft_reset_only(void **state)
{
    struct wdt_fixture *f = *state;
    struct harness *h = f->h;
    wr(h, WDT_CRV, 32767);
    wr(h, WDT_RREN, 0x03);
    vtime_t t0 = now(h);
    wr(h, WDT_START, 1);
    wr(h, WDT_RR(1), RELOAD);
    run_to(h, t0 + SOC_MS(300));
    wdt_note_reset_reason(f->wdt, 1u << 2);                      /* SREQ */
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 1);
    assert_int_equal(rd(h, WDT_CRV), 32767);
    assert_int_equal(rd(h, WDT_RREN), 0x03);
    assert_int_equal(rd(h, WDT_REQSTATUS), 0x01);               /* RR1's request kept */
    soc_reset(h->soc, RESET_SYSTEM);                             /* nothing noted: a soft reset too */
    run_to(h, t0 + SOC_HZ - 1);
    assert_int_equal(f->resets, 0);
    run_to(h, t0 + SOC_HZ);                                      /* the count went on through both */
    assert_int_equal(f->resets, 1);

    const uint32_t resetting[] = { 1u << 0, 1u << 1, 1u << 16 };  /* RESETPIN, DOG, OFF */
    for (unsigned i = 0; i < 3; i++) {
        soc_reset(h->soc, RESET_POWER_ON);
        wr(h, WDT_CRV, 100);
        wr(h, WDT_START, 1);
        wdt_note_reset_reason(f->wdt, resetting[i]);
        soc_reset(h->soc, RESET_SYSTEM);
        assert_int_equal(rd(h, WDT_RUNSTATUS), 0);
        assert_int_equal(rd(h, WDT_CRV), 0xFFFFFFFFu);
    }
    f->resets = 0;
    run_for(h, SOC_MS(100));
    assert_int_equal(f->resets, 0);
    /* not started: a soft reset keeps its registers too, a pin reset does not */
    wr(h, WDT_CRV, 1234);
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, WDT_CRV), 1234);
    wdt_note_reset_reason(f->wdt, 1u << 0);
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, WDT_CRV), 0xFFFFFFFFu);
}

/* The chip: a timeout notes RESETREAS.DOG and asks the board to reset. */
struct chip_run {
    struct harness *h;
    unsigned resets;
};

static void board_resets(void *ctx)
{
    struct chip_run *c = ctx;
    c->resets++;
    soc_reset(c->h->soc, RESET_SYSTEM);
}

static void wdt_reset_records_dog_in_the_chip(void **state)
{
    (void)state;
    struct chip_run c = { .h = harness_new() };
    struct harness *h = c.h;
    struct nrf52840_config cfg = { .uart_mode = "none", .ctx = &c, .watchdog_reset = board_resets };
    struct nrf52840 *chip = nrf52840_new(h->soc, &cfg);
    assert_non_null(chip);
    assert_int_equal(rd(h, RESETREAS), 0);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 0);
    assert_int_equal(rd(h, TEMP_A(0)), 0x326);                  /* TEMP is in its slot too */
    wr(h, WDT_CRV, 15);
    wr(h, WDT_START, 1);
    run_for(h, TICKS(16));
    assert_int_equal(c.resets, 1);
    assert_int_equal(rd(h, RESETREAS), RESETREAS_DOG);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 0);                  /* the watchdog reset resets it */
    /* a soft reset while it runs: RESETREAS.SREQ, and it keeps running */
    wr(h, RESETREAS, RESETREAS_DOG);
    wr(h, WDT_CRV, 32767);
    wr(h, WDT_START, 1);
    nrf52840_note_reset_reason(chip, 1u << 2);
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, RESETREAS), 1u << 2);
    assert_int_equal(rd(h, WDT_RUNSTATUS), 1);
    nrf52840_free(chip);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(temp_conversion_takes_36_us, temp_setup, temp_teardown),
        cmocka_unit_test_setup_teardown(temp_reads_the_set_die_temperature, temp_setup, temp_teardown),
        cmocka_unit_test_setup_teardown(temp_stop_cancels_the_conversion, temp_setup, temp_teardown),
        cmocka_unit_test_setup_teardown(temp_calibration_registers_keep_what_is_written, temp_setup, temp_teardown),
        cmocka_unit_test_setup_teardown(wdt_reset_values_and_runstatus, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_times_out_after_crv_plus_one_ticks, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_interrupt_postpones_the_reset_two_cycles, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_reloads_when_every_enabled_rr_is_written, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_configuration_is_locked_once_started, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_pauses_while_the_cpu_sleeps, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_runs_in_sleep_by_default, wdt_setup, wdt_teardown),
        cmocka_unit_test_setup_teardown(wdt_survives_a_soft_reset_only, wdt_setup, wdt_teardown),
        cmocka_unit_test(wdt_reset_records_dog_in_the_chip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
