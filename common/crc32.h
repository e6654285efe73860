/* CRC-32 as zlib computes it (IEEE 802.3, reflected polynomial 0xEDB88320,
 * initial and final XOR 0xFFFFFFFF): what Secure DFU's CRC_GET reports over
 * the bytes of an object stream. Bitwise, no table: the bootloader has little
 * flash to spare and 4 KiB objects are small. */
#ifndef HILDA_CRC32_H
#define HILDA_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc32_update(0, data, len) is the CRC of data; feeding a stream in pieces,
 * each call with the previous result, gives the CRC of the whole stream. */
uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len);

#endif
