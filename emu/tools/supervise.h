/* Child supervision for `hilda-emu run -- CMD`: the command runs as a
 * child with the session's environment while the machine runs; its exit
 * ends the run. On a fault or a stop signal it is told to stop (SIGTERM,
 * SIGKILL after a grace time) while the dongle keeps answering. */
#ifndef EMU_TOOLS_SUPERVISE_H
#define EMU_TOOLS_SUPERVISE_H

#include <limits.h>
#include <stdio.h>

#include "machine.h"

struct env_var {
    const char *name;
    char value[PATH_MAX];
};

#define SESSION_VARS 7   /* session.c: UMOCKDEV_DIR ... HILDA_RIG */

struct supervise_params {
    struct machine *m;
    char **argv;                    /* the command */
    const struct env_var *env;      /* set in its environment (empty values: left out) */
    unsigned n_env;
    int pin_cpu;                    /* -1: no CPU affinity for the child */
    int stop_signal;                /* what tells it to stop; 0: SIGTERM (an interactive shell ignores
                                       SIGTERM: it gets SIGHUP, as when its terminal closes) */
    FILE *log;
};

/* Runs the command to its end. Returns its exit status (128 + signal if it
 * was killed), or EXIT_RUN_FAULT, EXIT_RUN_FAILED (options.h). */
int supervise_run(const struct supervise_params *p);

#endif
