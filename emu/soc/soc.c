/* Virtual time, the event scheduler, interrupt lines, the peripheral bus and
 * EasyDMA: everything models share, with no CPU in sight. */
#include "soc_impl.h"

#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct soc *soc_new(FILE *log)
{
    struct soc *soc = calloc(1, sizeof *soc);
    if (!soc)
        return NULL;
    soc->flash = malloc(SOC_FLASH_SIZE);
    soc->ram = calloc(1, SOC_RAM_SIZE);
    if (!soc->flash || !soc->ram) {
        soc_free(soc);
        return NULL;
    }
    memset(soc->flash, 0xFF, SOC_FLASH_SIZE);   /* erased flash */
    soc->log = log ? log : stderr;
    return soc;
}

void soc_free(struct soc *soc)
{
    if (!soc)
        return;
    free(soc->flash);
    free(soc->ram);
    free(soc);
}

vtime_t soc_now(const struct soc *soc)
{
    return soc->now;
}

static bool before(const struct sched_event *a, const struct sched_event *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

void soc_cancel(struct soc *soc, struct sched_event *ev)
{
    if (!ev->pending)
        return;
    for (struct sched_event **pp = &soc->queue; *pp; pp = &(*pp)->next) {
        if (*pp == ev) {
            *pp = ev->next;
            break;
        }
    }
    ev->pending = false;
    ev->next = NULL;
}

void soc_schedule(struct soc *soc, struct sched_event *ev, vtime_t delay)
{
    soc_cancel(soc, ev);
    ev->when = soc->now + delay;
    ev->seq = soc->seq++;
    ev->pending = true;
    struct sched_event **pp = &soc->queue;
    while (*pp && before(*pp, ev))
        pp = &(*pp)->next;
    ev->next = *pp;
    *pp = ev;
}

vtime_t soc_next_event(const struct soc *soc)
{
    return soc->queue ? soc->queue->when : UINT64_MAX;
}

void soc_advance(struct soc *soc, vtime_t until)
{
    while (soc->queue && soc->queue->when <= until) {
        struct sched_event *ev = soc->queue;
        soc->queue = ev->next;
        ev->next = NULL;
        ev->pending = false;
        if (ev->when > soc->now)
            soc->now = ev->when;
        ev->fire(soc, ev->ctx);
    }
    if (until > soc->now)
        soc->now = until;
}

void soc_irq_set(struct soc *soc, unsigned irq, bool level)
{
    if (irq >= SOC_IRQ_LINES || soc->irq_level[irq] == level)
        return;
    soc->irq_level[irq] = level;
    if (soc->irq_changed)
        soc->irq_changed(soc->irq_ctx, irq, level);
}

void soc_add_periph(struct soc *soc, struct periph *p)
{
    if (soc->nperiphs == SOC_MAX_PERIPHS) {
        soc_log(soc, "emu: too many peripherals, %s not added\n", p->name);
        return;
    }
    /* The page cache returns any model that holds the address: with two
     * models on one address, which one answered would depend on the order of
     * accesses. A chip is built without such overlaps. */
    for (unsigned i = 0; i < soc->nperiphs; i++) {
        const struct periph *q = soc->periphs[i];
        if ((uint64_t)p->base < (uint64_t)q->base + q->size && (uint64_t)q->base < (uint64_t)p->base + p->size) {
            soc_log(soc, "emu: %s [0x%08x, +0x%x) overlaps %s, not added\n", p->name, p->base, p->size, q->name);
            return;
        }
    }
    p->soc = soc;
    soc->periphs[soc->nperiphs++] = p;
    memset(soc->page_cache, 0, sizeof soc->page_cache);
}

static unsigned page_slot(uint32_t addr)
{
    return ((addr >> 12) ^ (addr >> 24)) & (SOC_PAGE_CACHE - 1);
}

struct periph *soc_find_periph(struct soc *soc, uint32_t addr)
{
    struct periph **slot = &soc->page_cache[page_slot(addr)];
    struct periph *p = *slot;
    if (p && addr >= p->base && addr - p->base < p->size)
        return p;
    for (unsigned i = 0; i < soc->nperiphs; i++) {
        p = soc->periphs[i];
        if (addr >= p->base && addr - p->base < p->size) {
            *slot = p;
            return p;
        }
    }
    return NULL;
}

static void report_once(struct soc *soc, const char *who, uint32_t addr, bool write)
{
    for (unsigned i = 0; i < soc->nunmodelled && i < SOC_MAX_UNMODELLED; i++) {
        if (soc->unmodelled[i] == addr)
            return;
    }
    /* A firmware sweeping memory could otherwise flood the log: after the
     * table is full, say so once and stay quiet. */
    if (soc->nunmodelled == SOC_MAX_UNMODELLED) {
        soc_log(soc, "emu: more than %d distinct unmodelled addresses; no further reports\n",
                SOC_MAX_UNMODELLED);
        soc->nunmodelled++;
        return;
    }
    if (soc->nunmodelled > SOC_MAX_UNMODELLED)
        return;
    soc->unmodelled[soc->nunmodelled++] = addr;
    soc_log(soc, "emu: unmodelled %s of 0x%08x (%s)%s\n", write ? "write" : "read", addr, who,
            write ? ", dropped" : ", reads as 0");
}

void soc_unmodelled(struct soc *soc, const struct periph *p, uint32_t offset, bool write)
{
    report_once(soc, p->name, p->base + offset, write);
}

uint32_t soc_bus_read(struct soc *soc, uint32_t addr)
{
    struct periph *p = soc_find_periph(soc, addr);
    if (!p || !p->read) {
        report_once(soc, "no model", addr, false);
        return 0;
    }
    return p->read(p, addr - p->base);
}

void soc_bus_write(struct soc *soc, uint32_t addr, uint32_t value)
{
    struct periph *p = soc_find_periph(soc, addr);
    if (!p || !p->write) {
        report_once(soc, "no model", addr, true);
        return;
    }
    p->write(p, addr - p->base, value);
}

void soc_reset(struct soc *soc, enum reset_kind kind)
{
    /* Pending events belong to the old run of the peripherals. */
    while (soc->queue)
        soc_cancel(soc, soc->queue);
    for (unsigned i = 0; i < SOC_IRQ_LINES; i++)
        soc_irq_set(soc, i, false);
    if (kind == RESET_POWER_ON)
        memset(soc->ram, 0, SOC_RAM_SIZE);
    if (soc->dma_observer.reset)
        soc->dma_observer.reset(soc->dma_observer.ctx);
    for (unsigned i = 0; i < soc->nperiphs; i++) {
        if (soc->periphs[i]->reset)
            soc->periphs[i]->reset(soc->periphs[i], kind);
    }
}

void soc_log(struct soc *soc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(soc->log, fmt, ap);
    va_end(ap);
    fflush(soc->log);
}

uint8_t *soc_ram(struct soc *soc, uint32_t addr, uint32_t len)
{
    if (addr < SOC_RAM_BASE || addr - SOC_RAM_BASE > SOC_RAM_SIZE || len > SOC_RAM_SIZE - (addr - SOC_RAM_BASE))
        return NULL;
    return soc->ram + (addr - SOC_RAM_BASE);
}

void easydma_begin(struct soc *soc, struct easydma *ch, uint32_t ptr, uint32_t maxcnt)
{
    ch->ptr = ptr;
    ch->maxcnt = maxcnt;
    ch->done = 0;
    ch->active = true;
    /* MAXCNT 0 touches no memory, so any pointer is fine (§3.2: nrfx sends
     * its ZLP with PTR 0). */
    ch->bad_pointer = maxcnt != 0 && !soc_ram(soc, ptr, maxcnt);
    if (ch->bad_pointer) {
        soc_log(soc, "emu: %s %s EasyDMA pointer 0x%08x (%u bytes) is outside data RAM; "
                "real silicon may HardFault or corrupt RAM\n", ch->periph, ch->channel, ptr, maxcnt);
        if (soc->dma_observer.bad_pointer)
            soc->dma_observer.bad_pointer(soc->dma_observer.ctx, ch);
    }
    if (soc->dma_observer.begin)
        soc->dma_observer.begin(soc->dma_observer.ctx, ch);
}

static uint32_t dma_room(const struct easydma *ch, uint32_t len)
{
    if (!ch->active || ch->bad_pointer)
        return 0;
    uint32_t left = ch->maxcnt - ch->done;
    return len < left ? len : left;
}

uint32_t easydma_write(struct soc *soc, struct easydma *ch, const uint8_t *src, uint32_t len)
{
    uint32_t n = dma_room(ch, len);
    if (n) {
        memcpy(soc_ram(soc, ch->ptr + ch->done, n), src, n);
        ch->done += n;
    }
    return n;
}

uint32_t easydma_read(struct soc *soc, struct easydma *ch, uint8_t *dst, uint32_t len)
{
    uint32_t n = dma_room(ch, len);
    if (n) {
        memcpy(dst, soc_ram(soc, ch->ptr + ch->done, n), n);
        ch->done += n;
    }
    return n;
}

void easydma_end(struct soc *soc, struct easydma *ch)
{
    if (!ch->active)
        return;
    ch->active = false;
    soc->dma_transfers++;
    if (soc->dma_observer.end)
        soc->dma_observer.end(soc->dma_observer.ctx, ch);
}

void soc_watch_fd(struct soc *soc, int fd, void (*ready)(struct soc *soc, void *ctx), void *ctx)
{
    soc_unwatch_fd(soc, fd);
    if (soc->nwatched == SOC_MAX_WATCHED_FDS) {
        soc_log(soc, "emu: too many watched file descriptors, fd %d ignored\n", fd);
        return;
    }
    soc->watched[soc->nwatched++] = (struct soc_fd_watch){ fd, ready, ctx };
}

void soc_unwatch_fd(struct soc *soc, int fd)
{
    for (unsigned i = 0; i < soc->nwatched; i++) {
        if (soc->watched[i].fd == fd) {
            soc->watched[i] = soc->watched[--soc->nwatched];
            return;
        }
    }
}

int soc_poll_fds(struct soc *soc, int timeout_ms)
{
    struct pollfd pfd[SOC_MAX_WATCHED_FDS];
    struct soc_fd_watch w[SOC_MAX_WATCHED_FDS];
    unsigned n = soc->nwatched;

    if (n == 0)
        return 0;
    /* ready() may watch or unwatch fds: work on a copy */
    memcpy(w, soc->watched, n * sizeof w[0]);
    for (unsigned i = 0; i < n; i++)
        pfd[i] = (struct pollfd){ .fd = w[i].fd, .events = POLLIN };
    int got = poll(pfd, n, timeout_ms);
    if (got <= 0)
        return 0;
    if (soc->input_arrived)
        soc->input_arrived(soc->input_ctx);
    for (unsigned i = 0; i < n; i++) {
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
            w[i].ready(soc, w[i].ctx);
    }
    return got;
}
