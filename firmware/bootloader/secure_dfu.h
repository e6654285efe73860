/* Secure DFU (include/hilda/dfu.h, nRF5 SDK "DFU protocol") over whatever carries its
 * requests: the objects (command = init packet, data = the image in objects
 * of up to one flash page), their CRCs, execution, and the final check that
 * marks the application valid. Hardware-independent: the flash comes through
 * struct flash_ops, so the unit tests run it on a fake NVMC.
 *
 * Data objects go to flash at DFU_APP_START + offset when they are executed
 * (erase the page, write it, read it back), and each executed object is
 * logged in the settings page (settings.h). So after a power cut,
 * OBJECT_SELECT(command) shows the init packet already there and
 * OBJECT_SELECT(data) the image bytes already written, with their CRC: a
 * host resumes the update from there (without a new OBJECT_CREATE(command),
 * which starts over). */
#ifndef HILDA_BOOT_SECURE_DFU_H
#define HILDA_BOOT_SECURE_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash.h"
#include "hilda/dfu.h"

/* Largest response: DFU_OP_RESPONSE, opcode, result, and HARDWARE_VERSION's
 * five words. */
#define DFU_RESPONSE_MAX 23

struct dfu_device_info {
    uint32_t part, variant;       /* FICR INFO.PART / INFO.VARIANT, for HARDWARE_VERSION */
    uint32_t bootloader_version;  /* FIRMWARE_VERSION image 0 */
    uint32_t bootloader_size;
};

/* Loads what the settings page says (an update to resume, or none). */
void dfu_init(const struct flash_ops *flash, const struct dfu_device_info *info);

/* One request (opcode and payload, SLIP already removed). Writes the response
 * into resp (DFU_RESPONSE_MAX bytes) and returns its length; 0 means no
 * response (OBJECT_WRITE without a receipt due, an empty request). */
size_t dfu_request(const uint8_t *req, size_t len, uint8_t *resp);

/* True once an OBJECT_EXECUTE validated the whole image and marked it valid:
 * the transport sends that response, then resets into the application. */
bool dfu_update_done(void);

#endif
