/* POWER (Product Specification, POWER; USBD "USB power-up sequence"): VBUS
 * detection and the USB regulator
 * (USBDETECTED, USBREMOVED, USBPWRRDY, USBREGSTATUS), the reset reason, the
 * retained registers GPREGRET/GPREGRET2, SYSTEMOFF, and plain storage for the
 * supply registers firmware sets up (POFCON, DCDCEN, DCDCEN0, RAM[n].POWER).
 * Events and INTEN belong to the CLOCK/POWER slot (clock_power.c).
 *
 * The dongle runs from VBUS in high-voltage mode, so MAINREGSTATUS reads 1
 * (§6.1). POFWARN, SLEEPENTER and SLEEPEXIT are never raised.
 *
 * Differs from silicon: no power-fail comparator, no RAM retention in
 * System OFF (RAM[n].POWER is storage only), no wake-up from System OFF
 * other than a reset. Pending: wake-up from System OFF on a GPIO DETECT. */
#include <stdlib.h>

#include "models.h"

/* USBPWRRDY: the USB regulator settles about 1 ms after it is switched on
 * with VBUS present (our figure; firmware waits for the event). */
#define USB_REGULATOR_START SOC_MS(1)

#define TASKS_CONSTLAT     0x078u
#define TASKS_LOWPWR       0x07Cu
#define EVENTS_USBDETECTED 0x11Cu
#define EVENTS_USBREMOVED  0x120u
#define EVENTS_USBPWRRDY   0x124u
#define RESETREAS          0x400u
#define USBREGSTATUS       0x438u
#define SYSTEMOFF          0x500u
#define POFCON             0x510u
#define GPREGRET           0x51Cu
#define GPREGRET2          0x520u
#define DCDCEN             0x578u
#define DCDCEN0            0x580u
#define MAINREGSTATUS      0x640u
#define RAM_POWER(n)       (0x900u + 0x10u * (n))
#define RAM_BLOCKS         9u

#define USBREGSTATUS_VBUSDETECT (1u << 0)
#define USBREGSTATUS_OUTPUTRDY  (1u << 1)
#define RESETREAS_MASK 0x001F000Fu

struct power {
    struct soc *soc;
    struct nrf_events *ev;
    const struct periph *slot;
    uint32_t resetreas, pending_reasons;
    uint32_t gpregret, gpregret2;
    uint32_t pofcon, dcdcen, dcdcen0;
    uint32_t ram_power[RAM_BLOCKS];
    bool vbus;
    bool usbd_gates_regulator;   /* a USBD model said what its ENABLE is */
    bool usbd_enabled;
    bool outputrdy;
    bool system_off;
    void (*off)(void *ctx);
    void *off_ctx;
    struct sched_event regulator_ready;
};

static bool regulator_on(const struct power *pw)
{
    return pw->vbus && (!pw->usbd_gates_regulator || pw->usbd_enabled);
}

static void regulator_ready(struct soc *soc, void *ctx)
{
    (void)soc;
    struct power *pw = ctx;
    pw->outputrdy = true;
    nrf_events_raise(pw->ev, EVENTS_USBPWRRDY);
}

/* OUTPUTRDY and USBPWRRDY follow "VBUS present AND regulator enabled" with
 * the settling delay; losing either drops OUTPUTRDY at once. */
static void update_regulator(struct power *pw)
{
    if (!regulator_on(pw)) {
        soc_cancel(pw->soc, &pw->regulator_ready);
        pw->outputrdy = false;
    } else if (!pw->outputrdy && !pw->regulator_ready.pending) {
        soc_schedule(pw->soc, &pw->regulator_ready, USB_REGULATOR_START);
    }
}

static void enter_system_off(struct power *pw)
{
    if (pw->system_off)
        return;
    pw->system_off = true;
    soc_log(pw->soc, "emu: POWER.SYSTEMOFF: the chip enters System OFF and stops until a reset\n");
    if (pw->off)
        pw->off(pw->off_ctx);
}

static uint32_t *plain_register(struct power *pw, uint32_t offset)
{
    switch (offset) {
    case POFCON: return &pw->pofcon;
    case DCDCEN: return &pw->dcdcen;
    case DCDCEN0: return &pw->dcdcen0;
    }
    return NULL;
}

bool power_read(struct power *pw, uint32_t offset, uint32_t *value)
{
    uint32_t *reg = plain_register(pw, offset);
    if (reg) {
        *value = *reg;
        return true;
    }
    if (offset >= RAM_POWER(0) && offset < RAM_POWER(RAM_BLOCKS) && (offset & 0xFu) <= 8u) {
        /* POWER, POWERSET and POWERCLR all read the POWER register */
        *value = pw->ram_power[(offset - RAM_POWER(0)) / 0x10u];
        return true;
    }
    switch (offset) {
    case TASKS_CONSTLAT: case TASKS_LOWPWR: case SYSTEMOFF:
        *value = 0;
        return true;
    case RESETREAS:
        *value = pw->resetreas;
        return true;
    case USBREGSTATUS:
        *value = (pw->vbus ? USBREGSTATUS_VBUSDETECT : 0) | (pw->outputrdy ? USBREGSTATUS_OUTPUTRDY : 0);
        return true;
    case GPREGRET:
        *value = pw->gpregret;
        return true;
    case GPREGRET2:
        *value = pw->gpregret2;
        return true;
    case MAINREGSTATUS:
        *value = 1;         /* high-voltage mode: VDDH supplied from VBUS */
        return true;
    }
    return false;
}

bool power_write(struct power *pw, uint32_t offset, uint32_t value)
{
    uint32_t *reg = plain_register(pw, offset);
    if (reg) {
        *reg = value;
        return true;
    }
    if (offset >= RAM_POWER(0) && offset < RAM_POWER(RAM_BLOCKS) && (offset & 0xFu) <= 8u) {
        uint32_t *ram = &pw->ram_power[(offset - RAM_POWER(0)) / 0x10u];
        switch (offset & 0xFu) {
        case 0: *ram = value; break;
        case 4: *ram |= value; break;
        case 8: *ram &= ~value; break;
        }
        return true;
    }
    switch (offset) {
    case TASKS_CONSTLAT: case TASKS_LOWPWR:
        return true;        /* power modes make no difference to virtual time */
    case RESETREAS:
        pw->resetreas &= ~value;   /* write 1 to clear */
        return true;
    case USBREGSTATUS: case MAINREGSTATUS:
        return true;        /* read-only */
    case SYSTEMOFF:
        if (value & 1u)
            enter_system_off(pw);
        return true;
    case GPREGRET:
        pw->gpregret = value & 0xFFu;
        return true;
    case GPREGRET2:
        pw->gpregret2 = value & 0xFFu;
        return true;
    }
    return false;
}

/* RESETREAS accumulates until software clears it; a power-on reset clears
 * it and GPREGRET/GPREGRET2 (§1.5; machine.h RESET_SYSTEM keeps them). The
 * USBD's ENABLE is 0 after any reset, so its regulator is off until the
 * USBD model says otherwise. VBUS is the cable: a reset does not change it,
 * and a VBUS already there when the chip comes out of reset raises
 * USBDETECTED again (and its interrupt, once enabled): silicon does this (a
 * Nordic engineer in Zephyr PR #15114; nRF5 SDK 17.1's open bootloader as
 * run on hilda-emu: Nordic's open boot loader waits for this event and never
 * reads USBREGSTATUS). Firmware
 * that reads USBREGSTATUS at start-up (§3.6 step 1) sees the same. */
void power_reset(struct power *pw, enum reset_kind kind)
{
    if (kind == RESET_POWER_ON) {
        pw->resetreas = pw->pending_reasons & RESETREAS_MASK;
        pw->gpregret = 0;
        pw->gpregret2 = 0;
    } else {
        pw->resetreas |= (pw->pending_reasons ? pw->pending_reasons : POWER_RESETREAS_SREQ) & RESETREAS_MASK;
    }
    pw->pending_reasons = 0;
    pw->pofcon = pw->dcdcen = pw->dcdcen0 = 0;
    for (unsigned i = 0; i < RAM_BLOCKS; i++)
        pw->ram_power[i] = 0xFFFFu;
    pw->system_off = false;
    pw->usbd_enabled = false;
    pw->outputrdy = false;
    soc_cancel(pw->soc, &pw->regulator_ready);
    update_regulator(pw);
    if (pw->vbus && pw->slot->soc)    /* not while power_new builds the slot: it is not on the bus yet */
        nrf_events_raise(pw->ev, EVENTS_USBDETECTED);
}

struct power *power_new(struct soc *soc, struct nrf_events *ev, const struct periph *slot, bool vbus)
{
    struct power *pw = calloc(1, sizeof *pw);
    if (!pw)
        return NULL;
    pw->soc = soc;
    pw->ev = ev;
    pw->slot = slot;
    pw->vbus = vbus;
    pw->regulator_ready = (struct sched_event){ .name = "POWER USB regulator", .fire = regulator_ready, .ctx = pw };
    power_reset(pw, RESET_POWER_ON);
    return pw;
}

void power_free(struct power *pw)
{
    free(pw);
}

void power_set_vbus(struct power *pw, bool present)
{
    if (pw->vbus == present)
        return;
    pw->vbus = present;
    nrf_events_raise(pw->ev, present ? EVENTS_USBDETECTED : EVENTS_USBREMOVED);
    /* VBUS is a wake-up source from System OFF: the next reset says so. */
    if (present && pw->system_off)
        pw->pending_reasons |= POWER_RESETREAS_VBUS;
    update_regulator(pw);
}

void power_note_reset_reason(struct power *pw, uint32_t resetreas_bits)
{
    pw->pending_reasons |= resetreas_bits;
}

bool power_system_off(const struct power *pw)
{
    return pw->system_off;
}

void power_on_system_off(struct power *pw, void (*entered)(void *ctx), void *ctx)
{
    pw->off = entered;
    pw->off_ctx = ctx;
}

void power_usb_regulator(struct power *pw, bool usbd_enabled)
{
    pw->usbd_gates_regulator = true;
    pw->usbd_enabled = usbd_enabled;
    update_regulator(pw);
}
