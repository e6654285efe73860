/* FICR at 0x10000000 (Product Specification, FICR; the errata FICR words
 * of nrfx nrf52_erratas.h): read-only factory
 * information.
 *
 * Values: CODEPAGESIZE 4096, CODESIZE 256 pages (1 MiB), DEVICEID from the
 * configuration, INFO.PART 0x52840, INFO.VARIANT "AAD0", INFO.PACKAGE QI
 * (0x2004, the dongle's aQFN73), INFO.RAM 256 KiB, INFO.FLASH 1024 KiB, and
 * the two undocumented words every errata check reads: 0x130 = 0x08 (an
 * nRF52840) and 0x134 = 0x02 (a revision that is neither Engineering A
 * (0x00, which switches on ancient workarounds) nor unknown). The encryption
 * and identity roots (ER, IR) and the BLE DEVICEADDR are made up from
 * DEVICEID, so they are stable per device. The TEMP calibration words
 * (FICR.TEMP A0..A5, B0..B5, T0..T4 at 0x404..0x444, the MDK's
 * FICR_TEMP_Type layout), which nrfx SystemInit copies into TEMP's
 * 0x520..0x570 for errata 66 (nrfx system_nrf52.c as run on hilda-emu),
 * read the TEMP
 * registers' own reset values from the MDK's nrf52840.svd: a plausible
 * calibration (A 12 bits, B 14 bits two's complement, T 8 bits). Any other
 * offset is reported once and reads 0; writes are reported and dropped.
 *
 * Differs from silicon: the identity values are made up (stable per
 * DEVICEID); the TEMP calibration is the design default, not one chip's
 * factory trim (and the TEMP model does not use it, temp.c); other trim
 * words are absent. Pending: nothing. */
#include <stdlib.h>

#include "models.h"

#define TEMP_CALIBRATION_FIRST 0x404u   /* TEMP.A0 */
#define TEMP_CALIBRATION_LAST  0x444u   /* TEMP.T4 */

/* FICR.TEMP A0..A5, B0..B5, T0..T4 in address order (nrf52840.svd: TEMP
 * A0..T4 reset values) */
static const uint32_t temp_calibration[17] = {
    0x326, 0x348, 0x3AA, 0x40E, 0x4BD, 0x5A3,
    0x3FEF, 0x3FBE, 0x3FBE, 0x0012, 0x0124, 0x027C,
    0xE2, 0x00, 0x19, 0x3C, 0x50,
};
#define CODEPAGESIZE   0x010u
#define CODESIZE       0x014u
#define DEVICEID0      0x060u
#define DEVICEID1      0x064u
#define ER(n)          (0x080u + 4u * (n))
#define IR(n)          (0x090u + 4u * (n))
#define DEVICEADDRTYPE 0x0A0u
#define DEVICEADDR0    0x0A4u
#define DEVICEADDR1    0x0A8u
#define INFO_PART      0x100u
#define INFO_VARIANT   0x104u
#define INFO_PACKAGE   0x108u
#define INFO_RAM       0x10Cu
#define INFO_FLASH     0x110u
#define ERRATA_PART    0x130u
#define ERRATA_REV     0x134u

struct ficr {
    struct periph p;
    uint64_t device_id;
};

/* splitmix64: spreads the device ID into the other made-up words */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint32_t derived(const struct ficr *f, unsigned index)
{
    return (uint32_t)mix(f->device_id + index);
}

static uint32_t ficr_read(struct periph *p, uint32_t offset)
{
    const struct ficr *f = p->state;
    if (offset >= ER(0) && offset < ER(4))
        return derived(f, 1 + (offset - ER(0)) / 4u);
    if (offset >= IR(0) && offset < IR(4))
        return derived(f, 5 + (offset - IR(0)) / 4u);
    switch (offset) {
    case CODEPAGESIZE: return 4096;
    case CODESIZE: return 256;
    case DEVICEID0: return (uint32_t)f->device_id;
    case DEVICEID1: return (uint32_t)(f->device_id >> 32);
    case DEVICEADDRTYPE: return 1;                            /* random static */
    case DEVICEADDR0: return derived(f, 9);
    case DEVICEADDR1: return derived(f, 10) | 0xFFFF0000u;    /* only b15:0 used; the rest erased */
    case INFO_PART: return 0x52840;
    case INFO_VARIANT: return 0x41414430;                     /* "AAD0" */
    case INFO_PACKAGE: return 0x2004;                         /* QI */
    case INFO_RAM: return 256;
    case INFO_FLASH: return 1024;
    case ERRATA_PART: return 0x08;
    case ERRATA_REV: return 0x02;
    }
    if (offset >= TEMP_CALIBRATION_FIRST && offset <= TEMP_CALIBRATION_LAST)
        return temp_calibration[(offset - TEMP_CALIBRATION_FIRST) / 4u];
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void ficr_write(struct periph *p, uint32_t offset, uint32_t value)
{
    (void)value;
    soc_unmodelled(p->soc, p, offset, true);   /* FICR is read-only */
}

struct periph *ficr_new(struct soc *soc, uint64_t device_id)
{
    struct ficr *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->p = (struct periph){
        .name = "FICR",
        .base = FICR_BASE,
        .size = 0x1000,
        .read = ficr_read,
        .write = ficr_write,
        .state = f,
    };
    f->device_id = device_id;
    soc_add_periph(soc, &f->p);
    return &f->p;
}

void ficr_free(struct periph *ficr)
{
    if (ficr)
        free(ficr->state);
}
