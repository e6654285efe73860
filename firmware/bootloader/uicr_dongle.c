/* UICR NRFFW[0] (bootloader address) and NRFFW[1] (MBR parameter page) for
 * the dongle layout: what Nordic's MBR reads when its own copy at flash
 * 0xFF8/0xFFC is missing (MBR 2.4.1 of nRF5 SDK 17.1, run on the emulator: docs/sources.md). */
#include <stdint.h>

#include "hilda/dfu.h"

__attribute__((section(".uicr_nrffw"), used))
const uint32_t uicr_nrffw[2] = { DFU_BOOTLOADER_START, DFU_MBR_PARAMS_PAGE };
