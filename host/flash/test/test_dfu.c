/* The Secure DFU client against an in-memory peer that behaves as Nordic's
 * open bootloader does (fake_bootloader.h): a whole update, sizes taken from
 * the peer's answers, a CRC mismatch recovered by sending the object again,
 * resumes after a power cut at any point, and refusals turned into sentences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfu.h"
#include "dfu_init.h"
#include "fake_bootloader.h"
#include "hilda/dfu.h"

#define IMAGE_LEN (3 * 4096 + 1234)

static uint8_t image[IMAGE_LEN];
static uint8_t *init_packet;
static size_t init_len;

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7 + (i >> 8));
    struct hilda_error e;
    return hilda_dfu_init_encode(image, sizeof image, DFU_HW_VERSION_NRF52840, &init_packet, &init_len, &e);
}

static int teardown(void **state)
{
    (void)state;
    free(init_packet);
    return 0;
}

static enum hilda_status update(struct fake_bootloader *b, const struct hilda_dfu_options *o,
                                struct hilda_dfu_report *r, struct hilda_dfu_refusal *refusal, struct hilda_error *e)
{
    struct hilda_dfu_transport t = fake_bootloader_transport(b);
    return hilda_dfu_update(&t, init_packet, init_len, image, sizeof image, o, r, refusal, e);
}

static void test_full_update(void **state)
{
    (void)state;
    static struct fake_bootloader b;
    fake_bootloader_init(&b);
    struct hilda_dfu_options o = { 0 };
    struct hilda_dfu_report r;
    struct hilda_error e = { 0 };
    assert_int_equal(update(&b, &o, &r, NULL, &e), HILDA_OK);
    assert_true(b.app_valid);
    assert_memory_equal(b.flash, image, sizeof image);
    assert_int_equal(r.mtu, 2051);
    assert_int_equal(r.chunk, 1024);          /* (2051 - 1) / 2 - 1 */
    assert_int_equal(r.command_max, 512);
    assert_int_equal(r.data_max, 4096);
    assert_int_equal(r.objects, 4);
    assert_int_equal(r.crc_retries, 0);
    assert_int_equal(r.resumed_from, 0);
    /* 4 data objects of at most 4 writes each, plus the init packet's one */
    assert_int_equal(b.writes, 4 + 4 + 4 + 2 + 1);
}

static void test_crc_mismatch_is_sent_again(void **state)
{
    (void)state;
    static struct fake_bootloader b;
    fake_bootloader_init(&b);
    struct hilda_dfu_options o = { .corrupt_object = 2 };
    struct hilda_dfu_report r;
    struct hilda_error e = { 0 };
    assert_int_equal(update(&b, &o, &r, NULL, &e), HILDA_OK);
    assert_int_equal(r.crc_retries, 1);
    assert_true(b.app_valid);
    assert_memory_equal(b.flash, image, sizeof image);
}

static void test_resume_after_power_cut(void **state)
{
    (void)state;
    /* cut the line at many points: before, inside and after each object */
    static const long cuts[] = { 10, 200, 900, 3000, 4200, 5000, 6000, 9000, 12000, 13000 };
    for (int partial = 0; partial < 2; partial++) {
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            static struct fake_bootloader b;
            fake_bootloader_init(&b);
            b.keeps_partial = partial;
            b.cut_after_bytes = cuts[i];
            struct hilda_dfu_options o = { 0 };
            struct hilda_dfu_report r;
            struct hilda_error e = { 0 };
            enum hilda_status st = update(&b, &o, &r, NULL, &e);
            assert_int_equal(st, HILDA_ERR_NO_DEVICE);
            assert_false(b.app_valid);
            fake_bootloader_restart(&b);
            size_t had = b.data_offset;
            st = update(&b, &o, &r, NULL, &e);
            if (st)
                fail_msg("cut at %ld (partial %d): %s", cuts[i], partial, e.message);
            assert_true(b.app_valid);
            assert_memory_equal(b.flash, image, sizeof image);
            if (had >= 4096)
                assert_true(r.resumed_from > 0);
            assert_true(r.resumed_from <= had);
        }
    }
}

static void test_hardware_version_refused(void **state)
{
    (void)state;
    static struct fake_bootloader b;
    fake_bootloader_init(&b);
    b.hw_version = 51;
    struct hilda_dfu_options o = { 0 };
    struct hilda_dfu_report r;
    struct hilda_dfu_refusal refusal;
    struct hilda_error e = { 0 };
    assert_int_equal(update(&b, &o, &r, &refusal, &e), HILDA_ERR_DFU);
    assert_int_equal(refusal.opcode, DFU_OP_OBJECT_EXECUTE);
    assert_int_equal(refusal.result, DFU_RES_EXT_ERROR);
    assert_int_equal(refusal.ext_error, DFU_EXT_HW_VERSION_FAILURE);
    assert_non_null(strstr(e.message, "different hardware"));
    assert_int_equal(b.writes, 1);           /* nothing of the image was sent */
}

static void test_hash_mismatch_refused_at_last_execute(void **state)
{
    (void)state;
    static struct fake_bootloader b;
    fake_bootloader_init(&b);
    /* an init packet announcing other bytes than the ones sent */
    uint8_t *other;
    size_t other_len;
    struct hilda_error e = { 0 };
    image[100] ^= 0xFF;
    assert_int_equal(hilda_dfu_init_encode(image, sizeof image, 52, &other, &other_len, &e), HILDA_OK);
    image[100] ^= 0xFF;
    struct hilda_dfu_transport t = fake_bootloader_transport(&b);
    struct hilda_dfu_options o = { 0 };
    struct hilda_dfu_report r;
    struct hilda_dfu_refusal refusal;
    assert_int_equal(hilda_dfu_update(&t, other, other_len, image, sizeof image, &o, &r, &refusal, &e), HILDA_ERR_DFU);
    assert_int_equal(refusal.ext_error, DFU_EXT_VERIFICATION_FAILED);
    assert_non_null(strstr(e.message, "does not match the hash"));
    assert_false(b.app_valid);
    free(other);
}

static void test_silent_bootloader_times_out(void **state)
{
    (void)state;
    static struct fake_bootloader b;
    fake_bootloader_init(&b);
    b.cut_after_bytes = 0;
    b.dead = false;
    struct hilda_dfu_transport t = fake_bootloader_transport(&b);
    struct hilda_error e = { 0 };
    assert_int_not_equal(hilda_dfu_ping(&t, 3, &e), HILDA_OK);
}

static void test_sentences(void **state)
{
    (void)state;
    assert_string_equal(hilda_dfu_opcode_name(DFU_OP_OBJECT_EXECUTE), "OBJECT_EXECUTE");
    assert_non_null(strstr(hilda_dfu_result_sentence(DFU_RES_EXT_ERROR, DFU_EXT_SD_VERSION_FAILURE), "SoftDevice"));
    assert_non_null(strstr(hilda_dfu_result_sentence(DFU_RES_INSUFFICIENT_RESOURCES, 0), "resources"));
    assert_non_null(strstr(hilda_dfu_result_sentence(0x7F, 0), "does not know"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_update),
        cmocka_unit_test(test_crc_mismatch_is_sent_again),
        cmocka_unit_test(test_resume_after_power_cut),
        cmocka_unit_test(test_hardware_version_refused),
        cmocka_unit_test(test_hash_mismatch_refused_at_last_execute),
        cmocka_unit_test(test_silent_bootloader_times_out),
        cmocka_unit_test(test_sentences),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
