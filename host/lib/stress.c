#include "stress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "desc.h"
#include "descset.h"
#include "requests.h"
#include "setups.h"
#include "vendor.h"
#include "xfer.h"

#define BIG 65535u
#define MAX_TARGETS 96

static const char *const piece_names[HILDA_STRESS_PIECES] = { "descriptors", "echo", "random", "async" };

const char *hilda_stress_piece_name(enum hilda_stress_piece p)
{
    return (unsigned)p < HILDA_STRESS_PIECES ? piece_names[p] : "unknown";
}

bool hilda_stress_piece_parse(const char *s, enum hilda_stress_piece *p)
{
    for (unsigned i = 0; i < HILDA_STRESS_PIECES; i++)
        if (strcmp(s, piece_names[i]) == 0) {
            *p = (enum hilda_stress_piece)i;
            return true;
        }
    return false;
}

void hilda_stress_report_init(struct hilda_stress_report *r, enum hilda_stress_piece p)
{
    memset(r, 0, sizeof *r);
    r->piece = p;
    hilda_checks_init(&r->failed);
}

void hilda_stress_report_free(struct hilda_stress_report *r)
{
    hilda_checks_free(&r->failed);
}

uint64_t hilda_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
    return n ? (unsigned)(hilda_rng_next(s) % n) : 0;
}

struct run {
    struct hilda_device *d;
    const struct hilda_stress_options *o;
    struct hilda_stress_report *r;
    struct hilda_error *e;
    uint64_t total;
};

static void failure(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failure(struct run *x, const char *fmt, ...)
{
    x->r->failures++;
    unsigned max = x->o->max_reported ? x->o->max_reported : 10;
    if (x->r->failed.n >= max)
        return;
    char msg[288], id[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(id, sizeof id, "%s-%llu", hilda_stress_piece_name(x->r->piece), (unsigned long long)x->r->transfers);
    hilda_checks_add(&x->r->failed, id, hilda_stress_piece_name(x->r->piece), HILDA_FAIL, "%s", msg);
}

static void tick(struct run *x)
{
    if (x->o->progress && (x->r->transfers % 64 == 0 || x->r->transfers == x->total))
        x->o->progress(x->o->progress_ctx, hilda_stress_piece_name(x->r->piece), x->r->transfers, x->total);
}

/* A transfer that fails with the device gone, or a signal, ends the piece:
 * returns the status to end it with (HILDA_OK to go on), e set. */
static enum hilda_status fatal(struct run *x, enum hilda_status st, const struct hilda_error *le)
{
    if (st == HILDA_ERR_NO_DEVICE || st == HILDA_ERR_INTERRUPTED) {
        if (x->e)
            *x->e = *le;
        return st;
    }
    if (hilda_interrupted)
        return hilda_fail(x->e, HILDA_ERR_INTERRUPTED, "interrupted after %llu transfers",
                          (unsigned long long)x->r->transfers);
    return HILDA_OK;
}

/* ---- descriptors ---- */

struct target {
    char name[40];
    bool vendor;
    uint16_t wValue, wIndex;
    uint8_t *full;
    size_t len;              /* what the descriptor declares (and the full read returned) */
};

static enum hilda_status read_full(struct run *x, struct target *t, uint8_t *buf, bool *ok)
{
    *ok = false;
    struct usb_setup s = { t->vendor ? HILDA_REQTYPE_IN : USB_RT_DEVICE_IN,
                           t->vendor ? HILDA_REQ_GET_VARIANT : USB_REQ_GET_DESCRIPTOR, t->wValue, t->wIndex, 255 };
    size_t got;
    struct hilda_error le;
    enum hilda_status st = hilda_ctrl(x->d, &s, buf, 0, &got, &le);
    x->r->transfers++;
    enum hilda_status end = fatal(x, st, &le);
    if (end)
        return end;
    if (st) {
        failure(x, "%s: reading it with wLength 255 failed: %s", t->name, le.message);
        return HILDA_OK;
    }
    size_t declared = got >= 1 ? buf[0] : 0;
    bool total = got >= 4 && (buf[1] == USB_DT_CONFIG || buf[1] == USB_DT_BOS || buf[1] == USB_DT_OTHER_SPEED_CONFIG);
    if (total)
        declared = hilda_le16(buf, got, 2);
    if (declared > 255) {
        s.wLength = (uint16_t)(declared > HILDA_EP0_MAX_DATA ? HILDA_EP0_MAX_DATA : declared);
        st = hilda_ctrl(x->d, &s, buf, 0, &got, &le);
        x->r->transfers++;
        if ((end = fatal(x, st, &le)))
            return end;
        if (st) {
            failure(x, "%s: the full read (wLength %u) failed: %s", t->name, s.wLength, le.message);
            return HILDA_OK;
        }
    }
    size_t want = declared < s.wLength ? declared : s.wLength;
    if (got != want) {
        failure(x, "%s declares %zu bytes but wLength %u returned %zu", t->name, declared, s.wLength, got);
        return HILDA_OK;
    }
    t->full = malloc(got ? got : 1);
    if (!t->full)
        return hilda_fail(x->e, HILDA_ERR_INTERNAL, "out of memory");
    memcpy(t->full, buf, got);
    t->len = got;
    x->r->verified++;
    *ok = true;
    return HILDA_OK;
}

static enum hilda_status stress_descriptors(struct run *x, uint8_t *buf)
{
    struct target *t = calloc(MAX_TARGETS, sizeof *t);
    if (!t)
        return hilda_fail(x->e, HILDA_ERR_INTERNAL, "out of memory");
    size_t n = 0;
    struct target cand[MAX_TARGETS];
    size_t nc = 0;
    memset(cand, 0, sizeof cand);
    /* what the device has: device, each configuration, BOS, string 0 and the strings the descriptors name */
    struct hilda_desc_set set;
    struct hilda_error le;
    hilda_desc_set_init(&set);
    enum hilda_status st = hilda_fetch_descriptors(x->d, &set, NULL, &le);
    if (st) {
        free(t);
        if (x->e)
            *x->e = le;
        return st;
    }
    snprintf(cand[nc].name, sizeof cand[nc].name, "device");
    cand[nc++].wValue = USB_DESC_VALUE(USB_DT_DEVICE, 0);
    for (unsigned i = 0; i < set.n_configs && nc < MAX_TARGETS; i++) {
        snprintf(cand[nc].name, sizeof cand[nc].name, "configuration %u", i);
        cand[nc++].wValue = USB_DESC_VALUE(USB_DT_CONFIG, i);
    }
    if (set.bos.present) {
        snprintf(cand[nc].name, sizeof cand[nc].name, "BOS");
        cand[nc++].wValue = USB_DESC_VALUE(USB_DT_BOS, 0);
    }
    if (set.string0.present) {
        snprintf(cand[nc].name, sizeof cand[nc].name, "string 0");
        cand[nc++].wValue = USB_DESC_VALUE(USB_DT_STRING, 0);
    }
    for (size_t i = 0; i < set.n_strings && nc < MAX_TARGETS; i++) {
        if (!set.strings[i].raw.present)
            continue;   /* the validator's business (hilda desc) */
        snprintf(cand[nc].name, sizeof cand[nc].name, "string %u", set.strings[i].index);
        cand[nc].wValue = USB_DESC_VALUE(USB_DT_STRING, set.strings[i].index);
        cand[nc++].wIndex = set.strings[i].langid;
    }
    /* GET_VARIANT is hilda's vendor request: only hilda firmware has the variants */
    for (unsigned v = 0; v < HILDA_VARIANT_COUNT && nc < MAX_TARGETS && x->d->info.mode == HILDA_MODE_APP; v++) {
        snprintf(cand[nc].name, sizeof cand[nc].name, "variant %s", hilda_variant_name(v));
        cand[nc].vendor = true;
        cand[nc++].wValue = (uint16_t)v;
    }
    hilda_desc_set_free(&set);

    unsigned max = x->o->max_length ? x->o->max_length : 1024;
    unsigned step = x->o->length_step ? x->o->length_step : 1;
    if (max > HILDA_EP0_MAX_DATA)
        max = HILDA_EP0_MAX_DATA;
    for (size_t i = 0; i < nc; i++) {
        bool ok;
        if ((st = read_full(x, &cand[i], buf, &ok)))
            goto out;
        if (ok)
            t[n++] = cand[i];
    }
    x->total = x->r->transfers + (uint64_t)n * (max / step + 1);
    for (size_t i = 0; i < n; i++) {
        for (unsigned len = 0; len <= max; len += step) {
            struct usb_setup s = { t[i].vendor ? HILDA_REQTYPE_IN : USB_RT_DEVICE_IN,
                                   t[i].vendor ? HILDA_REQ_GET_VARIANT : USB_REQ_GET_DESCRIPTOR, t[i].wValue,
                                   t[i].wIndex, (uint16_t)len };
            size_t got;
            st = hilda_ctrl(x->d, &s, buf, 0, &got, &le);
            x->r->transfers++;
            enum hilda_status end = fatal(x, st, &le);
            if (end) {
                st = end;
                goto out;
            }
            size_t want = len < t[i].len ? len : t[i].len;
            if (st)
                failure(x, "%s, wLength %u: %s", t[i].name, len, le.message);
            else if (got != want)
                failure(x, "%s, wLength %u: %zu bytes, expected %zu (min(wLength, %zu))%s", t[i].name, len, got, want,
                        t[i].len, want % 64 == 0 && want < len ? ": a missing or extra zero-length packet?" : "");
            else if (memcmp(buf, t[i].full, got) != 0)
                failure(x, "%s, wLength %u: the bytes differ from the full descriptor", t[i].name, len);
            else
                x->r->verified++;
            tick(x);
        }
    }
    st = HILDA_OK;
out:
    for (size_t i = 0; i < nc; i++)
        free(cand[i].full);
    free(t);
    return st;
}

/* ---- echo (usbtest 14 and 21) ---- */

static enum hilda_status stress_echo(struct run *x)
{
    unsigned max = x->o->echo_max ? x->o->echo_max : HILDA_EP0_MAX_DATA;
    unsigned step = x->o->echo_step ? x->o->echo_step : 1;
    if (max > HILDA_EP0_MAX_DATA)
        max = HILDA_EP0_MAX_DATA;
    x->total = 2ull * 2 * (max / step + 1);
    uint8_t *out = malloc(HILDA_EP0_MAX_DATA), *in = malloc(HILDA_EP0_MAX_DATA);
    if (!out || !in) {
        free(out);
        free(in);
        return hilda_fail(x->e, HILDA_ERR_INTERNAL, "out of memory");
    }
    enum hilda_status st = HILDA_OK;
    for (unsigned pass = 0; pass < 2 && !st; pass++) {
        for (unsigned len = 0; len <= max; len += step) {
            for (unsigned j = 0; j < len; j++)
                out[j] = (uint8_t)((j + len + pass) % 63);   /* usbtest's mod-63 pattern, shifted per length */
            /* the aligned pass reads exactly len; the unaligned one asks for more (a short read, with a
             * zero-length packet whenever len is a multiple of 64) */
            uint16_t rlen = (uint16_t)(pass == 0 ? len : (len + 1 + len % 7 > HILDA_EP0_MAX_DATA ? HILDA_EP0_MAX_DATA
                                                                                                   : len + 1 + len % 7));
            memset(in, 0xEE, rlen ? rlen : 1);
            struct hilda_async q[2] = {
                { .setup = { HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, 0, 0, (uint16_t)len }, .out = out,
                  .align = pass ? 1 + len % 3 : 0 },
                { .setup = { HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, rlen }, .in = in,
                  .align = pass ? 3 - len % 3 : 0 },
            };
            struct hilda_error le;
            st = hilda_ctrl_async(x->d, q, 2, 2, 0, &le);
            x->r->transfers += 2;
            if (st) {
                if (x->e)
                    *x->e = le;
                break;
            }
            if (q[0].status)
                failure(x, "%s pass, ECHO_WRITE of %u bytes: %s", pass ? "unaligned" : "aligned", len,
                        hilda_status_name(q[0].status));
            else if (q[1].status)
                failure(x, "%s pass, ECHO_READ (wLength %u) after writing %u bytes: %s", pass ? "unaligned" : "aligned",
                        rlen, len, hilda_status_name(q[1].status));
            else if (q[1].actual != len)
                failure(x, "%s pass: wrote %u bytes, ECHO_READ with wLength %u returned %zu",
                        pass ? "unaligned" : "aligned", len, rlen, q[1].actual);
            else if (memcmp(in, out, len) != 0)
                failure(x, "%s pass: %u bytes written, different bytes read back", pass ? "unaligned" : "aligned", len);
            else
                x->r->verified += 2;
            tick(x);
            if (hilda_interrupted) {
                st = hilda_fail(x->e, HILDA_ERR_INTERRUPTED, "interrupted");
                break;
            }
        }
    }
    free(out);
    free(in);
    return st;
}

/* ---- random requests against a model ---- */

struct model {
    uint8_t dev[18];
    uint8_t *cfg;
    size_t cfg_len;
    uint8_t str[8][255];
    size_t str_len[8];
    uint8_t str_index[8];
    uint16_t langid;
    size_t nstr;
    uint8_t highest_string;
    uint8_t *bos;
    size_t bos_len;
    uint8_t version[8];
    uint8_t status[2];
    uint8_t variant[HILDA_VARIANT_COUNT][255];
    size_t variant_len[HILDA_VARIANT_COUNT];
    uint8_t echo[HILDA_EP0_MAX_DATA];
    size_t echo_len;
    bool fault;
    bool full_speed;
};

enum want { W_DATA, W_OK, W_STALL };

struct step {
    struct usb_setup s;
    enum want want;
    const uint8_t *expect;   /* W_DATA: the full reply, truncated to wLength */
    size_t expect_len;
    char what[64];
};

static uint16_t random_length(uint64_t *rng, unsigned max)
{
    /* boundaries matter most: around each 64-byte packet and the ends */
    switch (below(rng, 4)) {
    case 0: {
        unsigned packets = below(rng, max / 64 + 1);
        unsigned v = packets * 64 + below(rng, 3);
        v = v >= 1 ? v - 1 : 0;
        return (uint16_t)(v > max ? max : v);
    }
    case 1:
        return (uint16_t)below(rng, 17);
    default:
        return (uint16_t)below(rng, max + 1);
    }
}

static void pick(struct model *m, uint64_t *rng, uint8_t *out, struct step *p)
{
    /* Descriptor types the device has none of, so GET_DESCRIPTOR must STALL: 0x00, 0x21, 0x22 and 0xFF are
     * not chapter-9 types (0x21/0x22: HID's class descriptors, which hilda has not), HILDA_DT_UNDEFINED is a
     * reserved code. USB_DT_DEVICE_QUALIFIER and USB_DT_OTHER_SPEED_CONFIG join them at full speed below. */
    static const uint8_t bad_types[] = { 0x00, USB_DT_INTERFACE, USB_DT_ENDPOINT, USB_DT_INTERFACE_POWER, USB_DT_OTG,
                                         USB_DT_DEBUG, USB_DT_INTERFACE_ASSOC, USB_DT_DEVICE_CAPABILITY, 0x21, 0x22,
                                         HILDA_DT_UNDEFINED, 0xFF };
    memset(p, 0, sizeof *p);
    p->want = W_STALL;
    unsigned a = below(rng, 21);
    switch (a) {
    case 0:
    case 1:
        p->s = hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, random_length(rng, 255));
        p->want = W_DATA, p->expect = m->dev, p->expect_len = 18;
        snprintf(p->what, sizeof p->what, "GET_DESCRIPTOR(device)");
        break;
    case 2:
    case 3:
        p->s = hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, random_length(rng, 1024));
        p->want = W_DATA, p->expect = m->cfg, p->expect_len = m->cfg_len;
        snprintf(p->what, sizeof p->what, "GET_DESCRIPTOR(configuration)");
        break;
    case 4: {
        size_t k = below(rng, (unsigned)m->nstr);
        /* one draw after the other, in this order: a seed replays the same requests */
        uint16_t langid = m->str_index[k] ? m->langid : (uint16_t)hilda_rng_next(rng);
        uint16_t len = random_length(rng, 255);
        p->s = hilda_setup_get_descriptor(USB_DT_STRING, m->str_index[k], langid, len);
        p->want = W_DATA, p->expect = m->str[k], p->expect_len = m->str_len[k];
        snprintf(p->what, sizeof p->what, "GET_DESCRIPTOR(string %u)", m->str_index[k]);
        break;
    }
    case 5:
        if (m->bos) {
            p->s = hilda_setup_get_descriptor(USB_DT_BOS, 0, 0, random_length(rng, 64));
            p->want = W_DATA, p->expect = m->bos, p->expect_len = m->bos_len;
        } else {
            p->s = hilda_setup_get_descriptor(USB_DT_BOS, 0, 0, 64);
        }
        snprintf(p->what, sizeof p->what, "GET_DESCRIPTOR(BOS)");
        break;
    case 6:
        p->s = hilda_setup_get_status(USB_RT_DEVICE_IN, 0);
        p->want = W_DATA, p->expect = m->status, p->expect_len = 2;
        snprintf(p->what, sizeof p->what, "GET_STATUS(device)");
        break;
    case 7:
        p->s = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_GET_VERSION, 0, 0, random_length(rng, 16) };
        p->want = W_DATA, p->expect = m->version, p->expect_len = 8;
        snprintf(p->what, sizeof p->what, "GET_VERSION");
        break;
    case 8:
    case 9: {
        uint16_t len = random_length(rng, HILDA_EP0_MAX_DATA);
        for (unsigned i = 0; i < len; i++)
            out[i] = (uint8_t)hilda_rng_next(rng);
        p->s = (struct usb_setup){ HILDA_REQTYPE_OUT, HILDA_REQ_ECHO_WRITE, (uint16_t)hilda_rng_next(rng), 0, len };
        p->want = W_OK;
        snprintf(p->what, sizeof p->what, "ECHO_WRITE");
        break;
    }
    case 10:
    case 11:
        p->s = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, (uint16_t)hilda_rng_next(rng),
                                     random_length(rng, HILDA_EP0_MAX_DATA) };
        p->want = W_DATA, p->expect = m->echo, p->expect_len = m->echo_len;
        snprintf(p->what, sizeof p->what, "ECHO_READ");
        break;
    case 12: {
        unsigned v = below(rng, HILDA_VARIANT_COUNT);
        p->s = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_GET_VARIANT, (uint16_t)v, 0, random_length(rng, 300) };
        p->want = W_DATA, p->expect = m->variant[v], p->expect_len = m->variant_len[v];
        snprintf(p->what, sizeof p->what, "GET_VARIANT(%s)", hilda_variant_name(v));
        break;
    }
    case 13:
        p->s = (struct usb_setup){ HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_STALL, 0, 0, 0 };
        p->want = W_OK;
        snprintf(p->what, sizeof p->what, "FAULT_STALL");
        break;
    /* invalid requests: each must STALL */
    case 14: {
        uint8_t t = bad_types[below(rng, sizeof bad_types)];
        if (t == 0x00 && !m->full_speed)
            t = HILDA_DT_UNDEFINED;
        uint8_t index = (uint8_t)below(rng, 4);
        p->s = hilda_setup_get_descriptor(t, index, 0, random_length(rng, 255));
        if (m->full_speed && below(rng, 4) == 0)
            p->s.wValue = USB_DESC_VALUE(below(rng, 2) ? USB_DT_OTHER_SPEED_CONFIG : USB_DT_DEVICE_QUALIFIER, 0);
            /* qualifier / other speed at full speed */
        snprintf(p->what, sizeof p->what, "GET_DESCRIPTOR(type 0x%02X)", p->s.wValue >> 8);
        break;
    }
    case 15:
        if (below(rng, 2))
            p->s = hilda_setup_get_descriptor(USB_DT_CONFIG, (uint8_t)(1 + below(rng, 255)), 0, 64);
        else
            p->s = hilda_setup_get_descriptor(USB_DT_STRING,
                                              (uint8_t)(m->highest_string + 1 + below(rng, 255u - m->highest_string)),
                                              m->langid, 64);
        snprintf(p->what, sizeof p->what, "GET_DESCRIPTOR(index that does not exist)");
        break;
    case 16: {
        uint8_t code;
        bool known;
        do {
            code = (uint8_t)hilda_rng_next(rng);
            known = hilda_vendor_request_known(code);
        } while (known);
        bool in = below(rng, 2);
        p->s = (struct usb_setup){ in ? HILDA_REQTYPE_IN : HILDA_REQTYPE_OUT, code, 0, 0, in ? 64 : 0 };
        snprintf(p->what, sizeof p->what, "vendor request 0x%02X (unknown)", code);
        break;
    }
    case 17:
        /* the other direction: an IN request sent as OUT and the reverse */
        if (below(rng, 2))
            p->s = (struct usb_setup){ HILDA_REQTYPE_OUT, HILDA_REQ_GET_VERSION, 0, 0, 0 };
        else
            p->s = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_ECHO_WRITE, 0, 0, 8 };
        snprintf(p->what, sizeof p->what, "vendor request in the wrong direction");
        break;
    case 18: {
        static const uint8_t rt[] = { USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE,
                                      USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_ENDPOINT,
                                      USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_OTHER };
        p->s = (struct usb_setup){ rt[below(rng, 3)], HILDA_REQ_GET_VERSION, 0, 0, 8 };
        snprintf(p->what, sizeof p->what, "vendor request to recipient %u", usb_setup_recipient(&p->s));
        break;
    }
    case 19: {
        /* hilda has no class interface, and type 3 is reserved: whatever bRequest, a STALL */
        static const uint8_t rt[] = { USB_DIR_IN | USB_TYPE_CLASS, USB_DIR_OUT | USB_TYPE_CLASS,
                                      USB_DIR_IN | USB_TYPE_RESERVED, USB_DIR_OUT | USB_TYPE_RESERVED };
        uint8_t t = rt[below(rng, 4)];
        p->s = (struct usb_setup){ t, (uint8_t)hilda_rng_next(rng), 0, 0, (t & USB_DIR_MASK) == USB_DIR_IN ? 8 : 0 };
        snprintf(p->what, sizeof p->what, "%s request", usb_setup_type(&p->s) == USB_TYPE_CLASS ? "class" : "reserved-type");
        break;
    }
    default:
        if (below(rng, 2)) {
            p->s = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_GET_VARIANT,
                                         (uint16_t)(HILDA_VARIANT_COUNT + below(rng, 0xFFFF - HILDA_VARIANT_COUNT)), 0, 64 };
            snprintf(p->what, sizeof p->what, "GET_VARIANT of an unknown id");
        } else {
            p->s = hilda_setup_get_status(USB_RT_DEVICE_IN, 0);
            p->s.wValue = (uint16_t)(1 + below(rng, 0xFFFF));   /* must be 0 (§9.4.5) */
            snprintf(p->what, sizeof p->what, "GET_STATUS(device) with wValue != 0");
        }
        break;
    }
}

/* A request whose answer does not matter: it takes a fault that may be armed. */
static void consume_fault(struct hilda_device *d, uint8_t *buf)
{
    struct usb_setup s = hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, USB_DT_DEVICE_SIZE);
    size_t got;
    hilda_ctrl(d, &s, buf, 0, &got, NULL);
}

static enum hilda_status load_model(struct run *x, struct model *m, uint8_t *buf)
{
    struct hilda_desc_set set;
    struct hilda_error le;
    hilda_desc_set_init(&set);
    enum hilda_status st = hilda_fetch_descriptors(x->d, &set, NULL, &le);
    if (st)
        goto fail;
    if (set.device.len != 18 || !set.configs[0].present || !set.string0.present || !set.status.present ||
        set.status.len != 2) {
        st = hilda_fail(&le, HILDA_ERR_PROTOCOL, "the device's descriptors are incomplete: run `hilda desc`");
        goto fail;
    }
    memcpy(m->dev, set.device.data, 18);
    m->cfg = malloc(set.configs[0].len);
    if (!m->cfg) {
        st = hilda_fail(&le, HILDA_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    memcpy(m->cfg, set.configs[0].data, set.configs[0].len);
    m->cfg_len = set.configs[0].len;
    memcpy(m->str[0], set.string0.data, set.string0.len);
    m->str_len[0] = set.string0.len;
    m->str_index[0] = 0;
    m->nstr = 1;
    m->langid = set.n_strings ? set.strings[0].langid : HILDA_LANGID_EN_US;
    for (size_t i = 0; i < set.n_strings && m->nstr < 8; i++) {
        if (set.strings[i].index > m->highest_string)
            m->highest_string = set.strings[i].index;
        if (!set.strings[i].raw.present)
            continue;
        memcpy(m->str[m->nstr], set.strings[i].raw.data, set.strings[i].raw.len);
        m->str_len[m->nstr] = set.strings[i].raw.len;
        m->str_index[m->nstr++] = set.strings[i].index;
    }
    if (set.bos.present) {
        m->bos = malloc(set.bos.len);
        if (m->bos) {
            memcpy(m->bos, set.bos.data, set.bos.len);
            m->bos_len = set.bos.len;
        }
    }
    memcpy(m->status, set.status.data, 2);
    m->full_speed = x->d->info.speed == LIBUSB_SPEED_FULL;
    hilda_desc_set_free(&set);

    struct usb_setup vs = { HILDA_REQTYPE_IN, HILDA_REQ_GET_VERSION, 0, 0, 8 };
    size_t got;
    if ((st = hilda_ctrl(x->d, &vs, m->version, 0, &got, &le)))
        return x->e ? (*x->e = le, st) : st;
    for (unsigned v = 0; v < HILDA_VARIANT_COUNT; v++) {
        if ((st = hilda_get_variant(x->d, (uint16_t)v, m->variant[v], 255, &m->variant_len[v], &le)))
            return x->e ? (*x->e = le, st) : st;
    }
    /* a known start: no fault armed (any request consumes one), empty echo buffer */
    consume_fault(x->d, buf);
    if ((st = hilda_echo_write(x->d, NULL, 0, &le)))
        return x->e ? (*x->e = le, st) : st;
    m->echo_len = 0;
    m->fault = false;
    return HILDA_OK;
fail:
    hilda_desc_set_free(&set);
    if (x->e)
        *x->e = le;
    return st;
}

static enum hilda_status stress_random(struct run *x, uint8_t *buf)
{
    struct model *m = calloc(1, sizeof *m);
    uint8_t *out = malloc(BIG);
    if (!m || !out) {
        free(m);
        free(out);
        return hilda_fail(x->e, HILDA_ERR_INTERNAL, "out of memory");
    }
    uint64_t rng = x->o->seed;
    x->r->seed = x->o->seed;
    unsigned count = x->o->random_count ? x->o->random_count : 2000;
    x->total = count;
    enum hilda_status st = load_model(x, m, buf);
    for (unsigned i = 0; i < count && !st; i++) {
        struct step p;
        pick(m, &rng, out, &p);
        enum want want = p.want;
        bool stalled_by_fault = m->fault;
        if (m->fault) {
            want = W_STALL;    /* the armed fault takes this request, whatever it is */
            m->fault = false;
        }
        size_t got;
        struct hilda_error le;
        bool is_out = !usb_setup_is_in(&p.s);
        enum hilda_status r = hilda_ctrl(x->d, &p.s, is_out ? out : buf, 0, &got, &le);
        x->r->transfers++;
        if ((st = fatal(x, r, &le)))
            break;
        bool ok;
        size_t expect = 0;
        switch (want) {
        case W_STALL:
            ok = r == HILDA_ERR_STALL;
            break;
        case W_OK:
            ok = r == HILDA_OK && (!is_out || got == p.s.wLength);
            break;
        default:
            expect = p.s.wLength < p.expect_len ? p.s.wLength : p.expect_len;
            ok = r == HILDA_OK && got == expect && memcmp(buf, p.expect, expect) == 0;
            break;
        }
        if (ok) {
            x->r->verified++;
            if (want == W_STALL)
                x->r->stalls_expected++;
            if (!stalled_by_fault && p.s.bRequest == HILDA_REQ_ECHO_WRITE && p.s.bmRequestType == HILDA_REQTYPE_OUT) {
                memcpy(m->echo, out, p.s.wLength);
                m->echo_len = p.s.wLength;
            }
            if (!stalled_by_fault && p.s.bRequest == HILDA_REQ_FAULT_STALL && p.s.bmRequestType == HILDA_REQTYPE_OUT)
                m->fault = true;
        } else {
            char what[128];
            hilda_describe_request(&p.s, what, sizeof what);
            /* a data reply that came but was not the one expected: say how it differs */
            const char *how = "";
            if (r == HILDA_OK && want == W_DATA)
                how = got != expect ? " with the wrong length" : " with wrong bytes";
            failure(x, "step %u (seed %llu): %s%s: expected %s, got %s%s", i, (unsigned long long)x->o->seed, what,
                    stalled_by_fault ? " after FAULT_STALL" : "",
                    want == W_STALL ? "STALL" : want == W_OK ? "success" : "data",
                    r ? hilda_status_name(r) : "success", how);
            /* back to a known state: consume any fault, empty the echo buffer */
            consume_fault(x->d, buf);
            hilda_echo_write(x->d, NULL, 0, NULL);
            m->echo_len = 0;
            m->fault = false;
        }
        tick(x);
    }
    consume_fault(x->d, buf);   /* leave no fault armed for whoever comes next */
    free(m->cfg);
    free(m->bos);
    free(m);
    free(out);
    return st;
}

/* ---- async: many in flight ---- */

static enum hilda_status stress_async(struct run *x)
{
    unsigned total = x->o->async_total ? x->o->async_total : 1024;
    unsigned flight = x->o->async_in_flight ? x->o->async_in_flight : 32;
    x->total = total;
    struct hilda_error le;
    uint8_t dev[18], cfg[1024], echo[512];
    size_t dev_len, cfg_len;
    struct usb_setup sd = hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, USB_DT_DEVICE_SIZE),
                     sc = hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, sizeof cfg);
    enum hilda_status st;
    if ((st = hilda_ctrl(x->d, &sd, dev, 0, &dev_len, &le)) || (st = hilda_ctrl(x->d, &sc, cfg, 0, &cfg_len, &le)))
        return x->e ? (*x->e = le, st) : st;
    for (size_t i = 0; i < sizeof echo; i++)
        echo[i] = (uint8_t)(i * 13 + 7);
    if ((st = hilda_echo_write(x->d, echo, sizeof echo, &le)))
        return x->e ? (*x->e = le, st) : st;
    struct hilda_async *v = calloc(total, sizeof *v);
    uint8_t *bufs = malloc((size_t)total * 1024);
    if (!v || !bufs) {
        free(v);
        free(bufs);
        return hilda_fail(x->e, HILDA_ERR_INTERNAL, "out of memory");
    }
    uint64_t rng = x->o->seed ^ 0xA5A5A5A5ull;
    for (unsigned i = 0; i < total; i++) {
        v[i].in = bufs + 1024 * (size_t)i;
        v[i].align = below(&rng, 8);
        switch (below(&rng, 5)) {
        case 0: v[i].setup = hilda_setup_get_descriptor(USB_DT_DEVICE, 0, 0, (uint16_t)below(&rng, 65)); break;
        case 1: v[i].setup = hilda_setup_get_descriptor(USB_DT_CONFIG, 0, 0, (uint16_t)below(&rng, 1025)); break;
        case 2: v[i].setup = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, (uint16_t)below(&rng, 1025) }; break;
        case 3: v[i].setup = hilda_setup_get_descriptor(HILDA_DT_UNDEFINED, 0, 0, 64); break;   /* must STALL */
        default: v[i].setup = (struct usb_setup){ HILDA_REQTYPE_IN, HILDA_REQ_ECHO_READ, 0, 0, 64 }; break;
        }
    }
    if (x->o->progress)
        x->o->progress(x->o->progress_ctx, "async", 0, total);
    st = hilda_ctrl_async(x->d, v, total, flight, 0, &le);
    if (st && x->e)
        *x->e = le;
    /* After a stop (device gone, interrupted) the transfers the device
     * answered before it (data or a STALL) are still verified; those that
     * never completed, or ended with the stop's error (no_device, cancelled,
     * an I/O error as the device went), are neither counted nor failures. */
    for (unsigned i = 0; i < total; i++) {
        if (st && (v[i].order < 0 || (v[i].status != HILDA_OK && v[i].status != HILDA_ERR_STALL)))
            continue;
        x->r->transfers++;
        const struct usb_setup *s = &v[i].setup;
        bool device = s->wValue == USB_DESC_VALUE(USB_DT_DEVICE, 0);
        const uint8_t *ref = s->bRequest == HILDA_REQ_ECHO_READ ? echo : device ? dev : cfg;
        size_t full = s->bRequest == HILDA_REQ_ECHO_READ ? sizeof echo : device ? dev_len : cfg_len;
        size_t want = s->wLength < full ? s->wLength : full;
        bool stall = s->wValue == USB_DESC_VALUE(HILDA_DT_UNDEFINED, 0);
        if (v[i].order != (long)i)
            failure(x, "transfer %u completed as number %ld: out of order", i, v[i].order);
        else if (stall ? v[i].status != HILDA_ERR_STALL
                       : (v[i].status != HILDA_OK || v[i].actual != want || memcmp(v[i].in, ref, want) != 0))
            failure(x, "transfer %u (bRequest 0x%02X wValue 0x%04X wLength %u): %s, %zu bytes (expected %s)", i,
                    s->bRequest, s->wValue, s->wLength, hilda_status_name(v[i].status), v[i].actual,
                    stall ? "STALL" : "the reference bytes");
        else {
            x->r->verified++;
            x->r->stalls_expected += stall;
        }
    }
    if (x->o->progress && !st)
        x->o->progress(x->o->progress_ctx, "async", total, total);
    free(v);
    free(bufs);
    return st;
}

enum hilda_status hilda_stress_run(struct hilda_device *d, enum hilda_stress_piece p, const struct hilda_stress_options *o,
                                   struct hilda_stress_report *r, struct hilda_error *e)
{
    static const struct hilda_stress_options defaults = { 0 };
    struct run x = { d, o ? o : &defaults, r, e, 0 };
    r->piece = p;
    uint8_t *buf = malloc(BIG);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    uint64_t t0 = hilda_now_ns();
    enum hilda_status st;
    switch (p) {
    case HILDA_STRESS_DESCRIPTORS: st = stress_descriptors(&x, buf); break;
    case HILDA_STRESS_ECHO: st = stress_echo(&x); break;
    case HILDA_STRESS_RANDOM: st = stress_random(&x, buf); break;
    case HILDA_STRESS_ASYNC: st = stress_async(&x); break;
    default: st = hilda_fail(e, HILDA_ERR_USAGE, "unknown stress piece"); break;
    }
    r->seconds = (double)(hilda_now_ns() - t0) / 1e9;
    r->partial = st != HILDA_OK;
    free(buf);
    return st;
}
