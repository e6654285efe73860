#include "dfu_init.h"

#include <stdlib.h>
#include <string.h>

#include "dfu-cc.pb-c.h"
#include "hilda/dfu.h"
#include "sha256.h"

/* Secure DFU carries the SHA-256 digest least significant byte first. */
static void reversed_sha256(const uint8_t *image, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256(image, len, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        out[i] = d[SHA256_DIGEST_SIZE - 1 - i];
}

enum hilda_status hilda_dfu_init_encode(const uint8_t *image, size_t len, uint32_t hw_version, uint8_t **out,
                                        size_t *out_len, struct hilda_error *e)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    reversed_sha256(image, len, digest);
    uint32_t no_softdevice = 0x00;

    Hilda__Dfu__Hash hash = HILDA__DFU__HASH__INIT;
    hash.hash_type = HILDA__DFU__HASH_TYPE__SHA256;
    hash.hash.data = digest;
    hash.hash.len = sizeof digest;

    Hilda__Dfu__InitCommand init = HILDA__DFU__INIT_COMMAND__INIT;
    init.has_fw_version = 1;
    init.fw_version = 0;
    init.has_hw_version = 1;
    init.hw_version = hw_version;
    init.n_sd_req = 1;
    init.sd_req = &no_softdevice;
    init.has_type = 1;
    init.type = HILDA__DFU__FW_TYPE__APPLICATION;
    init.has_sd_size = 1;
    init.sd_size = 0;
    init.has_bl_size = 1;
    init.bl_size = 0;
    init.has_app_size = 1;
    init.app_size = (uint32_t)len;
    init.hash = &hash;
    init.has_is_debug = 1;
    init.is_debug = 0;

    Hilda__Dfu__Command command = HILDA__DFU__COMMAND__INIT;
    command.has_op_code = 1;
    command.op_code = HILDA__DFU__OP_CODE__INIT;
    command.init = &init;

    Hilda__Dfu__Packet packet = HILDA__DFU__PACKET__INIT;
    packet.command = &command;

    size_t n = hilda__dfu__packet__get_packed_size(&packet);
    uint8_t *buf = malloc(n);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory encoding the init packet");
    hilda__dfu__packet__pack(&packet, buf);
    *out = buf;
    *out_len = n;
    return HILDA_OK;
}

enum hilda_status hilda_dfu_init_decode(const uint8_t *packet, size_t len, struct hilda_dfu_init *out,
                                        struct hilda_error *e)
{
    memset(out, 0, sizeof *out);
    Hilda__Dfu__Packet *p = hilda__dfu__packet__unpack(NULL, len, packet);
    if (!p)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the init packet (.dat) is not a valid Secure DFU protobuf message");
    enum hilda_status st = HILDA_OK;
    const Hilda__Dfu__InitCommand *init = p->command ? p->command->init : NULL;
    if (!init || !p->command->has_op_code || p->command->op_code != HILDA__DFU__OP_CODE__INIT) {
        st = hilda_fail(e, HILDA_ERR_IMAGE, "the init packet holds no INIT command (a signed packet? hilda sends "
                        "unsigned ones to open bootloaders)");
    } else {
        out->fw_version = init->fw_version;
        out->has_hw_version = init->has_hw_version;
        out->hw_version = init->hw_version;
        out->has_type = init->has_type;
        out->type = (uint32_t)init->type;
        out->app_size = init->app_size;
        out->is_debug = init->has_is_debug && init->is_debug;
        out->sd_req_none = init->n_sd_req == 0 || (init->n_sd_req == 1 && init->sd_req[0] == 0x00);
        if (init->hash) {
            out->hash_type = (uint32_t)init->hash->hash_type;
            out->hash_len = init->hash->hash.len < sizeof out->hash ? init->hash->hash.len : sizeof out->hash;
            memcpy(out->hash, init->hash->hash.data, out->hash_len);
        }
    }
    hilda__dfu__packet__free_unpacked(p, NULL);
    return st;
}

enum hilda_status hilda_dfu_init_check(const struct hilda_dfu_init *init, const uint8_t *image, size_t len,
                                       uint32_t hw_version, struct hilda_error *e)
{
    if (!init->has_type || init->type != DFU_FW_TYPE_APPLICATION)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the init packet does not announce an application (type %s%u)",
                          init->has_type ? "" : "missing, ", init->type);
    if (!init->is_debug && (!init->has_hw_version || init->hw_version != hw_version))
        return hilda_fail(e, HILDA_ERR_IMAGE, "the package is for hardware version %u, this chip is %u",
                          init->hw_version, hw_version);
    if (!init->sd_req_none)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the package requires a SoftDevice (sd_req), which the dongle does "
                          "not have: build it with --sd-req 0x00");
    if (init->app_size != len)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the init packet announces %u bytes, the image has %zu", init->app_size,
                          len);
    uint8_t digest[SHA256_DIGEST_SIZE];
    reversed_sha256(image, len, digest);
    if (init->hash_type != DFU_HASH_TYPE_SHA256 || init->hash_len != sizeof digest ||
        memcmp(init->hash, digest, sizeof digest) != 0)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the init packet's SHA-256 does not match the image: the package is "
                          "corrupt or mixed up");
    return HILDA_OK;
}
