/* testusb: runs one case of the kernel's usbtest driver on one device, from the guest of the usbtest
 * battery (docs/hil.md). usbtest takes its requests as an ioctl on the interface it is bound to, reached
 * through usbfs: USBDEVFS_IOCTL carrying USBTEST_REQUEST and struct usbtest_param, whose layout is the
 * kernel's documented ABI (Documentation/usb, drivers/usb/misc/usbtest.c's user interface), written out
 * here because no uapi header carries it.
 *
 * Usage: testusb /dev/bus/usb/BBB/DDD CASE ITERATIONS LENGTH VARY SGLEN
 * Prints "rc=R errno=E seconds=S" (rc: the ioctl's result) and exits 0 when the case passed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The 64-bit layout (duration as two 64-bit fields, like struct timeval on x86-64); usbtest also accepts
 * a 32-bit one, told apart by the size encoded in the ioctl number. */
struct usbtest_param {
    /* inputs */
    uint32_t test_num;
    uint32_t iterations;
    uint32_t length;
    uint32_t vary;
    uint32_t sglen;
    /* outputs: the time the case took */
    int64_t duration_sec;
    int64_t duration_usec;
};

#define USBTEST_REQUEST _IOWR('U', 100, struct usbtest_param)

static int parse_u32(const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 0);
    if (errno || *end || end == text || value > UINT32_MAX) {
        return -1;
    }
    *out = (uint32_t)value;
    return 0;
}

int main(int argc, char **argv)
{
    struct usbtest_param param;
    memset(&param, 0, sizeof param);
    if (argc != 7 || parse_u32(argv[2], &param.test_num) || parse_u32(argv[3], &param.iterations) ||
        parse_u32(argv[4], &param.length) || parse_u32(argv[5], &param.vary) || parse_u32(argv[6], &param.sglen)) {
        fprintf(stderr, "usage: testusb /dev/bus/usb/BBB/DDD CASE ITERATIONS LENGTH VARY SGLEN\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "testusb: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    struct usbdevfs_ioctl request = {
        .ifno = 0,          /* usbtest binds interface 0 */
        .ioctl_code = USBTEST_REQUEST,
        .data = &param,
    };
    int rc = ioctl(fd, USBDEVFS_IOCTL, &request);
    int error = rc < 0 ? errno : 0;
    close(fd);
    printf("rc=%d errno=%d seconds=%lld.%06lld\n", rc, error, (long long)param.duration_sec,
           (long long)param.duration_usec);
    return rc < 0 ? 1 : 0;
}
