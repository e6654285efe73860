#include "settings.h"

#include <string.h>

#include "crc32.h"
#include "hilda/dfu.h"

#define ERASED 0xFFFFFFFFu

static uint32_t word_at(const struct flash_ops *flash, uint32_t offset)
{
    const uint8_t *p = flash->map(DFU_SETTINGS_PAGE + offset);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool write_word(const struct flash_ops *flash, uint32_t offset, uint32_t value)
{
    return flash->write_words(DFU_SETTINGS_PAGE + offset, &value, 1) && word_at(flash, offset) == value;
}

/* The log is a run of entries from its start; a slot with either word
 * programmed is used (a torn entry is skipped by the next append). Lengths
 * grow, each one a whole number of objects until the last. */
static void load_log(const struct flash_ops *flash, struct settings *s)
{
    for (unsigned i = 0; i < SETTINGS_LOG_ENTRIES; i++) {
        uint32_t crc = word_at(flash, SETTINGS_LOG_OFFSET + 8 * i);
        uint32_t bytes = word_at(flash, SETTINGS_LOG_OFFSET + 8 * i + 4);
        if (crc == ERASED && bytes == ERASED)
            break;
        s->log_used = i + 1;
        if (bytes != ERASED && bytes > s->progress && bytes <= DFU_APP_MAX_SIZE) {
            s->progress = bytes;
            s->progress_crc = crc;
        }
    }
}

void settings_load(const struct flash_ops *flash, struct settings *s)
{
    memset(s, 0, sizeof *s);
    if (word_at(flash, 0) != SETTINGS_MAGIC)
        return;
    uint32_t len = word_at(flash, 4);
    if (len > DFU_COMMAND_MAX_SIZE)
        return;
    const uint8_t *init = flash->map(DFU_SETTINGS_PAGE + SETTINGS_INIT_OFFSET);
    if (crc32_update(0, init, len) != word_at(flash, 8))
        return;
    s->has_init = true;
    s->init = init;
    s->init_len = len;
    s->init_crc = word_at(flash, 8);
    load_log(flash, s);
    s->app_size = word_at(flash, SETTINGS_VALID_OFFSET);
    s->app_crc = word_at(flash, SETTINGS_VALID_OFFSET + 4);
    s->fw_version = word_at(flash, SETTINGS_VALID_OFFSET + 8);
    s->app_valid = word_at(flash, SETTINGS_VALID_WORD) == SETTINGS_VALID && s->app_size == s->progress &&
                   s->app_crc == s->progress_crc && s->app_size > 0;
}

/* Bytes to words, the tail padded with erased bytes. */
static bool write_bytes(const struct flash_ops *flash, uint32_t offset, const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t w = ERASED;
        for (uint32_t k = 0; k < 4 && i + k < len; k++)
            w = (w & ~(0xFFu << (8 * k))) | (uint32_t)p[i + k] << (8 * k);
        if (!write_word(flash, offset + i, w))
            return false;
    }
    return true;
}

bool settings_begin(const struct flash_ops *flash, const uint8_t *init, uint32_t len)
{
    if (len > DFU_COMMAND_MAX_SIZE || !flash->erase_page(DFU_SETTINGS_PAGE))
        return false;
    /* The magic goes last: a cut before it leaves an empty page. */
    return write_bytes(flash, SETTINGS_INIT_OFFSET, init, len) && write_word(flash, 4, len) &&
           write_word(flash, 8, crc32_update(0, init, len)) && write_word(flash, 0, SETTINGS_MAGIC);
}

bool settings_add_progress(const struct flash_ops *flash, uint32_t bytes, uint32_t crc)
{
    struct settings s;
    settings_load(flash, &s);
    if (!s.has_init || s.log_used >= SETTINGS_LOG_ENTRIES)
        return false;
    uint32_t slot = SETTINGS_LOG_OFFSET + 8 * s.log_used;
    return write_word(flash, slot, crc) && write_word(flash, slot + 4, bytes);
}

bool settings_invalidate(const struct flash_ops *flash)
{
    if (word_at(flash, SETTINGS_VALID_WORD) == ERASED || word_at(flash, SETTINGS_VALID_WORD) == 0)
        return true;
    return write_word(flash, SETTINGS_VALID_WORD, 0);
}

bool settings_mark_valid(const struct flash_ops *flash, uint32_t app_size, uint32_t app_crc,
                         uint32_t fw_version, const uint8_t hash[SETTINGS_HASH_SIZE])
{
    /* A second validation of the same image (a host re-running the last
     * EXECUTE) finds the record already written. */
    struct settings s;
    settings_load(flash, &s);
    if (s.app_valid && s.app_size == app_size && s.app_crc == app_crc)
        return true;
    /* A power cut may have left part of the record: programming a word again
     * with the same value changes nothing, a different value fails the
     * read-back (then only a new update, which erases the page, helps). */
    return write_word(flash, SETTINGS_VALID_OFFSET, app_size) &&
           write_word(flash, SETTINGS_VALID_OFFSET + 4, app_crc) &&
           write_word(flash, SETTINGS_VALID_OFFSET + 8, fw_version) &&
           write_bytes(flash, SETTINGS_VALID_OFFSET + 16, hash, SETTINGS_HASH_SIZE) &&
           write_word(flash, SETTINGS_VALID_WORD, SETTINGS_VALID);
}
