#include <string.h>

#include "cli.h"
#include "clock.h"

static const char reset_usage[] =
    "usage: hilda reset [--wait SECONDS] [options]\n\n"
    "Reboots the dongle (HILDA_REQ_REBOOT; it restarts about 10 ms after the status stage). With\n"
    "--wait, waits up to SECONDS for it to come back (the same serial number, a new device address)\n"
    "and says where it is; exit 3 if it does not come back in time.\n";

static const char boot_usage[] =
    "usage: hilda bootloader [--wait SECONDS] [options]\n\n"
    "Reboots the dongle into the Nordic Open DFU bootloader (HILDA_REQ_REBOOT_BOOTLOADER: GPREGRET =\n"
    "0xB1, then a reboot). With --wait, waits up to SECONDS for it to appear in bootloader mode\n"
    "(1915:521f, CDC-ACM; the same serial number or the same port); exit 3 if it does not.\n";

static int reboot_cmd(struct cli *c, int argc, char **argv, bool bootloader)
{
    const char *usage = bootloader ? boot_usage : reset_usage;
    static const struct option opts[] = { CLI_COMMON_LONG, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    /* the --wait given is for the way back; finding the device now does not wait */
    unsigned wait_ms = c->wait_ms;
    c->wait_ms = 0;
    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open_vendor(c, &d, &e))
        return cli_fail(c, &e);
    hilda_device_read_identity(d);   /* the serial number finds it again */
    struct hilda_devinfo old = d->info;
    enum hilda_status st = hilda_reboot(d, bootloader, &e);
    hilda_close(d);
    /* The reboot may win the race with the status stage: a device gone is what was asked for. */
    if (st && st != HILDA_ERR_NO_DEVICE)
        return cli_fail(c, &e);
    uint64_t t0 = hilda_now_ns();
    struct hilda_devinfo found;
    bool waited = wait_ms > 0;
    /* Return only once the old device is gone, so that the next command
     * cannot find it still listed (a race a script would lose now and then). */
    bool gone = hilda_wait_gone(c->ctx, &old, 2000);
    if (waited) {
        unsigned spent = (unsigned)((hilda_now_ns() - t0) / 1000000u);
        st = hilda_wait_reappear(c->ctx, &old, bootloader ? HILDA_MODE_BOOTLOADER : HILDA_MODE_APP,
                                 wait_ms > spent ? wait_ms - spent : 0, &found, &e);
        if (st)
            return cli_fail(c, &e);
    }
    double ms = (double)(hilda_now_ns() - t0) / 1e6;
    if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, bootloader ? "bootloader" : "reset");
        hj_key(&j, "before");
        json_devinfo(&j, &old);
        hj_key(&j, "after");
        if (waited)
            json_devinfo(&j, &found);
        else
            hj_null(&j);
        hj_kdouble(&j, "wait_ms", waited ? ms : 0);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else if (waited) {
        printf("%s: back as %04x:%04x (%s mode) at %s, bus %03u device %03u, after %.0f ms\n",
               bootloader ? "bootloader" : "reset", found.vid, found.pid, hilda_mode_name(found.mode), found.path,
               found.bus, found.address, ms);
    } else {
        printf("%s: the dongle at %s is rebooting%s%s\n", bootloader ? "bootloader" : "reset", old.path,
               bootloader ? " into its bootloader" : "", gone ? "" : " (it is still listed after 2 s)");
    }
    if (waited && found.dev)
        libusb_unref_device(found.dev);
    return 0;
}

int cmd_reset(struct cli *c, int argc, char **argv)
{
    return reboot_cmd(c, argc, argv, false);
}

int cmd_bootloader(struct cli *c, int argc, char **argv)
{
    return reboot_cmd(c, argc, argv, true);
}
