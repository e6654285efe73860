#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"

static const char usage[] =
    "usage: hilda stress [PIECE...] [options]\n\n"
    "Stress with every answer verified. PIECE is one or more of (default: all, in this order):\n"
    "  descriptors  GET_DESCRIPTOR with wLength 0..MAX for every descriptor, and GET_VARIANT for each\n"
    "               stress variant (ZLP boundaries): min(wLength, declared length) bytes, equal to the\n"
    "               start of the full descriptor\n"
    "  echo         ECHO_WRITE + ECHO_READ for every length 0..4096, aligned and unaligned buffers\n"
    "               (usbtest 14 and 21), the data compared\n"
    "  random       valid and invalid requests from a seeded generator against a model of the device\n"
    "               (the seed is printed: --seed replays a run)\n"
    "  async        many control transfers in flight at once, each verified, completing in order\n"
    "A progress bar on a terminal (none when piped), a summary at the end.\n"
    "Exit 0 when everything verified, 1 when anything did not.\n\n"
    "      --max-length N     descriptors: the largest wLength (default 1024)\n"
    "      --step N           descriptors and echo: length step (default 1)\n"
    "      --echo-max N       echo: the largest length (default 4096)\n"
    "      --seed N           random: the generator's seed (default: from the clock, printed)\n"
    "  -n, --count N          random: requests (default 2000)\n"
    "      --transfers N      async: transfers (default 1024)\n"
    "      --in-flight N      async: at once (default 32)\n"
    "      --report N         failures described per piece (default 10)\n";

int cmd_stress(struct cli *c, int argc, char **argv)
{
    enum { O_MAX = 1000, O_STEP, O_ECHO, O_SEED, O_TRANSFERS, O_FLIGHT, O_REPORT };
    static const struct option opts[] = { CLI_COMMON_LONG, { "max-length", required_argument, NULL, O_MAX },
                                          { "step", required_argument, NULL, O_STEP },
                                          { "echo-max", required_argument, NULL, O_ECHO },
                                          { "seed", required_argument, NULL, O_SEED },
                                          { "count", required_argument, NULL, 'n' },
                                          { "transfers", required_argument, NULL, O_TRANSFERS },
                                          { "in-flight", required_argument, NULL, O_FLIGHT },
                                          { "report", required_argument, NULL, O_REPORT }, { 0, 0, 0, 0 } };
    struct hilda_stress_options so = { 0 };
    bool seeded = false;
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "n:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case O_MAX:
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--max-length wants 0..%d", HILDA_EP0_MAX_DATA);
            so.max_length = v ? (unsigned)v : 1;
            break;
        case O_STEP:
            if (!cli_parse_u32(optarg, 4096, &v) || !v)
                return cli_usage_error(c, "--step wants 1..4096");
            so.length_step = so.echo_step = (unsigned)v;
            break;
        case O_ECHO:
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--echo-max wants 0..%d", HILDA_EP0_MAX_DATA);
            so.echo_max = v ? (unsigned)v : 1;
            break;
        case O_SEED: {
            char *end;
            so.seed = strtoull(optarg, &end, 0);
            if (end == optarg || *end)
                return cli_usage_error(c, "--seed wants a number");
            seeded = true;
            break;
        }
        case 'n':
            if (!cli_parse_u32(optarg, 100000000, &v) || !v)
                return cli_usage_error(c, "--count wants 1..100000000");
            so.random_count = (unsigned)v;
            break;
        case O_TRANSFERS:
            if (!cli_parse_u32(optarg, 1000000, &v) || !v)
                return cli_usage_error(c, "--transfers wants 1..1000000");
            so.async_total = (unsigned)v;
            break;
        case O_FLIGHT:
            if (!cli_parse_u32(optarg, 1024, &v) || !v)
                return cli_usage_error(c, "--in-flight wants 1..1024");
            so.async_in_flight = (unsigned)v;
            break;
        case O_REPORT:
            if (!cli_parse_u32(optarg, 1000, &v) || !v)
                return cli_usage_error(c, "--report wants 1..1000");
            so.max_reported = (unsigned)v;
            break;
        default:
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    enum hilda_stress_piece pieces[HILDA_STRESS_PIECES * 2];
    size_t np = 0;
    for (int i = optind; i < argc; i++) {
        if (np >= sizeof pieces / sizeof pieces[0] || !hilda_stress_piece_parse(argv[i], &pieces[np]))
            return cli_usage_error(c, "\"%s\" is not a stress piece (descriptors, echo, random, async)", argv[i]);
        np++;
    }
    if (!np)
        for (unsigned p = 0; p < HILDA_STRESS_PIECES; p++)
            pieces[np++] = (enum hilda_stress_piece)p;
    if (!seeded)
        so.seed = hilda_now_ns() ^ (uint64_t)time(NULL) << 20;
    struct progress pr;
    progress_init(&pr, c);
    so.progress = progress_update;
    so.progress_ctx = &pr;

    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open_vendor(c, &d, &e))
        return cli_fail(c, &e);
    if (!c->json)
        printf("stress on %04x:%04x at %s (random seed %llu)\n", d->info.vid, d->info.pid, d->info.path,
               (unsigned long long)so.seed);
    struct hilda_stress_report reports[HILDA_STRESS_PIECES * 2];
    size_t done = 0;
    uint64_t failures = 0, transfers = 0;
    enum hilda_status st = HILDA_OK;
    for (size_t i = 0; i < np && !st; i++) {
        hilda_stress_report_init(&reports[i], pieces[i]);
        st = hilda_stress_run(d, pieces[i], &so, &reports[i], &e);
        progress_done(&pr);
        done = i + 1;
        failures += reports[i].failures;
        transfers += reports[i].transfers;
        if (!c->json)
            print_stress_report(stdout, &reports[i]);
    }
    int rc = failures ? hilda_status_exit_code(HILDA_ERR_CHECK) : 0;
    if (st)
        rc = cli_fail(c, &e);
    else if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "stress");
        hj_kuint(&j, "seed", so.seed);
        hj_key(&j, "pieces");
        hj_arr(&j);
        for (size_t i = 0; i < done; i++)
            json_stress_report(&j, &reports[i]);
        hj_arr_end(&j);
        hj_kuint(&j, "transfers", transfers);
        hj_kuint(&j, "failures", failures);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else {
        printf("summary: %llu transfers, %llu failures%s\n", (unsigned long long)transfers,
               (unsigned long long)failures, failures ? "" : ": every answer verified");
    }
    for (size_t i = 0; i < done; i++)
        hilda_stress_report_free(&reports[i]);
    hilda_close(d);
    return rc;
}
