/* The bootloader's init packet decoder and checks (firmware/bootloader/
 * init_packet.c): a good packet as hosts encode it, then each refusal with
 * the extended error Nordic's open bootloader gives for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "init_builder.h"
#include "init_packet.h"

static const uint8_t image[100] = { 1, 2, 3 };
static uint8_t packet[512];

static enum dfu_ext_error decode_and_check(const struct init_spec *spec)
{
    struct init_packet p;
    size_t len = init_build(spec, packet);
    enum dfu_ext_error e = init_packet_decode(packet, len, &p);
    return e != DFU_EXT_NO_ERROR ? e : init_packet_check(&p, DFU_APP_MAX_SIZE);
}

static enum dfu_ext_error decode_raw(const uint8_t *bytes, size_t len)
{
    struct init_packet p;
    return init_packet_decode(bytes, len, &p);
}

static void test_good_packet(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);
    struct init_packet p;
    size_t len = init_build(&spec, packet);

    assert_int_equal(init_packet_decode(packet, len, &p), DFU_EXT_NO_ERROR);
    assert_int_equal(init_packet_check(&p, DFU_APP_MAX_SIZE), DFU_EXT_NO_ERROR);
    assert_int_equal(p.hw_version, 52);
    assert_int_equal(p.app_size, sizeof image);
    assert_int_equal(p.hash_type, DFU_HASH_TYPE_SHA256);
    assert_int_equal(p.hash_len, 32);
    assert_memory_equal(p.hash, spec.hash, 32);
    assert_true(p.sd_req_present && p.sd_req_has_none);
}

static void test_sd_req_forms(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);

    spec.sd_req_count = 0;                         /* absent: fine */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_NO_ERROR);
    spec.sd_req_count = 2;                         /* 0xFFFE and 0x00, packed */
    spec.sd_req[0] = 0xFFFE;
    spec.sd_req[1] = 0;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_NO_ERROR);
    spec.sd_req_unpacked = true;                   /* the same, one field each */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_NO_ERROR);
    spec.sd_req_count = 1;                         /* pc-nrfutil's default alone */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_SD_VERSION_FAILURE);
    spec.sd_req_unpacked = false;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_SD_VERSION_FAILURE);
}

static void test_hw_version(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);

    spec.hw_version = 51;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_HW_VERSION_FAILURE);
    spec.has_hw_version = false;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_HW_VERSION_FAILURE);
    spec.is_debug = true;                          /* a debug packet skips the check */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_NO_ERROR);
    spec.has_hw_version = true;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_NO_ERROR);
}

static void test_type(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);

    spec.has_type = false;                         /* 0 must be encoded all the same */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INIT_COMMAND_INVALID);
    spec.has_type = true;
    spec.type = 1;                                 /* SOFTDEVICE */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INIT_COMMAND_INVALID);
}

static void test_app_size(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);

    spec.has_app_size = false;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INIT_COMMAND_INVALID);
    spec.has_app_size = true;
    spec.app_size = 0;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INIT_COMMAND_INVALID);
    spec.app_size = DFU_APP_MAX_SIZE;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_NO_ERROR);
    spec.app_size = DFU_APP_MAX_SIZE + 1;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INSUFFICIENT_SPACE);
}

static void test_hash(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);

    spec.hash_len = 31;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INIT_COMMAND_INVALID);
    spec.hash_len = 33;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_INIT_COMMAND_INVALID);
    spec.hash_len = 32;
    spec.hash_type = 2;                            /* SHA-128? not SHA-256 */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_WRONG_HASH_TYPE);
    spec.has_hash = false;
    assert_int_equal(decode_and_check(&spec), DFU_EXT_WRONG_HASH_TYPE);
}

static void test_command_shape(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);

    spec.op_code = 0;                              /* RESET */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_UNKNOWN_COMMAND);
    spec.op_code = DFU_PB_OP_CODE_INIT;
    spec.signed_command = true;                    /* no signatures here */
    assert_int_equal(decode_and_check(&spec), DFU_EXT_WRONG_COMMAND_FORMAT);
    assert_int_equal(decode_raw(packet, 0), DFU_EXT_WRONG_COMMAND_FORMAT);
}

static void test_malformed(void **state)
{
    (void)state;
    struct init_spec spec = init_spec_for(image, sizeof image);
    size_t len = init_build(&spec, packet);

    /* every truncation of a good packet is refused, never read past */
    for (size_t cut = 1; cut < len; cut++) {
        uint8_t *copy = malloc(cut);               /* exact size: ASan/valgrind see overreads */
        memcpy(copy, packet, cut);
        assert_int_not_equal(decode_raw(copy, cut), DFU_EXT_NO_ERROR);
        free(copy);
    }
    /* a varint that never ends, and one of 11 bytes */
    static const uint8_t endless[] = { 0x0A, 0x80, 0x80, 0x80 };
    assert_int_equal(decode_raw(endless, sizeof endless), DFU_EXT_WRONG_COMMAND_FORMAT);
    static const uint8_t too_long[] = { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    assert_int_equal(decode_raw(too_long, sizeof too_long), DFU_EXT_WRONG_COMMAND_FORMAT);
    /* a length beyond the packet */
    static const uint8_t overlong[] = { 0x0A, 0x7F, 0x08, 0x01 };
    assert_int_equal(decode_raw(overlong, sizeof overlong), DFU_EXT_WRONG_COMMAND_FORMAT);
    /* a fixed32 field (wire type 5) */
    static const uint8_t fixed32[] = { 0x0D, 1, 2, 3, 4 };
    assert_int_equal(decode_raw(fixed32, sizeof fixed32), DFU_EXT_WRONG_COMMAND_FORMAT);
    /* hw_version above 32 bits */
    static const uint8_t wide[] = { 0x0A, 0x0B, 0x08, 0x01, 0x12, 0x07, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    assert_int_equal(decode_raw(wide, sizeof wide), DFU_EXT_WRONG_COMMAND_FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_packet),
        cmocka_unit_test(test_sd_req_forms),
        cmocka_unit_test(test_hw_version),
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_app_size),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_command_shape),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
