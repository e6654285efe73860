#include "ch9.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc.h"
#include "descset.h"
#include "validate.h"
#include "xfer.h"

#define IO_TIMEOUT_MS 300      /* bulk I/O that must fail at once (halted) or finds nothing waiting */
#define MAX_EPS 30

static const char host_refused[] =
    "the host OS refused the request before it reached the device (Linux usbfs passes interface and endpoint "
    "requests only for the active configuration)";

struct ch9 {
    struct hilda_device *d;
    const struct hilda_ch9_options *o;
    struct hilda_checks *out;
    struct hilda_device_desc dd;
    uint8_t *cfg;            /* configuration 0, full */
    size_t cfg_len;
    struct hilda_desc_list cl;
    uint8_t eps[MAX_EPS];    /* bulk and interrupt endpoints of the first configuration */
    unsigned neps;
    unsigned n_interfaces;
    uint8_t cfg_value;
    bool hilda;              /* the hilda firmware: its loopback can be used */
    bool fatal;
    struct hilda_error err;
    bool claimed;
};

/* --only 9.1 selects 9.1-device..., not 9.10-...: a prefix ends at '-' or '.' */
static bool wanted(struct ch9 *c, const char *id)
{
    if (!c->o->only)
        return true;
    size_t n = strlen(c->o->only);
    if (strncmp(id, c->o->only, n) != 0)
        return false;
    return id[n] == '\0' || id[n] == '-' || id[n] == '.' || c->o->only[n - 1] == '-' || c->o->only[n - 1] == '.';
}

static void add(struct ch9 *c, const char *id, const char *title, enum hilda_result r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add(struct ch9 *c, const char *id, const char *title, enum hilda_result r, const char *fmt, ...)
{
    char reason[288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    hilda_checks_add(c->out, id, title, r, "%s", reason);
}

/* One request; a device that is gone (or a signal) ends the battery. */
static enum hilda_status req(struct ch9 *c, uint8_t rt, uint8_t r, uint16_t v, uint16_t i, uint16_t len,
                             uint8_t *buf, size_t *got, struct hilda_error *e)
{
    struct usb_setup s = { rt, r, v, i, len };
    size_t dummy;
    struct hilda_error local;
    if (!e)
        e = &local;
    enum hilda_status st = hilda_ctrl(c->d, &s, buf, 0, got ? got : &dummy, e);
    if ((st == HILDA_ERR_NO_DEVICE || st == HILDA_ERR_INTERRUPTED) && !c->fatal) {
        c->fatal = true;
        c->err = *e;
    }
    return st;
}

/* After a STALL the next request must be served (a protocol stall, §7.4). */
static bool recovers(struct ch9 *c, char *why, size_t cap)
{
    uint8_t b[USB_DT_DEVICE_SIZE];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, 0x80, 0x06, 0x0100, 0, sizeof b, b, &got, &e);
    if (st == HILDA_OK && got == sizeof b)
        return true;
    snprintf(why, cap, "after the STALL, GET_DESCRIPTOR(device) failed: %.140s", st ? e.message : "short reply");
    return false;
}

static void expect_stall(struct ch9 *c, const char *id, const char *title, uint8_t rt, uint8_t r, uint16_t v,
                         uint16_t i, uint16_t len, bool host_may_refuse)
{
    if (!wanted(c, id) || c->fatal)
        return;
    uint8_t buf[1024];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, rt, r, v, i, len, len ? buf : NULL, &got, &e);
    char why[200];
    switch (st) {
    case HILDA_ERR_STALL:
        if (recovers(c, why, sizeof why))
            add(c, id, title, HILDA_PASS, "STALL, and the next request was served");
        else
            add(c, id, title, HILDA_FAIL, "%s", why);
        break;
    case HILDA_OK:
        add(c, id, title, HILDA_FAIL, "answered (%zu bytes) where a request error must STALL", got);
        break;
    case HILDA_ERR_IO:
        if (host_may_refuse)
            add(c, id, title, HILDA_SKIP, "%s", host_refused);
        else
            add(c, id, title, HILDA_FAIL, "%s", e.message);
        break;
    default:
        if (!c->fatal)
            add(c, id, title, HILDA_FAIL, "%s", e.message);
        break;
    }
}

/* Reads a descriptor with wLength len and requires exactly `want` bytes
 * equal to the first bytes of ref (when ref is given). */
static void expect_read(struct ch9 *c, const char *id, const char *title, uint16_t wValue, uint16_t wIndex,
                        uint16_t len, size_t want, const uint8_t *ref)
{
    if (!wanted(c, id) || c->fatal)
        return;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return;
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, 0x80, 0x06, wValue, wIndex, len, buf, &got, &e);
    if (st)
        add(c, id, title, c->fatal ? HILDA_SKIP : HILDA_FAIL, "%s", e.message);
    else if (got != want)
        add(c, id, title, HILDA_FAIL, "wLength %u returned %zu bytes; %zu expected (min(wLength, length))", len, got,
            want);
    else if (ref && memcmp(buf, ref, want) != 0)
        add(c, id, title, HILDA_FAIL, "wLength %u: the %zu bytes differ from the full descriptor", len, want);
    else
        add(c, id, title, HILDA_PASS, "wLength %u returned exactly %zu bytes%s", len, got,
            ref ? ", equal to the full descriptor" : "");
    free(buf);
}

/* ---- descriptors (TD 9.1, 9.2, 9.7, 9.8, 9.10, 9.19; usbtest 9) ---- */

static bool load_basics(struct ch9 *c, struct hilda_error *e)
{
    uint8_t b[USB_DT_DEVICE_SIZE];
    size_t got;
    enum hilda_status st = req(c, 0x80, 0x06, 0x0100, 0, sizeof b, b, &got, e);
    if (st || got != sizeof b) {
        if (!st)
            hilda_fail(e, HILDA_ERR_PROTOCOL, "the device descriptor came back with %zu bytes, not 18", got);
        return false;
    }
    hilda_parse_device(b, got, &c->dd, NULL);
    uint8_t h[USB_DT_CONFIG_SIZE];
    st = req(c, 0x80, 0x06, 0x0200, 0, sizeof h, h, &got, e);
    if (st || got < 4) {
        if (!st)
            hilda_fail(e, HILDA_ERR_PROTOCOL, "the configuration header came back with %zu bytes", got);
        return false;
    }
    uint16_t total = hilda_le16(h, got, 2);
    c->cfg = malloc(total ? total : 1);
    if (!c->cfg)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory"), false;
    st = req(c, 0x80, 0x06, 0x0200, 0, total, c->cfg, &c->cfg_len, e);
    if (st)
        return false;
    hilda_parse_config(c->cfg, c->cfg_len, NULL, &c->cl, NULL);
    for (size_t i = 0; i < c->cl.n; i++) {
        const struct hilda_desc *x = &c->cl.v[i];
        if (!x->decoded)
            continue;
        if (x->kind == HILDA_KIND_CONFIG) {
            c->cfg_value = x->u.config.bConfigurationValue;
            c->n_interfaces = x->u.config.bNumInterfaces;
        }
        if (x->kind == HILDA_KIND_ENDPOINT && (x->u.ep.bmAttributes & 3) >= 2 && c->neps < MAX_EPS) {
            bool dup = false;
            for (unsigned k = 0; k < c->neps; k++)
                dup |= c->eps[k] == x->u.ep.bEndpointAddress;
            if (!dup)
                c->eps[c->neps++] = x->u.ep.bEndpointAddress;
        }
    }
    c->hilda = c->dd.idVendor == HILDA_USB_VID && c->dd.idProduct == HILDA_USB_PID;
    return true;
}

static void check_descriptors(struct ch9 *c)
{
    uint8_t dev[USB_DT_DEVICE_SIZE];
    const uint8_t *ref = NULL;
    size_t got;
    if (req(c, 0x80, 0x06, 0x0100, 0, sizeof dev, dev, &got, NULL) == HILDA_OK && got == sizeof dev)
        ref = dev;
    expect_read(c, "9.1-device", "GET_DESCRIPTOR(device), 18 bytes", 0x0100, 0, 18, 18, ref);
    expect_read(c, "9.1-device-short", "device descriptor read short (wLength 8)", 0x0100, 0, 8, 8, ref);
    expect_read(c, "9.1-device-long", "device descriptor read long (wLength 255)", 0x0100, 0, 255, 18, ref);
    expect_read(c, "9.1-device-maxp0", "device descriptor with wLength = bMaxPacketSize0 (usbtest 10 #14)", 0x0100, 0,
                c->dd.bMaxPacketSize0, c->dd.bMaxPacketSize0 < 18 ? c->dd.bMaxPacketSize0 : 18, ref);
    if (wanted(c, "9.1-device-os") && ref && !c->fatal) {
        struct libusb_device_descriptor os;
        if (libusb_get_device_descriptor(c->d->dev, &os) == 0 && os.idVendor == c->dd.idVendor &&
            os.idProduct == c->dd.idProduct && os.bcdUSB == c->dd.bcdUSB && os.bcdDevice == c->dd.bcdDevice &&
            os.bMaxPacketSize0 == c->dd.bMaxPacketSize0 && os.bNumConfigurations == c->dd.bNumConfigurations)
            add(c, "9.1-device-os", "device descriptor equals the one read at enumeration", HILDA_PASS,
                "the same as the host OS read at enumeration");
        else
            add(c, "9.1-device-os", "device descriptor equals the one read at enumeration", HILDA_FAIL,
                "differs from what the host OS read at enumeration");
    }

    size_t total = c->cfg_len;
    expect_read(c, "9.2-config-header", "GET_DESCRIPTOR(configuration 0), 9 bytes", 0x0200, 0, 9, 9, c->cfg);
    expect_read(c, "9.2-config-full", "configuration 0 with wLength = wTotalLength", 0x0200, 0, (uint16_t)total, total,
                c->cfg);
    expect_read(c, "9.2-config-long", "configuration 0 read long (wLength 1024, usbtest 10 #10)", 0x0200, 0, 1024,
                total < 1024 ? total : 1024, c->cfg);
    expect_read(c, "9.2-config-18", "configuration 0 read short (wLength 18, usbtest 10 #6)", 0x0200, 0, 18,
                total < 18 ? total : 18, c->cfg);
    if (total > 1)
        expect_read(c, "9.2-config-minus1", "configuration 0 read one byte short", 0x0200, 0, (uint16_t)(total - 1),
                    total - 1, c->cfg);
    uint16_t less = (uint16_t)(1024 - c->dd.bMaxPacketSize0);
    expect_read(c, "9.2-config-1024-maxp0", "configuration 0 with wLength 1024 - bMaxPacketSize0 (usbtest 10 #13)",
                0x0200, 0, less, total < less ? total : less, c->cfg);
    expect_stall(c, "9.2-config-index", "configuration index = bNumConfigurations must STALL", 0x80, 0x06,
                 (uint16_t)(0x0200 | c->dd.bNumConfigurations), 0, 255, false);

    if (wanted(c, "9.2-validate") && !c->fatal) {
        struct hilda_desc_set s;
        struct hilda_findings f;
        struct hilda_error e;
        hilda_desc_set_init(&s);
        hilda_findings_init(&f);
        if (hilda_fetch_descriptors(c->d, &s, &f, &e) != HILDA_OK) {
            if (!c->fatal && c->d->gone) {
                c->fatal = true;
                c->err = e;
            }
            add(c, "9.2-validate", "every descriptor passes the validator", HILDA_FAIL, "%s", e.message);
        } else {
            hilda_validate(&s, &f);
            size_t errors = hilda_findings_count(&f, HILDA_SEV_ERROR);
            char ids[200] = "";
            size_t at = 0;
            for (size_t i = 0; i < f.n && at < sizeof ids; i++)
                if (f.v[i].severity == HILDA_SEV_ERROR)
                    at += (size_t)snprintf(ids + at, sizeof ids - at, "%s%s", at ? ", " : "", f.v[i].id);
            if (errors)
                add(c, "9.2-validate", "every descriptor passes the validator", HILDA_FAIL,
                    "%zu errors (%s); `hilda desc` explains them", errors, ids);
            else
                add(c, "9.2-validate", "every descriptor passes the validator", HILDA_PASS,
                    "device, configuration, BOS and strings: no errors (%zu warnings or notes)", f.n);
        }
        hilda_findings_free(&f);
        hilda_desc_set_free(&s);
    }

    /* TD 9.10 and usbtest 10 #7, #11: bad requests STALL and the device recovers */
    expect_stall(c, "9.10-bad-type", "GET_DESCRIPTOR of type 0x42 must STALL (TD 9.10)", 0x80, 0x06, 0x4200, 0, 64,
                 false);
    expect_stall(c, "9.10-interface", "GET_DESCRIPTOR(INTERFACE) must STALL", 0x80, 0x06, 0x0400, 0, 64, false);
    expect_stall(c, "9.10-endpoint", "GET_DESCRIPTOR(ENDPOINT) must STALL", 0x80, 0x06, 0x0500, 0, 64, false);
    expect_stall(c, "9.10-set-descriptor", "SET_DESCRIPTOR must STALL (optional request, not implemented)", 0x00,
                 0x07, 0x0100, 0, 0, false);
    expect_stall(c, "9.10-unknown-request", "standard request code 0x0D must STALL", 0x80, 0x0D, 0, 0, 2, false);
    bool fs = c->d->info.speed == LIBUSB_SPEED_FULL || c->d->info.speed == LIBUSB_SPEED_LOW;
    if (fs) {
        expect_stall(c, "9.19-qualifier", "full speed only: GET_DESCRIPTOR(DEVICE_QUALIFIER) must STALL", 0x80, 0x06,
                     0x0600, 0, 10, false);
        expect_stall(c, "9.19-other-speed", "full speed only: GET_DESCRIPTOR(OTHER_SPEED_CONFIGURATION) must STALL",
                     0x80, 0x06, 0x0700, 0, 255, false);
    } else if (wanted(c, "9.19-qualifier")) {
        expect_read(c, "9.19-qualifier", "high speed: GET_DESCRIPTOR(DEVICE_QUALIFIER) gives 10 bytes", 0x0600, 0,
                    10, 10, NULL);
    }

    /* TD 9.8: strings */
    uint8_t s0[255];
    size_t n0 = 0;
    struct hilda_error e;
    enum hilda_status st = HILDA_ERR_STALL;
    uint16_t lang = 0x0409;
    if (!c->fatal)
        st = req(c, 0x80, 0x06, 0x0300, 0, sizeof s0, s0, &n0, &e);
    bool has_strings = c->dd.iManufacturer || c->dd.iProduct || c->dd.iSerialNumber;
    if (wanted(c, "9.8-string0") && !c->fatal) {
        const char *t = "string 0: at least one LANGID, even length, bLength = bytes returned";
        if (st == HILDA_ERR_STALL)
            add(c, "9.8-string0", t, has_strings ? HILDA_FAIL : HILDA_PASS,
                has_strings ? "STALL, but the device descriptor refers to strings" : "no strings: STALL is right");
        else if (st)
            add(c, "9.8-string0", t, HILDA_FAIL, "%s", e.message);
        else if (n0 < 4 || s0[0] != n0 || n0 % 2 || s0[1] != USB_DT_STRING)
            add(c, "9.8-string0", t, HILDA_FAIL, "%zu bytes, bLength %u, type 0x%02X", n0, n0 ? s0[0] : 0,
                n0 > 1 ? s0[1] : 0);
        else {
            lang = hilda_le16(s0, n0, 2);
            add(c, "9.8-string0", t, lang ? HILDA_PASS : HILDA_FAIL, "%zu LANGIDs, the first 0x%04X", (n0 - 2) / 2,
                lang);
        }
    } else if (st == HILDA_OK && n0 >= 4) {
        lang = hilda_le16(s0, n0, 2);
    }
    if (st == HILDA_OK && n0 >= 4)
        expect_read(c, "9.8-string0-short", "string 0 with wLength 9 (usbtest 10 #12)", 0x0300, 0, 9,
                    n0 < 9 ? n0 : 9, s0);

    struct hilda_desc_set set;
    hilda_desc_set_init(&set);
    set.device.present = true;
    uint8_t devcopy[USB_DT_DEVICE_SIZE];
    if (ref) {
        memcpy(devcopy, ref, sizeof devcopy);
        set.device.data = devcopy;
        set.device.len = sizeof devcopy;
    }
    set.n_configs = 1;
    set.configs[0].present = true;
    set.configs[0].data = c->cfg;
    set.configs[0].len = c->cfg_len;
    uint8_t refs[HILDA_SET_STRINGS_MAX];
    size_t nrefs = ref ? hilda_desc_set_string_refs(&set, refs, HILDA_SET_STRINGS_MAX) : 0;
    uint8_t highest = 0;
    for (size_t k = 0; k < nrefs && !c->fatal; k++) {
        char id[32], title[96];
        snprintf(id, sizeof id, "9.8-string-%u", refs[k]);
        snprintf(title, sizeof title, "string %u: bLength = bytes returned, even, type 3, UTF-16", refs[k]);
        if (refs[k] > highest)
            highest = refs[k];
        if (!wanted(c, id))
            continue;
        uint8_t b[255];
        size_t n;
        st = req(c, 0x80, 0x06, (uint16_t)(0x0300 | refs[k]), lang, sizeof b, b, &n, &e);
        if (st) {
            add(c, id, title, HILDA_FAIL, "%s", e.message);
            continue;
        }
        struct hilda_findings f;
        hilda_findings_init(&f);
        char text[USB_DT_STRING_MAX * 3];
        hilda_parse_string(b, n, id, text, sizeof text, &f);
        if (hilda_findings_count(&f, HILDA_SEV_WARNING))
            add(c, id, title, hilda_findings_count(&f, HILDA_SEV_ERROR) ? HILDA_FAIL : HILDA_WARN, "%s: %s",
                f.v[0].id, f.v[0].message);
        else
            add(c, id, title, HILDA_PASS, "%zu bytes, %zu characters", n, (n - 2) / 2);
        hilda_findings_free(&f);
    }
    /* USB 2.0 §9.4.3 makes these request errors; many devices answer anyway, hence warnings. */
    if (wanted(c, "9.8-string-missing") && !c->fatal && n0 >= 4 && highest < 255) {
        uint8_t b[255];
        size_t n;
        st = req(c, 0x80, 0x06, (uint16_t)(0x0300 | (highest + 1)), lang, sizeof b, b, &n, &e);
        char why[200];
        if (st == HILDA_ERR_STALL)
            add(c, "9.8-string-missing", "a string index nothing refers to STALLs", recovers(c, why, sizeof why)
                ? HILDA_PASS : HILDA_FAIL, "string %u: STALL", highest + 1);
        else if (st == HILDA_OK)
            add(c, "9.8-string-missing", "a string index nothing refers to STALLs", HILDA_WARN,
                "string %u answered %zu bytes although no descriptor refers to it", highest + 1, n);
        else if (!c->fatal)
            add(c, "9.8-string-missing", "a string index nothing refers to STALLs", HILDA_FAIL, "%s", e.message);
    }
    if (wanted(c, "9.8-string-langid") && !c->fatal && nrefs) {
        uint8_t b[255];
        size_t n;
        uint16_t other = lang == 0x0C0A ? 0x0407 : 0x0C0A;
        st = req(c, 0x80, 0x06, (uint16_t)(0x0300 | refs[0]), other, sizeof b, b, &n, &e);
        if (st == HILDA_ERR_STALL)
            add(c, "9.8-string-langid", "a LANGID not in string 0 STALLs", HILDA_PASS, "LANGID 0x%04X: STALL", other);
        else if (st == HILDA_OK)
            add(c, "9.8-string-langid", "a LANGID not in string 0 STALLs", HILDA_WARN,
                "LANGID 0x%04X is not offered but string %u answered anyway", other, refs[0]);
        else if (!c->fatal)
            add(c, "9.8-string-langid", "a LANGID not in string 0 STALLs", HILDA_FAIL, "%s", e.message);
    }

    /* TD 9.7 and usbtest 9/10 #15: BOS */
    if (c->dd.bcdUSB >= 0x0201) {
        uint8_t h[USB_DT_BOS_SIZE];
        size_t n = 0;
        if (!c->fatal)
            st = req(c, 0x80, 0x06, 0x0F00, 0, sizeof h, h, &n, &e);
        if (wanted(c, "9.7-bos") && !c->fatal) {
            const char *t = "bcdUSB >= 0x0201: BOS header, then wTotalLength, well-formed";
            if (st)
                add(c, "9.7-bos", t, HILDA_FAIL, "%s", e.message);
            else if (n != USB_DT_BOS_SIZE)
                add(c, "9.7-bos", t, HILDA_FAIL, "the 5-byte header read returned %zu bytes", n);
            else {
                uint16_t bt = hilda_le16(h, n, 2);
                uint8_t *b = malloc(bt ? bt : 1);
                size_t bn = 0;
                if (b && req(c, 0x80, 0x06, 0x0F00, 0, bt, b, &bn, &e) == HILDA_OK && bn == bt) {
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
                        add(c, "9.7-bos", t, HILDA_FAIL, "%zu errors in the BOS (see `hilda desc`)", errors);
                    else
                        add(c, "9.7-bos", t, HILDA_PASS, "%zu bytes, well-formed", bn);
                    hilda_findings_free(&f);
                } else {
                    add(c, "9.7-bos", t, HILDA_FAIL, "reading %u bytes of BOS returned %zu", bt, bn);
                }
                free(b);
            }
        }
    } else {
        expect_stall(c, "9.7-bos", "bcdUSB < 0x0201: GET_DESCRIPTOR(BOS) must STALL", 0x80, 0x06, 0x0F00, 0, 255,
                     false);
    }
}

/* ---- states and SET_CONFIGURATION (TD 9.13, 9.18) ---- */

static int get_configuration(struct ch9 *c, struct hilda_error *e)
{
    uint8_t v;
    size_t got;
    enum hilda_status st = req(c, 0x80, 0x08, 0, 0, 1, &v, &got, e);
    if (st)
        return -1;
    if (got != 1) {
        hilda_fail(e, HILDA_ERR_PROTOCOL, "GET_CONFIGURATION returned %zu bytes, not 1", got);
        return -1;
    }
    return v;
}

static void expect_status(struct ch9 *c, const char *id, const char *title, uint8_t rt, uint16_t index,
                          uint16_t want, bool host_may_refuse)
{
    if (!wanted(c, id) || c->fatal)
        return;
    uint8_t b[2];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, rt, 0x00, 0, index, 2, b, &got, &e);
    if (st == HILDA_ERR_IO && host_may_refuse)
        add(c, id, title, HILDA_SKIP, "%s", host_refused);
    else if (st)
        add(c, id, title, c->fatal ? HILDA_SKIP : HILDA_FAIL, "%s", e.message);
    else if (got != 2)
        add(c, id, title, HILDA_FAIL, "%zu bytes; GET_STATUS returns 2", got);
    else if (hilda_le16(b, 2, 0) != want)
        add(c, id, title, HILDA_FAIL, "status 0x%04X, expected 0x%04X", hilda_le16(b, 2, 0), want);
    else
        add(c, id, title, HILDA_PASS, "0x%04X", want);
}

static void check_device_status(struct ch9 *c, const char *id, const char *state)
{
    if (!wanted(c, id) || c->fatal)
        return;
    char title[96];
    snprintf(title, sizeof title, "GET_STATUS(device) in the %s state (TD 9.18)", state);
    uint8_t b[2];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, 0x80, 0x00, 0, 0, 2, b, &got, &e);
    if (st) {
        add(c, id, title, c->fatal ? HILDA_SKIP : HILDA_FAIL, "%s", e.message);
        return;
    }
    uint16_t v = hilda_le16(b, got, 0);
    uint8_t attr = c->cl.n && c->cl.v[0].decoded ? c->cl.v[0].u.config.bmAttributes : 0x80;
    if (got != 2)
        add(c, id, title, HILDA_FAIL, "%zu bytes; GET_STATUS returns 2", got);
    else if (v & 0xFFFC)
        add(c, id, title, HILDA_FAIL, "status 0x%04X: bits 15..2 are reserved (0)", v);
    else if ((v & 1) && !(attr & 0x40))
        add(c, id, title, HILDA_FAIL, "self-powered bit set but bmAttributes 0x%02X says bus-powered", attr);
    else if ((v & 2) && !(attr & 0x20))
        add(c, id, title, HILDA_FAIL, "remote wakeup enabled but not supported by the configuration");
    else
        add(c, id, title, HILDA_PASS, "0x%04X (%s-powered%s), consistent with bmAttributes 0x%02X", v,
            v & 1 ? "self" : "bus", v & 2 ? ", remote wakeup on" : "", attr);
}

static void check_set_configuration(struct ch9 *c)
{
    const char *id = "9.13-set-configuration";
    const char *title = "SET_CONFIGURATION 1, 1, 0, 1, each checked with GET_CONFIGURATION";
    uint8_t v = c->cfg_value ? c->cfg_value : 1;
    int seq[4] = { v, v, 0, v };
    char trail[128] = "";
    size_t at = 0;
    bool ok = true;
    for (int k = 0; k < 4 && !c->fatal; k++) {
        int rc = libusb_set_configuration(c->d->h, seq[k] ? seq[k] : -1);
        if (rc < 0) {
            enum hilda_status st = hilda_status_from_libusb(rc);
            if (st == HILDA_ERR_NO_DEVICE) {
                c->fatal = true;
                hilda_fail(&c->err, st, "the device went away during SET_CONFIGURATION(%d)", seq[k]);
                return;
            }
            add(c, id, title, HILDA_FAIL, "SET_CONFIGURATION(%d) failed: %s", seq[k], libusb_error_name(rc));
            ok = false;
            break;
        }
        struct hilda_error e;
        int now = get_configuration(c, &e);
        at += (size_t)snprintf(trail + at, sizeof trail - at, "%s%d->%d", k ? ", " : "", seq[k], now);
        if (now != seq[k]) {
            add(c, id, title, HILDA_FAIL, "after SET_CONFIGURATION(%d), GET_CONFIGURATION says %d%s%s", seq[k], now,
                now < 0 ? ": " : "", now < 0 ? e.message : "");
            ok = false;
            break;
        }
        if (seq[k] == 0) {
            /* Address state (USB 2.0 §9.4): what must work and what must be refused */
            check_device_status(c, "9.13-address-status-device", "Address");
            expect_status(c, "9.13-address-status-ep0", "GET_STATUS(endpoint 0) in the Address state", 0x82, 0, 0,
                          false);
            expect_stall(c, "9.13-address-status-interface",
                         "GET_STATUS(interface 0) in the Address state must STALL", 0x81, 0x00, 0, 0, 2, true);
            expect_stall(c, "9.13-address-get-interface", "GET_INTERFACE in the Address state must STALL", 0x81,
                         0x0A, 0, 0, 1, true);
            if (c->neps)
                expect_stall(c, "9.13-address-status-ep", "GET_STATUS(a bulk endpoint) in the Address state must STALL",
                             0x82, 0x00, 0, c->eps[0], 2, true);
            expect_read(c, "9.13-address-descriptor", "GET_DESCRIPTOR(device) in the Address state", 0x0100, 0, 18,
                        18, NULL);
        }
    }
    if (ok && !c->fatal && wanted(c, id))
        add(c, id, title, HILDA_PASS, "set->get: %s", trail);
    expect_stall(c, "9.13-set-configuration-invalid", "SET_CONFIGURATION of a value no configuration has must STALL",
                 0x00, 0x09, (uint16_t)(v + 1 == 0 ? 2 : v + 1), 0, 0, false);
    if (wanted(c, "9.13-get-configuration") && !c->fatal) {
        struct hilda_error e;
        int now = get_configuration(c, &e);
        add(c, "9.13-get-configuration", "GET_CONFIGURATION unchanged by the refused request",
            now == v ? HILDA_PASS : HILDA_FAIL, "%d (expected %u)", now, v);
    }
}

/* ---- interface and endpoint requests (TD 9.4, 9.9; usbtest 13) ---- */

static enum hilda_status bulk_io(struct ch9 *c, uint8_t ep, uint8_t *buf, int len, int *done)
{
    int rc = libusb_bulk_transfer(c->d->h, ep, buf, len, done, IO_TIMEOUT_MS);
    enum hilda_status st = hilda_status_from_libusb(rc);
    if (st == HILDA_ERR_NO_DEVICE && !c->fatal) {
        c->fatal = true;
        c->d->gone = true;
        hilda_fail(&c->err, st, "the device went away during bulk I/O on endpoint 0x%02X", ep);
    }
    return st;
}

/* usbtest 13 halt_simple, per bulk/interrupt endpoint */
static void check_halt(struct ch9 *c, uint8_t ep)
{
    char id[32], title[96];
    snprintf(id, sizeof id, "9.9-halt-0x%02x", ep);
    snprintf(title, sizeof title, "endpoint 0x%02X: GET_STATUS, SET_FEATURE(HALT), I/O stalls, CLEAR_FEATURE", ep);
    if (!wanted(c, id) || c->fatal)
        return;
    uint8_t b[64];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, 0x82, 0x00, 0, ep, 2, b, &got, &e);
    if (st || got != 2 || hilda_le16(b, got, 0) != 0) {
        add(c, id, title, HILDA_FAIL, "before: %s", st ? e.message : "GET_STATUS is not 0x0000 (not halted)");
        return;
    }
    if (req(c, 0x02, 0x03, 0, ep, 0, NULL, NULL, &e)) {
        add(c, id, title, HILDA_FAIL, "SET_FEATURE(ENDPOINT_HALT): %s", e.message);
        return;
    }
    st = req(c, 0x82, 0x00, 0, ep, 2, b, &got, &e);
    bool halted = st == HILDA_OK && got == 2 && hilda_le16(b, got, 0) == 1;
    int done = 0;
    memset(b, 0x5A, sizeof b);
    enum hilda_status io = c->fatal ? HILDA_ERR_NO_DEVICE : bulk_io(c, ep, b, (ep & 0x80) ? 64 : 8, &done);
    int rc = c->fatal ? 0 : libusb_clear_halt(c->d->h, ep);
    st = c->fatal ? HILDA_ERR_NO_DEVICE : req(c, 0x82, 0x00, 0, ep, 2, b, &got, &e);
    bool cleared = st == HILDA_OK && got == 2 && hilda_le16(b, got, 0) == 0;
    if (c->fatal)
        return;
    if (!halted)
        add(c, id, title, HILDA_FAIL, "after SET_FEATURE(HALT), GET_STATUS does not say halted (0x0001)");
    else if (io != HILDA_ERR_STALL)
        add(c, id, title, HILDA_FAIL, "I/O on the halted endpoint gave %s, not a STALL", hilda_status_name(io));
    else if (rc < 0)
        add(c, id, title, HILDA_FAIL, "CLEAR_FEATURE(HALT) failed: %s", libusb_error_name(rc));
    else if (!cleared)
        add(c, id, title, HILDA_FAIL, "after CLEAR_FEATURE(HALT), GET_STATUS does not say 0x0000");
    else
        add(c, id, title, HILDA_PASS, "0 -> halted 1 (I/O stalled) -> cleared 0");
}

/* usbtest 29 toggle sync, on hilda's bulk loopback: after CLEAR_FEATURE both
 * sides are at DATA0, so packets in a row must all come back. */
static void check_loopback(struct ch9 *c)
{
    const char *id = "9.9-loopback-toggle";
    const char *title = "bulk loopback after the halts: 3 packets each way (data toggle in step)";
    if (!wanted(c, id) || c->fatal)
        return;
    if (!c->hilda) {
        add(c, id, title, HILDA_SKIP, "not the hilda firmware: no loopback to use");
        return;
    }
    uint8_t ep_in = 0, ep_out = 0;
    for (unsigned k = 0; k < c->neps; k++) {
        if ((c->eps[k] & 0x80) && !ep_in)
            ep_in = c->eps[k];
        if (!(c->eps[k] & 0x80) && !ep_out)
            ep_out = c->eps[k];
    }
    if (!ep_in || !ep_out) {
        add(c, id, title, HILDA_SKIP, "no bulk IN/OUT pair");
        return;
    }
    for (int k = 0; k < 3; k++) {
        uint8_t out[16], in[64];
        for (size_t i = 0; i < sizeof out; i++)
            out[i] = (uint8_t)(k * 31 + i);
        int done = 0;
        enum hilda_status st = bulk_io(c, ep_out, out, sizeof out, &done);
        if (st || done != (int)sizeof out) {
            add(c, id, title, HILDA_FAIL, "packet %d OUT: %s (%d bytes)", k, hilda_status_name(st), done);
            return;
        }
        st = bulk_io(c, ep_in, in, sizeof in, &done);
        if (st || done != (int)sizeof out || memcmp(in, out, sizeof out) != 0) {
            add(c, id, title, HILDA_FAIL, "packet %d IN: %s, %d bytes%s", k, hilda_status_name(st), done,
                st ? "" : " (not what was sent)");
            return;
        }
    }
    add(c, id, title, HILDA_PASS, "3 packets looped back in order");
}

static void check_interfaces(struct ch9 *c)
{
    check_device_status(c, "9.18-status-device", "Configured");
    expect_status(c, "9.4-status-interface", "GET_STATUS(interface 0) in the Configured state", 0x81, 0, 0, false);
    expect_status(c, "9.9-status-ep0-out", "GET_STATUS(endpoint 0x00)", 0x82, 0x00, 0, false);
    expect_status(c, "9.9-status-ep0-in", "GET_STATUS(endpoint 0x80, usbtest 10 #9)", 0x82, 0x80, 0, false);
    if (wanted(c, "9.9-clear-halt-ep0") && !c->fatal) {
        struct hilda_error e;
        enum hilda_status st = req(c, 0x02, 0x01, 0, 0, 0, NULL, NULL, &e);
        char why[200];
        if (st == HILDA_OK || (st == HILDA_ERR_STALL && recovers(c, why, sizeof why)))
            add(c, "9.9-clear-halt-ep0", "CLEAR_FEATURE(HALT) on endpoint 0: accepted or STALL (usbtest 10 #8)",
                HILDA_PASS, "%s", st == HILDA_OK ? "accepted" : "STALL, then served the next request");
        else if (!c->fatal)
            add(c, "9.9-clear-halt-ep0", "CLEAR_FEATURE(HALT) on endpoint 0: accepted or STALL (usbtest 10 #8)",
                HILDA_FAIL, "%s", st == HILDA_ERR_STALL ? why : e.message);
    }
    expect_stall(c, "9.4-status-interface-missing", "GET_STATUS of an interface that does not exist must STALL",
                 0x81, 0x00, 0, (uint16_t)c->n_interfaces, 2, true);
    expect_stall(c, "9.9-status-ep-missing", "GET_STATUS of an endpoint that does not exist must STALL", 0x82, 0x00, 0,
                 0x8F, 2, true);
    expect_stall(c, "9.4-set-feature-interface", "SET_FEATURE on an interface (no interface features) must STALL",
                 0x01, 0x03, 0, 0, 0, true);
    if (c->cl.n && c->cl.v[0].decoded && (c->cl.v[0].u.config.bmAttributes & 0x20)) {
        if (wanted(c, "9.12-remote-wakeup"))
            add(c, "9.12-remote-wakeup", "remote wakeup", HILDA_SKIP,
                "the configuration supports remote wakeup: USBCV TD 9.12 needs suspend, not done here");
    } else {
        expect_stall(c, "9.12-remote-wakeup", "SET_FEATURE(DEVICE_REMOTE_WAKEUP) without the capability must STALL",
                     0x00, 0x03, 1, 0, 0, false);
    }

    if (wanted(c, "9.4-get-interface") && !c->fatal) {
        uint8_t alt;
        size_t got;
        struct hilda_error e;
        enum hilda_status st = req(c, 0x81, 0x0A, 0, 0, 1, &alt, &got, &e);
        add(c, "9.4-get-interface", "GET_INTERFACE(0) returns the current alternate setting (0)",
            st == HILDA_OK && got == 1 && alt == 0 ? HILDA_PASS : HILDA_FAIL, "%s", st ? e.message
            : got != 1 ? "not 1 byte" : alt ? "not 0" : "0");
    }
    if (wanted(c, "9.4-set-interface") && !c->fatal) {
        int rc = libusb_set_interface_alt_setting(c->d->h, 0, 0);
        uint8_t alt = 0xFF;
        size_t got = 0;
        struct hilda_error e;
        enum hilda_status st = rc < 0 ? HILDA_ERR_IO : req(c, 0x81, 0x0A, 0, 0, 1, &alt, &got, &e);
        if (rc < 0)
            add(c, "9.4-set-interface", "SET_INTERFACE(0, 0), then GET_INTERFACE says 0", HILDA_FAIL,
                "SET_INTERFACE failed: %s", libusb_error_name(rc));
        else
            add(c, "9.4-set-interface", "SET_INTERFACE(0, 0), then GET_INTERFACE says 0",
                st == HILDA_OK && got == 1 && alt == 0 ? HILDA_PASS : HILDA_FAIL, "%s",
                st ? e.message : alt ? "GET_INTERFACE is not 0" : "accepted; GET_INTERFACE 0");
    }
    unsigned max_alt = 0;
    for (size_t i = 0; i < c->cl.n; i++)
        if (c->cl.v[i].kind == HILDA_KIND_INTERFACE && c->cl.v[i].decoded && c->cl.v[i].u.intf.bInterfaceNumber == 0 &&
            c->cl.v[i].u.intf.bAlternateSetting > max_alt)
            max_alt = c->cl.v[i].u.intf.bAlternateSetting;
    expect_stall(c, "9.4-set-interface-invalid", "SET_INTERFACE to an alternate setting that does not exist must STALL",
                 0x01, 0x0B, (uint16_t)(max_alt + 1), 0, 0, true);
    expect_stall(c, "9.4-get-interface-missing", "GET_INTERFACE of an interface that does not exist must STALL",
                 0x81, 0x0A, 0, (uint16_t)c->n_interfaces, 1, true);
    expect_stall(c, "9.9-set-halt-ep0", "SET_FEATURE(HALT) on endpoint 0 (hilda: not supported, STALL)", 0x02, 0x03, 0,
                 0, 0, false);
    if (!c->hilda && c->out->n && strcmp(c->out->v[c->out->n - 1].id, "9.9-set-halt-ep0") == 0 &&
        c->out->v[c->out->n - 1].result == HILDA_FAIL)
        c->out->v[c->out->n - 1].result = HILDA_WARN;   /* a device may implement EP0 halt */

    for (unsigned k = 0; k < c->neps; k++)
        check_halt(c, c->eps[k]);
    check_loopback(c);
}

/* ---- usbtest 10: queued control transfers ---- */

struct expect {
    enum { X_EXACT, X_STALL, X_OK_OR_STALL, X_SHORT_OR_STALL } kind;
    size_t len;
};

static void check_queue(struct ch9 *c)
{
    const char *id = "10-queue";
    if (!wanted(c, id) || c->fatal)
        return;
    const char *title = "usbtest 10: 16 control requests queued at once complete in order with the right results";
    unsigned rounds = c->o->queue_rounds ? c->o->queue_rounds : 4;
    if (rounds > 64)
        rounds = 64;
    size_t total = c->cfg_len;
    bool fs = c->d->info.speed == LIBUSB_SPEED_FULL || c->d->info.speed == LIBUSB_SPEED_LOW;
    uint16_t maxp = c->dd.bMaxPacketSize0;
    struct {
        struct usb_setup s;
        struct expect x;
    } cases[16] = {
        { { 0x80, 0x06, 0x0100, 0, 18 }, { X_EXACT, 18 } },
        { { 0x80, 0x06, 0x0200, 0, 9 }, { X_EXACT, 9 } },
        { { 0x81, 0x0A, 0, 0, 1 }, { X_OK_OR_STALL, 1 } },
        { { 0x81, 0x00, 0, 0, 2 }, { X_EXACT, 2 } },
        { { 0x80, 0x00, 0, 0, 2 }, { X_EXACT, 2 } },
        { { 0x80, 0x06, 0x0600, 0, 10 }, { fs ? X_STALL : X_EXACT, 10 } },
        { { 0x80, 0x06, 0x0200, 0, 18 }, { X_EXACT, total < 18 ? total : 18 } },
        { { 0x80, 0x06, 0x0400, 0, 9 }, { X_STALL, 0 } },
        { { 0x02, 0x01, 0, 0, 0 }, { X_OK_OR_STALL, 0 } },
        { { 0x82, 0x00, 0, 0, 2 }, { X_EXACT, 2 } },
        { { 0x80, 0x06, 0x0200, 0, 1024 }, { X_EXACT, total < 1024 ? total : 1024 } },
        { { 0x80, 0x06, 0x0500, 0, 7 }, { X_STALL, 0 } },
        { { 0x80, 0x06, 0x0300, 0, 9 }, { X_SHORT_OR_STALL, 9 } },
        { { 0x80, 0x06, 0x0200, 0, (uint16_t)(1024 - maxp) }, { X_EXACT, total < 1024u - maxp ? total : 1024u - maxp } },
        { { 0x80, 0x06, 0x0100, 0, maxp }, { X_EXACT, maxp < 18 ? maxp : 18 } },
        { { 0x80, 0x06, 0x0F00, 0, 5 }, { c->dd.bcdUSB >= 0x0201 ? X_EXACT : X_STALL, 5 } },
    };
    size_t n = 16 * (size_t)rounds;
    struct hilda_async *v = calloc(n, sizeof *v);
    uint8_t *bufs = calloc(n, (size_t)1024);
    if (!v || !bufs) {
        free(v);
        free(bufs);
        add(c, id, title, HILDA_SKIP, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].setup = cases[i % 16].s;
        v[i].in = bufs + 1024 * i;
        v[i].align = (unsigned)(i % 4);
    }
    struct hilda_error e;
    enum hilda_status st = hilda_ctrl_async(c->d, v, n, n, 0, &e);
    if (st) {
        if (st == HILDA_ERR_NO_DEVICE || st == HILDA_ERR_INTERRUPTED) {
            c->fatal = true;
            c->err = e;
        }
        add(c, id, title, HILDA_FAIL, "%s", e.message);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct expect *x = &cases[i % 16].x;
        bool ok;
        switch (x->kind) {
        case X_EXACT: ok = v[i].status == HILDA_OK && v[i].actual == x->len; break;
        case X_STALL: ok = v[i].status == HILDA_ERR_STALL; break;
        case X_OK_OR_STALL: ok = v[i].status == HILDA_ERR_STALL || (v[i].status == HILDA_OK && v[i].actual == x->len); break;
        default: ok = v[i].status == HILDA_ERR_STALL || (v[i].status == HILDA_OK && v[i].actual <= x->len); break;
        }
        if (!ok) {
            add(c, id, title, HILDA_FAIL, "round %zu case %zu (bRequest 0x%02X wValue 0x%04X wLength %u): %s, %zu bytes",
                i / 16, i % 16, v[i].setup.bRequest, v[i].setup.wValue, v[i].setup.wLength,
                hilda_status_name(v[i].status), v[i].actual);
            goto out;
        }
        if (v[i].order != (long)i) {
            add(c, id, title, HILDA_FAIL, "transfer %zu completed as number %ld: not in submission order", i, v[i].order);
            goto out;
        }
    }
    add(c, id, title, HILDA_PASS, "%zu transfers (%u rounds of 16) in flight together, all in order, stalls recovered",
        n, rounds);
out:
    free(v);
    free(bufs);
}

/* ---- TD 9.16 (one cycle): a bus reset and re-enumeration keep the device the same ---- */

static void check_reset(struct ch9 *c)
{
    const char *id = "9.16-reset";
    if (!wanted(c, id) || c->fatal || c->o->skip_reset)
        return;
    const char *title = "bus reset (USBDEVFS_RESET): the device comes back the same and configured";
    int rc = libusb_reset_device(c->d->h);
    if (rc == LIBUSB_ERROR_NOT_FOUND) {
        add(c, id, title, HILDA_FAIL, "after the reset the device re-enumerated as a different device");
        c->fatal = true;
        c->d->gone = true;
        hilda_fail(&c->err, HILDA_ERR_NO_DEVICE, "the device changed across a bus reset; select it again");
        return;
    }
    if (rc < 0) {
        add(c, id, title, HILDA_FAIL, "the reset failed: %s", libusb_error_name(rc));
        return;
    }
    uint8_t b[USB_DT_DEVICE_SIZE];
    size_t got;
    struct hilda_error e;
    enum hilda_status st = req(c, 0x80, 0x06, 0x0100, 0, sizeof b, b, &got, &e);
    struct hilda_device_desc dd;
    hilda_parse_device(b, got, &dd, NULL);
    int cfg = st ? -1 : get_configuration(c, &e);
    if (st)
        add(c, id, title, HILDA_FAIL, "after the reset: %s", e.message);
    else if (memcmp(&dd, &c->dd, sizeof dd) != 0)
        add(c, id, title, HILDA_FAIL, "the device descriptor changed across the reset");
    else if (cfg != c->cfg_value)
        add(c, id, title, HILDA_FAIL, "configuration %d after the reset (the host restores %u)", cfg, c->cfg_value);
    else
        add(c, id, title, HILDA_PASS, "same device descriptor, configuration %d restored", cfg);
}

enum hilda_status hilda_ch9_run(struct hilda_device *d, const struct hilda_ch9_options *o, struct hilda_checks *out,
                                struct hilda_error *e)
{
    static const struct hilda_ch9_options defaults = { 0 };
    struct ch9 c = { .d = d, .o = o ? o : &defaults, .out = out };
    hilda_desc_list_init(&c.cl);
    struct hilda_error le;
    if (!load_basics(&c, &le)) {
        hilda_desc_list_free(&c.cl);
        free(c.cfg);
        if (e)
            *e = le;
        return le.status ? le.status : HILDA_ERR_PROTOCOL;
    }
    /* Start from the Configured state, as a host leaves it. */
    struct hilda_error ge;
    int cur = get_configuration(&c, &ge);
    if (cur == 0 && c.cfg_value)
        libusb_set_configuration(d->h, c.cfg_value);

    check_descriptors(&c);
    /* SET_CONFIGURATION needs every interface released (the OS refuses
     * otherwise), so it runs before the interface requests claim one. */
    if (!c.fatal)
        check_set_configuration(&c);
    if (!c.fatal) {
        int rc = libusb_claim_interface(d->h, 0);
        c.claimed = rc == 0;
        if (rc < 0 && rc != LIBUSB_ERROR_NOT_FOUND)
            hilda_checks_add(out, "setup-claim", "claim interface 0", HILDA_WARN,
                             "claiming interface 0 failed (%s): interface and endpoint checks may be refused",
                             libusb_error_name(rc));
    }
    if (!c.fatal)
        check_interfaces(&c);
    if (!c.fatal)
        check_queue(&c);
    if (c.claimed && !c.fatal)
        libusb_release_interface(d->h, 0);
    c.claimed = false;
    if (!c.fatal)
        check_reset(&c);
    /* Leave it as found: configured. */
    if (!c.fatal && get_configuration(&c, &ge) != c.cfg_value && c.cfg_value)
        libusb_set_configuration(d->h, c.cfg_value);
    hilda_desc_list_free(&c.cl);
    free(c.cfg);
    if (c.fatal) {
        if (e)
            *e = c.err;
        return c.err.status ? c.err.status : HILDA_ERR_NO_DEVICE;
    }
    return HILDA_OK;
}
