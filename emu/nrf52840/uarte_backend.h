/* Where a UARTE's bytes go and come from, apart from the register model
 * (uarte.c): a pseudo-terminal (pyserial opens its slave like a serial
 * port), stdio, a caller's fd (tests), or nothing. The model writes a byte
 * when it has shifted out, reads when the fd it watches is readable, and
 * never sees which kind of backend it has. */
#ifndef EMU_UARTE_BACKEND_H
#define EMU_UARTE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "soc.h"

enum uarte_backend_kind {
    UARTE_BACKEND_NONE,    /* output discarded, no input */
    UARTE_BACKEND_PTY,     /* a pseudo-terminal; its slave path is uarte_path() */
    UARTE_BACKEND_STDIO,   /* stdout / stdin */
    UARTE_BACKEND_FD,      /* a caller-owned socket or pipe end, both directions (tests) */
};

/* What the chip's configuration asks for. */
struct uarte_backend {
    enum uarte_backend_kind kind;
    int fd;                /* UARTE_BACKEND_FD only; made non-blocking, never closed */
};

/* An opened backend. */
struct uarte_io {
    enum uarte_backend_kind kind;
    int in_fd, out_fd;
    int slave_fd;            /* pty: our own slave fd, kept open, never read */
    bool in_nonblocking;     /* false for stdin: one read per readiness */
    bool out_is_socket;
    char path[64];           /* pty: the slave's path; "" otherwise */
    const char *name;        /* "UARTE0", for messages */
    struct soc *soc;         /* for messages */
};

/* Opens what cfg asks for (NULL: nothing). A pty that cannot be opened is
 * reported and leaves the backend with no input and no output. The pty
 * backend keeps a slave fd of its own open, so that the pty works while no
 * client has it open (otherwise the master reads EIO). */
void uarte_io_open(struct uarte_io *io, struct soc *soc, const char *name, const struct uarte_backend *cfg);
void uarte_io_close(struct uarte_io *io);

/* The fd to watch for input, -1 if none. */
int uarte_io_input_fd(const struct uarte_io *io);

/* One byte out: false if it was dropped (nobody reads and the buffer is
 * full, or no output). */
bool uarte_io_write(struct uarte_io *io, uint8_t b);

/* Up to len bytes in: how many (> 0), 0 if nothing is there now, -1 if the
 * input ended (reported; input_fd is -1 from then on: the caller unwatches
 * the fd it had first). */
ssize_t uarte_io_read(struct uarte_io *io, uint8_t *buf, size_t len);

#endif
