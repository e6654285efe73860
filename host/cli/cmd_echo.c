#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "text.h"

static const char usage[] =
    "usage: hilda echo [TEXT...] [--hex HEX] [--length N] [--read-length N] [options]\n\n"
    "Writes bytes to the device's echo buffer (ECHO_WRITE), reads them back (ECHO_READ) and compares.\n"
    "The bytes: TEXT (the arguments joined by spaces), or --hex, or --length N bytes of a counting\n"
    "pattern; nothing at all empties the buffer. Exit 0 when the bytes came back, 1 when not.\n\n"
    "  -x, --hex HEX          the bytes as hex\n"
    "  -l, --length N         N bytes (0..4096) of the pattern 0, 1, 2, ... 255, 0, ...\n"
    "      --read-length N    wLength of the read (default: what was written); the device returns\n"
    "                         min(N, stored) bytes\n";

int cmd_echo(struct cli *c, int argc, char **argv)
{
    enum { O_READLEN = 1000 };
    static const struct option opts[] = { CLI_COMMON_LONG, { "hex", required_argument, NULL, 'x' },
                                          { "length", required_argument, NULL, 'l' },
                                          { "read-length", required_argument, NULL, O_READLEN }, { 0, 0, 0, 0 } };
    uint8_t out[HILDA_EP0_MAX_DATA], in[HILDA_EP0_MAX_DATA];
    size_t len = 0;
    bool have = false;
    long read_len = -1;
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "x:l:", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'x':
            if (!hilda_hex_decode(optarg, out, sizeof out, &len))
                return cli_usage_error(c, "--hex wants at most 4096 bytes of hex");
            have = true;
            break;
        case 'l':
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--length wants 0..4096");
            len = v;
            for (size_t i = 0; i < len; i++)
                out[i] = (uint8_t)i;
            have = true;
            break;
        case O_READLEN:
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--read-length wants 0..4096");
            read_len = (long)v;
            break;
        default:
            return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        if (have)
            return cli_usage_error(c, "give TEXT or --hex or --length, not two of them");
        for (int i = optind; i < argc; i++) {
            size_t n = strlen(argv[i]) + (i > optind);
            if (len + n > sizeof out)
                return cli_usage_error(c, "the text is longer than 4096 bytes");
            if (i > optind)
                out[len++] = ' ';
            memcpy(out + len, argv[i], strlen(argv[i]));
            len += strlen(argv[i]);
        }
    }
    uint16_t rlen = (uint16_t)(read_len >= 0 ? (size_t)read_len : len);
    struct hilda_device *d;
    struct hilda_error e;
    if (cli_open_vendor(c, &d, &e))
        return cli_fail(c, &e);
    size_t got = 0;
    enum hilda_status st = hilda_echo_write(d, out, (uint16_t)len, &e);
    if (!st)
        st = hilda_echo_read(d, in, rlen, &got, &e);
    int rc = 0;
    if (st) {
        rc = cli_fail(c, &e);
    } else {
        size_t want = rlen < len ? rlen : len;
        bool match = got == want && memcmp(in, out, got) == 0;
        if (!match)
            rc = hilda_status_exit_code(HILDA_ERR_CHECK);
        if (c->json) {
            struct hj j;
            hj_init(&j);
            cli_json_begin(&j, "echo");
            hj_kuint(&j, "written", len);
            hj_kuint(&j, "read_length", rlen);
            hj_kuint(&j, "read", got);
            hj_khex(&j, "data", in, got);
            hj_kbool(&j, "match", match);
            hj_obj_end(&j);
            hj_print(&j, stdout);
            hj_free(&j);
        } else {
            printf("echo: %zu bytes written, %zu read back (wLength %u): %s\n", len, got, rlen,
                   match ? "the same bytes" : "DIFFERENT");
            hilda_hexdump(stdout, in, got, "  ");
        }
    }
    hilda_close(d);
    return rc;
}
