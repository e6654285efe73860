/* Chapter 9 checks of the string descriptors (USBCV TD 9.8, usbtest 10 #12)
 * and of the BOS (TD 9.7, usbtest 9 and 10 #15). One function per registry
 * entry; 9.8-string-N reports one result per string the descriptors name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch9_battery.h"
#include "findings.h"
#include "validate.h"

/* LANGIDs for asking in a language string 0 does not offer: Spanish (modern
 * sort), or German when Spanish is the device's own. */
#define LANGID_SPANISH_MODERN 0x0C0A
#define LANGID_GERMAN         0x0407

CH9_CHECK(ch9_string0)
{
    ch9_strings(c);
    if (c->fatal)
        return;
    enum hilda_status st = c->strings.st;
    const uint8_t *s0 = c->strings.s0;
    size_t n0 = c->strings.n0;
    bool has_strings = c->dd.iManufacturer || c->dd.iProduct || c->dd.iSerialNumber;
    if (st == HILDA_ERR_STALL)
        ch9_add(c, k, has_strings ? HILDA_FAIL : HILDA_PASS, "%s",
                has_strings ? "STALL, but the device descriptor refers to strings" : "no strings: STALL is right");
    else if (st)
        ch9_add(c, k, HILDA_FAIL, "%s", c->strings.e.message);
    else if (n0 < 4 || s0[0] != n0 || n0 % 2 || s0[1] != USB_DT_STRING)
        ch9_add(c, k, HILDA_FAIL, "%zu bytes, bLength %u, type 0x%02X", n0, n0 ? s0[0] : 0, n0 > 1 ? s0[1] : 0);
    else
        ch9_add(c, k, c->strings.lang ? HILDA_PASS : HILDA_FAIL, "%zu LANGIDs, the first 0x%04X", (n0 - 2) / 2,
                c->strings.lang);
}

CH9_CHECK(ch9_string0_short)
{
    ch9_strings(c);
    size_t n0 = c->strings.n0;
    if (c->strings.st == HILDA_OK && n0 >= 4)
        ch9_expect_read(c, k, USB_DT_STRING, 0, 9, n0 < 9 ? n0 : 9, c->strings.s0);
}

static void check_string(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint8_t index)
{
    char id[32], title[96];
    snprintf(id, sizeof id, "9.8-string-%u", index);
    snprintf(title, sizeof title, "string %u: bLength = bytes returned, even, type 3, UTF-16", index);
    const struct hilda_ch9_check one = { id, title, k->run, k->stage };
    if (!ch9_wanted(c, id))
        return;
    uint8_t b[USB_DT_STRING_MAX];
    size_t n;
    struct hilda_error e;
    if (ch9_req(c, hilda_setup_get_descriptor(USB_DT_STRING, index, c->strings.lang, sizeof b), b, &n, &e)) {
        ch9_add(c, &one, HILDA_FAIL, "%s", e.message);
        return;
    }
    struct hilda_findings f;
    hilda_findings_init(&f);
    char text[USB_DT_STRING_MAX * 3];
    hilda_parse_string(b, n, id, text, sizeof text, &f);
    if (hilda_findings_count(&f, HILDA_SEV_WARNING))
        ch9_add(c, &one, hilda_findings_count(&f, HILDA_SEV_ERROR) ? HILDA_FAIL : HILDA_WARN, "%s: %s", f.v[0].id,
                f.v[0].message);
    else
        ch9_add(c, &one, HILDA_PASS, "%zu bytes, %zu characters", n, (n - 2) / 2);
    hilda_findings_free(&f);
}

CH9_CHECK(ch9_string_each)
{
    ch9_strings(c);
    for (size_t i = 0; i < c->strings.nrefs && !c->fatal; i++)
        check_string(c, k, c->strings.refs[i]);
}

/* USB 2.0 §9.4.3 makes these request errors; many devices answer anyway, hence warnings. */
CH9_CHECK(ch9_string_missing)
{
    ch9_strings(c);
    uint8_t highest = c->strings.highest;
    if (c->fatal || c->strings.n0 < 4 || highest == 255)
        return;
    uint8_t b[USB_DT_STRING_MAX];
    size_t n;
    struct hilda_error e;
    enum hilda_status st = ch9_req(
        c, hilda_setup_get_descriptor(USB_DT_STRING, (uint8_t)(highest + 1), c->strings.lang, sizeof b), b, &n, &e);
    char why[200];
    if (st == HILDA_ERR_STALL)
        ch9_add(c, k, ch9_recovers(c, why, sizeof why) ? HILDA_PASS : HILDA_FAIL, "string %u: STALL", highest + 1);
    else if (st == HILDA_OK)
        ch9_add(c, k, HILDA_WARN, "string %u answered %zu bytes although no descriptor refers to it", highest + 1, n);
    else if (!c->fatal)
        ch9_add(c, k, HILDA_FAIL, "%s", e.message);
}

CH9_CHECK(ch9_string_langid)
{
    ch9_strings(c);
    if (c->fatal || !c->strings.nrefs)
        return;
    uint8_t b[USB_DT_STRING_MAX];
    size_t n;
    struct hilda_error e;
    uint16_t other = c->strings.lang == LANGID_SPANISH_MODERN ? LANGID_GERMAN : LANGID_SPANISH_MODERN;
    uint8_t index = c->strings.refs[0];
    enum hilda_status st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_STRING, index, other, sizeof b), b, &n, &e);
    if (st == HILDA_ERR_STALL)
        ch9_add(c, k, HILDA_PASS, "LANGID 0x%04X: STALL", other);
    else if (st == HILDA_OK)
        ch9_add(c, k, HILDA_WARN, "LANGID 0x%04X is not offered but string %u answered anyway", other, index);
    else if (!c->fatal)
        ch9_add(c, k, HILDA_FAIL, "%s", e.message);
}

/* ---- TD 9.7: BOS ---- */

/* Reads the whole BOS (the header says how long) and validates it. */
static void check_bos_whole(struct hilda_ch9 *c, const struct hilda_ch9_check *k, uint16_t total)
{
    struct hilda_error e;
    uint8_t *b = malloc(total ? total : 1);
    size_t bn = 0;
    if (!b || ch9_req(c, hilda_setup_get_descriptor(USB_DT_BOS, 0, 0, total), b, &bn, &e) != HILDA_OK ||
        bn != total) {
        ch9_add(c, k, HILDA_FAIL, "reading %u bytes of BOS returned %zu", total, bn);
        free(b);
        return;
    }
    struct hilda_findings f;
    struct hilda_desc_set bs;
    hilda_findings_init(&f);
    hilda_desc_set_init(&bs);
    bs.bos.present = true;
    bs.bos.data = b;
    bs.bos.len = bn;
    hilda_validate(&bs, &f);   /* also complains about the missing device descriptor: */
    size_t errors = hilda_findings_count(&f, HILDA_SEV_ERROR) - 1;
    if (errors)
        ch9_add(c, k, HILDA_FAIL, "%zu errors in the BOS (see `hilda desc`)", errors);
    else
        ch9_add(c, k, HILDA_PASS, "%zu bytes, well-formed", bn);
    hilda_findings_free(&f);
    free(b);
}

CH9_CHECK(ch9_bos)
{
    if (c->dd.bcdUSB < HILDA_BCD_USB_BOS) {
        const struct hilda_ch9_check old = { k->id, "bcdUSB < 0x0201: GET_DESCRIPTOR(BOS) must STALL", k->run,
                                             k->stage };
        ch9_expect_stall(c, &old, hilda_setup_get_descriptor(USB_DT_BOS, 0, 0, 255), false);
        return;
    }
    uint8_t h[USB_DT_BOS_SIZE];
    size_t n = 0;
    struct hilda_error e;
    enum hilda_status st = ch9_req(c, hilda_setup_get_descriptor(USB_DT_BOS, 0, 0, sizeof h), h, &n, &e);
    if (c->fatal)
        return;
    if (st)
        ch9_add(c, k, HILDA_FAIL, "%s", e.message);
    else if (n != USB_DT_BOS_SIZE)
        ch9_add(c, k, HILDA_FAIL, "the 5-byte header read returned %zu bytes", n);
    else
        check_bos_whole(c, k, hilda_le16(h, n, 2));
}
