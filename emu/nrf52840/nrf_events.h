/* Events, INTEN and SHORTS as every nRF52 peripheral has them (reference
 * §1.4): EVENTS_x at 0x100 + 4i reads 1 once fired and is cleared by writing
 * 0; INTEN bit i enables the interrupt of event i; the IRQ line is high while
 * any enabled event is set. Models embed one struct nrf_events and route the
 * common registers through nrf_events_read/write. */
#ifndef EMU_NRF_EVENTS_H
#define EMU_NRF_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"

#define NRF_EVENTS_BASE 0x100u
#define NRF_EVENTS_END  0x200u
#define NRF_SHORTS      0x200u
#define NRF_INTEN       0x300u
#define NRF_INTENSET    0x304u
#define NRF_INTENCLR    0x308u

struct nrf_events {
    struct periph *p;
    int irq;                   /* -1: no interrupt */
    uint64_t set;              /* bit i: the event at 0x100 + 4i is set */
    uint32_t inten;
    uint32_t shorts;
};

#define NRF_EVENT_BIT(offset) (((offset) - NRF_EVENTS_BASE) / 4u)
#define NRF_EVENT_MASK(offset) (1u << NRF_EVENT_BIT(offset))

void nrf_events_init(struct nrf_events *e, struct periph *p, int irq);
void nrf_events_reset(struct nrf_events *e);
void nrf_events_raise(struct nrf_events *e, uint32_t event_offset);
bool nrf_events_is_set(const struct nrf_events *e, uint32_t event_offset);
void nrf_events_clear(struct nrf_events *e, uint32_t event_offset);

/* Handle an access to the events, SHORTS or INTEN registers; false if the
 * offset is none of them. */
bool nrf_events_read(struct nrf_events *e, uint32_t offset, uint32_t *value);
bool nrf_events_write(struct nrf_events *e, uint32_t offset, uint32_t value);

#endif
