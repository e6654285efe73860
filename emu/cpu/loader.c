/* ELF32 and Intel HEX loading into the emulated flash and data RAM. */
#include "loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc.h"

struct target {
    const struct loader_target *mem;
    struct loaded_image *img;
    char *err;
    size_t errlen;
};

static bool fail(struct target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct target *t, const char *fmt, ...)
{
    if (t->err && t->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->err, t->errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Puts a context ("HEX line 12: ") in front of the reason store() gave. */
static bool prefix(struct target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool prefix(struct target *t, const char *fmt, ...)
{
    if (!t->err || !t->errlen)
        return false;
    char reason[256];
    snprintf(reason, sizeof reason, "%s", t->err);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->err, t->errlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < t->errlen)
        snprintf(t->err + n, t->errlen - (size_t)n, "%s", reason);
    return false;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum region { IN_FLASH, IN_RAM, IN_UICR };

/* The owner map covers flash, then RAM, then UICR. */
size_t loader_owner_size(uint32_t uicr_size)
{
    return (size_t)SOC_FLASH_SIZE + SOC_RAM_SIZE + uicr_size;
}

/* Host memory for [addr, addr + len) if it lies wholly in flash, in data
 * RAM or in the UICR, else NULL; *owner_index: where the range starts in the
 * owner map. */
static uint8_t *place(const struct target *t, uint32_t addr, uint64_t len, enum region *where,
                      size_t *owner_index)
{
    const struct loader_target *m = t->mem;
    uint64_t a = addr, end = a + len;
    if (end <= (uint64_t)SOC_FLASH_BASE + SOC_FLASH_SIZE) {          /* flash starts at 0 */
        *where = IN_FLASH;
        *owner_index = a - SOC_FLASH_BASE;
        return m->flash + (a - SOC_FLASH_BASE);
    }
    if (a >= SOC_RAM_BASE && end <= (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE) {
        *where = IN_RAM;
        *owner_index = SOC_FLASH_SIZE + (a - SOC_RAM_BASE);
        return m->ram + (a - SOC_RAM_BASE);
    }
    if (m->uicr && a >= m->uicr_base && end <= (uint64_t)m->uicr_base + m->uicr_size) {
        *where = IN_UICR;
        *owner_index = (size_t)SOC_FLASH_SIZE + SOC_RAM_SIZE + (a - m->uicr_base);
        return m->uicr + (a - m->uicr_base);
    }
    return NULL;
}

static bool store(struct target *t, uint32_t addr, const uint8_t *src, uint32_t len)
{
    if (len == 0)
        return true;
    enum region where;
    size_t owner_index;
    uint8_t *dst = place(t, addr, len, &where, &owner_index);
    if (!dst) {
        if (t->mem->uicr)
            return fail(t, "data at 0x%08x (%u bytes) is outside flash, RAM and UICR (flash 0x%08x-0x%08x, "
                        "RAM 0x%08x-0x%08x, UICR 0x%08x-0x%08x)", addr, len, SOC_FLASH_BASE,
                        SOC_FLASH_BASE + SOC_FLASH_SIZE - 1, SOC_RAM_BASE, SOC_RAM_BASE + SOC_RAM_SIZE - 1,
                        t->mem->uicr_base, t->mem->uicr_base + t->mem->uicr_size - 1);
        return fail(t, "data at 0x%08x (%u bytes) is outside flash and RAM (flash 0x%08x-0x%08x, "
                    "RAM 0x%08x-0x%08x)", addr, len, SOC_FLASH_BASE, SOC_FLASH_BASE + SOC_FLASH_SIZE - 1,
                    SOC_RAM_BASE, SOC_RAM_BASE + SOC_RAM_SIZE - 1);
    }
    if (t->mem->owner) {
        uint8_t *own = t->mem->owner + owner_index;
        for (uint32_t i = 0; i < len; i++)
            if (own[i] && own[i] != t->mem->image)
                return fail(t, "data at 0x%08x overlaps image %u, which already put a byte there", addr + i,
                            own[i]);
        memset(own, (int)t->mem->image, len);
    }
    memcpy(dst, src, len);
    t->img->bytes_loaded += len;
    if (where == IN_UICR)
        t->img->uicr_bytes += len;
    if (where == IN_FLASH) {
        if (t->img->flash_hi == 0 || addr < t->img->flash_lo)
            t->img->flash_lo = addr;
        if (addr + len > t->img->flash_hi)
            t->img->flash_hi = addr + len;
    }
    return true;
}

/* ---- ELF32 ---- */

#define EH_SIZE 52u
#define PH_SIZE 32u
#define SH_SIZE 40u
#define SYM_SIZE 16u
#define PT_LOAD_ 1u
#define SHT_SYMTAB_ 2u
#define SHT_STRTAB_ 3u
#define STT_FUNC_ 2u
#define EM_ARM_ 40u
#define ET_EXEC_ 2u

static bool in_file(size_t len, uint64_t off, uint64_t size)
{
    return off <= len && size <= len - off;
}

static void load_symbols(const uint8_t *d, size_t len, uint32_t shoff, unsigned shnum, unsigned shentsize,
                         struct symbols *syms)
{
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = d + shoff + (size_t)i * shentsize;
        if (rd32(sh + 4) != SHT_SYMTAB_)
            continue;
        uint32_t off = rd32(sh + 16), size = rd32(sh + 20), link = rd32(sh + 24), entsize = rd32(sh + 36);
        if (entsize == 0)
            entsize = SYM_SIZE;
        if (entsize < SYM_SIZE || !in_file(len, off, size) || link >= shnum)
            continue;
        const uint8_t *strsh = d + shoff + (size_t)link * shentsize;
        uint32_t stroff = rd32(strsh + 16), strsize = rd32(strsh + 20);
        if (rd32(strsh + 4) != SHT_STRTAB_ || !in_file(len, stroff, strsize))
            continue;
        for (uint64_t s = 0; s + SYM_SIZE <= size; s += entsize) {
            const uint8_t *sym = d + off + s;
            uint32_t name = rd32(sym), value = rd32(sym + 4), ssize = rd32(sym + 8);
            uint8_t info = sym[12];
            uint16_t shndx = rd16(sym + 14);
            if ((info & 0xF) != STT_FUNC_ || shndx == 0 || name >= strsize)
                continue;
            symbols_add(syms, value & ~1u, ssize, (const char *)d + stroff + name, strsize - name);
        }
    }
    symbols_finish(syms);
}

static bool load_elf(struct target *t, const uint8_t *d, size_t len)
{
    if (len < EH_SIZE)
        return fail(t, "ELF file too short (%zu bytes)", len);
    if (d[4] != 1)
        return fail(t, "not a 32-bit ELF file");
    if (d[5] != 1)
        return fail(t, "not a little-endian ELF file");
    if (d[6] != 1)
        return fail(t, "unknown ELF version %u", d[6]);
    if (rd16(d + 16) != ET_EXEC_)
        return fail(t, "not an ELF executable (e_type %u)", rd16(d + 16));
    if (rd16(d + 18) != EM_ARM_)
        return fail(t, "not an ARM ELF file (e_machine %u)", rd16(d + 18));
    t->img->format = IMAGE_ELF;
    t->img->entry = rd32(d + 24);
    uint32_t phoff = rd32(d + 28), shoff = rd32(d + 32);
    unsigned phentsize = rd16(d + 42), phnum = rd16(d + 44);
    unsigned shentsize = rd16(d + 46), shnum = rd16(d + 48);
    if (phnum == 0)
        return fail(t, "ELF file has no program headers");
    if (phentsize < PH_SIZE || !in_file(len, phoff, (uint64_t)phentsize * phnum))
        return fail(t, "ELF program header table out of bounds");
    unsigned loads = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (size_t)i * phentsize;
        if (rd32(ph) != PT_LOAD_)
            continue;
        uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12), filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        if (!in_file(len, off, filesz))
            return fail(t, "ELF segment %u: file data [0x%x, +0x%x) out of bounds of the file", i, off, filesz);
        if (filesz == 0)
            continue;                       /* .bss-like: nothing to load */
        if (!store(t, paddr, d + off, filesz))
            return prefix(t, "ELF segment %u at 0x%08x (%u bytes): ", i, paddr, filesz);
        enum region where;
        size_t owner_index;
        if (memsz > filesz && place(t, paddr, memsz, &where, &owner_index) && where == IN_RAM)
            memset(t->mem->ram + (paddr - SOC_RAM_BASE) + filesz, 0, memsz - filesz);
        loads++;
    }
    if (loads == 0)
        return fail(t, "ELF file has no loadable data");
    if (shnum && shentsize >= SH_SIZE && in_file(len, shoff, (uint64_t)shentsize * shnum)) {
        t->img->symbols = symbols_new();
        if (t->img->symbols)
            load_symbols(d, len, shoff, shnum, shentsize, t->img->symbols);
    }
    return true;
}

/* ---- Intel HEX ---- */

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool load_hex(struct target *t, const uint8_t *d, size_t len)
{
    t->img->format = IMAGE_HEX;
    uint32_t base = 0;
    bool eof = false;
    unsigned line = 0;
    size_t i = 0;
    uint8_t rec[5 + 255 + 1];

    while (i < len && !eof) {
        line++;
        size_t start = i;
        while (i < len && d[i] != '\n')
            i++;
        size_t end = i;
        i++;                                 /* past '\n' */
        while (end > start && (d[end - 1] == '\r' || d[end - 1] == ' ' || d[end - 1] == '\t'))
            end--;
        while (start < end && (d[start] == ' ' || d[start] == '\t'))
            start++;
        if (start == end)
            continue;
        if (d[start] != ':')
            return fail(t, "HEX line %u: does not start with ':'", line);
        size_t nhex = end - start - 1;
        if (nhex % 2 || nhex < 10 || nhex > 2 * sizeof rec)
            return fail(t, "HEX line %u: bad record length", line);
        size_t nbytes = nhex / 2;
        uint8_t sum = 0;
        for (size_t k = 0; k < nbytes; k++) {
            int hi = hexval(d[start + 1 + 2 * k]), lo = hexval(d[start + 2 + 2 * k]);
            if (hi < 0 || lo < 0)
                return fail(t, "HEX line %u: not a hex digit", line);
            rec[k] = (uint8_t)(hi << 4 | lo);
            sum = (uint8_t)(sum + rec[k]);
        }
        unsigned count = rec[0];
        if (nbytes != 5u + count)
            return fail(t, "HEX line %u: byte count %u does not match the record", line, count);
        if (sum != 0)
            return fail(t, "HEX line %u: checksum mismatch", line);
        uint16_t offset = (uint16_t)(rec[1] << 8 | rec[2]);
        const uint8_t *data = rec + 4;
        switch (rec[3]) {
        case 0x00: {
            /* offsets wrap within the 64 KiB segment */
            uint32_t first = count <= 0x10000u - offset ? count : 0x10000u - offset;
            if (!store(t, base + offset, data, first) || !store(t, base, data + first, count - first))
                return prefix(t, "HEX line %u: ", line);
            break;
        }
        case 0x01:
            if (count != 0)
                return fail(t, "HEX line %u: end-of-file record with data", line);
            eof = true;
            break;
        case 0x02:
            if (count != 2)
                return fail(t, "HEX line %u: bad extended segment address record", line);
            base = (uint32_t)(data[0] << 8 | data[1]) << 4;
            break;
        case 0x03:
            if (count != 4)
                return fail(t, "HEX line %u: bad start segment address record", line);
            t->img->entry = ((uint32_t)(data[0] << 8 | data[1]) << 4) + (uint32_t)(data[2] << 8 | data[3]);
            break;
        case 0x04:
            if (count != 2)
                return fail(t, "HEX line %u: bad extended linear address record", line);
            base = (uint32_t)(data[0] << 8 | data[1]) << 16;
            break;
        case 0x05:
            if (count != 4)
                return fail(t, "HEX line %u: bad start linear address record", line);
            t->img->entry = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
            break;
        default:
            return fail(t, "HEX line %u: unknown record type 0x%02x", line, rec[3]);
        }
    }
    if (!eof)
        return fail(t, "HEX file has no end-of-file record");
    return true;
}

bool loader_load_into(const uint8_t *data, size_t len, const struct loader_target *mem,
                      struct loaded_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct target t = { mem, out, err, errlen };
    if (err && errlen)
        err[0] = '\0';
    bool ok;
    if (len >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0) {
        ok = load_elf(&t, data, len);
    } else {
        size_t i = 0;
        while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        if (i < len && data[i] == ':')
            ok = load_hex(&t, data, len);
        else
            ok = fail(&t, "neither an ELF file nor Intel HEX");
    }
    if (ok && out->flash_hi == 0 && out->uicr_bytes == 0)
        ok = fail(&t, "the image puts nothing in flash (no vector table)");
    if (!ok) {
        symbols_free(out->symbols);
        out->symbols = NULL;
        return false;
    }
    out->vector_base = out->flash_lo;
    return true;
}

bool loader_load_buffer(const uint8_t *data, size_t len, uint8_t *flash, uint8_t *ram,
                        struct loaded_image *out, char *err, size_t errlen)
{
    const struct loader_target mem = { .flash = flash, .ram = ram };
    return loader_load_into(data, len, &mem, out, err, errlen);
}

bool loader_load_file(const char *path, uint8_t *flash, uint8_t *ram,
                      struct loaded_image *out, char *err, size_t errlen)
{
    const struct loader_target mem = { .flash = flash, .ram = ram };
    return loader_load_file_into(path, &mem, out, err, errlen);
}

bool loader_load_file_into(const char *path, const struct loader_target *mem,
                           struct loaded_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    uint8_t *buf = malloc(LOADER_MAX_FILE + 1);
    size_t len = buf ? fread(buf, 1, LOADER_MAX_FILE + 1, f) : 0;
    bool read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        snprintf(err, errlen, "cannot read %s", path);
        free(buf);
        return false;
    }
    if (len > LOADER_MAX_FILE) {
        snprintf(err, errlen, "%s is larger than %u MiB", path, LOADER_MAX_FILE >> 20);
        free(buf);
        return false;
    }
    bool ok = loader_load_into(buf, len, mem, out, err, errlen);
    free(buf);
    return ok;
}
