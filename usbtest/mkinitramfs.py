#!/usr/bin/python3
"""Writes the usbtest battery's initramfs (docs/hil.md): a cpio "newc" archive, written here so that
the device node /dev/console can be in it without root. Contents: busybox (static), testusb (static),
the guest init, and the kernel modules the init loads.

Usage: mkinitramfs.py OUT BUSYBOX TESTUSB INIT MODULE.ko..."""
import os
import stat
import sys

CONSOLE = (5, 1)      # /dev/console: the kernel opens it for init's stdin/stdout before devtmpfs is mounted


class Cpio:
    def __init__(self, out):
        self.out = out
        self.ino = 1

    def entry(self, name, mode, data=b"", rdev=(0, 0)):
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out.write(header + name.encode() + b"\0")
        self._pad()
        self.out.write(data)
        self._pad()

    def _pad(self):
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def trailer(self):
        self.entry("TRAILER!!!", 0)


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    out, busybox, testusb, init, modules = argv[1], argv[2], argv[3], argv[4], argv[5:]
    with open(out + ".tmp", "wb") as f:
        cpio = Cpio(f)
        for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"):
            cpio.entry(d, stat.S_IFDIR | 0o755)
        cpio.entry("dev/console", stat.S_IFCHR | 0o600, rdev=CONSOLE)
        cpio.entry("init", stat.S_IFREG | 0o755, open(init, "rb").read())
        cpio.entry("bin/busybox", stat.S_IFREG | 0o755, open(busybox, "rb").read())
        cpio.entry("bin/testusb", stat.S_IFREG | 0o755, open(testusb, "rb").read())
        for m in modules:
            cpio.entry("lib/modules/" + os.path.basename(m), stat.S_IFREG | 0o644, open(m, "rb").read())
        cpio.trailer()
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main(sys.argv)
