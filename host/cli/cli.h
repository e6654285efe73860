/* The hilda CLI: a thin layer over libhilda. main.c parses the global
 * options and dispatches; each cmd_*.c is one command; the JSON renderers
 * of results live with their commands and are shared with batch mode. */
#ifndef HILDA_CLI_H
#define HILDA_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "ch9.h"
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

/* Starts the standard success object: {"ok":true,"command":NAME ... */
void cli_json_begin(struct hj *j, const char *command);

/* JSON renderers shared with batch mode */
void json_devinfo(struct hj *j, const struct hilda_devinfo *x);
void json_counters(struct hj *j, const struct hilda_counters *k);
void json_uart_status(struct hj *j, const struct hilda_uart_status *u);
void json_version(struct hj *j, const struct hilda_version *v);
void json_stress_report(struct hj *j, const struct hilda_stress_report *r);
void json_timing_cells(struct hj *j, const struct hilda_timing_cell *cells, size_t n);
void print_stress_report(FILE *f, const struct hilda_stress_report *r);
void print_checks(FILE *f, const struct hilda_checks *k);

/* Parsers for command arguments */
bool cli_parse_u32(const char *s, unsigned long max, unsigned long *v);
bool cli_parse_timing_cells(const char *kinds, const char *sizes, struct hilda_timing_cell **cells, size_t *n,
                            char *err, size_t errcap);

/* The commands */
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_desc(struct cli *c, int argc, char **argv);
int cmd_ctrl(struct cli *c, int argc, char **argv);
int cmd_ch9(struct cli *c, int argc, char **argv);
int cmd_stress(struct cli *c, int argc, char **argv);
int cmd_timing(struct cli *c, int argc, char **argv);
int cmd_echo(struct cli *c, int argc, char **argv);
int cmd_uart(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_reset(struct cli *c, int argc, char **argv);
int cmd_bootloader(struct cli *c, int argc, char **argv);
int cmd_batch(struct cli *c, int argc, char **argv);

#endif
