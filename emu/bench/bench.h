/* The virtual bench: the FTDI adapter (ft232r.h) wired to the dongle exactly
 * as docs/rig.md wires a real one, and served as a second USB device by the
 * bridge (bus 2, device 002, path "2-1", serial HILDAEMU0).
 *
 *   FT232R                     PCA10059 dongle
 *   D0 (TXD) ----------------- SW2 / P0.18 nRESET pad (pulled up on the dongle)
 *   D1 (RXD) --- EN of a load switch (pulled up) in the dongle's VBUS line
 *   D2..D7     not connected
 *
 * D0 low (an output driving 0) holds the nRF52840 in reset
 * (dongle_reset_hold); D0 an input (or high) lets it go, and the chip starts
 * with RESETREAS.RESETPIN. D1 low (an output driving 0) opens the switch: the
 * dongle is unplugged (VBUS and supply gone, USB clients see a removal);
 * high or an input closes it, as the switch's enable pull-up keeps it on
 * (so the dongle is powered from the start, before any program touches the
 * adapter). Pin changes reach the board through a scheduled event at the
 * same virtual instant, not from inside the USB transfer: a pulse shorter
 * than one bulk transfer (two bytes in one write) is not seen.
 *
 * It also writes the rig description of this bench (docs/rig.md format) for
 * `hilda rig`: HILDA_RIG in the session's environment names it. */
#ifndef EMU_BENCH_BENCH_H
#define EMU_BENCH_BENCH_H

#include <stddef.h>

#include "bridge.h"
#include "dongle.h"

#define BENCH_ADAPTER_SERIAL "HILDAEMU0"
#define BENCH_RESET_PIN 0
#define BENCH_POWER_PIN 1

struct bench;

/* Wires the adapter to board and publishes it on bridge; writes the rig
 * description into dir (the testbed directory). uart: the path of the
 * dongle's UART for the description ("" for none). NULL with a sentence in
 * err on failure. */
struct bench *bench_new(struct dongle *board, struct bridge *bridge, const char *dir, const char *uart, char *err,
                        size_t errlen);
void bench_free(struct bench *b);

const char *bench_rig_path(const struct bench *b);

#endif
