/* The chip's flash through the NVMC: struct flash_ops for the DFU core. */
#ifndef HILDA_BOOT_NVMC_H
#define HILDA_BOOT_NVMC_H

#include "flash.h"

extern const struct flash_ops nvmc_flash;

#endif
