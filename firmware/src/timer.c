/* One-shot timeouts on TIMER0 (§1.5): the counter runs free at 1 MHz in
 * 32-bit mode and each slot owns one compare channel, so slots never disturb
 * each other and no reload arithmetic is needed (wrap-around is harmless:
 * CC = now + delay wraps the same way the counter does). */
#include "timer.h"

#include "board.h"
#include "nrf52840.h"

#define TIMER NRF_TIMER0_BASE
#define PRESCALER_1MHZ 4u     /* 16 MHz / 2^4 */
/* Below this, the counter could pass CC between the capture and the write. */
#define MIN_DELAY_US 20u

static void (*callbacks[TIMER_SLOT_COUNT])(void);

void timer_init(void)
{
    NRF_REG(TIMER, TIMER_TASKS_STOP) = 1;
    NRF_REG(TIMER, TIMER_MODE) = 0;
    NRF_REG(TIMER, TIMER_BITMODE) = TIMER_BITMODE_32;
    NRF_REG(TIMER, TIMER_PRESCALER) = PRESCALER_1MHZ;
    NRF_REG(TIMER, NRF_INTENCLR) = 0xFFFFFFFFu;
    NRF_REG(TIMER, TIMER_TASKS_CLEAR) = 1;
    NRF_REG(TIMER, TIMER_TASKS_START) = 1;
    board_nvic_enable(NRF_IRQ_TIMER0);
}

void timer_start(enum timer_slot slot, uint32_t microseconds, void (*callback)(void))
{
    if (microseconds < MIN_DELAY_US)
        microseconds = MIN_DELAY_US;
    NRF_REG(TIMER, NRF_INTENCLR) = TIMER_INT_COMPARE(slot);
    callbacks[slot] = callback;
    NRF_REG(TIMER, TIMER_TASKS_CAPTURE(slot)) = 1;
    uint32_t now = NRF_REG(TIMER, TIMER_CC(slot));
    NRF_REG(TIMER, TIMER_CC(slot)) = now + microseconds;
    NRF_REG(TIMER, TIMER_EVENTS_COMPARE(slot)) = 0;
    NRF_REG(TIMER, NRF_INTENSET) = TIMER_INT_COMPARE(slot);
}

void timer_cancel(enum timer_slot slot)
{
    NRF_REG(TIMER, NRF_INTENCLR) = TIMER_INT_COMPARE(slot);
    NRF_REG(TIMER, TIMER_EVENTS_COMPARE(slot)) = 0;
    callbacks[slot] = 0;
}

void timer_irq(void)
{
    uint32_t enabled = NRF_REG(TIMER, NRF_INTENSET);
    for (unsigned slot = 0; slot < TIMER_SLOT_COUNT; slot++) {
        if (!(enabled & TIMER_INT_COMPARE(slot)) || !NRF_REG(TIMER, TIMER_EVENTS_COMPARE(slot)))
            continue;
        void (*cb)(void) = callbacks[slot];
        timer_cancel(slot);     /* one-shot; the callback may start it again */
        if (cb)
            cb();
    }
}
