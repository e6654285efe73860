#include "fake_bootloader.h"

#include <string.h>

#include "crc32.h"
#include "dfu_init.h"
#include "hilda/dfu.h"
#include "hilda/usb.h"
#include "sha256.h"

#define CMD_MAX  512u
#define DATA_MAX 4096u
#define MTU      2051u

void fake_bootloader_init(struct fake_bootloader *b)
{
    memset(b, 0, sizeof *b);
    memset(b->flash, 0xFF, sizeof b->flash);
    b->hw_version = 52;
    fake_bootloader_restart(b);
}

void fake_bootloader_restart(struct fake_bootloader *b)
{
    b->cmd_len = b->cmd_size = 0;
    b->obj_open = false;
    b->current = DFU_OBJ_COMMAND;
    if (b->keeps_partial && b->init_valid && b->data_offset > b->executed) {
        struct hilda_dfu_init init;
        struct hilda_error e;
        hilda_dfu_init_decode(b->init, b->init_len, &init, &e);
        b->obj_start = b->executed;
        b->obj_size = init.app_size - b->executed < DATA_MAX ? init.app_size - b->executed : DATA_MAX;
        b->obj_open = true;
    } else {
        b->data_offset = b->executed;
    }
    b->out_len = b->out_pos = 0;
    b->dead = false;
    b->cut_after_bytes = -1;
    slip_decoder_init(&b->rx, b->rx_buf, sizeof b->rx_buf);
    if (b->init_valid) {
        memcpy(b->cmd_buf, b->init, b->init_len);
        b->cmd_len = b->cmd_size = b->init_len;
    }
}

static void respond(struct fake_bootloader *b, uint8_t op, uint8_t result, const uint8_t *payload, size_t n)
{
    uint8_t msg[64] = { DFU_OP_RESPONSE, op, result };
    if (n)   /* payload may be NULL when n is 0: memcpy(_, NULL, 0) is undefined */
        memcpy(msg + 3, payload, n);
    b->out_len = slip_encode(msg, n + 3, b->out, sizeof b->out);
    b->out_pos = 0;
}

static void respond_ext(struct fake_bootloader *b, uint8_t op, uint8_t ext)
{
    respond(b, op, DFU_RES_EXT_ERROR, &ext, 1);
}

static uint32_t stream_crc(const struct fake_bootloader *b, bool command)
{
    return command ? crc32_update(0, b->cmd_buf, b->cmd_len) : crc32_update(0, b->flash, b->data_offset);
}

static void execute_init(struct fake_bootloader *b, uint8_t op)
{
    struct hilda_dfu_init init;
    struct hilda_error e;
    if (b->cmd_len != b->cmd_size || hilda_dfu_init_decode(b->cmd_buf, b->cmd_len, &init, &e)) {
        respond_ext(b, op, DFU_EXT_WRONG_COMMAND_FORMAT);
        return;
    }
    if (!init.sd_req_none) {
        respond_ext(b, op, DFU_EXT_SD_VERSION_FAILURE);
        return;
    }
    if (!init.is_debug && (!init.has_hw_version || init.hw_version != b->hw_version)) {
        respond_ext(b, op, DFU_EXT_HW_VERSION_FAILURE);
        return;
    }
    if (!init.has_type || init.app_size > FAKE_FLASH_SIZE) {
        respond_ext(b, op, init.has_type ? DFU_EXT_INSUFFICIENT_SPACE : DFU_EXT_INIT_COMMAND_INVALID);
        return;
    }
    /* The same init packet again keeps the data already received (resume). */
    bool same = b->init_valid && b->init_len == b->cmd_len && memcmp(b->init, b->cmd_buf, b->cmd_len) == 0;
    memcpy(b->init, b->cmd_buf, b->cmd_len);
    b->init_len = b->cmd_len;
    b->init_valid = true;
    if (!same) {
        b->executed = b->data_offset = 0;
        b->app_valid = false;
    }
    respond(b, op, DFU_RES_SUCCESS, NULL, 0);
}

static void execute_data(struct fake_bootloader *b, uint8_t op)
{
    if (!b->obj_open || b->data_offset != b->obj_start + b->obj_size) {
        respond(b, op, DFU_RES_OP_NOT_PERMITTED, NULL, 0);
        return;
    }
    b->obj_open = false;
    b->executed = b->data_offset;
    struct hilda_dfu_init init;
    struct hilda_error e;
    hilda_dfu_init_decode(b->init, b->init_len, &init, &e);
    if (b->executed == init.app_size) {
        if (hilda_dfu_init_check(&init, b->flash, b->executed, b->hw_version, &e)) {
            respond_ext(b, op, DFU_EXT_VERIFICATION_FAILED);
            b->init_valid = false;
            b->executed = b->data_offset = 0;
            return;
        }
        b->app_valid = true;
    }
    respond(b, op, DFU_RES_SUCCESS, NULL, 0);
}

static void handle(struct fake_bootloader *b, const uint8_t *m, size_t n)
{
    uint8_t op = m[0], r[20];
    switch (op) {
    case DFU_OP_PROTOCOL_VERSION: r[0] = DFU_PROTOCOL_VERSION; respond(b, op, DFU_RES_SUCCESS, r, 1); break;
    case DFU_OP_PING: respond(b, op, DFU_RES_SUCCESS, m + 1, n > 1 ? 1 : 0); break;
    case DFU_OP_RECEIPT_NOTIF_SET: respond(b, op, DFU_RES_SUCCESS, NULL, 0); break;
    case DFU_OP_MTU_GET: usb_put_le16(r, MTU); respond(b, op, DFU_RES_SUCCESS, r, 2); break;
    case DFU_OP_OBJECT_SELECT:
        if (n < 2 || (m[1] != DFU_OBJ_COMMAND && m[1] != DFU_OBJ_DATA)) {
            respond(b, op, DFU_RES_UNSUPPORTED_TYPE, NULL, 0);
            break;
        }
        b->current = m[1];
        usb_put_le32(r, m[1] == DFU_OBJ_COMMAND ? CMD_MAX : DATA_MAX);
        usb_put_le32(r + 4, (uint32_t)(m[1] == DFU_OBJ_COMMAND ? b->cmd_len : b->data_offset));
        usb_put_le32(r + 8, stream_crc(b, m[1] == DFU_OBJ_COMMAND));
        respond(b, op, DFU_RES_SUCCESS, r, 12);
        break;
    case DFU_OP_OBJECT_CREATE: {
        uint32_t size = n >= 6 ? usb_get_le32(m + 2) : 0;
        b->creates++;
        b->current = n >= 2 ? m[1] : 0;
        if (n < 6 || (m[1] == DFU_OBJ_COMMAND ? size > CMD_MAX : size > DATA_MAX) || size == 0) {
            respond(b, op, DFU_RES_INSUFFICIENT_RESOURCES, NULL, 0);
        } else if (m[1] == DFU_OBJ_COMMAND) {
            b->cmd_len = 0;
            b->cmd_size = size;
            respond(b, op, DFU_RES_SUCCESS, NULL, 0);
        } else {
            /* a new data object starts at the end of the executed ones */
            b->obj_start = b->data_offset = b->executed;
            b->obj_size = size;
            b->obj_open = true;
            respond(b, op, DFU_RES_SUCCESS, NULL, 0);
        }
        break;
    }
    case DFU_OP_OBJECT_WRITE:
        b->writes++;
        if (b->current == DFU_OBJ_DATA && b->obj_open) {
            size_t k = n - 1;
            if (b->data_offset + k > b->obj_start + b->obj_size || b->data_offset + k > FAKE_FLASH_SIZE)
                k = 0;
            memcpy(b->flash + b->data_offset, m + 1, k);
            b->data_offset += k;
        } else if (b->current == DFU_OBJ_COMMAND && b->cmd_len + n - 1 <= b->cmd_size) {
            memcpy(b->cmd_buf + b->cmd_len, m + 1, n - 1);
            b->cmd_len += n - 1;
        }
        break;   /* no answer */
    case DFU_OP_CRC_GET: {
        bool command = b->current == DFU_OBJ_COMMAND;
        usb_put_le32(r, (uint32_t)(command ? b->cmd_len : b->data_offset));
        usb_put_le32(r + 4, stream_crc(b, command));
        respond(b, op, DFU_RES_SUCCESS, r, 8);
        break;
    }
    case DFU_OP_OBJECT_EXECUTE:
        b->executes++;
        if (b->current == DFU_OBJ_DATA)
            execute_data(b, op);
        else
            execute_init(b, op);
        break;
    default: respond(b, op, DFU_RES_OP_NOT_SUPPORTED, NULL, 0); break;
    }
}

static enum hilda_status t_write(void *ctx, const uint8_t *bytes, size_t len, unsigned timeout_ms,
                                 struct hilda_error *e)
{
    (void)timeout_ms;
    struct fake_bootloader *b = ctx;
    for (size_t i = 0; i < len; i++) {
        if (b->dead || b->cut_after_bytes == 0) {
            b->dead = true;
            return hilda_fail(e, HILDA_ERR_NO_DEVICE, "the bootloader is gone (power cut)");
        }
        if (b->cut_after_bytes > 0)
            b->cut_after_bytes--;
        enum slip_event ev = slip_decoder_feed(&b->rx, bytes[i]);
        if (ev == SLIP_PACKET && b->rx.len > 0)
            handle(b, b->rx_buf, b->rx.len);
        if (ev != SLIP_MORE)
            slip_decoder_next(&b->rx);
    }
    return HILDA_OK;
}

static enum hilda_status t_read(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms,
                                struct hilda_error *e)
{
    struct fake_bootloader *b = ctx;
    if (b->dead)
        return hilda_fail(e, HILDA_ERR_NO_DEVICE, "the bootloader is gone (power cut)");
    if (b->out_pos == b->out_len)
        return hilda_fail(e, HILDA_ERR_TIMEOUT, "nothing from the bootloader within %u ms", timeout_ms);
    size_t n = b->out_len - b->out_pos < cap ? b->out_len - b->out_pos : cap;
    memcpy(buf, b->out + b->out_pos, n);
    b->out_pos += n;
    *got = n;
    return HILDA_OK;
}

struct hilda_dfu_transport fake_bootloader_transport(struct fake_bootloader *b)
{
    return (struct hilda_dfu_transport){ b, t_write, t_read };
}
