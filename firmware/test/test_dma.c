/* The DMA ownership rules (firmware/src/dma.h), each shown refusing its
 * violation, against a fake register block in ordinary memory. The test
 * plays the hardware by writing the event registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dma.h"

extern uint8_t __start_dma_buffers[], __stop_dma_buffers[];

/* A fake peripheral: the offsets are arbitrary, only distinct. */
static uint32_t regs[64];
enum { PTR, MAXCNT, AMOUNT, START, STOP, STARTED, END, STOPPED,
       PTR2, MAXCNT2, AMOUNT2, START2, END2 };

DMA_BUFFER static uint8_t pool_a[128];
DMA_BUFFER static uint8_t pool_b[128];
static const uint8_t in_flash[16] = { 1, 2, 3 };

static struct dma_group group;
static struct dma_channel uart_rx, usb_in, usb_out;

static void set_memory(uintptr_t ram_start, uintptr_t ram_end)
{
    struct dma_memory mem = {
        .ram_start = ram_start,
        .ram_end = ram_end,
        .pool_start = (uintptr_t)__start_dma_buffers,
        .pool_end = (uintptr_t)__stop_dma_buffers,
    };
    dma_memory_set(&mem);
}

static int setup(void **state)
{
    (void)state;
    memset(regs, 0, sizeof regs);
    /* data RAM is the pool itself: anything else counts as flash or MMIO */
    set_memory((uintptr_t)__start_dma_buffers, (uintptr_t)__stop_dma_buffers);
    group = (struct dma_group){ .name = "USBD" };
    uart_rx = (struct dma_channel){
        .name = "UARTE RX",
        .regs = { &regs[PTR], &regs[MAXCNT], &regs[AMOUNT], &regs[START], &regs[STOP],
                  &regs[STARTED], &regs[END], &regs[STOPPED] },
        .maxcnt_limit = 0xFFFF,
        .double_buffered = true,
    };
    usb_in = (struct dma_channel){
        .name = "USBD EP0 IN",
        .regs = { .ptr = &regs[PTR], .maxcnt = &regs[MAXCNT], .amount = &regs[AMOUNT],
                  .task_start = &regs[START], .event_end = &regs[END] },
        .maxcnt_limit = 64,
        .group = &group,
    };
    usb_out = (struct dma_channel){
        .name = "USBD EP0 OUT",
        .regs = { .ptr = &regs[PTR2], .maxcnt = &regs[MAXCNT2], .amount = &regs[AMOUNT2],
                  .task_start = &regs[START2], .event_end = &regs[END2] },
        .maxcnt_limit = 64,
        .group = &group,
    };
    dma_spin_hook = NULL;
    return 0;
}

/* Leaves no channel owning anything, whatever a test did. */
static int teardown(void **state)
{
    (void)state;
    regs[END] = regs[END2] = regs[STOPPED] = 1;
    dma_abort(&uart_rx, NULL);
    dma_abort(&usb_in, NULL);
    dma_abort(&usb_out, NULL);
    return 0;
}

static void pool_buffer_is_started_and_handed_back_at_end(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&usb_in, pool_a, 64), DMA_OK);
    assert_int_equal(regs[PTR], (uint32_t)(uintptr_t)pool_a);
    assert_int_equal(regs[MAXCNT], 64);
    assert_int_equal(regs[START], 1);
    assert_true(dma_owns(pool_a + 10, 1));
    assert_false(dma_owns(pool_a + 64, 1));

    regs[AMOUNT] = 64;
    regs[END] = 1;
    struct dma_transfer done;
    assert_int_equal(dma_complete(&usb_in, &done), DMA_OK);
    assert_ptr_equal(done.buf, pool_a);
    assert_int_equal(done.len, 64);
    assert_int_equal(regs[END], 0);          /* the event is consumed */
    assert_false(dma_owns(pool_a, sizeof pool_a));
    assert_int_equal(usb_in.completed, 1);
    assert_int_equal(group.completed, 1);
}

static void stack_buffer_is_refused(void **state)
{
    (void)state;
    uint8_t on_stack[16];
    /* Make all of memory count as data RAM, so the only rule that can refuse
     * the stack buffer is the lifetime rule (the dma_buffers section). */
    set_memory(0, UINTPTR_MAX);
    assert_int_equal(dma_start(&usb_in, on_stack, sizeof on_stack), DMA_ERR_NOT_STATIC);
    assert_int_equal(regs[START], 0);        /* the hardware never saw it */
    assert_false(dma_busy(&usb_in));
}

static void flash_pointer_is_refused(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&usb_in, (void *)in_flash, sizeof in_flash), DMA_ERR_NOT_IN_RAM);
    assert_int_equal(regs[START], 0);
    assert_int_equal(regs[PTR], 0);
}

static void buffer_running_past_the_pool_is_refused(void **state)
{
    (void)state;
    set_memory(0, UINTPTR_MAX);
    assert_int_equal(dma_start(&usb_in, (void *)((uintptr_t)__stop_dma_buffers - 8), 16), DMA_ERR_NOT_STATIC);
    /* zero bytes at the very end move nothing and are fine (a ZLP) */
    assert_int_equal(dma_start(&usb_in, __stop_dma_buffers, 0), DMA_OK);
}

static void maxcnt_limit_is_enforced(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&usb_in, pool_a, 65), DMA_ERR_TOO_LONG);
    assert_int_equal(regs[START], 0);
    assert_int_equal(dma_start(&usb_in, pool_a, 64), DMA_OK);
}

static void second_start_while_busy_is_refused(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&uart_rx, pool_a, 32), DMA_OK);
    regs[START] = 0;
    assert_int_equal(dma_start(&uart_rx, pool_b, 32), DMA_ERR_BUSY);
    assert_int_equal(regs[START], 0);
    assert_int_equal(regs[PTR], (uint32_t)(uintptr_t)pool_a);   /* untouched */
}

static void one_usbd_dma_at_a_time(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&usb_in, pool_a, 8), DMA_OK);
    assert_int_equal(dma_start(&usb_out, pool_b, 8), DMA_ERR_GROUP_BUSY);
    assert_int_equal(regs[START2], 0);
    regs[END] = 1;
    assert_int_equal(dma_complete(&usb_in, NULL), DMA_OK);
    assert_int_equal(dma_start(&usb_out, pool_b, 8), DMA_OK);
}

static void memory_owned_by_a_transfer_cannot_be_given_to_another(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&uart_rx, pool_a, 64), DMA_OK);
    assert_int_equal(dma_start(&usb_in, pool_a + 63, 2), DMA_ERR_OWNED);
    assert_int_equal(dma_start(&usb_in, pool_a + 64, 2), DMA_OK);
}

static void buffer_is_not_returned_before_end(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&usb_in, pool_a, 16), DMA_OK);
    struct dma_transfer done = { 0 };
    assert_int_equal(dma_complete(&usb_in, &done), DMA_ERR_IN_FLIGHT);
    assert_null(done.buf);
    assert_true(dma_owns(pool_a, 16));
    assert_true(dma_busy(&usb_in));
    /* dma_wait gives up after its bound and still does not hand it back */
    assert_int_equal(dma_wait(&usb_in, &done), DMA_ERR_IN_FLIGHT);
    assert_true(dma_owns(pool_a, 16));
    regs[END] = 1;
    assert_int_equal(dma_complete(&usb_in, &done), DMA_OK);
    assert_false(dma_owns(pool_a, 16));
}

static void complete_without_transfer_is_an_error(void **state)
{
    (void)state;
    regs[END] = 1;
    assert_int_equal(dma_complete(&usb_in, NULL), DMA_ERR_IDLE);
}

/* The fake hardware for abort: it confirms the stop a few polls after the
 * stop task was triggered, and records whether it ever saw the task. */
static int spins;
static int stop_seen_at;

static void hardware_stops_after_three_polls(void)
{
    spins++;
    if (regs[STOP] && stop_seen_at < 0)
        stop_seen_at = spins;
    if (stop_seen_at >= 0 && spins - stop_seen_at >= 3) {
        regs[AMOUNT] = 5;           /* bytes received before the stop */
        regs[END] = 1;
        regs[STOPPED] = 1;
    }
}

static void abort_stops_and_waits_before_handing_back(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&uart_rx, pool_a, 32), DMA_OK);
    spins = 0;
    stop_seen_at = -1;
    dma_spin_hook = hardware_stops_after_three_polls;
    struct dma_transfer partial;
    assert_int_equal(dma_abort(&uart_rx, &partial), DMA_OK);
    assert_int_equal(stop_seen_at, 1);       /* stop task before the first poll */
    assert_true(spins >= 4);                 /* and it waited for the confirmation */
    assert_ptr_equal(partial.buf, pool_a);
    assert_int_equal(partial.len, 5);
    assert_false(dma_busy(&uart_rx));
    assert_false(dma_owns(pool_a, 32));
}

static void abort_without_confirmation_keeps_the_buffer(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&uart_rx, pool_a, 32), DMA_OK);
    assert_int_equal(dma_abort(&uart_rx, NULL), DMA_ERR_STUCK);
    assert_int_equal(regs[STOP], 1);
    assert_true(dma_busy(&uart_rx));
    assert_true(dma_owns(pool_a, 32));       /* the DMA may still write it */
    assert_int_equal(dma_start(&usb_in, pool_a, 4), DMA_ERR_OWNED);
}

static void abort_of_unstoppable_channel_waits_for_end(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&usb_in, pool_a, 8), DMA_OK);
    assert_int_equal(dma_abort(&usb_in, NULL), DMA_ERR_STUCK);
    regs[END] = 1;
    assert_int_equal(dma_abort(&usb_in, NULL), DMA_OK);
    assert_null(group.active);
    assert_int_equal(dma_start(&usb_out, pool_b, 8), DMA_OK);
}

static void double_buffering_needs_the_latch_and_keeps_order(void **state)
{
    (void)state;
    assert_int_equal(dma_start(&uart_rx, pool_a, 16), DMA_OK);
    assert_int_equal(dma_queue_next(&uart_rx, pool_b, 16), DMA_ERR_NOT_LATCHED);
    assert_int_equal(regs[PTR], (uint32_t)(uintptr_t)pool_a);
    regs[STARTED] = 1;
    assert_int_equal(dma_queue_next(&uart_rx, pool_b, 16), DMA_OK);
    assert_int_equal(regs[PTR], (uint32_t)(uintptr_t)pool_b);
    assert_int_equal(dma_queue_next(&uart_rx, pool_b + 16, 16), DMA_ERR_BUSY);
    assert_true(dma_owns(pool_a, 1) && dma_owns(pool_b, 1));

    regs[AMOUNT] = 16;
    regs[END] = 1;
    struct dma_transfer done;
    assert_int_equal(dma_complete(&uart_rx, &done), DMA_OK);
    assert_ptr_equal(done.buf, pool_a);
    assert_false(dma_owns(pool_a, 16));
    assert_true(dma_owns(pool_b, 16));       /* now the current transfer */

    regs[END] = 1;
    assert_int_equal(dma_complete(&uart_rx, &done), DMA_OK);
    assert_ptr_equal(done.buf, pool_b);
    assert_false(dma_busy(&uart_rx));
}

static int pointer_seen_by_errata_hook;

static void errata_hook(void)
{
    pointer_seen_by_errata_hook = (int)(regs[PTR] == (uint32_t)(uintptr_t)pool_a && regs[START] == 0);
}

static void registers_are_set_before_the_start_task(void **state)
{
    (void)state;
    usb_in.before_start = errata_hook;
    assert_int_equal(dma_start(&usb_in, pool_a, 8), DMA_OK);
    assert_true(pointer_seen_by_errata_hook);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pool_buffer_is_started_and_handed_back_at_end, setup, teardown),
        cmocka_unit_test_setup_teardown(stack_buffer_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(flash_pointer_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(buffer_running_past_the_pool_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(maxcnt_limit_is_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(second_start_while_busy_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(one_usbd_dma_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_owned_by_a_transfer_cannot_be_given_to_another, setup, teardown),
        cmocka_unit_test_setup_teardown(buffer_is_not_returned_before_end, setup, teardown),
        cmocka_unit_test_setup_teardown(complete_without_transfer_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_stops_and_waits_before_handing_back, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_without_confirmation_keeps_the_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_of_unstoppable_channel_waits_for_end, setup, teardown),
        cmocka_unit_test_setup_teardown(double_buffering_needs_the_latch_and_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(registers_are_set_before_the_start_task, setup, teardown),
    };
    return cmocka_run_group_tests_name("dma ownership rules", tests, NULL, NULL);
}
