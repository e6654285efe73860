/* The core on the real Unicorn CPU: runs the test firmwares of
 * emu/test/firmware (built by the cross configuration; their directory is
 * given as argv[1]) and checks what they recorded and how the runs ended. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../firmware/emu_test.h"
#include "dongle.h"
#include "machine.h"
#include "soc_impl.h"

static const char *fw_dir;

struct run {
    struct dongle *board;
    struct machine *m;
    FILE *log;
    char path[512];
    int pipe[2];
    char got;
};

static struct run *start_paced(const char *name, bool trace_irq, bool realtime)
{
    struct run *r = calloc(1, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s/core-%s.elf", fw_dir, name);
    r->log = tmpfile();
    struct dongle_options o = {
        .firmware = { r->path }, .log = r->log, .trace_irq = trace_irq, .uart_mode = "none",
        .realtime = realtime,
    };
    r->board = dongle_new(&o);
    if (!r->board)
        fail_msg("cannot start %s", r->path);
    r->m = dongle_machine(r->board);
    return r;
}

static struct run *start(const char *name, bool trace_irq)
{
    return start_paced(name, trace_irq, false);
}

/* The whole log so far (caller frees). */
static char *log_text(struct run *r)
{
    fflush(r->log);
    long len = ftell(r->log);
    char *text = calloc(1, (size_t)len + 1);
    rewind(r->log);
    size_t got = fread(text, 1, (size_t)len, r->log);
    text[got] = '\0';
    fseek(r->log, 0, SEEK_END);
    return text;
}

static void finish(struct run *r)
{
    dongle_free(r->board);
    fclose(r->log);
    free(r);
}

static const volatile struct result *result(struct run *r)
{
    return (const volatile struct result *)(machine_soc(r->m)->ram + (RESULT_ADDR - SOC_RAM_BASE));
}

/* Runs a firmware that checks itself and must pass every check. */
static struct run *run_passing(const char *name, bool trace_irq)
{
    struct run *r = start(name, trace_irq);
    enum run_status st = machine_run(r->m, SOC_MS(200));
    const volatile struct result *res = result(r);
    if (st == RUN_FAULT || res->magic != RESULT_DONE || res->status != 0) {
        char *text = log_text(r);
        fprintf(stderr, "---- %s: status %d, magic 0x%08x, failed check 0x%x, %u log entries:", name, st,
                res->magic, res->status, res->count);
        for (uint32_t i = 0; i < res->count && i < RESULT_LOG; i++)
            fprintf(stderr, " 0x%x", res->log[i]);
        fprintf(stderr, "\n%s\n", text);
        free(text);
        fail_msg("%s did not pass", name);
    }
    assert_true(st == RUN_IDLE || st == RUN_DEADLINE);
    return r;
}

static void test_nested(void **state)
{
    (void)state;
    finish(run_passing("nested", false));
}

static void test_tailchain(void **state)
{
    (void)state;
    struct run *r = run_passing("tailchain", true);
    char *text = log_text(r);
    int chains = 0;
    for (const char *p = text; (p = strstr(p, "tail-chain")); p++)
        chains++;
    assert_int_equal(chains, 3);
    assert_non_null(strstr(text, "irq: enter IRQ7"));
    free(text);
    finish(r);
}

static void test_masking(void **state)
{
    (void)state;
    finish(run_passing("masking", false));
}

static void test_systick(void **state)
{
    (void)state;
    finish(run_passing("systick", false));
}

static void test_fpu(void **state)
{
    (void)state;
    finish(run_passing("fpu", false));
}

static void test_svc(void **state)
{
    (void)state;
    finish(run_passing("svc", false));
}

static void test_wfi(void **state)
{
    (void)state;
    struct run *r = run_passing("wfi", false);
    struct machine_stats st;
    machine_stats(r->m, &st);
    assert_true(st.sleeps >= 8);
    assert_true(soc_now(machine_soc(r->m)) >= SOC_MS(8));
    assert_true(st.instructions < 20000);      /* slept, did not spin */
    assert_true(st.interrupts >= 8);
    finish(r);
}

static void test_sleeponexit(void **state)
{
    (void)state;
    struct run *r = run_passing("sleeponexit", false);
    struct machine_stats st;
    machine_stats(r->m, &st);
    assert_int_equal(result(r)->scratch[0], 5);
    assert_true(st.sleeps >= 5);
    finish(r);
}

static void test_reset(void **state)
{
    (void)state;
    struct run *r = run_passing("reset", false);
    struct machine_stats st;
    machine_stats(r->m, &st);
    assert_int_equal(st.resets, 2);
    assert_int_equal(result(r)->boots, 3);
    assert_int_equal(result(r)->log[0], 0x1000);
    finish(r);
}

/* The WDT model through the board: paused in WFI, a timeout resets the
 * machine with RESETREAS.DOG, a soft reset keeps it running. */
static void test_watchdog(void **state)
{
    (void)state;
    struct run *r = run_passing("wdt", false);
    struct machine_stats st;
    machine_stats(r->m, &st);
    assert_int_equal(result(r)->boots, 4);
    assert_int_equal(st.resets, 3);
    const volatile uint32_t *log = result(r)->log;                 /* RESETREAS, RUNSTATUS per boot */
    assert_int_equal(log[0], 0);
    assert_int_equal(log[2], 1u << 1);                             /* DOG */
    assert_int_equal(log[4], 1u << 2);                             /* SREQ */
    assert_int_equal(log[5], 1);                                   /* still running after it */
    assert_int_equal(log[6], 1u << 1);
    /* boot 1: 40 ms asleep and paused, then the rest of 10 ms awake; boot 3:
     * 20 ms from boot 2's START; boot 4 sleeps with nothing to wake it */
    vtime_t end = soc_now(machine_soc(r->m));
    assert_true(end >= SOC_MS(69) && end <= SOC_MS(71));
    finish(r);
}

static void expect_fault(const char *name, const char *kind, const char *detail)
{
    struct run *r = start(name, false);
    enum run_status st = machine_run(r->m, SOC_MS(100));
    char *text = log_text(r);
    const char *summary = machine_fault_summary(r->m);
    if (st != RUN_FAULT || !strstr(summary, kind) || (detail && !strstr(text, detail)) ||
        !strstr(text, "test_main") || !strstr(text, " r0 ") || !strstr(text, "FAULT")) {
        fprintf(stderr, "---- %s: status %d, summary \"%s\"\n%s\n", name, st, summary, text);
        fail_msg("%s: expected a \"%s\" fault", name, kind);
    }
    /* a faulted machine stays faulted */
    assert_int_equal(machine_run(r->m, SOC_MS(200)), RUN_FAULT);
    free(text);
    finish(r);
}

static void test_fault_undef(void **state)
{
    (void)state;
    expect_fault("fault_undef", "invalid instruction", "0xde42");
}

/* BLX to 0 (a NULL callback): the Cortex-M4's INVSTATE UsageFault (CFSR bit
 * 17 only), not an undefined instruction (UNDEFINSTR, bit 16). */
static void test_fault_nullcall(void **state)
{
    (void)state;
    expect_fault("fault_nullcall", "invalid state", "CFSR 0x00020000");
    struct run *r = start("fault_nullcall", false);
    assert_int_equal(machine_run(r->m, SOC_MS(10)), RUN_FAULT);
    assert_int_equal(result(r)->scratch[0], 0x11u);                /* the call was made, nothing after it ran */
    char *text = log_text(r);
    assert_non_null(strstr(text, "Thumb bit (EPSR.T) clear"));
    assert_non_null(strstr(text, "NULL function pointer"));
    assert_non_null(strstr(text, "pc 0x00000000"));
    assert_null(strstr(text, "undefined instruction"));
    free(text);
    finish(r);
}

static void test_fault_read(void **state)
{
    (void)state;
    expect_fault("fault_read", "unmapped read", "0x60000000");
}

static void test_fault_write(void **state)
{
    (void)state;
    expect_fault("fault_write", "unmapped write", "0x70000010");
}

static void test_fault_lockup(void **state)
{
    (void)state;
    expect_fault("fault_lockup", "lockup", "faultmask 1");
}

static void test_fault_excreturn(void **state)
{
    (void)state;
    expect_fault("fault_excreturn", "bad EXC_RETURN", "exception frame of PendSV");
}

static void test_fault_stack(void **state)
{
    (void)state;
    expect_fault("fault_stack", "stack overflow", "outside RAM");
}

static void test_fault_flash(void **state)
{
    (void)state;
    expect_fault("fault_flash", "write to read-only memory", "NVMC CONFIG.WEN not set");
}

static void test_flash_write_enabled(void **state)
{
    (void)state;
    struct run *r = start("fault_flash", false);
    assert_int_equal(machine_run(r->m, SOC_MS(10)), RUN_FAULT);
    assert_int_equal(result(r)->scratch[0], 0x12345678u);          /* the enabled store landed */
    finish(r);
}

static void test_endless_loop_ends_at_deadline(void **state)
{
    (void)state;
    struct run *r = start("fault_loop", false);
    assert_int_equal(machine_run(r->m, SOC_MS(20)), RUN_DEADLINE);
    assert_true(soc_now(machine_soc(r->m)) >= SOC_MS(20));
    assert_true(soc_now(machine_soc(r->m)) < SOC_MS(20) + 64);
    assert_int_equal(result(r)->scratch[0], 1);
    assert_int_equal(machine_run(r->m, SOC_MS(30)), RUN_DEADLINE);
    struct machine_stats st;
    machine_stats(r->m, &st);
    assert_true(st.instructions >= SOC_MS(29));
    finish(r);
}

static void *stop_later(void *arg)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    machine_request_stop(arg);
    return NULL;
}

static void test_stop_from_another_thread(void **state)
{
    (void)state;
    struct run *r = start("fault_loop", false);
    pthread_t t;
    pthread_create(&t, NULL, stop_later, r->m);
    assert_int_equal(machine_run(r->m, UINT64_MAX), RUN_STOPPED);
    pthread_join(t, NULL);
    /* a stop requested before the run ends the next run at once */
    machine_request_stop(r->m);
    assert_int_equal(machine_run(r->m, UINT64_MAX), RUN_STOPPED);
    finish(r);
}

static void on_pipe(struct soc *soc, void *ctx)
{
    (void)soc;
    struct run *r = ctx;
    char c;
    if (read(r->pipe[0], &c, 1) == 1)
        r->got = c;
    machine_request_stop(r->m);
}

static void *write_later(void *arg)
{
    struct run *r = arg;
    struct timespec ts = { 0, 30 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ssize_t n = write(r->pipe[1], "x", 1);
    (void)n;
    return NULL;
}

static void test_sleep_blocks_on_watched_fds(void **state)
{
    (void)state;
    struct run *r = run_passing("wfi", false);                  /* done: sleeps, nothing scheduled */
    assert_int_equal(machine_run(r->m, UINT64_MAX), RUN_IDLE);  /* no input could wake it */
    assert_int_equal(pipe(r->pipe), 0);
    soc_watch_fd(machine_soc(r->m), r->pipe[0], on_pipe, r);
    pthread_t t;
    pthread_create(&t, NULL, write_later, r);
    assert_int_equal(machine_run(r->m, UINT64_MAX), RUN_STOPPED);   /* blocked until the input */
    pthread_join(t, NULL);
    assert_int_equal(r->got, 'x');
    soc_unwatch_fd(machine_soc(r->m), r->pipe[0]);
    close(r->pipe[0]);
    close(r->pipe[1]);
    finish(r);
}

/* Input that wakes a paced sleep and brings a burst of events (a UART line
 * clocking in bytes 10 us apart), while the host is slow right after the
 * model scheduled them (preempted on a loaded machine: here a 5 ms sleep in
 * the fd callback). Each event pulses IRQ 7; the CPU must take each
 * interrupt before the next event, as on silicon. The run loop once caught
 * up with the wall clock in one step and fired the whole burst while the CPU
 * slept: the project firmware then lost a UART RX buffer under load. */
#define BURST 64

struct burst {
    struct run *r;
    struct sched_event ev[BURST];
    unsigned fired, late;
};

static void burst_pulse(struct soc *soc, void *ctx)
{
    struct burst *b = ctx;
    const volatile struct result *res = result(b->r);
    if (res->scratch[0] != b->fired)
        b->late++;                     /* the previous pulse's interrupt was not taken yet */
    b->fired++;
    soc_irq_set(soc, 7, true);
    soc_irq_set(soc, 7, false);
}

static void burst_input(struct soc *soc, void *ctx)
{
    struct burst *b = ctx;
    char c;
    if (read(b->r->pipe[0], &c, 1) != 1)
        return;
    for (unsigned i = 0; i < BURST; i++) {
        b->ev[i] = (struct sched_event){ .name = "burst", .fire = burst_pulse, .ctx = b };
        soc_schedule(soc, &b->ev[i], SOC_US(10) * (i + 1));
    }
    struct timespec ts = { 0, 5 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

static void test_paced_sleep_wakes_between_input_events(void **state)
{
    (void)state;
    struct burst b = { .r = start_paced("irq_count", false, true) };
    struct run *r = b.r;
    assert_int_equal(machine_run(r->m, SOC_MS(5)), RUN_IDLE);  /* asleep in its WFI loop, nothing to wait for */
    assert_int_equal(result(r)->magic, RESULT_DONE);
    assert_int_equal(pipe(r->pipe), 0);
    soc_watch_fd(machine_soc(r->m), r->pipe[0], burst_input, &b);
    pthread_t t;
    pthread_create(&t, NULL, write_later, r);
    assert_int_equal(machine_run(r->m, SOC_MS(5) + SOC_MS(300)), RUN_DEADLINE);
    pthread_join(t, NULL);
    assert_int_equal(b.fired, BURST);
    assert_int_equal(result(r)->scratch[0], BURST);
    assert_int_equal(b.late, 0);
    soc_unwatch_fd(machine_soc(r->m), r->pipe[0]);
    close(r->pipe[0]);
    close(r->pipe[1]);
    finish(r);
}

static void test_power_cycle(void **state)
{
    (void)state;
    struct run *r = run_passing("nested", false);
    dongle_power(r->board, false);
    assert_int_equal(result(r)->magic, 0);                      /* RAM lost */
    vtime_t t = soc_now(machine_soc(r->m));
    assert_int_equal(machine_run(r->m, t + SOC_MS(5)), RUN_IDLE);
    dongle_power(r->board, true);
    enum run_status st = machine_run(r->m, soc_now(machine_soc(r->m)) + SOC_MS(50));
    assert_true(st == RUN_IDLE || st == RUN_DEADLINE);
    assert_int_equal(result(r)->magic, RESULT_DONE);            /* ran again from reset */
    assert_int_equal(result(r)->status, 0);
    struct machine_stats stats;
    machine_stats(r->m, &stats);
    assert_int_equal(stats.resets, 1);
    finish(r);
}

static void test_deterministic(void **state)
{
    (void)state;
    char *texts[2];
    uint64_t insns[2];
    vtime_t ends[2];
    for (int i = 0; i < 2; i++) {
        struct run *r = run_passing("systick", true);
        texts[i] = log_text(r);
        struct machine_stats st;
        machine_stats(r->m, &st);
        insns[i] = st.instructions;
        ends[i] = soc_now(machine_soc(r->m));
        finish(r);
    }
    assert_true(strlen(texts[0]) > 100);
    assert_string_equal(texts[0], texts[1]);
    assert_int_equal(insns[0], insns[1]);
    assert_int_equal(ends[0], ends[1]);
    free(texts[0]);
    free(texts[1]);
}

static void test_bad_images(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    struct dongle_options o = { .firmware = { "/nonexistent/image.elf" }, .log = log, .uart_mode = "none" };
    assert_null(dongle_new(&o));
    char path[] = "/tmp/hilda-emu-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(":0400000001020304F3\n:00000001FF\n", f);          /* checksum error */
    fclose(f);
    o.firmware[0] = path;
    assert_null(dongle_new(&o));
    remove(path);
    fclose(log);
}

/* Several images: a test firmware and a HEX of UICR records (as Nordic's
 * MBR + boot loader HEX carries them) land in the UICR's registers as if
 * programmed; the chip starts from the vector table at 0; the pin reset
 * shows as RESETREAS.RESETPIN; overlapping images are refused. */
static void test_images_and_uicr(void **state)
{
    (void)state;
    char uicr_hex[] = "/tmp/hilda-emu-uicr-XXXXXX";
    int fd = mkstemp(uicr_hex);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(":020000041000EA\n"
          ":0810140000000E0000E00F00D7\n"            /* NRFFW[0] = 0xE0000, NRFFW[1] = 0xFE000 */
          ":04130400FCFFFFFFEC\n"                    /* REGOUT0 = 3.0 V */
          ":00000001FF\n", f);
    fclose(f);
    char fw[512];
    snprintf(fw, sizeof fw, "%s/core-wfi.elf", fw_dir);
    FILE *log = tmpfile();
    struct dongle_options o = { .firmware = { fw, uicr_hex }, .log = log, .uart_mode = "none" };
    struct dongle *d = dongle_new(&o);
    assert_non_null(d);
    struct soc *soc = dongle_soc(d);
    assert_int_equal(soc_bus_read(soc, 0x10001014u), 0x000E0000u);
    assert_int_equal(soc_bus_read(soc, 0x10001018u), 0x000FE000u);
    assert_int_equal(soc_bus_read(soc, 0x10001304u), 0xFFFFFFFCu);
    assert_int_equal(soc_bus_read(soc, 0x10001200u), 18);           /* PSELRESET: the board's default */
    assert_int_equal(machine_run(dongle_machine(d), soc_now(soc) + SOC_MS(1)), RUN_DEADLINE);

    soc_bus_write(soc, 0x40000400u, 0xFFFFFFFFu);                   /* RESETREAS: write 1 to clear */
    dongle_reset_pin(d);
    assert_int_equal(soc_bus_read(soc, 0x40000400u), 0x1u);         /* RESETPIN alone */
    assert_int_equal(soc_bus_read(soc, 0x10001014u), 0x000E0000u);  /* UICR survives */
    dongle_free(d);

    struct dongle_options twice = { .firmware = { fw, uicr_hex, fw }, .log = log, .uart_mode = "none" };
    assert_null(dongle_new(&twice));
    fflush(log);
    rewind(log);
    char text[2048] = "";
    size_t n = fread(text, 1, sizeof text - 1, log);
    text[n] = '\0';
    if (!strstr(text, "overlap"))
        fail_msg("no overlap reported: %s", text);
    remove(uicr_hex);
    fclose(log);
}

int main(int argc, char **argv)
{
    fw_dir = argc > 1 ? argv[1] : getenv("HILDA_CORE_FIRMWARE_DIR");
    if (!fw_dir) {
        fprintf(stderr, "usage: test_machine FIRMWARE_DIR\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_tailchain),
        cmocka_unit_test(test_masking),
        cmocka_unit_test(test_systick),
        cmocka_unit_test(test_fpu),
        cmocka_unit_test(test_svc),
        cmocka_unit_test(test_wfi),
        cmocka_unit_test(test_sleeponexit),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_watchdog),
        cmocka_unit_test(test_fault_undef),
        cmocka_unit_test(test_fault_nullcall),
        cmocka_unit_test(test_fault_read),
        cmocka_unit_test(test_fault_write),
        cmocka_unit_test(test_fault_lockup),
        cmocka_unit_test(test_fault_excreturn),
        cmocka_unit_test(test_fault_stack),
        cmocka_unit_test(test_fault_flash),
        cmocka_unit_test(test_flash_write_enabled),
        cmocka_unit_test(test_endless_loop_ends_at_deadline),
        cmocka_unit_test(test_stop_from_another_thread),
        cmocka_unit_test(test_sleep_blocks_on_watched_fds),
        cmocka_unit_test(test_paced_sleep_wakes_between_input_events),
        cmocka_unit_test(test_power_cycle),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_images_and_uicr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
