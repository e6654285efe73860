/* The argv front-end: one command from the command line. Parses its
 * arguments into its args struct, runs it, and reports: the JSON reply with
 * --json ({"ok":true,"command":NAME,...}), text for people otherwise, and
 * the exit code (cli_fail's table, 1 when a check failed). */
#include <stdlib.h>

#include "cli.h"

static enum hilda_status open_from_argv(struct cmd_io *io, bool vendor, struct hilda_error *e)
{
    if (io->d)
        return HILDA_OK;
    return vendor ? cli_open_vendor(io->c, &io->d, e) : cli_open(io->c, &io->d, e);
}

int cli_run_command(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
    void *args = calloc(1, cmd->args_size ? cmd->args_size : 1);
    if (!args) {
        struct hilda_error e;
        hilda_fail(&e, HILDA_ERR_INTERNAL, "out of memory");
        return cli_fail(c, &e);
    }
    int rc = cmd->parse_argv(c, argc, argv, args);
    if (rc != CMD_GO) {
        if (cmd->free_args)
            cmd->free_args(args);
        free(args);
        return rc;
    }
    struct progress pr;
    progress_init(&pr, c);
    struct cmd_io io = { .c = c, .text = c->json ? NULL : stdout, .progress = &pr, .open = open_from_argv };
    if (c->json) {
        io.reply = json_object();
        hj_set_bool(io.reply, "ok", true);
        hj_set_str(io.reply, "command", c->command);
    }
    struct hilda_error e;
    hilda_error_clear(&e);
    enum hilda_status st = cmd->run(&io, args, &e);
    progress_done(&pr);
    if (st) {
        if (!e.status)
            hilda_fail(&e, st, "%s failed", c->command);
        rc = cli_fail_partial(c, &e, io.partial ? io.reply : NULL);
    } else {
        if (io.reply && !hj_print(io.reply, stdout))
            rc = hilda_status_exit_code(HILDA_ERR_IO);
        else
            rc = io.check_failed ? hilda_status_exit_code(HILDA_ERR_CHECK) : 0;
    }
    json_decref(io.reply);
    hilda_close(io.d);
    if (cmd->free_args)
        cmd->free_args(args);
    free(args);
    return rc;
}

int cli_unknown_option(struct cli *c, char **argv)
{
    return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
}

int cli_no_arguments(struct cli *c, int argc, char **argv)
{
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    return CMD_GO;
}
