/* hilda-emu: runs an unmodified nRF52840 firmware image on the emulated
 * dongle. See docs/emulator.md and `hilda-emu --help`. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "machine.h"
#include "nrf52840.h"
#include "sanitizer.h"

enum exit_code {
    EXIT_OK = 0,         /* quit on the control channel, time limit reached, or signal */
    EXIT_FAULT = 1,      /* the firmware faulted, or the sanitizer (error mode) reported */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_SETUP = 3,      /* the image could not be loaded, or a socket/pty could not be made */
};

static const char usage[] =
    "usage: hilda-emu --firmware FILE [options]\n"
    "\n"
    "Runs an nRF52840 firmware image (ELF or Intel HEX) on the emulated dongle.\n"
    "\n"
    "  --firmware FILE        the image to run (required)\n"
    "  --uart pty|stdio|none  where UARTE0 goes (default pty: its path is printed)\n"
    "  --sanitize off|warn|error\n"
    "                         the DMA sanitizer (default error: the first report ends the run)\n"
    "  --control SOCKET       serve the control channel (JSON lines) on this unix socket\n"
    "  --trace LIST           comma-separated: irq, mmio (one line per event, virtual time)\n"
    "  --log FILE             diagnostics and trace to FILE instead of stderr\n"
    "  --until MS             stop after MS milliseconds of virtual time\n"
    "  --fast                 do not pace virtual time by the wall clock while the CPU sleeps\n"
    "                         (default: paced, so sleeping firmware costs no host CPU)\n"
    "  --device-id HEX        FICR DEVICEID as 16 hex digits (default 0x1209CAFE00D0BEEF)\n"
    "  --help                 this text\n"
    "\n"
    "Exit status: 0 done (quit, time limit, signal), 1 firmware fault or sanitizer report,\n"
    "2 usage error, 3 setup error (image, socket, pty).\n";

static struct machine *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        machine_request_stop(running);
}

struct options {
    struct machine_options machine;
    enum sanitize_mode sanitize;
    const char *control;
    const char *log;
    uint64_t until_ms;
    uint64_t device_id;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "hilda-emu: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry hilda-emu --help.\n");
    return EXIT_USAGE;
}

static int parse_trace(const char *list, struct machine_options *mo)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "irq") == 0)
            mo->trace_irq = true;
        else if (strcmp(tok, "mmio") == 0)
            mo->trace_mmio = true;
        else
            return usage_error("unknown trace kind \"%s\" (irq, mmio)", tok);
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_FIRMWARE = 256, OPT_UART, OPT_SANITIZE, OPT_CONTROL, OPT_TRACE, OPT_LOG, OPT_UNTIL,
           OPT_FAST, OPT_DEVICE_ID, OPT_HELP };
    static const struct option longopts[] = {
        { "firmware", required_argument, 0, OPT_FIRMWARE },
        { "uart", required_argument, 0, OPT_UART },
        { "sanitize", required_argument, 0, OPT_SANITIZE },
        { "control", required_argument, 0, OPT_CONTROL },
        { "trace", required_argument, 0, OPT_TRACE },
        { "log", required_argument, 0, OPT_LOG },
        { "until", required_argument, 0, OPT_UNTIL },
        { "fast", no_argument, 0, OPT_FAST },
        { "device-id", required_argument, 0, OPT_DEVICE_ID },
        { "help", no_argument, 0, OPT_HELP },
        { 0, 0, 0, 0 },
    };
    *o = (struct options){
        .machine = { .uart_mode = "pty", .realtime = true },
        .sanitize = SANITIZE_ERROR,
        .device_id = 0x1209CAFE00D0BEEFull,
    };
    opterr = 0;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FIRMWARE: o->machine.firmware = optarg; break;
        case OPT_UART:
            if (strcmp(optarg, "pty") && strcmp(optarg, "stdio") && strcmp(optarg, "none"))
                return usage_error("--uart takes pty, stdio or none, not \"%s\"", optarg);
            o->machine.uart_mode = optarg;
            break;
        case OPT_SANITIZE:
            if (sanitize_mode_parse(optarg, &o->sanitize))
                return usage_error("--sanitize takes off, warn or error, not \"%s\"", optarg);
            break;
        case OPT_CONTROL: o->control = optarg; break;
        case OPT_TRACE:
            if (parse_trace(optarg, &o->machine))
                return EXIT_USAGE;
            break;
        case OPT_LOG: o->log = optarg; break;
        case OPT_UNTIL:
            errno = 0;
            o->until_ms = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || o->until_ms == 0)
                return usage_error("--until takes a positive number of milliseconds, not \"%s\"", optarg);
            break;
        case OPT_FAST: o->machine.realtime = false; break;
        case OPT_DEVICE_ID:
            errno = 0;
            o->device_id = strtoull(optarg, &end, 16);
            if (errno || *end || end == optarg)
                return usage_error("--device-id takes up to 16 hex digits, not \"%s\"", optarg);
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            exit(EXIT_OK);
        default:
            return usage_error("unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if (!o->machine.firmware)
        return usage_error("%s", "--firmware FILE is required");
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;

    FILE *log = stderr;
    if (o.log && !(log = fopen(o.log, "w"))) {
        fprintf(stderr, "hilda-emu: cannot write %s: %s\n", o.log, strerror(errno));
        return EXIT_SETUP;
    }
    o.machine.log = log;
    o.machine.device_id = o.device_id;
    struct machine *m = machine_new(&o.machine);
    if (!m)
        return EXIT_SETUP;
    struct sanitizer *san = sanitizer_new(m, o.sanitize);
    struct control *ctl = NULL;
    if (o.control) {
        const struct control_target target = { m, machine_chip(m), san, o.machine.firmware };
        if (!(ctl = control_new(o.control, &target))) {
            sanitizer_free(san);
            machine_free(m);
            return EXIT_SETUP;
        }
        fprintf(log, "hilda-emu: control channel on %s\n", o.control);
    }

    running = m;
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    vtime_t until = o.until_ms ? SOC_MS(o.until_ms) : UINT64_MAX;
    int exit_code = EXIT_OK;
    for (;;) {
        enum run_status st = machine_run(m, until);
        if (st == RUN_FAULT) {
            fprintf(log, "hilda-emu: run ended by a fault: %s\n", machine_fault_summary(m));
            exit_code = EXIT_FAULT;
            break;
        }
        if (st == RUN_DEADLINE) {
            fprintf(log, "hilda-emu: time limit of %" PRIu64 " ms reached\n", o.until_ms);
            break;
        }
        if (st == RUN_IDLE) {
            fprintf(log, "hilda-emu: the firmware sleeps with nothing scheduled and no input to wake it\n");
            break;
        }
        /* RUN_STOPPED: a signal or a quit request */
        break;
    }
    running = NULL;

    struct machine_stats st;
    machine_stats(m, &st);
    fprintf(log, "hilda-emu: %" PRIu64 " instructions, %" PRIu64 " interrupts, %" PRIu64
            " DMA transfers, %" PRIu64 " sanitizer reports, %.3f ms virtual\n",
            st.instructions, st.interrupts, st.dma_transfers, sanitizer_reports(san),
            (double)soc_now(machine_soc(m)) / (double)SOC_MS(1));
    control_free(ctl);
    sanitizer_free(san);
    machine_free(m);
    if (log != stderr)
        fclose(log);
    return exit_code;
}
