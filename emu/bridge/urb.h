/* URB bookkeeping between the two threads of the bridge.
 *
 * The usbfs handler runs on umockdev's worker thread; the USBD model runs on
 * the CPU thread inside machine_run. They share only what is here, under one
 * mutex:
 *   - worker -> CPU: a queue of requests (submit a URB, cancel one, reset the
 *     device) and an eventfd the run loop watches (soc_watch_fd);
 *   - CPU -> worker: completed URBs go to their client's reap list (async
 *     URBs) or are handed to a callback that wakes the worker (synchronous
 *     ioctls);
 *   - poll() readiness of the device node, kept like the kernel's usbfs:
 *     writable exactly while some completed URB waits to be reaped. The node
 *     is a FIFO the bridge keeps full (not writable) and drains (writable),
 *     counted across all clients of the device (umockdev 0.17's behaviour,
 *     measured). A device that is gone has its node's permission bits
 *     dropped to 0 at once. The clients' preload relies on both
 *     (usbfs_preload.c). A file with a shared area (usbfs_inline.h) has
 *     its completions published to its client, which reaps them itself
 *     and fills the FIFO when it took the last; the worker lets go of
 *     those URBs (urbq_shm_sync) and puts the FIFO right from the count
 *     (usbdev_fifo_resync) when it hears of it.
 * Fields are marked with the thread that owns them; "locked" ones need the
 * mutex (urbq_lock). */
#ifndef EMU_BRIDGE_URB_H
#define EMU_BRIDGE_URB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "descriptors.h"
#include "profile.h"
#include "usbd_host.h"

struct urbq;
struct urb;
struct urb_owner;

/* One published device instance (one device number). Reference counted:
 * the bridge while it is attached, each client that opened it, each URB. */
struct usbdev {
    struct urbq *q;
    unsigned busnum, devnum;
    char devnode[32];                 /* /dev/bus/usb/001/002 */
    uint8_t device[USB_DT_DEVICE_SIZE];
    uint8_t *configs;                 /* every configuration, as the device answered */
    size_t configs_len;
    int fifo_fd;                      /* the node's FIFO, bridge end; -1 before it is published */
    /* locked */
    int refs;
    bool gone;                        /* disconnected, reset into another device, or removed */
    uint8_t config_value;             /* what the device was last told by SET_CONFIGURATION */
    uint8_t alts[HOST_MAX_INTERFACES]; /* alternate settings, by SET_INTERFACE */
    unsigned reapable;                /* completed URBs not yet reaped, all clients */
    struct urb_owner *claims[HOST_MAX_INTERFACES]; /* the client holding each interface, or NULL */
};

/* A client's URBs (one per open file of the node). */
struct urb_owner {
    struct usbdev *dev;               /* counted reference */
    /* locked */
    struct urb *pending;              /* submitted, not completed */
    struct urb *done, *done_tail;     /* completed, in completion order: REAPURB order */
    void *shm;                        /* the client's shared area (usbfs_inline.h), or NULL:
                                       * completions are published in its ring */
    uint32_t synced;                  /* ring entries whose URBs have left `done` */
    bool overflow;                    /* the ring was full: later completions not published */
};

enum urb_req_kind {
    URB_REQ_SUBMIT,                   /* hand u->x to the model */
    URB_REQ_CANCEL,                   /* withdraw it (DISCARDURB, timeout, client gone) */
    URB_REQ_RESET,                    /* USBDEVFS_RESET: u carries no transfer */
};

struct urb {
    struct usb_xfer x;                /* CPU thread from submit until completion */
    struct urbq *q;
    struct usbdev *dev;               /* counted reference */
    enum urb_req_kind purpose;        /* SUBMIT for transfers, RESET for a reset */
    uint8_t *buf;                     /* own copy of the client's buffer (control: setup + data) */
    uint32_t buf_len;
    uint32_t flags;                   /* USBDEVFS_URB_* */
    uint64_t user_addr;               /* the client's struct usbdevfs_urb (async) */
    void *sync;                       /* the waiting synchronous ioctl (usbfs), NULL for async */
    void (*destroy)(struct urb *u);   /* frees what usbfs hung on it; any thread, plain memory only */
    /* locked */
    int refs;
    struct urb_owner *owner;          /* async, while its client exists */
    struct urb *next;                 /* in owner->pending or owner->done */
    bool completed, discarding;
    int status;                       /* URB status: 0 or -errno */
    uint32_t actual;
    /* CPU thread */
    void *host;                       /* the bridge that submitted it */
    bool in_model, zlp_sent;
    uint32_t actual_before_zlp;
    /* worker thread */
    void *umock_urb, *umock_buf;      /* UMockdevIoctlData of the client's urb and buffer */
    uint32_t umock_urb_off;           /* where the urb starts in umock_urb: 0, or in the preload's
                                       * block (usbfs_inline.h), which holds the buffer too */
    uint32_t shm_slot;                /* 1 + its slot in the client's shared area
                                       * (usbfs_inline.h), 0 if it came another way */
    /* each stamp by the thread profile.h names, ordered by the lock's hand-overs */
    struct urb_prof prof;
};

struct urb_req {
    enum urb_req_kind kind;
    struct urb *urb;                  /* counted reference */
    struct urb_req *next;
};

/* sync_done runs on the CPU thread, outside the lock, with a reference on u
 * that the callee owns (it wakes the worker, which drops it). */
struct urbq *urbq_new(void (*sync_done)(void *ctx, struct urb *u), void *ctx);
void urbq_free(struct urbq *q);
int urbq_eventfd(const struct urbq *q);
void urbq_lock(struct urbq *q);
void urbq_unlock(struct urbq *q);

struct usbdev *usbdev_new(struct urbq *q, unsigned busnum, unsigned devnum, const uint8_t *device,
                          const uint8_t *configs, size_t configs_len, uint8_t config_value);
void usbdev_ref(struct usbdev *d);
void usbdev_unref(struct usbdev *d);
/* The FIFO is published: from now on its readiness follows `reapable`. */
void usbdev_set_fifo(struct usbdev *d, int fd);
/* Gone: new URBs fail with ENODEV, REAPURB says ENODEV once nothing is
 * left; the node's mode becomes 0 (urb.h). Call it before the URBs in
 * flight complete with ENODEV, as usbfs marks a file disconnected before
 * it kills its URBs: a client that reaps them then gets ENODEV. */
void usbdev_mark_gone(struct usbdev *d);
bool usbdev_is_gone(struct usbdev *d);

/* NULL: out of memory, or the URBs that exist hold 16 MiB already (as
 * Linux's usbfs_memory_mb limit: the caller answers ENOMEM). */
struct urb *urb_new(struct urbq *q, struct usbdev *dev, uint32_t buf_len);
void urb_ref(struct urb *u);
void urb_unref(struct urb *u);

/* Worker: queue a request for the CPU thread (takes its own reference).
 * SUBMIT with an owner also puts u on owner->pending. */
void urbq_post(struct urbq *q, enum urb_req_kind kind, struct urb *u, struct urb_owner *owner);

/* CPU thread: the next request, or NULL. Put one back at the head with
 * urbq_putback (its turn has not come); urbq_req_free when done with it. */
struct urb_req *urbq_take(struct urbq *q);
void urbq_putback(struct urbq *q, struct urb_req *r);
void urbq_req_free(struct urb_req *r);
/* CPU thread: clears the eventfd (call before draining the queue). */
void urbq_clear_wakeup(struct urbq *q);

/* CPU thread: the transfer is over (status 0 or -errno). Async URBs become
 * reapable; synchronous ones go to sync_done. Drops the reference the
 * SUBMIT request gave the CPU side. */
void urbq_complete(struct urbq *q, struct urb *u, int status, uint32_t actual);

/* Worker: the oldest completed URB of this client, taken off its list (the
 * caller gets the list's reference), or NULL. */
struct urb *urbq_reap(struct urbq *q, struct urb_owner *o);
/* Worker, for a file with a shared area: lets go of the URBs whose ring
 * entries its client reaped itself (their profile gets the client's stamp). */
void urbq_shm_sync(struct urbq *q, struct urb_owner *o);
/* Worker: the node's readiness from the count, once every file with an
 * area is synced (a client fills the FIFO itself when it reaps its last
 * completion, which is wrong while another file's completion waits). */
void usbdev_fifo_resync(struct usbdev *d);
/* Worker, the same file: the URB of the ring's next entry, taken as the
 * client takes them; past an overflow, the oldest completed. NULL: none. */
struct urb *urbq_shm_reap(struct urbq *q, struct urb_owner *o);
/* Worker: DISCARDURB. 0 if a cancel was queued, -EINVAL if there is no such
 * URB in flight (already completed, or never submitted). */
int urbq_discard(struct urbq *q, struct urb_owner *o, uint64_t user_addr);
/* Worker: the client is gone: its URBs in flight are cancelled and
 * forgotten, its completed ones dropped, its interfaces released. forget
 * runs under the lock for each URB let go (to drop what the worker hung on
 * it). */
void urbq_owner_release(struct urbq *q, struct urb_owner *o, void (*forget)(struct urb *u));

/* The URB status a model result becomes (what Linux host controllers report). */
int urb_status_of(enum usb_xfer_status st, bool host_resetting);

#endif
