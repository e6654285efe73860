/* stats: the firmware version and the device's counters (batch: stats,
 * version, reset_counters). */
#include "cli.h"

static const char usage[] =
    "usage: hilda stats [--reset] [options]\n\n"
    "The firmware version and the device's counters (GET_COUNTERS): SETUPs, STALLs, bus resets,\n"
    "suspends and resumes, EasyDMA transfers, UART errors and bytes, EP0 handling time (last and worst,\n"
    "in cycles and microseconds at core_hz), button presses.\n\n"
    "      --reset            then set the counters to 0 (RESET_COUNTERS); the values shown are from before\n";

struct stats_args {
    bool version, counters, reset;   /* what to read, and then RESET_COUNTERS */
};

static int stats_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct stats_args *a = args;
    static const struct option opts[] = { CLI_COMMON_LONG, { "reset", no_argument, NULL, 'R' }, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        if (o != 'R')
            return cli_unknown_option(c, argv);
        a->reset = true;
    }
    a->version = a->counters = true;
    return cli_no_arguments(c, argc, argv);
}

static bool stats_json(const json_t *req, void *args, struct hilda_error *e)
{
    (void)req, (void)e;
    ((struct stats_args *)args)->counters = true;
    return true;
}

static bool version_json(const json_t *req, void *args, struct hilda_error *e)
{
    (void)req, (void)e;
    ((struct stats_args *)args)->version = true;
    return true;
}

static bool reset_json(const json_t *req, void *args, struct hilda_error *e)
{
    (void)req, (void)e;
    ((struct stats_args *)args)->reset = true;
    return true;
}

static void print_stats(FILE *f, const struct hilda_version *v, const struct hilda_counters *k, bool reset)
{
    fprintf(f, "firmware %u.%u (git %08x), vendor protocol %u.%u\n", v->firmware >> 8, v->firmware & 0xFF, v->git_hash,
            v->protocol >> 8, v->protocol & 0xFF);
    for (size_t i = 0; i < HILDA_COUNTERS_FIELDS; i++)
        fprintf(f, "  %-22s %10u\n", hilda_counter_names[i], hilda_counter_value(k, i));
    if (k->core_hz)
        fprintf(f, "  EP0 handling: last %.2f us, worst %.2f us\n", k->ep0_cycles_last * 1e6 / k->core_hz,
                k->ep0_cycles_max * 1e6 / k->core_hz);
    if (reset)
        fprintf(f, "counters reset\n");
}

static enum hilda_status stats_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct stats_args *a = args;
    struct hilda_version v;
    struct hilda_counters k;
    enum hilda_status st = cmd_open(io, true, e);
    if (st || (a->version && (st = hilda_get_version(io->d, &v, e))) ||
        (a->counters && (st = hilda_get_counters(io->d, &k, e))) || (a->reset && (st = hilda_reset_counters(io->d, e))))
        return st;
    if (io->reply) {
        if (a->version)
            hj_set(io->reply, "version", json_version(&v));
        if (a->counters)
            hj_set(io->reply, "counters", json_counters(&k));
        hj_set_bool(io->reply, "reset", a->reset);
    }
    if (io->text && a->version && a->counters)
        print_stats(io->text, &v, &k, a->reset);
    return HILDA_OK;
}

const struct cmd cmd_stats = {
    .name = "stats",
    .summary = "the device's counters (and firmware version)",
    .args_size = sizeof(struct stats_args),
    .parse_argv = stats_argv,
    .json = (const struct cmd_json[]){ { "stats", stats_json }, { "version", version_json },
                                       { "reset_counters", reset_json }, { NULL, NULL } },
    .run = stats_run,
    .batch_omits = (const char *const[]){ "reset", NULL },
};
