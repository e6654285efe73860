/* desc: every descriptor, parsed, printed and validated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "descprint.h"
#include "validate.h"

static const char usage[] =
    "usage: hilda desc [--hex] [--file FILE] [--strict] [options]\n\n"
    "Reads every descriptor of the device (device, each configuration with its interfaces and\n"
    "endpoints, BOS, string 0 and every string referred to, device qualifier, GET_STATUS), prints them\n"
    "laid out like lsusb -v, then the chapter 9 findings: P-* (malformed: the parser) and C9-* (breaks\n"
    "a rule of chapter 9: the validator), each an error, a warning or a note. Everything the device\n"
    "sends is treated as untrusted.\n"
    "Exit 0 when there are no errors, 1 when there are (with --strict, warnings count too).\n\n"
    "  -x, --hex              also dump each descriptor's bytes\n"
    "  -f, --file FILE        parse a file instead of a device: the device descriptor (18 bytes) then\n"
    "                         the configurations, as /dev/bus/usb/BBB/DDD or sysfs `descriptors` holds;\n"
    "                         a directory, an unreadable file or one shorter than 18 bytes is refused (2)\n"
    "      --strict           warnings fail too\n";

#define BLOB_MAX (1u << 20)

struct desc_args {
    bool hex, strict;
    const char *file;    /* argv: a usbfs-style file instead of the device */
    uint8_t *blob;       /* batch: the same, as hex in the request */
    size_t blob_len;
    bool has_blob;
};

static int desc_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct desc_args *a = args;
    static const struct option opts[] = { CLI_COMMON_LONG, { "hex", no_argument, NULL, 'x' },
                                          { "file", required_argument, NULL, 'f' },
                                          { "strict", no_argument, NULL, 'S' }, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "xf:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'x': a->hex = true; break;
        case 'f': a->file = optarg; break;
        case 'S': a->strict = true; break;
        default: return cli_unknown_option(c, argv);
        }
    }
    return cli_no_arguments(c, argc, argv);
}

static bool desc_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct desc_args *a = args;
    if (!(a->blob = malloc(BLOB_MAX))) {
        hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
        return false;
    }
    return hilda_field_hex(req, "blob", a->blob, BLOB_MAX, &a->blob_len, &a->has_blob, e);
}

static void desc_free(void *args)
{
    free(((struct desc_args *)args)->blob);
}

/* A descriptor blob must hold at least the device descriptor: a shorter
 * one (an empty file, a directory, the wrong file) is refused with what it
 * is, rather than parsed as zeros. */
static enum hilda_status check_blob_size(const char *what, size_t len, struct hilda_error *e)
{
    if (len >= USB_DT_DEVICE_SIZE)
        return HILDA_OK;
    return hilda_fail(e, HILDA_ERR_USAGE,
                      "%s holds %zu byte%s, fewer than the %u of a device descriptor: not a usbfs descriptor file",
                      what, len, len == 1 ? "" : "s", USB_DT_DEVICE_SIZE);
}

static enum hilda_status read_file(struct desc_args *a, struct hilda_error *e)
{
    struct stat sb;
    if (stat(a->file, &sb) != 0)
        return hilda_fail(e, HILDA_ERR_USAGE, "--file %s: %s", a->file, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return hilda_fail(e, HILDA_ERR_USAGE,
                          "--file %s is a directory; give the descriptors file (/dev/bus/usb/BBB/DDD or a sysfs "
                          "device's descriptors)", a->file);
    FILE *in = fopen(a->file, "rb");
    if (!in)
        return hilda_fail(e, HILDA_ERR_USAGE, "--file %s: cannot open it: %s", a->file, strerror(errno));
    a->blob = malloc(BLOB_MAX);
    if (!a->blob) {
        fclose(in);
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    }
    a->blob_len = fread(a->blob, 1, BLOB_MAX, in);
    int read_error = ferror(in) ? errno : 0;
    bool more = a->blob_len == BLOB_MAX && fgetc(in) != EOF;
    fclose(in);
    if (read_error)
        return hilda_fail(e, HILDA_ERR_USAGE, "--file %s: cannot read it: %s", a->file, strerror(read_error));
    if (more)
        return hilda_fail(e, HILDA_ERR_USAGE, "--file %s is larger than %u bytes: not a descriptor file", a->file,
                          BLOB_MAX);
    char what[224];
    snprintf(what, sizeof what, "--file %.200s", a->file);
    enum hilda_status st = check_blob_size(what, a->blob_len, e);
    if (st)
        return st;
    a->has_blob = true;
    return HILDA_OK;
}

static enum hilda_status desc_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    struct desc_args *a = args;
    enum hilda_status st = a->file ? read_file(a, e) : HILDA_OK;
    if (!st && a->has_blob)
        st = check_blob_size("\"blob\"", a->blob_len, e);
    if (st)
        return st;
    struct hilda_desc_set set;
    struct hilda_findings f;
    hilda_desc_set_init(&set);
    hilda_findings_init(&f);
    if (a->has_blob)
        hilda_desc_set_from_blob(&set, a->blob, a->blob_len, &f);
    else if (!(st = cmd_open(io, false, e)))
        st = hilda_fetch_descriptors(io->d, &set, &f, e);
    if (!st) {
        hilda_validate(&set, &f);
        size_t errors = hilda_findings_count(&f, HILDA_SEV_ERROR);
        size_t failing = hilda_findings_count(&f, a->strict ? HILDA_SEV_WARNING : HILDA_SEV_ERROR);
        io->check_failed = failing > 0;
        const struct hilda_devinfo *dev = a->has_blob ? NULL : &io->d->info;
        if (io->reply) {
            if (dev)
                hj_set(io->reply, "device_info", json_devinfo(dev));
            hj_set(io->reply, "descriptors", hilda_json_desc_set(&set));
            hj_set(io->reply, "findings", hilda_json_findings(&f));
            hj_set_uint(io->reply, "errors", errors);
            hj_set_uint(io->reply, "warnings", hilda_findings_count(&f, HILDA_SEV_WARNING) - errors);
        }
        if (io->text) {
            if (dev)
                fprintf(io->text, "Bus %03u Device %03u: ID %04x:%04x, path %s, %s speed\n", dev->bus, dev->address,
                        dev->vid, dev->pid, dev->path, hilda_speed_name(dev->speed));
            hilda_print_desc_set(io->text, &set, a->hex);
            fputc('\n', io->text);
            hilda_print_findings(io->text, &f);
        }
    }
    hilda_findings_free(&f);
    hilda_desc_set_free(&set);
    return st;
}

const struct cmd cmd_desc = {
    .name = "desc",
    .summary = "every descriptor, parsed and printed (like lsusb -v), and what breaks chapter 9",
    .args_size = sizeof(struct desc_args),
    .parse_argv = desc_argv,
    .json = (const struct cmd_json[]){ { "desc", desc_json }, { NULL, NULL } },
    .run = desc_run,
    .free_args = desc_free,
    .batch_omits = (const char *const[]){ "device_info", NULL },
};
