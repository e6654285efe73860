#include "fake_flash.h"

#include <string.h>

struct fake_flash fake_flash;

static bool powered(void)
{
    if (fake_flash.cut)
        return false;
    if (fake_flash.ops_left && --fake_flash.ops_left == 0) {
        fake_flash.cut = true;
        return false;
    }
    return true;
}

static const uint8_t *map(uint32_t addr)
{
    return fake_flash.mem + addr;
}

static bool erase_page(uint32_t addr)
{
    if (addr % 0x1000 || addr >= sizeof fake_flash.mem || !powered())
        return false;
    memset(fake_flash.mem + addr, 0xFF, 0x1000);
    if (fake_flash.erases < sizeof fake_flash.erased / sizeof fake_flash.erased[0])
        fake_flash.erased[fake_flash.erases] = addr;
    fake_flash.erases++;
    return true;
}

static bool write_words(uint32_t addr, const uint32_t *words, size_t count)
{
    if (addr % 4 || addr + 4 * count > sizeof fake_flash.mem || !powered())
        return false;
    for (size_t i = 0; i < count; i++) {
        uint32_t w = words[i];
        for (unsigned k = 0; k < 4; k++)
            fake_flash.mem[addr + 4 * i + k] &= (uint8_t)(w >> (8 * k));
    }
    fake_flash.writes++;
    return true;
}

static const struct flash_ops ops = { map, erase_page, write_words };

const struct flash_ops *fake_flash_reset(void)
{
    memset(&fake_flash, 0, sizeof fake_flash);
    memset(fake_flash.mem, 0xFF, sizeof fake_flash.mem);
    return &ops;
}

void fake_flash_cut_after(unsigned n)
{
    fake_flash.ops_left = n + 1;
    fake_flash.cut = false;
}

void fake_flash_power_on(void)
{
    fake_flash.cut = false;
    fake_flash.ops_left = 0;
}
