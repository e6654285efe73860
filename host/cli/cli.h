/* The hilda CLI: a thin layer over libhilda. main.c parses the global
 * options and dispatches; each cmd_*.c is one command (command.h: its
 * args, its argv and JSON-args parsers, its one run function), run by the
 * argv front-end (cli_run_command) or by batch mode (cmd_batch.c). */
#ifndef HILDA_CLI_H
#define HILDA_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "ch9.h"
#include "command.h"
#include "checks.h"
#include "device.h"
#include "json.h"
#include "jsonread.h"
#include "status.h"
#include "stress.h"
#include "timing.h"
#include "vendor.h"

#define HILDA_CLI_VERSION "0.1.0"

struct cli {
    struct hilda_selector sel;
    char serial[HILDA_SERIAL_MAX];
    char path[HILDA_PATH_MAX];
    unsigned wait_ms;
    unsigned timeout_ms;
    bool json;
    bool quiet;              /* no progress bar */
    libusb_context *ctx;
    const char *command;
};

/* Common options every command takes (anywhere on the line). */
#define CLI_COMMON_SHORT "d:s:p:w:t:jhq"
enum { OPT_DEVICE = 'd', OPT_SERIAL = 's', OPT_PATH = 'p', OPT_WAIT = 'w', OPT_TIMEOUT = 't', OPT_JSON = 'j',
       OPT_HELP = 'h', OPT_QUIET = 'q' };
#define CLI_COMMON_LONG                                                                                          \
    { "device", required_argument, NULL, OPT_DEVICE }, { "serial", required_argument, NULL, OPT_SERIAL },        \
    { "path", required_argument, NULL, OPT_PATH }, { "wait", required_argument, NULL, OPT_WAIT },                \
    { "timeout", required_argument, NULL, OPT_TIMEOUT }, { "json", no_argument, NULL, OPT_JSON },                \
    { "help", no_argument, NULL, OPT_HELP }, { "quiet", no_argument, NULL, OPT_QUIET }

/* Handles a common option: 1 handled, 0 not a common option, -1 bad value
 * (the error is printed; the command returns the usage exit code). --help
 * prints `usage` and returns 2 as a marker (the command exits 0). */
int cli_common_option(struct cli *c, int opt, const char *arg, const char *usage);
#define CLI_HELP_SHOWN 2

/* getopt_long with the common options handled on the way: returns the next
 * option that is the command's own, -1 at the end, or CLI_OPT_QUIT when the
 * command must return *quit_rc at once (after --help: 0; after a bad common
 * option: the usage exit code, the error already printed). */
int cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts, const struct option *opts,
               const char *usage, int *quit_rc);
#define CLI_OPT_QUIT (-2)

/* Prints the common options and the exit code table (for --help). */
void cli_print_common_help(FILE *f);
void cli_print_exit_codes(FILE *f);

/* Reports a failure (a sentence on stderr; with --json also an error
 * object on stdout) and returns the exit code for it. */
int cli_fail(struct cli *c, const struct hilda_error *e);
/* cli_fail whose --json error object also carries partial's fields (a
 * command's results before it stopped: cmd_io.partial); partial may be NULL. */
int cli_fail_partial(struct cli *c, const struct hilda_error *e, const json_t *partial);
int cli_usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum hilda_status cli_context(struct cli *c, struct hilda_error *e);
/* Opens the selected device (default: a hilda dongle in application mode). */
enum hilda_status cli_open(struct cli *c, struct hilda_device **d, struct hilda_error *e);
/* Opens it for the vendor protocol: a dongle in bootloader mode is refused
 * with a sentence (usage error), rather than answering STALL to everything. */
enum hilda_status cli_open_vendor(struct cli *c, struct hilda_device **d, struct hilda_error *e);

/* Progress bar on stderr when it is a terminal (and not --json/--quiet). */
struct progress {
    bool enabled;
    unsigned long long last_ns;
    int last_width;
};
void progress_init(struct progress *p, struct cli *c);
void progress_update(void *p, const char *phase, uint64_t done, uint64_t total);
void progress_done(struct progress *p);

/* JSON renderers shared by the commands (new values) */
json_t *json_devinfo(const struct hilda_devinfo *x);
json_t *json_counters(const struct hilda_counters *k);
json_t *json_uart_status(const struct hilda_uart_status *u);
json_t *json_version(const struct hilda_version *v);
json_t *json_stress_report(const struct hilda_stress_report *r);
json_t *json_timing_cells(const struct hilda_timing_cell *cells, size_t n);
void print_stress_report(FILE *f, const struct hilda_stress_report *r);
void print_checks(FILE *f, const struct hilda_checks *k);

/* Parsers for command arguments */
bool cli_parse_u32(const char *s, unsigned long max, unsigned long *v);
bool cli_parse_timing_cells(const char *kinds, const char *sizes, struct hilda_timing_cell **cells, size_t *n,
                            char *err, size_t errcap);

/* argv parsers: the usual refusals, for every command */
int cli_unknown_option(struct cli *c, char **argv);
int cli_no_arguments(struct cli *c, int argc, char **argv);   /* CMD_GO, or the usage error's code */

/* The commands (commands.c lists them) */
extern const struct cmd cmd_list, cmd_desc, cmd_ctrl, cmd_ch9, cmd_stress, cmd_timing, cmd_echo, cmd_uart,
    cmd_stats, cmd_fault, cmd_reset, cmd_bootloader, cmd_flash, cmd_rig;
int cmd_batch(struct cli *c, int argc, char **argv);

/* The request side of the batch protocol, apart from any device (the fuzz
 * target feeds it): a line parsed, its cmd found, and for a command of the
 * registry its fields read into the command's args. False with e set when
 * the request is refused; r holds what was understood (the id, the cmd
 * name) either way, until batch_request_free. */
struct batch_request {
    json_t *req;
    const json_t *id;        /* as the request gave it (or NULL) */
    const char *name;        /* its cmd */
    int session;             /* a session command (index), or -1 */
    const struct cmd *cmd;   /* else the command that runs it ... */
    void *args;              /* ... with its args */
};
bool batch_request_parse(const char *line, size_t len, struct batch_request *r, struct hilda_error *e);
void batch_request_free(struct batch_request *r);

#endif
