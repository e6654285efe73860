/* Placeholders for TEMP (0x4000C000) and WDT (0x40010000): register files
 * that accept every access so that start-up code touching them is not
 * reported as unmodelled, until full models replace them (a later issue):
 *
 * - TEMP: nrfx SystemInit (errata 66) copies the FICR temperature
 *   calibration into TEMP's A/B/T registers (0x520..0x570); they are kept
 *   and read back. TASKS_START (0x000) makes EVENTS_DATARDY (0x100) read 1
 *   and TEMP (0x508) read 100 (25 degrees C in 0.25 degree steps) at once,
 *   with no interrupt.
 * - WDT: Nordic's boot loader reads RUNSTATUS (0x400) to see whether a
 *   watchdog runs (validation.md B.6): it reads 0, not running. Writes are
 *   kept (CRV, RREN, CONFIG...) but TASKS_START starts nothing: the
 *   watchdog never fires, RUNSTATUS stays 0 and RR writes feed nothing.
 *
 * Differs from silicon: all of the above (no conversion time, no TEMP or
 * WDT interrupt, no watchdog reset). Pending: real TEMP and WDT models
 * (their own files, replacing these). */
#include <stdlib.h>

#include "models.h"

#define TEMP_BASE 0x4000C000u
#define WDT_BASE  0x40010000u
#define SLOT_SIZE 0x1000u

#define TEMP_TASKS_START    0x000u
#define TEMP_EVENTS_DATARDY 0x100u
#define TEMP_TEMP           0x508u
#define TEMP_25_DEGREES     100u

struct placeholder {
    struct periph p;
    uint32_t words[SLOT_SIZE / 4u];
};

struct placeholders {
    struct placeholder temp, wdt;
};

static uint32_t word_read(struct periph *p, uint32_t offset)
{
    struct placeholder *ph = p->state;
    return ph->words[(offset & (SLOT_SIZE - 1u)) / 4u];
}

static void word_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct placeholder *ph = p->state;
    ph->words[(offset & (SLOT_SIZE - 1u)) / 4u] = value;
}

static void temp_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct placeholder *ph = p->state;
    if (offset == TEMP_TASKS_START && (value & 1u)) {
        ph->words[TEMP_EVENTS_DATARDY / 4u] = 1;
        ph->words[TEMP_TEMP / 4u] = TEMP_25_DEGREES;
        return;
    }
    word_write(p, offset, value);
}

static void word_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct placeholder *ph = p->state;
    for (unsigned i = 0; i < SLOT_SIZE / 4u; i++)
        ph->words[i] = 0;
}

struct placeholders *placeholders_new(struct soc *soc)
{
    struct placeholders *all = calloc(1, sizeof *all);
    if (!all)
        return NULL;
    all->temp.p = (struct periph){ .name = "TEMP (placeholder)", .base = TEMP_BASE, .size = SLOT_SIZE,
                                   .read = word_read, .write = temp_write, .reset = word_reset,
                                   .state = &all->temp };
    all->wdt.p = (struct periph){ .name = "WDT (placeholder)", .base = WDT_BASE, .size = SLOT_SIZE,
                                  .read = word_read, .write = word_write, .reset = word_reset,
                                  .state = &all->wdt };
    soc_add_periph(soc, &all->temp.p);
    soc_add_periph(soc, &all->wdt.p);
    return all;
}

void placeholders_free(struct placeholders *all)
{
    free(all);
}
