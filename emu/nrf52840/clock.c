/* CLOCK (Product Specification, CLOCK): HFXO and LFCLK start/stop with their
 * start-up
 * delays in virtual time, the status registers, LFRC calibration (CAL) and
 * the calibration timer (CTSTART/CTSTOP, CTIV). Events and INTEN belong to
 * the CLOCK/POWER slot (clock_power.c); this file raises them.
 *
 * What is not modelled: the HFCLK the CPU and the TIMERs run on is always
 * there (HFINT), so HFCLKSTAT only tells whether the crystal was started;
 * clock accuracy and the crystal's 32 MHz vs HFINT make no difference to
 * virtual time.
 *
 * Differs from silicon: no clock drift or accuracy, the HFCLK never stops.
 * Pending: nothing the firmware uses. */
#include <stdlib.h>

#include "models.h"

/* Virtual start-up times. HFXO: 0.36 ms, the nRF52840's typical 32 MHz
 * crystal start-up. LFCLK: 0.25 ms for every source. That is about the LFRC
 * start-up; a real 32.768 kHz crystal takes about 0.25 s, which would only
 * make firmware that waits for LFCLKSTARTED slow to test. */
#define HFXO_START_TIME  SOC_US(360)
#define LFCLK_START_TIME SOC_US(250)
/* LFRC calibration (CAL -> DONE): an arbitrary short figure, nothing checks
 * it; the calibration timer counts CTIV in units of 0.25 s (§1.5 CLOCK). */
#define CAL_TIME         SOC_MS(1)
#define CTIV_UNIT        SOC_MS(250)

#define TASKS_HFCLKSTART 0x000u
#define TASKS_HFCLKSTOP  0x004u
#define TASKS_LFCLKSTART 0x008u
#define TASKS_LFCLKSTOP  0x00Cu
#define TASKS_CAL        0x010u
#define TASKS_CTSTART    0x014u
#define TASKS_CTSTOP     0x018u
#define EVENTS_HFCLKSTARTED 0x100u
#define EVENTS_LFCLKSTARTED 0x104u
#define EVENTS_DONE      0x10Cu
#define EVENTS_CTTO      0x110u
#define EVENTS_CTSTARTED 0x128u
#define EVENTS_CTSTOPPED 0x12Cu
#define HFCLKRUN         0x408u
#define HFCLKSTAT        0x40Cu
#define LFCLKRUN         0x414u
#define LFCLKSTAT        0x418u
#define LFCLKSRCCOPY     0x41Cu
#define LFCLKSRC         0x518u
#define HFXODEBOUNCE     0x528u
#define CTIV             0x538u
#define TRACECONFIG      0x55Cu
#define LFRCMODE         0x5B4u

#define STAT_RUNNING     (1u << 16)
#define HFCLKSTAT_XTAL   1u

#define MAX_LISTENERS 4

struct clock {
    struct soc *soc;
    struct nrf_events *ev;
    bool hf_requested, hf_running;
    bool lf_requested, lf_running;
    uint32_t lfclksrc, lfclksrccopy, lf_running_src;
    uint32_t hfxodebounce, ctiv, traceconfig, lfrcmode;
    struct sched_event hf_start, lf_start, cal_done, ct_timeout;
    struct {
        void (*changed)(void *ctx);
        void *ctx;
    } listeners[MAX_LISTENERS];
    unsigned nlisteners;
};

static void set_lf_running(struct clock *c, bool running)
{
    if (c->lf_running == running)
        return;
    c->lf_running = running;
    for (unsigned i = 0; i < c->nlisteners; i++)
        c->listeners[i].changed(c->listeners[i].ctx);
}

static void hf_started(struct soc *soc, void *ctx)
{
    (void)soc;
    struct clock *c = ctx;
    c->hf_running = true;
    nrf_events_raise(c->ev, EVENTS_HFCLKSTARTED);
}

static void lf_started(struct soc *soc, void *ctx)
{
    (void)soc;
    struct clock *c = ctx;
    c->lf_running_src = c->lfclksrccopy & 3u;
    set_lf_running(c, true);
    nrf_events_raise(c->ev, EVENTS_LFCLKSTARTED);
}

static void cal_done(struct soc *soc, void *ctx)
{
    (void)soc;
    nrf_events_raise(((struct clock *)ctx)->ev, EVENTS_DONE);
}

static void ct_timeout(struct soc *soc, void *ctx)
{
    (void)soc;
    nrf_events_raise(((struct clock *)ctx)->ev, EVENTS_CTTO);
}

/* A start task while the clock already runs: the event comes again at once
 * (the source is stable, nothing to wait for). */
static void task(struct clock *c, uint32_t offset)
{
    switch (offset) {
    case TASKS_HFCLKSTART:
        c->hf_requested = true;
        if (c->hf_running)
            nrf_events_raise(c->ev, EVENTS_HFCLKSTARTED);
        else if (!c->hf_start.pending)
            soc_schedule(c->soc, &c->hf_start, HFXO_START_TIME);
        break;
    case TASKS_HFCLKSTOP:
        c->hf_requested = false;
        c->hf_running = false;
        soc_cancel(c->soc, &c->hf_start);
        break;
    case TASKS_LFCLKSTART:
        c->lf_requested = true;
        c->lfclksrccopy = c->lfclksrc;
        if (c->lf_running)
            nrf_events_raise(c->ev, EVENTS_LFCLKSTARTED);
        else if (!c->lf_start.pending)
            soc_schedule(c->soc, &c->lf_start, LFCLK_START_TIME);
        break;
    case TASKS_LFCLKSTOP:
        c->lf_requested = false;
        soc_cancel(c->soc, &c->lf_start);
        set_lf_running(c, false);
        break;
    case TASKS_CAL:
        soc_schedule(c->soc, &c->cal_done, CAL_TIME);
        break;
    case TASKS_CTSTART:
        nrf_events_raise(c->ev, EVENTS_CTSTARTED);
        soc_schedule(c->soc, &c->ct_timeout, (vtime_t)(c->ctiv & 0x7Fu) * CTIV_UNIT);
        break;
    case TASKS_CTSTOP:
        soc_cancel(c->soc, &c->ct_timeout);
        nrf_events_raise(c->ev, EVENTS_CTSTOPPED);
        break;
    }
}

static uint32_t *plain_register(struct clock *c, uint32_t offset)
{
    switch (offset) {
    case HFXODEBOUNCE: return &c->hfxodebounce;
    case CTIV: return &c->ctiv;
    case TRACECONFIG: return &c->traceconfig;
    case LFRCMODE: return &c->lfrcmode;
    }
    return NULL;
}

bool clock_read(struct clock *c, uint32_t offset, uint32_t *value)
{
    uint32_t *reg = plain_register(c, offset);
    if (reg) {
        *value = *reg;
        return true;
    }
    switch (offset) {
    case TASKS_HFCLKSTART: case TASKS_HFCLKSTOP: case TASKS_LFCLKSTART: case TASKS_LFCLKSTOP:
    case TASKS_CAL: case TASKS_CTSTART: case TASKS_CTSTOP:
        *value = 0;         /* tasks are write-only */
        return true;
    case HFCLKRUN:
        *value = c->hf_requested;
        return true;
    case HFCLKSTAT:
        *value = c->hf_running ? (HFCLKSTAT_XTAL | STAT_RUNNING) : 0;
        return true;
    case LFCLKRUN:
        *value = c->lf_requested;
        return true;
    case LFCLKSTAT:
        *value = c->lf_running ? (c->lf_running_src | STAT_RUNNING) : 0;
        return true;
    case LFCLKSRCCOPY:
        *value = c->lfclksrccopy;
        return true;
    case LFCLKSRC:
        *value = c->lfclksrc;
        return true;
    }
    return false;
}

bool clock_write(struct clock *c, uint32_t offset, uint32_t value)
{
    uint32_t *reg = plain_register(c, offset);
    if (reg) {
        *reg = value;
        return true;
    }
    switch (offset) {
    case TASKS_HFCLKSTART: case TASKS_HFCLKSTOP: case TASKS_LFCLKSTART: case TASKS_LFCLKSTOP:
    case TASKS_CAL: case TASKS_CTSTART: case TASKS_CTSTOP:
        if (value & 1u)
            task(c, offset);
        return true;
    case LFCLKSRC:
        /* SRC b1:0, BYPASS b16, EXTERNAL b17; used at the next LFCLKSTART */
        c->lfclksrc = value & 0x00030003u;
        return true;
    case HFCLKRUN: case HFCLKSTAT: case LFCLKRUN: case LFCLKSTAT: case LFCLKSRCCOPY:
        return true;        /* read-only: the write has no effect */
    }
    return false;
}

void clock_reset(struct clock *c)
{
    soc_cancel(c->soc, &c->hf_start);
    soc_cancel(c->soc, &c->lf_start);
    soc_cancel(c->soc, &c->cal_done);
    soc_cancel(c->soc, &c->ct_timeout);
    c->hf_requested = c->hf_running = false;
    c->lf_requested = false;
    c->lfclksrc = c->lfclksrccopy = c->lf_running_src = 0;
    c->hfxodebounce = 0x10;
    c->ctiv = c->traceconfig = c->lfrcmode = 0;
    set_lf_running(c, false);
}

struct clock *clock_new(struct soc *soc, struct nrf_events *ev)
{
    struct clock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->soc = soc;
    c->ev = ev;
    c->hf_start = (struct sched_event){ .name = "CLOCK HFXO start", .fire = hf_started, .ctx = c };
    c->lf_start = (struct sched_event){ .name = "CLOCK LFCLK start", .fire = lf_started, .ctx = c };
    c->cal_done = (struct sched_event){ .name = "CLOCK calibration", .fire = cal_done, .ctx = c };
    c->ct_timeout = (struct sched_event){ .name = "CLOCK calibration timer", .fire = ct_timeout, .ctx = c };
    clock_reset(c);
    return c;
}

void clock_free(struct clock *c)
{
    free(c);
}

bool clock_lfclk_running(const struct clock *c)
{
    return c->lf_running;
}

bool clock_lfclk_requested(const struct clock *c)
{
    return c->lf_requested;
}

bool clock_hfxo_running(const struct clock *c)
{
    return c->hf_running;
}

void clock_add_lfclk_listener(struct clock *c, void (*changed)(void *ctx), void *ctx)
{
    if (c->nlisteners < MAX_LISTENERS) {
        c->listeners[c->nlisteners].changed = changed;
        c->listeners[c->nlisteners].ctx = ctx;
        c->nlisteners++;
    }
}
