#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu_package.h"
#include "hilda/dfu.h"
#include "hilda/protocol.h"
#include "hilda/usb.h"

/* nRF52840 memory map (Product Specification, "Memory"): what an image may
 * hold. Flash at 0, UICR at 0x10001000 (a page of configuration words). */
#define FLASH_END   DFU_FLASH_SIZE
#define UICR_START  0x10001000u
#define UICR_END    0x10002000u
#define RAM_START   0x20000000u
#define RAM_END     0x20040000u

/* A file is turned into segments, then into one block. */
struct segment {
    uint32_t addr;
    const uint8_t *bytes;
    size_t len;
};

struct builder {
    struct segment *segs;
    size_t count, cap;
    uint8_t *owned;           /* HEX data is decoded into this buffer */
    size_t owned_len;
    bool has_uicr;
};

static enum hilda_status add_segment(struct builder *b, uint32_t addr, const uint8_t *bytes, size_t len,
                                     struct hilda_error *e)
{
    if (len == 0)
        return HILDA_OK;
    uint64_t end = (uint64_t)addr + len;
    if (addr >= UICR_START && end <= UICR_END) {
        b->has_uicr = true;
        return HILDA_OK;
    }
    if (end > FLASH_END)
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the image has data at 0x%08X..0x%08llX, outside the nRF52840's 1 MiB of flash and UICR",
                          addr, (unsigned long long)end - 1);
    if (b->count == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        struct segment *s = realloc(b->segs, cap * sizeof *s);
        if (!s)
            return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory reading the image");
        b->segs = s;
        b->cap = cap;
    }
    b->segs[b->count++] = (struct segment){ addr, bytes, len };
    return HILDA_OK;
}

static enum hilda_status flatten(struct builder *b, struct hilda_image *out, struct hilda_error *e)
{
    if (b->count == 0)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the image holds no bytes for flash");
    uint32_t lo = UINT32_MAX;
    uint64_t hi = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (b->segs[i].addr < lo)
            lo = b->segs[i].addr;
        if (b->segs[i].addr + (uint64_t)b->segs[i].len > hi)
            hi = b->segs[i].addr + (uint64_t)b->segs[i].len;
    }
    size_t len = (size_t)(hi - lo);
    uint8_t *data = malloc(len);
    if (!data)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory reading the image");
    memset(data, 0xFF, len);
    for (size_t i = 0; i < b->count; i++) {
        uint8_t *dst = data + (b->segs[i].addr - lo);
        for (size_t j = 0; j < b->segs[i].len; j++) {
            if (dst[j] != 0xFF && dst[j] != b->segs[i].bytes[j]) {
                free(data);
                return hilda_fail(e, HILDA_ERR_IMAGE, "the image writes two different values at 0x%08zX",
                                  (size_t)b->segs[i].addr + j);
            }
            dst[j] = b->segs[i].bytes[j];
        }
    }
    out->start = lo;
    out->data = data;
    out->len = len;
    out->has_uicr = b->has_uicr;
    return HILDA_OK;
}

static void builder_free(struct builder *b)
{
    free(b->segs);
    free(b->owned);
}

/* ELF32 little-endian ARM: the PT_LOAD segments at their physical (load)
 * address, as a programmer writes them to flash. */
static enum hilda_status parse_elf(const uint8_t *p, size_t n, struct builder *b, struct hilda_error *e)
{
    enum { EHDR = 52, PHDR = 32, PT_LOAD = 1, EM_ARM = 40 };
    if (n < EHDR || p[4] != 1 /* ELFCLASS32 */ || p[5] != 1 /* little-endian */)
        return hilda_fail(e, HILDA_ERR_IMAGE, "not a 32-bit little-endian ELF file (an nRF52840 image is one)");
    if (usb_get_le16(p + 18) != EM_ARM)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the ELF file is not for ARM (e_machine %u)", usb_get_le16(p + 18));
    uint32_t phoff = usb_get_le32(p + 28);
    unsigned phentsize = usb_get_le16(p + 42), phnum = usb_get_le16(p + 44);
    if (phentsize < PHDR || phoff > n || (uint64_t)phnum * phentsize > n - phoff)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the ELF file's program headers lie outside the file");
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = p + phoff + (size_t)i * phentsize;
        uint32_t type = usb_get_le32(ph), offset = usb_get_le32(ph + 4), paddr = usb_get_le32(ph + 12);
        uint32_t filesz = usb_get_le32(ph + 16);
        if (type != PT_LOAD || filesz == 0)
            continue;
        if (offset > n || filesz > n - offset)
            return hilda_fail(e, HILDA_ERR_IMAGE, "ELF segment %u lies outside the file", i);
        /* .data's load image sits in flash (paddr) and runs in RAM (vaddr):
         * only segments loaded into RAM with nothing in flash are skipped. */
        if (paddr >= RAM_START && paddr < RAM_END)
            continue;
        enum hilda_status st = add_segment(b, paddr, p + offset, filesz, e);
        if (st)
            return st;
    }
    return HILDA_OK;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Intel HEX: data (00), end of file (01), extended segment (02) and linear
 * (04) addresses; start addresses (03, 05) say where execution begins and
 * carry nothing for flash. Every record's checksum is checked. */
static enum hilda_status parse_hex(const uint8_t *p, size_t n, struct builder *b, struct hilda_error *e)
{
    b->owned = malloc(n / 2 + 1);
    if (!b->owned)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory reading the image");
    uint32_t base = 0;
    unsigned line = 1;
    bool ended = false;
    size_t i = 0;
    while (i < n && !ended) {
        for (; i < n && (p[i] == '\r' || p[i] == '\n' || p[i] == ' ' || p[i] == '\t'); i++)
            line += p[i] == '\n';
        if (i >= n)
            break;
        if (p[i] != ':')
            return hilda_fail(e, HILDA_ERR_IMAGE, "Intel HEX line %u does not start with ':'", line);
        i++;
        uint8_t rec[5 + 255];
        size_t got = 0;
        while (i + 1 < n && hex_digit(p[i]) >= 0 && hex_digit(p[i + 1]) >= 0 && got < sizeof rec) {
            rec[got++] = (uint8_t)(hex_digit(p[i]) << 4 | hex_digit(p[i + 1]));
            i += 2;
        }
        if (got < 5 || got != 5u + rec[0])
            return hilda_fail(e, HILDA_ERR_IMAGE, "Intel HEX line %u is truncated or has a wrong length byte", line);
        uint8_t sum = 0;
        for (size_t k = 0; k < got; k++)
            sum = (uint8_t)(sum + rec[k]);
        if (sum != 0)
            return hilda_fail(e, HILDA_ERR_IMAGE, "Intel HEX line %u has a bad checksum", line);
        unsigned len = rec[0], type = rec[3];
        uint32_t offset = (uint32_t)rec[1] << 8 | rec[2];
        switch (type) {
        case 0x00: {
            uint8_t *dst = b->owned + b->owned_len;
            memcpy(dst, rec + 4, len);
            b->owned_len += len;
            enum hilda_status st = add_segment(b, base + offset, dst, len, e);
            if (st)
                return st;
            break;
        }
        case 0x01: ended = true; break;
        case 0x02:
            if (len != 2)
                return hilda_fail(e, HILDA_ERR_IMAGE, "Intel HEX line %u: a segment address record needs 2 bytes", line);
            base = ((uint32_t)rec[4] << 8 | rec[5]) << 4;
            break;
        case 0x04:
            if (len != 2)
                return hilda_fail(e, HILDA_ERR_IMAGE, "Intel HEX line %u: a linear address record needs 2 bytes", line);
            base = ((uint32_t)rec[4] << 8 | rec[5]) << 16;
            break;
        case 0x03:
        case 0x05: break;
        default: return hilda_fail(e, HILDA_ERR_IMAGE, "Intel HEX line %u has unknown record type %02X", line, type);
        }
    }
    if (!ended)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the Intel HEX file has no end-of-file record (truncated?)");
    return HILDA_OK;
}

static enum hilda_image_format sniff(const uint8_t *p, size_t n)
{
    if (n >= 4 && memcmp(p, "\x7f" "ELF", 4) == 0)
        return HILDA_IMAGE_ELF;
    if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
        return HILDA_IMAGE_PACKAGE;
    if (n >= 1 && p[0] == ':')
        return HILDA_IMAGE_HEX;
    return HILDA_IMAGE_BIN;
}

enum hilda_status hilda_image_parse(const uint8_t *bytes, size_t len, enum hilda_image_format format,
                                    uint32_t bin_address, struct hilda_image *out, struct hilda_error *e)
{
    memset(out, 0, sizeof *out);
    if (format == HILDA_IMAGE_AUTO)
        format = sniff(bytes, len);
    struct builder b = { 0 };
    enum hilda_status st;
    switch (format) {
    case HILDA_IMAGE_ELF: st = parse_elf(bytes, len, &b, e); break;
    case HILDA_IMAGE_HEX: st = parse_hex(bytes, len, &b, e); break;
    case HILDA_IMAGE_BIN:
        if (len > HILDA_IMAGE_MAX)
            st = hilda_fail(e, HILDA_ERR_IMAGE, "the binary is %zu bytes, more than the chip's 1 MiB of flash", len);
        else
            st = add_segment(&b, bin_address, bytes, len, e);
        break;
    default:
        st = hilda_fail(e, HILDA_ERR_IMAGE, "an nRF DFU package must be read from its file");
        break;
    }
    if (!st)
        st = flatten(&b, out, e);
    builder_free(&b);
    out->format = format;
    return st;
}

static enum hilda_status read_file(const char *path, uint8_t **bytes, size_t *len, struct hilda_error *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hilda_fail(e, HILDA_ERR_IMAGE, "cannot open the image %s: %s", path, strerror(errno));
    size_t cap = 64 * 1024, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= 16u * HILDA_IMAGE_MAX) {
                free(buf);
                fclose(f);
                return hilda_fail(e, HILDA_ERR_IMAGE, "%s is too large to be an nRF52840 image", path);
            }
            uint8_t *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory reading %s", path);
    if (failed) {
        free(buf);
        return hilda_fail(e, HILDA_ERR_IMAGE, "cannot read the image %s (is it a directory?)", path);
    }
    *bytes = buf;
    *len = n;
    return HILDA_OK;
}

enum hilda_status hilda_image_load(const char *path, enum hilda_image_format format, uint32_t bin_address,
                                   struct hilda_image *out, struct hilda_error *e)
{
    memset(out, 0, sizeof *out);
    uint8_t *bytes = NULL;
    size_t len = 0;
    enum hilda_status st = read_file(path, &bytes, &len, e);
    if (st)
        return st;
    if (format == HILDA_IMAGE_AUTO)
        format = sniff(bytes, len);
    if (format == HILDA_IMAGE_BIN && bin_address == UINT32_MAX)
        st = hilda_fail(e, HILDA_ERR_USAGE, "%s is a flat binary: say where it goes with --address (0x1000 for a "
                        "dongle application)", path);
    else if (format == HILDA_IMAGE_PACKAGE)
        st = hilda_dfu_package_read(path, out, e);
    else
        st = hilda_image_parse(bytes, len, format, bin_address, out, e);
    free(bytes);
    return st;
}

enum hilda_status hilda_image_check_application(const struct hilda_image *img, struct hilda_error *e)
{
    if (img->start < DFU_APP_START)
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the image starts at 0x%08X, inside the MBR page (0x0000-0x0FFF): a dongle application is "
                          "linked at 0x1000 (use the dongle linker script)", img->start);
    if (img->start != DFU_APP_START)
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the image starts at 0x%08X, not at 0x1000 where the dongle's bootloader starts "
                          "applications", img->start);
    if (img->start + (uint64_t)img->len > DFU_BOOTLOADER_START)
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the image ends at 0x%08llX, past 0x%05X where the bootloader lives: it is %zu bytes, "
                          "at most %u fit", (unsigned long long)(img->start + img->len - 1), DFU_BOOTLOADER_START,
                          img->len, DFU_BOOTLOADER_START - DFU_APP_START);
    if (img->has_uicr)
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the image also writes UICR registers (0x10001000..), which a DFU update cannot write: "
                          "flash it over SWD, or leave UICR out of the image");
    if (img->len < 8)
        return hilda_fail(e, HILDA_ERR_IMAGE, "the image is %zu bytes: too short to hold a vector table", img->len);
    uint32_t sp = usb_get_le32(img->data), reset = usb_get_le32(img->data + 4);
    if (sp < RAM_START || sp > RAM_END || (sp & 3))
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the word at 0x1000 (0x%08X) is not an initial stack pointer in RAM: this is not a vector "
                          "table, so the image is not linked for 0x1000", sp);
    if (!(reset & 1) || reset < img->start || reset >= img->start + img->len)
        return hilda_fail(e, HILDA_ERR_IMAGE,
                          "the reset vector (0x%08X) does not point into the image's Thumb code", reset);
    return HILDA_OK;
}

bool hilda_image_git_hash(const struct hilda_image *img, uint32_t *git_hash)
{
    for (size_t i = 0; i + sizeof(struct hilda_image_info) <= img->len; i += 4) {
        const uint8_t *p = img->data + i;
        if (usb_get_le32(p) == HILDA_IMAGE_INFO_MAGIC0 && usb_get_le32(p + 4) == HILDA_IMAGE_INFO_MAGIC1) {
            *git_hash = usb_get_le32(p + 8 + offsetof(struct hilda_version, git_hash));
            return true;
        }
    }
    return false;
}

const char *hilda_image_format_name(enum hilda_image_format format)
{
    static const char *const names[] = { "auto", "ELF", "Intel HEX", "binary", "nRF DFU package" };
    return (unsigned)format < sizeof names / sizeof names[0] ? names[format] : "?";
}

void hilda_image_free(struct hilda_image *img)
{
    free(img->data);
    free(img->init_packet);
    memset(img, 0, sizeof *img);
}
