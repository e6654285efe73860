/* The rig's pin logic, apart from any I/O: what the reset and power lines
 * do, as a sequence of (direction mask, output latch) states sent through
 * an ops struct. The real ops are libftdi1's asynchronous bitbang
 * (rig_adapter.c); the unit tests use a fake that records every state.
 *
 * reset: open drain, active low. Asserted = the pin an output latched 0;
 *        released = the pin an input (Hi-Z). It is NEVER an output latched 1
 *        (the dongle's GPIOs run at 1.8 V, the adapter at 3.3 V): the latch
 *        bit is cleared before the pin becomes an output, and stays 0.
 * power: push-pull, polarity from the description; on = driven to the
 *        active level, off = driven to the other one.
 * every other pin: an input, always.
 * The state is remembered across calls (within one process): each call
 * changes its own pin and sends the whole state again. */
#ifndef HILDA_RIG_PINS_H
#define HILDA_RIG_PINS_H

#include <stdbool.h>
#include <stdint.h>

#include "rig_desc.h"
#include "status.h"

struct hilda_rig_ops {
    /* Bitbang mode with this direction mask (1 = output). */
    enum hilda_status (*set_direction)(void *ctx, uint8_t mask, struct hilda_error *e);
    /* The output latch (a byte written in bitbang mode; inputs ignore it). */
    enum hilda_status (*write_latch)(void *ctx, uint8_t latch, struct hilda_error *e);
    /* The levels on the 8 pins. */
    enum hilda_status (*read_pins)(void *ctx, uint8_t *levels, struct hilda_error *e);
    /* Waits ms; false when interrupted. NULL: hilda_sleep_ms (clock.h). */
    bool (*sleep_ms)(void *ctx, unsigned ms);
    void *ctx;
};

struct hilda_rig_pins {
    const struct hilda_rig_ops *ops;
    struct hilda_rig rig;
    uint8_t direction, latch;
    bool started;           /* bitbang mode set (hilda_rig_pins_start) */
};

/* Takes the adapter into bitbang mode without disturbing the dongle: the
 * power pin keeps the level it has now (a previous `hilda rig power off`
 * left it driven off: it stays off), reset and every other pin are inputs. */
enum hilda_status hilda_rig_pins_start(struct hilda_rig_pins *p, const struct hilda_rig_ops *ops,
                                       const struct hilda_rig *rig, struct hilda_error *e);

/* Reset low for ms (0: the description's), then released. */
enum hilda_status hilda_rig_reset(struct hilda_rig_pins *p, unsigned ms, struct hilda_error *e);
/* Power on or off (the level from the polarity). */
enum hilda_status hilda_rig_power(struct hilda_rig_pins *p, bool on, struct hilda_error *e);
/* Power off for off_ms (0: the description's), then on. */
enum hilda_status hilda_rig_power_cycle(struct hilda_rig_pins *p, unsigned off_ms, struct hilda_error *e);

/* What the 8 pins say: their levels and what is asserted. */
struct hilda_rig_reading {
    uint8_t levels, direction;
    bool reset_asserted;    /* the reset pin reads low */
    bool power_on;          /* the power pin reads its active level */
};
enum hilda_status hilda_rig_read(struct hilda_rig_pins *p, struct hilda_rig_reading *out, struct hilda_error *e);

#endif
