#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "text.h"

static const char usage[] =
    "usage: hilda uart send [TEXT... | --hex HEX | -] [options]\n"
    "       hilda uart recv [--count N] [--idle MS] [--max-time MS] [--raw | --dump] [options]\n"
    "       hilda uart baud RATE [options]\n"
    "       hilda uart status [options]\n\n"
    "The dongle's UART through the vendor bridge. send: UART_WRITE in pieces no larger than tx_free\n"
    "(UART_STATUS), waiting while the TX buffer is full (up to --timeout without progress); TEXT is\n"
    "sent as given (no newline added), - reads the bytes from stdin. recv: UART_READ until N bytes came,\n"
    "or nothing came for --idle ms, or --max-time ms passed. baud: UART_SET_BAUD (9600 .. 1000000, the\n"
    "rates of HILDA_UART_BAUDS). status: baud, tx_free, rx_available, errorsrc.\n\n"
    "  -x, --hex HEX          send: the bytes as hex\n"
    "      --dump             recv: show a hex dump\n"
    "  -n, --count N          recv: stop after N bytes (default: until idle)\n"
    "      --idle MS          recv: stop after MS without a byte (default 300)\n"
    "      --max-time MS      recv: stop after MS in all (default 10000)\n"
    "  -r, --raw              recv: the bytes to stdout as they are\n";

static int send_cmd(struct cli *c, struct hilda_device *d, uint8_t *buf, size_t len)
{
    size_t sent;
    struct hilda_error e;
    if (hilda_uart_send(d, buf, len, c->timeout_ms, &sent, &e))
        return cli_fail(c, &e);
    if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "uart");
        hj_kstr(&j, "action", "send");
        hj_kuint(&j, "sent", sent);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else {
        printf("uart: %zu bytes sent\n", sent);
    }
    return 0;
}

static int recv_cmd(struct cli *c, struct hilda_device *d, unsigned long count, unsigned idle, unsigned max_time,
                    bool raw, bool hex)
{
    size_t cap = count ? count : 1 << 20;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        struct hilda_error e;
        hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
        return cli_fail(c, &e);
    }
    size_t have = 0;
    struct hilda_error e;
    enum hilda_status st = hilda_uart_recv(d, buf, cap, idle, max_time, &have, &e);
    if (raw && have)
        fwrite(buf, 1, have, stdout);
    int rc = 0;
    if (st) {
        rc = cli_fail(c, &e);
    } else if (c->json) {
        struct hj j;
        hj_init(&j);
        cli_json_begin(&j, "uart");
        hj_kstr(&j, "action", "recv");
        hj_kuint(&j, "length", have);
        hj_khex(&j, "data", buf, have);
        hj_obj_end(&j);
        hj_print(&j, stdout);
        hj_free(&j);
    } else if (hex) {
        printf("uart: %zu bytes received\n", have);
        hilda_hexdump(stdout, buf, have, "  ");
    } else if (!raw) {
        /* text, with anything that could drive the terminal escaped */
        char *text = malloc(have + 1), *safe = malloc(have * 4 + 1);
        if (text && safe) {
            memcpy(text, buf, have);
            text[have] = '\0';
            for (size_t i = 0; i < have; i++)
                if (!text[i])
                    text[i] = '.';
            hilda_escape(text, safe, have * 4 + 1);
            printf("%s\n", safe);
        }
        free(text);
        free(safe);
    }
    free(buf);
    return rc;
}

int cmd_uart(struct cli *c, int argc, char **argv)
{
    enum { O_IDLE = 1000, O_MAXT, O_DUMP };
    static const struct option opts[] = { CLI_COMMON_LONG, { "hex", required_argument, NULL, 'x' },
                                          { "dump", no_argument, NULL, O_DUMP },
                                          { "count", required_argument, NULL, 'n' },
                                          { "idle", required_argument, NULL, O_IDLE },
                                          { "max-time", required_argument, NULL, O_MAXT },
                                          { "raw", no_argument, NULL, 'r' }, { 0, 0, 0, 0 } };
    const char *hexdata = NULL;
    bool hex = false, raw = false;
    unsigned long count = 0, idle = 300, max_time = 10000, v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "x:n:r", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'x': hexdata = optarg; break;
        case O_DUMP: hex = true; break;
        case 'r': raw = true; break;
        case 'n':
            if (!cli_parse_u32(optarg, 16u << 20, &v) || !v)
                return cli_usage_error(c, "--count wants 1..16777216");
            count = v;
            break;
        case O_IDLE:
            if (!cli_parse_u32(optarg, 600000, &idle))
                return cli_usage_error(c, "--idle wants milliseconds");
            break;
        case O_MAXT:
            if (!cli_parse_u32(optarg, 3600000, &max_time))
                return cli_usage_error(c, "--max-time wants milliseconds");
            break;
        default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "uart needs an action: send, recv, baud or status");
    const char *action = argv[optind++];
    struct hilda_device *d = NULL;
    struct hilda_error e;
    int rc;
    if (strcmp(action, "send") == 0) {
        size_t cap = 16u << 20, len = 0;
        uint8_t *buf = malloc(cap);
        if (!buf) {
            hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
            return cli_fail(c, &e);
        }
        if (hexdata) {
            if (optind < argc) {
                free(buf);
                return cli_usage_error(c, "give TEXT or --hex, not both");
            }
            if (!hilda_hex_decode(hexdata, buf, cap, &len)) {
                free(buf);
                return cli_usage_error(c, "--hex: not hex bytes");
            }
        } else if (optind + 1 == argc && strcmp(argv[optind], "-") == 0) {
            size_t n;
            while (len < cap && (n = fread(buf + len, 1, cap - len, stdin)) > 0)
                len += n;
        } else {
            for (int i = optind; i < argc; i++) {
                size_t n = strlen(argv[i]);
                if (len + n + 1 > cap)
                    break;
                if (i > optind)
                    buf[len++] = ' ';
                memcpy(buf + len, argv[i], n);
                len += n;
            }
        }
        if (cli_open_vendor(c, &d, &e)) {
            free(buf);
            return cli_fail(c, &e);
        }
        rc = send_cmd(c, d, buf, len);
        free(buf);
    } else if (strcmp(action, "recv") == 0) {
        if (optind < argc)
            return cli_usage_error(c, "recv takes no arguments");
        if (cli_open_vendor(c, &d, &e))
            return cli_fail(c, &e);
        rc = recv_cmd(c, d, count, (unsigned)idle, (unsigned)max_time, raw, hex);
    } else if (strcmp(action, "baud") == 0) {
        if (optind + 1 != argc || !cli_parse_u32(argv[optind], 0xFFFFFFFFul, &v))
            return cli_usage_error(c, "baud takes one rate, e.g. 115200");
        if (!hilda_uart_baud_supported((uint32_t)v))
            return cli_usage_error(c, "%lu baud is not one of the rates the firmware offers "
                                      "(9600 ... 1000000, see HILDA_UART_BAUDS)", v);
        if (cli_open_vendor(c, &d, &e))
            return cli_fail(c, &e);
        if (hilda_uart_set_baud(d, (uint32_t)v, &e))
            rc = cli_fail(c, &e);
        else {
            rc = 0;
            if (c->json) {
                struct hj j;
                hj_init(&j);
                cli_json_begin(&j, "uart");
                hj_kstr(&j, "action", "baud");
                hj_kuint(&j, "baud", v);
                hj_obj_end(&j);
                hj_print(&j, stdout);
                hj_free(&j);
            } else {
                printf("uart: %lu baud\n", v);
            }
        }
    } else if (strcmp(action, "status") == 0) {
        if (cli_open_vendor(c, &d, &e))
            return cli_fail(c, &e);
        struct hilda_uart_status u;
        if (hilda_uart_status(d, &u, &e))
            rc = cli_fail(c, &e);
        else {
            rc = 0;
            if (c->json) {
                struct hj j;
                hj_init(&j);
                cli_json_begin(&j, "uart");
                hj_kstr(&j, "action", "status");
                hj_key(&j, "status");
                json_uart_status(&j, &u);
                hj_obj_end(&j);
                hj_print(&j, stdout);
                hj_free(&j);
            } else {
                printf("baud %u, tx_free %u, rx_available %u, errorsrc 0x%x\n", u.baud, u.tx_free, u.rx_available,
                       u.errorsrc);
            }
        }
    } else {
        return cli_usage_error(c, "unknown uart action \"%s\" (send, recv, baud, status)", action);
    }
    hilda_close(d);
    return rc;
}
