/* The usbfs ioctls of the published node, answered like Linux's
 * drivers/usb/core/devio.c would for a full-speed device (umockdev's worker
 * thread). Transfers go to the CPU thread through urb.h; everything else is
 * answered here from the published descriptors and the bookkeeping.
 *
 * Answered: GET_CAPABILITIES, CLAIMINTERFACE, RELEASEINTERFACE,
 * DISCONNECT_CLAIM (there is never a driver to disconnect), GETDRIVER and
 * IOCTL(DISCONNECT) (ENODATA: no driver), SUBMITURB (control, bulk and
 * interrupt; isochronous ones are refused with ENXIO: usbfs_rules.h),
 * REAPURBNDELAY, REAPURB (EAGAIN: a blocking reap cannot be emulated, see
 * measured with Debian's umockdev 0.17), DISCARDURB, CONTROL and BULK (synchronous, with their
 * timeouts in real milliseconds), CLEAR_HALT, SETINTERFACE,
 * SETCONFIGURATION, RESET, CONNECTINFO, GET_SPEED, and the clients'
 * preload's own forms of SUBMITURB and REAPURBNDELAY (usbfs_inline.h: the
 * inline block, the shared area); read() of the node (the
 * descriptors, as usbfs gives them). Anything else: ENOTTY, logged once per
 * request code. After a disconnect everything but the reaps says ENODEV, as
 * in the kernel. */
#ifndef EMU_BRIDGE_USBFS_H
#define EMU_BRIDGE_USBFS_H

#include <stdio.h>

#include "urb.h"

struct usbfs;

/* log: where unknown ioctls are reported (any thread may write to it).
 * The queue is set before the first handler is made (the queue's sync_done
 * callback needs the usbfs, hence two steps). */
struct usbfs *usbfs_new(struct urbq *q, FILE *log);
void usbfs_set_queue(struct usbfs *fs, struct urbq *q);
void usbfs_free(struct usbfs *fs);

/* A new UMockdevIoctlBase answering for dev (it keeps a reference on dev
 * for as long as clients can reach it). g_object_unref when detached. */
void *usbfs_handler_new(struct usbfs *fs, struct usbdev *dev);

/* The urbq's sync_done callback (CPU thread): wakes the worker to answer
 * the synchronous ioctl waiting for u. */
void usbfs_sync_done(void *fs, struct urb *u);

#endif
