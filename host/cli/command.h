/* The seam between a command and its two front-ends. A command is one file
 * (cmd_X.c) holding
 *   - its argument struct,
 *   - its argv parser (getopt; the common options are handled on the way),
 *   - its JSON-args parser(s): a batch request's fields into the same struct,
 *     one per batch name that runs it ("uart_send", "uart_recv", ...),
 *   - its run function, the one code path: it opens the device through the
 *     front-end when it needs it, does the work, and writes the result as
 *     fields of the JSON reply (--json, batch) or as text for people.
 * and one `const struct cmd` describing them, listed in commands.c. main.c
 * (argv: cli_run_command) and cmd_batch.c (JSON lines) only parse, open
 * and report; neither knows what a command does. */
#ifndef HILDA_CLI_COMMAND_H
#define HILDA_CLI_COMMAND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "device.h"
#include "status.h"

struct cli;
struct progress;

/* What a run function works with. */
struct cmd_io {
    struct cli *c;              /* common options, libusb context */
    struct hilda_device *d;     /* NULL until open(); run may close it (set NULL) or replace it */
    json_t *reply;              /* the reply object to add fields to, or NULL: text for people */
    FILE *text;                 /* where text for people goes, or NULL (JSON) */
    struct progress *progress;  /* for the library's progress callbacks; NULL: none */
    bool check_failed;          /* run sets it when the device answered but a check failed (exit 1) */
    bool partial;               /* run sets it when it stops on an error with results so far in reply:
                                   the error reply keeps them (ok false, error, message, and these) */
    /* Opens the device the way the front-end does (argv: the selection
     * options; batch: the session's device, the request's wait_ms and
     * timeout_ms); vendor: a dongle in bootloader mode is refused. */
    enum hilda_status (*open)(struct cmd_io *io, bool vendor, struct hilda_error *e);
    const void *front;          /* the front-end's own (batch: the request) */
};

/* A batch request name and how its fields become the command's args. */
struct cmd_json {
    const char *name;
    bool (*parse)(const json_t *req, void *args, struct hilda_error *e);   /* false: e says why (usage) */
};

/* What argv parsers return: go on, or this exit code at once (--help: 0). */
#define CMD_GO (-1)

struct cmd {
    const char *name;           /* on the command line; NULL: batch only */
    const char *summary;        /* hilda --help */
    size_t args_size;           /* the args struct, zeroed before a parser fills it */
    int (*parse_argv)(struct cli *c, int argc, char **argv, void *args);
    const struct cmd_json *json;   /* the batch names, ending with { NULL } */
    enum hilda_status (*run)(struct cmd_io *io, void *args, struct hilda_error *e);
    void (*free_args)(void *args);  /* optional: what a parser allocated */
    /* --json fields that batch replies leave out (the batch protocol
     * predates them; rig/batch.py and the tests read the replies as they are) */
    const char *const *batch_omits;
};

/* commands.c: every command, in `hilda --help` order; NULL-terminated */
extern const struct cmd *const hilda_commands[];

/* The argv front-end: parses, runs and reports one command; the exit code. */
int cli_run_command(struct cli *c, const struct cmd *cmd, int argc, char **argv);

/* For run functions: opens the device (io->d) through the front-end. */
static inline enum hilda_status cmd_open(struct cmd_io *io, bool vendor, struct hilda_error *e)
{
    return io->open(io, vendor, e);
}

#endif
