/* usbfs ioctl handling on umockdev's worker thread: see usbfs.h.
 *
 * Every argument comes from a client process and is untrusted: sizes are
 * bounded before anything is resolved (umockdev copies what is resolved),
 * and a pointer the client's preload cannot read ends that client, not us
 * (resolve fails here and the ioctl is answered EFAULT). The kernel
 * behaviour copied is devio.c's (Linux 6.16): proc_do_submiturb,
 * check_ctrlrecip, findintfep, checkintf/claimintf (their argument rules are
 * in usbfs_rules.c), proc_setconfig, usb_set_interface, usb_clear_halt.
 * Where it differs from Linux: isochronous URBs are refused (ENXIO, see
 * usbfs_rules.h), completion signals (signr) are refused with EINVAL, and a
 * control URB's buffer counts whole against the 16 MiB limit. */
#include "usbfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/ioctl.h>   /* _IOR and friends, which usbdevice_fs.h uses without including */
#include <linux/usbdevice_fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <umockdev.h>

#include "descriptors.h"
#include "handoff.h"
#include "usbfs_inline.h"
#include "usbfs_rules.h"

#define DEFERRED INT_MAX                /* dispatch(): the answer comes later (never a result) */
#define MAX_URB_BYTES (16u << 20)       /* Linux's default usbfs_memory_mb */
#define USBFS_XFER_MAX (UINT32_MAX / 2 - 1000000)   /* devio.c: larger lengths are EINVAL */
#define URB_STRUCT_BYTES 192            /* sizeof(struct urb) on x86-64: do_proc_bulk's length limit */
#define CTRL_SET_TIMEOUT_MS 5000        /* Linux USB_CTRL_SET_TIMEOUT */
#define USBFS_SPEED_FULL 2                /* linux/usb/ch9.h */
#define MAX_UNKNOWN_LOGGED 64

#define CAPS (USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT)
#define URB_FLAGS_ALLOWED (USBDEVFS_URB_SHORT_NOT_OK | USBDEVFS_URB_BULK_CONTINUATION | USBDEVFS_URB_NO_FSBR | \
                           USBDEVFS_URB_ZERO_PACKET | USBDEVFS_URB_NO_INTERRUPT)
#define URB_FLAGS_ALLOWED_ISO (URB_FLAGS_ALLOWED | USBDEVFS_URB_ISO_ASAP)

struct usbfs {
    struct urbq *q;
    FILE *log;
    GMainContext *worker;               /* umockdev's, seen at the first ioctl */
    GMutex unknown_lock;
    unsigned long unknown[MAX_UNKNOWN_LOGGED];
    unsigned n_unknown;
    guint log_handler;
    /* worker only: the pipe clients with a shared area write a byte into
     * after reaping from it, and those clients */
    int kick_r, kick_w;
    GSource *kick_src;
    struct client *shm_clients;
};

struct handler_ctx {
    struct usbfs *fs;
    struct usbdev *dev;
};

/* One open file of the node (one UMockdevIoctlClient). */
struct client {
    struct usbfs *fs;
    struct urb_owner o;
    uint64_t read_pos;
    struct client *next_shm;            /* in fs->shm_clients, while o.shm is set */
};

enum op_kind { OP_CONTROL, OP_BULK, OP_CLEAR_HALT, OP_SETINTERFACE, OP_SETCONFIG, OP_RESET };

/* A synchronous ioctl waiting for its transfer (lives inside its urb). */
struct sync_op {
    struct usbfs *fs;
    struct client *c;
    struct urb *u;
    UMockdevIoctlClient *cl;            /* until answered */
    UMockdevIoctlData *data;            /* CONTROL/BULK: the client's buffer, for IN data */
    GSource *timer;
    enum op_kind kind;
    uint32_t data_offset;               /* where the data stage starts in u->buf */
    bool in;
    uint8_t ifnum;
};

/* ---- helpers ---- */

static void answer(UMockdevIoctlClient *cl, long r)
{
    if (r < 0)
        umockdev_ioctl_client_complete(cl, -1, (int)-r);
    else
        umockdev_ioctl_client_complete(cl, r, 0);
}

/* The client memory at the pointer stored at offset `off` of d, len bytes;
 * NULL with *err = -EFAULT if it cannot be read (or is NULL with len > 0). */
static UMockdevIoctlData *resolve(UMockdevIoctlData *d, size_t off, size_t len, int *err)
{
    GError *e = NULL;
    UMockdevIoctlData *r = umockdev_ioctl_data_resolve(d, off, len, &e);
    if (!r && len > 0) {
        g_clear_error(&e);
        *err = -EFAULT;
        return NULL;
    }
    g_clear_error(&e);
    return r;
}

static unsigned long arg_value(UMockdevIoctlData *arg)
{
    unsigned long v = 0;
    if (arg && arg->data_len >= (int)sizeof v)
        memcpy(&v, arg->data, sizeof v);
    return v;
}

static void log_unknown(struct usbfs *fs, unsigned long req)
{
    g_mutex_lock(&fs->unknown_lock);
    bool seen = false;
    for (unsigned i = 0; i < fs->n_unknown; i++)
        seen |= fs->unknown[i] == req;
    bool full = !seen && fs->n_unknown == MAX_UNKNOWN_LOGGED;
    if (!seen && !full)
        fs->unknown[fs->n_unknown++] = req;
    g_mutex_unlock(&fs->unknown_lock);
    if (seen || full)
        return;                         /* once per request code; a flood of codes stops at 64 */
    int type = (int)((req >> 8) & 0xFF);
    fprintf(fs->log, "usb: ioctl 0x%08lx (type '%c', number %lu, %lu bytes) is not emulated: ENOTTY\n", req,
            type >= 0x20 && type < 0x7F ? type : '?', req & 0xFF, (req >> 16) & 0x3FFF);
}

/* Under the lock: the active configuration, NULL when unconfigured. */
static const uint8_t *active_config_locked(struct usbdev *d, size_t *len)
{
    if (d->config_value == 0)
        return NULL;
    return usbdesc_config_by_value(d->configs, d->configs_len, d->config_value, len);
}

/* Under the lock: the device as usbfs_rules.h sees it. */
static struct usbfs_view view_locked(struct usbdev *d)
{
    struct usbfs_view v = { .alts = d->alts };
    v.config = active_config_locked(d, &v.config_len);
    return v;
}

/* checkintf + claimintf: an unclaimed interface is claimed for the client
 * on first use, as usbfs does. */
static int check_intf(struct client *c, unsigned ifnum)
{
    struct usbdev *d = c->o.dev;
    urbq_lock(d->q);
    struct usbfs_view v = view_locked(d);
    struct urb_owner *holder = ifnum < HOST_MAX_INTERFACES ? d->claims[ifnum] : NULL;
    int r = usbfs_checkintf(&v, ifnum, !holder ? USBFS_FREE : holder == &c->o ? USBFS_MINE : USBFS_OTHER);
    if (r == 0 && !holder)
        d->claims[ifnum] = &c->o;
    urbq_unlock(d->q);
    return r;
}

/* findintfep, then checkintf on the interface found: what every ioctl
 * naming an endpoint does first (the endpoint may be in any alternate
 * setting). */
static int check_endpoint(struct client *c, unsigned ep)
{
    struct usbdev *d = c->o.dev;
    urbq_lock(d->q);
    struct usbfs_view v = view_locked(d);
    int r = usbfs_findintfep(&v, ep);
    urbq_unlock(d->q);
    return r < 0 ? r : check_intf(c, (unsigned)r);
}

static bool interface_exists(struct usbdev *d, unsigned ifnum, unsigned *alts)
{
    urbq_lock(d->q);
    size_t len;
    const uint8_t *cfg = active_config_locked(d, &len);
    unsigned n = cfg && ifnum < HOST_MAX_INTERFACES ? usbdesc_alt_count(cfg, len, (uint8_t)ifnum) : 0;
    urbq_unlock(d->q);
    if (alts)
        *alts = n;
    return n > 0;
}

/* check_ctrlrecip: vendor requests and requests to the device or to EP0 go
 * through; one to an interface, or to an endpoint of any alternate setting
 * of the active configuration, needs that interface (claimed on first use). */
static int check_ctrlrecip(struct client *c, uint8_t type, uint8_t request, uint16_t windex)
{
    struct usbdev *d = c->o.dev;
    int ifnum;
    urbq_lock(d->q);
    struct usbfs_view v = view_locked(d);
    int r = usbfs_ctrlrecip(&v, type, request, windex, &ifnum);
    urbq_unlock(d->q);
    return r || ifnum < 0 ? r : check_intf(c, (unsigned)ifnum);
}

/* usbfs_rules.h's endpoint checks on the device as it is now (they take the lock). */
static int check_urb_endpoint(struct client *c, unsigned type, uint8_t ep, int packets, struct usb_ep_info *info)
{
    struct usbdev *d = c->o.dev;
    urbq_lock(d->q);
    struct usbfs_view v = view_locked(d);
    int r = usbfs_urb_endpoint(&v, type, ep, packets, info);
    urbq_unlock(d->q);
    return r;
}

static int check_bulk_endpoint(struct client *c, unsigned ep, struct usb_ep_info *info)
{
    struct usbdev *d = c->o.dev;
    urbq_lock(d->q);
    struct usbfs_view v = view_locked(d);
    int r = usbfs_bulk_endpoint(&v, ep, info);
    urbq_unlock(d->q);
    return r;
}

/* ---- clients ---- */

static void forget_worker_refs(struct urb *u)
{
    g_clear_object((UMockdevIoctlData **)&u->umock_urb);
    g_clear_object((UMockdevIoctlData **)&u->umock_buf);
}

/* The IoctlClient was finalized: its file is closed (umockdev 0.17 never
 * emits client-vanished). */
static void client_destroy(gpointer p)
{
    struct client *c = p;
    urbq_owner_release(c->fs->q, &c->o, forget_worker_refs);
    usbdev_unref(c->o.dev);
    if (c->o.shm) {
        for (struct client **pp = &c->fs->shm_clients; *pp; pp = &(*pp)->next_shm) {
            if (*pp == c) {
                *pp = c->next_shm;
                break;
            }
        }
        /* released above: no URB names the owner, so the CPU thread no longer writes it */
        munmap(c->o.shm, USBFS_SHM_SIZE);
    }
    free(c);
}

static struct client *client_of(struct handler_ctx *hc, UMockdevIoctlClient *cl)
{
    struct client *c = g_object_get_data(G_OBJECT(cl), "hilda-usbfs");
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fs = hc->fs;
    c->o.dev = hc->dev;
    usbdev_ref(hc->dev);
    g_object_set_data_full(G_OBJECT(cl), "hilda-usbfs", c, client_destroy);
    return c;
}

/* ---- synchronous ioctls ---- */

static void op_destroy(struct urb *u)
{
    free(u->sync);
}

/* Answers the ioctl (once) and drops the reference its creator held. */
static void op_answer(struct sync_op *op, long r)
{
    UMockdevIoctlClient *cl = op->cl;
    struct urb *u = op->u;
    op->cl = NULL;
    if (op->timer) {
        g_source_destroy(op->timer);
        g_source_unref(op->timer);
        op->timer = NULL;
    }
    g_clear_object(&op->data);
    answer(cl, r);
    g_object_unref(cl);
    urb_unref(u);
}

static void release_claims(struct usbdev *d)
{
    urbq_lock(d->q);
    memset(d->claims, 0, sizeof d->claims);
    urbq_unlock(d->q);
}

static long op_result(struct sync_op *op, int status, uint32_t actual)
{
    switch (op->kind) {
    case OP_CONTROL:
    case OP_BULK:
        if (status)
            return status;
        if (op->in && op->data && actual)
            memcpy(op->data->data, op->u->buf + op->data_offset,
                   actual <= (uint32_t)op->data->data_len ? actual : (uint32_t)op->data->data_len);
        return actual;
    case OP_SETINTERFACE: {
        unsigned alts = 0;
        /* USB 2.0 §9.4.10: an interface with one setting may stall it (Linux accepts that) */
        if (status == -EPIPE && interface_exists(op->c->o.dev, op->ifnum, &alts) && alts == 1)
            return 0;
        return status;
    }
    case OP_RESET:
        release_claims(op->c->o.dev);   /* usbfs is unbound from every interface by a reset */
        return status;
    default:
        return status;
    }
}

static gboolean sync_finish(gpointer p)
{
    struct urb *u = p;
    struct sync_op *op = u->sync;
    if (op->cl) {
        urbq_lock(u->q);
        int status = u->status;
        uint32_t actual = u->actual;
        urbq_unlock(u->q);
        op_answer(op, op_result(op, status, actual));
    }
    urb_unref(u);
    return G_SOURCE_REMOVE;
}

void usbfs_sync_done(void *ctx, struct urb *u)
{
    struct usbfs *fs = ctx;
    g_main_context_invoke_full(g_atomic_pointer_get(&fs->worker), G_PRIORITY_DEFAULT, sync_finish, u, NULL);
}

static gboolean sync_timeout(gpointer p)
{
    struct sync_op *op = p;
    if (!op->cl)
        return G_SOURCE_REMOVE;
    struct urb *u = op->u;
    urb_ref(u);
    urbq_post(op->fs->q, URB_REQ_CANCEL, u, NULL);   /* like usb_kill_urb after the wait */
    op_answer(op, -ETIMEDOUT);
    urb_unref(u);
    return G_SOURCE_REMOVE;
}

/* Hands u to the CPU thread; the ioctl is answered when it completes (or
 * after timeout_ms of real time; 0: no time limit, as in Linux). */
static int start_sync(struct client *c, UMockdevIoctlClient *cl, struct urb *u, enum op_kind kind,
                      unsigned timeout_ms, UMockdevIoctlData *data, bool in, uint32_t data_offset, uint8_t ifnum)
{
    struct sync_op *op = calloc(1, sizeof *op);
    if (!op) {
        urb_unref(u);
        return -ENOMEM;
    }
    *op = (struct sync_op){ .fs = c->fs, .c = c, .u = u, .cl = g_object_ref(cl), .kind = kind, .in = in,
                            .data_offset = data_offset, .ifnum = ifnum };
    if (data)
        op->data = g_object_ref(data);
    u->sync = op;
    u->destroy = op_destroy;
    if (timeout_ms) {
        op->timer = g_timeout_source_new(timeout_ms);
        g_source_set_callback(op->timer, sync_timeout, op, NULL);
        g_source_attach(op->timer, g_main_context_get_thread_default());
    }
    urbq_post(c->fs->q, u->purpose, u, NULL);
    return DEFERRED;
}

static struct urb *control_urb(struct client *c, uint8_t type, uint8_t request, uint16_t value, uint16_t index,
                               uint16_t length)
{
    struct urb *u = urb_new(c->fs->q, c->o.dev, 8u + length);
    if (!u)
        return NULL;
    const struct usb_setup s = {
        .bmRequestType = type, .bRequest = request, .wValue = value, .wIndex = index, .wLength = length,
    };
    usb_setup_encode(&s, u->buf);
    memcpy(u->x.setup, u->buf, USB_SETUP_SIZE);
    u->x.ep = 0;
    u->x.buf = u->buf + 8;
    u->x.len = length;
    return u;
}

static int ioctl_control(struct client *c, UMockdevIoctlClient *cl, UMockdevIoctlData *arg)
{
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbdevfs_ctrltransfer), &err);
    if (!d)
        return err;
    struct usbdevfs_ctrltransfer ct;
    memcpy(&ct, d->data, sizeof ct);
    int r = check_ctrlrecip(c, ct.bRequestType, ct.bRequest, ct.wIndex);
    if (!r && ct.wLength > 4096)
        r = -EINVAL;                     /* do_proc_control takes at most a page */
    bool in = (ct.bRequestType & USB_DIR_MASK) == USB_DIR_IN && ct.wLength;
    UMockdevIoctlData *data = NULL;
    if (!r && ct.wLength)
        data = resolve(d, offsetof(struct usbdevfs_ctrltransfer, data), ct.wLength, &r);
    struct urb *u = r ? NULL : control_urb(c, ct.bRequestType, ct.bRequest, ct.wValue, ct.wIndex, ct.wLength);
    if (!r && !u)
        r = -ENOMEM;
    if (!r) {
        if (!in && data)
            memcpy(u->buf + 8, data->data, ct.wLength);
        r = start_sync(c, cl, u, OP_CONTROL, ct.timeout, data, in, 8, 0);
    }
    g_clear_object(&data);
    g_object_unref(d);
    return r;
}

static int ioctl_bulk(struct client *c, UMockdevIoctlClient *cl, UMockdevIoctlData *arg)
{
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbdevfs_bulktransfer), &err);
    if (!d)
        return err;
    struct usbdevfs_bulktransfer bt;
    memcpy(&bt, d->data, sizeof bt);
    struct usb_ep_info ep;
    /* do_proc_bulk: findintfep and checkintf, the length, the endpoint in
     * the current alternate setting, then the memory limit */
    int r = check_endpoint(c, bt.ep);
    if (!r && bt.len >= INT32_MAX - URB_STRUCT_BYTES)
        r = -EINVAL;
    if (!r)
        r = check_bulk_endpoint(c, bt.ep, &ep);
    if (!r && bt.len > MAX_URB_BYTES)
        r = -ENOMEM;
    bool in = (bt.ep & USB_EP_DIR_IN) != 0;
    UMockdevIoctlData *data = NULL;
    if (!r && bt.len)
        data = resolve(d, offsetof(struct usbdevfs_bulktransfer, data), bt.len, &r);
    struct urb *u = r ? NULL : urb_new(c->fs->q, c->o.dev, bt.len);
    if (!r && !u)
        r = -ENOMEM;
    if (!r) {
        if (!in && data)
            memcpy(u->buf, data->data, bt.len);
        u->x.ep = (uint8_t)bt.ep;
        u->x.buf = u->buf;
        u->x.len = bt.len;
        r = start_sync(c, cl, u, OP_BULK, bt.timeout, data, in, 0, 0);
    }
    g_clear_object(&data);
    g_object_unref(d);
    return r;
}

static int read_uint(UMockdevIoctlData *arg, unsigned *v)
{
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, sizeof *v, &err);
    if (!d)
        return err;
    memcpy(v, d->data, sizeof *v);
    g_object_unref(d);
    return 0;
}

static int ioctl_clear_halt(struct client *c, UMockdevIoctlClient *cl, UMockdevIoctlData *arg)
{
    unsigned epaddr;
    int r = read_uint(arg, &epaddr);
    if (r)
        return r;
    /* proc_clearhalt: the endpoint may be in any alternate setting */
    if ((r = check_endpoint(c, epaddr)))
        return r;
    /* CLEAR_FEATURE(ENDPOINT_HALT): the model resets its host toggle when it succeeds */
    struct urb *u = control_urb(c, USB_RT_ENDPOINT_OUT, USB_REQ_CLEAR_FEATURE, USB_FEATURE_ENDPOINT_HALT,
                                (uint16_t)epaddr, 0);
    return u ? start_sync(c, cl, u, OP_CLEAR_HALT, CTRL_SET_TIMEOUT_MS, NULL, false, 8, 0) : -ENOMEM;
}

static int ioctl_setinterface(struct client *c, UMockdevIoctlClient *cl, UMockdevIoctlData *arg)
{
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbdevfs_setinterface), &err);
    if (!d)
        return err;
    struct usbdevfs_setinterface si;
    memcpy(&si, d->data, sizeof si);
    g_object_unref(d);
    int r = check_intf(c, si.interface);
    if (r)
        return r;
    struct usbdev *dev = c->o.dev;
    urbq_lock(dev->q);
    size_t len;
    const uint8_t *cfg = active_config_locked(dev, &len);
    bool ok = cfg && si.altsetting <= 0xFF && usbdesc_has_alt(cfg, len, (uint8_t)si.interface, (uint8_t)si.altsetting);
    urbq_unlock(dev->q);
    if (!ok)
        return -EINVAL;
    struct urb *u = control_urb(c, USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE, (uint16_t)si.altsetting,
                                (uint16_t)si.interface, 0);
    if (!u)
        return -ENOMEM;
    return start_sync(c, cl, u, OP_SETINTERFACE, CTRL_SET_TIMEOUT_MS, NULL, false, 8, (uint8_t)si.interface);
}

static int ioctl_setconfiguration(struct client *c, UMockdevIoctlClient *cl, UMockdevIoctlData *arg)
{
    unsigned v;
    int r = read_uint(arg, &v);
    if (r)
        return r;
    int value = (int)v;
    if (value == -1)
        value = 0;                     /* "unconfigured" in libusb's terms */
    struct usbdev *d = c->o.dev;
    urbq_lock(d->q);
    bool claimed = false;
    for (unsigned i = 0; i < HOST_MAX_INTERFACES; i++)
        claimed |= d->claims[i] != NULL;
    size_t len;
    bool exists = value == 0 || (value > 0 && value <= 0xFF &&
                                 usbdesc_config_by_value(d->configs, d->configs_len, (uint8_t)value, &len));
    urbq_unlock(d->q);
    /* proc_setconfig: not while any interface is claimed, by anyone */
    if (claimed)
        return -EBUSY;
    if (!exists)
        return -EINVAL;
    struct urb *u = control_urb(c, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, (uint16_t)value, 0, 0);
    return u ? start_sync(c, cl, u, OP_SETCONFIG, CTRL_SET_TIMEOUT_MS, NULL, false, 8, 0) : -ENOMEM;
}

static int ioctl_reset(struct client *c, UMockdevIoctlClient *cl)
{
    struct urb *u = urb_new(c->fs->q, c->o.dev, 0);
    if (!u)
        return -ENOMEM;
    u->purpose = URB_REQ_RESET;
    return start_sync(c, cl, u, OP_RESET, 0, NULL, false, 0, 0);
}

/* ---- asynchronous URBs ---- */

/* proc_do_submiturb's checks of the urb, in its order, before anything of
 * the buffer is read. */
static int check_urb(struct client *c, const struct usbdevfs_urb *uu)
{
    int r = 0;
    struct usb_ep_info ep;
    bool control = uu->type == USBDEVFS_URB_TYPE_CONTROL;
    if (uu->flags & ~(unsigned)(uu->type == USBDEVFS_URB_TYPE_ISO ? URB_FLAGS_ALLOWED_ISO : URB_FLAGS_ALLOWED))
        r = -EINVAL;
    else if ((unsigned)uu->buffer_length >= USBFS_XFER_MAX || (uu->buffer_length > 0 && !uu->buffer))
        r = -EINVAL;
    else if (uu->signr)
        r = -EINVAL;                     /* completion signals are not emulated */
    else if (!(control && (uu->endpoint & ~USB_DIR_IN) == 0))
        r = check_endpoint(c, uu->endpoint);   /* findintfep: any alternate setting; claims the interface */
    if (!r)
        r = check_urb_endpoint(c, uu->type, uu->endpoint, uu->number_of_packets, &ep);   /* the current one */
    if (!r && control && uu->buffer_length < USB_SETUP_SIZE)
        r = -EINVAL;
    if (!r && (unsigned)uu->buffer_length > MAX_URB_BYTES)
        r = -ENOMEM;                     /* before anything is read: the client's buffer may not be that big */
    return r;
}

/* The rest of the checks, on the buffer (a control URB's SETUP packet),
 * then the URB goes to the CPU thread. ud (and bd, the buffer, or NULL)
 * are the client memory the reap writes into; on success the URB holds
 * our references to them, on failure the caller drops them. */
static int post_urb(struct client *c, const struct usbdevfs_urb *uu, const uint8_t *buf, uint64_t user_addr,
                    UMockdevIoctlData *ud, UMockdevIoctlData *bd, uint32_t urb_off, uint32_t shm_slot,
                    struct urb_prof prof)
{
    bool control = uu->type == USBDEVFS_URB_TYPE_CONTROL;
    uint16_t wlength = 0;
    int r = 0;
    if (control && !buf) {
        r = -EINVAL;                     /* not reached: check_urb wants 8 bytes at least */
    } else if (control) {
        const struct usb_setup s = usb_setup_decode(buf);
        wlength = s.wLength;
        if (wlength > uu->buffer_length - USB_SETUP_SIZE)
            r = -EINVAL;
        else
            r = check_ctrlrecip(c, s.bmRequestType, s.bRequest, s.wIndex);
    }
    struct urb *u = r ? NULL : urb_new(c->fs->q, c->o.dev, (uint32_t)uu->buffer_length);
    if (!r && !u)
        r = -ENOMEM;
    if (r)
        return r;
    if (uu->buffer_length > 0)
        memcpy(u->buf, buf, (size_t)uu->buffer_length);
    if (control) {
        memcpy(u->x.setup, u->buf, 8);
        u->x.ep = 0;
        u->x.buf = u->buf + 8;
        u->x.len = wlength;
    } else {
        u->x.ep = uu->endpoint;
        u->x.buf = u->buf;
        u->x.len = (uint32_t)uu->buffer_length;
    }
    u->flags = uu->flags;
    u->user_addr = user_addr;
    u->umock_urb = ud;                   /* our references move to the urb */
    u->umock_buf = bd;
    u->umock_urb_off = urb_off;
    u->shm_slot = shm_slot;
    u->prof = prof;
    u->prof.posted = prof_now();
    urbq_post(c->fs->q, URB_REQ_SUBMIT, u, &c->o);
    urb_unref(u);
    return 0;
}

static int submit_urb(struct client *c, UMockdevIoctlData *arg)
{
    struct urb_prof prof = { .submit_in = prof_now() };
    int err = 0;
    UMockdevIoctlData *ud = resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
    if (!ud)
        return err;
    struct usbdevfs_urb uu;
    memcpy(&uu, ud->data, sizeof uu);
    int r = check_urb(c, &uu);
    UMockdevIoctlData *bd = NULL;
    if (!r && uu.buffer_length > 0)
        bd = resolve(ud, offsetof(struct usbdevfs_urb, buffer), (size_t)uu.buffer_length, &r);
    prof.reads_done = prof_now();
    if (!r)
        r = post_urb(c, &uu, bd ? (const uint8_t *)bd->data : NULL, ud->client_addr, ud, bd, 0, 0, prof);
    if (r) {
        g_clear_object(&bd);
        g_object_unref(ud);
        return r;
    }
    /* Nothing goes back to the client at submit: forgetting the resolved
     * children (arg itself has no client memory, so no I/O) spares the
     * answer one main-loop iteration per level of them. */
    umockdev_ioctl_data_reload(arg, NULL);
    return 0;
}

/* The same from the preload's block (usbfs_inline.h): one read. */
static int submit_inline(struct client *c, UMockdevIoctlData *arg, size_t total)
{
    struct urb_prof prof = { .submit_in = prof_now() };
    if (total < USBFS_INLINE_HDR)
        return -EINVAL;
    int err = 0;
    UMockdevIoctlData *block = resolve(arg, 0, total, &err);
    if (!block)
        return err;
    prof.reads_done = prof_now();
    struct usbdevfs_urb uu;
    uint64_t magic, user_addr;
    memcpy(&magic, block->data, sizeof magic);
    memcpy(&user_addr, block->data + USBFS_INLINE_ADDR_OFF, sizeof user_addr);
    memcpy(&uu, block->data + USBFS_INLINE_URB_OFF, sizeof uu);
    int r = magic != USBFS_INLINE_MAGIC || uu.buffer_length < 0 || uu.type == USBDEVFS_URB_TYPE_ISO ||
                    (size_t)uu.buffer_length != total - USBFS_INLINE_HDR ? -EINVAL : check_urb(c, &uu);
    if (!r)
        r = post_urb(c, &uu, (const uint8_t *)block->data + USBFS_INLINE_HDR, user_addr, block, NULL,
                     USBFS_INLINE_URB_OFF, 0, prof);
    if (r) {
        g_object_unref(block);
        return r;
    }
    umockdev_ioctl_data_reload(arg, NULL);
    return 0;
}

/* What the clients reaped from their areas leaves the bridge's lists;
 * then each node's readiness follows the exact count again. */
static void sync_all(struct usbfs *fs)
{
    for (struct client *c = fs->shm_clients; c; c = c->next_shm)
        urbq_shm_sync(fs->q, &c->o);
    for (struct client *c = fs->shm_clients; c; c = c->next_shm)
        usbdev_fifo_resync(c->o.dev);
}

/* A client reaped from its area: let go of those URBs now, so that the
 * node stops being writable when nothing is left (urb.h). */
static gboolean on_kick(gint fd, GIOCondition cond, gpointer data)
{
    struct usbfs *fs = data;
    (void)cond;
    uint8_t buf[256];
    while (read(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
        ;
    sync_all(fs);
    return G_SOURCE_CONTINUE;
}

/* The kick pipe, made at the first area, watched on the worker. */
static bool kick_ready(struct usbfs *fs)
{
    if (fs->kick_src)
        return true;
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    fs->kick_r = p[0];
    fs->kick_w = p[1];
    fs->kick_src = g_unix_fd_source_new(fs->kick_r, G_IO_IN);
    g_source_set_callback(fs->kick_src, G_SOURCE_FUNC(on_kick), fs, NULL);
    g_source_attach(fs->kick_src, g_main_context_get_thread_default());
    return true;
}

/* The preload names its shared area (usbfs_inline.h), once per file, before
 * its first URB. It must be a memfd sealed against growing and shrinking,
 * of the agreed size: mapped here, it can then never fault under the
 * worker or the CPU thread. The answer names the kick pipe. */
static int shm_hello(struct client *c, UMockdevIoctlData *arg)
{
    if (c->o.shm)
        return -EBUSY;
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbfs_shm_hello), &err);
    if (!d)
        return err;
    struct usbfs_shm_hello h;
    memcpy(&h, d->data, sizeof h);
    if (h.magic != USBFS_SHM_MAGIC || h.size != USBFS_SHM_SIZE || h.pid <= 0 || h.fd < 0 || !kick_ready(c->fs)) {
        g_object_unref(d);
        return -EINVAL;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)h.pid, (int)h.fd);
    struct stat st;
    /* a regular file before anything is opened: naming a device must not open it */
    int fd = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
                                                         : -1;
    int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
    void *m = MAP_FAILED;
    if (seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW) &&
        fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == USBFS_SHM_SIZE)
        m = mmap(NULL, USBFS_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    if (m == MAP_FAILED) {
        g_object_unref(d);
        return fd < 0 ? -EACCES : -EINVAL;
    }
    struct usbfs_shm_head *head = m;
    __atomic_store_n(&head->flags, prof_on() ? USBFS_SHM_PROFILE : 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&head->head, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&head->tail, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&head->synced, 0u, __ATOMIC_RELAXED);
    urbq_lock(c->fs->q);
    bool idle = !c->o.pending && !c->o.done;   /* the ring must see every completion of the file */
    if (idle)
        c->o.shm = m;
    urbq_unlock(c->fs->q);
    if (!idle) {
        munmap(m, USBFS_SHM_SIZE);
        g_object_unref(d);
        return -EBUSY;
    }
    c->next_shm = c->fs->shm_clients;
    c->fs->shm_clients = c;
    h.kick_pid = (int32_t)getpid();
    h.kick_fd = c->fs->kick_w;
    memcpy(d->data, &h, sizeof h);       /* written back with the answer */
    g_object_unref(d);
    return 0;
}

/* SUBMITURB from a slot of the shared area: the same checks as
 * submit_urb, on a copy taken now (the client may write the area at any
 * time; usbfs copies OUT data at submit as well). */
static int submit_shm(struct client *c, UMockdevIoctlData *arg)
{
    struct urb_prof prof = { .submit_in = prof_now() };
    unsigned long i = arg_value(arg);
    if (!c->o.shm)
        return -ENOTTY;                  /* the preload names an area this file does not have */
    if (i >= USBFS_SHM_SLOTS)
        return -EINVAL;
    const struct usbfs_shm_slot *slot = usbfs_shm_slot(c->o.shm, (unsigned)i);
    uint64_t user_addr;
    struct usbdevfs_urb uu;
    memcpy(&user_addr, &slot->user_urb, sizeof user_addr);
    memcpy(&uu, &slot->urb, sizeof uu);
    int r = uu.buffer_length < 0 || (size_t)uu.buffer_length > USBFS_SHM_DATA || uu.type == USBDEVFS_URB_TYPE_ISO
                ? -EINVAL : check_urb(c, &uu);
    uint8_t buf[USBFS_SHM_DATA];
    if (!r && uu.buffer_length > 0)
        memcpy(buf, slot->data, (size_t)uu.buffer_length);
    prof.reads_done = prof_now();
    if (!r)
        r = post_urb(c, &uu, uu.buffer_length > 0 ? buf : NULL, user_addr, NULL, NULL, 0, (uint32_t)i + 1, prof);
    return r;
}

/* IN data of a reaped URB into dst (the client's buffer, or its copy). */
static void copy_in_data(const struct urb *u, uint8_t *dst, uint32_t dst_len)
{
    bool control = u->buf_len >= 8 && u->x.buf == u->buf + 8;   /* as post_urb lays a control URB out */
    bool in = control ? (u->x.setup[0] & USB_DIR_MASK) == USB_DIR_IN : (u->x.ep & USB_EP_DIR_IN) != 0;
    uint32_t off = control ? 8 : 0;
    if (in && dst && u->actual && off + u->actual <= dst_len)
        memcpy(dst + off, u->buf + off, u->actual);
}

static void put_status(uint8_t *urb_data, const struct urb *u)
{
    /* what the kernel writes back: status, actual_length, error_count */
    int status = u->status, actual = (int)u->actual, errors = 0;
    memcpy(urb_data + offsetof(struct usbdevfs_urb, status), &status, sizeof status);
    memcpy(urb_data + offsetof(struct usbdevfs_urb, actual_length), &actual, sizeof actual);
    memcpy(urb_data + offsetof(struct usbdevfs_urb, error_count), &errors, sizeof errors);
}

/* A URB of the shared area reaped by a plain REAPURBNDELAY (a thread of
 * the client that does not know the area yet, while another one names it;
 * a caller past the preload): the results go through umockdev into the
 * client's urb and buffer, read for the purpose, and its slot is freed
 * here, as the preload would after a reap of its own. */
static int reap_shm_plain(struct urb *u, void *shm, UMockdevIoctlData *arg)
{
    struct usbfs_shm_head *h = shm;
    __atomic_or_fetch(&h->free_mask, 1ull << (u->shm_slot - 1), __ATOMIC_ACQ_REL);
    int err = 0;
    UMockdevIoctlData *p = resolve(arg, 0, sizeof(void *), &err);
    if (!p)
        return err;
    memcpy(p->data, &u->user_addr, sizeof u->user_addr);
    UMockdevIoctlData *ud = resolve(p, 0, sizeof(struct usbdevfs_urb), &err);
    if (ud) {
        struct usbdevfs_urb uu;
        memcpy(&uu, ud->data, sizeof uu);
        put_status(ud->data, u);
        UMockdevIoctlData *bd = NULL;
        if (u->actual && uu.buffer_length > 0)
            bd = resolve(ud, offsetof(struct usbdevfs_urb, buffer), (size_t)uu.buffer_length, &err);
        if (bd)
            copy_in_data(u, bd->data, (uint32_t)bd->data_len);
        g_clear_object(&bd);
        g_object_unref(ud);
    }
    g_object_unref(p);
    return err;
}

/* REAPURBNDELAY, and the preload's USBFS_SHM_REAP (shm: a URB of the
 * shared area is answered through its slot, 1 + the slot index). */
static int reap_urb(struct client *c, UMockdevIoctlData *arg, bool shm)
{
    uint64_t t_in = prof_now();
    struct urb *u = c->o.shm ? urbq_shm_reap(c->fs->q, &c->o) : urbq_reap(c->fs->q, &c->o);
    if (!u)
        return usbdev_is_gone(c->o.dev) ? -ENODEV : -EAGAIN;
    u->prof.reap_in = t_in;
    int r = 0;
    UMockdevIoctlData *ud = u->umock_urb, *bd = u->umock_buf;
    u->umock_urb = u->umock_buf = NULL;
    if (u->shm_slot && c->o.shm) {
        /* its results are in its slot since it completed (urb.c) */
        r = shm ? (int)u->shm_slot : reap_shm_plain(u, c->o.shm, arg);
    } else {
        UMockdevIoctlData *p = resolve(arg, 0, sizeof(void *), &r);
        if (p && ud) {
            /* the client's urb and buffer, or the preload's block holding both */
            uint8_t *urb_data = ud->data + u->umock_urb_off;
            uint8_t *buf = bd ? bd->data : u->umock_urb_off ? ud->data + USBFS_INLINE_HDR : NULL;
            uint32_t buf_len = bd ? (uint32_t)bd->data_len
                                  : u->umock_urb_off ? (uint32_t)ud->data_len - USBFS_INLINE_HDR : 0;
            copy_in_data(u, buf, buf_len);
            put_status(urb_data, u);
            umockdev_ioctl_data_set_ptr(p, 0, ud);   /* the client's pointer now names its urb */
        }
        g_clear_object(&p);
    }
    g_clear_object(&ud);
    g_clear_object(&bd);
    prof_record(&u->prof);
    urb_unref(u);
    return r;
}

/* ---- simple ioctls ---- */

static int write_bytes(UMockdevIoctlData *arg, const void *v, size_t len)
{
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, len, &err);
    if (!d)
        return err;
    memcpy(d->data, v, len);
    g_object_unref(d);
    return 0;
}

static int claim(struct client *c, UMockdevIoctlData *arg, size_t size)
{
    unsigned ifnum;
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, size, &err);
    if (!d)
        return err;
    memcpy(&ifnum, d->data, sizeof ifnum);   /* the interface number leads both structures */
    g_object_unref(d);
    if (ifnum >= HOST_MAX_INTERFACES)
        return -EINVAL;
    if (!interface_exists(c->o.dev, ifnum, NULL))
        return -ENOENT;
    return check_intf(c, ifnum);
}

static int release(struct client *c, UMockdevIoctlData *arg)
{
    unsigned ifnum;
    int r = read_uint(arg, &ifnum);
    if (r)
        return r;
    if (ifnum >= HOST_MAX_INTERFACES)
        return -EINVAL;
    struct usbdev *d = c->o.dev;
    urbq_lock(d->q);
    if (d->claims[ifnum] == &c->o)
        d->claims[ifnum] = NULL;
    else
        r = -EINVAL;
    urbq_unlock(d->q);
    return r;
}

static int driver_ioctl(struct client *c, UMockdevIoctlData *arg)
{
    int err = 0;
    UMockdevIoctlData *d = resolve(arg, 0, sizeof(struct usbdevfs_ioctl), &err);
    if (!d)
        return err;
    struct usbdevfs_ioctl io;
    memcpy(&io, d->data, sizeof io);
    g_object_unref(d);
    if (io.ifno < 0 || !interface_exists(c->o.dev, (unsigned)io.ifno, NULL))
        return -EINVAL;
    if ((unsigned)io.ioctl_code == USBDEVFS_DISCONNECT)
        return -ENODATA;               /* no driver is bound */
    if ((unsigned)io.ioctl_code == USBDEVFS_CONNECT)
        return 0;
    return -ENOTTY;
}

static int dispatch(struct client *c, UMockdevIoctlClient *cl, unsigned long req, UMockdevIoctlData *arg)
{
    /* reaps work after a disconnect; nothing else does (devio.c) */
    if (req == USBDEVFS_REAPURBNDELAY || req == USBFS_SHM_REAP)
        return reap_urb(c, arg, req == USBFS_SHM_REAP);
    if (req == USBDEVFS_REAPURB)
        return -EAGAIN;
    if (usbdev_is_gone(c->o.dev))
        return -ENODEV;
    switch (req) {
    case USBDEVFS_GET_CAPABILITIES: {
        uint32_t caps = CAPS;
        return write_bytes(arg, &caps, sizeof caps);
    }
    case USBDEVFS_CLAIMINTERFACE:
        return claim(c, arg, sizeof(unsigned));
    case USBDEVFS_DISCONNECT_CLAIM:
        return claim(c, arg, sizeof(struct usbdevfs_disconnect_claim));
    case USBDEVFS_RELEASEINTERFACE:
        return release(c, arg);
    case USBDEVFS_GETDRIVER:
        return -ENODATA;
    case USBDEVFS_IOCTL:
        return driver_ioctl(c, arg);
    case USBDEVFS_SUBMITURB:
        return submit_urb(c, arg);
    case USBDEVFS_DISCARDURB:
        return urbq_discard(c->fs->q, &c->o, arg_value(arg));
    case USBDEVFS_CONTROL:
        return ioctl_control(c, cl, arg);
    case USBDEVFS_BULK:
        return ioctl_bulk(c, cl, arg);
    case USBDEVFS_CLEAR_HALT:
        return ioctl_clear_halt(c, cl, arg);
    case USBDEVFS_SETINTERFACE:
        return ioctl_setinterface(c, cl, arg);
    case USBDEVFS_SETCONFIGURATION:
        return ioctl_setconfiguration(c, cl, arg);
    case USBDEVFS_RESET:
        return ioctl_reset(c, cl);
    case USBDEVFS_CONNECTINFO: {
        struct usbdevfs_connectinfo ci = { .devnum = c->o.dev->devnum, .slow = 0 };
        return write_bytes(arg, &ci, sizeof ci);
    }
    case USBDEVFS_GET_SPEED:
        return USBFS_SPEED_FULL;
    case USBFS_SHM_HELLO:
        return shm_hello(c, arg);
    case USBFS_SHM_SUBMIT:
        return submit_shm(c, arg);
    default:
        if (usbfs_is_submit_inline(req))
            return submit_inline(c, arg, _IOC_SIZE(req));
        log_unknown(c->fs, req);
        return -ENOTTY;
    }
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *cl, gpointer data)
{
    struct handler_ctx *hc = data;
    (void)handler;
    HANDOFF_ACQUIRE(hc);                /* attached on the CPU thread (usbfs_handler_new) */
    if (!g_atomic_pointer_get(&hc->fs->worker))
        g_atomic_pointer_set(&hc->fs->worker, g_main_context_ref_thread_default());
    struct client *c = client_of(hc, cl);
    if (c && c->o.shm)
        sync_all(c->fs);                 /* what the clients reaped themselves, before anything else */
    unsigned long req = (unsigned)umockdev_ioctl_client_get_request(cl);
    int r = c ? dispatch(c, cl, req, umockdev_ioctl_client_get_arg(cl)) : -ENOMEM;
    if (r != DEFERRED)
        answer(cl, r);
    return TRUE;
}

/* read(): the device descriptor and the configurations, from the file
 * position (usbdev_read). */
static gboolean on_read(UMockdevIoctlBase *handler, UMockdevIoctlClient *cl, gpointer data)
{
    struct handler_ctx *hc = data;
    (void)handler;
    HANDOFF_ACQUIRE(hc);
    struct client *c = client_of(hc, cl);
    UMockdevIoctlData *buf = umockdev_ioctl_client_get_arg(cl);
    if (!c || usbdev_is_gone(c->o.dev)) {
        answer(cl, c ? -ENODEV : -ENOMEM);
        return TRUE;
    }
    struct usbdev *d = c->o.dev;
    size_t total = USB_DT_DEVICE_SIZE + d->configs_len, n = 0;
    size_t want = buf && buf->data_len > 0 ? (size_t)buf->data_len : 0;
    while (n < want && c->read_pos < total) {
        size_t pos = (size_t)c->read_pos;
        buf->data[n++] = pos < USB_DT_DEVICE_SIZE ? d->device[pos] : d->configs[pos - USB_DT_DEVICE_SIZE];
        c->read_pos++;
    }
    answer(cl, (long)n);
    return TRUE;
}

static gboolean on_write(UMockdevIoctlBase *handler, UMockdevIoctlClient *cl, gpointer data)
{
    (void)handler;
    (void)data;
    answer(cl, -EINVAL);   /* usbfs has no write */
    return TRUE;
}

static void handler_ctx_free(gpointer data, GClosure *closure)
{
    struct handler_ctx *hc = data;
    (void)closure;
    HANDOFF_ACQUIRE(hc);                /* the last reference may go on either thread */
    usbdev_unref(hc->dev);
    free(hc);
}

void *usbfs_handler_new(struct usbfs *fs, struct usbdev *dev)
{
    UMockdevIoctlBase *h = umockdev_ioctl_base_new();
    struct handler_ctx *hc[3];
    for (int i = 0; i < 3; i++) {
        hc[i] = calloc(1, sizeof *hc[i]);
        if (!hc[i]) {
            while (i--)
                free(hc[i]);
            g_object_unref(h);
            return NULL;
        }
        hc[i]->fs = fs;
        hc[i]->dev = dev;
        usbdev_ref(dev);
        HANDOFF_RELEASE(hc[i]);         /* umockdev hands the handler to its worker */
    }
    g_signal_connect_data(h, "handle-ioctl", G_CALLBACK(on_ioctl), hc[0], handler_ctx_free, 0);
    g_signal_connect_data(h, "handle-read", G_CALLBACK(on_read), hc[1], handler_ctx_free, 0);
    g_signal_connect_data(h, "handle-write", G_CALLBACK(on_write), hc[2], handler_ctx_free, 0);
    return h;
}

/* umockdev 0.17 says CRITICAL when a client went away while its ioctl was
 * being answered (the answer cannot be delivered and its stream is never
 * closed): an expected event for a killed client, reported as one line on
 * our log instead. Everything else goes to glib's default handler. */
static void on_glib_critical(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    struct usbfs *fs = data;
    if (message && strstr(message, "Destroying IoctlClient with open stream")) {
        fprintf(fs->log, "usb: a client went away in the middle of an ioctl; its answer was dropped\n");
        return;
    }
    g_log_default_handler(domain, level, message, NULL);
}

struct usbfs *usbfs_new(struct urbq *q, FILE *log)
{
    struct usbfs *fs = calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    fs->q = q;
    fs->log = log ? log : stderr;
    g_mutex_init(&fs->unknown_lock);
    fs->log_handler = g_log_set_handler(NULL, G_LOG_LEVEL_CRITICAL, on_glib_critical, fs);
    return fs;
}

void usbfs_set_queue(struct usbfs *fs, struct urbq *q)
{
    fs->q = q;
}

void usbfs_free(struct usbfs *fs)
{
    if (!fs)
        return;
    g_log_remove_handler(NULL, fs->log_handler);
    if (fs->kick_src) {
        g_source_destroy(fs->kick_src);
        g_source_unref(fs->kick_src);
        close(fs->kick_r);
        close(fs->kick_w);
    }
    GMainContext *ctx = g_atomic_pointer_get(&fs->worker);
    if (ctx)
        g_main_context_unref(ctx);
    g_mutex_clear(&fs->unknown_lock);
    free(fs);
}
