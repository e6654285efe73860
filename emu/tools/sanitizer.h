/* The DMA sanitizer: from the task that starts an EasyDMA transfer until its
 * END event, the transfer owns its memory range (DESIGN.md "Memory-safe
 * DMA"). It reports, with the PC, the function and the transfer involved:
 *   - a CPU write into a range a DMA reads or writes,
 *   - a CPU read of a range a DMA writes,
 *   - an EasyDMA pointer outside data RAM,
 *   - two USBD EasyDMA transfers at once.
 * In warn mode each distinct report is logged once and the run goes on; in
 * error mode the first report ends the run as a fault. */
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
