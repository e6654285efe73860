#include "slip.h"

#include "hilda/dfu.h"

size_t slip_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = in[i];
        bool escape = b == SLIP_END || b == SLIP_ESC;
        if (n + (escape ? 2u : 1u) > cap)
            return 0;
        if (escape) {
            out[n++] = SLIP_ESC;
            out[n++] = b == SLIP_END ? SLIP_ESC_END : SLIP_ESC_ESC;
        } else {
            out[n++] = b;
        }
    }
    if (n + 1 > cap)
        return 0;
    out[n++] = SLIP_END;
    return n;
}

void slip_decoder_init(struct slip_decoder *d, uint8_t *buf, size_t cap)
{
    d->buf = buf;
    d->cap = cap;
    slip_decoder_next(d);
}

void slip_decoder_next(struct slip_decoder *d)
{
    d->len = 0;
    d->escaped = false;
    d->overflow = false;
    d->bad_escape = false;
}

static void put(struct slip_decoder *d, uint8_t b)
{
    if (d->len < d->cap)
        d->buf[d->len++] = b;
    else
        d->overflow = true;
}

enum slip_event slip_decoder_feed(struct slip_decoder *d, uint8_t byte)
{
    if (byte == SLIP_END) {
        /* An END with nothing before it is what some hosts send to flush the
         * line: not a packet. */
        if (d->len == 0 && !d->overflow && !d->bad_escape && !d->escaped)
            return SLIP_MORE;
        return d->overflow || d->bad_escape || d->escaped ? SLIP_DROPPED : SLIP_PACKET;
    }
    if (d->escaped) {
        d->escaped = false;
        if (byte == SLIP_ESC_END)
            put(d, SLIP_END);
        else if (byte == SLIP_ESC_ESC)
            put(d, SLIP_ESC);
        else
            d->bad_escape = true;
    } else if (byte == SLIP_ESC) {
        d->escaped = true;
    } else {
        put(d, byte);
    }
    return SLIP_MORE;
}
