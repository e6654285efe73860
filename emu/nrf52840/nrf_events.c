#include "nrf_events.h"

static void update_irq(struct nrf_events *e)
{
    if (e->irq < 0)
        return;
    /* INTEN has 32 bits: events past bit 31 (none on the modelled
     * peripherals' interrupt sources) cannot interrupt. */
    bool level = ((uint32_t)e->set & e->inten) != 0;
    soc_irq_set(e->p->soc, (unsigned)e->irq, level);
}

void nrf_events_init(struct nrf_events *e, struct periph *p, int irq)
{
    e->p = p;
    e->irq = irq;
    nrf_events_reset(e);
}

void nrf_events_reset(struct nrf_events *e)
{
    e->set = 0;
    e->inten = 0;
    e->shorts = 0;
    if (e->p && e->p->soc)
        update_irq(e);
}

void nrf_events_raise(struct nrf_events *e, uint32_t event_offset)
{
    e->set |= 1ull << NRF_EVENT_BIT(event_offset);
    update_irq(e);
}

bool nrf_events_is_set(const struct nrf_events *e, uint32_t event_offset)
{
    return (e->set >> NRF_EVENT_BIT(event_offset)) & 1u;
}

void nrf_events_clear(struct nrf_events *e, uint32_t event_offset)
{
    e->set &= ~(1ull << NRF_EVENT_BIT(event_offset));
    update_irq(e);
}

bool nrf_events_read(struct nrf_events *e, uint32_t offset, uint32_t *value)
{
    if (offset >= NRF_EVENTS_BASE && offset < NRF_EVENTS_END) {
        *value = nrf_events_is_set(e, offset);
        return true;
    }
    switch (offset) {
    case NRF_SHORTS:
        *value = e->shorts;
        return true;
    case NRF_INTEN:
    case NRF_INTENSET:
    case NRF_INTENCLR:
        *value = e->inten;
        return true;
    }
    return false;
}

bool nrf_events_write(struct nrf_events *e, uint32_t offset, uint32_t value)
{
    if (offset >= NRF_EVENTS_BASE && offset < NRF_EVENTS_END) {
        /* Software may set an event too (it then behaves as if fired). */
        if (value & 1u)
            nrf_events_raise(e, offset);
        else
            nrf_events_clear(e, offset);
        return true;
    }
    switch (offset) {
    case NRF_SHORTS:
        e->shorts = value;
        return true;
    case NRF_INTEN:
        e->inten = value;
        break;
    case NRF_INTENSET:
        e->inten |= value;
        break;
    case NRF_INTENCLR:
        e->inten &= ~value;
        break;
    default:
        return false;
    }
    update_irq(e);
    return true;
}
