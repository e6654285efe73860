/* WDT at 0x40010000, IRQ 16: the watchdog. Register map from the nrfx MDK
 * (nrf52840.svd, reference source S1): TASKS_START 0x000, EVENTS_TIMEOUT
 * 0x100, INTENSET/INTENCLR 0x304/0x308 (bit 0 TIMEOUT; no INTEN at 0x300,
 * no SHORTS), RUNSTATUS 0x400, REQSTATUS 0x404 (reset 0x1), CRV 0x504
 * (reset 0xFFFFFFFF), RREN 0x508 (reset 0x1), CONFIG 0x50C (SLEEP b0, HALT
 * b3; reset 0x1), RR[0..7] 0x600.. (reload value 0x6E524635).
 *
 * Behaviour (Product Specification, WDT chapter):
 * - START loads the down-counter with CRV and starts it; RUNSTATUS reads 1
 *   from then on (0 before: Nordic's boot loader reads it: nRF5 SDK
 *   17.1's open bootloader as run on hilda-emu). Nothing stops it but a reset
 *   that resets the watchdog.
 * - The counter runs on the 32.768 kHz clock: it times out (CRV + 1) /
 *   32768 s of counting time after START or the last reload, computed from
 *   virtual time (one tick = 15625/8 cycles of 64 MHz, exact, no drift).
 * - Reload: the value 0x6E524635 written to every RR[n] enabled in RREN
 *   reloads the counter with CRV. REQSTATUS bit n reads 1 while RR[n] is
 *   enabled and not yet written since the last reload. Another value, or an
 *   RR that RREN does not enable, requests nothing.
 * - Once started, CRV, RREN and CONFIG are write-protected: writes are
 *   ignored (and reported once, since firmware that does it has a bug).
 * - CONFIG.SLEEP = 0 (Pause) stops the count while the CPU sleeps (WFI/WFE,
 *   as the CPU layer reports it through wdt_cpu_sleeping); 1 (Run, the
 *   reset value) keeps counting.
 * - Timeout: EVENTS_TIMEOUT is raised. With its interrupt enabled the chip
 *   resets two 32.768 kHz cycles later (the time the PS gives the handler),
 *   otherwise at once; once TIMEOUT has fired the reset always comes (a
 *   reload cannot stop it). The reset: the `timed_out` callback (the chip
 *   notes RESETREAS.DOG and the board resets the CPU and the chip).
 * - Which resets reset the watchdog (PS reset behaviour table): power-on,
 *   pin reset, watchdog reset and wake-up from System OFF do; a soft reset
 *   (AIRCR.SYSRESETREQ) and a CPU lockup do not: a started watchdog keeps
 *   counting through them, with its configuration (so a boot loader must
 *   feed a watchdog the application started; a watchdog not yet started
 *   keeps its registers too). wdt_note_reset_reason tells
 *   the model which reset comes next; a RESET_SYSTEM with no reason noted is
 *   a soft reset (POWER records SREQ for it).
 * - Writing 0 to TASKS_START does nothing (as every task on the chip).
 *
 * Differs from silicon: CONFIG.HALT is kept but has no effect: there is no
 * debugger to halt the CPU (and while hilda-emu is not running, virtual time
 * does not move, so the watchdog never counts then, even with HALT = Run);
 * System OFF is not a sleep here: the count goes on whatever CONFIG.SLEEP
 * says; the pause in sleep is exact to the cycle, not to a 32.768 kHz tick;
 * RR writes before START are ignored; the watchdog needs no LFCLK (on the
 * chip it forces the 32.768 kHz RC oscillator on: here the CLOCK model does
 * not show that). Pending: nothing. */
#include <stdlib.h>

#include "models.h"

#define TASKS_START    0x000u
#define EVENTS_TIMEOUT 0x100u
#define RUNSTATUS      0x400u
#define REQSTATUS      0x404u
#define CRV            0x504u
#define RREN           0x508u
#define CONFIG         0x50Cu
#define RR(n)          (0x600u + 4u * (n))
#define RR_COUNT       8u

#define RELOAD_VALUE   0x6E524635u
#define INT_TIMEOUT    (1u << 0)
#define CONFIG_SLEEP_RUN (1u << 0)
#define CONFIG_HALT_RUN  (1u << 3)
#define CONFIG_MASK    (CONFIG_SLEEP_RUN | CONFIG_HALT_RUN)
#define RREN_MASK      0xFFu

/* One 32.768 kHz tick is 64 MHz / 32768 = 15625/8 cycles: counts are kept
 * in eighths of a cycle so that no tick is rounded. */
#define TICK_EIGHTHS   15625ull
#define RESET_DELAY_TICKS 2u

/* Resets that leave a started watchdog running (PS reset behaviour table) */
#define SURVIVED_REASONS (POWER_RESETREAS_SREQ | POWER_RESETREAS_LOCKUP)

struct wdt {
    struct periph p;
    struct nrf_events ev;
    uint32_t crv, rren, config;
    uint32_t requested;          /* RR[n] written with the reload value since the last reload */
    bool running;                /* RUNSTATUS */
    bool timed_out;              /* TIMEOUT fired: the reset is coming */
    bool cpu_sleeping;
    bool counting;               /* running, and not paused by CONFIG.SLEEP */
    uint64_t left8;              /* counting time to the timeout, eighths of a cycle */
    vtime_t since;               /* counting: when left8 was last brought up to date */
    vtime_t reset_at;            /* timed out: when the watchdog reset happens */
    uint32_t noted_reasons;      /* RESETREAS bits of the reset to come */
    bool reported_locked;
    void (*timed_out_cb)(void *ctx);
    void *cb_ctx;
    struct sched_event on_timeout, on_reset;
};

static vtime_t cycles_for(uint64_t eighths)
{
    return (eighths + 7u) / 8u;
}

/* Brings left8 up to now (while counting). */
static void settle(struct wdt *w)
{
    if (!w->counting)
        return;
    vtime_t now = soc_now(w->p.soc);
    uint64_t spent = (now - w->since) * 8u;
    w->left8 = spent < w->left8 ? w->left8 - spent : 0;
    w->since = now;
}

/* Counting or paused, as RUNSTATUS, CONFIG.SLEEP and the CPU say now. */
static void update_counting(struct wdt *w)
{
    settle(w);
    bool paused = w->cpu_sleeping && !(w->config & CONFIG_SLEEP_RUN);
    w->counting = w->running && !w->timed_out && !paused;
    if (w->counting) {
        w->since = soc_now(w->p.soc);
        soc_schedule(w->p.soc, &w->on_timeout, cycles_for(w->left8));
    } else {
        soc_cancel(w->p.soc, &w->on_timeout);
    }
}

static void reload(struct wdt *w)
{
    settle(w);
    w->left8 = ((uint64_t)w->crv + 1u) * TICK_EIGHTHS;
    w->requested = 0;
    update_counting(w);
}

static void reset_fired(struct soc *soc, void *ctx)
{
    struct wdt *w = ctx;
    soc_log(soc, "emu: WDT timed out: watchdog reset\n");
    if (w->timed_out_cb)
        w->timed_out_cb(w->cb_ctx);
}

static void timeout_fired(struct soc *soc, void *ctx)
{
    (void)soc;
    struct wdt *w = ctx;
    settle(w);
    w->timed_out = true;
    w->counting = false;
    nrf_events_raise(&w->ev, EVENTS_TIMEOUT);
    vtime_t delay = (w->ev.inten & INT_TIMEOUT) ? cycles_for(RESET_DELAY_TICKS * TICK_EIGHTHS) : 0;
    w->reset_at = soc_now(w->p.soc) + delay;
    if (delay)
        soc_schedule(w->p.soc, &w->on_reset, delay);
    else
        reset_fired(w->p.soc, w);
}

static void rr_write(struct wdt *w, unsigned n, uint32_t value)
{
    uint32_t bit = 1u << n;
    if (!w->running || w->timed_out || value != RELOAD_VALUE || !(w->rren & bit))
        return;
    w->requested |= bit;
    if ((w->requested & w->rren) == w->rren)
        reload(w);
}

/* A configuration register written while the watchdog runs: ignored. */
static bool locked(struct wdt *w)
{
    if (!w->running)
        return false;
    if (!w->reported_locked) {
        w->reported_locked = true;
        soc_log(w->p.soc, "emu: WDT CRV/RREN/CONFIG written while the watchdog runs: ignored "
                "(the chip blocks them once started)\n");
    }
    return true;
}

static bool common_register(uint32_t offset)
{
    return offset == EVENTS_TIMEOUT || offset == NRF_INTENSET || offset == NRF_INTENCLR;
}

static uint32_t wdt_read(struct periph *p, uint32_t offset)
{
    struct wdt *w = p->state;
    uint32_t v;
    if (common_register(offset) && nrf_events_read(&w->ev, offset, &v))
        return v;
    if (offset >= RR(0) && offset < RR(RR_COUNT))
        return 0;                            /* write-only */
    switch (offset) {
    case TASKS_START: return 0;              /* write-only */
    case RUNSTATUS: return w->running;
    case REQSTATUS: return w->rren & ~w->requested;
    case CRV: return w->crv;
    case RREN: return w->rren;
    case CONFIG: return w->config;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void wdt_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct wdt *w = p->state;
    if (common_register(offset)) {
        if (offset != EVENTS_TIMEOUT)
            value &= INT_TIMEOUT;
        nrf_events_write(&w->ev, offset, value);
        return;
    }
    if (offset >= RR(0) && offset < RR(RR_COUNT)) {
        rr_write(w, (offset - RR(0)) / 4u, value);
        return;
    }
    switch (offset) {
    case TASKS_START:
        if ((value & 1u) && !w->running) {
            w->running = true;
            reload(w);
        }
        return;
    case RUNSTATUS: case REQSTATUS:
        return;                              /* read-only */
    case CRV:
        if (!locked(w))
            w->crv = value;
        return;
    case RREN:
        if (!locked(w))
            w->rren = value & RREN_MASK;
        return;
    case CONFIG:
        if (!locked(w))
            w->config = value & CONFIG_MASK;
        return;
    }
    soc_unmodelled(p->soc, p, offset, true);
}

/* A reset the watchdog survives (started or not): soc_reset dropped every
 * scheduled event and interrupt line; the count goes on from where it was,
 * and a watchdog reset already on its way still comes. */
static void keep_running(struct wdt *w)
{
    settle(w);
    w->counting = false;
    w->cpu_sleeping = false;                 /* every reset leaves the CPU running */
    if (nrf_events_is_set(&w->ev, EVENTS_TIMEOUT))
        nrf_events_raise(&w->ev, EVENTS_TIMEOUT);   /* the line again, as the register says */
    if (w->timed_out) {
        vtime_t now = soc_now(w->p.soc);
        soc_schedule(w->p.soc, &w->on_reset, w->reset_at > now ? w->reset_at - now : 0);
        return;
    }
    update_counting(w);
}

static void wdt_reset(struct periph *p, enum reset_kind kind)
{
    struct wdt *w = p->state;
    bool survives = kind == RESET_SYSTEM && (w->noted_reasons & ~SURVIVED_REASONS) == 0;
    w->noted_reasons = 0;
    if (survives) {
        keep_running(w);
        return;
    }
    w->cpu_sleeping = false;
    nrf_events_reset(&w->ev);
    soc_cancel(p->soc, &w->on_timeout);
    soc_cancel(p->soc, &w->on_reset);
    w->crv = 0xFFFFFFFFu;
    w->rren = 0x1u;
    w->config = CONFIG_SLEEP_RUN;
    w->requested = 0;
    w->running = w->timed_out = w->counting = false;
    w->left8 = 0;
    w->reported_locked = false;
}

struct periph *wdt_new(struct soc *soc, void (*timed_out)(void *ctx), void *ctx)
{
    struct wdt *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->p = (struct periph){
        .name = "WDT",
        .base = WDT_BASE,
        .size = 0x1000,
        .read = wdt_read,
        .write = wdt_write,
        .reset = wdt_reset,
        .state = w,
    };
    w->timed_out_cb = timed_out;
    w->cb_ctx = ctx;
    w->on_timeout = (struct sched_event){ .name = "WDT timeout", .fire = timeout_fired, .ctx = w };
    w->on_reset = (struct sched_event){ .name = "WDT reset", .fire = reset_fired, .ctx = w };
    soc_add_periph(soc, &w->p);
    nrf_events_init(&w->ev, &w->p, WDT_IRQ);
    wdt_reset(&w->p, RESET_POWER_ON);
    return &w->p;
}

void wdt_free(struct periph *wdt)
{
    if (wdt)
        free(wdt->state);
}

void wdt_cpu_sleeping(struct periph *wdt, bool sleeping)
{
    struct wdt *w = wdt->state;
    if (w->cpu_sleeping == sleeping)
        return;
    w->cpu_sleeping = sleeping;
    if (w->running && !(w->config & CONFIG_SLEEP_RUN))
        update_counting(w);
}

void wdt_note_reset_reason(struct periph *wdt, uint32_t resetreas_bits)
{
    struct wdt *w = wdt->state;
    w->noted_reasons |= resetreas_bits;
}
