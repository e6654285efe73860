/* What a peripheral model sees of the emulated nRF52840: virtual time, the
 * event scheduler, interrupt lines, the memory EasyDMA reaches, and
 * diagnostics. The CPU (Unicorn), the NVIC and the run loop live behind this
 * interface, so models and their unit tests need none of them. */
#ifndef EMU_SOC_H
#define EMU_SOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t vtime_t;             /* CPU cycles at 64 MHz since power-on */
#define SOC_HZ 64000000ull
#define SOC_CYCLES_PER_US 64ull
#define SOC_US(us) ((vtime_t)(us) * SOC_CYCLES_PER_US)
#define SOC_MS(ms) ((vtime_t)(ms) * 1000ull * SOC_CYCLES_PER_US)

#define SOC_FLASH_BASE 0x00000000u
#define SOC_FLASH_SIZE 0x00100000u
#define SOC_RAM_BASE   0x20000000u
#define SOC_RAM_SIZE   0x00040000u
#define SOC_CODE_RAM_ALIAS 0x00800000u   /* data RAM again, on the code bus (executable) */

struct soc;

/* A scheduled callback. Owned by the model (embed it in the model state);
 * the scheduler only links it. Events at the same time fire in the order
 * they were scheduled, so a run is deterministic. */
struct sched_event {
    const char *name;
    void (*fire)(struct soc *soc, void *ctx);
    void *ctx;
    /* scheduler-private */
    vtime_t when;
    uint64_t seq;
    bool pending;
    struct sched_event *next;
};

vtime_t soc_now(const struct soc *soc);
/* (Re)schedules ev at now + delay cycles; a pending event is moved. */
void soc_schedule(struct soc *soc, struct sched_event *ev, vtime_t delay);
void soc_cancel(struct soc *soc, struct sched_event *ev);

/* Level of a peripheral interrupt line (nRF: high while any enabled event is
 * set). The NVIC pends the IRQ on a rising level and again on exception
 * return while it stays high. */
void soc_irq_set(struct soc *soc, unsigned irq, bool level);

enum reset_kind {
    RESET_POWER_ON,   /* everything back to reset values */
    RESET_SYSTEM,     /* AIRCR.SYSRESETREQ / pin reset: GPREGRET and RESETREAS survive */
};

/* One peripheral at [base, base + size). Offsets passed to read/write are
 * from base; accesses are 32-bit words. */
struct periph {
    const char *name;
    uint32_t base, size;
    uint32_t (*read)(struct periph *p, uint32_t offset);
    void (*write)(struct periph *p, uint32_t offset, uint32_t value);
    void (*reset)(struct periph *p, enum reset_kind kind);
    void *state;
    struct soc *soc;          /* set by soc_add_periph */
};

void soc_add_periph(struct soc *soc, struct periph *p);

/* A model that does not implement a register calls this: it is reported
 * once per address (reads then return 0, writes are dropped). */
void soc_unmodelled(struct soc *soc, const struct periph *p, uint32_t offset, bool write);

/* External input (a pseudo-terminal, the control socket): the run loop
 * polls fd between slices of CPU time, and blocks on it while the CPU sleeps
 * with nothing scheduled; ready() runs when fd is readable. */
void soc_watch_fd(struct soc *soc, int fd, void (*ready)(struct soc *soc, void *ctx), void *ctx);
void soc_unwatch_fd(struct soc *soc, int fd);

/* printf-style diagnostics to the run's log (stderr unless redirected). */
void soc_log(struct soc *soc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- EasyDMA: one mechanism for every model (Product Specification,
 * "EasyDMA") ----
 * A transfer owns [ptr, ptr + maxcnt) from begin to end. begin latches the
 * registers, checks the pointer (outside data RAM with maxcnt > 0 is
 * reported: real silicon may HardFault or corrupt RAM) and tells the DMA
 * sanitizer; the model then moves bytes in virtual time with
 * easydma_read/easydma_write and finishes with easydma_end. */
struct easydma {
    const char *periph;       /* "UARTE0" */
    const char *channel;      /* "RXD" */
    bool writes_ram;          /* RX-like: the DMA writes memory the CPU will read */
    int group;                /* channels with the same non-zero group may not overlap (USBD = 1) */
    /* latched at begin */
    uint32_t ptr, maxcnt, done;
    bool active;
    bool bad_pointer;         /* reported at begin; copies are then suppressed */
    int sanitizer_slot;       /* private to the sanitizer */
};

void easydma_begin(struct soc *soc, struct easydma *ch, uint32_t ptr, uint32_t maxcnt);
/* copy len bytes at offset `done` and advance; returns bytes moved (short
 * if the transfer is full or the pointer is bad) */
uint32_t easydma_write(struct soc *soc, struct easydma *ch, const uint8_t *src, uint32_t len);
uint32_t easydma_read(struct soc *soc, struct easydma *ch, uint8_t *dst, uint32_t len);
void easydma_end(struct soc *soc, struct easydma *ch);

/* Direct access to data RAM for the DMA engine (no sanitizer check: the
 * transfer owns the range). NULL if [addr, addr + len) is not all RAM. */
uint8_t *soc_ram(struct soc *soc, uint32_t addr, uint32_t len);

#endif
