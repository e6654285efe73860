/* Ownership-checked EasyDMA transfers (DESIGN.md, "Memory-safe DMA, in C").
 *
 * The rules, each enforced here at run time and by hilda-emu's sanitizer:
 *  1. A buffer is in data RAM: EasyDMA cannot reach anything else (§1.1, §5).
 *  2. A buffer lives in the dma_buffers section (declared with DMA_BUFFER), so it
 *     outlives any transfer: a stack buffer is refused.
 *  3. dma_start takes the buffer; dma_complete (or dma_abort) hands it back.
 *     A channel with a transfer refuses a second start, and no two transfers may
 *     own overlapping memory.
 *  4. A release fence precedes the start task; an acquire fence follows the END
 *     event, before the buffer is handed back.
 *  5. dma_abort triggers the stop task and waits for the hardware to confirm
 *     before handing the buffer back; if it never confirms, the buffer stays owned.
 *  6. Per-channel MAXCNT limits; channels in one group (the USBD) run one at a time.
 *
 * Channels describe their registers by address, so host unit tests run this
 * module against a fake register block. */
#ifndef HILDA_DMA_H
#define HILDA_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Statically allocated, DMA-capable storage. The section name is a C
 * identifier so that host linkers provide __start_/__stop_ symbols too. */
#define DMA_BUFFER __attribute__((section("dma_buffers"), aligned(4)))

enum dma_status {
    DMA_OK = 0,
    DMA_ERR_NOT_IN_RAM = -1,    /* outside data RAM: EasyDMA cannot reach it */
    DMA_ERR_NOT_STATIC = -2,    /* outside the dma_buffers section (a stack buffer, say) */
    DMA_ERR_TOO_LONG = -3,      /* longer than the channel's MAXCNT */
    DMA_ERR_BUSY = -4,          /* the channel already has a transfer (or both slots, double-buffered) */
    DMA_ERR_GROUP_BUSY = -5,    /* another channel of the same peripheral is transferring */
    DMA_ERR_OWNED = -6,         /* the range overlaps memory another transfer owns */
    DMA_ERR_IN_FLIGHT = -7,     /* END not seen yet: the buffer still belongs to the DMA */
    DMA_ERR_IDLE = -8,          /* no transfer to complete */
    DMA_ERR_NOT_LATCHED = -9,   /* next buffer queued before the hardware latched the current one */
    DMA_ERR_STUCK = -10,        /* abort: the hardware never confirmed the stop; buffer kept */
};

/* Where data RAM and the dma_buffers section are. The firmware takes these from
 * the chip and the linker script; unit tests describe their own memory. */
struct dma_memory {
    uintptr_t ram_start, ram_end;   /* [start, end) */
    uintptr_t pool_start, pool_end; /* [start, end) of the dma_buffers section */
};

/* The registers of one EasyDMA channel, by address. */
struct dma_regs {
    volatile uint32_t *ptr, *maxcnt, *amount;
    volatile uint32_t *task_start;
    volatile uint32_t *task_stop;      /* NULL: cannot be stopped; abort waits for END */
    volatile uint32_t *event_started;  /* NULL: no "latched" event (not double-buffered) */
    volatile uint32_t *event_end;
    volatile uint32_t *event_stopped;  /* NULL: END confirms a stop */
};

/* Channels that share one DMA engine and may not run at once. */
struct dma_group {
    const char *name;
    const struct dma_channel *active;
    uint32_t completed;                /* transfers completed on any channel of the group */
};

struct dma_transfer {
    uint8_t *buf;
    uint32_t len;
};

struct dma_channel {
    /* configuration, set before first use */
    const char *name;
    struct dma_regs regs;
    uint32_t maxcnt_limit;
    struct dma_group *group;           /* NULL: independent channel */
    bool double_buffered;              /* a second buffer may be queued after STARTED */
    void (*before_start)(void);        /* errata hooks (USBD errata 199), may be NULL */
    void (*after_end)(void);
    /* state, owned by this module */
    struct dma_transfer cur, next;
    bool cur_busy, next_busy;
    uint32_t completed;
};

/* How many distinct channels may ever start a transfer (dma_owns checks
 * them all); the firmware has 7. */
#define DMA_MAX_CHANNELS 16

void dma_memory_set(const struct dma_memory *mem);

/* Checks rules 1, 2 and the MAXCNT limit without starting anything. */
enum dma_status dma_check(const struct dma_channel *ch, const void *buf, size_t len);

/* Takes ownership of [buf, buf+len) and starts the transfer (rule 3, 4). */
enum dma_status dma_start(struct dma_channel *ch, void *buf, size_t len);

/* Double-buffered channels: after the hardware latched the current transfer
 * (its STARTED event), hand it the buffer it continues into. Does not trigger
 * the start task: a SHORTS link or a later dma_start_queued does. */
enum dma_status dma_queue_next(struct dma_channel *ch, void *buf, size_t len);

/* Triggers the start task for a buffer queued with dma_queue_next, for when
 * the hardware finished the previous one before the short was in place. */
enum dma_status dma_start_queued(struct dma_channel *ch);

/* If END is set: consumes it, acquire fence, hands the buffer back through
 * *done (may be NULL) with AMOUNT. DMA_ERR_IN_FLIGHT otherwise. A queued next
 * buffer becomes the current one. */
enum dma_status dma_complete(struct dma_channel *ch, struct dma_transfer *done);

/* Spins (bounded) for END, then dma_complete. For USBD transfers of at most
 * 64 bytes, which the nRF finishes in microseconds (§2.8: nrfx does the same). */
enum dma_status dma_wait(struct dma_channel *ch, struct dma_transfer *done);

/* Stops the channel and waits for the hardware to confirm, then hands back
 * every buffer the channel owned; *partial (may be NULL) gets the current
 * buffer and the AMOUNT it received before the stop. DMA_ERR_STUCK keeps
 * every buffer owned. */
enum dma_status dma_abort(struct dma_channel *ch, struct dma_transfer *partial);

bool dma_busy(const struct dma_channel *ch);

/* True if any running transfer owns a byte of [p, p+len). */
bool dma_owns(const void *p, size_t len);

/* Called on every iteration of a wait loop; the emulator and the chip need
 * nothing, unit tests use it to play the hardware. */
extern void (*dma_spin_hook)(void);

/* Upper bound on wait-loop iterations before a wait gives up. */
#define DMA_SPIN_LIMIT 1000000u

const char *dma_status_text(enum dma_status st);

#endif
