/* The bootloader's boot decision (firmware/bootloader/boot.c): each rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot.h"
#include "hilda/protocol.h"

static struct boot_inputs good(void)
{
    struct boot_inputs in = {
        .app_valid = true, .app_sp = 0x20040000u, .app_reset = 0x1101u,
        .resetreas = 0, .gpregret = 0, .button = false,
    };
    return in;
}

static void test_valid_app_starts(void **state)
{
    (void)state;
    struct boot_inputs in = good();
    assert_int_equal(boot_decide(&in), BOOT_APP);
    in.resetreas = 1u << 2;             /* SREQ: a soft reset, e.g. after an update */
    assert_int_equal(boot_decide(&in), BOOT_APP);
}

static void test_no_app(void **state)
{
    (void)state;
    struct boot_inputs in = good();
    in.app_valid = false;
    assert_int_equal(boot_decide(&in), BOOT_DFU_NO_APP);
    in = good();
    in.app_sp = 0xFFFFFFFFu;            /* erased vector table */
    in.app_reset = 0xFFFFFFFFu;
    assert_int_equal(boot_decide(&in), BOOT_DFU_NO_APP);
    in = good();
    in.app_reset = 0x1100u;             /* not Thumb */
    assert_int_equal(boot_decide(&in), BOOT_DFU_NO_APP);
    in = good();
    in.app_reset = 0xE0001u;            /* into the bootloader */
    assert_int_equal(boot_decide(&in), BOOT_DFU_NO_APP);
    in = good();
    in.app_sp = 0x10000000u;            /* not RAM */
    assert_int_equal(boot_decide(&in), BOOT_DFU_NO_APP);
}

static void test_pin_reset(void **state)
{
    (void)state;
    struct boot_inputs in = good();
    in.resetreas = BOOT_RESETREAS_RESETPIN;
    assert_int_equal(boot_decide(&in), BOOT_DFU_PIN_RESET);
    in.app_valid = false;
    assert_int_equal(boot_decide(&in), BOOT_DFU_PIN_RESET);
}

static void test_gpregret(void **state)
{
    (void)state;
    struct boot_inputs in = good();
    in.gpregret = HILDA_BOOTLOADER_GPREGRET;
    assert_int_equal(boot_decide(&in), BOOT_DFU_GPREGRET);
    in.gpregret = 0xB0;
    assert_int_equal(boot_decide(&in), BOOT_APP);
}

static void test_button(void **state)
{
    (void)state;
    struct boot_inputs in = good();
    in.button = true;
    assert_int_equal(boot_decide(&in), BOOT_DFU_BUTTON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_app_starts),
        cmocka_unit_test(test_no_app),
        cmocka_unit_test(test_pin_reset),
        cmocka_unit_test(test_gpregret),
        cmocka_unit_test(test_button),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
