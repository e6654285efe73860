/* list: the attached dongles (or every USB device), in both modes. */
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "text.h"

static const char usage[] =
    "usage: hilda list [--all] [options]\n\n"
    "Lists attached dongles: the hilda firmware (1209:0001, application mode) and the Nordic Open DFU\n"
    "bootloader (1915:521f, CDC-ACM), with bus-port path, address, serial number and product. Opens\n"
    "each to read its serial number. The selection options filter: -d VID:PID lists only that ID\n"
    "(any mode), -s and -p only that serial or path. Exit 0 even when none is attached; with --wait\n"
    "SECONDS it waits that long for at least one, and exit 3 (not_found) when none came.\n\n"
    "  -a, --all              every USB device (hubs excepted), not only dongles\n";

struct list_args {
    bool all;
    bool selection;      /* argv: the selection options filter (VID:PID); batch lists every dongle */
    unsigned wait_ms;    /* until at least one matches */
};

static int list_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct list_args *a = args;
    static const struct option opts[] = { CLI_COMMON_LONG, { "all", no_argument, NULL, 'a' }, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "a", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        if (o != 'a')
            return cli_unknown_option(c, argv);
        a->all = true;
    }
    a->selection = true;
    a->wait_ms = c->wait_ms;
    return cli_no_arguments(c, argc, argv);
}

static bool list_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct list_args *a = args;
    return hilda_field_bool(req, "all", false, &a->all, e);
}

static void print_list(FILE *f, const struct hilda_devinfo *list, size_t n, const char *what)
{
    if (n == 0) {
        fprintf(f, "no %s found\n", what);   /* a query, not a failure: exit 0 */
        return;
    }
    fprintf(f, "%-12s %-8s %-10s %-12s %-6s %-18s %s\n", "PATH", "BUS:ADDR", "ID", "MODE", "SPEED", "SERIAL", "PRODUCT");
    for (size_t i = 0; i < n; i++) {
        char serial[HILDA_SERIAL_MAX * 2], product[HILDA_SERIAL_MAX * 2];
        hilda_escape(list[i].serial_known ? list[i].serial : "?", serial, sizeof serial);
        hilda_escape(list[i].product, product, sizeof product);
        fprintf(f, "%-12s %03u:%03u  %04x:%04x  %-12s %-6s %-18s %s%s%s%s\n", list[i].path, list[i].bus,
                list[i].address, list[i].vid, list[i].pid, hilda_mode_name(list[i].mode),
                hilda_speed_name(list[i].speed), serial, product, list[i].note[0] ? " (" : "", list[i].note,
                list[i].note[0] ? ")" : "");
    }
}

static enum hilda_status list_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct list_args *a = args;
    enum hilda_status st = cli_context(io->c, e);
    if (st)
        return st;
    struct hilda_selector sel = { 0 };
    if (a->selection)
        sel = io->c->sel;
    sel.read_serials = true;
    if (!sel.has_vidpid)
        sel.modes = HILDA_MODE_APP | HILDA_MODE_BOOTLOADER | (a->all ? HILDA_MODE_OTHER : 0);
    struct hilda_devinfo *list;
    size_t n;
    uint64_t deadline = hilda_now_ns() + (uint64_t)a->wait_ms * 1000000u;
    for (;;) {
        if ((st = hilda_discover(io->c->ctx, &sel, &list, &n, e)))
            return st;
        if (n || hilda_now_ns() >= deadline)
            break;
        hilda_devinfo_free(list, n);
        if (!hilda_sleep_ms(50))
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted while waiting for a device");
    }
    if (io->reply) {
        json_t *devices = json_array();
        for (size_t i = 0; i < n; i++)
            hj_append(devices, json_devinfo(&list[i]));
        hj_set(io->reply, "devices", devices);
    }
    /* what was looked for, for the empty list and the --wait refusal */
    char asked[128], what[160];
    if (sel.has_vidpid || sel.serial || sel.path) {
        hilda_selector_describe(&sel, asked, sizeof asked);
        snprintf(what, sizeof what, "device matching %s", asked);
    } else {
        snprintf(what, sizeof what, "%s", a->all ? "USB device" : "dongle (1209:0001 or 1915:521f)");
    }
    if (io->text && (n || !a->wait_ms))
        print_list(io->text, list, n, what);
    hilda_devinfo_free(list, n);
    /* --wait asks for a device: none is the documented not_found (the
     * --json error reply keeps its empty "devices") */
    if (!n && a->wait_ms) {
        io->partial = true;
        return hilda_fail(e, HILDA_ERR_NOT_FOUND, "no %s appeared within %.1f s", what, a->wait_ms / 1000.0);
    }
    return HILDA_OK;
}

const struct cmd cmd_list = {
    .name = "list",
    .summary = "attached dongles, in application or bootloader mode, with serial and path",
    .args_size = sizeof(struct list_args),
    .parse_argv = list_argv,
    .json = (const struct cmd_json[]){ { "list", list_json }, { NULL, NULL } },
    .run = list_run,
};
