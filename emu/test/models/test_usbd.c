/* USBD model (emu/nrf52840/usbd.c + usbd_host.c) at the register level,
 * written from the reference facts, not from our firmware: the test plays
 * the firmware through the registers (nRF52840 PS "USBD", "EasyDMA") and
 * the host through usbd_host.h (USB 2.0 chapters 8 and 9), moving virtual
 * time and checking the registers, the events and what the host received.
 *
 * The isochronous channels (written 0 to STARTISOIN does nothing, STARTED
 * and END come even without host traffic) and EP0 answering an IN token
 * from a zero-length EPIN0 packet are what firmware written by others
 * relies on (TinyUSB on the nRF52840). */
#include "harness.h"

#include <hilda/usb.h>

#include "usbd.h"
#include "usbd_host.h"

/* §2.1 tasks */
#define STARTEPIN(n)   (0x004u + 4u * (n))
#define STARTISOIN     0x024u
#define STARTEPOUT(n)  (0x028u + 4u * (n))
#define STARTISOOUT    0x048u
#define EP0RCVOUT      0x04Cu
#define EP0STATUS      0x050u
#define EP0STALL       0x054u
/* §2.2 events */
#define EV_USBRESET    0x100u
#define EV_STARTED     0x104u
#define EV_ENDEPIN(n)  (0x108u + 4u * (n))
#define EV_EP0DATADONE 0x128u
#define EV_ENDISOIN    0x12Cu
#define EV_ENDEPOUT(n) (0x130u + 4u * (n))
#define EV_ENDISOOUT   0x150u
#define EV_SOF         0x154u
#define EV_USBEVENT    0x158u
#define EV_EP0SETUP    0x15Cu
#define EV_EPDATA      0x160u
/* §2.3 shorts */
#define SHORTS                   0x200u
#define EP0DATADONE_STARTEPIN0   (1u << 0)
#define EP0DATADONE_STARTEPOUT0  (1u << 1)
#define EP0DATADONE_EP0STATUS    (1u << 2)
#define ENDEPOUT0_EP0STATUS      (1u << 3)
#define ENDEPOUT0_EP0RCVOUT      (1u << 4)
/* §2.4 */
#define INTENSET       0x304u
#define INT_USBEVENT   (1u << 22)
#define INT_EP0SETUP   (1u << 23)
/* §2.5 */
#define EVENTCAUSE     0x400u
#define CAUSE_SUSPEND  (1u << 8)
#define CAUSE_RESUME   (1u << 9)
#define CAUSE_READY    (1u << 11)
#define HALTED_EPIN(n)  (0x420u + 4u * (n))
#define HALTED_EPOUT(n) (0x444u + 4u * (n))
#define EPSTATUS       0x468u
#define EPDATASTATUS   0x46Cu
#define USBADDR        0x470u
#define BMREQUESTTYPE  0x480u
#define BREQUEST       0x484u
#define WVALUEL        0x488u
#define WVALUEH        0x48Cu
#define WINDEXL        0x490u
#define WINDEXH        0x494u
#define WLENGTHL       0x498u
#define WLENGTHH       0x49Cu
#define SIZE_EPOUT(n)  (0x4A0u + 4u * (n))
#define ENABLE         0x500u
#define USBPULLUP      0x504u
#define DTOGGLE        0x50Cu
#define EPINEN         0x510u
#define EPOUTEN        0x514u
#define EPSTALL        0x518u
#define ISOSPLIT       0x51Cu
#define FRAMECNTR      0x520u
#define LOWPOWER       0x52Cu
/* §2.6 EasyDMA channels */
#define EPIN_PTR(n)     (0x600u + 0x14u * (n))
#define EPIN_MAXCNT(n)  (0x604u + 0x14u * (n))
#define EPIN_AMOUNT(n)  (0x608u + 0x14u * (n))
#define ISOIN_PTR      0x6A0u
#define ISOIN_MAXCNT   0x6A4u
#define ISOIN_AMOUNT   0x6A8u
#define EPOUT_PTR(n)    (0x700u + 0x14u * (n))
#define EPOUT_MAXCNT(n) (0x704u + 0x14u * (n))
#define EPOUT_AMOUNT(n) (0x708u + 0x14u * (n))
#define ISOOUT_PTR     0x7A0u
#define ISOOUT_MAXCNT  0x7A4u
#define ISOOUT_AMOUNT  0x7A8u

/* EPINEN/EPOUTEN (§2.5): endpoint n at bit n, ISO at bit 8; reset 0x01 */
#define EN(n)          (1u << (n))
#define EN_ISO         (1u << 8)
#define EN_RESET       EN(0)
#define SIZE_ISOOUT    0x4C0u
#define SIZE_ISOOUT_RESET 0x00010000u  /* ZERO b16 set (§2.5) */
#define ISOSPLIT_HALFIN 0x80u
#define DTOGGLE_RESET  0x100u
#define INT_SOF        (1u << 21)

/* DTOGGLE (§2.5): EP b2:0, IO b7, VALUE b9:8 */
#define DT_IN          0x80u
#define DT_NOP         (0u << 8)
#define DT_DATA0       (1u << 8)
#define DT_DATA1       (2u << 8)
/* EPSTALL (§2.5): EP b2:0, IO b7, STALL b8 */
#define ST_IN          0x80u
#define ST_STALL       0x100u

#define EPSTATUS_EPIN(n)  (1u << (n))
#define EPSTATUS_EPOUT(n) (1u << (16 + (n)))
#define EPSTATUS_ISOIN    (1u << 8)
#define EPSTATUS_ISOOUT   (1u << 24)
#define EPDATA_IN(n)      (1u << (n))
#define EPDATA_OUT(n)     (1u << (16 + (n)))

#define MPS      USB_FS_EP0_MAX_PACKET
#define EP1_IN   (USB_EP_DIR_IN | 1u)
#define EP1_OUT  1u
#define EP2_OUT  2u

#define VENDOR_REQ 0x5Au           /* any vendor bRequest: the model must not care */
#define LANGID_EN_US 0x0409u       /* wIndex of a string descriptor request */
#define FLASH_ADDR (SOC_FLASH_BASE + 0x1000u)   /* where EasyDMA cannot reach (§5) */

#define RAM_A    0x20001000u
#define RAM_B    0x20002000u
#define RAM_C    0x20003000u

/* Long enough for any handshake the host is waiting for (§3: the host NAKs
 * until the firmware acts; a model that answered by itself would show). */
#define LONG     SOC_MS(5)

/* ---- fixture ---------------------------------------------------------------- */

#define MAX_DMA 16

struct fixture {
    struct harness *h;
    struct periph *usbd;
    unsigned connects, disconnects;
    unsigned done_calls;         /* usb_xfer done() callbacks */
    /* the DMA observer: USBD transfers seen, and overlaps in group 1 */
    struct easydma *running[MAX_DMA];
    unsigned begins, overlaps;
    struct easydma last_begin;
};

static void on_connect(void *ctx, bool connected)
{
    struct fixture *f = ctx;
    if (connected)
        f->connects++;
    else
        f->disconnects++;
}

static void on_dma_begin(void *ctx, struct easydma *ch)
{
    struct fixture *f = ctx;
    f->begins++;
    f->last_begin = *ch;
    for (unsigned i = 0; i < MAX_DMA; i++) {
        if (f->running[i] && f->running[i] != ch && ch->group && f->running[i]->group == ch->group)
            f->overlaps++;
    }
    for (unsigned i = 0; i < MAX_DMA; i++) {
        if (!f->running[i]) {
            f->running[i] = ch;
            break;
        }
    }
}

static void on_dma_end(void *ctx, struct easydma *ch)
{
    struct fixture *f = ctx;
    for (unsigned i = 0; i < MAX_DMA; i++) {
        if (f->running[i] == ch)
            f->running[i] = NULL;
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->h = harness_new();
    f->usbd = usbd_model_new(f->h->soc);
    assert_non_null(f->usbd);
    struct usbd_host_events ev = { .connect = on_connect, .ctx = f };
    usbd_host_set_events(f->usbd, &ev);
    f->h->soc->dma_observer = (struct soc_dma_observer){ .begin = on_dma_begin, .end = on_dma_end, .ctx = f };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    /* every register a test touches is one the facts define */
    uint32_t unmodelled = f->h->soc->nunmodelled;
    if (unmodelled)
        fprintf(stderr, "%s", harness_log(f->h));
    usbd_model_free(f->usbd);
    harness_free(f->h);
    free(f);
    assert_int_equal(unmodelled, 0);
    return 0;
}

/* ---- the firmware's side: registers ----------------------------------------- */

static uint32_t reg(struct harness *h, uint32_t off)
{
    return rd(h, USBD_MODEL_BASE + off);
}

static void set(struct harness *h, uint32_t off, uint32_t v)
{
    wr(h, USBD_MODEL_BASE + off, v);
}

static void clear(struct harness *h, uint32_t ev)
{
    set(h, ev, 0);
}

static void put_ram(struct harness *h, uint32_t addr, const void *data, size_t len)
{
    memcpy(soc_ram(h->soc, addr, (uint32_t)len), data, len);
}

static const uint8_t *ram(struct harness *h, uint32_t addr)
{
    return soc_ram(h->soc, addr, 1);
}

/* Runs event by event until `ev` is set or `timeout` cycles have passed;
 * stops at the very event, so a test can act between two bus steps. */
static bool wait_for(struct harness *h, uint32_t ev, vtime_t timeout)
{
    vtime_t deadline = now(h) + timeout;
    while (!reg(h, ev)) {
        vtime_t next = soc_next_event(h->soc);
        if (next > deadline) {
            run_to(h, deadline);
            return reg(h, ev) != 0;
        }
        run_to(h, next);
    }
    return true;
}

/* Waits for the event and clears it (asserting it came). */
static void take(struct harness *h, uint32_t ev)
{
    assert_true(wait_for(h, ev, LONG));
    clear(h, ev);
}

/* DTOGGLE: select, then read VALUE (1 = DATA0, 2 = DATA1). */
static unsigned toggle_of(struct harness *h, uint32_t ep_io)
{
    set(h, DTOGGLE, ep_io | DT_NOP);
    return (reg(h, DTOGGLE) >> 8) & 3;
}

/* §3.6 steps 2-4 and 8 (POWER and CLOCK are other models). */
static void enable_and_ready(struct harness *h)
{
    set(h, EVENTCAUSE, CAUSE_READY);
    set(h, ENABLE, 1);
    assert_true(wait_for(h, EV_USBEVENT, SOC_MS(1)));
    assert_true(reg(h, EVENTCAUSE) & CAUSE_READY);
    set(h, EVENTCAUSE, CAUSE_READY);
    clear(h, EV_USBEVENT);
}

static void connect(struct fixture *f)
{
    enable_and_ready(f->h);
    set(f->h, USBPULLUP, 1);
    assert_true(usbd_host_connected(f->usbd));
}

/* Loads one IN packet: PTR/MAXCNT, then STARTEPIN[n] (§2.7 IN 1-2). */
static void load_in(struct harness *h, unsigned n, uint32_t addr, const void *data, uint32_t len)
{
    if (len)
        put_ram(h, addr, data, len);
    set(h, EPIN_PTR(n), addr);
    set(h, EPIN_MAXCNT(n), len);
    set(h, STARTEPIN(n), 1);
}

/* ---- the host's side: transfers --------------------------------------------- */

static void xfer_done(struct usb_xfer *x, void *ctx)
{
    (void)x;
    (*(unsigned *)ctx)++;
}

static void submit_control(struct fixture *f, struct usb_xfer *x, uint8_t type, uint8_t req, uint16_t value,
                           uint16_t index, uint16_t length, uint8_t *buf)
{
    const struct usb_setup s = { .bmRequestType = type, .bRequest = req, .wValue = value, .wIndex = index,
                                 .wLength = length };
    memset(x, 0, sizeof *x);
    usb_setup_encode(&s, x->setup);
    x->ep = 0;
    x->buf = buf;
    x->len = length;
    x->done = xfer_done;
    x->ctx = &f->done_calls;
    assert_true(usbd_host_submit(f->usbd, x));
}

static void submit_bulk(struct fixture *f, struct usb_xfer *x, uint8_t ep, uint8_t *buf, uint32_t len)
{
    memset(x, 0, sizeof *x);
    x->ep = ep;
    x->buf = buf;
    x->len = len;
    x->done = xfer_done;
    x->ctx = &f->done_calls;
    assert_true(usbd_host_submit(f->usbd, x));
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed + i * 7);
}

/* ---- enable, connection -------------------------------------------------------- */

/* §2.5 reset values; §3.6: READY in EVENTCAUSE (with USBEVENT) after ENABLE,
 * W1C; USBPULLUP makes the device visible to the host. */
static void enable_sequence_and_connection(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t buf[8];
    assert_int_equal(reg(h, ENABLE), 0);
    assert_int_equal(reg(h, USBPULLUP), 0);
    assert_int_equal(reg(h, EVENTCAUSE), 0);
    assert_int_equal(reg(h, EPINEN), EN_RESET);
    assert_int_equal(reg(h, EPOUTEN), EN_RESET);
    assert_int_equal(reg(h, DTOGGLE), DTOGGLE_RESET);
    assert_int_equal(reg(h, USBADDR), 0);

    set(h, INTENSET, INT_USBEVENT);
    set(h, EVENTCAUSE, CAUSE_READY);
    set(h, ENABLE, 1);
    assert_int_equal(reg(h, ENABLE), 1);
    assert_false(usbd_host_connected(f->usbd));   /* no pull-up yet */
    assert_true(wait_for(h, EV_USBEVENT, SOC_MS(1)));
    assert_int_equal(reg(h, EVENTCAUSE), CAUSE_READY);
    assert_true(irq(h, USBD_MODEL_IRQ));
    set(h, EVENTCAUSE, CAUSE_READY);               /* W1C */
    assert_int_equal(reg(h, EVENTCAUSE), 0);
    clear(h, EV_USBEVENT);
    assert_false(irq(h, USBD_MODEL_IRQ));

    /* without D+ pulled up the host sees nothing and cannot submit */
    memset(&x, 0, sizeof x);
    x.buf = buf;
    assert_false(usbd_host_submit(f->usbd, &x));
    assert_int_equal(f->connects, 0);

    set(h, USBPULLUP, 1);
    assert_int_equal(reg(h, USBPULLUP), 1);
    assert_true(usbd_host_connected(f->usbd));
    assert_int_equal(f->connects, 1);

    set(h, USBPULLUP, 0);
    assert_false(usbd_host_connected(f->usbd));
    assert_int_equal(f->disconnects, 1);
}

/* Disabling the USBD (§3.6, USBREMOVED path) ends what the host had queued. */
static void disable_ends_transfers(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t buf[MPS];
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0,
                   USB_DT_DEVICE_SIZE, buf);
    take(h, EV_EP0SETUP);
    set(h, ENABLE, 0);
    assert_int_equal(x.status, USB_XFER_DISCONNECTED);
    assert_false(usbd_host_connected(f->usbd));
    assert_int_equal(f->disconnects, 1);
}

/* ---- bus reset --------------------------------------------------------------- */

/* USBRESET (§2.2) and §2.7: EP1-7 disabled again (EPINEN/EPOUTEN 0x01);
 * USB 2.0 §9.1.1.3/§9.4.5: after reset the device is at address 0, with
 * no halt and its data toggles at DATA0. */
static void bus_reset_returns_endpoints_to_default(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer addr, bulk;
    uint8_t buf[MPS];
    connect(f);
    submit_control(f, &addr, USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS, 0x15, 0, 0, NULL);
    take(h, EV_EP0SETUP);
    run_for(h, LONG);
    assert_int_equal(addr.status, USB_XFER_OK);
    assert_int_equal(reg(h, USBADDR), 0x15);

    set(h, EPINEN, 0xFFu);
    set(h, EPOUTEN, 0xFFu);
    set(h, EPSTALL, ST_STALL | ST_IN | 1);
    set(h, EPSTALL, ST_STALL | 3);
    set(h, DTOGGLE, 2 | DT_DATA1);
    set(h, DTOGGLE, DT_IN | 4 | DT_DATA1);
    assert_int_equal(reg(h, HALTED_EPIN(1)), 1);
    assert_int_equal(reg(h, HALTED_EPOUT(3)), 1);
    assert_int_equal(toggle_of(h, 2), 2);
    submit_bulk(f, &bulk, USB_EP_DIR_IN | 5u, buf, sizeof buf);   /* NAKed: nothing loaded */
    run_for(h, LONG);
    assert_int_equal(bulk.status, USB_XFER_PENDING);

    usbd_host_bus_reset(f->usbd);
    assert_true(wait_for(h, EV_USBRESET, SOC_MS(20)));
    assert_int_equal(bulk.status, USB_XFER_DISCONNECTED);
    assert_int_equal(reg(h, EPINEN), EN_RESET);
    assert_int_equal(reg(h, EPOUTEN), EN_RESET);
    assert_int_equal(reg(h, HALTED_EPIN(1)), 0);
    assert_int_equal(reg(h, HALTED_EPOUT(3)), 0);
    assert_int_equal(toggle_of(h, 2), 1);
    assert_int_equal(toggle_of(h, DT_IN | 4), 1);
    assert_int_equal(reg(h, USBADDR), 0);
    assert_int_equal(usbd_host_address(f->usbd), 0);
    /* still attached: ENABLE and the pull-up are the firmware's */
    assert_int_equal(reg(h, ENABLE), 1);
    assert_int_equal(reg(h, USBPULLUP), 1);
    assert_true(usbd_host_connected(f->usbd));
}

/* ---- SETUP, SET_ADDRESS ------------------------------------------------------ */

/* §2.2/§2.5: a SETUP raises EP0SETUP (INTEN bit 23, IRQ 39) with the eight
 * bytes in BMREQUESTTYPE..WLENGTHH; the model does not answer it: the
 * host waits (NAK) until the firmware acts (§3). */
static void setup_registers_and_nak_until_firmware(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t buf[0x300];
    connect(f);
    set(h, INTENSET, INT_EP0SETUP);
    submit_control(f, &x, USB_RT_VENDOR_DEVICE_IN, VENDOR_REQ, 0x1234, 0xABCD, 0x0201, buf);
    assert_true(wait_for(h, EV_EP0SETUP, SOC_MS(1)));
    assert_true(irq(h, USBD_MODEL_IRQ));
    assert_int_equal(reg(h, BMREQUESTTYPE), USB_RT_VENDOR_DEVICE_IN);
    assert_int_equal(reg(h, BREQUEST), VENDOR_REQ);
    assert_int_equal(reg(h, WVALUEL), 0x34);
    assert_int_equal(reg(h, WVALUEH), 0x12);
    assert_int_equal(reg(h, WINDEXL), 0xCD);
    assert_int_equal(reg(h, WINDEXH), 0xAB);
    assert_int_equal(reg(h, WLENGTHL), 0x01);
    assert_int_equal(reg(h, WLENGTHH), 0x02);
    clear(h, EV_EP0SETUP);
    assert_false(irq(h, USBD_MODEL_IRQ));

    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_PENDING);
    assert_int_equal(x.actual, 0);
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);

    /* the firmware rejects it: the host sees a STALL (§3.4) */
    set(h, EP0STALL, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_STALL);
}

/* §3.5 / §8.5: SET_ADDRESS raises EP0SETUP, but the USBD runs its status
 * stage itself; USBADDR changes only after the status stage. */
static void set_address_handled_by_hardware(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS, 0x2A, 0, 0, NULL);
    assert_true(wait_for(h, EV_EP0SETUP, SOC_MS(1)));
    assert_int_equal(reg(h, BREQUEST), USB_REQ_SET_ADDRESS);
    assert_int_equal(reg(h, WVALUEL), 0x2A);
    assert_int_equal(reg(h, USBADDR), 0);            /* not before the status stage */
    assert_int_equal(x.status, USB_XFER_PENDING);
    clear(h, EV_EP0SETUP);
    run_for(h, LONG);                                /* no EP0STATUS from the firmware */
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(reg(h, USBADDR), 0x2A);
    assert_int_equal(usbd_host_address(f->usbd), 0x2A);

    /* embassy and the nRF5 SDK trigger EP0STATUS anyway: harmless (§3.5) */
    submit_control(f, &x, USB_RT_DEVICE_OUT, USB_REQ_SET_ADDRESS, 0x07, 0, 0, NULL);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, USBADDR), 0x2A);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(reg(h, USBADDR), 0x07);
    assert_int_equal(usbd_host_address(f->usbd), 0x07);
}

/* usbd_host.h: the host withdraws a transfer (a timeout); the next SETUP
 * starts a new control transfer that the firmware sees and answers. */
static void host_cancel_then_next_setup(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x, y;
    uint8_t buf[MPS], data[2] = { 0xA5, 0x5A };
    connect(f);
    uint8_t stale[2] = { 0xEE, 0xEE };
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, 2, buf);
    take(h, EV_EP0SETUP);
    run_for(h, LONG);
    /* the firmware loads its answer just as the host gives up */
    load_in(h, 0, RAM_B, stale, sizeof stale);
    assert_true(wait_for(h, EV_ENDEPIN(0), SOC_MS(1)));
    clear(h, EV_ENDEPIN(0));
    assert_int_equal(f->done_calls, 0);
    assert_true(usbd_host_cancel(f->usbd, &x));
    assert_int_equal(x.status, USB_XFER_CANCELLED);
    assert_int_equal(f->done_calls, 1);
    assert_false(usbd_host_cancel(f->usbd, &x));     /* already over */
    assert_int_equal(f->done_calls, 1);
    submit_control(f, &y, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, 2, buf);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, BREQUEST), USB_REQ_GET_STATUS);
    /* §3: after a SETUP, EP0 NAKs until the firmware prepares the next
     * stage; the packet loaded for the aborted transfer is not sent */
    run_for(h, LONG);
    assert_int_equal(y.actual, 0);
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);
    set(h, SHORTS, EP0DATADONE_EP0STATUS);
    load_in(h, 0, RAM_A, data, sizeof data);
    run_for(h, LONG);
    assert_int_equal(y.status, USB_XFER_OK);
    assert_int_equal(f->done_calls, 2);
    assert_int_equal(y.actual, 2);
    assert_memory_equal(buf, data, 2);
}

/* ---- control read ----------------------------------------------------------- */

/* §3.1: GET_DESCRIPTOR(DEVICE), 18 bytes in one packet: EPIN[0] PTR/MAXCNT,
 * STARTEPIN0 -> STARTED (EPSTATUS.EPIN0) -> ENDEPIN0 (AMOUNT) -> the host
 * reads it -> EP0DATADONE; the status stage waits for EP0STATUS. */
static void control_read_one_packet(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t desc[USB_DT_DEVICE_SIZE], got[MPS];
    fill(desc, sizeof desc, 0x12);
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, MPS, got);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, BMREQUESTTYPE), USB_RT_DEVICE_IN);
    assert_int_equal(reg(h, WVALUEH), USB_DT_DEVICE);
    assert_int_equal(reg(h, WLENGTHL), MPS);
    run_for(h, LONG);                                /* the model never answers by itself */
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);
    assert_int_equal(x.actual, 0);
    assert_int_equal(x.status, USB_XFER_PENDING);

    load_in(h, 0, RAM_A, desc, sizeof desc);
    assert_int_equal(reg(h, EV_STARTED), 1);
    assert_true(reg(h, EPSTATUS) & EPSTATUS_EPIN(0));
    set(h, EPSTATUS, EPSTATUS_EPIN(0));              /* W1C */
    assert_int_equal(reg(h, EPSTATUS), 0);
    assert_true(wait_for(h, EV_ENDEPIN(0), SOC_MS(1)));
    assert_int_equal(reg(h, EPIN_AMOUNT(0)), USB_DT_DEVICE_SIZE);
    take(h, EV_EP0DATADONE);
    assert_int_equal(x.actual, USB_DT_DEVICE_SIZE);
    assert_memory_equal(got, desc, sizeof desc);

    run_for(h, LONG);                                /* the status OUT is NAKed */
    assert_int_equal(x.status, USB_XFER_PENDING);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, USB_DT_DEVICE_SIZE);
}

/* §3.1 steps 3-6 three times: 150 bytes in 64-byte packets, one STARTEPIN0
 * per EP0DATADONE; the EP0DATADONE_EP0STATUS short on the last one. */
static void control_read_multi_packet(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[150], got[256];
    fill(data, sizeof data, 0x40);
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_CONFIG, 0), 0,
                   sizeof data, got);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, WLENGTHL), 150);

    load_in(h, 0, RAM_A, data, MPS);
    take(h, EV_ENDEPIN(0));
    take(h, EV_EP0DATADONE);
    assert_int_equal(x.actual, MPS);
    run_for(h, LONG);                                /* nothing loaded: NAK */
    assert_int_equal(x.actual, MPS);
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);

    load_in(h, 0, RAM_A + MPS, data + MPS, MPS);
    take(h, EV_ENDEPIN(0));
    take(h, EV_EP0DATADONE);
    assert_int_equal(x.actual, 2 * MPS);

    set(h, SHORTS, EP0DATADONE_EP0STATUS);
    load_in(h, 0, RAM_A + 2 * MPS, data + 2 * MPS, sizeof data - 2 * MPS);
    assert_true(wait_for(h, EV_ENDEPIN(0), SOC_MS(1)));
    assert_int_equal(reg(h, EPIN_AMOUNT(0)), sizeof data - 2 * MPS);
    take(h, EV_EP0DATADONE);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
    assert_memory_equal(got, data, sizeof data);
}

/* §2.3 bit 0 and §5 (PTR/MAXCNT latched; rewritable after STARTED): the
 * next packet pre-loaded after STARTED goes out by the EP0DATADONE ->
 * STARTEPIN0 short, without a task from the CPU. */
static void short_ep0datadone_startepin0(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[2 * MPS], got[2 * MPS];
    fill(data, sizeof data, 0x80);
    put_ram(h, RAM_A, data, sizeof data);
    connect(f);
    submit_control(f, &x, USB_RT_VENDOR_DEVICE_IN, VENDOR_REQ, 0, 0, sizeof data, got);
    take(h, EV_EP0SETUP);
    set(h, EPIN_PTR(0), RAM_A);
    set(h, EPIN_MAXCNT(0), MPS);
    set(h, STARTEPIN(0), 1);
    take(h, EV_STARTED);
    set(h, EPIN_PTR(0), RAM_A + MPS);                /* the next packet, latched by the short */
    set(h, SHORTS, EP0DATADONE_STARTEPIN0);
    take(h, EV_ENDEPIN(0));
    take(h, EV_EP0DATADONE);
    /* the short started the second DMA at EP0DATADONE */
    assert_int_equal(reg(h, EV_STARTED), 1);
    set(h, SHORTS, EP0DATADONE_EP0STATUS);           /* last packet: status stage by short */
    clear(h, EV_STARTED);
    take(h, EV_ENDEPIN(0));
    take(h, EV_EP0DATADONE);
    run_for(h, LONG);
    assert_int_equal(reg(h, EV_STARTED), 0);         /* no third packet */
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
    assert_memory_equal(got, data, sizeof data);
}

/* §3.2 / §8.6: 64 bytes answering wLength 255 end with a zero-length
 * packet, loaded with MAXCNT 0 and PTR 0 (nrfx): no bad-pointer report. */
static void control_read_zlp_after_full_packet(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[MPS], got[255];
    fill(data, sizeof data, 0x01);
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 1), LANGID_EN_US,
                   sizeof got, got);
    take(h, EV_EP0SETUP);
    load_in(h, 0, RAM_A, data, MPS);
    take(h, EV_ENDEPIN(0));
    take(h, EV_EP0DATADONE);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_PENDING);    /* the host still wants data */

    set(h, EPIN_PTR(0), 0);
    set(h, EPIN_MAXCNT(0), 0);
    set(h, STARTEPIN(0), 1);
    take(h, EV_ENDEPIN(0));
    assert_int_equal(reg(h, EPIN_AMOUNT(0)), 0);
    take(h, EV_EP0DATADONE);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, MPS);
    assert_memory_equal(got, data, MPS);
    assert_false(log_has(h, "outside data RAM"));
}

/* §8.2: ENDEPIN means the RAM buffer was read, not that the host got it:
 * RAM rewritten after ENDEPIN does not change the packet. */
static void endepin_frees_ram_before_the_host_reads(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, junk[8] = { 0 }, got[8];
    connect(f);
    submit_control(f, &x, USB_RT_VENDOR_DEVICE_IN, VENDOR_REQ, 0, 0, sizeof got, got);
    take(h, EV_EP0SETUP);
    set(h, SHORTS, EP0DATADONE_EP0STATUS);
    load_in(h, 0, RAM_A, data, sizeof data);
    set(h, EPIN_PTR(0), RAM_B);                      /* after STARTED: does not touch this DMA */
    set(h, EPIN_MAXCNT(0), 1);
    assert_true(wait_for(h, EV_ENDEPIN(0), SOC_MS(1)));
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);     /* the host has not read it yet */
    put_ram(h, RAM_A, junk, sizeof junk);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
    assert_memory_equal(got, data, sizeof data);
}

/* ---- control write, no-data control -------------------------------------------- */

/* §3.3: EP0RCVOUT lets one packet in (EP0DATADONE, SIZE.EPOUT[0]), the
 * firmware DMAs it with STARTEPOUT0 (ENDEPOUT0, AMOUNT); the status IN is
 * NAKed until EP0STATUS. */
static void control_write_two_packets(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[100];
    fill(data, sizeof data, 0x33);
    connect(f);
    submit_control(f, &x, USB_RT_VENDOR_DEVICE_OUT, VENDOR_REQ, 7, 0, sizeof data, data);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, BMREQUESTTYPE), USB_RT_VENDOR_DEVICE_OUT);
    assert_int_equal(reg(h, WLENGTHL), sizeof data);

    run_for(h, LONG);                                /* no EP0RCVOUT: the data is NAKed */
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);
    assert_int_equal(x.actual, 0);

    set(h, EP0RCVOUT, 1);
    take(h, EV_EP0DATADONE);
    assert_int_equal(reg(h, SIZE_EPOUT(0)), MPS);
    run_for(h, LONG);                                /* one packet per EP0RCVOUT */
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);
    assert_int_equal(x.actual, MPS);

    set(h, EPOUT_PTR(0), RAM_A);
    set(h, EPOUT_MAXCNT(0), MPS);
    set(h, STARTEPOUT(0), 1);
    assert_int_equal(reg(h, EV_STARTED), 1);
    assert_true(reg(h, EPSTATUS) & EPSTATUS_EPOUT(0));
    take(h, EV_ENDEPOUT(0));
    assert_int_equal(reg(h, EPOUT_AMOUNT(0)), MPS);
    assert_memory_equal(ram(h, RAM_A), data, MPS);

    set(h, EP0RCVOUT, 1);
    take(h, EV_EP0DATADONE);
    assert_int_equal(reg(h, SIZE_EPOUT(0)), sizeof data - MPS);   /* min(64, remaining) */
    set(h, EPOUT_PTR(0), RAM_A + MPS);
    set(h, EPOUT_MAXCNT(0), sizeof data - MPS);
    set(h, STARTEPOUT(0), 1);
    take(h, EV_ENDEPOUT(0));
    assert_int_equal(reg(h, EPOUT_AMOUNT(0)), sizeof data - MPS);
    assert_memory_equal(ram(h, RAM_A), data, sizeof data);

    run_for(h, LONG);                                /* status IN NAKed */
    assert_int_equal(x.status, USB_XFER_PENDING);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
}

/* §2.3 bits 1, 3, 4: EP0DATADONE -> STARTEPOUT0, ENDEPOUT0 -> EP0RCVOUT for
 * the first packet, ENDEPOUT0 -> EP0STATUS for the last: the CPU only moves
 * PTR/MAXCNT after STARTED and switches SHORTS. */
static void control_write_by_shorts(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[MPS + 20];
    fill(data, sizeof data, 0x99);
    connect(f);
    submit_control(f, &x, USB_RT_VENDOR_DEVICE_OUT, VENDOR_REQ, 0, 0, sizeof data, data);
    take(h, EV_EP0SETUP);
    set(h, EPOUT_PTR(0), RAM_B);
    set(h, EPOUT_MAXCNT(0), MPS);
    set(h, SHORTS, EP0DATADONE_STARTEPOUT0 | ENDEPOUT0_EP0RCVOUT);
    set(h, EP0RCVOUT, 1);
    take(h, EV_STARTED);
    set(h, EPOUT_PTR(0), RAM_B + MPS);
    set(h, EPOUT_MAXCNT(0), sizeof data - MPS);
    take(h, EV_ENDEPOUT(0));
    assert_memory_equal(ram(h, RAM_B), data, MPS);
    set(h, SHORTS, EP0DATADONE_STARTEPOUT0 | ENDEPOUT0_EP0STATUS);
    take(h, EV_ENDEPOUT(0));
    assert_int_equal(reg(h, EPOUT_AMOUNT(0)), sizeof data - MPS);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
    assert_memory_equal(ram(h, RAM_B), data, sizeof data);
}

/* §3.4: no data stage; the status IN waits for EP0STATUS. */
static void no_data_control_waits_for_ep0status(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, BREQUEST), USB_REQ_SET_CONFIGURATION);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_PENDING);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, 0);
}

/* §3 general rules: EP0STALL stalls the data stage, and the status stage of
 * a control write; the next SETUP is accepted and clears the stall. */
static void ep0stall_and_next_setup_clears_it(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t buf[255], data[8] = { 0 };
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_STRING, 9), LANGID_EN_US,
                   sizeof buf, buf);
    take(h, EV_EP0SETUP);
    set(h, EP0STALL, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_STALL);
    assert_int_equal(x.actual, 0);

    /* status stage of a control write */
    submit_control(f, &x, USB_RT_VENDOR_DEVICE_OUT, VENDOR_REQ, 0, 0, sizeof data, data);
    take(h, EV_EP0SETUP);
    set(h, EP0RCVOUT, 1);
    take(h, EV_EP0DATADONE);
    set(h, EP0STALL, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_STALL);

    submit_control(f, &x, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL);
    take(h, EV_EP0SETUP);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
}

/* ---- bulk ------------------------------------------------------------------ */

/* §2.7 IN: NAK until loaded; STARTEPIN1 -> STARTED/EPSTATUS -> ENDEPIN1; the
 * host's ACK -> EPDATA with EPDATASTATUS.EPIN1; DATA0/DATA1 alternate
 * (DTOGGLE reads them); a short packet ends the host's transfer. */
static void bulk_in(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[100], got[128];
    fill(data, sizeof data, 0x55);
    connect(f);
    set(h, EPINEN, EN(0) | EN(1));
    assert_int_equal(toggle_of(h, DT_IN | 1), 1);
    submit_bulk(f, &x, EP1_IN, got, sizeof got);
    run_for(h, LONG);
    assert_int_equal(reg(h, EV_EPDATA), 0);
    assert_int_equal(x.status, USB_XFER_PENDING);

    load_in(h, 1, RAM_A, data, MPS);
    assert_int_equal(reg(h, EV_STARTED), 1);
    assert_int_equal(reg(h, EPSTATUS), EPSTATUS_EPIN(1));
    set(h, EPSTATUS, EPSTATUS_EPIN(1));
    take(h, EV_ENDEPIN(1));
    assert_int_equal(reg(h, EPIN_AMOUNT(1)), MPS);
    take(h, EV_EPDATA);
    assert_int_equal(reg(h, EPDATASTATUS), EPDATA_IN(1));
    set(h, EPDATASTATUS, EPDATA_IN(1));                /* W1C */
    assert_int_equal(reg(h, EPDATASTATUS), 0);
    assert_int_equal(x.actual, MPS);
    assert_int_equal(x.status, USB_XFER_PENDING);    /* a full packet: more may come */
    assert_int_equal(toggle_of(h, DT_IN | 1), 2);

    load_in(h, 1, RAM_A + MPS, data + MPS, sizeof data - MPS);
    take(h, EV_EPDATA);
    assert_int_equal(reg(h, EPDATASTATUS), EPDATA_IN(1));
    run_for(h, SOC_US(100));
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
    assert_memory_equal(got, data, sizeof data);
    assert_int_equal(toggle_of(h, DT_IN | 1), 1);
}

/* §2.7 IN 1: MAXCNT 0 loads a zero-length packet, which ends a bulk IN
 * transfer after a full packet (USB 2.0 §5.8.3). */
static void bulk_in_zero_length_packet(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[MPS], got[2 * MPS];
    fill(data, sizeof data, 0x77);
    connect(f);
    set(h, EPINEN, EN(0) | EN(1));
    submit_bulk(f, &x, EP1_IN, got, sizeof got);
    load_in(h, 1, RAM_A, data, MPS);
    take(h, EV_ENDEPIN(1));
    take(h, EV_EPDATA);
    set(h, EPDATASTATUS, EPDATA_IN(1));
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_PENDING);
    load_in(h, 1, RAM_A, NULL, 0);
    take(h, EV_ENDEPIN(1));
    assert_int_equal(reg(h, EPIN_AMOUNT(1)), 0);
    take(h, EV_EPDATA);
    assert_int_equal(reg(h, EPDATASTATUS), EPDATA_IN(1));
    run_for(h, SOC_US(100));
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, MPS);
    assert_memory_equal(got, data, MPS);
}

/* §2.7 OUT: NAK until SIZE.EPOUT[n] is written once; then one packet is
 * ACKed (EPDATA, EPDATASTATUS.EPOUT1, SIZE.EPOUT[1]) and the next NAKed
 * until the firmware has drained it with STARTEPOUT1 (ENDEPOUT1). */
static void bulk_out(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[100];
    fill(data, sizeof data, 0x21);
    connect(f);
    set(h, EPOUTEN, EN(0) | EN(1));
    assert_int_equal(toggle_of(h, 1), 1);
    submit_bulk(f, &x, EP1_OUT, data, sizeof data);
    run_for(h, LONG);                                /* not armed yet */
    assert_int_equal(reg(h, EV_EPDATA), 0);
    assert_int_equal(x.actual, 0);

    set(h, SIZE_EPOUT(1), 0);
    take(h, EV_EPDATA);
    assert_int_equal(reg(h, EPDATASTATUS), EPDATA_OUT(1));
    assert_int_equal(reg(h, SIZE_EPOUT(1)), MPS);
    assert_int_equal(toggle_of(h, 1), 2);
    set(h, EPDATASTATUS, EPDATA_OUT(1));
    run_for(h, LONG);                                /* the buffer is full: NAK */
    assert_int_equal(reg(h, EV_EPDATA), 0);
    assert_int_equal(x.actual, MPS);

    set(h, EPOUT_PTR(1), RAM_C);
    set(h, EPOUT_MAXCNT(1), reg(h, SIZE_EPOUT(1)));
    set(h, STARTEPOUT(1), 1);
    assert_int_equal(reg(h, EPSTATUS), EPSTATUS_EPOUT(1));
    take(h, EV_ENDEPOUT(1));
    assert_int_equal(reg(h, EPOUT_AMOUNT(1)), MPS);
    assert_memory_equal(ram(h, RAM_C), data, MPS);

    /* §2.7 OUT 4: the buffer is free again after the DMA */
    take(h, EV_EPDATA);
    assert_int_equal(reg(h, EPDATASTATUS), EPDATA_OUT(1));
    assert_int_equal(reg(h, SIZE_EPOUT(1)), sizeof data - MPS);
    run_for(h, SOC_US(100));
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, sizeof data);
    set(h, EPOUT_PTR(1), RAM_C + MPS);
    set(h, EPOUT_MAXCNT(1), reg(h, SIZE_EPOUT(1)));
    set(h, STARTEPOUT(1), 1);
    take(h, EV_ENDEPOUT(1));
    assert_memory_equal(ram(h, RAM_C), data, sizeof data);
}

/* An endpoint not enabled in EPINEN/EPOUTEN does not answer (§2.5). */
static void disabled_bulk_endpoint_does_not_answer(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[8] = { 9 };
    connect(f);
    assert_int_equal(reg(h, EPOUTEN), EN_RESET);
    set(h, SIZE_EPOUT(1), 0);
    submit_bulk(f, &x, EP1_OUT, data, sizeof data);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_PENDING);
    assert_int_equal(reg(h, EV_EPDATA), 0);
    set(h, EPOUTEN, EN(0) | EN(1));
    take(h, EV_EPDATA);
    run_for(h, SOC_US(100));
    assert_int_equal(x.status, USB_XFER_OK);
}

/* USB 2.0 §8.6 with DTOGGLE (§2.5): a packet whose toggle the receiver did
 * not expect is taken for a retransmission: ACKed and dropped. */
static void dtoggle_sets_the_data_toggle(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer in, out;
    uint8_t first[4] = { 1, 1, 1, 1 }, second[4] = { 2, 2, 2, 2 }, got[16], data[4] = { 7, 7, 7, 7 };
    connect(f);
    set(h, EPINEN, EN(0) | EN(1));
    set(h, EPOUTEN, EN(0) | EN(1));

    /* IN: the device sends DATA1 where the host expects DATA0 */
    set(h, DTOGGLE, DT_IN | 1 | DT_DATA1);
    assert_int_equal(toggle_of(h, DT_IN | 1), 2);
    submit_bulk(f, &in, EP1_IN, got, sizeof got);
    load_in(h, 1, RAM_A, first, sizeof first);
    take(h, EV_EPDATA);                              /* the host ACKed it... */
    run_for(h, SOC_US(100));
    assert_int_equal(in.status, USB_XFER_PENDING);   /* ...and dropped it */
    assert_int_equal(in.actual, 0);
    assert_int_equal(toggle_of(h, DT_IN | 1), 1);
    load_in(h, 1, RAM_A, second, sizeof second);
    take(h, EV_EPDATA);
    run_for(h, SOC_US(100));
    assert_int_equal(in.status, USB_XFER_OK);
    assert_int_equal(in.actual, sizeof second);
    assert_memory_equal(got, second, sizeof second);

    /* OUT: the device expects DATA1, the host sends DATA0 */
    set(h, EPDATASTATUS, EPDATA_IN(1));
    clear(h, EV_EPDATA);
    set(h, DTOGGLE, 1 | DT_DATA1);
    assert_int_equal(toggle_of(h, 1), 2);
    set(h, SIZE_EPOUT(1), 0);
    submit_bulk(f, &out, EP1_OUT, data, sizeof data);
    run_for(h, LONG);
    assert_int_equal(out.status, USB_XFER_OK);       /* ACKed: the host is done */
    assert_int_equal(reg(h, EV_EPDATA), 0);          /* the device dropped it */
    assert_int_equal(reg(h, EPDATASTATUS), 0);
    assert_int_equal(toggle_of(h, 1), 2);
}

/* §2.5/§2.7: EPSTALL stalls (HALTED reads 1, the host gets STALL); the
 * unstall sequence DTOGGLE DATA0, EPSTALL clear, SIZE.EPOUT re-arm. EP0 is
 * not stalled through EPSTALL. */
static void epstall_and_halted(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer in, out;
    uint8_t got[8], data[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };
    connect(f);
    set(h, EPINEN, EN(0) | EN(1));
    set(h, EPOUTEN, EN(0) | EN(2));
    set(h, EPSTALL, ST_STALL | ST_IN | 1);
    set(h, EPSTALL, ST_STALL | 2);
    assert_int_equal(reg(h, HALTED_EPIN(1)), 1);
    assert_int_equal(reg(h, HALTED_EPOUT(1)), 0);
    assert_int_equal(reg(h, HALTED_EPOUT(2)), 1);
    assert_int_equal(reg(h, HALTED_EPIN(2)), 0);

    submit_bulk(f, &in, EP1_IN, got, sizeof got);
    set(h, SIZE_EPOUT(2), 0);
    submit_bulk(f, &out, EP2_OUT, data, sizeof data);
    run_for(h, LONG);
    assert_int_equal(in.status, USB_XFER_STALL);
    assert_int_equal(out.status, USB_XFER_STALL);
    assert_int_equal(reg(h, EV_EPDATA), 0);

    set(h, DTOGGLE, DT_IN | 1 | DT_DATA0);
    set(h, EPSTALL, ST_IN | 1);
    set(h, DTOGGLE, 2 | DT_DATA0);
    set(h, EPSTALL, 2);
    set(h, SIZE_EPOUT(2), 0);
    assert_int_equal(reg(h, HALTED_EPIN(1)), 0);
    assert_int_equal(reg(h, HALTED_EPOUT(2)), 0);
    submit_bulk(f, &in, EP1_IN, got, sizeof got);
    submit_bulk(f, &out, EP2_OUT, data, sizeof data);
    load_in(h, 1, RAM_A, data, sizeof data);
    run_for(h, LONG);
    assert_int_equal(in.status, USB_XFER_OK);
    assert_memory_equal(got, data, sizeof data);
    assert_int_equal(out.status, USB_XFER_OK);
    assert_int_equal(reg(h, EPDATASTATUS), EPDATA_IN(1) | EPDATA_OUT(2));
    assert_int_equal(reg(h, SIZE_EPOUT(2)), sizeof data);

    set(h, EPSTALL, ST_STALL | ST_IN | 0);
    assert_int_equal(reg(h, HALTED_EPIN(0)), 0);
}

/* ---- suspend, resume, frames ---------------------------------------------------- */

/* §2.5 EVENTCAUSE SUSPEND/RESUME with USBEVENT; nothing moves on a
 * suspended bus. */
static void suspend_and_resume(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    connect(f);
    usbd_host_suspend(f->usbd);
    take(h, EV_USBEVENT);
    assert_int_equal(reg(h, EVENTCAUSE), CAUSE_SUSPEND);
    set(h, EVENTCAUSE, CAUSE_SUSPEND);
    assert_int_equal(reg(h, EVENTCAUSE), 0);
    set(h, LOWPOWER, 1);
    assert_int_equal(reg(h, LOWPOWER), 1);

    set(h, INTENSET, INT_SOF);
    clear(h, EV_SOF);
    submit_control(f, &x, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL);
    run_for(h, LONG);
    assert_int_equal(reg(h, EV_EP0SETUP), 0);
    assert_int_equal(reg(h, EV_SOF), 0);             /* USB 2.0 §7.1.7.6: an idle bus */

    usbd_host_resume(f->usbd);
    take(h, EV_USBEVENT);
    assert_int_equal(reg(h, EVENTCAUSE), CAUSE_RESUME);
    set(h, EVENTCAUSE, CAUSE_RESUME);
    set(h, LOWPOWER, 0);
    take(h, EV_EP0SETUP);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
}

/* §2.2/§2.5: SOF every 1 ms frame while connected; FRAMECNTR counts them. */
static void sof_and_frame_counter(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    connect(f);
    set(h, INTENSET, INT_SOF);
    vtime_t t0 = now(h);
    assert_true(wait_for(h, EV_SOF, SOC_MS(2)));
    clear(h, EV_SOF);
    run_to(h, t0 + SOC_MS(3) + SOC_US(500));
    assert_int_equal(reg(h, EV_SOF), 1);
    assert_int_equal(reg(h, FRAMECNTR), 3);
}

/* ---- EasyDMA rules ------------------------------------------------------------ */

/* §2.8: one USBD EasyDMA at a time across all endpoints. The model shows
 * every USBD channel to the sanitizer in one group, so a second START
 * during the first is seen as an overlap (emu/test/sanitizer/two_usbd_dmas.c
 * checks the report); the first transfer's own result stays right. */
static void one_usbd_dma_at_a_time(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t a[MPS], b[MPS];
    fill(a, sizeof a, 1);
    fill(b, sizeof b, 2);
    enable_and_ready(h);
    set(h, EPINEN, EN(0) | EN(1));
    set(h, EPOUTEN, EN(0) | EN(1));
    load_in(h, 0, RAM_A, a, MPS);
    load_in(h, 1, RAM_B, b, MPS);
    assert_int_equal(f->begins, 2);
    assert_int_equal(f->overlaps, 1);
    assert_string_equal(f->last_begin.periph, "USBD");
    assert_int_equal(reg(h, EPSTATUS), EPSTATUS_EPIN(0) | EPSTATUS_EPIN(1));
    take(h, EV_ENDEPIN(0));
    assert_int_equal(reg(h, EPIN_AMOUNT(0)), MPS);

    /* one after the other: no overlap */
    assert_true(wait_for(h, EV_ENDEPIN(1), SOC_MS(1)));
    set(h, EPOUT_PTR(1), RAM_C);
    set(h, EPOUT_MAXCNT(1), 0);
    set(h, STARTEPOUT(1), 1);
    take(h, EV_ENDEPOUT(1));
    load_in(h, 2, RAM_A, a, 1);
    take(h, EV_ENDEPIN(2));
    assert_int_equal(f->begins, 4);
    assert_int_equal(f->overlaps, 1);

    /* an OUT channel is in the same rule */
    load_in(h, 2, RAM_A, a, MPS);
    set(h, STARTEPOUT(1), 1);
    assert_int_equal(f->begins, 6);
    assert_int_equal(f->overlaps, 2);
    take(h, EV_ENDEPIN(2));
    take(h, EV_ENDEPOUT(1));
}

/* §5 / rule 1: EasyDMA reaches data RAM only; a flash pointer is reported. */
static void dma_pointer_outside_ram_is_reported(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable_and_ready(h);
    set(h, EPIN_PTR(0), FLASH_ADDR);
    set(h, EPIN_MAXCNT(0), 18);
    set(h, STARTEPIN(0), 1);
    take(h, EV_ENDEPIN(0));
    assert_true(log_has(h, "outside data RAM"));
    assert_int_equal(f->last_begin.ptr, FLASH_ADDR);
    assert_true(f->last_begin.bad_pointer);
}

/* Writing 0 to a TASKS_ register does nothing (TinyUSB's dcd_nrf5x.c relies on it). */
static void writing_zero_to_tasks_does_nothing(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t data[8] = { 0 };
    connect(f);
    set(h, EPINEN, EN(0) | EN(1));
    set(h, EPIN_PTR(1), RAM_A);
    set(h, EPIN_MAXCNT(1), 8);
    set(h, EPOUT_PTR(1), RAM_B);
    set(h, EPOUT_MAXCNT(1), 8);
    set(h, STARTEPIN(1), 0);
    set(h, STARTEPOUT(1), 0);
    run_for(h, LONG);
    assert_int_equal(reg(h, EV_STARTED), 0);
    assert_int_equal(reg(h, EPSTATUS), 0);
    assert_int_equal(reg(h, EV_ENDEPIN(1)), 0);
    assert_int_equal(reg(h, EV_ENDEPOUT(1)), 0);
    assert_int_equal(f->begins, 0);

    submit_control(f, &x, USB_RT_VENDOR_DEVICE_OUT, VENDOR_REQ, 0, 0, sizeof data, data);
    take(h, EV_EP0SETUP);
    set(h, EP0RCVOUT, 0);
    set(h, EP0STATUS, 0);
    set(h, EP0STALL, 0);
    run_for(h, LONG);
    assert_int_equal(reg(h, EV_EP0DATADONE), 0);
    assert_int_equal(x.status, USB_XFER_PENDING);
    assert_int_equal(x.actual, 0);
    set(h, EP0RCVOUT, 1);
    take(h, EV_EP0DATADONE);
    set(h, EP0STATUS, 1);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
}

/* ---- isochronous channels --------------------------------------------------- */

/* STARTISOIN -> STARTED (EPSTATUS bit 8) -> DMA -> ENDISOIN (+0x12C) with
 * ISOIN.AMOUNT, with no ISO traffic on the bus; 10-bit counts (> 64). */
static void pending_isoin_dma_without_traffic(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t data[200];
    fill(data, sizeof data, 0x11);
    connect(f);
    set(h, STARTISOIN, 0);                           /* TinyUSB at bus reset: a no-op */
    assert_int_equal(f->begins, 0);
    assert_int_equal(reg(h, EV_STARTED), 0);
    set(h, ISOSPLIT, ISOSPLIT_HALFIN);
    set(h, EPINEN, EN(0) | EN_ISO);
    put_ram(h, RAM_A, data, sizeof data);
    set(h, ISOIN_PTR, RAM_A);
    set(h, ISOIN_MAXCNT, sizeof data);
    assert_int_equal(reg(h, ISOIN_PTR), RAM_A);
    assert_int_equal(reg(h, ISOIN_MAXCNT), sizeof data);
    set(h, STARTISOIN, 1);
    assert_true(wait_for(h, EV_STARTED, SOC_US(10)));
    assert_int_equal(reg(h, EPSTATUS), EPSTATUS_ISOIN);
    assert_int_equal(f->begins, 1);
    assert_string_equal(f->last_begin.periph, "USBD");
    assert_int_equal(f->last_begin.ptr, RAM_A);
    assert_int_equal(f->last_begin.maxcnt, sizeof data);
    assert_false(f->last_begin.writes_ram);
    assert_true(wait_for(h, EV_ENDISOIN, SOC_MS(2)));
    assert_int_equal(reg(h, ISOIN_AMOUNT), sizeof data);
    assert_int_equal(reg(h, EV_ENDEPIN(0)), 0);
}

/* The same for ISOOUT: STARTED with EPSTATUS bit 24, then ENDISOOUT
 * (+0x150). AMOUNT without traffic is not given by the facts: only bounded
 * by MAXCNT here. */
static void pending_isoout_dma_without_traffic(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    connect(f);
    set(h, STARTISOOUT, 0);                          /* a no-op */
    assert_int_equal(f->begins, 0);
    assert_int_equal(reg(h, EV_STARTED), 0);
    assert_int_equal(reg(h, SIZE_ISOOUT), SIZE_ISOOUT_RESET);
    set(h, ISOSPLIT, ISOSPLIT_HALFIN);
    set(h, EPOUTEN, EN(0) | EN_ISO);
    set(h, ISOOUT_PTR, RAM_B);
    set(h, ISOOUT_MAXCNT, 200);
    set(h, STARTISOOUT, 1);
    assert_true(wait_for(h, EV_STARTED, SOC_US(10)));
    assert_int_equal(reg(h, EPSTATUS), EPSTATUS_ISOOUT);
    assert_int_equal(f->begins, 1);
    assert_string_equal(f->last_begin.periph, "USBD");
    assert_int_equal(f->last_begin.ptr, RAM_B);
    assert_true(f->last_begin.writes_ram);
    assert_true(wait_for(h, EV_ENDISOOUT, SOC_MS(2)));
    assert_true(reg(h, ISOOUT_AMOUNT) <= 200);
    assert_int_equal(reg(h, EV_ENDEPOUT(0)), 0);
}

/* An ISO DMA is a USBD DMA (§2.8): it overlaps with an EPIN DMA. */
static void pending_iso_dma_counts_as_usbd_dma(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t a[MPS];
    fill(a, sizeof a, 5);
    enable_and_ready(h);
    set(h, EPINEN, EN(0) | EN_ISO);
    set(h, ISOIN_PTR, RAM_B);
    set(h, ISOIN_MAXCNT, 100);
    set(h, STARTISOIN, 1);
    load_in(h, 0, RAM_A, a, MPS);
    assert_int_equal(f->begins, 2);
    assert_int_equal(f->overlaps, 1);
    assert_true(wait_for(h, EV_ENDISOIN, SOC_MS(2)));
}

/* ---- EP0 answered from EPIN0 (an inference: docs/emulator.md, USBD) ----------- */

/* A control IN with wLength 0, answered with a zero-length packet loaded by
 * EPIN[0].MAXCNT = 0 and STARTEPIN0 and no EP0STATUS, completes. */
static void pending_control_in_wlength0_answered_by_zlp(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct usb_xfer x;
    uint8_t got[1];
    connect(f);
    submit_control(f, &x, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, 0, got);
    take(h, EV_EP0SETUP);
    assert_int_equal(reg(h, WLENGTHL), 0);
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_PENDING);    /* nothing loaded: NAK */
    set(h, EPIN_PTR(0), RAM_A);
    set(h, EPIN_MAXCNT(0), 0);
    set(h, STARTEPIN(0), 1);
    take(h, EV_ENDEPIN(0));
    run_for(h, LONG);
    assert_int_equal(x.status, USB_XFER_OK);
    assert_int_equal(x.actual, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(enable_sequence_and_connection),
        T(disable_ends_transfers),
        T(bus_reset_returns_endpoints_to_default),
        T(setup_registers_and_nak_until_firmware),
        T(set_address_handled_by_hardware),
        T(host_cancel_then_next_setup),
        T(control_read_one_packet),
        T(control_read_multi_packet),
        T(short_ep0datadone_startepin0),
        T(control_read_zlp_after_full_packet),
        T(endepin_frees_ram_before_the_host_reads),
        T(control_write_two_packets),
        T(control_write_by_shorts),
        T(no_data_control_waits_for_ep0status),
        T(ep0stall_and_next_setup_clears_it),
        T(bulk_in),
        T(bulk_in_zero_length_packet),
        T(bulk_out),
        T(disabled_bulk_endpoint_does_not_answer),
        T(dtoggle_sets_the_data_toggle),
        T(epstall_and_halted),
        T(suspend_and_resume),
        T(sof_and_frame_counter),
        T(one_usbd_dma_at_a_time),
        T(dma_pointer_outside_ram_is_reported),
        T(writing_zero_to_tasks_does_nothing),
        T(pending_isoin_dma_without_traffic),
        T(pending_isoout_dma_without_traffic),
        T(pending_iso_dma_counts_as_usbd_dma),
        T(pending_control_in_wlength0_answered_by_zlp),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
