#include "init_packet.h"

#include <string.h>

/* protobuf wire types */
#define WIRE_VARINT 0
#define WIRE_LEN    2
#define VARINT_MAX_BYTES 10   /* a 64-bit value */

struct reader {
    const uint8_t *p, *end;
};

static bool read_varint(struct reader *r, uint64_t *value)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < VARINT_MAX_BYTES; i++) {
        if (r->p == r->end)
            return false;                       /* truncated */
        uint8_t b = *r->p++;
        if (i == VARINT_MAX_BYTES - 1 && b > 1)
            return false;                       /* more than 64 bits */
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *value = v;
            return true;
        }
    }
    return false;                               /* an 11th byte would follow */
}

/* One field: its number, wire type, and for WIRE_LEN the sub-reader over
 * its bytes (bounded by the enclosing message). */
struct field {
    uint32_t number;
    unsigned wire;
    uint64_t varint;
    struct reader body;
};

static bool next_field(struct reader *r, struct field *f)
{
    uint64_t key, len;
    if (!read_varint(r, &key) || key >> 3 == 0 || key >> 3 > UINT32_MAX)
        return false;
    f->number = (uint32_t)(key >> 3);
    f->wire = (unsigned)(key & 7);
    if (f->wire == WIRE_VARINT)
        return read_varint(r, &f->varint);
    if (f->wire != WIRE_LEN || !read_varint(r, &len) || len > (uint64_t)(r->end - r->p))
        return false;
    f->body.p = r->p;
    f->body.end = r->p + len;
    r->p += len;
    return true;
}

static bool is_u32(const struct field *f)
{
    return f->wire == WIRE_VARINT && f->varint <= UINT32_MAX;
}

static bool decode_hash(struct reader r, struct init_packet *out)
{
    struct field f;
    out->has_hash = true;
    while (r.p < r.end) {
        if (!next_field(&r, &f))
            return false;
        if (f.number == DFU_PB_HASH_TYPE) {
            if (!is_u32(&f))
                return false;
            out->hash_type = (uint32_t)f.varint;
        } else if (f.number == DFU_PB_HASH_HASH) {
            if (f.wire != WIRE_LEN)
                return false;
            size_t n = (size_t)(f.body.end - f.body.p);
            out->hash_len = n;
            memcpy(out->hash, f.body.p, n < INIT_HASH_SIZE ? n : INIT_HASH_SIZE);
        }
    }
    return true;
}

/* sd_req (repeated uint32) arrives packed (one length-delimited field of
 * varints) or not (one varint field per value); proto2 parsers take both. */
static bool note_sd_req(struct init_packet *out, uint64_t value)
{
    if (value > UINT32_MAX)
        return false;
    out->sd_req_present = true;
    if (value == DFU_SD_REQ_NONE)
        out->sd_req_has_none = true;
    return true;
}

static void store_u32(struct init_packet *out, uint32_t number, uint32_t value)
{
    switch (number) {
    case DFU_PB_INIT_FW_VERSION:
        out->fw_version = value;
        break;
    case DFU_PB_INIT_HW_VERSION:
        out->hw_version = value;
        out->has_hw_version = true;
        break;
    case DFU_PB_INIT_TYPE:
        out->type = value;
        out->has_type = true;
        break;
    case DFU_PB_INIT_APP_SIZE:
        out->app_size = value;
        out->has_app_size = true;
        break;
    default:
        out->is_debug = value != 0;
        break;
    }
}

static bool decode_init(struct reader r, struct init_packet *out)
{
    struct field f;
    while (r.p < r.end) {
        if (!next_field(&r, &f))
            return false;
        switch (f.number) {
        case DFU_PB_INIT_FW_VERSION:
        case DFU_PB_INIT_HW_VERSION:
        case DFU_PB_INIT_TYPE:
        case DFU_PB_INIT_APP_SIZE:
        case DFU_PB_INIT_IS_DEBUG:
            if (!is_u32(&f))
                return false;
            store_u32(out, f.number, (uint32_t)f.varint);
            break;
        case DFU_PB_INIT_SD_REQ:
            if (f.wire == WIRE_VARINT) {
                if (!note_sd_req(out, f.varint))
                    return false;
            } else {
                uint64_t v;
                while (f.body.p < f.body.end) {
                    if (!read_varint(&f.body, &v) || !note_sd_req(out, v))
                        return false;
                }
            }
            break;
        case DFU_PB_INIT_HASH:
            if (f.wire != WIRE_LEN || !decode_hash(f.body, out))
                return false;
            break;
        default:            /* sd_size, bl_size, boot_validation, newer fields */
            break;
        }
    }
    return true;
}

enum dfu_ext_error init_packet_decode(const uint8_t *packet, size_t len, struct init_packet *out)
{
    struct reader r = { packet, packet + len };
    struct field f;
    bool has_command = false, has_op_code = false, has_init = false;
    uint32_t op_code = 0;

    memset(out, 0, sizeof *out);
    while (r.p < r.end) {
        if (!next_field(&r, &f))
            return DFU_EXT_WRONG_COMMAND_FORMAT;
        if (f.number == DFU_PB_PACKET_SIGNED_COMMAND)
            return DFU_EXT_WRONG_COMMAND_FORMAT;
        if (f.number != DFU_PB_PACKET_COMMAND)
            continue;
        if (f.wire != WIRE_LEN)
            return DFU_EXT_WRONG_COMMAND_FORMAT;
        has_command = true;
        struct reader c = f.body;
        while (c.p < c.end) {
            struct field g;
            if (!next_field(&c, &g))
                return DFU_EXT_WRONG_COMMAND_FORMAT;
            if (g.number == DFU_PB_COMMAND_OP_CODE) {
                if (!is_u32(&g))
                    return DFU_EXT_WRONG_COMMAND_FORMAT;
                op_code = (uint32_t)g.varint;
                has_op_code = true;
            } else if (g.number == DFU_PB_COMMAND_INIT) {
                if (g.wire != WIRE_LEN || !decode_init(g.body, out))
                    return DFU_EXT_WRONG_COMMAND_FORMAT;
                has_init = true;
            }
        }
    }
    if (!has_command)
        return DFU_EXT_WRONG_COMMAND_FORMAT;
    if (!has_op_code || op_code != DFU_PB_OP_CODE_INIT)
        return DFU_EXT_UNKNOWN_COMMAND;
    if (!has_init)
        return DFU_EXT_INIT_COMMAND_INVALID;
    return DFU_EXT_NO_ERROR;
}

enum dfu_ext_error init_packet_check(const struct init_packet *p, uint32_t app_max)
{
    if (!p->has_type || p->type != DFU_FW_TYPE_APPLICATION)
        return DFU_EXT_INIT_COMMAND_INVALID;
    if (!p->is_debug && (!p->has_hw_version || p->hw_version != DFU_HW_VERSION_NRF52840))
        return DFU_EXT_HW_VERSION_FAILURE;
    if (p->sd_req_present && !p->sd_req_has_none)
        return DFU_EXT_SD_VERSION_FAILURE;
    if (!p->has_app_size || p->app_size == 0)
        return DFU_EXT_INIT_COMMAND_INVALID;
    if (p->app_size > app_max)
        return DFU_EXT_INSUFFICIENT_SPACE;
    if (!p->has_hash || p->hash_type != DFU_HASH_TYPE_SHA256)
        return DFU_EXT_WRONG_HASH_TYPE;
    if (p->hash_len != INIT_HASH_SIZE)
        return DFU_EXT_INIT_COMMAND_INVALID;
    return DFU_EXT_NO_ERROR;
}
