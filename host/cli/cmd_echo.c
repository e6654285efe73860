/* echo: ECHO_WRITE, ECHO_READ, compare. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "text.h"

static const char usage[] =
    "usage: hilda echo [TEXT...] [--hex HEX] [--length N] [--read-length N] [--verbose] [options]\n\n"
    "Writes bytes to the device's echo buffer (ECHO_WRITE), reads them back (ECHO_READ) and compares.\n"
    "The bytes: TEXT (the arguments joined by spaces), or --hex, or --length N bytes of a counting\n"
    "pattern; nothing at all empties the buffer. One line when the bytes came back (exit 0); when not,\n"
    "where they differ, with the bytes sent and read around it (exit 1).\n\n"
    "  -x, --hex HEX          the bytes as hex\n"
    "  -l, --length N         N bytes (0..4096) of the pattern 0, 1, 2, ... 255, 0, ...\n"
    "      --read-length N    wLength of the read (default: what was written); the device returns\n"
    "                         min(N, stored) bytes\n"
    "  -v, --verbose          also dump the bytes read back when they matched\n";

struct echo_args {
    uint8_t out[HILDA_EP0_MAX_DATA];
    size_t len;
    uint16_t read_length;   /* wLength of ECHO_READ */
    bool verbose;           /* the hex dump even when everything matched */
};

static void pattern(struct echo_args *a, size_t len)
{
    a->len = len;
    for (size_t i = 0; i < len; i++)
        a->out[i] = (uint8_t)i;
}

static int echo_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct echo_args *a = args;
    enum { O_READLEN = 1000 };
    static const struct option opts[] = { CLI_COMMON_LONG, { "hex", required_argument, NULL, 'x' },
                                          { "length", required_argument, NULL, 'l' },
                                          { "read-length", required_argument, NULL, O_READLEN },
                                          { "verbose", no_argument, NULL, 'v' }, { 0, 0, 0, 0 } };
    bool have = false;
    long read_len = -1;
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "x:l:v", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'x': {
            char why[96];
            if (!hilda_hex_parse(optarg, a->out, sizeof a->out, &a->len, why, sizeof why))
                return cli_usage_error(c, "--hex: %s", why);
            have = true;
            break;
        }
        case 'l':
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--length wants 0..4096");
            pattern(a, v);
            have = true;
            break;
        case 'v':
            a->verbose = true;
            break;
        case O_READLEN:
            if (!cli_parse_u32(optarg, HILDA_EP0_MAX_DATA, &v))
                return cli_usage_error(c, "--read-length wants 0..4096");
            read_len = (long)v;
            break;
        default:
            return cli_unknown_option(c, argv);
        }
    }
    if (optind < argc) {
        if (have)
            return cli_usage_error(c, "give TEXT or --hex or --length, not two of them");
        for (int i = optind; i < argc; i++) {
            size_t n = strlen(argv[i]) + (i > optind);
            if (a->len + n > sizeof a->out)
                return cli_usage_error(c, "the text is longer than 4096 bytes");
            if (i > optind)
                a->out[a->len++] = ' ';
            memcpy(a->out + a->len, argv[i], strlen(argv[i]));
            a->len += strlen(argv[i]);
        }
    }
    a->read_length = (uint16_t)(read_len >= 0 ? (size_t)read_len : a->len);
    return CMD_GO;
}

static bool echo_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct echo_args *a = args;
    bool has;
    unsigned long long len, rlen;
    if (!hilda_field_hex(req, "data", a->out, sizeof a->out, &a->len, &has, e) ||
        !hilda_field_uint(req, "length", HILDA_EP0_MAX_DATA, 0, &len, e))
        return false;
    if (!has)
        pattern(a, (size_t)len);
    if (!hilda_field_uint(req, "read_length", HILDA_EP0_MAX_DATA, a->len, &rlen, e))
        return false;
    a->read_length = (uint16_t)rlen;
    return true;
}

static enum hilda_status echo_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct echo_args *a = args;
    uint8_t in[HILDA_EP0_MAX_DATA];
    size_t got = 0;
    enum hilda_status st = cmd_open(io, true, e);
    if (st || (st = hilda_echo_write(io->d, a->out, (uint16_t)a->len, e)) ||
        (st = hilda_echo_read(io->d, in, a->read_length, &got, e)))
        return st;
    size_t want = a->read_length < a->len ? a->read_length : a->len;
    bool match = got == want && memcmp(in, a->out, got) == 0;
    io->check_failed = !match;
    if (io->reply) {
        hj_set_uint(io->reply, "written", a->len);
        hj_set_uint(io->reply, "read_length", a->read_length);
        hj_set_uint(io->reply, "read", got);
        hj_set_hex(io->reply, "data", in, got);
        hj_set_bool(io->reply, "match", match);
    }
    if (io->text) {
        fprintf(io->text, "echo: %zu bytes written, %zu read back (wLength %u): %s\n", a->len, got, a->read_length,
                match ? "the same bytes" : "DIFFERENT");
        if (!match)
            hilda_hexdiff(io->text, a->out, want, in, got, "  ");
        else if (a->verbose)
            hilda_hexdump(io->text, in, got, "  ");
    }
    return HILDA_OK;
}

const struct cmd cmd_echo = {
    .name = "echo",
    .summary = "write bytes to the echo buffer, read them back, compare",
    .args_size = sizeof(struct echo_args),
    .parse_argv = echo_argv,
    .json = (const struct cmd_json[]){ { "echo", echo_json }, { NULL, NULL } },
    .run = echo_run,
    .batch_omits = (const char *const[]){ "read_length", NULL },
};
