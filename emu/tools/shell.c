/* The shell of `hilda-emu shell` (shell.h). */
#include "shell.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* bash's start-up file: the user's own, then the mark in front of the
 * prompt it set (an interactive bash has its default prompt before it
 * reads this file) */
static const char bash_rc[] =
    "# hilda-emu shell: your ~/.bashrc, then the prompt marked; exit to stop the emulated dongle\n"
    "if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n"
    "PS1=\"" SHELL_PROMPT_MARK "$PS1\"\n";

static int write_bash_rc(struct shell_command *sh, FILE *log)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(sh->rc_dir, sizeof sh->rc_dir, "%s/hilda-emu-shell.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sh->rc_dir)) {
        fprintf(log, "hilda-emu: cannot make a directory for the shell's start-up file (%s): %s\n", sh->rc_dir,
                strerror(errno));
        sh->rc_dir[0] = '\0';
        return -1;
    }
    FILE *f = NULL;
    if (snprintf(sh->rc_file, sizeof sh->rc_file, "%s/bashrc", sh->rc_dir) < (int)sizeof sh->rc_file)
        f = fopen(sh->rc_file, "we");
    if (!f || fputs(bash_rc, f) < 0 || fclose(f) != 0) {
        fprintf(log, "hilda-emu: cannot write %s: %s\n", sh->rc_file, strerror(errno));
        shell_cleanup(sh);
        return -1;
    }
    return 0;
}

int shell_prepare(struct shell_command *sh, char **command, struct env_var env[SHELL_VARS], FILE *log)
{
    *sh = (struct shell_command){ 0 };
    env[0] = (struct env_var){ "HILDA_EMU", "1" };
    env[1] = (struct env_var){ "PS1", "" };
    if (command) {
        sh->command = command;
        return 0;
    }
    const char *user_shell = getenv("SHELL");
    snprintf(sh->shell, sizeof sh->shell, "%s", user_shell && *user_shell ? user_shell : "/bin/sh");
    const char *base = strrchr(sh->shell, '/');
    base = base ? base + 1 : sh->shell;
    sh->argv[0] = sh->shell;
    if (strcmp(base, "bash") == 0) {
        if (write_bash_rc(sh, log))
            return -1;
        sh->argv[1] = "--rcfile";
        sh->argv[2] = sh->rc_file;
    } else {
        /* sh, dash, ksh take PS1 from the environment ($ for the user, # for root) */
        snprintf(env[1].value, sizeof env[1].value, "%s%s ", SHELL_PROMPT_MARK, geteuid() ? "$" : "#");
    }
    sh->command = sh->argv;
    return 0;
}

void shell_cleanup(struct shell_command *sh)
{
    if (sh->rc_file[0])
        unlink(sh->rc_file);
    if (sh->rc_dir[0])
        rmdir(sh->rc_dir);
    sh->rc_file[0] = sh->rc_dir[0] = '\0';
}
