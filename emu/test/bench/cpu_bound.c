/* A CPU-bound test firmware for the emulator benchmark: CRC-32 over a RAM
 * buffer, forever, with the SysTick interrupt firing every millisecond so
 * that interrupt entry and exit are part of the mix, as in real firmware.
 * Nothing here sleeps: every host second goes into emulated instructions. */
#include <stdint.h>

#include "nrf52840.h"

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u

extern uint32_t __stack_top[];
void reset_handler(void);
void systick_handler(void);

__attribute__((section(".vectors"), used))
const void *const vectors[16] = {
    [0] = __stack_top,
    [1] = (const void *)reset_handler,
    [15] = (const void *)systick_handler,
};

static uint8_t data[1024];
volatile uint32_t ticks, checksum;

void systick_handler(void)
{
    ticks++;
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1u));
    }
    return ~crc;
}

void reset_handler(void)
{
    for (uint32_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7u);
    NRF_REG(0, SYST_RVR) = 64000u - 1u;      /* 1 ms at 64 MHz */
    NRF_REG(0, SYST_CVR) = 0;
    NRF_REG(0, SYST_CSR) = 7u;               /* enable, interrupt, core clock */
    for (;;) {
        checksum = crc32(data, sizeof data);
        data[checksum & 1023u] ^= (uint8_t)checksum;
    }
}
