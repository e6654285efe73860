/* hilda-emu: runs an unmodified nRF52840 firmware image on the emulated
 * dongle. See docs/emulator.md and `hilda-emu --help`. This file is the
 * command line (argument parsing) and the plain run; `run`, `shell` and
 * `serve` are the USB session (session.c), `run -- CMD` supervises CMD
 * (supervise.c), `shell` starts the user's shell (shell.c), `serve
 * --detach` and `stop` are detach.c. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "detach.h"
#include "dongle.h"
#include "machine.h"
#include "options.h"
#include "sanitizer.h"
#include "session.h"
#include "shell.h"

#define DEFAULT_FIRMWARE "hilda-dongle.elf"
#define CLIENT_PRELOAD "libhilda-emu-preload.so"
#define DEFAULT_ATTACH_MS 10000
#define DEFAULT_WALL_LIMIT_S 600
#define STR(x) #x
#define XSTR(x) STR(x)

static const char usage[] =
    "usage: hilda-emu --firmware FILE [--firmware FILE...] [options]\n"
    "       hilda-emu run [--firmware FILE...] [options] [--] COMMAND [ARGS...]\n"
    "       hilda-emu shell [FIRMWARE] [options] [-- COMMAND [ARGS...]]\n"
    "       hilda-emu serve [FIRMWARE] [options] [--env-file FILE] [--detach [--state-dir DIR]]\n"
    "       hilda-emu stop [--state-dir DIR]\n"
    "\n"
    "Runs nRF52840 firmware images (ELF or Intel HEX) on the emulated dongle.\n"
    "\n"
    "run    attaches the emulated dongle as a USB device (through umockdev), waits until it is\n"
    "       enumerated, runs COMMAND with it and returns COMMAND's exit status. COMMAND sees the\n"
    "       dongle through libusb like a real one: hilda-emu run -- lsusb -v -d 1209:0001\n"
    "serve  attaches the dongle and keeps it attached for any number of client processes. Once\n"
    "       it is enumerated, prints what clients need as shell lines on stdout:\n"
    "         export UMOCKDEV_DIR=...  export LD_PRELOAD=...  (run clients with these)\n"
    "         export HILDA_EMU_UART=...  (UARTE0 pty)  export HILDA_EMU_CONTROL=...  (socket)\n"
    "         export HILDA_EMU_PID=...  export HILDA_EMU_CPU=...  (with --pin)\n"
    "       and runs until SIGTERM, SIGINT or {\"cmd\": \"quit\"} on the control channel.\n"
    "       run gives COMMAND the same variables.\n"
    "shell  run for people: without COMMAND it runs your $SHELL (/bin/sh without one) with the same\n"
    "       variables, HILDA_EMU=1 and the prompt starting with \"" SHELL_PROMPT_MARK "\"; leaving it\n"
    "       (exit, Ctrl-D) stops the dongle and removes its files; Ctrl-C belongs to the shell.\n"
    "       Returns the shell's (COMMAND's) exit status, as run does. The one line for scripts:\n"
    "         hilda-emu shell -- lsusb -d 1209:\n"
    "serve --detach\n"
    "       returns once the dongle is enumerated, its export lines on stdout, and serves in the\n"
    "       background (diagnostics in the state directory's serve.log without --log):\n"
    "         eval \"$(hilda-emu serve --detach)\"\n"
    "stop   ends the detached serve and prints the lines that give the shell back the environment\n"
    "       it had before serve --detach (unset or export):  eval \"$(hilda-emu stop)\"\n"
    "\n"
    "FIRMWARE: shell and serve take the image as an argument too (the same as --firmware FIRMWARE).\n"
    "\n"
    "  --firmware FILE        the image to run (required without run/serve; for them the default\n"
    "                         is " DEFAULT_FIRMWARE " next to the hilda-emu binary or one directory up).\n"
    "                         Give it again for more images (a boot loader, or an MBR + boot loader\n"
    "                         HEX, and an application): they are flashed together, UICR records\n"
    "                         included, and may not overlap. One image starts from its own vector\n"
    "                         table (its lowest flash address); several start as the chip does,\n"
    "                         from the vector table at 0x0\n"
    "  --uart pty|stdio|none  where UARTE0 goes (default pty: its path is printed)\n"
    "  --sanitize off|warn|error\n"
    "                         the DMA sanitizer (default error: the first report ends the run)\n"
    "  --control SOCKET       serve the control channel (JSON lines) on this unix socket\n"
    "                         (run/serve: default $UMOCKDEV_DIR/control)\n"
    "  --trace LIST           comma-separated: irq, mmio (one line per event, virtual time)\n"
    "  --log FILE             diagnostics and trace to FILE instead of stderr\n"
    "  --until MS             stop after MS milliseconds of virtual time (not with run/serve)\n"
    "  --wall-limit SECONDS   stop after SECONDS of wall-clock time with a report of where the\n"
    "                         firmware is (exit status 5), so that a firmware spinning with\n"
    "                         interrupts off cannot hang the run (not with run/serve: they end with\n"
    "                         COMMAND or on quit). Default " XSTR(DEFAULT_WALL_LIMIT_S) "; 0: no limit\n"
    "  --ep0-status inferred|warn|strict\n"
    "                         how the USBD answers the status stage of a control read: inferred\n"
    "                         (default) from a zero-length packet the firmware loaded into EPIN0\n"
    "                         or after EP0STATUS, as firmware that runs on silicon relies on (an\n"
    "                         inference, docs/emulator.md); warn: the same, logged once when a\n"
    "                         firmware relies on the EPIN0 packet; strict: only after EP0STATUS\n"
    "  --fast                 do not pace virtual time by the wall clock while the CPU sleeps\n"
    "                         (default: paced, so sleeping firmware costs no host CPU and USB\n"
    "                         timeouts mean what they say)\n"
    "  --device-id HEX        FICR DEVICEID as 16 hex digits (default 0x1209CAFE00D0BEEF)\n"
    "  --pcap FILE            run/serve: write every USB transfer to FILE as a Linux usbmon capture\n"
    "                         (pcap link type 220, virtual time stamps; Wireshark and tshark read it)\n"
    "  --attach-timeout MS    run/serve: give up if the dongle is not enumerated after MS\n"
    "                         milliseconds of virtual time (default 10000)\n"
    "  --env-file FILE        serve: also write the export lines to FILE (atomically, once enumerated)\n"
    "  --detach               serve: return once the dongle is enumerated, serve in the background\n"
    "  --state-dir DIR        serve --detach, stop: where the detached serve keeps its lock, pid, log and\n"
    "                         restore lines; one detached serve per directory (default\n"
    "                         $XDG_RUNTIME_DIR/hilda-emu, or /tmp/hilda-emu-UID without XDG_RUNTIME_DIR)\n"
    "  --pin CPU|off          run/shell/serve: keep hilda-emu, and COMMAND, on one CPU. A USB call\n"
    "                         passes between three threads in turn; waking a thread on another CPU\n"
    "                         is the dominant cost on a virtual machine. Default for run: the last\n"
    "                         CPU hilda-emu may use (off if it may use one), the same for shell with\n"
    "                         COMMAND; for serve and an interactive shell: off (serve's clients can\n"
    "                         run under taskset -c $HILDA_EMU_CPU)\n"
    "  --help                 this text\n"
    "\n"
    "Clients also get " CLIENT_PRELOAD " (found next to hilda-emu) preloaded: it makes the\n"
    "usleep(0) that umockdev's preload does after each call a sched_yield().\n"
    "\n"
    "Exit status: 0 done (quit, time limit, signal), 1 firmware fault or sanitizer report,\n"
    "2 usage error, 3 setup error (image, socket, pty, umockdev testbed), 4 (serve) the dongle\n"
    "did not enumerate, 5 the wall-clock limit (--wall-limit) ended the run, 6 (stop) no detached\n"
    "serve was running, 7 (serve --detach) one is running already with that state directory.\n"
    "run and shell return COMMAND's status (128+N if a signal N ended it), or 124 if\n"
    "the firmware faulted while COMMAND ran (COMMAND is terminated), 125 if hilda-emu could not\n"
    "give COMMAND a dongle (bad command line, setup, no enumeration), 126 if COMMAND could not\n"
    "be executed, 127 if it was not found.\n";

static struct machine *running;
volatile sig_atomic_t hilda_emu_stop_signal;
static volatile sig_atomic_t wall_limit_reached;

/* SIGINT, SIGTERM, SIGHUP (the terminal went away) */
static void on_signal(int sig)
{
    hilda_emu_stop_signal = sig;
    if (running)
        machine_request_stop(running);
}

/* SIGALRM from the wall-clock timer: the run loop stops at its next slice
 * (at most 1 ms of virtual time), whatever the firmware does. */
static void on_wall_limit(int sig)
{
    (void)sig;
    wall_limit_reached = 1;
    if (running)
        machine_request_stop(running);
}

/* A one-shot CLOCK_MONOTONIC timer that raises SIGALRM after `seconds`
 * (0: none). Returns -1 with errno if it cannot be made. */
static int start_wall_limit(double seconds, timer_t *timer, bool *started)
{
    *started = false;
    if (seconds <= 0)
        return 0;
    struct sigaction sa = { .sa_handler = on_wall_limit };
    sigaction(SIGALRM, &sa, NULL);
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
    if (timer_create(CLOCK_MONOTONIC, &sev, timer) != 0)
        return -1;
    *started = true;
    struct itimerspec its = { 0 };
    its.it_value.tv_sec = (time_t)seconds;
    its.it_value.tv_nsec = (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    return timer_settime(*timer, 0, &its, NULL);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "hilda-emu: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry hilda-emu --help.\n");
    return EXIT_USAGE;
}

static int parse_trace(const char *list, struct dongle_options *mo)
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

/* A file the build puts near the binary: in the binary's directory, in
 * `sub` below it, or one directory up (build/hilda-dongle.elf for
 * build/emu/hilda-emu); else, for an installed hilda-emu, in ../lib/hilda. */
static const char *find_near_binary(const char *name, const char *sub, char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *dir = dirname(exe);
    /* the last: installed, <prefix>/bin/hilda-emu and <prefix>/lib/hilda/ (emu/meson.build) */
    const char *where[4] = { "", sub, "/..", "/../lib/hilda" };
    for (int i = 0; i < 4; i++) {
        snprintf(out, cap, "%s%s/%s", dir, where[i], name);
        if (access(out, R_OK) == 0)
            return out;
    }
    return NULL;
}

/* run's default CPU: the last one this process may use, if it may use two
 * or more (one CPU leaves nothing to choose). */
static int default_pin_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2)
        return -1;
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--) {
        if (CPU_ISSET(cpu, &set))
            return cpu;
    }
    return -1;
}

static int parse_u64(const char *text, int base, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoull(text, &end, base);
    return errno || *end || end == text || text[0] == '-' ? -1 : 0;
}

/* Non-negative seconds, fractions allowed, at most a year. */
static int parse_seconds(const char *text, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    return errno || *end || end == text || !(*v >= 0 && *v <= 366.0 * 86400) ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_FIRMWARE = 256, OPT_UART, OPT_SANITIZE, OPT_CONTROL, OPT_TRACE, OPT_LOG, OPT_UNTIL,
           OPT_FAST, OPT_DEVICE_ID, OPT_PCAP, OPT_ENV_FILE, OPT_ATTACH_TIMEOUT, OPT_PIN, OPT_WALL_LIMIT,
           OPT_EP0_STATUS, OPT_DETACH, OPT_STATE_DIR, OPT_HELP };
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
        { "pcap", required_argument, 0, OPT_PCAP },
        { "env-file", required_argument, 0, OPT_ENV_FILE },
        { "attach-timeout", required_argument, 0, OPT_ATTACH_TIMEOUT },
        { "pin", required_argument, 0, OPT_PIN },
        { "wall-limit", required_argument, 0, OPT_WALL_LIMIT },
        { "ep0-status", required_argument, 0, OPT_EP0_STATUS },
        { "detach", no_argument, 0, OPT_DETACH },
        { "state-dir", required_argument, 0, OPT_STATE_DIR },
        { "help", no_argument, 0, OPT_HELP },
        { 0, 0, 0, 0 },
    };
    *o = (struct options){
        .board = { .uart_mode = "pty", .realtime = true },
        .sanitize = SANITIZE_ERROR,
        .device_id = 0x1209CAFE00D0BEEFull,
        .attach_ms = DEFAULT_ATTACH_MS,
        .pin_cpu = -2,
        .wall_limit_s = -1,
    };
    static const struct { const char *name; enum mode mode; } commands[] = {
        { "run", MODE_RUN }, { "serve", MODE_SERVE }, { "shell", MODE_SHELL }, { "stop", MODE_STOP },
    };
    for (size_t i = 0; argc > 1 && i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            o->mode = commands[i].mode;
    }
    if (o->mode != MODE_PLAIN) {
        argc--;
        argv++;
    }
    opterr = 0;
    int c;
    bool positional_firmware = false;
    /* "+": the options end at the command (its own options are its own);
     * shell and serve take one FIRMWARE among their options */
    for (;;) {
        c = getopt_long(argc, argv, "+", longopts, NULL);
        if (c == -1) {
            const bool after_dashes = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
            if ((o->mode == MODE_SHELL || o->mode == MODE_SERVE) && optind < argc && !after_dashes &&
                !positional_firmware) {
                if (o->n_firmware == DONGLE_MAX_IMAGES)
                    return usage_error("%s", "--firmware may be given at most 8 times");
                o->board.firmware[o->n_firmware++] = argv[optind++];
                positional_firmware = true;
                continue;
            }
            break;
        }
        if (o->mode == MODE_STOP && c != OPT_STATE_DIR && c != OPT_HELP)
            return usage_error("%s", "stop takes only --state-dir DIR");
        switch (c) {
        case OPT_FIRMWARE:
            if (o->n_firmware == DONGLE_MAX_IMAGES)
                return usage_error("%s", "--firmware may be given at most 8 times");
            o->board.firmware[o->n_firmware++] = optarg;
            break;
        case OPT_UART:
            if (strcmp(optarg, "pty") && strcmp(optarg, "stdio") && strcmp(optarg, "none"))
                return usage_error("--uart takes pty, stdio or none, not \"%s\"", optarg);
            o->board.uart_mode = optarg;
            break;
        case OPT_SANITIZE:
            if (sanitize_mode_parse(optarg, &o->sanitize))
                return usage_error("--sanitize takes off, warn or error, not \"%s\"", optarg);
            break;
        case OPT_CONTROL: o->control = optarg; break;
        case OPT_TRACE:
            if (parse_trace(optarg, &o->board))
                return EXIT_USAGE;
            break;
        case OPT_LOG: o->log = optarg; break;
        case OPT_UNTIL:
            if (parse_u64(optarg, 10, &o->until_ms) || o->until_ms == 0)
                return usage_error("--until takes a positive number of milliseconds, not \"%s\"", optarg);
            break;
        case OPT_FAST: o->board.realtime = false; break;
        case OPT_EP0_STATUS:
            if (strcmp(optarg, "inferred") == 0)
                o->board.ep0_status = USBD_EP0_STATUS_INFERRED;
            else if (strcmp(optarg, "warn") == 0)
                o->board.ep0_status = USBD_EP0_STATUS_WARN;
            else if (strcmp(optarg, "strict") == 0)
                o->board.ep0_status = USBD_EP0_STATUS_EP0STATUS_ONLY;
            else
                return usage_error("--ep0-status takes inferred, warn or strict, not \"%s\"", optarg);
            break;
        case OPT_DEVICE_ID:
            if (parse_u64(optarg, 16, &o->device_id))
                return usage_error("--device-id takes up to 16 hex digits, not \"%s\"", optarg);
            break;
        case OPT_PCAP: o->pcap = optarg; break;
        case OPT_ENV_FILE: o->env_file = optarg; break;
        case OPT_ATTACH_TIMEOUT:
            if (parse_u64(optarg, 10, &o->attach_ms) || o->attach_ms == 0)
                return usage_error("--attach-timeout takes a positive number of milliseconds, not \"%s\"", optarg);
            break;
        case OPT_PIN: {
            uint64_t cpu;
            if (strcmp(optarg, "off") == 0)
                o->pin_cpu = -1;
            else if (parse_u64(optarg, 10, &cpu) == 0 && cpu < CPU_SETSIZE)
                o->pin_cpu = (int)cpu;
            else
                return usage_error("--pin takes a CPU number or off, not \"%s\"", optarg);
            break;
        }
        case OPT_WALL_LIMIT:
            if (parse_seconds(optarg, &o->wall_limit_s))
                return usage_error("--wall-limit takes a number of seconds (0: no limit), not \"%s\"", optarg);
            break;
        case OPT_DETACH: o->detach = true; break;
        case OPT_STATE_DIR: o->state_dir = optarg; break;
        case OPT_HELP:
            fputs(usage, stdout);
            exit(EXIT_OK);
        default:
            return usage_error("unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (o->mode == MODE_RUN) {
        if (optind >= argc)
            return usage_error("%s", "run needs a COMMAND (hilda-emu run [options] -- COMMAND [ARGS...])");
        o->command = argv + optind;
    } else if (o->mode == MODE_SHELL && optind < argc) {
        o->command = argv + optind;
    } else if (optind < argc) {
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    }
    if (o->mode == MODE_STOP)
        return 0;             /* it is about the state directory alone */
    if (o->detach && o->mode != MODE_SERVE)
        return usage_error("%s", "--detach is for serve");
    if (o->state_dir && !o->detach)
        return usage_error("%s", "--state-dir is for serve --detach and stop");
    if (o->mode == MODE_PLAIN) {
        if (o->pcap || o->env_file || o->pin_cpu != -2)
            return usage_error("%s", "--pcap, --env-file and --pin need run or serve");
        if (!o->board.firmware[0])
            return usage_error("%s", "--firmware FILE is required");
        if (o->wall_limit_s < 0)
            o->wall_limit_s = DEFAULT_WALL_LIMIT_S;
        return 0;
    }
    if (o->until_ms)
        return usage_error("%s", "--until is not for run or serve");
    if (o->wall_limit_s >= 0)
        return usage_error("%s", "--wall-limit is not for run or serve (they end with COMMAND or on quit)");
    if (o->env_file && o->mode != MODE_SERVE)
        return usage_error("%s", "--env-file is for serve");
    if (o->mode == MODE_SERVE && strcmp(o->board.uart_mode, "stdio") == 0)
        return usage_error("%s", "serve prints the environment on stdout: use --uart pty or none");
    o->client_preload = find_near_binary(CLIENT_PRELOAD, "/bridge", o->client_preload_path,
                                         sizeof o->client_preload_path);
    if (!o->board.firmware[0] &&
        !(o->board.firmware[0] = find_near_binary(DEFAULT_FIRMWARE, "", o->default_firmware, sizeof o->default_firmware)))
        return usage_error("%s", "no --firmware given and no " DEFAULT_FIRMWARE " next to the hilda-emu binary");
    if (o->pin_cpu == -2)
        o->pin_cpu = o->mode == MODE_RUN || (o->mode == MODE_SHELL && o->command) ? default_pin_cpu() : -1;
    return 0;
}

/* run and shell end with EXIT_RUN_FAILED where the others have their own code */
static bool runs_command(const struct options *o)
{
    return o->mode == MODE_RUN || o->mode == MODE_SHELL;
}

/* Everything but stop and the foreground half of serve --detach. */
static int emulate(struct options *o)
{
    FILE *log = stderr;
    if (o->log && !(log = fopen(o->log, "we"))) {
        fprintf(stderr, "hilda-emu: cannot write %s: %s\n", o->log, strerror(errno));
        return runs_command(o) ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    o->board.log = log;
    o->board.device_id = o->device_id;
    if (o->pin_cpu >= 0) {
        /* before any thread exists: they all inherit it */
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(o->pin_cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0)
            fprintf(log, "hilda-emu: cannot keep to CPU %d: %s (going on unpinned)\n", o->pin_cpu, strerror(errno));
    }
    struct dongle *board = dongle_new(&o->board);
    if (!board)
        return runs_command(o) ? EXIT_RUN_FAILED : EXIT_SETUP;
    struct machine *m = dongle_machine(board);
    struct sanitizer *san = sanitizer_new(m, o->sanitize);

    running = m;
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);   /* the terminal went away: clean up as for SIGTERM */
    signal(SIGPIPE, SIG_IGN);

    int exit_code = EXIT_OK;
    if (o->mode != MODE_PLAIN) {
        exit_code = session_usb(o, board, san, log);
    } else {
        struct control *ctl = NULL;
        if (o->control) {
            const struct control_target target = { board, san, o->board.firmware };
            if (!(ctl = control_new(o->control, &target))) {
                sanitizer_free(san);
                dongle_free(board);
                return EXIT_SETUP;
            }
            fprintf(log, "hilda-emu: control channel on %s\n", o->control);
        }
        vtime_t until = o->until_ms ? SOC_MS(o->until_ms) : UINT64_MAX;
        timer_t wall_timer;
        bool wall_timer_on;
        if (start_wall_limit(o->wall_limit_s, &wall_timer, &wall_timer_on) != 0)
            fprintf(log, "hilda-emu: cannot start the wall-clock limit: %s (going on without it)\n", strerror(errno));
        for (;;) {
            enum run_status st = machine_run(m, until);
            if (st == RUN_STOPPED && wall_limit_reached) {
                /* where it was: a firmware spinning with interrupts off stays put */
                uint32_t pc = machine_pc(m);
                fprintf(log, "hilda-emu: wall-clock limit of %g s reached (--wall-limit): the firmware is at "
                        "PC 0x%08" PRIx32 " in %s after %.3f ms of virtual time\n", o->wall_limit_s, pc,
                        machine_function_at(m, pc), (double)soc_now(machine_soc(m)) / (double)SOC_MS(1));
                exit_code = EXIT_WALL_LIMIT;
                break;
            }
            if (st == RUN_FAULT) {
                fprintf(log, "hilda-emu: run ended by a fault: %s\n", machine_fault_summary(m));
                exit_code = EXIT_FAULT;
                break;
            }
            if (st == RUN_DEADLINE) {
                fprintf(log, "hilda-emu: time limit of %" PRIu64 " ms reached\n", o->until_ms);
                break;
            }
            if (st == RUN_IDLE) {
                fprintf(log, "hilda-emu: the firmware sleeps with nothing scheduled and no input to wake it\n");
                break;
            }
            /* RUN_STOPPED: a signal or a quit request */
            break;
        }
        if (wall_timer_on)
            timer_delete(wall_timer);
        control_free(ctl);
    }
    running = NULL;

    struct machine_stats st;
    machine_stats(m, &st);
    fprintf(log, "hilda-emu: %" PRIu64 " instructions, %" PRIu64 " interrupts, %" PRIu64
            " DMA transfers, %" PRIu64 " sanitizer reports, %.3f ms virtual, %.4f s executing\n",
            st.instructions, st.interrupts, st.dma_transfers, sanitizer_reports(san),
            (double)soc_now(machine_soc(m)) / (double)SOC_MS(1), (double)st.cpu_ns / 1e9);
    sanitizer_free(san);
    dongle_free(board);
    if (log != stderr)
        fclose(log);
    return exit_code;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return runs_command(&o) ? EXIT_RUN_FAILED : rc;
    if (o.mode == MODE_STOP)
        return detach_stop(o.state_dir);
    if (o.detach && (rc = detach_start(&o)) >= 0)
        return rc;            /* the foreground process: the background one serves */
    rc = emulate(&o);
    detach_finish();
    return rc;
}
