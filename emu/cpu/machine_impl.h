/* The inside of struct machine, shared by the files of the CPU layer, one
 * job each: machine.c (Unicorn set-up, memory map and MMIO dispatch),
 * exceptions.c (the exception model: entry, return, SVC, tail-chaining),
 * fault.c (fault reports), run.c (the run loop in virtual time with
 * wall-clock pacing) and reset.c (reset and power). Nothing outside emu/cpu
 * includes this header: the rest of the emulator sees machine.h.
 *
 * The functions shared between those files are prefixed mcpu_, not cpu_:
 * libunicorn exports QEMU's cpu_* symbols (cpu_reset...), and a clash
 * makes Unicorn call ours. */
#ifndef EMU_MACHINE_IMPL_H
#define EMU_MACHINE_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "loader.h"
#include "machine.h"
#include "nvic.h"
#include "soc_impl.h"
#include "symbols.h"

/* Unicorn 2.1 has a virtual TLB the DMA sanitizer's watch uses
 * (machine_set_ram_watch); 2.0.1 has not, and watches with a memory hook. */
#if UC_API_MAJOR > 2 || (UC_API_MAJOR == 2 && UC_API_MINOR >= 1)
#define MACHINE_VTLB 1
#else
#define MACHINE_VTLB 0
#endif

/* Watched pages: the granule of Unicorn's TLB for an M-profile core (1 KiB,
 * as QEMU picks for cores with an MPU), checked against uc_ctl at set-up. */
#define WATCH_PAGE_BITS 10u
#define WATCH_PAGES (SOC_RAM_SIZE >> WATCH_PAGE_BITS)

#define CONTROL_NPRIV 1u
#define CONTROL_SPSEL 2u
#define CONTROL_FPCA 4u
/* Unicorn's Cortex-M4 runs in its Secure state, where an FP context also
 * needs CONTROL.SFPA or the next FP instruction starts a new one (FPSCR =
 * FPDSCR). The real M4 has no SFPA: it is set and cleared with FPCA. */
#define CONTROL_SFPA 8u
#define CONTROL_FP (CONTROL_FPCA | CONTROL_SFPA)
#define XPSR_T (1u << 24)
#define XPSR_ALIGN (1u << 9)
#define XPSR_FLAGS 0xF80F0000u         /* N Z C V Q and GE */
#define XPSR_IT 0x0600FC00u
#define CCR_NONBASETHRDENA 1u
#define CCR_STKALIGN (1u << 9)
#define SCR_SLEEPONEXIT 2u

#define EXC_RETURN_FTYPE 0x10u
#define EXC_RETURN_THREAD 0x08u
#define EXC_RETURN_PSP 0x04u

/* Exceptions entered back to back before the next slice (nesting by late
 * arrival); the NVIC never nests deeper than its priority levels anyway. */
#define MAX_ENTRIES_AT_ONCE 16

/* Peripheral windows (board-given) plus the two PPB windows. */
#define MACHINE_MAX_REGIONS (MACHINE_MAX_BUS_WINDOWS + 2)

enum sleep_kind { AWAKE, SLEEP_WFI, SLEEP_WFE };

struct frame_rec {
    unsigned exc;
    uint32_t frame, exc_return;
};

struct mmio_region {
    struct machine *m;
    uint32_t base;
    bool ppb;
};

struct machine {
    uc_engine *uc;
    struct soc *soc;                   /* not owned: the board built it */
    struct machine_hooks hooks;
    struct nvic nvic;
    /* The images: where the CPU takes SP and PC at reset (machine.h) and
     * the functions of every ELF among them. */
    uint32_t vector_base;
    struct symbols *symbols;
    bool trace_irq, trace_mmio, realtime;

    /* run state */
    vtime_t slice_end;
    atomic_bool attention;             /* stop at the next block boundary */
    atomic_bool stop_requested;
    bool irq_check;                    /* NVIC changed: look for a deliverable exception */
    /* The NVIC's top pending exception and its group priority, as of
     * nvic_gen (bumped on every NVIC change): between changes only the
     * CPU's masks move, so the run loop and the block hook do not scan the
     * NVIC again (run.c, top_pending). */
    uint64_t nvic_gen, top_gen;
    unsigned top_exc;
    int top_prio;
    bool hook_stopped;                 /* the block hook ended the slice */
    bool reset_requested;
    bool sleep_on_exit;
    enum sleep_kind sleeping;
    bool event_reg;                    /* WFE event register */
    bool powered;
    bool system_off;                   /* the chip turned the CPU off until a reset */
    bool code_changed;                 /* flash was written or erased: drop cached code */
    bool faulted;
    int wake_fd;

    struct frame_rec frames[NVIC_EXCS];
    unsigned nframes;

    struct {
        bool valid, write, fetch;
        uint32_t addr;
        int size;
    } mem_fault;

    uint32_t *block_info;              /* per flash halfword */
    uint32_t last_block;               /* start of the block run last (for reports) */
    struct mmio_region regions[MACHINE_MAX_REGIONS];

    machine_ram_access_fn ram_fn;
    void *ram_ctx;
    uint32_t ram_watch_lo, ram_watch_hi;   /* the hull of the watched ranges: the first, cheap test */
    uint64_t watched_pages[WATCH_PAGES / 64];   /* 2.1: the pages mapped onto the watch window */
    uint64_t code_pages[WATCH_PAGES / 64];      /* 2.1: pages of RAM code was fetched from */
    uc_hook ram_hook;                      /* 2.0.1 */
    bool ram_hooked;

    struct timespec wall_anchor, last_poll;
    vtime_t v_anchor;

    struct machine_stats stats;
    char fault_summary[320];
};

/* ---- small helpers ---- */

static inline uint32_t reg_get(const struct machine *m, int reg)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, reg, &v);
    return v;
}

static inline void reg_set(struct machine *m, int reg, uint32_t v)
{
    uc_reg_write(m->uc, reg, &v);
}

static inline double cycles_us(vtime_t t)
{
    return (double)t / (double)SOC_CYCLES_PER_US;
}

static inline uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline bool in_ram(uint32_t addr, uint32_t len)
{
    return addr >= SOC_RAM_BASE && (uint64_t)addr + len <= (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE;
}

/* Whether an access of [addr, addr + len) is one the RAM observer wants
 * (machine_set_ram_watch): the cheap test every load and store makes first. */
static inline bool ram_watched(const struct machine *m, uint32_t addr, uint32_t len)
{
    return addr < m->ram_watch_hi && (uint64_t)addr + len > m->ram_watch_lo;
}

static inline void attend(struct machine *m)
{
    atomic_store_explicit(&m->attention, true, memory_order_relaxed);
}

static inline struct nvic_masks read_masks(const struct machine *m)
{
    return (struct nvic_masks){
        .primask = reg_get(m, UC_ARM_REG_PRIMASK) & 1,
        .faultmask = reg_get(m, UC_ARM_REG_FAULTMASK) & 1,
        .basepri = (uint8_t)reg_get(m, UC_ARM_REG_BASEPRI),
    };
}

static inline const char *exc_name(unsigned exc, char *buf)
{
    return nvic_exc_name(exc, buf, 16);
}

/* machine.c: host memory behind [addr, addr + len) in flash, data RAM or
 * its code alias; NULL elsewhere. */
uint8_t *mcpu_mem_ptr(struct machine *m, uint32_t addr, uint32_t len);
bool mcpu_read_word(struct machine *m, uint32_t addr, uint32_t *v);

/* fault.c: writes the report and ends the run. `cpu` faults may be lockups. */
void mcpu_fault(struct machine *m, bool cpu, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The Unicorn error that ended a slice: unmapped or protected access. */
void mcpu_mem_fault(struct machine *m, uc_err e);
/* A line on the log stamped with virtual time (--trace). */
void mcpu_trace(struct machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fault.c: execution with the Thumb bit clear (INVSTATE UsageFault) */
void mcpu_invstate_fault(struct machine *m, uint32_t pc);

/* exceptions.c */
void mcpu_canonical(struct machine *m, uint32_t *msp, uint32_t *psp);
void mcpu_commit(struct machine *m, uint32_t xpsr, uint32_t control, uint32_t msp, uint32_t psp);
void mcpu_hook_intr(uc_engine *uc, uint32_t intno, void *user);
/* Takes every exception that preempts now (up to MAX_ENTRIES_AT_ONCE). */
void mcpu_deliver(struct machine *m);

/* run.c */
void mcpu_hook_block(uc_engine *uc, uint64_t address, uint32_t size, void *user);
void mcpu_input_arrived(void *ctx);

/* reset.c */
void mcpu_forget_code(struct machine *m, bool flash);
void mcpu_reset(struct machine *m);
void mcpu_do_reset(struct machine *m, enum reset_kind kind);

#endif
