/* Firmware images: the project's own dongle image read as ELF and as Intel
 * HEX gives the same bytes; the checks made before an update refuse what a
 * dongle must never receive; malformed files get a sentence, not a crash;
 * an nrfutil package is read and its init packet checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zip.h>

#include "dfu_init.h"
#include "dfu_package.h"
#include "hilda/dfu.h"
#include "image.h"

static const char *dongle_elf, *dongle_hex, *bare_elf;

static void load(const char *path, struct hilda_image *img)
{
    struct hilda_error e = { 0 };
    enum hilda_status st = hilda_image_load(path, HILDA_IMAGE_AUTO, UINT32_MAX, img, &e);
    if (st)
        fail_msg("%s: %s", path, e.message);
}

static void test_elf_and_hex_agree(void **state)
{
    (void)state;
    struct hilda_image elf, hex;
    load(dongle_elf, &elf);
    load(dongle_hex, &hex);
    assert_int_equal(elf.format, HILDA_IMAGE_ELF);
    assert_int_equal(hex.format, HILDA_IMAGE_HEX);
    assert_int_equal(elf.start, DFU_APP_START);
    assert_int_equal(hex.start, elf.start);
    assert_int_equal(hex.len, elf.len);
    assert_memory_equal(hex.data, elf.data, elf.len);
    struct hilda_error e;
    assert_int_equal(hilda_image_check_application(&elf, &e), HILDA_OK);
    hilda_image_free(&elf);
    hilda_image_free(&hex);
}

static void test_git_hash_from_image_info(void **state)
{
    (void)state;
    struct hilda_image img;
    load(dongle_elf, &img);
    uint32_t hash = 0;
    /* The firmware keeps a hilda_image_info block; the hash is whatever the
     * build had (0 outside git), the block itself must be there. */
    assert_true(hilda_image_git_hash(&img, &hash));
    hilda_image_free(&img);
}

static void test_bare_image_refused(void **state)
{
    (void)state;
    struct hilda_image img;
    load(bare_elf, &img);
    assert_int_equal(img.start, 0);
    struct hilda_error e;
    assert_int_equal(hilda_image_check_application(&img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "MBR"));
    hilda_image_free(&img);
}

static enum hilda_status parse(const char *text, struct hilda_image *img, struct hilda_error *e)
{
    return hilda_image_parse((const uint8_t *)text, strlen(text), HILDA_IMAGE_AUTO, UINT32_MAX, img, e);
}

static void test_hex_errors(void **state)
{
    (void)state;
    struct hilda_image img;
    struct hilda_error e;
    /* bad checksum */
    assert_int_equal(parse(":0400000001020304F1\n:00000001FF\n", &img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "checksum"));
    /* no end-of-file record */
    assert_int_equal(parse(":0400000001020304F2\n", &img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "end-of-file"));
    /* length byte lies */
    assert_int_equal(parse(":0800000001020304F2\n:00000001FF\n", &img, &e), HILDA_ERR_IMAGE);
    /* garbage line, reported with its number */
    assert_int_equal(parse(":0400000001020304F2\nhello\n", &img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "line 2"));
    /* data past the end of flash */
    assert_int_equal(parse(":020000040010EA\n:0400000001020304F2\n:00000001FF\n", &img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "outside"));
}

static void test_hex_uicr_is_noted(void **state)
{
    (void)state;
    struct hilda_image img;
    struct hilda_error e;
    /* one flash record at 0x1000, one UICR word at 0x10001014 (like Nordic's images) */
    const char *text = ":0410000000000020CC\n"
                       ":020000041000EA\n"
                       ":0410140000000E00CA\n"
                       ":00000001FF\n";
    assert_int_equal(parse(text, &img, &e), HILDA_OK);
    assert_true(img.has_uicr);
    assert_int_equal(img.start, 0x1000);
    assert_int_equal(img.len, 4);
    assert_int_equal(hilda_image_check_application(&img, &e), HILDA_ERR_IMAGE);
    hilda_image_free(&img);
}

static void test_binary_checks(void **state)
{
    (void)state;
    struct hilda_image img;
    struct hilda_error e;
    uint8_t bin[64] = { 0 };
    /* SP 0x20001000, reset handler 0x1009 (Thumb) */
    const uint8_t vectors[8] = { 0x00, 0x10, 0x00, 0x20, 0x09, 0x10, 0x00, 0x00 };
    memcpy(bin, vectors, sizeof vectors);
    assert_int_equal(hilda_image_parse(bin, sizeof bin, HILDA_IMAGE_BIN, 0x1000, &img, &e), HILDA_OK);
    assert_int_equal(hilda_image_check_application(&img, &e), HILDA_OK);
    hilda_image_free(&img);
    /* the same bytes at the wrong address */
    assert_int_equal(hilda_image_parse(bin, sizeof bin, HILDA_IMAGE_BIN, 0x2000, &img, &e), HILDA_OK);
    assert_int_equal(hilda_image_check_application(&img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "0x00002000"));
    hilda_image_free(&img);
    /* no vector table at 0x1000 */
    bin[3] = 0x00;
    assert_int_equal(hilda_image_parse(bin, sizeof bin, HILDA_IMAGE_BIN, 0x1000, &img, &e), HILDA_OK);
    assert_int_equal(hilda_image_check_application(&img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "stack pointer"));
    hilda_image_free(&img);
}

static void test_too_large_for_the_application_area(void **state)
{
    (void)state;
    size_t len = DFU_BOOTLOADER_START - DFU_APP_START + 4;
    uint8_t *bin = calloc(1, len);
    const uint8_t vectors[8] = { 0x00, 0x10, 0x00, 0x20, 0x09, 0x10, 0x00, 0x00 };
    memcpy(bin, vectors, sizeof vectors);
    struct hilda_image img;
    struct hilda_error e;
    assert_int_equal(hilda_image_parse(bin, len, HILDA_IMAGE_BIN, 0x1000, &img, &e), HILDA_OK);
    assert_int_equal(hilda_image_check_application(&img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "bootloader"));
    hilda_image_free(&img);
    free(bin);
}

static void test_missing_file_and_directory(void **state)
{
    (void)state;
    struct hilda_image img;
    struct hilda_error e;
    assert_int_equal(hilda_image_load("/nonexistent/app.hex", HILDA_IMAGE_AUTO, UINT32_MAX, &img, &e),
                     HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "cannot open"));
    assert_int_equal(hilda_image_load("/tmp", HILDA_IMAGE_AUTO, UINT32_MAX, &img, &e), HILDA_ERR_IMAGE);
}

/* Writes an nrfutil-style package of the dongle image into a temporary zip. */
static void make_package(const char *path, const struct hilda_image *app, bool corrupt_hash)
{
    uint8_t *init;
    size_t init_len;
    struct hilda_error e;
    assert_int_equal(hilda_dfu_init_encode(app->data, app->len, DFU_HW_VERSION_NRF52840, &init, &init_len, &e), 0);
    if (corrupt_hash)
        init[init_len - 5] ^= 0xFF;    /* inside the hash bytes, before is_debug */
    static const char manifest[] = "{\"manifest\": {\"application\": {\"bin_file\": \"app.bin\", "
                                   "\"dat_file\": \"app.dat\"}}}";
    int err;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(z);
    zip_source_t *s1 = zip_source_buffer(z, manifest, strlen(manifest), 0);
    zip_source_t *s2 = zip_source_buffer(z, app->data, app->len, 0);
    zip_source_t *s3 = zip_source_buffer(z, init, init_len, 0);
    assert_true(zip_file_add(z, "manifest.json", s1, 0) >= 0);
    assert_true(zip_file_add(z, "app.bin", s2, 0) >= 0);
    assert_true(zip_file_add(z, "app.dat", s3, 0) >= 0);
    assert_int_equal(zip_close(z), 0);
    free(init);
}

static void test_package(void **state)
{
    (void)state;
    struct hilda_image app, pkg;
    load(dongle_elf, &app);
    char path[] = "/tmp/hilda-test-pkg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    make_package(path, &app, false);
    load(path, &pkg);
    assert_int_equal(pkg.format, HILDA_IMAGE_PACKAGE);
    assert_int_equal(pkg.start, DFU_APP_START);
    assert_int_equal(pkg.len, app.len);
    assert_memory_equal(pkg.data, app.data, app.len);
    assert_non_null(pkg.init_packet);
    struct hilda_dfu_init init;
    struct hilda_error e;
    assert_int_equal(hilda_dfu_init_decode(pkg.init_packet, pkg.init_len, &init, &e), HILDA_OK);
    assert_int_equal(init.hw_version, DFU_HW_VERSION_NRF52840);
    assert_true(init.has_type);
    assert_true(init.sd_req_none);
    assert_int_equal(init.app_size, app.len);
    assert_int_equal(hilda_dfu_init_check(&init, pkg.data, pkg.len, DFU_HW_VERSION_NRF52840, &e), HILDA_OK);
    /* wrong hardware */
    assert_int_equal(hilda_dfu_init_check(&init, pkg.data, pkg.len, 51, &e), HILDA_ERR_IMAGE);
    hilda_image_free(&pkg);

    make_package(path, &app, true);
    load(path, &pkg);
    assert_int_equal(hilda_dfu_init_decode(pkg.init_packet, pkg.init_len, &init, &e), HILDA_OK);
    assert_int_equal(hilda_dfu_init_check(&init, pkg.data, pkg.len, DFU_HW_VERSION_NRF52840, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "SHA-256"));
    hilda_image_free(&pkg);
    unlink(path);
    hilda_image_free(&app);
}

static void test_package_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/hilda-test-pkg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    static const char manifest[] = "{\"manifest\": {\"bootloader\": {\"bin_file\": \"bl.bin\", \"dat_file\": \"bl.dat\"}}}";
    int err;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_true(zip_file_add(z, "manifest.json", zip_source_buffer(z, manifest, strlen(manifest), 0), 0) >= 0);
    assert_int_equal(zip_close(z), 0);
    struct hilda_image img;
    struct hilda_error e;
    assert_int_equal(hilda_image_load(path, HILDA_IMAGE_AUTO, UINT32_MAX, &img, &e), HILDA_ERR_IMAGE);
    assert_non_null(strstr(e.message, "bootloader update"));
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DONGLE.elf DONGLE.hex BARE.elf\n", argv[0]);
        return 2;
    }
    dongle_elf = argv[1];
    dongle_hex = argv[2];
    bare_elf = argv[3];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_and_hex_agree),
        cmocka_unit_test(test_git_hash_from_image_info),
        cmocka_unit_test(test_bare_image_refused),
        cmocka_unit_test(test_hex_errors),
        cmocka_unit_test(test_hex_uicr_is_noted),
        cmocka_unit_test(test_binary_checks),
        cmocka_unit_test(test_too_large_for_the_application_area),
        cmocka_unit_test(test_missing_file_and_directory),
        cmocka_unit_test(test_package),
        cmocka_unit_test(test_package_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
