#include "secure_dfu.h"

#include <string.h>

#include "crc32.h"
#include "hilda/dfu.h"
#include "init_packet.h"
#include "settings.h"
#include "sha256.h"

static const struct flash_ops *flash;
static struct dfu_device_info info;

/* The command object: the init packet being received (or the copy the
 * settings page holds, after a reset). */
static struct {
    uint8_t buf[DFU_COMMAND_MAX_SIZE];
    uint32_t size;            /* created size */
    uint32_t len;             /* bytes received */
    bool created;             /* OBJECT_CREATE(command) in this session: EXECUTE starts over */
    bool valid;               /* executed and checked: data objects may follow */
    struct init_packet init;
} command;

/* The image stream: bytes in flash (executed), plus the object being received. */
static struct {
    uint32_t flash_len, flash_crc;    /* executed objects, in flash and in the settings log */
    uint32_t len, crc;                /* everything received, the open object included */
    uint32_t object_start, object_size;
    bool object_open;
    bool done;                        /* the image checked out and is marked valid */
} image;

static uint32_t object_buf[DFU_DATA_MAX_SIZE / 4];   /* the open data object, word-aligned for the NVMC */

static uint8_t selected;          /* DFU_OBJ_COMMAND or DFU_OBJ_DATA: what CRC_GET, WRITE and EXECUTE act on */
static uint16_t prn_target, prn_count;

/* ---- responses ---- */

struct response {
    uint8_t *p;
    size_t len;
};

static void put8(struct response *r, uint8_t v)
{
    r->p[r->len++] = v;
}

static void put16(struct response *r, uint16_t v)
{
    put8(r, (uint8_t)v);
    put8(r, (uint8_t)(v >> 8));
}

static void put32(struct response *r, uint32_t v)
{
    put16(r, (uint16_t)v);
    put16(r, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct response begin(uint8_t *resp, uint8_t opcode, uint8_t result)
{
    struct response r = { resp, 0 };
    put8(&r, DFU_OP_RESPONSE);
    put8(&r, opcode);
    put8(&r, result);
    return r;
}

static size_t ext_error(uint8_t *resp, uint8_t opcode, enum dfu_ext_error ext)
{
    struct response r = begin(resp, opcode, DFU_RES_EXT_ERROR);
    put8(&r, (uint8_t)ext);
    return r.len;
}

static size_t result(uint8_t *resp, uint8_t opcode, enum dfu_result res)
{
    return begin(resp, opcode, (uint8_t)res).len;
}

/* ---- state from flash ---- */

static void forget_open_object(void)
{
    image.len = image.flash_len;
    image.crc = image.flash_crc;
    image.object_open = false;
}

static void load(void)
{
    struct settings s;
    settings_load(flash, &s);
    memset(&command, 0, sizeof command);
    memset(&image, 0, sizeof image);
    if (s.has_init) {
        memcpy(command.buf, s.init, s.init_len);
        command.len = command.size = s.init_len;
        /* The copy was checked before it was written; decode it again for
         * app_size and the hash. */
        command.valid = init_packet_decode(command.buf, command.len, &command.init) == DFU_EXT_NO_ERROR &&
                        init_packet_check(&command.init, DFU_APP_MAX_SIZE) == DFU_EXT_NO_ERROR;
        if (command.valid) {
            image.flash_len = s.progress;
            image.flash_crc = s.progress_crc;
        }
    }
    forget_open_object();
}

void dfu_init(const struct flash_ops *flash_ops, const struct dfu_device_info *device)
{
    flash = flash_ops;
    info = *device;
    selected = DFU_OBJ_COMMAND;
    prn_target = prn_count = 0;
    load();
}

bool dfu_update_done(void)
{
    return image.done;
}

/* ---- objects ---- */

static size_t object_select(uint8_t *resp, const uint8_t *p, size_t n)
{
    if (n != 1)
        return result(resp, DFU_OP_OBJECT_SELECT, DFU_RES_INVALID_PARAMETER);
    if (p[0] != DFU_OBJ_COMMAND && p[0] != DFU_OBJ_DATA)
        return result(resp, DFU_OP_OBJECT_SELECT, DFU_RES_UNSUPPORTED_TYPE);
    selected = p[0];
    struct response r = begin(resp, DFU_OP_OBJECT_SELECT, DFU_RES_SUCCESS);
    if (selected == DFU_OBJ_COMMAND) {
        put32(&r, DFU_COMMAND_MAX_SIZE);
        put32(&r, command.len);
        put32(&r, crc32_update(0, command.buf, command.len));
    } else {
        put32(&r, DFU_DATA_MAX_SIZE);
        put32(&r, image.len);
        put32(&r, image.crc);
    }
    return r.len;
}

/* Data objects are whole flash pages from DFU_APP_START, the last one ending
 * at app_size: what every known host sends when it slices the image by
 * SELECT's max_size. A new object drops what was received of an unexecuted
 * one, as Nordic's bootloader does (a host that found a bad CRC re-creates
 * the object from the last executed one). */
static size_t create_data(uint8_t *resp, uint32_t size)
{
    if (!command.valid)
        return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_OP_NOT_PERMITTED);
    if (size == 0 || size > DFU_DATA_MAX_SIZE)
        return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_INSUFFICIENT_RESOURCES);
    forget_open_object();
    uint32_t start = image.flash_len;
    if (start % DFU_DATA_MAX_SIZE != 0 || start + size > command.init.app_size ||
        (size < DFU_DATA_MAX_SIZE && start + size != command.init.app_size))
        return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_INVALID_PARAMETER);
    image.object_start = start;
    image.object_size = size;
    image.object_open = true;
    image.done = false;
    return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_SUCCESS);
}

/* A new init packet: the update starts over when it is executed. */
static size_t object_create(uint8_t *resp, const uint8_t *p, size_t n)
{
    if (n != 5)
        return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_INVALID_PARAMETER);
    uint32_t size = get32(p + 1);
    prn_count = 0;
    if (p[0] == DFU_OBJ_DATA) {
        selected = DFU_OBJ_DATA;
        return create_data(resp, size);
    }
    if (p[0] != DFU_OBJ_COMMAND)
        return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_UNSUPPORTED_TYPE);
    selected = DFU_OBJ_COMMAND;
    if (size == 0 || size > DFU_COMMAND_MAX_SIZE)
        return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_INSUFFICIENT_RESOURCES);
    command.size = size;
    command.len = 0;
    command.created = true;
    command.valid = false;
    image.flash_len = image.flash_crc = 0;
    forget_open_object();
    return result(resp, DFU_OP_OBJECT_CREATE, DFU_RES_SUCCESS);
}

/* No response (Nordic's serial transport answers no write, not even a
 * failed one): bytes beyond the created object are dropped, and the host's
 * CRC_GET shows the offset that did not move. */
static void object_write(const uint8_t *p, size_t n)
{
    if (selected == DFU_OBJ_COMMAND) {
        if (command.len + n > command.size)
            return;
        memcpy(command.buf + command.len, p, n);
        command.len += (uint32_t)n;
        return;
    }
    if (!image.object_open || image.len + n > image.object_start + image.object_size)
        return;
    memcpy((uint8_t *)object_buf + (image.len - image.object_start), p, n);
    image.len += (uint32_t)n;
    image.crc = crc32_update(image.crc, p, n);
}

static size_t crc_response(uint8_t *resp)
{
    struct response r = begin(resp, DFU_OP_CRC_GET, DFU_RES_SUCCESS);
    if (selected == DFU_OBJ_COMMAND) {
        put32(&r, command.len);
        put32(&r, crc32_update(0, command.buf, command.len));
    } else {
        put32(&r, image.len);
        put32(&r, image.crc);
    }
    return r.len;
}

static bool same_as_stored(void)
{
    struct settings s;
    settings_load(flash, &s);
    return s.has_init && s.init_len == command.len && memcmp(s.init, command.buf, command.len) == 0;
}

static size_t execute_command(uint8_t *resp)
{
    if (command.size == 0 || command.len != command.size)
        return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_INVALID_OBJECT);
    enum dfu_ext_error ext = init_packet_decode(command.buf, command.len, &command.init);
    if (ext == DFU_EXT_NO_ERROR)
        ext = init_packet_check(&command.init, DFU_APP_MAX_SIZE);
    if (ext != DFU_EXT_NO_ERROR) {
        command.valid = false;
        return ext_error(resp, DFU_OP_OBJECT_EXECUTE, ext);
    }
    /* Resuming (the init packet the settings hold, not re-created): keep
     * the progress. Otherwise the update starts over, and from here the old
     * application is invalid, before any of its pages is erased. */
    if (command.created || !same_as_stored()) {
        if (!settings_begin(flash, command.buf, command.len))
            return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_OPERATION_FAILED);
        image.flash_len = image.flash_crc = 0;
        forget_open_object();
    }
    command.created = false;
    command.valid = true;
    return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_SUCCESS);
}

static bool program_object(void)
{
    uint32_t addr = DFU_APP_START + image.object_start;
    uint32_t n = image.object_size;
    /* The tail of the last object is padded as erased flash reads. */
    memset((uint8_t *)object_buf + n, 0xFF, (4 - n % 4) % 4);
    if (!settings_invalidate(flash) || !flash->erase_page(addr) ||
        !flash->write_words(addr, object_buf, (n + 3) / 4))
        return false;
    return memcmp(flash->map(addr), object_buf, n) == 0;
}

/* The whole image is in flash: its SHA-256 against the init packet's
 * (which lists the digest's bytes in reverse order). */
static bool image_matches(void)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(flash->map(DFU_APP_START), command.init.app_size, digest);
    for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
        if (digest[i] != command.init.hash[SHA256_DIGEST_SIZE - 1 - i])
            return false;
    }
    return true;
}

static size_t execute_data(uint8_t *resp)
{
    if (!command.valid)
        return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_OP_NOT_PERMITTED);
    if (image.object_open) {
        if (image.len != image.object_start + image.object_size)
            return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_INVALID_OBJECT);
        if (!program_object() || !settings_add_progress(flash, image.len, image.crc)) {
            forget_open_object();
            return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_OPERATION_FAILED);
        }
        image.flash_len = image.len;
        image.flash_crc = image.crc;
        image.object_open = false;
    }
    /* Without an open object this re-executes the last one: what a host
     * resuming after a power cut does (pc-nrfutil's recovery). */
    if (image.flash_len < command.init.app_size)
        return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_SUCCESS);
    if (!image_matches())
        return ext_error(resp, DFU_OP_OBJECT_EXECUTE, DFU_EXT_VERIFICATION_FAILED);
    if (!settings_mark_valid(flash, image.flash_len, image.flash_crc, command.init.fw_version, command.init.hash))
        return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_OPERATION_FAILED);
    image.done = true;
    return result(resp, DFU_OP_OBJECT_EXECUTE, DFU_RES_SUCCESS);
}

/* ---- the other requests ---- */

static size_t hardware_version(uint8_t *resp)
{
    struct response r = begin(resp, DFU_OP_HARDWARE_VERSION, DFU_RES_SUCCESS);
    put32(&r, info.part);
    put32(&r, info.variant);
    put32(&r, DFU_FLASH_SIZE);
    put32(&r, 0x40000u);          /* RAM */
    put32(&r, DFU_FLASH_PAGE);
    return r.len;
}

/* Image 0 is the bootloader, image 1 the application (no SoftDevice), as
 * Nordic numbers them. */
static size_t firmware_version(uint8_t *resp, const uint8_t *p, size_t n)
{
    if (n != 1)
        return result(resp, DFU_OP_FIRMWARE_VERSION, DFU_RES_INVALID_PARAMETER);
    struct settings s;
    settings_load(flash, &s);
    struct response r = begin(resp, DFU_OP_FIRMWARE_VERSION, DFU_RES_SUCCESS);
    if (p[0] == 0) {
        put8(&r, DFU_IMAGE_BOOTLOADER);
        put32(&r, info.bootloader_version);
        put32(&r, DFU_BOOTLOADER_START);
        put32(&r, info.bootloader_size);
    } else if (p[0] == 1 && s.app_valid) {
        put8(&r, DFU_IMAGE_APPLICATION);
        put32(&r, s.fw_version);
        put32(&r, DFU_APP_START);
        put32(&r, s.app_size);
    } else {
        return result(resp, DFU_OP_FIRMWARE_VERSION, DFU_RES_INVALID_PARAMETER);
    }
    return r.len;
}

size_t dfu_request(const uint8_t *req, size_t len, uint8_t *resp)
{
    if (len == 0)
        return 0;
    uint8_t op = req[0];
    const uint8_t *p = req + 1;
    size_t n = len - 1;
    struct response r;

    switch (op) {
    case DFU_OP_PROTOCOL_VERSION:
        r = begin(resp, op, DFU_RES_SUCCESS);
        put8(&r, DFU_PROTOCOL_VERSION);
        return r.len;
    case DFU_OP_OBJECT_CREATE:
        return object_create(resp, p, n);
    case DFU_OP_RECEIPT_NOTIF_SET:
        if (n != 2)
            return result(resp, op, DFU_RES_INVALID_PARAMETER);
        prn_target = (uint16_t)(p[0] | p[1] << 8);
        prn_count = 0;
        return result(resp, op, DFU_RES_SUCCESS);
    case DFU_OP_CRC_GET:
        return crc_response(resp);
    case DFU_OP_OBJECT_EXECUTE:
        return selected == DFU_OBJ_COMMAND ? execute_command(resp) : execute_data(resp);
    case DFU_OP_OBJECT_SELECT:
        return object_select(resp, p, n);
    case DFU_OP_MTU_GET:
        r = begin(resp, op, DFU_RES_SUCCESS);
        put16(&r, DFU_MTU);
        return r.len;
    case DFU_OP_OBJECT_WRITE:
        object_write(p, n);
        if (prn_target && ++prn_count >= prn_target) {
            prn_count = 0;
            return crc_response(resp);     /* a receipt: CRC_GET's response */
        }
        return 0;
    case DFU_OP_PING:
        if (n != 1)
            return result(resp, op, DFU_RES_INVALID_PARAMETER);
        r = begin(resp, op, DFU_RES_SUCCESS);
        put8(&r, p[0]);
        return r.len;
    case DFU_OP_HARDWARE_VERSION:
        return hardware_version(resp);
    case DFU_OP_FIRMWARE_VERSION:
        return firmware_version(resp, p, n);
    case DFU_OP_ABORT:
        /* Drops what is not executed; flash keeps what is (resumable). */
        load();
        return result(resp, op, DFU_RES_SUCCESS);
    default:
        return result(resp, op, DFU_RES_OP_NOT_SUPPORTED);
    }
}
