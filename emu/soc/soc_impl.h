/* The side of struct soc that the emulator core (CPU, NVIC, run loop,
 * sanitizer, control channel) uses; models only see soc.h. */
#ifndef EMU_SOC_IMPL_H
#define EMU_SOC_IMPL_H

#include <stdio.h>

#include "soc.h"

#define SOC_MAX_PERIPHS 64
#define SOC_IRQ_LINES 64
#define SOC_MAX_UNMODELLED 256
#define SOC_PAGE_CACHE 512                   /* a power of two */

/* Hooks the DMA sanitizer installs (emu/tools/sanitizer.c). */
struct soc_dma_observer {
    void (*begin)(void *ctx, struct easydma *ch);
    void (*end)(void *ctx, struct easydma *ch);
    void (*bad_pointer)(void *ctx, struct easydma *ch);
    void (*reset)(void *ctx);            /* every transfer ended with the reset */
    void *ctx;
};

#define SOC_MAX_WATCHED_FDS 16

struct soc_fd_watch {
    int fd;
    void (*ready)(struct soc *soc, void *ctx);
    void *ctx;
};

struct soc {
    vtime_t now;
    struct sched_event *queue;           /* sorted by (when, seq) */
    uint64_t seq;

    bool irq_level[SOC_IRQ_LINES];
    void (*irq_changed)(void *ctx, unsigned irq, bool level);
    void *irq_ctx;

    struct periph *periphs[SOC_MAX_PERIPHS];
    unsigned nperiphs;
    /* soc_find_periph's cache: the model last found in each 4 KiB page
     * (hashed; a hit is checked against the model's bounds), so a register
     * access costs no scan of the list. */
    struct periph *page_cache[SOC_PAGE_CACHE];

    uint8_t *flash;                      /* SOC_FLASH_SIZE bytes */
    uint8_t *ram;                        /* SOC_RAM_SIZE bytes */

    FILE *log;
    uint32_t unmodelled[SOC_MAX_UNMODELLED];
    unsigned nunmodelled;

    struct soc_fd_watch watched[SOC_MAX_WATCHED_FDS];
    unsigned nwatched;
    /* Called when input is ready, before any ready() callback runs: the run
     * loop moves virtual time up to the moment the input arrived, so that
     * what a model schedules from the input starts then, not in the past. */
    void (*input_arrived)(void *ctx);
    void *input_ctx;

    struct soc_dma_observer dma_observer;
    uint64_t dma_transfers;              /* completed EasyDMA transfers */
};

struct soc *soc_new(FILE *log);
void soc_free(struct soc *soc);

/* Time moves only forward; fires every event due at or before `until`, in
 * order, advancing now to each event's time, then sets now = until. */
void soc_advance(struct soc *soc, vtime_t until);
/* When the next event is due, or UINT64_MAX when nothing is scheduled. */
vtime_t soc_next_event(const struct soc *soc);

/* Bus accesses from the CPU into peripheral space (32-bit). An address no
 * model claims is reported once and reads as 0. */
uint32_t soc_bus_read(struct soc *soc, uint32_t addr);
void soc_bus_write(struct soc *soc, uint32_t addr, uint32_t value);
struct periph *soc_find_periph(struct soc *soc, uint32_t addr);

void soc_reset(struct soc *soc, enum reset_kind kind);

/* Polls the watched fds (timeout_ms as poll(2): 0 = just look, -1 = block)
 * and calls ready() for each readable one. Returns how many were ready. */
int soc_poll_fds(struct soc *soc, int timeout_ms);

#endif
