/* FICR, UICR, NVMC and the errata sinks. */
#include "harness.h"

#define FICR 0x10000000u
#define UICR 0x10001000u
#define NVMC 0x4001E000u
#define NVMC_READY (NVMC + 0x400u)
#define NVMC_CONFIG (NVMC + 0x504u)
#define NVMC_ERASEPAGE (NVMC + 0x508u)
#define NVMC_ERASEALL (NVMC + 0x50Cu)
#define NVMC_ERASEUICR (NVMC + 0x514u)

struct fixture {
    struct harness *h;
    struct periph *ficr, *nvmc, *uicr;
    struct errata_sink *errata;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->h = harness_new();
    f->ficr = ficr_new(f->h->soc, 0x1122334455667788ull);
    f->nvmc = nvmc_new(f->h->soc);
    f->uicr = uicr_new(f->h->soc, f->nvmc);
    f->errata = errata_new(f->h->soc);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    errata_free(f->errata);
    uicr_free(f->uicr);
    nvmc_free(f->nvmc);
    ficr_free(f->ficr);
    harness_free(f->h);
    free(f);
    return 0;
}

static void ficr_values(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, FICR + 0x010), 4096);
    assert_int_equal(rd(h, FICR + 0x014), 256);
    assert_int_equal(rd(h, FICR + 0x060), 0x55667788u);
    assert_int_equal(rd(h, FICR + 0x064), 0x11223344u);
    assert_int_equal(rd(h, FICR + 0x100), 0x52840);
    assert_int_equal(rd(h, FICR + 0x104), 0x41414430u);
    assert_int_equal(rd(h, FICR + 0x10C), 256);
    assert_int_equal(rd(h, FICR + 0x110), 1024);
    /* §8 point 8: an nRF52840, revision neither 0 nor unknown */
    assert_int_equal(rd(h, FICR + 0x130), 0x08);
    assert_int_equal(rd(h, FICR + 0x134), 0x02);
    assert_string_equal(harness_log(h), "");
    assert_int_equal(rd(h, FICR + 0x200), 0);
    assert_true(log_has(h, "unmodelled read of 0x10000200"));
    wr(h, FICR + 0x100, 0);
    assert_int_equal(rd(h, FICR + 0x100), 0x52840);
    assert_true(log_has(h, "unmodelled write of 0x10000100"));
}

static void uicr_is_erased_but_for_pin_reset(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, UICR + 0x014), 0xFFFFFFFFu);   /* NRFFW[0] */
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFFFu);   /* REGOUT0 */
    assert_int_equal(rd(h, UICR + 0x200), 18);            /* PSELRESET[0] */
    assert_int_equal(rd(h, UICR + 0x204), 18);
}

/* Zephyr's dongle init: REGOUT0 = 4 (3.0 V) through NVMC, §6.1 */
static void uicr_programs_only_with_wen_and_only_clears_bits(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, UICR + 0x304, 4);
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFFFu);
    assert_true(log_has(h, "UICR write to 0x10001304 without NVMC"));
    wr(h, NVMC_CONFIG, 1);
    assert_int_equal(rd(h, NVMC_READY), 1);
    wr(h, UICR + 0x304, 0xFFFFFFFCu);
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFFCu);
    wr(h, UICR + 0x304, 0xFFFFFFF7u);                     /* bits only go 1 -> 0 */
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFF4u);
    wr(h, NVMC_CONFIG, 0);
    /* it is non-volatile */
    soc_reset(h->soc, RESET_POWER_ON);
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFF4u);
    /* erase needs CONFIG = Een */
    wr(h, NVMC_ERASEUICR, 1);
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFF4u);
    wr(h, NVMC_CONFIG, 2);
    wr(h, NVMC_ERASEUICR, 1);
    assert_int_equal(rd(h, UICR + 0x304), 0xFFFFFFFFu);
    assert_int_equal(rd(h, UICR + 0x200), 0xFFFFFFFFu);
}

static uint32_t erased_addr, erased_len;
static void on_erased(void *ctx, uint32_t addr, uint32_t len)
{
    (void)ctx;
    erased_addr = addr;
    erased_len = len;
}

static void nvmc_erases_flash_pages(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    nvmc_on_flash_erased(f->nvmc, on_erased, NULL);
    memset(h->soc->flash + 0x3000, 0x12, 0x2000);
    wr(h, NVMC_ERASEPAGE, 0x3000);                        /* not enabled */
    assert_int_equal(h->soc->flash[0x3000], 0x12);
    assert_true(log_has(h, "without CONFIG = Een"));
    wr(h, NVMC_CONFIG, 2);
    wr(h, NVMC_ERASEPAGE, 0x3000);
    assert_int_equal(h->soc->flash[0x3000], 0xFF);
    assert_int_equal(h->soc->flash[0x3FFF], 0xFF);
    assert_int_equal(h->soc->flash[0x4000], 0x12);
    assert_int_equal(erased_addr, 0x3000);
    assert_int_equal(erased_len, 0x1000);
    wr(h, NVMC_ERASEPAGE, 0x4004);                        /* not a page start */
    assert_int_equal(h->soc->flash[0x4004], 0x12);
    assert_true(log_has(h, "not the start of a flash page"));
    wr(h, NVMC_ERASEPAGE, 0x20000000u);                   /* not flash */
    wr(h, NVMC_ERASEALL, 1);
    assert_int_equal(h->soc->flash[0x4000], 0xFF);
    assert_int_equal(rd(h, UICR + 0x200), 0xFFFFFFFFu);
}

/* nrfx errata 171/187 sequence (§3.7) and SystemInit pokes: all silent. */
static void errata_addresses_are_silent(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    assert_int_equal(rd(h, 0x4006EC00u), 0);              /* locked */
    wr(h, 0x4006EC00u, 0x9375);
    assert_int_equal(rd(h, 0x4006EC00u), 1);              /* unlocked */
    wr(h, 0x4006EC14u, 0xC0);
    wr(h, 0x4006ED14u, 0x3);
    wr(h, 0x4006EC00u, 0x9375);
    assert_int_equal(rd(h, 0x4006EC00u), 0);
    assert_int_equal(rd(h, 0x4006EC14u), 0xC0);
    assert_int_equal(rd(h, 0x4006ED14u), 0x3);
    wr(h, 0x4000568Cu, 0x00038148u);
    wr(h, 0x4000173Cu, 1u << 10);
    wr(h, 0x40029640u, 0x200);
    assert_int_equal(rd(h, 0x40029640u), 0x200);
    assert_string_equal(harness_log(h), "");
    /* the rest of those slots has no model */
    rd(h, 0x40029644u);
    assert_true(log_has(h, "unmodelled read of 0x40029644 (no model)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ficr_values, setup, teardown),
        cmocka_unit_test_setup_teardown(uicr_is_erased_but_for_pin_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(uicr_programs_only_with_wen_and_only_clears_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(nvmc_erases_flash_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(errata_addresses_are_silent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
