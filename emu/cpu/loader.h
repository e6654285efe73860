/* Firmware images: ELF32 little-endian ARM executables (PT_LOAD segments at
 * their physical = load address) and Intel HEX. Files are untrusted input:
 * every offset and size is checked, and anything outside flash, data RAM
 * (and the UICR window, when the chip gives one) is refused with a message,
 * never written. Several images can go into one memory: each byte remembers
 * which image put it there, and an image writing a byte another image wrote
 * is refused (overlapping images are a mistake, never "the last one wins"). */
#ifndef EMU_LOADER_H
#define EMU_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols.h"

#define LOADER_MAX_FILE (64u * 1024u * 1024u)

enum image_format { IMAGE_ELF, IMAGE_HEX };

struct loaded_image {
    enum image_format format;
    /* The image's vector table: the lowest flash address it loads (0x1000 for
     * the dongle image under its MBR, 0 for a bare image). */
    uint32_t vector_base;
    uint32_t flash_lo, flash_hi;   /* flash bytes loaded: [flash_lo, flash_hi) */
    uint32_t entry;                /* ELF e_entry or HEX start address (05), else 0 */
    size_t bytes_loaded;
    size_t uicr_bytes;             /* of those, UICR bytes */
    struct symbols *symbols;       /* ELF STT_FUNC symbols (Thumb bit cleared); NULL for HEX */
};

/* Where images go. flash and ram are SOC_FLASH_SIZE and SOC_RAM_SIZE bytes
 * (emu/soc/soc.h). uicr: the chip's UICR bytes at [uicr_base, uicr_base +
 * uicr_size), written as if programmed (NULL: UICR records are refused as
 * outside memory). owner: NULL (one image) or loader_owner_size() bytes,
 * zeroed once, shared by every image loaded into this memory; image: this
 * image's number, 1, 2, ... */
struct loader_target {
    uint8_t *flash, *ram;
    uint8_t *uicr;
    uint32_t uicr_base, uicr_size;
    uint8_t *owner;
    unsigned image;
};
size_t loader_owner_size(uint32_t uicr_size);

/* On failure: false and a one-line reason in err; out->symbols is NULL. */
bool loader_load_into(const uint8_t *data, size_t len, const struct loader_target *t,
                      struct loaded_image *out, char *err, size_t errlen);
bool loader_load_file_into(const char *path, const struct loader_target *t,
                           struct loaded_image *out, char *err, size_t errlen);

/* One image into flash and RAM only (no UICR, no other image). */
bool loader_load_buffer(const uint8_t *data, size_t len, uint8_t *flash, uint8_t *ram,
                        struct loaded_image *out, char *err, size_t errlen);
bool loader_load_file(const char *path, uint8_t *flash, uint8_t *ram,
                      struct loaded_image *out, char *err, size_t errlen);

#endif
