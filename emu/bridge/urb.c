/* URB bookkeeping between the worker and the CPU thread: see urb.h. */
#include "urb.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usbfs_inline.h"

/* What all URBs may hold at once, like Linux's usbfs_memory_mb (16 MiB):
 * a client that submits without reaping gets ENOMEM, not our memory. */
#define URB_MEMORY_LIMIT (16u << 20)

struct urbq {
    pthread_mutex_t lock;
    int efd;
    size_t bytes;                      /* charged by the URBs that exist */
    struct urb_req *head, *tail;
    void (*sync_done)(void *ctx, struct urb *u);
    void *ctx;
};

struct urbq *urbq_new(void (*sync_done)(void *ctx, struct urb *u), void *ctx)
{
    struct urbq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->lock, NULL);
    q->sync_done = sync_done;
    q->ctx = ctx;
    return q;
}

void urbq_free(struct urbq *q)
{
    if (!q)
        return;
    struct urb_req *r;
    while ((r = urbq_take(q)))
        urbq_req_free(r);
    close(q->efd);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int urbq_eventfd(const struct urbq *q)
{
    return q->efd;
}

void urbq_lock(struct urbq *q)
{
    pthread_mutex_lock(&q->lock);
}

void urbq_unlock(struct urbq *q)
{
    pthread_mutex_unlock(&q->lock);
}

static void wake_cpu(struct urbq *q)
{
    uint64_t one = 1;
    ssize_t n = write(q->efd, &one, sizeof one);
    (void)n;   /* EAGAIN: the counter is already non-zero, the CPU will look */
}

void urbq_clear_wakeup(struct urbq *q)
{
    uint64_t v;
    ssize_t n = read(q->efd, &v, sizeof v);
    (void)n;
}

/* ---- the node's readiness ---- */

/* ready: drain the FIFO (writable, POLLOUT); not ready: fill it. The pipe
 * has one page slot (F_SETPIPE_SZ 4096), so one byte makes it full for
 * poll(), and one read empties it: a syscall per change. */
static void fifo_ready(struct usbdev *d, bool ready)
{
    if (d->fifo_fd < 0)
        return;
    uint8_t buf[4096];
    if (ready) {
        while (read(d->fifo_fd, buf, sizeof buf) == (ssize_t)sizeof buf)
            ;
    } else {
        buf[0] = 0;
        ssize_t n = write(d->fifo_fd, buf, 1);
        (void)n;                      /* EAGAIN: full already */
    }
}

static void reapable_add(struct usbdev *d, int delta)
{
    unsigned before = d->reapable;
    d->reapable = (unsigned)((int)d->reapable + delta);
    if (before == 0 && d->reapable > 0)
        fifo_ready(d, true);
    else if (before > 0 && d->reapable == 0)
        fifo_ready(d, false);
}

/* ---- devices ---- */

struct usbdev *usbdev_new(struct urbq *q, unsigned busnum, unsigned devnum, const uint8_t *device,
                          const uint8_t *configs, size_t configs_len, uint8_t config_value)
{
    struct usbdev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->configs = malloc(configs_len ? configs_len : 1);
    if (!d->configs) {
        free(d);
        return NULL;
    }
    memcpy(d->configs, configs, configs_len);
    d->configs_len = configs_len;
    memcpy(d->device, device, USB_DT_DEVICE_SIZE);
    d->q = q;
    d->busnum = busnum;
    d->devnum = devnum;
    snprintf(d->devnode, sizeof d->devnode, "/dev/bus/usb/%03u/%03u", busnum, devnum);
    d->fifo_fd = -1;
    d->refs = 1;
    d->config_value = config_value;
    return d;
}

void usbdev_ref(struct usbdev *d)
{
    urbq_lock(d->q);
    d->refs++;
    urbq_unlock(d->q);
}

void usbdev_unref(struct usbdev *d)
{
    if (!d)
        return;
    urbq_lock(d->q);
    bool last = --d->refs == 0;
    urbq_unlock(d->q);
    if (!last)
        return;
    if (d->fifo_fd >= 0)
        close(d->fifo_fd);
    free(d->configs);
    free(d);
}

void usbdev_set_fifo(struct usbdev *d, int fd)
{
    urbq_lock(d->q);
    d->fifo_fd = fd;
    fifo_ready(d, d->reapable > 0);
    urbq_unlock(d->q);
}

void usbdev_mark_gone(struct usbdev *d)
{
    urbq_lock(d->q);
    d->gone = true;
    /* the clients' preload sees this at once (usbfs_preload.c); the node
     * itself disappears later, with the testbed's record */
    if (d->fifo_fd >= 0 && fchmod(d->fifo_fd, 0) != 0)
        fprintf(stderr, "usb: cannot mark %s gone: %s\n", d->devnode, strerror(errno));
    urbq_unlock(d->q);
}

bool usbdev_is_gone(struct usbdev *d)
{
    urbq_lock(d->q);
    bool gone = d->gone;
    urbq_unlock(d->q);
    return gone;
}

/* ---- URBs ---- */

static size_t charge(uint32_t buf_len)
{
    return sizeof(struct urb) + buf_len;
}

struct urb *urb_new(struct urbq *q, struct usbdev *dev, uint32_t buf_len)
{
    urbq_lock(q);
    bool room = q->bytes + charge(buf_len) <= URB_MEMORY_LIMIT;
    if (room)
        q->bytes += charge(buf_len);
    urbq_unlock(q);
    if (!room)
        return NULL;
    struct urb *u = calloc(1, sizeof *u);
    if (u && !(u->buf = malloc(buf_len ? buf_len : 1))) {
        free(u);
        u = NULL;
    }
    if (!u) {
        urbq_lock(q);
        q->bytes -= charge(buf_len);
        urbq_unlock(q);
        return NULL;
    }
    u->buf_len = buf_len;
    u->q = q;
    u->dev = dev;
    usbdev_ref(dev);
    u->refs = 1;
    u->purpose = URB_REQ_SUBMIT;
    return u;
}

static void urb_free(struct urb *u)
{
    struct urbq *q = u->q;
    size_t bytes = charge(u->buf_len);
    if (u->destroy)
        u->destroy(u);
    usbdev_unref(u->dev);
    free(u->buf);
    free(u);
    urbq_lock(q);
    q->bytes -= bytes;
    urbq_unlock(q);
}

void urb_ref(struct urb *u)
{
    urbq_lock(u->q);
    u->refs++;
    urbq_unlock(u->q);
}

void urb_unref(struct urb *u)
{
    if (!u)
        return;
    urbq_lock(u->q);
    bool last = --u->refs == 0;
    urbq_unlock(u->q);
    if (last)
        urb_free(u);
}

/* Under the lock: drop a reference, collecting the URB on `dead` (linked
 * through next) if it was the last, to be freed after unlocking. */
static void unref_locked(struct urb *u, struct urb **dead)
{
    if (--u->refs == 0) {
        u->next = *dead;
        *dead = u;
    }
}

static void free_dead(struct urb *dead)
{
    while (dead) {
        struct urb *next = dead->next;
        urb_free(dead);
        dead = next;
    }
}

static void push_req_locked(struct urbq *q, struct urb_req *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

void urbq_post(struct urbq *q, enum urb_req_kind kind, struct urb *u, struct urb_owner *owner)
{
    struct urb_req *r = malloc(sizeof *r);
    urbq_lock(q);
    if (kind == URB_REQ_SUBMIT && owner) {
        u->owner = owner;
        u->next = owner->pending;
        owner->pending = u;
        u->refs++;
    }
    if (r) {
        r->kind = kind;
        r->urb = u;
        u->refs++;
        push_req_locked(q, r);
    }
    urbq_unlock(q);
    if (r)
        wake_cpu(q);
    else if (kind == URB_REQ_SUBMIT)
        urbq_complete(q, (urb_ref(u), u), -ENOMEM, 0);   /* out of memory: the URB fails at once */
}

struct urb_req *urbq_take(struct urbq *q)
{
    urbq_lock(q);
    struct urb_req *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    urbq_unlock(q);
    return r;
}

void urbq_putback(struct urbq *q, struct urb_req *r)
{
    urbq_lock(q);
    r->next = q->head;
    q->head = r;
    if (!q->tail)
        q->tail = r;
    urbq_unlock(q);
}

void urbq_req_free(struct urb_req *r)
{
    if (!r)
        return;
    urb_unref(r->urb);
    free(r);
}

static void unlink_pending(struct urb_owner *o, struct urb *u)
{
    for (struct urb **pp = &o->pending; *pp; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            u->next = NULL;
            return;
        }
    }
}

/* ---- the shared area (usbfs_inline.h) ---- */

/* Under the lock: a completed URB of a file with a shared area. Its results
 * go into its slot (status, length, IN data, as the reap would write them)
 * and the completion into the ring, in completion order, so that the
 * client can reap it without asking. A full ring (hundreds of URBs without
 * a slot left unreaped) stops publishing until the worker has reaped
 * everything the ring missed. */
static void publish_locked(struct urb_owner *o, struct urb *u)
{
    struct usbfs_shm_head *h = o->shm;
    if (u->shm_slot) {
        struct usbfs_shm_slot *s = usbfs_shm_slot(h, u->shm_slot - 1);
        bool control = u->buf_len >= 8 && u->x.buf == u->buf + 8;   /* as usbfs.c lays a control URB out */
        bool in = control ? (u->x.setup[0] & USB_DIR_MASK) == USB_DIR_IN : (u->x.ep & USB_EP_DIR_IN) != 0;
        uint32_t off = control ? 8 : 0;
        if (in && u->actual && off + u->actual <= USBFS_SHM_DATA && off + u->actual <= u->buf_len)
            memcpy(s->data + off, u->buf + off, u->actual);
        s->urb.status = u->status;
        s->urb.actual_length = (int)u->actual;
        s->urb.error_count = 0;
    }
    uint32_t tail = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);   /* written here only */
    if (!o->overflow && tail - o->synced < USBFS_SHM_RING) {
        struct usbfs_shm_ring_entry *e = &h->ring[tail % USBFS_SHM_RING];
        e->slot = u->shm_slot ? u->shm_slot - 1 : USBFS_SHM_PLAIN;
        e->reaped_ns = 0;
        __atomic_store_n(&h->tail, tail + 1, __ATOMIC_RELEASE);
    } else {
        o->overflow = true;
        __atomic_or_fetch(&h->flags, USBFS_SHM_OVERFLOW, __ATOMIC_RELEASE);
    }
}

/* Under the lock: the oldest of o's completed URBs off its list (the
 * caller gets the list's reference). */
static struct urb *pop_done_locked(struct urb_owner *o)
{
    struct urb *u = o->done;
    if (u) {
        o->done = u->next;
        if (!o->done)
            o->done_tail = NULL;
        u->next = NULL;
        u->owner = NULL;
        reapable_add(u->dev, -1);
    }
    return u;
}

/* Under the lock: the URBs of the ring entries [synced, upto), which the
 * client took, leave `done` (in the same order: each completion was
 * published as it joined the list). */
static void shm_sync_locked(struct urb_owner *o, uint32_t upto, struct urb **dead)
{
    struct usbfs_shm_head *h = o->shm;
    while (o->synced != upto && o->done) {
        struct urb *u = pop_done_locked(o);
        uint64_t t = __atomic_load_n(&h->ring[o->synced % USBFS_SHM_RING].reaped_ns, __ATOMIC_RELAXED);
        u->prof.reap_in = t;
        prof_record_at(&u->prof, t);
        o->synced++;
        unref_locked(u, dead);
    }
    __atomic_store_n(&h->synced, o->synced, __ATOMIC_RELEASE);
}

void urbq_shm_sync(struct urbq *q, struct urb_owner *o)
{
    struct urb *dead = NULL;
    urbq_lock(q);
    if (o->shm)
        shm_sync_locked(o, __atomic_load_n(&((struct usbfs_shm_head *)o->shm)->head, __ATOMIC_ACQUIRE), &dead);
    urbq_unlock(q);
    free_dead(dead);
}

void usbdev_fifo_resync(struct usbdev *d)
{
    urbq_lock(d->q);
    fifo_ready(d, d->reapable > 0);
    urbq_unlock(d->q);
}

struct urb *urbq_shm_reap(struct urbq *q, struct urb_owner *o)
{
    struct urb *dead = NULL, *u = NULL;
    struct usbfs_shm_head *h = o->shm;
    urbq_lock(q);
    for (;;) {
        uint32_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
        shm_sync_locked(o, head, &dead);
        if (head != __atomic_load_n(&h->tail, __ATOMIC_RELAXED)) {
            /* take the entry as a client thread would: whoever wins reaps it */
            if (!__atomic_compare_exchange_n(&h->head, &head, head + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue;
            u = pop_done_locked(o);
            o->synced++;
            __atomic_store_n(&h->synced, o->synced, __ATOMIC_RELEASE);
            break;
        }
        if (o->overflow) {
            u = pop_done_locked(o);   /* those the ring missed, oldest first */
            if (!o->done) {
                o->overflow = false;
                __atomic_and_fetch(&h->flags, ~USBFS_SHM_OVERFLOW, __ATOMIC_RELEASE);
            }
        }
        break;
    }
    urbq_unlock(q);
    free_dead(dead);
    return u;
}

void urbq_complete(struct urbq *q, struct urb *u, int status, uint32_t actual)
{
    struct urb *dead = NULL;
    bool notify = false;
    urbq_lock(q);
    u->completed = true;
    u->status = status;
    u->actual = actual;
    if (u->owner) {
        struct urb_owner *o = u->owner;
        unlink_pending(o, u);
        u->next = NULL;
        if (o->done_tail)
            o->done_tail->next = u;
        else
            o->done = u;
        o->done_tail = u;
        reapable_add(u->dev, +1);
        if (o->shm)
            publish_locked(o, u);
    } else if (u->sync) {
        u->refs++;
        notify = true;
    }
    unref_locked(u, &dead);            /* the CPU side's reference */
    urbq_unlock(q);
    if (notify)
        q->sync_done(q->ctx, u);
    free_dead(dead);
}

struct urb *urbq_reap(struct urbq *q, struct urb_owner *o)
{
    urbq_lock(q);
    struct urb *u = pop_done_locked(o);
    urbq_unlock(q);
    return u;
}

int urbq_discard(struct urbq *q, struct urb_owner *o, uint64_t user_addr)
{
    struct urb_req *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    urbq_lock(q);
    struct urb *u = o->pending;
    while (u && u->user_addr != user_addr)
        u = u->next;
    if (!u || u->discarding) {
        urbq_unlock(q);
        free(r);
        return u ? 0 : -EINVAL;
    }
    u->discarding = true;
    r->kind = URB_REQ_CANCEL;
    r->urb = u;
    u->refs++;
    push_req_locked(q, r);
    urbq_unlock(q);
    wake_cpu(q);
    return 0;
}

void urbq_owner_release(struct urbq *q, struct urb_owner *o, void (*forget)(struct urb *u))
{
    struct urb *dead = NULL;
    bool posted = false;
    urbq_lock(q);
    while (o->pending) {
        struct urb *u = o->pending;
        o->pending = u->next;
        u->next = NULL;
        u->owner = NULL;
        if (forget)
            forget(u);
        struct urb_req *r = u->completed ? NULL : malloc(sizeof *r);
        if (r) {
            r->kind = URB_REQ_CANCEL;
            r->urb = u;
            u->refs++;
            push_req_locked(q, r);
            posted = true;
        }
        unref_locked(u, &dead);
    }
    for (struct urb *u; (u = pop_done_locked(o));) {
        if (forget)
            forget(u);
        unref_locked(u, &dead);
    }
    if (o->dev) {
        for (unsigned i = 0; i < HOST_MAX_INTERFACES; i++) {
            if (o->dev->claims[i] == o)
                o->dev->claims[i] = NULL;
        }
    }
    urbq_unlock(q);
    if (posted)
        wake_cpu(q);
    free_dead(dead);
}

int urb_status_of(enum usb_xfer_status st, bool host_resetting)
{
    switch (st) {
    case USB_XFER_OK: return 0;
    case USB_XFER_STALL: return -EPIPE;
    case USB_XFER_CANCELLED: return -ENOENT;
    /* A reset the host asked for kills URBs like usb_kill_urb (-ENOENT); a
     * device that went away gives -ENODEV, which libusb reports as
     * LIBUSB_TRANSFER_NO_DEVICE. */
    case USB_XFER_DISCONNECTED: return host_resetting ? -ENOENT : -ENODEV;
    case USB_XFER_OVERFLOW: return -EOVERFLOW;
    case USB_XFER_PENDING: break;
    }
    return -EINPROGRESS;
}
