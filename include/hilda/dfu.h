/* Nordic's Secure DFU serial protocol (nRF5 SDK 15-17 "nrf_dfu_serial", the
 * protocol the dongle's factory Open USB bootloader speaks over CDC ACM): the
 * one definition shared by hilda's bootloader (firmware/bootloader), the host
 * flasher (`hilda flash`) and the tests. Facts from Nordic's nRF5 SDK
 * documentation ("DFU protocol", "Transport: UART/serial") and the behaviour
 * of SDK 17.1's open bootloader.
 *
 * Framing: a request is an opcode byte and a little-endian payload, SLIP
 * encoded (RFC 1055 escapes, one END byte after the packet, none before). A
 * response is DFU_OP_RESPONSE, the request's opcode, a result code, then the
 * payload; DFU_RES_EXT_ERROR is followed by one extended error byte.
 * OBJECT_WRITE has no response (unless a receipt notification is due). */
#ifndef HILDA_DFU_H
#define HILDA_DFU_H

#include <stdint.h>

/* X(NAME, opcode) */
#define DFU_OPCODES(X) \
    X(PROTOCOL_VERSION, 0x00) \
    X(OBJECT_CREATE,    0x01) \
    X(RECEIPT_NOTIF_SET, 0x02) \
    X(CRC_GET,          0x03) \
    X(OBJECT_EXECUTE,   0x04) \
    X(OBJECT_SELECT,    0x06) \
    X(MTU_GET,          0x07) \
    X(OBJECT_WRITE,     0x08) \
    X(PING,             0x09) \
    X(HARDWARE_VERSION, 0x0A) \
    X(FIRMWARE_VERSION, 0x0B) \
    X(ABORT,            0x0C) \
    X(RESPONSE,         0x60)

enum dfu_opcode {
#define DFU_OP_ENUMERATOR(name, code) DFU_OP_##name = code,
    DFU_OPCODES(DFU_OP_ENUMERATOR)
#undef DFU_OP_ENUMERATOR
};

/* X(NAME, code, what it means for a person) */
#define DFU_RESULTS(X) \
    X(INVALID,           0x00, "the bootloader did not understand the request (invalid opcode)") \
    X(SUCCESS,           0x01, "success") \
    X(OP_NOT_SUPPORTED,  0x02, "the bootloader does not support this operation") \
    X(INVALID_PARAMETER, 0x03, "a parameter of the request was invalid") \
    X(INSUFFICIENT_RESOURCES, 0x04, "the bootloader ran out of resources (object too large for its buffer)") \
    X(INVALID_OBJECT,    0x05, "the object is invalid (corrupt, or its size does not match what was created)") \
    X(UNSUPPORTED_TYPE,  0x07, "the object type is not supported") \
    X(OP_NOT_PERMITTED,  0x08, "the operation is not permitted in the bootloader's current state") \
    X(OPERATION_FAILED,  0x0A, "the operation failed inside the bootloader") \
    X(EXT_ERROR,         0x0B, "extended error")

enum dfu_result {
#define DFU_RES_ENUMERATOR(name, code, sentence) DFU_RES_##name = code,
    DFU_RESULTS(DFU_RES_ENUMERATOR)
#undef DFU_RES_ENUMERATOR
};

/* Extended errors (the byte after DFU_RES_EXT_ERROR): X(NAME, code, sentence) */
#define DFU_EXT_ERRORS(X) \
    X(NO_ERROR,           0x00, "no extended error was set") \
    X(INVALID_ERROR_CODE, 0x01, "the bootloader reported an invalid error code") \
    X(WRONG_COMMAND_FORMAT, 0x02, "the init packet is malformed (wrong format)") \
    X(UNKNOWN_COMMAND,    0x03, "the init packet's command is not known to the bootloader") \
    X(INIT_COMMAND_INVALID, 0x04, "the init packet is invalid (a required field is missing or wrong)") \
    X(FW_VERSION_FAILURE, 0x05, "the firmware version is too low (downgrade refused)") \
    X(HW_VERSION_FAILURE, 0x06, "the image is for different hardware (hw_version does not match this chip)") \
    X(SD_VERSION_FAILURE, 0x07, "the image needs a SoftDevice this device does not have (sd_req)") \
    X(SIGNATURE_MISSING,  0x08, "the bootloader requires a signed init packet") \
    X(WRONG_HASH_TYPE,    0x09, "the init packet's hash type is not supported") \
    X(HASH_FAILED,        0x0A, "the bootloader could not compute the image hash") \
    X(WRONG_SIGNATURE_TYPE, 0x0B, "the init packet's signature type is not supported") \
    X(VERIFICATION_FAILED, 0x0C, "the image received does not match the hash in the init packet") \
    X(INSUFFICIENT_SPACE, 0x0D, "the image does not fit in the device's flash")

enum dfu_ext_error {
#define DFU_EXT_ENUMERATOR(name, code, sentence) DFU_EXT_##name = code,
    DFU_EXT_ERRORS(DFU_EXT_ENUMERATOR)
#undef DFU_EXT_ENUMERATOR
};

/* OBJECT_CREATE / OBJECT_SELECT type */
#define DFU_OBJ_COMMAND 0x01      /* the init packet */
#define DFU_OBJ_DATA    0x02      /* the firmware image */

#define DFU_PROTOCOL_VERSION 1

/* SLIP (RFC 1055) as Nordic's serial transport uses it. */
#define SLIP_END     0xC0
#define SLIP_ESC     0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

/* Init packet (dfu-cc.proto) values the open bootloader checks. */
#define DFU_HW_VERSION_NRF52840 52
#define DFU_FW_TYPE_APPLICATION 0
#define DFU_HASH_TYPE_SHA256    3

/* The dongle's flash layout (nRF5 SDK open_bootloader/pca10059_usb): the MBR
 * owns page 0; applications start at 0x1000; the bootloader region, the MBR
 * parameter page and the bootloader settings page fill the top. */
#define DFU_MBR_SIZE            0x1000u
#define DFU_APP_START           0x1000u
#define DFU_BOOTLOADER_START    0xE0000u
#define DFU_FLASH_PAGE          0x1000u
#define DFU_FLASH_SIZE          0x100000u
#define DFU_BOOTLOADER_END      0xFE000u   /* the region may reach the MBR params page */
#define DFU_MBR_PARAMS_PAGE     0xFE000u   /* UICR NRFFW[1]; the MBR's, never written by hilda */
#define DFU_SETTINGS_PAGE       0xFF000u   /* the bootloader's settings (hilda's own format) */
#define DFU_APP_MAX_SIZE        (DFU_BOOTLOADER_START - DFU_APP_START)

/* What the open bootloader answers (nRF5 SDK 17.1's, run on the emulator: docs/sources.md), and
 * hilda's bootloader with it: MTU_GET (the SLIP-encoded size of the largest
 * request: 2 * (1 + 1024) + 1, so hosts write 1024-byte chunks) and
 * OBJECT_SELECT's max_size per object type. */
#define DFU_MTU                 2051u
#define DFU_COMMAND_MAX_SIZE    512u
#define DFU_DATA_MAX_SIZE       4096u

/* FIRMWARE_VERSION's image type (nrf_dfu_firmware_type_t; not the init
 * packet's FwType numbering) */
#define DFU_IMAGE_SOFTDEVICE    0x00
#define DFU_IMAGE_APPLICATION   0x01
#define DFU_IMAGE_BOOTLOADER    0x02
#define DFU_IMAGE_UNKNOWN       0xFF

/* Init packet (dfu-cc.proto, proto2) field numbers */
#define DFU_PB_PACKET_COMMAND        1
#define DFU_PB_PACKET_SIGNED_COMMAND 2
#define DFU_PB_COMMAND_OP_CODE       1
#define DFU_PB_COMMAND_INIT          2
#define DFU_PB_OP_CODE_INIT          1
#define DFU_PB_INIT_FW_VERSION       1
#define DFU_PB_INIT_HW_VERSION       2
#define DFU_PB_INIT_SD_REQ           3
#define DFU_PB_INIT_TYPE             4
#define DFU_PB_INIT_SD_SIZE          5
#define DFU_PB_INIT_BL_SIZE          6
#define DFU_PB_INIT_APP_SIZE         7
#define DFU_PB_INIT_HASH             8
#define DFU_PB_INIT_IS_DEBUG         9
#define DFU_PB_HASH_TYPE             1
#define DFU_PB_HASH_HASH             2
#define DFU_SD_REQ_NONE              0x00      /* "no SoftDevice": what a dongle app needs */

#endif
