/* The USB bridge: makes the emulated dongle a USB device that unmodified
 * libusb programs use, through umockdev (its ioctl API, umockdev-ioctl.h).
 *
 * It plays the host: when the firmware pulls D+ up (the USBD model reports
 * a connection), it waits 100 ms (the hub's debounce), then enumerates the
 * firmware like Linux does (enumerate.h) and publishes what the firmware
 * answered as bus 1 device N in a umockdev testbed (testbed.h), whose node
 * answers the usbfs ioctls (usbfs.h). Device numbers count up from 2 and
 * the address is the device number, as on Linux. A pull-up going off, a
 * firmware reboot or a power cycle removes the device; the next connection
 * is a new device with a new number. USBDEVFS_RESET keeps the number.
 *
 * Model devices (bridge_add_model): other USB devices on the same testbed,
 * each on a bus of its own (bus 2, 3, ...: device 002, path "2-1"), so that
 * the dongle's numbers on bus 1 count exactly as without them. Their
 * backend is a chip model of their own (the bench's FTDI adapter), not the
 * USBD model: the bridge answers their transfers at once on the CPU thread
 * by calling the model, and publishes them configured (as Linux's generic
 * driver leaves a device with one configuration). They stay until the
 * bridge is freed.
 *
 * Threads: all of this runs on the CPU thread except the usbfs handler,
 * which runs on umockdev's worker thread (urb.h has the hand-over). */
#ifndef EMU_BRIDGE_BRIDGE_H
#define EMU_BRIDGE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "soc.h"

#define BRIDGE_BUSNUM 1            /* the dongle's bus */
#define BRIDGE_MAX_MODELS 4

struct bridge;

struct bridge_options {
    const char *pcap;            /* usbmon capture file, NULL for none */
    FILE *log;                   /* stderr if NULL */
    /* A library to preload into clients before libumockdev-preload (the
     * build's libhilda-emu-preload.so: see yield_preload.c), NULL for none. */
    const char *client_preload;
};

enum bridge_event {
    BRIDGE_ATTACHED,             /* enumerated and published: clients may use it */
    BRIDGE_DETACHED,             /* removed (disconnect, reboot, power, reset into another device) */
    BRIDGE_ENUMERATION_FAILED,   /* the firmware answered something unusable: detail says what */
};

typedef void (*bridge_listener_fn)(void *ctx, enum bridge_event ev, const char *detail);

/* Creates the testbed (this sets LD_PRELOAD and UMOCKDEV_DIR in this
 * process's environment, for the children to inherit: call it before
 * starting any child or thread) and connects to the host-controller side
 * of the USBD model usbd (usbd_host.h) on soc. NULL with a sentence in err
 * on failure. */
struct bridge *bridge_new(struct soc *soc, struct periph *usbd, const struct bridge_options *opt, char *err,
                          size_t errlen);
void bridge_free(struct bridge *b);

/* Called on the CPU thread (from inside machine_run). */
void bridge_set_listener(struct bridge *b, bridge_listener_fn fn, void *ctx);

/* A device answered by a model. The callbacks run on the CPU thread; a
 * negative return is a STALL (the URB fails with -EPIPE). */
struct bridge_model {
    const uint8_t *device;             /* 18 bytes */
    const uint8_t *config;             /* its one configuration (bConfigurationValue 1) */
    size_t config_len;
    const char *manufacturer, *product, *serial;   /* as its string descriptors say */
    /* setup: 8 bytes, wire order; data: the data stage (IN: fill up to wLength).
     * Returns the data-stage bytes moved. */
    int (*control)(void *ctx, const uint8_t setup[8], uint8_t *data);
    /* ep: the endpoint address; IN: fill up to len. Returns the bytes moved. */
    int (*bulk)(void *ctx, uint8_t ep, uint8_t *data, uint32_t len);
    void (*reset)(void *ctx);          /* USBDEVFS_RESET */
    void *ctx;
};

/* Publishes m at once on the next free bus (2, 3, ...) as device 002;
 * the bridge keeps the pointer. 0, or -1 with a sentence in err. */
int bridge_add_model(struct bridge *b, const struct bridge_model *m, char *err, size_t errlen);
/* "/dev/bus/usb/002/002" and "2-1" of model i (in the order added). */
const char *bridge_model_devnode(const struct bridge *b, unsigned i);
const char *bridge_model_path(const struct bridge *b, unsigned i);

const char *bridge_umockdev_dir(const struct bridge *b);
const char *bridge_preload(const struct bridge *b);   /* the LD_PRELOAD value clients need */
unsigned bridge_devnum(const struct bridge *b);       /* 0 while no device is published */

#endif
