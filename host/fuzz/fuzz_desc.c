/* libFuzzer target for everything in libhilda that reads device data: the
 * descriptor parser, the validator and both printers (text and JSON).
 *
 * Input: byte 0 chooses how the rest is read (mod 4):
 *   0  a usbfs-style blob (the 18-byte device descriptor, then configurations)
 *   1  a BOS descriptor, beside the hilda device descriptor
 *   2  one string descriptor (as a string, and as string 0's LANGID list)
 *   3  a whole descriptor set as read from a device, in records:
 *      tag, length (2 bytes, little-endian), bytes; tags: 0 device,
 *      1 configuration (up to 8), 2 BOS, 3 string 0, 4 string (its first
 *      byte is the index), 5 device qualifier, 6 GET_STATUS, 7 speed
 *      (first byte, enum libusb_speed), 8 other-speed configuration,
 *      9 active configuration (first byte)
 * host/fuzz/make_corpus.py writes the seed corpus in this format. */
#include <libusb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc.h"
#include "descprint.h"
#include "descset.h"
#include "setups.h"
#include "json.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* ASan's default quarantine (256 MB) keeps each freed chunk from reuse until
 * it is full, so every input's ~80 allocations landed on fresh pages: page
 * faults and their zeroing were almost half of the CPU time (perf; the
 * figures are in docs/campaigns.md). 16 MB still holds the frees of the last
 * ~1800 inputs, so a use after free within an input is still caught.
 * ASAN_OPTIONS in the environment overrides this. */
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}

static FILE *sink(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    return f;
}

static void put(struct hilda_raw *r, const uint8_t *p, size_t n)
{
    free(r->data);
    r->data = malloc(n ? n : 1);   /* exactly n: ASan sees any read past it */
    if (!r->data) {
        r->present = false;
        return;
    }
    if (n)
        memcpy(r->data, p, n);
    r->len = n;
    r->present = true;
}

static void exercise(struct hilda_desc_set *s)
{
    struct hilda_findings f;
    hilda_findings_init(&f);
    hilda_validate(s, &f);
    FILE *out = sink();
    if (out) {
        hilda_print_desc_set(out, s, true);
        hilda_print_findings(out, &f);
    }
    json_decref(hilda_json_desc_set(s));
    json_decref(hilda_json_findings(&f));
    uint8_t refs[HILDA_SET_STRINGS_MAX];
    hilda_desc_set_string_refs(s, refs, HILDA_SET_STRINGS_MAX);
    hilda_findings_free(&f);
}

static const uint8_t hilda_device[18] = {
    0x12, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x40, 0x09, 0x12, 0x01, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x01,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 4;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    /* a copy of exactly n bytes, so reads past the end are caught */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    if (n)
        memcpy(copy, p, n);
    struct hilda_desc_set s;
    hilda_desc_set_init(&s);
    switch (mode) {
    case 0: {
        struct hilda_findings f;
        hilda_findings_init(&f);
        hilda_desc_set_from_blob(&s, copy, n, &f);
        hilda_findings_free(&f);
        exercise(&s);
        break;
    }
    case 1:
        s.from_device = true;
        s.speed = LIBUSB_SPEED_FULL;
        put(&s.device, hilda_device, sizeof hilda_device);
        put(&s.bos, copy, n);
        exercise(&s);
        break;
    case 2: {
        char text[USB_DT_STRING_MAX * 4];
        uint16_t langs[16];
        struct hilda_findings f;
        hilda_findings_init(&f);
        hilda_parse_string(copy, n, "string", text, sizeof text, &f);
        hilda_parse_langids(copy, n, langs, 16, &f);
        hilda_findings_free(&f);
        json_decref(hj_str(text));
        break;
    }
    default: {
        s.from_device = true;
        size_t off = 0;
        while (off + 3 <= n) {
            uint8_t tag = copy[off];
            size_t len = (size_t)(copy[off + 1] | copy[off + 2] << 8);
            off += 3;
            if (len > n - off)
                len = n - off;
            const uint8_t *v = copy + off;
            switch (tag) {
            case 0: put(&s.device, v, len); break;
            case 1:
                if (s.n_configs < HILDA_SET_CONFIGS_MAX)
                    put(&s.configs[s.n_configs++], v, len);
                break;
            case 2: put(&s.bos, v, len); break;
            case 3: put(&s.string0, v, len); break;
            case 4:
                if (len >= 1 && s.n_strings < HILDA_SET_STRINGS_MAX) {
                    struct hilda_string_entry *x = &s.strings[s.n_strings++];
                    x->index = v[0];
                    x->langid = HILDA_LANGID_EN_US;
                    put(&x->raw, v + 1, len - 1);
                }
                break;
            case 5: put(&s.qualifier, v, len); break;
            case 6: put(&s.status, v, len); break;
            case 7:
                if (len)
                    s.speed = v[0] % 6;
                break;
            case 8: put(&s.other_speed, v, len); break;
            case 9:
                if (len)
                    s.active_config = v[0];
                break;
            default: break;
            }
            off += len;
        }
        exercise(&s);
        break;
    }
    }
    hilda_desc_set_free(&s);
    free(copy);
    return 0;
}
