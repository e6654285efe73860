/* Batch mode: one JSON object per line in, one per line out, so that a
 * script or pytest drives one long-lived hilda process (docs/host.md,
 * "Batch protocol"). Every reply carries the request's "id". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "descprint.h"
#include "text.h"
#include "validate.h"
#include "xfer.h"

#define LINE_MAX_BYTES (4u << 20)
#define BATCH_PROTOCOL "hilda-batch/1"

static const char usage[] =
    "usage: hilda batch [options]\n\n"
    "Reads one JSON request object per line on stdin and writes one JSON reply object per line on\n"
    "stdout, so one long-lived process serves a whole test session. The first line out is\n"
    "{\"event\":\"ready\",...}. Requests: {\"id\":ID,\"cmd\":NAME,...}; replies: {\"id\":ID,\"ok\":true,...}\n"
    "or {\"id\":ID,\"ok\":false,\"error\":NAME,\"message\":SENTENCE}, NAME as in the exit code table.\n"
    "Commands: hello list open close info wait ctrl echo desc ch9 stress timing uart_send uart_recv\n"
    "uart_baud uart_status stats reset_counters version fault_stall fault_delay reset bootloader quit.\n"
    "The selection options choose the device the first device command opens. docs/host.md lists\n"
    "every command with its fields. Exit 0 at end of input or quit.\n";

struct batch {
    struct cli *c;
    struct hilda_device *d;
    struct hilda_selector sel;
    char serial[HILDA_SERIAL_MAX];
    char path[HILDA_PATH_MAX];
    bool quit;
};

/* ---- request fields ---- */

static bool field_uint(const struct hjv *req, const char *key, unsigned long long max, unsigned long long def,
                       unsigned long long *out, struct hilda_error *e)
{
    const struct hjv *v = hjv_get(req, key);
    if (!v || v->type == HJV_NULL) {
        *out = def;
        return true;
    }
    if (v->type == HJV_NUMBER && v->is_int && v->i >= 0 && (unsigned long long)v->i <= max) {
        *out = (unsigned long long)v->i;
        return true;
    }
    if (v->type == HJV_STRING) {   /* "0xc0" is handy in hand-written requests */
        unsigned long x;
        if (hilda_parse_uint(v->str, max > 0xFFFFFFFFull ? 0xFFFFFFFFul : (unsigned long)max, &x)) {
            *out = x;
            return true;
        }
    }
    hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be an integer in 0..%llu", key, max);
    return false;
}

static bool field_bool(const struct hjv *req, const char *key, bool def, bool *out, struct hilda_error *e)
{
    const struct hjv *v = hjv_get(req, key);
    if (!v || v->type == HJV_NULL) {
        *out = def;
        return true;
    }
    if (v->type == HJV_BOOL) {
        *out = v->b;
        return true;
    }
    hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be true or false", key);
    return false;
}

/* NULL when absent; false (with e set) when present but not a string */
static bool field_str(const struct hjv *req, const char *key, const char **out, struct hilda_error *e)
{
    const struct hjv *v = hjv_get(req, key);
    *out = NULL;
    if (!v || v->type == HJV_NULL)
        return true;
    if (v->type == HJV_STRING && strlen(v->str) == v->len) {
        *out = v->str;
        return true;
    }
    hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be a string", key);
    return false;
}

/* hex data, at most cap bytes */
static bool field_hex(const struct hjv *req, const char *key, uint8_t *buf, size_t cap, size_t *n, bool *present,
                      struct hilda_error *e)
{
    const char *s;
    *n = 0;
    *present = false;
    if (!field_str(req, key, &s, e))
        return false;
    if (!s)
        return true;
    *present = true;
    if (!hilda_hex_decode(s, buf, cap, n)) {
        hilda_fail(e, HILDA_ERR_USAGE, "\"%s\" must be hex bytes, at most %zu", key, cap);
        return false;
    }
    return true;
}

/* ---- the device ---- */

static void drop_device(struct batch *b)
{
    hilda_close(b->d);
    b->d = NULL;
}

static enum hilda_status need_device(struct batch *b, const struct hjv *req, struct hilda_error *e)
{
    if (b->d && b->d->gone)
        drop_device(b);
    unsigned long long wait, timeout;
    if (!field_uint(req, "wait_ms", 3600000, 0, &wait, e) ||
        !field_uint(req, "timeout_ms", 600000, b->c->timeout_ms, &timeout, e))
        return HILDA_ERR_USAGE;
    if (!b->d) {
        enum hilda_status st = cli_context(b->c, e);
        if (st)
            return st;
        if ((st = hilda_open(b->c->ctx, &b->sel, (unsigned)wait, &b->d, e)))
            return st;
        if (!b->d)
            return hilda_fail(e, HILDA_ERR_INTERNAL, "no device after opening one");
    }
    b->d->timeout_ms = timeout ? (unsigned)timeout : b->c->timeout_ms;
    return HILDA_OK;
}

/* After a failure: a device that is gone is closed, so the next command reopens. */
static void after(struct batch *b, enum hilda_status st)
{
    if (b->d && (st == HILDA_ERR_NO_DEVICE || b->d->gone))
        drop_device(b);
}

/* ---- commands: each writes the fields after "ok":true, or returns an error ---- */

typedef enum hilda_status (*batch_fn)(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e);

static enum hilda_status b_hello(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    (void)b, (void)req, (void)e;
    hj_kstr(j, "protocol", BATCH_PROTOCOL);
    hj_kstr(j, "version", HILDA_CLI_VERSION);
    return HILDA_OK;
}

static enum hilda_status b_list(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    bool all;
    if (!field_bool(req, "all", false, &all, e))
        return HILDA_ERR_USAGE;
    enum hilda_status st = cli_context(b->c, e);
    if (st)
        return st;
    struct hilda_selector sel = { .read_serials = true,
                                  .modes = HILDA_MODE_APP | HILDA_MODE_BOOTLOADER | (all ? HILDA_MODE_OTHER : 0) };
    struct hilda_devinfo *list;
    size_t n;
    if ((st = hilda_discover(b->c->ctx, &sel, &list, &n, e)))
        return st;
    hj_key(j, "devices");
    hj_arr(j);
    for (size_t i = 0; i < n; i++)
        json_devinfo(j, &list[i]);
    hj_arr_end(j);
    hilda_devinfo_free(list, n);
    return HILDA_OK;
}

static enum hilda_status b_open(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    const char *vidpid, *serial, *path;
    if (!field_str(req, "vidpid", &vidpid, e) || !field_str(req, "serial", &serial, e) ||
        !field_str(req, "path", &path, e))
        return HILDA_ERR_USAGE;
    struct hilda_selector sel = { 0 };
    if (vidpid && !hilda_parse_vidpid(vidpid, &sel.vid, &sel.pid))
        return hilda_fail(e, HILDA_ERR_USAGE, "\"vidpid\" must be VID:PID in hex, e.g. \"1209:0001\"");
    sel.has_vidpid = vidpid != NULL;
    if (serial) {
        snprintf(b->serial, sizeof b->serial, "%s", serial);
        sel.serial = b->serial;
    }
    if (path) {
        snprintf(b->path, sizeof b->path, "%s", path);
        sel.path = b->path;
    }
    if (vidpid || serial || path)
        b->sel = sel;
    drop_device(b);
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    hilda_device_read_identity(b->d);
    hj_key(j, "device");
    json_devinfo(j, &b->d->info);
    return HILDA_OK;
}

static enum hilda_status b_close(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    (void)req, (void)j, (void)e;
    drop_device(b);
    return HILDA_OK;
}

static enum hilda_status b_info(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    hilda_device_read_identity(b->d);
    hj_key(j, "device");
    json_devinfo(j, &b->d->info);
    return HILDA_OK;
}

static enum hilda_status b_wait(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    const char *mode;
    unsigned long long wait;
    if (!field_str(req, "mode", &mode, e) || !field_uint(req, "wait_ms", 3600000, 5000, &wait, e))
        return HILDA_ERR_USAGE;
    if (mode && strcmp(mode, "app") != 0 && strcmp(mode, "bootloader") != 0)
        return hilda_fail(e, HILDA_ERR_USAGE, "\"mode\" is \"app\" or \"bootloader\"");
    drop_device(b);
    enum hilda_status st = cli_context(b->c, e);
    if (st)
        return st;
    struct hilda_selector sel = b->sel;
    if (mode && strcmp(mode, "bootloader") == 0) {
        sel.has_vidpid = false;
        sel.modes = HILDA_MODE_BOOTLOADER;
    }
    struct hilda_device *d;
    if ((st = hilda_open(b->c->ctx, &sel, (unsigned)wait, &d, e)))
        return st;
    d->timeout_ms = b->c->timeout_ms;
    hilda_device_read_identity(d);
    hj_key(j, "device");
    json_devinfo(j, &d->info);
    if (d->info.mode == HILDA_MODE_BOOTLOADER)
        hilda_close(d);   /* nothing of the vendor protocol there */
    else
        b->d = d;
    return HILDA_OK;
}

static enum hilda_status b_ctrl(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    unsigned long long rt, r, v, i, len, timeout;
    if (!field_uint(req, "bmRequestType", 255, 0x100, &rt, e) || !field_uint(req, "bRequest", 255, 0x100, &r, e) ||
        !field_uint(req, "wValue", 0xFFFF, 0, &v, e) || !field_uint(req, "wIndex", 0xFFFF, 0, &i, e) ||
        !field_uint(req, "wLength", 0xFFFF, 0, &len, e) || !field_uint(req, "timeout_ms", 600000, 0, &timeout, e))
        return HILDA_ERR_USAGE;
    if (rt > 255 || r > 255)
        return hilda_fail(e, HILDA_ERR_USAGE, "ctrl needs \"bmRequestType\" and \"bRequest\"");
    uint8_t *buf = malloc(65536);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    size_t n = 0;
    bool has_data;
    if (!field_hex(req, "data", buf, 65535, &n, &has_data, e)) {
        free(buf);
        return HILDA_ERR_USAGE;
    }
    bool in = rt & 0x80;
    if (!in && has_data)
        len = n;
    if (in && has_data) {
        free(buf);
        return hilda_fail(e, HILDA_ERR_USAGE, "an IN request takes \"wLength\", not \"data\"");
    }
    enum hilda_status st = need_device(b, req, e);
    if (st) {
        free(buf);
        return st;
    }
    struct usb_setup s = { (uint8_t)rt, (uint8_t)r, (uint16_t)v, (uint16_t)i, (uint16_t)len };
    size_t got;
    st = hilda_ctrl(b->d, &s, buf, (unsigned)timeout, &got, e);
    if (!st) {
        hj_kuint(j, "length", got);
        if (in)
            hj_khex(j, "data", buf, got);
    }
    free(buf);
    return st;
}

static enum hilda_status b_echo(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    uint8_t out[HILDA_EP0_MAX_DATA], in[HILDA_EP0_MAX_DATA];
    size_t n;
    bool has;
    unsigned long long len, rlen;
    if (!field_hex(req, "data", out, sizeof out, &n, &has, e) ||
        !field_uint(req, "length", HILDA_EP0_MAX_DATA, 0, &len, e))
        return HILDA_ERR_USAGE;
    if (!has) {
        n = (size_t)len;
        for (size_t k = 0; k < n; k++)
            out[k] = (uint8_t)k;
    }
    if (!field_uint(req, "read_length", HILDA_EP0_MAX_DATA, n, &rlen, e))
        return HILDA_ERR_USAGE;
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    size_t got;
    if ((st = hilda_echo_write(b->d, out, (uint16_t)n, e)) || (st = hilda_echo_read(b->d, in, (uint16_t)rlen, &got, e)))
        return st;
    size_t want = rlen < n ? rlen : n;
    hj_kuint(j, "written", n);
    hj_kuint(j, "read", got);
    hj_khex(j, "data", in, got);
    hj_kbool(j, "match", got == want && memcmp(in, out, got) == 0);
    return HILDA_OK;
}

static enum hilda_status b_desc(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    uint8_t *blob = malloc(1 << 20);
    if (!blob)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    size_t n;
    bool has;
    if (!field_hex(req, "blob", blob, 1 << 20, &n, &has, e)) {
        free(blob);
        return HILDA_ERR_USAGE;
    }
    struct hilda_desc_set set;
    struct hilda_findings f;
    hilda_desc_set_init(&set);
    hilda_findings_init(&f);
    enum hilda_status st = HILDA_OK;
    if (has)
        hilda_desc_set_from_blob(&set, blob, n, &f);
    else if (!(st = need_device(b, req, e)))
        st = hilda_fetch_descriptors(b->d, &set, &f, e);
    free(blob);
    if (!st) {
        hilda_validate(&set, &f);
        hj_key(j, "descriptors");
        hilda_json_desc_set(j, &set);
        hj_key(j, "findings");
        hilda_json_findings(j, &f);
        hj_kuint(j, "errors", hilda_findings_count(&f, HILDA_SEV_ERROR));
        hj_kuint(j, "warnings", hilda_findings_count(&f, HILDA_SEV_WARNING) - hilda_findings_count(&f, HILDA_SEV_ERROR));
    }
    hilda_findings_free(&f);
    hilda_desc_set_free(&set);
    return st;
}

static enum hilda_status b_ch9(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    struct hilda_ch9_options o = { 0 };
    unsigned long long rounds;
    bool no_reset;
    if (!field_str(req, "only", &o.only, e) || !field_bool(req, "no_reset", false, &no_reset, e) ||
        !field_uint(req, "rounds", 64, 0, &rounds, e))
        return HILDA_ERR_USAGE;
    o.skip_reset = no_reset;
    o.queue_rounds = (unsigned)rounds;
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    struct hilda_checks k;
    hilda_checks_init(&k);
    if (!(st = hilda_ch9_run(b->d, &o, &k, e))) {
        hj_key(j, "checks");
        hilda_json_checks(j, &k);
        hj_kuint(j, "passed", hilda_checks_count(&k, HILDA_PASS));
        hj_kuint(j, "failed", hilda_checks_count(&k, HILDA_FAIL));
        hj_kuint(j, "warnings", hilda_checks_count(&k, HILDA_WARN));
        hj_kuint(j, "skipped", hilda_checks_count(&k, HILDA_SKIP));
    }
    hilda_checks_free(&k);
    return st;
}

static enum hilda_status b_stress(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    const char *piece;
    enum hilda_stress_piece p;
    struct hilda_stress_options o = { 0 };
    unsigned long long maxl, step, echo, seed, count, transfers, flight, report;
    if (!field_str(req, "piece", &piece, e) || !field_uint(req, "max_length", HILDA_EP0_MAX_DATA, 0, &maxl, e) ||
        !field_uint(req, "step", 4096, 0, &step, e) || !field_uint(req, "echo_max", HILDA_EP0_MAX_DATA, 0, &echo, e) ||
        !field_uint(req, "seed", UINT64_MAX >> 1, 1, &seed, e) || !field_uint(req, "count", 100000000, 0, &count, e) ||
        !field_uint(req, "transfers", 1000000, 0, &transfers, e) || !field_uint(req, "in_flight", 1024, 0, &flight, e) ||
        !field_uint(req, "report", 1000, 0, &report, e))
        return HILDA_ERR_USAGE;
    if (!piece || !hilda_stress_piece_parse(piece, &p))
        return hilda_fail(e, HILDA_ERR_USAGE, "\"piece\" is descriptors, echo, random or async");
    o = (struct hilda_stress_options){ .max_length = (unsigned)maxl, .length_step = (unsigned)step,
                                       .echo_max = (unsigned)echo, .echo_step = (unsigned)step, .seed = seed,
                                       .random_count = (unsigned)count, .async_total = (unsigned)transfers,
                                       .async_in_flight = (unsigned)flight, .max_reported = (unsigned)report };
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    struct hilda_stress_report r;
    hilda_stress_report_init(&r, p);
    if (!(st = hilda_stress_run(b->d, p, &o, &r, e))) {
        hj_key(j, "report");
        json_stress_report(j, &r);
    }
    hilda_stress_report_free(&r);
    return st;
}

static enum hilda_status b_timing(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    const char *kinds, *sizes;
    unsigned long long count;
    bool device;
    if (!field_str(req, "kinds", &kinds, e) || !field_str(req, "sizes", &sizes, e) ||
        !field_uint(req, "count", 10000000, 200, &count, e) || !field_bool(req, "device", true, &device, e))
        return HILDA_ERR_USAGE;
    struct hilda_timing_cell *cells;
    size_t n;
    char err[160];
    if (!cli_parse_timing_cells(kinds, sizes, &cells, &n, err, sizeof err))
        return hilda_fail(e, HILDA_ERR_USAGE, "%s", err);
    enum hilda_status st = need_device(b, req, e);
    if (!st) {
        struct hilda_timing_options o = { .count = (unsigned)count,
                                          .device_samples = device && b->d->info.mode == HILDA_MODE_APP };
        if (!(st = hilda_timing_run(b->d, cells, n, &o, e))) {
            hj_key(j, "cells");
            json_timing_cells(j, cells, n);
        }
    }
    free(cells);
    return st;
}

static enum hilda_status b_uart_send(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    uint8_t *buf = malloc(1 << 20);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    size_t n, sent = 0;
    bool has;
    enum hilda_status st = HILDA_ERR_USAGE;
    if (field_hex(req, "data", buf, 1 << 20, &n, &has, e)) {
        if (!has)
            st = hilda_fail(e, HILDA_ERR_USAGE, "uart_send needs \"data\" (hex)");
        else if (!(st = need_device(b, req, e)))
            st = hilda_uart_send(b->d, buf, n, b->d->timeout_ms, &sent, e);
    }
    if (!st)
        hj_kuint(j, "sent", sent);
    free(buf);
    return st;
}

static enum hilda_status b_uart_recv(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    unsigned long long count, idle, max;
    if (!field_uint(req, "count", 1 << 20, 1 << 20, &count, e) || !field_uint(req, "idle_ms", 600000, 300, &idle, e) ||
        !field_uint(req, "max_ms", 3600000, 10000, &max, e))
        return HILDA_ERR_USAGE;
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    uint8_t *buf = malloc(count ? (size_t)count : 1);
    if (!buf)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    size_t got;
    if (!(st = hilda_uart_recv(b->d, buf, (size_t)count, (unsigned)idle, (unsigned)max, &got, e))) {
        hj_kuint(j, "length", got);
        hj_khex(j, "data", buf, got);
    }
    free(buf);
    return st;
}

static enum hilda_status b_uart_baud(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    unsigned long long baud;
    if (!field_uint(req, "baud", 0xFFFFFFFF, 0, &baud, e))
        return HILDA_ERR_USAGE;
    if (!hilda_uart_baud_supported((uint32_t)baud))
        return hilda_fail(e, HILDA_ERR_USAGE, "%llu baud is not one of HILDA_UART_BAUDS", baud);
    enum hilda_status st = need_device(b, req, e);
    if (st || (st = hilda_uart_set_baud(b->d, (uint32_t)baud, e)))
        return st;
    hj_kuint(j, "baud", baud);
    return HILDA_OK;
}

static enum hilda_status b_uart_status(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    struct hilda_uart_status u;
    enum hilda_status st = need_device(b, req, e);
    if (st || (st = hilda_uart_status(b->d, &u, e)))
        return st;
    hj_key(j, "status");
    json_uart_status(j, &u);
    return HILDA_OK;
}

static enum hilda_status b_stats(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    struct hilda_counters k;
    enum hilda_status st = need_device(b, req, e);
    if (st || (st = hilda_get_counters(b->d, &k, e)))
        return st;
    hj_key(j, "counters");
    json_counters(j, &k);
    return HILDA_OK;
}

static enum hilda_status b_reset_counters(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    (void)j;
    enum hilda_status st = need_device(b, req, e);
    return st ? st : hilda_reset_counters(b->d, e);
}

static enum hilda_status b_version(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    struct hilda_version v;
    enum hilda_status st = need_device(b, req, e);
    if (st || (st = hilda_get_version(b->d, &v, e)))
        return st;
    hj_key(j, "version");
    json_version(j, &v);
    return HILDA_OK;
}

static enum hilda_status b_fault_stall(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    (void)j;
    enum hilda_status st = need_device(b, req, e);
    return st ? st : hilda_fault_stall(b->d, e);
}

static enum hilda_status b_fault_delay(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    unsigned long long ms;
    if (!field_uint(req, "ms", 5000, 0, &ms, e))
        return HILDA_ERR_USAGE;
    if (!ms)
        return hilda_fail(e, HILDA_ERR_USAGE, "fault_delay needs \"ms\" (1..5000)");
    (void)j;
    enum hilda_status st = need_device(b, req, e);
    return st ? st : hilda_fault_delay(b->d, (uint16_t)ms, e);
}

static enum hilda_status reboot(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e,
                                bool bootloader)
{
    unsigned long long wait;
    if (!field_uint(req, "wait_ms", 3600000, bootloader ? 0 : 5000, &wait, e))
        return HILDA_ERR_USAGE;
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    hilda_device_read_identity(b->d);
    struct hilda_devinfo old = b->d->info;
    old.dev = NULL;
    st = hilda_reboot(b->d, bootloader, e);
    drop_device(b);
    if (st && st != HILDA_ERR_NO_DEVICE)
        return st;
    hj_key(j, "before");
    json_devinfo(j, &old);
    /* Answer only once the old device is gone: the next request must not find it still listed. */
    uint64_t t0 = hilda_now_ns();
    hilda_wait_gone(b->c->ctx, &old, 2000);
    if (!wait)
        return HILDA_OK;
    unsigned spent = (unsigned)((hilda_now_ns() - t0) / 1000000u);
    struct hilda_devinfo found;
    st = hilda_wait_reappear(b->c->ctx, &old, bootloader ? HILDA_MODE_BOOTLOADER : HILDA_MODE_APP,
                             wait > spent ? (unsigned)wait - spent : 0, &found, e);
    if (st)
        return st;
    hj_key(j, "after");
    json_devinfo(j, &found);
    hj_kdouble(j, "wait_ms", (double)(hilda_now_ns() - t0) / 1e6);
    if (!bootloader) {
        /* the session goes on with the dongle that came back */
        st = hilda_open_info(b->c->ctx, &found, &b->d, e);
        if (!st)
            b->d->timeout_ms = b->c->timeout_ms;
    }
    libusb_unref_device(found.dev);
    return st;
}

static enum hilda_status b_reset(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    return reboot(b, req, j, e, false);
}

static enum hilda_status b_bootloader(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    return reboot(b, req, j, e, true);
}

static enum hilda_status b_quit(struct batch *b, const struct hjv *req, struct hj *j, struct hilda_error *e)
{
    (void)req, (void)j, (void)e;
    b->quit = true;
    return HILDA_OK;
}

static const struct {
    const char *name;
    batch_fn fn;
} table[] = {
    { "hello", b_hello }, { "list", b_list }, { "open", b_open }, { "close", b_close }, { "info", b_info },
    { "wait", b_wait }, { "ctrl", b_ctrl }, { "echo", b_echo }, { "desc", b_desc }, { "ch9", b_ch9 },
    { "stress", b_stress }, { "timing", b_timing }, { "uart_send", b_uart_send }, { "uart_recv", b_uart_recv },
    { "uart_baud", b_uart_baud }, { "uart_status", b_uart_status }, { "stats", b_stats },
    { "reset_counters", b_reset_counters }, { "version", b_version }, { "fault_stall", b_fault_stall },
    { "fault_delay", b_fault_delay }, { "reset", b_reset }, { "bootloader", b_bootloader }, { "quit", b_quit },
};

static void put_id(struct hj *j, const struct hjv *id)
{
    hj_key(j, "id");
    if (id && id->type == HJV_NUMBER && id->is_int)
        hj_int(j, id->i);
    else if (id && id->type == HJV_NUMBER)
        hj_double(j, id->num);
    else if (id && id->type == HJV_STRING)
        hj_strn(j, id->str, id->len);
    else
        hj_null(j);   /* absent, null, or a kind an id should not be */
}

static void reply_error(struct hj *j, const struct hjv *id, const char *cmd, const struct hilda_error *e)
{
    hj_reset(j);
    hj_obj(j);
    put_id(j, id);
    hj_kbool(j, "ok", false);
    if (cmd)
        hj_kstr(j, "cmd", cmd);
    hj_kstr(j, "error", hilda_status_name(e->status));
    hj_kstr(j, "message", e->message);
    hj_obj_end(j);
}

static void handle_line(struct batch *b, const char *line, size_t len, struct hj *j)
{
    char err[128];
    struct hilda_error e;
    hilda_error_clear(&e);
    struct hjv *req = hjv_parse(line, len, err, sizeof err);
    if (!req || req->type != HJV_OBJECT) {
        hilda_fail(&e, HILDA_ERR_USAGE, "a request is one JSON object per line: %s", req ? "not an object" : err);
        reply_error(j, NULL, NULL, &e);
        hjv_free(req);
        return;
    }
    const struct hjv *id = hjv_get(req, "id");
    const char *cmd;
    if (!field_str(req, "cmd", &cmd, &e) || !cmd) {
        if (!e.status)
            hilda_fail(&e, HILDA_ERR_USAGE, "the request has no \"cmd\"");
        reply_error(j, id, NULL, &e);
        hjv_free(req);
        return;
    }
    batch_fn fn = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, cmd) == 0)
            fn = table[i].fn;
    if (!fn) {
        hilda_fail(&e, HILDA_ERR_USAGE, "unknown cmd \"%.60s\" (hilda batch --help lists them)", cmd);
        reply_error(j, id, cmd, &e);
        hjv_free(req);
        return;
    }
    hj_reset(j);
    hj_obj(j);
    put_id(j, id);
    hj_kbool(j, "ok", true);
    hj_kstr(j, "cmd", cmd);
    hilda_interrupted = 0;
    enum hilda_status st = fn(b, req, j, &e);
    after(b, st);
    if (st) {
        if (!e.status)
            hilda_fail(&e, st, "%s failed", cmd);
        reply_error(j, id, cmd, &e);
    } else {
        hj_obj_end(j);
    }
    hjv_free(req);
}

int cmd_batch(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct batch b = { .c = c, .sel = c->sel };
    if (c->sel.serial) {
        snprintf(b.serial, sizeof b.serial, "%s", c->sel.serial);
        b.sel.serial = b.serial;
    }
    if (c->sel.path) {
        snprintf(b.path, sizeof b.path, "%s", c->sel.path);
        b.sel.path = b.path;
    }
    struct hj j;
    hj_init(&j);
    hj_obj(&j);
    hj_kstr(&j, "event", "ready");
    hj_kstr(&j, "protocol", BATCH_PROTOCOL);
    hj_kstr(&j, "version", HILDA_CLI_VERSION);
    hj_obj_end(&j);
    hj_print(&j, stdout);

    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!b.quit) {
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
            if (errno == EINTR && !hilda_interrupted)
                continue;
            if (hilda_interrupted)
                rc = hilda_status_exit_code(HILDA_ERR_INTERRUPTED);
            break;   /* end of input */
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if ((size_t)n > LINE_MAX_BYTES) {
            struct hilda_error e;
            hilda_fail(&e, HILDA_ERR_USAGE, "the line is longer than %u bytes", LINE_MAX_BYTES);
            reply_error(&j, NULL, NULL, &e);
        } else {
            handle_line(&b, line, (size_t)n, &j);
        }
        if (!hj_print(&j, stdout)) {
            rc = hilda_status_exit_code(HILDA_ERR_IO);   /* the reader went away */
            break;
        }
    }
    free(line);
    hj_free(&j);
    drop_device(&b);
    return rc;
}
