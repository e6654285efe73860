/* USBD model: the nRF52840 USB device controller (reference §2, §3) with a
 * full-speed host controller in front of it. See usbd.h.
 *
 * How a transfer moves: the host side runs one transaction at a time in
 * virtual time (host_step). A transaction the device is not ready for is
 * NAKed; instead of polling, the host retries when the firmware changes
 * something (any register write "kicks" it), which is what a real host's
 * endless NAK-retry comes down to, minus the wasted bus time. */
#include "usbd.h"

#include <stdlib.h>
#include <string.h>

#include "nrf_events.h"
#include "power.h"
#include "soc_impl.h"

/* §2.1 tasks */
#define T_STARTEPIN(n)   (0x004u + 4u * (n))
#define T_STARTISOIN     0x024u
#define T_STARTEPOUT(n)  (0x028u + 4u * (n))
#define T_STARTISOOUT    0x048u
#define T_EP0RCVOUT      0x04Cu
#define T_EP0STATUS      0x050u
#define T_EP0STALL       0x054u
#define T_DPDMDRIVE      0x058u
#define T_DPDMNODRIVE    0x05Cu
/* §2.2 events */
#define E_USBRESET       0x100u
#define E_STARTED        0x104u
#define E_ENDEPIN(n)     (0x108u + 4u * (n))
#define E_EP0DATADONE    0x128u
#define E_ENDEPOUT(n)    (0x130u + 4u * (n))
#define E_SOF            0x154u
#define E_USBEVENT       0x158u
#define E_EP0SETUP       0x15Cu
#define E_EPDATA         0x160u
/* §2.3 shorts */
#define S_EP0DATADONE_STARTEPIN0  (1u << 0)
#define S_EP0DATADONE_STARTEPOUT0 (1u << 1)
#define S_EP0DATADONE_EP0STATUS   (1u << 2)
#define S_ENDEPOUT0_EP0STATUS     (1u << 3)
#define S_ENDEPOUT0_EP0RCVOUT     (1u << 4)
/* §2.5 */
#define R_EVENTCAUSE     0x400u
#define R_HALTED_EPIN(n) (0x420u + 4u * (n))
#define R_HALTED_EPOUT(n) (0x444u + 4u * (n))
#define R_EPSTATUS       0x468u
#define R_EPDATASTATUS   0x46Cu
#define R_USBADDR        0x470u
#define R_SETUP0         0x480u   /* BMREQUESTTYPE .. WLENGTHH, a byte per word */
#define R_SETUP7         0x49Cu
#define R_SIZE_EPOUT(n)  (0x4A0u + 4u * (n))
#define R_SIZE_ISOOUT    0x4C0u
#define R_ENABLE         0x500u
#define R_USBPULLUP      0x504u
#define R_DPDMVALUE      0x508u
#define R_DTOGGLE        0x50Cu
#define R_EPINEN         0x510u
#define R_EPOUTEN        0x514u
#define R_EPSTALL        0x518u
#define R_ISOSPLIT       0x51Cu
#define R_FRAMECNTR      0x520u
#define R_LOWPOWER       0x52Cu
#define R_ISOINCONFIG    0x530u
#define R_EPIN(n)        (0x600u + 0x14u * (n))   /* PTR, MAXCNT, AMOUNT */
#define R_EPOUT(n)       (0x700u + 0x14u * (n))
#define R_ISOIN          0x6A0u
#define R_ISOOUT         0x7A0u

#define CAUSE_SUSPEND      (1u << 8)
#define CAUSE_RESUME       (1u << 9)
#define CAUSE_USBWUALLOWED (1u << 10)
#define CAUSE_READY        (1u << 11)

#define NEP 8
#define MPS 64u

/* Virtual-time costs. Full speed moves 1.5 bytes a microsecond; a
 * transaction adds token, handshake and inter-packet gaps. EasyDMA on the
 * 32-bit AHB is modelled at a byte per cycle plus a start-up. */
#define T_TRANSACTION(bytes) (SOC_US(2) + (vtime_t)(bytes) * SOC_CYCLES_PER_US * 2 / 3)
#define T_DMA(bytes)         (16u + (vtime_t)(bytes))
#define T_READY              SOC_US(10)
#define T_KICK               SOC_US(1)
#define T_FRAME              SOC_MS(1)

enum ctrl_stage { ST_SETUP, ST_DATA_IN, ST_DATA_OUT, ST_STATUS_IN, ST_STATUS_OUT };

struct usbd;

struct ep_in {
    struct usbd *u;
    unsigned n;
    uint32_t ptr, maxcnt, amount;
    struct easydma dma;
    struct sched_event dma_done;
    uint8_t buf[MPS];
    uint32_t len;
    bool loaded;          /* the endpoint buffer holds a packet for the host */
    bool stalled;
    uint8_t toggle;       /* device side: DATA0 = 0, DATA1 = 1 */
};

struct ep_out {
    struct usbd *u;
    unsigned n;
    uint32_t ptr, maxcnt, amount;
    struct easydma dma;
    struct sched_event dma_done;
    uint8_t buf[MPS];
    uint32_t size;        /* SIZE.EPOUT */
    bool armed;           /* will ACK the next packet */
    bool stalled;
    uint8_t toggle;
};

struct usbd {
    struct periph p;
    struct nrf_events ev;
    struct periph *power;
    struct usbd_host_events host_events;

    bool enabled, pullup, connected, lowpower, suspended;
    uint32_t eventcause, epstatus, epdatastatus;
    uint32_t epinen, epouten, dtoggle, dpdmvalue, isosplit, isoinconfig;
    uint8_t address;              /* USBADDR */
    uint8_t setup[8];
    vtime_t frame_epoch;
    struct sched_event ready_ev, host_ev, sof_ev;

    struct ep_in in[NEP];
    struct ep_out out[NEP];

    /* EP0 handshake state on the device side */
    bool ep0_stalled, ep0_status_allowed, ep0_rcvout;
    int pending_address;          /* SET_ADDRESS seen: applied after its status stage; -1 none */

    /* host side: its data toggles and the transfer queues (head = running) */
    uint8_t host_toggle_in[NEP], host_toggle_out[NEP];
    struct usb_xfer *ctrl;
    struct usb_xfer *bulk_in[NEP], *bulk_out[NEP];
};

static struct usbd *to_usbd(struct periph *p)
{
    return p->state;
}

static void kick(struct usbd *u)
{
    if (!u->host_ev.pending)
        soc_schedule(u->p.soc, &u->host_ev, T_KICK);
}

/* ---- transfers ---- */

static void finish(struct usb_xfer **queue, struct usb_xfer *x, enum usb_xfer_status status)
{
    for (struct usb_xfer **pp = queue; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    }
    x->next = NULL;
    x->status = status;
    if (x->done)
        x->done(x, x->ctx);
}

static void fail_queue(struct usb_xfer **queue, enum usb_xfer_status status)
{
    while (*queue)
        finish(queue, *queue, status);
}

static void fail_all(struct usbd *u, enum usb_xfer_status status)
{
    fail_queue(&u->ctrl, status);
    for (unsigned n = 0; n < NEP; n++) {
        fail_queue(&u->bulk_in[n], status);
        fail_queue(&u->bulk_out[n], status);
    }
}

/* Endpoints back to their reset state: bus reset (§2.7: EP1-7 disabled
 * again), enable. A DMA in flight finishes on its own. */
static void reset_endpoints(struct usbd *u)
{
    for (unsigned n = 0; n < NEP; n++) {
        u->in[n].loaded = u->in[n].stalled = false;
        u->out[n].armed = u->out[n].stalled = false;
        u->in[n].toggle = u->out[n].toggle = 0;
        u->out[n].size = 0;
        u->host_toggle_in[n] = u->host_toggle_out[n] = 0;
    }
    u->epinen = u->epouten = 0x01;
    u->ep0_stalled = u->ep0_status_allowed = u->ep0_rcvout = false;
    u->pending_address = -1;
    u->epstatus = u->epdatastatus = 0;
}

static void update_connection(struct usbd *u)
{
    bool connected = u->enabled && u->pullup;
    if (connected == u->connected)
        return;
    u->connected = connected;
    if (connected) {
        u->frame_epoch = soc_now(u->p.soc);
    } else {
        fail_all(u, USB_XFER_DISCONNECTED);
        u->address = 0;
        u->suspended = false;
    }
    if (u->host_events.connect)
        u->host_events.connect(u->host_events.ctx, connected);
}

/* ---- EasyDMA (§2.6, §2.8) ---- */

static void start_in_dma(struct usbd *u, unsigned n)
{
    struct ep_in *e = &u->in[n];
    uint32_t cnt = e->maxcnt & 0x7F;
    if (e->dma.active) {
        soc_log(u->p.soc, "emu: USBD STARTEPIN[%u] while its DMA still runs: ignored\n", n);
        return;
    }
    if (cnt > MPS) {
        soc_log(u->p.soc, "emu: USBD EPIN[%u].MAXCNT %u exceeds the 64-byte endpoint buffer; 64 used\n", n, cnt);
        cnt = MPS;
    }
    u->epstatus |= 1u << n;
    nrf_events_raise(&u->ev, E_STARTED);
    e->loaded = false;
    easydma_begin(u->p.soc, &e->dma, e->ptr, cnt);
    soc_schedule(u->p.soc, &e->dma_done, T_DMA(cnt));
}

static void in_dma_done(struct soc *soc, void *ctx)
{
    struct ep_in *e = ctx;
    struct usbd *u = e->u;
    memset(e->buf, 0, sizeof e->buf);
    easydma_read(soc, &e->dma, e->buf, e->dma.maxcnt);
    /* a bad pointer was reported at the start; the host still gets a packet */
    e->len = e->dma.maxcnt;
    e->amount = e->len;
    easydma_end(soc, &e->dma);
    e->loaded = true;
    nrf_events_raise(&u->ev, E_ENDEPIN(e->n));
    kick(u);
}

static void start_out_dma(struct usbd *u, unsigned n)
{
    struct ep_out *e = &u->out[n];
    uint32_t cnt = e->maxcnt & 0x7F;
    if (e->dma.active) {
        soc_log(u->p.soc, "emu: USBD STARTEPOUT[%u] while its DMA still runs: ignored\n", n);
        return;
    }
    if (cnt > MPS)
        cnt = MPS;
    u->epstatus |= 1u << (16 + n);
    nrf_events_raise(&u->ev, E_STARTED);
    easydma_begin(u->p.soc, &e->dma, e->ptr, cnt);
    soc_schedule(u->p.soc, &e->dma_done, T_DMA(cnt));
}

static void task_ep0status(struct usbd *u);
static void task_ep0rcvout(struct usbd *u);

static void out_dma_done(struct soc *soc, void *ctx)
{
    struct ep_out *e = ctx;
    struct usbd *u = e->u;
    uint32_t cnt = e->size < e->dma.maxcnt ? e->size : e->dma.maxcnt;
    e->amount = easydma_write(soc, &e->dma, e->buf, cnt);
    if (e->dma.bad_pointer)
        e->amount = cnt;
    easydma_end(soc, &e->dma);
    if (e->n != 0)
        e->armed = true;   /* §2.7: the endpoint accepts the next packet after its DMA */
    nrf_events_raise(&u->ev, E_ENDEPOUT(e->n));
    if (e->n == 0) {
        if (u->ev.shorts & S_ENDEPOUT0_EP0STATUS)
            task_ep0status(u);
        if (u->ev.shorts & S_ENDEPOUT0_EP0RCVOUT)
            task_ep0rcvout(u);
    }
    kick(u);
}

/* ---- EP0 tasks (§3) ---- */

static void task_ep0status(struct usbd *u)
{
    u->ep0_status_allowed = true;
    kick(u);
}

static void task_ep0rcvout(struct usbd *u)
{
    u->ep0_rcvout = true;
    kick(u);
}

static void ep0datadone(struct usbd *u)
{
    nrf_events_raise(&u->ev, E_EP0DATADONE);
    if (u->ev.shorts & S_EP0DATADONE_STARTEPIN0)
        start_in_dma(u, 0);
    if (u->ev.shorts & S_EP0DATADONE_STARTEPOUT0)
        start_out_dma(u, 0);
    if (u->ev.shorts & S_EP0DATADONE_EP0STATUS)
        task_ep0status(u);
}

/* ---- the host controller: one transaction per step ---- */

static uint16_t setup_wlength(const struct usb_xfer *x)
{
    return (uint16_t)(x->setup[6] | x->setup[7] << 8);
}

static bool is_set_address(const uint8_t *s)
{
    return s[0] == 0x00 && s[1] == 0x05;
}

/* Standard requests after which the host resets its data toggles (USB 2.0
 * §9.4.5, 9.4.7, 9.4.10): CLEAR_FEATURE(ENDPOINT_HALT), SET_CONFIGURATION,
 * SET_INTERFACE. The host controller side knows what it sent. */
static void host_toggles_after(struct usbd *u, const uint8_t *s)
{
    if (s[0] == 0x02 && s[1] == 0x01 && s[2] == 0 && s[3] == 0) {
        unsigned n = s[4] & 0x0F;
        if (n < NEP) {
            if (s[4] & 0x80)
                u->host_toggle_in[n] = 0;
            else
                u->host_toggle_out[n] = 0;
        }
    } else if ((s[0] == 0x00 && s[1] == 0x09) || (s[0] == 0x01 && s[1] == 0x0B)) {
        memset(u->host_toggle_in, 0, sizeof u->host_toggle_in);
        memset(u->host_toggle_out, 0, sizeof u->host_toggle_out);
    }
}

static void ctrl_done(struct usbd *u, struct usb_xfer *x, enum usb_xfer_status st)
{
    if (st == USB_XFER_OK) {
        host_toggles_after(u, x->setup);
        if (is_set_address(x->setup) && u->pending_address >= 0)
            u->address = (uint8_t)u->pending_address;   /* §3.5: after the status stage */
    }
    u->pending_address = -1;
    finish(&u->ctrl, x, st);
}

/* Returns the bus time used, 0 if every transaction was NAKed. */
static vtime_t ctrl_step(struct usbd *u)
{
    struct usb_xfer *x = u->ctrl;
    uint16_t wlength = setup_wlength(x);

    switch (x->stage) {
    case ST_SETUP:
        /* A SETUP is always ACKed and ends whatever EP0 was doing (§3). */
        memcpy(u->setup, x->setup, 8);
        u->ep0_stalled = u->ep0_status_allowed = u->ep0_rcvout = false;
        u->in[0].loaded = false;
        u->pending_address = is_set_address(x->setup) ? (x->setup[2] & 0x7F) : -1;
        x->actual = 0;
        x->stage = wlength == 0 ? ST_STATUS_IN : (x->setup[0] & 0x80) ? ST_DATA_IN : ST_DATA_OUT;
        nrf_events_raise(&u->ev, E_EP0SETUP);
        return T_TRANSACTION(8);
    case ST_DATA_IN: {
        if (u->ep0_stalled) {
            ctrl_done(u, x, USB_XFER_STALL);
            return T_TRANSACTION(0);
        }
        struct ep_in *e = &u->in[0];
        if (!e->loaded)
            return 0;
        uint32_t n = e->len;
        e->loaded = false;
        if (x->actual + n > x->len) {
            ctrl_done(u, x, USB_XFER_OVERFLOW);   /* babble: more than wLength */
            return T_TRANSACTION(n);
        }
        memcpy(x->buf + x->actual, e->buf, n);
        x->actual += n;
        if (n < MPS || x->actual == wlength)
            x->stage = ST_STATUS_OUT;
        ep0datadone(u);
        return T_TRANSACTION(n);
    }
    case ST_DATA_OUT: {
        if (u->ep0_stalled) {
            ctrl_done(u, x, USB_XFER_STALL);
            return T_TRANSACTION(0);
        }
        if (!u->ep0_rcvout)
            return 0;
        struct ep_out *e = &u->out[0];
        uint32_t n = wlength - x->actual < MPS ? wlength - x->actual : MPS;
        memcpy(e->buf, x->buf + x->actual, n);
        e->size = n;
        u->ep0_rcvout = false;
        x->actual += n;
        if (x->actual == wlength)
            x->stage = ST_STATUS_IN;
        ep0datadone(u);
        return T_TRANSACTION(n);
    }
    case ST_STATUS_IN:
    case ST_STATUS_OUT:
        if (u->ep0_stalled) {
            ctrl_done(u, x, USB_XFER_STALL);
            return T_TRANSACTION(0);
        }
        /* SET_ADDRESS: the USBD runs this status stage itself (§3.5) */
        if (!u->ep0_status_allowed && !(is_set_address(x->setup) && x->stage == ST_STATUS_IN))
            return 0;
        ctrl_done(u, x, USB_XFER_OK);
        return T_TRANSACTION(0);
    }
    return 0;
}

static vtime_t bulk_in_step(struct usbd *u, unsigned n)
{
    struct usb_xfer *x = u->bulk_in[n];
    struct ep_in *e = &u->in[n];
    if (!(u->epinen & (1u << n)))
        return 0;   /* a disabled endpoint does not answer: the host times out */
    if (e->stalled) {
        finish(&u->bulk_in[n], x, USB_XFER_STALL);
        return T_TRANSACTION(0);
    }
    if (!e->loaded)
        return 0;
    uint32_t len = e->len;
    bool duplicate = e->toggle != u->host_toggle_in[n];
    e->loaded = false;
    e->toggle ^= 1;
    u->epdatastatus |= 1u << n;
    nrf_events_raise(&u->ev, E_EPDATA);
    /* A packet with the toggle the host did not expect is taken for a
     * retransmission: ACKed and dropped (USB 2.0 §8.6). */
    if (duplicate)
        return T_TRANSACTION(len);
    u->host_toggle_in[n] ^= 1;
    if (x->actual + len > x->len) {
        finish(&u->bulk_in[n], x, USB_XFER_OVERFLOW);
        return T_TRANSACTION(len);
    }
    memcpy(x->buf + x->actual, e->buf, len);
    x->actual += len;
    if (len < MPS || x->actual == x->len)
        finish(&u->bulk_in[n], x, USB_XFER_OK);
    return T_TRANSACTION(len);
}

static vtime_t bulk_out_step(struct usbd *u, unsigned n)
{
    struct usb_xfer *x = u->bulk_out[n];
    struct ep_out *e = &u->out[n];
    if (!(u->epouten & (1u << n)))
        return 0;
    if (e->stalled) {
        finish(&u->bulk_out[n], x, USB_XFER_STALL);
        return T_TRANSACTION(0);
    }
    if (!e->armed)
        return 0;
    uint32_t len = x->len - x->actual < MPS ? x->len - x->actual : MPS;
    bool duplicate = e->toggle != u->host_toggle_out[n];
    u->host_toggle_out[n] ^= 1;
    x->actual += len;
    if (!duplicate) {
        memcpy(e->buf, x->buf + x->actual - len, len);
        e->size = len;
        e->armed = false;
        e->toggle ^= 1;
        u->epdatastatus |= 1u << (16 + n);
        nrf_events_raise(&u->ev, E_EPDATA);
    }
    if (x->actual == x->len)
        finish(&u->bulk_out[n], x, USB_XFER_OK);
    return T_TRANSACTION(len);
}

static void host_step(struct soc *soc, void *ctx)
{
    struct usbd *u = ctx;
    (void)soc;
    if (!u->connected || u->suspended)
        return;
    vtime_t used = 0;
    if (u->ctrl)
        used += ctrl_step(u);
    for (unsigned n = 1; n < NEP; n++) {
        if (u->bulk_in[n])
            used += bulk_in_step(u, n);
        if (u->bulk_out[n])
            used += bulk_out_step(u, n);
    }
    /* Progress: go on after the bus time used. All NAKed: wait for a kick. */
    if (used)
        soc_schedule(u->p.soc, &u->host_ev, used);
}

/* ---- registers ---- */

static void enable(struct usbd *u, bool on)
{
    if (on == u->enabled)
        return;
    u->enabled = on;
    if (on) {
        reset_endpoints(u);
        soc_schedule(u->p.soc, &u->ready_ev, T_READY);
    } else {
        soc_cancel(u->p.soc, &u->ready_ev);
        u->eventcause = 0;
    }
    if (u->power)
        power_usb_regulator(u->power, on);
    update_connection(u);
}

static void ready(struct soc *soc, void *ctx)
{
    struct usbd *u = ctx;
    (void)soc;
    u->eventcause |= CAUSE_READY;
    nrf_events_raise(&u->ev, E_USBEVENT);
}

static void sof(struct soc *soc, void *ctx)
{
    struct usbd *u = ctx;
    (void)soc;
    if (u->connected && !u->suspended)
        nrf_events_raise(&u->ev, E_SOF);
    if (u->ev.inten & NRF_EVENT_MASK(E_SOF))
        soc_schedule(u->p.soc, &u->sof_ev, T_FRAME);
}

static uint32_t frame_counter(const struct usbd *u)
{
    if (!u->connected)
        return 0;
    return (uint32_t)((soc_now(u->p.soc) - u->frame_epoch) / T_FRAME) & 0x7FF;
}

static void write_dtoggle(struct usbd *u, uint32_t v)
{
    unsigned n = v & 7;
    bool in = v & 0x80;
    uint32_t value = (v >> 8) & 3;
    u->dtoggle = v & 0x87;
    if (value == 1 || value == 2) {
        uint8_t t = (uint8_t)(value - 1);
        if (in)
            u->in[n].toggle = t;
        else
            u->out[n].toggle = t;
    }
}

static uint32_t read_dtoggle(const struct usbd *u)
{
    unsigned n = u->dtoggle & 7;
    bool in = u->dtoggle & 0x80;
    uint8_t t = in ? u->in[n].toggle : u->out[n].toggle;
    return u->dtoggle | (uint32_t)(t + 1) << 8;
}

static void write_epstall(struct usbd *u, uint32_t v)
{
    unsigned n = v & 7;
    bool in = v & 0x80, stall = v & 0x100;
    if (n == 0) {
        soc_log(u->p.soc, "emu: USBD EPSTALL on EP0 has no effect (use TASKS_EP0STALL, §2.5)\n");
        return;
    }
    if (in)
        u->in[n].stalled = stall;
    else
        u->out[n].stalled = stall;
    kick(u);
}

static uint32_t *epin_reg(struct usbd *u, uint32_t off)
{
    unsigned n = (off - 0x600u) / 0x14u, f = (off - 0x600u) % 0x14u;
    if (n >= NEP)
        return NULL;
    return f == 0 ? &u->in[n].ptr : f == 4 ? &u->in[n].maxcnt : f == 8 ? &u->in[n].amount : NULL;
}

static uint32_t *epout_reg(struct usbd *u, uint32_t off)
{
    unsigned n = (off - 0x700u) / 0x14u, f = (off - 0x700u) % 0x14u;
    if (n >= NEP)
        return NULL;
    return f == 0 ? &u->out[n].ptr : f == 4 ? &u->out[n].maxcnt : f == 8 ? &u->out[n].amount : NULL;
}

static uint32_t usbd_read(struct periph *p, uint32_t off)
{
    struct usbd *u = to_usbd(p);
    uint32_t v;
    if (nrf_events_read(&u->ev, off, &v))
        return v;
    if (off >= R_HALTED_EPIN(0) && off <= R_HALTED_EPIN(7))
        return u->in[(off - R_HALTED_EPIN(0)) / 4].stalled;
    if (off >= R_HALTED_EPOUT(0) && off <= R_HALTED_EPOUT(7))
        return u->out[(off - R_HALTED_EPOUT(0)) / 4].stalled;
    if (off >= R_SETUP0 && off <= R_SETUP7 && (off & 3) == 0)
        return u->setup[(off - R_SETUP0) / 4];
    if (off >= R_SIZE_EPOUT(0) && off <= R_SIZE_EPOUT(7))
        return u->out[(off - R_SIZE_EPOUT(0)) / 4].size;
    if (off >= 0x600 && off < 0x6A0) {
        uint32_t *r = epin_reg(u, off);
        if (r)
            return *r;
    }
    if (off >= 0x700 && off < 0x7A0) {
        uint32_t *r = epout_reg(u, off);
        if (r)
            return *r;
    }
    switch (off) {
    case R_EVENTCAUSE: return u->eventcause;
    case R_EPSTATUS: return u->epstatus;
    case R_EPDATASTATUS: return u->epdatastatus;
    case R_USBADDR: return u->address;
    case R_SIZE_ISOOUT: return 0x00010000u;
    case R_ENABLE: return u->enabled;
    case R_USBPULLUP: return u->pullup;
    case R_DPDMVALUE: return u->dpdmvalue;
    case R_DTOGGLE: return read_dtoggle(u);
    case R_EPINEN: return u->epinen;
    case R_EPOUTEN: return u->epouten;
    case R_ISOSPLIT: return u->isosplit;
    case R_FRAMECNTR: return frame_counter(u);
    case R_LOWPOWER: return u->lowpower;
    case R_ISOINCONFIG: return u->isoinconfig;
    case 0x800: case 0x804: case 0xC1C:
        return 0;   /* undocumented errata registers (§2.6): accepted, read 0 */
    }
    soc_unmodelled(p->soc, p, off, false);
    return 0;
}

static void usbd_write(struct periph *p, uint32_t off, uint32_t v)
{
    struct usbd *u = to_usbd(p);
    if (off >= T_STARTEPIN(0) && off <= T_STARTEPIN(7)) {
        if (v & 1)
            start_in_dma(u, (off - T_STARTEPIN(0)) / 4);
        return;
    }
    if (off >= T_STARTEPOUT(0) && off <= T_STARTEPOUT(7)) {
        if (v & 1)
            start_out_dma(u, (off - T_STARTEPOUT(0)) / 4);
        return;
    }
    if (nrf_events_write(&u->ev, off, v)) {
        if ((off == NRF_INTEN || off == NRF_INTENSET) && (u->ev.inten & NRF_EVENT_MASK(E_SOF)) &&
            !u->sof_ev.pending)
            soc_schedule(p->soc, &u->sof_ev, T_FRAME);
        return;
    }
    if (off >= R_SIZE_EPOUT(0) && off <= R_SIZE_EPOUT(7)) {
        /* §2.5: writing any value lets the endpoint ACK the next packet */
        unsigned n = (off - R_SIZE_EPOUT(0)) / 4;
        if (n != 0)
            u->out[n].armed = true;
        kick(u);
        return;
    }
    if (off >= 0x600 && off < 0x6A0) {
        uint32_t *r = epin_reg(u, off);
        if (r && r != &u->in[(off - 0x600u) / 0x14u].amount) {
            *r = v;
            return;
        }
    }
    if (off >= 0x700 && off < 0x7A0) {
        uint32_t *r = epout_reg(u, off);
        if (r && r != &u->out[(off - 0x700u) / 0x14u].amount) {
            *r = v;
            return;
        }
    }
    switch (off) {
    case T_EP0RCVOUT:
        if (v & 1)
            task_ep0rcvout(u);
        return;
    case T_EP0STATUS:
        if (v & 1)
            task_ep0status(u);
        return;
    case T_EP0STALL:
        if (v & 1) {
            u->ep0_stalled = true;
            kick(u);
        }
        return;
    case T_DPDMDRIVE:
    case T_DPDMNODRIVE:
    case T_STARTISOIN:
    case T_STARTISOOUT:
        soc_unmodelled(p->soc, p, off, true);
        return;
    case R_EVENTCAUSE:
        u->eventcause &= ~v;   /* W1C */
        return;
    case R_EPSTATUS:
        u->epstatus &= ~v;
        return;
    case R_EPDATASTATUS:
        u->epdatastatus &= ~v;
        return;
    case R_ENABLE:
        enable(u, v & 1);
        return;
    case R_USBPULLUP:
        u->pullup = v & 1;
        update_connection(u);
        return;
    case R_DPDMVALUE:
        u->dpdmvalue = v & 0x1F;
        return;
    case R_DTOGGLE:
        write_dtoggle(u, v);
        return;
    case R_EPINEN:
        u->epinen = v & 0x1FF;
        kick(u);
        return;
    case R_EPOUTEN:
        u->epouten = v & 0x1FF;
        kick(u);
        return;
    case R_EPSTALL:
        write_epstall(u, v);
        return;
    case R_ISOSPLIT:
        u->isosplit = v;
        return;
    case R_LOWPOWER:
        u->lowpower = v & 1;
        return;
    case R_ISOINCONFIG:
        u->isoinconfig = v & 1;
        return;
    case 0x800: case 0x804: case 0xC1C:
        return;   /* errata 166 / 199 registers: accepted silently */
    }
    soc_unmodelled(p->soc, p, off, true);
}

static void usbd_reset(struct periph *p, enum reset_kind kind)
{
    struct usbd *u = to_usbd(p);
    (void)kind;
    u->pullup = false;
    u->enabled = false;
    u->lowpower = false;
    update_connection(u);
    nrf_events_reset(&u->ev);
    reset_endpoints(u);
    u->eventcause = 0;
    u->dtoggle = 0;
    u->address = 0;
    memset(u->setup, 0, sizeof u->setup);
    for (unsigned n = 0; n < NEP; n++) {
        u->in[n].ptr = u->in[n].maxcnt = u->in[n].amount = 0;
        u->out[n].ptr = u->out[n].maxcnt = u->out[n].amount = 0;
        u->in[n].dma.active = u->out[n].dma.active = false;
    }
}

struct periph *usbd_model_new(struct soc *soc)
{
    struct usbd *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->p = (struct periph){ .name = "USBD", .base = USBD_MODEL_BASE, .size = 0x1000,
                            .read = usbd_read, .write = usbd_write, .reset = usbd_reset, .state = u };
    u->host_ev = (struct sched_event){ .name = "USB host", .fire = host_step, .ctx = u };
    u->ready_ev = (struct sched_event){ .name = "USBD ready", .fire = ready, .ctx = u };
    u->sof_ev = (struct sched_event){ .name = "USB SOF", .fire = sof, .ctx = u };
    for (unsigned n = 0; n < NEP; n++) {
        u->in[n].u = u->out[n].u = u;
        u->in[n].n = u->out[n].n = n;
        static const char *const in_names[NEP] = { "EPIN0", "EPIN1", "EPIN2", "EPIN3",
                                                   "EPIN4", "EPIN5", "EPIN6", "EPIN7" };
        static const char *const out_names[NEP] = { "EPOUT0", "EPOUT1", "EPOUT2", "EPOUT3",
                                                    "EPOUT4", "EPOUT5", "EPOUT6", "EPOUT7" };
        u->in[n].dma = (struct easydma){ .periph = "USBD", .channel = in_names[n], .group = 1 };
        u->out[n].dma = (struct easydma){ .periph = "USBD", .channel = out_names[n], .writes_ram = true,
                                          .group = 1 };
        u->in[n].dma_done = (struct sched_event){ .name = "USBD EPIN DMA", .fire = in_dma_done, .ctx = &u->in[n] };
        u->out[n].dma_done = (struct sched_event){ .name = "USBD EPOUT DMA", .fire = out_dma_done, .ctx = &u->out[n] };
    }
    soc_add_periph(soc, &u->p);
    nrf_events_init(&u->ev, &u->p, USBD_MODEL_IRQ);
    reset_endpoints(u);
    u->pending_address = -1;
    return &u->p;
}

void usbd_model_free(struct periph *usbd)
{
    free(usbd ? usbd->state : NULL);
}

void usbd_model_set_power(struct periph *usbd, struct periph *power)
{
    struct usbd *u = to_usbd(usbd);
    u->power = power;
    /* power.h: from now on the regulator follows ENABLE, starting disabled */
    if (power)
        power_usb_regulator(power, u->enabled);
}

void usbd_host_set_events(struct periph *usbd, const struct usbd_host_events *ev)
{
    to_usbd(usbd)->host_events = *ev;
}

bool usbd_host_connected(const struct periph *usbd)
{
    return ((const struct usbd *)usbd->state)->connected;
}

uint8_t usbd_host_address(const struct periph *usbd)
{
    return ((const struct usbd *)usbd->state)->address;
}

bool usbd_host_submit(struct periph *usbd, struct usb_xfer *x)
{
    struct usbd *u = to_usbd(usbd);
    if (!u->connected)
        return false;
    unsigned n = x->ep & 0x0F;
    struct usb_xfer **q = n == 0 ? &u->ctrl : (x->ep & 0x80) ? &u->bulk_in[n] : &u->bulk_out[n];
    if (n >= NEP)
        return false;
    x->status = USB_XFER_PENDING;
    x->actual = 0;
    x->stage = ST_SETUP;
    x->next = NULL;
    while (*q)
        q = &(*q)->next;
    *q = x;
    kick(u);
    return true;
}

bool usbd_host_cancel(struct periph *usbd, struct usb_xfer *x)
{
    struct usbd *u = to_usbd(usbd);
    unsigned n = x->ep & 0x0F;
    if (n >= NEP)
        return false;
    struct usb_xfer **q = n == 0 ? &u->ctrl : (x->ep & 0x80) ? &u->bulk_in[n] : &u->bulk_out[n];
    for (struct usb_xfer *it = *q; it; it = it->next) {
        if (it == x) {
            finish(q, x, USB_XFER_CANCELLED);
            kick(u);
            return true;
        }
    }
    return false;
}

void usbd_host_bus_reset(struct periph *usbd)
{
    struct usbd *u = to_usbd(usbd);
    if (!u->connected)
        return;
    fail_all(u, USB_XFER_DISCONNECTED);
    reset_endpoints(u);
    u->address = 0;
    u->suspended = false;
    nrf_events_raise(&u->ev, E_USBRESET);
}

void usbd_host_suspend(struct periph *usbd)
{
    struct usbd *u = to_usbd(usbd);
    if (!u->connected || u->suspended)
        return;
    u->suspended = true;
    u->eventcause |= CAUSE_SUSPEND;
    nrf_events_raise(&u->ev, E_USBEVENT);
}

void usbd_host_resume(struct periph *usbd)
{
    struct usbd *u = to_usbd(usbd);
    if (!u->connected || !u->suspended)
        return;
    u->suspended = false;
    u->eventcause |= CAUSE_RESUME;
    nrf_events_raise(&u->ev, E_USBEVENT);
    kick(u);
}
