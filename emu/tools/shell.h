/* `hilda-emu shell [FIRMWARE] [-- COMMAND...]`: what `run` starts when no
 * COMMAND is given (the user's $SHELL, /bin/sh without one) and the two
 * variables that tell the user the dongle is there: HILDA_EMU=1 and a
 * prompt starting with "(hilda-emu) ". bash reads its prompt from
 * ~/.bashrc, which would overwrite an exported PS1: it gets a start-up file
 * of ours (--rcfile) that reads ~/.bashrc and then marks the prompt; other
 * shells get PS1 in the environment. */
#ifndef EMU_TOOLS_SHELL_H
#define EMU_TOOLS_SHELL_H

#include <limits.h>
#include <stdio.h>

#include "supervise.h"

#define SHELL_VARS 2   /* HILDA_EMU, PS1 */
#define SHELL_PROMPT_MARK "(hilda-emu) "

struct shell_command {
    char *argv[5];             /* the shell and its arguments, or COMMAND's */
    char **command;            /* what runs: argv, or the given COMMAND */
    char rc_dir[PATH_MAX];     /* our temporary directory for bash's start-up file, "" if none */
    char rc_file[PATH_MAX];
    char shell[PATH_MAX];
};

/* command: the given COMMAND, NULL for the user's shell. Fills env with
 * SHELL_VARS variables (empty values: left out). 0, or -1 with a sentence
 * in log. */
int shell_prepare(struct shell_command *sh, char **command, struct env_var env[SHELL_VARS], FILE *log);

/* Removes the start-up file and its directory. */
void shell_cleanup(struct shell_command *sh);

#endif
