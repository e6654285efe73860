/* nRF52840 USBD driver, from the nRF52840 Product Specification's USBD chapter
 * and errata. Section numbers (§3.6 ...) name its topics: docs/sources.md.
 *
 * Every USBD EasyDMA transfer goes through the DMA API and is waited for
 * right after it starts (§2.8: one USBD DMA at a time, and many USBD
 * registers must not be touched while one runs; a 64-byte transfer takes
 * microseconds). So the driver never has two transfers in flight, and
 * EP0STATUS / EP0RCVOUT are only triggered with the DMA engine idle.
 *
 * All of this runs in interrupt handlers of one priority (USBD, POWER and
 * the TIMER0 callback for delayed stages), which never preempt each other. */
#include "usbd.h"

#include "board.h"
#include "counters.h"
#include "dma.h"
#include "nrf52840.h"
#include "timer.h"
#include "usb_device.h"

#define USBD NRF_USBD_BASE
#define REG(off) NRF_REG(USBD, off)
#define EP_NUM(addr) ((addr) & 0x0Fu)
#define EP_IS_IN(addr) (((addr) & USB_EP_DIR_IN) != 0)
/* Data endpoints the driver can move packets on: EP1 and EP2 (the CDC ACM
 * bootloader's notification endpoint); raise it to use more. */
#define DATA_EP_MAX 2u

/* Bounded wait for EVENTCAUSE.READY after ENABLE (§3.6 step 4). */
#define READY_SPIN_LIMIT 1000000u

enum ep0_stage {
    EP0_IDLE,         /* no transfer, or its status stage is in the hardware's hands */
    EP0_DELAYED,      /* fault injection: the reply waits for TIMER_SLOT_USB_DELAY */
    EP0_DATA_IN,      /* a packet is loaded; waiting for EP0DATADONE */
    EP0_DATA_OUT,     /* EP0RCVOUT given; waiting for EP0DATADONE */
};

static struct {
    enum ep0_stage stage;
    struct usb_setup setup;
    struct usb_reply reply;
    uint16_t done;            /* data-stage bytes moved so far */
    bool zlp_pending;         /* a zero-length packet still ends this control read */
    bool last_packet;         /* the loaded IN packet is the last of the data stage */
} ep0;

static struct {
    struct usbd_endpoints eps;
    bool configured;
    bool in_busy[DATA_EP_MAX + 1];     /* a packet waits for the host's IN */
    bool out_waiting[DATA_EP_MAX + 1]; /* an OUT packet sits in the endpoint buffer, not yet drained */
} data;

static bool enabled;

/* EP0 data stages are assembled here and leave from here: descriptors are
 * copied out of flash first because EasyDMA cannot read flash (§8 point 1). */
DMA_BUFFER static uint8_t ep0_buf[HILDA_EP0_MAX_DATA];

/* Errata 199 (§2.8): the USBD may drop tasks while a data DMA runs unless
 * this undocumented register is set around it. */
static void errata_199_begin(void)
{
    REG(USBD_ERRATA199_REG) = 0x82;
}

static void errata_199_end(void)
{
    REG(USBD_ERRATA199_REG) = 0;
}

static struct dma_group usbd_dma = { .name = "USBD" };

#define USBD_CHANNEL(dir, n)                                                        \
    {                                                                               \
        .name = "USBD EP" #n " " #dir,                                              \
        .regs = {                                                                   \
            .ptr = &REG(USBD_EP##dir##_PTR(n)),                                     \
            .maxcnt = &REG(USBD_EP##dir##_MAXCNT(n)),                               \
            .amount = &REG(USBD_EP##dir##_AMOUNT(n)),                               \
            .task_start = &REG(USBD_TASKS_STARTEP##dir(n)),                         \
            .event_end = &REG(USBD_EVENTS_ENDEP##dir(n)),                           \
        },                                                                          \
        .maxcnt_limit = USBD_EP_MAXPACKET,                                          \
        .group = &usbd_dma,                                                         \
        .before_start = errata_199_begin,                                           \
        .after_end = errata_199_end,                                                \
    }

static struct dma_channel ep0_in = USBD_CHANNEL(IN, 0);
static struct dma_channel ep0_out = USBD_CHANNEL(OUT, 0);
static struct dma_channel data_in[DATA_EP_MAX + 1] = { [1] = USBD_CHANNEL(IN, 1), [2] = USBD_CHANNEL(IN, 2) };
static struct dma_channel data_out[DATA_EP_MAX + 1] = { [1] = USBD_CHANNEL(OUT, 1), [2] = USBD_CHANNEL(OUT, 2) };

/* Runs one USBD transfer to completion. A refusal here is a driver bug (the
 * DMA API caught it before the hardware saw it): stall the control transfer
 * rather than move data from the wrong place. Returns the AMOUNT moved. */
static int dma_run(struct dma_channel *ch, uint8_t *buf, uint16_t len)
{
    struct dma_transfer done;
    if (dma_start(ch, buf, len) != DMA_OK || dma_wait(ch, &done) != DMA_OK)
        return -1;
    counters.dma_usbd++;
    return (int)done.len;
}

/* §3.7: errata 171 and 187 write undocumented registers behind an unlock
 * word at 0x4006EC00 (write the key when it reads 0, write again to lock). */
static void errata_poke(uint32_t reg, uint32_t value)
{
    if (NRF_REG(0, NRF_ERRATA_UNLOCK) == 0) {
        NRF_REG(0, NRF_ERRATA_UNLOCK) = NRF_ERRATA_KEY;
        NRF_REG(0, reg) = value;
        NRF_REG(0, NRF_ERRATA_UNLOCK) = NRF_ERRATA_KEY;
    } else {
        NRF_REG(0, reg) = value;
    }
}

/* §3.7: 171 and 199 affect every nRF52840; 187 and 211 every revision but
 * Engineering A (revision word 0). FICR 0x130 is 8 on an nRF52840. */
static bool is_nrf52840(void)
{
    return NRF_REG(NRF_FICR_BASE, FICR_ERRATA_PART) == 0x08;
}

static bool errata_187_211_apply(void)
{
    return is_nrf52840() && NRF_REG(NRF_FICR_BASE, FICR_ERRATA_REV) != 0;
}

static void stall_ep0(void)
{
    REG(USBD_TASKS_EP0STALL) = 1;
    ep0.stage = EP0_IDLE;
}

/* Loads the next packet of a control read: 64-byte packets, then a ZLP if
 * the data ran out short of wLength on a packet boundary (§3.1, §3.2). */
static void load_in_packet(void)
{
    uint16_t left = (uint16_t)(ep0.reply.len - ep0.done);
    uint16_t n = left > USBD_EP_MAXPACKET ? USBD_EP_MAXPACKET : left;
    // cppcheck-suppress knownConditionTrueFalse ; n is 0 when the reply is all sent (ep0 is global state)
    if (n == 0)
        ep0.zlp_pending = false;         /* this empty packet is the ZLP */
    ep0.last_packet = ep0.done + n == ep0.reply.len && !ep0.zlp_pending;
    /* After the host ACKs the last packet, the hardware may run the status
     * stage by itself; earlier packets must not allow it (§2.3 bit 2). */
    REG(NRF_SHORTS) = ep0.last_packet ? USBD_SHORT_EP0DATADONE_EP0STATUS : 0;
    if (dma_run(&ep0_in, ep0_buf + ep0.done, n) != n) {
        REG(NRF_SHORTS) = 0;
        stall_ep0();
        return;
    }
    ep0.done = (uint16_t)(ep0.done + n);
    ep0.stage = EP0_DATA_IN;
}

static void arm_reply(void)
{
    switch (ep0.reply.stage) {
    case USB_STAGE_STALL:
        stall_ep0();
        break;
    case USB_STAGE_STATUS:
        REG(USBD_TASKS_EP0STATUS) = 1;
        ep0.stage = EP0_IDLE;
        break;
    case USB_STAGE_HW_STATUS:
        /* SET_ADDRESS: the USBD answers the status stage and takes the
         * address itself (§3.5); software must not interfere. */
        ep0.stage = EP0_IDLE;
        break;
    case USB_STAGE_DATA_IN:
        ep0.zlp_pending = ep0.reply.zlp;
        load_in_packet();
        break;
    case USB_STAGE_DATA_OUT:
        REG(USBD_TASKS_EP0RCVOUT) = 1;   /* ACK one OUT packet (§3.3 step 2) */
        ep0.stage = EP0_DATA_OUT;
        break;
    }
}

static void arm_delayed_reply(void)
{
    if (ep0.stage == EP0_DELAYED)
        arm_reply();
}

static void record_ep0_cycles(uint32_t since)
{
    uint32_t cycles = board_cycles() - since;
    counters.ep0_cycles_last = cycles;
    if (cycles > counters.ep0_cycles_max)
        counters.ep0_cycles_max = cycles;
}

static void handle_setup(uint32_t irq_cycles)
{
    /* A SETUP ends whatever control transfer was running (§3). */
    timer_cancel(TIMER_SLOT_USB_DELAY);
    REG(NRF_SHORTS) = 0;
    REG(USBD_EVENTS_EP0DATADONE) = 0;
    board_led_toggle(LED_ACTIVITY);

    ep0.setup = (struct usb_setup){
        .bmRequestType = (uint8_t)REG(USBD_BMREQUESTTYPE),
        .bRequest = (uint8_t)REG(USBD_BREQUEST),
        .wValue = (uint16_t)(REG(USBD_WVALUEL) | REG(USBD_WVALUEH) << 8),
        .wIndex = (uint16_t)(REG(USBD_WINDEXL) | REG(USBD_WINDEXH) << 8),
        .wLength = (uint16_t)(REG(USBD_WLENGTHL) | REG(USBD_WLENGTHH) << 8),
    };
    ep0.done = 0;
    ep0.reply = usb_device_setup(&ep0.setup, ep0_buf);
    if (ep0.reply.delay_ms) {
        ep0.stage = EP0_DELAYED;
        timer_start(TIMER_SLOT_USB_DELAY, ep0.reply.delay_ms * 1000u, arm_delayed_reply);
        return;
    }
    arm_reply();
    record_ep0_cycles(irq_cycles);
}

/* One OUT packet of a control write sits in the endpoint buffer (§3.3). */
static void receive_out_packet(void)
{
    uint16_t room = (uint16_t)(ep0.reply.len - ep0.done);
    uint16_t size = (uint16_t)REG(USBD_SIZE_EPOUT(0));
    /* The host may not send more than wLength; if it does, refuse the
     * transfer rather than write past what we agreed to receive. */
    if (size > room || dma_run(&ep0_out, ep0_buf + ep0.done, size) != size) {
        stall_ep0();
        return;
    }
    ep0.done = (uint16_t)(ep0.done + size);
    if (ep0.done < ep0.reply.len && size == USBD_EP_MAXPACKET) {
        REG(USBD_TASKS_EP0RCVOUT) = 1;
        return;
    }
    /* The last packet: no EP0RCVOUT now, it would accept the request (§3.3). */
    ep0.reply = usb_device_out_done(&ep0.setup, ep0_buf, ep0.done);
    arm_reply();
}

static void handle_ep0_datadone(void)
{
    switch (ep0.stage) {
    case EP0_DATA_IN:
        if (ep0.last_packet)
            ep0.stage = EP0_IDLE;        /* the short allowed the status stage */
        else
            load_in_packet();
        break;
    case EP0_DATA_OUT:
        receive_out_packet();
        break;
    case EP0_IDLE:
    case EP0_DELAYED:
        break;
    }
}

static bool data_ep_used(uint8_t ep_addr)
{
    uint32_t n = EP_NUM(ep_addr);
    uint8_t mask = EP_IS_IN(ep_addr) ? data.eps.in_mask : data.eps.out_mask;
    return n >= 1 && n <= DATA_EP_MAX && (mask & (1u << n));
}

/* An IN packet was taken by the host, or an OUT packet waits in its endpoint
 * buffer (§2.7): the function decides when to drain it. Until it does, the
 * endpoint NAKs further OUT packets, which is the flow control. */
static void handle_epdata(void)
{
    uint32_t status = REG(USBD_EPDATASTATUS);
    REG(USBD_EPDATASTATUS) = status;     /* W1C */
    if (!data.configured)
        return;
    for (uint8_t n = 1; n <= DATA_EP_MAX; n++) {
        if ((status & USBD_EPDATASTATUS_EPIN(n)) && data_ep_used(USB_EP_DIR_IN | n)) {
            data.in_busy[n] = false;
            if (data.eps.event)
                data.eps.event(USB_EP_DIR_IN | n);
        }
        if ((status & USBD_EPDATASTATUS_EPOUT(n)) && data_ep_used(n)) {
            data.out_waiting[n] = true;
            if (data.eps.event)
                data.eps.event(n);
        }
    }
}

bool usbd_ep_write(uint8_t ep_addr, uint8_t *buf, uint16_t len)
{
    uint32_t n = EP_NUM(ep_addr);
    if (!EP_IS_IN(ep_addr) || !data_ep_used(ep_addr) || !data.configured || data.in_busy[n] ||
        len > USBD_EP_MAXPACKET)
        return false;
    if (dma_run(&data_in[n], buf, len) != len)
        return false;
    data.in_busy[n] = true;
    return true;
}

bool usbd_ep_in_busy(uint8_t ep_addr)
{
    return data_ep_used(ep_addr) && data.in_busy[EP_NUM(ep_addr)];
}

bool usbd_ep_out_waiting(uint8_t ep_addr)
{
    return !EP_IS_IN(ep_addr) && data_ep_used(ep_addr) && data.out_waiting[EP_NUM(ep_addr)];
}

/* After this DMA the hardware accepts the next packet by itself (§2.7 step 4). */
int usbd_ep_read(uint8_t ep_addr, uint8_t *buf, uint16_t max)
{
    uint32_t n = EP_NUM(ep_addr);
    if (!usbd_ep_out_waiting(ep_addr) || !data.configured)
        return -1;
    uint16_t size = (uint16_t)REG(USBD_SIZE_EPOUT(n));
    if (size > max)
        size = max;
    data.out_waiting[n] = false;
    return dma_run(&data_out[n], buf, size);
}

static void set_low_power(bool low)
{
    bool wake_errata = !low && is_nrf52840();
    if (wake_errata)
        errata_poke(NRF_ERRATA_171_REG, 0xC0);   /* 171 "begin" around wake (§3.7) */
    REG(USBD_LOWPOWER) = low ? 1 : 0;
    if (wake_errata)
        errata_poke(NRF_ERRATA_171_REG, 0x00);
}

static void handle_usbevent(void)
{
    uint32_t cause = REG(USBD_EVENTCAUSE);
    REG(USBD_EVENTCAUSE) = cause;        /* W1C */
    if (cause & USBD_EVENTCAUSE_SUSPEND) {
        set_low_power(true);
        usb_device_suspend();
    }
    if (cause & USBD_EVENTCAUSE_RESUME) {
        set_low_power(false);
        usb_device_resume();
    }
}

static void handle_bus_reset(void)
{
    timer_cancel(TIMER_SLOT_USB_DELAY);
    if (REG(USBD_LOWPOWER))
        set_low_power(false);
    REG(NRF_SHORTS) = 0;
    ep0.stage = EP0_IDLE;
    counters.bus_resets++;
    usb_device_bus_reset();
}

void usbd_irq(void)
{
    uint32_t irq_cycles = board_cycles();
    if (REG(USBD_EVENTS_USBRESET)) {
        REG(USBD_EVENTS_USBRESET) = 0;
        handle_bus_reset();
    }
    if (REG(USBD_EVENTS_USBEVENT)) {
        REG(USBD_EVENTS_USBEVENT) = 0;
        handle_usbevent();
    }
    if (REG(USBD_EVENTS_EP0SETUP)) {
        /* Any EP0DATADONE still pending belongs to the transfer this SETUP
         * replaces; handle_setup discards it. */
        REG(USBD_EVENTS_EP0SETUP) = 0;
        handle_setup(irq_cycles);
    } else if (REG(USBD_EVENTS_EP0DATADONE)) {
        REG(USBD_EVENTS_EP0DATADONE) = 0;
        handle_ep0_datadone();
    }
    if (REG(USBD_EVENTS_EPDATA)) {
        REG(USBD_EVENTS_EPDATA) = 0;
        handle_epdata();
    }
}

/* §3.6 steps 2-5. */
static void enable(void)
{
    if (enabled)
        return;
    bool errata_187 = errata_187_211_apply();
    REG(USBD_EVENTCAUSE) = USBD_EVENTCAUSE_READY;
    if (errata_187)
        errata_poke(NRF_ERRATA_187_REG, 0x3);
    if (is_nrf52840())
        errata_poke(NRF_ERRATA_171_REG, 0xC0);
    REG(USBD_ENABLE) = 1;
    for (uint32_t i = 0; i < READY_SPIN_LIMIT && !(REG(USBD_EVENTCAUSE) & USBD_EVENTCAUSE_READY); i++)
        ;
    REG(USBD_EVENTCAUSE) = USBD_EVENTCAUSE_READY;
    if (is_nrf52840())
        errata_poke(NRF_ERRATA_171_REG, 0x00);
    /* errata 211: keep the 187 value while enabled; disable() clears it.
     * Errata 166 concerns isochronous double buffering, which hilda does
     * not use, so its workaround is left out. */
    enabled = true;
}

/* §3.6 steps 7-8, once the USB regulator is up (USBPWRRDY). */
static void connect(void)
{
    if (!enabled)
        return;
    REG(NRF_INTENSET) = USBD_INT(USBD_EVENTS_USBRESET) | USBD_INT(USBD_EVENTS_USBEVENT) |
                        USBD_INT(USBD_EVENTS_EP0SETUP) | USBD_INT(USBD_EVENTS_EP0DATADONE) |
                        USBD_INT(USBD_EVENTS_EPDATA);
    board_nvic_enable(NRF_IRQ_USBD);
    REG(USBD_USBPULLUP) = 1;
}

static void disable(void)
{
    if (!enabled)
        return;
    REG(USBD_USBPULLUP) = 0;
    REG(NRF_INTENCLR) = 0xFFFFFFFFu;
    timer_cancel(TIMER_SLOT_USB_DELAY);
    dma_abort(&ep0_in, 0);
    dma_abort(&ep0_out, 0);
    for (unsigned n = 1; n <= DATA_EP_MAX; n++) {
        dma_abort(&data_in[n], 0);
        dma_abort(&data_out[n], 0);
    }
    REG(USBD_ENABLE) = 0;
    if (errata_187_211_apply())
        errata_poke(NRF_ERRATA_187_REG, 0x0);
    enabled = false;
    ep0.stage = EP0_IDLE;
    usb_device_bus_reset();
}

void usbd_power_irq(void)
{
    if (NRF_REG(NRF_POWER_BASE, POWER_EVENTS_USBDETECTED)) {
        NRF_REG(NRF_POWER_BASE, POWER_EVENTS_USBDETECTED) = 0;
        enable();
    }
    if (NRF_REG(NRF_POWER_BASE, POWER_EVENTS_USBPWRRDY)) {
        NRF_REG(NRF_POWER_BASE, POWER_EVENTS_USBPWRRDY) = 0;
        connect();
    }
    if (NRF_REG(NRF_POWER_BASE, POWER_EVENTS_USBREMOVED)) {
        NRF_REG(NRF_POWER_BASE, POWER_EVENTS_USBREMOVED) = 0;
        disable();
    }
}

void usbd_init(const struct usbd_endpoints *eps)
{
    data.eps = *eps;
    NRF_REG(NRF_POWER_BASE, NRF_INTENSET) = POWER_INT_USBDETECTED | POWER_INT_USBREMOVED |
                                            POWER_INT_USBPWRRDY;
    board_nvic_enable(NRF_IRQ_CLOCK_POWER);
    /* VBUS may have been there since before the interrupts were enabled:
     * the events already fired, so act on the status register (§3.6 step 1). */
    uint32_t reg = NRF_REG(NRF_POWER_BASE, POWER_USBREGSTATUS);
    if (reg & POWER_USBREGSTATUS_VBUSDETECT) {
        enable();
        if (NRF_REG(NRF_POWER_BASE, POWER_USBREGSTATUS) & POWER_USBREGSTATUS_OUTPUTRDY)
            connect();
    }
}

void usbd_set_halt(uint8_t ep_addr, bool halt)
{
    uint32_t n = EP_NUM(ep_addr);
    uint32_t io = EP_IS_IN(ep_addr) ? USBD_EPSTALL_IN : 0;
    if (n == 0 || n > 7)
        return;
    if (!halt) {
        /* §2.7: reset the toggle to DATA0 first (select, then set), unstall,
         * and for OUT re-arm the endpoint. CLEAR_FEATURE(HALT) resets the
         * toggle even when the endpoint was not halted (§7.4). */
        REG(USBD_DTOGGLE) = n | (EP_IS_IN(ep_addr) ? USBD_DTOGGLE_IN : 0);
        REG(USBD_DTOGGLE) = n | (EP_IS_IN(ep_addr) ? USBD_DTOGGLE_IN : 0) | USBD_DTOGGLE_DATA0;
    }
    REG(USBD_EPSTALL) = n | io | (halt ? USBD_EPSTALL_STALL : 0);
    if (!halt && !EP_IS_IN(ep_addr) && !(n <= DATA_EP_MAX && data.out_waiting[n]))
        REG(USBD_SIZE_EPOUT(n)) = 0;
}

bool usbd_halted(uint8_t ep_addr)
{
    uint32_t n = EP_NUM(ep_addr);
    if (n > 7)
        return false;
    uint32_t reg = EP_IS_IN(ep_addr) ? REG(USBD_HALTED_EPIN(n)) : REG(USBD_HALTED_EPOUT(n));
    return (reg & 0xFFFFu) == 1;
}

void usbd_set_configured(bool configured)
{
    data.configured = configured;
    for (unsigned n = 0; n <= DATA_EP_MAX; n++) {
        data.in_busy[n] = false;
        data.out_waiting[n] = false;
    }
    board_led(LED_CONFIGURED, configured);
    if (configured) {
        REG(USBD_EPINEN) |= data.eps.in_mask;
        REG(USBD_EPOUTEN) |= data.eps.out_mask;
        for (uint8_t n = 1; n <= DATA_EP_MAX; n++) {
            if (data.eps.in_mask & (1u << n))
                usbd_set_halt(USB_EP_DIR_IN | n, false);
            if (data.eps.out_mask & (1u << n))
                usbd_set_halt(n, false);
        }
    } else {
        REG(USBD_EPINEN) &= ~(uint32_t)data.eps.in_mask;
        REG(USBD_EPOUTEN) &= ~(uint32_t)data.eps.out_mask;
    }
}

void usbd_deinit(void)
{
    NRF_REG(NRF_POWER_BASE, NRF_INTENCLR) = POWER_INT_USBDETECTED | POWER_INT_USBREMOVED | POWER_INT_USBPWRRDY;
    disable();
}
