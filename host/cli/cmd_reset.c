/* reset and bootloader: reboot the dongle, and follow it where it comes back. */
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

struct reboot_args {
    bool bootloader;
    unsigned wait_ms;   /* for the way back; 0: do not wait */
    bool session;       /* batch: the session goes on with the dongle that came back; the reply
                           holds only what happened ("after" and "wait_ms" only after a wait) */
};

static int reboot_argv(struct cli *c, int argc, char **argv, struct reboot_args *a, bool bootloader)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, bootloader ? boot_usage : reset_usage,
                           &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        return cli_unknown_option(c, argv);
    }
    a->bootloader = bootloader;
    /* the --wait given is for the way back; finding the device now does not wait */
    a->wait_ms = c->wait_ms;
    c->wait_ms = 0;
    return cli_no_arguments(c, argc, argv);
}

static int reset_argv(struct cli *c, int argc, char **argv, void *args)
{
    return reboot_argv(c, argc, argv, args, false);
}

static int boot_argv(struct cli *c, int argc, char **argv, void *args)
{
    return reboot_argv(c, argc, argv, args, true);
}

static bool reboot_json(const json_t *req, struct reboot_args *a, bool bootloader, struct hilda_error *e)
{
    unsigned long long wait;
    if (!hilda_field_uint(req, "wait_ms", 3600000, bootloader ? 0 : 5000, &wait, e))
        return false;
    *a = (struct reboot_args){ .bootloader = bootloader, .wait_ms = (unsigned)wait, .session = true };
    return true;
}

static bool reset_json(const json_t *req, void *args, struct hilda_error *e)
{
    return reboot_json(req, args, false, e);
}

static bool boot_json(const json_t *req, void *args, struct hilda_error *e)
{
    return reboot_json(req, args, true, e);
}

static enum hilda_status reboot_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct reboot_args *a = args;
    const char *name = a->bootloader ? "bootloader" : "reset";
    enum hilda_status st = cmd_open(io, true, e);
    if (st)
        return st;
    hilda_device_read_identity(io->d);   /* the serial number finds it again */
    struct hilda_devinfo old = io->d->info;
    old.dev = NULL;
    st = hilda_reboot(io->d, a->bootloader, e);
    hilda_close(io->d);
    io->d = NULL;
    /* The reboot may win the race with the status stage: a device gone is what was asked for. */
    if (st && st != HILDA_ERR_NO_DEVICE)
        return st;
    libusb_context *ctx = io->c->ctx;
    uint64_t t0 = hilda_now_ns();
    struct hilda_devinfo found = { 0 };
    bool waited = a->wait_ms > 0;
    /* Return only once the old device is gone, so that the next command
     * cannot find it still listed (a race a script would lose now and then). */
    bool gone = hilda_wait_gone(ctx, &old, 2000);
    if (waited) {
        unsigned spent = (unsigned)((hilda_now_ns() - t0) / 1000000u);
        st = hilda_wait_reappear(ctx, &old, a->bootloader ? HILDA_MODE_BOOTLOADER : HILDA_MODE_APP,
                                 a->wait_ms > spent ? a->wait_ms - spent : 0, &found, e);
        if (st)
            return st;
    }
    double ms = (double)(hilda_now_ns() - t0) / 1e6;
    if (io->reply) {
        hj_set(io->reply, "before", json_devinfo(&old));
        if (waited || !a->session) {
            hj_set(io->reply, "after", waited ? json_devinfo(&found) : json_null());
            hj_set_real(io->reply, "wait_ms", waited ? ms : 0);
        }
    }
    if (io->text && waited)
        fprintf(io->text, "%s: back as %04x:%04x (%s mode) at %s, bus %03u device %03u, after %.0f ms\n", name,
                found.vid, found.pid, hilda_mode_name(found.mode), found.path, found.bus, found.address, ms);
    else if (io->text)
        fprintf(io->text, "%s: the dongle at %s is rebooting%s%s\n", name, old.path,
                a->bootloader ? " into its bootloader" : "", gone ? "" : " (it is still listed after 2 s)");
    if (waited && a->session && !a->bootloader) {
        /* the session goes on with the dongle that came back */
        st = hilda_open_info(ctx, &found, &io->d, e);
        if (!st)
            io->d->timeout_ms = io->c->timeout_ms;
    }
    if (found.dev)
        libusb_unref_device(found.dev);
    return st;
}

const struct cmd cmd_reset = {
    .name = "reset",
    .summary = "reboot the dongle (REBOOT); --wait for it to come back",
    .args_size = sizeof(struct reboot_args),
    .parse_argv = reset_argv,
    .json = (const struct cmd_json[]){ { "reset", reset_json }, { NULL, NULL } },
    .run = reboot_run,
};

const struct cmd cmd_bootloader = {
    .name = "bootloader",
    .summary = "reboot into the Nordic DFU bootloader (REBOOT_BOOTLOADER)",
    .args_size = sizeof(struct reboot_args),
    .parse_argv = boot_argv,
    .json = (const struct cmd_json[]){ { "bootloader", boot_json }, { NULL, NULL } },
    .run = reboot_run,
};
