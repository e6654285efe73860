/* Constructors and cross-model hooks of the nRF52840 peripheral models, one
 * file each in emu/nrf52840/. nrf52840.c assembles them on a soc; the unit
 * tests build single models on a bare soc. Each constructor registers its
 * struct periph with soc_add_periph, starts in the power-on reset state, and
 * returns NULL only when out of memory. A model must be freed before the soc
 * it was added to, and the soc must not run afterwards. */
#ifndef EMU_MODELS_H
#define EMU_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nrf52840.h"
#include "nrf_events.h"
#include "power.h"
#include "soc.h"
#include "uarte_backend.h"

/* ---- CLOCK + POWER: one 4 KiB slot at 0x40000000 (nRF52840 PS "Instantiation") -
 * Both halves share the events, the INTEN register (their bits do not
 * overlap, §1.5) and IRQ 0, so the slot (clock_power.c) owns one struct
 * nrf_events and passes it to both. */
#define CLOCK_POWER_BASE 0x40000000u
#define CLOCK_POWER_IRQ  0u

struct clock;
struct power;

struct periph *clock_power_new(struct soc *soc, bool vbus);
void clock_power_free(struct periph *slot);
struct clock *clock_power_clock(struct periph *slot);
struct power *clock_power_power(struct periph *slot);

/* clock.c: the CLOCK registers of the slot. read/write return false for an
 * offset that is not CLOCK's. */
struct clock *clock_new(struct soc *soc, struct nrf_events *ev);
void clock_free(struct clock *c);
void clock_reset(struct clock *c);
bool clock_read(struct clock *c, uint32_t offset, uint32_t *value);
bool clock_write(struct clock *c, uint32_t offset, uint32_t value);
bool clock_lfclk_running(const struct clock *c);     /* LFCLKSTAT.STATE */
bool clock_lfclk_requested(const struct clock *c);   /* LFCLKSTART given, not stopped */
bool clock_hfxo_running(const struct clock *c);      /* HFCLKSTAT = Xtal, running */
/* Called whenever the LFCLK starts running or stops (the RTCs count on it). */
void clock_add_lfclk_listener(struct clock *c, void (*changed)(void *ctx), void *ctx);

/* power.c: the POWER registers of the slot. */
struct power *power_new(struct soc *soc, struct nrf_events *ev, const struct periph *slot, bool vbus);
void power_free(struct power *pw);
void power_reset(struct power *pw, enum reset_kind kind);
bool power_read(struct power *pw, uint32_t offset, uint32_t *value);
bool power_write(struct power *pw, uint32_t offset, uint32_t value);
void power_set_vbus(struct power *pw, bool present);
void power_note_reset_reason(struct power *pw, uint32_t resetreas_bits);
bool power_system_off(const struct power *pw);
void power_on_system_off(struct power *pw, void (*entered)(void *ctx), void *ctx);
/* power_usb_regulator(): see power.h */

/* POWER_RESETREAS_* bits: nrf52840.h */

/* ---- GPIO: P0 (32 pins) at 0x50000000 and P1 (16 pins) at 0x50000300 ------
 * One struct periph covers the 4 KiB AHB slot; both ports' registers live in
 * it (P0 at 0x504.., P1 at 0x804..). */
#define GPIO_BASE 0x50000000u

struct periph *gpio_new(struct soc *soc);
void gpio_free(struct periph *gpio);
uint32_t gpio_out(const struct periph *gpio, unsigned port);
uint32_t gpio_dir(const struct periph *gpio, unsigned port);
uint32_t gpio_in(const struct periph *gpio, unsigned port);   /* what IN reads */
/* An external driver on a pin (a button); release returns it to the pull. */
void gpio_drive(struct periph *gpio, unsigned port, unsigned pin, bool level);
void gpio_release(struct periph *gpio, unsigned port, unsigned pin);

/* ---- RTC0..2 (need the LFCLK: they only count while it runs) -------------- */
struct periph *rtc_new(struct soc *soc, unsigned instance, struct clock *clock);
void rtc_free(struct periph *rtc);

/* ---- TIMER0..4 ------------------------------------------------------------ */
struct periph *timer_new(struct soc *soc, unsigned instance);
void timer_free(struct periph *timer);

/* ---- FICR, UICR, NVMC ----------------------------------------------------- */
#define FICR_BASE 0x10000000u
#define UICR_BASE 0x10001000u
#define NVMC_BASE 0x4001E000u
#define UICR_SIZE 0x1000u

struct periph *ficr_new(struct soc *soc, uint64_t device_id);
void ficr_free(struct periph *ficr);

struct periph *nvmc_new(struct soc *soc);
void nvmc_free(struct periph *nvmc);
bool nvmc_write_enabled(const struct periph *nvmc);   /* CONFIG.WEN = Wen */
/* UICR storage the NVMC erases (ERASEUICR, ERASEALL); set by uicr_new. */
void nvmc_attach_uicr(struct periph *nvmc, uint8_t *uicr_bytes);
/* Called after an erase changed flash (the core may drop translated code). */
void nvmc_on_flash_erased(struct periph *nvmc, void (*erased)(void *ctx, uint32_t addr, uint32_t len),
                          void *ctx);

struct periph *uicr_new(struct soc *soc, struct periph *nvmc);
void uicr_free(struct periph *uicr);
uint8_t *uicr_bytes(struct periph *uicr);   /* UICR_SIZE bytes, little-endian words */

/* ---- errata.c: silent sinks for the undocumented errata addresses --------- */
struct errata_sink;
struct errata_sink *errata_new(struct soc *soc);
void errata_free(struct errata_sink *e);

/* ---- TEMP: the die temperature sensor (temp.c) ---------------------------- */
#define TEMP_BASE 0x4000C000u
#define TEMP_IRQ  12u
struct periph *temp_new(struct soc *soc);
void temp_free(struct periph *temp);
/* What the next conversions measure, in 0.25 degree C steps (default 100). */
void temp_set_die_temperature(struct periph *temp, int32_t quarter_degrees);

/* ---- WDT: the watchdog (wdt.c) --------------------------------------------
 * timed_out: the watchdog reset is due (the chip notes RESETREAS.DOG and has
 * the CPU and itself reset); NULL: only logged. */
#define WDT_BASE 0x40010000u
#define WDT_IRQ  16u
struct periph *wdt_new(struct soc *soc, void (*timed_out)(void *ctx), void *ctx);
void wdt_free(struct periph *wdt);
/* The CPU entered (true) or left (false) sleep: CONFIG.SLEEP = Pause stops the count. */
void wdt_cpu_sleeping(struct periph *wdt, bool sleeping);
/* The reason of the next reset (POWER_RESETREAS_* bits): a soft reset or a
 * lockup leaves a started watchdog running, the others reset it. */
void wdt_note_reset_reason(struct periph *wdt, uint32_t resetreas_bits);

/* ---- CRYPTOCELL (CC310): the SHA-256 path of its hash engine (cc310.c) ---- */
#define CC310_BASE 0x5002A000u      /* Nordic's wrapper (ENABLE); the CC310 at +0x1000 */
#define CC310_SIZE 0x2000u
#define CC310_IRQ  42u
struct periph *cc310_new(struct soc *soc);
void cc310_free(struct periph *cc310);

/* ---- UARTE0/1 ------------------------------------------------------------- */
/* Backends: uarte_backend.h */
struct periph *uarte_new(struct soc *soc, unsigned instance, const struct uarte_backend *backend);
void uarte_free(struct periph *uarte);
const char *uarte_path(const struct periph *uarte);   /* "" unless a pty */
void uarte_stats(const struct periph *uarte, struct nrf52840_uart_stats *out);

#endif
