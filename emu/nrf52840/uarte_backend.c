/* UARTE backends (uarte_backend.h): a pseudo-terminal, stdio, a caller's fd
 * or nothing. A pty's output accumulates in the kernel's buffer while no
 * client reads it (a client that connects later reads it, unless it flushes
 * its input, as pyserial's reset_input_buffer does); when the buffer is
 * full, a write fails (EAGAIN) and the model either waits for "CTS"
 * (HWFC) or drops the byte and counts it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "uarte_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static void set_flags(int fd, int add)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | add);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static bool open_pty(struct uarte_io *io)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0)
        goto fail;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, io->path, sizeof io->path) != 0) {
        close(master);
        goto fail;
    }
    int slave = open(io->path, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        close(master);
        goto fail;
    }
    struct termios t;
    if (tcgetattr(slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
    }
    set_flags(master, O_NONBLOCK);
    set_flags(slave, 0);
    io->in_fd = io->out_fd = master;
    io->slave_fd = slave;
    io->in_nonblocking = true;
    soc_log(io->soc, "emu: %s on %s\n", io->name, io->path);
    return true;
fail:
    soc_log(io->soc, "emu: %s: cannot open a pseudo-terminal (%s): output discarded, no input\n", io->name,
            strerror(errno));
    io->path[0] = '\0';
    return false;
}

void uarte_io_open(struct uarte_io *io, struct soc *soc, const char *name, const struct uarte_backend *cfg)
{
    *io = (struct uarte_io){ .kind = UARTE_BACKEND_NONE, .in_fd = -1, .out_fd = -1, .slave_fd = -1,
                             .name = name, .soc = soc };
    if (!cfg)
        return;
    switch (cfg->kind) {
    case UARTE_BACKEND_NONE:
        return;
    case UARTE_BACKEND_PTY:
        if (!open_pty(io))
            return;
        break;
    case UARTE_BACKEND_STDIO:
        io->in_fd = STDIN_FILENO;
        io->out_fd = STDOUT_FILENO;
        io->in_nonblocking = false;   /* stdin's flags are shared with the shell: leave them */
        break;
    case UARTE_BACKEND_FD: {
        if (cfg->fd < 0)
            return;
        set_flags(cfg->fd, O_NONBLOCK);
        io->in_fd = io->out_fd = cfg->fd;
        io->in_nonblocking = true;
        int type;
        socklen_t len = sizeof type;
        io->out_is_socket = getsockopt(cfg->fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
        break;
    }
    }
    io->kind = cfg->kind;
}

void uarte_io_close(struct uarte_io *io)
{
    if (io->kind == UARTE_BACKEND_PTY) {
        if (io->out_fd >= 0)
            close(io->out_fd);
        if (io->slave_fd >= 0)
            close(io->slave_fd);
    }
    io->in_fd = io->out_fd = io->slave_fd = -1;
}

int uarte_io_input_fd(const struct uarte_io *io)
{
    return io->in_fd;
}

bool uarte_io_write(struct uarte_io *io, uint8_t b)
{
    int fd = io->out_fd;
    if (fd < 0)
        return true;            /* no output: nothing is dropped, it never goes anywhere */
    for (;;) {
        ssize_t n = io->out_is_socket ? send(fd, &b, 1, MSG_NOSIGNAL) : write(fd, &b, 1);
        if (n == 1)
            return true;
        if (n < 0 && errno == EINTR)
            continue;
        return false;
    }
}

ssize_t uarte_io_read(struct uarte_io *io, uint8_t *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(io->in_fd, buf, len);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        soc_log(io->soc, "emu: %s input %s: no more input\n", io->name, n == 0 ? "closed" : strerror(errno));
        io->in_fd = -1;
        return -1;
    }
}
