/* Part of libhilda-emu-preload.so (see yield_preload.c): two usbfs ioctls
 * made cheaper in the client, with the answers the kernel would give.
 * Every other ioctl, and these on any node that is not the bridge's, go to
 * the next ioctl (umockdev's preload).
 *
 * An empty USBDEVFS_REAPURBNDELAY answered here. libusb reaps until the
 * kernel says EAGAIN, so every transfer ends with one reap that finds
 * nothing: through umockdev a round trip over its socket to the bridge's
 * worker thread and back. Linux's usbdev_poll (devio.c) makes the node
 * writable (POLLOUT) exactly while a completed URB waits to be reaped, and
 * the bridge's node keeps that rule (urb.h). So when poll() says the node
 * is not writable, and the device is not gone (the bridge drops the node's
 * mode to 0 before a disconnected device's URBs complete, and removes the
 * node later: the reaps of a device that is gone must reach the bridge to
 * answer ENODEV), the reap is answered EAGAIN without asking the bridge. A node that is always ready (a regular file, a real device with a
 * URB waiting) goes on as usual. A URB completing between the look and the
 * answer is the race the kernel has as well: the next poll sees it.
 *
 * USBDEVFS_SUBMITURB sent inline (usbfs_inline.h): the urb and its buffer in
 * one block, one round trip fewer; the reap that returns such a URB is
 * translated back here. Isochronous URBs, buffers too large for the
 * request code, and a bridge that answers ENOTTY take the plain path. A
 * block whose URB is never reaped (its file closed first) is not freed. */
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hilda/usb.h"
#include "usbfs_inline.h"

typedef int (*ioctl_fn)(int, unsigned long, ...);

static ioctl_fn next_ioctl(void)
{
    static _Atomic(ioctl_fn) next;
    ioctl_fn f = atomic_load_explicit(&next, memory_order_acquire);
    if (!f) {
        /* dlsym returns an object pointer; POSIX makes this conversion work */
        void *sym = dlsym(RTLD_NEXT, "ioctl");
        *(void **)&f = sym;
        atomic_store_explicit(&next, f, memory_order_release);
    }
    return f;
}

static atomic_bool inline_refused;        /* the bridge answered ENOTTY once */

static int submit_inline(int fd, struct usbdevfs_urb *urb, bool *sent)
{
    *sent = false;
    size_t len = urb->buffer_length > 0 ? (size_t)urb->buffer_length : 0;
    if (atomic_load(&inline_refused) || urb->type == USBDEVFS_URB_TYPE_ISO || urb->buffer_length < 0 ||
        len > USBFS_INLINE_MAX - USBFS_INLINE_HDR || (len && !urb->buffer))
        return 0;
    uint8_t *block = malloc(USBFS_INLINE_HDR + len);
    if (!block)
        return 0;
    const uint64_t magic = USBFS_INLINE_MAGIC, addr = (uintptr_t)urb;
    memcpy(block, &magic, sizeof magic);
    memcpy(block + USBFS_INLINE_ADDR_OFF, &addr, sizeof addr);
    memcpy(block + USBFS_INLINE_URB_OFF, urb, sizeof *urb);
    if (len)
        memcpy(block + USBFS_INLINE_HDR, urb->buffer, len);
    int r = next_ioctl()(fd, USBFS_SUBMIT_INLINE(USBFS_INLINE_HDR + len), block);
    if (r < 0) {
        int e = errno;
        free(block);
        if (e == ENOTTY) {
            atomic_store(&inline_refused, true);
            return 0;
        }
        errno = e;
        *sent = true;
        return r;
    }
    *sent = true;
    /* cppcheck-suppress[memleak] the block now belongs to the URB: its reap frees it (reaped) */
    return r;
}

/* After a reap that returned *slot: an inline block becomes the client's urb. */
static void reaped(void **slot)
{
    uint8_t *block = *slot;
    uint64_t magic, addr;
    if (!block)
        return;
    memcpy(&magic, block, sizeof magic);
    if (magic != USBFS_INLINE_MAGIC)
        return;                            /* a plain URB: the bridge wrote into it already */
    memcpy(&addr, block + USBFS_INLINE_ADDR_OFF, sizeof addr);
    struct usbdevfs_urb *urb = (struct usbdevfs_urb *)(uintptr_t)addr;
    const struct usbdevfs_urb *copy = (const struct usbdevfs_urb *)(block + USBFS_INLINE_URB_OFF);
    urb->status = copy->status;
    urb->actual_length = copy->actual_length;
    urb->error_count = copy->error_count;
    bool control = urb->type == USBDEVFS_URB_TYPE_CONTROL;
    const uint8_t *data = block + USBFS_INLINE_HDR;
    bool in = control ? (data[0] & USB_DIR_MASK) == USB_DIR_IN : (urb->endpoint & USB_EP_DIR_IN) != 0;
    size_t off = control ? 8 : 0;
    if (in && copy->actual_length > 0 && off + (size_t)copy->actual_length <= (size_t)urb->buffer_length)
        memcpy((uint8_t *)urb->buffer + off, data + off, (size_t)copy->actual_length);
    *slot = urb;
    free(block);
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (request == USBDEVFS_REAPURBNDELAY) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        struct stat st;
        /* the kernel's fstat: umockdev's preload dresses up its result for device nodes */
        if (poll(&p, 1, 0) == 0 && syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_nlink > 0 &&
            (st.st_mode & 07777) != 0) {
            errno = EAGAIN;
            return -1;
        }
    }
    if (request == USBDEVFS_SUBMITURB && arg) {
        bool sent;
        int r = submit_inline(fd, arg, &sent);
        if (sent)
            return r;
    }
    ioctl_fn next = next_ioctl();
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    int r = next(fd, request, arg);
    if (r == 0 && arg && (request == USBDEVFS_REAPURBNDELAY || request == USBDEVFS_REAPURB))
        reaped(arg);
    return r;
}
