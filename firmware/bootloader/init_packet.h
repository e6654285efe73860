/* The Secure DFU init packet (dfu-cc.proto, proto2), decoded by hand and
 * checked the way an open bootloader checks it (nRF5 SDK "DFU protocol", dfu-cc.proto): untrusted,
 * bounded input; varint and length-delimited fields only. */
#ifndef HILDA_BOOT_INIT_PACKET_H
#define HILDA_BOOT_INIT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hilda/dfu.h"

#define INIT_HASH_SIZE 32

struct init_packet {
    uint32_t fw_version;
    uint32_t hw_version;
    bool has_hw_version;
    bool sd_req_present;       /* sd_req held at least one value */
    bool sd_req_has_none;      /* ... and one of them was DFU_SD_REQ_NONE */
    uint32_t type;
    bool has_type;
    uint32_t app_size;
    bool has_app_size;
    uint32_t hash_type;
    bool has_hash;
    uint8_t hash[INIT_HASH_SIZE]; /* as sent: SHA-256 in reversed byte order */
    size_t hash_len;
    bool is_debug;
};

/* Decodes packet[0..len) into *out. Returns DFU_EXT_NO_ERROR, or the
 * extended error to answer: WRONG_COMMAND_FORMAT (malformed protobuf: a
 * truncated or over-long varint, a length past the end, a wire type other
 * than varint or length-delimited, or a signed_command: this bootloader
 * checks no signatures), UNKNOWN_COMMAND (op_code not INIT). */
enum dfu_ext_error init_packet_decode(const uint8_t *packet, size_t len, struct init_packet *out);

/* The open bootloader's checks of a decoded packet, in its order: type
 * APPLICATION and present (INIT_COMMAND_INVALID), hw_version 52 unless
 * is_debug (HW_VERSION_FAILURE), sd_req absent or holding 0x00
 * (SD_VERSION_FAILURE), app_size present, non-zero (INIT_COMMAND_INVALID) and
 * at most app_max (INSUFFICIENT_SPACE), a SHA-256 hash (WRONG_HASH_TYPE) of
 * 32 bytes (INIT_COMMAND_INVALID). fw_version is not checked: no downgrade
 * prevention, as in Nordic's open bootloader. */
enum dfu_ext_error init_packet_check(const struct init_packet *p, uint32_t app_max);

#endif
