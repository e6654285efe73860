/* The exception model on the Unicorn CPU: exception entry (stacking, the
 * FP context, tail-chaining), exception return, SVC and the Unicorn
 * exceptions that are faults. The NVIC model (nvic.c) decides which
 * exception to take; this file takes it.
 *
 * Facts this file relies on (measured on Unicorn 2.0.1 as Debian 12 ships
 * it, and holding on 2.1.1, Debian 13's: emu/test/unit/test_machine.c passes
 * on both; see docs/emulator.md):
 *  - uc_emu_stop is only ever called from the block hook (PC = block start,
 *    the block not yet run) or from the interrupt hook; MMIO and memory
 *    callbacks set `attention` instead.
 *  - Exception return arrives at the interrupt hook as intno 8 with PC =
 *    EXC_RETURN & ~1; SVC as intno 2 with PC after the SVC.
 *  - Unicorn's M-profile state (IPSR, CONTROL, banked SPs) is changed only
 *    through its register writes, which apply the architectural rules
 *    (CONTROL.SPSEL ignored in handler mode, MSR ignored unprivileged...):
 *    mcpu_canonical/mcpu_commit order them so every write takes effect. After
 *    a mode change the cached translation flags are rebuilt by rewriting
 *    APSR.NZCV (that register write calls arm_rebuild_hflags).
 *  - Unicorn's Cortex-M4 runs in the Secure state, so an FP context needs
 *    CONTROL.SFPA along with FPCA (see CONTROL_SFPA). */
#include "machine_impl.h"

/* ---- CPU mode changes (Unicorn's M-profile state through its registers) ---- */

static void rebuild_flags(struct machine *m)
{
    reg_set(m, UC_ARM_REG_APSR_NZCV, reg_get(m, UC_ARM_REG_APSR_NZCV));
}

/* Thread mode, privileged, MSP selected, no FP context: a state from which
 * every register can be written. Returns MSP and PSP as they were. */
void mcpu_canonical(struct machine *m, uint32_t *msp, uint32_t *psp)
{
    reg_set(m, UC_ARM_REG_XPSR_NZCVQG, XPSR_T | EXC_HARDFAULT);   /* handler mode: privileged */
    reg_set(m, UC_ARM_REG_CONTROL, 0);                            /* nPRIV, FPCA cleared */
    reg_set(m, UC_ARM_REG_XPSR_NZCVQG, XPSR_T);                   /* thread mode, privileged */
    reg_set(m, UC_ARM_REG_CONTROL, 0);                            /* SPSEL cleared */
    *msp = reg_get(m, UC_ARM_REG_MSP);
    *psp = reg_get(m, UC_ARM_REG_PSP);
}

/* From the canonical state to the given one. */
void mcpu_commit(struct machine *m, uint32_t xpsr, uint32_t control, uint32_t msp, uint32_t psp)
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

/* The handler address of exc, or 0 after reporting a fault. */
static uint32_t vector_of(struct machine *m, unsigned exc)
{
    char nb[16];
    uint32_t at = (m->nvic.vtor & 0xFFFFFF80u) + 4 * exc, handler;
    if (!mcpu_read_word(m, at, &handler)) {
        m->nvic.hfsr |= 1u << 1;                                   /* VECTTBL */
        mcpu_fault(m, true, "vector fetch", "vector table entry of %s at 0x%08x is outside flash and RAM (VTOR 0x%08x)",
              exc_name(exc, nb), at, m->nvic.vtor);
        return 0;
    }
    if (handler == 0 || handler == 0xFFFFFFFFu) {
        m->nvic.hfsr |= 1u << 1;
        mcpu_fault(m, true, "vector fetch", "no handler for %s: vector at 0x%08x is 0x%08x", exc_name(exc, nb), at,
              handler);
        return 0;
    }
    if (!(handler & 1)) {
        m->nvic.cfsr |= 1u << 17;                                  /* INVSTATE */
        mcpu_fault(m, true, "vector fetch", "vector of %s at 0x%08x is 0x%08x: Thumb bit clear", exc_name(exc, nb), at,
              handler);
        return 0;
    }
    return handler;
}

/* The frame is stacked and unstacked here, not by CPU stores, so Unicorn's
 * memory hooks miss it: the DMA sanitizer is told of the whole frame as one
 * CPU access, named after the exception (machine.h). */
static void observe_frame(struct machine *m, uint32_t frame, uint32_t size, bool write, uint32_t pc, unsigned exc)
{
    if (!m->ram_fn || !ram_watched(m, frame, size))
        return;
    char nb[16], by[128];
    uint32_t handler = 0;
    mcpu_read_word(m, (m->nvic.vtor & 0xFFFFFF80u) + 4 * exc, &handler);
    snprintf(by, sizeof by, "exception %s of %s (%s) %s its frame, %s", write ? "entry" : "return",
             exc_name(exc, nb), machine_function_at(m, handler), write ? "stacking" : "unstacking",
             write ? "interrupting" : "returning to");
    m->ram_fn(m->ram_ctx, frame, size, write, pc, by);
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
            mcpu_trace(m, "irq: tail-chain to %s (priority %d)", exc_name(exc, nb), nvic_group_prio(&m->nvic, exc));
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
            mcpu_fault(m, true, "stack overflow",
                  "entering %s: the exception frame at 0x%08x (%u bytes, sp 0x%08x) is outside RAM",
                  exc_name(exc, nb), frame, size, sp);
            return false;
        }
        observe_frame(m, frame, size, true, w[6], exc);
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
        mcpu_canonical(m, &msp, &psp);
        if (on_psp)
            psp = frame;
        else
            msp = frame;
        nvic_activate(&m->nvic, exc);
        m->frames[m->nframes++] = (struct frame_rec){ exc, frame, exc_return };
        mcpu_commit(m, (xpsr & XPSR_FLAGS) | XPSR_T | exc, control & ~(CONTROL_SPSEL | CONTROL_FP), msp, psp);
        reg_set(m, UC_ARM_REG_LR, exc_return);
        reg_set(m, UC_ARM_REG_PC, handler);
        if (m->trace_irq)
            mcpu_trace(m, "irq: enter %s (priority %d) from %s, frame at 0x%08x%s, return to 0x%08x",
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
        mcpu_fault(m, true, "bad EXC_RETURN", "exception return 0x%08x with no exception active", exc_return);
        return;
    }
    if (!valid_exc_return(exc_return)) {
        m->nvic.cfsr |= 1u << 18;                                  /* INVPC */
        mcpu_fault(m, true, "bad EXC_RETURN", "%s returned with 0x%08x, not a valid EXC_RETURN value",
              exc_name(exc, nb), exc_return);
        return;
    }
    if (to_thread && m->nvic.depth > 1 && !(m->nvic.ccr & CCR_NONBASETHRDENA)) {
        m->nvic.cfsr |= 1u << 18;
        mcpu_fault(m, true, "bad EXC_RETURN", "%s returned to thread mode (0x%08x) while %u other exception(s) are active",
              exc_name(exc, nb), exc_return, m->nvic.depth - 1);
        return;
    }
    if (!to_thread && m->nvic.depth < 2) {
        m->nvic.cfsr |= 1u << 18;
        mcpu_fault(m, true, "bad EXC_RETURN", "%s returned to handler mode (0x%08x) with no other exception active",
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
            mcpu_trace(m, "irq: exit %s", exc_name(exc, nb));
        rec.exc_return = exc_return;
        enter_exception(m, next, &rec);
        if (m->faulted)
            uc_emu_stop(m->uc);
        return;
    }

    uint32_t control = reg_get(m, UC_ARM_REG_CONTROL);
    uint32_t msp, psp;
    mcpu_canonical(m, &msp, &psp);
    uint32_t frame = use_psp ? psp : msp, size = fp ? 0x68 : 0x20;
    if (!in_ram(frame, size)) {
        m->nvic.cfsr |= 1u << 11;                                  /* UNSTKERR */
        mcpu_fault(m, true, "bad EXC_RETURN", "%s returned with 0x%08x, but its frame at 0x%08x is outside RAM",
              exc_name(exc, nb), exc_return, frame);
        uc_emu_stop(m->uc);
        return;
    }
    const uint8_t *f = m->soc->ram + (frame - SOC_RAM_BASE);
    uint32_t xpsr = ld32(f + 28), ret_pc = ld32(f + 24);
    observe_frame(m, frame, size, false, ret_pc, exc);
    unsigned ipsr = xpsr & 0x1FF;
    if ((to_thread && ipsr != 0) || (!to_thread && ipsr != nvic_current(&m->nvic)) || !(xpsr & XPSR_T)) {
        m->nvic.cfsr |= (xpsr & XPSR_T) ? 1u << 18 : 1u << 17;
        mcpu_fault(m, true, "bad EXC_RETURN",
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
    mcpu_commit(m, xpsr & ~XPSR_ALIGN, new_control, msp, psp);
    reg_set(m, UC_ARM_REG_PC, ret_pc | 1u);
    if (m->trace_irq)
        mcpu_trace(m, "irq: exit %s to %s at 0x%08x", exc_name(exc, nb), exc_name(ipsr, nb2), ret_pc);
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
        mcpu_fault(m, true, "SVC escalated to HardFault",
              "SVC at execution priority %d in %s: SVCall (priority %d) cannot preempt",
              nvic_exec_prio(&m->nvic, &mk), exc_name(nvic_current(&m->nvic), nb),
              nvic_group_prio(&m->nvic, EXC_SVCALL));
        uc_emu_stop(m->uc);
        return;
    }
    if (!enter_exception(m, EXC_SVCALL, NULL))
        uc_emu_stop(m->uc);
}

void mcpu_hook_intr(uc_engine *uc, uint32_t intno, void *user)
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
        mcpu_fault(m, true, "breakpoint", "BKPT with no debugger attached (HardFault on the chip)");
        break;
    case 17:                                                      /* EXCP_NOCP */
        m->nvic.cfsr |= 1u << 19;
        mcpu_fault(m, true, "coprocessor access", "NOCP UsageFault");
        break;
    case 3:                                                       /* EXCP_PREFETCH_ABORT */
        m->nvic.cfsr |= 1u << 8;                                   /* IBUSERR */
        mcpu_fault(m, true, "instruction fetch fault", "executing from a non-executable region (0x%08x)",
              reg_get(m, UC_ARM_REG_PC));
        break;
    case 4:                                                       /* EXCP_DATA_ABORT */
        m->nvic.cfsr |= 1u << 24;
        mcpu_fault(m, true, "data abort", "an unaligned or otherwise faulting data access");
        break;
    case 18:                                                      /* EXCP_INVSTATE */
        mcpu_invstate_fault(m, reg_get(m, UC_ARM_REG_PC));
        break;
    case 22:                                                      /* EXCP_UNALIGNED */
        m->nvic.cfsr |= 1u << 24;
        mcpu_fault(m, true, "unaligned access", "UsageFault UNALIGNED");
        break;
    default:
        mcpu_fault(m, true, "CPU exception", "Unicorn exception number %u", intno);
        break;
    }
    uc_emu_stop(m->uc);
}


void mcpu_deliver(struct machine *m)
{
    for (int i = 0; i < MAX_ENTRIES_AT_ONCE && !m->faulted; i++) {
        struct nvic_masks mk = read_masks(m);
        unsigned e = nvic_preempting(&m->nvic, &mk);
        if (!e || !enter_exception(m, e, NULL))
            break;
    }
}

