/* The flash as the bootloader sees it: read through a pointer, erased a
 * 4 KiB page at a time, written a word at a time (nRF52840 PS "NVMC").
 * nvmc.c drives the chip; the unit tests use a fake NVMC in RAM. */
#ifndef HILDA_BOOT_FLASH_H
#define HILDA_BOOT_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flash_ops {
    const uint8_t *(*map)(uint32_t addr);      /* where flash address addr can be read */
    bool (*erase_page)(uint32_t addr);         /* addr: the start of a page */
    /* Programs count words at addr (word-aligned); bits only go from 1 to 0. */
    bool (*write_words)(uint32_t addr, const uint32_t *words, size_t count);
};

#endif
