/* The 4 KiB slot at 0x40000000 that CLOCK and POWER share (Product
 * Specification, "Instantiation": ID 0 is CLOCK and POWER).
 * Their events and INTEN bits do not overlap (§1.5), so the slot keeps one
 * struct nrf_events for both, and IRQ 0 (CLOCK_POWER) is high while any
 * enabled event of either is set. Everything else goes to clock.c, then to
 * power.c. The slot also holds the few words of it that SystemInit and
 * nrfx write without a model behind them: the errata 115 word at 0xEE4 and
 * APPROTECT (FORCEPROTECT 0x550, DISABLE 0x558), kept as plain storage.
 *
 * Calls go one way only: the slot calls clock.c and power.c; neither calls
 * back into the slot (the USBD model reaches POWER through
 * clock_power_power(), power.h).
 *
 * Differs from silicon: APPROTECT protects nothing (no debug port here).
 * Pending: nothing. */
#include <stdlib.h>

#include "models.h"

#define ERRATA_115_WORD       0xEE4u
#define APPROTECT_FORCEPROTECT 0x550u
#define APPROTECT_DISABLE      0x558u

struct clock_power {
    struct periph p;
    struct nrf_events ev;
    struct clock *clock;
    struct power *power;
    uint32_t errata_115, forceprotect, approtect_disable;
};

static bool common_register(uint32_t offset)
{
    return (offset >= NRF_EVENTS_BASE && offset < NRF_EVENTS_END) || offset == NRF_INTEN ||
           offset == NRF_INTENSET || offset == NRF_INTENCLR;
}

static uint32_t *quiet_word(struct clock_power *s, uint32_t offset)
{
    switch (offset) {
    case ERRATA_115_WORD: return &s->errata_115;
    case APPROTECT_FORCEPROTECT: return &s->forceprotect;
    case APPROTECT_DISABLE: return &s->approtect_disable;
    }
    return NULL;
}

static uint32_t slot_read(struct periph *p, uint32_t offset)
{
    struct clock_power *s = p->state;
    uint32_t v = 0;
    if (common_register(offset) && nrf_events_read(&s->ev, offset, &v))
        return v;
    if (clock_read(s->clock, offset, &v) || power_read(s->power, offset, &v))
        return v;
    uint32_t *w = quiet_word(s, offset);
    if (w)
        return *w;
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void slot_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct clock_power *s = p->state;
    if (common_register(offset) && nrf_events_write(&s->ev, offset, value))
        return;
    if (clock_write(s->clock, offset, value) || power_write(s->power, offset, value))
        return;
    uint32_t *w = quiet_word(s, offset);
    if (w) {
        *w = value;
        return;
    }
    soc_unmodelled(p->soc, p, offset, true);
}

static void slot_reset(struct periph *p, enum reset_kind kind)
{
    struct clock_power *s = p->state;
    nrf_events_reset(&s->ev);
    clock_reset(s->clock);
    power_reset(s->power, kind);
    s->errata_115 = 0;
    s->forceprotect = 0;
    s->approtect_disable = 0;
}

struct periph *clock_power_new(struct soc *soc, bool vbus)
{
    struct clock_power *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = (struct periph){
        .name = "CLOCK/POWER",
        .base = CLOCK_POWER_BASE,
        .size = 0x1000,
        .read = slot_read,
        .write = slot_write,
        .reset = slot_reset,
        .state = s,
    };
    nrf_events_init(&s->ev, &s->p, CLOCK_POWER_IRQ);
    s->clock = clock_new(soc, &s->ev);
    s->power = power_new(soc, &s->ev, &s->p, vbus);
    if (!s->clock || !s->power) {
        clock_free(s->clock);
        power_free(s->power);
        free(s);
        return NULL;
    }
    soc_add_periph(soc, &s->p);
    return &s->p;
}

void clock_power_free(struct periph *slot)
{
    if (!slot)
        return;
    struct clock_power *s = slot->state;
    clock_free(s->clock);
    power_free(s->power);
    free(s);
}

struct clock *clock_power_clock(struct periph *slot)
{
    return ((struct clock_power *)slot->state)->clock;
}

struct power *clock_power_power(struct periph *slot)
{
    return ((struct clock_power *)slot->state)->power;
}
