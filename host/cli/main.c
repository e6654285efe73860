/* hilda: the host tool for the hilda test firmware on the nRF52840 dongle.
 * See docs/host.md and `hilda --help`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* batch is the other front-end, not a command of the registry */
static const char batch_summary[] = "JSON lines in, JSON lines out: one long-lived process for scripts and pytest";

/* Runs the command called name; false if there is none. */
static bool dispatch(struct cli *c, const char *name, int argc, char **argv, int *rc)
{
    if (strcmp(name, "batch") == 0) {
        c->command = "batch";
        *rc = cmd_batch(c, argc, argv);
        return true;
    }
    for (const struct cmd *const *k = hilda_commands; *k; k++) {
        if ((*k)->name && strcmp((*k)->name, name) == 0) {
            c->command = (*k)->name;
            *rc = cli_run_command(c, *k, argc, argv);
            return true;
        }
    }
    return false;
}

/* Levenshtein distance, for "did you mean": command names are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return (size_t)-1;
    size_t row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The command closest to name, if it is close enough to be a typo (at
 * most 2 edits, and fewer than half the name's letters); NULL otherwise. */
static const char *closest_command(const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (const struct cmd *const *k = hilda_commands; *k; k++) {
        if (!(*k)->name)
            continue;
        size_t d = edit_distance(name, (*k)->name);
        if (d < best_d) {
            best_d = d;
            best = (*k)->name;
        }
    }
    size_t d = edit_distance(name, "batch");
    if (d < best_d) {
        best_d = d;
        best = "batch";
    }
    return best_d <= 2 && best_d * 2 < strlen(name) + 1 ? best : NULL;
}

static void usage(FILE *f)
{
    fputs("usage: hilda [options] COMMAND [command options] [arguments]\n"
          "       hilda COMMAND --help\n\n"
          "The host tool for the hilda test firmware on the nRF52840 dongle (libusb-1.0).\n\n"
          "Commands:\n", f);
    for (const struct cmd *const *k = hilda_commands; *k; k++)
        if ((*k)->name)
            fprintf(f, "  %-11s %s\n", (*k)->name, (*k)->summary);
    fprintf(f, "  %-11s %s\n", "batch", batch_summary);
    cli_print_common_help(f);
    /* HILDA_DOCDIR: host/meson.build, where meson install puts the docs */
    fputs("\nMore: man hilda, and docs/host.md (installed: " HILDA_DOCDIR "/docs/host.md; access without\n"
          "root: docs/install.md there).\n", f);
}

int main(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    c.timeout_ms = HILDA_DEFAULT_TIMEOUT_MS;
    hilda_install_signal_handlers();
    opterr = 0;

    static const struct option opts[] = { CLI_COMMON_LONG, { "version", no_argument, NULL, 'V' }, { 0, 0, 0, 0 } };
    int o;
    /* "+": global options stop at the command */
    while ((o = getopt_long(argc, argv, "+" CLI_COMMON_SHORT "V", opts, NULL)) != -1) {
        if (o == OPT_HELP) {
            usage(stdout);
            return 0;
        }
        if (o == 'V') {
            printf("hilda %s (vendor protocol %u.%u)\n", HILDA_CLI_VERSION, HILDA_PROTOCOL_VERSION >> 8,
                   HILDA_PROTOCOL_VERSION & 0xFF);
            return 0;
        }
        int r = cli_common_option(&c, o, optarg, "");
        if (r < 0)
            return hilda_status_exit_code(HILDA_ERR_USAGE);
        if (r == 0)
            return cli_usage_error(&c, "unknown option %s", argv[optind - 1]);
    }
    if (optind >= argc) {
        usage(stderr);
        return hilda_status_exit_code(HILDA_ERR_USAGE);
    }
    const char *name = argv[optind];
    int rc;
    if (strcmp(name, "help") == 0) {
        if (optind + 1 < argc) {
            char *help_argv[] = { argv[optind + 1], (char *)"--help", NULL };
            optind = 0;
            if (dispatch(&c, help_argv[0], 2, help_argv, &rc))
                return rc;
        }
        usage(stdout);
        return 0;
    }
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0;   /* 0, not 1: glibc then forgets the "+" of the global scan */
    if (!dispatch(&c, name, sub_argc, sub_argv, &rc)) {
        const char *near = closest_command(name);
        if (near)
            return cli_usage_error(&c, "unknown command \"%s\"; did you mean '%s'?", name, near);
        return cli_usage_error(&c, "unknown command \"%s\"", name);
    }
    if (c.ctx)
        libusb_exit(c.ctx);
    return rc;
}
