/* SLIP framing (RFC 1055) as Nordic's Secure DFU serial transport uses it:
 * END after each packet (none before), END and ESC escaped. Shared by the
 * bootloader (firmware/bootloader) and the host flasher; no allocation, no
 * libc beyond <stdint.h>/<stddef.h>/<stdbool.h>. */
#ifndef HILDA_SLIP_H
#define HILDA_SLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encodes len bytes of in into out (capacity cap), END included. Returns
 * the encoded length, or 0 when cap is too small (at most 2 * len + 1 is
 * needed). */
size_t slip_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* A decoder fed one byte at a time; the packet collects in buf. */
struct slip_decoder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool escaped;
    bool overflow;     /* the packet did not fit: it is dropped at its END */
    bool bad_escape;   /* ESC followed by something else: the packet is dropped */
};

enum slip_event {
    SLIP_MORE,         /* keep feeding */
    SLIP_PACKET,       /* buf[0..len) holds a whole packet; slip_decoder_next before feeding again */
    SLIP_DROPPED,      /* a packet ended but was too long or badly escaped */
};

void slip_decoder_init(struct slip_decoder *d, uint8_t *buf, size_t cap);
enum slip_event slip_decoder_feed(struct slip_decoder *d, uint8_t byte);
/* Forget the packet just delivered (or dropped) and start the next. */
void slip_decoder_next(struct slip_decoder *d);

#endif
