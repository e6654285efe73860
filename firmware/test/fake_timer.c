/* Fake timer.h for host tests: nothing runs by itself; the test fires. */
#include "fake_timer.h"

#include <string.h>

struct fake_timer_slot fake_timers[TIMER_SLOT_COUNT];
void (*fake_timer_on_cancel)(enum timer_slot slot);

void fake_timer_reset(void)
{
    memset(fake_timers, 0, sizeof fake_timers);
    fake_timer_on_cancel = NULL;
}

void timer_init(void)
{
    fake_timer_reset();
}

void timer_start(enum timer_slot slot, uint32_t microseconds, void (*callback)(void))
{
    struct fake_timer_slot *t = &fake_timers[slot];
    t->running = true;
    t->microseconds = microseconds;
    t->callback = callback;
    t->starts++;
}

void timer_cancel(enum timer_slot slot)
{
    fake_timers[slot].running = false;
    fake_timers[slot].cancels++;
    if (fake_timer_on_cancel)
        fake_timer_on_cancel(slot);
}

bool fake_timer_fire(enum timer_slot slot)
{
    struct fake_timer_slot *t = &fake_timers[slot];
    if (!t->running || t->callback == NULL)
        return false;
    t->running = false;
    t->callback();
    return true;
}

/* Fires every running slot once, as a TIMER0 interrupt that found them all
 * due would. */
void timer_irq(void)
{
    for (int s = 0; s < TIMER_SLOT_COUNT; s++)
        (void)fake_timer_fire((enum timer_slot)s);
}
