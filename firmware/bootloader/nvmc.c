/* The NVMC (nRF52840 PS): CONFIG selects write or erase enable, the CPU
 * stalls while flash is busy (the code runs from flash), READY says when the
 * operation is over. Refuses anything outside the application area and the
 * settings page: the MBR page, the bootloader itself and the MBR parameter
 * page are never erased or written from here. */
#include "nvmc.h"

#include "hilda/dfu.h"
#include "nrf52840.h"

#define NVMC NRF_NVMC_BASE
#define READY_SPIN_LIMIT 10000000u

static bool wait_ready(void)
{
    for (uint32_t i = 0; i < READY_SPIN_LIMIT; i++) {
        if (NRF_REG(NVMC, NVMC_READY) & 1u)
            return true;
    }
    return false;
}

static bool writable(uint32_t addr, uint32_t len)
{
    bool in_app = addr >= DFU_APP_START && addr + len <= DFU_BOOTLOADER_START;
    bool in_settings = addr >= DFU_SETTINGS_PAGE && addr + len <= DFU_SETTINGS_PAGE + DFU_FLASH_PAGE;
    return addr + len >= addr && (in_app || in_settings);
}

static const uint8_t *map(uint32_t addr)
{
    return (const uint8_t *)(uintptr_t)addr;
}

static bool erase_page(uint32_t addr)
{
    if (addr % DFU_FLASH_PAGE || !writable(addr, DFU_FLASH_PAGE))
        return false;
    NRF_REG(NVMC, NVMC_CONFIG) = NVMC_CONFIG_EEN;
    bool ok = wait_ready();
    NRF_REG(NVMC, NVMC_ERASEPAGE) = addr;
    ok = wait_ready() && ok;
    NRF_REG(NVMC, NVMC_CONFIG) = NVMC_CONFIG_REN;
    wait_ready();
    return ok;
}

static bool write_words(uint32_t addr, const uint32_t *words, size_t count)
{
    if (addr % 4 || !writable(addr, (uint32_t)(4 * count)))
        return false;
    NRF_REG(NVMC, NVMC_CONFIG) = NVMC_CONFIG_WEN;
    bool ok = wait_ready();
    for (size_t i = 0; i < count && ok; i++) {
        *(volatile uint32_t *)(uintptr_t)(addr + 4 * i) = words[i];
        ok = wait_ready();
    }
    NRF_REG(NVMC, NVMC_CONFIG) = NVMC_CONFIG_REN;
    wait_ready();
    __asm__ volatile("dsb\n isb" ::: "memory");
    return ok;
}

const struct flash_ops nvmc_flash = { map, erase_page, write_words };
