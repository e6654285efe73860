/* The umockdev testbed and the device record the bridge publishes in it
 * (CPU thread). Unmodified libusb programs started with the environment of
 * testbed_env() see, through libumockdev-preload, a sysfs with the USB
 * devices (the dongle, whose attributes and descriptors are what the
 * firmware answered at enumeration, on bus 1; model devices on buses 2, 3...),
 * each at port 1 of its bus's root hub (path "B-1"), and nodes
 * /dev/bus/usb/BBB/DDD whose ioctls the usbfs handler answers. One device
 * per bus: the calls below name a device by its bus. */
#ifndef EMU_BRIDGE_TESTBED_H
#define EMU_BRIDGE_TESTBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TESTBED_PRELOAD "libumockdev-preload.so.0"

struct testbed;

/* Sets LD_PRELOAD (appending extra_preload, if not NULL, and the umockdev
 * preload library) in this process's environment first, as umockdev-run
 * does, so children inherit it; the testbed sets UMOCKDEV_DIR. Call before
 * any child process or thread is started. */
struct testbed *testbed_new(const char *extra_preload);
/* Removes the testbed directory. */
void testbed_free(struct testbed *t);

const char *testbed_dir(const struct testbed *t);          /* UMOCKDEV_DIR */
const char *testbed_preload_env(const struct testbed *t);  /* the LD_PRELOAD value set */

struct testbed_device {
    unsigned busnum, devnum;
    const uint8_t *device;            /* 18 bytes */
    const uint8_t *configs;           /* every configuration, concatenated */
    size_t configs_len;
    uint8_t config_value;             /* 0: unconfigured */
    const char *manufacturer, *product, *serial;   /* UTF-8; NULL: the device names none */
};

/* The record as text (umockdev-record format); g_free it. */
char *testbed_record(const struct testbed_device *d);

/* Publishes d: the ioctl handler (a UMockdevIoctlBase) is attached to the
 * node first, then the record is added, then the node is made a FIFO (see
 * urb.h). Returns the FIFO's bridge end (O_RDWR, non-blocking), or -1 with
 * err filled. */
int testbed_add(struct testbed *t, const struct testbed_device *d, void *ioctl_handler, char *err, size_t errlen);
/* Unpublishes device devnum (clients keep their open files: their ioctls
 * still reach the handler, which answers ENODEV). */
void testbed_remove(struct testbed *t, unsigned busnum, unsigned devnum);
/* bConfigurationValue (and the attributes of the active configuration)
 * after a SET_CONFIGURATION the device accepted. */
void testbed_set_config(struct testbed *t, unsigned busnum, const uint8_t *configs, size_t configs_len,
                        uint8_t value);

#endif
