/* The Secure DFU init packet (the "command object"): protobuf, encoded with
 * protobuf-c from host/proto/dfu-cc.proto. */
#ifndef HILDA_DFU_INIT_H
#define HILDA_DFU_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* What an init packet says about the image it announces. */
struct hilda_dfu_init {
    uint32_t fw_version;
    uint32_t hw_version;          /* 52: nRF52840 */
    bool has_hw_version;
    bool has_type;
    uint32_t type;                /* 0: application */
    uint32_t app_size;
    bool sd_req_none;             /* sd_req absent, or [0x00]: no SoftDevice needed */
    bool is_debug;
    uint32_t hash_type;           /* 3: SHA-256 */
    uint8_t hash[32];             /* SHA-256 in the order it is sent: reversed */
    size_t hash_len;
};

/* The init packet for an application image: fw_version 0, hw_version
 * hw_version (52 for the dongle), sd_req [0x00], type APPLICATION (encoded
 * even though it is 0), app_size, SHA-256 of image reversed, is_debug false.
 * *out is malloc'd. */
enum hilda_status hilda_dfu_init_encode(const uint8_t *image, size_t len, uint32_t hw_version, uint8_t **out,
                                        size_t *out_len, struct hilda_error *e);

/* Decodes an init packet (untrusted: from a package file). */
enum hilda_status hilda_dfu_init_decode(const uint8_t *packet, size_t len, struct hilda_dfu_init *out,
                                        struct hilda_error *e);

/* Checks a package's init packet against its image before anything is sent:
 * an application for this hardware with no SoftDevice, app_size and the
 * SHA-256 matching the bytes. */
enum hilda_status hilda_dfu_init_check(const struct hilda_dfu_init *init, const uint8_t *image, size_t len,
                                       uint32_t hw_version, struct hilda_error *e);

#endif
