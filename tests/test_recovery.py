"""A test that loses the dongle costs that test alone (conftest.py's
_dongle_back, rig/recovery.py): the harness waits for the dongle, resets or
power-cycles it, and the session's batch reopens it, so the next test finds
it answering; a dongle that does not come back fails one test with why and
skips the rest, never a cascade of not_found.
The pair below runs in this session (the second checks the first's dongle
came back when both run on the same xdist worker, and that the dongle answers
in any case); the scenarios of tests/recovery_scenarios.py run in a pytest
subprocess; DongleWatch's steps are checked against a stand-in target."""
import pytest

from helpers import USB, device_descriptor
from rig.batch import DeviceError
from rig.recovery import DongleWatch
from rig.target import Capabilities, CapabilityMissing
from test_harness_options import run_pytest

SCENARIOS = "tests/recovery_scenarios.py::"
LEFT_UNPLUGGED = []          # the nodeid of the test below, once it ran in this process


@pytest.mark.needs("power")
@pytest.mark.loses_dongle("leaves the dongle unplugged: the harness plugs it back before the next test")
def test_a_test_may_leave_the_dongle_unplugged(request, usb, dut):
    dut.power(False)
    gone = usb.raw("ctrl", bmRequestType=USB.RT_DEVICE_IN, bRequest=USB.REQ_GET_DESCRIPTOR,
                   wValue=USB.DT_DEVICE << 8, wLength=USB.DT_DEVICE_SIZE)
    assert not gone["ok"], gone
    LEFT_UNPLUGGED.append(request.node.nodeid)


def test_the_next_test_finds_the_dongle_answering(usb):
    # no wait and no reopening here: the harness did both after the test before
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


# ---- the whole harness, in a subprocess ----

def test_a_dongle_lost_on_purpose_is_back_and_nothing_fails(pytestconfig, tmp_path):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--skip-flash", SCENARIOS + "test_unplug_on_purpose",
                                        SCENARIOS + "test_answers_at_once")
    assert outcomes == {SCENARIOS + "test_unplug_on_purpose": ("passed", ""),
                        SCENARIOS + "test_answers_at_once": ("passed", "")}, output
    assert code == 0, output


def test_the_test_that_loses_the_dongle_fails_alone(pytestconfig, tmp_path):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--skip-flash", SCENARIOS + "test_unplug_and_forget",
                                        SCENARIOS + "test_answers_at_once", SCENARIOS + "test_answers_too")
    outcome, message = outcomes[SCENARIOS + "test_unplug_and_forget"]
    assert outcome == "error", (outcome, message, output)
    assert "the emu dongle was gone after this test; the harness brought it back with a " in message, message
    assert outcomes[SCENARIOS + "test_answers_at_once"] == ("passed", ""), output
    assert outcomes[SCENARIOS + "test_answers_too"] == ("passed", ""), output
    assert code == 1, output


def test_a_dongle_that_never_comes_back_is_one_error_not_a_cascade(pytestconfig, tmp_path):
    killer = SCENARIOS + "test_kill_the_emulator"
    later = [SCENARIOS + "test_answers_at_once", SCENARIOS + "test_answers_too"]
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--skip-flash", killer, *later,
                                        SCENARIOS + "test_without_the_dongle")
    outcome, message = outcomes[killer]
    assert outcome == "error", (outcome, message, output)
    assert "the emu dongle is gone after this test and did not come back" in message, message
    assert "hilda-emu exited with -9" in message, message
    for nodeid in later:
        assert outcomes[nodeid] == ("skipped", f"not run: the dongle did not come back after {killer}"), output
    assert outcomes[SCENARIOS + "test_without_the_dongle"] == ("passed", ""), output
    failed = [nodeid for nodeid, (outcome, _) in outcomes.items() if outcome in ("failure", "error")]
    assert failed == [killer], output
    assert code == 1, output
    report = (tmp_path / "results" / "report.md").read_text()
    assert report.count("hilda-emu exited with -9") == 1, report          # the loss described once, in Faults
    assert f"after `{killer}` (emu " in report and "it did not come back" in report, report
    assert f"| `{killer}` | error |" in report, report


# ---- DongleWatch's steps, against a stand-in target ----

class FakeBatch:
    def __init__(self, dongle):
        self.dongle = dongle
        self.calls = []

    def call(self, cmd, timeout_s=None, **args):
        self.calls.append((cmd, args))
        if not self.dongle.there:
            raise DeviceError("not_found", "no device", {})
        return {"ok": True, "device": {"bus": 1, "address": self.dongle.address, "mode": "application"}}

    def close(self):
        pass


class FakeDongle:
    """A dongle that comes back after the action named by back_after ("reset", "power" or None: never)."""
    kind = "hw"

    def __init__(self, missing=None, back_after=None):
        self.capabilities = Capabilities(missing or {})
        self.back_after = back_after
        self.there = True
        self.address = 5
        self.actions = []

    def alive(self):
        return self.there

    def describe_loss(self):
        return "the dongle is gone"

    def open_batch(self):
        return FakeBatch(self)

    def _act(self, name):
        self.actions.append(name)
        if name == self.back_after:
            self.there, self.address = True, self.address + 1

    def reset(self):
        if "reset" not in self.capabilities:
            raise CapabilityMissing("reset")
        self._act("reset")

    def power(self, on):
        self._act("power on" if on else "power off")
        if on and self.back_after == "power":
            self.there, self.address = True, self.address + 1


def watch_for(dongle):
    return DongleWatch(dongle, by_itself_ms=0, come_back_ms=0)


def test_watch_leaves_an_answering_dongle_alone():
    dongle = FakeDongle()
    session = FakeBatch(dongle)
    outcome = watch_for(dongle).after_test(session)
    assert not outcome.lost and dongle.actions == [] and session.calls == []


def test_watch_resets_first_and_reopens_the_session_batch():
    dongle = FakeDongle(back_after="reset")
    watch = watch_for(dongle)
    watch.after_test()
    dongle.there = False
    session = FakeBatch(dongle)
    outcome = watch.after_test(session)
    assert outcome.lost and outcome.back and outcome.needed_help, outcome
    assert outcome.how == "the harness brought it back with a pin reset"
    assert dongle.actions == ["reset"]
    assert [cmd for cmd, _ in session.calls] == ["wait"]


def test_watch_power_cycles_when_a_reset_is_not_enough():
    dongle = FakeDongle(back_after="power")
    dongle.there = False
    outcome = watch_for(dongle).after_test()
    assert outcome.back and outcome.how == "the harness brought it back with a power cycle", outcome
    assert dongle.actions == ["reset", "power off", "power on"]


def test_watch_says_why_a_dongle_without_rig_stays_lost():
    dongle = FakeDongle(missing={"reset": "no rig", "power": "no rig", "rig": "no rig"})
    dongle.there = False
    outcome = watch_for(dongle).after_test()
    assert outcome.lost and not outcome.back, outcome
    assert outcome.how == "it did not answer within 0 s; no reset (no rig); no power (no rig)"
    assert dongle.actions == []


def test_watch_reopens_the_session_batch_after_a_reenumeration_it_did_not_see():
    dongle = FakeDongle()
    watch = watch_for(dongle)
    watch.after_test()
    dongle.address += 1              # a reboot the test did not wait for, already back
    session = FakeBatch(dongle)
    outcome = watch.after_test(session)
    assert not outcome.lost and [cmd for cmd, _ in session.calls] == ["wait"], outcome
