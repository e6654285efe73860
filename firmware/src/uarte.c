/* UARTE driver: TX from a ring, RX double-buffered into a ring, every EasyDMA
 * transfer through the ownership-checked DMA API (dma.h; nRF52840 PS "UARTE", "EasyDMA").
 *
 * Pins. On the dongle UARTE0 uses TXD = P0.20, RXD = P0.24, RTS = P0.17 and
 * CTS = P0.22, Zephyr's choice for the PCA10059: castellated edge pins
 * (§6.1), reachable with a 3.3 V adapter. The board sets up the GPIOs (TX and
 * RTS outputs high, RX and CTS inputs with pull-up, §4.2) and passes the pins
 * in cfg. This file only routes them.
 *
 * Flow control (CONFIG.HWFC, when cfg has RTS and CTS). TX waits while the
 * peer holds CTS inactive. RX: the UARTE deasserts RTS while no buffer is
 * latched (after an ENDRX with nothing queued, or STOPRX) once its FIFO is
 * nearly full, and the driver only hands the DMA a buffer while the RX ring
 * has room for every byte the DMA may bring back (rx_room_for). So a host
 * that drains the ring late pauses the sender instead of losing bytes
 * (RX_PAUSED); uarte_read restarts RX when it has made room. Without flow
 * control the same pause loses bytes at the FIFO instead, and they are
 * counted (uart_rx_fifo_overruns).
 *
 * Interrupt contexts. uarte_write/read/status/set_baud run in the USBD
 * handler, uarte_irq in the UARTE0 handler (IRQ 2), rx_idle_timeout in the
 * TIMER0 handler. On the dongle all three have the same NVIC priority, so
 * none of them preempts another. Each runs to completion, which is why the
 * driver state (channels, rx_state, rx_spare) needs no critical sections.
 * The TX ring has one writer (USBD) and one reader (UARTE), so it would stay
 * correct at any priorities. The RX ring is read by USBD but written from
 * two contexts (UARTE and TIMER0), and that, like the channel state, is
 * safe only while the UARTE and TIMER0 handlers cannot preempt each other.
 * Giving either a different priority would need a critical section around
 * the RX path.
 *
 * Registers are reached as NRF_REG(base, offset) only, so the unit tests can
 * run this file against a fake register block in ordinary memory. */
#include "uarte.h"

#include "counters.h"
#include "dma.h"
#include "nrf52840.h"
#include "ring.h"
#include "timer.h"

#define REG(off) NRF_REG(base, (off))

/* RX buffer size and the interrupt-latency budget at the highest rate.
 * At 1 Mbaud (8N1) a byte takes 10 us, so a 128-byte buffer fills in
 * 1.28 ms. When buffer A ends, the ENDRX->STARTRX short moves the receiver
 * into the queued buffer B without a gap. From then on the handler has until
 * B is full, 1.28 ms after ENDRX(A), to copy A into the RX ring and, on
 * RXSTARTED(B), queue A again. It does both in the same invocation. The copy
 * of 128 bytes (libc.c copies byte by byte, about 5 cycles a byte) plus the
 * DMA API bookkeeping is about 1000 cycles, 16 us at 64 MHz. That leaves
 * about 1.2 ms for the worst-case latency of whatever else runs at this
 * priority: the USBD handler (an EP0 packet, or uarte_write copying at most
 * HILDA_UART_TX_CAPACITY = 2 KiB, about 10k cycles = 160 us) and TIMER0
 * callbacks. The idle flush below busy-waits, but only after the
 * line has been quiet, when no buffer is about to fill. The 4-byte hardware
 * FIFO adds 40 us of slack only when no buffer is latched, so it is no help
 * here. Doubling RX_BUF_SIZE doubles the budget. */
#define RX_BUF_SIZE 128u

/* FLUSHRX empties the 4-byte RX FIFO (§4.2). nrfx uses 5 bytes, and more is
 * harmless. */
#define FLUSH_BUF_SIZE 8u

/* Line-idle detection: 4 byte times of 10 bits, but at least 1 ms so that
 * fast rates do not run TIMER0 every few hundred microseconds. */
#define IDLE_BITS 40u
#define IDLE_MIN_US 1000u

#define INT_RXDRDY UARTE_INT(UARTE_EVENTS_RXDRDY)
#define INT_RX (UARTE_INT(UARTE_EVENTS_ENDRX) | UARTE_INT(UARTE_EVENTS_RXSTARTED) | \
                UARTE_INT(UARTE_EVENTS_RXTO))
#define INT_TX (UARTE_INT(UARTE_EVENTS_ENDTX) | UARTE_INT(UARTE_EVENTS_ERROR))

_Static_assert(HILDA_UART_TX_CAPACITY <= UARTE_MAXCNT_LIMIT, "a TX span must fit MAXCNT");
_Static_assert((HILDA_UART_TX_CAPACITY & (HILDA_UART_TX_CAPACITY - 1)) == 0, "ring size");
_Static_assert((HILDA_UART_RX_CAPACITY & (HILDA_UART_RX_CAPACITY - 1)) == 0, "ring size");

/* §4.1: register = baud * 2^32 / 16 MHz, rounded as the product
 * specification lists it. */
static const struct {
    uint32_t baud, reg;
} baud_table[] = {
    { 9600, 0x00275000u },   { 14400, 0x003AF000u },  { 19200, 0x004EA000u },
    { 28800, 0x0075C000u },  { 38400, 0x009D0000u },  { 57600, 0x00EB0000u },
    { 76800, 0x013A9000u },  { 115200, 0x01D60000u }, { 230400, 0x03B00000u },
    { 250000, 0x04000000u }, { 460800, 0x07400000u }, { 921600, 0x0F000000u },
    { 1000000, 0x10000000u },
};
static const uint32_t supported_bauds[] = { HILDA_UART_BAUDS };
_Static_assert(sizeof baud_table / sizeof baud_table[0] ==
               sizeof supported_bauds / sizeof supported_bauds[0],
               "one BAUDRATE value per rate of HILDA_UART_BAUDS");

/* Where the stop-flush-restart sequence stands. It normally runs to the end
 * in one call. When the hardware does not confirm a step in time, the idle
 * timer retries from the step that failed. */
enum rx_state {
    RX_RUNNING,     /* rx_ch is receiving, double-buffered */
    RX_STOPPING,    /* STOPRX was not confirmed: rx_ch still owns its buffers */
    RX_FLUSHING,    /* rx_ch stopped; FLUSHRX not done yet */
    RX_PAUSED,      /* no buffer latched (RTS off): the RX ring has no room; uarte_read resumes */
};

static uintptr_t base;
static uint32_t cur_baud;
static uint32_t errorsrc_seen;

/* TX reads straight out of the ring, so its storage is DMA-capable. */
static uint8_t tx_storage[HILDA_UART_TX_CAPACITY] DMA_BUFFER;
static struct ring tx_ring;
static uint32_t tx_len;            /* bytes given to the running TX transfer */

static uint8_t rx_bufs[2][RX_BUF_SIZE] DMA_BUFFER;
static uint8_t flush_buf[FLUSH_BUF_SIZE] DMA_BUFFER;
static uint8_t rx_storage[HILDA_UART_RX_CAPACITY];
static struct ring rx_ring;
static uint8_t *rx_spare;          /* the RX buffer the DMA does not own; NULL: both owned */
static enum rx_state rx_state;
static bool rx_idle_armed;         /* RXDRDY interrupt enabled, idle timer not running */
static bool rx_starving;           /* RX_RUNNING with no buffer queued and the short off: the ring is full */

/* rx_ch and flush_ch share RXD.PTR/MAXCNT/AMOUNT and ENDRX: one at a time. */
static struct dma_group rx_group;
static struct dma_channel tx_ch, rx_ch, flush_ch;

static void rx_idle_timeout(void);

uint32_t uarte_baud_register(uint32_t baud)
{
    for (size_t i = 0; i < sizeof baud_table / sizeof baud_table[0]; i++) {
        if (baud_table[i].baud == baud)
            return baud_table[i].reg;
    }
    return 0;
}

static uint32_t idle_period_us(void)
{
    uint32_t us = IDLE_BITS * 1000000u / cur_baud;
    return us < IDLE_MIN_US ? IDLE_MIN_US : us;
}

/* Only the configuration fields: the state fields belong to dma.c. */
static void channels_setup(void)
{
    tx_ch.name = "uarte-tx";
    tx_ch.regs = (struct dma_regs){
        .ptr = &REG(UARTE_TXD_PTR),
        .maxcnt = &REG(UARTE_TXD_MAXCNT),
        .amount = &REG(UARTE_TXD_AMOUNT),
        .task_start = &REG(UARTE_TASKS_STARTTX),
        .task_stop = &REG(UARTE_TASKS_STOPTX),
        .event_started = NULL,      /* one span at a time: nothing to queue */
        .event_end = &REG(UARTE_EVENTS_ENDTX),
        .event_stopped = &REG(UARTE_EVENTS_TXSTOPPED),
    };
    tx_ch.maxcnt_limit = UARTE_MAXCNT_LIMIT;

    rx_ch.name = "uarte-rx";
    rx_ch.regs = (struct dma_regs){
        .ptr = &REG(UARTE_RXD_PTR),
        .maxcnt = &REG(UARTE_RXD_MAXCNT),
        .amount = &REG(UARTE_RXD_AMOUNT),
        .task_start = &REG(UARTE_TASKS_STARTRX),
        .task_stop = &REG(UARTE_TASKS_STOPRX),
        .event_started = &REG(UARTE_EVENTS_RXSTARTED),
        .event_end = &REG(UARTE_EVENTS_ENDRX),
        .event_stopped = &REG(UARTE_EVENTS_RXTO),
    };
    rx_ch.maxcnt_limit = UARTE_MAXCNT_LIMIT;
    rx_ch.group = &rx_group;
    rx_ch.double_buffered = true;

    /* FLUSHRX is a DMA transfer like any other (RAM buffer, ENDRX, AMOUNT),
     * so it goes through the API with FLUSHRX as its start task and the
     * buffer stays owned until ENDRX. RXSTARTED is its "started" event.
     * dma_start clears that event before the task, which is exactly what the
     * §4.2 anomaly check needs. It cannot be stopped: abort would wait for
     * ENDRX. */
    flush_ch.name = "uarte-flushrx";
    flush_ch.regs = (struct dma_regs){
        .ptr = &REG(UARTE_RXD_PTR),
        .maxcnt = &REG(UARTE_RXD_MAXCNT),
        .amount = &REG(UARTE_RXD_AMOUNT),
        .task_start = &REG(UARTE_TASKS_FLUSHRX),
        .task_stop = NULL,
        .event_started = &REG(UARTE_EVENTS_RXSTARTED),
        .event_end = &REG(UARTE_EVENTS_ENDRX),
        .event_stopped = NULL,
    };
    flush_ch.maxcnt_limit = FLUSH_BUF_SIZE;
    flush_ch.group = &rx_group;
    rx_group.name = "uarte-rx";
}

/* ---- TX ---------------------------------------------------------------- */

/* The transfer owns [tail, tail + n) of the ring: the readable span. The
 * writer only ever fills free space, which excludes it (dma.h rule 3). */
static void tx_kick(void)
{
    const uint8_t *span;
    if (dma_busy(&tx_ch))
        return;
    uint32_t n = ring_read_span(&tx_ring, &span);
    if (n == 0)
        return;
    /* EasyDMA only reads a TX buffer; the API takes one pointer type for
     * both directions. */
    if (dma_start(&tx_ch, (uint8_t *)(uintptr_t)span, n) == DMA_OK)
        tx_len = n;
}

/* §4.2: a new buffer may follow ENDTX directly with STARTTX. No STOPTX
 * between spans: that would only save the transmitter's idle current, and
 * the dongle runs from USB. */
static void tx_done(void)
{
    struct dma_transfer t;
    if (dma_complete(&tx_ch, &t) != DMA_OK) {
        /* an ENDTX we did not start: drop it so it cannot retrigger */
        REG(UARTE_EVENTS_ENDTX) = 0;
        return;
    }
    uint32_t n = t.len < tx_len ? t.len : tx_len;
    ring_consume(&tx_ring, n);
    counters.dma_uarte_tx++;
    counters.uart_tx_bytes += n;
    tx_kick();
}

/* ---- RX ---------------------------------------------------------------- */

/* uart_rx_bytes counts what came off the wire. Bytes the ring has no room
 * for are dropped and counted (rx_room_for keeps that from happening while
 * the DMA only gets buffers the ring can take). */
static void rx_store(const uint8_t *p, uint32_t len)
{
    uint32_t kept = ring_write(&rx_ring, p, len);
    counters.uart_rx_bytes += len;
    counters.uart_rx_ring_overflows += len - kept;
    counters.uart_overruns += len - kept;
}

/* Before the DMA gets one more buffer: may the ring take it, full, on top of
 * every other buffer the DMA owns (owned_after counts them all, the new one
 * included) and of a FLUSHRX's bytes? Only the UARTE side fills the ring, so
 * the room seen here can only grow until those buffers come back. */
static bool rx_room_for(uint32_t owned_after)
{
    return ring_free(&rx_ring) >= owned_after * RX_BUF_SIZE + FLUSH_BUF_SIZE;
}

/* A buffer the DMA API handed back: AMOUNT is clamped to the buffer in case
 * the hardware reports nonsense. */
static void rx_deliver(const struct dma_transfer *t, uint32_t cap)
{
    if (t->buf == NULL || t->len == 0)
        return;
    rx_store(t->buf, t->len < cap ? t->len : cap);
    counters.dma_uarte_rx++;
}

/* ENDRX with the successor queued: the short already moved the receiver into
 * it, so the finished buffer is ours. Copy it out and it becomes the spare. */
static void rx_complete(void)
{
    struct dma_transfer t;
    if (dma_complete(&rx_ch, &t) != DMA_OK)
        return;
    rx_deliver(&t, RX_BUF_SIZE);
    rx_spare = t.buf;
}

static void rx_retry_later(void)
{
    timer_start(TIMER_SLOT_UART_IDLE, idle_period_us(), rx_idle_timeout);
}

/* Double-buffered RX from scratch: buffer 0 now, buffer 1 queued on its
 * RXSTARTED. RXDRDY is cleared before STARTRX so that the first byte of the
 * new run, and no stale one, arms the idle timer. With no room in the ring
 * RX pauses instead (no buffer latched: RTS goes off once the FIFO fills).
 * After a pause, bytes that waited in the FIFO move into buffer 0 at STARTRX
 * without a new RXDRDY, so the idle timer is armed at once. */
static bool rx_start(void)
{
    bool after_pause = rx_state == RX_PAUSED;
    if (!rx_room_for(1)) {
        if (rx_state != RX_PAUSED)
            counters.uart_rx_flow_stops++;
        rx_state = RX_PAUSED;
        return true;
    }
    REG(UARTE_EVENTS_RXDRDY) = 0;
    REG(NRF_SHORTS) = UARTE_SHORT_ENDRX_STARTRX;
    if (dma_start(&rx_ch, rx_bufs[0], RX_BUF_SIZE) != DMA_OK)
        return false;
    rx_spare = rx_bufs[1];
    rx_state = RX_RUNNING;
    rx_starving = false;
    if (after_pause) {
        rx_idle_armed = false;
        REG(NRF_INTENSET) = INT_RX;
        timer_start(TIMER_SLOT_UART_IDLE, idle_period_us(), rx_idle_timeout);
    } else {
        rx_idle_armed = true;
        REG(NRF_INTENSET) = INT_RX | INT_RXDRDY;
    }
    return true;
}

/* Stops the short from restarting the receiver and takes the RX events away
 * from the handler: the stop sequence polls them itself. */
static void rx_halt(void)
{
    timer_cancel(TIMER_SLOT_UART_IDLE);
    rx_idle_armed = false;
    rx_starving = false;
    REG(NRF_INTENCLR) = INT_RX | INT_RXDRDY;
    REG(NRF_SHORTS) = 0;
}

/* Finishes a stop: takes the partial buffer once STOPRX is confirmed (RXTO),
 * empties the FIFO with FLUSHRX, restarts RX. Whatever the hardware does not
 * confirm within the DMA API's spin limit is retried from the idle timer.
 * Until then RX is down, but no buffer is handed back while the DMA may
 * still write it. */
static void rx_resume(void)
{
    struct dma_transfer t;
    if (rx_state == RX_STOPPING) {
        if (dma_abort(&rx_ch, &t) != DMA_OK) {
            rx_retry_later();
            return;
        }
        rx_deliver(&t, RX_BUF_SIZE);
        rx_state = RX_FLUSHING;
    }
    if (!dma_busy(&flush_ch) && dma_start(&flush_ch, flush_buf, FLUSH_BUF_SIZE) != DMA_OK) {
        rx_retry_later();
        return;
    }
    if (dma_wait(&flush_ch, &t) != DMA_OK) {
        rx_retry_later();
        return;
    }
    /* §4.2 anomaly: with an empty FIFO, FLUSHRX leaves AMOUNT at its old
     * value, but then raises no RXSTARTED. dma_start cleared RXSTARTED before
     * the task, so AMOUNT counts flushed bytes only if RXSTARTED is set now. */
    if (REG(UARTE_EVENTS_RXSTARTED))
        rx_deliver(&t, FLUSH_BUF_SIZE);
    if (!rx_start())
        rx_retry_later();
}

/* ENDRX arrived before RXSTARTED was answered, so nothing was queued. The
 * short restarted the receiver with the PTR it still held, which points to
 * the buffer that just filled: the receiver is overwriting it from the start.
 * That buffer cannot be handed back while the DMA writes it, so stop first
 * (dma_abort waits for RXTO). Then salvage: the first k bytes (the partial
 * AMOUNT of the restarted transfer) are newer data written over the oldest
 * k bytes of the full buffer. Deliver [k, full) then [0, k) to keep the
 * order, and count the k overwritten bytes as overruns. Then flush and
 * restart with a fresh pair. This only happens when the handler was late by
 * more than a buffer time (see RX_BUF_SIZE). */
static void rx_recover(void)
{
    struct dma_transfer t;
    uint32_t full = REG(UARTE_RXD_AMOUNT);
    rx_halt();
    rx_state = RX_STOPPING;
    if (dma_abort(&rx_ch, &t) != DMA_OK) {
        rx_retry_later();
        return;
    }
    if (t.buf != NULL) {
        uint32_t k = t.len < RX_BUF_SIZE ? t.len : RX_BUF_SIZE;
        if (full > RX_BUF_SIZE)
            full = RX_BUF_SIZE;
        if (k < full)
            rx_store(t.buf + k, full - k);
        rx_store(t.buf, k);
        counters.uart_overruns += k < full ? k : full;
        counters.dma_uarte_rx++;
    }
    rx_state = RX_FLUSHING;
    rx_resume();
}

/* The ring could not take another buffer, so none was queued and the short
 * is off: the running buffer's ENDRX ends RX. Deliver it and pause until
 * uarte_read makes room. If RXSTARTED came with that ENDRX, the short fired
 * before it was cleared (the handler was a buffer time late): recover. */
static bool rx_starved_end(void)
{
    if (REG(UARTE_EVENTS_RXSTARTED)) {
        rx_recover();
        return true;
    }
    rx_complete();
    rx_halt();
    rx_state = RX_PAUSED;
    counters.uart_rx_flow_stops++;
    return true;
}

/* ENDRX before RXSTARTED: in one invocation both can be pending (ENDRX(A)
 * and the RXSTARTED(B) the short caused), and B's successor can only be
 * queued once A is back, and only if the ring has room for both (else the
 * short goes off and RX pauses at B's end: rx_starved_end). Returns true if
 * RX left RX_RUNNING. */
static bool rx_events(void)
{
    if (REG(UARTE_EVENTS_ENDRX)) {
        if (rx_starving)
            return rx_starved_end();
        if (rx_spare != NULL) {
            rx_recover();
            return true;
        }
        rx_complete();
    }
    if (REG(UARTE_EVENTS_RXSTARTED)) {
        if (rx_spare != NULL && !rx_starving && rx_room_for(2) &&
            dma_queue_next(&rx_ch, rx_spare, RX_BUF_SIZE) == DMA_OK) {
            rx_spare = NULL;
        } else {
            /* Nothing queued: clear it so that it does not retrigger. With
             * a spare at hand that is flow control: the short must not
             * restart the receiver into the running buffer. (Without a spare,
             * which cannot happen while both buffers cycle, the next ENDRX
             * takes the recovery path.) */
            REG(UARTE_EVENTS_RXSTARTED) = 0;
            if (rx_spare != NULL && !rx_starving) {
                REG(NRF_SHORTS) = 0;
                rx_starving = true;
            }
        }
    }
    return false;
}

/* The line has been idle: bytes that did not fill a buffer are still in it
 * and in the FIFO (§4.2). Stop RX, take both, restart.
 *
 * What the stop window can lose: without flow control the sender does not
 * know we stopped. Bytes that arrive before RXTO still end up in the buffer
 * or the FIFO and are recovered. A byte that starts after RXTO and before
 * STARTRX takes effect (the FLUSHRX transfer and a few register writes, some
 * microseconds) meets a stopped receiver and is lost, with no OVERRUN to show
 * for it. A byte already on the wire when STARTRX lands can come out as a
 * framing error. At 1 Mbaud that is one byte, at most two. It is rare
 * because we only stop after the line has been idle for 4 byte times (at
 * least 1 ms): a sender has to resume within those few microseconds. A
 * sender that stays quiet, or keeps streaming, loses nothing.
 *
 * Ordering around the short: once SHORTS is 0, a buffer that fills ends RX
 * instead of restarting it, and the abort below returns that buffer with
 * its full AMOUNT. If it filled just before SHORTS was cleared, the
 * receiver already moved into the queued buffer, and RXSTARTED is set again
 * (queueing cleared it). Then deliver the full one first, so that the abort
 * returns the queued buffer, which is the one the receiver is filling. */
static void rx_flush(void)
{
    if (rx_events())
        return;             /* the recovery just flushed and restarted, or RX paused */
    rx_halt();
    if (REG(UARTE_EVENTS_ENDRX) && REG(UARTE_EVENTS_RXSTARTED) && rx_spare == NULL)
        rx_complete();
    rx_state = RX_STOPPING;
    rx_resume();
}

/* TIMER0 context. If RXDRDY fired again since the timer started, bytes are
 * still coming: wait another period. */
static void rx_idle_timeout(void)
{
    if (rx_state == RX_PAUSED) {
        /* uarte_read restarts RX; this only retries a restart that failed */
        if (rx_room_for(1) && !rx_start())
            rx_retry_later();
        return;
    }
    if (rx_state != RX_RUNNING) {
        rx_resume();
        return;
    }
    if (REG(UARTE_EVENTS_RXDRDY)) {
        REG(UARTE_EVENTS_RXDRDY) = 0;
        timer_start(TIMER_SLOT_UART_IDLE, idle_period_us(), rx_idle_timeout);
        return;
    }
    rx_flush();
}

/* ---- errors, interrupt, API ------------------------------------------- */

static void uart_error(void)
{
    REG(UARTE_EVENTS_ERROR) = 0;
    uint32_t src = REG(UARTE_ERRORSRC);
    REG(UARTE_ERRORSRC) = src;          /* W1C */
    errorsrc_seen |= src;
    counters.uart_errors++;
    if (src & UARTE_ERRORSRC_OVERRUN) {
        counters.uart_rx_fifo_overruns++;
        counters.uart_overruns++;
    }
}

void uarte_irq(void)
{
    if (REG(UARTE_EVENTS_ERROR))
        uart_error();
    if (REG(UARTE_EVENTS_ENDTX))
        tx_done();
    if (rx_state != RX_RUNNING)
        return;             /* the stop sequence polls the RX events */
    if (rx_events())
        return;
    /* The first byte of a burst arms the idle timer. Every later byte only
     * sets the event, and the timer looks at it: one interrupt per burst,
     * not per byte. */
    if (rx_idle_armed && REG(UARTE_EVENTS_RXDRDY)) {
        REG(UARTE_EVENTS_RXDRDY) = 0;
        REG(NRF_INTENCLR) = INT_RXDRDY;
        rx_idle_armed = false;
        timer_start(TIMER_SLOT_UART_IDLE, idle_period_us(), rx_idle_timeout);
    }
    /* RXTO only follows our STOPRX, and dma_abort consumes it there. */
    if (REG(UARTE_EVENTS_RXTO))
        REG(UARTE_EVENTS_RXTO) = 0;
}

void uarte_init(const struct uarte_config *cfg)
{
    /* A second init (the unit tests do it) first takes back whatever the
     * previous one left running. The DMA API waits for the hardware to
     * confirm, so no buffer is reused while a transfer owns it. */
    if (base != 0) {
        REG(NRF_INTENCLR) = 0xFFFFFFFFu;
        REG(NRF_SHORTS) = 0;
    }
    timer_cancel(TIMER_SLOT_UART_IDLE);
    (void)dma_abort(&tx_ch, NULL);
    (void)dma_abort(&rx_ch, NULL);
    (void)dma_abort(&flush_ch, NULL);

    base = cfg->base;
    channels_setup();
    errorsrc_seen = 0;
    tx_len = 0;
    ring_init(&tx_ring, tx_storage, sizeof tx_storage);
    ring_init(&rx_ring, rx_storage, sizeof rx_storage);

    /* PSEL before ENABLE (§4.2); the UARTE then takes the pins over. */
    REG(UARTE_PSEL_TXD) = cfg->pin_tx;
    REG(UARTE_PSEL_RXD) = cfg->pin_rx;
    REG(UARTE_PSEL_RTS) = cfg->hwfc ? cfg->pin_rts : UARTE_PSEL_DISCONNECTED;
    REG(UARTE_PSEL_CTS) = cfg->hwfc ? cfg->pin_cts : UARTE_PSEL_DISCONNECTED;
    REG(UARTE_CONFIG) = cfg->hwfc ? UARTE_CONFIG_HWFC : 0;   /* 8N1 */
    cur_baud = uarte_baud_register(cfg->baud) ? cfg->baud : HILDA_UART_DEFAULT_BAUD;
    REG(UARTE_BAUDRATE) = uarte_baud_register(cur_baud);
    REG(UARTE_ENABLE) = UARTE_ENABLE_UARTE;

    REG(UARTE_EVENTS_ERROR) = 0;
    REG(UARTE_EVENTS_RXTO) = 0;
    REG(UARTE_EVENTS_ENDTX) = 0;
    REG(UARTE_ERRORSRC) = REG(UARTE_ERRORSRC);
    REG(NRF_INTEN) = INT_TX;            /* the whole mask at once; rx_start adds RX */
    rx_state = RX_FLUSHING;             /* until rx_start succeeds */
    rx_starving = false;
    if (!rx_start())
        rx_retry_later();
}

size_t uarte_write(const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0;
    if (len > ring_free(&tx_ring)) {
        counters.uart_tx_ring_overflows += (uint32_t)len;
        return 0;
    }
    ring_write(&tx_ring, data, (uint32_t)len);
    tx_kick();
    return len;
}

/* Making room may end a flow-control pause: RX restarts once the ring can
 * take both buffers again (so it does not pause again after one). */
size_t uarte_read(uint8_t *data, size_t len)
{
    uint32_t n = len > HILDA_UART_RX_CAPACITY ? HILDA_UART_RX_CAPACITY : (uint32_t)len;
    uint32_t got = ring_read(&rx_ring, data, n);
    if (rx_state == RX_PAUSED && rx_room_for(2) && !rx_start())
        rx_retry_later();
    return got;
}

/* Written on the fly, as a PC's serial port does: a byte on the wire in
 * either direction while the rate changes is garbled (the peer sees a
 * framing error or a wrong byte), and TX goes on draining the ring at the
 * new rate. Callers that care wait for tx_free to reach the capacity. */
bool uarte_set_baud(uint32_t baud)
{
    uint32_t reg = uarte_baud_register(baud);
    if (reg == 0)
        return false;
    REG(UARTE_BAUDRATE) = reg;
    cur_baud = baud;
    return true;
}

void uarte_status(struct hilda_uart_status *status)
{
    status->baud = cur_baud;
    status->tx_free = ring_free(&tx_ring);
    status->rx_available = ring_used(&rx_ring);
    status->errorsrc = errorsrc_seen;
}
