/* USBD model, the device side: the nRF52840 USB device controller's
 * registers (Product Specification, USBD, "Registers" and "Control
 * transfers"): tasks, events and shorts, EasyDMA for every
 * endpoint, the EP0 handshake (EP0STATUS, EP0RCVOUT, EP0STALL, SET_ADDRESS
 * in hardware), bulk endpoints with EPDATA/EPDATASTATUS and SIZE.EPOUT
 * re-arming, the isochronous endpoint EP8. The host controller that drives
 * the bus, and its frames, is usbd_host.c.
 *
 * Isochronous (§2.1, §2.2, §2.5, §2.6; TinyUSB's dcd_nrf5x.c as run on
 * hilda-emu): ISOIN.PTR/MAXCNT/
 * AMOUNT at 0x6A0/0x6A4/0x6A8 and ISOOUT at 0x7A0.. (EPIN[8]/EPOUT[8] by the
 * stride), 10-bit counts; TASKS_STARTISOIN (0x024) / STARTISOOUT (0x048) ->
 * EVENTS_STARTED with EPSTATUS bit 8 / bit 24 -> EasyDMA through the soc
 * (USBD group: one USBD DMA at a time) -> EVENTS_ENDISOIN (0x12C) /
 * ENDISOOUT (0x150) with AMOUNT, whether the host sends ISO traffic or not.
 * EPINEN/EPOUTEN bit 8 enable the endpoint on the bus, ISOINCONFIG (0x530)
 * chooses no answer or a zero-length packet when ISO IN has no data, SIZE.ISOOUT
 * (0x4C0: SIZE b9:0, ZERO b16) shows the packet of the previous frame.
 *
 * EP0 at the level of tokens (TinyUSB's dcd_nrf5x.c as run on hilda-emu):
 * an IN token on EP0 is
 * answered from what the firmware loaded into EPIN0 with STARTEPIN0, in
 * whatever stage, a zero-length packet loaded with EPIN[0].MAXCNT = 0
 * included (the host ACKs it: EP0DATADONE); in the status stage of a no-data
 * or control-write transfer it is otherwise answered once EP0STATUS was
 * triggered (no event), and NAKed before. This is an INFERENCE, not a
 * measured fact: on the wire a zero-length DATA1 answer is what both a
 * data-stage ZLP and the status stage look like, and TinyUSB, which runs
 * on silicon, answers a control IN with wLength 0 that way and never
 * triggers EP0STATUS. usbd_model_set_ep0_status_policy can flag firmware
 * that relies on it, or refuse it. OUT tokens: a data packet needs
 * EP0RCVOUT, the status packet of a control read EP0STATUS.
 *
 * A TASKS_ register written with bit 0 clear does nothing, as on the chip
 * (TinyUSB's dcd_nrf5x.c as run on hilda-emu: it writes 0 to
 * STARTISOIN/STARTISOOUT at reset).
 *
 * What differs from silicon (and choices where the Product Specification
 * is silent):
 * - No DPDMDRIVE/DPDMNODRIVE (remote wake-up signalling; reported when
 *   triggered), no low-power clock gating effects (LOWPOWER is stored only);
 *   EasyDMA is modelled at a byte per cycle plus a start-up.
 * - ISO buffer (choice): ISOSPLIT 0x80 (HalfIN) gives each direction 512
 *   bytes, any other value (OneDir) gives 1023 bytes to each direction even
 *   when both are enabled (the chip has one buffer to share). A longer
 *   MAXCNT or packet is cut to that room and logged.
 * - ISO IN (choice): a packet whose DMA ended in frame N is sent in the first
 *   frame after N whose IN token finds it, then the buffer is empty; loading
 *   again before it went out replaces it. The DMA runs whether or not
 *   EPINEN bit 8 is set; only the bus answer needs the enable.
 * - ISO OUT (choice): a packet received in frame N is what SIZE.ISOOUT and
 *   STARTISOOUT see during frame N + 1 only (the SOF that starts N + 1
 *   shows it, the next one replaces it); a frame without a packet reads as
 *   SIZE.ISOOUT = 0x00010000 (ZERO, the reset value). STARTISOOUT moves
 *   min(MAXCNT, SIZE) bytes. No CRC errors (EVENTCAUSE.ISOOUTCRC never set).
 * - The ISO data toggle (DATA0 at full speed) and PID checks are not modelled.
 * - EVENTS_SOF is raised only while frames run: while the SOF interrupt is
 *   enabled or the host has isochronous transfers queued (a free-running
 *   1 ms event would keep a sleeping CPU from idling).
 * Pending: remote wake-up. */
#include "usbd.h"

#include <stdlib.h>
#include <string.h>

#include <hilda/usb.h>

#include "nrf_events.h"
#include "power.h"
#include "soc_impl.h"
#include "usbd_bus.h"

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
#define E_STARTED        0x104u
#define E_ENDEPIN(n)     (0x108u + 4u * (n))
#define E_EP0DATADONE    0x128u
#define E_ENDISOIN       0x12Cu
#define E_ENDEPOUT(n)    (0x130u + 4u * (n))
#define E_ENDISOOUT      0x150u
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
#define R_ISOIN          0x6A0u   /* EPIN[8]: PTR, MAXCNT, AMOUNT */
#define R_ISOOUT         0x7A0u   /* EPOUT[8] */
#define ISO_COUNT_MASK   0x3FFu   /* 10-bit MAXCNT/AMOUNT (§2.6) */
#define EPSTATUS_ISOIN   (1u << 8)
#define EPSTATUS_ISOOUT  (1u << 24)
#define EN_ISO           (1u << 8)      /* EPINEN.ISOIN / EPOUTEN.ISOOUT */
#define ISOSPLIT_HALFIN  0x80u
#define SIZE_ISOOUT_ZERO (1u << 16)
#define ISO_MAX          USBD_BUS_MAX_ISO_PACKET
#define ISO_HALF         512u

#define CAUSE_USBWUALLOWED (1u << 10)
#define CAUSE_READY        (1u << 11)


/* Virtual-time costs. EasyDMA on the 32-bit AHB is modelled at a byte per
 * cycle plus a start-up. */
#define T_DMA(bytes)         (16u + (vtime_t)(bytes))
#define T_READY              SOC_US(10)
#define T_FRAME              USBD_BUS_FRAME

#define E_USBRESET       0x100u
#define E_SOF            0x154u
#define E_USBEVENT       0x158u
#define E_EP0SETUP       0x15Cu
#define E_EPDATA         0x160u

#define CAUSE_SUSPEND      (1u << 8)
#define CAUSE_RESUME       (1u << 9)

#define NEP USBD_BUS_ENDPOINTS
#define MPS USBD_BUS_MAX_PACKET

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
    uint8_t toggle;       /* DATA0 = 0, DATA1 = 1 */
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

/* The isochronous channels (EP8). */
struct iso_in {
    uint32_t ptr, maxcnt, amount;
    struct easydma dma;
    struct sched_event dma_done;
    uint8_t buf[ISO_MAX];
    uint32_t len;
    bool loaded;
    uint64_t loaded_frame;   /* it goes out in a later frame */
};

struct iso_out {
    uint32_t ptr, maxcnt, amount;
    struct easydma dma;
    struct sched_event dma_done;
    uint8_t rx[ISO_MAX];     /* the packet of the frame it arrived in */
    uint32_t rx_len;
    bool rx_valid;
    uint64_t rx_frame;
    uint8_t shown[ISO_MAX];  /* what SIZE.ISOOUT and the DMA see in shown_frame */
    uint32_t shown_size;     /* SIZE.ISOOUT as it reads */
    uint64_t shown_frame;
    uint8_t dma_src[ISO_MAX];   /* latched at STARTISOOUT */
    uint32_t dma_len;
};

struct usbd {
    struct periph p;
    struct nrf_events ev;
    struct power *power;
    struct usbd_hc *hc;           /* the host controller in front of it */

    bool enabled, pullup, connected, lowpower, suspended;
    uint32_t eventcause, epstatus, epdatastatus;
    uint32_t epinen, epouten, dtoggle, dpdmvalue, isosplit, isoinconfig;
    uint8_t address;              /* USBADDR */
    uint8_t setup[8];
    vtime_t frame_epoch;
    struct sched_event ready_ev;

    struct ep_in in[NEP];
    struct ep_out out[NEP];
    struct iso_in isoin;
    struct iso_out isoout;
    bool iso_cut_logged;

    /* EP0 handshake state */
    bool ep0_stalled, ep0_status_allowed, ep0_rcvout;
    int pending_address;          /* SET_ADDRESS seen: applied after its status stage; -1 none */
    enum { EP0_IN_NONE, EP0_IN_EPIN0, EP0_IN_STATUS } ep0_last_in;   /* what answered the last IN token */
    enum usbd_ep0_status_policy ep0_policy;
    bool ep0_policy_logged;
};

static struct usbd *to_usbd(struct periph *p)
{
    return p->state;
}

/* The frame number since the connection (FRAMECNTR is its low 11 bits). */
static uint64_t frame_now(const struct usbd *u)
{
    return (soc_now(u->p.soc) - u->frame_epoch) / T_FRAME;
}

static void iso_reset(struct usbd *u)
{
    u->isoin.loaded = false;
    u->isoout.rx_valid = false;
    u->isoout.shown_size = SIZE_ISOOUT_ZERO;
    u->isoout.shown_frame = 0;
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
    }
    usbd_hc_reset_toggles(u->hc);
    u->epinen = u->epouten = 0x01;
    u->ep0_stalled = u->ep0_status_allowed = u->ep0_rcvout = false;
    u->ep0_last_in = EP0_IN_NONE;
    u->pending_address = -1;
    u->epstatus = u->epdatastatus = 0;
    iso_reset(u);
}

static void update_connection(struct usbd *u)
{
    bool connected = u->enabled && u->pullup;
    if (connected == u->connected)
        return;
    u->connected = connected;
    if (connected) {
        u->frame_epoch = soc_now(u->p.soc);
        iso_reset(u);
    } else {
        usbd_hc_fail_all(u->hc, USB_XFER_DISCONNECTED);
        u->address = 0;
        u->suspended = false;
    }
    usbd_hc_connection(u->hc, connected);
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
    usbd_hc_kick(u->hc);
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
    usbd_hc_kick(u->hc);
}

/* ---- the isochronous channels (§2.6, EP8) ---- */

/* The bytes of the ISO buffer a direction has (ISOSPLIT; see the head
 * comment for the choice). */
static uint32_t iso_room(const struct usbd *u)
{
    return (u->isosplit & 0xFFFFu) == ISOSPLIT_HALFIN ? ISO_HALF : ISO_MAX;
}

static uint32_t iso_cut(struct usbd *u, const char *what, uint32_t cnt)
{
    uint32_t room = iso_room(u);
    if (cnt <= room)
        return cnt;
    if (!u->iso_cut_logged) {
        u->iso_cut_logged = true;
        soc_log(u->p.soc, "emu: USBD %s of %u bytes exceeds the %u-byte ISO buffer (ISOSPLIT 0x%x); cut to %u\n",
                what, cnt, room, u->isosplit, room);
    }
    return room;
}

/* SIZE.ISOOUT and the ISO OUT buffer as they stand in the current frame:
 * the packet of the previous frame, or none (ZERO). */
static void iso_out_sync(struct usbd *u)
{
    struct iso_out *o = &u->isoout;
    uint64_t f = frame_now(u);
    if (o->rx_valid && o->rx_frame < f) {
        o->rx_valid = false;
        if (o->rx_frame + 1 == f) {
            memcpy(o->shown, o->rx, o->rx_len);
            o->shown_size = o->rx_len ? o->rx_len : SIZE_ISOOUT_ZERO;
            o->shown_frame = f;
        }
    }
    if (o->shown_frame != f) {
        o->shown_size = SIZE_ISOOUT_ZERO;
        o->shown_frame = f;
    }
}

static void start_isoin_dma(struct usbd *u)
{
    struct iso_in *e = &u->isoin;
    if (e->dma.active) {
        soc_log(u->p.soc, "emu: USBD STARTISOIN while its DMA still runs: ignored\n");
        return;
    }
    uint32_t cnt = iso_cut(u, "ISOIN.MAXCNT", e->maxcnt & ISO_COUNT_MASK);
    u->epstatus |= EPSTATUS_ISOIN;
    nrf_events_raise(&u->ev, E_STARTED);
    e->loaded = false;
    easydma_begin(u->p.soc, &e->dma, e->ptr, cnt);
    soc_schedule(u->p.soc, &e->dma_done, T_DMA(cnt));
}

static void isoin_dma_done(struct soc *soc, void *ctx)
{
    struct usbd *u = ctx;
    struct iso_in *e = &u->isoin;
    memset(e->buf, 0, sizeof e->buf);
    easydma_read(soc, &e->dma, e->buf, e->dma.maxcnt);
    e->len = e->amount = e->dma.maxcnt;
    easydma_end(soc, &e->dma);
    e->loaded = true;
    e->loaded_frame = frame_now(u);
    nrf_events_raise(&u->ev, E_ENDISOIN);
}

static void start_isoout_dma(struct usbd *u)
{
    struct iso_out *o = &u->isoout;
    if (o->dma.active) {
        soc_log(u->p.soc, "emu: USBD STARTISOOUT while its DMA still runs: ignored\n");
        return;
    }
    iso_out_sync(u);
    uint32_t cnt = iso_cut(u, "ISOOUT.MAXCNT", o->maxcnt & ISO_COUNT_MASK);
    uint32_t size = o->shown_size & SIZE_ISOOUT_ZERO ? 0 : o->shown_size;
    /* the packet is latched now: the next SOF may replace the buffer */
    o->dma_len = size < cnt ? size : cnt;
    memcpy(o->dma_src, o->shown, o->dma_len);
    u->epstatus |= EPSTATUS_ISOOUT;
    nrf_events_raise(&u->ev, E_STARTED);
    easydma_begin(u->p.soc, &o->dma, o->ptr, cnt);
    soc_schedule(u->p.soc, &o->dma_done, T_DMA(cnt));
}

static void isoout_dma_done(struct soc *soc, void *ctx)
{
    struct usbd *u = ctx;
    struct iso_out *o = &u->isoout;
    o->amount = easydma_write(soc, &o->dma, o->dma_src, o->dma_len);
    if (o->dma.bad_pointer)
        o->amount = o->dma_len;
    easydma_end(soc, &o->dma);
    nrf_events_raise(&u->ev, E_ENDISOOUT);
}

/* ---- EP0 tasks (§3) ---- */

static void task_ep0status(struct usbd *u)
{
    u->ep0_status_allowed = true;
    usbd_hc_kick(u->hc);
}

static void task_ep0rcvout(struct usbd *u)
{
    u->ep0_rcvout = true;
    usbd_hc_kick(u->hc);
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

static uint32_t frame_counter(const struct usbd *u)
{
    if (!u->connected)
        return 0;
    return (uint32_t)frame_now(u) & 0x7FF;
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
    usbd_hc_kick(u->hc);
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

/* ISOIN/ISOOUT.PTR, MAXCNT, AMOUNT (EPIN[8]/EPOUT[8]); NULL if off is none. */
static uint32_t *iso_reg(struct usbd *u, uint32_t off)
{
    switch (off) {
    case R_ISOIN: return &u->isoin.ptr;
    case R_ISOIN + 4: return &u->isoin.maxcnt;
    case R_ISOIN + 8: return &u->isoin.amount;
    case R_ISOOUT: return &u->isoout.ptr;
    case R_ISOOUT + 4: return &u->isoout.maxcnt;
    case R_ISOOUT + 8: return &u->isoout.amount;
    }
    return NULL;
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
    uint32_t *iso = iso_reg(u, off);
    if (iso)
        return *iso;
    switch (off) {
    case R_EVENTCAUSE: return u->eventcause;
    case R_EPSTATUS: return u->epstatus;
    case R_EPDATASTATUS: return u->epdatastatus;
    case R_USBADDR: return u->address;
    case R_SIZE_ISOOUT:
        iso_out_sync(u);
        return u->isoout.shown_size;
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
    bool had_sof = u->ev.inten & NRF_EVENT_MASK(E_SOF);
    if (nrf_events_write(&u->ev, off, v)) {
        if (!had_sof && (u->ev.inten & NRF_EVENT_MASK(E_SOF)))
            usbd_hc_kick(u->hc);   /* the host starts the frames */
        return;
    }
    if (off >= R_SIZE_EPOUT(0) && off <= R_SIZE_EPOUT(7)) {
        /* §2.5: writing any value lets the endpoint ACK the next packet */
        unsigned n = (off - R_SIZE_EPOUT(0)) / 4;
        if (n != 0)
            u->out[n].armed = true;
        usbd_hc_kick(u->hc);
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
    uint32_t *iso = iso_reg(u, off);
    if (iso) {
        if (iso == &u->isoin.maxcnt || iso == &u->isoout.maxcnt)
            *iso = v & ISO_COUNT_MASK;
        else if (iso == &u->isoin.ptr || iso == &u->isoout.ptr)
            *iso = v;
        return;   /* AMOUNT is read-only */
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
            usbd_hc_kick(u->hc);
        }
        return;
    case T_STARTISOIN:
        if (v & 1)
            start_isoin_dma(u);
        return;
    case T_STARTISOOUT:
        if (v & 1)
            start_isoout_dma(u);
        return;
    case T_DPDMDRIVE:
    case T_DPDMNODRIVE:
        if (v & 1)
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
        usbd_hc_kick(u->hc);
        return;
    case R_EPOUTEN:
        u->epouten = v & 0x1FF;
        usbd_hc_kick(u->hc);
        return;
    case R_EPSTALL:
        write_epstall(u, v);
        return;
    case R_ISOSPLIT:
        u->isosplit = v & 0xFFFFu;
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
    u->isoin.ptr = u->isoin.maxcnt = u->isoin.amount = 0;
    u->isoout.ptr = u->isoout.maxcnt = u->isoout.amount = 0;
    u->isoin.dma.active = u->isoout.dma.active = false;
    u->isosplit = u->isoinconfig = 0;
    u->dpdmvalue = 0;
}

struct periph *usbd_model_new(struct soc *soc)
{
    struct usbd *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->hc = usbd_hc_new(soc, u);
    if (!u->hc) {
        free(u);
        return NULL;
    }
    u->p = (struct periph){ .name = "USBD", .base = USBD_MODEL_BASE, .size = 0x1000,
                            .read = usbd_read, .write = usbd_write, .reset = usbd_reset, .state = u };
    u->ready_ev = (struct sched_event){ .name = "USBD ready", .fire = ready, .ctx = u };
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
    u->isoin.dma = (struct easydma){ .periph = "USBD", .channel = "ISOIN", .group = 1 };
    u->isoout.dma = (struct easydma){ .periph = "USBD", .channel = "ISOOUT", .writes_ram = true, .group = 1 };
    u->isoin.dma_done = (struct sched_event){ .name = "USBD ISOIN DMA", .fire = isoin_dma_done, .ctx = u };
    u->isoout.dma_done = (struct sched_event){ .name = "USBD ISOOUT DMA", .fire = isoout_dma_done, .ctx = u };
    soc_add_periph(soc, &u->p);
    nrf_events_init(&u->ev, &u->p, USBD_MODEL_IRQ);
    reset_endpoints(u);
    u->pending_address = -1;
    return &u->p;
}

void usbd_model_free(struct periph *usbd)
{
    if (!usbd)
        return;
    struct usbd *u = to_usbd(usbd);
    usbd_hc_free(u->hc);
    free(u);
}

void usbd_model_set_ep0_status_policy(struct periph *usbd, enum usbd_ep0_status_policy policy)
{
    struct usbd *u = to_usbd(usbd);
    u->ep0_policy = policy;
    u->ep0_policy_logged = false;
}

void usbd_model_set_power(struct periph *usbd, struct power *power)
{
    struct usbd *u = to_usbd(usbd);
    u->power = power;
    /* power.h: from now on the regulator follows ENABLE, starting disabled */
    if (power)
        power_usb_regulator(power, u->enabled);
}


/* ---- the bus, for the host controller (usbd_bus.h) ---- */

struct usbd_hc *usbd_bus_hc(struct periph *usbd)
{
    return to_usbd(usbd)->hc;
}

bool usbd_bus_connected(const struct usbd *u)
{
    return u->connected;
}

bool usbd_bus_suspended(const struct usbd *u)
{
    return u->suspended;
}

uint8_t usbd_bus_address(const struct usbd *u)
{
    return u->address;
}

void usbd_bus_setup(struct usbd *u, const uint8_t setup[8])
{
    const struct usb_setup s = usb_setup_decode(setup);
    memcpy(u->setup, setup, sizeof u->setup);
    u->ep0_stalled = u->ep0_status_allowed = u->ep0_rcvout = false;
    u->in[0].loaded = false;
    u->pending_address = usb_setup_is(&s, USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS) ? (s.wValue & 0x7F) : -1;
    nrf_events_raise(&u->ev, E_EP0SETUP);
}

/* The stage an EP0 token belongs to, as the USBD can tell it from the
 * SETUP it holds: a control read (IN, wLength > 0) has IN data and an OUT
 * status; every other transfer has its status stage IN. */
static bool ep0_control_read(const struct usbd *u)
{
    const struct usb_setup s = usb_setup_decode(u->setup);
    return usb_setup_is_in(&s) && s.wLength > 0;
}

/* The status stage of a no-data or control-write transfer meets a packet
 * the firmware loaded into EPIN0 without triggering EP0STATUS: answer from
 * it (the inference of the head comment) unless the policy says otherwise. */
static bool ep0_status_from_epin0(struct usbd *u, uint32_t len)
{
    bool relies = len == 0 && !u->ep0_status_allowed;
    if (u->ep0_policy == USBD_EP0_STATUS_EP0STATUS_ONLY) {
        if (relies && !u->ep0_policy_logged) {
            u->ep0_policy_logged = true;
            soc_log(u->p.soc, "emu: USBD EP0 status stage NAKed: EPIN0 holds a zero-length packet but EP0STATUS "
                    "was not triggered (policy: EP0STATUS only)\n");
        }
        return false;   /* EP0STATUS answers it, if triggered; the packet waits for the next SETUP */
    }
    if (u->ep0_policy == USBD_EP0_STATUS_WARN && relies && !u->ep0_policy_logged) {
        u->ep0_policy_logged = true;
        soc_log(u->p.soc, "emu: USBD EP0 status stage answered from a zero-length EPIN0 packet (no EP0STATUS): "
                "relies on inferred silicon behaviour\n");
    }
    return true;
}

enum usbd_handshake usbd_bus_ep0_in(struct usbd *u, uint8_t buf[USBD_BUS_MAX_PACKET], uint32_t *len)
{
    u->ep0_last_in = EP0_IN_NONE;
    if (u->ep0_stalled)
        return USBD_STALL;
    bool status_stage = !ep0_control_read(u);
    if (status_stage && u->pending_address >= 0) {
        *len = 0;   /* SET_ADDRESS: the USBD runs this status stage itself (§3.5) */
        u->ep0_last_in = EP0_IN_STATUS;
        return USBD_ACK;
    }
    struct ep_in *e = &u->in[0];
    if (e->loaded && (!status_stage || ep0_status_from_epin0(u, e->len))) {
        e->loaded = false;
        memcpy(buf, e->buf, e->len);
        *len = e->len;
        u->ep0_last_in = EP0_IN_EPIN0;
        return USBD_ACK;
    }
    if (status_stage && u->ep0_status_allowed) {
        *len = 0;   /* EP0STATUS: the zero-length status packet */
        u->ep0_last_in = EP0_IN_STATUS;
        return USBD_ACK;
    }
    return USBD_NAK;
}

void usbd_bus_ep0_in_acked(struct usbd *u)
{
    /* §2.2: EP0DATADONE for an acknowledged packet from EPIN0; the status
     * stage raises nothing (§3.1 step 7) */
    if (u->ep0_last_in == EP0_IN_EPIN0)
        ep0datadone(u);
    u->ep0_last_in = EP0_IN_NONE;
}

enum usbd_handshake usbd_bus_ep0_out(struct usbd *u, const uint8_t *buf, uint32_t len)
{
    if (u->ep0_stalled)
        return USBD_STALL;
    if (ep0_control_read(u))   /* the host's zero-length status packet */
        return u->ep0_status_allowed ? USBD_ACK : USBD_NAK;
    if (!u->ep0_rcvout)
        return USBD_NAK;
    struct ep_out *e = &u->out[0];
    if (len > MPS)
        len = MPS;
    memcpy(e->buf, buf, len);
    e->size = len;
    u->ep0_rcvout = false;
    ep0datadone(u);
    return USBD_ACK;
}

void usbd_bus_ep0_end(struct usbd *u, bool ok)
{
    if (ok && u->pending_address >= 0)
        u->address = (uint8_t)u->pending_address;   /* §3.5: after the status stage */
    u->pending_address = -1;
}

enum usbd_handshake usbd_bus_bulk_in(struct usbd *u, unsigned n, uint8_t buf[USBD_BUS_MAX_PACKET], uint32_t *len,
                                     uint8_t *toggle)
{
    struct ep_in *e = &u->in[n];
    if (!(u->epinen & (1u << n)))
        return USBD_NAK;   /* no answer at all */
    if (e->stalled)
        return USBD_STALL;
    if (!e->loaded)
        return USBD_NAK;
    memcpy(buf, e->buf, e->len);
    *len = e->len;
    *toggle = e->toggle;
    e->loaded = false;
    e->toggle ^= 1;
    u->epdatastatus |= 1u << n;
    nrf_events_raise(&u->ev, E_EPDATA);
    return USBD_ACK;
}

enum usbd_handshake usbd_bus_bulk_out(struct usbd *u, unsigned n, const uint8_t *buf, uint32_t len, uint8_t toggle)
{
    struct ep_out *e = &u->out[n];
    if (!(u->epouten & (1u << n)))
        return USBD_NAK;   /* no answer at all */
    if (e->stalled)
        return USBD_STALL;
    if (!e->armed)
        return USBD_NAK;
    if (e->toggle == toggle) {   /* else a retransmission: ACKed and dropped */
        memcpy(e->buf, buf, len);
        e->size = len;
        e->armed = false;
        e->toggle ^= 1;
        u->epdatastatus |= 1u << (16 + n);
        nrf_events_raise(&u->ev, E_EPDATA);
    }
    return USBD_ACK;
}

/* ---- frames and the isochronous endpoint ---- */

vtime_t usbd_bus_next_frame(const struct usbd *u)
{
    if (!u->connected)
        return T_FRAME;
    return T_FRAME - (soc_now(u->p.soc) - u->frame_epoch) % T_FRAME;
}

bool usbd_bus_wants_sof(const struct usbd *u)
{
    return u->ev.inten & NRF_EVENT_MASK(E_SOF);
}

void usbd_bus_sof(struct usbd *u)
{
    if (u->connected && !u->suspended)
        nrf_events_raise(&u->ev, E_SOF);
}

bool usbd_bus_iso_in(struct usbd *u, uint8_t buf[USBD_BUS_MAX_ISO_PACKET], uint32_t *len)
{
    struct iso_in *e = &u->isoin;
    if (!(u->epinen & EN_ISO))
        return false;
    if (e->loaded && e->loaded_frame < frame_now(u)) {
        e->loaded = false;
        memcpy(buf, e->buf, e->len);
        *len = e->len;
        return true;
    }
    if (u->isoinconfig & 1) {   /* ZeroData: a zero-length packet when there is none */
        *len = 0;
        return true;
    }
    return false;
}

void usbd_bus_iso_out(struct usbd *u, const uint8_t *buf, uint32_t len)
{
    struct iso_out *o = &u->isoout;
    if (!(u->epouten & EN_ISO))
        return;
    iso_out_sync(u);   /* the previous frame's packet is shown before this one is taken */
    len = iso_cut(u, "ISO OUT packet", len);
    memcpy(o->rx, buf, len);
    o->rx_len = len;
    o->rx_valid = true;
    o->rx_frame = frame_now(u);
}

void usbd_bus_reset(struct usbd *u)
{
    reset_endpoints(u);
    u->address = 0;
    u->suspended = false;
    nrf_events_raise(&u->ev, E_USBRESET);
}

void usbd_bus_suspend(struct usbd *u)
{
    if (!u->connected || u->suspended)
        return;
    u->suspended = true;
    u->eventcause |= CAUSE_SUSPEND;
    nrf_events_raise(&u->ev, E_USBEVENT);
}

bool usbd_bus_resume(struct usbd *u)
{
    if (!u->connected || !u->suspended)
        return false;
    u->suspended = false;
    u->eventcause |= CAUSE_RESUME;
    nrf_events_raise(&u->ev, E_USBEVENT);
    return true;
}
