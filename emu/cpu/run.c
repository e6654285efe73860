/* The run loop in virtual time: slices of CPU time between the soc's
 * scheduled events, the block hook that counts cycles, sleep (WFI/WFE,
 * SLEEPONEXIT) with virtual time paced by the wall clock when `realtime`,
 * and polling of the watched fds. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime, CLOCK_MONOTONIC */
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "machine_impl.h"

/* Longest slice of CPU time between looks at the fds and the clock. */
#define SLICE_MAX SOC_MS(1)

/* Block cache entry (flash only): count | size << 16 | has_sev << 31 */
#define BI_COUNT(x) ((x) & 0xFFFFu)
#define BI_SIZE(x) (((x) >> 16) & 0x7FFFu)
#define BI_SEV (1u << 31)

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

/* The NVIC's top pending exception (0: none) with its group priority in
 * *prio, recomputed only after the NVIC changed (nvic_gen): the block hook
 * asks on every block while an interrupt waits behind PRIMASK, the run loop
 * on every event while the CPU sleeps, and a scan of every exception each
 * time cost more than the firmware's own instructions. */
static unsigned top_pending(struct machine *m, int *prio)
{
    if (m->top_gen != m->nvic_gen) {
        m->top_gen = m->nvic_gen;
        m->top_exc = nvic_top_pending(&m->nvic);
        m->top_prio = m->top_exc ? nvic_group_prio(&m->nvic, m->top_exc) : 0;
    }
    *prio = m->top_prio;
    return m->top_exc;
}

static bool irq_deliverable(struct machine *m)
{
    int prio;
    unsigned e = top_pending(m, &prio);
    if (!e || prio >= nvic_exec_prio(&m->nvic, NULL)) {
        m->irq_check = false;          /* nothing can change that but the NVIC itself */
        return false;
    }
    /* PRIMASK alone holds back every configurable priority: one register
     * read decides the common case (a critical section) */
    if (prio >= 0 && (reg_get(m, UC_ARM_REG_PRIMASK) & 1))
        return false;
    struct nvic_masks mk = read_masks(m);
    return prio < nvic_exec_prio(&m->nvic, &mk);
}

void mcpu_hook_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
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
        const uint8_t *code = mcpu_mem_ptr(m, addr, size);
        info = code ? decode_block(code, size) : size / 2;
    }
    soc->now += BI_COUNT(info);
    m->stats.instructions += BI_COUNT(info);
    if (info & BI_SEV)
        m->event_reg = true;
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

/* Moves virtual time to the wall clock's, but not past `limit` nor past the
 * next scheduled event: each event may raise the interrupt that wakes the
 * CPU, and the CPU must run before the next one. */
static void follow_wall_to_next_event(struct machine *m, vtime_t limit)
{
    vtime_t w = wall_vtime(m), next = soc_next_event(m->soc);
    if (w > limit)
        w = limit;
    if (w > next)
        w = next;
    if (w > m->soc->now)
        soc_advance(m->soc, w);
}

/* Input (a pty byte, a USB request) arrived while the CPU slept with time
 * paced by the wall clock: it arrived now, at the wall clock's virtual time,
 * not when the CPU fell asleep. Move time there before the models see it, or
 * what they schedule from it would lie in the past and fire in one burst
 * with no chance for the CPU to run in between.
 *
 * After the models scheduled what the input brings (a UART byte every 10 us
 * at 1 Mbaud), the sleep loop follows the wall clock again the same way,
 * event by event. The wall clock keeps going while the host is busy (reading
 * the input, or preempted on a loaded machine), so jumping to it in one step
 * fired whole RX buffers of bytes with the CPU asleep: the firmware saw one
 * ENDRX for two buffers and lost one. */
void mcpu_input_arrived(void *ctx)
{
    struct machine *m = ctx;
    if (m->realtime && m->sleeping)
        follow_wall_to_next_event(m, UINT64_MAX);
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
            follow_wall_to_next_event(m, until);
        } else {
            poll_now(m, -1);
            if (m->realtime)
                follow_wall_to_next_event(m, UINT64_MAX);
        }
        return STEP_CONTINUE;
    }
    vtime_t target = next < until ? next : until;
    if (m->realtime && !pace_to(m, target)) {
        follow_wall_to_next_event(m, target);    /* input arrived */
        return STEP_CONTINUE;
    }
    soc_advance(soc, target);
    return STEP_CONTINUE;
}

/* Asked after every event while the CPU sleeps (each UART byte...): the
 * cached top pending exception answers the common "nothing pending" without
 * a scan of the NVIC or a register read; the NVIC's own rules decide the
 * rest (WFI wakes on what would preempt but for PRIMASK, WFE also on the
 * event register). */
static bool woken(struct machine *m)
{
    int prio;
    bool pending = top_pending(m, &prio) != 0;
    if (m->sleeping == SLEEP_WFE) {
        bool wake = m->event_reg || m->nvic.event;
        if (!wake && pending) {
            struct nvic_masks mk = read_masks(m);
            wake = nvic_preempting(&m->nvic, &mk) != 0;
        }
        if (wake)
            m->event_reg = m->nvic.event = false;
        return wake;
    }
    if (!pending)
        return false;
    struct nvic_masks mk = read_masks(m);
    return nvic_wakeup(&m->nvic, &mk);
}

static uint16_t halfword_at(struct machine *m, uint32_t addr)
{
    const uint8_t *p = mcpu_mem_ptr(m, addr, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

/* The instruction just before pc: 16-bit `hint16` or its 32-bit form. */
static bool hint_before(struct machine *m, uint32_t pc, uint16_t hint16, uint16_t hint32_low)
{
    if (pc >= 2 && halfword_at(m, pc - 2) == hint16)
        return true;
    return pc >= 4 && halfword_at(m, pc - 4) == 0xF3AF && halfword_at(m, pc - 2) == hint32_low;
}

/* The CPU falls asleep or wakes up: the chip hears of it (its watchdog may
 * pause in sleep). Resets wake the CPU without this: the chip knows. */
static void set_sleeping(struct machine *m, enum sleep_kind kind)
{
    bool was = m->sleeping != AWAKE;
    m->sleeping = kind;
    if (was != (kind != AWAKE) && m->hooks.sleep_changed)
        m->hooks.sleep_changed(m->hooks.ctx, kind != AWAKE);
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
            set_sleeping(m, SLEEP_WFI);
            m->stats.sleeps++;
        } else if (!m->hook_stopped && hint_before(m, pc, 0xBF30, 0x8003)) {
            set_sleeping(m, SLEEP_WFI);
            m->stats.sleeps++;
        }
        return;
    case UC_ERR_INSN_INVALID:
        if (!(reg_get(m, UC_ARM_REG_XPSR) & XPSR_T)) {             /* not undefined: ARM state */
            mcpu_invstate_fault(m, pc);
            return;
        }
        if (hint_before(m, pc, 0xBF20, 0x8002)) {                  /* WFE */
            m->stats.sleeps++;
            if (m->event_reg || m->nvic.event)
                m->event_reg = m->nvic.event = false;
            else
                set_sleeping(m, SLEEP_WFE);
            return;
        }
        if (hint_before(m, pc, 0xBF10, 0x8001))                   /* YIELD: a hint, nothing to do */
            return;
        m->nvic.cfsr |= 1u << 16;                                  /* UNDEFINSTR */
        mcpu_fault(m, true, "invalid instruction", "undefined instruction 0x%04x at 0x%08x", halfword_at(m, pc), pc);
        return;
    case UC_ERR_READ_UNMAPPED: case UC_ERR_WRITE_UNMAPPED: case UC_ERR_FETCH_UNMAPPED:
    case UC_ERR_WRITE_PROT: case UC_ERR_READ_PROT: case UC_ERR_FETCH_PROT:
        mcpu_mem_fault(m, e);
        return;
    case UC_ERR_EXCEPTION:                                         /* QEMU's EXCP_INVSTATE, if it stops here */
        mcpu_invstate_fault(m, pc);
        return;
    default:
        mcpu_fault(m, true, "CPU error", "Unicorn: %s", uc_strerror(e));
        return;
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
            if (m->hooks.sysreset)
                m->hooks.sysreset(m->hooks.ctx);                    /* the chip records why */
            mcpu_do_reset(m, RESET_SYSTEM);
            if (m->faulted)
                return RUN_FAULT;
        }
        if (m->code_changed) {
            m->code_changed = false;
            memset(m->block_info, 0, SOC_FLASH_SIZE / 2 * sizeof *m->block_info);
            mcpu_forget_code(m, true);
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
                set_sleeping(m, AWAKE);
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

        mcpu_deliver(m);
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

