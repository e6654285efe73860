/* Benchmark: synchronous GET_DESCRIPTOR(device) transfers per second through
 * libusb-1.0, against whatever 1209:0001 the process can see (run it under
 * `hilda-emu run`). usage: bench_control [SECONDS]   (default 5)
 * Prints one line: "N transfers in S s: R per second". Exit 1 on any error. */
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hilda/protocol.h"
#include "hilda/usb.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    libusb_context *ctx;
    if (libusb_init(&ctx)) {
        fprintf(stderr, "bench_control: libusb_init failed\n");
        return 1;
    }
    libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, HILDA_USB_VID, HILDA_USB_PID);
    if (!h) {
        fprintf(stderr, "bench_control: no %04x:%04x device\n", HILDA_USB_VID, HILDA_USB_PID);
        return 1;
    }
    unsigned char d[18];
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 100; i++, n++) {
            int r = libusb_control_transfer(h, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, d,
                                            sizeof d, 1000);
            if (r != (int)sizeof d || d[1] != 1) {
                fprintf(stderr, "bench_control: transfer %ld: %s\n", n, r < 0 ? libusb_strerror(r) : "short");
                return 1;
            }
        }
        t = now() - t0;
    } while (t < seconds);
    printf("%ld transfers in %.2f s: %.0f per second\n", n, t, (double)n / t);
    libusb_close(h);
    libusb_exit(ctx);
    return 0;
}
