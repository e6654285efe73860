/* NVIC, SCB, SysTick and DWT of the Cortex-M4 (ARMv7-M ARM chapter B3). */
#include "nvic.h"

#include <stdio.h>
#include <string.h>

#define CPUID_M4F 0x410FC241u

/* SCS offsets (from 0xE000E000) */
#define R_ICTR 0x004u
#define R_ACTLR 0x008u
#define R_SYST_CSR 0x010u
#define R_SYST_RVR 0x014u
#define R_SYST_CVR 0x018u
#define R_SYST_CALIB 0x01Cu
#define R_ISER 0x100u
#define R_ICER 0x180u
#define R_ISPR 0x200u
#define R_ICPR 0x280u
#define R_IABR 0x300u
#define R_IPR 0x400u
#define R_CPUID 0xD00u
#define R_ICSR 0xD04u
#define R_VTOR 0xD08u
#define R_AIRCR 0xD0Cu
#define R_SCR 0xD10u
#define R_CCR 0xD14u
#define R_SHPR1 0xD18u
#define R_SHPR3 0xD20u
#define R_SHCSR 0xD24u
#define R_CFSR 0xD28u
#define R_HFSR 0xD2Cu
#define R_DFSR 0xD30u
#define R_MMFAR 0xD34u
#define R_BFAR 0xD38u
#define R_AFSR 0xD3Cu
#define R_ID_FIRST 0xD40u
#define R_ID_LAST 0xD7Cu
#define R_CPACR 0xD88u
#define R_MPU_TYPE 0xD90u
#define R_MPU_CTRL 0xD94u
#define R_MPU_RNR 0xD98u
#define R_MPU_RBAR 0xD9Cu
#define R_MPU_RASR 0xDA0u
#define R_MPU_LAST 0xDB8u
#define R_DHCSR 0xDF0u
#define R_DCRSR 0xDF4u
#define R_DCRDR 0xDF8u
#define R_DEMCR 0xDFCu
#define R_STIR 0xF00u
#define R_FPCCR 0xF34u
#define R_FPCAR 0xF38u
#define R_FPDSCR 0xF3Cu
#define R_MVFR0 0xF40u
#define R_MVFR1 0xF44u
#define R_CORESIGHT 0xFD0u

#define ICSR_NMIPENDSET (1u << 31)
#define ICSR_PENDSVSET (1u << 28)
#define ICSR_PENDSVCLR (1u << 27)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)
#define ICSR_ISRPENDING (1u << 22)
#define ICSR_RETTOBASE (1u << 11)

#define SYST_ENABLE 1u
#define SYST_TICKINT 2u
#define SYST_CLKSOURCE 4u
#define SYST_COUNTFLAG (1u << 16)

#define DEMCR_TRCENA (1u << 24)
#define DWT_CYCCNTENA 1u
#define DWT_CTRL_RESET 0x40000000u   /* NUMCOMP = 4 */

#define SCR_SEVONPEND (1u << 4)

static void changed(struct nvic *n)
{
    if (n->host.changed)
        n->host.changed(n->host.ctx);
}

/* ---- priorities ---- */

static unsigned group_mask(const struct nvic *n)
{
    return (0xFFu << (n->prigroup + 1)) & 0xFFu;
}

bool nvic_exc_enabled(const struct nvic *n, unsigned exc)
{
    switch (exc) {
    case EXC_NMI: case EXC_HARDFAULT: case EXC_SVCALL: case EXC_PENDSV: case EXC_SYSTICK:
        return true;
    default:
        return exc < NVIC_EXCS && n->enabled[exc];
    }
}

static int full_prio(const struct nvic *n, unsigned exc)
{
    if (exc >= EXC_RESET && exc <= EXC_HARDFAULT)
        return -4 + (int)exc;           /* -3, -2, -1 */
    return n->prio[exc];
}

int nvic_group_prio(const struct nvic *n, unsigned exc)
{
    if (exc >= EXC_RESET && exc <= EXC_HARDFAULT)
        return -4 + (int)exc;
    return (int)(n->prio[exc] & group_mask(n));
}

int nvic_exec_prio(const struct nvic *n, const struct nvic_masks *mk)
{
    int p = NVIC_THREAD_PRIO;
    for (unsigned i = 0; i < n->depth; i++) {
        int g = nvic_group_prio(n, n->stack[i]);
        if (g < p)
            p = g;
    }
    if (mk) {
        unsigned bp = mk->basepri & NVIC_PRIO_MASK;
        if (bp && (int)(bp & group_mask(n)) < p)
            p = (int)(bp & group_mask(n));
        if (mk->primask && p > 0)
            p = 0;
        if (mk->faultmask && p > -1)
            p = -1;
    }
    return p;
}

unsigned nvic_top_pending(const struct nvic *n)
{
    unsigned best = 0;
    int best_prio = 0;
    for (unsigned e = EXC_NMI; e < NVIC_EXCS; e++) {
        if (!n->pending[e] || !nvic_exc_enabled(n, e))
            continue;
        int p = full_prio(n, e);
        if (!best || p < best_prio) {
            best = e;
            best_prio = p;
        }
    }
    return best;
}

unsigned nvic_preempting(const struct nvic *n, const struct nvic_masks *mk)
{
    unsigned e = nvic_top_pending(n);
    if (e && nvic_group_prio(n, e) < nvic_exec_prio(n, mk))
        return e;
    return 0;
}

bool nvic_wakeup(const struct nvic *n, const struct nvic_masks *mk)
{
    struct nvic_masks m = *mk;
    m.primask = false;
    return nvic_preempting(n, &m) != 0;
}

/* ---- pending and active ---- */

void nvic_set_pending(struct nvic *n, unsigned exc)
{
    if (exc < EXC_NMI || exc >= NVIC_EXCS)   /* EXC_RESET (1) is below EXC_NMI: never pended */
        return;
    if (!n->pending[exc]) {
        n->pending[exc] = true;
        if (n->scr & SCR_SEVONPEND)
            n->event = true;
    }
    changed(n);
}

void nvic_clear_pending(struct nvic *n, unsigned exc)
{
    if (exc >= NVIC_EXCS)
        return;
    /* a level-sensitive line still high keeps (re-)pending the interrupt */
    if (exc >= EXC_IRQ0 && n->level[exc - EXC_IRQ0] && !n->active[exc])
        return;
    n->pending[exc] = false;
    changed(n);
}

void nvic_set_level(struct nvic *n, unsigned irq, bool level)
{
    if (irq >= NVIC_IRQS)
        return;
    bool rising = level && !n->level[irq];
    n->level[irq] = level;
    if (rising)
        nvic_set_pending(n, EXC_IRQ0 + irq);
}

void nvic_activate(struct nvic *n, unsigned exc)
{
    if (exc >= NVIC_EXCS)
        return;
    n->pending[exc] = false;
    if (!n->active[exc] && n->depth < NVIC_EXCS) {
        n->active[exc] = true;
        n->stack[n->depth++] = (uint8_t)exc;
    }
    changed(n);
}

bool nvic_deactivate(struct nvic *n, unsigned exc)
{
    if (exc >= NVIC_EXCS || !n->active[exc])
        return false;
    n->active[exc] = false;
    for (unsigned i = n->depth; i-- > 0;) {
        if (n->stack[i] == exc) {
            memmove(&n->stack[i], &n->stack[i + 1], n->depth - i - 1);
            n->depth--;
            break;
        }
    }
    if (exc >= EXC_IRQ0 && n->level[exc - EXC_IRQ0])
        nvic_set_pending(n, exc);
    changed(n);
    return true;
}

unsigned nvic_current(const struct nvic *n)
{
    return n->depth ? n->stack[n->depth - 1] : 0;
}

const char *nvic_exc_name(unsigned exc, char *buf, unsigned len)
{
    static const char *const sys[16] = {
        "Thread", "Reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "Reserved7",
        "Reserved8", "Reserved9", "Reserved10", "SVCall", "DebugMonitor", "Reserved13", "PendSV", "SysTick",
    };
    if (exc < 16)
        snprintf(buf, len, "%s", sys[exc]);
    else
        snprintf(buf, len, "IRQ%u", exc - 16);
    return buf;
}

/* ---- SysTick: counts down at the core clock in virtual time ---- */

static uint32_t systick_current(const struct nvic *n)
{
    if (!(n->systick.csr & SYST_ENABLE))
        return n->systick.cvr_stopped;
    vtime_t now = soc_now(n->soc);
    if (now < n->systick.zero_at) {
        vtime_t left = n->systick.zero_at - now;
        return left > 0xFFFFFFu ? 0xFFFFFFu : (uint32_t)left;
    }
    /* the wrap event is due but has not fired yet (it fires between slices) */
    if (n->systick.rvr == 0)
        return 0;
    vtime_t period = (vtime_t)n->systick.rvr + 1, k = (now - n->systick.zero_at) % period;
    return k == 0 ? 0 : (uint32_t)(period - k);
}

static void systick_arm(struct nvic *n, vtime_t delay)
{
    n->systick.zero_at = soc_now(n->soc) + delay;
    soc_schedule(n->soc, &n->systick.ev, delay);
}

static void systick_fire(struct soc *soc, void *ctx)
{
    (void)soc;
    struct nvic *n = ctx;
    n->systick.csr |= SYST_COUNTFLAG;
    if (n->systick.csr & SYST_TICKINT)
        nvic_set_pending(n, EXC_SYSTICK);
    if (n->systick.rvr)
        systick_arm(n, (vtime_t)n->systick.rvr + 1);
    /* RVR 0: the counter stays at 0 until RVR is written */
}

static void systick_write_csr(struct nvic *n, uint32_t v)
{
    bool was = n->systick.csr & SYST_ENABLE, now_on = v & SYST_ENABLE;
    if (was && !now_on) {
        n->systick.cvr_stopped = systick_current(n);
        soc_cancel(n->soc, &n->systick.ev);
    }
    n->systick.csr = (n->systick.csr & SYST_COUNTFLAG) | (v & (SYST_ENABLE | SYST_TICKINT | SYST_CLKSOURCE));
    if (!was && now_on) {
        if (n->systick.cvr_stopped)
            systick_arm(n, n->systick.cvr_stopped);
        else if (n->systick.rvr)
            systick_arm(n, (vtime_t)n->systick.rvr + 1);
        else
            n->systick.zero_at = soc_now(n->soc);
    }
}

/* ---- DWT cycle counter: virtual cycles while TRCENA and CYCCNTENA ---- */

static bool dwt_counting(const struct nvic *n)
{
    return (n->demcr & DEMCR_TRCENA) && (n->dwt.ctrl & DWT_CYCCNTENA);
}

static uint32_t dwt_cyccnt(const struct nvic *n)
{
    if (!dwt_counting(n))
        return n->dwt.cyccnt;
    return n->dwt.cyccnt + (uint32_t)(soc_now(n->soc) - n->dwt.base);
}

/* call around any change of TRCENA, CYCCNTENA or CYCCNT */
static void dwt_fold(struct nvic *n)
{
    n->dwt.cyccnt = dwt_cyccnt(n);
    n->dwt.base = soc_now(n->soc);
}

/* ---- reset ---- */

void nvic_init(struct nvic *n, struct soc *soc, const struct nvic_host *host)
{
    memset(n, 0, sizeof *n);
    n->soc = soc;
    if (host)
        n->host = *host;
    n->systick.ev = (struct sched_event){ .name = "SysTick", .fire = systick_fire, .ctx = n };
    n->ppb = (struct periph){ .name = "PPB", .base = PPB_SCS_BASE, .size = PPB_SCS_SIZE, .soc = soc };
    nvic_reset(n, 0);
}

void nvic_reset(struct nvic *n, uint32_t vtor)
{
    soc_cancel(n->soc, &n->systick.ev);
    memset(n->prio, 0, sizeof n->prio);
    memset(n->enabled, 0, sizeof n->enabled);
    memset(n->pending, 0, sizeof n->pending);
    memset(n->active, 0, sizeof n->active);
    memset(n->level, 0, sizeof n->level);
    n->depth = 0;
    n->event = false;
    n->prigroup = 0;
    n->vtor = vtor & 0xFFFFFF80u;
    n->scr = 0;
    n->ccr = 0x200;                       /* STKALIGN */
    n->cfsr = n->hfsr = n->dfsr = n->mmfar = n->bfar = n->afsr = 0;
    n->cpacr = 0;
    n->actlr = 0;
    n->demcr = 0;
    n->fpccr = 0xC0000000u;               /* ASPEN, LSPEN */
    n->fpcar = n->fpdscr = 0;
    n->mpu_ctrl = n->mpu_rnr = 0;
    memset(n->mpu_rbar, 0, sizeof n->mpu_rbar);
    memset(n->mpu_rasr, 0, sizeof n->mpu_rasr);
    n->systick.csr = SYST_CLKSOURCE;
    n->systick.rvr = 0;
    n->systick.cvr_stopped = 0;
    n->systick.zero_at = 0;
    memset(&n->dwt, 0, sizeof n->dwt);
    n->dwt.ctrl = DWT_CTRL_RESET;
    n->dwt.base = soc_now(n->soc);
    changed(n);
}

/* ---- register access ---- */

static uint32_t read_bits(const bool *v, unsigned first_exc, unsigned word)
{
    uint32_t r = 0;
    for (unsigned b = 0; b < 32; b++) {
        unsigned irq = word * 32 + b;
        if (irq < NVIC_IRQS && v[first_exc + irq])
            r |= 1u << b;
    }
    return r;
}

static uint32_t read_prio_bytes(const struct nvic *n, unsigned first_exc)
{
    uint32_t r = 0;
    for (unsigned b = 0; b < 4; b++) {
        unsigned e = first_exc + b;
        if (e < NVIC_EXCS && e >= EXC_MEMMANAGE)
            r |= (uint32_t)n->prio[e] << (8 * b);
    }
    return r;
}

static bool configurable(unsigned exc)
{
    switch (exc) {
    case EXC_MEMMANAGE: case EXC_BUSFAULT: case EXC_USAGEFAULT: case EXC_SVCALL: case EXC_DEBUGMON:
    case EXC_PENDSV: case EXC_SYSTICK:
        return true;
    default:
        return exc >= EXC_IRQ0 && exc < NVIC_EXCS;
    }
}

static void write_prio_bytes(struct nvic *n, unsigned first_exc, uint32_t v, uint32_t mask)
{
    for (unsigned b = 0; b < 4; b++) {
        unsigned e = first_exc + b;
        if (((mask >> (8 * b)) & 0xFF) && configurable(e))
            n->prio[e] = (uint8_t)(v >> (8 * b)) & NVIC_PRIO_MASK;
    }
    changed(n);
}

static uint32_t shcsr_read(const struct nvic *n)
{
    uint32_t r = 0;
    r |= n->active[EXC_MEMMANAGE] ? 1u << 0 : 0;
    r |= n->active[EXC_BUSFAULT] ? 1u << 1 : 0;
    r |= n->active[EXC_USAGEFAULT] ? 1u << 3 : 0;
    r |= n->active[EXC_SVCALL] ? 1u << 7 : 0;
    r |= n->active[EXC_DEBUGMON] ? 1u << 8 : 0;
    r |= n->active[EXC_PENDSV] ? 1u << 10 : 0;
    r |= n->active[EXC_SYSTICK] ? 1u << 11 : 0;
    r |= n->pending[EXC_USAGEFAULT] ? 1u << 12 : 0;
    r |= n->pending[EXC_MEMMANAGE] ? 1u << 13 : 0;
    r |= n->pending[EXC_BUSFAULT] ? 1u << 14 : 0;
    r |= n->pending[EXC_SVCALL] ? 1u << 15 : 0;
    r |= n->enabled[EXC_MEMMANAGE] ? 1u << 16 : 0;
    r |= n->enabled[EXC_BUSFAULT] ? 1u << 17 : 0;
    r |= n->enabled[EXC_USAGEFAULT] ? 1u << 18 : 0;
    return r;
}

static uint32_t icsr_read(const struct nvic *n)
{
    uint32_t r = nvic_current(n) & 0x1FF;
    unsigned top = nvic_top_pending(n);
    r |= (top & 0x1FF) << 12;
    if (n->depth <= 1)
        r |= ICSR_RETTOBASE;
    for (unsigned e = EXC_IRQ0; e < NVIC_EXCS; e++) {
        if (n->pending[e]) {
            r |= ICSR_ISRPENDING;
            break;
        }
    }
    r |= n->pending[EXC_NMI] ? ICSR_NMIPENDSET : 0;
    r |= n->pending[EXC_PENDSV] ? ICSR_PENDSVSET : 0;
    r |= n->pending[EXC_SYSTICK] ? ICSR_PENDSTSET : 0;
    return r;
}

static const uint32_t id_regs[16] = {
    0x00000030, 0x00000200, 0x00100000, 0x00000000,   /* ID_PFR0, PFR1, DFR0, AFR0 */
    0x00100030, 0x00000000, 0x01000000, 0x00000000,   /* ID_MMFR0-3 */
    0x01101110, 0x02111000, 0x21112231, 0x01111110,   /* ID_ISAR0-3 */
    0x01310132, 0x00000000, 0x00000000, 0x00000000,   /* ID_ISAR4, reserved */
};

static uint32_t scs_read(struct nvic *n, uint32_t off)
{
    if (off >= R_ISER && off < R_ISER + 8)
        return read_bits(n->enabled, EXC_IRQ0, (off - R_ISER) / 4);
    if (off >= R_ICER && off < R_ICER + 8)
        return read_bits(n->enabled, EXC_IRQ0, (off - R_ICER) / 4);
    if (off >= R_ISPR && off < R_ISPR + 8)
        return read_bits(n->pending, EXC_IRQ0, (off - R_ISPR) / 4);
    if (off >= R_ICPR && off < R_ICPR + 8)
        return read_bits(n->pending, EXC_IRQ0, (off - R_ICPR) / 4);
    if (off >= R_IABR && off < R_IABR + 8)
        return read_bits(n->active, EXC_IRQ0, (off - R_IABR) / 4);
    if ((off >= R_ISER + 8 && off < R_ISER + 0x40) || (off >= R_ICER + 8 && off < R_ICER + 0x40) ||
        (off >= R_ISPR + 8 && off < R_ISPR + 0x40) || (off >= R_ICPR + 8 && off < R_ICPR + 0x40) ||
        (off >= R_IABR + 8 && off < R_IABR + 0x40))
        return 0;                                /* lines that do not exist */
    if (off >= R_IPR && off < R_IPR + NVIC_IRQS)
        return read_prio_bytes(n, EXC_IRQ0 + (off - R_IPR));
    if (off >= R_IPR + NVIC_IRQS && off < R_IPR + 0xF0)
        return 0;
    if (off >= R_SHPR1 && off <= R_SHPR3)
        return read_prio_bytes(n, EXC_MEMMANAGE + (off - R_SHPR1));
    if (off >= R_ID_FIRST && off <= R_ID_LAST)
        return id_regs[(off - R_ID_FIRST) / 4];
    if (off >= R_MPU_RBAR && off <= R_MPU_LAST) {
        unsigned r = n->mpu_rnr & 7;
        return ((off - R_MPU_RBAR) & 4) ? n->mpu_rasr[r] : (n->mpu_rbar[r] | r);
    }
    if (off >= R_CORESIGHT)
        return 0;
    switch (off) {
    case R_ICTR: return (NVIC_IRQS - 1) / 32;
    case R_ACTLR: return n->actlr;
    case R_SYST_CSR: {
        uint32_t v = n->systick.csr;
        n->systick.csr &= ~SYST_COUNTFLAG;        /* cleared by reading */
        return v;
    }
    case R_SYST_RVR: return n->systick.rvr;
    case R_SYST_CVR: return systick_current(n);
    case R_SYST_CALIB: return 0xC0000000u;        /* NOREF, SKEW, no TENMS */
    case R_CPUID: return CPUID_M4F;
    case R_ICSR: return icsr_read(n);
    case R_VTOR: return n->vtor;
    case R_AIRCR: return 0xFA050000u | n->prigroup << 8;
    case R_SCR: return n->scr;
    case R_CCR: return n->ccr;
    case R_SHCSR: return shcsr_read(n);
    case R_CFSR: return n->cfsr;
    case R_HFSR: return n->hfsr;
    case R_DFSR: return n->dfsr;
    case R_MMFAR: return n->mmfar;
    case R_BFAR: return n->bfar;
    case R_AFSR: return n->afsr;
    case R_CPACR: return n->cpacr;
    case R_MPU_TYPE: return 0x00000800u;          /* 8 regions */
    case R_MPU_CTRL: return n->mpu_ctrl;
    case R_MPU_RNR: return n->mpu_rnr;
    case R_DHCSR: case R_DCRSR: case R_DCRDR: return 0;   /* no debugger attached */
    case R_DEMCR: return n->demcr;
    case R_STIR: return 0;
    case R_FPCCR: return n->fpccr;
    case R_FPCAR: return n->fpcar;
    case R_FPDSCR: return n->fpdscr;
    case R_MVFR0: return 0x10110021u;
    case R_MVFR1: return 0x11000011u;
    default:
        soc_unmodelled(n->soc, &n->ppb, off, false);
        return 0;
    }
}

static void set_bits(struct nvic *n, bool *v, unsigned word, uint32_t bits, bool value, bool pend)
{
    for (unsigned b = 0; b < 32; b++) {
        unsigned irq = word * 32 + b;
        if (!(bits & (1u << b)) || irq >= NVIC_IRQS)
            continue;
        if (pend) {
            if (value)
                nvic_set_pending(n, EXC_IRQ0 + irq);
            else
                nvic_clear_pending(n, EXC_IRQ0 + irq);
        } else {
            v[EXC_IRQ0 + irq] = value;
        }
    }
    changed(n);
}

/* v: the written bytes in place, mask: which bytes were written */
static void scs_write(struct nvic *n, uint32_t off, uint32_t v, uint32_t mask)
{
#define PLAIN(reg, bits) ((reg) = ((reg) & ~(mask & (bits))) | (v & mask & (bits)))
    if (off >= R_ISER && off < R_ISER + 8) {
        set_bits(n, n->enabled, (off - R_ISER) / 4, v, true, false);
        return;
    }
    if (off >= R_ICER && off < R_ICER + 8) {
        set_bits(n, n->enabled, (off - R_ICER) / 4, v, false, false);
        return;
    }
    if (off >= R_ISPR && off < R_ISPR + 8) {
        set_bits(n, n->pending, (off - R_ISPR) / 4, v, true, true);
        return;
    }
    if (off >= R_ICPR && off < R_ICPR + 8) {
        set_bits(n, n->pending, (off - R_ICPR) / 4, v, false, true);
        return;
    }
    if ((off >= R_ISER + 8 && off < R_ISER + 0x40) || (off >= R_ICER + 8 && off < R_ICER + 0x40) ||
        (off >= R_ISPR + 8 && off < R_ISPR + 0x40) || (off >= R_ICPR + 8 && off < R_ICPR + 0x40) ||
        (off >= R_IABR && off < R_IABR + 0x40))
        return;
    if (off >= R_IPR && off < R_IPR + NVIC_IRQS) {
        write_prio_bytes(n, EXC_IRQ0 + (off - R_IPR), v, mask);
        return;
    }
    if (off >= R_IPR + NVIC_IRQS && off < R_IPR + 0xF0)
        return;
    if (off >= R_SHPR1 && off <= R_SHPR3) {
        write_prio_bytes(n, EXC_MEMMANAGE + (off - R_SHPR1), v, mask);
        return;
    }
    if (off >= R_MPU_RBAR && off <= R_MPU_LAST) {
        if ((off - R_MPU_RBAR) & 4) {
            PLAIN(n->mpu_rasr[n->mpu_rnr & 7], 0xFFFFFFFFu);
        } else {
            if (v & mask & 0x10)                  /* VALID: REGION field selects the region */
                n->mpu_rnr = v & 7;
            PLAIN(n->mpu_rbar[n->mpu_rnr & 7], 0xFFFFFFE0u);
        }
        return;
    }
    if ((off >= R_ID_FIRST && off <= R_ID_LAST) || off >= R_CORESIGHT)
        return;                                   /* read-only */
    switch (off) {
    case R_ICTR: case R_CPUID: case R_SYST_CALIB: case R_MPU_TYPE: case R_MVFR0: case R_MVFR1:
        return;
    case R_ACTLR: PLAIN(n->actlr, 0x307u); return;
    case R_SYST_CSR: {
        uint32_t csr = n->systick.csr;
        PLAIN(csr, SYST_ENABLE | SYST_TICKINT | SYST_CLKSOURCE);
        systick_write_csr(n, csr);
        return;
    }
    case R_SYST_RVR: {
        PLAIN(n->systick.rvr, 0xFFFFFFu);
        if ((n->systick.csr & SYST_ENABLE) && !n->systick.ev.pending && n->systick.rvr)
            systick_arm(n, (vtime_t)n->systick.rvr + 1);
        return;
    }
    case R_SYST_CVR:
        /* any write clears the counter and COUNTFLAG; it reloads on the next tick */
        n->systick.csr &= ~SYST_COUNTFLAG;
        if (n->systick.csr & SYST_ENABLE) {
            if (n->systick.rvr)
                systick_arm(n, (vtime_t)n->systick.rvr + 1);
            else {
                soc_cancel(n->soc, &n->systick.ev);
                n->systick.zero_at = soc_now(n->soc);
            }
        } else {
            n->systick.cvr_stopped = 0;
        }
        return;
    case R_ICSR:
        if (v & ICSR_NMIPENDSET)
            nvic_set_pending(n, EXC_NMI);
        if (v & ICSR_PENDSVSET)
            nvic_set_pending(n, EXC_PENDSV);
        else if (v & ICSR_PENDSVCLR)
            nvic_clear_pending(n, EXC_PENDSV);
        if (v & ICSR_PENDSTSET)
            nvic_set_pending(n, EXC_SYSTICK);
        else if (v & ICSR_PENDSTCLR)
            nvic_clear_pending(n, EXC_SYSTICK);
        return;
    case R_VTOR: PLAIN(n->vtor, 0xFFFFFF80u); return;
    case R_AIRCR:
        /* needs the key in the upper half: only whole-word writes */
        if (mask != 0xFFFFFFFFu || (v >> 16) != 0x05FA)
            return;
        n->prigroup = (v >> 8) & 7;
        changed(n);
        if ((v & 4) || (v & 1)) {                 /* SYSRESETREQ; VECTRESET treated alike */
            if (n->host.sysreset)
                n->host.sysreset(n->host.ctx);
        }
        return;
    case R_SCR: PLAIN(n->scr, 0x16u); return;
    case R_CCR: PLAIN(n->ccr, 0x31Bu); return;
    case R_SHCSR: {
        uint32_t w = v & mask;
        n->enabled[EXC_MEMMANAGE] = mask & (1u << 16) ? (w >> 16) & 1 : n->enabled[EXC_MEMMANAGE];
        n->enabled[EXC_BUSFAULT] = mask & (1u << 17) ? (w >> 17) & 1 : n->enabled[EXC_BUSFAULT];
        n->enabled[EXC_USAGEFAULT] = mask & (1u << 18) ? (w >> 18) & 1 : n->enabled[EXC_USAGEFAULT];
        if (mask & 0xF000) {
            n->pending[EXC_USAGEFAULT] = (w >> 12) & 1;
            n->pending[EXC_MEMMANAGE] = (w >> 13) & 1;
            n->pending[EXC_BUSFAULT] = (w >> 14) & 1;
            n->pending[EXC_SVCALL] = (w >> 15) & 1;
        }
        changed(n);
        return;
    }
    case R_CFSR: n->cfsr &= ~(v & mask); return;     /* write 1 to clear */
    case R_HFSR: n->hfsr &= ~(v & mask); return;
    case R_DFSR: n->dfsr &= ~(v & mask); return;
    case R_MMFAR: PLAIN(n->mmfar, 0xFFFFFFFFu); return;
    case R_BFAR: PLAIN(n->bfar, 0xFFFFFFFFu); return;
    case R_AFSR: n->afsr &= ~(v & mask); return;
    case R_CPACR: PLAIN(n->cpacr, 0x00F00000u); return;
    case R_MPU_CTRL: PLAIN(n->mpu_ctrl, 7u); return;
    case R_MPU_RNR: PLAIN(n->mpu_rnr, 0xFFu); return;
    case R_DHCSR: case R_DCRSR: case R_DCRDR: return;  /* debugger registers: no debugger */
    case R_DEMCR: {
        dwt_fold(n);
        PLAIN(n->demcr, 0x010F07F1u);
        return;
    }
    case R_STIR: {
        unsigned irq = v & 0x1FF;
        if (mask & 0x1FF && irq < NVIC_IRQS)
            nvic_set_pending(n, EXC_IRQ0 + irq);
        return;
    }
    case R_FPCCR: PLAIN(n->fpccr, 0xC00001FBu); return;
    case R_FPCAR: PLAIN(n->fpcar, 0xFFFFFFF8u); return;
    case R_FPDSCR: PLAIN(n->fpdscr, 0x07C00000u); return;
    default:
        soc_unmodelled(n->soc, &n->ppb, off, true);
        return;
    }
#undef PLAIN
}

static uint32_t dwt_read(struct nvic *n, uint32_t off)
{
    if (off >= 0x20 && off < 0x60) {
        unsigned k = (off - 0x20) / 16;
        switch ((off - 0x20) % 16) {
        case 0: return n->dwt.comp[k];
        case 4: return n->dwt.mask[k];
        case 8: return n->dwt.function[k];
        default: return 0;
        }
    }
    switch (off) {
    case 0x000: return n->dwt.ctrl;
    case 0x004: return dwt_cyccnt(n);
    case 0x008: case 0x00C: case 0x010: case 0x014: case 0x018: case 0x01C:
        return 0;                                     /* profiling counters, PCSR */
    case 0xFB4: return 0;                             /* LSR: no lock */
    default:
        if (off >= 0xFD0)
            return 0;
        soc_unmodelled(n->soc, &n->ppb, PPB_DWT_BASE - PPB_SCS_BASE + off, false);
        return 0;
    }
}

static void dwt_write(struct nvic *n, uint32_t off, uint32_t v, uint32_t mask)
{
    if (off >= 0x20 && off < 0x60) {
        unsigned k = (off - 0x20) / 16;
        uint32_t *r = NULL;
        switch ((off - 0x20) % 16) {
        case 0: r = &n->dwt.comp[k]; break;
        case 4: r = &n->dwt.mask[k]; break;
        case 8: r = &n->dwt.function[k]; break;
        default: return;
        }
        *r = (*r & ~mask) | (v & mask);
        return;
    }
    switch (off) {
    case 0x000:
        dwt_fold(n);
        n->dwt.ctrl = (n->dwt.ctrl & ~(mask & 0x0FFFFFFFu)) | (v & mask & 0x0FFFFFFFu);
        return;
    case 0x004:
        dwt_fold(n);
        n->dwt.cyccnt = (n->dwt.cyccnt & ~mask) | (v & mask);
        return;
    case 0x008: case 0x00C: case 0x010: case 0x014: case 0x018: case 0x01C: case 0xFB0:
        return;
    default:
        if (off < 0xFD0)
            soc_unmodelled(n->soc, &n->ppb, PPB_DWT_BASE - PPB_SCS_BASE + off, true);
        return;
    }
}

static uint32_t lane_mask(uint32_t addr, unsigned size)
{
    if (size >= 4)
        return 0xFFFFFFFFu;
    return ((1u << (8 * size)) - 1) << (8 * (addr & 3));
}

uint32_t nvic_ppb_read(struct nvic *n, uint32_t addr, unsigned size)
{
    uint32_t word = addr & ~3u, v;
    if (word >= PPB_SCS_BASE && word < PPB_SCS_BASE + PPB_SCS_SIZE)
        v = scs_read(n, word - PPB_SCS_BASE);
    else if (word >= PPB_DWT_BASE && word < PPB_DWT_BASE + PPB_DWT_SIZE)
        v = dwt_read(n, word - PPB_DWT_BASE);
    else
        return 0;
    if (size >= 4)
        return v;
    return (v & lane_mask(addr, size)) >> (8 * (addr & 3));
}

void nvic_ppb_write(struct nvic *n, uint32_t addr, uint32_t value, unsigned size)
{
    uint32_t word = addr & ~3u, mask = lane_mask(addr, size);
    uint32_t v = size >= 4 ? value : (value << (8 * (addr & 3))) & mask;
    if (word >= PPB_SCS_BASE && word < PPB_SCS_BASE + PPB_SCS_SIZE)
        scs_write(n, word - PPB_SCS_BASE, v, mask);
    else if (word >= PPB_DWT_BASE && word < PPB_DWT_BASE + PPB_DWT_SIZE)
        dwt_write(n, word - PPB_DWT_BASE, v, mask);
}
