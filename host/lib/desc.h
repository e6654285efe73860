/* The descriptor parser. Everything a device sends is untrusted: every read
 * is bounds-checked against the bytes that arrived, a descriptor's bLength
 * is believed only as far as the buffer goes, parsing always advances (a
 * bLength below 2 ends it: trusting 0 would loop forever) and the number
 * of records is bounded. Structural problems are reported as findings with
 * ids starting "P-"; what chapter 9 says about the values is validate.h's job.
 *
 * Records point into the caller's buffer: keep it alive while they are used. */
#ifndef HILDA_DESC_H
#define HILDA_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "hilda/usb.h"

/* At most this many records per configuration or BOS: a 65535-byte blob
 * of 2-byte descriptors is 32767; nothing real comes near. */
#define HILDA_DESC_RECORDS_MAX     4096

/* bcdUSB from which a device has a BOS descriptor (USB 2.0 LPM ECN: "2.01") */
#define HILDA_BCD_USB_BOS          0x0201
/* bLength of an endpoint descriptor in the audio class 1.0 form (7 + bRefresh, bSynchAddress) */
#define HILDA_DT_ENDPOINT_AUDIO_SIZE 9
/* Descriptor types 0x20 and up are class-specific (usb.org common class spec) */
#define HILDA_DT_CLASS_FIRST       0x20

struct hilda_device_desc {
    uint8_t bLength, bDescriptorType;
    uint16_t bcdUSB;
    uint8_t bDeviceClass, bDeviceSubClass, bDeviceProtocol, bMaxPacketSize0;
    uint16_t idVendor, idProduct, bcdDevice;
    uint8_t iManufacturer, iProduct, iSerialNumber, bNumConfigurations;
};

struct hilda_config_desc {
    uint16_t wTotalLength;
    uint8_t bNumInterfaces, bConfigurationValue, iConfiguration, bmAttributes, bMaxPower;
};

struct hilda_interface_desc {
    uint8_t bInterfaceNumber, bAlternateSetting, bNumEndpoints;
    uint8_t bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol, iInterface;
};

struct hilda_endpoint_desc {
    uint8_t bEndpointAddress, bmAttributes;
    uint16_t wMaxPacketSize;
    uint8_t bInterval;
};

struct hilda_iad_desc {
    uint8_t bFirstInterface, bInterfaceCount, bFunctionClass, bFunctionSubClass, bFunctionProtocol, iFunction;
};

struct hilda_bos_desc {
    uint16_t wTotalLength;
    uint8_t bNumDeviceCaps;
};

struct hilda_devcap_desc {
    uint8_t bDevCapabilityType;
    uint32_t bmAttributes;           /* USB 2.0 extension; SuperSpeed: its bmAttributes byte */
    /* SuperSpeed */
    uint16_t wSpeedsSupported;
    uint8_t bFunctionalitySupport, bU1DevExitLat;
    uint16_t bU2DevExitLat;
    /* Container ID (16 bytes) or platform capability UUID (16 bytes) */
    uint8_t uuid[16];
};

enum hilda_desc_kind {
    HILDA_KIND_OTHER,        /* a type the parser does not decode (class, vendor, unknown) */
    HILDA_KIND_CONFIG,
    HILDA_KIND_INTERFACE,
    HILDA_KIND_ENDPOINT,
    HILDA_KIND_IAD,
    HILDA_KIND_BOS,
    HILDA_KIND_DEVCAP,
};

struct hilda_desc {
    size_t offset;           /* in the blob */
    uint8_t bLength;         /* as the device said */
    uint8_t bDescriptorType;
    size_t avail;            /* bytes present: min(bLength, rest of blob) */
    const uint8_t *raw;      /* avail bytes */
    unsigned depth;          /* 0 configuration/BOS, 1 interface/IAD/capability, 2 endpoint, ... */
    enum hilda_desc_kind kind;
    bool decoded;            /* the fields below are valid: long enough for its type */
    union {
        struct hilda_config_desc config;
        struct hilda_interface_desc intf;
        struct hilda_endpoint_desc ep;
        struct hilda_iad_desc iad;
        struct hilda_bos_desc bos;
        struct hilda_devcap_desc cap;
    } u;
};

struct hilda_desc_list {
    struct hilda_desc *v;
    size_t n, cap;
    size_t consumed;         /* bytes covered by whole descriptors */
    bool truncated;          /* parsing stopped early (bad bLength, past the end, record limit) */
};

void hilda_desc_list_init(struct hilda_desc_list *l);
void hilda_desc_list_free(struct hilda_desc_list *l);

/* Each returns true when the blob's header could be decoded (the list may
 * still carry findings). `where` prefixes the findings ("configuration 1"). */
bool hilda_parse_device(const uint8_t *buf, size_t len, struct hilda_device_desc *out,
                        struct hilda_findings *f);
bool hilda_parse_config(const uint8_t *buf, size_t len, const char *where, struct hilda_desc_list *out,
                        struct hilda_findings *f);
bool hilda_parse_bos(const uint8_t *buf, size_t len, struct hilda_desc_list *out, struct hilda_findings *f);

/* String descriptors. The text is UTF-8 of the UTF-16LE characters; what
 * is not well-formed becomes U+FFFD, an odd last byte is dropped and said
 * so. out always ends with a NUL (cap >= 1). Returns false when the header
 * is unusable (fewer than 2 bytes, wrong type, bLength < 2). */
bool hilda_parse_string(const uint8_t *buf, size_t len, const char *where, char *out, size_t cap,
                        struct hilda_findings *f);
/* String 0: the LANGIDs. Returns how many were stored (at most max). */
size_t hilda_parse_langids(const uint8_t *buf, size_t len, uint16_t *langids, size_t max,
                           struct hilda_findings *f);

/* Little-endian reads with the bounds given: 0 past the end. */
uint16_t hilda_le16(const uint8_t *p, size_t len, size_t off);
uint32_t hilda_le32(const uint8_t *p, size_t len, size_t off);

/* Splits a usbfs-style blob (the 18-byte device descriptor, then each configuration
 * by its wTotalLength, as /dev/bus/usb/B/D reads) into its parts; the
 * configuration spans are returned in starts/lens (at most max). Returns
 * the number of configurations found. */
size_t hilda_split_usbfs_blob(const uint8_t *buf, size_t len, size_t *starts, size_t *lens, size_t max,
                              struct hilda_findings *f);

const char *hilda_desc_type_name(uint8_t type);

#endif
