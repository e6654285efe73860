/* Everything a device says about itself, as raw bytes: the device
 * descriptor, each configuration, the BOS, string 0 and every string the
 * descriptors refer to, the device qualifier and other-speed answers, and
 * GET_STATUS. Read from a device (hilda_fetch_descriptors) or from a file
 * (a usbfs-style blob), then parsed, validated and printed from here. */
#ifndef HILDA_DESCSET_H
#define HILDA_DESCSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desc.h"
#include "device.h"
#include "findings.h"
#include "status.h"

#define HILDA_SET_CONFIGS_MAX 8
#define HILDA_SET_STRINGS_MAX 64
#define HILDA_SET_LANGIDS_MAX 16

struct hilda_raw {
    uint8_t *data;           /* malloc'ed */
    size_t len;
    bool present;            /* the device answered (possibly with 0 bytes) */
    enum hilda_status status;   /* of the request; HILDA_ERR_STALL when refused */
};

struct hilda_string_entry {
    uint8_t index;
    uint16_t langid;
    struct hilda_raw raw;
};

struct hilda_desc_set {
    struct hilda_raw device;
    uint8_t n_configs;
    struct hilda_raw configs[HILDA_SET_CONFIGS_MAX];
    struct hilda_raw bos;
    struct hilda_raw qualifier;
    struct hilda_raw other_speed;
    struct hilda_raw string0;
    size_t n_strings;
    struct hilda_string_entry strings[HILDA_SET_STRINGS_MAX];
    struct hilda_raw status;     /* GET_STATUS device */
    int speed;                   /* enum libusb_speed; LIBUSB_SPEED_UNKNOWN from a file */
    int active_config;           /* bConfigurationValue, -1 unknown */
    bool from_device;
};

void hilda_desc_set_init(struct hilda_desc_set *s);
void hilda_desc_set_free(struct hilda_desc_set *s);

/* Reads everything from the device. Returns an error only when the device
 * cannot be talked to at all (gone, timeouts on the device descriptor);
 * refusals and malformed answers are recorded (and become findings). */
enum hilda_status hilda_fetch_descriptors(struct hilda_device *d, struct hilda_desc_set *s,
                                          struct hilda_findings *f, struct hilda_error *e);
/* From a usbfs-style blob: the device descriptor, then the configurations. */
void hilda_desc_set_from_blob(struct hilda_desc_set *s, const uint8_t *buf, size_t len, struct hilda_findings *f);

/* The string at index (first LANGID), or NULL if not read / refused. */
const struct hilda_string_entry *hilda_desc_set_string(const struct hilda_desc_set *s, uint8_t index);
/* Its text (UTF-8, untrusted), "" when there is none. */
void hilda_desc_set_string_text(const struct hilda_desc_set *s, uint8_t index, char *out, size_t cap);

/* String indices referenced by the descriptors, ascending, without 0. */
size_t hilda_desc_set_string_refs(const struct hilda_desc_set *s, uint8_t *out, size_t max);

#endif
