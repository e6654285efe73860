"""The harness's own Target interface (rig/target.py), with the bench faked:
both targets implement all of it, a real dongle without the FTDI rig says
why it cannot reset or power-cycle, and alive() really looks on USB. No
device needed: this runs the same on every target."""
import pytest

from rig import hardware
from rig.emulator import EmulatedDongle
from rig.flasher import EXIT_IMAGE, FlashError, Flasher
from rig.hardware import HardwareDongle
from rig.target import CAPABILITIES, Capabilities, CapabilityMissing, Target

SERIAL = "0123456789ABCDEF"


class FakeRig:
    def __init__(self):
        self.calls = []

    def reset(self):
        self.calls.append("reset")

    def power(self, on):
        self.calls.append(f"power {'on' if on else 'off'}")

    def close(self):
        self.calls.append("close")


@pytest.fixture
def attached(monkeypatch):
    """The dongles find_dongles() sees: a list the test changes to plug and unplug."""
    bus = [("application", SERIAL, 3, 7)]
    monkeypatch.setattr(hardware, "find_dongles", lambda: list(bus))
    monkeypatch.delenv("HILDA_RIG_UART", raising=False)
    monkeypatch.setattr(hardware, "POWER_OFF_S", 0)
    return bus


def test_both_targets_implement_the_whole_interface():
    for cls in (EmulatedDongle, HardwareDongle):
        assert issubclass(cls, Target)
        assert not cls.__abstractmethods__, f"{cls.__name__} leaves {sorted(cls.__abstractmethods__)} abstract"


def test_capabilities_name_only_known_capabilities():
    caps = Capabilities({"power": "no switch"})
    assert "reset" in caps and "power" not in caps
    assert caps.reason("power") == "no switch" and caps.reason("reset") == ""
    assert set(caps) == set(CAPABILITIES) - {"power"}
    with pytest.raises(CapabilityMissing, match="power: no switch"):
        caps.require("power")
    with pytest.raises(ValueError):
        "teleport" in caps
    with pytest.raises(ValueError):
        Capabilities({"teleport": "no"})


def test_hardware_without_rig_says_why_it_cannot_reset_or_power(attached):
    dut = HardwareDongle(serial=SERIAL)
    caps = dut.capabilities
    for name in ("reset", "power"):
        assert name not in caps and "HILDA_RIG_FTDI" in caps.reason(name)
    assert "uart" not in caps and "HILDA_RIG_UART" in caps.reason("uart")
    assert "sanitizer" not in caps and dut.sanitizer_reports() == []
    assert "suspend" not in caps and "button" not in caps
    with pytest.raises(CapabilityMissing, match="HILDA_RIG_FTDI"):
        dut.power(False)
    with pytest.raises(CapabilityMissing, match="HILDA_RIG_FTDI"):
        dut.reset()
    with pytest.raises(CapabilityMissing):
        dut.suspend()


def test_hardware_with_rig_resets_and_powers_through_it(attached, monkeypatch):
    monkeypatch.setenv("HILDA_RIG_UART", "/dev/ttyUSB0")
    rig = FakeRig()
    dut = HardwareDongle(serial=SERIAL, rig=rig)
    assert {"reset", "power", "uart"} <= set(dut.capabilities)
    assert dut.uart_path == "/dev/ttyUSB0"
    dut.power(False)
    dut.power(True)
    # a pin reset leaves the factory bootloader in DFU mode: a power cycle starts the firmware again
    dut.reset()
    assert rig.calls == ["power off", "power on", "reset", "power off", "power on"]


def test_hardware_alive_looks_for_the_dongle_on_usb(attached):
    dut = HardwareDongle(serial=SERIAL)
    assert dut.alive()
    attached[:] = [("bootloader", SERIAL, 3, 8)]            # a pin reset: DFU mode is not the firmware
    assert not dut.alive()
    attached[:] = []                                       # unplugged
    assert not dut.alive()
    assert SERIAL in dut.describe_loss()
    attached[:] = [("application", SERIAL, 3, 9)]          # back, with a new device number
    assert dut.alive()
    attached[:] = [("application", "FEDCBA9876543210", 3, 9)]
    assert not dut.alive(), "another dongle is not this one"


def test_hardware_refuses_to_guess_between_dongles(attached):
    attached.append(("application", "FEDCBA9876543210", 1, 2))
    with pytest.raises(LookupError, match="several dongles"):
        HardwareDongle()
    assert HardwareDongle(serial=SERIAL).serial == SERIAL


def test_hardware_before_a_flash_takes_a_dongle_in_dfu_mode(attached):
    attached[:] = [("bootloader", "", 3, 8)]              # Nordic's factory bootloader: another serial
    with pytest.raises(LookupError, match="application mode"):
        HardwareDongle()
    dut = HardwareDongle(modes=("application", "bootloader"))
    assert dut.mode == "bootloader"
    assert dut.flash_select_args() == [], "hilda flash chooses the only dongle itself"
    attached[:] = [("application", SERIAL, 3, 9)]          # after the update
    dut.find_application()
    assert (dut.mode, dut.serial, dut.address) == ("application", SERIAL, 9)
    assert HardwareDongle(serial=SERIAL).flash_select_args() == ["--serial", SERIAL]


def test_hilda_bootloader_counts_as_dfu_mode():
    ids = {(hardware.BOOTLOADER_VID, hardware.BOOTLOADER_PID), hardware.HILDA_BOOTLOADER_IDS}
    assert len(ids) == 2 and (hardware.APP_VID, hardware.APP_PID) not in ids


def _fake_hilda(tmp_path, stdout, code):
    """A stand-in for the hilda binary that prints one line and exits with code."""
    path = tmp_path / "hilda"
    path.write_text(f"#!/bin/sh\necho '{stdout}'\necho \"$@\" > {tmp_path}/args\nexit {code}\n")
    path.chmod(0o755)
    return str(path)


def test_flasher_returns_hildas_json(tmp_path):
    ok = '{"ok":true,"command":"flash","entry":"already_in_dfu"}'
    result = Flasher(_fake_hilda(tmp_path, ok, 0), env={}).flash("app.elf", "--test-corrupt-object", "2")
    assert result["entry"] == "already_in_dfu"
    assert (tmp_path / "args").read_text().split() == ["flash", "--json", "--test-corrupt-object", "2", "app.elf"]


def test_flasher_failure_carries_hildas_sentence(tmp_path):
    refused = '{"ok":false,"command":"flash","error":"image","message":"the image is too large","exit_code":12}'
    with pytest.raises(FlashError, match="exit 12 \\(image\\): the image is too large") as caught:
        Flasher(_fake_hilda(tmp_path, refused, EXIT_IMAGE), env={}).flash("huge.bin")
    assert caught.value.exit_code == EXIT_IMAGE and caught.value.result["error"] == "image"
    assert Flasher(_fake_hilda(tmp_path, refused, EXIT_IMAGE), env={}).run("huge.bin")[0] == EXIT_IMAGE
