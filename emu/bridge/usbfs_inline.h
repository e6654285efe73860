/* The inline SUBMITURB between the clients' preload (usbfs_preload.c) and
 * the bridge's usbfs handler (usbfs.c).
 *
 * Through umockdev a plain USBDEVFS_SUBMITURB costs three round trips over
 * its socket: the ioctl, then the handler's read of the struct usbdevfs_urb,
 * then its read of the buffer the urb points to. The preload instead sends
 * one block holding both, whose size the request code carries, so the
 * handler reads it in one go: USBFS_SUBMIT_INLINE(total) with a pointer to
 *   [0, 8)    USBFS_INLINE_MAGIC
 *   [8, 16)   the address of the client's own struct usbdevfs_urb
 *   [16, 72)  a copy of that urb
 *   [72, ..)  a copy of its buffer (buffer_length bytes)
 * The block stays with the URB: the reap writes status, actual_length,
 * error_count and IN data into it and hands back the block's address; the
 * preload copies them into the client's urb and buffer, answers with the
 * urb's own address and frees the block. What the client sees is what a
 * plain SUBMITURB gives; the bridge applies the same checks in the same
 * order (DISCARDURB still names the client's urb). A handler without the
 * inline form answers ENOTTY and the preload goes back to the plain one. */
#ifndef EMU_BRIDGE_USBFS_INLINE_H
#define EMU_BRIDGE_USBFS_INLINE_H

#include <stdint.h>
#include <sys/ioctl.h>   /* _IOC and friends, which usbdevice_fs.h uses without including */
#include <linux/usbdevice_fs.h>

#define USBFS_INLINE_NR 0xE0                     /* unused by Linux's usbfs ('U' 0..0x20s) */
/* first byte 0xA5: never a struct usbdevfs_urb's type (0..3) */
#define USBFS_INLINE_MAGIC 0x4255524C494448A5ull   /* "\xA5HDILRUB" */
#define USBFS_INLINE_ADDR_OFF 8
#define USBFS_INLINE_URB_OFF 16
#define USBFS_INLINE_HDR (USBFS_INLINE_URB_OFF + sizeof(struct usbdevfs_urb))
#define USBFS_INLINE_MAX ((size_t)_IOC_SIZEMASK)   /* what the request code can carry */
#define USBFS_SUBMIT_INLINE(total) _IOC(_IOC_READ | _IOC_WRITE, 'U', USBFS_INLINE_NR, (total))

static inline int usbfs_is_submit_inline(unsigned long req)
{
    return _IOC_TYPE(req) == 'U' && _IOC_NR(req) == USBFS_INLINE_NR && _IOC_DIR(req) == (_IOC_READ | _IOC_WRITE);
}

#endif
