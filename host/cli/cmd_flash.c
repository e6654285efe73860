/* flash: an application update through the dongle's Secure DFU bootloader
 * (Nordic's factory one or hilda's own), checked before and after
 * (host/flash/flash.h tells the journey). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flash.h"
#include "rig_adapter.h"
#include "rig_desc.h"
#include "text.h"

static const char usage[] =
    "usage: hilda flash IMAGE [--address ADDR] [--no-verify] [--app-wait SECONDS] [options]\n\n"
    "Updates the dongle's application over Secure DFU, spoken directly to the bootloader's CDC ACM\n"
    "endpoints (no tty needed). IMAGE is an ELF file, an Intel HEX file, an nrfutil DFU package (.zip),\n"
    "or a flat binary with --address. The image is checked before anything is sent: linked at 0x1000,\n"
    "clear of the MBR page, ending below the bootloader at 0xE0000, no UICR words.\n\n"
    "A dongle already in DFU mode is used as it is. One running hilda firmware is asked to reboot into\n"
    "its bootloader (REBOOT_BOOTLOADER); if that does not bring one up (Nordic's factory bootloader\n"
    "ignores the request) and a bench rig is described (--rig FILE or HILDA_RIG), the rig pulses the\n"
    "dongle's reset line; without a rig, hilda asks you to press the dongle's reset button. Either way it\n"
    "waits for the bootloader (--wait, default 30 s). After the update hilda waits for the application\n"
    "and reads its version: the git hash it reports must be the image's (exit 1 otherwise).\n\n"
    "  -a, --address ADDR     load address of a flat binary (0x1000 for a dongle application)\n"
    "      --no-verify        do not wait for the application and read its version (foreign firmware)\n"
    "      --app-wait SECONDS how long the application may take to enumerate (default 20)\n"
    "      --rig FILE         the bench rig description (default: $HILDA_RIG); its entry for the dongle\n"
    "                         (--serial, or the only one) says which adapter pin resets it\n"
    "      --test-corrupt-object N\n"
    "                         test hook: corrupt data object N once in transit, so that the CRC check\n"
    "                         and the retry run against a real bootloader\n"
    "      --test-stop-after-objects N\n"
    "                         test hook: end the update after N data objects (exit 130), as if the\n"
    "                         cable were pulled; the next hilda flash resumes it\n";

struct flash_args {
    char *image;
    uint32_t address;            /* UINT32_MAX: none given */
    unsigned wait_ms, app_wait_ms;
    bool no_verify;
    unsigned corrupt_object, stop_after_objects;
    char *rig;                   /* the rig description; NULL: none */
};

static int flash_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct flash_args *a = args;
    enum { OPT_NO_VERIFY = 0x100, OPT_APP_WAIT, OPT_CORRUPT, OPT_STOP, OPT_RIG };
    static const struct option opts[] = { CLI_COMMON_LONG,
                                          { "address", required_argument, NULL, 'a' },
                                          { "no-verify", no_argument, NULL, OPT_NO_VERIFY },
                                          { "app-wait", required_argument, NULL, OPT_APP_WAIT },
                                          { "test-corrupt-object", required_argument, NULL, OPT_CORRUPT },
                                          { "test-stop-after-objects", required_argument, NULL, OPT_STOP },
                                          { "rig", required_argument, NULL, OPT_RIG },
                                          { 0, 0, 0, 0 } };
    a->address = UINT32_MAX;
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "a:", opts, usage, &quit_rc)) != -1) {
        switch (o) {
        case CLI_OPT_QUIT: return quit_rc;
        case 'a':
            if (!cli_parse_u32(optarg, 0xFFFFFFFEul, &v))
                return cli_usage_error(c, "--address wants a flash address such as 0x1000, not \"%s\"", optarg);
            a->address = (uint32_t)v;
            break;
        case OPT_NO_VERIFY: a->no_verify = true; break;
        case OPT_RIG:
            free(a->rig);
            if (!(a->rig = strdup(optarg)))
                return cli_usage_error(c, "out of memory");
            break;
        case OPT_APP_WAIT:
            if (!cli_parse_u32(optarg, 3600, &v) || !v)
                return cli_usage_error(c, "--app-wait wants 1..3600 seconds, not \"%s\"", optarg);
            a->app_wait_ms = (unsigned)v * 1000u;
            break;
        case OPT_CORRUPT:
            if (!cli_parse_u32(optarg, 4096, &v) || !v)
                return cli_usage_error(c, "--test-corrupt-object wants an object number 1..4096");
            a->corrupt_object = (unsigned)v;
            break;
        case OPT_STOP:
            if (!cli_parse_u32(optarg, 4096, &v) || !v)
                return cli_usage_error(c, "--test-stop-after-objects wants an object count 1..4096");
            a->stop_after_objects = (unsigned)v;
            break;
        default: return cli_unknown_option(c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "which image? hilda flash IMAGE (an .elf, .hex, .zip or .bin)");
    if (optind + 1 < argc)
        return cli_usage_error(c, "one image at a time, not \"%s\" too", argv[optind + 1]);
    a->image = strdup(argv[optind]);
    const char *env = getenv("HILDA_RIG");
    if (!a->rig && env && *env && !(a->rig = strdup(env)))
        return cli_usage_error(c, "out of memory");
    /* --wait is how long to wait for the bootloader, not for the device to appear first */
    a->wait_ms = c->wait_ms;
    c->wait_ms = 0;
    return a->image ? CMD_GO : cli_usage_error(c, "out of memory");
}

static bool flash_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct flash_args *a = args;
    const char *image, *rig;
    unsigned long long address, wait, app_wait, corrupt, stop;
    bool verify;
    if (!hilda_field_str(req, "image", &image, e) || !hilda_field_str(req, "rig", &rig, e) ||
        !hilda_field_uint(req, "address", 0xFFFFFFFFull, 0xFFFFFFFFull, &address, e) ||
        !hilda_field_uint(req, "wait_ms", 3600000, 0, &wait, e) ||
        !hilda_field_uint(req, "app_wait_ms", 3600000, 0, &app_wait, e) ||
        !hilda_field_bool(req, "verify", true, &verify, e) ||
        !hilda_field_uint(req, "test_corrupt_object", 4096, 0, &corrupt, e) ||
        !hilda_field_uint(req, "test_stop_after_objects", 4096, 0, &stop, e))
        return false;
    if (!image) {
        hilda_fail(e, HILDA_ERR_USAGE, "flash needs \"image\": the path of an .elf, .hex, .zip or .bin file");
        return false;
    }
    *a = (struct flash_args){ .image = strdup(image), .address = (uint32_t)address, .wait_ms = (unsigned)wait,
                              .app_wait_ms = (unsigned)app_wait, .no_verify = !verify,
                              .corrupt_object = (unsigned)corrupt, .stop_after_objects = (unsigned)stop,
                              .rig = rig ? strdup(rig) : NULL };
    return a->image != NULL && (!rig || a->rig);
}

static void flash_free(void *args)
{
    free(((struct flash_args *)args)->image);
    free(((struct flash_args *)args)->rig);
}

static void notice_stderr(void *ctx, const char *sentence)
{
    (void)ctx;
    fprintf(stderr, "hilda flash: %s\n", sentence);
}

/* The enter_bootloader hook: the rig pulses the dongle's reset line. */
static enum hilda_status rig_reset(void *ctx, struct hilda_error *e)
{
    fprintf(stderr, "hilda flash: the rig pulses the dongle's reset line to start its bootloader\n");
    return hilda_rig_pulse_reset(ctx, 0, e);
}

static json_t *json_dfu_report(const struct hilda_dfu_report *r)
{
    return json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:b, s:i, s:i, s:b}", "protocol_version",
                     (int)r->protocol_version, "mtu", (int)r->mtu, "chunk", (int)r->chunk, "command_max",
                     (json_int_t)r->command_max, "data_max", (json_int_t)r->data_max, "resumed_from",
                     (json_int_t)r->resumed_from, "init_resumed", r->init_resumed, "objects", (int)r->objects,
                     "crc_retries", (int)r->crc_retries, "reset_seen", r->reset_seen);
}

static void report(struct cmd_io *io, const struct flash_args *a, const struct hilda_flash_result *r)
{
    char hash[16];
    snprintf(hash, sizeof hash, "%08x", r->image_git_hash);
    if (io->reply) {
        hj_set(io->reply, "image", json_pack("{s:o, s:s, s:I, s:I, s:o}", "path", hj_str(a->image), "format",
                                             hilda_image_format_name(r->format), "start", (json_int_t)r->start,
                                             "length", (json_int_t)r->len, "git_hash",
                                             r->image_has_version ? json_string(hash) : json_null()));
        hj_set(io->reply, "entry", json_string(hilda_flash_entry_name(r->entry)));
        if (r->bootloader.vid)
            hj_set(io->reply, "bootloader", json_devinfo(&r->bootloader));
        hj_set(io->reply, "dfu", json_dfu_report(&r->dfu));
        hj_set_real(io->reply, "seconds", r->seconds);
        hj_set(io->reply, "application", r->app_version_read ? json_version(&r->app_version) : json_null());
        if (r->refusal.opcode || r->refusal.result)
            hj_set(io->reply, "refusal", json_pack("{s:s, s:i, s:i}", "opcode",
                                                   hilda_dfu_opcode_name(r->refusal.opcode), "result",
                                                   r->refusal.result, "extended_error", r->refusal.ext_error));
    }
    if (io->text && r->app_version_read)
        fprintf(io->text, "flash: %s (%s, %zu bytes at 0x%05x) written in %u objects in %.1f s%s%s; the dongle runs "
                "firmware %u.%u (git %08x)\n", a->image, hilda_image_format_name(r->format), r->len, r->start,
                r->dfu.objects, r->seconds, r->dfu.resumed_from ? ", resumed" : "",
                r->dfu.crc_retries ? ", with CRC retries" : "", r->app_version.firmware >> 8,
                r->app_version.firmware & 0xFF, r->app_version.git_hash);
    else if (io->text && r->dfu.objects)
        fprintf(io->text, "flash: %s written in %u objects in %.1f s (not verified)\n", a->image, r->dfu.objects,
                r->seconds);
}

static enum hilda_status flash_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct flash_args *a = args;
    if (io->d) {            /* batch: the session's dongle is about to reboot */
        hilda_close(io->d);
        io->d = NULL;
    }
    enum hilda_status st = cli_context(io->c, e);
    if (st)
        return st;
    struct hilda_rig rig;
    struct hilda_rig_overrides over = HILDA_RIG_NO_OVERRIDES;
    over.dongle = io->c->sel.serial;
    if (a->rig && (st = hilda_rig_load(a->rig, &over, &rig, e)))
        return st;
    struct hilda_flash_options o = {
        .image_path = a->image, .format = HILDA_IMAGE_AUTO, .bin_address = a->address, .sel = io->c->sel,
        .wait_ms = a->wait_ms, .app_wait_ms = a->app_wait_ms, .no_verify = a->no_verify,
        .corrupt_object = a->corrupt_object, .stop_after_objects = a->stop_after_objects, .progress = progress_update, .progress_ctx = io->progress,
        .notice = notice_stderr, .enter_bootloader = a->rig ? rig_reset : NULL, .enter_ctx = &rig,
    };
    struct hilda_flash_result r;
    st = hilda_flash(io->c->ctx, &o, &r, e);
    if (io->progress)
        progress_done(io->progress);
    if (st == HILDA_ERR_CHECK)
        io->check_failed = true;
    report(io, a, &r);
    return st;
}

const struct cmd cmd_flash = {
    .name = "flash",
    .summary = "update the dongle's application over Secure DFU (ELF, HEX, .zip, .bin)",
    .args_size = sizeof(struct flash_args),
    .parse_argv = flash_argv,
    .json = (const struct cmd_json[]){ { "flash", flash_json }, { NULL, NULL } },
    .run = flash_run,
    .free_args = flash_free,
};
