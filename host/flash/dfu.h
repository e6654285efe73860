/* The host side of Nordic's Secure DFU serial protocol (include/hilda/dfu.h):
 * an application update spoken to a bootloader through a byte transport (the
 * bootloader's CDC ACM bulk endpoints over libusb, see dfu_usb.h; or a test
 * double). Sizes come from the bootloader's answers (MTU, object sizes); each
 * object's CRC-32 is checked before it is executed and an object whose CRC
 * does not match is sent again; an interrupted update resumes from what
 * OBJECT_SELECT says is already there. */
#ifndef HILDA_DFU_CLIENT_H
#define HILDA_DFU_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Bytes in and out, SLIP frames already encoded. read returns what has
 * arrived (at least one byte) or HILDA_ERR_TIMEOUT when nothing came. */
struct hilda_dfu_transport {
    void *ctx;
    enum hilda_status (*write)(void *ctx, const uint8_t *bytes, size_t len, unsigned timeout_ms,
                               struct hilda_error *e);
    enum hilda_status (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms,
                              struct hilda_error *e);
};

/* Called as the update goes: phase "init" or "data", bytes done of total. */
typedef void (*hilda_dfu_progress_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);

struct hilda_dfu_options {
    unsigned timeout_ms;          /* per request (0: 5000; the hash check of the last object takes longer) */
    unsigned retries;             /* sends of one object before giving up on CRC mismatches (0: 3) */
    unsigned corrupt_object;      /* test hook: flip one bit of data object N (1-based) the first time it is
                                     sent, so the CRC check and the retry run against a real bootloader */
    unsigned stop_after_objects;  /* test hook: end the update (as if the cable were pulled) once N data
                                     objects are executed, so that a test can cut the power and resume */
    hilda_dfu_progress_fn progress;
    void *progress_ctx;
};

struct hilda_dfu_report {
    unsigned protocol_version;
    unsigned mtu;                 /* as the bootloader reports it (SLIP-encoded bytes) */
    unsigned chunk;               /* payload bytes per OBJECT_WRITE */
    uint32_t command_max, data_max;
    size_t resumed_from;          /* image bytes already in the bootloader when the update started */
    bool init_resumed;            /* the bootloader already held this init packet */
    unsigned objects;             /* data objects sent */
    unsigned crc_retries;         /* objects sent again after a CRC mismatch */
    bool reset_seen;              /* the device went away after the last EXECUTE (it starts the app) */
};

/* The DFU result or extended error of the last refused request, for tests
 * and JSON (0 when the failure was not a DFU answer). */
struct hilda_dfu_refusal {
    uint8_t opcode, result, ext_error;
};

enum hilda_status hilda_dfu_update(const struct hilda_dfu_transport *t, const uint8_t *init, size_t init_len,
                                   const uint8_t *image, size_t len, const struct hilda_dfu_options *o,
                                   struct hilda_dfu_report *report, struct hilda_dfu_refusal *refusal,
                                   struct hilda_error *e);

/* PING until the bootloader answers (it may still be starting): true when it did. */
enum hilda_status hilda_dfu_ping(const struct hilda_dfu_transport *t, unsigned attempts, struct hilda_error *e);

/* "the image does not match the hash in the init packet" for (result, ext). */
const char *hilda_dfu_result_sentence(uint8_t result, uint8_t ext_error);
/* "OBJECT_EXECUTE" for an opcode. */
const char *hilda_dfu_opcode_name(uint8_t opcode);

#endif
