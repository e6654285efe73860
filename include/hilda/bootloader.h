/* hilda's own Secure DFU bootloader (firmware/bootloader, docs/firmware.md):
 * its USB identity and the CDC ACM vocabulary it is reached through, shared
 * with the host flasher and the tests. The DFU protocol itself is
 * include/hilda/dfu.h. */
#ifndef HILDA_BOOTLOADER_H
#define HILDA_BOOTLOADER_H

#include "usb.h"

/* pid.codes test IDs, like the application's 0x1209:0x0001 (protocol.h):
 * for testing only, never to ship. */
#define HILDA_BOOTLOADER_VID       0x1209
#define HILDA_BOOTLOADER_PID       0x0002
#define HILDA_BOOTLOADER_PRODUCT   "hilda DFU bootloader"

/* For reference: Nordic's factory Open USB bootloader on the dongle
 * (nRF5 SDK open_bootloader app_usbd_string_config.h), which speaks the same protocol. */
#define NORDIC_OPEN_BOOTLOADER_VID 0x1915
#define NORDIC_OPEN_BOOTLOADER_PID 0x521F

/* The CDC ACM function (USB CDC 1.2 / PSTN 1.2), laid out as Nordic's:
 * interface 0 (communications, ACM) with the notification endpoint EP2 IN,
 * interface 1 (data) with the bulk pair EP1 IN / EP1 OUT. */
#define HILDA_BOOTLOADER_IF_COMM   0
#define HILDA_BOOTLOADER_IF_DATA   1
#define HILDA_BOOTLOADER_EP_NOTIFY 0x82
#define HILDA_BOOTLOADER_EP_IN     0x81
#define HILDA_BOOTLOADER_EP_OUT    0x01
#define HILDA_BOOTLOADER_NOTIFY_SIZE 16

#define CDC_SUBCLASS_ACM           0x02
#define CDC_PROTOCOL_NONE          0x00
#define CDC_DT_CS_INTERFACE        0x24
#define CDC_FD_HEADER              0x00
#define CDC_FD_CALL_MANAGEMENT     0x01
#define CDC_FD_ACM                 0x02
#define CDC_FD_UNION               0x06
#define CDC_ACM_CAP_LINE           0x02   /* SET/GET_LINE_CODING, SET_CONTROL_LINE_STATE */

/* Class requests to the communications interface (bmRequestType 0x21 / 0xA1) */
#define CDC_REQTYPE_OUT (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE)   /* 0x21 */
#define CDC_REQTYPE_IN  (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)    /* 0xA1 */
#define CDC_REQ_SET_LINE_CODING        0x20
#define CDC_REQ_GET_LINE_CODING        0x21
#define CDC_REQ_SET_CONTROL_LINE_STATE 0x22
#define CDC_LINE_CODING_SIZE           7      /* dwDTERate, bCharFormat, bParityType, bDataBits */
#define CDC_CONTROL_LINE_DTR           0x0001 /* the bootloader reads bulk OUT only while DTR is set */
#define CDC_CONTROL_LINE_RTS           0x0002

#endif
