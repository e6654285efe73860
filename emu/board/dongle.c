/* The PCA10059 around the nRF52840 (dongle.h). Wiring facts: the nRF52840 Dongle user guide. */
#include "dongle.h"

#include <stdlib.h>

#include "soc_impl.h"

struct dongle {
    struct soc *soc;
    struct nrf52840 *chip;
    struct machine *machine;
    bool reset_held;               /* dongle_reset_hold */
    bool unpowered;                /* dongle_power(false) */
};

static const struct {
    const char *name;
    unsigned port, pin;
} leds[] = {
    { "ld1_green", 0, 6 },
    { "ld2_red", 0, 8 },
    { "ld2_green", 1, 9 },
    { "ld2_blue", 0, 12 },
};
#define BUTTON_PORT 1   /* SW1: P1.06, active low */
#define BUTTON_PIN 6

/* ---- the chip's signals to the CPU and back ---- */

static void on_system_off(void *ctx)
{
    struct dongle *d = ctx;
    if (d->machine)
        machine_halt_until_reset(d->machine);
}

static void on_flash_erased(void *ctx, uint32_t addr, uint32_t len)
{
    (void)addr;
    (void)len;
    struct dongle *d = ctx;
    if (d->machine)
        machine_code_changed(d->machine);
}

static void on_sysreset(void *ctx)
{
    struct dongle *d = ctx;
    nrf52840_note_reset_reason(d->chip, POWER_RESETREAS_SREQ);
}

/* The watchdog's reset (the chip has noted RESETREAS.DOG): the whole chip
 * and the CPU, as the reset pin does, but the dongle's pin is not involved. */
static void on_watchdog_reset(void *ctx)
{
    struct dongle *d = ctx;
    if (d->machine)
        machine_reset(d->machine, RESET_SYSTEM);
}

static void on_sleep_changed(void *ctx, bool sleeping)
{
    struct dongle *d = ctx;
    nrf52840_cpu_sleeping(d->chip, sleeping);
}

static bool flash_writable(void *ctx)
{
    const struct dongle *d = ctx;
    return nrf52840_flash_writable(d->chip);
}

struct dongle *dongle_new(const struct dongle_options *opt)
{
    FILE *log = opt && opt->log ? opt->log : stderr;
    struct dongle *d = calloc(1, sizeof *d);
    if (!d || !(d->soc = soc_new(log))) {
        fprintf(log, "hilda-emu: out of memory\n");
        free(d);
        return NULL;
    }
    const struct nrf52840_config cfg = {
        .uart_mode = opt ? opt->uart_mode : NULL,
        .device_id = opt ? opt->device_id : 0,
        .vbus = true,
        .ctx = d,
        .system_off = on_system_off,
        .flash_erased = on_flash_erased,
        .watchdog_reset = on_watchdog_reset,
    };
    d->chip = nrf52840_new(d->soc, &cfg);
    if (!d->chip) {
        soc_log(d->soc, "hilda-emu: cannot create the peripheral models\n");
        dongle_free(d);
        return NULL;
    }
    if (opt)
        usbd_model_set_ep0_status_policy(nrf52840_usbd(d->chip), opt->ep0_status);
    const struct nrf52840_window *windows;
    unsigned n = nrf52840_bus_windows(&windows);
    struct machine_bus_window bus[MACHINE_MAX_BUS_WINDOWS];
    for (unsigned i = 0; i < n && i < MACHINE_MAX_BUS_WINDOWS; i++)
        bus[i] = (struct machine_bus_window){ windows[i].base, windows[i].size };
    struct machine_options mo = {
        .uicr = nrf52840_uicr(d->chip),
        .uicr_base = NRF52840_UICR_BASE,
        .uicr_size = NRF52840_UICR_SIZE,
        .trace_irq = opt && opt->trace_irq,
        .trace_mmio = opt && opt->trace_mmio,
        .realtime = opt && opt->realtime,
        .bus_windows = bus,
        .n_bus_windows = n,
        .hooks = { .ctx = d, .sysreset = on_sysreset, .flash_writable = flash_writable,
                   .sleep_changed = on_sleep_changed },
    };
    for (unsigned i = 0; opt && i < DONGLE_MAX_IMAGES; i++)
        mo.firmware[i] = opt->firmware[i];
    d->machine = machine_new(d->soc, &mo);
    if (!d->machine) {
        dongle_free(d);
        return NULL;
    }
    return d;
}

void dongle_free(struct dongle *d)
{
    if (!d)
        return;
    machine_free(d->machine);
    nrf52840_free(d->chip);     /* models before the soc they are on */
    soc_free(d->soc);
    free(d);
}

struct machine *dongle_machine(struct dongle *d)
{
    return d->machine;
}

struct nrf52840 *dongle_chip(struct dongle *d)
{
    return d->chip;
}

struct soc *dongle_soc(struct dongle *d)
{
    return d->soc;
}

void dongle_reset_pin(struct dongle *d)
{
    nrf52840_note_reset_reason(d->chip, POWER_RESETREAS_RESETPIN);
    machine_reset(d->machine, RESET_SYSTEM);
    if (d->reset_held)
        machine_halt_until_reset(d->machine);   /* the bench still holds the pin low */
}

/* Held: the chip is reset (USB disconnects: the pull-up goes with it) and
 * the CPU stays stopped, as a chip whose nRESET is low. */
void dongle_reset_hold(struct dongle *d, bool held)
{
    if (held == d->reset_held)
        return;
    d->reset_held = held;
    if (d->unpowered)
        return;                    /* no supply: nothing to reset; power-on sees the pin */
    nrf52840_note_reset_reason(d->chip, POWER_RESETREAS_RESETPIN);
    machine_reset(d->machine, RESET_SYSTEM);
    if (held)
        machine_halt_until_reset(d->machine);
}

bool dongle_reset_held(const struct dongle *d)
{
    return d->reset_held;
}

void dongle_power(struct dongle *d, bool on)
{
    d->unpowered = !on;
    if (!on) {
        nrf52840_set_vbus(d->chip, false);
        machine_power(d->machine, false);
        return;
    }
    machine_power(d->machine, true);
    nrf52840_set_vbus(d->chip, true);
    if (d->reset_held)
        machine_halt_until_reset(d->machine);   /* powered, but nRESET is still low */
}

bool dongle_powered(const struct dongle *d)
{
    return !d->unpowered;
}

void dongle_button(struct dongle *d, bool pressed)
{
    nrf52840_gpio_drive(d->chip, BUTTON_PORT, BUTTON_PIN, !pressed);
}

unsigned dongle_led_count(void)
{
    return sizeof leds / sizeof leds[0];
}

const char *dongle_led_name(unsigned i)
{
    return i < dongle_led_count() ? leds[i].name : "";
}

bool dongle_led_lit(const struct dongle *d, unsigned i)
{
    if (i >= dongle_led_count())
        return false;
    uint32_t bit = 1u << leds[i].pin;
    return (nrf52840_gpio_dir(d->chip, leds[i].port) & bit) && !(nrf52840_gpio_out(d->chip, leds[i].port) & bit);
}
