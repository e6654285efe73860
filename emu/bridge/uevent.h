/* Hot-plug announcements to the clients, as udev would make them. libusb
 * (built with udev, as Debian's is) keeps its device list from udev monitor
 * events after its first scan, so without them a client never sees the
 * dongle leave or come back (a reboot, a power cycle) until it restarts.
 *
 * libumockdev-preload turns each udev monitor socket of a client into a
 * unix datagram socket $UMOCKDEV_DIR/eventN; umockdev's own sender cannot
 * be used here (it reads the device through libudev in this process, which
 * does not run under the preload), so the bridge writes the libudev monitor
 * message itself: a 40-byte header ("libudev", magic 0xfeedcafe, offsets,
 * MurmurHash2 of subsystem and devtype for the monitors' socket filters)
 * followed by KEY=VALUE\0 properties. */
#ifndef EMU_BRIDGE_UEVENT_H
#define EMU_BRIDGE_UEVENT_H

#include <stdint.h>

/* properties: "KEY=VALUE\n" lines (the device's uevent file). Sent to every
 * monitor socket in dir; sockets whose client is gone are removed. */
void uevent_send(const char *dir, const char *action, const char *devpath, const char *subsystem,
                 const char *devtype, const char *properties);

/* systemd's string_hash32 (MurmurHash2, seed 0), what the filters compare. */
uint32_t uevent_hash(const char *s);

#endif
