/* Results of libhilda calls: a status code with a meaning, a sentence for
 * the user, and the CLI exit code each status maps to (docs/host.md has the
 * table; `hilda --help` prints it). */
#ifndef HILDA_STATUS_H
#define HILDA_STATUS_H

#include <stdarg.h>

enum hilda_status {
    HILDA_OK = 0,
    HILDA_ERR_CHECK,         /* the device answered, but a check or verification failed */
    HILDA_ERR_USAGE,         /* bad command line or batch request */
    HILDA_ERR_NOT_FOUND,     /* no device matches the selection (also: --wait expired) */
    HILDA_ERR_AMBIGUOUS,     /* several devices match: refuse to guess */
    HILDA_ERR_NO_DEVICE,     /* the device went away during the run */
    HILDA_ERR_IO,            /* a transfer failed (bus error, host refused it) */
    HILDA_ERR_TIMEOUT,       /* a transfer did not complete within its timeout */
    HILDA_ERR_STALL,         /* the device refused the request (STALL) */
    HILDA_ERR_PROTOCOL,      /* the device answered something malformed or unexpected */
    HILDA_ERR_ACCESS,        /* no permission to open the device */
    HILDA_ERR_INTERNAL,      /* out of memory, libusb could not start, a bug */
    HILDA_ERR_INTERRUPTED,   /* SIGINT/SIGTERM */
    HILDA_ERR_IMAGE,         /* a firmware image was refused before anything was sent */
    HILDA_ERR_DFU,           /* the bootloader refused or failed the update */
    HILDA_STATUS_COUNT
};

#define HILDA_MESSAGE_MAX 320

struct hilda_error {
    enum hilda_status status;
    char message[HILDA_MESSAGE_MAX];
};

/* "stall", "timeout", "no_device", ... (the batch protocol's error names). */
const char *hilda_status_name(enum hilda_status s);
/* One line saying what the status means (for the exit code table). */
const char *hilda_status_meaning(enum hilda_status s);
int hilda_status_exit_code(enum hilda_status s);

/* Sets e (if not NULL) and returns s, so `return hilda_fail(e, ...)` reads well. */
enum hilda_status hilda_fail(struct hilda_error *e, enum hilda_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum hilda_status hilda_vfail(struct hilda_error *e, enum hilda_status s, const char *fmt, va_list ap);
void hilda_error_clear(struct hilda_error *e);

/* libusb error code (negative) to a status; 0 and positive are HILDA_OK. */
enum hilda_status hilda_status_from_libusb(int rc);

/* Set by signal handlers (hilda_install_signal_handlers); long loops stop
 * when it is set and return HILDA_ERR_INTERRUPTED. */
extern volatile int hilda_interrupted;
void hilda_install_signal_handlers(void);

#endif
