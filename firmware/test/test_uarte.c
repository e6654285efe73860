/* Unit tests of the UARTE driver (firmware/src/uarte.c) against a fake
 * register block. The test plays the hardware (nRF52840 PS UARTE "Reception"): hw_poll
 * acts on the tasks the driver triggered, hw_rx_byte receives a byte the way
 * the UARTE would, and the DMA API's wait loops call hw_poll through
 * dma_spin_hook, so a STOPRX or FLUSHRX is answered while the driver waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "dma.h"
#include "fake_timer.h"
#include "nrf52840.h"
#include "uarte.h"

#define R(off) regs[(off) / 4u]
#define INT(ev) UARTE_INT(ev)
#define RX_BUF 128u                 /* the driver's RX DMA buffer size */

/* GNU ld defines these because the section name is a C identifier. */
extern uint8_t __start_dma_buffers[], __stop_dma_buffers[];

static uint32_t regs[0x1000 / 4];
static const struct uarte_config cfg = {
    .base = (uintptr_t)regs, .pin_tx = 20, .pin_rx = 24, .baud = 115200,
};

/* ---- the hardware model ------------------------------------------------ */

static struct {
    uint8_t *buf;
    uint32_t max, fill;
    bool active;
    unsigned starts;            /* STARTRX tasks seen (not the short's restarts) */
} hw_rx;
static uint8_t hw_fifo[4];
static uint32_t hw_fifo_len;
static bool hw_ignore_stop, hw_ignore_flush;

static struct {
    uint8_t *buf;
    uint32_t len;
    bool active;
    uint8_t snapshot[HILDA_UART_TX_CAPACITY];
} hw_tx;
static uint8_t tx_wire[1 << 17];
static size_t tx_wire_len;

/* PTR registers hold 32 bits. On a 64-bit host the pool's upper half comes
 * from the section address (the pool is far smaller than 4 GiB). */
static uint8_t *dma_ptr(uint32_t reg)
{
    uintptr_t hi = (uintptr_t)__start_dma_buffers & ~(uintptr_t)0xFFFFFFFFu;
    uint8_t *p = (uint8_t *)(hi | reg);
    assert_true(p >= __start_dma_buffers && p < __stop_dma_buffers);
    return p;
}

static void hw_rx_latch(void)
{
    hw_rx.buf = dma_ptr(R(UARTE_RXD_PTR));
    hw_rx.max = R(UARTE_RXD_MAXCNT);
    hw_rx.fill = 0;
    hw_rx.active = true;
    R(UARTE_EVENTS_RXSTARTED) = 1;
}

static void hw_poll(void)
{
    if (R(UARTE_TASKS_STARTRX)) {
        R(UARTE_TASKS_STARTRX) = 0;
        hw_rx.starts++;
        hw_rx_latch();
        /* bytes that waited in the FIFO go into the new buffer first */
        for (uint32_t i = 0; i < hw_fifo_len && hw_rx.fill < hw_rx.max; i++)
            hw_rx.buf[hw_rx.fill++] = hw_fifo[i];
        hw_fifo_len = 0;
    }
    if (R(UARTE_TASKS_STOPRX) && !hw_ignore_stop) {
        R(UARTE_TASKS_STOPRX) = 0;
        if (hw_rx.active) {         /* the pending ENDRX comes first, partial */
            R(UARTE_RXD_AMOUNT) = hw_rx.fill;
            R(UARTE_EVENTS_ENDRX) = 1;
            hw_rx.active = false;
        }
        R(UARTE_EVENTS_RXTO) = 1;
    }
    if (R(UARTE_TASKS_FLUSHRX) && !hw_ignore_flush) {
        R(UARTE_TASKS_FLUSHRX) = 0;
        assert_false(hw_rx.active);
        uint32_t max = R(UARTE_RXD_MAXCNT);
        assert_true(max >= 4);
        if (hw_fifo_len > 0) {      /* §4.2 anomaly: AMOUNT and RXSTARTED only with data */
            assert_true(hw_fifo_len <= max);
            memcpy(dma_ptr(R(UARTE_RXD_PTR)), hw_fifo, hw_fifo_len);
            R(UARTE_RXD_AMOUNT) = hw_fifo_len;
            R(UARTE_EVENTS_RXSTARTED) = 1;
            hw_fifo_len = 0;
        }
        R(UARTE_EVENTS_ENDRX) = 1;
    }
    if (R(UARTE_TASKS_STARTTX)) {
        R(UARTE_TASKS_STARTTX) = 0;
        assert_false(hw_tx.active);
        hw_tx.buf = dma_ptr(R(UARTE_TXD_PTR));
        hw_tx.len = R(UARTE_TXD_MAXCNT);
        hw_tx.active = true;
        memcpy(hw_tx.snapshot, hw_tx.buf, hw_tx.len);
        R(UARTE_EVENTS_TXSTARTED) = 1;
    }
    if (R(UARTE_TASKS_STOPTX)) {
        R(UARTE_TASKS_STOPTX) = 0;
        if (hw_tx.active) {
            R(UARTE_TXD_AMOUNT) = 0;
            R(UARTE_EVENTS_ENDTX) = 1;
            hw_tx.active = false;
        }
        R(UARTE_EVENTS_TXSTOPPED) = 1;
    }
}

/* One byte off the wire: into the latched buffer, or the FIFO if none. */
static void hw_rx_byte(uint8_t b)
{
    R(UARTE_EVENTS_RXDRDY) = 1;
    if (!hw_rx.active) {
        if (hw_fifo_len < sizeof hw_fifo)
            hw_fifo[hw_fifo_len++] = b;
        else
            fail_msg("FIFO overrun in the model: the driver left RX without a buffer");
        return;
    }
    hw_rx.buf[hw_rx.fill++] = b;
    if (hw_rx.fill == hw_rx.max) {
        R(UARTE_RXD_AMOUNT) = hw_rx.fill;
        R(UARTE_EVENTS_ENDRX) = 1;
        hw_rx.active = false;
        if (R(NRF_SHORTS) & UARTE_SHORT_ENDRX_STARTRX)
            hw_rx_latch();          /* whatever PTR holds now, fresh or stale */
    }
}

/* A byte still in the FIFO when RX stops (it never reached RAM). */
static void hw_fifo_byte(uint8_t b)
{
    R(UARTE_EVENTS_RXDRDY) = 1;
    assert_true(hw_fifo_len < sizeof hw_fifo);
    hw_fifo[hw_fifo_len++] = b;
}

/* The last TX byte left: the buffer must be what it was at STARTTX (the
 * driver never wrote into memory the transfer owned). */
static void hw_tx_finish(void)
{
    assert_true(hw_tx.active);
    assert_memory_equal(hw_tx.buf, hw_tx.snapshot, hw_tx.len);
    assert_true(tx_wire_len + hw_tx.len <= sizeof tx_wire);
    memcpy(tx_wire + tx_wire_len, hw_tx.buf, hw_tx.len);
    tx_wire_len += hw_tx.len;
    R(UARTE_TXD_AMOUNT) = hw_tx.len;
    R(UARTE_EVENTS_ENDTX) = 1;
    hw_tx.active = false;
}

static void irq(void)
{
    uarte_irq();
    hw_poll();
}

static void fire_idle_timer(void)
{
    assert_true(fake_timer_fire(TIMER_SLOT_UART_IDLE));
    hw_poll();
}

/* What a prompt interrupt controller does: run the handler whenever an
 * event is pending. */
static void service(void)
{
    if (R(UARTE_EVENTS_ENDRX) || R(UARTE_EVENTS_RXSTARTED) || R(UARTE_EVENTS_ENDTX) ||
        R(UARTE_EVENTS_ERROR) || R(UARTE_EVENTS_RXDRDY))
        irq();
}

static uint8_t pattern(uint32_t i)
{
    return (uint8_t)(i * 7u + (i >> 8));
}

static void send(uint32_t first, uint32_t n, bool prompt)
{
    for (uint32_t i = first; i < first + n; i++) {
        hw_rx_byte(pattern(i));
        if (prompt)
            service();
    }
}

/* Reads everything there is and checks it is pattern(first ...) */
static uint32_t expect_read(uint32_t first, uint32_t n)
{
    static uint8_t got[HILDA_UART_RX_CAPACITY + 1];
    size_t len = uarte_read(got, sizeof got);
    assert_int_equal(len, n);
    for (uint32_t i = 0; i < n; i++) {
        if (got[i] != pattern(first + i))
            fail_msg("byte %u of the read: got 0x%02x, want 0x%02x (stream index %u)",
                     i, got[i], pattern(first + i), first + i);
    }
    return first + n;
}

static int setup(void **state)
{
    (void)state;
    struct dma_memory mem = {
        .ram_start = (uintptr_t)__start_dma_buffers, .ram_end = (uintptr_t)__stop_dma_buffers,
        .pool_start = (uintptr_t)__start_dma_buffers, .pool_end = (uintptr_t)__stop_dma_buffers,
    };
    dma_memory_set(&mem);
    memset(regs, 0, sizeof regs);
    memset(&hw_rx, 0, sizeof hw_rx);
    hw_tx.active = false;
    hw_fifo_len = 0;
    hw_ignore_stop = hw_ignore_flush = false;
    tx_wire_len = 0;
    fake_timer_reset();
    dma_spin_hook = hw_poll;
    uarte_init(&cfg);               /* also takes back a previous test's transfers */
    hw_poll();
    counters_reset();
    return 0;
}

/* RX running as after init plus the first RXSTARTED answered */
static int setup_running(void **state)
{
    setup(state);
    irq();
    return 0;
}

/* ---- init and baud ----------------------------------------------------- */

static void test_init_registers(void **state)
{
    (void)state;
    assert_int_equal(R(UARTE_PSEL_TXD), 20);
    assert_int_equal(R(UARTE_PSEL_RXD), 24);
    assert_int_equal(R(UARTE_PSEL_RTS), 0xFFFFFFFFu);
    assert_int_equal(R(UARTE_PSEL_CTS), 0xFFFFFFFFu);
    assert_int_equal(R(UARTE_CONFIG), 0);
    assert_int_equal(R(UARTE_BAUDRATE), 0x01D60000u);
    assert_int_equal(R(UARTE_ENABLE), 8);
    assert_int_equal(R(NRF_SHORTS), UARTE_SHORT_ENDRX_STARTRX);
    assert_int_equal(R(NRF_INTEN), INT(UARTE_EVENTS_ENDTX) | INT(UARTE_EVENTS_ERROR));
    uint32_t rx = INT(UARTE_EVENTS_ENDRX) | INT(UARTE_EVENTS_RXSTARTED) |
                  INT(UARTE_EVENTS_RXTO) | INT(UARTE_EVENTS_RXDRDY);
    assert_int_equal(R(NRF_INTENSET) & rx, rx);
    /* RX started on a DMA buffer of the pool, which the DMA now owns */
    assert_int_equal(hw_rx.starts, 1);
    assert_true(hw_rx.active);
    assert_int_equal(hw_rx.max, RX_BUF);
    assert_true(dma_owns(hw_rx.buf, RX_BUF));

    struct hilda_uart_status st;
    uarte_status(&st);
    assert_int_equal(st.baud, 115200);
    assert_int_equal(st.tx_free, HILDA_UART_TX_CAPACITY);
    assert_int_equal(st.rx_available, 0);
    assert_int_equal(st.errorsrc, 0);
}

static void test_baud_table(void **state)
{
    (void)state;
    static const uint32_t bauds[] = { HILDA_UART_BAUDS };
    assert_int_equal(uarte_baud_register(9600), 0x00275000u);
    assert_int_equal(uarte_baud_register(115200), 0x01D60000u);
    assert_int_equal(uarte_baud_register(1000000), 0x10000000u);
    assert_int_equal(uarte_baud_register(921600), 0x0F000000u);
    assert_int_equal(uarte_baud_register(12345), 0);
    assert_int_equal(uarte_baud_register(0), 0);
    assert_int_equal(uarte_baud_register(1200), 0);   /* in §4.1 but not offered */
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        assert_int_not_equal(uarte_baud_register(bauds[i]), 0);
}

static void test_set_baud(void **state)
{
    (void)state;
    struct hilda_uart_status st;
    assert_false(uarte_set_baud(12345));
    assert_int_equal(R(UARTE_BAUDRATE), 0x01D60000u);
    assert_true(uarte_set_baud(9600));
    assert_int_equal(R(UARTE_BAUDRATE), 0x00275000u);
    uarte_status(&st);
    assert_int_equal(st.baud, 9600);
    assert_true(uarte_set_baud(1000000));
    assert_int_equal(R(UARTE_BAUDRATE), 0x10000000u);
}

static void test_init_unsupported_baud_uses_default(void **state)
{
    (void)state;
    struct uarte_config c = cfg;
    c.baud = 12345;
    uarte_init(&c);
    hw_poll();
    assert_int_equal(R(UARTE_BAUDRATE), 0x01D60000u);
    struct hilda_uart_status st;
    uarte_status(&st);
    assert_int_equal(st.baud, HILDA_UART_DEFAULT_BAUD);
}

/* ---- TX ---------------------------------------------------------------- */

static void test_tx_one_buffer(void **state)
{
    (void)state;
    static const uint8_t msg[] = "hello, dongle";
    struct hilda_uart_status st;

    assert_int_equal(uarte_write(msg, sizeof msg), sizeof msg);
    hw_poll();
    assert_true(hw_tx.active);
    assert_int_equal(hw_tx.len, sizeof msg);
    assert_memory_equal(hw_tx.buf, msg, sizeof msg);
    assert_true(dma_owns(hw_tx.buf, sizeof msg));
    uarte_status(&st);
    assert_int_equal(st.tx_free, HILDA_UART_TX_CAPACITY - sizeof msg);

    hw_tx_finish();
    irq();
    assert_false(hw_tx.active);                 /* nothing more to send */
    assert_false(dma_owns(hw_tx.buf, sizeof msg));
    assert_int_equal(R(UARTE_EVENTS_ENDTX), 0); /* consumed by the DMA API */
    assert_int_equal(counters.dma_uarte_tx, 1);
    assert_int_equal(counters.uart_tx_bytes, sizeof msg);
    uarte_status(&st);
    assert_int_equal(st.tx_free, HILDA_UART_TX_CAPACITY);
    assert_int_equal(tx_wire_len, sizeof msg);
    assert_memory_equal(tx_wire, msg, sizeof msg);
}

/* Bytes written while a span is on the wire wait for the next span, and a
 * span ends at the end of the storage (the next one starts at its head). */
static void test_tx_queue_and_wrap(void **state)
{
    (void)state;
    static uint8_t data[2200];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = pattern((uint32_t)i);

    assert_int_equal(uarte_write(data, 1500), 1500);
    hw_poll();
    assert_int_equal(hw_tx.len, 1500);
    uint8_t *storage = hw_tx.buf;
    assert_int_equal(uarte_write(data + 1500, 400), 400);
    hw_poll();
    assert_int_equal(hw_tx.len, 1500);          /* still the first span */
    hw_tx_finish();
    irq();
    assert_true(hw_tx.active);                  /* the next span started at once */
    assert_ptr_equal(hw_tx.buf, storage + 1500);
    assert_int_equal(hw_tx.len, 400);

    /* 148 bytes fit before the end of storage, 152 go to its start */
    assert_int_equal(uarte_write(data + 1900, 300), 300);
    hw_tx_finish();
    irq();
    assert_ptr_equal(hw_tx.buf, storage + 1900);
    assert_int_equal(hw_tx.len, HILDA_UART_TX_CAPACITY - 1900);
    hw_tx_finish();
    irq();
    assert_ptr_equal(hw_tx.buf, storage);
    assert_int_equal(hw_tx.len, 300 - (HILDA_UART_TX_CAPACITY - 1900));
    hw_tx_finish();
    irq();
    assert_false(hw_tx.active);

    assert_int_equal(tx_wire_len, 2200);
    assert_memory_equal(tx_wire, data, 2200);
    assert_int_equal(counters.dma_uarte_tx, 4);
    assert_int_equal(counters.uart_tx_bytes, 2200);
}

static void test_tx_all_or_nothing(void **state)
{
    (void)state;
    static uint8_t data[HILDA_UART_TX_CAPACITY + 1];
    struct hilda_uart_status st;

    assert_int_equal(uarte_write(data, sizeof data), 0);   /* larger than the ring */
    assert_int_equal(uarte_write(data, 0), 0);
    assert_int_equal(uarte_write(data, 2000), 2000);
    assert_int_equal(uarte_write(data, 100), 0);           /* 48 free: none of it */
    uarte_status(&st);
    assert_int_equal(st.tx_free, 48);
    assert_int_equal(uarte_write(data, 48), 48);
    assert_int_equal(uarte_write(data, 1), 0);             /* full */
    assert_int_equal(counters.uart_tx_ring_overflows, HILDA_UART_TX_CAPACITY + 1 + 100 + 1);
    hw_poll();
    hw_tx_finish();                                        /* 2000 gone, 48 start */
    irq();
    uarte_status(&st);
    assert_int_equal(st.tx_free, 2000);
    assert_int_equal(uarte_write(data, 2000), 2000);
    hw_tx_finish();
    irq();
    hw_tx_finish();
    irq();
    assert_int_equal(counters.uart_tx_bytes, 4048);
}

static void test_tx_stream(void **state)
{
    (void)state;
    static uint8_t chunk[333];
    uint32_t sent = 0;
    while (sent < 65536) {
        uint32_t n = 65536 - sent < sizeof chunk ? 65536 - sent : sizeof chunk;
        // cppcheck-suppress knownConditionTrueFalse ; n is 1..333 here
        for (uint32_t i = 0; i < n; i++)
            chunk[i] = pattern(sent + i);
        if (uarte_write(chunk, n) == n) {
            sent += n;
            hw_poll();
        } else {
            hw_tx_finish();
            irq();
        }
    }
    while (hw_tx.active) {
        hw_tx_finish();
        irq();
    }
    assert_int_equal(tx_wire_len, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        assert_int_equal(tx_wire[i], pattern(i));
    assert_int_equal(counters.uart_tx_bytes, 65536);
}

/* ---- RX ---------------------------------------------------------------- */

static void test_rx_double_buffer(void **state)
{
    (void)state;
    uint8_t *a = hw_rx.buf;
    assert_int_equal(R(UARTE_EVENTS_RXSTARTED), 1);
    irq();
    /* the second buffer was queued behind the latched one */
    uint8_t *b = dma_ptr(R(UARTE_RXD_PTR));
    assert_ptr_not_equal(a, b);
    assert_int_equal(R(UARTE_RXD_MAXCNT), RX_BUF);
    assert_true(dma_owns(a, RX_BUF));
    assert_true(dma_owns(b, RX_BUF));
    assert_int_equal(R(UARTE_EVENTS_RXSTARTED), 0);

    send(0, RX_BUF, false);                     /* fills a; the short moves on to b */
    assert_ptr_equal(hw_rx.buf, b);
    assert_int_equal(R(UARTE_EVENTS_ENDRX), 1);
    irq();
    assert_int_equal(R(UARTE_EVENTS_ENDRX), 0);
    assert_ptr_equal(dma_ptr(R(UARTE_RXD_PTR)), a);  /* a queued again */
    expect_read(0, RX_BUF);
    assert_int_equal(counters.dma_uarte_rx, 1);
    assert_int_equal(counters.uart_rx_bytes, RX_BUF);

    send(RX_BUF, RX_BUF, false);
    assert_ptr_equal(hw_rx.buf, a);
    irq();
    assert_ptr_equal(dma_ptr(R(UARTE_RXD_PTR)), b);
    expect_read(RX_BUF, RX_BUF);
    assert_int_equal(counters.uart_overruns, 0);
    assert_int_equal(hw_rx.starts, 1);          /* never restarted by software */
}

static void test_rx_stream_64k(void **state)
{
    (void)state;
    uint32_t next = 0, sent = 0;
    while (sent < 65536) {
        send(sent, 1000 < 65536 - sent ? 1000 : 65536 - sent, true);
        sent += 1000 < 65536 - sent ? 1000 : 65536 - sent;
        /* what is not a whole buffer yet stays in the DMA buffer */
        next = expect_read(next, sent / RX_BUF * RX_BUF - next);
    }
    assert_int_equal(next, 65536);
    assert_int_equal(counters.uart_rx_bytes, 65536);
    assert_int_equal(counters.dma_uarte_rx, 65536 / RX_BUF);
    assert_int_equal(counters.uart_overruns, 0);
    assert_int_equal(hw_rx.starts, 1);
}

/* The host drains late: RX pauses with no buffer latched (RTS off with
 * HWFC) before the ring would overflow, and the read that makes room
 * restarts it. The model fails on a FIFO overrun, so nothing may be lost. */
static void test_rx_ring_full_pauses_rx_until_read(void **state)
{
    (void)state;
    /* buffers are handed out while the ring can take them all back full,
     * plus a FLUSHRX's bytes: 15 buffers fit before RX must pause */
    uint32_t n = 15 * RX_BUF;
    send(0, n, true);
    assert_false(hw_rx.active);
    assert_int_equal(R(NRF_SHORTS), 0);
    assert_int_equal(counters.uart_rx_flow_stops, 1);
    struct hilda_uart_status st;
    uarte_status(&st);
    assert_int_equal(st.rx_available, n);
    /* the sender stops, but up to 4 bytes on their way still arrive (§4.2) */
    for (uint32_t i = n; i < n + 4; i++)
        hw_rx_byte(pattern(i));
    assert_false(fake_timers[TIMER_SLOT_UART_IDLE].running);
    expect_read(0, n);                           /* room again: RX restarts */
    hw_poll();
    assert_int_equal(hw_rx.starts, 2);
    assert_true(hw_rx.active);
    assert_int_equal(hw_rx.fill, 4);             /* the FIFO's bytes came first */
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    irq();                                       /* its RXSTARTED: the spare is queued */
    assert_int_equal(R(NRF_SHORTS), UARTE_SHORT_ENDRX_STARTRX);
    send(n + 4, 2 * RX_BUF - 4, true);
    expect_read(n, 2 * RX_BUF);
    assert_int_equal(counters.uart_rx_ring_overflows, 0);
    assert_int_equal(counters.uart_rx_fifo_overruns, 0);
    assert_int_equal(counters.uart_overruns, 0);
    assert_int_equal(counters.uart_rx_bytes, n + 2 * RX_BUF);
}

/* The idle flush of a paused receiver's FIFO bytes needs no buffer of the
 * ring's: a flush while RX is paused is not started, and reading restarts. */
static void test_rx_paused_ignores_idle_timer(void **state)
{
    (void)state;
    send(0, 15 * RX_BUF, true);
    assert_false(hw_rx.active);
    uint32_t starts = hw_rx.starts;
    fake_timer_fire(TIMER_SLOT_UART_IDLE);        /* a stale timer, if any, does nothing */
    hw_poll();
    assert_int_equal(hw_rx.starts, starts);
    assert_false(hw_rx.active);
    uint8_t one;
    assert_int_equal(uarte_read(&one, 1), 1);    /* not enough room yet: stays paused */
    hw_poll();
    assert_false(hw_rx.active);
    expect_read(1, 15 * RX_BUF - 1);
    hw_poll();
    assert_true(hw_rx.active);
}

/* Flow control on: RTS and CTS routed, CONFIG.HWFC set. */
static void test_init_with_flow_control(void **state)
{
    (void)state;
    struct uarte_config c = cfg;
    c.hwfc = true;
    c.pin_rts = 17;
    c.pin_cts = 22;
    uarte_init(&c);
    hw_poll();
    assert_int_equal(R(UARTE_PSEL_RTS), 17);
    assert_int_equal(R(UARTE_PSEL_CTS), 22);
    assert_int_equal(R(UARTE_CONFIG), UARTE_CONFIG_HWFC);
}

/* ---- idle flush -------------------------------------------------------- */

static void test_rx_idle_flush(void **state)
{
    (void)state;
    send(0, 1, true);
    /* the first byte disarmed RXDRDY and started the idle timer */
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    assert_int_equal(fake_timers[TIMER_SLOT_UART_IDLE].microseconds, 1000);
    assert_int_equal(R(NRF_INTENCLR), INT(UARTE_EVENTS_RXDRDY));
    assert_int_equal(R(UARTE_EVENTS_RXDRDY), 0);

    send(1, 49, true);
    assert_int_equal(fake_timers[TIMER_SLOT_UART_IDLE].starts, 1);  /* no interrupt per byte */
    fire_idle_timer();              /* bytes came since: wait another period */
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    assert_int_equal(R(UARTE_EVENTS_RXDRDY), 0);
    assert_int_equal(uarte_read(NULL, 0), 0);

    hw_fifo_byte(pattern(50));      /* three more still in the FIFO when RX stops */
    hw_fifo_byte(pattern(51));
    hw_fifo_byte(pattern(52));
    fire_idle_timer();
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    R(UARTE_EVENTS_RXDRDY) = 0;     /* ... and then the line went quiet */
    uint8_t *a = hw_rx.buf;
    fire_idle_timer();

    /* STOPRX, RXTO, FLUSHRX and a fresh start happened */
    assert_int_equal(R(UARTE_TASKS_STOPRX), 0);
    assert_int_equal(R(UARTE_EVENTS_RXTO), 0);
    assert_int_equal(hw_rx.starts, 2);
    assert_true(hw_rx.active);
    assert_ptr_equal(hw_rx.buf, a);
    assert_int_equal(hw_rx.fill, 0);
    assert_int_equal(R(NRF_SHORTS), UARTE_SHORT_ENDRX_STARTRX);
    assert_true(R(NRF_INTENSET) & INT(UARTE_EVENTS_RXDRDY));
    assert_false(fake_timers[TIMER_SLOT_UART_IDLE].running);
    expect_read(0, 53);
    assert_int_equal(counters.dma_uarte_rx, 2); /* the partial buffer and the flush */
    assert_int_equal(counters.uart_rx_bytes, 53);

    /* and it carries on receiving, double-buffered, idle detection armed */
    irq();
    send(53, RX_BUF + 10, true);
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    expect_read(53, RX_BUF);
    R(UARTE_EVENTS_RXDRDY) = 0;
    fire_idle_timer();
    expect_read(53 + RX_BUF, 10);
    assert_int_equal(counters.uart_overruns, 0);
}

/* §4.2 anomaly: FLUSHRX with an empty FIFO leaves AMOUNT at its old value
 * (here the partial buffer's 20) and raises no RXSTARTED. */
static void test_rx_flush_empty_fifo_trusts_no_stale_amount(void **state)
{
    (void)state;
    send(0, 20, true);
    R(UARTE_EVENTS_RXDRDY) = 0;
    fire_idle_timer();
    expect_read(0, 20);
    assert_int_equal(counters.dma_uarte_rx, 1);
}

static void test_idle_period_follows_baud(void **state)
{
    (void)state;
    assert_true(uarte_set_baud(9600));
    send(0, 1, true);
    assert_int_equal(fake_timers[TIMER_SLOT_UART_IDLE].microseconds, 40000000u / 9600u);
    assert_true(uarte_set_baud(1000000));
    send(1, 1, true);               /* activity: the timer restarts, at the new rate */
    fire_idle_timer();
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    assert_int_equal(fake_timers[TIMER_SLOT_UART_IDLE].microseconds, 1000);
}

/* A buffer filled and the short moved on, but the UARTE interrupt had not
 * run yet when the idle timer fired: the flush delivers both, in order. */
static void test_rx_flush_with_pending_end(void **state)
{
    (void)state;
    send(0, 1, true);
    send(1, RX_BUF - 1 + 10, false);
    assert_int_equal(R(UARTE_EVENTS_ENDRX), 1);
    R(UARTE_EVENTS_RXDRDY) = 0;
    fire_idle_timer();
    expect_read(0, RX_BUF + 10);
    assert_int_equal(counters.uart_overruns, 0);
}

/* The buffer fills in the instant the flush clears the short (injected when
 * the driver cancels the idle timer, just before its SHORTS write). */
static uint32_t inject_first, inject_count;
static void inject_bytes(enum timer_slot slot)
{
    assert_int_equal(slot, TIMER_SLOT_UART_IDLE);
    send(inject_first, inject_count, false);
    fake_timer_on_cancel = NULL;
}

static void test_rx_flush_race_buffer_fills_before_short_cleared(void **state)
{
    (void)state;
    send(0, 100, true);
    R(UARTE_EVENTS_RXDRDY) = 0;
    inject_first = 100;
    inject_count = RX_BUF - 100 + 5;            /* fills a, 5 go into b */
    fake_timer_on_cancel = inject_bytes;
    fire_idle_timer();
    expect_read(0, RX_BUF + 5);
    assert_int_equal(counters.uart_overruns, 0);
    assert_int_equal(hw_rx.starts, 2);
}

/* ... and in the instant after the short was cleared: RX just ends. */
static unsigned spins;
static void spin_then_fill(void)
{
    if (spins++ == 0)
        send(inject_first, inject_count, false);
    hw_poll();
}

static void test_rx_flush_race_buffer_fills_after_short_cleared(void **state)
{
    (void)state;
    send(0, 100, true);
    R(UARTE_EVENTS_RXDRDY) = 0;
    inject_first = 100;
    inject_count = RX_BUF - 100;                /* exactly fills a, no restart */
    spins = 0;
    dma_spin_hook = spin_then_fill;             /* first spin of the STOPRX wait */
    fire_idle_timer();
    dma_spin_hook = hw_poll;
    expect_read(0, RX_BUF);
    assert_int_equal(hw_rx.starts, 2);
}

/* An RXSTARTED with both buffers already owned has nothing to answer: it
 * is cleared (a level interrupt would retrigger forever), and RX goes on. */
static void test_rx_stray_rxstarted(void **state)
{
    (void)state;
    R(UARTE_EVENTS_RXSTARTED) = 1;
    irq();
    assert_int_equal(R(UARTE_EVENTS_RXSTARTED), 0);
    send(0, 3 * RX_BUF, true);
    expect_read(0, 3 * RX_BUF);
    assert_int_equal(hw_rx.starts, 1);
    assert_int_equal(counters.uart_overruns, 0);
}

/* ---- late interrupt: the short restarted into the full buffer ---------- */

static void test_rx_late_irq_recovers(void **state)
{
    (void)state;
    uint8_t *a = hw_rx.buf;
    /* RXSTARTED is never answered: no successor is queued when a fills, so
     * the short restarts the receiver into a again, over the old bytes */
    send(0, RX_BUF + 5, false);
    assert_ptr_equal(hw_rx.buf, a);
    assert_int_equal(hw_rx.fill, 5);
    irq();
    assert_int_equal(hw_rx.starts, 2);          /* stopped, flushed, started afresh */
    assert_true(hw_rx.active);
    assert_int_equal(hw_rx.fill, 0);
    assert_int_equal(R(NRF_SHORTS), UARTE_SHORT_ENDRX_STARTRX);
    /* the 5 oldest bytes were overwritten; the rest arrive in order */
    expect_read(5, RX_BUF);
    assert_int_equal(counters.uart_overruns, 5);

    irq();                                      /* RXSTARTED of the fresh start */
    /* the bytes of the overrun do not count as a new burst: a needless idle
     * flush would open a stop window for nothing */
    assert_false(fake_timers[TIMER_SLOT_UART_IDLE].running);
    send(RX_BUF + 5, RX_BUF, true);
    expect_read(RX_BUF + 5, RX_BUF);
    assert_int_equal(counters.uart_overruns, 5);
}

/* ---- the hardware does not confirm: retried from the idle timer ------- */

static void test_rx_stop_not_confirmed_is_retried(void **state)
{
    (void)state;
    send(0, 30, true);
    R(UARTE_EVENTS_RXDRDY) = 0;
    hw_ignore_stop = true;
    fire_idle_timer();
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);  /* retry scheduled */
    assert_true(dma_owns(hw_rx.buf, RX_BUF));   /* buffer kept: the DMA may still write */
    assert_int_equal(uarte_read(NULL, 0), 0);
    hw_ignore_stop = false;
    fire_idle_timer();
    expect_read(0, 30);
    assert_int_equal(hw_rx.starts, 2);
    assert_false(fake_timers[TIMER_SLOT_UART_IDLE].running);
}

static void test_rx_flush_not_confirmed_is_retried(void **state)
{
    (void)state;
    send(0, 30, true);
    hw_fifo_byte(pattern(30));
    R(UARTE_EVENTS_RXDRDY) = 0;
    hw_ignore_flush = true;
    fire_idle_timer();
    assert_true(fake_timers[TIMER_SLOT_UART_IDLE].running);
    assert_int_equal(hw_rx.starts, 1);          /* not restarted over the flush */
    hw_ignore_flush = false;
    fire_idle_timer();
    expect_read(0, 31);
    assert_int_equal(hw_rx.starts, 2);
}

/* ---- errors ------------------------------------------------------------ */

static void test_error_counting(void **state)
{
    (void)state;
    struct hilda_uart_status st;
    R(UARTE_ERRORSRC) = UARTE_ERRORSRC_OVERRUN | (1u << 2);   /* + FRAMING */
    R(UARTE_EVENTS_ERROR) = 1;
    irq();
    assert_int_equal(R(UARTE_EVENTS_ERROR), 0);
    assert_int_equal(R(UARTE_ERRORSRC), UARTE_ERRORSRC_OVERRUN | (1u << 2));  /* W1C */
    assert_int_equal(counters.uart_errors, 1);
    assert_int_equal(counters.uart_overruns, 1);
    assert_int_equal(counters.uart_rx_fifo_overruns, 1);

    R(UARTE_ERRORSRC) = 1u << 3;                /* BREAK */
    R(UARTE_EVENTS_ERROR) = 1;
    irq();
    assert_int_equal(counters.uart_errors, 2);
    assert_int_equal(counters.uart_overruns, 1);
    uarte_status(&st);
    assert_int_equal(st.errorsrc, UARTE_ERRORSRC_OVERRUN | (1u << 2) | (1u << 3));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
#define TR(f) cmocka_unit_test_setup(f, setup_running)
    const struct CMUnitTest tests[] = {
        T(test_init_registers),
        T(test_baud_table),
        T(test_set_baud),
        T(test_init_unsupported_baud_uses_default),
        TR(test_tx_one_buffer),
        TR(test_tx_queue_and_wrap),
        TR(test_tx_all_or_nothing),
        TR(test_tx_stream),
        T(test_rx_double_buffer),
        TR(test_rx_stream_64k),
        TR(test_rx_ring_full_pauses_rx_until_read),
        TR(test_rx_paused_ignores_idle_timer),
        T(test_init_with_flow_control),
        TR(test_rx_idle_flush),
        TR(test_rx_flush_empty_fifo_trusts_no_stale_amount),
        TR(test_idle_period_follows_baud),
        TR(test_rx_flush_with_pending_end),
        TR(test_rx_flush_race_buffer_fills_before_short_cleared),
        TR(test_rx_flush_race_buffer_fills_after_short_cleared),
        TR(test_rx_stray_rxstarted),
        T(test_rx_late_irq_recovers),
        TR(test_rx_stop_not_confirmed_is_retried),
        TR(test_rx_flush_not_confirmed_is_retried),
        TR(test_error_counting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
