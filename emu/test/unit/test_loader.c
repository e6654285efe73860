/* The image loader (ELF and Intel HEX) and the symbol table, including
 * malformed input that must be refused without touching memory outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loader.h"
#include "soc.h"
#include "symbols.h"

static uint8_t *flash, *ram;

static int setup(void **state)
{
    (void)state;
    flash = malloc(SOC_FLASH_SIZE);
    ram = calloc(1, SOC_RAM_SIZE);
    memset(flash, 0xFF, SOC_FLASH_SIZE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(flash);
    free(ram);
    return 0;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* A small ELF: header, 2 program headers, code bytes, .data bytes, and a
 * symbol table with two functions and an object. */
enum { EH = 0, PH = 52, CODE = 116, DATA = 132, STR = 140, SYM = 168, SH = 232, ELF_LEN = SH + 4 * 40 };

static size_t make_elf(uint8_t *e)
{
    memset(e, 0, ELF_LEN);
    memcpy(e, "\x7f" "ELF", 4);
    e[4] = 1; e[5] = 1; e[6] = 1;
    put16(e + 16, 2);                        /* ET_EXEC */
    put16(e + 18, 40);                       /* EM_ARM */
    put32(e + 20, 1);
    put32(e + 24, 0x1009);                   /* entry */
    put32(e + 28, PH);
    put32(e + 32, SH);
    put16(e + 40, 52);
    put16(e + 42, 32);
    put16(e + 44, 2);
    put16(e + 46, 40);
    put16(e + 48, 4);
    /* segment 0: code at 0x1000 */
    uint8_t *ph = e + PH;
    put32(ph, 1); put32(ph + 4, CODE); put32(ph + 8, 0x1000); put32(ph + 12, 0x1000);
    put32(ph + 16, 16); put32(ph + 20, 16);
    /* segment 1: .data, VMA in RAM, LMA after the code */
    ph += 32;
    put32(ph, 1); put32(ph + 4, DATA); put32(ph + 8, 0x20000000); put32(ph + 12, 0x1010);
    put32(ph + 16, 8); put32(ph + 20, 8);
    for (int i = 0; i < 16; i++)
        e[CODE + i] = (uint8_t)(0xA0 + i);
    for (int i = 0; i < 8; i++)
        e[DATA + i] = (uint8_t)(0x50 + i);
    memcpy(e + STR, "\0reset_handler\0main\0table", 26);
    /* symbols: null, reset_handler (FUNC, Thumb), main (FUNC), table (OBJECT) */
    uint8_t *s = e + SYM + 16;
    put32(s, 1); put32(s + 4, 0x1009); put32(s + 8, 6); s[12] = 0x12; put16(s + 14, 1);
    s += 16;
    put32(s, 15); put32(s + 4, 0x1001); put32(s + 8, 8); s[12] = 0x12; put16(s + 14, 1);
    s += 16;
    put32(s, 20); put32(s + 4, 0x1000); put32(s + 8, 0); s[12] = 0x11; put16(s + 14, 1);
    /* sections: null, .text, .symtab (link 3), .strtab */
    uint8_t *sh = e + SH + 40;
    put32(sh + 4, 1); put32(sh + 16, CODE); put32(sh + 20, 16);
    sh += 40;
    put32(sh + 4, 2); put32(sh + 16, SYM); put32(sh + 20, 64); put32(sh + 24, 3); put32(sh + 36, 16);
    sh += 40;
    put32(sh + 4, 3); put32(sh + 16, STR); put32(sh + 20, 26);
    return ELF_LEN;
}

static bool load(const void *data, size_t len, struct loaded_image *img, char *err)
{
    return loader_load_buffer(data, len, flash, ram, img, err, 200);
}

static void test_elf(void **state)
{
    (void)state;
    uint8_t e[ELF_LEN];
    struct loaded_image img;
    char err[200];
    assert_true(load(e, make_elf(e), &img, err));
    assert_int_equal(img.format, IMAGE_ELF);
    assert_int_equal(img.vector_base, 0x1000);
    assert_int_equal(img.flash_lo, 0x1000);
    assert_int_equal(img.flash_hi, 0x1018);
    assert_int_equal(img.entry, 0x1009);
    assert_int_equal(flash[0x1000], 0xA0);
    assert_int_equal(flash[0x1017], 0x57);
    assert_int_equal(flash[0xFFF], 0xFF);
    assert_int_equal(ram[0], 0);                                 /* loaded at the LMA, not the VMA */
    assert_int_equal(symbols_count(img.symbols), 2);              /* functions only */
    uint32_t off;
    assert_string_equal(symbols_lookup(img.symbols, 0x100A, &off), "reset_handler");
    assert_int_equal(off, 2);
    assert_string_equal(symbols_lookup(img.symbols, 0x1000, &off), "main");
    assert_string_equal(symbols_lookup(img.symbols, 0x1008, &off), "reset_handler");
    assert_string_equal(symbols_lookup(img.symbols, 0x1010, &off), "?");   /* past its size */
    symbols_free(img.symbols);
}

static void expect_refused(const uint8_t *data, size_t len, const char *needle)
{
    struct loaded_image img;
    char err[200];
    assert_false(load(data, len, &img, err));
    assert_null(img.symbols);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void expect_refused_str(const char *text, const char *needle)
{
    expect_refused((const uint8_t *)text, strlen(text), needle);
}

static void test_elf_malformed(void **state)
{
    (void)state;
    uint8_t e[ELF_LEN], bad[ELF_LEN];
    size_t len = make_elf(e);

    expect_refused(e, 30, "too short");
    memcpy(bad, e, len); bad[4] = 2;
    expect_refused(bad, len, "32-bit");
    memcpy(bad, e, len); put16(bad + 18, 3);
    expect_refused(bad, len, "not an ARM");
    memcpy(bad, e, len); put32(bad + 28, 0xFFFFFFF0u);
    expect_refused(bad, len, "program header");
    memcpy(bad, e, len); put16(bad + 44, 0xFFFF);
    expect_refused(bad, len, "program header");
    memcpy(bad, e, len); put32(bad + PH + 4, 0xFFFFFFF0u);   /* data offset past the file */
    expect_refused(bad, len, "out of bounds");
    memcpy(bad, e, len); put32(bad + PH + 16, 0x7FFFFFFFu);  /* size past the file */
    expect_refused(bad, len, "out of bounds");
    memcpy(bad, e, len); put32(bad + PH + 12, 0x30000000u);  /* neither flash nor RAM */
    expect_refused(bad, len, "outside flash and RAM");
    memcpy(bad, e, len); put32(bad + PH + 12, 0x000FFFF8u);  /* runs off the end of flash */
    expect_refused(bad, len, "outside flash and RAM");
    memcpy(bad, e, len); put32(bad + PH + 12, 0xFFFFFFF8u);  /* wraps around */
    expect_refused(bad, len, "outside flash and RAM");
    memcpy(bad, e, len); put32(bad + PH, 0); put32(bad + PH + 32, 0);
    expect_refused(bad, len, "no loadable");
    /* only RAM: no vector table */
    memcpy(bad, e, len); put32(bad + PH, 0); put32(bad + PH + 32 + 12, 0x20000100);
    expect_refused(bad, len, "nothing in flash");
    /* a broken symbol table is ignored, the image still loads */
    memcpy(bad, e, len); put32(bad + SH + 80 + 16, 0xFFFFFF00u);
    struct loaded_image img;
    char err[200];
    assert_true(load(bad, len, &img, err));
    assert_int_equal(symbols_count(img.symbols), 0);
    symbols_free(img.symbols);
    memcpy(bad, e, len); put32(bad + SYM + 16, 0xFFFF);      /* name offset past .strtab */
    assert_true(load(bad, len, &img, err));
    assert_int_equal(symbols_count(img.symbols), 1);
    symbols_free(img.symbols);
    expect_refused_str("hello", "neither");
}

static void test_hex(void **state)
{
    (void)state;
    const char *hex =
        ":020000040000FA\r\n"
        ":10100000000102030405060708090A0B0C0D0E0F68\r\n"
        ":020000042000DA\n"
        ":04001000DEADBEEFB4\n"
        ":020000021000EC\n"                  /* segment 0x1000 -> base 0x10000 */
        ":02000000AA55FF\n"
        ":0400000500001009DE\n"
        ":00000001FF\n";
    struct loaded_image img;
    char err[200];
    if (!load(hex, strlen(hex), &img, err))
        fail_msg("%s", err);
    assert_int_equal(img.format, IMAGE_HEX);
    assert_int_equal(img.vector_base, 0x1000);
    assert_int_equal(img.entry, 0x1009);
    assert_int_equal(flash[0x1000], 0x00);
    assert_int_equal(flash[0x100F], 0x0F);
    assert_int_equal(ram[0x10], 0xDE);
    assert_int_equal(ram[0x13], 0xEF);
    assert_int_equal(flash[0x10000], 0xAA);
    assert_int_equal(flash[0x10001], 0x55);
    assert_null(img.symbols);
    assert_string_equal(symbols_lookup(img.symbols, 0x1000, NULL), "?");
}

static void test_hex_malformed(void **state)
{
    (void)state;
    expect_refused_str(":10100000000102030405060708090A0B0C0D0E0F69\n:00000001FF\n", "checksum");
    expect_refused_str(":0400000001020304F2\n", "end-of-file");
    expect_refused_str(":04000000010203G4F2\n:00000001FF\n", "hex digit");
    expect_refused_str(":0500000001020304F2\n:00000001FF\n", "byte count");
    expect_refused_str(":020000043000CA\n:0100000001FE\n:00000001FF\n", "outside flash and RAM");
    expect_refused_str(":00000007F9\n:00000001FF\n", "record type");
    expect_refused_str(":0100\n", "record length");
    expect_refused_str(":00000001FF\n", "nothing in flash");
}

/* UICR records (Nordic's MBR + boot loader HEX carries NRFFW[0] and [1])
 * land in the UICR bytes the chip gives, as if programmed. */
static void test_hex_uicr(void **state)
{
    (void)state;
    static uint8_t uicr[0x1000];
    memset(uicr, 0xFF, sizeof uicr);
    const struct loader_target mem = { .flash = flash, .ram = ram, .uicr = uicr, .uicr_base = 0x10001000u,
                                       .uicr_size = sizeof uicr };
    const char *hex =
        ":080000000010002009010000BE\n"             /* vector table at 0 */
        ":020000041000EA\n"
        ":0810140000000E0000E00F00D7\n"             /* NRFFW[0] = 0xE0000, NRFFW[1] = 0xFE000 */
        ":0412000012000000D8\n"                     /* PSELRESET[0] = 18 */
        ":04130400FCFFFFFFEC\n"                     /* REGOUT0 = 3.0 V */
        ":00000001FF\n";
    struct loaded_image img;
    char err[200];
    if (!loader_load_into((const uint8_t *)hex, strlen(hex), &mem, &img, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(img.uicr_bytes, 16);
    assert_int_equal(img.vector_base, 0);
    assert_memory_equal(uicr + 0x14, "\x00\x00\x0E\x00\x00\xE0\x0F\x00", 8);
    assert_int_equal(uicr[0x200], 18);
    assert_int_equal(uicr[0x304], 0xFC);
    assert_int_equal(uicr[0x13], 0xFF);                      /* untouched */
    /* without a UICR (loader_load_buffer) such a record is refused */
    assert_false(load(hex, strlen(hex), &img, err));
    assert_non_null(strstr(err, "HEX line 3: data at 0x10001014 (8 bytes) is outside flash and RAM"));
    /* past the UICR window */
    const char *beyond = ":080000000010002009010000BE\n:020000041000EA\n:0420000001020304D2\n:00000001FF\n";
    assert_false(loader_load_into((const uint8_t *)beyond, strlen(beyond), &mem, &img, err, sizeof err));
    assert_non_null(strstr(err, "outside flash, RAM and UICR"));
    /* a HEX with only UICR records is an image too (another gives the vector table) */
    const char *only = ":020000041000EA\n:0412000012000000D8\n:00000001FF\n";
    assert_true(loader_load_into((const uint8_t *)only, strlen(only), &mem, &img, err, sizeof err));
}

/* Two images into one memory: the second may not write a byte the first
 * wrote (the owner map), whatever the formats. */
static void test_overlap(void **state)
{
    (void)state;
    static uint8_t owner[0x100000 + 0x40000 + 0x1000];
    static uint8_t uicr[0x1000];
    memset(owner, 0, sizeof owner);
    struct loader_target mem = { .flash = flash, .ram = ram, .uicr = uicr, .uicr_base = 0x10001000u,
                                 .uicr_size = sizeof uicr, .owner = owner, .image = 1 };
    assert_int_equal(loader_owner_size(sizeof uicr), sizeof owner);
    uint8_t e[ELF_LEN];
    size_t len = make_elf(e);                                /* 0x1000..0x1017 */
    struct loaded_image img;
    char err[200];
    assert_true(loader_load_into(e, len, &mem, &img, err, sizeof err));
    symbols_free(img.symbols);
    mem.image = 2;
    const char *apart = ":080000000010002009010000BE\n:00000001FF\n";      /* 0x0..0x7 */
    assert_true(loader_load_into((const uint8_t *)apart, strlen(apart), &mem, &img, err, sizeof err));
    mem.image = 3;
    const char *into_first = ":02100000AABB89\n:00000001FF\n";                 /* 0x1000 */
    assert_false(loader_load_into((const uint8_t *)into_first, strlen(into_first), &mem, &img, err, sizeof err));
    assert_non_null(strstr(err, "HEX line 1: data at 0x00001000 overlaps image 1"));
    const char *into_second = ":02000400AABB95\n:00000001FF\n";                /* 0x4 */
    assert_false(loader_load_into((const uint8_t *)into_second, strlen(into_second), &mem, &img, err, sizeof err));
    assert_non_null(strstr(err, "data at 0x00000004 overlaps image 2"));
    /* an image may write its own bytes twice (a HEX with repeated records) */
    mem.image = 4;
    const char *twice = ":02300000AABB69\n:02300000AABB69\n:00000001FF\n";
    if (!loader_load_into((const uint8_t *)twice, strlen(twice), &mem, &img, err, sizeof err))
        fail_msg("%s", err);
}

static void test_symbols(void **state)
{
    (void)state;
    struct symbols *s = symbols_new();
    assert_true(symbols_add(s, 0x2000, 0x10, "b", 10));
    assert_true(symbols_add(s, 0x1000, 0x20, "a", 10));
    assert_true(symbols_add(s, 0x1000, 0, "a_alias", 10));
    assert_true(symbols_add(s, 0x3000, 0, "label", 10));
    assert_true(symbols_add(s, 0x4000, 4, "truncated_name", 5));
    assert_false(symbols_add(s, 0x5000, 4, "", 5));
    symbols_finish(s);
    uint32_t off;
    assert_string_equal(symbols_lookup(s, 0x1004, &off), "a");
    assert_int_equal(off, 4);
    assert_string_equal(symbols_lookup(s, 0x0FFF, &off), "?");
    assert_string_equal(symbols_lookup(s, 0x1020, &off), "?");
    assert_string_equal(symbols_lookup(s, 0x200F, &off), "b");
    assert_string_equal(symbols_lookup(s, 0x3100, &off), "label");
    assert_string_equal(symbols_lookup(s, 0x4000, &off), "trunc");
    assert_string_equal(symbols_lookup(NULL, 0x1000, &off), "?");
    uint32_t addr;
    assert_true(symbols_find(s, "b", &addr));
    assert_int_equal(addr, 0x2000);
    assert_false(symbols_find(s, "nope", &addr));
    symbols_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_elf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex_uicr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbols, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
