/* rig: the bench rig's FTDI adapter (host/rig): list the adapters, pulse a
 * dongle's reset, switch its power, take it into its bootloader, read the
 * pins. The rig description comes from --rig FILE or HILDA_RIG; options
 * override its entry. Not a batch command: a batch session holds a dongle,
 * the rig acts on the bench around it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "rig_adapter.h"
#include "rig_desc.h"
#include "rig_pins.h"

static const char usage[] =
    "usage: hilda rig list\n"
    "       hilda rig reset [--ms N]\n"
    "       hilda rig power on|off|cycle [--off-ms N]\n"
    "       hilda rig bootloader [--wait SECONDS]\n"
    "       hilda rig pins\n"
    "       [--rig FILE] [--dongle SERIAL] [--adapter SERIAL] [--reset-pin N] [--power-pin N]\n"
    "       [--power-active high|low] [options]\n\n"
    "Drives the bench rig: an FTDI adapter (FT232R 0403:6001, FT2232H 0403:6010, FT232H 0403:6014) in\n"
    "asynchronous bitbang mode, wired to the dongle's reset pad (open drain, active low: driven low, then\n"
    "released, never driven high) and to the enable input of a load switch in its VBUS line.\n\n"
    "  list        the adapters present (vid:pid, serial, description, bus path)\n"
    "  reset       pulls reset low for --ms N milliseconds (the description's, default 50), then releases it\n"
    "  power       on, off, or cycle: off for --off-ms N milliseconds (default 500), then on\n"
    "  bootloader  a reset pulse, then waits up to --wait SECONDS (default 10) for a Secure DFU bootloader\n"
    "              (1209:0002 or 1915:521f) and says where it is; exit 3 if none appears\n"
    "  pins        reads the 8 pins D0..D7 and says whether reset is asserted and power on\n\n"
    "      --rig FILE             the rig description (JSON; default: $HILDA_RIG; none: reset D0,\n"
    "                             power D1 active high, the only adapter present)\n"
    "      --dongle SERIAL        the description's entry for this dongle (default: --serial, or the only one)\n"
    "      --adapter SERIAL       the FTDI adapter's serial (over the description's)\n"
    "      --reset-pin N, --power-pin N, --power-active high|low\n"
    "                             the wiring (over the description's)\n\n"
    "Exit 3: no adapter; 4: several adapters and none chosen; 10: no permission to open the adapter\n"
    "(the udev rule of docs/rig.md); 2: a bad description or option.\n";

enum rig_action { RIG_LIST, RIG_RESET, RIG_POWER_ON, RIG_POWER_OFF, RIG_CYCLE, RIG_BOOTLOADER, RIG_PINS };

static const char *const action_names[] = { "list", "reset", "power on", "power off", "power cycle", "bootloader",
                                            "pins" };

#define BOOTLOADER_WAIT_MS 10000u

struct rig_args {
    enum rig_action action;
    const char *path;                   /* the description; NULL: none */
    struct hilda_rig_overrides o;
    unsigned ms, off_ms, wait_ms;       /* 0: the default */
};

static bool parse_ms(const char *s, unsigned *ms)
{
    unsigned long v;
    if (!cli_parse_u32(s, HILDA_RIG_MS_MAX, &v) || !v)
        return false;
    *ms = (unsigned)v;
    return true;
}

static bool parse_pin(const char *s, int *pin)
{
    unsigned long v;
    if (!cli_parse_u32(s, HILDA_RIG_PINS - 1, &v))
        return false;
    *pin = (int)v;
    return true;
}

static int rig_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct rig_args *a = args;
    enum { OPT_RIG = 0x100, OPT_DONGLE, OPT_ADAPTER, OPT_RESET_PIN, OPT_POWER_PIN, OPT_POWER_ACTIVE, OPT_MS,
           OPT_OFF_MS };
    static const struct option opts[] = { CLI_COMMON_LONG,
                                          { "rig", required_argument, NULL, OPT_RIG },
                                          { "dongle", required_argument, NULL, OPT_DONGLE },
                                          { "adapter", required_argument, NULL, OPT_ADAPTER },
                                          { "reset-pin", required_argument, NULL, OPT_RESET_PIN },
                                          { "power-pin", required_argument, NULL, OPT_POWER_PIN },
                                          { "power-active", required_argument, NULL, OPT_POWER_ACTIVE },
                                          { "ms", required_argument, NULL, OPT_MS },
                                          { "off-ms", required_argument, NULL, OPT_OFF_MS },
                                          { 0, 0, 0, 0 } };
    a->o = (struct hilda_rig_overrides)HILDA_RIG_NO_OVERRIDES;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, usage, &quit_rc)) != -1) {
        switch (o) {
        case CLI_OPT_QUIT: return quit_rc;
        case OPT_RIG: a->path = optarg; break;
        case OPT_DONGLE: a->o.dongle = optarg; break;
        case OPT_ADAPTER: a->o.adapter = optarg; break;
        case OPT_RESET_PIN:
            if (!parse_pin(optarg, &a->o.reset_pin))
                return cli_usage_error(c, "--reset-pin wants one of the adapter's pins 0..7, not \"%s\"", optarg);
            break;
        case OPT_POWER_PIN:
            if (!parse_pin(optarg, &a->o.power_pin))
                return cli_usage_error(c, "--power-pin wants one of the adapter's pins 0..7, not \"%s\"", optarg);
            break;
        case OPT_POWER_ACTIVE:
            if (strcmp(optarg, "high") && strcmp(optarg, "low"))
                return cli_usage_error(c, "--power-active wants high or low, not \"%s\"", optarg);
            a->o.power_active_high = !strcmp(optarg, "high");
            break;
        case OPT_MS:
            if (!parse_ms(optarg, &a->ms))
                return cli_usage_error(c, "--ms wants milliseconds 1..%u, not \"%s\"", HILDA_RIG_MS_MAX, optarg);
            break;
        case OPT_OFF_MS:
            if (!parse_ms(optarg, &a->off_ms))
                return cli_usage_error(c, "--off-ms wants milliseconds 1..%u, not \"%s\"", HILDA_RIG_MS_MAX,
                                       optarg);
            break;
        default: return cli_unknown_option(c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "what should the rig do? hilda rig list|reset|power on|off|cycle|bootloader|pins");
    const char *verb = argv[optind++];
    if (!strcmp(verb, "power")) {
        const char *how = optind < argc ? argv[optind++] : "";
        if (!strcmp(how, "on"))
            a->action = RIG_POWER_ON;
        else if (!strcmp(how, "off"))
            a->action = RIG_POWER_OFF;
        else if (!strcmp(how, "cycle"))
            a->action = RIG_CYCLE;
        else
            return cli_usage_error(c, "hilda rig power on, off or cycle%s%s%s", *how ? ", not \"" : "", how,
                                   *how ? "\"" : "");
    } else {
        static const struct { const char *name; enum rig_action action; } verbs[] = {
            { "list", RIG_LIST }, { "reset", RIG_RESET }, { "bootloader", RIG_BOOTLOADER }, { "pins", RIG_PINS },
        };
        size_t i = 0;
        while (i < sizeof verbs / sizeof verbs[0] && strcmp(verbs[i].name, verb))
            i++;
        if (i == sizeof verbs / sizeof verbs[0])
            return cli_usage_error(c, "hilda rig has no \"%s\": list, reset, power on|off|cycle, bootloader or "
                                   "pins", verb);
        a->action = verbs[i].action;
    }
    if (a->ms && a->action != RIG_RESET && a->action != RIG_BOOTLOADER)
        return cli_usage_error(c, "--ms is the reset pulse: for hilda rig reset or bootloader");
    if (a->off_ms && a->action != RIG_CYCLE)
        return cli_usage_error(c, "--off-ms is for hilda rig power cycle");
    if (c->wait_ms && a->action != RIG_BOOTLOADER)
        return cli_usage_error(c, "--wait is for hilda rig bootloader");
    a->wait_ms = c->wait_ms ? c->wait_ms : BOOTLOADER_WAIT_MS;
    if (!a->path) {
        const char *env = getenv("HILDA_RIG");
        a->path = env && *env ? env : NULL;
    }
    if (!a->o.dongle && c->sel.serial)
        a->o.dongle = c->sel.serial;
    return cli_no_arguments(c, argc, argv);
}

static json_t *json_adapter(const struct hilda_rig_adapter_info *x)
{
    char vidpid[16];
    snprintf(vidpid, sizeof vidpid, "%04x:%04x", x->vid, x->pid);
    return json_pack("{s:s, s:o, s:o, s:o, s:i, s:s, s:b}", "vidpid", vidpid, "serial", hj_str(x->serial),
                     "manufacturer", hj_str(x->manufacturer), "description", hj_str(x->description), "bus",
                     (int)x->bus, "path", x->path, "permission", !x->no_permission);
}

static json_t *json_rig(const struct hilda_rig *r, const char *path)
{
    return json_pack("{s:o, s:o, s:i, s:i, s:s}", "file", path ? hj_str(path) : json_null(), "dongle",
                     *r->dongle ? hj_str(r->dongle) : json_null(), "reset_pin", (int)r->reset_pin, "power_pin",
                     (int)r->power_pin, "power_active", r->power_active_high ? "high" : "low");
}

static enum hilda_status run_list(struct cmd_io *io, struct hilda_error *e)
{
    struct hilda_rig_scan s;
    enum hilda_status st = hilda_rig_scan(&s, 0, 0, e);
    if (st)
        return st;
    json_t *arr = io->reply ? json_array() : NULL;
    for (size_t i = 0; i < s.n; i++) {
        const struct hilda_rig_adapter_info *x = &s.list[i];
        if (arr)
            json_array_append_new(arr, json_adapter(x));
        if (io->text)
            fprintf(io->text, "%04x:%04x  %-12s  %s%s%s  at %s%s\n", x->vid, x->pid,
                    x->no_permission ? "?" : *x->serial ? x->serial : "(no serial)", x->description,
                    *x->manufacturer ? ", " : "", x->manufacturer, x->path,
                    x->no_permission ? "  (no permission: see the udev rule in docs/rig.md)" : "");
    }
    if (io->text && !s.n)
        fprintf(io->text, "no FTDI adapter (0403:6001, 0403:6010, 0403:6014) is connected\n");
    if (arr)
        hj_set(io->reply, "adapters", arr);
    hilda_rig_scan_free(&s);
    return HILDA_OK;
}

/* The bootloaders on the bus before the pulse, by bus and address: a
 * re-enumerated device has a new address, so none of these is the one the
 * pulse brings up (a dongle already in DFU mode comes back as a new one). */
#define BEFORE_MAX 16
struct before {
    uint16_t where[BEFORE_MAX];
    size_t n;
};

static uint16_t bus_address(const struct hilda_devinfo *d)
{
    return (uint16_t)(d->bus << 8 | d->address);
}

static bool was_there(const struct before *b, const struct hilda_devinfo *d)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->where[i] == bus_address(d))
            return true;
    return false;
}

static enum hilda_status bootloaders_before(struct cmd_io *io, struct before *b, struct hilda_error *e)
{
    b->n = 0;
    enum hilda_status st = cli_context(io->c, e);
    if (st)
        return st;
    struct hilda_selector sel = { .modes = HILDA_MODE_BOOTLOADER };
    struct hilda_devinfo *list;
    size_t n;
    if ((st = hilda_discover(io->c->ctx, &sel, &list, &n, e)))
        return st;
    for (size_t i = 0; i < n && b->n < BEFORE_MAX; i++)
        b->where[b->n++] = bus_address(&list[i]);
    hilda_devinfo_free(list, n);
    return HILDA_OK;
}

/* After the reset pulse: the bootloader that appears (bounded by wait_ms). */
static enum hilda_status wait_bootloader(struct cmd_io *io, const struct hilda_rig *rig, const struct before *b,
                                         unsigned wait_ms, struct hilda_devinfo *found, struct hilda_error *e)
{
    enum hilda_status st;
    struct hilda_selector sel = { .modes = HILDA_MODE_BOOTLOADER, .path = io->c->sel.path,
                                  .read_serials = true };
    uint64_t deadline = hilda_now_ns() + (uint64_t)wait_ms * 1000000u;
    for (;;) {
        struct hilda_devinfo *list;
        size_t n, pick = 0, matches = 0, fresh = 0;
        if ((st = hilda_discover(io->c->ctx, &sel, &list, &n, e)))
            return st;
        for (size_t i = 0; i < n; i++)
            fresh += !was_there(b, &list[i]);
        /* several new bootloaders: the one with the dongle's serial, if the description names it */
        for (size_t i = 0; i < n; i++)
            if (!was_there(b, &list[i]) &&
                (fresh == 1 || (*rig->dongle && list[i].serial_known && !strcmp(list[i].serial, rig->dongle)))) {
                pick = i;
                matches++;
            }
        if (matches == 1) {
            *found = list[pick];
            found->dev = libusb_ref_device(list[pick].dev);
        }
        hilda_devinfo_free(list, n);
        if (matches == 1)
            return HILDA_OK;
        if (fresh > 1 && !*rig->dongle)
            return hilda_fail(e, HILDA_ERR_AMBIGUOUS, "%zu bootloaders appeared: name the dongle with --dongle "
                              "SERIAL or the rig description, or choose with --path", fresh);
        if (hilda_now_ns() >= deadline)
            return hilda_fail(e, HILDA_ERR_NOT_FOUND, "the rig pulsed the reset line, but no Secure DFU bootloader "
                              "appeared within %.1f s: check that the dongle has one and that D%u is wired to its "
                              "SW2/P0.18 pad, or give it longer with --wait", wait_ms / 1000.0, rig->reset_pin);
        if (!hilda_sleep_ms(50))
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted while waiting for the bootloader");
    }
}

static void print_pins(FILE *f, const struct hilda_rig *rig, const struct hilda_rig_reading *r)
{
    static const char *const ft232r[HILDA_RIG_PINS] = { "TXD", "RXD", "RTS", "CTS", "DTR", "DSR", "DCD", "RI" };
    fprintf(f, "pins:");
    for (unsigned i = 0; i < HILDA_RIG_PINS; i++)
        fprintf(f, " D%u(%s)=%u", i, ft232r[i], (r->levels >> i) & 1u);
    fprintf(f, "\nreset (D%u): %s\npower (D%u, active %s): %s\n", rig->reset_pin,
            r->reset_asserted ? "asserted (low)" : "released (high)", rig->power_pin,
            rig->power_active_high ? "high" : "low", r->power_on ? "on" : "off");
}

static enum hilda_status rig_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct rig_args *a = args;
    if (io->reply)
        hj_set_str(io->reply, "action", action_names[a->action]);
    if (a->action == RIG_LIST)
        return run_list(io, e);
    struct hilda_rig rig;
    enum hilda_status st = hilda_rig_load(a->path, &a->o, &rig, e);
    if (st)
        return st;
    struct hilda_rig_adapter *ad;
    if ((st = hilda_rig_open(&rig, a->action != RIG_PINS, &ad, e)))
        return st;
    unsigned ms = a->ms ? a->ms : rig.reset_ms, off_ms = a->off_ms ? a->off_ms : rig.power_off_ms;
    struct hilda_rig_reading reading;
    struct before before = { .n = 0 };
    if (a->action == RIG_BOOTLOADER && (st = bootloaders_before(io, &before, e))) {
        hilda_rig_close(ad);
        return st;
    }
    switch (a->action) {
    case RIG_RESET:
    case RIG_BOOTLOADER: st = hilda_rig_reset(&ad->pins, ms, e); break;
    case RIG_POWER_ON: st = hilda_rig_power(&ad->pins, true, e); break;
    case RIG_POWER_OFF: st = hilda_rig_power(&ad->pins, false, e); break;
    case RIG_CYCLE: st = hilda_rig_power_cycle(&ad->pins, off_ms, e); break;
    case RIG_PINS: st = hilda_rig_read(&ad->pins, &reading, e); break;
    case RIG_LIST: break;
    }
    struct hilda_rig_adapter_info info = ad->info;
    info.dev = NULL;
    hilda_rig_close(ad);
    if (st)
        return st;
    if (io->reply) {
        hj_set(io->reply, "rig", json_rig(&rig, a->path));
        hj_set(io->reply, "adapter", json_adapter(&info));
    }
    const char *adapter = *info.serial ? info.serial : info.path;
    switch (a->action) {
    case RIG_RESET:
        if (io->reply)
            hj_set(io->reply, "ms", json_integer(ms));
        if (io->text)
            fprintf(io->text, "rig: reset (D%u) pulled low for %u ms, then released (adapter %s)\n", rig.reset_pin,
                    ms, adapter);
        break;
    case RIG_POWER_ON:
    case RIG_POWER_OFF:
        if (io->reply)
            hj_set_bool(io->reply, "power_on", a->action == RIG_POWER_ON);
        if (io->text)
            fprintf(io->text, "rig: power (D%u) %s (adapter %s)\n", rig.power_pin,
                    a->action == RIG_POWER_ON ? "on" : "off", adapter);
        break;
    case RIG_CYCLE:
        if (io->reply) {
            hj_set(io->reply, "off_ms", json_integer(off_ms));
            hj_set_bool(io->reply, "power_on", true);
        }
        if (io->text)
            fprintf(io->text, "rig: power (D%u) off for %u ms, then on (adapter %s)\n", rig.power_pin, off_ms,
                    adapter);
        break;
    case RIG_PINS:
        if (io->reply) {
            hj_set(io->reply, "levels", json_integer(reading.levels));
            json_t *pins = json_array();
            for (unsigned i = 0; i < HILDA_RIG_PINS; i++)
                json_array_append_new(pins, json_integer((reading.levels >> i) & 1u));
            hj_set(io->reply, "pins", pins);
            hj_set_bool(io->reply, "reset_asserted", reading.reset_asserted);
            hj_set_bool(io->reply, "power_on", reading.power_on);
        }
        if (io->text)
            print_pins(io->text, &rig, &reading);
        break;
    case RIG_BOOTLOADER: {
        uint64_t t0 = hilda_now_ns();
        struct hilda_devinfo found;
        if ((st = wait_bootloader(io, &rig, &before, a->wait_ms, &found, e)))
            return st;
        double waited = (double)(hilda_now_ns() - t0) / 1e6;
        if (io->reply) {
            hj_set(io->reply, "ms", json_integer(ms));
            hj_set(io->reply, "bootloader", json_devinfo(&found));
            hj_set_real(io->reply, "wait_ms", waited);
        }
        if (io->text)
            fprintf(io->text, "rig: reset pulsed; bootloader %04x:%04x at %s, bus %03u device %03u, after %.0f ms\n",
                    found.vid, found.pid, found.path, found.bus, found.address, waited);
        libusb_unref_device(found.dev);
        break;
    }
    case RIG_LIST: break;
    }
    return HILDA_OK;
}

const struct cmd cmd_rig = {
    .name = "rig",
    .summary = "the bench rig's FTDI adapter: list, reset, power on|off|cycle, bootloader, pins",
    .args_size = sizeof(struct rig_args),
    .parse_argv = rig_argv,
    .json = NULL,
    .run = rig_run,
};
