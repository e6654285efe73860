/* Part of libhilda-emu-preload.so (see yield_preload.c): gives every udev
 * monitor of every client its own socket name.
 *
 * umockdev's preload turns a client's uevent netlink socket into an AF_UNIX
 * datagram socket bound to "$UMOCKDEV_DIR/event<fd>", and the bridge sends
 * hot-plug events to every such name (uevent.c). The name depends on the fd
 * number only, so two client processes whose monitors got the same fd (a
 * long-lived `hilda batch` and any short `hilda list` started while it runs:
 * the same program, the same start-up, the same fd) bind the same name; the
 * second one's bind unlinks the first's, and once the second exits the name
 * leads nowhere. The long-lived client then never hears of a re-plugged
 * dongle again. Binding the wrapped socket here, under a name that also
 * carries the process id, keeps each monitor reachable; umockdev keys all
 * its other handling of the socket on the fd, not on the name. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*next_bind)(int, const struct sockaddr *, socklen_t);
    if (!next_bind) {
        void *sym = dlsym(RTLD_NEXT, "bind");
        *(void **)&next_bind = sym;
    }
    const char *dir = getenv("UMOCKDEV_DIR");
    int domain = 0;
    socklen_t size = sizeof domain;
    if (dir && addr && len >= sizeof(sa_family_t) && addr->sa_family == AF_NETLINK &&
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 && domain == AF_UNIX) {
        /* a uevent monitor umockdev has wrapped: "event<fd>-<pid>" still
         * matches the bridge's "event[0-9]*" */
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/event%d-%ld", dir, fd, (long)getpid());
        if (n > 0 && (size_t)n < sizeof sa.sun_path) {
            /* the C library's bind: umockdev's (next in line) would bind the
             * wrapped fd to its own name whatever address it is given */
            static int (*libc_bind)(int, const struct sockaddr *, socklen_t);
            if (!libc_bind) {
                void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
                void *sym = libc ? dlsym(libc, "bind") : NULL;
                *(void **)&libc_bind = sym;
            }
            if (libc_bind) {
                unlink(sa.sun_path);
                return libc_bind(fd, (struct sockaddr *)&sa, sizeof sa);
            }
        }
    }
    return next_bind ? next_bind(fd, addr, len) : -1;
}
