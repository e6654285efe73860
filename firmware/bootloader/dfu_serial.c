/* One OUT packet at a time is drained into `rx` and fed to the SLIP decoder;
 * each whole request is answered at once, into the `tx` queue. A request is
 * decoded only while the queue has room for the largest response, so the
 * host that does not read its answers is held back by NAKs on EP1 OUT, never
 * by a dropped response. All of it runs in the USBD interrupt. */
#include "dfu_serial.h"

#include "dma.h"
#include "hilda/bootloader.h"
#include "hilda/dfu.h"
#include "secure_dfu.h"
#include "slip.h"
#include "usbd.h"

#define RESPONSE_SLIP_MAX (2 * DFU_RESPONSE_MAX + 1)
#define TX_QUEUE 256u

DMA_BUFFER static uint8_t rx[USB_FS_BULK_MAX_PACKET];
DMA_BUFFER static uint8_t tx_packet[USB_FS_BULK_MAX_PACKET];

static struct {
    uint16_t len, pos;            /* the drained OUT packet, and how far it was fed */
    bool dtr;
    struct slip_decoder slip;
    uint8_t request[DFU_MTU];     /* a whole MTU, however the host escapes */
} in;

static struct {
    uint8_t queue[TX_QUEUE];
    uint16_t head, len;
    bool zlp_due;                 /* the last packet was full: end the transfer with a ZLP */
} out;

static void (*update_done)(void);
static bool finished;

static void enqueue(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out.queue[(out.head + out.len++) % TX_QUEUE] = p[i];
}

static void answer(void)
{
    uint8_t resp[DFU_RESPONSE_MAX], encoded[RESPONSE_SLIP_MAX];
    size_t n = dfu_request(in.slip.buf, in.slip.len, resp);
    if (n) {
        size_t e = slip_encode(resp, n, encoded, sizeof encoded);
        enqueue(encoded, e);
    }
    if (dfu_update_done())
        finished = true;
}

static void feed(void)
{
    while (in.pos < in.len && TX_QUEUE - out.len >= RESPONSE_SLIP_MAX && !finished) {
        enum slip_event ev = slip_decoder_feed(&in.slip, rx[in.pos++]);
        if (ev == SLIP_PACKET)
            answer();
        if (ev != SLIP_MORE)
            slip_decoder_next(&in.slip);
    }
}

static void send(void)
{
    if (usbd_ep_in_busy(HILDA_BOOTLOADER_EP_IN))
        return;
    uint16_t n = out.len < USB_FS_BULK_MAX_PACKET ? out.len : USB_FS_BULK_MAX_PACKET;
    // cppcheck-suppress knownConditionTrueFalse ; out is global state: n is 0 when nothing is queued
    if (n == 0 && !out.zlp_due)
        return;
    // cppcheck-suppress knownConditionTrueFalse ; the same: n comes from global state
    for (uint16_t i = 0; i < n; i++)
        tx_packet[i] = out.queue[(out.head + i) % TX_QUEUE];
    if (!usbd_ep_write(HILDA_BOOTLOADER_EP_IN, tx_packet, n))
        return;
    out.head = (uint16_t)((out.head + n) % TX_QUEUE);
    out.len = (uint16_t)(out.len - n);
    out.zlp_due = n == USB_FS_BULK_MAX_PACKET && out.len == 0;
}

static void pump(void)
{
    for (;;) {
        feed();
        send();
        if (in.pos < in.len || !in.dtr || finished || !usbd_ep_out_waiting(HILDA_BOOTLOADER_EP_OUT))
            break;
        int got = usbd_ep_read(HILDA_BOOTLOADER_EP_OUT, rx, sizeof rx);
        in.len = got > 0 ? (uint16_t)got : 0;
        in.pos = 0;
    }
    if (finished && out.len == 0 && !out.zlp_due && !usbd_ep_in_busy(HILDA_BOOTLOADER_EP_IN) && update_done) {
        void (*done)(void) = update_done;
        update_done = 0;
        done();
    }
}

void dfu_serial_init(void (*on_done)(void))
{
    update_done = on_done;
    slip_decoder_init(&in.slip, in.request, sizeof in.request);
}

void dfu_serial_endpoint_event(uint8_t ep_addr)
{
    (void)ep_addr;
    pump();
}

/* A new session (DTR raised again, or a new configuration) starts with an
 * empty decoder and queue: half a request from before means nothing now. */
void dfu_serial_dtr(bool dtr)
{
    in.dtr = dtr;
    if (!dtr) {
        in.len = in.pos = 0;
        out.len = 0;
        out.zlp_due = false;
        slip_decoder_next(&in.slip);
        return;
    }
    pump();
}
