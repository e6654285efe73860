#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "text.h"
#include "requests.h"
#include "xfer.h"

static const char usage[] =
    "usage: hilda ctrl [options] DIRECTION TYPE RECIPIENT REQUEST VALUE INDEX (LENGTH | HEXDATA)\n"
    "       hilda ctrl [options] BMREQUESTTYPE REQUEST VALUE INDEX (LENGTH | HEXDATA)\n\n"
    "Sends one control request on endpoint 0 and shows the answer. A STALL is reported as such\n"
    "(exit 8), a timeout as a timeout (exit 7).\n\n"
    "  DIRECTION      in | out\n"
    "  TYPE           standard | class | vendor | reserved  (or s, c, v, r)\n"
    "  RECIPIENT      device | interface | endpoint | other  (or d, i, e, o)\n"
    "  BMREQUESTTYPE  the whole byte instead of the three words, e.g. 0xc0\n"
    "  REQUEST        0..255 or a name: get_status clear_feature set_feature set_address get_descriptor\n"
    "                 set_descriptor get_configuration set_configuration get_interface set_interface\n"
    "                 synch_frame, or a hilda vendor request: get_version echo_write echo_read\n"
    "                 uart_write uart_read uart_set_baud uart_status get_counters reset_counters\n"
    "                 fault_delay fault_stall get_variant reboot reboot_bootloader\n"
    "  VALUE, INDEX   wValue and wIndex, 0..65535 (decimal or 0x...)\n"
    "  LENGTH         IN: wLength, 0..65535\n"
    "  HEXDATA        OUT: the data stage as hex (\"de ad be ef\", \"deadbeef\"); \"\" or - for none\n\n"
    "  -r, --raw              IN: write the data bytes to stdout as they are (no hex dump)\n"
    "  -t, --timeout MS       this request's timeout (default 1000)\n\n"
    "Examples: hilda ctrl in vendor device get_version 0 0 8\n"
    "          hilda ctrl 0x80 get_descriptor 0x0100 0 18\n"
    "          hilda ctrl out vendor device echo_write 0 0 \"01 02 03\"\n";

static bool word(const char *s, const char *const *names, unsigned *v)
{
    for (unsigned i = 0; names[i]; i++) {
        if (strcasecmp(s, names[i]) == 0 || (s[0] && !s[1] && (s[0] | 0x20) == names[i][0])) {
            *v = i;
            return true;
        }
    }
    return false;
}

static bool parse_request(const char *s, uint8_t *code)
{
    unsigned long v;
    if (hilda_parse_uint(s, 255, &v)) {
        *code = (uint8_t)v;
        return true;
    }
    bool vendor;
    return hilda_request_by_name(s, code, &vendor);
}

int cmd_ctrl(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { "raw", no_argument, NULL, 'r' }, { 0, 0, 0, 0 } };
    bool raw = false;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "r", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        if (o == 'r')
            raw = true;
        else
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
    }
    char **a = argv + optind;
    int n = argc - optind;
    struct usb_setup s = { 0 };
    unsigned long v;
    int at;
    if (n == 5 && hilda_parse_uint(a[0], 255, &v)) {
        s.bmRequestType = (uint8_t)v;
        at = 1;
    } else if (n == 7) {
        static const char *const dirs[] = { "out", "in", NULL };
        static const char *const types[] = { "standard", "class", "vendor", "reserved", NULL };
        static const char *const recips[] = { "device", "interface", "endpoint", "other", NULL };
        unsigned dir, type, recip;
        if (!word(a[0], dirs, &dir))
            return cli_usage_error(c, "DIRECTION is in or out, not \"%s\"", a[0]);
        if (!word(a[1], types, &type))
            return cli_usage_error(c, "TYPE is standard, class, vendor or reserved, not \"%s\"", a[1]);
        if (!word(a[2], recips, &recip)) {
            if (!hilda_parse_uint(a[2], 31, &v))
                return cli_usage_error(c, "RECIPIENT is device, interface, endpoint, other or 0..31, not \"%s\"", a[2]);
            recip = (unsigned)v;
        }
        s.bmRequestType = (uint8_t)(dir << 7 | type << 5 | recip);
        at = 3;
    } else {
        return cli_usage_error(c, "ctrl takes 7 arguments (or 5 with a numeric bmRequestType), not %d", n);
    }
    if (!parse_request(a[at], &s.bRequest))
        return cli_usage_error(c, "REQUEST \"%s\" is neither 0..255 nor a request name", a[at]);
    if (!hilda_parse_uint(a[at + 1], 0xFFFF, &v))
        return cli_usage_error(c, "VALUE \"%s\" is not 0..65535", a[at + 1]);
    s.wValue = (uint16_t)v;
    if (!hilda_parse_uint(a[at + 2], 0xFFFF, &v))
        return cli_usage_error(c, "INDEX \"%s\" is not 0..65535", a[at + 2]);
    s.wIndex = (uint16_t)v;
    bool in = s.bmRequestType & 0x80;
    uint8_t *buf = malloc(65536);
    if (!buf) {
        struct hilda_error e;
        hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
        return cli_fail(c, &e);
    }
    const char *last = a[at + 3];
    if (in) {
        if (!hilda_parse_uint(last, 0xFFFF, &v)) {
            free(buf);
            return cli_usage_error(c, "LENGTH \"%s\" is not 0..65535", last);
        }
        s.wLength = (uint16_t)v;
    } else {
        size_t len = 0;
        if (strcmp(last, "-") != 0 && !hilda_hex_decode(last, buf, 65535, &len)) {
            free(buf);
            return cli_usage_error(c, "HEXDATA is not hex bytes (at most 65535): \"%s\"", last);
        }
        s.wLength = (uint16_t)len;
    }

    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open(c, &d, &e)) {
        free(buf);
        return cli_fail(c, &e);
    }
    size_t got;
    enum hilda_status st = hilda_ctrl(d, &s, buf, c->timeout_ms, &got, &e);
    char what[128];
    hilda_describe_request(&s, what, sizeof what);
    int rc = 0;
    if (st) {
        rc = cli_fail(c, &e);
    } else if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "ctrl");
        hj_kuint(&j, "bmRequestType", s.bmRequestType);
        hj_kuint(&j, "bRequest", s.bRequest);
        hj_kuint(&j, "wValue", s.wValue);
        hj_kuint(&j, "wIndex", s.wIndex);
        hj_kuint(&j, "wLength", s.wLength);
        hj_kuint(&j, "length", got);
        if (in)
            hj_khex(&j, "data", buf, got);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else if (in && raw) {
        fwrite(buf, 1, got, stdout);
    } else if (in) {
        printf("%s: %zu byte%s\n", what, got, got == 1 ? "" : "s");
        hilda_hexdump(stdout, buf, got, "  ");
    } else {
        printf("%s: accepted, %zu byte%s sent\n", what, got, got == 1 ? "" : "s");
    }
    free(buf);
    hilda_close(d);
    return rc;
}
