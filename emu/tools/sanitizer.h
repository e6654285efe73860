/* The DMA sanitizer: from the task that starts an EasyDMA transfer until its
 * END event, the transfer owns its memory range (DESIGN.md "Memory-safe
 * DMA"). It reports, with the PC, the function and the transfer involved:
 *   - a CPU write into a range a DMA reads or writes,
 *   - a CPU read of a range a DMA writes,
 *     (both rules include the core's own accesses: an exception entry
 *     stacking its frame - r0-r3, r12, lr, pc, xPSR and the FP part - over an
 *     owned range, an exception return unstacking it from a range a DMA
 *     writes; the report names the exception and its handler),
 *   - an EasyDMA pointer outside data RAM,
 *   - two USBD EasyDMA transfers at once,
 *   - a transfer starting on memory another transfer in flight owns, where
 *     at least one of the two writes RAM (two readers of one buffer, such as
 *     two TX from it, are legal); the report names both channels.
 * In warn mode each distinct report is logged once and the run goes on; in
 * error mode the first report ends the run as a fault.
 *
 * Where it differs from silicon (which checks none of this): a transfer owns
 * its whole [PTR, PTR + MAXCNT) from start to END, although the chip touches
 * a byte only when it moves it (RX stopped early leaves the tail untouched),
 * so a report may name bytes no DMA reached yet; the frame's FP part is
 * checked at entry, where silicon with lazy stacking (FPCCR.LSPEN) only
 * reserves the space and writes it at the handler's first FP instruction
 * (a buffer there is then corrupted or not depending on the handler: still
 * a bug). */
#ifndef EMU_SANITIZER_H
#define EMU_SANITIZER_H

#include <stdint.h>

#include "machine.h"

struct sanitizer;

struct sanitizer *sanitizer_new(struct machine *m, enum sanitize_mode mode);
void sanitizer_free(struct sanitizer *s);

/* Reports so far (each distinct violation counted once). */
uint64_t sanitizer_reports(const struct sanitizer *s);
/* The text of report i (0-based), or NULL. */
const char *sanitizer_report(const struct sanitizer *s, uint64_t i);

const char *sanitize_mode_name(enum sanitize_mode mode);
/* "off", "warn", "error"; returns -1 for anything else */
int sanitize_mode_parse(const char *text, enum sanitize_mode *mode);

#endif
