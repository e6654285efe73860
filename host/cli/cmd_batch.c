/* Batch mode: one JSON object per line in, one per line out, so that a
 * script or pytest drives one long-lived hilda process (docs/host.md,
 * "Batch protocol"). Every reply carries the request's "id".
 *
 * This is a front-end: the session commands (hello, open, close, info,
 * wait, quit) live here; every other request name belongs to a command of
 * the registry (commands.c), whose JSON-args parser reads the request into
 * the command's args and whose run function - the one the command line
 * uses too - writes the reply's fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define LINE_MAX_BYTES (4u << 20)
#define BATCH_PROTOCOL "hilda-batch/1"

struct batch {
    struct cli *c;
    struct hilda_device *d;
    struct hilda_selector sel;
    char serial[HILDA_SERIAL_MAX];
    char path[HILDA_PATH_MAX];
    bool quit;
};

/* ---- the session's device ---- */

static void drop_device(struct batch *b)
{
    hilda_close(b->d);
    b->d = NULL;
}

/* Opens the session's device if it is not open (waiting up to the
 * request's wait_ms), and gives it the request's timeout_ms. */
static enum hilda_status need_device(struct batch *b, const json_t *req, struct hilda_error *e)
{
    if (b->d && b->d->gone)
        drop_device(b);
    unsigned long long wait, timeout;
    if (!hilda_field_uint(req, "wait_ms", 3600000, 0, &wait, e) ||
        !hilda_field_uint(req, "timeout_ms", 600000, b->c->timeout_ms, &timeout, e))
        return HILDA_ERR_USAGE;
    if (!b->d) {
        enum hilda_status st = cli_context(b->c, e);
        if (st)
            return st;
        if ((st = hilda_open(b->c->ctx, &b->sel, (unsigned)wait, &b->d, e)))
            return st;
        if (!b->d)
            return hilda_fail(e, HILDA_ERR_INTERNAL, "no device after opening one");
    }
    b->d->timeout_ms = timeout ? (unsigned)timeout : b->c->timeout_ms;
    return HILDA_OK;
}

/* After a failure: a device that is gone is closed, so the next command reopens. */
static void after(struct batch *b, enum hilda_status st)
{
    if (b->d && (st == HILDA_ERR_NO_DEVICE || b->d->gone))
        drop_device(b);
}

/* ---- the session commands: each adds its fields to the reply, or returns an error ---- */

typedef enum hilda_status (*session_fn)(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e);

static enum hilda_status s_hello(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e)
{
    (void)b, (void)req, (void)e;
    hj_set_str(reply, "protocol", BATCH_PROTOCOL);
    hj_set_str(reply, "version", HILDA_CLI_VERSION);
    return HILDA_OK;
}

static enum hilda_status s_open(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e)
{
    const char *vidpid, *serial, *path;
    if (!hilda_field_str(req, "vidpid", &vidpid, e) || !hilda_field_str(req, "serial", &serial, e) ||
        !hilda_field_str(req, "path", &path, e))
        return HILDA_ERR_USAGE;
    struct hilda_selector sel = { 0 };
    if (vidpid && !hilda_parse_vidpid(vidpid, &sel.vid, &sel.pid))
        return hilda_fail(e, HILDA_ERR_USAGE, "\"vidpid\" must be VID:PID in hex, e.g. \"1209:0001\"");
    sel.has_vidpid = vidpid != NULL;
    if (serial) {
        snprintf(b->serial, sizeof b->serial, "%s", serial);
        sel.serial = b->serial;
    }
    if (path) {
        snprintf(b->path, sizeof b->path, "%s", path);
        sel.path = b->path;
    }
    if (vidpid || serial || path)
        b->sel = sel;
    drop_device(b);
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    hilda_device_read_identity(b->d);
    hj_set(reply, "device", json_devinfo(&b->d->info));
    return HILDA_OK;
}

static enum hilda_status s_close(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e)
{
    (void)req, (void)reply, (void)e;
    drop_device(b);
    return HILDA_OK;
}

static enum hilda_status s_info(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e)
{
    enum hilda_status st = need_device(b, req, e);
    if (st)
        return st;
    hilda_device_read_identity(b->d);
    hj_set(reply, "device", json_devinfo(&b->d->info));
    return HILDA_OK;
}

static enum hilda_status s_wait(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e)
{
    const char *mode;
    unsigned long long wait;
    if (!hilda_field_str(req, "mode", &mode, e) || !hilda_field_uint(req, "wait_ms", 3600000, 5000, &wait, e))
        return HILDA_ERR_USAGE;
    if (mode && strcmp(mode, "app") != 0 && strcmp(mode, "bootloader") != 0)
        return hilda_fail(e, HILDA_ERR_USAGE, "\"mode\" is \"app\" or \"bootloader\"");
    drop_device(b);
    enum hilda_status st = cli_context(b->c, e);
    if (st)
        return st;
    struct hilda_selector sel = b->sel;
    if (mode && strcmp(mode, "bootloader") == 0) {
        sel.has_vidpid = false;
        sel.modes = HILDA_MODE_BOOTLOADER;
    }
    struct hilda_device *d;
    if ((st = hilda_open(b->c->ctx, &sel, (unsigned)wait, &d, e)))
        return st;
    d->timeout_ms = b->c->timeout_ms;
    hilda_device_read_identity(d);
    hj_set(reply, "device", json_devinfo(&d->info));
    if (d->info.mode == HILDA_MODE_BOOTLOADER)
        hilda_close(d);   /* nothing of the vendor protocol there */
    else
        b->d = d;
    return HILDA_OK;
}

static enum hilda_status s_quit(struct batch *b, const json_t *req, json_t *reply, struct hilda_error *e)
{
    (void)req, (void)reply, (void)e;
    b->quit = true;
    return HILDA_OK;
}

static const struct {
    const char *name;
    session_fn fn;
} session[] = {
    { "hello", s_hello }, { "open", s_open }, { "close", s_close }, { "info", s_info }, { "wait", s_wait },
    { "quit", s_quit },
};

/* The usage text; its list of request names comes from the session table
 * and the registry, so a new command shows up without an edit here. */
struct text {
    char *buf;
    size_t cap, n, col;
};

/* Appends " name", wrapped at 100 columns */
static void add_name(struct text *t, const char *name)
{
    size_t w = strlen(name);
    bool wrap = t->col + 1 + w > 100;
    if (t->n < t->cap)
        t->n += (size_t)snprintf(t->buf + t->n, t->cap - t->n, "%s%s", wrap ? "\n" : " ", name);
    t->col = wrap ? w : t->col + 1 + w;
}

static const char *usage(void)
{
    static char buf[2048];
    if (buf[0])
        return buf;
    struct text t = { buf, sizeof buf - 256, 0, 9 };
    t.n = (size_t)snprintf(buf, sizeof buf, "%s",
        "usage: hilda batch [options]\n\n"
        "Reads one JSON request object per line on stdin and writes one JSON reply object per line on\n"
        "stdout, so one long-lived process serves a whole test session. The first line out is\n"
        "{\"event\":\"ready\",...}. Requests: {\"id\":ID,\"cmd\":NAME,...}; replies: {\"id\":ID,\"ok\":true,...}\n"
        "or {\"id\":ID,\"ok\":false,\"error\":NAME,\"message\":SENTENCE}, NAME as in the exit code table.\n"
        "Commands:");
    for (size_t i = 0; i < sizeof session / sizeof session[0]; i++)
        add_name(&t, session[i].name);
    for (const struct cmd *const *k = hilda_commands; *k; k++)
        for (const struct cmd_json *j = (*k)->json; j && j->name; j++)
            add_name(&t, j->name);
    snprintf(buf + t.n, sizeof buf - t.n, "%s",
        ".\nThe selection options choose the device the first device command opens. docs/host.md lists\n"
        "every command with its fields. Exit 0 at end of input or quit.\n");
    return buf;
}

/* ---- the registry's commands ---- */

struct batch_front {
    struct batch *b;
    const json_t *req;
};

static enum hilda_status open_for_command(struct cmd_io *io, bool vendor, struct hilda_error *e)
{
    (void)vendor;   /* the session's device is whatever the session selected */
    const struct batch_front *f = io->front;
    enum hilda_status st = need_device(f->b, f->req, e);
    io->d = f->b->d;
    return st;
}

static enum hilda_status run_command(struct batch *b, struct batch_request *r, json_t *reply, bool *partial,
                                     struct hilda_error *e)
{
    struct batch_front f = { b, r->req };
    struct cmd_io io = { .c = b->c, .d = b->d, .reply = reply, .open = open_for_command, .front = &f };
    enum hilda_status st = r->cmd->run(&io, r->args, e);
    b->d = io.d;   /* the run may have closed or replaced it (reset) */
    *partial = io.partial;
    for (const char *const *k = r->cmd->batch_omits; k && *k; k++)
        json_object_del(reply, *k);
    return st;
}

/* ---- the protocol ---- */

/* The request's id as it came (a number as numbers print, a string); null for anything else */
static json_t *reply_id(const json_t *id)
{
    if (json_is_real(id))
        return hj_real(json_real_value(id));
    return json_is_integer(id) || json_is_string(id) ? json_copy((json_t *)id) : json_null();
}

static json_t *reply_error(const json_t *id, const char *cmd, const struct hilda_error *e)
{
    json_t *r = json_object();
    hj_set(r, "id", reply_id(id));
    hj_set_bool(r, "ok", false);
    if (cmd)
        hj_set_str(r, "cmd", cmd);
    hj_set_str(r, "error", hilda_status_name(e->status));
    hj_set_str(r, "message", e->message);
    return r;
}

bool batch_request_parse(const char *line, size_t len, struct batch_request *r, struct hilda_error *e)
{
    memset(r, 0, sizeof *r);
    r->session = -1;
    char err[160];
    r->req = hilda_json_parse(line, len, err, sizeof err);
    if (!json_is_object(r->req)) {
        hilda_fail(e, HILDA_ERR_USAGE, "a request is one JSON object per line: %s", r->req ? "not an object" : err);
        json_decref(r->req);
        r->req = NULL;
        return false;
    }
    r->id = json_object_get(r->req, "id");
    if (!hilda_field_str(r->req, "cmd", &r->name, e) || !r->name) {
        if (!e->status)
            hilda_fail(e, HILDA_ERR_USAGE, "the request has no \"cmd\"");
        return false;
    }
    for (size_t i = 0; i < sizeof session / sizeof session[0]; i++)
        if (strcmp(session[i].name, r->name) == 0) {
            r->session = (int)i;
            return true;   /* it reads its fields itself */
        }
    const struct cmd_json *how = NULL;
    for (const struct cmd *const *k = hilda_commands; *k && !how; k++)
        for (const struct cmd_json *j = (*k)->json; j && j->name && !how; j++)
            if (strcmp(j->name, r->name) == 0) {
                r->cmd = *k;
                how = j;
            }
    if (!how) {
        hilda_fail(e, HILDA_ERR_USAGE, "unknown cmd \"%.60s\" (hilda batch --help lists them)", r->name);
        return false;
    }
    if (!(r->args = calloc(1, r->cmd->args_size ? r->cmd->args_size : 1))) {
        hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
        return false;
    }
    return how->parse(r->req, r->args, e);
}

void batch_request_free(struct batch_request *r)
{
    if (r->args && r->cmd->free_args)
        r->cmd->free_args(r->args);
    free(r->args);
    json_decref(r->req);
    memset(r, 0, sizeof *r);
}

static json_t *handle_line(struct batch *b, const char *line, size_t len)
{
    struct hilda_error e;
    hilda_error_clear(&e);
    struct batch_request r;
    json_t *reply;
    if (!batch_request_parse(line, len, &r, &e)) {
        reply = reply_error(r.id, r.name, &e);
        batch_request_free(&r);
        return reply;
    }
    reply = json_object();
    hj_set(reply, "id", reply_id(r.id));
    hj_set_bool(reply, "ok", true);
    hj_set_str(reply, "cmd", r.name);
    hilda_interrupted = 0;
    bool partial = false;
    enum hilda_status st = r.session >= 0 ? session[r.session].fn(b, r.req, reply, &e)
                                          : run_command(b, &r, reply, &partial, &e);
    after(b, st);
    if (st) {
        if (!e.status)
            hilda_fail(&e, st, "%s failed", r.name);
        json_t *error = reply_error(r.id, r.name, &e);
        if (partial)   /* what the command got before it stopped rides on the error reply */
            json_object_update_missing(error, reply);
        json_decref(reply);
        reply = error;
    }
    batch_request_free(&r);
    return reply;
}

int cmd_batch(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { 0, 0, 0, 0 } };
    int o, quit_rc;
    while ((o = cli_getopt(c, argc, argv, CLI_COMMON_SHORT, opts, usage(), &quit_rc)) != -1) {
        if (o == CLI_OPT_QUIT)
            return quit_rc;
        return cli_unknown_option(c, argv);
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    struct batch b = { .c = c, .sel = c->sel };
    if (c->sel.serial) {
        snprintf(b.serial, sizeof b.serial, "%s", c->sel.serial);
        b.sel.serial = b.serial;
    }
    if (c->sel.path) {
        snprintf(b.path, sizeof b.path, "%s", c->sel.path);
        b.sel.path = b.path;
    }
    json_t *ready = json_object();
    hj_set_str(ready, "event", "ready");
    hj_set_str(ready, "protocol", BATCH_PROTOCOL);
    hj_set_str(ready, "version", HILDA_CLI_VERSION);
    hj_print(ready, stdout);
    json_decref(ready);

    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!b.quit) {
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
            if (errno == EINTR && !hilda_interrupted)
                continue;
            if (hilda_interrupted)
                rc = hilda_status_exit_code(HILDA_ERR_INTERRUPTED);
            break;   /* end of input */
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        json_t *reply;
        if ((size_t)n > LINE_MAX_BYTES) {
            struct hilda_error e;
            hilda_fail(&e, HILDA_ERR_USAGE, "the line is longer than %u bytes", LINE_MAX_BYTES);
            reply = reply_error(NULL, NULL, &e);
        } else {
            reply = handle_line(&b, line, (size_t)n);
        }
        bool written = hj_print(reply, stdout);
        json_decref(reply);
        if (!written) {
            rc = hilda_status_exit_code(HILDA_ERR_IO);   /* the reader went away */
            break;
        }
    }
    free(line);
    drop_device(&b);
    return rc;
}
