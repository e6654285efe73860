/* The bootloader's Secure DFU core (firmware/bootloader/dfu.c, settings.c)
 * on a fake NVMC: the requests and their answers, the object state machine
 * with its errors, the settings page (valid only after the hash checked out,
 * invalid before the first application page is erased), and resuming an
 * update after a power cut at any point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crc32.h"
#include "secure_dfu.h"
#include "fake_flash.h"
#include "init_builder.h"
#include "settings.h"

#define IMAGE_LEN 9000u            /* two whole objects and a short one */

static const struct dfu_device_info device = { 0x52840, 0x41414430, 0x00010000, 0x8000 };
static const struct flash_ops *flash;
static uint8_t image[IMAGE_LEN];
static uint8_t init[256];
static size_t init_len;
static uint8_t resp[DFU_RESPONSE_MAX];
static size_t resp_len;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void boot(void)
{
    fake_flash_power_on();
    dfu_init(flash, &device);
}

static int setup(void **state)
{
    (void)state;
    flash = fake_flash_reset();
    for (unsigned i = 0; i < IMAGE_LEN; i++)
        image[i] = (uint8_t)(i * 7 + (i >> 8));
    /* a plausible vector table, for the boot rules' sake */
    image[0] = 0x00; image[1] = 0x00; image[2] = 0x04; image[3] = 0x20;
    struct init_spec spec = init_spec_for(image, IMAGE_LEN);
    init_len = init_build(&spec, init);
    boot();
    return 0;
}

static size_t request(const uint8_t *req, size_t len)
{
    memset(resp, 0xEE, sizeof resp);
    resp_len = dfu_request(req, len, resp);
    return resp_len;
}

/* Sends op and payload; checks the response header and returns the result. */
static uint8_t call(uint8_t op, const uint8_t *payload, size_t n)
{
    uint8_t req[1 + 1100];
    req[0] = op;
    if (n)   /* payload may be NULL when n is 0: memcpy(_, NULL, 0) is undefined */
        memcpy(req + 1, payload, n);
    assert_true(request(req, 1 + n) >= 3);
    assert_int_equal(resp[0], DFU_OP_RESPONSE);
    assert_int_equal(resp[1], op);
    return resp[2];
}

static uint8_t create(uint8_t type, uint32_t size)
{
    const uint8_t p[5] = { type, (uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16), (uint8_t)(size >> 24) };
    return call(DFU_OP_OBJECT_CREATE, p, 5);
}

static void write(const uint8_t *data, size_t n)
{
    uint8_t req[1 + 1024];
    while (n) {
        size_t chunk = n > 1024 ? 1024 : n;
        req[0] = DFU_OP_OBJECT_WRITE;
        memcpy(req + 1, data, chunk);
        assert_int_equal(request(req, 1 + chunk), 0);     /* no response */
        data += chunk;
        n -= chunk;
    }
}

static uint8_t execute(void)
{
    return call(DFU_OP_OBJECT_EXECUTE, NULL, 0);
}

struct selected { uint32_t max, offset, crc; };

static struct selected select_object(uint8_t type)
{
    assert_int_equal(call(DFU_OP_OBJECT_SELECT, &type, 1), DFU_RES_SUCCESS);
    assert_int_equal(resp_len, 15);
    struct selected s = { le32(resp + 3), le32(resp + 7), le32(resp + 11) };
    return s;
}

static void assert_crc_get(uint32_t offset, uint32_t crc)
{
    assert_int_equal(call(DFU_OP_CRC_GET, NULL, 0), DFU_RES_SUCCESS);
    assert_int_equal(resp_len, 11);
    assert_int_equal(le32(resp + 3), offset);
    assert_int_equal(le32(resp + 7), crc);
}

static void send_init(void)
{
    assert_int_equal(create(DFU_OBJ_COMMAND, (uint32_t)init_len), DFU_RES_SUCCESS);
    write(init, init_len);
    assert_crc_get((uint32_t)init_len, crc32_update(0, init, init_len));
    assert_int_equal(execute(), DFU_RES_SUCCESS);
}

/* Sends data objects from `from` (an object boundary) until `to`. */
static void send_data(uint32_t from, uint32_t to)
{
    for (uint32_t off = from; off < to; off += 4096) {
        uint32_t n = IMAGE_LEN - off < 4096 ? IMAGE_LEN - off : 4096;
        assert_int_equal(create(DFU_OBJ_DATA, n), DFU_RES_SUCCESS);
        write(image + off, n);
        assert_crc_get(off + n, crc32_update(0, image, off + n));
        assert_int_equal(execute(), DFU_RES_SUCCESS);
    }
}

static void load_settings(struct settings *s)
{
    settings_load(flash, s);
}

/* ---- requests ---- */

static void test_simple_requests(void **state)
{
    (void)state;
    assert_int_equal(call(DFU_OP_PROTOCOL_VERSION, NULL, 0), DFU_RES_SUCCESS);
    assert_int_equal(resp_len, 4);
    assert_int_equal(resp[3], 1);

    const uint8_t id = 0x5A;
    assert_int_equal(call(DFU_OP_PING, &id, 1), DFU_RES_SUCCESS);
    assert_int_equal(resp[3], 0x5A);

    assert_int_equal(call(DFU_OP_MTU_GET, NULL, 0), DFU_RES_SUCCESS);
    assert_int_equal(resp_len, 5);
    assert_int_equal(resp[3] | resp[4] << 8, 2051);

    const uint8_t prn0[2] = { 0, 0 };
    assert_int_equal(call(DFU_OP_RECEIPT_NOTIF_SET, prn0, 2), DFU_RES_SUCCESS);

    assert_int_equal(call(DFU_OP_HARDWARE_VERSION, NULL, 0), DFU_RES_SUCCESS);
    assert_int_equal(resp_len, 23);
    assert_int_equal(le32(resp + 3), 0x52840);
    assert_int_equal(le32(resp + 11), 0x100000);
    assert_int_equal(le32(resp + 19), 4096);

    const uint8_t image0 = 0, image1 = 1;
    assert_int_equal(call(DFU_OP_FIRMWARE_VERSION, &image0, 1), DFU_RES_SUCCESS);
    assert_int_equal(resp[3], DFU_IMAGE_BOOTLOADER);
    assert_int_equal(le32(resp + 8), DFU_BOOTLOADER_START);
    assert_int_equal(call(DFU_OP_FIRMWARE_VERSION, &image1, 1), DFU_RES_INVALID_PARAMETER);  /* no app yet */

    assert_int_equal(call(0x05, NULL, 0), DFU_RES_OP_NOT_SUPPORTED);
    assert_int_equal(call(0x42, NULL, 0), DFU_RES_OP_NOT_SUPPORTED);
    assert_int_equal(call(DFU_OP_PING, NULL, 0), DFU_RES_INVALID_PARAMETER);
    assert_int_equal(request(NULL, 0), 0);

    struct selected c = select_object(DFU_OBJ_COMMAND);
    assert_int_equal(c.max, 512);
    assert_int_equal(c.offset, 0);
    struct selected d = select_object(DFU_OBJ_DATA);
    assert_int_equal(d.max, 4096);
    assert_int_equal(d.offset, 0);
    const uint8_t bad_type = 3;
    assert_int_equal(call(DFU_OP_OBJECT_SELECT, &bad_type, 1), DFU_RES_UNSUPPORTED_TYPE);
}

/* ---- a whole update ---- */

static void test_full_update(void **state)
{
    (void)state;
    struct settings s;

    send_init();
    send_data(0, 8192);
    load_settings(&s);
    assert_false(s.app_valid);           /* not before the hash checked out */
    assert_int_equal(s.progress, 8192);
    assert_false(dfu_update_done());
    send_data(8192, IMAGE_LEN);
    assert_true(dfu_update_done());
    load_settings(&s);
    assert_true(s.app_valid);
    assert_int_equal(s.app_size, IMAGE_LEN);
    assert_memory_equal(fake_flash.mem + DFU_APP_START, image, IMAGE_LEN);
    /* the MBR page, the bootloader and the MBR params page are untouched */
    for (unsigned i = 0; i < fake_flash.erases; i++) {
        uint32_t page = fake_flash.erased[i];
        assert_true((page >= DFU_APP_START && page < DFU_APP_START + IMAGE_LEN) || page == DFU_SETTINGS_PAGE);
    }
    const uint8_t image1 = 1;
    assert_int_equal(call(DFU_OP_FIRMWARE_VERSION, &image1, 1), DFU_RES_SUCCESS);
    assert_int_equal(resp[3], DFU_IMAGE_APPLICATION);
    assert_int_equal(le32(resp + 8), DFU_APP_START);
    assert_int_equal(le32(resp + 12), IMAGE_LEN);
    /* after the reset, still valid */
    boot();
    load_settings(&s);
    assert_true(s.app_valid);
}

static void test_wrong_hash_stays_invalid(void **state)
{
    (void)state;
    struct settings s;
    struct init_spec spec = init_spec_for(image, IMAGE_LEN);
    spec.hash[0] ^= 1;
    init_len = init_build(&spec, init);

    send_init();
    send_data(0, 8192);
    assert_int_equal(create(DFU_OBJ_DATA, IMAGE_LEN - 8192), DFU_RES_SUCCESS);
    write(image + 8192, IMAGE_LEN - 8192);
    assert_int_equal(execute(), DFU_RES_EXT_ERROR);
    assert_int_equal(resp[3], DFU_EXT_VERIFICATION_FAILED);
    assert_false(dfu_update_done());
    load_settings(&s);
    assert_false(s.app_valid);
    boot();
    load_settings(&s);
    assert_false(s.app_valid);
}

static void test_new_update_invalidates_before_erasing(void **state)
{
    (void)state;
    struct settings s;

    send_init();
    send_data(0, IMAGE_LEN);
    load_settings(&s);
    assert_true(s.app_valid);

    boot();
    fake_flash.erases = 0;
    send_init();                          /* a new update: CREATE(command) */
    load_settings(&s);
    assert_false(s.app_valid);
    assert_int_equal(s.progress, 0);
    assert_int_equal(fake_flash.erases, 1);
    assert_int_equal(fake_flash.erased[0], DFU_SETTINGS_PAGE);
    send_data(0, 4096);
    assert_int_equal(fake_flash.erased[1], DFU_APP_START);
}

/* ---- errors ---- */

static void test_object_errors(void **state)
{
    (void)state;
    struct selected sel;

    assert_int_equal(create(DFU_OBJ_DATA, 4096), DFU_RES_OP_NOT_PERMITTED);   /* no init packet yet */
    assert_int_equal(create(3, 16), DFU_RES_UNSUPPORTED_TYPE);
    assert_int_equal(create(DFU_OBJ_COMMAND, 513), DFU_RES_INSUFFICIENT_RESOURCES);
    assert_int_equal(call(DFU_OP_OBJECT_CREATE, init, 3), DFU_RES_INVALID_PARAMETER);

    /* a command object executed before all of it arrived */
    assert_int_equal(create(DFU_OBJ_COMMAND, (uint32_t)init_len), DFU_RES_SUCCESS);
    write(init, init_len - 1);
    assert_int_equal(execute(), DFU_RES_INVALID_OBJECT);
    write(init + init_len - 1, 1);
    write(init, 10);                                  /* beyond the object: dropped */
    assert_crc_get((uint32_t)init_len, crc32_update(0, init, init_len));
    assert_int_equal(execute(), DFU_RES_SUCCESS);

    assert_int_equal(create(DFU_OBJ_DATA, 4097), DFU_RES_INSUFFICIENT_RESOURCES);
    assert_int_equal(create(DFU_OBJ_DATA, 100), DFU_RES_INVALID_PARAMETER);    /* short, not the last */
    assert_int_equal(create(DFU_OBJ_DATA, 4096), DFU_RES_SUCCESS);
    write(image, 1000);
    assert_int_equal(execute(), DFU_RES_INVALID_OBJECT);
    sel = select_object(DFU_OBJ_DATA);
    assert_int_equal(sel.offset, 1000);
    assert_int_equal(sel.crc, crc32_update(0, image, 1000));
    /* a host that finds a bad CRC creates the object again */
    assert_int_equal(create(DFU_OBJ_DATA, 4096), DFU_RES_SUCCESS);
    assert_crc_get(0, 0);
    write(image, 4096);
    assert_int_equal(execute(), DFU_RES_SUCCESS);
    /* ABORT drops the open object, keeps what is executed */
    assert_int_equal(create(DFU_OBJ_DATA, 4096), DFU_RES_SUCCESS);
    write(image + 4096, 10);
    assert_int_equal(call(DFU_OP_ABORT, NULL, 0), DFU_RES_SUCCESS);
    sel = select_object(DFU_OBJ_DATA);
    assert_int_equal(sel.offset, 4096);
}

static void test_bad_init_packet_refused(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, IMAGE_LEN);
    spec.hw_version = 51;
    init_len = init_build(&spec, init);

    assert_int_equal(create(DFU_OBJ_COMMAND, (uint32_t)init_len), DFU_RES_SUCCESS);
    write(init, init_len);
    assert_int_equal(execute(), DFU_RES_EXT_ERROR);
    assert_int_equal(resp_len, 4);
    assert_int_equal(resp[3], DFU_EXT_HW_VERSION_FAILURE);
    assert_int_equal(create(DFU_OBJ_DATA, 4096), DFU_RES_OP_NOT_PERMITTED);
    assert_int_equal(fake_flash.erases, 0);          /* nothing touched */

    spec = init_spec_for(image, IMAGE_LEN);
    spec.sd_req[0] = 0xFFFE;
    init_len = init_build(&spec, init);
    assert_int_equal(create(DFU_OBJ_COMMAND, (uint32_t)init_len), DFU_RES_SUCCESS);
    write(init, init_len);
    assert_int_equal(execute(), DFU_RES_EXT_ERROR);
    assert_int_equal(resp[3], DFU_EXT_SD_VERSION_FAILURE);
}

static void test_receipt_notifications(void **state)
{
    (void)state;
    const uint8_t prn2[2] = { 2, 0 };
    uint8_t req[1 + 100];

    assert_int_equal(call(DFU_OP_RECEIPT_NOTIF_SET, prn2, 2), DFU_RES_SUCCESS);
    send_init();
    assert_int_equal(create(DFU_OBJ_DATA, 4096), DFU_RES_SUCCESS);
    req[0] = DFU_OP_OBJECT_WRITE;
    memcpy(req + 1, image, 100);
    assert_int_equal(request(req, 101), 0);
    memcpy(req + 1, image + 100, 100);
    assert_int_equal(request(req, 101), 11);          /* the second write: a receipt */
    assert_int_equal(resp[1], DFU_OP_CRC_GET);
    assert_int_equal(le32(resp + 3), 200);
    assert_int_equal(le32(resp + 7), crc32_update(0, image, 200));
    memcpy(req + 1, image + 200, 100);
    assert_int_equal(request(req, 101), 0);
}

/* ---- power cuts ---- */

/* The host's resume (pc-nrfutil's recovery): SELECT shows the init packet
 * and the executed objects; it executes the init packet again without
 * creating it, and goes on from the data offset. */
static void resume_and_finish(void)
{
    struct selected c = select_object(DFU_OBJ_COMMAND);
    assert_int_equal(c.offset, init_len);
    assert_int_equal(c.crc, crc32_update(0, init, init_len));
    assert_int_equal(execute(), DFU_RES_SUCCESS);
    struct selected d = select_object(DFU_OBJ_DATA);
    assert_int_equal(d.offset % 4096 == 0 || d.offset == IMAGE_LEN, true);
    assert_int_equal(d.crc, crc32_update(0, image, d.offset));
    assert_int_equal(execute(), DFU_RES_SUCCESS);     /* re-executes the last object */
    send_data(d.offset, IMAGE_LEN);
    assert_true(dfu_update_done());
    struct settings s;
    load_settings(&s);
    assert_true(s.app_valid);
    assert_memory_equal(fake_flash.mem + DFU_APP_START, image, IMAGE_LEN);
}

static void test_resume_after_power_cut_mid_object(void **state)
{
    (void)state;
    send_init();
    send_data(0, 8192);
    assert_int_equal(create(DFU_OBJ_DATA, IMAGE_LEN - 8192), DFU_RES_SUCCESS);
    write(image + 8192, 100);
    boot();                                           /* power cut: RAM gone */
    struct settings s;
    load_settings(&s);
    assert_false(s.app_valid);
    assert_int_equal(select_object(DFU_OBJ_DATA).offset, 8192);
    resume_and_finish();
}

/* Cut the power at every flash operation of an update in turn: after each,
 * the application is not valid (DFU mode), and the update resumes. */
static void test_power_cut_at_every_flash_operation(void **state)
{
    (void)state;
    unsigned total;

    send_init();
    send_data(0, IMAGE_LEN);
    total = fake_flash.erases + fake_flash.writes;

    for (unsigned cut = 0; cut < total; cut++) {
        setup(NULL);
        fake_flash_cut_after(cut);
        /* the host keeps sending; the chip stopped at the cut */
        assert_int_equal(create(DFU_OBJ_COMMAND, (uint32_t)init_len), DFU_RES_SUCCESS);
        write(init, init_len);
        if (execute() == DFU_RES_SUCCESS) {
            for (uint32_t off = 0; off < IMAGE_LEN && !fake_flash.cut; off += 4096) {
                uint32_t n = IMAGE_LEN - off < 4096 ? IMAGE_LEN - off : 4096;
                if (create(DFU_OBJ_DATA, n) != DFU_RES_SUCCESS)
                    break;
                write(image + off, n);
                if (execute() != DFU_RES_SUCCESS)
                    break;
            }
        }
        boot();
        struct settings s;
        load_settings(&s);
        assert_false(s.app_valid);
        if (!s.has_init) {
            send_init();
            send_data(0, IMAGE_LEN);
        } else {
            resume_and_finish();
        }
        load_settings(&s);
        assert_true(s.app_valid);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_simple_requests, setup),
        cmocka_unit_test_setup(test_full_update, setup),
        cmocka_unit_test_setup(test_wrong_hash_stays_invalid, setup),
        cmocka_unit_test_setup(test_new_update_invalidates_before_erasing, setup),
        cmocka_unit_test_setup(test_object_errors, setup),
        cmocka_unit_test_setup(test_bad_init_packet_refused, setup),
        cmocka_unit_test_setup(test_receipt_notifications, setup),
        cmocka_unit_test_setup(test_resume_after_power_cut_mid_object, setup),
        cmocka_unit_test_setup(test_power_cut_at_every_flash_operation, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
