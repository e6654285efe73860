/* UARTE: byte timing, TX/RX EasyDMA, double buffering, STOPRX/FLUSHRX,
 * overrun, bad pointers. The backend is one end of a socketpair (the other
 * end plays the serial peer); one test uses the real pseudo-terminal. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define U0 0x40002000u
#define U1 0x40028000u
#define STARTRX 0x000u
#define STOPRX 0x004u
#define STARTTX 0x008u
#define STOPTX 0x00Cu
#define FLUSHRX 0x02Cu
#define EV_CTS 0x100u
#define EV_NCTS 0x104u
#define EV_RXDRDY 0x108u
#define EV_ENDRX 0x110u
#define EV_TXDRDY 0x11Cu
#define EV_ENDTX 0x120u
#define EV_ERROR 0x124u
#define EV_RXTO 0x144u
#define EV_RXSTARTED 0x14Cu
#define EV_TXSTARTED 0x150u
#define EV_TXSTOPPED 0x158u
#define SHORTS 0x200u
#define INTENSET 0x304u
#define ERRORSRC 0x480u
#define ENABLE 0x500u
#define PSEL_RTS 0x508u
#define PSEL_TXD 0x50Cu
#define PSEL_CTS 0x510u
#define PSEL_RXD 0x514u
#define BAUDRATE 0x524u
#define RXD_PTR 0x534u
#define RXD_MAXCNT 0x538u
#define RXD_AMOUNT 0x53Cu
#define TXD_PTR 0x544u
#define TXD_MAXCNT 0x548u
#define TXD_AMOUNT 0x54Cu
#define CONFIG 0x56Cu

#define BAUD_115200 0x01D60000u
#define BAUD_1M     0x10000000u
#define BYTE_1M     640u           /* 10 bits at 1 Mbaud, in 64 MHz cycles */

#define RAM_TX  0x20000100u
#define RAM_A   0x20001000u
#define RAM_B   0x20002000u
#define RAM_FL  0x20003000u

struct fixture {
    struct harness *h;
    struct periph *u;
    int peer;          /* the serial peer's end of the socketpair */
    int model_fd;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    int sv[2];
    f->h = harness_new();
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f->model_fd = sv[0];
    f->peer = sv[1];
    fcntl(f->peer, F_SETFL, O_NONBLOCK);
    struct uarte_backend b = { .kind = UARTE_BACKEND_FD, .fd = f->model_fd };
    f->u = uarte_new(f->h->soc, 0, &b);
    assert_non_null(f->u);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    uarte_free(f->u);
    close(f->model_fd);
    close(f->peer);
    harness_free(f->h);
    free(f);
    return 0;
}

static void enable(struct harness *h, uint32_t baudrate)
{
    wr(h, U0 + PSEL_TXD, 20);
    wr(h, U0 + PSEL_RXD, 24);
    wr(h, U0 + BAUDRATE, baudrate);
    wr(h, U0 + CONFIG, 0);
    wr(h, U0 + ENABLE, 8);
}

static void put_ram(struct harness *h, uint32_t addr, const void *data, size_t len)
{
    memcpy(soc_ram(h->soc, addr, (uint32_t)len), data, len);
}

static const uint8_t *ram(struct harness *h, uint32_t addr)
{
    return soc_ram(h->soc, addr, 1);
}

/* The peer sends: the model picks the bytes up as the run loop would. */
static void peer_send(struct fixture *f, const void *data, size_t len)
{
    assert_int_equal(write(f->peer, data, len), (ssize_t)len);
    assert_true(soc_poll_fds(f->h->soc, 0) >= 1);
}

static size_t peer_recv(struct fixture *f, uint8_t *buf, size_t cap)
{
    ssize_t n = read(f->peer, buf, cap);
    return n < 0 ? 0 : (size_t)n;
}

static uint32_t ev(struct harness *h, uint32_t off)
{
    return rd(h, U0 + off);
}

static void clear(struct harness *h, uint32_t off)
{
    wr(h, U0 + off, 0);
}

/* ---- TX ------------------------------------------------------------------- */

static void tx_timing_115200(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t got[8];
    enable(h, BAUD_115200);
    put_ram(h, RAM_TX, "abc", 3);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 3);
    wr(h, U0 + INTENSET, 1u << 8);              /* ENDTX */
    vtime_t t0 = now(h);
    wr(h, U0 + STARTTX, 1);
    assert_int_equal(ev(h, EV_TXSTARTED), 1);
    /* 10 bits at 115200 = 5555.56 cycles: bytes end at 5555, 11111, 16666 */
    run_to(h, t0 + 5554);
    assert_int_equal(ev(h, EV_TXDRDY), 0);
    assert_int_equal(peer_recv(f, got, sizeof got), 0);
    run_to(h, t0 + 5555);
    assert_int_equal(ev(h, EV_TXDRDY), 1);
    assert_int_equal(peer_recv(f, got, sizeof got), 1);
    assert_int_equal(got[0], 'a');
    clear(h, EV_TXDRDY);
    run_to(h, t0 + 11110);
    assert_int_equal(ev(h, EV_TXDRDY), 0);
    run_to(h, t0 + 11111);
    assert_int_equal(ev(h, EV_TXDRDY), 1);
    run_to(h, t0 + 16665);
    assert_int_equal(ev(h, EV_ENDTX), 0);
    assert_false(irq(h, 2));
    run_to(h, t0 + 16666);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_true(irq(h, 2));
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 3);
    assert_int_equal(peer_recv(f, got, sizeof got), 2);
    assert_memory_equal(got, "bc", 2);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.tx_bytes, 3);
    assert_int_equal(st.tx_dropped, 0);
}

static void tx_timing_1m_and_txstopped(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t got[8];
    enable(h, BAUD_1M);
    put_ram(h, RAM_TX, "WXYZ", 4);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 4);
    vtime_t t0 = now(h);
    wr(h, U0 + STARTTX, 1);
    /* the registers are latched: rewriting them does not disturb the transfer */
    wr(h, U0 + TXD_PTR, RAM_A);
    wr(h, U0 + TXD_MAXCNT, 1);
    run_to(h, t0 + BYTE_1M - 1);
    assert_int_equal(ev(h, EV_TXDRDY), 0);
    run_to(h, t0 + BYTE_1M);
    assert_int_equal(ev(h, EV_TXDRDY), 1);
    run_to(h, t0 + 4 * BYTE_1M - 1);
    assert_int_equal(ev(h, EV_ENDTX), 0);
    run_to(h, t0 + 4 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 4);
    assert_int_equal(peer_recv(f, got, sizeof got), 4);
    assert_memory_equal(got, "WXYZ", 4);
    /* the transmitter stays on until STOPTX, which then stops at once */
    assert_int_equal(ev(h, EV_TXSTOPPED), 0);
    wr(h, U0 + STOPTX, 1);
    assert_int_equal(ev(h, EV_TXSTOPPED), 1);
}

static void stoptx_mid_buffer(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t got[16];
    enable(h, BAUD_1M);
    put_ram(h, RAM_TX, "0123456789", 10);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 10);
    vtime_t t0 = now(h);
    wr(h, U0 + STARTTX, 1);
    run_to(h, t0 + 1000);                       /* byte 2 is going out */
    wr(h, U0 + STOPTX, 1);
    assert_int_equal(ev(h, EV_TXSTOPPED), 0);
    run_to(h, t0 + 2 * BYTE_1M - 1);
    assert_int_equal(ev(h, EV_ENDTX), 0);
    run_to(h, t0 + 2 * BYTE_1M);                /* it finishes, then the stop */
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(ev(h, EV_TXSTOPPED), 1);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 2);
    run_for(h, SOC_MS(1));
    assert_int_equal(peer_recv(f, got, sizeof got), 2);
    assert_memory_equal(got, "01", 2);
    /* a new buffer can start */
    clear(h, EV_ENDTX);
    wr(h, U0 + TXD_PTR, RAM_TX + 5);
    wr(h, U0 + TXD_MAXCNT, 1);
    wr(h, U0 + STARTTX, 1);
    run_for(h, BYTE_1M);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(peer_recv(f, got, sizeof got), 1);
    assert_int_equal(got[0], '5');
}

static void maxcnt_0_with_null_pointer_is_legal_and_silent(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + TXD_PTR, 0);
    wr(h, U0 + TXD_MAXCNT, 0);
    wr(h, U0 + STARTTX, 1);
    assert_int_equal(ev(h, EV_TXSTARTED), 1);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 0);
    wr(h, U0 + STOPTX, 1);                      /* nrfx's TXSTOPPED priming */
    assert_int_equal(ev(h, EV_TXSTOPPED), 1);
    wr(h, U0 + RXD_PTR, 0);
    wr(h, U0 + RXD_MAXCNT, 0);
    wr(h, U0 + STARTRX, 1);
    assert_int_equal(ev(h, EV_RXSTARTED), 1);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), 0);
    assert_string_equal(harness_log(h), "");
}

static void dma_pointer_outside_ram_is_reported(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    uint8_t got[8];
    enable(h, BAUD_1M);
    wr(h, U0 + TXD_PTR, 0x00001000u);           /* flash: EasyDMA cannot read it */
    wr(h, U0 + TXD_MAXCNT, 4);
    wr(h, U0 + STARTTX, 1);
    assert_true(log_has(h, "UARTE0 TXD EasyDMA pointer 0x00001000"));
    assert_true(log_has(h, "outside data RAM"));
    /* the transfer still runs its course, sending nothing */
    run_for(h, 4 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(peer_recv(f, got, sizeof got), 0);
}

/* ---- RX ------------------------------------------------------------------- */

static void zero_length_rx_with_restart_short_does_not_spin(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + SHORTS, 1u << 5);
    wr(h, U0 + RXD_PTR, 0);
    wr(h, U0 + RXD_MAXCNT, 0);
    wr(h, U0 + STARTRX, 1);                     /* must return */
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_true(log_has(h, "zero-length RX buffer"));
    /* a real buffer can follow */
    clear(h, EV_ENDRX);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 2);
    wr(h, U0 + STARTRX, 1);
    peer_send(f, "ok", 2);
    run_for(h, 2 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_memory_equal(ram(h, RAM_A), "ok", 2);
}


static void rx_into_a_buffer(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 5);
    wr(h, U0 + INTENSET, 1u << 4);              /* ENDRX */
    wr(h, U0 + STARTRX, 1);
    assert_int_equal(ev(h, EV_RXSTARTED), 1);
    vtime_t t0 = now(h);
    peer_send(f, "hello", 5);
    run_to(h, t0 + BYTE_1M - 1);
    assert_int_equal(ev(h, EV_RXDRDY), 0);
    run_to(h, t0 + BYTE_1M);
    assert_int_equal(ev(h, EV_RXDRDY), 1);
    assert_int_equal(ram(h, RAM_A)[0], 'h');
    run_to(h, t0 + 5 * BYTE_1M - 1);
    assert_int_equal(ev(h, EV_ENDRX), 0);
    run_to(h, t0 + 5 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_true(irq(h, 2));
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), 5);
    assert_memory_equal(ram(h, RAM_A), "hello", 5);
    assert_int_equal(rd(h, U0 + ERRORSRC), 0);
}

/* A firmware's RX interrupt in miniature: on ENDRX take the buffer that
 * ended, on RXSTARTED queue the other one (§4.2 double buffering). */
struct rx_driver {
    uint32_t bufs[2];
    unsigned filling;       /* index of the buffer being filled */
    uint8_t out[256];
    size_t got;
};

static void rx_driver_service(struct harness *h, struct rx_driver *d)
{
    if (ev(h, EV_ENDRX)) {
        clear(h, EV_ENDRX);
        uint32_t n = rd(h, U0 + RXD_AMOUNT);
        memcpy(d->out + d->got, ram(h, d->bufs[d->filling]), n);
        d->got += n;
        d->filling ^= 1;
    }
    if (ev(h, EV_RXSTARTED)) {
        clear(h, EV_RXSTARTED);
        wr(h, U0 + RXD_PTR, d->bufs[d->filling ^ 1]);   /* the next one */
    }
}

static void double_buffering_loses_nothing_at_1m(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    struct rx_driver d = { .bufs = { RAM_A, RAM_B } };
    uint8_t msg[100];
    for (unsigned i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    enable(h, BAUD_1M);
    wr(h, U0 + SHORTS, 1u << 5);                /* ENDRX_STARTRX */
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 8);
    wr(h, U0 + STARTRX, 1);
    rx_driver_service(h, &d);                   /* queues B after RXSTARTED */
    assert_int_equal(rd(h, U0 + RXD_PTR), RAM_B);
    peer_send(f, msg, sizeof msg);
    /* the "interrupt" runs every 3 us, well within a buffer time (80 us) */
    for (vtime_t t = 0; t < SOC_US(200) + sizeof msg * BYTE_1M; t += SOC_US(3)) {
        run_for(h, SOC_US(3));
        rx_driver_service(h, &d);
    }
    assert_int_equal(d.got, 96);                /* 12 full buffers; 4 bytes in the 13th */
    assert_memory_equal(d.out, msg, 96);
    assert_memory_equal(ram(h, d.bufs[d.filling]), msg + 96, 4);
    assert_int_equal(rd(h, U0 + ERRORSRC), 0);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.rx_bytes, 100);
    assert_int_equal(st.rx_overruns, 0);
}

static void stoprx_ends_a_partial_buffer_then_rxto(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 10);
    wr(h, U0 + STARTRX, 1);
    peer_send(f, "abc", 3);
    run_for(h, 3 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDRX), 0);
    wr(h, U0 + STOPRX, 1);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_int_equal(ev(h, EV_RXTO), 1);
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), 3);
    assert_memory_equal(ram(h, RAM_A), "abc", 3);
    assert_string_equal(harness_log(h), "");
}

static void flushrx_takes_the_fifo(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 10);
    wr(h, U0 + STARTRX, 1);
    wr(h, U0 + STOPRX, 1);
    assert_int_equal(ev(h, EV_RXTO), 1);
    /* bytes after RXTO wait in the FIFO */
    peer_send(f, "xyz", 3);
    run_for(h, 3 * BYTE_1M);
    assert_int_equal(ev(h, EV_RXDRDY), 1);
    clear(h, EV_ENDRX);
    clear(h, EV_RXSTARTED);
    wr(h, U0 + RXD_PTR, RAM_FL);
    wr(h, U0 + RXD_MAXCNT, 8);
    wr(h, U0 + FLUSHRX, 1);
    assert_int_equal(ev(h, EV_RXSTARTED), 1);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), 3);
    assert_memory_equal(ram(h, RAM_FL), "xyz", 3);
    /* the §4.2 anomaly: an empty FIFO gives ENDRX, no RXSTARTED, old AMOUNT */
    clear(h, EV_ENDRX);
    clear(h, EV_RXSTARTED);
    wr(h, U0 + FLUSHRX, 1);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_int_equal(ev(h, EV_RXSTARTED), 0);
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), 3);
}

static void overrun_when_no_buffer_is_armed(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + INTENSET, 1u << 9);              /* ERROR */
    peer_send(f, "ABCDEF", 6);
    run_for(h, 4 * BYTE_1M);
    assert_int_equal(ev(h, EV_ERROR), 0);       /* four fit in the FIFO */
    run_for(h, BYTE_1M);
    assert_int_equal(ev(h, EV_ERROR), 1);
    assert_true(irq(h, 2));
    assert_int_equal(rd(h, U0 + ERRORSRC), 1);  /* OVERRUN */
    run_for(h, BYTE_1M);
    wr(h, U0 + ERRORSRC, 1);                    /* W1C */
    assert_int_equal(rd(h, U0 + ERRORSRC), 0);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.rx_overruns, 2);
    /* the FIFO holds the first four; STARTRX moves them into the buffer */
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 4);
    wr(h, U0 + STARTRX, 1);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_memory_equal(ram(h, RAM_A), "ABCD", 4);
}

static void hwfc_pauses_the_line_instead_of_overrunning(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + PSEL_RTS, 17);
    wr(h, U0 + CONFIG, 1);                      /* HWFC */
    peer_send(f, "ABCDEF", 6);
    run_for(h, 10 * BYTE_1M);
    assert_int_equal(ev(h, EV_ERROR), 0);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 6);
    wr(h, U0 + STARTRX, 1);
    soc_poll_fds(h->soc, 0);                    /* RTS on: the backend is read again */
    run_for(h, 6 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_memory_equal(ram(h, RAM_A), "ABCDEF", 6);
}

/* Bytes the model has not read yet: still in the peer's socket. */
static int unread(struct fixture *f)
{
    int n = -1;
    assert_int_equal(ioctl(f->model_fd, FIONREAD, &n), 0);
    return n;
}

/* RTS off (no buffer latched): the backend is not read at all, so the
 * sender's bytes wait in its own buffer (a pty's kernel buffer), not in the
 * model; STARTRX turns RTS on and they all arrive, none overrun. */
static void hwfc_rts_off_leaves_input_in_the_backend(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enum { N = 6000 };
    static uint8_t data[N];
    for (unsigned i = 0; i < N; i++)
        data[i] = (uint8_t)(i * 13u + 1u);
    enable(h, BAUD_1M);
    wr(h, U0 + PSEL_RTS, 17);
    wr(h, U0 + CONFIG, 1);                      /* HWFC */
    peer_send(f, data, N);
    run_for(h, 100 * BYTE_1M);
    soc_poll_fds(h->soc, 0);
    assert_int_equal(unread(f), N);              /* not taken off the peer */
    assert_int_equal(ev(h, EV_ERROR), 0);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, N);
    wr(h, U0 + STARTRX, 1);
    for (int i = 0; i < 100 && !ev(h, EV_ENDRX); i++) {
        soc_poll_fds(h->soc, 0);
        run_for(h, 100 * BYTE_1M);
    }
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), N);
    assert_memory_equal(soc_ram(h->soc, RAM_A, N), data, N);
    assert_int_equal(ev(h, EV_ERROR), 0);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.rx_overruns, 0);
    assert_int_equal(st.rx_bytes, N);
}

/* Without HWFC the same sender is not held off: the model reads it, and a
 * receiver with no buffer overruns (the loss the firmware counts). */
static void no_hwfc_input_overruns(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    static uint8_t data[600];
    enable(h, BAUD_1M);
    peer_send(f, data, sizeof data);
    run_for(h, 700 * BYTE_1M);
    assert_int_equal(unread(f), 0);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.rx_overruns, sizeof data - 4);
}

/* Fills the peer's receive buffer from the model's side: the backend's next
 * write returns EAGAIN, as a pty's does when nobody reads it. */
static size_t fill_peer(struct fixture *f)
{
    static uint8_t junk[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = write(f->model_fd, junk, sizeof junk);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    assert_int_equal(errno, EAGAIN);
    return total;
}

static void drain_peer(struct fixture *f, size_t n)
{
    static uint8_t sink[4096];
    while (n > 0) {
        ssize_t r = read(f->peer, sink, n < sizeof sink ? n : sizeof sink);
        assert_true(r > 0);
        n -= (size_t)r;
    }
}

/* CTS: a backend that cannot take a byte holds TX (NCTS) instead of
 * dropping; once it can, CTS and the rest go out, in order. */
static void hwfc_tx_waits_for_cts(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + PSEL_RTS, 17);
    wr(h, U0 + PSEL_CTS, 22);
    wr(h, U0 + CONFIG, 1);                      /* HWFC */
    wr(h, U0 + INTENSET, 3u);                   /* CTS, NCTS */
    size_t filler = fill_peer(f);
    put_ram(h, RAM_TX, "xyz", 3);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 3);
    wr(h, U0 + STARTTX, 1);
    run_for(h, SOC_MS(5));
    assert_int_equal(ev(h, EV_NCTS), 1);
    assert_true(irq(h, 2));
    assert_int_equal(ev(h, EV_CTS), 0);
    assert_int_equal(ev(h, EV_TXDRDY), 0);      /* the first byte waits before its start bit */
    assert_int_equal(ev(h, EV_ENDTX), 0);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.tx_dropped, 0);
    assert_true(st.tx_cts_waits >= 1);
    assert_int_equal(st.tx_bytes, 0);

    drain_peer(f, filler);
    run_for(h, SOC_MS(1) + 3 * BYTE_1M);
    assert_int_equal(ev(h, EV_CTS), 1);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 3);
    uint8_t got[8];
    assert_int_equal(peer_recv(f, got, sizeof got), 3);
    assert_memory_equal(got, "xyz", 3);
}

/* STOPTX while a byte waits for CTS: it is not sent, ENDTX counts only
 * what went out, TXSTOPPED follows. Without HWFC the bytes are dropped. */
static void stoptx_while_waiting_for_cts_and_no_hwfc_drops(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + PSEL_CTS, 22);
    wr(h, U0 + CONFIG, 1);
    size_t filler = fill_peer(f);
    put_ram(h, RAM_TX, "ab", 2);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 2);
    wr(h, U0 + STARTTX, 1);
    run_for(h, SOC_MS(1));
    wr(h, U0 + STOPTX, 1);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(ev(h, EV_TXSTOPPED), 1);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 0);

    clear(h, EV_ENDTX);
    wr(h, U0 + CONFIG, 0);                      /* no flow control: the line does not wait */
    wr(h, U0 + STARTTX, 1);
    run_for(h, 2 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 2);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.tx_dropped, 2);
    drain_peer(f, filler);
}

/* RTS goes off (ENDRX, no short) while bytes are on their way: up to 4
 * more arrive and wait in the FIFO; the fifth is held back, not overrun. */
static void hwfc_rts_off_mid_stream_keeps_four_in_the_fifo(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + PSEL_RTS, 17);
    wr(h, U0 + CONFIG, 1);
    wr(h, U0 + RXD_PTR, RAM_A);
    wr(h, U0 + RXD_MAXCNT, 2);
    wr(h, U0 + STARTRX, 1);
    peer_send(f, "0123456789", 10);
    run_for(h, 20 * BYTE_1M);
    assert_int_equal(ev(h, EV_ENDRX), 1);
    assert_int_equal(ev(h, EV_ERROR), 0);
    assert_memory_equal(ram(h, RAM_A), "01", 2);
    wr(h, U0 + RXD_PTR, RAM_B);
    wr(h, U0 + RXD_MAXCNT, 8);
    wr(h, U0 + STARTRX, 1);
    soc_poll_fds(h->soc, 0);
    run_for(h, 10 * BYTE_1M);
    assert_int_equal(rd(h, U0 + RXD_AMOUNT), 8);
    assert_memory_equal(ram(h, RAM_B), "23456789", 8);
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.rx_overruns, 0);
}

static void disabled_uarte_ignores_tasks_and_loses_bytes(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    wr(h, U0 + STARTTX, 1);
    assert_int_equal(ev(h, EV_TXSTARTED), 0);
    assert_true(log_has(h, "while ENABLE is 0, not 8"));
    peer_send(f, "zz", 2);
    run_for(h, SOC_MS(1));
    struct nrf52840_uart_stats st;
    uarte_stats(f->u, &st);
    assert_int_equal(st.rx_lost_disabled, 2);
    wr(h, U0 + ENABLE, 4);                      /* legacy UART: not modelled */
    assert_true(log_has(h, "unmodelled write of 0x40002500"));
}

static void odd_baudrate_is_reported_and_used(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, 0x00800001u);                     /* about 31250 baud, not a table value */
    assert_true(log_has(h, "BAUDRATE 0x00800001 is not in the table"));
    put_ram(h, RAM_TX, "a", 1);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 1);
    vtime_t t0 = now(h);
    wr(h, U0 + STARTTX, 1);
    run_to(h, t0 + 10 * SOC_HZ / 31250 - 1);
    assert_int_equal(ev(h, EV_ENDTX), 0);
    run_to(h, t0 + 10 * SOC_HZ / 31250);
    assert_int_equal(ev(h, EV_ENDTX), 1);
    /* 0 must not crash anything */
    wr(h, U0 + BAUDRATE, 0);
    wr(h, U0 + STARTTX, 1);
    run_for(h, 20 * SOC_HZ);
    assert_int_equal(rd(h, U0 + TXD_AMOUNT), 1);
}

static void parity_and_two_stop_bits_lengthen_bytes(void **state)
{
    struct fixture *f = *state;
    struct harness *h = f->h;
    enable(h, BAUD_1M);
    wr(h, U0 + CONFIG, (7u << 1) | (1u << 4));  /* parity included, two stop bits */
    put_ram(h, RAM_TX, "ab", 2);
    wr(h, U0 + TXD_PTR, RAM_TX);
    wr(h, U0 + TXD_MAXCNT, 2);
    vtime_t t0 = now(h);
    wr(h, U0 + STARTTX, 1);
    run_to(h, t0 + 2 * 768 - 1);                /* 12 bits = 768 cycles */
    assert_int_equal(ev(h, EV_ENDTX), 0);
    run_to(h, t0 + 2 * 768);
    assert_int_equal(ev(h, EV_ENDTX), 1);
}

/* ---- the real pseudo-terminal --------------------------------------------- */

static void pty_exchanges_bytes(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    struct uarte_backend b = { .kind = UARTE_BACKEND_PTY };
    struct periph *u = uarte_new(h->soc, 1, &b);
    const char *path = uarte_path(u);
    assert_true(strncmp(path, "/dev/pts/", 9) == 0);
    assert_true(log_has(h, "UARTE1 on /dev/pts/"));

    int client = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    assert_true(client >= 0);
    struct termios t;
    assert_int_equal(tcgetattr(client, &t), 0);
    cfmakeraw(&t);
    assert_int_equal(tcsetattr(client, TCSANOW, &t), 0);

    wr(h, U1 + BAUDRATE, BAUD_1M);
    wr(h, U1 + ENABLE, 8);
    memcpy(soc_ram(h->soc, RAM_TX, 3), "hi\n", 3);
    wr(h, U1 + TXD_PTR, RAM_TX);
    wr(h, U1 + TXD_MAXCNT, 3);
    wr(h, U1 + STARTTX, 1);
    run_for(h, 3 * BYTE_1M);
    assert_int_equal(rd(h, U1 + EV_ENDTX), 1);
    uint8_t got[8];
    size_t n = 0;
    for (int tries = 0; tries < 100 && n < 3; tries++) {
        struct pollfd pfd = { .fd = client, .events = POLLIN };
        poll(&pfd, 1, 20);
        ssize_t r = read(client, got + n, sizeof got - n);
        if (r > 0)
            n += (size_t)r;
    }
    assert_int_equal(n, 3);
    assert_memory_equal(got, "hi\n", 3);

    wr(h, U1 + RXD_PTR, RAM_A);
    wr(h, U1 + RXD_MAXCNT, 2);
    wr(h, U1 + STARTRX, 1);
    assert_int_equal(write(client, "yo", 2), 2);
    for (int tries = 0; tries < 100 && !rd(h, U1 + EV_ENDRX); tries++) {
        soc_poll_fds(h->soc, 20);
        run_for(h, 2 * BYTE_1M);
    }
    assert_int_equal(rd(h, U1 + EV_ENDRX), 1);
    assert_memory_equal(soc_ram(h->soc, RAM_A, 2), "yo", 2);

    close(client);
    /* without a client the pty still takes output (our slave fd keeps it open) */
    wr(h, U1 + STARTTX, 1);
    run_for(h, 3 * BYTE_1M);
    assert_int_equal(rd(h, U1 + TXD_AMOUNT), 3);
    uarte_free(u);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tx_timing_115200, setup, teardown),
        cmocka_unit_test_setup_teardown(tx_timing_1m_and_txstopped, setup, teardown),
        cmocka_unit_test_setup_teardown(stoptx_mid_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(maxcnt_0_with_null_pointer_is_legal_and_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(dma_pointer_outside_ram_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(rx_into_a_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_length_rx_with_restart_short_does_not_spin, setup, teardown),
        cmocka_unit_test_setup_teardown(double_buffering_loses_nothing_at_1m, setup, teardown),
        cmocka_unit_test_setup_teardown(stoprx_ends_a_partial_buffer_then_rxto, setup, teardown),
        cmocka_unit_test_setup_teardown(flushrx_takes_the_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(overrun_when_no_buffer_is_armed, setup, teardown),
        cmocka_unit_test_setup_teardown(hwfc_pauses_the_line_instead_of_overrunning, setup, teardown),
        cmocka_unit_test_setup_teardown(hwfc_rts_off_leaves_input_in_the_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(no_hwfc_input_overruns, setup, teardown),
        cmocka_unit_test_setup_teardown(hwfc_rts_off_mid_stream_keeps_four_in_the_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(hwfc_tx_waits_for_cts, setup, teardown),
        cmocka_unit_test_setup_teardown(stoptx_while_waiting_for_cts_and_no_hwfc_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(disabled_uarte_ignores_tasks_and_loses_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(odd_baudrate_is_reported_and_used, setup, teardown),
        cmocka_unit_test_setup_teardown(parity_and_two_stop_bits_lengthen_bytes, setup, teardown),
        cmocka_unit_test(pty_exchanges_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
