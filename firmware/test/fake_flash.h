/* A fake NVMC over 1 MiB of RAM for the bootloader's tests: erase sets a
 * page to 0xFF, writes can only clear bits (as NOR flash), and a "power cut"
 * makes every operation from the n-th on fail without effect. */
#ifndef HILDA_FAKE_FLASH_H
#define HILDA_FAKE_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"

struct fake_flash {
    uint8_t mem[0x100000];
    unsigned erases, writes;       /* operations done */
    unsigned ops_left;             /* power cut after this many more operations; 0 = never */
    bool cut;                      /* the power went: nothing is done any more */
    uint32_t erased[256];          /* page addresses erased, in order (first 256) */
};

extern struct fake_flash fake_flash;

/* Erased chip, no power cut; the ops act on fake_flash. */
const struct flash_ops *fake_flash_reset(void);

/* After `ops` more erase/write calls, the power goes. */
void fake_flash_cut_after(unsigned ops);

/* The power is back (the contents stay as the cut left them). */
void fake_flash_power_on(void);

#endif
