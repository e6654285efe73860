/* timing: latency per request kind and size, beside the device's EP0 time. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hilda timing [--kinds LIST] [--sizes LIST] [-n COUNT] [--csv] [--histogram] [options]\n\n"
    "Latency of control transfers per request kind and data size, measured on the host around each\n"
    "transfer (min, p50, p90, p99, max, mean in microseconds, and a log2 histogram), beside the\n"
    "device's own EP0 handling time: after each measured transfer, GET_COUNTERS reads ep0_cycles_last\n"
    "(DWT cycles from the EP0SETUP interrupt to the next stage armed) at core_hz.\n"
    "Kinds: nodata (ECHO_WRITE of 0 bytes), in (ECHO_READ), out (ECHO_WRITE), descriptor\n"
    "(GET_DESCRIPTOR of the configuration: the standard-request path). It overwrites the echo buffer.\n\n"
    "      --kinds LIST       comma-separated (default nodata,in,out,descriptor)\n"
    "      --sizes LIST       comma-separated data sizes, 0..4096 (default 1,8,64,65,256,1024,4096)\n"
    "  -n, --count N          transfers per kind and size (default 200)\n"
    "      --csv              CSV on stdout, one row per kind and size\n"
    "      --histogram        print the histograms too (human output)\n"
    "      --no-device        do not read the device's cycle counters (a device without them)\n\n"
    "Ctrl-C (SIGINT) stops at the next transfer: the cells measured so far are still printed, the one\n"
    "cut short with its own count, marked PARTIAL (--json: \"partial\": true); exit 130.\n";

struct timing_args {
    struct hilda_timing_cell *cells;
    size_t n;
    struct hilda_timing_options o;
    bool csv, hist;
};

static int timing_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct timing_args *a = args;
    enum { O_KINDS = 1000, O_SIZES, O_CSV, O_HIST, O_NODEV };
    static const struct option opts[] = { CLI_COMMON_LONG, { "kinds", required_argument, NULL, O_KINDS },
                                          { "sizes", required_argument, NULL, O_SIZES },
                                          { "count", required_argument, NULL, 'n' },
                                          { "csv", no_argument, NULL, O_CSV },
                                          { "histogram", no_argument, NULL, O_HIST },
                                          { "no-device", no_argument, NULL, O_NODEV }, { 0, 0, 0, 0 } };
    const char *kinds = NULL, *sizes = NULL;
    a->o = (struct hilda_timing_options){ .count = 200, .device_samples = true };
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "n:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case O_KINDS: kinds = optarg; break;
        case O_SIZES: sizes = optarg; break;
        case O_CSV: a->csv = true; break;
        case O_HIST: a->hist = true; break;
        case O_NODEV: a->o.device_samples = false; break;
        case 'n':
            if (!cli_parse_u32(optarg, 10000000, &v) || !v)
                return cli_usage_error(c, "--count wants 1..10000000");
            a->o.count = (unsigned)v;
            break;
        default: return cli_unknown_option(c, argv);
        }
    }
    int rc = cli_no_arguments(c, argc, argv);
    if (rc != CMD_GO)
        return rc;
    char err[160];
    if (!cli_parse_timing_cells(kinds, sizes, &a->cells, &a->n, err, sizeof err))
        return cli_usage_error(c, "%s", err);
    return CMD_GO;
}

static bool timing_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct timing_args *a = args;
    const char *kinds, *sizes;
    unsigned long long count;
    bool device;
    if (!hilda_field_str(req, "kinds", &kinds, e) || !hilda_field_str(req, "sizes", &sizes, e) ||
        !hilda_field_uint(req, "count", 10000000, 200, &count, e) || !hilda_field_bool(req, "device", true, &device, e))
        return false;
    char err[160];
    if (!cli_parse_timing_cells(kinds, sizes, &a->cells, &a->n, err, sizeof err)) {
        hilda_fail(e, HILDA_ERR_USAGE, "%s", err);
        return false;
    }
    a->o = (struct hilda_timing_options){ .count = (unsigned)count, .device_samples = device };
    return true;
}

static void timing_free(void *args)
{
    struct timing_args *a = args;
    for (size_t i = 0; i < a->n; i++)
        free(a->cells[i].samples);
    free(a->cells);
}

/* Transfers a cell has made: all of o.count once it is done, fewer in the
 * cell an interruption cut short, none in the cells after it. */
static size_t cell_transfers(const struct hilda_timing_cell *x)
{
    return x->host.n + x->errors;
}

/* The cells measured (they run in order): all of them, or up to the one cut short. */
static size_t cells_measured(const struct timing_args *a)
{
    size_t n = 0;
    while (n < a->n && cell_transfers(&a->cells[n]) > 0)
        n++;
    return n;
}

static void print_cells(FILE *f, const struct timing_args *a, size_t n, const struct hilda_devinfo *dev)
{
    const struct hilda_timing_cell *cells = a->cells;
    bool hist = a->hist;
    if (a->csv) {
        fprintf(f, "kind,size,count,errors,min_us,p50_us,p90_us,p99_us,max_us,mean_us,device_min_us,device_p50_us,"
               "device_max_us,device_cycles_max,core_hz\n");
        for (size_t i = 0; i < n; i++) {
            const struct hilda_timing_cell *x = &cells[i];
            fprintf(f, "%s,%u,%zu,%u,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,", hilda_timing_kind_name(x->kind), x->size, x->host.n,
                   x->errors, x->host.min, x->host.p50, x->host.p90, x->host.p99, x->host.max, x->host.mean);
            if (x->device_valid)
                fprintf(f, "%.3f,%.3f,%.3f,%u,%u\n", x->device.min, x->device.p50, x->device.max, x->device_cycles_max,
                       x->core_hz);
            else
                fprintf(f, ",,,,\n");
        }
    } else {
        fprintf(f, "latency in microseconds on %04x:%04x at %s, %u transfers each\n", dev->vid, dev->pid,
               dev->path, a->o.count);
        fprintf(f, "%-10s %5s %9s %9s %9s %9s %9s %6s | %-24s\n", "kind", "size", "min", "p50", "p90", "p99", "max",
               "errors", "device EP0 min/p50/max");
        for (size_t i = 0; i < n; i++) {
            const struct hilda_timing_cell *x = &cells[i];
            fprintf(f, "%-10s %5u %9.1f %9.1f %9.1f %9.1f %9.1f %6u | ", hilda_timing_kind_name(x->kind), x->size,
                   x->host.min, x->host.p50, x->host.p90, x->host.p99, x->host.max, x->errors);
            if (x->device_valid)
                fprintf(f, "%.2f/%.2f/%.2f (%u cycles max)", x->device.min, x->device.p50, x->device.max,
                       x->device_cycles_max);
            else
                fprintf(f, "-");
            if (cell_transfers(x) < a->o.count)
                fprintf(f, "  PARTIAL: %zu of %u transfers", cell_transfers(x), a->o.count);
            fputc('\n', f);
            if (!hist)
                continue;
            unsigned long top = 1;
            for (unsigned k = 0; k < HILDA_HIST_BUCKETS; k++)
                if (x->hist[k] > top)
                    top = x->hist[k];
            for (unsigned k = 0; k < HILDA_HIST_BUCKETS; k++) {
                if (!x->hist[k])
                    continue;
                int w = (int)(x->hist[k] * 40 / top);
                fprintf(f, "    %8.0f..%-8.0f us %6lu %.*s\n", hilda_bucket_lower(k), hilda_bucket_lower(k + 1),
                       x->hist[k], w > 0 ? w : 1, "########################################");
            }
        }
    }
}

static enum hilda_status timing_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    struct timing_args *a = args;
    a->o.progress = progress_update;
    a->o.progress_ctx = io->progress;
    enum hilda_status st = cmd_open(io, true, e);
    if (st)
        return st;
    if (io->d->info.mode != HILDA_MODE_APP)
        a->o.device_samples = false;
    st = hilda_timing_run(io->d, a->cells, a->n, &a->o, e);
    progress_done(io->progress);
    /* Stopped (Ctrl-C, device lost): what was measured is still reported,
     * marked partial; the front-end's error reply and exit code say why. */
    size_t n = st ? cells_measured(a) : a->n;
    if (st && st != HILDA_ERR_INTERRUPTED && st != HILDA_ERR_NO_DEVICE)
        return st;
    io->partial = st != HILDA_OK;
    unsigned errors = 0;
    for (size_t i = 0; i < n; i++)
        errors += a->cells[i].errors;
    io->check_failed = errors > 0;
    if (io->reply) {
        hj_set_uint(io->reply, "count", a->o.count);
        json_t *cells = json_timing_cells(a->cells, n);
        for (size_t i = 0; io->partial && i < n; i++) {
            json_t *x = json_array_get(cells, i);
            hj_set_uint(x, "transfers", cell_transfers(&a->cells[i]));
            hj_set_bool(x, "partial", cell_transfers(&a->cells[i]) < a->o.count);
        }
        hj_set(io->reply, "cells", cells);
        hj_set_uint(io->reply, "errors", errors);
        if (io->partial) {
            hj_set_bool(io->reply, "partial", true);
            hj_set_uint(io->reply, "cells_not_measured", a->n - n);
        }
    }
    if (io->text) {
        print_cells(io->text, a, n, &io->d->info);
        if (io->partial && !a->csv)
            fprintf(io->text, "PARTIAL: stopped early (see the error below): %zu of %zu cells measured%s\n", n, a->n,
                    n && cell_transfers(&a->cells[n - 1]) < a->o.count ? ", the last in part" : "");
    }
    return st;
}

const struct cmd cmd_timing = {
    .name = "timing",
    .summary = "latency per request kind and size, beside the device's EP0 handling time",
    .args_size = sizeof(struct timing_args),
    .parse_argv = timing_argv,
    .json = (const struct cmd_json[]){ { "timing", timing_json }, { NULL, NULL } },
    .run = timing_run,
    .free_args = timing_free,
    .batch_omits = (const char *const[]){ "count", "errors", NULL },
};
