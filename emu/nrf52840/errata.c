/* Silent sinks for the undocumented addresses that errata workarounds write
 * (nRF52840 Errata; nrfx nrf52_erratas.h), so that they are not reported as
 * unmodelled:
 *
 * - the whole slot 0x4006E000 (no documented peripheral): errata 171 and 187
 *   (USBD) write 0x4006EC14 and 0x4006ED14 behind the unlock word 0x4006EC00;
 * - single words in slots that have no model: 0x4000568C (NFCT, errata 98),
 *   0x4000173C (RADIO, errata 182), 0x40029640 (QSPI, errata 120). A model
 *   for one of those peripherals must take its word over.
 *
 * Writes are kept and read back (0 if never written), except the unlock
 * word: it reads 0 while locked and 1 while unlocked, and each write of the
 * key 0x9375 toggles it, which is what the nrfx sequence expects ("if it
 * reads 0, write the key, poke, write the key again"). The pokes themselves
 * change nothing, locked or not.
 *
 * Elsewhere: the errata 115 word 0x40000EE4 and APPROTECT live in the
 * CLOCK/POWER slot (clock_power.c); the USBD words 0x800/0x804/0xC1C belong
 * to the USBD model; the FICR words 0x130/0x134 to ficr.c.
 *
 * Differs from silicon: the pokes change nothing (the errata they work
 * around are not modelled). Pending: nothing. */
#include <stdlib.h>

#include "models.h"

#define WINDOW_BASE 0x4006E000u
#define UNLOCK_WORD 0x4006EC00u
#define UNLOCK_KEY  0x9375u
#define MAX_WORDS   64u

static const uint32_t lone_words[] = { 0x4000568Cu, 0x4000173Cu, 0x40029640u };
#define NLONE (sizeof lone_words / sizeof lone_words[0])

struct errata_sink {
    struct periph window;
    struct periph lone[NLONE];
    bool unlocked;
    struct {
        uint32_t addr, value;
    } words[MAX_WORDS];
    unsigned nwords;
};

static uint32_t *word(struct errata_sink *e, uint32_t addr, bool create)
{
    for (unsigned i = 0; i < e->nwords; i++) {
        if (e->words[i].addr == addr)
            return &e->words[i].value;
    }
    if (!create || e->nwords == MAX_WORDS)
        return NULL;
    e->words[e->nwords].addr = addr;
    e->words[e->nwords].value = 0;
    return &e->words[e->nwords++].value;
}

static uint32_t sink_read(struct periph *p, uint32_t offset)
{
    struct errata_sink *e = p->state;
    uint32_t addr = p->base + offset;
    if (addr == UNLOCK_WORD)
        return e->unlocked;
    uint32_t *w = word(e, addr, false);
    return w ? *w : 0;
}

static void sink_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct errata_sink *e = p->state;
    uint32_t addr = p->base + offset;
    if (addr == UNLOCK_WORD) {
        if (value == UNLOCK_KEY)
            e->unlocked = !e->unlocked;
        return;
    }
    uint32_t *w = word(e, addr, true);
    if (w)
        *w = value;
}

static void sink_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct errata_sink *e = p->state;
    if (p != &e->window)
        return;   /* one reset for the whole sink */
    e->unlocked = false;
    e->nwords = 0;
}

struct errata_sink *errata_new(struct soc *soc)
{
    struct errata_sink *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->window = (struct periph){
        .name = "errata window",
        .base = WINDOW_BASE,
        .size = 0x1000,
        .read = sink_read,
        .write = sink_write,
        .reset = sink_reset,
        .state = e,
    };
    soc_add_periph(soc, &e->window);
    for (unsigned i = 0; i < NLONE; i++) {
        e->lone[i] = (struct periph){
            .name = "errata word",
            .base = lone_words[i],
            .size = 4,
            .read = sink_read,
            .write = sink_write,
            .reset = sink_reset,
            .state = e,
        };
        soc_add_periph(soc, &e->lone[i]);
    }
    return e;
}

void errata_free(struct errata_sink *e)
{
    free(e);
}
