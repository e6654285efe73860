"""A real dongle on this machine's USB: found in sysfs (rig/usbscan.py), in
application mode (the hilda firmware) or in its factory bootloader. A Target
(rig/target.py): reset and power go through the bench rig (`hilda rig`, the
Bench of rig/bench.py) when the rig description has an entry for this dongle;
the UART is the serial port the entry names (HILDA_RIG_UART overrides it)."""
import os
import time

from . import usbscan
from .target import Capabilities, Target, usb_id_text
from .vocabulary import APP_VID, APP_PID, BOOTLOADER_VID, BOOTLOADER_PID, read_header  # noqa: F401

# hilda's own DFU bootloader (firmware/bootloader): its USB identity from include/hilda/bootloader.h
_BOOTLOADER_H = read_header(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                         "include", "hilda", "bootloader.h"))[0]
HILDA_BOOTLOADER_IDS = (_BOOTLOADER_H["HILDA_BOOTLOADER_VID"], _BOOTLOADER_H["HILDA_BOOTLOADER_PID"])

# How long a foreign application may take to enumerate after `hilda flash --no-verify`
APP_WAIT_S = 20

NO_RIG = ("no bench rig: give its description with --rig FILE or HILDA_RIG (an FTDI adapter on the reset line "
          "and the VBUS switch, docs/rig.md)")
NO_UART = ("no UART adapter: name it as \"uart\" in the rig description, or set HILDA_RIG_UART "
           "(docs/rig.md)")


def find_dongles(device_id=None):
    """[(mode, serial, bus, address)] of every hilda dongle attached; [] when
    this machine has no USB. device_id: the (vid, pid) of a foreign firmware,
    which then counts as the application. Read from sysfs (rig/usbscan.py),
    as the session's start did: the serial number without opening the device."""
    try:
        devices, _ = usbscan.list_devices()
    except OSError:              # no /sys/bus/usb: no hardware here
        return []
    found = []
    for dev in devices:
        ids = (dev.vid, dev.pid)
        if ids == (device_id or (APP_VID, APP_PID)):
            mode = "application"
        elif ids in ((BOOTLOADER_VID, BOOTLOADER_PID), HILDA_BOOTLOADER_IDS):
            mode = "bootloader"          # Nordic's factory bootloader or hilda's, in DFU mode
        else:
            continue
        found.append((mode, dev.serial, dev.bus, dev.address))
    return found


class HardwareDongle(Target):
    kind = "hw"

    def __init__(self, serial=None, bench=None, hilda=None, modes=("application",), device_id=None, foreign=""):
        """bench: a Bench (rig/bench.py) for power and pin reset, or None;
        without a serial, the serial its rig entry names.
        hilda: the host tool, for firmware_identity() and open_batch().
        modes: the modes the dongle may be found in; ("application",
        "bootloader") before flashing, since `hilda flash` also takes a dongle
        already in DFU mode (then call find_application() after the flash).
        device_id, foreign: see Target (a foreign firmware's USB IDs, and why
        it lacks hilda_protocol)."""
        self.device_id = device_id
        self.foreign = foreign
        if not serial and bench is not None and bench.entry is not None:
            serial = bench.entry.dongle or None
        self.wanted_serial = serial
        self._attach(serial, modes)
        self.bench = bench
        self.hilda = hilda
        self.uart_path = rig_uart_path(bench)
        self.control = None

    def _find(self):
        # hilda's dongle by find_dongles() alone: tests/test_rig.py stands in for it with a fake
        return find_dongles(self.device_id) if self.device_id else find_dongles()

    def _attach(self, serial, modes):
        dongles = [d for d in self._find() if d[0] in modes]
        if serial:
            dongles = [d for d in dongles if d[1] == serial]
        if not dongles:
            what = f"device {usb_id_text(self.device_id)}" if self.device_id else "hilda dongle"
            raise LookupError(f"no {what} in {' or '.join(modes)} mode is attached"
                              + (f" with serial {serial}" if serial else ""))
        if len(dongles) > 1:
            listing = ", ".join(f"{s or '?'} ({m}, bus {b} device {a})" for m, s, b, a in dongles)
            raise LookupError(f"several dongles are attached ({listing}): choose one with --dongle SERIAL")
        self.mode, self.serial, self.bus, self.address = dongles[0]

    def find_application(self, wait_s=APP_WAIT_S):
        """After a flash: the dongle again, now running the application (its
        serial number may differ from the factory bootloader's). hilda flash
        waits for hilda's application itself, not for a foreign one (--no-verify):
        that may still be enumerating, so it is looked for up to wait_s."""
        end = time.monotonic() + wait_s
        while True:
            try:
                return self._attach(self.wanted_serial, ("application",))
            except LookupError:
                if time.monotonic() >= end:
                    raise
                time.sleep(0.25)

    def flash_select_args(self):
        """hilda flash's selection (rig/flasher.py): the --dongle serial if one
        was given, else none (_attach saw exactly one dongle). Not the serial
        found: Nordic's factory bootloader shows another serial number than
        the application hilda waits for after the update."""
        return ["--serial", self.wanted_serial] if self.wanted_serial else []

    @property
    def capabilities(self):
        missing = {
            **self.firmware_missing(),
            "sanitizer": "a real nRF52840 has no DMA sanitizer: only the emulator watches DMA ownership",
            "suspend": "the bench cannot suspend the dongle's USB port on demand",
            "button": "the bench rig does not wire SW1 (docs/rig.md)",
        }
        if self.bench is None:
            for name in ("rig", "reset", "power"):
                missing[name] = NO_RIG
        if not self.uart_path:
            missing["uart"] = NO_UART
        return Capabilities(missing)

    def client_env(self, base=None):
        return dict(base if base is not None else os.environ)

    def reset(self):
        """SW2 pulled low through the rig (`hilda rig reset`). The bootloader
        answers a pin reset by staying in DFU mode (docs/firmware.md, "Boot
        rules"), so a power cycle follows (`hilda rig power cycle`, off for
        the entry's off_ms): after a power-on reset the bootloader starts the
        firmware under test."""
        self.capabilities.require("reset")
        self.bench.reset()
        self.bench.cycle()

    def power(self, on):
        self.capabilities.require("power")
        self.bench.power(bool(on))

    def alive(self):
        """Whether the dongle is still attached in application mode: looked up on
        USB by its serial number (by its bus when the serial is unreadable; the
        device number changes on every re-enumeration)."""
        for mode, serial, bus, _ in self._find():
            if mode != "application":
                continue
            same = serial == self.serial if self.serial else bus == self.bus
            if same:
                return True
        return False

    def describe_loss(self):
        return (f"the dongle {self.serial or f'on bus {self.bus}'} is no longer attached in application mode "
                f"(found now: {self._find() or 'nothing'})")



def rig_uart_path(bench=None):
    """The bench's USB-serial adapter wired to the dongle's UART pins:
    HILDA_RIG_UART if set, else the "uart" of the dongle's rig entry; empty if none."""
    override = os.environ.get("HILDA_RIG_UART", "")
    if override:
        return override
    if bench is not None and bench.entry is not None:
        return bench.entry.uart
    return ""
