/* GPIO P0/P1: LEDs readable, pulls, external drive, DIR mirrors PIN_CNF. */
#include "harness.h"

#define P0 0x50000000u
#define P1 0x50000300u
#define OUT 0x504u
#define OUTSET 0x508u
#define OUTCLR 0x50Cu
#define IN 0x510u
#define DIR 0x514u
#define DIRSET 0x518u
#define DIRCLR 0x51Cu
#define LATCH 0x520u
#define PIN_CNF(n) (0x700u + 4u * (n))

struct fixture {
    struct harness *h;
    struct periph *gpio;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->gpio = gpio_new(f->h->soc);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gpio_free(f->gpio);
    harness_free(f->h);
    free(f);
    return 0;
}

static void reset_state(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    for (unsigned n = 0; n < 32; n++)
        assert_int_equal(rd(h, P0 + PIN_CNF(n)), 2);
    assert_int_equal(rd(h, P0 + OUT), 0);
    assert_int_equal(rd(h, P0 + DIR), 0);
    assert_int_equal(rd(h, P0 + IN), 0);
}

/* The dongle's LEDs are active low (§6.1): P0.06, P0.08, P0.12, P1.09. */
static void led_pins_are_observable(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, P0 + OUTSET, 1u << 6);
    wr(h, P0 + PIN_CNF(6), 1);           /* output, input buffer connected */
    wr(h, P1 + OUTSET, 1u << 9);
    wr(h, P1 + PIN_CNF(9), 1);
    assert_int_equal(gpio_dir(f->gpio, 0), 1u << 6);
    assert_int_equal(gpio_dir(f->gpio, 1), 1u << 9);
    assert_int_equal(rd(h, P0 + DIR), 1u << 6);
    assert_int_equal(gpio_out(f->gpio, 0), 1u << 6);      /* off */
    assert_int_equal(rd(h, P0 + IN), 1u << 6);            /* reads back the driven level */

    wr(h, P0 + OUTCLR, 1u << 6);                          /* on */
    assert_int_equal(gpio_out(f->gpio, 0), 0);
    assert_int_equal(rd(h, P0 + IN), 0);
    wr(h, P1 + OUTCLR, 1u << 9);
    assert_int_equal(gpio_out(f->gpio, 1), 0);
    assert_int_equal(rd(h, P1 + OUTSET), 0);              /* OUTSET reads OUT */

    wr(h, P0 + OUT, 0xFFFFFFFFu);
    assert_int_equal(rd(h, P0 + OUT), 0xFFFFFFFFu);
    wr(h, P1 + OUT, 0xFFFFFFFFu);
    assert_int_equal(rd(h, P1 + OUT), 0xFFFFu);           /* P1 has 16 pins */
}

static void dir_registers_mirror_pin_cnf(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, P0 + DIRSET, (1u << 3) | (1u << 31));
    assert_int_equal(rd(h, P0 + PIN_CNF(3)), 3);          /* DIR set, INPUT still disconnected */
    assert_int_equal(rd(h, P0 + DIRCLR), (1u << 3) | (1u << 31));
    wr(h, P0 + DIRCLR, 1u << 3);
    assert_int_equal(rd(h, P0 + PIN_CNF(3)), 2);
    wr(h, P0 + DIR, 1u << 5);
    assert_int_equal(rd(h, P0 + DIR), 1u << 5);
    /* an output with its input buffer disconnected reads 0 */
    wr(h, P0 + OUTSET, 1u << 5);
    assert_int_equal(rd(h, P0 + IN), 0);
}

static void pulls_and_external_drive(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    /* SW1 on P1.06: input, connected, pull-up (§6.1) */
    wr(h, P1 + PIN_CNF(6), 3u << 2);
    assert_int_equal(rd(h, P1 + IN), 1u << 6);
    gpio_drive(f->gpio, 1, 6, false);                     /* pressed */
    assert_int_equal(rd(h, P1 + IN), 0);
    gpio_release(f->gpio, 1, 6);
    assert_int_equal(rd(h, P1 + IN), 1u << 6);

    wr(h, P0 + PIN_CNF(24), 1u << 2);                     /* pull-down */
    assert_int_equal(rd(h, P0 + IN), 0);
    gpio_drive(f->gpio, 0, 24, true);
    assert_int_equal(rd(h, P0 + IN), 1u << 24);
    assert_int_equal(gpio_in(f->gpio, 0), 1u << 24);

    /* input buffer disconnected: reads 0 whatever drives the pin */
    wr(h, P0 + PIN_CNF(24), 2);
    assert_int_equal(rd(h, P0 + IN), 0);

    /* a drive survives a reset of the chip (it is outside) */
    soc_reset(h->soc, RESET_SYSTEM);
    wr(h, P0 + PIN_CNF(24), 0);
    assert_int_equal(rd(h, P0 + IN), 1u << 24);
}

static void sense_sets_latch(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, P1 + PIN_CNF(6), (3u << 2) | (3u << 16));       /* pull-up, sense low */
    assert_int_equal(rd(h, P1 + LATCH), 0);
    gpio_drive(f->gpio, 1, 6, false);
    assert_int_equal(rd(h, P1 + LATCH), 1u << 6);
    gpio_release(f->gpio, 1, 6);
    assert_int_equal(rd(h, P1 + LATCH), 1u << 6);         /* latched */
    wr(h, P1 + LATCH, 1u << 6);
    assert_int_equal(rd(h, P1 + LATCH), 0);
}

static void missing_registers_are_reported(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, P1 + PIN_CNF(16)), 0);         /* P1.16 does not exist */
    assert_true(log_has(h, "unmodelled read of 0x50000a40"));
    wr(h, P0 + 0x100u, 1);
    assert_true(log_has(h, "unmodelled write of 0x50000100"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reset_state, setup, teardown),
        cmocka_unit_test_setup_teardown(led_pins_are_observable, setup, teardown),
        cmocka_unit_test_setup_teardown(dir_registers_mirror_pin_cnf, setup, teardown),
        cmocka_unit_test_setup_teardown(pulls_and_external_drive, setup, teardown),
        cmocka_unit_test_setup_teardown(sense_sets_latch, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_registers_are_reported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
