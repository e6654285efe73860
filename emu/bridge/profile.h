/* Where a synchronous control transfer's time goes, measured inside the
 * bridge when HILDA_BRIDGE_PROFILE is set in hilda-emu's environment
 * (scripts/bench prints the split; docs/emulator.md "USB bridge
 * throughput"). Each URB carries host-clock stamps of its way through the
 * two threads; the worker adds them up when the client reaps the URB, and
 * bridge_free prints the means. Off, it costs one branch per stamp.
 *
 * The spans, one transfer after the other (a client that waits for each
 * transfer before it submits the next, as libusb_control_transfer does):
 *   client+socket   the previous reap's answer -> this SUBMITURB reaching
 *                   the handler: umockdev's socket both ways, libusb, the
 *                   client's empty reap (EAGAIN) and its own loop
 *   submit          the SUBMITURB handler, of which `reads` are its reads
 *                   of client memory: a copy out of the preload's shared
 *                   area (usbfs_inline.h; no socket), else over umockdev's
 *                   socket (one for the preload's inline block; two, the
 *                   urb and its buffer, for a plain SUBMITURB)
 *   hop             the queued request -> the CPU thread taking it (eventfd)
 *   device          the CPU thread: the host controller model, the
 *                   emulated firmware answering, until the URB completes;
 *                   also in virtual time and in the thread's CPU time
 *   back            completion -> the client's REAPURBNDELAY reaching the
 *                   handler (the node turns writable, the client's poll
 *                   wakes, libusb reaps); for a URB the client reaped from
 *                   its shared area, -> that reap (the preload's stamp)
 *   reap            the REAPURBNDELAY handler (it reads the client's
 *                   pointer slot over the socket, and its writes to client
 *                   memory are sent without waiting); 0 for a URB the client
 *                   reaped from its shared area (usbfs_inline.h) */
#ifndef EMU_BRIDGE_PROFILE_H
#define EMU_BRIDGE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct urb_prof {
    uint64_t submit_in, reads_done, posted;   /* worker */
    uint64_t taken, done, v_taken, v_done, cpu_taken, cpu_done;   /* CPU thread */
    uint64_t reap_in;                         /* worker */
};

/* Reads HILDA_BRIDGE_PROFILE once (bridge_new, before any thread). */
void prof_init(void);
bool prof_on(void);
uint64_t prof_now(void);                      /* CLOCK_MONOTONIC, ns */
uint64_t prof_thread_cpu(void);               /* this thread's CPU time, ns */
/* Worker: the URB's stamps, once it has been reaped (reap_out = now). */
void prof_record(const struct urb_prof *p);
/* The same for a URB its client reaped from the shared area at reap_out. */
void prof_record_at(const struct urb_prof *p, uint64_t reap_out);
/* The means so far, one line per span, to log (nothing when off). */
void prof_report(FILE *log);

#endif
