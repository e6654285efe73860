#include <string.h>

#include "cli.h"
#include "clock.h"
#include "text.h"

static const char usage[] =
    "usage: hilda list [--all] [options]\n\n"
    "Lists attached dongles: the hilda firmware (1209:0001, application mode) and the Nordic Open DFU\n"
    "bootloader (1915:521f, CDC-ACM), with bus-port path, address, serial number and product. Opens\n"
    "each to read its serial number. Exit 0 even when none is attached; with --wait SECONDS it waits\n"
    "that long for at least one.\n\n"
    "  -a, --all              every USB device (hubs excepted), not only dongles\n";

int cmd_list(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { "all", no_argument, NULL, 'a' }, { 0, 0, 0, 0 } };
    bool all = false;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "a", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        if (o == 'a')
            all = true;
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);

    struct hilda_error e;
    if (cli_context(c, &e))
        return cli_fail(c, &e);
    struct hilda_selector sel = c->sel;
    sel.read_serials = true;
    if (!sel.has_vidpid)
        sel.modes = all ? HILDA_MODE_APP | HILDA_MODE_BOOTLOADER | HILDA_MODE_OTHER : HILDA_MODE_APP | HILDA_MODE_BOOTLOADER;
    struct hilda_devinfo *list;
    size_t n;
    /* with --wait: until at least one matches */
    uint64_t deadline = hilda_now_ns() + (uint64_t)c->wait_ms * 1000000u;
    for (;;) {
        if (hilda_discover(c->ctx, &sel, &list, &n, &e))
            return cli_fail(c, &e);
        if (n || hilda_now_ns() >= deadline)
            break;
        hilda_devinfo_free(list, n);
        if (!hilda_sleep_ms(50)) {
            hilda_fail(&e, HILDA_ERR_INTERRUPTED, "interrupted while waiting for a device");
            return cli_fail(c, &e);
        }
    }
    if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "list");
        hj_key(&j, "devices");
        hj_arr(&j);
        for (size_t i = 0; i < n; i++)
            json_devinfo(&j, &list[i]);
        hj_arr_end(&j);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else if (n == 0) {
        printf("no %s found\n", all ? "USB devices" : "dongles (1209:0001 or 1915:521f)");
    } else {
        printf("%-12s %-8s %-10s %-12s %-6s %-18s %s\n", "PATH", "BUS:ADDR", "ID", "MODE", "SPEED", "SERIAL", "PRODUCT");
        for (size_t i = 0; i < n; i++) {
            char serial[HILDA_SERIAL_MAX * 2], product[HILDA_SERIAL_MAX * 2];
            hilda_escape(list[i].serial_known ? list[i].serial : "?", serial, sizeof serial);
            hilda_escape(list[i].product, product, sizeof product);
            printf("%-12s %03u:%03u  %04x:%04x  %-12s %-6s %-18s %s%s%s%s\n", list[i].path, list[i].bus,
                   list[i].address, list[i].vid, list[i].pid, hilda_mode_name(list[i].mode),
                   hilda_speed_name(list[i].speed), serial, product, list[i].note[0] ? " (" : "", list[i].note,
                   list[i].note[0] ? ")" : "");
        }
    }
    hilda_devinfo_free(list, n);
    return 0;
}
