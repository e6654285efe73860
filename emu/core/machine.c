/* The emulated nRF52840: Unicorn 2 as the Cortex-M4F core, the NVIC model
 * (nvic.c), exception entry and return done here, the peripheral models on
 * the soc bus, and the run loop in virtual time.
 *
 * Facts this file relies on (reference/emulation.md part A, measured on
 * Unicorn 2.0.1):
 *  - uc_emu_stop is only ever called from the block hook (PC = block start,
 *    the block not yet run) or from the interrupt hook; MMIO and memory
 *    callbacks set `attention` instead.
 *  - Exception return arrives at the interrupt hook as intno 8 with PC =
 *    EXC_RETURN & ~1; SVC as intno 2 with PC after the SVC.
 *  - Unicorn's M-profile state (IPSR, CONTROL, banked SPs) is changed only
 *    through its register writes, which apply the architectural rules
 *    (CONTROL.SPSEL ignored in handler mode, MSR ignored unprivileged...):
 *    cpu_canonical/cpu_commit order them so every write takes effect. After
 *    a mode change the cached translation flags are rebuilt by rewriting
 *    APSR.NZCV (that register write calls arm_rebuild_hflags).
 *  - Unicorn's Cortex-M4 runs in the Secure state, so an FP context needs
 *    CONTROL.SFPA along with FPCA (see CONTROL_SFPA).
 *
 * Policy on faults (documented in machine.h): the real chip escalates a fault
 * to the HardFault handler; hilda-emu ends the run at the first fault with a
 * report instead of running the firmware's handler, since a firmware fault is
 * always a bug to be shown where it happened. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime, CLOCK_MONOTONIC */
#include "machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <unicorn/unicorn.h>

#include "loader.h"
#include "nrf52840.h"
#include "nvic.h"
#include "soc_impl.h"
#include "symbols.h"

#define CODE_RAM_ALIAS 0x00800000u
#define INFO_BASE 0x10000000u          /* FICR and UICR */
#define INFO_SIZE 0x2000u
#define APB_BASE 0x40000000u
#define APB_SIZE 0x80000u
#define AHB_BASE 0x50000000u
#define AHB_SIZE 0x1000u
#define NVMC_CONFIG 0x4001E504u        /* bit 0 WEN: the CPU may write flash */

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

/* Longest slice of CPU time between looks at the fds and the clock. */
#define SLICE_MAX SOC_MS(1)
/* Exceptions entered back to back before the next slice (nesting by late
 * arrival); the NVIC never nests deeper than its priority levels anyway. */
#define MAX_ENTRIES_AT_ONCE 16
#define REPORT_LEN 4096

/* Block cache entry (flash only): count | size << 16 | has_sev << 31 */
#define BI_COUNT(x) ((x) & 0xFFFFu)
#define BI_SIZE(x) (((x) >> 16) & 0x7FFFu)
#define BI_SEV (1u << 31)

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
    struct soc *soc;
    struct nrf52840 *chip;
    struct nvic nvic;
    struct loaded_image img;
    FILE *log;
    bool trace_irq, trace_mmio, realtime;

    /* run state */
    vtime_t slice_end;
    atomic_bool attention;             /* stop at the next block boundary */
    atomic_bool stop_requested;
    bool irq_check;                    /* NVIC changed: look for a deliverable exception */
    bool hook_stopped;                 /* the block hook ended the slice */
    bool reset_requested;
    bool sleep_on_exit;
    enum sleep_kind sleeping;
    bool event_reg;                    /* WFE event register */
    bool powered;
    bool system_off;                   /* POWER.SYSTEMOFF: the CPU is off until a reset */
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
    struct mmio_region regions[5];

    machine_ram_access_fn ram_fn;
    void *ram_ctx;
    uc_hook ram_hooks[2];
    bool ram_hooked;

    struct timespec wall_anchor, last_poll;
    vtime_t v_anchor;

    struct machine_stats stats;
    char fault_summary[320];
};

/* ---- small helpers ---- */

static uint32_t reg_get(const struct machine *m, int reg)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, reg, &v);
    return v;
}

static void reg_set(struct machine *m, int reg, uint32_t v)
{
    uc_reg_write(m->uc, reg, &v);
}

static double cycles_us(vtime_t t)
{
    return (double)t / (double)SOC_CYCLES_PER_US;
}

/* Host memory behind [addr, addr + len) in flash, data RAM or its code alias. */
static uint8_t *mem_ptr(struct machine *m, uint32_t addr, uint32_t len)
{
    uint64_t a = addr, end = a + len;
    if (end <= (uint64_t)SOC_FLASH_BASE + SOC_FLASH_SIZE)
        return m->soc->flash + (a - SOC_FLASH_BASE);
    if (a >= SOC_RAM_BASE && end <= (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE)
        return m->soc->ram + (a - SOC_RAM_BASE);
    if (a >= CODE_RAM_ALIAS && end <= (uint64_t)CODE_RAM_ALIAS + SOC_RAM_SIZE)
        return m->soc->ram + (a - CODE_RAM_ALIAS);
    return NULL;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static bool read_word(struct machine *m, uint32_t addr, uint32_t *v)
{
    const uint8_t *p = mem_ptr(m, addr, 4);
    if (!p)
        return false;
    *v = ld32(p);
    return true;
}

static bool in_ram(uint32_t addr, uint32_t len)
{
    return addr >= SOC_RAM_BASE && (uint64_t)addr + len <= (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE;
}

static void attend(struct machine *m)
{
    atomic_store_explicit(&m->attention, true, memory_order_relaxed);
}

static struct nvic_masks read_masks(const struct machine *m)
{
    return (struct nvic_masks){
        .primask = reg_get(m, UC_ARM_REG_PRIMASK) & 1,
        .faultmask = reg_get(m, UC_ARM_REG_FAULTMASK) & 1,
        .basepri = (uint8_t)reg_get(m, UC_ARM_REG_BASEPRI),
    };
}

static const char *exc_name(unsigned exc, char *buf)
{
    return nvic_exc_name(exc, buf, 16);
}

/* ---- fault report ---- */

static int append(char *buf, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int append(char *buf, int pos, const char *fmt, ...)
{
    if (pos >= REPORT_LEN - 1)
        return pos;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + pos, (size_t)(REPORT_LEN - pos), fmt, ap);
    va_end(ap);
    if (n < 0)
        return pos;
    return pos + n < REPORT_LEN ? pos + n : REPORT_LEN - 1;
}

static int append_where(const struct machine *m, char *buf, int pos, uint32_t addr)
{
    uint32_t off;
    const char *name = symbols_lookup(m->img.symbols, addr & ~1u, &off);
    if (name[0] == '?')
        return append(buf, pos, "0x%08x", addr);
    return append(buf, pos, "0x%08x (%s+0x%x)", addr, name, off);
}

/* Writes the report and ends the run. `cpu` faults may be lockups. */
static void fault(struct machine *m, bool cpu, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fault(struct machine *m, bool cpu, const char *kind, const char *fmt, ...)
{
    if (m->faulted)
        return;
    m->faulted = true;
    attend(m);

    char detail[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    static const int gp[13] = {
        UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4, UC_ARM_REG_R5,
        UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9, UC_ARM_REG_R10, UC_ARM_REG_R11,
        UC_ARM_REG_R12,
    };
    uint32_t r[13];
    for (int i = 0; i < 13; i++)
        r[i] = reg_get(m, gp[i]);
    uint32_t sp = reg_get(m, UC_ARM_REG_SP), lr = reg_get(m, UC_ARM_REG_LR), pc = reg_get(m, UC_ARM_REG_PC);
    uint32_t xpsr = reg_get(m, UC_ARM_REG_XPSR), control = reg_get(m, UC_ARM_REG_CONTROL);
    struct nvic_masks mk = read_masks(m);
    unsigned cur = nvic_current(&m->nvic);
    char nb[16];

    const char *lockup = "";
    if (cpu && (cur == EXC_HARDFAULT || cur == EXC_NMI || mk.faultmask))
        lockup = cur == EXC_HARDFAULT ? "lockup (fault in the HardFault handler): "
               : cur == EXC_NMI ? "lockup (fault in the NMI handler): "
               : "lockup (fault with FAULTMASK set): ";

    /* after a branch to EXC_RETURN or a bad address the PC says nothing:
     * name the block that ran last instead */
    uint32_t where = mem_ptr(m, pc & ~1u, 2) ? pc : m->last_block, off;
    const char *fn = symbols_lookup(m->img.symbols, where, &off);
    char at[96];
    if (fn[0] == '?')
        snprintf(at, sizeof at, "0x%08x", where);
    else
        snprintf(at, sizeof at, "0x%08x (%s+0x%x)", where, fn, off);
    snprintf(m->fault_summary, sizeof m->fault_summary, "%s%s%s%s at %s%s", lockup, kind, detail[0] ? ": " : "",
             detail, where == pc ? "pc " : "the block at ", at);

    char *rep = malloc(REPORT_LEN);
    if (!rep) {
        soc_log(m->soc, "hilda-emu: FAULT: %s\n", m->fault_summary);
        return;
    }
    int p = 0;
    p = append(rep, p, "hilda-emu: FAULT: %s%s%s%s\n", lockup, kind, detail[0] ? ": " : "", detail);
    p = append(rep, p, "  at cycle %" PRIu64 " (%.3f us), in %s mode%s%s\n", m->soc->now, cycles_us(m->soc->now),
               cur ? "handler" : "thread", cur ? ", handling " : "", cur ? exc_name(cur, nb) : "");
    p = append(rep, p, "  pc ");
    p = append_where(m, rep, p, pc);
    if (where != pc) {
        p = append(rep, p, "\n  last block run at ");
        p = append_where(m, rep, p, where);
    }
    p = append(rep, p, "\n  lr ");
    p = append_where(m, rep, p, lr);
    p = append(rep, p, "\n");
    for (int i = 0; i < 13; i++)
        p = append(rep, p, "%s r%-2d 0x%08x%s", i % 4 == 0 ? " " : "", i, r[i], i % 4 == 3 || i == 12 ? "\n" : "");
    p = append(rep, p, "  sp  0x%08x lr  0x%08x pc  0x%08x xpsr 0x%08x\n", sp, lr, pc, xpsr);
    p = append(rep, p, "  control 0x%x primask %d basepri 0x%02x faultmask %d\n", control, mk.primask, mk.basepri,
               mk.faultmask);
    if (m->nvic.cfsr || m->nvic.hfsr)
        p = append(rep, p, "  CFSR 0x%08x HFSR 0x%08x\n", m->nvic.cfsr, m->nvic.hfsr);
    for (unsigned i = m->nframes; i-- > 0;) {
        const struct frame_rec *f = &m->frames[i];
        const uint8_t *w = in_ram(f->frame, 32) ? m->soc->ram + (f->frame - SOC_RAM_BASE) : NULL;
        p = append(rep, p, "  exception frame of %s at 0x%08x (EXC_RETURN 0x%08x)%s\n", exc_name(f->exc, nb),
                   f->frame, f->exc_return, w ? ":" : " is outside RAM");
        if (!w)
            continue;
        p = append(rep, p, "    r0 0x%08x r1 0x%08x r2 0x%08x r3 0x%08x r12 0x%08x\n", ld32(w), ld32(w + 4),
                   ld32(w + 8), ld32(w + 12), ld32(w + 16));
        p = append(rep, p, "    lr ");
        p = append_where(m, rep, p, ld32(w + 20));
        p = append(rep, p, " pc ");
        p = append_where(m, rep, p, ld32(w + 24));
        p = append(rep, p, " xpsr 0x%08x\n", ld32(w + 28));
    }
    soc_log(m->soc, "%s", rep);
    free(rep);
}

/* ---- CPU mode changes (Unicorn's M-profile state through its registers) ---- */

static void rebuild_flags(struct machine *m)
{
    reg_set(m, UC_ARM_REG_APSR_NZCV, reg_get(m, UC_ARM_REG_APSR_NZCV));
}

/* Thread mode, privileged, MSP selected, no FP context: a state from which
 * every register can be written. Returns MSP and PSP as they were. */
static void cpu_canonical(struct machine *m, uint32_t *msp, uint32_t *psp)
{
    reg_set(m, UC_ARM_REG_XPSR_NZCVQG, XPSR_T | EXC_HARDFAULT);   /* handler mode: privileged */
    reg_set(m, UC_ARM_REG_CONTROL, 0);                            /* nPRIV, FPCA cleared */
    reg_set(m, UC_ARM_REG_XPSR_NZCVQG, XPSR_T);                   /* thread mode, privileged */
    reg_set(m, UC_ARM_REG_CONTROL, 0);                            /* SPSEL cleared */
    *msp = reg_get(m, UC_ARM_REG_MSP);
    *psp = reg_get(m, UC_ARM_REG_PSP);
}

/* From the canonical state to the given one. */
static void cpu_commit(struct machine *m, uint32_t xpsr, uint32_t control, uint32_t msp, uint32_t psp)
{
    if ((xpsr & 0x1FF) == 0) {
        reg_set(m, UC_ARM_REG_CONTROL, control & ~CONTROL_NPRIV);
        reg_set(m, UC_ARM_REG_XPSR_NZCVQG, xpsr);
    } else {
        reg_set(m, UC_ARM_REG_XPSR_NZCVQG, xpsr);
        reg_set(m, UC_ARM_REG_CONTROL, control & ~CONTROL_SPSEL);
    }
    reg_set(m, UC_ARM_REG_MSP, msp);
    reg_set(m, UC_ARM_REG_PSP, psp);
    if ((xpsr & 0x1FF) == 0 && (control & CONTROL_NPRIV))
        reg_set(m, UC_ARM_REG_CONTROL, control);
    rebuild_flags(m);
}

/* ---- exception entry and return ---- */

static void trace(struct machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct machine *m, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    soc_log(m->soc, "[%12" PRIu64 " %10.3f us] %s\n", m->soc->now, cycles_us(m->soc->now), line);
}

/* The handler address of exc, or 0 after reporting a fault. */
static uint32_t vector_of(struct machine *m, unsigned exc)
{
    char nb[16];
    uint32_t at = (m->nvic.vtor & 0xFFFFFF80u) + 4 * exc, handler;
    if (!read_word(m, at, &handler)) {
        m->nvic.hfsr |= 1u << 1;                                   /* VECTTBL */
        fault(m, true, "vector fetch", "vector table entry of %s at 0x%08x is outside flash and RAM (VTOR 0x%08x)",
              exc_name(exc, nb), at, m->nvic.vtor);
        return 0;
    }
    if (handler == 0 || handler == 0xFFFFFFFFu) {
        m->nvic.hfsr |= 1u << 1;
        fault(m, true, "vector fetch", "no handler for %s: vector at 0x%08x is 0x%08x", exc_name(exc, nb), at,
              handler);
        return 0;
    }
    if (!(handler & 1)) {
        m->nvic.cfsr |= 1u << 17;                                  /* INVSTATE */
        fault(m, true, "vector fetch", "vector of %s at 0x%08x is 0x%08x: Thumb bit clear", exc_name(exc, nb), at,
              handler);
        return 0;
    }
    return handler;
}

/* Takes exception exc: stacks the context (unless tail-chaining, where the
 * frame of the exception just returned from is kept) and jumps to the
 * handler. False after a fault. */
static bool enter_exception(struct machine *m, unsigned exc, const struct frame_rec *chain)
{
    char nb[16], nb2[16];
    uint32_t handler = vector_of(m, exc);
    if (!handler)
        return false;

    if (chain) {
        uint32_t control = reg_get(m, UC_ARM_REG_CONTROL);
        nvic_activate(&m->nvic, exc);
        m->frames[m->nframes++] = (struct frame_rec){ exc, chain->frame, chain->exc_return };
        reg_set(m, UC_ARM_REG_IPSR, exc);
        reg_set(m, UC_ARM_REG_CONTROL, control & ~(CONTROL_FP | CONTROL_SPSEL));
        reg_set(m, UC_ARM_REG_LR, chain->exc_return);
        reg_set(m, UC_ARM_REG_PC, handler);
        rebuild_flags(m);
        if (m->trace_irq)
            trace(m, "irq: tail-chain to %s (priority %d)", exc_name(exc, nb), nvic_group_prio(&m->nvic, exc));
    } else {
        static const int saved[8] = {
            UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3,
            UC_ARM_REG_R12, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_XPSR,
        };
        uint32_t w[8];
        for (int i = 0; i < 8; i++)
            w[i] = reg_get(m, saved[i]);
        uint32_t xpsr = w[7], control = reg_get(m, UC_ARM_REG_CONTROL), sp = reg_get(m, UC_ARM_REG_SP);
        unsigned from = xpsr & 0x1FF;
        bool thread = from == 0, on_psp = thread && (control & CONTROL_SPSEL), fp = control & CONTROL_FPCA;
        uint32_t size = fp ? 0x68 : 0x20;
        bool align = (m->nvic.ccr & CCR_STKALIGN) && (sp & 4);
        uint32_t frame = (sp - size) & ~(align ? 4u : 0u);
        if (!in_ram(frame, size) || sp - size > sp) {
            m->nvic.cfsr |= 1u << 12;                              /* STKERR */
            fault(m, true, "stack overflow",
                  "entering %s: the exception frame at 0x%08x (%u bytes, sp 0x%08x) is outside RAM",
                  exc_name(exc, nb), frame, size, sp);
            return false;
        }
        uint8_t *f = m->soc->ram + (frame - SOC_RAM_BASE);
        w[7] = (xpsr & ~XPSR_ALIGN) | (align ? XPSR_ALIGN : 0) | XPSR_T;
        for (int i = 0; i < 8; i++)
            st32(f + 4 * i, w[i]);
        if (fp) {
            for (int i = 0; i < 16; i++)
                st32(f + 32 + 4 * i, reg_get(m, UC_ARM_REG_S0 + i));
            st32(f + 96, reg_get(m, UC_ARM_REG_FPSCR));
            st32(f + 100, 0);
        }
        uint32_t exc_return = thread ? (on_psp ? 0xFFFFFFFDu : 0xFFFFFFF9u) : 0xFFFFFFF1u;
        if (fp)
            exc_return &= ~EXC_RETURN_FTYPE;
        uint32_t msp, psp;
        cpu_canonical(m, &msp, &psp);
        if (on_psp)
            psp = frame;
        else
            msp = frame;
        nvic_activate(&m->nvic, exc);
        m->frames[m->nframes++] = (struct frame_rec){ exc, frame, exc_return };
        cpu_commit(m, (xpsr & XPSR_FLAGS) | XPSR_T | exc, control & ~(CONTROL_SPSEL | CONTROL_FP), msp, psp);
        reg_set(m, UC_ARM_REG_LR, exc_return);
        reg_set(m, UC_ARM_REG_PC, handler);
        if (m->trace_irq)
            trace(m, "irq: enter %s (priority %d) from %s, frame at 0x%08x%s, return to 0x%08x",
                  exc_name(exc, nb), nvic_group_prio(&m->nvic, exc), exc_name(from, nb2), frame,
                  fp ? " with FP state" : "", w[6]);
    }
    m->event_reg = true;
    m->stats.interrupts++;
    return true;
}

static bool valid_exc_return(uint32_t v)
{
    switch (v) {
    case 0xFFFFFFF1u: case 0xFFFFFFF9u: case 0xFFFFFFFDu:
    case 0xFFFFFFE1u: case 0xFFFFFFE9u: case 0xFFFFFFEDu:
        return true;
    default:
        return false;
    }
}

/* Interrupt hook, intno 8: the handler branched to EXC_RETURN. */
static void exception_return(struct machine *m)
{
    char nb[16], nb2[16];
    uint32_t exc_return = reg_get(m, UC_ARM_REG_PC) | 1u;
    unsigned exc = nvic_current(&m->nvic);
    bool to_thread = exc_return & EXC_RETURN_THREAD, use_psp = exc_return & EXC_RETURN_PSP;
    bool fp = !(exc_return & EXC_RETURN_FTYPE);

    if (!exc || m->nframes == 0) {
        fault(m, true, "bad EXC_RETURN", "exception return 0x%08x with no exception active", exc_return);
        return;
    }
    if (!valid_exc_return(exc_return)) {
        m->nvic.cfsr |= 1u << 18;                                  /* INVPC */
        fault(m, true, "bad EXC_RETURN", "%s returned with 0x%08x, not a valid EXC_RETURN value",
              exc_name(exc, nb), exc_return);
        return;
    }
    if (to_thread && m->nvic.depth > 1 && !(m->nvic.ccr & CCR_NONBASETHRDENA)) {
        m->nvic.cfsr |= 1u << 18;
        fault(m, true, "bad EXC_RETURN", "%s returned to thread mode (0x%08x) while %u other exception(s) are active",
              exc_name(exc, nb), exc_return, m->nvic.depth - 1);
        return;
    }
    if (!to_thread && m->nvic.depth < 2) {
        m->nvic.cfsr |= 1u << 18;
        fault(m, true, "bad EXC_RETURN", "%s returned to handler mode (0x%08x) with no other exception active",
              exc_name(exc, nb), exc_return);
        return;
    }

    struct frame_rec rec = m->frames[--m->nframes];
    nvic_deactivate(&m->nvic, exc);
    if (exc != EXC_NMI)
        reg_set(m, UC_ARM_REG_FAULTMASK, 0);                       /* cleared by returning */
    m->event_reg = true;

    struct nvic_masks mk = read_masks(m);
    unsigned next = nvic_preempting(&m->nvic, &mk);
    if (next) {
        if (m->trace_irq)
            trace(m, "irq: exit %s", exc_name(exc, nb));
        rec.exc_return = exc_return;
        enter_exception(m, next, &rec);
        if (m->faulted)
            uc_emu_stop(m->uc);
        return;
    }

    uint32_t control = reg_get(m, UC_ARM_REG_CONTROL);
    uint32_t msp, psp;
    cpu_canonical(m, &msp, &psp);
    uint32_t frame = use_psp ? psp : msp, size = fp ? 0x68 : 0x20;
    if (!in_ram(frame, size)) {
        m->nvic.cfsr |= 1u << 11;                                  /* UNSTKERR */
        fault(m, true, "bad EXC_RETURN", "%s returned with 0x%08x, but its frame at 0x%08x is outside RAM",
              exc_name(exc, nb), exc_return, frame);
        uc_emu_stop(m->uc);
        return;
    }
    const uint8_t *f = m->soc->ram + (frame - SOC_RAM_BASE);
    uint32_t xpsr = ld32(f + 28), ret_pc = ld32(f + 24);
    unsigned ipsr = xpsr & 0x1FF;
    if ((to_thread && ipsr != 0) || (!to_thread && ipsr != nvic_current(&m->nvic)) || !(xpsr & XPSR_T)) {
        m->nvic.cfsr |= (xpsr & XPSR_T) ? 1u << 18 : 1u << 17;
        fault(m, true, "bad EXC_RETURN",
              "%s returned with 0x%08x to a frame at 0x%08x whose xPSR 0x%08x does not match (%s)", exc_name(exc, nb),
              exc_return, frame, xpsr, (xpsr & XPSR_T) ? "IPSR" : "Thumb bit clear");
        uc_emu_stop(m->uc);
        return;
    }
    static const int restored[6] = {
        UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR,
    };
    for (int i = 0; i < 6; i++)
        reg_set(m, restored[i], ld32(f + 4 * i));
    if (fp) {
        for (int i = 0; i < 16; i++)
            reg_set(m, UC_ARM_REG_S0 + i, ld32(f + 32 + 4 * i));
        reg_set(m, UC_ARM_REG_FPSCR, ld32(f + 96));

    }
    uint32_t new_sp = frame + size + ((xpsr & XPSR_ALIGN) ? 4 : 0);
    if (use_psp)
        psp = new_sp;
    else
        msp = new_sp;
    uint32_t new_control = (control & CONTROL_NPRIV) | (to_thread && use_psp ? CONTROL_SPSEL : 0) |
                           (fp ? CONTROL_FP : 0);
    cpu_commit(m, xpsr & ~XPSR_ALIGN, new_control, msp, psp);
    reg_set(m, UC_ARM_REG_PC, ret_pc | 1u);
    if (m->trace_irq)
        trace(m, "irq: exit %s to %s at 0x%08x", exc_name(exc, nb), exc_name(ipsr, nb2), ret_pc);
    if (to_thread && (m->nvic.scr & SCR_SLEEPONEXIT)) {
        m->sleep_on_exit = true;
        attend(m);
    }
}

static void svc_call(struct machine *m)
{
    nvic_set_pending(&m->nvic, EXC_SVCALL);
    struct nvic_masks mk = read_masks(m);
    if (nvic_group_prio(&m->nvic, EXC_SVCALL) >= nvic_exec_prio(&m->nvic, &mk)) {
        char nb[16];
        m->nvic.hfsr |= 1u << 30;                                  /* FORCED */
        fault(m, true, "SVC escalated to HardFault",
              "SVC at execution priority %d in %s: SVCall (priority %d) cannot preempt",
              nvic_exec_prio(&m->nvic, &mk), exc_name(nvic_current(&m->nvic), nb),
              nvic_group_prio(&m->nvic, EXC_SVCALL));
        uc_emu_stop(m->uc);
        return;
    }
    if (!enter_exception(m, EXC_SVCALL, NULL))
        uc_emu_stop(m->uc);
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
    (void)uc;
    struct machine *m = user;
    if (m->faulted) {
        uc_emu_stop(m->uc);
        return;
    }
    switch (intno) {
    case 8:                                                       /* EXCP_EXCEPTION_EXIT */
        exception_return(m);
        return;
    case 2:                                                       /* EXCP_SWI */
        svc_call(m);
        return;
    case 7:                                                       /* EXCP_BKPT */
        m->nvic.hfsr |= 1u << 31;                                  /* DEBUGEVT */
        fault(m, true, "breakpoint", "BKPT with no debugger attached (HardFault on the chip)");
        break;
    case 17:                                                      /* EXCP_NOCP */
        m->nvic.cfsr |= 1u << 19;
        fault(m, true, "coprocessor access", "NOCP UsageFault");
        break;
    case 3:                                                       /* EXCP_PREFETCH_ABORT */
        m->nvic.cfsr |= 1u << 8;                                   /* IBUSERR */
        fault(m, true, "instruction fetch fault", "executing from a non-executable region (0x%08x)",
              reg_get(m, UC_ARM_REG_PC));
        break;
    case 4:                                                       /* EXCP_DATA_ABORT */
        m->nvic.cfsr |= 1u << 24;
        fault(m, true, "data abort", "an unaligned or otherwise faulting data access");
        break;
    case 22:                                                      /* EXCP_UNALIGNED */
        m->nvic.cfsr |= 1u << 24;
        fault(m, true, "unaligned access", "UsageFault UNALIGNED");
        break;
    default:
        fault(m, true, "CPU exception", "Unicorn exception number %u", intno);
        break;
    }
    uc_emu_stop(m->uc);
}

/* ---- virtual time: the block hook ---- */

static uint32_t decode_block(const uint8_t *code, uint32_t size)
{
    uint32_t count = 0, sev = 0;
    for (uint32_t i = 0; i + 1 < size;) {
        uint16_t hw = (uint16_t)(code[i] | code[i + 1] << 8);
        if ((hw >> 11) >= 0x1D) {
            if (i + 3 < size && hw == 0xF3AF && (code[i + 2] | code[i + 3] << 8) == 0x8004)
                sev = BI_SEV;
            i += 4;
        } else {
            if (hw == 0xBF40)
                sev = BI_SEV;
            i += 2;
        }
        count++;
    }
    if (count > 0xFFFF)
        count = 0xFFFF;
    return count | sev;
}

static bool irq_deliverable(struct machine *m)
{
    unsigned e = nvic_top_pending(&m->nvic);
    if (!e || nvic_group_prio(&m->nvic, e) >= nvic_exec_prio(&m->nvic, NULL)) {
        m->irq_check = false;          /* nothing can change that but the NVIC itself */
        return false;
    }
    struct nvic_masks mk = read_masks(m);
    return nvic_group_prio(&m->nvic, e) < nvic_exec_prio(&m->nvic, &mk);
}

static void hook_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    struct machine *m = user;
    struct soc *soc = m->soc;
    if (soc->now >= m->slice_end || atomic_load_explicit(&m->attention, memory_order_relaxed) ||
        (m->irq_check && irq_deliverable(m))) {
        m->hook_stopped = true;
        uc_emu_stop(uc);
        return;
    }
    uint32_t info;
    uint32_t addr = (uint32_t)address;
    m->last_block = addr;
    if (addr < SOC_FLASH_SIZE && size < 0x8000) {
        uint32_t *slot = &m->block_info[addr >> 1];
        info = *slot;
        if (info == 0 || BI_SIZE(info) != size) {
            uint32_t end = addr + size <= SOC_FLASH_SIZE ? size : SOC_FLASH_SIZE - addr;
            info = decode_block(soc->flash + addr, end) | size << 16;
            *slot = info;
        }
    } else {
        const uint8_t *code = mem_ptr(m, addr, size);
        info = code ? decode_block(code, size) : size / 2;
    }
    soc->now += BI_COUNT(info);
    m->stats.instructions += BI_COUNT(info);
    if (info & BI_SEV)
        m->event_reg = true;
}

/* ---- memory ---- */

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)value;
    struct machine *m = user;
    if (type == UC_MEM_WRITE_PROT && address < SOC_FLASH_SIZE && (soc_bus_read(m->soc, NVMC_CONFIG) & 1)) {
        m->code_changed = true;        /* NVMC write enabled: the store programs flash */
        return true;
    }
    if (!m->mem_fault.valid) {
        m->mem_fault.valid = true;
        m->mem_fault.addr = (uint32_t)address;
        m->mem_fault.size = size;
        m->mem_fault.write = type == UC_MEM_WRITE_UNMAPPED || type == UC_MEM_WRITE_PROT;
        m->mem_fault.fetch = type == UC_MEM_FETCH_UNMAPPED || type == UC_MEM_FETCH_PROT;
    }
    return false;
}

static void hook_ram(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)value;
    struct machine *m = user;
    if (!m->ram_fn)
        return;
    uint32_t addr = (uint32_t)address;
    if (addr >= CODE_RAM_ALIAS && addr < CODE_RAM_ALIAS + SOC_RAM_SIZE)
        addr = addr - CODE_RAM_ALIAS + SOC_RAM_BASE;
    m->ram_fn(m->ram_ctx, addr, (uint32_t)size, type == UC_MEM_WRITE, reg_get(m, UC_ARM_REG_PC));
}

static void mmio_trace(struct machine *m, bool write, uint32_t addr, uint32_t value, unsigned size)
{
    struct periph *p = soc_find_periph(m->soc, addr);
    trace(m, "mmio: %s 0x%08x %s 0x%08x (%u bytes) %s+0x%03x pc 0x%08x", write ? "W" : "R", addr,
          write ? "<-" : "->", value, size, p ? p->name : (addr >= 0xE0000000u ? "PPB" : "?"),
          p ? addr - p->base : addr & 0xFFF, reg_get(m, UC_ARM_REG_PC));
}

static void after_access(struct machine *m)
{
    vtime_t next = soc_next_event(m->soc);
    if (next < m->slice_end)
        m->slice_end = next;
}

static uint64_t mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
    (void)uc;
    struct mmio_region *r = user;
    struct machine *m = r->m;
    uint32_t addr = r->base + (uint32_t)offset, v;
    if (size > 4)
        size = 4;
    if (r->ppb) {
        v = nvic_ppb_read(&m->nvic, addr, size);
    } else if (addr & (size - 1)) {
        fault(m, true, "unaligned peripheral access", "%u-byte read of 0x%08x", size, addr);
        return 0;
    } else {
        uint32_t word = soc_bus_read(m->soc, addr & ~3u);
        v = size == 4 ? word : (word >> (8 * (addr & 3))) & ((1u << (8 * size)) - 1);
    }
    if (m->trace_mmio)
        mmio_trace(m, false, addr, v, size);
    after_access(m);
    return v;
}

static void mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
    (void)uc;
    struct mmio_region *r = user;
    struct machine *m = r->m;
    uint32_t addr = r->base + (uint32_t)offset, v = (uint32_t)value;
    if (size > 4)
        size = 4;
    if (m->trace_mmio)
        mmio_trace(m, true, addr, v, size);
    if (r->ppb) {
        nvic_ppb_write(&m->nvic, addr, v, size);
    } else if (addr & (size - 1)) {
        fault(m, true, "unaligned peripheral access", "%u-byte write of 0x%08x", size, addr);
        return;
    } else if (size == 4) {
        soc_bus_write(m->soc, addr, v);
    } else {
        /* sub-word store: read-modify-write of the word */
        uint32_t word = addr & ~3u, shift = 8 * (addr & 3), mask = ((1u << (8 * size)) - 1) << shift;
        uint32_t old = soc_bus_read(m->soc, word);
        soc_bus_write(m->soc, word, (old & ~mask) | ((v << shift) & mask));
    }
    after_access(m);
}

/* ---- NVIC and soc hooks ---- */

static void on_nvic_changed(void *ctx)
{
    struct machine *m = ctx;
    m->irq_check = true;
}

static void on_sysreset(void *ctx)
{
    struct machine *m = ctx;
    m->reset_requested = true;
    attend(m);
}

static void on_irq_changed(void *ctx, unsigned irq, bool level)
{
    struct machine *m = ctx;
    nvic_set_level(&m->nvic, irq, level);
}

static void on_system_off(void *ctx)
{
    struct machine *m = ctx;
    m->system_off = true;
    attend(m);
}

static void on_flash_erased(void *ctx, uint32_t addr, uint32_t len)
{
    (void)addr;
    (void)len;
    struct machine *m = ctx;
    m->code_changed = true;
    attend(m);
}

static void on_wake(struct soc *soc, void *ctx)
{
    (void)soc;
    struct machine *m = ctx;
    uint64_t v;
    while (read(m->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
}

/* ---- reset ---- */

/* Drops translated code (RAM, and flash too if `flash`). Per region: a full
 * TB flush in Unicorn 2.0.1 resets its whole code buffer (hundreds of ms). */
static void forget_code(struct machine *m, bool flash)
{
    if (flash)
        uc_ctl_remove_cache(m->uc, SOC_FLASH_BASE, (uint64_t)SOC_FLASH_BASE + SOC_FLASH_SIZE);
    uc_ctl_remove_cache(m->uc, SOC_RAM_BASE, (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE);
    uc_ctl_remove_cache(m->uc, CODE_RAM_ALIAS, (uint64_t)CODE_RAM_ALIAS + SOC_RAM_SIZE);
}

static void cpu_reset(struct machine *m)
{
    nvic_reset(&m->nvic, m->img.vector_base);
    m->nframes = 0;
    m->sleeping = AWAKE;
    m->sleep_on_exit = false;
    m->event_reg = false;
    m->reset_requested = false;
    m->system_off = false;
    m->faulted = false;
    m->mem_fault.valid = false;
    m->fault_summary[0] = '\0';
    m->irq_check = true;

    uint32_t msp = 0, pc = 0;
    read_word(m, m->img.vector_base, &msp);
    read_word(m, m->img.vector_base + 4, &pc);
    uint32_t zero = 0;
    for (int r = UC_ARM_REG_R0; r <= UC_ARM_REG_R12; r++)
        uc_reg_write(m->uc, r, &zero);
    for (int i = 0; i < 32; i++)
        reg_set(m, UC_ARM_REG_S0 + i, 0);
    reg_set(m, UC_ARM_REG_FPSCR, 0);
    uint32_t ignored_msp, ignored_psp;
    cpu_canonical(m, &ignored_msp, &ignored_psp);
    reg_set(m, UC_ARM_REG_PRIMASK, 0);
    reg_set(m, UC_ARM_REG_BASEPRI, 0);
    reg_set(m, UC_ARM_REG_FAULTMASK, 0);
    cpu_commit(m, XPSR_T, 0, msp & ~3u, 0);
    reg_set(m, UC_ARM_REG_LR, 0xFFFFFFFFu);
    reg_set(m, UC_ARM_REG_PC, pc);
    if (!(pc & 1) || !mem_ptr(m, pc & ~1u, 2))
        fault(m, true, "bad reset vector", "reset vector at 0x%08x is 0x%08x (initial SP 0x%08x)",
              m->img.vector_base + 4, pc, msp);
}

static void do_reset(struct machine *m, enum reset_kind kind)
{
    m->stats.resets++;
    soc_reset(m->soc, kind);
    if (kind == RESET_POWER_ON)
        forget_code(m, false);     /* RAM was cleared behind Unicorn's back */
    cpu_reset(m);
}

/* From outside: RESET_SYSTEM is a pin reset (POWER.RESETREAS.RESETPIN). */
void machine_reset(struct machine *m, enum reset_kind kind)
{
    if (kind == RESET_SYSTEM && m->chip)
        nrf52840_note_reset_reason(m->chip, 1u << 0);
    do_reset(m, kind);
}

void machine_power(struct machine *m, bool on)
{
    if (!on) {
        if (m->chip)
            nrf52840_set_vbus(m->chip, false);
        soc_reset(m->soc, RESET_POWER_ON);
        forget_code(m, false);
        nvic_reset(&m->nvic, m->img.vector_base);
        m->nframes = 0;
        m->sleeping = AWAKE;
        m->powered = false;
        attend(m);
        return;
    }
    m->powered = true;
    do_reset(m, RESET_POWER_ON);
    if (m->chip)
        nrf52840_set_vbus(m->chip, true);
}

/* ---- construction ---- */

static bool map_mmio(struct machine *m, int i, uint32_t base, uint32_t size, bool ppb)
{
    m->regions[i] = (struct mmio_region){ m, base, ppb };
    return uc_mmio_map(m->uc, base, size, mmio_read, &m->regions[i], mmio_write, &m->regions[i]) == UC_ERR_OK;
}

static bool setup_cpu(struct machine *m)
{
    uc_err e = uc_open(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, &m->uc);
    if (e != UC_ERR_OK) {
        soc_log(m->soc, "hilda-emu: Unicorn: %s\n", uc_strerror(e));
        m->uc = NULL;
        return false;
    }
    struct soc *soc = m->soc;
    bool ok = uc_ctl_set_cpu_model(m->uc, UC_CPU_ARM_CORTEX_M4) == UC_ERR_OK &&
              uc_mem_map_ptr(m->uc, SOC_FLASH_BASE, SOC_FLASH_SIZE, UC_PROT_READ | UC_PROT_EXEC, soc->flash) ==
                  UC_ERR_OK &&
              uc_mem_map_ptr(m->uc, SOC_RAM_BASE, SOC_RAM_SIZE, UC_PROT_ALL, soc->ram) == UC_ERR_OK &&
              uc_mem_map_ptr(m->uc, CODE_RAM_ALIAS, SOC_RAM_SIZE, UC_PROT_ALL, soc->ram) == UC_ERR_OK &&
              map_mmio(m, 0, INFO_BASE, INFO_SIZE, false) && map_mmio(m, 1, APB_BASE, APB_SIZE, false) &&
              map_mmio(m, 2, AHB_BASE, AHB_SIZE, false) && map_mmio(m, 3, PPB_SCS_BASE, PPB_SCS_SIZE, true) &&
              map_mmio(m, 4, PPB_DWT_BASE, PPB_DWT_SIZE, true);
    uc_hook h;
    ok = ok && uc_hook_add(m->uc, &h, UC_HOOK_BLOCK, (void *)hook_block, m, 1, 0) == UC_ERR_OK &&
         uc_hook_add(m->uc, &h, UC_HOOK_INTR, (void *)hook_intr, m, 1, 0) == UC_ERR_OK &&
         uc_hook_add(m->uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, (void *)hook_unmapped, m, 1, 0) ==
             UC_ERR_OK;
    if (!ok)
        soc_log(m->soc, "hilda-emu: cannot set up the Unicorn Cortex-M4\n");
    return ok;
}

static void input_arrived(void *ctx);

struct machine *machine_new(const struct machine_options *opt)
{
    FILE *log = opt && opt->log ? opt->log : stderr;
    if (!opt || !opt->firmware) {
        fprintf(log, "hilda-emu: no firmware given\n");
        return NULL;
    }
    struct machine *m = calloc(1, sizeof *m);
    if (!m) {
        fprintf(log, "hilda-emu: out of memory\n");
        return NULL;
    }
    m->log = log;
    m->wake_fd = -1;
    m->trace_irq = opt->trace_irq;
    m->trace_mmio = opt->trace_mmio;
    m->realtime = opt->realtime;
    m->powered = true;
    m->soc = soc_new(log);
    m->block_info = calloc(SOC_FLASH_SIZE / 2, sizeof *m->block_info);
    if (!m->soc || !m->block_info) {
        fprintf(log, "hilda-emu: out of memory\n");
        machine_free(m);
        return NULL;
    }
    struct soc *soc = m->soc;
    soc->input_arrived = input_arrived;
    soc->input_ctx = m;
    const struct nvic_host host = { m, on_nvic_changed, on_sysreset };
    nvic_init(&m->nvic, soc, &host);
    soc->irq_changed = on_irq_changed;
    soc->irq_ctx = m;

    if (!setup_cpu(m)) {
        machine_free(m);
        return NULL;
    }
    const struct nrf52840_config cfg = {
        .uart_mode = opt->uart_mode,
        .device_id = opt->device_id,
        .vbus = true,
        .ctx = m,
        .system_off = on_system_off,
        .flash_erased = on_flash_erased,
    };
    m->chip = nrf52840_new(soc, &cfg);
    if (!m->chip) {
        soc_log(soc, "hilda-emu: cannot create the peripheral models\n");
        machine_free(m);
        return NULL;
    }
    m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->wake_fd < 0) {
        soc_log(soc, "hilda-emu: eventfd: %s\n", strerror(errno));
        machine_free(m);
        return NULL;
    }
    soc_watch_fd(soc, m->wake_fd, on_wake, m);

    soc_reset(soc, RESET_POWER_ON);
    char err[256];
    if (!loader_load_file(opt->firmware, soc->flash, soc->ram, &m->img, err, sizeof err)) {
        soc_log(soc, "hilda-emu: %s: %s\n", opt->firmware, err);
        machine_free(m);
        return NULL;
    }
    cpu_reset(m);
    return m;
}

void machine_free(struct machine *m)
{
    if (!m)
        return;
    if (m->chip)
        nrf52840_free(m->chip);
    if (m->wake_fd >= 0) {
        soc_unwatch_fd(m->soc, m->wake_fd);
        close(m->wake_fd);
    }
    if (m->uc)
        uc_close(m->uc);
    soc_free(m->soc);
    symbols_free(m->img.symbols);
    free(m->block_info);
    free(m);
}

struct soc *machine_soc(struct machine *m)
{
    return m->soc;
}

struct nrf52840 *machine_chip(struct machine *m)
{
    return m->chip;
}

const struct symbols *machine_symbols(const struct machine *m)
{
    return m->img.symbols;
}

/* ---- the run loop ---- */

static int64_t ns_between(const struct timespec *a, const struct timespec *b)
{
    return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
}

/* Virtual time the wall clock has reached since the run started. */
static vtime_t wall_vtime(const struct machine *m)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = ns_between(&m->wall_anchor, &now);
    if (ns < 0)
        ns = 0;
    return m->v_anchor + (vtime_t)ns * SOC_CYCLES_PER_US / 1000;
}

static void poll_now(struct machine *m, int timeout_ms)
{
    soc_poll_fds(m->soc, timeout_ms);
    clock_gettime(CLOCK_MONOTONIC, &m->last_poll);
}

static void maybe_poll(struct machine *m)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ns_between(&m->last_poll, &now) >= 1000000)
        poll_now(m, 0);
}

/* With `realtime`: block on the fds until the wall clock reaches virtual
 * time `target` (to within a millisecond). False if input arrived first. */
static bool pace_to(struct machine *m, vtime_t target)
{
    vtime_t wall = wall_vtime(m);
    if (target <= wall || target - wall < SOC_MS(1))
        return true;
    vtime_t ms = (target - wall) / SOC_MS(1);
    if (ms > 1000)
        ms = 1000;
    int before = soc_poll_fds(m->soc, (int)ms);
    clock_gettime(CLOCK_MONOTONIC, &m->last_poll);
    return before == 0 && wall_vtime(m) + SOC_MS(1) > target;
}

/* Input (a pty byte, a USB request) arrived while the CPU slept with time
 * paced by the wall clock: it arrived now, at the wall clock's virtual time,
 * not when the CPU fell asleep. Move time there before the models see it, or
 * what they schedule from it would lie in the past and fire in one burst
 * with no chance for the CPU to run in between. Never past the next
 * scheduled event: the sleep loop handles that one (and its interrupt). */
static void input_arrived(void *ctx)
{
    struct machine *m = ctx;
    if (!m->realtime || !m->sleeping)
        return;
    vtime_t w = wall_vtime(m), next = soc_next_event(m->soc);
    if (w > next)
        w = next;
    if (w > m->soc->now)
        soc_advance(m->soc, w);
}

static bool external_fds(const struct machine *m)
{
    return m->soc->nwatched > 1;           /* more than our own wake-up eventfd */
}

enum step { STEP_CONTINUE, STEP_IDLE, STEP_DEADLINE };

/* The CPU sleeps (or is powered off): let time pass to the next event. */
static enum step sleep_step(struct machine *m, vtime_t until)
{
    struct soc *soc = m->soc;
    vtime_t next = soc_next_event(soc);
    if (next == UINT64_MAX) {
        if (!external_fds(m))
            return STEP_IDLE;
        if (m->realtime && until != UINT64_MAX) {
            if (pace_to(m, until)) {
                soc_advance(soc, until);
                return STEP_DEADLINE;
            }
            vtime_t w = wall_vtime(m);
            soc_advance(soc, w < until ? (w > soc->now ? w : soc->now) : until);
        } else {
            poll_now(m, -1);
            if (m->realtime) {
                vtime_t w = wall_vtime(m);
                if (w > soc->now)
                    soc_advance(soc, w);
            }
        }
        return STEP_CONTINUE;
    }
    vtime_t target = next < until ? next : until;
    if (m->realtime && !pace_to(m, target)) {
        /* input arrived: time moves to the wall clock, not past the target */
        vtime_t w = wall_vtime(m);
        w = w < target ? w : target;
        soc_advance(soc, w > soc->now ? w : soc->now);
        return STEP_CONTINUE;
    }
    soc_advance(soc, target);
    return STEP_CONTINUE;
}

static bool woken(struct machine *m)
{
    struct nvic_masks mk = read_masks(m);
    if (m->sleeping == SLEEP_WFE) {
        if (m->event_reg || m->nvic.event || nvic_preempting(&m->nvic, &mk)) {
            m->event_reg = false;
            m->nvic.event = false;
            return true;
        }
        return false;
    }
    return nvic_wakeup(&m->nvic, &mk);
}

static uint16_t halfword_at(struct machine *m, uint32_t addr)
{
    const uint8_t *p = mem_ptr(m, addr, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

/* The instruction just before pc: 16-bit `hint16` or its 32-bit form. */
static bool hint_before(struct machine *m, uint32_t pc, uint16_t hint16, uint16_t hint32_low)
{
    if (pc >= 2 && halfword_at(m, pc - 2) == hint16)
        return true;
    return pc >= 4 && halfword_at(m, pc - 4) == 0xF3AF && halfword_at(m, pc - 2) == hint32_low;
}

static void mem_fault_report(struct machine *m, uc_err e)
{
    const char *what = e == UC_ERR_READ_UNMAPPED ? "unmapped read"
                     : e == UC_ERR_WRITE_UNMAPPED ? "unmapped write"
                     : e == UC_ERR_FETCH_UNMAPPED ? "unmapped instruction fetch"
                     : e == UC_ERR_WRITE_PROT ? "write to read-only memory"
                     : e == UC_ERR_FETCH_PROT ? "instruction fetch from non-executable memory"
                     : "read-protected memory";
    if (e == UC_ERR_FETCH_UNMAPPED || e == UC_ERR_FETCH_PROT)
        m->nvic.cfsr |= 1u << 8;                                    /* IBUSERR */
    else
        m->nvic.cfsr |= 1u << 9 | 1u << 15;                         /* PRECISERR, BFARVALID */
    if (m->mem_fault.valid) {
        m->nvic.bfar = m->mem_fault.addr;
        uint32_t sp = reg_get(m, UC_ARM_REG_SP);
        bool stack = m->mem_fault.write && m->mem_fault.addr < SOC_RAM_BASE && sp < SOC_RAM_BASE + 0x100 &&
                     m->mem_fault.addr + 0x100 >= sp;
        bool flash = e == UC_ERR_WRITE_PROT && m->mem_fault.addr < SOC_FLASH_SIZE;
        fault(m, true, what, "%d byte(s) at 0x%08x%s", m->mem_fault.size, m->mem_fault.addr,
              stack ? " (below RAM: stack overflow)" : flash ? " (flash, NVMC CONFIG.WEN not set)" : "");
    } else {
        fault(m, true, what, NULL);
    }
}

static void run_slice(struct machine *m, vtime_t until)
{
    struct soc *soc = m->soc;
    vtime_t next = soc_next_event(soc), end = soc->now + SLICE_MAX;
    if (next < end)
        end = next;
    if (until < end)
        end = until;
    m->slice_end = end;
    m->hook_stopped = false;
    m->mem_fault.valid = false;
    uint32_t pc = reg_get(m, UC_ARM_REG_PC);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uc_err e = uc_emu_start(m->uc, pc | 1u, 0xFFFFFFFFu, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    m->stats.slices++;
    m->stats.cpu_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
    if (m->faulted)
        return;
    pc = reg_get(m, UC_ARM_REG_PC);
    switch (e) {
    case UC_ERR_OK:
        if (m->sleep_on_exit) {
            m->sleep_on_exit = false;
            m->sleeping = SLEEP_WFI;
            m->stats.sleeps++;
        } else if (!m->hook_stopped && hint_before(m, pc, 0xBF30, 0x8003)) {
            m->sleeping = SLEEP_WFI;
            m->stats.sleeps++;
        }
        return;
    case UC_ERR_INSN_INVALID:
        if (hint_before(m, pc, 0xBF20, 0x8002)) {                  /* WFE */
            m->stats.sleeps++;
            if (m->event_reg || m->nvic.event)
                m->event_reg = m->nvic.event = false;
            else
                m->sleeping = SLEEP_WFE;
            return;
        }
        if (hint_before(m, pc, 0xBF10, 0x8001))                   /* YIELD: a hint, nothing to do */
            return;
        m->nvic.cfsr |= 1u << 16;                                  /* UNDEFINSTR */
        fault(m, true, "invalid instruction", "undefined instruction 0x%04x at 0x%08x", halfword_at(m, pc), pc);
        return;
    case UC_ERR_READ_UNMAPPED: case UC_ERR_WRITE_UNMAPPED: case UC_ERR_FETCH_UNMAPPED:
    case UC_ERR_WRITE_PROT: case UC_ERR_READ_PROT: case UC_ERR_FETCH_PROT:
        mem_fault_report(m, e);
        return;
    case UC_ERR_EXCEPTION:
        m->nvic.cfsr |= 1u << 17;
        fault(m, true, "invalid state", "CPU exception (INVSTATE: a branch to an address without the Thumb bit?)");
        return;
    default:
        fault(m, true, "CPU error", "Unicorn: %s", uc_strerror(e));
        return;
    }
}

static void deliver(struct machine *m)
{
    for (int i = 0; i < MAX_ENTRIES_AT_ONCE && !m->faulted; i++) {
        struct nvic_masks mk = read_masks(m);
        unsigned e = nvic_preempting(&m->nvic, &mk);
        if (!e || !enter_exception(m, e, NULL))
            break;
    }
}

enum run_status machine_run(struct machine *m, vtime_t until)
{
    struct soc *soc = m->soc;
    clock_gettime(CLOCK_MONOTONIC, &m->wall_anchor);
    m->last_poll = m->wall_anchor;
    m->v_anchor = soc->now;

    for (;;) {
        if (atomic_exchange(&m->stop_requested, false))
            return RUN_STOPPED;
        if (m->faulted)
            return RUN_FAULT;
        atomic_store(&m->attention, false);
        if (atomic_load(&m->stop_requested))
            attend(m);
        if (m->reset_requested) {
            if (m->chip)
                nrf52840_note_reset_reason(m->chip, 1u << 2);       /* RESETREAS.SREQ */
            do_reset(m, RESET_SYSTEM);
            if (m->faulted)
                return RUN_FAULT;
        }
        if (m->code_changed) {
            m->code_changed = false;
            memset(m->block_info, 0, SOC_FLASH_SIZE / 2 * sizeof *m->block_info);
            forget_code(m, true);
        }
        soc_advance(soc, soc->now);                                 /* events that are due */
        if (m->faulted)
            return RUN_FAULT;
        maybe_poll(m);
        if (m->faulted)
            return RUN_FAULT;
        if (atomic_load(&m->stop_requested))
            continue;
        if (soc->now >= until)
            return RUN_DEADLINE;

        if (!m->powered || m->system_off || m->sleeping) {
            if (m->powered && !m->system_off && woken(m)) {
                m->sleeping = AWAKE;
            } else {
                switch (sleep_step(m, until)) {
                case STEP_IDLE: return RUN_IDLE;
                case STEP_DEADLINE: return RUN_DEADLINE;
                case STEP_CONTINUE: continue;
                }
            }
        }
        if (m->realtime && soc->now > wall_vtime(m) + SOC_MS(2))
            pace_to(m, soc->now);                                   /* busy firmware: keep to the wall clock */

        deliver(m);
        if (m->faulted)
            return RUN_FAULT;
        run_slice(m, until);
    }
}

void machine_request_stop(struct machine *m)
{
    atomic_store(&m->stop_requested, true);
    attend(m);
    uint64_t one = 1;
    if (m->wake_fd >= 0) {
        ssize_t n = write(m->wake_fd, &one, sizeof one);
        (void)n;
    }
}

void machine_stats(const struct machine *m, struct machine_stats *out)
{
    *out = m->stats;
    out->dma_transfers = m->soc->dma_transfers;
}

const char *machine_fault_summary(const struct machine *m)
{
    return m->faulted ? m->fault_summary : "";
}

uint32_t machine_pc(const struct machine *m)
{
    return reg_get(m, UC_ARM_REG_PC);
}

const char *machine_function_at(const struct machine *m, uint32_t addr)
{
    return symbols_lookup(m->img.symbols, addr & ~1u, NULL);
}

void machine_set_ram_observer(struct machine *m, machine_ram_access_fn fn, void *ctx)
{
    m->ram_fn = fn;
    m->ram_ctx = ctx;
    if (fn && !m->ram_hooked) {
        int types = UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE;
        uc_hook_add(m->uc, &m->ram_hooks[0], types, (void *)hook_ram, m, SOC_RAM_BASE,
                    SOC_RAM_BASE + SOC_RAM_SIZE - 1);
        uc_hook_add(m->uc, &m->ram_hooks[1], types, (void *)hook_ram, m, CODE_RAM_ALIAS,
                    CODE_RAM_ALIAS + SOC_RAM_SIZE - 1);
        m->ram_hooked = true;
    } else if (!fn && m->ram_hooked) {
        uc_hook_del(m->uc, m->ram_hooks[0]);
        uc_hook_del(m->uc, m->ram_hooks[1]);
        m->ram_hooked = false;
    } else {
        return;
    }
    /* code translated before the change does not see it */
    forget_code(m, true);
}

void machine_raise_fault(struct machine *m, const char *kind, const char *detail)
{
    fault(m, false, kind ? kind : "fault", "%s", detail ? detail : "");
}
