"""The harness's own Target interface (rig/target.py) and the bench rig's
Python side (rig/bench.py), with the bench faked: both targets implement all
of it, a real dongle without a rig says why it cannot reset or power-cycle,
alive() really looks on USB, the rig description is read and checked, each
xdist worker gets its own dongle, and `hilda rig` is called as the contract
says (a stand-in script records its arguments). No device needed: this runs
the same on every target."""
import json
import os
import subprocess
import sys

import pytest

from rig import hardware
from rig.bench import (Bench, RigError, RigEntry, check_enough_entries, entry_for_dongle, entry_for_worker,
                       load_description, parse_description, worker_slot)
from rig.emulator import EmulatedDongle
from rig.flasher import EXIT_IMAGE, FlashError, Flasher
from rig.hardware import HardwareDongle
from rig.report import RunReport
from rig.target import CAPABILITIES, Capabilities, CapabilityMissing, Target

SERIAL = "0123456789ABCDEF"
OTHER_SERIAL = "FEDCBA9876543210"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rig_entry(dongle=SERIAL, adapter="A10KXYZ", uart="", **extra):
    """One dongle's entry of a rig description, as docs/rig.md writes it."""
    entry = {"dongle": dongle, "adapter": {"serial": adapter, "vid": "0403", "pid": "6001", "interface": "A"},
             "reset": {"pin": 0, "ms": 50}, "power": {"pin": 1, "active": "high", "off_ms": 500}}
    if uart:
        entry["uart"] = uart
    entry.update(extra)
    return entry


class FakeBench:
    """A Bench that records what it was asked instead of running `hilda rig`."""

    def __init__(self, entry=None):
        self.calls = []
        self.entry = entry
        self.path = "/tmp/rig.json"

    def reset(self, ms=None):
        self.calls.append("reset")

    def power(self, on):
        self.calls.append(f"power {'on' if on else 'off'}")

    def cycle(self, off_ms=None):
        self.calls.append("power cycle")

    def flash_args(self):
        return ["--rig", self.path]


@pytest.fixture
def attached(monkeypatch):
    """The dongles find_dongles() sees: a list the test changes to plug and unplug."""
    bus = [("application", SERIAL, 3, 7)]
    monkeypatch.setattr(hardware, "find_dongles", lambda: list(bus))
    monkeypatch.delenv("HILDA_RIG_UART", raising=False)
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
    for name in ("rig", "reset", "power"):
        assert name not in caps and "--rig FILE" in caps.reason(name) and "HILDA_RIG" in caps.reason(name)
    assert "uart" not in caps and "HILDA_RIG_UART" in caps.reason("uart") and '"uart"' in caps.reason("uart")
    assert "sanitizer" not in caps and dut.sanitizer_reports() == []
    assert "suspend" not in caps and "button" not in caps
    with pytest.raises(CapabilityMissing, match="--rig FILE"):
        dut.power(False)
    with pytest.raises(CapabilityMissing, match="--rig FILE"):
        dut.reset()
    with pytest.raises(CapabilityMissing):
        dut.suspend()
    assert dut.bench is None and dut.flash_rig_args() == []


def test_hardware_with_rig_resets_and_powers_through_it(attached):
    entry = parse_description(rig_entry(uart="/dev/ttyUSB1"))[0]
    bench = FakeBench(entry)
    dut = HardwareDongle(bench=bench)
    assert dut.serial == SERIAL, "the dongle is the one the rig entry names"
    assert {"rig", "reset", "power", "uart"} <= set(dut.capabilities)
    assert dut.uart_path == "/dev/ttyUSB1", "the UART is the rig entry's"
    dut.power(False)
    dut.power(True)
    # a pin reset leaves the bootloader in DFU mode: a power cycle starts the firmware again
    dut.reset()
    assert bench.calls == ["power off", "power on", "reset", "power cycle"]
    assert dut.flash_rig_args() == ["--rig", bench.path]
    assert dut.dongle_name() == f"hw {SERIAL} (rig entry 0, adapter A10KXYZ)"


def test_hilda_rig_uart_overrides_the_rig_entry(attached, monkeypatch):
    monkeypatch.setenv("HILDA_RIG_UART", "/dev/ttyACM7")
    entry = parse_description(rig_entry(uart="/dev/ttyUSB1"))[0]
    assert HardwareDongle(bench=FakeBench(entry)).uart_path == "/dev/ttyACM7"


def test_the_emulator_says_where_its_reset_goes():
    """The emulated dongle always resets and powers; through `hilda rig` when it has its virtual bench."""
    dongle = EmulatedDongle.__new__(EmulatedDongle)
    dongle.uart_path, dongle.sanitize, dongle.bench = "/dev/pts/9", "warn", None
    caps = dongle.capabilities
    assert {"reset", "power", "uart", "sanitizer", "suspend", "button"} <= set(caps)
    assert "rig" not in caps and "HILDA_RIG" in caps.reason("rig")
    dongle.bench = FakeBench()
    assert "rig" in dongle.capabilities


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
    attached.append(("application", OTHER_SERIAL, 1, 2))
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


def test_flasher_passes_the_rig_to_hilda_flash(tmp_path, attached):
    ok = '{"ok":true,"command":"flash","entry":"rig_reset"}'
    dut = HardwareDongle(serial=SERIAL, bench=FakeBench(), hilda=_fake_hilda(tmp_path, ok, 0))
    Flasher(dut).flash("app.elf")
    assert (tmp_path / "args").read_text().split() == \
        ["flash", "--json", "--serial", SERIAL, "--rig", "/tmp/rig.json", "app.elf"]


# ---- the rig description (docs/rig.md) ----

def _write(tmp_path, data, name="rig.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_a_description_lists_dongles_or_is_one_entry_alone(tmp_path):
    one = load_description(_write(tmp_path, rig_entry(uart="/dev/ttyUSB1")))
    assert [(e.index, e.dongle, e.adapter_serial, e.uart) for e in one] == [(0, SERIAL, "A10KXYZ", "/dev/ttyUSB1")]
    two = load_description(_write(tmp_path, {"dongles": [rig_entry(), rig_entry(OTHER_SERIAL, "B20KXYZ")]}))
    assert [(e.index, e.dongle, e.adapter_serial, e.uart) for e in two] == \
        [(0, SERIAL, "A10KXYZ", ""), (1, OTHER_SERIAL, "B20KXYZ", "")]
    assert two[1].raw["power"]["off_ms"] == 500, "the entry goes to hilda as it was written"
    # one dongle on the bench: no serial needed anywhere, defaults for the pins
    bare = parse_description({"adapter": {}})[0]
    assert (bare.dongle, bare.adapter_serial, bare.uart) == ("", "", "")
    assert bare.describe() == "entry 0" and two[1].describe() == f"{OTHER_SERIAL} (adapter B20KXYZ)"


@pytest.mark.parametrize("data, complaint", [
    ("{not json", "is not JSON"),
    ("[]", "JSON object is expected"),
    ({"dongles": []}, "non-empty array"),
    ({"dongles": [rig_entry(), rig_entry(dongle="")]}, "every entry needs its \"dongle\" serial"),
    ({"dongles": [rig_entry(), rig_entry(adapter="B")]}, f"dongle serial {SERIAL} appears in several"),
    ({"dongles": [rig_entry(), rig_entry(OTHER_SERIAL)]}, "adapter serial A10KXYZ appears in several"),
    (rig_entry(reset={"pin": 8}), "reset pin 8 is not one of the adapter's pins"),
    (rig_entry(power={"pin": "D1"}), "power pin 'D1'"),
    (rig_entry(power={"pin": 1, "active": "on"}), "neither \"high\" nor \"low\""),
    (rig_entry(adapter="x", uart=None) | {"uart": 5}, "uart must be a string"),
    (rig_entry() | {"adapter": "A10KXYZ"}, "\"adapter\" must be an object"),
], ids=["not-json", "not-object", "no-dongles", "unnamed", "same-dongle", "same-adapter", "pin-range",
        "pin-type", "polarity", "uart-type", "adapter-type"])
def test_a_malformed_description_says_what_is_wrong(tmp_path, data, complaint):
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match=complaint.replace("(", "\\(")) as caught:
        load_description(path)
    assert path in str(caught.value), "the message names the file"


def test_a_missing_description_says_so(tmp_path):
    with pytest.raises(ValueError, match="cannot read the rig description"):
        load_description(str(tmp_path / "absent.json"))


# ---- several dongles: xdist worker N takes entry N ----

def test_each_worker_takes_its_own_entry():
    entries = parse_description({"dongles": [rig_entry(), rig_entry(OTHER_SERIAL, "B"), rig_entry("C", "C")]})
    assert [entry_for_worker(entries, n, 3).dongle for n in range(3)] == [SERIAL, OTHER_SERIAL, "C"]
    assert entry_for_worker(entries, 0, 1).dongle == SERIAL, "without xdist: the first entry"
    assert check_enough_entries(entries, 2, "rig.json") == ""
    with pytest.raises(ValueError, match="4 workers but the rig description rig.json lists 3 dongle\\(s\\)"):
        entry_for_worker(entries, 0, 4, "rig.json")
    assert "-n 3 or fewer" in check_enough_entries(entries, 4, "rig.json")
    assert entry_for_dongle(entries, "C").index == 2
    with pytest.raises(LookupError, match="no entry for the dongle X"):
        entry_for_dongle(entries, "X")


def test_worker_slot_reads_xdists_environment():
    assert worker_slot({}) == (0, 1)
    assert worker_slot({"PYTEST_XDIST_WORKER": "gw1", "PYTEST_XDIST_WORKER_COUNT": "2"}) == (1, 2)


def test_fewer_dongles_than_workers_is_one_usage_error(tmp_path):
    """Said once, by the controller, before any worker or dongle is touched."""
    path = _write(tmp_path, rig_entry())
    proc = subprocess.run([sys.executable, "-m", "pytest", "--target", "hw", "--rig", path, "-n", "2",
                           "-p", "no:cacheprovider", "--results", str(tmp_path / "results"),
                           "tests/test_vocabulary.py"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert out.count("2 workers but the rig description") == 1, out
    assert "-n 1 or fewer" in out


# ---- `hilda rig` as a subprocess ----

def _fake_hilda_rig(tmp_path, stdout, code=0):
    """A stand-in for hilda: records its arguments and the description it was given, prints stdout."""
    path = tmp_path / "hilda"
    path.write_text("#!/bin/sh\n"
                    f"echo \"$@\" >> {tmp_path}/calls\n"
                    "while [ $# -gt 0 ]; do [ \"$1\" = --rig ] && cp \"$2\" " f"{tmp_path}/given.json; shift; done\n"
                    f"echo '{stdout}'\nexit {code}\n")
    path.chmod(0o755)
    return str(path)


def test_bench_runs_hilda_rig_on_a_file_with_its_entry_alone(tmp_path):
    entries = parse_description({"dongles": [rig_entry(), rig_entry(OTHER_SERIAL, "B")]})
    hilda = _fake_hilda_rig(tmp_path, '{"ok":true,"command":"rig"}')
    bench = Bench(hilda, entries[1], str(tmp_path / "worker"))
    assert bench.reset()["ok"]
    bench.reset(ms=20)
    bench.power(False)
    bench.power(True)
    bench.cycle()
    bench.cycle(off_ms=100)
    bench.pins()
    rig = bench.path
    assert (tmp_path / "calls").read_text().splitlines() == [
        f"rig reset --rig {rig} --json", f"rig reset --ms 20 --rig {rig} --json",
        f"rig power off --rig {rig} --json", f"rig power on --rig {rig} --json",
        f"rig power cycle --rig {rig} --json", f"rig power cycle --off-ms 100 --rig {rig} --json",
        f"rig pins --rig {rig} --json"]
    given = json.loads((tmp_path / "given.json").read_text())
    assert given == entries[1].raw, "hilda sees this worker's entry alone"
    assert parse_description(given)[0].dongle == OTHER_SERIAL
    assert bench.flash_args() == ["--rig", rig]


@pytest.mark.parametrize("code, sentence", [
    (3, "no adapter: plug in the FTDI adapter of the rig"),
    (4, "two adapters: choose with --adapter SERIAL"),
    (10, "no permission: add the udev rule of docs/rig.md"),
])
def test_bench_failure_carries_hildas_sentence(tmp_path, code, sentence):
    reply = json.dumps({"ok": False, "command": "rig", "message": sentence, "exit_code": code})
    bench = Bench(_fake_hilda_rig(tmp_path, reply, code), path=_write(tmp_path, rig_entry()))
    with pytest.raises(RigError, match=f"hilda rig power cycle failed with exit {code}: ") as caught:
        bench.cycle()
    assert sentence in str(caught.value) and caught.value.exit_code == code
    assert caught.value.result["ok"] is False


def test_bench_failure_without_json_says_what_hilda_wrote(tmp_path):
    hilda = tmp_path / "hilda"
    hilda.write_text("#!/bin/sh\necho 'hilda: unknown command rig' >&2\nexit 2\n")
    hilda.chmod(0o755)
    with pytest.raises(RigError, match="exit 2: hilda: unknown command rig"):
        Bench(str(hilda), path=_write(tmp_path, rig_entry())).reset()


def test_bench_needs_an_entry_or_a_file():
    with pytest.raises(ValueError):
        Bench("hilda")
    with pytest.raises(ValueError):
        Bench("hilda", RigEntry(0, "", "", "", {}), path="rig.json")


# ---- the report says which dongle ran which test ----

def test_report_names_the_dongle_of_each_test(tmp_path):
    report = RunReport(str(tmp_path / "run"))
    report.add_result("tests/test_a.py::test_one", "passed", 0.1, "", f"gw0: hw {SERIAL} (rig entry 0)")
    report.add_result("tests/test_a.py::test_two", "passed", 0.1, "", f"gw1: hw {OTHER_SERIAL} (rig entry 1)")
    report.add_result("tests/test_b.py::test_no_dongle", "passed", 0.1)
    report.write()
    md = (tmp_path / "run" / "report.md").read_text()
    assert "| test | result | seconds | total s | dongle | detail |" in md
    assert f"| `tests/test_a.py::test_two` | passed | 0.100 | 0.000 | gw1: hw {OTHER_SERIAL} (rig entry 1) |" in md
    assert "| `tests/test_b.py::test_no_dongle` | passed | 0.100 | 0.000 | - |" in md
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["dongles"][f"gw0: hw {SERIAL} (rig entry 0)"] == ["tests/test_a.py::test_one"]
