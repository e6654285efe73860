/* Reset and power of the CPU: the soc's reset, the CPU's registers from
 * the image's vector table, and dropping translated code that went stale.
 * Which reset reason the chip records is the board's business. */
#include "machine_impl.h"

/* ---- reset ---- */

/* Drops translated code (RAM, and flash too if `flash`). Per region: a full
 * TB flush in Unicorn 2.0.1 resets its whole code buffer (hundreds of ms). */
void mcpu_forget_code(struct machine *m, bool flash)
{
    if (flash)
        uc_ctl_remove_cache(m->uc, SOC_FLASH_BASE, (uint64_t)SOC_FLASH_BASE + SOC_FLASH_SIZE);
    uc_ctl_remove_cache(m->uc, SOC_RAM_BASE, (uint64_t)SOC_RAM_BASE + SOC_RAM_SIZE);
    uc_ctl_remove_cache(m->uc, SOC_CODE_RAM_ALIAS, (uint64_t)SOC_CODE_RAM_ALIAS + SOC_RAM_SIZE);
}

void mcpu_reset(struct machine *m)
{
    nvic_reset(&m->nvic, m->vector_base);
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
    m->nvic_gen++;

    uint32_t msp = 0, pc = 0;
    mcpu_read_word(m, m->vector_base, &msp);
    mcpu_read_word(m, m->vector_base + 4, &pc);
    uint32_t zero = 0;
    for (int r = UC_ARM_REG_R0; r <= UC_ARM_REG_R12; r++)
        uc_reg_write(m->uc, r, &zero);
    for (int i = 0; i < 32; i++)
        reg_set(m, UC_ARM_REG_S0 + i, 0);
    reg_set(m, UC_ARM_REG_FPSCR, 0);
    uint32_t ignored_msp, ignored_psp;
    mcpu_canonical(m, &ignored_msp, &ignored_psp);
    reg_set(m, UC_ARM_REG_PRIMASK, 0);
    reg_set(m, UC_ARM_REG_BASEPRI, 0);
    reg_set(m, UC_ARM_REG_FAULTMASK, 0);
    mcpu_commit(m, XPSR_T, 0, msp & ~3u, 0);
    reg_set(m, UC_ARM_REG_LR, 0xFFFFFFFFu);
    reg_set(m, UC_ARM_REG_PC, pc);
    if (!(pc & 1) || !mcpu_mem_ptr(m, pc & ~1u, 2))
        mcpu_fault(m, true, "bad reset vector", "reset vector at 0x%08x is 0x%08x (initial SP 0x%08x)",
              m->vector_base + 4, pc, msp);
}

void mcpu_do_reset(struct machine *m, enum reset_kind kind)
{
    m->stats.resets++;
    soc_reset(m->soc, kind);
    if (kind == RESET_POWER_ON)
        mcpu_forget_code(m, false);     /* RAM was cleared behind Unicorn's back */
    mcpu_reset(m);
}

void machine_reset(struct machine *m, enum reset_kind kind)
{
    mcpu_do_reset(m, kind);
}

void machine_power(struct machine *m, bool on)
{
    if (!on) {
        soc_reset(m->soc, RESET_POWER_ON);
        mcpu_forget_code(m, false);
        nvic_reset(&m->nvic, m->vector_base);
        m->nframes = 0;
        m->sleeping = AWAKE;
        m->powered = false;
        attend(m);
        return;
    }
    m->powered = true;
    mcpu_do_reset(m, RESET_POWER_ON);
}

