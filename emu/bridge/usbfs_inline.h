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
 * inline form answers ENOTTY and the preload goes back to the plain one.
 *
 * The shared area (one per open file of the node, the preload's first
 * choice): the inline block still costs the handler one read of client
 * memory, a round trip over umockdev's socket (two thread wake-ups), and
 * a reap costs a round trip of its own. So the preload makes a sealed
 * memfd (it cannot grow or shrink: the bridge maps it and must not fault
 * on it), and names it once per file with USBFS_SHM_HELLO: the handler
 * opens /proc/<pid>/fd/<fd>, checks seals and size, maps it, and answers
 * with its kick pipe (below). Then a URB that fits a slot goes as
 * USBFS_SHM_SUBMIT(slot index), with the client's urb address, a copy of
 * the urb and of its buffer in the slot: the handler copies them out (no
 * socket read), checks and queues. When such a file's URB completes, the
 * CPU thread writes status, actual_length, error_count and IN data into
 * its slot and publishes the completion in the ring (struct
 * usbfs_shm_head), every completion of the file in completion order (one
 * without a slot as USBFS_SHM_PLAIN). REAPURBNDELAY takes the ring's head
 * entry in the client, by compare-and-swap: the preload copies the results
 * into the client's urb and buffer (those the urb named at submit), stores
 * the urb's address in the client's pointer and frees the slot, with no
 * round trip. The bridge still holds the URB on its lists; it lets go of
 * the entries before head (synced) when the client writes a byte into the
 * kick pipe, which it does after each such reap, and before any ioctl of
 * the file. The node's readiness (urb.h) must drop at once when the last
 * completion is reaped, so then the preload fills the node's FIFO itself;
 * if another file's completion still waits, the bridge drains it again
 * when it reads the kick, so a poll() waits a little, never spins. An
 * entry without a slot, and completions past a full ring, are reaped
 * through the bridge (USBFS_SHM_REAP: it takes the entry the same way and
 * answers 0 after writing through umockdev, or 1 + the slot). One round
 * trip per transfer is left: the submit. Slots are allocated by the
 * clients (a mask in the area's head, atomic: threads and forked children
 * share it; the bridge frees one only when a plain REAPURBNDELAY, from a
 * thread that does not know the area yet, took its URB); the bridge reads
 * a slot at submit (a copy: it never trusts what it reads) and writes it
 * at completion. When slots run out,
 * the buffer is larger than a slot, the handler refuses the area, or the
 * file is not the bridge's, the preload takes the inline block, else the
 * plain path. */
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

/* The shared area: a header page, then USBFS_SHM_SLOTS slots. */
#define USBFS_SHM_HELLO_NR 0xE1
#define USBFS_SHM_SUBMIT_NR 0xE2
#define USBFS_SHM_REAP_NR 0xE3
#define USBFS_SHM_MAGIC 0x4D48534144494CA5ull      /* "\xA5LIDASHM" */
#define USBFS_SHM_SLOTS 64                         /* one 64-bit free mask */
_Static_assert(USBFS_SHM_SLOTS == 64, "the preload's free mask is one uint64_t");
#define USBFS_SHM_DATA (8u + 4096u)                /* a control URB's SETUP + do_proc_control's page */
#define USBFS_SHM_HEAD 8192u                       /* struct usbfs_shm_head */
#define USBFS_SHM_RING 256                         /* completions published, not yet let go */
#define USBFS_SHM_PLAIN 0xFFFFu                    /* a ring entry for a URB without a slot */
#define USBFS_SHM_OVERFLOW 1u                      /* flags: completions past a full ring */
#define USBFS_SHM_PROFILE 2u                       /* flags: stamp reaped_ns (profile.h) */

struct usbfs_shm_ring_entry {
    uint32_t slot;                       /* the URB's slot, or USBFS_SHM_PLAIN */
    uint32_t pad;
    uint64_t reaped_ns;                  /* CLOCK_MONOTONIC when the client took it */
};

/* The area's first pages. head and tail count ring entries (modulo 2^32):
 * the CPU thread publishes each completion of the file at tail (under the
 * bridge's lock), whoever reaps takes the entry at head by compare-and-swap
 * (the client's threads, the worker), and the worker lets the URBs of the
 * entries before head go (synced). Accessed with atomic builtins only. */
struct usbfs_shm_head {
    uint64_t magic;
    uint64_t free_mask;                  /* the client's: free slots */
    uint32_t head, tail, synced, flags;
    uint8_t pad[4096 - 32];
    struct usbfs_shm_ring_entry ring[USBFS_SHM_RING];
};

struct usbfs_shm_slot {
    uint64_t user_urb;                   /* the client's struct usbdevfs_urb */
    struct usbdevfs_urb urb;             /* its copy at submit; status etc. at reap */
    uint8_t data[USBFS_SHM_DATA];        /* its buffer (buffer_length bytes) */
};

_Static_assert(sizeof(struct usbfs_shm_head) == USBFS_SHM_HEAD, "the area's head");

#define USBFS_SHM_SLOT_SIZE ((sizeof(struct usbfs_shm_slot) + 63) & ~(size_t)63)
#define USBFS_SHM_SIZE (USBFS_SHM_HEAD + USBFS_SHM_SLOTS * USBFS_SHM_SLOT_SIZE)

/* USBFS_SHM_HELLO's argument (read by the handler, once per file). */
struct usbfs_shm_hello {
    uint64_t magic;
    int32_t pid, fd;                     /* the memfd, as /proc/<pid>/fd/<fd> */
    uint64_t size;                       /* USBFS_SHM_SIZE */
    int32_t kick_pid, kick_fd;           /* answer: the bridge's kick pipe, to open for writing */
};

#define USBFS_SHM_HELLO _IOC(_IOC_WRITE, 'U', USBFS_SHM_HELLO_NR, sizeof(struct usbfs_shm_hello))
#define USBFS_SHM_SUBMIT _IO('U', USBFS_SHM_SUBMIT_NR)   /* argument: the slot index */
#define USBFS_SHM_REAP _IO('U', USBFS_SHM_REAP_NR)       /* argument: as REAPURBNDELAY's */

static inline struct usbfs_shm_slot *usbfs_shm_slot(void *area, unsigned i)
{
    return (struct usbfs_shm_slot *)((uint8_t *)area + USBFS_SHM_HEAD + (size_t)i * USBFS_SHM_SLOT_SIZE);
}

static inline int usbfs_is_submit_inline(unsigned long req)
{
    return _IOC_TYPE(req) == 'U' && _IOC_NR(req) == USBFS_INLINE_NR && _IOC_DIR(req) == (_IOC_READ | _IOC_WRITE);
}

#endif
