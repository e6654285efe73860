/* stress: the stress pieces, every answer verified. */
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
    "Exit 0 when everything verified, 1 when anything did not. A device lost mid-run is exit 5\n"
    "(no_device): the summary, marked PARTIAL (--json: \"partial\": true), still gives what was\n"
    "verified before the loss. Ctrl-C (SIGINT) the same, at the next transfer, with exit 130.\n\n"
    "      --max-length N     descriptors: the largest wLength (default 1024)\n"
    "      --step N           descriptors and echo: length step (default 1)\n"
    "      --echo-max N       echo: the largest length (default 4096)\n"
    "      --seed N           random: the generator's seed (default: from the clock, printed)\n"
    "  -n, --count N          random: requests (default 2000)\n"
    "      --transfers N      async: transfers (default 1024)\n"
    "      --in-flight N      async: at once (default 32)\n"
    "      --report N         failures described per piece (default 10)\n";

#define PIECES_MAX (HILDA_STRESS_PIECES * 2)

struct stress_args {
    struct hilda_stress_options o;
    enum hilda_stress_piece pieces[PIECES_MAX];
    size_t n;
    bool report_only;   /* batch: one piece, the reply is {"report": its report} */
};

static int stress_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct stress_args *a = args;
    struct hilda_stress_options *so = &a->o;
    enum { O_MAX = 1000, O_STEP, O_ECHO, O_SEED, O_TRANSFERS, O_FLIGHT, O_REPORT };
    static const struct option opts[] = { CLI_COMMON_LONG, { "max-length", required_argument, NULL, O_MAX },
                                          { "step", required_argument, NULL, O_STEP },
                                          { "echo-max", required_argument, NULL, O_ECHO },
                                          { "seed", required_argument, NULL, O_SEED },
                                          { "count", required_argument, NULL, 'n' },
                                          { "transfers", required_argument, NULL, O_TRANSFERS },
                                          { "in-flight", required_argument, NULL, O_FLIGHT },
                                          { "report", required_argument, NULL, O_REPORT }, { 0, 0, 0, 0 } };
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
            so->max_length = v ? (unsigned)v : 1;
            break;
        case O_STEP:
            if (!cli_parse_u32(optarg, 4096, &v) || !v)
                return cli_usage_error(c, "--step wants 1..4096");
            so->length_step = so->echo_step = (unsigned)v;
            break;
        case O_ECHO:
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--echo-max wants 0..%d", HILDA_EP0_MAX_DATA);
            so->echo_max = v ? (unsigned)v : 1;
            break;
        case O_SEED: {
            char *end;
            so->seed = strtoull(optarg, &end, 0);
            if (end == optarg || *end)
                return cli_usage_error(c, "--seed wants a number");
            seeded = true;
            break;
        }
        case 'n':
            if (!cli_parse_u32(optarg, 100000000, &v) || !v)
                return cli_usage_error(c, "--count wants 1..100000000");
            so->random_count = (unsigned)v;
            break;
        case O_TRANSFERS:
            if (!cli_parse_u32(optarg, 1000000, &v) || !v)
                return cli_usage_error(c, "--transfers wants 1..1000000");
            so->async_total = (unsigned)v;
            break;
        case O_FLIGHT:
            if (!cli_parse_u32(optarg, 1024, &v) || !v)
                return cli_usage_error(c, "--in-flight wants 1..1024");
            so->async_in_flight = (unsigned)v;
            break;
        case O_REPORT:
            if (!cli_parse_u32(optarg, 1000, &v) || !v)
                return cli_usage_error(c, "--report wants 1..1000");
            so->max_reported = (unsigned)v;
            break;
        default:
            return cli_unknown_option(c, argv);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->n >= PIECES_MAX || !hilda_stress_piece_parse(argv[i], &a->pieces[a->n]))
            return cli_usage_error(c, "\"%s\" is not a stress piece (descriptors, echo, random, async)", argv[i]);
        a->n++;
    }
    if (!a->n)
        for (unsigned p = 0; p < HILDA_STRESS_PIECES; p++)
            a->pieces[a->n++] = (enum hilda_stress_piece)p;
    if (!seeded)
        so->seed = hilda_now_ns() ^ (uint64_t)time(NULL) << 20;
    return CMD_GO;
}

static bool stress_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct stress_args *a = args;
    const char *piece;
    unsigned long long maxl, step, echo, seed, count, transfers, flight, report;
    if (!hilda_field_str(req, "piece", &piece, e) ||
        !hilda_field_uint(req, "max_length", HILDA_EP0_MAX_DATA, 0, &maxl, e) ||
        !hilda_field_uint(req, "step", 4096, 0, &step, e) ||
        !hilda_field_uint(req, "echo_max", HILDA_EP0_MAX_DATA, 0, &echo, e) ||
        !hilda_field_uint(req, "seed", UINT64_MAX >> 1, 1, &seed, e) ||
        !hilda_field_uint(req, "count", 100000000, 0, &count, e) ||
        !hilda_field_uint(req, "transfers", 1000000, 0, &transfers, e) ||
        !hilda_field_uint(req, "in_flight", 1024, 0, &flight, e) || !hilda_field_uint(req, "report", 1000, 0, &report, e))
        return false;
    if (!piece || !hilda_stress_piece_parse(piece, &a->pieces[0])) {
        hilda_fail(e, HILDA_ERR_USAGE, "\"piece\" is descriptors, echo, random or async");
        return false;
    }
    a->n = 1;
    a->report_only = true;
    a->o = (struct hilda_stress_options){ .max_length = (unsigned)maxl, .length_step = (unsigned)step,
                                          .echo_max = (unsigned)echo, .echo_step = (unsigned)step, .seed = seed,
                                          .random_count = (unsigned)count, .async_total = (unsigned)transfers,
                                          .async_in_flight = (unsigned)flight, .max_reported = (unsigned)report };
    return true;
}

static enum hilda_status stress_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    struct stress_args *a = args;
    a->o.progress = progress_update;
    a->o.progress_ctx = io->progress;
    enum hilda_status st = cmd_open(io, true, e);
    if (st)
        return st;
    const struct hilda_devinfo *dev = &io->d->info;
    if (io->text)
        fprintf(io->text, "stress on %04x:%04x at %s (random seed %llu)\n", dev->vid, dev->pid, dev->path,
                (unsigned long long)a->o.seed);
    struct hilda_stress_report reports[PIECES_MAX];
    size_t done = 0;
    uint64_t failures = 0, transfers = 0;
    for (size_t i = 0; i < a->n && !st; i++) {
        hilda_stress_report_init(&reports[i], a->pieces[i]);
        st = hilda_stress_run(io->d, a->pieces[i], &a->o, &reports[i], e);
        progress_done(io->progress);
        done = i + 1;
        failures += reports[i].failures;
        transfers += reports[i].transfers;
        if (io->text)
            print_stress_report(io->text, &reports[i]);
    }
    /* A stop (device lost, interrupted) keeps what was verified before it:
     * the summary is marked partial and the front-end's error reply and
     * exit code (no_device: 5) say why it stopped. */
    bool partial = st != HILDA_OK;
    io->check_failed = failures > 0;
    io->partial = partial;
    if (io->reply && a->report_only) {
        hj_set(io->reply, "report", json_stress_report(&reports[0]));
    } else if (io->reply) {
        hj_set_uint(io->reply, "seed", a->o.seed);
        json_t *pieces = json_array();
        for (size_t i = 0; i < done; i++)
            hj_append(pieces, json_stress_report(&reports[i]));
        hj_set(io->reply, "pieces", pieces);
        hj_set_uint(io->reply, "transfers", transfers);
        hj_set_uint(io->reply, "failures", failures);
    }
    if (io->reply)
        hj_set_bool(io->reply, "partial", partial);
    if (io->text)
        fprintf(io->text, "summary%s: %llu transfers, %llu failures%s\n",
                partial ? " (PARTIAL: the run stopped early, see the error below)" : "",
                (unsigned long long)transfers, (unsigned long long)failures,
                failures ? "" : partial ? ": every answer before the stop verified" : ": every answer verified");
    for (size_t i = 0; i < done; i++)
        hilda_stress_report_free(&reports[i]);
    return st;
}

const struct cmd cmd_stress = {
    .name = "stress",
    .summary = "descriptor, echo, random and queued-transfer stress, every answer verified",
    .args_size = sizeof(struct stress_args),
    .parse_argv = stress_argv,
    .json = (const struct cmd_json[]){ { "stress", stress_json }, { NULL, NULL } },
    .run = stress_run,
};
