/* hilda: the host tool for the hilda test firmware on the nRF52840 dongle.
 * See docs/host.md and `hilda --help`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv);
    const char *summary;
} commands[] = {
    { "list", cmd_list, "attached dongles, in application or bootloader mode, with serial and path" },
    { "desc", cmd_desc, "every descriptor, parsed and printed (like lsusb -v), and what breaks chapter 9" },
    { "ctrl", cmd_ctrl, "one raw control request" },
    { "ch9", cmd_ch9, "chapter 9 conformance battery (USBCV TD 9.x, usbtest 9, 10, 13)" },
    { "stress", cmd_stress, "descriptor, echo, random and queued-transfer stress, every answer verified" },
    { "timing", cmd_timing, "latency per request kind and size, beside the device's EP0 handling time" },
    { "echo", cmd_echo, "write bytes to the echo buffer, read them back, compare" },
    { "uart", cmd_uart, "the UART bridge: send, recv, baud, status" },
    { "stats", cmd_stats, "the device's counters (and firmware version)" },
    { "reset", cmd_reset, "reboot the dongle (REBOOT); --wait for it to come back" },
    { "bootloader", cmd_bootloader, "reboot into the Nordic DFU bootloader (REBOOT_BOOTLOADER)" },
    { "batch", cmd_batch, "JSON lines in, JSON lines out: one long-lived process for scripts and pytest" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fputs("usage: hilda [options] COMMAND [command options] [arguments]\n"
          "       hilda COMMAND --help\n\n"
          "The host tool for the hilda test firmware on the nRF52840 dongle (libusb-1.0).\n\n"
          "Commands:\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    cli_print_common_help(f);
    fputs("\nMore: docs/host.md.\n", f);
}

int main(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    c.timeout_ms = HILDA_DEFAULT_TIMEOUT_MS;
    hilda_install_signal_handlers();
    opterr = 0;

    static const struct option opts[] = { CLI_COMMON_LONG, { "version", no_argument, NULL, 'V' }, { 0, 0, 0, 0 } };
    int o;
    /* "+": global options stop at the command */
    while ((o = getopt_long(argc, argv, "+" CLI_COMMON_SHORT "V", opts, NULL)) != -1) {
        if (o == OPT_HELP) {
            usage(stdout);
            return 0;
        }
        if (o == 'V') {
            printf("hilda %s (vendor protocol %u.%u)\n", HILDA_CLI_VERSION, HILDA_PROTOCOL_VERSION >> 8,
                   HILDA_PROTOCOL_VERSION & 0xFF);
            return 0;
        }
        int r = cli_common_option(&c, o, optarg, "");
        if (r < 0)
            return hilda_status_exit_code(HILDA_ERR_USAGE);
        if (r == 0)
            return cli_usage_error(&c, "unknown option %s", argv[optind - 1]);
    }
    if (optind >= argc) {
        usage(stderr);
        return hilda_status_exit_code(HILDA_ERR_USAGE);
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        if (optind + 1 < argc) {
            char *help_argv[] = { argv[optind + 1], (char *)"--help", NULL };
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(commands[i].name, argv[optind + 1]) == 0) {
                    c.command = commands[i].name;
                    optind = 0;
                    return commands[i].fn(&c, 2, help_argv);
                }
        }
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        c.command = commands[i].name;
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0;   /* 0, not 1: glibc then forgets the "+" of the global scan */
        int rc = commands[i].fn(&c, sub_argc, sub_argv);
        if (c.ctx)
            libusb_exit(c.ctx);
        return rc;
    }
    return cli_usage_error(&c, "unknown command \"%s\"", name);
}
