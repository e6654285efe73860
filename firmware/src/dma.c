/* Ownership-checked EasyDMA transfers: see dma.h for the rules. */
#include "dma.h"

static struct dma_memory memory;
/* Every channel that ever started a transfer, for dma_owns. */
static const struct dma_channel *channels[DMA_MAX_CHANNELS];

void (*dma_spin_hook)(void);

void dma_memory_set(const struct dma_memory *mem)
{
    memory = *mem;
}

/* Both fences are a full DMB on the chip: the Cortex-M4 orders the register
 * store that starts the DMA after every earlier buffer store (release), and
 * the buffer loads after the load that saw END (acquire). The "memory"
 * clobber keeps the compiler from moving buffer accesses across either. */
static inline void fence(void)
{
#if defined(__arm__)
    __asm__ volatile("dmb" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static bool in_range(uintptr_t p, size_t len, uintptr_t start, uintptr_t end)
{
    return p >= start && p <= end && len <= end - p;
}

static bool overlaps(const struct dma_transfer *t, uintptr_t p, size_t len)
{
    uintptr_t b = (uintptr_t)t->buf;
    return len != 0 && t->len != 0 && p < b + t->len && b < p + len;
}

bool dma_owns(const void *p, size_t len)
{
    for (unsigned i = 0; i < DMA_MAX_CHANNELS && channels[i]; i++) {
        const struct dma_channel *ch = channels[i];
        if ((ch->cur_busy && overlaps(&ch->cur, (uintptr_t)p, len)) ||
            (ch->next_busy && overlaps(&ch->next, (uintptr_t)p, len)))
            return true;
    }
    return false;
}

enum dma_status dma_check(const struct dma_channel *ch, const void *buf, size_t len)
{
    uintptr_t p = (uintptr_t)buf;
    if (len > ch->maxcnt_limit)
        return DMA_ERR_TOO_LONG;
    /* MAXCNT 0 moves no data, so any pointer is harmless (§3.2: nrfx sends its
     * ZLP with PTR 0). We still require a pool pointer: it costs nothing and
     * keeps the one rule simple. */
    if (!in_range(p, len, memory.ram_start, memory.ram_end))
        return DMA_ERR_NOT_IN_RAM;
    if (!in_range(p, len, memory.pool_start, memory.pool_end))
        return DMA_ERR_NOT_STATIC;
    return DMA_OK;
}

static bool remember(const struct dma_channel *ch)
{
    for (unsigned i = 0; i < DMA_MAX_CHANNELS; i++) {
        if (channels[i] == ch)
            return true;
        if (!channels[i]) {
            channels[i] = ch;
            return true;
        }
    }
    return false;   /* more channels than DMA_MAX_CHANNELS: raise the limit */
}

static enum dma_status claim(struct dma_channel *ch, void *buf, size_t len)
{
    enum dma_status st = dma_check(ch, buf, len);
    if (st != DMA_OK)
        return st;
    if (dma_owns(buf, len))
        return DMA_ERR_OWNED;
    return remember(ch) ? DMA_OK : DMA_ERR_BUSY;
}

static void trigger(volatile uint32_t *task)
{
    fence();              /* release: buffer contents before the start */
    *task = 1;
}

enum dma_status dma_start(struct dma_channel *ch, void *buf, size_t len)
{
    if (ch->cur_busy)
        return DMA_ERR_BUSY;
    if (ch->group && ch->group->active && ch->group->active != ch)
        return DMA_ERR_GROUP_BUSY;
    enum dma_status st = claim(ch, buf, len);
    if (st != DMA_OK)
        return st;

    ch->cur = (struct dma_transfer){ buf, (uint32_t)len };
    ch->cur_busy = true;
    if (ch->group)
        ch->group->active = ch;
    *ch->regs.event_end = 0;
    if (ch->regs.event_started)
        *ch->regs.event_started = 0;
    *ch->regs.ptr = (uint32_t)(uintptr_t)buf;
    *ch->regs.maxcnt = (uint32_t)len;
    if (ch->before_start)
        ch->before_start();
    trigger(ch->regs.task_start);
    return DMA_OK;
}

enum dma_status dma_queue_next(struct dma_channel *ch, void *buf, size_t len)
{
    if (!ch->double_buffered || !ch->cur_busy || ch->next_busy)
        return DMA_ERR_BUSY;
    /* PTR and MAXCNT may be rewritten only once the hardware has latched the
     * current pair (§5: "STARTED ... may now be rewritten"). */
    if (!ch->regs.event_started || !*ch->regs.event_started)
        return DMA_ERR_NOT_LATCHED;
    enum dma_status st = claim(ch, buf, len);
    if (st != DMA_OK)
        return st;
    *ch->regs.event_started = 0;
    ch->next = (struct dma_transfer){ buf, (uint32_t)len };
    ch->next_busy = true;
    fence();
    *ch->regs.ptr = (uint32_t)(uintptr_t)buf;
    *ch->regs.maxcnt = (uint32_t)len;
    return DMA_OK;
}

enum dma_status dma_start_queued(struct dma_channel *ch)
{
    if (!ch->next_busy || ch->cur_busy)
        return ch->next_busy ? DMA_ERR_BUSY : DMA_ERR_IDLE;
    ch->cur = ch->next;
    ch->cur_busy = true;
    ch->next_busy = false;
    *ch->regs.event_end = 0;
    trigger(ch->regs.task_start);
    return DMA_OK;
}

static void hand_back(struct dma_channel *ch, struct dma_transfer *done)
{
    fence();              /* acquire: END observed before the buffer is read */
    if (done) {
        done->buf = ch->cur.buf;
        done->len = *ch->regs.amount;
    }
    ch->completed++;
    if (ch->group) {
        ch->group->completed++;
        ch->group->active = NULL;
    }
    if (ch->after_end)
        ch->after_end();
    /* With the ENDRX->STARTRX short the hardware is already filling the
     * queued buffer: it becomes the current transfer. */
    ch->cur_busy = ch->next_busy;
    ch->cur = ch->next;
    ch->next_busy = false;
    if (ch->cur_busy && ch->group)
        ch->group->active = ch;
}

enum dma_status dma_complete(struct dma_channel *ch, struct dma_transfer *done)
{
    if (!ch->cur_busy)
        return ch->next_busy ? DMA_ERR_IN_FLIGHT : DMA_ERR_IDLE;
    if (!*ch->regs.event_end)
        return DMA_ERR_IN_FLIGHT;
    *ch->regs.event_end = 0;
    hand_back(ch, done);
    return DMA_OK;
}

static bool spin_until(volatile uint32_t *event)
{
    for (uint32_t i = 0; i < DMA_SPIN_LIMIT; i++) {
        if (*event)
            return true;
        if (dma_spin_hook)
            dma_spin_hook();
    }
    return *event != 0;
}

enum dma_status dma_wait(struct dma_channel *ch, struct dma_transfer *done)
{
    if (!ch->cur_busy)
        return DMA_ERR_IDLE;
    if (!spin_until(ch->regs.event_end))
        return DMA_ERR_IN_FLIGHT;
    return dma_complete(ch, done);
}

enum dma_status dma_abort(struct dma_channel *ch, struct dma_transfer *partial)
{
    if (partial)
        *partial = (struct dma_transfer){ 0, 0 };
    if (!ch->cur_busy && !ch->next_busy)
        return DMA_OK;
    volatile uint32_t *confirm = ch->regs.event_end;
    if (ch->cur_busy && ch->regs.task_stop) {
        if (ch->regs.event_stopped) {
            confirm = ch->regs.event_stopped;
            *confirm = 0;
        }
        *ch->regs.task_stop = 1;
    }
    if (ch->cur_busy && !spin_until(confirm))
        return DMA_ERR_STUCK;
    fence();
    if (ch->cur_busy && partial)
        *partial = (struct dma_transfer){ ch->cur.buf, *ch->regs.amount };
    *ch->regs.event_end = 0;
    if (ch->regs.event_stopped)
        *ch->regs.event_stopped = 0;
    if (ch->group && ch->group->active == ch)
        ch->group->active = NULL;
    if (ch->cur_busy && ch->after_end)
        ch->after_end();
    ch->cur_busy = false;
    ch->next_busy = false;
    return DMA_OK;
}

bool dma_busy(const struct dma_channel *ch)
{
    return ch->cur_busy || ch->next_busy;
}

const char *dma_status_text(enum dma_status st)
{
    switch (st) {
    case DMA_OK: return "ok";
    case DMA_ERR_NOT_IN_RAM: return "buffer outside data RAM";
    case DMA_ERR_NOT_STATIC: return "buffer outside the dma_buffers section";
    case DMA_ERR_TOO_LONG: return "length exceeds MAXCNT";
    case DMA_ERR_BUSY: return "channel busy";
    case DMA_ERR_GROUP_BUSY: return "another channel of the peripheral is busy";
    case DMA_ERR_OWNED: return "buffer owned by another transfer";
    case DMA_ERR_IN_FLIGHT: return "transfer still in flight";
    case DMA_ERR_IDLE: return "no transfer";
    case DMA_ERR_NOT_LATCHED: return "current buffer not latched yet";
    case DMA_ERR_STUCK: return "stop not confirmed";
    }
    return "unknown";
}
