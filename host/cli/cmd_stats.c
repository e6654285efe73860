#include "cli.h"

static const char usage[] =
    "usage: hilda stats [--reset] [options]\n\n"
    "The firmware version and the device's counters (GET_COUNTERS): SETUPs, STALLs, bus resets,\n"
    "suspends and resumes, EasyDMA transfers, UART errors and bytes, EP0 handling time (last and worst,\n"
    "in cycles and microseconds at core_hz), button presses.\n\n"
    "      --reset            then set the counters to 0 (RESET_COUNTERS); the values shown are from before\n";

int cmd_stats(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { "reset", no_argument, NULL, 'R' }, { 0, 0, 0, 0 } };
    bool reset = false;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        if (o == 'R')
            reset = true;
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open_vendor(c, &d, &e))
        return cli_fail(c, &e);
    struct hilda_version v;
    struct hilda_counters k;
    int rc = 0;
    if (hilda_get_version(d, &v, &e) || hilda_get_counters(d, &k, &e) || (reset && hilda_reset_counters(d, &e))) {
        rc = cli_fail(c, &e);
    } else if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "stats");
        hj_key(&j, "version");
        json_version(&j, &v);
        hj_key(&j, "counters");
        json_counters(&j, &k);
        hj_kbool(&j, "reset", reset);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else {
        printf("firmware %u.%u (git %08x), vendor protocol %u.%u\n", v.firmware >> 8, v.firmware & 0xFF, v.git_hash,
               v.protocol >> 8, v.protocol & 0xFF);
        for (size_t i = 0; i < HILDA_COUNTERS_FIELDS; i++)
            printf("  %-16s %10u\n", hilda_counter_names[i], hilda_counter_value(&k, i));
        if (k.core_hz)
            printf("  EP0 handling: last %.2f us, worst %.2f us\n", k.ep0_cycles_last * 1e6 / k.core_hz,
                   k.ep0_cycles_max * 1e6 / k.core_hz);
        if (reset)
            printf("counters reset\n");
    }
    hilda_close(d);
    return rc;
}
