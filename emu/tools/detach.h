/* `hilda-emu serve --detach` and `hilda-emu stop`: a serve that returns to
 * the shell once the dongle is enumerated and keeps running in the
 * background, and the command that ends it and gives the shell its
 * environment back.
 *
 * The state directory (--state-dir DIR; default $XDG_RUNTIME_DIR/hilda-emu,
 * or /tmp/hilda-emu-UID without XDG_RUNTIME_DIR; mode 0700, owned by the
 * user) holds at most one detached serve:
 *   lock      flock()ed by the serve for its whole life: "one is running"
 *   pid       its process id (for stop's SIGTERM)
 *   restore   the shell lines that undo its exports (`export NAME='before'`
 *             or `unset NAME`), from the environment serve --detach started in
 *   serve.log its diagnostics once detached (without --log)
 * stop prints `restore` on stdout (eval "$(hilda-emu stop)") and removes the
 * files. */
#ifndef EMU_TOOLS_DETACH_H
#define EMU_TOOLS_DETACH_H

#include <stdbool.h>
#include <stdio.h>

#include "options.h"
#include "supervise.h"

/* serve --detach, before any thread exists (fork keeps only the calling
 * thread). In the foreground process: waits until the background one is
 * ready or has ended and returns the exit code to end with (0: ready, its
 * exports are on stdout; EXIT_ALREADY_RUNNING; the background serve's own
 * code). In the background process: returns -1 and the caller goes on to
 * serve. */
int detach_start(const struct options *o);

/* The background serve has printed its exports on stdout (v: what it
 * exported, empty values left out): records how to undo them, closes
 * stdout, moves stderr to serve.log (log_on_stderr: the diagnostics go
 * there; otherwise to /dev/null) and lets the foreground process return. */
void detach_ready(const struct env_var *v, unsigned n, bool log_on_stderr);

/* At the end of a background serve: removes its pid file (the restore lines
 * stay for stop). Nothing in other processes. */
void detach_finish(void);

/* hilda-emu stop: SIGTERM to the detached serve, waits for it to end
 * (SIGKILL after 10 s), prints its restore lines on stdout, removes the
 * state files. EXIT_OK, or EXIT_NOT_RUNNING (the restore lines of a serve
 * that ended by itself are printed all the same), EXIT_SETUP. */
int detach_stop(const char *state_dir);

/* text as one shell word: 'text' with each ' written as '\'' */
void shell_put_quoted(FILE *f, const char *text);

#endif
