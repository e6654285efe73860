/* Fault reports: what ends a run when the firmware faults (machine.h says
 * why hilda-emu stops at the first fault instead of running the firmware's
 * HardFault handler): the kind, the registers, PC and LR with the functions
 * they are in, and the stacked exception frames; and the --trace lines. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "machine_impl.h"

#define REPORT_LEN 4096

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
    const char *name = symbols_lookup(m->symbols, addr & ~1u, &off);
    if (name[0] == '?')
        return append(buf, pos, "0x%08x", addr);
    return append(buf, pos, "0x%08x (%s+0x%x)", addr, name, off);
}

/* Writes the report and ends the run. `cpu` faults may be lockups. */
void mcpu_fault(struct machine *m, bool cpu, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void mcpu_fault(struct machine *m, bool cpu, const char *kind, const char *fmt, ...)
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
    uint32_t where = mcpu_mem_ptr(m, pc & ~1u, 2) ? pc : m->last_block, off;
    const char *fn = symbols_lookup(m->symbols, where, &off);
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


void mcpu_trace(struct machine *m, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    soc_log(m->soc, "[%12" PRIu64 " %10.3f us] %s\n", m->soc->now, cycles_us(m->soc->now), line);
}


void mcpu_mem_fault(struct machine *m, uc_err e)
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
        mcpu_fault(m, true, what, "%d byte(s) at 0x%08x%s", m->mem_fault.size, m->mem_fault.addr,
              stack ? " (below RAM: stack overflow)" : flash ? " (flash, NVMC CONFIG.WEN not set)" : "");
    } else {
        mcpu_fault(m, true, what, NULL);
    }
}

/* Execution with EPSR.T clear. A Cortex-M runs Thumb only: a BX/BLX/POP/LDR
 * to PC with bit 0 clear takes the branch and the next instruction raises
 * an INVSTATE UsageFault (CFSR bit 17). Unicorn (2.0.1, 2.1.1) instead stops the run
 * with UC_ERR_INSN_INVALID (it tries to decode ARM code at the target), PC
 * at the target and xPSR.T clear, so the caller tells it apart by T. */
void mcpu_invstate_fault(struct machine *m, uint32_t pc)
{
    m->nvic.cfsr |= 1u << 17;                                       /* INVSTATE */
    mcpu_fault(m, true, "invalid state",
               "INVSTATE UsageFault: execution at 0x%08x with the Thumb bit (EPSR.T) clear, after a branch "
               "to an address with bit 0 clear%s; LR 0x%08x", pc,
               pc == 0 ? " (a call through a NULL function pointer)" : "", reg_get(m, UC_ARM_REG_LR));
}

const char *machine_fault_summary(const struct machine *m)
{
    return m->faulted ? m->fault_summary : "";
}


void machine_raise_fault(struct machine *m, const char *kind, const char *detail)
{
    mcpu_fault(m, false, kind ? kind : "fault", "%s", detail ? detail : "");
}
