"""The one interface of a device under test: what a test may ask of the dongle
whether it is emulated (rig/emulator.py) or plugged in (rig/hardware.py).
conftest.py hands it to the tests as the `dut` fixture (docs/hil.md).

    dut.reset()                 pin reset; the firmware under test boots again
    dut.power(False)            the dongle loses VBUS (unplugged); power(True) plugs it back
    dut.suspend(), dut.resume() the host suspends / resumes the bus
    dut.button(True)            SW1 held down (False: released)
    dut.uart_path               the serial port wired to the dongle's UART ("" if none)
    dut.firmware_identity()     what the running firmware says it is (over USB)
    dut.sanitizer_reports()     the emulator's DMA sanitizer reports ([] on hardware)
    dut.bench                   the bench rig, `hilda rig` bound to this dongle (rig/bench.py), or None
    dut.dongle_name()           which dongle this is, for the report
    dut.capabilities            which of the above this target can do, and why not
    dut.device_id               (vid, pid) the firmware under test enumerates as (None: hilda's own)
    dut.usb_identity()          what the device says it is in its descriptors (any firmware)

A target that cannot do something raises CapabilityMissing with the reason,
and says so beforehand in .capabilities, so a test can skip with that reason
instead of failing (@pytest.mark.needs("power"), conftest.py)."""
import abc
from dataclasses import dataclass

from .batch import HildaBatch
from .vocabulary import P, STRUCTS

# The capability names a target reports and a test may need: name -> what it means.
CAPABILITIES = {
    "reset": "a pin reset on demand, after which the firmware under test runs again",
    "power": "switching the dongle's VBUS off and on (unplug and plug in)",
    "rig": "the bench rig: an FTDI adapter on the reset line and the VBUS switch, driven by `hilda rig`",
    "uart": "a serial port wired to the dongle's UART pins",
    "sanitizer": "the DMA sanitizer's reports (only the emulator watches DMA ownership)",
    "suspend": "suspending and resuming the USB bus on demand",
    "button": "pressing and releasing SW1 on demand",
    "hilda_protocol": "the device runs hilda's firmware and answers its vendor protocol (docs/protocol.md): "
                      "echo, counters, fault injection, reboot, the UART bridge, GET_VERSION",
}


def usb_id_text(device_id):
    """(0x1209, 0x0001) -> "1209:0001", as lsusb and `hilda --device` write it."""
    return f"{device_id[0]:04x}:{device_id[1]:04x}"


def parse_usb_id(text):
    """"cafe:4007" -> (0xCAFE, 0x4007); ValueError with a sentence otherwise."""
    parts = text.split(":")
    try:
        if len(parts) != 2 or not all(1 <= len(p) <= 4 for p in parts):
            raise ValueError
        return int(parts[0], 16), int(parts[1], 16)
    except ValueError:
        raise ValueError(f"--device {text!r} is not VID:PID in hex (e.g. cafe:4007)") from None


def not_hilda_firmware(device_id):
    """The reason a target lacks hilda_protocol when its firmware is someone else's."""
    return (f"the device under test is {usb_id_text(device_id)}, not hilda firmware: "
            "it does not speak hilda's vendor protocol")


class CapabilityMissing(RuntimeError):
    """The target cannot do what was asked; the message says why."""


class Capabilities:
    """What a target can do: `"power" in dut.capabilities`, and for a missing
    one dut.capabilities.reason("power") says why."""

    def __init__(self, missing):
        """missing: {name: reason} for every capability of CAPABILITIES the target lacks."""
        unknown = set(missing) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}")
        self.missing = dict(missing)
        self.present = frozenset(name for name in CAPABILITIES if name not in self.missing)

    def __contains__(self, name):
        check_capability_name(name)
        return name in self.present

    def __iter__(self):
        return iter(sorted(self.present))

    def reason(self, name):
        """Why the target lacks `name` ("" when it has it)."""
        check_capability_name(name)
        return self.missing.get(name, "")

    def require(self, name):
        if name not in self:
            raise CapabilityMissing(f"{name}: {self.reason(name)}")

    def __repr__(self):
        return f"Capabilities(present={sorted(self.present)}, missing={self.missing})"


def check_capability_name(name):
    if name not in CAPABILITIES:
        raise ValueError(f"unknown capability {name!r}: one of {', '.join(CAPABILITIES)}")


@dataclass(frozen=True)
class FirmwareIdentity:
    """What the running firmware reports: GET_VERSION (struct hilda_version of
    include/hilda/protocol.h) and the serial number string."""
    protocol: int          # HILDA_PROTOCOL_VERSION, major << 8 | minor
    firmware: int          # major << 8 | minor
    git_hash: int          # first 8 hex digits of the built commit, 0 if unknown
    serial: str

    def __str__(self):
        return (f"firmware {self.firmware >> 8}.{self.firmware & 0xFF} (git {self.git_hash:08x}), "
                f"protocol {self.protocol >> 8}.{self.protocol & 0xFF}, serial {self.serial}")


class Target(abc.ABC):
    """A device under test. Subclasses set kind ("emu" or "hw"), hilda (the
    path of the host tool), serial and uart_path, and implement the abstract
    methods; an action the target cannot do raises CapabilityMissing."""

    kind = None
    hilda = None           # the hilda binary (firmware_identity, open_batch)
    serial = ""            # the dongle's serial number ("" if not known yet)
    reported_serial = ""   # the serial the running firmware reported (firmware_identity), for the report
    uart_path = ""         # the serial port wired to the dongle's UART ("" if none)
    bench = None           # rig/bench.py's Bench for this dongle's rig entry, None without a rig
    device_id = None       # (vid, pid) the firmware under test enumerates as; None: hilda's 1209:0001
    foreign = ""           # "" for hilda firmware, else why it lacks hilda_protocol (not_hilda_firmware)

    @property
    @abc.abstractmethod
    def capabilities(self):
        """Capabilities: what this target can do, with the reason for what it cannot."""

    @abc.abstractmethod
    def reset(self):
        """Pin reset. Returns without waiting for the dongle: the firmware under
        test boots again and re-enumerates (a new device number); wait for it
        with the batch's `wait`."""

    @abc.abstractmethod
    def power(self, on):
        """power(False) takes VBUS away (the dongle unplugged), power(True) gives it back."""

    def suspend(self):
        """The host suspends the USB bus."""
        self._missing("suspend")

    def resume(self):
        """The host resumes the USB bus."""
        self._missing("suspend")

    def button(self, pressed):
        """SW1 held down (True) or released (False)."""
        self._missing("button")

    def sanitizer_reports(self):
        """The DMA sanitizer's reports so far (texts); [] where nothing watches DMA."""
        return []

    @abc.abstractmethod
    def client_env(self, base=None):
        """The environment a USB client process (hilda, pyusb) needs to see the dongle."""

    @abc.abstractmethod
    def alive(self):
        """Whether the dongle is still there (emulator running / still attached)."""

    def describe_loss(self):
        """Why alive() became false, in a few lines, for the failure message."""
        return "the dongle is gone"

    def stop(self):
        """Ends the session with this target."""

    def dongle_name(self):
        """Which dongle this is, for the report: its serial and, on a bench, its rig entry."""
        name = self.serial or self.reported_serial or "?"
        if self.bench is not None and self.bench.entry is not None:
            entry = self.bench.entry
            adapter = f", adapter {entry.adapter_serial}" if entry.adapter_serial else ""
            name = f"{name} (rig entry {entry.index}{adapter})"
        return f"{self.kind} {name}"

    def flash_rig_args(self):
        """What `hilda flash` needs to reset the dongle into DFU mode through the rig (rig/flasher.py)."""
        return self.bench.flash_args() if self.bench is not None else []

    def firmware_missing(self):
        """{"hilda_protocol": reason} when the firmware under test is not hilda's, else {}:
        the part of .capabilities that depends on the firmware, not on the target."""
        return {"hilda_protocol": self.foreign} if self.foreign else {}

    def select_args(self):
        """hilda's selection options for this dongle: its IDs when they are not
        hilda's (hilda looks for 1209:0001 by default), its serial when known."""
        ids = ["--device", usb_id_text(self.device_id)] if self.device_id else []
        return ids + (["--serial", self.serial] if self.serial else [])

    def open_batch(self):
        """A `hilda batch` process bound to this dongle (rig/batch.py)."""
        if not self.hilda:
            raise RuntimeError("this target was made without the path of the hilda tool")
        return HildaBatch(self.hilda, self.client_env(), self.select_args())

    def firmware_identity(self, batch=None):
        """FirmwareIdentity read from the device over USB: GET_VERSION and the
        serial number. batch: a HildaBatch bound to this dongle (the `usb`
        fixture); without it a short-lived one is started."""
        own = batch is None
        if own:
            batch = self.open_batch()
        try:
            version = STRUCTS["hilda_version"]
            reply = batch.call("ctrl", bmRequestType=P["HILDA_REQTYPE_IN"], bRequest=P["HILDA_REQ_GET_VERSION"],
                               wLength=version.size)
            fields = version.unpack(bytes.fromhex(reply.get("data", "")))
            serial = batch.call("info")["device"]["serial"]
        finally:
            if own:
                batch.close()
        return FirmwareIdentity(protocol=fields["protocol"], firmware=fields["firmware"],
                                git_hash=fields["git_hash"], serial=serial)

    def usb_identity(self, batch=None):
        """What the device says it is, from hilda's `info` (its IDs, product
        and serial strings): the identity of any firmware, hilda's or not.
        The serial it reports is kept for the report (reported_serial)."""
        own = batch is None
        if own:
            batch = self.open_batch()
        try:
            device = batch.call("info")["device"]
        finally:
            if own:
                batch.close()
        self.reported_serial = device.get("serial") or ""
        product = device.get("product") or "no product string"
        return f"{usb_id_text((device['vid'], device['pid']))} {product}, serial {device.get('serial') or '-'}"

    def _missing(self, name):
        reason = self.capabilities.reason(name) or "not implemented for this target"
        raise CapabilityMissing(f"{name} on the {self.kind} target: {reason}")
