/* Testbed and device record: see testbed.h. The attributes are the ones
 * Linux shows for a usb_device (drivers/usb/core/sysfs.c), in its formats. */
#include "testbed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umockdev.h>

#include "descriptors.h"
#include "uevent.h"

#define USB_MAJOR 189
#define PORT 1                        /* every device sits on port 1 of its bus's root hub */
#define PIPE_SIZE 4096

struct testbed {
    UMockdevTestbed *tb;
    char *dir;
    char *preload;
};

struct testbed *testbed_new(const char *extra_preload)
{
    struct testbed *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    const char *old = getenv("LD_PRELOAD");
    GString *p = g_string_new(old && *old ? old : "");
    if (extra_preload && !strstr(p->str, extra_preload))
        g_string_append_printf(p, "%s%s", p->len ? ":" : "", extra_preload);
    if (!strstr(p->str, TESTBED_PRELOAD))
        g_string_append_printf(p, "%s%s", p->len ? ":" : "", TESTBED_PRELOAD);
    t->preload = g_string_free(p, FALSE);
    /* before the testbed: its worker thread starts in the constructor, and
     * setenv is not safe against threads reading the environment */
    setenv("LD_PRELOAD", t->preload, 1);
    t->tb = umockdev_testbed_new();
    t->dir = umockdev_testbed_get_root_dir(t->tb);
    return t;
}

void testbed_free(struct testbed *t)
{
    if (!t)
        return;
    g_object_unref(t->tb);
    g_free(t->dir);
    g_free(t->preload);
    free(t);
}

const char *testbed_dir(const struct testbed *t)
{
    return t->dir;
}

const char *testbed_preload_env(const struct testbed *t)
{
    return t->preload;
}

static char *syspath(unsigned busnum)
{
    return g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb%u/%u-%u", busnum, busnum, PORT);
}

/* An attribute value in the record: g_strcompress-escaped, so that device
 * strings cannot break the line format, ending in a newline like sysfs. */
static void attr(GString *s, const char *name, const char *value)
{
    g_string_append_printf(s, "A: %s=", name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '\\')
            g_string_append(s, "\\\\");
        else if (*p < 0x20 || *p == 0x7F)
            g_string_append_printf(s, "\\%03o", *p);
        else
            g_string_append_c(s, (char)*p);
    }
    g_string_append(s, "\\n\n");
}

static void attrf(GString *s, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void attrf(GString *s, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    attr(s, name, v);
    g_free(v);
}

/* The attributes of the active configuration (empty when unconfigured). */
static void config_attrs(GString *s, const uint8_t *configs, size_t len, uint8_t value)
{
    size_t clen = 0;
    const uint8_t *c = value ? usbdesc_config_by_value(configs, len, value, &clen) : NULL;
    if (c) {
        attrf(s, "bConfigurationValue", "%u", value);
        attrf(s, "bNumInterfaces", "%2d", c[4]);
        attrf(s, "bmAttributes", "%2x", c[7]);
        attrf(s, "bMaxPower", "%umA", c[8] * 2u);
    } else {
        attr(s, "bConfigurationValue", "");
        attr(s, "bNumInterfaces", "");
        attr(s, "bmAttributes", "");
        attr(s, "bMaxPower", "");
    }
}

char *testbed_record(const struct testbed_device *d)
{
    const uint8_t *dd = d->device;
    unsigned minor = (d->busnum - 1) * 128 + (d->devnum - 1);
    char *path = syspath(d->busnum);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "P: %s\n", path + strlen("/sys"));
    g_string_append_printf(s, "N: bus/usb/%03u/%03u\n", d->busnum, d->devnum);
    g_string_append_printf(s, "E: BUSNUM=%03u\n", d->busnum);
    g_string_append_printf(s, "E: DEVNAME=/dev/bus/usb/%03u/%03u\n", d->busnum, d->devnum);
    g_string_append_printf(s, "E: DEVNUM=%03u\n", d->devnum);
    g_string_append(s, "E: DEVTYPE=usb_device\n");
    g_string_append(s, "E: DRIVER=usb\n");
    g_string_append_printf(s, "E: MAJOR=%u\n", USB_MAJOR);
    g_string_append_printf(s, "E: MINOR=%u\n", minor);
    g_string_append_printf(s, "E: PRODUCT=%x/%x/%x\n", usb_get_le16(dd + 8), usb_get_le16(dd + 10), usb_get_le16(dd + 12));
    g_string_append(s, "E: SUBSYSTEM=usb\n");
    g_string_append_printf(s, "E: TYPE=%u/%u/%u\n", dd[4], dd[5], dd[6]);
    attr(s, "authorized", "1");
    attr(s, "avoid_reset_quirk", "0");
    config_attrs(s, d->configs, d->configs_len, d->config_value);
    attrf(s, "bDeviceClass", "%02x", dd[4]);
    attrf(s, "bDeviceSubClass", "%02x", dd[5]);
    attrf(s, "bDeviceProtocol", "%02x", dd[6]);
    attrf(s, "bMaxPacketSize0", "%u", dd[7]);
    attrf(s, "bNumConfigurations", "%u", dd[17]);
    attrf(s, "bcdDevice", "%04x", usb_get_le16(dd + 12));
    attrf(s, "busnum", "%u", d->busnum);
    attr(s, "configuration", "");
    g_string_append(s, "H: descriptors=");
    for (size_t i = 0; i < USB_DT_DEVICE_SIZE; i++)
        g_string_append_printf(s, "%02X", dd[i]);
    for (size_t i = 0; i < d->configs_len; i++)
        g_string_append_printf(s, "%02X", d->configs[i]);
    g_string_append_c(s, '\n');
    attrf(s, "dev", "%u:%u", USB_MAJOR, minor);
    attrf(s, "devnum", "%u", d->devnum);
    attrf(s, "devpath", "%u", PORT);
    attrf(s, "idProduct", "%04x", usb_get_le16(dd + 10));
    attrf(s, "idVendor", "%04x", usb_get_le16(dd + 8));
    attr(s, "ltm_capable", "no");
    if (d->manufacturer)
        attr(s, "manufacturer", d->manufacturer);
    attr(s, "maxchild", "0");
    if (d->product)
        attr(s, "product", d->product);
    attr(s, "quirks", "0x0");
    attr(s, "removable", "removable");
    attr(s, "rx_lanes", "1");
    if (d->serial)
        attr(s, "serial", d->serial);
    attr(s, "speed", "12");
    attr(s, "tx_lanes", "1");
    attr(s, "urbnum", "0");
    attrf(s, "version", "%2x.%02x", dd[3], dd[2]);
    g_free(path);
    return g_string_free(s, FALSE);
}

/* The node umockdev made is a regular file, always ready for poll(); a FIFO
 * lets the bridge decide when it is writable (urb.h). rename() swaps it in
 * atomically. */
static int make_fifo_node(const char *node, char *err, size_t errlen)
{
    char *tmp = g_strdup_printf("%s.fifo", node);
    unlink(tmp);
    if (mkfifo(tmp, 0666) != 0 || rename(tmp, node) != 0) {
        snprintf(err, errlen, "cannot make %s a FIFO: %s", node, strerror(errno));
        unlink(tmp);
        g_free(tmp);
        return -1;
    }
    g_free(tmp);
    int fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", node, strerror(errno));
        return -1;
    }
    /* one page slot: then one byte makes the pipe full for poll() */
    if (fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE) < 0 || fcntl(fd, F_GETPIPE_SZ) != sysconf(_SC_PAGESIZE)) {
        snprintf(err, errlen, "cannot make the pipe of %s one page: %s", node, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* A udev event for clients' monitors (uevent.h), with the properties of
 * the device's uevent file. */
static void announce(struct testbed *t, const char *path, const char *action)
{
    char *file = g_strdup_printf("%s%s/uevent", t->dir, path);
    char *props = NULL;
    if (g_file_get_contents(file, &props, NULL, NULL))
        uevent_send(t->dir, action, path + strlen("/sys"), "usb", "usb_device", props);
    g_free(props);
    g_free(file);
}

int testbed_add(struct testbed *t, const struct testbed_device *d, void *ioctl_handler, char *err, size_t errlen)
{
    char dev[40];
    snprintf(dev, sizeof dev, "/dev/bus/usb/%03u/%03u", d->busnum, d->devnum);
    GError *e = NULL;
    if (!umockdev_testbed_attach_ioctl(t->tb, dev, UMOCKDEV_IOCTL_BASE(ioctl_handler), &e)) {
        snprintf(err, errlen, "cannot attach the usbfs handler to %s: %s", dev, e ? e->message : "?");
        g_clear_error(&e);
        return -1;
    }
    char *record = testbed_record(d);
    bool ok = umockdev_testbed_add_from_string(t->tb, record, &e);
    g_free(record);
    if (!ok) {
        snprintf(err, errlen, "umockdev refused the device record: %s", e ? e->message : "?");
        g_clear_error(&e);
        umockdev_testbed_detach_ioctl(t->tb, dev, NULL);
        return -1;
    }
    char *node = g_strdup_printf("%s%s", t->dir, dev);
    int fd = make_fifo_node(node, err, errlen);
    g_free(node);
    char *path = syspath(d->busnum);
    if (fd < 0) {
        umockdev_testbed_remove_device(t->tb, path);
        umockdev_testbed_detach_ioctl(t->tb, dev, NULL);
    } else {
        announce(t, path, "add");
    }
    g_free(path);
    return fd;
}

void testbed_remove(struct testbed *t, unsigned busnum, unsigned devnum)
{
    char dev[40];
    snprintf(dev, sizeof dev, "/dev/bus/usb/%03u/%03u", busnum, devnum);
    char *path = syspath(busnum);
    announce(t, path, "remove");
    umockdev_testbed_remove_device(t->tb, path);
    g_free(path);
    umockdev_testbed_detach_ioctl(t->tb, dev, NULL);
}

void testbed_set_config(struct testbed *t, unsigned busnum, const uint8_t *configs, size_t configs_len,
                        uint8_t value)
{
    char *path = syspath(busnum);
    size_t clen = 0;
    const uint8_t *c = value ? usbdesc_config_by_value(configs, configs_len, value, &clen) : NULL;
    char v[4][16] = { "\n", "\n", "\n", "\n" };
    if (c) {
        snprintf(v[0], sizeof v[0], "%u\n", value);
        snprintf(v[1], sizeof v[1], "%2d\n", c[4]);
        snprintf(v[2], sizeof v[2], "%2x\n", c[7]);
        snprintf(v[3], sizeof v[3], "%umA\n", c[8] * 2u);
    }
    umockdev_testbed_set_attribute(t->tb, path, "bConfigurationValue", v[0]);
    umockdev_testbed_set_attribute(t->tb, path, "bNumInterfaces", v[1]);
    umockdev_testbed_set_attribute(t->tb, path, "bmAttributes", v[2]);
    umockdev_testbed_set_attribute(t->tb, path, "bMaxPower", v[3]);
    g_free(path);
}
