/* The hilda vendor test protocol: the one definition shared by the firmware,
 * the emulator, the host tool and the tests (Python reads this file through
 * rig/vocabulary.py).
 * docs/protocol.md explains each request; keep the two in step.
 *
 * All requests are vendor requests to the device recipient:
 *   bmRequestType 0x40 (host-to-device) or 0xC0 (device-to-host).
 * Multi-byte fields on the wire are little-endian. Anything not listed here,
 * or listed with arguments out of range, is answered with a STALL. */
#ifndef HILDA_PROTOCOL_H
#define HILDA_PROTOCOL_H

#include <stdint.h>

#include "usb.h"

/* USB identity: pid.codes test VID/PID (0x1209:0x0001 is reserved by
 * pid.codes for testing; hilda must never ship under it). */
#define HILDA_USB_VID              0x1209
#define HILDA_USB_PID              0x0001
#define HILDA_PROTOCOL_VERSION     0x0101   /* major.minor, BCD-like; 1.1 appended the UART loss counters */

#define HILDA_REQTYPE_OUT          USB_RT_VENDOR_DEVICE_OUT   /* 0x40 */
#define HILDA_REQTYPE_IN           USB_RT_VENDOR_DEVICE_IN    /* 0xC0 */

/* Largest data stage the firmware accepts or produces on EP0. */
#define HILDA_EP0_MAX_DATA         4096
#define HILDA_EP0_PACKET           USB_FS_EP0_MAX_PACKET

/* The vendor requests: X(NAME, bRequest, data stage, what it does). The one
 * list: HILDA_REQ_<NAME> is the code, every name table in C is generated from
 * it, and rig/vocabulary.py reads it for Python. The data stage is IN
 * (device to host, bmRequestType HILDA_REQTYPE_IN), OUT (host to device,
 * HILDA_REQTYPE_OUT) or NONE (no data stage, HILDA_REQTYPE_OUT). */
#define HILDA_VENDOR_REQUESTS(X) \
    X(GET_VERSION,       0x01, IN,   "8 bytes: struct hilda_version") \
    X(ECHO_WRITE,        0x10, OUT,  "0..4096 bytes stored as the echo buffer") \
    X(ECHO_READ,         0x11, IN,   "min(wLength, stored) bytes of the echo buffer") \
    X(UART_WRITE,        0x20, OUT,  "1..HILDA_UART_TX_CAPACITY bytes queued for UARTE TX; STALL if more than uart_status.tx_free") \
    X(UART_READ,         0x21, IN,   "up to wLength bytes the UARTE received (short if fewer)") \
    X(UART_SET_BAUD,     0x22, NONE, "baud = wValue | wIndex << 16, one of HILDA_UART_BAUDS") \
    X(UART_STATUS,       0x23, IN,   "16 bytes: struct hilda_uart_status") \
    X(GET_COUNTERS,      0x30, IN,   "sizeof(struct hilda_counters) bytes") \
    X(RESET_COUNTERS,    0x31, NONE, "zero the counters") \
    X(FAULT_DELAY,       0x40, NONE, "wValue = ms (1..5000): delay the next data stage") \
    X(FAULT_STALL,       0x41, NONE, "STALL the next request, whatever it is") \
    X(GET_VARIANT,       0x50, IN,   "wValue = variant id: a stress descriptor, served like GET_DESCRIPTOR (truncated to wLength, ZLP rule applies)") \
    X(REBOOT,            0x60, NONE, "reboot ~10 ms after the status stage") \
    X(REBOOT_BOOTLOADER, 0x61, NONE, "GPREGRET = HILDA_BOOTLOADER_GPREGRET, then reboot") \
    X(SET_PERSONALITY,   0x70, NONE, "wValue = HILDA_PERSONALITY_*, wIndex = HILDA_GZ_PATTERN_*: detach, switch, re-attach ~10 ms later")

enum hilda_request {
#define HILDA_REQ_ENUMERATOR(name, code, stage, summary) HILDA_REQ_##name = code,
    HILDA_VENDOR_REQUESTS(HILDA_REQ_ENUMERATOR)
#undef HILDA_REQ_ENUMERATOR
};

/* Stress descriptor variants (HILDA_REQ_GET_VARIANT wValue) */
#define HILDA_VARIANT_CONFIG_64    0     /* configuration, wTotalLength 64: a wLength > 64 needs a ZLP */
#define HILDA_VARIANT_CONFIG_128   1     /* configuration, wTotalLength 128: two full packets */
#define HILDA_VARIANT_STRING_254   2     /* longest well-formed string descriptor: bLength 254, 126 chars */
#define HILDA_VARIANT_STRING_255   3     /* bLength 255: the largest a descriptor can claim; odd, so not
                                            well-formed UTF-16 (a host's parser must cope) */
#define HILDA_VARIANT_STRING_64    4     /* bLength 64: exactly one packet (31 chars), ZLP boundary */
#define HILDA_VARIANT_COUNT        5

/* UART bridge */
#define HILDA_UART_TX_CAPACITY     2048
#define HILDA_UART_RX_CAPACITY     2048
#define HILDA_UART_DEFAULT_BAUD    115200
#define HILDA_UART_BAUDS \
    9600, 14400, 19200, 28800, 38400, 57600, 76800, 115200, 230400, 250000, 460800, 921600, 1000000

#define HILDA_BOOTLOADER_GPREGRET  0xB1

/* HILDA_REQ_SET_PERSONALITY: what the device presents itself as until the
 * next reset or power cycle (kept in RAM only). */
#define HILDA_PERSONALITY_HILDA        0
#define HILDA_PERSONALITY_GADGET_ZERO  1   /* Linux g_zero's source/sink configuration */

/* The Gadget Zero personality: g_zero's identity, so that usbtest.ko binds it
 * (its gz_info profile), and the data patterns of usbtest's "pattern" module
 * parameter and f_sourcesink (byte j of each maxpacket-sized packet). */
#define HILDA_GZ_USB_VID               0x0525
#define HILDA_GZ_USB_PID               0xA4A0
#define HILDA_GZ_PATTERN_ZEROS         0   /* every byte 0 */
#define HILDA_GZ_PATTERN_MOD63         1   /* byte j of each packet is (j % 64) % 63 */
#define HILDA_GZ_REQ_ECHO_WRITE        0x5B  /* usbtest's control-write test: like HILDA_REQ_ECHO_WRITE */
#define HILDA_GZ_REQ_ECHO_READ         0x5C  /* and its read back: like HILDA_REQ_ECHO_READ */

struct hilda_version {
    uint16_t protocol;        /* HILDA_PROTOCOL_VERSION */
    uint16_t firmware;        /* major << 8 | minor */
    uint32_t git_hash;        /* first 8 hex digits of the build's commit, 0 if unknown */
};

/* The image-info block: the firmware keeps one in flash, word aligned, so
 * that a host reads from an image file, before flashing it, the version the
 * firmware will report (`hilda flash` checks the git hash afterwards). */
#define HILDA_IMAGE_INFO_MAGIC0    0x41444C48u   /* "HLDA" in memory order */
#define HILDA_IMAGE_INFO_MAGIC1    0x4F464E49u   /* "INFO" */

struct hilda_image_info {
    uint32_t magic[2];        /* HILDA_IMAGE_INFO_MAGIC0, HILDA_IMAGE_INFO_MAGIC1 */
    struct hilda_version version;
};

struct hilda_uart_status {
    uint32_t baud;
    uint32_t tx_free;         /* bytes HILDA_REQ_UART_WRITE may queue now */
    uint32_t rx_available;    /* bytes waiting for HILDA_REQ_UART_READ */
    uint32_t errorsrc;        /* ERRORSRC bits seen since boot (OR of all) */
};

/* Counters since boot or HILDA_REQ_RESET_COUNTERS; all uint32_t, wrapping. */
struct hilda_counters {
    uint32_t setups;          /* EP0SETUP events */
    uint32_t stalls;          /* requests answered with STALL */
    uint32_t bus_resets;
    uint32_t suspends;
    uint32_t resumes;
    uint32_t dma_usbd;        /* completed EasyDMA transfers per peripheral */
    uint32_t dma_uarte_tx;
    uint32_t dma_uarte_rx;
    uint32_t uart_errors;     /* EVENTS_ERROR */
    uint32_t uart_overruns;   /* uart_rx_fifo_overruns + uart_rx_ring_overflows (1.0's one loss count) */
    uint32_t uart_rx_bytes;
    uint32_t uart_tx_bytes;
    uint32_t ep0_cycles_last; /* DWT cycles from the EP0SETUP interrupt to the next stage armed */
    uint32_t ep0_cycles_max;
    uint32_t button_presses;  /* SW1 */
    uint32_t core_hz;         /* the clock the cycle counts are in (64000000) */
    /* protocol 1.1: where UART bytes were lost, and how often flow control held the sender off */
    uint32_t uart_rx_fifo_overruns;   /* ERRORSRC.OVERRUN: a byte met a full 4-byte FIFO (flow control off) */
    uint32_t uart_rx_ring_overflows;  /* received bytes dropped: the host did not drain the RX ring in time */
    uint32_t uart_tx_ring_overflows;  /* bytes refused: the TX ring was full (UART_WRITE's data, the banner) */
    uint32_t uart_rx_flow_stops;      /* times RX paused (RTS off) until the host made room in the RX ring */
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct hilda_version) == 8, "wire size");
_Static_assert(sizeof(struct hilda_uart_status) == 16, "wire size");
_Static_assert(sizeof(struct hilda_image_info) == 16, "image layout");
_Static_assert(sizeof(struct hilda_counters) == 80, "wire size");
#endif

#endif
