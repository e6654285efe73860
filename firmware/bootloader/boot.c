#include "boot.h"

#include "hilda/dfu.h"
#include "hilda/protocol.h"

#define RAM_START 0x20000000u
#define RAM_END   0x20040000u

/* A stack pointer in RAM (the top may be RAM's end) and a Thumb reset
 * handler inside the application area: anything else is not an image linked
 * for 0x1000, and jumping to it would fault. */
static bool vectors_plausible(uint32_t sp, uint32_t reset)
{
    return sp > RAM_START && sp <= RAM_END && sp % 4 == 0 && (reset & 1u) &&
           reset > DFU_APP_START && reset < DFU_BOOTLOADER_START;
}

/* The reasons to stay are checked first, so each one is reported even when
 * the application is missing too. */
enum boot_choice boot_decide(const struct boot_inputs *in)
{
    if (in->resetreas & BOOT_RESETREAS_RESETPIN)
        return BOOT_DFU_PIN_RESET;
    if ((in->gpregret & 0xFFu) == HILDA_BOOTLOADER_GPREGRET)
        return BOOT_DFU_GPREGRET;
    if (in->button)
        return BOOT_DFU_BUTTON;
    if (!in->app_valid || !vectors_plausible(in->app_sp, in->app_reset))
        return BOOT_DFU_NO_APP;
    return BOOT_APP;
}
