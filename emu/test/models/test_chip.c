/* nrf52840_new: every model in its slot, the chip-level API. */
#include "harness.h"

#include <sys/socket.h>
#include <unistd.h>

static int system_off_calls;
static void on_system_off(void *ctx)
{
    (void)ctx;
    system_off_calls++;
}

static void every_model_answers_in_its_slot(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    struct nrf52840_config cfg = { .uart_mode = "none", .device_id = 0xABCD00001234ull };
    struct nrf52840 *chip = nrf52840_new(h->soc, &cfg);
    assert_non_null(chip);
    assert_string_equal(harness_log(h), "");

    assert_int_equal(rd(h, 0x10000100u), 0x52840);                  /* FICR */
    assert_int_equal(rd(h, 0x10000060u), 0x00001234u);
    assert_int_equal(rd(h, 0x10000064u), 0x0000ABCDu);
    assert_int_equal(rd(h, 0x10001200u), 18);                        /* UICR */
    assert_int_equal(rd(h, 0x4001E400u), 1);                         /* NVMC READY */
    assert_int_equal(rd(h, 0x40000640u), 1);                         /* POWER MAINREGSTATUS */
    const uint32_t prescalers[] = { 0x40008510u, 0x40009510u, 0x4000A510u, 0x4001A510u, 0x4001B510u };
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(rd(h, prescalers[i]), 4);                   /* TIMERn PRESCALER */
    const uint32_t counters[] = { 0x4000B504u, 0x40011504u, 0x40024504u };
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(rd(h, counters[i]), 0);                     /* RTCn COUNTER */
    assert_int_equal(rd(h, 0x40002524u), 0x04000000u);               /* UARTE0 BAUDRATE */
    assert_int_equal(rd(h, 0x40028524u), 0x04000000u);               /* UARTE1 */
    assert_int_equal(rd(h, 0x50000700u), 2);                         /* P0 PIN_CNF[0] */
    assert_int_equal(rd(h, 0x50000A3Cu), 2);                         /* P1 PIN_CNF[15] */
    wr(h, 0x4006EC14u, 0xC0);                                        /* errata 171 */
    assert_string_equal(harness_log(h), "");
    assert_string_equal(nrf52840_uart_path(chip, 0), "");

    /* a slot without a model (RADIO): reported once, reads 0 */
    assert_int_equal(rd(h, 0x40001400u), 0);
    rd(h, 0x40001400u);
    assert_true(log_has(h, "unmodelled read of 0x40001400 (no model)"));
    assert_null(strstr(strstr(harness_log(h), "0x40001400") + 1, "0x40001400"));

    nrf52840_free(chip);
    harness_free(h);
}

static void chip_api(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    struct nrf52840_config cfg = {
        .uart_mode = "none",
        .vbus = false,
        .system_off = on_system_off,
    };
    struct nrf52840 *chip = nrf52840_new(h->soc, &cfg);
    assert_non_null(chip);
    assert_true(rd(h, 0x10000060u) != 0 || rd(h, 0x10000064u) != 0);   /* default DEVICEID */

    /* the firmware's LED and button set-up (board.c) */
    wr(h, 0x50000508u, 1u << 6);
    wr(h, 0x50000718u, 1);
    wr(h, 0x50000A18u, 3u << 2);
    assert_true(nrf52840_gpio_dir(chip, 0) & (1u << 6));
    assert_true(nrf52840_gpio_out(chip, 0) & (1u << 6));
    wr(h, 0x5000050Cu, 1u << 6);                                     /* LED on */
    assert_false(nrf52840_gpio_out(chip, 0) & (1u << 6));
    assert_true(nrf52840_gpio_in(chip, 1) & (1u << 6));
    nrf52840_gpio_drive(chip, 1, 6, false);
    assert_false(rd(h, 0x50000810u) & (1u << 6));
    nrf52840_gpio_release(chip, 1, 6);
    assert_true(rd(h, 0x50000810u) & (1u << 6));

    wr(h, 0x40000304u, 1u << 7);
    nrf52840_set_vbus(chip, true);
    assert_int_equal(rd(h, 0x4000011Cu), 1);
    assert_true(irq(h, 0));

    nrf52840_note_reset_reason(chip, 1);
    soc_reset(h->soc, RESET_SYSTEM);
    assert_int_equal(rd(h, 0x40000400u), 1);

    assert_false(nrf52840_system_off(chip));
    wr(h, 0x40000500u, 1);
    assert_true(nrf52840_system_off(chip));
    assert_int_equal(system_off_calls, 1);

    assert_non_null(nrf52840_clock_power(chip));
    assert_int_equal(nrf52840_uicr(chip)[0x200], 18);
    struct nrf52840_uart_stats st;
    nrf52840_uart_stats(chip, 1, &st);
    assert_int_equal(st.tx_bytes, 0);
    nrf52840_free(chip);
    harness_free(h);
}

static void uart_fd_mode_and_pty_default(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct nrf52840_config cfg = { .uart_mode = NULL, .uart1_mode = "fd", .uart_fd = { -1, sv[0] } };
    struct nrf52840 *chip = nrf52840_new(h->soc, &cfg);
    assert_non_null(chip);
    assert_true(strncmp(nrf52840_uart_path(chip, 0), "/dev/pts/", 9) == 0);   /* default: pty */
    assert_string_equal(nrf52840_uart_path(chip, 1), "");
    assert_true(log_has(h, "emu: UARTE0 on /dev/pts/"));
    /* UARTE1 talks to the socket */
    wr(h, 0x40028524u, 0x10000000u);
    wr(h, 0x40028500u, 8);
    memcpy(soc_ram(h->soc, 0x20000000u, 1), "!", 1);
    wr(h, 0x40028544u, 0x20000000u);
    wr(h, 0x40028548u, 1);
    wr(h, 0x40028008u, 1);
    run_for(h, 640);
    char c = 0;
    assert_int_equal(read(sv[1], &c, 1), 1);
    assert_int_equal(c, '!');
    nrf52840_free(chip);
    close(sv[0]);
    close(sv[1]);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_model_answers_in_its_slot),
        cmocka_unit_test(chip_api),
        cmocka_unit_test(uart_fd_mode_and_pty_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
