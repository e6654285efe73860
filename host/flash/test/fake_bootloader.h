/* A Secure DFU peer for the client's unit tests: the behaviour of Nordic's
 * open bootloader as the protocol documentation and SDK 17.1's bootloader
 * under hilda-emu showed it (MTU 2051, command objects up to 512 bytes, data
 * objects of 4096, CRC-32 of the stream, hash check at the last EXECUTE, the
 * extended errors), in memory. The real bootloaders (hilda's own, Nordic's)
 * are exercised end to end under the emulator; this one lets the tests cut
 * the line at any byte and look at every answer. */
#ifndef HILDA_FAKE_BOOTLOADER_H
#define HILDA_FAKE_BOOTLOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfu.h"
#include "slip.h"

#define FAKE_FLASH_SIZE (64 * 1024)

struct fake_bootloader {
    /* what survives a power cut */
    uint8_t init[512];
    size_t init_len;
    bool init_valid;             /* executed and accepted */
    uint8_t flash[FAKE_FLASH_SIZE];
    size_t executed;             /* data bytes in executed objects */
    bool app_valid;
    unsigned hw_version;         /* what the chip is (52) */

    /* RAM state, lost on a power cut */
    uint8_t cmd_buf[512];
    size_t cmd_len, cmd_size;
    size_t data_offset;          /* bytes received, executed or not */
    size_t obj_start, obj_size;
    bool obj_open;
    uint8_t current;             /* object type of the last SELECT or CREATE */
    struct slip_decoder rx;
    uint8_t rx_buf[2100];
    uint8_t out[256];
    size_t out_len, out_pos;

    /* test knobs */
    bool keeps_partial;          /* after a power cut, data of an object not yet executed is still
                                    there (reported by SELECT; the host finishes the object) */
    long cut_after_bytes;        /* >= 0: the line dies after this many more bytes from the host */
    bool dead;
    unsigned writes, creates, executes;
};

void fake_bootloader_init(struct fake_bootloader *b);
/* Power cut and restart: RAM state lost, flash kept. */
void fake_bootloader_restart(struct fake_bootloader *b);
struct hilda_dfu_transport fake_bootloader_transport(struct fake_bootloader *b);

#endif
