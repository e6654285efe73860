#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hilda ch9 [--only PREFIX] [--no-reset] [--rounds N] [options]\n\n"
    "A chapter 9 conformance battery modelled on USBCV (TD 9.1 device descriptor, 9.2 configuration,\n"
    "9.4 interface, 9.7 BOS, 9.8 strings, 9.9 halt, 9.10 bad descriptor, 9.12 remote wakeup, 9.13 set\n"
    "configuration, 9.16 enumeration, 9.18 bus/self powered, 9.19 device qualifier) and the Linux\n"
    "usbtest tests 9 (ch9_postconfig), 10 (16 queued control requests, in order) and 13 (halt set and\n"
    "clear). Descriptors are read short and long; bad requests must STALL and the device must serve\n"
    "the next request; GET_STATUS per recipient in the Configured and Address states; SET_CONFIGURATION\n"
    "1, 1, 0, 1 checked with GET_CONFIGURATION. Each check has an id, a result (pass, fail, warn, skip)\n"
    "and the reason. The device is left configured, as found. Exit 0 when nothing failed, 1 otherwise.\n\n"
    "  -o, --only PREFIX      only the checks whose id starts with PREFIX (e.g. 9.9, 10-queue)\n"
    "      --no-reset         leave out 9.16 (a bus reset of the device)\n"
    "      --rounds N         usbtest 10: rounds of 16 queued requests in flight together (default 4)\n";

int cmd_ch9(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { "only", required_argument, NULL, 'o' },
                                          { "no-reset", no_argument, NULL, 'N' },
                                          { "rounds", required_argument, NULL, 'R' }, { 0, 0, 0, 0 } };
    struct hilda_ch9_options co = { 0 };
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "o:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'o': co.only = optarg; break;
        case 'N': co.skip_reset = true; break;
        case 'R':
            if (!cli_parse_u32(optarg, 64, &v) || !v)
                return cli_usage_error(c, "--rounds wants 1..64");
            co.queue_rounds = (unsigned)v;
            break;
        default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open(c, &d, &e))
        return cli_fail(c, &e);
    struct hilda_checks k;
    hilda_checks_init(&k);
    enum hilda_status st = hilda_ch9_run(d, &co, &k, &e);
    size_t pass = hilda_checks_count(&k, HILDA_PASS), fail = hilda_checks_count(&k, HILDA_FAIL),
           warn = hilda_checks_count(&k, HILDA_WARN), skip = hilda_checks_count(&k, HILDA_SKIP);
    int rc = fail ? hilda_status_exit_code(HILDA_ERR_CHECK) : 0;
    if (st) {
        if (!c->json)
            print_checks(stdout, &k);
        rc = cli_fail(c, &e);
    } else if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "ch9");
        hj_key(&j, "device");
        json_devinfo(&j, &d->info);
        hj_key(&j, "checks");
        hilda_json_checks(&j, &k);
        hj_kuint(&j, "passed", pass);
        hj_kuint(&j, "failed", fail);
        hj_kuint(&j, "warnings", warn);
        hj_kuint(&j, "skipped", skip);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else {
        printf("chapter 9 battery on %04x:%04x at %s\n", d->info.vid, d->info.pid, d->info.path);
        print_checks(stdout, &k);
        printf("%zu passed, %zu failed, %zu warnings, %zu skipped\n", pass, fail, warn, skip);
    }
    hilda_checks_free(&k);
    hilda_close(d);
    return rc;
}
