/* `hilda-emu run` and `hilda-emu serve`: the emulated dongle as a USB
 * device (emu/bridge) with a control channel, and its environment
 * (UMOCKDEV_DIR, LD_PRELOAD, HILDA_EMU_UART, HILDA_EMU_CONTROL,
 * HILDA_EMU_PID, HILDA_EMU_CPU, HILDA_RIG: the virtual bench's rig description,
 * emu/bench/bench.h) for the clients. */
#ifndef EMU_TOOLS_SESSION_H
#define EMU_TOOLS_SESSION_H

#include <stdio.h>

#include "dongle.h"
#include "options.h"
#include "sanitizer.h"

/* Runs the session to its end; returns hilda-emu's exit code. */
int session_usb(struct options *o, struct dongle *board, struct sanitizer *san, FILE *log);

#endif
