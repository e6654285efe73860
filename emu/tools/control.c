/* The control channel (control.h): JSON lines through jansson. The wire
 * format is fixed (rig/control.py and emu/test/run rely on it): one flat
 * request object per line, one reply object per line with "ok" first and
 * the fields in the order docs/emulator.md lists them. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "dongle.h"
#include "nrf52840.h"
#include "sanitizer.h"
#include "soc.h"
#include "usbd_host.h"

#define MAX_CLIENTS 8
#define LINE_MAX 4096
/* The sanitizer's report texts in one reply: a reply line stays well under
 * the 8 KiB a client's reply buffer holds. */
#define REPORTS_MAX_CHARS 6000

struct client {
    int fd;
    char line[LINE_MAX];
    size_t len;
    struct control *c;
};

struct control {
    struct control_target t;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int listen_fd;
    struct client clients[MAX_CLIENTS];
    bool quit;
};

static struct soc *control_soc(const struct control *c)
{
    return dongle_soc(c->t.board);
}

static struct nrf52840 *control_chip(const struct control *c)
{
    return dongle_chip(c->t.board);
}

/* Replaces whatever the reply held by {"ok": false, "error": msg}. */
static void reply_error(json_t *reply, const char *msg)
{
    json_object_clear(reply);
    json_object_set_new(reply, "ok", json_false());
    json_object_set_new(reply, "error", json_string(msg));
}

static void add_u64(json_t *reply, const char *key, uint64_t value)
{
    json_object_set_new(reply, key, json_integer((json_int_t)value));
}

/* The boolean field key of the request, or -1 if it is missing or not a boolean. */
static int get_bool(const json_t *req, const char *key)
{
    const json_t *v = json_object_get(req, key);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

static void cmd_counters(struct control *c, json_t *reply)
{
    struct machine_stats st;
    machine_stats(dongle_machine(c->t.board), &st);
    add_u64(reply, "instructions", st.instructions);
    add_u64(reply, "interrupts", st.interrupts);
    add_u64(reply, "sleeps", st.sleeps);
    add_u64(reply, "dma_transfers", st.dma_transfers);
    add_u64(reply, "resets", st.resets);
    add_u64(reply, "cpu_ns", st.cpu_ns);
    add_u64(reply, "sanitizer_reports", sanitizer_reports(c->t.sanitizer));
    add_u64(reply, "cycles", soc_now(control_soc(c)));
}

static void cmd_sanitizer(struct control *c, json_t *reply)
{
    uint64_t count = sanitizer_reports(c->t.sanitizer);
    json_t *list = json_array();
    size_t chars = 0;
    for (uint64_t i = 0; i < count; i++) {
        const char *text = sanitizer_report(c->t.sanitizer, i);
        if (!text || (chars += strlen(text) + 4) > REPORTS_MAX_CHARS)
            break;
        json_array_append_new(list, json_string(text));
    }
    add_u64(reply, "count", count);
    json_object_set_new(reply, "reports", list);
}

static void cmd_usb(struct control *c, const json_t *req, json_t *reply)
{
    /* bus signalling from the host side: suspend (bus idle) and resume */
    const char *state = json_string_value(json_object_get(req, "state"));
    struct periph *usbd = nrf52840_usbd(control_chip(c));
    if (!state || (strcmp(state, "suspend") && strcmp(state, "resume"))) {
        reply_error(reply, "usb needs \"state\": \"suspend\" or \"resume\"");
        return;
    }
    if (!usbd_host_connected(usbd)) {
        reply_error(reply, "the dongle is not connected to the bus (pull-up off)");
        return;
    }
    if (strcmp(state, "suspend") == 0)
        usbd_host_suspend(usbd);
    else
        usbd_host_resume(usbd);
}

/* Runs the request on the emulator and fills reply ("ok" is already true). */
static void execute(struct control *c, const json_t *req, const char *name, json_t *reply)
{
    if (strcmp(name, "ping") == 0) {
    } else if (strcmp(name, "info") == 0) {
        /* "firmware": the first image (the only one, usually); "images": all */
        json_t *images = json_array();
        for (unsigned i = 0; c->t.firmware && i < DONGLE_MAX_IMAGES && c->t.firmware[i]; i++)
            json_array_append_new(images, json_string(c->t.firmware[i]));
        json_object_set_new(reply, "firmware", json_string(c->t.firmware && c->t.firmware[0] ? c->t.firmware[0] : ""));
        json_object_set_new(reply, "images", images);
        json_object_set_new(reply, "uart0", json_string(nrf52840_uart_path(control_chip(c), 0)));
        json_object_set_new(reply, "uart1", json_string(nrf52840_uart_path(control_chip(c), 1)));
    } else if (strcmp(name, "time") == 0) {
        vtime_t now = soc_now(control_soc(c));
        add_u64(reply, "cycles", now);
        add_u64(reply, "ns", now * 1000 / SOC_CYCLES_PER_US);
    } else if (strcmp(name, "counters") == 0) {
        cmd_counters(c, reply);
    } else if (strcmp(name, "sanitizer") == 0) {
        cmd_sanitizer(c, reply);
    } else if (strcmp(name, "gpio") == 0) {
        for (unsigned port = 0; port < 2; port++) {
            char key[16];
            snprintf(key, sizeof key, "p%u_out", port);
            add_u64(reply, key, nrf52840_gpio_out(control_chip(c), port));
            snprintf(key, sizeof key, "p%u_dir", port);
            add_u64(reply, key, nrf52840_gpio_dir(control_chip(c), port));
        }
    } else if (strcmp(name, "leds") == 0) {
        for (unsigned i = 0; i < dongle_led_count(); i++)
            json_object_set_new(reply, dongle_led_name(i), json_boolean(dongle_led_lit(c->t.board, i)));
    } else if (strcmp(name, "button") == 0) {
        int pressed = get_bool(req, "pressed");
        if (pressed < 0) {
            reply_error(reply, "button needs \"pressed\": true or false");
            return;
        }
        dongle_button(c->t.board, pressed);
    } else if (strcmp(name, "reset") == 0) {
        dongle_reset_pin(c->t.board);
    } else if (strcmp(name, "power") == 0) {
        int on = get_bool(req, "on");
        if (on < 0) {
            reply_error(reply, "power needs \"on\": true or false");
            return;
        }
        dongle_power(c->t.board, on);
    } else if (strcmp(name, "usb") == 0) {
        cmd_usb(c, req, reply);
    } else if (strcmp(name, "quit") == 0) {
        c->quit = true;
        machine_request_stop(dongle_machine(c->t.board));
    } else {
        char msg[512];
        snprintf(msg, sizeof msg, "unknown command \"%s\" (see docs/emulator.md)", name);
        reply_error(reply, msg);
    }
}

void control_execute(struct control *c, const char *request, char *reply, size_t cap)
{
    json_error_t jerr;
    json_t *out = json_object();
    json_t *req = json_loads(request, JSON_REJECT_DUPLICATES, &jerr);
    if (!out) {
        snprintf(reply, cap, "{\"ok\": false, \"error\": \"out of memory\"}\n");
        json_decref(req);
        return;
    }
    const char *name = NULL;
    if (!req || !json_is_object(req)) {
        reply_error(out, req ? "expected a JSON object" : jerr.text);
    } else if (!(name = json_string_value(json_object_get(req, "cmd")))) {
        reply_error(out, "the request needs a \"cmd\" string");
    } else {
        json_object_set_new(out, "ok", json_true());
        execute(c, req, name, out);
    }
    char *text = json_dumps(out, JSON_PRESERVE_ORDER);
    if (text)
        snprintf(reply, cap, "%s\n", text);
    else
        snprintf(reply, cap, "{\"ok\": false, \"error\": \"out of memory\"}\n");
    free(text);
    json_decref(out);
    json_decref(req);
}

static void drop_client(struct client *cl)
{
    soc_unwatch_fd(control_soc(cl->c), cl->fd);
    close(cl->fd);
    cl->fd = -1;
    cl->len = 0;
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;   /* a client that stopped reading loses its replies */
        s += k;
        n -= (size_t)k;
    }
}

static void client_ready(struct soc *soc, void *ctx)
{
    (void)soc;
    struct client *cl = ctx;
    ssize_t k = read(cl->fd, cl->line + cl->len, sizeof cl->line - 1 - cl->len);
    if (k <= 0) {
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        drop_client(cl);
        return;
    }
    cl->len += (size_t)k;
    char *nl;
    while ((nl = memchr(cl->line, '\n', cl->len))) {
        *nl = 0;
        char reply[8192];
        control_execute(cl->c, cl->line, reply, sizeof reply);
        write_all(cl->fd, reply, strlen(reply));
        size_t used = (size_t)(nl + 1 - cl->line);
        memmove(cl->line, nl + 1, cl->len - used);
        cl->len -= used;
    }
    if (cl->len == sizeof cl->line - 1) {
        const char *msg = "{\"ok\": false, \"error\": \"request line too long\"}\n";
        write_all(cl->fd, msg, strlen(msg));
        drop_client(cl);
    }
}

static void listener_ready(struct soc *soc, void *ctx)
{
    struct control *c = ctx;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct client *cl = &c->clients[i];
        if (cl->fd < 0) {
            cl->fd = fd;
            cl->len = 0;
            soc_watch_fd(soc, fd, client_ready, cl);
            return;
        }
    }
    const char *msg = "{\"ok\": false, \"error\": \"too many control clients\"}\n";
    write_all(fd, msg, strlen(msg));
    close(fd);
}

struct control *control_new(const char *path, const struct control_target *target)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "hilda-emu: control socket path too long: %s\n", path);
        return NULL;
    }
    struct control *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = *target;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        c->clients[i].fd = -1;
        c->clients[i].c = c;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(c->listen_fd, MAX_CLIENTS) != 0) {
        fprintf(stderr, "hilda-emu: cannot listen on %s: %s\n", path, strerror(errno));
        if (c->listen_fd >= 0)
            close(c->listen_fd);
        free(c);
        return NULL;
    }
    soc_watch_fd(control_soc(c), c->listen_fd, listener_ready, c);
    return c;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        if (c->clients[i].fd >= 0)
            drop_client(&c->clients[i]);
    }
    soc_unwatch_fd(control_soc(c), c->listen_fd);
    close(c->listen_fd);
    unlink(c->path);
    free(c);
}

bool control_quit_requested(const struct control *c)
{
    return c && c->quit;
}
