/* TIMER0..4, Product Specification, TIMER: timer mode at 16 MHz /
 * 2^PRESCALER, counter
 * mode (COUNT task), BITMODE 16/8/24/32, CAPTURE, COMPARE events and the
 * COMPAREn_CLEAR / COMPAREn_STOP shorts.
 *
 * In timer mode the counter is computed from virtual time: one tick is
 * 4 << PRESCALER cycles of the 64 MHz core clock, and while running
 * COUNTER = c0 + (now - t0) / tick. Each CC channel has one scheduled event
 * for the exact cycle its compare happens; anything that changes the
 * counter, its rate or a CC reschedules them.
 *
 * Readings of the facts (documented choices):
 * - COMPARE[n] fires when the counter steps to CC[n] (masked to BITMODE).
 *   A CC written equal to the current count fires after a full wrap.
 * - With COMPAREn_CLEAR the counter reads 0 from the tick on which it
 *   reached CC, so CC = N gives a period of N ticks.
 * - Channels whose CC matches on the same tick all fire before any short
 *   acts, like the silicon's parallel comparators.
 * - CLEAR also restarts the prescaler (the next tick is a full tick away).
 * - PRESCALER above 9 counts as 9 (16 MHz / 512) and is reported once.
 *   PRESCALER, BITMODE and MODE written while running take effect at once.
 * - SHUTDOWN (deprecated) acts as STOP. COUNT only counts in counter mode
 *   (MODE 1 or 2) and while started.
 *
 * Differs from silicon: no PPI (events trigger nothing). Pending: PPI. */
#include <stdio.h>
#include <stdlib.h>

#include "models.h"

#define TASKS_START    0x000u
#define TASKS_STOP     0x004u
#define TASKS_COUNT    0x008u
#define TASKS_CLEAR    0x00Cu
#define TASKS_SHUTDOWN 0x010u
#define TASKS_CAPTURE(n) (0x040u + 4u * (n))
#define EVENTS_COMPARE(n) (0x140u + 4u * (n))
#define MODE           0x504u
#define BITMODE        0x508u
#define PRESCALER      0x510u
#define CC(n)          (0x540u + 4u * (n))

#define SHORT_CLEAR(n) (1u << (n))
#define SHORT_STOP(n)  (1u << (8 + (n)))
#define MODE_TIMER 0u
#define MAX_CC 6u
#define MAX_PRESCALER 9u

static const struct {
    uint32_t base;
    unsigned irq, ncc;
} instances[] = {
    { 0x40008000u, 8, 4 },
    { 0x40009000u, 9, 4 },
    { 0x4000A000u, 10, 4 },
    { 0x4001A000u, 26, 6 },
    { 0x4001B000u, 27, 6 },
};

struct timer;

struct channel {
    struct timer *t;
    unsigned n;
    struct sched_event match;
};

struct timer {
    struct periph p;
    struct nrf_events ev;
    char name[8];
    unsigned ncc;
    uint32_t mode, bitmode, prescaler, cc[MAX_CC];
    bool running;
    vtime_t t0;          /* timer mode, running: when the counter was c0 (a tick boundary) */
    uint32_t c0;
    struct channel ch[MAX_CC];
    bool reported_prescaler;
};

static uint32_t mask(const struct timer *t)
{
    static const uint32_t masks[4] = { 0xFFFFu, 0xFFu, 0xFFFFFFu, 0xFFFFFFFFu };
    return masks[t->bitmode & 3u];
}

static vtime_t tick_cycles(const struct timer *t)
{
    return (vtime_t)4u << t->prescaler;
}

static bool counting_time(const struct timer *t)
{
    return t->running && t->mode == MODE_TIMER;
}

static uint64_t ticks_now(const struct timer *t)
{
    return (soc_now(t->p.soc) - t->t0) / tick_cycles(t);
}

static uint32_t counter_now(const struct timer *t)
{
    if (!counting_time(t))
        return t->c0 & mask(t);
    return (uint32_t)((t->c0 + ticks_now(t)) & mask(t));
}

/* Freeze the current count into c0 and restart the tick phase now. */
static void rebase(struct timer *t)
{
    t->c0 = counter_now(t);
    t->t0 = soc_now(t->p.soc);
}

static void schedule_channel(struct timer *t, unsigned n)
{
    struct sched_event *ev = &t->ch[n].match;
    if (!counting_time(t)) {
        soc_cancel(t->p.soc, ev);
        return;
    }
    uint64_t k = ticks_now(t);
    uint64_t d = (uint64_t)((t->cc[n] - (uint32_t)(t->c0 + k)) & mask(t));
    if (d == 0)
        d = (uint64_t)mask(t) + 1u;
    vtime_t when = t->t0 + (k + d) * tick_cycles(t);
    soc_schedule(t->p.soc, ev, when - soc_now(t->p.soc));
}

static void reschedule(struct timer *t)
{
    for (unsigned n = 0; n < t->ncc; n++)
        schedule_channel(t, n);
}

static void set_counter(struct timer *t, uint32_t value)
{
    t->c0 = value & mask(t);
    t->t0 = soc_now(t->p.soc);
}

/* The counter just stepped to `count`: every channel at that value fires,
 * then the shorts of those channels act. */
static void compare(struct timer *t, uint32_t count)
{
    uint32_t matched = 0;
    for (unsigned n = 0; n < t->ncc; n++) {
        if ((t->cc[n] & mask(t)) == count) {
            matched |= 1u << n;
            soc_cancel(t->p.soc, &t->ch[n].match);
            nrf_events_raise(&t->ev, EVENTS_COMPARE(n));
        }
    }
    for (unsigned n = 0; n < t->ncc; n++) {
        if (!(matched & (1u << n)))
            continue;
        if (t->ev.shorts & SHORT_CLEAR(n))
            set_counter(t, 0);
        if ((t->ev.shorts & SHORT_STOP(n)) && t->running) {
            rebase(t);
            t->running = false;
        }
    }
    reschedule(t);
}

static void match_fired(struct soc *soc, void *ctx)
{
    (void)soc;
    struct channel *ch = ctx;
    compare(ch->t, counter_now(ch->t));
}

static void task(struct timer *t, uint32_t offset)
{
    if (offset >= TASKS_CAPTURE(0) && offset < TASKS_CAPTURE(t->ncc)) {
        unsigned n = (offset - TASKS_CAPTURE(0)) / 4u;
        t->cc[n] = counter_now(t);
        schedule_channel(t, n);
        return;
    }
    switch (offset) {
    case TASKS_START:
        if (!t->running) {
            t->running = true;
            t->t0 = soc_now(t->p.soc);
        }
        break;
    case TASKS_STOP:
    case TASKS_SHUTDOWN:
        if (t->running) {
            rebase(t);
            t->running = false;
        }
        break;
    case TASKS_CLEAR:
        set_counter(t, 0);
        break;
    case TASKS_COUNT:
        if (t->running && t->mode != MODE_TIMER) {
            t->c0 = (t->c0 + 1u) & mask(t);
            compare(t, t->c0);
        }
        return;
    }
    reschedule(t);
}

static bool is_task(const struct timer *t, uint32_t offset)
{
    return offset <= TASKS_SHUTDOWN || (offset >= TASKS_CAPTURE(0) && offset < TASKS_CAPTURE(t->ncc));
}

static uint32_t timer_read(struct periph *p, uint32_t offset)
{
    struct timer *t = p->state;
    uint32_t v;
    if (nrf_events_read(&t->ev, offset, &v))
        return v;
    if (is_task(t, offset))
        return 0;
    if (offset >= CC(0) && offset < CC(t->ncc))
        return t->cc[(offset - CC(0)) / 4u];
    switch (offset) {
    case MODE: return t->mode;
    case BITMODE: return t->bitmode;
    case PRESCALER: return t->prescaler;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void timer_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct timer *t = p->state;
    if (nrf_events_write(&t->ev, offset, value))
        return;
    if (is_task(t, offset)) {
        if ((value & 1u) && (offset & 3u) == 0)
            task(t, offset);
        return;
    }
    if (offset >= CC(0) && offset < CC(t->ncc)) {
        unsigned n = (offset - CC(0)) / 4u;
        t->cc[n] = value;
        schedule_channel(t, n);
        return;
    }
    switch (offset) {
    case MODE:
        rebase(t);
        t->mode = value & 3u;
        break;
    case BITMODE:
        rebase(t);
        t->bitmode = value & 3u;
        t->c0 &= mask(t);
        break;
    case PRESCALER:
        rebase(t);
        t->prescaler = value & 0xFu;
        if (t->prescaler > MAX_PRESCALER) {
            if (!t->reported_prescaler) {
                t->reported_prescaler = true;
                soc_log(p->soc, "emu: %s PRESCALER %u is above 9: counts as 9\n", t->name, t->prescaler);
            }
            t->prescaler = MAX_PRESCALER;
        }
        break;
    default:
        soc_unmodelled(p->soc, p, offset, true);
        return;
    }
    reschedule(t);
}

static void timer_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct timer *t = p->state;
    nrf_events_reset(&t->ev);
    t->mode = 0;
    t->bitmode = 0;
    t->prescaler = 4;
    t->running = false;
    t->t0 = 0;
    t->c0 = 0;
    for (unsigned n = 0; n < MAX_CC; n++)
        t->cc[n] = 0;
    reschedule(t);
}

struct periph *timer_new(struct soc *soc, unsigned instance)
{
    if (instance >= sizeof instances / sizeof instances[0])
        return NULL;
    struct timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    snprintf(t->name, sizeof t->name, "TIMER%u", instance);
    t->p = (struct periph){
        .name = t->name,
        .base = instances[instance].base,
        .size = 0x1000,
        .read = timer_read,
        .write = timer_write,
        .reset = timer_reset,
        .state = t,
    };
    t->ncc = instances[instance].ncc;
    for (unsigned n = 0; n < MAX_CC; n++) {
        t->ch[n].t = t;
        t->ch[n].n = n;
        t->ch[n].match = (struct sched_event){ .name = "TIMER compare", .fire = match_fired, .ctx = &t->ch[n] };
    }
    soc_add_periph(soc, &t->p);
    nrf_events_init(&t->ev, &t->p, (int)instances[instance].irq);
    timer_reset(&t->p, RESET_POWER_ON);
    return &t->p;
}

void timer_free(struct periph *timer)
{
    if (timer)
        free(timer->state);
}
