/* The virtual bench through libftdi1 itself (run under `hilda-emu run`):
 * the FT232R HILDAEMU0 in bit-bang mode holds the dongle in reset with D0
 * (it disconnects, and comes back under a new device number when D0 is let
 * go), unplugs it with D1 low and plugs it back with D1 high; read_pins
 * follows; two requests the model does not implement fail at once with a
 * STALL instead of hanging. Prints one line per check; exit 0 if all pass.
 *
 * `ftdi_bench dfu` (hilda's boot loader and the application flashed, the
 * application running): a D0 pulse is a pin reset the boot loader sees as
 * RESETREAS.RESETPIN (it stays in DFU mode, 1209:0002), a D1 power cycle
 * starts the application again (1209:0001). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ftdi.h>
#include <libusb.h>

#define DONGLE_VID 0x1209
#define DONGLE_PID_APP 0x0001
#define DONGLE_PID_DFU 0x0002
#define D0 0x01
#define D1 0x02
#define WAIT_MS 10000
#define SIO_WRITE_EEPROM 0x91           /* not modelled: the virtual EEPROM is read-only */
#define SIO_READ_EEPROM 0x90
#define VENDOR_OUT 0x40

static int failures;

static void check(bool ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "FAILED", what);
    if (!ok)
        failures++;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint16_t dongle_pid = DONGLE_PID_APP;

/* The dongle's device number on bus 1 (as dongle_pid), 0 if it is not there. */
static int dongle_devnum(libusb_context *ctx)
{
    libusb_device **list;
    ssize_t n = libusb_get_device_list(ctx, &list);
    int found = 0;
    for (ssize_t i = 0; i < n; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) == 0 && d.idVendor == DONGLE_VID &&
            d.idProduct == dongle_pid)
            found = libusb_get_device_address(list[i]);
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    return found;
}

/* Waits until the dongle is absent (want_present false) or present under a
 * number other than `not` (want_present true). Its number, or 0. */
static int wait_dongle(libusb_context *ctx, bool want_present, int not)
{
    double end = now_ms() + WAIT_MS;
    for (;;) {
        int n = dongle_devnum(ctx);
        if (want_present ? (n != 0 && n != not) : n == 0)
            return n;
        if (now_ms() > end)
            return want_present ? 0 : n;
        usleep(20000);
    }
}

static int read_pins(struct ftdi_context *f)
{
    unsigned char pins = 0;
    return ftdi_read_pins(f, &pins) == 0 ? pins : -1;
}

static struct ftdi_context *open_adapter(void)
{
    struct ftdi_context *f = ftdi_new();
    int r = ftdi_usb_open_desc(f, 0x0403, 0x6001, NULL, "HILDAEMU0");
    check(r == 0, "ftdi_usb_open_desc 0403:6001 serial HILDAEMU0");
    if (r != 0) {
        printf("  %s\n", ftdi_get_error_string(f));
        exit(1);
    }
    return f;
}

/* A pin out low for ms, then an input again (the contract's open drain). */
static void pulse(struct ftdi_context *f, unsigned char pin, unsigned ms)
{
    unsigned char low = 0x00;
    check(ftdi_set_bitmode(f, pin, BITMODE_BITBANG) == 0 && ftdi_write_data(f, &low, 1) == 1, "pin driven low");
    usleep(ms * 1000);
    check(ftdi_set_bitmode(f, 0x00, BITMODE_BITBANG) == 0, "pin an input again");
}

static int dfu_mode(libusb_context *ctx)
{
    dongle_pid = DONGLE_PID_APP;
    check(wait_dongle(ctx, true, 0) != 0, "the application runs (1209:0001)");
    struct ftdi_context *f = open_adapter();
    pulse(f, D0, 50);
    dongle_pid = DONGLE_PID_DFU;
    check(wait_dongle(ctx, true, 0) != 0, "after a D0 pulse: DFU mode (1209:0002), the boot loader saw RESETPIN");
    pulse(f, D1, 200);
    dongle_pid = DONGLE_PID_APP;
    check(wait_dongle(ctx, true, 0) != 0, "after a D1 power cycle: the application again (1209:0001)");
    ftdi_usb_close(f);
    ftdi_free(f);
    libusb_exit(ctx);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    libusb_context *ctx;
    if (libusb_init(&ctx) != 0) {
        printf("FAILED - libusb_init\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "dfu") == 0)
        return dfu_mode(ctx);
    int first = wait_dongle(ctx, true, 0);
    check(first != 0, "the dongle is there (1209:0001)");

    struct ftdi_context *f = open_adapter();
    int r;
    check(f->type == TYPE_R, "libftdi sees an FT232R (bcdDevice 0x0600)");
    check(read_pins(f) == 0xFF, "serial mode: every pin reads high");

    /* reset: D0 an output driving 0, then an input */
    unsigned char low = 0x00;
    check(ftdi_set_bitmode(f, D0, BITMODE_BITBANG) == 0, "bit-bang, D0 an output");
    check(ftdi_write_data(f, &low, 1) == 1, "write 0x00");
    check(read_pins(f) == 0xFE, "read_pins: D0 low (0xFE)");
    check(wait_dongle(ctx, false, 0) == 0, "D0 low: the dongle is held in reset (gone from the bus)");
    usleep(50000);
    check(ftdi_set_bitmode(f, 0x00, BITMODE_BITBANG) == 0, "D0 an input (released)");
    check(read_pins(f) == 0xFF, "read_pins: D0 high again (pulled up)");
    int second = wait_dongle(ctx, true, first);
    printf("  device %d, then %d\n", first, second);
    check(second != 0 && second != first, "the dongle is back under a new device number");

    /* power: D1 low unplugs, high plugs back */
    unsigned char off = 0x00, on = D1;
    check(ftdi_set_bitmode(f, D1, BITMODE_BITBANG) == 0, "bit-bang, D1 an output");
    check(ftdi_write_data(f, &off, 1) == 1, "write D1 low");
    check(read_pins(f) == 0xFD, "read_pins: D1 low (0xFD)");
    check(wait_dongle(ctx, false, 0) == 0, "D1 low: the dongle is unplugged");
    check(ftdi_write_data(f, &on, 1) == 1, "write D1 high");
    check(read_pins(f) == 0xFF, "read_pins: D1 high");
    int third = wait_dongle(ctx, true, second);
    check(third != 0 && third != second, "D1 high: the dongle is plugged in again");
    check(ftdi_set_bitmode(f, 0x00, BITMODE_RESET) == 0, "back to serial mode");

    /* what the model does not implement: a STALL at once, not a hang */
    double t0 = now_ms();
    r = ftdi_set_bitmode(f, 0xFF, BITMODE_MPSSE);
    check(r < 0 && now_ms() - t0 < 1000, "SET_BITMODE MPSSE (not on this model): an error at once");
    t0 = now_ms();
    r = libusb_control_transfer(f->usb_dev, VENDOR_OUT, SIO_WRITE_EEPROM, 0x1234, 0, NULL, 0, 5000);
    check(r == LIBUSB_ERROR_PIPE && now_ms() - t0 < 1000, "SIO_WRITE_EEPROM: a STALL at once");
    unsigned short word = 0xFFFF;
    check(ftdi_read_eeprom_location(f, 0, &word) == 0 && word == 0, "SIO_READ_EEPROM: a blank EEPROM (0)");
    check(read_pins(f) == 0xFF, "the adapter still answers");

    ftdi_usb_close(f);
    ftdi_free(f);
    libusb_exit(ctx);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
