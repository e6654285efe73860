/* uart: the UART bridge (send, recv, baud, status). */
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
    "or nothing came for --idle ms, or --max-time ms passed. baud: UART_SET_BAUD (one of the\n"
    "firmware's rates, 9600 .. 1000000; another is refused with the list). status: baud, tx_free,\n"
    "rx_available, errorsrc, and the loss counters (FIFO overruns, RX and TX ring overflows,\n"
    "flow-control pauses; GET_COUNTERS).\n\n"
    "  -x, --hex HEX          send: the bytes as hex\n"
    "      --dump             recv: show a hex dump\n"
    "  -n, --count N          recv: stop after N bytes (default: until idle)\n"
    "      --idle MS          recv: stop after MS without a byte (default 300)\n"
    "      --max-time MS      recv: stop after MS in all (default 10000)\n"
    "  -r, --raw              recv: the bytes to stdout as they are\n";

enum uart_action { UART_SEND, UART_RECV, UART_BAUD, UART_STATUS };
static const char *const action_names[] = { "send", "recv", "baud", "status" };

struct uart_args {
    enum uart_action action;
    uint8_t *data;        /* send: the bytes; recv: room for cap bytes */
    size_t len, cap;
    unsigned idle_ms, max_ms;
    bool raw, dump;       /* argv, recv: bytes to stdout as they are; a hex dump */
    uint32_t baud;
};

static int alloc_data(struct cli *c, struct uart_args *a, size_t cap)
{
    a->cap = cap;
    if ((a->data = malloc(cap ? cap : 1)))
        return CMD_GO;
    struct hilda_error e;
    hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
    return cli_fail(c, &e);
}

static int uart_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct uart_args *a = args;
    enum { O_IDLE = 1000, O_MAXT, O_DUMP };
    static const struct option opts[] = { CLI_COMMON_LONG, { "hex", required_argument, NULL, 'x' },
                                          { "dump", no_argument, NULL, O_DUMP },
                                          { "count", required_argument, NULL, 'n' },
                                          { "idle", required_argument, NULL, O_IDLE },
                                          { "max-time", required_argument, NULL, O_MAXT },
                                          { "raw", no_argument, NULL, 'r' }, { 0, 0, 0, 0 } };
    const char *hexdata = NULL;
    unsigned long count = 0, idle = 300, max_time = 10000, v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "x:n:r", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'x': hexdata = optarg; break;
        case O_DUMP: a->dump = true; break;
        case 'r': a->raw = true; break;
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
        default: return cli_unknown_option(c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "uart needs an action: send, recv, baud or status");
    const char *action = argv[optind++];
    a->idle_ms = (unsigned)idle;
    a->max_ms = (unsigned)max_time;
    if (strcmp(action, "send") == 0) {
        a->action = UART_SEND;
        int rc = alloc_data(c, a, 16u << 20);
        if (rc != CMD_GO)
            return rc;
        if (hexdata) {
            if (optind < argc)
                return cli_usage_error(c, "give TEXT or --hex, not both");
            char why[96];
            if (!hilda_hex_parse(hexdata, a->data, a->cap, &a->len, why, sizeof why))
                return cli_usage_error(c, "--hex: %s", why);
        } else if (optind + 1 == argc && strcmp(argv[optind], "-") == 0) {
            size_t n;
            while (a->len < a->cap && (n = fread(a->data + a->len, 1, a->cap - a->len, stdin)) > 0)
                a->len += n;
        } else {
            for (int i = optind; i < argc; i++) {
                size_t n = strlen(argv[i]);
                if (a->len + n + 1 > a->cap)
                    break;
                if (i > optind)
                    a->data[a->len++] = ' ';
                memcpy(a->data + a->len, argv[i], n);
                a->len += n;
            }
        }
        return CMD_GO;
    }
    if (strcmp(action, "recv") == 0) {
        a->action = UART_RECV;
        if (optind < argc)
            return cli_usage_error(c, "recv takes no arguments");
        return alloc_data(c, a, count ? count : 1 << 20);
    }
    if (strcmp(action, "baud") == 0) {
        a->action = UART_BAUD;
        if (optind + 1 != argc || !cli_parse_u32(argv[optind], 0xFFFFFFFFul, &v))
            return cli_usage_error(c, "baud takes one rate, e.g. 115200");
        if (!hilda_uart_baud_supported((uint32_t)v))
            return cli_usage_error(c, "unsupported baud rate %lu; supported: %s", v, hilda_uart_bauds_text());
        a->baud = (uint32_t)v;
        return CMD_GO;
    }
    if (strcmp(action, "status") == 0) {
        a->action = UART_STATUS;
        return CMD_GO;
    }
    return cli_usage_error(c, "unknown uart action \"%s\" (send, recv, baud, status)", action);
}

static bool json_alloc(struct uart_args *a, size_t cap, struct hilda_error *e)
{
    a->cap = cap;
    if ((a->data = malloc(cap ? cap : 1)))
        return true;
    hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    return false;
}

static bool send_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct uart_args *a = args;
    bool has;
    a->action = UART_SEND;
    if (!json_alloc(a, 1 << 20, e) || !hilda_field_hex(req, "data", a->data, a->cap, &a->len, &has, e))
        return false;
    if (!has)
        hilda_fail(e, HILDA_ERR_USAGE, "uart_send needs \"data\" (hex)");
    return has;
}

static bool recv_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct uart_args *a = args;
    unsigned long long count, idle, max;
    a->action = UART_RECV;
    if (!hilda_field_uint(req, "count", 1 << 20, 1 << 20, &count, e) ||
        !hilda_field_uint(req, "idle_ms", 600000, 300, &idle, e) || !hilda_field_uint(req, "max_ms", 3600000, 10000, &max, e))
        return false;
    a->idle_ms = (unsigned)idle;
    a->max_ms = (unsigned)max;
    return json_alloc(a, (size_t)count, e);
}

static bool baud_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct uart_args *a = args;
    unsigned long long baud;
    a->action = UART_BAUD;
    if (!hilda_field_uint(req, "baud", 0xFFFFFFFF, 0, &baud, e))
        return false;
    if (!hilda_uart_baud_supported((uint32_t)baud)) {
        hilda_fail(e, HILDA_ERR_USAGE, "unsupported baud rate %llu; supported: %s", baud, hilda_uart_bauds_text());
        return false;
    }
    a->baud = (uint32_t)baud;
    return true;
}

static bool status_json(const json_t *req, void *args, struct hilda_error *e)
{
    (void)req, (void)e;
    ((struct uart_args *)args)->action = UART_STATUS;
    return true;
}

static void uart_free(void *args)
{
    free(((struct uart_args *)args)->data);
}

/* recv as text: anything that could drive the terminal escaped */
static void print_received(FILE *f, const uint8_t *buf, size_t have)
{
    char *text = malloc(have + 1), *safe = malloc(have * 4 + 1);
    if (text && safe) {
        memcpy(text, buf, have);
        text[have] = '\0';
        for (size_t i = 0; i < have; i++)
            if (!text[i])
                text[i] = '.';
        hilda_escape(text, safe, have * 4 + 1);
        fprintf(f, "%s\n", safe);
    }
    free(text);
    free(safe);
}

static enum hilda_status uart_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    struct uart_args *a = args;
    enum hilda_status st = cmd_open(io, true, e);
    if (st)
        return st;
    if (io->reply)
        hj_set_str(io->reply, "action", action_names[a->action]);
    switch (a->action) {
    case UART_SEND: {
        size_t sent;
        if ((st = hilda_uart_send(io->d, a->data, a->len, io->d->timeout_ms, &sent, e)))
            return st;
        if (io->reply)
            hj_set_uint(io->reply, "sent", sent);
        if (io->text)
            fprintf(io->text, "uart: %zu bytes sent\n", sent);
        return HILDA_OK;
    }
    case UART_RECV: {
        size_t have = 0;
        st = hilda_uart_recv(io->d, a->data, a->cap, a->idle_ms, a->max_ms, &have, e);
        if (a->raw && have)   /* --raw: the bytes as they came, even before an error */
            fwrite(a->data, 1, have, stdout);
        if (st)
            return st;
        if (io->reply) {
            hj_set_uint(io->reply, "length", have);
            hj_set_hex(io->reply, "data", a->data, have);
        }
        if (io->text && a->dump) {
            fprintf(io->text, "uart: %zu bytes received\n", have);
            hilda_hexdump(io->text, a->data, have, "  ");
        } else if (io->text && !a->raw) {
            print_received(io->text, a->data, have);
        }
        return HILDA_OK;
    }
    case UART_BAUD:
        if ((st = hilda_uart_set_baud(io->d, a->baud, e)))
            return st;
        if (io->reply)
            hj_set_uint(io->reply, "baud", a->baud);
        if (io->text)
            fprintf(io->text, "uart: %lu baud\n", (unsigned long)a->baud);
        return HILDA_OK;
    case UART_STATUS: {
        struct hilda_uart_status u;
        struct hilda_counters k;
        if ((st = hilda_uart_status(io->d, &u, e)) || (st = hilda_get_counters(io->d, &k, e)))
            return st;
        if (io->reply) {
            json_t *j = json_uart_status(&u);
            /* where bytes were lost (docs/protocol.md, GET_COUNTERS 1.1) */
            hj_set_uint(j, "rx_fifo_overruns", k.uart_rx_fifo_overruns);
            hj_set_uint(j, "rx_ring_overflows", k.uart_rx_ring_overflows);
            hj_set_uint(j, "tx_ring_overflows", k.uart_tx_ring_overflows);
            hj_set_uint(j, "rx_flow_stops", k.uart_rx_flow_stops);
            hj_set(io->reply, "status", j);
        }
        if (io->text)
            fprintf(io->text, "baud %u, tx_free %u, rx_available %u, errorsrc 0x%x\n"
                    "lost: %u received bytes overran the FIFO, %u overflowed the RX ring (host too slow), "
                    "%u refused by the full TX ring; RX paused %u times for flow control\n",
                    u.baud, u.tx_free, u.rx_available, u.errorsrc, k.uart_rx_fifo_overruns,
                    k.uart_rx_ring_overflows, k.uart_tx_ring_overflows, k.uart_rx_flow_stops);
        return HILDA_OK;
    }
    }
    return HILDA_OK;
}

const struct cmd cmd_uart = {
    .name = "uart",
    .summary = "the UART bridge: send, recv, baud, status",
    .args_size = sizeof(struct uart_args),
    .parse_argv = uart_argv,
    .json = (const struct cmd_json[]){ { "uart_send", send_json }, { "uart_recv", recv_json },
                                       { "uart_baud", baud_json }, { "uart_status", status_json }, { NULL, NULL } },
    .run = uart_run,
    .free_args = uart_free,
    .batch_omits = (const char *const[]){ "action", NULL },
};
