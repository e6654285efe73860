/* NVIC, SCB, SysTick and DWT semantics without a CPU (emu/cpu/nvic.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nvic.h"
#include "soc_impl.h"

struct fixture {
    struct soc *soc;
    struct nvic n;
    int changes, resets;
};

static void on_changed(void *ctx) { ((struct fixture *)ctx)->changes++; }
static void on_reset(void *ctx) { ((struct fixture *)ctx)->resets++; }

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    f->soc = soc_new(fopen("/dev/null", "w"));
    const struct nvic_host host = { f, on_changed, on_reset };
    nvic_init(&f->n, f->soc, &host);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fclose(f->soc->log);
    soc_free(f->soc);
    test_free(f);
    return 0;
}

static void w32(struct nvic *n, uint32_t addr, uint32_t v) { nvic_ppb_write(n, addr, v, 4); }
static void w8(struct nvic *n, uint32_t addr, uint32_t v) { nvic_ppb_write(n, addr, v, 1); }
static uint32_t r32(struct nvic *n, uint32_t addr) { return nvic_ppb_read(n, addr, 4); }

static void enable_irq(struct nvic *n, unsigned irq, uint8_t prio)
{
    w8(n, 0xE000E400u + irq, prio);
    w32(n, 0xE000E100u + 4 * (irq / 32), 1u << (irq % 32));
}

static const struct nvic_masks none = { false, false, 0 };

static void test_selection_order(void **state)
{
    struct fixture *f = *state;
    struct nvic *n = &f->n;
    enable_irq(n, 3, 0x40);
    enable_irq(n, 1, 0x40);
    enable_irq(n, 40, 0x20);
    w8(n, 0xE000ED23u, 0x40);                   /* SysTick priority (SHPR3 byte 3) */
    nvic_set_pending(n, EXC_IRQ0 + 3);
    nvic_set_pending(n, EXC_IRQ0 + 1);
    nvic_set_pending(n, EXC_SYSTICK);
    nvic_set_pending(n, EXC_IRQ0 + 40);
    assert_int_equal(nvic_preempting(n, &none), EXC_IRQ0 + 40);    /* highest priority */
    nvic_activate(n, EXC_IRQ0 + 40);
    assert_int_equal(nvic_preempting(n, &none), 0);                 /* 0x40 cannot preempt 0x20 */
    assert_int_equal(nvic_top_pending(n), EXC_SYSTICK);             /* equal priority: lowest number */
    assert_true(nvic_deactivate(n, EXC_IRQ0 + 40));
    /* tail-chain order at equal priority: SysTick (15), IRQ1 (17), IRQ3 (19) */
    unsigned order[3];
    for (int i = 0; i < 3; i++) {
        order[i] = nvic_preempting(n, &none);
        nvic_activate(n, order[i]);
        assert_int_equal(nvic_preempting(n, &none), 0);
        nvic_deactivate(n, order[i]);
    }
    assert_int_equal(order[0], EXC_SYSTICK);
    assert_int_equal(order[1], EXC_IRQ0 + 1);
    assert_int_equal(order[2], EXC_IRQ0 + 3);
    assert_int_equal(nvic_top_pending(n), 0);
    assert_true(f->changes > 0);
}

static void test_nesting_needs_strictly_higher(void **state)
{
    struct nvic *n = &((struct fixture *)*state)->n;
    enable_irq(n, 0, 0x60);
    enable_irq(n, 1, 0x60);
    enable_irq(n, 2, 0x40);
    nvic_set_pending(n, EXC_IRQ0 + 0);
    nvic_activate(n, nvic_preempting(n, &none));
    nvic_set_pending(n, EXC_IRQ0 + 1);
    assert_int_equal(nvic_preempting(n, &none), 0);                 /* equal: no */
    nvic_set_pending(n, EXC_IRQ0 + 2);
    assert_int_equal(nvic_preempting(n, &none), EXC_IRQ0 + 2);      /* higher: yes */
    nvic_activate(n, EXC_IRQ0 + 2);
    assert_int_equal(nvic_current(n), EXC_IRQ0 + 2);
    assert_int_equal(nvic_exec_prio(n, &none), 0x40);
    assert_int_equal(r32(n, 0xE000ED04u) & 0x1FF, EXC_IRQ0 + 2);    /* VECTACTIVE */
    assert_int_equal((r32(n, 0xE000ED04u) >> 12) & 0x1FF, EXC_IRQ0 + 1);   /* VECTPENDING */
    assert_int_equal(r32(n, 0xE000E300u), 5u);                      /* IABR: irq 0 and 2 */
    assert_true(nvic_deactivate(n, EXC_IRQ0 + 2));
    assert_int_equal(nvic_current(n), EXC_IRQ0 + 0);
    assert_false(nvic_deactivate(n, EXC_IRQ0 + 2));                 /* not active any more */
}

static void test_priority_grouping(void **state)
{
    struct nvic *n = &((struct fixture *)*state)->n;
    /* PRIGROUP 6: group priority is bit 7 only; bits 6..5 are subpriority */
    w32(n, 0xE000ED0Cu, 0x05FA0600u);
    assert_int_equal(r32(n, 0xE000ED0Cu), 0xFA050600u);
    enable_irq(n, 0, 0x20);
    enable_irq(n, 1, 0x00);
    enable_irq(n, 2, 0x80);
    nvic_set_pending(n, EXC_IRQ0 + 2);
    nvic_activate(n, EXC_IRQ0 + 2);                                 /* group 0x80 active */
    nvic_set_pending(n, EXC_IRQ0 + 0);
    nvic_set_pending(n, EXC_IRQ0 + 1);
    assert_int_equal(nvic_preempting(n, &none), EXC_IRQ0 + 1);      /* subpriority picks */
    nvic_activate(n, EXC_IRQ0 + 1);
    assert_int_equal(nvic_preempting(n, &none), 0);                 /* same group 0: no nesting */
    /* a write without the key changes nothing */
    w32(n, 0xE000ED0Cu, 0x00000300u);
    assert_int_equal((r32(n, 0xE000ED0Cu) >> 8) & 7, 6);
}

static void test_masks(void **state)
{
    struct nvic *n = &((struct fixture *)*state)->n;
    enable_irq(n, 0, 0x40);
    nvic_set_pending(n, EXC_IRQ0);
    struct nvic_masks mk = none;
    mk.primask = true;
    assert_int_equal(nvic_preempting(n, &mk), 0);
    assert_true(nvic_wakeup(n, &mk));                               /* WFI still wakes */
    mk = none;
    mk.basepri = 0x40;
    assert_int_equal(nvic_preempting(n, &mk), 0);
    assert_false(nvic_wakeup(n, &mk));
    mk.basepri = 0x60;
    assert_int_equal(nvic_preempting(n, &mk), EXC_IRQ0);
    mk.basepri = 0x10;                                              /* unimplemented bits only */
    assert_int_equal(nvic_preempting(n, &mk), EXC_IRQ0);
    mk = none;
    mk.faultmask = true;
    assert_int_equal(nvic_preempting(n, &mk), 0);
    nvic_set_pending(n, EXC_NMI);
    assert_int_equal(nvic_preempting(n, &mk), EXC_NMI);             /* NMI ignores FAULTMASK */
    /* a disabled interrupt is never taken */
    nvic_clear_pending(n, EXC_NMI);
    w32(n, 0xE000E180u, 1);
    assert_int_equal(nvic_preempting(n, &none), 0);
    assert_int_equal(r32(n, 0xE000E200u), 1u);                      /* still pending */
}

static void test_level_repend(void **state)
{
    struct nvic *n = &((struct fixture *)*state)->n;
    enable_irq(n, 39, 0x20);
    nvic_set_level(n, 39, true);
    assert_int_equal(nvic_preempting(n, &none), EXC_IRQ0 + 39);
    nvic_activate(n, EXC_IRQ0 + 39);
    assert_int_equal(nvic_top_pending(n), 0);                       /* entry clears pending */
    assert_true(nvic_deactivate(n, EXC_IRQ0 + 39));
    assert_int_equal(nvic_top_pending(n), EXC_IRQ0 + 39);           /* line still high: again */
    nvic_activate(n, EXC_IRQ0 + 39);
    nvic_set_level(n, 39, false);
    nvic_deactivate(n, EXC_IRQ0 + 39);
    assert_int_equal(nvic_top_pending(n), 0);
    /* ICPR cannot clear a pending interrupt whose line is high */
    nvic_set_level(n, 39, true);
    w32(n, 0xE000E284u, 1u << 7);
    assert_int_equal(nvic_top_pending(n), EXC_IRQ0 + 39);
    nvic_set_level(n, 39, false);
    w32(n, 0xE000E284u, 1u << 7);
    assert_int_equal(nvic_top_pending(n), 0);
}

static void test_registers(void **state)
{
    struct fixture *f = *state;
    struct nvic *n = &f->n;
    assert_int_equal(r32(n, 0xE000ED00u), 0x410FC241u);
    assert_int_equal(r32(n, 0xE000ED14u), 0x200u);                  /* CCR.STKALIGN */
    /* byte access to IPR keeps 3 bits */
    w8(n, 0xE000E402u, 0xFF);
    assert_int_equal(nvic_ppb_read(n, 0xE000E402u, 1), 0xE0);
    assert_int_equal(r32(n, 0xE000E400u), 0x00E00000u);
    /* a byte write to ICER clears only its own bits */
    w32(n, 0xE000E100u, 0xFFFFFFFFu);
    nvic_ppb_write(n, 0xE000E181u, 0x01, 1);
    assert_int_equal(r32(n, 0xE000E100u), 0xFFFFFEFFu);
    /* ICSR pend bits */
    w32(n, 0xE000ED04u, 1u << 28 | 1u << 26);
    assert_true(n->pending[EXC_PENDSV] && n->pending[EXC_SYSTICK]);
    w32(n, 0xE000ED04u, 1u << 27);
    assert_false(n->pending[EXC_PENDSV]);
    /* STIR */
    w32(n, 0xE000EF00u, 33);
    assert_int_equal(r32(n, 0xE000E204u), 2u);
    /* VTOR, CPACR, SCR as plain registers */
    w32(n, 0xE000ED08u, 0x00001000u);
    assert_int_equal(r32(n, 0xE000ED08u), 0x1000u);
    w32(n, 0xE000ED88u, 0x00F00000u);
    assert_int_equal(r32(n, 0xE000ED88u), 0x00F00000u);
    w32(n, 0xE000ED10u, 0x16u);
    assert_int_equal(r32(n, 0xE000ED10u), 0x16u);
    /* SYSRESETREQ needs the key */
    w32(n, 0xE000ED0Cu, 0x00000004u);
    assert_int_equal(f->resets, 0);
    w32(n, 0xE000ED0Cu, 0x05FA0004u);
    assert_int_equal(f->resets, 1);
}

static void test_systick(void **state)
{
    struct fixture *f = *state;
    struct nvic *n = &f->n;
    w32(n, 0xE000E014u, 999);                                       /* period 1000 cycles */
    w32(n, 0xE000E018u, 0);
    w32(n, 0xE000E010u, 7);
    soc_advance(f->soc, 400);
    uint32_t cvr = r32(n, 0xE000E018u);
    assert_true(cvr == 600);
    assert_false(n->pending[EXC_SYSTICK]);
    soc_advance(f->soc, 1000);
    assert_true(n->pending[EXC_SYSTICK]);
    assert_true(r32(n, 0xE000E010u) & (1u << 16));                  /* COUNTFLAG */
    assert_false(r32(n, 0xE000E010u) & (1u << 16));                 /* cleared by the read */
    nvic_clear_pending(n, EXC_SYSTICK);
    soc_advance(f->soc, 1999);
    assert_false(n->pending[EXC_SYSTICK]);
    soc_advance(f->soc, 2000);
    assert_true(n->pending[EXC_SYSTICK]);
    /* disabled: the counter holds */
    w32(n, 0xE000E010u, 0);
    soc_advance(f->soc, 2300);
    cvr = r32(n, 0xE000E018u);
    soc_advance(f->soc, 5000);
    assert_int_equal(r32(n, 0xE000E018u), cvr);
    assert_int_equal(soc_next_event(f->soc), UINT64_MAX);
}

static void test_dwt(void **state)
{
    struct fixture *f = *state;
    struct nvic *n = &f->n;
    soc_advance(f->soc, 100);
    w32(n, 0xE0001000u, 1);                                         /* CYCCNTENA without TRCENA */
    soc_advance(f->soc, 200);
    assert_int_equal(r32(n, 0xE0001004u), 0);
    w32(n, 0xE000EDFCu, 1u << 24);                                  /* TRCENA */
    soc_advance(f->soc, 1200);
    assert_int_equal(r32(n, 0xE0001004u), 1000);
    w32(n, 0xE0001004u, 0xFFFFFFF0u);
    soc_advance(f->soc, 1232);
    assert_int_equal(r32(n, 0xE0001004u), 0x10);                    /* wraps */
    w32(n, 0xE0001000u, 0);
    soc_advance(f->soc, 5000);
    assert_int_equal(r32(n, 0xE0001004u), 0x10);
    assert_int_equal(r32(n, 0xE0001000u) >> 28, 4);                 /* NUMCOMP */
}

static void test_reset(void **state)
{
    struct nvic *n = &((struct fixture *)*state)->n;
    enable_irq(n, 4, 0x20);
    nvic_set_pending(n, EXC_IRQ0 + 4);
    nvic_activate(n, EXC_IRQ0 + 4);
    nvic_reset(n, 0x1000);
    assert_int_equal(nvic_current(n), 0);
    assert_int_equal(nvic_top_pending(n), 0);
    assert_int_equal(r32(n, 0xE000ED08u), 0x1000u);
    assert_int_equal(r32(n, 0xE000E100u), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_selection_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_needs_strictly_higher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_grouping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_repend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_systick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dwt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
