/* The nRF52840 as the firmware sees it: every peripheral model on one soc
 * (memory map and IRQs: Product Specification, "Memory map" and
 * "Instantiation"). Slots without a model (RADIO,
 * NFCT...) read 0 and are reported once per address by the soc. */
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "usbd.h"

#define DEFAULT_DEVICE_ID 0x4E6F726469633031ull   /* any stable value: "Nordic01" */

struct nrf52840 {
    struct soc *soc;
    struct periph *clock_power, *gpio, *ficr, *uicr, *nvmc;
    struct periph *rtc[3], *timer[5], *uarte[2];
    struct periph *usbd, *cc310, *temp, *wdt;
    struct errata_sink *errata;
    void (*watchdog_reset)(void *ctx);
    void *ctx;
};

static struct uarte_backend backend_for(const char *mode, int fd, bool is_uart0, struct soc *soc)
{
    if (!mode)
        mode = is_uart0 ? "pty" : "none";
    if (strcmp(mode, "pty") == 0)
        return (struct uarte_backend){ .kind = UARTE_BACKEND_PTY };
    if (strcmp(mode, "stdio") == 0)
        return (struct uarte_backend){ .kind = UARTE_BACKEND_STDIO };
    if (strcmp(mode, "fd") == 0)
        return (struct uarte_backend){ .kind = UARTE_BACKEND_FD, .fd = fd };
    if (strcmp(mode, "none") != 0)
        soc_log(soc, "emu: UART mode \"%s\" unknown (pty, stdio, none or fd): using none\n", mode);
    return (struct uarte_backend){ .kind = UARTE_BACKEND_NONE };
}

/* The watchdog's reset: RESETREAS.DOG, then the board resets CPU and chip. */
static void watchdog_timed_out(void *ctx)
{
    struct nrf52840 *chip = ctx;
    nrf52840_note_reset_reason(chip, POWER_RESETREAS_DOG);
    if (chip->watchdog_reset)
        chip->watchdog_reset(chip->ctx);
    else
        soc_log(chip->soc, "emu: watchdog reset with nothing to reset the CPU (no board)\n");
}

struct nrf52840 *nrf52840_new(struct soc *soc, const struct nrf52840_config *cfg)
{
    static const struct nrf52840_config defaults = { 0 };
    if (!cfg)
        cfg = &defaults;
    struct nrf52840 *chip = calloc(1, sizeof *chip);
    if (!chip)
        return NULL;
    chip->soc = soc;
    chip->watchdog_reset = cfg->watchdog_reset;
    chip->ctx = cfg->ctx;
    chip->clock_power = clock_power_new(soc, cfg->vbus);
    if (!chip->clock_power)
        goto fail;
    struct power *power = clock_power_power(chip->clock_power);
    if (cfg->system_off)
        power_on_system_off(power, cfg->system_off, cfg->ctx);
    chip->gpio = gpio_new(soc);
    chip->ficr = ficr_new(soc, cfg->device_id ? cfg->device_id : DEFAULT_DEVICE_ID);
    chip->nvmc = nvmc_new(soc);
    if (!chip->gpio || !chip->ficr || !chip->nvmc)
        goto fail;
    if (cfg->flash_erased)
        nvmc_on_flash_erased(chip->nvmc, cfg->flash_erased, cfg->ctx);
    chip->uicr = uicr_new(soc, chip->nvmc);
    if (!chip->uicr)
        goto fail;
    for (unsigned i = 0; i < 3; i++) {
        chip->rtc[i] = rtc_new(soc, i, clock_power_clock(chip->clock_power));
        if (!chip->rtc[i])
            goto fail;
    }
    for (unsigned i = 0; i < 5; i++) {
        chip->timer[i] = timer_new(soc, i);
        if (!chip->timer[i])
            goto fail;
    }
    for (unsigned i = 0; i < 2; i++) {
        struct uarte_backend b = backend_for(i ? cfg->uart1_mode : cfg->uart_mode, cfg->uart_fd[i], i == 0, soc);
        chip->uarte[i] = uarte_new(soc, i, &b);
        if (!chip->uarte[i])
            goto fail;
    }
    chip->errata = errata_new(soc);
    if (!chip->errata)
        goto fail;
    chip->usbd = usbd_model_new(soc);
    chip->cc310 = cc310_new(soc);
    chip->temp = temp_new(soc);
    chip->wdt = wdt_new(soc, watchdog_timed_out, chip);
    if (!chip->usbd || !chip->cc310 || !chip->temp || !chip->wdt)
        goto fail;
    usbd_model_set_power(chip->usbd, clock_power_power(chip->clock_power));
    return chip;
fail:
    /* the soc keeps pointers to what was added: it must not run after this */
    soc_log(soc, "emu: out of memory building the nRF52840 models\n");
    nrf52840_free(chip);
    return NULL;
}

unsigned nrf52840_bus_windows(const struct nrf52840_window **out)
{
    static const struct nrf52840_window windows[] = {
        { 0x10000000u, 0x2000u },    /* FICR and UICR */
        { 0x40000000u, 0x80000u },   /* APB peripherals */
        { 0x50000000u, 0x1000u },    /* AHB: GPIO P0 and P1 */
        { CC310_BASE, CC310_SIZE },  /* CRYPTOCELL and the CC310 behind it */
    };
    *out = windows;
    return sizeof windows / sizeof windows[0];
}

bool nrf52840_flash_writable(const struct nrf52840 *chip)
{
    return nvmc_write_enabled(chip->nvmc);
}

void nrf52840_free(struct nrf52840 *chip)
{
    if (!chip)
        return;
    for (unsigned i = 0; i < 2; i++)
        uarte_free(chip->uarte[i]);
    for (unsigned i = 0; i < 5; i++)
        timer_free(chip->timer[i]);
    for (unsigned i = 0; i < 3; i++)
        rtc_free(chip->rtc[i]);
    usbd_model_free(chip->usbd);
    cc310_free(chip->cc310);
    temp_free(chip->temp);
    wdt_free(chip->wdt);
    errata_free(chip->errata);
    uicr_free(chip->uicr);
    nvmc_free(chip->nvmc);
    ficr_free(chip->ficr);
    gpio_free(chip->gpio);
    clock_power_free(chip->clock_power);
    free(chip);
}

uint32_t nrf52840_gpio_out(const struct nrf52840 *chip, unsigned port)
{
    return gpio_out(chip->gpio, port);
}

uint32_t nrf52840_gpio_dir(const struct nrf52840 *chip, unsigned port)
{
    return gpio_dir(chip->gpio, port);
}

uint32_t nrf52840_gpio_in(const struct nrf52840 *chip, unsigned port)
{
    return gpio_in(chip->gpio, port);
}

void nrf52840_gpio_drive(struct nrf52840 *chip, unsigned port, unsigned pin, bool level)
{
    gpio_drive(chip->gpio, port, pin, level);
}

void nrf52840_gpio_release(struct nrf52840 *chip, unsigned port, unsigned pin)
{
    gpio_release(chip->gpio, port, pin);
}

void nrf52840_set_vbus(struct nrf52840 *chip, bool present)
{
    power_set_vbus(clock_power_power(chip->clock_power), present);
}

const char *nrf52840_uart_path(const struct nrf52840 *chip, unsigned instance)
{
    return instance < 2 ? uarte_path(chip->uarte[instance]) : "";
}

void nrf52840_uart_stats(const struct nrf52840 *chip, unsigned instance, struct nrf52840_uart_stats *out)
{
    if (instance < 2)
        uarte_stats(chip->uarte[instance], out);
    else
        *out = (struct nrf52840_uart_stats){ 0 };
}

void nrf52840_note_reset_reason(struct nrf52840 *chip, uint32_t resetreas_bits)
{
    power_note_reset_reason(clock_power_power(chip->clock_power), resetreas_bits);
    wdt_note_reset_reason(chip->wdt, resetreas_bits);   /* a soft reset leaves it running */
}

void nrf52840_cpu_sleeping(struct nrf52840 *chip, bool sleeping)
{
    wdt_cpu_sleeping(chip->wdt, sleeping);
}

void nrf52840_set_die_temperature(struct nrf52840 *chip, int32_t quarter_degrees)
{
    temp_set_die_temperature(chip->temp, quarter_degrees);
}

bool nrf52840_system_off(const struct nrf52840 *chip)
{
    return power_system_off(clock_power_power(chip->clock_power));
}

struct periph *nrf52840_clock_power(struct nrf52840 *chip)
{
    return chip->clock_power;
}

struct periph *nrf52840_usbd(struct nrf52840 *chip)
{
    return chip->usbd;
}

uint8_t *nrf52840_uicr(struct nrf52840 *chip)
{
    return uicr_bytes(chip->uicr);
}
