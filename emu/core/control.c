#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "json.h"
#include "nrf52840.h"
#include "sanitizer.h"
#include "soc_impl.h"
#include "usbd.h"

#define MAX_CLIENTS 8
#define LINE_MAX 4096

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

/* The dongle's LEDs (reference §6.1): board wiring, all active low. */
static const struct {
    const char *name;
    unsigned port, pin;
} dongle_leds[] = {
    { "ld1_green", 0, 6 },
    { "ld2_red", 0, 8 },
    { "ld2_green", 1, 9 },
    { "ld2_blue", 0, 12 },
};
#define DONGLE_BUTTON_PORT 1   /* SW1: P1.06, active low */
#define DONGLE_BUTTON_PIN 6

static bool led_lit(const struct control *c, unsigned port, unsigned pin)
{
    uint32_t bit = 1u << pin;
    return (nrf52840_gpio_dir(c->t.chip, port) & bit) && !(nrf52840_gpio_out(c->t.chip, port) & bit);
}

static void reply_error(struct json_writer *w, const char *msg)
{
    json_begin(w);
    json_add_bool(w, "ok", false);
    json_add_string(w, "error", msg);
}

static void cmd_counters(struct control *c, struct json_writer *w)
{
    struct machine_stats st;
    machine_stats(c->t.machine, &st);
    json_add_u64(w, "instructions", st.instructions);
    json_add_u64(w, "interrupts", st.interrupts);
    json_add_u64(w, "sleeps", st.sleeps);
    json_add_u64(w, "dma_transfers", st.dma_transfers);
    json_add_u64(w, "resets", st.resets);
    json_add_u64(w, "cpu_ns", st.cpu_ns);
    json_add_u64(w, "sanitizer_reports", sanitizer_reports(c->t.sanitizer));
    json_add_u64(w, "cycles", soc_now(machine_soc(c->t.machine)));
}

static void cmd_sanitizer(struct control *c, struct json_writer *w)
{
    char list[6144];
    size_t n = 0;
    uint64_t count = sanitizer_reports(c->t.sanitizer);
    list[n++] = '[';
    for (uint64_t i = 0; i < count; i++) {
        const char *text = sanitizer_report(c->t.sanitizer, i);
        if (!text)
            break;
        if (i)
            n += (size_t)snprintf(list + n, sizeof list - n, ", ");
        if (n >= sizeof list - 8)
            break;
        n += json_quote(list + n, sizeof list - n, text);
        if (n >= sizeof list - 8)
            break;
    }
    if (n > sizeof list - 2)
        n = sizeof list - 2;
    list[n++] = ']';
    list[n] = 0;
    json_add_u64(w, "count", count);
    json_add_raw(w, "reports", list);
}

void control_execute(struct control *c, const char *request, char *reply, size_t cap)
{
    struct json_object req;
    struct json_writer *w = malloc(sizeof *w);
    char err[128];
    if (!w) {
        snprintf(reply, cap, "{\"ok\": false, \"error\": \"out of memory\"}\n");
        return;
    }
    const struct json_field *cmd = NULL;
    if (json_parse_object(request, &req, err, sizeof err) != 0) {
        reply_error(w, err);
        goto done;
    }
    cmd = json_find(&req, "cmd", JSON_STRING);
    if (!cmd) {
        reply_error(w, "the request needs a \"cmd\" string");
        goto done;
    }
    json_begin(w);
    json_add_bool(w, "ok", true);
    const char *name = cmd->str;
    if (strcmp(name, "ping") == 0) {
    } else if (strcmp(name, "info") == 0) {
        json_add_string(w, "firmware", c->t.firmware ? c->t.firmware : "");
        json_add_string(w, "uart0", nrf52840_uart_path(c->t.chip, 0));
        json_add_string(w, "uart1", nrf52840_uart_path(c->t.chip, 1));
    } else if (strcmp(name, "time") == 0) {
        vtime_t now = soc_now(machine_soc(c->t.machine));
        json_add_u64(w, "cycles", now);
        json_add_u64(w, "ns", now * 1000 / SOC_CYCLES_PER_US);
    } else if (strcmp(name, "counters") == 0) {
        cmd_counters(c, w);
    } else if (strcmp(name, "sanitizer") == 0) {
        cmd_sanitizer(c, w);
    } else if (strcmp(name, "gpio") == 0) {
        for (unsigned port = 0; port < 2; port++) {
            char key[16];
            snprintf(key, sizeof key, "p%u_out", port);
            json_add_u64(w, key, nrf52840_gpio_out(c->t.chip, port));
            snprintf(key, sizeof key, "p%u_dir", port);
            json_add_u64(w, key, nrf52840_gpio_dir(c->t.chip, port));
        }
    } else if (strcmp(name, "leds") == 0) {
        for (unsigned i = 0; i < sizeof dongle_leds / sizeof dongle_leds[0]; i++)
            json_add_bool(w, dongle_leds[i].name, led_lit(c, dongle_leds[i].port, dongle_leds[i].pin));
    } else if (strcmp(name, "button") == 0) {
        const struct json_field *pressed = json_find(&req, "pressed", JSON_BOOL);
        if (!pressed) {
            reply_error(w, "button needs \"pressed\": true or false");
            goto done;
        }
        nrf52840_gpio_drive(c->t.chip, DONGLE_BUTTON_PORT, DONGLE_BUTTON_PIN, !pressed->boolean);
    } else if (strcmp(name, "reset") == 0) {
        machine_reset(c->t.machine, RESET_SYSTEM);
    } else if (strcmp(name, "power") == 0) {
        const struct json_field *on = json_find(&req, "on", JSON_BOOL);
        if (!on) {
            reply_error(w, "power needs \"on\": true or false");
            goto done;
        }
        machine_power(c->t.machine, on->boolean);
    } else if (strcmp(name, "usb") == 0) {
        /* bus signalling from the host side: suspend (bus idle) and resume */
        const struct json_field *state = json_find(&req, "state", JSON_STRING);
        struct periph *usbd = nrf52840_usbd(c->t.chip);
        if (!state || (strcmp(state->str, "suspend") && strcmp(state->str, "resume"))) {
            reply_error(w, "usb needs \"state\": \"suspend\" or \"resume\"");
            goto done;
        }
        if (!usbd_host_connected(usbd)) {
            reply_error(w, "the dongle is not connected to the bus (pull-up off)");
            goto done;
        }
        if (strcmp(state->str, "suspend") == 0)
            usbd_host_suspend(usbd);
        else
            usbd_host_resume(usbd);
    } else if (strcmp(name, "quit") == 0) {
        c->quit = true;
        machine_request_stop(c->t.machine);
    } else {
        char msg[JSON_MAX_STRING + 64];
        snprintf(msg, sizeof msg, "unknown command \"%s\" (see docs/emulator.md)", name);
        reply_error(w, msg);
    }
done:
    snprintf(reply, cap, "%s", json_end(w));
    free(w);
}

static void drop_client(struct client *cl)
{
    soc_unwatch_fd(machine_soc(cl->c->t.machine), cl->fd);
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
    soc_watch_fd(machine_soc(c->t.machine), c->listen_fd, listener_ready, c);
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
    soc_unwatch_fd(machine_soc(c->t.machine), c->listen_fd);
    close(c->listen_fd);
    unlink(c->path);
    free(c);
}

bool control_quit_requested(const struct control *c)
{
    return c && c->quit;
}
