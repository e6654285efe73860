/* ch9: the chapter 9 conformance battery, and its list of checks. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hilda ch9 [--only PREFIX] [--no-reset] [--rounds N] [options]\n"
    "       hilda ch9 --list [options]\n\n"
    "A chapter 9 conformance battery modelled on USBCV (TD 9.1 device descriptor, 9.2 configuration,\n"
    "9.4 interface, 9.7 BOS, 9.8 strings, 9.9 halt, 9.10 bad descriptor, 9.12 remote wakeup, 9.13 set\n"
    "configuration, 9.16 enumeration, 9.18 bus/self powered, 9.19 device qualifier) and the Linux\n"
    "usbtest tests 9 (ch9_postconfig), 10 (16 queued control requests, in order) and 13 (halt set and\n"
    "clear). Descriptors are read short and long; bad requests must STALL and the device must serve\n"
    "the next request; GET_STATUS per recipient in the Configured and Address states; SET_CONFIGURATION\n"
    "1, 1, 0, 1 checked with GET_CONFIGURATION. Each check has an id, a result (pass, fail, warn, skip)\n"
    "and the reason. The device is left configured, as found. Exit 0 when nothing failed, 1 otherwise.\n"
    "Ctrl-C (SIGINT) stops it between two checks: the results so far, the checks not started as\n"
    "not_run (never fail), marked PARTIAL (--json: \"partial\": true); exit 130.\n\n"
    "  -l, --list             every check's id and title (no device needed)\n"
    "  -o, --only PREFIX      only the checks whose id starts with PREFIX (e.g. 9.9, 10-queue); a\n"
    "                         PREFIX that selects no check is refused\n"
    "      --no-reset         leave out 9.16 (a bus reset of the device)\n"
    "      --rounds N         usbtest 10: rounds of 16 queued requests in flight together (default 4)\n";

struct ch9_args {
    struct hilda_ch9_options o;
    bool list;
};

/* The length of id's group: up to its first '-' ("9.13-set-configuration":
 * "9.13"), or the whole id when that part has no '.' ("10-queue"). */
static int group_len(const char *id)
{
    size_t len = strcspn(id, "-");
    return memchr(id, '.', len) ? (int)len : (int)strlen(id);
}

/* The registry's groups, "9.1, 9.2, ..., 10-queue, 9.16", in order, each
 * once: for the refusal of an --only that selects nothing. */
static void check_groups(char *out, size_t cap)
{
    size_t n, at = 0;
    const struct hilda_ch9_check *k = hilda_ch9_checks(&n);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int len = group_len(k[i].id);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = group_len(k[j].id) == len && strncmp(k[j].id, k[i].id, (size_t)len) == 0;
        if (!seen && at + (size_t)len + 3 < cap)
            at += (size_t)snprintf(out + at, cap - at, "%s%.*s", at ? ", " : "", len, k[i].id);
    }
}

static int ch9_argv(struct cli *c, int argc, char **argv, void *args)
{
    struct ch9_args *a = args;
    static const struct option opts[] = { CLI_COMMON_LONG, { "only", required_argument, NULL, 'o' },
                                          { "list", no_argument, NULL, 'l' },
                                          { "no-reset", no_argument, NULL, 'N' },
                                          { "rounds", required_argument, NULL, 'R' }, { 0, 0, 0, 0 } };
    unsigned long v;
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT "o:l", opts, usage, &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        switch (o) {
        case 'o': a->o.only = optarg; break;
        case 'l': a->list = true; break;
        case 'N': a->o.skip_reset = true; break;
        case 'R':
            if (!cli_parse_u32(optarg, 64, &v) || !v)
                return cli_usage_error(c, "--rounds wants 1..64");
            a->o.queue_rounds = (unsigned)v;
            break;
        default: return cli_unknown_option(c, argv);
        }
    }
    if (a->o.only && !hilda_ch9_only_matches_any(a->o.only)) {
        char groups[200];
        check_groups(groups, sizeof groups);
        return cli_usage_error(c, "--only \"%s\" selects no check; the checks are %s (hilda ch9 --list names each)",
                               a->o.only, groups);
    }
    return cli_no_arguments(c, argc, argv);
}

static bool ch9_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct ch9_args *a = args;
    unsigned long long rounds;
    bool no_reset;
    if (!hilda_field_str(req, "only", &a->o.only, e) || !hilda_field_bool(req, "no_reset", false, &no_reset, e) ||
        !hilda_field_uint(req, "rounds", 64, 0, &rounds, e) || !hilda_field_bool(req, "list", false, &a->list, e))
        return false;
    if (a->o.only && !hilda_ch9_only_matches_any(a->o.only)) {
        hilda_fail(e, HILDA_ERR_USAGE, "\"only\": \"%.60s\" selects no check (\"list\": true shows them)", a->o.only);
        return false;
    }
    a->o.skip_reset = no_reset;
    a->o.queue_rounds = (unsigned)rounds;
    return true;
}

/* --list: the registry, no device */
static enum hilda_status list_checks(struct cmd_io *io)
{
    size_t n;
    const struct hilda_ch9_check *k = hilda_ch9_checks(&n);
    json_t *list = io->reply ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (list) {
            json_t *x = json_object();
            hj_set_str(x, "id", k[i].id);
            hj_set_str(x, "title", k[i].title);
            hj_append(list, x);
        }
        if (io->text)
            fprintf(io->text, "%-32s %s\n", k[i].id, k[i].title);
    }
    if (list)
        hj_set(io->reply, "checks", list);
    return HILDA_OK;
}

static enum hilda_status ch9_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct ch9_args *a = args;
    if (a->list)
        return list_checks(io);
    enum hilda_status st = cmd_open(io, false, e);
    if (st)
        return st;
    struct hilda_checks k;
    hilda_checks_init(&k);
    st = hilda_ch9_run(io->d, &a->o, &k, e);
    size_t pass = hilda_checks_count(&k, HILDA_PASS), fail = hilda_checks_count(&k, HILDA_FAIL),
           warn = hilda_checks_count(&k, HILDA_WARN), skip = hilda_checks_count(&k, HILDA_SKIP),
           not_run = hilda_checks_count(&k, HILDA_NOT_RUN);
    const struct hilda_devinfo *dev = &io->d->info;
    /* A stop (Ctrl-C, device gone) keeps the results so far, the checks it
     * left out as not run, marked partial; the front-end says why it stopped. */
    io->partial = st != HILDA_OK;
    io->check_failed = fail > 0;
    if (io->reply) {
        hj_set(io->reply, "device", json_devinfo(dev));
        hj_set(io->reply, "checks", hilda_json_checks(&k));
        hj_set_uint(io->reply, "passed", pass);
        hj_set_uint(io->reply, "failed", fail);
        hj_set_uint(io->reply, "warnings", warn);
        hj_set_uint(io->reply, "skipped", skip);
        if (io->partial) {
            hj_set_uint(io->reply, "not_run", not_run);
            hj_set_bool(io->reply, "partial", true);
        }
    }
    if (io->text) {
        fprintf(io->text, "chapter 9 battery on %04x:%04x at %s\n", dev->vid, dev->pid, dev->path);
        print_checks(io->text, &k);
        fprintf(io->text, "%s%zu passed, %zu failed, %zu warnings, %zu skipped", io->partial ? "PARTIAL: " : "", pass,
                fail, warn, skip);
        if (io->partial)
            fprintf(io->text, ", %zu not run (the battery stopped early, see the error below)", not_run);
        fputc('\n', io->text);
    }
    hilda_checks_free(&k);
    return st;
}

const struct cmd cmd_ch9 = {
    .name = "ch9",
    .summary = "chapter 9 conformance battery (USBCV TD 9.x, usbtest 9, 10, 13)",
    .args_size = sizeof(struct ch9_args),
    .parse_argv = ch9_argv,
    .json = (const struct cmd_json[]){ { "ch9", ch9_json }, { NULL, NULL } },
    .run = ch9_run,
    .batch_omits = (const char *const[]){ "device", NULL },
};
