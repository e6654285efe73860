/* The usbfs node of the emulated dongle, driven with raw ioctls and libusb
 * by well-behaved and misbehaving clients: argument checks answered like
 * Linux's devio.c, asynchronous URBs (discard, reap order), synchronous
 * CONTROL/BULK with timeouts, claims, and clients that pass bad pointers,
 * die in the middle of a transfer or run at the same time, and the shared
 * area between the clients' preload and the bridge (usbfs_inline.h): its
 * slots running out, threads and a forked child sharing it, a killed
 * client's area let go, and the same checks once more without the preload
 * (the plain path). Run it under `hilda-emu run`; it prints one line per
 * check and exits 1 if any failed. The emulator must come through all of
 * it answering. */
#include <errno.h>
#include <fcntl.h>
#include <libusb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/usbdevice_fs.h>

#include "hilda/protocol.h"
#include "hilda/usb.h"

/* SETUP packets in wire order, as usbfs takes them at the head of a control
 * URB's buffer: GET_STATUS(device) with wLength 2. */
#define SETUP_GET_STATUS USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, 0, 0, 2, 0

static int failures;
static char node[64];

static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok" : "FAILED");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!ok)
        failures++;
}

/* ioctl result as -errno or the value */
static int io(int fd, unsigned long req, void *arg)
{
    int r = ioctl(fd, req, arg);
    return r < 0 ? -errno : r;
}

static int open_node(void)
{
    int fd = open(node, O_RDWR);
    if (fd < 0) {
        printf("FAILED - open %s: %s\n", node, strerror(errno));
        exit(1);
    }
    return fd;
}

static int control(int fd, uint8_t type, uint8_t req, uint16_t value, uint16_t index, void *data, uint16_t len,
                   unsigned timeout)
{
    struct usbdevfs_ctrltransfer ct = { type, req, value, index, len, timeout, data };
    return io(fd, USBDEVFS_CONTROL, &ct);
}

static int get_status(int fd)
{
    uint8_t st[2] = { 0xFF, 0xFF };
    int r = control(fd, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, st, 2, 1000);
    return r == 2 && st[0] == 0 && st[1] == 0 ? 0 : (r < 0 ? r : -EPROTO);
}

static void fault_delay(int fd, unsigned ms)
{
    control(fd, HILDA_REQTYPE_OUT, HILDA_REQ_FAULT_DELAY, (uint16_t)ms, 0, NULL, 0, 1000);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Waits until the node is writable (a completed URB waits), as libusb does. */
static bool wait_reapable(int fd, int ms)
{
    struct pollfd p = { fd, POLLOUT, 0 };
    return poll(&p, 1, ms) == 1 && (p.revents & POLLOUT);
}

static void simple_ioctls(void)
{
    int fd = open_node();
    uint32_t caps = 0;
    check(io(fd, USBDEVFS_GET_CAPABILITIES, &caps) == 0 &&
          caps == (USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT),
          "GET_CAPABILITIES 0x%x", caps);
    struct usbdevfs_hub_portinfo hp;
    check(io(fd, USBDEVFS_HUB_PORTINFO, &hp) == -ENOTTY, "HUB_PORTINFO: ENOTTY");
    check(io(fd, _IO('U', 99), NULL) == -ENOTTY, "an unknown 'U' ioctl: ENOTTY");
    check(io(fd, _IOR('Z', 1, int), &caps) == -ENOTTY, "a foreign ioctl: ENOTTY");
    struct usbdevfs_getdriver gd = { .interface = 0 };
    check(io(fd, USBDEVFS_GETDRIVER, &gd) == -ENODATA, "GETDRIVER: ENODATA (no driver)");
    struct usbdevfs_ioctl di = { .ifno = 0, .ioctl_code = USBDEVFS_DISCONNECT };
    check(io(fd, USBDEVFS_IOCTL, &di) == -ENODATA, "IOCTL(DISCONNECT): ENODATA");
    di.ifno = 3;
    check(io(fd, USBDEVFS_IOCTL, &di) == -EINVAL, "IOCTL on interface 3: EINVAL");
    struct usbdevfs_connectinfo ci = { 0, 1 };
    unsigned devnum = (unsigned)atoi(node + strlen(node) - 3);
    int r = io(fd, USBDEVFS_CONNECTINFO, &ci);
    check(r == 0 && ci.devnum == devnum && ci.slow == 0, "CONNECTINFO devnum %u", ci.devnum);
    check(io(fd, USBDEVFS_GET_SPEED, NULL) == 2, "GET_SPEED: full speed");
    unsigned ifnum = 1;
    check(io(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) == -ENOENT, "CLAIMINTERFACE 1: ENOENT");
    ifnum = 40;
    check(io(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) == -EINVAL, "CLAIMINTERFACE 40: EINVAL");
    ifnum = 0;
    check(io(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) == 0, "CLAIMINTERFACE 0");
    int other = open_node();
    check(io(other, USBDEVFS_CLAIMINTERFACE, &ifnum) == -EBUSY, "CLAIMINTERFACE 0 from another file: EBUSY");
    int cfg = 1;
    check(io(fd, USBDEVFS_SETCONFIGURATION, &cfg) == -EBUSY, "SETCONFIGURATION while claimed: EBUSY");
    check(io(fd, USBDEVFS_RELEASEINTERFACE, &ifnum) == 0, "RELEASEINTERFACE 0");
    check(io(fd, USBDEVFS_RELEASEINTERFACE, &ifnum) == -EINVAL, "RELEASEINTERFACE 0 again: EINVAL");
    check(io(other, USBDEVFS_CLAIMINTERFACE, &ifnum) == 0, "CLAIMINTERFACE 0 once released");
    close(other);
    usleep(50000);                     /* the closed file's claims go with it */
    cfg = 7;
    check(io(fd, USBDEVFS_SETCONFIGURATION, &cfg) == -EINVAL, "SETCONFIGURATION 7: EINVAL");
    cfg = 1;
    check(io(fd, USBDEVFS_SETCONFIGURATION, &cfg) == 0, "SETCONFIGURATION 1");
    struct usbdevfs_setinterface si = { 0, 1 };
    check(io(fd, USBDEVFS_SETINTERFACE, &si) == -EINVAL, "SETINTERFACE 0/1: EINVAL");
    si.altsetting = 0;
    check(io(fd, USBDEVFS_SETINTERFACE, &si) == 0, "SETINTERFACE 0/0");
    unsigned ep = 0x85;
    check(io(fd, USBDEVFS_CLEAR_HALT, &ep) == -ENOENT, "CLEAR_HALT 0x85: ENOENT");
    ep = 0x81;
    check(io(fd, USBDEVFS_CLEAR_HALT, &ep) == 0, "CLEAR_HALT 0x81");
    void *p = NULL;
    check(io(fd, USBDEVFS_REAPURB, &p) == -EAGAIN, "REAPURB (blocking): EAGAIN");
    check(io(fd, USBDEVFS_REAPURBNDELAY, &p) == -EAGAIN, "REAPURBNDELAY with nothing: EAGAIN");
    check(io(fd, USBDEVFS_DISCARDURB, (void *)0x1234) == -EINVAL, "DISCARDURB of no URB: EINVAL");
    uint8_t d[64];
    ssize_t n = read(fd, d, sizeof d);
    (void)r;
    check(n == 50 && d[0] == 18 && d[1] == 1 && d[18] == 9 && d[19] == 2, "read(): the descriptors, %zd bytes", n);
    check(write(fd, d, 4) < 0 && errno == EINVAL, "write(): EINVAL");
    close(fd);
}

static int submit(int fd, struct usbdevfs_urb *u)
{
    return io(fd, USBDEVFS_SUBMITURB, u);
}

/* A closed file's claims go when the bridge has seen it close, a moment
 * later: waits (up to 2 s) until interface ifnum is free, and leaves it
 * claimed by fd. */
static bool claim_when_free(int fd, unsigned ifnum)
{
    for (int i = 0; i < 200; i++) {
        if (io(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) == 0)
            return true;
        usleep(10000);
    }
    return false;
}

static void bad_urbs(void)
{
    int fd = open_node();
    check(claim_when_free(fd, 0), "CLAIMINTERFACE 0 (once the last test's file let it go)");
    uint8_t buf[64] = { SETUP_GET_STATUS };
    struct usbdevfs_urb u = { .type = 9, .endpoint = 0x81, .buffer = buf, .buffer_length = 10 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB type 9 to 0x81: EINVAL");
    u.endpoint = 0;
    check(submit(fd, &u) == -ENOENT, "SUBMITURB type 9 to EP0: ENOENT (only a control URB skips findintfep)");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x85, .buffer = buf, .buffer_length = 8 };
    check(submit(fd, &u) == -ENOENT, "SUBMITURB bulk 0x85: ENOENT");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_ISO, .endpoint = 0x83, .buffer = buf, .buffer_length = 8 };
    check(submit(fd, &u) == -ENOENT, "SUBMITURB iso 0x83: ENOENT");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = buf, .buffer_length = 4 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB control with 4 bytes: EINVAL");
    uint8_t big[8] = { USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, 0, USB_DT_DEVICE, 0, 0, 100, 0 };
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = big, .buffer_length = 8 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB control wLength past the buffer: EINVAL");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = buf, .buffer_length = -1 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB buffer_length -1: EINVAL");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = buf,
                               .buffer_length = 1 << 30 };
    check(submit(fd, &u) == -ENOMEM, "SUBMITURB of 1 GiB: ENOMEM (nothing read)");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = NULL, .buffer_length = 10 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB NULL buffer: EINVAL");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .flags = 0x100, .buffer = buf, .buffer_length = 10 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB unknown flag: EINVAL");
    uint8_t cls[8] = { USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE, 0, 0, 0, 5, 0, 0, 0 };
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = cls, .buffer_length = 8 };
    check(submit(fd, &u) == -ENOENT, "SUBMITURB class request to interface 5: ENOENT");
    check(get_status(fd) == 0, "the device still answers");
    close(fd);
}

static void async_urbs(void)
{
    int fd = open_node();
    int r;
    /* three at once: reaped in completion order */
    uint8_t b[3][10];
    struct usbdevfs_urb u[3];
    for (int i = 0; i < 3; i++) {
        uint8_t setup[8] = { SETUP_GET_STATUS };
        memcpy(b[i], setup, 8);
        b[i][8] = b[i][9] = 0xEE;
        u[i] = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = b[i], .buffer_length = 10,
                                      .usercontext = (void *)(long)i };
        check(submit(fd, &u[i]) == 0, "SUBMITURB %d", i);
    }
    for (int i = 0; i < 3; i++) {
        struct usbdevfs_urb *got = NULL;
        bool ready = wait_reapable(fd, 2000);
        r = io(fd, USBDEVFS_REAPURBNDELAY, &got);
        check(ready && r == 0 && got == &u[i] && got->status == 0 && got->actual_length == 2 && b[i][8] == 0 &&
              b[i][9] == 0, "REAPURBNDELAY %d: status %d, %d bytes", i, got ? got->status : 99,
              got ? got->actual_length : -1);
    }
    struct usbdevfs_urb *none = NULL;
    check(io(fd, USBDEVFS_REAPURBNDELAY, &none) == -EAGAIN, "then nothing to reap");
    check(!wait_reapable(fd, 50), "and the node is not writable");

    /* discard one the device holds back */
    fault_delay(fd, 300);
    uint8_t db[10] = { SETUP_GET_STATUS };
    struct usbdevfs_urb du = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = db, .buffer_length = 10 };
    check(submit(fd, &du) == 0, "SUBMITURB held back by FAULT_DELAY");
    check(!wait_reapable(fd, 50), "not completed after 50 ms");
    check(io(fd, USBDEVFS_DISCARDURB, &du) == 0, "DISCARDURB");
    struct usbdevfs_urb *got = NULL;
    bool ready = wait_reapable(fd, 2000);
    r = io(fd, USBDEVFS_REAPURBNDELAY, &got);
    check(ready && r == 0 && got == &du && du.status == -ENOENT, "reaped with status -ENOENT (%d)", du.status);
    check(io(fd, USBDEVFS_DISCARDURB, &du) == -EINVAL, "DISCARDURB once reaped: EINVAL");
    bool done;
    check(get_status(fd) == 0, "the next request works");

    /* a stall is status -EPIPE */
    uint8_t sb[18] = { USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, 0, USB_DT_DEVICE_QUALIFIER, 0, 0, 10, 0 };
    struct usbdevfs_urb su = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = sb, .buffer_length = 18 };
    done = submit(fd, &su) == 0 && wait_reapable(fd, 2000) && io(fd, USBDEVFS_REAPURBNDELAY, &got) == 0;
    check(done && got == &su && su.status == -EPIPE, "DEVICE_QUALIFIER stalls: status -EPIPE (%d)", su.status);

    /* bulk with URB_ZERO_PACKET: 64 bytes, then the host sends a zero-length
     * packet (the capture shows it). What comes back is left alone: the
     * firmware loops back one packet at a time and the ZLP is a packet too. */
    uint8_t out[64], in[64];
    memset(out, 0x5A, sizeof out);
    struct usbdevfs_urb bo = { .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x01, .flags = USBDEVFS_URB_ZERO_PACKET,
                               .buffer = out, .buffer_length = 64 };
    done = submit(fd, &bo) == 0 && wait_reapable(fd, 2000) && io(fd, USBDEVFS_REAPURBNDELAY, &got) == 0;
    check(done && got == &bo && bo.status == 0 && bo.actual_length == 64, "bulk OUT 64 + ZLP: status %d, %d bytes",
          bo.status, bo.actual_length);
    for (int i = 0; i < 3; i++) {           /* drain what the firmware sends back */
        // cppcheck-suppress legacyUninitvar ; in is where the kernel writes the reply
        struct usbdevfs_bulktransfer bt = { 0x81, sizeof in, 100, in };
        if (io(fd, USBDEVFS_BULK, &bt) < 0)
            break;
    }
    /* an IN URB waiting for data, then discarded */
    struct usbdevfs_urb bi = { .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = in, .buffer_length = 64 };
    check(submit(fd, &bi) == 0 && !wait_reapable(fd, 50) && io(fd, USBDEVFS_DISCARDURB, &bi) == 0,
          "bulk IN with no data: pending, then discarded");
    done = wait_reapable(fd, 2000) && io(fd, USBDEVFS_REAPURBNDELAY, &got) == 0;
    check(done && got == &bi && bi.status == -ENOENT, "reaped with -ENOENT (%d)", bi.status);
    close(fd);
}

/* URBs that are never reaped cannot take more than usbfs's 16 MiB. */
static void memory_limit(void)
{
    int fd = open_node();
    check(claim_when_free(fd, 0), "CLAIMINTERFACE 0 (once the last test's file let it go)");
    enum { MAX_URBS = 40, SIZE = 1 << 20 };
    static struct usbdevfs_urb u[MAX_URBS];
    uint8_t *buf = calloc(1, SIZE);
    int n = 0, r = 0;
    while (n < MAX_URBS) {
        u[n] = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = buf,
                                      .buffer_length = SIZE };
        if ((r = submit(fd, &u[n])) != 0)
            break;
        n++;
    }
    check(r == -ENOMEM && n >= 10 && n <= 16, "1 MiB bulk IN URBs until ENOMEM: %d accepted", n);
    for (int i = 0; i < n; i++)
        io(fd, USBDEVFS_DISCARDURB, &u[i]);
    int reaped = 0;
    for (int i = 0; i < 200 && reaped < n; i++) {
        struct usbdevfs_urb *got;
        if (wait_reapable(fd, 100) && io(fd, USBDEVFS_REAPURBNDELAY, &got) == 0)
            reaped++;
    }
    check(reaped == n, "all %d discarded and reaped", reaped);
    u[0].buffer_length = SIZE;
    check(submit(fd, &u[0]) == 0 && io(fd, USBDEVFS_DISCARDURB, &u[0]) == 0, "the memory is back");
    struct usbdevfs_urb *got;
    wait_reapable(fd, 1000);
    io(fd, USBDEVFS_REAPURBNDELAY, &got);
    free(buf);
    close(fd);
}

static void sync_transfers(void)
{
    int fd = open_node();
    uint8_t d[255];
    check(control(fd, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, d, sizeof d, 1000) == 18 && d[0] == 18, "CONTROL GET_DESCRIPTOR: 18");
    check(control(fd, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, d, 5000, 1000) == -EINVAL, "CONTROL wLength 5000: EINVAL");
    check(control(fd, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE_QUALIFIER, 0), 0, d, 10, 1000) == -EPIPE, "CONTROL DEVICE_QUALIFIER: EPIPE");
    fault_delay(fd, 200);
    double t0 = now();
    int r = control(fd, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, d, 2, 50);
    double dt = now() - t0;
    /* at least the timeout; the upper bound only catches a hang (a loaded runner may be slow to wake us) */
    check(r == -ETIMEDOUT && dt > 0.04 && dt < 30, "CONTROL after FAULT_DELAY 200 with timeout 50: ETIMEDOUT in %.0f ms",
          dt * 1000);
    check(get_status(fd) == 0, "the next CONTROL works");
    const char msg[] = "sync bulk";
    struct usbdevfs_bulktransfer bt = { 0x01, sizeof msg, 1000, (void *)msg };
    check(io(fd, USBDEVFS_BULK, &bt) == (int)sizeof msg, "BULK OUT %zu bytes", sizeof msg);
    char back[64] = { 0 };
    bt = (struct usbdevfs_bulktransfer){ 0x81, sizeof back, 1000, back };
    check(io(fd, USBDEVFS_BULK, &bt) == (int)sizeof msg && strcmp(back, msg) == 0, "BULK IN: the bytes back");
    bt = (struct usbdevfs_bulktransfer){ 0x81, sizeof back, 100, back };
    check(io(fd, USBDEVFS_BULK, &bt) == -ETIMEDOUT, "BULK IN with nothing to send: ETIMEDOUT");
    bt = (struct usbdevfs_bulktransfer){ 0x82, 4, 100, back };
    check(io(fd, USBDEVFS_BULK, &bt) == -ENOENT, "BULK on 0x82: ENOENT");
    close(fd);
}

static int get_ep_status(int fd, uint16_t windex, uint8_t st[2])
{
    st[0] = st[1] = 0xEE;
    return control(fd, USB_RT_ENDPOINT_IN, USB_REQ_GET_STATUS, 0, windex, st, 2, 1000);
}

/* Control requests to an endpoint or an interface, as devio.c's
 * check_ctrlrecip forwards them: the endpoint is looked up in every
 * alternate setting of the active configuration (findintfep; the firmware
 * has one setting, so emu/test/usb/test_usbfs_rules.c covers the others),
 * its interface is claimed on first use, and without a configuration there
 * is nothing to look up. */
static void recipients(void)
{
    int fd = open_node(), other = open_node();
    uint8_t st[2];
    unsigned ifnum = 0;
    check(claim_when_free(fd, 0) && io(fd, USBDEVFS_RELEASEINTERFACE, &ifnum) == 0,
          "interface 0 is free (once the last test's file let it go)");
    check(get_ep_status(fd, 0x81, st) == 2 && st[0] == 0 && st[1] == 0, "GET_STATUS(endpoint 0x81): not halted");
    check(control(fd, USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT, 0x01, NULL, 0, 1000) == 0,
          "CLEAR_FEATURE(ENDPOINT_HALT) to 0x01");
    check(io(other, USBDEVFS_CLAIMINTERFACE, &ifnum) == -EBUSY, "it claimed interface 0: another file gets EBUSY");
    check(get_ep_status(fd, 0x85, st) == -ENOENT, "GET_STATUS(endpoint 0x85, in no setting): ENOENT");
    check(get_ep_status(fd, 0x02, st) == -ENOENT, "GET_STATUS(endpoint 0x02, nor 0x82): ENOENT");
    check(get_ep_status(fd, 0x91, st) == -EINVAL, "GET_STATUS(endpoint 0x91, not an address): EINVAL");
    check(get_ep_status(fd, 0x80, st) == 2 && st[0] == 0, "GET_STATUS(endpoint 0x80): EP0 needs no interface");
    check(control(fd, USB_RT_INTERFACE_IN, USB_REQ_GET_STATUS, 0, 1, st, 2, 1000) == -ENOENT,
          "GET_STATUS(interface 1): ENOENT");
    check(control(fd, USB_RT_INTERFACE_IN, USB_REQ_GET_STATUS, 0, 40, st, 2, 1000) == -EINVAL,
          "GET_STATUS(interface 40): EINVAL (checkintf's limit)");
    check(get_ep_status(other, 0x81, st) == -EBUSY, "GET_STATUS(endpoint 0x81) from another file: EBUSY");
    check(control(other, USB_RT_INTERFACE_IN, USB_REQ_GET_STATUS, 0, 0, st, 2, 1000) == -EBUSY,
          "GET_STATUS(interface 0) from another file: EBUSY");
    /* vendor requests are never checked: this one reaches the firmware, which stalls it */
    check(control(other, USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_ENDPOINT, HILDA_REQ_GET_VERSION, 0, 0x81, st, 2,
                  1000) == -EPIPE, "a vendor request to endpoint 0x81 from another file: forwarded (EPIPE)");
    check(io(fd, USBDEVFS_RELEASEINTERFACE, &ifnum) == 0, "RELEASEINTERFACE 0");

    /* isochronous and interrupt URBs on the bulk endpoint, and flags */
    uint8_t buf[64];
    struct usbdevfs_urb u = { .type = USBDEVFS_URB_TYPE_ISO, .endpoint = 0x81, .buffer = buf, .buffer_length = 8,
                              .number_of_packets = 1 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB iso on bulk 0x81: EINVAL");
    u.number_of_packets = 0;
    check(submit(fd, &u) == -EINVAL, "SUBMITURB iso with 0 packets: EINVAL");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_INTERRUPT, .endpoint = 0x81, .buffer = buf,
                               .buffer_length = 8 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB interrupt on bulk 0x81: EINVAL");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x01, .flags = USBDEVFS_URB_ISO_ASAP,
                               .buffer = buf, .buffer_length = 8 };
    check(submit(fd, &u) == -EINVAL, "SUBMITURB bulk with ISO_ASAP: EINVAL");
    check(io(fd, USBDEVFS_RELEASEINTERFACE, &ifnum) == 0, "the refused URBs claimed interface 0 (findintfep, checkintf)");

    /* unconfigured: no endpoint to find, no interface to use */
    int cfg = 0;
    check(io(fd, USBDEVFS_SETCONFIGURATION, &cfg) == 0, "SETCONFIGURATION 0");
    check(get_ep_status(fd, 0x81, st) == -ESRCH, "unconfigured: GET_STATUS(endpoint 0x81): ESRCH");
    check(control(fd, USB_RT_INTERFACE_IN, USB_REQ_GET_STATUS, 0, 0, st, 2, 1000) == -EHOSTUNREACH,
          "unconfigured: GET_STATUS(interface 0): EHOSTUNREACH");
    check(get_status(fd) == 0, "unconfigured: GET_STATUS(device) works");
    unsigned ep = 0x81;
    check(io(fd, USBDEVFS_CLEAR_HALT, &ep) == -ESRCH, "unconfigured: CLEAR_HALT 0x81: ESRCH");
    struct usbdevfs_bulktransfer bt = { 0x81, sizeof buf, 100, buf };
    check(io(fd, USBDEVFS_BULK, &bt) == -ESRCH, "unconfigured: BULK 0x81: ESRCH");
    u = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = buf, .buffer_length = 8 };
    check(submit(fd, &u) == -ESRCH, "unconfigured: SUBMITURB bulk 0x81: ESRCH");
    check(io(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) == -ENOENT, "unconfigured: CLAIMINTERFACE 0: ENOENT");
    struct usbdevfs_setinterface si = { 0, 0 };
    check(io(fd, USBDEVFS_SETINTERFACE, &si) == -EHOSTUNREACH, "unconfigured: SETINTERFACE 0/0: EHOSTUNREACH");
    cfg = 1;
    check(io(fd, USBDEVFS_SETCONFIGURATION, &cfg) == 0, "SETCONFIGURATION 1");
    check(get_ep_status(fd, 0x81, st) == 2 && st[0] == 0, "configured again: GET_STATUS(endpoint 0x81)");
    close(other);
    close(fd);
}

/* Misbehaving clients, each in a child process: the emulator must survive
 * and answer the next client. */
static void child_bad_pointer(void)
{
    int fd = open_node();
    ioctl(fd, USBDEVFS_SUBMITURB, (void *)8);      /* the preload aborts this process */
    _exit(0);
}

static void child_bad_buffer(void)
{
    int fd = open_node();
    struct usbdevfs_urb u = { .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x01, .buffer = (void *)16,
                              .buffer_length = 64 };
    ioctl(fd, USBDEVFS_SUBMITURB, &u);
    _exit(0);
}

static void child_dies_mid_async(void)
{
    int fd = open_node();
    fault_delay(fd, 400);
    static uint8_t b[10] = { SETUP_GET_STATUS };
    static struct usbdevfs_urb u = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = b, .buffer_length = 10 };
    ioctl(fd, USBDEVFS_SUBMITURB, &u);
    // cppcheck-suppress unassignedVariable ; the kernel writes it (the URB's buffer)
    static uint8_t ib[64];
    static struct usbdevfs_urb in = { .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = ib,
                                      .buffer_length = 64 };
    ioctl(fd, USBDEVFS_SUBMITURB, &in);            /* waits for data that never comes */
    pause();
    _exit(0);
}

static void child_dies_mid_sync(void)
{
    int fd = open_node();
    fault_delay(fd, 300);
    uint8_t d[2];
    control(fd, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, d, 2, 0);           /* no timeout: killed while blocked */
    _exit(0);
}

static void run_child(void (*fn)(void), const char *what, int kill_after_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    if (kill_after_ms) {
        usleep((useconds_t)kill_after_ms * 1000);
        kill(pid, SIGKILL);
    }
    int st;
    waitpid(pid, &st, 0);
    int fd = open_node();
    usleep(20000);
    int r = get_status(fd);
    if (r == -ETIMEDOUT || r == -EPIPE)
        r = get_status(fd);                        /* a fault the dead client armed may spend itself here */
    check(r == 0, "after %s (child %s %d): the device answers (%d)", what,
          WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), r);
    close(fd);
}

static void concurrent_clients(void)
{
    enum { CHILDREN = 3, EACH = 300 };
    pid_t pids[CHILDREN];
    for (int c = 0; c < CHILDREN; c++) {
        if ((pids[c] = fork()) == 0) {
            libusb_context *ctx;
            if (libusb_init(&ctx))
                _exit(2);
            libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, HILDA_USB_VID, HILDA_USB_PID);
            if (!h)
                _exit(3);
            for (int i = 0; i < EACH; i++) {
                unsigned char d[18];
                if (libusb_control_transfer(h, USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, USB_DESC_VALUE(USB_DT_DEVICE, 0), 0, d,
                                            sizeof d, 20000) != 18 || d[1] != USB_DT_DEVICE)
                    _exit(4);
                unsigned char s[2];
                if (libusb_control_transfer(h, USB_RT_DEVICE_IN, USB_REQ_GET_STATUS, 0, 0, s, 2, 20000) != 2)
                    _exit(5);
            }
            libusb_close(h);
            libusb_exit(ctx);
            _exit(0);
        }
    }
    int ok = 0;
    for (int c = 0; c < CHILDREN; c++) {
        int st;
        waitpid(pids[c], &st, 0);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    check(ok == CHILDREN, "%d clients with %d transfers each at the same time: %d passed", CHILDREN, 2 * EACH, ok);
}

/* The firmware reboots (pull-up off): a URB in flight completes with
 * -ENODEV, every later ioctl but the reap says ENODEV, and the dongle comes
 * back under a new device number. Last: it ends this device. */
static void disconnect(void)
{
    int fd = open_node();
    // cppcheck-suppress unassignedVariable ; the kernel writes it (the URB's buffer)
    static uint8_t in[64];
    static struct usbdevfs_urb u = { .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = in,
                                     .buffer_length = 64 };
    check(submit(fd, &u) == 0, "bulk IN waiting before the reboot");
    check(control(fd, HILDA_REQTYPE_OUT, HILDA_REQ_REBOOT, 0, 0, NULL, 0, 1000) == 0, "REBOOT");
    struct usbdevfs_urb *got = NULL;
    bool ready = wait_reapable(fd, 3000);
    int r = io(fd, USBDEVFS_REAPURBNDELAY, &got);
    check(ready && r == 0 && got == &u && u.status == -ENODEV, "the URB in flight: status -ENODEV (%d)", u.status);
    check(io(fd, USBDEVFS_REAPURBNDELAY, &got) == -ENODEV, "then REAPURBNDELAY: ENODEV");
    check(!wait_reapable(fd, 50), "and the node is not writable (no busy loop)");
    check(submit(fd, &u) == -ENODEV, "SUBMITURB: ENODEV");
    unsigned ifnum = 0;
    check(io(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) == -ENODEV, "CLAIMINTERFACE: ENODEV");
    check(get_status(fd) == -ENODEV, "CONTROL: ENODEV");
    close(fd);
    char next[64];
    unsigned devnum = (unsigned)atoi(node + strlen(node) - 3);
    snprintf(next, sizeof next, "%.*s%03u", (int)strlen(node) - 3, node, devnum + 1);
    int nfd = -1;
    for (int i = 0; i < 100 && nfd < 0; i++) {
        nfd = open(next, O_RDWR);
        if (nfd < 0)
            usleep(50000);
    }
    check(nfd >= 0 && get_status(nfd) == 0, "back as %s", next);
    if (nfd >= 0)
        close(nfd);
}


/* ---- the shared area (usbfs_inline.h) ---- */

#define AREA_NAME "/memfd:hilda-usbfs"
#define AREA_SLOTS 64

/* Lines of pid's (0: our own) memory map naming a shared area; the first
 * one's address in *first. -1 if the map cannot be read. */
static int count_areas(pid_t pid, uintptr_t *first)
{
    char path[64], line[512];
    if (pid)
        snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    else
        snprintf(path, sizeof path, "/proc/self/maps");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, AREA_NAME))
            continue;
        if (n++ == 0 && first)
            *first = (uintptr_t)strtoull(line, NULL, 16);
    }
    fclose(f);
    return n;
}

/* The free-slot mask of our only area (its first page, offset 8). */
static bool area_mask(uint64_t *mask)
{
    uintptr_t a = 0;
    int n = count_areas(0, &a);
    if (n != 1) {
        printf("# %d shared areas mapped here, not one\n", n);
        return false;
    }
    *mask = atomic_load((_Atomic uint64_t *)(a + 8));
    return true;
}

static bool preloaded(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "libhilda-emu-preload.so");
}

/* More URBs in flight than the area has slots, some too large for a slot
 * (the inline block) or for the request code (the plain path): all are
 * taken, discarded and reaped, each once, and every slot is free again. */
static void shared_area_full(void)
{
    enum { N = 100, INLINE_LEN = 6000, PLAIN_LEN = 20000 };
    static uint8_t small[N][64], mid[INLINE_LEN], large[PLAIN_LEN];
    static struct usbdevfs_urb u[N];
    int fd = open_node();
    check(claim_when_free(fd, 0), "CLAIMINTERFACE 0 (once the last test's file let it go)");
    int ok = 0;
    for (int i = 0; i < N; i++) {
        u[i] = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = small[i],
                                      .buffer_length = sizeof small[i] };
        if (i == 10) {
            u[i].buffer = mid;
            u[i].buffer_length = INLINE_LEN;
        } else if (i == 20) {
            u[i].buffer = large;
            u[i].buffer_length = PLAIN_LEN;
        }
        ok += submit(fd, &u[i]) == 0;
    }
    check(ok == N, "%d bulk IN URBs in flight: %d accepted", N, ok);
    uint64_t mask = 1;
    bool found;
    if (preloaded()) {
        found = area_mask(&mask);
        check(found && mask == 0, "the shared area's %d slots are all taken (mask %#llx)", AREA_SLOTS,
              (unsigned long long)mask);
    }
    int discarded = 0;
    for (int i = 0; i < N; i++)
        discarded += io(fd, USBDEVFS_DISCARDURB, &u[i]) == 0;
    check(discarded == N, "DISCARDURB of each: %d", discarded);
    static bool seen[N];
    memset(seen, 0, sizeof seen);
    int reaped = 0, wrong = 0;
    double end = now() + 10;
    while (reaped + wrong < N && now() < end) {
        struct usbdevfs_urb *got = NULL;
        if (!wait_reapable(fd, 200))
            continue;
        if (io(fd, USBDEVFS_REAPURBNDELAY, &got) != 0)
            continue;
        long i = got >= u && got < u + N ? got - u : -1;
        if (i < 0 || seen[i] || got->status != -ENOENT || got->actual_length != 0) {
            wrong++;
            continue;
        }
        seen[i] = true;
        reaped++;
    }
    check(reaped == N && wrong == 0, "each reaped once with -ENOENT: %d (%d wrong)", reaped, wrong);
    if (preloaded()) {
        found = area_mask(&mask);
        check(found && mask == ~0ull, "every slot free again (mask %#llx)", (unsigned long long)mask);
    }
    close(fd);
    if (preloaded()) {
        int left = -1;
        for (int i = 0; i < 100 && (left = count_areas(0, NULL)) != 0; i++)
            usleep(1000);
        check(left == 0, "close() unmaps the file's area (%d left)", left);
    }
}

/* Threads submitting on one file and reaping each other's URBs, as libusb
 * does with several threads: control URBs whose buffers fit a slot, need
 * the inline block or the plain path, in turn. */
struct reaper {
    int fd, id, bad;
};

static void *reaper_main(void *p)
{
    struct reaper *t = p;
    static const size_t lens[3] = { 8 + 18, 8 + 6000, 8 + 17000 };
    for (int it = 0; it < 60; it++) {
        size_t len = lens[(it + t->id) % 3];
        uint8_t *buf = calloc(1, len);
        if (!buf) {
            t->bad++;
            continue;
        }
        const uint8_t setup[8] = { USB_RT_DEVICE_IN, USB_REQ_GET_DESCRIPTOR, 0, USB_DT_DEVICE, 0, 0, 18, 0 };
        memcpy(buf, setup, sizeof setup);
        atomic_int done = 0;
        struct usbdevfs_urb u = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = buf, .buffer_length = (int)len,
                                  .usercontext = &done };
        if (submit(t->fd, &u) != 0) {
            t->bad++;
            free(buf);
            continue;
        }
        double end = now() + 10;
        while (!atomic_load(&done) && now() < end) {
            struct usbdevfs_urb *got = NULL;
            if (wait_reapable(t->fd, 20) && io(t->fd, USBDEVFS_REAPURBNDELAY, &got) == 0 && got)
                atomic_store((atomic_int *)got->usercontext, 1);
        }
        if (!atomic_load(&done) || u.status != 0 || u.actual_length != 18 || buf[8] != 18 || buf[9] != USB_DT_DEVICE)
            t->bad++;
        if (!atomic_load(&done))
            break;                         /* u is still the bridge's: leave it */
        free(buf);
    }
    return NULL;
}

static int status_urb(int fd);

static void shared_area_threads(void)
{
    enum { THREADS = 4 };
    int fd = open_node();
    /* One URB first, alone: it makes the file's area. Were the threads'
     * first URBs the file's first, the others' (sent the inline way while
     * one thread asks for the area) could be in flight when the bridge gets
     * the request, and it refuses an area to a busy file for good (its ring
     * must hold every completion of the file): correct, only slower, and
     * then there are no slots to check. */
    check(status_urb(fd) == 0, "a first URB on the file, alone");
    pthread_t th[THREADS];
    struct reaper t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = (struct reaper){ .fd = fd, .id = i };
        if (pthread_create(&th[i], NULL, reaper_main, &t[i]))
            t[i].bad = -1000;
    }
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        if (t[i].bad != -1000)
            pthread_join(th[i], NULL);
        bad += t[i].bad;
    }
    check(bad == 0, "%d threads submitting and reaping on one file (slot, inline, plain): %d bad", THREADS, bad);
    uint64_t mask = 0;
    if (preloaded()) {
        bool found = area_mask(&mask);
        check(found && mask == ~0ull, "every slot free again (mask %#llx)", (unsigned long long)mask);
    }
    close(fd);
}

/* One control URB submitted and reaped: 0, or what went wrong. */
static int status_urb(int fd)
{
    uint8_t b[10] = { SETUP_GET_STATUS };
    b[8] = b[9] = 0xEE;
    struct usbdevfs_urb u = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = b, .buffer_length = sizeof b };
    int r = submit(fd, &u);
    if (r)
        return r;
    struct usbdevfs_urb *got = NULL;
    bool ready = wait_reapable(fd, 2000);
    r = io(fd, USBDEVFS_REAPURBNDELAY, &got);
    return !ready ? -ETIMEDOUT : r ? r : got != &u || u.status || u.actual_length != 2 || b[8] || b[9] ? -EPROTO : 0;
}

/* Two files of the device: their node is one FIFO, writable while any
 * completed URB of the device waits. A reaps its last completion from its
 * area (the preload fills the FIFO at once) while B's waits: B's poll must
 * still wake (the bridge puts the FIFO right when it reads A's kick). */
static void shared_area_two_files(void)
{
    int a = open_node(), b = open_node();
    check(status_urb(a) == 0 && status_urb(b) == 0, "a URB on each of two files of the device");
    uint8_t ba[10] = { SETUP_GET_STATUS }, bb[10] = { SETUP_GET_STATUS };
    struct usbdevfs_urb ua = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = ba, .buffer_length = sizeof ba };
    struct usbdevfs_urb ub = { .type = USBDEVFS_URB_TYPE_CONTROL, .buffer = bb, .buffer_length = sizeof bb };
    check(submit(b, &ub) == 0 && submit(a, &ua) == 0, "B submits, then A");
    bool ready = wait_reapable(a, 2000);
    usleep(20000);                                  /* both have completed */
    struct usbdevfs_urb *got = NULL;
    check(ready && io(a, USBDEVFS_REAPURBNDELAY, &got) == 0 && got == &ua && ua.status == 0, "A reaps its URB");
    check(io(a, USBDEVFS_REAPURBNDELAY, &got) == -EAGAIN, "then A has nothing to reap");
    check(wait_reapable(b, 2000), "B's poll still wakes: its URB waits");
    got = NULL;
    check(io(b, USBDEVFS_REAPURBNDELAY, &got) == 0 && got == &ub && ub.status == 0, "B reaps its URB");
    check(io(a, USBDEVFS_REAPURBNDELAY, &got) == -EAGAIN && io(b, USBDEVFS_REAPURBNDELAY, &got) == -EAGAIN,
          "then neither has anything to reap");
    /* at the latest once the bridge has read the last kick */
    bool writable = true;
    for (int i = 0; i < 100 && writable; i++) {
        writable = wait_reapable(a, 0) || wait_reapable(b, 0);
        if (writable)
            usleep(10000);
    }
    check(!writable, "and the node stops being writable");
    close(a);
    close(b);
}

/* A forked child uses the file (and its area) it inherited. */
static void shared_area_fork(void)
{
    int fd = open_node();
    check(status_urb(fd) == 0, "a URB before fork()");
    pid_t pid = fork();
    if (pid == 0)
        _exit(status_urb(fd) == 0 ? 0 : 1);
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a URB in the child on the inherited file");
    check(status_urb(fd) == 0, "and in the parent after it");
    uint64_t mask = 0;
    if (preloaded()) {
        bool found = area_mask(&mask);
        check(found && mask == ~0ull, "every slot free (mask %#llx)", (unsigned long long)mask);
    }
    close(fd);
}

/* A client killed with URBs in its slots: the bridge lets its area go
 * when it sees the file closed, and the next client has all its slots. */
static void shared_area_killed(void)
{
    const char *emu = getenv("HILDA_EMU_PID");
    pid_t emu_pid = emu ? (pid_t)atol(emu) : 0;
    int before = emu_pid ? count_areas(emu_pid, NULL) : -1;
    if (before < 0) {
        printf("ok - (skipped: the emulator's memory map cannot be read)\n");
        return;
    }
    /* the files closed so far reach the bridge a moment later */
    for (int i = 0; i < 300 && before > 0; i++) {
        usleep(10000);
        before = count_areas(emu_pid, NULL);
    }
    check(before == 0, "the areas of the files closed so far are let go (%d left)", before);
    int sync[2];
    if (pipe(sync)) {
        check(false, "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(sync[0]);
        int fd = open_node();
        static uint8_t b[40][64];
        static struct usbdevfs_urb u[40];
        if (!claim_when_free(fd, 0))
            _exit(1);
        for (int i = 0; i < 40; i++) {
            u[i] = (struct usbdevfs_urb){ .type = USBDEVFS_URB_TYPE_BULK, .endpoint = 0x81, .buffer = b[i],
                                          .buffer_length = 64 };
            if (submit(fd, &u[i]))
                _exit(1);
        }
        if (write(sync[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(sync[1]);
    char c;
    bool submitted = read(sync[0], &c, 1) == 1;
    close(sync[0]);
    int during = count_areas(emu_pid, NULL);
    check(submitted && during == before + 1, "a client with 40 URBs in its slots: the emulator maps its area "
          "(%d -> %d)", before, during);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    int after = -1;
    for (int i = 0; i < 300 && (after = count_areas(emu_pid, NULL)) != before; i++)
        usleep(10000);
    check(after == before, "killed: its area is let go (%d)", after);
    int fd = open_node();
    check(claim_when_free(fd, 0), "its interface is free again");
    check(status_urb(fd) == 0, "the next client's URB");
    uint64_t mask = 0;
    bool found = area_mask(&mask);
    check(found && mask == ~0ull, "with every slot of its own area free (mask %#llx)", (unsigned long long)mask);
    close(fd);
}

/* This program once more without libhilda-emu-preload.so: umockdev's
 * preload alone, so every URB takes the plain path. */
static void without_preload(const char *self)
{
    const char *old = getenv("LD_PRELOAD");
    char keep[1024] = "";
    if (old) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", old);
        for (char *save = NULL, *tok = strtok_r(copy, ": ", &save); tok; tok = strtok_r(NULL, ": ", &save)) {
            if (strstr(tok, "libhilda-emu-preload.so"))
                continue;
            size_t n = strlen(keep);
            snprintf(keep + n, sizeof keep - n, "%s%s", n ? ":" : "", tok);
        }
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LD_PRELOAD", keep, 1);
        setenv("HILDA_TORTURE_PLAIN", node, 1);
        execl(self, self, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "without our preload (the plain path): exit %d",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int plain_main(void)
{
    printf("# without libhilda-emu-preload.so\n");
    check(!preloaded(), "LD_PRELOAD has umockdev's preload only");
    async_urbs();
    shared_area_full();
    shared_area_threads();
    shared_area_two_files();
    check(count_areas(0, NULL) == 0, "no shared area was made");
    printf("%s: %d failed (without our preload)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *plain = getenv("HILDA_TORTURE_PLAIN");
    if (plain) {
        snprintf(node, sizeof node, "%s", plain);
        return plain_main();
    }
    libusb_context *ctx;
    if (libusb_init(&ctx)) {
        printf("FAILED - libusb_init\n");
        return 1;
    }
    libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, HILDA_USB_VID, HILDA_USB_PID);
    if (!h) {
        printf("FAILED - no %04x:%04x device (run this under hilda-emu run)\n", HILDA_USB_VID, HILDA_USB_PID);
        return 1;
    }
    libusb_device *dev = libusb_get_device(h);
    snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", libusb_get_bus_number(dev), libusb_get_device_address(dev));
    libusb_close(h);
    libusb_exit(ctx);

    simple_ioctls();
    bad_urbs();
    async_urbs();
    memory_limit();
    sync_transfers();
    recipients();
    run_child(child_bad_pointer, "a bad urb pointer", 0);
    run_child(child_bad_buffer, "a bad buffer pointer", 0);
    run_child(child_dies_mid_async, "SIGKILL with URBs in flight", 100);
    run_child(child_dies_mid_sync, "SIGKILL inside a synchronous CONTROL", 100);
    concurrent_clients();
    if (preloaded()) {
        shared_area_full();
        shared_area_threads();
        shared_area_two_files();
        shared_area_fork();
        shared_area_killed();
        without_preload(argv[0]);
    } else {
        printf("FAILED - libhilda-emu-preload.so is not in LD_PRELOAD (run this under hilda-emu run)\n");
        failures++;
    }
    disconnect();
    printf("%s: %d failed\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
