"""Bringing a lost dongle back between tests, so that one test that loses it
(a power cut, a reboot it did not wait for, a firmware crash) costs that test
alone and not every test after it (conftest.py's _dongle_back fixture,
docs/hil.md "A lost dongle").

After each test that used the dut, DongleWatch.after_test():
  1. a target that is dead for good (hilda-emu exited: a firmware fault, a
     crash of the emulator) is lost at once: nothing can reset it;
  2. waits, bounded, for the dongle to answer in application mode (it may be
     re-enumerating after a reset the test did not wait for): back by itself;
  3. otherwise, where the target can, a pin reset then a power cycle through
     the Target (rig/target.py), each followed by the same wait;
  4. when the dongle answers at a new address (it re-enumerated), the
     session's `hilda batch` reopens it ("wait"), so its next command does not
     fail with no_device.
Presence is asked through a `hilda batch` of its own ("wait": open by the
session's selection and read the device's identity), so the test's batch is
left alone. The waits only bound a hang: nothing here asserts a duration."""
import time

from .batch import BatchError, DeviceError
from .target import CapabilityMissing

# How long the dongle may take to answer after a test (a reboot it did not
# wait for: the application starts and enumerates again), and after a reset
# or a power cycle (the bootloader starts first): a loaded machine fits in
# either many times over
BY_ITSELF_MS = 10000
COME_BACK_MS = 30000
# VBUS off this long in a power cycle: the host sees the dongle leave
POWER_OFF_S = 0.5


class Outcome:
    """What after_test() found. lost: the dongle was gone after the test;
    back: it answers again; how: in a sentence, what brought it back or why
    nothing could; needed_help: a reset or power cycle was needed (it did not
    come back by itself)."""

    def __init__(self, lost, back, how, needed_help=False):
        self.lost, self.back, self.how, self.needed_help = lost, back, how, needed_help

    def __repr__(self):
        return f"Outcome(lost={self.lost}, back={self.back}, how={self.how!r})"


class DongleWatch:
    def __init__(self, dut, by_itself_ms=BY_ITSELF_MS, come_back_ms=COME_BACK_MS):
        self.dut = dut
        self.by_itself_ms = by_itself_ms
        self.come_back_ms = come_back_ms
        self.batch = None
        self.address = None          # (bus, address) where the dongle answered last

    def close(self):
        if self.batch is not None:
            self.batch.close()
            self.batch = None

    def present(self, wait_ms):
        """True when the dongle answers, not in DFU mode, within wait_ms."""
        for attempt in range(2):           # a dead watch batch is started once more
            try:
                if self.batch is None:
                    self.batch = self.dut.open_batch()
                device = self.batch.call("wait", wait_ms=wait_ms, timeout_s=wait_ms / 1000 + 30)["device"]
            except DeviceError:
                return False
            except BatchError:
                self.close()
                if attempt:
                    return False
                continue
            self._moved = self.address is not None and (device.get("bus"), device.get("address")) != self.address
            self.address = (device.get("bus"), device.get("address"))
            return device.get("mode") != "bootloader"     # application, or a foreign firmware's "other"
        return False

    def after_test(self, session_batch=None):
        """Outcome of checking (and, if need be, bringing back) the dongle after a test."""
        self._moved = False
        if self._dead_for_good():
            return Outcome(True, False, self.dut.describe_loss())
        if self.present(0):
            self._reopen(session_batch)
            return Outcome(False, True, "it answered")
        if self.present(self.by_itself_ms):
            self._reopen(session_batch, force=True)
            return Outcome(True, True, f"it came back by itself within {self.by_itself_ms / 1000:g} s")
        tried = []
        for name, action in (("reset", self._reset), ("power", self._power_cycle)):
            if name not in self.dut.capabilities:
                tried.append(f"no {name} ({self.dut.capabilities.reason(name)})")
                continue
            what = "a pin reset" if name == "reset" else "a power cycle"
            try:
                action()
            except (CapabilityMissing, RuntimeError, OSError) as e:
                tried.append(f"{what} failed: {e}")
                continue
            if self._dead_for_good():
                return Outcome(True, False, f"{what} ended the target: {self.dut.describe_loss()}", True)
            if self.present(self.come_back_ms):
                self._reopen(session_batch, force=True)
                return Outcome(True, True, f"the harness brought it back with {what}", True)
            tried.append(f"{what}: still gone {self.come_back_ms / 1000:g} s later")
        waited = f"it did not answer within {self.by_itself_ms / 1000:g} s"
        return Outcome(True, False, "; ".join([waited] + tried), True)

    def _dead_for_good(self):
        """hilda-emu has exited (a firmware fault under --sanitize error, a
        crash): nothing is left to reset. On a dongle alive() false only means
        detached, which a reset or a power cycle may mend."""
        return self.dut.kind == "emu" and not self.dut.alive()

    def _reset(self):
        self.dut.reset()

    def _power_cycle(self):
        self.dut.power(False)
        time.sleep(POWER_OFF_S)
        self.dut.power(True)

    def _reopen(self, session_batch, force=False):
        """The session's batch opens the dongle afresh when it re-enumerated."""
        if session_batch is not None and (force or self._moved):
            session_batch.call("wait", wait_ms=self.come_back_ms, timeout_s=self.come_back_ms / 1000 + 30)
