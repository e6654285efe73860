/* The CPU layer: a Cortex-M4F on Unicorn, the system it lacks (NVIC, SCB,
 * SysTick, DWT), the exception model, fault reports and a run loop in
 * virtual time, over a struct soc (emu/soc) the board built. It knows no
 * chip: the board (emu/board) tells it where the peripheral windows are
 * and hooks it to the chip's reset, system-off and flash-write signals.
 * This is what the tools, the sanitizer and the tests drive. */
#ifndef EMU_MACHINE_H
#define EMU_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "soc.h"

struct machine;
struct symbols;

enum sanitize_mode { SANITIZE_OFF, SANITIZE_WARN, SANITIZE_ERROR };

/* An address range of the chip's memory map whose accesses go to the soc
 * bus (struct periph models) instead of memory. */
struct machine_bus_window {
    uint32_t base, size;
};
#define MACHINE_MAX_BUS_WINDOWS 8

/* What the CPU asks of the chip around it. Every hook may be NULL. */
struct machine_hooks {
    void *ctx;
    /* The firmware requested a system reset (AIRCR.SYSRESETREQ); called
     * just before the reset (the chip records its reset reason). */
    void (*sysreset)(void *ctx);
    /* A store to flash: true if the chip's flash controller allows it now
     * (the store then programs flash), false for a fault. */
    bool (*flash_writable)(void *ctx);
    /* The CPU fell asleep (WFI, WFE, SLEEPONEXIT: true) or woke up (false).
     * Not called for resets: every reset leaves the CPU awake. */
    void (*sleep_changed)(void *ctx, bool sleeping);
};

#define MACHINE_MAX_IMAGES 8

struct machine_options {
    /* The images (ELF or Intel HEX), loaded in this order; the list ends at
     * the first NULL. Two images may not write the same byte. */
    const char *firmware[MACHINE_MAX_IMAGES];
    /* The chip's UICR (non-volatile configuration): UICR records of the
     * images are programmed into these bytes. NULL: such records are refused. */
    uint8_t *uicr;
    uint32_t uicr_base, uicr_size;
    bool trace_irq;                /* log exception entry/exit with virtual time */
    bool trace_mmio;               /* log every peripheral access */
    /* While the CPU sleeps, keep virtual time from running ahead of the wall
     * clock (so a sleeping firmware costs no host CPU and host-side timeouts
     * mean what they say). Off: time jumps straight to the next event, which
     * makes runs without external input fully deterministic and fast. */
    bool realtime;
    const struct machine_bus_window *bus_windows;   /* the chip's peripheral windows */
    unsigned n_bus_windows;
    struct machine_hooks hooks;
};

/* Why machine_run returned. */
enum run_status {
    RUN_DEADLINE,      /* virtual time reached the requested limit */
    RUN_IDLE,          /* the CPU sleeps, nothing is scheduled and no fd is watched: it would sleep forever */
    RUN_STOPPED,       /* machine_request_stop was called */
    RUN_FAULT,         /* a fault ended the run: see machine_fault_report */
};

struct machine_stats {
    uint64_t instructions;
    uint64_t interrupts;           /* exception entries (including faults) */
    uint64_t sleeps;               /* WFI/WFE executed */
    uint64_t dma_transfers;
    uint64_t resets;
    uint64_t cpu_ns;               /* host time spent executing instructions (not sleeping) */
    uint64_t slices;               /* uc_emu_start calls */
    uint64_t tlb_flushes;          /* pages newly watched by the sanitizer (Unicorn 2.1) */
};

/* Sets up the CPU on soc (whose models the board has added), resets the soc
 * to power-on, loads the images and resets the CPU. Returns NULL with a
 * message on the soc's log if an image cannot be loaded (or two overlap).
 * The soc must outlive the machine.
 *
 * Reset (here, machine_reset, AIRCR.SYSRESETREQ):
 *  - one image: it runs alone, without the MBR or boot loader that would
 *    start it on the chip, so every reset starts it from its own vector
 *    table, which is the lowest flash address the image loads (0x1000 for
 *    the dongle image, 0 for a bare one or an MBR): initial SP and reset
 *    vector from there, and VTOR reset to that address, as if a boot loader
 *    had set it, so exceptions taken before the firmware writes VTOR use the
 *    image's table;
 *  - several images (an MBR or boot loader and an application): as silicon,
 *    SP and PC from the vector table at 0x0 and VTOR 0; whatever is at 0
 *    starts the rest.
 * An unusable reset vector faults at once (the first run returns RUN_FAULT).
 *
 * Faults: the chip escalates a fault to the HardFault handler; hilda-emu
 * instead ends the run at the first fault (RUN_FAULT) with a report on the
 * log (kind, r0-r12, sp, lr, pc, xpsr, the functions at PC and LR, the
 * stacked exception frames) and never runs the firmware's HardFault handler:
 * a fault is a bug to be shown where it happened. Kinds: invalid instruction
 * (HardFault via UNDEFINSTR), unmapped read/write/fetch, write to flash
 * the chip does not allow (see flash_writable), bad EXC_RETURN, stack
 * overflow (an exception frame outside RAM), vector fetch (no handler, no
 * Thumb bit), SVC that cannot be taken, BKPT, and "lockup: ..." for a fault
 * in the NMI or HardFault handler or with FAULTMASK set. A faulted machine
 * stays faulted until a reset. */
struct machine *machine_new(struct soc *soc, const struct machine_options *opt);
void machine_free(struct machine *m);

struct soc *machine_soc(struct machine *m);
const struct symbols *machine_symbols(const struct machine *m);

/* Runs until virtual time reaches `until`, a stop request, a fault, or
 * RUN_IDLE. WFI/WFE jumps virtual time to the next scheduled event (paced by
 * the wall clock with `realtime`); with nothing scheduled it blocks on the
 * watched fds. Between slices of CPU time the watched fds are polled.
 * Time: one cycle per instruction, counted per translated block, so a run
 * stops at a block boundary at or just past `until` (and events fire up to a
 * block late). Without `realtime` and without external input a run is
 * deterministic: the same image gives the same virtual-time trace. */
enum run_status machine_run(struct machine *m, vtime_t until);

/* Safe from any callback (MMIO, models, signal-free threads): the run loop
 * stops at the next block boundary. */
void machine_request_stop(struct machine *m);

/* RESET_SYSTEM: the soc's system reset (its models keep what survives it);
 * RESET_POWER_ON: power cycle. The CPU restarts from the vector table. The
 * reason the chip records is the board's business (emu/board). */
void machine_reset(struct machine *m, enum reset_kind kind);

/* Power off: the CPU and the models stop (the soc is reset to power-on
 * state and stays quiet). Power on: a power-on reset. */
void machine_power(struct machine *m, bool on);

/* The chip turned the CPU off (nRF52840 POWER.SYSTEMOFF): it stays off
 * until the next reset. */
void machine_halt_until_reset(struct machine *m);

/* Flash changed behind the CPU's back (an erase): translated code is stale. */
void machine_code_changed(struct machine *m);

void machine_stats(const struct machine *m, struct machine_stats *out);

/* The version of the Unicorn library loaded ("2.1.1"): benchmarks report
 * it, as the emulator's speed depends on it (docs/emulator.md, "Speed"). */
const char *machine_unicorn_version(void);

/* After RUN_FAULT: the report (kind, registers, PC and function, stacked
 * frame) was already written to the log; this gives a one-line summary. */
const char *machine_fault_summary(const struct machine *m);

/* The CPU's current PC and the function it is in ("?" if unknown), for
 * reports from models and the sanitizer. */
uint32_t machine_pc(const struct machine *m);
const char *machine_function_at(const struct machine *m, uint32_t addr);

/* Memory-access observer for the DMA sanitizer: called for every CPU load and
 * store to data RAM that overlaps a watched range (machine_set_ram_watch;
 * all of data RAM when the observer is set). The PC passed is the start of
 * the translated block; `by` is NULL. The core's own accesses (the emulator
 * stacks and unstacks exception frames itself) come as one access of the
 * whole frame with `by` naming them ("exception entry of IRQ8
 * (TIMER0_IRQHandler) stacking its frame, interrupting") and pc the
 * interrupted (or returned-to) PC. NULL to remove.
 *
 * How the CPU layer sees the accesses depends on the Unicorn it is built
 * with (docs/emulator.md, "Speed"). On Unicorn >= 2.1 only the pages (1 KiB)
 * of data RAM that hold a watched range are mapped, for data accesses, onto
 * a window of MMIO callbacks, through Unicorn's virtual TLB; every other
 * load and store stays on Unicorn's fast path. On 2.0.1 a memory hook over
 * data RAM sees every access (and sends every one down Unicorn's slow path);
 * it stays installed while an observer is set, as 2.0.1 applies a hook added
 * later only to code translated after it. Either way the observer gets
 * exactly the accesses that overlap a watched range, with their own address
 * and size, except that on 2.1 an unaligned load in a watched page arrives
 * as the two aligned loads Unicorn splits it into. */
typedef void (*machine_ram_access_fn)(void *ctx, uint32_t addr, uint32_t size, bool write, uint32_t pc,
                                      const char *by);
void machine_set_ram_observer(struct machine *m, machine_ram_access_fn fn, void *ctx);

/* A range [lo, hi) of data RAM addresses. */
struct machine_range {
    uint32_t lo, hi;
};

/* Only accesses overlapping one of these n ranges reach the observer (n 0:
 * none): the sanitizer watches the memory EasyDMA transfers in flight own,
 * so loads and stores elsewhere cost nothing more (2.1) or the hook's range
 * test (2.0.1). The observer still sees every access it would act on: the
 * ranges must cover everything it checks. Cheap to call when nothing
 * changed; a change of the watched pages flushes Unicorn's TLB. */
void machine_set_ram_watch(struct machine *m, const struct machine_range *ranges, unsigned n);

/* Ends the run with a fault report (used by the sanitizer in error mode). */
void machine_raise_fault(struct machine *m, const char *kind, const char *detail);

#endif
