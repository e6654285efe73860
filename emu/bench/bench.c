/* The virtual bench (bench.h): the FT232R's pins to the dongle's reset pin
 * and VBUS switch, the adapter on the bridge, the rig description. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ft232r.h"
#include "soc.h"

#define RESET_MS 50                    /* the contract's defaults, for hilda rig */
#define POWER_OFF_MS 500

struct bench {
    struct dongle *board;
    struct soc *soc;
    struct ft232r *ftdi;
    struct bridge_model model;
    struct sched_event wiring_ev;
    uint8_t levels, outputs;           /* the adapter's pins, last seen */
    char rig_path[4096];
};

/* D0 asserted only while driven low; D1 off only while driven low (the
 * load switch's enable is active high with a pull-up). */
static void apply_wiring(struct soc *soc, void *ctx)
{
    struct bench *b = ctx;
    (void)soc;
    uint8_t reset_bit = 1u << BENCH_RESET_PIN, power_bit = 1u << BENCH_POWER_PIN;
    bool reset = (b->outputs & reset_bit) && !(b->levels & reset_bit);
    bool power = !((b->outputs & power_bit) && !(b->levels & power_bit));
    if (power != dongle_powered(b->board)) {
        soc_log(b->soc, "bench: D1 %s: the dongle's VBUS switch %s\n", power ? "high" : "low", power ? "on" : "off");
        dongle_power(b->board, power);
    }
    if (reset != dongle_reset_held(b->board)) {
        soc_log(b->soc, "bench: D0 %s: the dongle's reset pin %s\n", reset ? "low" : "released",
                reset ? "held" : "let go");
        dongle_reset_hold(b->board, reset);
    }
}

static void pins_changed(void *ctx, uint8_t levels, uint8_t outputs)
{
    struct bench *b = ctx;
    b->levels = levels;
    b->outputs = outputs;
    soc_schedule(b->soc, &b->wiring_ev, 0);
}

static int model_control(void *ctx, const uint8_t setup[8], uint8_t *data)
{
    struct bench *b = ctx;
    return ft232r_control(b->ftdi, setup, data);
}

static int model_bulk(void *ctx, uint8_t ep, uint8_t *data, uint32_t len)
{
    struct bench *b = ctx;
    if (ep == FTDI_EP_IN)
        return ft232r_bulk_in(b->ftdi, data, len);
    if (ep == FTDI_EP_OUT)
        return ft232r_bulk_out(b->ftdi, data, len);
    return -1;
}

static void model_reset(void *ctx)
{
    struct bench *b = ctx;
    ft232r_usb_reset(b->ftdi);
}

static int write_rig(struct bench *b, const char *dir, const char *uart, char *err, size_t errlen)
{
    snprintf(b->rig_path, sizeof b->rig_path, "%s/rig.json", dir);
    json_t *entry = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:i, s:i}, s:{s:i, s:s, s:i}}",
                              "adapter", "serial", BENCH_ADAPTER_SERIAL, "vid", "0403", "pid", "6001", "interface", "A",
                              "reset", "pin", BENCH_RESET_PIN, "ms", RESET_MS,
                              "power", "pin", BENCH_POWER_PIN, "active", "high", "off_ms", POWER_OFF_MS);
    if (entry && uart && *uart)
        json_object_set_new(entry, "uart", json_string(uart));
    json_t *rig = entry ? json_pack("{s:[o]}", "dongles", entry) : NULL;
    int r = rig ? json_dump_file(rig, b->rig_path, JSON_INDENT(2)) : -1;
    json_decref(rig);
    if (r != 0)
        snprintf(err, errlen, "cannot write the rig description %s", b->rig_path);
    return r;
}

struct bench *bench_new(struct dongle *board, struct bridge *bridge, const char *dir, const char *uart, char *err,
                        size_t errlen)
{
    struct bench *b = calloc(1, sizeof *b);
    if (!b || !(b->ftdi = ft232r_new(BENCH_ADAPTER_SERIAL, pins_changed, b))) {
        snprintf(err, errlen, "out of memory");
        free(b);
        return NULL;
    }
    b->board = board;
    b->soc = dongle_soc(board);
    b->wiring_ev = (struct sched_event){ .name = "bench wiring", .fire = apply_wiring, .ctx = b };
    b->levels = ft232r_pin_levels(b->ftdi);
    b->outputs = ft232r_pin_outputs(b->ftdi);
    size_t config_len;
    const uint8_t *config = ft232r_config_descriptor(&config_len);
    b->model = (struct bridge_model){
        .device = ft232r_device_descriptor(), .config = config, .config_len = config_len,
        .manufacturer = ft232r_manufacturer(), .product = ft232r_product(), .serial = ft232r_serial(b->ftdi),
        .control = model_control, .bulk = model_bulk, .reset = model_reset, .ctx = b,
    };
    if (write_rig(b, dir, uart, err, errlen) != 0 || bridge_add_model(bridge, &b->model, err, errlen) != 0) {
        bench_free(b);
        return NULL;
    }
    return b;
}

/* After bridge_free (the bridge calls the model until then). */
void bench_free(struct bench *b)
{
    if (!b)
        return;
    soc_cancel(b->soc, &b->wiring_ev);
    ft232r_free(b->ftdi);
    free(b);
}

const char *bench_rig_path(const struct bench *b)
{
    return b->rig_path;
}
