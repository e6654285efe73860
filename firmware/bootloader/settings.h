/* The settings page (DFU_SETTINGS_PAGE): what the bootloader knows of the
 * application and of an update in progress, kept so that a power cut at any
 * moment leaves either the old state or a state the update can resume from,
 * and never a half-written application marked valid.
 *
 * Layout (little-endian words; everything after the header is written into
 * erased flash, so no update step but the first needs an erase):
 *   0x000 magic  0x004 init length  0x008 CRC-32 of the init packet
 *   0x010 the init packet (the command object), up to DFU_COMMAND_MAX_SIZE
 *   0x210 progress log: one entry per executed data object, {CRC-32 of the
 *         image so far, bytes so far}; the CRC word is written first, so an
 *         entry counts once its length word is written
 *   0xFC0 the valid record: app size, app CRC-32, fw_version, SHA-256 (as in
 *         the init packet), and at 0xFFC the valid word, written last
 * Invalidating writes 0 over the valid word: no erase needed. */
#ifndef HILDA_BOOT_SETTINGS_H
#define HILDA_BOOT_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"

#define SETTINGS_MAGIC        0x31734268u   /* "hBs1" */
#define SETTINGS_VALID        0x444C4156u   /* "VALD" */
#define SETTINGS_INIT_OFFSET  0x010u
#define SETTINGS_LOG_OFFSET   0x210u
#define SETTINGS_VALID_OFFSET 0xFC0u
#define SETTINGS_VALID_WORD   0xFFCu
#define SETTINGS_LOG_ENTRIES  ((SETTINGS_VALID_OFFSET - SETTINGS_LOG_OFFSET) / 8u)
#define SETTINGS_HASH_SIZE    32u

struct settings {
    bool has_init;              /* magic and the init packet's CRC check out */
    const uint8_t *init;        /* in flash */
    uint32_t init_len, init_crc;
    uint32_t progress;          /* image bytes executed (in flash) */
    uint32_t progress_crc;      /* CRC-32 of those bytes */
    unsigned log_used;          /* entries written, torn ones included */
    bool app_valid;             /* the valid word says so and the record matches the progress */
    uint32_t app_size, app_crc, fw_version;
};

/* Reads the page into *s (never fails: a page this code did not write reads
 * as "nothing there"). */
void settings_load(const struct flash_ops *flash, struct settings *s);

/* A new update: erases the page and writes the header and init packet (len
 * <= DFU_COMMAND_MAX_SIZE). The application is invalid from here on. */
bool settings_begin(const struct flash_ops *flash, const uint8_t *init, uint32_t len);

/* One more data object is in flash: the image is `bytes` long so far, with
 * CRC-32 crc. */
bool settings_add_progress(const struct flash_ops *flash, uint32_t bytes, uint32_t crc);

/* Marks the application invalid without an erase (the valid word becomes 0). */
bool settings_invalidate(const struct flash_ops *flash);

/* The image's SHA-256 checked out: the valid record, valid word last. */
bool settings_mark_valid(const struct flash_ops *flash, uint32_t app_size, uint32_t app_crc,
                         uint32_t fw_version, const uint8_t hash[SETTINGS_HASH_SIZE]);

#endif
