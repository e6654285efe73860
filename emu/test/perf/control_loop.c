/* A fixed, deterministic workload on the project firmware's USB control
 * path, for profiling and for the benchmark suite (emu/test/perf/meson.build):
 * the emulated dongle (no bridge, no pty, virtual time not paced by the wall
 * clock) enumerates far enough for EP0 (bus reset), then answers N
 * synchronous GET_DESCRIPTOR(device) control transfers submitted to the
 * USBD model's host side, with the DMA sanitizer as asked.
 *
 * usage: control_loop FIRMWARE TRANSFERS [off|warn|error]
 * Prints one line: "N transfers, I instructions, X interrupts, S slices,
 * D dma, F tlb flushes, V us virtual, E s executing, unicorn A.B.C" counted
 * over the transfer loop only (F: the sanitizer's watch flushing Unicorn
 * 2.1's TLB for a newly watched page, 0 once EP0's buffer page is watched;
 * E: host time inside Unicorn, as hilda-emu's summary counts it). Exit 1 on any
 * error (no connection, a transfer that fails or returns a wrong
 * descriptor, a fault, a sanitizer report in error mode).
 *
 * The loop runs inside run_transfers(), so callgrind can count just it:
 *   valgrind --tool=callgrind --toggle-collect=run_transfers ... */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "dongle.h"
#include "hilda/protocol.h"
#include "hilda/usb.h"
#include "machine.h"
#include "sanitizer.h"
#include "usbd_host.h"

struct done_flag {
    struct machine *m;
    int done;
};

static void on_done(struct usb_xfer *x, void *ctx)
{
    (void)x;
    struct done_flag *f = ctx;
    f->done = 1;
    machine_request_stop(f->m);
}

/* Runs until the flag is set or `ms` of virtual time pass; 0 if set. */
static int run_until_done(struct machine *m, struct done_flag *f, unsigned ms)
{
    struct soc *soc = machine_soc(m);
    vtime_t limit = soc_now(soc) + SOC_MS(ms);
    while (!f->done && soc_now(soc) < limit) {
        enum run_status st = machine_run(m, limit);
        if (st == RUN_FAULT || st == RUN_IDLE)
            return -1;
    }
    return f->done ? 0 : -1;
}

static int one_transfer(struct machine *m, struct periph *usbd, uint8_t *buf, uint16_t len)
{
    struct usb_setup s = { USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, len };
    struct done_flag f = { m, 0 };
    struct usb_xfer x = { .ep = 0, .type = USB_XFER_CONTROL_BULK, .buf = buf, .len = len, .done = on_done, .ctx = &f };
    usb_setup_encode(&s, x.setup);
    if (!usbd_host_submit(usbd, &x) || run_until_done(m, &f, 100) != 0)
        return -1;
    if (x.status != USB_XFER_OK || x.actual != len || buf[1] != USB_DT_DEVICE ||
        usb_get_le16(buf + 8) != HILDA_USB_VID || usb_get_le16(buf + 10) != HILDA_USB_PID)
        return -1;
    return 0;
}

/* Not inlined: callgrind's --toggle-collect names it. */
__attribute__((noinline)) static long run_transfers(struct machine *m, struct periph *usbd, long n)
{
    uint8_t d[18];
    for (long i = 0; i < n; i++) {
        if (one_transfer(m, usbd, d, sizeof d) != 0)
            return i;
    }
    return n;
}

int main(int argc, char **argv)
{
    enum sanitize_mode mode = SANITIZE_ERROR;
    if (argc < 3 || (argc > 3 && sanitize_mode_parse(argv[3], &mode) != 0)) {
        fprintf(stderr, "usage: control_loop FIRMWARE TRANSFERS [off|warn|error]\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct dongle_options o = { .firmware = { argv[1] }, .uart_mode = "none" };
    struct dongle *board = dongle_new(&o);
    if (!board)
        return 1;
    struct machine *m = dongle_machine(board);
    struct sanitizer *san = sanitizer_new(m, mode);
    struct periph *usbd = nrf52840_usbd(dongle_chip(board));
    struct soc *soc = dongle_soc(board);

    /* the firmware starts and pulls D+ up; then a bus reset (10 ms SE0) and
     * a first transfer to warm the translation cache */
    for (int ms = 0; ms < 3000 && !usbd_host_connected(usbd); ms++)
        if (machine_run(m, soc_now(soc) + SOC_MS(1)) == RUN_FAULT)
            break;
    int status = 1;
    uint8_t d[18];
    if (!usbd_host_connected(usbd)) {
        fprintf(stderr, "control_loop: the firmware never connected\n");
        goto out;
    }
    usbd_host_bus_reset(usbd);
    machine_run(m, soc_now(soc) + SOC_MS(20));
    if (one_transfer(m, usbd, d, sizeof d) != 0) {
        fprintf(stderr, "control_loop: the first GET_DESCRIPTOR failed\n");
        goto out;
    }

    struct machine_stats a, b;
    machine_stats(m, &a);
    vtime_t t0 = soc_now(soc);
    long done = run_transfers(m, usbd, n);
    machine_stats(m, &b);
    if (done != n) {
        fprintf(stderr, "control_loop: transfer %ld failed\n", done);
        goto out;
    }
    if (sanitizer_reports(san) && mode == SANITIZE_ERROR) {
        fprintf(stderr, "control_loop: sanitizer: %s\n", sanitizer_report(san, 0));
        goto out;
    }
    printf("%ld transfers, %" PRIu64 " instructions, %" PRIu64 " interrupts, %" PRIu64 " slices, %" PRIu64
           " dma, %" PRIu64 " tlb flushes, %" PRIu64 " us virtual, %.4f s executing, unicorn %s\n",
           n, b.instructions - a.instructions, b.interrupts - a.interrupts, b.slices - a.slices,
           b.dma_transfers - a.dma_transfers, b.tlb_flushes - a.tlb_flushes, (uint64_t)((soc_now(soc) - t0) / SOC_CYCLES_PER_US),
           (double)(b.cpu_ns - a.cpu_ns) / 1e9, machine_unicorn_version());
    status = 0;
out:
    sanitizer_free(san);
    dongle_free(board);
    return status;
}
