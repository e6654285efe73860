/* TEMP at 0x4000C000, IRQ 12: the die temperature sensor. Register map from
 * the nrfx MDK (nrf52840.svd, reference source S1): TASKS_START 0x000,
 * TASKS_STOP 0x004, EVENTS_DATARDY 0x100, INTENSET/INTENCLR 0x304/0x308
 * (bit 0 DATARDY; TEMP has no INTEN at 0x300 and no SHORTS), TEMP 0x508
 * (signed, 0.25 degree steps), and the linearisation registers A0..A5
 * 0x520..0x534 (12 bits), B0..B5 0x540..0x554 (14 bits), T0..T4
 * 0x560..0x570 (8 bits) with the SVD's reset values.
 *
 * Behaviour:
 * - START begins a conversion that takes 36 us (the Product Specification's
 *   t_TEMP); at its end TEMP holds the die temperature and DATARDY is raised
 *   (its interrupt if INTENSET enabled it). TEMP keeps the last result until
 *   the next conversion ends (0 after a reset).
 * - START during a conversion is ignored (the one running finishes); STOP
 *   cancels it: no DATARDY, TEMP unchanged.
 * - The die temperature is a setting of the model (temp_set_die_temperature,
 *   in 0.25 degree steps; default 100 = 25.00 C), not a physical simulation.
 * - A, B and T are kept (masked to their field width) and read back, so
 *   nrfx SystemInit's errata 66 copy from FICR (system_nrf52.c as run on
 *   hilda-emu) works.
 * - Writing 0 to a task does nothing (as every task on the chip).
 *
 * Differs from silicon: the A/B/T coefficients do not change the result (on
 * the chip they are the sensor's piecewise-linear calibration: the model
 * returns the set die temperature whatever they hold); no measurement noise;
 * the conversion time is always 36 us; no PPI. Pending: nothing. */
#include <stdlib.h>

#include "models.h"

#define TASKS_START    0x000u
#define TASKS_STOP     0x004u
#define EVENTS_DATARDY 0x100u
#define TEMP_RESULT    0x508u
#define A(n)           (0x520u + 4u * (n))
#define B(n)           (0x540u + 4u * (n))
#define T(n)           (0x560u + 4u * (n))

#define INT_DATARDY       (1u << 0)
#define CONVERSION_TIME   SOC_US(36)
#define DEFAULT_DIE_TEMP  100          /* 25.00 C in 0.25 degree steps */

/* Reset values (nrf52840.svd) and field widths of A0..A5, B0..B5, T0..T4 */
static const uint32_t a_reset[6] = { 0x326, 0x348, 0x3AA, 0x40E, 0x4BD, 0x5A3 };
static const uint32_t b_reset[6] = { 0x3FEF, 0x3FBE, 0x3FBE, 0x0012, 0x0124, 0x027C };
static const uint32_t t_reset[5] = { 0xE2, 0x00, 0x19, 0x3C, 0x50 };
#define A_MASK 0xFFFu
#define B_MASK 0x3FFFu
#define T_MASK 0xFFu

struct temp {
    struct periph p;
    struct nrf_events ev;
    int32_t die;                 /* what a conversion measures, 0.25 C steps */
    int32_t result;              /* the TEMP register */
    bool converting;
    uint32_t a[6], b[6], t[5];
    struct sched_event done;
};

static void conversion_done(struct soc *soc, void *ctx)
{
    (void)soc;
    struct temp *t = ctx;
    t->converting = false;
    t->result = t->die;
    nrf_events_raise(&t->ev, EVENTS_DATARDY);
}

/* The calibration register at offset with its field mask, or NULL. */
static uint32_t *coefficient(struct temp *t, uint32_t offset, uint32_t *mask)
{
    if (offset >= A(0) && offset <= A(5)) {
        *mask = A_MASK;
        return &t->a[(offset - A(0)) / 4u];
    }
    if (offset >= B(0) && offset <= B(5)) {
        *mask = B_MASK;
        return &t->b[(offset - B(0)) / 4u];
    }
    if (offset >= T(0) && offset <= T(4)) {
        *mask = T_MASK;
        return &t->t[(offset - T(0)) / 4u];
    }
    return NULL;
}

/* TEMP's common registers: EVENTS_DATARDY, INTENSET, INTENCLR (no INTEN, no
 * SHORTS, one event). */
static bool common_register(uint32_t offset)
{
    return offset == EVENTS_DATARDY || offset == NRF_INTENSET || offset == NRF_INTENCLR;
}

static uint32_t temp_read(struct periph *p, uint32_t offset)
{
    struct temp *t = p->state;
    uint32_t v, mask;
    if (common_register(offset) && nrf_events_read(&t->ev, offset, &v))
        return v;
    uint32_t *reg = coefficient(t, offset, &mask);
    if (reg)
        return *reg;
    switch (offset) {
    case TASKS_START: case TASKS_STOP:
        return 0;                            /* write-only */
    case TEMP_RESULT:
        return (uint32_t)t->result;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void temp_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct temp *t = p->state;
    uint32_t mask;
    if (common_register(offset)) {
        if (offset != EVENTS_DATARDY)
            value &= INT_DATARDY;
        nrf_events_write(&t->ev, offset, value);
        return;
    }
    uint32_t *reg = coefficient(t, offset, &mask);
    if (reg) {
        *reg = value & mask;
        return;
    }
    switch (offset) {
    case TASKS_START:
        if ((value & 1u) && !t->converting) {
            t->converting = true;
            soc_schedule(p->soc, &t->done, CONVERSION_TIME);
        }
        return;
    case TASKS_STOP:
        if (value & 1u) {
            t->converting = false;
            soc_cancel(p->soc, &t->done);
        }
        return;
    case TEMP_RESULT:
        return;                              /* read-only */
    }
    soc_unmodelled(p->soc, p, offset, true);
}

static void temp_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct temp *t = p->state;
    nrf_events_reset(&t->ev);
    soc_cancel(p->soc, &t->done);
    t->converting = false;
    t->result = 0;
    for (unsigned i = 0; i < 6; i++) {
        t->a[i] = a_reset[i];
        t->b[i] = b_reset[i];
    }
    for (unsigned i = 0; i < 5; i++)
        t->t[i] = t_reset[i];
}

struct periph *temp_new(struct soc *soc)
{
    struct temp *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->p = (struct periph){
        .name = "TEMP",
        .base = TEMP_BASE,
        .size = 0x1000,
        .read = temp_read,
        .write = temp_write,
        .reset = temp_reset,
        .state = t,
    };
    t->die = DEFAULT_DIE_TEMP;
    t->done = (struct sched_event){ .name = "TEMP conversion", .fire = conversion_done, .ctx = t };
    soc_add_periph(soc, &t->p);
    nrf_events_init(&t->ev, &t->p, TEMP_IRQ);
    temp_reset(&t->p, RESET_POWER_ON);
    return &t->p;
}

void temp_free(struct periph *temp)
{
    if (temp)
        free(temp->state);
}

void temp_set_die_temperature(struct periph *temp, int32_t quarter_degrees)
{
    struct temp *t = temp->state;
    t->die = quarter_degrees;    /* the die keeps it across resets: it is the chip's surroundings */
}
