/* Firmware images for `hilda flash`: an ELF, an Intel HEX file, a flat
 * binary with its load address, or an nrfutil DFU package (.zip with
 * manifest.json, .dat init packet and .bin image), read into one contiguous
 * block of flash bytes and checked before anything is sent to a device.
 * Files are untrusted input: every offset and length is bounds-checked. */
#ifndef HILDA_IMAGE_H
#define HILDA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

enum hilda_image_format {
    HILDA_IMAGE_AUTO,        /* from the file's first bytes */
    HILDA_IMAGE_ELF,
    HILDA_IMAGE_HEX,
    HILDA_IMAGE_BIN,         /* needs the load address */
    HILDA_IMAGE_PACKAGE,     /* nrfutil .zip */
};

/* The largest image accepted: the nRF52840's 1 MiB of flash. */
#define HILDA_IMAGE_MAX (1024u * 1024u)

struct hilda_image {
    enum hilda_image_format format;
    uint32_t start;          /* flash address of data[0] */
    uint8_t *data;           /* gaps between segments are 0xFF, as erased flash */
    size_t len;
    bool has_uicr;           /* the file also holds UICR words (0x10001000..): DFU cannot write them */
    uint8_t *init_packet;    /* a package's .dat as shipped, NULL otherwise */
    size_t init_len;
};

/* Reads path; bin_address is the load address of a flat binary (ignored for
 * the other formats). */
enum hilda_status hilda_image_load(const char *path, enum hilda_image_format format, uint32_t bin_address,
                                   struct hilda_image *out, struct hilda_error *e);

/* The same from bytes in memory (packages excepted: they need a file). */
enum hilda_status hilda_image_parse(const uint8_t *bytes, size_t len, enum hilda_image_format format,
                                    uint32_t bin_address, struct hilda_image *out, struct hilda_error *e);

/* The checks made before an update of the dongle's application starts:
 * linked at 0x1000 (a vector table there: initial stack pointer in RAM, reset
 * handler inside the image, Thumb bit set), not into the MBR page, ending
 * below the bootloader at 0xE0000, no UICR words. A failure says which rule
 * and what the image has instead. */
enum hilda_status hilda_image_check_application(const struct hilda_image *img, struct hilda_error *e);

/* The git hash the image's firmware will report (HILDA_REQ_GET_VERSION), read
 * from its image-info block; false when the image has none (not hilda
 * firmware). */
bool hilda_image_git_hash(const struct hilda_image *img, uint32_t *git_hash);

const char *hilda_image_format_name(enum hilda_image_format format);

void hilda_image_free(struct hilda_image *img);

#endif
