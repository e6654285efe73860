/* Kernel-like enumeration: see enumerate.h. One step per control transfer;
 * each answer is checked before the next request goes out. */
#include "enumerate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESET_RECOVERY_MS 10      /* USB 2.0 §7.1.7.3 TRSTRCY */
#define SET_ADDRESS_RECOVERY_MS 2 /* USB 2.0 §9.2.6.3 */
#define STRING_WLENGTH 255        /* what Linux asks (usb_string) */


enum step {
    S_IDLE,
    S_RESET_WAIT,
    S_DEV8,
    S_SET_ADDRESS,
    S_ADDRESS_WAIT,
    S_DEV18,
    S_CFG_HEAD,
    S_CFG_FULL,
    S_STRING0,
    S_STRING,
    S_SET_CONFIG,
};

struct enumerator {
    struct soc *soc;
    struct enum_host host;
    enum enum_mode mode;
    uint8_t address, restore_config;
    uint16_t reset_langid;
    enum_done_fn done;
    void *ctx;

    enum step step;
    unsigned attempt, cfg_index, string_which;
    bool xfer_active, timed_out;
    struct usb_xfer x;
    uint8_t *buf;                       /* data stage, up to 64 KiB */
    uint8_t cfg_head[USB_DT_CONFIG_SIZE];
    struct sched_event delay_ev, timeout_ev;
    struct enum_result r;
    size_t configs_cap;
};

static void xfer_done(struct usb_xfer *x, void *ctx);

static void finish(struct enumerator *e, bool ok, bool gone, const char *why)
{
    e->step = S_IDLE;
    soc_cancel(e->soc, &e->delay_ev);
    soc_cancel(e->soc, &e->timeout_ev);
    if (e->done)
        e->done(e->ctx, ok, gone, &e->r, why);
}

static void restart(struct enumerator *e)
{
    free(e->r.configs);
    memset(&e->r, 0, sizeof e->r);
    e->configs_cap = 0;
    e->cfg_index = 0;
    e->string_which = 0;
    e->host.bus_reset(e->host.ctx);
    e->step = S_RESET_WAIT;
    soc_schedule(e->soc, &e->delay_ev, SOC_MS(RESET_RECOVERY_MS));
}

static void failed(struct enumerator *e, bool gone, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void failed(struct enumerator *e, bool gone, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (!gone && e->mode == ENUM_ATTACH && e->attempt == 0) {
        e->attempt++;
        soc_log(e->soc, "usb: enumeration at address %u: %s; retrying after a bus reset\n", e->address, why);
        restart(e);
        return;
    }
    finish(e, false, gone, why);
}

static void control(struct enumerator *e, uint8_t type, uint8_t request, uint16_t value, uint16_t index,
                    uint16_t length)
{
    const struct usb_setup s = {
        .bmRequestType = type, .bRequest = request, .wValue = value, .wIndex = index, .wLength = length,
    };
    e->x = (struct usb_xfer){
        .ep = 0,
        .buf = e->buf,
        .len = length,
        .done = xfer_done,
        .ctx = e,
    };
    usb_setup_encode(&s, e->x.setup);
    e->timed_out = false;
    if (!e->host.submit(e->host.ctx, &e->x)) {
        failed(e, true, "the device is not connected");
        return;
    }
    e->xfer_active = true;
    soc_schedule(e->soc, &e->timeout_ev, SOC_MS(ENUM_XFER_TIMEOUT_MS));
}

static void get_descriptor(struct enumerator *e, uint8_t type, uint8_t index, uint16_t langid, uint16_t length)
{
    control(e, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(type, index), langid, length);
}

static const char *step_name(const struct enumerator *e, char *buf, size_t cap)
{
    switch (e->step) {
    case S_DEV8: return "GET_DESCRIPTOR(device, 8)";
    case S_SET_ADDRESS: snprintf(buf, cap, "SET_ADDRESS(%u)", e->address); return buf;
    case S_DEV18: return "GET_DESCRIPTOR(device, 18)";
    case S_CFG_HEAD: snprintf(buf, cap, "GET_DESCRIPTOR(configuration %u, 9)", e->cfg_index); return buf;
    case S_CFG_FULL:
        snprintf(buf, cap, "GET_DESCRIPTOR(configuration %u, %u)", e->cfg_index, usb_get_le16(e->cfg_head + 2));
        return buf;
    case S_STRING0: return "GET_DESCRIPTOR(string 0)";
    case S_STRING: snprintf(buf, cap, "GET_DESCRIPTOR(string %u)", usb_setup_decode(e->x.setup).wValue & 0xFF); return buf;
    case S_SET_CONFIG: snprintf(buf, cap, "SET_CONFIGURATION(%u)", usb_setup_decode(e->x.setup).wValue & 0xFF); return buf;
    default: return "?";
    }
}

static const char *status_text(enum usb_xfer_status st)
{
    switch (st) {
    case USB_XFER_STALL: return "stalled";
    case USB_XFER_CANCELLED: return "timed out";
    case USB_XFER_DISCONNECTED: return "failed: the device disconnected";
    case USB_XFER_OVERFLOW: return "failed: the device sent more than asked (babble)";
    default: return "failed";
    }
}

/* The string index the device descriptor names for string_which, 0 if none. */
static uint8_t string_index(const struct enumerator *e, unsigned which)
{
    return e->r.device[14 + which];
}

static void next_string(struct enumerator *e)
{
    while (e->string_which < 3) {
        unsigned which = e->string_which;
        uint8_t index = string_index(e, which);
        if (e->mode == ENUM_RESET && which != 2) {
            e->string_which++;
            continue;
        }
        if (index == 0 || e->r.langid == 0) {
            e->string_which++;
            continue;
        }
        e->step = S_STRING;
        get_descriptor(e, USB_DT_STRING, index, e->r.langid, STRING_WLENGTH);
        return;
    }
    uint8_t value = e->mode == ENUM_RESET ? e->restore_config : e->r.configs[5];
    if (e->mode == ENUM_RESET && value == 0) {
        finish(e, true, false, NULL);
        return;
    }
    e->step = S_SET_CONFIG;
    control(e, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, value, 0, 0);
}

static bool append_config(struct enumerator *e, const uint8_t *c, size_t len)
{
    if (e->r.configs_len + len > e->configs_cap) {
        size_t cap = e->r.configs_len + len;
        uint8_t *p = realloc(e->r.configs, cap);
        if (!p)
            return false;
        e->r.configs = p;
        e->configs_cap = cap;
    }
    memcpy(e->r.configs + e->r.configs_len, c, len);
    e->r.configs_len += len;
    return true;
}

/* One answer in; the next request out. */
static void answered(struct enumerator *e)
{
    char err[200];
    const uint8_t *d = e->buf;
    size_t n = e->x.actual;
    switch (e->step) {
    case S_DEV8:
        if (usbdesc_check_device_head(d, n, err, sizeof err)) {
            failed(e, false, "%s", err);
            return;
        }
        e->step = S_SET_ADDRESS;
        control(e, USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS, e->address, 0, 0);
        return;
    case S_SET_ADDRESS:
        e->step = S_ADDRESS_WAIT;
        soc_schedule(e->soc, &e->delay_ev, SOC_MS(SET_ADDRESS_RECOVERY_MS));
        return;
    case S_DEV18:
        if (usbdesc_check_device(d, n, err, sizeof err)) {
            failed(e, false, "%s", err);
            return;
        }
        memcpy(e->r.device, d, USB_DT_DEVICE_SIZE);
        e->cfg_index = 0;
        e->step = S_CFG_HEAD;
        get_descriptor(e, USB_DT_CONFIG, 0, 0, USB_DT_CONFIG_SIZE);
        return;
    case S_CFG_HEAD:
        if (n != USB_DT_CONFIG_SIZE) {
            failed(e, false, "configuration %u: %zu bytes answered to a request for 9", e->cfg_index, n);
            return;
        }
        if (usbdesc_check_config_head(d, n, err, sizeof err)) {
            failed(e, false, "%s", err);
            return;
        }
        memcpy(e->cfg_head, d, USB_DT_CONFIG_SIZE);
        e->step = S_CFG_FULL;
        get_descriptor(e, USB_DT_CONFIG, (uint8_t)e->cfg_index, 0, usb_get_le16(d + 2));
        return;
    case S_CFG_FULL:
        if (n >= USB_DT_CONFIG_SIZE && memcmp(d, e->cfg_head, USB_DT_CONFIG_SIZE) != 0) {
            failed(e, false, "configuration %u: the first 9 bytes differ between the short and the full read",
                   e->cfg_index);
            return;
        }
        if (usbdesc_check_config(d, n, err, sizeof err)) {
            failed(e, false, "%s", err);
            return;
        }
        if (!append_config(e, d, n)) {
            failed(e, true, "out of memory");
            return;
        }
        if (++e->cfg_index < e->r.device[17]) {
            e->step = S_CFG_HEAD;
            get_descriptor(e, USB_DT_CONFIG, (uint8_t)e->cfg_index, 0, USB_DT_CONFIG_SIZE);
            return;
        }
        if (e->mode == ENUM_RESET) {
            e->r.langid = e->reset_langid;
            e->string_which = 0;
            next_string(e);
            return;
        }
        if (!string_index(e, 0) && !string_index(e, 1) && !string_index(e, 2)) {
            e->string_which = 3;   /* no strings named: string 0 is not needed (nor asked by Linux) */
            next_string(e);
            return;
        }
        e->step = S_STRING0;
        get_descriptor(e, USB_DT_STRING, 0, 0, STRING_WLENGTH);
        return;
    case S_STRING0:
        if (usbdesc_first_langid(d, n, &e->r.langid, err, sizeof err)) {
            soc_log(e->soc, "usb: warning: %s; the device's strings are left out\n", err);
            e->r.langid = 0;
        }
        e->string_which = 0;
        next_string(e);
        return;
    case S_STRING: {
        static const char *const names[3] = { "manufacturer", "product", "serial" };
        char *dst = e->string_which == 0 ? e->r.manufacturer : e->string_which == 1 ? e->r.product : e->r.serial;
        bool *has = e->string_which == 0 ? &e->r.has_manufacturer
                  : e->string_which == 1 ? &e->r.has_product : &e->r.has_serial;
        if (usbdesc_string_utf8(d, n, dst, ENUM_STRING_MAX, err, sizeof err) < 0)
            soc_log(e->soc, "usb: warning: %s string (index %u): %s; left out\n", names[e->string_which],
                    string_index(e, e->string_which), err);
        else
            *has = true;
        e->string_which++;
        next_string(e);
        return;
    }
    case S_SET_CONFIG:
        e->r.config_value = (uint8_t)usb_setup_decode(e->x.setup).wValue;
        finish(e, true, false, NULL);
        return;
    default:
        return;
    }
}

static void xfer_done(struct usb_xfer *x, void *ctx)
{
    struct enumerator *e = ctx;
    (void)x;
    e->xfer_active = false;
    soc_cancel(e->soc, &e->timeout_ev);
    e->host.completed(e->host.ctx, &e->x);
    if (e->step == S_IDLE)
        return;                         /* aborted */
    if (e->x.status == USB_XFER_OK) {
        answered(e);
        return;
    }
    char name[64];
    const char *what = step_name(e, name, sizeof name);
    enum usb_xfer_status st = e->timed_out ? USB_XFER_CANCELLED : e->x.status;
    bool gone = st == USB_XFER_DISCONNECTED;
    if (st == USB_XFER_STALL && (e->step == S_STRING0 || e->step == S_STRING)) {
        /* strings are optional to Linux too: leave them out */
        soc_log(e->soc, "usb: warning: %s stalled; the string is left out\n", what);
        if (e->step == S_STRING0)
            e->r.langid = 0;
        else
            e->string_which++;
        next_string(e);
        return;
    }
    if (st == USB_XFER_STALL && e->step == S_SET_CONFIG && e->mode == ENUM_ATTACH) {
        soc_log(e->soc, "usb: warning: %s stalled; the device stays unconfigured\n", what);
        e->r.config_value = 0;
        finish(e, true, false, NULL);
        return;
    }
    failed(e, gone, "%s %s", what, status_text(st));
}

static void delay_fired(struct soc *soc, void *ctx)
{
    struct enumerator *e = ctx;
    (void)soc;
    switch (e->step) {
    case S_RESET_WAIT:
        e->step = S_DEV8;
        get_descriptor(e, USB_DT_DEVICE, 0, 0, 8);
        return;
    case S_ADDRESS_WAIT:
        e->step = S_DEV18;
        get_descriptor(e, USB_DT_DEVICE, 0, 0, USB_DT_DEVICE_SIZE);
        return;
    default:
        return;
    }
}

static void timeout_fired(struct soc *soc, void *ctx)
{
    struct enumerator *e = ctx;
    (void)soc;
    if (!e->xfer_active)
        return;
    e->timed_out = true;
    if (!e->host.cancel(e->host.ctx, &e->x)) {
        /* not in the model any more: give up on it here */
        e->xfer_active = false;
        failed(e, false, "a control transfer timed out");
    }
}

struct enumerator *enumerator_new(struct soc *soc, const struct enum_host *host)
{
    struct enumerator *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->buf = malloc(65536);
    if (!e->buf) {
        free(e);
        return NULL;
    }
    e->soc = soc;
    e->host = *host;
    e->delay_ev = (struct sched_event){ .name = "USB enumeration delay", .fire = delay_fired, .ctx = e };
    e->timeout_ev = (struct sched_event){ .name = "USB enumeration timeout", .fire = timeout_fired, .ctx = e };
    return e;
}

void enumerator_free(struct enumerator *e)
{
    if (!e)
        return;
    enumerator_abort(e);
    free(e->r.configs);
    free(e->buf);
    free(e);
}

void enumerator_start(struct enumerator *e, enum enum_mode mode, uint8_t address, uint8_t config_value,
                      uint16_t langid, enum_done_fn done, void *ctx)
{
    enumerator_abort(e);
    e->mode = mode;
    e->address = address;
    e->restore_config = config_value;
    e->reset_langid = langid;
    e->done = done;
    e->ctx = ctx;
    e->attempt = 0;
    restart(e);
}

void enumerator_abort(struct enumerator *e)
{
    e->step = S_IDLE;
    soc_cancel(e->soc, &e->delay_ev);
    soc_cancel(e->soc, &e->timeout_ev);
    if (e->xfer_active) {
        e->xfer_active = false;
        e->host.cancel(e->host.ctx, &e->x);   /* its done() sees S_IDLE and returns */
    }
}

bool enumerator_busy(const struct enumerator *e)
{
    return e->step != S_IDLE;
}
