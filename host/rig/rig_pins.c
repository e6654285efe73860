/* The rig's pin logic: states sent through the ops (rig_pins.h says which). */
#include "rig_pins.h"

#include "clock.h"

static bool wait_ms(const struct hilda_rig_ops *ops, unsigned ms)
{
    return ops->sleep_ms ? ops->sleep_ms(ops->ctx, ms) : hilda_sleep_ms(ms);
}

/* Sends a new state. The latch goes first, so a pin that becomes an output
 * starts at its new level; the reset pin's latch bit is cleared in every
 * state, so it can only ever drive 0. */
static enum hilda_status apply(struct hilda_rig_pins *p, uint8_t direction, uint8_t latch, struct hilda_error *e)
{
    const uint8_t reset = (uint8_t)(1u << p->rig.reset_pin), power = (uint8_t)(1u << p->rig.power_pin);
    direction &= reset | power;          /* every other pin stays an input */
    latch &= (uint8_t)~reset;
    enum hilda_status st;
    if (latch != p->latch && (st = p->ops->write_latch(p->ops->ctx, latch, e)))
        return st;
    p->latch = latch;
    if (direction != p->direction && (st = p->ops->set_direction(p->ops->ctx, direction, e)))
        return st;
    p->direction = direction;
    return HILDA_OK;
}

enum hilda_status hilda_rig_pins_start(struct hilda_rig_pins *p, const struct hilda_rig_ops *ops,
                                       const struct hilda_rig *rig, struct hilda_error *e)
{
    *p = (struct hilda_rig_pins){ .ops = ops, .rig = *rig };
    const uint8_t power = (uint8_t)(1u << rig->power_pin);
    uint8_t levels;
    enum hilda_status st = ops->read_pins(ops->ctx, &levels, e);
    if (st)
        return st;
    /* Bitbang mode with the power pin driven at the level it reads, and
     * reset and the other pins inputs, without moving the power line on
     * the way. The latch cannot be written before bitbang mode (in UART
     * mode the byte would go out on TXD), and its old value is unknown:
     * - the pin reads high: it is an input pulled high (a fresh adapter:
     *   the load switch's pull-up) or driven high by an earlier run. All
     *   inputs first, then the latch, then the pin an output: high all along.
     * - the pin reads low: an earlier run drove it low, so the adapter is
     *   still in bitbang mode with that latch bit 0 (a fresh adapter's latch
     *   is 0 too): the pin an output at once keeps it low, then the latch. */
    uint8_t latch = levels & power;
    if (latch)
        st = ops->set_direction(ops->ctx, 0, e);
    if (!st)
        st = latch ? ops->write_latch(ops->ctx, latch, e) : ops->set_direction(ops->ctx, power, e);
    if (!st)
        st = latch ? ops->set_direction(ops->ctx, power, e) : ops->write_latch(ops->ctx, latch, e);
    if (st)
        return st;
    p->direction = power;
    p->latch = latch;
    p->started = true;
    return HILDA_OK;
}

enum hilda_status hilda_rig_reset(struct hilda_rig_pins *p, unsigned ms, struct hilda_error *e)
{
    const uint8_t reset = (uint8_t)(1u << p->rig.reset_pin);
    enum hilda_status st = apply(p, p->direction | reset, p->latch & (uint8_t)~reset, e);
    if (st)
        return st;
    bool slept = wait_ms(p->ops, ms ? ms : p->rig.reset_ms);
    /* released even when interrupted: the dongle must not be left in reset */
    st = apply(p, p->direction & (uint8_t)~reset, p->latch, e);
    if (!st && !slept)
        return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted during the reset pulse (the line is released)");
    return st;
}

enum hilda_status hilda_rig_power(struct hilda_rig_pins *p, bool on, struct hilda_error *e)
{
    const uint8_t power = (uint8_t)(1u << p->rig.power_pin);
    bool high = on == p->rig.power_active_high;
    return apply(p, p->direction | power, high ? (p->latch | power) : (p->latch & (uint8_t)~power), e);
}

enum hilda_status hilda_rig_power_cycle(struct hilda_rig_pins *p, unsigned off_ms, struct hilda_error *e)
{
    enum hilda_status st = hilda_rig_power(p, false, e);
    if (st)
        return st;
    bool slept = wait_ms(p->ops, off_ms ? off_ms : p->rig.power_off_ms);
    /* back on even when interrupted: a cycle ends with the dongle powered */
    st = hilda_rig_power(p, true, e);
    if (!st && !slept)
        return hilda_fail(e, HILDA_ERR_INTERRUPTED, "interrupted during the power cycle (the power is back on)");
    return st;
}

enum hilda_status hilda_rig_read(struct hilda_rig_pins *p, struct hilda_rig_reading *out, struct hilda_error *e)
{
    uint8_t levels;
    enum hilda_status st = p->ops->read_pins(p->ops->ctx, &levels, e);
    if (st)
        return st;
    bool power_high = (levels >> p->rig.power_pin) & 1u;
    *out = (struct hilda_rig_reading){ .levels = levels, .direction = p->direction,
                                       .reset_asserted = !((levels >> p->rig.reset_pin) & 1u),
                                       .power_on = power_high == p->rig.power_active_high };
    return HILDA_OK;
}
