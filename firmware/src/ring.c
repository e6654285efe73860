/* Single-producer, single-consumer byte ring (ring.h).
 *
 * head and tail count bytes ever written and read; they wrap at 2^32 and
 * only their difference matters, so "full" and "empty" are never confused
 * and no slot is wasted. The size being a power of two makes the index a
 * mask and keeps the count exact across the 2^32 wrap.
 *
 * Ordering: the producer stores the bytes before it publishes head, the
 * consumer loads them after it saw head (and mirrored for tail). Both sides
 * run on one core, so a compiler fence is all that is needed; where EasyDMA
 * reads or writes the storage, the DMA API adds the hardware fences
 * (dma.h rule 4). */
#include "ring.h"

#include <stdatomic.h>
#include <string.h>

int ring_init(struct ring *r, uint8_t *storage, uint32_t size)
{
    if (size == 0 || (size & (size - 1)) != 0)
        return -1;
    r->data = storage;
    r->size = size;
    r->head = 0;
    r->tail = 0;
    return 0;
}

uint32_t ring_used(const struct ring *r)
{
    return r->head - r->tail;
}

uint32_t ring_free(const struct ring *r)
{
    return r->size - ring_used(r);
}

uint32_t ring_write(struct ring *r, const uint8_t *src, uint32_t len)
{
    uint32_t head = r->head;
    uint32_t space = r->size - (head - r->tail);
    if (len > space)
        len = space;
    if (len == 0)
        return 0;
    uint32_t at = head & (r->size - 1);
    uint32_t first = r->size - at;     /* bytes up to the end of storage */
    if (first > len)
        first = len;
    memcpy(r->data + at, src, first);
    memcpy(r->data, src + first, len - first);
    atomic_signal_fence(memory_order_release);
    r->head = head + len;
    return len;
}

uint32_t ring_read(struct ring *r, uint8_t *dst, uint32_t len)
{
    uint32_t tail = r->tail;
    uint32_t avail = r->head - tail;
    atomic_signal_fence(memory_order_acquire);
    if (len > avail)
        len = avail;
    if (len == 0)
        return 0;
    uint32_t at = tail & (r->size - 1);
    uint32_t first = r->size - at;
    if (first > len)
        first = len;
    memcpy(dst, r->data + at, first);
    memcpy(dst + first, r->data, len - first);
    atomic_signal_fence(memory_order_release);
    r->tail = tail + len;
    return len;
}

uint32_t ring_read_span(const struct ring *r, const uint8_t **p)
{
    uint32_t tail = r->tail;
    uint32_t avail = r->head - tail;
    atomic_signal_fence(memory_order_acquire);
    uint32_t at = tail & (r->size - 1);
    uint32_t span = r->size - at;
    *p = r->data + at;
    return avail < span ? avail : span;
}

void ring_consume(struct ring *r, uint32_t len)
{
    uint32_t tail = r->tail;
    uint32_t avail = r->head - tail;
    /* A caller that consumes more than is there would hand the producer
     * space it has not written yet: clamp rather than corrupt. */
    if (len > avail)
        len = avail;
    atomic_signal_fence(memory_order_release);
    r->tail = tail + len;
}

/* A consumer-side operation: it discards what is there by catching tail up
 * with head, so it is as safe against a concurrent producer as a read. */
void ring_clear(struct ring *r)
{
    r->tail = r->head;
}
