/* The Cortex-M4 system that Unicorn lacks, as a plain model with no CPU in
 * it: the NVIC (enable, pending, active, priorities with 3 implemented bits
 * as on the nRF52840, priority grouping), the SCB registers, SysTick and the
 * DWT cycle counter, i.e. the Private Peripheral Bus at 0xE000E000 and
 * 0xE0001000. The machine (emu/cpu/exceptions.c) does exception entry and
 * return on the CPU and asks this model which exception to take; unit tests
 * drive it directly. Priorities follow ARMv7-M: an exception preempts only
 * with a group priority strictly lower (numerically) than the execution
 * priority, which PRIMASK (0), BASEPRI and FAULTMASK (-1) boost; among the
 * pending ones the lowest priority value wins, then the lowest number. */
#ifndef EMU_NVIC_H
#define EMU_NVIC_H

#include <stdbool.h>
#include <stdint.h>

#include "soc.h"

#define NVIC_IRQS 64                  /* the nRF52840 has 48; 64 lines are modelled */
#define NVIC_EXCS (16 + NVIC_IRQS)
#define NVIC_PRIO_MASK 0xE0u          /* 3 implemented priority bits */
#define NVIC_THREAD_PRIO 256          /* execution priority with nothing active */

enum {
    EXC_NONE = 0, EXC_RESET = 1, EXC_NMI = 2, EXC_HARDFAULT = 3, EXC_MEMMANAGE = 4,
    EXC_BUSFAULT = 5, EXC_USAGEFAULT = 6, EXC_SVCALL = 11, EXC_DEBUGMON = 12,
    EXC_PENDSV = 14, EXC_SYSTICK = 15, EXC_IRQ0 = 16,
};

#define PPB_SCS_BASE 0xE000E000u
#define PPB_SCS_SIZE 0x1000u
#define PPB_DWT_BASE 0xE0001000u
#define PPB_DWT_SIZE 0x1000u

/* Special registers of the CPU that mask exceptions. */
struct nvic_masks {
    bool primask, faultmask;
    uint8_t basepri;
};

struct nvic_host {
    void *ctx;
    /* pending, enable or priority state changed: the machine re-evaluates */
    void (*changed)(void *ctx);
    /* AIRCR.SYSRESETREQ (or VECTRESET) written with the right key */
    void (*sysreset)(void *ctx);
};

struct nvic {
    struct soc *soc;
    struct nvic_host host;

    uint8_t prio[NVIC_EXCS];          /* configurable priorities (top 3 bits) */
    bool enabled[NVIC_EXCS];          /* IRQs: ISER; faults: SHCSR enables */
    bool pending[NVIC_EXCS];
    bool active[NVIC_EXCS];
    uint8_t stack[NVIC_EXCS];         /* active exceptions in the order taken */
    unsigned depth;
    bool level[NVIC_IRQS];            /* interrupt line levels from the models */
    bool event;                       /* SEVONPEND: a pend happened (for WFE) */

    unsigned prigroup;
    uint32_t vtor, scr, ccr, cfsr, hfsr, dfsr, mmfar, bfar, afsr, cpacr, actlr;
    uint32_t demcr, fpccr, fpcar, fpdscr;
    uint32_t mpu_ctrl, mpu_rnr, mpu_rbar[8], mpu_rasr[8];

    struct {
        uint32_t csr, rvr, cvr_stopped;
        vtime_t zero_at;               /* while enabled: when the counter next reads 0 */
        struct sched_event ev;
    } systick;

    struct {
        uint32_t ctrl, cyccnt;         /* cyccnt: value at `base` */
        vtime_t base;
        uint32_t comp[4], mask[4], function[4];
    } dwt;

    struct periph ppb;                /* names the PPB in "unmodelled" reports */
};

void nvic_init(struct nvic *n, struct soc *soc, const struct nvic_host *host);
/* Every register back to its reset value (VTOR to vtor), nothing pending. */
void nvic_reset(struct nvic *n, uint32_t vtor);

/* A model's interrupt line (soc->irq_changed): pend on a rising level. */
void nvic_set_level(struct nvic *n, unsigned irq, bool level);
void nvic_set_pending(struct nvic *n, unsigned exc);
void nvic_clear_pending(struct nvic *n, unsigned exc);

bool nvic_exc_enabled(const struct nvic *n, unsigned exc);
/* Group priority of an exception (-3..-1 for Reset, NMI, HardFault). */
int nvic_group_prio(const struct nvic *n, unsigned exc);
/* Execution priority given the CPU's mask registers. */
int nvic_exec_prio(const struct nvic *n, const struct nvic_masks *mk);
/* The highest-priority pending enabled exception, or 0. */
unsigned nvic_top_pending(const struct nvic *n);
/* The exception to take now, or 0. */
unsigned nvic_preempting(const struct nvic *n, const struct nvic_masks *mk);
/* WFI wake-up: an exception that would preempt if PRIMASK were clear. */
bool nvic_wakeup(const struct nvic *n, const struct nvic_masks *mk);

/* Exception entry: pending -> active (the line may stay high). */
void nvic_activate(struct nvic *n, unsigned exc);
/* Exception return from exc: false if exc is not active. A level interrupt
 * whose line is still high pends again. */
bool nvic_deactivate(struct nvic *n, unsigned exc);
/* The exception being handled (IPSR), 0 in thread mode. */
unsigned nvic_current(const struct nvic *n);

/* PPB accesses (addr is the full address; size 1, 2 or 4; sub-word writes
 * touch only their bytes). */
uint32_t nvic_ppb_read(struct nvic *n, uint32_t addr, unsigned size);
void nvic_ppb_write(struct nvic *n, uint32_t addr, uint32_t value, unsigned size);

/* "SysTick", "IRQ39", ... */
const char *nvic_exc_name(unsigned exc, char *buf, unsigned len);

#endif
