/* Single-producer, single-consumer byte ring. The producer moves only head,
 * the consumer only tail, so one side may run in an interrupt handler and
 * the other in thread mode without locks. Spans let EasyDMA read or write the
 * storage in place (the storage must then be a DMA_BUFFER). */
#ifndef HILDA_RING_H
#define HILDA_RING_H

#include <stdint.h>

struct ring {
    uint8_t *data;
    uint32_t size;               /* power of two */
    volatile uint32_t head;      /* free-running write count */
    volatile uint32_t tail;      /* free-running read count */
};

/* size must be a power of two; returns 0, or -1 if it is not */
int ring_init(struct ring *r, uint8_t *storage, uint32_t size);
uint32_t ring_used(const struct ring *r);
uint32_t ring_free(const struct ring *r);
/* copy in/out as much as fits or is there; return the byte count */
uint32_t ring_write(struct ring *r, const uint8_t *src, uint32_t len);
uint32_t ring_read(struct ring *r, uint8_t *dst, uint32_t len);
/* the contiguous readable bytes at the tail: *p and the count (0 if empty) */
uint32_t ring_read_span(const struct ring *r, const uint8_t **p);
void ring_consume(struct ring *r, uint32_t len);
void ring_clear(struct ring *r);

#endif
