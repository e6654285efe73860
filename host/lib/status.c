#include "status.h"

#include <libusb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

volatile int hilda_interrupted;

static const struct {
    const char *name;
    int exit_code;
    const char *meaning;
} table[HILDA_STATUS_COUNT] = {
    [HILDA_OK] = { "ok", 0, "success" },
    [HILDA_ERR_CHECK] = { "check_failed", 1, "the device answered, but a check or verification failed" },
    [HILDA_ERR_USAGE] = { "usage", 2, "usage error: bad command line or batch request" },
    [HILDA_ERR_NOT_FOUND] = { "not_found", 3, "no device matches the selection (or --wait expired)" },
    [HILDA_ERR_AMBIGUOUS] = { "ambiguous", 4, "several devices match the selection: none was chosen" },
    [HILDA_ERR_NO_DEVICE] = { "no_device", 5, "the device went away (unplugged, rebooted) during the run" },
    [HILDA_ERR_IO] = { "io", 6, "I/O error: a transfer failed or the host refused it" },
    [HILDA_ERR_TIMEOUT] = { "timeout", 7, "a transfer timed out" },
    [HILDA_ERR_STALL] = { "stall", 8, "the device refused the request with a STALL" },
    [HILDA_ERR_PROTOCOL] = { "protocol", 9, "the device answered something malformed or unexpected" },
    [HILDA_ERR_ACCESS] = { "access", 10, "permission denied opening the device (udev rule?)" },
    [HILDA_ERR_INTERNAL] = { "internal", 11, "internal error (libusb initialisation, memory)" },
    [HILDA_ERR_INTERRUPTED] = { "interrupted", 130, "interrupted by a signal (SIGINT/SIGTERM)" },
    [HILDA_ERR_IMAGE] = { "image", 12, "the firmware image was refused before anything was sent (format, address, size)" },
    [HILDA_ERR_DFU] = { "dfu", 13, "the bootloader refused or failed the update (its DFU result says why)" },
};

const char *hilda_status_name(enum hilda_status s)
{
    return (unsigned)s < HILDA_STATUS_COUNT ? table[s].name : "internal";
}

const char *hilda_status_meaning(enum hilda_status s)
{
    return (unsigned)s < HILDA_STATUS_COUNT ? table[s].meaning : "unknown status";
}

int hilda_status_exit_code(enum hilda_status s)
{
    return (unsigned)s < HILDA_STATUS_COUNT ? table[s].exit_code : table[HILDA_ERR_INTERNAL].exit_code;
}

enum hilda_status hilda_vfail(struct hilda_error *e, enum hilda_status s, const char *fmt, va_list ap)
{
    if (e) {
        e->status = s;
        vsnprintf(e->message, sizeof e->message, fmt, ap);
    }
    return s;
}

enum hilda_status hilda_fail(struct hilda_error *e, enum hilda_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hilda_vfail(e, s, fmt, ap);
    va_end(ap);
    return s;
}

void hilda_error_clear(struct hilda_error *e)
{
    if (e) {
        e->status = HILDA_OK;
        e->message[0] = '\0';
    }
}

enum hilda_status hilda_status_from_libusb(int rc)
{
    switch (rc) {
    case LIBUSB_SUCCESS:
        return HILDA_OK;
    case LIBUSB_ERROR_PIPE:
        return HILDA_ERR_STALL;
    case LIBUSB_ERROR_TIMEOUT:
        return HILDA_ERR_TIMEOUT;
    case LIBUSB_ERROR_NO_DEVICE:
        return HILDA_ERR_NO_DEVICE;
    case LIBUSB_ERROR_ACCESS:
        return HILDA_ERR_ACCESS;
    case LIBUSB_ERROR_OVERFLOW:
        return HILDA_ERR_PROTOCOL;
    case LIBUSB_ERROR_NO_MEM:
        return HILDA_ERR_INTERNAL;
    case LIBUSB_ERROR_INTERRUPTED:
        return HILDA_ERR_INTERRUPTED;
    case LIBUSB_ERROR_INVALID_PARAM:
        return HILDA_ERR_USAGE;
    default:
        return rc > 0 ? HILDA_OK : HILDA_ERR_IO;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    hilda_interrupted = 1;
}

void hilda_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocking read of stdin (batch) returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
