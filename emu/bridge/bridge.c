/* The USB bridge on the CPU thread: see bridge.h. It owns the host side of
 * the USBD model: attach/detach, the requests the usbfs handler queues
 * (submit, cancel, reset), the completions, and the capture. */
#include "bridge.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib-object.h>

#include "enumerate.h"
#include "pcap.h"
#include "profile.h"
#include "soc.h"
#include "testbed.h"
#include "urb.h"
#include "usbd_host.h"
#include "usbfs.h"

#define DEBOUNCE_MS 100            /* hub port debounce before the reset (USB 2.0 §7.1.7.3 TATTDB) */
#define FIRST_DEVNUM 2             /* 1 is the root hub */
#define LAST_DEVNUM 127
#define ZLP_PACKET 64              /* the model's bulk packet size */

struct bridge {
    struct soc *soc;
    struct periph *usbd;
    FILE *log;
    struct testbed *tb;
    struct urbq *q;
    struct usbfs *fs;
    struct enumerator *en;
    struct usb_pcap *pcap;

    struct usbdev *dev;            /* the published device, NULL if none */
    void *handler;                 /* its UMockdevIoctlBase */
    unsigned next_devnum, enum_devnum;
    uint16_t langid;               /* from string 0 at attach: the reset re-reads the serial with it */
    bool has_serial;
    char serial[ENUM_STRING_MAX];
    bool resetting;                /* inside a bus reset the host asked for */
    uint8_t enum_addr;             /* address the enumeration transfer in flight went to */
    struct urb *reset_urb;         /* the USBDEVFS_RESET being served */
    struct sched_event debounce_ev, requests_ev;
    bridge_listener_fn listener;
    void *listener_ctx;

    struct model_dev {                 /* bridge_add_model */
        const struct bridge_model *m;
        struct usbdev *dev;
        void *handler;
        char path[16];
    } models[BRIDGE_MAX_MODELS];
    unsigned nmodels;
};

static void process_requests(struct bridge *b);

static void tell(struct bridge *b, enum bridge_event ev, const char *detail)
{
    if (b->listener)
        b->listener(b->listener_ctx, ev, detail);
}

static void process_soon(struct bridge *b)
{
    soc_schedule(b->soc, &b->requests_ev, 0);
}

/* ---- the enumerator's bus ---- */

static bool host_submit(void *ctx, struct usb_xfer *x)
{
    struct bridge *b = ctx;
    b->enum_addr = usbd_host_address(b->usbd);
    usb_pcap_submit(b->pcap, soc_now(b->soc), (uintptr_t)x, BRIDGE_BUSNUM, b->enum_addr, x);
    return usbd_host_submit(b->usbd, x);
}

static void host_completed(void *ctx, struct usb_xfer *x)
{
    struct bridge *b = ctx;
    usb_pcap_complete(b->pcap, soc_now(b->soc), (uintptr_t)x, BRIDGE_BUSNUM, b->enum_addr, x,
                      urb_status_of(x->status, b->resetting));
}

static bool host_cancel(void *ctx, struct usb_xfer *x)
{
    struct bridge *b = ctx;
    return usbd_host_cancel(b->usbd, x);
}

/* Transfers the reset kills complete with -ENOENT (see urb_status_of). */
static void host_bus_reset(void *ctx)
{
    struct bridge *b = ctx;
    b->resetting = true;
    usbd_host_bus_reset(b->usbd);
    b->resetting = false;
}

/* ---- publishing ---- */

static void detach(struct bridge *b, const char *why)
{
    if (!b->dev)
        return;
    unsigned devnum = b->dev->devnum;
    usbdev_mark_gone(b->dev);
    testbed_remove(b->tb, BRIDGE_BUSNUM, devnum);
    g_object_unref(b->handler);
    b->handler = NULL;
    usbdev_unref(b->dev);
    b->dev = NULL;
    soc_log(b->soc, "usb: bus %u device %03u removed (%s)\n", BRIDGE_BUSNUM, devnum, why);
    tell(b, BRIDGE_DETACHED, why);
}

static unsigned alloc_devnum(struct bridge *b)
{
    unsigned n = b->next_devnum;
    b->next_devnum = n >= LAST_DEVNUM ? FIRST_DEVNUM : n + 1;
    return n;
}

static void publish(struct bridge *b, const struct enum_result *r)
{
    char err[256];
    struct usbdev *dev = usbdev_new(b->q, BRIDGE_BUSNUM, b->enum_devnum, r->device, r->configs, r->configs_len,
                                    r->config_value);
    void *handler = dev ? usbfs_handler_new(b->fs, dev) : NULL;
    if (!handler) {
        usbdev_unref(dev);
        soc_log(b->soc, "usb: out of memory publishing the device\n");
        tell(b, BRIDGE_ENUMERATION_FAILED, "out of memory");
        return;
    }
    const struct testbed_device td = {
        .busnum = BRIDGE_BUSNUM, .devnum = b->enum_devnum, .device = r->device, .configs = r->configs,
        .configs_len = r->configs_len, .config_value = r->config_value,
        .manufacturer = r->has_manufacturer ? r->manufacturer : NULL,
        .product = r->has_product ? r->product : NULL,
        .serial = r->has_serial ? r->serial : NULL,
    };
    int fd = testbed_add(b->tb, &td, handler, err, sizeof err);
    if (fd < 0) {
        g_object_unref(handler);
        usbdev_unref(dev);
        soc_log(b->soc, "usb: cannot publish the device: %s\n", err);
        tell(b, BRIDGE_ENUMERATION_FAILED, err);
        return;
    }
    usbdev_set_fifo(dev, fd);
    b->dev = dev;
    b->handler = handler;
    b->langid = r->langid;
    b->has_serial = r->has_serial;
    snprintf(b->serial, sizeof b->serial, "%s", r->serial);
    soc_log(b->soc, "usb: bus %u device %03u: %04x:%04x \"%s\" serial \"%s\", configuration %u\n", BRIDGE_BUSNUM,
            dev->devnum, usb_get_le16(r->device + 8), usb_get_le16(r->device + 10), r->has_product ? r->product : "",
            r->has_serial ? r->serial : "", r->config_value);
    tell(b, BRIDGE_ATTACHED, dev->devnode);
}

static void attach_done(void *ctx, bool ok, bool gone, const struct enum_result *r, const char *why)
{
    struct bridge *b = ctx;
    if (ok) {
        publish(b, r);
    } else if (gone) {
        soc_log(b->soc, "usb: the device went away during enumeration (%s)\n", why);
    } else {
        soc_log(b->soc, "usb: enumeration failed: %s; the device is not published\n", why);
        tell(b, BRIDGE_ENUMERATION_FAILED, why);
    }
    process_soon(b);
}

static void debounced(struct soc *soc, void *ctx)
{
    struct bridge *b = ctx;
    (void)soc;
    if (!usbd_host_connected(b->usbd) || b->dev || enumerator_busy(b->en))
        return;
    b->enum_devnum = alloc_devnum(b);
    enumerator_start(b->en, ENUM_ATTACH, (uint8_t)b->enum_devnum, 0, 0, attach_done, b);
}

static void finish_reset(struct bridge *b, int result)
{
    struct urb *u = b->reset_urb;
    b->reset_urb = NULL;
    if (u)
        urbq_complete(b->q, u, result, 0);
}

static void on_connect(void *ctx, bool connected)
{
    struct bridge *b = ctx;
    if (connected) {
        soc_schedule(b->soc, &b->debounce_ev, SOC_MS(DEBOUNCE_MS));
        return;
    }
    soc_cancel(b->soc, &b->debounce_ev);
    enumerator_abort(b->en);
    finish_reset(b, -ENODEV);
    detach(b, "disconnected: the pull-up went off");
    process_soon(b);
}

/* ---- USBDEVFS_RESET ---- */

static void reset_done(void *ctx, bool ok, bool gone, const struct enum_result *r, const char *why)
{
    struct bridge *b = ctx;
    struct usbdev *d = b->dev;
    const char *changed = NULL;
    if (!ok) {
        if (!gone)
            changed = why;
    } else if (!d) {
        /* no device any more: nothing to compare; the reset fails below */
    } else if (memcmp(r->device, d->device, USB_DT_DEVICE_SIZE) != 0) {
        changed = "the device descriptor changed";
    } else if (r->configs_len != d->configs_len || memcmp(r->configs, d->configs, d->configs_len) != 0) {
        changed = "a configuration descriptor changed";
    } else if (r->has_serial != b->has_serial || strcmp(r->serial, b->serial) != 0) {
        changed = "the serial number changed";
    }
    if (ok && !changed && d) {
        urbq_lock(b->q);
        d->config_value = r->config_value ? r->config_value : d->config_value;
        memset(d->alts, 0, sizeof d->alts);
        urbq_unlock(b->q);
        finish_reset(b, 0);
    } else {
        /* like usb_reset_and_verify_device: a device that is no longer the
         * same one is logically disconnected and enumerated anew */
        finish_reset(b, -ENODEV);
        if (changed) {
            soc_log(b->soc, "usb: after the reset: %s; enumerating it as a new device\n", changed);
            detach(b, "changed across a reset");
            if (usbd_host_connected(b->usbd))
                soc_schedule(b->soc, &b->debounce_ev, SOC_MS(DEBOUNCE_MS));
        }
    }
    process_soon(b);
}

static void model_reset(struct bridge *b, struct model_dev *md, struct urb *u);
static struct model_dev *model_of(struct bridge *b, const struct usbdev *d);

static void cpu_reset(struct bridge *b, struct urb *u)
{
    urb_ref(u);                    /* urbq_complete drops it */
    struct model_dev *md = model_of(b, u->dev);
    if (md) {
        model_reset(b, md, u);
        return;
    }
    if (!b->dev || u->dev != b->dev || b->reset_urb) {
        urbq_complete(b->q, u, b->reset_urb ? -EBUSY : -ENODEV, 0);
        return;
    }
    urbq_lock(b->q);
    uint8_t config = b->dev->config_value;
    urbq_unlock(b->q);
    b->reset_urb = u;
    enumerator_start(b->en, ENUM_RESET, (uint8_t)b->dev->devnum, config, b->langid, reset_done, b);
}

/* ---- client transfers ---- */

/* Standard requests whose success changes what the host must believe. */
static void track_request(struct bridge *b, struct urb *u)
{
    const struct usb_setup s = usb_setup_decode(u->x.setup);
    struct usbdev *d = u->dev;
    uint8_t value = (uint8_t)s.wValue, ifnum = (uint8_t)s.wIndex;
    if (usb_setup_is(&s, USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION)) {
        size_t len;
        if (value && !usbdesc_config_by_value(d->configs, d->configs_len, value, &len))
            return;
        urbq_lock(b->q);
        d->config_value = value;
        memset(d->alts, 0, sizeof d->alts);
        urbq_unlock(b->q);
        if (d == b->dev || model_of(b, d))
            testbed_set_config(b->tb, d->busnum, d->configs, d->configs_len, value);
    } else if (usb_setup_is(&s, USB_RT_INTERFACE_OUT, USB_REQ_SET_INTERFACE) && ifnum < HOST_MAX_INTERFACES) {
        urbq_lock(b->q);
        d->alts[ifnum] = value;
        urbq_unlock(b->q);
    }
}

static void urb_done(struct usb_xfer *x, void *ctx)
{
    struct urb *u = ctx;
    struct bridge *b = u->host;
    bool control = (x->ep & USB_EP_NUM_MASK) == 0;
    bool in = control ? (x->setup[0] & USB_DIR_MASK) == USB_DIR_IN : (x->ep & USB_EP_DIR_IN) != 0;
    u->prof.done = prof_now();
    u->prof.cpu_done = prof_thread_cpu();
    u->prof.v_done = soc_now(b->soc);
    u->in_model = false;
    int status = urb_status_of(x->status, b->resetting);
    if (status == -ENODEV)
        usbdev_mark_gone(u->dev);      /* disconnected: before the URB completes (urb.h) */
    usb_pcap_complete(b->pcap, soc_now(b->soc), (uintptr_t)u, BRIDGE_BUSNUM, (uint8_t)u->dev->devnum, x, status);
    if (status == 0 && !control && !in && (u->flags & 0x40 /* URB_ZERO_PACKET */) && !u->zlp_sent &&
        x->len > 0 && x->len % ZLP_PACKET == 0) {
        /* the transfer ends with a zero-length packet */
        u->zlp_sent = true;
        u->actual_before_zlp = x->actual;
        x->len = 0;
        usb_pcap_submit(b->pcap, soc_now(b->soc), (uintptr_t)u, BRIDGE_BUSNUM, (uint8_t)u->dev->devnum, x);
        if ((u->in_model = usbd_host_submit(b->usbd, x)))
            return;
        status = -ENODEV;
    }
    uint32_t actual = u->zlp_sent ? u->actual_before_zlp : x->actual;
    if (status == 0 && in && (u->flags & 0x01 /* URB_SHORT_NOT_OK */) && actual < x->len)
        status = -EREMOTEIO;
    if (status == 0 && control)
        track_request(b, u);
    urbq_complete(b->q, u, status, actual);
}

/* ---- model devices ---- */

static struct model_dev *model_of(struct bridge *b, const struct usbdev *d)
{
    for (unsigned i = 0; i < b->nmodels; i++) {
        if (b->models[i].dev == d)
            return &b->models[i];
    }
    return NULL;
}

/* The model answers at once; the URB completes as a host controller would
 * report it (a STALL is -EPIPE). */
static void model_submit(struct bridge *b, struct model_dev *md, struct urb *u)
{
    struct usb_xfer *x = &u->x;
    uint8_t devnum = (uint8_t)u->dev->devnum, busnum = (uint8_t)u->dev->busnum;
    bool control = (x->ep & USB_EP_NUM_MASK) == 0;
    bool in = control ? (x->setup[0] & USB_DIR_MASK) == USB_DIR_IN : (x->ep & USB_EP_DIR_IN) != 0;
    usb_pcap_submit(b->pcap, soc_now(b->soc), (uintptr_t)u, busnum, devnum, x);
    int r = control ? md->m->control(md->m->ctx, x->setup, x->buf) : md->m->bulk(md->m->ctx, x->ep, x->buf, x->len);
    int status = 0;
    if (r < 0) {
        x->status = USB_XFER_STALL;
        x->actual = 0;
        status = -EPIPE;
    } else {
        x->status = USB_XFER_OK;
        x->actual = (uint32_t)r < x->len ? (uint32_t)r : x->len;
    }
    usb_pcap_complete(b->pcap, soc_now(b->soc), (uintptr_t)u, busnum, devnum, x, status);
    if (status == 0 && in && (u->flags & 0x01 /* URB_SHORT_NOT_OK */) && x->actual < x->len)
        status = -EREMOTEIO;
    if (status == 0 && control)
        track_request(b, u);
    urbq_complete(b->q, u, status, status == -EPIPE ? 0 : x->actual);
}

static void model_reset(struct bridge *b, struct model_dev *md, struct urb *u)
{
    md->m->reset(md->m->ctx);
    urbq_lock(b->q);
    memset(u->dev->alts, 0, sizeof u->dev->alts);
    urbq_unlock(b->q);
    urbq_complete(b->q, u, 0, 0);
}

static void cpu_submit(struct bridge *b, struct urb *u)
{
    urb_ref(u);                    /* urbq_complete drops it */
    struct model_dev *md = model_of(b, u->dev);
    if (md) {
        model_submit(b, md, u);
        return;
    }
    if (!b->dev || u->dev != b->dev) {
        urbq_complete(b->q, u, -ENODEV, 0);
        return;
    }
    u->prof.taken = prof_now();
    u->prof.cpu_taken = prof_thread_cpu();
    u->prof.v_taken = soc_now(b->soc);
    u->host = b;
    u->x.done = urb_done;
    u->x.ctx = u;
    usb_pcap_submit(b->pcap, soc_now(b->soc), (uintptr_t)u, BRIDGE_BUSNUM, (uint8_t)u->dev->devnum, &u->x);
    u->in_model = usbd_host_submit(b->usbd, &u->x);
    if (!u->in_model) {
        u->x.status = USB_XFER_DISCONNECTED;
        usb_pcap_complete(b->pcap, soc_now(b->soc), (uintptr_t)u, BRIDGE_BUSNUM, (uint8_t)u->dev->devnum, &u->x,
                          -ENODEV);
        urbq_complete(b->q, u, -ENODEV, 0);
    }
}

/* The requests the worker queued, in order. While a USBDEVFS_RESET runs
 * they wait, as usbfs callers wait for the device lock; during an attach
 * there is no published device and they fail at once. */
static void process_requests(struct bridge *b)
{
    urbq_clear_wakeup(b->q);
    struct urb_req *r;
    while ((r = urbq_take(b->q))) {
        if (b->reset_urb && !model_of(b, r->urb->dev)) {
            urbq_putback(b->q, r);
            return;
        }
        switch (r->kind) {
        case URB_REQ_SUBMIT:
            cpu_submit(b, r->urb);
            break;
        case URB_REQ_CANCEL:
            if (r->urb->in_model)
                usbd_host_cancel(b->usbd, &r->urb->x);
            break;
        case URB_REQ_RESET:
            cpu_reset(b, r->urb);
            break;
        }
        urbq_req_free(r);
    }
}

static void on_wakeup(struct soc *soc, void *ctx)
{
    (void)soc;
    process_requests(ctx);
}

static void requests_due(struct soc *soc, void *ctx)
{
    (void)soc;
    process_requests(ctx);
}

/* ---- life cycle ---- */

struct bridge *bridge_new(struct soc *soc, struct periph *usbd, const struct bridge_options *opt, char *err,
                          size_t errlen)
{
    struct bridge *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->soc = soc;
    b->usbd = usbd;
    b->log = opt && opt->log ? opt->log : stderr;
    prof_init();
    b->next_devnum = FIRST_DEVNUM;
    b->debounce_ev = (struct sched_event){ .name = "USB attach debounce", .fire = debounced, .ctx = b };
    b->requests_ev = (struct sched_event){ .name = "USB bridge requests", .fire = requests_due, .ctx = b };
    if (!b->usbd) {
        snprintf(err, errlen, "the chip has no USBD model");
        free(b);
        return NULL;
    }
    if (opt && opt->pcap && !(b->pcap = usb_pcap_open(opt->pcap))) {
        snprintf(err, errlen, "cannot write the capture %s: %s", opt->pcap, strerror(errno));
        free(b);
        return NULL;
    }
    b->fs = usbfs_new(NULL, b->log);
    b->q = urbq_new(usbfs_sync_done, b->fs);
    const struct enum_host host = { host_submit, host_completed, host_cancel, host_bus_reset, b };
    b->en = enumerator_new(b->soc, &host);
    if (!b->fs || !b->q || !b->en) {
        snprintf(err, errlen, "out of memory");
        bridge_free(b);
        return NULL;
    }
    usbfs_set_queue(b->fs, b->q);
    b->tb = testbed_new(opt ? opt->client_preload : NULL);
    if (!b->tb) {
        snprintf(err, errlen, "cannot create the umockdev testbed");
        bridge_free(b);
        return NULL;
    }
    soc_watch_fd(b->soc, urbq_eventfd(b->q), on_wakeup, b);
    const struct usbd_host_events ev = { on_connect, b };
    usbd_host_set_events(b->usbd, &ev);
    if (usbd_host_connected(b->usbd))
        on_connect(b, true);
    return b;
}

void bridge_free(struct bridge *b)
{
    if (!b)
        return;
    if (b->usbd) {
        const struct usbd_host_events none = { NULL, NULL };
        usbd_host_set_events(b->usbd, &none);
    }
    soc_cancel(b->soc, &b->debounce_ev);
    soc_cancel(b->soc, &b->requests_ev);
    if (b->en)
        enumerator_abort(b->en);
    finish_reset(b, -ENODEV);
    prof_report(b->log);
    detach(b, "the emulator stops");
    for (unsigned i = 0; i < b->nmodels; i++) {
        struct model_dev *md = &b->models[i];
        usbdev_mark_gone(md->dev);
        testbed_remove(b->tb, md->dev->busnum, md->dev->devnum);
        g_object_unref(md->handler);
        usbdev_unref(md->dev);
    }
    b->nmodels = 0;
    if (b->q)
        soc_unwatch_fd(b->soc, urbq_eventfd(b->q));
    /* The testbed's worker thread is told to stop but not joined by
     * umockdev, so a handler may still run: the queue and the usbfs state
     * it uses are left to the process exit rather than freed under it. */
    testbed_free(b->tb);
    enumerator_free(b->en);
    usb_pcap_close(b->pcap);
    free(b);
}

void bridge_set_listener(struct bridge *b, bridge_listener_fn fn, void *ctx)
{
    b->listener = fn;
    b->listener_ctx = ctx;
}

int bridge_add_model(struct bridge *b, const struct bridge_model *m, char *err, size_t errlen)
{
    if (b->nmodels >= BRIDGE_MAX_MODELS) {
        snprintf(err, errlen, "more than %d model devices", BRIDGE_MAX_MODELS);
        return -1;
    }
    /* configured, as Linux leaves a device with one configuration */
    const struct usb_setup set = { USB_RT_DEVICE_OUT, USB_REQ_SET_CONFIGURATION, m->config[5], 0, 0 };
    uint8_t raw[USB_SETUP_SIZE];
    usb_setup_encode(&set, raw);
    if (m->control(m->ctx, raw, NULL) < 0) {
        snprintf(err, errlen, "the model refused SET_CONFIGURATION(%u)", m->config[5]);
        return -1;
    }
    struct model_dev *md = &b->models[b->nmodels];
    unsigned busnum = BRIDGE_BUSNUM + 1 + b->nmodels;
    md->m = m;
    md->dev = usbdev_new(b->q, busnum, FIRST_DEVNUM, m->device, m->config, m->config_len, m->config[5]);
    md->handler = md->dev ? usbfs_handler_new(b->fs, md->dev) : NULL;
    if (!md->handler) {
        usbdev_unref(md->dev);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const struct testbed_device td = {
        .busnum = busnum, .devnum = FIRST_DEVNUM, .device = m->device, .configs = m->config,
        .configs_len = m->config_len, .config_value = m->config[5],
        .manufacturer = m->manufacturer, .product = m->product, .serial = m->serial,
    };
    int fd = testbed_add(b->tb, &td, md->handler, err, errlen);
    if (fd < 0) {
        g_object_unref(md->handler);
        usbdev_unref(md->dev);
        return -1;
    }
    usbdev_set_fifo(md->dev, fd);
    snprintf(md->path, sizeof md->path, "%u-1", busnum);
    b->nmodels++;
    soc_log(b->soc, "usb: bus %u device %03u: %04x:%04x \"%s\" serial \"%s\" (a model of its own)\n", busnum,
            FIRST_DEVNUM, usb_get_le16(m->device + 8), usb_get_le16(m->device + 10), m->product ? m->product : "",
            m->serial ? m->serial : "");
    return 0;
}

const char *bridge_model_devnode(const struct bridge *b, unsigned i)
{
    return i < b->nmodels ? b->models[i].dev->devnode : "";
}

const char *bridge_model_path(const struct bridge *b, unsigned i)
{
    return i < b->nmodels ? b->models[i].path : "";
}

const char *bridge_umockdev_dir(const struct bridge *b)
{
    return testbed_dir(b->tb);
}

const char *bridge_preload(const struct bridge *b)
{
    return testbed_preload_env(b->tb);
}

unsigned bridge_devnum(const struct bridge *b)
{
    return b->dev ? b->dev->devnum : 0;
}
