/* The USB session of `run`, `shell` and `serve` (session.h): the dongle
 * with the USB bridge and a control channel, the wait for the first
 * enumeration, the session's environment (printed, written to --env-file,
 * given to the command), then serving (in the background with --detach,
 * detach.h) or running the command (supervise.h; shell.h: the user's
 * shell). */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bridge.h"
#include "control.h"
#include "detach.h"
#include "nrf52840.h"
#include "shell.h"
#include "supervise.h"

struct session {
    struct options *o;
    struct dongle *board;
    struct machine *m;
    struct bridge *bridge;
    struct bench *bench;
    struct control *ctl;
    FILE *log;
    char control_path[PATH_MAX];
    bool waiting, attached, enum_failed;
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
    while (!s->attached && !s->enum_failed && !hilda_emu_stop_signal && !control_quit_requested(s->ctl)) {
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
    if (hilda_emu_stop_signal || control_quit_requested(s->ctl))
        return EXIT_OK;
    if (s->enum_failed)
        fprintf(s->log, "hilda-emu: the dongle did not enumerate (see the usb: lines above)\n");
    else
        fprintf(s->log, "hilda-emu: the firmware did not connect to USB within %" PRIu64 " ms of virtual time\n",
                s->o->attach_ms);
    return EXIT_NO_DEVICE;
}

static void session_vars(struct session *s, struct env_var v[SESSION_VARS])
{
    v[0] = (struct env_var){ "UMOCKDEV_DIR", "" };
    snprintf(v[0].value, sizeof v[0].value, "%s", bridge_umockdev_dir(s->bridge));
    v[1] = (struct env_var){ "LD_PRELOAD", "" };
    snprintf(v[1].value, sizeof v[1].value, "%s", bridge_preload(s->bridge));
    v[2] = (struct env_var){ "HILDA_EMU_UART", "" };
    snprintf(v[2].value, sizeof v[2].value, "%s", nrf52840_uart_path(dongle_chip(s->board), 0));
    v[3] = (struct env_var){ "HILDA_EMU_CONTROL", "" };
    snprintf(v[3].value, sizeof v[3].value, "%s", s->control_path);
    v[4] = (struct env_var){ "HILDA_EMU_PID", "" };
    snprintf(v[4].value, sizeof v[4].value, "%ld", (long)getpid());
    v[5] = (struct env_var){ "HILDA_EMU_CPU", "" };
    if (s->o->pin_cpu >= 0)
        snprintf(v[5].value, sizeof v[5].value, "%d", s->o->pin_cpu);
    v[6] = (struct env_var){ "HILDA_RIG", "" };
    snprintf(v[6].value, sizeof v[6].value, "%s", bench_rig_path(s->bench));
}

static void write_exports(FILE *f, struct session *s)
{
    struct env_var v[SESSION_VARS];
    session_vars(s, v);
    for (int i = 0; i < SESSION_VARS; i++) {
        if (!v[i].value[0])
            continue;
        fprintf(f, "export %s=", v[i].name);
        shell_put_quoted(f, v[i].value);
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

/* run -- COMMAND, and shell: COMMAND or the user's shell with HILDA_EMU=1
 * and the prompt marked. An interactive shell's Ctrl-C belongs to the
 * shell: hilda-emu ignores SIGINT and SIGQUIT from here on (SIGTERM and
 * SIGHUP still end the session; the user's shell then gets SIGHUP). */
static int run_command(struct session *s)
{
    struct env_var v[SESSION_VARS + SHELL_VARS];
    session_vars(s, v);
    unsigned n = SESSION_VARS;
    char **argv = s->o->command;
    struct shell_command sh;
    if (s->o->mode == MODE_SHELL) {
        if (shell_prepare(&sh, s->o->command, v + n, s->log))
            return EXIT_RUN_FAILED;
        n += SHELL_VARS;
        argv = sh.command;
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        if (!s->o->command)
            fprintf(stderr, "hilda-emu: the emulated dongle is attached; this shell has its environment "
                    "(HILDA_EMU=1, UMOCKDEV_DIR, LD_PRELOAD, ...): exit the shell to stop the dongle\n");
    }
    const struct supervise_params p = {
        .m = s->m, .argv = argv, .env = v, .n_env = n, .pin_cpu = s->o->pin_cpu, .log = s->log,
        .stop_signal = s->o->mode == MODE_SHELL && !s->o->command ? SIGHUP : 0,
    };
    int rc = supervise_run(&p);
    if (s->o->mode == MODE_SHELL)
        shell_cleanup(&sh);
    return rc;
}

static int serve(struct session *s)
{
    write_exports(stdout, s);
    fflush(stdout);
    if (s->o->env_file && write_env_file(s, s->o->env_file))
        return EXIT_SETUP;
    if (s->o->detach) {
        struct env_var v[SESSION_VARS];
        session_vars(s, v);
        detach_ready(v, SESSION_VARS, s->log == stderr);
    }
    for (;;) {
        enum run_status st = machine_run(s->m, UINT64_MAX);
        if (st == RUN_FAULT) {
            fprintf(s->log, "hilda-emu: run ended by a fault: %s\n", machine_fault_summary(s->m));
            return EXIT_FAULT;
        }
        if (st == RUN_STOPPED && (hilda_emu_stop_signal || control_quit_requested(s->ctl)))
            return EXIT_OK;
        if (st == RUN_IDLE)
            return EXIT_OK;
    }
}

/* run, shell and serve: the machine with the USB bridge and a control channel. */
int session_usb(struct options *o, struct dongle *board, struct sanitizer *san, FILE *log)
{
    struct session s = { .o = o, .board = board, .m = dongle_machine(board), .log = log };
    char err[256];
    const struct bridge_options bo = { .pcap = o->pcap, .log = log, .client_preload = o->client_preload };
    s.bridge = bridge_new(dongle_soc(board), nrf52840_usbd(dongle_chip(board)), &bo, err, sizeof err);
    const bool runs_command = o->mode == MODE_RUN || o->mode == MODE_SHELL;
    if (!s.bridge) {
        fprintf(log, "hilda-emu: USB bridge: %s\n", err);
        return runs_command ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    bridge_set_listener(s.bridge, on_bridge, &s);
    s.bench = bench_new(board, s.bridge, bridge_umockdev_dir(s.bridge), nrf52840_uart_path(dongle_chip(board), 0),
                        err, sizeof err);
    if (!s.bench) {
        fprintf(log, "hilda-emu: the virtual bench: %s\n", err);
        bridge_free(s.bridge);
        return runs_command ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    if (o->control)
        snprintf(s.control_path, sizeof s.control_path, "%s", o->control);
    else
        snprintf(s.control_path, sizeof s.control_path, "%s/control", bridge_umockdev_dir(s.bridge));
    const struct control_target target = { board, san, o->board.firmware };
    if (!(s.ctl = control_new(s.control_path, &target))) {
        bridge_free(s.bridge);
        bench_free(s.bench);
        return runs_command ? EXIT_RUN_FAILED : EXIT_SETUP;
    }
    fprintf(log, "hilda-emu: control channel on %s\n", s.control_path);

    int rc = wait_attached(&s);
    if (rc == 0 && s.attached)
        rc = runs_command ? run_command(&s) : serve(&s);
    else if (runs_command)
        rc = EXIT_RUN_FAILED;
    control_free(s.ctl);
    bridge_free(s.bridge);
    bench_free(s.bench);          /* after the bridge, which calls its model */
    return rc;
}

