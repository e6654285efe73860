/* NVMC at 0x4001E000: write/erase enable for flash and UICR, page and whole-
 * chip erase, and the instruction cache registers (stored only).
 *
 * The CPU writes flash directly through the memory the CPU layer maps (it
 * asks nrf52840_flash_writable(), i.e. CONFIG.WEN, through the board); the
 * NVMC model only erases soc->flash and the UICR. Erases complete at once: READY and READYNEXT always read 1
 * (real page erases take tens of milliseconds with the CPU stalled).
 * CONFIG.WEN is the 2-bit field of the nRF52840: 1 = write enable, 2 = erase
 * enable (bit 0 and bit 1). An erase without erase enable, or of an address
 * that is not a flash page, is ignored and reported once. ERASEPAGEPARTIAL
 * erases the whole page on its first call.
 *
 * ACL (flash access control, the same slot: ACL[n].ADDR/SIZE/PERM at
 * 0x800 + 0x10n, n < 8) is storage only: Nordic's boot loaders write it to
 * protect themselves (nRF5 SDK 17.1's open bootloader as run on hilda-emu),
 * and nothing enforces it.
 *
 * Differs from silicon: erases take no time and do not stall the CPU; ACL
 * regions protect nothing and stay writable (silicon: write-once until
 * reset). Pending: erase and write timing, ACL protection (a fault on a
 * protected read, write or erase). */
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "soc_impl.h"

#define READY            0x400u
#define READYNEXT        0x408u
#define CONFIG           0x504u
#define ERASEPAGE        0x508u   /* also ERASEPCR1 */
#define ERASEALL         0x50Cu
#define ERASEPCR0        0x510u
#define ERASEUICR        0x514u
#define ERASEPAGEPARTIAL 0x518u
#define ERASEPAGEPARTIALCFG 0x51Cu
#define ICACHECNF        0x540u
#define IHIT             0x548u
#define IMISS            0x54Cu

#define ACL_FIRST        0x800u
#define ACL_REGIONS      8u
#define ACL_WORDS        (ACL_REGIONS * 4u)   /* ADDR, SIZE, PERM and an unused word each */

#define CONFIG_WEN (1u << 0)
#define CONFIG_EEN (1u << 1)
#define PAGE_SIZE  0x1000u

struct nvmc {
    struct periph p;
    uint32_t config, partial_cfg, icachecnf;
    uint32_t acl[ACL_WORDS];
    uint8_t *uicr;
    void (*erased)(void *ctx, uint32_t addr, uint32_t len);
    void *erased_ctx;
    bool reported_disabled, reported_address;
};

static void erase_flash(struct nvmc *n, uint32_t addr, uint32_t len)
{
    memset(n->p.soc->flash + addr, 0xFF, len);
    if (n->erased)
        n->erased(n->erased_ctx, addr, len);
}

static bool erase_allowed(struct nvmc *n, const char *what)
{
    if (n->config & CONFIG_EEN)
        return true;
    if (!n->reported_disabled) {
        n->reported_disabled = true;
        soc_log(n->p.soc, "emu: NVMC %s without CONFIG = Een (2): ignored\n", what);
    }
    return false;
}

static void erase_page(struct nvmc *n, uint32_t addr)
{
    if (!erase_allowed(n, "page erase"))
        return;
    if (addr >= SOC_FLASH_SIZE || addr % PAGE_SIZE) {
        if (!n->reported_address) {
            n->reported_address = true;
            soc_log(n->p.soc, "emu: NVMC page erase of 0x%08x: not the start of a flash page, ignored\n", addr);
        }
        return;
    }
    erase_flash(n, addr, PAGE_SIZE);
}

/* The ACL word at offset, NULL if offset is none (the 4th word of each region is reserved). */
static uint32_t *acl_word(struct nvmc *n, uint32_t offset)
{
    if (offset < ACL_FIRST || offset >= ACL_FIRST + 4u * ACL_WORDS || (offset & 0xFu) == 0xCu)
        return NULL;
    return &n->acl[(offset - ACL_FIRST) / 4u];
}

static uint32_t nvmc_read(struct periph *p, uint32_t offset)
{
    struct nvmc *n = p->state;
    uint32_t *acl = acl_word(n, offset);
    if (acl)
        return *acl;
    switch (offset) {
    case READY: case READYNEXT: return 1;
    case CONFIG: return n->config;
    case ERASEPAGEPARTIALCFG: return n->partial_cfg;
    case ICACHECNF: return n->icachecnf;
    case IHIT: case IMISS: return 0;
    case ERASEPAGE: case ERASEALL: case ERASEPCR0: case ERASEUICR: case ERASEPAGEPARTIAL: return 0;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void nvmc_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct nvmc *n = p->state;
    uint32_t *acl = acl_word(n, offset);
    if (acl) {
        *acl = value;
        return;
    }
    switch (offset) {
    case CONFIG: n->config = value & 3u; return;
    case ERASEPAGE: case ERASEPCR0: case ERASEPAGEPARTIAL: erase_page(n, value); return;
    case ERASEALL:
        if ((value & 1u) && erase_allowed(n, "ERASEALL")) {
            erase_flash(n, 0, SOC_FLASH_SIZE);
            if (n->uicr)
                memset(n->uicr, 0xFF, UICR_SIZE);
        }
        return;
    case ERASEUICR:
        if ((value & 1u) && erase_allowed(n, "ERASEUICR") && n->uicr)
            memset(n->uicr, 0xFF, UICR_SIZE);
        return;
    case ERASEPAGEPARTIALCFG: n->partial_cfg = value & 0x7Fu; return;
    case ICACHECNF: n->icachecnf = value; return;
    case READY: case READYNEXT: case IHIT: case IMISS: return;
    }
    soc_unmodelled(p->soc, p, offset, true);
}

static void nvmc_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct nvmc *n = p->state;
    n->config = 0;
    n->partial_cfg = 0x0A;
    n->icachecnf = 0;
    memset(n->acl, 0, sizeof n->acl);
}

struct periph *nvmc_new(struct soc *soc)
{
    struct nvmc *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->p = (struct periph){
        .name = "NVMC",
        .base = NVMC_BASE,
        .size = 0x1000,
        .read = nvmc_read,
        .write = nvmc_write,
        .reset = nvmc_reset,
        .state = n,
    };
    nvmc_reset(&n->p, RESET_POWER_ON);
    soc_add_periph(soc, &n->p);
    return &n->p;
}

void nvmc_free(struct periph *nvmc)
{
    if (nvmc)
        free(nvmc->state);
}

bool nvmc_write_enabled(const struct periph *nvmc)
{
    return (((const struct nvmc *)nvmc->state)->config & CONFIG_WEN) != 0;
}

void nvmc_attach_uicr(struct periph *nvmc, uint8_t *uicr_bytes)
{
    ((struct nvmc *)nvmc->state)->uicr = uicr_bytes;
}

void nvmc_on_flash_erased(struct periph *nvmc, void (*erased)(void *ctx, uint32_t addr, uint32_t len), void *ctx)
{
    struct nvmc *n = nvmc->state;
    n->erased = erased;
    n->erased_ctx = ctx;
}
