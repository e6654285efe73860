/* Builds Secure DFU init packets (dfu-cc.proto) for the bootloader's tests,
 * good ones and each kind of bad one, the way pc-nrfutil and nrfdfu-rs
 * encode them. */
#ifndef HILDA_INIT_BUILDER_H
#define HILDA_INIT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct init_spec {
    uint32_t fw_version;
    bool has_hw_version;
    uint32_t hw_version;
    unsigned sd_req_count;
    uint32_t sd_req[4];
    bool sd_req_unpacked;        /* one field per value instead of one packed field */
    bool has_type;
    uint32_t type;
    bool has_app_size;
    uint32_t app_size;
    bool has_hash;
    uint32_t hash_type;
    uint8_t hash[40];
    size_t hash_len;
    bool is_debug;
    uint32_t op_code;
    bool signed_command;         /* wrap it as Packet.signed_command instead */
};

/* What nrfdfu-rs sends for image[0..len): fw 0, hw 52, sd_req [0], type
 * APPLICATION, app_size, SHA-256 reversed, is_debug false. */
struct init_spec init_spec_for(const uint8_t *image, uint32_t len);

/* Encodes spec into out (at least 256 bytes); returns the length. */
size_t init_build(const struct init_spec *spec, uint8_t *out);

#endif
