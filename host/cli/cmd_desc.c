#include <stdlib.h>
#include <string.h>

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
    "                         the configurations, as /dev/bus/usb/BBB/DDD or sysfs `descriptors` holds\n"
    "      --strict           warnings fail too\n";

int cmd_desc(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { "hex", no_argument, NULL, 'x' },
                                          { "file", required_argument, NULL, 'f' },
                                          { "strict", no_argument, NULL, 'S' }, { 0, 0, 0, 0 } };
    bool hex = false, strict = false;
    const char *file = NULL;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "xf:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'x': hex = true; break;
        case 'f': file = optarg; break;
        case 'S': strict = true; break;
        default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);

    struct hilda_desc_set set;
    struct hilda_findings f;
    struct hilda_error e;
    hilda_desc_set_init(&set);
    hilda_findings_init(&f);
    struct hilda_device *d = NULL;
    if (file) {
        FILE *in = fopen(file, "rb");
        if (!in) {
            hilda_fail(&e, HILDA_ERR_USAGE, "cannot open %s", file);
            return cli_fail(c, &e);
        }
        uint8_t *buf = malloc(1 << 20);
        size_t n = buf ? fread(buf, 1, 1 << 20, in) : 0;
        fclose(in);
        if (!buf) {
            hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
            return cli_fail(c, &e);
        }
        hilda_desc_set_from_blob(&set, buf, n, &f);
        free(buf);
    } else {
        if (cli_open(c, &d, &e) || hilda_fetch_descriptors(d, &set, &f, &e)) {
            hilda_close(d);
            hilda_findings_free(&f);
            hilda_desc_set_free(&set);
            return cli_fail(c, &e);
        }
    }
    hilda_validate(&set, &f);
    size_t errors = hilda_findings_count(&f, strict ? HILDA_SEV_WARNING : HILDA_SEV_ERROR);
    if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "desc");
        if (d) {
            hj_key(&j, "device_info");
            json_devinfo(&j, &d->info);
        }
        hj_key(&j, "descriptors");
        hilda_json_desc_set(&j, &set);
        hj_key(&j, "findings");
        hilda_json_findings(&j, &f);
        hj_kuint(&j, "errors", hilda_findings_count(&f, HILDA_SEV_ERROR));
        hj_kuint(&j, "warnings", hilda_findings_count(&f, HILDA_SEV_WARNING) - hilda_findings_count(&f, HILDA_SEV_ERROR));
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else {
        if (d)
            printf("Bus %03u Device %03u: ID %04x:%04x, path %s, %s speed\n", d->info.bus, d->info.address, d->info.vid,
                   d->info.pid, d->info.path, hilda_speed_name(d->info.speed));
        hilda_print_desc_set(stdout, &set, hex);
        putchar('\n');
        hilda_print_findings(stdout, &f);
    }
    hilda_findings_free(&f);
    hilda_desc_set_free(&set);
    hilda_close(d);
    return errors ? hilda_status_exit_code(HILDA_ERR_CHECK) : 0;
}
