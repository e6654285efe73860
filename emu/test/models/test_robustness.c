/* No register value crashes a model: a fixed pseudo-random stream of reads
 * and writes over every modelled slot (tasks, events and configuration
 * registers favoured, RAM pointers among the values), with virtual time,
 * serial input, VBUS changes and resets mixed in. Build with
 * -Db_sanitize=address,undefined to make it meaningful for memory errors. */
#include "harness.h"

#include <sys/socket.h>
#include <unistd.h>

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const uint32_t bases[] = {
    0x40000000u, 0x40002000u, 0x40028000u, 0x40008000u, 0x40009000u, 0x4000A000u, 0x4001A000u,
    0x4001B000u, 0x4000B000u, 0x40011000u, 0x40024000u, 0x50000000u, 0x10000000u, 0x10001000u,
    0x4001E000u, 0x4006E000u,
};

static uint32_t value(void)
{
    switch (next() % 6) {
    case 0: return (uint32_t)next();
    case 1: return 1;
    case 2: return 0;
    case 3: return 0x20000000u + (uint32_t)(next() % 0x40010u);   /* RAM, sometimes just past it */
    case 4: return (uint32_t)(next() % 16);
    }
    return 0xFFFFFFFFu;
}

static uint32_t offset(void)
{
    uint64_t r = next();
    switch (r % 4) {
    case 0: return (uint32_t)(r >> 8) % 0x180u & ~3u;             /* tasks, events */
    case 1: return (0x500u + (uint32_t)(r >> 8) % 0x80u) & ~3u;   /* configuration */
    }
    return (uint32_t)(r >> 8) % 0x1000u & ~3u;
}

static void random_accesses_never_crash(void **state)
{
    (void)state;
    rng = 88172645463325252ull;
    for (int round = 0; round < 5; round++) {
        struct harness *h = harness_new();
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        struct nrf52840_config cfg = { .uart_mode = "fd", .uart_fd = { sv[0], -1 }, .uart1_mode = "none" };
        struct nrf52840 *chip = nrf52840_new(h->soc, &cfg);
        assert_non_null(chip);
        for (int i = 0; i < 50000; i++) {
            uint32_t addr = bases[next() % (sizeof bases / sizeof bases[0])] + offset();
            if (next() % 3)
                soc_bus_write(h->soc, addr, value());
            else
                (void)soc_bus_read(h->soc, addr);
            if (i % 97 == 0)
                run_for(h, next() % 20000);
            if (i % 1013 == 0) {
                char sink[4096];
                (void)!write(sv[1], "abcdef", next() % 7);
                soc_poll_fds(h->soc, 0);
                (void)!read(sv[1], sink, sizeof sink);
            }
            if (i % 30011 == 0)
                nrf52840_set_vbus(chip, next() & 1);
            if (i % 20011 == 0)
                soc_reset(h->soc, (next() & 1) ? RESET_SYSTEM : RESET_POWER_ON);
        }
        run_for(h, SOC_MS(100));
        nrf52840_free(chip);
        close(sv[0]);
        close(sv[1]);
        harness_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_accesses_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
