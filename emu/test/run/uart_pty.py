#!/usr/bin/python3
"""The project firmware boots in hilda-emu and answers on its UART through the
pseudo-terminal, opened with pyserial like a real serial port.

usage: uart_pty.py HILDA_EMU FIRMWARE
Checks: the boot banner arrives after a pin reset, ENQ (0x05) gets the banner back, twice, and
the control channel reports the same pty path and no sanitizer report."""
import os
import re
import subprocess
import sys
import tempfile

import serial

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))
from rig.control import ControlClient  # noqa: E402  (the one client of the control channel)

BANNER = re.compile(rb"hilda \d+\.\d+ [0-9A-F]{16}\r\n")


def read_line(port, timeout=5.0):
    port.timeout = timeout
    line = port.read_until(b"\n")
    if not line.endswith(b"\n"):
        sys.exit(f"uart_pty: no complete line within {timeout} s, got {line!r}")
    return line


def read_banner(port):
    """The banner of the boot the reset started. The first boot's banner may
    still be on its way when the port opens (pyserial flushes the input at
    open, so its head can be gone) and the reset may cut it short: what comes
    before the new banner must be a piece of one, nothing else."""
    pieces = []
    for _ in range(3):
        line = read_line(port)
        m = BANNER.search(line)
        if m and m.end() == len(line):
            banner = m.group(0)
            for piece in pieces + [line[:m.start()]]:
                assert piece in banner, (piece, banner)
            return banner
        pieces.append(line)
    sys.exit(f"uart_pty: no banner after the reset, got {pieces!r}")


def main():
    emu, firmware = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "control")
        proc = subprocess.Popen([emu, "--firmware", firmware, "--uart", "pty", "--control", sock],
                                stderr=subprocess.PIPE, text=True)
        try:
            control = ControlClient.wait_for(sock, wait_s=10.0, timeout=5.0, alive=lambda: proc.poll() is None)
            info = control.ask("info")
            path = info["uart0"]
            assert path.startswith("/dev/pts/"), info
            with serial.Serial(path, 115200) as port:
                # Opening a port flushes what arrived before (pyserial, like a
                # real port opened late): reset the dongle to see its banner.
                assert control.ask("reset")["ok"]
                banner = read_banner(port)
                for _ in range(2):
                    port.write(b"\x05")
                    answer = read_line(port)
                    assert answer == banner, (answer, banner)
            counters = control.ask("counters")
            assert counters["sanitizer_reports"] == 0, counters
            assert counters["dma_transfers"] >= 3, counters
            assert control.ask("quit")["ok"]
            rc = proc.wait(timeout=10)
            assert rc == 0, f"hilda-emu exited with {rc}"
            control.close()
        finally:
            if proc.poll() is None:
                proc.kill()
            log = proc.communicate()[1]
    print(f"uart_pty: banner {banner!r} at boot and twice on ENQ via {path}")
    print(log, end="")


if __name__ == "__main__":
    main()
