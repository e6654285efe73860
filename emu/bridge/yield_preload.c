/* libhilda-emu-preload.so: preloaded into the bridge's clients next to
 * libumockdev-preload (bridge.h). umockdev's preload calls usleep(0) after
 * every emulated ioctl, to let other threads of the client take its lock.
 * On a virtual machine usleep(0) arms a timer, a VM exit that costs about
 * 20 us, three times per control transfer; sched_yield() gives other
 * threads the same chance without it. Every other usleep is the C
 * library's. */
#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

int usleep(useconds_t usec)
{
    static int (*libc_usleep)(useconds_t);
    if (usec == 0)
        return sched_yield();
    if (!libc_usleep) {
        /* dlsym returns an object pointer; POSIX makes this conversion work */
        void *sym = dlsym(RTLD_NEXT, "usleep");
        *(void **)&libc_usleep = sym;
    }
    return libc_usleep ? libc_usleep(usec) : -1;
}
