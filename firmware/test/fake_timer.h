/* Test double for timer.h: records what the code under test asked for and
 * lets the test decide when a timeout fires. */
#ifndef HILDA_FAKE_TIMER_H
#define HILDA_FAKE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "timer.h"

struct fake_timer_slot {
    bool running;
    uint32_t microseconds;          /* period of the last timer_start */
    void (*callback)(void);
    unsigned starts, cancels;       /* calls since fake_timer_reset */
};

extern struct fake_timer_slot fake_timers[TIMER_SLOT_COUNT];

/* Called from timer_cancel, after the slot stopped: lets a test act at that
 * exact point of the code under test. NULL: nothing. */
extern void (*fake_timer_on_cancel)(enum timer_slot slot);

void fake_timer_reset(void);
/* Runs the slot's callback as the TIMER0 interrupt would (the slot stops
 * first, as a one-shot does). False if the slot was not running. */
bool fake_timer_fire(enum timer_slot slot);

#endif
