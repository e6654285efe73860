/* Breaks rule 1 on the CRYPTOCELL: the CPU writes into the buffer the CC310's
 * DIN DMA is hashing (nRF5 SDK 17.1's open boot loader, run on the emulator,
 * docs/sources.md: it hashes from a
 * RAM bounce buffer; refilling it before the DMA-done bit is this bug). */
#include "sanitizer_test.h"

#define CRYPTOCELL_ENABLE (*(volatile uint32_t *)0x5002A500u)
#define CC310(offset) (*(volatile uint32_t *)(0x5002B000u + (offset)))
#define HASH_CONTROL 0x7C0u
#define HOST_IRR 0xA00u
#define DIN_DMA_ADDR 0xC28u
#define DIN_DMA_SIZE 0xC2Cu
#define IRR_DIN_DMA_DONE (1u << 6)

static volatile uint8_t bounce[64];

void test_main(void)
{
    CRYPTOCELL_ENABLE = 1;
    CC310(HASH_CONTROL) = 2;                  /* SHA-256 */
    CC310(DIN_DMA_ADDR) = (uint32_t)bounce;
    CC310(DIN_DMA_SIZE) = sizeof bounce;      /* starts the DMA */
    bounce[3] = 1;                            /* the DMA owns the buffer until IRR bit 6 */
    while (!(CC310(HOST_IRR) & IRR_DIN_DMA_DONE)) {
    }
}
