/* The control channel: a unix socket speaking JSON lines (jansson) (one request
 * object per line, one reply object per line), served from the run loop.
 * docs/emulator.md lists the commands. */
#ifndef EMU_CONTROL_H
#define EMU_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct control;
struct dongle;
struct sanitizer;

struct control_target {
    struct dongle *board;          /* the emulated dongle (emu/board/dongle.h) */
    struct sanitizer *sanitizer;   /* may be NULL */
    const char *const *firmware;   /* the images, up to the first NULL (DONGLE_MAX_IMAGES at most) */
};

/* Listens on path (an existing socket file is replaced). NULL with a
 * message on stderr if it cannot. */
struct control *control_new(const char *path, const struct control_target *target);
void control_free(struct control *c);

/* True once a client asked to quit. */
bool control_quit_requested(const struct control *c);

/* Executes one request line and writes the reply line into reply (also used
 * by unit tests, without a socket). */
void control_execute(struct control *c, const char *request, char *reply, size_t cap);

#endif
