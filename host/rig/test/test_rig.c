/* The rig library apart from any adapter: the rig description parser, the
 * reset and power pin logic against a fake adapter that records every state
 * it is sent, and the choice of adapter with its sentences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rig_adapter.h"
#include "rig_desc.h"
#include "rig_pins.h"

/* ---- the description ---- */

static enum hilda_status parse(const char *text, const struct hilda_rig_overrides *o, struct hilda_rig *r,
                               struct hilda_error *e)
{
    hilda_error_clear(e);
    return hilda_rig_parse(text, strlen(text), "rig.json", o, r, e);
}

static const char two_dongles[] =
    "{\"dongles\": ["
    " {\"dongle\": \"1209CAFE00D0BEEF\", \"adapter\": {\"serial\": \"A10KXYZ\", \"vid\": \"0403\", \"pid\": \"6001\","
    "  \"interface\": \"A\"}, \"reset\": {\"pin\": 0, \"ms\": 50}, \"power\": {\"pin\": 1, \"active\": \"high\","
    "  \"off_ms\": 500}, \"uart\": \"/dev/ttyUSB1\"},"
    " {\"dongle\": \"1209CAFE00D0F00D\", \"adapter\": {\"serial\": \"B20KABC\", \"pid\": \"6014\"},"
    "  \"reset\": {\"pin\": 4, \"ms\": 20}, \"power\": {\"pin\": 5, \"active\": \"low\", \"off_ms\": 900}}"
    "]}";

static void description_good(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    struct hilda_rig_overrides o = HILDA_RIG_NO_OVERRIDES;
    o.dongle = "1209CAFE00D0BEEF";
    assert_int_equal(parse(two_dongles, &o, &r, &e), HILDA_OK);
    assert_string_equal(r.dongle, "1209CAFE00D0BEEF");
    assert_string_equal(r.adapter.serial, "A10KXYZ");
    assert_int_equal(r.adapter.vid, 0x0403);
    assert_int_equal(r.adapter.pid, 0x6001);
    assert_int_equal(r.adapter.interface, 'A');
    assert_int_equal(r.reset_pin, 0);
    assert_int_equal(r.reset_ms, 50);
    assert_int_equal(r.power_pin, 1);
    assert_true(r.power_active_high);
    assert_int_equal(r.power_off_ms, 500);
    assert_string_equal(r.uart, "/dev/ttyUSB1");
}

static void description_dongle_selects(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    struct hilda_rig_overrides o = HILDA_RIG_NO_OVERRIDES;
    o.dongle = "1209CAFE00D0F00D";
    assert_int_equal(parse(two_dongles, &o, &r, &e), HILDA_OK);
    assert_string_equal(r.adapter.serial, "B20KABC");
    assert_int_equal(r.adapter.vid, 0);          /* not given: any FTDI vid */
    assert_int_equal(r.adapter.pid, 0x6014);
    assert_int_equal(r.reset_pin, 4);
    assert_int_equal(r.reset_ms, 20);
    assert_int_equal(r.power_pin, 5);
    assert_false(r.power_active_high);
    assert_int_equal(r.power_off_ms, 900);
    assert_string_equal(r.uart, "");
    /* without --dongle, two entries are not guessed between */
    o.dongle = NULL;
    assert_int_equal(parse(two_dongles, &o, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "choose one with --dongle SERIAL"));
    assert_non_null(strstr(e.message, "1209CAFE00D0BEEF, 1209CAFE00D0F00D"));
}

static void description_unknown_dongle(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    struct hilda_rig_overrides o = HILDA_RIG_NO_OVERRIDES;
    o.dongle = "NOSUCHDONGLE";
    assert_int_equal(parse(two_dongles, &o, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "has no entry for the dongle NOSUCHDONGLE"));
    assert_non_null(strstr(e.message, "1209CAFE00D0BEEF"));
    assert_int_equal(parse("{\"dongle\": \"AAA\"}", &o, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "has no entry for the dongle NOSUCHDONGLE (it lists AAA)"));
}

static void description_one_entry(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    /* one entry alone, no "dongles"; the fields not given are the bench's defaults */
    assert_int_equal(parse("{\"adapter\": {\"serial\": \"HILDAEMU0\"}, \"reset\": {\"pin\": 0}}", NULL, &r, &e),
                     HILDA_OK);
    assert_string_equal(r.adapter.serial, "HILDAEMU0");
    assert_int_equal(r.reset_ms, HILDA_RIG_RESET_MS);
    assert_int_equal(r.power_pin, 1);
    assert_true(r.power_active_high);
    assert_int_equal(r.power_off_ms, HILDA_RIG_OFF_MS);
    /* a "dongles" array of one needs no --dongle either; naming no dongle, it is any dongle's */
    assert_int_equal(parse("{\"dongles\": [{\"reset\": {\"pin\": 3}}]}", NULL, &r, &e), HILDA_OK);
    assert_int_equal(r.reset_pin, 3);
    struct hilda_rig_overrides any = HILDA_RIG_NO_OVERRIDES;
    any.dongle = "1209CAFE00D0BEEF";
    assert_int_equal(parse("{\"dongles\": [{\"reset\": {\"pin\": 3}}]}", &any, &r, &e), HILDA_OK);
    assert_string_equal(r.dongle, "1209CAFE00D0BEEF");
    assert_int_equal(parse("{\"reset\": {\"pin\": 3}}", &any, &r, &e), HILDA_OK);
    assert_string_equal(r.dongle, "1209CAFE00D0BEEF");
    /* no file: the defaults, and the options over them */
    struct hilda_rig_overrides o = HILDA_RIG_NO_OVERRIDES;
    o.adapter = "XYZ";
    o.reset_pin = 2;
    o.power_pin = 6;
    o.power_active_high = 0;
    assert_int_equal(hilda_rig_load(NULL, &o, &r, &e), HILDA_OK);
    assert_string_equal(r.adapter.serial, "XYZ");
    assert_int_equal(r.reset_pin, 2);
    assert_int_equal(r.power_pin, 6);
    assert_false(r.power_active_high);
}

static void description_missing_fields(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    /* several dongles: each entry needs its "dongle" */
    assert_int_equal(parse("{\"dongles\": [{\"dongle\": \"A\"}, {\"reset\": {\"pin\": 2}}]}", NULL, &r, &e),
                     HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "entry 1: with several dongles every entry needs its \"dongle\" serial"));
    assert_int_equal(parse("{\"dongles\": [{\"dongle\": \"A\"}, {\"dongle\": \"A\"}]}", NULL, &r, &e),
                     HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "the dongle A appears in entries 0 and 1"));
    assert_int_equal(parse("{\"dongles\": []}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "non-empty array"));
    assert_int_equal(parse("[1, 2]", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "a JSON object is expected"));
    assert_int_equal(parse("{\"reset\": 0}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "\"reset\" must be an object"));
    assert_int_equal(parse("{\"reset\": {\"pin\": 0, \"ms\": 0}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "reset ms must be a whole number 1..60000"));
    assert_int_equal(parse("{\"adapter\": {\"vid\": \"xyz\"}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "4 hex digits"));
    assert_int_equal(parse("{\"adapter\": {\"interface\": \"E\"}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_int_equal(parse("not json", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "rig.json is not JSON"));
    assert_int_equal(hilda_rig_load("/nonexistent/rig.json", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "cannot read the rig description /nonexistent/rig.json"));
}

static void description_bad_pins(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    assert_int_equal(parse("{\"reset\": {\"pin\": 8}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "reset pin 8 is not one of the adapter's pins 0..7"));
    assert_int_equal(parse("{\"power\": {\"pin\": -1}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "power pin -1 is not one of the adapter's pins 0..7"));
    assert_int_equal(parse("{\"power\": {\"pin\": \"1\"}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_int_equal(parse("{\"reset\": {\"pin\": 3}, \"power\": {\"pin\": 3}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "both on pin D3"));
    /* an option that puts power on the reset pin is refused the same way */
    struct hilda_rig_overrides o = HILDA_RIG_NO_OVERRIDES;
    o.power_pin = 0;
    assert_int_equal(parse("{}", &o, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "both on pin D0"));
}

static void description_bad_polarity(void **state)
{
    (void)state;
    struct hilda_rig r;
    struct hilda_error e;
    assert_int_equal(parse("{\"power\": {\"pin\": 1, \"active\": \"HIGH\"}}", NULL, &r, &e), HILDA_ERR_USAGE);
    assert_non_null(strstr(e.message, "power active \"HIGH\" is neither \"high\" nor \"low\""));
    assert_int_equal(parse("{\"power\": {\"active\": 1}}", NULL, &r, &e), HILDA_ERR_USAGE);
    /* --power-active over the file */
    struct hilda_rig_overrides o = HILDA_RIG_NO_OVERRIDES;
    o.power_active_high = 1;
    assert_int_equal(parse("{\"power\": {\"active\": \"low\"}}", &o, &r, &e), HILDA_OK);
    assert_true(r.power_active_high);
}

/* ---- the pin logic, against a fake adapter ---- */

#define STEPS_MAX 64

struct step {
    char op;
    uint8_t direction, latch;
};

struct fake {
    uint8_t direction, latch, levels;      /* the adapter's state */
    bool latch_known;                      /* written since bitbang mode was entered */
    struct step steps[STEPS_MAX];
    size_t n;
    unsigned slept_ms;
    unsigned reset_pin;
    bool reset_driven_high;                /* ever an output with latch 1 */
    bool reset_low_while_sleeping;
};

static void record(struct fake *f, char op)
{
    assert_true(f->n < STEPS_MAX);
    f->steps[f->n++] = (struct step){ op, f->direction, f->latch };
    uint8_t bit = (uint8_t)(1u << f->reset_pin);
    if ((f->direction & bit) && (!f->latch_known || (f->latch & bit)))
        f->reset_driven_high = true;
}

static enum hilda_status fake_direction(void *ctx, uint8_t mask, struct hilda_error *e)
{
    (void)e;
    struct fake *f = ctx;
    f->direction = mask;
    record(f, 'd');
    return HILDA_OK;
}

static enum hilda_status fake_latch(void *ctx, uint8_t latch, struct hilda_error *e)
{
    (void)e;
    struct fake *f = ctx;
    f->latch = latch;
    f->latch_known = true;
    record(f, 'l');
    return HILDA_OK;
}

static enum hilda_status fake_read(void *ctx, uint8_t *levels, struct hilda_error *e)
{
    (void)e;
    struct fake *f = ctx;
    /* outputs read their latch; inputs what the bench pulls them to */
    *levels = (uint8_t)((f->latch & f->direction) | (f->levels & ~f->direction));
    return HILDA_OK;
}

static bool fake_sleep(void *ctx, unsigned ms)
{
    struct fake *f = ctx;
    f->slept_ms += ms;
    uint8_t bit = (uint8_t)(1u << f->reset_pin);
    if ((f->direction & bit) && !(f->latch & bit))
        f->reset_low_while_sleeping = true;
    return true;
}

static struct hilda_rig_ops fake_ops(struct fake *f)
{
    return (struct hilda_rig_ops){ fake_direction, fake_latch, fake_read, fake_sleep, f };
}

/* A fake adapter fresh from a previous run: unknown latch (all ones, the
 * worst case), every pin pulled high (reset's pull-up, the load switch's). */
static void fake_init(struct fake *f, unsigned reset_pin)
{
    *f = (struct fake){ .latch = 0xFF, .levels = 0xFF, .reset_pin = reset_pin };
}

static void pins_reset_open_drain(void **state)
{
    (void)state;
    struct hilda_rig rig;
    hilda_rig_defaults(&rig);
    struct fake f;
    fake_init(&f, rig.reset_pin);
    struct hilda_rig_ops ops = fake_ops(&f);
    struct hilda_rig_pins p;
    struct hilda_error e;
    assert_int_equal(hilda_rig_pins_start(&p, &ops, &rig, &e), HILDA_OK);
    assert_int_equal(f.direction & 0x01, 0);           /* reset: an input after start */
    assert_int_equal(hilda_rig_reset(&p, 0, &e), HILDA_OK);
    assert_int_equal(f.slept_ms, 50);
    assert_true(f.reset_low_while_sleeping);
    assert_int_equal(f.direction & 0x01, 0);           /* released: Hi-Z again */
    assert_int_equal(f.direction & ~0x03, 0);          /* other pins: inputs */
    assert_int_equal(hilda_rig_reset(&p, 7, &e), HILDA_OK);
    assert_int_equal(f.slept_ms, 57);
    assert_false(f.reset_driven_high);
}

/* No sequence of calls ever makes the reset pin an output latched 1. */
static void pins_reset_never_driven_high(void **state)
{
    (void)state;
    for (unsigned reset_pin = 0; reset_pin < HILDA_RIG_PINS; reset_pin++) {
        for (unsigned seq = 0; seq < 729; seq++) {          /* 6 calls of 3 kinds: 3^6 */
            struct hilda_rig rig;
            hilda_rig_defaults(&rig);
            rig.reset_pin = reset_pin;
            rig.power_pin = (reset_pin + 1) % HILDA_RIG_PINS;
            rig.power_active_high = seq & 1;
            struct fake f;
            fake_init(&f, reset_pin);
            struct hilda_rig_ops ops = fake_ops(&f);
            struct hilda_rig_pins p;
            struct hilda_error e;
            assert_int_equal(hilda_rig_pins_start(&p, &ops, &rig, &e), HILDA_OK);
            for (unsigned k = 0, s = seq; k < 6; k++, s /= 3) {
                switch (s % 3) {
                case 0: assert_int_equal(hilda_rig_reset(&p, 1, &e), HILDA_OK); break;
                case 1: assert_int_equal(hilda_rig_power(&p, k & 1, &e), HILDA_OK); break;
                case 2: assert_int_equal(hilda_rig_power_cycle(&p, 1, &e), HILDA_OK); break;
                }
                assert_int_equal(f.direction & ~(uint8_t)((1u << reset_pin) | (1u << rig.power_pin)), 0);
            }
            assert_false(f.reset_driven_high);
            assert_int_equal(f.direction & (1u << reset_pin), 0);
        }
    }
}

static void pins_power_polarity(void **state)
{
    (void)state;
    for (int high = 0; high <= 1; high++) {
        struct hilda_rig rig;
        hilda_rig_defaults(&rig);
        rig.power_active_high = high;
        struct fake f;
        fake_init(&f, rig.reset_pin);
        struct hilda_rig_ops ops = fake_ops(&f);
        struct hilda_rig_pins p;
        struct hilda_error e;
        assert_int_equal(hilda_rig_pins_start(&p, &ops, &rig, &e), HILDA_OK);
        assert_int_equal(hilda_rig_power(&p, false, &e), HILDA_OK);
        assert_int_equal(f.direction & 0x02, 0x02);
        assert_int_equal(!!(f.latch & 0x02), !high);
        struct hilda_rig_reading r;
        assert_int_equal(hilda_rig_read(&p, &r, &e), HILDA_OK);
        assert_false(r.power_on);
        assert_false(r.reset_asserted);
        assert_int_equal(hilda_rig_power(&p, true, &e), HILDA_OK);
        assert_int_equal(!!(f.latch & 0x02), high);
        assert_int_equal(hilda_rig_read(&p, &r, &e), HILDA_OK);
        assert_true(r.power_on);
        /* the state is remembered: a reset leaves the power as it is */
        assert_int_equal(hilda_rig_reset(&p, 1, &e), HILDA_OK);
        assert_int_equal(!!(f.latch & 0x02), high);
        assert_int_equal(f.direction & 0x02, 0x02);
    }
}

/* A new process finds the power off (a previous `power off`): it stays off. */
static void pins_start_keeps_power(void **state)
{
    (void)state;
    struct hilda_rig rig;
    hilda_rig_defaults(&rig);
    struct fake f;
    fake_init(&f, rig.reset_pin);
    f.direction = 0x02;
    f.latch = 0x00;                  /* driven off by the last run */
    f.latch_known = true;
    struct hilda_rig_ops ops = fake_ops(&f);
    struct hilda_rig_pins p;
    struct hilda_error e;
    assert_int_equal(hilda_rig_pins_start(&p, &ops, &rig, &e), HILDA_OK);
    for (size_t i = 0; i < f.n; i++)
        assert_int_equal(f.steps[i].latch & 0x02, 0);     /* never on in between */
    assert_int_equal(hilda_rig_reset(&p, 1, &e), HILDA_OK);
    assert_int_equal(f.latch & 0x02, 0);
    assert_int_equal(f.direction, 0x02);
    /* a fresh adapter: latch 0, the power line pulled on; it stays on */
    fake_init(&f, rig.reset_pin);
    f.latch = 0x00;
    assert_int_equal(hilda_rig_pins_start(&p, &ops, &rig, &e), HILDA_OK);
    for (size_t i = 0; i < f.n; i++)
        if (f.steps[i].direction & 0x02)
            assert_int_equal(f.steps[i].latch & 0x02, 0x02);
    assert_int_equal(f.direction, 0x02);
    assert_int_equal(f.latch & 0x02, 0x02);
}

static void pins_cycle(void **state)
{
    (void)state;
    struct hilda_rig rig;
    hilda_rig_defaults(&rig);
    struct fake f;
    fake_init(&f, rig.reset_pin);
    struct hilda_rig_ops ops = fake_ops(&f);
    struct hilda_rig_pins p;
    struct hilda_error e;
    assert_int_equal(hilda_rig_pins_start(&p, &ops, &rig, &e), HILDA_OK);
    size_t before = f.n;
    assert_int_equal(hilda_rig_power_cycle(&p, 0, &e), HILDA_OK);
    assert_int_equal(f.slept_ms, HILDA_RIG_OFF_MS);
    /* off (latch 0 on D1), then on (latch 1) */
    assert_int_equal(f.n, before + 2);
    assert_int_equal(f.steps[before].latch & 0x02, 0);
    assert_int_equal(f.steps[before + 1].latch & 0x02, 0x02);
    assert_int_equal(hilda_rig_power_cycle(&p, 123, &e), HILDA_OK);
    assert_int_equal(f.slept_ms, HILDA_RIG_OFF_MS + 123);
    assert_int_equal(f.latch & 0x02, 0x02);
}

/* ---- choosing the adapter ---- */

static struct hilda_rig_adapter_info adapter(const char *serial, const char *path, bool no_permission)
{
    struct hilda_rig_adapter_info a = { .vid = 0x0403, .pid = 0x6001, .no_permission = no_permission };
    snprintf(a.serial, sizeof a.serial, "%s", serial);
    snprintf(a.path, sizeof a.path, "%s", path);
    return a;
}

static void choose_adapter(void **state)
{
    (void)state;
    struct hilda_rig_adapter_info list[3] = { adapter("A10KXYZ", "1-1.2", false), adapter("B20KABC", "1-1.3", false),
                                              adapter("", "1-1.4", true) };
    struct hilda_error e;
    size_t i = 99;
    assert_int_equal(hilda_rig_choose(list, 0, NULL, &i, &e), HILDA_ERR_NOT_FOUND);
    assert_int_equal(hilda_status_exit_code(e.status), 3);
    assert_non_null(strstr(e.message, "no FTDI adapter"));
    assert_non_null(strstr(e.message, "plug in the rig's adapter"));
    assert_int_equal(hilda_rig_choose(list, 1, NULL, &i, &e), HILDA_OK);
    assert_int_equal(i, 0);
    assert_int_equal(hilda_rig_choose(list, 2, "B20KABC", &i, &e), HILDA_OK);
    assert_int_equal(i, 1);
    assert_int_equal(hilda_rig_choose(list, 2, NULL, &i, &e), HILDA_ERR_AMBIGUOUS);
    assert_int_equal(hilda_status_exit_code(e.status), 4);
    assert_non_null(strstr(e.message, "2 FTDI adapters are connected"));
    assert_non_null(strstr(e.message, "A10KXYZ at 1-1.2"));
    assert_non_null(strstr(e.message, "choose one with --adapter SERIAL"));
    assert_int_equal(hilda_rig_choose(list, 2, "NOPE", &i, &e), HILDA_ERR_NOT_FOUND);
    assert_non_null(strstr(e.message, "no FTDI adapter with the serial NOPE"));
    /* no permission: the only adapter, or the one that may be the named one */
    assert_int_equal(hilda_rig_choose(list + 2, 1, NULL, &i, &e), HILDA_ERR_ACCESS);
    assert_int_equal(hilda_status_exit_code(e.status), 10);
    assert_non_null(strstr(e.message, "no permission to open the FTDI adapter 0403:6001 at 1-1.4: add the udev rule"));
    assert_int_equal(hilda_rig_choose(list, 3, "NOPE", &i, &e), HILDA_ERR_ACCESS);
    assert_int_equal(hilda_rig_choose(list, 3, "A10KXYZ", &i, &e), HILDA_OK);
    assert_int_equal(i, 0);
    /* each a single sentence */
    assert_null(strchr(e.message, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(description_good),
        cmocka_unit_test(description_dongle_selects),
        cmocka_unit_test(description_unknown_dongle),
        cmocka_unit_test(description_one_entry),
        cmocka_unit_test(description_missing_fields),
        cmocka_unit_test(description_bad_pins),
        cmocka_unit_test(description_bad_polarity),
        cmocka_unit_test(pins_reset_open_drain),
        cmocka_unit_test(pins_reset_never_driven_high),
        cmocka_unit_test(pins_power_polarity),
        cmocka_unit_test(pins_start_keeps_power),
        cmocka_unit_test(pins_cycle),
        cmocka_unit_test(choose_adapter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
