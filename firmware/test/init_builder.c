#include "init_builder.h"

#include <string.h>

#include "hilda/dfu.h"
#include "sha256.h"

struct buf {
    uint8_t *p;
    size_t len;
};

static void varint(struct buf *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        b->p[b->len++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void key(struct buf *b, unsigned field, unsigned wire)
{
    varint(b, (uint64_t)field << 3 | wire);
}

static void field_varint(struct buf *b, unsigned field, uint64_t v)
{
    key(b, field, 0);
    varint(b, v);
}

static void field_bytes(struct buf *b, unsigned field, const uint8_t *p, size_t n)
{
    key(b, field, 2);
    varint(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

struct init_spec init_spec_for(const uint8_t *image, uint32_t len)
{
    struct init_spec s;
    uint8_t digest[32];

    memset(&s, 0, sizeof s);
    s.has_hw_version = true;
    s.hw_version = DFU_HW_VERSION_NRF52840;
    s.sd_req_count = 1;
    s.sd_req[0] = 0;
    s.has_type = true;
    s.type = DFU_FW_TYPE_APPLICATION;
    s.has_app_size = true;
    s.app_size = len;
    s.has_hash = true;
    s.hash_type = DFU_HASH_TYPE_SHA256;
    sha256(image, len, digest);
    for (int i = 0; i < 32; i++)
        s.hash[i] = digest[31 - i];
    s.hash_len = 32;
    s.op_code = DFU_PB_OP_CODE_INIT;
    return s;
}

size_t init_build(const struct init_spec *s, uint8_t *out)
{
    uint8_t init_bytes[128], hash_bytes[64], sd[32], command_bytes[192];
    struct buf init = { init_bytes, 0 }, hash = { hash_bytes, 0 }, sdb = { sd, 0 };
    struct buf command = { command_bytes, 0 }, packet = { out, 0 };

    field_varint(&init, DFU_PB_INIT_FW_VERSION, s->fw_version);
    if (s->has_hw_version)
        field_varint(&init, DFU_PB_INIT_HW_VERSION, s->hw_version);
    if (s->sd_req_unpacked) {
        for (unsigned i = 0; i < s->sd_req_count; i++)
            field_varint(&init, DFU_PB_INIT_SD_REQ, s->sd_req[i]);
    } else if (s->sd_req_count) {
        for (unsigned i = 0; i < s->sd_req_count; i++)
            varint(&sdb, s->sd_req[i]);
        field_bytes(&init, DFU_PB_INIT_SD_REQ, sd, sdb.len);
    }
    if (s->has_type)
        field_varint(&init, DFU_PB_INIT_TYPE, s->type);
    field_varint(&init, DFU_PB_INIT_SD_SIZE, 0);
    field_varint(&init, DFU_PB_INIT_BL_SIZE, 0);
    if (s->has_app_size)
        field_varint(&init, DFU_PB_INIT_APP_SIZE, s->app_size);
    if (s->has_hash) {
        field_varint(&hash, DFU_PB_HASH_TYPE, s->hash_type);
        field_bytes(&hash, DFU_PB_HASH_HASH, s->hash, s->hash_len);
        field_bytes(&init, DFU_PB_INIT_HASH, hash_bytes, hash.len);
    }
    field_varint(&init, DFU_PB_INIT_IS_DEBUG, s->is_debug);

    field_varint(&command, DFU_PB_COMMAND_OP_CODE, s->op_code);
    field_bytes(&command, DFU_PB_COMMAND_INIT, init_bytes, init.len);
    if (s->signed_command) {
        /* SignedCommand{command(1), signature_type(2), signature(3)} */
        uint8_t signed_bytes[256];
        struct buf sc = { signed_bytes, 0 };
        static const uint8_t signature[64];
        field_bytes(&sc, 1, command_bytes, command.len);
        field_varint(&sc, 2, 0);
        field_bytes(&sc, 3, signature, sizeof signature);
        field_bytes(&packet, DFU_PB_PACKET_SIGNED_COMMAND, signed_bytes, sc.len);
    } else {
        field_bytes(&packet, DFU_PB_PACKET_COMMAND, command_bytes, command.len);
    }
    return packet.len;
}
