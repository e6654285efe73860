#!/usr/bin/python3
"""Extracts the ELF vmlinux from a Debian bzImage (CONFIG_KERNEL_XZ=y): the
compressed payload starts at the first XZ stream magic (FD 37 7A 58 5A 00);
`xz -dc` decompresses it (trailing bytes after the stream are ignored with a
warning) and the result must start with the ELF magic. qemu boots that ELF
through its PVH note, ~3x faster under TCG than the bzImage (docs/hil.md).

Usage: extract-vmlinux.py BZIMAGE OUT"""
import os
import subprocess
import sys

XZ_MAGIC = b"\xfd7zXZ\x00"
ELF_MAGIC = b"\x7fELF"


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    data = open(argv[1], "rb").read()
    start = data.find(XZ_MAGIC)
    while start >= 0:
        proc = subprocess.run(["xz", "-dc", "--single-stream"], input=data[start:], capture_output=True)
        if proc.stdout[:4] == ELF_MAGIC:
            with open(argv[2] + ".tmp", "wb") as out:
                out.write(proc.stdout)
            os.replace(argv[2] + ".tmp", argv[2])
            return 0
        start = data.find(XZ_MAGIC, start + 1)
    sys.exit(f"extract-vmlinux: no XZ stream holding an ELF image in {argv[1]}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
