/* UICR at 0x10001000 (Product Specification, UICR; nRF52840 Dongle user
 * guide): 4 KiB of non-volatile
 * configuration, kept across every reset.
 *
 * It starts erased (0xFF) except PSELRESET[0] and PSELRESET[1] (0x200,
 * 0x204) = 18, connected: the dongle's SW2 is its pin reset on P0.18 (§6.1),
 * and start-up code that finds pin reset unconfigured programs it and resets.
 * NRFFW (bootloader address), REGOUT0 (so 1.8 V) and APPROTECT stay erased:
 * no bootloader is in the emulated flash. A loader can program more through
 * uicr_bytes(). Writes program the word like flash (bits only go from 1 to
 * 0) and only while NVMC.CONFIG has write enable; otherwise they are ignored
 * and reported once. NVMC ERASEUICR/ERASEALL erase it.
 *
 * Differs from silicon: APPROTECT and REGOUT0 have no effect; PSELRESET is
 * not what makes the board's reset pin work (the board calls it directly).
 * Pending: nothing. */
#include <stdlib.h>
#include <string.h>

#include "models.h"

#define PSELRESET0 0x200u
#define PSELRESET1 0x204u
#define DONGLE_RESET_PIN 18u

struct uicr {
    struct periph p;
    struct periph *nvmc;
    uint8_t bytes[UICR_SIZE];
    bool reported_locked;
};

static uint32_t get_word(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_word(uint8_t *b, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t uicr_read(struct periph *p, uint32_t offset)
{
    struct uicr *u = p->state;
    return get_word(u->bytes + (offset & (UICR_SIZE - 4u)));
}

static void uicr_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct uicr *u = p->state;
    if (!nvmc_write_enabled(u->nvmc)) {
        if (!u->reported_locked) {
            u->reported_locked = true;
            soc_log(p->soc, "emu: UICR write to 0x%08x without NVMC CONFIG = Wen (1): ignored\n",
                    p->base + offset);
        }
        return;
    }
    uint8_t *w = u->bytes + (offset & (UICR_SIZE - 4u));
    put_word(w, get_word(w) & value);
}

struct periph *uicr_new(struct soc *soc, struct periph *nvmc)
{
    struct uicr *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->p = (struct periph){
        .name = "UICR",
        .base = UICR_BASE,
        .size = UICR_SIZE,
        .read = uicr_read,
        .write = uicr_write,
        .state = u,
    };
    u->nvmc = nvmc;
    memset(u->bytes, 0xFF, sizeof u->bytes);
    put_word(u->bytes + PSELRESET0, DONGLE_RESET_PIN);
    put_word(u->bytes + PSELRESET1, DONGLE_RESET_PIN);
    nvmc_attach_uicr(nvmc, u->bytes);
    soc_add_periph(soc, &u->p);
    return &u->p;
}

void uicr_free(struct periph *uicr)
{
    if (uicr)
        free(uicr->state);
}

uint8_t *uicr_bytes(struct periph *uicr)
{
    return ((struct uicr *)uicr->state)->bytes;
}
