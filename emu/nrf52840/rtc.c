/* RTC0 (3 CC), RTC1 and RTC2 (4 CC each), Product Specification,
 * RTC: a 24-bit COUNTER
 * at 32768 / (PRESCALER + 1) Hz, driven by the LFCLK.
 *
 * The counter is computed from virtual time, never ticked: while it counts,
 * COUNTER = c0 + ticks since t0. One LFCLK period is 64 MHz / 32768 =
 * 1953.125 cycles = 15625/8, so tick k of a count that started at t0 falls
 * at t0 + ceil(k * 15625 * (PRESCALER + 1) / 8): exact, with no drift. The
 * COMPARE, OVRFLW and TICK events are scheduled for the tick they happen on,
 * so nothing runs per tick unless TICK is wanted.
 *
 * Readings of the facts (documented choices):
 * - The RTC counts only while started AND the LFCLK runs (LFCLKSTAT.STATE).
 *   START with the LFCLK neither running nor requested is reported once;
 *   the counter then waits for the clock.
 * - An RTC event is only generated (EVENTS register set) when it is enabled
 *   in EVTEN or INTEN: the RTC asks for the 16 MHz clock that writes the
 *   event register only for enabled events (the reason EVTEN exists).
 * - COMPARE[n] fires when the counter steps to CC[n]: writing the current
 *   COUNTER value to CC fires only after a full wrap (2^24 ticks).
 * - PRESCALER can only be written while the RTC is stopped; a write while
 *   it counts is ignored and reported once.
 * - CLEAR sets COUNTER to 0 without moving the tick phase; TRIGOVRFLW sets
 *   it to 0xFFFFF0.
 *
 * Differs from silicon: no PPI (events trigger nothing), no LFCLK drift.
 * Pending: PPI connections. */
#include <stdio.h>
#include <stdlib.h>

#include "models.h"

#define TASKS_START      0x000u
#define TASKS_STOP       0x004u
#define TASKS_CLEAR      0x008u
#define TASKS_TRIGOVRFLW 0x00Cu
#define EVENTS_TICK      0x100u
#define EVENTS_OVRFLW    0x104u
#define EVENTS_COMPARE(n) (0x140u + 4u * (n))
#define EVTEN            0x340u
#define EVTENSET         0x344u
#define EVTENCLR         0x348u
#define COUNTER          0x504u
#define PRESCALER        0x508u
#define CC(n)            (0x540u + 4u * (n))

#define BIT_TICK    (1u << 0)
#define BIT_OVRFLW  (1u << 1)
#define BIT_COMPARE(n) (1u << (16 + (n)))
#define EVTEN_MASK  0x000F0003u

#define COUNTER_MASK 0x00FFFFFFu
#define WRAP         (COUNTER_MASK + 1ull)
#define MAX_CC 4u

static const struct {
    uint32_t base;
    unsigned irq, ncc;
} instances[] = {
    { 0x4000B000u, 11, 3 },
    { 0x40011000u, 17, 4 },
    { 0x40024000u, 36, 4 },
};

struct rtc {
    struct periph p;
    struct nrf_events ev;
    char name[8];
    struct clock *clock;
    unsigned ncc;
    bool started;            /* START given, no STOP since */
    bool counting;           /* started and the LFCLK runs */
    vtime_t t0;              /* counting: when c0 was the counter, on a tick boundary */
    uint32_t c0;
    uint32_t prescaler, evten, cc[MAX_CC];
    struct sched_event on_compare[MAX_CC], on_tick, on_overflow;
    bool reported_no_lfclk, reported_prescaler;
};

/* cycles per tick, times 8 */
static uint64_t tick8(const struct rtc *r)
{
    return 15625ull * (r->prescaler + 1u);
}

static uint64_t ticks_now(const struct rtc *r)
{
    return (soc_now(r->p.soc) - r->t0) * 8u / tick8(r);
}

static vtime_t tick_time(const struct rtc *r, uint64_t k)
{
    return r->t0 + (k * tick8(r) + 7u) / 8u;
}

static uint32_t counter_now(const struct rtc *r)
{
    if (!r->counting)
        return r->c0;
    return (uint32_t)((r->c0 + ticks_now(r)) & COUNTER_MASK);
}

static bool enabled(const struct rtc *r, uint32_t bit)
{
    return ((r->ev.inten | r->evten) & bit) != 0;
}

/* Schedule ev for the tick on which the counter steps to value (a full wrap
 * if it shows value now), or cancel it. */
static void schedule_at_value(struct rtc *r, struct sched_event *ev, bool wanted, uint32_t value)
{
    if (!wanted || !r->counting) {
        soc_cancel(r->p.soc, ev);
        return;
    }
    uint64_t k = ticks_now(r);
    uint64_t d = (value - (uint32_t)((r->c0 + k) & COUNTER_MASK)) & COUNTER_MASK;
    if (d == 0)
        d = WRAP;
    soc_schedule(r->p.soc, ev, tick_time(r, k + d) - soc_now(r->p.soc));
}

static void schedule_compare(struct rtc *r, unsigned n)
{
    schedule_at_value(r, &r->on_compare[n], enabled(r, BIT_COMPARE(n)), r->cc[n]);
}

static void reschedule(struct rtc *r)
{
    for (unsigned n = 0; n < r->ncc; n++)
        schedule_compare(r, n);
    schedule_at_value(r, &r->on_overflow, enabled(r, BIT_OVRFLW), 0);
    if (r->counting && enabled(r, BIT_TICK))
        soc_schedule(r->p.soc, &r->on_tick, tick_time(r, ticks_now(r) + 1) - soc_now(r->p.soc));
    else
        soc_cancel(r->p.soc, &r->on_tick);
}

static void raise(struct rtc *r, uint32_t event, uint32_t bit)
{
    if (enabled(r, bit))
        nrf_events_raise(&r->ev, event);
}

/* One fire function per channel index keeps the context a plain struct rtc. */
#define COMPARE_FIRE(n)                                                   \
    static void compare##n(struct soc *soc, void *ctx)                    \
    {                                                                     \
        (void)soc;                                                        \
        struct rtc *r = ctx;                                              \
        raise(r, EVENTS_COMPARE(n), BIT_COMPARE(n));                      \
        schedule_compare(r, n);                                           \
    }
COMPARE_FIRE(0)
COMPARE_FIRE(1)
COMPARE_FIRE(2)
COMPARE_FIRE(3)
static void (*const compare_fire[MAX_CC])(struct soc *, void *) = { compare0, compare1, compare2, compare3 };

static void tick_fired(struct soc *soc, void *ctx)
{
    (void)soc;
    struct rtc *r = ctx;
    raise(r, EVENTS_TICK, BIT_TICK);
    reschedule(r);
}

static void overflow_fired(struct soc *soc, void *ctx)
{
    (void)soc;
    struct rtc *r = ctx;
    raise(r, EVENTS_OVRFLW, BIT_OVRFLW);
    schedule_at_value(r, &r->on_overflow, enabled(r, BIT_OVRFLW), 0);
}

/* Start or freeze the count when START/STOP or the LFCLK changed. */
static void update_counting(struct rtc *r)
{
    bool want = r->started && clock_lfclk_running(r->clock);
    if (want == r->counting)
        return;
    if (want) {
        r->t0 = soc_now(r->p.soc);
    } else {
        r->c0 = counter_now(r);
    }
    r->counting = want;
    reschedule(r);
}

static void lfclk_changed(void *ctx)
{
    update_counting(ctx);
}

/* Sets the counter without moving the tick phase. */
static void set_counter(struct rtc *r, uint32_t value)
{
    if (r->counting)
        r->c0 = (uint32_t)((value - ticks_now(r)) & COUNTER_MASK);
    else
        r->c0 = value & COUNTER_MASK;
    reschedule(r);
}

static void task(struct rtc *r, uint32_t offset)
{
    switch (offset) {
    case TASKS_START:
        if (!clock_lfclk_running(r->clock) && !clock_lfclk_requested(r->clock) && !r->reported_no_lfclk) {
            r->reported_no_lfclk = true;
            soc_log(r->p.soc, "emu: %s started while the LFCLK is stopped: it counts only once "
                    "CLOCK.TASKS_LFCLKSTART has run\n", r->name);
        }
        r->started = true;
        update_counting(r);
        break;
    case TASKS_STOP:
        r->started = false;
        update_counting(r);
        break;
    case TASKS_CLEAR:
        set_counter(r, 0);
        break;
    case TASKS_TRIGOVRFLW:
        set_counter(r, 0xFFFFF0u);
        break;
    }
}

static uint32_t rtc_read(struct periph *p, uint32_t offset)
{
    struct rtc *r = p->state;
    uint32_t v;
    if (offset != NRF_SHORTS && nrf_events_read(&r->ev, offset, &v))
        return v;
    if (offset <= TASKS_TRIGOVRFLW && (offset & 3u) == 0)
        return 0;
    if (offset >= CC(0) && offset < CC(r->ncc))
        return r->cc[(offset - CC(0)) / 4u];
    switch (offset) {
    case EVTEN: case EVTENSET: case EVTENCLR:
        return r->evten;
    case COUNTER:
        return counter_now(r);
    case PRESCALER:
        return r->prescaler;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void rtc_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct rtc *r = p->state;
    if (offset != NRF_SHORTS && nrf_events_write(&r->ev, offset, value)) {
        if (offset >= NRF_INTEN)
            reschedule(r);   /* event gating changed */
        return;
    }
    if (offset <= TASKS_TRIGOVRFLW && (offset & 3u) == 0) {
        if (value & 1u)
            task(r, offset);
        return;
    }
    if (offset >= CC(0) && offset < CC(r->ncc)) {
        unsigned n = (offset - CC(0)) / 4u;
        r->cc[n] = value & COUNTER_MASK;
        schedule_compare(r, n);
        return;
    }
    switch (offset) {
    case EVTEN: r->evten = value & EVTEN_MASK; break;
    case EVTENSET: r->evten |= value & EVTEN_MASK; break;
    case EVTENCLR: r->evten &= ~value; break;
    case COUNTER: return;   /* read-only */
    case PRESCALER:
        if (r->counting || r->started) {
            if (!r->reported_prescaler) {
                r->reported_prescaler = true;
                soc_log(p->soc, "emu: %s PRESCALER written while started: ignored (stop the RTC first)\n",
                        r->name);
            }
            return;
        }
        r->prescaler = value & 0xFFFu;
        return;
    default:
        soc_unmodelled(p->soc, p, offset, true);
        return;
    }
    reschedule(r);
}

static void rtc_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct rtc *r = p->state;
    nrf_events_reset(&r->ev);
    r->started = r->counting = false;
    r->t0 = 0;
    r->c0 = 0;
    r->prescaler = r->evten = 0;
    for (unsigned n = 0; n < MAX_CC; n++)
        r->cc[n] = 0;
    reschedule(r);
}

struct periph *rtc_new(struct soc *soc, unsigned instance, struct clock *clock)
{
    if (instance >= sizeof instances / sizeof instances[0])
        return NULL;
    struct rtc *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "RTC%u", instance);
    r->p = (struct periph){
        .name = r->name,
        .base = instances[instance].base,
        .size = 0x1000,
        .read = rtc_read,
        .write = rtc_write,
        .reset = rtc_reset,
        .state = r,
    };
    r->clock = clock;
    r->ncc = instances[instance].ncc;
    for (unsigned n = 0; n < MAX_CC; n++)
        r->on_compare[n] = (struct sched_event){ .name = "RTC compare", .fire = compare_fire[n], .ctx = r };
    r->on_tick = (struct sched_event){ .name = "RTC tick", .fire = tick_fired, .ctx = r };
    r->on_overflow = (struct sched_event){ .name = "RTC overflow", .fire = overflow_fired, .ctx = r };
    soc_add_periph(soc, &r->p);
    nrf_events_init(&r->ev, &r->p, (int)instances[instance].irq);
    rtc_reset(&r->p, RESET_POWER_ON);
    clock_add_lfclk_listener(clock, lfclk_changed, r);
    return &r->p;
}

void rtc_free(struct periph *rtc)
{
    if (rtc)
        free(rtc->state);
}
