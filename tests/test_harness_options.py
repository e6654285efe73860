"""The harness's options for firmware that is not hilda's (docs/own-firmware.md),
tested by running pytest itself in a subprocess against the emulated dongle:
a foreign image without --device is one usage error (pytest's exit code 4);
with --device the suites of hilda's vendor protocol skip with the reason and
the generic ones run against that device; --foreign does the same with
hilda's own image. The stand-in for a foreign image is hilda's own application
with its image-info marker scrubbed: it still enumerates as 1209:0001, but
nothing in it says it is hilda's. No dongle of this session is needed."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from rig import hardware
from rig.image import HILDA_IMAGE_MARKER, is_hilda_firmware
from rig.target import parse_usb_id
from rig.vocabulary import APP_PID, APP_VID

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USAGE_ERROR = 4                   # pytest.ExitCode.USAGE_ERROR
HILDA_ID = f"{APP_VID:04x}:{APP_PID:04x}"
# a few tests of each kind: enough to see the skips and the runs, short enough for a nested session
# beside a loaded run (not the descriptor sweep: 8000 transfers, each with hilda's 1 s timeout)
GENERIC = ["tests/test_enumeration.py::test_device_is_found_with_its_ids",
           "tests/test_enumeration.py::test_descriptors_break_no_chapter9_rule",
           "tests/test_enumeration.py::test_every_string_named_can_be_read",
           "tests/test_halt.py::test_set_status_clear",
           "tests/test_robustness.py::test_standard_bad_requests_stall_and_service_continues"]
VENDOR = ["tests/test_echo.py::test_echo_boundary_lengths[64]",
          "tests/test_enumeration.py::test_protocol_version_matches_protocol_h",
          "tests/test_halt.py::test_hilda_firmware_declares_its_bulk_loopback_pair",
          "tests/test_stress.py::test_queued_control_transfers_complete_in_order"]
SESSION_TIMEOUT_S = 600


def run_pytest(pytestconfig, tmp_path, *args):
    """pytest in a subprocess on the emulated dongle, with this run's build;
    (exit code, stdout + stderr, {nodeid: (outcome, message)} from its JUnit XML)."""
    junit = tmp_path / "junit.xml"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--target", "emu",
           "--build", pytestconfig.hilda_build, "--results", str(tmp_path / "results"),
           "--junitxml", str(junit), *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=SESSION_TIMEOUT_S)
    return proc.returncode, proc.stdout + proc.stderr, junit_outcomes(junit)


def junit_outcomes(path):
    if not path.exists():
        return {}
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        nodeid = f"tests/{case.get('classname').split('.')[-1]}.py::{case.get('name')}"
        outcome, message = "passed", ""
        for kind in ("skipped", "failure", "error"):
            element = case.find(kind)
            if element is not None:
                outcome, message = kind, element.get("message", "")
        outcomes[nodeid] = (outcome, message)
    return outcomes


@pytest.fixture(scope="module")
def foreign_image(pytestconfig, tmp_path_factory):
    """hilda's application with its image-info marker scrubbed: a foreign image that enumerates as 1209:0001."""
    with open(os.path.join(pytestconfig.hilda_build, "hilda-dongle.elf"), "rb") as f:
        data = f.read()
    assert data.count(HILDA_IMAGE_MARKER) == 1, "hilda-dongle.elf should carry exactly one image-info marker"
    path = tmp_path_factory.mktemp("foreign") / "scrubbed.elf"
    path.write_bytes(data.replace(HILDA_IMAGE_MARKER, b"NOTHILDA"))
    return str(path)


def test_the_stand_in_is_not_hilda_firmware(pytestconfig, foreign_image):
    assert is_hilda_firmware(os.path.join(pytestconfig.hilda_build, "hilda-dongle.elf"))
    assert is_hilda_firmware(os.path.join(pytestconfig.hilda_build, "hilda-dongle.hex"))
    assert not is_hilda_firmware(foreign_image)
    assert not is_hilda_firmware(os.path.join(pytestconfig.hilda_build, "hilda-bootloader-bare.elf"))


def test_foreign_image_without_device_is_one_usage_error(pytestconfig, tmp_path, foreign_image):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--firmware", foreign_image, *GENERIC)
    assert code == USAGE_ERROR, output
    sentence = f"{foreign_image} is not hilda firmware: give --device VID:PID"
    assert output.count(sentence) == 1, output
    assert outcomes == {}, "no test may run"


@pytest.mark.parametrize("device", ["cafe", "cafe:4007:1", "xyz:0001", "12345:0001"])
def test_a_malformed_device_is_a_usage_error(pytestconfig, tmp_path, device):
    code, output, _ = run_pytest(pytestconfig, tmp_path, "--device", device, "--co")
    assert code == USAGE_ERROR, output
    assert f"--device {device!r} is not VID:PID in hex" in output, output


def assert_foreign_session(code, output, outcomes, reason_end):
    assert set(outcomes) == set(GENERIC + VENDOR), (sorted(outcomes), output)
    for nodeid in GENERIC:
        outcome, message = outcomes[nodeid]
        assert outcome == "passed", f"{nodeid}: {outcome}: {message}"
    for nodeid in VENDOR:
        outcome, message = outcomes[nodeid]
        assert outcome == "skipped", (nodeid, outcomes[nodeid])
        assert message.endswith(f"needs hilda_protocol: the device under test is {HILDA_ID}, not hilda firmware: "
                                f"it does not speak hilda's vendor protocol{reason_end}"), message
    assert code == 0, output


def test_foreign_image_with_device_runs_the_generic_suites(pytestconfig, tmp_path, foreign_image):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--firmware", foreign_image,
                                        "--device", HILDA_ID, *GENERIC, *VENDOR)
    assert_foreign_session(code, output, outcomes, "")
    report = (tmp_path / "results" / "report.md").read_text()
    assert "a foreign image starts directly on the emulator" in report, report
    assert "warn: a report is a warning in this report, the test passes (the default for a foreign image)" \
        in report, report
    assert f"FOREIGN, device under test {HILDA_ID}" in report, report


def test_foreign_flag_treats_hildas_image_as_foreign(pytestconfig, tmp_path):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--foreign", "--device", HILDA_ID,
                                        *GENERIC, *VENDOR)
    assert_foreign_session(code, output, outcomes, " (--foreign)")


def test_hildas_image_with_its_own_device_runs_everything(pytestconfig, tmp_path):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, "--device", HILDA_ID, *GENERIC, *VENDOR)
    assert code == 0, output
    assert {nodeid: outcome for nodeid, (outcome, _) in outcomes.items()} == \
        {nodeid: "passed" for nodeid in GENERIC + VENDOR}, output


# A stand-in for the emulator's sanitizer: its first answer is empty (the guard's "before"), every later one
# holds one report, so exactly the first test that uses the dut sees a new report during it
FAKE_SANITIZER = '''
from rig.emulator import EmulatedDongle
ANSWERS = []
def sanitizer_reports(self):
    ANSWERS.append(None)
    return [] if len(ANSWERS) == 1 else ["fake report: CPU write into a buffer EasyDMA owns"]
EmulatedDongle.sanitizer_reports = sanitizer_reports
'''
ONE_TEST = "tests/test_halt.py::test_ep0_status_is_never_halted"


@pytest.fixture
def fake_sanitizer(tmp_path, monkeypatch):
    (tmp_path / "fake_sanitizer.py").write_text(FAKE_SANITIZER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), ROOT]))
    return ["-p", "fake_sanitizer"]


def test_a_foreign_images_sanitizer_report_is_a_warning(pytestconfig, tmp_path, foreign_image, fake_sanitizer):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, *fake_sanitizer, "--firmware", foreign_image,
                                        "--device", HILDA_ID, ONE_TEST)
    assert code == 0 and outcomes == {ONE_TEST: ("passed", "")}, output
    assert "DmaSanitizerWarning: DMA sanitizer report during this test: fake report" in output, output
    report = (tmp_path / "results" / "report.md").read_text()
    assert f"- `{ONE_TEST}`: fake report: CPU write into a buffer EasyDMA owns" in report, report


def test_hildas_firmware_fails_the_test_of_a_sanitizer_report(pytestconfig, tmp_path, fake_sanitizer):
    code, output, outcomes = run_pytest(pytestconfig, tmp_path, *fake_sanitizer, "--skip-flash", ONE_TEST)
    assert code == 1, output
    outcome, message = outcomes[ONE_TEST]
    assert outcome == "error" and "DMA sanitizer report(s) during this test" in message, outcomes[ONE_TEST]


def test_a_foreign_dongle_is_found_and_selected_by_its_ids(monkeypatch):
    asked = []

    def find_dongles(device_id=None):
        asked.append(device_id)
        return [("application", "", 3, 7)] if device_id in (None, (0xCAFE, 0x4007)) else []
    monkeypatch.setattr(hardware, "find_dongles", find_dongles)
    dut = hardware.HardwareDongle(device_id=parse_usb_id("cafe:4007"), foreign="not hilda's")
    assert asked == [(0xCAFE, 0x4007)]
    assert dut.select_args() == ["--device", "cafe:4007"]
    assert "hilda_protocol" not in dut.capabilities and dut.capabilities.reason("hilda_protocol") == "not hilda's"
    assert dut.alive()
    hilda = hardware.HardwareDongle()      # hilda's own firmware: hilda's IDs, hilda's defaults
    assert asked[-1] is None
    assert hilda.select_args() == [] and "hilda_protocol" in hilda.capabilities
