/* ctrl: one raw control request. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "requests.h"
#include "text.h"
#include "xfer.h"

#define DATA_MAX 0xFFFFu   /* wLength's range; the host refuses more than 4096 (xfer.c says so) */

/* The usage text, with the request names generated from the X-macro lists
 * (requests.h), wrapped to the width of the rest. */
static const char *usage(void)
{
    static char text[4096];
    if (text[0])
        return text;
    size_t n = (size_t)snprintf(text, sizeof text, "%s",
        "usage: hilda ctrl [options] DIRECTION TYPE RECIPIENT REQUEST VALUE INDEX (LENGTH | HEXDATA)\n"
        "       hilda ctrl [options] BMREQUESTTYPE REQUEST VALUE INDEX (LENGTH | HEXDATA)\n\n"
        "Sends one control request on endpoint 0 and shows the answer. A STALL is reported as such\n"
        "(exit 8), a timeout as a timeout (exit 7).\n\n"
        "  DIRECTION      in | out\n"
        "  TYPE           standard | class | vendor | reserved  (or s, c, v, r)\n"
        "  RECIPIENT      device | interface | endpoint | other  (or d, i, e, o)\n"
        "  BMREQUESTTYPE  the whole byte instead of the three words, e.g. 0xc0\n"
        "  REQUEST        0..255 or a name (chapter 9's, then hilda's vendor requests):\n");
    const char *names = hilda_request_names();
    const char indent[] = "                 ";
    size_t col = 0;
    while (*names && n < sizeof text - 64) {
        size_t w = strcspn(names, " ");
        if (col == 0 || col + 1 + w > 100) {
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", col ? "\n" : "", indent);
            col = sizeof indent - 1;
        } else {
            text[n++] = ' ';
            col++;
        }
        n += (size_t)snprintf(text + n, sizeof text - n, "%.*s", (int)w, names);
        col += w;
        names += w;
        names += strspn(names, " ");
    }
    snprintf(text + n, sizeof text - n, "%s",
        "\n"
        "  VALUE, INDEX   wValue and wIndex, 0..65535 (decimal or 0x...)\n"
        "  LENGTH         IN: wLength, 0..65535\n"
        "  HEXDATA        OUT: the data stage as hex (\"de ad be ef\", \"deadbeef\"); \"\" or - for none\n\n"
        "  -r, --raw              IN: write the data bytes to stdout as they are (no hex dump)\n"
        "  -t, --timeout MS       this request's timeout (default 1000)\n\n"
        "Examples: hilda ctrl in vendor device get_version 0 0 8\n"
        "          hilda ctrl 0x80 get_descriptor 0x0100 0 18\n"
        "          hilda ctrl out vendor device echo_write 0 0 \"01 02 03\"\n");
    return text;
}

struct ctrl_args {
    struct usb_setup s;
    uint8_t *data;         /* DATA_MAX bytes: OUT data, IN answer */
    bool raw;              /* argv: IN bytes to stdout as they are */
    unsigned timeout_ms;   /* 0: the device's */
};

static bool word(const char *s, const char *const *names, const uint8_t *values, uint8_t *v)
{
    for (unsigned i = 0; names[i]; i++) {
        if (strcasecmp(s, names[i]) == 0 || (s[0] && !s[1] && (s[0] | 0x20) == names[i][0])) {
            *v = values[i];
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

static bool alloc_data(struct ctrl_args *a)
{
    return (a->data = calloc(1, DATA_MAX + 1)) != NULL;
}

static int ctrl_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct ctrl_args *a = args;
    static const struct option opts[] = { CLI_COMMON_LONG, { "raw", no_argument, NULL, 'r' }, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "r", opts, usage(), &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        if (o != 'r')
            return cli_unknown_option(c, argv);
        a->raw = true;
    }
    char **w = argv + optind;
    int n = argc - optind;
    struct usb_setup *s = &a->s;
    unsigned long v;
    int at;
    if (n == 5 && hilda_parse_uint(w[0], 255, &v)) {
        s->bmRequestType = (uint8_t)v;
        at = 1;
    } else if (n == 7) {
        static const char *const dirs[] = { "out", "in", NULL };
        static const uint8_t dir_bits[] = { USB_DIR_OUT, USB_DIR_IN };
        static const char *const types[] = { "standard", "class", "vendor", "reserved", NULL };
        static const uint8_t type_bits[] = { USB_TYPE_STANDARD, USB_TYPE_CLASS, USB_TYPE_VENDOR, USB_TYPE_RESERVED };
        static const char *const recips[] = { "device", "interface", "endpoint", "other", NULL };
        static const uint8_t recip_bits[] = { USB_RECIP_DEVICE, USB_RECIP_INTERFACE, USB_RECIP_ENDPOINT,
                                              USB_RECIP_OTHER };
        uint8_t dir, type, recip;
        if (!word(w[0], dirs, dir_bits, &dir))
            return cli_usage_error(c, "DIRECTION is in or out, not \"%s\"", w[0]);
        if (!word(w[1], types, type_bits, &type))
            return cli_usage_error(c, "TYPE is standard, class, vendor or reserved, not \"%s\"", w[1]);
        if (!word(w[2], recips, recip_bits, &recip)) {
            if (!hilda_parse_uint(w[2], USB_RECIP_MASK, &v))
                return cli_usage_error(c, "RECIPIENT is device, interface, endpoint, other or 0..31, not \"%s\"", w[2]);
            recip = (uint8_t)v;
        }
        s->bmRequestType = (uint8_t)(dir | type | recip);
        at = 3;
    } else {
        return cli_usage_error(c, "ctrl takes 7 arguments (or 5 with a numeric bmRequestType), not %d", n);
    }
    if (!parse_request(w[at], &s->bRequest))
        return cli_usage_error(c, "REQUEST \"%s\" is neither 0..255 nor a request name", w[at]);
    if (!hilda_parse_uint(w[at + 1], 0xFFFF, &v))
        return cli_usage_error(c, "VALUE \"%s\" is not 0..65535", w[at + 1]);
    s->wValue = (uint16_t)v;
    if (!hilda_parse_uint(w[at + 2], 0xFFFF, &v))
        return cli_usage_error(c, "INDEX \"%s\" is not 0..65535", w[at + 2]);
    s->wIndex = (uint16_t)v;
    if (!alloc_data(a)) {
        struct hilda_error e;
        hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
        return cli_fail(c, &e);
    }
    const char *last = w[at + 3];
    if (usb_setup_is_in(s)) {
        if (!hilda_parse_uint(last, 0xFFFF, &v))
            return cli_usage_error(c, "LENGTH \"%s\" is not 0..65535", last);
        s->wLength = (uint16_t)v;
    } else {
        size_t len = 0;
        char why[96];
        if (strcmp(last, "-") != 0 && !hilda_hex_parse(last, a->data, DATA_MAX, &len, why, sizeof why))
            return cli_usage_error(c, "HEXDATA: %s", why);
        s->wLength = (uint16_t)len;
    }
    a->timeout_ms = c->timeout_ms;
    return CMD_GO;
}

static bool ctrl_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct ctrl_args *a = args;
    unsigned long long rt, r, v, i, len, timeout;
    if (!hilda_field_uint(req, "bmRequestType", 255, 0x100, &rt, e) ||
        !hilda_field_uint(req, "bRequest", 255, 0x100, &r, e) || !hilda_field_uint(req, "wValue", 0xFFFF, 0, &v, e) ||
        !hilda_field_uint(req, "wIndex", 0xFFFF, 0, &i, e) || !hilda_field_uint(req, "wLength", 0xFFFF, 0, &len, e) ||
        !hilda_field_uint(req, "timeout_ms", 600000, 0, &timeout, e))
        return false;
    if (rt > 255 || r > 255) {
        hilda_fail(e, HILDA_ERR_USAGE, "ctrl needs \"bmRequestType\" and \"bRequest\"");
        return false;
    }
    if (!alloc_data(a)) {
        hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
        return false;
    }
    size_t n = 0;
    bool has_data;
    if (!hilda_field_hex(req, "data", a->data, DATA_MAX, &n, &has_data, e))
        return false;
    a->s = (struct usb_setup){ (uint8_t)rt, (uint8_t)r, (uint16_t)v, (uint16_t)i, (uint16_t)len };
    bool in = usb_setup_is_in(&a->s);
    if (in && has_data) {
        hilda_fail(e, HILDA_ERR_USAGE, "an IN request takes \"wLength\", not \"data\"");
        return false;
    }
    if (!in && has_data)
        a->s.wLength = (uint16_t)n;
    a->timeout_ms = (unsigned)timeout;
    return true;
}

static void ctrl_free(void *args)
{
    free(((struct ctrl_args *)args)->data);
}

static enum hilda_status ctrl_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    struct ctrl_args *a = args;
    const struct usb_setup *s = &a->s;
    enum hilda_status st = cmd_open(io, false, e);
    size_t got;
    if (st || (st = hilda_ctrl(io->d, s, a->data, a->timeout_ms, &got, e)))
        return st;
    bool in = usb_setup_is_in(s);
    if (io->reply) {
        hj_set_uint(io->reply, "bmRequestType", s->bmRequestType);
        hj_set_uint(io->reply, "bRequest", s->bRequest);
        hj_set_uint(io->reply, "wValue", s->wValue);
        hj_set_uint(io->reply, "wIndex", s->wIndex);
        hj_set_uint(io->reply, "wLength", s->wLength);
        hj_set_uint(io->reply, "length", got);
        if (in)
            hj_set_hex(io->reply, "data", a->data, got);
    }
    if (io->text) {
        char what[128];
        hilda_describe_request(s, what, sizeof what);
        if (in && a->raw) {
            fwrite(a->data, 1, got, io->text);
        } else if (in) {
            fprintf(io->text, "%s: %zu byte%s\n", what, got, got == 1 ? "" : "s");
            hilda_hexdump(io->text, a->data, got, "  ");
        } else {
            fprintf(io->text, "%s: accepted, %zu byte%s sent\n", what, got, got == 1 ? "" : "s");
        }
    }
    return HILDA_OK;
}

const struct cmd cmd_ctrl = {
    .name = "ctrl",
    .summary = "one raw control request",
    .args_size = sizeof(struct ctrl_args),
    .parse_argv = ctrl_argv,
    .json = (const struct cmd_json[]){ { "ctrl", ctrl_json }, { NULL, NULL } },
    .run = ctrl_run,
    .free_args = ctrl_free,
    .batch_omits = (const char *const[]){ "bmRequestType", "bRequest", "wValue", "wIndex", "wLength", NULL },
};
