"""Scenarios of a lost dongle, for tests/test_recovery.py, which runs them with
pytest in a subprocess against the emulated dongle and reads the outcome.
Not collected by a normal run (the name does not start with test_): several
of them fail on purpose."""
import pytest

from helpers import USB, device_descriptor


@pytest.mark.needs("power")
@pytest.mark.loses_dongle("the scenario: the dongle left unplugged on purpose")
def test_unplug_on_purpose(usb, dut):
    dut.power(False)


@pytest.mark.needs("power")
def test_unplug_and_forget(usb, dut):
    dut.power(False)


def test_answers_at_once(usb):
    # no wait: the session's batch must already hold the dongle that came back
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


def test_answers_too(usb):
    assert len(device_descriptor(usb)) == USB.DT_DEVICE_SIZE


@pytest.mark.emu_only("kills hilda-emu: a crash of the emulator")
def test_kill_the_emulator(dut):
    dut.proc.kill()
    dut.proc.wait()


def test_without_the_dongle():
    assert USB.DT_DEVICE_SIZE == 18      # needs no dongle: runs whatever happened to it
