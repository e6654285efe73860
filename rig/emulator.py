"""The emulated dongle for a test session: `hilda-emu serve` with the firmware
under test, the environment its USB clients need, and its control channel.
A Target (rig/target.py): suspend and the button go through the control
channel (docs/emulator.md, "The control channel"); reset and power through
`hilda rig` against the emulator's virtual FTDI adapter, exactly as on a real
bench (rig/bench.py, docs/rig.md), or through the control channel when no
virtual bench is there.

Started on hilda's bootloader (bootloader=True, the default of a pytest
session: build/hilda-bootloader-bare.elf) the chip has no application until
`hilda flash` puts one there (rig/flasher.py), as on a real dongle.
A foreign image (TinyUSB, Zephyr, nRF5 SDK: docs/own-firmware.md) is started
directly, as `hilda-emu --firmware IMAGE` does: one image starts from its own
vector table, at 0x1000 for the dongle layout or 0x0 for the bare one.

sanitize: hilda-emu's mode (off, warn, error), or "fail", the harness's name
for warn when a report fails the test that caused it (conftest.py): the
emulator runs on either way, what a report means is the harness's business."""
import os
import shlex
import signal
import subprocess
import tempfile
import time

from .bench import Bench
from .control import ControlClient
from .target import Capabilities, Target

ENUMERATION_TIMEOUT_S = 60
LOG_TAIL_LINES = 12      # of hilda-emu's log in a startup error: its last words say why, the rest is noise


class EmulatorError(RuntimeError):
    """hilda-emu serve did not give a dongle; the message says why in a sentence
    (and the end of its log). conftest.py fails the session's first test with it."""


class EmulatedDongle(Target):
    kind = "emu"

    def __init__(self, hilda_emu, firmware, sanitize="error", workdir=None, pcap=None, hilda=None,
                 bootloader=False, device_id=None, foreign=""):
        """hilda: the host tool, for firmware_identity() and open_batch().
        bootloader: firmware is hilda's bootloader (an application is flashed
        afterwards), so reset() acts as the bench rig does (see there).
        device_id, foreign: see Target (a foreign image's USB IDs, and why it
        lacks hilda_protocol)."""
        self.hilda = hilda
        self.device_id = device_id
        self.foreign = foreign
        self.bootloader = bootloader
        self.sanitize = sanitize
        self.firmware = os.path.abspath(firmware)
        self.workdir = workdir or tempfile.mkdtemp(prefix="hilda-emu-")
        os.makedirs(self.workdir, exist_ok=True)
        self.env_file = os.path.join(self.workdir, "env")
        self.log_path = os.path.join(self.workdir, "hilda-emu.log")
        # what it prints itself: an error before its log is open (a bad image, no umockdev) is only there
        self.output_path = os.path.join(self.workdir, "hilda-emu.out")
        emu_mode = "warn" if sanitize == "fail" else sanitize
        args = [hilda_emu, "serve", "--firmware", self.firmware, "--sanitize", emu_mode,
                "--env-file", self.env_file, "--log", self.log_path]
        if pcap:
            args += ["--pcap", pcap]
        try:
            with open(self.output_path, "wb") as output:
                self.proc = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
        except OSError as e:
            raise EmulatorError(f"cannot run {hilda_emu}: {e.strerror}") from None
        self.env = self._wait_for_env()
        self.control = ControlClient(self.env["HILDA_EMU_CONTROL"])
        self.uart_path = self.env.get("HILDA_EMU_UART", "")
        self.bench = None
        # reset and power through `hilda rig` and the virtual FTDI adapter
        # whose rig description hilda-emu exports as HILDA_RIG
        if hilda and self.env.get("HILDA_RIG"):
            self.bench = Bench(hilda, path=self.env["HILDA_RIG"], env=self.client_env())

    def _wait_for_env(self):
        end = time.monotonic() + ENUMERATION_TIMEOUT_S
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise EmulatorError(f"hilda-emu serve exited with {self.proc.returncode} before the dongle "
                                    f"enumerated; {self.log_tail()}")
            if os.path.exists(self.env_file):
                env = {}
                with open(self.env_file) as f:
                    for word in shlex.split(f.read(), comments=True):
                        if "=" in word and word != "export":
                            key, value = word.split("=", 1)
                            env[key] = value
                return env
            time.sleep(0.05)
        self.stop()
        raise EmulatorError(f"the emulated dongle did not enumerate within {ENUMERATION_TIMEOUT_S} s; "
                            f"{self.log_tail()}")

    def client_env(self, base=None):
        """The environment a USB client process (hilda, pyusb) needs to see the dongle."""
        env = dict(base if base is not None else os.environ)
        for key in ("UMOCKDEV_DIR", "HILDA_EMU_UART", "HILDA_EMU_CONTROL"):
            env[key] = self.env[key]
        # the virtual bench's description, never a real bench's from the caller's environment
        env.pop("HILDA_RIG", None)
        if self.env.get("HILDA_RIG"):
            env["HILDA_RIG"] = self.env["HILDA_RIG"]
        preload = self.env.get("LD_PRELOAD", "libumockdev-preload.so.0")
        env["LD_PRELOAD"] = f"{env['LD_PRELOAD']}:{preload}" if env.get("LD_PRELOAD") else preload
        return env

    @property
    def capabilities(self):
        missing = self.firmware_missing()
        if self.bench is None:
            missing["rig"] = ("hilda-emu exported no virtual bench (HILDA_RIG), or no hilda tool was given: reset "
                              "and power go through the emulator's control channel")
        if not self.uart_path:
            missing["uart"] = "hilda-emu serve gave UARTE0 no pseudo-terminal"
        if self.sanitize == "off":
            missing["sanitizer"] = "the DMA sanitizer is off (--sanitize off)"
        return Capabilities(missing)

    def counters(self):
        return self.control.request("counters")

    def sanitizer_reports(self):
        return self.control.request("sanitizer")["reports"]

    def reset(self):
        """Pin reset. Under the bootloader a pin reset means "stay in DFU mode"
        (docs/firmware.md, "Boot rules"), so, as the bench rig does with the
        real dongle (rig/hardware.py), a power cycle follows and the bootloader
        starts the application."""
        if self.bench is not None:
            self.bench.reset()
            if self.bootloader:
                self.bench.cycle()
            return
        self.control.request("reset")
        if self.bootloader:
            self.control.request("power", on=False)
            self.control.request("power", on=True)

    def power(self, on):
        if self.bench is not None:
            self.bench.power(bool(on))
        else:
            self.control.request("power", on=bool(on))

    def suspend(self):
        self.control.request("usb", state="suspend")

    def resume(self):
        self.control.request("usb", state="resume")

    def button(self, pressed):
        self.control.request("button", pressed=bool(pressed))

    def log(self, path=None):
        try:
            with open(path or self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self):
        """"its log ends:" and the last lines of hilda-emu's log, else of what it
        printed (an error before the log was open), or that it wrote neither."""
        for path, what in ((self.log_path, "its log ends"), (self.output_path, "it printed")):
            tail = self.log(path).strip().splitlines()[-LOG_TAIL_LINES:]
            if tail:
                return f"{what}:\n" + "\n".join(tail)
        return f"it wrote no log ({self.log_path}) and printed nothing"

    def alive(self):
        return self.proc.poll() is None

    def describe_loss(self):
        return f"hilda-emu exited with {self.proc.returncode} (firmware fault?); {self.log_tail()}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
