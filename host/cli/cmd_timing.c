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
    "      --no-device        do not read the device's cycle counters (a device without them)\n";

int cmd_timing(struct cli *c, int argc, char **argv)
{
    enum { O_KINDS = 1000, O_SIZES, O_CSV, O_HIST, O_NODEV };
    static const struct option opts[] = { CLI_COMMON_LONG, { "kinds", required_argument, NULL, O_KINDS },
                                          { "sizes", required_argument, NULL, O_SIZES },
                                          { "count", required_argument, NULL, 'n' },
                                          { "csv", no_argument, NULL, O_CSV },
                                          { "histogram", no_argument, NULL, O_HIST },
                                          { "no-device", no_argument, NULL, O_NODEV }, { 0, 0, 0, 0 } };
    const char *kinds = NULL, *sizes = NULL;
    bool csv = false, hist = false;
    struct hilda_timing_options to = { .count = 200, .device_samples = true };
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "n:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case O_KINDS: kinds = optarg; break;
        case O_SIZES: sizes = optarg; break;
        case O_CSV: csv = true; break;
        case O_HIST: hist = true; break;
        case O_NODEV: to.device_samples = false; break;
        case 'n':
            if (!cli_parse_u32(optarg, 10000000, &v) || !v)
                return cli_usage_error(c, "--count wants 1..10000000");
            to.count = (unsigned)v;
            break;
        default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct hilda_timing_cell *cells;
    size_t n;
    char err[160];
    if (!cli_parse_timing_cells(kinds, sizes, &cells, &n, err, sizeof err))
        return cli_usage_error(c, "%s", err);
    struct progress pr;
    progress_init(&pr, c);
    to.progress = progress_update;
    to.progress_ctx = &pr;
    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open_vendor(c, &d, &e)) {
        free(cells);
        return cli_fail(c, &e);
    }
    if (d->info.mode != HILDA_MODE_APP)
        to.device_samples = false;
    enum hilda_status st = hilda_timing_run(d, cells, n, &to, &e);
    progress_done(&pr);
    unsigned errors = 0;
    for (size_t i = 0; i < n; i++)
        errors += cells[i].errors;
    int rc = errors ? hilda_status_exit_code(HILDA_ERR_CHECK) : 0;
    if (st) {
        rc = cli_fail(c, &e);
    } else if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "timing");
        hj_kuint(&j, "count", to.count);
        hj_key(&j, "cells");
        json_timing_cells(&j, cells, n);
        hj_kuint(&j, "errors", errors);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else if (csv) {
        printf("kind,size,count,errors,min_us,p50_us,p90_us,p99_us,max_us,mean_us,device_min_us,device_p50_us,"
               "device_max_us,device_cycles_max,core_hz\n");
        for (size_t i = 0; i < n; i++) {
            const struct hilda_timing_cell *x = &cells[i];
            printf("%s,%u,%zu,%u,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,", hilda_timing_kind_name(x->kind), x->size, x->host.n,
                   x->errors, x->host.min, x->host.p50, x->host.p90, x->host.p99, x->host.max, x->host.mean);
            if (x->device_valid)
                printf("%.3f,%.3f,%.3f,%u,%u\n", x->device.min, x->device.p50, x->device.max, x->device_cycles_max,
                       x->core_hz);
            else
                printf(",,,,\n");
        }
    } else {
        printf("latency in microseconds on %04x:%04x at %s, %u transfers each\n", d->info.vid, d->info.pid,
               d->info.path, to.count);
        printf("%-10s %5s %9s %9s %9s %9s %9s %6s | %-24s\n", "kind", "size", "min", "p50", "p90", "p99", "max",
               "errors", "device EP0 min/p50/max");
        for (size_t i = 0; i < n; i++) {
            const struct hilda_timing_cell *x = &cells[i];
            printf("%-10s %5u %9.1f %9.1f %9.1f %9.1f %9.1f %6u | ", hilda_timing_kind_name(x->kind), x->size,
                   x->host.min, x->host.p50, x->host.p90, x->host.p99, x->host.max, x->errors);
            if (x->device_valid)
                printf("%.2f/%.2f/%.2f (%u cycles max)\n", x->device.min, x->device.p50, x->device.max,
                       x->device_cycles_max);
            else
                printf("-\n");
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
                printf("    %8.0f..%-8.0f us %6lu %.*s\n", hilda_bucket_lower(k), hilda_bucket_lower(k + 1),
                       x->hist[k], w > 0 ? w : 1, "########################################");
            }
        }
    }
    free(cells);
    hilda_close(d);
    return rc;
}
