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
 * USBDEVFS_SUBMITURB through the file's shared area (usbfs_inline.h): the
 * urb and its buffer in a slot, no read of client memory over the socket;
 * REAPURBNDELAY on such a file takes the next completion from the area's
 * ring, with no round trip (and fills the node's FIFO when it took the
 * last one, so that the empty reap that follows is answered above), or
 * asks the bridge with USBFS_SHM_REAP for a URB without a slot. The area
 * is made at the file's first SUBMITURB and dropped by close() (ours,
 * below): a file closed another way (dup2 over it, a FILE's fclose) leaves
 * its area until the number is reused, and the bridge then answers ENOTTY
 * for the slot: the area is forgotten (left mapped) and the new file gets
 * its own. A child after fork() shares the area, its free mask and ring.
 * Then the inline block: the urb and its buffer in one block, one round
 * trip fewer than the plain path; the reap that returns such a URB is
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hilda/usb.h"
#include "usbfs_inline.h"

/* The next definition of `name` after ours (umockdev's, then libc's),
 * looked up once into *slot. */
static void *next_symbol(void *_Atomic *slot, const char *name)
{
    void *sym = atomic_load_explicit(slot, memory_order_acquire);
    if (!sym) {
        sym = dlsym(RTLD_NEXT, name);
        atomic_store_explicit(slot, sym, memory_order_release);
    }
    return sym;
}

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*close_fn)(int);

/* dlsym returns an object pointer; POSIX makes its conversion to a
 * function pointer work */
static ioctl_fn next_ioctl(void)
{
    static void *_Atomic next;
    ioctl_fn f;
    *(void **)&f = next_symbol(&next, "ioctl");
    return f;
}

static close_fn next_close(void)
{
    static void *_Atomic next;
    close_fn f;
    *(void **)&f = next_symbol(&next, "close");
    return f;
}

/* ---- the shared area (usbfs_inline.h) ---- */

#define AREA_FDS 4096                     /* files with a higher number take the other paths */
#define AREA_NONE ((void *)1)             /* this file has none: not the bridge's, or refused */
#define AREA_PENDING ((void *)2)          /* a thread is asking the bridge for one */

/* NULL: not tried yet. No lock: a child forked while another thread was
 * asking would wait for it forever (a pending file takes the inline path). */
static _Atomic(void *) areas[AREA_FDS];
/* for each area, this process's end of the bridge's kick pipe, and a
 * non-blocking writer of the node's FIFO (see reap_local) */
static _Atomic int kicks[AREA_FDS], fifo_w[AREA_FDS];

/* The free slots, one bit each, in the area's first page: shared with a
 * forked child, so allocation must be atomic on the memory itself. */
static _Atomic uint64_t *free_mask(void *area)
{
    return (_Atomic uint64_t *)&((struct usbfs_shm_head *)area)->free_mask;
}

static int slot_take(void *area)
{
    _Atomic uint64_t *mask = free_mask(area);
    uint64_t m = atomic_load(mask);
    while (m) {
        int i = __builtin_ctzll(m);
        if (atomic_compare_exchange_weak(mask, &m, m & ~(1ull << i)))
            return i;
    }
    return -1;
}

static void slot_give(void *area, unsigned i)
{
    atomic_fetch_or(free_mask(area), 1ull << i);
}

/* A sealed memfd, mapped, named to the bridge; NULL if anything refuses. */
static void *area_new(int fd)
{
    int mfd = (int)syscall(SYS_memfd_create, "hilda-usbfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return NULL;
    void *a = NULL;
    if (ftruncate(mfd, USBFS_SHM_SIZE) == 0 &&
        fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0) {
        a = mmap(NULL, USBFS_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        if (a == MAP_FAILED)
            a = NULL;
    }
    if (a) {
        const uint64_t magic = USBFS_SHM_MAGIC;
        memcpy(a, &magic, sizeof magic);
        atomic_store(free_mask(a), ~0ull);   /* all USBFS_SHM_SLOTS free */
        struct usbfs_shm_hello h = { .magic = USBFS_SHM_MAGIC, .pid = getpid(), .fd = mfd, .size = USBFS_SHM_SIZE,
                                     .kick_pid = 0, .kick_fd = -1 };
        int e = errno;
        int kick = -1;
        if (next_ioctl()(fd, USBFS_SHM_HELLO, &h) == 0 && h.kick_pid > 0 && h.kick_fd >= 0) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)h.kick_pid, (int)h.kick_fd);
            kick = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        }
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        /* a description of our own: the client's may block (past umockdev's open) */
        int w = kick < 0 ? -1 : (int)syscall(SYS_openat, AT_FDCWD, self, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (w < 0) {
            /* without both the node could stay writable with nothing to reap:
             * the bridge keeps the area mapped but this file never uses it */
            if (kick >= 0)
                next_close()(kick);
            munmap(a, USBFS_SHM_SIZE);
            a = NULL;
        } else {
            atomic_store(&kicks[fd], kick);
            atomic_store(&fifo_w[fd], w);
        }
        errno = e;
    }
    next_close()(mfd);                    /* the bridge has its own mapping now */
    return a;
}

/* The file's area, made at its first use if make; NULL if it has none. */
static void *area_of(int fd, bool make)
{
    if (fd < 0 || fd >= AREA_FDS)
        return NULL;
    void *a = atomic_load(&areas[fd]);
    if (!a && make && atomic_compare_exchange_strong(&areas[fd], &a, AREA_PENDING)) {
        a = area_new(fd);
        if (!a)
            a = AREA_NONE;
        void *pending = AREA_PENDING;
        if (!atomic_compare_exchange_strong(&areas[fd], &pending, a) && a != AREA_NONE) {
            munmap(a, USBFS_SHM_SIZE);    /* closed meanwhile (another thread's close()) */
            a = AREA_NONE;
        }
    }
    return a == AREA_NONE || a == AREA_PENDING ? NULL : a;
}

static void area_drop(int fd)
{
    if (fd < 0 || fd >= AREA_FDS)
        return;
    void *a = atomic_exchange(&areas[fd], NULL);
    if (a && a != AREA_NONE && a != AREA_PENDING)
        munmap(a, USBFS_SHM_SIZE);
    int kick = atomic_exchange(&kicks[fd], -1), w = atomic_exchange(&fifo_w[fd], -1);
    if (a && a != AREA_NONE && a != AREA_PENDING) {
        next_close()(kick);
        next_close()(w);
    }
}

static int submit_shm(int fd, struct usbdevfs_urb *urb, bool *sent)
{
    *sent = false;
    if (urb->type == USBDEVFS_URB_TYPE_ISO || urb->buffer_length < 0 ||
        (size_t)urb->buffer_length > USBFS_SHM_DATA || (urb->buffer_length > 0 && !urb->buffer))
        return 0;
    void *a = area_of(fd, true);
    int i = a ? slot_take(a) : -1;
    if (i < 0)
        return 0;
    struct usbfs_shm_slot *s = usbfs_shm_slot(a, (unsigned)i);
    s->user_urb = (uintptr_t)urb;
    memcpy(&s->urb, urb, sizeof *urb);
    if (urb->buffer_length > 0)
        memcpy(s->data, urb->buffer, (size_t)urb->buffer_length);
    int r = next_ioctl()(fd, USBFS_SHM_SUBMIT, (void *)(uintptr_t)i);
    if (r < 0) {
        int e = errno;
        slot_give(a, (unsigned)i);        /* refused: the bridge kept nothing of it */
        if (e == ENOTTY) {
            /* not the file the area was made for: forget it (not unmapped,
             * another thread may be filling a slot of it) and ask again */
            atomic_compare_exchange_strong(&areas[fd], &a, NULL);
            return 0;
        }
        errno = e;
    }
    *sent = true;
    return r;
}

/* A slot's URB, reaped (by the bridge's answer or from the ring): it
 * becomes the client's again. */
static void reaped_shm(void *area, unsigned i, void **slot_ptr)
{
    struct usbfs_shm_slot *s = usbfs_shm_slot(area, i);
    struct usbdevfs_urb *urb = (struct usbdevfs_urb *)(uintptr_t)s->user_urb;
    const struct usbdevfs_urb *copy = &s->urb;   /* as submitted, with the results */
    urb->status = copy->status;
    urb->actual_length = copy->actual_length;
    urb->error_count = copy->error_count;
    bool control = copy->type == USBDEVFS_URB_TYPE_CONTROL;
    bool in = control ? (s->data[0] & USB_DIR_MASK) == USB_DIR_IN : (copy->endpoint & USB_EP_DIR_IN) != 0;
    size_t off = control ? 8 : 0;
    if (in && copy->actual_length > 0 && off + (size_t)copy->actual_length <= (size_t)copy->buffer_length &&
        off + (size_t)copy->actual_length <= USBFS_SHM_DATA)
        memcpy((uint8_t *)copy->buffer + off, s->data + off, (size_t)copy->actual_length);
    *slot_ptr = urb;
    slot_give(area, i);
}

enum { LOCAL_REAPED, LOCAL_EMPTY, LOCAL_ASK };

/* REAPURBNDELAY from the ring (usbfs_inline.h): the completion at head,
 * taken by compare-and-swap (other threads, a forked child and the worker
 * take them the same way). An entry without a slot, or completions past a
 * full ring, are the bridge's to answer. */
static int reap_local(int fd, void *area, void **slot_ptr)
{
    struct usbfs_shm_head *h = area;
    for (;;) {
        uint32_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
        if (head == __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE))
            return __atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & USBFS_SHM_OVERFLOW ? LOCAL_ASK : LOCAL_EMPTY;
        struct usbfs_shm_ring_entry *e = &h->ring[head % USBFS_SHM_RING];
        uint32_t slot = __atomic_load_n(&e->slot, __ATOMIC_RELAXED);
        if (slot >= USBFS_SHM_SLOTS)
            return LOCAL_ASK;
        if (__atomic_load_n(&h->flags, __ATOMIC_RELAXED) & USBFS_SHM_PROFILE) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            __atomic_store_n(&e->reaped_ns, (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec, __ATOMIC_RELAXED);
        }
        if (!__atomic_compare_exchange_n(&h->head, &head, head + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        reaped_shm(area, slot, slot_ptr);
        /* The node is writable exactly while a completed URB waits (urb.h),
         * but the bridge lets go of this one only when it reads the kick (or
         * the file's next ioctl). So when this was the last one, the node's
         * FIFO is filled here (one byte: not writable), at once: the empty
         * reap that follows is answered here and a poll() sleeps. Should
         * another completion of the device wait (another client's, one
         * published meanwhile), the worker makes the node writable again
         * when it reads the kick, which follows now. */
        const uint8_t one = 1;
        long n;
        if (head + 1 == __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE) &&
            !(__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & USBFS_SHM_OVERFLOW)) {
            n = syscall(SYS_write, atomic_load(&fifo_w[fd]), &one, 1);
            (void)n;                      /* EAGAIN: full already */
        }
        n = syscall(SYS_write, atomic_load(&kicks[fd]), &one, 1);   /* past umockdev's write() */
        (void)n;                          /* EAGAIN: a kick is waiting already */
        return LOCAL_REAPED;
    }
}

/* ---- the inline block ---- */

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

/* The device is gone (urb.h): its reaps must reach the bridge. The kernel's
 * fstat: umockdev's preload dresses up its result for device nodes. */
static bool gone(int fd)
{
    struct stat st;
    return syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) != 0 || st.st_nlink == 0 || (st.st_mode & 07777) == 0;
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (request == USBDEVFS_REAPURBNDELAY) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (poll(&p, 1, 0) == 0 && !gone(fd)) {
            errno = EAGAIN;
            return -1;
        }
    }
    ioctl_fn next = next_ioctl();
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    if (request == USBDEVFS_SUBMITURB && arg) {
        bool sent;
        int r = submit_shm(fd, arg, &sent);
        if (!sent)
            r = submit_inline(fd, arg, &sent);
        if (sent)
            return r;
    }
    if (request == USBDEVFS_REAPURBNDELAY && arg) {
        void *a = area_of(fd, false);
        if (a) {
            int l = reap_local(fd, a, arg);
            if (l == LOCAL_REAPED)
                return 0;
            int r = next(fd, USBFS_SHM_REAP, arg);
            if (r > 0 && r <= USBFS_SHM_SLOTS) {
                reaped_shm(a, (unsigned)r - 1, arg);
                return 0;
            }
            if (r == 0)
                reaped(arg);              /* an inline block or a plain URB */
            return r;
        }
    }
    int r = next(fd, request, arg);
    if (r == 0 && arg && (request == USBDEVFS_REAPURBNDELAY || request == USBDEVFS_REAPURB))
        reaped(arg);
    return r;
}

int close(int fd)
{
    area_drop(fd);
    close_fn next = next_close();
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd);
}
