/* Unit tests of the bridge's descriptor checks (descriptors.c) and of the
 * kernel-like enumeration (enumerate.c) against a scripted device on a bare
 * soc: the request sequence, what is accepted, what is refused, the retry
 * after a reset, timeouts in virtual time, optional strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "descriptors.h"
#include "enumerate.h"
#include "soc_impl.h"

/* ---- descriptors ---- */

static const uint8_t good_device[18] = { 18, 1, 0x01, 0x02, 0, 0, 0, 64, 0x09, 0x12, 0x01, 0x00, 0x01, 0x00,
                                         1, 2, 3, 1 };
static const uint8_t good_config[32] = {
    9, 2, 32, 0, 1, 1, 0, 0x80, 50,
    9, 4, 0, 0, 2, 0xFF, 0, 0, 4,
    7, 5, 0x81, 2, 64, 0, 0,
    7, 5, 0x01, 2, 64, 0, 0,
};

static void device_checks(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(usbdesc_check_device(good_device, 18, err, sizeof err), 0);
    assert_int_equal(usbdesc_check_device_head(good_device, 8, err, sizeof err), 0);
    uint8_t d[18];
    memcpy(d, good_device, 18);
    d[0] = 17;
    assert_int_equal(usbdesc_check_device(d, 18, err, sizeof err), -1);
    assert_non_null(strstr(err, "bLength 17"));
    memcpy(d, good_device, 18);
    d[7] = 63;
    assert_int_equal(usbdesc_check_device(d, 18, err, sizeof err), -1);
    memcpy(d, good_device, 18);
    d[17] = 0;
    assert_int_equal(usbdesc_check_device(d, 18, err, sizeof err), -1);
    d[17] = 9;
    assert_int_equal(usbdesc_check_device(d, 18, err, sizeof err), -1);
    assert_int_equal(usbdesc_check_device(good_device, 17, err, sizeof err), -1);
    assert_int_equal(usbdesc_check_device_head(good_device, 7, err, sizeof err), -1);
}

static void config_checks(void **state)
{
    (void)state;
    char err[200];
    uint8_t c[40];
    assert_int_equal(usbdesc_check_config(good_config, 32, err, sizeof err), 0);
    assert_int_equal(usbdesc_check_config(good_config, 31, err, sizeof err), -1);   /* short of wTotalLength */
    memcpy(c, good_config, 32);
    c[9] = 0x30;                                     /* interface runs past the end */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    assert_non_null(strstr(err, "runs past"));
    memcpy(c, good_config, 32);
    c[25] = 1;                                       /* a descriptor with bLength 1 */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    memcpy(c, good_config, 32);
    c[13] = 3;                                       /* declares 3 endpoints, 2 follow */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    memcpy(c, good_config, 32);
    c[4] = 2;                                        /* bNumInterfaces 2, one described */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    memcpy(c, good_config, 32);
    c[29] = 0x81;                                    /* same endpoint twice */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    memcpy(c, good_config, 32);
    c[22] = 65;                                      /* bulk wMaxPacketSize 65 */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    memcpy(c, good_config, 32);
    c[20] = 0x80;                                    /* endpoint 0 in a configuration */
    assert_int_equal(usbdesc_check_config(c, 32, err, sizeof err), -1);
    memcpy(c, good_config, 32);
    c[2] = 8;                                        /* wTotalLength below bLength */
    assert_int_equal(usbdesc_check_config_head(c, 9, err, sizeof err), -1);
    /* an unknown descriptor type inside is skipped, as hosts do */
    memcpy(c, good_config, 32);
    uint8_t pad[4] = { 4, 0xFF, 1, 2 };
    memcpy(c + 32, pad, 4);
    c[2] = 36;
    assert_int_equal(usbdesc_check_config(c, 36, err, sizeof err), 0);
}

static void config_queries(void **state)
{
    (void)state;
    struct usb_ep_info ep;
    assert_true(usbdesc_find_endpoint(good_config, 32, NULL, 0x81, &ep));
    assert_int_equal(ep.interface, 0);
    assert_int_equal(ep.attributes, 2);
    assert_int_equal(ep.max_packet, 64);
    assert_false(usbdesc_find_endpoint(good_config, 32, NULL, 0x82, &ep));
    assert_int_equal(usbdesc_alt_count(good_config, 32, 0), 1);
    assert_int_equal(usbdesc_alt_count(good_config, 32, 1), 0);
    assert_true(usbdesc_has_alt(good_config, 32, 0, 0));
    assert_false(usbdesc_has_alt(good_config, 32, 0, 1));
    uint8_t two[64];
    memcpy(two, good_config, 32);
    memcpy(two + 32, good_config, 32);
    two[32 + 5] = 7;
    size_t len = 0;
    assert_ptr_equal(usbdesc_config_by_value(two, 64, 7, &len), two + 32);
    assert_int_equal(len, 32);
    assert_null(usbdesc_config_by_value(two, 64, 3, &len));
    assert_null(usbdesc_config_by_value(two, 40, 7, &len));   /* cut: not found, no overrun */
}

static void strings(void **state)
{
    (void)state;
    char out[64], err[200];
    const uint8_t hilda[12] = { 12, 3, 'h', 0, 'i', 0, 'l', 0, 'd', 0, 'a', 0 };
    assert_int_equal(usbdesc_string_utf8(hilda, 12, out, sizeof out, err, sizeof err), 5);
    assert_string_equal(out, "hilda");
    /* odd bLength: the half character becomes U+FFFD */
    const uint8_t odd[5] = { 5, 3, 'A', 0, 'B' };
    assert_int_equal(usbdesc_string_utf8(odd, 5, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "A\xEF\xBF\xBD");
    /* a surrogate pair, an unpaired one, control characters */
    const uint8_t mix[12] = { 12, 3, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xD8, '\n', 0, 0xE9, 0 };
    usbdesc_string_utf8(mix, 12, out, sizeof out, err, sizeof err);
    assert_string_equal(out, "\xF0\x9F\x98\x80\xEF\xBF\xBD?\xC3\xA9");
    /* bLength past what arrived, wrong type, too short */
    const uint8_t lying[4] = { 40, 3, 'x', 0 };
    assert_int_equal(usbdesc_string_utf8(lying, 4, out, sizeof out, err, sizeof err), -1);
    const uint8_t notstr[4] = { 4, 2, 'x', 0 };
    assert_int_equal(usbdesc_string_utf8(notstr, 4, out, sizeof out, err, sizeof err), -1);
    assert_int_equal(usbdesc_string_utf8(notstr, 1, out, sizeof out, err, sizeof err), -1);
    /* a small output buffer cuts between characters, never inside one */
    const uint8_t accents[8] = { 8, 3, 0xE9, 0, 0xE9, 0, 0xE9, 0 };
    usbdesc_string_utf8(accents, 8, out, 4, err, sizeof err);
    assert_string_equal(out, "\xC3\xA9");
    uint16_t lang = 0;
    const uint8_t s0[4] = { 4, 3, 0x09, 0x04 };
    assert_int_equal(usbdesc_first_langid(s0, 4, &lang, err, sizeof err), 0);
    assert_int_equal(lang, 0x0409);
    assert_int_equal(usbdesc_first_langid(s0, 2, &lang, err, sizeof err), -1);
}

/* ---- enumeration against a scripted device ---- */

struct fake {
    struct soc *soc;
    FILE *log;
    char *logbuf;
    size_t loglen;
    struct usb_xfer *pending;
    struct sched_event answer_ev;
    unsigned resets, requests;
    char trace[2048];                   /* one line per request: "80 06 0100 0000 8" */
    uint8_t device[18];
    uint8_t config[64];
    size_t config_len;                  /* what a full read returns */
    bool stall_string2, stall_string0, stall_set_config, silent, stall_first_dev8, dev8_stalled;
    bool done, ok, gone;
    char why[256];
    struct enum_result r;
};

static size_t answer_for(struct fake *f, const uint8_t *raw, uint8_t *buf, enum usb_xfer_status *st)
{
    const struct usb_setup s = usb_setup_decode(raw);
    uint16_t value = s.wValue, length = s.wLength;
    const uint8_t *src = NULL;
    size_t n = 0;
    uint8_t str[64];
    *st = USB_XFER_OK;
    if (usb_setup_is(&s, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR)) {
        switch (value >> 8) {
        case USB_DT_DEVICE:
            if (length == 8 && f->stall_first_dev8 && !f->dev8_stalled) {
                f->dev8_stalled = true;
                *st = USB_XFER_STALL;
                return 0;
            }
            src = f->device, n = USB_DT_DEVICE_SIZE;
            break;
        case USB_DT_CONFIG:
            src = f->config, n = length == USB_DT_CONFIG_SIZE ? USB_DT_CONFIG_SIZE : f->config_len;
            break;
        case USB_DT_STRING:
            if ((value & 0xFF) == 0) {
                if (f->stall_string0) {
                    *st = USB_XFER_STALL;
                    return 0;
                }
                static const uint8_t s0[4] = { 4, USB_DT_STRING, 0x09, 0x04 };
                src = s0, n = 4;
            } else {
                if ((value & 0xFF) == 2 && f->stall_string2) {
                    *st = USB_XFER_STALL;
                    return 0;
                }
                const char *text = (value & 0xFF) == 1 ? "hilda" : (value & 0xFF) == 2 ? "product" : "SERIAL01";
                size_t len = strlen(text);
                str[0] = (uint8_t)(2 + 2 * len);
                str[1] = USB_DT_STRING;
                for (size_t i = 0; i < len; i++) {
                    str[2 + 2 * i] = (uint8_t)text[i];
                    str[3 + 2 * i] = 0;
                }
                src = str, n = str[0];
            }
            break;
        default:
            *st = USB_XFER_STALL;
            return 0;
        }
    } else if (usb_setup_is(&s, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION) && f->stall_set_config) {
        *st = USB_XFER_STALL;
        return 0;
    }
    if (n > length)
        n = length;
    if (src)
        memcpy(buf, src, n);
    return n;
}

static void answer(struct soc *soc, void *ctx)
{
    (void)soc;
    struct fake *f = ctx;
    struct usb_xfer *x = f->pending;
    if (!x || f->silent)
        return;
    f->pending = NULL;
    enum usb_xfer_status st;
    x->actual = (uint32_t)answer_for(f, x->setup, x->buf, &st);
    x->status = st;
    x->done(x, x->ctx);
}

static bool fake_submit(void *ctx, struct usb_xfer *x)
{
    struct fake *f = ctx;
    f->requests++;
    size_t used = strlen(f->trace);
    const struct usb_setup s = usb_setup_decode(x->setup);
    snprintf(f->trace + used, sizeof f->trace - used, "%02x %02x %04x %04x %u\n", s.bmRequestType, s.bRequest,
             s.wValue, s.wIndex, s.wLength);
    f->pending = x;
    soc_schedule(f->soc, &f->answer_ev, SOC_US(20));
    return true;
}

static void fake_completed(void *ctx, struct usb_xfer *x)
{
    (void)ctx;
    (void)x;
}

static bool fake_cancel(void *ctx, struct usb_xfer *x)
{
    struct fake *f = ctx;
    if (f->pending != x)
        return false;
    f->pending = NULL;
    x->status = USB_XFER_CANCELLED;
    x->done(x, x->ctx);
    return true;
}

static void fake_reset(void *ctx)
{
    struct fake *f = ctx;
    f->resets++;
}

static void enum_done(void *ctx, bool ok, bool gone, const struct enum_result *r, const char *why)
{
    struct fake *f = ctx;
    f->done = true;
    f->ok = ok;
    f->gone = gone;
    snprintf(f->why, sizeof f->why, "%s", why ? why : "");
    f->r = *r;
}

static struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof *f);
    f->log = open_memstream(&f->logbuf, &f->loglen);
    f->soc = soc_new(f->log);
    f->answer_ev = (struct sched_event){ .name = "fake device", .fire = answer, .ctx = f };
    memcpy(f->device, good_device, 18);
    memcpy(f->config, good_config, 32);
    f->config_len = 32;
    return f;
}

static void fake_free(struct fake *f)
{
    soc_free(f->soc);
    fclose(f->log);
    free(f->logbuf);
    free(f);
}

/* Runs an enumeration to its end (or 30 s of virtual time). */
static struct enumerator *run(struct fake *f, enum enum_mode mode)
{
    const struct enum_host host = { fake_submit, fake_completed, fake_cancel, fake_reset, f };
    struct enumerator *e = enumerator_new(f->soc, &host);
    enumerator_start(e, mode, 5, mode == ENUM_RESET ? 1 : 0, 0x0409, enum_done, f);
    while (!f->done && soc_now(f->soc) < SOC_MS(30000) && soc_next_event(f->soc) != UINT64_MAX)
        soc_advance(f->soc, soc_next_event(f->soc));
    return e;
}

static const char *log_text(struct fake *f)
{
    fflush(f->log);
    return f->logbuf ? f->logbuf : "";
}

static void enumerates_like_linux(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_true(f->done);
    assert_true(f->ok);
    assert_string_equal(f->trace,
                        "80 06 0100 0000 8\n"
                        "00 05 0005 0000 0\n"
                        "80 06 0100 0000 18\n"
                        "80 06 0200 0000 9\n"
                        "80 06 0200 0000 32\n"
                        "80 06 0300 0000 255\n"
                        "80 06 0301 0409 255\n"
                        "80 06 0302 0409 255\n"
                        "80 06 0303 0409 255\n"
                        "00 09 0001 0000 0\n");
    assert_int_equal(f->resets, 1);
    assert_memory_equal(f->r.device, good_device, 18);
    assert_int_equal(f->r.configs_len, 32);
    assert_string_equal(f->r.manufacturer, "hilda");
    assert_string_equal(f->r.product, "product");
    assert_string_equal(f->r.serial, "SERIAL01");
    assert_int_equal(f->r.langid, 0x0409);
    assert_int_equal(f->r.config_value, 1);
    enumerator_free(e);
    fake_free(f);
}

static void refuses_a_bad_device_descriptor_after_one_retry(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->device[0] = 17;
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_true(f->done);
    assert_false(f->ok);
    assert_false(f->gone);
    assert_int_equal(f->resets, 2);
    assert_non_null(strstr(f->why, "bLength 17"));
    assert_non_null(strstr(log_text(f), "retrying after a bus reset"));
    enumerator_free(e);
    fake_free(f);
}

static void refuses_a_short_configuration(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->config[2] = 40;                  /* wTotalLength 40, 32 bytes come */
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_false(f->ok);
    assert_non_null(strstr(f->why, "wTotalLength says 40"));
    enumerator_free(e);
    fake_free(f);
}

static void refuses_an_overrunning_descriptor(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->config[18] = 0x40;               /* the first endpoint claims 64 bytes */
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_false(f->ok);
    assert_non_null(strstr(f->why, "runs past"));
    enumerator_free(e);
    fake_free(f);
}

static void retry_succeeds(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->stall_first_dev8 = true;
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_true(f->ok);
    assert_int_equal(f->resets, 2);
    enumerator_free(e);
    fake_free(f);
}

static void strings_are_optional(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->stall_string2 = true;
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_true(f->ok);
    assert_true(f->r.has_manufacturer);
    assert_false(f->r.has_product);
    assert_true(f->r.has_serial);
    assert_non_null(strstr(log_text(f), "string is left out"));
    enumerator_free(e);
    fake_free(f);

    f = fake_new();
    f->stall_string0 = true;
    e = run(f, ENUM_ATTACH);
    assert_true(f->ok);
    assert_false(f->r.has_manufacturer || f->r.has_product || f->r.has_serial);
    enumerator_free(e);
    fake_free(f);
}

static void a_refused_configuration_leaves_it_unconfigured(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->stall_set_config = true;
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_true(f->ok);
    assert_int_equal(f->r.config_value, 0);
    enumerator_free(e);
    fake_free(f);
}

static void a_silent_device_times_out_in_virtual_time(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    f->silent = true;
    struct enumerator *e = run(f, ENUM_ATTACH);
    assert_true(f->done);
    assert_false(f->ok);
    assert_non_null(strstr(f->why, "timed out"));
    /* two attempts of 5 s each, plus the reset recoveries */
    assert_true(soc_now(f->soc) >= SOC_MS(2 * ENUM_XFER_TIMEOUT_MS));
    assert_true(soc_now(f->soc) < SOC_MS(2 * ENUM_XFER_TIMEOUT_MS + 100));
    enumerator_free(e);
    fake_free(f);
}

static void reset_rereads_and_restores(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    struct enumerator *e = run(f, ENUM_RESET);
    assert_true(f->ok);
    assert_string_equal(f->trace,
                        "80 06 0100 0000 8\n"
                        "00 05 0005 0000 0\n"
                        "80 06 0100 0000 18\n"
                        "80 06 0200 0000 9\n"
                        "80 06 0200 0000 32\n"
                        "80 06 0303 0409 255\n"
                        "00 09 0001 0000 0\n");
    assert_string_equal(f->r.serial, "SERIAL01");
    assert_int_equal(f->r.config_value, 1);
    enumerator_free(e);
    fake_free(f);
}

static void abort_is_quiet(void **state)
{
    (void)state;
    struct fake *f = fake_new();
    const struct enum_host host = { fake_submit, fake_completed, fake_cancel, fake_reset, f };
    struct enumerator *e = enumerator_new(f->soc, &host);
    enumerator_start(e, ENUM_ATTACH, 5, 0, 0, enum_done, f);
    soc_advance(f->soc, SOC_US(10005)); /* past the reset recovery: the first request is out */
    assert_non_null(f->pending);
    enumerator_abort(e);
    assert_null(f->pending);
    assert_false(enumerator_busy(e));
    soc_advance(f->soc, SOC_MS(20000));
    assert_false(f->done);
    enumerator_free(e);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_checks),
        cmocka_unit_test(config_checks),
        cmocka_unit_test(config_queries),
        cmocka_unit_test(strings),
        cmocka_unit_test(enumerates_like_linux),
        cmocka_unit_test(refuses_a_bad_device_descriptor_after_one_retry),
        cmocka_unit_test(refuses_a_short_configuration),
        cmocka_unit_test(refuses_an_overrunning_descriptor),
        cmocka_unit_test(retry_succeeds),
        cmocka_unit_test(strings_are_optional),
        cmocka_unit_test(a_refused_configuration_leaves_it_unconfigured),
        cmocka_unit_test(a_silent_device_times_out_in_virtual_time),
        cmocka_unit_test(reset_rereads_and_restores),
        cmocka_unit_test(abort_is_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
