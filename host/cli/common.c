#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "text.h"

int cli_common_option(struct cli *c, int opt, const char *arg, const char *usage)
{
    unsigned long v;
    char *end;
    switch (opt) {
    case OPT_DEVICE:
        if (!hilda_parse_vidpid(arg, &c->sel.vid, &c->sel.pid))
            return cli_usage_error(c, "--device wants VID:PID in hex (e.g. 1209:0001), not \"%s\"", arg), -1;
        c->sel.has_vidpid = true;
        return 1;
    case OPT_SERIAL:
        snprintf(c->serial, sizeof c->serial, "%s", arg);
        c->sel.serial = c->serial;
        return 1;
    case OPT_PATH:
        snprintf(c->path, sizeof c->path, "%s", arg);
        c->sel.path = c->path;
        return 1;
    case OPT_WAIT: {
        double s = strtod(arg, &end);
        if (end == arg || *end || s < 0 || s > 3600)
            return cli_usage_error(c, "--wait wants seconds (0..3600), not \"%s\"", arg), -1;
        c->wait_ms = (unsigned)(s * 1000.0 + 0.5);
        return 1;
    }
    case OPT_TIMEOUT:
        if (!cli_parse_u32(arg, 600000, &v) || v == 0)
            return cli_usage_error(c, "--timeout wants milliseconds (1..600000), not \"%s\"", arg), -1;
        c->timeout_ms = (unsigned)v;
        return 1;
    case OPT_JSON:
        c->json = true;
        return 1;
    case OPT_QUIET:
        c->quiet = true;
        return 1;
    case OPT_HELP:
        fputs(usage, stdout);
        cli_print_common_help(stdout);
        return CLI_HELP_SHOWN;
    default:
        return 0;
    }
}

int cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts, const struct option *opts,
               const char *usage, int *quit_rc)
{
    int o;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        int r = cli_common_option(c, o, optarg, usage);
        if (r == 0)
            return o;
        if (r == CLI_HELP_SHOWN) {
            *quit_rc = 0;
            return CLI_OPT_QUIT;
        }
        if (r < 0) {
            *quit_rc = hilda_status_exit_code(HILDA_ERR_USAGE);
            return CLI_OPT_QUIT;
        }
    }
    return -1;
}

void cli_print_common_help(FILE *f)
{
    fputs("\nDevice selection and common options (before or after the command):\n"
          "  -d, --device VID:PID   the device by IDs (hex); default: a hilda dongle, 1209:0001\n"
          "  -s, --serial SERIAL    the device with this serial number\n"
          "  -p, --path BUS-PORT    the device at this bus-port path (as `hilda list` shows, e.g. 1-1.4)\n"
          "  -w, --wait SECONDS     wait up to SECONDS for the device to appear (after a reset or plug-in)\n"
          "  -t, --timeout MS       timeout of each transfer (default 1000)\n"
          "  -j, --json             JSON output (one object on stdout)\n"
          "  -q, --quiet            no progress bar\n"
          "  -h, --help             this text\n"
          "When several devices match, hilda lists them and chooses none (exit 4).\n", f);
    cli_print_exit_codes(f);
}

void cli_print_exit_codes(FILE *f)
{
    fputs("\nExit status:\n", f);
    for (int s = 0; s < HILDA_STATUS_COUNT; s++)
        fprintf(f, "  %3d  %-13s %s\n", hilda_status_exit_code((enum hilda_status)s), hilda_status_name((enum hilda_status)s),
                hilda_status_meaning((enum hilda_status)s));
}

int cli_fail(struct cli *c, const struct hilda_error *e)
{
    return cli_fail_partial(c, e, NULL);
}

int cli_fail_partial(struct cli *c, const struct hilda_error *e, const json_t *partial)
{
    fprintf(stderr, "hilda%s%s: %s\n", c->command ? " " : "", c->command ? c->command : "", e->message);
    if (c->json) {
        json_t *j = partial ? json_deep_copy(partial) : json_object();
        hj_set_bool(j, "ok", false);
        if (c->command)
            hj_set_str(j, "command", c->command);
        hj_set_str(j, "error", hilda_status_name(e->status));
        hj_set_str(j, "message", e->message);
        hj_set_int(j, "exit_code", hilda_status_exit_code(e->status));
        hj_print(j, stdout);
        json_decref(j);
    }
    return hilda_status_exit_code(e->status);
}

int cli_usage_error(struct cli *c, const char *fmt, ...)
{
    struct hilda_error e;
    char msg[HILDA_MESSAGE_MAX - 40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hilda_fail(&e, HILDA_ERR_USAGE, "%s (see hilda %s%s--help)", msg, c->command ? c->command : "",
               c->command ? " " : "");
    return cli_fail(c, &e);
}

enum hilda_status cli_context(struct cli *c, struct hilda_error *e)
{
    if (c->ctx)
        return HILDA_OK;
    return hilda_context_new(&c->ctx, e);
}

enum hilda_status cli_open(struct cli *c, struct hilda_device **d, struct hilda_error *e)
{
    enum hilda_status st = cli_context(c, e);
    if (st)
        return st;
    st = hilda_open(c->ctx, &c->sel, c->wait_ms, d, e);
    if (st == HILDA_OK)
        (*d)->timeout_ms = c->timeout_ms;
    return st;
}

enum hilda_status cli_open_vendor(struct cli *c, struct hilda_device **d, struct hilda_error *e)
{
    enum hilda_status st = cli_open(c, d, e);
    if (st || (*d)->info.mode != HILDA_MODE_BOOTLOADER)
        return st;
    st = hilda_fail(e, HILDA_ERR_USAGE,
                    "the device at %s is in bootloader mode (%04x:%04x), which does not speak the hilda vendor "
                    "protocol: flash the hilda firmware, or unplug and replug it to start the application",
                    (*d)->info.path, (*d)->info.vid,
                    (*d)->info.pid);
    hilda_close(*d);
    *d = NULL;
    return st;
}

/* ---- progress bar ---- */

void progress_init(struct progress *p, struct cli *c)
{
    memset(p, 0, sizeof *p);
    p->enabled = !c->json && !c->quiet && isatty(STDERR_FILENO);
}

void progress_update(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    if (!p || !p->enabled)
        return;
    unsigned long long now = hilda_now_ns();
    if (done != total && now - p->last_ns < 100000000ull)
        return;
    p->last_ns = now;
    unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
    char bar[31];
    unsigned filled = pct * 30 / 100;
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    p->last_width = fprintf(stderr, "\r[%s] %3u%% %-12s %llu/%llu ", bar, pct, phase, (unsigned long long)done,
                            (unsigned long long)total);
    fflush(stderr);
}

void progress_done(struct progress *p)
{
    if (p && p->enabled && p->last_width > 0) {
        fprintf(stderr, "\r%*s\r", p->last_width, "");
        fflush(stderr);
    }
    if (p)
        p->last_width = 0;
}

/* ---- JSON renderers ---- */

json_t *json_devinfo(const struct hilda_devinfo *x)
{
    json_t *j = json_object();
    hj_set_str(j, "path", x->path);
    hj_set_uint(j, "bus", x->bus);
    hj_set_uint(j, "address", x->address);
    char id[10];
    snprintf(id, sizeof id, "%04x:%04x", x->vid, x->pid);
    hj_set_str(j, "id", id);
    hj_set_uint(j, "vid", x->vid);
    hj_set_uint(j, "pid", x->pid);
    hj_set_str(j, "mode", hilda_mode_name(x->mode));
    hj_set_str(j, "speed", hilda_speed_name(x->speed));
    hj_set(j, "serial", x->serial_known ? hj_str(x->serial) : json_null());
    if (x->product[0])
        hj_set_str(j, "product", x->product);
    if (x->note[0])
        hj_set_str(j, "note", x->note);
    return j;
}

json_t *json_counters(const struct hilda_counters *k)
{
    json_t *j = json_object();
    for (size_t i = 0; i < HILDA_COUNTERS_FIELDS; i++)
        hj_set_uint(j, hilda_counter_names[i], hilda_counter_value(k, i));
    if (k->core_hz) {
        hj_set_real(j, "ep0_us_last", (double)k->ep0_cycles_last * 1e6 / k->core_hz);
        hj_set_real(j, "ep0_us_max", (double)k->ep0_cycles_max * 1e6 / k->core_hz);
    }
    return j;
}

json_t *json_uart_status(const struct hilda_uart_status *u)
{
    json_t *j = json_object();
    hj_set_uint(j, "baud", u->baud);
    hj_set_uint(j, "tx_free", u->tx_free);
    hj_set_uint(j, "rx_available", u->rx_available);
    hj_set_uint(j, "errorsrc", u->errorsrc);
    return j;
}

json_t *json_version(const struct hilda_version *v)
{
    json_t *j = json_object();
    char s[16];
    snprintf(s, sizeof s, "%u.%u", v->protocol >> 8, v->protocol & 0xFF);
    hj_set_str(j, "protocol", s);
    snprintf(s, sizeof s, "%u.%u", v->firmware >> 8, v->firmware & 0xFF);
    hj_set_str(j, "firmware", s);
    snprintf(s, sizeof s, "%08x", v->git_hash);
    hj_set_str(j, "git_hash", s);
    return j;
}

json_t *json_stress_report(const struct hilda_stress_report *r)
{
    json_t *j = json_object();
    hj_set_str(j, "piece", hilda_stress_piece_name(r->piece));
    hj_set_uint(j, "transfers", r->transfers);
    hj_set_uint(j, "verified", r->verified);
    hj_set_uint(j, "failures", r->failures);
    hj_set_uint(j, "stalls_expected", r->stalls_expected);
    hj_set_bool(j, "partial", r->partial);
    hj_set_real(j, "seconds", r->seconds);
    hj_set_real(j, "transfers_per_second", r->seconds > 0 ? (double)r->transfers / r->seconds : 0);
    if (r->piece == HILDA_STRESS_RANDOM)
        hj_set_uint(j, "seed", r->seed);
    hj_set(j, "failed", hilda_json_checks(&r->failed));
    return j;
}

static json_t *json_summary(const struct hilda_summary *s)
{
    json_t *j = json_object();
    hj_set_uint(j, "n", s->n);
    hj_set_real(j, "min", s->min);
    hj_set_real(j, "p50", s->p50);
    hj_set_real(j, "p90", s->p90);
    hj_set_real(j, "p99", s->p99);
    hj_set_real(j, "max", s->max);
    hj_set_real(j, "mean", s->mean);
    return j;
}

json_t *json_timing_cells(const struct hilda_timing_cell *cells, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct hilda_timing_cell *c = &cells[i];
        json_t *j = json_object();
        hj_set_str(j, "kind", hilda_timing_kind_name(c->kind));
        hj_set_uint(j, "size", c->size);
        hj_set_uint(j, "errors", c->errors);
        hj_set(j, "host_us", json_summary(&c->host));
        json_t *hist = json_array();
        for (unsigned k = 0; k < HILDA_HIST_BUCKETS; k++) {
            if (!c->hist[k])
                continue;
            json_t *b = json_object();
            hj_set_real(b, "from_us", hilda_bucket_lower(k));
            hj_set_real(b, "to_us", hilda_bucket_lower(k + 1));
            hj_set_uint(b, "count", c->hist[k]);
            hj_append(hist, b);
        }
        hj_set(j, "histogram", hist);
        json_t *samples = json_array();
        for (size_t k = 0; k < c->n_samples; k++)
            hj_append(samples, json_real(c->samples[k]));
        hj_set(j, "samples_us", samples);
        if (c->device_valid) {
            hj_set(j, "device_us", json_summary(&c->device));
            hj_set_uint(j, "device_cycles_min", c->device_cycles_min);
            hj_set_uint(j, "device_cycles_max", c->device_cycles_max);
            hj_set_uint(j, "core_hz", c->core_hz);
        } else {
            hj_set(j, "device_us", json_null());
        }
        hj_append(a, j);
    }
    return a;
}

void print_checks(FILE *f, const struct hilda_checks *k)
{
    for (size_t i = 0; i < k->n; i++) {
        const struct hilda_check *x = &k->v[i];
        fprintf(f, "%-5s %-32s %s\n      %s\n", hilda_result_name(x->result), x->id, x->title, x->reason);
    }
}

void print_stress_report(FILE *f, const struct hilda_stress_report *r)
{
    fprintf(f, "%-12s %8llu transfers  %8llu verified  %6llu failed  %6llu expected STALLs  %7.2f s  %8.0f/s",
            hilda_stress_piece_name(r->piece), (unsigned long long)r->transfers, (unsigned long long)r->verified,
            (unsigned long long)r->failures, (unsigned long long)r->stalls_expected, r->seconds,
            r->seconds > 0 ? (double)r->transfers / r->seconds : 0.0);
    if (r->piece == HILDA_STRESS_RANDOM)
        fprintf(f, "  seed %llu", (unsigned long long)r->seed);
    if (r->partial)
        fprintf(f, "  PARTIAL: stopped early");
    fputc('\n', f);
    for (size_t i = 0; i < r->failed.n; i++)
        fprintf(f, "    FAIL %s\n", r->failed.v[i].reason);
    if (r->failures > r->failed.n)
        fprintf(f, "    ... and %llu more failures\n", (unsigned long long)(r->failures - r->failed.n));
}

/* ---- argument parsers ---- */

bool cli_parse_u32(const char *s, unsigned long max, unsigned long *v)
{
    return hilda_parse_uint(s, max, v);
}

bool cli_parse_timing_cells(const char *kinds, const char *sizes, struct hilda_timing_cell **cells, size_t *n,
                            char *err, size_t errcap)
{
    static const char default_kinds[] = "nodata,in,out,descriptor";
    static const char default_sizes[] = "1,8,64,65,256,1024,4096";
    unsigned long sz[64];
    size_t nsz = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", sizes ? sizes : default_sizes);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (nsz >= 64 || !hilda_parse_uint(t, HILDA_EP0_MAX_DATA, &sz[nsz])) {
            snprintf(err, errcap, "size \"%s\" is not a number in 0..%d (or more than 64 sizes)", t, HILDA_EP0_MAX_DATA);
            return false;
        }
        nsz++;
    }
    struct hilda_timing_cell *v = calloc(HILDA_TIMING_KINDS * (nsz + 1), sizeof *v);
    if (!v) {
        snprintf(err, errcap, "out of memory");
        return false;
    }
    size_t k = 0;
    snprintf(buf, sizeof buf, "%s", kinds ? kinds : default_kinds);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum hilda_timing_kind kind;
        if (!hilda_timing_kind_parse(t, &kind)) {
            snprintf(err, errcap, "kind \"%s\" is not one of nodata, in, out, descriptor", t);
            free(v);
            return false;
        }
        if (k + nsz + 1 > HILDA_TIMING_KINDS * (nsz + 1))
            break;
        if (kind == HILDA_TIMING_NODATA) {
            v[k++] = (struct hilda_timing_cell){ .kind = kind, .size = 0 };
            continue;
        }
        for (size_t i = 0; i < nsz; i++)
            v[k++] = (struct hilda_timing_cell){ .kind = kind, .size = (uint16_t)sz[i] };
    }
    *cells = v;
    *n = k;
    return true;
}
