/* What the CLI (cli.c) hands to the session (session.c) and the child
 * supervision (supervise.c): the parsed options and the exit codes of
 * hilda-emu (docs/emulator.md documents them). */
#ifndef EMU_TOOLS_OPTIONS_H
#define EMU_TOOLS_OPTIONS_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "dongle.h"
#include "machine.h"

enum exit_code {
    EXIT_OK = 0,         /* quit on the control channel, time limit reached, or signal */
    EXIT_FAULT = 1,      /* the firmware faulted, or the sanitizer (error mode) reported */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_SETUP = 3,      /* the image could not be loaded, or a socket/pty/testbed could not be made */
    EXIT_NO_DEVICE = 4,  /* serve: the dongle did not enumerate */
    EXIT_WALL_LIMIT = 5, /* the wall-clock limit (--wall-limit) ended a plain run */
    EXIT_NOT_RUNNING = 6,     /* stop: no detached serve was running (detach.h) */
    EXIT_ALREADY_RUNNING = 7, /* serve --detach: one is running already with that state directory */
    /* run and shell: the command's own status, or one of these (the conventions of env(1) and timeout(1)) */
    EXIT_RUN_FAULT = 124,     /* the firmware faulted (or the sanitizer reported) while the command ran */
    EXIT_RUN_FAILED = 125,    /* hilda-emu could not give the command a dongle */
    EXIT_RUN_NOEXEC = 126,    /* the command could not be executed */
    EXIT_RUN_NOTFOUND = 127,  /* the command was not found */
};


/* shell: run with $SHELL (or COMMAND) and the prompt marked; stop: ends a
 * detached serve (detach.h) */
enum mode { MODE_PLAIN, MODE_RUN, MODE_SERVE, MODE_SHELL, MODE_STOP };

struct options {
    enum mode mode;
    struct dongle_options board;
    unsigned n_firmware;       /* --firmware given so many times */
    enum sanitize_mode sanitize;
    const char *control;
    const char *log;
    uint64_t until_ms;
    double wall_limit_s;       /* plain run: 0 none; -1 while parsing: not given */
    uint64_t device_id;
    const char *pcap;
    const char *env_file;
    uint64_t attach_ms;
    int pin_cpu;               /* -1: off; -2: the default of the mode */
    const char *client_preload;  /* NULL if not found */
    char client_preload_path[PATH_MAX];
    char **command;            /* run, shell: argv of the command (shell: NULL for $SHELL) */
    bool detach;               /* serve --detach */
    const char *state_dir;     /* serve --detach, stop: --state-dir (NULL: the default, detach.h) */
    char default_firmware[PATH_MAX];
};

/* The signal (SIGINT, SIGTERM) that asked hilda-emu to stop, 0 if none. */
extern volatile sig_atomic_t hilda_emu_stop_signal;

#endif
