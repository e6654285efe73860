/* GPIO ports P0 (32 pins, registers at 0x50000504..) and P1 (16 pins, at
 * 0x50000804..), Product Specification, GPIO. One struct periph covers the 4
 * KiB AHB slot
 * and hands each access to its port.
 *
 * DIR is not a register of its own: it is the DIR bit of every PIN_CNF[n]
 * (DIR, DIRSET and DIRCLR read and write those bits). IN shows, per pin:
 * 0 while the input buffer is disconnected (PIN_CNF.INPUT = 1, the reset
 * state); else the OUT level while the pin is an output; else the level an
 * external driver puts on it (gpio_drive: a button); else its pull (up 1,
 * down 0). An undriven input without a pull floats on silicon: it reads 0
 * here. LATCH records pins whose IN level met their PIN_CNF.SENSE condition
 * (write 1 to clear); the DETECT signal itself goes nowhere (no GPIOTE).
 * Pins a UARTE has taken over keep their GPIO state (the UARTE model does not
 * drive them).
 *
 * Differs from silicon: floating inputs read 0, drive strengths are
 * ignored, no GPIOTE. Pending: GPIOTE and DETECT as a wake-up source. */
#include <stdlib.h>

#include "models.h"

#define OUT        0x504u
#define OUTSET     0x508u
#define OUTCLR     0x50Cu
#define IN         0x510u
#define DIR        0x514u
#define DIRSET     0x518u
#define DIRCLR     0x51Cu
#define LATCH      0x520u
#define DETECTMODE 0x524u
#define PIN_CNF(n) (0x700u + 4u * (n))

#define CNF_DIR_OUT    (1u << 0)
#define CNF_INPUT_DISC (1u << 1)
#define CNF_PULL(c)    (((c) >> 2) & 3u)
#define CNF_SENSE(c)   (((c) >> 16) & 3u)
#define PULL_DOWN 1u
#define PULL_UP   3u
#define SENSE_HIGH 2u
#define SENSE_LOW  3u
#define CNF_RESET  CNF_INPUT_DISC
#define CNF_MASK   0x0003070Fu   /* DIR, INPUT, PULL, DRIVE, SENSE */

#define P1_OFFSET 0x300u          /* P1 base - P0 base */

struct gpio_port {
    unsigned npins;
    uint32_t mask;                 /* pins that exist */
    uint32_t out, latch, detectmode;
    uint32_t cnf[32];
    uint32_t driven, drive_level;  /* external drivers */
};

struct gpio {
    struct periph p;
    struct gpio_port port[2];
};

static uint32_t port_dir(const struct gpio_port *g)
{
    uint32_t dir = 0;
    /* i < 32 is implied by npins (32 or 16), but gcc's -Warray-bounds cannot
     * see it once UBSan instruments the shift (hilda-emu-asan) */
    for (unsigned i = 0; i < g->npins && i < 32; i++)
        dir |= (g->cnf[i] & CNF_DIR_OUT) << i;
    return dir;
}

static uint32_t port_in(const struct gpio_port *g)
{
    uint32_t in = 0;
    for (unsigned i = 0; i < g->npins; i++) {
        uint32_t c = g->cnf[i], bit = 1u << i;
        bool level;
        if (c & CNF_INPUT_DISC)
            continue;
        if (c & CNF_DIR_OUT)
            level = g->out & bit;
        else if (g->driven & bit)
            level = g->drive_level & bit;
        else
            level = CNF_PULL(c) == PULL_UP;
        if (level)
            in |= bit;
    }
    return in;
}

static void update_latch(struct gpio_port *g)
{
    uint32_t in = port_in(g);
    for (unsigned i = 0; i < g->npins; i++) {
        uint32_t c = g->cnf[i], bit = 1u << i;
        if (c & CNF_INPUT_DISC)
            continue;
        if ((CNF_SENSE(c) == SENSE_HIGH && (in & bit)) || (CNF_SENSE(c) == SENSE_LOW && !(in & bit)))
            g->latch |= bit;
    }
}

static void set_dir(struct gpio_port *g, uint32_t set, uint32_t clear)
{
    for (unsigned i = 0; i < g->npins; i++) {
        if (set & (1u << i))
            g->cnf[i] |= CNF_DIR_OUT;
        if (clear & (1u << i))
            g->cnf[i] &= ~CNF_DIR_OUT;
    }
}

/* NULL if the offset is no register of either port; *reg = port offset. */
static struct gpio_port *port_of(struct gpio *g, uint32_t offset, uint32_t *reg)
{
    struct gpio_port *port;
    if (offset >= 0x500u && offset < 0x800u) {
        port = &g->port[0];
        *reg = offset;
    } else if (offset >= 0x800u && offset < 0xB00u) {
        port = &g->port[1];
        *reg = offset - P1_OFFSET;
    } else {
        return NULL;
    }
    if (*reg >= PIN_CNF(0) && *reg < PIN_CNF(port->npins))
        return port;
    if (*reg >= OUT && *reg <= DETECTMODE)
        return port;
    return NULL;
}

static uint32_t gpio_read(struct periph *p, uint32_t offset)
{
    uint32_t reg;
    struct gpio_port *g = port_of(p->state, offset, &reg);
    if (!g) {
        soc_unmodelled(p->soc, p, offset, false);
        return 0;
    }
    switch (reg) {
    case OUT: case OUTSET: case OUTCLR:
        return g->out;
    case IN:
        return port_in(g);
    case DIR: case DIRSET: case DIRCLR:
        return port_dir(g);
    case LATCH:
        return g->latch;
    case DETECTMODE:
        return g->detectmode;
    }
    return g->cnf[(reg - PIN_CNF(0)) / 4u];
}

static void gpio_write(struct periph *p, uint32_t offset, uint32_t value)
{
    uint32_t reg;
    struct gpio_port *g = port_of(p->state, offset, &reg);
    if (!g) {
        soc_unmodelled(p->soc, p, offset, true);
        return;
    }
    value &= reg >= PIN_CNF(0) ? CNF_MASK : g->mask;
    switch (reg) {
    case OUT: g->out = value; break;
    case OUTSET: g->out |= value; break;
    case OUTCLR: g->out &= ~value; break;
    case IN: break;                    /* read-only */
    case DIR: set_dir(g, value, ~value); break;
    case DIRSET: set_dir(g, value, 0); break;
    case DIRCLR: set_dir(g, 0, value); break;
    case LATCH: g->latch &= ~value; break;
    case DETECTMODE: g->detectmode = value & 1u; break;
    default: g->cnf[(reg - PIN_CNF(0)) / 4u] = value; break;
    }
    update_latch(g);
}

static void gpio_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct gpio *g = p->state;
    for (unsigned n = 0; n < 2; n++) {
        struct gpio_port *port = &g->port[n];
        port->out = port->latch = port->detectmode = 0;
        for (unsigned i = 0; i < 32; i++)
            port->cnf[i] = CNF_RESET;
        /* external drivers are outside the chip: they stay */
    }
}

struct periph *gpio_new(struct soc *soc)
{
    struct gpio *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->p = (struct periph){
        .name = "GPIO",
        .base = GPIO_BASE,
        .size = 0x1000,
        .read = gpio_read,
        .write = gpio_write,
        .reset = gpio_reset,
        .state = g,
    };
    g->port[0].npins = 32;
    g->port[0].mask = 0xFFFFFFFFu;
    g->port[1].npins = 16;
    g->port[1].mask = 0x0000FFFFu;
    gpio_reset(&g->p, RESET_POWER_ON);
    soc_add_periph(soc, &g->p);
    return &g->p;
}

void gpio_free(struct periph *gpio)
{
    if (gpio)
        free(gpio->state);
}

static const struct gpio_port *cport(const struct periph *gpio, unsigned port)
{
    return port < 2 ? &((const struct gpio *)gpio->state)->port[port] : NULL;
}

uint32_t gpio_out(const struct periph *gpio, unsigned port)
{
    const struct gpio_port *g = cport(gpio, port);
    return g ? g->out : 0;
}

uint32_t gpio_dir(const struct periph *gpio, unsigned port)
{
    const struct gpio_port *g = cport(gpio, port);
    return g ? port_dir(g) : 0;
}

uint32_t gpio_in(const struct periph *gpio, unsigned port)
{
    const struct gpio_port *g = cport(gpio, port);
    return g ? port_in(g) : 0;
}

void gpio_drive(struct periph *gpio, unsigned port, unsigned pin, bool level)
{
    struct gpio *s = gpio->state;
    if (port >= 2 || pin >= s->port[port].npins)
        return;
    struct gpio_port *g = &s->port[port];
    g->driven |= 1u << pin;
    if (level)
        g->drive_level |= 1u << pin;
    else
        g->drive_level &= ~(1u << pin);
    update_latch(g);
}

void gpio_release(struct periph *gpio, unsigned port, unsigned pin)
{
    struct gpio *s = gpio->state;
    if (port >= 2 || pin >= s->port[port].npins)
        return;
    struct gpio_port *g = &s->port[port];
    g->driven &= ~(1u << pin);
    update_latch(g);
}
