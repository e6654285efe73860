/* UARTE0 (0x40002000, IRQ 2) and UARTE1 (0x40028000, IRQ 40), Product
 * Specification, UARTE and "EasyDMA": EasyDMA UART with double-buffered
 * pointers and a 4-byte RX FIFO.
 * Bytes go out to and come in from a backend (uarte_backend.h: a
 * pseudo-terminal, stdio, a caller's fd, or nothing).
 *
 * What differs from silicon: no parity, framing or break errors; the pins
 * are not driven (RTS and CTS are the backend's readiness, not GPIO levels);
 * the legacy UART (ENABLE = 4) is not modelled. Pending: the legacy UART,
 * CTS from a wired-up peer (the board's FTDI rig).
 *
 * Hardware flow control (CONFIG.HWFC with PSEL.RTS / PSEL.CTS connected),
 * the way a bench's adapter with RTS/CTS wired sees it:
 * - RTS (our receiver's readiness): deasserted while no RX buffer is latched
 *   (before STARTRX, after an ENDRX with no short, after STOPRX). The sender
 *   then stops, but up to 4 bytes already on their way still arrive and wait
 *   in the FIFO (Product Specification, UARTE "Reception"): the line pauses
 *   with the FIFO full instead
 *   of overrunning it. While RTS is off the backend is not read at all, so a
 *   pty's writer fills the kernel's buffer and blocks: backpressure, nothing
 *   dropped. Without HWFC the line runs at wire speed and the fifth waiting
 *   byte is an overrun, as on silicon.
 * - CTS (the peer's readiness): the backend refusing a byte (a pty whose
 *   buffer is full: write returns EAGAIN) is CTS going inactive. The byte
 *   waits before its start bit (TXDRDY only once it went out), NCTS is
 *   raised, and the model retries every CTS_RETRY of virtual time; when the
 *   byte is taken, CTS is raised and TX goes on. STOPTX while waiting ends
 *   the buffer without that byte. CTS/NCTS are raised whenever PSEL.CTS is
 *   connected; only with HWFC does TX wait (without it the byte is dropped
 *   and counted, as a wire without flow control loses it).
 *
 * Timing. A byte takes 10 bit times (start, 8 data, stop), 11 with parity,
 * one more with two stop bits, at the nominal rate of the BAUDRATE value
 * (§4.1 table; 0x01D60000 counts as 115200 although the silicon is a little
 * off). Other values run at value * 16 MHz / 2^32 baud (at least 1) and are
 * reported once. Within a stream the k-th byte ends floor(k * bits * 64e6 /
 * baud) cycles after the stream began (a remainder carries from byte to
 * byte), so 1 Mbaud is exactly 640 cycles a byte and 115200 alternates 5555
 * and 5556. A TX stream begins at STARTTX; an RX stream when a byte reaches
 * an idle line.
 *
 * TX (§4.2). STARTTX latches TXD.PTR/MAXCNT (easydma_begin) and raises
 * TXSTARTED at once; each byte is read from RAM when it starts, goes to the
 * backend when it ends, with TXDRDY; after the last one TXD.AMOUNT is set,
 * ENDTX raised and the DMA ends. MAXCNT 0: TXSTARTED then ENDTX with AMOUNT
 * 0 at once. The transmitter then stays started. STOPTX mid-buffer lets the
 * current byte finish, then ENDTX (AMOUNT = bytes sent) and TXSTOPPED;
 * STOPTX otherwise raises TXSTOPPED at once. STARTTX while a buffer is
 * still going out is ignored and reported once.
 *
 * RX (§4.2). Bytes from the backend queue on the "line" (the sender's
 * transmit buffer: LINE_CAPACITY bytes; the backend is read only while there
 * is room, so nothing is dropped) and are clocked in one byte time apart. Each byte
 * that enters the FIFO raises RXDRDY; while a buffer is latched the DMA moves
 * FIFO bytes to RAM at once, and when MAXCNT bytes are in RAM, RXD.AMOUNT is
 * set and ENDRX raised. STARTRX latches RXD.PTR/MAXCNT, raises RXSTARTED
 * (the registers may then be rewritten for the next buffer) and first
 * empties the FIFO into the new buffer. SHORTS: ENDRX_STARTRX (b5) restarts
 * at once with the current RXD registers (RXSTARTED again: no byte is lost
 * across buffers), ENDRX_STOPRX (b6) stops. STOPRX: a partly filled buffer
 * gets ENDRX with the bytes so far, then RXTO, at once (also when nothing
 * was running). With no buffer latched (before STARTRX, after RXTO, between
 * ENDRX and a late STARTRX) bytes wait in the FIFO; a fifth one is lost with
 * ERRORSRC.OVERRUN and ERROR. FLUSHRX moves the FIFO into the buffer of the
 * current RXD.PTR/MAXCNT: with bytes to move it raises RXSTARTED, sets
 * AMOUNT to their number and raises ENDRX; with an empty FIFO (or MAXCNT 0)
 * it raises ENDRX only and leaves AMOUNT as it was: our reading of the
 * §4.2 anomaly note ("AMOUNT is not updated, RXSTARTED only if data was
 * flushed"). The shorts act on every ENDRX except the one a STOPRX
 * produces (see below).
 *
 * Readings of the facts (documented choices):
 * - STOPRX with ENDRX_STARTRX set: the model stops (ENDRX, RXTO) and reports
 *   once that silicon may restart the receiver through the short (drivers
 *   clear the short before stopping).
 * - STARTRX while a buffer is latched, FLUSHRX while the receiver runs: ignored
 *   and reported once.
 * - STARTRX moves bytes waiting in the FIFO into the new buffer first.
 * - A zero-length RX buffer ends at once; with ENDRX_STARTRX set and
 *   RXD.MAXCNT still 0 the short would restart it forever in zero time, so
 *   the model does not restart it (reported once).
 * - Tasks while ENABLE is not 8 are ignored (reported once). ENABLE = 4
 *   (legacy UART) is reported as unmodelled and leaves the UARTE disabled.
 *   Disabling with a transfer running ends it without events (reported once).
 *   Bytes arriving while disabled are lost (counted).
 * - A DMA pointer outside data RAM is reported by easydma_begin; the
 *   transfer then runs its course in time, sending nothing or storing
 *   nothing.
 * - HWFC: see above. No parity, framing or break errors: a pseudo-terminal
 *   carries bytes only.
 *
 * Output a backend cannot take (a pty nobody reads, its buffer full) waits
 * with HWFC (CTS inactive) and is dropped and counted without it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"

#define TASKS_STARTRX     0x000u
#define TASKS_STOPRX      0x004u
#define TASKS_STARTTX     0x008u
#define TASKS_STOPTX      0x00Cu
#define TASKS_FLUSHRX     0x02Cu
#define EVENTS_CTS        0x100u
#define EVENTS_NCTS       0x104u
#define EVENTS_RXDRDY     0x108u
#define EVENTS_ENDRX      0x110u
#define EVENTS_TXDRDY     0x11Cu
#define EVENTS_ENDTX      0x120u
#define EVENTS_ERROR      0x124u
#define EVENTS_RXTO       0x144u
#define EVENTS_RXSTARTED  0x14Cu
#define EVENTS_TXSTARTED  0x150u
#define EVENTS_TXSTOPPED  0x158u
#define SHORT_ENDRX_STARTRX (1u << 5)
#define SHORT_ENDRX_STOPRX  (1u << 6)
#define SHORTS_MASK       (SHORT_ENDRX_STARTRX | SHORT_ENDRX_STOPRX)
#define ERRORSRC          0x480u
#define ERRORSRC_OVERRUN  (1u << 0)
#define ENABLE            0x500u
#define ENABLE_UART       4u
#define ENABLE_UARTE      8u
#define PSEL_RTS          0x508u
#define PSEL_TXD          0x50Cu
#define PSEL_CTS          0x510u
#define PSEL_RXD          0x514u
#define PSEL_DISCONNECTED (1u << 31)
#define BAUDRATE          0x524u
#define RXD_PTR           0x534u
#define RXD_MAXCNT        0x538u
#define RXD_AMOUNT        0x53Cu
#define TXD_PTR           0x544u
#define TXD_MAXCNT        0x548u
#define TXD_AMOUNT        0x54Cu
#define CONFIG            0x56Cu
#define CONFIG_HWFC       (1u << 0)
#define CONFIG_PARITY(c)  (((c) >> 1) & 7u)
#define CONFIG_STOP2      (1u << 4)
#define CONFIG_MASK       0x0000011Fu   /* HWFC, PARITY, STOP, PARITYTYPE */
#define MAXCNT_MASK       0xFFFFu

#define FIFO_DEPTH 4u
#define LINE_CAPACITY 4096u
#define CTS_RETRY SOC_US(250)      /* how often a TX byte waiting for CTS tries again */
#define READ_CHUNK 4096u

static const struct {
    uint32_t base;
    unsigned irq;
} instances[] = {
    { 0x40002000u, 2 },
    { 0x40028000u, 40 },
};

/* §4.1: the BAUDRATE values and the rate each stands for */
static const struct {
    uint32_t reg, baud;
} baud_table[] = {
    { 0x0004F000u, 1200 },    { 0x0009D000u, 2400 },    { 0x0013B000u, 4800 },
    { 0x00275000u, 9600 },    { 0x003AF000u, 14400 },   { 0x004EA000u, 19200 },
    { 0x0075C000u, 28800 },   { 0x00800000u, 31250 },   { 0x009D0000u, 38400 },
    { 0x00E50000u, 56000 },   { 0x00EB0000u, 57600 },   { 0x013A9000u, 76800 },
    { 0x01D60000u, 115200 },  { 0x03B00000u, 230400 },  { 0x04000000u, 250000 },
    { 0x07400000u, 460800 },  { 0x0F000000u, 921600 },  { 0x10000000u, 1000000 },
};

/* things reported once per instance */
enum {
    R_TASK_DISABLED = 1u << 0,
    R_STARTTX_BUSY = 1u << 1,
    R_STARTRX_BUSY = 1u << 2,
    R_FLUSH_BUSY = 1u << 3,
    R_STOP_SHORT = 1u << 4,
    R_ZERO_LOOP = 1u << 5,
    R_BAUD = 1u << 6,
    R_ENABLE_VALUE = 1u << 7,
    R_DISABLED_BUSY = 1u << 8,
    R_TX_DROP = 1u << 9,
    R_MAXCNT = 1u << 10,
    R_LINE_FULL = 1u << 11,
};

/* stats.tx_dropped and friends live in nrf52840_uart_stats; what only the
 * model needs to know about CTS is here. */

struct uarte {
    struct periph p;
    struct nrf_events ev;
    char name[8];
    uint32_t enable, psel[4], baudrate, config, errorsrc;
    uint32_t rxd_ptr, rxd_maxcnt, rxd_amount, txd_ptr, txd_maxcnt, txd_amount;

    struct easydma txdma;
    bool tx_busy;            /* a buffer is going out */
    bool tx_stopping;        /* STOPTX came while it was */
    bool tx_have_byte;       /* the byte in flight was read from RAM */
    uint8_t tx_byte;
    uint32_t tx_count;
    uint64_t tx_rem;
    struct sched_event tx_done;
    bool cts_inactive;       /* the backend refused a byte: it waits for CTS */
    struct sched_event tx_retry;

    struct easydma rxdma;
    bool rx_busy;            /* a buffer is latched */
    uint32_t rx_count;
    uint8_t fifo[FIFO_DEPTH];
    unsigned fifo_len;
    uint64_t rx_rem;
    struct sched_event rx_clock;
    uint8_t *line;           /* bytes on their way in, LINE_CAPACITY ring */
    size_t line_head, line_len;
    bool input_paused;       /* line full or RTS off: the backend is not read (not watched) */

    struct uarte_io be;
    struct nrf52840_uart_stats stats;
    unsigned reported;
};

static void report_once(struct uarte *u, unsigned what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report_once(struct uarte *u, unsigned what, const char *fmt, ...)
{
    if (u->reported & what)
        return;
    u->reported |= what;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    soc_log(u->p.soc, "emu: %s %s\n", u->name, msg);
}

/* ---- timing --------------------------------------------------------------- */

static uint32_t baud(struct uarte *u)
{
    for (size_t i = 0; i < sizeof baud_table / sizeof baud_table[0]; i++) {
        if (baud_table[i].reg == u->baudrate)
            return baud_table[i].baud;
    }
    uint64_t b = ((uint64_t)u->baudrate * 16000000u) >> 32;
    if (b == 0)
        b = 1;
    report_once(u, R_BAUD, "BAUDRATE 0x%08x is not in the table: runs at %llu baud", u->baudrate,
                (unsigned long long)b);
    return (uint32_t)b;
}

static uint64_t bits_per_byte(const struct uarte *u)
{
    return 10u + (CONFIG_PARITY(u->config) ? 1u : 0u) + ((u->config & CONFIG_STOP2) ? 1u : 0u);
}

/* Duration of the next byte of a stream whose remainder is *rem. */
static vtime_t byte_time(struct uarte *u, uint64_t *rem)
{
    uint64_t b = baud(u);
    uint64_t total = bits_per_byte(u) * SOC_HZ + (*rem % b);
    *rem = total % b;
    vtime_t t = total / b;
    return t ? t : 1;
}

/* ---- backend -------------------------------------------------------------- */

static bool cts_connected(const struct uarte *u)
{
    return !(u->psel[2] & PSEL_DISCONNECTED);
}

static bool tx_flow_control(const struct uarte *u)
{
    return (u->config & CONFIG_HWFC) && cts_connected(u);
}

/* False: the byte waits for CTS (with flow control); it is then retried. */
static bool backend_write(struct uarte *u, uint8_t b)
{
    if (uarte_io_write(&u->be, b)) {
        if (u->cts_inactive) {
            u->cts_inactive = false;
            if (cts_connected(u))
                nrf_events_raise(&u->ev, EVENTS_CTS);
        }
        return true;
    }
    if (!u->cts_inactive) {
        u->cts_inactive = true;
        if (cts_connected(u))
            nrf_events_raise(&u->ev, EVENTS_NCTS);
    }
    if (tx_flow_control(u)) {
        u->stats.tx_cts_waits++;
        return false;
    }
    u->stats.tx_dropped++;
    report_once(u, R_TX_DROP, "output dropped: nobody reads it and the buffer is full, and no flow "
                "control (CONFIG.HWFC, PSEL.CTS) holds TX back (counted in the UART stats)");
    return true;
}

/* RTS as the sender sees it: off while no RX buffer is latched. The sender
 * then stops, but bytes already on their way land in the FIFO: the line
 * pauses only once the FIFO is full (see the head comment). */
static bool rts_active(const struct uarte *u)
{
    bool hwfc = (u->config & CONFIG_HWFC) && !(u->psel[0] & PSEL_DISCONNECTED);
    return !hwfc || u->rx_busy;
}

static void line_push(struct uarte *u, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (u->line_len == LINE_CAPACITY) {
            u->stats.rx_queue_dropped += len - i;
            report_once(u, R_LINE_FULL, "input beyond %u queued bytes dropped (counted in the UART stats)",
                        LINE_CAPACITY);
            return;
        }
        u->line[(u->line_head + u->line_len) % LINE_CAPACITY] = data[i];
        u->line_len++;
    }
}

static void input_ready(struct soc *soc, void *ctx);

/* Reads the backend again once RTS is on and the line has room (see
 * input_ready). Reading what is already there is input_ready's job: a pty
 * that became readable while unwatched is readable still, and poll says so. */
static void input_resume(struct uarte *u)
{
    if (u->input_paused && rts_active(u) && u->line_len <= LINE_CAPACITY / 2 &&
        uarte_io_input_fd(&u->be) >= 0) {
        u->input_paused = false;
        soc_watch_fd(u->p.soc, uarte_io_input_fd(&u->be), input_ready, u);
    }
}

static uint8_t line_pop(struct uarte *u)
{
    uint8_t b = u->line[u->line_head];
    u->line_head = (u->line_head + 1) % LINE_CAPACITY;
    u->line_len--;
    input_resume(u);
    return b;
}

static bool line_paused(const struct uarte *u)
{
    return !rts_active(u) && u->fifo_len == FIFO_DEPTH;
}

/* Clocks the next queued byte in, one byte time from now. */
static void line_kick(struct uarte *u)
{
    input_resume(u);
    if (u->rx_clock.pending)
        return;
    if (u->line_len == 0) {
        u->rx_rem = 0;   /* the line is idle: the next byte starts a new stream */
        return;
    }
    if (line_paused(u))
        return;
    soc_schedule(u->p.soc, &u->rx_clock, byte_time(u, &u->rx_rem));
}

/* Reads only what the line has room for, and nothing while RTS is off. Then
 * the backend is no longer read, so its writer blocks (a pty's kernel buffer
 * fills up), as a sender on a real line is paced by the baud rate and held
 * off by RTS: nothing is dropped. */
static void input_ready(struct soc *soc, void *ctx)
{
    struct uarte *u = ctx;
    uint8_t buf[READ_CHUNK];
    for (size_t total = 0; total < LINE_CAPACITY;) {
        size_t room = LINE_CAPACITY - u->line_len;
        if (room == 0 || !rts_active(u)) {
            u->input_paused = true;
            soc_unwatch_fd(soc, uarte_io_input_fd(&u->be));
            break;
        }
        int fd = uarte_io_input_fd(&u->be);
        ssize_t n = uarte_io_read(&u->be, buf, room < sizeof buf ? room : sizeof buf);
        if (n > 0) {
            line_push(u, buf, (size_t)n);
            total += (size_t)n;
            if (!u->be.in_nonblocking)
                break;
            continue;
        }
        if (n < 0)
            soc_unwatch_fd(soc, fd);
        break;
    }
    line_kick(u);
}

static void open_backend(struct uarte *u, const struct uarte_backend *cfg)
{
    uarte_io_open(&u->be, u->p.soc, u->name, cfg);
    if (u->be.kind != UARTE_BACKEND_NONE)
        soc_watch_fd(u->p.soc, uarte_io_input_fd(&u->be), input_ready, u);
}

/* ---- TX ------------------------------------------------------------------- */

static void tx_next_byte(struct uarte *u)
{
    uint8_t b = 0;
    u->tx_have_byte = easydma_read(u->p.soc, &u->txdma, &b, 1) == 1;
    u->tx_byte = b;
    soc_schedule(u->p.soc, &u->tx_done, byte_time(u, &u->tx_rem));
}

static void tx_finish(struct uarte *u)
{
    u->txd_amount = u->tx_count;
    u->tx_busy = false;
    easydma_end(u->p.soc, &u->txdma);
    nrf_events_raise(&u->ev, EVENTS_ENDTX);
    if (u->tx_stopping) {
        u->tx_stopping = false;
        nrf_events_raise(&u->ev, EVENTS_TXSTOPPED);
    }
}

static void tx_byte_sent(struct uarte *u);

static void tx_byte_done(struct soc *soc, void *ctx)
{
    (void)soc;
    struct uarte *u = ctx;
    if (u->tx_have_byte && !backend_write(u, u->tx_byte)) {
        if (u->tx_stopping)
            tx_finish(u);          /* STOPTX came first: the waiting byte is not sent */
        else
            soc_schedule(u->p.soc, &u->tx_retry, CTS_RETRY);
        return;
    }
    tx_byte_sent(u);
}

/* The byte that waited for CTS: try again (tx_done's job once it goes). */
static void tx_retry(struct soc *soc, void *ctx)
{
    tx_byte_done(soc, ctx);
}

static void tx_byte_sent(struct uarte *u)
{
    u->tx_count++;
    u->stats.tx_bytes++;
    nrf_events_raise(&u->ev, EVENTS_TXDRDY);
    if (u->tx_stopping || u->tx_count >= u->txdma.maxcnt)
        tx_finish(u);
    else
        tx_next_byte(u);
}

static void start_tx(struct uarte *u)
{
    if (u->tx_busy) {
        report_once(u, R_STARTTX_BUSY, "STARTTX while a buffer is still going out: ignored (wait for ENDTX)");
        return;
    }
    easydma_begin(u->p.soc, &u->txdma, u->txd_ptr, u->txd_maxcnt);
    u->tx_busy = true;
    u->tx_stopping = false;
    u->tx_count = 0;
    u->tx_rem = 0;
    nrf_events_raise(&u->ev, EVENTS_TXSTARTED);
    if (u->txdma.maxcnt == 0)
        tx_finish(u);
    else
        tx_next_byte(u);
}

static void stop_tx(struct uarte *u)
{
    if (u->tx_busy && u->tx_retry.pending) {
        /* the byte waiting for CTS has not started: it is not sent */
        soc_cancel(u->p.soc, &u->tx_retry);
        u->tx_stopping = true;
        tx_finish(u);
    } else if (u->tx_busy) {
        u->tx_stopping = true;     /* after the byte in flight */
    } else {
        nrf_events_raise(&u->ev, EVENTS_TXSTOPPED);
    }
}

/* ---- RX ------------------------------------------------------------------- */

static void start_rx(struct uarte *u);
static void stop_rx(struct uarte *u);

static uint8_t fifo_pop(struct uarte *u)
{
    uint8_t b = u->fifo[0];
    memmove(u->fifo, u->fifo + 1, --u->fifo_len);
    return b;
}

static void endrx_shorts(struct uarte *u, uint32_t ended_maxcnt)
{
    uint32_t shorts = u->ev.shorts;
    if (shorts & SHORT_ENDRX_STARTRX) {
        if (ended_maxcnt == 0 && u->rxd_maxcnt == 0)
            report_once(u, R_ZERO_LOOP, "zero-length RX buffers restarted by the ENDRX_STARTRX short: "
                        "not restarted again (silicon would loop)");
        else
            start_rx(u);
    }
    if (shorts & SHORT_ENDRX_STOPRX)
        stop_rx(u);
}

static void end_rx(struct uarte *u, bool follow_shorts)
{
    uint32_t ended_maxcnt = u->rxdma.maxcnt;
    u->rxd_amount = u->rx_count;
    u->rx_busy = false;
    easydma_end(u->p.soc, &u->rxdma);
    nrf_events_raise(&u->ev, EVENTS_ENDRX);
    if (follow_shorts)
        endrx_shorts(u, ended_maxcnt);
}

/* The DMA moves FIFO bytes to RAM as soon as a buffer is latched. */
static void rx_drain(struct uarte *u)
{
    while (u->rx_busy && u->fifo_len > 0) {
        uint8_t b = fifo_pop(u);
        easydma_write(u->p.soc, &u->rxdma, &b, 1);
        u->rx_count++;
        if (u->rx_count >= u->rxdma.maxcnt)
            end_rx(u, true);
    }
}

static void start_rx(struct uarte *u)
{
    if (u->rx_busy) {
        report_once(u, R_STARTRX_BUSY, "STARTRX while an RX buffer is latched: ignored (wait for ENDRX)");
        return;
    }
    easydma_begin(u->p.soc, &u->rxdma, u->rxd_ptr, u->rxd_maxcnt);
    u->rx_busy = true;
    u->rx_count = 0;
    nrf_events_raise(&u->ev, EVENTS_RXSTARTED);
    if (u->rxdma.maxcnt == 0) {
        end_rx(u, true);
        return;
    }
    rx_drain(u);
    line_kick(u);
}

static void stop_rx(struct uarte *u)
{
    if (u->rx_busy) {
        if (u->ev.shorts & SHORT_ENDRX_STARTRX)
            report_once(u, R_STOP_SHORT, "STOPRX with the ENDRX_STARTRX short set: silicon may restart the "
                        "receiver through the short; the model stops (clear SHORTS first)");
        end_rx(u, false);
    }
    nrf_events_raise(&u->ev, EVENTS_RXTO);
    line_kick(u);
}

static void flush_rx(struct uarte *u)
{
    if (u->rx_busy) {
        report_once(u, R_FLUSH_BUSY, "FLUSHRX while the receiver runs: ignored (STOPRX and wait for RXTO first)");
        return;
    }
    uint32_t n = u->fifo_len < u->rxd_maxcnt ? u->fifo_len : u->rxd_maxcnt;
    if (n > 0) {
        easydma_begin(u->p.soc, &u->rxdma, u->rxd_ptr, u->rxd_maxcnt);
        nrf_events_raise(&u->ev, EVENTS_RXSTARTED);
        for (uint32_t i = 0; i < n; i++) {
            uint8_t b = fifo_pop(u);
            easydma_write(u->p.soc, &u->rxdma, &b, 1);
        }
        u->rxd_amount = n;
        easydma_end(u->p.soc, &u->rxdma);
    }
    nrf_events_raise(&u->ev, EVENTS_ENDRX);
    endrx_shorts(u, n ? u->rxd_maxcnt : 0);
    line_kick(u);
}

static void receive_byte(struct uarte *u, uint8_t b)
{
    if (u->enable != ENABLE_UARTE) {
        u->stats.rx_lost_disabled++;
        return;
    }
    if (u->fifo_len == FIFO_DEPTH) {
        u->errorsrc |= ERRORSRC_OVERRUN;
        u->stats.rx_overruns++;
        nrf_events_raise(&u->ev, EVENTS_ERROR);
        return;
    }
    u->fifo[u->fifo_len++] = b;
    u->stats.rx_bytes++;
    nrf_events_raise(&u->ev, EVENTS_RXDRDY);
    rx_drain(u);
}

static void rx_clock(struct soc *soc, void *ctx)
{
    (void)soc;
    struct uarte *u = ctx;
    if (u->line_len > 0)
        receive_byte(u, line_pop(u));
    line_kick(u);
}

/* ---- registers ------------------------------------------------------------ */

static bool is_task(uint32_t offset)
{
    return offset == TASKS_STARTRX || offset == TASKS_STOPRX || offset == TASKS_STARTTX ||
           offset == TASKS_STOPTX || offset == TASKS_FLUSHRX;
}

static void task(struct uarte *u, uint32_t offset)
{
    if (u->enable != ENABLE_UARTE) {
        report_once(u, R_TASK_DISABLED, "task at +0x%03x while ENABLE is %u, not 8: ignored", offset, u->enable);
        return;
    }
    switch (offset) {
    case TASKS_STARTTX: start_tx(u); break;
    case TASKS_STOPTX: stop_tx(u); break;
    case TASKS_STARTRX: start_rx(u); break;
    case TASKS_STOPRX: stop_rx(u); break;
    case TASKS_FLUSHRX: flush_rx(u); break;
    }
}

/* Ends whatever runs, without events: the peripheral was switched off. */
static void abandon_transfers(struct uarte *u)
{
    soc_cancel(u->p.soc, &u->tx_done);
    soc_cancel(u->p.soc, &u->tx_retry);
    easydma_end(u->p.soc, &u->txdma);
    easydma_end(u->p.soc, &u->rxdma);
    u->tx_busy = u->tx_stopping = false;
    u->rx_busy = false;
    u->fifo_len = 0;
}

static void write_enable(struct uarte *u, uint32_t value)
{
    uint32_t old = u->enable;
    u->enable = value & 0xFu;
    if (u->enable == ENABLE_UART)
        soc_unmodelled(u->p.soc, &u->p, ENABLE, true);   /* legacy UART: not modelled */
    else if (u->enable != 0 && u->enable != ENABLE_UARTE)
        report_once(u, R_ENABLE_VALUE, "ENABLE = %u is neither 0 nor 8: the UARTE stays disabled", u->enable);
    if (old == ENABLE_UARTE && u->enable != ENABLE_UARTE) {
        if (u->tx_busy || u->rx_busy)
            report_once(u, R_DISABLED_BUSY, "disabled while a transfer runs: it ends without events "
                        "(stop RX and TX first, §4.2)");
        abandon_transfers(u);
    }
}

static uint32_t maxcnt(struct uarte *u, uint32_t value)
{
    if (value > MAXCNT_MASK)
        report_once(u, R_MAXCNT, "MAXCNT 0x%x has bits above the 16 the register holds: truncated", value);
    return value & MAXCNT_MASK;
}

static uint32_t *plain_register(struct uarte *u, uint32_t offset)
{
    switch (offset) {
    case PSEL_RTS: return &u->psel[0];
    case PSEL_TXD: return &u->psel[1];
    case PSEL_CTS: return &u->psel[2];
    case PSEL_RXD: return &u->psel[3];
    case RXD_PTR: return &u->rxd_ptr;
    case TXD_PTR: return &u->txd_ptr;
    }
    return NULL;
}

static uint32_t uarte_read(struct periph *p, uint32_t offset)
{
    struct uarte *u = p->state;
    uint32_t v;
    if (nrf_events_read(&u->ev, offset, &v))
        return v;
    if (is_task(offset))
        return 0;
    uint32_t *reg = plain_register(u, offset);
    if (reg)
        return *reg;
    switch (offset) {
    case ERRORSRC: return u->errorsrc;
    case ENABLE: return u->enable;
    case BAUDRATE: return u->baudrate;
    case RXD_MAXCNT: return u->rxd_maxcnt;
    case RXD_AMOUNT: return u->rxd_amount;
    case TXD_MAXCNT: return u->txd_maxcnt;
    case TXD_AMOUNT: return u->txd_amount;
    case CONFIG: return u->config;
    }
    soc_unmodelled(p->soc, p, offset, false);
    return 0;
}

static void uarte_write(struct periph *p, uint32_t offset, uint32_t value)
{
    struct uarte *u = p->state;
    if (offset == NRF_SHORTS)
        value &= SHORTS_MASK;
    if (nrf_events_write(&u->ev, offset, value))
        return;
    if (is_task(offset)) {
        if (value & 1u)
            task(u, offset);
        return;
    }
    uint32_t *reg = plain_register(u, offset);
    if (reg) {
        *reg = value;
        return;
    }
    switch (offset) {
    case ERRORSRC: u->errorsrc &= ~value; return;
    case ENABLE: write_enable(u, value); return;
    case BAUDRATE:
        u->baudrate = value;
        u->tx_rem = u->rx_rem = 0;
        (void)baud(u);   /* report an odd value now */
        return;
    case CONFIG:
        u->config = value & CONFIG_MASK;
        return;
    case RXD_MAXCNT: u->rxd_maxcnt = maxcnt(u, value); return;
    case TXD_MAXCNT: u->txd_maxcnt = maxcnt(u, value); return;
    case RXD_AMOUNT: case TXD_AMOUNT: return;   /* read-only */
    }
    soc_unmodelled(p->soc, p, offset, true);
}

static void uarte_reset(struct periph *p, enum reset_kind kind)
{
    (void)kind;
    struct uarte *u = p->state;
    abandon_transfers(u);
    nrf_events_reset(&u->ev);
    u->enable = 0;
    for (unsigned i = 0; i < 4; i++)
        u->psel[i] = 0xFFFFFFFFu;
    u->baudrate = 0x04000000u;
    u->config = u->errorsrc = 0;
    u->rxd_ptr = u->rxd_maxcnt = u->rxd_amount = 0;
    u->txd_ptr = u->txd_maxcnt = u->txd_amount = 0;
    u->tx_rem = u->rx_rem = 0;
    /* bytes still on the line keep coming (and are lost while disabled) */
    soc_cancel(p->soc, &u->rx_clock);
    line_kick(u);
}

/* ---- construction --------------------------------------------------------- */

struct periph *uarte_new(struct soc *soc, unsigned instance, const struct uarte_backend *backend)
{
    if (instance >= sizeof instances / sizeof instances[0])
        return NULL;
    struct uarte *u = calloc(1, sizeof *u);
    uint8_t *line = malloc(LINE_CAPACITY);
    if (!u || !line) {
        free(u);
        free(line);
        return NULL;
    }
    snprintf(u->name, sizeof u->name, "UARTE%u", instance);
    u->p = (struct periph){
        .name = u->name,
        .base = instances[instance].base,
        .size = 0x1000,
        .read = uarte_read,
        .write = uarte_write,
        .reset = uarte_reset,
        .state = u,
    };
    u->line = line;
    u->txdma = (struct easydma){ .periph = u->name, .channel = "TXD", .writes_ram = false };
    u->rxdma = (struct easydma){ .periph = u->name, .channel = "RXD", .writes_ram = true };
    u->tx_done = (struct sched_event){ .name = "UARTE TX byte", .fire = tx_byte_done, .ctx = u };
    u->tx_retry = (struct sched_event){ .name = "UARTE TX waits for CTS", .fire = tx_retry, .ctx = u };
    u->rx_clock = (struct sched_event){ .name = "UARTE RX byte", .fire = rx_clock, .ctx = u };
    soc_add_periph(soc, &u->p);
    nrf_events_init(&u->ev, &u->p, (int)instances[instance].irq);
    uarte_reset(&u->p, RESET_POWER_ON);
    open_backend(u, backend);
    return &u->p;
}

void uarte_free(struct periph *uarte)
{
    if (!uarte)
        return;
    struct uarte *u = uarte->state;
    if (uarte_io_input_fd(&u->be) >= 0)
        soc_unwatch_fd(uarte->soc, uarte_io_input_fd(&u->be));
    uarte_io_close(&u->be);
    free(u->line);
    free(u);
}

const char *uarte_path(const struct periph *uarte)
{
    return ((const struct uarte *)uarte->state)->be.path;
}

void uarte_stats(const struct periph *uarte, struct nrf52840_uart_stats *out)
{
    *out = ((const struct uarte *)uarte->state)->stats;
}
