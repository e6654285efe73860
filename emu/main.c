/* hilda-emu: runs an unmodified nRF52840 firmware image on the emulated
 * dongle. See docs/emulator.md and `hilda-emu --help`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "control.h"
#include "machine.h"
#include "nrf52840.h"
#include "sanitizer.h"

enum exit_code {
    EXIT_OK = 0,         /* quit on the control channel, time limit reached, or signal */
    EXIT_FAULT = 1,      /* the firmware faulted, or the sanitizer (error mode) reported */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_SETUP = 3,      /* the image could not be loaded, or a socket/pty/testbed could not be made */
    EXIT_NO_DEVICE = 4,  /* serve: the dongle did not enumerate */
    /* run: the command's own status, or one of these (the conventions of env(1) and timeout(1)) */
    EXIT_RUN_FAULT = 124,     /* the firmware faulted (or the sanitizer reported) while the command ran */
    EXIT_RUN_FAILED = 125,    /* hilda-emu could not give the command a dongle */
    EXIT_RUN_NOEXEC = 126,    /* the command could not be executed */
    EXIT_RUN_NOTFOUND = 127,  /* the command was not found */
};

#define DEFAULT_FIRMWARE "hilda-dongle.elf"
#define CLIENT_PRELOAD "libhilda-emu-preload.so"
#define DEFAULT_ATTACH_MS 10000
#define CHILD_GRACE_MS 5000

static const char usage[] =
    "usage: hilda-emu --firmware FILE [options]\n"
    "       hilda-emu run [--firmware FILE] [options] [--] COMMAND [ARGS...]\n"
    "       hilda-emu serve [--firmware FILE] [options] [--env-file FILE]\n"
    "\n"
    "Runs an nRF52840 firmware image (ELF or Intel HEX) on the emulated dongle.\n"
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
    "\n"
    "  --firmware FILE        the image to run (required without run/serve; for them the default\n"
    "                         is " DEFAULT_FIRMWARE " next to the hilda-emu binary or one directory up)\n"
    "  --uart pty|stdio|none  where UARTE0 goes (default pty: its path is printed)\n"
    "  --sanitize off|warn|error\n"
    "                         the DMA sanitizer (default error: the first report ends the run)\n"
    "  --control SOCKET       serve the control channel (JSON lines) on this unix socket\n"
    "                         (run/serve: default $UMOCKDEV_DIR/control)\n"
    "  --trace LIST           comma-separated: irq, mmio (one line per event, virtual time)\n"
    "  --log FILE             diagnostics and trace to FILE instead of stderr\n"
    "  --until MS             stop after MS milliseconds of virtual time (not with run/serve)\n"
    "  --fast                 do not pace virtual time by the wall clock while the CPU sleeps\n"
    "                         (default: paced, so sleeping firmware costs no host CPU and USB\n"
    "                         timeouts mean what they say)\n"
    "  --device-id HEX        FICR DEVICEID as 16 hex digits (default 0x1209CAFE00D0BEEF)\n"
    "  --pcap FILE            run/serve: write every USB transfer to FILE as a Linux usbmon capture\n"
    "                         (pcap link type 220, virtual time stamps; Wireshark and tshark read it)\n"
    "  --attach-timeout MS    run/serve: give up if the dongle is not enumerated after MS\n"
    "                         milliseconds of virtual time (default 10000)\n"
    "  --env-file FILE        serve: also write the export lines to FILE (atomically, once enumerated)\n"
    "  --pin CPU|off          run/serve: keep hilda-emu, and (run) COMMAND, on one CPU. A USB call\n"
    "                         passes between three threads in turn; waking a thread on another CPU\n"
    "                         is the dominant cost on a virtual machine. Default for run: the last\n"
    "                         CPU hilda-emu may use (off if it may use one); for serve: off (clients\n"
    "                         can run under taskset -c $HILDA_EMU_CPU)\n"
    "  --help                 this text\n"
    "\n"
    "Clients also get " CLIENT_PRELOAD " (found next to hilda-emu) preloaded: it makes the\n"
    "usleep(0) that umockdev's preload does after each call a sched_yield().\n"
    "\n"
    "Exit status: 0 done (quit, time limit, signal), 1 firmware fault or sanitizer report,\n"
    "2 usage error, 3 setup error (image, socket, pty, umockdev testbed), 4 (serve) the dongle\n"
    "did not enumerate. run returns COMMAND's status (128+N if a signal N ended it), or 124 if\n"
    "the firmware faulted while COMMAND ran (COMMAND is terminated), 125 if hilda-emu could not\n"
    "give COMMAND a dongle (bad command line, setup, no enumeration), 126 if COMMAND could not\n"
    "be executed, 127 if it was not found.\n";

enum mode { MODE_PLAIN, MODE_RUN, MODE_SERVE };

static struct machine *running;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    if (running)
        machine_request_stop(running);
}

struct options {
    enum mode mode;
    struct machine_options machine;
    enum sanitize_mode sanitize;
    const char *control;
    const char *log;
    uint64_t until_ms;
    uint64_t device_id;
    const char *pcap;
    const char *env_file;
    uint64_t attach_ms;
    int pin_cpu;               /* -1: off; -2: the default of the mode */
    const char *client_preload;  /* NULL if not found */
    char client_preload_path[PATH_MAX];
    char **command;            /* run: argv of the command */
    char default_firmware[PATH_MAX];
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

/* A file the build puts near the binary: in the binary's directory, in
 * `sub` below it, or one directory up (build/hilda-dongle.elf for
 * build/emu/hilda-emu). */
static const char *find_near_binary(const char *name, const char *sub, char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *dir = dirname(exe);
    const char *where[3] = { "", sub, "/.." };
    for (int i = 0; i < 3; i++) {
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

static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_FIRMWARE = 256, OPT_UART, OPT_SANITIZE, OPT_CONTROL, OPT_TRACE, OPT_LOG, OPT_UNTIL,
           OPT_FAST, OPT_DEVICE_ID, OPT_PCAP, OPT_ENV_FILE, OPT_ATTACH_TIMEOUT, OPT_PIN, OPT_HELP };
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
        { "help", no_argument, 0, OPT_HELP },
        { 0, 0, 0, 0 },
    };
    *o = (struct options){
        .machine = { .uart_mode = "pty", .realtime = true },
        .sanitize = SANITIZE_ERROR,
        .device_id = 0x1209CAFE00D0BEEFull,
        .attach_ms = DEFAULT_ATTACH_MS,
        .pin_cpu = -2,
    };
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        o->mode = MODE_RUN;
    else if (argc > 1 && strcmp(argv[1], "serve") == 0)
        o->mode = MODE_SERVE;
    if (o->mode != MODE_PLAIN) {
        argc--;
        argv++;
    }
    opterr = 0;
    int c;
    /* "+": the options end at the command (its own options are its own) */
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
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
            if (parse_u64(optarg, 10, &o->until_ms) || o->until_ms == 0)
                return usage_error("--until takes a positive number of milliseconds, not \"%s\"", optarg);
            break;
        case OPT_FAST: o->machine.realtime = false; break;
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
    } else if (optind < argc) {
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    }
    if (o->mode == MODE_PLAIN) {
        if (o->pcap || o->env_file || o->pin_cpu != -2)
            return usage_error("%s", "--pcap, --env-file and --pin need run or serve");
        if (!o->machine.firmware)
            return usage_error("%s", "--firmware FILE is required");
        return 0;
    }
    if (o->until_ms)
        return usage_error("%s", "--until is not for run or serve");
    if (o->env_file && o->mode != MODE_SERVE)
        return usage_error("%s", "--env-file is for serve");
    if (o->mode == MODE_SERVE && strcmp(o->machine.uart_mode, "stdio") == 0)
        return usage_error("%s", "serve prints the environment on stdout: use --uart pty or none");
    o->client_preload = find_near_binary(CLIENT_PRELOAD, "/bridge", o->client_preload_path,
                                         sizeof o->client_preload_path);
    if (!o->machine.firmware &&
        !(o->machine.firmware = find_near_binary(DEFAULT_FIRMWARE, "", o->default_firmware, sizeof o->default_firmware)))
        return usage_error("%s", "no --firmware given and no " DEFAULT_FIRMWARE " next to the hilda-emu binary");
    if (o->pin_cpu == -2)
        o->pin_cpu = o->mode == MODE_RUN ? default_pin_cpu() : -1;
    return 0;
}

/* ---- the USB session of run and serve ---- */

struct session {
    struct options *o;
    struct machine *m;
    struct bridge *bridge;
    struct control *ctl;
    FILE *log;
    char control_path[PATH_MAX];
    bool waiting, attached, enum_failed;
    pid_t child;
    int child_fd;              /* pidfd */
    int child_status;
    bool child_done;
};

static void on_bridge(void *ctx, enum bridge_event ev, const char *detail)
{
    struct session *s = ctx;
    (void)detail;
    if (ev == BRIDGE_ATTACHED)
        s->attached = true;
    else if (ev == BRIDGE_ENUMERATION_FAILED)
        s->enum_failed = true;
    if (s->waiting && ev != BRIDGE_DETACHED)
        machine_request_stop(s->m);
}

/* Runs the machine until the first enumeration ends. 0, or an exit code
 * (fault: EXIT_FAULT; no device: EXIT_NO_DEVICE; signal: EXIT_OK). */
static int wait_attached(struct session *s)
{
    vtime_t deadline = soc_now(machine_soc(s->m)) + SOC_MS(s->o->attach_ms);
    s->waiting = true;
    while (!s->attached && !s->enum_failed && !stop_signal && !control_quit_requested(s->ctl)) {
        enum run_status st = machine_run(s->m, deadline);
        if (st == RUN_FAULT) {
            fprintf(s->log, "hilda-emu: run ended by a fault before USB enumeration: %s\n",
                    machine_fault_summary(s->m));
            s->waiting = false;
            return EXIT_FAULT;
        }
        if (st == RUN_DEADLINE || st == RUN_IDLE)
            break;
    }
    s->waiting = false;
    if (s->attached)
        return 0;
    if (stop_signal || control_quit_requested(s->ctl))
        return EXIT_OK;
    if (s->enum_failed)
        fprintf(s->log, "hilda-emu: the dongle did not enumerate (see the usb: lines above)\n");
    else
        fprintf(s->log, "hilda-emu: the firmware did not connect to USB within %" PRIu64 " ms of virtual time\n",
                s->o->attach_ms);
    return EXIT_NO_DEVICE;
}

/* Shell-quoted: 'text' with each ' written as '\''. */
static void put_quoted(FILE *f, const char *text)
{
    fputc('\'', f);
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

struct env_var {
    const char *name;
    char value[PATH_MAX];
};

#define SESSION_VARS 6

static void session_vars(struct session *s, struct env_var v[SESSION_VARS])
{
    v[0] = (struct env_var){ "UMOCKDEV_DIR", "" };
    snprintf(v[0].value, sizeof v[0].value, "%s", bridge_umockdev_dir(s->bridge));
    v[1] = (struct env_var){ "LD_PRELOAD", "" };
    snprintf(v[1].value, sizeof v[1].value, "%s", bridge_preload(s->bridge));
    v[2] = (struct env_var){ "HILDA_EMU_UART", "" };
    snprintf(v[2].value, sizeof v[2].value, "%s", nrf52840_uart_path(machine_chip(s->m), 0));
    v[3] = (struct env_var){ "HILDA_EMU_CONTROL", "" };
    snprintf(v[3].value, sizeof v[3].value, "%s", s->control_path);
    v[4] = (struct env_var){ "HILDA_EMU_PID", "" };
    snprintf(v[4].value, sizeof v[4].value, "%ld", (long)getpid());
    v[5] = (struct env_var){ "HILDA_EMU_CPU", "" };
    if (s->o->pin_cpu >= 0)
        snprintf(v[5].value, sizeof v[5].value, "%d", s->o->pin_cpu);
}

static void write_exports(FILE *f, struct session *s)
{
    struct env_var v[SESSION_VARS];
    session_vars(s, v);
    for (int i = 0; i < SESSION_VARS; i++) {
        if (!v[i].value[0])
            continue;
        fprintf(f, "export %s=", v[i].name);
        put_quoted(f, v[i].value);
        fputc('\n', f);
    }
}

static int write_env_file(struct session *s, const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(s->log, "hilda-emu: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    write_exports(f, s);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(s->log, "hilda-emu: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void child_exited(struct soc *soc, void *ctx)
{
    struct session *s = ctx;
    (void)soc;
    int status;
    if (waitpid(s->child, &status, WNOHANG) != s->child)
        return;
    s->child_status = status;
    s->child_done = true;
    soc_unwatch_fd(machine_soc(s->m), s->child_fd);
    machine_request_stop(s->m);
}

/* fork + exec with the session's environment; the child gets a timer slack
 * of 1 ns (the preload's usleep(0) after each ioctl otherwise costs 50 us). */
static int spawn(struct session *s, char **argv)
{
    struct env_var v[SESSION_VARS];
    session_vars(s, v);
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + SESSION_VARS + 1, sizeof *envp);
    if (!envp)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (int j = 0; j < SESSION_VARS; j++) {
            size_t len = strlen(v[j].name);
            replaced |= strncmp(environ[i], v[j].name, len) == 0 && environ[i][len] == '=';
        }
        if (!replaced)
            envp[k++] = environ[i];
    }
    char *owned[SESSION_VARS];
    for (int j = 0; j < SESSION_VARS; j++) {
        size_t len = strlen(v[j].name) + strlen(v[j].value) + 2;
        owned[j] = malloc(len);
        if (owned[j])
            snprintf(owned[j], len, "%s=%s", v[j].name, v[j].value);
        if (owned[j] && v[j].value[0])
            envp[k++] = owned[j];
    }
    envp[k] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
        if (s->o->pin_cpu >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(s->o->pin_cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
        }
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvpe(argv[0], argv, envp);
        int e = errno;
        fprintf(stderr, "hilda-emu: cannot run %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? EXIT_RUN_NOTFOUND : EXIT_RUN_NOEXEC);
    }
    int saved = errno;
    for (int j = 0; j < SESSION_VARS; j++)
        free(owned[j]);
    free(envp);
    if (pid < 0) {
        fprintf(s->log, "hilda-emu: cannot start %s: %s\n", argv[0], strerror(saved));
        return -1;
    }
    s->child = pid;
    s->child_fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (s->child_fd >= 0)
        soc_watch_fd(machine_soc(s->m), s->child_fd, child_exited, s);
    return 0;
}

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The command is told to stop (SIGTERM) while the dongle keeps answering:
 * the preload blocks signals during an ioctl, so a client only dies once
 * its ioctl returns. SIGKILL after the grace time. */
static void stop_child(struct session *s, bool machine_usable)
{
    if (s->child <= 0 || s->child_done)
        return;
    kill(s->child, SIGTERM);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool killed = false;
    while (!s->child_done) {
        int status;
        if (waitpid(s->child, &status, WNOHANG) == s->child) {
            s->child_status = status;
            s->child_done = true;
            break;
        }
        if (!killed && ms_since(&t0) > CHILD_GRACE_MS) {
            kill(s->child, SIGKILL);
            killed = true;
        }
        if (machine_usable) {
            stop_signal = 0;
            if (machine_run(s->m, soc_now(machine_soc(s->m)) + SOC_MS(10)) == RUN_FAULT)
                machine_usable = false;
        } else {
            struct timespec ts = { 0, 10 * 1000000 };
            nanosleep(&ts, NULL);
        }
    }
}

static int run_command(struct session *s)
{
    if (spawn(s, s->o->command))
        return EXIT_RUN_FAILED;
    int rc = -1;
    while (!s->child_done) {
        enum run_status st = machine_run(s->m, UINT64_MAX);
        if (st == RUN_FAULT) {
            fprintf(s->log, "hilda-emu: run ended by a fault: %s; stopping %s\n", machine_fault_summary(s->m),
                    s->o->command[0]);
            stop_child(s, false);
            rc = EXIT_RUN_FAULT;
            break;
        }
        if (stop_signal && !s->child_done) {
            stop_child(s, true);
            break;
        }
        if (st == RUN_IDLE) {
            /* nothing can wake the firmware: wait for the command alone */
            int status;
            if (waitpid(s->child, &status, 0) == s->child) {
                s->child_status = status;
                s->child_done = true;
            }
        }
    }
    if (s->child_fd >= 0) {
        soc_unwatch_fd(machine_soc(s->m), s->child_fd);
        close(s->child_fd);
        s->child_fd = -1;
    }
    if (rc >= 0)
        return rc;
    if (WIFEXITED(s->child_status))
        return WEXITSTATUS(s->child_status);
    if (WIFSIGNALED(s->child_status))
        return 128 + WTERMSIG(s->child_status);
    return EXIT_RUN_FAILED;
}

static int serve(struct session *s)
{
    write_exports(stdout, s);
    fflush(stdout);
    if (s->o->env_file && write_env_file(s, s->o->env_file))
        return EXIT_SETUP;
    for (;;) {
        enum run_status st = machine_run(s->m, UINT64_MAX);
        if (st == RUN_FAULT) {
            fprintf(s->log, "hilda-emu: run ended by a fault: %s\n", machine_fault_summary(s->m));
            return EXIT_FAULT;
        }
        if (st == RUN_STOPPED && (stop_signal || control_quit_requested(s->ctl)))
            return EXIT_OK;
        if (st == RUN_IDLE)
            return EXIT_OK;
    }
}

/* run and serve: the machine with the USB bridge and a control channel. */
static int usb_session(struct options *o, struct machine *m, struct sanitizer *san, FILE *log)
{
    struct session s = { .o = o, .m = m, .log = log, .child_fd = -1 };
    char err[256];
    const struct bridge_options bo = { .pcap = o->pcap, .log = log, .client_preload = o->client_preload };
    s.bridge = bridge_new(m, &bo, err, sizeof err);
    if (!s.bridge) {
        fprintf(log, "hilda-emu: USB bridge: %s\n", err);
        return o->mode == MODE_RUN ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    bridge_set_listener(s.bridge, on_bridge, &s);
    if (o->control)
        snprintf(s.control_path, sizeof s.control_path, "%s", o->control);
    else
        snprintf(s.control_path, sizeof s.control_path, "%s/control", bridge_umockdev_dir(s.bridge));
    const struct control_target target = { m, machine_chip(m), san, o->machine.firmware };
    if (!(s.ctl = control_new(s.control_path, &target))) {
        bridge_free(s.bridge);
        return o->mode == MODE_RUN ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    fprintf(log, "hilda-emu: control channel on %s\n", s.control_path);

    int rc = wait_attached(&s);
    if (rc == 0 && s.attached)
        rc = o->mode == MODE_RUN ? run_command(&s) : serve(&s);
    else if (o->mode == MODE_RUN)
        rc = EXIT_RUN_FAILED;
    control_free(s.ctl);
    bridge_free(s.bridge);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return o.mode == MODE_RUN ? EXIT_RUN_FAILED : rc;

    FILE *log = stderr;
    if (o.log && !(log = fopen(o.log, "we"))) {
        fprintf(stderr, "hilda-emu: cannot write %s: %s\n", o.log, strerror(errno));
        return o.mode == MODE_RUN ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    o.machine.log = log;
    o.machine.device_id = o.device_id;
    if (o.pin_cpu >= 0) {
        /* before any thread exists: they all inherit it */
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(o.pin_cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0)
            fprintf(log, "hilda-emu: cannot keep to CPU %d: %s (going on unpinned)\n", o.pin_cpu, strerror(errno));
    }
    struct machine *m = machine_new(&o.machine);
    if (!m)
        return o.mode == MODE_RUN ? EXIT_RUN_FAILED : EXIT_SETUP;
    struct sanitizer *san = sanitizer_new(m, o.sanitize);

    running = m;
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = EXIT_OK;
    if (o.mode != MODE_PLAIN) {
        exit_code = usb_session(&o, m, san, log);
    } else {
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
        vtime_t until = o.until_ms ? SOC_MS(o.until_ms) : UINT64_MAX;
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
        control_free(ctl);
    }
    running = NULL;

    struct machine_stats st;
    machine_stats(m, &st);
    fprintf(log, "hilda-emu: %" PRIu64 " instructions, %" PRIu64 " interrupts, %" PRIu64
            " DMA transfers, %" PRIu64 " sanitizer reports, %.3f ms virtual, %.3f s executing\n",
            st.instructions, st.interrupts, st.dma_transfers, sanitizer_reports(san),
            (double)soc_now(machine_soc(m)) / (double)SOC_MS(1), (double)st.cpu_ns / 1e9);
    sanitizer_free(san);
    machine_free(m);
    if (log != stderr)
        fclose(log);
    return exit_code;
}
